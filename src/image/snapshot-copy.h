/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The vfs driver's copier (snapshot.h): layer directories in overlayfs form
 * merged into one plain tree, the way overlay would show them.
 */

#include <stddef.h>

#include "basic/error.h"

/*
 * Copies the layers (directory fds, BOTTOM first) into the directory dstfd,
 * each on top of what the ones below left:
 *   - a character device 0:0 removes that name (file or whole tree) and is
 *     not copied;
 *   - a directory with trusted.overlay.opaque=y replaces a directory of that
 *     name instead of merging into it;
 *   - anything else replaces what was there, except that two directories
 *     merge (the upper one's attributes win, as in overlay).
 * Kept: modes (setuid too), owners, xattrs other than trusted.overlay.*,
 * atime/mtime (directories after their contents), symlinks, device nodes,
 * fifos, sockets, and hardlinks between files of one layer. File data is
 * cloned (FICLONE) where the file system shares extents, else
 * copy_file_range(2), else read/write. dstfd's own attributes become those
 * of the top layer's root. Symlinks are never followed, in either tree.
 */
int berth_snapshot_copy_layers(const int *layerfds, size_t n, int dstfd, berth_error *err);
