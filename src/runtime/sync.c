/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/linux.h"

int sync_send(int fd, enum sync_type type, int code, const char *msg)
{
        struct sync_msg m = { .type = type, .code = code };
        size_t len = offsetof(struct sync_msg, msg);

        if (msg) {
                size_t n = strnlen(msg, sizeof(m.msg) - 1);
                memcpy(m.msg, msg, n);
                m.msg[n] = '\0';
                len += n + 1;
        }
        for (;;) {
                if (send(fd, &m, len, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int sync_recv(int fd, struct sync_msg *m)
{
        ssize_t n;

        memset(m, 0, sizeof(*m));
        do
                n = recv(fd, m, sizeof(*m), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        if ((size_t)n < offsetof(struct sync_msg, msg))
                return -EBADMSG;
        m->msg[sizeof(m->msg) - 1] = '\0';
        return 0;
}

int sync_expect(int fd, enum sync_type want, berth_error *err)
{
        struct sync_msg m;
        int r = sync_recv(fd, &m);

        if (r == -ECONNRESET)
                return berth_error_set(err, ECONNRESET, "container init exited unexpectedly");
        if (r < 0)
                return berth_error_sys(err, -r, "read from container init");
        if (m.type == SYNC_ERROR)
                return berth_error_set(err, m.code, "%s", m.msg);
        if (m.type != want)
                return berth_error_set(err, EPROTO, "unexpected message %u from container init",
                                       m.type);
        return 0;
}
