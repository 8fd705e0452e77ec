/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for basic/path.c: every API, run once through openat2 and once
 * through the userspace walk, against a root full of hostile symlinks next
 * to an "outside" directory that must never be reached.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/path.h"

#define SECRET "outside secret\n"
#define INSIDE "inside\n"
#define CHAIN  41 /* c0 -> c1 -> ... -> c40 -> c41, a file: c0 takes 41 links */

struct fixture {
        int nfds;               /* open fds before the test, to catch leaks */
        char base[64];          /* the temporary directory */
        char outside[PATH_MAX]; /* base/outside, absolute */
        int rootfd;             /* base/root */
};

static void write_at(int dirfd, const char *name, const char *data)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
}

static void link_at(int dirfd, const char *target, const char *name)
{
        assert_int_equal(symlinkat(target, dirfd, name), 0);
}

static void build_chain(int rootfd)
{
        char name[16], target[16];

        for (int i = 0; i < CHAIN; i++) {
                assert_true(snprintf(name, sizeof(name), "c%d", i) < (int)sizeof(name));
                assert_true(snprintf(target, sizeof(target), "c%d", i + 1) < (int)sizeof(target));
                link_at(rootfd, target, name);
        }
        assert_true(snprintf(name, sizeof(name), "c%d", CHAIN) < (int)sizeof(name));
        write_at(rootfd, name, INSIDE);
}

/* The root's hostile entries; see each symlink's comment for the trap. */
static void build_root(struct fixture *f)
{
        int r = f->rootfd;

        assert_int_equal(mkdirat(r, "etc", 0755), 0);
        write_at(r, "etc/passwd", INSIDE);
        assert_int_equal(mkdirat(r, "dir", 0755), 0);
        assert_int_equal(mkdirat(r, "dir/sub", 0755), 0);
        write_at(r, "file", INSIDE);
        assert_int_equal(mkfifoat(r, "fifo", 0644), 0);
        link_at(r, "/etc", "abs_etc");               /* host /etc */
        link_at(r, "../../../../../..", "dotdot");   /* far above the root */
        link_at(r, "../../../../outside", "dir/up"); /* base/outside by ".." */
        link_at(r, f->outside, "escape");            /* base/outside, absolute */
        link_at(r, "loop2", "loop1");                /* loops */
        link_at(r, "loop1", "loop2");
        link_at(r, "self/x", "self");
        link_at(r, "/nonexistent/target", "dangling"); /* dangling, absolute */
        link_at(r, "../etc/newfile", "dir/dangling");  /* dangling, relative */
        link_at(r, "dir", "reldir");
        link_at(r, "/etc", "dir/sub/abs");    /* absolute, deeper down */
        link_at(r, "reldir/../etc", "chain"); /* ".." after a symlink */
        build_chain(r);
}

/* Open fds of this process, or -1 without /proc. */
static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        while (readdir(d))
                n++;
        return n;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_close_ int basefd = -1, outfd = -1;

        assert_non_null(f);
        f->nfds = count_fds();
        assert_true(snprintf(f->base, sizeof(f->base), "/tmp/berth-test-path.XXXXXX") <
                    (int)sizeof(f->base));
        assert_non_null(mkdtemp(f->base));
        assert_true(snprintf(f->outside, sizeof(f->outside), "%s/outside", f->base) <
                    (int)sizeof(f->outside));
        basefd = open(f->base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(basefd >= 0);
        assert_int_equal(mkdirat(basefd, "outside", 0755), 0);
        assert_int_equal(mkdirat(basefd, "root", 0755), 0);
        outfd = openat(basefd, "outside", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(outfd >= 0);
        write_at(outfd, "secret", SECRET);
        f->rootfd = openat(basefd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->rootfd >= 0);
        build_root(f);
        *state = f;
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path);
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        int nfds, before = f->nfds, r;

        berth_path_force_fallback(false);
        close(f->rootfd);
        nfds = count_fds();
        r = nftw(f->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        assert_int_equal(r, 0);
        assert_int_equal(nfds, before);
        return 0;
}

/* `fd` is O_CLOEXEC and the very object at `rel` under the root (not followed). */
static void assert_is(struct fixture *f, int fd, const char *rel)
{
        struct stat a, b;

        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstatat(f->rootfd, rel, &b, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), 0);
        assert_int_equal(a.st_dev, b.st_dev);
        assert_int_equal(a.st_ino, b.st_ino);
}

static void assert_exists(struct fixture *f, const char *rel, mode_t type)
{
        struct stat st;

        assert_int_equal(fstatat(f->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & S_IFMT, type);
}

/* The outside directory still holds just `secret`, with its content. */
static void assert_outside_untouched(struct fixture *f)
{
        _cleanup_closedir_ DIR *d = opendir(f->outside);
        _cleanup_close_ int fd = -1;
        struct dirent *de;
        char buf[64];
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        assert_string_equal(de->d_name, "secret");
                        n++;
                }
        assert_int_equal(n, 1);
        fd = openat(dirfd(d), "secret", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)strlen(SECRET));
        assert_memory_equal(buf, SECRET, strlen(SECRET));
}

/* Opens `path` and expects -err, with a message naming the path. */
static void assert_open_fails(struct fixture *f, const char *path, int flags, int err)
{
        berth_error e = BERTH_ERROR_INIT;
        char want[PATH_MAX + 64];

        assert_int_equal(berth_open_in_root(f->rootfd, path, flags, 0644, &e), -err);
        assert_int_equal(e.code, err);
        assert_true(snprintf(want, sizeof(want), "open `%s` in root: %s", path, strerror(err)) <
                    (int)sizeof(want));
        assert_string_equal(berth_error_msg(&e), want);
        berth_error_release(&e);
}

static void assert_open_is(struct fixture *f, const char *path, int flags, const char *rel)
{
        berth_error e = BERTH_ERROR_INIT;
        _cleanup_close_ int fd = berth_open_in_root(f->rootfd, path, flags, 0644, &e);

        if (fd < 0)
                fail_msg("open `%s`: %s", path, berth_error_msg(&e));
        assert_is(f, fd, rel);
}

static void check_open_symlinks(struct fixture *f)
{
        _cleanup_close_ int fd = -1;
        char buf[16];

        assert_open_is(f, "/abs_etc/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "dotdot/etc/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "../../../etc/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "dir/sub/../../../../etc/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "chain/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "reldir/sub/abs/passwd", O_RDONLY, "etc/passwd");
        assert_open_is(f, "reldir/sub/", O_PATH | O_DIRECTORY, "dir/sub");
        assert_open_is(f, "/", O_PATH, "");
        assert_open_is(f, "dotdot", O_PATH, "");
        assert_open_is(f, "dotdot/../dir/..", O_PATH, "");
        assert_open_fails(f, "dir/up/..", O_PATH, ENOENT); /* /outside is not in the root */
        fd = berth_open_in_root(f->rootfd, "abs_etc/passwd", O_RDONLY, 0, NULL);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)strlen(INSIDE));
        assert_memory_equal(buf, INSIDE, strlen(INSIDE));
}

static void check_open_escapes(struct fixture *f)
{
        char path[PATH_MAX];

        assert_open_fails(f, "escape/secret", O_RDONLY, ENOENT);
        assert_open_fails(f, "dir/up/secret", O_RDONLY, ENOENT);
        assert_open_fails(f, "dotdot/outside/secret", O_RDONLY, ENOENT);
        assert_true(snprintf(path, sizeof(path), "%s/secret", f->outside) < (int)sizeof(path));
        assert_open_fails(f, path, O_RDONLY, ENOENT);
        assert_open_fails(f, "dangling", O_RDONLY, ENOENT);
        assert_open_fails(f, "", O_RDONLY, ENOENT);
        assert_outside_untouched(f);
}

static void check_open_nofollow(struct fixture *f)
{
        _cleanup_close_ int fd = -1;

        assert_open_fails(f, "abs_etc", O_RDONLY | O_NOFOLLOW, ELOOP);
        assert_open_is(f, "abs_etc", O_PATH | O_NOFOLLOW, "abs_etc");
        assert_open_is(f, "abs_etc", O_PATH, "etc");
        assert_open_is(f, "abs_etc", O_RDONLY | O_DIRECTORY, "etc");
        assert_open_is(f, "abs_etc/", O_PATH | O_NOFOLLOW, "etc");
        assert_open_is(f, "loop1", O_PATH | O_NOFOLLOW, "loop1");
        /* O_CREAT through a dangling symlink creates its target, inside */
        fd = berth_open_in_root(f->rootfd, "dir/dangling", O_CREAT | O_WRONLY, 0600, NULL);
        assert_is(f, fd, "etc/newfile");
        assert_open_fails(f, "dir/dangling", O_CREAT | O_EXCL | O_WRONLY, EEXIST);
}

static void check_open_errors(struct fixture *f)
{
        char longpath[PATH_MAX + 8];

        assert_open_fails(f, "loop1", O_RDONLY, ELOOP);
        assert_open_fails(f, "loop1/x", O_PATH, ELOOP);
        assert_open_fails(f, "self", O_PATH, ELOOP);
        assert_open_fails(f, "file/x", O_RDONLY, ENOTDIR);
        assert_open_fails(f, "file/", O_RDONLY, ENOTDIR);
        assert_open_fails(f, "file", O_RDONLY | O_DIRECTORY, ENOTDIR);
        /* the kernel's limit of 40 links, in both modes */
        assert_open_is(f, "c1", O_RDONLY, "c41");
        assert_open_fails(f, "c0", O_RDONLY, ELOOP);
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[sizeof(longpath) - 1] = '\0';
        assert_open_fails(f, longpath, O_RDONLY, ENAMETOOLONG);
}

static void check_mkdir(struct fixture *f)
{
        berth_error e = BERTH_ERROR_INIT;
        _cleanup_close_ int a = -1, b = -1, c = -1, d = -1, root = -1;
        char rel[PATH_MAX];

        a = berth_mkdir_in_root(f->rootfd, "escape/new/deep", 0755, &e);
        assert_true(snprintf(rel, sizeof(rel), ".%s/new/deep", f->outside) < (int)sizeof(rel));
        assert_is(f, a, rel);
        assert_true(fcntl(a, F_GETFL) & O_PATH);
        b = berth_mkdir_in_root(f->rootfd, "dir/up/made", 0755, &e);
        assert_is(f, b, "outside/made");
        c = berth_mkdir_in_root(f->rootfd, "dangling/sub", 0700, &e);
        assert_is(f, c, "nonexistent/target/sub");
        d = berth_mkdir_in_root(f->rootfd, "/abs_etc/../dir/sub", 0755, &e);
        assert_is(f, d, "dir/sub");
        root = berth_mkdir_in_root(f->rootfd, "/..", 0755, &e);
        assert_is(f, root, "");
        assert_outside_untouched(f);
        assert_null(e.msg);
}

static void check_mkdir_errors(struct fixture *f)
{
        berth_error e = BERTH_ERROR_INIT;

        assert_int_equal(berth_mkdir_in_root(f->rootfd, "file/x/y", 0755, &e), -ENOTDIR);
        assert_string_equal(berth_error_msg(&e), "mkdir `file/x/y` in root: Not a directory");
        assert_int_equal(berth_mkdir_in_root(f->rootfd, "dir/../file", 0755, &e), -ENOTDIR);
        assert_int_equal(berth_mkdir_in_root(f->rootfd, "fifo", 0755, &e), -ENOTDIR);
        assert_int_equal(berth_mkdir_in_root(f->rootfd, "loop1/x", 0755, &e), -ELOOP);
        assert_string_equal(berth_error_msg(&e),
                            "mkdir `loop1/x` in root: Too many levels of symbolic links");
        berth_error_release(&e);
        assert_int_equal(faccessat(f->rootfd, "file", F_OK, AT_SYMLINK_NOFOLLOW), 0);
        assert_exists(f, "file", S_IFREG);
}

static void check_touch(struct fixture *f)
{
        berth_error e = BERTH_ERROR_INIT;
        _cleanup_close_ int a = -1, b = -1, c = -1, d = -1, fifo = -1;
        char rel[PATH_MAX], buf[16];
        struct stat st;

        a = berth_touch_in_root(f->rootfd, "/etc/new/file", 0600, &e);
        assert_is(f, a, "etc/new/file");
        assert_true(fcntl(a, F_GETFL) & O_PATH);
        assert_int_equal(fstat(a, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 0);
        b = berth_touch_in_root(f->rootfd, "abs_etc/passwd", 0600, &e);
        assert_is(f, b, "etc/passwd");
        assert_int_equal(fstatat(f->rootfd, "etc/passwd", &st, 0), 0);
        assert_int_equal(st.st_size, (off_t)strlen(INSIDE));
        c = berth_touch_in_root(f->rootfd, "escape/touched", 0644, &e);
        assert_true(snprintf(rel, sizeof(rel), ".%s/touched", f->outside) < (int)sizeof(rel));
        assert_is(f, c, rel);
        d = berth_touch_in_root(f->rootfd, "dir/dangling", 0644, &e);
        assert_is(f, d, "etc/newfile");
        /* an existing FIFO is accepted without being opened (which would block) */
        fifo = berth_touch_in_root(f->rootfd, "fifo", 0644, &e);
        assert_is(f, fifo, "fifo");
        assert_null(e.msg);
        assert_outside_untouched(f);
        assert_true(readlinkat(f->rootfd, "dir/dangling", buf, sizeof(buf)) > 0);
}

static void check_touch_errors(struct fixture *f)
{
        berth_error e = BERTH_ERROR_INIT;

        assert_int_equal(berth_touch_in_root(f->rootfd, "dir", 0644, &e), -EISDIR);
        assert_string_equal(berth_error_msg(&e), "touch `dir` in root: Is a directory");
        assert_int_equal(berth_touch_in_root(f->rootfd, "abs_etc", 0644, &e), -EISDIR);
        assert_int_equal(berth_touch_in_root(f->rootfd, "/", 0644, &e), -EISDIR);
        assert_int_equal(berth_touch_in_root(f->rootfd, "file/x", 0644, &e), -ENOTDIR);
        assert_int_equal(berth_touch_in_root(f->rootfd, "loop1", 0644, &e), -ELOOP);
        assert_int_equal(berth_touch_in_root(f->rootfd, "c0", 0644, &e), -ELOOP);
        berth_error_release(&e);
        assert_outside_untouched(f);
}

static void assert_resolves(struct fixture *f, const char *path, const char *want)
{
        berth_error e = BERTH_ERROR_INIT;
        _cleanup_free_ char *got = NULL;

        if (berth_resolve_in_root(f->rootfd, path, &got, &e) < 0)
                fail_msg("resolve `%s`: %s", path, berth_error_msg(&e));
        assert_string_equal(got, want);
}

static void check_resolve(struct fixture *f)
{
        char want[PATH_MAX];

        assert_resolves(f, "/", "/");
        assert_resolves(f, "///", "/");
        assert_resolves(f, "../../..", "/");
        assert_resolves(f, "abs_etc/passwd", "/etc/passwd");
        assert_resolves(f, "/dotdot/etc", "/etc");
        assert_resolves(f, "dir/./sub/../sub/", "/dir/sub");
        assert_resolves(f, "reldir/sub", "/dir/sub");
        assert_resolves(f, "chain", "/etc");
        assert_resolves(f, "dir/sub/abs/../dir", "/dir");
        assert_resolves(f, "dir/up/../../etc", "/etc"); /* lexical past the missing /outside */
        assert_resolves(f, "dir/up/x", "/outside/x");
        assert_resolves(f, "dangling", "/nonexistent/target");
        assert_resolves(f, "dangling/../x", "/nonexistent/x");
        assert_resolves(f, "missing/a/../b", "/missing/b");
        assert_resolves(f, "dir/missing/../../etc/../../..", "/");
        assert_resolves(f, "abs_etc/missing/./a//b/", "/etc/missing/a/b");
        assert_resolves(f, "c1", "/c41");
        assert_true(snprintf(want, sizeof(want), "%s/secret", f->outside) < (int)sizeof(want));
        assert_resolves(f, "escape/secret", want);
}

static void check_resolve_errors(struct fixture *f)
{
        berth_error e = BERTH_ERROR_INIT;
        char *got = NULL;

        assert_int_equal(berth_resolve_in_root(f->rootfd, "loop1", &got, &e), -ELOOP);
        assert_string_equal(berth_error_msg(&e),
                            "resolve `loop1` in root: Too many levels of symbolic links");
        assert_int_equal(berth_resolve_in_root(f->rootfd, "/file/../x", &got, &e), -ENOTDIR);
        assert_string_equal(berth_error_msg(&e), "resolve `/file/../x` in root: Not a directory");
        assert_int_equal(berth_resolve_in_root(f->rootfd, "c0", &got, &e), -ELOOP);
        assert_int_equal(berth_resolve_in_root(f->rootfd, "", &got, &e), -ENOENT);
        assert_null(got);
        berth_error_release(&e);
}

/* With the host's root, /proc's magic links are refused as openat2 does. */
static void check_magic_links(struct fixture *f)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int status = -1, link = -1;
        struct stat st;

        assert_true(root >= 0);
        if (stat("/proc/self/status", &st) < 0)
                skip();
        status = berth_open_in_root(root, "/proc/self/status", O_RDONLY, 0, NULL);
        assert_true(status >= 0);
        assert_int_equal(berth_open_in_root(root, "/proc/self/exe", O_RDONLY, 0, NULL), -ELOOP);
        assert_int_equal(berth_open_in_root(root, "/proc/self/cwd/x", O_PATH, 0, NULL), -ELOOP);
        assert_int_equal(berth_open_in_root(root, "/proc/self/root/etc", O_PATH, 0, NULL), -ELOOP);
        link = berth_open_in_root(root, "/proc/self/exe", O_PATH | O_NOFOLLOW, 0, NULL);
        assert_true(link >= 0);
        assert_int_equal(fstatat(link, "", &st, AT_EMPTY_PATH), 0);
        assert_true(S_ISLNK(st.st_mode));
        (void)f;
}

/* Each check runs twice: through openat2 and through the forced walk. */
#define BOTH_MODES(check)                                                                          \
        static void check##_openat2(void **state)                                                  \
        {                                                                                          \
                if (!berth_have_openat2())                                                         \
                        skip();                                                                    \
                berth_path_force_fallback(false);                                                  \
                check(*state);                                                                     \
        }                                                                                          \
        static void check##_fallback(void **state)                                                 \
        {                                                                                          \
                berth_path_force_fallback(true);                                                   \
                check(*state);                                                                     \
        }

BOTH_MODES(check_open_symlinks)
BOTH_MODES(check_open_escapes)
BOTH_MODES(check_open_nofollow)
BOTH_MODES(check_open_errors)
BOTH_MODES(check_mkdir)
BOTH_MODES(check_mkdir_errors)
BOTH_MODES(check_touch)
BOTH_MODES(check_touch_errors)
BOTH_MODES(check_resolve)
BOTH_MODES(check_resolve_errors)
BOTH_MODES(check_magic_links)

/* The cached probe agrees with asking the kernel directly. */
static void test_have_openat2(void **state)
{
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

        (void)state;
        assert_int_equal(berth_have_openat2(), fd >= 0);
        assert_int_equal(berth_have_openat2(), fd >= 0);
}

#define CASE(check)                                                                                \
        cmocka_unit_test_setup_teardown(check##_openat2, setup, teardown),                         \
                cmocka_unit_test_setup_teardown(check##_fallback, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_have_openat2),
                CASE(check_open_symlinks),
                CASE(check_open_escapes),
                CASE(check_open_nofollow),
                CASE(check_open_errors),
                CASE(check_mkdir),
                CASE(check_mkdir_errors),
                CASE(check_touch),
                CASE(check_touch_errors),
                CASE(check_resolve),
                CASE(check_resolve_errors),
                CASE(check_magic_links),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
