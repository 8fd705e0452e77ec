/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the --format engine: the first line of the input is
 * a template, the rest JSON data. Besides crashes, leaks, undefined
 * behaviour and hangs (the step and output bounds must stop every loop) it
 * checks the API's contract: a failure leaves nothing behind and has a
 * message; a rendered string is as long as reported. The template is tried
 * as `inspect -f` text and as a list format (table or not), which also
 * drives the header rendering and the tab writer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json.h"
#include "basic/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_one(const berth_template *t, json_object *j)
{
        berth_error err = BERTH_ERROR_INIT;
        char *out = NULL;
        size_t len = 0;

        if (berth_template_render(t, j, &out, &len, &err) == 0) {
                if (!out || out[len] != '\0')
                        abort();
        } else if (out || !err.msg) {
                abort();
        }
        free(out);
        berth_error_release(&err);
}

static void format_list(const berth_template *t, json_object *j)
{
        berth_error err = BERTH_ERROR_INIT;
        json_object *rows = j, *wrapped = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return;
        if (!json_object_is_type(j, json_type_array)) {
                wrapped = json_object_new_array();
                if (wrapped && json_object_array_add(wrapped, json_object_get(j)) < 0)
                        abort();
                rows = wrapped;
        }
        /* The data doubles as the header titles: an object of strings for many inputs. */
        if (berth_template_format_list(t, rows, json_object_is_type(j, json_type_object) ? j : NULL,
                                       f, &err) < 0 &&
            !err.msg)
                abort();
        fclose(f);
        free(buf);
        json_object_put(wrapped);
        berth_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *nl = memchr(data, '\n', size);
        size_t tlen = nl ? (size_t)(nl - (const char *)data) : size;
        berth_error err = BERTH_ERROR_INIT;
        json_object *j = NULL;
        char *text;

        if (tlen > BERTH_TEMPLATE_MAX_TEXT + 1)
                return 0;
        text = strndup((const char *)data, tlen);
        if (!text)
                return 0;
        if (nl && berth_json_parse(nl + 1, size - tlen - 1, "data", &j, &err) < 0) {
                j = NULL;
                berth_error_release(&err);
        }

        for (unsigned flags = 0; flags <= BERTH_TEMPLATE_LIST; flags += BERTH_TEMPLATE_LIST) {
                berth_template *t = NULL;

                if (berth_template_parse(text, flags, &t, &err) < 0) {
                        if (t || !err.msg)
                                abort();
                        berth_error_release(&err);
                        continue;
                }
                if (flags == 0)
                        render_one(t, j);
                else
                        format_list(t, j);
                berth_template_free(t);
        }
        json_object_put(j);
        free(text);
        return 0;
}
