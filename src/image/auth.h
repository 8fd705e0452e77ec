/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Registry credentials where docker and podman keep them: an "auths" object
 * keyed by registry host, each entry {"auth": base64("user:password")}.
 *
 * Lookup order (first file that has an entry for the host wins):
 *   1. an explicit file (--authfile, or REGISTRY_AUTH_FILE)
 *   2. ${XDG_RUNTIME_DIR}/containers/auth.json (podman's)
 *   3. ${DOCKER_CONFIG:-~/.docker}/config.json (docker's)
 * docker.io credentials are also found under "https://index.docker.io/v1/",
 * the key docker writes. `login` writes to the explicit file if given, else
 * to docker's config.json (which podman also reads), keeping every other
 * key of that file as it was, written atomically with mode 0600.
 * credsStore/credHelpers (external helper programs) are not run: an entry
 * that only names a helper gives a clear error rather than anonymous access.
 */

#include "basic/error.h"

typedef struct berth_credentials {
        char *username;
        char *password; /* or an identity token */
} berth_credentials;

void berth_credentials_release(berth_credentials *c);

/* 1 and *ret filled when found, 0 when there are none for host, < 0 on a broken file. */
int berth_auth_lookup(const char *authfile, const char *host, berth_credentials *ret,
                      berth_error *err);
/* Stores (login) or removes (logout; ENOENT when not logged in) host's entry. */
int berth_auth_store(const char *authfile, const char *host, const berth_credentials *c,
                     berth_error *err);
int berth_auth_remove(const char *authfile, const char *host, berth_error *err);
/* The file login writes to, malloc'd. */
char *berth_auth_default_file(const char *authfile);
