/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Safe path resolution inside a root directory.
 *
 * Every path that comes from a container configuration or an image is
 * resolved as if `rootfd` were "/": absolute symlinks restart at the root,
 * ".." never climbs above it, and magic links (/proc/self/fd/...) are
 * refused. The kernel does this with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS); where openat2 is missing (kernels before 5.6, or
 * seccomp filters that return ENOSYS) a component-by-component walk with
 * O_NOFOLLOW gives the same answer.
 *
 * All returned fds are O_CLOEXEC and owned by the caller. On failure the
 * functions return -errno and fill *err (which may be NULL) with a message
 * naming the path, e.g. "open `/etc/x` in root: No such file or directory".
 * An empty path fails with ENOENT, as it does for open(2).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/*
 * Opens `path` inside `rootfd` with open(2) `flags` (O_CLOEXEC is added) and
 * open(2)'s meaning for them: O_NOFOLLOW applies to the last component only
 * (with O_PATH it returns the symlink itself), O_CREAT on a dangling symlink
 * creates its target inside the root.
 */
int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_error *err);

/*
 * mkdir -p of `path` inside `rootfd`; returns an O_PATH|O_DIRECTORY fd of the
 * last directory. Symlinks are followed inside the root, dangling ones too:
 * their missing target is what gets created. Every missing level is made
 * with `mode` (umask applies); one that appears meanwhile is fine.
 * Components that exist and are not directories fail with ENOTDIR.
 */
int berth_mkdir_in_root(int rootfd, const char *path, mode_t mode, berth_error *err);

/*
 * Makes sure `path` exists inside `rootfd` as a regular file (creating its
 * parent directories 0755 and an empty file with `mode` when missing; an
 * existing file of any non-directory type is accepted, and never opened for
 * I/O) and returns an O_PATH fd to it. A symlink at `path` is followed inside
 * the root first. A directory there fails with EISDIR.
 */
int berth_touch_in_root(int rootfd, const char *path, mode_t mode, berth_error *err);

/*
 * Writes the canonical path of `path` inside the root (always absolute,
 * symlinks resolved as far as they exist) into *ret; the caller frees it.
 * From the first component that does not exist on, the rest is appended
 * lexically ("." dropped, ".." removing the previous component, never
 * climbing above "/"). Built by the userspace walk in both modes, since
 * openat2 cannot say which path it resolved.
 */
int berth_resolve_in_root(int rootfd, const char *path, char **ret, berth_error *err);

/* Test hook: use the userspace walk even where openat2 works. */
void berth_path_force_fallback(bool on);

/* True when the running kernel's openat2 supports RESOLVE_IN_ROOT. */
bool berth_have_openat2(void);
