/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/cleanup.h"

struct berth_hasher {
        EVP_MD_CTX *ctx;
};

berth_hasher *berth_hasher_new(void)
{
        berth_hasher *h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                berth_hasher_free(h);
                return NULL;
        }
        return h;
}

void berth_hasher_update(berth_hasher *h, const void *buf, size_t len)
{
        if (len > 0)
                EVP_DigestUpdate(h->ctx, buf, len);
}

void berth_hasher_final(berth_hasher *h, char ret[BERTH_DIGEST_STR_MAX])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        char *p;

        EVP_DigestFinal_ex(h->ctx, md, &n);
        memcpy(ret, BERTH_DIGEST_ALGO ":", sizeof(BERTH_DIGEST_ALGO));
        p = ret + sizeof(BERTH_DIGEST_ALGO);
        for (unsigned int i = 0; i < n && i < BERTH_DIGEST_HEX_LEN / 2; i++) {
                *p++ = hex[md[i] >> 4];
                *p++ = hex[md[i] & 15];
        }
        *p = '\0';
}

void berth_hasher_free(berth_hasher *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void berth_digest_buffer(const void *buf, size_t len, char ret[BERTH_DIGEST_STR_MAX])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        static const char hex[] = "0123456789abcdef";
        char *p;

        EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
        memcpy(ret, BERTH_DIGEST_ALGO ":", sizeof(BERTH_DIGEST_ALGO));
        p = ret + sizeof(BERTH_DIGEST_ALGO);
        for (unsigned int i = 0; i < n && i < BERTH_DIGEST_HEX_LEN / 2; i++) {
                *p++ = hex[md[i] >> 4];
                *p++ = hex[md[i] & 15];
        }
        *p = '\0';
}

int berth_digest_fd(int fd, char ret[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_(berth_hasher_freep) berth_hasher *h = berth_hasher_new();
        _cleanup_free_ char *buf = malloc(1 << 16);

        if (!h || !buf)
                return berth_error_set(err, ENOMEM, "digest: out of memory");
        for (;;) {
                ssize_t n = read(fd, buf, 1 << 16);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error_sys(err, errno, "digest: read");
                if (n == 0)
                        break;
                berth_hasher_update(h, buf, n);
        }
        berth_hasher_final(h, ret);
        return 0;
}

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int berth_digest_validate(const char *digest, berth_error *err)
{
        const char *colon;
        size_t algo_len;

        if (!digest || !*digest)
                return berth_error_set(err, EINVAL, "invalid digest: empty");
        colon = strchr(digest, ':');
        if (!colon || colon == digest)
                return berth_error_set(err, EINVAL, "invalid digest `%s`: expected algorithm:hex",
                                       digest);
        algo_len = colon - digest;
        if (algo_len == strlen(BERTH_DIGEST_ALGO) &&
            strncmp(digest, BERTH_DIGEST_ALGO, algo_len) == 0) {
                if (strlen(colon + 1) != BERTH_DIGEST_HEX_LEN ||
                    !is_lower_hex(colon + 1, BERTH_DIGEST_HEX_LEN))
                        return berth_error_set(
                                err, EINVAL,
                                "invalid digest `%s`: sha256 needs 64 lowercase hex digits",
                                digest);
                return 0;
        }
        if (algo_len == 6 && strncmp(digest, "sha512", 6) == 0 && strlen(colon + 1) == 128 &&
            is_lower_hex(colon + 1, 128))
                return berth_error_set(err, ENOTSUP,
                                       "digest `%s`: algorithm sha512 is not supported", digest);
        for (const char *p = digest; p < colon; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
                      *p == '.' || *p == '_' || *p == '-'))
                        return berth_error_set(err, EINVAL, "invalid digest `%s`", digest);
        return berth_error_set(err, ENOTSUP, "digest `%s`: algorithm %.*s is not supported", digest,
                               (int)algo_len, digest);
}

const char *berth_digest_hex(const char *digest)
{
        const char *colon = strchr(digest, ':');
        return colon ? colon + 1 : digest;
}
