/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Go's elastic-tabstop algorithm (text/tabwriter, as copied into docker's
 * CLI with display widths): cells are collected per line; at a flush,
 * format() walks the lines column by column, finds each block of
 * consecutive lines that have a cell in the column, sizes the column for
 * that block and then handles the columns to its right within the block.
 * Go recurses once per column; a line of output may have many thousands of
 * cells, so here the recursion is an explicit stack.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "tabwriter.h"
#include "utf8.h"

#define ESCAPE '\xff'

struct cell {
        size_t size; /* bytes of text in buf */
        long width;  /* display width; signed as Go's, escapes subtract from it */
        bool htab;   /* terminated by '\t' (not '\v') */
};

struct line {
        struct cell *cells;
        size_t n, alloc;
};

struct frame {
        size_t line0, line1, this;
};

struct berth_tabwriter {
        long minwidth, tabwidth, padding;
        char padchar;
        unsigned flags;

        char *buf; /* text of all cells, without the tabs and newlines */
        size_t len, alloc;
        size_t pos;       /* buf offset up to which cell.width is computed */
        struct cell cell; /* the cell being written */
        char endchar;     /* ESCAPE while inside an escaped segment, else 0 */

        struct line *lines;
        size_t n_lines, alloc_lines;

        long *widths; /* widths of the columns to the left, during format() */
        size_t n_widths, alloc_widths;
        struct frame *frames;
        size_t alloc_frames;
        size_t fmt_pos; /* buf offset of the next cell format() writes */

        char *out; /* formatted text waiting for berth_tabwriter_flush() */
        size_t out_len, out_alloc;
        bool failed; /* an allocation failed: the content is incomplete */
};

/* Grows *p (of *alloc elements of `size` bytes) to hold `need`; false on ENOMEM. */
static bool grow(void **p, size_t *alloc, size_t need, size_t size)
{
        size_t n = *alloc ? *alloc : 8;
        void *q;

        if (need <= *alloc)
                return true;
        while (n < need) {
                if (n > SIZE_MAX / 2 / size)
                        return false;
                n *= 2;
        }
        q = realloc(*p, n * size);
        if (!q)
                return false;
        *p = q;
        *alloc = n;
        return true;
}

static void out_write(berth_tabwriter *tw, const char *s, size_t n)
{
        if (tw->failed || n == 0)
                return;
        if (tw->out_len + n < tw->out_len ||
            !grow((void **)&tw->out, &tw->out_alloc, tw->out_len + n, 1)) {
                tw->failed = true;
                return;
        }
        memcpy(tw->out + tw->out_len, s, n);
        tw->out_len += n;
}

static void out_repeat(berth_tabwriter *tw, char c, long n)
{
        char chunk[64];

        memset(chunk, c, sizeof(chunk));
        while (n > 0) {
                size_t k = n > (long)sizeof(chunk) ? sizeof(chunk) : (size_t)n;
                out_write(tw, chunk, k);
                n -= (long)k;
        }
}

static void add_line(berth_tabwriter *tw)
{
        if (!grow((void **)&tw->lines, &tw->alloc_lines, tw->n_lines + 1, sizeof(struct line))) {
                tw->failed = true;
                return;
        }
        tw->lines[tw->n_lines++] = (struct line){ 0 };
}

static void reset(berth_tabwriter *tw)
{
        for (size_t i = 0; i < tw->n_lines; i++)
                free(tw->lines[i].cells);
        tw->n_lines = 0;
        tw->len = 0;
        tw->pos = 0;
        tw->cell = (struct cell){ 0 };
        tw->endchar = 0;
        tw->n_widths = 0;
        tw->fmt_pos = 0;
        add_line(tw);
}

berth_tabwriter *berth_tabwriter_new(unsigned minwidth, unsigned tabwidth, unsigned padding,
                                     char padchar, unsigned flags)
{
        const unsigned supported = BERTH_TABWRITER_ALIGN_RIGHT | BERTH_TABWRITER_DISCARD_EMPTY |
                                   BERTH_TABWRITER_TAB_INDENT | BERTH_TABWRITER_DEBUG;
        berth_tabwriter *tw;

        /* Widths are longs; a column wider than a million is a caller's bug. */
        if ((flags & ~supported) || minwidth > 1000000 || tabwidth > 1000000 || padding > 1000000) {
                errno = EINVAL;
                return NULL;
        }
        tw = calloc(1, sizeof(*tw));
        if (!tw)
                return NULL;
        tw->minwidth = minwidth;
        tw->tabwidth = tabwidth;
        tw->padding = padding;
        tw->padchar = padchar;
        /* Padding with tabs can only align left. */
        tw->flags = padchar == '\t' ? flags & ~BERTH_TABWRITER_ALIGN_RIGHT : flags;
        /* buf is never NULL, so that offsets into it are always defined. */
        if (!grow((void **)&tw->buf, &tw->alloc, 64, 1))
                tw->failed = true;
        reset(tw);
        if (tw->failed) {
                berth_tabwriter_free(tw);
                errno = ENOMEM;
                return NULL;
        }
        return tw;
}

void berth_tabwriter_free(berth_tabwriter *tw)
{
        if (!tw)
                return;
        for (size_t i = 0; i < tw->n_lines; i++)
                free(tw->lines[i].cells);
        free(tw->lines);
        free(tw->buf);
        free(tw->widths);
        free(tw->frames);
        free(tw->out);
        free(tw);
}

static void append_text(berth_tabwriter *tw, const char *s, size_t n)
{
        if (n == 0 || tw->failed)
                return;
        if (tw->len + n < tw->len || !grow((void **)&tw->buf, &tw->alloc, tw->len + n, 1)) {
                tw->failed = true;
                return;
        }
        memcpy(tw->buf + tw->len, s, n);
        tw->len += n;
        tw->cell.size += n;
}

static void update_width(berth_tabwriter *tw)
{
        if (tw->failed)
                return;
        tw->cell.width += (long)berth_text_width(tw->buf + tw->pos, tw->len - tw->pos);
        tw->pos = tw->len;
}

static void end_escape(berth_tabwriter *tw)
{
        update_width(tw);
        tw->cell.width -= 2; /* the two ESCAPE bytes are output but take no room */
        tw->pos = tw->len;
        tw->endchar = 0;
}

/* Ends the current cell; returns the number of cells in its line. */
static size_t terminate_cell(berth_tabwriter *tw, bool htab)
{
        struct line *l;

        if (tw->failed)
                return 0;
        l = &tw->lines[tw->n_lines - 1];
        if (!grow((void **)&l->cells, &l->alloc, l->n + 1, sizeof(struct cell))) {
                tw->failed = true;
                return 0;
        }
        tw->cell.htab = htab;
        l->cells[l->n++] = tw->cell;
        tw->cell = (struct cell){ 0 };
        return l->n;
}

static void write_padding(berth_tabwriter *tw, long textw, long cellw, bool use_tabs)
{
        if (tw->padchar == '\t' || use_tabs) {
                if (tw->tabwidth == 0)
                        return; /* tabs have no width: no padding possible */
                cellw = (cellw + tw->tabwidth - 1) / tw->tabwidth * tw->tabwidth;
                if (cellw > textw)
                        out_repeat(tw, '\t', (cellw - textw + tw->tabwidth - 1) / tw->tabwidth);
                return;
        }
        out_repeat(tw, tw->padchar, cellw - textw);
}

static void write_lines(berth_tabwriter *tw, size_t line0, size_t line1)
{
        for (size_t i = line0; i < line1; i++) {
                const struct line *l = &tw->lines[i];
                bool use_tabs = tw->flags & BERTH_TABWRITER_TAB_INDENT;

                for (size_t j = 0; j < l->n; j++) {
                        const struct cell *c = &l->cells[j];
                        bool in_column = j < tw->n_widths;

                        if (j > 0 && (tw->flags & BERTH_TABWRITER_DEBUG))
                                out_write(tw, "|", 1);
                        if (c->size == 0) {
                                if (in_column)
                                        write_padding(tw, c->width, tw->widths[j], use_tabs);
                                continue;
                        }
                        use_tabs = false;
                        if (!(tw->flags & BERTH_TABWRITER_ALIGN_RIGHT)) {
                                out_write(tw, tw->buf + tw->fmt_pos, c->size);
                                tw->fmt_pos += c->size;
                                if (in_column)
                                        write_padding(tw, c->width, tw->widths[j], false);
                        } else {
                                if (in_column)
                                        write_padding(tw, c->width, tw->widths[j], false);
                                out_write(tw, tw->buf + tw->fmt_pos, c->size);
                                tw->fmt_pos += c->size;
                        }
                }
                if (i + 1 == tw->n_lines) {
                        /* The last line has no newline yet: write the open cell as is. */
                        out_write(tw, tw->buf + tw->fmt_pos, tw->cell.size);
                        tw->fmt_pos += tw->cell.size;
                } else {
                        out_write(tw, "\n", 1);
                }
        }
}

static bool push_frame(berth_tabwriter *tw, size_t *n_frames, size_t line0, size_t line1)
{
        if (!grow((void **)&tw->frames, &tw->alloc_frames, *n_frames + 1, sizeof(struct frame)))
                return false;
        tw->frames[(*n_frames)++] = (struct frame){ line0, line1, line0 };
        return true;
}

/*
 * Frame k formats lines [line0, line1) knowing the widths of columns 0..k-1
 * (tw->widths holds exactly k entries while frame k is on top). A line takes
 * part in column k when it has a cell there that is not its last one.
 */
static void format(berth_tabwriter *tw)
{
        size_t n_frames = 0;

        if (!push_frame(tw, &n_frames, 0, tw->n_lines)) {
                tw->failed = true;
                return;
        }
        while (n_frames > 0 && !tw->failed) {
                struct frame *f = &tw->frames[n_frames - 1];
                size_t column = n_frames - 1, start, end;
                long width = tw->minwidth;
                bool discardable = true;

                while (f->this < f->line1 && column + 1 >= tw->lines[f->this].n)
                        f->this ++;
                if (f->this == f->line1) {
                        write_lines(tw, f->line0, f->line1);
                        n_frames--;
                        if (tw->n_widths > 0)
                                tw->n_widths--;
                        continue;
                }

                /* A block of column `column` starts at f->this. */
                write_lines(tw, f->line0, f->this);
                for (end = f->this; end < f->line1; end++) {
                        const struct line *l = &tw->lines[end];
                        const struct cell *c;

                        if (column + 1 >= l->n)
                                break;
                        c = &l->cells[column];
                        if (c->width + tw->padding > width)
                                width = c->width + tw->padding;
                        if (c->width > 0 || c->htab)
                                discardable = false;
                }
                if (discardable && (tw->flags & BERTH_TABWRITER_DISCARD_EMPTY))
                        width = 0;

                if (!grow((void **)&tw->widths, &tw->alloc_widths, tw->n_widths + 1,
                          sizeof(long))) {
                        tw->failed = true;
                        return;
                }
                tw->widths[tw->n_widths++] = width;
                /* The block's own lines are written by the frame for the next column. */
                start = f->this;
                f->line0 = end;
                f->this = end;
                if (!push_frame(tw, &n_frames, start, end)) {
                        tw->failed = true;
                        return;
                }
        }
}

static void flush_buffered(berth_tabwriter *tw)
{
        if (tw->cell.size > 0) {
                if (tw->endchar)
                        end_escape(tw); /* an unterminated escape ends here */
                terminate_cell(tw, false);
        }
        format(tw);
        reset(tw);
}

int berth_tabwriter_write(berth_tabwriter *tw, const char *text, size_t len, berth_error *err)
{
        size_t n = 0;

        for (size_t i = 0; i < len && !tw->failed; i++) {
                char ch = text[i];

                if (tw->endchar) {
                        if (ch == ESCAPE) {
                                append_text(tw, text + n, i + 1 - n);
                                n = i + 1;
                                end_escape(tw);
                        }
                        continue;
                }
                if (ch == '\t' || ch == '\v' || ch == '\n' || ch == '\f') {
                        size_t ncells;

                        append_text(tw, text + n, i - n);
                        update_width(tw);
                        n = i + 1;
                        ncells = terminate_cell(tw, ch == '\t');
                        if (ch == '\n' || ch == '\f') {
                                add_line(tw);
                                /*
                                 * A line of one cell ends every column, so what
                                 * is buffered can be formatted now (Go does the
                                 * same); '\f' ends the columns by definition.
                                 */
                                if (ch == '\f' || ncells == 1) {
                                        flush_buffered(tw);
                                        if (ch == '\f' && (tw->flags & BERTH_TABWRITER_DEBUG))
                                                out_write(tw, "---\n", 4);
                                }
                        }
                } else if (ch == ESCAPE) {
                        append_text(tw, text + n, i - n);
                        update_width(tw);
                        n = i; /* the ESCAPE byte stays in the text */
                        tw->endchar = ESCAPE;
                }
        }
        append_text(tw, text + n, len - n);
        if (tw->failed) {
                tw->failed = false;
                tw->out_len = 0;
                reset(tw);
                return berth_error_set(err, ENOMEM, "table writer: out of memory");
        }
        return 0;
}

int berth_tabwriter_flush(berth_tabwriter *tw, FILE *out, berth_error *err)
{
        size_t len;

        flush_buffered(tw);
        len = tw->out_len;
        tw->out_len = 0;
        if (tw->failed) {
                tw->failed = false;
                reset(tw);
                return berth_error_set(err, ENOMEM, "table writer: out of memory");
        }
        if (len > 0 && fwrite(tw->out, 1, len, out) != len)
                return berth_error_set(err, EIO, "table writer: write failed");
        return 0;
}
