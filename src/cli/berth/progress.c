/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pull/push progress as docker prints it: on a terminal one line per layer,
 * redrawn in place with a bar; otherwise a line per change of state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/berth/cli.h"
#include "cli/berth/progress.h"

struct line {
        char id[16];
        berth_progress_state state;
};

static const char *state_text(berth_progress_state st, bool push)
{
        switch (st) {
        case BERTH_PROGRESS_WAITING:
                return push ? "Waiting" : "Waiting";
        case BERTH_PROGRESS_EXISTS:
                return "Already exists";
        case BERTH_PROGRESS_DOWNLOADING:
                return "Downloading";
        case BERTH_PROGRESS_EXTRACTING:
                return "Extracting";
        case BERTH_PROGRESS_COMPLETE:
                return push ? "Pushed" : "Pull complete";
        case BERTH_PROGRESS_PUSHING:
                return "Pushing";
        case BERTH_PROGRESS_MOUNTED:
                return "Mounted from";
        case BERTH_PROGRESS_SKIPPED:
                return "Layer already exists";
        default:
                return "";
        }
}

static struct line *line_of(struct cli_progress *p, const char *id, size_t *ret_index)
{
        for (size_t i = 0; i < p->n_lines; i++)
                if (strcmp(p->lines[i].id, id) == 0) {
                        *ret_index = i;
                        return &p->lines[i];
                }
        struct line *n = realloc(p->lines, (p->n_lines + 1) * sizeof(*n));
        if (!n)
                return NULL;
        p->lines = n;
        *ret_index = p->n_lines;
        memset(&n[p->n_lines], 0, sizeof(*n));
        snprintf(n[p->n_lines].id, sizeof(n[p->n_lines].id), "%s", id);
        n[p->n_lines].state = (berth_progress_state)-1;
        if (p->tty)
                fputc('\n', p->out); /* the new line's place */
        return &p->lines[p->n_lines++];
}

static void bar(char *buf, size_t len, uint64_t cur, uint64_t total)
{
        char c[16], t[16];
        int width = 50, filled = total ? (int)(cur * width / total) : 0;

        if (filled > width)
                filled = width;
        cli_human_size(cur, c, sizeof(c));
        cli_human_size(total, t, sizeof(t));
        snprintf(buf, len, "[%.*s%s%*s] %8s/%s", filled > 0 ? filled - 1 : 0,
                 "=================================================", filled > 0 ? ">" : "",
                 width - filled, "", c, t);
}

static void update(void *userdata, const char *id, berth_progress_state st, uint64_t cur,
                   uint64_t total, const char *text)
{
        struct cli_progress *p = userdata;
        struct line *l;
        size_t index;
        char extra[128] = "";

        if (p->quiet)
                return;
        if (!id) {
                fprintf(p->out, "%s\n", text ? text : "");
                fflush(p->out);
                return;
        }
        l = line_of(p, id, &index);
        if (!l)
                return;
        if (!p->tty) {
                /* Plain output: a line per state, not per byte. */
                if (l->state == st)
                        return;
                l->state = st;
                if (st == BERTH_PROGRESS_MOUNTED)
                        fprintf(p->out, "%s: Mounted from %s\n", id, text ? text : "");
                else
                        fprintf(p->out, "%s: %s\n", id, state_text(st, p->push));
                fflush(p->out);
                return;
        }
        l->state = st;
        if ((st == BERTH_PROGRESS_DOWNLOADING || st == BERTH_PROGRESS_PUSHING ||
             st == BERTH_PROGRESS_EXTRACTING) &&
            total > 0)
                bar(extra, sizeof(extra), cur, total);
        else if (st == BERTH_PROGRESS_MOUNTED && text)
                snprintf(extra, sizeof(extra), "%s", text);
        /* Up to the layer's line, redraw it, and back down (docker's jsonmessage does the same). */
        size_t up = p->n_lines - index;
        fprintf(p->out, "\033[%zuA\033[2K\r%s: %s %s\033[%zuB\r", up, id, state_text(st, p->push),
                extra, up);
        fflush(p->out);
}

void cli_progress_init(struct cli_progress *p, FILE *out, bool quiet, bool push)
{
        memset(p, 0, sizeof(*p));
        p->out = out;
        p->quiet = quiet;
        p->push = push;
        p->tty = isatty(fileno(out)) && getenv("TERM") && strcmp(getenv("TERM"), "dumb") != 0;
        p->progress.update = update;
        p->progress.userdata = p;
}

void cli_progress_release(struct cli_progress *p)
{
        free(p->lines);
        p->lines = NULL;
        p->n_lines = 0;
}
