/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for what a registry or an archive hands us: the same
 * bytes go to berth_manifest_kind_of, the manifest, index and image config
 * parsers, and the first line to the reference and platform parsers.
 * Besides crashes, leaks and undefined behaviour it checks the contracts:
 * on failure nothing is returned and the error has a message; on success
 * the bounds hold, digests are valid, and re-serialising an image config
 * or a reference gives something that parses to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* First lines longer than this are not references anyone types. */
#define LINE_MAX_LEN 1024

static void check_error(int r, const berth_error *err)
{
        if (r >= 0 || !err->msg || err->code < 0)
                abort();
}

static void check_strv(char **v, size_t n)
{
        if (n && !v)
                abort();
        if (v && v[n])
                abort();
}

static void check_descriptor(const berth_descriptor *d)
{
        if (!d->media_type || !d->digest || d->size < 0 || berth_digest_validate(d->digest, NULL))
                abort();
        if (d->platform && (!d->platform->os || !d->platform->architecture))
                abort();
}

static void fuzz_manifest(const char *data, size_t size)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest *m = NULL;
        int r;

        r = berth_manifest_parse(data, size, "manifest", &m, &err);
        if (r < 0) {
                check_error(r, &err);
                if (m)
                        abort();
        } else {
                if (!m->media_type || m->n_layers > BERTH_LAYERS_MAX)
                        abort();
                check_descriptor(&m->config);
                for (size_t i = 0; i < m->n_layers; i++) {
                        berth_compression c;
                        check_descriptor(&m->layers[i]);
                        if (berth_layer_media_type(m->layers[i].media_type, &c, &err) < 0)
                                berth_error_release(&err);
                }
        }
        berth_manifest_free(m);
        berth_error_release(&err);
}

static void fuzz_index(const char *data, size_t size)
{
        static const char *const wants[] = { "linux/amd64", "linux/arm/v7", "arm64" };
        berth_error err = BERTH_ERROR_INIT;
        berth_index *idx = NULL;
        int r;

        r = berth_index_parse(data, size, "index", &idx, &err);
        if (r < 0) {
                check_error(r, &err);
                if (idx)
                        abort();
                berth_error_release(&err);
                return;
        }
        for (size_t i = 0; i < idx->n_manifests; i++)
                check_descriptor(&idx->manifests[i]);
        for (size_t i = 0; i < sizeof(wants) / sizeof(*wants); i++) {
                const berth_descriptor *d = NULL;
                berth_platform want;

                if (berth_platform_parse(wants[i], &want, &err) < 0)
                        abort();
                r = berth_index_select(idx, &want, &d, &err);
                if (r < 0)
                        check_error(r, &err);
                else if (!d || !d->platform || !berth_platform_match(&want, d->platform))
                        abort();
                berth_platform_release(&want);
                berth_error_release(&err);
        }
        berth_index_free(idx);
}

static char *config_round(const char *json, berth_error *err)
{
        berth_image_config *c = NULL;
        char *out;

        if (berth_image_config_parse(json, strlen(json), "again", &c, err) < 0)
                abort();
        out = berth_image_config_to_json(c);
        berth_image_config_free(c);
        return out;
}

static void fuzz_config(const char *data, size_t size)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_image_config *c = NULL;
        char *j1, *j2, *j3;
        int r;

        r = berth_image_config_parse(data, size, "config", &c, &err);
        if (r < 0) {
                check_error(r, &err);
                if (c)
                        abort();
                berth_error_release(&err);
                return;
        }
        check_strv(c->diff_ids, c->n_diff_ids);
        if (c->n_diff_ids > BERTH_LAYERS_MAX || !c->architecture || !c->os || !c->raw)
                abort();
        if (c->n_diff_ids > 0) {
                char(*chain)[BERTH_DIGEST_STR_MAX] = calloc(c->n_diff_ids, sizeof(*chain));
                if (!chain)
                        abort();
                berth_chain_ids(c->diff_ids, c->n_diff_ids, chain);
                for (size_t i = 0; i < c->n_diff_ids; i++)
                        if (berth_digest_validate(chain[i], NULL) < 0)
                                abort();
                free(chain);
        }

        /* What we write must parse; after one round (invalid UTF-8 became U+FFFD) it is stable. */
        j1 = berth_image_config_to_json(c);
        if (!j1)
                abort();
        j2 = config_round(j1, &err);
        j3 = config_round(j2, &err);
        if (strcmp(j2, j3) != 0)
                abort();
        free(j1);
        free(j2);
        free(j3);
        berth_image_config_free(c);
}

static void fuzz_reference(const char *line)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_reference ref, again;
        char *s, *f, *s2;
        int r;

        r = berth_reference_parse(line, BERTH_REFERENCE_DEFAULT_TAG_FLAG, &ref, &err);
        if (r < 0) {
                check_error(r, &err);
                if (ref.domain || ref.path || ref.tag || ref.digest)
                        abort();
                berth_error_release(&err);
                return;
        }
        if (!ref.domain || !ref.path || (!ref.tag && !ref.digest))
                abort();
        s = berth_reference_string(&ref);
        f = berth_reference_familiar(&ref);
        if (!s || !f)
                abort();
        /* Both the full and the familiar form name the same reference. */
        if (berth_reference_parse(s, 0, &again, &err) < 0)
                abort();
        s2 = berth_reference_string(&again);
        if (strcmp(s, s2) != 0)
                abort();
        free(s2);
        berth_reference_release(&again);
        if (berth_reference_parse(f, 0, &again, &err) < 0)
                abort();
        s2 = berth_reference_string(&again);
        if (strcmp(s, s2) != 0)
                abort();
        free(s2);
        berth_reference_release(&again);
        free(s);
        free(f);
        berth_reference_release(&ref);
}

static void fuzz_platform(const char *line)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_platform p, again;
        char *s, *s2;
        int r;

        r = berth_platform_parse(line, &p, &err);
        if (r < 0) {
                check_error(r, &err);
                berth_error_release(&err);
                return;
        }
        /* Normalising is idempotent, and a platform matches itself. */
        s = berth_platform_string(&p);
        if (!s || berth_platform_parse(s, &again, &err) < 0)
                abort();
        s2 = berth_platform_string(&again);
        if (strcmp(s, s2) != 0 || !berth_platform_match(&p, &again))
                abort();
        free(s);
        free(s2);
        berth_platform_release(&again);
        berth_platform_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *doc = (const char *)data;
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest_kind kind;
        const uint8_t *nl;
        char line[LINE_MAX_LEN + 1];
        size_t n;
        int r;

        r = berth_manifest_kind_of(NULL, doc, size, &kind, &err);
        if (r < 0)
                check_error(r, &err);
        else if (kind != BERTH_MANIFEST_KIND_IMAGE && kind != BERTH_MANIFEST_KIND_INDEX)
                abort();
        berth_error_release(&err);

        fuzz_manifest(doc, size);
        fuzz_index(doc, size);
        fuzz_config(doc, size);

        nl = memchr(data, '\n', size);
        n = nl ? (size_t)(nl - data) : size;
        if (n <= LINE_MAX_LEN && !memchr(data, '\0', n)) {
                memcpy(line, data, n);
                line[n] = '\0';
                fuzz_reference(line);
                fuzz_platform(line);
        }
        return 0;
}
