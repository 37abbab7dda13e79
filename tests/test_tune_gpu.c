/* test_tune_gpu.c - an online tune: a tiny space compiled, checked, timed and its winner stored; a rerun
 * resumes; a tune killed half-way leaves a sound database whose rerun measures only what is missing; a
 * Lua strategy measures through api.measure; the dispatcher serves the winner; on a 9.0 device (sm_90a,
 * the default target there) the wg family's candidates are measured beside the mma family's. Exits 77
 * without a GPU; CI runs it on tests/mock_cuda.c (mock_cuda_tma, a 9.0 device). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "autotune.h"
#include "eg_lua.h"
#include "rt.h"
#include "t.h"

static char dir[] = "/tmp/effgen-test-tune-gpu-XXXXXX";

typedef struct count {
    int ok, other;
} count;

static int count_fn(const eg_db_measurement *m, void *arg) {
    count *c = arg;
    if (m->result == EG_DB_OK && m->ms_median > 0 && m->tflops > 0)
        c->ok++;
    else
        c->other++;
    return 0;
}

/* Timings of winners that were far ahead of the runner-up and timed again (on a real GPU a small
 * problem can make one tile size win by that much); they come on top of one timing per candidate. */
static int remeasured(const eg_tune_stats *s) {
    int n = 0;
    for (int i = 0; i < s->n_results; i++) n += s->results[i].remeasured;
    return n;
}

/* Three buckets of one spec whose kernels the first tune already compiled: six measurements. */
static void kill_plan(eg_tune_plan *plan, eg_tune_problem *kp) {
    memset(plan, 0, sizeof *plan);
    for (int i = 0; i < 3; i++) {
        memset(&kp[i], 0, sizeof kp[i]);
        kp[i].spec.op = EG_OP_ATTN_FWD;
        kp[i].spec.head_dim = 64;
        kp[i].spec.dtype = EFFGEN_BF16;
        kp[i].bucket = 1024 << i;
        kp[i].batch = 1;
        kp[i].heads = 4;
        kp[i].seqlen_q = kp[i].seqlen_k = kp[i].bucket;
    }
    plan->problems = kp;
    plan->n_problems = 3;
    plan->space = (eg_tune_space){{64, 128}, 2, {64}, 1, {4}, 1, {2}, 1, {0}, 0};
}

/* Measurements of the kill plan's problems now in the database. */
static int measured(const char *db, int arch, const char *spec, const eg_db_build *b, const eg_db_device *dev) {
    eg_db *h = NULL;
    if (eg_db_open(db, 1, &h) != EFFGEN_OK) return -1;
    count c = {0, 0};
    for (int i = 0; i < 3; i++) {
        char prob[96];
        snprintf(prob, sizeof prob, "b1.h4.nq%d.nk%d", 1024 << i, 1024 << i);
        eg_db_measurement_each(h, spec, arch, b, prob, dev, count_fn, &c);
    }
    eg_db_close(h);
    return c.ok + c.other;
}

/* The process that gets killed: a tune of the kill plan, each launch slowed on the mock driver. */
static int tune_child(const char *db, int arch) {
    eg_tune_plan plan;
    eg_tune_problem kp[3];
    kill_plan(&plan, kp);
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    o.arch = arch;
    o.db_path = db;
    o.reps = 20;
    return eg_tune_run_plan(&plan, &o, NULL) == EFFGEN_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--tune-child")) return tune_child(argv[2], atoi(argv[3]));
    effgen_ctx *ctx = NULL;
    effgen_options o0;
    effgen_options_init(&o0);
    o0.db = "";
    effgen_status st = effgen_open(&ctx, &o0);
    if (!st) st = eg_rt_device(ctx, NULL);
    if (st) {
        fprintf(stderr, "skipped: %s\n", effgen_last_error());
        effgen_close(ctx);
        return T_SKIP_CODE;
    }
    /* the target a tune without --arch takes: sm_90a on a 9.0 device */
    int arch = eg_rt_default_arch(ctx->info.cc_major, ctx->info.cc_minor);
    eg_db_device dev;
    memset(&dev, 0, sizeof dev);
    snprintf(dev.name, sizeof dev.name, "%s", ctx->info.name);
    dev.cc = ctx->info.cc_major * 10 + ctx->info.cc_minor;
    dev.sm_count = ctx->info.sm_count;
    dev.driver = ctx->info.driver_version;
    effgen_close(ctx);
    if (!mkdtemp(dir)) return 1;
    char db[600];
    snprintf(db, sizeof db, "%s/tune.db", dir);

    eg_tune_problem p;
    memset(&p, 0, sizeof p);
    p.spec.op = EG_OP_ATTN_FWD;
    p.spec.head_dim = 64;
    p.spec.dtype = EFFGEN_BF16;
    p.bucket = 512;
    p.batch = 2;
    p.heads = 8;
    p.seqlen_q = p.seqlen_k = 512;
    eg_tune_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.problems = &p;
    plan.n_problems = 1;
    plan.space = (eg_tune_space){{64, 128}, 2, {64}, 1, {4}, 1, {2}, 1, {0}, 0};
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    o.arch = arch;
    o.db_path = db;
    o.reps = 5;
    o.progress = 1;
    eg_tune_stats s;
    if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) {
        CHECK_INT(s.offline, 0);
        CHECK_INT(s.n_results, 1);
        CHECK_INT(s.compiled, 2);
        CHECK_INT(s.checked, 2);
        CHECK_INT(s.timed - remeasured(&s), 2);
        CHECK_INT(s.results[0].source, EG_DB_MEASURED);
        CHECK(s.results[0].ms > 0 && s.results[0].tflops > 0);
        CHECK(s.results[0].config[0] != 0);
    }
    char winner[64];
    snprintf(winner, sizeof winner, "%s", s.n_results ? s.results[0].config : "");
    eg_tune_stats_free(&s);

    eg_db_build b;
    eg_rt_db_build(&b);
    eg_db *h = NULL;
    char spec[EG_KEY_MAX];
    eg_spec sp = p.spec;
    sp.arch = arch;
    eg_spec_print(&sp, spec, sizeof spec);
    if (CHECK_OK(eg_db_open(db, 1, &h))) {
        eg_db_winner w;
        int found = 0;
        CHECK_OK(eg_db_winner_get(h, arch, spec, 512, &b, &w, &found));
        if (CHECK(found)) {
            CHECK_INT(w.source, EG_DB_MEASURED);
            CHECK_STR(w.config, winner);
            CHECK(w.tflops > 0);
            CHECK_STR(w.device, dev.name);
        }
        count c = {0, 0};
        CHECK_OK(eg_db_measurement_each(h, spec, arch, &b, "b2.h8.nq512.nk512", &dev, count_fn, &c));
        CHECK_INT(c.ok, 2);
        CHECK_INT(c.other, 0);
        eg_db_close(h);
    }

    /* the same tune again: resumed, nothing compiled or timed, same winner */
    if (CHECK_OK(eg_tune_run_plan(&plan, &o, &s))) {
        CHECK_INT(s.compiled, 0);
        CHECK_INT(s.timed, 0);
        CHECK_INT(s.resumed, 2);
        CHECK_STR(s.results[0].config, winner);
    }
    eg_tune_stats_free(&s);

    /* killed mid-tune (a process of its own: a forked CUDA process cannot use the driver) */
    {
        eg_tune_plan kplan;
        eg_tune_problem kp[3];
        kill_plan(&kplan, kp);
        char archs[16];
        snprintf(archs, sizeof archs, "%d", arch);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            setenv("EFFGEN_MOCK_DELAY_US", "2000", 1);
            char *args[] = {argv[0], "--tune-child", db, archs, NULL};
            execv("/proc/self/exe", args);
            _exit(127);
        }
        int done = 0, status = 0;
        for (int i = 0; i < 4000 && !done; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                done = 1; /* finished before it could be killed: the rerun below still must resume all */
                break;
            }
            if (measured(db, arch, spec, &b, &dev) >= 1) break;
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (!done) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        int before = measured(db, arch, spec, &b, &dev);
        fprintf(stderr, "killed tune: %s with %d of 6 measurements stored\n", done ? "finished" : "killed", before);
        CHECK(before >= 1 && before <= 6);
        if (CHECK_OK(eg_db_open(db, 1, &h))) {
            char *report = NULL;
            int problems = -1;
            CHECK_OK(eg_db_verify(h, &report, &problems));
            CHECK_INT(problems, 0);
            free(report);
            eg_db_close(h);
        }
        if (CHECK_OK(eg_tune_run_plan(&kplan, &o, &s))) {
            CHECK_INT(s.resumed, before);
            CHECK_INT(s.timed - remeasured(&s), 6 - before);
            CHECK_INT(s.compiled, 0);
            CHECK_INT(s.n_results, 3);
            for (int i = 0; i < s.n_results; i++) CHECK(s.results[i].config[0] != 0);
        }
        eg_tune_stats_free(&s);
    }

    /* sm_90a: the wg family's candidates compiled, checked and timed with the mma family's, the winner
     * stored with its config text and served */
    if (arch == EG_ARCH_SM90A) {
        eg_tune_problem q = p;
        q.spec.head_dim = 128;
        eg_tune_plan wplan;
        memset(&wplan, 0, sizeof wplan);
        wplan.problems = &q;
        wplan.n_problems = 1;
        wplan.space = (eg_tune_space){{128}, 1, {64}, 1, {4}, 1, {2}, 1, {0}, 0};
        wplan.wg_space = (eg_tune_wg_space){{2}, 1, {64, 128}, 2, {2}, 1};
        if (CHECK_OK(eg_tune_run_plan(&wplan, &o, &s)) && CHECK_INT(s.n_results, 1)) {
            CHECK_STR(s.results[0].spec, "attn_fwd/d128/bf16/none/sm_90a");
            CHECK_INT(s.results[0].candidates, 3);
            CHECK_INT(s.compiled, 3);
            CHECK_INT(s.checked, 3);
            CHECK_INT(s.check_failed, 0);
            CHECK_INT(s.timed - remeasured(&s), 3);
            /* the model's pick (reported after an exhaustive run) is of the wg family */
            CHECK_INT(strncmp(s.results[0].model_config, "wg.", 3), 0);
            eg_config wc;
            if (CHECK_OK(eg_config_parse(s.results[0].config, &wc))) {
                char back[64];
                eg_config_print(&wc, back, sizeof back);
                CHECK_STR(back, s.results[0].config);
            }
            char qspec[EG_KEY_MAX];
            eg_spec qs = q.spec;
            qs.arch = arch;
            eg_spec_print(&qs, qspec, sizeof qspec);
            count c = {0, 0};
            if (CHECK_OK(eg_db_open(db, 1, &h))) {
                CHECK_OK(eg_db_measurement_each(h, qspec, arch, &b, "b2.h8.nq512.nk512", &dev, count_fn, &c));
                CHECK_INT(c.ok, 3);
                eg_db_winner w;
                int found = 0;
                CHECK_OK(eg_db_winner_get(h, arch, qspec, 512, &b, &w, &found));
                if (CHECK(found)) CHECK_STR(w.config, s.results[0].config);
                eg_db_close(h);
            }
            effgen_options oq;
            effgen_options_init(&oq);
            oq.db = db;
            effgen_ctx *qc = NULL;
            if (CHECK_OK(effgen_open(&qc, &oq))) {
                effgen_attn_args a;
                effgen_attn_args_init(&a);
                a.batch = 1, a.heads = 1, a.seqlen_q = a.seqlen_k = 300, a.head_dim = 128;
                a.q = a.k = a.v = a.o = (void *)(uintptr_t)0x10000;
                char sk[128], ck[64];
                if (CHECK_OK(effgen_describe(qc, &a, sk, sizeof sk, ck, sizeof ck))) {
                    CHECK_STR(sk, qspec);
                    CHECK_STR(ck, s.results[0].config);
                }
                effgen_close(qc);
            }
        }
        eg_tune_stats_free(&s);
    }

    /* a Lua strategy: measure everything through api.measure, return the fastest */
    char script[600];
    snprintf(script, sizeof script, "%s/custom.lua", dir);
    FILE *f = fopen(script, "w");
    if (f) {
        fputs("problems { head_dims = {64}, dtypes = {'bf16'}, masks = {'none'},\n"
              "  buckets = {{bucket = 1024, batch = 1, heads = 8, seqlen = 1024}} }\n"
              "space { block_m = {64, 128}, block_n = {64}, warps = {4}, stages = {2} }\n"
              "strategy(function(p, cands, api)\n"
              "  local ms, why = api.measure({block_m = 16, block_n = 256, warps = 1, stages = 4})\n"
              "  assert(ms == nil and type(why) == 'string')\n"
              "  if p.arch == 'sm_90a' then\n"
              "    -- a wg config named by a table, outside the candidates: measured all the same\n"
              "    assert(api.measure({family = 'wg', consumers = 2, block_n = 128, stages = 2}))\n"
              "    return {family = 'wg', consumers = 2, block_n = 128, stages = 2}\n"
              "  end\n"
              "  local best, best_ms\n"
              "  for _, c in ipairs(cands) do\n"
              "    local t = assert(api.measure(c))\n"
              "    if not best or t < best_ms then best, best_ms = c, t end\n"
              "  end\n"
              "  return best.key\n"
              "end)\n",
              f);
        fclose(f);
    }
    eg_tune_plan *lp = NULL;
    if (CHECK_OK(eg_lua_plan_load(script, &lp))) {
        if (CHECK_OK(eg_tune_run_plan(lp, &o, &s))) {
            CHECK_INT(s.results[0].source, EG_DB_MEASURED);
            CHECK(s.results[0].ms > 0);
            if (arch == EG_ARCH_SM90A) {
                /* the table the strategy returned: a wg config, compiled once and measured once */
                CHECK_STR(s.results[0].config, "wg.bm128.bn128.c2.s2");
                CHECK_INT(s.timed - remeasured(&s), 1);
                CHECK_INT(s.compiled, 1);
            } else {
                CHECK_INT(s.timed - remeasured(&s), 2);
                CHECK_INT(s.compiled, 0); /* the kernels of the first tune serve this bucket too */
            }
        }
        eg_tune_stats_free(&s);
        eg_lua_plan_free(lp);
    }

    /* the dispatcher serves the measured winner from this database */
    effgen_options od;
    effgen_options_init(&od);
    od.db = db;
    if (CHECK_OK(effgen_open(&ctx, &od))) {
        effgen_attn_args a;
        effgen_attn_args_init(&a);
        a.batch = 1;
        a.heads = 1;
        a.seqlen_q = a.seqlen_k = 300;
        a.head_dim = 64;
        a.q = a.k = a.v = a.o = (void *)(uintptr_t)0x10000;
        char sk[128], ck[64];
        if (CHECK_OK(effgen_describe(ctx, &a, sk, sizeof sk, ck, sizeof ck))) CHECK_STR(ck, winner);
        effgen_close(ctx);
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return T_DONE();
}
