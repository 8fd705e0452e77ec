/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by container.c (create/start) and run.c (run). Internal. */

#include "runtime/cgroup.h"
#include "runtime/linux.h"

struct creation {
        struct berth_config *cfg;
        char *bundle;
        char *rootfs;
        char *state_dir;
        int sync_fd;
        pid_t pid;
        int pidfd;
        int console_peer; /* our end of the console socket when we proxy the pty */
        int lock_fd;      /* flock on the state dir until state.json is written */
        bool dir_created;
        struct berth_cgroup *cg; /* NULL: no cgroup (manager "disabled") */
};

#define CREATION_INIT                                                                              \
        {                                                                                          \
                .sync_fd = -1, .pidfd = -1, .console_peer = -1                                     \
        }

int do_create(const struct berth_runtime *rt, const struct berth_create_opts *o, bool run_mode,
              struct creation *c, berth_error *err);
void creation_abort(struct creation *c);
void creation_release(struct creation *c);
int run_poststart(const struct berth_config *cfg, const struct berth_state *s);
int write_pid_file(const char *path, pid_t pid, berth_error *err);
/* Removes a container's state directory and what it holds. */
int berth_container_remove_state(const char *dir);
/*
 * A state directory without state.json is a create that was killed, unless
 * a create still holds its lock. Removes such a leftover: 1 when it did, 0
 * when the container is real, -EBUSY while a create is under way.
 */
int berth_container_reclaim_stale(const char *dir);
/*
 * Removes the container's cgroup (failing, with the state kept, when it
 * cannot), runs the poststop hooks (warnings only) and removes the state.
 */
int berth_container_destroy(const char *dir, const struct berth_config *cfg,
                            const struct berth_state *s, berth_error *err);
