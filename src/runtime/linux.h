/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Internal interfaces between the runtime's files. Not for cli/ or engine/:
 * they use runtime.h.
 *
 * The create path: container.c clones the container's first process, which
 * runs init.c's berth_init_main() in the new namespaces; the two talk over
 * a SOCK_SEQPACKET socketpair with the messages below.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/config.h"
#include "runtime/runtime.h"
#include "runtime/seccomp-filter.h"

enum sync_type {
        SYNC_GO = 1,    /* parent -> child: carry on */
        SYNC_RUN_HOOKS, /* child -> parent: run prestart/createRuntime hooks now */
        SYNC_CREATED,   /* child -> parent: set up, waiting for start */
        SYNC_START,     /* parent -> child (run mode): exec now */
        SYNC_ERROR,     /* either way: failed, message attached */
};

struct sync_msg {
        uint32_t type;
        int32_t code; /* errno for SYNC_ERROR */
        char msg[3072];
};

int sync_send(int fd, enum sync_type type, int code, const char *msg);
/* Receives one message; -ECONNRESET at EOF. */
int sync_recv(int fd, struct sync_msg *m);
/* Waits for `want`; a SYNC_ERROR becomes an error carrying its message. */
int sync_expect(int fd, enum sync_type want, berth_error *err);

struct init_ctx {
        const struct berth_config *cfg;
        const struct berth_process *proc;
        const char *id;
        const char *bundle;
        const char *rootfs; /* absolute */
        int sync_fd;
        int fifo_fd;      /* O_PATH of exec.fifo; -1 in run mode */
        int console_sock; /* connected console socket or -1 */
        int hostproc_fd;  /* verified procfs of the host, O_PATH */
        int ns_fds[_BERTH_NS_MAX];
        unsigned long clone_flags; /* CLONE_NEW* the clone created */
        bool wait_placed;          /* wait for SYNC_GO: the parent places us in cgroups */
        bool unshare_cgroupns;     /* new cgroup namespace, made once placed */
        unsigned preserve_fds;
        bool no_pivot;
        bool no_new_keyring;
        bool has_create_runtime_hooks;
        bool run_mode;
        char *exec_path;                      /* args[0] resolved inside the container */
        char **exec_env;                      /* env with HOME added, or NULL */
        struct berth_seccomp_filter *seccomp; /* compiled by the parent, loaded before execve */
        int null_fd;                          /* verified /dev/null of the host */
        bool created;                         /* SYNC_CREATED sent */
        pid_t host_pid;                       /* our pid as the host sees it (for hook state) */
        bool userns;                          /* in a new or joined user namespace */
        bool mntns;                           /* in a new or joined mount namespace */
        int lock_fd;    /* the creator's state lock: the init drops its copy at once */
        int *idmap_fds; /* per mount: a detached idmapped tree, or -1; NULL when none */
};

/* init.c: the container's first process. Never returns. */
_Noreturn void berth_init_main(struct init_ctx *ctx);

/* rootfs.c: mounts, /dev, masked and read-only paths, pivot_root. */
int berth_rootfs_prepare(struct init_ctx *ctx, int *ret_rootfd, berth_error *err);
int berth_rootfs_finish_paths(struct init_ctx *ctx, int rootfd, berth_error *err);
int berth_rootfs_pivot(struct init_ctx *ctx, int rootfd, berth_error *err);
int berth_rootfs_readonly(struct init_ctx *ctx, berth_error *err);

/* idmap.c: idmapped bind mounts, made by the runtime before the clone. */
int berth_idmap_prepare(const struct berth_config *cfg, const char *bundle, int **ret_fds,
                        berth_error *err);
void berth_idmap_release(int *fds, size_t n);
int berth_idmap_move(int tree, int target, berth_error *err);

/* devices.c */
int berth_devices_create(struct init_ctx *ctx, int rootfd, bool bind_from_host, berth_error *err);

/* terminal.c */
int berth_terminal_setup(struct init_ctx *ctx, int rootfd, int *ret_slave, berth_error *err);
int berth_terminal_take(int slave, berth_error *err);
/* Sends the pty master over the console socket as runc does. */
int berth_console_send(int sock, int master, berth_error *err);
int berth_console_connect(const char *path, berth_error *err);
/* Opens a pty pair in the current mount namespace's /dev/ptmx (checked). */
int berth_pty_open(int *ret_master, int *ret_slave, berth_error *err);

/* process.c: what every container process does before execve. */
int berth_process_lookup_path(const struct berth_process *p, char **ret, berth_error *err);
int berth_process_apply_early(const struct berth_process *p, int hostproc_fd, berth_error *err);
int berth_process_apply_creds(const struct berth_process *p, berth_error *err);
int berth_process_chdir(const struct berth_process *p, berth_error *err);
/* The process's env plus HOME when it has none (NULL: use p->env). Call before creds change. */
char **berth_process_env_with_home(const struct berth_process *p);
_Noreturn void berth_process_exec(const struct berth_process *p, const char *path, char **env,
                                  int sync_fd);

/* caps.c */
int berth_caps_drop_bounding(const struct berth_capabilities *c, berth_error *err);
int berth_caps_apply(const struct berth_capabilities *c, berth_error *err);

/* hooks.c: runs one kind of hooks with the state JSON on stdin. */
int berth_hooks_run(const struct berth_config *cfg, enum berth_hook_kind kind,
                    const char *state_json, berth_error *err);

/* state.c */
/* Where compiled seccomp programs are kept: STATE_ROOT/.seccomp-cache. */
int berth_runtime_seccomp_cache(const struct berth_runtime *rt, char *buf, size_t size,
                                berth_error *err);
int berth_state_dir(const struct berth_runtime *rt, const char *id, char **ret, berth_error *err);
int berth_state_save(const char *dir, const struct berth_state *s, berth_error *err);
int berth_state_load(const struct berth_runtime *rt, const char *id, struct berth_state **ret,
                     berth_error *err);
/*
 * Loads the state, takes the container's lock and probes the status again
 * under it; the caller owns the state, the dir path and the lock fd.
 */
int berth_state_load_locked(const struct berth_runtime *rt, const char *id,
                            struct berth_state **ret, char **ret_dir, int *ret_lock,
                            berth_error *err);
/* Locks the container's state dir (flock); returns the fd. */
int berth_state_lock(const char *dir, berth_error *err);
char *berth_now_rfc3339(void);
/* Loads the config copy kept in the state dir. */
int berth_state_config(const struct berth_runtime *rt, const char *id, struct berth_config **ret,
                       berth_error *err);
/* Live status of a recorded pid (checks start time against pid reuse). */
enum berth_status berth_state_probe(const char *dir, pid_t pid, uint64_t start_time);

/* namespaces.c */
int berth_ns_open_paths(const struct berth_config *cfg, int ns_fds[], berth_error *err);
unsigned long berth_ns_clone_flags(const struct berth_config *cfg);
int berth_ns_join(int ns_fds[], bool early, berth_error *err);
int berth_ns_time_offsets(const struct berth_config *cfg, berth_error *err);
int berth_ns_write_id_maps(pid_t pid, const struct berth_config *cfg, berth_error *err);
int berth_sysctl_validate(const struct berth_config *cfg, berth_error *err);
