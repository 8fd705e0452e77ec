/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The functions a template can call: Go's builtins and docker's additions
 * (cli/templates), with Go's messages when they are misused.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "cleanup.h"
#include "template-internal.h"
#include "utf8.h"

/* split may not make more strings than this (the input is bounded, the objects are not). */
#define SPLIT_MAX (1 << 20)

static int new_value(struct tstate *s, json_object *j, struct tval *ret)
{
        if (!j)
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        *ret = (struct tval){ true, j };
        return 0;
}

static int new_string(struct tstate *s, struct tbuf *b, struct tval *ret)
{
        json_object *j = json_object_new_string_len(b->data ? b->data : "", (int)b->len);
        tpl_buf_release(b);
        return new_value(s, j, ret);
}

static int print_error(struct tstate *s, int r)
{
        if (r == -ELOOP)
                return tpl_errorf(s, "value nested more than %d deep", TPL_DEPTH_MAX);
        return tpl_buf_error(s, r);
}

/* Go's fmt.Sprintf for the verbs above; unknown ones print as Go's do ("%!z(int=1)"). */

/* ---- argument checks, with Go's messages ---- */

static int want_string(struct tstate *s, struct tval v, const char **str, size_t *len)
{
        if (!v.valid)
                return tpl_errorf(s, "invalid value; expected string");
        if (tpl_kind(v) != K_STRING)
                return tpl_errorf(s, "wrong type for value; expected string; got %s",
                                  tpl_type_name(v));
        *str = tpl_str(v, len);
        return 0;
}

static int want_int(struct tstate *s, struct tval v, int64_t *ret)
{
        uint64_t u;

        if (!v.valid)
                return tpl_errorf(s, "invalid value; expected int");
        if (tpl_kind(v) != K_INT)
                return tpl_errorf(s, "wrong type for value; expected int; got %s",
                                  tpl_type_name(v));
        *ret = tpl_int_unsigned(v.j, &u) ? INT64_MAX : json_object_get_int64(v.j);
        return 0;
}

/* ---- the functions ---- */

static int fn_not(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return new_value(s, json_object_new_boolean(!tpl_truth(a[0])), ret);
}

static int fn_len(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        size_t len;

        switch (tpl_kind(a[0])) {
        case K_STRING:
                len = (size_t)json_object_get_string_len(a[0].j);
                break;
        case K_ARRAY:
                len = json_object_array_length(a[0].j);
                break;
        case K_OBJECT:
                len = (size_t)json_object_object_length(a[0].j);
                break;
        case K_MISSING:
        case K_NULL:
                return tpl_errorf(s, "error calling len: len of nil pointer");
        default:
                return tpl_errorf(s, "error calling len: len of type %s", tpl_type_name(a[0]));
        }
        return new_value(s, json_object_new_int64((int64_t)len), ret);
}

/* An index into something of length len, with Go's messages. */
static int index_arg(struct tstate *s, const char *fn, struct tval v, size_t len, bool slice,
                     size_t *ret)
{
        int64_t i;

        if (tpl_kind(v) <= K_NULL)
                return tpl_errorf(s, "error calling %s: cannot index slice/array with nil", fn);
        if (tpl_kind(v) != K_INT)
                return tpl_errorf(s, "error calling %s: cannot index slice/array with type %s", fn,
                                  tpl_type_name(v));
        i = json_object_get_int64(v.j);
        if (i < 0 || (uint64_t)i > len || (!slice && (uint64_t)i == len))
                return tpl_errorf(s, "error calling %s: index out of range: %" PRId64, fn, i);
        *ret = (size_t)i;
        return 0;
}

static int fn_index(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        json_object *item = a[0].j;
        bool valid = a[0].valid;

        if (tpl_kind(a[0]) <= K_NULL)
                return tpl_errorf(s, "error calling index: index of untyped nil");
        for (size_t k = 1; k < n; k++) {
                struct tval cur = { valid, item };
                size_t i;
                int r;

                switch (tpl_kind(cur)) {
                case K_MISSING:
                case K_NULL:
                        return tpl_errorf(s, "error calling index: index of nil pointer");
                case K_ARRAY:
                        r = index_arg(s, "index", a[k], json_object_array_length(item), false, &i);
                        if (r < 0)
                                return r;
                        item = json_object_array_get_idx(item, i);
                        break;
                case K_STRING: {
                        size_t len;
                        const char *str = tpl_str(cur, &len);
                        r = index_arg(s, "index", a[k], len, false, &i);
                        if (r < 0)
                                return r;
                        /* A string's element is a byte, a number. */
                        if (k + 1 < n)
                                return tpl_errorf(
                                        s, "error calling index: can't index item of type uint8");
                        return new_value(s, json_object_new_int64((unsigned char)str[i]), ret);
                }
                case K_OBJECT: {
                        size_t klen;
                        const char *key;
                        if (tpl_kind(a[k]) <= K_NULL)
                                return tpl_errorf(s, "error calling index: value is nil; should be "
                                                     "of type string");
                        if (tpl_kind(a[k]) != K_STRING)
                                return tpl_errorf(
                                        s,
                                        "error calling index: value has type %s; should be string",
                                        tpl_type_name(a[k]));
                        key = tpl_str(a[k], &klen);
                        /* A missing key is Go's zero value: no value. */
                        if (strlen(key) != klen || !json_object_object_get_ex(item, key, &item)) {
                                *ret = TVAL_MISSING;
                                return 0;
                        }
                        break;
                }
                default:
                        return tpl_errorf(s, "error calling index: can't index item of type %s",
                                          tpl_type_name(cur));
                }
        }
        *ret = tval_ref(item);
        return 0;
}

static int fn_slice(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        size_t idx[3] = { 0, 0, 0 }, len;
        enum tkind k = tpl_kind(a[0]);
        json_object *arr;
        int r;

        if (k == K_STRING)
                len = (size_t)json_object_get_string_len(a[0].j);
        else if (k == K_ARRAY)
                len = json_object_array_length(a[0].j);
        else if (k <= K_NULL)
                return tpl_errorf(s, "error calling slice: slice of untyped nil");
        else
                return tpl_errorf(s, "error calling slice: can't slice item of type %s",
                                  tpl_type_name(a[0]));
        if (n > 4)
                return tpl_errorf(s, "error calling slice: too many slice indexes: %zu", n - 1);
        if (k == K_STRING && n == 4)
                return tpl_errorf(s, "error calling slice: cannot 3-index slice a string");
        idx[1] = idx[2] = len;
        for (size_t i = 1; i < n; i++) {
                r = index_arg(s, "slice", a[i], len, true, &idx[i - 1]);
                if (r < 0)
                        return r;
        }
        if (idx[0] > idx[1])
                return tpl_errorf(s, "error calling slice: invalid slice index: %zu > %zu", idx[0],
                                  idx[1]);
        if (n == 4 && idx[1] > idx[2])
                return tpl_errorf(s, "error calling slice: invalid slice index: %zu > %zu", idx[1],
                                  idx[2]);
        if (k == K_STRING) {
                const char *str = json_object_get_string(a[0].j);
                return new_value(
                        s, json_object_new_string_len(str + idx[0], (int)(idx[1] - idx[0])), ret);
        }
        arr = json_object_new_array_ext((int)(idx[1] - idx[0]));
        if (!arr)
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        for (size_t i = idx[0]; i < idx[1]; i++)
                if (json_object_array_add(
                            arr, json_object_get(json_object_array_get_idx(a[0].j, i))) < 0) {
                        json_object_put(arr);
                        return tpl_errorf_code(s, ENOMEM, "out of memory");
                }
        return new_value(s, arr, ret);
}

static int fn_print_common(struct tstate *s, struct tval *a, size_t n, bool ln, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        int r = 0;

        for (size_t i = 0; i < n && r >= 0; i++) {
                /* Sprint puts a space between operands when neither is a string; Sprintln always.
                 */
                if (i > 0 && (ln || (tpl_kind(a[i - 1]) != K_STRING && tpl_kind(a[i]) != K_STRING)))
                        r = tpl_buf_putc(&b, ' ');
                if (r >= 0)
                        r = tpl_fmt_v(&b, a[i]);
        }
        if (r >= 0 && ln)
                r = tpl_buf_putc(&b, '\n');
        if (r < 0) {
                tpl_buf_release(&b);
                return print_error(s, r);
        }
        return new_string(s, &b, ret);
}

static int fn_print(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return fn_print_common(s, a, n, false, ret);
}

static int fn_println(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return fn_print_common(s, a, n, true, ret);
}

static int fn_printf(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        const char *f;
        size_t flen;
        int r = want_string(s, a[0], &f, &flen);

        if (r < 0)
                return r;
        r = tpl_sprintf(&b, f, flen, a + 1, n - 1);
        if (r < 0) {
                tpl_buf_release(&b);
                return print_error(s, r);
        }
        return new_string(s, &b, ret);
}

/* eq's comparison of two values: 1 equal, 0 not, <0 error. */
static int equal(struct tstate *s, const char *fn, struct tval x, struct tval y)
{
        enum tkind kx = tpl_kind(x), ky = tpl_kind(y);

        if (kx <= K_NULL || ky <= K_NULL)
                return (kx <= K_NULL) == (ky <= K_NULL);
        if (kx == K_ARRAY || kx == K_OBJECT || ky == K_ARRAY || ky == K_OBJECT) {
                if (kx == ky)
                        return tpl_errorf(s, "error calling %s: non-comparable type %s", fn,
                                          tpl_type_name(x));
                return tpl_errorf(s, "error calling %s: incompatible types for comparison", fn);
        }
        if ((kx == K_INT || kx == K_FLOAT) && (ky == K_INT || ky == K_FLOAT)) {
                uint64_t ux = 0, uy = 0;
                bool bx = kx == K_INT && tpl_int_unsigned(x.j, &ux);
                bool by = ky == K_INT && tpl_int_unsigned(y.j, &uy);

                if (kx == K_INT && ky == K_INT) {
                        if (bx || by)
                                return bx && by && ux == uy;
                        return json_object_get_int64(x.j) == json_object_get_int64(y.j);
                }
                /* Go refuses int against float64; comparing the values is more useful. */
                return json_object_get_double(x.j) == json_object_get_double(y.j);
        }
        if (kx != ky)
                return tpl_errorf(s, "error calling %s: incompatible types for comparison", fn);
        if (kx == K_BOOL)
                return json_object_get_boolean(x.j) == json_object_get_boolean(y.j);
        {
                size_t lx, ly;
                const char *sx = tpl_str(x, &lx), *sy = tpl_str(y, &ly);
                return lx == ly && memcmp(sx, sy, lx) == 0;
        }
}

static int fn_eq(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        bool truth = false;

        for (size_t i = 1; i < n && !truth; i++) {
                int r = equal(s, "eq", a[0], a[i]);
                if (r < 0)
                        return r;
                truth = r;
        }
        return new_value(s, json_object_new_boolean(truth), ret);
}

static int fn_ne(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        int r = equal(s, "ne", a[0], a[1]);

        if (r < 0)
                return r;
        return new_value(s, json_object_new_boolean(!r), ret);
}

/* lt's ordering: <0 error, else 1 when x < y. */
static int less(struct tstate *s, const char *fn, struct tval x, struct tval y)
{
        enum tkind kx = tpl_kind(x), ky = tpl_kind(y);

        if (kx == K_BOOL || kx <= K_NULL || kx == K_ARRAY || kx == K_OBJECT || ky == K_BOOL ||
            ky <= K_NULL || ky == K_ARRAY || ky == K_OBJECT)
                return tpl_errorf(s, "error calling %s: invalid type for comparison", fn);
        if (kx == K_STRING || ky == K_STRING) {
                size_t lx, ly;
                const char *sx, *sy;
                int c;

                if (kx != ky)
                        return tpl_errorf(s, "error calling %s: incompatible types for comparison",
                                          fn);
                sx = tpl_str(x, &lx);
                sy = tpl_str(y, &ly);
                c = memcmp(sx, sy, lx < ly ? lx : ly);
                return c < 0 || (c == 0 && lx < ly);
        }
        if (kx == K_INT && ky == K_INT) {
                uint64_t ux = 0, uy = 0;
                bool bx = tpl_int_unsigned(x.j, &ux), by = tpl_int_unsigned(y.j, &uy);
                if (bx || by)
                        return bx && by ? ux < uy : by;
                return json_object_get_int64(x.j) < json_object_get_int64(y.j);
        }
        return json_object_get_double(x.j) < json_object_get_double(y.j);
}

static int compare(struct tstate *s, const char *fn, struct tval *a, struct tval *ret)
{
        int lt = less(s, fn, a[0], a[1]), eq;
        bool truth;

        if (lt < 0)
                return lt;
        eq = equal(s, fn, a[0], a[1]);
        if (eq < 0)
                return eq;
        if (strcmp(fn, "lt") == 0)
                truth = lt;
        else if (strcmp(fn, "le") == 0)
                truth = lt || eq;
        else if (strcmp(fn, "gt") == 0)
                truth = !lt && !eq;
        else
                truth = !lt;
        return new_value(s, json_object_new_boolean(truth), ret);
}

static int fn_lt(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return compare(s, "lt", a, ret);
}

static int fn_le(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return compare(s, "le", a, ret);
}

static int fn_gt(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return compare(s, "gt", a, ret);
}

static int fn_ge(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return compare(s, "ge", a, ret);
}

static int fn_json(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        int r = tpl_json_encode(&b, a[0].j);

        if (r == -EDOM) {
                /* docker ignores the encoder's error and prints what it got: nothing. */
                tpl_buf_release(&b);
        } else if (r < 0) {
                tpl_buf_release(&b);
                return print_error(s, r);
        }
        return new_string(s, &b, ret);
}

static int fn_split(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        const char *str, *sep;
        size_t len, slen, count = 0;
        json_object *arr;
        int r;

        r = want_string(s, a[0], &str, &len);
        if (r >= 0)
                r = want_string(s, a[1], &sep, &slen);
        if (r < 0)
                return r;
        arr = json_object_new_array();
        if (!arr)
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0;) {
                size_t end;
                const char *hit;

                if (++count > SPLIT_MAX) {
                        json_object_put(arr);
                        return tpl_errorf_code(s, E2BIG, "error calling split: more than %d parts",
                                               SPLIT_MAX);
                }
                if (slen == 0) {
                        /* strings.Split with "" splits after each UTF-8 sequence. */
                        uint32_t cp;
                        if (i >= len)
                                break;
                        end = i + berth_utf8_decode(str + i, len - i, &cp);
                        r = json_object_array_add(
                                arr, json_object_new_string_len(str + i, (int)(end - i)));
                        i = end;
                        continue;
                }
                hit = memmem(str + i, len - i, sep, slen);
                end = hit ? (size_t)(hit - str) : len;
                r = json_object_array_add(arr, json_object_new_string_len(str + i, (int)(end - i)));
                if (!hit)
                        break;
                i = end + slen;
        }
        if (r < 0) {
                json_object_put(arr);
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        }
        return new_value(s, arr, ret);
}

static int fn_join(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        const char *sep;
        size_t slen, len;
        int r;

        r = want_string(s, a[1], &sep, &slen);
        if (r < 0)
                return r;
        if (!a[0].valid)
                return tpl_errorf(s, "invalid value; expected []string");
        if (tpl_kind(a[0]) == K_NULL)
                return new_string(s, &b, ret); /* a nil slice joins to "" */
        if (tpl_kind(a[0]) != K_ARRAY)
                return tpl_errorf(s, "wrong type for value; expected []string; got %s",
                                  tpl_type_name(a[0]));
        len = json_object_array_length(a[0].j);
        for (size_t i = 0; i < len; i++)
                if (!json_object_is_type(json_object_array_get_idx(a[0].j, i), json_type_string))
                        return tpl_errorf(s, "wrong type for value; expected []string; got "
                                             "[]interface {} with a non-string element");
        for (size_t i = 0; i < len && r >= 0; i++) {
                json_object *e = json_object_array_get_idx(a[0].j, i);
                if (i > 0)
                        r = tpl_buf_put(&b, sep, slen);
                if (r >= 0)
                        r = tpl_buf_put(&b, json_object_get_string(e),
                                        (size_t)json_object_get_string_len(e));
        }
        if (r < 0) {
                tpl_buf_release(&b);
                return tpl_buf_error(s, r);
        }
        return new_string(s, &b, ret);
}

/* Unicode case mapping through glibc's C.UTF-8 tables (ASCII only when that locale is missing). */
static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
        utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t map_case(uint32_t cp, bool upper)
{
        pthread_once(&utf8_locale_once, utf8_locale_init);
        if (cp < 0x80 || !utf8_locale) {
                if (upper && cp >= 'a' && cp <= 'z')
                        return cp - 32;
                if (!upper && cp >= 'A' && cp <= 'Z')
                        return cp + 32;
                return cp;
        }
        return (uint32_t)(upper ? towupper_l((wint_t)cp, utf8_locale)
                                : towlower_l((wint_t)cp, utf8_locale));
}

/* strings.Title's separators: not ASCII alphanumerics or '_'; beyond ASCII only spaces. */
static bool is_separator(uint32_t cp)
{
        if (cp < 0x80)
                return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
                         (cp >= 'A' && cp <= 'Z') || cp == '_');
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
               cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

enum case_op {
        CASE_LOWER,
        CASE_UPPER,
        CASE_TITLE,
};

static int map_string(struct tstate *s, struct tval *a, enum case_op op, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        const char *str;
        size_t len;
        uint32_t prev = ' ';
        int r = want_string(s, a[0], &str, &len);

        if (r < 0)
                return r;
        for (size_t i = 0; i < len && r >= 0;) {
                uint32_t cp, out;
                char enc[4];

                /* Go's strings.Map writes an invalid byte back as U+FFFD. */
                i += berth_utf8_decode(str + i, len - i, &cp);
                if (op == CASE_TITLE)
                        out = is_separator(prev) ? map_case(cp, true) : cp;
                else
                        out = map_case(cp, op == CASE_UPPER);
                prev = cp;
                r = tpl_buf_put(&b, enc, berth_utf8_encode(out, enc));
        }
        if (r < 0) {
                tpl_buf_release(&b);
                return tpl_buf_error(s, r);
        }
        return new_string(s, &b, ret);
}

static int fn_lower(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return map_string(s, a, CASE_LOWER, ret);
}

static int fn_upper(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return map_string(s, a, CASE_UPPER, ret);
}

static int fn_title(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        return map_string(s, a, CASE_TITLE, ret);
}

/* docker's pad: spaces around a string that is not empty. */
static int fn_pad(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        const char *str;
        size_t len;
        int64_t pre, post;
        int r = want_string(s, a[0], &str, &len);

        if (r >= 0)
                r = want_int(s, a[1], &pre);
        if (r >= 0)
                r = want_int(s, a[2], &post);
        if (r < 0)
                return r;
        if (pre < 0 || post < 0)
                return tpl_errorf(s, "error calling pad: negative Repeat count");
        if (len == 0)
                return new_value(s, json_object_new_string(""), ret);
        if (pre > BERTH_TEMPLATE_MAX_OUTPUT || post > BERTH_TEMPLATE_MAX_OUTPUT)
                return tpl_buf_error(s, -E2BIG);
        r = tpl_buf_repeat(&b, ' ', (size_t)pre);
        if (r >= 0)
                r = tpl_buf_put(&b, str, len);
        if (r >= 0)
                r = tpl_buf_repeat(&b, ' ', (size_t)post);
        if (r < 0) {
                tpl_buf_release(&b);
                return tpl_buf_error(s, r);
        }
        return new_string(s, &b, ret);
}

/* docker's truncate: the first n bytes (bytes, as docker: it may cut a character). */
static int fn_truncate(struct tstate *s, struct tval *a, size_t n, struct tval *ret)
{
        const char *str;
        size_t len;
        int64_t max;
        int r = want_string(s, a[0], &str, &len);

        if (r >= 0)
                r = want_int(s, a[1], &max);
        if (r < 0)
                return r;
        if ((uint64_t)len < (uint64_t)(max < 0 ? 0 : max))
                return new_value(s, json_object_get(a[0].j), ret);
        if (max < 0)
                return tpl_errorf(
                        s, "error calling truncate: slice bounds out of range [:%" PRId64 "]", max);
        return new_value(s, json_object_new_string_len(str, (int)max), ret);
}

static const struct tpl_func funcs[] = {
        { "and", 1, -1, NULL, false, true },
        { "or", 1, -1, NULL, false, true },
        { "not", 1, 1, fn_not, false, false },
        { "len", 1, 1, fn_len, false, false },
        { "index", 1, -1, fn_index, false, false },
        { "slice", 1, -1, fn_slice, false, false },
        { "print", 0, -1, fn_print, false, false },
        { "println", 0, -1, fn_println, false, false },
        { "printf", 1, -1, fn_printf, false, false },
        { "eq", 2, -1, fn_eq, false, false },
        { "ne", 2, 2, fn_ne, false, false },
        { "lt", 2, 2, fn_lt, false, false },
        { "le", 2, 2, fn_le, false, false },
        { "gt", 2, 2, fn_gt, false, false },
        { "ge", 2, 2, fn_ge, false, false },
        /* docker's functions (cli/templates) */
        { "json", 1, 1, fn_json, true, false },
        { "split", 2, 2, fn_split, true, false },
        { "join", 2, 2, fn_join, true, false },
        { "title", 1, 1, fn_title, true, false },
        { "lower", 1, 1, fn_lower, true, false },
        { "upper", 1, 1, fn_upper, true, false },
        { "pad", 3, 3, fn_pad, false, false },
        { "truncate", 2, 2, fn_truncate, true, false },
};

const struct tpl_func *tpl_func_lookup(const char *name, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
                if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
                        return &funcs[i];
        return NULL;
}
