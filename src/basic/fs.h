/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Directory-tree helpers for state the project owns (stores, layers, run
 * dirs). They never follow symlinks inside the tree and never cross onto
 * another file system (a mount below a tree being removed is an error, not
 * something to descend into).
 */

#include <sys/types.h>

#include "basic/error.h"

/* mkdir -p with mode for every component created; existing dirs are fine. */
int berth_mkdir_p(const char *path, mode_t mode, berth_error *err);

/*
 * Removes name (a file or a whole tree) below dirfd; ENOENT is success.
 * Returns -errno on the first entry it cannot remove (EBUSY for a mount
 * point) with err naming it.
 */
int berth_rm_rf_at(int dirfd, const char *name, berth_error *err);
