/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * cgroups: one interface, one driver per file.
 *
 *   cgroup-v1.c  cgroupfs on v1 hierarchies, including the "hybrid" layout
 *                where a v2 hierarchy at /sys/fs/cgroup/unified holds the
 *                controllers v1 does not (hugetlb here)
 *   cgroup-v2.c  cgroupfs on the unified hierarchy
 *
 * cgroup.c picks the driver from the host's layout and the runtime's
 * --cgroup-manager, resolves cgroupsPath, and records what it made in
 * STATE_DIR/cgroup.json so that later commands (update, pause, events,
 * delete) work on exactly those directories without guessing.
 *
 * The order at create: the directories are made and linux.resources
 * written before the container's process exists; the process is then
 * placed (clone3 CLONE_INTO_CGROUP on v2, cgroup.procs writes before the
 * process is released on v1), so nothing it runs is ever unlimited.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/config.h"
#include "runtime/runtime.h"

struct cgroup_dir {
        char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" on a v2 hierarchy */
        char *path;        /* absolute directory */
        bool created;      /* made by us: removed on delete */
};

struct cgroup_driver;

struct berth_cgroup {
        const struct cgroup_driver *driver;
        char *path; /* in hierarchy terms: "/berth/ctr" */
        struct cgroup_dir *dirs;
        size_t n_dirs;
        bool rootless; /* missing permissions are warnings, not errors */
        /* The systemd driver: the scope and its slice; NULL with cgroupfs. */
        char *unit;
        char *slice;
        /* Between create and the first enter (systemd places after the clone). */
        const struct berth_config *cfg;
        char *state_dir;
};

struct cgroup_driver {
        const char *name; /* as recorded: "cgroupfs-v1", "cgroupfs-v2" */
        /* Resolves and makes the directories (recording them in cg->dirs). */
        int (*create)(struct berth_cgroup *cg, berth_error *err);
        /* Writes linux.resources; `update` is false at create. */
        int (*apply)(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                     berth_error *err);
        int (*enter)(struct berth_cgroup *cg, pid_t pid, berth_error *err);
        int (*freeze)(struct berth_cgroup *cg, bool frozen, berth_error *err);
        /* 1 frozen, 0 not, -errno. */
        int (*is_frozen)(const struct berth_cgroup *cg);
        /* The directory holding the process list (v2: the one dir; v1: a stable pick). */
        const char *(*procs_dir)(const struct berth_cgroup *cg);
        int (*stats)(const struct berth_cgroup *cg, struct berth_stats *st, berth_error *err);
        /* An fd that polls readable (or POLLPRI) when an OOM kill may have happened. */
        int (*oom_watch)(const struct berth_cgroup *cg, berth_error *err);
        /* Number of OOM kills so far; -errno when unknown. */
        int64_t (*oom_kills)(const struct berth_cgroup *cg);
};

extern const struct cgroup_driver cgroup_v1_driver;
extern const struct cgroup_driver cgroup_v2_driver;

/*
 * cgroup-systemd.c: the scope a container lives in under --systemd-cgroup.
 * Once started, its directories are worked on by the cgroupfs driver of the
 * host's layout.
 */
bool cg_systemd_running(void);
int cg_systemd_resolve(const char *cgroups_path, const char *id, char **ret_slice, char **ret_unit,
                       berth_error *err);
int cg_systemd_start(struct berth_cgroup *cg, pid_t pid, const struct berth_resources *res,
                     berth_error *err);
/* Tells systemd new limits of the scope (update), so a daemon-reload keeps them. */
int cg_systemd_set(const struct berth_cgroup *cg, const struct berth_resources *res,
                   berth_error *err);
int cg_systemd_stop(const struct berth_cgroup *cg, berth_error *err);

/* ---- cgroup.c: the interface the runtime uses ---- */

/*
 * Makes the container's cgroup (or leaves *ret NULL when the manager is
 * "disabled") and applies cfg's linux.resources. The record is written to
 * state_dir first, so that a create killed half-way is cleaned up by delete.
 */
int berth_cgroup_create(const struct berth_runtime *rt, const struct berth_config *cfg,
                        const char *id, const char *state_dir, struct berth_cgroup **ret,
                        berth_error *err);
/* Loads the record of a container; *ret is NULL when it has none. */
int berth_cgroup_load(const char *state_dir, struct berth_cgroup **ret, berth_error *err);
/* An fd for clone3's CLONE_INTO_CGROUP, or -1 when the driver places by writing pids. */
int berth_cgroup_clone_fd(const struct berth_cgroup *cg);
int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, berth_error *err);
int berth_cgroup_apply(struct berth_cgroup *cg, const struct berth_resources *res, bool update,
                       berth_error *err);
int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, berth_error *err);
int berth_cgroup_is_frozen(const struct berth_cgroup *cg);
/* Every process in the cgroup, sorted. */
int berth_cgroup_pids(const struct berth_cgroup *cg, pid_t **ret, size_t *ret_n);
/* Signals every process, frozen first so that none forks past the signal. */
int berth_cgroup_signal_all(struct berth_cgroup *cg, int sig, berth_error *err);
/*
 * Kills what is left, removes every directory the runtime made and the
 * record. Waits briefly for dying processes to leave.
 */
int berth_cgroup_destroy(struct berth_cgroup *cg, const char *state_dir, berth_error *err);
/*
 * Removes the cgroup a record in state_dir names (0 when there is none);
 * on failure the record stays, so that a later delete can try again.
 */
int berth_cgroup_destroy_recorded(const char *state_dir, berth_error *err);
void berth_cgroup_free(struct berth_cgroup *cg);
static inline void berth_cgroup_freep(struct berth_cgroup **cg)
{
        berth_cgroup_free(*cg);
}

/* ---- helpers the drivers share ---- */

struct cg_mount {
        char controllers[256]; /* "cpu,cpuacct", "name=systemd"; "" for a v2 hierarchy */
        char root[4096];       /* of the mount, in hierarchy terms */
        char mountpoint[4096];
};

/* The cgroup mounts of this mount namespace, the first of each hierarchy. */
int cg_read_mounts(struct cg_mount **ret, size_t *ret_n);
/* The directory of cgroup `path` (absolute or relative to our own) in `m`. */
int cg_dir_in(const struct cg_mount *m, const char *path, char *buf, size_t size);

/* Writes `value` to DIR/FILE; the error names the field, the value and the file. */
int cg_write(const char *dir, const char *file, const char *value, const char *field,
             berth_error *err);
int cg_writef(const char *dir, const char *file, const char *field, berth_error *err,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reads DIR/FILE whole (trailing newline removed); caller frees. */
int cg_read(const char *dir, const char *file, char **ret);
int cg_read_u64(const char *dir, const char *file, uint64_t *ret);
/* "key value" lines: the value of `key` in DIR/FILE. */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret);
bool cg_exists(const char *dir, const char *file);
int cg_mkdir(const char *path, bool *ret_created, berth_error *err);
int cg_add_dir(struct berth_cgroup *cg, const char *controllers, const char *path, bool created);
/* The dir of the hierarchy holding `controller`, or NULL. */
const char *cg_dir_of(const struct berth_cgroup *cg, const char *controller);
/* Blocks of "key value" lines into st->memory.raw. */
int cg_read_raw(const char *dir, const char *file, struct berth_kv **ret, size_t *ret_n);
/* "0-2,4" -> {0, 1, 2, 4}; caller frees. */
int cg_parse_list(const char *s, uint32_t **ret, size_t *ret_n);
/* cpuset.cpus/mems (".effective" on v2) into st->cpuset. */
void cg_read_cpuset(const char *dir, bool v2, struct berth_stats *st);
/* The cgroup of this process in the hierarchy mounted with `controllers` ("" for v2). */
int cg_own_path(const char *controllers, char **ret);

/*
 * v2: enables `controller` in cgroup.subtree_control of every cgroup from
 * `root` (the hierarchy's mount point) down to the parent of `dir`.
 */
int cg_v2_enable(const char *root, const char *dir, const char *controller, const char *field,
                 berth_error *err);

/*
 * linux.cgroupsPath as the cgroupfs drivers take it: absent is "ID" (below
 * the runtime's own cgroup);
 * "." and ".." components and systemd's slice:prefix:name are refused.
 */
int cg_resolve_path(const char *cgroups_path, const char *id, char **ret, berth_error *err);

/* Every linux.resources.rdma entry as a line of DIR/rdma.max. */
int cg_write_rdma(const char *dir, const struct berth_resources *res, berth_error *err);
/* A linux.resources.unified key must name a controller's file in the cgroup itself. */
int cg_check_unified_key(const char *key, berth_error *err);
/* "memory, pids": the limit groups `res` sets (device rules left out), for messages. */
void cg_resources_summary(const struct berth_resources *res, char *buf, size_t size);

/* crun's conversions from v1 values to v2's. */
uint64_t cg_cpu_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight);
