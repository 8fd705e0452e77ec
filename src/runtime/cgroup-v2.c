/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroupfs on the unified (v2) hierarchy: one directory, controllers
 * enabled along the path to it, the process born into it with clone3's
 * CLONE_INTO_CGROUP. v1-style values in linux.resources are converted as
 * crun documents (cpu.shares -> cpu.weight, blkio.weight -> io.weight,
 * memory+swap -> swap alone); devices become an eBPF program.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup-bpf.h"
#include "runtime/cgroup.h"

#define F(name) "linux.resources." name

static int v2_root(char *buf, size_t size, const struct cg_mount **ret_m, struct cg_mount *mounts,
                   size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!mounts[i].controllers[0]) {
                        snprintf(buf, size, "%s", mounts[i].mountpoint);
                        *ret_m = &mounts[i];
                        return 0;
                }
        return -ENOENT;
}

static int v2_create(struct berth_cgroup *cg, berth_error *err)
{
        _cleanup_free_ struct cg_mount *mounts = NULL;
        const struct cg_mount *m = NULL;
        char root[PATH_MAX], dir[PATH_MAX];
        size_t n = 0;
        bool created = false;
        int r;

        r = cg_read_mounts(&mounts, &n);
        if (r < 0)
                return berth_error_sys(err, -r, "read /proc/self/mountinfo");
        if (v2_root(root, sizeof(root), &m, mounts, n) < 0)
                return berth_error_set(err, ENOENT, "no cgroup2 hierarchy is mounted");
        r = cg_dir_in(m, cg->path, dir, sizeof(dir));
        if (r < 0)
                return berth_error_sys(err, -r, "cgroup `%s`", cg->path);
        /* mkdir -p: intermediate levels are left in place at delete, like runc's. */
        for (char *p = dir + strlen(root) + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                r = cg_mkdir(dir, &created, err);
                *p = c;
                if (r < 0) {
                        if (cg->rootless &&
                            (err->code == EACCES || err->code == EPERM || err->code == EROFS)) {
                                log_debug("rootless: %s", berth_error_msg(err));
                                berth_error_release(err);
                                return 0;
                        }
                        return r;
                }
                if (c == '\0')
                        break;
        }
        if (cg_add_dir(cg, "", dir, created) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return cg_v2_enable(root, dir, NULL, NULL, err);
}

static int v2_enter(struct berth_cgroup *cg, pid_t pid, berth_error *err)
{
        const char *d = cg_dir_of(cg, "");

        if (!d)
                return 0;
        return cg_writef(d, "cgroup.procs", NULL, err, "%d", (int)pid);
}

static int write_max(const char *d, const char *file, int64_t v, const char *field,
                     berth_error *err)
{
        if (v < 0)
                return cg_write(d, file, "max", field, err);
        return cg_writef(d, file, field, err, "%lld", (long long)v);
}

static int apply_memory(const char *d, const struct berth_memory_resources *m, bool update,
                        berth_error *err)
{
        int r;

        if (m->has_limit && (r = write_max(d, "memory.max", m->limit, F("memory.limit"), err)) < 0)
                return r;
        if (m->has_reservation &&
            (r = write_max(d, "memory.low", m->reservation, F("memory.reservation"), err)) < 0)
                return r;
        /* OCI's swap is memory+swap; v2's memory.swap.max is the swap alone. */
        if (m->has_swap && m->swap != 0) {
                int64_t limit = m->has_limit ? m->limit : -1;
                if (!m->has_limit && update) {
                        uint64_t cur;
                        if (cg_read_u64(d, "memory.max", &cur) == 0 && cur != UINT64_MAX)
                                limit = (int64_t)cur;
                }
                if (m->swap > 0 && limit < 0)
                        return berth_error_set(err, EINVAL, "%s: a swap limit needs a memory limit",
                                               F("memory.swap"));
                if (m->swap > 0 && m->swap < limit)
                        return berth_error_set(err, EINVAL,
                                               "%s: %lld is below memory.limit %lld (swap counts "
                                               "memory plus swap)",
                                               F("memory.swap"), (long long)m->swap,
                                               (long long)limit);
                if (!cg_exists(d, "memory.swap.max"))
                        log_warn("%s: swap accounting is off on this host; not applied",
                                 F("memory.swap"));
                else if ((r = write_max(d, "memory.swap.max", m->swap < 0 ? -1 : m->swap - limit,
                                        F("memory.swap"), err)) < 0)
                        return r;
        }
        if (m->has_swappiness && m->swappiness != 0)
                log_warn("%s: cgroup v2 has no per-cgroup swappiness; ignored",
                         F("memory.swappiness"));
        if (m->has_disable_oom_killer && m->disable_oom_killer)
                log_warn("%s: cgroup v2 cannot disable the OOM killer; ignored",
                         F("memory.disableOOMKiller"));
        if ((m->has_kernel && m->kernel) || (m->has_kernel_tcp && m->kernel_tcp))
                log_warn("%s: cgroup v2 has no kernel memory limit; ignored", F("memory.kernel"));
        return 0;
}

static int apply_cpu(const char *d, const struct berth_cpu_resources *c, berth_error *err)
{
        int r;

        if (c->has_shares && c->shares &&
            (r = cg_writef(d, "cpu.weight", F("cpu.shares"), err, "%llu",
                           (unsigned long long)cg_cpu_shares_to_weight(c->shares))) < 0)
                return r;
        if (c->has_quota || c->has_period) {
                uint64_t period = c->has_period && c->period ? c->period : 100000;
                char quota[32] = "max";
                _cleanup_free_ char *cur = NULL;
                /* What is not given keeps its current value (runc's update). */
                bool have_cur = cg_read(d, "cpu.max", &cur) == 0;
                if (c->has_quota && c->quota > 0)
                        snprintf(quota, sizeof(quota), "%lld", (long long)c->quota);
                else if (!c->has_quota && have_cur)
                        snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(cur, " "), cur);
                if (!(c->has_period && c->period) && have_cur && strchr(cur, ' '))
                        berth_parse_u64(strchr(cur, ' ') + 1, &period);
                r = cg_writef(d, "cpu.max", c->has_quota ? F("cpu.quota") : F("cpu.period"), err,
                              "%s %llu", quota, (unsigned long long)period);
                if (r < 0)
                        return r;
        }
        if (c->has_burst && (r = cg_writef(d, "cpu.max.burst", F("cpu.burst"), err, "%llu",
                                           (unsigned long long)c->burst)) < 0)
                return r;
        if (c->has_idle &&
            (r = cg_writef(d, "cpu.idle", F("cpu.idle"), err, "%lld", (long long)c->idle)) < 0)
                return r;
        if ((c->has_realtime_runtime && c->realtime_runtime) ||
            (c->has_realtime_period && c->realtime_period))
                return berth_error_set(err, ENOTSUP,
                                       "%s: cgroup v2 has no realtime bandwidth control",
                                       F("cpu.realtimeRuntime"));
        if (c->cpus && *c->cpus &&
            (r = cg_write(d, "cpuset.cpus", c->cpus, F("cpu.cpus"), err)) < 0)
                return r;
        if (c->mems && *c->mems &&
            (r = cg_write(d, "cpuset.mems", c->mems, F("cpu.mems"), err)) < 0)
                return r;
        return 0;
}

static int write_io_max(const char *d, const char *key, const struct berth_block_io_device *v,
                        size_t n, const char *field, berth_error *err)
{
        for (size_t i = 0; i < n; i++) {
                int r = cg_writef(d, "io.max", field, err, "%lld:%lld %s=%llu",
                                  (long long)v[i].major, (long long)v[i].minor, key,
                                  (unsigned long long)v[i].rate);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_io(const char *d, const struct berth_block_io_resources *b, berth_error *err)
{
        /* io.weight needs the iocost controller; BFQ's io.bfq.weight takes blkio's scale. */
        bool io_weight = cg_exists(d, "io.weight");
        const char *wfile = io_weight ? "io.weight" : "io.bfq.weight";
        int r;

        if (b->has_weight && b->weight) {
                uint64_t w = io_weight ? cg_blkio_weight_to_io_weight(b->weight) : b->weight;
                r = cg_writef(d, wfile, F("blockIO.weight"), err, "default %llu",
                              (unsigned long long)w);
                if (r < 0)
                        return r;
        }
        if (b->has_leaf_weight)
                log_warn("%s: cgroup v2 has no leaf weight; ignored", F("blockIO.leafWeight"));
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const struct berth_block_io_device *w = &b->weight_device[i];
                uint64_t v;
                if (!w->has_weight)
                        continue;
                v = io_weight ? cg_blkio_weight_to_io_weight(w->weight) : w->weight;
                r = cg_writef(d, wfile, F("blockIO.weightDevice"), err, "%lld:%lld %llu",
                              (long long)w->major, (long long)w->minor, (unsigned long long)v);
                if (r < 0)
                        return r;
        }
        r = write_io_max(d, "rbps", b->throttle_read_bps, b->n_throttle_read_bps,
                         F("blockIO.throttleReadBpsDevice"), err);
        if (r >= 0)
                r = write_io_max(d, "wbps", b->throttle_write_bps, b->n_throttle_write_bps,
                                 F("blockIO.throttleWriteBpsDevice"), err);
        if (r >= 0)
                r = write_io_max(d, "riops", b->throttle_read_iops, b->n_throttle_read_iops,
                                 F("blockIO.throttleReadIOPSDevice"), err);
        if (r >= 0)
                r = write_io_max(d, "wiops", b->throttle_write_iops, b->n_throttle_write_iops,
                                 F("blockIO.throttleWriteIOPSDevice"), err);
        return r;
}

static int apply_devices(const char *d, const struct berth_resources *res, berth_error *err)
{
        _cleanup_close_ int prog = -1, dfd = -1;
        int r;

        r = berth_cgroup_bpf_devices_load(res->devices, res->n_devices, &prog, err);
        if (r < 0)
                return berth_error_prefix(err, F("devices"));
        dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_error_sys(err, errno, "%s: open `%s`", F("devices"), d);
        r = berth_cgroup_bpf_devices_attach(dfd, prog, err);
        return r < 0 ? berth_error_prefix(err, F("devices")) : 0;
}

static int apply_rest(const char *d, const struct berth_resources *res, berth_error *err)
{
        int r;

        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                char file[96];
                snprintf(file, sizeof(file), "hugetlb.%s.max", res->hugepage_limits[i].page_size);
                r = cg_writef(d, file, F("hugepageLimits"), err, "%llu",
                              (unsigned long long)res->hugepage_limits[i].limit);
                if (r < 0)
                        return r;
        }
        if (res->has_net_class_id || res->n_net_priorities)
                return berth_error_set(err, ENOTSUP,
                                       "%s: cgroup v2 has no net_cls or net_prio controller",
                                       F("network"));
        if (cg_write_rdma(d, res, err) < 0)
                return -1;
        for (size_t i = 0; i < res->n_unified; i++) {
                const char *key = res->unified[i].key;
                if (cg_check_unified_key(key, err) < 0)
                        return -1;
                r = cg_write(d, key, res->unified[i].value, F("unified"), err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v2_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                    berth_error *err)
{
        const char *d = cg_dir_of(cg, "");
        int r;

        if (!d) {
                char what[160];
                cg_resources_summary(res, what, sizeof(what));
                if (what[0])
                        log_warn("rootless: no cgroup could be created (is a cgroup delegated "
                                 "to this user?); linux.resources are not applied (%s)",
                                 what);
                return 0;
        }
        if (res->has_memory && (r = apply_memory(d, &res->memory, update, err)) < 0)
                return r;
        if (res->has_cpu && (r = apply_cpu(d, &res->cpu, err)) < 0)
                return r;
        if (res->has_pids_limit &&
            (r = write_max(d, "pids.max", res->pids_limit > 0 ? res->pids_limit : -1,
                           F("pids.limit"), err)) < 0)
                return r;
        if (res->has_block_io && (r = apply_io(d, &res->block_io, err)) < 0)
                return r;
        if (res->n_devices && (r = apply_devices(d, res, err)) < 0)
                return r;
        return apply_rest(d, res, err);
}

static int v2_is_frozen(const struct berth_cgroup *cg)
{
        const char *d = cg_dir_of(cg, "");
        uint64_t v = 0;
        int r;

        if (!d)
                return 0;
        r = cg_read_keyed(d, "cgroup.events", "frozen", &v);
        return r < 0 ? r : v != 0;
}

static int v2_freeze(struct berth_cgroup *cg, bool frozen, berth_error *err)
{
        const char *d = cg_dir_of(cg, "");
        int r;

        if (!d)
                return berth_error_set(err, ENOTSUP, "%s: no cgroup to freeze",
                                       frozen ? "pause" : "resume");
        r = cg_write(d, "cgroup.freeze", frozen ? "1" : "0", frozen ? "pause" : "resume", err);
        if (r < 0)
                return r;
        for (int i = 0; i < 2000; i++) {
                if (v2_is_frozen(cg) == (int)frozen)
                        return 0;
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
        }
        return berth_error_set(err, ETIMEDOUT, "%s: `%s` did not become %s",
                               frozen ? "pause" : "resume", d, frozen ? "frozen" : "thawed");
}

static const char *v2_procs_dir(const struct berth_cgroup *cg)
{
        return cg_dir_of(cg, "");
}

/* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" lines, in runc's Read/Write terms. */
static void read_io_stat(const char *d, struct berth_stats *st)
{
        _cleanup_free_ char *s = NULL;

        if (cg_read(d, "io.stat", &s) < 0)
                return;
        for (char *save = NULL, *line = strtok_r(s, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                static const struct {
                        const char *key, *op;
                        bool bytes;
                } keys[] = {
                        { "rbytes", "Read", true },    { "wbytes", "Write", true },
                        { "dbytes", "Discard", true }, { "rios", "Read", false },
                        { "wios", "Write", false },    { "dios", "Discard", false },
                };
                unsigned maj, min;
                int off = 0;
                if (sscanf(line, "%u:%u%n", &maj, &min, &off) != 2)
                        continue;
                for (char *save2 = NULL, *kv = strtok_r(line + off, " ", &save2); kv;
                     kv = strtok_r(NULL, " ", &save2)) {
                        char *eq = strchr(kv, '=');
                        uint64_t v;
                        if (!eq || berth_parse_u64(eq + 1, &v) < 0)
                                continue;
                        *eq = '\0';
                        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                                struct berth_stats_blkio_entry **list;
                                size_t *n;
                                struct berth_stats_blkio_entry *nl;
                                if (strcmp(kv, keys[k].key) != 0)
                                        continue;
                                list = keys[k].bytes ? &st->blkio.service_bytes
                                                     : &st->blkio.serviced;
                                n = keys[k].bytes ? &st->blkio.n_service_bytes
                                                  : &st->blkio.n_serviced;
                                nl = realloc(*list, (*n + 1) * sizeof(*nl));
                                if (!nl)
                                        return;
                                *list = nl;
                                nl[(*n)++] =
                                        (struct berth_stats_blkio_entry){ maj, min, keys[k].op, v };
                        }
                }
        }
}

static void read_hugetlb(const char *d, struct berth_stats *st)
{
        static const char *const sizes[] = { "2MB", "1GB" };

        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
                char f[64];
                struct berth_stats_hugetlb h = { 0 }, *nl;
                snprintf(f, sizeof(f), "hugetlb.%s.current", sizes[i]);
                if (cg_read_u64(d, f, &h.usage) < 0)
                        continue;
                snprintf(f, sizeof(f), "hugetlb.%s.max", sizes[i]);
                cg_read_u64(d, f, &h.max);
                snprintf(f, sizeof(f), "hugetlb.%s.events", sizes[i]);
                cg_read_keyed(d, f, "max", &h.failcnt);
                h.page_size = strdup(sizes[i]);
                nl = realloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*nl));
                if (!nl || !h.page_size) {
                        free(h.page_size);
                        if (nl)
                                st->hugetlb = nl;
                        return;
                }
                st->hugetlb = nl;
                nl[st->n_hugetlb++] = h;
        }
}

static int v2_stats(const struct berth_cgroup *cg, struct berth_stats *st, berth_error *err)
{
        const char *d = cg_dir_of(cg, "");
        uint64_t v;

        (void)err;
        if (!d)
                return 0;
        /* cpu.stat counts microseconds; runc reports nanoseconds. */
        if (cg_read_keyed(d, "cpu.stat", "usage_usec", &v) == 0)
                st->cpu.total = v * 1000;
        if (cg_read_keyed(d, "cpu.stat", "user_usec", &v) == 0)
                st->cpu.user = v * 1000;
        if (cg_read_keyed(d, "cpu.stat", "system_usec", &v) == 0)
                st->cpu.kernel = v * 1000;
        cg_read_keyed(d, "cpu.stat", "nr_periods", &st->cpu.periods);
        cg_read_keyed(d, "cpu.stat", "nr_throttled", &st->cpu.throttled_periods);
        if (cg_read_keyed(d, "cpu.stat", "throttled_usec", &v) == 0)
                st->cpu.throttled_time = v * 1000;

        cg_read_cpuset(d, true, st);
        cg_read_u64(d, "memory.current", &st->memory.usage.usage);
        cg_read_u64(d, "memory.max", &st->memory.usage.limit);
        cg_read_u64(d, "memory.peak", &st->memory.usage.max);
        cg_read_keyed(d, "memory.events", "max", &st->memory.usage.failcnt);
        if ((st->memory.has_swap = cg_exists(d, "memory.swap.current"))) {
                cg_read_u64(d, "memory.swap.current", &st->memory.swap.usage);
                cg_read_u64(d, "memory.swap.max", &st->memory.swap.limit);
                cg_read_u64(d, "memory.swap.peak", &st->memory.swap.max);
                cg_read_keyed(d, "memory.swap.events", "max", &st->memory.swap.failcnt);
                /* runc reports swap as memory+swap, the v1 way. */
                st->memory.swap.usage += st->memory.usage.usage;
                if (st->memory.swap.limit != UINT64_MAX && st->memory.usage.limit != UINT64_MAX)
                        st->memory.swap.limit += st->memory.usage.limit;
        }
        cg_read_raw(d, "memory.stat", &st->memory.raw, &st->memory.n_raw);
        cg_read_keyed(d, "memory.stat", "file", &st->memory.cache);
        st->memory.use_hierarchy = true;

        cg_read_u64(d, "pids.current", &st->pids.current);
        if (cg_read_u64(d, "pids.max", &st->pids.limit) == 0 && st->pids.limit == UINT64_MAX)
                st->pids.limit = 0;
        read_io_stat(d, st);
        read_hugetlb(d, st);
        return 0;
}

/* memory.events changes (an inotify IN_MODIFY) whenever one of its counters moves. */
static int v2_oom_watch(const struct berth_cgroup *cg, berth_error *err)
{
        const char *d = cg_dir_of(cg, "");
        char path[PATH_MAX];
        _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

        if (!d)
                return berth_error_set(err, ENOTSUP, "no cgroup");
        snprintf(path, sizeof(path), "%s/memory.events", d);
        if (fd < 0 || inotify_add_watch(fd, path, IN_MODIFY) < 0)
                return berth_error_sys(err, errno, "watch `%s`", path);
        return TAKE_FD(fd);
}

static int64_t v2_oom_kills(const struct berth_cgroup *cg)
{
        const char *d = cg_dir_of(cg, "");
        uint64_t n = 0;
        int r;

        if (!d)
                return -ENOENT;
        r = cg_read_keyed(d, "memory.events", "oom_kill", &n);
        return r < 0 ? r : (int64_t)n;
}

const struct cgroup_driver cgroup_v2_driver = {
        .name = "cgroupfs-v2",
        .create = v2_create,
        .apply = v2_apply,
        .enter = v2_enter,
        .freeze = v2_freeze,
        .is_frozen = v2_is_frozen,
        .procs_dir = v2_procs_dir,
        .stats = v2_stats,
        .oom_watch = v2_oom_watch,
        .oom_kills = v2_oom_kills,
};
