/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compiled seccomp programs, kept per state root and keyed by the profile.
 *
 * libseccomp needs milliseconds to compile a profile the size of podman's
 * or Docker's default, and every container of an engine gets the same
 * one. The cache keeps the BPF program libseccomp exported, under a name
 * hashed from a canonical text of the profile (plus the libseccomp version
 * and the machine); the file repeats the whole text, and a load that does
 * not match it to the byte is a miss, so a hash collision costs a compile,
 * never a wrong filter. Files are written to a temporary name and renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "runtime/seccomp-cache.h"

#define CACHE_MAGIC "berth-seccomp-cache 1\n"
#define CACHE_MAX   (8u << 20)

struct buf {
        char *data;
        size_t len, size;
        bool oom;
};

static void put(struct buf *b, const char *s)
{
        size_t n = strlen(s);

        if (b->oom)
                return;
        if (b->len + n + 1 > b->size) {
                size_t size = (b->len + n + 1) * 2;
                char *d = realloc(b->data, size);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->size = size;
        }
        memcpy(b->data + b->len, s, n + 1);
        b->len += n;
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct buf *b, const char *fmt, ...)
{
        char tmp[64];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        put(b, tmp);
}

/* Each string with its length in front, so no two lists read the same. */
static void put_list(struct buf *b, const char *tag, char **v, size_t n)
{
        put(b, tag);
        putf(b, " %zu", n);
        for (size_t i = 0; i < n; i++) {
                putf(b, " %zu:", strlen(v[i]));
                put(b, v[i]);
        }
        put(b, "\n");
}

static void put_syscall(struct buf *b, const struct berth_seccomp_syscall *sc)
{
        putf(b, "rule %llu", (unsigned long long)sc->action);
        putf(b, " %llu", sc->has_errno_ret ? (unsigned long long)sc->errno_ret + 1 : 0);
        for (size_t k = 0; k < sc->n_args; k++) {
                putf(b, " [%u", sc->args[k].index);
                putf(b, " %llu", (unsigned long long)sc->args[k].op);
                putf(b, " %llu", (unsigned long long)sc->args[k].value);
                putf(b, " %llu]", (unsigned long long)sc->args[k].value_two);
        }
        put_list(b, "", sc->names, sc->n_names);
}

char *berth_seccomp_cache_key(const struct berth_seccomp *s)
{
        const struct scmp_version *v = seccomp_version();
        struct buf b = { 0 };
        struct utsname u;

        put(&b, "libseccomp ");
        putf(&b, "%u.%u.%u ", v->major, v->minor, v->micro);
        put(&b, uname(&u) == 0 ? u.machine : "?");
        putf(&b, "\ndefault %llu", (unsigned long long)s->default_action);
        putf(&b, " %llu\n",
             s->has_default_errno_ret ? (unsigned long long)s->default_errno_ret + 1 : 0);
        put_list(&b, "arch", s->architectures, s->n_architectures);
        put_list(&b, "flags", s->flags, s->n_flags);
        for (size_t i = 0; i < s->n_syscalls; i++)
                put_syscall(&b, &s->syscalls[i]);
        if (b.oom) {
                free(b.data);
                return NULL;
        }
        return b.data;
}

/* FNV-1a: a file name, not a proof; the key inside the file is the proof. */
static void cache_path(const char *dir, const char *key, char *path, size_t size)
{
        unsigned long long h = 1469598103934665603ULL;

        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
                h ^= *p;
                h *= 1099511628211ULL;
        }
        snprintf(path, size, "%s/%016llx.bpf", dir, h);
}

int berth_seccomp_cache_get(const char *dir, const char *key, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        char path[4096];
        size_t len, klen = strlen(key), mlen = strlen(CACHE_MAGIC);
        struct stat st;

        cache_path(dir, key, path, sizeof(path));
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
                return 0;
        if (berth_read_fd(fd, CACHE_MAX, &data, &len) < 0)
                return 0;
        if (len <= mlen + klen || memcmp(data, CACHE_MAGIC, mlen) != 0 ||
            memcmp(data + mlen, key, klen) != 0 || data[mlen + klen] != '\0')
                return 0;
        len -= mlen + klen + 1;
        if (len == 0 || len % 8 != 0) /* whole struct sock_filter entries */
                return 0;
        *ret = malloc(len);
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, data + mlen + klen + 1, len);
        *ret_len = len;
        return 1;
}

int berth_seccomp_cache_put(const char *dir, const char *key, const char *bpf, size_t len)
{
        _cleanup_free_ char *data = NULL;
        size_t klen = strlen(key), mlen = strlen(CACHE_MAGIC);
        char path[4096];

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        data = malloc(mlen + klen + 1 + len);
        if (!data)
                return -ENOMEM;
        memcpy(data, CACHE_MAGIC, mlen);
        memcpy(data + mlen, key, klen + 1);
        memcpy(data + mlen + klen + 1, bpf, len);
        cache_path(dir, key, path, sizeof(path));
        return berth_write_file_atomic(path, data, mlen + klen + 1 + len, 0600, NULL);
}
