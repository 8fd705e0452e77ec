/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry client against scripted HTTP servers on 127.0.0.1: what it
 * sends where (credentials never to another host, Range after a dropped
 * connection, token requests) and what it makes of the answers. Each server
 * is a thread answering one request per connection from a test's script.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/digest.h"
#include "image/registry.h"

#define MAX_SEEN 64
#define BLOB_LEN 200000

/* What a server saw of one request. */
struct seen {
        char method[8];
        char path[512];
        char authorization[256];
        char range[64];
};

struct server;
typedef void (*handler_fn)(struct server *s, const struct seen *rq, int fd);

struct server {
        int listen_fd;
        int port;
        pthread_t thread;
        handler_fn handler;
        pthread_mutex_t lock;
        struct seen seen[MAX_SEEN];
        int n_seen;
        int counter;    /* requests so far, for scripts that change over them */
        int last_token; /* token_handler: the one token it accepts */
        struct server *peer;
};

static char blob[BLOB_LEN];
static char blob_digest[BERTH_DIGEST_STR_MAX];
static const char basic_up[] = "Basic dTpw"; /* u:p */

static void send_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n <= 0)
                        return;
                p += n;
                len -= (size_t)n;
        }
}

/* A full response; `send_len` < len cuts the body short (a dropped connection). */
static void respond(int fd, int status, const char *headers, const char *body, size_t len,
                    size_t send_len)
{
        char head[2048];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                         status, len, headers ? headers : "");

        if (n <= 0 || (size_t)n >= sizeof(head))
                return;
        send_all(fd, head, (size_t)n);
        if (body)
                send_all(fd, body, send_len < len ? send_len : len);
}

static void respond_str(int fd, int status, const char *headers, const char *body)
{
        respond(fd, status, headers, body, strlen(body), strlen(body));
}

static void header_value(const char *req, const char *name, char *buf, size_t size)
{
        size_t nlen = strlen(name);

        buf[0] = '\0';
        for (const char *l = strstr(req, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
                const char *h = l + 2;
                if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
                        const char *v = h + nlen + 1, *e = strstr(v, "\r\n");
                        while (*v == ' ')
                                v++;
                        snprintf(buf, size, "%.*s", (int)(e ? e - v : (ptrdiff_t)strlen(v)), v);
                        return;
                }
        }
}

static void *serve(void *arg)
{
        struct server *s = arg;

        for (;;) {
                char req[8192];
                size_t len = 0;
                struct seen rq = { 0 };
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0)
                        return NULL;
                /* The https probe sends a TLS ClientHello: not HTTP, hang up. */
                while (len < sizeof(req) - 1) {
                        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
                        if (n <= 0 || (len == 0 && (req[0] < 'A' || req[0] > 'Z')))
                                break;
                        len += (size_t)n;
                        req[len] = '\0';
                        if (strstr(req, "\r\n\r\n"))
                                break;
                }
                req[len] = '\0';
                if (len == 0 || !strstr(req, "\r\n\r\n")) {
                        close(fd);
                        continue;
                }
                {
                        const char *sp = strchr(req, ' ');
                        const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
                        if (!sp || !sp2) {
                                close(fd);
                                continue;
                        }
                        snprintf(rq.method, sizeof(rq.method), "%.*s", (int)(sp - req), req);
                        snprintf(rq.path, sizeof(rq.path), "%.*s", (int)(sp2 - sp - 1), sp + 1);
                }
                header_value(req, "Authorization", rq.authorization, sizeof(rq.authorization));
                header_value(req, "Range", rq.range, sizeof(rq.range));
                pthread_mutex_lock(&s->lock);
                if (s->n_seen < MAX_SEEN)
                        s->seen[s->n_seen++] = rq;
                s->counter++;
                pthread_mutex_unlock(&s->lock);
                s->handler(s, &rq, fd);
                shutdown(fd, SHUT_RDWR);
                close(fd);
        }
}

static void server_start(struct server *s, handler_fn handler)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof(a);

        memset(s, 0, sizeof(*s));
        s->handler = handler;
        pthread_mutex_init(&s->lock, NULL);
        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->listen_fd >= 0);
        assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(s->listen_fd, 16), 0);
        assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &alen), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->thread, NULL);
        close(s->listen_fd);
        pthread_mutex_destroy(&s->lock);
}

static berth_registry *open_registry(const struct server *s, const char *user, const char *pass)
{
        berth_credentials creds = { (char *)user, (char *)pass };
        berth_registry_options o = { .creds = &creds };
        berth_error err = BERTH_ERROR_INIT;
        berth_registry *r = NULL;
        char host[32];

        snprintf(host, sizeof(host), "127.0.0.1:%d", s->port);
        assert_int_equal(berth_registry_new(host, &o, &r, &err), 0);
        return r;
}

/* A sink that checks every byte arrives once, in order. */
struct sink {
        berth_hasher *h;
        uint64_t next;
        int out_of_order;
};

static int sink_fn(void *ud, const void *buf, size_t len, uint64_t offset, berth_error *err)
{
        struct sink *k = ud;

        if (offset != k->next)
                k->out_of_order++;
        berth_hasher_update(k->h, buf, len);
        k->next = offset + len;
        return 0;
}

static int get_blob(berth_registry *r, const char *repo, char *const *urls, struct sink *k,
                    berth_error *err)
{
        char got[BERTH_DIGEST_STR_MAX];
        int rc;

        *k = (struct sink){ .h = berth_hasher_new() };
        rc = berth_registry_get_blob(r, repo, blob_digest, BLOB_LEN, urls, sink_fn, k, err);
        berth_hasher_final(k->h, got);
        berth_hasher_free(k->h);
        if (rc == 0)
                assert_string_equal(got, blob_digest);
        return rc;
}

static bool require_basic(const struct seen *rq, int fd)
{
        if (strcmp(rq->authorization, basic_up) == 0)
                return true;
        respond(fd, 401, "WWW-Authenticate: Basic realm=\"test, with a comma\"\r\n", NULL, 0, 0);
        return false;
}

/* ---- credentials stay home ------------------------------------------------------------- */

static void storage_handler(struct server *s, const struct seen *rq, int fd)
{
        /* what a storage backend would do with credentials it was not meant to see */
        if (rq->authorization[0]) {
                respond_str(fd, 400, NULL, "{\"details\":\"credentials leaked\"}");
                return;
        }
        respond(fd, 200, NULL, blob, BLOB_LEN, BLOB_LEN);
}

static void redirecting_handler(struct server *s, const struct seen *rq, int fd)
{
        char loc[256];

        if (strcmp(rq->path, "/v2/") == 0) {
                respond(fd, strcmp(rq->authorization, basic_up) == 0 ? 200 : 401,
                        "WWW-Authenticate: Basic realm=\"r\"\r\n", NULL, 0, 0);
                return;
        }
        if (!require_basic(rq, fd))
                return;
        if (strncmp(rq->path, "/v2/away/", 9) == 0)
                snprintf(loc, sizeof(loc), "Location: http://127.0.0.1:%d/bucket/x?sig=1\r\n",
                         s->peer->port);
        else if (strncmp(rq->path, "/v2/home/", 9) == 0)
                snprintf(loc, sizeof(loc), "Location: /v2/final/blobs/%s\r\n", blob_digest);
        else
                loc[0] = '\0';
        if (loc[0])
                respond(fd, 307, loc, NULL, 0, 0);
        else
                respond(fd, 200, NULL, blob, BLOB_LEN, BLOB_LEN);
}

static void test_redirect_drops_credentials(void **state)
{
        struct server reg, storage;
        berth_error err = BERTH_ERROR_INIT;
        struct sink k;
        berth_registry *r;
        char foreign[128];
        char *urls[] = { foreign, NULL };

        server_start(&storage, storage_handler);
        server_start(&reg, redirecting_handler);
        reg.peer = &storage;
        r = open_registry(&reg, "u", "p");

        /* To another port (a storage backend): followed, without the Authorization header. */
        assert_int_equal(get_blob(r, "away", NULL, &k, &err), 0);
        /* On the registry's own origin: credentials go along. */
        assert_int_equal(get_blob(r, "home", NULL, &k, &err), 0);
        /* Foreign layer URLs never get credentials, even on the registry's host. */
        snprintf(foreign, sizeof(foreign), "http://127.0.0.1:%d/v2/foreign", storage.port);
        assert_int_equal(get_blob(r, "nowhere", urls, &k, &err), 0);
        berth_registry_free(r);
        server_stop(&reg);
        server_stop(&storage);

        assert_int_equal(storage.n_seen, 2);
        for (int i = 0; i < storage.n_seen; i++)
                assert_string_equal(storage.seen[i].authorization, "");
        assert_string_equal(storage.seen[0].path, "/bucket/x?sig=1");
        for (int i = 0; i < reg.n_seen; i++)
                if (strncmp(reg.seen[i].path, "/v2/final/", 10) == 0)
                        assert_string_equal(reg.seen[i].authorization, basic_up);
        berth_error_release(&err);
}

/* ---- resumption ------------------------------------------------------------------------ */

static void dropping_handler(struct server *s, const struct seen *rq, int fd)
{
        unsigned long long start = 0;
        char hdr[128];
        bool honour = strstr(rq->path, "/ignores-range/") == NULL;
        bool always = strstr(rq->path, "/always/") != NULL;
        int n;

        if (strcmp(rq->path, "/v2/") == 0) {
                respond(fd, 200, NULL, "{}", 2, 2);
                return;
        }
        pthread_mutex_lock(&s->lock);
        n = s->counter;
        pthread_mutex_unlock(&s->lock);
        if (rq->range[0] && honour) {
                if (strncmp(rq->range, "bytes=", 6) == 0)
                        start = strtoull(rq->range + 6, NULL, 10);
                if (start > BLOB_LEN)
                        start = BLOB_LEN;
                snprintf(hdr, sizeof(hdr), "Content-Range: bytes %llu-%d/%d\r\n", start,
                         BLOB_LEN - 1, BLOB_LEN);
                respond(fd, 206, hdr, blob + start, BLOB_LEN - start,
                        always || n < 5 ? 30000 : BLOB_LEN);
                return;
        }
        /* The first answer drops after 70000 bytes; then 30000 more each time. */
        respond(fd, 200, NULL, blob, BLOB_LEN, always || n < 5 ? 70000 : BLOB_LEN);
}

static void test_resume_after_drop(void **state)
{
        struct server s;
        berth_error err = BERTH_ERROR_INIT;
        struct sink k;
        berth_registry *r;

        server_start(&s, dropping_handler);
        r = open_registry(&s, NULL, NULL);
        assert_int_equal(get_blob(r, "x/resumes", NULL, &k, &err), 0);
        assert_int_equal(k.out_of_order, 0);
        assert_int_equal(k.next, BLOB_LEN);
        berth_registry_free(r);
        server_stop(&s);

        /* The https probe, then: no Range, then Range from each byte we had. */
        assert_int_equal(s.n_seen, 5);
        assert_string_equal(s.seen[1].range, "");
        assert_string_equal(s.seen[2].range, "bytes=70000-");
        assert_string_equal(s.seen[3].range, "bytes=100000-");
        assert_string_equal(s.seen[4].range, "bytes=130000-");
        berth_error_release(&err);
}

static void test_resume_server_ignores_range(void **state)
{
        struct server s;
        berth_error err = BERTH_ERROR_INIT;
        struct sink k;
        berth_registry *r;

        server_start(&s, dropping_handler);
        r = open_registry(&s, NULL, NULL);
        /* Each retry starts over with a 200: the bytes the sink had are skipped. */
        assert_int_equal(get_blob(r, "x/ignores-range/y", NULL, &k, &err), 0);
        assert_int_equal(k.out_of_order, 0);
        assert_int_equal(k.next, BLOB_LEN);
        berth_registry_free(r);
        server_stop(&s);
        berth_error_release(&err);
}

static void test_resume_gives_up(void **state)
{
        struct server s;
        berth_error err = BERTH_ERROR_INIT;
        struct sink k;
        berth_registry *r;

        server_start(&s, dropping_handler);
        r = open_registry(&s, NULL, NULL);
        assert_int_equal(get_blob(r, "x/always/y", NULL, &k, &err), -ECONNRESET);
        assert_non_null(strstr(berth_error_msg(&err), "x/always/y"));
        assert_non_null(strstr(berth_error_msg(&err), blob_digest));
        assert_int_equal(k.next, 70000 + 3 * 30000);
        berth_registry_free(r);
        server_stop(&s);
        assert_int_equal(s.n_seen, 1 + 4); /* the probe, the first try, 3 resumptions */
        berth_error_release(&err);
}

/* ---- tokens, errors, pages ------------------------------------------------------------- */

static void token_handler(struct server *s, const struct seen *rq, int fd)
{
        char want[64], hdr[512];
        int n;

        pthread_mutex_lock(&s->lock);
        n = s->counter;
        if (strncmp(rq->path, "/token?", 7) == 0 && strcmp(rq->authorization, basic_up) == 0)
                s->last_token = n;
        snprintf(want, sizeof(want), "Bearer tok%d", s->last_token);
        pthread_mutex_unlock(&s->lock);

        if (strncmp(rq->path, "/token?", 7) == 0) {
                char body[128];
                if (strcmp(rq->authorization, basic_up) != 0) {
                        respond_str(fd, 401, NULL,
                                    "{\"details\":\"incorrect username or password\"}");
                        return;
                }
                snprintf(body, sizeof(body), "{\"access_token\":\"tok%d\",\"expires_in\":300}", n);
                respond_str(fd, 200, "Content-Type: application/json\r\n", body);
                return;
        }
        /* Only the newest token is good: an older one gets a 401, as if it expired. */
        if (strcmp(rq->authorization, want) != 0) {
                snprintf(hdr, sizeof(hdr),
                         "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\","
                         "service=\"test,svc\",scope=\"repository:x:pull\"\r\n"
                         "Content-Type: application/json\r\n",
                         s->port);
                respond_str(fd, 401, hdr,
                            "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
                            "required\"}]}");
                return;
        }
        if (strstr(rq->path, "/tags/list")) {
                if (!strstr(rq->path, "last="))
                        respond_str(fd, 200, "Link: </v2/x/tags/list?n=2&last=c>; rel=\"next\"\r\n",
                                    "{\"name\":\"x\",\"tags\":[\"b\",\"c\"]}");
                else
                        respond_str(fd, 200, NULL, "{\"name\":\"x\",\"tags\":[\"a\"]}");
                return;
        }
        respond_str(fd, 404, NULL,
                    "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                    "unknown\"}]}");
}

static int count_tokens(const struct server *s)
{
        int n = 0;

        for (int i = 0; i < s->n_seen; i++)
                if (strncmp(s->seen[i].path, "/token?", 7) == 0)
                        n++;
        return n;
}

static void test_bearer_tokens(void **state)
{
        struct server s;
        berth_error err = BERTH_ERROR_INIT;
        berth_registry_manifest m;
        berth_registry *r;
        char **tags = NULL;

        server_start(&s, token_handler);
        r = open_registry(&s, "u", "p");
        assert_int_equal(berth_registry_list_tags(r, "x", &tags, &err), 0);
        assert_non_null(tags);
        assert_string_equal(tags[0], "a");
        assert_string_equal(tags[1], "b");
        assert_string_equal(tags[2], "c");
        assert_null(tags[3]);
        strv_free(tags);
        /* One token for the scope; the second page reused it. */
        assert_int_equal(count_tokens(&s), 1);

        /* The registry's error message, errno from the status; the token is still cached. */
        assert_int_equal(berth_registry_get_manifest(r, "x", "nope", &m, &err), -ENOENT);
        assert_non_null(strstr(berth_error_msg(&err), "manifest unknown"));
        assert_non_null(strstr(berth_error_msg(&err), "/x:nope"));
        assert_int_equal(count_tokens(&s), 1);

        /* A cached token the registry refuses is replaced once, and the request retried. */
        pthread_mutex_lock(&s.lock);
        s.last_token = -1;
        pthread_mutex_unlock(&s.lock);
        assert_int_equal(berth_registry_list_tags(r, "x", &tags, &err), 0);
        strv_free(tags);
        assert_int_equal(count_tokens(&s), 2);
        berth_registry_free(r);

        /* Bad credentials: the token service's message, EACCES. */
        r = open_registry(&s, "u", "wrong");
        assert_int_equal(berth_registry_ping(r, &err), -EACCES);
        assert_non_null(strstr(berth_error_msg(&err), "incorrect username or password"));
        berth_registry_free(r);
        server_stop(&s);

        for (int i = 0; i < s.n_seen; i++)
                if (strncmp(s.seen[i].path, "/token?", 7) == 0)
                        assert_string_equal(s.seen[i].path,
                                            i + 1 == s.n_seen
                                                    ? "/token?service=test%2Csvc&account=u"
                                                    : "/token?service=test%2Csvc&scope="
                                                      "repository%3Ax%3Apull&account=u");
        berth_error_release(&err);
}

static void test_connection_refused(void **state)
{
        struct server s;
        berth_error err = BERTH_ERROR_INIT;
        berth_registry *r;

        /* A port that was just free: nothing listens there. */
        server_start(&s, storage_handler);
        server_stop(&s);
        r = open_registry(&s, NULL, NULL);
        assert_int_equal(berth_registry_ping(r, &err), -ECONNREFUSED);
        assert_non_null(strstr(berth_error_msg(&err), "127.0.0.1"));
        berth_registry_free(r);
        berth_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_redirect_drops_credentials),
                cmocka_unit_test(test_resume_after_drop),
                cmocka_unit_test(test_resume_server_ignores_range),
                cmocka_unit_test(test_resume_gives_up),
                cmocka_unit_test(test_bearer_tokens),
                cmocka_unit_test(test_connection_refused),
        };

        for (size_t i = 0; i < sizeof(blob); i++)
                blob[i] = (char)(i * 7 + i / 251);
        berth_digest_buffer(blob, sizeof(blob), blob_digest);
        /* No proxy from the environment may stand between the client and 127.0.0.1. */
        setenv("no_proxy", "*", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
