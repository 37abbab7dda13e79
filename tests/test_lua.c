/* test_lua.c - tuning scripts: every kind of script error comes back with file:line and the right
 * status, and writes nothing to the database; the declarations fill the plan; the cost-model functions
 * agree with the C model; the sandbox has no os, io or file loading; the shipped scripts load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autotune.h"
#include "eg_lua.h"
#include "expr.h"
#include "t.h"

static char dir[] = "/tmp/effgen-test-lua-XXXXXX";

/* Write text to dir/name and return the path (static buffer per call site is enough here). */
static const char *script(const char *name, const char *text) {
    static char paths[16][512];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) return p;
    fputs(text, f);
    fclose(f);
    return p;
}

static const char *ok_problems = "problems { head_dims = {64}, dtypes = {'bf16'}, masks = {'none'},\n"
                                 "  buckets = {{bucket = 1024, batch = 2, heads = 4, seqlen = 1024}} }\n";

/* Whether x is among the n values of v. */
static int has_int(const int *v, int n, int x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

/* A plan error must name file:line; loading fails with want. */
static void expect_load_error(const char *name, const char *text, effgen_status want, int line, const char *needle) {
    const char *path = script(name, text);
    eg_tune_plan *plan = (eg_tune_plan *)1;
    CHECK_STATUS(eg_lua_plan_load(path, &plan), want);
    CHECK(plan == NULL);
    char where[600];
    snprintf(where, sizeof where, "%s:%d:", path, line);
    CHECK_HAS(effgen_last_error(), where);
    if (needle) CHECK_HAS(effgen_last_error(), needle);
}

/* A plan that loads but fails when the tune runs: the database must not be created. */
static void expect_run_error(const char *name, const char *text, int line, const char *needle) {
    const char *path = script(name, text);
    eg_tune_plan *plan = NULL;
    if (!CHECK_OK(eg_lua_plan_load(path, &plan))) return;
    char db[600];
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    o.arch = 80;
    o.offline = 1;
    o.db_path = db;
    eg_tune_stats st;
    CHECK_STATUS(eg_tune_run_plan(plan, &o, &st), EFFGEN_INVALID_ARGUMENT);
    char where[600];
    snprintf(where, sizeof where, "%s:%d:", path, line);
    CHECK_HAS(effgen_last_error(), where);
    if (needle) CHECK_HAS(effgen_last_error(), needle);
    CHECK(access(db, F_OK) != 0); /* nothing written: not even an empty database */
    eg_tune_stats_free(&st);
    eg_lua_plan_free(plan);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char buf[4096];

    /* ---- errors, each with file:line ---- */
    expect_load_error("syntax.lua", "-- a comment\nproblems {\n  head_dims = {64,,}\n}\n", EFFGEN_PARSE, 3, NULL);
    expect_load_error("runtime.lua", "local x = 1\nlocal y = nil\nprint(y.field)\n", EFFGEN_INVALID_ARGUMENT, 3,
                      "y");
    snprintf(buf, sizeof buf, "%s\n\nspace { blok_m = {64}, block_n = {64}, warps = {4}, stages = {2} }\n",
             ok_problems);
    expect_load_error("unknown.lua", buf, EFFGEN_INVALID_ARGUMENT, 5, "unknown parameter 'blok_m'");
    snprintf(buf, sizeof buf, "%s space { block_m = {64}, block_n = {64}, warps = {3}, stages = {2} }\n",
             "problems { head_dims = {64}, buckets = {{bucket = 1024}} }\n");
    expect_load_error("badvalue.lua", buf, EFFGEN_INVALID_ARGUMENT, 2, "warps");
    expect_load_error("badbucket.lua",
                      "problems { head_dims = {64},\n buckets = {{bucket = 1024, sequence = 9}} }\n",
                      EFFGEN_INVALID_ARGUMENT, 1, "unknown parameter 'sequence'");
    expect_load_error("baddim.lua", "problems { head_dims = {100}, buckets = {{bucket = 64}} }\n",
                      EFFGEN_INVALID_ARGUMENT, 1, "multiple of 8");
    expect_load_error("badstrategy.lua", "strategy 'simulated_annealing'\n", EFFGEN_INVALID_ARGUMENT, 1,
                      "simulated_annealing");
    expect_load_error("error_call.lua", "\n\nerror('stop here')\n", EFFGEN_INVALID_ARGUMENT, 3, "stop here");
    /* the sandbox: no os, no io, no loading of files */
    expect_load_error("os.lua", "os.execute('touch /tmp/x')\n", EFFGEN_INVALID_ARGUMENT, 1, "os");
    expect_load_error("io.lua", "\nio.popen('ls')\n", EFFGEN_INVALID_ARGUMENT, 2, "io");
    expect_load_error("dofile.lua", "dofile('/etc/passwd')\n", EFFGEN_INVALID_ARGUMENT, 1, "dofile");
    expect_load_error("load.lua", "load('return 1')()\n", EFFGEN_INVALID_ARGUMENT, 1, "load");
    snprintf(buf, sizeof buf, "%s", "space { block_m = {64}, block_n = {64}, warps = {4}, stages = {2} }\n");
    const char *noprob = script("noproblems.lua", buf);
    eg_tune_plan *plan = NULL;
    CHECK_STATUS(eg_lua_plan_load(noprob, &plan), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "no problems");
    CHECK_STATUS(eg_lua_plan_load("/nonexistent/tune.lua", &plan), EFFGEN_IO);
    CHECK_HAS(effgen_last_error(), "/nonexistent/tune.lua");

    /* an impossible constraint, a constraint that fails at run time, limits nothing satisfies */
    snprintf(buf, sizeof buf,
             "%sspace { block_m = {64, 128}, block_n = {64}, warps = {4}, stages = {2} }\n"
             "constraint(function(p, c)\n  return c.block_m > 512\nend)\n",
             ok_problems);
    expect_run_error("impossible.lua", buf, 4, "no candidate left");
    snprintf(buf, sizeof buf,
             "%sspace { block_m = {64, 128}, block_n = {64}, warps = {4}, stages = {2} }\n"
             "constraint(function(p, c)\n  local t = nil\n  return t.x > 1\nend)\n",
             ok_problems);
    expect_run_error("constraint_error.lua", buf, 6, "t");
    snprintf(buf, sizeof buf,
             "%sspace { block_m = {64, 128}, block_n = {64}, warps = {4}, stages = {2} }\n"
             "limits { max_smem = 1000 }\n",
             ok_problems);
    expect_run_error("limits.lua", buf, 4, "declared limits");
    snprintf(buf, sizeof buf, "%sspace { block_m = {256}, block_n = {256}, warps = {4}, stages = {4} }\n",
             "problems { head_dims = {256}, buckets = {{bucket = 4096}} }\n");
    expect_run_error("arch_limits.lua", buf, 2, "exceed the limits of sm_80");

    /* ---- a good script fills the plan ---- */
    snprintf(buf, sizeof buf,
             "problems { head_dims = {64, 128}, dtypes = {'bf16', 'fp16'}, masks = {'none', 'causal'},\n"
             "  buckets = {{bucket = 1024, batch = 16, heads = 8, seqlen = 1024}, {bucket = 8192}} }\n"
             "space { block_m = {64, 128}, block_n = {32, 64}, warps = {4, 8}, stages = {1, 2} }\n"
             "limits { min_occupancy = 1 }\n"
             "strategy { 'topk', k = 3 }\n"
             "-- the C model is reachable from scripts and agrees with itself\n"
             "local p = {head_dim = 128, dtype = 'bf16', mask = 'causal', arch = 'sm_90'}\n"
             "assert(effgen.smem(p, 'bm128.bn64.w4.s2') == effgen.smem('attn_fwd/d128/bf16/causal/sm_90',\n"
             "       {block_m = 128, block_n = 64, warps = 4, stages = 2}))\n"
             "assert(effgen.validate(p, 'bm128.bn64.w4.s2') == true)\n"
             "local ok, why = effgen.validate({head_dim = 256, arch = 'sm_86'}, 'bm128.bn128.w4.s4')\n"
             "assert(ok == false and why:find('shared memory'))\n"
             "assert(effgen.estimate(p, 'bm128.bn64.w4.s2') > 0)\n"
             "assert(effgen.occupancy(p, 'bm64.bn64.w4.s2') >= 1)\n"
             "assert(effgen.registers(p, 'bm128.bn64.w4.s2') > 0)\n"
             "constraint(function(p, c) return effgen.smem(p, c) <= 40000 end)\n");
    const char *good = script("good.lua", buf);
    plan = NULL;
    if (CHECK_OK(eg_lua_plan_load(good, &plan))) {
        CHECK_INT(plan->n_problems, 2 * 2 * 2 * 2);
        CHECK_INT(plan->strategy.kind, EG_TUNE_TOPK);
        CHECK_INT(plan->strategy.k, 3);
        CHECK_INT(plan->limits.min_occupancy, 1);
        CHECK_INT(plan->space.n_block_m, 2);
        CHECK(plan->hooks.constraint != NULL);
        CHECK(plan->hooks.strategy == NULL);
        /* defaults of a bucket: seqlen = bucket, H*D = 2048, B*N = 16k */
        const eg_tune_problem *last = &plan->problems[plan->n_problems - 1];
        CHECK_INT(last->bucket, 8192);
        CHECK_INT(last->seqlen_q, 8192);
        CHECK_INT(last->heads, 2048 / last->spec.head_dim);
        CHECK_INT(last->batch, 2);
        CHECK_INT(plan->problems[0].heads, 8);
        /* the constraint runs in Lua and prunes exactly what the C model says */
        eg_tune_problem p = plan->problems[0];
        p.spec.arch = 90;
        eg_config *c = NULL;
        int n = 0, pruned[3];
        if (CHECK_OK(eg_tune_candidates(plan, &p, &c, &n, pruned))) {
            int expect = 0, expect_pruned = 0;
            int bm[] = {64, 128}, bn[] = {32, 64}, w[] = {4, 8}, s[] = {1, 2};
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    for (int x = 0; x < 2; x++)
                        for (int y = 0; y < 2; y++) {
                            eg_config cf = {bm[a], bn[b], w[x], s[y], EG_FAMILY_MMA, 0};
                            if (eg_config_validate(&cf, &p.spec) != EFFGEN_OK) continue;
                            eg_cost cost;
                            eg_model_cost(&p.spec, &cf, &cost);
                            if (cost.blocks_per_sm < 1) continue;
                            if (cost.smem_bytes <= 40000)
                                expect++;
                            else
                                expect_pruned++;
                        }
            CHECK_INT(n, expect);
            CHECK_INT(pruned[2], expect_pruned);
            CHECK(expect > 0 && expect_pruned > 0);
        }
        free(c);
        eg_lua_plan_free(plan);
    }
    eg_lua_plan_free(NULL);

    /* ---- wg_space: the Hopper warpgroup family's candidates ---- */
    snprintf(buf, sizeof buf, "%s\nwg_space { consumers = {1, 4}, block_n = {128}, stages = {2} }\n", ok_problems);
    expect_load_error("wg_cons.lua", buf, EFFGEN_INVALID_ARGUMENT, 4, "wg_space: consumers 4: must be 1, 2 or 3");
    snprintf(buf, sizeof buf, "%s\n\nwg_space { block_n = {64, 96} }\n", ok_problems);
    expect_load_error("wg_bn.lua", buf, EFFGEN_INVALID_ARGUMENT, 5, "wg_space: block_n 96: must be 64 or 128");
    snprintf(buf, sizeof buf, "%swg_space { stages = 1 }\n", ok_problems);
    expect_load_error("wg_st.lua", buf, EFFGEN_INVALID_ARGUMENT, 3, "wg_space: stages 1: must be 2, 3 or 4");
    snprintf(buf, sizeof buf, "%swg_space { warps = {8} }\n", ok_problems);
    expect_load_error("wg_key.lua", buf, EFFGEN_INVALID_ARGUMENT, 3,
                      "wg_space: unknown parameter 'warps' (expected consumers, block_n, stages)");
    snprintf(buf, sizeof buf, "%swg_space { block_n = {'wide'} }\n", ok_problems);
    expect_load_error("wg_type.lua", buf, EFFGEN_INVALID_ARGUMENT, 3, "block_n[1] must be an integer");
    /* config tables of the wg family, and the model on sm_90a from scripts */
    snprintf(buf, sizeof buf,
             "%sspace { block_m = {128}, block_n = {64}, warps = {4}, stages = {2} }\n"
             "wg_space { block_n = {128}, stages = {2, 3} }\n"
             "local p = {head_dim = 128, dtype = 'bf16', mask = 'none', arch = 'sm_90a'}\n"
             "local wg = {family = 'wg', consumers = 2, block_n = 128, stages = 2}\n"
             "assert(effgen.validate(p, wg) == true)\n"
             "assert(effgen.smem(p, wg) == effgen.smem(p, 'wg.bm128.bn128.c2.s2'))\n"
             "assert(effgen.estimate(p, wg) == effgen.estimate(p, 'wg.bm128.bn128.c2.s2'))\n"
             "local ok, why = effgen.validate({head_dim = 128, arch = 'sm_90'}, wg)\n"
             "assert(ok == false and why:find('sm_90a only'))\n"
             "ok, why = pcall(effgen.smem, p, {family = 'tensor', block_m = 64, block_n = 64, warps = 4, stages = 2})\n"
             "assert(not ok and why:find('config.family: must be \"mma\" or \"wg\"'))\n"
             "ok, why = pcall(effgen.smem, p, {family = 'wg', consumers = 5, block_n = 64, stages = 2})\n"
             "assert(not ok and why:find('config.consumers: must be 1, 2 or 3'))\n"
             "ok, why = pcall(effgen.smem, p, {family = 'wg', consumers = 2, block_n = 64, stages = 1})\n"
             "assert(not ok and why:find('stages=1: must be 2 to 4'))\n"
             "constraint(function(p, c)\n"
             "  assert(c.family == 'mma' or (c.family == 'wg' and c.consumers >= 1 and c.key:sub(1, 3) == 'wg.'))\n"
             "  return true\n"
             "end)\n",
             ok_problems);
    const char *wgs = script("wg_good.lua", buf);
    plan = NULL;
    if (CHECK_OK(eg_lua_plan_load(wgs, &plan))) {
        CHECK_INT(plan->wg_space.n_consumers, 3); /* the default {1, 2, 3} */
        CHECK_INT(plan->wg_space.consumers[2], 3);
        CHECK_INT(plan->wg_space.n_block_n, 1);
        CHECK_INT(plan->wg_space.block_n[0], 128);
        CHECK_INT(plan->wg_space.n_stages, 2);
        eg_tune_problem p = plan->problems[0];
        /* sm_90: the mma space alone; sm_90a: the wg space joins, every candidate of it fitting d64 (three
         * consumers of 128-key tiles need about 152 of their 160 registers) */
        eg_config *c = NULL;
        int n = 0, pruned[3];
        p.spec.arch = 90;
        if (CHECK_OK(eg_tune_candidates(plan, &p, &c, &n, pruned))) {
            CHECK_INT(n, 1);
            CHECK_INT(c[0].family, EG_FAMILY_MMA);
        }
        free(c);
        p.spec.arch = EG_ARCH_SM90A;
        if (CHECK_OK(eg_tune_candidates(plan, &p, &c, &n, pruned))) {
            CHECK_INT(n + pruned[0] + pruned[1] + pruned[2], 1 + 3 * 1 * 2);
            int wgn = 0;
            for (int i = 0; i < n; i++) wgn += c[i].family == EG_FAMILY_WG;
            CHECK_INT(wgn, 6);
            CHECK_INT(c[0].family, EG_FAMILY_MMA); /* space order: the mma space first */
        }
        free(c);
        eg_lua_plan_free(plan);
    }
    /* the pair layout: dsplit in the space, in config tables and in the tables the hooks see */
    snprintf(buf, sizeof buf, "%s\nspace { block_m = {64}, block_n = {64}, warps = {4}, stages = {2}, dsplit = {0, 1} }\n",
             ok_problems);
    expect_load_error("dsplit_bad.lua", buf, EFFGEN_INVALID_ARGUMENT, 4, "space: dsplit 1: must be 0");
    snprintf(buf, sizeof buf,
             "%sspace { block_m = {64, 128}, block_n = {64}, warps = {4, 8}, stages = {2}, dsplit = {0, 2} }\n"
             "local p = {head_dim = 256, dtype = 'bf16', mask = 'causal', arch = 'sm_90'}\n"
             "local d2 = {block_m = 128, block_n = 64, warps = 8, stages = 2, dsplit = 2}\n"
             "assert(effgen.validate(p, d2) == true)\n"
             "assert(effgen.smem(p, d2) == effgen.smem(p, 'bm128.bn64.w8.s2.d2'))\n"
             "assert(effgen.smem(p, d2) ~= effgen.smem(p, 'bm128.bn64.w8.s2'))\n"
             "local ok, why = effgen.validate({head_dim = 80, arch = 'sm_90'}, d2)\n"
             "assert(ok == false and why:find('head_dim=80'))\n"
             "ok, why = pcall(effgen.smem, p, {block_m = 128, block_n = 64, warps = 8, stages = 2, dsplit = 'yes'})\n"
             "assert(not ok and why:find('config.dsplit must be an integer'))\n"
             "constraint(function(p, c)\n"
             "  assert(c.family == 'mma' and (c.dsplit == 0) == (c.key:sub(-3) ~= '.d2'))\n"
             "  return true\n"
             "end)\n",
             ok_problems);
    plan = NULL;
    if (CHECK_OK(eg_lua_plan_load(script("dsplit_good.lua", buf), &plan))) {
        CHECK_INT(plan->space.n_dsplit, 2);
        eg_tune_problem p = plan->problems[0];
        eg_config *c = NULL;
        int n = 0, pruned[3];
        p.spec.arch = 90;
        /* 2 x 2 tiles x {0, 2}: bm64.w8 twice and bm128.w4.d2 refused by the shape checks */
        if (CHECK_OK(eg_tune_candidates(plan, &p, &c, &n, pruned))) {
            CHECK_INT(n, 5);
            CHECK_INT(pruned[0], 3);
            int pairs = 0;
            for (int i = 0; i < n; i++) pairs += c[i].dsplit == 2;
            CHECK_INT(pairs, 2);
        }
        free(c);
        eg_lua_plan_free(plan);
    }
    /* a wg space alone is a search space: for sm_90a, where specs the family lacks have no candidate */
    snprintf(buf, sizeof buf, "%s\nwg_space { consumers = {2} }\n", ok_problems);
    expect_run_error("wg_only.lua", buf, 4, "no candidate for attn_fwd/d64/bf16/none/sm_80 bucket 1024: the plan "
                                            "declares no space{...}");
    plan = NULL;
    if (CHECK_OK(eg_lua_plan_load(script("wg_only2.lua", buf), &plan))) {
        eg_tune_problem p = plan->problems[0];
        p.spec.arch = EG_ARCH_SM90A;
        eg_config *c = NULL;
        int n = 0, pruned[3];
        if (CHECK_OK(eg_tune_candidates(plan, &p, &c, &n, pruned))) CHECK_INT(n, 4); /* bn 64/128, s2/3 */
        free(c);
        eg_lua_plan_free(plan);
    }

    /* ---- user expressions from scripts: effgen.expr parses them (the canonical text and hash of the C
     * parser, the tensors in slot order, whether tiles can be decided), spec tables carry them to the
     * model and to effgen.generate, and bad ones raise errors naming the token ---- */
    {
        eg_expr *x = NULL;
        char hex[17] = "";
        if (CHECK_OK(eg_expr_parse("q>=k&&(q-k)<256", EG_EXPR_MASK, NULL, 0, &x))) eg_expr_hash_hex(x, hex);
        eg_expr_free(x);
        snprintf(buf, sizeof buf,
                 "%sspace { block_m = {64}, block_n = {64}, warps = {4}, stages = {2} }\n"
                 "local m = effgen.expr('q>=k&&(q-k)<256', 'mask')\n"
                 "assert(m.kind == 'mask' and m.text == 'q >= k && q - k < 256' and m.hash == '%s')\n"
                 "assert(m.tiles == true and #m.tensors == 0)\n"
                 "local t = effgen.expr('score + t5[h, q - k + 8] * w[k]; w: bf16[1], t5: f32[2]', 'score')\n"
                 "assert(t.kind == 'score' and t.tiles == false and #t.tensors == 2)\n"
                 "assert(t.tensors[1].name == 't5' and t.tensors[1].dtype == 'f32' and t.tensors[1].rank == 2)\n"
                 "assert(t.tensors[2].name == 'w' and t.tensors[2].dtype == 'bf16' and t.tensors[2].rank == 1)\n"
                 "assert(effgen.expr('doc[q] == doc[k]; doc: i32[1]', 'mask').tiles == false)\n"
                 "local ok, why = pcall(effgen.expr, 'q >= k &&', 'mask')\n"
                 "assert(not ok and why:find('effgen.expr: text:', 1, true) and why:find('^', 1, true))\n"
                 "ok, why = pcall(effgen.expr, 'q >= k', 'maskmod')\n"
                 "assert(not ok and why:find('kind=\"maskmod\": must be \"score\" or \"mask\"', 1, true))\n"
                 "ok, why = pcall(effgen.expr, 'score * 2', 'mask')\n"
                 "assert(not ok)\n"
                 "local p = {head_dim = 64, dtype = 'bf16', mask = 'none', arch = 'sm_90a'}\n"
                 "local pm = {head_dim = 64, dtype = 'bf16', mask = 'none', arch = 'sm_90a', mask_mod = 'q >= k'}\n"
                 "local wide = 'wg.bm128.bn128.c2.s2'\n"
                 "assert(effgen.validate(p, wide) == true)\n"
                 "assert(effgen.registers(pm, wide) > effgen.registers(p, wide))\n"
                 "ok, why = effgen.validate(pm, wide)\n"
                 "assert(ok == false and why:find('registers', 1, true))\n"
                 "local src = effgen.generate(pm, 'wg.bm128.bn64.c2.s2')\n"
                 "assert(src:find('user_mask_mod', 1, true) and src:find('MASK_RANGE = true', 1, true))\n"
                 "assert(src:find('+mask.' .. effgen.expr('q >= k', 'mask').hash, 1, true))\n"
                 "assert(not effgen.generate(p, 'wg.bm128.bn64.c2.s2'):find('user_mask_mod', 1, true))\n"
                 "src = effgen.generate({head_dim = 128, arch = 'sm_80', score_mod = 'score * 0.5'}, 'bm128.bn64.w4.s2')\n"
                 "assert(src:find('user_score_mod', 1, true) and src:find('#include \"eg_attn_fwd.cuh\"', 1, true))\n"
                 "ok, why = pcall(effgen.smem, {head_dim = 64, mask_mod = 'q >= '}, 'bm64.bn64.w4.s2')\n"
                 "assert(not ok and why:find('effgen.smem: mask_mod:', 1, true))\n"
                 "ok, why = pcall(effgen.smem, {head_dim = 64, mask_mod = 7}, 'bm64.bn64.w4.s2')\n"
                 "assert(not ok and why:find([[mask_mod must be the expression's text, not number]], 1, true))\n"
                 "ok, why = pcall(effgen.generate, p, 'wg.bm192.bn128.c3.s2')\n"
                 "assert(ok)\n"
                 "ok, why = pcall(effgen.generate, {head_dim = 64, arch = 'sm_80'}, 'wg.bm128.bn64.c2.s2')\n"
                 "assert(not ok and why:find('effgen.generate:', 1, true))\n"
                 "collectgarbage()\n",
                 ok_problems, hex);
        const char *xs = script("expr.lua", buf);
        plan = NULL;
        if (CHECK_OK(eg_lua_plan_load(xs, &plan))) eg_lua_plan_free(plan);
        else fprintf(stderr, "  %s\n", effgen_last_error());
    }

    /* ---- the shipped scripts load ---- */
    char path[1024];
    if (CHECK_OK(eg_lua_default_script(path, sizeof path))) {
        plan = NULL;
        if (CHECK_OK(eg_lua_plan_load(path, &plan))) {
            CHECK(plan->n_problems >= 3 * 2 * 2);
            /* its head dims are the default kernel set's, each of them and no other */
            int n_dims = 0;
            const int *dims = effgen_default_head_dims(&n_dims);
            CHECK(n_dims >= 1);
            int plan_dims[64], n_plan = 0;
            for (int k = 0; k < plan->n_problems; k++) {
                int d = plan->problems[k].spec.head_dim;
                if (!has_int(plan_dims, n_plan, d) && CHECK(n_plan < 64)) plan_dims[n_plan++] = d;
            }
            for (int i = 0; i < n_dims; i++)
                if (!CHECK(has_int(plan_dims, n_plan, dims[i]))) fprintf(stderr, "  default.lua lacks head dim %d\n", dims[i]);
            for (int k = 0; k < n_plan; k++)
                if (!CHECK(has_int(dims, n_dims, plan_dims[k])))
                    fprintf(stderr, "  default.lua has head dim %d, not in the default set\n", plan_dims[k]);
            /* the default tunes the wg family where the target is sm_90a */
            CHECK(plan->wg_space.n_consumers > 0 && plan->wg_space.n_block_n > 0 && plan->wg_space.n_stages > 0);
            eg_lua_plan_free(plan);
        }
    }
    const char *examples[] = {"exhaustive", "topk", "random", "custom"};
    eg_tune_kind kinds[] = {EG_TUNE_EXHAUSTIVE, EG_TUNE_TOPK, EG_TUNE_RANDOM, EG_TUNE_SCRIPT};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/lua/examples/%s.lua", EFFGEN_SOURCE_DIR, examples[i]);
        plan = NULL;
        if (CHECK_OK(eg_lua_plan_load(path, &plan))) {
            CHECK_INT(plan->strategy.kind, kinds[i]);
            if (kinds[i] == EG_TUNE_SCRIPT) CHECK(plan->hooks.strategy != NULL);
            eg_lua_plan_free(plan);
        }
    }

    snprintf(buf, sizeof buf, "rm -rf '%s'", dir);
    if (system(buf) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
