/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a running container's cgroup offers its callers: update, pause and
 * resume, statistics and the event stream of `events` (stats on an
 * interval, OOM kills as they happen), in runc's JSON shapes.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/log.h"
#include "runtime/cgroup.h"
#include "runtime/linux.h"

/* The container's state and cgroup; an error when it has none to work on. */
static int load(const struct berth_runtime *rt, const char *id, struct berth_state **ret_s,
                struct berth_cgroup **ret_cg, berth_error *err)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        r = berth_state_load(rt, id, ret_s, err);
        if (r < 0)
                return r;
        if ((*ret_s)->status == BERTH_STATUS_STOPPED)
                return berth_error_set(err, EINVAL, "container `%s` is not running", id);
        r = berth_state_dir(rt, id, &dir, err);
        if (r < 0)
                return r;
        r = berth_cgroup_load(dir, ret_cg, err);
        if (r < 0)
                return r;
        if (!*ret_cg || (*ret_cg)->n_dirs == 0)
                return berth_error_set(err, ENOTSUP,
                                       "container `%s` has no cgroup (created with the cgroup "
                                       "manager disabled, or rootless without delegation)",
                                       id);
        return 0;
}

int berth_container_update(const struct berth_runtime *rt, const char *id,
                           const struct berth_resources *res, berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = load(rt, id, &s, &cg, err);

        if (r < 0)
                return r;
        return berth_cgroup_apply(cg, res, true, err);
}

int berth_container_pause(const struct berth_runtime *rt, const char *id, berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = load(rt, id, &s, &cg, err);

        if (r < 0)
                return r;
        if (s->status == BERTH_STATUS_PAUSED)
                return 0;
        if (s->status != BERTH_STATUS_RUNNING)
                return berth_error_set(err, EINVAL, "container `%s` is not running", id);
        return berth_cgroup_freeze(cg, true, err);
}

int berth_container_resume(const struct berth_runtime *rt, const char *id, berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = load(rt, id, &s, &cg, err);

        if (r < 0)
                return r;
        if (s->status != BERTH_STATUS_PAUSED)
                return berth_error_set(err, EINVAL, "container `%s` is not paused", id);
        return berth_cgroup_freeze(cg, false, err);
}

void berth_stats_release(struct berth_stats *st)
{
        free(st->cpu.percpu);
        free(st->cpu.percpu_kernel);
        free(st->cpu.percpu_user);
        free(st->cpuset.cpus);
        free(st->cpuset.mems);
        for (size_t i = 0; i < st->memory.n_raw; i++) {
                free(st->memory.raw[i].key);
                free(st->memory.raw[i].value);
        }
        free(st->memory.raw);
        free(st->blkio.service_bytes);
        free(st->blkio.serviced);
        for (size_t i = 0; i < st->n_hugetlb; i++)
                free(st->hugetlb[i].page_size);
        free(st->hugetlb);
        memset(st, 0, sizeof(*st));
}

static int cgroup_stats(const struct berth_cgroup *cg, struct berth_stats *ret, berth_error *err)
{
        int r;

        memset(ret, 0, sizeof(*ret));
        r = cg->driver->stats(cg, ret, err);
        if (r < 0)
                berth_stats_release(ret);
        return r;
}

int berth_container_stats(const struct berth_runtime *rt, const char *id, struct berth_stats *ret,
                          berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        int r = load(rt, id, &s, &cg, err);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        return cgroup_stats(cg, ret, err);
}

/* ---- JSON, with runc's keys (and its omitempty: zeros left out where runc does) ---- */

static void add_u64(json_object *o, const char *key, uint64_t v, bool omit_zero)
{
        if (v || !omit_zero)
                json_object_object_add(o, key, json_object_new_uint64(v));
}

static json_object *u64_array(const uint64_t *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_uint64(v[i]));
        return a;
}

static json_object *memory_entry(const struct berth_stats_memory_entry *e)
{
        json_object *o = json_object_new_object();

        add_u64(o, "limit", e->limit, false);
        add_u64(o, "usage", e->usage, true);
        add_u64(o, "max", e->max, true);
        add_u64(o, "failcnt", e->failcnt, false);
        return o;
}

static json_object *blkio_list(const struct berth_stats_blkio_entry *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_new_object();
                add_u64(e, "major", v[i].major, true);
                add_u64(e, "minor", v[i].minor, true);
                json_object_object_add(e, "op", json_object_new_string(v[i].op));
                add_u64(e, "value", v[i].value, true);
                json_object_array_add(a, e);
        }
        return a;
}

static json_object *cpu_object(const struct berth_stats *st)
{
        json_object *cpu = json_object_new_object(), *usage = json_object_new_object(),
                    *thr = json_object_new_object();

        add_u64(usage, "total", st->cpu.total, true);
        if (st->cpu.n_percpu)
                json_object_object_add(usage, "percpu",
                                       u64_array(st->cpu.percpu, st->cpu.n_percpu));
        if (st->cpu.percpu_kernel)
                json_object_object_add(usage, "percpu_kernel",
                                       u64_array(st->cpu.percpu_kernel, st->cpu.n_percpu));
        if (st->cpu.percpu_user)
                json_object_object_add(usage, "percpu_user",
                                       u64_array(st->cpu.percpu_user, st->cpu.n_percpu));
        add_u64(usage, "kernel", st->cpu.kernel, false);
        add_u64(usage, "user", st->cpu.user, false);
        add_u64(thr, "periods", st->cpu.periods, true);
        add_u64(thr, "throttledPeriods", st->cpu.throttled_periods, true);
        add_u64(thr, "throttledTime", st->cpu.throttled_time, true);
        json_object_object_add(cpu, "usage", usage);
        json_object_object_add(cpu, "throttling", thr);
        return cpu;
}

static json_object *u32_array(const uint32_t *v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_uint64(v[i]));
        return a;
}

static json_object *cpuset_object(const struct berth_stats *st)
{
        json_object *o = json_object_new_object();

        if (st->cpuset.n_cpus)
                json_object_object_add(o, "cpus", u32_array(st->cpuset.cpus, st->cpuset.n_cpus));
        if (st->cpuset.n_mems)
                json_object_object_add(o, "mems", u32_array(st->cpuset.mems, st->cpuset.n_mems));
        add_u64(o, "memory_migrate", st->cpuset.memory_migrate, false);
        add_u64(o, "cpu_exclusive", st->cpuset.cpu_exclusive, false);
        add_u64(o, "mem_exclusive", st->cpuset.mem_exclusive, false);
        add_u64(o, "mem_hardwall", st->cpuset.mem_hardwall, false);
        add_u64(o, "memory_pressure", st->cpuset.memory_pressure, false);
        add_u64(o, "memory_spread_page", st->cpuset.memory_spread_page, false);
        add_u64(o, "memory_spread_slab", st->cpuset.memory_spread_slab, false);
        add_u64(o, "sched_load_balance", st->cpuset.sched_load_balance, false);
        json_object_object_add(o, "sched_relax_domain_level",
                               json_object_new_int64(st->cpuset.sched_relax_domain_level));
        return o;
}

static json_object *memory_object(const struct berth_stats *st)
{
        json_object *mem = json_object_new_object(), *raw = json_object_new_object();

        add_u64(mem, "cache", st->memory.cache, true);
        json_object_object_add(mem, "usage", memory_entry(&st->memory.usage));
        if (st->memory.has_swap)
                json_object_object_add(mem, "swap", memory_entry(&st->memory.swap));
        if (st->memory.has_kernel)
                json_object_object_add(mem, "kernel", memory_entry(&st->memory.kernel));
        if (st->memory.has_kernel_tcp)
                json_object_object_add(mem, "kernelTCP", memory_entry(&st->memory.kernel_tcp));
        for (size_t i = 0; i < st->memory.n_raw; i++) {
                uint64_t v;
                if (berth_parse_u64(st->memory.raw[i].value, &v) == 0)
                        json_object_object_add(raw, st->memory.raw[i].key,
                                               json_object_new_uint64(v));
        }
        json_object_object_add(mem, "raw", raw);
        return mem;
}

int berth_stats_to_json(const char *id, const struct berth_stats *st, char **ret, berth_error *err)
{
        json_object *o = json_object_new_object(), *data = json_object_new_object();
        json_object *pids = json_object_new_object(), *blkio = json_object_new_object();
        json_object *huge = json_object_new_object();
        const char *s;

        json_object_object_add(o, "type", json_object_new_string("stats"));
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(data, "cpu", cpu_object(st));
        if (st->cpuset.present)
                json_object_object_add(data, "cpuset", cpuset_object(st));
        json_object_object_add(data, "memory", memory_object(st));
        add_u64(pids, "current", st->pids.current, true);
        add_u64(pids, "limit", st->pids.limit, true);
        json_object_object_add(data, "pids", pids);
        if (st->blkio.n_service_bytes)
                json_object_object_add(
                        blkio, "ioServiceBytesRecursive",
                        blkio_list(st->blkio.service_bytes, st->blkio.n_service_bytes));
        if (st->blkio.n_serviced)
                json_object_object_add(blkio, "ioServicedRecursive",
                                       blkio_list(st->blkio.serviced, st->blkio.n_serviced));
        json_object_object_add(data, "blkio", blkio);
        for (size_t i = 0; i < st->n_hugetlb; i++) {
                json_object *h = json_object_new_object();
                add_u64(h, "usage", st->hugetlb[i].usage, true);
                add_u64(h, "max", st->hugetlb[i].max, true);
                add_u64(h, "failcnt", st->hugetlb[i].failcnt, false);
                json_object_object_add(huge, st->hugetlb[i].page_size, h);
        }
        json_object_object_add(data, "hugetlb", huge);
        json_object_object_add(data, "intel_rdt", json_object_new_object());
        json_object_object_add(data, "network_interfaces", NULL);
        json_object_object_add(o, "data", data);
        s = json_object_to_json_string_ext(o,
                                           JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        *ret = strdup(s);
        json_object_put(o);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- events ---- */

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One {"type":"oom"} per kill counted since `*seen`. 1 when emit asked to stop. */
static int emit_ooms(const struct berth_cgroup *cg, const char *id, int64_t *seen,
                     int (*emit)(const char *, void *), void *userdata)
{
        int64_t now = cg->driver->oom_kills(cg);
        char line[1200];

        if (now < 0)
                return 0;
        snprintf(line, sizeof(line), "{\"type\":\"oom\",\"id\":\"%s\"}", id);
        for (; *seen < now; (*seen)++)
                if (emit(line, userdata))
                        return 1;
        return 0;
}

static int emit_stats(const struct berth_cgroup *cg, const char *id,
                      int (*emit)(const char *, void *), void *userdata, berth_error *err)
{
        struct berth_stats st;
        _cleanup_free_ char *json = NULL;
        int r = cgroup_stats(cg, &st, err);

        if (r < 0)
                return r;
        r = berth_stats_to_json(id, &st, &json, err);
        berth_stats_release(&st);
        if (r < 0)
                return r;
        return emit(json, userdata) ? 1 : 0;
}

static bool alive(const struct berth_state *s)
{
        uint64_t start;
        char st;

        return berth_proc_stat(s->pid, &start, &st) == 0 && start == s->pid_start_time &&
               st != 'Z' && st != 'X';
}

int berth_container_events(const struct berth_runtime *rt, const char *id, unsigned interval_ms,
                           int (*emit)(const char *json, void *userdata), void *userdata,
                           berth_error *err)
{
        _cleanup_(berth_state_freep) struct berth_state *s = NULL;
        _cleanup_(berth_cgroup_freep) struct berth_cgroup *cg = NULL;
        _cleanup_close_ int watch = -1, pidfd = -1;
        berth_error e = BERTH_ERROR_INIT;
        uint64_t next;
        int64_t seen;
        int r = load(rt, id, &s, &cg, err);

        if (r < 0)
                return r;
        watch = cg->driver->oom_watch(cg, &e);
        if (watch < 0)
                log_debug("no OOM notifications, polling: %s", berth_error_msg(&e));
        berth_error_release(&e);
        pidfd = berth_pidfd_open(s->pid);
        seen = cg->driver->oom_kills(cg);
        if (seen < 0)
                seen = 0;
        next = now_ms() + interval_ms;
        for (;;) {
                struct pollfd p[2] = { { .fd = watch, .events = POLLIN | POLLPRI },
                                       { .fd = pidfd, .events = POLLIN } };
                /* Without a watch fd, OOM kills are noticed within 100 ms. */
                int timeout = watch < 0 ? 100 : -1;
                uint64_t now = now_ms();
                if (interval_ms)
                        timeout = (int)(next > now ? next - now : 0);
                if (watch < 0 && (timeout < 0 || timeout > 100))
                        timeout = 100;
                if (poll(p, 2, timeout) < 0 && errno != EINTR)
                        return berth_error_sys(err, errno, "events of `%s`", id);
                if (p[0].revents) {
                        char buf[4096];
                        while (read(watch, buf, sizeof(buf)) > 0)
                                ;
                }
                if (emit_ooms(cg, id, &seen, emit, userdata))
                        return 0;
                if (p[1].revents || !alive(s))
                        return 0;
                if (interval_ms && now_ms() >= next) {
                        r = emit_stats(cg, id, emit, userdata, err);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        next += interval_ms;
                        if (next < now_ms())
                                next = now_ms() + interval_ms;
                }
        }
}
