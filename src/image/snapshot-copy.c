/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vfs driver's copy of an image's layers into one tree (snapshot-copy.h).
 *
 * Every name is handled relative to an fd of its directory, opened
 * O_NOFOLLOW, in both trees: a layer's symlink is copied as a symlink and
 * never entered, and a destination symlink left by a lower layer is
 * replaced, not followed, when an upper layer has a directory there.
 */
#include "image/snapshot-copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/fs.h"
#include "basic/log.h"
#include "basic/path.h"

/* Each level holds two directory fds; deeper trees would run out of them first anyway. */
#define MAX_DEPTH        1024
#define XATTR_MAX        65536 /* the kernel's XATTR_SIZE_MAX and XATTR_LIST_MAX */
#define OVERLAY_PREFIX   "trusted.overlay."
#define OVERLAY_OPAQUE   "trusted.overlay.opaque"
#define COPY_CHUNK       (4u << 20)
#define READ_WRITE_CHUNK (128u << 10)

/* The first copy of a file with several links in the layer being copied. */
struct link {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the destination root */
};

struct copy {
        int rootfd;    /* the destination root */
        size_t layer;  /* being copied, from 0; for messages */
        size_t layers; /* how many */
        void *links;   /* tsearch tree of struct link, for the current layer */
        char *xattr_buf;
        char *data_buf;
        size_t len;
        char path[PATH_MAX]; /* of the entry at hand, relative to the root */
};

static void link_free(void *p)
{
        struct link *l = p;
        free(l->path);
        free(l);
}

static int link_cmp(const void *a, const void *b)
{
        const struct link *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void copy_free(struct copy *c)
{
        if (!c)
                return;
        tdestroy(c->links, link_free);
        free(c->xattr_buf);
        free(c->data_buf);
        free(c);
}

static void copy_freep(struct copy **c)
{
        copy_free(*c);
}

static int fail(struct copy *c, berth_error *err, int e, const char *what)
{
        return berth_error_sys(err, e, "layer %zu of %zu: %s `/%s`", c->layer + 1, c->layers, what,
                               c->path);
}

static int path_push(struct copy *c, const char *name, size_t *saved, berth_error *err)
{
        size_t n = strlen(name);

        *saved = c->len;
        if (c->len + 1 + n + 1 > sizeof(c->path))
                return berth_error_set(err, ENAMETOOLONG,
                                       "layer %zu of %zu: path `/%s/%s` too long", c->layer + 1,
                                       c->layers, c->path, name);
        if (c->len > 0)
                c->path[c->len++] = '/';
        memcpy(c->path + c->len, name, n + 1);
        c->len += n;
        return 0;
}

static void path_pop(struct copy *c, size_t saved)
{
        c->len = saved;
        c->path[saved] = '\0';
}

/* The *xattr(2) calls have no *at form in our libc: name the entry through its directory's fd. */
static int proc_path(int dirfd, const char *name, char *buf, size_t size)
{
        int n = snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name);
        return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* 1 when the directory name in dirfd is marked opaque, 0 when not. */
static int is_opaque(struct copy *c, int dirfd, const char *name, berth_error *err)
{
        char p[PATH_MAX + 32], v[2];
        ssize_t n;

        if (proc_path(dirfd, name, p, sizeof(p)) < 0)
                return fail(c, err, ENAMETOOLONG, "read xattrs of");
        n = lgetxattr(p, OVERLAY_OPAQUE, v, sizeof(v));
        if (n < 0) {
                if (errno == ENODATA || errno == EOPNOTSUPP || errno == ERANGE)
                        return 0;
                return fail(c, err, errno, "read xattrs of");
        }
        return n == 1 && v[0] == 'y';
}

static int copy_xattrs(struct copy *c, int sdir, const char *sname, int ddir, const char *dname,
                       berth_error *err)
{
        char sp[PATH_MAX + 32], dp[PATH_MAX + 32];
        _cleanup_free_ char *list = NULL;
        ssize_t n;

        if (proc_path(sdir, sname, sp, sizeof(sp)) < 0 ||
            proc_path(ddir, dname, dp, sizeof(dp)) < 0)
                return fail(c, err, ENAMETOOLONG, "copy xattrs of");
        n = llistxattr(sp, NULL, 0);
        if (n < 0 && errno == EOPNOTSUPP)
                return 0;
        if (n < 0)
                return fail(c, err, errno, "list xattrs of");
        if (n == 0)
                return 0;
        list = malloc((size_t)n);
        if (!list)
                return fail(c, err, ENOMEM, "list xattrs of");
        n = llistxattr(sp, list, (size_t)n);
        if (n < 0)
                return fail(c, err, errno, "list xattrs of");
        if (!c->xattr_buf && !(c->xattr_buf = malloc(XATTR_MAX)))
                return fail(c, err, ENOMEM, "copy xattrs of");
        for (char *k = list; k < list + n; k += strlen(k) + 1) {
                ssize_t vn;

                /* overlay's own markers (opaque, origin...) say nothing in a plain tree */
                if (strncmp(k, OVERLAY_PREFIX, strlen(OVERLAY_PREFIX)) == 0)
                        continue;
                vn = lgetxattr(sp, k, c->xattr_buf, XATTR_MAX);
                if (vn < 0) {
                        if (errno == ENODATA)
                                continue;
                        return fail(c, err, errno, "read xattrs of");
                }
                if (lsetxattr(dp, k, c->xattr_buf, (size_t)vn, 0) < 0) {
                        if (errno == EOPNOTSUPP) {
                                log_debug("layer %zu: /%s: xattr %s not supported here, skipped",
                                          c->layer + 1, c->path, k);
                                continue;
                        }
                        return fail(c, err, errno, "set xattrs of");
                }
        }
        return 0;
}

/*
 * Owner first (chown clears setuid bits and security.capability), then mode,
 * xattrs, and times last (the others change ctime only).
 */
static int copy_meta(struct copy *c, int sdir, const char *sname, int ddir, const char *dname,
                     const struct stat *st, berth_error *err)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        int r;

        if (fchownat(ddir, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, err, errno, "chown");
        if (!S_ISLNK(st->st_mode) && fchmodat(ddir, dname, st->st_mode & 07777, 0) < 0)
                return fail(c, err, errno, "chmod");
        r = copy_xattrs(c, sdir, sname, ddir, dname, err);
        if (r < 0)
                return r;
        if (utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, err, errno, "set times of");
        return 0;
}

/* Data from in to out: shared extents where possible, else an in-kernel copy, else by hand. */
static int copy_data(struct copy *c, int in, int out)
{
        bool kernel_copy = true;

        if (ioctl(out, FICLONE, in) == 0)
                return 0;
        for (;;) {
                ssize_t n;

                if (kernel_copy) {
                        n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK, 0);
                        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                                      errno == EOPNOTSUPP)) {
                                /* the offsets moved with what was copied: go on from there */
                                kernel_copy = false;
                                continue;
                        }
                } else {
                        if (!c->data_buf && !(c->data_buf = malloc(READ_WRITE_CHUNK)))
                                return -ENOMEM;
                        n = read(in, c->data_buf, READ_WRITE_CHUNK);
                        if (n > 0) {
                                ssize_t w = berth_write_all(out, c->data_buf, (size_t)n);
                                if (w < 0)
                                        return (int)w;
                        }
                }
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
        }
}

static struct link *find_link(struct copy *c, const struct stat *st)
{
        struct link key = { .dev = st->st_dev, .ino = st->st_ino };
        struct link **found = tfind(&key, &c->links, link_cmp);

        return found ? *found : NULL;
}

static int remember_link(struct copy *c, const struct stat *st, berth_error *err)
{
        struct link *l = calloc(1, sizeof(*l));
        void *slot;

        if (!l || !(l->path = strdup(c->path))) {
                free(l);
                return fail(c, err, ENOMEM, "copy");
        }
        l->dev = st->st_dev;
        l->ino = st->st_ino;
        slot = tsearch(l, &c->links, link_cmp);
        if (!slot) {
                link_free(l);
                return fail(c, err, ENOMEM, "copy");
        }
        if (*(struct link **)slot != l)
                link_free(l);
        return 0;
}

/* A second name for a file this layer has already copied. */
static int make_link(struct copy *c, const struct link *l, int ddir, const char *name,
                     berth_error *err)
{
        _cleanup_close_ int pfd = -1;
        const char *slash = strrchr(l->path, '/');
        const char *base = l->path;
        int from = c->rootfd;

        if (slash) {
                _cleanup_free_ char *parent = strndup(l->path, (size_t)(slash - l->path));
                if (!parent)
                        return fail(c, err, ENOMEM, "link");
                pfd = berth_open_in_root(c->rootfd, parent, O_PATH | O_DIRECTORY, 0, err);
                if (pfd < 0)
                        return berth_error_prefix(err, "layer %zu of %zu: link `/%s`", c->layer + 1,
                                                  c->layers, c->path);
                from = pfd;
                base = slash + 1;
        }
        if (linkat(from, base, ddir, name, 0) < 0)
                return fail(c, err, errno, "link");
        return 0;
}

static int copy_file(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st,
                     berth_error *err)
{
        _cleanup_close_ int in = -1, out = -1;
        int r;

        if (st->st_nlink > 1) {
                struct link *l = find_link(c, st);
                if (l)
                        return make_link(c, l, ddir, name, err);
        }
        in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (in < 0)
                return fail(c, err, errno, "open");
        out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return fail(c, err, errno, "create");
        r = copy_data(c, in, out);
        if (r < 0)
                return fail(c, err, -r, "copy");
        r = copy_meta(c, sdir, name, ddir, name, st, err);
        if (r < 0)
                return r;
        if (st->st_nlink > 1)
                return remember_link(c, st, err);
        return 0;
}

static int copy_special(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st,
                        berth_error *err)
{
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, name, target, sizeof(target));

                if (n < 0)
                        return fail(c, err, errno, "read symlink");
                if ((size_t)n >= sizeof(target))
                        return fail(c, err, ENAMETOOLONG, "read symlink");
                target[n] = '\0';
                if (symlinkat(target, ddir, name) < 0)
                        return fail(c, err, errno, "create symlink");
        } else if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
                return fail(c, err, errno, "create node");
        }
        return copy_meta(c, sdir, name, ddir, name, st, err);
}

static int copy_dir(struct copy *c, int sfd, int dfd, unsigned depth, berth_error *err);

static int copy_subdir(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st,
                       bool merge, unsigned depth, berth_error *err)
{
        _cleanup_close_ int sfd = -1, dfd = -1;
        int r;

        if (!merge && mkdirat(ddir, name, 0700) < 0)
                return fail(c, err, errno, "create directory");
        sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return fail(c, err, errno, "open");
        dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return fail(c, err, errno, "open");
        r = copy_dir(c, TAKE_FD(sfd), dfd, depth + 1, err);
        if (r < 0)
                return r;
        /* After the contents, which changed its times; the upper layer's attributes win. */
        return copy_meta(c, sdir, name, ddir, name, st, err);
}

static int copy_entry(struct copy *c, int sdir, int ddir, const char *name, unsigned depth,
                      berth_error *err)
{
        struct stat st, dst;
        bool exists = true, merge = false;
        int r;

        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(c, err, errno, "stat");
        if (fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return fail(c, err, errno, "stat");
                exists = false;
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                /* a whiteout: what the layers below had here is gone */
                r = exists ? berth_rm_rf_at(ddir, name, err) : 0;
                return r < 0 ? berth_error_prefix(err, "layer %zu of %zu: whiteout", c->layer + 1,
                                                  c->layers)
                             : 0;
        }
        if (exists && S_ISDIR(st.st_mode) && S_ISDIR(dst.st_mode)) {
                /* two directories merge, unless the upper one is opaque */
                r = is_opaque(c, sdir, name, err);
                if (r < 0)
                        return r;
                merge = r == 0;
        }
        if (exists && !merge) {
                r = berth_rm_rf_at(ddir, name, err);
                if (r < 0)
                        return berth_error_prefix(err, "layer %zu of %zu: replace", c->layer + 1,
                                                  c->layers);
        }
        if (S_ISDIR(st.st_mode))
                return copy_subdir(c, sdir, ddir, name, &st, merge, depth, err);
        if (S_ISREG(st.st_mode))
                return copy_file(c, sdir, ddir, name, &st, err);
        return copy_special(c, sdir, ddir, name, &st, err);
}

/* Copies the entries of the directory sfd (taken over and closed) into dfd. */
static int copy_dir(struct copy *c, int sfd, int dfd, unsigned depth, berth_error *err)
{
        _cleanup_closedir_ DIR *d = fdopendir(sfd);
        struct dirent *de;

        if (!d) {
                int e = errno;
                close(sfd);
                return fail(c, err, e, "read directory");
        }
        if (depth > MAX_DEPTH)
                return fail(c, err, ELOOP, "copy (tree too deep)");
        while ((errno = 0, de = readdir(d))) {
                size_t saved;
                int r;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = path_push(c, de->d_name, &saved, err);
                if (r < 0)
                        return r;
                r = copy_entry(c, dirfd(d), dfd, de->d_name, depth, err);
                path_pop(c, saved);
                if (r < 0)
                        return r;
        }
        if (errno)
                return fail(c, err, errno, "read directory");
        return 0;
}

int berth_snapshot_copy_layers(const int *layerfds, size_t n, int dstfd, berth_error *err)
{
        _cleanup_(copy_freep) struct copy *c = calloc(1, sizeof(*c));

        if (!c)
                return berth_error_set(err, ENOMEM, "copy layers: out of memory");
        c->rootfd = dstfd;
        c->layers = n;
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                int fd, r;

                c->layer = i;
                path_pop(c, 0);
                /* A description of its own: the caller's fd keeps its directory offset. */
                fd = openat(layerfds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        if (fd >= 0)
                                close(fd);
                        return fail(c, err, errno, "open");
                }
                r = copy_dir(c, fd, dstfd, 0, err);
                /* Hardlinks join files of one layer only, as in the layer's tar. */
                tdestroy(c->links, link_free);
                c->links = NULL;
                if (r < 0)
                        return r;
                r = copy_meta(c, layerfds[i], ".", dstfd, ".", &st, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
