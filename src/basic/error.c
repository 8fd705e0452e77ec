/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int berth_error_setv(berth_error *err, int errnum, bool with_strerror, const char *fmt, va_list ap)
{
        char *msg = NULL;
        int r;

        if (errnum < 0)
                errnum = -errnum;
        if (!err)
                return errnum ? -errnum : -1;

        r = vasprintf(&msg, fmt, ap);
        if (r < 0)
                msg = NULL;
        if (msg && with_strerror && errnum) {
                char *full = NULL;
                if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
                        free(msg);
                        msg = full;
                }
        }
        free(err->msg);
        err->msg = msg;
        err->code = errnum;
        return errnum ? -errnum : -1;
}

int berth_error_set(berth_error *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = berth_error_setv(err, errnum, false, fmt, ap);
        va_end(ap);
        return r;
}

int berth_error_sys(berth_error *err, int errnum, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = berth_error_setv(err, errnum, true, fmt, ap);
        va_end(ap);
        return r;
}

int berth_error_prefix(berth_error *err, const char *fmt, ...)
{
        char *ctx = NULL, *full = NULL;
        va_list ap;
        int r;

        if (!err)
                return -1;
        va_start(ap, fmt);
        r = vasprintf(&ctx, fmt, ap);
        va_end(ap);
        if (r >= 0 && asprintf(&full, "%s: %s", ctx, berth_error_msg(err)) >= 0) {
                free(err->msg);
                err->msg = full;
        }
        free(ctx);
        return berth_error_ret(err);
}

void berth_error_release(berth_error *err)
{
        if (!err)
                return;
        free(err->msg);
        err->msg = NULL;
        err->code = 0;
}
