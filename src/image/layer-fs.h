/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Filesystem steps of layer application, each confined below a root fd.
 * All return an fd or 0 on success and -errno on failure; fds are O_CLOEXEC
 * and the caller's.
 */

/*
 * Opens `path` (relative, cleaned: no "." or ".." components) below rootfd
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): symlinks are
 * followed while they stay below rootfd; one leading out (absolute, or ".."
 * past rootfd) fails with EXDEV. Without openat2 (kernels before 5.6, or a
 * seccomp filter), a component-by-component walk follows no symlink at all:
 * a symlink in the path fails with EXDEV there.
 */
int layer_open_beneath(int rootfd, const char *path, int flags);

/*
 * mkdir -p of `path` (cleaned) below rootfd, with mode 0755 for what is
 * missing; returns an O_PATH fd of the directory. Symlinks on the way are
 * followed as layer_open_beneath() follows them.
 */
int layer_mkdir_parents(int rootfd, const char *path);

/* Removes `name` in dirfd whatever it is, a directory with its contents; ENOENT is fine. */
int layer_remove(int dirfd, const char *name);
