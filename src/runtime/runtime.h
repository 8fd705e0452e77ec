/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * berth's OCI runtime library: the lifecycle operations behind the
 * runc-compatible `berth-runtime` command line, callable in-process by the
 * engine.
 *
 * Every operation works on a state root (`--root`, default
 * /run/berth-runtime, or $XDG_RUNTIME_DIR/berth-runtime for unprivileged
 * users) holding one directory per container: state.json, a copy of the
 * config, and the exec fifo while the container is "created".
 *
 * Errors read as runc's where callers parse them: "container `x` does not
 * exist", "container not running", "executable file not found in $PATH".
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/config.h"

#define BERTH_RUNTIME_NAME "berth-runtime"

struct berth_runtime {
        const char *state_root; /* NULL: the default */
        bool systemd_cgroup;
        const char *cgroup_manager; /* "cgroupfs", "systemd", "disabled" or NULL */
};

enum berth_status {
        BERTH_STATUS_CREATING,
        BERTH_STATUS_CREATED,
        BERTH_STATUS_RUNNING,
        BERTH_STATUS_PAUSED,
        BERTH_STATUS_STOPPED,
        _BERTH_STATUS_MAX,
};

const char *berth_status_to_string(enum berth_status s);

/* A container's state as recorded on disk plus its live status. */
struct berth_state {
        char *id;
        pid_t pid; /* host pid of the container's init; 0 once stopped */
        uint64_t pid_start_time;
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 with nanoseconds */
        char *owner;
        struct berth_kv *annotations;
        size_t n_annotations;
        enum berth_status status;
};

void berth_state_free(struct berth_state *s);
static inline void berth_state_freep(struct berth_state **s)
{
        berth_state_free(*s);
}

struct berth_create_opts {
        const char *id;
        const char *bundle;      /* default: the working directory */
        const char *config_path; /* default: BUNDLE/config.json */
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        bool no_new_keyring;
        unsigned preserve_fds;
        bool detach; /* run only */
};

/* The state root in use (the default when rt->state_root is NULL). */
const char *berth_runtime_state_root(const struct berth_runtime *rt);

/* runc's rule: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
int berth_validate_id(const char *id, berth_error *err);

/* create: the container's process waits on the exec fifo until start. */
int berth_container_create(const struct berth_runtime *rt, const struct berth_create_opts *o,
                           berth_error *err);
int berth_container_start(const struct berth_runtime *rt, const char *id, berth_error *err);

/*
 * run: create + start. In the foreground it forwards signals, waits and
 * stores the container's exit status (128+signal when killed) in *ret_status.
 */
int berth_container_run(const struct berth_runtime *rt, const struct berth_create_opts *o,
                        int *ret_status, berth_error *err);

int berth_container_kill(const struct berth_runtime *rt, const char *id, int sig, bool all,
                         berth_error *err);
int berth_container_delete(const struct berth_runtime *rt, const char *id, bool force,
                           berth_error *err);

int berth_container_state(const struct berth_runtime *rt, const char *id, struct berth_state **ret,
                          berth_error *err);
/* The state as runc prints it (pretty JSON), caller frees. */
int berth_state_to_json(const struct berth_state *s, bool pretty, char **ret, berth_error *err);

/* All containers under the state root, sorted by id. */
int berth_container_list(const struct berth_runtime *rt, struct berth_state ***ret, size_t *ret_n,
                         berth_error *err);
void berth_state_list_free(struct berth_state **list, size_t n);

/* The host pids of every process in the container, sorted. */
int berth_container_pids(const struct berth_runtime *rt, const char *id, pid_t **ret, size_t *ret_n,
                         berth_error *err);

struct berth_exec_opts {
        struct berth_process *process; /* complete; owned by the caller */
        const char *pid_file;
        const char *console_socket;
        bool detach;
        unsigned preserve_fds;
};

/*
 * Builds the process for `exec` from the container's own config.process:
 * args replaced, env appended, and the overrides given. Caller frees.
 */
int berth_exec_process_from_container(const struct berth_runtime *rt, const char *id,
                                      struct berth_process **ret, berth_error *err);

/* Runs a process inside a created or running container. */
int berth_container_exec(const struct berth_runtime *rt, const char *id,
                         const struct berth_exec_opts *o, int *ret_status, berth_error *err);

/* ---- resources: update, pause/resume, stats and events ---- */

/* Writes new limits to a running (or created, or paused) container's cgroup. */
int berth_container_update(const struct berth_runtime *rt, const char *id,
                           const struct berth_resources *res, berth_error *err);
int berth_container_pause(const struct berth_runtime *rt, const char *id, berth_error *err);
int berth_container_resume(const struct berth_runtime *rt, const char *id, berth_error *err);

struct berth_stats_memory_entry {
        uint64_t limit, usage, max, failcnt;
};

struct berth_stats_blkio_entry {
        uint32_t major, minor;
        const char *op; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
        uint64_t value;
};

struct berth_stats_hugetlb {
        char *page_size; /* "2MB" */
        uint64_t usage, max, failcnt;
};

/* A container's cgroup statistics, in runc's `events --stats` terms (ns, bytes). */
struct berth_stats {
        struct {
                uint64_t total, kernel, user;
                uint64_t *percpu, *percpu_kernel, *percpu_user;
                size_t n_percpu;
                uint64_t periods, throttled_periods, throttled_time;
        } cpu;
        struct {
                uint64_t cache;
                struct berth_stats_memory_entry usage, swap, kernel, kernel_tcp;
                bool has_swap, has_kernel, has_kernel_tcp;
                bool use_hierarchy;
                struct berth_kv *raw;
                size_t n_raw;
        } memory;
        struct {
                bool present;
                uint32_t *cpus, *mems; /* "0-2,4" expanded */
                size_t n_cpus, n_mems;
                uint64_t cpu_exclusive, mem_exclusive, mem_hardwall, memory_migrate,
                        memory_pressure, memory_spread_page, memory_spread_slab, sched_load_balance;
                int64_t sched_relax_domain_level;
        } cpuset;
        struct {
                uint64_t current, limit; /* limit 0: none */
        } pids;
        struct {
                struct berth_stats_blkio_entry *service_bytes, *serviced;
                size_t n_service_bytes, n_serviced;
        } blkio;
        struct berth_stats_hugetlb *hugetlb;
        size_t n_hugetlb;
};

void berth_stats_release(struct berth_stats *st);
int berth_container_stats(const struct berth_runtime *rt, const char *id, struct berth_stats *ret,
                          berth_error *err);
/* {"type":"stats","id":ID,"data":{...}} as runc prints it; caller frees. */
int berth_stats_to_json(const char *id, const struct berth_stats *st, char **ret, berth_error *err);

/*
 * The event stream of `events`: a stats event every interval_ms (none when
 * 0) and an {"type":"oom"} event for every OOM kill in the container, until
 * the container stops or `emit` returns nonzero.
 */
int berth_container_events(const struct berth_runtime *rt, const char *id, unsigned interval_ms,
                           int (*emit)(const char *json, void *userdata), void *userdata,
                           berth_error *err);

/* Signal names: "KILL", "SIGKILL", "9" -> 9. -EINVAL when unknown. */
int berth_signal_from_string(const char *s);
const char *berth_signal_to_string(int sig);

/*
 * Re-executes the running binary from a sealed memfd unless it already runs
 * from one (CVE-2019-5736): a container that gets hold of /proc/self/exe
 * then finds a copy it cannot write. Returns only on failure or when no
 * re-exec was needed.
 */
int berth_ensure_cloned_binary(char **argv, berth_error *err);
