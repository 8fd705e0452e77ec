/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What template-parse.c (text to tree), template.c (execution),
 * template-funcs.c (the functions) and template-print.c (Go's printing of
 * values) share. Not an API.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "template.h"

/* A growable byte buffer with a size limit, always NUL-terminated when non-empty. */
struct tbuf {
        char *data;
        size_t len, alloc, max;
};

#define TBUF_INIT(limit)                                                                           \
        {                                                                                          \
                NULL, 0, 0, (limit)                                                                \
        }

/* 0, -ENOMEM, or -E2BIG when the buffer would pass its limit (nothing is added then). */
int tpl_buf_put(struct tbuf *b, const char *s, size_t n);
int tpl_buf_puts(struct tbuf *b, const char *s);
int tpl_buf_putc(struct tbuf *b, char c);
int tpl_buf_repeat(struct tbuf *b, char c, size_t n);
int tpl_buf_printf(struct tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tpl_buf_release(struct tbuf *b);

/*
 * A value during execution. `valid` false is Go's invalid reflect.Value: a
 * missing map key, printed "<no value>". Otherwise `j` is the JSON value,
 * NULL being JSON null (a nil pointer). A tval owns one reference to `j`.
 */
struct tval {
        bool valid;
        json_object *j;
};

#define TVAL_MISSING ((struct tval){ false, NULL })

static inline struct tval tval_ref(json_object *j)
{
        return (struct tval){ true, json_object_get(j) };
}

static inline void tval_put(struct tval *v)
{
        json_object_put(v->j);
        *v = TVAL_MISSING;
}

enum tnode_type {
        TN_LIST,     /* kids: the items */
        TN_TEXT,     /* text outside actions: template text [pos, end) */
        TN_ACTION,   /* {{pipe}} */
        TN_IF,       /* pipe, list, else_list */
        TN_RANGE,    /* pipe, list, else_list */
        TN_WITH,     /* pipe, list, else_list */
        TN_BREAK,    /* {{break}} */
        TN_CONTINUE, /* {{continue}} */
        TN_PIPE,     /* kids: commands; decl: declared variables */
        TN_COMMAND,  /* kids: operands */
        TN_FIELD,    /* .A.B: idents */
        TN_VARIABLE, /* $x.A.B: idents[0] is "$x" */
        TN_CHAIN,    /* (pipe).A.B: node and idents */
        TN_IDENT,    /* a function name: func */
        TN_DOT,      /* . */
        TN_NIL,      /* nil */
        TN_LITERAL,  /* true, 1, 1.5, 'a', "s": literal */
};

struct tpl_func;

struct tnode {
        enum tnode_type type;
        size_t pos, end; /* where the node is in the template text, for messages */
        struct tnode **kids;
        size_t n_kids;
        struct tnode *pipe, *list, *else_list; /* control structures and actions */
        char **decl;                           /* TN_PIPE: "$x" names */
        size_t n_decl;
        bool is_assign; /* TN_PIPE: `=` rather than `:=` */
        char **idents;  /* field names (TN_VARIABLE: the variable's name first) */
        size_t n_idents;
        struct tnode *node; /* TN_CHAIN */
        const struct tpl_func *func;
        json_object *literal; /* TN_LITERAL: a bool, int, double or string */
};

struct berth_template {
        char *text; /* the text parsed (after BERTH_TEMPLATE_LIST's rewriting) */
        size_t len;
        bool table;
        struct tnode *root;
};

/* Parses t->text into t->root. */
int tpl_parse(struct berth_template *t, berth_error *err);
void tpl_node_free(struct tnode *n);

/* Execution state; see template.c. */
struct tvar {
        const char *name;
        struct tval v;
};

struct tstate {
        const struct berth_template *t;
        bool header; /* rendering a table header: docker's header functions */
        struct tbuf *out;
        struct tvar *vars;
        size_t n_vars, alloc_vars;
        size_t steps;
        size_t work;            /* bytes of the values functions returned */
        const struct tnode *at; /* the node being evaluated, for messages */
        berth_error *err;
};

/* Fills s->err with a message located at s->at; returns -EINVAL. */
int tpl_errorf(struct tstate *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like tpl_errorf() with another errno (E2BIG, ENOMEM). */
int tpl_errorf_code(struct tstate *s, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * A function callable from templates. `fn` gets the evaluated arguments
 * (the pipeline's value last) and sets *ret to a new value; it reports
 * errors with tpl_errorf(). `header_identity`: in a table header the
 * function returns its first argument (docker's HeaderFunctions). `lazy`:
 * and/or, whose arguments are evaluated by the executor one at a time.
 */
typedef int (*tpl_fn)(struct tstate *s, struct tval *args, size_t n, struct tval *ret);

struct tpl_func {
        const char *name;
        int min_args, max_args; /* max_args -1: variadic */
        tpl_fn fn;
        bool header_identity;
        bool lazy;
};

const struct tpl_func *tpl_func_lookup(const char *name, size_t len);

/* Nesting of data that printing follows; deeper is refused (-ELOOP). */
#define TPL_DEPTH_MAX 512

/* What a value is, in Go's terms. */
enum tkind {
        K_MISSING,
        K_NULL,
        K_BOOL,
        K_INT,
        K_FLOAT,
        K_STRING,
        K_ARRAY,
        K_OBJECT,
};

enum tkind tpl_kind(struct tval v);

/* Whether an integer is past INT64_MAX (json-c keeps those as uint64); its value in *u. */
bool tpl_int_unsigned(json_object *j, uint64_t *u);

/* A string value's bytes and length. */
const char *tpl_str(struct tval v, size_t *len);

/* An object's keys sorted as Go sorts map keys (*ret borrowed from obj, free the array). */
int tpl_sorted_keys(json_object *obj, const char ***ret);

/*
 * Printing, as template-print.c does it. These return 0, -ENOMEM, -E2BIG
 * (the buffer's limit) or -ELOOP (data nested past TPL_DEPTH_MAX).
 *
 * tpl_print_value(): an action's output (%v; missing prints "<no value>").
 * tpl_fmt_v(): an argument of print/println (%v; missing prints "<nil>").
 * tpl_sprintf(): Go's fmt.Sprintf of the format f[0..flen).
 * tpl_json_encode(): encoding/json without HTML escaping; -EDOM for NaN and infinities.
 */
int tpl_print_value(struct tbuf *b, struct tval v);
int tpl_fmt_v(struct tbuf *b, struct tval v);
int tpl_sprintf(struct tbuf *b, const char *f, size_t flen, struct tval *args, size_t n);
int tpl_json_encode(struct tbuf *b, json_object *j);

/* Go's truth of a value: false, 0, "", null, missing and empty containers are false. */
bool tpl_truth(struct tval v);

/* Go's type name of a value in messages: "string", "int", "[]interface {}", ... */
const char *tpl_type_name(struct tval v);

/* Allocation failure or output overflow, as a message at s->at. */
int tpl_buf_error(struct tstate *s, int r);
