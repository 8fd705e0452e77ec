/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth_layer_write_tar() (layer.h): a directory tree as a layer tar, the
 * inverse of berth_layer_apply().
 *
 * The same tree must give the same bytes, so that a layer's diff_id does
 * not depend on when or where it was written: directories are walked
 * depth first with their entries sorted by tar name (bytewise), and headers
 * carry only what the tree fixes: type, mode, uid/gid (numbers, no names
 * looked up on this host), mtime in whole seconds, size, link target, device
 * numbers, xattrs sorted by name. No atime, no ctime. libarchive's
 * "restricted pax" writes plain ustar headers and adds a pax header only
 * where ustar cannot say it (long names, big ids, xattrs), with xattrs in
 * the SCHILY form that Go's archive/tar, and so docker, reads.
 *
 * overlayfs' whiteouts (0:0 character devices) become ".wh.NAME" empty
 * files, and a directory with trusted.overlay.opaque=y is followed by its
 * ".wh..wh..opq" marker, first among its entries, as docker writes it.
 * overlayfs' other xattrs are internal to the mount and are left out.
 * Files with several links are written once, then as hardlinks to the first
 * name in walk order.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "image/layer.h"

#define WH             ".wh."
#define WH_OPAQUE      ".wh..wh..opq"
#define OPAQUE_XATTR   "trusted.overlay.opaque"
#define OVERLAY_XATTRS "trusted.overlay."
#define READ_SIZE      (256u << 10)
#define BLOCK_SIZE     65536
#define XATTR_LIST_MAX 65536
#define XATTR_SIZE_MAX 65536

struct link_slot {
        dev_t dev;
        ino_t ino;
        char *name; /* NULL: free */
};

struct writer {
        struct archive *a;
        int out_fd;
        int out_errno;
        berth_hasher *hasher;
        uint64_t bytes, entries;
        char path[PATH_MAX + 1]; /* of the entry at hand, room for a directory's "/" */
        size_t path_len;
        unsigned char *buf;
        struct link_slot *links; /* open addressing on (dev, ino) */
        size_t n_links, cap_links;
        berth_error *err;
};

struct child {
        char *name; /* on disk */
        char *key;  /* in the tar: ".wh.NAME" for a whiteout */
        struct stat st;
        bool whiteout;
};

static void writer_release(struct writer *w)
{
        if (w->a)
                archive_write_free(w->a);
        berth_hasher_free(w->hasher);
        free(w->buf);
        for (size_t i = 0; i < w->cap_links; i++)
                free(w->links[i].name);
        free(w->links);
}

static la_ssize_t write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
        struct writer *w = data;
        ssize_t n = berth_write_all(w->out_fd, buf, len);

        if (n < 0) {
                w->out_errno = (int)-n;
                archive_set_error(a, (int)-n, "write: %s", strerror((int)-n));
                return -1;
        }
        berth_hasher_update(w->hasher, buf, len);
        w->bytes += len;
        return (la_ssize_t)len;
}

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
        uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

        return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static int links_grow(struct writer *w)
{
        size_t cap = w->cap_links ? w->cap_links * 2 : 64;
        struct link_slot *links = calloc(cap, sizeof(*links));

        if (!links)
                return -ENOMEM;
        for (size_t i = 0; i < w->cap_links; i++) {
                size_t j;

                if (!w->links[i].name)
                        continue;
                for (j = link_hash(w->links[i].dev, w->links[i].ino, cap); links[j].name;
                     j = (j + 1) & (cap - 1))
                        ;
                links[j] = w->links[i];
        }
        free(w->links);
        w->links = links;
        w->cap_links = cap;
        return 0;
}

/*
 * The first name of a file with several links: returns it, or NULL after
 * recording w->path as the first (or when out of memory, *ret_r < 0).
 */
static const char *link_first(struct writer *w, const struct stat *st, int *ret_r)
{
        size_t j;

        *ret_r = 0;
        if (w->n_links * 2 >= w->cap_links && links_grow(w) < 0) {
                *ret_r = -ENOMEM;
                return NULL;
        }
        for (j = link_hash(st->st_dev, st->st_ino, w->cap_links); w->links[j].name;
             j = (j + 1) & (w->cap_links - 1))
                if (w->links[j].dev == st->st_dev && w->links[j].ino == st->st_ino)
                        return w->links[j].name;
        w->links[j].name = strdup(w->path);
        if (!w->links[j].name) {
                *ret_r = -ENOMEM;
                return NULL;
        }
        w->links[j].dev = st->st_dev;
        w->links[j].ino = st->st_ino;
        w->n_links++;
        return NULL;
}

static int cmp_child(const void *a, const void *b)
{
        return strcmp(((const struct child *)a)->key, ((const struct child *)b)->key);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void children_free(struct child *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(c[i].name);
                free(c[i].key);
        }
        free(c);
}

/* The entries of directory fd, sorted by tar name. */
static int list_children(int fd, struct child **ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct child *c = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -ENOMEM;
        }
        while ((de = readdir(d))) {
                struct child *ch;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap) {
                        struct child *nc = reallocarray(c, cap ? cap * 2 : 32, sizeof(*c));

                        if (!nc) {
                                r = -ENOMEM;
                                break;
                        }
                        c = nc;
                        cap = cap ? cap * 2 : 32;
                }
                ch = &c[n];
                *ch = (struct child){ 0 };
                if (fstatat(fd, de->d_name, &ch->st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        r = -errno;
                        break;
                }
                n++;
                ch->name = strdup(de->d_name);
                ch->whiteout = S_ISCHR(ch->st.st_mode) && ch->st.st_rdev == makedev(0, 0);
                if (ch->whiteout) {
                        if (asprintf(&ch->key, WH "%s", de->d_name) < 0)
                                ch->key = NULL;
                } else {
                        ch->key = strdup(de->d_name);
                }
                if (!ch->name || !ch->key) {
                        r = -ENOMEM;
                        break;
                }
        }
        if (r < 0) {
                children_free(c, n);
                return r;
        }
        if (n > 0)
                qsort(c, n, sizeof(*c), cmp_child);
        *ret = c;
        *ret_n = n;
        return 0;
}

/* A path below /proc/self/fd for the *xattr calls that take names. */
static int proc_path(char *buf, size_t size, int dirfd, const char *name)
{
        if (snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name) >= (int)size)
                return -ENAMETOOLONG;
        return 0;
}

/*
 * Adds the xattrs of fd (or of dirfd/name, not followed) to the entry, by
 * name, without overlayfs' own. *ret_opaque: trusted.overlay.opaque is "y".
 */
static int add_xattrs(struct archive_entry *e, int fd, int dirfd, const char *name,
                      bool *ret_opaque)
{
        _cleanup_free_ char *list = malloc(XATTR_LIST_MAX);
        _cleanup_free_ char *value = malloc(XATTR_SIZE_MAX);
        _cleanup_free_ char **names = NULL;
        char path[PATH_MAX + 32];
        size_t n = 0;
        ssize_t len;

        if (!list || !value)
                return -ENOMEM;
        if (fd < 0 && proc_path(path, sizeof(path), dirfd, name) < 0)
                return -ENAMETOOLONG;
        len = fd >= 0 ? flistxattr(fd, list, XATTR_LIST_MAX)
                      : llistxattr(path, list, XATTR_LIST_MAX);
        if (len < 0)
                return errno == ENOTSUP ? 0 : -errno;
        names = calloc((size_t)len + 1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (char *p = list; p < list + len; p += strlen(p) + 1)
                names[n++] = p;
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                ssize_t vlen = fd >= 0 ? fgetxattr(fd, names[i], value, XATTR_SIZE_MAX)
                                       : lgetxattr(path, names[i], value, XATTR_SIZE_MAX);

                if (vlen < 0) {
                        if (errno == ENODATA)
                                continue; /* removed meanwhile */
                        return -errno;
                }
                if (strcmp(names[i], OPAQUE_XATTR) == 0) {
                        if (ret_opaque)
                                *ret_opaque = vlen == 1 && value[0] == 'y';
                        continue;
                }
                if (strncmp(names[i], OVERLAY_XATTRS, strlen(OVERLAY_XATTRS)) == 0)
                        continue;
                archive_entry_xattr_add_entry(e, names[i], value, (size_t)vlen);
        }
        return 0;
}

static int archive_fail(struct writer *w, const char *what)
{
        const char *msg = archive_error_string(w->a);

        if (w->out_errno)
                return berth_error_sys(w->err, w->out_errno, "write the tar");
        return berth_error_set(w->err, EIO, "`%s`: %s: %s", w->path, what,
                               msg ? msg : "libarchive failed");
}

/* The header fields every entry shares. */
static struct archive_entry *new_entry(const char *path, const struct stat *st)
{
        struct archive_entry *e = archive_entry_new();

        if (!e)
                return NULL;
        archive_entry_copy_pathname(e, path);
        archive_entry_set_mode(e, st->st_mode);
        archive_entry_set_uid(e, st->st_uid);
        archive_entry_set_gid(e, st->st_gid);
        archive_entry_set_mtime(e, st->st_mtime, 0);
        return e;
}

static void entry_freep(struct archive_entry **e)
{
        if (*e)
                archive_entry_free(*e);
}

static int write_header(struct writer *w, struct archive_entry *e)
{
        if (archive_write_header(w->a, e) < ARCHIVE_WARN)
                return archive_fail(w, "header");
        w->entries++;
        return 0;
}

static int write_contents(struct writer *w, int fd, off_t size)
{
        off_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, w->buf, READ_SIZE);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error_sys(w->err, errno, "`%s`: read", w->path);
                if (n == 0)
                        break; /* shrank meanwhile: libarchive pads with zeros */
                if (n > size - done)
                        n = size - done; /* grew meanwhile: the header said less */
                if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
                        return archive_fail(w, "data");
                done += n;
        }
        return 0;
}

static int path_push(struct writer *w, const char *name, size_t *ret_old)
{
        size_t len = strlen(name), sep = w->path_len > 0;

        if (w->path_len + sep + len >= PATH_MAX)
                return berth_error_set(w->err, ENAMETOOLONG, "`%s/%s`: name too long", w->path,
                                       name);
        *ret_old = w->path_len;
        if (sep)
                w->path[w->path_len++] = '/';
        memcpy(w->path + w->path_len, name, len + 1);
        w->path_len += len;
        return 0;
}

static void path_pop(struct writer *w, size_t old)
{
        w->path_len = old;
        w->path[old] = '\0';
}

/* An empty regular file standing for a whiteout or an opaque marker. */
static int write_marker(struct writer *w, const struct stat *st, mode_t perm)
{
        _cleanup_(entry_freep) struct archive_entry *e = new_entry(w->path, st);

        if (!e)
                return berth_error_set(w->err, ENOMEM, "out of memory");
        archive_entry_set_mode(e, S_IFREG | perm);
        archive_entry_set_size(e, 0);
        return write_header(w, e);
}

static int write_dir(struct writer *w, int *fdp, const struct stat *st, bool is_root);

/*
 * Into subdirectory `name` of *dirfd and back. However deep the tree, only
 * the directory at hand stays open: the parent's fd is closed on the way
 * down and reopened as ".." on the way up, checked to be the same directory.
 */
static int descend(struct writer *w, int *dirfd, const struct stat *dirst, const char *name,
                   const struct stat *st)
{
        _cleanup_close_ int fd =
                openat(*dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat back;
        int r;

        if (fd < 0)
                return berth_error_sys(w->err, errno, "`%s`: open", w->path);
        close(*dirfd);
        *dirfd = -1;
        r = write_dir(w, &fd, st, false);
        *dirfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*dirfd < 0)
                return berth_error_sys(w->err, errno, "`%s`: open ..", w->path);
        if (fstat(*dirfd, &back) < 0 || back.st_dev != dirst->st_dev ||
            back.st_ino != dirst->st_ino)
                return berth_error_set(w->err, EBUSY, "`%s`: moved while being written", w->path);
        return r;
}

static int write_child(struct writer *w, int *dirfdp, const struct stat *dirst,
                       const struct child *c)
{
        int dirfd = *dirfdp;
        _cleanup_(entry_freep) struct archive_entry *e = NULL;
        _cleanup_close_ int fd = -1;
        const struct stat *st = &c->st;
        size_t old;
        int r;

        if (S_ISSOCK(st->st_mode))
                return 0; /* as docker: a socket is no file to ship */
        if (path_push(w, c->key, &old) < 0)
                return -1;
        if (c->whiteout) {
                r = write_marker(w, st, 0600);
                path_pop(w, old);
                return r;
        }
        if (S_ISDIR(st->st_mode)) {
                r = descend(w, dirfdp, dirst, c->name, st);
                path_pop(w, old);
                return r;
        }
        e = new_entry(w->path, st);
        if (!e)
                return berth_error_set(w->err, ENOMEM, "out of memory");
        if (st->st_nlink > 1) {
                const char *first = link_first(w, st, &r);

                if (r < 0)
                        return berth_error_set(w->err, ENOMEM, "out of memory");
                if (first) {
                        archive_entry_set_hardlink(e, first);
                        archive_entry_set_size(e, 0);
                        r = write_header(w, e);
                        path_pop(w, old);
                        return r;
                }
        }
        if (S_ISREG(st->st_mode)) {
                fd = openat(dirfd, c->name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return berth_error_sys(w->err, errno, "`%s`: open", w->path);
                archive_entry_set_size(e, st->st_size);
        } else if (S_ISLNK(st->st_mode)) {
                /* w->buf, not the stack: this frame is on the recursion's path */
                char *target = (char *)w->buf;
                ssize_t n = readlinkat(dirfd, c->name, target, PATH_MAX);

                if (n < 0)
                        return berth_error_sys(w->err, errno, "`%s`: readlink", w->path);
                if (n >= PATH_MAX)
                        return berth_error_set(w->err, ENAMETOOLONG, "`%s`: target too long",
                                               w->path);
                target[n] = '\0';
                archive_entry_copy_symlink(e, target);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                archive_entry_set_rdevmajor(e, major(st->st_rdev));
                archive_entry_set_rdevminor(e, minor(st->st_rdev));
        }
        r = add_xattrs(e, fd, dirfd, c->name, NULL);
        if (r < 0)
                return berth_error_sys(w->err, -r, "`%s`: read xattrs", w->path);
        if (write_header(w, e) < 0)
                return -1;
        if (fd >= 0 && write_contents(w, fd, st->st_size) < 0)
                return -1;
        path_pop(w, old);
        return 0;
}

/* *fdp is the directory; descend() may swap it for another fd of it. */
static int write_dir(struct writer *w, int *fdp, const struct stat *st, bool is_root)
{
        _cleanup_(entry_freep) struct archive_entry *e = NULL;
        struct child *c = NULL;
        bool opaque = false;
        size_t n = 0, old;
        int r;

        e = new_entry(w->path, st);
        if (!e)
                return berth_error_set(w->err, ENOMEM, "out of memory");
        r = add_xattrs(e, *fdp, -1, NULL, &opaque);
        if (r < 0)
                return berth_error_sys(w->err, -r, "`%s`: read xattrs", w->path);
        /* the layer directory itself is no entry: a layer holds what is below it */
        if (!is_root) {
                /* a directory's tar name ends with "/" */
                memcpy(w->path + w->path_len, "/", 2);
                archive_entry_copy_pathname(e, w->path);
                w->path[w->path_len] = '\0';
                if (write_header(w, e) < 0)
                        return -1;
        }
        if (opaque) {
                if (path_push(w, WH_OPAQUE, &old) < 0)
                        return -1;
                r = write_marker(w, st, st->st_mode & 07777);
                path_pop(w, old);
                if (r < 0)
                        return r;
        }
        r = list_children(*fdp, &c, &n);
        if (r < 0)
                return berth_error_sys(w->err, -r, "`%s`: read the directory", w->path);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = write_child(w, fdp, st, &c[i]);
        children_free(c, n);
        return r;
}

static int write_tar(int dirfd, struct writer *w)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        w->a = archive_write_new();
        w->hasher = berth_hasher_new();
        w->buf = malloc(READ_SIZE);
        if (!w->a || !w->hasher || !w->buf)
                return berth_error_set(w->err, ENOMEM, "out of memory");
        if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
            archive_write_set_format_option(w->a, "pax", "xattrheader", "SCHILY") < ARCHIVE_OK ||
            archive_write_set_bytes_per_block(w->a, BLOCK_SIZE) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
            archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK)
                return archive_fail(w, "start");
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_error_sys(w->err, errno, "open the directory");
        if (write_dir(w, &fd, &st, true) < 0)
                return -1;
        if (archive_write_close(w->a) != ARCHIVE_OK)
                return archive_fail(w, "finish");
        return 0;
}

int berth_layer_write_tar(int dirfd, int out_fd, berth_layer_stats *ret_stats, berth_error *err)
{
        _cleanup_(writer_release) struct writer w = { .out_fd = out_fd, .err = err };

        if (write_tar(dirfd, &w) < 0)
                return berth_error_prefix(err, "write layer tar");
        if (ret_stats) {
                *ret_stats = (berth_layer_stats){ .entries = w.entries,
                                                  .tar_bytes = w.bytes,
                                                  .compressed_bytes = w.bytes };
                berth_hasher_final(w.hasher, ret_stats->diff_id);
        }
        return 0;
}
