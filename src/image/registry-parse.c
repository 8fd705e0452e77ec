/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry client's parsers of what a registry or token service says:
 * WWW-Authenticate challenges (RFC 7235), Link headers (RFC 8288), token
 * replies, error bodies, Content-Range; and the insecure-host rule. Pure
 * functions, unit-tested through registry-internal.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "image/registry-internal.h"

/* The token spec's default lifetime, and the least a client assumes. */
#define TOKEN_DEFAULT_TTL 60

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static bool is_tchar(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ws(const char **p)
{
        while (**p == ' ' || **p == '\t')
                (*p)++;
}

/* A token at *p, malloc'd; "" when there is none. */
static char *read_token(const char **p)
{
        const char *s = *p;

        while (is_tchar(**p))
                (*p)++;
        return strndup(s, (size_t)(*p - s));
}

/* A quoted-string at *p (which points at the opening quote), unescaped. */
static int read_quoted(const char **p, char **ret)
{
        const char *s = *p + 1;
        _cleanup_free_ char *out = malloc(strlen(s) + 1);
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        for (; *s && *s != '"'; s++) {
                if (*s == '\\') {
                        s++;
                        if (!*s)
                                break;
                }
                out[n++] = *s;
        }
        if (*s != '"')
                return -EINVAL;
        out[n] = '\0';
        *p = s + 1;
        *ret = TAKE_PTR(out);
        return 0;
}

/* A parameter value: quoted-string or token. */
static int read_value(const char **p, char **ret)
{
        if (**p == '"')
                return read_quoted(p, ret);
        *ret = read_token(p);
        return *ret ? 0 : -ENOMEM;
}

void berth_challenge_release(berth_challenge *c)
{
        if (!c)
                return;
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        *c = (berth_challenge){ 0 };
}

static void set_param(berth_challenge *c, const char *name, char **value)
{
        char **slot = NULL;

        if (strcasecmp(name, "realm") == 0)
                slot = &c->realm;
        else if (strcasecmp(name, "service") == 0)
                slot = &c->service;
        else if (strcasecmp(name, "scope") == 0)
                slot = &c->scope;
        else if (strcasecmp(name, "error") == 0)
                slot = &c->error;
        if (slot && !*slot)
                *slot = TAKE_PTR(*value);
}

/*
 * One challenge's auth-params, up to the next challenge or the end. A name
 * not followed by '=' starts the next challenge; "name==" and the like are
 * token68 data (which registries do not send), skipped.
 */
static int parse_params(const char **p, berth_challenge *c)
{
        for (;;) {
                _cleanup_free_ char *name = NULL, *value = NULL;
                const char *save;
                int r;

                while (**p == ' ' || **p == '\t' || **p == ',')
                        (*p)++;
                if (!**p)
                        return 0;
                save = *p;
                name = read_token(p);
                if (!name)
                        return -ENOMEM;
                skip_ws(p);
                if (!*name || **p != '=') {
                        if (!*name)
                                return -EINVAL;
                        *p = save;
                        return 0;
                }
                (*p)++;
                skip_ws(p);
                if (**p == '=' || **p == ',' || !**p) {
                        while (**p == '=')
                                (*p)++;
                        continue;
                }
                r = read_value(p, &value);
                if (r < 0)
                        return r;
                set_param(c, name, &value);
                skip_ws(p);
                if (**p && **p != ',')
                        return -EINVAL;
        }
}

int berth_challenge_parse(const char *header, berth_challenge *ret, berth_error *err)
{
        berth_challenge best = { 0 };
        const char *p = header;
        int r;

        *ret = (berth_challenge){ 0 };
        for (;;) {
                _cleanup_free_ char *scheme = NULL;
                berth_challenge c = { 0 };

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        break;
                scheme = read_token(&p);
                if (!scheme) {
                        berth_challenge_release(&best);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
                if (!*scheme || (*p && *p != ' ' && *p != '\t' && *p != ',')) {
                        berth_challenge_release(&best);
                        return berth_error_set(err, EINVAL, "malformed WWW-Authenticate: %s",
                                               header);
                }
                if (strcasecmp(scheme, "Bearer") == 0)
                        c.scheme = BERTH_AUTH_SCHEME_BEARER;
                else if (strcasecmp(scheme, "Basic") == 0)
                        c.scheme = BERTH_AUTH_SCHEME_BASIC;
                r = parse_params(&p, &c);
                if (r < 0) {
                        berth_challenge_release(&c);
                        berth_challenge_release(&best);
                        if (r == -ENOMEM)
                                return berth_error_set(err, ENOMEM, "out of memory");
                        return berth_error_set(err, EINVAL, "malformed WWW-Authenticate: %s",
                                               header);
                }
                if (c.scheme > best.scheme) {
                        berth_challenge_release(&best);
                        best = c;
                } else {
                        berth_challenge_release(&c);
                }
        }
        if (best.scheme == BERTH_AUTH_SCHEME_NONE)
                return berth_error_set(err, ENOTSUP,
                                       "the registry asks for an authentication scheme berth does "
                                       "not support: %s",
                                       header);
        if (best.scheme == BERTH_AUTH_SCHEME_BEARER && (!best.realm || !*best.realm)) {
                berth_challenge_release(&best);
                return berth_error_set(err, EINVAL, "WWW-Authenticate: Bearer without a realm: %s",
                                       header);
        }
        *ret = best;
        return 0;
}

/* Whether a rel value (a space-separated list of relation types) holds "next". */
static bool rel_has_next(const char *v)
{
        for (const char *s = v; *s;) {
                size_t n = strcspn(s, " \t");
                if (n == 4 && strncasecmp(s, "next", 4) == 0)
                        return true;
                s += n;
                s += strspn(s, " \t");
        }
        return false;
}

int berth_link_next(const char *header, char **ret)
{
        const char *p = header;

        *ret = NULL;
        for (;;) {
                _cleanup_free_ char *target = NULL;
                const char *end;
                bool next = false;

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        return 0;
                if (*p != '<')
                        return -EINVAL;
                end = strchr(p + 1, '>');
                if (!end)
                        return -EINVAL;
                target = strndup(p + 1, (size_t)(end - p - 1));
                if (!target)
                        return -ENOMEM;
                p = end + 1;
                for (;;) {
                        _cleanup_free_ char *name = NULL, *value = NULL;
                        int r;

                        skip_ws(&p);
                        if (*p != ';')
                                break;
                        p++;
                        skip_ws(&p);
                        name = read_token(&p);
                        if (!name)
                                return -ENOMEM;
                        if (!*name)
                                return -EINVAL;
                        skip_ws(&p);
                        if (*p != '=')
                                continue;
                        p++;
                        skip_ws(&p);
                        r = read_value(&p, &value);
                        if (r < 0)
                                return r;
                        if (strcasecmp(name, "rel") == 0 && rel_has_next(value))
                                next = true;
                }
                if (*p && *p != ',')
                        return -EINVAL;
                if (next && *target) {
                        *ret = TAKE_PTR(target);
                        return 1;
                }
        }
}

/* The host part of "host", "host:port", "[v6]:port" or a bare IPv6 address. */
static bool host_name(const char *host, char *buf, size_t size)
{
        const char *colon = strchr(host, ':');
        size_t n;

        if (host[0] == '[') {
                const char *close = strchr(host, ']');
                if (!close)
                        return false;
                host++;
                n = (size_t)(close - host);
        } else if (colon && !strchr(colon + 1, ':')) {
                n = (size_t)(colon - host);
        } else {
                n = strlen(host);
        }
        if (n == 0 || n >= size)
                return false;
        memcpy(buf, host, n);
        buf[n] = '\0';
        return true;
}

bool berth_registry_host_is_loopback(const char *host)
{
        struct in6_addr a6;
        struct in_addr a4;
        char name[256];

        if (!host_name(host, name, sizeof(name)))
                return false;
        if (strcasecmp(name, "localhost") == 0)
                return true;
        if (inet_pton(AF_INET, name, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        if (inet_pton(AF_INET6, name, &a6) == 1)
                return IN6_IS_ADDR_LOOPBACK(&a6) ||
                       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
        return false;
}

bool berth_registry_host_is_insecure(const char *host, char *const *insecure, bool tls_verify_off)
{
        if (tls_verify_off || berth_registry_host_is_loopback(host))
                return true;
        for (char *const *p = insecure; p && *p; p++)
                if (strcasecmp(*p, host) == 0)
                        return true;
        return false;
}

int berth_token_reply_parse(const char *data, size_t len, char **ret_token, int64_t *ret_expires_in,
                            berth_error *err)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        _cleanup_free_ char *token = NULL, *access = NULL;
        int64_t expires = 0;
        int r;

        r = berth_json_parse_object(data, len, "token reply", &doc, err);
        if (r < 0)
                return r;
        r = berth_json_get_string(doc, "token", "", false, &token, err);
        if (r >= 0)
                r = berth_json_get_string(doc, "access_token", "", false, &access, err);
        if (r >= 0)
                r = berth_json_get_int64(doc, "expires_in", "", false, &expires, err);
        if (r < 0)
                return berth_error_prefix(err, "token reply");
        if (!token || !*token) {
                free(token);
                token = TAKE_PTR(access);
        }
        if (!token || !*token)
                return berth_error_set(
                        err, EINVAL, "token reply: neither \"token\" nor \"access_token\" is set");
        /* The token spec: absent means 60 s, and clients treat less as 60 s too. */
        *ret_expires_in = expires < TOKEN_DEFAULT_TTL ? TOKEN_DEFAULT_TTL : expires;
        *ret_token = TAKE_PTR(token);
        return 0;
}

/* "MANIFEST_UNKNOWN" -> "manifest unknown", as docker prints error codes. */
static void code_words(const char *code, char *buf, size_t size)
{
        size_t i = 0;

        for (; code[i] && i + 1 < size; i++)
                buf[i] = code[i] == '_' ? ' ' : (char)tolower((unsigned char)code[i]);
        buf[i] = '\0';
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

static char *errors_array_text(json_object *errors)
{
        char *out = NULL;
        size_t n = json_object_array_length(errors);

        for (size_t i = 0; i < n && i < 8; i++) {
                json_object *e = json_object_array_get_idx(errors, i), *code = NULL, *msg = NULL;
                const char *c = NULL, *m = NULL;
                _cleanup_free_ char *one = NULL;
                char words[128];

                if (!json_object_is_type(e, json_type_object))
                        continue;
                if (json_object_object_get_ex(e, "code", &code) &&
                    json_object_is_type(code, json_type_string))
                        c = json_object_get_string(code);
                if (json_object_object_get_ex(e, "message", &msg) &&
                    json_object_is_type(msg, json_type_string))
                        m = json_object_get_string(msg);
                if (c && *c) {
                        code_words(c, words, sizeof(words));
                        c = words;
                }
                if (c && *c && m && *m && strcasecmp(c, m) != 0) {
                        if (asprintf(&one, "%s: %s", c, m) < 0)
                                one = NULL;
                } else {
                        one = strdup(m && *m ? m : c ? c : "");
                }
                if (!one || !*one || append(&out, "; ", one) < 0)
                        continue;
        }
        return out;
}

char *berth_registry_error_text(const char *body, size_t len)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        berth_error ignored = BERTH_ERROR_INIT;
        json_object *v = NULL;
        static const char *const keys[] = { "details", "error_description", "message", "error" };

        if (!body || len == 0)
                return NULL;
        if (berth_json_parse_object(body, len, "error", &doc, &ignored) < 0) {
                berth_error_release(&ignored);
                return NULL;
        }
        if (json_object_object_get_ex(doc, "errors", &v) &&
            json_object_is_type(v, json_type_array)) {
                char *s = errors_array_text(v);
                if (s)
                        return s;
        }
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (json_object_object_get_ex(doc, keys[i], &v) &&
                    json_object_is_type(v, json_type_string) && *json_object_get_string(v))
                        return strdup(json_object_get_string(v));
        return NULL;
}

int berth_content_range_start(const char *value, uint64_t *ret)
{
        _cleanup_free_ char *first = NULL, *last = NULL;
        const char *p = value, *dash, *slash;
        uint64_t a, b;

        if (strncasecmp(p, "bytes", 5) != 0)
                return -EINVAL;
        p += 5;
        if (*p != ' ' && *p != '=')
                return -EINVAL;
        p++;
        skip_ws(&p);
        dash = strchr(p, '-');
        slash = dash ? strchr(dash, '/') : NULL;
        if (!dash || !slash)
                return -EINVAL;
        first = strndup(p, (size_t)(dash - p));
        last = strndup(dash + 1, (size_t)(slash - dash - 1));
        if (!first || !last)
                return -ENOMEM;
        if (berth_parse_u64(first, &a) < 0 || berth_parse_u64(last, &b) < 0 || b < a)
                return -EINVAL;
        *ret = a;
        return 0;
}
