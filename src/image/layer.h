/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Layer application: a tar stream (plain, gzip or zstd, told apart by their
 * magic bytes) unpacked into a directory, in the form overlayfs reads:
 *   - "a/.wh.b"           -> a/b as a whiteout (character device 0:0)
 *   - "a/.wh..wh..opq"    -> a marked opaque (xattr trusted.overlay.opaque=y)
 * Other ".wh." names are refused, but aufs' metadata (".wh..wh.plnk" and
 * the like, in old images) is skipped, as docker skips it. Hardlinks,
 * symlinks, device nodes, fifos,
 * xattrs (SCHILY.xattr / LIBARCHIVE.xattr), ownership, modes (incl. setuid)
 * and mtimes are kept; directories get their mtime after their contents.
 *
 * Every write is confined to the layer directory: names are cleaned
 * lexically ("/x" becomes "x", a ".." that climbs out is refused) and
 * parents resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS) (or
 * a checked walk that follows no symlink), so an entry named "../x", a
 * symlink pointing out and then written through, or a hardlink to a file
 * outside the layer, cannot reach anything outside; such entries are refused
 * with an error naming them
 * ("layer sha256:ab..: entry `../../etc/passwd`: path escapes the layer").
 * Later entries replace earlier ones with the same name, as tar does.
 *
 * The caller unpacks into a fresh, private directory and renames it into
 * place only on success; on failure the directory is left for it to remove.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/digest.h"
#include "basic/error.h"

typedef struct berth_layer_options {
        const char *what;     /* names the layer in errors: "layer sha256:ab12.." */
        uint64_t max_entries; /* 0 = BERTH_LAYER_MAX_ENTRIES */
        uint64_t max_bytes;   /* uncompressed tar bytes; 0 = BERTH_LAYER_MAX_BYTES */
        bool allow_devices;   /* block/char devices other than whiteouts (false: refused) */
        bool keep_ownership;  /* chown entries to the tar's uid/gid (true as root) */
        /* Added to every uid/gid (for a container's user namespace), 0 = none. */
        uid_t uid_shift;
        gid_t gid_shift;
        /* Docker's form instead of overlayfs': whiteouts kept as ".wh." files
         * (for `import` to a directory used with the copying fallback). */
        bool raw_whiteouts;
} berth_layer_options;

#define BERTH_LAYER_MAX_ENTRIES 1000000ull
#define BERTH_LAYER_MAX_BYTES   (64ull << 30)

typedef struct berth_layer_stats {
        uint64_t entries;
        uint64_t tar_bytes;                 /* uncompressed size */
        uint64_t compressed_bytes;          /* bytes read from fd */
        char diff_id[BERTH_DIGEST_STR_MAX]; /* sha256 of the uncompressed tar */
} berth_layer_stats;

/*
 * Reads a layer from fd until EOF (a pipe or a file), decompressing and
 * hashing as it goes, and unpacks it below dirfd. The decompressor runs in
 * a thread of its own so that inflating overlaps with writing files.
 * Also succeeds on an empty stream (0 bytes): an empty layer.
 * On success fills *ret_stats (which may be NULL).
 */
int berth_layer_apply(int dirfd, int fd, const berth_layer_options *opts,
                      berth_layer_stats *ret_stats, berth_error *err);

/*
 * Writes the tar stream of a directory tree, converting overlayfs whiteouts
 * and opaque markers back to ".wh." entries, sorted by name, with
 * deterministic headers (no atime/ctime, PAX only where needed) so that the
 * same tree gives the same bytes. Used by `commit` and `save` of images whose
 * compressed blobs are gone.
 */
int berth_layer_write_tar(int dirfd, int out_fd, berth_layer_stats *ret_stats, berth_error *err);
