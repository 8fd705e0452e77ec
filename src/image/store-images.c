/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image records of the store, and garbage collection (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/cleanup.h"
#include "basic/fd.h"
#include "basic/fs.h"
#include "basic/log.h"
#include "image/reference.h"
#include "image/store-internal.h"
#include "image/store.h"

int berth_store_lease(berth_store *s, berth_error *err)
{
        int fd = openat(AT_FDCWD, berth_store_runroot(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int lk;

        if (fd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", berth_store_runroot(s));
        lk = openat(fd, "locks/gc", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        close(fd);
        if (lk < 0)
                return berth_error_sys(err, errno, "store: lock `%s/locks/gc`",
                                       berth_store_runroot(s));
        while (flock(lk, LOCK_SH) < 0) {
                if (errno == EINTR)
                        continue;
                int e = errno;
                close(lk);
                return berth_error_sys(err, e, "store: lock `%s/locks/gc`", berth_store_runroot(s));
        }
        return lk;
}

void berth_image_release(berth_image *img)
{
        if (!img)
                return;
        free(img->manifest_media_type);
        strv_free(img->names);
        strv_free(img->repo_digests);
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i].blob_media_type);
        free(img->layers);
        memset(img, 0, sizeof(*img));
}

void berth_images_free(berth_image *v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                berth_image_release(&v[i]);
        free(v);
}

static int begin(berth_store *s, berth_error *err)
{
        return berth_store_exec(s, "BEGIN IMMEDIATE", err);
}

static int commit(berth_store *s, int r, berth_error *err)
{
        if (r < 0) {
                sqlite3_exec(berth_store_db(s), "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        r = berth_store_exec(s, "COMMIT", err);
        if (r < 0)
                sqlite3_exec(berth_store_db(s), "ROLLBACK", NULL, NULL, NULL);
        return r;
}

/* Runs a statement with up to three text parameters (NULL binds NULL) to completion. */
static int run3(berth_store *s, const char *sql, const char *a, const char *b, const char *c,
                berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        const char *args[] = { a, b, c };
        int r = berth_store_prepare(s, sql, &st, err), rc;

        if (r < 0)
                return r;
        for (int i = 0; i < sqlite3_bind_parameter_count(st) && i < 3; i++) {
                if (args[i])
                        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
                else
                        sqlite3_bind_null(st, i + 1);
        }
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return berth_store_sql_error(s, rc, err, sql);
        return sqlite3_changes(berth_store_db(s));
}

static int add_rows(berth_store *s, const berth_image_add *a, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r, rc;

        r = berth_store_prepare(s,
                                "INSERT INTO images (id, manifest_digest, manifest_media_type, "
                                "created, added, size) VALUES (?, ?, ?, ?, strftime('%s', 'now'), "
                                "0) ON CONFLICT(id) DO UPDATE SET manifest_digest = "
                                "excluded.manifest_digest, manifest_media_type = "
                                "excluded.manifest_media_type",
                                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, a->config_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, a->manifest_digest, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, a->manifest_media_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, a->created);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "record image");
        sqlite3_finalize(TAKE_PTR(st));

        r = run3(s, "DELETE FROM image_layers WHERE image_id = ?", a->config_digest, NULL, NULL,
                 err);
        if (r < 0)
                return r;
        r = berth_store_prepare(s,
                                "INSERT INTO image_layers (image_id, position, chain_id, diff_id, "
                                "blob_digest, blob_media_type, blob_size) VALUES (?, ?, ?, ?, ?, "
                                "?, ?)",
                                &st, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n_layers; i++) {
                const berth_image_layer *l = &a->layers[i];
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, a->config_digest, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
                sqlite3_bind_text(st, 3, l->chain_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 4, l->diff_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 5, l->blob_digest, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 6, l->blob_media_type ? l->blob_media_type : "", -1,
                                  SQLITE_STATIC);
                sqlite3_bind_int64(st, 7, l->blob_size);
                rc = sqlite3_step(st);
                if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                        return berth_error_set(err, ENOENT,
                                               "image %s: layer %s is not in the store",
                                               a->config_digest, l->chain_id);
                if (rc != SQLITE_DONE)
                        return berth_store_sql_error(s, rc, err, "record image layers");
        }
        r = run3(s,
                 "UPDATE images SET size = (SELECT COALESCE(SUM(l.size), 0) FROM image_layers il "
                 "JOIN layers l ON l.chain_id = il.chain_id WHERE il.image_id = ?1) WHERE id = ?1",
                 a->config_digest, NULL, NULL, err);
        if (r < 0)
                return r;
        for (char *const *n = a->names; n && *n; n++) {
                r = run3(s, "INSERT OR REPLACE INTO names (name, image_id) VALUES (?, ?)", *n,
                         a->config_digest, NULL, err);
                if (r < 0)
                        return r;
        }
        if (a->repo_digest) {
                r = run3(
                        s,
                        "INSERT OR REPLACE INTO repo_digests (repo_digest, image_id) VALUES (?, ?)",
                        a->repo_digest, a->config_digest, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_store_image_add(berth_store *s, const berth_image_add *a, berth_error *err)
{
        int r;

        if (!berth_store_has_blob(s, a->config_digest))
                return berth_error_set(err, ENOENT, "image %s: config blob missing from the store",
                                       a->config_digest);
        if (!berth_store_has_blob(s, a->manifest_digest))
                return berth_error_set(err, ENOENT, "image %s: manifest %s missing from the store",
                                       a->config_digest, a->manifest_digest);
        r = begin(s, err);
        if (r < 0)
                return r;
        return commit(s, add_rows(s, a, err), err);
}

static char **column_strv(berth_store *s, const char *sql, const char *id, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_strv_ char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        int rc;

        if (!v || berth_store_prepare(s, sql, &st, err) < 0)
                return NULL;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char **nv = realloc(v, (n + 2) * sizeof(char *));
                if (!nv)
                        return NULL;
                v = nv;
                v[n] = strdup((const char *)sqlite3_column_text(st, 0));
                if (!v[n])
                        return NULL;
                v[++n] = NULL;
        }
        if (rc != SQLITE_DONE) {
                berth_store_sql_error(s, rc, err, "read image");
                return NULL;
        }
        return TAKE_PTR(v);
}

static void copy_digest(char dst[BERTH_DIGEST_STR_MAX], const unsigned char *src)
{
        snprintf(dst, BERTH_DIGEST_STR_MAX, "%s", src ? (const char *)src : "");
}

static int load_layers(berth_store *s, berth_image *img, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s,
                                    "SELECT il.chain_id, il.diff_id, il.blob_digest, "
                                    "il.blob_media_type, il.blob_size, l.size FROM image_layers il "
                                    "JOIN layers l ON l.chain_id = il.chain_id WHERE il.image_id "
                                    "= ? ORDER BY il.position",
                                    &st, err),
            rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, img->id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                berth_image_layer *nl = realloc(img->layers, (img->n_layers + 1) * sizeof(*nl));
                if (!nl)
                        return berth_error_set(err, ENOMEM, "store: out of memory");
                img->layers = nl;
                berth_image_layer *l = &img->layers[img->n_layers++];
                memset(l, 0, sizeof(*l));
                copy_digest(l->chain_id, sqlite3_column_text(st, 0));
                copy_digest(l->diff_id, sqlite3_column_text(st, 1));
                copy_digest(l->blob_digest, sqlite3_column_text(st, 2));
                l->blob_media_type = strdup((const char *)sqlite3_column_text(st, 3));
                l->blob_size = sqlite3_column_int64(st, 4);
                l->size = (uint64_t)sqlite3_column_int64(st, 5);
                if (!l->blob_media_type)
                        return berth_error_set(err, ENOMEM, "store: out of memory");
        }
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "read image layers");
        return 0;
}

/* Fills img from the images row st is on (columns as in IMAGE_COLUMNS). */
#define IMAGE_COLUMNS "id, manifest_digest, manifest_media_type, created, added, size"

static int load_image(berth_store *s, sqlite3_stmt *st, berth_image *img, berth_error *err)
{
        int r;

        memset(img, 0, sizeof(*img));
        copy_digest(img->id, sqlite3_column_text(st, 0));
        copy_digest(img->manifest_digest, sqlite3_column_text(st, 1));
        img->manifest_media_type = strdup((const char *)sqlite3_column_text(st, 2));
        img->created = sqlite3_column_int64(st, 3);
        img->added = sqlite3_column_int64(st, 4);
        img->size = (uint64_t)sqlite3_column_int64(st, 5);
        if (!img->manifest_media_type)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        img->names = column_strv(s, "SELECT name FROM names WHERE image_id = ? ORDER BY name",
                                 img->id, err);
        if (!img->names)
                return err->msg ? berth_error_ret(err)
                                : berth_error_set(err, ENOMEM, "out of memory");
        img->repo_digests = column_strv(
                s, "SELECT repo_digest FROM repo_digests WHERE image_id = ? ORDER BY repo_digest",
                img->id, err);
        if (!img->repo_digests)
                return err->msg ? berth_error_ret(err)
                                : berth_error_set(err, ENOMEM, "out of memory");
        r = load_layers(s, img, err);
        if (r < 0)
                return r;
        return 0;
}

int berth_store_image_get(berth_store *s, const char *id, berth_image *ret, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", &st,
                                    err);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return berth_error_set(err, ENOENT, "No such image: %s", id);
        r = load_image(s, st, ret, err);
        if (r < 0)
                berth_image_release(ret);
        return r;
}

/* The image id a one-column query with one text parameter yields: 1 found, 0 not, -EINVAL
 * ambiguous. */
static int query_id(berth_store *s, const char *sql, const char *arg,
                    char ret[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int r = berth_store_prepare(s, sql, &st, err), n = 0, rc;

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (n > 0 && strcmp(ret, id) != 0)
                        return -EINVAL;
                copy_digest(ret, (const unsigned char *)id);
                n = 1;
        }
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "find image");
        return n;
}

static int find_by_reference(berth_store *s, const berth_reference *ref,
                             char id[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_free_ char *repo = berth_reference_repository(ref);
        _cleanup_free_ char *key = NULL;
        int r;

        if (!repo)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        if (ref->digest) {
                if (asprintf(&key, "%s@%s", repo, ref->digest) < 0)
                        return berth_error_set(err, ENOMEM, "store: out of memory");
                r = query_id(s, "SELECT image_id FROM repo_digests WHERE repo_digest = ?", key, id,
                             err);
                if (r != 0)
                        return r;
                /* By the manifest's own digest (an image pulled by tag, then asked for by digest).
                 */
                return query_id(s, "SELECT id FROM images WHERE manifest_digest = ?1 OR id = ?1",
                                ref->digest, id, err);
        }
        if (asprintf(&key, "%s:%s", repo, ref->tag) < 0)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        return query_id(s, "SELECT image_id FROM names WHERE name = ?", key, id, err);
}

int berth_store_image_find(berth_store *s, const char *s_ref, berth_image *ret, berth_error *err)
{
        char id[BERTH_DIGEST_STR_MAX] = "";
        berth_reference ref = { 0 };
        berth_error perr = BERTH_ERROR_INIT;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        if (strncmp(s_ref, "sha256:", 7) == 0 && berth_reference_looks_like_id(s_ref + 7)) {
                /* "sha256:<prefix>" is an ID (prefix), as docker takes it. */
                r = query_id(s, "SELECT id FROM images WHERE id LIKE ?1 || '%'", s_ref, id, err);
        } else {
                if (berth_reference_parse(s_ref, BERTH_REFERENCE_DEFAULT_TAG_FLAG, &ref, &perr) >=
                    0) {
                        r = find_by_reference(s, &ref, id, err);
                        berth_reference_release(&ref);
                        if (r < 0 && r != -EINVAL) {
                                berth_error_release(&perr);
                                return r;
                        }
                }
                if (r == 0 && berth_reference_looks_like_id(s_ref)) {
                        _cleanup_free_ char *prefix = NULL;
                        if (asprintf(&prefix, "sha256:%s", s_ref) < 0)
                                return berth_error_set(err, ENOMEM, "store: out of memory");
                        r = query_id(s, "SELECT id FROM images WHERE id LIKE ?1 || '%'", prefix, id,
                                     err);
                }
        }
        if (r == -EINVAL) {
                berth_error_release(&perr);
                return berth_error_set(err, EINVAL,
                                       "image reference `%s` is ambiguous: it "
                                       "matches more than one image ID",
                                       s_ref);
        }
        if (r < 0) {
                berth_error_release(&perr);
                return r;
        }
        if (r == 0) {
                if (perr.msg && !berth_reference_looks_like_id(s_ref)) {
                        r = berth_error_set(err, EINVAL, "%s", perr.msg);
                        berth_error_release(&perr);
                        return r;
                }
                berth_error_release(&perr);
                return berth_error_set(err, ENOENT, "No such image: %s", s_ref);
        }
        berth_error_release(&perr);
        return berth_store_image_get(s, id, ret, err);
}

int berth_store_image_list(berth_store *s, berth_image **ret, size_t *ret_n, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_image *v = NULL;
        size_t n = 0;
        int r = berth_store_prepare(s,
                                    "SELECT " IMAGE_COLUMNS " FROM images ORDER BY added DESC, "
                                    "created DESC, id",
                                    &st, err),
            rc;

        *ret = NULL;
        *ret_n = 0;
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                berth_image *nv = realloc(v, (n + 1) * sizeof(*nv));
                if (!nv) {
                        berth_images_free(v, n);
                        return berth_error_set(err, ENOMEM, "store: out of memory");
                }
                v = nv;
                r = load_image(s, st, &v[n++], err);
                if (r < 0) {
                        berth_images_free(v, n);
                        return r;
                }
        }
        if (rc != SQLITE_DONE) {
                berth_images_free(v, n);
                return berth_store_sql_error(s, rc, err, "list images");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int berth_store_image_tag(berth_store *s, const char *id, const char *name, berth_error *err)
{
        int r = run3(s, "INSERT OR REPLACE INTO names (name, image_id) VALUES (?, ?)", name, id,
                     NULL, err);
        if (r == -EIO && err->msg && strstr(err->msg, "FOREIGN KEY"))
                return berth_error_set(err, ENOENT, "No such image: %s", id);
        return r < 0 ? r : 0;
}

int berth_store_image_untag(berth_store *s, const char *name, berth_error *err)
{
        int r = run3(s, "DELETE FROM names WHERE name = ?", name, NULL, NULL, err);
        if (r < 0)
                return r;
        if (r == 0)
                return berth_error_set(err, ENOENT, "No such image: %s", name);
        return 0;
}

void berth_store_boot_id(char ret[BERTH_BOOT_ID_MAX])
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

        snprintf(ret, BERTH_BOOT_ID_MAX, "unknown");
        if (fd < 0)
                return;
        if (berth_read_fd(fd, BERTH_BOOT_ID_MAX - 1, &buf, &len) == 0) {
                while (len > 0 && buf[len - 1] == '\n')
                        buf[--len] = '\0';
                if (len > 0)
                        snprintf(ret, BERTH_BOOT_ID_MAX, "%s", buf);
        }
        close(fd);
}

/*
 * EBUSY while the image has a mount row of this boot. Rows of earlier boots
 * go, with the directory of their mount (nothing can be mounted there now).
 */
static int check_not_mounted(berth_store *s, const char *id, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        char boot[BERTH_BOOT_ID_MAX];
        int r, rc;

        berth_store_boot_id(boot);
        r = berth_store_prepare(s,
                                "DELETE FROM image_mounts WHERE image_id = ? AND boot_id != ? "
                                "RETURNING dir",
                                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, boot, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                berth_error e = BERTH_ERROR_INIT;
                const char *dir = (const char *)sqlite3_column_text(st, 0);
                log_debug("store: image %s: mount `%s` is from an earlier boot", id, dir);
                if (berth_rm_rf_at(AT_FDCWD, dir, &e) < 0) {
                        log_warn("store: %s", berth_error_msg(&e));
                        berth_error_release(&e);
                }
        }
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "remove stale mounts");
        sqlite3_finalize(TAKE_PTR(st));

        r = berth_store_prepare(s, "SELECT dir FROM image_mounts WHERE image_id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return berth_error_set(err, EBUSY,
                                       "unable to delete image %.12s: image is in use by a mount "
                                       "(%s); unmount it first",
                                       berth_digest_hex(id),
                                       (const char *)sqlite3_column_text(st, 0));
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "find mounts");
        return 0;
}

int berth_store_image_delete(berth_store *s, const char *id, berth_error *err)
{
        int r = begin(s, err);
        if (r < 0)
                return r;
        r = check_not_mounted(s, id, err);
        if (r >= 0)
                r = run3(s, "DELETE FROM images WHERE id = ?", id, NULL, NULL, err);
        if (r == 0)
                r = berth_error_set(err, ENOENT, "No such image: %s", id);
        return commit(s, r, err);
}

/* ---- garbage collection ---- */

struct gc {
        berth_store *s;
        berth_store_gc_cb cb;
        void *userdata;
        uint64_t freed;
};

static int gc_layers(struct gc *g, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_store *s = g->s;
        int lfd = berth_store_layers_dirfd(s);
        int r, rc;

        /* Every ChainID of an image is listed in image_layers, its ancestors included. */
        r = berth_store_prepare(s,
                                "SELECT chain_id, short, size FROM layers WHERE chain_id NOT IN "
                                "(SELECT chain_id FROM image_layers)",
                                &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                char chain[BERTH_DIGEST_STR_MAX], link[128];
                int lk;

                copy_digest(chain, sqlite3_column_text(st, 0));
                snprintf(link, sizeof(link), "l/%s", (const char *)sqlite3_column_text(st, 1));
                lk = berth_store_lock(s, "layer", chain, false, err);
                if (lk == -EWOULDBLOCK)
                        continue; /* being produced again right now */
                if (lk < 0)
                        return lk;
                unlinkat(lfd, link, 0);
                r = berth_rm_rf_at(lfd, berth_digest_hex(chain), err);
                if (r >= 0)
                        r = run3(s, "DELETE FROM layers WHERE chain_id = ?", chain, NULL, NULL,
                                 err);
                berth_store_unlock(s, "layer", chain, lk, r >= 0);
                if (r < 0)
                        return berth_error_prefix(err, "remove layer %s", chain);
                g->freed += (uint64_t)sqlite3_column_int64(st, 2);
                if (g->cb)
                        g->cb(g->userdata, "layer", chain);
        }
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "list unused layers");
        return 0;
}

/* Directories in layers/ without a row: left by a crash between rename and insert. */
static int gc_layer_dirs(struct gc *g, berth_error *err)
{
        int fd = openat(berth_store_layers_dirfd(g->s), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return berth_error_sys(err, errno, "store: read `%s/layers`",
                                       berth_store_root(g->s));
        }
        while ((de = readdir(d))) {
                char chain[BERTH_DIGEST_STR_MAX + 8];
                if (strlen(de->d_name) != BERTH_DIGEST_HEX_LEN)
                        continue;
                snprintf(chain, sizeof(chain), "sha256:%.64s", de->d_name);
                if (berth_store_has_layer(g->s, chain))
                        continue;
                int lk = berth_store_lock(g->s, "layer", chain, false, err);
                if (lk < 0)
                        continue;
                if (!berth_store_has_layer(g->s, chain) &&
                    berth_rm_rf_at(dirfd(d), de->d_name, err) < 0) {
                        berth_store_unlock(g->s, "layer", chain, lk, false);
                        return -1;
                }
                berth_store_unlock(g->s, "layer", chain, lk, true);
        }
        /* Short links whose layer is gone. */
        int lfd = openat(berth_store_layers_dirfd(g->s), "l", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *ld = lfd >= 0 ? fdopendir(lfd) : NULL;
        while (ld && (de = readdir(ld))) {
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(ld), de->d_name, &st, 0) < 0 && errno == ENOENT)
                        unlinkat(dirfd(ld), de->d_name, 0);
        }
        return 0;
}

static int gc_blobs(struct gc *g, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_store *s = g->s;
        int fd, r;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        r = berth_store_prepare(s,
                                "SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1 UNION "
                                "ALL SELECT 1 FROM image_layers WHERE blob_digest = ?1 LIMIT 1",
                                &st, err);
        if (r < 0)
                return r;
        fd = openat(AT_FDCWD, berth_store_root(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", berth_store_root(s));
        int bfd = openat(fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        if (bfd < 0 || !(d = fdopendir(bfd))) {
                if (bfd >= 0)
                        close(bfd);
                return berth_error_sys(err, errno, "store: read `%s/blobs/sha256`",
                                       berth_store_root(s));
        }
        while ((de = readdir(d))) {
                char digest[BERTH_DIGEST_STR_MAX + 8];
                struct stat sb;
                int rc, lk;

                if (strlen(de->d_name) != BERTH_DIGEST_HEX_LEN)
                        continue;
                snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        continue;
                if (rc != SQLITE_DONE)
                        return berth_store_sql_error(s, rc, err, "find blob users");
                lk = berth_store_lock(s, "blob", digest, false, err);
                if (lk < 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
                        g->freed += (uint64_t)sb.st_size;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
                        berth_store_unlock(s, "blob", digest, lk, false);
                        return berth_error_sys(err, errno, "store: remove blob %s", digest);
                }
                berth_store_unlock(s, "blob", digest, lk, true);
                if (g->cb)
                        g->cb(g->userdata, "blob", digest);
        }
        return 0;
}

int berth_store_gc(berth_store *s, berth_store_gc_cb cb, void *userdata, uint64_t *ret_freed,
                   berth_error *err)
{
        struct gc g = { .s = s, .cb = cb, .userdata = userdata };
        _cleanup_close_ int lk = -1, fd = -1;
        int r;

        fd = openat(AT_FDCWD, berth_store_runroot(s), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", berth_store_runroot(s));
        lk = openat(fd, "locks/gc", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lk < 0)
                return berth_error_sys(err, errno, "store: lock `%s/locks/gc`",
                                       berth_store_runroot(s));
        /* Waits for pulls, loads and imports that hold a lease to make their content referenced. */
        while (flock(lk, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berth_error_sys(err, errno, "store: lock `%s/locks/gc`",
                                               berth_store_runroot(s));
        r = gc_layers(&g, err);
        if (r >= 0)
                r = gc_layer_dirs(&g, err);
        if (r >= 0)
                r = gc_blobs(&g, err);
        if (r < 0)
                return berth_error_prefix(err, "garbage collection");
        if (ret_freed)
                *ret_freed = g.freed;
        return 0;
}
