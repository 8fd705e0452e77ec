/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Root filesystems over an image's layers: overlay mounts and vfs copies (snapshot.h). */
#include "image/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/fs.h"
#include "basic/log.h"
#include "image/snapshot-copy.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* The names this module owns below a snapshot directory. */
static const char *const owned_names[] = {
        "merged", "upper", "work", "empty", "rootfs", "rootfs.tmp", "driver.tmp", "driver",
};

static const char *const driver_names[_BERTH_SNAPSHOT_DRIVER_MAX] = {
        [BERTH_SNAPSHOT_AUTO] = "auto",
        [BERTH_SNAPSHOT_OVERLAY] = "overlay",
        [BERTH_SNAPSHOT_VFS] = "vfs",
};

const char *berth_snapshot_driver_to_string(berth_snapshot_driver d)
{
        if ((unsigned)d >= _BERTH_SNAPSHOT_DRIVER_MAX)
                return NULL;
        return driver_names[d];
}

int berth_snapshot_driver_from_string(const char *s, berth_snapshot_driver *ret)
{
        if (strcmp(s, "") == 0) {
                *ret = BERTH_SNAPSHOT_AUTO;
                return 0;
        }
        if (strcmp(s, "overlay2") == 0) {
                *ret = BERTH_SNAPSHOT_OVERLAY;
                return 0;
        }
        for (size_t i = 0; i < _BERTH_SNAPSHOT_DRIVER_MAX; i++)
                if (strcmp(s, driver_names[i]) == 0) {
                        *ret = (berth_snapshot_driver)i;
                        return 0;
                }
        return -EINVAL;
}

/* Opens dir (making it when create), refusing a symlink: every path below is ours. */
static int open_snapshot_dir(const char *dir, bool create, berth_error *err)
{
        struct stat st;
        int fd;

        if (dir[0] != '/')
                return berth_error_set(err, EINVAL, "snapshot directory `%s` is not absolute", dir);
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "snapshot: mkdir `%s`", dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if ((errno == ELOOP || errno == ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
                return berth_error_set(err, ELOOP, "snapshot directory `%s` is a symlink", dir);
        return berth_error_sys(err, errno, "snapshot: open `%s`", dir);
}

static int read_driver(int dfd, const char *dir, berth_snapshot_driver *ret, berth_error *err)
{
        _cleanup_free_ char *buf = NULL;
        berth_error e = BERTH_ERROR_INIT;
        size_t len = 0;
        int r = berth_read_file_at(dfd, "driver", 64, &buf, &len, &e);

        if (r == -ENOENT) {
                berth_error_release(&e);
                return -ENOENT;
        }
        if (r < 0) {
                *err = e;
                return berth_error_prefix(err, "snapshot `%s`", dir);
        }
        while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        if (berth_snapshot_driver_from_string(buf, ret) < 0 || *ret == BERTH_SNAPSHOT_AUTO)
                return berth_error_set(err, EINVAL, "snapshot `%s/driver`: unknown driver `%s`",
                                       dir, buf);
        return 0;
}

/* Written before anything is mounted, so that unmount always knows what to undo. */
static int write_driver(int dfd, const char *dir, berth_snapshot_driver d, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        char line[16];
        int n = snprintf(line, sizeof(line), "%s\n", berth_snapshot_driver_to_string(d));

        fd = openat(dfd, "driver.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error_sys(err, errno, "snapshot: create `%s/driver.tmp`", dir);
        if (berth_write_all(fd, line, (size_t)n) < 0)
                return berth_error_sys(err, errno, "snapshot: write `%s/driver.tmp`", dir);
        if (renameat(dfd, "driver.tmp", dfd, "driver") < 0)
                return berth_error_sys(err, errno, "snapshot: rename `%s/driver.tmp`", dir);
        return 0;
}

/* 1 when name in dfd is the root of a mount, 0 when not (or missing), -errno. */
static int is_mount_point(int dfd, const char *name)
{
        struct statx sx, parent;

        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        /* Before 5.8: a different device (which misses a bind mount from the same one). */
        if (statx(dfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &parent) < 0)
                return -errno;
        return sx.stx_dev_major != parent.stx_dev_major || sx.stx_dev_minor != parent.stx_dev_minor;
}

/* Removes what a failed first mount created; a container's own files in dir stay. */
static void discard_new(int dfd, const char *dir)
{
        for (size_t i = 0; i < ARRAY_SIZE(owned_names); i++) {
                berth_error e = BERTH_ERROR_INIT;
                if (berth_rm_rf_at(dfd, owned_names[i], &e) < 0) {
                        log_warn("snapshot `%s`: %s", dir, berth_error_msg(&e));
                        berth_error_release(&e);
                }
        }
}

static int mkdir_mode(int dfd, const char *dir, const char *name, mode_t mode, bool *ret_created,
                      berth_error *err)
{
        bool created = mkdirat(dfd, name, mode) == 0;

        if (!created && errno != EEXIST)
                return berth_error_sys(err, errno, "snapshot: mkdir `%s/%s`", dir, name);
        /* The mode asked for, whatever the umask: these become visible roots. */
        if (created && fchmodat(dfd, name, mode, 0) < 0)
                return berth_error_sys(err, errno, "snapshot: chmod `%s/%s`", dir, name);
        if (ret_created)
                *ret_created = created;
        return 0;
}

static int bind_read_only(const char *src, const char *target, berth_error *err)
{
        if (mount(src, target, NULL, MS_BIND, NULL) < 0)
                return berth_error_sys(err, errno, "bind-mount `%s` on `%s`", src, target);
        /* A bind mount takes its flags from a remount only. */
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL) < 0) {
                int e = errno;
                umount2(target, MNT_DETACH);
                return berth_error_sys(err, e, "remount `%s` read-only", target);
        }
        return 0;
}

/* Appends s to the option page; E2BIG once it would not fit (with its NUL). */
static int opt_append(char *buf, size_t size, size_t *len, const char *s)
{
        size_t n = strlen(s);

        if (*len + n + 1 > size)
                return -E2BIG;
        memcpy(buf + *len, s, n + 1);
        *len += n;
        return 0;
}

/* overlay's option syntax has no escapes we could rely on for these in upper/work paths. */
static int check_overlay_path(const char *dir, berth_error *err)
{
        if (strpbrk(dir, ",:\\\n"))
                return berth_error_set(err, EINVAL,
                                       "snapshot directory `%s` has a character (,:\\) that "
                                       "overlay mount options cannot carry",
                                       dir);
        return 0;
}

/* "lowerdir=l/<top>:...:l/<bottom>" into buf, checking that every layer is there. */
static int lower_option(berth_store *s, const berth_image *img, char *buf, size_t size, size_t *len,
                        berth_error *err)
{
        int lfd = berth_store_layers_dirfd(s);

        if (opt_append(buf, size, len, "lowerdir=") < 0)
                return -E2BIG;
        for (size_t i = img->n_layers; i-- > 0;) {
                _cleanup_free_ char *sh = berth_store_layer_short(s, img->layers[i].chain_id);

                if (!sh || faccessat(lfd, sh, F_OK, 0) < 0)
                        return berth_error_set(err, ENOENT,
                                               "image %s: layer %s is not in the store", img->id,
                                               img->layers[i].chain_id);
                if ((i + 1 < img->n_layers && opt_append(buf, size, len, ":") < 0) ||
                    opt_append(buf, size, len, sh) < 0)
                        return berth_error_set(err, E2BIG,
                                               "image %s: %zu layers are more than overlay's "
                                               "mount options can name",
                                               img->id, img->n_layers);
        }
        return 0;
}

static int mount_overlay(berth_store *s, const char *target, unsigned long flags, const char *opts,
                         berth_error *err)
{
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r, e;

        if (cwd < 0)
                return berth_error_sys(err, errno, "mount overlay: open the working directory");
        /*
         * The lowerdirs are the layers' short paths relative to layers/, which
         * the kernel resolves against the caller's working directory: that is
         * what keeps a deep image's options within the one page mount(2)
         * copies. So the mount runs in layers/, and the old working directory
         * comes straight back. (The working directory is the process's: no
         * other thread may use relative paths meanwhile.)
         */
        if (fchdir(berth_store_layers_dirfd(s)) < 0)
                return berth_error_sys(err, errno, "mount overlay: enter `%s/layers`",
                                       berth_store_root(s));
        r = mount("overlay", target, "overlay", flags, opts);
        e = errno;
        if (fchdir(cwd) < 0) {
                e = errno;
                if (r == 0)
                        umount2(target, MNT_DETACH);
                return berth_error_sys(err, e, "mount overlay: return to the working directory");
        }
        if (r < 0)
                return berth_error_sys(err, e, "mount overlay on `%s`", target);
        return 0;
}

/* Gives upper the top layer's root attributes: overlay shows upper's root as the rootfs root. */
static int upper_like_top_layer(berth_store *s, const berth_image *img, int dfd, const char *dir,
                                berth_error *err)
{
        _cleanup_free_ char *sh = NULL;
        struct stat st;

        if (img->n_layers == 0)
                return 0;
        sh = berth_store_layer_short(s, img->layers[img->n_layers - 1].chain_id);
        if (!sh || fstatat(berth_store_layers_dirfd(s), sh, &st, 0) < 0)
                return berth_error_set(err, ENOENT, "image %s: layer %s is not in the store",
                                       img->id, img->layers[img->n_layers - 1].chain_id);
        if (fchownat(dfd, "upper", st.st_uid, st.st_gid, 0) < 0 ||
            fchmodat(dfd, "upper", st.st_mode & 07777, 0) < 0)
                return berth_error_sys(err, errno, "snapshot: set attributes of `%s/upper`", dir);
        return 0;
}

static int snapshot_overlay(berth_store *s, const berth_image *img, const char *dir, int dfd,
                            bool read_only, char **ret, berth_error *err)
{
        _cleanup_free_ char *merged = NULL, *opts = NULL, *src = NULL;
        size_t size = (size_t)sysconf(_SC_PAGESIZE), len = 0;
        bool created;
        int r;

        r = check_overlay_path(dir, err);
        if (r < 0)
                return r;
        r = mkdir_mode(dfd, dir, "merged", 0755, NULL, err);
        if (r < 0)
                return r;
        r = is_mount_point(dfd, "merged");
        if (r != 0)
                return r < 0 ? berth_error_sys(err, -r, "snapshot: stat `%s/merged`", dir)
                             : berth_error_set(err, EBUSY, "snapshot `%s` is mounted already", dir);
        if (asprintf(&merged, "%s/merged", dir) < 0)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");

        if (read_only && img->n_layers < 2) {
                /* overlay wants two lowers when there is no upper; one tree needs no overlay */
                if (img->n_layers == 0) {
                        r = mkdir_mode(dfd, dir, "empty", 0755, NULL, err);
                        if (r < 0)
                                return r;
                        if (asprintf(&src, "%s/empty", dir) < 0)
                                src = NULL;
                } else {
                        src = berth_store_layer_path(s, img->layers[0].chain_id);
                }
                if (!src)
                        return berth_error_set(err, ENOMEM, "snapshot: out of memory");
                if (img->n_layers == 1 && access(src, F_OK) < 0)
                        return berth_error_set(err, ENOENT,
                                               "image %s: layer %s is not in the store", img->id,
                                               img->layers[0].chain_id);
                r = bind_read_only(src, merged, err);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(merged);
                return 0;
        }

        opts = malloc(size);
        if (!opts)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");
        opts[0] = '\0';
        if (img->n_layers > 0) {
                r = lower_option(s, img, opts, size, &len, err);
                if (r < 0)
                        return r;
        } else {
                r = mkdir_mode(dfd, dir, "empty", 0755, NULL, err);
                if (r < 0)
                        return r;
                if (opt_append(opts, size, &len, "lowerdir=") < 0 ||
                    opt_append(opts, size, &len, dir) < 0 ||
                    opt_append(opts, size, &len, "/empty") < 0)
                        return berth_error_set(err, E2BIG, "snapshot `%s`: path too long", dir);
        }
        if (!read_only) {
                r = mkdir_mode(dfd, dir, "upper", 0755, &created, err);
                if (r >= 0 && created)
                        r = upper_like_top_layer(s, img, dfd, dir, err);
                if (r >= 0)
                        r = mkdir_mode(dfd, dir, "work", 0700, NULL, err);
                if (r < 0)
                        return r;
                /* why these three: snapshot.h */
                if (opt_append(opts, size, &len, ",upperdir=") < 0 ||
                    opt_append(opts, size, &len, dir) < 0 ||
                    opt_append(opts, size, &len, "/upper,workdir=") < 0 ||
                    opt_append(opts, size, &len, dir) < 0 ||
                    opt_append(opts, size, &len, "/work,index=off,redirect_dir=off,metacopy=off") <
                            0)
                        return berth_error_set(err, E2BIG,
                                               "image %s: %zu layers and `%s` are more than "
                                               "overlay's mount options can name",
                                               img->id, img->n_layers, dir);
        }
        log_debug("snapshot `%s`: overlay %s (%zu bytes)", dir, opts, len);
        r = mount_overlay(s, merged, MS_NODEV | (read_only ? MS_RDONLY : 0), opts, err);
        if (r < 0)
                return berth_error_prefix(err, "image %s", img->id);
        *ret = TAKE_PTR(merged);
        return 0;
}

static void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

/* The vfs copy, made in rootfs.tmp and renamed into place only when complete. */
static int make_copy(berth_store *s, const berth_image *img, const char *dir, int dfd,
                     berth_error *err)
{
        int *fds = calloc(img->n_layers + 1, sizeof(int));
        _cleanup_close_ int tmpfd = -1;
        int r = 0;

        if (!fds)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");
        for (size_t i = 0; i < img->n_layers; i++)
                fds[i] = -1;
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++) {
                _cleanup_free_ char *sh = berth_store_layer_short(s, img->layers[i].chain_id);

                if (sh)
                        fds[i] = openat(berth_store_layers_dirfd(s), sh,
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fds[i] < 0)
                        r = berth_error_set(err, ENOENT, "image %s: layer %s is not in the store",
                                            img->id, img->layers[i].chain_id);
        }
        if (r >= 0)
                r = berth_rm_rf_at(dfd, "rootfs.tmp", err); /* a copy a killed berth left */
        if (r >= 0)
                r = mkdir_mode(dfd, dir, "rootfs.tmp", 0755, NULL, err);
        if (r >= 0 && (tmpfd = openat(dfd, "rootfs.tmp",
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                r = berth_error_sys(err, errno, "snapshot: open `%s/rootfs.tmp`", dir);
        if (r >= 0) {
                r = berth_snapshot_copy_layers(fds, img->n_layers, tmpfd, err);
                if (r < 0)
                        berth_error_prefix(err, "image %s: copy its layers into `%s`", img->id,
                                           dir);
        }
        close_fds(fds, img->n_layers);
        if (r < 0)
                return r;
        if (renameat(dfd, "rootfs.tmp", dfd, "rootfs") < 0)
                return berth_error_sys(err, errno, "snapshot: rename `%s/rootfs.tmp`", dir);
        return 0;
}

static int snapshot_vfs(berth_store *s, const berth_image *img, const char *dir, int dfd,
                        bool read_only, char **ret, berth_error *err)
{
        _cleanup_free_ char *rootfs = NULL;
        struct stat st;
        int r;

        if (asprintf(&rootfs, "%s/rootfs", dir) < 0)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");
        if (fstatat(dfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return berth_error_sys(err, errno, "snapshot: stat `%s`", rootfs);
                r = make_copy(s, img, dir, dfd, err);
                if (r < 0)
                        return r;
        } else if (!S_ISDIR(st.st_mode)) {
                return berth_error_set(err, ENOTDIR, "snapshot: `%s` is not a directory", rootfs);
        } else if ((r = is_mount_point(dfd, "rootfs")) != 0) {
                return r < 0 ? berth_error_sys(err, -r, "snapshot: stat `%s`", rootfs)
                             : berth_error_set(err, EBUSY, "snapshot `%s` is mounted already", dir);
        }
        if (read_only) {
                r = bind_read_only(rootfs, rootfs, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(rootfs);
        return 0;
}

/* The overlay failures that say "not here" rather than "something is wrong". */
static bool overlay_unusable(int r)
{
        return r == -EINVAL || r == -ENODEV || r == -EPERM || r == -EOPNOTSUPP || r == -E2BIG;
}

int berth_snapshot_mount(berth_store *s, const berth_image *img, const char *dir,
                         berth_snapshot_driver driver, bool read_only, char **ret_rootfs,
                         berth_error *err)
{
        _cleanup_close_ int dfd = -1;
        berth_snapshot_driver recorded;
        bool fresh;
        int r;

        *ret_rootfs = NULL;
        if (!berth_snapshot_driver_to_string(driver))
                return berth_error_set(err, EINVAL, "snapshot: unknown driver %d", (int)driver);
        dfd = open_snapshot_dir(dir, true, err);
        if (dfd < 0)
                return dfd;
        r = read_driver(dfd, dir, &recorded, err);
        if (r < 0 && r != -ENOENT)
                return r;
        fresh = r == -ENOENT;
        if (!fresh) {
                if (driver != BERTH_SNAPSHOT_AUTO && driver != recorded)
                        return berth_error_set(err, EINVAL,
                                               "snapshot `%s` was made with the %s driver, not %s",
                                               dir, berth_snapshot_driver_to_string(recorded),
                                               berth_snapshot_driver_to_string(driver));
                driver = recorded;
        }

        if (driver != BERTH_SNAPSHOT_VFS) {
                r = fresh ? write_driver(dfd, dir, BERTH_SNAPSHOT_OVERLAY, err) : 0;
                if (r >= 0)
                        r = snapshot_overlay(s, img, dir, dfd, read_only, ret_rootfs, err);
                if (r >= 0)
                        return 0;
                if (fresh)
                        discard_new(dfd, dir);
                if (driver != BERTH_SNAPSHOT_AUTO || !fresh || !overlay_unusable(r))
                        return r;
                log_debug("snapshot `%s`: %s; copying the layers instead (vfs)", dir,
                          berth_error_msg(err));
                berth_error_release(err);
        }
        r = fresh ? write_driver(dfd, dir, BERTH_SNAPSHOT_VFS, err) : 0;
        if (r >= 0)
                r = snapshot_vfs(s, img, dir, dfd, read_only, ret_rootfs, err);
        if (r < 0 && fresh)
                discard_new(dfd, dir);
        return r;
}

/* Unmounts dir/name until nothing is mounted there (two racing mounts may have stacked). */
static int unmount_all(const char *dir, const char *name, berth_error *err)
{
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");
        for (int i = 0; i < 16; i++) {
                if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                        continue;
                if (errno == EINVAL || errno == ENOENT)
                        return 0; /* not (or no longer) a mount point */
                if (errno == EBUSY) {
                        log_debug("snapshot: `%s` is busy, detaching it", path);
                        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                                continue;
                }
                return berth_error_sys(err, errno, "unmount `%s`", path);
        }
        return berth_error_set(err, EBUSY, "unmount `%s`: still mounted", path);
}

int berth_snapshot_unmount(const char *dir, bool remove, berth_error *err)
{
        _cleanup_close_ int dfd = -1;
        berth_error e = BERTH_ERROR_INIT;
        int r;

        dfd = open_snapshot_dir(dir, false, &e);
        if (dfd == -ENOENT) {
                berth_error_release(&e);
                return 0;
        }
        if (dfd < 0) {
                *err = e;
                return dfd;
        }
        /* Both names whatever dir/driver says: a crash may have left either. */
        r = unmount_all(dir, "merged", err);
        if (r >= 0)
                r = unmount_all(dir, "rootfs", err);
        if (r < 0 || !remove)
                return r;
        closep(&dfd);
        r = berth_rm_rf_at(AT_FDCWD, dir, err);
        if (r < 0)
                return berth_error_prefix(err, "remove snapshot");
        return 0;
}

int berth_snapshot_info(const char *dir, berth_snapshot_driver *ret_driver, char **ret_rootfs,
                        bool *ret_mounted, berth_error *err)
{
        _cleanup_close_ int dfd = -1;
        berth_snapshot_driver d;
        const char *name;
        int r;

        dfd = open_snapshot_dir(dir, false, err);
        if (dfd < 0)
                return dfd;
        r = read_driver(dfd, dir, &d, err);
        if (r == -ENOENT)
                return berth_error_set(err, ENOENT, "`%s` holds no snapshot", dir);
        if (r < 0)
                return r;
        name = d == BERTH_SNAPSHOT_OVERLAY ? "merged" : "rootfs";
        r = is_mount_point(dfd, name);
        if (r < 0)
                return berth_error_sys(err, -r, "snapshot: stat `%s/%s`", dir, name);
        if (ret_driver)
                *ret_driver = d;
        if (ret_mounted)
                *ret_mounted = r > 0;
        if (ret_rootfs && asprintf(ret_rootfs, "%s/%s", dir, name) < 0)
                return berth_error_set(err, ENOMEM, "snapshot: out of memory");
        return 0;
}
