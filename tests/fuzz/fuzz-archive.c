/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for `berth load`: each input is an archive stream
 * (tar, maybe compressed) loaded into a store in a temporary directory.
 * Besides crashes, leaks and undefined behaviour it checks the contract
 * that a failed load leaves no image and says why, and that a successful
 * one recorded what it reports; loaded images are removed again (and the
 * store garbage-collected) so that inputs stay independent.
 */
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/image-archive.h"
#include "image/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static berth_store *store;
static char dir[] = "/tmp/berth-fuzz-archive-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static void cleanup(void)
{
        berth_store_free(store);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char root[64], run[64];
        berth_error err = BERTH_ERROR_INIT;

        (void)argc, (void)argv;
        if (!mkdtemp(dir))
                abort();
        snprintf(root, sizeof(root), "%s/root", dir);
        snprintf(run, sizeof(run), "%s/run", dir);
        if (berth_store_open(root, run, &store, &err) < 0) {
                fprintf(stderr, "%s\n", berth_error_msg(&err));
                abort();
        }
        atexit(cleanup);
        return 0;
}

static size_t count_images(void)
{
        berth_image *all = NULL;
        size_t n = 0;
        berth_error err = BERTH_ERROR_INIT;

        if (berth_store_image_list(store, &all, &n, &err) < 0)
                abort();
        berth_images_free(all, n);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* Small bounds, so that an input cannot make the fuzzer write gigabytes. */
        berth_load_options opts = { .max_entries = 256, .max_bytes = 16u << 20 };
        berth_load_result res = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        int fd = memfd_create("archive", MFD_CLOEXEC);
        int r;

        if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET))
                abort();
        r = berth_image_load(store, fd, &opts, &res, &err);
        close(fd);
        if (r < 0) {
                if (!err.msg || res.n_images || count_images() != 0)
                        abort();
                berth_error_release(&err);
        } else {
                for (size_t i = 0; i < res.n_images; i++) {
                        berth_image img = { 0 };
                        if (berth_store_image_get(store, res.images[i].id, &img, &err) < 0)
                                abort();
                        berth_image_release(&img);
                        if (berth_store_image_delete(store, res.images[i].id, &err) < 0)
                                abort();
                }
                berth_load_result_release(&res);
        }
        if (berth_store_gc(store, NULL, NULL, NULL, &err) < 0)
                abort();
        return 0;
}
