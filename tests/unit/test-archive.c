/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/archive*.c and import.c: entry names, the load
 * bounds and link rules on archives built here, and an import -> save ->
 * load round trip through two stores in a temporary directory.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/digest.h"
#include "image/archive-internal.h"
#include "image/image-archive.h"
#include "image/store.h"

struct fixture {
        char dir[64];
        berth_store *a, *b;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char root[128], run[128];
        berth_error err = BERTH_ERROR_INIT;

        snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-archive-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(root, sizeof(root), "%s/a", f->dir);
        snprintf(run, sizeof(run), "%s/a-run", f->dir);
        if (berth_store_open(root, run, &f->a, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
        snprintf(root, sizeof(root), "%s/b", f->dir);
        snprintf(run, sizeof(run), "%s/b-run", f->dir);
        if (berth_store_open(root, run, &f->b, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
        *state = f;
        return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        berth_store_free(f->a);
        berth_store_free(f->b);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

/* ---- tars in a memfd ---- */

struct tar {
        struct archive *a;
        int fd;
};

static void tar_begin(struct tar *t)
{
        t->fd = memfd_create("tar", MFD_CLOEXEC);
        assert_true(t->fd >= 0);
        t->a = archive_write_new();
        archive_write_set_format_pax_restricted(t->a);
        assert_int_equal(archive_write_open_fd(t->a, t->fd), ARCHIVE_OK);
}

static void tar_add(struct tar *t, const char *name, unsigned type, const char *data,
                    const char *link)
{
        struct archive_entry *e = archive_entry_new();
        size_t len = data ? strlen(data) : 0;

        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        if (link && type == AE_IFLNK)
                archive_entry_set_symlink(e, link);
        else if (link)
                archive_entry_set_hardlink(e, link);
        assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
        if (len)
                assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

static void tar_file(struct tar *t, const char *name, const char *data)
{
        tar_add(t, name, AE_IFREG, data, NULL);
}

/* Closes the writer and rewinds: the fd is ready to load from. */
static int tar_end(struct tar *t)
{
        archive_write_close(t->a);
        archive_write_free(t->a);
        assert_int_equal(lseek(t->fd, 0, SEEK_SET), 0);
        return t->fd;
}

/* A tar holding one file, as a string (a layer). */
static char *layer_tar(const char *name, const char *content, size_t *len)
{
        struct tar t;
        int fd;
        char *buf;
        off_t size;

        tar_begin(&t);
        tar_file(&t, name, content);
        fd = tar_end(&t);
        size = lseek(fd, 0, SEEK_END);
        buf = malloc((size_t)size + 1);
        assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
        buf[size] = '\0';
        close(fd);
        *len = (size_t)size;
        return buf;
}

static void load_fails(berth_store *s, int fd, const berth_load_options *o, const char *want)
{
        berth_load_result res = { 0 };
        berth_error err = BERTH_ERROR_INIT;
        berth_image *all = NULL;
        size_t n = 0;

        assert_true(berth_image_load(s, fd, o, &res, &err) < 0);
        if (!strstr(berth_error_msg(&err), want))
                fail_msg("message `%s` lacks `%s`", berth_error_msg(&err), want);
        berth_error_release(&err);
        assert_int_equal(res.n_images, 0);
        assert_int_equal(berth_store_image_list(s, &all, &n, &err), 0);
        assert_int_equal(n, 0);
        berth_images_free(all, n);
        close(fd);
}

/* ---- tests ---- */

static void test_clean_name(void **state)
{
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "manifest.json", "manifest.json" },
                { "./manifest.json", "manifest.json" },
                { "././blobs//sha256/", "blobs/sha256" },
                { "./", "" },
                { "a/./b", "a/b" },
                { "a..b/c..", "a..b/c.." },
        };
        static const char *const bad[] = { "../x", "a/../../x", "a/..", "/etc/passwd", "//x" };
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                _cleanup_free_ char *out = NULL;
                assert_int_equal(archive_clean_name(ok[i].in, &out, &err), 0);
                assert_string_equal(out, ok[i].out);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *out = NULL;
                assert_int_equal(archive_clean_name(bad[i], &out, &err), -EINVAL);
                assert_non_null(strstr(berth_error_msg(&err), bad[i]));
                berth_error_release(&err);
        }
}

static void test_sniff_and_formats(void **state)
{
        berth_archive_format f;
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        assert_int_equal(archive_sniff((const unsigned char *)"\x1f\x8b\x08", 3), MAGIC_GZIP);
        assert_int_equal(archive_sniff((const unsigned char *)"\x28\xb5\x2f\xfd", 4), MAGIC_ZSTD);
        assert_int_equal(archive_sniff((const unsigned char *)"\xfd"
                                                              "7zXZ\0",
                                       6),
                         MAGIC_XZ);
        assert_int_equal(archive_sniff((const unsigned char *)"BZh9", 4), MAGIC_BZIP2);
        assert_int_equal(archive_sniff((const unsigned char *)"\x1f", 1), MAGIC_NONE);
        assert_int_equal(archive_sniff((const unsigned char *)"bin/", 4), MAGIC_NONE);
        assert_int_equal(berth_archive_format_from_string("oci-archive", &f, &err), 0);
        assert_int_equal(f, BERTH_ARCHIVE_OCI);
        assert_int_equal(berth_archive_format_from_string("docker-archive", &f, &err), 0);
        assert_int_equal(f, BERTH_ARCHIVE_DOCKER);
        assert_string_equal(berth_archive_format_to_string(BERTH_ARCHIVE_OCI), "oci-archive");
        assert_true(berth_archive_format_from_string("zip", &f, &err) < 0);
        berth_error_release(&err);
}

/* import -> save (both formats) -> load elsewhere: same ID and names, stable bytes. */
static void test_round_trip(void **state)
{
        struct fixture *f = *state;
        char *changes[] = { "CMD [\"sh\"]", "ENV A=1", NULL };
        berth_import_options io = { .reference = "example/rt:1",
                                    .changes = changes,
                                    .have_created = true,
                                    .created = 1704164645 };
        berth_error err = BERTH_ERROR_INIT;
        char id[BERTH_DIGEST_STR_MAX], id2[BERTH_DIGEST_STR_MAX];
        size_t len;
        _cleanup_free_ char *layer = layer_tar("etc/hello", "hello\n", &len);
        char *refs[] = { "example/rt:1" };

        for (int fmt = 0; fmt < 2; fmt++) {
                int in = memfd_create("in", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
                int out2 = memfd_create("out2", MFD_CLOEXEC);
                berth_load_result res = { 0 };
                struct stat st1, st2;

                assert_int_equal(write(in, layer, len), (ssize_t)len);
                lseek(in, 0, SEEK_SET);
                if (berth_image_import(f->a, in, &io, id, &err) < 0)
                        fail_msg("%s", berth_error_msg(&err));
                /* Again: the same ID (the same tarball, changes and time). */
                lseek(in, 0, SEEK_SET);
                assert_int_equal(berth_image_import(f->a, in, &io, id2, &err), 0);
                assert_string_equal(id, id2);
                if (berth_image_save(f->a, refs, 1, (berth_archive_format)fmt, out, &err) < 0)
                        fail_msg("%s", berth_error_msg(&err));
                lseek(out, 0, SEEK_SET);
                if (berth_image_load(f->b, out, NULL, &res, &err) < 0)
                        fail_msg("%s", berth_error_msg(&err));
                assert_int_equal(res.n_images, 1);
                assert_string_equal(res.images[0].id, id);
                assert_string_equal(res.images[0].names[0], "docker.io/example/rt:1");
                assert_null(res.images[0].names[1]);
                berth_load_result_release(&res);
                /* The second store writes the same archive. */
                assert_int_equal(
                        berth_image_save(f->b, refs, 1, (berth_archive_format)fmt, out2, &err), 0);
                fstat(out, &st1);
                fstat(out2, &st2);
                assert_int_equal(st1.st_size, st2.st_size);
                {
                        char *b1 = malloc((size_t)st1.st_size), *b2 = malloc((size_t)st2.st_size);
                        assert_int_equal(pread(out, b1, (size_t)st1.st_size, 0), st1.st_size);
                        assert_int_equal(pread(out2, b2, (size_t)st2.st_size, 0), st2.st_size);
                        assert_memory_equal(b1, b2, (size_t)st1.st_size);
                        free(b1);
                        free(b2);
                }
                close(in);
                close(out);
                close(out2);
        }
}

static void test_bounds(void **state)
{
        struct fixture *f = *state;
        berth_load_options few = { .max_entries = 3 }, small = { .max_bytes = 10 };
        struct tar t;

        tar_begin(&t);
        for (int i = 0; i < 5; i++)
                tar_file(&t, i == 0 ? "a" : i == 1 ? "b" : i == 2 ? "c" : i == 3 ? "d" : "e", "x");
        load_fails(f->a, tar_end(&t), &few, "more than 3 entries");

        tar_begin(&t);
        tar_file(&t, "big", "more than ten bytes of data");
        load_fails(f->a, tar_end(&t), &small, "entry `big`");

        /* manifest.json over its bound: a stream of spaces, still "JSON". */
        tar_begin(&t);
        {
                size_t n = BERTH_ARCHIVE_META_MAX + 1;
                char *big = malloc(n + 1);
                memset(big, ' ', n);
                big[n] = '\0';
                tar_file(&t, "manifest.json", big);
                free(big);
        }
        load_fails(f->a, tar_end(&t), NULL, "entry `manifest.json`: larger than");
}

static void test_links_and_names(void **state)
{
        struct fixture *f = *state;
        struct tar t;

        tar_begin(&t);
        tar_add(&t, "a/layer.tar", AE_IFLNK, NULL, "../../outside.tar");
        load_fails(f->a, tar_end(&t), NULL, "escapes the archive");

        tar_begin(&t);
        tar_add(&t, "a/layer.tar", AE_IFLNK, NULL, "/etc/passwd");
        load_fails(f->a, tar_end(&t), NULL, "link to the absolute path");

        tar_begin(&t);
        tar_file(&t, "blobs/sha256/not-a-digest", "x");
        load_fails(f->a, tar_end(&t), NULL, "not named by a sha256 digest");

        tar_begin(&t);
        tar_add(&t, "dev", AE_IFCHR, NULL, NULL);
        load_fails(f->a, tar_end(&t), NULL, "entry `dev`: not a file, directory or link");

        /* Links that loop are found when they are followed. */
        tar_begin(&t);
        tar_file(&t, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[]}]");
        tar_add(&t, "c.json", AE_IFLNK, NULL, "d.json");
        tar_add(&t, "d.json", AE_IFLNK, NULL, "c.json");
        load_fails(f->a, tar_end(&t), NULL, "too many levels of links");

        tar_begin(&t);
        load_fails(f->a, tar_end(&t), NULL, "the archive is empty");
}

static void test_manifest_errors(void **state)
{
        struct fixture *f = *state;
        struct tar t;

        tar_begin(&t);
        tar_file(&t, "manifest.json", "{\"not\":\"an array\"}");
        load_fails(f->a, tar_end(&t), NULL, "manifest.json: expected an array");

        tar_begin(&t);
        tar_file(&t, "manifest.json", "[{\"Config\":7,\"Layers\":[]}]");
        load_fails(f->a, tar_end(&t), NULL, "[0].Config");

        tar_begin(&t);
        tar_file(&t, "manifest.json", "[{\"Config\":\"missing.json\",\"Layers\":[]}]");
        load_fails(f->a, tar_end(&t), NULL, "`missing.json` is not in the archive");

        /* A config with one diff_id, and no layer for it. */
        tar_begin(&t);
        tar_file(&t, "manifest.json", "[{\"Config\":\"c.json\",\"Layers\":[]}]");
        tar_file(&t, "c.json",
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                 "\"diff_ids\":[\"sha256:"
                 "0000000000000000000000000000000000000000000000000000000000000000\"]}}");
        load_fails(f->a, tar_end(&t), NULL, "lists 0 layers but config `c.json` has 1 diff_ids");

        tar_begin(&t);
        tar_file(&t, "index.json",
                 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
                 "\"sha256:"
                 "1111111111111111111111111111111111111111111111111111111111111111"
                 "\",\"size\":2}]}");
        load_fails(f->a, tar_end(&t), NULL, "index.json: manifests[0]");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_name),
                cmocka_unit_test(test_sniff_and_formats),
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_links_and_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_manifest_errors, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
