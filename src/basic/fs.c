/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"

int berth_mkdir_p(const char *path, mode_t mode, berth_error *err)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return berth_error_set(err, ENOMEM, "mkdir `%s`: out of memory", path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return berth_error_sys(err, errno, "mkdir `%s`", p);
                *s = c;
                if (c == '\0')
                        break;
        }
        return 0;
}

/* Depth-first removal of the contents of dfd (which it closes), staying on dev. */
static int rm_contents(int dfd, dev_t dev, const char *what, unsigned depth, berth_error *err)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                close(dfd);
                return berth_error_sys(err, errno, "remove `%s`", what);
        }
        if (depth > 4096)
                return berth_error_set(err, ELOOP, "remove `%s`: tree too deep", what);
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                int fd = dirfd(d);

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
                        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                if (errno == ENOENT)
                                        continue;
                                return berth_error_sys(err, errno, "remove `%s/%s`", what,
                                                       de->d_name);
                        }
                        if (S_ISDIR(st.st_mode)) {
                                if (st.st_dev != dev)
                                        return berth_error_set(err, EBUSY,
                                                               "remove `%s/%s`: a mount point",
                                                               what, de->d_name);
                                int sub = openat(fd, de->d_name,
                                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (sub < 0)
                                        return berth_error_sys(err, errno, "remove `%s/%s`", what,
                                                               de->d_name);
                                int r = rm_contents(sub, dev, what, depth + 1, err);
                                if (r < 0)
                                        return r;
                                if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                        return berth_error_sys(err, errno, "remove `%s/%s`", what,
                                                               de->d_name);
                                continue;
                        }
                }
                if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
                        return berth_error_sys(err, errno, "remove `%s/%s`", what, de->d_name);
        }
        if (errno)
                return berth_error_sys(err, errno, "remove `%s`: readdir", what);
        return 0;
}

int berth_rm_rf_at(int dirfd, const char *name, berth_error *err)
{
        struct stat st;
        int fd, r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : berth_error_sys(err, errno, "remove `%s`", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return berth_error_sys(err, errno, "remove `%s`", name);
                return 0;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "remove `%s`", name);
        r = rm_contents(fd, st.st_dev, name, 0, err);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return berth_error_sys(err, errno, "remove `%s`", name);
        return 0;
}
