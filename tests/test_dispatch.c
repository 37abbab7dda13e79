/* test_dispatch.c - the dispatcher's database handling without a GPU (through effgen_describe, which
 * reports what a call would run): winners served by bucket (a varlen batch's by its mean sequence), rows
 * of another generator ignored, and a corrupt, truncated, non-SQLite or missing database falling back to
 * the model's choice without a crash and without touching the file; the measurement knobs read from the
 * environment when a context opens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "rt.h"
#include "t.h"

static char dir[] = "/tmp/effgen-test-dispatch-XXXXXX";

#define SPEC "attn_fwd/d128/bf16/causal/sm_90"

/* A causal D=128 bf16 problem of `batch` sequences, 4 heads, on fake pointers. */
static effgen_attn_args problem(int batch, int seqlen_q, int seqlen_k) {
    effgen_attn_args a;
    effgen_attn_args_init(&a);
    a.batch = batch;
    a.heads = 4;
    a.seqlen_q = seqlen_q;
    a.seqlen_k = seqlen_k;
    a.head_dim = 128;
    a.causal = 1;
    a.q = a.k = a.v = a.o = (void *)(uintptr_t)0x10000;
    return a;
}

/* The spec and config a context on db (NULL: options default) would run for a; db_state out (may be NULL). */
static effgen_status describe_args(const char *db, const effgen_attn_args *a, char *spec, char *config,
                                   int *db_state) {
    effgen_options o;
    effgen_options_init(&o);
    o.arch = "sm_90";
    o.db = db;
    effgen_ctx *ctx = NULL;
    effgen_status st = effgen_open(&ctx, &o);
    if (st) return st;
    st = effgen_describe(ctx, a, spec, 128, config, 64);
    if (db_state) {
        eg_rt_dispatch_stats ds;
        eg_rt_dispatch_stats_get(ctx, &ds);
        *db_state = ds.db_state;
    }
    effgen_close(ctx);
    return st;
}

/* The config a context on db (NULL: options default) would run for seqlen_k; db_state out. */
static effgen_status describe(const char *db, int seqlen_k, char *config, int *db_state) {
    effgen_attn_args a = problem(2, 256, seqlen_k);
    char spec[128];
    return describe_args(db, &a, spec, config, db_state);
}

static void put_winner_of(eg_db *db, const char *spec, const eg_db_build *b, int bucket, const char *config) {
    eg_db_winner w;
    memset(&w, 0, sizeof w);
    w.arch = 90;
    snprintf(w.spec, sizeof w.spec, "%s", spec);
    w.bucket = bucket;
    snprintf(w.config, sizeof w.config, "%s", config);
    w.source = EG_DB_MEASURED;
    w.tflops = 400;
    w.build = *b;
    snprintf(w.device, sizeof w.device, "test device");
    CHECK_OK(eg_db_winner_put(db, &w));
}

static void put_winner(eg_db *db, const eg_db_build *b, int bucket, const char *config) {
    put_winner_of(db, SPEC, b, bucket, config);
}

/* The config a context on db would run for a varlen batch of `batch` sequences and `total` tokens. */
static effgen_status describe_varlen(const char *db, int batch, int total, char *config) {
    effgen_attn_args a = problem(batch, total, total);
    a.max_seqlen_q = total;
    a.cu_seqlens_q = a.cu_seqlens_k = (const int32_t *)(uintptr_t)0x30000;
    char spec[128];
    effgen_status st = describe_args(db, &a, spec, config, NULL);
    if (!st) CHECK_STR(spec, "attn_fwd/d128/bf16/causal+varlen/sm_90");
    return st;
}

static long file_size(const char *p) {
    struct stat s;
    return stat(p, &s) == 0 ? (long)s.st_size : -1;
}

/* The measurement knobs read when a context opens: EFFGEN_WG_PERSISTENT, EFFGEN_HEAD_GROUP and EFFGEN_WG_STRIP
 * (whole numbers from 1 to 65536; anything else is ignored, never an error). */
static void env_knobs(void) {
    static const struct {
        const char *value;
        int want;
    } groups[] = {{"4", 4}, {"1", 1}, {"65536", 65536}, {"0", 0}, {"65537", 0}, {"-2", 0}, {"3x", 0}, {"", 0}};
    effgen_options o;
    effgen_options_init(&o);
    o.no_gpu = 1;
    o.arch = "sm_90a";
    o.db = "";
    for (int i = 0; i < (int)(sizeof groups / sizeof groups[0]); i++) {
        setenv("EFFGEN_HEAD_GROUP", groups[i].value, 1);
        setenv("EFFGEN_WG_STRIP", groups[i].value, 1);
        setenv("EFFGEN_WG_PERSISTENT", i % 2 ? "0" : "1", 1);
        effgen_ctx *c = NULL;
        if (!CHECK_OK(effgen_open(&c, &o))) continue;
        if (!CHECK_INT(c->head_group, groups[i].want)) fprintf(stderr, "  EFFGEN_HEAD_GROUP=\"%s\"\n", groups[i].value);
        if (!CHECK_INT(c->wg_strip, groups[i].want)) fprintf(stderr, "  EFFGEN_WG_STRIP=\"%s\"\n", groups[i].value);
        CHECK_INT(c->wg_persistent, i % 2 ? 0 : 1);
        effgen_close(c);
    }
    unsetenv("EFFGEN_HEAD_GROUP");
    unsetenv("EFFGEN_WG_STRIP");
    unsetenv("EFFGEN_WG_PERSISTENT");
    effgen_ctx *c = NULL;
    if (CHECK_OK(effgen_open(&c, &o))) {
        CHECK_INT(c->head_group, 0);
        CHECK_INT(c->wg_strip, 0);
        CHECK_INT(c->wg_persistent, -1);
        effgen_close(c);
    }
}

/* The strip length of window kernels: the fewest rounds of strips over the CTA slots times their length, the
 * longest among equals, 1 where neighbouring query blocks share more key tiles than the ring holds. */
static void wg_strips(void) {
    eg_config s2 = {128, 128, 12, 2, EG_FAMILY_WG, 0}, s4 = {128, 64, 12, 4, EG_FAMILY_WG, 0};
    const int huge = 1 << 28;
    static const struct {
        int s4, m_blocks, causal_offset, wl, wr, want;
        long heads;
    } cases[] = {
        {0, 16, 0, 255, 0, 16, 128},  /* 2k, 128 heads: one strip per head, one round on 132 slots */
        {0, 64, 0, 255, 0, 16, 32},   /* 8k, 32 heads: 128 strips of 16 */
        {0, 64, 0, 255, 0, 1, 1},     /* one head: every block its own CTA */
        {0, 16, 0, 255, 0, 16, 256},  /* two rounds of whole heads cost what 32 rounds of single blocks do */
        {0, 10, 0, 255, 0, 2, 200},   /* 16 rounds of 1 or 8 of 2; more rounds otherwise */
        {0, 64, 0, 511, 0, 1, 32},    /* neighbours share 4 tiles, the ring holds 2 */
        {1, 64, 0, 200, 0, 16, 32},   /* 64-key tiles: 4 shared, 4 stages */
        {0, 64, 0, huge, 0, 1, 32},   /* unbounded to the left: every block reaches key 0 */
        {0, 64, 0, 64, 64, 16, 32},   /* two-sided */
        {0, 1, 0, 255, 0, 1, 500},    /* one block per head */
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        int got = eg_rt_wg_strip(cases[i].s4 ? &s4 : &s2, cases[i].heads, cases[i].m_blocks, cases[i].causal_offset,
                                 cases[i].wl, cases[i].wr, 132);
        if (!CHECK_INT(got, cases[i].want)) fprintf(stderr, "  strip case %d\n", i);
    }
}

/* Launch-order head groups: heads whose K and V fit in 16 MB; under a causal order every head at once where
 * such groups would hold under 3/4 of the resident CTAs, else groups spread over the resident CTAs (from 8
 * blocks a head) and of equal size where a divisor of the heads allows. */
static void head_groups(void) {
    static const struct {
        long heads;
        int seqlen_k, head_dim, m_blocks, heavy_first;
        long slots;
        int want;
    } cases[] = {
        {48, 4096, 160, 32, 0, 264, 6},     /* without a causal order: the L2 rule (2.5 MB of K and V a head) */
        {48, 4096, 160, 32, 1, 264, 48},    /* 6 heads of 32 blocks, 192 of 264 slots: one group */
        {12, 16384, 160, 128, 1, 264, 12},  /* one head a group, 128 of 264 */
        {192, 1024, 160, 8, 1, 264, 192},   /* 200 blocks: 3/4 of the slots or more; spread to 118, then
                                               the smallest divisor of 192 from 118 up */
        {64, 4096, 128, 32, 1, 264, 32},    /* 256 blocks: spread to (4 * 264 + 32) / 33 = 32 heads */
        {8, 16384, 256, 128, 1, 132, 8},    /* 128 blocks on 132 slots: spread to 5, then 8 divides */
        {100, 4096, 80, 32, 1, 264, 50},    /* L2 rule 12, spread to 32, equal groups of 50 */
        {97, 4096, 80, 32, 1, 264, 32},     /* no divisor of 97 from 32 to 64: the spread stays */
        {100, 4096, 80, 32, 0, 264, 12},    /* without a causal order: the L2 rule alone */
        {256, 512, 256, 4, 1, 132, 32},     /* 4 blocks a head: no spread; 32 divides 256 */
        {60, 2048, 256, 16, 1, 132, 60},    /* L2 rule 8 (2 MB a head), spread to 32: 60 divides from 32 up */
        {4, 512, 64, 4, 1, 264, 4},         /* the L2 rule's group capped at the heads */
        {3, 1 << 20, 256, 8192, 0, 132, 1}, /* K and V beyond 16 MB: a head a group */
        {3, 0, 128, 0, 1, 132, 3},          /* no keys, no blocks */
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        int got = eg_rt_head_group(cases[i].heads, cases[i].seqlen_k, cases[i].head_dim, cases[i].m_blocks,
                                   cases[i].heavy_first, cases[i].slots);
        if (!CHECK_INT(got, cases[i].want)) fprintf(stderr, "  head group case %d\n", i);
    }
}

int main(void) {
    env_knobs();
    wg_strips();
    head_groups();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    eg_spec spec;
    eg_config model;
    char model_text[64], got[64] = "";
    int state = 0;
    if (!CHECK_OK(eg_spec_parse(SPEC, &spec)) || !CHECK_OK(eg_model_default(&spec, &model))) return T_DONE();
    eg_config_print(&model, model_text, sizeof model_text);

    /* a database with winners for two buckets, and a row of another generator */
    char good[600];
    snprintf(good, sizeof good, "%s/good.db", dir);
    eg_db_build b;
    eg_rt_db_build(&b);
    if (!b.nvrtc[0]) snprintf(b.nvrtc, sizeof b.nvrtc, "12.0"); /* no NVRTC here: rows of any serve */
    eg_db *db = NULL;
    if (CHECK_OK(eg_db_open(good, 0, &db))) {
        put_winner(db, &b, 1024, "bm64.bn64.w4.s3");
        put_winner(db, &b, 8192, "bm128.bn32.w8.s2");
        eg_db_build other = b;
        snprintf(other.generator, sizeof other.generator, "0123456789abcdef");
        eg_db_winner w;
        memset(&w, 0, sizeof w);
        w.arch = 90;
        snprintf(w.spec, sizeof w.spec, "%s", SPEC);
        w.bucket = 512;
        snprintf(w.config, sizeof w.config, "bm16.bn16.w1.s1");
        w.source = EG_DB_MEASURED;
        w.build = other;
        CHECK_OK(eg_db_winner_put(db, &w));
        eg_db_close(db);
    }
    CHECK_OK(describe(good, 300, got, &state));
    CHECK_STR(got, "bm64.bn64.w4.s3"); /* the stale generator's bucket 512 is never served */
    CHECK(state == 1 || state == 2);
    CHECK_OK(describe(good, 1024, got, &state));
    CHECK_STR(got, "bm64.bn64.w4.s3");
    CHECK_OK(describe(good, 1025, got, &state));
    CHECK_STR(got, "bm128.bn32.w8.s2");
    CHECK_OK(describe(good, 100000, got, &state)); /* beyond the largest bucket: the largest */
    CHECK_STR(got, "bm128.bn32.w8.s2");

    /* a varlen batch picks its bucket by the mean keys per sequence, not the total */
    char vpath[600];
    snprintf(vpath, sizeof vpath, "%s/varlen.db", dir);
    if (CHECK_OK(eg_db_open(vpath, 0, &db))) {
        put_winner_of(db, "attn_fwd/d128/bf16/causal+varlen/sm_90", &b, 1024, "bm64.bn64.w4.s3");
        put_winner_of(db, "attn_fwd/d128/bf16/causal+varlen/sm_90", &b, 8192, "bm128.bn32.w8.s2");
        eg_db_close(db);
    }
    CHECK_OK(describe_varlen(vpath, 8, 4000, got)); /* mean 500 */
    CHECK_STR(got, "bm64.bn64.w4.s3");
    CHECK_OK(describe_varlen(vpath, 2, 4000, got)); /* mean 2000 */
    CHECK_STR(got, "bm128.bn32.w8.s2");
    CHECK_OK(describe_varlen(vpath, 4, 4097, got)); /* mean 1024.25: rounded up, past the 1024 bucket */
    CHECK_STR(got, "bm128.bn32.w8.s2");

    /* EFFGEN_DB names the database when the options do not; "" in the options means none */
    setenv("EFFGEN_DB", good, 1);
    CHECK_OK(describe(NULL, 300, got, &state));
    CHECK_STR(got, "bm64.bn64.w4.s3");
    CHECK_OK(describe("", 300, got, &state));
    CHECK_STR(got, model_text);
    CHECK_INT(state, -1);
    unsetenv("EFFGEN_DB");

    /* a missing file: the model's choice, and the runtime does not create a database */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/missing.db", dir);
    CHECK_OK(describe(missing, 300, got, &state));
    CHECK_STR(got, model_text);
    CHECK_INT(state, -1);
    CHECK(access(missing, F_OK) != 0);

    /* corrupt files of three kinds: fall back, never crash, leave the file as it was */
    char path[600];
    snprintf(path, sizeof path, "%s/text.db", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        for (int i = 0; i < 200; i++) fputs("not a database at all. ", f);
        fclose(f);
    }
    long before = file_size(path);
    CHECK_OK(describe(path, 300, got, &state));
    CHECK_STR(got, model_text);
    CHECK_INT(state, -1);
    CHECK_INT(file_size(path), before);

    snprintf(path, sizeof path, "%s/truncated.db", dir);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "head -c 3000 '%s' > '%s'", good, path);
    CHECK_INT(system(cmd), 0);
    CHECK_OK(describe(path, 300, got, &state));
    CHECK_STR(got, model_text);
    CHECK_INT(state, -1);

    snprintf(path, sizeof path, "%s/garbled.db", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | "
                              "dd of='%s' bs=1 seek=100 conv=notrunc 2>/dev/null && "
                              "printf 'garbage in the middle of every page' | dd of='%s' bs=1 seek=4100 "
                              "conv=notrunc 2>/dev/null",
             good, path, path, path);
    CHECK_INT(system(cmd), 0);
    effgen_status st = describe(path, 300, got, &state);
    CHECK_OK(st);
    /* whatever the damage, the answer is the model's or a stored winner, never garbage */
    CHECK(!strcmp(got, model_text) || !strcmp(got, "bm64.bn64.w4.s3"));

    /* a read-only database is served (root can write anything: nothing to test then) */
    snprintf(path, sizeof path, "%s/readonly.db", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 0444 '%s'", good, path, path);
    CHECK_INT(system(cmd), 0);
    CHECK_OK(describe(path, 300, got, &state));
    CHECK_STR(got, "bm64.bn64.w4.s3");
    if (geteuid() != 0) CHECK_INT(state, 2);

    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
