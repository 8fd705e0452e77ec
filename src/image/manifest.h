/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The image formats, parsed into typed structs in one place: descriptors,
 * image manifests (Docker schema 2 and OCI), manifest lists and OCI indexes,
 * and image configs. Parsers reject wrong types naming the JSON path
 * ("manifest: layers[2].size: expected an integer, got string"); unknown
 * fields are ignored on purpose (the spec says consumers must), and the
 * original bytes are what is stored and pushed, never a re-serialisation.
 * Docker schema 1 manifests are refused with a message that says so.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/digest.h"
#include "basic/error.h"

#define BERTH_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define BERTH_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define BERTH_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define BERTH_MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define BERTH_MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define BERTH_MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define BERTH_MT_OCI_LAYER_ND    "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define BERTH_MT_OCI_LAYER_ND_GZ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define BERTH_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BERTH_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define BERTH_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define BERTH_MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"
/* Uncompressed: what docker-archive layers become when load gives them a manifest. */
#define BERTH_MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define BERTH_MT_DOCKER_FOREIGN   "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define BERTH_MT_DOCKER_SCHEMA1   "application/vnd.docker.distribution.manifest.v1+json"
#define BERTH_MT_DOCKER_SCHEMA1_S "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* Upper bounds on what is read from a registry or an archive. */
#define BERTH_MANIFEST_MAX (4u << 20)
#define BERTH_CONFIG_MAX   (8u << 20)
#define BERTH_LAYERS_MAX   1000

typedef struct berth_platform {
        char *os;           /* "linux" */
        char *architecture; /* "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64" */
        char *variant;      /* "v8", "v7", or NULL */
        char *os_version;   /* or NULL */
} berth_platform;

/* "linux/arm64", "linux/arm/v7", "arm64" (os linux): normalised as containerd's
 * platforms package does (aarch64 -> arm64, x86_64 -> amd64, arm64 variant
 * defaults to v8, arm to v7). */
int berth_platform_parse(const char *s, berth_platform *ret, berth_error *err);
/* The platform this binary runs on (uname, normalised the same way). */
int berth_platform_host(berth_platform *ret, berth_error *err);
/* "linux/arm64/v8"; NULL only when out of memory. */
char *berth_platform_string(const berth_platform *p);
/* Whether an image of platform `have` runs where `want` is asked for
 * (os and architecture equal; variant equal, or one of them unset, or
 * want's variant newer for arm64/arm as containerd allows). */
bool berth_platform_match(const berth_platform *want, const berth_platform *have);
void berth_platform_release(berth_platform *p);

typedef struct berth_descriptor {
        char *media_type;
        char *digest;             /* validated by berth_digest_validate() */
        int64_t size;             /* >= 0 */
        char **urls;              /* foreign layer URLs, NULL-terminated, or NULL */
        json_object *annotations; /* owned reference, or NULL */
        berth_platform *platform; /* only in indexes; NULL when absent */
        char *artifact_type;      /* or NULL */
} berth_descriptor;

void berth_descriptor_release(berth_descriptor *d);

typedef struct berth_manifest {
        char *media_type; /* BERTH_MT_OCI_MANIFEST or BERTH_MT_DOCKER_MANIFEST */
        berth_descriptor config;
        berth_descriptor *layers;
        size_t n_layers; /* <= BERTH_LAYERS_MAX */
        json_object *annotations;
} berth_manifest;

typedef struct berth_index {
        char *media_type; /* BERTH_MT_OCI_INDEX or BERTH_MT_DOCKER_LIST */
        berth_descriptor *manifests;
        size_t n_manifests;
        json_object *annotations;
} berth_index;

typedef enum berth_manifest_kind {
        BERTH_MANIFEST_KIND_IMAGE,
        BERTH_MANIFEST_KIND_INDEX,
} berth_manifest_kind;

/*
 * Which of the two a document is: from media_type (the Content-Type of a
 * registry reply, or a descriptor's mediaType) when that is one of the known
 * ones, else from the document's own "mediaType", else by shape ("manifests"
 * vs "layers"), as OCI allows the field to be absent. Schema 1 and unknown
 * types fail with ENOTSUP naming the type.
 */
int berth_manifest_kind_of(const char *media_type, const char *data, size_t len,
                           berth_manifest_kind *ret, berth_error *err);

/* `what` names the document in errors ("manifest sha256:ab12..."). */
int berth_manifest_parse(const char *data, size_t len, const char *what, berth_manifest **ret,
                         berth_error *err);
void berth_manifest_free(berth_manifest *m);
static inline void berth_manifest_freep(berth_manifest **m)
{
        berth_manifest_free(*m);
}

int berth_index_parse(const char *data, size_t len, const char *what, berth_index **ret,
                      berth_error *err);
void berth_index_free(berth_index *idx);
static inline void berth_index_freep(berth_index **idx)
{
        berth_index_free(*idx);
}

/*
 * The entry of idx for platform want: the first that matches exactly,
 * else the best compatible variant. Attestation manifests (annotation
 * "vnd.docker.reference.type": "attestation-manifest", or platform
 * unknown/unknown) are never chosen. ENOENT lists the platforms on offer:
 * "no image for linux/s390x in index (has linux/amd64, linux/arm64/v8)".
 */
int berth_index_select(const berth_index *idx, const berth_platform *want,
                       const berth_descriptor **ret, berth_error *err);

/* Whether a layer media type is one berth can unpack, and its compression. */
typedef enum berth_compression {
        BERTH_COMPRESSION_NONE,
        BERTH_COMPRESSION_GZIP,
        BERTH_COMPRESSION_ZSTD,
} berth_compression;
int berth_layer_media_type(const char *media_type, berth_compression *ret, berth_error *err);

typedef struct berth_healthcheck {
        char **test; /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"] */
        int64_t interval, timeout, start_period, start_interval; /* nanoseconds, 0 = default */
        int retries;
} berth_healthcheck;

typedef struct berth_history {
        char *created; /* RFC 3339, or NULL */
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
} berth_history;

/* The "config" object inside an image config (docker's ContainerConfig subset that images carry).
 */
typedef struct berth_container_config {
        char *user;
        char **env; /* "K=V" */
        char **entrypoint;
        char **cmd;
        char *working_dir;
        char **exposed_ports; /* keys: "80/tcp" */
        char **volumes;       /* keys: "/data" */
        json_object *labels;  /* object of strings, or NULL */
        char *stop_signal;
        char **shell;
        char **on_build;
        bool args_escaped;
        berth_healthcheck *healthcheck; /* or NULL */
} berth_container_config;

typedef struct berth_image_config {
        char *architecture;
        char *os;
        char *variant;
        char *os_version;
        char *created; /* RFC 3339, or NULL */
        char *author;
        berth_container_config config;
        char **diff_ids; /* rootfs.diff_ids, NULL-terminated; validated digests */
        size_t n_diff_ids;
        berth_history *history;
        size_t n_history;
        json_object *raw; /* the whole parsed document, owned */
} berth_image_config;

int berth_image_config_parse(const char *data, size_t len, const char *what,
                             berth_image_config **ret, berth_error *err);
void berth_image_config_free(berth_image_config *c);
static inline void berth_image_config_freep(berth_image_config **c)
{
        berth_image_config_free(*c);
}

/*
 * Serialises a config for an image berth makes itself (import, the default
 * image, commit, build): keys in the order docker writes them, no
 * whitespace. Returns a malloc'd string or NULL when out of memory.
 */
char *berth_image_config_to_json(const berth_image_config *c);

/*
 * ChainIDs (image spec, layer.md): chain[0] = diff_ids[0],
 * chain[n] = sha256(chain[n-1] + " " + diff_ids[n]). ret must hold n entries.
 */
void berth_chain_ids(char *const *diff_ids, size_t n, char (*ret)[BERTH_DIGEST_STR_MAX]);
