/* test_reference.c - the double-precision reference checked against a direct evaluation of
 * softmax(mod(scale * Q K^T) + mask) V written separately here (two passes over a materialised score
 * row), on random data, for both layouts and causal alignments, the variants (window, softcap, ALiBi,
 * GQA) alone and combined, including rows that see no key; and the 16-bit conversions against exact
 * values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

static int failures;
#define CHECK(c, ...)                                                   \
    do {                                                                \
        if (!(c)) {                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                 \
            printf(__VA_ARGS__);                                        \
            printf("\n");                                               \
            failures++;                                                 \
        }                                                               \
    } while (0)

static double val(const eg_problem *p, const uint16_t *x, int n, int b, int h, int i, int d) {
    int64_t st[3];
    eg_problem_strides(p, n, st);
    return eg_to_f32(p->dtype, x[b * st[0] + h * st[1] + (int64_t)i * st[2] + d]);
}

/* An element of K or V: kv_heads heads (0: heads). */
static double kv_val(const eg_problem *p, const uint16_t *x, int b, int hk, int j, int d) {
    eg_problem kp = *p;
    if (p->kv_heads) kp.heads = p->kv_heads;
    return val(&kp, x, p->seqlen_k, b, hk, j, d);
}

static void check_problem(eg_problem p) {
    int kvh = p.kv_heads ? p.kv_heads : p.heads;
    size_t nq = (size_t)p.batch * p.heads * p.seqlen_q * p.head_dim, nk = (size_t)p.batch * kvh * p.seqlen_k * p.head_dim;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2);
    double *o = malloc(nq * sizeof(double)), *lse = malloc(sizeof(double) * p.batch * p.heads * p.seqlen_q);
    double *sc = malloc(sizeof(double) * p.seqlen_k);
    eg_fill_random(p.dtype, q, nq, 1);
    eg_fill_random(p.dtype, k, nk, 2);
    eg_fill_random(p.dtype, v, nk, 3);
    eg_ref_attention(&p, q, k, v, o, lse, 3);
    double scale = p.scale > 0 ? p.scale : 1 / sqrt((double)p.head_dim);
    int64_t so[3];
    eg_problem_strides(&p, p.seqlen_q, so);
    double worst = 0;
    for (int b = 0; b < p.batch; b++)
        for (int h = 0; h < p.heads; h++)
            for (int i = 0; i < p.seqlen_q; i++) {
                double m = -INFINITY;
                int hk = h / (p.heads / kvh);
                int diag = p.align == EFFGEN_CAUSAL_TOP_LEFT ? i : i + p.seqlen_k - p.seqlen_q;
                for (int j = 0; j < p.seqlen_k; j++) {
                    int vis = !p.causal || j <= diag;
                    if (p.window && p.window_left >= 0 && j < diag - p.window_left) vis = 0;
                    if (p.window && p.window_right >= 0 && j > diag + p.window_right) vis = 0;
                    double s = 0;
                    for (int d = 0; d < p.head_dim; d++)
                        s += val(&p, q, p.seqlen_q, b, h, i, d) * kv_val(&p, k, b, hk, j, d);
                    s *= scale;
                    if (p.softcap > 0) s = p.softcap * tanh(s / p.softcap);
                    if (p.alibi) s -= (double)(float)pow(2.0, -8.0 * (h + 1) / p.heads) * abs(diag - j);
                    sc[j] = vis ? s : -INFINITY;
                    if (sc[j] > m) m = sc[j];
                }
                double l = 0;
                for (int j = 0; j < p.seqlen_k; j++) l += m == -INFINITY ? 0 : exp(sc[j] - m);
                double want_lse = l > 0 ? m + log(l) : -INFINITY;
                double got_lse = lse[((size_t)b * p.heads + h) * p.seqlen_q + i];
                if (isinf(want_lse))
                    CHECK(isinf(got_lse) && got_lse < 0, "row %d lse %g, want -inf", i, got_lse);
                else
                    CHECK(fabs(got_lse - want_lse) < 1e-9, "row %d lse %g, want %g", i, got_lse, want_lse);
                for (int d = 0; d < p.head_dim; d++) {
                    double want = 0;
                    for (int j = 0; j < p.seqlen_k && l > 0; j++)
                        want += exp(sc[j] - m) / l * kv_val(&p, v, b, hk, j, d);
                    double got = o[b * so[0] + h * so[1] + (int64_t)i * so[2] + d];
                    double e = fabs(got - want);
                    if (!(e <= worst)) worst = e;
                }
            }
    CHECK(worst < 1e-12,
          "d%d nq=%d nk=%d causal=%d align=%d bnhd=%d window=%d(%d,%d) softcap=%g alibi=%d kv_heads=%d: max error %g",
          p.head_dim, p.seqlen_q, p.seqlen_k, p.causal, (int)p.align, p.bnhd, p.window, p.window_left, p.window_right,
          (double)p.softcap, p.alibi, p.kv_heads, worst);
    free(q);
    free(k);
    free(v);
    free(o);
    free(lse);
    free(sc);
}

/* The variant tensors (varlen, bias, mask, block-sparse) against a direct evaluation written from their
 * documented meaning: every (sequence, head, row) materialises its score row with -inf where hidden. */
static void check_ext(eg_problem p, const eg_ext_opts *eo, uint64_t seed, const char *what) {
    eg_problem_ext x;
    if (eg_problem_ext_make(&p, &x, eo, seed) != EFFGEN_OK) {
        CHECK(0, "%s: ext_make failed", what);
        return;
    }
    int vl = x.cu_q != NULL, kvh = p.kv_heads ? p.kv_heads : p.heads, D = p.head_dim;
    size_t nq = eg_problem_q_elems(&p, &x), nk = eg_problem_k_elems(&p, &x);
    size_t rows = nq / (size_t)D;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2);
    double *o = malloc(nq * sizeof(double)), *lse = malloc(rows * sizeof(double));
    double *sc = malloc(sizeof(double) * p.seqlen_k);
    eg_fill_random(p.dtype, q, nq, seed + 1);
    eg_fill_random(p.dtype, k, nk, seed + 2);
    eg_fill_random(p.dtype, v, nk, seed + 3);
    for (size_t i = 0; i < nq; i++) o[i] = NAN;
    eg_ref_attention_ext(&p, &x, q, k, v, o, lse, 2);
    double scale = p.scale > 0 ? p.scale : 1 / sqrt((double)D), worst = 0;
    long empty = 0, visible = 0;
    for (int b = 0; b < p.batch; b++)
        for (int h = 0; h < p.heads; h++) {
            int sq = vl ? x.cu_q[b + 1] - x.cu_q[b] : p.seqlen_q, sk = vl ? x.cu_k[b + 1] - x.cu_k[b] : p.seqlen_k;
            int q0 = vl ? x.cu_q[b] : 0, k0 = vl ? x.cu_k[b] : 0, hk = h / (p.heads / kvh);
            for (int i = 0; i < sq; i++) {
                /* element offsets: packed [tokens][heads][D] under varlen, else B,H,N,D */
                int64_t qo = vl ? ((int64_t)(q0 + i) * p.heads + h) * D : (((int64_t)b * p.heads + h) * p.seqlen_q + i) * D;
                int diag = p.align == EFFGEN_CAUSAL_TOP_LEFT ? i : i + sk - sq;
                double m = -INFINITY;
                for (int j = 0; j < sk; j++) {
                    int64_t ko = vl ? ((int64_t)(k0 + j) * kvh + hk) * D : (((int64_t)b * kvh + hk) * p.seqlen_k + j) * D;
                    int vis = !p.causal || j <= diag;
                    if (x.mask) {
                        uint32_t w = x.mask[b * x.mask_stride[0] + h * x.mask_stride[1] + i * x.mask_stride[2] + j / 32];
                        if (!(w & (1u << (j % 32)))) vis = 0;
                    }
                    if (x.bs_row) {
                        const int32_t *row = x.bs_row + b * x.bs_row_stride[0] + h * x.bs_row_stride[1];
                        const int32_t *col = x.bs_col + b * x.bs_col_stride[0] + h * x.bs_col_stride[1];
                        int listed = 0;
                        for (int e = row[i / x.bs_block_q]; e < row[i / x.bs_block_q + 1]; e++)
                            listed |= col[e] == j / x.bs_block_k;
                        if (!listed) vis = 0;
                    }
                    double s = 0;
                    for (int d = 0; d < D; d++) s += eg_to_f32(p.dtype, q[qo + d]) * eg_to_f32(p.dtype, k[ko + d]);
                    s *= scale;
                    if (p.softcap > 0) s = p.softcap * tanh(s / p.softcap);
                    if (x.bias)
                        s += eg_to_f32(p.dtype, x.bias[b * x.bias_stride[0] + h * x.bias_stride[1] + i * x.bias_stride[2] + j]);
                    sc[j] = vis ? s : -INFINITY;
                    visible += vis;
                    if (sc[j] > m) m = sc[j];
                }
                double l = 0;
                for (int j = 0; j < sk; j++) l += m == -INFINITY ? 0 : exp(sc[j] - m);
                size_t lr = vl ? (size_t)h * p.seqlen_q + q0 + i : ((size_t)b * p.heads + h) * p.seqlen_q + i;
                if (l == 0) {
                    empty++;
                    CHECK(isinf(lse[lr]) && lse[lr] < 0, "%s: row %d lse %g, want -inf", what, i, lse[lr]);
                } else {
                    CHECK(fabs(lse[lr] - (m + log(l))) < 1e-9, "%s: row %d lse %g, want %g", what, i, lse[lr], m + log(l));
                }
                for (int d = 0; d < D; d++) {
                    double want = 0;
                    for (int j = 0; j < sk && l > 0; j++) {
                        int64_t vo = vl ? ((int64_t)(k0 + j) * kvh + hk) * D : (((int64_t)b * kvh + hk) * p.seqlen_k + j) * D;
                        want += exp(sc[j] - m) / l * eg_to_f32(p.dtype, v[vo + d]);
                    }
                    double e = fabs(o[qo + d] - want);
                    if (!(e <= worst)) worst = e;
                }
            }
        }
    CHECK(worst < 1e-12, "%s: max error %g", what, worst);
    CHECK(visible > 0, "%s: nothing visible", what);
    /* the FLOP count is the visible pairs (a bias alone keeps the peers' dense / causal count) */
    CHECK(!(x.cu_q || x.mask || x.bs_row) || eg_problem_flops_ext(&p, &x) == 4.0 * D * (double)visible, "%s: flops %g, want %g", what,
          eg_problem_flops_ext(&p, &x), 4.0 * D * (double)visible);
    printf("%s: max error %.1e, %ld rows with no visible key\n", what, worst, empty);
    free(q), free(k), free(v), free(o), free(lse), free(sc);
    eg_problem_ext_free(&x);
}

static void ext_cases(void) {
    eg_problem base = {EFFGEN_BF16, 5, 4, 0, 0, 24, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 0, 0};
    /* varlen: lengths 0..40 with keys drawn apart (empty sequences, nq > nk and nq < nk), causal both ways,
     * GQA */
    eg_ext_opts vo = {1, 0, 40, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_ext(base, &vo, 11, "varlen");
    eg_problem c = base;
    c.causal = 1, c.kv_heads = 2;
    check_ext(c, &vo, 12, "varlen + causal + gqa");
    c.align = EFFGEN_CAUSAL_TOP_LEFT, c.dtype = EFFGEN_FP16;
    check_ext(c, &vo, 13, "varlen + causal_tl + gqa");
    /* bias: full, broadcast over batch and heads, over queries; with causal and softcap */
    eg_problem d = base;
    d.batch = 2, d.seqlen_q = 19, d.seqlen_k = 27;
    eg_ext_opts bo = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    check_ext(d, &bo, 21, "bias");
    bo.bias_bcast = 3;
    d.causal = 1;
    check_ext(d, &bo, 22, "bias (broadcast b, h) + causal");
    bo.bias_bcast = 4;
    d.softcap = 0.8f;
    check_ext(d, &bo, 23, "bias (broadcast i) + causal + softcap");
    /* mask, alone and with causal; rows of the mask that see nothing */
    eg_problem e = base;
    e.batch = 2, e.seqlen_q = 29, e.seqlen_k = 70;
    eg_ext_opts mo = {0, 0, 0, 0, 0, 0, 1, 40, 0, 0, 0, 0, 0};
    check_ext(e, &mo, 31, "mask 40%");
    e.causal = 1;
    check_ext(e, &mo, 32, "mask 40% + causal");
    mo.mask_bcast = 1;
    check_ext(e, &mo, 33, "mask 40% (one for the batch) + causal");
    /* block-sparse at 16x16 blocks, shared and per head, with causal and softcap */
    eg_problem f = base;
    f.batch = 2, f.seqlen_q = 70, f.seqlen_k = 90;
    eg_ext_opts so = {0, 0, 0, 0, 0, 0, 0, 0, 1, 16, 20, 0, 0};
    check_ext(f, &so, 41, "bsparse");
    so.bs_per_head = 1;
    f.causal = 1, f.softcap = 1.2f;
    check_ext(f, &so, 42, "bsparse per head + causal + softcap");
    /* all of them at once */
    eg_ext_opts all = {1, 0, 50, 1, 1, 2, 1, 60, 1, 16, 30, 1, 0};
    eg_problem g = base;
    g.causal = 1, g.kv_heads = 1;
    check_ext(g, &all, 51, "varlen + bias + mask + bsparse + causal + mqa");
}

/* The reference of (p1, x1) and of (p2, x2) on the same random inputs; the largest output and LSE
 * differences (NaN in either counts as infinite). */
static double ref_diff(eg_problem p1, eg_problem_ext *x1, eg_problem p2, eg_problem_ext *x2, uint64_t seed) {
    size_t nq = eg_problem_q_elems(&p1, x1), nk = eg_problem_k_elems(&p1, x1), rows = nq / (size_t)p1.head_dim;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2);
    double *o1 = malloc(nq * 8), *o2 = malloc(nq * 8), *l1 = malloc(rows * 8), *l2 = malloc(rows * 8), worst = 0;
    eg_fill_random(p1.dtype, q, nq, seed + 1);
    eg_fill_random(p1.dtype, k, nk, seed + 2);
    eg_fill_random(p1.dtype, v, nk, seed + 3);
    for (size_t i = 0; i < nq; i++) o1[i] = o2[i] = NAN;
    eg_ref_attention_ext(&p1, x1, q, k, v, o1, l1, 2);
    eg_ref_attention_ext(&p2, x2, q, k, v, o2, l2, 2);
    for (size_t i = 0; i < nq; i++) {
        double d = fabs(o1[i] - o2[i]);
        if (isnan(d)) d = INFINITY;
        if (d > worst) worst = d;
    }
    for (size_t i = 0; i < rows; i++) {
        double d = l1[i] == l2[i] ? 0 : fabs(l1[i] - l2[i]);
        if (isnan(d)) d = INFINITY;
        if (d > worst) worst = d;
    }
    free(q), free(k), free(v), free(o1), free(o2), free(l1), free(l2);
    return worst;
}

/* User expressions in the reference: each agrees with the built-in variant it restates (ALiBi, a causal
 * sliding window, the bias tensor), applies where the built-in is absent (a changed score differs), and an
 * index outside a tensor's sizes makes the output NaN. */
static void expr_cases(void) {
    eg_problem base = {EFFGEN_BF16, 2, 4, 23, 37, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 0, 0};
    eg_ext_opts none;
    memset(&none, 0, sizeof none);
    /* ALiBi: the expression with the slopes as a tensor equals the built-in (q sits at q + nk - nq) */
    for (int causal = 0; causal < 2; causal++) {
        eg_problem a = base, e = base;
        a.alibi = 1, a.causal = e.causal = causal;
        eg_problem_ext xa, xe;
        eg_problem_ext_make(&a, &xa, &none, 1);
        eg_problem_ext_make(&e, &xe, &none, 1);
        CHECK(eg_problem_ext_add_tensor(&xe, "slopes:f32:4", 3) == EFFGEN_OK, "add slopes: %s", effgen_last_error());
        eg_alibi_slopes(4, (float *)(uintptr_t)xe.xt[0].data);
        xe.score_mod = "score - slopes[h] * abs(q + nk - nq - k)";
        double d = ref_diff(a, &xa, e, &xe, 100 + (uint64_t)causal);
        CHECK(d < 1e-12, "alibi expression vs built-in (causal %d): differs by %g", causal, d);
        /* the expression applies: another slope differs */
        xe.score_mod = "score - 2 * slopes[h] * abs(q + nk - nq - k)";
        d = ref_diff(a, &xa, e, &xe, 100 + (uint64_t)causal);
        CHECK(d > 1e-3, "a different score expression gives the same output (%g)", d);
        eg_problem_ext_free(&xa);
        eg_problem_ext_free(&xe);
    }
    /* causal sliding window of 5 keys: mask expression vs built-in window, under varlen too */
    for (int vl = 0; vl < 2; vl++) {
        eg_problem w = base, e = base;
        w.causal = 1, w.window = 1, w.window_left = 4, w.window_right = -1;
        eg_ext_opts vo = none;
        if (vl) vo.varlen = 1, vo.len_min = 0, vo.len_max = 30, vo.keys_differ = 1;
        eg_problem_ext xw, xe;
        eg_problem_ext_make(&w, &xw, &vo, 7);
        eg_problem_ext_make(&e, &xe, &vo, 7);
        xe.mask_mod = "k <= q + nk - nq && q + nk - nq - k <= 4";
        double d = ref_diff(w, &xw, e, &xe, 200 + (uint64_t)vl);
        CHECK(d < 1e-12, "window mask expression vs built-in (varlen %d): differs by %g", vl, d);
        xe.mask_mod = "k <= q + nk - nq && q + nk - nq - k <= 5";
        d = ref_diff(w, &xw, e, &xe, 200 + (uint64_t)vl);
        CHECK(d > 1e-3, "a different mask expression gives the same output (%g)", d);
        eg_problem_ext_free(&xw);
        eg_problem_ext_free(&xe);
    }
    /* the bias variant restated as a score expression reading the same bf16 tensor */
    {
        eg_problem bp = base, e = base;
        eg_ext_opts bo = none;
        bo.bias = 1;
        eg_problem_ext xb, xe;
        eg_problem_ext_make(&bp, &xb, &bo, 9);
        eg_problem_ext_make(&e, &xe, &none, 9);
        CHECK(eg_problem_ext_add_tensor(&xe, "bias:bf16:2x4x23x38", 1) == EFFGEN_OK, "add bias: %s", effgen_last_error());
        CHECK(xb.bias_elems == 2 * 4 * 23 * 38 && xb.bias_stride[2] == 38, "bias layout %zu", xb.bias_elems);
        memcpy((void *)(uintptr_t)xe.xt[0].data, xb.bias, xb.bias_elems * 2);
        xe.score_mod = "score + bias[b, h, q, k]";
        double d = ref_diff(bp, &xb, e, &xe, 300);
        CHECK(d < 1e-12, "bias expression vs built-in: differs by %g", d);
        /* an index past the tensor's sizes (k up to 36 of 38 is inside; q + 20 is not) poisons the output */
        xe.score_mod = "score + bias[b, h, q + 20, k]";
        d = ref_diff(bp, &xb, e, &xe, 300);
        CHECK(isinf(d), "an index out of range did not poison the reference (%g)", d);
        eg_problem_ext_free(&xb);
        eg_problem_ext_free(&xe);
    }
    /* document mask with an i32 tensor: each row sees only its document's keys; ids are non-decreasing */
    {
        eg_problem e = base;
        e.seqlen_k = e.seqlen_q = 40;
        eg_problem_ext xe;
        eg_problem_ext_make(&e, &xe, &none, 5);
        CHECK(eg_problem_ext_add_tensor(&xe, "doc:i32:40", 4) == EFFGEN_OK, "add doc: %s", effgen_last_error());
        const int32_t *doc = xe.xt[0].data;
        CHECK(doc[0] == 0 && doc[39] > 0, "document ids %d .. %d", doc[0], doc[39]);
        for (int i = 1; i < 40; i++) CHECK(doc[i] == doc[i - 1] || doc[i] == doc[i - 1] + 1, "doc[%d]", i);
        xe.mask_mod = "doc[q] == doc[k]";
        /* the same mask as a bit mask of the built-in variant */
        eg_problem m = e;
        eg_ext_opts mo = none;
        mo.mask = 1, mo.mask_pct = 50;
        eg_problem_ext xm;
        eg_problem_ext_make(&m, &xm, &mo, 5);
        for (int b = 0; b < e.batch; b++)
            for (int h = 0; h < e.heads; h++)
                for (int i = 0; i < 40; i++)
                    for (int w = 0; w < 2; w++) {
                        uint32_t bits = 0;
                        for (int j = 32 * w; j < 32 * w + 32 && j < 40; j++) bits |= (uint32_t)(doc[i] == doc[j]) << (j % 32);
                        xm.mask[b * xm.mask_stride[0] + h * xm.mask_stride[1] + i * xm.mask_stride[2] + w] = bits;
                    }
        double d = ref_diff(m, &xm, e, &xe, 400);
        CHECK(d < 1e-12, "document mask expression vs bit mask: differs by %g", d);
        eg_problem_ext_free(&xe);
        eg_problem_ext_free(&xm);
    }
    /* bad tensor texts */
    eg_problem_ext x;
    memset(&x, 0, sizeof x);
    CHECK(eg_problem_ext_add_tensor(&x, "doc:i64:4", 1) == EFFGEN_PARSE, "dtype i64 accepted");
    CHECK(eg_problem_ext_add_tensor(&x, "doc:i32:4x0", 1) == EFFGEN_PARSE, "size 0 accepted");
    CHECK(eg_problem_ext_add_tensor(&x, "doc", 1) == EFFGEN_PARSE, "no dtype accepted");
    CHECK(x.n_xt == 0, "a failed tensor was added");
    /* sizes named by the problem's letters (only after the last ':', so a name may hold them) */
    eg_problem ps;
    memset(&ps, 0, sizeof ps);
    ps.batch = 2, ps.heads = 3, ps.seqlen_q = 5, ps.seqlen_k = 7;
    CHECK(eg_problem_ext_add_tensor_sized(&x, &ps, "BHQK:f32:BxHxQxK", 1) == EFFGEN_OK, "sized: %s", effgen_last_error());
    CHECK(eg_problem_ext_add_tensor_sized(&x, &ps, "doc:i32:Mx4", 2) == EFFGEN_OK, "sized: %s", effgen_last_error());
    CHECK(x.n_xt == 2 && !strcmp(x.xt[0].name, "BHQK") && x.xt[0].rank == 4 && x.xt[0].sizes[0] == 2 &&
              x.xt[0].sizes[1] == 3 && x.xt[0].sizes[2] == 5 && x.xt[0].sizes[3] == 7 && x.xt[1].rank == 2 &&
              x.xt[1].sizes[0] == 7 && x.xt[1].sizes[1] == 4,
          "sized tensors: %d added", x.n_xt);
    CHECK(eg_problem_ext_add_tensor_sized(&x, &ps, "t:f32:BxZ", 3) == EFFGEN_PARSE, "unknown size letter accepted");
    CHECK(x.n_xt == 2, "a failed sized tensor was added");
    eg_problem_ext_free(&x);
}

int main(void) {
    /* conversions: exact values, rounding to nearest even, subnormals, overflow */
    CHECK(eg_f32_to_bf16(1.0f) == 0x3f80, "bf16(1)");
    CHECK(eg_f32_to_bf16(-2.5f) == 0xc020, "bf16(-2.5)");
    CHECK(eg_f32_to_bf16(1.00390625f) == 0x3f80, "bf16 ties to even (down)");
    CHECK(eg_f32_to_bf16(1.01171875f) == 0x3f82, "bf16 ties to even (up)");
    CHECK(eg_f32_to_fp16(1.0f) == 0x3c00, "fp16(1)");
    CHECK(eg_f32_to_fp16(65504.0f) == 0x7bff, "fp16 max");
    CHECK(eg_f32_to_fp16(70000.0f) == 0x7c00, "fp16 overflow to inf");
    CHECK(eg_f32_to_fp16(5.9604645e-8f) == 0x0001, "fp16 smallest subnormal");
    CHECK(eg_f32_to_fp16(1.00048828125f) == 0x3c00, "fp16 ties to even");
    CHECK(eg_fp16_to_f32(0x3555) == 0.333251953125f, "fp16 -> f32");
    for (int i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        if (((h >> 10) & 0x1f) == 0x1f) continue; /* inf / NaN */
        CHECK(eg_f32_to_fp16(eg_fp16_to_f32(h)) == h, "fp16 round trip %04x", h);
        if (((h >> 7) & 0xff) != 0xff) CHECK(eg_f32_to_bf16(eg_bf16_to_f32(h)) == h, "bf16 round trip %04x", h);
    }
    /* random inputs are not zeros and look standard-normal */
    uint16_t buf[4096];
    eg_fill_random(EFFGEN_BF16, buf, 4096, 9);
    double sum = 0, sq = 0;
    int zeros = 0;
    for (int i = 0; i < 4096; i++) {
        double x = eg_bf16_to_f32(buf[i]);
        sum += x;
        sq += x * x;
        zeros += x == 0;
    }
    CHECK(zeros < 5 && fabs(sum / 4096) < 0.1 && fabs(sq / 4096 - 1) < 0.1, "random data: mean %g, var %g, zeros %d",
          sum / 4096, sq / 4096, zeros);

    eg_problem ps[] = {
        {EFFGEN_BF16, 2, 3, 17, 17, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 0, 0},
        {EFFGEN_FP16, 1, 2, 9, 31, 24, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0, 0, 0, 0, 0.f, 0, 0},
        {EFFGEN_BF16, 1, 2, 31, 9, 8, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.3f, 0, 0, 0, 0.f, 0, 0}, /* rows 0..21 see no key */
        {EFFGEN_BF16, 2, 1, 31, 9, 8, 1, EFFGEN_CAUSAL_TOP_LEFT, 1, 0, 0, 0, 0, 0.f, 0, 0},
        {EFFGEN_FP16, 1, 1, 1, 1, 32, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 0, 0},
        /* variants: window alone, with causal, top-left, and rows outside every window (O = 0, LSE = -inf) */
        {EFFGEN_BF16, 1, 2, 23, 29, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 1, 3, 2, 0.f, 0, 0},
        {EFFGEN_FP16, 2, 1, 29, 29, 8, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0, 1, 5, -1, 0.f, 0, 0},
        {EFFGEN_BF16, 1, 2, 31, 9, 8, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 1, -1, 0, 0.f, 0, 0},
        {EFFGEN_BF16, 1, 1, 17, 40, 8, 0, EFFGEN_CAUSAL_TOP_LEFT, 0, 0, 1, 0, 4, 0.f, 0, 0},
        /* softcap (small enough to bend the scores), ALiBi with and without causal, GQA and MQA */
        {EFFGEN_BF16, 1, 2, 13, 21, 32, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.5f, 0, 0, 0, 0.7f, 0, 0},
        {EFFGEN_FP16, 1, 4, 13, 21, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0, 0, 0, 0, 0.f, 1, 0},
        {EFFGEN_BF16, 1, 3, 21, 13, 16, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 1, 0},
        {EFFGEN_BF16, 2, 4, 11, 19, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0, 0, 0, 0, 0.f, 0, 2},
        {EFFGEN_FP16, 1, 3, 11, 19, 8, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 0, 0, 0, 0.f, 0, 1},
        /* all at once */
        {EFFGEN_BF16, 2, 6, 19, 27, 24, 1, EFFGEN_CAUSAL_TOP_LEFT, 1, 0, 1, 4, 1, 1.3f, 1, 2},
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) check_problem(ps[i]);

    /* useful FLOPs: visible pairs under a window (causal sliding window of 4 keys on 6 queries: 1+2+3+4+4+4) */
    eg_problem w = {EFFGEN_BF16, 1, 1, 6, 6, 8, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0, 1, 3, 0, 0.f, 0, 0};
    CHECK(eg_problem_flops(&w) == 4.0 * 8 * 18, "window flops %g", eg_problem_flops(&w));
    w.window = 0;
    CHECK(eg_problem_flops(&w) == 4.0 * 8 * 36 / 2, "causal flops %g", eg_problem_flops(&w));
    int lo, hi;
    w.window = 1, w.causal = 0, w.window_left = -1, w.window_right = 1;
    eg_problem_key_range(&w, 2, &lo, &hi);
    CHECK(lo == 0 && hi == 3, "key range [%d, %d], want [0, 3]", lo, hi);
    ext_cases();
    expr_cases();
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
