/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image configs (manifest.h): the typed parse, the serialisation berth
 * writes for images it makes, and ChainIDs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "image/format-internal.h"
#include "image/manifest.h"

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

/* History entries: images with thousands of empty-layer steps exist, not tens of thousands. */
#define HISTORY_MAX (10 * BERTH_LAYERS_MAX)

static void healthcheck_free(berth_healthcheck *h)
{
        if (!h)
                return;
        strv_free(h->test);
        free(h);
}

static void container_config_release(berth_container_config *c)
{
        free(c->user);
        strv_free(c->env);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        free(c->working_dir);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        if (c->labels)
                json_object_put(c->labels);
        free(c->stop_signal);
        strv_free(c->shell);
        strv_free(c->on_build);
        healthcheck_free(c->healthcheck);
        *c = (berth_container_config){ 0 };
}

void berth_image_config_free(berth_image_config *c)
{
        if (!c)
                return;
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->os_version);
        free(c->created);
        free(c->author);
        container_config_release(&c->config);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created);
                free(c->history[i].created_by);
                free(c->history[i].author);
                free(c->history[i].comment);
        }
        free(c->history);
        if (c->raw)
                json_object_put(c->raw);
        free(c);
}

/* The keys of a Go map[string]struct{} (ExposedPorts, Volumes), in document order. */
static int get_key_set(json_object *obj, const char *key, const char *path, char ***ret,
                       berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX], epath[BERTH_JSON_PATH_MAX];
        _cleanup_strv_ char **keys = NULL;
        json_object *m = NULL;
        size_t n = 0;
        int r;

        r = berth_json_get_object(obj, key, path, false, &m, err);
        if (r <= 0)
                return r;
        berth_json_path(vpath, sizeof(vpath), path, key);
        if ((size_t)json_object_object_length(m) > BERTH_JSON_STRV_MAX)
                return berth_error_set(err, E2BIG, "%s: more than %d entries", vpath,
                                       BERTH_JSON_STRV_MAX);
        keys = calloc((size_t)json_object_object_length(m) + 1, sizeof(char *));
        if (!keys)
                return berth_error_set(err, ENOMEM, "%s: out of memory", vpath);
        json_object_object_foreach (m, k, v) {
                if (!json_object_is_type(v, json_type_object) &&
                    !json_object_is_type(v, json_type_null))
                        return berth_json_type_error(
                                v, berth_json_path(epath, sizeof(epath), vpath, k),
                                "an empty object", err);
                keys[n] = strdup(k);
                if (!keys[n++])
                        return berth_error_set(err, ENOMEM, "%s: out of memory", vpath);
        }
        strv_free(*ret);
        *ret = TAKE_PTR(keys);
        return 1;
}

static void healthcheck_freep(berth_healthcheck **h)
{
        healthcheck_free(*h);
}

static int healthcheck_from_json(json_object *obj, const char *path, berth_healthcheck **ret,
                                 berth_error *err)
{
        static const struct {
                const char *key;
                size_t offset;
        } durations[] = {
                { "Interval", offsetof(berth_healthcheck, interval) },
                { "Timeout", offsetof(berth_healthcheck, timeout) },
                { "StartPeriod", offsetof(berth_healthcheck, start_period) },
                { "StartInterval", offsetof(berth_healthcheck, start_interval) },
        };
        _cleanup_(healthcheck_freep) berth_healthcheck *h = NULL;
        char hpath[BERTH_JSON_PATH_MAX], vpath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL, *v = NULL;
        size_t n = 0;
        int64_t retries = 0;
        int r;

        r = berth_json_get_object(obj, "Healthcheck", path, false, &o, err);
        if (r <= 0)
                return r;
        berth_json_path(hpath, sizeof(hpath), path, "Healthcheck");
        h = calloc(1, sizeof(*h));
        if (!h)
                return berth_error_set(err, ENOMEM, "%s: out of memory", hpath);
        r = berth_json_get_strv(o, "Test", hpath, false, BERTH_JSON_STRV_MAX, &h->test, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
                r = image_json_get_nonneg(o, durations[i].key, hpath, false,
                                          (int64_t *)(void *)((char *)h + durations[i].offset),
                                          err);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(o, "Retries", &v) &&
            !json_object_is_type(v, json_type_null)) {
                r = berth_json_as_int64(v, berth_json_path(vpath, sizeof(vpath), hpath, "Retries"),
                                        0, INT32_MAX, "a non-negative 32-bit integer", &retries,
                                        err);
                if (r < 0)
                        return r;
                h->retries = (int)retries;
        }
        healthcheck_free(*ret);
        *ret = TAKE_PTR(h);
        return 1;
}

static int container_config_from_json(json_object *obj, berth_container_config *c, berth_error *err)
{
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                { "User", offsetof(berth_container_config, user) },
                { "WorkingDir", offsetof(berth_container_config, working_dir) },
                { "StopSignal", offsetof(berth_container_config, stop_signal) },
        },
          strvs[] = {
                  { "Env", offsetof(berth_container_config, env) },
                  { "Entrypoint", offsetof(berth_container_config, entrypoint) },
                  { "Cmd", offsetof(berth_container_config, cmd) },
                  { "Shell", offsetof(berth_container_config, shell) },
                  { "OnBuild", offsetof(berth_container_config, on_build) },
          };
        const char *path = "config";
        json_object *o = NULL;
        size_t n = 0;
        int r;

        r = berth_json_get_object(obj, "config", "", false, &o, err);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
                r = berth_json_get_string(o, strings[i].key, path, false,
                                          (char **)(void *)((char *)c + strings[i].offset), err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(strvs); i++) {
                r = berth_json_get_strv(o, strvs[i].key, path, false, BERTH_JSON_STRV_MAX,
                                        (char ***)(void *)((char *)c + strvs[i].offset), &n, err);
                if (r < 0)
                        return r;
        }
        r = get_key_set(o, "ExposedPorts", path, &c->exposed_ports, err);
        if (r >= 0)
                r = get_key_set(o, "Volumes", path, &c->volumes, err);
        /* Go decodes a null label value as "", so it is accepted (and written back as ""). */
        if (r >= 0)
                r = image_json_get_string_map(o, "Labels", path, true, &c->labels, err);
        if (r >= 0)
                r = berth_json_get_bool(o, "ArgsEscaped", path, false, &c->args_escaped, err);
        if (r >= 0)
                r = healthcheck_from_json(o, path, &c->healthcheck, err);
        return r < 0 ? r : 0;
}

static int rootfs_from_json(json_object *obj, berth_image_config *c, berth_error *err)
{
        _cleanup_free_ char *type = NULL;
        char epath[BERTH_JSON_PATH_MAX];
        json_object *o = NULL;
        int r;

        r = berth_json_get_object(obj, "rootfs", "", true, &o, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "type", "rootfs", true, &type, err);
        if (r < 0)
                return r;
        if (strcmp(type, "layers") != 0)
                return berth_error_set(err, EINVAL, "rootfs.type: expected \"layers\", got \"%s\"",
                                       type);
        /* Docker omits an empty diff_ids (omitempty); that is an image without layers. */
        r = berth_json_get_strv(o, "diff_ids", "rootfs", false, BERTH_LAYERS_MAX, &c->diff_ids,
                                &c->n_diff_ids, err);
        if (r < 0)
                return r;
        if (!c->diff_ids) {
                c->diff_ids = calloc(1, sizeof(char *));
                if (!c->diff_ids)
                        return berth_error_set(err, ENOMEM, "rootfs.diff_ids: out of memory");
        }
        for (size_t i = 0; i < c->n_diff_ids; i++)
                if (berth_digest_validate(c->diff_ids[i], err) < 0)
                        return berth_error_prefix(
                                err, "%s",
                                berth_json_path_index(epath, sizeof(epath), "rootfs.diff_ids", i));
        return 0;
}

/* n digits at s, as a number in [min, max]. */
static bool digits(const char *s, size_t n, int min, int max)
{
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        return v >= min && v <= max;
}

/* "2024-05-01T10:00:00.123Z", "...+02:00": what Go's time.Time accepts from JSON. */
static bool is_rfc3339(const char *s)
{
        size_t frac = 0;

        if (strlen(s) < 20 || !digits(s, 4, 0, 9999) || s[4] != '-' || !digits(s + 5, 2, 1, 12) ||
            s[7] != '-' || !digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
            !digits(s + 11, 2, 0, 23) || s[13] != ':' || !digits(s + 14, 2, 0, 59) ||
            s[16] != ':' || !digits(s + 17, 2, 0, 60))
                return false;
        s += 19;
        if (*s == '.') {
                while (s[1 + frac] >= '0' && s[1 + frac] <= '9')
                        frac++;
                if (frac < 1 || frac > 9)
                        return false;
                s += 1 + frac;
        }
        if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0')
                return true;
        return (s[0] == '+' || s[0] == '-') && digits(s + 1, 2, 0, 23) && s[3] == ':' &&
               digits(s + 4, 2, 0, 59) && s[6] == '\0';
}

/* Docker refuses an image whose times do not parse; so do we, naming where. */
static int check_time(const char *t, const char *path, berth_error *err)
{
        if (t && !is_rfc3339(t))
                return berth_error_set(err, EINVAL, "%s: expected an RFC 3339 time, got \"%.64s\"",
                                       path, t);
        return 0;
}

static int history_from_json(json_object *obj, berth_image_config *c, berth_error *err)
{
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                { "created", offsetof(berth_history, created) },
                { "created_by", offsetof(berth_history, created_by) },
                { "author", offsetof(berth_history, author) },
                { "comment", offsetof(berth_history, comment) },
        };
        char epath[BERTH_JSON_PATH_MAX], tpath[BERTH_JSON_PATH_MAX];
        json_object *a = NULL;
        size_t n;
        int r;

        r = berth_json_get_array(obj, "history", "", false, HISTORY_MAX, &a, err);
        if (r <= 0)
                return r;
        n = json_object_array_length(a);
        if (n == 0)
                return 0;
        c->history = calloc(n, sizeof(*c->history));
        if (!c->history)
                return berth_error_set(err, ENOMEM, "history: out of memory");
        c->n_history = n;
        for (size_t i = 0; i < n; i++) {
                json_object *h = json_object_array_get_idx(a, i);
                berth_history *e = &c->history[i];

                berth_json_path_index(epath, sizeof(epath), "history", i);
                if (!json_object_is_type(h, json_type_object))
                        return berth_json_type_error(h, epath, "an object", err);
                for (size_t j = 0; j < ARRAY_SIZE(strings); j++) {
                        r = berth_json_get_string(h, strings[j].key, epath, false,
                                                  (char **)(void *)((char *)e + strings[j].offset),
                                                  err);
                        if (r < 0)
                                return r;
                }
                r = berth_json_get_bool(h, "empty_layer", epath, false, &e->empty_layer, err);
                if (r < 0)
                        return r;
                r = check_time(e->created, berth_json_path(tpath, sizeof(tpath), epath, "created"),
                               err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int image_config_from_json(json_object *o, berth_image_config *c, berth_error *err)
{
        const struct berth_json_field fields[] = {
                BERTH_JSON_FIELD_REQ("architecture", BERTH_JSON_STRING, berth_image_config,
                                     architecture),
                BERTH_JSON_FIELD_REQ("os", BERTH_JSON_STRING, berth_image_config, os),
                BERTH_JSON_FIELD("variant", BERTH_JSON_STRING, berth_image_config, variant),
                BERTH_JSON_FIELD("os.version", BERTH_JSON_STRING, berth_image_config, os_version),
                BERTH_JSON_FIELD("created", BERTH_JSON_STRING, berth_image_config, created),
                BERTH_JSON_FIELD("author", BERTH_JSON_STRING, berth_image_config, author),
                BERTH_JSON_FIELD_END,
        };
        int r;

        r = berth_json_dispatch(o, "", fields, c, err);
        if (r >= 0)
                r = check_time(c->created, "created", err);
        if (r >= 0)
                r = container_config_from_json(o, &c->config, err);
        if (r >= 0)
                r = rootfs_from_json(o, c, err);
        if (r >= 0)
                r = history_from_json(o, c, err);
        return r < 0 ? r : 0;
}

int berth_image_config_parse(const char *data, size_t len, const char *what,
                             berth_image_config **ret, berth_error *err)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c = NULL;
        _cleanup_(json_putp) json_object *o = NULL;
        int r;

        *ret = NULL;
        if (len > BERTH_CONFIG_MAX)
                return berth_error_set(err, E2BIG, "%s: larger than %u bytes", what,
                                       BERTH_CONFIG_MAX);
        r = berth_json_parse_object(data, len, what, &o, err);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c)
                return berth_error_set(err, ENOMEM, "%s: out of memory", what);
        r = image_config_from_json(o, c, err);
        if (r < 0)
                return berth_error_prefix(err, "%s", what);
        c->raw = TAKE_PTR(o);
        *ret = TAKE_PTR(c);
        return 0;
}

/*
 * Serialisation. Docker writes image configs with Go's encoding/json, so we
 * write the same bytes for the same content: struct fields in declaration
 * order, map keys sorted, <, > and & escaped, no whitespace. An image berth
 * builds then gets the ID docker would give it.
 */

struct out {
        char *data;
        size_t len, cap;
        bool oom;
};

static void out_put(struct out *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 1024;
                char *p;

                while (cap < b->len + n + 1)
                        cap *= 2;
                p = realloc(b->data, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->data = p;
                b->cap = cap;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void out_puts(struct out *b, const char *s)
{
        out_put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, unsigned *ret_cp)
{
        unsigned cp, min;
        size_t n;

        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2, cp = s[0] & 0x1f, min = 0x80;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3, cp = s[0] & 0x0f, min = 0x800;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4, cp = s[0] & 0x07, min = 0x10000;
        } else {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

/* A JSON string as Go's encoding/json writes it (HTML-safe escaping, invalid UTF-8 -> U+FFFD). */
static void out_string(struct out *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;

        out_put(b, "\"", 1);
        while (*p) {
                unsigned cp = 0;
                size_t n = utf8_len(p, &cp);
                char esc[7];

                if (n == 0) {
                        out_puts(b, "\\ufffd");
                        p++;
                        continue;
                }
                switch (cp) {
                case '"':
                        out_puts(b, "\\\"");
                        break;
                case '\\':
                        out_puts(b, "\\\\");
                        break;
                case '\b':
                        out_puts(b, "\\b");
                        break;
                case '\f':
                        out_puts(b, "\\f");
                        break;
                case '\n':
                        out_puts(b, "\\n");
                        break;
                case '\r':
                        out_puts(b, "\\r");
                        break;
                case '\t':
                        out_puts(b, "\\t");
                        break;
                case '<':
                case '>':
                case '&':
                case 0x2028:
                case 0x2029:
                        goto escape;
                default:
                        if (cp >= 0x20) {
                                out_put(b, (const char *)p, n);
                                break;
                        }
                escape:
                        esc[0] = '\\', esc[1] = 'u';
                        esc[2] = hex[(cp >> 12) & 15], esc[3] = hex[(cp >> 8) & 15];
                        esc[4] = hex[(cp >> 4) & 15], esc[5] = hex[cp & 15];
                        out_put(b, esc, 6);
                }
                p += n;
        }
        out_put(b, "\"", 1);
}

/* Writes ',' before all but the first member, then "key":. */
static void out_key(struct out *b, bool *first, const char *key)
{
        if (!*first)
                out_put(b, ",", 1);
        *first = false;
        out_string(b, key);
        out_put(b, ":", 1);
}

static void out_strv(struct out *b, char *const *v)
{
        out_put(b, "[", 1);
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        out_put(b, ",", 1);
                out_string(b, v[i]);
        }
        out_put(b, "]", 1);
}

static void out_int(struct out *b, int64_t i)
{
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%" PRId64, i);

        if (n > 0 && n < (int)sizeof(buf))
                out_put(b, buf, (size_t)n);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go writes map keys sorted by their bytes. */
static const char **sorted(const char **keys, size_t n)
{
        if (keys && n > 1)
                qsort(keys, n, sizeof(*keys), cmp_str);
        return keys;
}

/* map[string]struct{}: {"80/tcp":{},...} */
static void out_key_set(struct out *b, char *const *v)
{
        _cleanup_free_ const char **keys = NULL;
        size_t n = 0;

        while (v && v[n])
                n++;
        keys = calloc(n ? n : 1, sizeof(*keys));
        if (!keys) {
                b->oom = true;
                return;
        }
        memcpy(keys, v, n * sizeof(*keys));
        sorted(keys, n);
        out_put(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        out_put(b, ",", 1);
                out_string(b, keys[i]);
                out_puts(b, ":{}");
        }
        out_put(b, "}", 1);
}

/* map[string]string; a non-string value (null) is written as "". */
static void out_string_map(struct out *b, json_object *m)
{
        _cleanup_free_ const char **keys = NULL;
        size_t n = 0;

        keys = calloc((size_t)json_object_object_length(m) + 1, sizeof(*keys));
        if (!keys) {
                b->oom = true;
                return;
        }
        json_object_object_foreach (m, k, unused) {
                (void)unused;
                keys[n++] = k;
        }
        sorted(keys, n);
        out_put(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
                json_object *v = NULL;

                json_object_object_get_ex(m, keys[i], &v);

                if (i)
                        out_put(b, ",", 1);
                out_string(b, keys[i]);
                out_put(b, ":", 1);
                out_string(b, json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                       : "");
        }
        out_put(b, "}", 1);
}

static void out_healthcheck(struct out *b, const berth_healthcheck *h)
{
        bool first = true;

        out_put(b, "{", 1);
        if (h->test) {
                out_key(b, &first, "Test");
                out_strv(b, h->test);
        }
        if (h->interval) {
                out_key(b, &first, "Interval");
                out_int(b, h->interval);
        }
        if (h->timeout) {
                out_key(b, &first, "Timeout");
                out_int(b, h->timeout);
        }
        if (h->start_period) {
                out_key(b, &first, "StartPeriod");
                out_int(b, h->start_period);
        }
        if (h->start_interval) {
                out_key(b, &first, "StartInterval");
                out_int(b, h->start_interval);
        }
        if (h->retries) {
                out_key(b, &first, "Retries");
                out_int(b, h->retries);
        }
        out_put(b, "}", 1);
}

/* The members in the order of docker's container.Config, only those that are set. */
static void out_container_config(struct out *b, const berth_container_config *c)
{
        bool first = true;

        out_put(b, "{", 1);
        if (c->user) {
                out_key(b, &first, "User");
                out_string(b, c->user);
        }
        if (c->exposed_ports) {
                out_key(b, &first, "ExposedPorts");
                out_key_set(b, c->exposed_ports);
        }
        if (c->env) {
                out_key(b, &first, "Env");
                out_strv(b, c->env);
        }
        if (c->cmd) {
                out_key(b, &first, "Cmd");
                out_strv(b, c->cmd);
        }
        if (c->healthcheck) {
                out_key(b, &first, "Healthcheck");
                out_healthcheck(b, c->healthcheck);
        }
        if (c->args_escaped) {
                out_key(b, &first, "ArgsEscaped");
                out_puts(b, "true");
        }
        if (c->volumes) {
                out_key(b, &first, "Volumes");
                out_key_set(b, c->volumes);
        }
        if (c->working_dir) {
                out_key(b, &first, "WorkingDir");
                out_string(b, c->working_dir);
        }
        if (c->entrypoint) {
                out_key(b, &first, "Entrypoint");
                out_strv(b, c->entrypoint);
        }
        if (c->on_build) {
                out_key(b, &first, "OnBuild");
                out_strv(b, c->on_build);
        }
        if (c->labels && json_object_is_type(c->labels, json_type_object)) {
                out_key(b, &first, "Labels");
                out_string_map(b, c->labels);
        }
        if (c->stop_signal) {
                out_key(b, &first, "StopSignal");
                out_string(b, c->stop_signal);
        }
        if (c->shell) {
                out_key(b, &first, "Shell");
                out_strv(b, c->shell);
        }
        out_put(b, "}", 1);
}

static void out_history(struct out *b, const berth_history *h)
{
        bool first = true;

        out_put(b, "{", 1);
        if (h->created) {
                out_key(b, &first, "created");
                out_string(b, h->created);
        }
        if (h->author) {
                out_key(b, &first, "author");
                out_string(b, h->author);
        }
        if (h->created_by) {
                out_key(b, &first, "created_by");
                out_string(b, h->created_by);
        }
        if (h->comment) {
                out_key(b, &first, "comment");
                out_string(b, h->comment);
        }
        if (h->empty_layer) {
                out_key(b, &first, "empty_layer");
                out_puts(b, "true");
        }
        out_put(b, "}", 1);
}

char *berth_image_config_to_json(const berth_image_config *c)
{
        struct out b = { 0 };
        bool first = true;

        /* Docker's image.Image goes through a map, so its top-level keys are sorted. */
        out_put(&b, "{", 1);
        out_key(&b, &first, "architecture");
        out_string(&b, c->architecture ? c->architecture : "");
        if (c->author) {
                out_key(&b, &first, "author");
                out_string(&b, c->author);
        }
        out_key(&b, &first, "config");
        out_container_config(&b, &c->config);
        if (c->created) {
                out_key(&b, &first, "created");
                out_string(&b, c->created);
        }
        if (c->n_history > 0) {
                out_key(&b, &first, "history");
                out_put(&b, "[", 1);
                for (size_t i = 0; i < c->n_history; i++) {
                        if (i)
                                out_put(&b, ",", 1);
                        out_history(&b, &c->history[i]);
                }
                out_put(&b, "]", 1);
        }
        out_key(&b, &first, "os");
        out_string(&b, c->os ? c->os : "");
        if (c->os_version) {
                out_key(&b, &first, "os.version");
                out_string(&b, c->os_version);
        }
        out_key(&b, &first, "rootfs");
        out_puts(&b, "{\"type\":\"layers\",\"diff_ids\":");
        out_strv(&b, c->diff_ids);
        out_put(&b, "}", 1);
        if (c->variant) {
                out_key(&b, &first, "variant");
                out_string(&b, c->variant);
        }
        out_put(&b, "}", 1);

        if (b.oom) {
                free(b.data);
                return NULL;
        }
        return b.data;
}

void berth_chain_ids(char *const *diff_ids, size_t n, char (*ret)[BERTH_DIGEST_STR_MAX])
{
        /* Two digests and a blank; diff_ids are validated, so each fits. */
        char buf[2 * BERTH_DIGEST_STR_MAX];

        if (n == 0)
                return;
        snprintf(ret[0], BERTH_DIGEST_STR_MAX, "%s", diff_ids[0]);
        for (size_t i = 1; i < n; i++) {
                int len = snprintf(buf, sizeof(buf), "%s %s", ret[i - 1], diff_ids[i]);

                if (len < 0 || (size_t)len >= sizeof(buf))
                        len = (int)strnlen(buf, sizeof(buf));
                berth_digest_buffer(buf, (size_t)len, ret[i]);
        }
}
