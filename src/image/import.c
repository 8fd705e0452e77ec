/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * berth import (image-archive.h). The layer's ChainID is its diff_id, which is
 * only known once the whole tarball has been read, so the tarball is
 * first stored as a blob (hashing its uncompressed bytes on the way),
 * then unpacked from the store, as load does.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "image/archive-internal.h"
#include "image/image-archive.h"
#include "image/change.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/reference.h"

#define HEAD_MAX 64

struct import {
        int fd;
        unsigned char head[HEAD_MAX];
        size_t head_len;
        bool head_done;
        char *buf;
        bool verbatim; /* the input is the blob (gzip, zstd); else it is gzipped here */
        berth_blob_writer *w;
        berth_error read_err;
        int read_rc;
};

static int writer_sink(void *userdata, const void *buf, size_t len, berth_error *err)
{
        return berth_blob_writer_write(userdata, buf, len, err);
}

/* libarchive's source: the bytes peeked at first, then the rest of fd. */
static la_ssize_t import_read(struct archive *a, void *userdata, const void **ret)
{
        struct import *im = userdata;
        ssize_t n;

        (void)a;
        if (!im->head_done) {
                im->head_done = true;
                *ret = im->head;
                n = (ssize_t)im->head_len;
        } else {
                do
                        n = read(im->fd, im->buf, ARCHIVE_COPY_BUF);
                while (n < 0 && errno == EINTR);
                if (n < 0) {
                        im->read_rc = berth_error_sys(&im->read_err, errno, "read the input");
                        return -1;
                }
                *ret = im->buf;
        }
        if (n > 0 && im->verbatim) {
                im->read_rc = berth_blob_writer_write(im->w, *ret, (size_t)n, &im->read_err);
                if (im->read_rc < 0)
                        return -1;
        }
        return n;
}

static int read_error(struct import *im, struct archive *a, berth_error *err)
{
        if (im->read_rc < 0) {
                berth_error_release(err);
                *err = im->read_err;
                im->read_err = (berth_error)BERTH_ERROR_INIT;
                return im->read_rc;
        }
        return berth_error_set(err, EBADMSG, "the input: %s",
                               archive_error_string(a) ? archive_error_string(a) : "read failed");
}

/* Pass 1: the input into a blob; the diff_id and size of its uncompressed tar. */
static int store_input(berth_store *s, int fd, char blob[BERTH_DIGEST_STR_MAX], int64_t *blob_size,
                       bool *gzipped, char diff_id[BERTH_DIGEST_STR_MAX], uint64_t *tar_bytes,
                       berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        _cleanup_(archive_gzip_freep) archive_gzip *gz = NULL;
        _cleanup_(berth_hasher_freep) berth_hasher *h = berth_hasher_new();
        _cleanup_(archive_readp) struct archive *a = NULL;
        _cleanup_free_ char *buf = malloc(ARCHIVE_COPY_BUF), *out = malloc(ARCHIVE_COPY_BUF);
        struct import im = { .fd = fd, .buf = buf };
        struct archive_entry *ae;
        archive_magic magic;
        ssize_t n;
        int r;

        if (!h || !buf || !out)
                return berth_error_set(err, ENOMEM, "out of memory");
        n = berth_read_full(fd, im.head, sizeof(im.head));
        if (n < 0)
                return berth_error_sys(err, errno, "read the input");
        if (n == 0)
                return berth_error_set(err, EINVAL, "the input is empty");
        im.head_len = (size_t)n;
        magic = archive_sniff(im.head, im.head_len);
        im.verbatim = magic == MAGIC_GZIP || magic == MAGIC_ZSTD;
        *gzipped = magic == MAGIC_GZIP || !im.verbatim;

        r = berth_blob_writer_begin(s, NULL, -1, &w, err);
        if (r < 0)
                return r;
        im.w = w;
        if (!im.verbatim) {
                r = archive_gzip_new(writer_sink, w, &gz, err);
                if (r < 0)
                        return r;
        }
        a = archive_read_new();
        if (!a)
                return berth_error_set(err, ENOMEM, "out of memory");
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open(a, &im, NULL, import_read, NULL) != ARCHIVE_OK)
                return read_error(&im, a, err);
        r = archive_read_next_header(a, &ae);
        if (r != ARCHIVE_OK)
                return read_error(&im, a, err);
        *tar_bytes = 0;
        for (;;) {
                la_ssize_t got = archive_read_data(a, out, ARCHIVE_COPY_BUF);
                if (got < 0)
                        return read_error(&im, a, err);
                if (got == 0)
                        break;
                *tar_bytes += (uint64_t)got;
                if (*tar_bytes > BERTH_LAYER_MAX_BYTES)
                        return berth_error_set(err, E2BIG, "the tarball is larger than %llu bytes",
                                               (unsigned long long)BERTH_LAYER_MAX_BYTES);
                berth_hasher_update(h, out, (size_t)got);
                if (gz) {
                        r = archive_gzip_write(gz, out, (size_t)got, err);
                        if (r < 0)
                                return r;
                }
        }
        /* The blob is the input as given, to its end, whatever follows the compressed stream. */
        while (im.verbatim) {
                n = read(fd, buf, ARCHIVE_COPY_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error_sys(err, errno, "read the input");
                if (n == 0)
                        break;
                r = berth_blob_writer_write(w, buf, (size_t)n, err);
                if (r < 0)
                        return r;
        }
        if (gz) {
                r = archive_gzip_finish(gz, err);
                if (r < 0)
                        return r;
        }
        berth_hasher_final(h, diff_id);
        r = berth_blob_writer_commit(w, blob, err);
        if (r < 0)
                return r;
        *blob_size = (int64_t)berth_blob_writer_size(w);
        return 0;
}

/* Pass 2: the layer from the stored blob, unless the store has it already. */
static int unpack_layer(berth_store *s, const char *blob, const char *diff_id, berth_error *err)
{
        _cleanup_(berth_layer_tx_freep) berth_layer_tx *tx = NULL;
        _cleanup_close_ int fd = -1;
        berth_layer_options lo = { .what = "the tarball", .keep_ownership = geteuid() == 0 };
        berth_layer_stats stats = { 0 };
        int r;

        r = berth_store_layer_begin(s, diff_id, &tx, err);
        if (r < 0)
                return r;
        if (r == 1)
                return 0;
        fd = berth_store_blob_open(s, blob, err);
        if (fd < 0)
                return fd;
        r = berth_layer_apply(berth_layer_tx_dirfd(tx), fd, &lo, &stats, err);
        if (r < 0)
                return r;
        if (strcmp(stats.diff_id, diff_id) != 0)
                return berth_error_set(err, EBADMSG,
                                       "the tarball changed while it was read (%s, then %s)",
                                       diff_id, stats.diff_id);
        return berth_layer_tx_commit(tx, diff_id, NULL, stats.tar_bytes, err);
}

/* RFC 3339 as Go's time.Time marshals it: nanoseconds without trailing zeros. */
static int rfc3339(int64_t sec, long nsec, char **ret)
{
        char date[32], frac[24] = "";
        time_t t = (time_t)sec;
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                return -EINVAL;
        if (nsec > 0) {
                snprintf(frac, sizeof(frac), ".%09ld", nsec % 1000000000L);
                for (size_t n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
                        frac[n - 1] = '\0';
        }
        return asprintf(ret, "%s%sZ", date, frac) < 0 ? -ENOMEM : 0;
}

static char *manifest_json(const char *config, size_t config_size, const char *blob,
                           int64_t blob_size, bool gzipped)
{
        char *m = NULL;

        if (asprintf(&m,
                     "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld}]}",
                     BERTH_MT_OCI_MANIFEST, BERTH_MT_OCI_CONFIG, config, config_size,
                     gzipped ? BERTH_MT_OCI_LAYER_GZIP : BERTH_MT_OCI_LAYER_ZSTD, blob,
                     (long long)blob_size) < 0)
                return NULL;
        return m;
}

static int make_config(const berth_import_options *opts, const berth_platform *plat,
                       const char *diff_id, char **ret, berth_error *err)
{
        _cleanup_(berth_image_config_freep) berth_image_config *c = calloc(1, sizeof(*c));
        struct timespec now;
        int r;

        if (!c)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (opts->have_created) {
                now.tv_sec = (time_t)opts->created;
                now.tv_nsec = 0;
        } else {
                clock_gettime(CLOCK_REALTIME, &now);
        }
        c->history = calloc(1, sizeof(*c->history));
        c->diff_ids = calloc(2, sizeof(char *));
        if (!c->history || !c->diff_ids)
                return berth_error_set(err, ENOMEM, "out of memory");
        c->n_history = 1;
        c->n_diff_ids = 1;
        c->architecture = strdup(plat->architecture);
        c->os = strdup(plat->os);
        c->variant = plat->variant ? strdup(plat->variant) : NULL;
        c->diff_ids[0] = strdup(diff_id);
        c->history[0].comment = strdup(opts->message ? opts->message : "Imported from -");
        if (!c->architecture || !c->os || (plat->variant && !c->variant) || !c->diff_ids[0] ||
            !c->history[0].comment || rfc3339(now.tv_sec, now.tv_nsec, &c->created) < 0 ||
            !(c->history[0].created = strdup(c->created)))
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_config_apply_changes(&c->config, opts->changes, err);
        if (r < 0)
                return r;
        *ret = berth_image_config_to_json(c);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

static int import(berth_store *s, int fd, const berth_import_options *opts, const char *name,
                  const berth_platform *plat, char ret_id[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_free_ char *config = NULL, *manifest = NULL;
        _cleanup_close_ int lease = -1;
        char blob[BERTH_DIGEST_STR_MAX], diff_id[BERTH_DIGEST_STR_MAX];
        char config_digest[BERTH_DIGEST_STR_MAX], manifest_digest[BERTH_DIGEST_STR_MAX];
        berth_image_layer layer = { 0 };
        int64_t blob_size = 0;
        uint64_t tar_bytes = 0;
        bool gzipped = true;
        int r;

        /* The changes first: a typo should not cost reading the whole tarball. */
        {
                _cleanup_(berth_image_config_freep) berth_image_config *probe =
                        calloc(1, sizeof(*probe));
                if (!probe)
                        return berth_error_set(err, ENOMEM, "out of memory");
                r = berth_config_apply_changes(&probe->config, opts->changes, err);
                if (r < 0)
                        return r;
        }
        lease = berth_store_lease(s, err);
        if (lease < 0)
                return lease;
        r = store_input(s, fd, blob, &blob_size, &gzipped, diff_id, &tar_bytes, err);
        if (r < 0)
                return r;
        r = unpack_layer(s, blob, diff_id, err);
        if (r < 0)
                return r;
        r = make_config(opts, plat, diff_id, &config, err);
        if (r < 0)
                return r;
        r = berth_store_blob_put(s, config, strlen(config), NULL, config_digest, err);
        if (r < 0)
                return r;
        manifest = manifest_json(config_digest, strlen(config), blob, blob_size, gzipped);
        if (!manifest)
                return berth_error_set(err, ENOMEM, "out of memory");
        r = berth_store_blob_put(s, manifest, strlen(manifest), NULL, manifest_digest, err);
        if (r < 0)
                return r;

        memcpy(layer.chain_id, diff_id, sizeof(diff_id));
        memcpy(layer.diff_id, diff_id, sizeof(diff_id));
        memcpy(layer.blob_digest, blob, sizeof(blob));
        layer.blob_media_type = gzipped ? BERTH_MT_OCI_LAYER_GZIP : BERTH_MT_OCI_LAYER_ZSTD;
        layer.blob_size = blob_size;
        {
                char *names[] = { (char *)name, NULL };
                berth_image_add a = {
                        .config_digest = config_digest,
                        .manifest_digest = manifest_digest,
                        .manifest_media_type = BERTH_MT_OCI_MANIFEST,
                        .layers = &layer,
                        .n_layers = 1,
                        .created = opts->have_created ? opts->created : (int64_t)time(NULL),
                        .names = name ? names : NULL,
                };
                r = berth_store_image_add(s, &a, err);
                if (r < 0)
                        return r;
        }
        if (ret_id)
                memcpy(ret_id, config_digest, BERTH_DIGEST_STR_MAX);
        return 0;
}

int berth_image_import(berth_store *s, int fd, const berth_import_options *opts,
                       char ret_id[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_free_ char *name = NULL;
        berth_platform plat = { 0 };
        int r;

        if (opts->reference) {
                berth_reference ref = { 0 };
                r = berth_reference_parse(
                        opts->reference,
                        BERTH_REFERENCE_DEFAULT_TAG_FLAG | BERTH_REFERENCE_NO_DIGEST, &ref, err);
                if (r < 0)
                        return berth_error_prefix(err, "import");
                name = berth_reference_string(&ref);
                berth_reference_release(&ref);
                if (!name)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = opts->platform ? berth_platform_parse(opts->platform, &plat, err)
                           : berth_platform_host(&plat, err);
        if (r >= 0)
                r = import(s, fd, opts, name, &plat, ret_id, err);
        berth_platform_release(&plat);
        if (r < 0)
                return berth_error_prefix(err, "import");
        return 0;
}
