/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/seccomp-cache.h"
#include "runtime/seccomp-filter.h"

#ifndef SCMP_ACT_KILL_PROCESS
#define SCMP_ACT_KILL_PROCESS 0x80000000U
#endif

struct berth_seccomp_filter {
        scmp_filter_ctx ctx; /* only while compiling */
        const struct berth_seccomp *spec;
        bool notify;
        int listener; /* connected socket for SCMP_ACT_NOTIFY */
        char *bpf;    /* the program: struct sock_filter[] */
        size_t bpf_len;
        unsigned int load_flags; /* SECCOMP_FILTER_FLAG_* */
};

static uint32_t to_action(enum berth_seccomp_action a, bool has_errno, uint32_t errno_ret)
{
        switch (a) {
        case BERTH_SCMP_ACT_KILL:
        case BERTH_SCMP_ACT_KILL_THREAD:
                return SCMP_ACT_KILL;
        case BERTH_SCMP_ACT_KILL_PROCESS:
                return SCMP_ACT_KILL_PROCESS;
        case BERTH_SCMP_ACT_TRAP:
                return SCMP_ACT_TRAP;
        case BERTH_SCMP_ACT_ERRNO:
                return SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM);
        case BERTH_SCMP_ACT_TRACE:
                return SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM);
        case BERTH_SCMP_ACT_LOG:
                return SCMP_ACT_LOG;
        case BERTH_SCMP_ACT_NOTIFY:
                return SCMP_ACT_NOTIFY;
        case BERTH_SCMP_ACT_ALLOW:
        default:
                return SCMP_ACT_ALLOW;
        }
}

static const enum scmp_compare ops[] = {
        [BERTH_SCMP_CMP_NE] = SCMP_CMP_NE,
        [BERTH_SCMP_CMP_LT] = SCMP_CMP_LT,
        [BERTH_SCMP_CMP_LE] = SCMP_CMP_LE,
        [BERTH_SCMP_CMP_EQ] = SCMP_CMP_EQ,
        [BERTH_SCMP_CMP_GE] = SCMP_CMP_GE,
        [BERTH_SCMP_CMP_GT] = SCMP_CMP_GT,
        [BERTH_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static int add_arches(scmp_filter_ctx ctx, const struct berth_seccomp *s, berth_error *err)
{
        for (size_t i = 0; i < s->n_architectures; i++) {
                const char *name = s->architectures[i];
                char lower[64];
                uint32_t arch;
                int r;

                if (strncmp(name, "SCMP_ARCH_", 10) == 0)
                        name += 10;
                snprintf(lower, sizeof(lower), "%s", name);
                for (char *p = lower; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p = (char)(*p - 'A' + 'a');
                arch = seccomp_arch_resolve_name(lower);
                if (arch == 0)
                        return berth_error_set(err, EINVAL,
                                               "linux.seccomp.architectures: unknown `%s`",
                                               s->architectures[i]);
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return berth_error_sys(err, -r, "linux.seccomp: add architecture `%s`",
                                               s->architectures[i]);
        }
        return 0;
}

/* The config's flags as the seccomp(2) flags the program is loaded with. */
static int load_flags(const struct berth_seccomp *s, unsigned int *ret, berth_error *err)
{
        *ret = 0;
        for (size_t i = 0; i < s->n_flags; i++) {
                const char *f = s->flags[i];

                if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                        *ret |= SECCOMP_FILTER_FLAG_TSYNC;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
                        *ret |= SECCOMP_FILTER_FLAG_LOG;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                        *ret |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                else
                        return berth_error_set(err, EINVAL, "linux.seccomp.flags: unsupported `%s`",
                                               f);
        }
        return 0;
}

static bool repeated_index(const struct berth_seccomp_syscall *sc)
{
        for (size_t i = 0; i < sc->n_args; i++)
                for (size_t j = i + 1; j < sc->n_args; j++)
                        if (sc->args[i].index == sc->args[j].index)
                                return true;
        return false;
}

static struct scmp_arg_cmp to_cmp(const struct berth_seccomp_arg *a)
{
        struct scmp_arg_cmp c = {
                .arg = a->index, .op = ops[a->op], .datum_a = a->value, .datum_b = a->value_two
        };
        return c;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
                    const struct berth_seccomp_syscall *sc, berth_error *err)
{
        struct scmp_arg_cmp cmps[6];
        int nr = seccomp_syscall_resolve_name(name), r = 0;

        /* A syscall this libseccomp or architecture does not know is skipped, as runc does. */
        if (nr == __NR_SCMP_ERROR) {
                log_debug("seccomp: unknown syscall `%s` skipped", name);
                return 0;
        }
        if (sc->n_args > 6)
                return berth_error_set(err, EINVAL, "linux.seccomp: `%s`: more than 6 args", name);
        for (size_t i = 0; i < sc->n_args; i++) {
                if (sc->args[i].index > 5)
                        return berth_error_set(err, EINVAL, "linux.seccomp: `%s`: arg index %u",
                                               name, sc->args[i].index);
                cmps[i] = to_cmp(&sc->args[i]);
        }
        if (!repeated_index(sc)) {
                r = seccomp_rule_add_array(ctx, action, nr, (unsigned)sc->n_args, cmps);
        } else {
                /* Several conditions on one argument: one rule each (they OR), as runc does. */
                for (size_t i = 0; i < sc->n_args && r >= 0; i++)
                        r = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
        }
        if (r < 0)
                return berth_error_sys(err, -r, "linux.seccomp: rule for `%s`", name);
        return 0;
}

static int compile(struct berth_seccomp_filter *f, berth_error *err)
{
        const struct berth_seccomp *s = f->spec;
        uint32_t def = to_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret);
        int r;

        f->ctx = seccomp_init(def);
        if (!f->ctx)
                return berth_error_set(err, EINVAL, "linux.seccomp: invalid defaultAction");
        /* no_new_privs is the config's choice, not libseccomp's default. */
        r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return berth_error_sys(err, -r, "linux.seccomp: clear no_new_privs attribute");
        r = add_arches(f->ctx, s, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const struct berth_seccomp_syscall *sc = &s->syscalls[i];
                uint32_t action = to_action(sc->action, sc->has_errno_ret, sc->errno_ret);

                if (sc->action == BERTH_SCMP_ACT_NOTIFY)
                        f->notify = true;
                if (action == def)
                        continue; /* libseccomp refuses rules that repeat the default */
                for (size_t k = 0; k < sc->n_names; k++) {
                        r = add_rule(f->ctx, action, sc->names[k], sc, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* libseccomp's program for the filter, as raw struct sock_filter[]. */
static int export_bpf(struct berth_seccomp_filter *f, berth_error *err)
{
        _cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return berth_error_sys(err, errno, "linux.seccomp: memfd for the program");
        r = seccomp_export_bpf(f->ctx, fd);
        if (r < 0)
                return berth_error_sys(err, -r, "linux.seccomp: export the program");
        if (lseek(fd, 0, SEEK_SET) < 0 || berth_read_fd(fd, 8u << 20, &f->bpf, &f->bpf_len) < 0)
                return berth_error_sys(err, errno, "linux.seccomp: read the program");
        return 0;
}

static bool wants_notify(const struct berth_seccomp *s)
{
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (s->syscalls[i].action == BERTH_SCMP_ACT_NOTIFY)
                        return true;
        return false;
}

static int build(struct berth_seccomp_filter *f, const char *cache_dir, berth_error *err)
{
        _cleanup_free_ char *key = NULL;
        int r;

        r = load_flags(f->spec, &f->load_flags, err);
        if (r < 0)
                return r;
        f->notify = wants_notify(f->spec);
        if (f->notify)
                f->load_flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        key = cache_dir ? berth_seccomp_cache_key(f->spec) : NULL;
        if (key && berth_seccomp_cache_get(cache_dir, key, &f->bpf, &f->bpf_len) > 0)
                return 0;
        r = compile(f, err);
        if (r >= 0)
                r = export_bpf(f, err);
        seccomp_release(f->ctx);
        f->ctx = NULL;
        if (r < 0)
                return r;
        if (key)
                berth_seccomp_cache_put(cache_dir, key, f->bpf, f->bpf_len);
        return 0;
}

int berth_seccomp_compile(const struct berth_config *cfg, const char *cache_dir,
                          struct berth_seccomp_filter **ret, berth_error *err)
{
        struct berth_seccomp_filter *f;
        int r;

        *ret = NULL;
        if (!cfg->has_linux || !cfg->linux.has_seccomp)
                return 0;
        f = calloc(1, sizeof(*f));
        if (!f)
                return berth_error_set(err, ENOMEM, "out of memory");
        f->spec = &cfg->linux.seccomp;
        f->listener = -1;
        r = build(f, cache_dir, err);
        if (r < 0) {
                berth_seccomp_filter_free(f);
                return r;
        }
        if (f->notify && !f->spec->listener_path) {
                berth_seccomp_filter_free(f);
                return berth_error_set(err, EINVAL,
                                       "linux.seccomp: SCMP_ACT_NOTIFY needs listenerPath");
        }
        *ret = f;
        return 0;
}

int berth_seccomp_connect_listener(struct berth_seccomp_filter *f, berth_error *err)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        const char *path;

        if (!f || !f->notify)
                return 0;
        path = f->spec->listener_path;
        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_error_set(err, ENAMETOOLONG, "linux.seccomp.listenerPath `%s`", path);
        memcpy(addr.sun_path, path, strlen(path) + 1);
        f->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->listener < 0)
                return berth_error_sys(err, errno, "linux.seccomp.listenerPath: socket");
        if (connect(f->listener, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return berth_error_sys(err, errno, "connect to linux.seccomp.listenerPath `%s`",
                                       path);
        return 0;
}

/* The runtime-spec's ContainerProcessState around the container state. */
static char *process_state(const struct berth_seccomp *s, const char *state_json)
{
        json_object *o = json_object_new_object(), *fds = json_object_new_array();
        json_object *st = json_tokener_parse(state_json ? state_json : "{}"), *pid = NULL;
        char *out;

        json_object_object_add(o, "ociVersion", json_object_new_string("1.2.0"));
        json_object_array_add(fds, json_object_new_string("seccompFd"));
        json_object_object_add(o, "fds", fds);
        if (st && json_object_object_get_ex(st, "pid", &pid))
                json_object_object_add(o, "pid", json_object_get(pid));
        json_object_object_add(
                o, "metadata",
                json_object_new_string(s->listener_metadata ? s->listener_metadata : ""));
        json_object_object_add(o, "state", st ? st : json_object_new_object());
        out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return out;
}

int berth_seccomp_load(struct berth_seccomp_filter *f, const char *state_json, berth_error *err)
{
        struct sock_fprog prog;
        _cleanup_free_ char *msg = NULL;
        _cleanup_close_ int nfd = -1;
        int r;

        if (!f)
                return 0;
        prog.len = (unsigned short)(f->bpf_len / sizeof(struct sock_filter));
        prog.filter = (struct sock_filter *)f->bpf;
        r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->load_flags, &prog);
        if (r < 0)
                return berth_error_sys(err, errno, "load seccomp filter");
        if (!f->notify)
                return 0;
        nfd = r;
        msg = process_state(f->spec, state_json);
        if (!msg)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_send_fd(f->listener, nfd, msg, strlen(msg));
        if (r < 0)
                return berth_error_sys(err, -r, "send seccomp fd to `%s`", f->spec->listener_path);
        return 0;
}

void berth_seccomp_filter_free(struct berth_seccomp_filter *f)
{
        if (!f)
                return;
        if (f->ctx)
                seccomp_release(f->ctx);
        free(f->bpf);
        if (f->listener >= 0)
                close(f->listener);
        free(f);
}
