/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * What `berth run` / `berth create` flags say about a container, and one
 * parser per flag value.
 *
 * The CLI (and later the API) fills a berth_run_options by calling the
 * parsers below on each flag's value; berth_spec_build() (spec.h) turns it
 * and the image's config into an OCI runtime config. Parsers never exit or
 * print: they return a negative errno and fill *err with docker's wording
 * where docker has one, naming the flag and the value, e.g.
 * `invalid argument "5x" for "-m, --memory" flag: invalid size: '5x'`.
 *
 * Ownership: every string and array in the struct is malloc'd and owned by
 * it; berth_run_options_release() frees them all. A zeroed struct (after
 * berth_run_options_init()) is a valid "no flags" value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

typedef enum berth_mount_type {
        BERTH_MOUNT_BIND,
        BERTH_MOUNT_VOLUME,
        BERTH_MOUNT_TMPFS,
} berth_mount_type;

/* One -v, --mount or --tmpfs, in the order given. */
typedef struct berth_mount_spec {
        berth_mount_type type;
        /* bind: the host path (absolute); volume: the volume's name, NULL for an
         * anonymous volume; tmpfs: NULL. */
        char *source;
        /* volume: the host directory the engine resolved the volume to (it
         * creates and populates volumes; the spec builder only mounts this). */
        char *host_path;
        char *target;         /* absolute path in the container */
        bool readonly;        /* ro, readonly, readonly=true */
        char *propagation;    /* "rprivate", "shared", ...; NULL: docker's default (rprivate) */
        char *selinux;        /* "z" or "Z" as given; recorded, not applied (no SELinux here) */
        bool nocopy;          /* volume-nocopy / nocopy: do not populate from the image */
        uint64_t tmpfs_size;  /* bytes; 0: the kernel's default (half of RAM) */
        uint32_t tmpfs_mode;  /* permission bits; 0: not given (1777) */
        char **tmpfs_options; /* --tmpfs's other options, passed to the mount as given */
} berth_mount_spec;

/* One --ulimit. */
typedef struct berth_ulimit {
        char *name;   /* docker's name: "nofile", "nproc", ... */
        int resource; /* RLIMIT_* */
        int64_t soft, hard;
} berth_ulimit;

/* The cgroup namespace (docker's --cgroupns). */
typedef enum berth_cgroupns {
        BERTH_CGROUPNS_AUTO,    /* docker's default: private on cgroup v2, host on v1 */
        BERTH_CGROUPNS_HOST,    /* no cgroup namespace */
        BERTH_CGROUPNS_PRIVATE, /* a new one */
} berth_cgroupns;

typedef struct berth_run_options {
        /* The container's full id (64 hex); the default hostname is its first 12 characters. */
        char *id;
        /* -e / --env-file, in order, "K=V" each (a bare -e K was resolved from
         * the caller's environment, or dropped when unset, as docker does). */
        char **env;
        char *workdir;       /* -w; NULL: the image's WorkingDir, else "/" */
        char *user;          /* -u "name|uid[:group|gid]"; NULL: the image's User, else root */
        char **entrypoint;   /* --entrypoint split as docker does (one word); see has_entrypoint */
        bool has_entrypoint; /* --entrypoint given; with entrypoint == NULL it was "" (clears) */
        char **cmd;          /* the arguments after the image name; NULL: the image's Cmd */
        char *hostname;      /* --hostname; NULL: the id's first 12 characters */
        char **labels;       /* -l "K=V" (a bare K gets an empty value) */
        bool tty;            /* -t */
        bool stdin_open;     /* -i */
        bool read_only;      /* --read-only */
        bool init;           /* --init (the engine supplies the init binary) */
        char *stop_signal;   /* --stop-signal, canonical "SIGTERM" form */

        berth_mount_spec *mounts; /* -v, --mount, --tmpfs in command-line order */
        size_t n_mounts;

        /* Resources; 0 means "not set" unless said otherwise. */
        int64_t memory;                /* -m bytes, >= 6 MiB */
        int64_t memory_swap;           /* --memory-swap bytes; -1 unlimited */
        int64_t memory_reservation;    /* --memory-reservation bytes */
        int64_t nano_cpus;             /* --cpus * 1e9 */
        int64_t cpu_shares;            /* --cpu-shares */
        int64_t cpu_period, cpu_quota; /* --cpu-period / --cpu-quota */
        char *cpuset_cpus, *cpuset_mems;
        int64_t pids_limit;    /* --pids-limit; 0 not set, -1 unlimited */
        bool oom_kill_disable; /* --oom-kill-disable */
        int64_t shm_size;      /* --shm-size bytes; 0: docker's 64 MiB */

        berth_ulimit *ulimits; /* --ulimit, a later one for the same name replaces */
        size_t n_ulimits;
        char **sysctls; /* --sysctl "k=v" */

        /* Left to the engine. */
        char *netns_path;   /* join this network namespace; NULL: a new one */
        bool network_host;  /* --network host: no network namespace */
        char *cgroups_path; /* linux.cgroupsPath; NULL: none */
        berth_cgroupns cgroupns;
} berth_run_options;

void berth_run_options_init(berth_run_options *o);
void berth_run_options_release(berth_run_options *o);
void berth_mount_spec_release(berth_mount_spec *m);

/* -e VALUE: "K=V" appended; a bare "K" takes K from the caller's environment
 * (skipped when unset). An empty name is `invalid environment variable: VALUE`. */
int berth_parse_env(berth_run_options *o, const char *value, berth_error *err);
/* --env-file PATH: as docker reads it: '#' lines and blank lines skipped,
 * leading whitespace trimmed, "K=V" taken verbatim, a bare "K" from the
 * caller's environment; a name with whitespace is "poorly formatted environment:
 * variable 'K' contains whitespaces", a line "=V" "poorly formatted environment: no
 * variable name on line '=V'". Files over 4 MiB are refused. */
int berth_parse_env_file(berth_run_options *o, const char *path, berth_error *err);
/* The same on a buffer (what is the file's name in messages). */
int berth_parse_env_data(berth_run_options *o, const char *data, size_t len, const char *what,
                         berth_error *err);
/* -l VALUE. */
int berth_parse_label(berth_run_options *o, const char *value, berth_error *err);

/* docker's RAMInBytes: a decimal number with an optional b,k,m,g,t,p suffix
 * (case-insensitive, optionally followed by "b": "512m", "1.5g", "64MB"),
 * binary multiples. Errors: `invalid size: 'VALUE'`. */
int berth_parse_ram_bytes(const char *value, int64_t *ret, berth_error *err);
/* -m: RAMInBytes, then docker's minimum `Minimum memory limit allowed is 6MB`. */
int berth_parse_memory(const char *value, int64_t *ret, berth_error *err);
/* --memory-swap: "-1" is unlimited, else RAMInBytes. */
int berth_parse_memory_swap(const char *value, int64_t *ret, berth_error *err);
/* --shm-size. */
int berth_parse_shm_size(const char *value, int64_t *ret, berth_error *err);
/* --cpus "1.5" -> 1500000000 nanocpus: at most 9 decimals, > 0. */
int berth_parse_cpus(const char *value, int64_t *ret, berth_error *err);
/* --cpu-shares, --pids-limit, --cpu-period, --cpu-quota: a signed 64-bit decimal. */
int berth_parse_int64_flag(const char *flag, const char *value, int64_t *ret, berth_error *err);
/* --cpuset-cpus / --cpuset-mems: "0-3,5" lists (flag names the one in messages). */
int berth_parse_cpuset(const char *flag, const char *value, char **ret, berth_error *err);
/* --ulimit name=soft[:hard]; replaces an earlier one of the same name. */
int berth_parse_ulimit(berth_run_options *o, const char *value, berth_error *err);
/* --sysctl k=v, only the namespaced ones docker allows (kernel.msg*, kernel.sem,
 * kernel.shm*, fs.mqueue.*, net.*). */
int berth_parse_sysctl(berth_run_options *o, const char *value, berth_error *err);
/* --stop-signal "TERM", "SIGTERM", "15" -> "SIGTERM" (numbers in range map to their name,
 * SIGRTMIN+n allowed). `Invalid signal: VALUE`. */
int berth_parse_signal(const char *value, char **ret, berth_error *err);
/* -v SRC:DST[:OPTS] / DST. */
int berth_parse_volume(berth_run_options *o, const char *value, berth_error *err);
/* --mount key=value,... */
int berth_parse_mount(berth_run_options *o, const char *value, berth_error *err);
/* --tmpfs DST[:OPTS]. */
int berth_parse_tmpfs(berth_run_options *o, const char *value, berth_error *err);
/* --entrypoint VALUE: "" clears the image's entrypoint. */
int berth_parse_entrypoint(berth_run_options *o, const char *value, berth_error *err);
