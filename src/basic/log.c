/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = -1;
static enum berth_log_format log_format = BERTH_LOG_TEXT;
static enum berth_log_level log_level = BERTH_LOG_WARNING;
static bool stderr_copy;

static const char *const level_names[] = {
        [BERTH_LOG_ERROR] = "error",
        [BERTH_LOG_WARNING] = "warning",
        [BERTH_LOG_INFO] = "info",
        [BERTH_LOG_DEBUG] = "debug",
};

int berth_log_open(const char *path)
{
        int fd;

        if (!path) {
                if (log_fd >= 0)
                        close(log_fd);
                log_fd = -1;
                return 0;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        if (log_fd >= 0)
                close(log_fd);
        log_fd = fd;
        return 0;
}

void berth_log_set_format(enum berth_log_format format)
{
        log_format = format;
}

void berth_log_set_level(enum berth_log_level level)
{
        log_level = level;
}

enum berth_log_level berth_log_get_level(void)
{
        return log_level;
}

void berth_log_set_stderr_copy(bool on)
{
        stderr_copy = on;
}

int berth_log_fd(void)
{
        return log_fd;
}

/* Appends `s` JSON-escaped to buf; returns the new length (bounded by size). */
static size_t json_escape(char *buf, size_t len, size_t size, const char *s)
{
        for (; *s && len + 7 < size; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        buf[len++] = '\\';
                        buf[len++] = (char)c;
                } else if (c == '\n') {
                        buf[len++] = '\\';
                        buf[len++] = 'n';
                } else if (c < 0x20) {
                        len += (size_t)snprintf(buf + len, size - len, "\\u%04x", c);
                } else {
                        buf[len++] = (char)c;
                }
        }
        return len;
}

static void write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t)n;
        }
}

static size_t format_json(char *out, size_t size, enum berth_log_level level, const char *msg)
{
        struct timespec ts;
        struct tm tm;
        char stamp[64];
        size_t len;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        len = (size_t)snprintf(out, size, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
        if (len >= size)
                return size - 1;
        len = json_escape(out, len, size, msg);
        len += (size_t)snprintf(out + len, size - len, "\",\"time\":\"%s.%09ldZ\"}\n", stamp,
                                ts.tv_nsec);
        return len < size ? len : size - 1;
}

void berth_log(enum berth_log_level level, const char *fmt, ...)
{
        char msg[4096], out[8192];
        int saved = errno;
        va_list ap;
        size_t len;

        if (level > log_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (log_fd >= 0 && log_format == BERTH_LOG_JSON)
                len = format_json(out, sizeof(out), level, msg);
        else
                len = (size_t)snprintf(out, sizeof(out), "%s: %s\n", level_names[level], msg);
        if (len >= sizeof(out))
                len = sizeof(out) - 1;
        write_all(log_fd >= 0 ? log_fd : STDERR_FILENO, out, len);
        if (log_fd >= 0 && stderr_copy && level == BERTH_LOG_ERROR) {
                len = (size_t)snprintf(out, sizeof(out), "%s\n", msg);
                write_all(STDERR_FILENO, out, len < sizeof(out) ? len : sizeof(out) - 1);
        }
        errno = saved;
}
