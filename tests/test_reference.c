/* test_reference.c - the double-precision reference checked against a direct evaluation of
 * softmax(scale * Q K^T + mask) V written separately here (two passes over a materialised score
 * row), on random data, for both layouts and causal alignments, including rows that see no key; and
 * the 16-bit conversions against exact values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

static void check_problem(eg_problem p) {
    size_t nq = (size_t)p.batch * p.heads * p.seqlen_q * p.head_dim, nk = (size_t)p.batch * p.heads * p.seqlen_k * p.head_dim;
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
                for (int j = 0; j < p.seqlen_k; j++) {
                    int vis = !p.causal ||
                              (p.align == EFFGEN_CAUSAL_TOP_LEFT ? j <= i : j <= i + p.seqlen_k - p.seqlen_q);
                    double s = 0;
                    for (int d = 0; d < p.head_dim; d++)
                        s += val(&p, q, p.seqlen_q, b, h, i, d) * val(&p, k, p.seqlen_k, b, h, j, d);
                    sc[j] = vis ? s * scale : -INFINITY;
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
                        want += exp(sc[j] - m) / l * val(&p, v, p.seqlen_k, b, h, j, d);
                    double got = o[b * so[0] + h * so[1] + (int64_t)i * so[2] + d];
                    double e = fabs(got - want);
                    if (!(e <= worst)) worst = e;
                }
            }
    CHECK(worst < 1e-12, "d%d nq=%d nk=%d causal=%d align=%d bnhd=%d: max error %g", p.head_dim, p.seqlen_q,
          p.seqlen_k, p.causal, (int)p.align, p.bnhd, worst);
    free(q);
    free(k);
    free(v);
    free(o);
    free(lse);
    free(sc);
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
        {EFFGEN_BF16, 2, 3, 17, 17, 16, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0},
        {EFFGEN_FP16, 1, 2, 9, 31, 24, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 1, 0},
        {EFFGEN_BF16, 1, 2, 31, 9, 8, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.3f}, /* rows 0..21 see no key */
        {EFFGEN_BF16, 2, 1, 31, 9, 8, 1, EFFGEN_CAUSAL_TOP_LEFT, 1, 0},
        {EFFGEN_FP16, 1, 1, 1, 1, 32, 1, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0},
    };
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) check_problem(ps[i]);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
