/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers shared by archive-save.c, archive-load.c and import.c. */

#include <archive.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/manifest.h"
#include "image/store.h"

#define ARCHIVE_COPY_BUF (1u << 20)

void archive_readp(struct archive **a);
void archive_writep(struct archive **a);
void json_putp(json_object **o);

/*
 * An entry name as it will be looked up: "./" prefixes, repeated and
 * trailing slashes dropped ("./blobs//sha256/" -> "blobs/sha256"). "" for
 * the archive's root. EINVAL when absolute or when a ".." component
 * appears: archives name files inside themselves only.
 */
int archive_clean_name(const char *name, char **ret, berth_error *err);

/* The magic-byte compression of a stream's first bytes (len may be short). */
typedef enum archive_magic {
        MAGIC_NONE,
        MAGIC_GZIP,
        MAGIC_ZSTD,
        MAGIC_XZ,
        MAGIC_BZIP2,
} archive_magic;
archive_magic archive_sniff(const unsigned char *buf, size_t len);

/*
 * Calls sink with the uncompressed bytes of a stored blob (plain, gzip or
 * zstd, told apart by their magic), at most max bytes; ret_diff_id (may be
 * NULL) gets their digest.
 */
typedef int (*archive_sink)(void *userdata, const void *buf, size_t len, berth_error *err);
int archive_blob_uncompressed(berth_store *s, const char *digest, uint64_t max, archive_sink sink,
                              void *userdata, char ret_diff_id[BERTH_DIGEST_STR_MAX],
                              berth_error *err);

/* A gzip stream (ISA-L, level 1) whose output goes to a sink. */
typedef struct archive_gzip archive_gzip;
int archive_gzip_new(archive_sink sink, void *userdata, archive_gzip **ret, berth_error *err);
int archive_gzip_write(archive_gzip *g, const void *buf, size_t len, berth_error *err);
int archive_gzip_finish(archive_gzip *g, berth_error *err);
void archive_gzip_free(archive_gzip *g);
static inline void archive_gzip_freep(archive_gzip **g)
{
        archive_gzip_free(*g);
}

/* Tar output: pax where ustar falls short, mtime 0, owner 0:0, no block padding. */
int archive_tar_writer(int fd, struct archive **ret, berth_error *err);
int archive_tar_dir(struct archive *a, const char *name, berth_error *err);
int archive_tar_file(struct archive *a, const char *name, const void *data, size_t len,
                     berth_error *err);
/* Starts a regular file of size bytes; the caller writes exactly that many with archive_tar_data.
 */
int archive_tar_begin(struct archive *a, const char *name, uint64_t size, berth_error *err);
int archive_tar_data(struct archive *a, const void *buf, size_t len, berth_error *err);
int archive_tar_close(struct archive *a, berth_error *err);

/* A small JSON document as the compact string Go's encoding/json writes; NULL when out of memory.
 */
char *archive_json_string(json_object *o);

/* "docker.io/library/busybox:latest" -> "busybox:latest"; NULL when not a name. */
char *archive_familiar_name(const char *name);
