/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --format and inspect output over basic/template.h and basic/tabwriter.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/tabwriter.h"
#include "basic/template.h"
#include "cli/berth/format.h"

struct cli_format {
        berth_template *tmpl;
        berth_tabwriter *tw; /* table mode only */
        json_object *headers;
        bool header_done;
};

/* docker turns the two characters "\t" and "\n" of a format given on the command line into tab and
 * newline. */
static char *unescape(const char *s)
{
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] == 't') {
                        *o++ = '\t';
                        s++;
                } else if (s[0] == '\\' && s[1] == 'n') {
                        *o++ = '\n';
                        s++;
                } else
                        *o++ = *s;
        }
        *o = '\0';
        return out;
}

int cli_format_new(const char *user_format, const char *default_table, json_object *headers,
                   struct cli_format **ret, berth_error *err)
{
        _cleanup_free_ char *text = NULL;
        struct cli_format *f = calloc(1, sizeof(*f));
        const char *src;
        int r;

        if (!f)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (!user_format || !*user_format || strcmp(user_format, "table") == 0)
                src = default_table;
        else if (strcmp(user_format, "json") == 0)
                src = "{{json .}}";
        else
                src = user_format;
        text = unescape(src);
        if (!text) {
                free(f);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = berth_template_parse(text, &f->tmpl, err);
        if (r < 0) {
                free(f);
                return r;
        }
        if (berth_template_is_table(f->tmpl)) {
                f->tw = berth_tabwriter_new(10, 1, 3, ' ', 0);
                if (!f->tw) {
                        cli_format_free(f);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
                f->headers = json_object_get(headers);
        }
        *ret = f;
        return 0;
}

static int emit(struct cli_format *f, const char *s, berth_error *err)
{
        if (f->tw)
                return berth_tabwriter_write(f->tw, s, strlen(s)) < 0
                               ? berth_error_set(err, ENOMEM, "out of memory")
                               : 0;
        if (fputs(s, stdout) == EOF)
                return berth_error_sys(err, errno, "write output");
        return 0;
}

int cli_format_row(struct cli_format *f, json_object *row, berth_error *err)
{
        _cleanup_free_ char *out = NULL;
        int r;

        if (f->tw && !f->header_done) {
                _cleanup_free_ char *h = NULL;
                f->header_done = true;
                r = berth_template_render_header(f->tmpl, f->headers, &h, err);
                if (r < 0)
                        return r;
                r = emit(f, h, err);
                if (r >= 0)
                        r = emit(f, "\n", err);
                if (r < 0)
                        return r;
        }
        r = berth_template_render(f->tmpl, row, &out, err);
        if (r < 0)
                return r;
        r = emit(f, out, err);
        if (r >= 0)
                r = emit(f, "\n", err);
        return r;
}

int cli_format_end(struct cli_format *f, berth_error *err)
{
        if (f->tw && !f->header_done) {
                _cleanup_free_ char *h = NULL;
                int r;
                f->header_done = true;
                r = berth_template_render_header(f->tmpl, f->headers, &h, err);
                if (r < 0)
                        return r;
                if (emit(f, h, err) < 0 || emit(f, "\n", err) < 0)
                        return -1;
        }
        if (f->tw && berth_tabwriter_flush(f->tw, stdout) < 0)
                return berth_error_sys(err, errno, "write output");
        return 0;
}

void cli_format_free(struct cli_format *f)
{
        if (!f)
                return;
        berth_template_free(f->tmpl);
        berth_tabwriter_free(f->tw);
        if (f->headers)
                json_object_put(f->headers);
        free(f);
}

/* ---- inspect ---- */

static void indent(FILE *out, int depth)
{
        for (int i = 0; i < depth; i++)
                fputs("    ", out);
}

/* docker's MarshalIndent with four spaces: keys in the object's order. */
static void print_pretty(FILE *out, json_object *v, int depth)
{
        size_t n;

        switch (json_object_get_type(v)) {
        case json_type_object:
                if (json_object_object_length(v) == 0) {
                        fputs("{}", out);
                        return;
                }
                fputs("{\n", out);
                n = 0;
                json_object_object_foreach (v, key, val) {
                        json_object *k = json_object_new_string(key);
                        indent(out, depth + 1);
                        fprintf(out, "%s: ",
                                json_object_to_json_string_ext(k, JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(k);
                        print_pretty(out, val, depth + 1);
                        fputs(++n < (size_t)json_object_object_length(v) ? ",\n" : "\n", out);
                }
                indent(out, depth);
                fputc('}', out);
                return;
        case json_type_array:
                n = json_object_array_length(v);
                if (n == 0) {
                        fputs("[]", out);
                        return;
                }
                fputs("[\n", out);
                for (size_t i = 0; i < n; i++) {
                        indent(out, depth + 1);
                        print_pretty(out, json_object_array_get_idx(v, i), depth + 1);
                        fputs(i + 1 < n ? ",\n" : "\n", out);
                }
                indent(out, depth);
                fputc(']', out);
                return;
        case json_type_null:
                fputs("null", out);
                return;
        default:
                fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE), out);
        }
}

int cli_print_json_array(json_object *array, berth_error *err)
{
        print_pretty(stdout, array, 0);
        fputc('\n', stdout);
        if (ferror(stdout))
                return berth_error_sys(err, errno, "write output");
        return 0;
}

int cli_print_template_each(const char *format, json_object *array, berth_error *err)
{
        _cleanup_free_ char *text = unescape(format);
        berth_template *t = NULL;
        int r;

        if (!text)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_template_parse(text, &t, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(array); i++) {
                _cleanup_free_ char *out = NULL;
                r = berth_template_render(t, json_object_array_get_idx(array, i), &out, err);
                if (r < 0)
                        break;
                fputs(out, stdout);
                fputc('\n', stdout);
        }
        berth_template_free(t);
        return r < 0 ? r : 0;
}
