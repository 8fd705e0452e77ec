/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for image/snapshot.c, image/snapshot-copy.c and
 * image/image-mount.c, as root, on a store in a temporary directory whose
 * layers are written straight into the store's layer transactions: the
 * overlay and vfs drivers must show the same tree (whiteouts and opaque
 * directories applied, attributes kept), changes must land in the upper
 * directory and never in a layer, a 128-layer image must mount, and a
 * mounted image must not be deletable.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/fs.h"
#include "image/snapshot-copy.h"
#include "image/snapshot.h"
#include "image/store-internal.h"
#include "image/store.h"

#define DEEP_LAYERS 128
#define MTIME       1000000000

static char tmp[256];          /* the test's own directory */
static char outside[300];      /* a directory a layer's symlink points at */
static berth_store *store;     /* at tmp/root */
static berth_image img3;       /* three layers, the interesting ones */
static berth_image img_deep;   /* DEEP_LAYERS layers */
static berth_image img_empty;  /* no layer */
static berth_image img_single; /* the bottom layer alone */
static unsigned snap_seq;

/* ---- building layers ---- */

static void write_at(int dfd, const char *path, const char *data, mode_t mode)
{
        int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void mkdir_at(int dfd, const char *path)
{
        assert_int_equal(mkdirat(dfd, path, 0755), 0);
        assert_int_equal(fchmodat(dfd, path, 0755, 0), 0);
}

static void whiteout_at(int dfd, const char *path)
{
        assert_int_equal(mknodat(dfd, path, S_IFCHR | 0000, makedev(0, 0)), 0);
}

static void xattr_at(int dfd, const char *path, const char *name, const char *value)
{
        char p[512];
        snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dfd, path);
        assert_int_equal(lsetxattr(p, name, value, strlen(value), 0), 0);
}

static void layer1(int d)
{
        struct timespec ts[2] = { { MTIME, 0 }, { MTIME, 0 } };

        mkdir_at(d, "etc");
        write_at(d, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644);
        assert_int_equal(utimensat(d, "etc/passwd", ts, 0), 0);
        write_at(d, "etc/removed-file", "gone\n", 0644);
        mkdir_at(d, "etc/removed-dir");
        mkdir_at(d, "etc/removed-dir/sub");
        write_at(d, "etc/removed-dir/sub/file", "deep\n", 0644);
        mkdir_at(d, "bin");
        write_at(d, "bin/sh", "#!shell\n", 0755);
        assert_int_equal(symlinkat("sh", d, "bin/sh-link"), 0);
        write_at(d, "hard-a", "linked\n", 0644);
        assert_int_equal(linkat(d, "hard-a", d, "hard-b", 0), 0);
        mkdir_at(d, "opq");
        write_at(d, "opq/old", "old\n", 0644);
        mkdir_at(d, "opq/olddir");
        write_at(d, "opq/olddir/x", "x\n", 0644);
        mkdir_at(d, "merge");
        write_at(d, "merge/lower", "lower\n", 0644);
        assert_int_equal(utimensat(d, "merge/lower", ts, 0), 0);
        write_at(d, "suid", "suid\n", 04755);
        write_at(d, "owned", "owned\n", 0640);
        assert_int_equal(fchownat(d, "owned", 1000, 2000, 0), 0);
        assert_int_equal(fchmodat(d, "owned", 0640, 0), 0);
        write_at(d, "xattr-file", "x\n", 0644);
        xattr_at(d, "xattr-file", "user.test", "hello");
        assert_int_equal(mkfifoat(d, "fifo", 0600), 0);
        assert_int_equal(mknodat(d, "null", S_IFCHR | 0666, makedev(1, 3)), 0);
        write_at(d, "f2d", "will be a directory\n", 0644);
        mkdir_at(d, "d2f");
        write_at(d, "d2f/inner", "inner\n", 0644);
        assert_int_equal(symlinkat(outside, d, "escape"), 0);
}

static void layer2(int d)
{
        mkdir_at(d, "etc");
        whiteout_at(d, "etc/removed-file");
        whiteout_at(d, "etc/removed-dir");
        write_at(d, "etc/passwd", "root:x:0:0:new\n", 0600);
        mkdir_at(d, "opq");
        xattr_at(d, "opq", "trusted.overlay.opaque", "y");
        write_at(d, "opq/new", "new\n", 0644);
        mkdir_at(d, "merge");
        write_at(d, "merge/upper", "upper\n", 0644);
        mkdir_at(d, "f2d");
        write_at(d, "f2d/child", "child\n", 0644);
        write_at(d, "d2f", "now a file\n", 0644);
        mkdir_at(d, "escape");
        write_at(d, "escape/pwned", "pwned\n", 0644);
}

static void layer3(int d)
{
        mkdir_at(d, "etc");
        write_at(d, "etc/removed-file", "back again\n", 0644);
        mkdir_at(d, "merge");
        write_at(d, "merge/upper2", "third\n", 0644);
        whiteout_at(d, "never-there");
        mkdir_at(d, "h");
        mkdir_at(d, "h/two");
        write_at(d, "h/one", "one\n", 0644);
        assert_int_equal(linkat(d, "h/one", d, "h/two/other", 0), 0);
        assert_int_equal(fchmodat(d, ".", 0751, 0), 0);
}

static void make_layer(const char *name, const char *parent, void (*fill)(int dfd, unsigned i),
                       unsigned i, char chain[BERTH_DIGEST_STR_MAX])
{
        _cleanup_(berth_layer_tx_freep) berth_layer_tx *tx = NULL;
        berth_error err = BERTH_ERROR_INIT;
        char diff[BERTH_DIGEST_STR_MAX], seed[128];

        snprintf(seed, sizeof(seed), "chain %s", name);
        berth_digest_buffer(seed, strlen(seed), chain);
        snprintf(seed, sizeof(seed), "diff %s", name);
        berth_digest_buffer(seed, strlen(seed), diff);
        assert_int_equal(berth_store_layer_begin(store, chain, &tx, &err), 0);
        fill(berth_layer_tx_dirfd(tx), i);
        assert_int_equal(berth_layer_tx_commit(tx, diff, parent, 100, &err), 0);
}

static void fill_three(int dfd, unsigned i)
{
        if (i == 0)
                layer1(dfd);
        else if (i == 1)
                layer2(dfd);
        else
                layer3(dfd);
}

static void fill_deep(int dfd, unsigned i)
{
        char name[32], data[32];

        snprintf(name, sizeof(name), "f%03u", i);
        write_at(dfd, name, name, 0644);
        snprintf(data, sizeof(data), "%u\n", i);
        write_at(dfd, "top", data, 0644);
}

static void add_image(const char *name, char (*chains)[BERTH_DIGEST_STR_MAX], size_t n,
                      berth_image *ret)
{
        berth_image_layer *layers = calloc(n + 1, sizeof(*layers));
        berth_error err = BERTH_ERROR_INIT;
        char cfg[BERTH_DIGEST_STR_MAX], man[BERTH_DIGEST_STR_MAX], json[256], ref[128];
        char *names[] = { ref, NULL };
        berth_image_add a = { 0 };

        assert_non_null(layers);
        snprintf(json, sizeof(json), "{\"os\":\"linux\",\"comment\":\"config of %s\"}", name);
        assert_int_equal(berth_store_blob_put(store, json, strlen(json), NULL, cfg, &err), 0);
        snprintf(json, sizeof(json), "{\"schemaVersion\":2,\"comment\":\"manifest of %s\"}", name);
        assert_int_equal(berth_store_blob_put(store, json, strlen(json), NULL, man, &err), 0);
        for (size_t i = 0; i < n; i++) {
                memcpy(layers[i].chain_id, chains[i], BERTH_DIGEST_STR_MAX);
                memcpy(layers[i].diff_id, chains[i], BERTH_DIGEST_STR_MAX);
                memcpy(layers[i].blob_digest, chains[i], BERTH_DIGEST_STR_MAX);
                layers[i].blob_media_type = "application/vnd.oci.image.layer.v1.tar";
        }
        snprintf(ref, sizeof(ref), "docker.io/library/%s:latest", name);
        a.config_digest = cfg;
        a.manifest_digest = man;
        a.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
        a.layers = layers;
        a.n_layers = n;
        a.names = names;
        assert_int_equal(berth_store_image_add(store, &a, &err), 0);
        free(layers);
        assert_int_equal(berth_store_image_get(store, cfg, ret, &err), 0);
        assert_int_equal(ret->n_layers, n);
}

static int setup(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        char chains[DEEP_LAYERS][BERTH_DIGEST_STR_MAX], root[300], run[300];

        (void)state;
        if (geteuid() != 0)
                return 0;
        snprintf(tmp, sizeof(tmp), "/tmp/berth-test-snapshot-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        snprintf(outside, sizeof(outside), "%s/outside", tmp);
        snprintf(root, sizeof(root), "%s/root", tmp);
        snprintf(run, sizeof(run), "%s/run", tmp);
        assert_int_equal(mkdir(outside, 0755), 0);
        if (berth_store_open(root, run, &store, &err) < 0) {
                fprintf(stderr, "%s\n", berth_error_msg(&err));
                return -1;
        }
        for (size_t i = 0; i < 3; i++) {
                char name[16];
                snprintf(name, sizeof(name), "l%zu", i);
                make_layer(name, i ? chains[i - 1] : NULL, fill_three, (unsigned)i, chains[i]);
        }
        add_image("three", chains, 3, &img3);
        add_image("single", chains, 1, &img_single);
        add_image("empty", chains, 0, &img_empty);
        for (unsigned i = 0; i < DEEP_LAYERS; i++) {
                char name[16];
                snprintf(name, sizeof(name), "deep%u", i);
                make_layer(name, i ? chains[i - 1] : NULL, fill_deep, i, chains[i]);
        }
        add_image("deep", chains, DEEP_LAYERS, &img_deep);
        return 0;
}

/* Lines of the mount table that mention the test's directory. */
static int mounts_below_tmp(void)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        int n = 0;

        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (strstr(line, tmp))
                        n++;
        fclose(f);
        return n;
}

/* After a failed test: whatever it left mounted below tmp, newest first. */
static void unmount_leftovers(void)
{
        for (int tries = 0; tries < 64 && mounts_below_tmp() > 0; tries++) {
                FILE *f = fopen("/proc/self/mountinfo", "re");
                char line[4096], last[4096] = "";

                while (f && fgets(line, sizeof(line), f)) {
                        char *p = strstr(line, tmp), *end;
                        if (p && (end = strchr(p, ' '))) {
                                *end = '\0';
                                snprintf(last, sizeof(last), "%s", p);
                        }
                }
                if (f)
                        fclose(f);
                if (last[0])
                        umount2(last, MNT_DETACH);
        }
}

static int teardown(void **state)
{
        berth_error err = BERTH_ERROR_INIT;

        (void)state;
        if (!store)
                return 0;
        unmount_leftovers();
        berth_image_release(&img3);
        berth_image_release(&img_deep);
        berth_image_release(&img_empty);
        berth_image_release(&img_single);
        berth_store_free(store);
        if (berth_rm_rf_at(AT_FDCWD, tmp, &err) < 0) {
                fprintf(stderr, "teardown: %s\n", berth_error_msg(&err));
                berth_error_release(&err);
                return -1;
        }
        return 0;
}

static void need_root(void)
{
        if (!store)
                skip();
}

/* A fresh directory path for one snapshot. */
static void snap_dir(char *buf, size_t size, const char *tag)
{
        snprintf(buf, size, "%s/snap-%u-%s", tmp, snap_seq++, tag);
}

/* ---- looking at trees ---- */

static void list_xattrs(FILE *out, const char *path)
{
        char names[4096], value[256];
        ssize_t n = llistxattr(path, names, sizeof(names));

        assert_true(n >= 0);
        /* listxattr's order is the file system's: sort by emitting in a fixed pass order */
        for (int pass = 0; pass < 2; pass++)
                for (char *k = names; k < names + n; k += strlen(k) + 1) {
                        bool user = strncmp(k, "user.", 5) == 0;
                        ssize_t vn;
                        if (user != (pass == 0))
                                continue;
                        vn = lgetxattr(path, k, value, sizeof(value) - 1);
                        assert_true(vn >= 0);
                        value[vn] = '\0';
                        fprintf(out, " %s=%s", k, value);
                }
}

/* One line per entry, sorted by name per directory: what a user could tell apart. */
static void list_tree(FILE *out, const char *base, const char *rel, bool with_size_of_dirs)
{
        char path[1024];
        struct dirent **names = NULL;
        struct stat st;
        int n;

        snprintf(path, sizeof(path), "%s%s%s", base, *rel ? "/" : "", rel);
        assert_int_equal(lstat(path, &st), 0);
        fprintf(out, "/%s %o %u:%u mtime=%lld.%09ld", rel, st.st_mode, st.st_uid, st.st_gid,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (S_ISREG(st.st_mode)) {
                char digest[BERTH_DIGEST_STR_MAX];
                berth_error err = BERTH_ERROR_INIT;
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(berth_digest_fd(fd, digest, &err), 0);
                close(fd);
                fprintf(out, " size=%lld %s", (long long)st.st_size, digest + 7);
        } else if (S_ISLNK(st.st_mode)) {
                char target[1024];
                ssize_t len = readlink(path, target, sizeof(target) - 1);
                assert_true(len >= 0);
                target[len] = '\0';
                fprintf(out, " -> %s", target);
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                fprintf(out, " dev=%u:%u", major(st.st_rdev), minor(st.st_rdev));
        } else if (S_ISDIR(st.st_mode) && with_size_of_dirs) {
                fprintf(out, " size=%lld", (long long)st.st_size);
        }
        list_xattrs(out, path);
        fputc('\n', out);
        if (!S_ISDIR(st.st_mode))
                return;
        n = scandir(path, &names, NULL, alphasort);
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
                char sub[1024];
                if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
                        snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
                                 names[i]->d_name);
                        list_tree(out, base, sub, with_size_of_dirs);
                }
                free(names[i]);
        }
        free(names);
}

static char *tree_listing(const char *base, bool with_size_of_dirs)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        list_tree(f, base, "", with_size_of_dirs);
        fclose(f);
        return buf;
}

static char *read_text(const char *base, const char *rel)
{
        char path[1024], *buf = NULL;
        size_t len = 0;
        berth_error err = BERTH_ERROR_INIT;

        snprintf(path, sizeof(path), "%s/%s", base, rel);
        if (berth_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, &err) < 0) {
                berth_error_release(&err);
                return NULL;
        }
        return buf;
}

static void assert_text(const char *base, const char *rel, const char *want)
{
        _cleanup_free_ char *got = read_text(base, rel);
        if (!got)
                fail_msg("%s/%s: missing, wanted \"%s\"", base, rel, want);
        assert_string_equal(got, want);
}

static void assert_absent(const char *base, const char *rel)
{
        char path[1024];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        if (lstat(path, &st) == 0)
                fail_msg("%s exists, should not", path);
        assert_int_equal(errno, ENOENT);
}

static struct stat stat_of(const char *base, const char *rel)
{
        char path[1024];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        if (lstat(path, &st) < 0)
                fail_msg("%s: %s", path, strerror(errno));
        return st;
}

/* What the three layers make, whichever driver shows it. */
static void assert_three_layer_tree(const char *r)
{
        struct stat a, b;
        char p[1024], target[64];
        ssize_t n;

        assert_text(r, "etc/passwd", "root:x:0:0:new\n");
        assert_int_equal(stat_of(r, "etc/passwd").st_mode & 07777, 0600);
        assert_text(r, "etc/removed-file", "back again\n");
        assert_absent(r, "etc/removed-dir");
        assert_absent(r, "never-there");
        /* opaque: the upper directory alone */
        assert_text(r, "opq/new", "new\n");
        assert_absent(r, "opq/old");
        assert_absent(r, "opq/olddir");
        /* not opaque: merged */
        assert_text(r, "merge/lower", "lower\n");
        assert_text(r, "merge/upper", "upper\n");
        assert_text(r, "merge/upper2", "third\n");
        assert_true(S_ISDIR(stat_of(r, "f2d").st_mode));
        assert_text(r, "f2d/child", "child\n");
        assert_text(r, "d2f", "now a file\n");
        /* the lower symlink was replaced, never followed */
        assert_true(S_ISDIR(stat_of(r, "escape").st_mode));
        assert_text(r, "escape/pwned", "pwned\n");
        assert_absent(outside, "pwned");
        assert_text(r, "bin/sh", "#!shell\n");
        assert_int_equal(stat_of(r, "bin/sh").st_mode & 07777, 0755);
        snprintf(p, sizeof(p), "%s/bin/sh-link", r);
        n = readlink(p, target, sizeof(target) - 1);
        assert_int_equal(n, 2);
        target[n] = '\0';
        assert_string_equal(target, "sh");
        assert_int_equal(stat_of(r, "suid").st_mode & 07777, 04755);
        a = stat_of(r, "owned");
        assert_int_equal(a.st_uid, 1000);
        assert_int_equal(a.st_gid, 2000);
        assert_int_equal(a.st_mode & 07777, 0640);
        assert_true(S_ISFIFO(stat_of(r, "fifo").st_mode));
        a = stat_of(r, "null");
        assert_true(S_ISCHR(a.st_mode));
        assert_int_equal(a.st_rdev, makedev(1, 3));
        snprintf(p, sizeof(p), "%s/xattr-file", r);
        n = lgetxattr(p, "user.test", target, sizeof(target));
        assert_int_equal(n, 5);
        assert_memory_equal(target, "hello", 5);
        /* the root's attributes are the top layer's */
        assert_int_equal(stat_of(r, "").st_mode & 07777, 0751);
        /* hardlinks of one layer stay one file */
        a = stat_of(r, "hard-a");
        b = stat_of(r, "hard-b");
        assert_int_equal(a.st_ino, b.st_ino);
        a = stat_of(r, "h/one");
        b = stat_of(r, "h/two/other");
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(stat_of(r, "merge/lower").st_mtim.tv_sec, MTIME);
}

static void assert_no_whiteouts_or_markers(const char *listing)
{
        assert_null(strstr(listing, "dev=0:0"));
        assert_null(strstr(listing, "trusted.overlay"));
}

static void assert_read_only(const char *r)
{
        char p[1024];
        snprintf(p, sizeof(p), "%s/new-file", r);
        assert_int_equal(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
        assert_int_equal(errno, EROFS);
}

static void assert_driver_file(const char *dir, const char *want)
{
        _cleanup_free_ char *got = read_text(dir, "driver");
        assert_non_null(got);
        assert_string_equal(got, want);
}

static char *layer_listing(const berth_image *img, size_t i)
{
        _cleanup_free_ char *p = berth_store_layer_path(store, img->layers[i].chain_id);
        assert_non_null(p);
        return tree_listing(p, true);
}

/* ---- tests ---- */

static void test_driver_strings(void **state)
{
        berth_snapshot_driver d;

        (void)state;
        for (int i = 0; i < _BERTH_SNAPSHOT_DRIVER_MAX; i++) {
                const char *s = berth_snapshot_driver_to_string((berth_snapshot_driver)i);
                assert_non_null(s);
                assert_int_equal(berth_snapshot_driver_from_string(s, &d), 0);
                assert_int_equal(d, i);
        }
        assert_null(berth_snapshot_driver_to_string(_BERTH_SNAPSHOT_DRIVER_MAX));
        assert_int_equal(berth_snapshot_driver_from_string("overlay2", &d), 0);
        assert_int_equal(d, BERTH_SNAPSHOT_OVERLAY);
        assert_int_equal(berth_snapshot_driver_from_string("", &d), 0);
        assert_int_equal(d, BERTH_SNAPSHOT_AUTO);
        assert_int_equal(berth_snapshot_driver_from_string("btrfs", &d), -EINVAL);
        assert_int_equal(berth_snapshot_driver_from_string("Overlay", &d), -EINVAL);
}

/* Read-only (image mount): overlay and vfs must show the same tree. */
static void test_overlay_and_vfs_agree(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *ovl = NULL, *vfs = NULL, *lo = NULL, *lv = NULL;
        char d1[512], d2[512];

        (void)state;
        need_root();
        snap_dir(d1, sizeof(d1), "ovl");
        snap_dir(d2, sizeof(d2), "vfs");
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d1, BERTH_SNAPSHOT_OVERLAY, true, &ovl, &err),
                0);
        if (berth_snapshot_mount(store, &img3, d2, BERTH_SNAPSHOT_VFS, true, &vfs, &err) < 0)
                fail_msg("%s", berth_error_msg(&err));
        assert_string_equal(ovl + strlen(d1), "/merged");
        assert_string_equal(vfs + strlen(d2), "/rootfs");
        assert_driver_file(d1, "overlay\n");
        assert_driver_file(d2, "vfs\n");

        assert_three_layer_tree(ovl);
        assert_three_layer_tree(vfs);
        lo = tree_listing(ovl, false);
        lv = tree_listing(vfs, false);
        assert_no_whiteouts_or_markers(lo);
        assert_no_whiteouts_or_markers(lv);
        assert_string_equal(lo, lv);
        assert_read_only(ovl);
        assert_read_only(vfs);

        /* a second mount of a mounted snapshot is refused */
        {
                char *again = NULL;
                assert_int_equal(berth_snapshot_mount(store, &img3, d1, BERTH_SNAPSHOT_OVERLAY,
                                                      true, &again, &err),
                                 -EBUSY);
                assert_null(again);
                berth_error_release(&err);
        }

        assert_int_equal(berth_snapshot_unmount(d1, true, &err), 0);
        assert_int_equal(berth_snapshot_unmount(d2, true, &err), 0);
        assert_absent(d1, "");
        assert_absent(d2, "");
        assert_int_equal(mounts_below_tmp(), 0);
        /* unmounting what is gone is fine */
        assert_int_equal(berth_snapshot_unmount(d1, true, &err), 0);
}

static void test_overlay_writable(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *rootfs = NULL, *again = NULL, *before0 = NULL, *before2 = NULL;
        _cleanup_free_ char *after0 = NULL, *after2 = NULL;
        char d[512], p[1024], upper[600];
        struct stat st;

        (void)state;
        need_root();
        before0 = layer_listing(&img3, 0);
        before2 = layer_listing(&img3, 2);
        snap_dir(d, sizeof(d), "rw");
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_OVERLAY, false, &rootfs, &err),
                0);
        assert_three_layer_tree(rootfs);
        snprintf(p, sizeof(p), "%s/newfile", rootfs);
        write_at(AT_FDCWD, p, "fresh\n", 0644);
        snprintf(p, sizeof(p), "%s/etc/passwd", rootfs);
        write_at(AT_FDCWD, p, "changed\n", 0600);
        snprintf(p, sizeof(p), "%s/bin/sh", rootfs);
        assert_int_equal(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/merge/lower", rootfs);
        assert_int_equal(unlink(p), 0);

        /* the changes are in upper, in overlay's form ... */
        snprintf(upper, sizeof(upper), "%s/upper", d);
        assert_text(upper, "newfile", "fresh\n");
        assert_text(upper, "etc/passwd", "changed\n");
        st = stat_of(upper, "bin/sh");
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(0, 0));
        /* ... upper's root has the top layer's attributes ... */
        assert_int_equal(stat_of(upper, "").st_mode & 07777, 0751);
        /* ... and no layer changed */
        after0 = layer_listing(&img3, 0);
        after2 = layer_listing(&img3, 2);
        assert_string_equal(before0, after0);
        assert_string_equal(before2, after2);
        {
                _cleanup_free_ char *l0 = berth_store_layer_path(store, img3.layers[0].chain_id);
                assert_text(l0, "bin/sh", "#!shell\n");
                assert_text(l0, "merge/lower", "lower\n");
        }

        /* unmount keeping the changes, and mount again: a container's restart */
        assert_int_equal(berth_snapshot_unmount(d, false, &err), 0);
        assert_int_equal(mounts_below_tmp(), 0);
        assert_text(upper, "newfile", "fresh\n");
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_AUTO, false, &again, &err), 0);
        assert_string_equal(again, rootfs);
        assert_text(rootfs, "newfile", "fresh\n");
        assert_text(rootfs, "etc/passwd", "changed\n");
        assert_absent(rootfs, "bin/sh");
        assert_int_equal(berth_snapshot_unmount(d, false, &err), 0);
        /* the other driver cannot take over an overlay's changes */
        free(again);
        again = NULL;
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_VFS, false, &again, &err),
                -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "overlay driver"));
        berth_error_release(&err);
        assert_text(upper, "newfile", "fresh\n");

        assert_int_equal(berth_snapshot_unmount(d, true, &err), 0);
        assert_absent(d, "");
        assert_int_equal(mounts_below_tmp(), 0);
}

static void test_vfs_writable(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *rootfs = NULL, *before = NULL, *after = NULL, *again = NULL;
        berth_snapshot_driver drv;
        bool mounted = true;
        char d[512], p[1024];

        (void)state;
        need_root();
        before = layer_listing(&img3, 1);
        snap_dir(d, sizeof(d), "vfs-rw");
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_VFS, false, &rootfs, &err), 0);
        assert_three_layer_tree(rootfs);
        assert_int_equal(berth_snapshot_info(d, &drv, NULL, &mounted, &err), 0);
        assert_int_equal(drv, BERTH_SNAPSHOT_VFS);
        assert_false(mounted);
        snprintf(p, sizeof(p), "%s/opq/new", rootfs);
        write_at(AT_FDCWD, p, "rewritten\n", 0644);
        after = layer_listing(&img3, 1);
        assert_string_equal(before, after);
        /* the copy is kept across unmount, not made again */
        assert_int_equal(berth_snapshot_unmount(d, false, &err), 0);
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_AUTO, false, &again, &err), 0);
        assert_text(again, "opq/new", "rewritten\n");
        assert_int_equal(berth_snapshot_unmount(d, true, &err), 0);
        assert_absent(d, "");
}

static void test_auto(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *rootfs = NULL, *rootfs2 = NULL;
        char d[512], comma[512];

        (void)state;
        need_root();
        /* overlay where it works */
        snap_dir(d, sizeof(d), "auto");
        assert_int_equal(
                berth_snapshot_mount(store, &img3, d, BERTH_SNAPSHOT_AUTO, true, &rootfs, &err), 0);
        assert_driver_file(d, "overlay\n");
        assert_int_equal(berth_snapshot_unmount(d, true, &err), 0);

        /* a directory overlay's options cannot name: overlay fails, auto copies */
        snap_dir(comma, sizeof(comma), "a,b");
        assert_int_equal(berth_snapshot_mount(store, &img3, comma, BERTH_SNAPSHOT_OVERLAY, true,
                                              &rootfs2, &err),
                         -EINVAL);
        berth_error_release(&err);
        assert_absent(comma, "driver");
        assert_absent(comma, "merged");
        assert_int_equal(berth_snapshot_mount(store, &img3, comma, BERTH_SNAPSHOT_AUTO, true,
                                              &rootfs2, &err),
                         0);
        assert_driver_file(comma, "vfs\n");
        assert_three_layer_tree(rootfs2);
        assert_read_only(rootfs2);
        assert_int_equal(berth_snapshot_unmount(comma, true, &err), 0);
        assert_int_equal(mounts_below_tmp(), 0);
}

static void test_deep_image(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *rootfs = NULL, *rw = NULL, *cwd_before = NULL, *cwd_after = NULL;
        size_t absolute = 0;
        char d[512], d2[512], name[32];

        (void)state;
        need_root();
        /* the point of short lowerdirs: absolute ones would not fit in a page */
        for (size_t i = 0; i < img_deep.n_layers; i++) {
                _cleanup_free_ char *p = berth_store_layer_path(store, img_deep.layers[i].chain_id);
                absolute += strlen(p) + 1;
        }
        assert_true(absolute > 4096);

        cwd_before = getcwd(NULL, 0);
        snap_dir(d, sizeof(d), "deep");
        if (berth_snapshot_mount(store, &img_deep, d, BERTH_SNAPSHOT_OVERLAY, true, &rootfs, &err) <
            0)
                fail_msg("%s", berth_error_msg(&err));
        cwd_after = getcwd(NULL, 0);
        assert_string_equal(cwd_before, cwd_after);
        for (unsigned i = 0; i < DEEP_LAYERS; i++) {
                snprintf(name, sizeof(name), "f%03u", i);
                assert_text(rootfs, name, name);
        }
        assert_text(rootfs, "top", "127\n");
        /* and with an upper too */
        snap_dir(d2, sizeof(d2), "deep-rw");
        assert_int_equal(berth_snapshot_mount(store, &img_deep, d2, BERTH_SNAPSHOT_OVERLAY, false,
                                              &rw, &err),
                         0);
        assert_text(rw, "f000", "f000");
        assert_int_equal(berth_snapshot_unmount(d, true, &err), 0);
        assert_int_equal(berth_snapshot_unmount(d2, true, &err), 0);
        assert_int_equal(mounts_below_tmp(), 0);
}

static void test_small_images(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *e_ro = NULL, *e_rw = NULL, *s_ro = NULL, *e_vfs = NULL;
        _cleanup_free_ char *listing = NULL;
        char d1[512], d2[512], d3[512], d4[512], p[1024];

        (void)state;
        need_root();
        snap_dir(d1, sizeof(d1), "empty-ro");
        assert_int_equal(berth_snapshot_mount(store, &img_empty, d1, BERTH_SNAPSHOT_OVERLAY, true,
                                              &e_ro, &err),
                         0);
        listing = tree_listing(e_ro, false);
        assert_int_equal(strchr(listing, '\n') - listing + 1,
                         (long)strlen(listing)); /* root only */
        assert_int_equal(stat_of(e_ro, "").st_mode & 07777, 0755);
        assert_read_only(e_ro);

        snap_dir(d2, sizeof(d2), "empty-rw");
        assert_int_equal(berth_snapshot_mount(store, &img_empty, d2, BERTH_SNAPSHOT_OVERLAY, false,
                                              &e_rw, &err),
                         0);
        snprintf(p, sizeof(p), "%s/hello", e_rw);
        write_at(AT_FDCWD, p, "hi\n", 0644);
        assert_text(d2, "upper/hello", "hi\n");

        snap_dir(d3, sizeof(d3), "single-ro");
        assert_int_equal(berth_snapshot_mount(store, &img_single, d3, BERTH_SNAPSHOT_OVERLAY, true,
                                              &s_ro, &err),
                         0);
        assert_text(s_ro, "etc/removed-file", "gone\n");
        assert_text(s_ro, "opq/old", "old\n");
        assert_read_only(s_ro);

        snap_dir(d4, sizeof(d4), "empty-vfs");
        assert_int_equal(
                berth_snapshot_mount(store, &img_empty, d4, BERTH_SNAPSHOT_VFS, true, &e_vfs, &err),
                0);
        assert_read_only(e_vfs);

        assert_int_equal(berth_snapshot_unmount(d1, true, &err), 0);
        assert_int_equal(berth_snapshot_unmount(d2, true, &err), 0);
        assert_int_equal(berth_snapshot_unmount(d3, true, &err), 0);
        assert_int_equal(berth_snapshot_unmount(d4, true, &err), 0);
        assert_int_equal(mounts_below_tmp(), 0);
}

static void test_bad_dirs(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        char *rootfs = NULL;
        char target[512], link[512];

        (void)state;
        need_root();
        snap_dir(target, sizeof(target), "target");
        snap_dir(link, sizeof(link), "link");
        assert_int_equal(mkdir(target, 0700), 0);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(berth_snapshot_mount(store, &img3, link, BERTH_SNAPSHOT_OVERLAY, true,
                                              &rootfs, &err),
                         -ELOOP);
        assert_non_null(strstr(berth_error_msg(&err), "symlink"));
        berth_error_release(&err);
        assert_int_equal(berth_snapshot_unmount(link, true, &err), -ELOOP);
        berth_error_release(&err);
        assert_absent(target, "merged");
        assert_int_equal(berth_snapshot_mount(store, &img3, "relative/dir", BERTH_SNAPSHOT_VFS,
                                              true, &rootfs, &err),
                         -EINVAL);
        berth_error_release(&err);
        assert_null(rootfs);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(rmdir(target), 0);
}

/* berth image mount: the mount keeps the image from being deleted. */
static void test_image_mount_blocks_delete(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *path = NULL, *again = NULL;
        berth_image_mount_info *list = NULL;
        berth_image img = { 0 };
        char chains[1][BERTH_DIGEST_STR_MAX];
        size_t n = 0;

        (void)state;
        need_root();
        memcpy(chains[0], img3.layers[0].chain_id, BERTH_DIGEST_STR_MAX);
        add_image("deletable", chains, 1, &img);
        assert_int_equal(berth_image_mount(store, &img, BERTH_SNAPSHOT_AUTO, &path, &err), 0);
        assert_non_null(strstr(path, "/root/mounts/"));
        assert_text(path, "opq/old", "old\n");
        /* mounted again: the same path */
        assert_int_equal(berth_image_mount(store, &img, BERTH_SNAPSHOT_AUTO, &again, &err), 0);
        assert_string_equal(again, path);
        assert_int_equal(berth_image_mount_list(store, &list, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].image_id, img.id);
        assert_string_equal(list[0].path, path);
        berth_image_mounts_free(list, n);

        assert_int_equal(berth_store_image_delete(store, img.id, &err), -EBUSY);
        assert_non_null(strstr(berth_error_msg(&err), "in use by a mount"));
        berth_error_release(&err);
        {
                berth_image still = { 0 };
                assert_int_equal(berth_store_image_get(store, img.id, &still, &err), 0);
                berth_image_release(&still);
        }

        assert_int_equal(berth_image_unmount(store, img.id, &err), 0);
        assert_int_equal(mounts_below_tmp(), 0);
        assert_int_equal(berth_image_unmount(store, img.id, &err), -EINVAL);
        assert_non_null(strstr(berth_error_msg(&err), "not mounted"));
        berth_error_release(&err);
        assert_int_equal(berth_image_mount_list(store, &list, &n, &err), 0);
        assert_int_equal(n, 0);
        berth_image_mounts_free(list, n);
        assert_int_equal(berth_store_image_delete(store, img.id, &err), 0);
        /* a deleted image cannot be mounted */
        free(again);
        again = NULL;
        assert_int_equal(berth_image_mount(store, &img, BERTH_SNAPSHOT_AUTO, &again, &err),
                         -ENOENT);
        berth_error_release(&err);
        assert_int_equal(mounts_below_tmp(), 0);
        berth_image_release(&img);
}

/* A mount row from an earlier boot (its mount is gone) does not keep the image. */
static void test_stale_mount_row(void **state)
{
        berth_error err = BERTH_ERROR_INIT;
        _cleanup_free_ char *path = NULL, *dir = NULL;
        berth_image img = { 0 };
        char chains[1][BERTH_DIGEST_STR_MAX];

        (void)state;
        need_root();
        memcpy(chains[0], img3.layers[1].chain_id, BERTH_DIGEST_STR_MAX);
        add_image("rebooted", chains, 1, &img);
        assert_int_equal(berth_image_mount(store, &img, BERTH_SNAPSHOT_VFS, &path, &err), 0);
        assert_non_null(strstr(path, "/rootfs"));
        /* what a reboot does: the mount goes, the row stays with the old boot id */
        assert_int_equal(umount2(path, 0), 0);
        assert_int_equal(
                berth_store_exec(store, "UPDATE image_mounts SET boot_id = 'old-boot'", &err), 0);
        assert_int_equal(berth_store_image_delete(store, img.id, &err), 0);
        dir = strndup(path, strlen(path) - strlen("/rootfs"));
        assert_absent(dir, "");
        assert_int_equal(mounts_below_tmp(), 0);
        berth_image_release(&img);
}

/* A failed test leaves its mounts: take them away so that the next test starts clean. */
static int after_test(void **state)
{
        (void)state;
        if (store)
                unmount_leftovers();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_driver_strings, after_test),
                cmocka_unit_test_teardown(test_overlay_and_vfs_agree, after_test),
                cmocka_unit_test_teardown(test_overlay_writable, after_test),
                cmocka_unit_test_teardown(test_vfs_writable, after_test),
                cmocka_unit_test_teardown(test_auto, after_test),
                cmocka_unit_test_teardown(test_deep_image, after_test),
                cmocka_unit_test_teardown(test_small_images, after_test),
                cmocka_unit_test_teardown(test_bad_dirs, after_test),
                cmocka_unit_test_teardown(test_image_mount_blocks_delete, after_test),
                cmocka_unit_test_teardown(test_stale_mount_row, after_test),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
