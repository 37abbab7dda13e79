/* maint.c - whole-database operations behind `effgen db`: verify (integrity, schema, cubin hashes),
 * vacuum, merge of another database file, and JSON export/import. JSON is written and parsed by
 * SQLite's own JSON functions; import loads the rows into an in-memory schema and then applies the same
 * merge rules as merge, so the two cannot drift apart. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbi.h"

/* Column text that is never NULL (NULL columns and out-of-memory read as ""), for printing. */
static const char *text_of(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- verify ---- */

effgen_status eg_db_verify(eg_db *db, char **report, int *problems) {
    if (!db || !report || !problems) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_verify: NULL argument");
    *report = NULL;
    *problems = 0;
    eg_emit lines;
    eg_emit_init(&lines);
    char summary[1200] = "";
    sqlite3_stmt *st = NULL;
    effgen_status s = EFFGEN_OK;
    int bad = 0, rc;
    long long kernels = 0;
    pthread_mutex_lock(&db->lock);

    /* A damaged file makes later queries fail too: each failure becomes a report line, not an error. */
    s = eg_dbi_prepare(db, "PRAGMA integrity_check(100)", &st);
    if (s) goto done;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t && strcmp(t, "ok") == 0) continue;
        /* A row may hold several lines ("*** in database main ***" and the first finding): one each. */
        for (const char *p = t ? t : "(null)"; *p;) {
            size_t n = strcspn(p, "\n");
            if (n && strncmp(p, "*** ", 4) != 0) {
                eg_emit_line(&lines, "integrity: %.*s", (int)(n < 900 ? n : 900), p);
                bad++;
            }
            p += n;
            if (*p) p++;
        }
    }
    if (rc != SQLITE_DONE) {
        eg_emit_line(&lines, "integrity: check stopped: %.900s", sqlite3_errmsg(db->h));
        bad++;
    }
    sqlite3_finalize(st);
    st = NULL;

    int version = 0, app = 0, tables = 0;
    if (eg_dbi_schema_info(db, "main", &version, &app, &tables) != EFFGEN_OK) {
        eg_emit_line(&lines, "schema: cannot read: %.900s", effgen_last_error());
        bad++;
    } else {
        if (version != EG_DB_SCHEMA_VERSION) {
            eg_emit_line(&lines, "schema: version %d, this effgen writes %d", version, EG_DB_SCHEMA_VERSION);
            bad++;
        }
        if (app != EG_DB_APPLICATION_ID) {
            eg_emit_line(&lines, "schema: application_id 0x%08x, an effgen database has 0x%08x", (unsigned)app,
                         (unsigned)EG_DB_APPLICATION_ID);
            bad++;
        }
    }

    s = eg_dbi_prepare(db,
                       "SELECT spec, config, arch, generator, nvrtc, cubin_hash, eg_fnv1a64(cubin),"
                       " eg_fnv1a64(cubin) IS cubin_hash FROM kernels",
                       &st);
    if (s) {
        /* A missing table or an unreadable schema is a finding about the file, not a failure of verify. */
        eg_emit_line(&lines, "kernels: cannot read: %.900s", effgen_last_error());
        bad++;
        s = EFFGEN_OK;
    } else {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            kernels++;
            if (sqlite3_column_int(st, 7)) continue;
            char an[16];
            eg_arch_print(sqlite3_column_int(st, 2), an, sizeof an);
            eg_emit_line(&lines, "cubin hash: %.128s %.64s %s generator %.32s nvrtc %.16s: stored %.16s, blob hashes to %.16s",
                         text_of(st, 0), text_of(st, 1), an, text_of(st, 3), text_of(st, 4), text_of(st, 5),
                         text_of(st, 6));
            bad++;
        }
        if (rc != SQLITE_DONE) {
            eg_emit_line(&lines, "kernels: reading stopped: %.900s", sqlite3_errmsg(db->h));
            bad++;
        }
    }
    if (bad)
        snprintf(summary, sizeof summary, "%s: schema version %d, %lld kernels: %d problem%s", db->path, version,
                 kernels, bad, bad == 1 ? "" : "s");
    else
        snprintf(summary, sizeof summary,
                 "%s: schema version %d, integrity ok, %lld kernels with matching cubin hashes: ok", db->path,
                 version, kernels);
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&db->lock);
    if (!s && lines.failed) s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory building the report", db->path);
    if (!s) {
        /* The summary line first, then the problems in the order they were found. */
        size_t sl = strlen(summary), tl = lines.buf ? lines.len : 0;
        char *r = malloc(sl + 1 + tl + 1);
        if (!r) {
            s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory building the report", db->path);
        } else {
            memcpy(r, summary, sl);
            r[sl] = '\n';
            if (tl) memcpy(r + sl + 1, lines.buf, tl);
            r[sl + 1 + tl] = 0;
            *report = r;
            *problems = bad;
        }
    }
    free(lines.buf);
    return s;
}

effgen_status eg_db_vacuum(eg_db *db) {
    if (!db) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_vacuum: NULL database");
    pthread_mutex_lock(&db->lock);
    effgen_status s = eg_dbi_need_write(db, "vacuum");
    if (!s) s = eg_dbi_exec(db, "VACUUM", "vacuum");
    pthread_mutex_unlock(&db->lock);
    return s;
}

/* ---- merge ---- */

effgen_status eg_dbi_merge_from(eg_db *db, const char *src, const char *src_name) {
    char sql[2048];
    /* Only blobs that still match their hash travel; an existing kernel is never overwritten. */
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO main.kernels(spec, config, arch, generator, nvrtc, registers, smem_bytes,"
             " spill_bytes, compile_ms, cubin, cubin_hash, created)"
             " SELECT spec, config, arch, generator, nvrtc, registers, smem_bytes, spill_bytes, compile_ms, cubin,"
             " cubin_hash, created FROM \"%s\".kernels WHERE eg_fnv1a64(cubin) = cubin_hash",
             src);
    effgen_status s = eg_dbi_exec(db, sql, "merge kernels");
    if (s) return eg_err_wrap(s, "from %s", src_name);
    /* WHERE true: SQLite needs it to tell the upsert clause from a join after INSERT ... SELECT. */
    snprintf(sql, sizeof sql,
             "INSERT INTO main.measurements(spec, config, arch, generator, nvrtc, problem, bucket, device, cc,"
             " sm_count, driver, result, ms_median, ms_min, ms_max, tflops, rel_err, failure, created)"
             " SELECT spec, config, arch, generator, nvrtc, problem, bucket, device, cc, sm_count, driver, result,"
             " ms_median, ms_min, ms_max, tflops, rel_err, failure, created FROM \"%s\".measurements WHERE true"
             " ON CONFLICT(spec, config, arch, generator, nvrtc, problem, device, driver) DO UPDATE SET"
             " bucket=excluded.bucket, cc=excluded.cc, sm_count=excluded.sm_count, result=excluded.result,"
             " ms_median=excluded.ms_median, ms_min=excluded.ms_min, ms_max=excluded.ms_max,"
             " tflops=excluded.tflops, rel_err=excluded.rel_err, failure=excluded.failure,"
             " created=excluded.created WHERE excluded.created > measurements.created",
             src);
    s = eg_dbi_exec(db, sql, "merge measurements");
    if (s) return eg_err_wrap(s, "from %s", src_name);
    /* The key holds generator and NVRTC, so only winners of the same build ever compete. */
    snprintf(sql, sizeof sql,
             "INSERT INTO main.winners(arch, spec, bucket, config, source, tflops, generator, nvrtc, device, updated)"
             " SELECT arch, spec, bucket, config, source, tflops, generator, nvrtc, device, updated"
             " FROM \"%s\".winners WHERE true"
             " ON CONFLICT(arch, spec, bucket, generator, nvrtc) DO UPDATE SET config=excluded.config,"
             " source=excluded.source, tflops=excluded.tflops, device=excluded.device, updated=excluded.updated"
             " WHERE excluded.source = 'measured' AND (winners.source = 'model' OR excluded.tflops > winners.tflops)",
             src);
    s = eg_dbi_exec(db, sql, "merge winners");
    if (s) return eg_err_wrap(s, "from %s", src_name);
    return EFFGEN_OK;
}

effgen_status eg_db_merge(eg_db *db, const char *src_path) {
    if (!db || !src_path || !src_path[0]) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_merge: no source path");
    effgen_status s = EFFGEN_OK;
    char *uri = NULL;
    int attached = 0;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&db->lock);
    s = eg_dbi_need_write(db, "merge");
    if (s) goto done;
    s = eg_dbi_check_file(src_path, 1);
    if (s) goto done;
    {
        char a[PATH_MAX], b[PATH_MAX];
        if (realpath(src_path, a) && realpath(db->path, b) && strcmp(a, b) == 0) {
            s = eg_err(EFFGEN_INVALID_ARGUMENT, "merge %s: it is the database itself", src_path);
            goto done;
        }
    }
    uri = eg_dbi_uri(src_path, "ro");
    if (!uri) {
        s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", src_path);
        goto done;
    }
    s = eg_dbi_prepare(db, "ATTACH ?1 AS eg_src", &st);
    if (s) goto done;
    sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        s = eg_err_wrap(eg_dbi_fail(db, rc, "attach"), "merge %s", src_path);
        goto done;
    }
    attached = 1;
    s = eg_dbi_begin(db);
    if (s) goto done;
    int version = 0, app = 0, tables = 0;
    s = eg_dbi_schema_info(db, "eg_src", &version, &app, &tables);
    if (s) {
        /* The message names the destination; the failing file is the source. */
        s = eg_err_wrap(s, "merge %s", src_path);
        goto done;
    }
    if (app != EG_DB_APPLICATION_ID || version == 0) {
        s = eg_err(EFFGEN_IO, "%s: not an effgen database (application_id 0x%08x, user_version %d)", src_path,
                   (unsigned)app, version);
        goto done;
    }
    if (version != EG_DB_SCHEMA_VERSION) {
        s = eg_err(EFFGEN_UNSUPPORTED, "%s: schema version %d, this effgen's is %d; %s", src_path, version,
                   EG_DB_SCHEMA_VERSION,
                   version > EG_DB_SCHEMA_VERSION ? "use a newer effgen"
                                                  : "open it for writing once (effgen db vacuum --db FILE) to migrate it");
        goto done;
    }
    s = eg_dbi_merge_from(db, "eg_src", src_path);
    if (!s) s = eg_dbi_commit(db);
done:
    if (s) eg_dbi_rollback(db);
    if (attached) sqlite3_exec(db->h, "DETACH eg_src", NULL, NULL, NULL);
    pthread_mutex_unlock(&db->lock);
    free(uri);
    return s;
}

/* ---- export ---- */

/* A REAL column as JSON: SQLite 3.40 writes infinities as "Inf", which is not JSON; 9e999 is, and reads
 * back as infinity. NaN is stored as NULL and becomes null. */
#define JR(c) "CASE WHEN " c " = 9e999 THEN json('9e999') WHEN " c " = -9e999 THEN json('-9e999') ELSE " c " END"

/* Write each row of a one-column query (JSON object text) as an array element. */
static effgen_status export_rows(eg_db *db, FILE *f, const char *name, const char *sql) {
    sqlite3_stmt *st = NULL;
    effgen_status s = eg_dbi_prepare(db, sql, &st);
    if (s) return s;
    fprintf(f, ",\n\"%s\": [", name);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs(n++ ? ",\n  " : "\n  ", f);
        fputs(text_of(st, 0), f);
    }
    fputs(n ? "\n]" : "]", f);
    if (rc != SQLITE_DONE) s = eg_dbi_fail(db, rc, "export");
    sqlite3_finalize(st);
    return s;
}

effgen_status eg_db_export_json(eg_db *db, const char *path, int with_cubins) {
    if (!db || !path || !path[0]) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_export_json: no path");
    effgen_status s = EFFGEN_OK;
    int to_stdout = strcmp(path, "-") == 0;
    char *tmp = NULL;
    FILE *f = NULL;
    int in_txn = 0;
    pthread_mutex_lock(&db->lock);
    if (to_stdout) {
        f = stdout;
    } else {
        /* Write beside the target and rename at the end: a failed export leaves no half file. */
        size_t n = strlen(path) + 8;
        tmp = malloc(n);
        if (!tmp) {
            s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory", path);
            goto done;
        }
        snprintf(tmp, n, "%s.tmp", path);
        f = fopen(tmp, "w");
        if (!f) {
            s = eg_err(EFFGEN_IO, "%s: %s", tmp, strerror(errno));
            goto done;
        }
    }
    /* One read transaction: the three arrays come from one snapshot while tuners keep writing. */
    s = eg_dbi_exec(db, "BEGIN", "begin read");
    if (s) goto done;
    in_txn = 1;
    fprintf(f, "{\"format\": \"effgen-db\", \"schema\": %d, \"cubins\": \"%s\"", EG_DB_SCHEMA_VERSION,
            with_cubins ? "hex" : "none");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT json_object('spec', spec, 'config', config, 'arch', arch, 'generator', generator,"
             " 'nvrtc', nvrtc, 'registers', registers, 'smem_bytes', smem_bytes, 'spill_bytes', spill_bytes,"
             " 'compile_ms', " JR("compile_ms") ", 'cubin_size', length(cubin), 'cubin_hash', cubin_hash,"
             " 'created', created%s) FROM kernels ORDER BY spec, config, arch, generator, nvrtc",
             with_cubins ? ", 'cubin', hex(cubin)" : "");
    s = export_rows(db, f, "kernels", sql);
    if (!s)
        s = export_rows(db, f, "measurements",
                        "SELECT json_object('spec', spec, 'config', config, 'arch', arch, 'generator', generator,"
                        " 'nvrtc', nvrtc, 'problem', problem, 'bucket', bucket, 'device', device, 'cc', cc,"
                        " 'sm_count', sm_count, 'driver', driver, 'result', result, 'ms_median', " JR("ms_median")
                        ", 'ms_min', " JR("ms_min") ", 'ms_max', " JR("ms_max") ", 'tflops', " JR("tflops")
                        ", 'rel_err', " JR("rel_err") ","
                        " 'failure', failure, 'created', created) FROM measurements ORDER BY created, id");
    if (!s)
        s = export_rows(db, f, "winners",
                        "SELECT json_object('arch', arch, 'spec', spec, 'bucket', bucket, 'config', config,"
                        " 'source', source, 'tflops', " JR("tflops") ", 'generator', generator, 'nvrtc', nvrtc,"
                        " 'device', device, 'updated', updated) FROM winners ORDER BY arch, spec, bucket");
    if (s) goto done;
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        s = eg_err(EFFGEN_IO, "%s: write failed: %s", to_stdout ? "standard output" : tmp, strerror(errno));
        goto done;
    }
    if (!to_stdout) {
        int rc = fclose(f);
        f = NULL;
        if (rc != 0) {
            s = eg_err(EFFGEN_IO, "%s: write failed: %s", tmp, strerror(errno));
            goto done;
        }
        if (rename(tmp, path) != 0) {
            s = eg_err(EFFGEN_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
            goto done;
        }
    }
done:
    if (in_txn) sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&db->lock);
    if (f && !to_stdout) fclose(f);
    if (s && tmp) remove(tmp);
    free(tmp);
    return s;
}

/* ---- import ---- */

/* The whole file, NUL-terminated; *size excludes the NUL. */
static effgen_status read_file(const char *path, char **out, size_t *size) {
    effgen_status s = EFFGEN_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return eg_err(EFFGEN_IO, "%s: %s", path, strerror(errno));
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                s = eg_err(EFFGEN_NO_MEMORY, "%s: out of memory reading the file", path);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        s = eg_err(EFFGEN_IO, "%s: read failed: %s", path, strerror(errno));
        goto done;
    }
    buf[len] = 0;
    *out = buf;
    *size = len;
    buf = NULL;
done:
    fclose(f);
    free(buf);
    return s;
}

/* One query on the JSON text (?1) that yields a single integer or text; used for the checks. */
static effgen_status json_scalar(eg_db *db, const char *sql, const char *json, size_t len, long long *num,
                                 char *text, size_t text_size, int *is_null) {
    sqlite3_stmt *st = NULL;
    effgen_status s = eg_dbi_prepare(db, sql, &st);
    if (s) return s;
    sqlite3_bind_text64(st, 1, json, len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (is_null) *is_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
        if (num) *num = sqlite3_column_int64(st, 0);
        if (text) eg_dbi_column_text(st, 0, text, text_size);
    } else if (rc == SQLITE_DONE) {
        if (is_null) *is_null = 1;
    } else {
        s = eg_dbi_fail(db, rc, "read JSON");
    }
    sqlite3_finalize(st);
    return s;
}

/* JSON value types that count as a number, and as a number or absent/null. */
#define J_NUM(f) "json_type(value,'$." f "') IN ('integer','real')"
#define J_OPTNUM(f) "coalesce(json_type(value,'$." f "'),'null') IN ('integer','real','null')"
#define J_TEXT(f) "json_type(value,'$." f "') = 'text'"
#define J_INT(f) "json_type(value,'$." f "') = 'integer'"

static const struct {
    const char *array;
    const char *valid;  /* condition every element must meet */
    const char *insert; /* fills eg_import.<array> from json_each(?1, '$.<array>') */
} import_tables[] = {
    {"kernels",
     J_TEXT("spec") " AND " J_TEXT("config") " AND " J_INT("arch") " AND " J_TEXT("generator") " AND "
     J_TEXT("nvrtc") " AND " J_INT("registers") " AND " J_INT("smem_bytes") " AND " J_INT("spill_bytes") " AND "
     J_OPTNUM("compile_ms") " AND " J_TEXT("cubin_hash") " AND "
     "coalesce(json_type(value,'$.cubin'),'null') IN ('text','null')",
     "INSERT INTO eg_import.kernels(spec, config, arch, generator, nvrtc, registers, smem_bytes, spill_bytes,"
     " compile_ms, cubin, cubin_hash, created)"
     " SELECT json_extract(value,'$.spec'), json_extract(value,'$.config'), json_extract(value,'$.arch'),"
     " json_extract(value,'$.generator'), json_extract(value,'$.nvrtc'), json_extract(value,'$.registers'),"
     " json_extract(value,'$.smem_bytes'), json_extract(value,'$.spill_bytes'), json_extract(value,'$.compile_ms'),"
     " eg_unhex(json_extract(value,'$.cubin')), json_extract(value,'$.cubin_hash'),"
     " coalesce(json_extract(value,'$.created')," EG_DB_NOW ")"
     " FROM json_each(?1,'$.kernels') WHERE json_type(value,'$.cubin') = 'text'"},
    {"measurements",
     J_TEXT("spec") " AND " J_TEXT("config") " AND " J_INT("arch") " AND " J_TEXT("generator") " AND "
     J_TEXT("nvrtc") " AND " J_TEXT("problem") " AND " J_INT("bucket") " AND " J_TEXT("device") " AND "
     J_INT("cc") " AND " J_INT("sm_count") " AND " J_INT("driver") " AND "
     "json_extract(value,'$.result') IN ('ok','check_failed','compile_failed','launch_failed','pruned') AND "
     J_OPTNUM("ms_median") " AND " J_OPTNUM("ms_min") " AND " J_OPTNUM("ms_max") " AND " J_OPTNUM("tflops")
     " AND " J_OPTNUM("rel_err"),
     "INSERT INTO eg_import.measurements(spec, config, arch, generator, nvrtc, problem, bucket, device, cc,"
     " sm_count, driver, result, ms_median, ms_min, ms_max, tflops, rel_err, failure, created)"
     " SELECT json_extract(value,'$.spec'), json_extract(value,'$.config'), json_extract(value,'$.arch'),"
     " json_extract(value,'$.generator'), json_extract(value,'$.nvrtc'), json_extract(value,'$.problem'),"
     " json_extract(value,'$.bucket'), json_extract(value,'$.device'), json_extract(value,'$.cc'),"
     " json_extract(value,'$.sm_count'), json_extract(value,'$.driver'), json_extract(value,'$.result'),"
     " json_extract(value,'$.ms_median'), json_extract(value,'$.ms_min'), json_extract(value,'$.ms_max'),"
     " json_extract(value,'$.tflops'), json_extract(value,'$.rel_err'),"
     " coalesce(json_extract(value,'$.failure'),''), coalesce(json_extract(value,'$.created')," EG_DB_NOW ")"
     " FROM json_each(?1,'$.measurements')"},
    {"winners",
     J_INT("arch") " AND " J_TEXT("spec") " AND " J_INT("bucket") " AND " J_TEXT("config") " AND "
     "json_extract(value,'$.source') IN ('measured','model') AND " J_OPTNUM("tflops") " AND "
     J_TEXT("generator") " AND " J_TEXT("nvrtc"),
     "INSERT INTO eg_import.winners(arch, spec, bucket, config, source, tflops, generator, nvrtc, device, updated)"
     " SELECT json_extract(value,'$.arch'), json_extract(value,'$.spec'), json_extract(value,'$.bucket'),"
     " json_extract(value,'$.config'), json_extract(value,'$.source'), coalesce(json_extract(value,'$.tflops'),0),"
     " json_extract(value,'$.generator'), json_extract(value,'$.nvrtc'), coalesce(json_extract(value,'$.device'),''),"
     " coalesce(json_extract(value,'$.updated')," EG_DB_NOW ")"
     " FROM json_each(?1,'$.winners')"},
};

/* Every check an import file must pass before anything is written. */
static effgen_status import_check(eg_db *db, const char *path, const char *json, size_t len) {
    long long num = 0;
    int is_null = 0;
    char text[64];
    effgen_status s = json_scalar(db, "SELECT json_valid(?1)", json, len, &num, NULL, 0, NULL);
    if (s) return s;
    if (!num) return eg_err(EFFGEN_PARSE, "%s: not valid JSON", path);
    s = json_scalar(db, "SELECT json_type(?1)", json, len, NULL, text, sizeof text, NULL);
    if (s) return s;
    if (strcmp(text, "object") != 0) return eg_err(EFFGEN_PARSE, "%s: the top level is %s, not an object", path, text);
    s = json_scalar(db, "SELECT json_extract(?1,'$.format')", json, len, NULL, text, sizeof text, NULL);
    if (s) return s;
    if (strcmp(text, "effgen-db") != 0)
        return eg_err(EFFGEN_PARSE, "%s: not an effgen database export (\"format\" is \"%s\", not \"effgen-db\")", path,
                      text);
    s = json_scalar(db, "SELECT CASE json_type(?1,'$.schema') WHEN 'integer' THEN json_extract(?1,'$.schema') END",
                    json, len, &num, NULL, 0, &is_null);
    if (s) return s;
    if (is_null || num < 1) return eg_err(EFFGEN_PARSE, "%s: \"schema\" must be a positive integer", path);
    if (num > EG_DB_SCHEMA_VERSION)
        return eg_err(EFFGEN_UNSUPPORTED, "%s: export of schema version %lld is newer than this effgen's %d", path, num,
                      EG_DB_SCHEMA_VERSION);
    for (size_t t = 0; t < sizeof import_tables / sizeof import_tables[0]; t++) {
        char sql[2048];
        snprintf(sql, sizeof sql, "SELECT coalesce(json_type(?1,'$.%s'),'array')", import_tables[t].array);
        s = json_scalar(db, sql, json, len, NULL, text, sizeof text, NULL);
        if (s) return s;
        if (strcmp(text, "array") != 0)
            return eg_err(EFFGEN_PARSE, "%s: \"%s\" is %s, not an array", path, import_tables[t].array, text);
        snprintf(sql, sizeof sql,
                 "SELECT key FROM json_each(?1,'$.%s') WHERE json_type(value) <> 'object' OR NOT (%s) LIMIT 1",
                 import_tables[t].array, import_tables[t].valid);
        s = json_scalar(db, sql, json, len, &num, NULL, 0, &is_null);
        if (s) return s;
        if (!is_null)
            return eg_err(EFFGEN_PARSE, "%s: %s[%lld]: a field is missing or has the wrong type", path,
                          import_tables[t].array, num);
    }
    return EFFGEN_OK;
}

effgen_status eg_dbi_create_shadow(eg_db *db, const char *name) {
    static const char *const tables[] = {"kernels", "measurements", "winners"};
    for (int i = 0; i < 3; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE TABLE \"%s\".%s AS SELECT * FROM main.%s WHERE 0", name, tables[i],
                 tables[i]);
        effgen_status s = eg_dbi_exec(db, sql, "create import tables");
        if (s) return s;
    }
    return EFFGEN_OK;
}

effgen_status eg_db_import_json(eg_db *db, const char *path) {
    if (!db || !path || !path[0]) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_db_import_json: no path");
    effgen_status s = EFFGEN_OK;
    char *json = NULL;
    size_t len = 0;
    int attached = 0;
    pthread_mutex_lock(&db->lock);
    s = eg_dbi_need_write(db, "import");
    if (s) goto done;
    s = read_file(path, &json, &len);
    if (s) goto done;
    s = import_check(db, path, json, len);
    if (s) goto done;
    /* Stage the rows in memory, then merge them like another database file. */
    s = eg_dbi_exec(db, "ATTACH ':memory:' AS eg_import", "attach import area");
    if (s) goto done;
    attached = 1;
    s = eg_dbi_create_shadow(db, "eg_import");
    for (size_t t = 0; !s && t < sizeof import_tables / sizeof import_tables[0]; t++) {
        sqlite3_stmt *st = NULL;
        s = eg_dbi_prepare(db, import_tables[t].insert, &st);
        if (s) break;
        sqlite3_bind_text64(st, 1, json, len, SQLITE_STATIC, SQLITE_UTF8);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) s = eg_err_wrap(eg_dbi_fail(db, rc, "import"), "%s: %s", path, import_tables[t].array);
        sqlite3_finalize(st);
    }
    if (s) goto done;
    s = eg_dbi_begin(db);
    if (!s) s = eg_dbi_merge_from(db, "eg_import", path);
    if (!s) s = eg_dbi_commit(db);
done:
    if (s) eg_dbi_rollback(db);
    if (attached) sqlite3_exec(db->h, "DETACH eg_import", NULL, NULL, NULL);
    pthread_mutex_unlock(&db->lock);
    free(json);
    return s;
}
