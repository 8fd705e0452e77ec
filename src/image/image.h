/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the `berth` CLI (and later the API server) does with images, over
 * the store (store.h), the registry client (registry.h), the formats
 * (manifest.h) and layer application (layer.h). Each call is one user
 * command's worth of work; messages in err read as docker's do.
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "image/manifest.h"
#include "image/registry.h"
#include "image/store.h"

/* ---- progress ---- */

typedef enum berth_progress_state {
        BERTH_PROGRESS_RESOLVED,    /* id = the reference; text = "latest: Pulling from
                                       library/busybox" */
        BERTH_PROGRESS_WAITING,     /* a layer is queued ("Waiting") */
        BERTH_PROGRESS_EXISTS,      /* "Already exists" */
        BERTH_PROGRESS_DOWNLOADING, /* current/total bytes */
        BERTH_PROGRESS_EXTRACTING,  /* current/total: compressed bytes consumed so far */
        BERTH_PROGRESS_COMPLETE,    /* "Pull complete" / "Pushed" */
        BERTH_PROGRESS_PUSHING,     /* current/total bytes */
        BERTH_PROGRESS_MOUNTED,     /* "Mounted from <text>" */
        BERTH_PROGRESS_SKIPPED,     /* "Layer already exists" (push) */
        BERTH_PROGRESS_MESSAGE,     /* a whole line: "Digest: sha256:..." */
} berth_progress_state;

/*
 * Called from several threads (one per layer), serialised by the caller of
 * the callback (the library holds a lock around each call). id is a layer's
 * short id (12 hex digits of its blob digest), or NULL for MESSAGE lines.
 */
typedef struct berth_progress {
        void (*update)(void *userdata, const char *id, berth_progress_state state, uint64_t current,
                       uint64_t total, const char *text);
        void *userdata;
} berth_progress;

/* ---- pull ---- */

typedef struct berth_pull_options {
        const char *platform;    /* "linux/arm64", or NULL for this host's */
        bool all_tags;           /* pull -a: every tag of the repository */
        unsigned max_concurrent; /* layers at once; 0 = 3, as docker */
        berth_registry_options registry;
        const berth_progress *progress; /* or NULL */
} berth_pull_options;

/*
 * Pulls ref (anything berth_reference_parse() takes) into the store and
 * names it. ret_id (may be NULL) gets the image ID; ret_updated is true
 * when the name now points at content it did not before ("Downloaded newer
 * image" vs "Image is up to date"). A pull interrupted at any point leaves
 * the store consistent: nothing new is visible until the image is
 * complete, and what was unpacked is reused or removed by the next command.
 */
int berth_image_pull(berth_store *s, const char *ref, const berth_pull_options *opts,
                     char ret_id[BERTH_DIGEST_STR_MAX], bool *ret_updated, berth_error *err);

/* ---- local operations ---- */

/* Reads and parses a stored image's config (image inspect, history, run). */
int berth_image_config_load(berth_store *s, const berth_image *img, berth_image_config **ret,
                            berth_error *err);

/* RFC 3339 ("2024-01-02T03:04:05.123456789Z", offsets allowed) to seconds; -EINVAL when not one. */
int berth_parse_rfc3339(const char *s, int64_t *ret);

/* ---- push ---- */

typedef struct berth_push_options {
        bool all_tags;           /* push -a: every local tag of the repository */
        unsigned max_concurrent; /* blobs at once; 0 = 5, as docker */
        uint64_t chunk_size;     /* 0 = the registry client's default */
        berth_registry_options registry;
        const berth_progress *progress;
} berth_push_options;

/*
 * Pushes the local image named ref (its name is the destination) with its
 * exact manifest, config and layer blobs, so the digest on the registry is
 * the digest here. Blobs the registry has are skipped (HEAD); blobs the
 * image was pulled with from another repository of the same registry are
 * mounted from there. ret_digest/ret_size (may be NULL) get the manifest's
 * digest and size, as docker prints them.
 */
int berth_image_push(berth_store *s, const char *ref, const berth_push_options *opts,
                     char ret_digest[BERTH_DIGEST_STR_MAX], uint64_t *ret_size, berth_error *err);
