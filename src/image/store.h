/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The local image store.
 *
 * On disk, below the root (DESIGN.md, "State on disk"):
 *   berth.db                SQLite (WAL): images, names, repo digests, layers
 *   blobs/sha256/<hex>      content-addressed blobs (manifests, configs, layers)
 *   blobs/tmp/              blobs being written
 *   layers/<hex>/diff       an unpacked layer, <hex> its ChainID's
 *   layers/l/<short>        a short symlink to ../<hex>/diff, for overlay's lowerdir
 *   layers/tmp/             layers being unpacked
 * and in the run dir: locks/ (flock files).
 *
 * Crash safety: a blob is written to blobs/tmp/ and renamed into
 * blobs/sha256/ only once its digest is verified; a layer is unpacked into
 * layers/tmp/ and renamed into place only when complete; rows that make
 * something visible are inserted in one transaction after the files are in
 * place. Whoever writes into tmp/ holds a lock on that entry, so the next
 * berth_store_open() removes the entries nobody holds (a killed pull).
 * Layers and blobs that no image refers to are removed by
 * berth_store_gc(), which rmi and prune call.
 *
 * Concurrency: many processes may use a store at once. Each layer and blob
 * being produced is locked by ChainID/digest, so two pulls of one image do
 * the work once: the second waits, then finds it done.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "basic/digest.h"
#include "basic/error.h"

typedef struct berth_store berth_store;

/*
 * Opens (creating as needed) the store at root with its run dir. NULLs pick
 * the defaults: BERTH_ROOT / BERTH_RUNROOT, else /var/lib/berth and
 * /run/berth as root, $XDG_DATA_HOME/berth and $XDG_RUNTIME_DIR/berth
 * otherwise.
 */
int berth_store_open(const char *root, const char *runroot, berth_store **ret, berth_error *err);
void berth_store_free(berth_store *s);
static inline void berth_store_freep(berth_store **s)
{
        berth_store_free(*s);
}
const char *berth_store_root(const berth_store *s);
const char *berth_store_runroot(const berth_store *s);

/*
 * Producers of new content (pull, load, import, commit) hold a lease from
 * before their first blob or layer until berth_store_image_add() has made
 * them referenced: berth_store_gc() waits for every lease to end, so it
 * never removes something that is about to be used. Returns an fd that
 * ends the lease when closed.
 */
int berth_store_lease(berth_store *s, berth_error *err);

/* ---- blobs ---- */

bool berth_store_has_blob(berth_store *s, const char *digest);
/* O_RDONLY|O_CLOEXEC fd of a blob; ENOENT names the digest. */
int berth_store_blob_open(berth_store *s, const char *digest, berth_error *err);
/* Whole blob into memory, at most max bytes (EFBIG beyond). */
int berth_store_blob_read(berth_store *s, const char *digest, size_t max, char **ret,
                          size_t *ret_len, berth_error *err);
/* Writes a whole buffer as a blob; expected may be NULL. ret_digest may be NULL. */
int berth_store_blob_put(berth_store *s, const void *data, size_t len, const char *expected,
                         char ret_digest[BERTH_DIGEST_STR_MAX], berth_error *err);

/*
 * A blob being written: bytes are hashed as they go to blobs/tmp/; commit
 * verifies digest and size (when expected ones were given) and renames it
 * into place. Freeing an uncommitted writer removes the temporary file.
 * Two writers of the same expected digest serialise on its lock; begin
 * returns 1 (and no writer) when the blob is already there after the wait.
 */
typedef struct berth_blob_writer berth_blob_writer;
int berth_blob_writer_begin(berth_store *s, const char *expected_digest, int64_t expected_size,
                            berth_blob_writer **ret, berth_error *err);
int berth_blob_writer_write(berth_blob_writer *w, const void *buf, size_t len, berth_error *err);
/* Drops what was written (for a restart from scratch). */
int berth_blob_writer_reset(berth_blob_writer *w, berth_error *err);
uint64_t berth_blob_writer_size(const berth_blob_writer *w);
int berth_blob_writer_commit(berth_blob_writer *w, char ret_digest[BERTH_DIGEST_STR_MAX],
                             berth_error *err);
void berth_blob_writer_free(berth_blob_writer *w);
static inline void berth_blob_writer_freep(berth_blob_writer **w)
{
        berth_blob_writer_free(*w);
}

/* ---- layers ---- */

bool berth_store_has_layer(berth_store *s, const char *chain_id);

/*
 * Starts producing layer chain_id: takes its lock (waiting for another
 * producer), and returns 1 with *ret NULL when it exists by then, else 0
 * with a transaction whose directory (berth_layer_tx_dirfd) is empty and
 * private. Commit renames it into place and records it; free without commit
 * removes it.
 */
typedef struct berth_layer_tx berth_layer_tx;
int berth_store_layer_begin(berth_store *s, const char *chain_id, berth_layer_tx **ret,
                            berth_error *err);
int berth_layer_tx_dirfd(const berth_layer_tx *tx);
/* parent: the ChainID below it, or NULL for a base layer. size: bytes on disk (tar size). */
int berth_layer_tx_commit(berth_layer_tx *tx, const char *diff_id, const char *parent,
                          uint64_t size, berth_error *err);
void berth_layer_tx_free(berth_layer_tx *tx);
static inline void berth_layer_tx_freep(berth_layer_tx **tx)
{
        berth_layer_tx_free(*tx);
}

/* Absolute path of a layer's diff directory, and its short lowerdir form
 * relative to layers/ ("l/<short>"); malloc'd. */
char *berth_store_layer_path(berth_store *s, const char *chain_id);
char *berth_store_layer_short(berth_store *s, const char *chain_id);
int berth_store_layers_dirfd(berth_store *s);

/* ---- images ---- */

typedef struct berth_image_layer {
        char chain_id[BERTH_DIGEST_STR_MAX];
        char diff_id[BERTH_DIGEST_STR_MAX];
        char blob_digest[BERTH_DIGEST_STR_MAX]; /* the manifest's layer descriptor */
        char *blob_media_type;
        int64_t blob_size;
        uint64_t size; /* uncompressed; the store's figure when read, ignored by image_add */
} berth_image_layer;

typedef struct berth_image {
        char id[BERTH_DIGEST_STR_MAX]; /* the config's digest */
        char manifest_digest[BERTH_DIGEST_STR_MAX];
        char *manifest_media_type;
        char **names;        /* "docker.io/library/busybox:latest", sorted; may be empty */
        char **repo_digests; /* "docker.io/library/busybox@sha256:..."; may be empty */
        int64_t created;     /* from the config, seconds since the epoch, 0 unknown */
        int64_t added;       /* when it came into this store */
        uint64_t size;       /* sum of the layers' uncompressed sizes */
        berth_image_layer *layers;
        size_t n_layers;
} berth_image;

void berth_image_release(berth_image *img);
void berth_images_free(berth_image *v, size_t n);

/*
 * What an image is made of, to record once its blobs and layers are all in
 * the store: config and manifest must be stored blobs; every layer's
 * chain_id a committed layer (its blob may be absent: a layer that came
 * from a docker-archive without compressed form keeps the tar digest).
 * `names` are moved to this image from any other; `repo_digest` (a
 * "repo@digest" string, or NULL) added. Idempotent.
 */
typedef struct berth_image_add {
        const char *config_digest;
        const char *manifest_digest;
        const char *manifest_media_type;
        const berth_image_layer *layers;
        size_t n_layers;
        int64_t created;
        char *const *names;      /* NULL-terminated or NULL */
        const char *repo_digest; /* or NULL */
} berth_image_add;
int berth_store_image_add(berth_store *s, const berth_image_add *a, berth_error *err);

/*
 * Finds an image: a name in any form berth_reference_parse() takes (with
 * :latest added), "name@digest" (by repo digest or manifest digest), a full
 * "sha256:<id>" or an ID prefix of at least 1 hex digit that is unique
 * (EINVAL "ambiguous" otherwise). ENOENT: "No such image: <s>".
 */
int berth_store_image_find(berth_store *s, const char *s_ref, berth_image *ret, berth_error *err);
int berth_store_image_get(berth_store *s, const char *id, berth_image *ret, berth_error *err);
/* All images, newest added first. */
int berth_store_image_list(berth_store *s, berth_image **ret, size_t *ret_n, berth_error *err);

/* Gives image id the name (a normalised "repo:tag"), taking it from any other image. */
int berth_store_image_tag(berth_store *s, const char *id, const char *name, berth_error *err);
/* Removes a name; ENOENT when no image has it. */
int berth_store_image_untag(berth_store *s, const char *name, berth_error *err);
/*
 * Removes the image record (names, digests too); its layers and blobs go at
 * the next gc. EBUSY while the image is mounted (snapshot.h, berth_image_mount).
 */
int berth_store_image_delete(berth_store *s, const char *id, berth_error *err);

/*
 * Removes what no image refers to: layers (a layer is kept while a layer
 * above it is), blobs, and stale temporary entries. Reports removed layer
 * ChainIDs through cb (may be NULL) and the bytes freed.
 */
typedef void (*berth_store_gc_cb)(void *userdata, const char *kind, const char *digest);
int berth_store_gc(berth_store *s, berth_store_gc_cb cb, void *userdata, uint64_t *ret_freed,
                   berth_error *err);
