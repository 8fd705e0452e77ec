/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image references with docker's grammar and normalisation (see reference.h).
 * The grammar is checked by hand rather than with regexes so that each
 * failure can say what is wrong.
 */
#include "image/reference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/cleanup.h"
#include "basic/digest.h"

/* docker's NameTotalLengthMax, over the normalised "domain/path". */
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN  128

#define LEGACY_DOMAIN "index.docker.io"
#define LIBRARY       "library/"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int ref_error(berth_error *err, int errnum, const char *s, const char *why)
{
        return berth_error_set(err, errnum, "invalid reference format `%s`: %s", s, why);
}

bool berth_reference_looks_like_id(const char *s)
{
        size_t n = 0;

        if (!s)
                return false;
        for (; s[n]; n++)
                if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        return n >= 1 && n <= BERTH_DIGEST_HEX_LEN;
}

/* [a-z0-9]+ ([._]|__|-+ [a-z0-9]+)* over s[0..n) */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                size_t start = i;
                while (i < n && is_lower_alnum(s[i]))
                        i++;
                if (i == start)
                        return false;
                if (i == n)
                        return true;
                if (s[i] == '.') {
                        i++;
                } else if (s[i] == '_') {
                        i++;
                        if (i < n && s[i] == '_')
                                i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else {
                        return false;
                }
        }
}

static const char *check_path(const char *path)
{
        const char *p = path;

        if (!*path)
                return "repository name must have at least one component";
        for (const char *q = path; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                        return "repository name must be lowercase";
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);

                if (n == 0)
                        return "empty path component (a leading, trailing or double '/')";
                if (!valid_path_component(p, n))
                        return "path components must be [a-z0-9] separated by '.', '_', '__' or "
                               "'-'";
                if (!slash)
                        return NULL;
                p = slash + 1;
        }
}

/* [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9], separated by '.' */
static bool valid_domain_name(const char *s, size_t n)
{
        size_t i = 0;

        for (;;) {
                size_t start = i;
                while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                        i++;
                if (i == start || s[start] == '-' || s[i - 1] == '-')
                        return false;
                if (i == n)
                        return true;
                if (s[i] != '.')
                        return false;
                i++;
        }
}

/* host [":" port], host a domain name, an IPv4 address or "[" IPv6 "]" */
static bool valid_domain(const char *d)
{
        size_t n = strlen(d), host_len;
        const char *port = NULL;

        if (d[0] == '[') {
                const char *close = strchr(d, ']');
                if (!close || close == d + 1)
                        return false;
                for (const char *p = d + 1; p < close; p++)
                        if (!is_hex(*p) && *p != ':')
                                return false;
                host_len = close - d + 1;
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1] != '\0')
                        return false;
        } else {
                const char *colon = strchr(d, ':');
                host_len = colon ? (size_t)(colon - d) : n;
                if (!valid_domain_name(d, host_len))
                        return false;
                if (colon)
                        port = colon + 1;
        }
        if (port) {
                if (!*port)
                        return false;
                for (const char *p = port; *p; p++)
                        if (!is_digit(*p))
                                return false;
        }
        return true;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool valid_tag(const char *t)
{
        size_t n = strlen(t);

        if (n == 0 || n > TAG_MAX_LEN || t[0] == '.' || t[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* Whether the first component of a name is a registry rather than a path (docker's rule). */
static bool is_domain_component(const char *s, size_t n)
{
        return memchr(s, '.', n) || memchr(s, ':', n) ||
               (n == strlen("localhost") && strncmp(s, "localhost", n) == 0);
}

static int split_name(const char *s, const char *name, berth_reference *r, berth_error *err)
{
        const char *slash = strchr(name, '/');
        const char *path = name;
        const char *why;

        if (slash && is_domain_component(name, slash - name)) {
                size_t dlen = slash - name;
                if (dlen == strlen(LEGACY_DOMAIN) && strncmp(name, LEGACY_DOMAIN, dlen) == 0)
                        r->domain = strdup(BERTH_REFERENCE_DEFAULT_DOMAIN);
                else
                        r->domain = strndup(name, dlen);
                if (!r->domain)
                        return ref_error(err, ENOMEM, s, "out of memory");
                if (!valid_domain(r->domain))
                        return ref_error(err, EINVAL, s,
                                         "the registry must be a host name or IP address with "
                                         "an optional port");
                path = slash + 1;
        } else {
                r->domain = strdup(BERTH_REFERENCE_DEFAULT_DOMAIN);
                if (!r->domain)
                        return ref_error(err, ENOMEM, s, "out of memory");
        }

        why = check_path(path);
        if (why)
                return ref_error(err, EINVAL, s, why);

        if (strcmp(r->domain, BERTH_REFERENCE_DEFAULT_DOMAIN) == 0 && !strchr(path, '/')) {
                size_t n = strlen(path);
                r->path = malloc(strlen(LIBRARY) + n + 1);
                if (r->path) {
                        memcpy(r->path, LIBRARY, strlen(LIBRARY));
                        memcpy(r->path + strlen(LIBRARY), path, n + 1);
                }
        } else {
                r->path = strdup(path);
        }
        if (!r->path)
                return ref_error(err, ENOMEM, s, "out of memory");
        if (strlen(r->domain) + 1 + strlen(r->path) > NAME_MAX_LEN)
                return ref_error(err, EINVAL, s,
                                 "repository name must not be more than 255 characters");
        return 0;
}

static int parse(const char *s, unsigned flags, berth_reference *r, berth_error *err)
{
        _cleanup_free_ char *name = NULL;
        char *at, *colon, *slash;
        int k;

        if (!*s)
                return ref_error(err, EINVAL, s, "empty reference");
        if (strlen(s) == BERTH_DIGEST_HEX_LEN && berth_reference_looks_like_id(s))
                return ref_error(err, EINVAL, s,
                                 "this looks like an image ID (64 hexadecimal characters), "
                                 "not a repository name");

        name = strdup(s);
        if (!name)
                return ref_error(err, ENOMEM, s, "out of memory");

        at = strchr(name, '@');
        if (at) {
                *at = '\0';
                k = berth_digest_validate(at + 1, err);
                if (k < 0)
                        return berth_error_prefix(err, "invalid reference format `%s`", s);
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return ref_error(err, ENOMEM, s, "out of memory");
        }

        /* A tag is after the last ':' that follows the last '/' (else it is a port). */
        slash = strrchr(name, '/');
        colon = strrchr(slash ? slash : name, ':');
        if (colon) {
                *colon = '\0';
                if (!valid_tag(colon + 1))
                        return ref_error(err, EINVAL, s,
                                         "a tag must be 1-128 characters of [A-Za-z0-9_.-], "
                                         "not starting with '.' or '-'");
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return ref_error(err, ENOMEM, s, "out of memory");
        }

        k = split_name(s, name, r, err);
        if (k < 0)
                return k;

        if ((flags & BERTH_REFERENCE_NAME_ONLY) && (r->tag || r->digest))
                return ref_error(err, EINVAL, s,
                                 "expected a repository name without a tag or digest");
        if ((flags & BERTH_REFERENCE_NO_DIGEST) && r->digest)
                return ref_error(err, EINVAL, s, "a digest is not allowed here");
        if ((flags & BERTH_REFERENCE_DEFAULT_TAG_FLAG) && !(flags & BERTH_REFERENCE_NAME_ONLY) &&
            !r->tag && !r->digest) {
                r->tag = strdup(BERTH_REFERENCE_DEFAULT_TAG);
                if (!r->tag)
                        return ref_error(err, ENOMEM, s, "out of memory");
        }
        return 0;
}

int berth_reference_parse(const char *s, unsigned flags, berth_reference *ret, berth_error *err)
{
        berth_reference r = { 0 };
        int k;

        *ret = (berth_reference){ 0 };
        if (!s)
                return berth_error_set(err, EINVAL, "invalid reference format: empty reference");
        k = parse(s, flags, &r, err);
        if (k < 0) {
                berth_reference_release(&r);
                return k;
        }
        *ret = r;
        return 0;
}

void berth_reference_release(berth_reference *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        *r = (berth_reference){ 0 };
}

/* Concatenates up to five strings, skipping NULL ones. */
static char *concat(const char *a, const char *b, const char *c, const char *d, const char *e)
{
        const char *parts[] = { a, b, c, d, e };
        size_t len = 0, off = 0;
        char *s;

        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                if (parts[i])
                        len += strlen(parts[i]);
        s = malloc(len + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                if (parts[i]) {
                        size_t n = strlen(parts[i]);
                        memcpy(s + off, parts[i], n);
                        off += n;
                }
        s[off] = '\0';
        return s;
}

char *berth_reference_repository(const berth_reference *r)
{
        return concat(r->domain, "/", r->path, NULL, NULL);
}

char *berth_reference_familiar_repository(const berth_reference *r)
{
        const char *p = r->path, *slash;

        if (strcmp(r->domain, BERTH_REFERENCE_DEFAULT_DOMAIN) != 0)
                return concat(r->domain, "/", r->path, NULL, NULL);
        if (strncmp(p, LIBRARY, strlen(LIBRARY)) == 0 && !strchr(p + strlen(LIBRARY), '/'))
                p += strlen(LIBRARY);
        /* "docker.io/a.b/c" shortened to "a.b/c" would read as registry a.b: keep it whole. */
        slash = strchr(p, '/');
        if (slash && is_domain_component(p, slash - p))
                return concat(r->domain, "/", r->path, NULL, NULL);
        return strdup(p);
}

static char *with_suffix(char *repo, const berth_reference *r)
{
        char *s;

        if (!repo)
                return NULL;
        s = concat(repo, r->tag ? ":" : NULL, r->tag, r->digest ? "@" : NULL, r->digest);
        free(repo);
        return s;
}

char *berth_reference_string(const berth_reference *r)
{
        return with_suffix(berth_reference_repository(r), r);
}

char *berth_reference_familiar(const berth_reference *r)
{
        return with_suffix(berth_reference_familiar_repository(r), r);
}
