/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "berth-config.h"
#include "engine/spec.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* /etc/passwd and /etc/group come from the image: read at most this much. */
#define ID_FILE_MAX   (16u << 20)
#define CGROUP2_MAGIC 0x63677270
/* docker's default /dev/shm size. */
#define DEFAULT_SHM (64 * 1024 * 1024)

static int oom(berth_error *err)
{
        return berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- users and groups ---- */

void berth_exec_user_release(berth_exec_user *u)
{
        free(u->sgids);
        u->sgids = NULL;
        u->n_sgids = 0;
}

/* The file's content, or NULL when it is missing or cannot be read inside the root. */
static int read_id_file(int rootfd, const char *path, char **ret, berth_error *err)
{
        _cleanup_close_ int fd = berth_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY, 0, NULL);
        size_t len;
        int r;

        *ret = NULL;
        if (fd < 0)
                return 0; /* as runc: no file is no entries */
        r = berth_read_fd(fd, ID_FILE_MAX, ret, &len);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0) {
                *ret = NULL;
                return berth_error_sys(err, -r, "read %s in the container", path);
        }
        return 0;
}

/* A decimal id in runc's range (0..2^31-1); false when s is not one. */
static bool parse_id(const char *s, size_t n, long *ret)
{
        long v = 0;

        if (n == 0 || n > 10)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        if (v > INT32_MAX)
                return false;
        *ret = v;
        return true;
}

/* Splits a colon-separated line into at most max fields (pointers into line). */
static size_t split_fields(char *line, char **f, size_t max)
{
        size_t n = 0;

        f[n++] = line;
        for (char *p = line; *p && n < max; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[n++] = p + 1;
                }
        return n;
}

static bool id_matches(const char *name, const char *id, const char *arg)
{
        return strcmp(name, arg) == 0 || strcmp(id, arg) == 0;
}

/* Calls each "name:x:id:..." line of data (modified in place) into fn until it returns != 0. */
typedef int (*line_fn)(char **f, size_t n, void *userdata);
static int each_line(char *data, size_t min_fields, line_fn fn, void *userdata)
{
        char *save = data;

        while (save && *save) {
                char *line = save, *nl = strchr(line, '\n'), *f[8];
                size_t n;
                long id;
                int r;

                save = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                if (!*line || *line == '#')
                        continue;
                n = split_fields(line, f, ARRAY_SIZE(f));
                if (n < min_fields || !parse_id(f[2], strlen(f[2]), &id))
                        continue; /* malformed lines are skipped, as runc does */
                r = fn(f, n, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct user_match {
        const char *arg;
        long uid, gid;
        char *name;
        bool found;
};

static int match_user(char **f, size_t n, void *userdata)
{
        struct user_match *m = userdata;
        long gid;

        if (m->arg[0] ? !id_matches(f[0], f[2], m->arg) : strcmp(f[2], "0") != 0)
                return 0;
        if (!parse_id(f[3], strlen(f[3]), &gid))
                return 0;
        parse_id(f[2], strlen(f[2]), &m->uid);
        m->gid = gid;
        m->name = strdup(f[0]);
        m->found = true;
        return m->name ? 1 : -ENOMEM;
}

struct group_match {
        const char *arg;  /* explicit group, or NULL: membership of user */
        const char *user; /* for membership */
        gid_t primary;    /* not repeated among the memberships */
        long gid;
        bool found;
        gid_t *sgids;
        size_t n;
};

static bool in_list(const char *list, const char *name)
{
        size_t len = strlen(name);

        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t n = c ? (size_t)(c - p) : strlen(p);
                if (n == len && strncmp(p, name, n) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

static int match_group(char **f, size_t n, void *userdata)
{
        struct group_match *m = userdata;
        long gid = 0;

        parse_id(f[2], strlen(f[2]), &gid);
        if (m->arg) {
                if (!id_matches(f[0], f[2], m->arg))
                        return 0;
                m->gid = gid;
                m->found = true;
                return 1; /* first match wins */
        }
        if (n >= 4 && in_list(f[3], m->user) && (gid_t)gid != m->primary) {
                gid_t *g = reallocarray(m->sgids, m->n + 1, sizeof(*g));
                if (!g)
                        return -ENOMEM;
                m->sgids = g;
                g[m->n++] = (gid_t)gid;
        }
        return 0;
}

int berth_resolve_user(int rootfd, const char *spec, berth_exec_user *ret, berth_error *err)
{
        _cleanup_free_ char *user_arg = NULL, *passwd = NULL, *group = NULL;
        const char *colon = strchr(spec, ':');
        const char *group_arg = colon ? colon + 1 : NULL;
        struct user_match um = { 0 };
        struct group_match gm = { 0 };
        _cleanup_free_ char *name = NULL;
        long id;
        int r;

        memset(ret, 0, sizeof(*ret));
        user_arg = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
        if (!user_arg)
                return oom(err);
        r = read_id_file(rootfd, "/etc/passwd", &passwd, err);
        if (r < 0)
                return r;
        um.arg = user_arg;
        if (passwd && each_line(passwd, 7, match_user, &um) < 0)
                return oom(err);
        name = um.name;
        if (um.found) {
                ret->uid = (uid_t)um.uid;
                ret->gid = (gid_t)um.gid;
        } else if (user_arg[0]) {
                if (!parse_id(user_arg, strlen(user_arg), &id) &&
                    strspn(user_arg, "0123456789") == strlen(user_arg))
                        return berth_error_set(err, EINVAL, "uids and gids must be in range 0-%d",
                                               INT32_MAX);
                if (!parse_id(user_arg, strlen(user_arg), &id))
                        return berth_error_set(err, EINVAL,
                                               "unable to find user %s: no matching entries in "
                                               "passwd file",
                                               user_arg);
                ret->uid = (uid_t)id;
        }
        /*
         * The primary group is always a supplementary group too: docker does
         * so since CVE-2022-36109 (a group that denies access must not be
         * escapable by dropping it), and so do podman and containerd.
         */
        gm.sgids = malloc(sizeof(gid_t));
        if (!gm.sgids)
                return oom(err);
        gm.n = 1;
        if (!group_arg && !name) {
                gm.sgids[0] = ret->gid;
                ret->sgids = gm.sgids;
                ret->n_sgids = 1;
                return 0;
        }
        r = read_id_file(rootfd, "/etc/group", &group, err);
        gm.arg = group_arg;
        gm.user = name;
        gm.primary = ret->gid;
        if (r < 0 || (group && each_line(group, 3, match_group, &gm) < 0)) {
                free(gm.sgids);
                return r < 0 ? r : oom(err);
        }
        if (group_arg) {
                if (gm.found)
                        ret->gid = (gid_t)gm.gid;
                else if (parse_id(group_arg, strlen(group_arg), &id))
                        ret->gid = (gid_t)id;
                else if (*group_arg && strspn(group_arg, "0123456789") == strlen(group_arg)) {
                        free(gm.sgids);
                        return berth_error_set(err, EINVAL, "uids and gids must be in range 0-%d",
                                               INT32_MAX);
                } else {
                        free(gm.sgids);
                        return berth_error_set(err, EINVAL,
                                               "unable to find group %s: no matching entries in "
                                               "group file",
                                               group_arg);
                }
        }
        gm.sgids[0] = ret->gid;
        ret->sgids = gm.sgids;
        ret->n_sgids = gm.n;
        return 0;
}

/* ---- small JSON builders ---- */

static int add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int push(json_object *a, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *strv_json(char *const *v)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                if (push(a, json_object_new_string(v[i])) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

/* ---- process ---- */

static int build_args(const berth_container_config *ic, const berth_run_options *o, char ***ret,
                      berth_error *err)
{
        char *const *ep = o->has_entrypoint ? o->entrypoint : ic ? ic->entrypoint : NULL;
        char *const *cmd = o->cmd;
        _cleanup_strv_ char **args = NULL;

        /* docker: --entrypoint drops the image's Cmd; arguments replace it. */
        if (!cmd && !o->has_entrypoint && ic)
                cmd = ic->cmd;
        if (berth_strv_copy(ep, &args) < 0)
                return oom(err);
        for (size_t i = 0; cmd && cmd[i]; i++)
                if (berth_strv_push(&args, cmd[i]) < 0)
                        return oom(err);
        if (berth_strv_length(args) == 0)
                return berth_error_set(err, EINVAL, "no command specified");
        *ret = TAKE_PTR(args);
        return 0;
}

/* docker's ReplaceOrAppendEnvValues: an entry replaces one of the same name, in place. */
static int env_set(char ***env, const char *kv, berth_error *err)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

        for (char **p = *env; p && *p; p++)
                if (strncmp(*p, kv, klen) == 0 && ((*p)[klen] == '=' || (*p)[klen] == '\0')) {
                        char *c = strdup(kv);
                        if (!c)
                                return oom(err);
                        free(*p);
                        *p = c;
                        return 0;
                }
        return berth_strv_push(env, kv) < 0 ? oom(err) : 0;
}

static int build_env(const berth_container_config *ic, const berth_run_options *o,
                     const char *hostname, char ***ret, berth_error *err)
{
        _cleanup_strv_ char **env = NULL;
        _cleanup_free_ char *h = NULL;

        if (berth_strv_push(&env, "PATH=" DEFAULT_PATH) < 0)
                return oom(err);
        if (hostname && (asprintf(&h, "HOSTNAME=%s", hostname) < 0 ||
                         berth_strv_consume(&env, TAKE_PTR(h)) < 0))
                return oom(err);
        if (o->tty && berth_strv_push(&env, "TERM=xterm") < 0)
                return oom(err);
        for (size_t i = 0; ic && ic->env && ic->env[i]; i++)
                if (env_set(&env, ic->env[i], err) < 0)
                        return -ENOMEM;
        for (size_t i = 0; o->env && o->env[i]; i++)
                if (env_set(&env, o->env[i], err) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

static json_object *user_json(const berth_exec_user *u)
{
        json_object *j = json_object_new_object();

        if (!j || add(j, "uid", json_object_new_int64(u->uid)) < 0 ||
            add(j, "gid", json_object_new_int64(u->gid)) < 0)
                goto fail;
        if (u->n_sgids > 0) {
                json_object *a = json_object_new_array();
                if (add(j, "additionalGids", a) < 0)
                        goto fail;
                for (size_t i = 0; i < u->n_sgids; i++)
                        if (push(a, json_object_new_int64(u->sgids[i])) < 0)
                                goto fail;
        }
        return j;
fail:
        json_object_put(j);
        return NULL;
}

static const char *const rlimit_types[] = {
        [RLIMIT_CORE] = "RLIMIT_CORE",         [RLIMIT_CPU] = "RLIMIT_CPU",
        [RLIMIT_DATA] = "RLIMIT_DATA",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
        [RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",
        [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
        [RLIMIT_NOFILE] = "RLIMIT_NOFILE",     [RLIMIT_NPROC] = "RLIMIT_NPROC",
        [RLIMIT_RSS] = "RLIMIT_RSS",           [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",
        [RLIMIT_RTTIME] = "RLIMIT_RTTIME",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
        [RLIMIT_STACK] = "RLIMIT_STACK",
};

/* -1 is docker's "unlimited". */
static json_object *rlim_value(int64_t v)
{
        return v < 0 ? json_object_new_uint64(UINT64_MAX) : json_object_new_uint64((uint64_t)v);
}

/*
 * Only what --ulimit asks for: without it the container inherits the
 * caller's limits, as docker's containers inherit the daemon's. Values are
 * passed as asked; one above the caller's hard limit fails at start (EPERM)
 * where root lacks CAP_SYS_RESOURCE, which is the user's request to make.
 */
static json_object *rlimits_json(const berth_run_options *o)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < o->n_ulimits; i++) {
                const berth_ulimit *u = &o->ulimits[i];
                json_object *r = json_object_new_object();
                if (push(a, r) < 0 ||
                    add(r, "type", json_object_new_string(rlimit_types[u->resource])) < 0 ||
                    add(r, "hard", rlim_value(u->hard)) < 0 ||
                    add(r, "soft", rlim_value(u->soft)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static int build_process(const berth_container_config *ic, const berth_run_options *o, int rootfd,
                         const char *hostname, json_object **ret, berth_error *err)
{
        _cleanup_json_ json_object *p = json_object_new_object();
        _cleanup_strv_ char **args = NULL, **env = NULL;
        berth_exec_user u;
        const char *user = o->user ? o->user : ic && ic->user ? ic->user : "";
        const char *cwd = o->workdir                                  ? o->workdir
                          : ic && ic->working_dir && *ic->working_dir ? ic->working_dir
                                                                      : "/";
        json_object *uj;
        int r;

        if (!p)
                return oom(err);
        r = build_args(ic, o, &args, err);
        if (r < 0)
                return r;
        r = build_env(ic, o, hostname, &env, err);
        if (r < 0)
                return r;
        if (cwd[0] != '/')
                return berth_error_set(err, EINVAL,
                                       "the working directory '%s' is invalid, it needs to be an "
                                       "absolute path",
                                       cwd);
        r = berth_resolve_user(rootfd, user, &u, err);
        if (r < 0)
                return r;
        uj = user_json(&u);
        berth_exec_user_release(&u);
        if (add(p, "terminal", json_object_new_boolean(o->tty)) < 0 || add(p, "user", uj) < 0 ||
            add(p, "args", strv_json(args)) < 0 || add(p, "env", strv_json(env)) < 0 ||
            add(p, "cwd", json_object_new_string(cwd)) < 0)
                return oom(err);
        if (o->n_ulimits > 0 && add(p, "rlimits", rlimits_json(o)) < 0)
                return oom(err);
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- mounts ---- */

static json_object *mount_json(const char *dest, const char *type, const char *source,
                               const char *const *opts, char *const *extra)
{
        json_object *m = json_object_new_object(), *a = json_object_new_array();

        if (!m || !a || add(m, "destination", json_object_new_string(dest)) < 0 ||
            add(m, "type", json_object_new_string(type)) < 0 ||
            add(m, "source", json_object_new_string(source)) < 0) {
                json_object_put(a);
                json_object_put(m);
                return NULL;
        }
        if (add(m, "options", a) < 0) {
                json_object_put(m);
                return NULL;
        }
        for (size_t i = 0; opts && opts[i]; i++)
                if (push(a, json_object_new_string(opts[i])) < 0)
                        goto fail;
        for (size_t i = 0; extra && extra[i]; i++)
                if (push(a, json_object_new_string(extra[i])) < 0)
                        goto fail;
        return m;
fail:
        json_object_put(m);
        return NULL;
}

static bool user_mounts_at(const berth_run_options *o, const char *dest)
{
        for (size_t i = 0; i < o->n_mounts; i++)
                if (strcmp(o->mounts[i].target, dest) == 0)
                        return true;
        return false;
}

static size_t path_depth(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        n++;
        return n;
}

static int user_mount_json(const berth_mount_spec *m, json_object **ret, berth_error *err)
{
        _cleanup_strv_ char **opts = NULL;
        const char *source = m->type == BERTH_MOUNT_VOLUME ? m->host_path : m->source;
        char buf[64];

        if (m->type == BERTH_MOUNT_TMPFS) {
                if (berth_strv_push(&opts, m->readonly ? "ro" : "rw") < 0 ||
                    berth_strv_push(&opts, "noexec") < 0 || berth_strv_push(&opts, "nosuid") < 0 ||
                    berth_strv_push(&opts, "nodev") < 0)
                        return oom(err);
                if (m->tmpfs_size) {
                        snprintf(buf, sizeof(buf), "size=%llu", (unsigned long long)m->tmpfs_size);
                        if (berth_strv_push(&opts, buf) < 0)
                                return oom(err);
                }
                if (m->tmpfs_mode) {
                        snprintf(buf, sizeof(buf), "mode=%o", (unsigned)m->tmpfs_mode);
                        if (berth_strv_push(&opts, buf) < 0)
                                return oom(err);
                }
                *ret = mount_json(m->target, "tmpfs", "tmpfs", (const char *const *)opts,
                                  m->tmpfs_options);
                return *ret ? 0 : oom(err);
        }
        if (!source)
                return berth_error_set(err, EINVAL,
                                       "volume %s at %s has no host directory (the engine "
                                       "resolves volumes before building the spec)",
                                       m->source ? m->source : "(anonymous)", m->target);
        if (berth_strv_push(&opts, "rbind") < 0 ||
            (m->readonly && berth_strv_push(&opts, "ro") < 0) ||
            berth_strv_push(&opts, m->propagation ? m->propagation : "rprivate") < 0)
                return oom(err);
        *ret = mount_json(m->target, "bind", source, (const char *const *)opts, NULL);
        return *ret ? 0 : oom(err);
}

static int build_mounts(const berth_run_options *o, json_object **ret, berth_error *err)
{
        static const char *const proc_o[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const dev_o[] = { "nosuid", "strictatime", "mode=755", "size=65536k",
                                             NULL };
        static const char *const pts_o[] = { "nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                                             "mode=0620", "gid=5",  NULL };
        static const char *const sys_o[] = { "nosuid", "noexec", "nodev", "ro", NULL };
        static const char *const cg_o[] = { "ro", "nosuid", "noexec", "nodev", NULL };
        static const char *const mq_o[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const shm_o[] = { "nosuid", "noexec", "nodev", "mode=1777", NULL };
        static const struct {
                const char *dest, *type, *source;
                const char *const *opts;
        } defaults[] = {
                { "/proc", "proc", "proc", proc_o },
                { "/dev", "tmpfs", "tmpfs", dev_o },
                { "/dev/pts", "devpts", "devpts", pts_o },
                { "/sys", "sysfs", "sysfs", sys_o },
                { "/sys/fs/cgroup", "cgroup", "cgroup", cg_o },
                { "/dev/mqueue", "mqueue", "mqueue", mq_o },
                { "/dev/shm", "tmpfs", "shm", shm_o },
        };
        _cleanup_json_ json_object *a = json_object_new_array();
        _cleanup_free_ size_t *order = NULL;
        char shm[64];

        if (!a)
                return oom(err);
        for (size_t i = 0; i < o->n_mounts; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(o->mounts[i].target, o->mounts[j].target) == 0)
                                return berth_error_set(err, EINVAL, "Duplicate mount point: %s",
                                                       o->mounts[i].target);
        snprintf(shm, sizeof(shm), "size=%lldk",
                 (long long)((o->shm_size > 0 ? o->shm_size : DEFAULT_SHM) / 1024));
        for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
                char *extra[] = { shm, NULL };
                /* A user's mount at the same place replaces docker's default. */
                if (user_mounts_at(o, defaults[i].dest))
                        continue;
                if (push(a, mount_json(defaults[i].dest, defaults[i].type, defaults[i].source,
                                       defaults[i].opts,
                                       strcmp(defaults[i].dest, "/dev/shm") == 0 ? extra : NULL)) <
                    0)
                        return oom(err);
        }
        /* docker mounts parents before children: a stable sort by depth keeps the given order. */
        order = calloc(o->n_mounts + 1, sizeof(*order));
        if (!order)
                return oom(err);
        for (size_t i = 0; i < o->n_mounts; i++) {
                size_t j = i, d = path_depth(o->mounts[i].target);
                for (; j > 0 && path_depth(o->mounts[order[j - 1]].target) > d; j--)
                        order[j] = order[j - 1];
                order[j] = i;
        }
        for (size_t i = 0; i < o->n_mounts; i++) {
                json_object *m = NULL;
                int r = user_mount_json(&o->mounts[order[i]], &m, err);
                if (r < 0)
                        return r;
                if (push(a, m) < 0)
                        return oom(err);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- linux ---- */

static int check_memory(const berth_run_options *o, berth_error *err)
{
        if (o->memory_swap > 0 && o->memory == 0)
                return berth_error_set(err, EINVAL,
                                       "You should always set the Memory limit when using "
                                       "Memoryswap limit, see usage");
        if (o->memory_swap > 0 && o->memory_swap < o->memory)
                return berth_error_set(err, EINVAL,
                                       "Minimum memoryswap limit should be larger than memory "
                                       "limit, see usage");
        /* net.* sysctls would change the host's network stack. */
        for (size_t i = 0; o->network_host && o->sysctls && o->sysctls[i]; i++)
                if (strncmp(o->sysctls[i], "net.", 4) == 0)
                        return berth_error_set(err, EINVAL,
                                               "sysctl '%s' not allowed in host network namespace",
                                               o->sysctls[i]);
        if (o->nano_cpus && (o->cpu_period || o->cpu_quota))
                return berth_error_set(err, EINVAL,
                                       "Conflicting options: Nano CPUs and CPU Period cannot both "
                                       "be set");
        return 0;
}

static json_object *device_rule(bool allow, const char *type, int64_t major, int64_t minor)
{
        json_object *d = json_object_new_object();

        if (!d || add(d, "allow", json_object_new_boolean(allow)) < 0)
                goto fail;
        if (type && add(d, "type", json_object_new_string(type)) < 0)
                goto fail;
        if (major >= 0 && add(d, "major", json_object_new_int64(major)) < 0)
                goto fail;
        if (minor >= 0 && add(d, "minor", json_object_new_int64(minor)) < 0)
                goto fail;
        if (add(d, "access", json_object_new_string(type && major < 0 ? "m" : "rwm")) < 0)
                goto fail;
        return d;
fail:
        json_object_put(d);
        return NULL;
}

static int build_resources(const berth_run_options *o, json_object **ret, berth_error *err)
{
        /* docker's default device rules: deny all, then the usual character devices. */
        static const struct {
                const char *type;
                int64_t major, minor;
        } devs[] = {
                { "c", -1, -1 }, { "b", -1, -1 },  { "c", 1, 3 }, { "c", 1, 8 },
                { "c", 1, 7 },   { "c", 5, 0 },    { "c", 5, 1 }, { "c", 1, 5 },
                { "c", 1, 9 },   { "c", 136, -1 }, { "c", 5, 2 }, { "c", 10, 200 },
        };
        _cleanup_json_ json_object *r = json_object_new_object();
        json_object *d = json_object_new_array();

        if (!r || add(r, "devices", d) < 0 || push(d, device_rule(false, NULL, -1, -1)) < 0)
                return oom(err);
        for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
                if (push(d, device_rule(true, devs[i].type, devs[i].major, devs[i].minor)) < 0)
                        return oom(err);
        if (o->memory || o->memory_reservation || o->memory_swap || o->oom_kill_disable) {
                json_object *m = json_object_new_object();
                /* docker: without --memory-swap, swap is twice the memory limit. */
                int64_t swap = o->memory_swap ? o->memory_swap : o->memory ? 2 * o->memory : 0;
                if (add(r, "memory", m) < 0 ||
                    (o->memory && add(m, "limit", json_object_new_int64(o->memory)) < 0) ||
                    (o->memory_reservation &&
                     add(m, "reservation", json_object_new_int64(o->memory_reservation)) < 0) ||
                    (swap && add(m, "swap", json_object_new_int64(swap)) < 0) ||
                    (o->oom_kill_disable &&
                     add(m, "disableOOMKiller", json_object_new_boolean(true)) < 0))
                        return oom(err);
        }
        if (o->cpu_shares || o->nano_cpus || o->cpu_period || o->cpu_quota || o->cpuset_cpus ||
            o->cpuset_mems) {
                json_object *c = json_object_new_object();
                int64_t period = o->nano_cpus ? 100000 : o->cpu_period;
                int64_t quota = o->nano_cpus ? o->nano_cpus * 100000 / 1000000000 : o->cpu_quota;
                if (add(r, "cpu", c) < 0 ||
                    (o->cpu_shares &&
                     add(c, "shares", json_object_new_uint64((uint64_t)o->cpu_shares)) < 0) ||
                    (quota && add(c, "quota", json_object_new_int64(quota)) < 0) ||
                    (period && add(c, "period", json_object_new_uint64((uint64_t)period)) < 0) ||
                    (o->cpuset_cpus &&
                     add(c, "cpus", json_object_new_string(o->cpuset_cpus)) < 0) ||
                    (o->cpuset_mems && add(c, "mems", json_object_new_string(o->cpuset_mems)) < 0))
                        return oom(err);
        }
        if (o->pids_limit) {
                json_object *p = json_object_new_object();
                if (add(r, "pids", p) < 0 ||
                    add(p, "limit", json_object_new_int64(o->pids_limit > 0 ? o->pids_limit : -1)) <
                            0)
                        return oom(err);
        }
        *ret = TAKE_PTR(r);
        return 0;
}

static bool cgroup_v2(void)
{
        struct statfs s;

        return statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_MAGIC;
}

static int add_ns(json_object *a, const char *type, const char *path)
{
        json_object *n = json_object_new_object();

        if (push(a, n) < 0 || add(n, "type", json_object_new_string(type)) < 0)
                return -ENOMEM;
        if (path && add(n, "path", json_object_new_string(path)) < 0)
                return -ENOMEM;
        return 0;
}

static int build_linux(const berth_run_options *o, json_object **ret, berth_error *err)
{
        _cleanup_json_ json_object *l = json_object_new_object();
        json_object *res = NULL, *ns;
        bool cgns = o->cgroupns == BERTH_CGROUPNS_PRIVATE ||
                    (o->cgroupns == BERTH_CGROUPNS_AUTO && cgroup_v2());
        int r;

        if (!l)
                return oom(err);
        if (o->sysctls) {
                json_object *s = json_object_new_object();
                if (add(l, "sysctl", s) < 0)
                        return oom(err);
                for (size_t i = 0; o->sysctls[i]; i++) {
                        const char *eq = strchr(o->sysctls[i], '=');
                        _cleanup_free_ char *k =
                                strndup(o->sysctls[i], (size_t)(eq - o->sysctls[i]));
                        if (!k || add(s, k, json_object_new_string(eq + 1)) < 0)
                                return oom(err);
                }
        }
        r = build_resources(o, &res, err);
        if (r < 0)
                return r;
        if (add(l, "resources", res) < 0)
                return oom(err);
        if (o->cgroups_path && add(l, "cgroupsPath", json_object_new_string(o->cgroups_path)) < 0)
                return oom(err);
        ns = json_object_new_array();
        if (add(l, "namespaces", ns) < 0 || add_ns(ns, "mount", NULL) < 0 ||
            (!o->network_host && add_ns(ns, "network", o->netns_path) < 0) ||
            add_ns(ns, "uts", NULL) < 0 || add_ns(ns, "pid", NULL) < 0 ||
            add_ns(ns, "ipc", NULL) < 0 || (cgns && add_ns(ns, "cgroup", NULL) < 0))
                return oom(err);
        *ret = TAKE_PTR(l);
        return 0;
}

int berth_spec_build(const berth_image_config *img, const berth_run_options *o, const char *rootfs,
                     int rootfs_fd, json_object **ret, berth_error *err)
{
        _cleanup_json_ json_object *spec = json_object_new_object();
        _cleanup_close_ int own_fd = -1;
        _cleanup_free_ char *hostname = NULL;
        const berth_container_config *ic = img ? &img->config : NULL;
        json_object *process = NULL, *root, *mounts = NULL, *linux_o = NULL;
        int r;

        if (!spec)
                return oom(err);
        if (rootfs_fd < 0) {
                own_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (own_fd < 0)
                        return berth_error_sys(err, errno, "open root filesystem %s", rootfs);
                rootfs_fd = own_fd;
        }
        if (o->hostname)
                hostname = strdup(o->hostname);
        else if (o->id)
                hostname = strndup(o->id, 12);
        if ((o->hostname || o->id) && !hostname)
                return oom(err);
        r = check_memory(o, err);
        if (r < 0)
                return r;
        r = build_process(ic, o, rootfs_fd, hostname, &process, err);
        if (r < 0)
                return r;
        if (add(spec, "ociVersion", json_object_new_string(BERTH_OCI_VERSION)) < 0 ||
            add(spec, "process", process) < 0)
                return oom(err);
        root = json_object_new_object();
        if (add(spec, "root", root) < 0 || add(root, "path", json_object_new_string(rootfs)) < 0 ||
            add(root, "readonly", json_object_new_boolean(o->read_only)) < 0)
                return oom(err);
        if (hostname && add(spec, "hostname", json_object_new_string(hostname)) < 0)
                return oom(err);
        r = build_mounts(o, &mounts, err);
        if (r < 0)
                return r;
        if (add(spec, "mounts", mounts) < 0)
                return oom(err);
        r = build_linux(o, &linux_o, err);
        if (r < 0)
                return r;
        if (add(spec, "linux", linux_o) < 0)
                return oom(err);
        *ret = TAKE_PTR(spec);
        return 0;
}
