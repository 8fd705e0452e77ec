/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "image/image.h"

/* A berth_progress that prints to out (see progress.c). */
struct cli_progress {
        berth_progress progress;
        FILE *out;
        bool tty, quiet, push;
        struct line *lines;
        size_t n_lines;
};

void cli_progress_init(struct cli_progress *p, FILE *out, bool quiet, bool push);
void cli_progress_release(struct cli_progress *p);
