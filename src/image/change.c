/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `--change` instructions (change.h). The word rules are those of a
 * Dockerfile: words split on blanks outside quotes, then each word has its
 * quotes removed, its backslash escapes applied and its variables expanded.
 */
#include "image/change.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/cleanup.h"
#include "basic/strv.h"
#include "basic/fd.h"
#include "basic/json.h"

/* ---- a growable string ---- */

struct sbuf {
        char *p;
        size_t len, cap;
        bool oom;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 64;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *p = realloc(b->p, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
        sb_putn(b, &c, 1);
}

/* The string (never NULL unless out of memory); the buffer is emptied. */
static char *sb_take(struct sbuf *b)
{
        if (b->oom) {
                free(b->p);
                *b = (struct sbuf){ 0 };
                return NULL;
        }
        char *p = b->p ? b->p : strdup("");
        *b = (struct sbuf){ 0 };
        return p;
}

/* ---- string vectors ---- */

static bool strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/* An empty NULL-terminated vector: a member that is set but has no entries (CMD []). */
static char **strv_empty(void)
{
        return calloc(1, sizeof(char *));
}

/* ---- environment ---- */

static const char *env_lookup(char *const *env, const char *name, size_t len)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i] + len + 1;
        return NULL;
}

static int env_set(char ***env, const char *key, const char *value)
{
        size_t klen = strlen(key);
        char *kv = NULL;

        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; *env && (*env)[i]; i++)
                if (strncmp((*env)[i], key, klen) == 0 && (*env)[i][klen] == '=') {
                        free((*env)[i]);
                        (*env)[i] = kv;
                        return 0;
                }
        return berth_strv_consume(env, kv);
}

/* ---- words ---- */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

/*
 * Splits s into words on blanks outside quotes, keeping quotes and
 * backslashes in the words (they are processed per word later), as the
 * Dockerfile parser's parseWords does.
 */
static int split_words(const char *s, char ***ret)
{
        _cleanup_strv_ char **v = strv_empty();
        struct sbuf w = { 0 };
        char quote = 0;
        bool in_word = false;

        if (!v)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                if (!quote && is_blank(*p)) {
                        if (in_word && berth_strv_consume(&v, sb_take(&w)) < 0)
                                return -ENOMEM;
                        in_word = false;
                        continue;
                }
                in_word = true;
                if (*p == '\\' && p[1] && quote != '\'') {
                        sb_putn(&w, p, 2);
                        p++;
                        continue;
                }
                if (!quote && (*p == '"' || *p == '\''))
                        quote = *p;
                else if (quote == *p)
                        quote = 0;
                sb_putc(&w, *p);
        }
        if (in_word && berth_strv_consume(&v, sb_take(&w)) < 0)
                return -ENOMEM;
        free(w.p);
        *ret = TAKE_PTR(v);
        return 0;
}

static int process_word(const char *s, char *const *env, char **ret, berth_error *err);

/* ${NAME...} starting at p (after "${"); appends the expansion, returns the char after '}'. */
static const char *expand_braced(const char *p, char *const *env, struct sbuf *out,
                                 berth_error *err, int *r)
{
        const char *name = p, *word, *end;
        const char *val;
        size_t len;
        char op[3] = "";
        int depth = 1;

        while (is_name_char(*p))
                p++;
        len = (size_t)(p - name);
        if (len == 0) {
                *r = berth_error_set(err, EINVAL, "bad substitution: missing variable name");
                return NULL;
        }
        if (*p == ':' && (p[1] == '-' || p[1] == '+')) {
                op[0] = ':', op[1] = p[1];
                p += 2;
        } else if (*p == '-' || *p == '+') {
                op[0] = *p;
                p++;
        } else if (*p && *p != '}') {
                *r = berth_error_set(err, EINVAL,
                                     "bad substitution: unsupported operator in ${%.*s", (int)len,
                                     name);
                return NULL;
        }
        word = p;
        for (end = p; *end; end++) {
                if (*end == '\\' && end[1]) {
                        end++;
                        continue;
                }
                if (*end == '{')
                        depth++;
                else if (*end == '}' && --depth == 0)
                        break;
        }
        if (*end != '}') {
                *r = berth_error_set(err, EINVAL, "bad substitution: missing '}' after ${%.*s",
                                     (int)len, name);
                return NULL;
        }
        val = env_lookup(env, name, len);
        if (op[0]) {
                bool colon = op[0] == ':';
                char kind = colon ? op[1] : op[0];
                bool set = val && (!colon || *val);
                if ((kind == '-' && !set) || (kind == '+' && set)) {
                        _cleanup_free_ char *raw = strndup(word, (size_t)(end - word)), *w = NULL;
                        if (!raw) {
                                *r = berth_error_set(err, ENOMEM, "out of memory");
                                return NULL;
                        }
                        *r = process_word(raw, env, &w, err);
                        if (*r < 0)
                                return NULL;
                        sb_putn(out, w, strlen(w));
                } else if (kind == '-' && val) {
                        sb_putn(out, val, strlen(val));
                }
        } else if (val) {
                sb_putn(out, val, strlen(val));
        }
        *r = 0;
        return end + 1;
}

/* Appends the expansion of the variable reference at p (just after '$'); returns the rest. */
static const char *expand_var(const char *p, char *const *env, struct sbuf *out, berth_error *err,
                              int *r)
{
        const char *name = p, *val;

        *r = 0;
        if (*p == '{')
                return expand_braced(p + 1, env, out, err, r);
        while (is_name_char(*p))
                p++;
        if (p == name) {
                sb_putc(out, '$'); /* a lone '$' stays */
                return p;
        }
        val = env_lookup(env, name, (size_t)(p - name));
        if (val)
                sb_putn(out, val, strlen(val));
        return p;
}

/*
 * One word as the Dockerfile shell lexer reads it: quotes removed,
 * backslash escapes applied ('\' keeps the next character; inside double
 * quotes only before '"', '\' and '$'), $VAR and ${VAR...} expanded from
 * env (NULL: empty) outside single quotes.
 */
static int process_word(const char *s, char *const *env, char **ret, berth_error *err)
{
        struct sbuf out = { 0 };
        char quote = 0;
        const char *p = s;
        int r;

        while (*p) {
                char c = *p;
                if (quote == '\'') {
                        if (c == '\'')
                                quote = 0;
                        else
                                sb_putc(&out, c);
                        p++;
                } else if (c == '\\') {
                        if (!p[1]) {
                                sb_putc(&out, c);
                                p++;
                        } else if (quote == '"' && !strchr("\"\\$", p[1])) {
                                sb_putc(&out, c);
                                p++;
                        } else {
                                sb_putc(&out, p[1]);
                                p += 2;
                        }
                } else if (c == '$') {
                        p = expand_var(p + 1, env, &out, err, &r);
                        if (!p) {
                                free(out.p);
                                return r;
                        }
                } else if (c == '"' || (c == '\'' && !quote)) {
                        quote = quote == c ? 0 : c;
                        p++;
                } else {
                        sb_putc(&out, c);
                        p++;
                }
        }
        if (quote) {
                free(out.p);
                return berth_error_set(err, EINVAL,
                                       "unexpected end of statement while looking "
                                       "for matching %c",
                                       quote);
        }
        *ret = sb_take(&out);
        return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- argument forms ---- */

/* The exec form: a JSON array of strings. 1 with *ret set, 0 when args is not one. */
static int parse_exec_form(const char *args, char ***ret)
{
        _cleanup_strv_ char **v = NULL;
        json_object *o = NULL;
        berth_error e = BERTH_ERROR_INIT;
        size_t n;

        if (*args != '[')
                return 0;
        if (berth_json_parse(args, strlen(args), "exec form", &o, &e) < 0) {
                berth_error_release(&e);
                return 0;
        }
        if (!json_object_is_type(o, json_type_array)) {
                json_object_put(o);
                return 0;
        }
        n = json_object_array_length(o);
        v = calloc(n + 1, sizeof(char *));
        if (!v) {
                json_object_put(o);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *el = json_object_array_get_idx(o, i);
                if (!json_object_is_type(el, json_type_string)) {
                        json_object_put(o);
                        return 0; /* not all strings: the shell form, as docker reads it */
                }
                v[i] = strdup(json_object_get_string(el));
                if (!v[i]) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        json_object_put(o);
        *ret = TAKE_PTR(v);
        return 1;
}

/* CMD/ENTRYPOINT: the exec form, else ["/bin/sh", "-c", args]. */
static int command_form(const char *args, char ***ret, berth_error *err)
{
        int r = parse_exec_form(args, ret);

        if (r < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (r > 0)
                return 0;
        if (!*args)
                return berth_error_set(err, EINVAL, "requires at least one argument");
        char **v = calloc(4, sizeof(char *));
        if (!v)
                return berth_error_set(err, ENOMEM, "out of memory");
        v[0] = strdup("/bin/sh");
        v[1] = strdup("-c");
        v[2] = strdup(args);
        if (!v[0] || !v[1] || !v[2]) {
                strv_free(v);
                return berth_error_set(err, ENOMEM, "out of memory");
        }
        *ret = v;
        return 0;
}

/*
 * ENV and LABEL arguments as (key, value) pairs, processed: the key=value
 * form when the first word has '=', else the legacy "key value..." form.
 */
static int name_values(const char *args, char *const *env, char ***ret_kv, berth_error *err)
{
        _cleanup_strv_ char **words = NULL, **kv = strv_empty();
        int r;

        if (!kv || split_words(args, &words) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (!words[0])
                return berth_error_set(err, EINVAL, "requires at least one argument");
        if (!strchr(words[0], '=')) {
                /* Legacy: the first word is the key, everything after it the value. */
                const char *rest = args;
                _cleanup_free_ char *key = NULL, *value = NULL;

                while (*rest && !is_blank(*rest))
                        rest++;
                while (is_blank(*rest))
                        rest++;
                if (!*rest)
                        return berth_error_set(err, EINVAL, "must have two arguments");
                r = process_word(words[0], env, &key, err);
                if (r < 0)
                        return r;
                r = process_word(rest, env, &value, err);
                if (r < 0)
                        return r;
                if (berth_strv_consume(&kv, TAKE_PTR(key)) < 0 ||
                    berth_strv_consume(&kv, TAKE_PTR(value)) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                *ret_kv = TAKE_PTR(kv);
                return 0;
        }
        for (size_t i = 0; words[i]; i++) {
                char *eq = strchr(words[i], '=');
                _cleanup_free_ char *key = NULL, *value = NULL;

                if (!eq)
                        return berth_error_set(err, EINVAL,
                                               "key-value pairs must be of the form key=value "
                                               "(got `%s`)",
                                               words[i]);
                *eq = '\0';
                r = process_word(words[i], env, &key, err);
                if (r < 0)
                        return r;
                if (!*key)
                        return berth_error_set(err, EINVAL, "names can not be blank");
                r = process_word(eq + 1, env, &value, err);
                if (r < 0)
                        return r;
                if (berth_strv_consume(&kv, TAKE_PTR(key)) < 0 ||
                    berth_strv_consume(&kv, TAKE_PTR(value)) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        *ret_kv = TAKE_PTR(kv);
        return 0;
}

/* Blank-separated words, each processed (EXPOSE, VOLUME's shell form). */
static int processed_words(const char *args, char *const *env, char ***ret, berth_error *err)
{
        _cleanup_strv_ char **words = NULL, **v = strv_empty();
        int r;

        if (!v || split_words(args, &words) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; words[i]; i++) {
                char *w = NULL;
                r = process_word(words[i], env, &w, err);
                if (r < 0)
                        return r;
                if (berth_strv_consume(&v, w) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* ---- instructions ---- */

static int do_env(berth_container_config *c, const char *args, berth_error *err)
{
        _cleanup_strv_ char **kv = NULL;
        int r = name_values(args, c->env, &kv, err);

        if (r < 0)
                return r;
        for (size_t i = 0; kv[i]; i += 2)
                if (env_set(&c->env, kv[i], kv[i + 1]) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

static int do_label(berth_container_config *c, const char *args, berth_error *err)
{
        _cleanup_strv_ char **kv = NULL;
        int r = name_values(args, c->env, &kv, err);

        if (r < 0)
                return r;
        if (!c->labels && !(c->labels = json_object_new_object()))
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; kv[i]; i += 2) {
                json_object *v = json_object_new_string(kv[i + 1]);
                if (!v || json_object_object_add(c->labels, kv[i], v) < 0) {
                        json_object_put(v);
                        return berth_error_set(err, ENOMEM, "out of memory");
                }
        }
        return 0;
}

static int parse_port(const char *s, size_t len, unsigned *ret)
{
        char buf[8];
        uint32_t v;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (berth_parse_u32(buf, &v) < 0 || v > 65535)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "80", "80/udp", "8000-8002/tcp" into keys "80/tcp" ... */
static int expose_one(berth_container_config *c, const char *spec, berth_error *err)
{
        const char *slash = strchr(spec, '/'), *dash;
        size_t plen = slash ? (size_t)(slash - spec) : strlen(spec);
        char proto[8] = "tcp";
        unsigned lo, hi;

        if (slash) {
                size_t n = strlen(slash + 1);
                if (n == 0 || n >= sizeof(proto))
                        return berth_error_set(err, EINVAL, "invalid proto: `%s`", slash + 1);
                for (size_t i = 0; i <= n; i++)
                        proto[i] = (char)tolower((unsigned char)slash[1 + i]);
                if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
                    strcmp(proto, "sctp") != 0)
                        return berth_error_set(err, EINVAL, "invalid proto: `%s`", slash + 1);
        }
        dash = memchr(spec, '-', plen);
        if (dash) {
                if (parse_port(spec, (size_t)(dash - spec), &lo) < 0 ||
                    parse_port(dash + 1, plen - (size_t)(dash - spec) - 1, &hi) < 0 || hi < lo)
                        return berth_error_set(err, EINVAL, "invalid range: `%.*s`", (int)plen,
                                               spec);
        } else {
                if (parse_port(spec, plen, &lo) < 0)
                        return berth_error_set(err, EINVAL, "invalid port: `%.*s`", (int)plen,
                                               spec);
                hi = lo;
        }
        for (unsigned p = lo; p <= hi; p++) {
                char *key = NULL;
                if (asprintf(&key, "%u/%s", p, proto) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
                if (strv_contains(c->exposed_ports, key)) {
                        free(key);
                        continue;
                }
                if (berth_strv_consume(&c->exposed_ports, key) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int do_expose(berth_container_config *c, const char *args, berth_error *err)
{
        _cleanup_strv_ char **ports = NULL;
        int r = processed_words(args, c->env, &ports, err);

        if (r < 0)
                return r;
        if (!ports[0])
                return berth_error_set(err, EINVAL, "requires at least one argument");
        for (size_t i = 0; ports[i]; i++) {
                r = expose_one(c, ports[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int do_volume(berth_container_config *c, const char *args, berth_error *err)
{
        _cleanup_strv_ char **v = NULL;
        int r = parse_exec_form(args, &v);

        if (r < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        if (r == 0) {
                r = processed_words(args, c->env, &v, err);
                if (r < 0)
                        return r;
        }
        if (!v[0])
                return berth_error_set(err, EINVAL, "requires at least one argument");
        for (size_t i = 0; v[i]; i++) {
                if (!*v[i])
                        return berth_error_set(err, EINVAL,
                                               "VOLUME specified can not be an empty string");
                if (strv_contains(c->volumes, v[i]))
                        continue;
                char *d = strdup(v[i]);
                if (berth_strv_consume(&c->volumes, d) < 0)
                        return berth_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

/* Lexically cleans an absolute path: "//a/./b/../c/" -> "/a/c". */
static char *clean_path(const char *path)
{
        struct sbuf out = { 0 };
        const char *p = path;

        while (*p) {
                const char *seg;
                size_t n;

                while (*p == '/')
                        p++;
                seg = p;
                while (*p && *p != '/')
                        p++;
                n = (size_t)(p - seg);
                if (n == 0 || (n == 1 && seg[0] == '.'))
                        continue;
                if (n == 2 && seg[0] == '.' && seg[1] == '.') {
                        while (out.len > 0 && out.p[out.len - 1] != '/')
                                out.len--;
                        if (out.len > 0)
                                out.len--;
                        if (out.p)
                                out.p[out.len] = '\0';
                        continue;
                }
                sb_putc(&out, '/');
                sb_putn(&out, seg, n);
        }
        if (out.len == 0)
                sb_putc(&out, '/');
        return sb_take(&out);
}

static int do_workdir(berth_container_config *c, const char *args, berth_error *err)
{
        _cleanup_free_ char *w = NULL, *joined = NULL;
        int r = process_word(args, c->env, &w, err);

        if (r < 0)
                return r;
        if (!*w)
                return berth_error_set(err, EINVAL, "requires exactly one argument");
        if (w[0] == '/')
                joined = strdup(w);
        else if (asprintf(&joined, "%s/%s", c->working_dir ? c->working_dir : "/", w) < 0)
                joined = NULL;
        if (!joined)
                return berth_error_set(err, ENOMEM, "out of memory");
        free(c->working_dir);
        c->working_dir = clean_path(joined);
        return c->working_dir ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

static int do_user(berth_container_config *c, const char *args, berth_error *err)
{
        char *u = NULL;
        int r = process_word(args, c->env, &u, err);

        if (r < 0)
                return r;
        if (!*u) {
                free(u);
                return berth_error_set(err, EINVAL, "requires exactly one argument");
        }
        free(c->user);
        c->user = u;
        return 0;
}

static const char *const signal_names[] = {
        "HUP",   "INT",  "QUIT", "ILL",  "TRAP", "ABRT", "BUS",    "FPE",    "KILL",
        "USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",   "CONT",
        "STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU", "XFSZ",   "VTALRM", "PROF",
        "WINCH", "IO",   "POLL", "PWR",  "SYS",  "IOT",  "CLD",
};

/* Docker's signal.ParseSignal: a number, or a name with or without "SIG". */
static bool valid_signal(const char *s)
{
        uint32_t n;

        if (berth_parse_u32(s, &n) == 0)
                return n >= 1 && n <= 64;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
                if (strcasecmp(s, signal_names[i]) == 0)
                        return true;
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                /* RTMIN+n counts up from SIGRTMIN, RTMAX-n down from SIGRTMAX. */
                char sign = toupper((unsigned char)s[4]) == 'N' ? '+' : '-';
                if (!s[5])
                        return true;
                return s[5] == sign && berth_parse_u32(s + 6, &n) == 0 && n >= 1 && n <= 30;
        }
        return false;
}

static int do_stopsignal(berth_container_config *c, const char *args, berth_error *err)
{
        char *sig = NULL;
        int r = process_word(args, c->env, &sig, err);

        if (r < 0)
                return r;
        if (!valid_signal(sig)) {
                r = berth_error_set(err, EINVAL, "invalid signal: `%s`", sig);
                free(sig);
                return r;
        }
        free(c->stop_signal);
        c->stop_signal = sig;
        return 0;
}

static int do_onbuild(berth_container_config *c, const char *args, berth_error *err)
{
        size_t n = 0;
        char *trigger = NULL;

        while (args[n] && !is_blank(args[n]))
                n++;
        if (n == 0)
                return berth_error_set(err, EINVAL, "requires at least one argument");
        if ((n == 7 && strncasecmp(args, "ONBUILD", 7) == 0))
                return berth_error_set(err, EINVAL,
                                       "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if ((n == 4 && strncasecmp(args, "FROM", 4) == 0) ||
            (n == 10 && strncasecmp(args, "MAINTAINER", 10) == 0))
                return berth_error_set(err, EINVAL, "%.*s isn't allowed as an ONBUILD trigger",
                                       (int)n, args);
        trigger = strdup(args);
        if (!trigger)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                trigger[i] = (char)toupper((unsigned char)trigger[i]);
        if (berth_strv_consume(&c->on_build, trigger) < 0)
                return berth_error_set(err, ENOMEM, "out of memory");
        return 0;
}

int berth_config_apply_change(berth_container_config *c, const char *instruction, bool *cmd_set,
                              berth_error *err)
{
        const char *p = instruction, *args;
        size_t n;
        int r;

        while (is_blank(*p))
                p++;
        args = p;
        while (*args && !is_blank(*args))
                args++;
        n = (size_t)(args - p);
        while (is_blank(*args))
                args++;
        _cleanup_free_ char *trimmed = strdup(args);
        if (!trimmed)
                return berth_error_set(err, ENOMEM, "out of memory");
        for (size_t len = strlen(trimmed); len > 0 && is_blank(trimmed[len - 1]); len--)
                trimmed[len - 1] = '\0';

#define IS(name) (n == sizeof(name) - 1 && strncasecmp(p, name, n) == 0)
        if (IS("CMD")) {
                char **v = NULL;
                r = command_form(trimmed, &v, err);
                if (r >= 0) {
                        strv_free(c->cmd);
                        c->cmd = v;
                        *cmd_set = true;
                }
        } else if (IS("ENTRYPOINT")) {
                char **v = NULL;
                r = command_form(trimmed, &v, err);
                if (r >= 0) {
                        strv_free(c->entrypoint);
                        c->entrypoint = v;
                        if (!*cmd_set) {
                                strv_free(c->cmd);
                                c->cmd = NULL;
                        }
                }
        } else if (IS("ENV"))
                r = do_env(c, trimmed, err);
        else if (IS("LABEL"))
                r = do_label(c, trimmed, err);
        else if (IS("EXPOSE"))
                r = do_expose(c, trimmed, err);
        else if (IS("VOLUME"))
                r = do_volume(c, trimmed, err);
        else if (IS("WORKDIR"))
                r = do_workdir(c, trimmed, err);
        else if (IS("USER"))
                r = do_user(c, trimmed, err);
        else if (IS("STOPSIGNAL"))
                r = do_stopsignal(c, trimmed, err);
        else if (IS("ONBUILD"))
                r = do_onbuild(c, trimmed, err);
        else if (n == 0)
                r = berth_error_set(err, EINVAL, "empty instruction");
        else
                r = berth_error_set(err, EINVAL, "%.*s is not a valid change command", (int)n, p);
#undef IS
        if (r < 0)
                return berth_error_prefix(err, "change `%s`", instruction);
        return 0;
}

int berth_config_apply_changes(berth_container_config *c, char *const *changes, berth_error *err)
{
        bool cmd_set = false;

        for (size_t i = 0; changes && changes[i]; i++) {
                int r = berth_config_apply_change(c, changes[i], &cmd_set, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
