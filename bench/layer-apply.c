/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * layer-apply FILE|- DIR: unpacks a layer (plain, gzip or zstd tar) from
 * FILE, or from stdin as a pipe, into DIR, which it creates, and prints the
 * wall time and what berth_layer_apply() reported. As root it keeps
 * ownership, as tar does. bench/layer-apply.sh runs it against tar.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/layer.h"

int main(int argc, char **argv)
{
        berth_layer_options opts = { .what = "layer", .keep_ownership = geteuid() == 0 };
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_close_ int in = -1, dir = -1;
        struct timespec a, b;
        berth_layer_stats stats;

        if (argc != 3) {
                fprintf(stderr, "usage: %s FILE|- DIR\n", argv[0]);
                return 2;
        }
        in = strcmp(argv[1], "-") == 0 ? dup(0) : open(argv[1], O_RDONLY | O_CLOEXEC);
        if (in < 0 || mkdir(argv[2], 0755) < 0 ||
            (dir = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
                fprintf(stderr, "Error: %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (berth_layer_apply(dir, in, &opts, &stats, &err) < 0) {
                fprintf(stderr, "Error: %s\n", berth_error_msg(&err));
                berth_error_release(&err);
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.3f s  %" PRIu64 " entries  %" PRIu64 " bytes (%" PRIu64 " compressed)  %s\n",
               (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, stats.entries,
               stats.tar_bytes, stats.compressed_bytes, stats.diff_id);
        return 0;
}
