/* test_gpu_variants.c - numeric check of the attention variants on the GPU against the double reference:
 * sliding windows (left/right extents, with and without causal, both alignments, windows narrower and
 * wider than a tile, rows outside every window), softcap, ALiBi, GQA/MQA, and their combinations, on
 * head dims with and without a 16-wide tail, bf16 and fp16, Nq != Nk, explicit small and large tiles.
 * Outputs are poisoned before each launch, so an unwritten element fails. Exit 77 without a GPU.
 * On the stand-in driver (tests/mock_cuda.c, which takes dtype and causal from EFFGEN_MOCK_DTYPE and
 * EFFGEN_MOCK_CAUSAL and computes only small launches) the cases of that dtype and causal flag and the
 * small shapes run: a CPU check of the launch parameters and of the reference's conventions, varlen
 * included (the stand-in follows cu_seqlens). The other tensor variants (bias, mask, block-sparse) and the
 * user expressions (score_mod, mask_mod) need a GPU: the stand-in does not compute them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"
#include "t_gpu.h"

typedef struct vcase {
    const char *name;
    int causal;
    effgen_causal_align align;
    int window, left, right;
    float softcap;
    int alibi;
    int heads, kv_heads; /* 0, 0: the shape's heads, no GQA */
} vcase;

typedef struct shape {
    int b, h, nq, nk;
} shape;

static const vcase cases[] = {
    {"window 64,32", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 64, 32, 0.f, 0, 0, 0},
    {"window 0,0 (diagonal only)", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0, 0, 0.f, 0, 0, 0},
    {"window -1,40 (right bound only)", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, -1, 40, 0.f, 0, 0, 0},
    {"window 100,3 top-left", 0, EFFGEN_CAUSAL_TOP_LEFT, 1, 100, 3, 0.f, 0, 0, 0},
    {"causal + window 255", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 255, 0, 0.f, 0, 0, 0},
    {"causal + window 17,-1", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 17, -1, 0.f, 0, 0, 0},
    {"causal_tl + window 5,9", 1, EFFGEN_CAUSAL_TOP_LEFT, 1, 5, 9, 0.f, 0, 0, 0},
    {"softcap 1", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 1.0f, 0, 0, 0},
    {"causal + softcap 2.5", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 2.5f, 0, 0, 0},
    {"alibi", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 1, 4, 0},
    {"causal + alibi", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 1, 4, 0},
    {"gqa 8/2", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 0, 8, 2},
    {"causal + mqa 4/1", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0.f, 0, 4, 1},
    {"causal + gqa 6/3 + window 64", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 63, 0, 0.f, 0, 6, 3},
    {"causal + softcap 1.5 + alibi", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 1.5f, 1, 4, 0},
    {"causal_tl + all variants", 1, EFFGEN_CAUSAL_TOP_LEFT, 1, 40, 2, 2.0f, 1, 4, 2},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static eg_problem make(const vcase *c, effgen_dtype t, shape s, int d, int bnhd) {
    eg_problem p = {t, s.b, c->heads ? c->heads : s.h, s.nq, s.nk, d, c->causal, c->align, bnhd, 0.f,
                    c->window, c->left, c->right, c->softcap, c->alibi, c->kv_heads};
    return p;
}

/* Launches the stand-in driver computes (larger ones it only times). */
static int small(const eg_problem *p) { return (double)p->batch * p->heads * p->seqlen_q * p->seqlen_k <= (1 << 20); }

static int run(effgen_ctx *ctx, const vcase *c, const eg_problem *p, const char *config, unsigned seed) {
    eg_check_result r;
    effgen_status st = eg_check(ctx, p, config, seed, &r);
    if (st) {
        printf("FAIL %-32s d%-3d %s %d,%d,%d,%d %s: %s (%s)\n", c->name, p->head_dim,
               p->dtype == EFFGEN_FP16 ? "fp16" : "bf16", p->batch, p->heads, p->seqlen_q, p->seqlen_k,
               config ? config : "", effgen_last_error(), effgen_status_name(st));
        return 1;
    }
    printf("%s %-32s d%-3d %s %s B,H,Nq,Nk=%d,%d,%d,%d %s rel %.2e (tol %.0e) lse %.1e unwritten %ld "
           "-inf mismatches %ld\n",
           r.pass ? "ok  " : "FAIL", c->name, p->head_dim, p->dtype == EFFGEN_FP16 ? "fp16" : "bf16",
           p->bnhd ? "bnhd" : "bhnd", p->batch, p->heads, p->seqlen_q, p->seqlen_k, r.config, r.rel_err, r.tolerance,
           r.lse_max_abs, r.unwritten, r.lse_mismatch);
    fflush(stdout);
    return !r.pass;
}

/* The tensor variants: varlen, bias, bit mask, block-sparse, alone and in the combinations asked for
 * (varlen + causal + GQA, bias + causal, block-sparse + softcap), with explicit tiles beside the model's
 * choice (48-key tiles take the mask's path for tiles that are not whole words). */
typedef struct xcase {
    const char *name;
    int causal;
    effgen_causal_align align;
    float softcap;
    int heads, kv_heads;
    eg_ext_opts o;
    const char *config;
} xcase;

static const xcase xcases[] = {
    {"varlen 0..300", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 4, 0, {1, 0, 300, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, NULL},
    {"varlen + causal + gqa 8/2", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 8, 2, {1, 0, 300, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, NULL},
    {"varlen + causal_tl + mqa", 1, EFFGEN_CAUSAL_TOP_LEFT, 0.f, 4, 1, {1, 1, 200, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     "bm64.bn32.w4.s3"},
    {"bias", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 3, 0, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, NULL},
    {"bias + causal", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 3, 0, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, NULL},
    {"bias (bcast b,h) + causal", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 3, 0, {0, 0, 0, 0, 1, 3, 0, 0, 0, 0, 0, 0, 0},
     "bm16.bn16.w1.s1"},
    {"bias (bcast i) + softcap", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1.5f, 2, 0, {0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0},
     "bm128.bn64.w8.s2"},
    {"mask 50%", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 1, 50, 0, 0, 0, 0, 0}, NULL},
    {"mask 10% + causal", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 1, 10, 0, 0, 0, 0, 0}, NULL},
    {"mask 40% (bcast b) + causal", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0,
     {0, 0, 0, 0, 0, 0, 1, 40, 0, 0, 0, 0, 1}, NULL},
    {"mask 70% on 48-key tiles", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 1, 70, 0, 0, 0, 0, 0},
     "bm64.bn48.w4.s2"},
    {"mask 30% on 16x16 tiles", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 1, 30, 0, 0, 0, 0, 0},
     "bm16.bn16.w1.s1"},
    {"bsparse 128", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 0, 0, 1, 128, 10, 0, 0}, NULL},
    {"bsparse 128 + softcap", 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 2.0f, 2, 0, {0, 0, 0, 0, 0, 0, 0, 0, 1, 128, 20, 0, 0}, NULL},
    {"bsparse 64 per head + causal + softcap", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1.0f, 3, 0,
     {0, 0, 0, 0, 0, 0, 0, 0, 1, 64, 25, 1, 0}, "bm64.bn32.w4.s3"},
    {"bsparse 32 + causal", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0.f, 2, 0, {0, 0, 0, 0, 0, 0, 0, 0, 1, 32, 30, 0, 0},
     "bm32.bn16.w2.s2"},
    {"all: varlen+bias+mask+bsparse+causal+gqa", 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1.5f, 4, 2,
     {1, 0, 400, 1, 1, 2, 1, 60, 1, 64, 30, 1, 0}, NULL},
};
#define N_XCASES ((int)(sizeof xcases / sizeof xcases[0]))

/* One line per checked case; 1 when it failed (a status other than OK, or a result off the reference). */
static int report(const char *name, int d, effgen_dtype t, const eg_problem *p, effgen_status st,
                  const eg_check_result *r) {
    const char *dt = t == EFFGEN_FP16 ? "fp16" : "bf16";
    if (st)
        printf("FAIL %-40s d%-3d %s: %s (%s)\n", name, d, dt, effgen_last_error(), effgen_status_name(st));
    else
        printf("%s %-40s d%-3d %s B,H,Nq,Nk=%d,%d,%d,%d %s rel %.2e (tol %.0e) lse %.1e unwritten %ld -inf "
               "mismatches %ld\n",
               r->pass ? "ok  " : "FAIL", name, d, dt, p->batch, p->heads, p->seqlen_q, p->seqlen_k, r->config,
               r->rel_err, r->tolerance, r->lse_max_abs, r->unwritten, r->lse_mismatch);
    fflush(stdout);
    return st ? 1 : !r->pass;
}

static int run_ext(effgen_ctx *ctx, const xcase *c, effgen_dtype t, int d, int nq, int nk, unsigned seed) {
    eg_problem p = {t, c->o.varlen ? 7 : 2, c->heads, nq, nk, d, c->causal, c->align, 0, 0.f,
                    0, 0, 0, c->softcap, 0, c->kv_heads};
    eg_problem_ext x;
    if (eg_problem_ext_make(&p, &x, &c->o, seed) != EFFGEN_OK) {
        printf("FAIL %s: %s\n", c->name, effgen_last_error());
        return 1;
    }
    eg_check_result r;
    effgen_status st = eg_check_ext(ctx, &p, &x, c->config, seed, &r);
    int bad = report(c->name, d, t, &p, st, &r);
    eg_problem_ext_free(&x);
    return bad;
}

/* User expressions (score_mod / mask_mod) against the reference: ALiBi restated as an expression (the
 * reference equals the built-in ALiBi, test_reference), a causal sliding window as a mask expression, a
 * document mask reading an i32 tensor, a T5-style bias table, expressions with causal + GQA, a mask
 * expression under varlen, on the model's tiles and explicit small and large ones. */
typedef struct ecase {
    const char *name;
    int causal, heads, kv_heads, varlen;
    const char *score, *mask;
    const char *tensors[3]; /* NAME:DTYPE:SIZES with B, H, Q, K, M (max of Q and K) for the problem's sizes */
    const char *config;
} ecase;

static const ecase ecases[] = {
    {"alibi as score_mod", 0, 4, 0, 0, "score - slopes[h] * abs(q + nk - nq - k)", NULL, {"slopes:f32:H"}, NULL},
    {"causal + alibi as score_mod", 1, 4, 0, 0, "score - slopes[h] * (q + nk - nq - k)", NULL, {"slopes:f32:H"},
     "bm64.bn32.w4.s3"},
    {"sliding window 128 as mask_mod", 0, 2, 0, 0, NULL, "k <= q + nk - nq && q + nk - nq - k < 128", {NULL}, NULL},
    {"sliding window 40 as mask_mod, 16x16", 0, 2, 0, 0, NULL, "k <= q + nk - nq && q + nk - nq - k < 40", {NULL},
     "bm16.bn16.w1.s1"},
    {"document mask (i32)", 0, 3, 0, 0, NULL, "doc[b, q] == doc[b, k]", {"doc:i32:BxM"}, NULL},
    {"t5 bias table", 0, 3, 0, 0, "score + t5[h, min(max(q - k, -8), 8) + 8]", NULL, {"t5:f32:Hx17"}, NULL},
    {"bias tensor (bf16) as score_mod", 0, 2, 0, 0, "score + bias[b, h, q, k]", NULL, {"bias:bf16:BxHxQxK"},
     "bm128.bn64.w8.s2"},
    {"causal + gqa 8/2 + softcap + document", 1, 8, 2, 0, "20 * tanh(score / 20)", "doc[b, q] == doc[b, k]",
     {"doc:i32:BxM"}, NULL},
    {"causal + mqa + t5 + window mask", 1, 4, 1, 0, "score + t5[h, min(max(q - k, -8), 8) + 8]",
     "q + nk - nq - k < 100", {"t5:f32:Hx17"}, NULL},
    {"varlen + prefix-lm mask_mod", 0, 4, 0, 1, NULL, "k < 16 || k <= q", {NULL}, NULL},
    {"varlen + causal + gqa + score_mod", 1, 4, 2, 1, "score * 0.5 + h", NULL, {NULL}, "bm64.bn32.w4.s2"},
    /* masks whose key tiles the interval classification decides: hidden tiles skipped (also between visible
     * ones), one copy stage (K and V apart), deeper rings, eight warps, varlen */
    {"chunked causal as mask_mod, one stage", 1, 2, 0, 0, NULL, "(q + nk - nq) / 128 == k / 128", {NULL},
     "bm64.bn64.w4.s1"},
    {"interleaved key blocks as mask_mod", 0, 2, 0, 0, NULL, "(k / 32) % 3 != 1 && abs(q + nk - nq - k) < 300",
     {NULL}, "bm64.bn32.w4.s3"},
    {"causal + gqa + interleaved blocks", 1, 4, 2, 0, "score * 0.5", "k / 64 % 2 == 0 || q + nk - nq - k < 64", {NULL},
     "bm128.bn64.w8.s2"},
    {"varlen + chunks as mask_mod", 0, 4, 0, 1, NULL, "q / 64 == k / 64 || k < 8", {NULL}, "bm64.bn64.w4.s2"},
};
#define N_ECASES ((int)(sizeof ecases / sizeof ecases[0]))

static int run_expr(effgen_ctx *ctx, const ecase *c, effgen_dtype t, int d, int nq, int nk, unsigned seed) {
    eg_problem p = {t, c->varlen ? 5 : 2, c->heads, nq, nk, d, c->causal, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f,
                    0, 0, 0, 0.f, 0, c->kv_heads};
    eg_ext_opts o;
    memset(&o, 0, sizeof o);
    if (c->varlen) o.varlen = 1, o.len_min = 0, o.len_max = 300, o.keys_differ = 1;
    eg_problem_ext x;
    effgen_status st = eg_problem_ext_make(&p, &x, &o, seed);
    x.score_mod = c->score;
    x.mask_mod = c->mask;
    for (int i = 0; i < 3 && c->tensors[i] && !st; i++) {
        st = eg_problem_ext_add_tensor_sized(&x, &p, c->tensors[i], seed + (unsigned)i);
        if (!st && !strncmp(c->tensors[i], "slopes:", 7))
            eg_alibi_slopes(p.heads, (float *)(uintptr_t)x.xt[x.n_xt - 1].data);
    }
    eg_check_result r;
    if (!st) st = eg_check_ext(ctx, &p, &x, c->config, seed, &r);
    int bad = report(c->name, d, t, &p, st, &r);
    eg_problem_ext_free(&x);
    return bad;
}

/* Sections, so that ctest -j runs them side by side: "scalar" (the scalar variants' first half),
 * "combos" (the second half: ALiBi, GQA and the combinations), "tiles" (explicit configs), "tensor"
 * (bias, mask, block-sparse, varlen), "expr" (user expressions); no argument runs them all. */
static const char *const sections[] = {"scalar", "combos", "tiles", "tensor", "expr"};
enum { SEC_SCALAR, SEC_COMBOS, SEC_TILES, SEC_TENSOR, SEC_EXPR, N_SECTIONS };

int main(int argc, char **argv) {
    int want[N_SECTIONS];
    for (int i = 0; i < N_SECTIONS; i++) want[i] = argc < 2;
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (int i = 0; i < N_SECTIONS; i++)
            if (!strcmp(argv[a], sections[i])) want[i] = found = 1;
        if (!found) {
            fprintf(stderr, "test_gpu_variants: unknown section '%s' (allowed: scalar, combos, tiles, tensor, expr)\n",
                    argv[a]);
            return 2;
        }
    }
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu;
    int opened = t_gpu_open(&ctx, &cu);
    if (opened) return opened;
    /* 1 key; a tile and a bit; Nq > Nk (bottom-right rows before the first key see nothing); Nk > Nq; long */
    static const shape shapes[] = {{1, 2, 1, 1}, {2, 3, 17, 17}, {1, 2, 1027, 300}, {1, 3, 300, 1027},
                                   {1, 2, 1000, 1000}, {1, 1, 2049, 2049}};
    static const int dims[] = {64, 128, 80, 256, 32, 96};
    const char *mock_dtype = getenv("EFFGEN_MOCK_DTYPE"), *mock_causal = getenv("EFFGEN_MOCK_CAUSAL");
    int mock = mock_dtype != NULL;
    effgen_dtype only_dtype = mock_dtype && !strcmp(mock_dtype, "fp16") ? EFFGEN_FP16 : EFFGEN_BF16;
    int only_causal = mock_causal ? atoi(mock_causal) : 0;
    int failed = 0, total = 0, k = 0;
    for (int ci = 0; ci < N_CASES; ci++)
        for (int di = 0; di < 2; di++)
            for (int t = 0; t < 2; t++)
                for (int si = 0; si < 6; si++, k++) {
                    if (!want[ci < N_CASES / 2 ? SEC_SCALAR : SEC_COMBOS]) continue;
                    /* the longest shape for a third of the combinations keeps the reference quick */
                    if (si == 5 && (ci + di + t) % 3) continue;
                    int d = dims[(ci + 3 * di) % 6];
                    eg_problem p = make(&cases[ci], t ? EFFGEN_FP16 : EFFGEN_BF16, shapes[si], d, k % 2);
                    if (mock && (p.dtype != only_dtype || p.causal != only_causal || di > 0 || !small(&p)))
                        continue;
                    total++;
                    failed += run(ctx, &cases[ci], &p, NULL, 5000u + (unsigned)k);
                }
    /* explicit tiles beside the model's choice: a window narrower than a tile, wider than one, crossing
     * the ring of a 3-stage pipeline; 16-row tiles put many key blocks before a window's first */
    static const char *configs[] = {"bm16.bn16.w1.s1", "bm64.bn32.w4.s3", "bm128.bn64.w8.s2", "bm64.bn128.w4.s2"};
    static const int combos[] = {0, 4, 6, 10, 13, 15};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++, k++) {
            if (!want[SEC_TILES]) continue;
            const vcase *c = &cases[combos[j]];
            shape s = {2, 2, 333, 517};
            eg_problem p = make(c, i % 2 ? EFFGEN_FP16 : EFFGEN_BF16, s, (int[]){40, 64, 128}[j % 3], j % 2);
            p.scale = 0.5f;
            /* on the mock: the two tilings that matter most for the window's first block, fewer heads */
            if (mock && (p.dtype != only_dtype || p.causal != only_causal || i % 2)) continue;
            if (mock && !small(&p)) p.batch = 1;
            total++;
            failed += run(ctx, c, &p, configs[i], 9000u + (unsigned)k);
        }
    /* The stand-in driver computes only the variants up to GQA: the tensor variants run on a GPU only. */
    if (!mock && want[SEC_TENSOR]) {
        static const int xdims[] = {64, 128, 80, 256};
        static const int xshapes[][2] = {{333, 517}, {1000, 1000}, {129, 65}};
        for (int ci = 0; ci < N_XCASES; ci++)
            for (int t = 0; t < 2; t++)
                for (int si = 0; si < 3; si++, k++) {
                    total++;
                    failed += run_ext(ctx, &xcases[ci], t ? EFFGEN_FP16 : EFFGEN_BF16, xdims[(ci + t + si) % 4],
                                      xshapes[si][0], xshapes[si][1], 7000u + (unsigned)k);
                }
    }
    /* The stand-in computes varlen: the cases with no other tensor variant, of its causal flag, on the
     * model's tiles (the wg family on its sm_90a device) and the case's own. */
    if (mock && want[SEC_TENSOR]) {
        for (int ci = 0; ci < N_XCASES; ci++) {
            const xcase *c = &xcases[ci];
            if (!c->o.varlen || c->o.bias || c->o.mask || c->o.bsparse || c->causal != only_causal) continue;
            for (int di = 0; di < 2; di++, k++) {
                total++;
                failed += run_ext(ctx, c, only_dtype, di ? 128 : 64, 0, 0, 7500u + (unsigned)k);
            }
        }
    }
    /* User expressions: compiled kernels the stand-in does not compute either. */
    if (!mock && want[SEC_EXPR]) {
        static const int edims[] = {64, 128, 80, 256};
        static const int eshapes[][2] = {{333, 517}, {1000, 1000}, {129, 65}};
        for (int ci = 0; ci < N_ECASES; ci++)
            for (int t = 0; t < 2; t++)
                for (int si = 0; si < 3; si++, k++) {
                    total++;
                    failed += run_expr(ctx, &ecases[ci], t ? EFFGEN_FP16 : EFFGEN_BF16, edims[(ci + t + si) % 4],
                                       eshapes[si][0], eshapes[si][1], 8000u + (unsigned)k);
                }
    }
    effgen_close(ctx);
    printf("%d passed, %d failed\n", total - failed, failed);
    if (total == 0) return 1; /* a filter that leaves nothing is a broken test, not a pass */
    return failed ? 1 : 0;
}
