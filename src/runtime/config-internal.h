/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Shared by the two halves of the config.json parser: config.c (the document,
 * process, mounts, hooks, and the generic pieces below) and config-linux.c
 * (the linux object). Internal.
 *
 * Errors follow the library's convention: a negative errno, with *err filled
 * in and naming the field's path ("linux.resources.memory.limit: ...").
 */

#include <stdbool.h>
#include <stddef.h>

#include "basic/json.h"
#include "runtime/config.h"

#define MAX_MAP 65536 /* entries in annotations, sysctl, unified, rdma */

#define F      BERTH_JSON_FIELD
#define F_REQ  BERTH_JSON_FIELD_REQ
#define F_HAS  BERTH_JSON_FIELD_HAS
#define F_STRV BERTH_JSON_FIELD_STRV
#define F_END  BERTH_JSON_FIELD_END

bool config_streq(const char *a, const char *b);

/* "<path>: out of memory" with ENOMEM; returns the negative code, as berth_error_set() does. */
int config_oom(berth_error *err, const char *path);
/*
 * A whole JSON document: size limit, parse, `parse` on the top object, and
 * errors prefixed with `what` (the file name, or "standard input").
 */
int config_parse_document(const char *data, size_t len, const char *what,
                          int (*parse)(json_object *o, void *ret, berth_error *err), void *ret,
                          berth_error *err);
/* "<path>.<key>: <message>" with EINVAL. */
int __attribute__((format(printf, 4, 5)))
config_field_error(berth_error *err, const char *path, const char *key, const char *fmt, ...);

/* Fills the zeroed struct at `ret` from the object `o` found at `path`. */
typedef int (*parse_elem_fn)(json_object *o, const char *path, void *ret, berth_error *err);
/* Frees what an array element owns, not the element itself. */
typedef void (*release_fn)(void *elem);

/* Releases n elements of `size` bytes with `release` (if any), then the array. NULL is fine. */
void config_array_free(void *v, size_t n, size_t size, release_fn release);
/*
 * obj[key], an array of at most `max` objects, into a new array of `size`-byte
 * structs, each filled by `parse`. Returns 1 with *ret and *ret_n set, 0 when
 * absent. Releases the partial array on failure.
 */
int config_parse_object_array(json_object *obj, const char *key, const char *path, size_t max,
                              size_t size, parse_elem_fn parse, release_fn release, void **ret,
                              size_t *ret_n, berth_error *err);

void config_kv_free(struct berth_kv *kv, size_t n);
/*
 * obj[key], an object of at most MAX_MAP string values with non-empty keys, as
 * a new array of key/value pairs. Returns 1 when present, 0 when absent.
 */
int config_parse_kv_map(json_object *obj, const char *key, const char *path, struct berth_kv **ret,
                        size_t *ret_n, berth_error *err);

/*
 * obj[key], a string naming an enum value via `from_string` (negative when
 * unknown); `what` names the enum in messages. Returns 1 when present, 0 when
 * absent and not required.
 */
int config_parse_enum(json_object *obj, const char *key, const char *path, bool required,
                      int (*from_string)(const char *), const char *what, int *ret,
                      berth_error *err);

/* Fails with "<path>.<key>: must be an absolute path" unless s is NULL or starts with '/'. */
int config_check_absolute(const char *s, const char *path, const char *key, berth_error *err);

/* obj[key], an array of {containerID, hostID, size}. Returns 1 when present, 0 when absent. */
int config_parse_id_mappings(json_object *obj, const char *key, const char *path,
                             struct berth_id_mapping **ret, size_t *ret_n, berth_error *err);

/* A mount option name and the flag it sets, or clears when `clear`. */
struct flag_opt {
        const char *name;
        bool clear;
        unsigned long flag;
};

/* "private", "rshared", ...: for mount options and for linux.rootfsPropagation. */
extern const struct flag_opt config_propagation_opts[];
extern const size_t config_n_propagation_opts;

/* The entry of opts[0..n) called `name`, or NULL. */
const struct flag_opt *config_find_opt(const struct flag_opt *opts, size_t n, const char *name);

/* In config-linux.c: the root object's "linux" member into c->linux (sets c->has_linux). */
int config_parse_linux(json_object *root, const char *path, struct berth_config *c,
                       berth_error *err);
/* Frees what l owns; safe on a zeroed or half-filled struct. */
void config_linux_release(struct berth_linux *l);
