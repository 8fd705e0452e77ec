/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fd.h"
#include "json.h"

static void tokener_freep(json_tokener **tok)
{
        if (*tok)
                json_tokener_free(*tok);
}

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static bool only_whitespace(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
                        return false;
        return true;
}

/* Line and column (1-based) of byte `offset`, for syntax error messages. */
static void line_col(const char *data, size_t offset, size_t *ret_line, size_t *ret_col)
{
        size_t line = 1, col = 1;

        for (size_t i = 0; i < offset; i++) {
                if (data[i] == '\n') {
                        line++;
                        col = 1;
                } else {
                        col++;
                }
        }
        *ret_line = line;
        *ret_col = col;
}

int berth_json_parse(const char *data, size_t len, const char *what, json_object **ret,
                     berth_error *err)
{
        _cleanup_(tokener_freep) json_tokener *tok = NULL;
        _cleanup_(json_putp) json_object *o = NULL;
        enum json_tokener_error e;
        size_t end, line, col;

        if (len > INT_MAX)
                return berth_error_set(err, E2BIG, "%s: document too large", what);
        tok = json_tokener_new_ex(BERTH_JSON_MAX_DEPTH);
        if (!tok)
                return berth_error_set(err, ENOMEM, "%s: out of memory", what);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        o = json_tokener_parse_ex(tok, data, (int)len);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (!o && e == json_tokener_continue && end == len) {
                /* A top-level number is only complete once the tokenizer sees its end. */
                o = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
        } else if (o && !only_whitespace(data + end, len - end)) {
                line_col(data, end, &line, &col);
                return berth_error_set(err, EINVAL,
                                       "%s: line %zu, column %zu: unexpected data after the "
                                       "JSON value",
                                       what, line, col);
        }
        if (!o) {
                if (e == json_tokener_success || e == json_tokener_continue ||
                    e == json_tokener_error_parse_eof)
                        return berth_error_set(err, EINVAL, "%s: unexpected end of data", what);
                line_col(data, end < len ? end : len, &line, &col);
                return berth_error_set(err, EINVAL, "%s: line %zu, column %zu: %s", what, line, col,
                                       json_tokener_error_desc(e));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int berth_json_parse_object(const char *data, size_t len, const char *what, json_object **ret,
                            berth_error *err)
{
        _cleanup_(json_putp) json_object *o = NULL;
        int r;

        r = berth_json_parse(data, len, what, &o, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return berth_error_set(err, EINVAL, "%s: expected a JSON object, got %s", what,
                                       berth_json_type_name(o));
        *ret = TAKE_PTR(o);
        return 0;
}

int berth_json_parse_file(const char *path, size_t max, json_object **ret, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = berth_read_file_at(AT_FDCWD, path, max, &data, &len, err);
        if (r < 0)
                return r;
        return berth_json_parse_object(data, len, path, ret, err);
}

/* Paths only go into messages, so truncation is acceptable; an encoding error is not. */
char *berth_json_path(char *buf, size_t size, const char *parent, const char *key)
{
        int r;

        if (!parent || !*parent)
                r = snprintf(buf, size, "%s", key);
        else
                r = snprintf(buf, size, "%s.%s", parent, key);
        if (r < 0 && size)
                buf[0] = '\0';
        return buf;
}

char *berth_json_path_index(char *buf, size_t size, const char *parent, size_t index)
{
        if (snprintf(buf, size, "%s[%zu]", parent ? parent : "", index) < 0 && size)
                buf[0] = '\0';
        return buf;
}

const char *berth_json_type_name(json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a floating-point number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "an unknown type";
}

int berth_json_type_error(json_object *v, const char *path, const char *what, berth_error *err)
{
        enum json_type t = json_object_get_type(v);

        if (t == json_type_object || t == json_type_array || t == json_type_null)
                return berth_error_set(err, EINVAL, "%s: expected %s, got %s", path, what,
                                       berth_json_type_name(v));
        /* Scalars are quoted (shortened) so the user sees what was written. */
        return berth_error_set(err, EINVAL, "%s: expected %s, got %s %.40s", path, what,
                               berth_json_type_name(v),
                               json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

int berth_json_as_string(json_object *v, const char *path, char **ret, berth_error *err)
{
        const char *s;
        size_t len;
        char *copy;

        if (!json_object_is_type(v, json_type_string))
                return berth_json_type_error(v, path, "a string", err);
        s = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        if (memchr(s, '\0', len))
                return berth_error_set(err, EINVAL, "%s: string contains a NUL byte", path);
        copy = strdup(s);
        if (!copy)
                return berth_error_set(err, ENOMEM, "%s: out of memory", path);
        *ret = copy;
        return 0;
}

int berth_json_as_int64(json_object *v, const char *path, int64_t min, int64_t max,
                        const char *what, int64_t *ret, berth_error *err)
{
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return berth_json_type_error(v, path, what, err);
        i = json_object_get_int64(v);
        /* json-c clamps values above INT64_MAX; those are out of range here too. */
        if (i < min || i > max || (i == INT64_MAX && json_object_get_uint64(v) > INT64_MAX))
                return berth_error_set(err, EINVAL, "%s: expected %s, got %s (out of range)", path,
                                       what, json_object_to_json_string(v));
        *ret = i;
        return 0;
}

int berth_json_as_uint64(json_object *v, const char *path, uint64_t max, const char *what,
                         uint64_t *ret, berth_error *err)
{
        uint64_t u;

        if (!json_object_is_type(v, json_type_int))
                return berth_json_type_error(v, path, what, err);
        if (json_object_get_int64(v) < 0)
                return berth_error_set(err, EINVAL, "%s: expected %s, got %s (negative)", path,
                                       what, json_object_to_json_string(v));
        u = json_object_get_uint64(v);
        if (u > max)
                return berth_error_set(err, EINVAL, "%s: expected %s, got %s (out of range)", path,
                                       what, json_object_to_json_string(v));
        *ret = u;
        return 0;
}

/* Looks `key` up; 0 when absent or null, -EINVAL when required and absent. */
static int member(json_object *obj, const char *key, const char *path, bool required,
                  json_object **ret, char *vpath, size_t size, berth_error *err)
{
        json_object *v = NULL;

        berth_json_path(vpath, size, path, key);
        if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return berth_error_set(err, EINVAL, "%s: required field is missing", vpath);
                return 0;
        }
        *ret = v;
        return 1;
}

int berth_json_get_string(json_object *obj, const char *key, const char *path, bool required,
                          char **ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        char *s = NULL;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        r = berth_json_as_string(v, vpath, &s, err);
        if (r < 0)
                return r;
        free(*ret);
        *ret = s;
        return 1;
}

int berth_json_get_bool(json_object *obj, const char *key, const char *path, bool required,
                        bool *ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_boolean))
                return berth_json_type_error(v, vpath, "a boolean", err);
        *ret = json_object_get_boolean(v);
        return 1;
}

static int get_signed(json_object *obj, const char *key, const char *path, bool required,
                      int64_t min, int64_t max, const char *what, int64_t *ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        r = berth_json_as_int64(v, vpath, min, max, what, ret, err);
        return r < 0 ? r : 1;
}

static int get_unsigned(json_object *obj, const char *key, const char *path, bool required,
                        uint64_t max, const char *what, uint64_t *ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        r = berth_json_as_uint64(v, vpath, max, what, ret, err);
        return r < 0 ? r : 1;
}

int berth_json_get_int32(json_object *obj, const char *key, const char *path, bool required,
                         int32_t *ret, berth_error *err)
{
        int64_t i = 0;
        int r;

        r = get_signed(obj, key, path, required, INT32_MIN, INT32_MAX, "a 32-bit integer", &i, err);
        if (r > 0)
                *ret = (int32_t)i;
        return r;
}

int berth_json_get_int64(json_object *obj, const char *key, const char *path, bool required,
                         int64_t *ret, berth_error *err)
{
        return get_signed(obj, key, path, required, INT64_MIN, INT64_MAX, "a 64-bit integer", ret,
                          err);
}

int berth_json_get_uint16(json_object *obj, const char *key, const char *path, bool required,
                          uint16_t *ret, berth_error *err)
{
        uint64_t u = 0;
        int r;

        r = get_unsigned(obj, key, path, required, UINT16_MAX, "an unsigned 16-bit integer", &u,
                         err);
        if (r > 0)
                *ret = (uint16_t)u;
        return r;
}

int berth_json_get_uint32(json_object *obj, const char *key, const char *path, bool required,
                          uint32_t *ret, berth_error *err)
{
        uint64_t u = 0;
        int r;

        r = get_unsigned(obj, key, path, required, UINT32_MAX, "an unsigned 32-bit integer", &u,
                         err);
        if (r > 0)
                *ret = (uint32_t)u;
        return r;
}

int berth_json_get_uint64(json_object *obj, const char *key, const char *path, bool required,
                          uint64_t *ret, berth_error *err)
{
        return get_unsigned(obj, key, path, required, UINT64_MAX, "an unsigned 64-bit integer", ret,
                            err);
}

int berth_json_get_object(json_object *obj, const char *key, const char *path, bool required,
                          json_object **ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_object))
                return berth_json_type_error(v, vpath, "an object", err);
        *ret = v;
        return 1;
}

int berth_json_get_array(json_object *obj, const char *key, const char *path, bool required,
                         size_t max, json_object **ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v;
        int r;

        r = member(obj, key, path, required, &v, vpath, sizeof(vpath), err);
        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_array))
                return berth_json_type_error(v, vpath, "an array", err);
        if (json_object_array_length(v) > max)
                return berth_error_set(err, E2BIG, "%s: more than %zu entries", vpath, max);
        *ret = v;
        return 1;
}

int berth_json_get_strv(json_object *obj, const char *key, const char *path, bool required,
                        size_t max, char ***ret, size_t *ret_n, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX], epath[BERTH_JSON_PATH_MAX];
        _cleanup_strv_ char **v = NULL;
        json_object *a = NULL;
        size_t n;
        int r;

        r = berth_json_get_array(obj, key, path, required, max, &a, err);
        if (r <= 0)
                return r;
        berth_json_path(vpath, sizeof(vpath), path, key);
        n = json_object_array_length(a);
        v = calloc(n + 1, sizeof(char *));
        if (!v)
                return berth_error_set(err, ENOMEM, "%s: out of memory", vpath);
        for (size_t i = 0; i < n; i++) {
                berth_json_path_index(epath, sizeof(epath), vpath, i);
                r = berth_json_as_string(json_object_array_get_idx(a, i), epath, &v[i], err);
                if (r < 0)
                        return r;
        }
        strv_free(*ret);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 1;
}

static int dispatch_one(json_object *obj, const char *path, const struct berth_json_field *f,
                        char *base, berth_error *err)
{
        bool req = f->flags & BERTH_JSON_REQUIRED;
        void *p = base + f->offset;

        switch (f->kind) {
        case BERTH_JSON_STRING:
                return berth_json_get_string(obj, f->key, path, req, p, err);
        case BERTH_JSON_BOOL:
                return berth_json_get_bool(obj, f->key, path, req, p, err);
        case BERTH_JSON_INT:
                return berth_json_get_int32(obj, f->key, path, req, p, err);
        case BERTH_JSON_INT64:
                return berth_json_get_int64(obj, f->key, path, req, p, err);
        case BERTH_JSON_UINT16:
                return berth_json_get_uint16(obj, f->key, path, req, p, err);
        case BERTH_JSON_UINT32:
                return berth_json_get_uint32(obj, f->key, path, req, p, err);
        case BERTH_JSON_UINT64:
                return berth_json_get_uint64(obj, f->key, path, req, p, err);
        case BERTH_JSON_STRV:
                return berth_json_get_strv(obj, f->key, path, req, BERTH_JSON_STRV_MAX, p,
                                           (size_t *)(void *)(base + f->aux_offset), err);
        }
        return berth_error_set(err, EINVAL, "%s: internal error: bad field kind", f->key);
}

int berth_json_dispatch(json_object *obj, const char *path, const struct berth_json_field *fields,
                        void *base, berth_error *err)
{
        for (const struct berth_json_field *f = fields; f->key; f++) {
                int r = dispatch_one(obj, path, f, base, err);
                if (r < 0)
                        return r;
                if (f->flags & BERTH_JSON_HAS)
                        *(bool *)(void *)((char *)base + f->aux_offset) = r > 0;
        }
        return 0;
}
