/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth save (image-archive.h): plan every entry of the archive first (which
 * images, which blobs, the JSON documents, layers that need rebuilding),
 * so that a missing image or layer fails before the first byte is
 * written; then write the entries in name order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/strv.h"
#include "image/archive-internal.h"
#include "image/image-archive.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/reference.h"

enum out_kind {
        OUT_MEM,          /* data, built here */
        OUT_BLOB,         /* a stored blob, exactly */
        OUT_UNCOMPRESSED, /* a stored blob, decompressed; must hash to `expect` */
        OUT_FD,           /* a rebuilt layer tar in a temporary file */
};

struct out_entry {
        char *name;
        enum out_kind kind;
        char *data; /* OUT_MEM */
        char digest[BERTH_DIGEST_STR_MAX];
        char expect[BERTH_DIGEST_STR_MAX];
        uint64_t size;
        int fd;
};

struct save_image {
        berth_image img;
        char **names; /* normalised names to write, in the order given */
        char *config;
        size_t config_len;
        berth_image_config *cfg;
};

struct save {
        berth_store *s;
        berth_archive_format format;
        struct save_image *images;
        size_t n_images;
        struct out_entry *out;
        size_t n_out;
        json_object *index_manifests; /* index.json's "manifests" */
};

static void save_release(struct save *sv)
{
        for (size_t i = 0; i < sv->n_images; i++) {
                berth_image_release(&sv->images[i].img);
                strv_free(sv->images[i].names);
                free(sv->images[i].config);
                berth_image_config_free(sv->images[i].cfg);
        }
        free(sv->images);
        for (size_t i = 0; i < sv->n_out; i++) {
                free(sv->out[i].name);
                free(sv->out[i].data);
                closep(&sv->out[i].fd);
        }
        free(sv->out);
        json_putp(&sv->index_manifests);
}

/* ---- which images ---- */

/* Adds image id (with name, when not NULL) to the save, once per image. */
static int add_image(struct save *sv, const char *id, const char *name, berth_error *err)
{
        struct save_image *si = NULL, *n;
        int r;

        for (size_t i = 0; i < sv->n_images; i++)
                if (strcmp(sv->images[i].img.id, id) == 0)
                        si = &sv->images[i];
        if (!si) {
                n = realloc(sv->images, (sv->n_images + 1) * sizeof(*n));
                if (!n)
                        return berth_error_set(err, ENOMEM, "out of memory");
                sv->images = n;
                si = &sv->images[sv->n_images];
                *si = (struct save_image){ 0 };
                r = berth_store_image_get(sv->s, id, &si->img, err);
                if (r < 0)
                        return r;
                sv->n_images++;
        }
        if (name && berth_strv_push_unique(&si->names, name) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

/* A bare repository ("busybox"): every tag of it. Returns how many names were added. */
static int add_repository(struct save *sv, const berth_reference *ref, berth_error *err)
{
        _cleanup_free_ char *repo = berth_reference_repository(ref);
        berth_image *all = NULL;
        size_t n_all = 0, len;
        int r, found = 0;

        if (!repo)
                return berth_error_set(err, ENOMEM, "out of memory");
        len = strlen(repo);
        r = berth_store_image_list(sv->s, &all, &n_all, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_all && r >= 0; i++)
                for (char **nm = all[i].names; nm && *nm && r >= 0; nm++)
                        if (strncmp(*nm, repo, len) == 0 && (*nm)[len] == ':') {
                                r = add_image(sv, all[i].id, *nm, err);
                                found++;
                        }
        berth_images_free(all, n_all);
        return r < 0 ? r : found;
}

static int add_ref(struct save *sv, const char *s_ref, berth_error *err)
{
        berth_reference ref = { 0 };
        berth_error e = BERTH_ERROR_INIT;
        berth_image img = { 0 };
        _cleanup_free_ char *full = NULL;
        bool parsed;
        int r;

        parsed = berth_reference_parse(s_ref, 0, &ref, &e) >= 0;
        berth_error_release(&e);
        if (parsed && !ref.tag && !ref.digest) {
                r = add_repository(sv, &ref, err);
                if (r != 0) {
                        berth_reference_release(&ref);
                        return r < 0 ? r : 0;
                }
        }
        if (parsed && ref.tag && !ref.digest)
                full = berth_reference_string(&ref);
        berth_reference_release(&ref);
        r = berth_store_image_find(sv->s, s_ref, &img, err);
        if (r < 0)
                return r;
        /* A name only when the image was found by it (not by an ID that looks like one). */
        bool named = false;
        for (char **nm = img.names; full && nm && *nm; nm++)
                if (strcmp(*nm, full) == 0)
                        named = true;
        r = add_image(sv, img.id, named ? full : NULL, err);
        berth_image_release(&img);
        return r;
}

/* ---- the entries ---- */

static struct out_entry *out_find(struct save *sv, const char *name)
{
        for (size_t i = 0; i < sv->n_out; i++)
                if (strcmp(sv->out[i].name, name) == 0)
                        return &sv->out[i];
        return NULL;
}

/* A new entry named name, or NULL (with *ret_dup) when there is one already. */
static int out_add(struct save *sv, const char *name, struct out_entry **ret, berth_error *err)
{
        struct out_entry *n;

        *ret = NULL;
        if (out_find(sv, name))
                return 0;
        n = realloc(sv->out, (sv->n_out + 1) * sizeof(*n));
        if (!n)
                return berth_error_set(err, ENOMEM, "out of memory");
        sv->out = n;
        n = &sv->out[sv->n_out];
        *n = (struct out_entry){ .fd = -1, .name = strdup(name) };
        if (!n->name)
                return berth_error_set(err, ENOMEM, "out of memory");
        sv->n_out++;
        *ret = n;
        return 1;
}

static void blob_name(const char *digest, char *buf, size_t len)
{
        snprintf(buf, len, "blobs/sha256/%s", berth_digest_hex(digest));
}

static int out_blob(struct save *sv, const char *digest, berth_error *err)
{
        _cleanup_close_ int fd = -1;
        struct out_entry *e;
        struct stat st;
        char name[128];
        int r;

        blob_name(digest, name, sizeof(name));
        r = out_add(sv, name, &e, err);
        if (r <= 0)
                return r;
        fd = berth_store_blob_open(sv->s, digest, err);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return berth_error_sys(err, errno, "stat blob %s", digest);
        e->kind = OUT_BLOB;
        e->size = (uint64_t)st.st_size;
        snprintf(e->digest, sizeof(e->digest), "%s", digest);
        return 0;
}

/* A JSON document as a blob; its digest and size go to the caller. */
static int out_json_blob(struct save *sv, json_object *o, char digest[BERTH_DIGEST_STR_MAX],
                         uint64_t *ret_size, berth_error *err)
{
        _cleanup_free_ char *data = archive_json_string(o);
        struct out_entry *e;
        char name[128];
        int r;

        if (!data)
                return berth_error_set(err, ENOMEM, "out of memory");
        berth_digest_buffer(data, strlen(data), digest);
        *ret_size = strlen(data);
        blob_name(digest, name, sizeof(name));
        r = out_add(sv, name, &e, err);
        if (r <= 0)
                return r;
        e->kind = OUT_MEM;
        e->size = *ret_size;
        e->data = TAKE_PTR(data);
        return 0;
}

static int out_mem(struct save *sv, const char *name, char *data, berth_error *err)
{
        struct out_entry *e;
        int r = out_add(sv, name, &e, err);

        if (r <= 0) {
                free(data);
                return r;
        }
        e->kind = OUT_MEM;
        e->size = strlen(data);
        e->data = data;
        return 0;
}

/*
 * A layer rebuilt from its unpacked directory, into a temporary file; only
 * used when it has the digest `want` (the diff_id, or the blob digest of
 * an uncompressed blob), since anything else would not match the config.
 */
static int rebuild_layer(struct save *sv, const berth_image_layer *l, const char *want, int *ret_fd,
                         uint64_t *ret_size, berth_error *err)
{
        _cleanup_free_ char *path = berth_store_layer_path(sv->s, l->chain_id), *tmp = NULL;
        _cleanup_close_ int dirfd = -1, fd = -1;
        berth_layer_stats stats = { 0 };
        int r;

        if (!path || asprintf(&tmp, "%s/blobs/tmp", berth_store_root(sv->s)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return berth_error_sys(err, errno, "layer %s: open `%s`", l->diff_id, path);
        fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error_sys(err, errno, "layer %s: temporary file in `%s`", l->diff_id,
                                       tmp);
        r = berth_layer_write_tar(dirfd, fd, &stats, err);
        if (r < 0)
                return berth_error_prefix(err, "layer %s", l->diff_id);
        if (strcmp(stats.diff_id, want) != 0)
                return berth_error_set(err, EBADMSG,
                                       "layer %s: its blob %s is not in the store, and the tar "
                                       "rebuilt from its files has digest %s: refusing to write an "
                                       "archive that does not match the image",
                                       l->diff_id, l->blob_digest, stats.diff_id);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return berth_error_sys(err, errno, "layer %s: rewind", l->diff_id);
        *ret_fd = TAKE_FD(fd);
        *ret_size = stats.tar_bytes;
        return 0;
}

/* docker-archive: the layer as the uncompressed tar named by its diff_id. */
static int plan_docker_layer(struct save *sv, const berth_image_layer *l, berth_error *err)
{
        struct out_entry *e;
        berth_compression comp;
        char name[128];
        int r;

        blob_name(l->diff_id, name, sizeof(name));
        if (out_find(sv, name))
                return 0;
        if (!berth_store_has_blob(sv->s, l->blob_digest)) {
                int fd = -1;
                uint64_t size = 0;
                r = rebuild_layer(sv, l, l->diff_id, &fd, &size, err);
                if (r < 0)
                        return r;
                r = out_add(sv, name, &e, err);
                if (r < 0) {
                        close(fd);
                        return r;
                }
                e->kind = OUT_FD;
                e->fd = fd;
                e->size = size;
                snprintf(e->expect, sizeof(e->expect), "%s", l->diff_id);
                return 0;
        }
        r = berth_layer_media_type(l->blob_media_type, &comp, err);
        if (r < 0)
                return berth_error_prefix(err, "layer %s", l->blob_digest);
        (void)comp; /* known: the stream's magic bytes tell the decompressor */
        if (strcmp(l->blob_digest, l->diff_id) == 0)
                return out_blob(sv, l->blob_digest, err);
        r = out_add(sv, name, &e, err);
        if (r < 0)
                return r;
        e->kind = OUT_UNCOMPRESSED;
        e->size = l->size;
        snprintf(e->digest, sizeof(e->digest), "%s", l->blob_digest);
        snprintf(e->expect, sizeof(e->expect), "%s", l->diff_id);
        return 0;
}

/* oci-archive: the layer's blob exactly as stored. */
static int plan_oci_layer(struct save *sv, const berth_image_layer *l, berth_error *err)
{
        struct out_entry *e;
        char name[128];
        int fd = -1, r;
        uint64_t size = 0;

        if (berth_store_has_blob(sv->s, l->blob_digest))
                return out_blob(sv, l->blob_digest, err);
        blob_name(l->blob_digest, name, sizeof(name));
        if (out_find(sv, name))
                return 0;
        /* Only an uncompressed blob can be rebuilt with its digest. */
        if (strcmp(l->blob_digest, l->diff_id) != 0)
                return berth_error_set(err, ENOENT,
                                       "layer %s: its blob %s is not in the store, so its exact "
                                       "bytes cannot be written (save as docker-archive instead)",
                                       l->diff_id, l->blob_digest);
        r = rebuild_layer(sv, l, l->blob_digest, &fd, &size, err);
        if (r < 0)
                return r;
        r = out_add(sv, name, &e, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        e->kind = OUT_FD;
        e->fd = fd;
        e->size = size;
        snprintf(e->expect, sizeof(e->expect), "%s", l->blob_digest);
        return 0;
}

static int json_add_string(json_object *o, const char *key, const char *v)
{
        json_object *s = json_object_new_string(v);
        if (!s || json_object_object_add(o, key, s) < 0) {
                json_object_put(s);
                return -ENOMEM;
        }
        return 0;
}

static int json_add_int(json_object *o, const char *key, int64_t v)
{
        json_object *i = json_object_new_int64(v);
        if (!i || json_object_object_add(o, key, i) < 0) {
                json_object_put(i);
                return -ENOMEM;
        }
        return 0;
}

static json_object *descriptor(const char *media_type, const char *digest, uint64_t size)
{
        json_object *d = json_object_new_object();

        if (!d || json_add_string(d, "mediaType", media_type) < 0 ||
            json_add_string(d, "digest", digest) < 0 ||
            json_add_int(d, "size", (int64_t)size) < 0) {
                json_object_put(d);
                return NULL;
        }
        return d;
}

/* One index.json entry per name (one without annotations for an unnamed image). */
static int index_entries(struct save *sv, const struct save_image *si, const char *media_type,
                         const char *digest, uint64_t size, berth_error *err)
{
        size_t n = 0;

        while (si->names && si->names[n])
                n++;
        for (size_t i = 0; i < (n ? n : 1); i++) {
                _cleanup_(json_putp) json_object *d = descriptor(media_type, digest, size);
                json_object *ann = NULL, *plat = NULL;
                berth_reference ref = { 0 };
                berth_error e = BERTH_ERROR_INIT;

                if (!d)
                        return berth_error_set(err, ENOMEM, "out of memory");
                if (n) {
                        if (berth_reference_parse(si->names[i], 0, &ref, &e) < 0) {
                                berth_error_release(err);
                                *err = e;
                                return berth_error_prefix(err, "image %s", si->img.id);
                        }
                        ann = json_object_new_object();
                        int r = !ann ? -ENOMEM : 0;
                        if (r == 0)
                                json_object_object_add(d, "annotations", ann);
                        if (r < 0 ||
                            json_add_string(ann, "io.containerd.image.name", si->names[i]) < 0 ||
                            json_add_string(ann, "org.opencontainers.image.ref.name",
                                            ref.tag ? ref.tag : "latest") < 0) {
                                berth_reference_release(&ref);
                                return berth_error_set(err, ENOMEM, "out of memory");
                        }
                        berth_reference_release(&ref);
                }
                if (si->cfg->os && si->cfg->architecture) {
                        plat = json_object_new_object();
                        if (!plat || json_object_object_add(d, "platform", plat) < 0 ||
                            json_add_string(plat, "architecture", si->cfg->architecture) < 0 ||
                            json_add_string(plat, "os", si->cfg->os) < 0 ||
                            (si->cfg->variant &&
                             json_add_string(plat, "variant", si->cfg->variant) < 0))
                                return berth_error_set(err, ENOMEM, "out of memory");
                }
                if (json_object_array_add(sv->index_manifests, TAKE_PTR(d)) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

/* docker-archive: config, layers, an OCI manifest of uncompressed layers; its manifest.json item.
 */
static int plan_docker_image(struct save *sv, struct save_image *si, json_object *manifest_json,
                             json_object *repositories, berth_error *err)
{
        _cleanup_(json_putp) json_object *m = json_object_new_object(), *item = NULL;
        json_object *layers = json_object_new_array(), *paths = json_object_new_array(), *cd;
        char digest[BERTH_DIGEST_STR_MAX], name[128];
        uint64_t size = 0;
        int r;

        if (!m || !layers || !paths) {
                json_object_put(layers);
                json_object_put(paths);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        item = json_object_new_object();
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_add_string(m, "mediaType", BERTH_MT_OCI_MANIFEST);
        cd = descriptor(BERTH_MT_OCI_CONFIG, si->img.id, si->config_len);
        json_object_object_add(m, "config", cd);
        json_object_object_add(m, "layers", layers);
        if (!item || !cd)
                return berth_error_set(err, ENOMEM, "out of memory");
        blob_name(si->img.id, name, sizeof(name));
        json_add_string(item, "Config", name);
        r = out_blob(sv, si->img.id, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < si->img.n_layers; i++) {
                const berth_image_layer *l = &si->img.layers[i];
                r = plan_docker_layer(sv, l, err);
                if (r < 0)
                        return r;
                blob_name(l->diff_id, name, sizeof(name));
                struct out_entry *e = out_find(sv, name);
                json_object *d = descriptor(BERTH_MT_OCI_LAYER, l->diff_id, e->size);
                if (!d || json_object_array_add(layers, d) < 0 ||
                    json_object_array_add(paths, json_object_new_string(name)) < 0) {
                        json_object_put(d);
                        json_object_put(paths);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
        }
        r = out_json_blob(sv, m, digest, &size, err);
        if (r < 0) {
                json_object_put(paths);
                return r;
        }
        r = index_entries(sv, si, BERTH_MT_OCI_MANIFEST, digest, size, err);
        if (r < 0) {
                json_object_put(paths);
                return r;
        }

        json_object *tags = NULL;
        for (size_t i = 0; si->names && si->names[i]; i++) {
                _cleanup_free_ char *familiar = archive_familiar_name(si->names[i]);
                char *colon;
                if (!familiar)
                        continue;
                if (!tags)
                        tags = json_object_new_array();
                json_object_array_add(tags, json_object_new_string(familiar));
                /* repositories: {"busybox":{"latest":"<top layer>"}}, as docker writes it */
                colon = strrchr(familiar, ':');
                if (colon && si->img.n_layers > 0) {
                        json_object *tagmap = NULL;
                        *colon = '\0';
                        if (!json_object_object_get_ex(repositories, familiar, &tagmap)) {
                                tagmap = json_object_new_object();
                                json_object_object_add(repositories, familiar, tagmap);
                        }
                        json_add_string(
                                tagmap, colon + 1,
                                berth_digest_hex(si->img.layers[si->img.n_layers - 1].diff_id));
                }
        }
        json_object_object_add(item, "RepoTags", tags);
        json_object_object_add(item, "Layers", paths);
        if (json_object_array_add(manifest_json, TAKE_PTR(item)) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

/* oci-archive: the image's own manifest, config and layer blobs. */
static int plan_oci_image(struct save *sv, struct save_image *si, berth_error *err)
{
        char name[128];
        struct out_entry *e;
        int r;

        r = out_blob(sv, si->img.manifest_digest, err);
        if (r < 0)
                return berth_error_prefix(err, "image %s: manifest", si->img.id);
        r = out_blob(sv, si->img.id, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < si->img.n_layers; i++) {
                r = plan_oci_layer(sv, &si->img.layers[i], err);
                if (r < 0)
                        return r;
        }
        blob_name(si->img.manifest_digest, name, sizeof(name));
        e = out_find(sv, name);
        return index_entries(sv, si, si->img.manifest_media_type, si->img.manifest_digest, e->size,
                             err);
}

/* Go's encoding/json writes map keys sorted: repositories is a map of maps. */
static char *sorted_map_json(json_object *o)
{
        _cleanup_(json_putp) json_object *sorted = json_object_new_object();
        size_t n = 0, i = 0;
        const char **keys;

        if (!sorted)
                return NULL;
        json_object_object_foreach (o, k0, v0) {
                (void)k0, (void)v0;
                n++;
        }
        keys = calloc(n ? n : 1, sizeof(*keys));
        if (!keys)
                return NULL;
        json_object_object_foreach (o, k, v) {
                (void)v;
                keys[i++] = k;
        }
        for (size_t a = 1; a < n; a++)
                for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
                        const char *t = keys[b];
                        keys[b] = keys[b - 1];
                        keys[b - 1] = t;
                }
        for (i = 0; i < n; i++) {
                json_object *val = NULL;
                json_object_object_get_ex(o, keys[i], &val);
                if (json_object_is_type(val, json_type_object)) {
                        _cleanup_free_ char *inner = sorted_map_json(val);
                        if (!inner) {
                                free(keys);
                                return NULL;
                        }
                        json_object_object_add(sorted, keys[i], json_tokener_parse(inner));
                } else {
                        json_object_object_add(sorted, keys[i], json_object_get(val));
                }
        }
        free(keys);
        return archive_json_string(sorted);
}

static int with_newline(char *s, char **ret)
{
        if (!s)
                return -ENOMEM;
        if (asprintf(ret, "%s\n", s) < 0) {
                free(s);
                return -ENOMEM;
        }
        free(s);
        return 0;
}

static int plan(struct save *sv, berth_error *err)
{
        _cleanup_(json_putp) json_object *manifest_json = json_object_new_array(),
                                         *repositories = json_object_new_object(),
                                         *index = json_object_new_object();
        char *doc = NULL;
        int r;

        sv->index_manifests = json_object_new_array();
        if (!manifest_json || !repositories || !index || !sv->index_manifests)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < sv->n_images; i++) {
                struct save_image *si = &sv->images[i];
                char what[128];

                r = berth_store_blob_read(sv->s, si->img.id, BERTH_CONFIG_MAX, &si->config,
                                          &si->config_len, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "config %s", si->img.id);
                r = berth_image_config_parse(si->config, si->config_len, what, &si->cfg, err);
                if (r < 0)
                        return r;
                if (sv->format == BERTH_ARCHIVE_DOCKER)
                        r = plan_docker_image(sv, si, manifest_json, repositories, err);
                else
                        r = plan_oci_image(sv, si, err);
                if (r < 0)
                        return r;
        }

        json_object_object_add(index, "schemaVersion", json_object_new_int(2));
        json_add_string(index, "mediaType", BERTH_MT_OCI_INDEX);
        json_object_object_add(index, "manifests", json_object_get(sv->index_manifests));
        doc = archive_json_string(index);
        if (!doc || out_mem(sv, "index.json", doc, err) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        doc = strdup("{\"imageLayoutVersion\":\"1.0.0\"}");
        if (!doc || out_mem(sv, "oci-layout", doc, err) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (sv->format != BERTH_ARCHIVE_DOCKER)
                return 0;
        /* Go's json.Encoder, which docker writes these two with, ends them with a newline. */
        if (with_newline(archive_json_string(manifest_json), &doc) < 0 ||
            out_mem(sv, "manifest.json", doc, err) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (json_object_object_length(repositories) > 0) {
                if (with_newline(sorted_map_json(repositories), &doc) < 0 ||
                    out_mem(sv, "repositories", doc, err) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

/* ---- writing ---- */

struct tee {
        struct archive *a;
        berth_hasher *h;
        uint64_t written, size;
        const char *name;
};

static int tee_sink(void *userdata, const void *buf, size_t len, berth_error *err)
{
        struct tee *t = userdata;

        if (t->written + len > t->size)
                return berth_error_set(err, EBADMSG,
                                       "entry `%s`: more than the %llu bytes the layer has",
                                       t->name, (unsigned long long)t->size);
        berth_hasher_update(t->h, buf, len);
        t->written += len;
        return archive_tar_data(t->a, buf, len, err);
}

static int copy_fd(struct tee *t, int fd, berth_error *err)
{
        _cleanup_free_ char *buf = malloc(ARCHIVE_COPY_BUF);

        if (!buf)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (;;) {
                ssize_t n = read(fd, buf, ARCHIVE_COPY_BUF);
                int r;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error_sys(err, errno, "entry `%s`: read", t->name);
                if (n == 0)
                        return 0;
                r = tee_sink(t, buf, (size_t)n, err);
                if (r < 0)
                        return r;
        }
}

static int write_entry(struct save *sv, struct archive *a, struct out_entry *e, berth_error *err)
{
        _cleanup_(berth_hasher_freep) berth_hasher *h = berth_hasher_new();
        struct tee t = { .a = a, .h = h, .size = e->size, .name = e->name };
        char got[BERTH_DIGEST_STR_MAX];
        int r;

        if (!h)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = archive_tar_begin(a, e->name, e->size, err);
        if (r < 0)
                return r;
        switch (e->kind) {
        case OUT_MEM:
                return archive_tar_data(a, e->data, e->size, err);
        case OUT_BLOB: {
                _cleanup_close_ int fd = berth_store_blob_open(sv->s, e->digest, err);
                if (fd < 0)
                        return fd;
                r = copy_fd(&t, fd, err);
                break;
        }
        case OUT_UNCOMPRESSED:
                r = archive_blob_uncompressed(sv->s, e->digest, e->size + 1, tee_sink, &t, NULL,
                                              err);
                break;
        case OUT_FD:
                r = copy_fd(&t, e->fd, err);
                break;
        }
        if (r < 0)
                return r;
        if (t.written != e->size)
                return berth_error_set(err, EBADMSG, "entry `%s`: %llu bytes instead of %llu",
                                       e->name, (unsigned long long)t.written,
                                       (unsigned long long)e->size);
        berth_hasher_final(h, got);
        if (e->kind == OUT_BLOB && strcmp(got, e->digest) != 0)
                return berth_error_set(err, EBADMSG, "blob %s in the store has digest %s",
                                       e->digest, got);
        if (e->kind != OUT_BLOB && strcmp(got, e->expect) != 0)
                return berth_error_set(err, EBADMSG,
                                       "entry `%s`: the layer's content has digest %s, not %s",
                                       e->name, got, e->expect);
        return 0;
}

static int cmp_out(const void *a, const void *b)
{
        return strcmp(((const struct out_entry *)a)->name, ((const struct out_entry *)b)->name);
}

static int write_all(struct save *sv, int fd, berth_error *err)
{
        _cleanup_(archive_writep) struct archive *a = NULL;
        int r;

        qsort(sv->out, sv->n_out, sizeof(*sv->out), cmp_out);
        r = archive_tar_writer(fd, &a, err);
        if (r < 0)
                return r;
        r = archive_tar_dir(a, "blobs/", err);
        if (r >= 0)
                r = archive_tar_dir(a, "blobs/sha256/", err);
        for (size_t i = 0; i < sv->n_out && r >= 0; i++)
                r = write_entry(sv, a, &sv->out[i], err);
        if (r < 0)
                return r;
        return archive_tar_close(a, err);
}

int berth_image_save(berth_store *s, char *const *refs, size_t n_refs, berth_archive_format format,
                     int fd, berth_error *err)
{
        struct save sv = { .s = s, .format = format };
        int r = 0;

        if (n_refs == 0)
                return berth_error_set(err, EINVAL, "save: no images given");
        for (size_t i = 0; i < n_refs && r >= 0; i++)
                r = add_ref(&sv, refs[i], err);
        if (r >= 0)
                r = plan(&sv, err);
        if (r >= 0)
                r = write_all(&sv, fd, err);
        save_release(&sv);
        if (r < 0)
                return berth_error_prefix(err, "save");
        return 0;
}
