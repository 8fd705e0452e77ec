/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The logging sink. The library logs; only main() decides where it goes.
 * The default sink writes warnings and errors to stderr as text. A CLI may
 * point it at a file (--log) and switch to JSON lines (--log-format json):
 * {"level":"error","msg":"...","time":"2026-11-29T05:13:21.123456789Z"},
 * the shape containerd and podman read back from runc's log.
 */

#include <stdbool.h>

enum berth_log_level {
        BERTH_LOG_ERROR,
        BERTH_LOG_WARNING,
        BERTH_LOG_INFO,
        BERTH_LOG_DEBUG,
};

enum berth_log_format {
        BERTH_LOG_TEXT,
        BERTH_LOG_JSON,
};

/* Opens `path` for appending (NULL: stderr). Returns -errno on failure. */
int berth_log_open(const char *path);
void berth_log_set_format(enum berth_log_format format);
void berth_log_set_level(enum berth_log_level level);
enum berth_log_level berth_log_get_level(void);
/* Also copy errors to stderr when logging to a file (the CLI's own errors). */
void berth_log_set_stderr_copy(bool on);
/* The log fd, so a child can inherit it; -1 when logging to stderr. */
int berth_log_fd(void);

void berth_log(enum berth_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define log_error(...) berth_log(BERTH_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  berth_log(BERTH_LOG_WARNING, __VA_ARGS__)
#define log_info(...)  berth_log(BERTH_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
        do {                                                                                       \
                if (berth_log_get_level() >= BERTH_LOG_DEBUG)                                      \
                        berth_log(BERTH_LOG_DEBUG, __VA_ARGS__);                                   \
        } while (0)
