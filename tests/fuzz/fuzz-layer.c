/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for layer application. The input is a layer stream
 * (plain, gzip or zstd tar), unpacked with small limits into a fresh layer
 * directory two levels below a temporary base that also holds a sentinel
 * directory. Besides crashes, leaks and undefined behaviour it checks the
 * contract:
 *   - a failure comes with a message that starts by naming the layer;
 *   - nothing outside the layer directory appeared, vanished or changed;
 *   - no fd is left open;
 *   - what was unpacked can be written back as a tar.
 * Each input's directories are removed before the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "image/layer-fs.h"
#include "image/layer.h"

#define WHAT     "layer fuzz"
#define SENTINEL "sentinel\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
        if (!ok) {
                fprintf(stderr, "fuzz-layer: %s\n", what);
                abort();
        }
}

static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        check(d != NULL, "opendir /proc/self/fd");
        while (readdir(d))
                n++;
        return n;
}

/* Directory `path` below basefd holds exactly the one entry `only`. */
static void check_only(int basefd, const char *path, const char *only, const char *only2)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(basefd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct dirent *de;
        int n = 0;

        check(fd >= 0, "open a directory outside the layer");
        d = fdopendir(fd);
        check(d != NULL, "fdopendir");
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                check(strcmp(de->d_name, only) == 0 || (only2 && strcmp(de->d_name, only2) == 0),
                      "an entry appeared outside the layer");
                n++;
        }
        check(n == (only2 ? 2 : 1), "an entry vanished outside the layer");
}

static void check_outside(int basefd, const struct stat *before)
{
        char buf[64];
        struct stat st;
        _cleanup_close_ int fd = -1;

        check_only(basefd, ".", "sentinel", "x");
        check_only(basefd, "x", "y", NULL);
        check_only(basefd, "x/y", "layer", NULL);
        check_only(basefd, "sentinel", "keep", NULL);
        check(fstatat(basefd, "sentinel", &st, AT_SYMLINK_NOFOLLOW) == 0, "stat sentinel");
        check(st.st_mtim.tv_sec == before->st_mtim.tv_sec &&
                      st.st_mtim.tv_nsec == before->st_mtim.tv_nsec &&
                      st.st_mode == before->st_mode,
              "the sentinel directory changed");
        fd = openat(basefd, "sentinel/keep", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        check(fd >= 0, "open sentinel/keep");
        check(fstat(fd, &st) == 0 && st.st_nlink == 1 && st.st_mode == (S_IFREG | 0644),
              "sentinel/keep changed");
        check(read(fd, buf, sizeof(buf)) == (ssize_t)strlen(SENTINEL) &&
                      memcmp(buf, SENTINEL, strlen(SENTINEL)) == 0,
              "sentinel/keep was written");
}

/* The base with its sentinel; returns its fd and fills the names to remove it. */
static int make_base(int *ret_tmpfd, char *name, size_t size, struct stat *sentinel_st)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char path[PATH_MAX];
        int basefd, fd;

        check(snprintf(path, sizeof(path), "%s/berth-fuzz-layer.XXXXXX", tmp) < (int)sizeof(path),
              "TMPDIR too long");
        check(mkdtemp(path) != NULL, "mkdtemp");
        check(snprintf(name, size, "%s", strrchr(path, '/') + 1) < (int)size, "name");
        *ret_tmpfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
        basefd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        check(*ret_tmpfd >= 0 && basefd >= 0, "open the base");
        check(mkdirat(basefd, "sentinel", 0755) == 0 && mkdirat(basefd, "x", 0755) == 0 &&
                      mkdirat(basefd, "x/y", 0755) == 0 && mkdirat(basefd, "x/y/layer", 0755) == 0,
              "mkdir");
        fd = openat(basefd, "sentinel/keep", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        check(fd >= 0 && write(fd, SENTINEL, strlen(SENTINEL)) == (ssize_t)strlen(SENTINEL),
              "write sentinel/keep");
        close(fd);
        check(fstatat(basefd, "sentinel", sentinel_st, AT_SYMLINK_NOFOLLOW) == 0, "stat");
        return basefd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* the options vary with the input's size, so that the corpus covers them all */
        berth_layer_options opts = {
                .what = WHAT,
                .max_entries = 64,
                .max_bytes = 4 << 20,
                .keep_ownership = true,
                .raw_whiteouts = size & 1,
                .allow_devices = size & 2,
                .uid_shift = (size & 4) ? 100000 : 0,
                .gid_shift = (size & 4) ? 100000 : 0,
        };
        berth_error err = BERTH_ERROR_INIT;
        berth_layer_stats stats;
        struct stat sentinel_st;
        char name[64];
        int nfds = count_fds(), tmpfd, basefd, layerfd, infd, outfd, r;

        basefd = make_base(&tmpfd, name, sizeof(name), &sentinel_st);
        layerfd = openat(basefd, "x/y/layer", O_PATH | O_DIRECTORY | O_CLOEXEC);
        infd = memfd_create("layer", MFD_CLOEXEC);
        check(layerfd >= 0 && infd >= 0, "open");
        check(write(infd, data, size) == (ssize_t)size && lseek(infd, 0, SEEK_SET) == 0,
              "write the input");

        r = berth_layer_apply(layerfd, infd, &opts, &stats, &err);
        if (r < 0) {
                check(err.msg && strncmp(err.msg, WHAT ": ", strlen(WHAT) + 2) == 0,
                      "an error without the layer's name");
        } else {
                check(!err.msg, "success with an error message");
                check(stats.entries <= opts.max_entries && stats.tar_bytes <= opts.max_bytes,
                      "limits exceeded");
                check(stats.compressed_bytes == size, "compressed_bytes");
                outfd = memfd_create("out", MFD_CLOEXEC);
                check(outfd >= 0, "memfd");
                if (berth_layer_write_tar(layerfd, outfd, NULL, &err) < 0) {
                        fprintf(stderr, "write_tar: %s\n", err.msg);
                        abort();
                }
                close(outfd);
        }
        berth_error_release(&err);
        close(infd);
        close(layerfd);
        check_outside(basefd, &sentinel_st);
        close(basefd);
        check(layer_remove(tmpfd, name) == 0, "remove the base");
        close(tmpfd);
        check(count_fds() == nfds, "an fd was left open");
        return 0;
}
