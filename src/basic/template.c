/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Executing a parsed template: Go's text/template exec.go semantics over
 * json-c values (see template.h for the data model), plus the public API
 * and docker's list formatting on top.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "tabwriter.h"
#include "template-internal.h"

/* walk() results besides 0 and -errno: {{break}} and {{continue}} unwinding to their range. */
#define WALK_BREAK    1
#define WALK_CONTINUE 2

/* ---- buffers ---- */

int tpl_buf_put(struct tbuf *b, const char *s, size_t n)
{
        size_t need;

        if (n == 0)
                return 0;
        if (n > b->max || b->len > b->max - n)
                return -E2BIG;
        need = b->len + n + 1;
        if (need > b->alloc) {
                size_t a = b->alloc ? b->alloc : 64;
                char *d;

                while (a < need)
                        a = a > SIZE_MAX / 2 ? need : a * 2;
                d = realloc(b->data, a);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->alloc = a;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int tpl_buf_puts(struct tbuf *b, const char *s)
{
        return tpl_buf_put(b, s, strlen(s));
}

int tpl_buf_putc(struct tbuf *b, char c)
{
        return tpl_buf_put(b, &c, 1);
}

int tpl_buf_repeat(struct tbuf *b, char c, size_t n)
{
        char chunk[256];
        int r = 0;

        if (n > b->max || b->len > b->max - n)
                return -E2BIG;
        memset(chunk, c, sizeof(chunk));
        while (n > 0 && r >= 0) {
                size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
                r = tpl_buf_put(b, chunk, k);
                n -= k;
        }
        return r;
}

int tpl_buf_printf(struct tbuf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return tpl_buf_put(b, s, (size_t)n);
}

void tpl_buf_release(struct tbuf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->alloc = 0;
}

/* ---- errors ---- */

static int verrorf(struct tstate *s, int code, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static int verrorf(struct tstate *s, int code, const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;
        const char *text = s->t->text;
        size_t pos = 0, end = 0, loc, line = 1, bol = 0, n;

        if (vasprintf(&msg, fmt, ap) < 0)
                return berth_error_set(s->err, ENOMEM, "template: out of memory");
        if (s->at) {
                pos = s->at->pos;
                end = s->at->end > pos ? s->at->end : pos;
        }
        /* Go shows a block whole but locates it at its pipeline. */
        loc = s->at && s->at->pipe && s->at->type != TN_ACTION ? s->at->pipe->pos : pos;
        for (size_t i = 0; i < loc; i++)
                if (text[i] == '\n') {
                        line++;
                        bol = i + 1;
                }
        /* Go shows the failing node's text, cut at 20 bytes. */
        n = end - pos;
        return berth_error_set(s->err, code, "template: :%zu:%zu: executing \"\" at <%.*s%s>: %s",
                               line, loc - bol, (int)(n > 20 ? 20 : n), text + pos,
                               n > 20 ? "..." : "", msg);
}

int tpl_errorf(struct tstate *s, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = verrorf(s, EINVAL, fmt, ap);
        va_end(ap);
        return r;
}

int tpl_errorf_code(struct tstate *s, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = verrorf(s, code, fmt, ap);
        va_end(ap);
        return r;
}

int tpl_buf_error(struct tstate *s, int r)
{
        if (r == -E2BIG)
                return tpl_errorf_code(s, E2BIG, "output exceeds %d bytes",
                                       BERTH_TEMPLATE_MAX_OUTPUT);
        return tpl_errorf_code(s, ENOMEM, "out of memory");
}

static int step(struct tstate *s)
{
        if (++s->steps > BERTH_TEMPLATE_MAX_STEPS)
                return tpl_errorf_code(s, E2BIG, "execution takes more than %d steps",
                                       BERTH_TEMPLATE_MAX_STEPS);
        return 0;
}

static void json_object_putp(json_object **j)
{
        json_object_put(*j);
}

/*
 * What functions make counts too: strings built and thrown away (a loop of
 * `{{$x := printf "%1000000d" 1}}`) print nothing, yet cost as much.
 */
static int count_work(struct tstate *s, struct tval v)
{
        size_t n = 0;

        if (v.valid && json_object_is_type(v.j, json_type_string))
                n = (size_t)json_object_get_string_len(v.j);
        else if (v.valid && json_object_is_type(v.j, json_type_array))
                n = json_object_array_length(v.j) * sizeof(void *);
        s->work += n;
        if (s->work > BERTH_TEMPLATE_MAX_WORK)
                return tpl_errorf_code(s, E2BIG, "functions produce more than %d bytes",
                                       BERTH_TEMPLATE_MAX_WORK);
        return 0;
}

/* ---- variables ---- */

static int push_var(struct tstate *s, const char *name, struct tval v)
{
        if (s->n_vars == s->alloc_vars) {
                size_t n = s->alloc_vars ? s->alloc_vars * 2 : 8;
                struct tvar *vars = reallocarray(s->vars, n, sizeof(*vars));
                if (!vars) {
                        tval_put(&v);
                        return tpl_errorf_code(s, ENOMEM, "out of memory");
                }
                s->vars = vars;
                s->alloc_vars = n;
        }
        s->vars[s->n_vars++] = (struct tvar){ name, v };
        return 0;
}

static void pop_vars(struct tstate *s, size_t mark)
{
        while (s->n_vars > mark)
                tval_put(&s->vars[--s->n_vars].v);
}

static struct tvar *find_var(struct tstate *s, const char *name)
{
        for (size_t i = s->n_vars; i > 0; i--)
                if (strcmp(s->vars[i - 1].name, name) == 0)
                        return &s->vars[i - 1];
        return NULL;
}

/* Replaces a variable's value; takes ownership of v. */
static int set_var(struct tstate *s, const char *name, struct tval v)
{
        struct tvar *var = find_var(s, name);

        if (!var) {
                tval_put(&v);
                return tpl_errorf(s, "undefined variable: %s", name);
        }
        tval_put(&var->v);
        var->v = v;
        return 0;
}

/* ---- evaluation ---- */

static int eval_pipeline(struct tstate *s, struct tval dot, const struct tnode *pipe,
                         struct tval *ret);
static int eval_arg(struct tstate *s, struct tval dot, const struct tnode *n, struct tval *ret);

/* One field of a value: a map lookup, as Go's evalField on a map[string]interface{}. */
static int eval_field(struct tstate *s, struct tval receiver, const char *name, struct tval *ret)
{
        json_object *v;

        if (!receiver.valid) {
                *ret = TVAL_MISSING; /* a field of no value is no value */
                return 0;
        }
        if (!receiver.j)
                return tpl_errorf(s, "nil pointer evaluating interface {}.%s", name);
        if (!json_object_is_type(receiver.j, json_type_object))
                return tpl_errorf(s, "can't evaluate field %s in type %s", name,
                                  tpl_type_name(receiver));
        *ret = json_object_object_get_ex(receiver.j, name, &v) ? tval_ref(v) : TVAL_MISSING;
        return 0;
}

static int eval_field_chain(struct tstate *s, struct tval receiver, char *const *idents, size_t n,
                            struct tval *ret)
{
        struct tval cur = receiver.valid ? tval_ref(receiver.j) : TVAL_MISSING;

        for (size_t i = 0; i < n; i++) {
                struct tval next = TVAL_MISSING;
                int r = eval_field(s, cur, idents[i], &next);

                tval_put(&cur);
                if (r < 0)
                        return r;
                cur = next;
        }
        *ret = cur;
        return 0;
}

static int eval_variable(struct tstate *s, const struct tnode *n, bool has_args, struct tval *ret)
{
        struct tvar *var = find_var(s, n->idents[0]);

        s->at = n;
        if (!var)
                return tpl_errorf(s, "undefined variable: %s", n->idents[0]);
        if (n->n_idents == 1) {
                if (has_args)
                        return tpl_errorf(s, "can't give argument to non-function %s",
                                          n->idents[0]);
                *ret = var->v.valid ? tval_ref(var->v.j) : TVAL_MISSING;
                return 0;
        }
        return eval_field_chain(s, var->v, n->idents + 1, n->n_idents - 1, ret);
}

static int eval_chain(struct tstate *s, struct tval dot, const struct tnode *n, struct tval *ret)
{
        struct tval base = TVAL_MISSING;
        int r;

        s->at = n;
        if (n->node->type == TN_NIL)
                return tpl_errorf(s, "indirection through explicit nil in %.*s",
                                  (int)(n->end - n->pos), s->t->text + n->pos);
        r = eval_arg(s, dot, n->node, &base);
        if (r < 0)
                return r;
        s->at = n;
        r = eval_field_chain(s, base, n->idents, n->n_idents, ret);
        tval_put(&base);
        return r;
}

/* and/or: arguments evaluated in turn until one decides, the last one's value otherwise. */
static int eval_and_or(struct tstate *s, struct tval dot, const struct tnode *cmd,
                       const struct tnode *const *args, size_t n_args, const struct tval *final,
                       struct tval *ret)
{
        bool is_or = cmd->kids[0]->func->name[0] == 'o';
        struct tval v = TVAL_MISSING;

        for (size_t i = 0; i < n_args; i++) {
                int r;

                tval_put(&v);
                r = eval_arg(s, dot, args[i], &v);
                if (r < 0)
                        return r;
                if (tpl_truth(v) == is_or) {
                        *ret = v;
                        return 0;
                }
        }
        if (final) {
                tval_put(&v);
                v = final->valid ? tval_ref(final->j) : TVAL_MISSING;
        }
        *ret = v;
        return 0;
}

static int eval_call(struct tstate *s, struct tval dot, const struct tnode *cmd,
                     const struct tnode *const *args, size_t n_args, const struct tval *final,
                     struct tval *ret)
{
        const struct tpl_func *f = cmd->kids[0]->func;
        size_t n = n_args + (final ? 1 : 0), got = 0;
        _cleanup_free_ struct tval *argv = NULL;
        int r = 0;

        s->at = cmd;
        if ((int)n < f->min_args || (f->max_args >= 0 && (int)n > f->max_args)) {
                if (f->max_args < 0)
                        return tpl_errorf(s,
                                          "wrong number of args for %s: want at least %d got %zu",
                                          f->name, f->min_args, n);
                return tpl_errorf(s, "wrong number of args for %s: want %d got %zu", f->name,
                                  f->max_args, n);
        }
        if (f->lazy)
                return eval_and_or(s, dot, cmd, args, n_args, final, ret);

        argv = calloc(n ? n : 1, sizeof(*argv));
        if (!argv)
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        for (; got < n_args && r >= 0; got++)
                r = eval_arg(s, dot, args[got], &argv[got]);
        if (r >= 0 && final)
                argv[got++] = final->valid ? tval_ref(final->j) : TVAL_MISSING;
        if (r >= 0) {
                s->at = cmd;
                if (s->header && f->header_identity) {
                        /* docker's header functions hand the column title through. */
                        *ret = argv[0];
                        argv[0] = TVAL_MISSING;
                } else {
                        r = f->fn(s, argv, n, ret);
                        if (r >= 0) {
                                r = count_work(s, *ret);
                                if (r < 0)
                                        tval_put(ret);
                        }
                }
        }
        for (size_t i = 0; i < got; i++)
                tval_put(&argv[i]);
        return r;
}

static int not_a_function(struct tstate *s, const struct tnode *cmd, const struct tval *final)
{
        if (cmd->n_kids > 1 || final) {
                const struct tnode *w = cmd->kids[0];
                s->at = w;
                return tpl_errorf(s, "can't give argument to non-function %.*s",
                                  (int)(w->end - w->pos), s->t->text + w->pos);
        }
        return 0;
}

/*
 * `.Label "key"`: docker's listing contexts have methods that take a key
 * (ContainerContext.Label, VolumeContext.Label, ...). Here the member is an
 * object, and calling it with one string looks the key up, giving "" when
 * it is missing as the method does. Anything else is Go's error for a map
 * member given arguments.
 */
static int call_member(struct tstate *s, struct tval dot, const struct tnode *cmd,
                       const struct tval *final, const struct tnode *word, const char *name,
                       struct tval member, struct tval *ret)
{
        struct tval key = TVAL_MISSING;
        json_object *v;
        int r;

        s->at = word;
        if (cmd->n_kids + (final ? 1 : 0) != 2 || !member.valid ||
            !json_object_is_type(member.j, json_type_object))
                return tpl_errorf(s, "%s is not a method but has arguments", name);
        if (final) {
                key = final->valid ? tval_ref(final->j) : TVAL_MISSING;
        } else {
                r = eval_arg(s, dot, cmd->kids[1], &key);
                if (r < 0)
                        return r;
        }
        s->at = cmd;
        if (!key.valid || !json_object_is_type(key.j, json_type_string)) {
                r = tpl_errorf(s, "wrong type for value; expected string; got %s",
                               tpl_type_name(key));
                tval_put(&key);
                return r;
        }
        r = 0;
        if (json_object_object_get_ex(member.j, json_object_get_string(key.j), &v)) {
                *ret = tval_ref(v);
        } else {
                json_object *empty = json_object_new_string("");
                if (empty)
                        *ret = (struct tval){ true, empty };
                else
                        r = tpl_errorf_code(s, ENOMEM, "out of memory");
        }
        tval_put(&key);
        return r;
}

/* A field chain, a variable's or a parenthesized value's, with the command's arguments. */
static int eval_member(struct tstate *s, struct tval dot, const struct tnode *cmd,
                       const struct tval *final, struct tval receiver, char *const *idents,
                       size_t n, struct tval *ret)
{
        const struct tnode *word = cmd->kids[0];
        struct tval member = TVAL_MISSING;
        int r;

        if (cmd->n_kids == 1 && !final)
                return eval_field_chain(s, receiver, idents, n, ret);
        r = eval_field_chain(s, receiver, idents, n, &member);
        if (r >= 0)
                r = call_member(s, dot, cmd, final, word, idents[n - 1], member, ret);
        tval_put(&member);
        return r;
}

static int eval_command(struct tstate *s, struct tval dot, const struct tnode *cmd,
                        const struct tval *final, struct tval *ret)
{
        const struct tnode *first = cmd->kids[0];
        bool has_args = cmd->n_kids > 1 || final;
        int r = step(s);

        if (r < 0)
                return r;
        switch (first->type) {
        case TN_FIELD:
                s->at = first;
                return eval_member(s, dot, cmd, final, dot, first->idents, first->n_idents, ret);
        case TN_CHAIN: {
                struct tval base = TVAL_MISSING;
                s->at = first;
                if (first->node->type == TN_NIL)
                        return tpl_errorf(s, "indirection through explicit nil in %.*s",
                                          (int)(first->end - first->pos), s->t->text + first->pos);
                r = eval_arg(s, dot, first->node, &base);
                s->at = first;
                if (r >= 0)
                        r = eval_member(s, dot, cmd, final, base, first->idents, first->n_idents,
                                        ret);
                tval_put(&base);
                return r;
        }
        case TN_VARIABLE: {
                struct tvar *var = find_var(s, first->idents[0]);
                s->at = first;
                if (!var)
                        return tpl_errorf(s, "undefined variable: %s", first->idents[0]);
                if (first->n_idents > 1)
                        return eval_member(s, dot, cmd, final, var->v, first->idents + 1,
                                           first->n_idents - 1, ret);
                return eval_variable(s, first, has_args, ret);
        }
        case TN_IDENT:
                return eval_call(s, dot, cmd, (const struct tnode *const *)cmd->kids + 1,
                                 cmd->n_kids - 1, final, ret);
        default:
                break;
        }
        r = not_a_function(s, cmd, final);
        if (r < 0)
                return r;
        s->at = first;
        switch (first->type) {
        case TN_PIPE:
                return eval_pipeline(s, dot, first, ret);
        case TN_LITERAL:
                *ret = tval_ref(first->literal);
                return 0;
        case TN_DOT:
                *ret = dot.valid ? tval_ref(dot.j) : TVAL_MISSING;
                return 0;
        case TN_NIL:
                return tpl_errorf(s, "nil is not a command");
        default:
                return tpl_errorf(s, "can't evaluate command");
        }
}

/* An operand given to a function. */
static int eval_arg(struct tstate *s, struct tval dot, const struct tnode *n, struct tval *ret)
{
        s->at = n;
        switch (n->type) {
        case TN_DOT:
                *ret = dot.valid ? tval_ref(dot.j) : TVAL_MISSING;
                return 0;
        case TN_NIL:
                *ret = tval_ref(NULL);
                return 0;
        case TN_LITERAL:
                *ret = tval_ref(n->literal);
                return 0;
        case TN_FIELD:
                return eval_field_chain(s, dot, n->idents, n->n_idents, ret);
        case TN_VARIABLE:
                return eval_variable(s, n, false, ret);
        case TN_CHAIN:
                return eval_chain(s, dot, n, ret);
        case TN_PIPE:
                return eval_pipeline(s, dot, n, ret);
        case TN_IDENT: {
                /* A function named as an argument is called without arguments. */
                const struct tnode cmd = { .type = TN_COMMAND,
                                           .pos = n->pos,
                                           .end = n->end,
                                           .kids = (struct tnode **)&n,
                                           .n_kids = 1 };
                int r = step(s);
                return r < 0 ? r : eval_call(s, dot, &cmd, NULL, 0, NULL, ret);
        }
        default:
                return tpl_errorf(s, "can't handle %.*s as an argument", (int)(n->end - n->pos),
                                  s->t->text + n->pos);
        }
}

/* Runs the commands, each one's value the last argument of the next; declares its variables. */
static int eval_pipeline(struct tstate *s, struct tval dot, const struct tnode *pipe,
                         struct tval *ret)
{
        struct tval value = TVAL_MISSING;
        bool have = false;

        s->at = pipe;
        for (size_t i = 0; i < pipe->n_kids; i++) {
                struct tval next = TVAL_MISSING;
                int r = eval_command(s, dot, pipe->kids[i], have ? &value : NULL, &next);

                tval_put(&value);
                if (r < 0)
                        return r;
                value = next;
                have = true;
        }
        for (size_t i = 0; i < pipe->n_decl; i++) {
                struct tval copy = value.valid ? tval_ref(value.j) : TVAL_MISSING;
                int r = pipe->is_assign ? set_var(s, pipe->decl[i], copy)
                                        : push_var(s, pipe->decl[i], copy);
                if (r < 0) {
                        tval_put(&value);
                        return r;
                }
        }
        *ret = value;
        return 0;
}

static int walk(struct tstate *s, struct tval dot, const struct tnode *n);

static int walk_if_with(struct tstate *s, struct tval dot, const struct tnode *n)
{
        size_t mark = s->n_vars;
        struct tval v = TVAL_MISSING;
        int r = eval_pipeline(s, dot, n->pipe, &v);

        if (r < 0)
                return r;
        if (tpl_truth(v))
                r = walk(s, n->type == TN_WITH ? v : dot, n->list);
        else if (n->else_list)
                r = walk(s, dot, n->else_list);
        tval_put(&v);
        pop_vars(s, mark);
        return r;
}

/* One turn of a range: the variables get the key and element, dot the element. */
static int range_iteration(struct tstate *s, const struct tnode *n, size_t mark, struct tval key,
                           struct tval elem)
{
        const struct tnode *pipe = n->pipe;
        int r = step(s);

        if (r < 0)
                return r;
        if (pipe->n_decl > 0) {
                struct tval v = pipe->n_decl > 1 ? key : elem;
                struct tval copy = v.valid ? tval_ref(v.j) : TVAL_MISSING;
                if (pipe->is_assign) {
                        r = set_var(s, pipe->decl[0], copy);
                } else {
                        /* Declared: the last variable takes the element, the first the key. */
                        tval_put(&s->vars[mark - 1].v);
                        s->vars[mark - 1].v = elem.valid ? tval_ref(elem.j) : TVAL_MISSING;
                        if (pipe->n_decl > 1) {
                                tval_put(&s->vars[mark - 2].v);
                                s->vars[mark - 2].v = copy;
                        } else {
                                tval_put(&copy);
                        }
                }
                if (r >= 0 && pipe->is_assign && pipe->n_decl > 1)
                        r = set_var(s, pipe->decl[1], elem.valid ? tval_ref(elem.j) : TVAL_MISSING);
                if (r < 0)
                        return r;
        }
        r = walk(s, elem, n->list);
        pop_vars(s, mark);
        return r;
}

static int range_object(struct tstate *s, const struct tnode *n, size_t mark, json_object *obj,
                        bool *iterated)
{
        _cleanup_free_ const char **keys = NULL;
        int count = tpl_sorted_keys(obj, &keys), r = 0; /* Go ranges over a map in key order */

        if (count < 0)
                return tpl_errorf_code(s, ENOMEM, "out of memory");
        for (int i = 0; i < count && r >= 0; i++) {
                json_object *key = json_object_new_string(keys[i]);
                struct tval kv = { true, key };

                if (!key)
                        return tpl_errorf_code(s, ENOMEM, "out of memory");
                r = range_iteration(s, n, mark, kv,
                                    (struct tval){ true, json_object_object_get(obj, keys[i]) });
                json_object_put(key);
                *iterated = true;
                if (r == WALK_BREAK)
                        return 0;
                if (r == WALK_CONTINUE)
                        r = 0;
        }
        return r;
}

static int walk_range(struct tstate *s, struct tval dot, const struct tnode *n)
{
        size_t outer = s->n_vars, mark;
        bool iterated = false;
        struct tval v = TVAL_MISSING;
        int r;

        s->at = n;
        r = eval_pipeline(s, dot, n->pipe, &v);
        if (r < 0)
                return r;
        mark = s->n_vars;
        switch (v.valid ? json_object_get_type(v.j) : json_type_null) {
        case json_type_array: {
                size_t len = json_object_array_length(v.j);
                for (size_t i = 0; i < len && r >= 0; i++) {
                        json_object *idx = json_object_new_int64((int64_t)i);
                        if (!idx) {
                                r = tpl_errorf_code(s, ENOMEM, "out of memory");
                                break;
                        }
                        r = range_iteration(
                                s, n, mark, (struct tval){ true, idx },
                                (struct tval){ true, json_object_array_get_idx(v.j, i) });
                        json_object_put(idx);
                        iterated = true;
                        if (r == WALK_BREAK) {
                                r = 0;
                                break;
                        }
                        if (r == WALK_CONTINUE)
                                r = 0;
                }
                break;
        }
        case json_type_object:
                r = range_object(s, n, mark, v.j, &iterated);
                break;
        case json_type_int: {
                /* Go 1.22's range over an integer: 0 .. n-1. */
                int64_t count = json_object_get_int64(v.j);
                if (n->pipe->n_decl > 1) {
                        s->at = n;
                        r = tpl_errorf(
                                s, "can't use %" PRId64 " to iterate over more than one variable",
                                count);
                        break;
                }
                for (int64_t i = 0; i < count && r >= 0; i++) {
                        json_object *iv = json_object_new_int64(i);
                        if (!iv) {
                                r = tpl_errorf_code(s, ENOMEM, "out of memory");
                                break;
                        }
                        r = range_iteration(s, n, mark, (struct tval){ true, iv },
                                            (struct tval){ true, iv });
                        json_object_put(iv);
                        iterated = true;
                        if (r == WALK_BREAK) {
                                r = 0;
                                break;
                        }
                        if (r == WALK_CONTINUE)
                                r = 0;
                }
                break;
        }
        case json_type_null:
                break; /* nothing to range over is not an error */
        default: {
                struct tbuf b = TBUF_INIT(256);
                s->at = n;
                tpl_print_value(&b, v);
                r = tpl_errorf(s, "range can't iterate over %s", b.data ? b.data : "");
                tpl_buf_release(&b);
                break;
        }
        }
        if (r >= 0 && !iterated && n->else_list)
                r = walk(s, dot, n->else_list);
        tval_put(&v);
        pop_vars(s, outer);
        return r;
}

static int walk(struct tstate *s, struct tval dot, const struct tnode *n)
{
        struct tval v = TVAL_MISSING;
        int r;

        switch (n->type) {
        case TN_LIST:
                for (size_t i = 0; i < n->n_kids; i++) {
                        r = walk(s, dot, n->kids[i]);
                        if (r != 0)
                                return r;
                }
                return 0;
        case TN_TEXT:
                r = tpl_buf_put(s->out, s->t->text + n->pos, n->end - n->pos);
                return r < 0 ? tpl_buf_error(s, r) : 0;
        case TN_ACTION:
                r = step(s);
                if (r >= 0)
                        r = eval_pipeline(s, dot, n->pipe, &v);
                if (r < 0)
                        return r;
                /* An action that only declares a variable prints nothing. */
                if (n->pipe->n_decl == 0) {
                        s->at = n;
                        r = tpl_print_value(s->out, v);
                        if (r == -ELOOP)
                                r = tpl_errorf(s, "value nested too deeply to print");
                        else if (r < 0)
                                r = tpl_buf_error(s, r);
                }
                tval_put(&v);
                return r;
        case TN_IF:
        case TN_WITH:
                return walk_if_with(s, dot, n);
        case TN_RANGE:
                return walk_range(s, dot, n);
        case TN_BREAK:
                return WALK_BREAK;
        case TN_CONTINUE:
                return WALK_CONTINUE;
        default:
                s->at = n;
                return tpl_errorf(s, "unknown node");
        }
}

static int render(const berth_template *t, json_object *data, bool header, struct tbuf *out,
                  berth_error *err)
{
        struct tstate s = { .t = t, .header = header, .out = out, .err = err };
        struct tval dot = { true, data };
        int r;

        r = push_var(&s, "$", tval_ref(data));
        if (r >= 0)
                r = walk(&s, dot, t->root);
        pop_vars(&s, 0);
        free(s.vars);
        return r < 0 ? r : 0;
}

/* ---- API ---- */

/* docker's formatter.Context.preFormat. */
static int list_format(const char *text, bool *table, char **ret)
{
        size_t len, o = 0;
        char *out;

        *table = false;
        if (strcmp(text, "json") == 0)
                text = "{{json .}}";
        else if (strncmp(text, "table", 5) == 0) {
                *table = true;
                text += 5;
        }
        while (*text == ' ')
                text++;
        len = strlen(text);
        while (len > 0 && text[len - 1] == ' ')
                len--;
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                if (text[i] == '\\' && i + 1 < len && (text[i + 1] == 't' || text[i + 1] == 'n')) {
                        out[o++] = text[i + 1] == 't' ? '\t' : '\n';
                        i++;
                } else {
                        out[o++] = text[i];
                }
        }
        out[o] = '\0';
        *ret = out;
        return 0;
}

int berth_template_parse(const char *text, unsigned flags, berth_template **ret, berth_error *err)
{
        _cleanup_(berth_template_freep) berth_template *t = NULL;
        size_t len;
        int r;

        if (!text || (flags & ~BERTH_TEMPLATE_LIST))
                return berth_error_set(err, EINVAL, "template: invalid arguments");
        len = strlen(text);
        if (len > BERTH_TEMPLATE_MAX_TEXT)
                return berth_error_set(err, E2BIG, "template: longer than %d bytes",
                                       BERTH_TEMPLATE_MAX_TEXT);
        t = calloc(1, sizeof(*t));
        if (!t)
                return berth_error_set(err, ENOMEM, "template: out of memory");
        if (flags & BERTH_TEMPLATE_LIST)
                r = list_format(text, &t->table, &t->text);
        else
                r = (t->text = strdup(text)) ? 0 : -ENOMEM;
        if (r < 0)
                return berth_error_set(err, ENOMEM, "template: out of memory");
        t->len = strlen(t->text);
        r = tpl_parse(t, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

bool berth_template_is_table(const berth_template *t)
{
        return t->table;
}

void berth_template_free(berth_template *t)
{
        if (!t)
                return;
        tpl_node_free(t->root);
        free(t->text);
        free(t);
}

static int render_string(const berth_template *t, json_object *data, bool header, char **ret,
                         size_t *ret_len, berth_error *err)
{
        struct tbuf out = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        int r = render(t, data, header, &out, err);

        if (r < 0) {
                tpl_buf_release(&out);
                return r;
        }
        if (!out.data) {
                out.data = strdup("");
                if (!out.data)
                        return berth_error_set(err, ENOMEM, "template: out of memory");
        }
        if (ret_len)
                *ret_len = out.len;
        *ret = out.data;
        return 0;
}

int berth_template_render(const berth_template *t, json_object *data, char **ret, size_t *ret_len,
                          berth_error *err)
{
        return render_string(t, data, false, ret, ret_len, err);
}

int berth_template_render_header(const berth_template *t, json_object *headers, char **ret,
                                 size_t *ret_len, berth_error *err)
{
        return render_string(t, headers, true, ret, ret_len, err);
}

static int format_table(const berth_template *t, json_object *rows, json_object *headers, FILE *out,
                        berth_error *err)
{
        _cleanup_(berth_tabwriter_freep) berth_tabwriter *tw =
                berth_tabwriter_new(10, 1, 3, ' ', 0);
        struct tbuf head = TBUF_INIT(BERTH_TEMPLATE_MAX_OUTPUT);
        berth_error ignored = BERTH_ERROR_INIT;
        _cleanup_(json_object_putp) json_object *empty = NULL;
        size_t n = rows ? json_object_array_length(rows) : 0;
        int r;

        if (!tw)
                return berth_error_set(err, ENOMEM, "template: out of memory");
        if (!headers) {
                headers = empty = json_object_new_object();
                if (!empty)
                        return berth_error_set(err, ENOMEM, "template: out of memory");
        }
        /* docker ignores a header row that fails and prints what it rendered before failing. */
        if (render(t, headers, true, &head, &ignored) == -ENOMEM) {
                tpl_buf_release(&head);
                berth_error_release(&ignored);
                return berth_error_set(err, ENOMEM, "template: out of memory");
        }
        berth_error_release(&ignored);
        r = berth_tabwriter_write(tw, head.data ? head.data : "", head.len, err);
        tpl_buf_release(&head);
        if (r >= 0)
                r = berth_tabwriter_write(tw, "\n", 1, err);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *row = NULL;
                size_t len;

                r = berth_template_render(t, json_object_array_get_idx(rows, i), &row, &len, err);
                if (r >= 0)
                        r = berth_tabwriter_write(tw, row, len, err);
                if (r >= 0)
                        r = berth_tabwriter_write(tw, "\n", 1, err);
        }
        if (r < 0)
                return r;
        return berth_tabwriter_flush(tw, out, err);
}

int berth_template_format_list(const berth_template *t, json_object *rows, json_object *headers,
                               FILE *out, berth_error *err)
{
        struct tbuf all = TBUF_INIT(SIZE_MAX);
        size_t n;
        int r = 0;

        if (rows && !json_object_is_type(rows, json_type_array))
                return berth_error_set(err, EINVAL, "template: the rows must be a JSON array");
        if (t->table)
                return format_table(t, rows, headers, out, err);
        /* Like docker, nothing is printed unless every row renders. */
        n = rows ? json_object_array_length(rows) : 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *row = NULL;
                size_t len;

                r = berth_template_render(t, json_object_array_get_idx(rows, i), &row, &len, err);
                if (r >= 0 && (tpl_buf_put(&all, row, len) < 0 || tpl_buf_putc(&all, '\n') < 0))
                        r = berth_error_set(err, ENOMEM, "template: out of memory");
        }
        if (r >= 0 && all.len > 0 && fwrite(all.data, 1, all.len, out) != all.len)
                r = berth_error_set(err, EIO, "template: write failed");
        tpl_buf_release(&all);
        return r;
}
