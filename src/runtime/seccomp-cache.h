/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A cache of compiled seccomp programs (see seccomp-cache.c). Keys are the
 * canonical text of a profile; values the raw BPF (struct sock_filter[]).
 */

#include <stddef.h>

#include "runtime/config.h"

/* The canonical text of a profile; the caller frees it. NULL when out of memory. */
char *berth_seccomp_cache_key(const struct berth_seccomp *s);

/* 1 and a malloc'd program on a hit, 0 on a miss (any mismatch), -ENOMEM. */
int berth_seccomp_cache_get(const char *dir, const char *key, char **ret, size_t *ret_len);

/* Stores a program; failures only cost the next compile. */
int berth_seccomp_cache_put(const char *dir, const char *key, const char *bpf, size_t len);
