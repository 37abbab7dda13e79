/* test_db.c - the kernel database's normal behaviour: round trips of kernels, measurements and winners;
 * rows of another generator, NVRTC or arch never served; bucket choice; the winner rules of put and
 * merge; JSON export and import; verify, vacuum, the default path, and one handle shared by threads. */
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "t.h"
#include "tdb.h"

/* Run SQL on a database file directly, bypassing the library (to set timestamps, look at rows). */
static int raw_exec(const char *path, const char *sql) {
    sqlite3 *h = NULL;
    int rc = sqlite3_open(path, &h);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) fprintf(stderr, "raw_exec %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
    return rc;
}

static void test_kernels(eg_db *db) {
    eg_db_kernel k = tdb_kernel("bm128.bn64.w4.s2"), got;
    int found = -1;
    CHECK_OK(eg_db_kernel_put(db, &k));
    CHECK_OK(eg_db_kernel_get(db, k.spec, k.config, 90, &tdb_build, &got, &found));
    if (CHECK_INT(found, 1)) {
        CHECK_STR(got.spec, k.spec);
        CHECK_STR(got.config, k.config);
        CHECK_INT(got.arch, 90);
        CHECK_STR(got.build.generator, tdb_build.generator);
        CHECK_STR(got.build.nvrtc, tdb_build.nvrtc);
        CHECK_INT(got.registers, 168);
        CHECK_INT(got.smem_bytes, 49152);
        CHECK_INT(got.spill_bytes, 0);
        CHECK(fabs(got.compile_ms - 812.5) < 1e-9);
        CHECK_INT(got.cubin_size, sizeof tdb_cubin);
        CHECK(got.cubin && memcmp(got.cubin, tdb_cubin, sizeof tdb_cubin) == 0);
        free(got.cubin);
    }
    /* Another generator, NVRTC or arch: never served. */
    eg_db_build other = tdb_build;
    snprintf(other.generator, sizeof other.generator, "fedcba9876543210");
    CHECK_OK(eg_db_kernel_get(db, k.spec, k.config, 90, &other, &got, &found));
    CHECK_INT(found, 0);
    CHECK(got.cubin == NULL);
    other = tdb_build;
    snprintf(other.nvrtc, sizeof other.nvrtc, "12.8");
    CHECK_OK(eg_db_kernel_get(db, k.spec, k.config, 90, &other, &got, &found));
    CHECK_INT(found, 0);
    CHECK_OK(eg_db_kernel_get(db, k.spec, k.config, 80, &tdb_build, &got, &found));
    CHECK_INT(found, 0);
    CHECK_OK(eg_db_kernel_get(db, k.spec, "bm64.bn64.w4.s2", 90, &tdb_build, &got, &found));
    CHECK_INT(found, 0);

    /* Replacing keeps one row per key. */
    k.registers = 200;
    CHECK_OK(eg_db_kernel_put(db, &k));
    CHECK_INT(tdb_count(db, "kernels"), 1);
    CHECK_OK(eg_db_kernel_get(db, k.spec, k.config, 90, &tdb_build, &got, &found));
    CHECK_INT(got.registers, 200);
    free(got.cubin);

    /* Bad input names the field. */
    eg_db_kernel bad = k;
    bad.spec[0] = 0;
    CHECK_STATUS(eg_db_kernel_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "kernel.spec");
    bad = k;
    bad.cubin_size = 0;
    CHECK_STATUS(eg_db_kernel_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "kernel.cubin");
    bad = k;
    memset(bad.build.generator, 'x', sizeof bad.build.generator);
    CHECK_STATUS(eg_db_kernel_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "build.generator");
    CHECK_STATUS(eg_db_kernel_get(db, k.spec, k.config, 90, NULL, &got, &found), EFFGEN_INVALID_ARGUMENT);
}

typedef struct seen {
    char configs[8][64];
    double ms[8], tflops[8];
    int n;
} seen;

static int collect_m(const eg_db_measurement *m, void *arg) {
    seen *s = arg;
    if (s->n < 8) {
        snprintf(s->configs[s->n], sizeof s->configs[0], "%s", m->config);
        s->ms[s->n] = m->ms_median;
        s->tflops[s->n] = m->tflops;
    }
    s->n++;
    return 0;
}

static void test_measurements(eg_db *db) {
    eg_db_measurement a = tdb_measurement("bm128.bn64.w4.s2", 2.0), b = tdb_measurement("bm128.bn128.w8.s2", 1.5),
                      c = tdb_measurement("bm64.bn64.w4.s3", 3.0), f = tdb_measurement("bm256.bn64.w8.s2", NAN);
    f.result = EG_DB_CHECK_FAILED;
    f.rel_err = NAN;
    c.tflops = INFINITY; /* JSON has no infinity: export must still be valid JSON */
    snprintf(f.failure, sizeof f.failure, "max rel error 0.31 at (0,3,17,5)");
    CHECK_OK(eg_db_measurement_put(db, &a));
    CHECK_OK(eg_db_measurement_put(db, &b));
    CHECK_OK(eg_db_measurement_put(db, &f));
    CHECK_OK(eg_db_measurement_put(db, &c));
    CHECK_INT(tdb_count(db, "measurements"), 4);

    int found = -1;
    CHECK_OK(eg_db_measurement_has(db, &a, &found));
    CHECK_INT(found, 1);
    CHECK_OK(eg_db_measurement_has(db, &f, &found));
    CHECK_INT(found, 1); /* a failed candidate is finished too: resume must not re-run it */
    eg_db_measurement other = a;
    other.device.driver = 12080;
    CHECK_OK(eg_db_measurement_has(db, &other, &found));
    CHECK_INT(found, 0);
    other = a;
    snprintf(other.build.generator, sizeof other.build.generator, "fedcba9876543210");
    CHECK_OK(eg_db_measurement_has(db, &other, &found));
    CHECK_INT(found, 0);
    other = a;
    snprintf(other.problem, sizeof other.problem, "b1.h8.nq512.nk512");
    CHECK_OK(eg_db_measurement_has(db, &other, &found));
    CHECK_INT(found, 0);

    /* Fastest first, failed last; NaN survives the round trip. */
    seen s = {0};
    CHECK_OK(eg_db_measurement_each(db, a.spec, 90, &tdb_build, a.problem, &a.device, collect_m, &s));
    if (CHECK_INT(s.n, 4)) {
        CHECK_STR(s.configs[0], "bm128.bn128.w8.s2");
        CHECK_STR(s.configs[1], "bm128.bn64.w4.s2");
        CHECK_STR(s.configs[2], "bm64.bn64.w4.s3");
        CHECK_STR(s.configs[3], "bm256.bn64.w8.s2");
        CHECK(isnan(s.ms[3]));
    }
    memset(&s, 0, sizeof s);
    CHECK_OK(eg_db_measurement_each(db, a.spec, 80, &tdb_build, a.problem, &a.device, collect_m, &s));
    CHECK_INT(s.n, 0);

    /* A new run of the same key replaces the old one (and is newer: timestamps count milliseconds). */
    usleep(5000);
    a.ms_median = 1.0;
    CHECK_OK(eg_db_measurement_put(db, &a));
    CHECK_INT(tdb_count(db, "measurements"), 4);
    memset(&s, 0, sizeof s);
    CHECK_OK(eg_db_measurement_each(db, a.spec, 90, &tdb_build, a.problem, &a.device, collect_m, &s));
    CHECK_STR(s.configs[0], "bm128.bn64.w4.s2");

    /* History: oldest first, every build and device. */
    memset(&s, 0, sizeof s);
    CHECK_OK(eg_db_measurement_history(db, a.spec, collect_m, &s));
    if (CHECK_INT(s.n, 4)) CHECK_STR(s.configs[3], "bm128.bn64.w4.s2"); /* the re-run is the newest */
    memset(&s, 0, sizeof s);
    CHECK_OK(eg_db_measurement_history(db, "attn_fwd/d64/fp16/none/sm_80", collect_m, &s));
    CHECK_INT(s.n, 0);

    eg_db_measurement bad = a;
    bad.result = (eg_db_result)9;
    CHECK_STATUS(eg_db_measurement_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "measurement.result");
    bad = a;
    bad.device.name[0] = 0;
    CHECK_STATUS(eg_db_measurement_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "device.name");
}

static void test_winners(eg_db *db) {
    eg_db_winner w1 = tdb_winner(1024, "bm64.bn64.w4.s2", EG_DB_MEASURED, 300),
                 w4 = tdb_winner(4096, "bm128.bn64.w4.s2", EG_DB_MEASURED, 450),
                 w16 = tdb_winner(16384, "bm128.bn128.w8.s2", EG_DB_MODEL, 0), got;
    CHECK_OK(eg_db_winner_put(db, &w1));
    CHECK_OK(eg_db_winner_put(db, &w16));
    CHECK_OK(eg_db_winner_put(db, &w4));
    int found = -1;
    static const struct {
        int seqlen_k, bucket;
    } cases[] = {{1, 1024}, {1024, 1024}, {1025, 4096}, {4096, 4096}, {8000, 16384}, {16384, 16384}, {65536, 16384}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_OK(eg_db_winner_get(db, 90, w1.spec, cases[i].seqlen_k, &tdb_build, &got, &found));
        if (CHECK_INT(found, 1)) CHECK_INT(got.bucket, cases[i].bucket);
    }
    CHECK_OK(eg_db_winner_get(db, 90, w1.spec, 4096, &tdb_build, &got, &found));
    CHECK_STR(got.config, "bm128.bn64.w4.s2");
    CHECK_INT(got.source, EG_DB_MEASURED);
    CHECK(fabs(got.tflops - 450) < 1e-9);
    CHECK_STR(got.device, "NVIDIA H100 80GB HBM3");
    CHECK(strlen(got.updated) >= 20);

    eg_db_build other = tdb_build;
    snprintf(other.nvrtc, sizeof other.nvrtc, "12.9");
    CHECK_OK(eg_db_winner_get(db, 90, w1.spec, 4096, &other, &got, &found));
    CHECK_INT(found, 0);
    CHECK_OK(eg_db_winner_get(db, 80, w1.spec, 4096, &tdb_build, &got, &found));
    CHECK_INT(found, 0);

    /* A model pick never displaces a measured winner; a measured one replaces a model pick. */
    eg_db_winner m4 = tdb_winner(4096, "bm64.bn32.w4.s2", EG_DB_MODEL, 0);
    CHECK_OK(eg_db_winner_put(db, &m4));
    CHECK_OK(eg_db_winner_get(db, 90, w1.spec, 4096, &tdb_build, &got, &found));
    CHECK_STR(got.config, "bm128.bn64.w4.s2");
    eg_db_winner r16 = tdb_winner(16384, "bm128.bn64.w8.s3", EG_DB_MEASURED, 500);
    CHECK_OK(eg_db_winner_put(db, &r16));
    CHECK_OK(eg_db_winner_get(db, 90, w1.spec, 16384, &tdb_build, &got, &found));
    CHECK_STR(got.config, "bm128.bn64.w8.s3");
    CHECK_INT(got.source, EG_DB_MEASURED);
    CHECK_INT(tdb_count(db, "winners"), 3);

    eg_db_winner bad = w1;
    bad.source = (eg_db_source)7;
    CHECK_STATUS(eg_db_winner_put(db, &bad), EFFGEN_INVALID_ARGUMENT);
}

static int count_w(const eg_db_winner *w, void *arg) {
    (void)w;
    ++*(int *)arg;
    return 0;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_export_import(eg_db *db) {
    const char *plain = tdb_path("plain.json"), *full = tdb_path("full.json");
    CHECK_OK(eg_db_export_json(db, plain, 0));
    CHECK_OK(eg_db_export_json(db, full, 1));
    char *t = slurp(plain);
    CHECK_HAS(t, "\"format\": \"effgen-db\"");
    CHECK_HAS(t, "\"cubin_hash\"");
    CHECK_LACKS(t, "\"cubin\":");
    CHECK_HAS(slurp(full), "\"cubin\":");
    CHECK(access(tdb_path("full.json.tmp"), F_OK) != 0);

    /* Without cubins nothing of kernels is imported; with them everything round-trips. */
    eg_db *a = NULL, *b = NULL;
    CHECK_OK(eg_db_open(tdb_path("imp-plain.db"), 0, &a));
    CHECK_OK(eg_db_import_json(a, plain));
    CHECK_INT(tdb_count(a, "kernels"), 0);
    CHECK_INT(tdb_count(a, "measurements"), tdb_count(db, "measurements"));
    CHECK_INT(tdb_count(a, "winners"), tdb_count(db, "winners"));
    eg_db_close(a);

    CHECK_OK(eg_db_open(tdb_path("imp-full.db"), 0, &b));
    CHECK_OK(eg_db_import_json(b, full));
    CHECK_INT(tdb_count(b, "kernels"), tdb_count(db, "kernels"));
    CHECK_INT(tdb_count(b, "measurements"), tdb_count(db, "measurements"));
    eg_db_kernel k = tdb_kernel("bm128.bn64.w4.s2"), got;
    int found = 0;
    CHECK_OK(eg_db_kernel_get(b, k.spec, k.config, 90, &tdb_build, &got, &found));
    if (CHECK_INT(found, 1)) {
        CHECK(got.cubin_size == sizeof tdb_cubin && memcmp(got.cubin, tdb_cubin, sizeof tdb_cubin) == 0);
        free(got.cubin);
    }
    /* NaN and infinity survive JSON. */
    seen s = {0};
    eg_db_measurement m = tdb_measurement("x", 1);
    CHECK_OK(eg_db_measurement_each(b, m.spec, 90, &tdb_build, m.problem, &m.device, collect_m, &s));
    if (CHECK_INT(s.n, 4)) {
        CHECK(isnan(s.ms[3]));
        CHECK_STR(s.configs[2], "bm64.bn64.w4.s3");
        CHECK(isinf(s.tflops[2]) && s.tflops[2] > 0);
    }
    /* Importing again changes nothing. */
    CHECK_OK(eg_db_import_json(b, full));
    CHECK_INT(tdb_count(b, "measurements"), tdb_count(db, "measurements"));

    /* Bad files: each names the problem and writes nothing. */
    long long before = tdb_count(b, "measurements");
    const char *bad = tdb_path("bad.json");
    write_text(bad, "{\"format\": \"effgen-db\", \"schema\": 1, \"measurements\": [");
    CHECK_STATUS(eg_db_import_json(b, bad), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "not valid JSON");
    CHECK_HAS(effgen_last_error(), bad);
    write_text(bad, "{\"format\": \"something\", \"schema\": 1}");
    CHECK_STATUS(eg_db_import_json(b, bad), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "format");
    write_text(bad, "{\"format\": \"effgen-db\", \"schema\": 99, \"kernels\": []}");
    CHECK_STATUS(eg_db_import_json(b, bad), EFFGEN_UNSUPPORTED);
    CHECK_HAS(effgen_last_error(), "99");
    write_text(bad, "{\"format\": \"effgen-db\", \"schema\": 1, \"winners\": [{\"arch\": 90, \"spec\": \"s\","
                    " \"bucket\": 1, \"config\": \"c\", \"source\": \"guess\", \"generator\": \"g\", \"nvrtc\": \"n\"}]}");
    CHECK_STATUS(eg_db_import_json(b, bad), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "winners[0]");
    write_text(bad, "{\"format\": \"effgen-db\", \"schema\": 1, \"measurements\": {}}");
    CHECK_STATUS(eg_db_import_json(b, bad), EFFGEN_PARSE);
    CHECK_STATUS(eg_db_import_json(b, tdb_path("missing.json")), EFFGEN_IO);
    CHECK_INT(tdb_count(b, "measurements"), before);
    eg_db_close(b);
}

static void test_merge(void) {
    const char *pa = tdb_path("merge-a.db"), *pb = tdb_path("merge-b.db");
    eg_db *a = NULL, *b = NULL;
    CHECK_OK(eg_db_open(pa, 0, &a));
    CHECK_OK(eg_db_open(pb, 0, &b));
    if (!a || !b) return;
    /* bucket 1024: model in a, measured in b -> measured wins.
     * bucket 2048: measured 100 in a, measured 120 in b -> faster wins.
     * bucket 4096: measured 90 in a, measured 80 in b -> a stays.
     * bucket 8192: measured in a, model in b -> a stays.
     * bucket 1024 of another generator in b -> its own row. */
    eg_db_winner w;
    w = tdb_winner(1024, "a1", EG_DB_MODEL, 0), CHECK_OK(eg_db_winner_put(a, &w));
    w = tdb_winner(1024, "b1", EG_DB_MEASURED, 50), CHECK_OK(eg_db_winner_put(b, &w));
    w = tdb_winner(2048, "a2", EG_DB_MEASURED, 100), CHECK_OK(eg_db_winner_put(a, &w));
    w = tdb_winner(2048, "b2", EG_DB_MEASURED, 120), CHECK_OK(eg_db_winner_put(b, &w));
    w = tdb_winner(4096, "a4", EG_DB_MEASURED, 90), CHECK_OK(eg_db_winner_put(a, &w));
    w = tdb_winner(4096, "b4", EG_DB_MEASURED, 80), CHECK_OK(eg_db_winner_put(b, &w));
    w = tdb_winner(8192, "a8", EG_DB_MEASURED, 70), CHECK_OK(eg_db_winner_put(a, &w));
    w = tdb_winner(8192, "b8", EG_DB_MODEL, 0), CHECK_OK(eg_db_winner_put(b, &w));
    w = tdb_winner(1024, "g1", EG_DB_MEASURED, 10);
    snprintf(w.build.generator, sizeof w.build.generator, "1111111111111111");
    CHECK_OK(eg_db_winner_put(b, &w));

    /* Measurements: b's newer row replaces a's, b's older row does not. */
    eg_db_measurement m1 = tdb_measurement("m1", 1.0), m2 = tdb_measurement("m2", 2.0), m3 = tdb_measurement("m3", 3.0);
    CHECK_OK(eg_db_measurement_put(a, &m1));
    CHECK_OK(eg_db_measurement_put(a, &m2));
    m1.ms_median = 0.5;
    m2.ms_median = 0.25;
    CHECK_OK(eg_db_measurement_put(b, &m1));
    CHECK_OK(eg_db_measurement_put(b, &m2));
    CHECK_OK(eg_db_measurement_put(b, &m3));
    eg_db_close(b);
    b = NULL;
    /* Timestamps have millisecond resolution: make the order explicit. */
    CHECK_INT(raw_exec(pb, "UPDATE measurements SET created='2000-01-01T00:00:00.000Z' WHERE config='m2';"
                           "UPDATE measurements SET created='2999-01-01T00:00:00.000Z' WHERE config='m1'"),
              0);

    /* Kernels: an existing key is kept, a new one added, one with a bad hash refused. */
    eg_db_kernel k1 = tdb_kernel("k1"), k2 = tdb_kernel("k2"), k3 = tdb_kernel("k3");
    CHECK_OK(eg_db_kernel_put(a, &k1));
    CHECK_OK(eg_db_open(pb, 0, &b));
    k1.registers = 99;
    CHECK_OK(eg_db_kernel_put(b, &k1));
    CHECK_OK(eg_db_kernel_put(b, &k2));
    CHECK_OK(eg_db_kernel_put(b, &k3));
    eg_db_close(b);
    CHECK_INT(raw_exec(pb, "UPDATE kernels SET cubin = zeroblob(16) WHERE config='k3'"), 0);

    CHECK_OK(eg_db_merge(a, pb));
    eg_db_winner got;
    int found = 0;
    static const struct {
        int bucket;
        const char *config;
    } want[] = {{1024, "b1"}, {2048, "b2"}, {4096, "a4"}, {8192, "a8"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_OK(eg_db_winner_get(a, 90, "attn_fwd/d128/bf16/causal/sm_90", want[i].bucket, &tdb_build, &got, &found));
        CHECK_STR(got.config, want[i].config);
    }
    CHECK_INT(tdb_count(a, "winners"), 5);
    seen s = {0};
    CHECK_OK(eg_db_measurement_each(a, m1.spec, 90, &tdb_build, m1.problem, &m1.device, collect_m, &s));
    if (CHECK_INT(s.n, 3)) {
        CHECK_STR(s.configs[0], "m1"); /* 0.5 from b */
        CHECK(fabs(s.ms[0] - 0.5) < 1e-12);
        CHECK_STR(s.configs[1], "m2"); /* a's 2.0: b's row is older */
        CHECK(fabs(s.ms[1] - 2.0) < 1e-12);
        CHECK_STR(s.configs[2], "m3");
    }
    eg_db_kernel kg;
    CHECK_OK(eg_db_kernel_get(a, k1.spec, "k1", 90, &tdb_build, &kg, &found));
    CHECK_INT(kg.registers, 168);
    free(kg.cubin);
    CHECK_OK(eg_db_kernel_get(a, k1.spec, "k2", 90, &tdb_build, &kg, &found));
    CHECK_INT(found, 1);
    free(kg.cubin);
    CHECK_OK(eg_db_kernel_get(a, k1.spec, "k3", 90, &tdb_build, &kg, &found));
    CHECK_INT(found, 0);
    CHECK_INT(tdb_count(a, "kernels"), 2);

    /* Merging again is a no-op; merging itself, a missing or a foreign file is refused. */
    CHECK_OK(eg_db_merge(a, pb));
    CHECK_INT(tdb_count(a, "winners"), 5);
    CHECK_INT(tdb_count(a, "measurements"), 3);
    CHECK_STATUS(eg_db_merge(a, pa), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(eg_db_merge(a, tdb_path("none.db")), EFFGEN_IO);
    CHECK_HAS(effgen_last_error(), "none.db");
    const char *foreign = tdb_path("foreign.db");
    CHECK_INT(raw_exec(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES(1)"), 0);
    CHECK_STATUS(eg_db_merge(a, foreign), EFFGEN_IO);
    CHECK_HAS(effgen_last_error(), "foreign.db");
    const char *newer = tdb_path("newer.db");
    eg_db *n = NULL;
    CHECK_OK(eg_db_open(newer, 0, &n));
    eg_db_close(n);
    CHECK_INT(raw_exec(newer, "PRAGMA user_version = 99"), 0);
    CHECK_STATUS(eg_db_merge(a, newer), EFFGEN_UNSUPPORTED);
    CHECK_HAS(effgen_last_error(), "99");
    CHECK_INT(tdb_count(a, "winners"), 5);
    /* The source was only read. */
    CHECK_OK(eg_db_open(pb, 1, &b));
    CHECK_INT(tdb_count(b, "kernels"), 3);
    eg_db_close(b);
    eg_db_close(a);
}

static void test_maintenance(eg_db *db) {
    char *report = NULL;
    int problems = -1;
    CHECK_OK(eg_db_verify(db, &report, &problems));
    CHECK_INT(problems, 0);
    CHECK_HAS(report, ": ok");
    CHECK_HAS(report, "schema version 1");
    free(report);
    CHECK_OK(eg_db_vacuum(db));
    int n = 0;
    CHECK_OK(eg_db_winner_each(db, count_w, &n));
    CHECK_INT(n, 3);

    /* A read-only handle reads and refuses every write with a clear message. */
    eg_db *ro = NULL;
    CHECK_OK(eg_db_open(eg_db_path(db), 1, &ro));
    if (ro) {
        CHECK_INT(tdb_count(ro, "winners"), 3);
        eg_db_winner w = tdb_winner(1, "c", EG_DB_MEASURED, 1);
        CHECK_STATUS(eg_db_winner_put(ro, &w), EFFGEN_IO);
        CHECK_HAS(effgen_last_error(), "read-only");
        CHECK_HAS(effgen_last_error(), eg_db_path(db));
        CHECK_STATUS(eg_db_vacuum(ro), EFFGEN_IO);
        CHECK_OK(eg_db_verify(ro, &report, &problems));
        CHECK_INT(problems, 0);
        free(report);
        eg_db_close(ro);
    }
    eg_db_close(NULL);
}

/* Paths reach SQLite as URIs: characters that mean something in a URI must survive, for open and merge. */
static void test_odd_path(void) {
    const char *odd = tdb_path("we?ird #name%20&mode=ro:.db");
    eg_db *db = NULL, *other = NULL;
    CHECK_OK(eg_db_open(odd, 0, &db));
    if (!db) return;
    eg_db_measurement m = tdb_measurement("odd", 1.0);
    CHECK_OK(eg_db_measurement_put(db, &m));
    eg_db_close(db);
    CHECK(access(odd, F_OK) == 0);
    CHECK_OK(eg_db_open(tdb_path("plain-target.db"), 0, &other));
    if (!other) return;
    CHECK_OK(eg_db_merge(other, odd));
    CHECK_INT(tdb_count(other, "measurements"), 1);
    eg_db_close(other);
}

static void test_default_path(void) {
    char buf[512];
    setenv("EFFGEN_DB", "/some/where/k.db", 1);
    CHECK_OK(eg_db_default_path(buf, sizeof buf));
    CHECK_STR(buf, "/some/where/k.db");
    CHECK_STATUS(eg_db_default_path(buf, 8), EFFGEN_INVALID_ARGUMENT);
    unsetenv("EFFGEN_DB");
    char want[600];
    setenv("XDG_CACHE_HOME", tdb_path("xdg"), 1);
    CHECK_OK(eg_db_default_path(buf, sizeof buf));
    snprintf(want, sizeof want, "%s/effgen/kernels.db", tdb_path("xdg"));
    CHECK_STR(buf, want);
    struct stat sb;
    CHECK(stat(tdb_path("xdg/effgen"), &sb) == 0 && S_ISDIR(sb.st_mode));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", tdb_path("home"), 1);
    CHECK_OK(eg_db_default_path(buf, sizeof buf));
    snprintf(want, sizeof want, "%s/.cache/effgen/kernels.db", tdb_path("home"));
    CHECK_STR(buf, want);
    CHECK(stat(tdb_path("home/.cache/effgen"), &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* Several threads on one handle: calls are serialized, nothing is lost. */
typedef struct thread_arg {
    eg_db *db;
    int id;
    effgen_status st;
} thread_arg;

static void *thread_put(void *p) {
    thread_arg *t = p;
    for (int i = 0; i < 50 && !t->st; i++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "t%d.%d", t->id, i);
        eg_db_measurement m = tdb_measurement(cfg, 1.0 + i);
        t->st = eg_db_measurement_put(t->db, &m);
        int found = 0;
        if (!t->st) t->st = eg_db_measurement_has(t->db, &m, &found);
        if (!t->st && !found) t->st = EFFGEN_INTERNAL;
    }
    return NULL;
}

static void test_threads(void) {
    eg_db *db = NULL;
    CHECK_OK(eg_db_open(tdb_path("threads.db"), 0, &db));
    if (!db) return;
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){db, i, EFFGEN_OK};
        pthread_create(&th[i], NULL, thread_put, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].st, EFFGEN_OK);
    }
    CHECK_INT(tdb_count(db, "measurements"), 200);
    eg_db_close(db);
}

int main(void) {
    tdb_mkdir("effgen-test-db");
    eg_db *db = NULL;
    const char *path = tdb_path("kernels.db");
    CHECK_OK(eg_db_open(path, 0, &db));
    if (!db) return T_DONE();
    CHECK_STR(eg_db_path(db), path);
    CHECK_INT(tdb_count(db, "kernels"), 0);
    test_kernels(db);
    test_measurements(db);
    test_winners(db);
    test_export_import(db);
    test_maintenance(db);
    eg_db_close(db);
    /* Reopening an existing database keeps its rows and migrates nothing. */
    CHECK_OK(eg_db_open(path, 0, &db));
    CHECK_INT(tdb_count(db, "winners"), 3);
    eg_db_close(db);
    test_merge();
    test_odd_path();
    test_default_path();
    test_threads();
    return T_DONE();
}
