/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/manifest.c and image/image-config.c, on documents
 * shaped like what Docker Hub, ghcr.io and buildx serve: platform strings
 * as `--platform` takes them, index selection, manifests of both formats,
 * the refusals a user sees, image configs and their serialisation, ChainIDs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "image/manifest.h"

#define D_CFG   "sha256:e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0"
#define D_L1    "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"
#define D_L2    "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041"
#define D_L3    "sha256:10dacdccfe877dc064d57442e6fa7a4e3085dc94e11a29819c2290fc3d788724"
#define D_AMD   "sha256:240389f4b730bad41f218a56c250ee7d82f42297ce7b9d0b6eb4f1cb3282c480"
#define D_ARM64 "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265"
#define D_ARMV7 "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
#define D_ATT   "sha256:f745a15153c4dacf0ea4bbf57265e73283941f8335939b33c693975315cf5916"
#define D_OCI1  "sha256:77705d2afdc04c00a9a63d497edab444cdd3b649c7ce4b59ba225b823ae2aa00"
#define D_OCI2  "sha256:0ae78a281473a441bd2034ae1fc690eb5e10b848b42de8820b54aef84c2c628b"
#define D_S390  "sha256:63772c7d09b61ea69f32b73395e37d68169cde91299c84828dafd87e54f18b47"
#define SHA512                                                                                     \
        "sha512:"                                                                                  \
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff"       \
        "8318d2877eec2f63b931bd47417a81a538327af927da3e"

/* As `docker push` writes it (Docker Hub's busybox, reformatted). */
static const char docker_manifest[] =
        "{\n"
        "   \"schemaVersion\": 2,\n"
        "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
        "   \"config\": {\n"
        "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
        "      \"size\": 1457,\n"
        "      \"digest\": \"" D_CFG "\"\n"
        "   },\n"
        "   \"layers\": [\n"
        "      {\n"
        "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
        "         \"size\": 2220094,\n"
        "         \"digest\": \"" D_L1 "\"\n"
        "      },\n"
        "      {\n"
        "         \"mediaType\": \"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\n"
        "         \"size\": 5368709120,\n"
        "         \"digest\": \"" D_L2 "\",\n"
        "         \"urls\": [\"https://mcr.microsoft.com/l/base\", \"https://b.example/l\"]\n"
        "      }\n"
        "   ]\n"
        "}\n";

/* As buildkit writes an OCI manifest, with annotations and an unknown field. */
static const char oci_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
        "\"digest\":\"" D_CFG "\",\"size\":2297},"
        "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
        "\"digest\":\"" D_L1 "\",\"size\":29124181},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
        "\"digest\":\"" D_L2 "\",\"size\":0,"
        "\"annotations\":{\"org.opencontainers.image.title\":\"app.tar\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"digest\":\"" D_L3 "\",\"size\":10240}],"
        "\"annotations\":{\"org.opencontainers.image.created\":\"2024-05-01T10:00:00Z\","
        "\"org.opencontainers.image.source\":\"https://github.com/o/r\"},"
        "\"subject\":{\"whatever\":true}}";

/* A Docker manifest list as buildx pushes it, attestation entry included. */
static const char docker_list[] =
        "{\n"
        "  \"schemaVersion\": 2,\n"
        "  \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\",\n"
        "  \"manifests\": [\n"
        "    {\n"
        "      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
        "      \"size\": 528,\n"
        "      \"digest\": \"" D_AMD "\",\n"
        "      \"platform\": {\"architecture\": \"amd64\", \"os\": \"linux\"}\n"
        "    },\n"
        "    {\n"
        "      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
        "      \"size\": 528,\n"
        "      \"digest\": \"" D_ARM64 "\",\n"
        "      \"platform\": {\"architecture\": \"arm64\", \"os\": \"linux\", \"variant\": "
        "\"v8\"}\n"
        "    },\n"
        "    {\n"
        "      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
        "      \"size\": 528,\n"
        "      \"digest\": \"" D_ARMV7 "\",\n"
        "      \"platform\": {\"architecture\": \"arm\", \"os\": \"linux\", \"variant\": \"v7\"}\n"
        "    },\n"
        "    {\n"
        "      \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
        "      \"size\": 566,\n"
        "      \"digest\": \"" D_ATT "\",\n"
        "      \"annotations\": {\n"
        "        \"vnd.docker.reference.digest\": \"" D_AMD "\",\n"
        "        \"vnd.docker.reference.type\": \"attestation-manifest\"\n"
        "      },\n"
        "      \"platform\": {\"architecture\": \"unknown\", \"os\": \"unknown\"}\n"
        "    }\n"
        "  ]\n"
        "}\n";

/* An OCI index without mediaType (allowed), arm variants only and an arm64 without variant. */
static const char oci_index[] =
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_OCI1 "\","
        "\"size\":1024,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":"
        "\"v5\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_OCI2 "\","
        "\"size\":1024,\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":"
        "\"v6\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_ARM64 "\","
        "\"size\":1024,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_S390 "\","
        "\"size\":1024,\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\","
        "\"os.version\":\"1\",\"os.features\":[\"x\"]},\"artifactType\":\"application/x\"},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_ATT "\","
        "\"size\":840,\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}"
        "],\"annotations\":{\"org.opencontainers.image.ref.name\":\"1.0\"}}";

/* `docker pull` of a schema 1 image got this (signed, "prettyjws"). */
static const char schema1[] =
        "{\n"
        "   \"schemaVersion\": 1,\n"
        "   \"name\": \"library/hello\",\n"
        "   \"tag\": \"latest\",\n"
        "   \"architecture\": \"amd64\",\n"
        "   \"fsLayers\": [ { \"blobSum\": \"" D_L1 "\" } ],\n"
        "   \"history\": [ { \"v1Compatibility\": \"{}\" } ],\n"
        "   \"signatures\": [ { \"header\": {\"alg\": \"ES256\"}, \"signature\": \"x\" } ]\n"
        "}\n";

/* ------------------------------------------------------------------- helpers */

static char *replace(const char *s, const char *from, const char *to)
{
        const char *at = strstr(s, from);
        char *r = NULL;

        if (!at)
                fail_msg("`%s` not in the document", from);
        assert_true(asprintf(&r, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from)) > 0);
        return r;
}

static void expect_manifest_error(const char *doc, int code, const char *msg)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest *m = (berth_manifest *)1;

        assert_int_equal(berth_manifest_parse(doc, strlen(doc), "manifest sha256:ab12", &m, &err),
                         -code);
        assert_null(m);
        assert_int_equal(err.code, code);
        assert_non_null(err.msg);
        if (!strstr(err.msg, msg))
                fail_msg("message `%s` lacks `%s`", err.msg, msg);
        berth_error_release(&err);
}

static void expect_config_error(const char *doc, int code, const char *msg)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_image_config *c = (berth_image_config *)1;

        assert_int_equal(berth_image_config_parse(doc, strlen(doc), "config", &c, &err), -code);
        assert_null(c);
        if (!strstr(err.msg, msg))
                fail_msg("message `%s` lacks `%s`", err.msg, msg);
        berth_error_release(&err);
}

/* ----------------------------------------------------------------- platforms */

static void expect_platform(const char *in, const char *want)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_platform p;
        _cleanup_free_ char *s = NULL;

        if (berth_platform_parse(in, &p, &err) < 0)
                fail_msg("%s: %s", in, err.msg);
        s = berth_platform_string(&p);
        if (strcmp(s, want) != 0)
                fail_msg("%s -> %s, expected %s", in, s, want);
        berth_platform_release(&p);
}

static void test_platform_parse(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_platform p, host;
        _cleanup_free_ char *hs = NULL, *ps = NULL;

        expect_platform("linux/amd64", "linux/amd64");
        expect_platform("linux/x86_64", "linux/amd64");
        expect_platform("linux/x86-64", "linux/amd64");
        expect_platform("linux/amd64/v1", "linux/amd64");
        expect_platform("linux/amd64/v3", "linux/amd64/v3");
        expect_platform("LINUX/AMD64", "linux/amd64");
        expect_platform("arm64", "linux/arm64/v8");
        expect_platform("linux/arm64", "linux/arm64/v8");
        expect_platform("linux/aarch64", "linux/arm64/v8");
        expect_platform("linux/arm64/8", "linux/arm64/v8");
        expect_platform("linux/arm64/v8.0", "linux/arm64/v8");
        expect_platform("linux/arm64/v9", "linux/arm64/v9");
        expect_platform("linux/arm", "linux/arm/v7");
        expect_platform("linux/arm/7", "linux/arm/v7");
        expect_platform("linux/arm/v6", "linux/arm/v6");
        expect_platform("linux/armhf", "linux/arm/v7");
        expect_platform("linux/armel", "linux/arm/v6");
        expect_platform("linux/armv7l", "linux/arm/v7");
        expect_platform("linux/i386", "linux/386");
        expect_platform("i386", "linux/386");
        expect_platform("linux/ppc64le", "linux/ppc64le");
        expect_platform("linux/s390x", "linux/s390x");
        expect_platform("riscv64", "linux/riscv64");
        expect_platform("windows/amd64", "windows/amd64");

        /* An OS alone means this machine's architecture. */
        assert_int_equal(berth_platform_host(&host, &err), 0);
        assert_string_equal(host.os, "linux");
        hs = berth_platform_string(&host);
        assert_int_equal(berth_platform_parse("linux", &p, &err), 0);
        ps = berth_platform_string(&p);
        assert_string_equal(ps, hs);
        berth_platform_release(&p);
#if defined(__x86_64__)
        assert_string_equal(hs, "linux/amd64");
#elif defined(__aarch64__)
        assert_string_equal(hs, "linux/arm64/v8");
#endif
        berth_platform_release(&host);

        static const char *const bad[] = {
                "",        "linux/",       "/amd64",       "linux//amd64",
                "a/b/c/d", "linux/amd 64", "linux/amd64/", "linux/$"
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                p.os = (char *)"garbage";
                assert_int_equal(berth_platform_parse(bad[i], &p, &err), -EINVAL);
                assert_null(p.os);
                assert_non_null(strstr(err.msg, "invalid platform"));
                if (*bad[i])
                        assert_non_null(strstr(err.msg, bad[i]));
                berth_error_release(&err);
        }
}

static bool match(const char *want, const char *os, const char *arch, const char *variant)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_platform w;
        berth_platform h = { .os = (char *)os,
                             .architecture = (char *)arch,
                             .variant = (char *)variant };
        bool r;

        assert_int_equal(berth_platform_parse(want, &w, &err), 0);
        r = berth_platform_match(&w, &h);
        berth_platform_release(&w);
        return r;
}

static void test_platform_match(void **state)
{
        assert_true(match("linux/amd64", "linux", "amd64", NULL));
        assert_false(match("linux/amd64", "linux", "arm64", NULL));
        assert_false(match("linux/amd64", "windows", "amd64", NULL));
        /* An image without a variant runs anywhere its architecture does. */
        assert_true(match("linux/arm64", "linux", "arm64", NULL));
        assert_true(match("linux/arm64", "linux", "arm64", "v8"));
        assert_true(match("linux/arm/v7", "linux", "arm", "v7"));
        /* An arm v8 machine runs older arm code, not the other way round. */
        assert_true(match("linux/arm/v8", "linux", "arm", "v7"));
        assert_true(match("linux/arm/v7", "linux", "arm", "v6"));
        assert_true(match("linux/arm/v7", "linux", "arm", "v5"));
        assert_false(match("linux/arm/v6", "linux", "arm", "v7"));
        assert_true(match("linux/arm64/v9", "linux", "arm64", "v8"));
        assert_false(match("linux/arm64/v8", "linux", "arm64", "v9"));
        assert_false(match("linux/arm/v7", "linux", "arm", "weird"));
        /* No such order is assumed for other architectures. */
        assert_false(match("linux/amd64/v3", "linux", "amd64", "v2"));
        assert_true(match("linux/amd64", "linux", "amd64", "v2"));
}

/* --------------------------------------------------------- manifest kinds */

static void expect_kind(const char *mt, const char *doc, berth_manifest_kind want)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest_kind k = want == BERTH_MANIFEST_KIND_IMAGE ? BERTH_MANIFEST_KIND_INDEX
                                                                  : BERTH_MANIFEST_KIND_IMAGE;

        if (berth_manifest_kind_of(mt, doc, doc ? strlen(doc) : 0, &k, &err) < 0)
                fail_msg("%s: %s", mt ? mt : "(no type)", err.msg);
        assert_int_equal(k, want);
}

static void test_kind_of(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest_kind k;

        /* A known Content-Type decides without looking at the document. */
        expect_kind(BERTH_MT_DOCKER_MANIFEST, NULL, BERTH_MANIFEST_KIND_IMAGE);
        expect_kind(BERTH_MT_OCI_INDEX, NULL, BERTH_MANIFEST_KIND_INDEX);
        expect_kind(" application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8",
                    NULL, BERTH_MANIFEST_KIND_INDEX);
        /* Otherwise the document's mediaType, then its shape. */
        expect_kind("application/json", docker_list, BERTH_MANIFEST_KIND_INDEX);
        expect_kind(NULL, docker_manifest, BERTH_MANIFEST_KIND_IMAGE);
        expect_kind(NULL, oci_manifest, BERTH_MANIFEST_KIND_IMAGE);
        expect_kind("text/plain", oci_index, BERTH_MANIFEST_KIND_INDEX);
        expect_kind(NULL, "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}",
                    BERTH_MANIFEST_KIND_IMAGE);

        assert_int_equal(berth_manifest_kind_of(BERTH_MT_DOCKER_SCHEMA1_S, schema1, strlen(schema1),
                                                &k, &err),
                         -ENOTSUP);
        assert_non_null(strstr(err.msg, "Docker schema 1 manifests are not supported"));
        berth_error_release(&err);
        assert_int_equal(berth_manifest_kind_of(NULL, schema1, strlen(schema1), &k, &err),
                         -ENOTSUP);
        assert_non_null(strstr(err.msg, "Docker schema 1 manifests are not supported"));
        berth_error_release(&err);

        static const char artifact[] =
                "{\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\",\"blobs\":[]}";
        assert_int_equal(berth_manifest_kind_of(NULL, artifact, strlen(artifact), &k, &err),
                         -ENOTSUP);
        assert_non_null(strstr(err.msg, "application/vnd.oci.artifact.manifest.v1+json"));
        berth_error_release(&err);

        assert_int_equal(berth_manifest_kind_of("application/x-unknown", "{\"a\":1}", 7, &k, &err),
                         -ENOTSUP);
        assert_non_null(strstr(err.msg, "application/x-unknown"));
        berth_error_release(&err);

        assert_int_equal(berth_manifest_kind_of("application/json", NULL, 0, &k, &err), -EINVAL);
        berth_error_release(&err);
        assert_int_equal(berth_manifest_kind_of(NULL, "{\"a\":1}", 7, &k, &err), -EINVAL);
        berth_error_release(&err);
        assert_int_equal(berth_manifest_kind_of(NULL, "[1]", 3, &k, &err), -EINVAL);
        berth_error_release(&err);
        assert_int_equal(berth_manifest_kind_of(NULL, "{", 1, &k, &err), -EINVAL);
        berth_error_release(&err);
}

/* ------------------------------------------------------------------ manifests */

static void test_docker_manifest(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
        berth_compression comp;

        assert_int_equal(berth_manifest_parse(docker_manifest, strlen(docker_manifest), "manifest",
                                              &m, &err),
                         0);
        assert_string_equal(m->media_type, BERTH_MT_DOCKER_MANIFEST);
        assert_string_equal(m->config.media_type, BERTH_MT_DOCKER_CONFIG);
        assert_string_equal(m->config.digest, D_CFG);
        assert_int_equal(m->config.size, 1457);
        assert_null(m->config.urls);
        assert_null(m->config.platform);
        assert_int_equal(m->n_layers, 2);
        assert_string_equal(m->layers[0].digest, D_L1);
        assert_int_equal(m->layers[0].size, 2220094);
        /* Sizes beyond 32 bits survive. */
        assert_int_equal(m->layers[1].size, 5368709120LL);
        assert_non_null(m->layers[1].urls);
        assert_string_equal(m->layers[1].urls[0], "https://mcr.microsoft.com/l/base");
        assert_string_equal(m->layers[1].urls[1], "https://b.example/l");
        assert_null(m->layers[1].urls[2]);
        assert_null(m->annotations);

        assert_int_equal(berth_layer_media_type(m->layers[0].media_type, &comp, &err), 0);
        assert_int_equal(comp, BERTH_COMPRESSION_GZIP);
        assert_int_equal(berth_layer_media_type(m->layers[1].media_type, &comp, &err), 0);
        assert_int_equal(comp, BERTH_COMPRESSION_GZIP);
}

static void test_oci_manifest(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_manifest_freep) berth_manifest *m = NULL;
        json_object *v = NULL;

        assert_int_equal(
                berth_manifest_parse(oci_manifest, strlen(oci_manifest), "manifest", &m, &err), 0);
        assert_string_equal(m->media_type, BERTH_MT_OCI_MANIFEST);
        assert_string_equal(m->config.media_type, BERTH_MT_OCI_CONFIG);
        assert_int_equal(m->n_layers, 3);
        assert_string_equal(m->layers[1].media_type, BERTH_MT_OCI_LAYER_ZSTD);
        assert_int_equal(m->layers[1].size, 0);
        assert_non_null(m->layers[1].annotations);
        assert_true(json_object_object_get_ex(m->layers[1].annotations,
                                              "org.opencontainers.image.title", &v));
        assert_string_equal(json_object_get_string(v), "app.tar");
        assert_non_null(m->annotations);
        assert_true(
                json_object_object_get_ex(m->annotations, "org.opencontainers.image.source", &v));
        assert_string_equal(json_object_get_string(v), "https://github.com/o/r");

        /* Without mediaType it is an OCI manifest. */
        _cleanup_free_ char *bare = replace(
                oci_manifest, "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",", "");
        _cleanup_(berth_manifest_freep) berth_manifest *m2 = NULL;
        assert_int_equal(berth_manifest_parse(bare, strlen(bare), "manifest", &m2, &err), 0);
        assert_string_equal(m2->media_type, BERTH_MT_OCI_MANIFEST);

        /* The bytes need not be NUL-terminated: only len counts. */
        _cleanup_free_ char *copy = malloc(strlen(oci_manifest));
        _cleanup_(berth_manifest_freep) berth_manifest *m3 = NULL;
        memcpy(copy, oci_manifest, strlen(oci_manifest));
        assert_int_equal(berth_manifest_parse(copy, strlen(oci_manifest), "manifest", &m3, &err),
                         0);
        assert_int_equal(m3->n_layers, 3);
}

static void test_manifest_errors(void **state)
{
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL, *s5 = NULL, *s6 = NULL,
                            *s7 = NULL, *s8 = NULL, *s9 = NULL;

        /* Wrong types name the path and show the value. */
        s1 = replace(oci_manifest, "\"size\":0", "\"size\":\"0\"");
        expect_manifest_error(s1, EINVAL,
                              "manifest sha256:ab12: layers[1].size: expected a non-negative "
                              "integer, got a string \"0\"");
        s2 = replace(oci_manifest, "\"size\":10240", "\"size\":-1");
        expect_manifest_error(s2, EINVAL, "layers[2].size: expected a non-negative integer");
        s3 = replace(oci_manifest, "\"size\":2297", "\"size\":2297.0");
        expect_manifest_error(s3, EINVAL,
                              "config.size: expected a non-negative integer, got a "
                              "floating-point number");
        s4 = replace(docker_manifest, "\"digest\": \"" D_L1 "\"", "\"digest\": \"sha256:abc\"");
        expect_manifest_error(s4, EINVAL, "layers[0].digest: invalid digest `sha256:abc`");
        s5 = replace(docker_manifest, "\"digest\": \"" D_L1 "\"", "\"digest\": \"" SHA512 "\"");
        expect_manifest_error(s5, ENOTSUP, "layers[0].digest: digest `sha512:");
        s6 = replace(oci_manifest, "title\":\"app.tar\"", "title\":7");
        expect_manifest_error(s6, EINVAL,
                              "layers[1].annotations.org.opencontainers.image.title: expected a "
                              "string, got an integer 7");
        s7 = replace(oci_manifest, "\"schemaVersion\":2", "\"schemaVersion\":3");
        expect_manifest_error(s7, EINVAL, "schemaVersion: expected 2, got 3");
        s8 = replace(docker_manifest, "\"layers\"", "\"Layers\"");
        expect_manifest_error(s8, EINVAL,
                              "manifest sha256:ab12: layers: required field is missing");
        s9 = replace(docker_manifest,
                     "\"mediaType\": \"application/vnd.docker.container.image.v1+json\",", "");
        expect_manifest_error(s9, EINVAL, "config.mediaType: required field is missing");

        expect_manifest_error(docker_list, EINVAL, "is an index, not an image manifest");
        expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", ENOTSUP,
                              "mediaType: unsupported type `text/plain`");
        expect_manifest_error("{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", EINVAL,
                              "config: expected an object, got an array");
        expect_manifest_error(
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" D_CFG
                "\",\"size\":1},\"layers\":[1]}",
                EINVAL, "layers[0]: expected an object, got an integer 1");
        expect_manifest_error("[]", EINVAL, "expected a JSON object");
        expect_manifest_error("{\"schemaVersion\":2,", EINVAL, "manifest sha256:ab12");

        /* Schema 1, by its schemaVersion and by its mediaType. */
        expect_manifest_error(schema1, ENOTSUP, "Docker schema 1 manifests are not supported");
        expect_manifest_error("{\"schemaVersion\":1,\"mediaType\":\"" BERTH_MT_DOCKER_SCHEMA1 "\"}",
                              ENOTSUP, "Docker schema 1 manifests are not supported");
}

static void test_manifest_bounds(void **state)
{
        static const char layer[] = "{\"mediaType\":\"" BERTH_MT_OCI_LAYER_GZIP
                                    "\",\"digest\":\"" D_L1 "\",\"size\":1}";
        static const char head[] =
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" BERTH_MT_OCI_CONFIG
                "\",\"digest\":\"" D_CFG "\",\"size\":1},\"layers\":[";
        berth_error err = BERTH_ERROR_INIT;
        berth_manifest *m = NULL;
        berth_index *idx = NULL;
        size_t cap = sizeof(head) + (BERTH_LAYERS_MAX + 1) * sizeof(layer) + 8, len;
        _cleanup_free_ char *doc = malloc(cap), *big = NULL;

        for (int n = BERTH_LAYERS_MAX; n <= BERTH_LAYERS_MAX + 1; n++) {
                len = 0;
                memcpy(doc, head, strlen(head));
                len += strlen(head);
                for (int i = 0; i < n; i++) {
                        if (i)
                                doc[len++] = ',';
                        memcpy(doc + len, layer, strlen(layer));
                        len += strlen(layer);
                }
                memcpy(doc + len, "]}", 2);
                len += 2;
                if (n == BERTH_LAYERS_MAX) {
                        assert_int_equal(berth_manifest_parse(doc, len, "m", &m, &err), 0);
                        assert_int_equal(m->n_layers, BERTH_LAYERS_MAX);
                        berth_manifest_free(m);
                } else {
                        assert_int_equal(berth_manifest_parse(doc, len, "m", &m, &err), -E2BIG);
                        assert_non_null(strstr(err.msg, "layers: more than 1000 entries"));
                        berth_error_release(&err);
                }
        }

        /* More than BERTH_MANIFEST_MAX bytes is refused before parsing. */
        big = malloc(BERTH_MANIFEST_MAX + 1);
        memset(big, ' ', BERTH_MANIFEST_MAX + 1);
        assert_int_equal(berth_manifest_parse(big, BERTH_MANIFEST_MAX + 1, "m", &m, &err), -E2BIG);
        berth_error_release(&err);
        assert_int_equal(berth_index_parse(big, BERTH_MANIFEST_MAX + 1, "m", &idx, &err), -E2BIG);
        assert_null(idx);
        berth_error_release(&err);
}

/* -------------------------------------------------------------------- indexes */

static const char *select_digest(const berth_index *idx, const char *platform)
{
        berth_error err = BERTH_ERROR_INIT;
        const berth_descriptor *d = NULL;
        berth_platform want;
        int r;

        assert_int_equal(berth_platform_parse(platform, &want, &err), 0);
        r = berth_index_select(idx, &want, &d, &err);
        berth_platform_release(&want);
        if (r < 0)
                fail_msg("%s: %s", platform, err.msg);
        return d->digest;
}

static void expect_no_match(const berth_index *idx, const berth_platform *want, const char *msg)
{
        berth_error err = BERTH_ERROR_INIT;
        const berth_descriptor *d = (const berth_descriptor *)1;

        assert_int_equal(berth_index_select(idx, want, &d, &err), -ENOENT);
        assert_null(d);
        assert_int_equal(err.code, ENOENT);
        assert_string_equal(err.msg, msg);
        berth_error_release(&err);
}

static void test_docker_list(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_index_freep) berth_index *idx = NULL;
        berth_platform want;

        assert_int_equal(berth_index_parse(docker_list, strlen(docker_list), "index", &idx, &err),
                         0);
        assert_string_equal(idx->media_type, BERTH_MT_DOCKER_LIST);
        assert_int_equal(idx->n_manifests, 4);
        assert_string_equal(idx->manifests[1].platform->variant, "v8");
        assert_null(idx->manifests[0].platform->variant);
        assert_int_equal(idx->manifests[3].size, 566);

        assert_string_equal(select_digest(idx, "linux/amd64"), D_AMD);
        assert_string_equal(select_digest(idx, "linux/x86_64"), D_AMD);
        assert_string_equal(select_digest(idx, "arm64"), D_ARM64);
        assert_string_equal(select_digest(idx, "linux/aarch64"), D_ARM64);
        assert_string_equal(select_digest(idx, "linux/arm64/v8"), D_ARM64);
        assert_string_equal(select_digest(idx, "linux/arm"), D_ARMV7);
        assert_string_equal(select_digest(idx, "linux/armhf"), D_ARMV7);
        /* A newer arm machine takes the v7 image. */
        assert_string_equal(select_digest(idx, "linux/arm/v8"), D_ARMV7);

        assert_int_equal(berth_platform_parse("linux/s390x", &want, &err), 0);
        expect_no_match(idx, &want,
                        "no image for linux/s390x in index (has linux/amd64, linux/arm64/v8, "
                        "linux/arm/v7)");
        berth_platform_release(&want);
        assert_int_equal(berth_platform_parse("linux/arm/v6", &want, &err), 0);
        expect_no_match(idx, &want,
                        "no image for linux/arm/v6 in index (has linux/amd64, linux/arm64/v8, "
                        "linux/arm/v7)");
        berth_platform_release(&want);
        /* The attestation entry is never chosen, even when asked for by its platform. */
        berth_platform unknown = { .os = (char *)"unknown", .architecture = (char *)"unknown" };
        expect_no_match(idx, &unknown,
                        "no image for unknown/unknown in index (has linux/amd64, linux/arm64/v8, "
                        "linux/arm/v7)");
}

static void test_oci_index(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_index_freep) berth_index *idx = NULL;
        berth_platform want;
        json_object *v = NULL;

        assert_int_equal(berth_index_parse(oci_index, strlen(oci_index), "index", &idx, &err), 0);
        assert_string_equal(idx->media_type, BERTH_MT_OCI_INDEX);
        assert_int_equal(idx->n_manifests, 5);
        assert_string_equal(idx->manifests[3].platform->os_version, "1");
        assert_string_equal(idx->manifests[3].artifact_type, "application/x");
        assert_true(json_object_object_get_ex(idx->annotations, "org.opencontainers.image.ref.name",
                                              &v));

        /* Best compatible variant: v6 over v5 for a v7 machine. */
        assert_string_equal(select_digest(idx, "linux/arm/v7"), D_OCI2);
        assert_string_equal(select_digest(idx, "linux/arm/v6"), D_OCI2);
        assert_string_equal(select_digest(idx, "linux/arm/v5"), D_OCI1);
        /* An entry without a variant serves any variant of its architecture. */
        assert_string_equal(select_digest(idx, "linux/arm64"), D_ARM64);
        assert_string_equal(select_digest(idx, "linux/s390x"), D_S390);

        /* The amd64 entry is an attestation by its annotation and is not offered. */
        assert_int_equal(berth_platform_parse("linux/amd64", &want, &err), 0);
        expect_no_match(idx, &want,
                        "no image for linux/amd64 in index (has linux/arm/v5, linux/arm/v6, "
                        "linux/arm64, linux/s390x)");
        berth_platform_release(&want);
}

static void test_select_levels(void **state)
{
        /* amd64 micro-architecture levels only: a machine of unknown level gets the lowest. */
        static const char doc[] =
                "{\"schemaVersion\":2,\"manifests\":["
                "{\"mediaType\":\"" BERTH_MT_OCI_MANIFEST "\",\"digest\":\"" D_OCI1 "\",\"size\":1,"
                "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\",\"variant\":\"v3\"}},"
                "{\"mediaType\":\"" BERTH_MT_OCI_MANIFEST "\",\"digest\":\"" D_OCI2 "\",\"size\":1,"
                "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\",\"variant\":\"v2\"}},"
                "{\"mediaType\":\"" BERTH_MT_OCI_MANIFEST "\",\"digest\":\"" D_L1 "\",\"size\":1,"
                "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\"}},"
                "{\"mediaType\":\"" BERTH_MT_OCI_MANIFEST "\",\"digest\":\"" D_L2 "\",\"size\":1,"
                "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}}"
                "]}";
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_index_freep) berth_index *idx = NULL;

        assert_int_equal(berth_index_parse(doc, strlen(doc), "index", &idx, &err), 0);
        assert_string_equal(select_digest(idx, "linux/amd64"), D_OCI2);
        assert_string_equal(select_digest(idx, "linux/amd64/v3"), D_OCI1);
        /* An explicit compatible variant beats an unset one. */
        assert_string_equal(select_digest(idx, "linux/arm/v7"), D_L2);
        assert_string_equal(select_digest(idx, "linux/arm/v5"), D_L1);
}

static void test_index_errors(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        berth_index *idx = (berth_index *)1;
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;

        assert_int_equal(
                berth_index_parse(docker_manifest, strlen(docker_manifest), "index x", &idx, &err),
                -EINVAL);
        assert_null(idx);
        assert_non_null(strstr(err.msg, "index x: mediaType: "));
        assert_non_null(strstr(err.msg, "is an image manifest, not an index"));
        berth_error_release(&err);

        s1 = replace(docker_list, "\"architecture\": \"arm64\"", "\"architecture\": 64");
        assert_int_equal(berth_index_parse(s1, strlen(s1), "index", &idx, &err), -EINVAL);
        assert_string_equal(err.msg, "index: manifests[1].platform.architecture: expected a "
                                     "string, got an integer 64");
        berth_error_release(&err);

        s2 = replace(docker_list, "\"architecture\": \"amd64\", ", "");
        assert_int_equal(berth_index_parse(s2, strlen(s2), "index", &idx, &err), -EINVAL);
        assert_string_equal(err.msg,
                            "index: manifests[0].platform.architecture: required field is missing");
        berth_error_release(&err);

        /* Annotation values are strings without NUL bytes. */
        _cleanup_free_ char *s4 = replace(oci_index, "\"1.0\"", "\"1\\u00000\"");
        assert_int_equal(berth_index_parse(s4, strlen(s4), "index", &idx, &err), -EINVAL);
        assert_string_equal(err.msg, "index: annotations.org.opencontainers.image.ref.name: string "
                                     "contains a NUL byte");
        berth_error_release(&err);

        s3 = replace(oci_index, "\"manifests\"", "\"manifest\"");
        assert_int_equal(berth_index_parse(s3, strlen(s3), "index", &idx, &err), -EINVAL);
        assert_string_equal(err.msg, "index: manifests: required field is missing");
        berth_error_release(&err);

        assert_int_equal(berth_index_parse(schema1, strlen(schema1), "index", &idx, &err),
                         -ENOTSUP);
        berth_error_release(&err);
}

static void test_layer_media_types(void **state)
{
        static const struct {
                const char *type;
                berth_compression c;
        } ok[] = {
                { BERTH_MT_OCI_LAYER, BERTH_COMPRESSION_NONE },
                { BERTH_MT_OCI_LAYER_GZIP, BERTH_COMPRESSION_GZIP },
                { BERTH_MT_OCI_LAYER_ZSTD, BERTH_COMPRESSION_ZSTD },
                { BERTH_MT_OCI_LAYER_ND, BERTH_COMPRESSION_NONE },
                { BERTH_MT_OCI_LAYER_ND_GZ, BERTH_COMPRESSION_GZIP },
                { BERTH_MT_DOCKER_LAYER, BERTH_COMPRESSION_GZIP },
                { BERTH_MT_DOCKER_FOREIGN, BERTH_COMPRESSION_GZIP },
        };
        berth_error err = BERTH_ERROR_INIT;
        berth_compression c;

        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                c = (berth_compression)-1;
                assert_int_equal(berth_layer_media_type(ok[i].type, &c, &err), 0);
                assert_int_equal(c, ok[i].c);
        }
        assert_int_equal(berth_layer_media_type("application/vnd.oci.image.layer.v1.tar+gzip+"
                                                "encrypted",
                                                &c, &err),
                         -ENOTSUP);
        assert_string_equal(err.msg, "layer media type `application/vnd.oci.image.layer.v1.tar+"
                                     "gzip+encrypted` is not supported");
        berth_error_release(&err);
        assert_int_equal(berth_layer_media_type(BERTH_MT_OCI_CONFIG, &c, &err), -ENOTSUP);
        berth_error_release(&err);
        assert_int_equal(berth_layer_media_type(NULL, &c, &err), -ENOTSUP);
        berth_error_release(&err);
}

static void test_digest_validation(void **state)
{
        berth_error err = BERTH_ERROR_INIT;

        assert_int_equal(berth_digest_validate(D_CFG, &err), 0);
        assert_int_equal(berth_digest_validate(SHA512, &err), -ENOTSUP);
        assert_non_null(strstr(err.msg, "sha512"));
        berth_error_release(&err);
        assert_int_equal(berth_digest_validate("sha256:E67D", &err), -EINVAL);
        berth_error_release(&err);
        assert_int_equal(berth_digest_validate("e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb"
                                               "60d82f14894c0",
                                               &err),
                         -EINVAL);
        berth_error_release(&err);
}

/* -------------------------------------------------------------- image configs */

/* As docker 25 writes it for a Dockerfile with most instructions. */
static const char full_config[] =
        "{\"architecture\":\"arm64\",\"author\":\"Jane <j@example.com>\","
        "\"config\":{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"app:app\","
        "\"AttachStdin\":false,\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}},"
        "\"Tty\":false,\"Env\":[\"PATH=/usr/local/bin:/usr/bin\",\"A=b c\"],"
        "\"Cmd\":[\"--serve\",\"a \\u0026\\u0026 b\"],"
        "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f http://localhost/ || exit 1\"],"
        "\"Interval\":30000000000,\"Timeout\":5000000000,\"StartPeriod\":1000000000,"
        "\"StartInterval\":2000000000,\"Retries\":3},"
        "\"ArgsEscaped\":true,\"Image\":\"\",\"Volumes\":{\"/data\":{},\"/cache\":null},"
        "\"WorkingDir\":\"/srv\",\"Entrypoint\":[\"/bin/app\"],"
        "\"OnBuild\":[\"RUN echo hi\"],"
        "\"Labels\":{\"org.opencontainers.image.title\":\"app\",\"a\":\"\\u003cb\\u003e\","
        "\"empty\":null},"
        "\"StopSignal\":\"SIGQUIT\",\"Shell\":[\"/bin/bash\",\"-c\"]},"
        "\"created\":\"2024-05-01T10:00:00.123456789Z\","
        "\"history\":[{\"created\":\"2024-05-01T09:00:00Z\",\"created_by\":\"/bin/sh -c #(nop) "
        "ADD file:abc in / \"},"
        "{\"created\":\"2024-05-01T09:00:01Z\",\"author\":\"Jane\",\"created_by\":\"/bin/sh -c "
        "#(nop)  CMD [\\\"sh\\\"]\",\"comment\":\"buildkit.dockerfile.v0\","
        "\"empty_layer\":true}],"
        "\"os\":\"linux\",\"os.version\":\"10.0\","
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_L1 "\",\"" D_L2 "\"]},"
        "\"variant\":\"v8\",\"container\":\"ignored\"}";

static void assert_strv_equal(char **a, char **b)
{
        if (!a || !b) {
                assert_ptr_equal(a, b);
                return;
        }
        for (; *a || *b; a++, b++) {
                assert_non_null(*a);
                assert_non_null(*b);
                assert_string_equal(*a, *b);
        }
}

static void assert_opt_str_equal(const char *a, const char *b)
{
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

static void assert_config_equal(const berth_image_config *a, const berth_image_config *b)
{
        const berth_container_config *x = &a->config, *y = &b->config;

        assert_opt_str_equal(a->architecture, b->architecture);
        assert_opt_str_equal(a->os, b->os);
        assert_opt_str_equal(a->variant, b->variant);
        assert_opt_str_equal(a->os_version, b->os_version);
        assert_opt_str_equal(a->created, b->created);
        assert_opt_str_equal(a->author, b->author);
        assert_opt_str_equal(x->user, y->user);
        assert_strv_equal(x->env, y->env);
        assert_strv_equal(x->entrypoint, y->entrypoint);
        assert_strv_equal(x->cmd, y->cmd);
        assert_opt_str_equal(x->working_dir, y->working_dir);
        assert_opt_str_equal(x->stop_signal, y->stop_signal);
        assert_strv_equal(x->shell, y->shell);
        assert_strv_equal(x->on_build, y->on_build);
        assert_int_equal(x->args_escaped, y->args_escaped);
        /* Key sets compare as sets: serialisation sorts them. */
        for (char **k = x->exposed_ports; k && *k; k++) {
                bool found = false;
                for (char **l = y->exposed_ports; l && *l; l++)
                        found |= strcmp(*k, *l) == 0;
                assert_true(found);
        }
        for (char **k = x->volumes; k && *k; k++) {
                bool found = false;
                for (char **l = y->volumes; l && *l; l++)
                        found |= strcmp(*k, *l) == 0;
                assert_true(found);
        }
        assert_int_equal(!x->labels, !y->labels);
        if (x->labels) {
                assert_int_equal(json_object_object_length(x->labels),
                                 json_object_object_length(y->labels));
                json_object_object_foreach (x->labels, k, v) {
                        json_object *w = NULL;
                        assert_true(json_object_object_get_ex(y->labels, k, &w));
                        assert_string_equal(json_object_get_string(v) ? json_object_get_string(v)
                                                                      : "",
                                            json_object_get_string(w));
                }
        }
        assert_int_equal(!x->healthcheck, !y->healthcheck);
        if (x->healthcheck) {
                assert_strv_equal(x->healthcheck->test, y->healthcheck->test);
                assert_int_equal(x->healthcheck->interval, y->healthcheck->interval);
                assert_int_equal(x->healthcheck->timeout, y->healthcheck->timeout);
                assert_int_equal(x->healthcheck->start_period, y->healthcheck->start_period);
                assert_int_equal(x->healthcheck->start_interval, y->healthcheck->start_interval);
                assert_int_equal(x->healthcheck->retries, y->healthcheck->retries);
        }
        assert_int_equal(a->n_diff_ids, b->n_diff_ids);
        assert_strv_equal(a->diff_ids, b->diff_ids);
        assert_int_equal(a->n_history, b->n_history);
        for (size_t i = 0; i < a->n_history; i++) {
                assert_opt_str_equal(a->history[i].created, b->history[i].created);
                assert_opt_str_equal(a->history[i].created_by, b->history[i].created_by);
                assert_opt_str_equal(a->history[i].author, b->history[i].author);
                assert_opt_str_equal(a->history[i].comment, b->history[i].comment);
                assert_int_equal(a->history[i].empty_layer, b->history[i].empty_layer);
        }
}

static void test_config_parse(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_image_config_freep) berth_image_config *c = NULL;
        const berth_container_config *cc;
        json_object *v = NULL;

        assert_int_equal(
                berth_image_config_parse(full_config, strlen(full_config), "config", &c, &err), 0);
        cc = &c->config;
        assert_string_equal(c->architecture, "arm64");
        assert_string_equal(c->os, "linux");
        assert_string_equal(c->variant, "v8");
        assert_string_equal(c->os_version, "10.0");
        assert_string_equal(c->created, "2024-05-01T10:00:00.123456789Z");
        assert_string_equal(c->author, "Jane <j@example.com>");
        assert_string_equal(cc->user, "app:app");
        assert_string_equal(cc->env[1], "A=b c");
        assert_null(cc->env[2]);
        assert_string_equal(cc->cmd[1], "a && b");
        assert_string_equal(cc->entrypoint[0], "/bin/app");
        assert_string_equal(cc->working_dir, "/srv");
        assert_string_equal(cc->exposed_ports[0], "8080/tcp");
        assert_string_equal(cc->exposed_ports[1], "53/udp");
        assert_null(cc->exposed_ports[2]);
        assert_string_equal(cc->volumes[0], "/data");
        assert_string_equal(cc->volumes[1], "/cache");
        assert_string_equal(cc->stop_signal, "SIGQUIT");
        assert_string_equal(cc->shell[1], "-c");
        assert_string_equal(cc->on_build[0], "RUN echo hi");
        assert_true(cc->args_escaped);
        assert_true(json_object_object_get_ex(cc->labels, "a", &v));
        assert_string_equal(json_object_get_string(v), "<b>");
        assert_non_null(cc->healthcheck);
        assert_string_equal(cc->healthcheck->test[0], "CMD-SHELL");
        assert_int_equal(cc->healthcheck->interval, 30000000000LL);
        assert_int_equal(cc->healthcheck->timeout, 5000000000LL);
        assert_int_equal(cc->healthcheck->start_period, 1000000000LL);
        assert_int_equal(cc->healthcheck->start_interval, 2000000000LL);
        assert_int_equal(cc->healthcheck->retries, 3);
        assert_int_equal(c->n_diff_ids, 2);
        assert_string_equal(c->diff_ids[1], D_L2);
        assert_null(c->diff_ids[2]);
        assert_int_equal(c->n_history, 2);
        assert_null(c->history[0].author);
        assert_false(c->history[0].empty_layer);
        assert_string_equal(c->history[1].comment, "buildkit.dockerfile.v0");
        assert_true(c->history[1].empty_layer);
        /* The document itself is kept: unknown members are there for whoever needs them. */
        assert_true(json_object_object_get_ex(c->raw, "container", &v));
}

static void test_config_minimal(void **state)
{
        static const char doc[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":null,"
                                  "\"rootfs\":{\"type\":\"layers\"}}";
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_image_config_freep) berth_image_config *c = NULL;
        _cleanup_free_ char *json = NULL;

        assert_int_equal(berth_image_config_parse(doc, strlen(doc), "config", &c, &err), 0);
        assert_int_equal(c->n_diff_ids, 0);
        assert_null(c->created);

        /* Times with an offset, and null for absent. */
        static const char doc2[] =
                "{\"architecture\":\"amd64\",\"os\":\"linux\","
                "\"created\":\"2024-05-01T10:00:00+02:00\",\"history\":["
                "{\"created\":null},{\"created\":\"1970-01-01T00:00:01.5-00:30\"}],"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":null}}";
        _cleanup_(berth_image_config_freep) berth_image_config *c2 = NULL;
        assert_int_equal(berth_image_config_parse(doc2, strlen(doc2), "config", &c2, &err), 0);
        assert_string_equal(c2->created, "2024-05-01T10:00:00+02:00");
        assert_int_equal(c2->n_history, 2);
        assert_null(c2->history[0].created);
        assert_non_null(c->diff_ids);
        assert_null(c->diff_ids[0]);
        assert_null(c->config.env);
        assert_null(c->config.healthcheck);
        assert_null(c->history);
        json = berth_image_config_to_json(c);
        assert_string_equal(json, "{\"architecture\":\"amd64\",\"config\":{},\"os\":\"linux\","
                                  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
}

static void test_config_to_json(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_(berth_image_config_freep) berth_image_config *c = NULL, *c2 = NULL, *c3 = NULL;
        _cleanup_free_ char *j1 = NULL, *j2 = NULL;

        assert_int_equal(
                berth_image_config_parse(full_config, strlen(full_config), "config", &c, &err), 0);
        j1 = berth_image_config_to_json(c);
        assert_non_null(j1);
        /* Docker's order and escaping; map keys sorted, null label written as "". */
        assert_string_equal(
                j1,
                "{\"architecture\":\"arm64\",\"author\":\"Jane \\u003cj@example.com\\u003e\","
                "\"config\":{\"User\":\"app:app\",\"ExposedPorts\":{\"53/udp\":{},\"8080/tcp\":{}},"
                "\"Env\":[\"PATH=/usr/local/bin:/usr/bin\",\"A=b c\"],"
                "\"Cmd\":[\"--serve\",\"a \\u0026\\u0026 b\"],"
                "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f http://localhost/ || exit "
                "1\"],\"Interval\":30000000000,\"Timeout\":5000000000,\"StartPeriod\":1000000000,"
                "\"StartInterval\":2000000000,\"Retries\":3},"
                "\"ArgsEscaped\":true,\"Volumes\":{\"/cache\":{},\"/data\":{}},"
                "\"WorkingDir\":\"/srv\",\"Entrypoint\":[\"/bin/app\"],\"OnBuild\":[\"RUN echo "
                "hi\"],\"Labels\":{\"a\":\"\\u003cb\\u003e\",\"empty\":\"\","
                "\"org.opencontainers.image.title\":\"app\"},\"StopSignal\":\"SIGQUIT\","
                "\"Shell\":[\"/bin/bash\",\"-c\"]},"
                "\"created\":\"2024-05-01T10:00:00.123456789Z\","
                "\"history\":[{\"created\":\"2024-05-01T09:00:00Z\",\"created_by\":\"/bin/sh -c "
                "#(nop) ADD file:abc in / \"},{\"created\":\"2024-05-01T09:00:01Z\",\"author\":"
                "\"Jane\",\"created_by\":\"/bin/sh -c #(nop)  CMD [\\\"sh\\\"]\",\"comment\":"
                "\"buildkit.dockerfile.v0\",\"empty_layer\":true}],"
                "\"os\":\"linux\",\"os.version\":\"10.0\","
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_L1 "\",\"" D_L2 "\"]},"
                "\"variant\":\"v8\"}");

        /* parse(to_json(parse(x))) keeps every field, and serialising again is stable. */
        assert_int_equal(berth_image_config_parse(j1, strlen(j1), "again", &c2, &err), 0);
        assert_config_equal(c, c2);
        j2 = berth_image_config_to_json(c2);
        assert_string_equal(j1, j2);

        /* A config berth makes itself, from nothing but the struct. */
        char *diff_ids[] = { (char *)D_L1, NULL };
        char *cmd[] = { (char *)"sh", NULL };
        berth_image_config mine = {
                .architecture = (char *)"amd64",
                .os = (char *)"linux",
                .created = (char *)"2024-01-01T00:00:00Z",
                .config = { .cmd = cmd, .working_dir = (char *)"/" },
                .diff_ids = diff_ids,
                .n_diff_ids = 1,
        };
        _cleanup_free_ char *j3 = berth_image_config_to_json(&mine);
        assert_string_equal(j3, "{\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"sh\"],"
                                "\"WorkingDir\":\"/\"},\"created\":\"2024-01-01T00:00:00Z\","
                                "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
                                "[\"" D_L1 "\"]}}");
        assert_int_equal(berth_image_config_parse(j3, strlen(j3), "mine", &c3, &err), 0);
        assert_config_equal(&mine, c3);
}

static void test_config_escaping(void **state)
{
        char *env[] = { (char *)"Q=\"\\\x01\x1f\b\f\n\r\t\x7f", (char *)"U=\xc3\xa9\xe2\x80\xa8",
                        (char *)"BAD=\xff\xc3", NULL };
        berth_image_config c = { .architecture = (char *)"amd64",
                                 .os = (char *)"linux",
                                 .config = { .env = env } };
        _cleanup_free_ char *j = berth_image_config_to_json(&c);

        /* Go's encoding/json: short escapes, \u00XX, U+2028 escaped, bad UTF-8 -> U+FFFD. */
        assert_non_null(strstr(j, "\"Env\":[\"Q=\\\"\\\\\\u0001\\u001f\\b\\f\\n\\r\\t\x7f\","
                                  "\"U=\xc3\xa9\\u2028\",\"BAD=\\ufffd\\ufffd\"]"));
}

static void test_config_errors(void **state)
{
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL, *s5 = NULL, *s6 = NULL,
                            *s7 = NULL, *s8 = NULL, *s9 = NULL, *s10 = NULL, *s11 = NULL,
                            *s12 = NULL;

        s1 = replace(full_config, "\"Interval\":30000000000", "\"Interval\":\"30s\"");
        expect_config_error(s1, EINVAL,
                            "config: config.Healthcheck.Interval: expected a non-negative integer, "
                            "got a string \"30s\"");
        s2 = replace(full_config, "\"Retries\":3", "\"Retries\":-3");
        expect_config_error(s2, EINVAL, "config.Healthcheck.Retries: expected a non-negative");
        s3 = replace(full_config, "\"" D_L2 "\"]", "\"sha256:nothex\"]");
        expect_config_error(s3, EINVAL, "rootfs.diff_ids[1]: invalid digest `sha256:nothex`");
        s4 = replace(full_config, "\"type\":\"layers\"", "\"type\":\"tar\"");
        expect_config_error(s4, EINVAL, "rootfs.type: expected \"layers\", got \"tar\"");
        s5 = replace(full_config, "\"architecture\":\"arm64\",", "");
        expect_config_error(s5, EINVAL, "config: architecture: required field is missing");
        s6 = replace(full_config, "\"Env\":[", "\"Env\":[1,");
        expect_config_error(s6, EINVAL, "config.Env[0]: expected a string, got an integer 1");
        s7 = replace(full_config, "\"53/udp\":{}", "\"53/udp\":true");
        expect_config_error(s7, EINVAL, "config.ExposedPorts.53/udp: expected an empty object");
        s8 = replace(full_config, "\"empty_layer\":true", "\"empty_layer\":1");
        expect_config_error(s8, EINVAL, "history[1].empty_layer: expected a boolean");
        s9 = replace(full_config, "\"app\",\"a\"", "\"app\",\"n\":5,\"a\"");
        expect_config_error(s9, EINVAL, "config.Labels.n: expected a string, got an integer 5");
        s10 = replace(full_config, "10:00:00.123456789Z", "10:00:00.1234567890Z");
        expect_config_error(s10, EINVAL,
                            "config: created: expected an RFC 3339 time, got "
                            "\"2024-05-01T10:00:00.1234567890Z\"");
        s11 = replace(full_config, "09:00:01Z", "09:00:01");
        expect_config_error(s11, EINVAL, "history[1].created: expected an RFC 3339 time");
        s12 = replace(full_config, "2024-05-01T09:00:00Z", "2024-13-01T09:00:00Z");
        expect_config_error(s12, EINVAL, "history[0].created: expected an RFC 3339 time");
        expect_config_error("{\"architecture\":\"amd64\",\"os\":\"linux\"}", EINVAL,
                            "rootfs: required field is missing");
        expect_config_error("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                            "\"layers\",\"diff_ids\":[\"" SHA512 "\"]}}",
                            ENOTSUP, "rootfs.diff_ids[0]: digest `sha512:");
}

static void test_chain_ids(void **state)
{
        /* The diff_ids of the image spec's config example (config.md); the
         * ChainIDs were computed independently with
         * printf '%s %s' "$chain" "$diff" | sha256sum. */
        char *diff_ids[] = {
                (char *)"sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
                (char *)"sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
                (char *)"sha256:a9561eb1b190625c9adb5a9513e72c4dedafc1cb2d4c5236c9a6957ec7dfd5a9",
                NULL,
        };
        char chain[3][BERTH_DIGEST_STR_MAX];

        berth_chain_ids(diff_ids, 3, chain);
        assert_string_equal(chain[0], diff_ids[0]);
        assert_string_equal(
                chain[1],
                "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
        assert_string_equal(
                chain[2],
                "sha256:0f13f6cf4741f309c9a47e71abdddb9e3b74b8270eef666ae34d7060e2ace633");

        /* n = 0 writes nothing. */
        memset(chain, 'x', sizeof(chain));
        berth_chain_ids(diff_ids, 0, chain);
        assert_int_equal(chain[0][0], 'x');
}

int main(void)
{
        /* One test a line, which clang-format would pack into columns. */
        // clang-format off
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_platform_parse),
                cmocka_unit_test(test_platform_match),
                cmocka_unit_test(test_kind_of),
                cmocka_unit_test(test_docker_manifest),
                cmocka_unit_test(test_oci_manifest),
                cmocka_unit_test(test_manifest_errors),
                cmocka_unit_test(test_manifest_bounds),
                cmocka_unit_test(test_docker_list),
                cmocka_unit_test(test_oci_index),
                cmocka_unit_test(test_select_levels),
                cmocka_unit_test(test_index_errors),
                cmocka_unit_test(test_layer_media_types),
                cmocka_unit_test(test_digest_validation),
                cmocka_unit_test(test_config_parse),
                cmocka_unit_test(test_config_minimal),
                cmocka_unit_test(test_config_to_json),
                cmocka_unit_test(test_config_escaping),
                cmocka_unit_test(test_config_errors),
                cmocka_unit_test(test_chain_ids),
        };
        // clang-format on

        return cmocka_run_group_tests(tests, NULL, NULL);
}
