/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The credentials files docker and podman share (see auth.h). Both tools
 * read each other's: podman reads docker's config.json after its own
 * auth.json, and both write {"auths": {host: {"auth": base64(user:pass)}}}.
 * We only ever touch the one entry we are asked about and re-serialise the
 * rest as it was parsed, so a docker "credsStore", "proxies" or "HttpHeaders"
 * key survives a `berth login`.
 */
#include "image/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/json.h"
#include "image/registry-internal.h"

/* A credentials file is a few KiB; anything this large is not one. */
#define AUTH_FILE_MAX (1u << 20)

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *berth_base64_encode(const void *data, size_t len)
{
        const unsigned char *in = data;
        size_t n = 4 * ((len + 2) / 3);
        char *out = malloc(n + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                size_t left = len - i;

                if (left > 1)
                        v |= (uint32_t)in[i + 1] << 8;
                if (left > 2)
                        v |= in[i + 2];
                *p++ = b64_chars[(v >> 18) & 63];
                *p++ = b64_chars[(v >> 12) & 63];
                *p++ = left > 1 ? b64_chars[(v >> 6) & 63] : '=';
                *p++ = left > 2 ? b64_chars[v & 63] : '=';
        }
        *p = '\0';
        return out;
}

static int b64_value(char c)
{
        const char *p = c ? strchr(b64_chars, c) : NULL;
        return p ? (int)(p - b64_chars) : -1;
}

int berth_base64_decode(const char *s, char **ret, size_t *ret_len)
{
        size_t len = strlen(s), pad = 0, n = 0;
        _cleanup_free_ char *out = NULL;
        uint32_t acc = 0;
        unsigned bits = 0;

        /* Padding is optional, but where present it must be right. */
        while (len > 0 && s[len - 1] == '=' && pad < 2) {
                len--;
                pad++;
        }
        if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
                return -EINVAL;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                int v = b64_value(s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char)((acc >> bits) & 0xff);
                }
        }
        /* Leftover bits of the last character must be zero (canonical form). */
        if (bits && (acc & ((1u << bits) - 1)))
                return -EINVAL;
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

static bool is_docker_hub(const char *host)
{
        return strcasecmp(host, "docker.io") == 0 || strcasecmp(host, "index.docker.io") == 0 ||
               strcasecmp(host, "registry-1.docker.io") == 0;
}

bool berth_auth_key_matches(const char *key, const char *host)
{
        const char *k = key, *end;
        char buf[256];
        size_t n;

        if (strcasecmp(key, host) == 0)
                return true;
        if (strncasecmp(k, "https://", 8) == 0)
                k += 8;
        else if (strncasecmp(k, "http://", 7) == 0)
                k += 7;
        end = strchr(k, '/');
        n = end ? (size_t)(end - k) : strlen(k);
        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, k, n);
        buf[n] = '\0';
        if (strcasecmp(buf, host) == 0)
                return true;
        return is_docker_hub(buf) && is_docker_hub(host);
}

void berth_credentials_release(berth_credentials *c)
{
        if (!c)
                return;
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        free(c->username);
        free(c->password);
        c->username = c->password = NULL;
}

static char *home_dir(void)
{
        const char *home = getenv("HOME");
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (home && *home)
                return strdup(home);
        if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_dir)
                return NULL;
        return strdup(res->pw_dir);
}

static char *explicit_file(const char *authfile)
{
        const char *env = getenv("REGISTRY_AUTH_FILE");

        if (authfile && *authfile)
                return strdup(authfile);
        if (env && *env)
                return strdup(env);
        return NULL;
}

static char *docker_config_file(void)
{
        const char *dir = getenv("DOCKER_CONFIG");
        _cleanup_free_ char *home = NULL;
        char *path = NULL;

        if (dir && *dir)
                return asprintf(&path, "%s/config.json", dir) < 0 ? NULL : path;
        home = home_dir();
        if (!home)
                return NULL;
        return asprintf(&path, "%s/.docker/config.json", home) < 0 ? NULL : path;
}

char *berth_auth_default_file(const char *authfile)
{
        char *path = explicit_file(authfile);
        return path ? path : docker_config_file();
}

/* 1 and *ret when the file exists, 0 when it does not. */
static int load_file(const char *path, json_object **ret, berth_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = berth_read_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &data, &len, err);
        if (r == -ENOENT) {
                berth_error_release(err);
                return 0;
        }
        if (r < 0)
                return r;
        /* docker leaves an empty file behind in some failure paths, and reads it as {}. */
        if (len == 0 || strspn(data, " \t\r\n") == len) {
                *ret = json_object_new_object();
                return *ret ? 1 : berth_error_set(err, ENOMEM, "`%s`: out of memory", path);
        }
        r = berth_json_parse_object(data, len, path, ret, err);
        return r < 0 ? r : 1;
}

/* The "auths" object of doc (borrowed), or NULL when it has none. */
static int get_auths(json_object *doc, const char *path, json_object **ret, berth_error *err)
{
        int r;

        *ret = NULL;
        r = berth_json_get_object(doc, "auths", "", false, ret, err);
        if (r < 0)
                return berth_error_prefix(err, "`%s`", path);
        return 0;
}

/* The key of auths naming host: an exact match first, then an alias. */
static const char *find_key(json_object *auths, const char *host)
{
        const char *alias = NULL;

        json_object_object_foreach (auths, key, val) {
                (void)val;
                if (strcasecmp(key, host) == 0)
                        return key;
                if (!alias && berth_auth_key_matches(key, host))
                        alias = key;
        }
        return alias;
}

static int decode_entry(const char *path, const char *key, json_object *entry,
                        berth_credentials *ret, berth_error *err)
{
        _cleanup_free_ char *auth = NULL, *ident = NULL, *plain = NULL;
        char vpath[BERTH_JSON_PATH_MAX];
        size_t len = 0;
        char *colon;
        int r;

        if (!json_object_is_type(entry, json_type_object)) {
                r = berth_json_type_error(entry,
                                          berth_json_path(vpath, sizeof(vpath), "auths", key),
                                          "an object", err);
                return berth_error_prefix(err, "`%s`", path);
        }
        berth_json_path(vpath, sizeof(vpath), "auths", key);
        r = berth_json_get_string(entry, "auth", vpath, false, &auth, err);
        if (r >= 0)
                r = berth_json_get_string(entry, "identitytoken", vpath, false, &ident, err);
        if (r < 0)
                return berth_error_prefix(err, "`%s`", path);
        if (!auth || !*auth)
                return 0;
        r = berth_base64_decode(auth, &plain, &len);
        if (r == -ENOMEM)
                return berth_error_set(err, ENOMEM, "`%s`: out of memory", path);
        if (r < 0 || strlen(plain) != len)
                return berth_error_set(err, EINVAL, "`%s`: %s.auth: not valid base64", path, vpath);
        colon = strchr(plain, ':');
        if (!colon) {
                explicit_bzero(plain, len);
                return berth_error_set(err, EINVAL,
                                       "`%s`: %s.auth: expected base64 of \"user:password\"", path,
                                       vpath);
        }
        *colon = '\0';
        ret->username = strdup(plain);
        /* docker keeps an identity token beside "<user>:" and sends it as the password. */
        ret->password = strdup(!colon[1] && ident && *ident ? ident : colon + 1);
        explicit_bzero(plain, len);
        if (!ret->username || !ret->password) {
                berth_credentials_release(ret);
                return berth_error_set(err, ENOMEM, "`%s`: out of memory", path);
        }
        return 1;
}

/* The helper that keeps host's credentials according to doc, or NULL. */
static const char *helper_for(json_object *doc, const char *host, bool has_entry,
                              const char **ret_kind)
{
        json_object *helpers = NULL, *store = NULL;

        if (json_object_object_get_ex(doc, "credHelpers", &helpers) &&
            json_object_is_type(helpers, json_type_object)) {
                const char *key = find_key(helpers, host);
                json_object *v = key ? json_object_object_get(helpers, key) : NULL;
                if (v && json_object_is_type(v, json_type_string)) {
                        *ret_kind = "credHelpers";
                        return json_object_get_string(v);
                }
        }
        /* With a credsStore, docker login leaves an empty {} entry for each host it stored. */
        if (has_entry && json_object_object_get_ex(doc, "credsStore", &store) &&
            json_object_is_type(store, json_type_string)) {
                *ret_kind = "credsStore";
                return json_object_get_string(store);
        }
        return NULL;
}

/* 1 found, 0 none in this file, < 0 broken file or helper-only entry. */
static int lookup_in(const char *path, const char *host, berth_credentials *ret, berth_error *err)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        json_object *auths = NULL, *entry = NULL;
        const char *key = NULL, *helper, *kind = NULL;
        int r;

        r = load_file(path, &doc, err);
        if (r <= 0)
                return r;
        r = get_auths(doc, path, &auths, err);
        if (r < 0)
                return r;
        if (auths) {
                key = find_key(auths, host);
                if (key)
                        entry = json_object_object_get(auths, key);
        }
        if (entry) {
                r = decode_entry(path, key, entry, ret, err);
                if (r != 0)
                        return r;
        }
        helper = helper_for(doc, host, entry != NULL, &kind);
        if (helper)
                return berth_error_set(
                        err, ENOTSUP,
                        "`%s`: the credentials for %s are kept by the credential "
                        "helper docker-credential-%s (%s), which berth does not "
                        "run; log in with `berth login %s` to store them in the file",
                        path, host, helper, kind, host);
        return 0;
}

int berth_auth_lookup(const char *authfile, const char *host, berth_credentials *ret,
                      berth_error *err)
{
        _cleanup_free_ char *explicit_path = explicit_file(authfile), *podman = NULL,
                            *docker = NULL;
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        const char *files[3];
        size_t n = 0;

        *ret = (berth_credentials){ 0 };
        if (explicit_path)
                files[n++] = explicit_path;
        if (xdg && *xdg) {
                if (asprintf(&podman, "%s/containers/auth.json", xdg) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                files[n++] = podman;
        }
        docker = docker_config_file();
        if (docker)
                files[n++] = docker;
        for (size_t i = 0; i < n; i++) {
                int r = lookup_in(files[i], host, ret, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* mkdir -p of path's parent directory, 0700 as docker makes ~/.docker. */
static int make_parent(const char *path, berth_error *err)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return berth_error_set(err, ENOMEM, "out of memory");
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        for (char *p = dir + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return berth_error_sys(err, errno, "create `%s`", dir);
                *p = '/';
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "create `%s`", dir);
        return 0;
}

/*
 * Replaces path with data, 0600 whatever the umask or an old file's mode:
 * a fresh temporary file beside it (so concurrent writers cannot share one),
 * fsync'd because this is the user's only copy of the login, then rename(2).
 * A symlinked config.json (dotfile managers do that) is replaced at its target.
 */
static int write_atomic(const char *path, const char *data, size_t len, berth_error *err)
{
        _cleanup_free_ char *real = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const char *target = path;
        struct stat st;
        int r;

        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
                real = realpath(path, NULL);
                if (real)
                        target = real;
        }
        if (asprintf(&tmp, "%s.XXXXXX", target) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "create a temporary file for `%s`", target);
        if (fchmod(fd, 0600) < 0 || berth_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
                r = errno;
                unlink(tmp);
                return berth_error_sys(err, r, "write `%s`", tmp);
        }
        if (rename(tmp, target) < 0) {
                r = errno;
                unlink(tmp);
                return berth_error_sys(err, r, "rename `%s` to `%s`", tmp, target);
        }
        return 0;
}

static int save_file(const char *path, json_object *doc, berth_error *err)
{
        const char *s;
        size_t len = 0;
        int r;

        /* Tabs, as docker writes the file; "/" unescaped so URLs stay readable. */
        s = json_object_to_json_string_length(doc,
                                              JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_PRETTY_TAB |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE,
                                              &len);
        if (!s)
                return berth_error_set(err, ENOMEM, "`%s`: out of memory", path);
        r = make_parent(path, err);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *text = malloc(len + 2);
                if (!text)
                        return berth_error_set(err, ENOMEM, "`%s`: out of memory", path);
                memcpy(text, s, len);
                text[len] = '\n';
                text[len + 1] = '\0';
                return write_atomic(path, text, len + 1, err);
        }
}

static int load_for_update(const char *path, json_object **ret_doc, json_object **ret_auths,
                           berth_error *err)
{
        _cleanup_(json_putp) json_object *doc = NULL;
        json_object *auths = NULL;
        int r;

        r = load_file(path, &doc, err);
        if (r < 0)
                return r;
        if (r == 0) {
                doc = json_object_new_object();
                if (!doc)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        r = get_auths(doc, path, &auths, err);
        if (r < 0)
                return r;
        if (!auths) {
                auths = json_object_new_object();
                if (!auths || json_object_object_add(doc, "auths", auths) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        *ret_doc = TAKE_PTR(doc);
        *ret_auths = auths;
        return 0;
}

static json_object *new_entry(const berth_credentials *c)
{
        _cleanup_free_ char *plain = NULL, *b64 = NULL;
        json_object *entry;

        if (asprintf(&plain, "%s:%s", c->username, c->password) < 0)
                return NULL;
        b64 = berth_base64_encode(plain, strlen(plain));
        explicit_bzero(plain, strlen(plain));
        if (!b64)
                return NULL;
        entry = json_object_new_object();
        if (!entry)
                return NULL;
        if (json_object_object_add(entry, "auth", json_object_new_string(b64)) < 0) {
                json_object_put(entry);
                return NULL;
        }
        explicit_bzero(b64, strlen(b64));
        return entry;
}

int berth_auth_store(const char *authfile, const char *host, const berth_credentials *c,
                     berth_error *err)
{
        _cleanup_free_ char *path = berth_auth_default_file(authfile);
        _cleanup_(json_putp) json_object *doc = NULL;
        json_object *auths = NULL, *entry;
        const char *key;
        int r;

        if (!path)
                return berth_error_set(
                        err, ENOENT, "login %s: no home directory for the credentials file", host);
        if (!c || !c->username || !*c->username || !c->password)
                return berth_error_set(err, EINVAL, "login %s: a username and password are needed",
                                       host);
        if (strchr(c->username, ':'))
                return berth_error_set(err, EINVAL, "login %s: the username may not contain ':'",
                                       host);
        r = load_for_update(path, &doc, &auths, err);
        if (r < 0)
                return r;
        /* docker (and so every tool reading config.json) looks Docker Hub up under its v1 URL. */
        key = is_docker_hub(host) ? BERTH_AUTH_DOCKER_HUB_KEY : host;
        entry = new_entry(c);
        if (!entry || json_object_object_add(auths, key, entry) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        /* An older entry under an alias would keep answering lookups with the old password. */
        json_object_object_foreach (auths, k, v) {
                (void)v;
                if (strcmp(k, key) != 0 && berth_auth_key_matches(k, host)) {
                        json_object *copy = new_entry(c);
                        if (!copy || json_object_object_add(auths, k, copy) < 0)
                                return berth_error_set(err, ENOMEM, "out of memory");
                }
        }
        return save_file(path, doc, err);
}

int berth_auth_remove(const char *authfile, const char *host, berth_error *err)
{
        _cleanup_free_ char *path = berth_auth_default_file(authfile);
        _cleanup_(json_putp) json_object *doc = NULL;
        json_object *auths = NULL;
        const char *key;
        bool found = false;
        int r;

        if (!path)
                return berth_error_set(err, ENOENT, "logout %s: not logged in", host);
        r = load_file(path, &doc, err);
        if (r < 0)
                return r;
        if (r > 0) {
                r = get_auths(doc, path, &auths, err);
                if (r < 0)
                        return r;
        }
        /* Deleting while iterating json-c's table is not allowed: one key at a time. */
        while (auths && (key = find_key(auths, host))) {
                json_object_object_del(auths, key);
                found = true;
        }
        if (!found)
                return berth_error_set(err, ENOENT, "logout %s: not logged in (no entry in `%s`)",
                                       host, path);
        return save_file(path, doc, err);
}
