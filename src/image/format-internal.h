/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * JSON getters shared by manifest.c and image-config.c, with the conventions
 * of basic/json.h (1 present, 0 absent, negative errno with *err filled).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

/* A non-negative 64-bit integer member (sizes, durations). */
int image_json_get_nonneg(json_object *obj, const char *key, const char *path, bool required,
                          int64_t *ret, berth_error *err);

/*
 * An object whose values are all strings (annotations, labels), and JSON
 * null as well when allow_null; *ret (NULL or a reference, which is put)
 * gets a new reference.
 */
int image_json_get_string_map(json_object *obj, const char *key, const char *path, bool allow_null,
                              json_object **ret, berth_error *err);
