/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image mounts (snapshot.h): read-only snapshots at <root>/mounts/<id hex>,
 * recorded in the store's image_mounts table so that the image stays while
 * they exist. Mount and unmount of one image serialise on its "mount" lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/cleanup.h"
#include "basic/log.h"
#include "image/snapshot.h"
#include "image/store-internal.h"

static int mount_dir(berth_store *s, const char *id, char **ret, berth_error *err)
{
        _cleanup_free_ char *mounts = NULL;

        if (asprintf(&mounts, "%s/mounts", berth_store_root(s)) < 0)
                return berth_error_set(err, ENOMEM, "image mount: out of memory");
        if (mkdir(mounts, 0700) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "image mount: mkdir `%s`", mounts);
        if (asprintf(ret, "%s/%s", mounts, berth_digest_hex(id)) < 0)
                return berth_error_set(err, ENOMEM, "image mount: out of memory");
        return 0;
}

/* 1 and the row's boot id when image id has a mount row, 0 when not. */
static int row_get(berth_store *s, const char *id, char boot[BERTH_BOOT_ID_MAX], berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s, "SELECT boot_id FROM image_mounts WHERE image_id = ?", &st,
                                    err),
            rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return berth_store_sql_error(s, rc, err, "find image mount");
        snprintf(boot, BERTH_BOOT_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
        return 1;
}

/* The row goes in before the mount: from then on the image (and so its layers) cannot go. */
static int row_put(berth_store *s, const char *id, const char *dir, const char *boot,
                   berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s,
                                    "INSERT OR REPLACE INTO image_mounts (image_id, dir, boot_id, "
                                    "added) VALUES (?, ?, ?, strftime('%s', 'now'))",
                                    &st, err),
            rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, dir, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, boot, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return berth_error_set(err, ENOENT, "No such image: %s", id);
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "record image mount");
        return 0;
}

static int row_delete(berth_store *s, const char *id, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s, "DELETE FROM image_mounts WHERE image_id = ?", &st, err), rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "remove image mount");
        return 0;
}

static int locked_mount(berth_store *s, const berth_image *img, berth_snapshot_driver driver,
                        const char *dir, char **ret_path, berth_error *err)
{
        char boot[BERTH_BOOT_ID_MAX], row_boot[BERTH_BOOT_ID_MAX];
        berth_error e = BERTH_ERROR_INIT;
        int r;

        berth_store_boot_id(boot);
        r = row_get(s, img->id, row_boot, err);
        if (r < 0)
                return r;
        if (r > 0 && strcmp(row_boot, boot) == 0) {
                _cleanup_free_ char *rootfs = NULL;
                berth_snapshot_driver d;
                bool mounted = false;

                if (berth_snapshot_info(dir, &d, &rootfs, &mounted, &e) < 0)
                        berth_error_release(&e);
                if (mounted) {
                        if (driver != BERTH_SNAPSHOT_AUTO && driver != d)
                                return berth_error_set(err, EINVAL,
                                                       "image %.12s is mounted with the %s "
                                                       "driver; unmount it first",
                                                       berth_digest_hex(img->id),
                                                       berth_snapshot_driver_to_string(d));
                        *ret_path = TAKE_PTR(rootfs);
                        return 0;
                }
        }
        /* Whatever is left (an earlier boot's, or a berth killed mid-way) goes first. */
        r = berth_snapshot_unmount(dir, true, err);
        if (r < 0)
                return r;
        r = row_put(s, img->id, dir, boot, err);
        if (r < 0)
                return r;
        r = berth_snapshot_mount(s, img, dir, driver, true, ret_path, err);
        if (r < 0) {
                if (berth_snapshot_unmount(dir, true, &e) < 0 || row_delete(s, img->id, &e) < 0) {
                        log_warn("image mount: %s", berth_error_msg(&e));
                        berth_error_release(&e);
                }
                return berth_error_prefix(err, "mount image %.12s", berth_digest_hex(img->id));
        }
        return 0;
}

int berth_image_mount(berth_store *s, const berth_image *img, berth_snapshot_driver driver,
                      char **ret_path, berth_error *err)
{
        _cleanup_free_ char *dir = NULL;
        int lk, r;

        *ret_path = NULL;
        r = mount_dir(s, img->id, &dir, err);
        if (r < 0)
                return r;
        lk = berth_store_lock(s, "mount", img->id, true, err);
        if (lk < 0)
                return lk;
        r = locked_mount(s, img, driver, dir, ret_path, err);
        berth_store_unlock(s, "mount", img->id, lk, false);
        return r;
}

int berth_image_unmount(berth_store *s, const char *image_id, berth_error *err)
{
        _cleanup_free_ char *dir = NULL;
        char row_boot[BERTH_BOOT_ID_MAX];
        int lk, r;

        r = mount_dir(s, image_id, &dir, err);
        if (r < 0)
                return r;
        lk = berth_store_lock(s, "mount", image_id, true, err);
        if (lk < 0)
                return lk;
        r = row_get(s, image_id, row_boot, err);
        if (r == 0)
                r = berth_error_set(err, EINVAL, "image %.12s is not mounted",
                                    berth_digest_hex(image_id));
        if (r > 0)
                r = berth_snapshot_unmount(dir, true, err);
        /* The row stays when the unmount failed: the image is still in use then. */
        if (r >= 0)
                r = row_delete(s, image_id, err);
        berth_store_unlock(s, "mount", image_id, lk, false);
        return r;
}

void berth_image_mounts_free(berth_image_mount_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].path);
        free(v);
}

int berth_image_mount_list(berth_store *s, berth_image_mount_info **ret, size_t *ret_n,
                           berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        char boot[BERTH_BOOT_ID_MAX];
        berth_image_mount_info *v = NULL;
        size_t n = 0;
        int r, rc;

        *ret = NULL;
        *ret_n = 0;
        berth_store_boot_id(boot);
        r = berth_store_prepare(s,
                                "SELECT image_id, dir FROM image_mounts WHERE boot_id = ? "
                                "ORDER BY added, image_id",
                                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, boot, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                berth_error e = BERTH_ERROR_INIT;
                berth_image_mount_info *nv;
                char *rootfs = NULL;
                bool mounted = false;

                /* Only what is mounted now: a row without a mount is a killed berth's. */
                if (berth_snapshot_info((const char *)sqlite3_column_text(st, 1), NULL, &rootfs,
                                        &mounted, &e) < 0)
                        berth_error_release(&e);
                if (!mounted) {
                        free(rootfs);
                        continue;
                }
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        free(rootfs);
                        berth_image_mounts_free(v, n);
                        return berth_error_set(err, ENOMEM, "image mounts: out of memory");
                }
                v = nv;
                snprintf(v[n].image_id, sizeof(v[n].image_id), "%s",
                         (const char *)sqlite3_column_text(st, 0));
                v[n++].path = rootfs;
        }
        if (rc != SQLITE_DONE) {
                berth_image_mounts_free(v, n);
                return berth_store_sql_error(s, rc, err, "list image mounts");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
