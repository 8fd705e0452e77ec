/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/layer-fs.h"

#define OPENAT2_RETRIES 32

static bool no_openat2;

static int openat2_beneath(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };

        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

                if (fd >= 0)
                        return fd;
                /* EAGAIN: a rename raced with the lookup */
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}

/* The fallback: each component opened O_NOFOLLOW, a symlink refused. */
static int walk_beneath(int rootfd, const char *path, int flags)
{
        _cleanup_close_ int dirfd = -1;
        const char *p = path;

        for (;;) {
                char name[NAME_MAX + 1];
                size_t n = strcspn(p, "/");
                bool last = p[n] == '\0';
                struct stat st;
                int fd;

                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(name, p, n);
                name[n] = '\0';
                fd = openat(dirfd >= 0 ? dirfd : rootfd, name,
                            (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        int r = -errno;

                        if ((r == -ENOTDIR || r == -ELOOP) &&
                            fstatat(dirfd >= 0 ? dirfd : rootfd, name, &st, AT_SYMLINK_NOFOLLOW) ==
                                    0 &&
                            S_ISLNK(st.st_mode))
                                return -EXDEV;
                        return r;
                }
                if (last)
                        return fd;
                if (dirfd >= 0)
                        close(dirfd);
                dirfd = fd;
                p += n + 1;
        }
}

int layer_open_beneath(int rootfd, const char *path, int flags)
{
        if (!*path)
                return -ENOENT;
        if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
                int fd = openat2_beneath(rootfd, path, flags);

                if (fd != -ENOSYS)
                        return fd;
                __atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
        }
        return walk_beneath(rootfd, path, flags);
}

int layer_mkdir_parents(int rootfd, const char *path)
{
        _cleanup_close_ int dirfd = -1;
        size_t len = strlen(path);
        char prefix[PATH_MAX];

        if (len >= sizeof(prefix))
                return -ENAMETOOLONG;
        memcpy(prefix, path, len + 1);
        for (size_t end = 0; end < len;) {
                size_t start = end + (end > 0);
                const char *name = prefix + start;
                int fd;

                end = start + strcspn(name, "/");
                prefix[end] = '\0';
                fd = openat(dirfd >= 0 ? dirfd : rootfd, name,
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(dirfd >= 0 ? dirfd : rootfd, name, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        fd = openat(dirfd >= 0 ? dirfd : rootfd, name,
                                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0 && errno == ENOTDIR)
                        /* perhaps a symlink: resolve what we have so far, confined */
                        fd = layer_open_beneath(rootfd, prefix, O_PATH | O_DIRECTORY);
                else if (fd < 0)
                        fd = -errno;
                if (fd < 0)
                        return fd;
                prefix[end] = path[end];
                if (dirfd >= 0)
                        close(dirfd);
                dirfd = fd;
        }
        return dirfd >= 0 ? TAKE_FD(dirfd) : -ENOENT;
}

static void strv_free_n(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* The names in directory fd, read in one go so that no stream stays open. */
static int list_names(int fd, char ***ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *d = NULL;
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -ENOMEM;
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap) {
                        char **nv = reallocarray(v, cap ? cap * 2 : 16, sizeof(char *));

                        if (!nv) {
                                strv_free_n(v, n);
                                return -ENOMEM;
                        }
                        v = nv;
                        cap = cap ? cap * 2 : 16;
                }
                v[n] = strdup(de->d_name);
                if (!v[n]) {
                        strv_free_n(v, n);
                        return -ENOMEM;
                }
                n++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/*
 * Empties directory *fdp. However deep the tree, one fd is open: going down
 * closes the parent's, coming back reopens it as "..", checked to be the
 * same directory.
 */
static int empty_dir(int *fdp)
{
        char **names = NULL;
        size_t n = 0;
        struct stat self;
        int r;

        if (fstat(*fdp, &self) < 0)
                return -errno;
        r = list_names(*fdp, &names, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_close_ int fd = -1;
                struct stat back;

                if (unlinkat(*fdp, names[i], 0) == 0 || errno == ENOENT)
                        continue;
                if (errno != EISDIR) {
                        r = -errno;
                        break;
                }
                fd = openat(*fdp, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        break;
                }
                close(*fdp);
                r = empty_dir(&fd);
                *fdp = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (*fdp < 0) {
                        r = -errno;
                        break;
                }
                if (fstat(*fdp, &back) < 0 || back.st_dev != self.st_dev ||
                    back.st_ino != self.st_ino) {
                        r = -EBUSY;
                        break;
                }
                if (r >= 0 && unlinkat(*fdp, names[i], AT_REMOVEDIR) < 0 && errno != ENOENT)
                        r = -errno;
        }
        strv_free_n(names, n);
        return r;
}

int layer_remove(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return -errno;
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = empty_dir(&fd);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
