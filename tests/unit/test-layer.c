/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/layer.c: tars built here with libarchive's writer,
 * plain, gzip and zstd, unpacked into a layer directory that sits two levels
 * below a temporary base, next to a "sentinel" directory that no entry may
 * reach. Runs as root (mknod, chown, trusted.* xattrs).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/digest.h"
#include "image/layer.h"

#define MTIME     1600000000
#define DIR_MTIME 1500000000

/* ---- building tars ---------------------------------------------------- */

struct buf {
        unsigned char *data;
        size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2 + 4096;
                b->data = realloc(b->data, b->cap);
                assert_non_null(b->data);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

static la_ssize_t buf_write_cb(struct archive *a, void *data, const void *p, size_t n)
{
        buf_add(data, p, n);
        return (la_ssize_t)n;
}

struct tarb {
        struct archive *a;
        struct buf out;
};

static struct tarb *tb_new(void)
{
        struct tarb *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        t->a = archive_write_new();
        assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
        assert_int_equal(archive_write_set_bytes_in_last_block(t->a, 1), ARCHIVE_OK);
        assert_int_equal(archive_write_open(t->a, &t->out, NULL, buf_write_cb, NULL), ARCHIVE_OK);
        return t;
}

static struct archive_entry *tb_entry(const char *name, mode_t mode, int64_t uid, int64_t gid)
{
        struct archive_entry *e = archive_entry_new();

        archive_entry_copy_pathname(e, name);
        archive_entry_set_mode(e, mode);
        archive_entry_set_uid(e, uid);
        archive_entry_set_gid(e, gid);
        archive_entry_set_mtime(e, MTIME, 0);
        return e;
}

static void tb_put(struct tarb *t, struct archive_entry *e, const void *data, size_t len)
{
        assert_true(archive_write_header(t->a, e) >= ARCHIVE_WARN);
        if (len)
                assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

static void tb_file_full(struct tarb *t, const char *name, mode_t perm, int64_t uid, int64_t gid,
                         const char *data)
{
        struct archive_entry *e = tb_entry(name, S_IFREG | perm, uid, gid);

        archive_entry_set_size(e, (la_int64_t)strlen(data));
        tb_put(t, e, data, strlen(data));
}

static void tb_file(struct tarb *t, const char *name, const char *data)
{
        tb_file_full(t, name, 0644, 0, 0, data);
}

static void tb_dir(struct tarb *t, const char *name, mode_t perm)
{
        struct archive_entry *e = tb_entry(name, S_IFDIR | perm, 0, 0);

        archive_entry_set_mtime(e, DIR_MTIME, 0);
        tb_put(t, e, NULL, 0);
}

static void tb_symlink(struct tarb *t, const char *name, const char *target)
{
        struct archive_entry *e = tb_entry(name, S_IFLNK | 0777, 0, 0);

        archive_entry_copy_symlink(e, target);
        tb_put(t, e, NULL, 0);
}

static void tb_hardlink(struct tarb *t, const char *name, const char *target)
{
        struct archive_entry *e = tb_entry(name, S_IFREG | 0644, 0, 0);

        archive_entry_copy_hardlink(e, target);
        archive_entry_set_size(e, 0);
        tb_put(t, e, NULL, 0);
}

static void tb_node(struct tarb *t, const char *name, mode_t mode, unsigned maj, unsigned min)
{
        struct archive_entry *e = tb_entry(name, mode, 0, 0);

        archive_entry_set_rdev(e, makedev(maj, min));
        tb_put(t, e, NULL, 0);
}

/* Finishes the tar; the caller frees the bytes. */
static unsigned char *tb_finish(struct tarb *t, size_t *ret_len)
{
        unsigned char *data;

        assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
        archive_write_free(t->a);
        data = t->out.data;
        *ret_len = t->out.len;
        free(t);
        return data;
}

/* ---- compressing --------------------------------------------------------- */

enum comp { PLAIN, GZIP, ZSTD };

static unsigned char *gzip_bytes(const void *data, size_t len, size_t *ret_len)
{
        z_stream z = { 0 };
        size_t cap = deflateBound(&z, len) + 64;
        unsigned char *out = malloc(cap);

        assert_non_null(out);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = (unsigned char *)data;
        z.avail_in = (uInt)len;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        *ret_len = z.total_out;
        deflateEnd(&z);
        return out;
}

static unsigned char *zstd_bytes(const void *data, size_t len, size_t *ret_len)
{
        size_t cap = ZSTD_compressBound(len);
        unsigned char *out = malloc(cap);

        assert_non_null(out);
        *ret_len = ZSTD_compress(out, cap, data, len, 3);
        assert_false(ZSTD_isError(*ret_len));
        return out;
}

static unsigned char *compress_bytes(enum comp c, const void *data, size_t len, size_t *ret_len)
{
        unsigned char *out;

        switch (c) {
        case GZIP:
                return gzip_bytes(data, len, ret_len);
        case ZSTD:
                return zstd_bytes(data, len, ret_len);
        default:
                out = malloc(len + 1);
                assert_non_null(out);
                memcpy(out, data, len);
                *ret_len = len;
                return out;
        }
}

/* ---- feeding ------------------------------------------------------------- */

/* A file holding data, at offset 0. */
static int memfd_with(const void *data, size_t len)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

struct feeder {
        int fd;
        const unsigned char *data;
        size_t len;
};

static void *feed_main(void *arg)
{
        struct feeder *f = arg;

        /* small writes, to split headers across reads */
        for (size_t done = 0; done < f->len;) {
                size_t n = f->len - done < 777 ? f->len - done : 777;
                ssize_t w = write(f->fd, f->data + done, n);

                if (w <= 0)
                        break; /* the reader is gone */
                done += (size_t)w;
        }
        close(f->fd);
        return NULL;
}

/* ---- the fixture --------------------------------------------------------- */

struct fixture {
        int nfds; /* open fds before the test, to catch leaks */
        char base[64];
        char sentinel[128]; /* base/sentinel, absolute */
        int basefd;
        int layerfd;  /* base/root/layer */
        char *before; /* listing of base without the layer, for hostile tests */
};

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path);
}

static void write_at(int dirfd, const char *name, const char *data)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
}

static void list_tree(FILE *out, int dirfd, const char *prefix, const char *skip);

static char *list_base(struct fixture *f)
{
        char *s = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&s, &len);

        assert_non_null(out);
        list_tree(out, f->basefd, "", "root/layer");
        fclose(out);
        return s;
}

/* Open fds of this process. */
static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        assert_non_null(d);
        while (readdir(d))
                n++;
        return n;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->nfds = count_fds();
        assert_true(snprintf(f->base, sizeof(f->base), "/tmp/berth-test-layer.XXXXXX") <
                    (int)sizeof(f->base));
        assert_non_null(mkdtemp(f->base));
        assert_true(snprintf(f->sentinel, sizeof(f->sentinel), "%s/sentinel", f->base) <
                    (int)sizeof(f->sentinel));
        f->basefd = open(f->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->basefd >= 0);
        assert_int_equal(mkdirat(f->basefd, "sentinel", 0755), 0);
        assert_int_equal(mkdirat(f->basefd, "root", 0755), 0);
        assert_int_equal(mkdirat(f->basefd, "root/layer", 0755), 0);
        {
                _cleanup_close_ int s = openat(f->basefd, "sentinel", O_PATH | O_CLOEXEC);
                assert_true(s >= 0);
                write_at(s, "keep", "secret\n");
        }
        f->layerfd = openat(f->basefd, "root/layer", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->layerfd >= 0);
        f->before = list_base(f);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int r, nfds, before = f->nfds;

        close(f->layerfd);
        close(f->basefd);
        nfds = count_fds();
        r = nftw(f->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f->before);
        free(f);
        assert_int_equal(r, 0);
        assert_int_equal(nfds, before);
        return 0;
}

/* ---- looking at trees ---------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry, sorted, with everything apply keeps; hardlinks by inode order. */
static void list_tree(FILE *out, int dirfd, const char *prefix, const char *skip)
{
        _cleanup_closedir_ DIR *d = NULL;
        char *names[256];
        size_t n = 0;
        struct dirent *de;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        d = fdopendir(fd);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        assert_true(n < 256);
                        names[n++] = strdup(de->d_name);
                }
        qsort(names, n, sizeof(char *), cmp_names);
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX], xl[4096], pp[PATH_MAX + 64];
                struct stat st;
                ssize_t xlen;

                snprintf(path, sizeof(path), "%s%s", prefix, names[i]);
                if (skip && strcmp(path, skip) == 0) {
                        free(names[i]);
                        continue;
                }
                assert_int_equal(fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW), 0);
                fprintf(out, "%s %o %u:%u", path, (unsigned)st.st_mode, (unsigned)st.st_uid,
                        (unsigned)st.st_gid);
                if (!S_ISLNK(st.st_mode))
                        fprintf(out, " t=%lld", (long long)st.st_mtime);
                if (S_ISREG(st.st_mode)) {
                        char data[256] = "";
                        _cleanup_close_ int ffd = openat(dirfd, names[i], O_RDONLY | O_CLOEXEC);
                        ssize_t r = read(ffd, data, sizeof(data) - 1);

                        assert_true(r >= 0);
                        fprintf(out, " size=%lld data=%.*s nlink=%u", (long long)st.st_size, (int)r,
                                data, (unsigned)st.st_nlink);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t r = readlinkat(dirfd, names[i], target, sizeof(target));

                        assert_true(r > 0);
                        fprintf(out, " -> %.*s", (int)r, target);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        fprintf(out, " dev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
                }
                snprintf(pp, sizeof(pp), "/proc/self/fd/%d/%s", dirfd, names[i]);
                xlen = llistxattr(pp, xl, sizeof(xl));
                if (xlen > 0) {
                        char *xn[64];
                        size_t nx = 0;

                        for (char *p = xl; p < xl + xlen; p += strlen(p) + 1)
                                if (strncmp(p, "security.", 9) != 0)
                                        xn[nx++] = p;
                        qsort(xn, nx, sizeof(char *), cmp_names);
                        for (size_t j = 0; j < nx; j++) {
                                char v[256];
                                ssize_t vl = lgetxattr(pp, xn[j], v, sizeof(v));

                                assert_true(vl >= 0);
                                fprintf(out, " %s=%.*s", xn[j], (int)vl, v);
                        }
                }
                fputc('\n', out);
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(
                                dirfd, names[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        char sp[PATH_MAX + 1];

                        assert_true(sub >= 0);
                        snprintf(sp, sizeof(sp), "%s/", path);
                        list_tree(out, sub, sp, skip);
                }
                free(names[i]);
        }
}

static char *list_layer(int layerfd)
{
        char *s = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&s, &len);

        assert_non_null(out);
        list_tree(out, layerfd, "", NULL);
        fclose(out);
        return s;
}

static void assert_file(int dirfd, const char *path, const char *data, mode_t mode, uid_t uid,
                        gid_t gid)
{
        struct stat st;
        char buf[4096];
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n;

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, mode);
        assert_int_equal(st.st_uid, uid);
        assert_int_equal(st.st_gid, gid);
        assert_int_equal(st.st_mtime, MTIME);
        n = read(fd, buf, sizeof(buf));
        assert_int_equal(n, (ssize_t)strlen(data));
        assert_memory_equal(buf, data, strlen(data));
}

static void assert_absent(int dirfd, const char *path)
{
        struct stat st;

        assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(errno, ENOENT);
}

/* ---- applying ------------------------------------------------------------ */

/* Applies data through a file (or a pipe); returns apply's result. */
static int apply_bytes(struct fixture *f, const void *data, size_t len, bool pipe_it,
                       const berth_layer_options *opts, berth_layer_stats *stats, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        struct feeder feeder = { .data = data, .len = len };
        pthread_t th;
        int r;

        if (pipe_it) {
                int p[2];

                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                fd = p[0];
                feeder.fd = p[1];
                assert_int_equal(pthread_create(&th, NULL, feed_main, &feeder), 0);
        } else {
                fd = memfd_with(data, len);
        }
        r = berth_layer_apply(f->layerfd, fd, opts, stats, err);
        if (pipe_it) {
                closep(&fd); /* unblocks the writer when apply stopped early */
                pthread_join(th, NULL);
        }
        return r;
}

static void apply_ok(struct fixture *f, const void *data, size_t len,
                     const berth_layer_options *opts, berth_layer_stats *stats)
{
        berth_error err = BERTH_ERROR_INIT;
        int r = apply_bytes(f, data, len, false, opts, stats, &err);

        if (r < 0)
                fail_msg("apply: %s", berth_error_msg(&err));
        berth_error_release(&err);
}

static const berth_layer_options owner_opts = { .what = "layer test", .keep_ownership = true };

/* ---- the tests ----------------------------------------------------------- */

/* Every kind of entry, as one tar. */
static unsigned char *rich_tar(size_t *len)
{
        struct tarb *t = tb_new();
        struct archive_entry *e;
        char longname[300], longtarget[300];
        static char sparse_data[4096];

        tb_dir(t, "etc/", 0750);
        tb_file_full(t, "etc/conf", 0640, 1234, 5678, "hello\n");
        tb_file_full(t, "etc/setuid", 04755, 1000, 1000, "suid\n");
        tb_file_full(t, "etc/setgid", 02711, 0, 50, "sgid\n");
        tb_dir(t, "tmp/", 01777);
        tb_symlink(t, "etc/link", "conf");
        tb_symlink(t, "abs", "/etc/conf");
        tb_hardlink(t, "etc/hard", "etc/conf");
        tb_node(t, "fifo", S_IFIFO | 0620, 0, 0);
        e = tb_entry("etc/xattrs", S_IFREG | 0600, 0, 0);
        archive_entry_xattr_add_entry(e, "user.color", "blue", 4);
        archive_entry_xattr_add_entry(e, "trusted.secret", "t", 1);
        archive_entry_set_size(e, 2);
        tb_put(t, e, "x\n", 2);
        /* long names and targets need pax headers */
        memset(longname, 'n', sizeof(longname));
        memcpy(longname, "long/", 5);
        longname[250] = '\0';
        memset(longtarget, 't', sizeof(longtarget));
        longtarget[200] = '\0';
        tb_file(t, longname, "long\n");
        tb_symlink(t, "longlink", longtarget);
        /* sparse: data at 0 and at 512 KiB, 1 MiB in all */
        memset(sparse_data, 's', sizeof(sparse_data));
        e = tb_entry("sparse", S_IFREG | 0644, 0, 0);
        archive_entry_set_size(e, 1 << 20);
        archive_entry_sparse_add_entry(e, 0, 4096);
        archive_entry_sparse_add_entry(e, 512 << 10, 4096);
        assert_true(archive_write_header(t->a, e) >= ARCHIVE_WARN);
        /* the writer takes the whole file and keeps what the map says */
        for (size_t off = 0; off < 1 << 20; off += 4096) {
                static const char hole[4096];
                bool data = off == 0 || off == 512 << 10;

                assert_int_equal(archive_write_data(t->a, data ? sparse_data : hole, 4096), 4096);
        }
        archive_entry_free(e);
        return tb_finish(t, len);
}

static void check_rich(struct fixture *f, uid_t uid, gid_t gid)
{
        struct stat st, st2;
        char buf[PATH_MAX];
        ssize_t n;
        char longname[300];

        assert_file(f->layerfd, "etc/conf", "hello\n", 0640, 1234 + uid, 5678 + gid);
        assert_file(f->layerfd, "etc/setuid", "suid\n", 04755, 1000 + uid, 1000 + gid);
        assert_file(f->layerfd, "etc/setgid", "sgid\n", 02711, uid, 50 + gid);
        /* directories: mode, and the tar's mtime although files were made in them */
        assert_int_equal(fstatat(f->layerfd, "etc", &st, 0), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(st.st_mtime, DIR_MTIME);
        assert_int_equal(fstatat(f->layerfd, "tmp", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        /* symlinks, kept as written */
        n = readlinkat(f->layerfd, "etc/link", buf, sizeof(buf));
        assert_int_equal(n, 4);
        assert_memory_equal(buf, "conf", 4);
        n = readlinkat(f->layerfd, "abs", buf, sizeof(buf));
        assert_int_equal(n, 9);
        assert_memory_equal(buf, "/etc/conf", 9);
        assert_int_equal(fstatat(f->layerfd, "abs", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mtime, MTIME);
        /* hardlink: the same inode */
        assert_int_equal(fstatat(f->layerfd, "etc/conf", &st, 0), 0);
        assert_int_equal(fstatat(f->layerfd, "etc/hard", &st2, 0), 0);
        assert_int_equal(st.st_ino, st2.st_ino);
        assert_int_equal(st.st_nlink, 2);
        /* fifo */
        assert_int_equal(fstatat(f->layerfd, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISFIFO(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0620);
        /* xattrs */
        {
                _cleanup_close_ int fd = openat(f->layerfd, "etc/xattrs", O_RDONLY | O_CLOEXEC);

                assert_true(fd >= 0);
                n = fgetxattr(fd, "user.color", buf, sizeof(buf));
                assert_int_equal(n, 4);
                assert_memory_equal(buf, "blue", 4);
                n = fgetxattr(fd, "trusted.secret", buf, sizeof(buf));
                assert_int_equal(n, 1);
                assert_memory_equal(buf, "t", 1);
        }
        /* long names */
        memset(longname, 'n', sizeof(longname));
        memcpy(longname, "long/", 5);
        longname[250] = '\0';
        assert_file(f->layerfd, longname, "long\n", 0644, uid, gid);
        n = readlinkat(f->layerfd, "longlink", buf, sizeof(buf));
        assert_int_equal(n, 200);
        /* sparse: the size, the data where it was, zeros between */
        {
                _cleanup_close_ int fd = openat(f->layerfd, "sparse", O_RDONLY | O_CLOEXEC);
                char b[4096];

                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &st), 0);
                assert_int_equal(st.st_size, 1 << 20);
                assert_int_equal(pread(fd, b, 4096, 0), 4096);
                assert_int_equal(b[0], 's');
                assert_int_equal(b[4095], 's');
                assert_int_equal(pread(fd, b, 4096, 8192), 4096);
                assert_int_equal(b[0], 0);
                assert_int_equal(pread(fd, b, 4096, 512 << 10), 4096);
                assert_int_equal(b[100], 's');
        }
}

static void test_rich(struct fixture *f, enum comp c, bool pipe_it)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX];
        size_t len, clen;
        _cleanup_free_ unsigned char *tar = rich_tar(&len);
        _cleanup_free_ unsigned char *comp = compress_bytes(c, tar, len, &clen);

        if (apply_bytes(f, comp, clen, pipe_it, &owner_opts, &stats, &err) < 0)
                fail_msg("apply: %s", berth_error_msg(&err));
        check_rich(f, 0, 0);
        /* the diff_id is the digest of the uncompressed tar */
        berth_digest_buffer(tar, len, want);
        assert_string_equal(stats.diff_id, want);
        assert_int_equal(stats.tar_bytes, len);
        assert_int_equal(stats.compressed_bytes, clen);
        assert_int_equal(stats.entries, 13);
}

static void test_rich_plain(void **state)
{
        test_rich(*state, PLAIN, false);
}

static void test_rich_gzip(void **state)
{
        test_rich(*state, GZIP, false);
}

static void test_rich_zstd(void **state)
{
        test_rich(*state, ZSTD, false);
}

static void test_rich_gzip_pipe(void **state)
{
        test_rich(*state, GZIP, true);
}

static void test_rich_zstd_pipe(void **state)
{
        test_rich(*state, ZSTD, true);
}

static void test_shift_and_devices(void **state)
{
        struct fixture *f = *state;
        berth_layer_options o = { .keep_ownership = true,
                                  .uid_shift = 100000,
                                  .gid_shift = 200000,
                                  .allow_devices = true };
        size_t len;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        struct stat st;

        tb_file_full(t, "f", 04750, 1000, 1000, "x");
        tb_node(t, "null", S_IFCHR | 0666, 1, 3);
        tb_node(t, "blk", S_IFBLK | 0600, 7, 0);
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, &o, NULL);
        assert_file(f->layerfd, "f", "x", 04750, 101000, 201000);
        assert_int_equal(fstatat(f->layerfd, "null", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
        assert_int_equal(st.st_mode & 07777, 0666);
        assert_int_equal(st.st_uid, 100000);
        assert_int_equal(fstatat(f->layerfd, "blk", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISBLK(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(7, 0));
}

/* A shift that would wrap an id around, or make it (uid_t)-1, is refused. */
static void test_shift_overflow(void **state)
{
        static const int64_t ids[] = { 4294867296LL, 4294967295LL - 100000, 4294967295LL };
        struct fixture *f = *state;
        berth_layer_options o = { .keep_ownership = true, .uid_shift = 100000 };

        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                berth_error err = BERTH_ERROR_INIT;
                struct tarb *t = tb_new();
                _cleanup_free_ unsigned char *tar = NULL;
                size_t len;

                tb_file_full(t, "wrap", 0644, ids[i], 0, "x");
                tar = tb_finish(t, &len);
                assert_true(apply_bytes(f, tar, len, false, &o, NULL, &err) < 0);
                assert_non_null(strstr(berth_error_msg(&err), "entry `wrap`: owner"));
                assert_non_null(strstr(berth_error_msg(&err), "out of range"));
                berth_error_release(&err);
        }
}

static void test_no_ownership(void **state)
{
        struct fixture *f = *state;
        size_t len;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;

        tb_file_full(t, "f", 0600, 1000, 1000, "x");
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, NULL, NULL);
        assert_file(f->layerfd, "f", "x", 0600, geteuid(), getegid());
}

/* Modes come out as the tar says whatever the umask, which only shapes the first try. */
static void test_modes_umask(void **state)
{
        static const mode_t masks[] = { 022, 077, 0 };
        struct fixture *f = *state;

        for (size_t i = 0; i < ARRAY_SIZE(masks); i++) {
                struct tarb *t = tb_new();
                _cleanup_free_ unsigned char *tar = NULL;
                mode_t old = umask(masks[i]);
                struct stat st;
                char name[32];
                size_t len;

                snprintf(name, sizeof(name), "m%zu/", i);
                tb_dir(t, name, 0777);
                snprintf(name, sizeof(name), "m%zu/all", i);
                tb_file_full(t, name, 0666, 0, 0, "a");
                snprintf(name, sizeof(name), "m%zu/exec", i);
                tb_file_full(t, name, 0775, 0, 0, "e");
                snprintf(name, sizeof(name), "m%zu/fifo", i);
                tb_node(t, name, S_IFIFO | 0666, 0, 0);
                tar = tb_finish(t, &len);
                apply_ok(f, tar, len, &owner_opts, NULL);
                umask(old);
                snprintf(name, sizeof(name), "m%zu/all", i);
                assert_file(f->layerfd, name, "a", 0666, 0, 0);
                snprintf(name, sizeof(name), "m%zu/exec", i);
                assert_file(f->layerfd, name, "e", 0775, 0, 0);
                snprintf(name, sizeof(name), "m%zu/fifo", i);
                assert_int_equal(fstatat(f->layerfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_mode & 07777, 0666);
                snprintf(name, sizeof(name), "m%zu", i);
                assert_int_equal(fstatat(f->layerfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_mode & 07777, 0777);
        }
}

/*
 * In a setgid directory new inodes take its group, and directories its
 * setgid bit: entries still get exactly the owner and mode the tar says.
 */
static void test_setgid_parent(void **state)
{
        struct fixture *f = *state;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        struct archive_entry *e;
        struct stat st;
        size_t len;

        e = tb_entry("g/", S_IFDIR | 02775, 0, 50);
        tb_put(t, e, NULL, 0);
        tb_file(t, "g/f", "f");
        tb_dir(t, "g/sub/", 0755);
        tb_symlink(t, "g/link", "f");
        tb_file_full(t, "g/staff", 0640, 0, 50, "s");
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, &owner_opts, NULL);
        assert_int_equal(fstatat(f->layerfd, "g", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 02775);
        assert_int_equal(st.st_gid, 50);
        assert_file(f->layerfd, "g/f", "f", 0644, 0, 0);
        assert_file(f->layerfd, "g/staff", "s", 0640, 0, 50);
        assert_int_equal(fstatat(f->layerfd, "g/sub", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(st.st_gid, 0);
        assert_int_equal(fstatat(f->layerfd, "g/link", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_gid, 0);
}

static void assert_xattr(int dirfd, const char *path, const char *name, const char *value)
{
        char pp[PATH_MAX + 64], buf[64];
        ssize_t n;

        snprintf(pp, sizeof(pp), "/proc/self/fd/%d/%s", dirfd, path);
        n = lgetxattr(pp, name, buf, sizeof(buf));
        if (!value) {
                assert_int_equal(n, -1);
                return;
        }
        assert_int_equal(n, (ssize_t)strlen(value));
        assert_memory_equal(buf, value, strlen(value));
}

static void assert_whiteout(int dirfd, const char *path)
{
        struct stat st;

        assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
}

static unsigned char *whiteout_tar(size_t *len)
{
        struct tarb *t = tb_new();

        tb_dir(t, "d/", 0755);
        tb_file(t, "d/keep", "k");
        tb_file(t, "d/gone", "replaced by the whiteout below");
        tb_file(t, "d/.wh.gone", "");
        tb_dir(t, "d/sub/", 0755);
        tb_file(t, "d/sub/x", "x");
        tb_file(t, "d/.wh.sub", ""); /* a whole directory */
        tb_dir(t, "o/", 0755);
        tb_file(t, "o/.wh..wh..opq", "");
        tb_file(t, "o/new", "n");
        tb_file(t, ".wh.top", "");
        tb_file(t, ".wh..wh.aufs", "");   /* aufs metadata: skipped */
        tb_dir(t, ".wh..wh.plnk/", 0700); /* likewise */
        tb_file(t, ".wh..wh.plnk/1.2", "");
        return tb_finish(t, len);
}

static void test_whiteouts(void **state)
{
        struct fixture *f = *state;
        size_t len;
        _cleanup_free_ unsigned char *tar = whiteout_tar(&len);
        berth_layer_stats stats;

        apply_ok(f, tar, len, &owner_opts, &stats);
        assert_file(f->layerfd, "d/keep", "k", 0644, 0, 0);
        assert_whiteout(f->layerfd, "d/gone");
        assert_whiteout(f->layerfd, "d/sub");
        assert_whiteout(f->layerfd, "top");
        assert_absent(f->layerfd, "d/.wh.gone");
        assert_absent(f->layerfd, ".wh.top");
        assert_absent(f->layerfd, ".wh..wh.aufs");
        assert_absent(f->layerfd, ".wh..wh.plnk");
        assert_xattr(f->layerfd, "o", "trusted.overlay.opaque", "y");
        assert_xattr(f->layerfd, "d", "trusted.overlay.opaque", NULL);
        assert_absent(f->layerfd, "o/.wh..wh..opq");
        assert_file(f->layerfd, "o/new", "n", 0644, 0, 0);
        assert_int_equal(stats.entries, 14);
}

static void test_raw_whiteouts(void **state)
{
        struct fixture *f = *state;
        berth_layer_options o = { .raw_whiteouts = true, .keep_ownership = true };
        size_t len;
        _cleanup_free_ unsigned char *tar = whiteout_tar(&len);

        apply_ok(f, tar, len, &o, NULL);
        assert_file(f->layerfd, "d/gone", "replaced by the whiteout below", 0644, 0, 0);
        assert_file(f->layerfd, "d/.wh.gone", "", 0644, 0, 0);
        assert_file(f->layerfd, "o/.wh..wh..opq", "", 0644, 0, 0);
        assert_file(f->layerfd, ".wh.top", "", 0644, 0, 0);
        assert_xattr(f->layerfd, "o", "trusted.overlay.opaque", NULL);
}

static void test_bad_whiteouts(void **state)
{
        static const char *const bad[] = { ".wh.", "d/.wh..", "d/.wh...", ".wh.x/y" };
        struct fixture *f = *state;

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_error err = BERTH_ERROR_INIT;
                struct tarb *t = tb_new();
                _cleanup_free_ unsigned char *tar = NULL;
                char want[64];
                size_t len;

                tb_file(t, bad[i], "");
                tar = tb_finish(t, &len);
                assert_true(apply_bytes(f, tar, len, false, NULL, NULL, &err) < 0);
                snprintf(want, sizeof(want), "`%s`", bad[i]);
                assert_non_null(strstr(berth_error_msg(&err), want));
                berth_error_release(&err);
        }
}

/* Later entries replace earlier ones with the same name, whatever they are. */
static void test_replace(void **state)
{
        struct fixture *f = *state;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        struct stat st;
        char buf[16];
        size_t len;

        tb_file(t, "twice", "first");
        tb_file(t, "twice", "second");
        tb_dir(t, "dir2file/", 0755);
        tb_file(t, "dir2file/child", "c");
        tb_file(t, "dir2file", "now a file");
        tb_file(t, "file2dir", "f");
        tb_dir(t, "file2dir/", 0700);
        tb_file(t, "link2file", "x");
        tb_symlink(t, "link2file", "/etc/passwd");
        tb_symlink(t, "file2link", "twice");
        tb_file(t, "file2link", "not through the link");
        tb_dir(t, "merge/", 0755);
        tb_file(t, "merge/a", "a");
        tb_dir(t, "merge/", 0700); /* directories merge */
        tb_file(t, "merge/b", "b");
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, &owner_opts, NULL);
        assert_file(f->layerfd, "twice", "second", 0644, 0, 0);
        assert_file(f->layerfd, "dir2file", "now a file", 0644, 0, 0);
        assert_int_equal(fstatat(f->layerfd, "file2dir", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(readlinkat(f->layerfd, "link2file", buf, sizeof(buf)), 11);
        assert_file(f->layerfd, "file2link", "not through the link", 0644, 0, 0);
        assert_file(f->layerfd, "twice", "second", 0644, 0, 0);
        assert_file(f->layerfd, "merge/a", "a", 0644, 0, 0);
        assert_file(f->layerfd, "merge/b", "b", 0644, 0, 0);
        assert_int_equal(fstatat(f->layerfd, "merge", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
}

/* Relative symlinks inside the layer are followed for entries below them. */
static void test_symlink_inside(void **state)
{
        struct fixture *f = *state;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        size_t len;

        tb_dir(t, "usr/", 0755);
        tb_dir(t, "usr/lib/", 0755);
        tb_symlink(t, "lib", "usr/lib");
        tb_file(t, "lib/x", "through");
        tb_symlink(t, "usr/up", "../usr/lib");
        tb_file(t, "usr/up/y", "up");
        tb_file(t, "implicit/parents/z", "z");
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, &owner_opts, NULL);
        assert_file(f->layerfd, "usr/lib/x", "through", 0644, 0, 0);
        assert_file(f->layerfd, "usr/lib/y", "up", 0644, 0, 0);
        assert_file(f->layerfd, "implicit/parents/z", "z", 0644, 0, 0);
}

/* "/abs" and "./x" are made relative, and land inside. */
static void test_absolute_names(void **state)
{
        struct fixture *f = *state;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        size_t len;
        char *after;

        tb_file(t, "/abs", "abs");
        tb_file(t, "./dot", "dot");
        tb_file(t, "//a/./b/../c", "c");
        tb_hardlink(t, "hl", "/abs");
        tar = tb_finish(t, &len);
        apply_ok(f, tar, len, &owner_opts, NULL);
        assert_file(f->layerfd, "abs", "abs", 0644, 0, 0);
        assert_file(f->layerfd, "dot", "dot", 0644, 0, 0);
        assert_file(f->layerfd, "a/c", "c", 0644, 0, 0);
        assert_file(f->layerfd, "hl", "abs", 0644, 0, 0);
        after = list_base(f);
        assert_string_equal(after, f->before);
        free(after);
}

/*
 * A hostile tar: `build` adds its entries; apply must fail naming
 * `entry`, saying `why`, and leave everything outside the layer as it was.
 */
static void expect_refused(struct fixture *f, void (*build)(struct fixture *, struct tarb *),
                           const berth_layer_options *opts, const char *entry, const char *why)
{
        berth_error err = BERTH_ERROR_INIT;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL;
        _cleanup_free_ char *after = NULL;
        char want[PATH_MAX];
        size_t len;

        build(f, t);
        tar = tb_finish(t, &len);
        assert_true(apply_bytes(f, tar, len, false, opts, NULL, &err) < 0);
        snprintf(want, sizeof(want), "entry `%s`", entry);
        if (!strstr(berth_error_msg(&err), want) || !strstr(berth_error_msg(&err), why))
                fail_msg("unexpected error: %s", berth_error_msg(&err));
        assert_non_null(strstr(berth_error_msg(&err), opts && opts->what ? opts->what : "layer"));
        berth_error_release(&err);
        after = list_base(f);
        assert_string_equal(after, f->before);
}

static void build_dotdot(struct fixture *f, struct tarb *t)
{
        tb_file(t, "ok", "fine");
        tb_file(t, "../escape", "x");
}

static void build_dotdot_deep(struct fixture *f, struct tarb *t)
{
        tb_file(t, "a/../../escape", "x");
}

static void build_abs_symlink(struct fixture *f, struct tarb *t)
{
        tb_symlink(t, "evil", f->sentinel);
        tb_file(t, "evil/x", "x");
}

static void build_abs_symlink_keep(struct fixture *f, struct tarb *t)
{
        /* writing the file the symlink names, rather than into a directory */
        tb_symlink(t, "evil", f->sentinel);
        tb_file(t, "evil/keep", "overwritten");
}

static void build_up_symlink(struct fixture *f, struct tarb *t)
{
        tb_symlink(t, "up", "../..");
        tb_file(t, "up/x", "x");
}

static void build_up_symlink_dir(struct fixture *f, struct tarb *t)
{
        tb_symlink(t, "up", "../..");
        tb_dir(t, "up/newdir/", 0755);
}

static void build_hardlink_out(struct fixture *f, struct tarb *t)
{
        tb_hardlink(t, "h", "../../etc/passwd");
}

static void build_hardlink_abs_symlink_dir(struct fixture *f, struct tarb *t)
{
        tb_symlink(t, "evil", f->sentinel);
        tb_hardlink(t, "h", "evil/keep");
}

static void build_hardlink_symlink(struct fixture *f, struct tarb *t)
{
        char target[PATH_MAX];

        snprintf(target, sizeof(target), "%s/keep", f->sentinel);
        tb_symlink(t, "s", target);
        tb_hardlink(t, "h", "s");
}

static void build_hardlink_missing(struct fixture *f, struct tarb *t)
{
        tb_hardlink(t, "h", "nothing");
}

static void build_device(struct fixture *f, struct tarb *t)
{
        tb_node(t, "dev/mem", S_IFCHR | 0600, 1, 1);
}

static void build_many(struct fixture *f, struct tarb *t)
{
        tb_file(t, "f0", "0");
        tb_file(t, "f1", "1");
        tb_file(t, "f2", "2");
        tb_file(t, "f3", "3");
        tb_file(t, "f4", "4");
}

static void build_big(struct fixture *f, struct tarb *t)
{
        static char big[100000];

        memset(big, 'b', sizeof(big) - 1);
        tb_file(t, "small", "s");
        tb_file(t, "big", big);
}

static void test_hostile(void **state)
{
        struct fixture *f = *state;
        berth_layer_options few = { .what = "layer sha256:feed", .max_entries = 3 };
        berth_layer_options small = { .max_bytes = 16384 };

        expect_refused(f, build_dotdot, NULL, "../escape", "escapes the layer");
        expect_refused(f, build_dotdot_deep, NULL, "a/../../escape", "escapes the layer");
        expect_refused(f, build_abs_symlink, NULL, "evil/x", "symlink out of the layer");
        expect_refused(f, build_abs_symlink_keep, NULL, "evil/keep", "symlink out of the layer");
        expect_refused(f, build_up_symlink, NULL, "up/x", "symlink out of the layer");
        expect_refused(f, build_up_symlink_dir, NULL, "up/newdir/", "symlink out of the layer");
        expect_refused(f, build_hardlink_out, NULL, "h", "outside the layer");
        expect_refused(f, build_hardlink_abs_symlink_dir, NULL, "h", "symlink out of the layer");
        expect_refused(f, build_hardlink_symlink, NULL, "h", "symlink out of the layer");
        expect_refused(f, build_hardlink_missing, NULL, "h", "missing");
        expect_refused(f, build_device, NULL, "dev/mem", "device nodes are not allowed");
        expect_refused(f, build_many, &few, "f3", "more than 3 entries");
        expect_refused(f, build_big, &small, "big", "over the limit");
}

/* The byte limit holds for the stream too, as a decompression bomb would need. */
static void test_bomb(void **state)
{
        struct fixture *f = *state;
        berth_error err = BERTH_ERROR_INIT;
        berth_layer_options o = { .max_bytes = 1 << 20 };
        size_t len = 64 << 20, clen;
        unsigned char *zeros = calloc(1, len);
        _cleanup_free_ unsigned char *gz = NULL;

        assert_non_null(zeros);
        gz = gzip_bytes(zeros, len, &clen);
        free(zeros);
        assert_true(clen < 1 << 20);
        assert_true(apply_bytes(f, gz, clen, false, &o, NULL, &err) < 0);
        assert_non_null(strstr(berth_error_msg(&err), "more than 1048576 bytes uncompressed"));
        berth_error_release(&err);
}

static void test_empty(void **state)
{
        struct fixture *f = *state;
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX];
        size_t clen;
        _cleanup_free_ unsigned char *gz = gzip_bytes("", 0, &clen);
        _cleanup_free_ char *list = NULL;

        berth_digest_buffer("", 0, want);
        apply_ok(f, "", 0, NULL, &stats);
        assert_string_equal(stats.diff_id, want);
        assert_int_equal(stats.entries, 0);
        assert_int_equal(stats.tar_bytes, 0);
        apply_ok(f, gz, clen, NULL, &stats);
        assert_string_equal(stats.diff_id, want);
        assert_int_equal(stats.compressed_bytes, clen);
        list = list_layer(f->layerfd);
        assert_string_equal(list, "");
}

/* Only the end-of-archive blocks, and more zeros after them: all of it is hashed. */
static void test_trailing_zeros(void **state)
{
        struct fixture *f = *state;
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX];
        static unsigned char tar[10240 * 3];
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *one = NULL;
        size_t len;

        apply_ok(f, tar, sizeof(tar), NULL, &stats);
        berth_digest_buffer(tar, sizeof(tar), want);
        assert_string_equal(stats.diff_id, want);
        assert_int_equal(stats.tar_bytes, sizeof(tar));

        tb_file(t, "a", "a");
        one = tb_finish(t, &len);
        one = realloc(one, len + 8192);
        memset(one + len, 0, 8192);
        apply_ok(f, one, len + 8192, NULL, &stats);
        berth_digest_buffer(one, len + 8192, want);
        assert_string_equal(stats.diff_id, want);
}

static void expect_fails(struct fixture *f, const void *data, size_t len, const char *why)
{
        berth_error err = BERTH_ERROR_INIT;

        assert_true(apply_bytes(f, data, len, false, NULL, NULL, &err) < 0);
        if (!strstr(berth_error_msg(&err), why))
                fail_msg("unexpected error: %s", berth_error_msg(&err));
        assert_true(strncmp(berth_error_msg(&err), "layer: ", 7) == 0);
        berth_error_release(&err);
        /* and through a pipe */
        assert_true(apply_bytes(f, data, len, true, NULL, NULL, &err) < 0);
        if (!strstr(berth_error_msg(&err), why))
                fail_msg("unexpected error (pipe): %s", berth_error_msg(&err));
        berth_error_release(&err);
}

static void test_corrupt(void **state)
{
        struct fixture *f = *state;
        size_t len, glen, zlen;
        _cleanup_free_ unsigned char *tar = rich_tar(&len);
        _cleanup_free_ unsigned char *gz = gzip_bytes(tar, len, &glen);
        _cleanup_free_ unsigned char *zs = zstd_bytes(tar, len, &zlen);
        _cleanup_free_ unsigned char *bad = malloc(glen);

        expect_fails(f, gz, glen / 2, "gzip: unexpected end of stream");
        expect_fails(f, gz, glen - 4, "gzip: unexpected end of stream");
        expect_fails(f, gz, 2, "gzip: unexpected end of stream");
        memcpy(bad, gz, glen);
        bad[glen - 5] ^= 0xff; /* the crc */
        expect_fails(f, bad, glen, "gzip: checksum mismatch");
        memcpy(bad, gz, glen);
        bad[glen / 2] ^= 0x55;
        expect_fails(f, bad, glen, "gzip:");
        expect_fails(f, zs, zlen / 2, "zstd: unexpected end of stream");
        expect_fails(f, zs, 4, "zstd: unexpected end of stream");
        expect_fails(f, tar, len / 2, "tar:");
        expect_fails(f, "this is not a tar file, not at all, and it goes on for a while", 63,
                     "tar:");
}

/* A gzip of several members reads as one stream; data after the last is refused. */
static void test_gzip_members(void **state)
{
        struct fixture *f = *state;
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX];
        size_t len, l1, l2;
        _cleanup_free_ unsigned char *tar = rich_tar(&len);
        _cleanup_free_ unsigned char *g1 = gzip_bytes(tar, 1000, &l1);
        _cleanup_free_ unsigned char *g2 = gzip_bytes(tar + 1000, len - 1000, &l2);
        _cleanup_free_ unsigned char *both = malloc(l1 + l2 + 8);

        memcpy(both, g1, l1);
        memcpy(both + l1, g2, l2);
        apply_ok(f, both, l1 + l2, &owner_opts, &stats);
        check_rich(f, 0, 0);
        berth_digest_buffer(tar, len, want);
        assert_string_equal(stats.diff_id, want);
        memset(both + l1 + l2, 0, 8);
        expect_fails(f, both, l1 + l2 + 8, "gzip: trailing data");
}

static void test_zstd_frames(void **state)
{
        struct fixture *f = *state;
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX];
        size_t len, l1, l2;
        _cleanup_free_ unsigned char *tar = rich_tar(&len);
        _cleanup_free_ unsigned char *z1 = zstd_bytes(tar, 3000, &l1);
        _cleanup_free_ unsigned char *z2 = zstd_bytes(tar + 3000, len - 3000, &l2);
        _cleanup_free_ unsigned char *both = malloc(l1 + l2);

        memcpy(both, z1, l1);
        memcpy(both + l1, z2, l2);
        apply_ok(f, both, l1 + l2, &owner_opts, &stats);
        check_rich(f, 0, 0);
        berth_digest_buffer(tar, len, want);
        assert_string_equal(stats.diff_id, want);
}

/* A big layer, so that the ring of blocks wraps around many times. */
static void test_large(void **state)
{
        struct fixture *f = *state;
        struct tarb *t = tb_new();
        berth_layer_stats stats;
        char want[BERTH_DIGEST_STR_MAX], name[64];
        size_t len, clen;
        _cleanup_free_ unsigned char *tar = NULL, *gz = NULL;
        _cleanup_free_ char *data = malloc(300000);
        struct stat st;

        for (size_t i = 0; i < 300000; i++)
                data[i] = (char)('a' + (i * 7919) % 23);
        for (int i = 0; i < 64; i++) {
                struct archive_entry *e;

                snprintf(name, sizeof(name), "d%d/f%d", i % 5, i);
                e = tb_entry(name, S_IFREG | 0644, 0, 0);
                archive_entry_set_size(e, 300000 - i);
                tb_put(t, e, data + i, 300000 - i);
        }
        tar = tb_finish(t, &len);
        gz = gzip_bytes(tar, len, &clen);
        apply_ok(f, gz, clen, NULL, &stats);
        berth_digest_buffer(tar, len, want);
        assert_string_equal(stats.diff_id, want);
        for (int i = 0; i < 64; i++) {
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *got = malloc(300000);

                snprintf(name, sizeof(name), "d%d/f%d", i % 5, i);
                fd = openat(f->layerfd, name, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &st), 0);
                assert_int_equal(st.st_size, 300000 - i);
                assert_int_equal(read(fd, got, 300000), 300000 - i);
                assert_memory_equal(got, data + i, 300000 - i);
        }
}

/* ---- write_tar ----------------------------------------------------------- */

static unsigned char *write_tar_bytes(int dirfd, size_t *ret_len, berth_layer_stats *stats)
{
        berth_error err = BERTH_ERROR_INIT;
        int fd = memfd_create("out", MFD_CLOEXEC);
        struct stat st;
        unsigned char *data;

        assert_true(fd >= 0);
        if (berth_layer_write_tar(dirfd, fd, stats, &err) < 0)
                fail_msg("write_tar: %s", berth_error_msg(&err));
        assert_int_equal(fstat(fd, &st), 0);
        data = malloc((size_t)st.st_size + 1);
        assert_int_equal(pread(fd, data, (size_t)st.st_size, 0), st.st_size);
        close(fd);
        *ret_len = (size_t)st.st_size;
        return data;
}

/* The names in a tar, in order, one per line. */
static char *tar_names(const void *data, size_t len)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char *s = NULL;
        size_t slen = 0;
        FILE *out = open_memstream(&s, &slen);

        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                fprintf(out, "%s", archive_entry_pathname(e));
                if (archive_entry_hardlink(e))
                        fprintf(out, " link=%s", archive_entry_hardlink(e));
                if (archive_entry_atime_is_set(e) || archive_entry_ctime_is_set(e))
                        fprintf(out, " HAS-ATIME-OR-CTIME");
                fputc('\n', out);
        }
        archive_read_free(a);
        fclose(out);
        return s;
}

static void test_write_tar_roundtrip(void **state)
{
        struct fixture *f = *state;
        berth_layer_options o = { .keep_ownership = true, .allow_devices = true };
        berth_layer_stats s1, s2, s3;
        char want[BERTH_DIGEST_STR_MAX];
        size_t len, l1, l2, l3;
        _cleanup_free_ unsigned char *tar = rich_tar(&len);
        _cleanup_free_ unsigned char *wtar = whiteout_tar(&l1);
        _cleanup_free_ unsigned char *t1 = NULL, *t2 = NULL, *t3 = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL, *names = NULL;
        _cleanup_close_ int copyfd = -1;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *extra = NULL;

        apply_ok(f, tar, len, &o, NULL);
        apply_ok(f, wtar, l1, &o, NULL);
        tb_node(t, "dev/null", S_IFCHR | 0666, 1, 3);
        tb_file(t, "etc/.hidden", "h");
        tb_hardlink(t, "aaa-first-by-name", "etc/conf");
        extra = tb_finish(t, &len);
        apply_ok(f, extra, len, &o, NULL);

        t1 = write_tar_bytes(f->layerfd, &l1, &s1);
        t2 = write_tar_bytes(f->layerfd, &l2, &s2);
        assert_int_equal(l1, l2);
        assert_memory_equal(t1, t2, l1);
        berth_digest_buffer(t1, l1, want);
        assert_string_equal(s1.diff_id, want);
        assert_int_equal(s1.tar_bytes, l1);

        names = tar_names(t1, l1);
        assert_null(strstr(names, "HAS-ATIME-OR-CTIME"));
        /* overlay's form back to docker's: the opaque marker first in its directory */
        assert_non_null(strstr(names, "d/.wh.gone\n"));
        assert_non_null(strstr(names, "d/.wh.sub\n"));
        assert_non_null(strstr(names, ".wh.top\n"));
        assert_non_null(strstr(names, "o/\no/.wh..wh..opq\no/new\n"));
        /* sorted: hardlinks point to the first name in walk order */
        assert_non_null(strstr(names, "aaa-first-by-name\n"));
        assert_non_null(strstr(names, "etc/conf link=aaa-first-by-name\n"));
        assert_non_null(strstr(names, "etc/hard link=aaa-first-by-name\n"));

        /* apply(write_tar(dir)) is dir again */
        assert_int_equal(mkdirat(f->basefd, "copy", 0755), 0);
        copyfd = openat(f->basefd, "copy", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(copyfd >= 0);
        {
                berth_error err = BERTH_ERROR_INIT;
                _cleanup_close_ int in = memfd_with(t1, l1);

                if (berth_layer_apply(copyfd, in, &o, &s3, &err) < 0)
                        fail_msg("apply: %s", berth_error_msg(&err));
        }
        assert_string_equal(s3.diff_id, s1.diff_id);
        a = list_layer(f->layerfd);
        b = list_layer(copyfd);
        /* the layer directories themselves may differ; everything below is equal */
        assert_string_equal(a, b);
        /* and writing the copy gives the same bytes */
        t3 = write_tar_bytes(copyfd, &l3, NULL);
        assert_int_equal(l3, l1);
        assert_memory_equal(t3, t1, l1);
}

static void test_write_tar_errors(void **state)
{
        struct fixture *f = *state;
        berth_error err = BERTH_ERROR_INIT;
        int p[2];

        write_at(f->layerfd, "f", "data");
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        close(p[0]);
        assert_true(berth_layer_write_tar(f->layerfd, p[1], NULL, &err) < 0);
        assert_non_null(strstr(berth_error_msg(&err), "write layer tar"));
        berth_error_release(&err);
        close(p[1]);
}

/*
 * A tree deeper than there are fds to spare: apply, write_tar and the
 * removal of a replaced directory keep a bounded number of fds open.
 */
static void test_deep(void **state)
{
        struct fixture *f = *state;
        enum { LEVELS = 1500 };
        static char deep[2 * LEVELS + 8];
        struct rlimit old, low;
        size_t len, l2, tlen;
        struct tarb *t = tb_new();
        _cleanup_free_ unsigned char *tar = NULL, *tar2 = NULL, *out = NULL;
        _cleanup_free_ char *names = NULL;
        struct stat st;

        for (size_t i = 0; i < LEVELS; i++)
                memcpy(deep + 2 * i, "d/", 2);
        memcpy(deep + 2 * LEVELS, "f", 2);
        tb_file(t, deep, "deep");
        tar = tb_finish(t, &len);
        t = tb_new();
        tb_file(t, "d", "the tree is gone");
        tar2 = tb_finish(t, &l2);

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        low = old;
        low.rlim_cur = 64;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        apply_ok(f, tar, len, NULL, NULL);
        out = write_tar_bytes(f->layerfd, &tlen, NULL);
        apply_ok(f, tar2, l2, &owner_opts, NULL);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);

        names = tar_names(out, tlen);
        assert_non_null(strstr(names, deep));
        assert_int_equal(fstatat(f->layerfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_rich_plain),
                T(test_rich_gzip),
                T(test_rich_zstd),
                T(test_rich_gzip_pipe),
                T(test_rich_zstd_pipe),
                T(test_shift_and_devices),
                T(test_shift_overflow),
                T(test_no_ownership),
                T(test_modes_umask),
                T(test_setgid_parent),
                T(test_whiteouts),
                T(test_raw_whiteouts),
                T(test_bad_whiteouts),
                T(test_replace),
                T(test_symlink_inside),
                T(test_absolute_names),
                T(test_hostile),
                T(test_bomb),
                T(test_empty),
                T(test_trailing_zeros),
                T(test_corrupt),
                T(test_gzip_members),
                T(test_zstd_frames),
                T(test_large),
                T(test_write_tar_roundtrip),
                T(test_write_tar_errors),
                T(test_deep),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
