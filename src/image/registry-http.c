/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry client's transport: libcurl requests, the auth handshake of
 * the distribution spec (WWW-Authenticate challenges, Bearer tokens from a
 * token service, Basic), redirects and the https/http decision for insecure
 * hosts. registry.c builds the API operations on top of it.
 *
 * curl never follows redirects here: a custom Authorization header would go
 * along to whatever host a registry (or a storage backend) points at, so we
 * follow them ourselves and attach credentials only to URLs whose scheme,
 * host and port are the registry's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/log.h"
#include "image/registry-internal.h"

#define TOKEN_REPLY_MAX  (1u << 20)
#define HEADER_VALUE_MAX (16u << 10)
#define REDIRECTS_MAX    10
#define TOKENS_MAX       64

/* ---- URLs ------------------------------------------------------------------------------ */

static void urlp_free(CURLU **u)
{
        if (*u)
                curl_url_cleanup(*u);
}

static void curl_freep(char **s)
{
        if (*s)
                curl_free(*s);
}

char *berth_url_resolve(const char *base, const char *ref)
{
        _cleanup_(urlp_free) CURLU *u = curl_url();
        _cleanup_(curl_freep) char *out = NULL, *scheme = NULL;

        if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
                return NULL;
        if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0)
                return NULL;
        if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
                return NULL;
        return strdup(out);
}

struct origin {
        char scheme[8];
        char host[256];
        char port[8];
};

static bool url_origin(const char *url, struct origin *o)
{
        _cleanup_(urlp_free) CURLU *u = curl_url();
        _cleanup_(curl_freep) char *scheme = NULL, *host = NULL, *port = NULL;

        if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
                return false;
        return snprintf(o->scheme, sizeof(o->scheme), "%s", scheme) < (int)sizeof(o->scheme) &&
               snprintf(o->host, sizeof(o->host), "%s", host) < (int)sizeof(o->host) &&
               snprintf(o->port, sizeof(o->port), "%s", port) < (int)sizeof(o->port);
}

static bool same_origin(const char *a, const char *b)
{
        struct origin x, y;

        return url_origin(a, &x) && url_origin(b, &y) && strcasecmp(x.scheme, y.scheme) == 0 &&
               strcasecmp(x.host, y.host) == 0 && strcmp(x.port, y.port) == 0;
}

/* "host:port" of a URL, brackets kept around IPv6, for the insecure check. */
static bool url_hostport(const char *url, char *buf, size_t size)
{
        struct origin o;
        bool v6;

        if (!url_origin(url, &o))
                return false;
        v6 = strchr(o.host, ':') && o.host[0] != '[';
        return snprintf(buf, size, "%s%s%s:%s", v6 ? "[" : "", o.host, v6 ? "]" : "", o.port) <
               (int)size;
}

/* ---- one HTTP exchange ----------------------------------------------------------------- */

void berth_http_response_release(berth_http_response *resp)
{
        if (!resp)
                return;
        free(resp->location);
        free(resp->content_type);
        free(resp->docker_digest);
        free(resp->www_authenticate);
        free(resp->link);
        free(resp->content_range);
        free(resp->body);
        free(resp->url);
        *resp = (berth_http_response){ 0 };
}

/* Everything but the URL, which outlives one exchange. */
static void response_reset(berth_http_response *resp)
{
        char *url = TAKE_PTR(resp->url);

        berth_http_response_release(resp);
        resp->url = url;
}

struct exchange {
        berth_registry_call *call;
        const berth_http_request *req;
        berth_http_response *resp;
        berth_error *err;
        bool redirect_ok; /* 3xx bodies are thrown away when we will follow */
        int aborted;      /* on_data's error */
        bool too_big;
        uint64_t sent; /* request body bytes handed to curl */
};

static void set_header(char **slot, const char *value, size_t len, bool list)
{
        char *n = NULL;

        if (*slot && list) {
                if (strlen(*slot) + 2 + len > HEADER_VALUE_MAX ||
                    asprintf(&n, "%s, %.*s", *slot, (int)len, value) < 0)
                        return;
        } else {
                if (len > HEADER_VALUE_MAX)
                        return;
                n = strndup(value, len);
                if (!n)
                        return;
        }
        free(*slot);
        *slot = n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct exchange *x = userdata;
        size_t len = size * nitems, nlen;
        const char *colon, *v, *end = buf + len;
        static const struct {
                const char *name;
                size_t offset;
                bool list;
        } known[] = {
                { "location", offsetof(berth_http_response, location), false },
                { "content-type", offsetof(berth_http_response, content_type), false },
                { "docker-content-digest", offsetof(berth_http_response, docker_digest), false },
                { "www-authenticate", offsetof(berth_http_response, www_authenticate), true },
                { "link", offsetof(berth_http_response, link), true },
                { "content-range", offsetof(berth_http_response, content_range), false },
        };

        /* A new status line: a 100 Continue or an earlier response is over. */
        if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
                response_reset(x->resp);
                return len;
        }
        colon = memchr(buf, ':', len);
        if (!colon)
                return len;
        nlen = (size_t)(colon - buf);
        v = colon + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (strlen(known[i].name) == nlen && strncasecmp(buf, known[i].name, nlen) == 0)
                        set_header((char **)((char *)x->resp + known[i].offset), v,
                                   (size_t)(end - v), known[i].list);
        return len;
}

static size_t write_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct exchange *x = userdata;
        berth_http_response *resp = x->resp;
        size_t len = size * nitems, max;
        long status = 0;
        char *n;

        curl_easy_getinfo(x->call->curl, CURLINFO_RESPONSE_CODE, &status);
        resp->status = status;
        if (status >= 300 && status < 400 && x->redirect_ok)
                return len;
        if (status >= 200 && status < 300 && x->req->on_data) {
                int r = x->req->on_data(x->req->userdata, resp, buf, len, x->err);
                if (r < 0) {
                        x->aborted = r;
                        return 0;
                }
                return len;
        }
        max = status >= 200 && status < 300 ? x->req->body_max : BERTH_HTTP_ERROR_BODY_MAX;
        if (resp->body_len + len > max) {
                if (status >= 200 && status < 300) {
                        x->too_big = true;
                        return 0;
                }
                len = max - resp->body_len; /* keep the start of an error page */
                if (len == 0)
                        return size * nitems;
        }
        n = realloc(resp->body, resp->body_len + len + 1);
        if (!n) {
                x->aborted = berth_error_set(x->err, ENOMEM, "out of memory");
                return 0;
        }
        memcpy(n + resp->body_len, buf, len);
        resp->body = n;
        resp->body_len += len;
        n[resp->body_len] = '\0';
        return size * nitems;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct exchange *x = userdata;
        const berth_http_request *req = x->req;
        size_t want = size * nitems;
        ssize_t n;

        if (want > req->body_len - x->sent)
                want = (size_t)(req->body_len - x->sent);
        if (want == 0)
                return 0;
        if (req->body) {
                memcpy(buf, req->body + x->sent, want);
                n = (ssize_t)want;
        } else {
                do {
                        if (req->body_fd_off >= 0)
                                n = pread(req->body_fd, buf, want,
                                          (off_t)((uint64_t)req->body_fd_off + x->sent));
                        else
                                n = read(req->body_fd, buf, want);
                } while (n < 0 && errno == EINTR);
                if (n < 0) {
                        x->aborted = berth_error_sys(x->err, errno, "read the upload");
                        return CURL_READFUNC_ABORT;
                }
                if (n == 0) {
                        x->aborted = berth_error_set(x->err, EIO,
                                                     "read the upload: end of file after %llu of "
                                                     "%llu bytes",
                                                     (unsigned long long)x->sent,
                                                     (unsigned long long)req->body_len);
                        return CURL_READFUNC_ABORT;
                }
        }
        x->sent += (uint64_t)n;
        return (size_t)n;
}

/* curl rewinds to resend a body (a reused connection that closed under it). */
static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
        struct exchange *x = userdata;

        if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->req->body_len)
                return CURL_SEEKFUNC_FAIL;
        if (!x->req->body && x->req->body_fd_off < 0)
                return CURL_SEEKFUNC_CANTSEEK;
        x->sent = (uint64_t)offset;
        return CURL_SEEKFUNC_OK;
}

static int curl_errno(CURLcode code)
{
        switch (code) {
        case CURLE_COULDNT_CONNECT:
                return ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return EHOSTUNREACH;
        case CURLE_OPERATION_TIMEDOUT:
                return ETIMEDOUT;
        case CURLE_OUT_OF_MEMORY:
                return ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return EPROTO;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
                return ECONNRESET;
        default:
                return EIO;
        }
}

static bool is_registry_url(const berth_registry *r, const char *url)
{
        return same_origin(url, r->base_https) || same_origin(url, r->base_http);
}

/* TLS goes unverified for an insecure registry, and for loopback or listed hosts it sends us to. */
static bool url_is_insecure(const berth_registry *r, const char *url)
{
        char hp[300];

        if (r->host_insecure && is_registry_url(r, url))
                return true;
        return url_hostport(url, hp, sizeof(hp)) &&
               berth_registry_host_is_insecure(hp, r->insecure, false);
}

static void slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

/* A NULL value removes a header curl would add by itself ("Name:"). */
static int add_header(struct curl_slist **l, const char *name, const char *value)
{
        _cleanup_free_ char *h = NULL;
        struct curl_slist *n;

        if (asprintf(&h, "%s:%s%s", name, value ? " " : "", value ? value : "") < 0)
                return -ENOMEM;
        n = curl_slist_append(*l, h);
        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

static int setup_method(CURL *curl, const berth_http_request *req)
{
        bool has_body = req->body || req->body_fd >= 0;

        if (strcmp(req->method, "GET") == 0)
                return curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        if (strcmp(req->method, "HEAD") == 0)
                return curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        if (strcmp(req->method, "POST") == 0) {
                curl_easy_setopt(curl, CURLOPT_POST, 1L);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                 (curl_off_t)(has_body ? req->body_len : 0));
                if (!has_body)
                        return curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
                return curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
        }
        if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0) {
                curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t)(has_body ? req->body_len : 0));
                curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
                if (strcmp(req->method, "PATCH") == 0)
                        return curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PATCH");
                return CURLE_OK;
        }
        return curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
}

static int perform_once(berth_registry_call *c, const berth_http_request *req, const char *url,
                        const char *authorization, berth_http_response *resp, berth_error *err)
{
        berth_registry *r = c->r;
        CURL *curl = c->curl;
        _cleanup_(slist_freep) struct curl_slist *headers = NULL;
        struct exchange x = { .call = c, .req = req, .resp = resp, .err = err };
        CURLcode code;
        int e = 0;

        x.redirect_ok = req->follow;
        response_reset(resp);
        curl_easy_reset(curl);
        c->errbuf[0] = '\0';
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, r->user_agent);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(curl, CURLOPT_READDATA, &x);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, &x);
        if (url_is_insecure(r, url)) {
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (r->ca_blob) {
                struct curl_blob blob = { r->ca_blob, r->ca_blob_len, CURL_BLOB_NOCOPY };
                curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
        }
        if (r->client_cert && is_registry_url(r, url)) {
                curl_easy_setopt(curl, CURLOPT_SSLCERT, r->client_cert);
                curl_easy_setopt(curl, CURLOPT_SSLKEY, r->client_key);
        }
        if (setup_method(curl, req) != CURLE_OK)
                return berth_error_set(err, EINVAL, "%s %s: cannot set up the request", req->method,
                                       url);

        /* curl would add "Expect: 100-continue" and a form Content-Type; registries want neither.
         */
        if ((authorization && add_header(&headers, "Authorization", authorization) < 0) ||
            (req->accept && add_header(&headers, "Accept", req->accept) < 0) ||
            add_header(&headers, "Content-Type", req->content_type) < 0 ||
            (req->range && add_header(&headers, "Range", req->range) < 0) ||
            (req->content_range && add_header(&headers, "Content-Range", req->content_range) < 0) ||
            add_header(&headers, "Expect", NULL) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

        code = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (code == CURLE_OK)
                return 0;
        if (x.aborted)
                return x.aborted;
        if (x.too_big)
                return berth_error_set(err, E2BIG, "%s %s: response larger than %zu bytes",
                                       req->method, url, req->body_max);
        e = curl_errno(code);
        resp->status = 0;
        return berth_error_set(err, e, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
}

/* ---- redirects, tokens, auth ----------------------------------------------------------- */

static const char *current_base(berth_registry *r)
{
        const char *scheme;

        pthread_mutex_lock(&r->lock);
        scheme = r->scheme;
        pthread_mutex_unlock(&r->lock);
        if (!scheme)
                return NULL;
        return strcmp(scheme, "http") == 0 ? r->base_http : r->base_https;
}

static bool is_redirect(long status)
{
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int perform_following(berth_registry_call *c, const berth_http_request *req,
                             const char *first, const char *authorization,
                             berth_http_response *resp, berth_error *err)
{
        _cleanup_free_ char *url = strdup(first);
        const char *base = current_base(c->r);

        if (!url)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (int hops = 0;; hops++) {
                /* Credentials go to the registry's own scheme, host and port, nowhere else. */
                bool own = authorization && base && same_origin(url, base);
                char *next;
                int r;

                r = perform_once(c, req, url, own ? authorization : NULL, resp, err);
                if (r < 0)
                        return r;
                free(resp->url);
                resp->url = strdup(url);
                if (!resp->url)
                        return berth_error_set(err, ENOMEM, "out of memory");
                if (!req->follow || !is_redirect(resp->status) || !resp->location)
                        return 0;
                if (hops == REDIRECTS_MAX)
                        return berth_error_set(err, ELOOP, "more than %d redirects from %s",
                                               REDIRECTS_MAX, first);
                next = berth_url_resolve(url, resp->location);
                if (!next)
                        return berth_error_set(err, EPROTO, "redirect from %s to a bad URL: %s",
                                               url, resp->location);
                berth_log(BERTH_LOG_DEBUG, "registry: %s redirected to %s", url, next);
                free(url);
                url = next;
        }
}

struct berth_token {
        struct berth_token *next;
        char *scope;
        char *token;
        time_t expires; /* CLOCK_MONOTONIC seconds */
};

static time_t now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

static void token_free(struct berth_token *t)
{
        if (!t)
                return;
        if (t->token)
                explicit_bzero(t->token, strlen(t->token));
        free(t->token);
        free(t->scope);
        free(t);
}

void berth_registry_tokens_free(struct berth_token *t)
{
        while (t) {
                struct berth_token *next = t->next;
                token_free(t);
                t = next;
        }
}

/* Removes scope's token (and expired ones); under r->lock. */
static void tokens_drop(berth_registry *r, const char *scope)
{
        time_t now = now_mono();

        for (struct berth_token **p = &r->tokens; *p;) {
                struct berth_token *t = *p;
                if ((scope && strcmp(t->scope, scope) == 0) || t->expires <= now) {
                        *p = t->next;
                        token_free(t);
                } else {
                        p = &t->next;
                }
        }
}

/* Under r->lock. The newest goes first; past TOKENS_MAX the oldest goes. */
static int tokens_add(berth_registry *r, const char *scope, const char *token, int64_t ttl)
{
        struct berth_token *t = calloc(1, sizeof(*t));
        size_t n = 0;

        if (!t)
                return -ENOMEM;
        t->scope = strdup(scope);
        t->token = strdup(token);
        if (!t->scope || !t->token) {
                token_free(t);
                return -ENOMEM;
        }
        /* Refresh a little early so a token does not expire on its way to the registry. */
        t->expires = now_mono() + (time_t)(ttl - (ttl / 10 > 30 ? 30 : ttl / 10));
        tokens_drop(r, scope);
        t->next = r->tokens;
        r->tokens = t;
        for (struct berth_token *p = r->tokens; p; p = p->next)
                if (++n == TOKENS_MAX && p->next) {
                        berth_registry_tokens_free(p->next);
                        p->next = NULL;
                }
        return 0;
}

static int append(char **s, const char *sep, const char *text)
{
        char *n = NULL;

        if (asprintf(&n, "%s%s%s", *s ? *s : "", *s ? sep : "", text) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

/* The cache key of a set of scopes, in the order asked. */
static char *scope_key(char *const *scopes)
{
        char *key = strdup("");

        for (char *const *s = scopes; s && *s && key; s++)
                if (append(&key, " ", *s) < 0) {
                        free(key);
                        return NULL;
                }
        return key;
}

static char *basic_authorization(const berth_credentials *creds)
{
        _cleanup_free_ char *plain = NULL, *b64 = NULL;
        char *out = NULL;

        if (asprintf(&plain, "%s:%s", creds->username, creds->password ? creds->password : "") < 0)
                return NULL;
        b64 = berth_base64_encode(plain, strlen(plain));
        explicit_bzero(plain, strlen(plain));
        if (!b64 || asprintf(&out, "Basic %s", b64) < 0)
                out = NULL;
        if (b64)
                explicit_bzero(b64, strlen(b64));
        return out;
}

static int query_add(CURL *curl, char **url, char *sep, const char *name, const char *value)
{
        _cleanup_(curl_freep) char *esc = curl_easy_escape(curl, value, 0);
        char *n = NULL;

        if (!esc || asprintf(&n, "%s%c%s=%s", *url, *sep, name, esc) < 0)
                return -ENOMEM;
        free(*url);
        *url = n;
        *sep = '&';
        return 0;
}

/*
 * GET <realm>?service=..&scope=..&account=.. as the token spec describes,
 * with Basic credentials when we have some (anonymous tokens otherwise).
 */
static int fetch_token(berth_registry_call *c, const char *realm, const char *service,
                       char *const *scopes, char **ret_token, int64_t *ret_ttl, berth_error *err)
{
        berth_registry *r = c->r;
        _cleanup_free_ char *url = strdup(realm), *auth = NULL, *check = NULL;
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        char sep = strchr(realm, '?') ? '&' : '?';
        int e;

        check = berth_url_resolve(realm, realm);
        if (!check)
                return berth_error_set(
                        err, EPROTO, "the registry's token realm is not an http(s) URL: %s", realm);
        if (!url || (service && *service && query_add(c->curl, &url, &sep, "service", service) < 0))
                return berth_error_set(err, ENOMEM, "out of memory");
        for (char *const *s = scopes; s && *s; s++)
                if (query_add(c->curl, &url, &sep, "scope", *s) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        if (r->creds.username) {
                if (query_add(c->curl, &url, &sep, "account", r->creds.username) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                auth = basic_authorization(&r->creds);
                if (!auth)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        req.accept = "application/json";
        req.body_max = TOKEN_REPLY_MAX;
        e = perform_once(c, &req, url, auth, &resp, err);
        if (auth)
                explicit_bzero(auth, strlen(auth));
        if (e < 0)
                return berth_error_prefix(err, "get a token from %s", realm);
        if (resp.status != 200) {
                berth_registry_status_error(&resp, err);
                return berth_error_prefix(err, "get a token from %s", realm);
        }
        e = berth_token_reply_parse(resp.body, resp.body_len, ret_token, ret_ttl, err);
        if (e < 0)
                return berth_error_prefix(err, "get a token from %s", realm);
        return 0;
}

/* The Authorization value for a request needing scopes, or NULL for none. */
static int authorization_for(berth_registry_call *c, char *const *scopes, bool fresh, char **ret,
                             berth_error *err)
{
        berth_registry *r = c->r;
        _cleanup_free_ char *key = scope_key(scopes), *realm = NULL, *service = NULL, *token = NULL;
        berth_auth_scheme scheme;
        int64_t ttl = 0;
        int e;

        *ret = NULL;
        if (!key)
                return berth_error_set(err, ENOMEM, "out of memory");
        pthread_mutex_lock(&r->lock);
        scheme = r->challenge.scheme;
        if (scheme == BERTH_AUTH_SCHEME_BEARER) {
                time_t now = now_mono();
                for (struct berth_token *t = r->tokens; t && !fresh; t = t->next)
                        if (strcmp(t->scope, key) == 0 && t->expires > now) {
                                if (asprintf(ret, "Bearer %s", t->token) < 0)
                                        *ret = NULL;
                                pthread_mutex_unlock(&r->lock);
                                return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
                        }
                realm = strdup(r->challenge.realm);
                service = r->challenge.service ? strdup(r->challenge.service) : NULL;
        }
        pthread_mutex_unlock(&r->lock);

        if (scheme == BERTH_AUTH_SCHEME_NONE)
                return 0;
        if (scheme == BERTH_AUTH_SCHEME_BASIC) {
                if (!r->creds.username)
                        return 0;
                *ret = basic_authorization(&r->creds);
                return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
        }
        if (!realm)
                return berth_error_set(err, ENOMEM, "out of memory");
        e = fetch_token(c, realm, service, scopes, &token, &ttl, err);
        if (e < 0)
                return e;
        pthread_mutex_lock(&r->lock);
        e = tokens_add(r, key, token, ttl);
        pthread_mutex_unlock(&r->lock);
        if (e < 0 || asprintf(ret, "Bearer %s", token) < 0) {
                *ret = NULL;
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        explicit_bzero(token, strlen(token));
        return 0;
}

/* Remembers what the registry asked for; a different realm makes old tokens worthless. */
static void learn_challenge(berth_registry *r, berth_challenge *ch)
{
        berth_challenge *cur = &r->challenge;
        bool same;

        pthread_mutex_lock(&r->lock);
        same = cur->scheme == ch->scheme && !!cur->realm == !!ch->realm &&
               (!cur->realm || strcmp(cur->realm, ch->realm) == 0) &&
               !!cur->service == !!ch->service &&
               (!cur->service || strcmp(cur->service, ch->service) == 0);
        if (!same) {
                berth_registry_tokens_free(r->tokens);
                r->tokens = NULL;
                berth_challenge_release(cur);
                *cur = *ch;
                *ch = (berth_challenge){ 0 };
        }
        pthread_mutex_unlock(&r->lock);
}

/*
 * Whether the registry answers https at all; for an insecure host, plain
 * http when https gets no HTTP answer (a connection or TLS failure), as
 * docker does for its insecure registries.
 */
static int probe_scheme(berth_registry_call *c, berth_error *err)
{
        berth_registry *r = c->r;
        _cleanup_(berth_http_response_release) berth_http_response resp = { 0 };
        berth_http_request req = BERTH_HTTP_REQUEST_INIT;
        berth_error https_err = BERTH_ERROR_INIT;
        _cleanup_free_ char *url = NULL;
        const char *scheme = "https";
        int e = 0;

        if (!r->host_insecure) {
                pthread_mutex_lock(&r->lock);
                r->scheme = "https";
                pthread_mutex_unlock(&r->lock);
                return 0;
        }
        pthread_mutex_lock(&r->probe_lock);
        if (current_base(r)) {
                pthread_mutex_unlock(&r->probe_lock);
                return 0;
        }
        req.body_max = BERTH_HTTP_ERROR_BODY_MAX;
        if (asprintf(&url, "%s/v2/", r->base_https) < 0) {
                pthread_mutex_unlock(&r->probe_lock);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        if (perform_once(c, &req, url, NULL, &resp, &https_err) < 0) {
                free(url);
                url = NULL;
                scheme = "http";
                if (asprintf(&url, "%s/v2/", r->base_http) < 0)
                        e = berth_error_set(err, ENOMEM, "out of memory");
                else
                        e = perform_once(c, &req, url, NULL, &resp, err);
                if (e < 0 && err)
                        berth_error_prefix(err, "https: %s; http", berth_error_msg(&https_err));
        }
        if (e == 0) {
                berth_log(BERTH_LOG_DEBUG, "registry: %s speaks %s", r->host, scheme);
                pthread_mutex_lock(&r->lock);
                r->scheme = scheme;
                pthread_mutex_unlock(&r->lock);
        }
        pthread_mutex_unlock(&r->probe_lock);
        berth_error_release(&https_err);
        return e;
}

int berth_registry_request(berth_registry_call *c, const berth_http_request *req,
                           berth_http_response *resp, berth_error *err)
{
        berth_registry *r = c->r;
        _cleanup_free_ char *url = NULL;
        bool rewindable = req->body || req->body_fd < 0 || req->body_fd_off >= 0;
        int e;

        if (req->url) {
                url = strdup(req->url);
        } else {
                const char *base = current_base(r);
                if (!base) {
                        e = probe_scheme(c, err);
                        if (e < 0)
                                return e;
                        base = current_base(r);
                }
                if (asprintf(&url, "%s%s", base, req->path) < 0)
                        url = NULL;
        }
        if (!url)
                return berth_error_set(err, ENOMEM, "out of memory");

        for (int attempt = 0;; attempt++) {
                _cleanup_free_ char *auth = NULL;
                berth_challenge ch = { 0 };
                berth_error ignored = BERTH_ERROR_INIT;

                if (!req->anonymous) {
                        e = authorization_for(c, req->scopes, attempt > 0, &auth, err);
                        if (e < 0)
                                return e;
                }
                e = perform_following(c, req, url, auth, resp, err);
                if (auth)
                        explicit_bzero(auth, strlen(auth));
                if (e < 0)
                        return e;
                if (resp->status != 401 || req->anonymous || attempt > 0 || !rewindable ||
                    !resp->www_authenticate)
                        return 0;
                /* A challenge we cannot answer: the caller reports the 401 as it is. */
                if (berth_challenge_parse(resp->www_authenticate, &ch, &ignored) < 0) {
                        berth_log(BERTH_LOG_DEBUG, "registry: %s", berth_error_msg(&ignored));
                        berth_error_release(&ignored);
                        return 0;
                }
                if (ch.scheme == BERTH_AUTH_SCHEME_BASIC && !r->creds.username) {
                        berth_challenge_release(&ch);
                        return 0;
                }
                learn_challenge(r, &ch);
                berth_challenge_release(&ch);
        }
}

static int status_errno(long status)
{
        switch (status) {
        case 400:
                return EINVAL;
        case 401:
        case 403:
                return EACCES;
        case 404:
                return ENOENT;
        case 405:
                return ENOTSUP;
        case 409:
                return EBUSY;
        case 413:
                return EFBIG;
        case 416:
                return ERANGE;
        case 429:
                return EAGAIN;
        default:
                return status >= 500 ? EIO : EPROTO;
        }
}

int berth_registry_status_error(const berth_http_response *resp, berth_error *err)
{
        _cleanup_free_ char *text = berth_registry_error_text(resp->body, resp->body_len);
        int e = status_errno(resp->status);

        if (text)
                return berth_error_set(err, e, "%s", text);
        if (resp->status == 401)
                return berth_error_set(err, e, "unauthorized: authentication required (HTTP 401)");
        return berth_error_set(err, e, "HTTP %ld", resp->status);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code;

static void curl_init(void)
{
        curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int berth_registry_call_init(berth_registry_call *c, berth_registry *r, berth_error *err)
{
        *c = (berth_registry_call){ .r = r };
        pthread_once(&curl_once, curl_init);
        if (curl_init_code != CURLE_OK)
                return berth_error_set(err, EIO, "initialise libcurl: %s",
                                       curl_easy_strerror(curl_init_code));
        c->curl = curl_easy_init();
        if (!c->curl)
                return berth_error_set(err, ENOMEM, "initialise libcurl: out of memory");
        return 0;
}

void berth_registry_call_release(berth_registry_call *c)
{
        if (c && c->curl) {
                curl_easy_cleanup(c->curl);
                c->curl = NULL;
        }
}
