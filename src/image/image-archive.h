/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Image archives: `berth save`, `berth load` and `berth import`, in the
 * formats docker and podman read and write.
 *
 * docker-archive (what `docker save` writes since Docker 25, and what
 * `berth save` writes by default) is at once the legacy docker layout and
 * an OCI image layout:
 *   blobs/sha256/<hex>   configs, uncompressed layer tars (named by their
 *                        diff_id), and one OCI manifest per image whose
 *                        layers are those tars
 *   index.json           an OCI index of those manifests, one entry per name,
 *                        annotated io.containerd.image.name (full name) and
 *                        org.opencontainers.image.ref.name (the tag)
 *   manifest.json        [{"Config":"blobs/sha256/<hex>","RepoTags":[...],
 *                          "Layers":["blobs/sha256/<diff_id hex>",...]}]
 *   repositories         {"busybox":{"latest":"<top layer's hex>"}}
 *   oci-layout           {"imageLayoutVersion":"1.0.0"}
 * Layers are uncompressed because manifest.json readers (docker before 25,
 * podman's docker-archive transport) take a layer's digest for its diff_id.
 *
 * oci-archive (podman save --format oci-archive) is an OCI image layout in
 * a tar holding the image's exact blobs (manifest, config and compressed
 * layers as pulled), so its manifest digest is preserved; index.json has
 * one entry per name with the same two annotations.
 *
 * Tars are written with pax headers only where ustar falls short, entries
 * in name order, owned by 0:0, mode 0644/0755 and mtime 0, so that the same
 * images give the same bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/digest.h"
#include "basic/error.h"
#include "image/store.h"

typedef enum berth_archive_format {
        BERTH_ARCHIVE_DOCKER,
        BERTH_ARCHIVE_OCI,
} berth_archive_format;

/* "docker-archive" (also "docker") and "oci-archive" (also "oci"); EINVAL lists them. */
int berth_archive_format_from_string(const char *s, berth_archive_format *ret, berth_error *err);
const char *berth_archive_format_to_string(berth_archive_format f);

/* ---- save ---- */

/*
 * Writes the images refs name (n of them: names, "name@digest", IDs or ID
 * prefixes, as berth_store_image_find() takes them) to fd as one archive.
 * A name contributes itself to the image's RepoTags; a bare repository
 * ("busybox", no tag) every tag of that repository, as docker save does;
 * an ID none. An image given twice is written once. Nothing is written
 * before every image is found and every layer is known to be reproducible:
 * a docker-archive layer comes from the stored blob, decompressed, and
 * from the unpacked directory only when that gives the same diff_id
 * (EBADMSG otherwise, naming the layer). A layer whose content turns out
 * not to match while it is being written fails the save (the output is then
 * incomplete: the caller removes a partial file).
 */
int berth_image_save(berth_store *s, char *const *refs, size_t n_refs, berth_archive_format format,
                     int fd, berth_error *err);

/* ---- load ---- */

#define BERTH_ARCHIVE_MAX_ENTRIES 100000ull
#define BERTH_ARCHIVE_MAX_BYTES   (256ull << 30)
/* manifest.json, index.json, repositories and other small metadata files. */
#define BERTH_ARCHIVE_META_MAX (4u << 20)

typedef struct berth_load_options {
        const char *platform; /* the entry of a multi-platform index to load; NULL: the host's */
        uint64_t max_entries; /* 0 = BERTH_ARCHIVE_MAX_ENTRIES */
        uint64_t max_bytes;   /* sum of the entries' sizes, and each layer's uncompressed size
                                 (at most BERTH_LAYER_MAX_BYTES); 0 = BERTH_ARCHIVE_MAX_BYTES */
} berth_load_options;

typedef struct berth_loaded_image {
        char id[BERTH_DIGEST_STR_MAX];
        char **names; /* normalised ("docker.io/library/busybox:latest"), NULL-terminated */
} berth_loaded_image;

typedef struct berth_load_result {
        berth_loaded_image *images; /* in archive order */
        size_t n_images;
} berth_load_result;

void berth_load_result_release(berth_load_result *r);

/*
 * Loads every image of an archive read from fd (a file or a pipe: the
 * stream is read once, front to back; gzip, zstd, xz and bzip2 compression
 * are undone). Accepted: the legacy docker-archive (manifest.json,
 * <id>/layer.tar, <hex>.json, symlinked duplicates), the Docker 25+ one,
 * podman's/skopeo's docker-archive, and OCI archives (index.json, nested
 * indexes: the platform asked for is picked from each). Names come from
 * manifest.json's RepoTags, else from index.json's io.containerd.image.name
 * or a full org.opencontainers.image.ref.name ("busybox:1.36"; a bare tag
 * like "latest" names nothing); images without one load unnamed.
 *
 * Every entry is checked as it streams past: names with ".." or a leading
 * "/" are refused, files in blobs/sha256/ must hash to their name, and
 * counts and sizes are bounded by opts. Then each layer is unpacked from
 * the stored blob and its diff_id checked against the config. Images are
 * recorded only after all of them are complete, so a broken archive leaves
 * no image (EBADMSG, ENOENT, E2BIG, ... with a message naming the entry).
 */
int berth_image_load(berth_store *s, int fd, const berth_load_options *opts, berth_load_result *ret,
                     berth_error *err);

/* The same for an OCI image layout (or an unpacked docker-archive) in directory path. */
int berth_image_load_dir(berth_store *s, const char *path, const berth_load_options *opts,
                         berth_load_result *ret, berth_error *err);

/* ---- import ---- */

typedef struct berth_import_options {
        const char *reference; /* "REPOSITORY[:TAG]" to name the image, or NULL */
        char *const *changes;  /* Dockerfile instructions (change.h), NULL-terminated, or NULL */
        const char *message;   /* history comment; NULL: "Imported from -", docker's wording */
        const char *platform;  /* "linux/arm64"; NULL: the host's */
        bool have_created;     /* use `created` (SOURCE_DATE_EPOCH) instead of now */
        int64_t created;       /* seconds since the epoch */
} berth_import_options;

/*
 * Makes a one-layer image from a root filesystem tarball read from fd
 * (plain, gzip, zstd, xz or bzip2). The layer is stored as given when it
 * is gzip or zstd (no recompression, as docker's containerd store does),
 * else gzipped with ISA-L at level 1; the manifest is an OCI one. The
 * config has the platform, the --change'd container config, created and
 * one history entry {"created", "comment": message} as docker writes it.
 * With the same tarball, changes, message, platform and created time, the
 * image ID is the same everywhere. ret_id gets it.
 */
int berth_image_import(berth_store *s, int fd, const berth_import_options *opts,
                       char ret_id[BERTH_DIGEST_STR_MAX], berth_error *err);
