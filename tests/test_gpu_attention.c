/* test_gpu_attention.c - numeric check of the forward kernel on the GPU against the double reference:
 * every head dim class (8 ... 256, odd multiples of 8 included), bf16 and fp16, causal (both
 * alignments) or not, Nq != Nk, lengths that are not multiples of the tile, both tensor layouts.
 * Outputs are poisoned before each launch, so an unwritten element fails. Exit 77 without a GPU. */
#include <stdio.h>

#include "tune.h"
#include "t_gpu.h"

typedef struct shape {
    int b, h, nq, nk;
} shape;

int main(void) {
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu;
    effgen_status st = EFFGEN_OK;
    int opened = t_gpu_open(&ctx, &cu);
    if (opened) return opened;
    static const int dims[] = {8, 32, 64, 80, 96, 128, 160, 192, 256};
    static const shape shapes[] = {{1, 2, 1, 1},     {2, 3, 17, 17},   {1, 2, 1000, 1000}, {2, 2, 17, 1000},
                                   {1, 3, 1000, 17}, {1, 2, 1, 4097},  {1, 1, 4097, 4097}};
    int failed = 0, total = 0, k = 0;
    for (int di = 0; di < 9; di++)
        for (int t = 0; t < 2; t++)
            for (int c = 0; c < 2; c++)
                for (int si = 0; si < 7; si++, k++) {
                    /* the largest shape for a third of the combinations keeps the reference quick */
                    if (si == 6 && (di + t + c) % 3) continue;
                    eg_problem p = {t ? EFFGEN_FP16 : EFFGEN_BF16, shapes[si].b, shapes[si].h, shapes[si].nq,
                                    shapes[si].nk, dims[di], c, (k % 3 == 2) ? EFFGEN_CAUSAL_TOP_LEFT
                                                                             : EFFGEN_CAUSAL_BOTTOM_RIGHT,
                                    k % 2, 0.f, 0, 0, 0, 0.f, 0, 0};
                    eg_check_result r;
                    total++;
                    st = eg_check(ctx, &p, NULL, 1000u + (unsigned)k, &r);
                    if (st) {
                        failed++;
                        printf("FAIL d%d %s causal=%d %d,%d,%d,%d: %s (%s)\n", p.head_dim,
                               t ? "fp16" : "bf16", c, p.batch, p.heads, p.seqlen_q, p.seqlen_k, effgen_last_error(),
                               effgen_status_name(st));
                        continue;
                    }
                    if (!r.pass) failed++;
                    printf("%s d%-3d %s causal=%d%s %s B,H,Nq,Nk=%d,%d,%d,%d %s rel %.2e (tol %.0e) lse %.1e "
                           "unwritten %ld\n",
                           r.pass ? "ok  " : "FAIL", p.head_dim, t ? "fp16" : "bf16", c,
                           c && p.align == EFFGEN_CAUSAL_TOP_LEFT ? "(top-left)" : "", p.bnhd ? "bnhd" : "bhnd",
                           p.batch, p.heads, p.seqlen_q, p.seqlen_k, r.config, r.rel_err, r.tolerance, r.lse_max_abs,
                           r.unwritten);
                }
    /* explicit configs beside the model's choice: small and large tiles, 1 to 3 stages */
    static const char *configs[] = {"bm16.bn16.w1.s1", "bm64.bn32.w4.s3", "bm128.bn64.w8.s2", "bm64.bn128.w4.s2"};
    for (int i = 0; i < 4; i++)
        for (int di = 0; di < 3; di++) {
            int d = (int[]){40, 64, 128}[di];
            eg_problem p = {i % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 2, 2, 333, 517, d, i % 2, EFFGEN_CAUSAL_BOTTOM_RIGHT,
                            di % 2, 0.5f, 0, 0, 0, 0.f, 0, 0};
            eg_check_result r;
            total++;
            st = eg_check(ctx, &p, configs[i], 7u + (unsigned)i, &r);
            if (st || !r.pass) failed++;
            printf("%s d%d config %s: %s rel %.2e\n", (st || !r.pass) ? "FAIL" : "ok  ", d, configs[i],
                   st ? effgen_last_error() : "", st ? 0.0 : r.rel_err);
        }
    /* the layout with warps in pairs (.d2): three shapes of it at head dims 64 to 256, bf16 and fp16, causal
     * or not, more queries than keys and fewer (bottom-right causal rows with no visible key included), the
     * causal ones with one K/V head for three query heads (GQA); at D = 160 and 256 the scores are scaled by
     * 3, so that row maxima keep moving past the first key tile (the pair's second exchange) */
    static const char *pconfigs[] = {"bm128.bn64.w8.s2.d2", "bm64.bn32.w4.s3.d2", "bm32.bn64.w2.s2.d2"};
    for (int i = 0; i < 3; i++)
        for (int di = 0; di < 4; di++)
            for (int c = 0; c < 2; c++) {
                const int d = (int[]){64, 160, 192, 256}[di], nq = c ? 517 : 333, nk = c ? 333 : 517;
                eg_problem p = {(i + di) % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 2, 3, nq, nk, d, c, EFFGEN_CAUSAL_BOTTOM_RIGHT,
                                (i + c) % 2, di % 2 ? 3.f : 0.f, 0, 0, 0, 0.f, 0, c ? 1 : 0};
                eg_check_result r;
                total++;
                st = eg_check(ctx, &p, pconfigs[i], 11u + (unsigned)(8 * i + 2 * di + c), &r);
                if (st || !r.pass) failed++;
                printf("%s d%d causal=%d Nq,Nk=%d,%d config %s: %s rel %.2e lse %.1e unwritten %ld\n",
                       (st || !r.pass) ? "FAIL" : "ok  ", d, c, nq, nk, pconfigs[i], st ? effgen_last_error() : "",
                       st ? 0.0 : r.rel_err, st ? 0.0 : r.lse_max_abs, st ? 0L : r.unwritten);
            }
    effgen_close(ctx);
    printf("%d passed, %d failed\n", total - failed, failed);
    return failed ? 1 : 0;
}
