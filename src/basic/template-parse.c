/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Template text to tree, following the grammar of Go's text/template/parse
 * (actions, trim markers, comments, pipelines, if/else if/range/with/break/
 * continue, variables) so that a format written for docker parses the same
 * way here, and fails with the same message when it does not.
 *
 * The whole text (at most 64 KiB) is cut into tokens first; the parser then
 * walks the token array, which makes Go's look-ahead and backing up plain
 * index arithmetic.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "template-internal.h"
#include "utf8.h"

enum tok_type {
        TOK_EOF,
        TOK_ERROR, /* where the lexer failed: the parser reports the lexer's message */
        TOK_TEXT,
        TOK_LEFT,  /* {{ or {{- */
        TOK_RIGHT, /* }} or -}} */
        TOK_SPACE,
        TOK_PIPE,
        TOK_LPAREN,
        TOK_RPAREN,
        TOK_CHAR, /* any other printable ASCII character, ',' among them */
        TOK_DECLARE,
        TOK_ASSIGN,
        TOK_FIELD,
        TOK_VARIABLE,
        TOK_DOT,
        TOK_STRING,
        TOK_RAWSTRING,
        TOK_CHARCONST,
        TOK_NUMBER,
        TOK_BOOL,
        TOK_NIL,
        TOK_IDENT,
        /* keywords */
        TOK_IF,
        TOK_ELSE,
        TOK_END,
        TOK_RANGE,
        TOK_WITH,
        TOK_BREAK,
        TOK_CONTINUE,
        TOK_DEFINE,
        TOK_TEMPLATE,
        TOK_BLOCK,
};

struct token {
        enum tok_type type;
        size_t pos, len;
};

static const struct {
        const char *word;
        enum tok_type type;
} keywords[] = {
        { "if", TOK_IF },
        { "else", TOK_ELSE },
        { "end", TOK_END },
        { "range", TOK_RANGE },
        { "with", TOK_WITH },
        { "break", TOK_BREAK },
        { "continue", TOK_CONTINUE },
        { "define", TOK_DEFINE },
        { "template", TOK_TEMPLATE },
        { "block", TOK_BLOCK },
        { "nil", TOK_NIL },
        { "true", TOK_BOOL },
        { "false", TOK_BOOL },
};

struct lexer {
        const char *s;
        size_t len, pos;
        size_t err_pos; /* where lex_error() was called */
        int paren_depth;
        struct token *toks;
        size_t n, alloc;
        berth_error *err;
};

/* "template: :LINE:COL: message", LINE from 1 and COL in bytes from 0, as Go's ErrorContext. */
static int verror_at(berth_error *err, int code, const char *s, size_t pos, const char *fmt,
                     va_list ap) __attribute__((format(printf, 5, 0)));
static int verror_at(berth_error *err, int code, const char *s, size_t pos, const char *fmt,
                     va_list ap)
{
        _cleanup_free_ char *msg = NULL;
        size_t line = 1, bol = 0;

        for (size_t i = 0; i < pos; i++)
                if (s[i] == '\n') {
                        line++;
                        bol = i + 1;
                }
        if (vasprintf(&msg, fmt, ap) < 0)
                return berth_error_set(err, ENOMEM, "template: out of memory");
        return berth_error_set(err, code, "template: :%zu:%zu: %s", line, pos - bol, msg);
}

static int lex_error(struct lexer *l, size_t pos, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int lex_error(struct lexer *l, size_t pos, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = verror_at(l->err, EINVAL, l->s, pos, fmt, ap);
        va_end(ap);
        l->err_pos = pos;
        return r;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Go takes Unicode letters and digits; every non-ASCII byte counts as a letter here. */
static bool is_alnum(char c)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

static bool has_prefix_at(const struct lexer *l, size_t pos, const char *prefix)
{
        size_t n = strlen(prefix);
        return pos <= l->len && l->len - pos >= n && memcmp(l->s + pos, prefix, n) == 0;
}

/* "- " right after "{{". */
static bool left_trim_at(const struct lexer *l, size_t pos)
{
        return pos + 1 < l->len && l->s[pos] == '-' && is_space(l->s[pos + 1]);
}

/* Whether a right delimiter starts at pos, and whether it is " -}}". */
static bool right_delim_at(const struct lexer *l, size_t pos, bool *trim)
{
        if (pos + 1 < l->len && is_space(l->s[pos]) && l->s[pos + 1] == '-' &&
            has_prefix_at(l, pos + 2, "}}")) {
                *trim = true;
                return true;
        }
        *trim = false;
        return has_prefix_at(l, pos, "}}");
}

static size_t skip_spaces(const struct lexer *l, size_t pos)
{
        while (pos < l->len && is_space(l->s[pos]))
                pos++;
        return pos;
}

static int emit(struct lexer *l, enum tok_type type, size_t pos, size_t len)
{
        if (l->n == l->alloc) {
                size_t n = l->alloc ? l->alloc * 2 : 64;
                struct token *t = reallocarray(l->toks, n, sizeof(*t));
                if (!t)
                        return berth_error_set(l->err, ENOMEM, "template: out of memory");
                l->toks = t;
                l->alloc = n;
        }
        l->toks[l->n++] = (struct token){ type, pos, len };
        return 0;
}

/* Go's %#U: U+0021 '!' */
static const char *describe_char(const struct lexer *l, size_t pos, char buf[32])
{
        uint32_t cp = 0;
        char enc[5] = { 0 };

        if (pos >= l->len) {
                snprintf(buf, 32, "EOF");
                return buf;
        }
        berth_utf8_decode(l->s + pos, l->len - pos, &cp);
        enc[berth_utf8_encode(cp, enc)] = '\0';
        if (cp < 0x20 || cp == 0x7f)
                snprintf(buf, 32, "U+%04X", (unsigned)cp);
        else
                snprintf(buf, 32, "U+%04X '%s'", (unsigned)cp, enc);
        return buf;
}

static bool at_terminator(const struct lexer *l, size_t pos)
{
        bool trim;

        if (pos >= l->len || is_space(l->s[pos]) || strchr(".,|:()", l->s[pos]))
                return true;
        return right_delim_at(l, pos, &trim);
}

static int lex_word(struct lexer *l, size_t start)
{
        size_t p = start;
        char buf[32];

        while (p < l->len && is_alnum(l->s[p]))
                p++;
        if (!at_terminator(l, p))
                return lex_error(l, p, "bad character %s", describe_char(l, p, buf));
        for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
                if (strlen(keywords[i].word) == p - start &&
                    memcmp(keywords[i].word, l->s + start, p - start) == 0) {
                        l->pos = p;
                        return emit(l, keywords[i].type, start, p - start);
                }
        l->pos = p;
        return emit(l, TOK_IDENT, start, p - start);
}

/* After '.' or '$': a field or variable name, or '.'/'$' alone. */
static int lex_field_or_variable(struct lexer *l, size_t start, enum tok_type type)
{
        size_t p = start + 1;
        char buf[32];

        if (at_terminator(l, p)) {
                l->pos = p;
                return emit(l, type == TOK_FIELD ? TOK_DOT : TOK_VARIABLE, start, 1);
        }
        while (p < l->len && is_alnum(l->s[p]))
                p++;
        if (!at_terminator(l, p))
                return lex_error(l, p, "bad character %s", describe_char(l, p, buf));
        l->pos = p;
        return emit(l, type, start, p - start);
}

static size_t accept_run(const struct lexer *l, size_t p, const char *set)
{
        while (p < l->len && l->s[p] && strchr(set, l->s[p]))
                p++;
        return p;
}

static bool accept(const struct lexer *l, size_t *p, const char *set)
{
        if (*p < l->len && l->s[*p] && strchr(set, l->s[*p])) {
                (*p)++;
                return true;
        }
        return false;
}

/* Go's scanNumber: what counts as one number token; its value is checked later. */
static int lex_number(struct lexer *l, size_t start)
{
        const char *digits = "0123456789_";
        size_t p = start;

        accept(l, &p, "+-");
        if (accept(l, &p, "0")) {
                if (accept(l, &p, "xX"))
                        digits = "0123456789abcdefABCDEF_";
                else if (accept(l, &p, "oO"))
                        digits = "01234567_";
                else if (accept(l, &p, "bB"))
                        digits = "01_";
        }
        p = accept_run(l, p, digits);
        if (accept(l, &p, "."))
                p = accept_run(l, p, digits);
        if (strlen(digits) == 11 && accept(l, &p, "eE")) {
                accept(l, &p, "+-");
                p = accept_run(l, p, "0123456789_");
        }
        if (strlen(digits) == 23 && accept(l, &p, "pP")) {
                accept(l, &p, "+-");
                p = accept_run(l, p, "0123456789_");
        }
        accept(l, &p, "i");
        if (p < l->len && is_alnum(l->s[p]))
                return lex_error(l, start, "bad number syntax: \"%.*s\"", (int)(p + 1 - start),
                                 l->s + start);
        l->pos = p;
        return emit(l, TOK_NUMBER, start, p - start);
}

static int lex_quote(struct lexer *l, size_t start, char quote, enum tok_type type,
                     const char *what)
{
        size_t p = start + 1;

        for (;;) {
                if (p >= l->len || (l->s[p] == '\n' && quote != '`'))
                        return lex_error(l, start, "unterminated %s", what);
                if (l->s[p] == '\\' && quote != '`') {
                        p++;
                        if (p >= l->len || l->s[p] == '\n')
                                return lex_error(l, start, "unterminated %s", what);
                } else if (l->s[p] == quote) {
                        break;
                }
                p++;
        }
        l->pos = p + 1;
        return emit(l, type, start, p + 1 - start);
}

static int lex_comment(struct lexer *l, size_t left, size_t start)
{
        const char *end = memmem(l->s + start + 2, l->len - start - 2, "*/", 2);
        size_t p;
        bool trim;

        if (!end)
                return lex_error(l, left, "unclosed comment");
        p = (size_t)(end - l->s) + 2;
        if (!right_delim_at(l, p, &trim))
                return lex_error(l, left, "comment ends before closing delimiter");
        p += (trim ? 2 : 0) + 2;
        l->pos = trim ? skip_spaces(l, p) : p;
        return 0;
}

/* Lexes from "{{" to its "}}" (comments included); l->pos ends after it. */
static int lex_action(struct lexer *l)
{
        size_t start = l->pos, after;
        bool trim = left_trim_at(l, start + 2);
        int r;

        after = start + 2 + (trim ? 2 : 0);
        if (has_prefix_at(l, after, "/*"))
                return lex_comment(l, start, after);
        r = emit(l, TOK_LEFT, start, after - start);
        if (r < 0)
                return r;
        l->pos = after;
        l->paren_depth = 0;

        for (;;) {
                size_t p = l->pos;
                char c, buf[32];

                if (right_delim_at(l, p, &trim)) {
                        if (l->paren_depth != 0)
                                return lex_error(l, p, "unclosed left paren");
                        if (trim)
                                p += 2;
                        r = emit(l, TOK_RIGHT, p, 2);
                        if (r < 0)
                                return r;
                        l->pos = trim ? skip_spaces(l, p + 2) : p + 2;
                        return 0;
                }
                if (p >= l->len)
                        return lex_error(l, start, "unclosed action");
                c = l->s[p];
                if (is_space(c)) {
                        size_t q = skip_spaces(l, p);
                        /* The last space may belong to a " -}}" that follows. */
                        if (right_delim_at(l, q - 1, &trim) && trim) {
                                q--;
                                if (q == p)
                                        continue;
                        }
                        r = emit(l, TOK_SPACE, p, q - p);
                        l->pos = q;
                } else if (c == '=') {
                        r = emit(l, TOK_ASSIGN, p, 1);
                        l->pos = p + 1;
                } else if (c == ':') {
                        if (p + 1 >= l->len || l->s[p + 1] != '=')
                                return lex_error(l, p, "expected :=");
                        r = emit(l, TOK_DECLARE, p, 2);
                        l->pos = p + 2;
                } else if (c == '|') {
                        r = emit(l, TOK_PIPE, p, 1);
                        l->pos = p + 1;
                } else if (c == '"') {
                        r = lex_quote(l, p, '"', TOK_STRING, "quoted string");
                } else if (c == '`') {
                        r = lex_quote(l, p, '`', TOK_RAWSTRING, "raw quoted string");
                } else if (c == '\'') {
                        r = lex_quote(l, p, '\'', TOK_CHARCONST, "character constant");
                } else if (c == '$') {
                        r = lex_field_or_variable(l, p, TOK_VARIABLE);
                } else if (c == '.' &&
                           !(p + 1 < l->len && l->s[p + 1] >= '0' && l->s[p + 1] <= '9')) {
                        r = lex_field_or_variable(l, p, TOK_FIELD);
                } else if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
                        r = lex_number(l, p);
                } else if (is_alnum(c)) {
                        r = lex_word(l, p);
                } else if (c == '(') {
                        if (++l->paren_depth > BERTH_TEMPLATE_MAX_DEPTH) {
                                lex_error(l, p, "nested more than %d deep",
                                          BERTH_TEMPLATE_MAX_DEPTH);
                                l->err->code = E2BIG;
                                return -E2BIG;
                        }
                        r = emit(l, TOK_LPAREN, p, 1);
                        l->pos = p + 1;
                } else if (c == ')') {
                        if (--l->paren_depth < 0)
                                return lex_error(l, p, "unexpected right paren");
                        r = emit(l, TOK_RPAREN, p, 1);
                        l->pos = p + 1;
                } else if (c > ' ' && c < 0x7f) {
                        r = emit(l, TOK_CHAR, p, 1);
                        l->pos = p + 1;
                } else {
                        return lex_error(l, p, "unrecognized character in action: %s",
                                         describe_char(l, p, buf));
                }
                if (r < 0)
                        return r;
        }
}

/*
 * Cuts the text into tokens. A lexical error does not stop the parse at
 * once: like Go, whose parser pulls tokens from the lexer as it goes, the
 * parser may find a syntax error in the tokens before it, and that one is
 * reported. So the error becomes a TOK_ERROR token and its message waits
 * in *err; only ENOMEM fails here.
 */
static int lex_tokens(struct lexer *l);

static int lex(struct lexer *l, int *ret_lex_error)
{
        int r = lex_tokens(l);

        *ret_lex_error = 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_lex_error = r;
                return emit(l, TOK_ERROR, l->err_pos, 0);
        }
        return 0;
}

static int lex_tokens(struct lexer *l)
{
        int r;

        for (;;) {
                const char *left = memmem(l->s + l->pos, l->len - l->pos, "{{", 2);
                size_t end = left ? (size_t)(left - l->s) : l->len;
                size_t text_end = end;

                /* "{{- " trims the white space before it. */
                if (left && left_trim_at(l, end + 2))
                        while (text_end > l->pos && is_space(l->s[text_end - 1]))
                                text_end--;
                if (text_end > l->pos) {
                        r = emit(l, TOK_TEXT, l->pos, text_end - l->pos);
                        if (r < 0)
                                return r;
                }
                l->pos = end;
                if (!left)
                        return emit(l, TOK_EOF, l->len, 0);
                r = lex_action(l);
                if (r < 0)
                        return r;
        }
}

/* ---- parser ---- */

struct parser {
        struct berth_template *t;
        const struct token *toks;
        size_t n, i;
        const char **vars; /* variables in scope, "$" first */
        size_t n_vars, alloc_vars;
        int depth, range_depth;
        size_t item_pos; /* where the last item ({{...}} or text) started */
        int lex_error;   /* the lexer's error, reported once the parser reaches TOK_ERROR */
        bool at_lex_error;
        berth_error *err;
};

static void tpl_node_freep(struct tnode **n)
{
        tpl_node_free(*n);
}

void tpl_node_free(struct tnode *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n_kids; i++)
                tpl_node_free(n->kids[i]);
        free(n->kids);
        tpl_node_free(n->pipe);
        tpl_node_free(n->list);
        tpl_node_free(n->else_list);
        for (size_t i = 0; i < n->n_decl; i++)
                free(n->decl[i]);
        free(n->decl);
        for (size_t i = 0; i < n->n_idents; i++)
                free(n->idents[i]);
        free(n->idents);
        tpl_node_free(n->node);
        json_object_put(n->literal);
        free(n);
}

static int perror_at(struct parser *p, size_t pos, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int perror_at(struct parser *p, size_t pos, const char *fmt, ...)
{
        va_list ap;
        int r;

        /* Past the point the lexer failed, its message is the one to report. */
        if (p->at_lex_error)
                return p->lex_error;
        va_start(ap, fmt);
        r = verror_at(p->err, EINVAL, p->t->text, pos, fmt, ap);
        va_end(ap);
        return r;
}

static int oom(struct parser *p)
{
        return berth_error_set(p->err, ENOMEM, "template: out of memory");
}

static const struct token *peek(struct parser *p)
{
        const struct token *t = &p->toks[p->i];
        if (t->type == TOK_ERROR)
                p->at_lex_error = true;
        return t;
}

static const struct token *next(struct parser *p)
{
        const struct token *t = peek(p);
        if (t->type != TOK_EOF && t->type != TOK_ERROR)
                p->i++;
        return t;
}

static const struct token *peek_nonspace(struct parser *p)
{
        while (p->toks[p->i].type == TOK_SPACE)
                p->i++;
        return peek(p);
}

static const struct token *next_nonspace(struct parser *p)
{
        peek_nonspace(p);
        return next(p);
}

/* End offset of the last token consumed. */
static size_t last_end(const struct parser *p)
{
        if (p->i == 0)
                return 0;
        return p->toks[p->i - 1].pos + p->toks[p->i - 1].len;
}

/* How Go names a token in "unexpected X in Y". */
static const char *describe(struct parser *p, const struct token *t, char *buf, size_t size)
{
        const char *s = p->t->text + t->pos;
        size_t n = t->len, o = 0;

        if (t->type == TOK_EOF)
                return "EOF";
        if (t->type >= TOK_IF && t->type <= TOK_BLOCK) {
                snprintf(buf, size, "<%.*s>", (int)n, s);
                return buf;
        }
        buf[o++] = '"';
        for (size_t i = 0; i < n && i < 10 && o + 8 < size; i++) {
                char c = s[i];
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = c;
                } else if (c == '\n') {
                        buf[o++] = '\\';
                        buf[o++] = 'n';
                } else if (c == '\t') {
                        buf[o++] = '\\';
                        buf[o++] = 't';
                } else {
                        buf[o++] = c;
                }
        }
        buf[o++] = '"';
        if (n > 10) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

static int unexpected(struct parser *p, const struct token *t, const char *context)
{
        char buf[64];
        return perror_at(p, t->pos, "unexpected %s in %s", describe(p, t, buf, sizeof(buf)),
                         context);
}

static int new_node(struct parser *p, enum tnode_type type, size_t pos, struct tnode **ret)
{
        struct tnode *n = calloc(1, sizeof(*n));
        if (!n)
                return oom(p);
        n->type = type;
        n->pos = pos;
        n->end = pos;
        *ret = n;
        return 0;
}

static int add_kid(struct parser *p, struct tnode *parent, struct tnode *kid)
{
        struct tnode **k = reallocarray(parent->kids, parent->n_kids + 1, sizeof(*k));
        if (!k) {
                tpl_node_free(kid);
                return oom(p);
        }
        parent->kids = k;
        parent->kids[parent->n_kids++] = kid;
        return 0;
}

static int add_string(struct parser *p, char ***v, size_t *n, const char *s, size_t len)
{
        char **k = reallocarray(*v, *n + 1, sizeof(*k));
        if (!k)
                return oom(p);
        *v = k;
        k[*n] = strndup(s, len);
        if (!k[*n])
                return oom(p);
        (*n)++;
        return 0;
}

static int push_var(struct parser *p, const char *name)
{
        if (p->n_vars == p->alloc_vars) {
                size_t n = p->alloc_vars ? p->alloc_vars * 2 : 8;
                const char **v = reallocarray(p->vars, n, sizeof(*v));
                if (!v)
                        return oom(p);
                p->vars = v;
                p->alloc_vars = n;
        }
        p->vars[p->n_vars++] = name;
        return 0;
}

static bool var_defined(struct parser *p, const char *s, size_t len)
{
        for (size_t i = p->n_vars; i > 0; i--)
                if (strlen(p->vars[i - 1]) == len && memcmp(p->vars[i - 1], s, len) == 0)
                        return true;
        return false;
}

static int enter(struct parser *p, size_t pos)
{
        if (++p->depth > BERTH_TEMPLATE_MAX_DEPTH) {
                perror_at(p, pos, "nested more than %d deep", BERTH_TEMPLATE_MAX_DEPTH);
                p->err->code = E2BIG;
                return -E2BIG;
        }
        return 0;
}

static int parse_pipeline(struct parser *p, const char *context, enum tok_type end,
                          struct tnode **ret);

/* Go's strconv.Unquote for "..." and '...' bodies: the escapes of Go string literals. */
static int unquote(struct parser *p, const struct token *t, struct tbuf *out)
{
        const char *s = p->t->text + t->pos + 1;
        size_t n = t->len - 2;
        int r = 0;

        for (size_t i = 0; i < n && r >= 0;) {
                char c = s[i];
                uint32_t cp = 0;
                char enc[4];
                int digits = 0, base = 16;

                if (c != '\\') {
                        r = tpl_buf_putc(out, c);
                        i++;
                        continue;
                }
                if (i + 1 >= n)
                        return perror_at(p, t->pos, "invalid syntax in %.*s", (int)t->len,
                                         p->t->text + t->pos);
                c = s[i + 1];
                i += 2;
                switch (c) {
                case 'a':
                        r = tpl_buf_putc(out, '\a');
                        continue;
                case 'b':
                        r = tpl_buf_putc(out, '\b');
                        continue;
                case 'f':
                        r = tpl_buf_putc(out, '\f');
                        continue;
                case 'n':
                        r = tpl_buf_putc(out, '\n');
                        continue;
                case 'r':
                        r = tpl_buf_putc(out, '\r');
                        continue;
                case 't':
                        r = tpl_buf_putc(out, '\t');
                        continue;
                case 'v':
                        r = tpl_buf_putc(out, '\v');
                        continue;
                case '\\':
                        r = tpl_buf_putc(out, '\\');
                        continue;
                case '"':
                case '\'':
                        /* Each quote may be escaped only inside its own kind of literal. */
                        if (c != p->t->text[t->pos])
                                break;
                        r = tpl_buf_putc(out, c);
                        continue;
                case 'x':
                        digits = 2;
                        break;
                case 'u':
                        digits = 4;
                        break;
                case 'U':
                        digits = 8;
                        break;
                default:
                        if (c >= '0' && c <= '7') {
                                digits = 3;
                                base = 8;
                                i--;
                        }
                        break;
                }
                if (digits == 0 || i + (size_t)digits > n)
                        return perror_at(p, t->pos, "invalid syntax in %.*s", (int)t->len,
                                         p->t->text + t->pos);
                for (int k = 0; k < digits; k++, i++) {
                        char d = s[i];
                        int v = d >= '0' && d <= '9'   ? d - '0'
                                : d >= 'a' && d <= 'f' ? d - 'a' + 10
                                : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                       : 99;
                        if (v >= base)
                                return perror_at(p, t->pos, "invalid syntax in %.*s", (int)t->len,
                                                 p->t->text + t->pos);
                        cp = cp * (uint32_t)base + (uint32_t)v;
                }
                if (c == 'x' || base == 8) {
                        /* A byte, not a character: \xff stays one (invalid UTF-8) byte. */
                        if (cp > 255)
                                return perror_at(p, t->pos, "invalid syntax in %.*s", (int)t->len,
                                                 p->t->text + t->pos);
                        r = tpl_buf_putc(out, (char)cp);
                        continue;
                }
                if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return perror_at(p, t->pos, "invalid syntax in %.*s", (int)t->len,
                                         p->t->text + t->pos);
                r = tpl_buf_put(out, enc, berth_utf8_encode(cp, enc));
        }
        return r < 0 ? oom(p) : 0;
}

static int parse_string(struct parser *p, const struct token *t, struct tnode *n)
{
        struct tbuf b = TBUF_INIT(BERTH_TEMPLATE_MAX_TEXT);
        int r = 0;

        if (t->type == TOK_RAWSTRING) {
                /* Go drops carriage returns from raw strings. */
                for (size_t i = 1; i + 1 < t->len && r >= 0; i++)
                        if (p->t->text[t->pos + i] != '\r')
                                r = tpl_buf_putc(&b, p->t->text[t->pos + i]);
                if (r < 0)
                        r = oom(p);
        } else {
                r = unquote(p, t, &b);
        }
        if (r < 0) {
                tpl_buf_release(&b);
                return r;
        }
        n->literal = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
        tpl_buf_release(&b);
        return n->literal ? 0 : oom(p);
}

static int parse_charconst(struct parser *p, const struct token *t, struct tnode *n)
{
        struct tbuf b = TBUF_INIT(64);
        uint32_t cp;
        int r = unquote(p, t, &b);

        if (r < 0) {
                tpl_buf_release(&b);
                return r;
        }
        if (b.len == 0 || berth_utf8_decode(b.data, b.len, &cp) != b.len) {
                tpl_buf_release(&b);
                return perror_at(p, t->pos, "malformed character constant: %.*s", (int)t->len,
                                 p->t->text + t->pos);
        }
        tpl_buf_release(&b);
        n->literal = json_object_new_int64(cp);
        return n->literal ? 0 : oom(p);
}

/*
 * Number constants. Go's are untyped; passed to a function or printed they
 * become an int unless written with a '.', an exponent or 'p' (hex floats
 * excepted), which makes them a float64. Complex numbers are not supported.
 */
static int parse_number(struct parser *p, const struct token *t, struct tnode *n)
{
        char buf[128], *end = NULL;
        size_t o = 0;
        bool is_float, hex;
        const char *s = p->t->text + t->pos;

        if (t->len >= sizeof(buf))
                return perror_at(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
        for (size_t i = 0; i < t->len; i++)
                if (s[i] != '_')
                        buf[o++] = s[i];
        buf[o] = '\0';
        if (o > 0 && buf[o - 1] == 'i')
                return perror_at(p, t->pos, "complex numbers are not supported: \"%s\"", buf);
        hex = strstr(buf, "0x") || strstr(buf, "0X");
        is_float = hex ? strpbrk(buf, ".pP") != NULL : strpbrk(buf, ".eE") != NULL;
        if (!is_float) {
                const char *digits = buf;
                bool neg = false;
                int base = 10;
                long long v;

                if (*digits == '+' || *digits == '-')
                        neg = *digits++ == '-';
                if (digits[0] == '0' && digits[1] != '\0') {
                        char k = digits[1];
                        base = (k == 'x' || k == 'X') ? 16 : (k == 'b' || k == 'B') ? 2 : 8;
                        digits += (k == 'o' || k == 'O' || base != 8) ? 2 : 1;
                }
                if (*digits && *digits != '+' && *digits != '-') {
                        errno = 0;
                        v = strtoll(digits, &end, base);
                        if (errno == 0 && end && *end == '\0') {
                                n->literal = json_object_new_int64(neg ? -v : v);
                                return n->literal ? 0 : oom(p);
                        }
                }
                if (hex || base != 10)
                        return perror_at(p, t->pos, "illegal number syntax: \"%s\"", buf);
                /* A decimal integer out of int64's range is a float, as in Go. */
        }
        errno = 0;
        double d = strtod(buf, &end);
        if (!end || *end != '\0' || end == buf || errno == ERANGE)
                return perror_at(p, t->pos, "illegal number syntax: \"%s\"", buf);
        n->literal = json_object_new_double(d);
        return n->literal ? 0 : oom(p);
}

static int parse_term(struct parser *p, struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *n = NULL;
        size_t save = (peek_nonspace(p), p->i);
        const struct token *t = next(p);
        const char *s = p->t->text + t->pos;
        int r;

        *ret = NULL;
        switch (t->type) {
        case TOK_IDENT: {
                const struct tpl_func *f = tpl_func_lookup(s, t->len);
                if (!f)
                        return perror_at(p, t->pos, "function \"%.*s\" not defined", (int)t->len,
                                         s);
                r = new_node(p, TN_IDENT, t->pos, &n);
                if (r < 0)
                        return r;
                n->func = f;
                break;
        }
        case TOK_DOT:
                r = new_node(p, TN_DOT, t->pos, &n);
                break;
        case TOK_NIL:
                r = new_node(p, TN_NIL, t->pos, &n);
                break;
        case TOK_VARIABLE:
                if (!var_defined(p, s, t->len))
                        return perror_at(p, t->pos, "undefined variable \"%.*s\"", (int)t->len, s);
                r = new_node(p, TN_VARIABLE, t->pos, &n);
                if (r >= 0)
                        r = add_string(p, &n->idents, &n->n_idents, s, t->len);
                break;
        case TOK_FIELD:
                r = new_node(p, TN_FIELD, t->pos, &n);
                if (r >= 0)
                        r = add_string(p, &n->idents, &n->n_idents, s + 1, t->len - 1);
                break;
        case TOK_BOOL:
                r = new_node(p, TN_LITERAL, t->pos, &n);
                if (r >= 0) {
                        n->literal = json_object_new_boolean(t->len == 4);
                        if (!n->literal)
                                r = oom(p);
                }
                break;
        case TOK_NUMBER:
                r = new_node(p, TN_LITERAL, t->pos, &n);
                if (r >= 0)
                        r = parse_number(p, t, n);
                break;
        case TOK_CHARCONST:
                r = new_node(p, TN_LITERAL, t->pos, &n);
                if (r >= 0)
                        r = parse_charconst(p, t, n);
                break;
        case TOK_STRING:
        case TOK_RAWSTRING:
                r = new_node(p, TN_LITERAL, t->pos, &n);
                if (r >= 0)
                        r = parse_string(p, t, n);
                break;
        case TOK_LPAREN:
                r = enter(p, t->pos);
                if (r >= 0)
                        r = parse_pipeline(p, "parenthesized pipeline", TOK_RPAREN, &n);
                p->depth--;
                break;
        default:
                p->i = save;
                return 0;
        }
        if (r < 0)
                return r;
        n->end = last_end(p);
        *ret = TAKE_PTR(n);
        return 0;
}

/* A term and the fields that follow it without space: .A.B, $x.A, (pipe).A */
static int parse_operand(struct parser *p, struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *n = NULL;
        int r = parse_term(p, &n);

        *ret = NULL;
        if (r < 0 || !n)
                return r;
        if (peek(p)->type == TOK_FIELD) {
                size_t pos = n->pos;
                char buf[64];

                switch (n->type) {
                case TN_FIELD:
                case TN_VARIABLE:
                        break;
                case TN_LITERAL:
                case TN_NIL:
                case TN_DOT: {
                        struct token t = { TOK_TEXT, n->pos, n->end - n->pos };
                        return perror_at(p, peek(p)->pos, "unexpected . after term %s",
                                         describe(p, &t, buf, sizeof(buf)));
                }
                default: {
                        struct tnode *chain = NULL;
                        r = new_node(p, TN_CHAIN, pos, &chain);
                        if (r < 0)
                                return r;
                        chain->node = TAKE_PTR(n);
                        n = chain;
                        break;
                }
                }
                while (peek(p)->type == TOK_FIELD) {
                        const struct token *t = next(p);
                        r = add_string(p, &n->idents, &n->n_idents, p->t->text + t->pos + 1,
                                       t->len - 1);
                        if (r < 0)
                                return r;
                }
                n->end = last_end(p);
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int parse_command(struct parser *p, struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *cmd = NULL;
        int r = new_node(p, TN_COMMAND, peek_nonspace(p)->pos, &cmd);

        if (r < 0)
                return r;
        for (;;) {
                struct tnode *operand = NULL;
                const struct token *t;

                peek_nonspace(p);
                r = parse_operand(p, &operand);
                if (r < 0)
                        return r;
                if (operand) {
                        r = add_kid(p, cmd, operand);
                        if (r < 0)
                                return r;
                        cmd->end = operand->end;
                }
                t = next(p);
                if (t->type == TOK_SPACE)
                        continue;
                if (t->type == TOK_RIGHT || t->type == TOK_RPAREN)
                        p->i--;
                else if (t->type != TOK_PIPE)
                        return unexpected(p, t, "operand");
                break;
        }
        if (cmd->n_kids == 0)
                return perror_at(p, cmd->pos, "empty command");
        *ret = TAKE_PTR(cmd);
        return 0;
}

static int parse_decl(struct parser *p, const char *context, struct tnode *pipe)
{
        for (;;) {
                const struct token *v, *after;
                size_t save = p->i;
                const char *name;
                int r;

                if (peek_nonspace(p)->type != TOK_VARIABLE) {
                        p->i = save;
                        return 0;
                }
                v = next(p);
                after = peek_nonspace(p);
                if (after->type != TOK_DECLARE && after->type != TOK_ASSIGN &&
                    !(after->type == TOK_CHAR && p->t->text[after->pos] == ',')) {
                        if (pipe->n_decl > 0)
                                return perror_at(p, v->pos, "range can only initialize variables");
                        p->i = save; /* a command that starts with a variable */
                        return 0;
                }
                next(p);
                r = add_string(p, &pipe->decl, &pipe->n_decl, p->t->text + v->pos, v->len);
                if (r < 0)
                        return r;
                name = pipe->decl[pipe->n_decl - 1];
                if (after->type == TOK_ASSIGN) {
                        pipe->is_assign = true;
                        if (!var_defined(p, name, strlen(name)))
                                return perror_at(p, v->pos, "undefined variable \"%s\"", name);
                } else {
                        r = push_var(p, name);
                        if (r < 0)
                                return r;
                }
                if (after->type != TOK_CHAR)
                        return 0;
                /* "$i, $e :=" is for range only. */
                if (strcmp(context, "range") != 0 || pipe->n_decl >= 2)
                        return perror_at(p, after->pos, "too many declarations in %s", context);
        }
}

static int parse_pipeline(struct parser *p, const char *context, enum tok_type end,
                          struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *pipe = NULL;
        int r = new_node(p, TN_PIPE, peek_nonspace(p)->pos, &pipe);

        if (r < 0)
                return r;
        r = parse_decl(p, context, pipe);
        if (r < 0)
                return r;
        for (;;) {
                const struct token *t = next_nonspace(p);
                struct tnode *cmd = NULL;

                if (t->type == end)
                        break;
                switch (t->type) {
                case TOK_BOOL:
                case TOK_CHARCONST:
                case TOK_DOT:
                case TOK_FIELD:
                case TOK_IDENT:
                case TOK_NUMBER:
                case TOK_NIL:
                case TOK_RAWSTRING:
                case TOK_STRING:
                case TOK_VARIABLE:
                case TOK_LPAREN:
                        p->i--;
                        r = parse_command(p, &cmd);
                        if (r < 0)
                                return r;
                        r = add_kid(p, pipe, cmd);
                        if (r < 0)
                                return r;
                        pipe->end = cmd->end;
                        continue;
                default:
                        return unexpected(p, t, context);
                }
        }
        if (pipe->n_kids == 0)
                return perror_at(p, pipe->pos, "missing value for %s", context);
        /* Only the first command of a pipeline may be a constant. */
        for (size_t i = 1; i < pipe->n_kids; i++) {
                enum tnode_type ty = pipe->kids[i]->kids[0]->type;
                if (ty == TN_LITERAL || ty == TN_DOT || ty == TN_NIL)
                        return perror_at(p, pipe->kids[i]->pos,
                                         "non executable command in pipeline stage %zu", i + 1);
        }
        *ret = TAKE_PTR(pipe);
        return 0;
}

enum item {
        ITEM_NODE,
        ITEM_END,
        ITEM_ELSE,
};

static int parse_item(struct parser *p, struct tnode **ret, enum item *kind);

/* Items up to the {{end}} or {{else}} that closes a block. */
static int parse_list(struct parser *p, size_t pos, struct tnode **ret, enum item *kind)
{
        _cleanup_(tpl_node_freep) struct tnode *list = NULL;
        int r = new_node(p, TN_LIST, pos, &list);

        if (r < 0)
                return r;
        for (;;) {
                struct tnode *n = NULL;
                const struct token *t = peek_nonspace(p);

                if (t->type == TOK_EOF)
                        return perror_at(p, t->pos, "unexpected EOF");
                r = parse_item(p, &n, kind);
                if (r < 0)
                        return r;
                if (*kind != ITEM_NODE)
                        break;
                r = add_kid(p, list, n);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

static int parse_control(struct parser *p, enum tnode_type type, const char *context, size_t pos,
                         struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *n = NULL;
        size_t mark = p->n_vars;
        enum item kind;
        int r;

        r = enter(p, pos);
        if (r >= 0)
                r = new_node(p, type, pos, &n);
        if (r >= 0)
                r = parse_pipeline(p, context, TOK_RIGHT, &n->pipe);
        if (r < 0)
                return r;
        if (type == TN_RANGE)
                p->range_depth++;
        r = parse_list(p, last_end(p), &n->list, &kind);
        if (type == TN_RANGE)
                p->range_depth--;
        if (r < 0)
                return r;
        if (kind == ITEM_ELSE) {
                enum tok_type chained = peek_nonspace(p)->type;
                /* {{else if}} and {{else with}} open a block that the one {{end}} closes. */
                if ((type == TN_IF && chained == TOK_IF) ||
                    (type == TN_WITH && chained == TOK_WITH)) {
                        const struct token *t = next(p);
                        struct tnode *inner = NULL;

                        r = new_node(p, TN_LIST, t->pos, &n->else_list);
                        if (r >= 0)
                                r = parse_control(p, type, context, t->pos, &inner);
                        if (r >= 0)
                                r = add_kid(p, n->else_list, inner);
                } else {
                        r = parse_list(p, last_end(p), &n->else_list, &kind);
                        if (r >= 0 && kind != ITEM_END)
                                r = perror_at(p, p->item_pos, "expected end; found {{else}}");
                }
                if (r < 0)
                        return r;
        }
        n->end = last_end(p);
        p->n_vars = mark;
        p->depth--;
        *ret = TAKE_PTR(n);
        return 0;
}

static int expect_right(struct parser *p, const char *context)
{
        const struct token *t = next_nonspace(p);
        return t->type == TOK_RIGHT ? 0 : unexpected(p, t, context);
}

/* After "{{": a control keyword or a pipeline. */
static int parse_action(struct parser *p, size_t pos, struct tnode **ret, enum item *kind)
{
        size_t save = (peek_nonspace(p), p->i);
        const struct token *t = next(p);
        const char *word = p->t->text + t->pos;
        struct tnode *n = NULL;
        int r;

        *kind = ITEM_NODE;
        switch (t->type) {
        case TOK_IF:
                return parse_control(p, TN_IF, "if", pos, ret);
        case TOK_RANGE:
                return parse_control(p, TN_RANGE, "range", pos, ret);
        case TOK_WITH:
                return parse_control(p, TN_WITH, "with", pos, ret);
        case TOK_END:
                *kind = ITEM_END;
                return expect_right(p, "end");
        case TOK_ELSE:
                *kind = ITEM_ELSE;
                /* "else if"/"else with": leave the keyword to parse_control(). */
                if (peek_nonspace(p)->type == TOK_IF || peek_nonspace(p)->type == TOK_WITH)
                        return 0;
                return expect_right(p, "else");
        case TOK_BREAK:
        case TOK_CONTINUE:
                r = expect_right(p, t->type == TOK_BREAK ? "{{break}}" : "{{continue}}");
                if (r < 0)
                        return r;
                if (p->range_depth == 0)
                        return perror_at(p, t->pos, "{{%.*s}} outside {{range}}", (int)t->len,
                                         word);
                r = new_node(p, t->type == TOK_BREAK ? TN_BREAK : TN_CONTINUE, pos, &n);
                if (r < 0)
                        return r;
                n->end = last_end(p);
                *ret = n;
                return 0;
        case TOK_DEFINE:
        case TOK_TEMPLATE:
        case TOK_BLOCK:
                return perror_at(p, t->pos, "{{%.*s}} is not supported", (int)t->len, word);
        default:
                p->i = save;
                r = new_node(p, TN_ACTION, pos, &n);
                if (r >= 0)
                        r = parse_pipeline(p, "command", TOK_RIGHT, &n->pipe);
                if (r < 0) {
                        tpl_node_free(n);
                        return r;
                }
                n->end = last_end(p);
                *ret = n;
                return 0;
        }
}

static int parse_item(struct parser *p, struct tnode **ret, enum item *kind)
{
        const struct token *t = next(p);
        int r;

        *ret = NULL;
        *kind = ITEM_NODE;
        p->item_pos = t->pos;
        if (t->type == TOK_TEXT) {
                r = new_node(p, TN_TEXT, t->pos, ret);
                if (r >= 0)
                        (*ret)->end = t->pos + t->len;
                return r;
        }
        if (t->type == TOK_LEFT)
                return parse_action(p, t->pos, ret, kind);
        return unexpected(p, t, "input");
}

static int parse_root(struct parser *p, struct tnode **ret)
{
        _cleanup_(tpl_node_freep) struct tnode *root = NULL;
        int r = push_var(p, "$");

        if (r >= 0)
                r = new_node(p, TN_LIST, 0, &root);
        while (r >= 0 && peek(p)->type != TOK_EOF) {
                struct tnode *n = NULL;
                enum item kind;
                size_t pos = peek(p)->pos;

                r = parse_item(p, &n, &kind);
                if (r < 0)
                        return r;
                if (kind == ITEM_END)
                        return perror_at(p, pos, "unexpected {{end}}");
                if (kind == ITEM_ELSE)
                        return perror_at(p, pos, "unexpected {{else}}");
                r = add_kid(p, root, n);
        }
        if (r < 0)
                return r;
        root->end = p->t->len;
        *ret = TAKE_PTR(root);
        return 0;
}

int tpl_parse(struct berth_template *t, berth_error *err)
{
        struct lexer l = { .s = t->text, .len = t->len, .err = err };
        struct parser p = { .t = t, .err = err };
        int r;

        r = lex(&l, &p.lex_error);
        if (r >= 0) {
                p.toks = l.toks;
                p.n = l.n;
                r = parse_root(&p, &t->root);
        }
        free(l.toks);
        free(p.vars);
        return r < 0 ? r : 0;
}
