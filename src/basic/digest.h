/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Content digests as the OCI image spec writes them: "sha256:<64 hex>".
 *
 * A berth_hasher computes one incrementally (OpenSSL's EVP, which uses the
 * CPU's SHA extensions where there are some). Only sha256 is produced;
 * berth_digest_validate() also accepts sha512 so that a reference naming one
 * gets a clear "unsupported" rather than a parse error.
 */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"

#define BERTH_DIGEST_ALGO    "sha256"
#define BERTH_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define BERTH_DIGEST_STR_MAX (sizeof(BERTH_DIGEST_ALGO ":") + BERTH_DIGEST_HEX_LEN)

typedef struct berth_hasher berth_hasher;

/* NULL only when out of memory. */
berth_hasher *berth_hasher_new(void);
void berth_hasher_update(berth_hasher *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" to ret; the hasher may not be updated afterwards. */
void berth_hasher_final(berth_hasher *h, char ret[BERTH_DIGEST_STR_MAX]);
void berth_hasher_free(berth_hasher *h);
static inline void berth_hasher_freep(berth_hasher **h)
{
        berth_hasher_free(*h);
}

void berth_digest_buffer(const void *buf, size_t len, char ret[BERTH_DIGEST_STR_MAX]);
/* Digest of everything readable from fd (from its current offset). */
int berth_digest_fd(int fd, char ret[BERTH_DIGEST_STR_MAX], berth_error *err);

/*
 * Checks "algo:hex" syntax: sha256 with 64 lowercase hex digits. Other
 * algorithms (sha512, ...) fail with ENOTSUP naming the algorithm; anything
 * else with EINVAL naming the digest.
 */
int berth_digest_validate(const char *digest, berth_error *err);
/* The hex part of a validated digest (after the colon). */
const char *berth_digest_hex(const char *digest);
