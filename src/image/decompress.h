/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The reading half of layer application: a thread that reads a layer from an
 * fd, tells gzip (1f 8b), zstd (28 b5 2f fd) and plain tar apart by their
 * first bytes, decompresses (ISA-L's igzip, libzstd), hashes the uncompressed
 * bytes into the diff_id and hands them on in large blocks through a small
 * ring, so that inflating overlaps with the tar parser writing files.
 *
 * One consumer: layer_stream_next() returns the next block, which stays valid
 * (and is not reused by the thread) until the following call. Errors of the
 * thread (read errors, corrupt or truncated streams, more than max_bytes
 * uncompressed) are returned by layer_stream_next() as -errno once the
 * blocks before them have been consumed, and described by
 * layer_stream_finish().
 */

#include <stdint.h>
#include <sys/types.h>

#include "basic/digest.h"
#include "basic/error.h"

typedef struct layer_stream layer_stream;

typedef enum layer_compression {
        LAYER_PLAIN,
        LAYER_GZIP,
        LAYER_ZSTD,
} layer_compression;

/* Starts the thread on fd (not taken: the caller keeps it open until layer_stream_free). */
int layer_stream_start(int fd, uint64_t max_bytes, layer_stream **ret, berth_error *err);

/* Next block of uncompressed bytes: its size, 0 at the end, or -errno. */
ssize_t layer_stream_next(layer_stream *s, const void **ret_buf);

/*
 * Reads and hashes the rest of the stream without handing it on (what follows
 * the tar's end-of-archive blocks still counts in the diff_id).
 */
int layer_stream_drain(layer_stream *s);

/* Asks the thread to stop early; layer_stream_finish() then joins it quickly. */
void layer_stream_cancel(layer_stream *s);

/*
 * Joins the thread. On success (the whole stream was read) returns 0 and
 * fills the sizes and the diff_id; otherwise returns the thread's error, with
 * its message in *err. Call once.
 */
int layer_stream_finish(layer_stream *s, uint64_t *ret_bytes, uint64_t *ret_compressed,
                        char ret_diff_id[BERTH_DIGEST_STR_MAX], berth_error *err);

/* What the first bytes said; valid once layer_stream_next() returned. */
layer_compression layer_stream_compression(const layer_stream *s);

/* Joins the thread if still running (cancelling it first) and frees. NULL is fine. */
void layer_stream_free(layer_stream *s);
static inline void layer_stream_freep(layer_stream **s)
{
        layer_stream_free(*s);
}
