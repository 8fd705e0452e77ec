/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * linux.seccomp through libseccomp. The filter is compiled at create time
 * (so a bad profile fails `create`, not `start`) and loaded just before
 * execve. With SCMP_ACT_NOTIFY the notify fd is sent to listenerPath as
 * runc sends it: one message with the container process state JSON and the
 * fd (SCM_RIGHTS).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "basic/error.h"
#include "runtime/config.h"

struct berth_seccomp_filter;

/*
 * Compiles the profile, or takes the program from `cache_dir` (NULL: no
 * cache) when the same profile was compiled before; *ret is NULL when the
 * config has none.
 */
int berth_seccomp_compile(const struct berth_config *cfg, const char *cache_dir,
                          struct berth_seccomp_filter **ret, berth_error *err);

/*
 * Connects to the notify listener while host paths still resolve; a no-op
 * for profiles without SCMP_ACT_NOTIFY.
 */
int berth_seccomp_connect_listener(struct berth_seccomp_filter *f, berth_error *err);

/* Loads the filter into the calling thread; sends the notify fd when needed. */
int berth_seccomp_load(struct berth_seccomp_filter *f, const char *state_json, berth_error *err);

void berth_seccomp_filter_free(struct berth_seccomp_filter *f);
static inline void berth_seccomp_filter_freep(struct berth_seccomp_filter **f)
{
        berth_seccomp_filter_free(*f);
}
