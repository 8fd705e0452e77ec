/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "berth-config.h"
#include "runtime/cgroup.h"
#include "runtime/linux.h"

#define STATE_MAX_SIZE (1u << 20)

static const char *const status_names[_BERTH_STATUS_MAX] = {
        [BERTH_STATUS_CREATING] = "creating", [BERTH_STATUS_CREATED] = "created",
        [BERTH_STATUS_RUNNING] = "running",   [BERTH_STATUS_PAUSED] = "paused",
        [BERTH_STATUS_STOPPED] = "stopped",
};

const char *berth_status_to_string(enum berth_status s)
{
        return (unsigned)s < _BERTH_STATUS_MAX ? status_names[s] : NULL;
}

/*
 * Anyone but root: $XDG_RUNTIME_DIR/berth-runtime, or without the variable
 * /run/user/UID/berth-runtime, where pam_systemd would have pointed it (as
 * podman falls back). Creating the root there fails when it is not the
 * user's; create says so.
 */
const char *berth_runtime_state_root(const struct berth_runtime *rt)
{
        static char rootless[PATH_MAX];
        const char *xdg;

        if (rt && rt->state_root)
                return rt->state_root;
        if (geteuid() == 0)
                return "/run/berth-runtime";
        xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg &&
            snprintf(rootless, sizeof(rootless), "%s/berth-runtime", xdg) < (int)sizeof(rootless))
                return rootless;
        snprintf(rootless, sizeof(rootless), "/run/user/%u/berth-runtime", (unsigned)geteuid());
        return rootless;
}

int berth_runtime_seccomp_cache(const struct berth_runtime *rt, char *buf, size_t size,
                                berth_error *err)
{
        const char *root = berth_runtime_state_root(rt);

        if (snprintf(buf, size, "%s/.seccomp-cache", root) >= (int)size)
                return berth_error_set(err, ENAMETOOLONG, "state root `%s`: path too long", root);
        return 0;
}

int berth_validate_id(const char *id, berth_error *err)
{
        size_t len = id ? strlen(id) : 0;

        if (len == 0)
                return berth_error_set(err, EINVAL, "container id cannot be empty");
        if (len > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return berth_error_set(err, EINVAL, "invalid container id format: `%s`", id);
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '+' || c == '-' || c == '.'))
                        return berth_error_set(err, EINVAL, "invalid container id format: `%s`",
                                               id);
        }
        return 0;
}

int berth_state_dir(const struct berth_runtime *rt, const char *id, char **ret, berth_error *err)
{
        int r = berth_validate_id(id, err);

        if (r < 0)
                return r;
        if (asprintf(ret, "%s/%s", berth_runtime_state_root(rt), id) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

char *berth_now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char stamp[32], *out = NULL;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        if (asprintf(&out, "%s.%09ldZ", stamp, ts.tv_nsec) < 0)
                return NULL;
        return out;
}

void berth_state_free(struct berth_state *s)
{
        if (!s)
                return;
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->owner);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotations[i].key);
                free(s->annotations[i].value);
        }
        free(s->annotations);
        free(s);
}

void berth_state_list_free(struct berth_state **list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                berth_state_free(list[i]);
        free(list);
}

/* runc's key order: scripts that diff state output keep working. */
static json_object *state_to_object(const struct berth_state *s, bool internal)
{
        json_object *o = json_object_new_object(), *ann = json_object_new_object();

        json_object_object_add(o, "ociVersion", json_object_new_string(BERTH_OCI_VERSION));
        json_object_object_add(o, "id", json_object_new_string(s->id));
        json_object_object_add(o, "pid", json_object_new_int(s->pid));
        if (internal)
                json_object_object_add(o, "pidStartTime",
                                       json_object_new_uint64(s->pid_start_time));
        else
                json_object_object_add(o, "status",
                                       json_object_new_string(berth_status_to_string(s->status)));
        json_object_object_add(o, "bundle", json_object_new_string(s->bundle ? s->bundle : ""));
        json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs ? s->rootfs : ""));
        json_object_object_add(o, "created", json_object_new_string(s->created ? s->created : ""));
        for (size_t i = 0; i < s->n_annotations; i++)
                json_object_object_add(ann, s->annotations[i].key,
                                       json_object_new_string(s->annotations[i].value));
        json_object_object_add(o, "annotations", ann);
        json_object_object_add(o, "owner", json_object_new_string(s->owner ? s->owner : ""));
        return o;
}

int berth_state_to_json(const struct berth_state *s, bool pretty, char **ret, berth_error *err)
{
        json_object *o = state_to_object(s, false);
        const char *str;

        str = json_object_to_json_string_ext(
                o, pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                    JSON_C_TO_STRING_NOSLASHESCAPE
                          : JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = strdup(str);
        json_object_put(o);
        if (!*ret)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

int berth_state_save(const char *dir, const struct berth_state *s, berth_error *err)
{
        json_object *o = state_to_object(s, true);
        _cleanup_free_ char *path = NULL;
        const char *str;
        int r;

        str = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE);
        if (asprintf(&path, "%s/state.json", dir) < 0) {
                json_object_put(o);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = berth_write_file_atomic(path, str, strlen(str), 0600, err);
        json_object_put(o);
        return r;
}

static char *get_str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return strdup("");
        return strdup(json_object_get_string(v));
}

static int state_from_object(json_object *o, struct berth_state *s)
{
        json_object *v;

        s->id = get_str(o, "id");
        s->bundle = get_str(o, "bundle");
        s->rootfs = get_str(o, "rootfs");
        s->created = get_str(o, "created");
        s->owner = get_str(o, "owner");
        if (!s->id || !s->bundle || !s->rootfs || !s->created || !s->owner)
                return -ENOMEM;
        if (json_object_object_get_ex(o, "pid", &v))
                s->pid = json_object_get_int(v);
        if (json_object_object_get_ex(o, "pidStartTime", &v))
                s->pid_start_time = json_object_get_uint64(v);
        if (json_object_object_get_ex(o, "annotations", &v) &&
            json_object_is_type(v, json_type_object)) {
                size_t n = (size_t)json_object_object_length(v), i = 0;
                s->annotations = calloc(n ? n : 1, sizeof(*s->annotations));
                if (!s->annotations)
                        return -ENOMEM;
                json_object_object_foreach (v, key, val) {
                        s->annotations[i].key = strdup(key);
                        s->annotations[i].value = strdup(json_object_get_string(val));
                        s->n_annotations = ++i;
                }
        }
        return 0;
}

/* Frozen by `pause`: the cgroup's freezer says so, not a file of ours. */
static bool is_paused(const char *dir)
{
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        berth_error e = BERTH_ERROR_INIT;
        bool paused = false;

        if (berth_cgroup_load(dir, &cg, &e) == 0 && cg && cg->n_dirs)
                paused = berth_cgroup_is_frozen(cg) > 0;
        berth_error_release(&e);
        return paused;
}

enum berth_status berth_state_probe(const char *dir, pid_t pid, uint64_t start_time)
{
        uint64_t now_start;
        char state, path[PATH_MAX];

        if (pid <= 0 || berth_proc_stat(pid, &now_start, &state) < 0)
                return BERTH_STATUS_STOPPED;
        if (now_start != start_time || state == 'Z' || state == 'X')
                return BERTH_STATUS_STOPPED;
        if (is_paused(dir))
                return BERTH_STATUS_PAUSED;
        snprintf(path, sizeof(path), "%s/exec.fifo", dir);
        if (access(path, F_OK) == 0)
                return BERTH_STATUS_CREATED;
        return BERTH_STATUS_RUNNING;
}

int berth_state_load(const struct berth_runtime *rt, const char *id, struct berth_state **ret,
                     berth_error *err)
{
        _cleanup_free_ char *dir = NULL, *data = NULL;
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        json_object *o;
        size_t len;
        int r;

        r = berth_state_dir(rt, id, &dir, err);
        if (r < 0)
                return r;
        {
                _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) {
                        if (errno == ENOENT)
                                return berth_error_set(err, ENOENT, "container `%s` does not exist",
                                                       id);
                        return berth_error_sys(err, errno, "open state of `%s`", id);
                }
                r = berth_read_file_at(dfd, "state.json", STATE_MAX_SIZE, &data, &len, err);
                if (r == -ENOENT)
                        return berth_error_set(err, ENOENT, "container `%s` does not exist", id);
                if (r < 0)
                        return r;
        }
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return berth_error_set(err, EINVAL, "state of container `%s` is corrupt", id);
        }
        s = calloc(1, sizeof(*s));
        if (!s) {
                json_object_put(o);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = state_from_object(o, s);
        json_object_put(o);
        if (r < 0)
                return berth_error_set(err, -r, "load state of `%s`", id);
        s->status = berth_state_probe(dir, s->pid, s->pid_start_time);
        if (s->status == BERTH_STATUS_STOPPED)
                s->pid = 0;
        *ret = TAKE_PTR(s);
        return 0;
}

int berth_container_state(const struct berth_runtime *rt, const char *id, struct berth_state **ret,
                          berth_error *err)
{
        return berth_state_load(rt, id, ret, err);
}

int berth_state_lock(const char *dir, berth_error *err)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return berth_error_sys(err, errno, "open `%s`", dir);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR)
                        return berth_error_sys(err, errno, "lock `%s`", dir);
        }
        return TAKE_FD(fd);
}

int berth_state_config(const struct berth_runtime *rt, const char *id, struct berth_config **ret,
                       berth_error *err)
{
        _cleanup_free_ char *dir = NULL, *path = NULL;
        int r = berth_state_dir(rt, id, &dir, err);

        if (r < 0)
                return r;
        if (asprintf(&path, "%s/config.json", dir) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return berth_config_load(path, ret, err);
}

static int cmp_state(const void *a, const void *b)
{
        const struct berth_state *const *x = a, *const *y = b;
        return strcmp((*x)->id, (*y)->id);
}

int berth_container_list(const struct berth_runtime *rt, struct berth_state ***ret, size_t *ret_n,
                         berth_error *err)
{
        const char *root = berth_runtime_state_root(rt);
        _cleanup_closedir_ DIR *d = opendir(root);
        struct berth_state **list = NULL;
        size_t n = 0;
        struct dirent *de;

        *ret = NULL;
        *ret_n = 0;
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return berth_error_sys(err, errno, "open state root `%s`", root);
        }
        while ((de = readdir(d))) {
                berth_error e = BERTH_ERROR_INIT;
                struct berth_state *s = NULL, **nl;
                if (de->d_name[0] == '.' || berth_validate_id(de->d_name, NULL) < 0)
                        continue;
                if (berth_state_load(rt, de->d_name, &s, &e) < 0) {
                        berth_error_release(&e); /* being created or deleted */
                        continue;
                }
                nl = realloc(list, (n + 1) * sizeof(*list));
                if (!nl) {
                        berth_state_free(s);
                        berth_state_list_free(list, n);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
                list = nl;
                list[n++] = s;
        }
        if (n)
                qsort(list, n, sizeof(*list), cmp_state);
        *ret = list;
        *ret_n = n;
        return 0;
}

int berth_state_load_locked(const struct berth_runtime *rt, const char *id,
                            struct berth_state **ret, char **ret_dir, int *ret_lock,
                            berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_free_ char *dir = NULL;
        int r, lock;

        r = berth_state_load(rt, id, &s, err);
        if (r < 0)
                return r;
        r = berth_state_dir(rt, id, &dir, err);
        if (r < 0)
                return r;
        lock = berth_state_lock(dir, err);
        if (lock < 0)
                return lock;
        /* Another command may have moved it on while we waited for the lock. */
        s->status = berth_state_probe(dir, s->pid, s->pid_start_time);
        *ret = TAKE_PTR(s);
        *ret_dir = TAKE_PTR(dir);
        *ret_lock = lock;
        return 0;
}
