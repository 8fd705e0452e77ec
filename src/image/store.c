/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
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

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

/* Bumped with every change to the schema below; older stores are migrated in store_migrate(). */
#define SCHEMA_VERSION 2

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS layers ("
        "  chain_id TEXT PRIMARY KEY,"
        "  diff_id TEXT NOT NULL,"
        "  parent TEXT,"
        "  size INTEGER NOT NULL,"
        "  short TEXT NOT NULL UNIQUE,"
        "  added INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS images ("
        "  id TEXT PRIMARY KEY,"
        "  manifest_digest TEXT NOT NULL,"
        "  manifest_media_type TEXT NOT NULL,"
        "  created INTEGER NOT NULL,"
        "  added INTEGER NOT NULL,"
        "  size INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS image_layers ("
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
        "  position INTEGER NOT NULL,"
        "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
        "  diff_id TEXT NOT NULL,"
        "  blob_digest TEXT NOT NULL,"
        "  blob_media_type TEXT NOT NULL,"
        "  blob_size INTEGER NOT NULL,"
        "  PRIMARY KEY (image_id, position));"
        "CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);"
        "CREATE TABLE IF NOT EXISTS names ("
        "  name TEXT PRIMARY KEY,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
        "CREATE INDEX IF NOT EXISTS names_image ON names(image_id);"
        "CREATE TABLE IF NOT EXISTS repo_digests ("
        "  repo_digest TEXT PRIMARY KEY,"
        "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
        "CREATE INDEX IF NOT EXISTS repo_digests_image ON repo_digests(image_id);"
        /* Version 2. No ON DELETE: an image with a mount row cannot be deleted (snapshot.h). */
        "CREATE TABLE IF NOT EXISTS image_mounts ("
        "  image_id TEXT PRIMARY KEY REFERENCES images(id),"
        "  dir TEXT NOT NULL,"
        "  boot_id TEXT NOT NULL,"
        "  added INTEGER NOT NULL);";

struct berth_store {
        char *root;
        char *runroot;
        int rootfd;
        int blobsfd;   /* blobs/sha256 */
        int blobtmpfd; /* blobs/tmp */
        int layersfd;  /* layers */
        int locksfd;   /* runroot/locks */
        sqlite3 *db;
};

const char *berth_store_root(const berth_store *s)
{
        return s->root;
}

const char *berth_store_runroot(const berth_store *s)
{
        return s->runroot;
}

sqlite3 *berth_store_db(berth_store *s)
{
        return s->db;
}

int berth_store_sql_error(berth_store *s, int rc, berth_error *err, const char *what)
{
        int code = rc == SQLITE_FULL ? ENOSPC : rc == SQLITE_BUSY ? EBUSY : EIO;
        return berth_error_set(err, code, "store %s/berth.db: %s: %s", s->root, what,
                               sqlite3_errmsg(s->db));
}

int berth_store_exec(berth_store *s, const char *sql, berth_error *err)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return berth_store_sql_error(s, rc, err, sql);
        return 0;
}

int berth_store_prepare(berth_store *s, const char *sql, sqlite3_stmt **ret, berth_error *err)
{
        int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
        if (rc != SQLITE_OK)
                return berth_store_sql_error(s, rc, err, "prepare");
        return 0;
}

void berth_sqlite_finalizep(sqlite3_stmt **st)
{
        if (*st)
                sqlite3_finalize(*st);
}

static char *default_dir(const char *env, const char *as_root, const char *xdg,
                         const char *xdg_fallback)
{
        const char *v = getenv(env);
        char *ret = NULL;

        if (v && *v)
                return strdup(v);
        if (geteuid() == 0)
                return strdup(as_root);
        v = getenv(xdg);
        if (v && *v) {
                if (asprintf(&ret, "%s/berth", v) < 0)
                        return NULL;
                return ret;
        }
        v = getenv("HOME");
        if (xdg_fallback && v && *v) {
                if (asprintf(&ret, "%s/%s/berth", v, xdg_fallback) < 0)
                        return NULL;
                return ret;
        }
        if (asprintf(&ret, "/run/user/%u/berth", (unsigned)geteuid()) < 0)
                return NULL;
        return ret;
}

static int open_dir(int dirfd, const char *path, const char *what, berth_error *err)
{
        int fd;

        if (mkdirat(dirfd, path, 0700) < 0 && errno != EEXIST)
                return berth_error_sys(err, errno, "store: mkdir `%s`", what);
        fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", what);
        return fd;
}

/* Takes flock on the lock file `name` in locks/; returns the held fd. */
int berth_store_lock(berth_store *s, const char *kind, const char *digest, bool wait,
                     berth_error *err)
{
        char name[128];
        int fd;

        snprintf(name, sizeof(name), "%s-%s", kind, berth_digest_hex(digest));
        fd = openat(s->locksfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return berth_error_sys(err, errno, "store: lock `%s/locks/%s`", s->runroot, name);
        while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
                if (errno == EINTR)
                        continue;
                int e = errno;
                close(fd);
                if (e == EWOULDBLOCK)
                        return -EWOULDBLOCK;
                return berth_error_sys(err, e, "store: lock `%s/locks/%s`", s->runroot, name);
        }
        return fd;
}

void berth_store_unlock(berth_store *s, const char *kind, const char *digest, int fd, bool remove)
{
        char name[128];

        if (fd < 0)
                return;
        if (remove) {
                snprintf(name, sizeof(name), "%s-%s", kind, berth_digest_hex(digest));
                unlinkat(s->locksfd, name, 0);
        }
        close(fd);
}

static int store_migrate(berth_store *s, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        int version, r;

        r = berth_store_prepare(s, "PRAGMA user_version", &st, err);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return berth_store_sql_error(s, SQLITE_ERROR, err, "read schema version");
        version = sqlite3_column_int(st, 0);
        if (version > SCHEMA_VERSION)
                return berth_error_set(err, EPROTO,
                                       "store %s/berth.db: schema version %d is newer than this "
                                       "berth knows (%d); use a newer berth",
                                       s->root, version, SCHEMA_VERSION);
        if (version == SCHEMA_VERSION)
                return 0;
        /*
         * A statement not yet reset holds a read snapshot: BEGIN IMMEDIATE on it
         * fails at once (SQLITE_BUSY, no busy wait) when another berth creating
         * the same store wrote meanwhile.
         */
        sqlite3_finalize(TAKE_PTR(st));
        r = berth_store_exec(s, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        /* Every statement of the schema is IF NOT EXISTS: running it brings any older one up. */
        r = berth_store_exec(s, schema, err);
        if (r >= 0)
                r = berth_store_exec(s, "PRAGMA user_version = " STRINGIFY(SCHEMA_VERSION), err);
        if (r < 0) {
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        return berth_store_exec(s, "COMMIT", err);
}

/*
 * Switching a new database to WAL needs it to itself, and SQLite answers
 * "database is locked" at once (no busy wait) when two processes open a new
 * store together; so the set-up and migrations run under a lock of the root
 * (and the switch is retried while a reader holds the file for a moment).
 * Opening an existing store only reads the mode (WAL persists in the file).
 */
static int store_init(berth_store *s, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_close_ int lk = -1;
        bool wal;
        int r;

        r = berth_store_prepare(s, "PRAGMA journal_mode", &st, err);
        if (r < 0)
                return r;
        wal = sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(TAKE_PTR(st));
        if (!wal) {
                lk = openat(s->rootfd, "berth.db.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                            0600);
                if (lk < 0)
                        return berth_error_sys(err, errno, "store: open `%s/berth.db.lock`",
                                               s->root);
                while (flock(lk, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return berth_error_sys(err, errno, "store: lock `%s/berth.db.lock`",
                                                       s->root);
                /* Another opener's brief read lock also makes the switch fail at once: retry. */
                for (int tries = 0;; tries++) {
                        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
                        if (rc == SQLITE_OK)
                                break;
                        if ((rc & 0xff) != SQLITE_BUSY || tries >= 500)
                                return berth_store_sql_error(s, rc, err, "switch to WAL");
                        usleep(10000);
                }
        }
        r = berth_store_exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", err);
        if (r < 0)
                return r;
        return store_migrate(s, err);
}

/* Removes layers/tmp entries whose producer is gone (its lock is free). */
static void clean_tmp_layers(berth_store *s)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(s->layersfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;

        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char digest[BERTH_DIGEST_STR_MAX + 8];
                berth_error e = BERTH_ERROR_INIT;
                int lk;

                if (strlen(de->d_name) != BERTH_DIGEST_HEX_LEN)
                        continue;
                snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
                lk = berth_store_lock(s, "layer", digest, false, &e);
                if (lk < 0) {
                        berth_error_release(&e);
                        continue;
                }
                log_debug("store: removing abandoned layers/tmp/%s", de->d_name);
                if (berth_rm_rf_at(dirfd(d), de->d_name, &e) < 0) {
                        log_warn("store: %s", berth_error_msg(&e));
                        berth_error_release(&e);
                }
                berth_store_unlock(s, "layer", digest, lk, true);
        }
}

int berth_store_open(const char *root, const char *runroot, berth_store **ret, berth_error *err)
{
        _cleanup_(berth_store_freep) berth_store *s = calloc(1, sizeof(*s));
        _cleanup_free_ char *dbpath = NULL;
        int rc, r, fd;

        if (!s)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        s->rootfd = s->blobsfd = s->blobtmpfd = s->layersfd = s->locksfd = -1;
        s->root =
                root ? strdup(root)
                     : default_dir("BERTH_ROOT", "/var/lib/berth", "XDG_DATA_HOME", ".local/share");
        s->runroot = runroot ? strdup(runroot)
                             : default_dir("BERTH_RUNROOT", "/run/berth", "XDG_RUNTIME_DIR", NULL);
        if (!s->root || !s->runroot)
                return berth_error_set(err, ENOMEM, "store: out of memory");

        r = berth_mkdir_p(s->root, 0700, err);
        if (r < 0)
                return berth_error_prefix(err, "store");
        r = berth_mkdir_p(s->runroot, 0700, err);
        if (r < 0)
                return berth_error_prefix(err, "store");
        s->rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->rootfd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", s->root);
        fd = open_dir(s->rootfd, "blobs", "blobs", err);
        if (fd < 0)
                return fd;
        s->blobsfd = open_dir(fd, "sha256", "blobs/sha256", err);
        if (s->blobsfd >= 0)
                s->blobtmpfd = open_dir(fd, "tmp", "blobs/tmp", err);
        close(fd);
        if (s->blobsfd < 0 || s->blobtmpfd < 0)
                return -1;
        s->layersfd = open_dir(s->rootfd, "layers", "layers", err);
        if (s->layersfd < 0)
                return s->layersfd;
        fd = open_dir(s->layersfd, "l", "layers/l", err);
        if (fd < 0)
                return fd;
        close(fd);
        fd = open_dir(s->layersfd, "tmp", "layers/tmp", err);
        if (fd < 0)
                return fd;
        close(fd);
        fd = open(s->runroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_error_sys(err, errno, "store: open `%s`", s->runroot);
        s->locksfd = open_dir(fd, "locks", "locks", err);
        close(fd);
        if (s->locksfd < 0)
                return s->locksfd;

        if (asprintf(&dbpath, "%s/berth.db", s->root) < 0)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        rc = sqlite3_open_v2(dbpath, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK)
                return berth_error_set(err, EIO, "store: open `%s`: %s", dbpath,
                                       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        /* Many berth processes share the database: wait for each other's writes. */
        sqlite3_busy_timeout(s->db, 60000);
        r = store_init(s, err);
        if (r < 0)
                return r;
        clean_tmp_layers(s);
        *ret = TAKE_PTR(s);
        return 0;
}

void berth_store_free(berth_store *s)
{
        if (!s)
                return;
        if (s->db)
                sqlite3_close_v2(s->db);
        closep(&s->rootfd);
        closep(&s->blobsfd);
        closep(&s->blobtmpfd);
        closep(&s->layersfd);
        closep(&s->locksfd);
        free(s->root);
        free(s->runroot);
        free(s);
}

/* ---- blobs ---- */

static int blob_name(const char *digest, berth_error *err)
{
        int r = berth_digest_validate(digest, err);
        if (r < 0)
                return r;
        return 0;
}

bool berth_store_has_blob(berth_store *s, const char *digest)
{
        berth_error e = BERTH_ERROR_INIT;
        if (blob_name(digest, &e) < 0) {
                berth_error_release(&e);
                return false;
        }
        return faccessat(s->blobsfd, berth_digest_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int berth_store_blob_open(berth_store *s, const char *digest, berth_error *err)
{
        int r = blob_name(digest, err), fd;

        if (r < 0)
                return r;
        fd = openat(s->blobsfd, berth_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return berth_error_set(err, ENOENT, "blob %s is not in the store", digest);
                return berth_error_sys(err, errno, "open blob %s", digest);
        }
        return fd;
}

int berth_store_blob_read(berth_store *s, const char *digest, size_t max, char **ret,
                          size_t *ret_len, berth_error *err)
{
        _cleanup_close_ int fd = berth_store_blob_open(s, digest, err);
        int r;

        if (fd < 0)
                return fd;
        r = berth_read_fd(fd, max, ret, ret_len);
        if (r == -E2BIG)
                return berth_error_set(err, EFBIG, "blob %s is larger than %zu bytes", digest, max);
        if (r < 0)
                return berth_error_sys(err, -r, "read blob %s", digest);
        return 0;
}

struct berth_blob_writer {
        berth_store *store;
        int fd;     /* O_TMPFILE in blobs/tmp: nothing is left if we die */
        int lockfd; /* held from begin to free, so gc leaves the blob alone until used */
        char *expected;
        int64_t expected_size;
        uint64_t size;
        berth_hasher *hasher;
        bool committed;
};

int berth_blob_writer_begin(berth_store *s, const char *expected_digest, int64_t expected_size,
                            berth_blob_writer **ret, berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = calloc(1, sizeof(*w));

        *ret = NULL;
        if (!w)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        w->store = s;
        w->fd = w->lockfd = -1;
        w->expected_size = expected_size;
        if (expected_digest) {
                int r = blob_name(expected_digest, err);
                if (r < 0)
                        return r;
                w->expected = strdup(expected_digest);
                if (!w->expected)
                        return berth_error_set(err, ENOMEM, "store: out of memory");
                w->lockfd = berth_store_lock(s, "blob", expected_digest, true, err);
                if (w->lockfd < 0)
                        return w->lockfd;
                if (berth_store_has_blob(s, expected_digest)) {
                        /* Keep the lock as a lease: the caller is about to use the blob. */
                        *ret = TAKE_PTR(w);
                        (*ret)->committed = true;
                        return 1;
                }
        }
        w->hasher = berth_hasher_new();
        if (!w->hasher)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        w->fd = openat(s->blobtmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (w->fd < 0)
                return berth_error_sys(err, errno, "store: temporary blob in `%s/blobs/tmp`",
                                       s->root);
        *ret = TAKE_PTR(w);
        return 0;
}

int berth_blob_writer_write(berth_blob_writer *w, const void *buf, size_t len, berth_error *err)
{
        if (w->expected_size >= 0 && w->size + len > (uint64_t)w->expected_size)
                return berth_error_set(err, EFBIG, "blob %s: more than the %lld bytes expected",
                                       w->expected ? w->expected : "", (long long)w->expected_size);
        if (berth_write_all(w->fd, buf, len) < 0)
                return berth_error_sys(err, errno, "store: write blob %s",
                                       w->expected ? w->expected : "");
        berth_hasher_update(w->hasher, buf, len);
        w->size += len;
        return 0;
}

int berth_blob_writer_reset(berth_blob_writer *w, berth_error *err)
{
        berth_hasher_free(w->hasher);
        w->hasher = berth_hasher_new();
        if (!w->hasher)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
                return berth_error_sys(err, errno, "store: reset blob");
        w->size = 0;
        return 0;
}

uint64_t berth_blob_writer_size(const berth_blob_writer *w)
{
        return w->size;
}

int berth_blob_writer_commit(berth_blob_writer *w, char ret_digest[BERTH_DIGEST_STR_MAX],
                             berth_error *err)
{
        char digest[BERTH_DIGEST_STR_MAX], path[64];
        berth_store *s = w->store;

        if (w->committed) {
                if (ret_digest)
                        snprintf(ret_digest, BERTH_DIGEST_STR_MAX, "%s", w->expected);
                return 0;
        }
        berth_hasher_final(w->hasher, digest);
        if (w->expected && strcmp(digest, w->expected) != 0)
                return berth_error_set(err, EBADMSG, "blob %s: content has digest %s", w->expected,
                                       digest);
        if (w->expected_size >= 0 && w->size != (uint64_t)w->expected_size)
                return berth_error_set(err, EBADMSG, "blob %s: %llu bytes instead of %lld", digest,
                                       (unsigned long long)w->size, (long long)w->expected_size);
        if (w->lockfd < 0) {
                w->lockfd = berth_store_lock(s, "blob", digest, true, err);
                if (w->lockfd < 0)
                        return w->lockfd;
                w->expected = strdup(digest);
                if (!w->expected)
                        return berth_error_set(err, ENOMEM, "store: out of memory");
        }
        if (fdatasync(w->fd) < 0)
                return berth_error_sys(err, errno, "store: sync blob %s", digest);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", w->fd);
        if (linkat(AT_FDCWD, path, s->blobsfd, berth_digest_hex(digest), AT_SYMLINK_FOLLOW) < 0 &&
            errno != EEXIST)
                return berth_error_sys(err, errno, "store: link blob %s into `%s/blobs/sha256`",
                                       digest, s->root);
        w->committed = true;
        if (ret_digest)
                memcpy(ret_digest, digest, BERTH_DIGEST_STR_MAX);
        return 0;
}

void berth_blob_writer_free(berth_blob_writer *w)
{
        if (!w)
                return;
        closep(&w->fd);
        if (w->lockfd >= 0)
                berth_store_unlock(w->store, "blob", w->expected, w->lockfd, false);
        berth_hasher_free(w->hasher);
        free(w->expected);
        free(w);
}

int berth_store_blob_put(berth_store *s, const void *data, size_t len, const char *expected,
                         char ret_digest[BERTH_DIGEST_STR_MAX], berth_error *err)
{
        _cleanup_(berth_blob_writer_freep) berth_blob_writer *w = NULL;
        int r = berth_blob_writer_begin(s, expected, expected ? (int64_t)len : -1, &w, err);

        if (r < 0)
                return r;
        if (r == 0) {
                r = berth_blob_writer_write(w, data, len, err);
                if (r < 0)
                        return r;
        }
        return berth_blob_writer_commit(w, ret_digest, err);
}

/* ---- layers ---- */

bool berth_store_has_layer(berth_store *s, const char *chain_id)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_error e = BERTH_ERROR_INIT;

        if (berth_store_prepare(s, "SELECT 1 FROM layers WHERE chain_id = ?", &st, &e) < 0) {
                berth_error_release(&e);
                return false;
        }
        sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
        return sqlite3_step(st) == SQLITE_ROW;
}

struct berth_layer_tx {
        berth_store *store;
        char chain_id[BERTH_DIGEST_STR_MAX];
        int lockfd;
        int dirfd; /* layers/tmp/<hex>/diff */
        bool committed;
};

int berth_store_layer_begin(berth_store *s, const char *chain_id, berth_layer_tx **ret,
                            berth_error *err)
{
        _cleanup_(berth_layer_tx_freep) berth_layer_tx *tx = calloc(1, sizeof(*tx));
        _cleanup_close_ int tmpfd = -1, fd = -1;
        const char *hex;
        int r;

        *ret = NULL;
        if (!tx)
                return berth_error_set(err, ENOMEM, "store: out of memory");
        tx->store = s;
        tx->lockfd = tx->dirfd = -1;
        r = berth_digest_validate(chain_id, err);
        if (r < 0)
                return r;
        snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", chain_id);
        hex = berth_digest_hex(chain_id);
        tx->lockfd = berth_store_lock(s, "layer", chain_id, true, err);
        if (tx->lockfd < 0)
                return tx->lockfd;
        if (berth_store_has_layer(s, chain_id)) {
                tx->committed = true;
                *ret = TAKE_PTR(tx);
                return 1;
        }
        tmpfd = openat(s->layersfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmpfd < 0)
                return berth_error_sys(err, errno, "store: open `%s/layers/tmp`", s->root);
        /* A previous producer of this layer died half-way: start afresh. */
        r = berth_rm_rf_at(tmpfd, hex, err);
        if (r < 0)
                return berth_error_prefix(err, "store: layers/tmp");
        if (mkdirat(tmpfd, hex, 0700) < 0)
                return berth_error_sys(err, errno, "store: mkdir `%s/layers/tmp/%s`", s->root, hex);
        fd = openat(tmpfd, hex, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || mkdirat(fd, "diff", 0755) < 0)
                return berth_error_sys(err, errno, "store: mkdir `%s/layers/tmp/%s/diff`", s->root,
                                       hex);
        tx->dirfd = openat(fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tx->dirfd < 0)
                return berth_error_sys(err, errno, "store: open `%s/layers/tmp/%s/diff`", s->root,
                                       hex);
        *ret = TAKE_PTR(tx);
        return 0;
}

int berth_layer_tx_dirfd(const berth_layer_tx *tx)
{
        return tx->dirfd;
}

/* Picks the short name: the first 12 hex digits, longer on a clash. */
static int layer_short(berth_store *s, const char *hex, char *buf, size_t size, berth_error *err)
{
        for (size_t n = 12; n <= BERTH_DIGEST_HEX_LEN; n += 4) {
                _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
                int r;

                snprintf(buf, size, "%.*s", (int)n, hex);
                r = berth_store_prepare(s, "SELECT 1 FROM layers WHERE short = ?", &st, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, buf, -1, SQLITE_STATIC);
                if (sqlite3_step(st) != SQLITE_ROW)
                        return 0;
        }
        return berth_error_set(err, EEXIST, "store: no free short name for layer %s", hex);
}

int berth_layer_tx_commit(berth_layer_tx *tx, const char *diff_id, const char *parent,
                          uint64_t size, berth_error *err)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_store *s = tx->store;
        const char *hex = berth_digest_hex(tx->chain_id);
        char from[128], link[128], target[128], shortname[BERTH_DIGEST_HEX_LEN + 1];
        int r, rc;

        if (tx->committed)
                return 0;
        r = layer_short(s, hex, shortname, sizeof(shortname), err);
        if (r < 0)
                return r;
        /* A directory without a row is a leftover of a crash between rename and insert. */
        r = berth_rm_rf_at(s->layersfd, hex, err);
        if (r < 0)
                return berth_error_prefix(err, "store: layers");
        snprintf(from, sizeof(from), "tmp/%s", hex);
        if (renameat(s->layersfd, from, s->layersfd, hex) < 0)
                return berth_error_sys(err, errno, "store: rename layer %s into place",
                                       tx->chain_id);
        snprintf(link, sizeof(link), "l/%s", shortname);
        snprintf(target, sizeof(target), "../%s/diff", hex);
        unlinkat(s->layersfd, link, 0);
        if (symlinkat(target, s->layersfd, link) < 0)
                return berth_error_sys(err, errno, "store: link `%s/layers/%s`", s->root, link);

        r = berth_store_prepare(s,
                                "INSERT OR REPLACE INTO layers (chain_id, diff_id, parent, size, "
                                "short, added) VALUES (?, ?, ?, ?, ?, strftime('%s', 'now'))",
                                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, tx->chain_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, diff_id, -1, SQLITE_STATIC);
        if (parent)
                sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
        sqlite3_bind_text(st, 5, shortname, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return berth_store_sql_error(s, rc, err, "record layer");
        tx->committed = true;
        closep(&tx->dirfd);
        return 0;
}

void berth_layer_tx_free(berth_layer_tx *tx)
{
        if (!tx)
                return;
        closep(&tx->dirfd);
        if (!tx->committed) {
                berth_error e = BERTH_ERROR_INIT;
                int tmpfd = openat(tx->store->layersfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (tmpfd >= 0) {
                        if (berth_rm_rf_at(tmpfd, berth_digest_hex(tx->chain_id), &e) < 0) {
                                log_warn("store: %s", berth_error_msg(&e));
                                berth_error_release(&e);
                        }
                        close(tmpfd);
                }
        }
        berth_store_unlock(tx->store, "layer", tx->chain_id, tx->lockfd, false);
        free(tx);
}

static char *layer_short_of(berth_store *s, const char *chain_id)
{
        _cleanup_(berth_sqlite_finalizep) sqlite3_stmt *st = NULL;
        berth_error e = BERTH_ERROR_INIT;

        if (berth_store_prepare(s, "SELECT short FROM layers WHERE chain_id = ?", &st, &e) < 0) {
                berth_error_release(&e);
                return NULL;
        }
        sqlite3_bind_text(st, 1, chain_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return NULL;
        return strdup((const char *)sqlite3_column_text(st, 0));
}

char *berth_store_layer_path(berth_store *s, const char *chain_id)
{
        char *ret = NULL;
        if (asprintf(&ret, "%s/layers/%s/diff", s->root, berth_digest_hex(chain_id)) < 0)
                return NULL;
        return ret;
}

char *berth_store_layer_short(berth_store *s, const char *chain_id)
{
        _cleanup_free_ char *sh = layer_short_of(s, chain_id);
        char *ret = NULL;

        if (!sh || asprintf(&ret, "l/%s", sh) < 0)
                return NULL;
        return ret;
}

int berth_store_layers_dirfd(berth_store *s)
{
        return s->layersfd;
}
