/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/layer-fs.h"

#define OPENAT2_RETRIES 32
/* a directory being emptied while others write into it: give up at some point */
#define REMOVE_PASSES 8

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

static int remove_contents(int dirfd)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        while ((de = readdir(d))) {
                int r;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = layer_remove(dirfd, de->d_name);
                if (r < 0)
                        return r;
        }
        return 0;
}

int layer_remove(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR)
                return -errno;
        for (int pass = 0; pass < REMOVE_PASSES; pass++) {
                _cleanup_close_ int fd =
                        openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int r;

                if (fd < 0)
                        return errno == ENOENT ? 0 : -errno;
                r = remove_contents(fd);
                if (r < 0)
                        return r;
                if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != ENOTEMPTY)
                        return -errno;
        }
        return -ENOTEMPTY;
}
