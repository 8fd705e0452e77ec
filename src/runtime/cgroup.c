/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup interface: driver choice, cgroupsPath, the on-disk record,
 * process lists, signalling and removal. The drivers' shared helpers are in
 * cgroup-util.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup.h"

#define CGROUP_RECORD   "cgroup.json"
#define CGROUP_FILE_MAX (1u << 20)

/* ---- driver choice and cgroupsPath ---- */

static bool layout_unified(void)
{
        struct statfs sfs;

        return statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static const struct cgroup_driver *driver_by_name(const char *name)
{
        if (strcmp(name, cgroup_v1_driver.name) == 0)
                return &cgroup_v1_driver;
        if (strcmp(name, cgroup_v2_driver.name) == 0)
                return &cgroup_v2_driver;
        return NULL;
}

/*
 * NULL (no cgroup) for "disabled". The systemd manager asks systemd for a
 * transient scope; the files are then the layout's cgroupfs driver's.
 */
static int pick_driver(const struct berth_runtime *rt, const struct cgroup_driver **ret,
                       bool *ret_systemd, berth_error *err)
{
        const char *m = rt->cgroup_manager;

        *ret = NULL;
        *ret_systemd = false;
        if (m && strcmp(m, "disabled") == 0)
                return 0;
        if (rt->systemd_cgroup || (m && strcmp(m, "systemd") == 0)) {
                if (!cg_systemd_running())
                        return berth_error_set(err, ENOTSUP,
                                               "cgroup manager systemd: systemd is not running "
                                               "on this host (no /run/systemd/system); use "
                                               "--cgroup-manager cgroupfs");
                *ret_systemd = true;
        } else if (m && strcmp(m, "cgroupfs") != 0)
                return berth_error_set(err, EINVAL,
                                       "--cgroup-manager `%s`: expected cgroupfs, systemd or "
                                       "disabled",
                                       m);
        *ret = layout_unified() ? &cgroup_v2_driver : &cgroup_v1_driver;
        return 0;
}

/*
 * cgroupsPath: absolute paths are taken from each hierarchy's root,
 * relative ones from the runtime's own cgroup; absent means "ID", relative
 * (runc's rules: a runtime confined to a cgroup keeps its containers in it). No "." or ".."
 * components: the path must not climb out.
 */
int cg_resolve_path(const char *cgroups_path, const char *id, char **ret, berth_error *err)
{
        const char *p = cgroups_path;

        if (!p || !*p) {
                *ret = strdup(id);
                return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
        }
        if (strchr(p, ':') && p[0] != '/')
                return berth_error_set(err, EINVAL,
                                       "linux.cgroupsPath `%s`: a systemd slice:prefix:name path "
                                       "needs --systemd-cgroup",
                                       p);
        for (const char *c = p; *c;) {
                size_t l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return berth_error_set(err, EINVAL,
                                               "linux.cgroupsPath `%s`: `.` and `..` are not "
                                               "allowed",
                                               p);
                c += l;
                while (*c == '/')
                        c++;
        }
        *ret = strdup(p);
        if (!*ret)
                return berth_error_set(err, ENOMEM, "out of memory");
        /* Trailing slashes would make the leaf name empty. */
        for (size_t l = strlen(*ret); l > 1 && (*ret)[l - 1] == '/'; l--)
                (*ret)[l - 1] = '\0';
        return 0;
}

/* ---- the record ---- */

static int record_save(const struct berth_cgroup *cg, const char *state_dir, berth_error *err)
{
        json_object *o = json_object_new_object(), *dirs = json_object_new_array();
        _cleanup_free_ char *path = NULL;
        const char *s;
        int r;

        json_object_object_add(o, "driver", json_object_new_string(cg->driver->name));
        json_object_object_add(o, "path", json_object_new_string(cg->path));
        json_object_object_add(o, "rootless", json_object_new_boolean(cg->rootless));
        if (cg->unit) {
                json_object_object_add(o, "unit", json_object_new_string(cg->unit));
                json_object_object_add(o, "slice", json_object_new_string(cg->slice));
        }
        for (size_t i = 0; i < cg->n_dirs; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "controllers",
                                       json_object_new_string(cg->dirs[i].controllers));
                json_object_object_add(d, "path", json_object_new_string(cg->dirs[i].path));
                json_object_object_add(d, "created", json_object_new_boolean(cg->dirs[i].created));
                json_object_array_add(dirs, d);
        }
        json_object_object_add(o, "dirs", dirs);
        s = json_object_to_json_string_ext(o,
                                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (asprintf(&path, "%s/" CGROUP_RECORD, state_dir) < 0)
                r = berth_error_set(err, ENOMEM, "out of memory");
        else
                r = berth_write_file_atomic(path, s, strlen(s), 0600, err);
        json_object_put(o);
        return r;
}

static const char *obj_str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

int berth_cgroup_load(const char *state_dir, struct berth_cgroup **ret, berth_error *err)
{
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        _cleanup_free_ char *data = NULL;
        json_object *o, *dirs, *v;
        const char *drv, *path;
        size_t len;
        int r;

        *ret = NULL;
        {
                _cleanup_close_ int dfd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        return errno == ENOENT
                                       ? 0
                                       : berth_error_sys(err, errno, "open `%s`", state_dir);
                r = berth_read_file_at(dfd, CGROUP_RECORD, CGROUP_FILE_MAX, &data, &len, err);
                if (r == -ENOENT) {
                        berth_error_release(err);
                        return 0;
                }
                if (r < 0)
                        return r;
        }
        o = json_tokener_parse(data);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return berth_error_set(err, EINVAL, "%s/" CGROUP_RECORD ": corrupt", state_dir);
        }
        cg = calloc(1, sizeof(*cg));
        drv = obj_str(o, "driver");
        path = obj_str(o, "path");
        if (!cg || !drv || !path || !(cg->driver = driver_by_name(drv)) ||
            !(cg->path = strdup(path))) {
                json_object_put(o);
                return berth_error_set(err, EINVAL, "%s/" CGROUP_RECORD ": corrupt", state_dir);
        }
        if (json_object_object_get_ex(o, "rootless", &v))
                cg->rootless = json_object_get_boolean(v);
        if (obj_str(o, "unit") && (!(cg->unit = strdup(obj_str(o, "unit"))) ||
                                   !(cg->slice = strdup(obj_str(o, "slice") ?: "")))) {
                json_object_put(o);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        if (json_object_object_get_ex(o, "dirs", &dirs) &&
            json_object_is_type(dirs, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(dirs); i++) {
                        json_object *d = json_object_array_get_idx(dirs, i), *c;
                        const char *ctl = obj_str(d, "controllers"), *dp = obj_str(d, "path");
                        bool created = json_object_object_get_ex(d, "created", &c) &&
                                       json_object_get_boolean(c);
                        if (!ctl || !dp || dp[0] != '/' || cg_add_dir(cg, ctl, dp, created) < 0) {
                                json_object_put(o);
                                return berth_error_set(err, EINVAL, "%s/" CGROUP_RECORD ": corrupt",
                                                       state_dir);
                        }
                }
        }
        json_object_put(o);
        *ret = TAKE_PTR(cg);
        return 0;
}

void berth_cgroup_free(struct berth_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_dirs; i++) {
                free(cg->dirs[i].controllers);
                free(cg->dirs[i].path);
        }
        free(cg->dirs);
        free(cg->path);
        free(cg->unit);
        free(cg->slice);
        free(cg->state_dir);
        free(cg);
}

/* ---- the interface ---- */

/*
 * What every container may use whatever its device rules say, appended
 * after them as runc does: mknod of anything (creating a node grants
 * nothing by itself), the standard /dev nodes, ptys, and /dev/net/tun,
 * which Docker users have always had. /dev/console is a pty here, covered
 * by 136:*.
 */
#define RULE(t, maj, min, acc)                                                                     \
        {                                                                                          \
                .allow = true, .type = (t), .has_major = true, .major = (maj), .has_minor = true,  \
                .minor = (min), .access = (char *)(acc)                                            \
        }
static const struct berth_device_cgroup_rule default_device_rules[] = {
        RULE('c', -1, -1, "m"),    RULE('b', -1, -1, "m"),    RULE('c', 1, 3, "rwm"),
        RULE('c', 1, 5, "rwm"),    RULE('c', 1, 7, "rwm"),    RULE('c', 1, 8, "rwm"),
        RULE('c', 1, 9, "rwm"),    RULE('c', 5, 0, "rwm"),    RULE('c', 5, 2, "rwm"),
        RULE('c', 136, -1, "rwm"), RULE('c', 10, 200, "rwm"),
};
#undef RULE

/* cfg's resources with the default device rules after its own; frees nothing of cfg's. */
static int with_default_devices(const struct berth_resources *in, struct berth_resources *out,
                                struct berth_device_cgroup_rule **ret_rules)
{
        size_t n = in->n_devices + ARRAY_SIZE(default_device_rules);
        struct berth_device_cgroup_rule *rules = calloc(n, sizeof(*rules));

        if (!rules)
                return -ENOMEM;
        memcpy(rules, in->devices, in->n_devices * sizeof(*rules));
        memcpy(rules + in->n_devices, default_device_rules, sizeof(default_device_rules));
        *out = *in;
        out->devices = rules;
        out->n_devices = n;
        *ret_rules = rules;
        return 0;
}

/* cfg's resources, with the default device rules, written through the driver. */
static int apply_config(struct berth_cgroup *cg, const struct berth_config *cfg, berth_error *err)
{
        _cleanup_free_ struct berth_device_cgroup_rule *rules = NULL;
        struct berth_resources res;

        if (!cfg->linux.has_resources)
                return 0;
        if (with_default_devices(&cfg->linux.resources, &res, &rules) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return cg->driver->apply(cg, &res, false, err);
}

int berth_cgroup_create(const struct berth_runtime *rt, const struct berth_config *cfg,
                        const char *id, const char *state_dir, struct berth_cgroup **ret,
                        berth_error *err)
{
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        const struct cgroup_driver *drv;
        bool systemd;
        int r;

        *ret = NULL;
        r = pick_driver(rt, &drv, &systemd, err);
        if (r < 0 || !drv)
                return r;
        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return berth_error_set(err, ENOMEM, "out of memory");
        cg->driver = drv;
        cg->rootless = geteuid() != 0;
        if (systemd) {
                /* The scope needs the process: made in berth_cgroup_enter(). */
                r = cg_systemd_resolve(cfg->linux.cgroups_path, id, &cg->slice, &cg->unit, err);
                if (r < 0)
                        return r;
                cg->cfg = cfg;
                cg->path = strdup(cg->unit);
                cg->state_dir = strdup(state_dir);
                if (!cg->path || !cg->state_dir)
                        return berth_error_set(err, ENOMEM, "out of memory");
                r = record_save(cg, state_dir, err);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(cg);
                return 0;
        }
        r = cg_resolve_path(cfg->linux.cgroups_path, id, &cg->path, err);
        if (r < 0)
                return r;
        r = drv->create(cg, err);
        if (r >= 0)
                r = record_save(cg, state_dir, err);
        if (r >= 0)
                r = apply_config(cg, cfg, err);
        if (r < 0) {
                berth_error e = BERTH_ERROR_INIT;
                berth_cgroup_destroy(cg, state_dir, &e);
                berth_error_release(&e);
                return r;
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

int berth_cgroup_clone_fd(const struct berth_cgroup *cg)
{
        const char *dir;

        if (!cg || cg->driver != &cgroup_v2_driver || !(dir = cg_dir_of(cg, "")))
                return -1;
        return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, berth_error *err)
{
        int r;

        if (!cg->unit || cg->n_dirs > 0)
                return cg->driver->enter(cg, pid, err);
        /* systemd, at create: the scope is made with the process in it. */
        r = cg_systemd_start(cg, pid, cg->cfg ? &cg->cfg->linux.resources : NULL, err);
        if (r >= 0)
                r = record_save(cg, cg->state_dir, err);
        if (r >= 0 && cg->cfg)
                r = apply_config(cg, cg->cfg, err);
        return r;
}

int berth_cgroup_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                       berth_error *err)
{
        /* systemd first (as runc does): it writes what it is told to the files too. */
        if (update && cg->unit && cg_systemd_set(cg, res, err) < 0)
                return -1;
        return cg->driver->apply(cg, res, update, err);
}

int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, berth_error *err)
{
        return cg->driver->freeze(cg, frozen, err);
}

int berth_cgroup_is_frozen(const struct berth_cgroup *cg)
{
        return cg->driver->is_frozen(cg);
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

static int read_procs(const char *dir, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *s = NULL;
        pid_t *list = NULL;
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = cg_read(dir, "cgroup.procs", &s);
        if (r < 0)
                return r;
        for (char *line = s, *next; line && *line; line = next) {
                int pid;
                pid_t *nl;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (berth_parse_int(line, &pid) < 0 || pid <= 0)
                        continue;
                nl = realloc(list, (n + 1) * sizeof(*nl));
                if (!nl) {
                        free(list);
                        return -ENOMEM;
                }
                list = nl;
                list[n++] = pid;
        }
        if (n)
                qsort(list, n, sizeof(*list), cmp_pid);
        *ret = list;
        *ret_n = n;
        return 0;
}

int berth_cgroup_pids(const struct berth_cgroup *cg, pid_t **ret, size_t *ret_n)
{
        const char *dir = cg->driver->procs_dir(cg);

        if (!dir) {
                *ret = NULL;
                *ret_n = 0;
                return -ENOENT;
        }
        return read_procs(dir, ret, ret_n);
}

int berth_cgroup_signal_all(struct berth_cgroup *cg, int sig, berth_error *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        berth_error e = BERTH_ERROR_INIT;
        bool frozen;
        size_t n;
        int r;

        /* Frozen, no process can fork a child the signal would miss. */
        frozen = cg->driver->freeze(cg, true, &e) >= 0;
        berth_error_release(&e);
        r = berth_cgroup_pids(cg, &pids, &n);
        if (r < 0) {
                if (frozen)
                        cg->driver->freeze(cg, false, &e);
                berth_error_release(&e);
                return berth_error_sys(err, -r, "list processes of cgroup `%s`", cg->path);
        }
        for (size_t i = 0; i < n; i++)
                kill(pids[i], sig);
        if (frozen && cg->driver->freeze(cg, false, &e) < 0) {
                log_warn("%s", berth_error_msg(&e));
                berth_error_release(&e);
        }
        return 0;
}

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

/*
 * rmdir, with what is below it first: a container with a cgroup namespace
 * may have made cgroups of its own (systemd in a container does). Kills
 * what is still inside; waits up to ~2 s for it to go.
 */
static int remove_dir(const char *dir, int depth)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (depth > 32)
                return -ELOOP;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                char sub[PATH_MAX];
                int r;
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
                    strcmp(de->d_name, "..") == 0)
                        continue;
                if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
                        return -ENAMETOOLONG;
                r = remove_dir(sub, depth + 1);
                if (r < 0)
                        return r;
        }
        for (int i = 0; i < 200; i++) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;

                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                if (read_procs(dir, &pids, &n) == 0)
                        for (size_t k = 0; k < n; k++)
                                kill(pids[k], SIGKILL);
                /* A frozen v1 cgroup's processes die only once thawed. */
                if (cg_exists(dir, "freezer.state"))
                        cg_write(dir, "freezer.state", "THAWED", NULL, NULL);
                if (cg_exists(dir, "cgroup.freeze"))
                        cg_write(dir, "cgroup.freeze", "0", NULL, NULL);
                sleep_ms(10);
        }
        return -EBUSY;
}

int berth_cgroup_destroy(struct berth_cgroup *cg, const char *state_dir, berth_error *err)
{
        char path[PATH_MAX];
        int first = 0;

        if (cg->unit) {
                /* Nothing may linger for systemd to wait on; then the unit goes. */
                const char *procs = cg->n_dirs ? cg->driver->procs_dir(cg) : NULL;
                _cleanup_free_ pid_t *pids = NULL;
                berth_error e = BERTH_ERROR_INIT;
                size_t n = 0;
                if (procs && read_procs(procs, &pids, &n) == 0 && n > 0) {
                        for (size_t i = 0; i < n; i++)
                                kill(pids[i], SIGKILL);
                        /* Frozen processes die only once thawed. */
                        cg->driver->freeze(cg, false, &e);
                        berth_error_release(&e);
                }
                first = cg_systemd_stop(cg, err);
                if (first < 0)
                        return first;
        }

        for (size_t i = cg->n_dirs; i-- > 0;) {
                int r;
                if (!cg->dirs[i].created)
                        continue;
                r = remove_dir(cg->dirs[i].path, 0);
                if (r < 0 && !first) {
                        first = r;
                        berth_error_sys(err, -r, "remove cgroup `%s`", cg->dirs[i].path);
                }
        }
        if (first)
                return first;
        snprintf(path, sizeof(path), "%s/" CGROUP_RECORD, state_dir);
        unlink(path);
        return 0;
}

int berth_cgroup_destroy_recorded(const char *state_dir, berth_error *err)
{
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = berth_cgroup_load(state_dir, &cg, err);

        if (r < 0 || !cg)
                return r;
        return berth_cgroup_destroy(cg, state_dir, err);
}
