/* query.c - the rows the tuner and the dispatcher read and write: kernels (with the cubin hash check),
 * measurements and winners. Every read filters by build (generator, NVRTC) and arch, so another
 * compiler's row is never served. Each write is one BEGIN IMMEDIATE transaction; callbacks run after the
 * rows are read and the lock released, so they may call back into the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbi.h"

static const char *const result_names[] = {"ok", "check_failed", "compile_failed", "launch_failed", "pruned"};
#define RESULT_COUNT ((int)(sizeof result_names / sizeof result_names[0]))

static const char *result_text(eg_db_result r) {
    return (int)r >= 0 && (int)r < RESULT_COUNT ? result_names[r] : NULL;
}

static eg_db_result result_parse(const char *t) {
    for (int i = 0; i < RESULT_COUNT; i++)
        if (t && !strcmp(t, result_names[i])) return (eg_db_result)i;
    return EG_DB_CHECK_FAILED; /* the schema's CHECK makes this unreachable; never serve an unknown as ok */
}

static effgen_status check_build(const eg_db_build *b) {
    if (!b) return eg_err(EFFGEN_INVALID_ARGUMENT, "build: must not be NULL");
    effgen_status s = eg_dbi_check_field(b->generator, sizeof b->generator, "build.generator");
    if (!s) s = eg_dbi_check_field(b->nvrtc, sizeof b->nvrtc, "build.nvrtc");
    return s;
}

/* Run a prepared write statement to completion inside its own transaction, then finalize it. */
static effgen_status step_write(eg_db *db, sqlite3_stmt *st, const char *what) {
    effgen_status s = eg_dbi_begin(db);
    if (!s) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) s = eg_dbi_fail(db, rc, what);
    }
    sqlite3_finalize(st);
    if (!s) s = eg_dbi_commit(db);
    if (s) eg_dbi_rollback(db);
    return s;
}

/* ---- kernels ---- */

effgen_status eg_db_kernel_put(eg_db *db, const eg_db_kernel *k) {
    if (!db || !k) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_kernel_put: NULL argument");
    effgen_status s = eg_dbi_check_field(k->spec, sizeof k->spec, "kernel.spec");
    if (!s) s = eg_dbi_check_field(k->config, sizeof k->config, "kernel.config");
    if (!s) s = check_build(&k->build);
    if (s) return s;
    if (!k->cubin || !k->cubin_size) return eg_err(EFFGEN_INVALID_ARGUMENT, "kernel.cubin: must not be empty");
    char hash[17];
    eg_dbi_hash(k->cubin, k->cubin_size, hash);

    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    s = eg_dbi_need_write(db, "store kernel");
    if (!s)
        s = eg_dbi_prepare(db,
                           "INSERT OR REPLACE INTO kernels(spec, config, arch, generator, nvrtc, registers, smem_bytes,"
                           " spill_bytes, compile_ms, cubin, cubin_hash) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                           &st);
    if (!s) {
        eg_dbi_bind_text(st, 1, k->spec);
        eg_dbi_bind_text(st, 2, k->config);
        sqlite3_bind_int(st, 3, k->arch);
        eg_dbi_bind_text(st, 4, k->build.generator);
        eg_dbi_bind_text(st, 5, k->build.nvrtc);
        sqlite3_bind_int(st, 6, k->registers);
        sqlite3_bind_int(st, 7, k->smem_bytes);
        sqlite3_bind_int(st, 8, k->spill_bytes);
        eg_dbi_bind_double(st, 9, k->compile_ms);
        int rc = sqlite3_bind_blob64(st, 10, k->cubin, k->cubin_size, SQLITE_STATIC);
        eg_dbi_bind_text(st, 11, hash);
        if (rc != SQLITE_OK) {
            s = eg_dbi_fail(db, rc, "store kernel");
            sqlite3_finalize(st);
        } else {
            s = step_write(db, st, "store kernel");
        }
    }
    pthread_mutex_unlock(&db->lock);
    return s;
}

/* A blob that no longer matches its hash is removed (when the handle may write) so that the caller's
 * recompile replaces it; the condition re-checks the hash in case another process already did. */
static effgen_status drop_bad_kernel(eg_db *db, const char *spec, const char *config, int arch,
                                     const eg_db_build *b) {
    if (db->readonly) return EFFGEN_OK;
    sqlite3_stmt *st = NULL;
    effgen_status s = eg_dbi_prepare(db,
                                     "DELETE FROM kernels WHERE spec=?1 AND config=?2 AND arch=?3 AND generator=?4"
                                     " AND nvrtc=?5 AND eg_fnv1a64(cubin) IS NOT cubin_hash",
                                     &st);
    if (s) return s;
    eg_dbi_bind_text(st, 1, spec);
    eg_dbi_bind_text(st, 2, config);
    sqlite3_bind_int(st, 3, arch);
    eg_dbi_bind_text(st, 4, b->generator);
    eg_dbi_bind_text(st, 5, b->nvrtc);
    return step_write(db, st, "delete kernel with a bad cubin hash");
}

effgen_status eg_db_kernel_get(eg_db *db, const char *spec, const char *config, int arch, const eg_db_build *b,
                               eg_db_kernel *out, int *found) {
    if (!db || !spec || !config || !out || !found)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_kernel_get: NULL argument");
    *found = 0;
    memset(out, 0, sizeof *out);
    effgen_status s = check_build(b);
    if (s) return s;
    int bad_hash = 0;
    void *blob = NULL;
    sqlite3_stmt *st = NULL;

    pthread_mutex_lock(&db->lock);
    s = eg_dbi_prepare(db,
                       "SELECT registers, smem_bytes, spill_bytes, compile_ms, cubin, cubin_hash FROM kernels"
                       " WHERE spec=?1 AND config=?2 AND arch=?3 AND generator=?4 AND nvrtc=?5",
                       &st);
    if (s) goto done;
    eg_dbi_bind_text(st, 1, spec);
    eg_dbi_bind_text(st, 2, config);
    sqlite3_bind_int(st, 3, arch);
    eg_dbi_bind_text(st, 4, b->generator);
    eg_dbi_bind_text(st, 5, b->nvrtc);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) goto done;
    if (rc != SQLITE_ROW) {
        s = eg_dbi_fail(db, rc, "read kernel");
        goto done;
    }
    const void *p = sqlite3_column_blob(st, 4);
    size_t n = (size_t)sqlite3_column_bytes(st, 4);
    char want[17], have[17];
    eg_dbi_column_text(st, 5, want, sizeof want);
    eg_dbi_hash(p, n, have);
    if (!p || !n || strcmp(want, have) != 0) {
        bad_hash = 1;
        goto done;
    }
    blob = malloc(n);
    if (!blob) {
        s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory reading a cubin of %zu bytes", db->path, n);
        goto done;
    }
    memcpy(blob, p, n);
    snprintf(out->spec, sizeof out->spec, "%s", spec);
    snprintf(out->config, sizeof out->config, "%s", config);
    out->arch = arch;
    out->build = *b;
    out->registers = sqlite3_column_int(st, 0);
    out->smem_bytes = sqlite3_column_int(st, 1);
    out->spill_bytes = sqlite3_column_int(st, 2);
    out->compile_ms = eg_dbi_column_double(st, 3);
    out->cubin = blob;
    out->cubin_size = n;
    blob = NULL;
    *found = 1;
done:
    sqlite3_finalize(st);
    if (!s && bad_hash) s = drop_bad_kernel(db, spec, config, arch, b);
    pthread_mutex_unlock(&db->lock);
    free(blob);
    return s;
}

/* ---- measurements ---- */

static effgen_status check_device(const eg_db_device *d) {
    if (!d) return eg_err(EFFGEN_INVALID_ARGUMENT, "device: must not be NULL");
    return eg_dbi_check_field(d->name, sizeof d->name, "device.name");
}

static effgen_status check_measurement_key(const eg_db_measurement *m) {
    effgen_status s = eg_dbi_check_field(m->spec, sizeof m->spec, "measurement.spec");
    if (!s) s = eg_dbi_check_field(m->config, sizeof m->config, "measurement.config");
    if (!s) s = eg_dbi_check_field(m->problem, sizeof m->problem, "measurement.problem");
    if (!s) s = check_build(&m->build);
    if (!s) s = check_device(&m->device);
    return s;
}

effgen_status eg_db_measurement_put(eg_db *db, const eg_db_measurement *m) {
    if (!db || !m) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_measurement_put: NULL argument");
    effgen_status s = check_measurement_key(m);
    if (s) return s;
    const char *result = result_text(m->result);
    if (!result) return eg_err(EFFGEN_INVALID_ARGUMENT, "measurement.result: %d is not an eg_db_result", (int)m->result);
    if (strnlen(m->failure, sizeof m->failure) == sizeof m->failure)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "measurement.failure: not terminated within its %zu bytes",
                      sizeof m->failure);

    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    s = eg_dbi_need_write(db, "store measurement");
    /* A repeated measurement replaces the old one (the newer run is the truth) and gets a new time. */
    if (!s)
        s = eg_dbi_prepare(db,
                           "INSERT INTO measurements(spec, config, arch, generator, nvrtc, problem, bucket, device, cc,"
                           " sm_count, driver, result, ms_median, ms_min, ms_max, tflops, rel_err, failure)"
                           " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)"
                           " ON CONFLICT(spec, config, arch, generator, nvrtc, problem, device, driver) DO UPDATE SET"
                           " bucket=excluded.bucket, cc=excluded.cc, sm_count=excluded.sm_count,"
                           " result=excluded.result, ms_median=excluded.ms_median, ms_min=excluded.ms_min,"
                           " ms_max=excluded.ms_max, tflops=excluded.tflops, rel_err=excluded.rel_err,"
                           " failure=excluded.failure, created=" EG_DB_NOW,
                           &st);
    if (!s) {
        eg_dbi_bind_text(st, 1, m->spec);
        eg_dbi_bind_text(st, 2, m->config);
        sqlite3_bind_int(st, 3, m->arch);
        eg_dbi_bind_text(st, 4, m->build.generator);
        eg_dbi_bind_text(st, 5, m->build.nvrtc);
        eg_dbi_bind_text(st, 6, m->problem);
        sqlite3_bind_int(st, 7, m->bucket);
        eg_dbi_bind_text(st, 8, m->device.name);
        sqlite3_bind_int(st, 9, m->device.cc);
        sqlite3_bind_int(st, 10, m->device.sm_count);
        sqlite3_bind_int(st, 11, m->device.driver);
        eg_dbi_bind_text(st, 12, result);
        eg_dbi_bind_double(st, 13, m->ms_median);
        eg_dbi_bind_double(st, 14, m->ms_min);
        eg_dbi_bind_double(st, 15, m->ms_max);
        eg_dbi_bind_double(st, 16, m->tflops);
        eg_dbi_bind_double(st, 17, m->rel_err);
        eg_dbi_bind_text(st, 18, m->failure);
        s = step_write(db, st, "store measurement");
    }
    pthread_mutex_unlock(&db->lock);
    return s;
}

effgen_status eg_db_measurement_has(eg_db *db, const eg_db_measurement *key, int *found) {
    if (!db || !key || !found) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_measurement_has: NULL argument");
    *found = 0;
    effgen_status s = check_measurement_key(key);
    if (s) return s;
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    s = eg_dbi_prepare(db,
                       "SELECT 1 FROM measurements WHERE spec=?1 AND config=?2 AND arch=?3 AND generator=?4"
                       " AND nvrtc=?5 AND problem=?6 AND device=?7 AND driver=?8 AND cc=?9 AND sm_count=?10",
                       &st);
    if (!s) {
        eg_dbi_bind_text(st, 1, key->spec);
        eg_dbi_bind_text(st, 2, key->config);
        sqlite3_bind_int(st, 3, key->arch);
        eg_dbi_bind_text(st, 4, key->build.generator);
        eg_dbi_bind_text(st, 5, key->build.nvrtc);
        eg_dbi_bind_text(st, 6, key->problem);
        eg_dbi_bind_text(st, 7, key->device.name);
        sqlite3_bind_int(st, 8, key->device.driver);
        sqlite3_bind_int(st, 9, key->device.cc);
        sqlite3_bind_int(st, 10, key->device.sm_count);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *found = 1;
        else if (rc != SQLITE_DONE)
            s = eg_dbi_fail(db, rc, "look up measurement");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    return s;
}

/* Columns in the order read_measurement expects. */
#define MEASUREMENT_COLUMNS                                                                             \
    "spec, config, arch, generator, nvrtc, problem, bucket, device, cc, sm_count, driver, result,"   \
    " ms_median, ms_min, ms_max, tflops, rel_err, failure, created"

static void read_measurement(sqlite3_stmt *st, eg_db_measurement *m) {
    char result[32];
    memset(m, 0, sizeof *m);
    eg_dbi_column_text(st, 0, m->spec, sizeof m->spec);
    eg_dbi_column_text(st, 1, m->config, sizeof m->config);
    m->arch = sqlite3_column_int(st, 2);
    eg_dbi_column_text(st, 3, m->build.generator, sizeof m->build.generator);
    eg_dbi_column_text(st, 4, m->build.nvrtc, sizeof m->build.nvrtc);
    eg_dbi_column_text(st, 5, m->problem, sizeof m->problem);
    m->bucket = sqlite3_column_int(st, 6);
    eg_dbi_column_text(st, 7, m->device.name, sizeof m->device.name);
    m->device.cc = sqlite3_column_int(st, 8);
    m->device.sm_count = sqlite3_column_int(st, 9);
    m->device.driver = sqlite3_column_int(st, 10);
    eg_dbi_column_text(st, 11, result, sizeof result);
    m->result = result_parse(result);
    m->ms_median = eg_dbi_column_double(st, 12);
    m->ms_min = eg_dbi_column_double(st, 13);
    m->ms_max = eg_dbi_column_double(st, 14);
    m->tflops = eg_dbi_column_double(st, 15);
    m->rel_err = eg_dbi_column_double(st, 16);
    eg_dbi_column_text(st, 17, m->failure, sizeof m->failure);
    eg_dbi_column_text(st, 18, m->created, sizeof m->created);
}

/* Step a bound query to the end, copying each row into a growing array (elem bytes each) with read. */
static effgen_status collect(eg_db *db, sqlite3_stmt *st, size_t elem, void (*read)(sqlite3_stmt *, void *),
                             void **rows, size_t *count) {
    size_t n = 0, cap = 0;
    char *a = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char *na = realloc(a, ncap * elem);
            if (!na) {
                free(a);
                return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory reading rows", db->path);
            }
            a = na;
            cap = ncap;
        }
        read(st, a + n * elem);
        n++;
    }
    if (rc != SQLITE_DONE) {
        free(a);
        return eg_dbi_fail(db, rc, "read rows");
    }
    *rows = a;
    *count = n;
    return EFFGEN_OK;
}

static void read_measurement_v(sqlite3_stmt *st, void *out) { read_measurement(st, out); }

effgen_status eg_db_measurement_each(eg_db *db, const char *spec, int arch, const eg_db_build *b, const char *problem,
                                     const eg_db_device *dev, int (*fn)(const eg_db_measurement *, void *), void *arg) {
    if (!db || !spec || !problem || !fn) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_measurement_each: NULL argument");
    effgen_status s = check_build(b);
    if (!s) s = check_device(dev);
    if (s) return s;
    eg_db_measurement *rows = NULL;
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&db->lock);
    /* Timed rows fastest first; failed and untimed rows after them. */
    s = eg_dbi_prepare(db,
                       "SELECT " MEASUREMENT_COLUMNS " FROM measurements WHERE spec=?1 AND arch=?2 AND generator=?3"
                       " AND nvrtc=?4 AND problem=?5 AND device=?6 AND driver=?7 AND cc=?8 AND sm_count=?9"
                       " ORDER BY result <> 'ok', ms_median IS NULL, ms_median, config",
                       &st);
    if (!s) {
        eg_dbi_bind_text(st, 1, spec);
        sqlite3_bind_int(st, 2, arch);
        eg_dbi_bind_text(st, 3, b->generator);
        eg_dbi_bind_text(st, 4, b->nvrtc);
        eg_dbi_bind_text(st, 5, problem);
        eg_dbi_bind_text(st, 6, dev->name);
        sqlite3_bind_int(st, 7, dev->driver);
        sqlite3_bind_int(st, 8, dev->cc);
        sqlite3_bind_int(st, 9, dev->sm_count);
        s = collect(db, st, sizeof *rows, read_measurement_v, (void **)&rows, &n);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    for (size_t i = 0; !s && i < n; i++)
        if (fn(&rows[i], arg)) break;
    free(rows);
    return s;
}

effgen_status eg_db_measurement_history(eg_db *db, const char *spec, int (*fn)(const eg_db_measurement *, void *),
                                        void *arg) {
    if (!db || !fn) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_measurement_history: NULL argument");
    eg_db_measurement *rows = NULL;
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&db->lock);
    effgen_status s = eg_dbi_prepare(db,
                                     "SELECT " MEASUREMENT_COLUMNS " FROM measurements WHERE ?1 IS NULL OR spec=?1"
                                     " ORDER BY created, id",
                                     &st);
    if (!s) {
        eg_dbi_bind_text(st, 1, spec);
        s = collect(db, st, sizeof *rows, read_measurement_v, (void **)&rows, &n);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    for (size_t i = 0; !s && i < n; i++)
        if (fn(&rows[i], arg)) break;
    free(rows);
    return s;
}

/* ---- winners ---- */

#define WINNER_COLUMNS "arch, spec, bucket, config, source, tflops, generator, nvrtc, device, updated"

static void read_winner(sqlite3_stmt *st, void *out) {
    eg_db_winner *w = out;
    char source[16];
    memset(w, 0, sizeof *w);
    w->arch = sqlite3_column_int(st, 0);
    eg_dbi_column_text(st, 1, w->spec, sizeof w->spec);
    w->bucket = sqlite3_column_int(st, 2);
    eg_dbi_column_text(st, 3, w->config, sizeof w->config);
    eg_dbi_column_text(st, 4, source, sizeof source);
    w->source = strcmp(source, "measured") == 0 ? EG_DB_MEASURED : EG_DB_MODEL;
    w->tflops = eg_dbi_column_double(st, 5);
    eg_dbi_column_text(st, 6, w->build.generator, sizeof w->build.generator);
    eg_dbi_column_text(st, 7, w->build.nvrtc, sizeof w->build.nvrtc);
    eg_dbi_column_text(st, 8, w->device, sizeof w->device);
    eg_dbi_column_text(st, 9, w->updated, sizeof w->updated);
}

effgen_status eg_db_winner_put(eg_db *db, const eg_db_winner *w) {
    if (!db || !w) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_winner_put: NULL argument");
    effgen_status s = eg_dbi_check_field(w->spec, sizeof w->spec, "winner.spec");
    if (!s) s = eg_dbi_check_field(w->config, sizeof w->config, "winner.config");
    if (!s) s = check_build(&w->build);
    if (s) return s;
    if (w->source != EG_DB_MEASURED && w->source != EG_DB_MODEL)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "winner.source: %d is not an eg_db_source", (int)w->source);
    if (strnlen(w->device, sizeof w->device) == sizeof w->device)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "winner.device: not terminated within its %zu bytes", sizeof w->device);

    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    s = eg_dbi_need_write(db, "store winner");
    /* A model pick never displaces a measured winner: offline packing keeps what was measured. */
    if (!s)
        s = eg_dbi_prepare(db,
                           "INSERT INTO winners(arch, spec, bucket, config, source, tflops, generator, nvrtc, device)"
                           " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
                           " ON CONFLICT(arch, spec, bucket, generator, nvrtc) DO UPDATE SET config=excluded.config,"
                           " source=excluded.source, tflops=excluded.tflops, device=excluded.device, updated="
                           EG_DB_NOW " WHERE NOT (excluded.source = 'model' AND winners.source = 'measured')",
                           &st);
    if (!s) {
        sqlite3_bind_int(st, 1, w->arch);
        eg_dbi_bind_text(st, 2, w->spec);
        sqlite3_bind_int(st, 3, w->bucket);
        eg_dbi_bind_text(st, 4, w->config);
        eg_dbi_bind_text(st, 5, w->source == EG_DB_MEASURED ? "measured" : "model");
        sqlite3_bind_double(st, 6, w->tflops == w->tflops ? w->tflops : 0.0);
        eg_dbi_bind_text(st, 7, w->build.generator);
        eg_dbi_bind_text(st, 8, w->build.nvrtc);
        eg_dbi_bind_text(st, 9, w->device);
        s = step_write(db, st, "store winner");
    }
    pthread_mutex_unlock(&db->lock);
    return s;
}

effgen_status eg_db_winner_get(eg_db *db, int arch, const char *spec, int seqlen_k, const eg_db_build *b,
                               eg_db_winner *out, int *found) {
    if (!db || !spec || !out || !found) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_winner_get: NULL argument");
    *found = 0;
    memset(out, 0, sizeof *out);
    effgen_status s = check_build(b);
    if (s) return s;
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    /* Covering buckets (>= seqlen_k) first, the smallest of them; with none, the largest bucket. */
    s = eg_dbi_prepare(db,
                       "SELECT " WINNER_COLUMNS " FROM winners WHERE arch=?1 AND spec=?2 AND generator=?3 AND nvrtc=?4"
                       " ORDER BY bucket < ?5, CASE WHEN bucket >= ?5 THEN bucket ELSE -bucket END LIMIT 1",
                       &st);
    if (!s) {
        sqlite3_bind_int(st, 1, arch);
        eg_dbi_bind_text(st, 2, spec);
        eg_dbi_bind_text(st, 3, b->generator);
        eg_dbi_bind_text(st, 4, b->nvrtc);
        sqlite3_bind_int(st, 5, seqlen_k);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            read_winner(st, out);
            *found = 1;
        } else if (rc != SQLITE_DONE) {
            s = eg_dbi_fail(db, rc, "read winner");
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    return s;
}

effgen_status eg_db_winner_each(eg_db *db, int (*fn)(const eg_db_winner *, void *), void *arg) {
    if (!db || !fn) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_winner_each: NULL argument");
    eg_db_winner *rows = NULL;
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&db->lock);
    effgen_status s = eg_dbi_prepare(
        db, "SELECT " WINNER_COLUMNS " FROM winners ORDER BY arch, spec, bucket, generator, nvrtc", &st);
    if (!s) s = collect(db, st, sizeof *rows, read_winner, (void **)&rows, &n);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    for (size_t i = 0; !s && i < n; i++)
        if (fn(&rows[i], arg)) break;
    free(rows);
    return s;
}

effgen_status eg_db_count(eg_db *db, eg_db_counts *out) {
    if (!db || !out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_count: NULL argument");
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = NULL;
    effgen_status s = eg_dbi_prepare(db,
                                     "SELECT (SELECT count(*) FROM kernels), (SELECT count(*) FROM measurements),"
                                     " (SELECT count(*) FROM winners)",
                                     &st);
    if (!s) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            out->kernels = sqlite3_column_int64(st, 0);
            out->measurements = sqlite3_column_int64(st, 1);
            out->winners = sqlite3_column_int64(st, 2);
        } else {
            s = eg_dbi_fail(db, rc, "count rows");
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    return s;
}
