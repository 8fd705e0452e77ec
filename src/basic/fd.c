/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

ssize_t berth_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        size_t done = 0;

        while (done < len) {
                ssize_t n = write(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

ssize_t berth_read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t done = 0;

        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

int berth_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;

        for (;;) {
                ssize_t n;
                if (len + 1 >= size) {
                        size_t nsize = size ? size * 2 : 4096;
                        char *nbuf;
                        if (nsize > max + 1)
                                nsize = max + 1;
                        if (nsize <= len + 1)
                                return -E2BIG;
                        nbuf = realloc(buf, nsize);
                        if (!nbuf)
                                return -ENOMEM;
                        buf = nbuf;
                        size = nsize;
                }
                n = read(fd, buf + len, size - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int berth_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                       berth_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int r;

        if (fd < 0)
                return berth_error_sys(err, errno, "open `%s`", path);
        r = berth_read_fd(fd, max, ret, ret_len);
        if (r == -E2BIG)
                return berth_error_set(err, E2BIG, "read `%s`: larger than %zu bytes", path, max);
        if (r < 0)
                return berth_error_sys(err, -r, "read `%s`", path);
        return 0;
}

int berth_write_file_at(int dirfd, const char *path, const char *data, size_t len, berth_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return berth_error_sys(err, errno, "open `%s`", path);
        n = berth_write_all(fd, data, len);
        if (n < 0)
                return berth_error_sys(err, (int)-n, "write `%s`", path);
        return 0;
}

int berth_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode,
                            berth_error *err)
{
        char tmp[PATH_MAX];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        r = snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
        if (r < 0 || (size_t)r >= sizeof(tmp))
                return berth_error_set(err, ENAMETOOLONG, "write `%s`: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return berth_error_sys(err, errno, "create `%s`", tmp);
        n = berth_write_all(fd, data, len);
        if (n < 0) {
                unlink(tmp);
                return berth_error_sys(err, (int)-n, "write `%s`", tmp);
        }
        if (rename(tmp, path) < 0) {
                r = errno;
                unlink(tmp);
                return berth_error_sys(err, r, "rename `%s` to `%s`", tmp, path);
        }
        return 0;
}

int berth_cloexec_from(int from)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
                return 0;
        d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                int fd;
                if (berth_parse_int(de->d_name, &fd) < 0 || fd < from || fd == dirfd(d))
                        continue;
                if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
                        return -errno;
        }
        return 0;
}

int berth_send_fd(int sock, int fd, const void *data, size_t len)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        char dummy = 0;
        struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cmsg;

        if (!data || len == 0) {
                iov.iov_base = &dummy;
                iov.iov_len = 1;
        }
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        for (;;) {
                if (sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int berth_recv_fd(int sock, int *ret_fd, void *data, size_t len)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        char dummy;
        struct iovec iov = { .iov_base = data ? data : &dummy, .iov_len = data ? len : 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cmsg;
        ssize_t n;

        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        cmsg = CMSG_FIRSTHDR(&msg);
        if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG;
        memcpy(ret_fd, CMSG_DATA(cmsg), sizeof(int));
        return (int)n;
}

int berth_parse_u64(const char *s, uint64_t *ret)
{
        char *end = NULL;
        unsigned long long v;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (!end || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int berth_parse_i64(const char *s, int64_t *ret)
{
        char *end = NULL;
        long long v;

        if (!s || !*s || *s == ' ' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno)
                return -errno;
        if (!end || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int berth_parse_int(const char *s, int *ret)
{
        int64_t v;
        int r = berth_parse_i64(s, &v);

        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}

int berth_parse_u32(const char *s, uint32_t *ret)
{
        uint64_t v;
        int r = berth_parse_u64(s, &v);

        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int berth_fd_path(int fd, char *buf, size_t size)
{
        int n = snprintf(buf, size, "/proc/self/fd/%d", fd);
        return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

int berth_pidfd_open(pid_t pid)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int berth_proc_stat(pid_t pid, uint64_t *ret_start_time, char *ret_state)
{
        char path[64], buf[1024], *p;
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int field;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = berth_read_full(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        /* comm may hold spaces and parentheses: fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EINVAL;
        p += 2;
        if (ret_state)
                *ret_state = *p;
        for (field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        if (!p)
                return -EINVAL;
        if (ret_start_time) {
                char *end = strchr(p, ' ');
                if (end)
                        *end = '\0';
                if (berth_parse_u64(p, ret_start_time) < 0)
                        return -EINVAL;
        }
        return 0;
}
