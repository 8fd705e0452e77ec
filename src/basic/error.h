/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * berth's error convention.
 *
 * A function that can fail takes a `berth_error *err` as its last argument,
 * returns a negative int (usually -errno) or NULL on failure, and fills *err
 * with the errno value and a message. Callers add context on the way up with
 * berth_error_prefix(), so the final message reads like
 * "create `web`: mount `/proc`: Operation not permitted".
 *
 * The caller owns the message: release it with berth_error_release(). An
 * error struct starts zeroed (BERTH_ERROR_INIT); setting an error that is
 * already set replaces the old message.
 */

#include <stdarg.h>
#include <stdbool.h>

typedef struct berth_error {
        int code; /* errno value, 0 when not a system error */
        char *msg;
} berth_error;

#define BERTH_ERROR_INIT                                                                           \
        {                                                                                          \
                0, NULL                                                                            \
        }

/* Sets *err to the formatted message and returns -errnum (or -1 when errnum is 0). */
int berth_error_set(berth_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like berth_error_set() and appends ": strerror(errnum)" when errnum is non-zero. */
int berth_error_sys(berth_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

int berth_error_setv(berth_error *err, int errnum, bool with_strerror, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));

/* Prepends "context: " to the message; returns the error's negative code. */
int berth_error_prefix(berth_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The negative value the failing function returned. */
static inline int berth_error_ret(const berth_error *err)
{
        return err->code > 0 ? -err->code : -1;
}

void berth_error_release(berth_error *err);

static inline const char *berth_error_msg(const berth_error *err)
{
        return err->msg ? err->msg : "unknown error";
}
