/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json (OCI runtime-spec 1.2) -> struct berth_config.
 *
 * Parsing happens once, here; everything later works on the structs. Each
 * parse_* function fills a zeroed struct that its owner already holds, so a
 * failure anywhere leaves a half-filled tree that berth_config_free()
 * releases like a complete one. Arrays of structs are built by
 * config_parse_object_array(), which releases its own partial array on failure.
 *
 * This file parses the document itself, root, process, mounts, hooks and
 * annotations, and holds the generic pieces; config-linux.c parses the linux
 * object. config-internal.h declares what the two files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "runtime/config.h"
#include "runtime/config-internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY      0x00000001
#define MOUNT_ATTR_NOSUID      0x00000002
#define MOUNT_ATTR_NODEV       0x00000004
#define MOUNT_ATTR_NOEXEC      0x00000008
#define MOUNT_ATTR__ATIME      0x00000070
#define MOUNT_ATTR_RELATIME    0x00000000
#define MOUNT_ATTR_NOATIME     0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME  0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

/* Bounds on arrays; the document as a whole is bounded by BERTH_CONFIG_MAX_SIZE. */
#define MAX_MOUNTS        4096
#define MAX_MOUNT_OPTIONS 1024
#define MAX_HOOKS         1024 /* per kind */
#define MAX_ID_MAPPINGS   340  /* the kernel's limit on uid_map/gid_map lines */
#define MAX_RLIMITS       64
#define MAX_CAPS          1024  /* names per capability set */
#define MAX_GIDS          65536 /* NGROUPS_MAX */
#define MAX_ARGS          65536
#define MAX_ENV           65536

bool config_streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

int config_oom(berth_error *err, const char *path)
{
        return berth_error_set(err, ENOMEM, "%s: out of memory", path);
}

/* "<path>.<key>: <message>" with EINVAL. */
int config_field_error(berth_error *err, const char *path, const char *key, const char *fmt, ...)
{
        char fpath[BERTH_JSON_PATH_MAX];
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        berth_json_path(fpath, sizeof(fpath), path, key);
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return config_oom(err, fpath);
        return berth_error_set(err, EINVAL, "%s: %s", fpath, msg);
}

/* ---- generic pieces ---- */

void config_array_free(void *v, size_t n, size_t size, release_fn release)
{
        if (v && release)
                for (size_t i = 0; i < n; i++)
                        release((char *)v + i * size);
        free(v);
}

/*
 * obj[key], an array of at most `max` objects, into a new array of `size`-byte
 * structs, each filled by `parse`. Returns 1 with *ret and *ret_n set, 0 when
 * absent. Releases the partial array on failure.
 */
int config_parse_object_array(json_object *obj, const char *key, const char *path, size_t max,
                              size_t size, parse_elem_fn parse, release_fn release, void **ret,
                              size_t *ret_n, berth_error *err)
{
        char apath[BERTH_JSON_PATH_MAX], epath[BERTH_JSON_PATH_MAX];
        json_object *a = NULL;
        char *v;
        size_t n;
        int r;

        r = berth_json_get_array(obj, key, path, false, max, &a, err);
        if (r <= 0)
                return r;
        berth_json_path(apath, sizeof(apath), path, key);
        n = json_object_array_length(a);
        v = calloc(n ? n : 1, size);
        if (!v)
                return config_oom(err, apath);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);

                berth_json_path_index(epath, sizeof(epath), apath, i);
                if (!json_object_is_type(e, json_type_object))
                        r = berth_json_type_error(e, epath, "an object", err);
                else
                        r = parse(e, epath, v + i * size, err);
                if (r < 0) {
                        config_array_free(v, n, size, release);
                        return r;
                }
        }
        *ret = v;
        *ret_n = n;
        return 1;
}

void config_kv_free(struct berth_kv *kv, size_t n)
{
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

/* obj[key], an object of string values with non-empty keys, as key/value pairs. */
int config_parse_kv_map(json_object *obj, const char *key, const char *path, struct berth_kv **ret,
                        size_t *ret_n, berth_error *err)
{
        char mpath[BERTH_JSON_PATH_MAX], vpath[BERTH_JSON_PATH_MAX];
        struct json_object_iterator it, end;
        struct berth_kv *kv;
        json_object *m = NULL;
        size_t n, i = 0;
        int r;

        r = berth_json_get_object(obj, key, path, false, &m, err);
        if (r <= 0)
                return r;
        berth_json_path(mpath, sizeof(mpath), path, key);
        n = (size_t)json_object_object_length(m);
        if (n > MAX_MAP)
                return berth_error_set(err, E2BIG, "%s: more than %d entries", mpath, MAX_MAP);
        kv = calloc(n ? n : 1, sizeof(*kv));
        if (!kv)
                return config_oom(err, mpath);
        it = json_object_iter_begin(m);
        end = json_object_iter_end(m);
        for (; !json_object_iter_equal(&it, &end) && i < n; json_object_iter_next(&it), i++) {
                const char *name = json_object_iter_peek_name(&it);

                berth_json_path(vpath, sizeof(vpath), mpath, name);
                if (!*name)
                        r = berth_error_set(err, EINVAL, "%s: empty key", mpath);
                else if (!(kv[i].key = strdup(name)))
                        r = config_oom(err, mpath);
                else
                        r = berth_json_as_string(json_object_iter_peek_value(&it), vpath,
                                                 &kv[i].value, err);
                if (r < 0) {
                        config_kv_free(kv, n);
                        return r;
                }
        }
        *ret = kv;
        *ret_n = i;
        return 1;
}

/* obj[key], a string naming an enum value via `from_string`; `what` names it in messages. */
int config_parse_enum(json_object *obj, const char *key, const char *path, bool required,
                      int (*from_string)(const char *), const char *what, int *ret,
                      berth_error *err)
{
        _cleanup_free_ char *s = NULL;
        int r, v;

        r = berth_json_get_string(obj, key, path, required, &s, err);
        if (r <= 0)
                return r;
        v = from_string(s);
        if (v < 0)
                return config_field_error(err, path, key, "unknown %s \"%s\"", what, s);
        *ret = v;
        return 1;
}

int config_check_absolute(const char *s, const char *path, const char *key, berth_error *err)
{
        if (s && s[0] != '/')
                return config_field_error(err, path, key, "must be an absolute path, got \"%s\"",
                                          s);
        return 0;
}

static int parse_id_mapping(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("containerID", BERTH_JSON_UINT32, struct berth_id_mapping, container_id),
                F_REQ("hostID", BERTH_JSON_UINT32, struct berth_id_mapping, host_id),
                F_REQ("size", BERTH_JSON_UINT32, struct berth_id_mapping, size),
                F_END,
        };
        return berth_json_dispatch(o, path, fields, ret, err);
}

int config_parse_id_mappings(json_object *obj, const char *key, const char *path,
                             struct berth_id_mapping **ret, size_t *ret_n, berth_error *err)
{
        void *v = NULL;
        int r;

        r = config_parse_object_array(obj, key, path, MAX_ID_MAPPINGS, sizeof(**ret),
                                      parse_id_mapping, NULL, &v, ret_n, err);
        if (r > 0)
                *ret = v;
        return r;
}

/* ---- mounts ---- */

/* mount(2) flags, as runc and crun spell them. */
static const struct flag_opt mount_flag_opts[] = {
        { "defaults", false, 0 },
        { "ro", false, MS_RDONLY },
        { "rw", true, MS_RDONLY },
        { "nosuid", false, MS_NOSUID },
        { "suid", true, MS_NOSUID },
        { "nodev", false, MS_NODEV },
        { "dev", true, MS_NODEV },
        { "noexec", false, MS_NOEXEC },
        { "exec", true, MS_NOEXEC },
        { "sync", false, MS_SYNCHRONOUS },
        { "async", true, MS_SYNCHRONOUS },
        { "dirsync", false, MS_DIRSYNC },
        { "remount", false, MS_REMOUNT },
        { "mand", false, MS_MANDLOCK },
        { "nomand", true, MS_MANDLOCK },
        { "atime", true, MS_NOATIME },
        { "noatime", false, MS_NOATIME },
        { "diratime", true, MS_NODIRATIME },
        { "nodiratime", false, MS_NODIRATIME },
        { "relatime", false, MS_RELATIME },
        { "norelatime", true, MS_RELATIME },
        { "strictatime", false, MS_STRICTATIME },
        { "nostrictatime", true, MS_STRICTATIME },
        { "lazytime", false, MS_LAZYTIME },
        { "nolazytime", true, MS_LAZYTIME },
        { "iversion", false, MS_I_VERSION },
        { "noiversion", true, MS_I_VERSION },
        { "silent", false, MS_SILENT },
        { "loud", true, MS_SILENT },
        { "nosymfollow", false, MS_NOSYMFOLLOW },
        { "symfollow", true, MS_NOSYMFOLLOW },
        { "bind", false, MS_BIND },
        { "rbind", false, MS_BIND | MS_REC },
};

/* mount_setattr(2) attributes applied with AT_RECURSIVE. */
static const struct flag_opt mount_rec_opts[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },
        { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },
        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },
        { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },
        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

/* The access-time attributes are one 3-bit field (MOUNT_ATTR__ATIME), not flags. */
static const struct flag_opt mount_atime_opts[] = {
        { "rrelatime", false, MOUNT_ATTR_RELATIME },
        { "rnorelatime", true, MOUNT_ATTR_RELATIME },
        { "rnoatime", false, MOUNT_ATTR_NOATIME },
        { "ratime", true, MOUNT_ATTR_NOATIME },
        { "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", true, MOUNT_ATTR_STRICTATIME },
};

const struct flag_opt config_propagation_opts[] = {
        { "private", false, MS_PRIVATE },       { "rprivate", false, MS_PRIVATE | MS_REC },
        { "slave", false, MS_SLAVE },           { "rslave", false, MS_SLAVE | MS_REC },
        { "shared", false, MS_SHARED },         { "rshared", false, MS_SHARED | MS_REC },
        { "unbindable", false, MS_UNBINDABLE }, { "runbindable", false, MS_UNBINDABLE | MS_REC },
};
const size_t config_n_propagation_opts = ARRAY_SIZE(config_propagation_opts);

const struct flag_opt *config_find_opt(const struct flag_opt *opts, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (config_streq(opts[i].name, name))
                        return &opts[i];
        return NULL;
}

static void set_or_clear(unsigned long *set, unsigned long *clear, const struct flag_opt *o)
{
        if (o->clear) {
                *set &= ~o->flag;
                *clear |= o->flag;
        } else {
                *set |= o->flag;
                *clear &= ~o->flag;
        }
}

/*
 * mount_setattr(2) only changes the access-time mode when attr_clr holds the
 * whole MOUNT_ATTR__ATIME field; setting a mode selects it, clearing one
 * falls back to the kernel default (relatime).
 */
static void set_atime(struct berth_mount *m, const struct flag_opt *o)
{
        m->rec_set &= ~(unsigned long)MOUNT_ATTR__ATIME;
        if (!o->clear)
                m->rec_set |= o->flag;
        m->rec_clear |= MOUNT_ATTR__ATIME;
}

int berth_mount_option_apply(struct berth_mount *m, const char *opt)
{
        const struct flag_opt *o;

        if (!opt || !*opt)
                return -EINVAL;
        if ((o = config_find_opt(mount_flag_opts, ARRAY_SIZE(mount_flag_opts), opt))) {
                set_or_clear(&m->flags, &m->clear_flags, o);
                if (o->flag & MS_BIND)
                        m->bind = true;
        } else if ((o = config_find_opt(config_propagation_opts,
                                        ARRAY_SIZE(config_propagation_opts), opt))) {
                m->propagation = o->flag;
        } else if ((o = config_find_opt(mount_rec_opts, ARRAY_SIZE(mount_rec_opts), opt))) {
                set_or_clear(&m->rec_set, &m->rec_clear, o);
                if (o->flag == MOUNT_ATTR_RDONLY)
                        m->recursive_ro = !o->clear;
        } else if ((o = config_find_opt(mount_atime_opts, ARRAY_SIZE(mount_atime_opts), opt))) {
                set_atime(m, o);
        } else if (config_streq(opt, "idmap") || config_streq(opt, "ridmap")) {
                m->idmap = true;
                m->idmap_recursive = opt[0] == 'r';
        } else if (config_streq(opt, "tmpcopyup")) {
                m->tmpcopyup = true;
        } else {
                return 0;
        }
        return 1;
}

/* Appends ",opt" (or "opt") to *data, whose length is *len. */
static int append_data(char **data, size_t *len, const char *opt)
{
        size_t add = strlen(opt);
        char *s = realloc(*data, *len + add + 2);

        if (!s)
                return -ENOMEM;
        if (*len)
                s[(*len)++] = ',';
        memcpy(s + *len, opt, add + 1);
        *len += add;
        *data = s;
        return 0;
}

static int apply_mount_options(struct berth_mount *m, const char *path, berth_error *err)
{
        size_t len = 0;

        for (size_t i = 0; i < m->n_options; i++) {
                int r = berth_mount_option_apply(m, m->options[i]);
                if (r < 0)
                        return berth_error_set(err, EINVAL,
                                               "%s.options[%zu]: invalid mount option \"%s\"", path,
                                               i, m->options[i]);
                if (r == 0 && append_data(&m->data, &len, m->options[i]) < 0)
                        return config_oom(err, path);
        }
        return 0;
}

static void mount_release(void *p)
{
        struct berth_mount *m = p;

        free(m->destination);
        free(m->type);
        free(m->source);
        strv_free(m->options);
        free(m->data);
        free(m->uid_mappings);
        free(m->gid_mappings);
}

static int parse_mount(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("destination", BERTH_JSON_STRING, struct berth_mount, destination),
                F("type", BERTH_JSON_STRING, struct berth_mount, type),
                F("source", BERTH_JSON_STRING, struct berth_mount, source),
                F_END,
        };
        struct berth_mount *m = ret;
        int r;

        r = berth_json_dispatch(o, path, fields, m, err);
        if (r < 0)
                return r;
        /* Relative destinations are allowed since runtime-spec 1.2 (relative to "/"). */
        if (!*m->destination)
                return config_field_error(err, path, "destination", "must not be empty");
        r = berth_json_get_strv(o, "options", path, false, MAX_MOUNT_OPTIONS, &m->options,
                                &m->n_options, err);
        if (r < 0)
                return r;
        r = config_parse_id_mappings(o, "uidMappings", path, &m->uid_mappings, &m->n_uid_mappings,
                                     err);
        if (r < 0)
                return r;
        r = config_parse_id_mappings(o, "gidMappings", path, &m->gid_mappings, &m->n_gid_mappings,
                                     err);
        if (r < 0)
                return r;
        return apply_mount_options(m, path, err);
}

/* ---- hooks ---- */

static void hook_release(void *p)
{
        struct berth_hook *h = p;

        free(h->path);
        strv_free(h->args);
        strv_free(h->env);
}

static int parse_hook(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("path", BERTH_JSON_STRING, struct berth_hook, path),
                F_STRV("args", struct berth_hook, args, n_args),
                F_STRV("env", struct berth_hook, env, n_env),
                F_HAS("timeout", BERTH_JSON_INT, struct berth_hook, timeout, has_timeout),
                F_END,
        };
        struct berth_hook *h = ret;
        int r;

        r = berth_json_dispatch(o, path, fields, h, err);
        if (r < 0)
                return r;
        r = config_check_absolute(h->path, path, "path", err);
        if (r < 0)
                return r;
        if (h->has_timeout && h->timeout <= 0)
                return config_field_error(err, path, "timeout", "must be greater than zero, got %d",
                                          h->timeout);
        return 0;
}

static int parse_hooks(json_object *root, const char *path, struct berth_config *c,
                       berth_error *err)
{
        char hpath[BERTH_JSON_PATH_MAX];
        json_object *hooks = NULL;
        int r;

        r = berth_json_get_object(root, "hooks", path, false, &hooks, err);
        if (r <= 0)
                return r;
        berth_json_path(hpath, sizeof(hpath), path, "hooks");
        for (int k = 0; k < _BERTH_HOOK_MAX; k++) {
                void *v = NULL;

                r = config_parse_object_array(hooks, berth_hook_kind_to_string(k), hpath, MAX_HOOKS,
                                              sizeof(struct berth_hook), parse_hook, hook_release,
                                              &v, &c->hooks[k].n_hooks, err);
                if (r < 0)
                        return r;
                c->hooks[k].hooks = v;
        }
        return 0;
}

/* ---- process ---- */

static int parse_user(json_object *p, const char *path, struct berth_process *proc,
                      berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("uid", BERTH_JSON_UINT32, struct berth_user, uid),
                F("gid", BERTH_JSON_UINT32, struct berth_user, gid),
                F_HAS("umask", BERTH_JSON_UINT32, struct berth_user, umask, has_umask),
                F("username", BERTH_JSON_STRING, struct berth_user, username),
                F_END,
        };
        char upath[BERTH_JSON_PATH_MAX], apath[BERTH_JSON_PATH_MAX], gpath[BERTH_JSON_PATH_MAX];
        struct berth_user *u = &proc->user;
        json_object *o = NULL, *gids = NULL;
        int r;

        r = berth_json_get_object(p, "user", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(upath, sizeof(upath), path, "user");
        r = berth_json_dispatch(o, upath, fields, u, err);
        if (r < 0)
                return r;
        r = berth_json_get_array(o, "additionalGids", upath, false, MAX_GIDS, &gids, err);
        if (r <= 0)
                return r;
        berth_json_path(apath, sizeof(apath), upath, "additionalGids");
        u->n_additional_gids = json_object_array_length(gids);
        u->additional_gids = calloc(u->n_additional_gids + 1, sizeof(uint32_t));
        if (!u->additional_gids)
                return config_oom(err, upath);
        for (size_t i = 0; i < u->n_additional_gids; i++) {
                uint64_t gid;

                berth_json_path_index(gpath, sizeof(gpath), apath, i);
                r = berth_json_as_uint64(json_object_array_get_idx(gids, i), gpath, UINT32_MAX,
                                         "an unsigned 32-bit integer", &gid, err);
                if (r < 0)
                        return r;
                u->additional_gids[i] = (uint32_t)gid;
        }
        return 0;
}

static int add_unknown_cap(struct berth_capabilities *caps, const char *name)
{
        char **v;

        for (size_t i = 0; i < caps->n_unknown; i++)
                if (config_streq(caps->unknown[i], name))
                        return 0;
        v = realloc(caps->unknown, (caps->n_unknown + 2) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        caps->unknown = v;
        v[caps->n_unknown] = strdup(name);
        if (!v[caps->n_unknown])
                return -ENOMEM;
        v[++caps->n_unknown] = NULL;
        return 0;
}

static int parse_cap_set(json_object *o, const char *key, const char *path,
                         struct berth_capabilities *caps, uint64_t *ret, berth_error *err)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;
        int r;

        r = berth_json_get_strv(o, key, path, false, MAX_CAPS, &names, &n, err);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                int cap = berth_capability_from_string(names[i]);

                /* As runc: an unknown capability is a warning, not an error. */
                if (cap < 0) {
                        if (add_unknown_cap(caps, names[i]) < 0)
                                return config_oom(err, path);
                        continue;
                }
                *ret |= UINT64_C(1) << cap;
        }
        return 0;
}

static int parse_capabilities(json_object *p, const char *path, struct berth_process *proc,
                              berth_error *err)
{
        struct berth_capabilities *caps = &proc->capabilities;
        const struct {
                const char *key;
                uint64_t *set;
        } sets[] = {
                { "bounding", &caps->bounding },       { "effective", &caps->effective },
                { "inheritable", &caps->inheritable }, { "permitted", &caps->permitted },
                { "ambient", &caps->ambient },
        };
        char cpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(p, "capabilities", path, false, &o, err);
        if (r <= 0)
                return r;
        proc->has_capabilities = true;
        berth_json_path(cpath, sizeof(cpath), path, "capabilities");
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                r = parse_cap_set(o, sets[i].key, cpath, caps, sets[i].set, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void rlimit_release(void *p)
{
        free(((struct berth_rlimit *)p)->type);
}

static int parse_rlimit(json_object *o, const char *path, void *ret, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("type", BERTH_JSON_STRING, struct berth_rlimit, type),
                F_REQ("hard", BERTH_JSON_UINT64, struct berth_rlimit, hard),
                F_REQ("soft", BERTH_JSON_UINT64, struct berth_rlimit, soft),
                F_END,
        };
        struct berth_rlimit *rl = ret;
        int r;

        r = berth_json_dispatch(o, path, fields, rl, err);
        if (r < 0)
                return r;
        rl->resource = berth_rlimit_from_string(rl->type);
        if (rl->resource < 0)
                return config_field_error(err, path, "type", "unknown rlimit \"%s\"", rl->type);
        if (rl->soft > rl->hard)
                return config_field_error(err, path, "soft",
                                          "%s soft limit %" PRIu64
                                          " is above the hard limit %" PRIu64,
                                          rl->type, rl->soft, rl->hard);
        return 0;
}

static int parse_rlimits(json_object *p, const char *path, struct berth_process *proc,
                         berth_error *err)
{
        uint64_t seen = 0;
        void *v = NULL;
        int r;

        r = config_parse_object_array(p, "rlimits", path, MAX_RLIMITS, sizeof(struct berth_rlimit),
                                      parse_rlimit, rlimit_release, &v, &proc->n_rlimits, err);
        if (r <= 0)
                return r;
        proc->rlimits = v;
        for (size_t i = 0; i < proc->n_rlimits; i++) {
                int res = proc->rlimits[i].resource;

                if (res < 64 && (seen & (UINT64_C(1) << res)))
                        return berth_error_set(err, EINVAL, "%s%srlimits[%zu]: duplicate %s", path,
                                               *path ? "." : "", i, proc->rlimits[i].type);
                if (res < 64)
                        seen |= UINT64_C(1) << res;
        }
        return 0;
}

static int ioprio_class_from_string(const char *s)
{
        if (config_streq(s, "IOPRIO_CLASS_RT"))
                return IOPRIO_CLASS_RT;
        if (config_streq(s, "IOPRIO_CLASS_BE"))
                return IOPRIO_CLASS_BE;
        if (config_streq(s, "IOPRIO_CLASS_IDLE"))
                return IOPRIO_CLASS_IDLE;
        return -1;
}

static int parse_io_priority(json_object *p, const char *path, struct berth_process *proc,
                             berth_error *err)
{
        char ipath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int32_t prio = 0;
        int r;

        r = berth_json_get_object(p, "ioPriority", path, false, &o, err);
        if (r <= 0)
                return r;
        proc->has_io_priority = true;
        berth_json_path(ipath, sizeof(ipath), path, "ioPriority");
        r = config_parse_enum(o, "class", ipath, true, ioprio_class_from_string,
                              "I/O priority class", &proc->io_priority_class, err);
        if (r < 0)
                return r;
        r = berth_json_get_int32(o, "priority", ipath, false, &prio, err);
        if (r < 0)
                return r;
        if (prio < 0 || prio > 7)
                return config_field_error(err, ipath, "priority", "must be between 0 and 7, got %d",
                                          (int)prio);
        proc->io_priority = prio;
        return 0;
}

static const char *const sched_flags[] = {
        "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX",
};

static int parse_scheduler(json_object *p, const char *path, struct berth_process *proc,
                           berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("nice", BERTH_JSON_INT, struct berth_scheduler, nice),
                F("priority", BERTH_JSON_INT, struct berth_scheduler, priority),
                F_STRV("flags", struct berth_scheduler, flags, n_flags),
                F("runtime", BERTH_JSON_UINT64, struct berth_scheduler, runtime),
                F("deadline", BERTH_JSON_UINT64, struct berth_scheduler, deadline),
                F("period", BERTH_JSON_UINT64, struct berth_scheduler, period),
                F_END,
        };
        struct berth_scheduler *s = &proc->scheduler;
        char spath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r, policy = 0;

        r = berth_json_get_object(p, "scheduler", path, false, &o, err);
        if (r <= 0)
                return r;
        proc->has_scheduler = true;
        berth_json_path(spath, sizeof(spath), path, "scheduler");
        r = config_parse_enum(o, "policy", spath, true, berth_sched_policy_from_string,
                              "scheduler policy", &policy, err);
        if (r < 0)
                return r;
        s->policy = policy;
        r = berth_json_dispatch(o, spath, fields, s, err);
        if (r < 0)
                return r;
        if (s->nice < -20 || s->nice > 19)
                return config_field_error(err, spath, "nice", "must be between -20 and 19, got %d",
                                          (int)s->nice);
        for (size_t i = 0; i < s->n_flags; i++) {
                size_t j = 0;

                while (j < ARRAY_SIZE(sched_flags) && !config_streq(sched_flags[j], s->flags[i]))
                        j++;
                if (j == ARRAY_SIZE(sched_flags))
                        return berth_error_set(err, EINVAL,
                                               "%s.flags[%zu]: unknown scheduler flag \"%s\"",
                                               spath, i, s->flags[i]);
        }
        return 0;
}

static int parse_cpu_affinity(json_object *p, const char *path, struct berth_process *proc,
                              berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("initial", BERTH_JSON_STRING, struct berth_process, exec_cpu_affinity_initial),
                F("final", BERTH_JSON_STRING, struct berth_process, exec_cpu_affinity_final),
                F_END,
        };
        const char *v[2];
        char apath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(p, "execCPUAffinity", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(apath, sizeof(apath), path, "execCPUAffinity");
        r = berth_json_dispatch(o, apath, fields, proc, err);
        if (r < 0)
                return r;
        v[0] = proc->exec_cpu_affinity_initial;
        v[1] = proc->exec_cpu_affinity_final;
        for (size_t i = 0; i < 2; i++)
                if (v[i] && v[i][strspn(v[i], "0123456789, -")])
                        return config_field_error(err, apath, i == 0 ? "initial" : "final",
                                                  "invalid CPU list \"%s\"", v[i]);
        return 0;
}

static int parse_console_size(json_object *p, const char *path, struct berth_process *proc,
                              berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("height", BERTH_JSON_UINT32, struct berth_process, console_height),
                F_REQ("width", BERTH_JSON_UINT32, struct berth_process, console_width),
                F_END,
        };
        char cpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(p, "consoleSize", path, false, &o, err);
        if (r <= 0)
                return r;
        proc->has_console_size = true;
        berth_json_path(cpath, sizeof(cpath), path, "consoleSize");
        return berth_json_dispatch(o, cpath, fields, proc, err);
}

static int check_process(struct berth_process *p, const char *path, berth_error *err)
{
        int r;

        if (p->n_args == 0)
                return config_field_error(err, path, "args", "must contain at least one entry");
        r = config_check_absolute(p->cwd, path, "cwd", err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_env; i++) {
                const char *eq = strchr(p->env[i], '=');

                if (!eq || eq == p->env[i])
                        return berth_error_set(err, EINVAL,
                                               "%s%senv[%zu]: \"%s\" is not of the form KEY=VALUE",
                                               path, *path ? "." : "", i, p->env[i]);
        }
        if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
                return config_field_error(err, path, "oomScoreAdj",
                                          "must be between -1000 and 1000, got %d",
                                          p->oom_score_adj);
        return 0;
}

static int parse_process_object(json_object *o, const char *path, struct berth_process *p,
                                berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F("terminal", BERTH_JSON_BOOL, struct berth_process, terminal),
                F_REQ("cwd", BERTH_JSON_STRING, struct berth_process, cwd),
                F("commandLine", BERTH_JSON_STRING, struct berth_process, command_line),
                F("noNewPrivileges", BERTH_JSON_BOOL, struct berth_process, no_new_privileges),
                F("apparmorProfile", BERTH_JSON_STRING, struct berth_process, apparmor_profile),
                F_HAS("oomScoreAdj", BERTH_JSON_INT, struct berth_process, oom_score_adj,
                      has_oom_score_adj),
                F("selinuxLabel", BERTH_JSON_STRING, struct berth_process, selinux_label),
                F_END,
        };
        static int (*const parts[])(json_object *, const char *, struct berth_process *,
                                    berth_error *) = {
                parse_console_size, parse_user,      parse_capabilities, parse_rlimits,
                parse_io_priority,  parse_scheduler, parse_cpu_affinity,
        };
        int r;

        r = berth_json_get_strv(o, "args", path, true, MAX_ARGS, &p->args, &p->n_args, err);
        if (r < 0)
                return r;
        r = berth_json_get_strv(o, "env", path, false, MAX_ENV, &p->env, &p->n_env, err);
        if (r < 0)
                return r;
        r = berth_json_dispatch(o, path, fields, p, err);
        if (r < 0)
                return r;
        r = check_process(p, path, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
                r = parts[i](o, path, p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void berth_process_free(struct berth_process *p)
{
        if (!p)
                return;
        free(p->user.additional_gids);
        free(p->user.username);
        strv_free(p->args);
        free(p->command_line);
        strv_free(p->env);
        free(p->cwd);
        strv_free(p->capabilities.unknown);
        config_array_free(p->rlimits, p->n_rlimits, sizeof(*p->rlimits), rlimit_release);
        free(p->apparmor_profile);
        free(p->selinux_label);
        strv_free(p->scheduler.flags);
        free(p->exec_cpu_affinity_initial);
        free(p->exec_cpu_affinity_final);
        free(p);
}

/* ---- the document ---- */

static int parse_root_and_process(json_object *o, struct berth_config *c, berth_error *err)
{
        json_object *root = NULL, *proc = NULL;
        int r;

        r = berth_json_get_object(o, "root", "", false, &root, err);
        if (r < 0)
                return r;
        if (r > 0) {
                r = berth_json_get_string(root, "path", "root", true, &c->root_path, err);
                if (r < 0)
                        return r;
                if (!*c->root_path)
                        return config_field_error(err, "root", "path", "must not be empty");
                r = berth_json_get_bool(root, "readonly", "root", false, &c->root_readonly, err);
                if (r < 0)
                        return r;
        }
        r = berth_json_get_object(o, "process", "", false, &proc, err);
        if (r <= 0)
                return r;
        c->process = calloc(1, sizeof(*c->process));
        if (!c->process)
                return config_oom(err, "process");
        return parse_process_object(proc, "process", c->process, err);
}

static int parse_config_object(json_object *o, struct berth_config *c, berth_error *err)
{
        static const struct berth_json_field fields[] = {
                F_REQ("ociVersion", BERTH_JSON_STRING, struct berth_config, oci_version),
                F("hostname", BERTH_JSON_STRING, struct berth_config, hostname),
                F("domainname", BERTH_JSON_STRING, struct berth_config, domainname),
                F_END,
        };
        void *v = NULL;
        int r;

        r = berth_json_dispatch(o, "", fields, c, err);
        if (r < 0)
                return r;
        if (!*c->oci_version)
                return config_field_error(err, "", "ociVersion", "must not be empty");
        r = parse_root_and_process(o, c, err);
        if (r < 0)
                return r;
        r = config_parse_object_array(o, "mounts", "", MAX_MOUNTS, sizeof(struct berth_mount),
                                      parse_mount, mount_release, &v, &c->n_mounts, err);
        if (r < 0)
                return r;
        c->mounts = v;
        r = parse_hooks(o, "", c, err);
        if (r < 0)
                return r;
        r = config_parse_kv_map(o, "annotations", "", &c->annotations, &c->n_annotations, err);
        if (r < 0)
                return r;
        return config_parse_linux(o, "", c, err);
}

int config_parse_document(const char *data, size_t len, const char *what,
                          int (*parse)(json_object *o, void *ret, berth_error *err), void *ret,
                          berth_error *err)
{
        json_object *o = NULL;
        int r;

        if (len > BERTH_CONFIG_MAX_SIZE)
                return berth_error_set(err, E2BIG, "%s: larger than %u bytes", what,
                                       BERTH_CONFIG_MAX_SIZE);
        r = berth_json_parse_object(data, len, what, &o, err);
        if (r < 0)
                return r;
        r = parse(o, ret, err);
        json_object_put(o);
        return r < 0 ? berth_error_prefix(err, "%s", what) : 0;
}

static int parse_config_document(json_object *o, void *ret, berth_error *err)
{
        return parse_config_object(o, ret, err);
}

static int config_parse(const char *data, size_t len, const char *what, struct berth_config **ret,
                        berth_error *err)
{
        _cleanup_(berth_config_freep) struct berth_config *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return config_oom(err, what);
        r = config_parse_document(data, len, what, parse_config_document, c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int berth_config_parse(const char *data, size_t len, struct berth_config **ret, berth_error *err)
{
        return config_parse(data, len, "config.json", ret, err);
}

int berth_config_load(const char *path, struct berth_config **ret, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = berth_read_file_at(AT_FDCWD, path, BERTH_CONFIG_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        return config_parse(data, len, path, ret, err);
}

static int parse_process_document(json_object *o, void *ret, berth_error *err)
{
        return parse_process_object(o, "", ret, err);
}

int berth_process_parse(const char *data, size_t len, struct berth_process **ret, berth_error *err)
{
        _cleanup_(berth_process_freep) struct berth_process *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return config_oom(err, "process.json");
        r = config_parse_document(data, len, "process.json", parse_process_document, p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

void berth_config_free(struct berth_config *c)
{
        if (!c)
                return;
        free(c->oci_version);
        free(c->root_path);
        berth_process_free(c->process);
        free(c->hostname);
        free(c->domainname);
        config_array_free(c->mounts, c->n_mounts, sizeof(*c->mounts), mount_release);
        for (size_t k = 0; k < _BERTH_HOOK_MAX; k++)
                config_array_free(c->hooks[k].hooks, c->hooks[k].n_hooks, sizeof(struct berth_hook),
                                  hook_release);
        config_kv_free(c->annotations, c->n_annotations);
        config_linux_release(&c->linux);
        free(c);
}

const char *berth_config_annotation(const struct berth_config *c, const char *key)
{
        if (!c || !key)
                return NULL;
        for (size_t i = 0; i < c->n_annotations; i++)
                if (config_streq(c->annotations[i].key, key))
                        return c->annotations[i].value;
        return NULL;
}
