/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Printing values as Go does, since that is what a docker user's scripts
 * parse: fmt's verbs (%v for actions and print, the rest for printf) and
 * encoding/json for the json function, over the value model of
 * template-internal.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "template-internal.h"
#include "utf8.h"

enum tkind tpl_kind(struct tval v)
{
        if (!v.valid)
                return K_MISSING;
        switch (json_object_get_type(v.j)) {
        case json_type_null:
                return K_NULL;
        case json_type_boolean:
                return K_BOOL;
        case json_type_int:
                return K_INT;
        case json_type_double:
                return K_FLOAT;
        case json_type_string:
                return K_STRING;
        case json_type_array:
                return K_ARRAY;
        case json_type_object:
                return K_OBJECT;
        }
        return K_NULL;
}

const char *tpl_type_name(struct tval v)
{
        switch (tpl_kind(v)) {
        case K_MISSING:
                return "<nil>";
        case K_NULL:
                return "interface {}";
        case K_BOOL:
                return "bool";
        case K_INT:
                return "int";
        case K_FLOAT:
                return "float64";
        case K_STRING:
                return "string";
        case K_ARRAY:
                return "[]interface {}";
        case K_OBJECT:
                return "map[string]interface {}";
        }
        return "?";
}

/* json-c keeps integers past INT64_MAX as uint64; get_int64 clamps them. */
bool tpl_int_unsigned(json_object *j, uint64_t *u)
{
        if (json_object_get_int64(j) != INT64_MAX)
                return false;
        *u = json_object_get_uint64(j);
        return *u > (uint64_t)INT64_MAX;
}

const char *tpl_str(struct tval v, size_t *len)
{
        *len = (size_t)json_object_get_string_len(v.j);
        return json_object_get_string(v.j);
}

bool tpl_truth(struct tval v)
{
        switch (tpl_kind(v)) {
        case K_MISSING:
        case K_NULL:
                return false;
        case K_BOOL:
                return json_object_get_boolean(v.j);
        case K_INT: {
                uint64_t u;
                return tpl_int_unsigned(v.j, &u) || json_object_get_int64(v.j) != 0;
        }
        case K_FLOAT:
                return json_object_get_double(v.j) != 0.0;
        case K_STRING:
                return json_object_get_string_len(v.j) > 0;
        case K_ARRAY:
                return json_object_array_length(v.j) > 0;
        case K_OBJECT:
                return json_object_object_length(v.j) > 0;
        }
        return false;
}

/* ---- numbers as Go prints them ---- */

/*
 * The shortest decimal digits that read back as d (finite, > 0), as Go's
 * strconv finds them: digits[0..nd) with the decimal point after digit dp
 * (value = 0.d1d2... * 10^dp).
 */
static void shortest_digits(double d, char digits[32], int *nd, int *dp)
{
        char buf[40], *e;
        int n = 0;

        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        for (const char *p = buf; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                        digits[n++] = *p;
        while (n > 1 && digits[n - 1] == '0')
                n--;
        digits[n] = '\0';
        e = strchr(buf, 'e');
        *nd = n;
        *dp = (int)strtol(e + 1, NULL, 10) + 1;
}

/* %e form of the digits: d.ddde+XX */
static int put_exp(struct tbuf *b, const char *digits, int nd, int dp)
{
        int exp = dp - 1, r;

        r = tpl_buf_putc(b, digits[0]);
        if (r >= 0 && nd > 1) {
                r = tpl_buf_putc(b, '.');
                if (r >= 0)
                        r = tpl_buf_put(b, digits + 1, (size_t)nd - 1);
        }
        if (r >= 0)
                r = tpl_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return r;
}

/* %f form of the digits with `decimals` digits after the point. */
static int put_fixed(struct tbuf *b, const char *digits, int nd, int dp, int decimals)
{
        int r = 0;

        if (dp <= 0) {
                r = tpl_buf_putc(b, '0');
        } else {
                for (int i = 0; i < dp && r >= 0; i++)
                        r = tpl_buf_putc(b, i < nd ? digits[i] : '0');
        }
        if (r >= 0 && decimals > 0) {
                r = tpl_buf_putc(b, '.');
                for (int i = 0; i < decimals && r >= 0; i++) {
                        int k = dp + i;
                        r = tpl_buf_putc(b, k >= 0 && k < nd ? digits[k] : '0');
                }
        }
        return r;
}

static int put_special_float(struct tbuf *b, double d, bool *done)
{
        *done = true;
        if (isnan(d))
                return tpl_buf_puts(b, "NaN");
        if (isinf(d))
                return tpl_buf_puts(b, d > 0 ? "+Inf" : "-Inf");
        if (d == 0)
                return tpl_buf_puts(b, signbit(d) ? "-0" : "0");
        *done = false;
        return 0;
}

/* Go's %v (and %g without precision) of a float64: strconv's 'g' with the shortest digits. */
static int put_float_v(struct tbuf *b, double d)
{
        char digits[32];
        int nd, dp, exp, r;
        bool done;

        r = put_special_float(b, d, &done);
        if (done || r < 0)
                return r;
        if (d < 0) {
                r = tpl_buf_putc(b, '-');
                if (r < 0)
                        return r;
                d = -d;
        }
        shortest_digits(d, digits, &nd, &dp);
        exp = dp - 1;
        /* With the shortest digits Go switches to %e at exponent 6. */
        if (exp < -4 || exp >= 6)
                return put_exp(b, digits, nd, dp);
        return put_fixed(b, digits, nd, dp, nd - dp > 0 ? nd - dp : 0);
}

/* encoding/json's float64: %f unless tiny or huge, then %e without a leading 0 in the exponent. */
static int put_float_json(struct tbuf *b, double d)
{
        char digits[32];
        int nd, dp, r;
        double a = fabs(d);

        if (d == 0)
                return tpl_buf_puts(b, signbit(d) ? "-0" : "0");
        if (d < 0) {
                r = tpl_buf_putc(b, '-');
                if (r < 0)
                        return r;
        }
        shortest_digits(a, digits, &nd, &dp);
        if (a < 1e-6 || a >= 1e21) {
                int exp = dp - 1;
                r = tpl_buf_putc(b, digits[0]);
                if (r >= 0 && nd > 1) {
                        r = tpl_buf_putc(b, '.');
                        if (r >= 0)
                                r = tpl_buf_put(b, digits + 1, (size_t)nd - 1);
                }
                if (r >= 0)
                        r = tpl_buf_printf(b, "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
                return r;
        }
        return put_fixed(b, digits, nd, dp, nd - dp > 0 ? nd - dp : 0);
}

static int put_int(struct tbuf *b, json_object *j)
{
        uint64_t u;

        if (tpl_int_unsigned(j, &u))
                return tpl_buf_printf(b, "%" PRIu64, u);
        return tpl_buf_printf(b, "%" PRId64, json_object_get_int64(j));
}

/* ---- %v ---- */

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted as Go sorts map keys when printing or ranging. */
int tpl_sorted_keys(json_object *obj, const char ***ret)
{
        size_t n = (size_t)json_object_object_length(obj), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));

        if (!keys)
                return -ENOMEM;
        json_object_object_foreach (obj, key, val) {
                (void)val;
                keys[i++] = key;
        }
        qsort(keys, n, sizeof(*keys), cmp_keys);
        *ret = keys;
        return (int)n;
}

struct spec {
        bool minus, plus, sharp, space, zero;
        int width, prec; /* -1: not given */
};

static int fmt_value(struct tbuf *b, const struct spec *sp, char verb, struct tval v, int depth);

int tpl_print_value(struct tbuf *b, struct tval v)
{
        const struct spec sp = { .width = -1, .prec = -1 };

        if (!v.valid)
                return tpl_buf_puts(b, "<no value>");
        return fmt_value(b, &sp, 'v', v, 0);
}

/* ---- Go's fmt verbs ---- */

/* Pads `text` (n bytes) to sp->width characters, as Go's fmt.pad. */
static int pad(struct tbuf *b, const struct spec *sp, const char *text, size_t n)
{
        size_t chars, fill = 0;
        int r = 0;

        if (sp->width < 0)
                return tpl_buf_put(b, text, n);
        chars = berth_utf8_count(text, n);
        if ((size_t)sp->width > chars)
                fill = (size_t)sp->width - chars;
        if (!sp->minus)
                r = tpl_buf_repeat(b, sp->zero ? '0' : ' ', fill);
        if (r >= 0)
                r = tpl_buf_put(b, text, n);
        if (r >= 0 && sp->minus)
                r = tpl_buf_repeat(b, ' ', fill);
        return r;
}

/* Go's fmtInteger: sign, base prefix with '#', precision as least digits, zero padding. */
static int fmt_integer(struct tbuf *b, const struct spec *sp, bool neg, uint64_t mag, int base,
                       bool upper)
{
        const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[80], num[80];
        size_t n = 0, o = 0;
        int prec = sp->prec;
        struct spec nsp = *sp;

        do {
                tmp[n++] = dig[mag % (uint64_t)base];
                mag /= (uint64_t)base;
        } while (mag);
        if (prec == 0 && n == 1 && tmp[0] == '0')
                n = 0; /* "%.0d" of 0 prints nothing */
        /* Zero padding without a precision pads digits, after the sign. */
        if (sp->zero && !sp->minus && prec < 0 && sp->width > 0) {
                prec = sp->width;
                if (neg || sp->plus || sp->space)
                        prec--;
                if (sp->sharp && base != 10)
                        prec -= base == 8 ? 1 : 2;
        }
        if (neg)
                num[o++] = '-';
        else if (sp->plus)
                num[o++] = '+';
        else if (sp->space)
                num[o++] = ' ';
        if (sp->sharp && base == 16) {
                num[o++] = '0';
                num[o++] = upper ? 'X' : 'x';
        } else if (sp->sharp && base == 2) {
                num[o++] = '0';
                num[o++] = 'b';
        } else if (sp->sharp && base == 8 && (n == 0 || tmp[n - 1] != '0')) {
                num[o++] = '0';
        }
        if (prec > 64)
                prec = 64; /* the width bound keeps real requests far below */
        for (int i = (int)n; i < prec; i++)
                num[o++] = '0';
        while (n > 0)
                num[o++] = tmp[--n];
        nsp.zero = false;
        return pad(b, &nsp, num, o);
}

/* Go's strconv.Quote (ascii_only: QuoteToASCII), quote being '"' or '\''. */
static bool is_print(uint32_t cp)
{
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD || cp == 0x1680)
                return false;
        if ((cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
            (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF)
                return false;
        if ((cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFFF9 && cp <= 0xFFFB) || cp >= 0xF0000 ||
            cp == 0xFFFE || cp == 0xFFFF || (cp >= 0xE0000 && cp <= 0xE007F))
                return false;
        return true;
}

static int quote(struct tbuf *b, const char *str, size_t len, char q, bool ascii_only)
{
        int r = tpl_buf_putc(b, q);

        for (size_t i = 0; i < len && r >= 0;) {
                uint32_t cp;
                size_t n = berth_utf8_decode(str + i, len - i, &cp);
                unsigned char c = (unsigned char)str[i];

                if (n == 1 && cp == BERTH_UTF8_REPLACEMENT) {
                        r = tpl_buf_printf(b, "\\x%02x", c);
                } else if (cp == (uint32_t)(unsigned char)q || cp == '\\') {
                        r = tpl_buf_putc(b, '\\');
                        if (r >= 0)
                                r = tpl_buf_putc(b, (char)cp);
                } else if (cp < 0x80 && is_print(cp)) {
                        r = tpl_buf_putc(b, (char)cp);
                } else if (cp >= 0x80 && is_print(cp) && !ascii_only) {
                        r = tpl_buf_put(b, str + i, n);
                } else {
                        const char *esc = NULL;
                        switch (cp) {
                        case '\a':
                                esc = "\\a";
                                break;
                        case '\b':
                                esc = "\\b";
                                break;
                        case '\f':
                                esc = "\\f";
                                break;
                        case '\n':
                                esc = "\\n";
                                break;
                        case '\r':
                                esc = "\\r";
                                break;
                        case '\t':
                                esc = "\\t";
                                break;
                        case '\v':
                                esc = "\\v";
                                break;
                        }
                        if (esc)
                                r = tpl_buf_puts(b, esc);
                        else if (cp < ' ' || cp == 0x7F)
                                r = tpl_buf_printf(b, "\\x%02x", (unsigned)cp);
                        else if (cp < 0x10000)
                                r = tpl_buf_printf(b, "\\u%04x", (unsigned)cp);
                        else
                                r = tpl_buf_printf(b, "\\U%08x", (unsigned)cp);
                }
                i += n;
        }
        return r >= 0 ? tpl_buf_putc(b, q) : r;
}

/* "%!d(string=abc)": a verb that does not fit the value. */
static int bad_verb(struct tbuf *b, char verb, struct tval v, int depth)
{
        const struct spec plain = { .width = -1, .prec = -1 };
        int r;

        if (tpl_kind(v) == K_MISSING || tpl_kind(v) == K_NULL)
                return tpl_buf_printf(b, "%%!%c(<nil>)", verb);
        r = tpl_buf_printf(b, "%%!%c(%s=", verb, tpl_type_name(v));
        if (r >= 0)
                r = fmt_value(b, &plain, 'v', v, depth + 1);
        return r >= 0 ? tpl_buf_putc(b, ')') : r;
}

static int fmt_float(struct tbuf *b, const struct spec *sp, char verb, struct tval v, int depth)
{
        double d = json_object_get_double(v.j);
        struct tbuf num = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        int r, prec;

        switch (verb) {
        case 'v':
        case 'g':
        case 'G':
                if (sp->prec < 0) {
                        if (!signbit(d) && !isnan(d) && (sp->plus || sp->space))
                                tpl_buf_putc(&num, sp->plus ? '+' : ' ');
                        r = put_float_v(&num, d);
                        break;
                }
                /* With a precision C's %g rounds as Go's does. */
                __attribute__((fallthrough));
        case 'e':
        case 'E':
        case 'f':
        case 'F':
                if (isnan(d) || isinf(d)) {
                        r = put_float_v(&num, d);
                        break;
                }
                if (!signbit(d) && (sp->plus || sp->space))
                        tpl_buf_putc(&num, sp->plus ? '+' : ' ');
                prec = sp->prec < 0 ? 6 : sp->prec;
                switch (verb) {
                case 'e':
                        r = tpl_buf_printf(&num, "%.*e", prec, d);
                        break;
                case 'E':
                        r = tpl_buf_printf(&num, "%.*E", prec, d);
                        break;
                case 'G':
                        r = tpl_buf_printf(&num, "%.*G", prec, d);
                        break;
                case 'g':
                case 'v':
                        r = tpl_buf_printf(&num, "%.*g", prec, d);
                        break;
                default:
                        r = tpl_buf_printf(&num, "%.*f", prec, d);
                        break;
                }
                break;
        default:
                tpl_buf_release(&num);
                return bad_verb(b, verb, v, depth);
        }
        if (r >= 0) {
                struct spec nsp = *sp;
                /* Zero padding goes after the sign. */
                if (sp->zero && !sp->minus && sp->width > 0 && num.len > 0 &&
                    (num.data[0] == '-' || num.data[0] == '+' || num.data[0] == ' ') &&
                    isfinite(d)) {
                        r = tpl_buf_putc(b, num.data[0]);
                        nsp.width = sp->width - 1;
                        if (r >= 0)
                                r = pad(b, &nsp, num.data + 1, num.len - 1);
                } else {
                        if (!isfinite(d))
                                nsp.zero = false;
                        r = pad(b, &nsp, num.data ? num.data : "", num.len);
                }
        }
        tpl_buf_release(&num);
        return r;
}

static int fmt_string(struct tbuf *b, const struct spec *sp, char verb, struct tval v, int depth)
{
        size_t len;
        const char *str = tpl_str(v, &len);
        struct tbuf tmp = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        int r;

        /* A precision truncates to that many characters. */
        if (sp->prec >= 0 && (verb == 'v' || verb == 's' || verb == 'q')) {
                size_t i = 0;
                for (int k = 0; k < sp->prec && i < len; k++) {
                        uint32_t cp;
                        i += berth_utf8_decode(str + i, len - i, &cp);
                }
                len = i;
        }
        switch (verb) {
        case 'v':
        case 's':
                return pad(b, sp, str, len);
        case 'q':
                r = quote(&tmp, str, len, '"', sp->plus);
                break;
        case 'x':
        case 'X':
                r = 0;
                for (size_t i = 0; i < len && r >= 0; i++) {
                        if (sp->space && i > 0)
                                r = tpl_buf_putc(&tmp, ' ');
                        if (r >= 0 && sp->sharp && (sp->space || i == 0))
                                r = tpl_buf_puts(&tmp, verb == 'x' ? "0x" : "0X");
                        if (r >= 0)
                                r = tpl_buf_printf(&tmp, verb == 'x' ? "%02x" : "%02X",
                                                   (unsigned char)str[i]);
                }
                break;
        default:
                return bad_verb(b, verb, v, depth);
        }
        if (r >= 0)
                r = pad(b, sp, tmp.data ? tmp.data : "", tmp.len);
        tpl_buf_release(&tmp);
        return r;
}

static int fmt_int(struct tbuf *b, const struct spec *sp, char verb, struct tval v, int depth)
{
        uint64_t mag;
        bool neg = false;
        int64_t i = json_object_get_int64(v.j);

        if (!tpl_int_unsigned(v.j, &mag)) {
                neg = i < 0;
                mag = neg ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        }
        switch (verb) {
        case 'v':
        case 'd':
                return fmt_integer(b, sp, neg, mag, 10, false);
        case 'b':
                return fmt_integer(b, sp, neg, mag, 2, false);
        case 'o':
                return fmt_integer(b, sp, neg, mag, 8, false);
        case 'x':
                return fmt_integer(b, sp, neg, mag, 16, false);
        case 'X':
                return fmt_integer(b, sp, neg, mag, 16, true);
        case 'c':
        case 'q': {
                char enc[4];
                uint32_t cp = neg || mag > 0x10FFFF ? BERTH_UTF8_REPLACEMENT : (uint32_t)mag;
                size_t n = berth_utf8_encode(cp, enc);
                struct tbuf tmp = TBUF_INIT(64);
                int r;

                if (verb == 'c')
                        return pad(b, sp, enc, n);
                r = quote(&tmp, enc, n, '\'', sp->plus);
                if (r >= 0)
                        r = pad(b, sp, tmp.data, tmp.len);
                tpl_buf_release(&tmp);
                return r;
        }
        case 'U': {
                char u[32];
                int n = snprintf(u, sizeof(u), "U+%04" PRIX64, neg ? 0 : mag);
                return pad(b, sp, u, (size_t)n);
        }
        default:
                return bad_verb(b, verb, v, depth);
        }
}

static int fmt_value(struct tbuf *b, const struct spec *sp, char verb, struct tval v, int depth)
{
        int r;

        if (depth > TPL_DEPTH_MAX)
                return -ELOOP;
        switch (tpl_kind(v)) {
        case K_MISSING:
        case K_NULL:
                if (verb == 'v')
                        return pad(b, sp, "<nil>", 5);
                return bad_verb(b, verb, v, depth);
        case K_BOOL:
                if (verb != 'v' && verb != 't')
                        return bad_verb(b, verb, v, depth);
                return json_object_get_boolean(v.j) ? pad(b, sp, "true", 4)
                                                    : pad(b, sp, "false", 5);
        case K_INT:
                return fmt_int(b, sp, verb, v, depth);
        case K_FLOAT:
                return fmt_float(b, sp, verb, v, depth);
        case K_STRING:
                return fmt_string(b, sp, verb, v, depth);
        case K_ARRAY: {
                size_t n = json_object_array_length(v.j);
                r = tpl_buf_putc(b, '[');
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (i > 0)
                                r = tpl_buf_putc(b, ' ');
                        if (r >= 0)
                                r = fmt_value(
                                        b, sp, verb,
                                        (struct tval){ true, json_object_array_get_idx(v.j, i) },
                                        depth + 1);
                }
                return r >= 0 ? tpl_buf_putc(b, ']') : r;
        }
        case K_OBJECT: {
                _cleanup_free_ const char **keys = NULL;
                int n = tpl_sorted_keys(v.j, &keys);

                if (n < 0)
                        return n;
                r = tpl_buf_puts(b, "map[");
                for (int i = 0; i < n && r >= 0; i++) {
                        json_object *kv = json_object_object_get(v.j, keys[i]);
                        json_object *key = json_object_new_string(keys[i]);

                        if (!key)
                                return -ENOMEM;
                        if (i > 0)
                                r = tpl_buf_putc(b, ' ');
                        if (r >= 0)
                                r = fmt_value(b, sp, verb, (struct tval){ true, key }, depth + 1);
                        json_object_put(key);
                        if (r >= 0)
                                r = tpl_buf_putc(b, ':');
                        if (r >= 0)
                                r = fmt_value(b, sp, verb, (struct tval){ true, kv }, depth + 1);
                }
                return r >= 0 ? tpl_buf_putc(b, ']') : r;
        }
        }
        return 0;
}

/* A printing failure as an error message: too deep, too long or no memory. */
int tpl_sprintf(struct tbuf *b, const char *f, size_t flen, struct tval *args, size_t n)
{
        size_t argi = 0;
        int r = 0;

        for (size_t i = 0; i < flen && r >= 0;) {
                struct spec sp = { .width = -1, .prec = -1 };
                uint32_t verb;
                size_t start = i;

                while (i < flen && f[i] != '%')
                        i++;
                if (i > start)
                        r = tpl_buf_put(b, f + start, i - start);
                if (i >= flen || r < 0)
                        break;
                i++; /* '%' */
                for (; i < flen; i++) {
                        if (f[i] == '-') {
                                sp.minus = true;
                                sp.zero = false;
                        } else if (f[i] == '+') {
                                sp.plus = true;
                        } else if (f[i] == '#') {
                                sp.sharp = true;
                        } else if (f[i] == ' ') {
                                sp.space = true;
                        } else if (f[i] == '0') {
                                sp.zero = !sp.minus;
                        } else {
                                break;
                        }
                }
                for (int which = 0; which < 2; which++) {
                        int *dst = which == 0 ? &sp.width : &sp.prec;
                        if (which == 1) {
                                if (i >= flen || f[i] != '.')
                                        break;
                                i++;
                                sp.prec = 0;
                        }
                        if (i < flen && f[i] == '*') {
                                i++;
                                if (argi < n && tpl_kind(args[argi]) == K_INT &&
                                    llabs(json_object_get_int64(args[argi].j)) <= 1000000) {
                                        *dst = (int)json_object_get_int64(args[argi++].j);
                                        if (which == 0 && *dst < 0) {
                                                sp.minus = true;
                                                sp.zero = false;
                                                *dst = -*dst;
                                        } else if (which == 1 && *dst < 0) {
                                                *dst = -1;
                                        }
                                } else {
                                        if (argi < n)
                                                argi++;
                                        *dst = -1;
                                        r = tpl_buf_puts(b, which ? "%!(BADPREC)" : "%!(BADWIDTH)");
                                }
                                continue;
                        }
                        if (i < flen && f[i] >= '0' && f[i] <= '9') {
                                long v = 0;
                                while (i < flen && f[i] >= '0' && f[i] <= '9') {
                                        if (v <= 1000000)
                                                v = v * 10 + (f[i] - '0');
                                        i++;
                                }
                                if (v > 1000000) {
                                        *dst = -1;
                                        r = tpl_buf_puts(b, which ? "%!(BADPREC)" : "%!(BADWIDTH)");
                                } else {
                                        *dst = (int)v;
                                }
                        }
                }
                if (r < 0)
                        break;
                if (i >= flen) {
                        r = tpl_buf_puts(b, "%!(NOVERB)");
                        break;
                }
                i += berth_utf8_decode(f + i, flen - i, &verb);
                if (verb == '%') {
                        r = tpl_buf_putc(b, '%');
                        continue;
                }
                if (argi >= n) {
                        char enc[4];
                        size_t k = berth_utf8_encode(verb, enc);
                        r = tpl_buf_printf(b, "%%!%.*s(MISSING)", (int)k, enc);
                        continue;
                }
                if (verb >= 0x80 || !strchr("vsdqxXbocUteEfFgGT", (int)verb)) {
                        char enc[4];
                        size_t k = berth_utf8_encode(verb, enc);
                        const struct spec plain = { .width = -1, .prec = -1 };
                        struct tval a = args[argi++];
                        if (tpl_kind(a) == K_MISSING || tpl_kind(a) == K_NULL) {
                                r = tpl_buf_printf(b, "%%!%.*s(<nil>)", (int)k, enc);
                                continue;
                        }
                        r = tpl_buf_printf(b, "%%!%.*s(%s=", (int)k, enc, tpl_type_name(a));
                        if (r >= 0)
                                r = fmt_value(b, &plain, 'v', a, 0);
                        if (r >= 0)
                                r = tpl_buf_putc(b, ')');
                        continue;
                }
                if (verb == 'T') {
                        const char *tn = tpl_kind(args[argi]) <= K_NULL ? "<nil>"
                                                                        : tpl_type_name(args[argi]);
                        argi++;
                        r = pad(b, &sp, tn, strlen(tn));
                        continue;
                }
                r = fmt_value(b, &sp, (char)verb, args[argi++], 0);
        }
        if (r >= 0 && argi < n) {
                const struct spec plain = { .width = -1, .prec = -1 };
                r = tpl_buf_puts(b, "%!(EXTRA ");
                for (size_t k = argi; k < n && r >= 0; k++) {
                        if (k > argi)
                                r = tpl_buf_puts(b, ", ");
                        if (r < 0)
                                break;
                        if (tpl_kind(args[k]) <= K_NULL) {
                                r = tpl_buf_puts(b, "<nil>");
                                continue;
                        }
                        r = tpl_buf_printf(b, "%s=", tpl_type_name(args[k]));
                        if (r >= 0)
                                r = fmt_value(b, &plain, 'v', args[k], 0);
                }
                if (r >= 0)
                        r = tpl_buf_putc(b, ')');
        }
        return r;
}

/* ---- JSON as Go's encoding/json writes it (docker's json function: no HTML escaping) ---- */

static int json_string(struct tbuf *b, const char *str, size_t len)
{
        int r = tpl_buf_putc(b, '"');

        for (size_t i = 0; i < len && r >= 0;) {
                uint32_t cp;
                size_t n = berth_utf8_decode(str + i, len - i, &cp);
                unsigned char c = (unsigned char)str[i];

                if (n == 1 && cp == BERTH_UTF8_REPLACEMENT && c >= 0x80) {
                        r = tpl_buf_puts(b, "\\ufffd");
                } else if (c == '"' || c == '\\') {
                        r = tpl_buf_putc(b, '\\');
                        if (r >= 0)
                                r = tpl_buf_putc(b, (char)c);
                } else if (c == '\n') {
                        r = tpl_buf_puts(b, "\\n");
                } else if (c == '\r') {
                        r = tpl_buf_puts(b, "\\r");
                } else if (c == '\t') {
                        r = tpl_buf_puts(b, "\\t");
                } else if (c == '\b') {
                        r = tpl_buf_puts(b, "\\b");
                } else if (c == '\f') {
                        r = tpl_buf_puts(b, "\\f");
                } else if (c < 0x20) {
                        r = tpl_buf_printf(b, "\\u%04x", c);
                } else if (cp == 0x2028 || cp == 0x2029) {
                        /* Go escapes these always: JavaScript reads them as line ends. */
                        r = tpl_buf_printf(b, "\\u%04x", (unsigned)cp);
                } else {
                        r = tpl_buf_put(b, str + i, n);
                }
                i += n;
        }
        return r >= 0 ? tpl_buf_putc(b, '"') : r;
}

/* -EDOM for NaN and infinities, which encoding/json refuses. */
static int json_encode_depth(struct tbuf *b, json_object *j, int depth)
{
        int r;

        if (depth > TPL_DEPTH_MAX)
                return -ELOOP;
        switch (json_object_get_type(j)) {
        case json_type_null:
                return tpl_buf_puts(b, "null");
        case json_type_boolean:
                return tpl_buf_puts(b, json_object_get_boolean(j) ? "true" : "false");
        case json_type_int:
                return put_int(b, j);
        case json_type_double: {
                double d = json_object_get_double(j);
                if (!isfinite(d))
                        return -EDOM;
                return put_float_json(b, d);
        }
        case json_type_string: {
                size_t len = (size_t)json_object_get_string_len(j);
                return json_string(b, json_object_get_string(j), len);
        }
        case json_type_array: {
                size_t n = json_object_array_length(j);
                r = tpl_buf_putc(b, '[');
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (i > 0)
                                r = tpl_buf_putc(b, ',');
                        if (r >= 0)
                                r = json_encode_depth(b, json_object_array_get_idx(j, i),
                                                      depth + 1);
                }
                return r >= 0 ? tpl_buf_putc(b, ']') : r;
        }
        case json_type_object: {
                bool first = true;
                r = tpl_buf_putc(b, '{');
                /* Members in the data's order: berth builds objects in docker's field order. */
                json_object_object_foreach (j, key, val) {
                        if (r < 0)
                                break;
                        if (!first)
                                r = tpl_buf_putc(b, ',');
                        first = false;
                        if (r >= 0)
                                r = json_string(b, key, strlen(key));
                        if (r >= 0)
                                r = tpl_buf_putc(b, ':');
                        if (r >= 0)
                                r = json_encode_depth(b, val, depth + 1);
                }
                return r >= 0 ? tpl_buf_putc(b, '}') : r;
        }
        }
        return 0;
}

int tpl_json_encode(struct tbuf *b, json_object *j)
{
        return json_encode_depth(b, j, 0);
}

int tpl_fmt_v(struct tbuf *b, struct tval v)
{
        const struct spec plain = { .width = -1, .prec = -1 };
        return fmt_value(b, &plain, 'v', v, 0);
}
