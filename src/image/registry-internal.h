/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The pure parts of the registry client and the credentials file, shared
 * between auth.c, registry-http.c and registry.c, and exposed here so the
 * unit tests can reach them. Not part of the image layer's API.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"

/* RFC 4648 base64 with padding. NULL only when out of memory. */
char *berth_base64_encode(const void *data, size_t len);
/*
 * Decodes standard base64; padding may be omitted, whitespace is not
 * allowed. The result is NUL-terminated (not counted in *ret_len).
 * -EINVAL on bad input, -ENOMEM.
 */
int berth_base64_decode(const char *s, char **ret, size_t *ret_len);

/* The auths key docker writes for Docker Hub. */
#define BERTH_AUTH_DOCKER_HUB_KEY "https://index.docker.io/v1/"

/*
 * Whether an "auths" key names host: equal, or equal once a scheme and a
 * path are taken off ("https://h:5000/v1/" names "h:5000"), case-insensitive;
 * the Docker Hub aliases (index.docker.io, registry-1.docker.io) name
 * "docker.io".
 */
bool berth_auth_key_matches(const char *key, const char *host);

typedef enum berth_auth_scheme {
        BERTH_AUTH_SCHEME_NONE,
        BERTH_AUTH_SCHEME_BASIC,
        BERTH_AUTH_SCHEME_BEARER,
} berth_auth_scheme;

/* One WWW-Authenticate challenge, the one berth answers. */
typedef struct berth_challenge {
        berth_auth_scheme scheme;
        char *realm; /* Bearer: the token service; Basic: informational */
        char *service;
        char *scope; /* what the registry asked for, or NULL */
        char *error; /* "invalid_token", "insufficient_scope", or NULL */
} berth_challenge;

void berth_challenge_release(berth_challenge *c);

/*
 * Parses a WWW-Authenticate value (RFC 7235: one or more challenges,
 * auth-params with quoted-string values that may hold commas and
 * backslash escapes). Bearer is preferred over Basic when both are
 * offered; other schemes are skipped. 0 when one was found, -ENOTSUP when
 * only unknown schemes were offered, -EINVAL on a syntax error (message in
 * err), -ENOMEM. A Bearer challenge without a realm is -EINVAL.
 */
int berth_challenge_parse(const char *header, berth_challenge *ret, berth_error *err);

/*
 * The target of the rel="next" link in a Link header value
 * (`</v2/x/tags/list?last=b&n=2>; rel="next"`), as written (it may be
 * relative). 1 and *ret filled, 0 when there is none, -EINVAL when the
 * value is malformed, -ENOMEM.
 */
int berth_link_next(const char *header, char **ret);

/* "localhost", "127.0.0.0/8" and "::1", with or without a port. */
bool berth_registry_host_is_loopback(const char *host);

/*
 * Whether TLS may go unverified for host and plain http be tried after
 * https: listed in `insecure` (exact "host:port" or "host"), loopback, or
 * tls_verify_off.
 */
bool berth_registry_host_is_insecure(const char *host, char *const *insecure, bool tls_verify_off);

/*
 * A token service's reply: "token" or "access_token" (the first non-empty
 * one), "expires_in" in seconds (absent or below 60: 60, as the docker
 * token spec says). -EINVAL with a message when neither token is there.
 */
int berth_token_reply_parse(const char *data, size_t len, char **ret_token, int64_t *ret_expires_in,
                            berth_error *err);

/*
 * What a registry's error body says, for messages: the "errors" array of
 * the distribution spec as "code: message" ("unauthorized: authentication
 * required"; just the message when it repeats the code, "manifest
 * unknown"), several joined by "; "; else a token service's "details" or
 * "error"/"error_description"; else NULL (the caller names the HTTP status).
 */
char *berth_registry_error_text(const char *body, size_t len);

/*
 * Parses "bytes <first>-<last>/<total|*>" (Content-Range of a 206): the
 * first byte's offset. -EINVAL when malformed.
 */
int berth_content_range_start(const char *value, uint64_t *ret);

/*
 * The transport shared by registry.c's operations (registry-http.c): one
 * request with the registry's auth applied, redirects followed by hand so
 * credentials never leave the registry's origin.
 */

#include <curl/curl.h>
#include <pthread.h>

#include "image/auth.h"
#include "image/registry.h"

struct berth_token;

struct berth_registry {
        char *domain; /* as the caller named it, for messages: "docker.io" */
        char *host;   /* what is contacted: "registry-1.docker.io", "localhost:5000" */
        char *base_https, *base_http; /* "https://<host>", "http://<host>" */
        char **insecure;              /* copy of opts->insecure */
        bool tls_verify_off;
        bool host_insecure; /* berth_registry_host_is_insecure(host) */
        char *user_agent;
        char *ca_blob; /* system bundle + ca_dir's "*.crt" files, or NULL: curl's default */
        size_t ca_blob_len;
        char *client_cert, *client_key; /* ca_dir's client certificate and key, or NULL */
        berth_credentials creds;        /* username NULL: anonymous */

        pthread_mutex_t probe_lock; /* one https/http probe at a time */
        pthread_mutex_t lock;       /* guards what follows */
        const char *scheme;         /* "https" or "http"; NULL until known */
        berth_challenge challenge;  /* scheme NONE until a 401 named one */
        struct berth_token *tokens; /* Bearer tokens by scope */
};

/* What is kept of a response body that is not the content asked for (an error, a 202). */
#define BERTH_HTTP_ERROR_BODY_MAX (64u << 10)

typedef struct berth_http_response {
        long status; /* 0 until a response arrived */
        char *location, *content_type, *docker_digest, *www_authenticate, *link, *content_range;
        char *body; /* NUL-terminated; bounded */
        size_t body_len;
        char *url; /* the URL that answered (after redirects) */
} berth_http_response;

void berth_http_response_release(berth_http_response *resp);

/* Bytes of a 2xx body; < 0 aborts the request with that error (err set). */
typedef int (*berth_http_data_fn)(void *userdata, const berth_http_response *resp, const char *buf,
                                  size_t len, berth_error *err);

typedef struct berth_http_request {
        const char *method;  /* GET HEAD POST PUT PATCH DELETE */
        const char *url;     /* absolute; or NULL and path */
        const char *path;    /* "/v2/...", on the registry's base URL */
        char *const *scopes; /* token scopes ("repository:x:pull"), NULL-terminated, or NULL */
        bool anonymous;      /* never send credentials (foreign layer URLs) */
        bool follow;         /* follow redirects (GET/HEAD) */
        const char *accept, *content_type, *range, *content_range;
        /* The request body: a buffer, or body_len bytes of body_fd (at body_fd_off when
         * seekable, else read sequentially, in which case a 401 cannot be retried). */
        const char *body;
        int body_fd; /* -1 when none */
        int64_t body_fd_off;
        uint64_t body_len;
        /* The response body: to on_data for 2xx, else kept in resp->body up to body_max
         * (2xx: more is E2BIG; errors are cut at 64 KiB). */
        berth_http_data_fn on_data;
        void *userdata;
        size_t body_max;
} berth_http_request;

#define BERTH_HTTP_REQUEST_INIT                                                                    \
        {                                                                                          \
                .method = "GET", .body_fd = -1, .body_fd_off = -1                                  \
        }

/* One operation's curl handle (reused across its requests, so connections are too). */
typedef struct berth_registry_call {
        berth_registry *r;
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
} berth_registry_call;

int berth_registry_call_init(berth_registry_call *c, berth_registry *r, berth_error *err);
void berth_registry_call_release(berth_registry_call *c);

/*
 * Performs req. 0 when a response arrived (any status: look at
 * resp->status), < 0 when none did (connection, TLS, timeout; or on_data
 * aborted). A 401 is answered once: with a fresh Bearer token for
 * req->scopes, or Basic credentials.
 */
int berth_registry_request(berth_registry_call *c, const berth_http_request *req,
                           berth_http_response *resp, berth_error *err);

/*
 * Fills err from an unsuccessful response: the registry's error text or
 * "HTTP <status>", errno from the status (401/403 EACCES, 404 ENOENT, ...).
 */
int berth_registry_status_error(const berth_http_response *resp, berth_error *err);

/* Resolves a Location or Link target against the URL it came from; NULL when it is not http(s). */
char *berth_url_resolve(const char *base, const char *ref);

void berth_registry_tokens_free(struct berth_token *t);
