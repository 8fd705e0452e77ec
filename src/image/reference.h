/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Image references, parsed and normalised as docker does:
 *   busybox                    -> docker.io/library/busybox:latest
 *   library/busybox:1.36       -> docker.io/library/busybox:1.36
 *   localhost:5000/x/y:tag     -> localhost:5000/x/y:tag
 *   name@sha256:<hex>          -> docker.io/library/name@sha256:<hex>
 *   name:tag@sha256:<hex>      -> both kept; the digest is what is pulled
 * The first path component is a domain when it contains '.' or ':' or is
 * "localhost"; otherwise the domain is docker.io, and a single-component
 * path on docker.io gets "library/". "index.docker.io" is normalised to
 * "docker.io". Names must be lowercase ([a-z0-9] separated by '.', '_', '__'
 * or runs of '-'), at most 255 characters in all; tags are
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. A 64-hex string alone is an image ID,
 * not a name, and is refused by the parser (callers look IDs up first).
 */

#include <stdbool.h>

#include "basic/error.h"

typedef struct berth_reference {
        char *domain; /* "docker.io", "localhost:5000", "127.0.0.1:5000" */
        char *path;   /* "library/busybox" */
        char *tag;    /* "latest"; NULL when only a digest was given */
        char *digest; /* "sha256:<hex>" or NULL */
} berth_reference;

#define BERTH_REFERENCE_DEFAULT_DOMAIN "docker.io"
#define BERTH_REFERENCE_DEFAULT_TAG    "latest"

enum {
        /* Adds ":latest" when neither tag nor digest is given (pull, run, tag source). */
        BERTH_REFERENCE_DEFAULT_TAG_FLAG = 1 << 0,
        /* Refuses a digest (tag target, push destination name, import name). */
        BERTH_REFERENCE_NO_DIGEST = 1 << 1,
        /* Refuses a tag or digest: a bare repository name (pull -a, images REPO). */
        BERTH_REFERENCE_NAME_ONLY = 1 << 2,
};

/* Parses and normalises s; on error *ret is zeroed and err names s and what is wrong. */
int berth_reference_parse(const char *s, unsigned flags, berth_reference *ret, berth_error *err);
void berth_reference_release(berth_reference *r);

/* Newly allocated strings (NULL only when out of memory): */
/* "docker.io/library/busybox" */
char *berth_reference_repository(const berth_reference *r);
/* "busybox", "localhost:5000/x/y": docker.io and library/ dropped, as docker prints them */
char *berth_reference_familiar_repository(const berth_reference *r);
/* "docker.io/library/busybox:latest", "...@sha256:...", or "...:tag@sha256:..." */
char *berth_reference_string(const berth_reference *r);
/* "busybox:latest" and so on, the familiar form of the above */
char *berth_reference_familiar(const berth_reference *r);

/* True for 1-64 lowercase hex characters: something that may be an image ID (prefix). */
bool berth_reference_looks_like_id(const char *s);
