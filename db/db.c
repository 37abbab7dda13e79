/* db.c - opening the kernel database: path checks, the schema and its forward migrations, WAL and the
 * busy timeout, the SQL functions effgen registers (cubin hash, hex decoding), and the helpers the other
 * db/ files share: error translation, transactions, binding. The schema is documented in
 * docs/database.md; keep the two in step. */
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dbi.h"

/* ---- schema ---- */

/* Each step takes the database from version-1 to version; steps run in order inside one BEGIN IMMEDIATE
 * transaction that also sets user_version, so a crash leaves the old version intact and two processes
 * opening a new file at once migrate it once. Never edit a released step: add a new one. */
static const struct {
    int version;
    const char *sql;
} migrations[] = {
    {1,
     "CREATE TABLE kernels("
     " spec TEXT NOT NULL, config TEXT NOT NULL, arch INTEGER NOT NULL,"
     " generator TEXT NOT NULL, nvrtc TEXT NOT NULL,"
     " registers INTEGER NOT NULL, smem_bytes INTEGER NOT NULL, spill_bytes INTEGER NOT NULL,"
     " compile_ms REAL,"
     " cubin BLOB NOT NULL, cubin_hash TEXT NOT NULL,"
     " created TEXT NOT NULL DEFAULT (" EG_DB_NOW "),"
     " PRIMARY KEY(spec, config, arch, generator, nvrtc));"
     "CREATE TABLE measurements("
     " id INTEGER PRIMARY KEY,"
     " spec TEXT NOT NULL, config TEXT NOT NULL, arch INTEGER NOT NULL,"
     " generator TEXT NOT NULL, nvrtc TEXT NOT NULL,"
     " problem TEXT NOT NULL, bucket INTEGER NOT NULL,"
     " device TEXT NOT NULL, cc INTEGER NOT NULL, sm_count INTEGER NOT NULL, driver INTEGER NOT NULL,"
     " result TEXT NOT NULL CHECK(result IN ('ok','check_failed','compile_failed','launch_failed','pruned')),"
     " ms_median REAL, ms_min REAL, ms_max REAL, tflops REAL, rel_err REAL,"
     " failure TEXT NOT NULL DEFAULT '',"
     " created TEXT NOT NULL DEFAULT (" EG_DB_NOW "),"
     " UNIQUE(spec, config, arch, generator, nvrtc, problem, device, driver));"
     "CREATE INDEX measurements_by_problem ON measurements(spec, problem, arch, generator, nvrtc, device);"
     "CREATE INDEX measurements_by_time ON measurements(spec, created);"
     "CREATE TABLE winners("
     " arch INTEGER NOT NULL, spec TEXT NOT NULL, bucket INTEGER NOT NULL, config TEXT NOT NULL,"
     " source TEXT NOT NULL CHECK(source IN ('measured','model')),"
     " tflops REAL NOT NULL DEFAULT 0,"
     " generator TEXT NOT NULL, nvrtc TEXT NOT NULL, device TEXT NOT NULL DEFAULT '',"
     " updated TEXT NOT NULL DEFAULT (" EG_DB_NOW "),"
     " PRIMARY KEY(arch, spec, bucket, generator, nvrtc));"},
};
#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(sizeof migrations / sizeof migrations[0] == EG_DB_SCHEMA_VERSION,
               "one migration step per schema version");

/* ---- shared helpers ---- */

effgen_status eg_dbi_fail(eg_db *db, int rc, const char *what) {
    const char *path = db && db->path ? db->path : "(database)";
    const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
    effgen_status s;
    switch (rc & 0xff) {
    case SQLITE_NOMEM: s = EFFGEN_NO_MEMORY; break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE: s = EFFGEN_INVALID_ARGUMENT; break;
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL: s = EFFGEN_INTERNAL; break;
    default: s = EFFGEN_IO; break; /* corrupt, not a database, busy, read-only, full, I/O */
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return eg_err(s, "%s: %s: %s (locked by another process; waited up to %d s)", path, what, msg,
                      EG_DB_BUSY_MS / 1000);
    if ((rc & 0xff) == SQLITE_CANTOPEN)
        return eg_err(s, "%s: %s: %s (missing folder, or no permission for the file, its folder or its -wal/-shm files)",
                      path, what, msg);
    if ((rc & 0xff) == SQLITE_READONLY)
        return eg_err(s, "%s: %s: %s (the file or its folder is not writable)", path, what, msg);
    return eg_err(s, "%s: %s: %s", path, what, msg);
}

effgen_status eg_dbi_prepare(eg_db *db, const char *sql, sqlite3_stmt **st) {
    int rc = sqlite3_prepare_v2(db->h, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return eg_dbi_fail(db, rc, "prepare");
    }
    return EFFGEN_OK;
}

effgen_status eg_dbi_exec(eg_db *db, const char *sql, const char *what) {
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? EFFGEN_OK : eg_dbi_fail(db, rc, what);
}

effgen_status eg_dbi_begin(eg_db *db) { return eg_dbi_exec(db, "BEGIN IMMEDIATE", "begin transaction"); }

effgen_status eg_dbi_commit(eg_db *db) { return eg_dbi_exec(db, "COMMIT", "commit"); }

void eg_dbi_rollback(eg_db *db) {
    if (!sqlite3_get_autocommit(db->h)) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

effgen_status eg_dbi_need_write(eg_db *db, const char *what) {
    if (!db->readonly) return EFFGEN_OK;
    return eg_err(EFFGEN_IO, "%s: %s: the database was opened read-only", db->path, what);
}

int eg_dbi_bind_text(sqlite3_stmt *st, int i, const char *s) {
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int eg_dbi_bind_double(sqlite3_stmt *st, int i, double v) {
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

double eg_dbi_column_double(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

void eg_dbi_column_text(sqlite3_stmt *st, int i, char *buf, size_t size) {
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!size) return;
    snprintf(buf, size, "%s", t ? (const char *)t : "");
}

effgen_status eg_dbi_check_field(const char *value, size_t size, const char *name) {
    if (!value || !value[0]) return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: must not be empty", name);
    if (strnlen(value, size) == size)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: not terminated within its %zu bytes", name, size);
    return EFFGEN_OK;
}

void eg_dbi_hash(const void *data, size_t size, char out[17]) {
    /* FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x100000001b3 (documented in database.md so that
     * any tool can recompute it). */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

char *eg_dbi_uri(const char *path, const char *mode) {
    static const char hexd[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *u = malloc(3 * n + strlen(mode) + 16);
    if (!u) return NULL;
    /* An absolute path gets an empty authority ("file:///x"), so a path starting with "//" is never read
     * as a host name. */
    char *w = u + sprintf(u, path[0] == '/' ? "file://" : "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c)) {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hexd[c >> 4];
            *w++ = hexd[c & 15];
        }
    }
    sprintf(w, "?mode=%s", mode);
    return u;
}

/* ---- SQL functions ---- */

/* eg_fnv1a64(blob) -> the cubin_hash text; NULL for NULL. verify and merge compare blobs with it. */
static void sql_hash(sqlite3_context *cx, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(cx);
        return;
    }
    const void *p = sqlite3_value_blob(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    char h[17];
    eg_dbi_hash(p, (size_t)n, h);
    sqlite3_result_text(cx, h, 16, SQLITE_TRANSIENT);
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* eg_unhex(text) -> blob: the inverse of SQLite's hex(), which 3.40 lacks (unhex arrived in 3.41).
 * Import decodes exported cubins with it; bad digits fail the statement. */
static void sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(cx);
        return;
    }
    const unsigned char *t = sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (!t) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    if (n % 2) {
        sqlite3_result_error(cx, "eg_unhex: odd number of hex digits", -1);
        return;
    }
    unsigned char *b = sqlite3_malloc(n / 2 + 1);
    if (!b) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    for (int i = 0; i < n / 2; i++) {
        int hi = hex_value(t[2 * i]), lo = hex_value(t[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            sqlite3_free(b);
            sqlite3_result_error(cx, "eg_unhex: not a hex digit", -1);
            return;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    sqlite3_result_blob(cx, b, n / 2, sqlite3_free);
}

/* ---- opening ---- */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A non-empty file beside the database (its "-wal" or "-journal"). */
static effgen_status side_file(const char *path, const char *suffix, int *present) {
    size_t plen = strlen(path), slen = strlen(suffix);
    char *name = malloc(plen + slen + 1);
    if (!name) return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", path);
    memcpy(name, path, plen);
    memcpy(name + plen, suffix, slen + 1);
    struct stat ss;
    *present = stat(name, &ss) == 0 && ss.st_size > 0;
    free(name);
    return EFFGEN_OK;
}

/* One look at an existing file: *short_by set to the bytes its header's page count needs beyond its size
 * (0: none, or not judged). */
static effgen_status look_at_file(const char *path, int readonly, long long *short_by, unsigned *pages_out,
                                  unsigned *page_out, long long *size_out) {
    *short_by = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT && !readonly) return EFFGEN_OK; /* created by the open */
        return eg_err(EFFGEN_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) return eg_err(EFFGEN_IO, "%s: not a regular file", path);
    if (sb.st_size == 0) return EFFGEN_OK; /* an empty file is an empty database */
    unsigned char hdr[100];
    FILE *f = fopen(path, "rb");
    if (!f) {
        /* Unreadable: let SQLite report it (a write-only file is rare; keep one code path). */
        return eg_err(EFFGEN_IO, "%s: %s", path, strerror(errno));
    }
    size_t got = fread(hdr, 1, sizeof hdr, f);
    fclose(f);
    if (got < sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0)
        return eg_err(EFFGEN_IO, "%s: not an SQLite database (no SQLite header)", path);
    uint32_t page = (uint32_t)hdr[16] << 8 | hdr[17];
    if (page == 1) page = 65536;
    uint32_t pages = be32(hdr + 28);
    /* The page count in the header is only meaningful when the version-valid-for number matches the
     * change counter. Pages newer than the file may live in a -wal file, and a -journal file means a
     * write in progress (or one to roll back): only judge without either. */
    if (be32(hdr + 24) == be32(hdr + 92) && pages > 0) {
        int wal = 0, journal = 0;
        effgen_status s = side_file(path, "-wal", &wal);
        if (!s) s = side_file(path, "-journal", &journal);
        if (s) return s;
        long long want = (long long)pages * page;
        if (!wal && !journal && (long long)sb.st_size < want) *short_by = want - (long long)sb.st_size;
        *pages_out = pages, *page_out = page, *size_out = (long long)sb.st_size;
    }
    return EFFGEN_OK;
}

/* Look at an existing file before SQLite does: a clear message for a file that is not SQLite or that was
 * cut short, and a guarantee that nothing is written into it. SQLite itself would find a short file
 * only when a query touches a missing page. Another process committing to the file can show a header
 * ahead of the file's size for a moment (its journal can be gone by the time this looks for it): a file
 * is called short only if it stays so for about 100 ms. */
effgen_status eg_dbi_check_file(const char *path, int readonly) {
    unsigned pages = 0, page = 0;
    long long size = 0, short_by = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        effgen_status s = look_at_file(path, readonly, &short_by, &pages, &page, &size);
        if (s || short_by == 0) return s;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return eg_err(EFFGEN_IO, "%s: database file is truncated: its header says %u pages of %u bytes (%lld bytes), the file has %lld",
                  path, pages, page, (long long)pages * page, size);
}

/* One integer from a PRAGMA (user_version, application_id) of schema `schema`. */
static effgen_status pragma_int(eg_db *db, const char *schema, const char *name, int *out) {
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA \"%s\".%s", schema, name);
    sqlite3_stmt *st = NULL;
    effgen_status s = eg_dbi_prepare(db, sql, &st);
    if (s) return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    s = rc == SQLITE_OK ? EFFGEN_OK : eg_dbi_fail(db, rc, name);
    sqlite3_finalize(st);
    return s;
}

effgen_status eg_dbi_schema_info(eg_db *db, const char *schema, int *version, int *app, int *tables) {
    effgen_status s = pragma_int(db, schema, "user_version", version);
    if (!s) s = pragma_int(db, schema, "application_id", app);
    if (s) return s;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".sqlite_schema", schema);
    sqlite3_stmt *st = NULL;
    s = eg_dbi_prepare(db, sql, &st);
    if (s) return s;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *tables = sqlite3_column_int(st, 0);
    else
        s = eg_dbi_fail(db, rc, "read schema");
    sqlite3_finalize(st);
    return s;
}

/* Bring a writable database to EG_DB_SCHEMA_VERSION. The version is read again under the write lock:
 * another process may have migrated while this one waited. */
static effgen_status migrate(eg_db *db) {
    effgen_status s = eg_dbi_begin(db);
    if (s) return s;
    int version = 0;
    s = pragma_int(db, "main", "user_version", &version);
    if (s) goto done;
    if (version > EG_DB_SCHEMA_VERSION) {
        s = eg_err(EFFGEN_UNSUPPORTED, "%s: schema version %d is newer than this effgen's %d; use a newer effgen",
                   db->path, version, EG_DB_SCHEMA_VERSION);
        goto done;
    }
    for (int i = 0; i < MIGRATION_COUNT; i++) {
        if (migrations[i].version <= version) continue;
        char what[64];
        snprintf(what, sizeof what, "migrate to schema version %d", migrations[i].version);
        s = eg_dbi_exec(db, migrations[i].sql, what);
        if (s) goto done;
    }
    if (version < EG_DB_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d", EG_DB_APPLICATION_ID,
                 EG_DB_SCHEMA_VERSION);
        s = eg_dbi_exec(db, sql, "set schema version");
        if (s) goto done;
    }
    s = eg_dbi_commit(db);
done:
    if (s) eg_dbi_rollback(db);
    return s;
}

/* Open db->h on db->path with a URI mode ("ro", "rwc", "ro&immutable=1") and set the connection up:
 * extended codes, busy timeout, effgen's SQL functions. */
static effgen_status connect(eg_db *db, const char *mode) {
    char *uri = eg_dbi_uri(db->path, mode);
    if (!uri) return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", db->path);
    int flags = (db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_URI |
                SQLITE_OPEN_FULLMUTEX;
    int rc = sqlite3_open_v2(uri, &db->h, flags, NULL);
    free(uri);
    if (rc != SQLITE_OK) return eg_dbi_fail(db, rc, "open");
    /* SQLite quietly falls back to read-only when the file is not writable; say so now rather than at the
     * first write (or as a confusing failure to create the WAL index beside it). */
    if (!db->readonly && sqlite3_db_readonly(db->h, "main") == 1)
        return eg_err(EFFGEN_IO, "%s: file is read-only (no write permission); open it read-only or fix its permissions",
                      db->path);
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, EG_DB_BUSY_MS);
    int fflags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    rc = sqlite3_create_function_v2(db->h, "eg_fnv1a64", 1, fflags, NULL, sql_hash, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db->h, "eg_unhex", 1, fflags, NULL, sql_unhex, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return eg_dbi_fail(db, rc, "register functions");
    return EFFGEN_OK;
}

/* SQLite opens lazily: these reads are what find a file that is not a database. One read transaction,
 * so the three values come from one snapshot even while another process creates the schema. *code gets
 * SQLite's extended code of a failure. */
static effgen_status read_info(eg_db *db, int *version, int *app, int *tables, int *code) {
    effgen_status s = eg_dbi_exec(db, "BEGIN", "begin read");
    if (!s) s = eg_dbi_schema_info(db, "main", version, app, tables);
    if (!s) s = eg_dbi_commit(db);
    *code = s ? sqlite3_extended_errcode(db->h) : SQLITE_OK;
    if (s) eg_dbi_rollback(db);
    return s;
}

/* Switch a new file to WAL. While another process creates the same file (still in rollback-journal
 * mode) SQLite answers SQLITE_BUSY at once instead of calling the busy handler, to avoid a deadlock of
 * two lock upgrades; so wait here, as long as the busy timeout. */
static effgen_status set_wal(eg_db *db) {
    int waited = 0, pause = 1, rc;
    for (;;) {
        sqlite3_stmt *st = NULL;
        effgen_status s = eg_dbi_prepare(db, "PRAGMA journal_mode = WAL", &st);
        if (s) return s;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            if (!mode || sqlite3_stricmp(mode, "wal") != 0)
                s = eg_err(EFFGEN_IO, "%s: cannot switch to WAL journal mode (journal mode stays %s)", db->path,
                           mode ? mode : "unknown");
            sqlite3_finalize(st);
            return s;
        }
        if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || waited >= EG_DB_BUSY_MS) {
            s = eg_dbi_fail(db, rc, "set WAL journal mode");
            sqlite3_finalize(st);
            return s;
        }
        sqlite3_finalize(st);
        sqlite3_sleep(pause);
        waited += pause;
        if (pause < 20) pause *= 2;
    }
}

effgen_status eg_db_open(const char *path, int readonly, eg_db **out) {
    effgen_status s = EFFGEN_OK;
    eg_db *db = NULL;
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_open: out is NULL");
    *out = NULL;
    if (!path || !path[0]) return eg_err(EFFGEN_INVALID_ARGUMENT, "database path: must not be empty");
    s = eg_dbi_check_file(path, readonly);
    if (s) return s;

    db = calloc(1, sizeof *db);
    if (!db) return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", path);
    db->readonly = readonly;
    pthread_mutex_init(&db->lock, NULL);
    db->path = strdup(path);
    if (!db->path) {
        s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", path);
        goto done;
    }
    s = connect(db, readonly ? "ro" : "rwc");
    if (s) goto done;
    int version = 0, app = 0, tables = 0, code = 0;
    s = read_info(db, &version, &app, &tables, &code);
    /* A WAL database in a folder this process cannot write (a shipped database under /usr/share) cannot
     * create its shared-memory index (SQLITE_READONLY_DIRECTORY, _CANTINIT, or CANTOPEN); read it as
     * immutable instead, which needs no index and no locks. Whoever cannot create the index cannot be
     * writing the file through SQLite either, unless another user is: a case we accept for read-only use. */
    if (s && readonly && ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN)) {
        sqlite3_close(db->h);
        db->h = NULL;
        s = connect(db, "ro&immutable=1");
        if (!s) s = read_info(db, &version, &app, &tables, &code);
    }
    if (s) goto done;
    if ((app != 0 && app != EG_DB_APPLICATION_ID) || (version > 0 && app == 0) || (version == 0 && tables > 0)) {
        s = eg_err(EFFGEN_IO, "%s: an SQLite database of another program, not an effgen database "
                              "(application_id 0x%08x, user_version %d)", path, (unsigned)app, version);
        goto done;
    }
    if (version > EG_DB_SCHEMA_VERSION) {
        s = eg_err(EFFGEN_UNSUPPORTED, "%s: schema version %d is newer than this effgen's %d; use a newer effgen",
                   path, version, EG_DB_SCHEMA_VERSION);
        goto done;
    }
    if (readonly) {
        if (version == 0)
            s = eg_err(EFFGEN_IO, "%s: empty file, not an effgen database", path);
        else if (version < EG_DB_SCHEMA_VERSION)
            s = eg_err(EFFGEN_UNSUPPORTED, "%s: schema version %d is older than this effgen's %d; open it for "
                                           "writing once (e.g. effgen db vacuum --db %s) to migrate it",
                       path, version, EG_DB_SCHEMA_VERSION, path);
        goto done;
    }
    /* WAL: readers never block the writer and a killed writer leaves the main file intact. NORMAL sync is
     * durable against a killed process (not a power cut) and spares an fsync per measurement. */
    s = set_wal(db);
    if (s) goto done;
    s = eg_dbi_exec(db, "PRAGMA synchronous = NORMAL", "set synchronous");
    if (s) goto done;
    if (version < EG_DB_SCHEMA_VERSION) s = migrate(db);
done:
    if (s) {
        eg_db_close(db);
        return s;
    }
    *out = db;
    return EFFGEN_OK;
}

void eg_db_close(eg_db *db) {
    if (!db) return;
    /* Every statement is finalized by the function that prepared it, so close (not close_v2) succeeds. */
    if (db->h) sqlite3_close(db->h);
    pthread_mutex_destroy(&db->lock);
    free(db->path);
    free(db);
}

const char *eg_db_path(const eg_db *db) { return db && db->path ? db->path : ""; }

/* mkdir -p for the cache folder; existing folders are fine. */
static effgen_status make_dirs(char *dir) {
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(dir, 0755);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST) return eg_err(EFFGEN_IO, "cannot create folder %.*s: %s", (int)(p - dir), dir, strerror(e));
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return eg_err(EFFGEN_IO, "cannot create folder %s: %s", dir, strerror(errno));
    return EFFGEN_OK;
}

effgen_status eg_db_default_path(char *buf, size_t size) {
    if (!buf || !size) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_default_path: no buffer");
    buf[0] = 0;
    const char *env = getenv("EFFGEN_DB");
    if (env && env[0]) {
        if ((size_t)snprintf(buf, size, "%s", env) >= size)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "EFFGEN_DB: path longer than %zu bytes", size - 1);
        return EFFGEN_OK;
    }
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    struct passwd pw, *pwp = NULL;
    char pwbuf[1024];
    if ((!home || !home[0]) && getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp) home = pw.pw_dir;
    int n;
    /* The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored. */
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/effgen", xdg);
    else if (home && home[0])
        n = snprintf(buf, size, "%s/.cache/effgen", home);
    else
        return eg_err(EFFGEN_INVALID_ARGUMENT, "no database path: set EFFGEN_DB, XDG_CACHE_HOME or HOME");
    if (n < 0 || (size_t)n + sizeof "/kernels.db" > size)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "default database path longer than %zu bytes", size - 1);
    effgen_status s = make_dirs(buf);
    if (s) return s;
    strcat(buf, "/kernels.db");
    return EFFGEN_OK;
}
