/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A client of the OCI distribution API (v2), over libcurl.
 *
 * One berth_registry talks to one registry host. It negotiates auth as the
 * registry asks: anonymous, Basic, or Bearer tokens from the realm named in
 * WWW-Authenticate (service and scope passed on; tokens cached per scope and
 * refreshed when they expire or are refused). Credentials come from the
 * options or berth_auth_lookup(), and are sent only to the registry host and
 * its token realm, never to foreign layer URLs or cross-host redirects.
 *
 * TLS is verified unless the host is insecure: listed in opts->insecure,
 * or a loopback address/"localhost" (as docker treats them). For an
 * insecure host https is tried first and plain http after it fails.
 * "docker.io" is reached at registry-1.docker.io.
 *
 * Thread safety: one berth_registry may be used from several threads at
 * once (each call uses its own curl handle; the token cache is locked).
 * Every size read from the network is bounded; every blob and manifest
 * fetched by digest is verified before the call returns success.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/digest.h"
#include "basic/error.h"
#include "image/auth.h"

typedef struct berth_registry berth_registry;

typedef struct berth_registry_options {
        const char *authfile;           /* or NULL: berth_auth_lookup's order */
        const berth_credentials *creds; /* explicit, overriding the files; or NULL */
        char **insecure;                /* hosts ("host:port") marked insecure, or NULL */
        bool tls_verify_off;            /* --tls-verify=false for this host */
        const char *ca_dir;             /* extra CA dir (certs.d/<host>/), or NULL */
        const char *user_agent;         /* or NULL: "berth/<version>" */
} berth_registry_options;

/* domain as in berth_reference ("docker.io", "localhost:5000"). */
int berth_registry_new(const char *domain, const berth_registry_options *opts, berth_registry **ret,
                       berth_error *err);
void berth_registry_free(berth_registry *r);
static inline void berth_registry_freep(berth_registry **r)
{
        berth_registry_free(*r);
}

/* GET /v2/ and authenticate: for `login` (EACCES with the registry's message on bad credentials).
 */
int berth_registry_ping(berth_registry *r, berth_error *err);

typedef struct berth_registry_manifest {
        char *data; /* the exact bytes */
        size_t len;
        char *media_type; /* Content-Type, or the document's mediaType */
        char digest[BERTH_DIGEST_STR_MAX];
} berth_registry_manifest;
void berth_registry_manifest_release(berth_registry_manifest *m);

/*
 * GET a manifest or index by tag or digest with Accept for OCI and Docker
 * schema 2 manifests and indexes. By digest, the bytes are verified against
 * it; by tag, the digest is computed from the bytes (and compared with
 * Docker-Content-Digest when present). ENOENT: "manifest unknown" naming
 * repo:ref. Bounded by BERTH_MANIFEST_MAX.
 */
int berth_registry_get_manifest(berth_registry *r, const char *repo, const char *ref,
                                berth_registry_manifest *ret, berth_error *err);

/*
 * Receives blob bytes in order. offset is where buf starts in the blob:
 * after a dropped connection the download resumes with Range from the
 * last byte delivered, so a sink sees each byte exactly once. Returning < 0
 * aborts the download with that error (err already set by the sink).
 */
typedef int (*berth_blob_sink)(void *userdata, const void *buf, size_t len, uint64_t offset,
                               berth_error *err);

/*
 * GET /v2/<repo>/blobs/<digest>, following redirects (to storage backends;
 * credentials are not forwarded to another host), and hands the bytes to
 * sink. At most `size` bytes are accepted (fail if more arrive or fewer
 * before EOF after retries); the digest of the whole is verified and a
 * mismatch fails with EBADMSG naming the digest. Up to 3 resumptions.
 * urls: foreign layer URLs to try first, without credentials (or NULL).
 */
int berth_registry_get_blob(berth_registry *r, const char *repo, const char *digest, int64_t size,
                            char *const *urls, berth_blob_sink sink, void *userdata,
                            berth_error *err);

/* HEAD a blob: 1 present, 0 absent. */
int berth_registry_blob_exists(berth_registry *r, const char *repo, const char *digest,
                               berth_error *err);

/* Cross-repository mount (POST ?mount=&from=): 1 mounted, 0 the registry would not (caller
 * uploads). */
int berth_registry_mount_blob(berth_registry *r, const char *repo, const char *from_repo,
                              const char *digest, berth_error *err);

/*
 * Uploads size bytes read from fd (at its current offset) as blob digest:
 * one PUT for blobs up to chunk_size (0 = 32 MiB), else PATCH chunks with
 * Content-Range and a final PUT, following the Location the registry gives.
 */
int berth_registry_put_blob(berth_registry *r, const char *repo, const char *digest, int64_t size,
                            int fd, uint64_t chunk_size, berth_error *err);

/* PUT a manifest or index under a tag or its digest. */
int berth_registry_put_manifest(berth_registry *r, const char *repo, const char *ref,
                                const char *data, size_t len, const char *media_type,
                                berth_error *err);

/* GET /v2/<repo>/tags/list, following Link pagination: NULL-terminated, sorted. */
int berth_registry_list_tags(berth_registry *r, const char *repo, char ***ret, berth_error *err);
