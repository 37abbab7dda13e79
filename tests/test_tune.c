/* test_tune.c - the tuner without a GPU: strategy parsing and selection (top-k is the model's k best,
 * random is reproducible), offline tunes that store model winners with cubins, resume (a second run
 * compiles nothing), sharding, dry runs that write nothing, packing for two archs, and the wg family's
 * candidates on sm_90a. Few kernels are compiled: every plan here has one config per problem. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autotune.h"
#include "db.h"
#include "rt.h"
#include "t.h"

static char dir[] = "/tmp/effgen-test-tune-XXXXXX";

static eg_tune_problem problem(int d, effgen_dtype t, int causal, int bucket) {
    eg_tune_problem p;
    memset(&p, 0, sizeof p);
    p.spec.op = EG_OP_ATTN_FWD;
    p.spec.head_dim = d;
    p.spec.dtype = t;
    p.spec.mask = causal ? EG_MASK_CAUSAL : EG_MASK_NONE;
    p.spec.arch = 90;
    p.bucket = bucket;
    p.batch = 2;
    p.heads = 8;
    p.seqlen_q = p.seqlen_k = bucket;
    return p;
}

static void space(eg_tune_space *s, const int *bm, int nbm, const int *bn, int nbn, const int *w, int nw,
                  const int *st, int ns) {
    memset(s, 0, sizeof *s);
    memcpy(s->block_m, bm, sizeof *bm * (size_t)nbm);
    memcpy(s->block_n, bn, sizeof *bn * (size_t)nbn);
    memcpy(s->warps, w, sizeof *w * (size_t)nw);
    memcpy(s->stages, st, sizeof *st * (size_t)ns);
    s->n_block_m = nbm;
    s->n_block_n = nbn;
    s->n_warps = nw;
    s->n_stages = ns;
}

static void test_strategies(void) {
    eg_tune_strategy s;
    CHECK_OK(eg_tune_strategy_parse("topk:5", &s));
    CHECK_INT(s.kind, EG_TUNE_TOPK);
    CHECK_INT(s.k, 5);
    CHECK_OK(eg_tune_strategy_parse("random:7:99", &s));
    CHECK_INT(s.kind, EG_TUNE_RANDOM);
    CHECK_INT(s.budget, 7);
    CHECK_INT(s.seed, 99);
    CHECK_OK(eg_tune_strategy_parse("exhaustive", &s));
    CHECK_INT(s.kind, EG_TUNE_EXHAUSTIVE);
    CHECK_OK(eg_tune_strategy_parse("script", &s));
    CHECK_STATUS(eg_tune_strategy_parse("topk:x", &s), EFFGEN_PARSE);
    CHECK_STATUS(eg_tune_strategy_parse("annealing", &s), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "annealing");

    eg_tune_plan plan;
    memset(&plan, 0, sizeof plan);
    const int bm[] = {64, 128}, bn[] = {32, 64, 128}, w[] = {4, 8}, st[] = {1, 2, 3};
    space(&plan.space, bm, 2, bn, 3, w, 2, st, 3);
    eg_tune_problem p = problem(128, EFFGEN_BF16, 1, 4096);
    eg_config *c = NULL;
    int n = 0, pruned[3];
    if (!CHECK_OK(eg_tune_candidates(&plan, &p, &c, &n, pruned))) return;
    CHECK(n >= 10);
    CHECK_INT(n + pruned[0] + pruned[1] + pruned[2], 2 * 3 * 2 * 3);
    CHECK(pruned[0] > 0); /* bm64 with 8 warps breaks block_m % (16*warps) */
    int idx[64], m = 0;

    /* top-k: k candidates, best estimate first, and nothing outside them estimated better */
    eg_tune_strategy topk = {EG_TUNE_TOPK, 4, 0, 0};
    if (CHECK_OK(eg_tune_select(&topk, &p, c, n, idx, &m)) && CHECK_INT(m, 4)) {
        double worst = 0;
        for (int i = 0; i < m; i++) {
            double e = eg_tune_estimate(&p, &c[idx[i]]);
            if (i) CHECK(e >= eg_tune_estimate(&p, &c[idx[i - 1]]));
            worst = e;
        }
        for (int j = 0; j < n; j++) {
            int in = 0;
            for (int i = 0; i < m; i++) in |= idx[i] == j;
            if (!in) CHECK(eg_tune_estimate(&p, &c[j]) >= worst);
        }
    }
    topk.k = 1000;
    CHECK_OK(eg_tune_select(&topk, &p, c, n, idx, &m));
    CHECK_INT(m, n);

    /* random: the same seed draws the same candidates; another seed (almost surely) others */
    eg_tune_strategy rnd = {EG_TUNE_RANDOM, 0, 5, 42};
    int a[64], b[64], ma = 0, mb = 0;
    CHECK_OK(eg_tune_select(&rnd, &p, c, n, a, &ma));
    CHECK_OK(eg_tune_select(&rnd, &p, c, n, b, &mb));
    CHECK_INT(ma, 5);
    CHECK(ma == mb && !memcmp(a, b, sizeof *a * (size_t)ma));
    for (int i = 0; i < ma; i++)
        for (int j = 0; j < i; j++) CHECK(a[i] != a[j]); /* no candidate twice */
    int differs = 0;
    for (uint64_t seed = 1; seed < 6; seed++) {
        rnd.seed = seed;
        CHECK_OK(eg_tune_select(&rnd, &p, c, n, b, &mb));
        differs |= memcmp(a, b, sizeof *a * 5) != 0;
    }
    CHECK(differs);
    rnd.budget = 1000;
    CHECK_OK(eg_tune_select(&rnd, &p, c, n, b, &mb));
    CHECK_INT(mb, n);
    eg_tune_strategy ex = {EG_TUNE_EXHAUSTIVE, 0, 0, 0};
    CHECK_OK(eg_tune_select(&ex, &p, c, n, idx, &m));
    CHECK_INT(m, n);
    CHECK_INT(idx[n - 1], n - 1);
    free(c);
}

static void wg_space_default(eg_tune_wg_space *w) {
    memset(w, 0, sizeof *w);
    const int cons[] = {1, 2, 3}, bn[] = {64, 128}, st[] = {2, 3};
    memcpy(w->consumers, cons, sizeof cons);
    memcpy(w->block_n, bn, sizeof bn);
    memcpy(w->stages, st, sizeof st);
    w->n_consumers = 3;
    w->n_block_n = 2;
    w->n_stages = 2;
}

/* The wg space joins the candidates on sm_90a for the specs the family implements, and the model's order
 * puts its candidates first, each family by estimate. */
static void test_wg_candidates(void) {
    eg_tune_plan plan;
    memset(&plan, 0, sizeof plan);
    const int bm[] = {64, 128}, bn[] = {32, 64, 128}, w[] = {4, 8}, st[] = {1, 2, 3};
    space(&plan.space, bm, 2, bn, 3, w, 2, st, 3);
    wg_space_default(&plan.wg_space);
    static const struct {
        int d, arch, window, bias, wg;
    } cases[] = {{128, 90, 0, 0, 0},            {128, EG_ARCH_SM90A, 0, 0, 1}, {64, EG_ARCH_SM90A, 0, 0, 1},
                 {256, EG_ARCH_SM90A, 0, 0, 1}, {96, EG_ARCH_SM90A, 0, 0, 1},  {48, EG_ARCH_SM90A, 0, 0, 1},
                 {48, 90, 0, 0, 0},             {128, EG_ARCH_SM90A, 1, 0, 1}, {128, EG_ARCH_SM90A, 0, 1, 1}};
    for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        eg_tune_problem p = problem(cases[k].d, EFFGEN_BF16, 1, 4096);
        p.spec.arch = cases[k].arch;
        p.spec.window = cases[k].window;
        p.spec.bias = cases[k].bias;
        eg_config *c = NULL;
        int n = 0, pruned[3];
        if (!CHECK_OK(eg_tune_candidates(&plan, &p, &c, &n, pruned))) continue;
        int total = 2 * 3 * 2 * 3 + (cases[k].wg ? 3 * 2 * 2 : 0);
        CHECK_INT(n + pruned[0] + pruned[1] + pruned[2], total);
        int nwg = 0;
        for (int i = 0; i < n; i++) {
            nwg += c[i].family == EG_FAMILY_WG;
            CHECK_OK(eg_config_validate(&c[i], &p.spec));
        }
        if (!cases[k].wg) {
            CHECK_INT(nwg, 0);
            free(c);
            continue;
        }
        CHECK(nwg >= 3 && nwg < n);
        /* top-k: the wg candidates first, each family in ascending estimate */
        int idx[64], m = 0;
        eg_tune_strategy topk = {EG_TUNE_TOPK, nwg + 2, 0, 0};
        if (CHECK_OK(eg_tune_select(&topk, &p, c, n, idx, &m)) && CHECK_INT(m, nwg + 2)) {
            for (int i = 0; i < m; i++) {
                CHECK_INT(c[idx[i]].family, i < nwg ? EG_FAMILY_WG : EG_FAMILY_MMA);
                if (i && c[idx[i]].family == c[idx[i - 1]].family)
                    CHECK(eg_tune_estimate(&p, &c[idx[i]]) >= eg_tune_estimate(&p, &c[idx[i - 1]]));
            }
            /* the first is the model's choice on the representative shape where the shapes agree */
            eg_tune_problem rep = p;
            rep.batch = 4, rep.heads = 2048 / p.spec.head_dim;
            eg_config def;
            if (CHECK_OK(eg_model_default(&p.spec, &def))) {
                eg_tune_strategy top1 = {EG_TUNE_TOPK, 1, 0, 0};
                int one = 0;
                if (CHECK_OK(eg_tune_select(&top1, &rep, c, n, idx, &one)) && CHECK_INT(one, 1)) {
                    char got[64], want[64];
                    eg_config_print(&c[idx[0]], got, sizeof got);
                    eg_config_print(&def, want, sizeof want);
                    CHECK_STR(got, want);
                }
            }
        }
        free(c);
    }
}

/* An offline tune for sm_90a: the model picks a wg config for the spec the family implements and an mma
 * one for variants it does not have together (varlen with a bias); both are compiled, stored, and their
 * texts read back. */
static void test_wg_offline(void) {
    eg_tune_plan plan;
    memset(&plan, 0, sizeof plan);
    eg_tune_problem probs[2];
    probs[0] = problem(64, EFFGEN_BF16, 0, 4096);
    probs[0].batch = 4, probs[0].heads = 32;
    probs[1] = problem(48, EFFGEN_BF16, 0, 4096);
    probs[1].spec.varlen = probs[1].spec.bias = 1;
    plan.problems = probs;
    plan.n_problems = 2;
    const int bm[] = {64}, bn[] = {64}, w[] = {4}, st[] = {2};
    space(&plan.space, bm, 1, bn, 1, w, 1, st, 1);
    const int cons[] = {3}, wbn[] = {128}, wst[] = {2, 3};
    memcpy(plan.wg_space.consumers, cons, sizeof cons);
    memcpy(plan.wg_space.block_n, wbn, sizeof wbn);
    memcpy(plan.wg_space.stages, wst, sizeof wst);
    plan.wg_space.n_consumers = plan.wg_space.n_block_n = 1;
    plan.wg_space.n_stages = 2;
    char db[600];
    snprintf(db, sizeof db, "%s/wg.db", dir);
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    o.arch = EG_ARCH_SM90A;
    o.offline = 1;
    o.db_path = db;
    o.jobs = 2;
    eg_tune_stats s;
    if (!CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) return;
    CHECK_INT(s.arch, EG_ARCH_SM90A);
    if (CHECK_INT(s.n_results, 2)) {
        CHECK_STR(s.results[0].spec, "attn_fwd/d64/bf16/none/sm_90a");
        CHECK_STR(s.results[0].config, "wg.bm192.bn128.c3.s3");
        CHECK_INT(s.results[0].candidates, 3);
        CHECK_STR(s.results[1].spec, "attn_fwd/d48/bf16/none+varlen+bias/sm_90a");
        CHECK_STR(s.results[1].config, "bm64.bn64.w4.s2");
        CHECK_INT(s.results[1].candidates, 1);
    }
    CHECK_INT(s.compiled, 2);
    eg_tune_stats_free(&s);
    eg_db *h = NULL;
    if (CHECK_OK(eg_db_open(db, 1, &h))) {
        eg_db_build b;
        eg_rt_db_build(&b);
        eg_db_winner win;
        int found = 0;
        CHECK_OK(eg_db_winner_get(h, EG_ARCH_SM90A, "attn_fwd/d64/bf16/none/sm_90a", 4096, &b, &win, &found));
        if (CHECK(found)) {
            eg_config c;
            char back[64];
            if (CHECK_OK(eg_config_parse(win.config, &c))) {
                CHECK_INT(c.family, EG_FAMILY_WG);
                eg_config_print(&c, back, sizeof back);
                CHECK_STR(back, win.config);
            }
        }
        eg_db_kernel k;
        found = 0;
        if (CHECK_OK(eg_db_kernel_get(h, "attn_fwd/d64/bf16/none/sm_90a", "wg.bm192.bn128.c3.s3", EG_ARCH_SM90A, &b,
                                      &k, &found))) {
            CHECK(found && k.cubin && k.cubin_size > 1000);
            free(k.cubin);
        }
        eg_db_close(h);
    }
    /* the same plan for sm_90: no wg candidate, the mma pick */
    o.arch = 90;
    o.dry_run = 1;
    if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s)) && CHECK_INT(s.n_results, 2)) {
        CHECK_INT(s.results[0].candidates, 1);
        CHECK_STR(s.results[0].model_config, "bm64.bn64.w4.s2");
    }
    eg_tune_stats_free(&s);
}

/* One config per problem: compiling stays cheap. */
static void tiny_plan(eg_tune_plan *plan, eg_tune_problem *probs, int *np) {
    memset(plan, 0, sizeof *plan);
    int n = 0;
    probs[n++] = problem(64, EFFGEN_BF16, 0, 1024);
    probs[n++] = problem(64, EFFGEN_BF16, 0, 8192);
    probs[n++] = problem(64, EFFGEN_FP16, 1, 1024);
    plan->problems = probs;
    plan->n_problems = n;
    const int bm[] = {64}, bn[] = {64}, w[] = {4}, st[] = {2};
    space(&plan->space, bm, 1, bn, 1, w, 1, st, 1);
    plan->strategy.kind = EG_TUNE_EXHAUSTIVE;
    *np = n;
}

static int count_winners_fn(const eg_db_winner *w, void *arg) {
    int *counts = arg;
    counts[0]++;
    if (w->source == EG_DB_MODEL) counts[1]++;
    if (w->arch == 80) counts[2]++;
    if (w->arch == 86) counts[3]++;
    return 0;
}

static void test_offline(void) {
    eg_tune_plan plan;
    eg_tune_problem probs[8];
    int np;
    tiny_plan(&plan, probs, &np);
    char db[600];
    snprintf(db, sizeof db, "%s/offline.db", dir);
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    o.arch = 80;
    o.offline = 1;
    o.db_path = db;
    o.jobs = 2;

    /* a dry run enumerates and writes nothing */
    o.dry_run = 1;
    eg_tune_stats s;
    if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) {
        CHECK_INT(s.n_results, np);
        CHECK_INT(s.compiled, 0);
        CHECK_STR(s.results[0].model_config, "bm64.bn64.w4.s2");
    }
    eg_tune_stats_free(&s);
    CHECK(access(db, F_OK) != 0);
    o.dry_run = 0;

    if (!CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) return;
    CHECK_INT(s.offline, 1);
    CHECK_INT(s.n_results, np);
    CHECK_INT(s.compiled, 2); /* one kernel per spec: the two buckets of d64/bf16/none share it */
    for (int i = 0; i < s.n_results; i++) {
        CHECK_INT(s.results[i].source, EG_DB_MODEL);
        CHECK_STR(s.results[i].config, "bm64.bn64.w4.s2");
    }
    eg_tune_stats_free(&s);

    eg_db *h = NULL;
    if (CHECK_OK(eg_db_open(db, 1, &h))) {
        eg_db_build b;
        eg_rt_db_build(&b);
        eg_db_winner w;
        int found = 0;
        CHECK_OK(eg_db_winner_get(h, 80, "attn_fwd/d64/bf16/none/sm_80", 5000, &b, &w, &found));
        CHECK(found);
        CHECK_INT(w.bucket, 8192);
        CHECK_INT(w.source, EG_DB_MODEL);
        eg_db_kernel k;
        found = 0;
        if (CHECK_OK(eg_db_kernel_get(h, "attn_fwd/d64/fp16/causal/sm_80", "bm64.bn64.w4.s2", 80, &b, &k, &found))) {
            CHECK(found && k.cubin && k.cubin_size > 1000);
            free(k.cubin);
        }
        int counts[4] = {0};
        CHECK_OK(eg_db_winner_each(h, count_winners_fn, counts));
        CHECK_INT(counts[0], np);
        CHECK_INT(counts[1], np);
        eg_db_close(h);
    }

    /* resume: everything is in the database, so the same tune compiles nothing */
    if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) {
        CHECK_INT(s.compiled, 0);
        CHECK_INT(s.reused, 2);
        CHECK_INT(s.n_results, np);
    }
    eg_tune_stats_free(&s);

    /* shards: disjoint, and together every problem */
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        o.shard = i;
        o.shards = 2;
        o.dry_run = 1;
        if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) {
            seen += s.n_results;
            CHECK(s.n_results >= 1);
        }
        eg_tune_stats_free(&s);
    }
    CHECK_INT(seen, np);
    o.shard = 5;
    CHECK_STATUS(eg_tune_run_plan(&plan, &o, &s), EFFGEN_INVALID_ARGUMENT);
    eg_tune_stats_free(&s);
}

static void test_pack(void) {
    eg_tune_plan plan;
    eg_tune_problem probs[8];
    int np;
    tiny_plan(&plan, probs, &np);
    plan.n_problems = np = 2; /* one spec: one compile per arch */
    char from[600], out[600];
    snprintf(from, sizeof from, "%s/offline.db", dir);
    snprintf(out, sizeof out, "%s/pack.db", dir);
    int archs[] = {80, 86};
    eg_pack_options po;
    memset(&po, 0, sizeof po);
    po.archs = archs;
    po.n_archs = 2;
    po.out_path = out;
    po.from_path = from;
    po.jobs = 2;
    po.quiet = 1;
    eg_tune_stats s;
    if (!CHECK_OK(eg_tune_pack(&plan, &po, &s))) return;
    CHECK_INT(s.n_results, 2 * np);
    /* only measured winners come from the source; model picks are compiled for each arch */
    CHECK_INT(s.compiled, 2);
    eg_tune_stats_free(&s);
    eg_db *h = NULL;
    if (CHECK_OK(eg_db_open(out, 1, &h))) {
        int counts[4] = {0};
        CHECK_OK(eg_db_winner_each(h, count_winners_fn, counts));
        CHECK_INT(counts[0], 2 * np);
        CHECK_INT(counts[2], np);
        CHECK_INT(counts[3], np);
        eg_db_build b;
        eg_rt_db_build(&b);
        eg_db_kernel k;
        int found = 0;
        if (CHECK_OK(eg_db_kernel_get(h, "attn_fwd/d64/bf16/none/sm_86", "bm64.bn64.w4.s2", 86, &b, &k, &found))) {
            CHECK(found);
            free(k.cubin);
        }
        eg_db_close(h);
    }
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    CHECK(access(tmp, F_OK) != 0);

    /* a bad source database fails the pack and leaves no output behind */
    char bad[600], out2[600];
    snprintf(bad, sizeof bad, "%s/bad.db", dir);
    snprintf(out2, sizeof out2, "%s/pack2.db", dir);
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("this is not a database, just text that is long enough to have a header............", f);
        fclose(f);
    }
    po.from_path = bad;
    po.out_path = out2;
    CHECK(eg_tune_pack(&plan, &po, &s) != EFFGEN_OK);
    CHECK_HAS(effgen_last_error(), "bad.db");
    eg_tune_stats_free(&s);
    CHECK(access(out2, F_OK) != 0);
    int bad_arch[] = {75};
    po.archs = bad_arch;
    po.n_archs = 1;
    po.from_path = NULL;
    CHECK_STATUS(eg_tune_pack(&plan, &po, &s), EFFGEN_PARSE);
    eg_tune_stats_free(&s);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_strategies();
    int major, minor;
    test_wg_candidates();
    if (effgen_nvrtc_version(&major, &minor) == EFFGEN_OK) {
        test_offline();
        test_pack();
        test_wg_offline();
    } else {
        fprintf(stderr, "NVRTC missing (%s): offline tune and pack not tested\n", effgen_last_error());
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
