/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seccomp profiles (berth's grouped format and Docker's) evaluated for one
 * process on one host into OCI linux.seccomp. The format is documented in
 * security.h and docs/security.md.
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "engine/security.h"
#include "runtime/config.h"

#define MAX_GROUPS   1024
#define MAX_SYSCALLS 4096
#define MAX_ARGS     6
#define MAX_NAMES    4096
#define MAX_VALUES   64

struct eval {
        uint64_t caps;
        const berth_seccomp_host *host;
        const char *what;
        berth_error *err;
};

/* uname -m, the SCMP_ARCH_ of that machine, and Go's name (Docker's profiles use it). */
static const struct {
        const char *machine, *scmp, *go;
} arch_table[] = {
        { "x86_64", "SCMP_ARCH_X86_64", "amd64" },
        { "i686", "SCMP_ARCH_X86", "386" },
        { "aarch64", "SCMP_ARCH_AARCH64", "arm64" },
        { "armv7l", "SCMP_ARCH_ARM", "arm" },
        { "s390x", "SCMP_ARCH_S390X", "s390x" },
        { "ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le" },
        { "riscv64", "SCMP_ARCH_RISCV64", "riscv64" },
        { "mips64", "SCMP_ARCH_MIPS64", "mips64" },
};

static const struct {
        const char *name;
        int value;
} errno_table[] = {
        { "EPERM", EPERM },
        { "ENOSYS", ENOSYS },
        { "EINVAL", EINVAL },
        { "EACCES", EACCES },
};

static const struct {
        const char *name, *oci;
} op_table[] = {
        { "eq", "SCMP_CMP_EQ" },
        { "ne", "SCMP_CMP_NE" },
        { "lt", "SCMP_CMP_LT" },
        { "le", "SCMP_CMP_LE" },
        { "gt", "SCMP_CMP_GT" },
        { "ge", "SCMP_CMP_GE" },
        { "masked_eq", "SCMP_CMP_MASKED_EQ" },
};

static const struct {
        const char *name, *oci;
} action_table[] = {
        { "allow", "SCMP_ACT_ALLOW" },
        { "errno", "SCMP_ACT_ERRNO" },
        { "log", "SCMP_ACT_LOG" },
        { "kill_process", "SCMP_ACT_KILL_PROCESS" },
        { "kill_thread", "SCMP_ACT_KILL_THREAD" },
        { "trap", "SCMP_ACT_TRAP" },
};

static const char *go_arch(const char *machine)
{
        for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
                if (strcmp(arch_table[i].machine, machine) == 0)
                        return arch_table[i].go;
        return machine;
}

static const char *scmp_arch(const char *machine)
{
        for (size_t i = 0; i < ARRAY_SIZE(arch_table); i++)
                if (strcmp(arch_table[i].machine, machine) == 0)
                        return arch_table[i].scmp;
        return NULL;
}

/* "6.1.0-18-amd64" -> 6, 1. */
static int parse_kernel_version(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
        unsigned v[2] = { 0, 0 };

        for (size_t k = 0; k < 2; k++) {
                size_t digits = 0;

                for (; *s >= '0' && *s <= '9'; s++, digits++) {
                        if (v[k] > 100000)
                                return -EINVAL;
                        v[k] = v[k] * 10 + (unsigned)(*s - '0');
                }
                if (digits == 0)
                        return -EINVAL;
                if (k == 0) {
                        if (*s != '.')
                                return -EINVAL;
                        s++;
                }
        }
        *ret_major = v[0];
        *ret_minor = v[1];
        return 0;
}

int berth_seccomp_host_current(berth_seccomp_host *ret, berth_error *err)
{
        static struct utsname u;

        if (uname(&u) < 0)
                return berth_error_sys(err, errno, "uname");
        if (parse_kernel_version(u.release, &ret->kernel_major, &ret->kernel_minor) < 0)
                return berth_error_set(err, EINVAL, "kernel release `%s`: not a version",
                                       u.release);
        ret->machine = u.machine;
        return 0;
}

static bool kernel_at_least(const berth_seccomp_host *h, unsigned major, unsigned minor)
{
        return h->kernel_major > major || (h->kernel_major == major && h->kernel_minor >= minor);
}

static int check_keys(const struct eval *e, json_object *obj, const char *path,
                      const char *const *allowed)
{
        json_object_object_foreach (obj, key, v) {
                bool ok = false;

                (void)v;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = strcmp(allowed[i], key) == 0;
                if (!ok)
                        return berth_error_set(e->err, EINVAL, "%s: %s%s%s: unknown member",
                                               e->what, path, *path ? "." : "", key);
        }
        return 0;
}

static int errno_from_name(const struct eval *e, const char *name, const char *path, int *ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++)
                if (strcmp(errno_table[i].name, name) == 0) {
                        *ret = errno_table[i].value;
                        return 0;
                }
        return berth_error_set(e->err, EINVAL, "%s: %s: unknown errno `%s`", e->what, path, name);
}

static int action_to_oci(const struct eval *e, const char *name, const char *path, const char **ret)
{
        for (size_t i = 0; i < ARRAY_SIZE(action_table); i++)
                if (strcmp(action_table[i].name, name) == 0) {
                        *ret = action_table[i].oci;
                        return 0;
                }
        return berth_error_set(e->err, EINVAL, "%s: %s: unknown action `%s`", e->what, path, name);
}

/* Prefixes the profile's name to a message from the json getters. */
static int wrap(const struct eval *e, int r)
{
        if (r < 0)
                berth_error_prefix(e->err, "%s", e->what);
        return r;
}

/* A list of capability names (all checked) as a mask. */
static int caps_mask(const struct eval *e, json_object *obj, const char *key, const char *path,
                     bool *ret_present, uint64_t *ret)
{
        _cleanup_strv_ char **names = NULL;
        char p[BERTH_JSON_PATH_MAX];
        size_t n = 0;
        uint64_t m = 0;
        int r;

        r = wrap(e, berth_json_get_strv(obj, key, path, false, 64, &names, &n, e->err));
        if (r < 0)
                return r;
        *ret_present = r > 0;
        for (size_t i = 0; i < n; i++) {
                int cap = berth_capability_from_string(names[i]);

                if (cap < 0 || cap > 63)
                        return berth_error_set(e->err, EINVAL, "%s: %s: unknown capability `%s`",
                                               e->what, berth_json_path(p, sizeof(p), path, key),
                                               names[i]);
                m |= UINT64_C(1) << cap;
        }
        *ret = m;
        return 0;
}

static int strv_has(const struct eval *e, json_object *obj, const char *key, const char *path,
                    const char *s, bool *ret_present, bool *ret_has)
{
        _cleanup_strv_ char **v = NULL;
        size_t n = 0;
        int r;

        r = wrap(e, berth_json_get_strv(obj, key, path, false, 256, &v, &n, e->err));
        if (r < 0)
                return r;
        *ret_present = r > 0;
        *ret_has = false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        *ret_has = true;
        return 0;
}

/* A JSON array of syscall names, checked; a new reference. */
static int names_array(const struct eval *e, json_object *obj, const char *key, const char *path,
                       json_object **ret)
{
        _cleanup_strv_ char **names = NULL;
        _cleanup_json_ json_object *a = NULL;
        size_t n = 0;
        int r;

        r = wrap(e, berth_json_get_strv(obj, key, path, true, MAX_NAMES, &names, &n, e->err));
        if (r < 0)
                return r;
        a = json_object_new_array_ext((int)n);
        if (!a)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                if (names[i][0] == '\0')
                        return berth_error_set(e->err, EINVAL, "%s: %s.%s[%zu]: empty name",
                                               e->what, path, key, i);
                if (json_object_array_add(a, json_object_new_string(names[i])) < 0)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* One OCI args[] element. */
static json_object *oci_arg(uint32_t index, const char *op, uint64_t value, uint64_t value_two)
{
        json_object *a = json_object_new_object();

        if (!a)
                return NULL;
        if (json_object_object_add(a, "index", json_object_new_int64(index)) < 0 ||
            json_object_object_add(a, "value", json_object_new_uint64(value)) < 0 ||
            json_object_object_add(a, "valueTwo", json_object_new_uint64(value_two)) < 0 ||
            json_object_object_add(a, "op", json_object_new_string(op)) < 0) {
                json_object_put(a);
                return NULL;
        }
        return a;
}

struct group_arg {
        uint32_t index;
        const char *op;
        bool masked;
        uint64_t mask;
        uint64_t values[MAX_VALUES];
        size_t n_values;
};

static int parse_group_arg(const struct eval *e, json_object *o, const char *path,
                           struct group_arg *ret)
{
        static const char *const keys[] = { "index", "op", "value", "anyOf", "mask", NULL };
        _cleanup_free_ char *op = NULL;
        json_object *any = NULL;
        bool has_value = false;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return wrap(e, berth_json_type_error(o, path, "an object", e->err));
        r = check_keys(e, o, path, keys);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_uint32(o, "index", path, true, &ret->index, e->err));
        if (r < 0)
                return r;
        if (ret->index >= MAX_ARGS)
                return berth_error_set(e->err, EINVAL, "%s: %s.index: %u is not an argument 0-5",
                                       e->what, path, ret->index);
        r = wrap(e, berth_json_get_string(o, "op", path, true, &op, e->err));
        if (r < 0)
                return r;
        ret->op = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(op_table); i++)
                if (strcmp(op_table[i].name, op) == 0)
                        ret->op = op_table[i].oci;
        if (!ret->op)
                return berth_error_set(e->err, EINVAL, "%s: %s.op: unknown operator `%s`", e->what,
                                       path, op);
        ret->masked = strcmp(op, "masked_eq") == 0;
        r = wrap(e, berth_json_get_uint64(o, "mask", path, ret->masked, &ret->mask, e->err));
        if (r < 0)
                return r;
        if (r > 0 && !ret->masked)
                return berth_error_set(e->err, EINVAL, "%s: %s.mask: only for masked_eq", e->what,
                                       path);
        ret->n_values = 0;
        r = wrap(e, berth_json_get_uint64(o, "value", path, false, &ret->values[0], e->err));
        if (r < 0)
                return r;
        if (r > 0) {
                has_value = true;
                ret->n_values = 1;
        }
        r = wrap(e, berth_json_get_array(o, "anyOf", path, false, MAX_VALUES, &any, e->err));
        if (r < 0)
                return r;
        if ((r > 0) == has_value)
                return berth_error_set(e->err, EINVAL, "%s: %s: needs exactly one of value, anyOf",
                                       e->what, path);
        if (any) {
                size_t n = json_object_array_length(any);
                char p[BERTH_JSON_PATH_MAX], q[BERTH_JSON_PATH_MAX];

                if (n == 0)
                        return berth_error_set(e->err, EINVAL, "%s: %s.anyOf: empty", e->what,
                                               path);
                for (size_t i = 0; i < n; i++) {
                        r = wrap(e,
                                 berth_json_as_uint64(
                                         json_object_array_get_idx(any, i),
                                         berth_json_path_index(
                                                 p, sizeof(p),
                                                 berth_json_path(q, sizeof(q), path, "anyOf"), i),
                                         UINT64_MAX, "an unsigned 64-bit integer", &ret->values[i],
                                         e->err));
                        if (r < 0)
                                return r;
                }
                ret->n_values = n;
        }
        return 0;
}

/* Emits one OCI syscalls[] entry for names/action with the args, the varying one taking value k. */
static int emit(const struct eval *e, json_object *out, json_object *names, const char *action,
                int errno_ret, const struct group_arg *args, size_t n_args, size_t vary, size_t k)
{
        _cleanup_json_ json_object *entry = json_object_new_object();
        json_object *a;

        if (!entry || json_object_object_add(entry, "names", json_object_get(names)) < 0 ||
            json_object_object_add(entry, "action", json_object_new_string(action)) < 0)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        if (errno_ret > 0 &&
            json_object_object_add(entry, "errnoRet", json_object_new_int(errno_ret)) < 0)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        if (n_args > 0) {
                a = json_object_new_array();
                if (!a || json_object_object_add(entry, "args", a) < 0)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
                for (size_t i = 0; i < n_args; i++) {
                        uint64_t v = args[i].values[i == vary ? k : 0];
                        json_object *one =
                                args[i].masked ? oci_arg(args[i].index, args[i].op, args[i].mask, v)
                                               : oci_arg(args[i].index, args[i].op, v, 0);

                        if (!one || json_object_array_add(a, one) < 0) {
                                json_object_put(one);
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                        }
                }
        }
        if (json_object_array_add(out, entry) < 0)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        TAKE_PTR(entry);
        return 0;
}

/* Whether the group's conditions hold; validates them all either way. */
static int group_applies(const struct eval *e, json_object *g, const char *path, bool *ret)
{
        _cleanup_free_ char *min_kernel = NULL;
        uint64_t if_caps = 0, unless_caps = 0;
        bool present, in_arches = false, in_not = false, has_arches, has_not;
        unsigned major = 0, minor = 0;
        int r;

        r = caps_mask(e, g, "ifCaps", path, &present, &if_caps);
        if (r < 0)
                return r;
        r = caps_mask(e, g, "unlessCaps", path, &present, &unless_caps);
        if (r < 0)
                return r;
        r = strv_has(e, g, "arches", path, e->host->machine, &has_arches, &in_arches);
        if (r < 0)
                return r;
        r = strv_has(e, g, "notArches", path, e->host->machine, &has_not, &in_not);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_string(g, "minKernel", path, false, &min_kernel, e->err));
        if (r < 0)
                return r;
        if (min_kernel && parse_kernel_version(min_kernel, &major, &minor) < 0)
                return berth_error_set(e->err, EINVAL,
                                       "%s: %s.minKernel: `%s` is not a version like \"4.8\"",
                                       e->what, path, min_kernel);

        *ret = (e->caps & if_caps) == if_caps && (e->caps & unless_caps) == 0 &&
               (!has_arches || in_arches) && !in_not &&
               (!min_kernel || kernel_at_least(e->host, major, minor));
        return 0;
}

static int berth_group(const struct eval *e, json_object *g, const char *path, json_object *out)
{
        static const char *const keys[] = { "name",      "why",       "action",     "errno",
                                            "syscalls",  "ifCaps",    "unlessCaps", "arches",
                                            "notArches", "minKernel", "args",       NULL };
        _cleanup_free_ char *action = NULL, *errno_name = NULL;
        _cleanup_json_ json_object *names = NULL;
        struct group_arg args[MAX_ARGS];
        json_object *jargs = NULL;
        size_t n_args = 0, vary = SIZE_MAX;
        const char *oci_action;
        int errno_ret = 0, r;
        bool applies = false;

        if (!json_object_is_type(g, json_type_object))
                return wrap(e, berth_json_type_error(g, path, "an object", e->err));
        r = check_keys(e, g, path, keys);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_string(g, "action", path, true, &action, e->err));
        if (r < 0)
                return r;
        r = action_to_oci(e, action, path, &oci_action);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_string(g, "errno", path, false, &errno_name, e->err));
        if (r < 0)
                return r;
        if ((errno_name != NULL) != (strcmp(action, "errno") == 0))
                return berth_error_set(e->err, EINVAL,
                                       "%s: %s: \"errno\" is needed with, and only with, action "
                                       "\"errno\"",
                                       e->what, path);
        if (errno_name) {
                r = errno_from_name(e, errno_name, path, &errno_ret);
                if (r < 0)
                        return r;
        }
        r = names_array(e, g, "syscalls", path, &names);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_array(g, "args", path, false, MAX_ARGS, &jargs, e->err));
        if (r < 0)
                return r;
        if (jargs)
                n_args = json_object_array_length(jargs);
        for (size_t i = 0; i < n_args; i++) {
                char p[BERTH_JSON_PATH_MAX], q[BERTH_JSON_PATH_MAX];

                r = parse_group_arg(
                        e, json_object_array_get_idx(jargs, i),
                        berth_json_path_index(p, sizeof(p),
                                              berth_json_path(q, sizeof(q), path, "args"), i),
                        &args[i]);
                if (r < 0)
                        return r;
                if (args[i].n_values > 1) {
                        if (vary != SIZE_MAX)
                                return berth_error_set(e->err, EINVAL,
                                                       "%s: %s: only one argument may use anyOf",
                                                       e->what, p);
                        vary = i;
                }
        }
        r = group_applies(e, g, path, &applies);
        if (r < 0 || !applies)
                return r;
        for (size_t k = 0; k < (vary == SIZE_MAX ? 1 : args[vary].n_values); k++) {
                r = emit(e, out, names, oci_action, errno_ret, args, n_args, vary, k);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_default_action(const struct eval *e, json_object *profile, json_object *oci)
{
        _cleanup_free_ char *action = NULL, *errno_name = NULL;
        const char *oci_action;
        int errno_ret = 0, r;

        r = wrap(e, berth_json_get_string(profile, "defaultAction", "", true, &action, e->err));
        if (r < 0)
                return r;
        r = action_to_oci(e, action, "defaultAction", &oci_action);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_string(profile, "defaultErrno", "", false, &errno_name, e->err));
        if (r < 0)
                return r;
        if ((errno_name != NULL) != (strcmp(action, "errno") == 0))
                return berth_error_set(e->err, EINVAL,
                                       "%s: defaultErrno is needed with, and only with, "
                                       "defaultAction \"errno\"",
                                       e->what);
        if (errno_name) {
                r = errno_from_name(e, errno_name, "defaultErrno", &errno_ret);
                if (r < 0)
                        return r;
        }
        if (json_object_object_add(oci, "defaultAction", json_object_new_string(oci_action)) < 0 ||
            (errno_ret > 0 &&
             json_object_object_add(oci, "defaultErrnoRet", json_object_new_int(errno_ret)) < 0))
                return berth_error_set(e->err, ENOMEM, "out of memory");
        return 0;
}

static int berth_profile(const struct eval *e, json_object *profile, json_object *oci)
{
        static const char *const keys[] = { "about",         "defaultAction", "defaultErrno",
                                            "architectures", "groups",        NULL };
        json_object *arches = NULL, *groups = NULL, *mine;
        _cleanup_json_ json_object *out = json_object_new_array();
        size_t n;
        int r;

        if (!out)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        r = check_keys(e, profile, "", keys);
        if (r < 0)
                return r;
        r = set_default_action(e, profile, oci);
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_object(profile, "architectures", "", false, &arches, e->err));
        if (r < 0)
                return r;
        /* A host the profile does not list gets its native architecture only. */
        if (arches && json_object_object_get_ex(arches, e->host->machine, &mine)) {
                char p[BERTH_JSON_PATH_MAX], q[BERTH_JSON_PATH_MAX];

                berth_json_path(p, sizeof(p), "architectures", e->host->machine);
                if (!json_object_is_type(mine, json_type_array))
                        return wrap(e, berth_json_type_error(mine, p, "an array", e->err));
                for (size_t i = 0; i < json_object_array_length(mine); i++) {
                        json_object *a = json_object_array_get_idx(mine, i);

                        if (!json_object_is_type(a, json_type_string))
                                return wrap(e, berth_json_type_error(
                                                       a, berth_json_path_index(q, sizeof(q), p, i),
                                                       "a string", e->err));
                }
                if (json_object_object_add(oci, "architectures", json_object_get(mine)) < 0)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
        }
        r = wrap(e, berth_json_get_array(profile, "groups", "", true, MAX_GROUPS, &groups, e->err));
        if (r < 0)
                return r;
        n = json_object_array_length(groups);
        for (size_t i = 0; i < n; i++) {
                char p[BERTH_JSON_PATH_MAX];

                r = berth_group(e, json_object_array_get_idx(groups, i),
                                berth_json_path_index(p, sizeof(p), "groups", i), out);
                if (r < 0)
                        return r;
        }
        if (json_object_object_add(oci, "syscalls", TAKE_PTR(out)) < 0)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        return 0;
}

/* Docker's includes/excludes for one syscalls[] entry. */
static int docker_applies(const struct eval *e, json_object *sc, const char *path, bool *ret)
{
        json_object *inc = NULL, *exc = NULL;
        char p[BERTH_JSON_PATH_MAX];
        const char *arch = go_arch(e->host->machine);
        bool ok = true, present, has;
        uint64_t m;
        int r;

        r = wrap(e, berth_json_get_object(sc, "includes", path, false, &inc, e->err));
        if (r < 0)
                return r;
        r = wrap(e, berth_json_get_object(sc, "excludes", path, false, &exc, e->err));
        if (r < 0)
                return r;
        if (inc) {
                _cleanup_free_ char *min_kernel = NULL;
                unsigned major, minor;

                berth_json_path(p, sizeof(p), path, "includes");
                r = caps_mask(e, inc, "caps", p, &present, &m);
                if (r < 0)
                        return r;
                ok = ok && (e->caps & m) == m;
                r = strv_has(e, inc, "arches", p, arch, &present, &has);
                if (r < 0)
                        return r;
                ok = ok && (!present || has);
                r = wrap(e, berth_json_get_string(inc, "minKernel", p, false, &min_kernel, e->err));
                if (r < 0)
                        return r;
                if (min_kernel) {
                        if (parse_kernel_version(min_kernel, &major, &minor) < 0)
                                return berth_error_set(e->err, EINVAL,
                                                       "%s: %s.minKernel: `%s` is not a version",
                                                       e->what, p, min_kernel);
                        ok = ok && kernel_at_least(e->host, major, minor);
                }
        }
        if (exc) {
                berth_json_path(p, sizeof(p), path, "excludes");
                r = caps_mask(e, exc, "caps", p, &present, &m);
                if (r < 0)
                        return r;
                ok = ok && (e->caps & m) == 0;
                r = strv_has(e, exc, "arches", p, arch, &present, &has);
                if (r < 0)
                        return r;
                ok = ok && !has;
        }
        *ret = ok;
        return 0;
}

static int docker_profile(const struct eval *e, json_object *profile, json_object *oci)
{
        static const char *const copied[] = { "defaultAction", "defaultErrnoRet", "flags",
                                              "listenerPath", "listenerMetadata" };
        _cleanup_json_ json_object *out = json_object_new_array();
        json_object *syscalls = NULL, *archmap = NULL, *v;
        size_t n;
        int r;

        if (!out)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
                if (json_object_object_get_ex(profile, copied[i], &v) &&
                    json_object_object_add(oci, copied[i], json_object_get(v)) < 0)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
        if (!json_object_object_get_ex(profile, "defaultAction", NULL))
                return berth_error_set(e->err, EINVAL, "%s: defaultAction: missing", e->what);

        r = wrap(e, berth_json_get_array(profile, "archMap", "", false, 64, &archmap, e->err));
        if (r < 0)
                return r;
        if (archmap) {
                const char *native = scmp_arch(e->host->machine);

                for (size_t i = 0; native && i < json_object_array_length(archmap); i++) {
                        json_object *m = json_object_array_get_idx(archmap, i), *a;
                        _cleanup_json_ json_object *list = NULL;
                        json_object *subs = NULL;

                        if (!json_object_is_type(m, json_type_object) ||
                            !json_object_object_get_ex(m, "architecture", &a) ||
                            !json_object_is_type(a, json_type_string) ||
                            strcmp(json_object_get_string(a), native) != 0)
                                continue;
                        list = json_object_new_array();
                        if (!list || json_object_array_add(list, json_object_get(a)) < 0)
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                        if (json_object_object_get_ex(m, "subArchitectures", &subs) &&
                            json_object_is_type(subs, json_type_array))
                                for (size_t k = 0; k < json_object_array_length(subs); k++)
                                        if (json_object_array_add(
                                                    list, json_object_get(json_object_array_get_idx(
                                                                  subs, k))) < 0)
                                                return berth_error_set(e->err, ENOMEM,
                                                                       "out of memory");
                        if (json_object_object_add(oci, "architectures", TAKE_PTR(list)) < 0)
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                        break;
                }
        } else if (json_object_object_get_ex(profile, "architectures", &v) &&
                   json_object_object_add(oci, "architectures", json_object_get(v)) < 0) {
                return berth_error_set(e->err, ENOMEM, "out of memory");
        }

        r = wrap(e, berth_json_get_array(profile, "syscalls", "", false, MAX_SYSCALLS, &syscalls,
                                         e->err));
        if (r < 0)
                return r;
        n = syscalls ? json_object_array_length(syscalls) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *sc = json_object_array_get_idx(syscalls, i), *x;
                _cleanup_json_ json_object *entry = NULL;
                char p[BERTH_JSON_PATH_MAX];
                bool applies = false;

                berth_json_path_index(p, sizeof(p), "syscalls", i);
                if (!json_object_is_type(sc, json_type_object))
                        return wrap(e, berth_json_type_error(sc, p, "an object", e->err));
                r = docker_applies(e, sc, p, &applies);
                if (r < 0)
                        return r;
                if (!applies)
                        continue;
                entry = json_object_new_object();
                if (!entry)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
                /* Old profiles name one syscall with "name". */
                if (json_object_object_get_ex(sc, "names", &x)) {
                        _cleanup_json_ json_object *names = NULL;

                        r = names_array(e, sc, "names", p, &names);
                        if (r < 0)
                                return r;
                        if (json_object_object_add(entry, "names", TAKE_PTR(names)) < 0)
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                } else if (json_object_object_get_ex(sc, "name", &x) &&
                           json_object_is_type(x, json_type_string)) {
                        json_object *names = json_object_new_array();

                        if (!names || json_object_object_add(entry, "names", names) < 0 ||
                            json_object_array_add(names, json_object_get(x)) < 0)
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                } else {
                        return berth_error_set(e->err, EINVAL, "%s: %s: no names", e->what, p);
                }
                if (!json_object_object_get_ex(sc, "action", &x) ||
                    !json_object_is_type(x, json_type_string))
                        return berth_error_set(e->err, EINVAL, "%s: %s.action: missing", e->what,
                                               p);
                if (json_object_object_add(entry, "action", json_object_get(x)) < 0 ||
                    (json_object_object_get_ex(sc, "errnoRet", &x) &&
                     json_object_object_add(entry, "errnoRet", json_object_get(x)) < 0))
                        return berth_error_set(e->err, ENOMEM, "out of memory");
                if (json_object_object_get_ex(sc, "args", &x) && x) {
                        char q[BERTH_JSON_PATH_MAX];

                        if (!json_object_is_type(x, json_type_array))
                                return wrap(e, berth_json_type_error(
                                                       x, berth_json_path(q, sizeof(q), p, "args"),
                                                       "an array", e->err));
                        if (json_object_array_length(x) > 0 &&
                            json_object_object_add(entry, "args", json_object_get(x)) < 0)
                                return berth_error_set(e->err, ENOMEM, "out of memory");
                }
                if (json_object_array_add(out, entry) < 0)
                        return berth_error_set(e->err, ENOMEM, "out of memory");
                TAKE_PTR(entry);
        }
        if (json_object_object_add(oci, "syscalls", TAKE_PTR(out)) < 0)
                return berth_error_set(e->err, ENOMEM, "out of memory");
        return 0;
}

int berth_seccomp_profile_to_oci(const char *data, size_t len, const char *what, uint64_t caps,
                                 const berth_seccomp_host *host, json_object **ret,
                                 berth_error *err)
{
        _cleanup_json_ json_object *profile = NULL, *oci = NULL;
        struct eval e = { .caps = caps, .host = host, .what = what, .err = err };
        int r;

        r = berth_json_parse_object(data, len, what, &profile, err);
        if (r < 0)
                return r;
        oci = json_object_new_object();
        if (!oci)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (json_object_object_get_ex(profile, "groups", NULL))
                r = berth_profile(&e, profile, oci);
        else if (json_object_object_get_ex(profile, "syscalls", NULL) ||
                 json_object_object_get_ex(profile, "defaultAction", NULL))
                r = docker_profile(&e, profile, oci);
        else
                r = berth_error_set(err, EINVAL,
                                    "%s: not a seccomp profile (neither \"groups\" nor "
                                    "\"syscalls\")",
                                    what);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(oci);
        return 0;
}
