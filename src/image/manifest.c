/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image formats of manifest.h that a pull meets first: platforms,
 * descriptors, manifests and indexes, layer media types. Image configs are
 * in image-config.c.
 */
#include "image/manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "basic/cleanup.h"
#include "basic/json.h"
#include "image/format-internal.h"

/* Entries of an index: far more than any registry serves, well under what 4 MiB can hold. */
#define INDEX_MANIFESTS_MAX 10000
/* Foreign layer URLs per descriptor. */
#define URLS_MAX 256

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = v ? strdup(v) : NULL;
}

/* ------------------------------------------------------------------ platforms */

struct arch_alias {
        const char *name;
        const char *arch;
        const char *variant; /* forced variant, or NULL to keep the given one */
};

/* containerd's normalisation, plus the armvNl names uname(2) reports. */
static const struct arch_alias arch_aliases[] = {
        { "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL },  { "i386", "386", NULL },
        { "i686", "386", NULL },     { "aarch64", "arm64", NULL }, { "armhf", "arm", "v7" },
        { "armel", "arm", "v6" },    { "armv7l", "arm", "v7" },    { "armv7", "arm", "v7" },
        { "armv6l", "arm", "v6" },   { "armv6", "arm", "v6" },     { "armv5l", "arm", "v5" },
        { "armv5", "arm", "v5" },    { "armv8l", "arm", "v8" },
};

/* Operating systems Go knows: a single-word platform naming one of these is an OS, not an arch. */
static const char *const known_os[] = {
        "aix",   "android", "darwin",  "dragonfly", "freebsd", "illumos", "ios",
        "linux", "netbsd",  "openbsd", "plan9",     "solaris", "windows",
};

static void lowercase(char *s)
{
        for (; s && *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char)(*s - 'A' + 'a');
}

/* "v7" -> 700, "v8.2" -> 802, anything else -> -1. */
static int variant_level(const char *v)
{
        int major = 0, minor = 0;
        const char *p;

        if (!v || v[0] != 'v' || v[1] < '0' || v[1] > '9')
                return -1;
        for (p = v + 1; *p >= '0' && *p <= '9'; p++)
                if ((major = major * 10 + (*p - '0')) > 99)
                        return -1;
        if (*p == '.') {
                if (p[1] < '0' || p[1] > '9')
                        return -1;
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if ((minor = minor * 10 + (*p - '0')) > 99)
                                return -1;
        }
        return *p ? -1 : major * 100 + minor;
}

/* Normalises p in place as containerd's platforms.Normalize does; -ENOMEM only. */
static int platform_normalize(berth_platform *p)
{
        lowercase(p->os);
        lowercase(p->architecture);
        lowercase(p->variant);

        if (p->os && strcmp(p->os, "macos") == 0) {
                set_str(&p->os, "darwin");
                if (!p->os)
                        return -ENOMEM;
        }
        for (size_t i = 0; p->architecture && i < ARRAY_SIZE(arch_aliases); i++) {
                if (strcmp(p->architecture, arch_aliases[i].name) != 0)
                        continue;
                set_str(&p->architecture, arch_aliases[i].arch);
                if (!p->architecture)
                        return -ENOMEM;
                if (arch_aliases[i].variant) {
                        set_str(&p->variant, arch_aliases[i].variant);
                        if (!p->variant)
                                return -ENOMEM;
                }
                break;
        }
        if (!p->architecture)
                return 0;

        if (strcmp(p->architecture, "amd64") == 0 || strcmp(p->architecture, "386") == 0) {
                /* v1 is the baseline: the same as no variant. */
                if (p->variant && strcmp(p->variant, "v1") == 0)
                        set_str(&p->variant, NULL);
        } else if (strcmp(p->architecture, "arm64") == 0 || strcmp(p->architecture, "arm") == 0) {
                char buf[16];

                /* "8" -> "v8", "v8.0" -> "v8"; arm64 defaults to v8, arm to v7. */
                if (p->variant && p->variant[0] >= '0' && p->variant[0] <= '9' &&
                    snprintf(buf, sizeof(buf), "v%s", p->variant) < (int)sizeof(buf))
                        set_str(&p->variant, buf);
                else if (!p->variant)
                        set_str(&p->variant, strcmp(p->architecture, "arm64") == 0 ? "v8" : "v7");
                if (!p->variant)
                        return -ENOMEM;
                if (strchr(p->variant, '.') && variant_level(p->variant) % 100 == 0)
                        *strchr(p->variant, '.') = '\0';
        }
        return 0;
}

static bool valid_platform_component(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
                        return false;
        return true;
}

static bool is_known_os(const char *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(known_os); i++)
                if (strcasecmp(s, known_os[i]) == 0)
                        return true;
        return false;
}

int berth_platform_parse(const char *s, berth_platform *ret, berth_error *err)
{
        _cleanup_(berth_platform_release) berth_platform p = { 0 };
        char *parts[3] = { NULL, NULL, NULL };
        _cleanup_free_ char *copy = NULL;
        size_t n = 0;
        char *q;
        int r;

        *ret = (berth_platform){ 0 };
        if (!s || !*s)
                return berth_error_set(err, EINVAL, "invalid platform: empty");
        copy = strdup(s);
        if (!copy)
                return berth_error_set(err, ENOMEM, "platform `%s`: out of memory", s);
        for (q = copy;; q++) {
                char *slash = strchr(q, '/');
                if (n == ARRAY_SIZE(parts))
                        return berth_error_set(err, EINVAL,
                                               "invalid platform `%s`: expected os/arch[/variant]",
                                               s);
                parts[n++] = q;
                if (!slash)
                        break;
                *slash = '\0';
                q = slash;
        }
        for (size_t i = 0; i < n; i++)
                if (!valid_platform_component(parts[i], strlen(parts[i])))
                        return berth_error_set(err, EINVAL,
                                               "invalid platform `%s`: `%s` is not a valid "
                                               "component (letters, digits, '_', '-', '.')",
                                               s, parts[i]);

        if (n == 1 && is_known_os(parts[0])) {
                r = berth_platform_host(&p, err);
                if (r < 0)
                        return r;
                set_str(&p.os, parts[0]);
        } else if (n == 1) {
                p.os = strdup("linux");
                p.architecture = strdup(parts[0]);
        } else {
                p.os = strdup(parts[0]);
                p.architecture = strdup(parts[1]);
                if (n == 3)
                        p.variant = strdup(parts[2]);
        }
        if (!p.os || !p.architecture || (n == 3 && !p.variant) || platform_normalize(&p) < 0)
                return berth_error_set(err, ENOMEM, "platform `%s`: out of memory", s);
        *ret = p;
        p = (berth_platform){ 0 };
        return 0;
}

int berth_platform_host(berth_platform *ret, berth_error *err)
{
        _cleanup_(berth_platform_release) berth_platform p = { 0 };
        struct utsname u;

        *ret = (berth_platform){ 0 };
        if (uname(&u) < 0)
                return berth_error_sys(err, errno, "uname");
        p.os = strdup("linux");
        p.architecture = strdup(u.machine);
        if (!p.os || !p.architecture || platform_normalize(&p) < 0)
                return berth_error_set(err, ENOMEM, "host platform: out of memory");
        *ret = p;
        p = (berth_platform){ 0 };
        return 0;
}

char *berth_platform_string(const berth_platform *p)
{
        const char *os = p->os ? p->os : "unknown";
        const char *arch = p->architecture ? p->architecture : "unknown";
        char *s = NULL;
        int r;

        if (p->variant)
                r = asprintf(&s, "%s/%s/%s", os, arch, p->variant);
        else
                r = asprintf(&s, "%s/%s", os, arch);
        return r < 0 ? NULL : s;
}

bool berth_platform_match(const berth_platform *want, const berth_platform *have)
{
        int w, h;

        if (!want->os || !want->architecture || !streq_ptr(want->os, have->os) ||
            !streq_ptr(want->architecture, have->architecture))
                return false;
        if (!want->variant || !have->variant || strcmp(want->variant, have->variant) == 0)
                return true;
        /* An arm v8 machine runs v7 and v6 code; no such order elsewhere. */
        if (strcmp(want->architecture, "arm64") != 0 && strcmp(want->architecture, "arm") != 0)
                return false;
        w = variant_level(want->variant);
        h = variant_level(have->variant);
        return w >= 0 && h >= 0 && w >= h;
}

void berth_platform_release(berth_platform *p)
{
        if (!p)
                return;
        free(p->os);
        free(p->architecture);
        free(p->variant);
        free(p->os_version);
        *p = (berth_platform){ 0 };
}

/* ---------------------------------------------------------------- descriptors */

void berth_descriptor_release(berth_descriptor *d)
{
        if (!d)
                return;
        free(d->media_type);
        free(d->digest);
        strv_free(d->urls);
        if (d->annotations)
                json_object_put(d->annotations);
        if (d->platform) {
                berth_platform_release(d->platform);
                free(d->platform);
        }
        free(d->artifact_type);
        *d = (berth_descriptor){ 0 };
}

/* A non-negative 64-bit integer member (sizes, durations). */
int image_json_get_nonneg(json_object *obj, const char *key, const char *path, bool required,
                          int64_t *ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *v = NULL;
        int r;

        berth_json_path(vpath, sizeof(vpath), path, key);
        if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return berth_error_set(err, EINVAL, "%s: required field is missing", vpath);
                return 0;
        }
        r = berth_json_as_int64(v, vpath, 0, INT64_MAX, "a non-negative integer", ret, err);
        return r < 0 ? r : 1;
}

/* An object whose values are all strings (annotations, labels); *ret gets a new reference. */
int image_json_get_string_map(json_object *obj, const char *key, const char *path, bool allow_null,
                              json_object **ret, berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX], epath[BERTH_JSON_PATH_MAX];
        json_object *m = NULL;
        int r;

        r = berth_json_get_object(obj, key, path, false, &m, err);
        if (r <= 0)
                return r;
        berth_json_path(vpath, sizeof(vpath), path, key);
        json_object_object_foreach (m, k, v) {
                berth_json_path(epath, sizeof(epath), vpath, k);
                if (json_object_is_type(v, json_type_string)) {
                        if (strlen(json_object_get_string(v)) !=
                            (size_t)json_object_get_string_len(v))
                                return berth_error_set(err, EINVAL,
                                                       "%s: string contains a NUL byte", epath);
                        continue;
                }
                if (!allow_null || !json_object_is_type(v, json_type_null))
                        return berth_json_type_error(v, epath, "a string", err);
        }
        if (*ret)
                json_object_put(*ret);
        *ret = json_object_get(m);
        return 1;
}

static int platform_from_json(json_object *o, const char *path, berth_platform *p, berth_error *err)
{
        int r;

        r = berth_json_get_string(o, "architecture", path, true, &p->architecture, err);
        if (r >= 0)
                r = berth_json_get_string(o, "os", path, true, &p->os, err);
        if (r >= 0)
                r = berth_json_get_string(o, "variant", path, false, &p->variant, err);
        if (r >= 0)
                r = berth_json_get_string(o, "os.version", path, false, &p->os_version, err);
        return r < 0 ? r : 0;
}

static int descriptor_from_json(json_object *o, const char *path, berth_descriptor *d,
                                berth_error *err)
{
        char vpath[BERTH_JSON_PATH_MAX];
        json_object *po = NULL;
        size_t n = 0;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return berth_json_type_error(o, path, "an object", err);
        r = berth_json_get_string(o, "mediaType", path, true, &d->media_type, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "digest", path, true, &d->digest, err);
        if (r < 0)
                return r;
        if (berth_digest_validate(d->digest, err) < 0)
                return berth_error_prefix(err, "%s",
                                          berth_json_path(vpath, sizeof(vpath), path, "digest"));
        r = image_json_get_nonneg(o, "size", path, true, &d->size, err);
        if (r < 0)
                return r;
        r = berth_json_get_strv(o, "urls", path, false, URLS_MAX, &d->urls, &n, err);
        if (r < 0)
                return r;
        r = image_json_get_string_map(o, "annotations", path, false, &d->annotations, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "artifactType", path, false, &d->artifact_type, err);
        if (r < 0)
                return r;
        r = berth_json_get_object(o, "platform", path, false, &po, err);
        if (r <= 0)
                return r;
        d->platform = calloc(1, sizeof(*d->platform));
        if (!d->platform)
                return berth_error_set(err, ENOMEM, "%s: out of memory", path);
        return platform_from_json(po, berth_json_path(vpath, sizeof(vpath), path, "platform"),
                                  d->platform, err);
}

/* An array of descriptors at obj.key, at most max of them. */
static int descriptors_from_json(json_object *obj, const char *key, size_t max,
                                 berth_descriptor **ret, size_t *ret_n, berth_error *err)
{
        char epath[BERTH_JSON_PATH_MAX];
        json_object *a = NULL;
        size_t n;
        int r;

        r = berth_json_get_array(obj, key, "", true, max, &a, err);
        if (r < 0)
                return r;
        n = json_object_array_length(a);
        *ret = calloc(n ? n : 1, sizeof(**ret));
        if (!*ret)
                return berth_error_set(err, ENOMEM, "%s: out of memory", key);
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                berth_json_path_index(epath, sizeof(epath), key, i);
                r = descriptor_from_json(json_object_array_get_idx(a, i), epath, &(*ret)[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --------------------------------------------------------- manifests, indexes */

static const char *const schema1_types[] = {
        BERTH_MT_DOCKER_SCHEMA1,
        BERTH_MT_DOCKER_SCHEMA1_S,
};

static int schema1_error(berth_error *err)
{
        return berth_error_set(err, ENOTSUP,
                               "Docker schema 1 manifests are not supported (the image must be "
                               "pushed again with a current client)");
}

/* 1 and *ret set for a known type, 0 for an unknown one, -ENOTSUP for schema 1. */
static int kind_of_type(const char *mt, size_t n, berth_manifest_kind *ret, berth_error *err)
{
        static const struct {
                const char *type;
                berth_manifest_kind kind;
        } types[] = {
                { BERTH_MT_OCI_MANIFEST, BERTH_MANIFEST_KIND_IMAGE },
                { BERTH_MT_DOCKER_MANIFEST, BERTH_MANIFEST_KIND_IMAGE },
                { BERTH_MT_OCI_INDEX, BERTH_MANIFEST_KIND_INDEX },
                { BERTH_MT_DOCKER_LIST, BERTH_MANIFEST_KIND_INDEX },
        };

        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
                if (strlen(types[i].type) == n && strncasecmp(mt, types[i].type, n) == 0) {
                        *ret = types[i].kind;
                        return 1;
                }
        for (size_t i = 0; i < ARRAY_SIZE(schema1_types); i++)
                if (strlen(schema1_types[i]) == n && strncasecmp(mt, schema1_types[i], n) == 0)
                        return schema1_error(err);
        return 0;
}

int berth_manifest_kind_of(const char *media_type, const char *data, size_t len,
                           berth_manifest_kind *ret, berth_error *err)
{
        _cleanup_(json_putp) json_object *o = NULL;
        _cleanup_free_ char *doc_type = NULL;
        json_object *v = NULL;
        int32_t version = 0;
        size_t n = 0;
        int r;

        if (media_type) {
                /* A Content-Type may carry parameters and blanks: "type; charset=utf-8". */
                while (*media_type == ' ' || *media_type == '\t')
                        media_type++;
                n = strcspn(media_type, ";");
                while (n > 0 && (media_type[n - 1] == ' ' || media_type[n - 1] == '\t'))
                        n--;
                r = kind_of_type(media_type, n, ret, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }

        if (!data)
                return berth_error_set(err, EINVAL, "manifest: no document to tell its type from");
        if (len > BERTH_MANIFEST_MAX)
                return berth_error_set(err, E2BIG, "manifest: larger than %u bytes",
                                       BERTH_MANIFEST_MAX);
        r = berth_json_parse_object(data, len, "manifest", &o, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(o, "mediaType", "", false, &doc_type, err);
        if (r < 0)
                return berth_error_prefix(err, "manifest");
        if (doc_type) {
                r = kind_of_type(doc_type, strlen(doc_type), ret, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return berth_error_set(err, ENOTSUP,
                                               "manifest: unsupported media type `%s`", doc_type);
                return 0;
        }
        /* A wrong schemaVersion is the parser's to report; here only the shape counts. */
        r = berth_json_get_int32(o, "schemaVersion", "", false, &version, err);
        if (r < 0)
                berth_error_release(err);
        else if (r > 0 && version == 1)
                return schema1_error(err);
        if (json_object_object_get_ex(o, "manifests", &v)) {
                *ret = BERTH_MANIFEST_KIND_INDEX;
                return 0;
        }
        if (json_object_object_get_ex(o, "layers", &v)) {
                *ret = BERTH_MANIFEST_KIND_IMAGE;
                return 0;
        }
        if (n > 0)
                return berth_error_set(err, ENOTSUP, "manifest: unsupported media type `%.*s`",
                                       (int)n, media_type);
        return berth_error_set(err, EINVAL,
                               "manifest: neither an image manifest nor an index (it has no "
                               "\"layers\" and no \"manifests\")");
}

/* schemaVersion and mediaType, common to both documents; *ret_type defaults to the OCI type. */
static int check_header(json_object *o, berth_manifest_kind want, char **ret_type, berth_error *err)
{
        berth_manifest_kind kind;
        int32_t version = 0;
        int r;

        r = berth_json_get_string(o, "mediaType", "", false, ret_type, err);
        if (r < 0)
                return r;
        if (*ret_type) {
                r = kind_of_type(*ret_type, strlen(*ret_type), &kind, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return berth_error_set(err, ENOTSUP, "mediaType: unsupported type `%s`",
                                               *ret_type);
                if (kind != want)
                        return berth_error_set(err, EINVAL, "mediaType: `%s` is %s", *ret_type,
                                               want == BERTH_MANIFEST_KIND_IMAGE
                                                       ? "an index, not an image manifest"
                                                       : "an image manifest, not an index");
        }
        r = berth_json_get_int32(o, "schemaVersion", "", true, &version, err);
        if (r < 0)
                return r;
        if (version == 1)
                return schema1_error(err);
        if (version != 2)
                return berth_error_set(err, EINVAL, "schemaVersion: expected 2, got %d",
                                       (int)version);
        if (!*ret_type) {
                *ret_type = strdup(want == BERTH_MANIFEST_KIND_IMAGE ? BERTH_MT_OCI_MANIFEST
                                                                     : BERTH_MT_OCI_INDEX);
                if (!*ret_type)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int manifest_from_json(json_object *o, berth_manifest *m, berth_error *err)
{
        json_object *c = NULL;
        int r;

        r = check_header(o, BERTH_MANIFEST_KIND_IMAGE, &m->media_type, err);
        if (r < 0)
                return r;
        r = berth_json_get_object(o, "config", "", true, &c, err);
        if (r < 0)
                return r;
        r = descriptor_from_json(c, "config", &m->config, err);
        if (r < 0)
                return r;
        r = descriptors_from_json(o, "layers", BERTH_LAYERS_MAX, &m->layers, &m->n_layers, err);
        if (r < 0)
                return r;
        r = image_json_get_string_map(o, "annotations", "", false, &m->annotations, err);
        return r < 0 ? r : 0;
}

int berth_manifest_parse(const char *data, size_t len, const char *what, berth_manifest **ret,
                         berth_error *err)
{
        _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
        _cleanup_(json_putp) json_object *o = NULL;
        int r;

        *ret = NULL;
        if (len > BERTH_MANIFEST_MAX)
                return berth_error_set(err, E2BIG, "%s: larger than %u bytes", what,
                                       BERTH_MANIFEST_MAX);
        r = berth_json_parse_object(data, len, what, &o, err);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m)
                return berth_error_set(err, ENOMEM, "%s: out of memory", what);
        r = manifest_from_json(o, m, err);
        if (r < 0)
                return berth_error_prefix(err, "%s", what);
        *ret = TAKE_PTR(m);
        return 0;
}

void berth_manifest_free(berth_manifest *m)
{
        if (!m)
                return;
        free(m->media_type);
        berth_descriptor_release(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                berth_descriptor_release(&m->layers[i]);
        free(m->layers);
        if (m->annotations)
                json_object_put(m->annotations);
        free(m);
}

int berth_index_parse(const char *data, size_t len, const char *what, berth_index **ret,
                      berth_error *err)
{
        _cleanup_(berth_index_freep) berth_index *idx = NULL;
        _cleanup_(json_putp) json_object *o = NULL;
        int r;

        *ret = NULL;
        if (len > BERTH_MANIFEST_MAX)
                return berth_error_set(err, E2BIG, "%s: larger than %u bytes", what,
                                       BERTH_MANIFEST_MAX);
        r = berth_json_parse_object(data, len, what, &o, err);
        if (r < 0)
                return r;
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return berth_error_set(err, ENOMEM, "%s: out of memory", what);
        r = check_header(o, BERTH_MANIFEST_KIND_INDEX, &idx->media_type, err);
        if (r >= 0)
                r = descriptors_from_json(o, "manifests", INDEX_MANIFESTS_MAX, &idx->manifests,
                                          &idx->n_manifests, err);
        if (r >= 0)
                r = image_json_get_string_map(o, "annotations", "", false, &idx->annotations, err);
        if (r < 0)
                return berth_error_prefix(err, "%s", what);
        *ret = TAKE_PTR(idx);
        return 0;
}

void berth_index_free(berth_index *idx)
{
        if (!idx)
                return;
        free(idx->media_type);
        for (size_t i = 0; i < idx->n_manifests; i++)
                berth_descriptor_release(&idx->manifests[i]);
        free(idx->manifests);
        if (idx->annotations)
                json_object_put(idx->annotations);
        free(idx);
}

static bool is_attestation(const berth_descriptor *d)
{
        json_object *v = NULL;

        if (d->annotations &&
            json_object_object_get_ex(d->annotations, "vnd.docker.reference.type", &v) &&
            json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), "attestation-manifest") == 0)
                return true;
        return d->platform && streq_ptr(d->platform->os, "unknown") &&
               streq_ptr(d->platform->architecture, "unknown");
}

/* "linux/amd64, linux/arm64/v8" for the ENOENT message; NULL when out of memory. */
static char *offered_platforms(const berth_index *idx)
{
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        for (size_t i = 0; i < idx->n_manifests; i++) {
                const berth_descriptor *d = &idx->manifests[i];
                _cleanup_free_ char *s = NULL;
                char *grown;
                size_t n;

                if (!d->platform || is_attestation(d))
                        continue;
                s = berth_platform_string(d->platform);
                if (!s)
                        return NULL;
                n = strlen(s);
                grown = realloc(list, len + n + 3);
                if (!grown)
                        return NULL;
                list = grown;
                if (len) {
                        memcpy(list + len, ", ", 2);
                        len += 2;
                }
                memcpy(list + len, s, n + 1);
                len += n;
        }
        return list ? TAKE_PTR(list) : strdup("no platforms");
}

/*
 * How good a compatible, not exact, entry is (higher is better). With a
 * variant asked for, the newest that runs; an unset one ranks last. With
 * none asked for (amd64 on a machine of unknown level), the oldest, as it
 * is the one most likely to run.
 */
static int variant_rank(const berth_platform *want, const berth_platform *have)
{
        int level = have->variant ? variant_level(have->variant) : -1;

        if (want->variant)
                return level;
        return level < 0 ? -INT_MAX : -level;
}

int berth_index_select(const berth_index *idx, const berth_platform *want,
                       const berth_descriptor **ret, berth_error *err)
{
        const berth_descriptor *best = NULL;
        _cleanup_free_ char *want_s = NULL, *offered = NULL;
        int best_rank = INT_MIN;

        *ret = NULL;
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const berth_descriptor *d = &idx->manifests[i];
                int rank;

                if (!d->platform || is_attestation(d) || !berth_platform_match(want, d->platform))
                        continue;
                if (streq_ptr(want->variant, d->platform->variant)) {
                        *ret = d;
                        return 0;
                }
                rank = variant_rank(want, d->platform);
                if (rank > best_rank) {
                        best = d;
                        best_rank = rank;
                }
        }
        if (best) {
                *ret = best;
                return 0;
        }
        want_s = berth_platform_string(want);
        offered = offered_platforms(idx);
        if (!want_s || !offered)
                return berth_error_set(err, ENOENT, "no image for the platform in the index");
        return berth_error_set(err, ENOENT, "no image for %s in index (has %s)", want_s, offered);
}

int berth_layer_media_type(const char *media_type, berth_compression *ret, berth_error *err)
{
        static const struct {
                const char *type;
                berth_compression compression;
        } types[] = {
                { BERTH_MT_OCI_LAYER, BERTH_COMPRESSION_NONE },
                { BERTH_MT_OCI_LAYER_GZIP, BERTH_COMPRESSION_GZIP },
                { BERTH_MT_OCI_LAYER_ZSTD, BERTH_COMPRESSION_ZSTD },
                { BERTH_MT_OCI_LAYER_ND, BERTH_COMPRESSION_NONE },
                { BERTH_MT_OCI_LAYER_ND_GZ, BERTH_COMPRESSION_GZIP },
                { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                  BERTH_COMPRESSION_ZSTD },
                { BERTH_MT_DOCKER_LAYER, BERTH_COMPRESSION_GZIP },
                { BERTH_MT_DOCKER_LAYER_TAR, BERTH_COMPRESSION_NONE },
                { BERTH_MT_DOCKER_FOREIGN, BERTH_COMPRESSION_GZIP },
        };

        if (!media_type || !*media_type)
                return berth_error_set(err, ENOTSUP, "layer has no media type");
        for (size_t i = 0; i < ARRAY_SIZE(types); i++)
                if (strcmp(media_type, types[i].type) == 0) {
                        *ret = types[i].compression;
                        return 0;
                }
        return berth_error_set(err, ENOTSUP, "layer media type `%s` is not supported", media_type);
}
