/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Layer application (layer.h): libarchive parses the tar that the thread of
 * decompress.c inflates, and the code here writes every entry itself, so
 * that each path goes through one confinement rule.
 *
 * The rule. An entry's name is cleaned lexically first, as docker does: a
 * leading "/" and "." components are dropped, ".." removes the component
 * before it, and a ".." with nothing left to remove escapes the layer and is
 * refused. The parent directory is then opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS): a symlink in the parent path is followed only while
 * it stays below the layer directory, so "lib -> usr/lib" then "lib/x"
 * writes usr/lib/x, but an absolute symlink or one climbing out with ".."
 * fails with EXDEV and the entry is refused. (RESOLVE_IN_ROOT would quietly
 * write elsewhere inside the layer instead; a layer that writes through its
 * own absolute symlinks is either broken or hostile, and docker-built layers
 * never do, since a directory walk does not descend through symlinks.) The
 * last component is always created with O_NOFOLLOW/O_EXCL or an *at call
 * that does not follow, so an existing symlink there is replaced, never
 * written through. Symlink targets are stored as they are: they mean
 * something only inside the container, where the kernel resolves them.
 *
 * Speed. Layers hold many files per directory, in order, so the fd of the
 * last parent directory is kept and reused while the parent stays the same,
 * and a directory just created becomes the cached parent of what follows.
 * Files are created O_EXCL (no truncation of what is not there), never
 * fsync'ed: the caller renames the directory into place once all is done.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "image/decompress.h"
#include "image/layer-fs.h"
#include "image/layer.h"

#define WH             ".wh."
#define WH_META        ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"
#define OPAQUE_XATTR   "trusted.overlay.opaque"
#define OVERLAY_XATTRS "trusted.overlay."

/* A directory whose mtime (and, unprivileged, mode) is set after its contents. */
struct dir_time {
        char *path; /* cleaned; "" is the layer directory itself */
        struct timespec times[2];
        mode_t mode;
        bool set_mode;
};

struct applier {
        const berth_layer_options *opts;
        uint64_t max_entries, max_bytes;
        int rootfd; /* the layer directory, readable: fsetxattr refuses O_PATH fds */
        bool privileged;
        layer_stream *stream;
        bool stream_failed;
        struct archive *a;
        uint64_t entries;
        const void *first; /* the block read before libarchive started */
        size_t first_len;

        /* the last parent directory, which most entries share with the one before */
        char cached_path[PATH_MAX];
        int cached_fd;
        /* what dir_info() found out about directory info_fd */
        int info_fd;
        bool info_valid, info_sgid;
        gid_t info_gid;
        uid_t euid;
        gid_t egid;
        mode_t umask;

        struct dir_time *dirs;
        size_t n_dirs, cap_dirs;

        /* the entry at hand */
        struct archive_entry *e;
        const char *name; /* as the tar says */
        char path[PATH_MAX];
        char parent[PATH_MAX];
        const char *base;
        uid_t uid;
        gid_t gid;
        mode_t perm;
        struct timespec times[2];
};

static void applier_release(struct applier *ap)
{
        for (size_t i = 0; i < ap->n_dirs; i++)
                free(ap->dirs[i].path);
        free(ap->dirs);
        if (ap->cached_fd >= 0)
                close(ap->cached_fd);
        if (ap->rootfd >= 0)
                close(ap->rootfd);
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Cleans `name` into out[PATH_MAX] (see the rule above). Returns its length,
 * -EXDEV when a ".." climbs above the layer, -ENAMETOOLONG.
 */
static ssize_t clean_name(const char *name, char *out)
{
        size_t len = 0;

        for (const char *p = name; *p;) {
                size_t n;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.')) {
                        /* nothing, or "." */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash;

                        if (len == 0)
                                return -EXDEV;
                        out[len] = '\0';
                        slash = strrchr(out, '/');
                        len = slash ? (size_t)(slash - out) : 0;
                } else {
                        if (len + 1 + n >= PATH_MAX)
                                return -ENAMETOOLONG;
                        if (len > 0)
                                out[len++] = '/';
                        memcpy(out + len, p, n);
                        len += n;
                }
                p += n;
        }
        out[len] = '\0';
        return (ssize_t)len;
}

/* Splits ap->path into ap->parent and ap->base. */
static void split_path(struct applier *ap)
{
        char *slash = strrchr(ap->path, '/');
        size_t n = slash ? (size_t)(slash - ap->path) : 0;

        memcpy(ap->parent, ap->path, n);
        ap->parent[n] = '\0';
        ap->base = slash ? slash + 1 : ap->path;
}

static int resolve_error(berth_error *err, int r, const char *path)
{
        if (r == -EXDEV)
                return berth_error_set(err, EXDEV, "`%s` goes through a symlink out of the layer",
                                       path);
        if (r == -ENOTDIR)
                return berth_error_set(err, ENOTDIR, "`%s` is not a directory", path);
        return berth_error_sys(err, -r, "open `%s`", path);
}

/*
 * The fd of directory `parent` (cleaned, "" for the layer directory), made
 * with its missing parents as tar does. Owned by the cache, valid until the
 * next call.
 */
static int parent_fd(struct applier *ap, const char *parent, berth_error *err)
{
        int fd;

        if (!*parent)
                return ap->rootfd;
        if (ap->cached_fd >= 0 && strcmp(ap->cached_path, parent) == 0)
                return ap->cached_fd;
        fd = layer_open_beneath(ap->rootfd, parent, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT)
                fd = layer_mkdir_parents(ap->rootfd, parent);
        if (fd < 0)
                return resolve_error(err, fd, parent);
        if (ap->cached_fd >= 0)
                close(ap->cached_fd);
        ap->cached_fd = fd;
        ap->info_valid = false;                              /* the fd number may be the same */
        memcpy(ap->cached_path, parent, strlen(parent) + 1); /* both PATH_MAX */
        return fd;
}

/* Makes `fd` (a directory called `path`) the cached parent; takes fd. */
static void cache_dir(struct applier *ap, const char *path, int fd)
{
        if (ap->cached_fd >= 0)
                close(ap->cached_fd);
        ap->cached_fd = fd;
        ap->info_valid = false;
        memcpy(ap->cached_path, path, strlen(path) + 1);
}

/* Reads the entry's ownership, mode and times into ap. */
static int read_meta(struct applier *ap, berth_error *err)
{
        const berth_layer_options *o = ap->opts;
        int64_t uid = archive_entry_uid(ap->e), gid = archive_entry_gid(ap->e);
        long nsec = archive_entry_mtime_nsec(ap->e);

        /* (uid_t)-1 means "leave unchanged" to chown: never a valid owner */
        if (o->keep_ownership &&
            (uid < 0 || gid < 0 || (uint64_t)uid + o->uid_shift >= UINT32_MAX ||
             (uint64_t)gid + o->gid_shift >= UINT32_MAX))
                return berth_error_set(err, EINVAL, "owner %" PRId64 ":%" PRId64 " out of range",
                                       uid, gid);
        ap->uid = (uid_t)((uint64_t)uid + o->uid_shift);
        ap->gid = (gid_t)((uint64_t)gid + o->gid_shift);
        ap->perm = archive_entry_perm(ap->e) & 07777;
        ap->times[1].tv_sec = archive_entry_mtime(ap->e);
        ap->times[1].tv_nsec = nsec >= 0 && nsec < 1000000000 ? nsec : 0;
        ap->times[0] = ap->times[1];
        if (archive_entry_atime_is_set(ap->e)) {
                nsec = archive_entry_atime_nsec(ap->e);
                ap->times[0].tv_sec = archive_entry_atime(ap->e);
                ap->times[0].tv_nsec = nsec >= 0 && nsec < 1000000000 ? nsec : 0;
        }
        return 0;
}

/*
 * Where metadata goes: an open fd (regular files, directories), or a name in
 * a directory for what cannot be opened safely (symlinks, fifos, devices);
 * dirfd is the directory it was made in either way.
 */
struct target {
        int fd;
        int dirfd;
        const char *name;
        bool fresh;     /* made just now: what it already has need not be set again */
        mode_t created; /* then the mode it was made with, after umask and setgid inheritance */
};

#define NO_MODE ((mode_t)-1)

/* Whether a new inode in dirfd takes the directory's group (setgid), and which. */
static int dir_info(struct applier *ap, int dirfd, bool *ret_sgid, gid_t *ret_gid)
{
        struct stat st;

        if (!ap->info_valid || ap->info_fd != dirfd) {
                if (fstat(dirfd, &st) < 0)
                        return -errno;
                ap->info_fd = dirfd;
                ap->info_sgid = st.st_mode & S_ISGID;
                ap->info_gid = st.st_gid;
                ap->info_valid = true;
        }
        *ret_sgid = ap->info_sgid;
        *ret_gid = ap->info_gid;
        return 0;
}

/*
 * The mode bits an inode made in dirfd with `requested` gets: the umask
 * applies, and a directory inherits setgid from its parent.
 */
static mode_t created_mode(struct applier *ap, int dirfd, mode_t requested, bool is_dir)
{
        bool sgid = false;
        gid_t gid;

        if (is_dir && dir_info(ap, dirfd, &sgid, &gid) < 0)
                return NO_MODE;
        return (requested & 0777 & ~ap->umask) | (sgid ? S_ISGID : 0);
}

/*
 * Most entries belong to root: a new inode is ours already, and chown(2)
 * would only dirty it once more. Unsure (no fstat), chown anyway.
 */
static bool need_chown(struct applier *ap, int dirfd)
{
        bool sgid;
        gid_t gid;

        if (!ap->opts->keep_ownership)
                return false;
        if (ap->uid != ap->euid || dir_info(ap, dirfd, &sgid, &gid) < 0)
                return true;
        return ap->gid != (sgid ? gid : ap->egid);
}

static int set_owner(struct applier *ap, const struct target *t, berth_error *err)
{
        int r = t->fd >= 0 ? fchown(t->fd, ap->uid, ap->gid)
                           : fchownat(t->dirfd, t->name, ap->uid, ap->gid, AT_SYMLINK_NOFOLLOW);

        if (r < 0)
                return berth_error_sys(err, errno, "chown to %u:%u", (unsigned)ap->uid,
                                       (unsigned)ap->gid);
        return 0;
}

static int set_mode(const struct target *t, mode_t mode, berth_error *err)
{
        /* fchmodat follows a symlink; none can appear in the private directory meanwhile */
        int r = t->fd >= 0 ? fchmod(t->fd, mode) : fchmodat(t->dirfd, t->name, mode, 0);

        if (r < 0)
                return berth_error_sys(err, errno, "chmod %04o", (unsigned)mode);
        return 0;
}

/*
 * Ownership, then the mode (chown(2) clears setuid and setgid), each only
 * where the inode does not have it already. NO_MODE: leave the mode.
 */
static int set_owner_mode(struct applier *ap, const struct target *t, mode_t mode, berth_error *err)
{
        bool chowned = false;

        if (ap->opts->keep_ownership && (!t->fresh || need_chown(ap, t->dirfd))) {
                if (set_owner(ap, t, err) < 0)
                        return -1;
                chowned = true;
        }
        if (mode != NO_MODE && (!t->fresh || t->created != mode || (chowned && (mode & 06000))))
                return set_mode(t, mode, err);
        return 0;
}

static int set_xattr(const struct target *t, const char *name, const void *value, size_t size)
{
        char path[PATH_MAX + 32];

        if (t->fd >= 0)
                return fsetxattr(t->fd, name, value, size, 0);
        /* no fsetxattr on O_PATH fds: the name below /proc/self/fd/N, not followed */
        if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", t->dirfd, t->name) >=
            (int)sizeof(path)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return lsetxattr(path, name, value, size, 0);
}

/*
 * The entry's xattrs. overlayfs' own (trusted.overlay.*) are dropped: a
 * layer says "opaque" with a .wh..wh..opq entry, and the others (redirect,
 * metacopy, origin) would steer the overlay mount. A filesystem without
 * xattrs, or user.* on a symlink or device (which the kernel refuses), loses
 * them, as with containerd; any other failure fails the entry.
 */
static int set_xattrs(struct applier *ap, const struct target *t, bool can_user, berth_error *err)
{
        const char *name;
        const void *value;
        size_t size;

        if (archive_entry_xattr_reset(ap->e) == 0)
                return 0;
        while (archive_entry_xattr_next(ap->e, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || has_prefix(name, OVERLAY_XATTRS))
                        continue;
                if (set_xattr(t, name, value, size) == 0)
                        continue;
                if (errno == ENOTSUP || (errno == EPERM && !can_user && has_prefix(name, "user.")))
                        continue;
                return berth_error_sys(err, errno, "set xattr `%s`", name);
        }
        return 0;
}

static int set_times(const struct target *t, const struct timespec times[2], berth_error *err)
{
        int r = t->fd >= 0 ? futimens(t->fd, times)
                           : utimensat(t->dirfd, t->name, times, AT_SYMLINK_NOFOLLOW);

        if (r < 0)
                return berth_error_sys(err, errno, "set times");
        return 0;
}

/* Ownership, mode, xattrs and times of a non-directory, in the order that keeps them all. */
static int set_meta(struct applier *ap, const struct target *t, mode_t mode, bool can_user,
                    berth_error *err)
{
        if (set_owner_mode(ap, t, mode, err) < 0)
                return -1;
        /* after chown, which drops security.capability */
        if (set_xattrs(ap, t, can_user, err) < 0)
                return -1;
        return set_times(t, ap->times, err);
}

static int remove_existing(int dirfd, const char *name, berth_error *err)
{
        int r = layer_remove(dirfd, name);

        if (r < 0)
                return berth_error_sys(err, -r, "remove the existing `%s`", name);
        return 0;
}

/* The stream's own error (a corrupt gzip, a read error) says more than libarchive's. */
static int stream_error(struct applier *ap, berth_error *err)
{
        layer_stream_cancel(ap->stream);
        return layer_stream_finish(ap->stream, NULL, NULL, NULL, err);
}

/*
 * libarchive failed. A corrupt gzip or zstd stream usually shows first as a
 * broken tar, its checksum failing only at the end: read on, so that the
 * message names the cause.
 */
static int archive_error(struct applier *ap, struct archive *a, berth_error *err)
{
        const char *msg = archive_error_string(a);

        if (!ap->stream_failed && layer_stream_drain(ap->stream) < 0)
                ap->stream_failed = true;
        if (ap->stream_failed && stream_error(ap, err) < 0)
                return -1;
        return berth_error_set(err, EINVAL, "tar: %s", msg ? msg : "unreadable archive");
}

static int write_data(struct applier *ap, int fd, berth_error *err)
{
        int64_t size = archive_entry_size(ap->e);
        int64_t pos = 0;

        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t offset;
                ssize_t n;
                int r;

                r = archive_read_data_block(ap->a, &buf, &len, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return archive_error(ap, ap->a, err);
                if (offset != pos) {
                        /* sparse: skipping ahead leaves a hole */
                        if (offset < pos || lseek(fd, offset, SEEK_SET) < 0)
                                return berth_error_sys(err, offset < pos ? EINVAL : errno,
                                                       "seek to %" PRId64, (int64_t)offset);
                        pos = offset;
                }
                n = berth_write_all(fd, buf, len);
                if (n < 0)
                        return berth_error_sys(err, (int)-n, "write");
                pos += (int64_t)len;
        }
        if (size > pos && ftruncate(fd, size) < 0) /* a hole at the end */
                return berth_error_sys(err, errno, "truncate to %" PRId64, size);
        return 0;
}

static int apply_file(struct applier *ap, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        struct target t;
        int dirfd = parent_fd(ap, ap->parent, err);

        if (dirfd < 0)
                return dirfd;
        /* with its mode right away: then most files need no chmod */
        fd = openat(dirfd, ap->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    ap->perm & 0777);
        if (fd < 0 && errno == EEXIST) {
                if (remove_existing(dirfd, ap->base, err) < 0)
                        return -1;
                fd = openat(dirfd, ap->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            ap->perm & 0777);
        }
        if (fd < 0)
                return berth_error_sys(err, errno, "create");
        if (write_data(ap, fd, err) < 0)
                return -1;
        t = (struct target){ .fd = fd,
                             .dirfd = dirfd,
                             .fresh = true,
                             .created = created_mode(ap, dirfd, ap->perm, false) };
        return set_meta(ap, &t, ap->perm, true, err);
}

static int defer_dir_time(struct applier *ap, const char *path, mode_t mode, bool set_mode_later)
{
        struct dir_time *d;

        if (ap->n_dirs == ap->cap_dirs) {
                size_t cap = ap->cap_dirs ? ap->cap_dirs * 2 : 64;
                struct dir_time *dirs = reallocarray(ap->dirs, cap, sizeof(*dirs));

                if (!dirs)
                        return -ENOMEM;
                ap->dirs = dirs;
                ap->cap_dirs = cap;
        }
        d = &ap->dirs[ap->n_dirs];
        d->path = strdup(path);
        if (!d->path)
                return -ENOMEM;
        memcpy(d->times, ap->times, sizeof(d->times));
        d->mode = mode;
        d->set_mode = set_mode_later;
        ap->n_dirs++;
        return 0;
}

/*
 * A directory: an existing one is kept (its contents merge, as tar does),
 * anything else there is replaced. Unprivileged, a directory the tar makes
 * unwritable would stop its own contents: it stays u+rwx until the end.
 */
static int apply_dir(struct applier *ap, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        bool later = !ap->privileged && (ap->perm & 0700) != 0700;
        mode_t mode = later ? ap->perm | 0700 : ap->perm;
        struct target t;
        int r;

        if (!*ap->path) {
                t = (struct target){ .fd = ap->rootfd, .dirfd = -1 };
        } else {
                int dirfd = parent_fd(ap, ap->parent, err);
                struct stat st;

                if (dirfd < 0)
                        return dirfd;
                r = mkdirat(dirfd, ap->base, mode & 0777);
                if (r < 0 && errno == EEXIST &&
                    (fstatat(dirfd, ap->base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                     !S_ISDIR(st.st_mode))) {
                        if (remove_existing(dirfd, ap->base, err) < 0)
                                return -1;
                        r = mkdirat(dirfd, ap->base, mode & 0777);
                }
                if (r < 0 && errno != EEXIST)
                        return berth_error_sys(err, errno, "mkdir");
                fd = openat(dirfd, ap->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return berth_error_sys(err, errno, "open the directory");
                t = (struct target){ .fd = fd, .dirfd = dirfd, .fresh = r == 0 };
                if (t.fresh)
                        t.created = created_mode(ap, dirfd, mode, true);
        }
        r = set_owner_mode(ap, &t, mode, err);
        /* its owner or mode may have changed under what dir_info() knows */
        ap->info_valid = false;
        if (r < 0 || set_xattrs(ap, &t, true, err) < 0)
                return -1;
        if (defer_dir_time(ap, ap->path, ap->perm, later) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (fd >= 0)
                cache_dir(ap, ap->path, TAKE_FD(fd));
        return 0;
}

static int apply_symlink(struct applier *ap, berth_error *err)
{
        const char *target = archive_entry_symlink(ap->e);
        struct target t;
        int dirfd, r;

        if (!target || !*target)
                return berth_error_set(err, EINVAL, "symlink without a target");
        dirfd = parent_fd(ap, ap->parent, err);
        if (dirfd < 0)
                return dirfd;
        r = symlinkat(target, dirfd, ap->base);
        if (r < 0 && errno == EEXIST) {
                if (remove_existing(dirfd, ap->base, err) < 0)
                        return -1;
                r = symlinkat(target, dirfd, ap->base);
        }
        if (r < 0)
                return berth_error_sys(err, errno, "symlink");
        t = (struct target){ .fd = -1, .dirfd = dirfd, .name = ap->base, .fresh = true };
        return set_meta(ap, &t, NO_MODE, false, err);
}

/* Fifos and (when allowed) devices. */
static int apply_node(struct applier *ap, mode_t type, berth_error *err)
{
        dev_t dev = type == S_IFIFO ? 0 : archive_entry_rdev(ap->e);
        struct target t;
        int dirfd, r;

        if (type != S_IFIFO && !ap->opts->allow_devices)
                return berth_error_set(err, EPERM, "device nodes are not allowed in this layer");
        dirfd = parent_fd(ap, ap->parent, err);
        if (dirfd < 0)
                return dirfd;
        r = mknodat(dirfd, ap->base, type | (ap->perm & 0777), dev);
        if (r < 0 && errno == EEXIST) {
                if (remove_existing(dirfd, ap->base, err) < 0)
                        return -1;
                r = mknodat(dirfd, ap->base, type | (ap->perm & 0777), dev);
        }
        if (r < 0)
                return berth_error_sys(err, errno, "mknod");
        t = (struct target){ .fd = -1,
                             .dirfd = dirfd,
                             .name = ap->base,
                             .fresh = true,
                             .created = created_mode(ap, dirfd, ap->perm, false) };
        return set_meta(ap, &t, ap->perm, false, err);
}

/*
 * A hardlink to an earlier entry. Its target is cleaned and confined like
 * any name; it must exist and not be a directory, and a symlink as target
 * (linked itself, not followed, as tar does) must not lead out of the layer,
 * so that nothing reading the layer later can be tricked into following it.
 */
static int apply_hardlink(struct applier *ap, const char *link, berth_error *err)
{
        char target[PATH_MAX], tparent[PATH_MAX];
        _cleanup_close_ int tfd = -1;
        const char *tbase, *slash;
        struct stat tst, st;
        int dirfd, tdirfd, r;
        ssize_t n = clean_name(link, target);

        if (n == -EXDEV)
                return berth_error_set(err, EXDEV, "hardlink target `%s` is outside the layer",
                                       link);
        if (n < 0)
                return berth_error_sys(err, (int)-n, "hardlink target `%s`", link);
        if (n == 0)
                return berth_error_set(err, EINVAL, "hardlink to the layer directory");
        slash = strrchr(target, '/');
        tbase = slash ? slash + 1 : target;
        memcpy(tparent, target, slash ? (size_t)(slash - target) : 0);
        tparent[slash ? slash - target : 0] = '\0';

        dirfd = parent_fd(ap, ap->parent, err);
        if (dirfd < 0)
                return dirfd;
        if (!*tparent) {
                tdirfd = ap->rootfd;
        } else if (strcmp(tparent, ap->parent) == 0) {
                tdirfd = dirfd;
        } else {
                tfd = layer_open_beneath(ap->rootfd, tparent, O_PATH | O_DIRECTORY);
                if (tfd == -ENOENT)
                        return berth_error_set(err, ENOENT, "hardlink target `%s` is missing",
                                               link);
                if (tfd < 0)
                        return resolve_error(err, tfd, tparent);
                tdirfd = tfd;
        }
        if (fstatat(tdirfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return berth_error_set(err, ENOENT, "hardlink target `%s` is missing",
                                               link);
                return berth_error_sys(err, errno, "hardlink target `%s`", link);
        }
        if (S_ISDIR(tst.st_mode))
                return berth_error_set(err, EPERM, "hardlink target `%s` is a directory", link);
        if (S_ISLNK(tst.st_mode)) {
                _cleanup_close_ int lfd = layer_open_beneath(ap->rootfd, target, O_PATH);

                if (lfd == -EXDEV || lfd == -ELOOP)
                        return berth_error_set(err, EXDEV,
                                               "hardlink target `%s` is a symlink out of the layer",
                                               link);
        }
        if (fstatat(dirfd, ap->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (st.st_dev == tst.st_dev && st.st_ino == tst.st_ino)
                        return 0; /* already this file */
                if (remove_existing(dirfd, ap->base, err) < 0)
                        return -1;
        }
        r = linkat(tdirfd, tbase, dirfd, ap->base, 0);
        if (r < 0)
                return berth_error_sys(err, errno, "link to `%s`", link);
        return 0;
}

/* "a/.wh.b": b is deleted in this layer; overlayfs reads a 0:0 character device so. */
static int apply_whiteout(struct applier *ap, const char *name, berth_error *err)
{
        struct target t;
        int dirfd, r;

        if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return berth_error_set(err, EINVAL, "invalid whiteout");
        dirfd = parent_fd(ap, ap->parent, err);
        if (dirfd < 0)
                return dirfd;
        if (remove_existing(dirfd, name, err) < 0)
                return -1;
        r = mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0));
        if (r < 0)
                return berth_error_sys(err, errno, "make whiteout `%s`", name);
        t = (struct target){ .fd = -1, .dirfd = dirfd, .name = name, .fresh = true };
        if (set_owner_mode(ap, &t, NO_MODE, err) < 0)
                return -1;
        return set_times(&t, ap->times, err);
}

/* "a/.wh..wh..opq": a hides what lower layers hold in it; its own entries stay. */
static int apply_opaque(struct applier *ap, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        int dirfd = parent_fd(ap, ap->parent, err);

        if (dirfd < 0)
                return dirfd;
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "open the directory");
        if (fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0)
                return berth_error_sys(err, errno, "set xattr " OPAQUE_XATTR);
        return 0;
}

/* Whether a component of the parent path starts with `prefix`. */
static bool parent_has(const char *parent, const char *prefix)
{
        for (const char *p = parent; *p;) {
                if (has_prefix(p, prefix))
                        return true;
                p += strcspn(p, "/");
                p += *p == '/';
        }
        return false;
}

/*
 * Whiteouts in overlayfs' form. Returns 1 when the entry was one (or aufs
 * metadata, skipped as docker skips it: old images from aufs hosts carry
 * .wh..wh.aufs, .wh..wh.plnk and .wh..wh.orph), 0 for an ordinary entry.
 */
static int apply_special(struct applier *ap, berth_error *err)
{
        if (parent_has(ap->parent, WH_META))
                return 1;
        if (parent_has(ap->parent, WH))
                return berth_error_set(err, EINVAL, "a whiteout cannot hold entries");
        if (!has_prefix(ap->base, WH))
                return 0;
        if (strcmp(ap->base, WH_OPAQUE) == 0)
                return apply_opaque(ap, err) < 0 ? -1 : 1;
        if (has_prefix(ap->base, WH_META))
                return 1;
        return apply_whiteout(ap, ap->base + strlen(WH), err) < 0 ? -1 : 1;
}

static int apply_entry(struct applier *ap, berth_error *err)
{
        const char *link = archive_entry_hardlink(ap->e);
        mode_t type = archive_entry_filetype(ap->e);
        ssize_t n = clean_name(ap->name, ap->path);
        int r;

        if (n == -EXDEV)
                return berth_error_set(err, EXDEV, "path escapes the layer");
        if (n < 0)
                return berth_error_sys(err, (int)-n, "invalid name");
        split_path(ap);
        if (read_meta(ap, err) < 0)
                return -1;
        if (archive_entry_size(ap->e) > (int64_t)ap->max_bytes)
                return berth_error_set(err, EFBIG, "size %" PRId64 " is over the limit",
                                       (int64_t)archive_entry_size(ap->e));
        if (n == 0 && (link || type != AE_IFDIR))
                return berth_error_set(err, EINVAL, "names the layer directory itself");
        if (!ap->opts->raw_whiteouts) {
                r = apply_special(ap, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (link)
                return apply_hardlink(ap, link, err);
        switch (type) {
        case AE_IFREG:
                return apply_file(ap, err);
        case AE_IFDIR:
                return apply_dir(ap, err);
        case AE_IFLNK:
                return apply_symlink(ap, err);
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK:
                return apply_node(ap, type, err);
        default:
                return berth_error_set(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
        }
}

/* Directory mtimes last, since every entry written into one changes it. */
static int finish_dirs(struct applier *ap, berth_error *err)
{
        for (size_t i = 0; i < ap->n_dirs; i++) {
                const struct dir_time *d = &ap->dirs[i];
                _cleanup_close_ int fd = -1;
                struct target t = { .fd = ap->rootfd, .dirfd = -1 };

                if (*d->path) {
                        fd = layer_open_beneath(ap->rootfd, d->path,
                                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        if (fd < 0)
                                continue; /* replaced or removed by a later entry */
                        t.fd = fd;
                }
                if ((d->set_mode && set_mode(&t, d->mode, err) < 0) ||
                    set_times(&t, d->times, err) < 0)
                        return berth_error_prefix(err, "directory `%s`", d->path);
        }
        return 0;
}

static la_ssize_t read_cb(struct archive *a, void *data, const void **buf)
{
        struct applier *ap = data;
        ssize_t n;

        if (ap->first) {
                *buf = TAKE_PTR(ap->first);
                return (la_ssize_t)ap->first_len;
        }
        n = layer_stream_next(ap->stream, buf);
        if (n < 0) {
                ap->stream_failed = true;
                archive_set_error(a, (int)-n, "reading the layer failed");
                return -1;
        }
        return n;
}

static void archive_freep(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

static int unpack(struct applier *ap, berth_error *err)
{
        _cleanup_(archive_freep) struct archive *a = archive_read_new();
        struct archive_entry *e;
        int r;

        if (!a)
                return berth_error_set(err, ENOMEM, "out of memory");
        ap->a = a;
        /* the tar readers only: the stream arrives decompressed */
        if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_support_format_gnutar(a) != ARCHIVE_OK ||
            archive_read_open(a, ap, NULL, read_cb, NULL) != ARCHIVE_OK)
                return archive_error(ap, a, err);
        for (;;) {
                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return archive_error(ap, a, err);
                ap->entries++;
                ap->e = e;
                ap->name = archive_entry_pathname(e);
                if (!ap->name)
                        ap->name = archive_entry_pathname_utf8(e);
                if (!ap->name)
                        return berth_error_set(err, EINVAL, "entry %" PRIu64 " has no name",
                                               ap->entries);
                if (ap->entries > ap->max_entries)
                        r = berth_error_set(err, EFBIG, "more than %" PRIu64 " entries",
                                            ap->max_entries);
                else
                        r = apply_entry(ap, err);
                if (r < 0)
                        return berth_error_prefix(err, "entry `%s`", ap->name);
        }
}

/*
 * The process umask, which applies to what we create. umask(2) cannot read
 * it without setting it, racing with other threads: /proc says it. Not
 * known, 0777 makes every mode be set explicitly.
 */
static mode_t read_umask(void)
{
        _cleanup_free_ char *status = NULL;
        const char *p;
        size_t len;
        mode_t m = 0;
        int n = 0;

        if (berth_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &status, &len, NULL) < 0)
                return 0777;
        p = strstr(status, "\nUmask:");
        if (!p)
                return 0777;
        for (p += strlen("\nUmask:"); *p == '\t' || *p == ' '; p++)
                ;
        for (; *p >= '0' && *p <= '7' && n < 4; p++, n++)
                m = (m << 3) | (mode_t)(*p - '0');
        return n > 0 && *p == '\n' ? m & 0777 : 0777;
}

static int apply(int dirfd, int fd, const berth_layer_options *opts, berth_layer_stats *stats,
                 berth_error *err)
{
        _cleanup_(applier_release) struct applier ap = {
                .opts = opts,
                .max_entries = opts->max_entries ?: BERTH_LAYER_MAX_ENTRIES,
                .max_bytes = opts->max_bytes ?: BERTH_LAYER_MAX_BYTES,
                .rootfd = -1,
                .cached_fd = -1,
                .privileged = geteuid() == 0,
                .euid = geteuid(),
                .egid = getegid(),
                .umask = read_umask(),
        };
        _cleanup_(layer_stream_freep) layer_stream *stream = NULL;
        const void *buf;
        ssize_t n;
        int r;

        ap.rootfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ap.rootfd < 0)
                return berth_error_sys(err, errno, "open the layer directory");
        r = layer_stream_start(fd, ap.max_bytes, &stream, err);
        if (r < 0)
                return r;
        ap.stream = stream;
        /* an empty stream is an empty layer, which libarchive would not take for a tar */
        n = layer_stream_next(stream, &buf);
        if (n < 0)
                return stream_error(&ap, err);
        if (n > 0) {
                ap.first = buf;
                ap.first_len = (size_t)n;
                r = unpack(&ap, err);
                if (r < 0)
                        return r;
                if (layer_stream_drain(stream) < 0)
                        return stream_error(&ap, err);
        }
        stats->entries = ap.entries;
        r = layer_stream_finish(stream, &stats->tar_bytes, &stats->compressed_bytes, stats->diff_id,
                                err);
        if (r < 0)
                return r;
        return finish_dirs(&ap, err);
}

int berth_layer_apply(int dirfd, int fd, const berth_layer_options *opts,
                      berth_layer_stats *ret_stats, berth_error *err)
{
        static const berth_layer_options defaults = { 0 };
        berth_layer_stats stats = { 0 };
        int r;

        if (!opts)
                opts = &defaults;
        r = apply(dirfd, fd, opts, &stats, err);
        if (r < 0)
                return berth_error_prefix(err, "%s", opts->what ? opts->what : "layer");
        if (ret_stats)
                *ret_stats = stats;
        return 0;
}
