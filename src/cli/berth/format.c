/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --format and inspect output over basic/template.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/template.h"
#include "cli/berth/format.h"

struct cli_format {
        berth_template *tmpl;
        json_object *rows;
        json_object *headers;
};

int cli_format_new(const char *user_format, const char *default_table, json_object *headers,
                   struct cli_format **ret, berth_error *err)
{
        struct cli_format *f = calloc(1, sizeof(*f));
        const char *src = user_format;
        int r;

        if (!f)
                return berth_error_set(err, ENOMEM, "out of memory");
        /* "table" alone, like no --format at all, is the command's default table. */
        if (!src || !*src || strcmp(src, "table") == 0)
                src = default_table;
        r = berth_template_parse(src, BERTH_TEMPLATE_LIST, &f->tmpl, err);
        if (r < 0) {
                free(f);
                return r;
        }
        f->rows = json_object_new_array();
        f->headers = headers ? json_object_get(headers) : NULL;
        if (!f->rows) {
                cli_format_free(f);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        *ret = f;
        return 0;
}

int cli_format_row(struct cli_format *f, json_object *row, berth_error *err)
{
        if (json_object_array_add(f->rows, json_object_get(row)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

int cli_format_end(struct cli_format *f, berth_error *err)
{
        return berth_template_format_list(f->tmpl, f->rows, f->headers, stdout, err);
}

void cli_format_free(struct cli_format *f)
{
        if (!f)
                return;
        berth_template_free(f->tmpl);
        if (f->rows)
                json_object_put(f->rows);
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
        berth_template *t = NULL;
        int r;

        r = berth_template_parse(format, 0, &t, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(array); i++) {
                _cleanup_free_ char *out = NULL;
                r = berth_template_render(t, json_object_array_get_idx(array, i), &out, NULL, err);
                if (r < 0)
                        break;
                fputs(out, stdout);
                fputc('\n', stdout);
        }
        berth_template_free(t);
        return r < 0 ? r : 0;
}
