/* tdb.h - helpers shared by the database tests: a scratch folder per test, and sample kernel,
 * measurement and winner rows with every field filled, so each test states only what it changes. */
#ifndef EG_TEST_TDB_H
#define EG_TEST_TDB_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

static char tdb_dir[256];

static inline int tdb_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void tdb_cleanup(void) {
    if (tdb_dir[0]) nftw(tdb_dir, tdb_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder under $TMPDIR (or /tmp), removed at exit unless EFFGEN_KEEP_TMP is set. */
static const char *tdb_mkdir(const char *name) {
    const char *t = getenv("TMPDIR");
    snprintf(tdb_dir, sizeof tdb_dir, "%s/%s.XXXXXX", t && t[0] ? t : "/tmp", name);
    if (!mkdtemp(tdb_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    if (!getenv("EFFGEN_KEEP_TMP")) atexit(tdb_cleanup);
    return tdb_dir;
}

/* tdb_dir/name into a static ring of buffers (a few live at once). */
static const char *tdb_path(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", tdb_dir, name);
    return b;
}

static const eg_db_build tdb_build = {"0123456789abcdef", "13.0"};

static unsigned char tdb_cubin[4096];

static inline eg_db_kernel tdb_kernel(const char *config) {
    eg_db_kernel k;
    memset(&k, 0, sizeof k);
    snprintf(k.spec, sizeof k.spec, "attn_fwd/d128/bf16/causal/sm_90");
    snprintf(k.config, sizeof k.config, "%s", config);
    k.arch = 90;
    k.build = tdb_build;
    k.registers = 168;
    k.smem_bytes = 49152;
    k.spill_bytes = 0;
    k.compile_ms = 812.5;
    for (size_t i = 0; i < sizeof tdb_cubin; i++) tdb_cubin[i] = (unsigned char)(i * 131 + 7);
    k.cubin = tdb_cubin;
    k.cubin_size = sizeof tdb_cubin;
    return k;
}

static inline eg_db_measurement tdb_measurement(const char *config, double ms) {
    eg_db_measurement m;
    memset(&m, 0, sizeof m);
    snprintf(m.spec, sizeof m.spec, "attn_fwd/d128/bf16/causal/sm_90");
    snprintf(m.config, sizeof m.config, "%s", config);
    m.arch = 90;
    m.build = tdb_build;
    snprintf(m.problem, sizeof m.problem, "b2.h16.nq8192.nk8192");
    m.bucket = 8192;
    snprintf(m.device.name, sizeof m.device.name, "NVIDIA H100 80GB HBM3");
    m.device.cc = 90;
    m.device.sm_count = 132;
    m.device.driver = 13000;
    m.result = EG_DB_OK;
    m.ms_median = ms;
    m.ms_min = ms * 0.99;
    m.ms_max = ms * 1.02;
    m.tflops = 100.0 / ms;
    m.rel_err = 3e-3;
    return m;
}

static inline eg_db_winner tdb_winner(int bucket, const char *config, eg_db_source src, double tflops) {
    eg_db_winner w;
    memset(&w, 0, sizeof w);
    w.arch = 90;
    snprintf(w.spec, sizeof w.spec, "attn_fwd/d128/bf16/causal/sm_90");
    w.bucket = bucket;
    snprintf(w.config, sizeof w.config, "%s", config);
    w.source = src;
    w.tflops = tflops;
    w.build = tdb_build;
    if (src == EG_DB_MEASURED) snprintf(w.device, sizeof w.device, "NVIDIA H100 80GB HBM3");
    return w;
}

/* Row count of a table through the library. */
static inline long long tdb_count(eg_db *db, const char *table) {
    eg_db_counts c;
    if (eg_db_count(db, &c) != EFFGEN_OK) return -1;
    if (!strcmp(table, "kernels")) return c.kernels;
    if (!strcmp(table, "measurements")) return c.measurements;
    return c.winners;
}

#endif
