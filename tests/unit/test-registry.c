/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the registry client's pure parts (image/registry-internal.h:
 * WWW-Authenticate, Link, token replies, error bodies, the insecure-host
 * rule) and for the credentials file (image/auth.h) in a temporary HOME.
 * The network side is exercised against real registries by the
 * integration tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "image/auth.h"
#include "image/registry-internal.h"
#include "image/registry.h"

/* ---- base64 ---------------------------------------------------------------------------- */

static void test_base64_roundtrip(void **state)
{
        static const struct {
                const char *plain, *b64;
        } v[] = {
                { "", "" },
                { "f", "Zg==" },
                { "fo", "Zm8=" },
                { "foo", "Zm9v" },
                { "foob", "Zm9vYg==" },
                { "fooba", "Zm9vYmE=" },
                { "foobar", "Zm9vYmFy" },
                { "user:p@ss:word", "dXNlcjpwQHNzOndvcmQ=" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
                _cleanup_free_ char *enc = berth_base64_encode(v[i].plain, strlen(v[i].plain));
                _cleanup_free_ char *dec = NULL;
                size_t len = 99;

                assert_string_equal(enc, v[i].b64);
                assert_int_equal(berth_base64_decode(v[i].b64, &dec, &len), 0);
                assert_int_equal(len, strlen(v[i].plain));
                assert_memory_equal(dec, v[i].plain, len);
        }
}

static void test_base64_decode_lenient_and_strict(void **state)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        char *bad = NULL;
        size_t len = 0;
        unsigned char bin[] = { 0, 0xff, 0x10, 0x80 };
        _cleanup_free_ char *enc = berth_base64_encode(bin, sizeof(bin));

        /* Some tools drop the padding; the bytes are the same. */
        assert_int_equal(berth_base64_decode("Zm9vYg", &a, &len), 0);
        assert_int_equal(len, 4);
        assert_string_equal(a, "foob");
        /* Binary with a NUL survives (the caller checks for NULs where they matter). */
        assert_int_equal(berth_base64_decode(enc, &b, &len), 0);
        assert_int_equal(len, sizeof(bin));
        assert_memory_equal(b, bin, sizeof(bin));

        assert_int_equal(berth_base64_decode("Zm9v!", &bad, &len), -EINVAL);
        assert_int_equal(berth_base64_decode("Z", &bad, &len), -EINVAL);
        assert_int_equal(berth_base64_decode("Zm9=v", &bad, &len), -EINVAL);
        assert_int_equal(berth_base64_decode("Zm9vYg=", &bad, &len), -EINVAL);
        assert_int_equal(berth_base64_decode("Zm9 v", &bad, &len), -EINVAL);
        /* "Zh==" has bits set past the last byte: not a canonical encoding. */
        assert_int_equal(berth_base64_decode("Zh==", &bad, &len), -EINVAL);
        assert_null(bad);
}

/* ---- WWW-Authenticate ------------------------------------------------------------------ */

static void test_challenge_bearer(void **state)
{
        berth_challenge c;
        berth_error err = BERTH_ERROR_INIT;

        assert_int_equal(
                berth_challenge_parse(
                        "Bearer "
                        "realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                        "scope=\"repository:library/a:pull,push repository:b:pull\"",
                        &c, &err),
                0);
        assert_int_equal(c.scheme, BERTH_AUTH_SCHEME_BEARER);
        assert_string_equal(c.realm, "https://auth.docker.io/token");
        assert_string_equal(c.service, "registry.docker.io");
        assert_string_equal(c.scope, "repository:library/a:pull,push repository:b:pull");
        assert_null(c.error);
        berth_challenge_release(&c);

        /* Case-insensitive scheme and names, spaces around '=', escapes, token values. */
        assert_int_equal(berth_challenge_parse("bearer REALM = \"http://h/t?a=1,b=\\\"2\\\"\" , "
                                               "Service=reg,error=insufficient_scope",
                                               &c, &err),
                         0);
        assert_int_equal(c.scheme, BERTH_AUTH_SCHEME_BEARER);
        assert_string_equal(c.realm, "http://h/t?a=1,b=\"2\"");
        assert_string_equal(c.service, "reg");
        assert_string_equal(c.error, "insufficient_scope");
        assert_null(c.scope);
        berth_challenge_release(&c);
        berth_error_release(&err);
}

static void test_challenge_choice(void **state)
{
        berth_challenge c;
        berth_error err = BERTH_ERROR_INIT;

        assert_int_equal(berth_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
        assert_int_equal(c.scheme, BERTH_AUTH_SCHEME_BASIC);
        assert_string_equal(c.realm, "Registry Realm");
        berth_challenge_release(&c);

        /* Several challenges: Bearer wins whatever the order; unknown schemes are skipped. */
        assert_int_equal(berth_challenge_parse("Basic realm=\"a, b\", Negotiate abc==, Bearer "
                                               "realm=\"https://t/x\",service=\"s\"",
                                               &c, &err),
                         0);
        assert_int_equal(c.scheme, BERTH_AUTH_SCHEME_BEARER);
        assert_string_equal(c.realm, "https://t/x");
        assert_string_equal(c.service, "s");
        berth_challenge_release(&c);

        assert_int_equal(berth_challenge_parse("Negotiate, NTLM", &c, &err), -ENOTSUP);
        assert_non_null(strstr(berth_error_msg(&err), "Negotiate"));
        assert_int_equal(berth_challenge_parse("Bearer service=\"s\"", &c, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "realm"));
        assert_int_equal(berth_challenge_parse("Bearer realm=\"unterminated", &c, &err), -EINVAL);
        assert_int_equal(berth_challenge_parse("Bearer realm=\"x\" junk", &c, &err), -EINVAL);
        assert_int_equal(berth_challenge_parse("", &c, &err), -ENOTSUP);
        assert_int_equal(c.scheme, BERTH_AUTH_SCHEME_NONE);
        assert_null(c.realm);
        berth_error_release(&err);
}

/* ---- Link ------------------------------------------------------------------------------ */

static void test_link_next(void **state)
{
        char *next = NULL;

        assert_int_equal(berth_link_next("</v2/x/tags/list?last=b&n=2>; rel=\"next\"", &next), 1);
        assert_string_equal(next, "/v2/x/tags/list?last=b&n=2");
        free(next);

        assert_int_equal(berth_link_next("<https://r/v2/x/tags/list?last=a>; rel=\"prev\", "
                                         "<https://r/v2/x/tags/list?last=c>; title=\"a;b, c\"; "
                                         "rel=\"last next\"",
                                         &next),
                         1);
        assert_string_equal(next, "https://r/v2/x/tags/list?last=c");
        free(next);

        assert_int_equal(berth_link_next("</p>;rel=next", &next), 1);
        assert_string_equal(next, "/p");
        free(next);

        assert_int_equal(berth_link_next("</p>; rel=\"prev\"", &next), 0);
        assert_null(next);
        assert_int_equal(berth_link_next("", &next), 0);
        assert_int_equal(berth_link_next("/p; rel=next", &next), -EINVAL);
        assert_int_equal(berth_link_next("</p; rel=next", &next), -EINVAL);
        assert_int_equal(berth_link_next("</p> rel=next", &next), -EINVAL);
        assert_null(next);
}

static void test_url_resolve(void **state)
{
        _cleanup_free_ char *a =
                berth_url_resolve("http://r:5000/v2/x/tags/list", "/v2/x/tags/list?last=b&n=2");
        _cleanup_free_ char *b = berth_url_resolve("https://r/v2/x/blobs/uploads/",
                                                   "https://storage.example/u?sig=1");
        _cleanup_free_ char *c = berth_url_resolve("https://r/v2/", "file:///etc/passwd");
        _cleanup_free_ char *d = berth_url_resolve("https://r/v2/a/b", "c?x=1");

        assert_string_equal(a, "http://r:5000/v2/x/tags/list?last=b&n=2");
        assert_string_equal(b, "https://storage.example/u?sig=1");
        assert_null(c);
        assert_string_equal(d, "https://r/v2/a/c?x=1");
}

/* ---- hosts ----------------------------------------------------------------------------- */

static void test_insecure_hosts(void **state)
{
        char *list[] = { "myreg.lan:5000", "other", NULL };

        assert_true(berth_registry_host_is_loopback("localhost"));
        assert_true(berth_registry_host_is_loopback("LOCALHOST:5000"));
        assert_true(berth_registry_host_is_loopback("127.0.0.1:5000"));
        assert_true(berth_registry_host_is_loopback("127.1.2.3"));
        assert_true(berth_registry_host_is_loopback("[::1]:5000"));
        assert_true(berth_registry_host_is_loopback("::1"));
        assert_false(berth_registry_host_is_loopback("128.0.0.1:5000"));
        assert_false(berth_registry_host_is_loopback("localhost.example.com"));
        assert_false(berth_registry_host_is_loopback("docker.io"));
        assert_false(berth_registry_host_is_loopback("[::2]:5000"));

        assert_true(berth_registry_host_is_insecure("127.0.0.1:5000", NULL, false));
        assert_true(berth_registry_host_is_insecure("myreg.lan:5000", list, false));
        assert_true(berth_registry_host_is_insecure("OTHER", list, false));
        assert_false(berth_registry_host_is_insecure("myreg.lan", list, false));
        assert_false(berth_registry_host_is_insecure("myreg.lan:5001", list, false));
        assert_false(berth_registry_host_is_insecure("quay.io", list, false));
        assert_true(berth_registry_host_is_insecure("quay.io", NULL, true));
}

static void test_registry_new(void **state)
{
        _cleanup_(berth_registry_freep) berth_registry *r = NULL;
        berth_credentials none = { 0 };
        berth_registry_options o = { .creds = &none };
        berth_error err = BERTH_ERROR_INIT;

        /* Docker Hub's images are named docker.io, its API is registry-1.docker.io. */
        assert_int_equal(berth_registry_new("docker.io", &o, &r, &err), 0);
        assert_string_equal(r->host, "registry-1.docker.io");
        assert_string_equal(r->base_https, "https://registry-1.docker.io");
        assert_false(r->host_insecure);
        berth_registry_free(TAKE_PTR(r));

        assert_int_equal(berth_registry_new("localhost:5000", &o, &r, &err), 0);
        assert_string_equal(r->host, "localhost:5000");
        assert_true(r->host_insecure);
        assert_null(r->creds.username);
        berth_registry_free(TAKE_PTR(r));

        assert_int_equal(berth_registry_new("bad/host", &o, &r, &err), -EINVAL);
        assert_null(r);
        assert_int_equal(berth_registry_new("", &o, &r, &err), -EINVAL);
        berth_error_release(&err);
}

static int no_sink(void *ud, const void *buf, size_t len, uint64_t off, berth_error *err)
{
        fail();
        return 0;
}

/* Bad arguments fail before anything goes on the wire (the host does not exist). */
static void test_registry_arguments(void **state)
{
        _cleanup_(berth_registry_freep) berth_registry *r = NULL;
        berth_credentials none = { 0 };
        berth_registry_options o = { .creds = &none };
        berth_error err = BERTH_ERROR_INIT;
        berth_registry_manifest m;
        const char *d = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

        assert_int_equal(berth_registry_new("registry.invalid", &o, &r, &err), 0);
        assert_int_equal(berth_registry_get_blob(r, "x", d, -1, NULL, no_sink, NULL, &err),
                         -EINVAL);
        assert_int_equal(
                berth_registry_get_blob(r, "x", "sha256:abc", 1, NULL, no_sink, NULL, &err),
                -EINVAL);
        assert_int_equal(
                berth_registry_get_blob(r, "x", "sha512:abc", 1, NULL, no_sink, NULL, &err),
                -ENOTSUP);
        assert_int_equal(berth_registry_get_manifest(r, "X/Upper", "latest", &m, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "X/Upper"));
        assert_int_equal(berth_registry_get_manifest(r, "a/../b", "latest", &m, &err), -EINVAL);
        assert_int_equal(berth_registry_get_manifest(r, "x", "bad tag", &m, &err), -EINVAL);
        assert_int_equal(berth_registry_get_manifest(r, "x?y", "latest", &m, &err), -EINVAL);
        assert_int_equal(berth_registry_put_manifest(r, "x",
                                                     "sha256:"
                                                     "11111111111111111111111111"
                                                     "11111111111111111111111111111111111"
                                                     "111",
                                                     "{}", 2, "application/json", &err),
                         -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "digest is sha256:44136fa3"));
        assert_int_equal(berth_registry_put_blob(r, "x", d, 1, -1, 0, &err), -EINVAL);
        berth_error_release(&err);
}

/* ---- token replies and error bodies ---------------------------------------------------- */

static void test_token_reply(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        char *tok = NULL;
        int64_t ttl = 0;
        const char *both = "{\"token\":\"abc\",\"access_token\":\"xyz\",\"expires_in\":300}";
        const char *access = "{\"access_token\":\"xyz\",\"issued_at\":\"2020-01-01T00:00:00Z\"}";
        const char *short_ttl = "{\"token\":\"abc\",\"expires_in\":10}";
        const char *empty_token = "{\"token\":\"\",\"access_token\":\"xyz\"}";
        const char *bad_ttl = "{\"token\":\"a\",\"expires_in\":\"60\"}";

        assert_int_equal(berth_token_reply_parse(both, strlen(both), &tok, &ttl, &err), 0);
        assert_string_equal(tok, "abc");
        assert_int_equal(ttl, 300);
        free(tok);
        assert_int_equal(berth_token_reply_parse(access, strlen(access), &tok, &ttl, &err), 0);
        assert_string_equal(tok, "xyz");
        assert_int_equal(ttl, 60);
        free(tok);
        assert_int_equal(berth_token_reply_parse(short_ttl, strlen(short_ttl), &tok, &ttl, &err),
                         0);
        assert_int_equal(ttl, 60);
        free(tok);
        assert_int_equal(
                berth_token_reply_parse(empty_token, strlen(empty_token), &tok, &ttl, &err), 0);
        assert_string_equal(tok, "xyz");
        free(tok);
        tok = NULL;

        assert_int_equal(berth_token_reply_parse("{}", 2, &tok, &ttl, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "access_token"));
        assert_int_equal(
                berth_token_reply_parse("{\"token\":1}", strlen("{\"token\":1}"), &tok, &ttl, &err),
                -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "token"));
        assert_int_equal(berth_token_reply_parse(bad_ttl, strlen(bad_ttl), &tok, &ttl, &err),
                         -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "expires_in"));
        assert_int_equal(berth_token_reply_parse("<html>", 6, &tok, &ttl, &err), -EINVAL);
        assert_null(tok);
        berth_error_release(&err);
}

static void check_error_text(const char *body, const char *want)
{
        _cleanup_free_ char *s = berth_registry_error_text(body, body ? strlen(body) : 0);

        if (!want)
                assert_null(s);
        else
                assert_string_equal(s, want);
}

static void test_error_text(void **state)
{
        check_error_text("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
                         "required\",\"detail\":null}]}",
                         "unauthorized: authentication required");
        check_error_text("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                         "unknown\",\"detail\":{\"Tag\":\"x\"}}]}",
                         "manifest unknown");
        check_error_text("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the "
                         "resource is denied\"},{\"code\":\"TOOMANYREQUESTS\"}]}",
                         "denied: requested access to the resource is denied; toomanyrequests");
        check_error_text("{\"details\":\"incorrect username or password\"}",
                         "incorrect username or password");
        check_error_text("{\"error\":\"invalid_grant\",\"error_description\":\"bad\"}", "bad");
        check_error_text("{\"errors\":[]}", NULL);
        check_error_text("<html><body>502 Bad Gateway</body></html>", NULL);
        check_error_text("", NULL);
        check_error_text(NULL, NULL);
}

static void test_status_error(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_http_response resp = { .status = 404 };
        char body[] = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to "
                      "registry\"}]}";

        resp.body = body;
        resp.body_len = strlen(body);
        assert_int_equal(berth_registry_status_error(&resp, &err), -ENOENT);
        assert_string_equal(berth_error_msg(&err), "blob unknown: blob unknown to registry");
        resp.body = NULL;
        resp.body_len = 0;
        resp.status = 401;
        assert_int_equal(berth_registry_status_error(&resp, &err), -EACCES);
        assert_non_null(strstr(berth_error_msg(&err), "authentication required"));
        resp.status = 403;
        assert_int_equal(berth_registry_status_error(&resp, &err), -EACCES);
        resp.status = 502;
        assert_int_equal(berth_registry_status_error(&resp, &err), -EIO);
        assert_string_equal(berth_error_msg(&err), "HTTP 502");
        resp.status = 405;
        assert_int_equal(berth_registry_status_error(&resp, &err), -ENOTSUP);
        resp.status = 416;
        assert_int_equal(berth_registry_status_error(&resp, &err), -ERANGE);
        berth_error_release(&err);
}

static void test_content_range(void **state)
{
        uint64_t start = 7;

        assert_int_equal(berth_content_range_start("bytes 100-199/200", &start), 0);
        assert_int_equal(start, 100);
        assert_int_equal(berth_content_range_start("bytes 0-0/*", &start), 0);
        assert_int_equal(start, 0);
        assert_int_equal(berth_content_range_start("bytes 200-100/300", &start), -EINVAL);
        assert_int_equal(berth_content_range_start("bytes -5/300", &start), -EINVAL);
        assert_int_equal(berth_content_range_start("100-199/200", &start), -EINVAL);
        assert_int_equal(berth_content_range_start("bytes 1-2", &start), -EINVAL);
        assert_int_equal(berth_content_range_start("bytes +1-2/3", &start), -EINVAL);
        assert_int_equal(start, 0);
}

/* ---- the credentials file -------------------------------------------------------------- */

struct home {
        char dir[64];
        char docker[PATH_MAX]; /* $HOME/.docker/config.json */
        char podman[PATH_MAX]; /* $XDG_RUNTIME_DIR/containers/auth.json */
        char explicit[PATH_MAX];
};

static int setup_home(void **state)
{
        struct home *h = calloc(1, sizeof(*h));
        char run[128];

        assert_non_null(h);
        snprintf(h->dir, sizeof(h->dir), "/tmp/berth-test-auth-XXXXXX");
        assert_non_null(mkdtemp(h->dir));
        snprintf(run, sizeof(run), "%s/run", h->dir);
        assert_int_equal(mkdir(run, 0700), 0);
        snprintf(h->docker, sizeof(h->docker), "%s/.docker/config.json", h->dir);
        snprintf(h->podman, sizeof(h->podman), "%s/containers/auth.json", run);
        snprintf(h->explicit, sizeof(h->explicit), "%s/explicit.json", h->dir);
        setenv("HOME", h->dir, 1);
        setenv("XDG_RUNTIME_DIR", run, 1);
        unsetenv("DOCKER_CONFIG");
        unsetenv("REGISTRY_AUTH_FILE");
        *state = h;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static int teardown_home(void **state)
{
        struct home *h = *state;

        nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(h);
        return 0;
}

static void write_text(const char *path, const char *text)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash = strrchr(dir, '/');
        int fd;

        *slash = '\0';
        mkdir(dir, 0700);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static json_object *read_json(const char *path)
{
        json_object *o = json_object_from_file(path);
        assert_non_null(o);
        return o;
}

static const char *auth_of(json_object *doc, const char *key)
{
        json_object *auths, *entry, *auth;

        if (!json_object_object_get_ex(doc, "auths", &auths) ||
            !json_object_object_get_ex(auths, key, &entry) ||
            !json_object_object_get_ex(entry, "auth", &auth))
                return NULL;
        return json_object_get_string(auth);
}

static void expect_creds(const char *authfile, const char *host, const char *user, const char *pass)
{
        berth_credentials c;
        berth_error err = BERTH_ERROR_INIT;
        int r = berth_auth_lookup(authfile, host, &c, &err);

        if (!user) {
                assert_int_equal(r, 0);
                assert_null(c.username);
                return;
        }
        if (r != 1)
                fail_msg("lookup %s: %d %s", host, r, berth_error_msg(&err));
        assert_string_equal(c.username, user);
        assert_string_equal(c.password, pass);
        berth_credentials_release(&c);
        berth_error_release(&err);
}

static void test_auth_store_keeps_other_keys(void **state)
{
        struct home *h = *state;
        berth_credentials c = { "alice", "s3cret:with:colons" };
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *def = berth_auth_default_file(NULL);
        json_object *doc, *v;
        struct stat st;

        assert_string_equal(def, h->docker);
        write_text(h->docker, "{\n\t\"auths\": {\n\t\t\"quay.io\": {\"auth\": \"Ym9iOnB3\", "
                              "\"email\": \"b@x\"}\n\t},\n\t\"proxies\": {\"default\": "
                              "{\"httpProxy\": \"http://p:3128\"}},\n\t\"detachKeys\": "
                              "\"ctrl-x\",\n\t\"big\": 18446744073709551615\n}\n");
        umask(0);
        assert_int_equal(berth_auth_store(NULL, "localhost:5000", &c, &err), 0);
        umask(022);

        assert_int_equal(stat(h->docker, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        doc = read_json(h->docker);
        assert_string_equal(auth_of(doc, "localhost:5000"), "YWxpY2U6czNjcmV0OndpdGg6Y29sb25z");
        assert_string_equal(auth_of(doc, "quay.io"), "Ym9iOnB3");
        assert_true(json_object_object_get_ex(doc, "proxies", &v));
        assert_true(json_object_object_get_ex(v, "default", &v));
        assert_true(json_object_object_get_ex(doc, "detachKeys", &v));
        assert_string_equal(json_object_get_string(v), "ctrl-x");
        assert_true(json_object_object_get_ex(doc, "big", &v));
        assert_true(json_object_get_uint64(v) == UINT64_MAX);
        json_object_put(doc);

        expect_creds(NULL, "localhost:5000", "alice", "s3cret:with:colons");
        expect_creds(NULL, "quay.io", "bob", "pw");
        expect_creds(NULL, "ghcr.io", NULL, NULL);

        /* Logging in again replaces the entry; no temporary file is left beside it. */
        c.password = "new";
        assert_int_equal(berth_auth_store(NULL, "localhost:5000", &c, &err), 0);
        expect_creds(NULL, "localhost:5000", "alice", "new");
        {
                _cleanup_free_ char *dir = strdup(h->docker);
                char cmd[PATH_MAX + 64];
                *strrchr(dir, '/') = '\0';
                snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) = 1", dir);
                assert_int_equal(system(cmd), 0);
        }
        berth_error_release(&err);
}

static void test_auth_new_file_and_mode(void **state)
{
        struct home *h = *state;
        berth_credentials c = { "u", "p" };
        berth_error err = BERTH_ERROR_INIT;
        struct stat st;

        /* No ~/.docker yet: made 0700, the file 0600. */
        assert_int_equal(berth_auth_store(NULL, "r.example:443", &c, &err), 0);
        assert_int_equal(stat(h->docker, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        {
                char dir[PATH_MAX];
                snprintf(dir, sizeof(dir), "%s/.docker", h->dir);
                assert_int_equal(stat(dir, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0700);
        }

        /* A world-readable file is tightened when rewritten. */
        assert_int_equal(chmod(h->docker, 0644), 0);
        assert_int_equal(berth_auth_store(NULL, "r.example:443", &c, &err), 0);
        assert_int_equal(stat(h->docker, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        berth_error_release(&err);
}

static void test_auth_docker_hub(void **state)
{
        struct home *h = *state;
        berth_credentials c = { "hubuser", "hubpass" };
        berth_error err = BERTH_ERROR_INIT;
        json_object *doc;

        assert_int_equal(berth_auth_store(NULL, "docker.io", &c, &err), 0);
        doc = read_json(h->docker);
        assert_non_null(auth_of(doc, BERTH_AUTH_DOCKER_HUB_KEY));
        assert_null(auth_of(doc, "docker.io"));
        json_object_put(doc);
        expect_creds(NULL, "docker.io", "hubuser", "hubpass");
        expect_creds(NULL, "index.docker.io", "hubuser", "hubpass");

        /* podman writes "docker.io"; docker's key is found for it too, and vice versa. */
        write_text(h->podman, "{\"auths\":{\"docker.io\":{\"auth\":\"cDp1\"}}}");
        expect_creds(NULL, "docker.io", "p", "u");
        assert_int_equal(berth_auth_remove(NULL, "docker.io", &err), 0);
        doc = read_json(h->docker);
        assert_null(auth_of(doc, BERTH_AUTH_DOCKER_HUB_KEY));
        json_object_put(doc);
        assert_int_equal(berth_auth_remove(NULL, "docker.io", &err), -ENOENT);
        assert_non_null(strstr(berth_error_msg(&err), "not logged in"));
        berth_error_release(&err);
}

static void test_auth_lookup_order(void **state)
{
        struct home *h = *state;
        char dc[PATH_MAX];

        write_text(h->docker, "{\"auths\":{\"r:1\":{\"auth\":\"ZG9ja2VyOmQ=\"},"
                              "\"https://only-docker/v1/\":{\"auth\":\"ZG9ja2VyOmQ=\"}}}");
        write_text(h->podman, "{\"auths\":{\"r:1\":{\"auth\":\"cG9kbWFuOnA=\"}}}");
        write_text(h->explicit, "{\"auths\":{\"r:1\":{\"auth\":\"ZXhwbGljaXQ6ZQ==\"}}}");

        expect_creds(NULL, "r:1", "podman", "p");
        expect_creds(h->explicit, "r:1", "explicit", "e");
        setenv("REGISTRY_AUTH_FILE", h->explicit, 1);
        expect_creds(NULL, "r:1", "explicit", "e");
        unsetenv("REGISTRY_AUTH_FILE");
        /* A file without an entry passes the lookup on; a URL key names its host. */
        expect_creds(h->explicit, "only-docker", "docker", "d");
        expect_creds("/nonexistent/auth.json", "r:1", "podman", "p");

        unsetenv("XDG_RUNTIME_DIR");
        expect_creds(NULL, "r:1", "docker", "d");
        snprintf(dc, sizeof(dc), "%s/dc", h->dir);
        setenv("DOCKER_CONFIG", dc, 1);
        expect_creds(NULL, "r:1", NULL, NULL);
        {
                _cleanup_free_ char *def = berth_auth_default_file(NULL);
                char want[PATH_MAX + 16];
                snprintf(want, sizeof(want), "%s/config.json", dc);
                assert_string_equal(def, want);
        }
        unsetenv("DOCKER_CONFIG");
}

static void test_auth_remove_keeps_others(void **state)
{
        struct home *h = *state;
        berth_error err = BERTH_ERROR_INIT;
        json_object *doc, *v;
        struct stat st;

        write_text(h->explicit, "{\"auths\":{\"a:1\":{\"auth\":\"eDp5\"},\"b:2\":{\"auth\":"
                                "\"eDp5\"}},\"credsStore\":\"desktop\"}");
        assert_int_equal(berth_auth_remove(h->explicit, "a:1", &err), 0);
        assert_int_equal(stat(h->explicit, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        doc = read_json(h->explicit);
        assert_null(auth_of(doc, "a:1"));
        assert_string_equal(auth_of(doc, "b:2"), "eDp5");
        assert_true(json_object_object_get_ex(doc, "credsStore", &v));
        json_object_put(doc);
        assert_int_equal(berth_auth_remove(h->explicit, "a:1", &err), -ENOENT);
        assert_int_equal(berth_auth_remove(NULL, "a:1", &err), -ENOENT);
        berth_error_release(&err);
}

static void test_auth_helpers_refused(void **state)
{
        struct home *h = *state;
        berth_credentials c = { 0 };
        berth_error err = BERTH_ERROR_INIT;

        write_text(h->docker, "{\"auths\":{\"store.example\":{}},\"credsStore\":\"pass\","
                              "\"credHelpers\":{\"ecr.example\":\"ecr-login\"}}");
        assert_int_equal(berth_auth_lookup(NULL, "store.example", &c, &err), -ENOTSUP);
        assert_non_null(strstr(berth_error_msg(&err), "docker-credential-pass"));
        assert_non_null(strstr(berth_error_msg(&err), "berth login store.example"));
        assert_int_equal(berth_auth_lookup(NULL, "ecr.example", &c, &err), -ENOTSUP);
        assert_non_null(strstr(berth_error_msg(&err), "docker-credential-ecr-login"));
        /* A host the store was never asked about has no credentials, not an error. */
        expect_creds(NULL, "elsewhere.example", NULL, NULL);
        assert_null(c.username);
        berth_error_release(&err);
}

static void test_auth_broken_files(void **state)
{
        struct home *h = *state;
        berth_credentials c = { 0 }, in = { "u", "p" };
        berth_error err = BERTH_ERROR_INIT;

        write_text(h->docker, "{\"auths\":{\"r:1\":{\"auth\":\"not base64!\"}}}");
        assert_int_equal(berth_auth_lookup(NULL, "r:1", &c, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), h->docker));
        assert_non_null(strstr(berth_error_msg(&err), "auths.r:1.auth"));

        write_text(h->docker, "{\"auths\":{\"r:1\":{\"auth\":\"bm9jb2xvbg==\"}}}");
        assert_int_equal(berth_auth_lookup(NULL, "r:1", &c, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "user:password"));

        write_text(h->docker, "{\"auths\":[]}");
        assert_int_equal(berth_auth_lookup(NULL, "r:1", &c, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "auths"));
        /* login must not overwrite a file it cannot read. */
        assert_int_equal(berth_auth_store(NULL, "r:1", &in, &err), -EINVAL);

        write_text(h->docker, "{\"auths\": {");
        assert_int_equal(berth_auth_lookup(NULL, "r:1", &c, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), h->docker));

        /* An empty file is an empty config, as docker reads it. */
        write_text(h->docker, "");
        assert_int_equal(berth_auth_lookup(NULL, "r:1", &c, &err), 0);
        assert_int_equal(berth_auth_store(NULL, "r:1", &in, &err), 0);
        expect_creds(NULL, "r:1", "u", "p");

        assert_int_equal(berth_auth_store(NULL, "r:1", &(berth_credentials){ "a:b", "p" }, &err),
                         -EINVAL);
        assert_null(c.username);
        berth_error_release(&err);
}

static void test_auth_identity_token_and_symlink(void **state)
{
        struct home *h = *state;
        berth_credentials in = { "u2", "p2" };
        berth_error err = BERTH_ERROR_INIT;
        char target[PATH_MAX], buf[PATH_MAX];
        struct stat st;
        ssize_t n;

        /* docker stores "<user>:" beside an identity token, which is what gets sent. */
        write_text(h->docker,
                   "{\"auths\":{\"r:1\":{\"auth\":\"dTo=\",\"identitytoken\":\"tok\"}}}");
        expect_creds(NULL, "r:1", "u", "tok");

        /* A symlinked config.json (dotfiles) is updated at its target; the link stays. */
        snprintf(target, sizeof(target), "%s/dotfiles-config.json", h->dir);
        write_text(target, "{\"auths\":{},\"keep\":1}");
        assert_int_equal(unlink(h->docker), 0);
        assert_int_equal(symlink(target, h->docker), 0);
        assert_int_equal(berth_auth_store(NULL, "r:1", &in, &err), 0);
        assert_int_equal(lstat(h->docker, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        n = readlink(h->docker, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_string_equal(buf, target);
        expect_creds(NULL, "r:1", "u2", "p2");
        berth_error_release(&err);
}

static void test_auth_key_matches(void **state)
{
        assert_true(berth_auth_key_matches("localhost:5000", "localhost:5000"));
        assert_true(berth_auth_key_matches("https://localhost:5000", "localhost:5000"));
        assert_true(berth_auth_key_matches("http://localhost:5000/v2/", "LOCALHOST:5000"));
        assert_true(berth_auth_key_matches("https://index.docker.io/v1/", "docker.io"));
        assert_true(berth_auth_key_matches("registry-1.docker.io", "docker.io"));
        assert_true(berth_auth_key_matches("docker.io", "index.docker.io"));
        assert_false(berth_auth_key_matches("localhost:5001", "localhost:5000"));
        assert_false(berth_auth_key_matches("localhost", "localhost:5000"));
        assert_false(berth_auth_key_matches("https://quay.io", "docker.io"));
        assert_false(berth_auth_key_matches("evil.com/localhost:5000", "localhost:5000"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base64_roundtrip),
                cmocka_unit_test(test_base64_decode_lenient_and_strict),
                cmocka_unit_test(test_challenge_bearer),
                cmocka_unit_test(test_challenge_choice),
                cmocka_unit_test(test_link_next),
                cmocka_unit_test(test_url_resolve),
                cmocka_unit_test(test_insecure_hosts),
                cmocka_unit_test(test_registry_new),
                cmocka_unit_test(test_registry_arguments),
                cmocka_unit_test(test_token_reply),
                cmocka_unit_test(test_error_text),
                cmocka_unit_test(test_status_error),
                cmocka_unit_test(test_content_range),
                cmocka_unit_test(test_auth_key_matches),
                cmocka_unit_test_setup_teardown(test_auth_store_keeps_other_keys, setup_home,
                                                teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_new_file_and_mode, setup_home,
                                                teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_docker_hub, setup_home, teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_lookup_order, setup_home, teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_remove_keeps_others, setup_home,
                                                teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_helpers_refused, setup_home,
                                                teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_broken_files, setup_home, teardown_home),
                cmocka_unit_test_setup_teardown(test_auth_identity_token_and_symlink, setup_home,
                                                teardown_home),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
