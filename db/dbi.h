/* dbi.h - what the files of db/ share and nothing outside db/ sees: the handle's layout, the one place
 * SQLite result codes become effgen statuses, transactions, and small statement helpers. This header and
 * the C files of db/ are the only ones that include sqlite3.h. */
#ifndef EG_DBI_H
#define EG_DBI_H

#include <pthread.h>
#include <sqlite3.h>

#include "cg.h"
#include "db.h"

/* "EGDB" in PRAGMA application_id: tells an effgen database from any other SQLite file. */
#define EG_DB_APPLICATION_ID 0x45474442

/* Milliseconds a statement waits for another process's lock before giving up with SQLITE_BUSY. */
#define EG_DB_BUSY_MS 10000

/* UTC ISO 8601 with milliseconds, as every timestamp column stores it; the text sorts in time order. */
#define EG_DB_NOW "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

struct eg_db {
    sqlite3 *h;
    char *path;           /* as the caller gave it: every message names it */
    int readonly;
    pthread_mutex_t lock; /* one public call at a time on the connection (transactions span statements) */
};

/* Record "path: what: SQLite's message" as the thread's error and map rc to a status. The single place
 * where SQLite codes are translated. */
effgen_status eg_dbi_fail(eg_db *db, int rc, const char *what);

/* Prepare one statement; on failure the error is recorded and *st is NULL. */
effgen_status eg_dbi_prepare(eg_db *db, const char *sql, sqlite3_stmt **st);
/* Run SQL that returns no rows of interest (may hold several statements). */
effgen_status eg_dbi_exec(eg_db *db, const char *sql, const char *what);
/* BEGIN IMMEDIATE: take the write lock up front (waiting up to the busy timeout), so a transaction never
 * fails half-way because another process wrote first. commit ends it; rollback is safe to call when no
 * transaction is open and keeps the recorded error. */
effgen_status eg_dbi_begin(eg_db *db);
effgen_status eg_dbi_commit(eg_db *db);
void eg_dbi_rollback(eg_db *db);
/* A refusal with a clear message when the handle was opened read-only. */
effgen_status eg_dbi_need_write(eg_db *db, const char *what);

/* user_version, application_id and the number of schema objects of an attached schema ("main", "src"),
 * read in the caller's transaction so the three agree. */
effgen_status eg_dbi_schema_info(eg_db *db, const char *schema, int *version, int *app, int *tables);

/* Look at an existing file before SQLite does: "not an SQLite database" and "truncated" with the path,
 * and a guarantee that nothing is written into such a file. A missing file is fine when !readonly. */
effgen_status eg_dbi_check_file(const char *path, int readonly);

/* Bind text, treating NULL as SQL NULL. Doubles: NaN is stored as NULL and read back as NaN. */
int eg_dbi_bind_text(sqlite3_stmt *st, int i, const char *s);
int eg_dbi_bind_double(sqlite3_stmt *st, int i, double v);
double eg_dbi_column_double(sqlite3_stmt *st, int i);
/* Copy column i into a fixed buffer, truncating; NULL gives "". */
void eg_dbi_column_text(sqlite3_stmt *st, int i, char *buf, size_t size);

/* A string argument that must be non-empty and NUL-terminated inside its fixed-size field. */
effgen_status eg_dbi_check_field(const char *value, size_t size, const char *name);

/* FNV-1a 64 of the bytes as 16 lowercase hex digits plus NUL (the cubin_hash column). */
void eg_dbi_hash(const void *data, size_t size, char out[17]);

/* "file:" URI for a path (percent-encoded), with a mode query ("ro", "rw", "rwc"). malloc'd; NULL when
 * out of memory. Paths go through URIs so that ATTACH can ask for read-only access. */
char *eg_dbi_uri(const char *path, const char *mode);

/* The merge rules from schema `src` (an attached database with the tables of the current schema) into
 * main, inside the caller's transaction. */
effgen_status eg_dbi_merge_from(eg_db *db, const char *src, const char *src_name);

/* Create, in the attached schema `name`, empty tables shaped like main's (used by import). */
effgen_status eg_dbi_create_shadow(eg_db *db, const char *name);

#endif
