/* test_gpu_wgmma.c - numeric check of the Hopper warpgroup family (wg.* configs, sm_90a) against the
 * double reference: head dims 64, 128, 256, 96, 192 and 72 (the last three stored padded to 64-column
 * blocks), bf16 and fp16, no mask, causal (bottom-right and top-left), Nq != Nk, lengths that are not
 * multiples of the tiles, both tensor layouts, LSE, 1 to 3 consumer warpgroups and 2 to 4 stages; the
 * variants window, softcap, ALiBi and GQA alone and combined; block-sparse tables; the additive bias;
 * the bit mask (with causal, softcap, a window, GQA, a block-sparse table and a bias; all hidden, all
 * visible); user expressions (score + E before the product and other score expressions, mask expressions,
 * reading tensors of several element types, with causal, GQA, a window, softcap, ALiBi and varlen; rows a
 * mask expression hides wholly); varlen (packed sequences); and the persistent grid (the default) and one
 * CTA per tile (EFFGEN_WG_PERSISTENT=0) on problems with more work tiles than SMs. Outputs are poisoned before each
 * launch (eg_check), so an unwritten element fails. Exit 77 without a driver, without a device, or on a
 * device that is not compute capability 9.0 (after checking that the family is refused there with a
 * clear error). Under the stand-in driver (EFFGEN_MOCK_CC set) only the errors are checked: the wrong
 * device and a driver without cuTensorMapEncodeTiled, both before any launch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

typedef struct shape {
    int b, h, nq, nk;
} shape;

/* One launch through the public API on fake pointers: the status and error text of a refusal. */
static effgen_status try_launch(effgen_ctx *ctx, const char *config, char *err, size_t size) {
    effgen_attn_args a;
    effgen_attn_args_init(&a);
    a.batch = 1, a.heads = 1, a.seqlen_q = 64, a.seqlen_k = 64, a.head_dim = 128;
    a.q = a.k = a.v = (const void *)(uintptr_t)0x10000;
    a.o = (void *)(uintptr_t)0x20000;
    a.config = config;
    effgen_status st = effgen_attention_fwd(ctx, &a, NULL);
    snprintf(err, size, "%s", effgen_last_error());
    return st;
}

/* The stand-in driver: refusals only. */
static int mock_errors(effgen_ctx *ctx, int cc) {
    char err[2048];
    effgen_status st = try_launch(ctx, "wg.bm128.bn128.c2.s2", err, sizeof err);
    int ok;
    if (cc != 90) {
        /* a cubin for sm_90a on another device: refused when it is loaded, naming the arch and the device */
        ok = st == EFFGEN_UNSUPPORTED && strstr(err, "sm_90a") && strstr(err, "compute capability");
    } else {
        /* the stand-in has no cuTensorMapEncodeTiled: the launch names the missing entry point */
        ok = st == EFFGEN_DRIVER_UNAVAILABLE && strstr(err, "cuTensorMapEncodeTiled");
    }
    printf("%s cc %d: %s: %s\n", ok ? "ok  " : "FAIL", cc, effgen_status_name(st), err);
    return ok ? 0 : 1;
}

/* One check's line: ok or FAIL, what ran (a label), the config, dtype, layout and shape, and the errors;
 * 1 when it failed (it could not run, or it ran and missed the tolerance), else 0. */
static int report(const char *what, const char *config, const eg_problem *p, effgen_status st,
                  const eg_check_result *r) {
    const char *dt = p->dtype == EFFGEN_FP16 ? "fp16" : "bf16";
    if (st) {
        printf("FAIL d%d %s %s %s B,H,Nq,Nk=%d,%d,%d,%d: %s (%s)\n", p->head_dim, dt, config, what, p->batch, p->heads,
               p->seqlen_q, p->seqlen_k, effgen_last_error(), effgen_status_name(st));
        return 1;
    }
    printf("%s d%-3d %s %-22s %-48s %s B,H,Nq,Nk=%d,%d,%d,%d rel %.2e (tol %.0e) lse %.1e lse_mismatch %ld "
           "unwritten %ld\n",
           r->pass ? "ok  " : "FAIL", p->head_dim, dt, r->config, what, p->bnhd ? "bnhd" : "bhnd", p->batch, p->heads,
           p->seqlen_q, p->seqlen_k, r->rel_err, r->tolerance, r->lse_max_abs, r->lse_mismatch, r->unwritten);
    return !r->pass;
}

/* Draw the variant tensors of o for p (seeded) and check config on them: the check's status, or the
 * drawing's (then r is not filled; report names the error either way). */
static effgen_status check_drawn(effgen_ctx *ctx, eg_problem *p, const eg_ext_opts *o, const char *config,
                                 unsigned seed, eg_check_result *r) {
    eg_problem_ext x;
    effgen_status st = eg_problem_ext_make(p, &x, o, seed);
    if (st) return st;
    st = eg_check_ext(ctx, p, &x, config, seed, r);
    eg_problem_ext_free(&x);
    return st;
}

/* A user-expression case of the expr section: NAME:DTYPE:SIZES tensors with B, H, Q, K and M (the larger of Q
 * and K) standing for the problem's sizes (the totals under varlen). */
typedef struct xcase {
    int d, causal, kv_heads, varlen, window, alibi;
    float softcap;
    const char *score, *mask;
    const char *tensors[2];
    const char *config; /* NULL: the model's choice, which must be a wg config */
} xcase;

static effgen_status check_expr(effgen_ctx *ctx, eg_problem *p, const xcase *c, unsigned seed, eg_check_result *r) {
    eg_ext_opts o;
    memset(&o, 0, sizeof o);
    if (c->varlen) o.varlen = 1, o.len_min = 0, o.len_max = 300, o.keys_differ = 1;
    eg_problem_ext x;
    effgen_status st = eg_problem_ext_make(p, &x, &o, seed);
    if (st) return st;
    x.score_mod = c->score;
    x.mask_mod = c->mask;
    for (int i = 0; i < 2 && c->tensors[i] && !st; i++)
        st = eg_problem_ext_add_tensor_sized(&x, p, c->tensors[i], seed + (unsigned)i);
    if (!st) st = eg_check_ext(ctx, p, &x, c->config, seed, r);
    eg_problem_ext_free(&x);
    return st;
}

/* Sections named on the command line run alone (main, variants, bsparse, bias, mask, expr, refusals, persistent, varlen,
 * walk);
 * with no names, all of them. */
static int n_sections;
static char **sections;
static int want(const char *name) {
    for (int i = 0; i < n_sections; i++)
        if (!strcmp(sections[i], name)) return 1;
    return n_sections == 0;
}

int main(int argc, char **argv) {
    /* main: the head dims and shapes in bf16, main_fp16 the same in fp16 (two sections so that ctest -j runs
     * the halves of the longest one side by side) */
    static const char *const known[] = {"main",     "main_fp16",  "variants", "bsparse", "bias",  "mask",
                                        "expr",     "refusals",   "persistent", "varlen", "walk"};
    for (int i = 1; i < argc; i++) {
        int ok = 0;
        for (int j = 0; j < (int)(sizeof known / sizeof known[0]); j++) ok |= !strcmp(argv[i], known[j]);
        if (!ok) {
            printf("FAIL: section '%s': must be one of main, main_fp16, variants, bsparse, bias, mask, expr, refusals, "
                   "persistent, varlen, walk\n",
                   argv[i]);
            return 1;
        }
    }
    n_sections = argc - 1;
    sections = argv + 1;
    effgen_options opt;
    effgen_options_init(&opt);
    opt.arch = "sm_90a";
    opt.db = ""; /* no database: every kernel is this build's */
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu;
    effgen_status st = effgen_open(&ctx, &opt);
    if (!st) st = eg_rt_device(ctx, &cu);
    if (st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_NO_DEVICE) {
        printf("skipped: %s\n", effgen_last_error());
        effgen_close(ctx);
        return 77;
    }
    if (st) {
        printf("FAIL: device: %s\n", effgen_last_error());
        return 1;
    }
    effgen_device_info dev;
    if (effgen_device_query(ctx, &dev) != EFFGEN_OK) {
        printf("FAIL: device query: %s\n", effgen_last_error());
        return 1;
    }
    int cc = dev.cc_major * 10 + dev.cc_minor;
    if (getenv("EFFGEN_MOCK_CC")) {
        int rc = mock_errors(ctx, cc);
        effgen_close(ctx);
        return rc;
    }
    if (cc != 90) {
        char err[2048];
        st = try_launch(ctx, "wg.bm128.bn128.c2.s2", err, sizeof err);
        int ok = st == EFFGEN_UNSUPPORTED && strstr(err, "sm_90a");
        printf("skipped: %s is compute capability %d.%d, not 9.0; the wg family is refused there: %s (%s: %s)\n",
               dev.name, dev.cc_major, dev.cc_minor, ok ? "ok" : "FAIL", effgen_status_name(st), err);
        effgen_close(ctx);
        return ok ? 77 : 1;
    }

    /* configs per head dim: the default shape (2 consumers), one consumer, and a third shape */
    static const int dims[] = {64, 128, 256, 96, 192, 72, 8, 32, 56};
    enum { N_DIMS = sizeof dims / sizeof dims[0] };
    static const char *const configs[N_DIMS][3] = {
        {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s3", "wg.bm192.bn128.c3.s3"},
        {"wg.bm128.bn128.c2.s2", "wg.bm64.bn128.c1.s2", "wg.bm128.bn64.c2.s4"},
        {"wg.bm128.bn64.c2.s2", "wg.bm64.bn64.c1.s2", "wg.bm64.bn64.c1.s3"},
        {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s2", "wg.bm128.bn64.c2.s3"},
        {"wg.bm128.bn64.c2.s2", "wg.bm64.bn64.c1.s2", "wg.bm64.bn64.c1.s3"},
        {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s2", "wg.bm192.bn64.c3.s2"},
        /* head dims below 64: one 64-column block in shared memory, zero past D */
        {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s2", "wg.bm192.bn128.c3.s3"},
        {"wg.bm192.bn128.c3.s3", "wg.bm64.bn128.c1.s2", "wg.bm128.bn64.c2.s4"},
        {"wg.bm128.bn128.c2.s3", "wg.bm64.bn64.c1.s3", "wg.bm192.bn64.c3.s2"},
    };
    static const shape shapes[] = {{1, 2, 1, 1},     {2, 3, 17, 17},  {1, 2, 1000, 1000}, {2, 2, 17, 1000},
                                   {1, 3, 1000, 17}, {1, 2, 1, 4097}, {1, 1, 4097, 4097}, {2, 2, 333, 517},
                                   {2, 2, 700, 900}};
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);
    int failed = 0, total = 0, k = 0;
    for (int di = 0; di < N_DIMS && (want("main") || want("main_fp16")); di++)
        for (int ci = 0; ci < 3; ci++)
            for (int t = 0; t < 2; t++)
                for (int c = 0; c < 3; c++) /* none, causal bottom-right, causal top-left */
                    for (int si = 0; si < n_shapes; si++, k++) {
                        if (!want(t ? "main_fp16" : "main")) continue;
                        /* the largest shape for a third of the combinations keeps the reference quick */
                        if (si == 6 && (di + ci + t + c) % 3) continue;
                        eg_problem p = {t ? EFFGEN_FP16 : EFFGEN_BF16, shapes[si].b, shapes[si].h, shapes[si].nq,
                                        shapes[si].nk, dims[di], c > 0,
                                        c == 2 ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT, k % 2,
                                        si == 7 ? 0.5f : si == 8 ? 4.f : 0.f, 0, 0, 0, 0.f, 0, 0};
                        eg_check_result r;
                        total++;
                        st = eg_check(ctx, &p, configs[di][ci], 2000u + (unsigned)k, &r);
                        failed += report(c == 0 ? "none" : c == 1 ? "causal" : "causal (top-left)", configs[di][ci],
                                         &p, st, &r);
                    }
    /* the variants of the family: window (with and without causal, one- and two-sided), softcap, ALiBi,
     * GQA and combinations, on shapes with partial tiles and Nq != Nk */
    if (want("variants")) {
        typedef struct variant {
            int causal, window, wl, wr;
            float softcap;
            int alibi, kv_heads;
        } variant;
        static const variant vars[] = {
            {1, 1, 100, 0, 0.f, 0, 0}, {0, 1, 64, 32, 0.f, 0, 0}, {0, 0, 0, 0, 0.5f, 0, 0}, {1, 0, 0, 0, 0.f, 1, 0},
            {0, 0, 0, 0, 0.f, 0, 2},   {1, 1, 300, 0, 0.f, 1, 2}, {1, 0, 0, 0, 0.5f, 0, 1}, {0, 1, -1, 7, 0.f, 1, 0},
        };
        static const shape vshapes[] = {{2, 4, 333, 517}, {1, 4, 1000, 1000}, {1, 4, 517, 130}, {1, 2, 1, 300}};
        static const int vdims[] = {64, 128, 96};
        static const char *const vconfigs[3][2] = {{"wg.bm192.bn64.c3.s2", "wg.bm64.bn64.c1.s2"},
                                                   {"wg.bm128.bn128.c2.s2", "wg.bm128.bn64.c2.s3"},
                                                   {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s2"}};
        for (int di = 0; di < 3; di++)
            for (int ci = 0; ci < 2; ci++)
                for (int vi = 0; vi < (int)(sizeof vars / sizeof vars[0]); vi++)
                    for (int si = 0; si < (int)(sizeof vshapes / sizeof vshapes[0]); si++, k++) {
                        const variant *v = &vars[vi];
                        const char *config = vconfigs[di][ci];
                        int heads = vshapes[si].h, kvh = v->kv_heads;
                        if (kvh > heads || (kvh && heads % kvh)) kvh = 0;
                        eg_problem p = {(k % 2) ? EFFGEN_FP16 : EFFGEN_BF16, vshapes[si].b, heads, vshapes[si].nq,
                                        vshapes[si].nk, vdims[di], v->causal,
                                        (k % 3 == 2) ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT, k % 2,
                                        0.f, v->window, v->wl, v->wr, v->softcap, v->alibi, kvh};
                        eg_check_result r;
                        total++;
                        st = eg_check(ctx, &p, config, 5000u + (unsigned)k, &r);
                        char what[96];
                        snprintf(what, sizeof what, "causal=%d%s window=%d(%d,%d) softcap=%g alibi=%d kv=%d",
                                 v->causal, p.align == EFFGEN_CAUSAL_TOP_LEFT ? "(tl)" : "", v->window, v->wl, v->wr,
                                 (double)v->softcap, v->alibi, kvh);
                        failed += report(what, config, &p, st, &r);
                    }
    }
    /* block-sparse tables (BigBird-like: diagonal, first column and random blocks; shared or per head),
     * with causal and softcap, run by an explicit wg config (the model leaves them to the mma family until
     * this section has passed on a GPU) */
    if (want("bsparse")) {
        typedef struct bcase {
            int d, causal, block, pct, per_head;
            float softcap;
            const char *config;
        } bcase;
        static const bcase bcases[] = {
            {128, 0, 128, 20, 0, 0.f, "wg.bm128.bn128.c2.s2"}, {128, 1, 128, 30, 1, 0.f, "wg.bm128.bn64.c2.s2"},
            {64, 0, 256, 25, 1, 2.f, "wg.bm128.bn128.c2.s3"},  {256, 1, 128, 20, 0, 0.f, "wg.bm128.bn64.c2.s2"},
            {96, 0, 64, 30, 0, 0.f, "wg.bm64.bn64.c1.s2"},     {64, 1, 192, 40, 1, 0.f, "wg.bm192.bn64.c3.s2"},
        };
        for (int i = 0; i < (int)(sizeof bcases / sizeof bcases[0]); i++, k++) {
            const bcase *c = &bcases[i];
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, 2, 3, 1000, 1100, c->d, c->causal,
                            EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f, 0, 0, 0, c->softcap, 0, 0};
            eg_ext_opts o;
            memset(&o, 0, sizeof o);
            o.bsparse = 1, o.bs_block = c->block, o.bsparse_pct = c->pct, o.bs_per_head = c->per_head;
            total++;
            eg_check_result r;
            st = check_drawn(ctx, &p, &o, c->config, 7000u + (unsigned)k, &r);
            char what[96];
            snprintf(what, sizeof what, "bsparse block %d, %d%% %s causal=%d softcap=%g", c->block, c->pct,
                     c->per_head ? "per head" : "shared", c->causal, (double)c->softcap);
            failed += report(what, c->config, &p, st, &r);
        }
    }
    /* the additive bias, loaded by TMA with the K tiles: full, broadcast over batch, over batch and heads;
     * with causal, softcap and ALiBi; under explicit wg configs (the model leaves the bias to the mma
     * family until this section has passed on a GPU). A bias with one row for every query (stride 0 over
     * queries) is refused with a message naming the stride. */
    if (want("bias")) {
        typedef struct bcase {
            int d, causal, bcast;
            float softcap;
            int alibi;
            const char *config;
        } bcase;
        static const bcase bcases[] = {
            {128, 0, 0, 0.f, 0, "wg.bm128.bn128.c2.s2"}, {128, 1, 1, 0.f, 0, "wg.bm128.bn64.c2.s2"},
            {64, 0, 3, 1.f, 1, "wg.bm192.bn64.c3.s2"},   {256, 1, 0, 0.f, 0, "wg.bm128.bn64.c2.s2"},
            {96, 1, 1, 0.f, 1, "wg.bm64.bn64.c1.s2"},    {64, 0, 4, 0.f, 0, "wg.bm128.bn128.c2.s2"},
        };
        for (int i = 0; i < (int)(sizeof bcases / sizeof bcases[0]); i++, k++) {
            const bcase *c = &bcases[i];
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, 2, 4, 700, 1000, c->d, c->causal,
                            EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f, 0, 0, 0, c->softcap, c->alibi, 0};
            eg_ext_opts o;
            memset(&o, 0, sizeof o);
            o.bias = 1, o.bias_bcast = c->bcast;
            total++;
            eg_check_result r;
            st = check_drawn(ctx, &p, &o, c->config, 8000u + (unsigned)k, &r);
            if (c->bcast & 4) {
                const int ok = st == EFFGEN_UNSUPPORTED && strstr(effgen_last_error(), "bias_stride[2]=0");
                failed += !ok;
                printf("%s bias over queries refused: %s: %s\n", ok ? "ok  " : "FAIL", effgen_status_name(st),
                       effgen_last_error());
                continue;
            }
            char what[96];
            snprintf(what, sizeof what, "bias broadcast %d causal=%d softcap=%g alibi=%d", c->bcast, c->causal,
                     (double)c->softcap, c->alibi);
            failed += report(what, c->config, &p, st, &r);
        }
    }
    /* the bit mask (random bits, pct percent visible; 0 and 100 hide and show every key), alone and with
     * causal, softcap, a window, GQA, a block-sparse table and a bias, on every tile shape of the family;
     * rows that see no key must come out 0 with LSE -inf */
    if (want("mask")) {
        typedef struct mcase {
            int d, causal, pct, window, kv_heads, bsparse, bias;
            float softcap;
            const char *config;
            int bcast; /* one mask for the whole batch */
        } mcase;
        static const mcase mcases[] = {
            {128, 0, 50, 0, 0, 0, 0, 0.f, "wg.bm128.bn128.c2.s2", 0},
            {128, 1, 10, 0, 0, 0, 0, 0.f, "wg.bm128.bn64.c2.s2", 0},
            {64, 0, 70, 0, 0, 0, 0, 1.f, "wg.bm192.bn64.c3.s2", 0},
            {256, 1, 30, 0, 0, 0, 0, 0.f, "wg.bm128.bn64.c2.s2", 0},
            {96, 0, 40, 1, 2, 0, 0, 0.f, "wg.bm64.bn64.c1.s2", 0},
            {128, 1, 60, 0, 0, 1, 0, 2.f, "wg.bm128.bn128.c2.s3", 0},
            {64, 1, 0, 0, 0, 0, 0, 0.f, "wg.bm128.bn128.c2.s2", 0},   /* every key hidden but in the rows shown whole */
            {128, 0, 100, 0, 0, 0, 0, 0.f, "wg.bm128.bn128.c2.s2", 0}, /* every key shown but in the rows hidden whole */
            {128, 1, 50, 0, 0, 0, 1, 0.f, "wg.bm128.bn64.c2.s2", 0},
            {192, 0, 50, 1, 0, 0, 0, 0.f, "wg.bm128.bn64.c2.s2", 0},
            {128, 1, 40, 0, 0, 0, 1, 0.f, "wg.bm128.bn128.c2.s2", 1},
        };
        for (int i = 0; i < (int)(sizeof mcases / sizeof mcases[0]); i++, k++) {
            const mcase *c = &mcases[i];
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, 2, 4, 700, 1000, c->d, c->causal,
                            EFFGEN_CAUSAL_BOTTOM_RIGHT, i % 3 == 2, 0.f, c->window, 150, 40, c->softcap, 0,
                            c->kv_heads};
            eg_ext_opts o;
            memset(&o, 0, sizeof o);
            o.mask = 1, o.mask_pct = c->pct, o.mask_bcast = c->bcast;
            if (c->bsparse) o.bsparse = 1, o.bs_block = 128, o.bsparse_pct = 30;
            if (c->bias) o.bias = 1, o.bias_bcast = 1;
            total++;
            eg_check_result r;
            st = check_drawn(ctx, &p, &o, c->config, 9000u + (unsigned)k, &r);
            char what[128];
            snprintf(what, sizeof what, "mask %d%%%s causal=%d window=%d kv=%d bsparse=%d bias=%d softcap=%g", c->pct,
                     c->bcast ? " (one for the batch)" : "", c->causal, c->window, c->kv_heads, c->bsparse, c->bias,
                     (double)c->softcap);
            failed += report(what, c->config, &p, st, &r);
        }
    }
    /* user expressions (score_mod, mask_mod): tensors of f32, i32, bf16 and bool, with causal, GQA/MQA, the
     * built-in window, softcap and ALiBi, and varlen, on every tile shape of the family; score + E (added
     * to the accumulators before S = Q K^T) and other score expressions (in the softmax; score + E too
     * under softcap, which comes first); a mask expression hiding every third row wholly (those rows: O = 0,
     * LSE = -inf); masks whose key tiles the interval classification skips or takes whole; the model's choice
     * for an expression spec must be a wg config */
    if (want("expr")) {
        static const xcase xcases[] = {
            {128, 0, 0, 0, 0, 0, 0.f, "score + t5[h, min(max(q - k, -8), 8) + 8]", NULL, {"t5:f32:Hx17"},
             "wg.bm128.bn128.c2.s2"},
            {64, 1, 0, 0, 0, 0, 0.f, NULL, "doc[b, q] == doc[b, k]", {"doc:i32:BxM"}, "wg.bm64.bn64.c1.s2"},
            {192, 1, 2, 0, 0, 0, 0.f, "20 * tanh(score / 20)", "q + nk - nq - k < 100", {NULL}, "wg.bm128.bn64.c2.s2"},
            {96, 0, 0, 0, 0, 0, 0.f, "score - 0.25 * abs(q + nk - nq - k) * (h + 1) * 0.125", NULL, {NULL},
             "wg.bm192.bn64.c3.s2"},
            {128, 0, 0, 1, 0, 0, 0.f, NULL, "k < 16 || k <= q", {NULL}, "wg.bm128.bn64.c2.s3"},
            {64, 1, 1, 1, 0, 0, 0.f, "score * 0.5 + h", NULL, {NULL}, "wg.bm128.bn128.c2.s2"},
            {192, 0, 0, 0, 1, 0, 0.f, "score + bias[b, h, q, k]", "keep[b, q] || k % 3 == 0",
             {"bias:bf16:BxHxQxK", "keep:bool:BxQ"}, "wg.bm128.bn64.c2.s2"},
            {128, 1, 0, 0, 0, 0, 0.f, NULL, "q % 3 != 0 || k < 0", {NULL}, "wg.bm128.bn64.c2.s2"},
            {128, 1, 2, 0, 0, 0, 0.f, "score + t5[h, min(max(q - k, -8), 8) + 8]", "doc[b, q] == doc[b, k]",
             {"t5:f32:Hx17", "doc:i32:BxM"}, NULL},
            {72, 0, 0, 0, 0, 0, 0.f, "score * 0.5", "q >= k - 50", {NULL}, "wg.bm128.bn64.c2.s2"},
            {128, 1, 0, 0, 0, 0, 2.f, "score + t5[h, min(max(q - k, -8), 8) + 8]", NULL, {"t5:f32:Hx17"},
             "wg.bm128.bn128.c2.s2"},
            {256, 1, 2, 0, 1, 1, 0.f, "h - score", NULL, {NULL}, NULL},
            {64, 0, 0, 1, 0, 1, 0.f, "score + bias[h, q, k] * 2", NULL, {"bias:f32:HxQxK"}, "wg.bm192.bn64.c3.s2"},
            /* masks whose tiles the interval classification decides: skipped when hidden for a work tile,
             * not evaluated where a warp's rows see all or nothing; whole work tiles hidden */
            {128, 0, 0, 0, 0, 0, 0.f, NULL, "q + nk - nq >= k && q + nk - nq - k < 200", {NULL}, "wg.bm128.bn64.c2.s2"},
            {64, 0, 0, 1, 0, 0, 0.f, NULL, "k < 16 || q - k >= 0 && q - k < 64", {NULL}, "wg.bm128.bn64.c2.s3"},
            {128, 0, 0, 0, 0, 0, 0.f, NULL, "q < 300 || k >= 2000", {NULL}, "wg.bm128.bn64.c2.s2"},
            {96, 1, 2, 0, 0, 0, 0.f, "score + t5[h, min(max(q - k, -8), 8) + 8]", "q + nk - nq - k < 300",
             {"t5:f32:Hx17"}, NULL},
            {64, 0, 0, 0, 0, 0, 0.f, NULL, "abs(q + nk - nq - k) > 100 && doc[b, k] >= 0", {"doc:i32:BxM"},
             "wg.bm64.bn64.c1.s2"},
            /* hidden key tiles between visible ones (the walk over runs of tiles), chunks, varlen */
            {128, 0, 0, 0, 0, 0, 0.f, NULL, "(k / 64) % 3 != 1 && q + nk - nq >= k", {NULL}, "wg.bm128.bn64.c2.s2"},
            {64, 1, 0, 0, 0, 0, 0.f, NULL, "(q + nk - nq) / 256 == k / 256", {NULL}, "wg.bm64.bn64.c1.s3"},
            {128, 0, 2, 1, 0, 0, 0.f, "score * 0.5", "(k / 128) % 2 == 0 || q < 50", {NULL}, "wg.bm128.bn64.c2.s3"},
            {96, 0, 0, 0, 0, 0, 0.f, NULL, "k / 64 % 4 == 3", {NULL}, NULL},
        };
        for (int i = 0; i < (int)(sizeof xcases / sizeof xcases[0]); i++, k++) {
            const xcase *c = &xcases[i];
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, c->varlen ? 5 : 2, 4, 700, 1000, c->d, c->causal,
                            EFFGEN_CAUSAL_BOTTOM_RIGHT, i % 3 == 2, 0.f, c->window, 150, 40, c->softcap, c->alibi,
                            c->kv_heads};
            total++;
            eg_check_result r;
            st = check_expr(ctx, &p, c, 12000u + (unsigned)k, &r);
            char what[192];
            snprintf(what, sizeof what, "%s%s%s causal=%d kv=%d varlen=%d window=%d alibi=%d softcap=%g",
                     c->score ? c->score : "", c->score && c->mask ? " | " : "", c->mask ? c->mask : "", c->causal,
                     c->kv_heads, c->varlen, c->window, c->alibi, (double)c->softcap);
            failed += report(what, c->config ? c->config : "model", &p, st, &r);
            if (!st && !c->config && strncmp(r.config, "wg.", 3)) {
                failed++;
                printf("FAIL expressions on the model's choice: config %s, expected the wg family\n", r.config);
            }
        }
    }
    /* refused combinations on the right device: registers, variants */
    if (want("refusals")) {
        effgen_attn_args a;
        effgen_attn_args_init(&a);
        char spec[128], config[64];
        a.batch = 1, a.heads = 1, a.seqlen_q = 64, a.seqlen_k = 64, a.head_dim = 128;
        a.q = a.k = a.v = (const void *)(uintptr_t)0x10000;
        a.o = (void *)(uintptr_t)0x20000;
        a.config = "wg.bm192.bn128.c3.s2";
        st = effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config);
        total++;
        if (st != EFFGEN_RESOURCES || !strstr(effgen_last_error(), "registers")) {
            failed++;
            printf("FAIL three consumers of 128-key tiles at head_dim 128: %s: %s\n", effgen_status_name(st),
                   effgen_last_error());
        }
    }
    /* varlen: packed sequences of drawn lengths (zero-length ones among them, keys drawn apart from the
     * queries), alone and with causal (both diagonals), window, GQA/MQA, ALiBi and softcap, on the family's
     * tile shapes; work tiles past a sequence's end write nothing, and a tile reaching into the next
     * sequence must not read its keys. The last case runs the model's choice, which must be a wg config:
     * varlen problems are the family's on sm_90a. */
    if (want("varlen")) {
        typedef struct vcase {
            int d, causal;
            effgen_causal_align align;
            int window, wl, wr;
            float softcap;
            int alibi, batch, heads, kv_heads, len_min, len_max;
            const char *config;
        } vcase;
        static const vcase vcases[] = {
            {128, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 0, 7, 4, 0, 0, 300, "wg.bm128.bn128.c2.s2"},
            {128, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 0, 7, 4, 0, 0, 300, "wg.bm128.bn64.c2.s3"},
            {64, 1, EFFGEN_CAUSAL_TOP_LEFT, 0, 0, 0, 0.f, 0, 7, 8, 2, 0, 300, "wg.bm192.bn64.c3.s2"},
            {256, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 1.5f, 0, 7, 4, 0, 0, 300, "wg.bm128.bn64.c2.s2"},
            {96, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 100, 0, 0.f, 1, 7, 4, 0, 0, 300, "wg.bm128.bn128.c2.s2"},
            {72, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 64, 32, 0.f, 0, 7, 4, 0, 0, 300, "wg.bm64.bn64.c1.s2"},
            {64, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 1, 9, 4, 1, 1, 64, "wg.bm128.bn128.c2.s2"},
            {128, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 0, 24, 16, 0, 0, 1000, NULL},
        };
        for (int i = 0; i < (int)(sizeof vcases / sizeof vcases[0]); i++, k++) {
            const vcase *c = &vcases[i];
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, c->batch, c->heads, 1, 1, c->d, c->causal,
                            c->align, 0, 0.f, c->window, c->wl, c->wr, c->softcap, c->alibi, c->kv_heads};
            eg_ext_opts o;
            memset(&o, 0, sizeof o);
            o.varlen = 1, o.len_min = c->len_min, o.len_max = c->len_max, o.keys_differ = 1;
            total++;
            eg_check_result r;
            st = check_drawn(ctx, &p, &o, c->config, 11000u + (unsigned)k, &r);
            char what[128];
            snprintf(what, sizeof what, "varlen %d..%d causal=%d%s window=%d(%d,%d) softcap=%g alibi=%d kv=%d",
                     c->len_min, c->len_max, c->causal, c->align == EFFGEN_CAUSAL_TOP_LEFT ? "(tl)" : "", c->window,
                     c->wl, c->wr, (double)c->softcap, c->alibi, c->kv_heads);
            failed += report(what, c->config ? c->config : "model", &p, st, &r);
            if (!st && !c->config && strncmp(r.config, "wg.", 3)) {
                failed++;
                printf("FAIL varlen on the model's choice: config %s, expected the wg family\n", r.config);
            }
        }
    }
    effgen_close(ctx);

    /* The persistent grid (the default; EFFGEN_WG_PERSISTENT=0, read when a context opens, turns it off):
     * more work tiles than the device has SMs, so every CTA draws several from the counter and loads one
     * tile's K and V while finishing another; causal tiles of falling weight; with more queries than keys
     * under a bottom-right diagonal, tiles no key is visible from (O = 0, LSE = -inf, passed on with no
     * load). The cases run one after another on one stream, so each finds the counter pair the last one
     * left: one not returned to zero would skip tiles and leave poison. The same cases with one CTA per
     * tile, the grid the family falls back to. */
    for (int mode = 0; mode < 2 && want("persistent"); mode++) {
        if (mode == 0)
            unsetenv("EFFGEN_WG_PERSISTENT");
        else
            setenv("EFFGEN_WG_PERSISTENT", "0", 1);
        effgen_ctx *pctx = NULL;
        if (effgen_open(&pctx, &opt) != EFFGEN_OK || eg_rt_device(pctx, &cu) != EFFGEN_OK) {
            printf("FAIL: context (EFFGEN_WG_PERSISTENT=%s): %s\n", mode ? "0" : "unset", effgen_last_error());
            effgen_close(pctx);
            return 1;
        }
        typedef struct pcase {
            int d;
            const char *config;
            int causal, window, wl, wr, nq, nk;
        } pcase;
        static const pcase pcases[] = {
            {64, "wg.bm192.bn128.c3.s2", 0, 0, 0, 0, 400, 500},    {128, "wg.bm128.bn128.c2.s2", 1, 0, 0, 0, 400, 500},
            {256, "wg.bm128.bn64.c2.s2", 0, 0, 0, 0, 400, 500},    {96, "wg.bm128.bn128.c2.s3", 0, 1, 64, 64, 400, 500},
            {128, "wg.bm128.bn64.c2.s2", 1, 1, 255, 0, 400, 500},  {72, "wg.bm64.bn64.c1.s2", 0, 0, 0, 0, 400, 500},
            {64, "wg.bm192.bn128.c3.s2", 1, 0, 0, 0, 1000, 300},   {256, "wg.bm128.bn64.c2.s2", 1, 0, 0, 0, 700, 200},
        };
        for (int i = 0; i < (int)(sizeof pcases / sizeof pcases[0]); i++, k++) {
            const pcase *c = &pcases[i];
            /* 2 x 24 heads of 400 or more queries: 144 (three consumers) to 336 (one) work tiles, above the 132
             * SMs of an H100 or H200 */
            eg_problem p = {(i % 2) ? EFFGEN_FP16 : EFFGEN_BF16, 2, 24, c->nq, c->nk, c->d, c->causal,
                            EFFGEN_CAUSAL_BOTTOM_RIGHT, i % 2, 0.f, c->window, c->wl, c->wr, 0.f, 0, 0};
            eg_check_result r;
            total++;
            st = eg_check(pctx, &p, c->config, 9000u + (unsigned)k, &r);
            char what[128];
            snprintf(what, sizeof what, "%s causal=%d window=%d(%d,%d) nq=%d nk=%d",
                     mode ? "one CTA per tile" : "persistent", c->causal, c->window, c->wl, c->wr, c->nq, c->nk);
            failed += report(what, c->config, &p, st, &r);
        }
        effgen_close(pctx);
    }
    unsetenv("EFFGEN_WG_PERSISTENT");

    /* Strips (window kernels): a CTA walks consecutive query blocks of one head and keeps in the ring the
     * key tiles a block shares with the previous one. Strips of 1, 2 and 3 blocks, of a whole head, and the
     * launch's own choice, on the persistent grid and with one CTA per strip: windows whose neighbours
     * share as many tiles as the ring holds (the first case), fewer, and more (nothing shared), one- and
     * two-sided, blocks that see no key at a strip's start (more queries than keys, bottom-right), GQA,
     * ALiBi, a softcap, both diagonals, packed sequences, a bit mask, and score and mask expressions. */
    static const struct {
        const char *strip; /* EFFGEN_WG_STRIP, NULL: the launch's choice */
        int persistent;
    } modes[] = {{"1", 1}, {"2", 1}, {"3", 1}, {"1000", 1}, {NULL, 1}, {"3", 0}};
    for (int mode = 0; mode < (int)(sizeof modes / sizeof modes[0]) && want("walk"); mode++) {
        const char *strip = modes[mode].strip;
        if (strip)
            setenv("EFFGEN_WG_STRIP", strip, 1);
        else
            unsetenv("EFFGEN_WG_STRIP");
        if (modes[mode].persistent)
            unsetenv("EFFGEN_WG_PERSISTENT");
        else
            setenv("EFFGEN_WG_PERSISTENT", "0", 1);
        /* the strip setting as the lines below name it */
        char how[48];
        snprintf(how, sizeof how, "%s%s", strip ? strip : "auto", modes[mode].persistent ? "" : " one CTA per strip");
        effgen_ctx *wctx = NULL;
        if (effgen_open(&wctx, &opt) != EFFGEN_OK || eg_rt_device(wctx, &cu) != EFFGEN_OK) {
            printf("FAIL: context (EFFGEN_WG_STRIP=%s): %s\n", strip ? strip : "unset", effgen_last_error());
            effgen_close(wctx);
            return 1;
        }
        typedef struct wcase {
            int d;
            const char *config;
            int causal, wl, wr, nq, nk, kv_heads, alibi;
            float softcap;
            effgen_causal_align align;
        } wcase;
        static const wcase wcases[] = {
            {128, "wg.bm128.bn128.c2.s2", 1, 255, 0, 1100, 1100, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            /* without the output buffer: O staged in Q's rows */
            {128, "wg.bm128.bn128.c2.s3", 1, 255, 0, 1100, 1000, 2, 1, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            {128, "wg.bm128.bn64.c2.s4", 1, 200, 0, 900, 1000, 2, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            {96, "wg.bm128.bn64.c2.s4", 0, 100, 60, 1000, 700, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            {96, "wg.bm128.bn128.c2.s3", 1, 300, 0, 800, 800, 2, 1, 0.f, EFFGEN_CAUSAL_TOP_LEFT},
            {128, "wg.bm64.bn128.c1.s2", 1, 127, 0, 700, 1300, 0, 0, 0.5f, EFFGEN_CAUSAL_TOP_LEFT},
            {128, "wg.bm128.bn128.c2.s2", 1, 600, 0, 1000, 1000, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            {72, "wg.bm64.bn64.c1.s4", 0, 40, 40, 600, 600, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            /* head dims that do not walk (strips ignored) */
            {256, "wg.bm128.bn64.c2.s2", 0, 40, 40, 600, 600, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
            {64, "wg.bm128.bn128.c2.s3", 1, 255, 0, 900, 900, 0, 0, 0.f, EFFGEN_CAUSAL_BOTTOM_RIGHT},
        };
        for (int i = 0; i < (int)(sizeof wcases / sizeof wcases[0]); i++, k++) {
            const wcase *c = &wcases[i];
            eg_problem p = {(i + mode) % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 2, 4, c->nq, c->nk, c->d, c->causal,
                            c->align, (i + mode) % 2, 0.f, 1, c->wl, c->wr, c->softcap, c->alibi, c->kv_heads};
            eg_check_result r;
            total++;
            st = eg_check(wctx, &p, c->config, 13000u + (unsigned)k, &r);
            char what[128];
            snprintf(what, sizeof what, "strip=%s causal=%d%s window=(%d,%d) softcap=%g alibi=%d kv=%d", how, c->causal,
                     c->align == EFFGEN_CAUSAL_TOP_LEFT ? "(tl)" : "", c->wl, c->wr, (double)c->softcap, c->alibi,
                     c->kv_heads);
            failed += report(what, c->config, &p, st, &r);
        }
        /* packed sequences of 1 to 900 queries (zero-length ones too), keys drawn apart */
        eg_problem p = {mode % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 9, 4, 1, 1, 128, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f,
                        1, 255, 0, 0.f, 0, 2};
        eg_ext_opts o;
        memset(&o, 0, sizeof o);
        o.varlen = 1, o.len_min = 0, o.len_max = 900, o.keys_differ = 1;
        total++;
        eg_check_result r;
        st = check_drawn(wctx, &p, &o, "wg.bm128.bn128.c2.s2", 14000u + (unsigned)k++, &r);
        char what[192];
        snprintf(what, sizeof what, "strip=%s varlen 0..900 causal window=(255,0) kv=2", how);
        failed += report(what, "wg.bm128.bn128.c2.s2", &p, st, &r);
        /* a bit mask (70% of keys visible) inside the window, and a score expression reading a tensor with a
         * mask expression no tile test can decide (every tile is visited) */
        eg_problem pm = {mode % 2 ? EFFGEN_BF16 : EFFGEN_FP16, 2, 4, 1100, 1100, 128, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT,
                         0, 0.f, 1, 255, 0, 0.f, 0, 0};
        memset(&o, 0, sizeof o);
        o.mask = 1, o.mask_pct = 70;
        total++;
        st = check_drawn(wctx, &pm, &o, "wg.bm128.bn128.c2.s2", 14000u + (unsigned)k++, &r);
        snprintf(what, sizeof what, "strip=%s bit mask 70%% causal window=(255,0)", how);
        failed += report(what, "wg.bm128.bn128.c2.s2", &pm, st, &r);
        static const xcase wx = {128, 1, 2, 0, 1, 0, 0.f, "score + t5[h, min(max(q - k, -8), 8) + 8]",
                                 "doc[b, q] == doc[b, k]", {"t5:f32:Hx17", "doc:i32:BxM"}, "wg.bm128.bn64.c2.s4"};
        /* (documents of about 8 tokens: top-left, so that every row sees its own document's keys) */
        eg_problem px = {mode % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 2, 4, 1100, 1100, 128, 1, EFFGEN_CAUSAL_TOP_LEFT, 1,
                         0.f, 1, 255, 0, 0.f, 0, 2};
        total++;
        st = check_expr(wctx, &px, &wx, 14000u + (unsigned)k++, &r);
        snprintf(what, sizeof what, "strip=%s %s | %s causal(tl) window=(255,0) kv=2", how, wx.score, wx.mask);
        failed += report(what, wx.config, &px, st, &r);
        effgen_close(wctx);
    }
    unsetenv("EFFGEN_WG_STRIP");
    unsetenv("EFFGEN_WG_PERSISTENT");
    printf("%d passed, %d failed\n", total - failed, failed);
    if (total == 0) {
        printf("FAIL: no check ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
