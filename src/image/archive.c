/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What save, load and import share: entry names, compression, tar output (archive-internal.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/archive-internal.h"
#include "image/decompress.h"
#include "image/image-archive.h"
#include "image/reference.h"

void archive_readp(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}

void archive_writep(struct archive **a)
{
        if (*a)
                archive_write_free(*a);
}

void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static const struct {
        const char *name;
        berth_archive_format format;
} format_names[] = {
        { "docker-archive", BERTH_ARCHIVE_DOCKER },
        { "oci-archive", BERTH_ARCHIVE_OCI },
        { "docker", BERTH_ARCHIVE_DOCKER },
        { "oci", BERTH_ARCHIVE_OCI },
};

int berth_archive_format_from_string(const char *s, berth_archive_format *ret, berth_error *err)
{
        for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
                if (strcmp(s, format_names[i].name) == 0) {
                        *ret = format_names[i].format;
                        return 0;
                }
        return berth_error_set(err, EINVAL,
                               "unknown archive format `%s` (docker-archive or oci-archive)", s);
}

const char *berth_archive_format_to_string(berth_archive_format f)
{
        for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
                if (format_names[i].format == f)
                        return format_names[i].name;
        return NULL;
}

int archive_clean_name(const char *name, char **ret, berth_error *err)
{
        size_t n = strlen(name);
        char *out = malloc(n + 1), *o = out;
        const char *p = name;

        if (!out)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (*p == '/') {
                free(out);
                return berth_error_set(err, EINVAL, "entry `%s`: absolute names are not allowed",
                                       name);
        }
        while (*p) {
                const char *seg = p;
                size_t len;

                while (*p && *p != '/')
                        p++;
                len = (size_t)(p - seg);
                while (*p == '/')
                        p++;
                if (len == 0 || (len == 1 && seg[0] == '.'))
                        continue;
                if (len == 2 && seg[0] == '.' && seg[1] == '.') {
                        free(out);
                        return berth_error_set(err, EINVAL, "entry `%s`: path escapes the archive",
                                               name);
                }
                if (o != out)
                        *o++ = '/';
                memcpy(o, seg, len);
                o += len;
        }
        *o = '\0';
        *ret = out;
        return 0;
}

archive_magic archive_sniff(const unsigned char *b, size_t len)
{
        if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
                return MAGIC_GZIP;
        if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
                return MAGIC_ZSTD;
        if (len >= 6 && memcmp(b,
                               "\xfd"
                               "7zXZ\0",
                               6) == 0)
                return MAGIC_XZ;
        if (len >= 3 && memcmp(b, "BZh", 3) == 0)
                return MAGIC_BZIP2;
        return MAGIC_NONE;
}

int archive_blob_uncompressed(berth_store *s, const char *digest, uint64_t max, archive_sink sink,
                              void *userdata, char ret_diff_id[BERTH_DIGEST_STR_MAX],
                              berth_error *err)
{
        _cleanup_(layer_stream_freep) layer_stream *ls = NULL;
        _cleanup_close_ int fd = berth_store_blob_open(s, digest, err);
        int r;

        if (fd < 0)
                return fd;
        /* layer.c's reader: ISA-L or libzstd in a thread of its own, hashing as it goes. */
        r = layer_stream_start(fd, max, &ls, err);
        if (r < 0)
                return r;
        for (;;) {
                const void *buf;
                ssize_t n = layer_stream_next(ls, &buf);
                if (n <= 0)
                        break;
                r = sink(userdata, buf, (size_t)n, err);
                if (r < 0) {
                        layer_stream_cancel(ls);
                        berth_error e = BERTH_ERROR_INIT;
                        (void)layer_stream_finish(ls, NULL, NULL, NULL, &e);
                        berth_error_release(&e);
                        return r;
                }
        }
        r = layer_stream_finish(ls, NULL, NULL, ret_diff_id, err);
        if (r < 0)
                return berth_error_prefix(err, "blob %s", digest);
        return 0;
}

/* ---- gzip ---- */

struct archive_gzip {
        struct isal_zstream z;
        uint8_t *level_buf;
        uint8_t *out;
        archive_sink sink;
        void *userdata;
};

int archive_gzip_new(archive_sink sink, void *userdata, archive_gzip **ret, berth_error *err)
{
        archive_gzip *g = calloc(1, sizeof(*g));

        if (!g)
                return berth_error_set(err, ENOMEM, "out of memory");
        g->level_buf = malloc(ISAL_DEF_LVL1_DEFAULT);
        g->out = malloc(ARCHIVE_COPY_BUF);
        if (!g->level_buf || !g->out) {
                archive_gzip_free(g);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        isal_deflate_init(&g->z);
        g->z.level = 1;
        g->z.level_buf = g->level_buf;
        g->z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
        g->z.gzip_flag = IGZIP_GZIP;
        g->z.flush = NO_FLUSH;
        g->sink = sink;
        g->userdata = userdata;
        *ret = g;
        return 0;
}

static int gzip_run(archive_gzip *g, berth_error *err)
{
        do {
                int r;
                g->z.next_out = g->out;
                g->z.avail_out = ARCHIVE_COPY_BUF;
                if (isal_deflate(&g->z) != COMP_OK)
                        return berth_error_set(err, EIO, "gzip: compression failed");
                size_t n = ARCHIVE_COPY_BUF - g->z.avail_out;
                if (n > 0) {
                        r = g->sink(g->userdata, g->out, n, err);
                        if (r < 0)
                                return r;
                }
        } while (g->z.avail_in > 0 || g->z.avail_out == 0 ||
                 (g->z.end_of_stream && g->z.internal_state.state != ZSTATE_END));
        return 0;
}

int archive_gzip_write(archive_gzip *g, const void *buf, size_t len, berth_error *err)
{
        const uint8_t *p = buf;

        while (len > 0) {
                uint32_t chunk = len > ARCHIVE_COPY_BUF ? ARCHIVE_COPY_BUF : (uint32_t)len;
                int r;

                g->z.next_in = (uint8_t *)p;
                g->z.avail_in = chunk;
                r = gzip_run(g, err);
                if (r < 0)
                        return r;
                p += chunk;
                len -= chunk;
        }
        return 0;
}

int archive_gzip_finish(archive_gzip *g, berth_error *err)
{
        g->z.next_in = NULL;
        g->z.avail_in = 0;
        g->z.end_of_stream = 1;
        return gzip_run(g, err);
}

void archive_gzip_free(archive_gzip *g)
{
        if (!g)
                return;
        free(g->level_buf);
        free(g->out);
        free(g);
}

/* ---- tar output ---- */

/* what: "entry `blobs/sha256/ab..`", "the archive". */
static int tar_error(struct archive *a, const char *what, const char *name, berth_error *err)
{
        int e = archive_errno(a);
        const char *msg = archive_error_string(a) ? archive_error_string(a) : "failed";

        if (name)
                return berth_error_set(err, e > 0 ? e : EIO, "write %s `%s`: %s", what, name, msg);
        return berth_error_set(err, e > 0 ? e : EIO, "write %s: %s", what, msg);
}

int archive_tar_writer(int fd, struct archive **ret, berth_error *err)
{
        _cleanup_(archive_writep) struct archive *a = archive_write_new();

        if (!a)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return tar_error(a, "the archive", NULL, err);
        *ret = TAKE_PTR(a);
        return 0;
}

static int tar_header(struct archive *a, const char *name, unsigned type, unsigned perm,
                      uint64_t size, berth_error *err)
{
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return berth_error_set(err, ENOMEM, "out of memory");
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_size(e, (la_int64_t)size);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return tar_error(a, "entry", name, err);
        return 0;
}

int archive_tar_dir(struct archive *a, const char *name, berth_error *err)
{
        return tar_header(a, name, AE_IFDIR, 0755, 0, err);
}

int archive_tar_begin(struct archive *a, const char *name, uint64_t size, berth_error *err)
{
        return tar_header(a, name, AE_IFREG, 0644, size, err);
}

int archive_tar_data(struct archive *a, const void *buf, size_t len, berth_error *err)
{
        const char *p = buf;

        while (len > 0) {
                la_ssize_t n = archive_write_data(a, p, len);
                if (n <= 0)
                        return tar_error(a, "the archive", NULL, err);
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int archive_tar_file(struct archive *a, const char *name, const void *data, size_t len,
                     berth_error *err)
{
        int r = archive_tar_begin(a, name, len, err);
        if (r < 0)
                return r;
        return archive_tar_data(a, data, len, err);
}

int archive_tar_close(struct archive *a, berth_error *err)
{
        if (archive_write_close(a) != ARCHIVE_OK)
                return tar_error(a, "the end of the archive", NULL, err);
        return 0;
}

char *archive_json_string(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        return s ? strdup(s) : NULL;
}

char *archive_familiar_name(const char *name)
{
        berth_reference ref = { 0 };
        berth_error e = BERTH_ERROR_INIT;
        char *f;

        if (berth_reference_parse(name, 0, &ref, &e) < 0) {
                berth_error_release(&e);
                return NULL;
        }
        f = berth_reference_familiar(&ref);
        berth_reference_release(&ref);
        return f;
}
