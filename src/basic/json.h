/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Typed extraction from json-c documents.
 *
 * Every parser of a JSON format (the OCI runtime config, image manifests,
 * API bodies) goes through these helpers, so that every wrong input is
 * reported the same way: by the JSON path of the offending value and what
 * was expected there, e.g. "process.user.uid: expected an unsigned 32-bit
 * integer, got string". The caller adds the document name on top
 * ("config.json: ...").
 *
 * Conventions shared by all getters:
 *  - `obj` is a JSON object (the getters do not check that: the caller got it
 *    from berth_json_get_object() or berth_json_parse_object()).
 *  - `path` is the JSON path of `obj` itself ("" for the document root,
 *    "process.user", "mounts[2]"); messages name "<path>.<key>".
 *  - A member that is missing or JSON null counts as absent, as in Go's
 *    encoding/json, which every other OCI runtime uses.
 *  - Return value: 1 when the member was present and *ret was written, 0
 *    when it is absent and not required (*ret untouched), a negative errno
 *    (-EINVAL for bad input, -ENOMEM, -E2BIG for arrays over their bound)
 *    with *err filled otherwise.
 *  - Types are strict: no string-to-number or number-to-bool conversion,
 *    integers must be JSON integers (1.0 and 1e3 are rejected), unsigned
 *    types reject negative numbers, and every value is range-checked against
 *    its C type. Strings with an embedded NUL byte are rejected.
 *  - Strings and string arrays written to *ret are newly allocated and owned
 *    by the caller (free(), strv_free()); a string or array already in *ret
 *    (which must be NULL or owned) is released when replaced, so a struct
 *    can be filled twice without leaking. json_object pointers are borrowed
 *    from `obj` and live as long as it does.
 *
 * One limitation comes from json-c itself: integers beyond the 64-bit range
 * are clamped by the tokenizer (to INT64_MIN or UINT64_MAX) before we see
 * them.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Drops a reference at the end of the scope: `_cleanup_json_ json_object *o = ...`. */
static inline void berth_json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(berth_json_putp)))

/* Nesting limit for the tokenizer; OCI documents are at most ~8 deep. */
#define BERTH_JSON_MAX_DEPTH 64

/* Bound on string arrays read by berth_json_dispatch(). */
#define BERTH_JSON_STRV_MAX 65536

/* Size for path buffers; longer paths are truncated in messages only. */
#define BERTH_JSON_PATH_MAX 256

/*
 * Parses `len` bytes (need not be NUL-terminated) as exactly one JSON value:
 * strict syntax, valid UTF-8, at most BERTH_JSON_MAX_DEPTH deep, nothing but
 * whitespace after it. `what` names the document in messages ("config.json").
 * On success *ret holds a new reference (json_object_put() it).
 */
int berth_json_parse(const char *data, size_t len, const char *what, json_object **ret,
                     berth_error *err);

/* Like berth_json_parse(), and the value must be a JSON object. */
int berth_json_parse_object(const char *data, size_t len, const char *what, json_object **ret,
                            berth_error *err);

/*
 * Reads `path` (at most `max` bytes; more is E2BIG) and parses it with
 * berth_json_parse_object(). Messages name the file.
 */
int berth_json_parse_file(const char *path, size_t max, json_object **ret, berth_error *err);

/* Writes "parent.key" ("key" when parent is empty) into buf, truncating; returns buf. */
char *berth_json_path(char *buf, size_t size, const char *parent, const char *key);

/* Writes "parent[index]" into buf, truncating; returns buf. */
char *berth_json_path_index(char *buf, size_t size, const char *parent, size_t index);

/* A short name of a value's JSON type for messages: "string", "null", "a number", ... */
const char *berth_json_type_name(json_object *v);

/*
 * Fills *err with "<path>: expected <what>, got <type>" and returns -EINVAL.
 * `path` is the full path of the value.
 */
int berth_json_type_error(json_object *v, const char *path, const char *what, berth_error *err);

/*
 * Value converters: like the getters below but for a value already in hand
 * (an array element, a map value); `path` is the value's own full path.
 */
int berth_json_as_string(json_object *v, const char *path, char **ret, berth_error *err);
int berth_json_as_int64(json_object *v, const char *path, int64_t min, int64_t max,
                        const char *what, int64_t *ret, berth_error *err);
int berth_json_as_uint64(json_object *v, const char *path, uint64_t max, const char *what,
                         uint64_t *ret, berth_error *err);

/* Member getters; see the conventions above. */
int berth_json_get_string(json_object *obj, const char *key, const char *path, bool required,
                          char **ret, berth_error *err);
int berth_json_get_bool(json_object *obj, const char *key, const char *path, bool required,
                        bool *ret, berth_error *err);
int berth_json_get_int32(json_object *obj, const char *key, const char *path, bool required,
                         int32_t *ret, berth_error *err);
int berth_json_get_int64(json_object *obj, const char *key, const char *path, bool required,
                         int64_t *ret, berth_error *err);
int berth_json_get_uint16(json_object *obj, const char *key, const char *path, bool required,
                          uint16_t *ret, berth_error *err);
int berth_json_get_uint32(json_object *obj, const char *key, const char *path, bool required,
                          uint32_t *ret, berth_error *err);
int berth_json_get_uint64(json_object *obj, const char *key, const char *path, bool required,
                          uint64_t *ret, berth_error *err);

/*
 * A JSON array of strings as a NULL-terminated array (count in *ret_n, may
 * be 0 with a one-element { NULL } array). More than `max` entries is E2BIG.
 */
int berth_json_get_strv(json_object *obj, const char *key, const char *path, bool required,
                        size_t max, char ***ret, size_t *ret_n, berth_error *err);

/* A JSON object member (borrowed). */
int berth_json_get_object(json_object *obj, const char *key, const char *path, bool required,
                          json_object **ret, berth_error *err);

/* A JSON array member (borrowed) with at most `max` elements (more is E2BIG). */
int berth_json_get_array(json_object *obj, const char *key, const char *path, bool required,
                         size_t max, json_object **ret, berth_error *err);

/*
 * Table-driven extraction of flat structs (as systemd's JSON dispatch): each
 * entry names a member, its type, and where in the struct at `base` the
 * value goes. With BERTH_JSON_HAS, the bool at `aux_offset` is set to
 * whether the member was present; for BERTH_JSON_STRV, `aux_offset` is the
 * size_t count (arrays are bounded by BERTH_JSON_STRV_MAX). Members not in
 * the table are ignored. The table ends with an entry whose key is NULL.
 * Returns 0 or the first error.
 */
enum berth_json_kind {
        BERTH_JSON_STRING, /* char * */
        BERTH_JSON_BOOL,   /* bool */
        BERTH_JSON_INT,    /* int (32-bit) */
        BERTH_JSON_INT64,  /* int64_t */
        BERTH_JSON_UINT16, /* uint16_t */
        BERTH_JSON_UINT32, /* uint32_t */
        BERTH_JSON_UINT64, /* uint64_t */
        BERTH_JSON_STRV,   /* char ** + size_t count at aux_offset */
};

#define BERTH_JSON_REQUIRED (1u << 0)
#define BERTH_JSON_HAS      (1u << 1)

struct berth_json_field {
        const char *key;
        enum berth_json_kind kind;
        unsigned flags;
        size_t offset;
        size_t aux_offset;
};

/* Table entries: a plain member, a required one, one with a has_* flag, a string array. */
#define BERTH_JSON_FIELD(key, kind, type, member)                                                  \
        {                                                                                          \
                (key), (kind), 0, offsetof(type, member), 0                                        \
        }
#define BERTH_JSON_FIELD_REQ(key, kind, type, member)                                              \
        {                                                                                          \
                (key), (kind), BERTH_JSON_REQUIRED, offsetof(type, member), 0                      \
        }
#define BERTH_JSON_FIELD_HAS(key, kind, type, member, has)                                         \
        {                                                                                          \
                (key), (kind), BERTH_JSON_HAS, offsetof(type, member), offsetof(type, has)         \
        }
#define BERTH_JSON_FIELD_STRV(key, type, member, count)                                            \
        {                                                                                          \
                (key), BERTH_JSON_STRV, 0, offsetof(type, member), offsetof(type, count)           \
        }
#define BERTH_JSON_FIELD_END                                                                       \
        {                                                                                          \
                NULL, 0, 0, 0, 0                                                                   \
        }

int berth_json_dispatch(json_object *obj, const char *path, const struct berth_json_field *fields,
                        void *base, berth_error *err);
