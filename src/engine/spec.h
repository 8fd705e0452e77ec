/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The container spec builder: from the image's config and `berth run`'s
 * options (run-options.h) to an OCI runtime config (config.json), following
 * what docker's daemon writes (docs/engine.md has the rules).
 *
 * The builder does not touch capabilities, seccomp, masked or read-only
 * paths: the engine adds those (security.c) to the document built here.
 * Nor does it create anything: named volumes arrive resolved
 * (berth_mount_spec.host_path), the network namespace as a path.
 */
#include <json-c/json.h>
#include <sys/types.h>

#include "basic/error.h"
#include "engine/run-options.h"
#include "image/manifest.h"

/*
 * Builds the config into *ret (a new reference). img may be NULL (no image
 * config: no entrypoint, cmd, env, user or workdir from it). rootfs is
 * written as root.path. rootfs_fd, a directory fd of the mounted root
 * filesystem, is where /etc/passwd and /etc/group are read for -u (never
 * following a symlink out of it); -1 opens rootfs.
 *
 * Errors (EINVAL) name what the user got wrong: "no command specified",
 * "unable to find user NAME: no matching entries in passwd file",
 * "Duplicate mount point: /x", ...
 */
int berth_spec_build(const berth_image_config *img, const berth_run_options *o, const char *rootfs,
                     int rootfs_fd, json_object **ret, berth_error *err);

/* The user -u (or an image's User) names, resolved as docker (runc's libcontainer/user) does. */
typedef struct berth_exec_user {
        uid_t uid;
        gid_t gid;
        gid_t *sgids; /* supplementary groups from /etc/group membership; owned */
        size_t n_sgids;
} berth_exec_user;

/*
 * spec is "user[:group]" (user and group by name or number; "" is root).
 * /etc/passwd and /etc/group are read inside rootfd; a missing or unreadable
 * file (including one that is a symlink leading nowhere inside the root)
 * counts as having no entries, so numeric ids still work and names fail.
 */
int berth_resolve_user(int rootfd, const char *spec, berth_exec_user *ret, berth_error *err);
void berth_exec_user_release(berth_exec_user *u);
