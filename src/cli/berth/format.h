/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `--format` for list commands, as docker's formatter does it: a Go-style
 * template per row; "table ..." adds a header row and aligns columns with a
 * tab writer; "table" alone and "" mean the command's default table; "json"
 * means {{json .}} per row. Rows and headers are JSON objects.
 */

#include <json-c/json.h>

#include "basic/error.h"

struct cli_format;

int cli_format_new(const char *user_format, const char *default_table, json_object *headers,
                   struct cli_format **ret, berth_error *err);
/* Renders one row (the caller keeps its reference). */
int cli_format_row(struct cli_format *f, json_object *row, berth_error *err);
/* Writes what is buffered (the aligned table) to stdout. */
int cli_format_end(struct cli_format *f, berth_error *err);
void cli_format_free(struct cli_format *f);
static inline void cli_format_freep(struct cli_format **f)
{
        cli_format_free(*f);
}

/* docker inspect's output: a JSON array, indented by four spaces, with a newline. */
int cli_print_json_array(json_object *array, berth_error *err);
/* `inspect --format`: the template once per object, each followed by a newline. */
int cli_print_template_each(const char *format, json_object *array, berth_error *err);
