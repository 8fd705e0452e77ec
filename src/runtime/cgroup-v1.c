/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroupfs on v1: one directory per mounted hierarchy (every controller
 * hierarchy and name=systemd), and on a hybrid host also one in the v2
 * hierarchy, which holds whatever controllers v1 does not (hugetlb on the
 * machines this was written on). The process is placed by writing its pid
 * into each cgroup.procs before it is let go.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup.h"

#define F(name) "linux.resources." name

/* A new cpuset cgroup starts with no cpus and no mems: copy the parent's. */
static int cpuset_inherit(const char *dir, berth_error *err)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        _cleanup_free_ char *parent = strdup(dir);
        char *slash;

        if (!parent)
                return berth_error_set(err, ENOMEM, "out of memory");
        slash = strrchr(parent, '/');
        if (!slash)
                return 0;
        *slash = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                _cleanup_free_ char *mine = NULL, *theirs = NULL;
                if (cg_read(dir, files[i], &mine) == 0 && mine[0])
                        continue;
                if (cg_read(parent, files[i], &theirs) < 0)
                        continue;
                if (cg_write(dir, files[i], theirs, NULL, err) < 0)
                        return -1;
        }
        return 0;
}

/* mkdir -p, one level at a time so cpusets can inherit on the way down. */
static int make_dirs(const struct cg_mount *m, const char *dir, bool *ret_created, berth_error *err)
{
        char buf[PATH_MAX];
        size_t start = strlen(m->mountpoint);
        bool cpuset = strstr(m->controllers, "cpuset") != NULL;

        snprintf(buf, sizeof(buf), "%s", dir);
        *ret_created = false;
        for (char *p = buf + start + 1;; p++) {
                if (*p == '/' || *p == '\0') {
                        char c = *p;
                        bool made;
                        *p = '\0';
                        if (cg_mkdir(buf, &made, err) < 0)
                                return -1;
                        if (made && cpuset && cpuset_inherit(buf, err) < 0)
                                return -1;
                        if (c == '\0') {
                                *ret_created = made;
                                return 0;
                        }
                        *p = c;
                }
        }
}

static int v1_create(struct berth_cgroup *cg, berth_error *err)
{
        _cleanup_free_ struct cg_mount *mounts = NULL;
        size_t n = 0;
        int r;

        r = cg_read_mounts(&mounts, &n);
        if (r < 0)
                return berth_error_sys(err, -r, "read /proc/self/mountinfo");
        if (n == 0)
                return berth_error_set(err, ENOENT, "no cgroup hierarchy is mounted");
        for (size_t i = 0; i < n; i++) {
                char dir[PATH_MAX];
                bool created;
                r = cg_dir_in(&mounts[i], cg->path, dir, sizeof(dir));
                if (r < 0)
                        return berth_error_sys(err, -r, "cgroup `%s` in `%s`", cg->path,
                                               mounts[i].mountpoint);
                if (make_dirs(&mounts[i], dir, &created, err) < 0) {
                        /* The hybrid v2 hierarchy only adds hugetlb: not worth failing over. */
                        if (!mounts[i].controllers[0]) {
                                log_debug("%s", berth_error_msg(err));
                                berth_error_release(err);
                                continue;
                        }
                        if (cg->rootless &&
                            (err->code == EACCES || err->code == EPERM || err->code == EROFS)) {
                                log_debug("rootless: %s", berth_error_msg(err));
                                berth_error_release(err);
                                continue;
                        }
                        return -1;
                }
                if (cg_add_dir(cg, mounts[i].controllers, dir, created) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int v1_enter(struct berth_cgroup *cg, pid_t pid, berth_error *err)
{
        for (size_t i = 0; i < cg->n_dirs; i++) {
                int r = cg_writef(cg->dirs[i].path, "cgroup.procs", NULL, err, "%d", (int)pid);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The controller's dir or an error naming the field that needed it. */
static const char *need(const struct berth_cgroup *cg, const char *controller, const char *field,
                        berth_error *err)
{
        const char *d = cg_dir_of(cg, controller);

        if (!d)
                berth_error_set(err, ENOTSUP,
                                "%s: the %s cgroup controller is not mounted on this host", field,
                                controller);
        return d;
}

static int write_i64(const char *dir, const char *file, int64_t v, const char *field,
                     berth_error *err)
{
        return cg_writef(dir, file, field, err, "%lld", (long long)v);
}

/*
 * memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes: raising
 * both writes memsw first, lowering both writes the limit first.
 */
static int apply_memory(const struct berth_cgroup *cg, const struct berth_memory_resources *m,
                        bool update, berth_error *err)
{
        const char *d;
        int r;

        if (!(d = need(cg, "memory", F("memory"), err)))
                return -1;
        if (m->has_limit && m->has_swap && cg_exists(d, "memory.memsw.limit_in_bytes")) {
                r = write_i64(d, "memory.limit_in_bytes", m->limit, F("memory.limit"), err);
                if (r < 0 && (err->code == EINVAL || err->code == EBUSY)) {
                        berth_error_release(err);
                        r = write_i64(d, "memory.memsw.limit_in_bytes", m->swap, F("memory.swap"),
                                      err);
                        if (r < 0)
                                return r;
                        r = write_i64(d, "memory.limit_in_bytes", m->limit, F("memory.limit"), err);
                        if (r < 0)
                                return r;
                } else if (r < 0) {
                        return r;
                } else {
                        r = write_i64(d, "memory.memsw.limit_in_bytes", m->swap, F("memory.swap"),
                                      err);
                        if (r < 0)
                                return r;
                }
        } else {
                if (m->has_limit) {
                        /* Unlimited memory with swap accounting: memsw first. */
                        if (m->limit == -1 && cg_exists(d, "memory.memsw.limit_in_bytes"))
                                write_i64(d, "memory.memsw.limit_in_bytes", -1, NULL, NULL);
                        r = write_i64(d, "memory.limit_in_bytes", m->limit, F("memory.limit"), err);
                        if (r < 0)
                                return r;
                }
                if (m->has_swap) {
                        if (!cg_exists(d, "memory.memsw.limit_in_bytes"))
                                log_warn("%s: swap accounting is off on this host (no "
                                         "memory.memsw.limit_in_bytes); the swap limit is not "
                                         "applied",
                                         F("memory.swap"));
                        else if ((r = write_i64(d, "memory.memsw.limit_in_bytes", m->swap,
                                                F("memory.swap"), err)) < 0)
                                return r;
                }
        }
        if (m->has_reservation) {
                r = write_i64(d, "memory.soft_limit_in_bytes", m->reservation,
                              F("memory.reservation"), err);
                if (r < 0)
                        return r;
        }
        if (m->has_kernel && m->kernel != 0)
                log_warn("%s: kernel memory limits are not supported by Linux 5.16 and later; "
                         "ignored",
                         F("memory.kernel"));
        if (m->has_kernel_tcp) {
                r = write_i64(d, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp,
                              F("memory.kernelTCP"), err);
                if (r < 0)
                        return r;
        }
        if (m->has_swappiness) {
                if (m->swappiness > 100)
                        return berth_error_set(err, EINVAL, "%s: %llu is out of range (0-100)",
                                               F("memory.swappiness"),
                                               (unsigned long long)m->swappiness);
                r = cg_writef(d, "memory.swappiness", F("memory.swappiness"), err, "%llu",
                              (unsigned long long)m->swappiness);
                if (r < 0)
                        return r;
        }
        if (m->has_disable_oom_killer && (m->disable_oom_killer || update)) {
                r = cg_write(d, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                             F("memory.disableOOMKiller"), err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_cpu(const struct berth_cgroup *cg, const struct berth_cpu_resources *c,
                     berth_error *err)
{
        const char *d = NULL;
        int r;

        if (c->has_shares || c->has_quota || c->has_period || c->has_burst || c->has_idle ||
            c->has_realtime_period || c->has_realtime_runtime) {
                if (!(d = need(cg, "cpu", F("cpu"), err)))
                        return -1;
        }
        if (c->has_shares) {
                r = cg_writef(d, "cpu.shares", F("cpu.shares"), err, "%llu",
                              (unsigned long long)c->shares);
                if (r < 0)
                        return r;
        }
        if (c->has_period && c->period) {
                r = cg_writef(d, "cpu.cfs_period_us", F("cpu.period"), err, "%llu",
                              (unsigned long long)c->period);
                if (r < 0)
                        return r;
        }
        if (c->has_quota) {
                r = write_i64(d, "cpu.cfs_quota_us", c->quota > 0 ? c->quota : -1, F("cpu.quota"),
                              err);
                if (r < 0)
                        return r;
        }
        if (c->has_burst) {
                r = cg_writef(d, "cpu.cfs_burst_us", F("cpu.burst"), err, "%llu",
                              (unsigned long long)c->burst);
                if (r < 0)
                        return r;
        }
        if (c->has_realtime_period) {
                r = cg_writef(d, "cpu.rt_period_us", F("cpu.realtimePeriod"), err, "%llu",
                              (unsigned long long)c->realtime_period);
                if (r < 0)
                        return r;
        }
        if (c->has_realtime_runtime) {
                r = write_i64(d, "cpu.rt_runtime_us", c->realtime_runtime, F("cpu.realtimeRuntime"),
                              err);
                if (r < 0)
                        return r;
        }
        if (c->has_idle) {
                r = write_i64(d, "cpu.idle", c->idle, F("cpu.idle"), err);
                if (r < 0)
                        return r;
        }
        if ((c->cpus && *c->cpus) || (c->mems && *c->mems)) {
                if (!(d = need(cg, "cpuset", F("cpu.cpus"), err)))
                        return -1;
                if (c->cpus && *c->cpus &&
                    (r = cg_write(d, "cpuset.cpus", c->cpus, F("cpu.cpus"), err)) < 0)
                        return r;
                if (c->mems && *c->mems &&
                    (r = cg_write(d, "cpuset.mems", c->mems, F("cpu.mems"), err)) < 0)
                        return r;
        }
        return 0;
}

static int write_devices(const char *d, const char *file, const struct berth_block_io_device *v,
                         size_t n, const char *field, berth_error *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = cg_writef(d, file, field, err, "%lld:%lld %llu", (long long)v[i].major,
                                  (long long)v[i].minor, (unsigned long long)v[i].rate);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_blkio(const struct berth_cgroup *cg, const struct berth_block_io_resources *b,
                       berth_error *err)
{
        const char *d, *wfile, *wdfile;
        int r;

        if (!(d = need(cg, "blkio", F("blockIO"), err)))
                return -1;
        /* CFQ's blkio.weight is gone with CFQ; BFQ has the same scale. */
        wfile = cg_exists(d, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
        wdfile = cg_exists(d, "blkio.weight_device") ? "blkio.weight_device"
                                                     : "blkio.bfq.weight_device";
        if (b->has_weight) {
                r = cg_writef(d, wfile, F("blockIO.weight"), err, "%u", b->weight);
                if (r < 0)
                        return r;
        }
        if (b->has_leaf_weight) {
                r = cg_writef(d, "blkio.leaf_weight", F("blockIO.leafWeight"), err, "%u",
                              b->leaf_weight);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct berth_block_io_device *w = &b->weight_device[i];
                if (w->has_weight &&
                    (r = cg_writef(d, wdfile, F("blockIO.weightDevice"), err, "%lld:%lld %u",
                                   (long long)w->major, (long long)w->minor, w->weight)) < 0)
                        return r;
                if (w->has_leaf_weight &&
                    (r = cg_writef(d, "blkio.leaf_weight_device", F("blockIO.weightDevice"), err,
                                   "%lld:%lld %u", (long long)w->major, (long long)w->minor,
                                   w->leaf_weight)) < 0)
                        return r;
        }
        r = write_devices(d, "blkio.throttle.read_bps_device", b->throttle_read_bps,
                          b->n_throttle_read_bps, F("blockIO.throttleReadBpsDevice"), err);
        if (r >= 0)
                r = write_devices(d, "blkio.throttle.write_bps_device", b->throttle_write_bps,
                                  b->n_throttle_write_bps, F("blockIO.throttleWriteBpsDevice"),
                                  err);
        if (r >= 0)
                r = write_devices(d, "blkio.throttle.read_iops_device", b->throttle_read_iops,
                                  b->n_throttle_read_iops, F("blockIO.throttleReadIOPSDevice"),
                                  err);
        if (r >= 0)
                r = write_devices(d, "blkio.throttle.write_iops_device", b->throttle_write_iops,
                                  b->n_throttle_write_iops, F("blockIO.throttleWriteIOPSDevice"),
                                  err);
        return r;
}

/* "c 1:3 rwm", with "*" for wildcards. */
static void device_rule_string(const struct berth_device_cgroup_rule *d, char *buf, size_t size)
{
        char maj[24] = "*", min[24] = "*";
        const char *access = d->access && *d->access ? d->access : "rwm";

        if (d->type == 'a') {
                snprintf(buf, size, "a");
                return;
        }
        if (d->has_major && d->major >= 0)
                snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
        if (d->has_minor && d->minor >= 0)
                snprintf(min, sizeof(min), "%lld", (long long)d->minor);
        snprintf(buf, size, "%c %s:%s %s", d->type, maj, min, access);
}

static int apply_devices(const struct berth_cgroup *cg, const struct berth_resources *res,
                         berth_error *err)
{
        const char *d;

        if (!(d = need(cg, "devices", F("devices"), err)))
                return -1;
        for (size_t i = 0; i < res->n_devices; i++) {
                const struct berth_device_cgroup_rule *rule = &res->devices[i];
                char line[96], field[64];
                int r;
                device_rule_string(rule, line, sizeof(line));
                snprintf(field, sizeof(field), F("devices[%zu]"), i);
                r = cg_write(d, rule->allow ? "devices.allow" : "devices.deny", line, field, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The v2 hierarchy's mount point on a hybrid host, for enabling hugetlb. */
static int v2_mountpoint(char *buf, size_t size)
{
        _cleanup_free_ struct cg_mount *mounts = NULL;
        size_t n = 0;

        if (cg_read_mounts(&mounts, &n) < 0)
                return -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (!mounts[i].controllers[0]) {
                        snprintf(buf, size, "%s", mounts[i].mountpoint);
                        return 0;
                }
        return -ENOENT;
}

static int apply_hugetlb(const struct berth_cgroup *cg, const struct berth_resources *res,
                         berth_error *err)
{
        const char *d = cg_dir_of(cg, "hugetlb");
        bool v2 = false;

        if (!d) {
                /* Hybrid: hugetlb lives in the v2 hierarchy. */
                d = cg_dir_of(cg, "");
                v2 = d != NULL;
                char root[PATH_MAX];
                if (!d)
                        return need(cg, "hugetlb", F("hugepageLimits"), err) ? 0 : -1;
                if (v2_mountpoint(root, sizeof(root)) == 0 &&
                    cg_v2_enable(root, d, "hugetlb", F("hugepageLimits"), err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const struct berth_hugepage_limit *h = &res->hugepage_limits[i];
                char file[96];
                int r;
                snprintf(file, sizeof(file), v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
                         h->page_size);
                r = cg_writef(d, file, F("hugepageLimits"), err, "%llu",
                              (unsigned long long)h->limit);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_network(const struct berth_cgroup *cg, const struct berth_resources *res,
                         berth_error *err)
{
        const char *d;
        int r;

        if (res->has_net_class_id) {
                if (!(d = need(cg, "net_cls", F("network.classID"), err)))
                        return -1;
                r = cg_writef(d, "net_cls.classid", F("network.classID"), err, "%u",
                              res->net_class_id);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < res->n_net_priorities; i++) {
                if (!(d = need(cg, "net_prio", F("network.priorities"), err)))
                        return -1;
                r = cg_writef(d, "net_prio.ifpriomap", F("network.priorities"), err, "%s %u",
                              res->net_priorities[i].name, res->net_priorities[i].priority);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_rdma(const struct berth_cgroup *cg, const struct berth_resources *res,
                      berth_error *err)
{
        const char *d;

        if (res->n_rdma == 0)
                return 0;
        if (!(d = need(cg, "rdma", F("rdma"), err)))
                return -1;
        return cg_write_rdma(d, res, err);
}

/* linux.resources.unified on v1: only keys of controllers in a hybrid v2 hierarchy. */
static int apply_unified(const struct berth_cgroup *cg, const struct berth_resources *res,
                         berth_error *err)
{
        const char *d = cg_dir_of(cg, "");

        for (size_t i = 0; i < res->n_unified; i++) {
                const char *key = res->unified[i].key;
                _cleanup_free_ char *ctl = strndup(key, strcspn(key, "."));
                _cleanup_free_ char *avail = NULL;
                if (!ctl)
                        return berth_error_set(err, ENOMEM, "out of memory");
                if (cg_check_unified_key(key, err) < 0)
                        return -1;
                if (!d || cg_read(d, "cgroup.controllers", &avail) < 0 || !strstr(avail, ctl))
                        return berth_error_set(err, ENOTSUP,
                                               "%s: `%s` needs cgroup v2, and this host's %s "
                                               "controller is on v1",
                                               F("unified"), key, ctl);
                if (cg_write(d, key, res->unified[i].value, F("unified"), err) < 0)
                        return -1;
        }
        return 0;
}

static int v1_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                    berth_error *err)
{
        int r = 0;

        if (cg->rootless && cg->n_dirs == 0) {
                char what[160];
                cg_resources_summary(res, what, sizeof(what));
                if (what[0])
                        log_warn("rootless: no cgroup could be created; linux.resources are not "
                                 "applied (%s)",
                                 what);
                return 0;
        }
        if (res->has_memory && (r = apply_memory(cg, &res->memory, update, err)) < 0)
                return r;
        if (res->has_cpu && (r = apply_cpu(cg, &res->cpu, err)) < 0)
                return r;
        if (res->has_pids_limit) {
                const char *d = need(cg, "pids", F("pids.limit"), err);
                if (!d)
                        return -1;
                r = res->pids_limit > 0
                            ? write_i64(d, "pids.max", res->pids_limit, F("pids.limit"), err)
                            : cg_write(d, "pids.max", "max", F("pids.limit"), err);
                if (r < 0)
                        return r;
        }
        if (res->has_block_io && (r = apply_blkio(cg, &res->block_io, err)) < 0)
                return r;
        if (res->n_devices && (r = apply_devices(cg, res, err)) < 0)
                return r;
        if (res->n_hugepage_limits && (r = apply_hugetlb(cg, res, err)) < 0)
                return r;
        if ((r = apply_network(cg, res, err)) < 0)
                return r;
        if ((r = apply_rdma(cg, res, err)) < 0)
                return r;
        return apply_unified(cg, res, err);
}

static int v1_freeze(struct berth_cgroup *cg, bool frozen, berth_error *err)
{
        const char *d = need(cg, "freezer", frozen ? "pause" : "resume", err);
        const char *want = frozen ? "FROZEN" : "THAWED";

        if (!d)
                return -1;
        for (int i = 0; i < 1000; i++) {
                _cleanup_free_ char *state = NULL;
                int r;
                /* Re-written while FREEZING: a task forked meanwhile needs it. */
                if ((i % 10) == 0 && (r = cg_write(d, "freezer.state", want, NULL, err)) < 0)
                        return r;
                if (cg_read(d, "freezer.state", &state) == 0 && strcmp(state, want) == 0)
                        return 0;
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
        }
        if (frozen)
                cg_write(d, "freezer.state", "THAWED", NULL, NULL);
        return berth_error_set(err, ETIMEDOUT, "%s: `%s/freezer.state` did not become %s",
                               frozen ? "pause" : "resume", d, want);
}

static int v1_is_frozen(const struct berth_cgroup *cg)
{
        const char *d = cg_dir_of(cg, "freezer");
        _cleanup_free_ char *state = NULL;
        int r;

        if (!d)
                return 0;
        r = cg_read(d, "freezer.state", &state);
        if (r < 0)
                return r;
        return strcmp(state, "THAWED") != 0;
}

static const char *v1_procs_dir(const struct berth_cgroup *cg)
{
        static const char *const pref[] = { "pids", "memory", "cpu", "freezer", "devices" };

        for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
                const char *d = cg_dir_of(cg, pref[i]);
                if (d)
                        return d;
        }
        return cg->n_dirs ? cg->dirs[0].path : NULL;
}

/* "1 2 3" -> array. */
static int read_u64_list(const char *dir, const char *file, uint64_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *s = NULL;
        uint64_t *list = NULL;
        size_t n = 0;
        int r = cg_read(dir, file, &s);

        *ret = NULL;
        *ret_n = 0;
        if (r < 0)
                return r;
        for (char *save = NULL, *t = strtok_r(s, " \n", &save); t;
             t = strtok_r(NULL, " \n", &save)) {
                uint64_t v, *nl;
                if (berth_parse_u64(t, &v) < 0)
                        continue;
                nl = realloc(list, (n + 1) * sizeof(*nl));
                if (!nl) {
                        free(list);
                        return -ENOMEM;
                }
                list = nl;
                list[n++] = v;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static void mem_entry(const char *d, const char *prefix, struct berth_stats_memory_entry *e)
{
        char f[96];

        snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
        cg_read_u64(d, f, &e->usage);
        snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
        cg_read_u64(d, f, &e->max);
        snprintf(f, sizeof(f), "%s.failcnt", prefix);
        cg_read_u64(d, f, &e->failcnt);
        snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
        cg_read_u64(d, f, &e->limit);
}

/* "8:0 Read 123" lines. */
static int read_blkio(const char *d, const char *file, struct berth_stats_blkio_entry **ret,
                      size_t *ret_n)
{
        static const char *const ops[] = { "Read", "Write", "Sync", "Async", "Discard", "Total" };
        _cleanup_free_ char *s = NULL;
        struct berth_stats_blkio_entry *list = NULL;
        size_t n = 0;

        if (cg_read(d, file, &s) < 0)
                return 0;
        for (char *save = NULL, *line = strtok_r(s, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                unsigned maj, min;
                unsigned long long v;
                char op[16];
                const char *opname = NULL;
                struct berth_stats_blkio_entry *nl;
                if (sscanf(line, "%u:%u %15s %llu", &maj, &min, op, &v) != 4)
                        continue;
                for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                        if (strcmp(op, ops[i]) == 0)
                                opname = ops[i];
                if (!opname)
                        continue;
                nl = realloc(list, (n + 1) * sizeof(*nl));
                if (!nl)
                        break;
                list = nl;
                list[n++] = (struct berth_stats_blkio_entry){ maj, min, opname, v };
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static int v1_stats(const struct berth_cgroup *cg, struct berth_stats *st, berth_error *err)
{
        const char *d;
        long hz = sysconf(_SC_CLK_TCK);
        size_t n;

        (void)err;
        if ((d = cg_dir_of(cg, "cpuacct"))) {
                uint64_t u = 0, s = 0;
                cg_read_u64(d, "cpuacct.usage", &st->cpu.total);
                read_u64_list(d, "cpuacct.usage_percpu", &st->cpu.percpu, &st->cpu.n_percpu);
                read_u64_list(d, "cpuacct.usage_percpu_sys", &st->cpu.percpu_kernel, &n);
                read_u64_list(d, "cpuacct.usage_percpu_user", &st->cpu.percpu_user, &n);
                /* cpuacct.stat counts USER_HZ ticks. */
                if (cg_read_keyed(d, "cpuacct.stat", "user", &u) == 0 && hz > 0)
                        st->cpu.user = u * (1000000000ull / (uint64_t)hz);
                if (cg_read_keyed(d, "cpuacct.stat", "system", &s) == 0 && hz > 0)
                        st->cpu.kernel = s * (1000000000ull / (uint64_t)hz);
        }
        if ((d = cg_dir_of(cg, "cpu"))) {
                cg_read_keyed(d, "cpu.stat", "nr_periods", &st->cpu.periods);
                cg_read_keyed(d, "cpu.stat", "nr_throttled", &st->cpu.throttled_periods);
                cg_read_keyed(d, "cpu.stat", "throttled_time", &st->cpu.throttled_time);
        }
        if ((d = cg_dir_of(cg, "cpuset")))
                cg_read_cpuset(d, false, st);
        if ((d = cg_dir_of(cg, "memory"))) {
                uint64_t h = 0;
                mem_entry(d, "memory", &st->memory.usage);
                if ((st->memory.has_swap = cg_exists(d, "memory.memsw.usage_in_bytes")))
                        mem_entry(d, "memory.memsw", &st->memory.swap);
                if ((st->memory.has_kernel = cg_exists(d, "memory.kmem.usage_in_bytes")))
                        mem_entry(d, "memory.kmem", &st->memory.kernel);
                if ((st->memory.has_kernel_tcp = cg_exists(d, "memory.kmem.tcp.usage_in_bytes")))
                        mem_entry(d, "memory.kmem.tcp", &st->memory.kernel_tcp);
                cg_read_raw(d, "memory.stat", &st->memory.raw, &st->memory.n_raw);
                cg_read_keyed(d, "memory.stat", "cache", &st->memory.cache);
                st->memory.use_hierarchy = cg_read_u64(d, "memory.use_hierarchy", &h) == 0 && h;
        }
        if ((d = cg_dir_of(cg, "pids"))) {
                cg_read_u64(d, "pids.current", &st->pids.current);
                if (cg_read_u64(d, "pids.max", &st->pids.limit) == 0 &&
                    st->pids.limit == UINT64_MAX)
                        st->pids.limit = 0;
        }
        if ((d = cg_dir_of(cg, "blkio"))) {
                const char *bytes = cg_exists(d, "blkio.io_service_bytes_recursive")
                                            ? "blkio.io_service_bytes_recursive"
                                            : "blkio.throttle.io_service_bytes_recursive";
                const char *ios = cg_exists(d, "blkio.io_serviced_recursive")
                                          ? "blkio.io_serviced_recursive"
                                          : "blkio.throttle.io_serviced_recursive";
                read_blkio(d, bytes, &st->blkio.service_bytes, &st->blkio.n_service_bytes);
                read_blkio(d, ios, &st->blkio.serviced, &st->blkio.n_serviced);
        }
        return 0;
}

/* cgroup.event_control: an eventfd signalled on every OOM in the memory cgroup. */
static int v1_oom_watch(const struct berth_cgroup *cg, berth_error *err)
{
        const char *d = cg_dir_of(cg, "memory");
        char path[PATH_MAX], line[64];
        _cleanup_close_ int efd = -1, ofd = -1;

        if (!d)
                return berth_error_set(err, ENOTSUP, "no memory cgroup");
        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        snprintf(path, sizeof(path), "%s/memory.oom_control", d);
        ofd = open(path, O_RDONLY | O_CLOEXEC);
        if (efd < 0 || ofd < 0)
                return berth_error_sys(err, errno, "watch `%s`", path);
        snprintf(line, sizeof(line), "%d %d", efd, ofd);
        if (cg_write(d, "cgroup.event_control", line, NULL, err) < 0)
                return -1;
        return TAKE_FD(efd);
}

static int64_t v1_oom_kills(const struct berth_cgroup *cg)
{
        const char *d = cg_dir_of(cg, "memory");
        uint64_t n = 0;
        int r;

        if (!d)
                return -ENOENT;
        r = cg_read_keyed(d, "memory.oom_control", "oom_kill", &n);
        return r < 0 ? r : (int64_t)n;
}

const struct cgroup_driver cgroup_v1_driver = {
        .name = "cgroupfs-v1",
        .create = v1_create,
        .apply = v1_apply,
        .enter = v1_enter,
        .freeze = v1_freeze,
        .is_frozen = v1_is_frozen,
        .procs_dir = v1_procs_dir,
        .stats = v1_stats,
        .oom_watch = v1_oom_watch,
        .oom_kills = v1_oom_kills,
};
