/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Root filesystems over an image's layers: a container's (and `berth image
 * mount`'s) view of the image, with a private place for its changes.
 *
 * Two drivers, podman's names:
 *   overlay  an overlayfs mount of the layers (store.h: layers/<hex>/diff,
 *            already in overlayfs' whiteout form, see layer.h) under an
 *            upper directory that collects the changes. Costs nothing per
 *            container; needs a kernel overlay can use and a store on a
 *            file system that overlay accepts as upper (not overlay itself,
 *            not NFS, ...).
 *   vfs      a full copy of the layers, applied bottom-up with their
 *            whiteouts and opaque directories, into a plain directory.
 *            Slow and big (reflinks help on btrfs/XFS) but works anywhere.
 *
 * Layout below `dir`, the container's (or image mount's) own directory:
 *   driver      "overlay" or "vfs": the driver the snapshot was made with,
 *               written before anything is mounted, kept until `dir` goes
 *   overlay:    upper/ work/ merged/   (merged is the root filesystem)
 *               empty/                 (the lower of an image with no layers)
 *   vfs:        rootfs/                (the root filesystem)
 *
 * Overlay mount options (decided here, for every caller):
 *   lowerdir   the layers top first as SHORT paths relative to layers/
 *              ("l/<12 hex>:l/<12 hex>"), the mount made with the layers
 *              directory as the working directory. mount(2) copies at most
 *              one page of options, and 128 absolute layer paths would not
 *              fit in 4096 bytes; the short ones do (about 15 bytes each, so
 *              up to ~250 layers). Deeper images fail with E2BIG.
 *   index=off  the inodes index ties an upper (and work) dir to the lowers
 *              it was first mounted with and refuses ("upperdir is in-use")
 *              a second mount that shares them; docker, containerd and
 *              podman pass it for that reason. We never need the index:
 *              it only keeps lower hardlinks together across copy-up and
 *              serves NFS export.
 *   redirect_dir=off, metacopy=off
 *              both are kernel build/module defaults that may be on. With
 *              them a renamed lower directory or a chmod'ed lower file shows
 *              in upper as an xattr pointing into the lowers instead of as
 *              plain content, so the upper would no longer be the change set
 *              that commit/build turn into a layer tar. Off, the kernel
 *              gives EXDEV on such a rename and tools (mv) copy instead.
 *   Read-only snapshots (image mount) have no upper: lowerdir only, which
 *   overlay accepts from two lowers up; one layer is bind-mounted read-only,
 *   no layer at all gives a read-only bind of the empty directory.
 *   Rootless (not done): an unprivileged user namespace needs "userxattr"
 *   (user.overlay.* instead of trusted.overlay.*, so the layers would have
 *   to be unpacked with user.* markers) and implies redirect_dir=nofollow.
 *
 * Ownership: the caller owns `dir`. Nothing here looks at the store's
 * records of which image is mounted; berth_image_mount() below does.
 * Not thread-safe: the overlay mount changes the process's working
 * directory for the duration of one mount(2) call.
 */

#include <stdbool.h>
#include <stddef.h>

#include "basic/digest.h"
#include "basic/error.h"
#include "image/store.h"

typedef enum berth_snapshot_driver {
        BERTH_SNAPSHOT_AUTO,    /* overlay, else vfs when overlay cannot mount */
        BERTH_SNAPSHOT_OVERLAY, /* "overlay" */
        BERTH_SNAPSHOT_VFS,     /* "vfs" */
        _BERTH_SNAPSHOT_DRIVER_MAX,
} berth_snapshot_driver;

/* "auto", "overlay", "vfs"; NULL for a value outside the enum. */
const char *berth_snapshot_driver_to_string(berth_snapshot_driver d);
/* The inverse; also takes "overlay2" (docker's name) and "" for auto. -EINVAL otherwise. */
int berth_snapshot_driver_from_string(const char *s, berth_snapshot_driver *ret);

/*
 * Makes the root filesystem of img below dir (absolute; created 0700 when
 * missing; refused with ELOOP when it is a symlink) and returns its path
 * (dir/merged or dir/rootfs, malloc'd) in *ret_rootfs.
 *
 * A dir that already holds a snapshot is reused with the driver recorded in
 * dir/driver (a container's restart keeps its changes); asking for the
 * other driver then fails with EINVAL. EBUSY when it is mounted already.
 *
 * read_only: no place for changes (image mount); the root filesystem is
 * mounted read-only with either driver (vfs: a read-only bind mount of the
 * copy over itself).
 *
 * AUTO tries overlay and, when the mount fails with EINVAL, ENODEV, EPERM,
 * EOPNOTSUPP or E2BIG (no overlay in the kernel, a store on a file system
 * overlay refuses as upper, too many layers), logs why at debug level and
 * makes a vfs copy instead.
 *
 * Mounts are nodev (podman's default): an image's device nodes are not
 * there to be opened through its root filesystem on the host.
 *
 * On failure what this call created below dir is removed again (dir
 * itself stays).
 */
int berth_snapshot_mount(berth_store *s, const berth_image *img, const char *dir,
                         berth_snapshot_driver driver, bool read_only, char **ret_rootfs,
                         berth_error *err);

/*
 * Unmounts the root filesystem below dir (lazily, MNT_DETACH, when it is
 * busy). With remove, also deletes dir and everything in it (the
 * container's changes); without, keeps them for the next mount. A dir
 * that does not exist, or holds nothing mounted, is fine.
 */
int berth_snapshot_unmount(const char *dir, bool remove, berth_error *err);

/*
 * What dir holds: the driver its snapshot was made with, the root
 * filesystem's path (malloc'd; may be NULL) and whether that is mounted now
 * (a writable vfs snapshot never is). -ENOENT when dir holds no snapshot.
 */
int berth_snapshot_info(const char *dir, berth_snapshot_driver *ret_driver, char **ret_rootfs,
                        bool *ret_mounted, berth_error *err);

/* ---- image mounts (podman's `image mount`) ---- */

/*
 * Mounts image img read-only at <root>/mounts/<id hex>/merged (or
 * .../rootfs with vfs) and returns that path. An image mounted already
 * returns its path again (no count: one unmount undoes any number of
 * mounts).
 *
 * While mounted, the image cannot be deleted: the store records the mount
 * as a row in its image_mounts table, inserted (in one transaction checking
 * that the image still exists) before anything is mounted and deleted only
 * after the unmount, and berth_store_image_delete() fails with EBUSY
 * ("image is in use by a mount; unmount it first") while there is a row.
 * Rows carry the boot id, so the ones a reboot left behind (whose mounts
 * are gone) no longer count. A berth killed between row and mount leaves a
 * row that `image unmount` clears.
 */
int berth_image_mount(berth_store *s, const berth_image *img, berth_snapshot_driver driver,
                      char **ret_path, berth_error *err);

/* Undoes berth_image_mount(); EINVAL "image ... is not mounted" when it is not. */
int berth_image_unmount(berth_store *s, const char *image_id, berth_error *err);

typedef struct berth_image_mount_info {
        char image_id[BERTH_DIGEST_STR_MAX];
        char *path;
} berth_image_mount_info;

void berth_image_mounts_free(berth_image_mount_info *v, size_t n);

/* The images mounted in this boot, by image ID. */
int berth_image_mount_list(berth_store *s, berth_image_mount_info **ret, size_t *ret_n,
                           berth_error *err);
