/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A column-aligning filter with the semantics of Go's text/tabwriter as
 * docker's CLI uses it for every table it prints (`docker ps`, `images`, ...),
 * so that berth's tables match docker's byte for byte.
 *
 * Text is written in cells: a cell ends at '\t' (or '\v'), a line at '\n'
 * (or '\f'). Cells terminated by a tab in consecutive lines form a column,
 * and every cell of a column is padded to the column's width: the widest
 * cell plus `padding`, at least `minwidth`. The last cell of a line is not
 * tab-terminated, belongs to no column and is never padded. A column block
 * ends at the first line that has no cell in that column (a line with fewer
 * cells), so a short line splits a table into blocks aligned independently.
 * '\f' acts as '\n' and also ends every column.
 *
 * Widths are display widths (berth_text_width()), as docker's copy of the
 * tabwriter counts them: "é" is one column, "日本" four, not bytes.
 * Text between two 0xFF bytes (Go's tabwriter.Escape) is passed through
 * with its tabs and newlines uninterpreted, the 0xFF bytes kept in the output
 * but not counted in the width.
 *
 * docker's configuration is berth_tabwriter_new(10, 1, 3, ' ', 0).
 *
 * Everything written is buffered until berth_tabwriter_flush(), because a
 * column's width may depend on lines still to come. The writer can be reused
 * after a flush. Functions that fail return a negative errno and fill *err;
 * after a failure the writer holds nothing that was written before.
 */

#include <stdio.h>

#include "error.h"

/* Go's flag values. FilterHTML (1) and StripEscape (2) are not supported. */
#define BERTH_TABWRITER_ALIGN_RIGHT (1u << 2) /* pad cells on the left */
#define BERTH_TABWRITER_DISCARD_EMPTY                                                              \
        (1u << 3)                            /* columns of empty '\v'-terminated cells vanish      \
                                              */
#define BERTH_TABWRITER_TAB_INDENT (1u << 4) /* pad leading empty cells with tabs */
#define BERTH_TABWRITER_DEBUG      (1u << 5) /* '|' between columns */

typedef struct berth_tabwriter berth_tabwriter;

/*
 * A new, empty writer (free with berth_tabwriter_free()). `minwidth` is the
 * least width of a column including its padding, `tabwidth` the width of a
 * tab when padchar is '\t' (padding is then done with tabs, cells are always
 * left-aligned), `padding` the columns added to the widest cell. Returns NULL
 * with errno set: EINVAL for unsupported flags, ENOMEM.
 */
berth_tabwriter *berth_tabwriter_new(unsigned minwidth, unsigned tabwidth, unsigned padding,
                                     char padchar, unsigned flags);

/* Adds `len` bytes of text (need not be NUL-terminated). Fails only with -ENOMEM. */
int berth_tabwriter_write(berth_tabwriter *tw, const char *text, size_t len, berth_error *err);

/*
 * Formats everything written since the last flush, writes it to `out` and
 * empties the writer. A line still open (no final '\n') is written without
 * one. -EIO when writing to `out` failed, -ENOMEM.
 */
int berth_tabwriter_flush(berth_tabwriter *tw, FILE *out, berth_error *err);

void berth_tabwriter_free(berth_tabwriter *tw);

static inline void berth_tabwriter_freep(berth_tabwriter **tw)
{
        berth_tabwriter_free(*tw);
}
