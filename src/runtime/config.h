/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The OCI runtime configuration (config.json, runtime-spec 1.2) as typed
 * structs.
 *
 * berth_config_parse() reads the whole document once; every later step works
 * on these structs and never on JSON. Errors name the field by its JSON path
 * ("process.user.uid: expected an unsigned 32-bit integer, got \"x\"").
 *
 * Unknown top-level and nested fields are ignored on purpose (the spec allows
 * extensions); "solaris", "windows", "vm", "zos" sections are ignored.
 * Optional scalars carry a has_* flag so "absent" and "zero" stay distinct.
 *
 * Strings are owned by the struct; berth_config_free() releases everything.
 * String arrays are NULL-terminated (char **) with their count alongside.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

/*
 * GNU C modes predefine `linux` as 1, which would turn the `linux` member of
 * struct berth_config into a syntax error. Code tests __linux__ instead.
 */
#undef linux

/* Upper bound on config.json size; bigger documents are refused. */
#define BERTH_CONFIG_MAX_SIZE (16u * 1024 * 1024)

struct berth_kv {
        char *key;
        char *value;
};

struct berth_id_mapping {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

struct berth_user {
        uint32_t uid;
        uint32_t gid;
        bool has_umask;
        uint32_t umask;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        char *username; /* Windows only in the spec; kept for messages */
};

struct berth_rlimit {
        int resource; /* RLIMIT_* */
        char *type;   /* "RLIMIT_NOFILE" as written */
        uint64_t hard;
        uint64_t soft;
};

/* Capability sets as bit masks of CAP_* numbers known to this build. */
struct berth_capabilities {
        uint64_t bounding;
        uint64_t effective;
        uint64_t inheritable;
        uint64_t permitted;
        uint64_t ambient;
        /* Names the build does not know, kept to warn about them once. */
        char **unknown;
        size_t n_unknown;
};

enum berth_sched_policy {
        BERTH_SCHED_OTHER,
        BERTH_SCHED_FIFO,
        BERTH_SCHED_RR,
        BERTH_SCHED_BATCH,
        BERTH_SCHED_ISO,
        BERTH_SCHED_IDLE,
        BERTH_SCHED_DEADLINE,
        _BERTH_SCHED_MAX,
};

struct berth_scheduler {
        enum berth_sched_policy policy;
        int32_t nice;
        int32_t priority;
        char **flags;
        size_t n_flags;
        uint64_t runtime;
        uint64_t deadline;
        uint64_t period;
};

struct berth_process {
        bool terminal;
        bool has_console_size;
        uint32_t console_height;
        uint32_t console_width;
        struct berth_user user;
        char **args;
        size_t n_args;
        char *command_line; /* Windows only; ignored */
        char **env;
        size_t n_env;
        char *cwd;
        bool has_capabilities;
        struct berth_capabilities capabilities;
        struct berth_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *selinux_label;
        bool has_io_priority;
        int io_priority_class; /* IOPRIO_CLASS_* */
        int io_priority;
        bool has_scheduler;
        struct berth_scheduler scheduler;
        char *exec_cpu_affinity_initial;
        char *exec_cpu_affinity_final;
};

/* Mount options parsed into flags; the raw list is kept too. */
struct berth_mount {
        char *destination;
        char *type;
        char *source;
        char **options;
        size_t n_options;

        unsigned long flags;       /* MS_* to set */
        unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", "dev", ...) */
        unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE | MS_REC */
        bool bind;                 /* "bind" or "rbind" (then flags has MS_REC) */
        bool recursive_ro;         /* "rro" (mount_setattr AT_RECURSIVE) */
        unsigned long rec_set;     /* MOUNT_ATTR_* from r-forms ("rnosuid", "rro", ...) */
        unsigned long rec_clear;
        bool idmap;           /* "idmap"/"ridmap" */
        bool idmap_recursive; /* "ridmap": apply the mapping with AT_RECURSIVE */
        bool tmpcopyup;       /* crun's "tmpcopyup" */
        char *data; /* filesystem-specific options, comma-joined ("size=65536k,mode=755") */

        struct berth_id_mapping *uid_mappings;
        size_t n_uid_mappings;
        struct berth_id_mapping *gid_mappings;
        size_t n_gid_mappings;
};

struct berth_hook {
        char *path;
        char **args;
        size_t n_args;
        char **env;
        size_t n_env;
        bool has_timeout;
        int timeout; /* seconds, > 0 */
};

enum berth_hook_kind {
        BERTH_HOOK_PRESTART,
        BERTH_HOOK_CREATE_RUNTIME,
        BERTH_HOOK_CREATE_CONTAINER,
        BERTH_HOOK_START_CONTAINER,
        BERTH_HOOK_POSTSTART,
        BERTH_HOOK_POSTSTOP,
        _BERTH_HOOK_MAX,
};

struct berth_hook_list {
        struct berth_hook *hooks;
        size_t n_hooks;
};

enum berth_ns_type {
        BERTH_NS_PID,
        BERTH_NS_NETWORK,
        BERTH_NS_MOUNT,
        BERTH_NS_IPC,
        BERTH_NS_UTS,
        BERTH_NS_USER,
        BERTH_NS_CGROUP,
        BERTH_NS_TIME,
        _BERTH_NS_MAX,
};

struct berth_namespace {
        enum berth_ns_type type;
        char *path; /* join this one; NULL: create a new one */
};

struct berth_device {
        char *path;
        char type; /* 'c', 'b', 'u' or 'p' */
        int64_t major;
        int64_t minor;
        bool has_file_mode;
        uint32_t file_mode;
        bool has_uid;
        uint32_t uid;
        bool has_gid;
        uint32_t gid;
};

/* --- linux.resources (applied by the cgroup drivers) --- */

struct berth_device_cgroup_rule {
        bool allow;
        char type; /* 'a', 'c' or 'b' */
        bool has_major;
        int64_t major; /* -1 or absent: wildcard */
        bool has_minor;
        int64_t minor;
        char *access; /* "rwm" subset */
};

struct berth_memory_resources {
        bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness,
                has_disable_oom_killer, has_use_hierarchy, has_check_before_update;
        int64_t limit;
        int64_t reservation;
        int64_t swap;
        int64_t kernel;
        int64_t kernel_tcp;
        uint64_t swappiness;
        bool disable_oom_killer;
        bool use_hierarchy;
        bool check_before_update;
};

struct berth_cpu_resources {
        bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
                has_realtime_period, has_idle;
        uint64_t shares;
        int64_t quota;
        uint64_t burst;
        uint64_t period;
        int64_t realtime_runtime;
        uint64_t realtime_period;
        char *cpus;
        char *mems;
        int64_t idle;
};

struct berth_block_io_device {
        int64_t major;
        int64_t minor;
        bool has_weight, has_leaf_weight;
        uint16_t weight;
        uint16_t leaf_weight;
        uint64_t rate; /* throttle entries */
};

struct berth_block_io_resources {
        bool has_weight, has_leaf_weight;
        uint16_t weight;
        uint16_t leaf_weight;
        struct berth_block_io_device *weight_device;
        size_t n_weight_device;
        struct berth_block_io_device *throttle_read_bps;
        size_t n_throttle_read_bps;
        struct berth_block_io_device *throttle_write_bps;
        size_t n_throttle_write_bps;
        struct berth_block_io_device *throttle_read_iops;
        size_t n_throttle_read_iops;
        struct berth_block_io_device *throttle_write_iops;
        size_t n_throttle_write_iops;
};

struct berth_hugepage_limit {
        char *page_size; /* "2MB" */
        uint64_t limit;
};

struct berth_net_priority {
        char *name;
        uint32_t priority;
};

struct berth_rdma_limit {
        char *device;
        bool has_hca_handles, has_hca_objects;
        uint32_t hca_handles;
        uint32_t hca_objects;
};

struct berth_resources {
        struct berth_device_cgroup_rule *devices;
        size_t n_devices;
        bool has_memory;
        struct berth_memory_resources memory;
        bool has_cpu;
        struct berth_cpu_resources cpu;
        bool has_pids_limit;
        int64_t pids_limit;
        bool has_block_io;
        struct berth_block_io_resources block_io;
        struct berth_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        bool has_net_class_id;
        uint32_t net_class_id;
        struct berth_net_priority *net_priorities;
        size_t n_net_priorities;
        struct berth_rdma_limit *rdma;
        size_t n_rdma;
        struct berth_kv *unified;
        size_t n_unified;
};

/* --- linux.seccomp --- */

enum berth_seccomp_action {
        BERTH_SCMP_ACT_KILL, /* SCMP_ACT_KILL: the thread */
        BERTH_SCMP_ACT_KILL_PROCESS,
        BERTH_SCMP_ACT_KILL_THREAD,
        BERTH_SCMP_ACT_TRAP,
        BERTH_SCMP_ACT_ERRNO,
        BERTH_SCMP_ACT_TRACE,
        BERTH_SCMP_ACT_ALLOW,
        BERTH_SCMP_ACT_LOG,
        BERTH_SCMP_ACT_NOTIFY,
        _BERTH_SCMP_ACT_MAX,
};

enum berth_seccomp_op {
        BERTH_SCMP_CMP_NE,
        BERTH_SCMP_CMP_LT,
        BERTH_SCMP_CMP_LE,
        BERTH_SCMP_CMP_EQ,
        BERTH_SCMP_CMP_GE,
        BERTH_SCMP_CMP_GT,
        BERTH_SCMP_CMP_MASKED_EQ,
        _BERTH_SCMP_CMP_MAX,
};

struct berth_seccomp_arg {
        uint32_t index;
        uint64_t value;
        uint64_t value_two;
        enum berth_seccomp_op op;
};

struct berth_seccomp_syscall {
        char **names;
        size_t n_names;
        enum berth_seccomp_action action;
        bool has_errno_ret;
        uint32_t errno_ret;
        struct berth_seccomp_arg *args;
        size_t n_args;
};

struct berth_seccomp {
        enum berth_seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64" */
        size_t n_architectures;
        char **flags; /* "SECCOMP_FILTER_FLAG_LOG" */
        size_t n_flags;
        char *listener_path;
        char *listener_metadata;
        struct berth_seccomp_syscall *syscalls;
        size_t n_syscalls;
};

struct berth_personality {
        char *domain; /* "LINUX" or "LINUX32" */
        char **flags;
        size_t n_flags;
};

struct berth_time_offset {
        bool set;
        int64_t secs;
        uint32_t nanosecs;
};

struct berth_linux {
        struct berth_namespace *namespaces;
        size_t n_namespaces;
        struct berth_id_mapping *uid_mappings;
        size_t n_uid_mappings;
        struct berth_id_mapping *gid_mappings;
        size_t n_gid_mappings;
        struct berth_time_offset time_monotonic;
        struct berth_time_offset time_boottime;
        struct berth_device *devices;
        size_t n_devices;
        char *cgroups_path;
        bool has_resources;
        struct berth_resources resources;
        char *rootfs_propagation;               /* as written */
        unsigned long rootfs_propagation_flags; /* MS_* | MS_REC, 0 when absent */
        bool has_seccomp;
        struct berth_seccomp seccomp;
        struct berth_kv *sysctl;
        size_t n_sysctl;
        char **masked_paths;
        size_t n_masked_paths;
        char **readonly_paths;
        size_t n_readonly_paths;
        char *mount_label;
        bool has_personality;
        struct berth_personality personality;
};

struct berth_config {
        char *oci_version;
        char *root_path;
        bool root_readonly;
        struct berth_process *process; /* NULL when absent (allowed for create) */
        char *hostname;
        char *domainname;
        struct berth_mount *mounts;
        size_t n_mounts;
        struct berth_hook_list hooks[_BERTH_HOOK_MAX];
        struct berth_kv *annotations;
        size_t n_annotations;
        bool has_linux;
        struct berth_linux linux;
};

/* Parses a config document held in memory. `len` bytes, need not be NUL-terminated. */
int berth_config_parse(const char *data, size_t len, struct berth_config **ret, berth_error *err);

/* Reads and parses `path` (at most BERTH_CONFIG_MAX_SIZE bytes). */
int berth_config_load(const char *path, struct berth_config **ret, berth_error *err);

/*
 * Parses a process object alone (the --process FILE of `exec`): same rules
 * as config.process. Also used by the config parser.
 */
int berth_process_parse(const char *data, size_t len, struct berth_process **ret, berth_error *err);

/*
 * Parses a linux.resources object alone (`update --resources FILE`), with
 * the same rules as in config.json. *ret is owned by the caller.
 */
int berth_resources_parse(const char *data, size_t len, const char *what,
                          struct berth_resources *ret, berth_error *err);
void berth_resources_release(struct berth_resources *rs);

void berth_config_free(struct berth_config *c);
void berth_process_free(struct berth_process *p);
static inline void berth_config_freep(struct berth_config **c)
{
        berth_config_free(*c);
}
static inline void berth_process_freep(struct berth_process **p)
{
        berth_process_free(*p);
}

/* String tables (one per enum, complete; unit-tested). NULL/-1 when unknown. */
const char *berth_ns_type_to_string(enum berth_ns_type t); /* "pid", "network", ... */
int berth_ns_type_from_string(const char *s);
int berth_ns_type_clone_flag(enum berth_ns_type t);            /* CLONE_NEWPID, ... */
const char *berth_ns_type_proc_name(enum berth_ns_type t);     /* "pid", "net", "mnt", ... */
const char *berth_hook_kind_to_string(enum berth_hook_kind k); /* "prestart", "createRuntime" */
int berth_hook_kind_from_string(const char *s);
const char *berth_seccomp_action_to_string(enum berth_seccomp_action a); /* "SCMP_ACT_ERRNO" */
int berth_seccomp_action_from_string(const char *s);
const char *berth_seccomp_op_to_string(enum berth_seccomp_op o); /* "SCMP_CMP_EQ" */
int berth_seccomp_op_from_string(const char *s);
const char *berth_sched_policy_to_string(enum berth_sched_policy p); /* "SCHED_OTHER" */
int berth_sched_policy_from_string(const char *s);
/* "RLIMIT_NOFILE" <-> RLIMIT_NOFILE */
int berth_rlimit_from_string(const char *s);
const char *berth_rlimit_to_string(int resource);
/* "CAP_SYS_ADMIN" <-> CAP_SYS_ADMIN (case-insensitive, "CAP_" optional on input) */
int berth_capability_from_string(const char *s);
const char *berth_capability_to_string(int cap);
/* The highest capability number this build knows. */
int berth_capability_last(void);

/*
 * Parses one mount option into *m's flag fields. Returns 1 when the option
 * was a known flag, 0 when it is filesystem data (appended to m->data by the
 * caller), -EINVAL for a known-invalid combination.
 */
int berth_mount_option_apply(struct berth_mount *m, const char *opt);

/* Value of an annotation or NULL. */
const char *berth_config_annotation(const struct berth_config *c, const char *key);
