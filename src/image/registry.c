/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The distribution API (v2) operations of registry.h, on the transport of
 * registry-http.c. Every message names the registry, the repository and
 * what was being done ("pull manifest localhost:5000/x:latest: manifest
 * unknown"); the caller adds which command it was.
 */
#include "image/registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "berth-config.h"
#include "basic/cleanup.h"
#include "basic/strv.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "basic/log.h"
#include "image/manifest.h"
#include "image/registry-internal.h"

#define DEFAULT_CHUNK   (32u << 20)
#define TAGS_PAGE_MAX   (4u << 20)
#define TAGS_MAX        100000
#define TAG_PAGES_MAX   10000
#define BLOB_RESUMES    3
#define CA_FILE_MAX     (1u << 20)
#define CA_BUNDLE_MAX   (8u << 20)
#define DOCKER_HUB_HOST "registry-1.docker.io"
#define MANIFEST_ACCEPT                                                                            \
        BERTH_MT_OCI_MANIFEST ", " BERTH_MT_OCI_INDEX ", " BERTH_MT_DOCKER_MANIFEST                \
                              ", " BERTH_MT_DOCKER_LIST

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static void hasher_freep(berth_hasher **h)
{
        berth_hasher_free(*h);
}

/* ---- the registry object --------------------------------------------------------------- */

static bool valid_domain(const char *d)
{
        size_t n = strlen(d);

        return n > 0 && n < 256 &&
               strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
                       n;
}

static int append_file(int dirfd, const char *name, size_t max, char **buf, size_t *len,
                       berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        char *nbuf;
        int r;

        r = berth_read_file_at(dirfd, name, max, &data, &n, err);
        if (r < 0)
                return r;
        nbuf = realloc(*buf, *len + n + 2);
        if (!nbuf)
                return berth_error_set(err, ENOMEM, "out of memory");
        memcpy(nbuf + *len, data, n);
        *len += n;
        nbuf[(*len)++] = '\n';
        nbuf[*len] = '\0';
        *buf = nbuf;
        return 0;
}

/* curl's own CA bundle, which a CAINFO_BLOB would otherwise replace. */
static int append_default_bundle(char **buf, size_t *len, berth_error *err)
{
        CURL *curl = curl_easy_init();
        char *path = NULL;
        int r = 0;

        if (!curl)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (curl_easy_getinfo(curl, CURLINFO_CAINFO, &path) == CURLE_OK && path &&
            access(path, R_OK) == 0)
                r = append_file(AT_FDCWD, path, CA_BUNDLE_MAX, buf, len, err);
        curl_easy_cleanup(curl);
        return r;
}

/*
 * certs.d/<host>/ as docker reads it: *.crt are extra CA roots (added to the
 * system's), <name>.cert with <name>.key a client certificate.
 */
static int load_ca_dir(berth_registry *r, const char *dir, berth_error *err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_free_ char *cas = NULL;
        size_t len = 0;
        struct dirent *de;
        int e;

        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return berth_error_sys(err, errno, "open `%s`", dir);
        }
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                const char *name = de->d_name;

                if (n > 4 && strcmp(name + n - 4, ".crt") == 0) {
                        e = append_file(dirfd(d), name, CA_FILE_MAX, &cas, &len, err);
                        if (e < 0)
                                return berth_error_prefix(err, "`%s`", dir);
                } else if (n > 5 && strcmp(name + n - 5, ".cert") == 0 && !r->client_cert) {
                        if (asprintf(&r->client_cert, "%s/%s", dir, name) < 0 ||
                            asprintf(&r->client_key, "%s/%.*s.key", dir, (int)(n - 5), name) < 0)
                                return berth_error_set(err, ENOMEM, "out of memory");
                        if (access(r->client_key, R_OK) < 0)
                                return berth_error_sys(err, errno,
                                                       "`%s`: client certificate `%s` without its "
                                                       "key `%s`",
                                                       dir, name, r->client_key);
                }
        }
        if (!cas)
                return 0;
        e = append_default_bundle(&r->ca_blob, &r->ca_blob_len, err);
        if (e < 0)
                return e;
        {
                char *n = realloc(r->ca_blob, r->ca_blob_len + len + 1);
                if (!n)
                        return berth_error_set(err, ENOMEM, "out of memory");
                memcpy(n + r->ca_blob_len, cas, len + 1);
                r->ca_blob = n;
                r->ca_blob_len += len;
        }
        return 0;
}

int berth_registry_new(const char *domain, const berth_registry_options *opts, berth_registry **ret,
                       berth_error *err)
{
        static const berth_registry_options defaults = { 0 };
        _cleanup_(berth_registry_freep) berth_registry *r = NULL;
        int e;

        *ret = NULL;
        if (!opts)
                opts = &defaults;
        if (!domain || !valid_domain(domain))
                return berth_error_set(err, EINVAL, "invalid registry host `%s`",
                                       domain ? domain : "");
        r = calloc(1, sizeof(*r));
        if (!r)
                return berth_error_set(err, ENOMEM, "out of memory");
        pthread_mutex_init(&r->lock, NULL);
        pthread_mutex_init(&r->probe_lock, NULL);
        r->domain = strdup(domain);
        /* Docker Hub's API lives on another name than its images are called by. */
        r->host = strdup(strcasecmp(domain, "docker.io") == 0 ||
                                         strcasecmp(domain, "index.docker.io") == 0
                                 ? DOCKER_HUB_HOST
                                 : domain);
        if (!r->domain || !r->host || asprintf(&r->base_https, "https://%s", r->host) < 0 ||
            asprintf(&r->base_http, "http://%s", r->host) < 0 ||
            berth_strv_copy(opts->insecure, &r->insecure) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        r->tls_verify_off = opts->tls_verify_off;
        r->host_insecure =
                berth_registry_host_is_insecure(r->host, r->insecure, r->tls_verify_off) ||
                berth_registry_host_is_insecure(domain, r->insecure, false);
        r->user_agent = strdup(opts->user_agent ? opts->user_agent : "berth/" BERTH_VERSION);
        if (!r->user_agent)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (opts->creds) {
                if (opts->creds->username) {
                        r->creds.username = strdup(opts->creds->username);
                        r->creds.password =
                                strdup(opts->creds->password ? opts->creds->password : "");
                        if (!r->creds.username || !r->creds.password)
                                return berth_error_set(err, ENOMEM, "out of memory");
                }
        } else {
                e = berth_auth_lookup(opts->authfile, domain, &r->creds, err);
                if (e < 0)
                        return berth_error_prefix(err, "credentials for %s", domain);
        }
        if (opts->ca_dir) {
                e = load_ca_dir(r, opts->ca_dir, err);
                if (e < 0)
                        return berth_error_prefix(err, "certificates for %s", domain);
        }
        *ret = TAKE_PTR(r);
        return 0;
}

void berth_registry_free(berth_registry *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->host);
        free(r->base_https);
        free(r->base_http);
        strv_free(r->insecure);
        free(r->user_agent);
        free(r->ca_blob);
        free(r->client_cert);
        free(r->client_key);
        berth_credentials_release(&r->creds);
        berth_challenge_release(&r->challenge);
        berth_registry_tokens_free(r->tokens);
        pthread_mutex_destroy(&r->lock);
        pthread_mutex_destroy(&r->probe_lock);
        free(r);
}

/* ---- helpers for the operations -------------------------------------------------------- */

/* Repository names as the distribution spec's grammar allows them, so they are safe in a URL. */
static int check_repo(const berth_registry *r, const char *repo, berth_error *err)
{
        size_t n = repo ? strlen(repo) : 0;

        if (n == 0 || n > 255 || strspn(repo, "abcdefghijklmnopqrstuvwxyz0123456789._/-") != n ||
            repo[0] == '/' || repo[n - 1] == '/' || strstr(repo, "//") || strstr(repo, ".."))
                return berth_error_set(err, EINVAL, "%s: invalid repository name `%s`", r->domain,
                                       repo ? repo : "");
        return 0;
}

static bool is_digest_ref(const char *ref)
{
        return strchr(ref, ':') != NULL;
}

static int check_ref(const berth_registry *r, const char *repo, const char *ref, berth_error *err)
{
        size_t n = ref ? strlen(ref) : 0;

        if (ref && is_digest_ref(ref)) {
                if (berth_digest_validate(ref, err) < 0)
                        return berth_error_prefix(err, "%s/%s", r->domain, repo);
                return 0;
        }
        if (n == 0 || n > 128 || ref[0] == '.' || ref[0] == '-' ||
            strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
                return berth_error_set(err, EINVAL, "%s/%s: invalid tag `%s`", r->domain, repo,
                                       ref ? ref : "");
        return 0;
}

static int check_digest(const berth_registry *r, const char *repo, const char *digest,
                        berth_error *err)
{
        if (!digest)
                return berth_error_set(err, EINVAL, "%s/%s: no digest given", r->domain, repo);
        if (berth_digest_validate(digest, err) < 0)
                return berth_error_prefix(err, "%s/%s", r->domain, repo);
        return 0;
}

/* "repository:<repo>:<actions>" in a NULL-terminated array of one or two. */
struct scopes {
        char *v[3];
};

static void scopes_release(struct scopes *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(s->v); i++)
                free(s->v[i]);
}

static int scopes_set(struct scopes *s, const char *repo, const char *actions, const char *from,
                      berth_error *err)
{
        *s = (struct scopes){ 0 };
        if (asprintf(&s->v[0], "repository:%s:%s", repo, actions) < 0 ||
            (from && asprintf(&s->v[1], "repository:%s:pull", from) < 0)) {
                s->v[0] = NULL;
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

/* Appends name=value to a URL, with '?' or '&' as it needs. */
static char *url_with_query(CURL *curl, const char *url, const char *name, const char *value)
{
        char *esc = curl_easy_escape(curl, value, 0), *out = NULL;

        if (!esc)
                return NULL;
        if (asprintf(&out, "%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', name, esc) < 0)
                out = NULL;
        curl_free(esc);
        return out;
}

/* A Content-Type without parameters ("application/json; charset=utf-8" -> "application/json"). */
static char *media_type_of(const char *content_type)
{
        size_t n;

        if (!content_type)
                return NULL;
        n = strcspn(content_type, "; \t");
        return n ? strndup(content_type, n) : NULL;
}

static bool known_manifest_type(const char *mt)
{
        static const char *const known[] = {
                BERTH_MT_OCI_MANIFEST, BERTH_MT_OCI_INDEX,      BERTH_MT_DOCKER_MANIFEST,
                BERTH_MT_DOCKER_LIST,  BERTH_MT_DOCKER_SCHEMA1, BERTH_MT_DOCKER_SCHEMA1_S,
        };

        for (size_t i = 0; mt && i < ARRAY_SIZE(known); i++)
                if (strcmp(mt, known[i]) == 0)
                        return true;
        return false;
}

/* The document's own "mediaType", when the Content-Type is a generic one. */
static char *document_media_type(const char *data, size_t len)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        berth_error ignored = BERTH_ERROR_INIT;
        char *mt = NULL;

        if (berth_json_parse_object(data, len, "manifest", &doc, &ignored) < 0 ||
            berth_json_get_string(doc, "mediaType", "", false, &mt, &ignored) < 0) {
                berth_error_release(&ignored);
                return NULL;
        }
        return mt;
}

/* ---- the operations -------------------------------------------------------------------- */

int berth_registry_ping(berth_registry *r, berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        int e;

        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        req.path = "/v2/";
        req.body_max = TAGS_PAGE_MAX;
        e = berth_registry_request(&c, &req, &resp, err);
        if (e == 0 && resp.status != 200)
                e = berth_registry_status_error(&resp, err);
        if (e < 0)
                return berth_error_prefix(err, "log in to %s", r->domain);
        return 0;
}

void berth_registry_manifest_release(berth_registry_manifest *m)
{
        if (!m)
                return;
        free(m->data);
        free(m->media_type);
        *m = (berth_registry_manifest){ 0 };
}

static int verify_manifest(const berth_registry *r, const char *repo, const char *ref,
                           const berth_http_response *resp, char digest[BERTH_DIGEST_STR_MAX],
                           berth_error *err)
{
        berth_error ignored = BERTH_ERROR_INIT;

        berth_digest_buffer(resp->body, resp->body_len, digest);
        if (is_digest_ref(ref) && strcmp(digest, ref) != 0)
                return berth_error_set(err, EBADMSG,
                                       "pull manifest %s/%s@%s: the registry sent a document "
                                       "whose digest is %s",
                                       r->domain, repo, ref, digest);
        /* A registry's digest in another algorithm cannot be compared; ours is what counts. */
        if (resp->docker_digest && berth_digest_validate(resp->docker_digest, &ignored) == 0 &&
            strcmp(resp->docker_digest, digest) != 0)
                return berth_error_set(err, EBADMSG,
                                       "pull manifest %s/%s:%s: the registry says its digest is "
                                       "%s but the document's is %s",
                                       r->domain, repo, ref, resp->docker_digest, digest);
        berth_error_release(&ignored);
        return 0;
}

int berth_registry_get_manifest(berth_registry *r, const char *repo, const char *ref,
                                berth_registry_manifest *ret, berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL, *mt = NULL;
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        const char *sep;
        int e;

        *ret = (berth_registry_manifest){ 0 };
        if (check_repo(r, repo, err) < 0 || check_ref(r, repo, ref, err) < 0)
                return berth_error_ret(err);
        sep = is_digest_ref(ref) ? "@" : ":";
        if (scopes_set(&sc, repo, "pull", NULL, err) < 0)
                return berth_error_ret(err);
        if (asprintf(&path, "/v2/%s/manifests/%s", repo, ref) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        req.path = path;
        req.scopes = sc.v;
        req.accept = MANIFEST_ACCEPT;
        req.follow = true;
        req.body_max = BERTH_MANIFEST_MAX;
        e = berth_registry_request(&c, &req, &resp, err);
        if (e == 0 && resp.status != 200)
                e = berth_registry_status_error(&resp, err);
        if (e == 0 && resp.body_len == 0)
                e = berth_error_set(err, EBADMSG, "the registry sent an empty document");
        if (e < 0)
                return berth_error_prefix(err, "pull manifest %s/%s%s%s", r->domain, repo, sep,
                                          ref);
        e = verify_manifest(r, repo, ref, &resp, ret->digest, err);
        if (e < 0)
                return e;
        mt = media_type_of(resp.content_type);
        if (!known_manifest_type(mt)) {
                char *own = document_media_type(resp.body, resp.body_len);
                if (own) {
                        free(mt);
                        mt = own;
                }
        }
        ret->media_type = TAKE_PTR(mt);
        ret->len = resp.body_len;
        ret->data = TAKE_PTR(resp.body);
        return 0;
}

struct blob_fetch {
        berth_blob_sink sink;
        void *userdata;
        berth_hasher *hasher;
        uint64_t size;
        uint64_t delivered; /* bytes the sink has had */
        uint64_t pos;       /* blob offset of the current response's next byte */
        bool started;       /* pos is set for the current response */
        bool fatal;         /* a failure that another attempt would not cure */
};

static int blob_data(void *userdata, const berth_http_response *resp, const char *buf, size_t len,
                     berth_error *err)
{
        struct blob_fetch *f = userdata;
        int e;

        if (!f->started) {
                f->pos = 0;
                if (resp->status == 206) {
                        uint64_t start = 0;
                        if (!resp->content_range ||
                            berth_content_range_start(resp->content_range, &start) < 0) {
                                f->fatal = true;
                                return berth_error_set(err, EPROTO,
                                                       "partial content with a bad Content-Range "
                                                       "`%s`",
                                                       resp->content_range ? resp->content_range
                                                                           : "");
                        }
                        if (start > f->delivered) {
                                f->fatal = true;
                                return berth_error_set(err, EPROTO,
                                                       "the server resumed at byte %llu, past "
                                                       "the %llu bytes received",
                                                       (unsigned long long)start,
                                                       (unsigned long long)f->delivered);
                        }
                        f->pos = start;
                }
                /* A 200 answer to a Range request starts over: its first bytes we have had. */
                f->started = true;
        }
        if (f->pos < f->delivered) {
                uint64_t skip = f->delivered - f->pos;
                if (skip > len)
                        skip = len;
                buf += skip;
                len -= (size_t)skip;
                f->pos += skip;
        }
        if (len == 0)
                return 0;
        if (f->pos + len > f->size) {
                f->fatal = true;
                return berth_error_set(err, EBADMSG, "more than the %llu bytes expected",
                                       (unsigned long long)f->size);
        }
        e = f->sink(f->userdata, buf, len, f->pos, err);
        if (e < 0) {
                f->fatal = true;
                return e;
        }
        berth_hasher_update(f->hasher, buf, len);
        f->pos += len;
        f->delivered += len;
        return 0;
}

/* Failures of the connection, which a new request may not meet again. */
static bool transient(int code)
{
        return code == ECONNRESET || code == ETIMEDOUT || code == ECONNREFUSED || code == EIO ||
               code == EHOSTUNREACH;
}

static void pause_before_retry(int attempt)
{
        struct timespec ts = { 0, 250000000L * attempt };

        nanosleep(&ts, NULL);
}

/*
 * One source of the blob (a foreign URL, or the registry when url is NULL),
 * resumed up to BLOB_RESUMES times. 1 when the blob is complete, 0 when the
 * source answered with an HTTP error (err says which), < 0 otherwise.
 */
static int fetch_from(berth_registry_call *c, const char *url, const char *path,
                      char *const *scopes, struct blob_fetch *f, berth_error *err)
{
        for (int attempt = 0;; attempt++) {
                _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
                berth_http_request req = BERTH_HTTP_REQUEST_INIT;
                char range[64];
                int e;

                req.url = url;
                req.path = path;
                req.anonymous = url != NULL;
                req.scopes = scopes;
                req.follow = true;
                req.on_data = blob_data;
                req.userdata = f;
                req.body_max = 0;
                if (f->delivered > 0) {
                        snprintf(range, sizeof(range), "bytes=%llu-",
                                 (unsigned long long)f->delivered);
                        req.range = range;
                }
                f->started = false;
                e = berth_registry_request(c, &req, &resp, err);
                if (e < 0 && f->fatal)
                        return e;
                if (e == 0 && resp.status != 200 && resp.status != 206) {
                        berth_registry_status_error(&resp, err);
                        return 0;
                }
                if (e == 0 && f->delivered == f->size)
                        return 1;
                if (e == 0)
                        berth_error_set(err, ECONNRESET,
                                        "the connection closed after %llu of %llu "
                                        "bytes",
                                        (unsigned long long)f->delivered,
                                        (unsigned long long)f->size);
                if (attempt == BLOB_RESUMES || !transient(err->code))
                        return berth_error_ret(err);
                berth_log(BERTH_LOG_DEBUG, "registry: %s; resuming at byte %llu",
                          berth_error_msg(err), (unsigned long long)f->delivered);
                pause_before_retry(attempt);
        }
}

int berth_registry_get_blob(berth_registry *r, const char *repo, const char *digest, int64_t size,
                            char *const *urls, berth_blob_sink sink, void *userdata,
                            berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(hasher_freep) berth_hasher *hasher = NULL;
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL;
        char got[BERTH_DIGEST_STR_MAX];
        struct blob_fetch f = { .sink = sink, .userdata = userdata };
        int e = 0;

        if (check_repo(r, repo, err) < 0 || check_digest(r, repo, digest, err) < 0)
                return berth_error_ret(err);
        if (size < 0)
                return berth_error_set(err, EINVAL, "pull blob %s from %s/%s: no size given",
                                       digest, r->domain, repo);
        hasher = berth_hasher_new();
        if (!hasher || scopes_set(&sc, repo, "pull", NULL, err) < 0 ||
            asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        f.hasher = hasher;
        f.size = (uint64_t)size;

        /* Foreign URLs first, never with credentials; the registry when they all fail. */
        for (char *const *u = urls; u && *u; u++) {
                e = fetch_from(&c, *u, NULL, NULL, &f, err);
                if (e > 0 || (e < 0 && f.fatal))
                        break;
                berth_log(BERTH_LOG_DEBUG, "registry: %s: %s", *u, berth_error_msg(err));
        }
        if (e <= 0 && !f.fatal) {
                e = fetch_from(&c, NULL, path, sc.v, &f, err);
                if (e == 0)
                        e = berth_error_ret(err);
        }
        if (e < 0)
                return berth_error_prefix(err, "pull blob %s from %s/%s", digest, r->domain, repo);
        berth_hasher_final(hasher, got);
        if (strcmp(got, digest) != 0)
                return berth_error_set(err, EBADMSG,
                                       "pull blob %s from %s/%s: digest mismatch, the content's is "
                                       "%s",
                                       digest, r->domain, repo, got);
        return 0;
}

int berth_registry_blob_exists(berth_registry *r, const char *repo, const char *digest,
                               berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL;
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        int e;

        if (check_repo(r, repo, err) < 0 || check_digest(r, repo, digest, err) < 0)
                return berth_error_ret(err);
        if (scopes_set(&sc, repo, "pull", NULL, err) < 0)
                return berth_error_ret(err);
        if (asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        req.method = "HEAD";
        req.path = path;
        req.scopes = sc.v;
        req.follow = true;
        e = berth_registry_request(&c, &req, &resp, err);
        if (e == 0 && resp.status == 404)
                return 0;
        if (e == 0 && resp.status != 200)
                e = berth_registry_status_error(&resp, err);
        if (e < 0)
                return berth_error_prefix(err, "look up blob %s in %s/%s", digest, r->domain, repo);
        return 1;
}

int berth_registry_mount_blob(berth_registry *r, const char *repo, const char *from_repo,
                              const char *digest, berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL, *q1 = NULL, *q2 = NULL;
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        int e;

        if (check_repo(r, repo, err) < 0 || check_repo(r, from_repo, err) < 0 ||
            check_digest(r, repo, digest, err) < 0)
                return berth_error_ret(err);
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        if (scopes_set(&sc, repo, "pull,push", from_repo, err) < 0)
                return berth_error_ret(err);
        if (asprintf(&path, "/v2/%s/blobs/uploads/", repo) < 0 ||
            !(q1 = url_with_query(c.curl, path, "mount", digest)) ||
            !(q2 = url_with_query(c.curl, q1, "from", from_repo)))
                return berth_error_set(err, ENOMEM, "out of memory");
        req.method = "POST";
        req.path = q2;
        req.scopes = sc.v;
        req.body_max = BERTH_HTTP_ERROR_BODY_MAX;
        e = berth_registry_request(&c, &req, &resp, err);
        if (e == 0 && resp.status == 201)
                return 1;
        /* The registry opened an upload session instead. Cancelling it would take the
         * "delete" action, which a pusher may lack; the registry purges stale sessions. */
        if (e == 0 && resp.status == 202)
                return 0;
        /* Not allowed to read from_repo: an upload (which the caller does next) still may work. */
        if (e == 0 && (resp.status == 401 || resp.status == 403)) {
                berth_log(BERTH_LOG_DEBUG, "registry: mount %s from %s refused (HTTP %ld)", digest,
                          from_repo, resp.status);
                return 0;
        }
        if (e == 0)
                e = berth_registry_status_error(&resp, err);
        return berth_error_prefix(err, "mount blob %s from %s/%s into %s/%s", digest, r->domain,
                                  from_repo, r->domain, repo);
}

/* The next URL of an upload session: the Location the registry just gave, resolved. */
static char *upload_location(const berth_http_response *resp, berth_error *err)
{
        char *url;

        if (!resp->location || !*resp->location) {
                berth_error_set(err, EPROTO, "the registry gave no upload Location (HTTP %ld)",
                                resp->status);
                return NULL;
        }
        url = berth_url_resolve(resp->url, resp->location);
        if (!url)
                berth_error_set(err, EPROTO, "the registry gave a bad upload Location `%s`",
                                resp->location);
        return url;
}

static int upload_request(berth_registry_call *c, const char *method, const char *url,
                          char *const *scopes, int fd, int64_t fd_off, uint64_t len,
                          const char *content_range, long want, berth_http_response *resp,
                          berth_error *err)
{
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        int e;

        req.method = method;
        req.url = url;
        req.scopes = scopes;
        req.body_fd = len > 0 ? fd : -1;
        req.body_fd_off = fd_off;
        req.body_len = len;
        req.content_type = "application/octet-stream";
        req.content_range = content_range;
        req.body_max = BERTH_HTTP_ERROR_BODY_MAX;
        berth_http_response_release(resp);
        e = berth_registry_request(c, &req, resp, err);
        if (e == 0 && resp->status != want)
                e = berth_registry_status_error(resp, err);
        return e;
}

static int upload(berth_registry_call *c, const char *repo, const char *digest, uint64_t size,
                  int fd, int64_t off, uint64_t chunk, char *const *scopes, berth_error *err)
{
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        _cleanup_free_ char *path = NULL, *url = NULL, *final = NULL;
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        uint64_t done = 0;
        int e;

        if (asprintf(&path, "/v2/%s/blobs/uploads/", repo) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        req.method = "POST";
        req.path = path;
        req.scopes = scopes;
        req.body_max = BERTH_HTTP_ERROR_BODY_MAX;
        e = berth_registry_request(c, &req, &resp, err);
        if (e == 0 && resp.status != 202)
                e = berth_registry_status_error(&resp, err);
        if (e < 0)
                return berth_error_prefix(err, "start the upload");
        url = upload_location(&resp, err);
        if (!url)
                return berth_error_ret(err);

        /* Past chunk_size, PATCH pieces in order; each answer names where the next goes. */
        while (size > chunk && done < size) {
                uint64_t n = size - done < chunk ? size - done : chunk;
                char cr[64];

                snprintf(cr, sizeof(cr), "%llu-%llu", (unsigned long long)done,
                         (unsigned long long)(done + n - 1));
                e = upload_request(c, "PATCH", url, scopes, fd, off < 0 ? -1 : off + (int64_t)done,
                                   n, cr, 202, &resp, err);
                if (e < 0)
                        return berth_error_prefix(err, "upload bytes %s", cr);
                free(url);
                url = upload_location(&resp, err);
                if (!url)
                        return berth_error_ret(err);
                done += n;
        }
        final = url_with_query(c->curl, url, "digest", digest);
        if (!final)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = upload_request(c, "PUT", final, scopes, fd, off < 0 ? -1 : off + (int64_t)done,
                           size - done, NULL, 201, &resp, err);
        if (e < 0)
                return berth_error_prefix(err, "finish the upload");
        if (resp.docker_digest && strcmp(resp.docker_digest, digest) != 0)
                return berth_error_set(err, EBADMSG, "the registry stored it as %s",
                                       resp.docker_digest);
        return 0;
}

int berth_registry_put_blob(berth_registry *r, const char *repo, const char *digest, int64_t size,
                            int fd, uint64_t chunk_size, berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        off_t off;
        int e;

        if (check_repo(r, repo, err) < 0 || check_digest(r, repo, digest, err) < 0)
                return berth_error_ret(err);
        if (size < 0 || fd < 0)
                return berth_error_set(err, EINVAL, "push blob %s to %s/%s: no %s given", digest,
                                       r->domain, repo, size < 0 ? "size" : "file");
        if (scopes_set(&sc, repo, "pull,push", NULL, err) < 0)
                return berth_error_ret(err);
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        /* A seekable fd lets a request be sent again (after a 401); a pipe is read once. */
        off = lseek(fd, 0, SEEK_CUR);
        e = upload(&c, repo, digest, (uint64_t)size, fd, off < 0 ? -1 : (int64_t)off,
                   chunk_size ? chunk_size : DEFAULT_CHUNK, sc.v, err);
        if (e < 0)
                return berth_error_prefix(err, "push blob %s to %s/%s", digest, r->domain, repo);
        if (off >= 0)
                (void)lseek(fd, off + (off_t)size, SEEK_SET);
        return 0;
}

int berth_registry_put_manifest(berth_registry *r, const char *repo, const char *ref,
                                const char *data, size_t len, const char *media_type,
                                berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL;
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        char digest[BERTH_DIGEST_STR_MAX];
        const char *sep;
        int e;

        if (check_repo(r, repo, err) < 0 || check_ref(r, repo, ref, err) < 0)
                return berth_error_ret(err);
        sep = is_digest_ref(ref) ? "@" : ":";
        if (!data || len == 0 || len > BERTH_MANIFEST_MAX || !media_type || !*media_type)
                return berth_error_set(err, EINVAL, "push manifest %s/%s%s%s: %s", r->domain, repo,
                                       sep, ref,
                                       !media_type || !*media_type ? "no media type given"
                                                                   : "empty or oversized document");
        berth_digest_buffer(data, len, digest);
        if (is_digest_ref(ref) && strcmp(digest, ref) != 0)
                return berth_error_set(err, EINVAL,
                                       "push manifest %s/%s@%s: the document's digest is %s",
                                       r->domain, repo, ref, digest);
        if (scopes_set(&sc, repo, "pull,push", NULL, err) < 0)
                return berth_error_ret(err);
        if (asprintf(&path, "/v2/%s/manifests/%s", repo, ref) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        req.method = "PUT";
        req.path = path;
        req.scopes = sc.v;
        req.body = data;
        req.body_len = len;
        req.content_type = media_type;
        req.body_max = BERTH_HTTP_ERROR_BODY_MAX;
        e = berth_registry_request(&c, &req, &resp, err);
        if (e == 0 && (resp.status < 200 || resp.status > 299))
                e = berth_registry_status_error(&resp, err);
        if (e == 0 && resp.docker_digest && strcmp(resp.docker_digest, digest) != 0)
                e = berth_error_set(err, EBADMSG, "the registry stored it as %s, not %s",
                                    resp.docker_digest, digest);
        if (e < 0)
                return berth_error_prefix(err, "push manifest %s/%s%s%s", r->domain, repo, sep,
                                          ref);
        return 0;
}

static int tags_page(const berth_http_response *resp, char ***tags, size_t *n, berth_error *err)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        _cleanup_strv_ char **page = NULL;
        size_t m = 0;
        char **nv;
        int e;

        e = berth_json_parse_object(resp->body, resp->body_len, "tags list", &doc, err);
        if (e < 0)
                return e;
        e = berth_json_get_strv(doc, "tags", "", false, TAGS_MAX, &page, &m, err);
        if (e < 0)
                return berth_error_prefix(err, "tags list");
        if (m == 0)
                return 0;
        if (*n + m > TAGS_MAX)
                return berth_error_set(err, E2BIG, "more than %d tags", TAGS_MAX);
        nv = realloc(*tags, (*n + m + 1) * sizeof(char *));
        if (!nv)
                return berth_error_set(err, ENOMEM, "out of memory");
        *tags = nv;
        for (size_t i = 0; i < m; i++)
                nv[(*n)++] = TAKE_PTR(page[i]);
        nv[*n] = NULL;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_registry_list_tags(berth_registry *r, const char *repo, char ***ret, berth_error *err)
{
        _cleanup_(berth_registry_call_release) berth_registry_call c = { 0 };
        _cleanup_(scopes_release) struct scopes sc = { 0 };
        _cleanup_free_ char *path = NULL, *next = NULL;
        _cleanup_strv_ char **tags = NULL;
        size_t n = 0;
        int e;

        *ret = NULL;
        if (check_repo(r, repo, err) < 0 || scopes_set(&sc, repo, "pull", NULL, err) < 0)
                return berth_error_ret(err);
        if (asprintf(&path, "/v2/%s/tags/list", repo) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        tags = calloc(1, sizeof(char *));
        if (!tags)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = berth_registry_call_init(&c, r, err);
        if (e < 0)
                return e;
        for (int page = 0;; page++) {
                _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
                _cleanup_free_ char *link = NULL;
                berth_http_request req = BERTH_HTTP_REQUEST_INIT;

                if (page == TAG_PAGES_MAX) {
                        e = berth_error_set(err, E2BIG, "more than %d pages", TAG_PAGES_MAX);
                        break;
                }
                req.url = next;
                req.path = path;
                req.scopes = sc.v;
                req.accept = "application/json";
                req.follow = true;
                req.body_max = TAGS_PAGE_MAX;
                e = berth_registry_request(&c, &req, &resp, err);
                if (e == 0 && resp.status != 200)
                        e = berth_registry_status_error(&resp, err);
                if (e == 0)
                        e = tags_page(&resp, &tags, &n, err);
                if (e == 0 && resp.link) {
                        e = berth_link_next(resp.link, &link);
                        if (e < 0)
                                e = berth_error_set(err, EPROTO, "bad Link header `%s`", resp.link);
                }
                if (e < 0)
                        break;
                free(next);
                next = link ? berth_url_resolve(resp.url, link) : NULL;
                if (link && !next) {
                        e = berth_error_set(err, EPROTO, "bad next page `%s`", link);
                        break;
                }
                if (!next)
                        break;
        }
        if (e < 0)
                return berth_error_prefix(err, "list tags of %s/%s", r->domain, repo);
        qsort(tags, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(tags);
        return 0;
}
