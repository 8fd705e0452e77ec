/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path resolution inside a root directory.
 *
 * Where the kernel has it, openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * does the work. Elsewhere a userspace walk never lets the kernel follow a
 * symlink: each component is opened O_PATH|O_NOFOLLOW relative to the
 * directory above it, a symlink is read and its target spliced in front of
 * what is left of the path (an absolute target starts again at the root),
 * and ".." pops a stack of directory fds whose bottom is the root, so no
 * rename can make it climb out. The walk also records the canonical name of
 * every directory it enters, which is how berth_resolve_in_root() answers in
 * both modes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "path.h"

#define MAX_SYMLINKS    40 /* the kernel's MAXSYMLINKS */
#define OPENAT2_RETRIES 32
#define RESOLVE_FLAGS   (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define O_PATH_FLAGS    (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define PARENT_MODE     0755

static bool force_fallback;
static int openat2_state = -1; /* -1 not probed yet, 0 missing, 1 works */

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
        bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
        struct open_how how = {
                .flags = (uint64_t)(unsigned)flags,
                /* openat2 rejects a mode that open(2) would ignore */
                .mode = creates ? (mode & 07777) : 0,
                .resolve = RESOLVE_FLAGS,
        };

        return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

void berth_path_force_fallback(bool on)
{
        __atomic_store_n(&force_fallback, on, __ATOMIC_RELAXED);
}

bool berth_have_openat2(void)
{
        int state = __atomic_load_n(&openat2_state, __ATOMIC_RELAXED);

        if (state < 0) {
                int fd = sys_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);

                /* ENOSYS: no openat2 (or seccomp says so); E2BIG/EINVAL: no RESOLVE_IN_ROOT */
                state = fd >= 0 ||
                        !(errno == ENOSYS || errno == E2BIG || errno == EINVAL || errno == EPERM);
                if (fd >= 0)
                        close(fd);
                __atomic_store_n(&openat2_state, state, __ATOMIC_RELAXED);
        }
        return state;
}

/* open(2) ignores the flags O_PATH does not use; openat2 would refuse them. */
static int normalize_flags(int flags)
{
        flags |= O_CLOEXEC;
        if (flags & O_PATH)
                flags &= O_PATH_FLAGS;
        return flags;
}

/* EAGAIN means a rename or mount raced with a ".." lookup: try again. */
static int openat2_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                int fd = sys_openat2(rootfd, path, flags, mode);

                if (fd >= 0)
                        return fd;
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}

struct walk {
        int *fds; /* fds[0] is the root (not ours), fds[1..depth] are ours */
        size_t depth, fds_cap;
        char *canon; /* "/a/b" for fds[depth], "" at the root */
        size_t canon_len, canon_cap;
        char *rest;        /* the path still to walk, from rest + pos */
        size_t pos;        /* where the next component search starts */
        size_t comp_start; /* where the component last returned starts */
        size_t failed_at;  /* start of the component a lookup failed on */
        unsigned links;
};

static void walk_release(struct walk *w)
{
        for (size_t i = 1; i <= w->depth; i++)
                close(w->fds[i]);
        free(w->fds);
        free(w->canon);
        free(w->rest);
}

static int walk_init(struct walk *w, int rootfd, const char *path)
{
        w->fds_cap = 16;
        w->fds = malloc(w->fds_cap * sizeof(int));
        w->canon_cap = 256;
        w->canon = calloc(1, w->canon_cap);
        w->rest = strdup(path);
        if (!w->fds || !w->canon || !w->rest)
                return -ENOMEM;
        w->fds[0] = rootfd;
        return 0;
}

static int walk_top(const struct walk *w)
{
        return w->fds[w->depth];
}

/* Enters directory `fd` called `name`; takes the fd on success. */
static int walk_push(struct walk *w, int *fd, const char *name)
{
        size_t len = strlen(name);

        if (w->depth + 1 >= w->fds_cap) {
                int *fds = reallocarray(w->fds, w->fds_cap * 2, sizeof(int));

                if (!fds)
                        return -ENOMEM;
                w->fds = fds;
                w->fds_cap *= 2;
        }
        if (w->canon_len + len + 2 > w->canon_cap) {
                size_t cap = w->canon_cap * 2 + len;
                char *canon = realloc(w->canon, cap);

                if (!canon)
                        return -ENOMEM;
                w->canon = canon;
                w->canon_cap = cap;
        }
        w->fds[++w->depth] = TAKE_FD(*fd);
        w->canon[w->canon_len++] = '/';
        memcpy(w->canon + w->canon_len, name, len + 1);
        w->canon_len += len;
        return 0;
}

/* ".." at the root stays at the root, as it does for "/" itself. */
static void walk_pop(struct walk *w)
{
        if (w->depth == 0)
                return;
        close(w->fds[w->depth--]);
        w->canon_len = (size_t)(strrchr(w->canon, '/') - w->canon);
        w->canon[w->canon_len] = '\0';
}

static void walk_reset(struct walk *w)
{
        while (w->depth > 0)
                walk_pop(w);
}

/*
 * Copies the next component into `name`: returns 1, or 0 at the end of the
 * path. *ret_last: only slashes follow it; *ret_slash: a slash does, so it
 * must be a directory (and is followed even as the last component, as in
 * open(2)).
 */
static int walk_next(struct walk *w, char name[static NAME_MAX + 1], bool *ret_last,
                     bool *ret_slash)
{
        const char *p = w->rest + w->pos, *end, *q;
        size_t len;

        while (*p == '/')
                p++;
        w->pos = (size_t)(p - w->rest);
        if (!*p)
                return 0;
        end = strchrnul(p, '/');
        len = (size_t)(end - p);
        if (len > NAME_MAX)
                return -ENAMETOOLONG;
        memcpy(name, p, len);
        name[len] = '\0';
        for (q = end; *q == '/'; q++)
                ;
        *ret_last = !*q;
        *ret_slash = *end == '/';
        w->comp_start = w->pos;
        w->pos = (size_t)(end - w->rest);
        return 1;
}

/*
 * What RESOLVE_NO_MAGICLINKS refuses: the procfs links to open files, cwd,
 * root, exe and namespaces. They read as absolute paths or "type:[inode]";
 * procfs's ordinary links (self, thread-self, mounts, net) are relative.
 */
static bool is_magic_link(int dirfd, const char *target)
{
        struct statfs sfs;
        int r;

        if (target[0] != '/' && !strchr(target, ':'))
                return false;
        r = dirfd == AT_FDCWD ? statfs(".", &sfs) : fstatfs(dirfd, &sfs);
        return r < 0 || sfs.f_type == PROC_SUPER_MAGIC; /* unknown: refuse */
}

/*
 * Replaces the component just read, a symlink at `dirfd`/`name`, with its
 * target: the walk goes on with target + what followed the component.
 */
static int walk_follow(struct walk *w, int dirfd, const char *name)
{
        char target[PATH_MAX];
        const char *tail = w->rest + w->pos;
        size_t tail_len = strlen(tail);
        ssize_t n;
        char *rest;

        if (++w->links > MAX_SYMLINKS)
                return -ELOOP;
        n = readlinkat(dirfd, name, target, sizeof(target));
        if (n < 0)
                return -errno;
        if ((size_t)n >= sizeof(target))
                return -ENAMETOOLONG;
        if (n == 0)
                return -ENOENT;
        target[n] = '\0';
        if (is_magic_link(walk_top(w), target))
                return -ELOOP;
        rest = malloc((size_t)n + tail_len + 1);
        if (!rest)
                return -ENOMEM;
        memcpy(rest, target, (size_t)n);
        memcpy(rest + n, tail, tail_len + 1);
        free(w->rest);
        w->rest = rest;
        w->pos = 0;
        if (target[0] == '/')
                walk_reset(w);
        return 0;
}

/* Steps into directory `name` of the top directory, following a symlink. */
static int walk_enter(struct walk *w, const char *name)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (streq(name, "."))
                return 0;
        if (streq(name, "..")) {
                walk_pop(w);
                return 0;
        }
        fd = openat(walk_top(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return walk_follow(w, fd, "");
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        return walk_push(w, &fd, name);
}

/*
 * Walks all but the last component. Returns 1 with the last component in
 * `name`, not looked up yet, or 0 when the path names the top directory
 * itself ("/", "a/..", "a/.", "a/").
 */
static int walk_to_last(struct walk *w, char name[static NAME_MAX + 1])
{
        for (;;) {
                bool last, slash;
                int r;

                r = walk_next(w, name, &last, &slash);
                if (r <= 0)
                        return r;
                if (last && !slash && !streq(name, ".") && !streq(name, ".."))
                        return 1;
                r = walk_enter(w, name);
                if (r < 0) {
                        w->failed_at = w->comp_start;
                        return r;
                }
        }
}

static bool is_symlink_at(int dirfd, const char *name)
{
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) == 0 &&
               S_ISLNK(st.st_mode);
}

/*
 * Opens the last component with the caller's flags. Returns 0 with the fd
 * in *ret_fd, or 1 when it was a symlink to follow and the walk goes on.
 * O_NOFOLLOW is always added: a symlink there reports itself as ELOOP (or
 * ENOTDIR with O_DIRECTORY, or an O_PATH fd to the link), and a caller who
 * did not ask for O_NOFOLLOW gets it followed inside the root instead.
 */
static int open_last(struct walk *w, const char *name, int flags, mode_t mode, bool follow,
                     int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(walk_top(w), name, flags | O_NOFOLLOW, mode);
        if (fd < 0) {
                r = -errno;
                if (!follow || (r != -ELOOP && r != -ENOTDIR) ||
                    !is_symlink_at(walk_top(w), name)) {
                        w->failed_at = w->comp_start;
                        return r;
                }
        } else if (!follow || !(flags & O_PATH) || !is_symlink_at(fd, "")) {
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        r = walk_follow(w, walk_top(w), name);
        if (r == -EINVAL) { /* no longer a symlink: look at it again */
                w->pos = w->comp_start;
                return 1;
        }
        return r < 0 ? r : 1;
}

static int walk_open(int rootfd, const char *path, int flags, mode_t mode)
{
        _cleanup_(walk_release) struct walk w = {};
        bool follow = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
        char name[NAME_MAX + 1];
        int r, fd;

        r = walk_init(&w, rootfd, path);
        if (r < 0)
                return r;
        for (;;) {
                r = walk_to_last(&w, name);
                if (r < 0)
                        return r;
                if (r == 0) {
                        fd = openat(walk_top(&w), ".", flags, mode);
                        return fd < 0 ? -errno : fd;
                }
                r = open_last(&w, name, flags, mode, follow, &fd);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fd;
        }
}

static int check_path(const char *path)
{
        if (!path || !*path)
                return -ENOENT;
        if (strnlen(path, PATH_MAX) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/* berth_open_in_root() without the message: returns the fd or -errno. */
static int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
        int r;

        r = check_path(path);
        if (r < 0)
                return r;
        flags = normalize_flags(flags);
        if (!__atomic_load_n(&force_fallback, __ATOMIC_RELAXED) && berth_have_openat2()) {
                r = openat2_in_root(rootfd, path, flags, mode);
                if (r == -ENOSYS) /* a seccomp filter installed since the probe */
                        __atomic_store_n(&openat2_state, 0, __ATOMIC_RELAXED);
                else if (r != -EAGAIN)
                        return r;
                /* the walk is as safe, and does not give up under renames */
        }
        return walk_open(rootfd, path, flags, mode);
}

int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_error *err)
{
        int fd = open_in_root(rootfd, path, flags, mode);

        if (fd < 0)
                return berth_error_sys(err, -fd, "open `%s` in root", path);
        return fd;
}

/*
 * Appends `tail` to the canonical `canon` lexically: "." dropped, ".."
 * removes the previous component but never the root.
 */
static int join_clean(const char *canon, const char *tail, char **ret)
{
        size_t len = strlen(canon);
        char *s = malloc(len + strlen(tail) + 2);

        if (!s)
                return -ENOMEM;
        memcpy(s, canon, len + 1);
        for (const char *p = tail; *p;) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash = strrchr(s, '/');

                        len = slash ? (size_t)(slash - s) : 0;
                } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                        s[len++] = '/';
                        memcpy(s + len, p, n);
                        len += n;
                }
                s[len] = '\0';
                p += n + strspn(p + n, "/");
        }
        if (len == 0) {
                s[0] = '/';
                s[1] = '\0';
        }
        *ret = s;
        return 0;
}

/*
 * The walk in resolve mode: the last component is looked at with O_PATH and
 * followed; the first component that does not exist ends the walk, and the
 * rest of the path is appended lexically.
 */
static int resolve_path(int rootfd, const char *path, char **ret)
{
        _cleanup_(walk_release) struct walk w = {};
        char name[NAME_MAX + 1];
        const char *tail = "";
        int r, fd;

        r = check_path(path);
        if (r < 0)
                return r;
        r = walk_init(&w, rootfd, path);
        while (r >= 0) {
                r = walk_to_last(&w, name);
                if (r <= 0)
                        break; /* ended at a directory, or failed */
                r = open_last(&w, name, O_PATH | O_CLOEXEC, 0, true, &fd);
                if (r == 0) { /* an existing last component */
                        close(fd);
                        tail = w.rest + w.comp_start;
                        break;
                }
                /* 1: followed a symlink, go on */
        }
        if (r == -ENOENT) {
                tail = w.rest + w.failed_at;
                r = 0;
        }
        if (r < 0)
                return r;
        return join_clean(w.canon, tail, ret);
}

int berth_resolve_in_root(int rootfd, const char *path, char **ret, berth_error *err)
{
        int r = resolve_path(rootfd, path, ret);

        if (r < 0)
                return berth_error_sys(err, -r, "resolve `%s` in root", path);
        return 0;
}

/* One level of mkdir -p: `prefix` is canonical and ends with `name`. */
static int mkdir_step(int rootfd, int parent, const char *prefix, const char *name, mode_t mode)
{
        int fd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);

        if (fd != -ENOENT)
                return fd;
        if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
                return -errno;
        /* whatever is there now, even a symlink swapped in, is resolved inside the root */
        return open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
}

/* mkdir -p of a canonical path ("/a/b"), every level reopened by the safe resolver. */
static int mkdir_canonical(int rootfd, const char *canon, mode_t mode)
{
        _cleanup_free_ char *prefix = NULL;
        _cleanup_close_ int parent = -1;
        size_t len = strlen(canon), end = 0;

        int fd = open_in_root(rootfd, canon, O_PATH | O_DIRECTORY, 0);

        if (fd != -ENOENT)
                return fd; /* it exists, or something is wrong with it */
        prefix = strdup(canon);
        if (!prefix)
                return -ENOMEM;
        parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
        while (parent >= 0 && end + 1 < len) {
                size_t start = end + 1;

                end = start + strcspn(canon + start, "/");
                prefix[end] = '\0';
                fd = mkdir_step(rootfd, parent, prefix, prefix + start, mode);
                prefix[end] = canon[end];
                close(parent);
                parent = fd;
        }
        return parent < 0 ? parent : TAKE_FD(parent);
}

int berth_mkdir_in_root(int rootfd, const char *path, mode_t mode, berth_error *err)
{
        _cleanup_free_ char *canon = NULL;
        int r;

        r = resolve_path(rootfd, path, &canon);
        if (r >= 0)
                r = mkdir_canonical(rootfd, canon, mode);
        if (r < 0)
                return berth_error_sys(err, -r, "mkdir `%s` in root", path);
        return r;
}

/* Creates `canon`'s parents and the file when missing; returns an O_PATH fd. */
static int touch_canonical(int rootfd, char *canon, mode_t mode)
{
        _cleanup_close_ int parent = -1, fd = -1;
        char *slash = strrchr(canon, '/');
        struct stat st;

        if (slash[1] == '\0')
                return -EISDIR; /* the root itself */
        *slash = '\0';
        parent = mkdir_canonical(rootfd, slash == canon ? "/" : canon, PARENT_MODE);
        *slash = '/';
        if (parent < 0)
                return parent;
        /* O_EXCL: an existing FIFO or device is accepted, never opened */
        fd = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
                return -errno;
        closep(&fd);
        fd = open_in_root(rootfd, canon, O_PATH, 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return TAKE_FD(fd);
}

int berth_touch_in_root(int rootfd, const char *path, mode_t mode, berth_error *err)
{
        _cleanup_free_ char *canon = NULL;
        int r;

        r = resolve_path(rootfd, path, &canon);
        if (r >= 0)
                r = touch_canonical(rootfd, canon, mode);
        if (r < 0)
                return berth_error_sys(err, -r, "touch `%s` in root", path);
        return r;
}
