/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "cli/runtime/cli.h"

enum {
        OPT_CONSOLE_SOCKET = 0x100,
        OPT_CWD,
        OPT_PID_FILE,
        OPT_PROCESS_LABEL,
        OPT_APPARMOR,
        OPT_NO_NEW_PRIVS,
        OPT_PRESERVE_FDS,
        OPT_IGNORE_PAUSED,
        OPT_CGROUP,
};

static const struct option exec_options[] = {
        { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "env", required_argument, NULL, 'e' },
        { "tty", no_argument, NULL, 't' },
        { "user", required_argument, NULL, 'u' },
        { "additional-gids", required_argument, NULL, 'g' },
        { "process", required_argument, NULL, 'p' },
        { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
        { "apparmor", required_argument, NULL, OPT_APPARMOR },
        { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
        { "cap", required_argument, NULL, 'c' },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
        { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
        { "cgroup", required_argument, NULL, OPT_CGROUP },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

struct exec_flags {
        const char *process_file;
        const char *cwd;
        const char *user;
        const char *label;
        const char *apparmor;
        char *envs[256];
        int n_env;
        char *caps[64];
        int n_caps;
        char *gids[64];
        int n_gids;
        bool tty;
        bool no_new_privs;
        struct berth_exec_opts o;
};

static int strv_append(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* Appends KEY=VALUE, replacing an existing KEY. */
static int env_set(struct berth_process *p, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

        for (size_t i = 0; i < p->n_env; i++) {
                if (strncmp(p->env[i], kv, klen) == 0 && p->env[i][klen] == '=') {
                        char *dup = strdup(kv);
                        if (!dup)
                                return -ENOMEM;
                        free(p->env[i]);
                        p->env[i] = dup;
                        return 0;
                }
        }
        return strv_append(&p->env, &p->n_env, kv);
}

static int apply_user(struct berth_process *p, const char *user, berth_error *err)
{
        _cleanup_free_ char *copy = strdup(user);
        char *colon;

        if (!copy)
                return berth_error_set(err, ENOMEM, "out of memory");
        colon = strchr(copy, ':');
        if (colon)
                *colon++ = '\0';
        if (berth_parse_u32(copy, &p->user.uid) < 0 ||
            (colon && berth_parse_u32(colon, &p->user.gid) < 0))
                return berth_error_set(err, EINVAL, "--user `%s`: expected UID[:GID]", user);
        return 0;
}

static int apply_caps(struct berth_process *p, char **caps, int n, berth_error *err)
{
        struct berth_capabilities *c = &p->capabilities;

        for (int i = 0; i < n; i++) {
                int cap = berth_capability_from_string(caps[i]);
                uint64_t bit;
                if (cap < 0)
                        return berth_error_set(err, EINVAL, "--cap: unknown capability `%s`",
                                               caps[i]);
                bit = UINT64_C(1) << cap;
                c->bounding |= bit;
                c->effective |= bit;
                c->permitted |= bit;
                /* Ambient needs inheritable; only when the spec already has some. */
                if (c->inheritable)
                        c->ambient |= bit;
        }
        if (n)
                p->has_capabilities = true;
        return 0;
}

static int apply_flags(struct exec_flags *f, struct berth_process *p, int argc, char **argv,
                       berth_error *err)
{
        int r;

        for (size_t i = 0; i < p->n_args; i++)
                free(p->args[i]);
        free(p->args);
        p->args = NULL;
        p->n_args = 0;
        for (int i = 0; i < argc; i++)
                if (strv_append(&p->args, &p->n_args, argv[i]) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        for (int i = 0; i < f->n_env; i++)
                if (env_set(p, f->envs[i]) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        if (f->cwd) {
                free(p->cwd);
                p->cwd = strdup(f->cwd);
        }
        if (f->user && (r = apply_user(p, f->user, err)) < 0)
                return r;
        if (f->n_gids) {
                uint32_t *g = calloc((size_t)f->n_gids, sizeof(uint32_t));
                if (!g)
                        return berth_error_set(err, ENOMEM, "out of memory");
                for (int i = 0; i < f->n_gids; i++)
                        if (berth_parse_u32(f->gids[i], &g[i]) < 0) {
                                free(g);
                                return berth_error_set(err, EINVAL,
                                                       "--additional-gids: `%s` is not a gid",
                                                       f->gids[i]);
                        }
                free(p->user.additional_gids);
                p->user.additional_gids = g;
                p->user.n_additional_gids = (size_t)f->n_gids;
        }
        if (f->label) {
                free(p->selinux_label);
                p->selinux_label = strdup(f->label);
        }
        if (f->apparmor) {
                free(p->apparmor_profile);
                p->apparmor_profile = strdup(f->apparmor);
        }
        p->terminal = f->tty;
        if (f->no_new_privs)
                p->no_new_privileges = true;
        return apply_caps(p, f->caps, f->n_caps, err);
}

static int parse_exec(int argc, char **argv, struct exec_flags *f)
{
        int opt;

        optind = 1;
        while ((opt = getopt_long_only(argc, argv, "+e:tu:g:p:dc:h", exec_options, NULL)) != -1) {
                switch (opt) {
                case OPT_CONSOLE_SOCKET:
                        f->o.console_socket = optarg;
                        break;
                case OPT_CWD:
                        f->cwd = optarg;
                        break;
                case 'e':
                        if (f->n_env < 255)
                                f->envs[f->n_env++] = optarg;
                        break;
                case 't':
                        f->tty = true;
                        break;
                case 'u':
                        f->user = optarg;
                        break;
                case 'g':
                        if (f->n_gids < 63)
                                f->gids[f->n_gids++] = optarg;
                        break;
                case 'p':
                        f->process_file = optarg;
                        break;
                case 'd':
                        f->o.detach = true;
                        break;
                case OPT_PID_FILE:
                        f->o.pid_file = optarg;
                        break;
                case OPT_PROCESS_LABEL:
                        f->label = optarg;
                        break;
                case OPT_APPARMOR:
                        f->apparmor = optarg;
                        break;
                case OPT_NO_NEW_PRIVS:
                        f->no_new_privs = true;
                        break;
                case 'c':
                        if (f->n_caps < 63)
                                f->caps[f->n_caps++] = optarg;
                        break;
                case OPT_PRESERVE_FDS:
                        if (berth_parse_u32(optarg, &f->o.preserve_fds) < 0)
                                return cli_usage("exec", "--preserve-fds: expected a number");
                        break;
                case OPT_IGNORE_PAUSED:
                case OPT_CGROUP:
                        break;
                case 'h':
                        printf("Usage: %s exec [options] <container-id> <command> [args...]\n"
                               "       %s exec [options] --process FILE <container-id>\n",
                               BERTH_RUNTIME_NAME, BERTH_RUNTIME_NAME);
                        return -2;
                default:
                        return cli_usage("exec", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage("exec", "expects a container id");
        if (!f->process_file && optind + 1 >= argc)
                return cli_usage("exec", "expects a command (or --process FILE)");
        return 0;
}

static int load_process_file(const char *path, struct berth_process **ret, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = berth_read_file_at(AT_FDCWD, path, BERTH_CONFIG_MAX_SIZE, &data, &len, err);

        if (r < 0)
                return r;
        r = berth_process_parse(data, len, ret, err);
        return r < 0 ? berth_error_prefix(err, "--process `%s`", path) : 0;
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
        struct exec_flags f = { 0 };
        _cleanup_(berth_process_freep) struct berth_process *p = NULL;
        berth_error err = BERTH_ERROR_INIT;
        const char *id;
        int status = 0, r;

        r = parse_exec(argc, argv, &f);
        if (r != 0)
                return r == -2 ? 0 : r;
        id = argv[optind];
        if (f.process_file) {
                r = load_process_file(f.process_file, &p, &err);
                if (r == 0 && f.tty)
                        p->terminal = true;
        } else {
                r = berth_exec_process_from_container(&c->rt, id, &p, &err);
                if (r == 0)
                        r = apply_flags(&f, p, argc - optind - 1, argv + optind + 1, &err);
        }
        if (r < 0)
                return cli_fail(&err);
        f.o.process = p;
        /* Like runc: a process that could not be started exits 255. */
        if (berth_container_exec(&c->rt, id, &f.o, &status, &err) < 0) {
                cli_fail(&err);
                return 255;
        }
        return status;
}
