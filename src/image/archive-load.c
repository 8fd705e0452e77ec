/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth load (image-archive.h). A tar read from a pipe can only be read once, so
 * loading is three passes over what the first one keeps:
 *   1. spool: every entry as it streams past, small metadata into memory,
 *      everything else into the content store (blobs/sha256/<hex> checked
 *      against its name on the way);
 *   2. resolve: manifest.json (docker-archive) or index.json (OCI) into a
 *      list of images: config, layer blobs, manifest, names;
 *   3. unpack every layer from its stored blob, check its diff_id, and
 *      record the images, all under one lease, only once all are complete.
 * A directory (an OCI layout) is read through the same lookups, by name.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/strv.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "basic/path.h"
#include "image/archive-internal.h"
#include "image/image-archive.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/reference.h"

/* Files kept in memory rather than in the store: small ones outside blobs/. */
#define SMALL_MAX      (1u << 20)
#define SMALL_TOTAL    (64u << 20)
#define LINK_DEPTH_MAX 16
#define INDEX_DEPTH    4
#define IMAGES_MAX     1000

struct entry {
        char *name;
        char *link; /* symlink or hardlink target as an archive name, or NULL */
        char *data; /* small files */
        size_t len;
        bool stored; /* in the store as digest */
        char digest[BERTH_DIGEST_STR_MAX];
        int64_t size;
};

struct source {
        berth_store *s;
        int dirfd; /* a directory, or -1 for a spooled tar */
        struct entry *entries;
        size_t n_entries, cap;
        uint64_t small_total;
};

static void source_release(struct source *src)
{
        for (size_t i = 0; i < src->n_entries; i++) {
                free(src->entries[i].name);
                free(src->entries[i].link);
                free(src->entries[i].data);
        }
        free(src->entries);
        closep(&src->dirfd);
}

static struct entry *entry_get(struct source *src, const char *name)
{
        /* The last one wins, as when a tar is extracted. */
        for (size_t i = src->n_entries; i > 0; i--)
                if (strcmp(src->entries[i - 1].name, name) == 0)
                        return &src->entries[i - 1];
        return NULL;
}

/* Follows links to a regular entry; NULL (err set) when there is none. */
static struct entry *entry_resolve(struct source *src, const char *name, berth_error *err)
{
        const char *n = name;

        for (int depth = 0; depth < LINK_DEPTH_MAX; depth++) {
                struct entry *e = entry_get(src, n);
                if (!e) {
                        berth_error_set(err, ENOENT, "`%s` is not in the archive", name);
                        return NULL;
                }
                if (!e->link)
                        return e;
                n = e->link;
        }
        berth_error_set(err, ELOOP, "`%s`: too many levels of links", name);
        return NULL;
}

/* ---- pass 1: spool the tar ---- */

static int entry_new(struct source *src, char *name, struct entry **ret, berth_error *err)
{
        struct entry *n;

        if (src->n_entries == src->cap) {
                size_t cap = src->cap ? src->cap * 2 : 64;
                n = realloc(src->entries, cap * sizeof(*n));
                if (!n) {
                        free(name);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
                src->entries = n;
                src->cap = cap;
        }
        n = &src->entries[src->n_entries++];
        *n = (struct entry){ .name = name };
        *ret = n;
        return 0;
}

/* A symlink's target as an archive name: relative to the link's directory, never outside. */
static int link_target(const char *name, const char *target, bool hard, char **ret,
                       berth_error *err)
{
        _cleanup_free_ char *joined = NULL;
        const char *slash = strrchr(name, '/');

        if (target[0] == '/')
                return berth_error_set(err, EINVAL,
                                       "entry `%s`: link to the absolute path `%s` is not allowed",
                                       name, target);
        if (hard || !slash)
                joined = strdup(target);
        else if (asprintf(&joined, "%.*s/%s", (int)(slash - name), name, target) < 0)
                joined = NULL;
        if (!joined)
                return berth_error_set(err, ENOMEM, "out of memory");
        /* ".." may climb inside the archive ("<id>/layer.tar -> ../<hex>.tar"), but not out. */
        _cleanup_free_ char *out = malloc(strlen(joined) + 1);
        size_t len = 0;
        if (!out)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (const char *p = joined; *p;) {
                const char *seg = p;
                size_t n;
                while (*p && *p != '/')
                        p++;
                n = (size_t)(p - seg);
                while (*p == '/')
                        p++;
                if (n == 0 || (n == 1 && seg[0] == '.'))
                        continue;
                if (n == 2 && seg[0] == '.' && seg[1] == '.') {
                        if (len == 0)
                                return berth_error_set(err, EINVAL,
                                                       "entry `%s`: link target `%s` escapes the "
                                                       "archive",
                                                       name, target);
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        continue;
                }
                if (len > 0)
                        out[len++] = '/';
                memcpy(out + len, seg, n);
                len += n;
        }
        out[len] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static bool is_meta(const char *name)
{
        return strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0 ||
               strcmp(name, "repositories") == 0 || strcmp(name, "oci-layout") == 0;
}

/* "blobs/sha256/<64 hex>": the digest, else NULL. */
static bool blob_digest_of(const char *name, char digest[BERTH_DIGEST_STR_MAX])
{
        const char *hex;

        if (strncmp(name, "blobs/sha256/", 13) != 0)
                return false;
        hex = name + 13;
        if (strlen(hex) != BERTH_DIGEST_HEX_LEN || strspn(hex, "0123456789abcdef") != 64)
                return false;
        snprintf(digest, BERTH_DIGEST_STR_MAX, "sha256:%s", hex);
        return true;
}

static int read_data(struct archive *a, const char *name, void *buf, size_t len, la_ssize_t *ret,
                     berth_error *err)
{
        la_ssize_t n = archive_read_data(a, buf, len);

        if (n < 0)
                return berth_error_set(err, EBADMSG, "entry `%s`: %s", name,
                                       archive_error_string(a));
        *ret = n;
        return 0;
}

static int spool_to_memory(struct archive *a, struct entry *e, size_t max, berth_error *err)
{
        la_ssize_t n = 0;
        int r;

        if (e->size < 0 || (uint64_t)e->size > max)
                return berth_error_set(err, E2BIG, "entry `%s`: larger than %zu bytes", e->name,
                                       max);
        e->data = malloc((size_t)e->size + 1);
        if (!e->data)
                return berth_error_set(err, ENOMEM, "out of memory");
        while (e->len < (size_t)e->size) {
                r = read_data(a, e->name, e->data + e->len, (size_t)e->size - e->len, &n, err);
                if (r < 0)
                        return r;
                if (n == 0)
                        return berth_error_set(err, EBADMSG, "entry `%s`: truncated", e->name);
                e->len += (size_t)n;
        }
        e->data[e->len] = '\0';
        return 0;
}

static int spool_to_store(struct source *src, struct archive *a, struct entry *e,
                          const char *expected, char *buf, berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        int r = berth_blob_writer_begin(src->s, expected, expected ? e->size : -1, &w, err);

        if (r < 0)
                return berth_error_prefix(err, "entry `%s`", e->name);
        if (r == 0) {
                for (;;) {
                        la_ssize_t n = 0;
                        r = read_data(a, e->name, buf, ARCHIVE_COPY_BUF, &n, err);
                        if (r < 0)
                                return r;
                        if (n == 0)
                                break;
                        r = berth_blob_writer_write(w, buf, (size_t)n, err);
                        if (r < 0)
                                return berth_error_prefix(err, "entry `%s`", e->name);
                }
        }
        r = berth_blob_writer_commit(w, e->digest, err);
        if (r < 0)
                return berth_error_prefix(err, "entry `%s`", e->name);
        e->stored = true;
        return 0;
}

static int spool_entry(struct source *src, struct archive *a, struct archive_entry *ae, char *buf,
                       berth_error *err)
{
        const char *raw = archive_entry_pathname(ae);
        char *name = NULL;
        char digest[BERTH_DIGEST_STR_MAX];
        struct entry *e;
        int r;

        if (!raw)
                return berth_error_set(err, EBADMSG, "an entry has no name");
        r = archive_clean_name(raw, &name, err);
        if (r < 0)
                return r;
        if (archive_entry_hardlink(ae)) {
                char *target = NULL;
                _cleanup_free_ char *clean = NULL;
                r = archive_clean_name(archive_entry_hardlink(ae), &clean, err);
                if (r >= 0)
                        r = link_target(name, clean, true, &target, err);
                if (r < 0) {
                        free(name);
                        return r;
                }
                r = entry_new(src, name, &e, err);
                if (r < 0) {
                        free(target);
                        return r;
                }
                e->link = target;
                return 0;
        }
        switch (archive_entry_filetype(ae)) {
        case AE_IFDIR:
                free(name);
                return 0;
        case AE_IFLNK: {
                char *target = NULL;
                const char *t = archive_entry_symlink(ae);
                r = link_target(name, t ? t : "", false, &target, err);
                if (r < 0) {
                        free(name);
                        return r;
                }
                r = entry_new(src, name, &e, err);
                if (r < 0) {
                        free(target);
                        return r;
                }
                e->link = target;
                return 0;
        }
        case AE_IFREG:
                break;
        default:
                r = berth_error_set(err, EBADMSG, "entry `%s`: not a file, directory or link",
                                    name);
                free(name);
                return r;
        }
        if (!*name) {
                free(name);
                return berth_error_set(err, EBADMSG, "entry `%s`: a file without a name", raw);
        }
        r = entry_new(src, name, &e, err);
        if (r < 0)
                return r;
        e->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
        if (is_meta(e->name))
                return spool_to_memory(a, e, BERTH_ARCHIVE_META_MAX, err);
        if (strncmp(e->name, "blobs/", 6) == 0) {
                if (strncmp(e->name, "blobs/sha256/", 13) == 0 && !blob_digest_of(e->name, digest))
                        return berth_error_set(err, EBADMSG,
                                               "entry `%s`: not named by a sha256 digest", e->name);
                return spool_to_store(src, a, e,
                                      strncmp(e->name, "blobs/sha256/", 13) == 0 ? digest : NULL,
                                      buf, err);
        }
        if (e->size >= 0 && e->size <= SMALL_MAX &&
            src->small_total + (uint64_t)e->size <= SMALL_TOTAL) {
                src->small_total += (uint64_t)e->size;
                return spool_to_memory(a, e, SMALL_MAX, err);
        }
        return spool_to_store(src, a, e, NULL, buf, err);
}

static int spool(struct source *src, int fd, const berth_load_options *opts, berth_error *err)
{
        _cleanup_(archive_readp) struct archive *a = archive_read_new();
        _cleanup_free_ char *buf = malloc(ARCHIVE_COPY_BUF);
        uint64_t max_entries =
                opts && opts->max_entries ? opts->max_entries : BERTH_ARCHIVE_MAX_ENTRIES;
        uint64_t max_bytes = opts && opts->max_bytes ? opts->max_bytes : BERTH_ARCHIVE_MAX_BYTES;
        uint64_t count = 0, total = 0;
        struct archive_entry *ae;
        int r;

        if (!a || !buf)
                return berth_error_set(err, ENOMEM, "out of memory");
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        if (archive_read_open_fd(a, fd, ARCHIVE_COPY_BUF) != ARCHIVE_OK)
                return berth_error_set(err, EBADMSG, "not a tar archive: %s",
                                       archive_error_string(a));
        for (;;) {
                r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        if (count == 0)
                                return berth_error_set(err, EBADMSG,
                                                       "not a tar archive (or an empty one): %s",
                                                       archive_error_string(a));
                        return berth_error_set(
                                err, EBADMSG, "after entry `%s`: %s",
                                src->n_entries ? src->entries[src->n_entries - 1].name : "",
                                archive_error_string(a));
                }
                if (++count > max_entries)
                        return berth_error_set(err, E2BIG, "the archive has more than %llu entries",
                                               (unsigned long long)max_entries);
                if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0) {
                        total += (uint64_t)archive_entry_size(ae);
                        if (total > max_bytes)
                                return berth_error_set(err, E2BIG,
                                                       "entry `%s`: the archive holds more than "
                                                       "%llu bytes",
                                                       archive_entry_pathname(ae),
                                                       (unsigned long long)max_bytes);
                }
                r = spool_entry(src, a, ae, buf, err);
                if (r < 0)
                        return r;
        }
        if (count == 0)
                return berth_error_set(err, EBADMSG, "the archive is empty");
        return 0;
}

/* ---- lookups, for both kinds of source ---- */

/* A small file (metadata, a config, a manifest) into memory. ENOENT when absent. */
static int src_read(struct source *src, const char *name, size_t max, char **ret, size_t *ret_len,
                    berth_error *err)
{
        struct entry *e;
        int r;

        if (src->dirfd >= 0) {
                _cleanup_close_ int fd = berth_open_in_root(src->dirfd, name, O_RDONLY, 0, err);
                if (fd < 0)
                        return fd;
                r = berth_read_fd(fd, max, ret, ret_len);
                if (r == -E2BIG)
                        return berth_error_set(err, E2BIG, "`%s`: larger than %zu bytes", name,
                                               max);
                if (r < 0)
                        return berth_error_sys(err, -r, "read `%s`", name);
                return 0;
        }
        e = entry_resolve(src, name, err);
        if (!e)
                return berth_error_ret(err);
        if (e->stored) {
                r = berth_store_blob_read(src->s, e->digest, max, ret, ret_len, err);
                if (r == -EFBIG)
                        return berth_error_set(err, E2BIG, "`%s`: larger than %zu bytes", name,
                                               max);
                return r;
        }
        if (e->len > max)
                return berth_error_set(err, E2BIG, "`%s`: larger than %zu bytes", name, max);
        *ret = malloc(e->len + 1);
        if (!*ret)
                return berth_error_set(err, ENOMEM, "out of memory");
        memcpy(*ret, e->data, e->len);
        (*ret)[e->len] = '\0';
        *ret_len = e->len;
        return 0;
}

static bool src_has(struct source *src, const char *name)
{
        berth_error e = BERTH_ERROR_INIT;

        if (src->dirfd >= 0) {
                int fd = berth_open_in_root(src->dirfd, name, O_PATH, 0, &e);
                berth_error_release(&e);
                if (fd < 0)
                        return false;
                close(fd);
                return true;
        }
        bool ok = entry_resolve(src, name, &e) != NULL;
        berth_error_release(&e);
        return ok;
}

/*
 * Makes file `name` a blob in the store and returns its digest and size;
 * expected (or NULL) is what it must hash to.
 */
static int src_blob(struct source *src, const char *name, const char *expected,
                    char ret_digest[BERTH_DIGEST_STR_MAX], int64_t *ret_size, berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        _cleanup_close_ int fd = -1, bfd = -1;
        struct stat st;
        int r;

        if (src->dirfd < 0) {
                struct entry *e = entry_resolve(src, name, err);
                if (!e)
                        return berth_error_ret(err);
                if (!e->stored) {
                        r = berth_store_blob_put(src->s, e->data, e->len, NULL, e->digest, err);
                        if (r < 0)
                                return berth_error_prefix(err, "`%s`", name);
                        e->stored = true;
                        e->size = (int64_t)e->len;
                }
                if (expected && strcmp(expected, e->digest) != 0)
                        return berth_error_set(err, EBADMSG, "`%s` has digest %s, not %s", name,
                                               e->digest, expected);
                memcpy(ret_digest, e->digest, BERTH_DIGEST_STR_MAX);
        } else {
                _cleanup_free_ char *buf = malloc(ARCHIVE_COPY_BUF);
                fd = berth_open_in_root(src->dirfd, name, O_RDONLY, 0, err);
                if (fd < 0)
                        return fd;
                if (!buf)
                        return berth_error_set(err, ENOMEM, "out of memory");
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        return berth_error_set(err, EBADMSG, "`%s` is not a regular file", name);
                r = berth_blob_writer_begin(src->s, expected, expected ? st.st_size : -1, &w, err);
                if (r < 0)
                        return berth_error_prefix(err, "`%s`", name);
                while (r == 0) {
                        ssize_t n = read(fd, buf, ARCHIVE_COPY_BUF);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return berth_error_sys(err, errno, "read `%s`", name);
                        if (n == 0)
                                break;
                        if (berth_blob_writer_write(w, buf, (size_t)n, err) < 0)
                                return berth_error_prefix(err, "`%s`", name);
                }
                if (berth_blob_writer_commit(w, ret_digest, err) < 0)
                        return berth_error_prefix(err, "`%s`", name);
        }
        bfd = berth_store_blob_open(src->s, ret_digest, err);
        if (bfd < 0)
                return bfd;
        if (fstat(bfd, &st) < 0)
                return berth_error_sys(err, errno, "stat blob %s", ret_digest);
        *ret_size = st.st_size;
        return 0;
}

/* ---- pass 2: what the images are ---- */

struct load_layer {
        char *path; /* the archive name it came from, for messages */
        char digest[BERTH_DIGEST_STR_MAX];
        char *media_type;
        int64_t size;
};

struct load_image {
        char config_digest[BERTH_DIGEST_STR_MAX];
        int64_t config_size;
        berth_image_config *cfg;
        char manifest_digest[BERTH_DIGEST_STR_MAX];
        char *manifest_media_type;
        struct load_layer *layers;
        size_t n_layers;
        char **names;
};

struct load {
        struct source src;
        uint64_t max_bytes; /* also bounds each layer's uncompressed size */
        berth_platform want;
        struct load_image *images;
        size_t n_images;
};

static void load_image_release(struct load_image *li)
{
        berth_image_config_free(li->cfg);
        free(li->manifest_media_type);
        for (size_t i = 0; i < li->n_layers; i++) {
                free(li->layers[i].path);
                free(li->layers[i].media_type);
        }
        free(li->layers);
        strv_free(li->names);
}

static void load_release(struct load *l)
{
        for (size_t i = 0; i < l->n_images; i++)
                load_image_release(&l->images[i]);
        free(l->images);
        berth_platform_release(&l->want);
        source_release(&l->src);
}

/* Adds li (moved) or merges its names into an image with the same config. */
static int add_load_image(struct load *l, struct load_image *li, berth_error *err)
{
        struct load_image *n;

        for (size_t i = 0; i < l->n_images; i++)
                if (strcmp(l->images[i].config_digest, li->config_digest) == 0) {
                        for (char **nm = li->names; nm && *nm; nm++)
                                if (berth_strv_push_unique(&l->images[i].names, *nm) < 0)
                                        return berth_error_set(err, ENOMEM, "out of memory");
                        load_image_release(li);
                        *li = (struct load_image){ 0 };
                        return 0;
                }
        if (l->n_images >= IMAGES_MAX)
                return berth_error_set(err, E2BIG, "the archive has more than %d images",
                                       IMAGES_MAX);
        n = realloc(l->images, (l->n_images + 1) * sizeof(*n));
        if (!n)
                return berth_error_set(err, ENOMEM, "out of memory");
        l->images = n;
        l->images[l->n_images++] = *li;
        *li = (struct load_image){ 0 };
        return 0;
}

/* A name as given in RepoTags or an annotation, normalised; EINVAL names it. */
static int normalise_name(const char *name, const char *what, char **ret, berth_error *err)
{
        berth_reference ref = { 0 };
        int r = berth_reference_parse(
                name, BERTH_REFERENCE_DEFAULT_TAG_FLAG | BERTH_REFERENCE_NO_DIGEST, &ref, err);

        if (r < 0)
                return berth_error_prefix(err, "%s", what);
        *ret = berth_reference_string(&ref);
        berth_reference_release(&ref);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

static int load_config(struct load *l, struct load_image *li, const char *name,
                       const char *expected, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        char what[256];
        int r;

        r = src_read(&l->src, name, BERTH_CONFIG_MAX, &data, &len, err);
        if (r < 0)
                return berth_error_prefix(err, "config");
        r = src_blob(&l->src, name, expected, li->config_digest, &li->config_size, err);
        if (r < 0)
                return berth_error_prefix(err, "config");
        snprintf(what, sizeof(what), "config `%s`", name);
        return berth_image_config_parse(data, len, what, &li->cfg, err);
}

/* The compression of a stored blob, by its first bytes. */
static int sniff_blob(struct load *l, const char *digest, archive_magic *ret, berth_error *err)
{
        _cleanup_close_ int fd = berth_store_blob_open(l->src.s, digest, err);
        unsigned char head[8];
        ssize_t n;

        if (fd < 0)
                return fd;
        n = berth_read_full(fd, head, sizeof(head));
        if (n < 0)
                return berth_error_sys(err, errno, "read blob %s", digest);
        *ret = archive_sniff(head, (size_t)n);
        return 0;
}

/*
 * An OCI manifest in the archive's index.json that describes exactly this
 * docker-archive image (Docker 25+ writes one): reusing it keeps the
 * manifest digest docker gave the image. 1 when found.
 */
static int find_index_manifest(struct load *l, struct load_image *li, berth_error *err)
{
        _cleanup_(berth_index_freep) berth_index *idx = NULL;
        _cleanup_free_ char *data = NULL;
        berth_error e = BERTH_ERROR_INIT;
        size_t len = 0;

        if (!src_has(&l->src, "index.json"))
                return 0;
        if (src_read(&l->src, "index.json", BERTH_ARCHIVE_META_MAX, &data, &len, &e) < 0 ||
            berth_index_parse(data, len, "index.json", &idx, &e) < 0) {
                berth_error_release(&e);
                return 0; /* manifest.json is what docker-archive readers go by */
        }
        for (size_t i = 0; i < idx->n_manifests; i++) {
                const berth_descriptor *d = &idx->manifests[i];
                _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
                _cleanup_free_ char *mdata = NULL;
                char name[128], digest[BERTH_DIGEST_STR_MAX];
                size_t mlen = 0;
                int64_t size;
                bool same;

                if (!d->media_type || strcmp(d->media_type, BERTH_MT_OCI_MANIFEST) != 0)
                        continue;
                snprintf(name, sizeof(name), "blobs/sha256/%s", berth_digest_hex(d->digest));
                if (src_read(&l->src, name, BERTH_MANIFEST_MAX, &mdata, &mlen, &e) < 0 ||
                    berth_manifest_parse(mdata, mlen, name, &m, &e) < 0) {
                        berth_error_release(&e);
                        continue;
                }
                same = strcmp(m->config.digest, li->config_digest) == 0 &&
                       m->n_layers == li->n_layers;
                for (size_t j = 0; same && j < m->n_layers; j++)
                        same = strcmp(m->layers[j].digest, li->layers[j].digest) == 0 &&
                               m->layers[j].size == li->layers[j].size;
                if (!same)
                        continue;
                if (src_blob(&l->src, name, d->digest, digest, &size, err) < 0)
                        return berth_error_ret(err);
                memcpy(li->manifest_digest, digest, sizeof(digest));
                li->manifest_media_type = strdup(BERTH_MT_OCI_MANIFEST);
                for (size_t j = 0; j < m->n_layers; j++) {
                        free(li->layers[j].media_type);
                        li->layers[j].media_type = strdup(m->layers[j].media_type);
                        if (!li->layers[j].media_type)
                                return berth_error_set(err, ENOMEM, "out of memory");
                }
                return li->manifest_media_type ? 1 : berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

/*
 * A docker-archive image has no registry manifest: give it a Docker
 * schema 2 one over its layers as stored (uncompressed tars, mostly), or
 * an OCI one when a layer is zstd (which schema 2 has no type for).
 */
static int synthesize_manifest(struct load *l, struct load_image *li, berth_error *err)
{
        _cleanup_(json_putp) json_object *m = json_object_new_object();
        _cleanup_free_ archive_magic *magic = calloc(li->n_layers + 1, sizeof(*magic));
        _cleanup_free_ char *data = NULL;
        json_object *layers, *c;
        bool oci = false;
        int r;

        if (!m || !magic)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < li->n_layers; i++) {
                r = sniff_blob(l, li->layers[i].digest, &magic[i], err);
                if (r < 0)
                        return r;
                if (magic[i] == MAGIC_ZSTD)
                        oci = true;
                else if (magic[i] != MAGIC_NONE && magic[i] != MAGIC_GZIP)
                        return berth_error_set(err, ENOTSUP,
                                               "layer `%s`: xz and bzip2 layers are not supported",
                                               li->layers[i].path);
        }
        /* Field order as docker's schema2.Manifest marshals it. */
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(
                m, "mediaType",
                json_object_new_string(oci ? BERTH_MT_OCI_MANIFEST : BERTH_MT_DOCKER_MANIFEST));
        c = json_object_new_object();
        json_object_object_add(m, "config", c);
        layers = json_object_new_array();
        json_object_object_add(m, "layers", layers);
        if (!c || !layers)
                return berth_error_set(err, ENOMEM, "out of memory");
        json_object_object_add(
                c, "mediaType",
                json_object_new_string(oci ? BERTH_MT_OCI_CONFIG : BERTH_MT_DOCKER_CONFIG));
        json_object_object_add(c, "size", json_object_new_int64(li->config_size));
        json_object_object_add(c, "digest", json_object_new_string(li->config_digest));
        for (size_t i = 0; i < li->n_layers; i++) {
                const char *mt = magic[i] == MAGIC_ZSTD ? BERTH_MT_OCI_LAYER_ZSTD
                                 : magic[i] == MAGIC_GZIP
                                         ? (oci ? BERTH_MT_OCI_LAYER_GZIP : BERTH_MT_DOCKER_LAYER)
                                 : oci ? BERTH_MT_OCI_LAYER
                                       : BERTH_MT_DOCKER_LAYER_TAR;
                json_object *d = json_object_new_object();

                free(li->layers[i].media_type);
                li->layers[i].media_type = strdup(mt);
                if (!d || json_object_array_add(layers, d) < 0 || !li->layers[i].media_type) {
                        json_object_put(d);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
                json_object_object_add(d, "mediaType", json_object_new_string(mt));
                json_object_object_add(d, "size", json_object_new_int64(li->layers[i].size));
                json_object_object_add(d, "digest", json_object_new_string(li->layers[i].digest));
        }
        data = archive_json_string(m);
        if (!data)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_store_blob_put(l->src.s, data, strlen(data), NULL, li->manifest_digest, err);
        if (r < 0)
                return r;
        li->manifest_media_type = strdup(oci ? BERTH_MT_OCI_MANIFEST : BERTH_MT_DOCKER_MANIFEST);
        return li->manifest_media_type ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* One item of manifest.json: {"Config": path, "RepoTags": [...], "Layers": [paths]}. */
static int resolve_docker_item(struct load *l, json_object *item, const char *path,
                               berth_error *err)
{
        _cleanup_(load_image_release) struct load_image li = { 0 };
        _cleanup_free_ char *config = NULL, *config_name = NULL;
        _cleanup_strv_ char **tags = NULL, **layers = NULL;
        size_t n_tags = 0, n_layers = 0;
        char p[BERTH_JSON_PATH_MAX];
        int r;

        if (!json_object_is_type(item, json_type_object))
                return berth_json_type_error(item, path, "an object", err);
        r = berth_json_get_string(item, "Config", path, true, &config, err);
        if (r >= 0)
                r = berth_json_get_strv(item, "RepoTags", path, false, BERTH_LAYERS_MAX, &tags,
                                        &n_tags, err);
        if (r >= 0)
                r = berth_json_get_strv(item, "Layers", path, true, BERTH_LAYERS_MAX, &layers,
                                        &n_layers, err);
        if (r < 0)
                return berth_error_prefix(err, "manifest.json");
        r = archive_clean_name(config, &config_name, err);
        if (r >= 0)
                r = load_config(l, &li, config_name, NULL, err);
        if (r < 0)
                return berth_error_prefix(err, "manifest.json: %s",
                                          berth_json_path(p, sizeof(p), path, "Config"));
        if (li.cfg->n_diff_ids != n_layers)
                return berth_error_set(err, EBADMSG,
                                       "manifest.json: %s lists %zu layers but config `%s` has %zu "
                                       "diff_ids",
                                       path, n_layers, config, li.cfg->n_diff_ids);
        li.layers = calloc(n_layers + 1, sizeof(*li.layers));
        if (!li.layers)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_layers; i++) {
                _cleanup_free_ char *clean = NULL;
                struct load_layer *ll = &li.layers[li.n_layers];

                berth_json_path_index(p, sizeof(p), path, i);
                r = archive_clean_name(layers[i], &clean, err);
                if (r < 0)
                        return berth_error_prefix(err, "manifest.json: %s.Layers", path);
                if (!src_has(&l->src, clean))
                        return berth_error_set(
                                err, ENOENT,
                                "manifest.json: %s.Layers[%zu]: layer `%s` is not in "
                                "the archive",
                                path, i, layers[i]);
                ll->path = TAKE_PTR(clean);
                li.n_layers++;
                r = src_blob(&l->src, ll->path, NULL, ll->digest, &ll->size, err);
                if (r < 0)
                        return berth_error_prefix(err, "layer");
        }
        for (size_t i = 0; i < n_tags; i++) {
                char *name = NULL;
                char what[BERTH_JSON_PATH_MAX + 32];
                snprintf(what, sizeof(what), "manifest.json: %s.RepoTags[%zu]", path, i);
                r = normalise_name(tags[i], what, &name, err);
                if (r < 0)
                        return r;
                r = berth_strv_push_unique(&li.names, name);
                free(name);
                if (r < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = find_index_manifest(l, &li, err);
        if (r < 0)
                return r;
        if (r == 0) {
                r = synthesize_manifest(l, &li, err);
                if (r < 0)
                        return r;
        }
        return add_load_image(l, &li, err);
}

static int resolve_docker(struct load *l, berth_error *err)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len = 0, n;
        int r;

        r = src_read(&l->src, "manifest.json", BERTH_ARCHIVE_META_MAX, &data, &len, err);
        if (r < 0)
                return r;
        r = berth_json_parse(data, len, "manifest.json", &doc, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(doc, json_type_array))
                return berth_json_type_error(doc, "manifest.json", "an array", err);
        n = json_object_array_length(doc);
        if (n > IMAGES_MAX)
                return berth_error_set(err, E2BIG, "manifest.json: more than %d images",
                                       IMAGES_MAX);
        for (size_t i = 0; i < n; i++) {
                char path[32];
                snprintf(path, sizeof(path), "[%zu]", i);
                r = resolve_docker_item(l, json_object_array_get_idx(doc, i), path, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* An index.json entry's name: io.containerd.image.name, else a ref.name that is a whole name. */
static int annotation_name(const berth_descriptor *d, const char *what, char **ret,
                           berth_error *err)
{
        json_object *v = NULL;
        const char *s;

        *ret = NULL;
        if (!d->annotations)
                return 0;
        if (json_object_object_get_ex(d->annotations, "io.containerd.image.name", &v) &&
            (s = json_object_get_string(v)) && *s)
                return normalise_name(s, what, ret, err);
        if (json_object_object_get_ex(d->annotations, "org.opencontainers.image.ref.name", &v) &&
            (s = json_object_get_string(v)) && (strchr(s, ':') || strchr(s, '/'))) {
                berth_error e = BERTH_ERROR_INIT;
                /* A ref.name is only a tag for some writers; one that is no name names nothing. */
                if (normalise_name(s, what, ret, &e) < 0)
                        berth_error_release(&e);
        }
        return 0;
}

static int resolve_oci_manifest(struct load *l, const berth_descriptor *d, char *name, int depth,
                                berth_error *err)
{
        _cleanup_(load_image_release) struct load_image li = { 0 };
        _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
        _cleanup_free_ char *data = NULL;
        char bname[128], what[160];
        berth_manifest_kind kind;
        size_t len = 0;
        int64_t size;
        int r;

        r = berth_digest_validate(d->digest, err);
        if (r < 0)
                return r;
        snprintf(bname, sizeof(bname), "blobs/sha256/%s", berth_digest_hex(d->digest));
        r = src_read(&l->src, bname, BERTH_MANIFEST_MAX, &data, &len, err);
        if (r < 0)
                return berth_error_prefix(err, "manifest %s", d->digest);
        r = src_blob(&l->src, bname, d->digest, li.manifest_digest, &size, err);
        if (r < 0)
                return r;
        r = berth_manifest_kind_of(d->media_type, data, len, &kind, err);
        if (r < 0)
                return berth_error_prefix(err, "`%s`", bname);
        if (kind == BERTH_MANIFEST_KIND_INDEX) {
                _cleanup_(berth_index_freep) berth_index *idx = NULL;
                const berth_descriptor *sel;
                if (depth >= INDEX_DEPTH)
                        return berth_error_set(err, ELOOP, "`%s`: indexes nested too deep", bname);
                snprintf(what, sizeof(what), "index `%s`", bname);
                r = berth_index_parse(data, len, what, &idx, err);
                if (r < 0)
                        return r;
                r = berth_index_select(idx, &l->want, &sel, err);
                if (r < 0)
                        return berth_error_prefix(err, "`%s`", bname);
                return resolve_oci_manifest(l, sel, name, depth + 1, err);
        }
        snprintf(what, sizeof(what), "manifest `%s`", bname);
        r = berth_manifest_parse(data, len, what, &m, err);
        if (r < 0)
                return r;
        li.manifest_media_type = strdup(m->media_type);
        if (!li.manifest_media_type)
                return berth_error_set(err, ENOMEM, "out of memory");
        snprintf(bname, sizeof(bname), "blobs/sha256/%s", berth_digest_hex(m->config.digest));
        r = load_config(l, &li, bname, m->config.digest, err);
        if (r < 0)
                return r;
        if (li.cfg->n_diff_ids != m->n_layers)
                return berth_error_set(err, EBADMSG,
                                       "%s has %zu layers but its config lists %zu diff_ids", what,
                                       m->n_layers, li.cfg->n_diff_ids);
        li.layers = calloc(m->n_layers + 1, sizeof(*li.layers));
        if (!li.layers)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_layers; i++) {
                const berth_descriptor *ld = &m->layers[i];
                struct load_layer *ll = &li.layers[li.n_layers];
                berth_compression comp;

                r = berth_layer_media_type(ld->media_type, &comp, err);
                if (r < 0)
                        return berth_error_prefix(err, "%s: layer %s", what, ld->digest);
                snprintf(bname, sizeof(bname), "blobs/sha256/%s", berth_digest_hex(ld->digest));
                if (!src_has(&l->src, bname))
                        return berth_error_set(err, ENOENT, "%s: layer `%s` is not in the archive",
                                               what, bname);
                ll->path = strdup(bname);
                ll->media_type = strdup(ld->media_type);
                li.n_layers++;
                if (!ll->path || !ll->media_type)
                        return berth_error_set(err, ENOMEM, "out of memory");
                r = src_blob(&l->src, bname, ld->digest, ll->digest, &ll->size, err);
                if (r < 0)
                        return r;
        }
        if (name && berth_strv_push_unique(&li.names, name) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return add_load_image(l, &li, err);
}

static int resolve_oci(struct load *l, berth_error *err)
{
        _cleanup_(berth_index_freep) berth_index *idx = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = src_read(&l->src, "index.json", BERTH_ARCHIVE_META_MAX, &data, &len, err);
        if (r < 0)
                return r;
        r = berth_index_parse(data, len, "index.json", &idx, err);
        if (r < 0)
                return r;
        if (idx->n_manifests > IMAGES_MAX)
                return berth_error_set(err, E2BIG, "index.json: more than %d images", IMAGES_MAX);
        for (size_t i = 0; i < idx->n_manifests; i++) {
                _cleanup_free_ char *name = NULL;
                char what[64];

                snprintf(what, sizeof(what), "index.json: manifests[%zu]", i);
                r = annotation_name(&idx->manifests[i], what, &name, err);
                if (r >= 0)
                        r = resolve_oci_manifest(l, &idx->manifests[i], name, 0, err);
                if (r < 0)
                        return berth_error_prefix(err, "%s", what);
        }
        return 0;
}

/* ---- pass 3: unpack and record ---- */

static int unpack(struct load *l, struct load_image *li, berth_error *err)
{
        _cleanup_free_ char(*chains)[BERTH_DIGEST_STR_MAX] =
                calloc(li->n_layers + 1, sizeof(*chains));

        if (!chains)
                return berth_error_set(err, ENOMEM, "out of memory");
        berth_chain_ids(li->cfg->diff_ids, li->n_layers, chains);
        for (size_t i = 0; i < li->n_layers; i++) {
                _cleanup_(berth_layer_tx_freep) berth_layer_tx *tx = NULL;
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *what = NULL;
                berth_layer_options lo = {
                        .keep_ownership = geteuid() == 0,
                        .max_bytes = l->max_bytes < BERTH_LAYER_MAX_BYTES ? l->max_bytes : 0,
                };
                berth_layer_stats stats = { 0 };
                const struct load_layer *ll = &li->layers[i];
                int r;

                r = berth_store_layer_begin(l->src.s, chains[i], &tx, err);
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                if (asprintf(&what, "layer `%s`", ll->path) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                lo.what = what;
                fd = berth_store_blob_open(l->src.s, ll->digest, err);
                if (fd < 0)
                        return fd;
                r = berth_layer_apply(berth_layer_tx_dirfd(tx), fd, &lo, &stats, err);
                if (r < 0)
                        return r;
                if (strcmp(stats.diff_id, li->cfg->diff_ids[i]) != 0)
                        return berth_error_set(err, EBADMSG,
                                               "layer `%s`: its content has diff_id %s, but the "
                                               "config says %s",
                                               ll->path, stats.diff_id, li->cfg->diff_ids[i]);
                r = berth_layer_tx_commit(tx, li->cfg->diff_ids[i], i > 0 ? chains[i - 1] : NULL,
                                          stats.tar_bytes, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int record(struct load *l, struct load_image *li, berth_error *err)
{
        _cleanup_free_ berth_image_layer *layers = calloc(li->n_layers + 1, sizeof(*layers));
        _cleanup_free_ char(*chains)[BERTH_DIGEST_STR_MAX] =
                calloc(li->n_layers + 1, sizeof(*chains));
        berth_image_add a = {
                .config_digest = li->config_digest,
                .manifest_digest = li->manifest_digest,
                .manifest_media_type = li->manifest_media_type,
                .layers = layers,
                .n_layers = li->n_layers,
                .names = li->names,
        };
        int64_t created = 0;

        if (!layers || !chains)
                return berth_error_set(err, ENOMEM, "out of memory");
        berth_chain_ids(li->cfg->diff_ids, li->n_layers, chains);
        for (size_t i = 0; i < li->n_layers; i++) {
                memcpy(layers[i].chain_id, chains[i], BERTH_DIGEST_STR_MAX);
                snprintf(layers[i].diff_id, BERTH_DIGEST_STR_MAX, "%s", li->cfg->diff_ids[i]);
                memcpy(layers[i].blob_digest, li->layers[i].digest, BERTH_DIGEST_STR_MAX);
                layers[i].blob_media_type = li->layers[i].media_type;
                layers[i].blob_size = li->layers[i].size;
        }
        if (li->cfg->created && berth_parse_rfc3339(li->cfg->created, &created) == 0)
                a.created = created;
        return berth_store_image_add(l->src.s, &a, err);
}

void berth_load_result_release(berth_load_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_images; i++)
                strv_free(r->images[i].names);
        free(r->images);
        *r = (berth_load_result){ 0 };
}

static int finish(struct load *l, berth_load_result *ret, berth_error *err)
{
        int r;

        if (src_has(&l->src, "manifest.json"))
                r = resolve_docker(l, err);
        else if (src_has(&l->src, "index.json"))
                r = resolve_oci(l, err);
        else
                r = berth_error_set(err, EBADMSG,
                                    "neither manifest.json nor index.json: not an image archive");
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_images; i++) {
                r = unpack(l, &l->images[i], err);
                if (r < 0)
                        return r;
        }
        /* Only now, with every layer in place, do the images become visible. */
        for (size_t i = 0; i < l->n_images; i++) {
                r = record(l, &l->images[i], err);
                if (r < 0)
                        return r;
        }
        ret->images = calloc(l->n_images + 1, sizeof(*ret->images));
        if (!ret->images)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < l->n_images; i++) {
                berth_loaded_image *o = &ret->images[i];
                memcpy(o->id, l->images[i].config_digest, BERTH_DIGEST_STR_MAX);
                o->names = TAKE_PTR(l->images[i].names);
                if (!o->names)
                        o->names = calloc(1, sizeof(char *));
                ret->n_images++;
                if (!o->names)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int load_common(berth_store *s, int fd, const char *dir, const berth_load_options *opts,
                       berth_load_result *ret, berth_error *err)
{
        struct load l = {
                .src = { .s = s, .dirfd = -1 },
                .max_bytes = opts && opts->max_bytes ? opts->max_bytes : BERTH_ARCHIVE_MAX_BYTES,
        };
        _cleanup_close_ int lease = -1;
        int r;

        *ret = (berth_load_result){ 0 };
        r = opts && opts->platform ? berth_platform_parse(opts->platform, &l.want, err)
                                   : berth_platform_host(&l.want, err);
        if (r < 0)
                goto out;
        lease = berth_store_lease(s, err);
        if (lease < 0) {
                r = lease;
                goto out;
        }
        if (dir) {
                l.src.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (l.src.dirfd < 0) {
                        r = berth_error_sys(err, errno, "open `%s`", dir);
                        goto out;
                }
        } else {
                r = spool(&l.src, fd, opts, err);
                if (r < 0)
                        goto out;
        }
        r = finish(&l, ret, err);
out:
        if (r < 0)
                berth_load_result_release(ret);
        load_release(&l);
        if (r < 0)
                return berth_error_prefix(err, "load");
        return 0;
}

int berth_image_load(berth_store *s, int fd, const berth_load_options *opts, berth_load_result *ret,
                     berth_error *err)
{
        return load_common(s, fd, NULL, opts, ret, err);
}

int berth_image_load_dir(berth_store *s, const char *path, const berth_load_options *opts,
                         berth_load_result *ret, berth_error *err)
{
        return load_common(s, -1, path, opts, ret, err);
}
