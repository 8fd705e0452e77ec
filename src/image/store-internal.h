/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* SQLite and lock helpers shared by the files of src/image that query the store. */

#include <sqlite3.h>
#include <stdbool.h>

#include "image/store.h"

sqlite3 *berth_store_db(berth_store *s);
/* Fills err with the database's message; returns a negative errno (ENOSPC for a full disk). */
int berth_store_sql_error(berth_store *s, int rc, berth_error *err, const char *what);
int berth_store_exec(berth_store *s, const char *sql, berth_error *err);
int berth_store_prepare(berth_store *s, const char *sql, sqlite3_stmt **ret, berth_error *err);
void berth_sqlite_finalizep(sqlite3_stmt **st);

/* flock on runroot/locks/<kind>-<hex>: the held fd, or -EWOULDBLOCK when !wait and taken. */
int berth_store_lock(berth_store *s, const char *kind, const char *digest, bool wait,
                     berth_error *err);
void berth_store_unlock(berth_store *s, const char *kind, const char *digest, int fd, bool remove);

/*
 * This boot's id (/proc/sys/kernel/random/boot_id), or "unknown": rows of
 * image_mounts written in another boot describe mounts that are gone.
 */
#define BERTH_BOOT_ID_MAX 40
void berth_store_boot_id(char ret[BERTH_BOOT_ID_MAX]);
