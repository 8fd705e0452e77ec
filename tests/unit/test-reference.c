/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/reference.c: docker's normalisation table (what
 * `docker pull X` resolves X to), the familiar forms docker prints, and the
 * references docker refuses, with the messages users see.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "image/reference.h"

#define HEX    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIGEST "sha256:" HEX

struct good {
        const char *in;
        unsigned flags;
        const char *domain, *path, *tag, *digest;
        const char *string;   /* berth_reference_string() */
        const char *familiar; /* berth_reference_familiar() */
};

#define DT BERTH_REFERENCE_DEFAULT_TAG_FLAG

static const struct good goods[] = {
        { "busybox", DT, "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "busybox", 0, "docker.io", "library/busybox", NULL, NULL, "docker.io/library/busybox",
          "busybox" },
        { "library/busybox", DT, "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "library/busybox:1.36", DT, "docker.io", "library/busybox", "1.36", NULL,
          "docker.io/library/busybox:1.36", "busybox:1.36" },
        { "docker.io/busybox", DT, "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "index.docker.io/library/busybox", DT, "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        { "index.docker.io/busybox", 0, "docker.io", "library/busybox", NULL, NULL,
          "docker.io/library/busybox", "busybox" },
        { "docker.io/library/busybox:latest", 0, "docker.io", "library/busybox", "latest", NULL,
          "docker.io/library/busybox:latest", "busybox:latest" },
        /* library/ only for a single component: user images stay as they are. */
        { "user/app", DT, "docker.io", "user/app", "latest", NULL, "docker.io/user/app:latest",
          "user/app:latest" },
        { "docker.io/library/a/b", 0, "docker.io", "library/a/b", NULL, NULL,
          "docker.io/library/a/b", "library/a/b" },
        { "localhost/x", DT, "localhost", "x", "latest", NULL, "localhost/x:latest",
          "localhost/x:latest" },
        { "localhost:5000/x/y:tag", DT, "localhost:5000", "x/y", "tag", NULL,
          "localhost:5000/x/y:tag", "localhost:5000/x/y:tag" },
        { "127.0.0.1:5000/a", DT, "127.0.0.1:5000", "a", "latest", NULL, "127.0.0.1:5000/a:latest",
          "127.0.0.1:5000/a:latest" },
        { "[::1]:5000/a", DT, "[::1]:5000", "a", "latest", NULL, "[::1]:5000/a:latest",
          "[::1]:5000/a:latest" },
        { "[fe80::1]/a/b:v1", 0, "[fe80::1]", "a/b", "v1", NULL, "[fe80::1]/a/b:v1",
          "[fe80::1]/a/b:v1" },
        { "a.b/c", DT, "a.b", "c", "latest", NULL, "a.b/c:latest", "a.b/c:latest" },
        { "Registry.Example.com/team/app", 0, "Registry.Example.com", "team/app", NULL, NULL,
          "Registry.Example.com/team/app", "Registry.Example.com/team/app" },
        { "ghcr.io/o/r:v1.2.3-rc_1", DT, "ghcr.io", "o/r", "v1.2.3-rc_1", NULL,
          "ghcr.io/o/r:v1.2.3-rc_1", "ghcr.io/o/r:v1.2.3-rc_1" },
        /* Shortened, these would name another registry: docker prints them whole. */
        { "docker.io/a.b/c", 0, "docker.io", "a.b/c", NULL, NULL, "docker.io/a.b/c",
          "docker.io/a.b/c" },
        { "docker.io/localhost/x", 0, "docker.io", "localhost/x", NULL, NULL,
          "docker.io/localhost/x", "docker.io/localhost/x" },
        /* A bare "localhost" has no '/': it is a repository on Docker Hub, and 5000 a tag. */
        { "localhost:5000", 0, "docker.io", "library/localhost", "5000", NULL,
          "docker.io/library/localhost:5000", "localhost:5000" },
        { "name@" DIGEST, DT, "docker.io", "library/name", NULL, DIGEST,
          "docker.io/library/name@" DIGEST, "name@" DIGEST },
        { "name:tag@" DIGEST, DT, "docker.io", "library/name", "tag", DIGEST,
          "docker.io/library/name:tag@" DIGEST, "name:tag@" DIGEST },
        { "localhost:5000/x@" DIGEST, 0, "localhost:5000", "x", NULL, DIGEST,
          "localhost:5000/x@" DIGEST, "localhost:5000/x@" DIGEST },
        /* Separators: '.', '_', '__' and runs of '-'. */
        { "x/a.b_c__d---e/f-g", 0, "docker.io", "x/a.b_c__d---e/f-g", NULL, NULL,
          "docker.io/x/a.b_c__d---e/f-g", "x/a.b_c__d---e/f-g" },
        { "x:_Tag.With-Caps", 0, "docker.io", "library/x", "_Tag.With-Caps", NULL,
          "docker.io/library/x:_Tag.With-Caps", "x:_Tag.With-Caps" },
        /* A 63-character hex string is not an ID (docker only refuses 64). */
        { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", 0, "docker.io",
          "library/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", NULL, NULL,
          "docker.io/library/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85" },
        { "app", BERTH_REFERENCE_NAME_ONLY | DT, "docker.io", "library/app", NULL, NULL,
          "docker.io/library/app", "app" },
        { "app:1", BERTH_REFERENCE_NO_DIGEST, "docker.io", "library/app", "1", NULL,
          "docker.io/library/app:1", "app:1" },
};

static void assert_str_or_null(const char *got, const char *want)
{
        if (!want)
                assert_null(got);
        else
                assert_non_null(got), assert_string_equal(got, want);
}

static void test_normalisation_table(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
                const struct good *g = &goods[i];
                berth_error err = BERTH_ERROR_INIT;
                berth_reference r;
                _cleanup_free_ char *s = NULL, *f = NULL;

                print_message("%s\n", g->in);
                assert_int_equal(berth_reference_parse(g->in, g->flags, &r, &err), 0);
                assert_null(err.msg);
                assert_string_equal(r.domain, g->domain);
                assert_string_equal(r.path, g->path);
                assert_str_or_null(r.tag, g->tag);
                assert_str_or_null(r.digest, g->digest);
                s = berth_reference_string(&r);
                f = berth_reference_familiar(&r);
                assert_string_equal(s, g->string);
                assert_string_equal(f, g->familiar);

                /* The normalised form parses back to itself. */
                berth_reference again;
                _cleanup_free_ char *s2 = NULL;
                assert_int_equal(berth_reference_parse(s, 0, &again, &err), 0);
                s2 = berth_reference_string(&again);
                assert_string_equal(s2, s);
                berth_reference_release(&again);
                /* So does the familiar form docker prints. */
                _cleanup_free_ char *s3 = NULL;
                assert_int_equal(berth_reference_parse(f, 0, &again, &err), 0);
                s3 = berth_reference_string(&again);
                assert_string_equal(s3, s);
                berth_reference_release(&again);
                berth_reference_release(&r);
        }
}

struct bad {
        const char *in;
        unsigned flags;
        int code;
        const char *msg; /* the whole message */
};

static const struct bad bads[] = {
        { "Foo:bar", 0, EINVAL,
          "invalid reference format `Foo:bar`: repository name must be lowercase" },
        { "docker.io/Library/busybox", 0, EINVAL,
          "invalid reference format `docker.io/Library/busybox`: repository name must be "
          "lowercase" },
        { "", 0, EINVAL, "invalid reference format ``: empty reference" },
        { "busybox:", 0, EINVAL,
          "invalid reference format `busybox:`: a tag must be 1-128 characters of "
          "[A-Za-z0-9_.-], not starting with '.' or '-'" },
        { "busybox::", 0, EINVAL, NULL },
        { "busybox::tag", 0, EINVAL, NULL },
        { ":tag", 0, EINVAL,
          "invalid reference format `:tag`: repository name must have at least one component" },
        { "busybox:-tag", 0, EINVAL, NULL },
        { "busybox:.tag", 0, EINVAL, NULL },
        { "busybox:a$b", 0, EINVAL, NULL },
        { "-start", 0, EINVAL,
          "invalid reference format `-start`: path components must be [a-z0-9] separated by "
          "'.', '_', '__' or '-'" },
        { "a/-b", 0, EINVAL, NULL },
        { "end-", 0, EINVAL, NULL },
        { "a___b", 0, EINVAL, NULL },
        { "a..b", 0, EINVAL, NULL },
        { "a//b", 0, EINVAL,
          "invalid reference format `a//b`: empty path component (a leading, trailing or double "
          "'/')" },
        { "a/", 0, EINVAL, NULL },
        { "localhost/", 0, EINVAL, NULL },
        { "/a", 0, EINVAL, NULL },
        { "a b", 0, EINVAL, NULL },
        { "name@sha256:abc", 0, EINVAL,
          "invalid reference format `name@sha256:abc`: invalid digest `sha256:abc`: sha256 needs "
          "64 "
          "lowercase hex digits" },
        { "name@"
          "sha256:"
          "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
          0, EINVAL, NULL },
        { "name@", 0, EINVAL, NULL },
        { "name@sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85"
          "f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
          0, ENOTSUP, NULL },
        { HEX, 0, EINVAL,
          "invalid reference format `" HEX "`: this looks like an image ID (64 hexadecimal "
          "characters), not a repository name" },
        { "a-.b/c", 0, EINVAL,
          "invalid reference format `a-.b/c`: the registry must be a host name or IP address with "
          "an optional port" },
        { "host:port/a", 0, EINVAL, NULL },
        { "host:/a", 0, EINVAL, NULL },
        { "[::1/a", 0, EINVAL, NULL },
        { "[]:5000/a", 0, EINVAL, NULL },
        { "[::g]/a", 0, EINVAL, NULL },
        { "app@" DIGEST, BERTH_REFERENCE_NO_DIGEST, EINVAL,
          "invalid reference format `app@" DIGEST "`: a digest is not allowed here" },
        { "app:1", BERTH_REFERENCE_NAME_ONLY, EINVAL,
          "invalid reference format `app:1`: expected a repository name without a tag or digest" },
        { "app@" DIGEST, BERTH_REFERENCE_NAME_ONLY, EINVAL, NULL },
};

static void test_refused(void **state)
{
        for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
                const struct bad *b = &bads[i];
                berth_error err = BERTH_ERROR_INIT;
                berth_reference r = { .domain = (char *)"garbage" };

                print_message("%s\n", b->in);
                assert_int_equal(berth_reference_parse(b->in, b->flags, &r, &err), -b->code);
                assert_int_equal(err.code, b->code);
                assert_non_null(err.msg);
                /* Every message names the input. */
                assert_non_null(strstr(err.msg, b->in));
                if (b->msg)
                        assert_string_equal(err.msg, b->msg);
                assert_null(r.domain);
                assert_null(r.path);
                assert_null(r.tag);
                assert_null(r.digest);
                berth_error_release(&err);
        }
}

static void test_length(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        char name[300];
        berth_reference r;

        /* "docker.io/" + 245 = 255: the longest name. */
        memset(name, 'a', 245);
        name[245] = '\0';
        memcpy(name, "u/", 2);
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), 0);
        assert_int_equal(strlen(r.domain) + 1 + strlen(r.path), 255);
        berth_reference_release(&r);

        name[245] = 'a';
        name[246] = '\0';
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "repository name must not be more than 255 characters"));
        berth_error_release(&err);

        /* A single component gets "library/": 255 - strlen("docker.io/library/") = 237. */
        memset(name, 'b', 238);
        name[238] = '\0';
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), -EINVAL);
        berth_error_release(&err);
        name[237] = '\0';
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), 0);
        berth_reference_release(&r);

        /* Tags: at most 128 characters. */
        memcpy(name, "x:", 2);
        memset(name + 2, 't', 128);
        name[130] = '\0';
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), 0);
        assert_int_equal(strlen(r.tag), 128);
        berth_reference_release(&r);
        name[130] = 't';
        name[131] = '\0';
        assert_int_equal(berth_reference_parse(name, 0, &r, &err), -EINVAL);
        berth_error_release(&err);
}

static void test_repository_forms(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_reference r;
        char *s;

        assert_int_equal(berth_reference_parse("busybox:1.36", DT, &r, &err), 0);
        s = berth_reference_repository(&r);
        assert_string_equal(s, "docker.io/library/busybox");
        free(s);
        s = berth_reference_familiar_repository(&r);
        assert_string_equal(s, "busybox");
        free(s);
        berth_reference_release(&r);

        assert_int_equal(berth_reference_parse("localhost:5000/x/y", DT, &r, &err), 0);
        s = berth_reference_familiar_repository(&r);
        assert_string_equal(s, "localhost:5000/x/y");
        free(s);
        s = berth_reference_familiar(&r);
        assert_string_equal(s, "localhost:5000/x/y:latest");
        free(s);
        berth_reference_release(&r);

        /* "library" kept when there is more below it, as docker prints it. */
        assert_int_equal(berth_reference_parse("docker.io/library/a/b:1", 0, &r, &err), 0);
        s = berth_reference_familiar(&r);
        assert_string_equal(s, "library/a/b:1");
        free(s);
        berth_reference_release(&r);

        /* release is idempotent and takes a zeroed struct. */
        berth_reference_release(&r);
        berth_reference_release(NULL);
}

static void test_looks_like_id(void **state)
{
        assert_true(berth_reference_looks_like_id("e3b0c442"));
        assert_true(berth_reference_looks_like_id("0"));
        assert_true(berth_reference_looks_like_id(HEX));
        assert_false(berth_reference_looks_like_id(HEX "0"));
        assert_false(berth_reference_looks_like_id(""));
        assert_false(berth_reference_looks_like_id(NULL));
        assert_false(berth_reference_looks_like_id("E3B0"));
        assert_false(berth_reference_looks_like_id("busybox"));
        assert_false(berth_reference_looks_like_id("sha256:e3b0"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalisation_table),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_length),
                cmocka_unit_test(test_repository_forms),
                cmocka_unit_test(test_looks_like_id),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
