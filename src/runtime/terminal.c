/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pseudo-terminals for containers with process.terminal set. The pty is
 * opened on the container's own devpts (so the slave is valid inside), the
 * master goes to the caller over the console socket in one SCM_RIGHTS
 * message, as runc sends it, and the slave becomes /dev/console and the
 * process's controlling terminal and stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/path.h"
#include "runtime/linux.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int berth_console_connect(const char *path, berth_error *err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };

        if (fd < 0)
                return berth_error_sys(err, errno, "console socket");
        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_error_set(err, ENAMETOOLONG, "console socket `%s`: path too long",
                                       path);
        memcpy(addr.sun_path, path, strlen(path) + 1);
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return berth_error_sys(err, errno, "connect to console socket `%s`", path);
        return TAKE_FD(fd);
}

int berth_console_send(int sock, int master, berth_error *err)
{
        /* runc names the pty in the payload; callers only need the fd. */
        static const char name[] = "/dev/ptmx";
        int r = berth_send_fd(sock, master, name, sizeof(name) - 1);

        if (r < 0)
                return berth_error_sys(err, -r, "send pty master to console socket");
        return 0;
}

static int open_pair(int ptmx, int *ret_master, int *ret_slave, berth_error *err)
{
        int unlock = 0;
        int slave;

        if (ioctl(ptmx, TIOCSPTLCK, &unlock) < 0)
                return berth_error_sys(err, errno, "unlock pty");
        slave = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berth_error_sys(err, errno, "open pty slave");
        *ret_master = ptmx;
        *ret_slave = slave;
        return 0;
}

static int check_ptmx(int fd, const char *what, berth_error *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return berth_error_sys(err, errno, "stat %s", what);
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
                return berth_error_set(err, EINVAL, "%s is not a pty multiplexer", what);
        return 0;
}

int berth_pty_open(int *ret_master, int *ret_slave, berth_error *err)
{
        _cleanup_close_ int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        int r;

        if (fd < 0 && errno == ELOOP)
                fd = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return berth_error_sys(err, errno, "open /dev/ptmx");
        r = check_ptmx(fd, "/dev/ptmx", err);
        if (r < 0)
                return r;
        r = open_pair(fd, ret_master, ret_slave, err);
        if (r == 0)
                fd = -1;
        return r;
}

static int set_size(int fd, const struct berth_process *p)
{
        struct winsize ws = { .ws_row = (unsigned short)p->console_height,
                              .ws_col = (unsigned short)p->console_width };

        if (!p->has_console_size)
                return 0;
        return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* Opens the pty in the container's devpts and mounts the slave on /dev/console. */
int berth_terminal_setup(struct init_ctx *ctx, int rootfd, int *ret_slave, berth_error *err)
{
        _cleanup_close_ int ptmx = -1, master = -1, slave = -1, console = -1;
        char src[64], dst[64];
        int r;

        ptmx = berth_open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0, err);
        if (ptmx < 0)
                return berth_error_prefix(err, "terminal");
        r = check_ptmx(ptmx, "/dev/pts/ptmx", err);
        if (r < 0)
                return r;
        r = open_pair(ptmx, &master, &slave, err);
        if (r < 0)
                return r;
        ptmx = -1;
        set_size(slave, ctx->proc);
        console = berth_touch_in_root(rootfd, "/dev/console", 0666, err);
        if (console < 0)
                return berth_error_prefix(err, "terminal");
        berth_fd_path(slave, src, sizeof(src));
        berth_fd_path(console, dst, sizeof(dst));
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return berth_error_sys(err, errno, "bind pty on /dev/console");
        if (ctx->console_sock >= 0) {
                r = berth_console_send(ctx->console_sock, master, err);
                if (r < 0)
                        return r;
        }
        *ret_slave = TAKE_FD(slave);
        return 0;
}

/* Makes the slave the controlling terminal and stdio of the calling process. */
int berth_terminal_take(int slave, berth_error *err)
{
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berth_error_sys(err, errno, "set controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return berth_error_sys(err, errno, "dup pty to fd %d", fd);
        if (slave > 2)
                close(slave);
        return 0;
}
