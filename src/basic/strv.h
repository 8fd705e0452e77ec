/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * NULL-terminated string arrays ("strv", as systemd calls them), owned by
 * whoever holds the array: every string and the array are malloc'd and
 * released together with strv_free() (cleanup.h). NULL is the empty array.
 * Functions returning int give 0 or -ENOMEM; on failure the array is as it
 * was.
 */

#include <stdbool.h>
#include <stddef.h>

size_t berth_strv_length(char *const *v);
bool berth_strv_contains(char *const *v, const char *s);

/* Appends a copy of s. */
int berth_strv_push(char ***v, const char *s);
/* Appends a copy of s unless an equal string is there already. */
int berth_strv_push_unique(char ***v, const char *s);
/* Appends s itself, which the array then owns; s is freed on failure (s may be NULL: -ENOMEM). */
int berth_strv_consume(char ***v, char *s);
/* A deep copy in *ret (NULL for NULL). */
int berth_strv_copy(char *const *v, char ***ret);
