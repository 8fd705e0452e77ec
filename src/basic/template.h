/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The `--format` engine: the subset of Go's text/template that docker's CLI
 * users write (`berth images --format '{{.Repository}}:{{.Tag}}'`,
 * `berth inspect -f '{{json .Config.Env}}'`, `berth ps --format 'table
 * {{.ID}}\t{{.Names}}'`), evaluated over json-c values instead of Go structs.
 * docs/format.md is the user's page: what is supported and what is not.
 *
 * The data model. A JSON object is a Go map (`.Name` looks the key up; a
 * missing key yields "no value", printed "<no value>"); an array is a slice,
 * a string a string, an integer an int, a real a float64, null a nil
 * pointer (printed "<nil>"; a field of it is an error, as in Go). Values
 * print as Go's fmt prints them with %v. docker's contexts have methods that
 * take a key (`{{.Label "com.example.x"}}`): a member that is an object can
 * be called with one string and gives the key's value, "" when missing.
 *
 * Life cycle: parse once, render any number of times, free. Rendering takes
 * json-c references to the template's constants and to the data, and json-c
 * reference counts are not atomic: render a template (and the same data)
 * from one thread at a time.
 *
 *   _cleanup_(berth_template_freep) berth_template *t = NULL;
 *   if (berth_template_parse(format, BERTH_TEMPLATE_LIST, &t, &err) < 0)
 *           return ...;                  // "template: :1:7: unexpected ..."
 *   berth_template_format_list(t, rows, headers, stdout, &err);
 *
 * Errors: every function that can fail returns a negative errno (-EINVAL for
 * a template that is wrong or that fails on the data, -E2BIG for exceeding a
 * bound, -ENOMEM, -EIO) and fills *err. Messages take Go's form, so that they
 * read like docker's: "template: :1:14: unexpected \"}\" in operand" for
 * syntax (line:column of the offending token, the column counted in bytes
 * from 0 as Go counts it), "template: :1:2: executing \"\" at <.Foo.Bar>:
 * can't evaluate field Bar in type string" when rendering fails.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* Bounds: longer text, deeper nesting or more output fail with E2BIG. */
#define BERTH_TEMPLATE_MAX_TEXT   (64 * 1024)        /* bytes of template text */
#define BERTH_TEMPLATE_MAX_DEPTH  100                /* nested blocks and parentheses */
#define BERTH_TEMPLATE_MAX_OUTPUT (64 * 1024 * 1024) /* bytes one render may produce */
/* Evaluation steps (actions, commands, range iterations) one render may take. */
#define BERTH_TEMPLATE_MAX_STEPS (1 << 20)
/* Bytes of the values functions may return in one render, printed or not. */
#define BERTH_TEMPLATE_MAX_WORK (256 * 1024 * 1024)

/*
 * berth_template_parse() flags.
 *
 * BERTH_TEMPLATE_LIST: the text is the --format of a listing command (ps,
 * images, volume ls, ...) and is read as docker's formatter reads it: "json"
 * alone means `{{json .}}`; a leading "table" makes a table template and is
 * removed; spaces at both ends are trimmed; the two-character sequences `\t`
 * and `\n` become a tab and a newline. Without it the text is a template as
 * is, as docker's `inspect -f` takes it (there `\n` stays a backslash and an
 * n, and "table" is text). A format of just "table" leaves an empty row
 * template: the command should use its default table format then, as
 * docker's commands do.
 */
#define BERTH_TEMPLATE_LIST (1u << 0)

typedef struct berth_template berth_template;

/*
 * Parses `text` (NUL-terminated, at most BERTH_TEMPLATE_MAX_TEXT bytes) into
 * *ret, which the caller frees with berth_template_free(). Functions are
 * looked up at parse time, as Go does: an unknown one is a syntax error.
 */
int berth_template_parse(const char *text, unsigned flags, berth_template **ret, berth_error *err);

/* Whether the template was a BERTH_TEMPLATE_LIST format starting with "table". */
bool berth_template_is_table(const berth_template *t);

/*
 * Executes the template with `data` as dot and $, and returns the output in
 * *ret (NUL-terminated, caller frees) and its length in *ret_len (may be
 * NULL; the output itself may contain NUL bytes when the data does). `data`
 * is only read; NULL is JSON null. Nothing is written to *ret on failure.
 */
int berth_template_render(const berth_template *t, json_object *data, char **ret, size_t *ret_len,
                          berth_error *err);

/*
 * Renders the header row of a table as docker does: the same template,
 * executed on `headers`, an object from field name to column title
 * ({"ID": "CONTAINER ID", "Names": "NAMES"}), with docker's header
 * functions: json, split, join, title, lower, upper and truncate return
 * their first argument unchanged, so `{{upper .Name}}` heads its column
 * with the title as given. A field with no title renders "<no value>".
 */
int berth_template_render_header(const berth_template *t, json_object *headers, char **ret,
                                 size_t *ret_len, berth_error *err);

/*
 * Prints a list the way docker's formatter.Context does: each element of the
 * JSON array `rows` is rendered and followed by "\n". For a table template
 * the header row (from `headers`, as berth_template_render_header(); NULL is
 * an empty object) comes first, even when there are no rows, and the whole
 * is aligned by a tab writer configured as docker's (minwidth 10, tabwidth 1,
 * padding 3, padded with spaces). Like docker, a failure in the header row
 * only cuts that row short, while a row that fails fails the call; nothing
 * is written to `out` then.
 */
int berth_template_format_list(const berth_template *t, json_object *rows, json_object *headers,
                               FILE *out, berth_error *err);

void berth_template_free(berth_template *t);

static inline void berth_template_freep(berth_template **t)
{
        berth_template_free(*t);
}
