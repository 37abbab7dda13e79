/* check.c - run one kernel on random data and compare it with the double-precision reference:
 * outputs are poisoned first (all-ones bytes, a NaN in every 16-bit and 32-bit float format), so an
 * element the kernel never wrote fails the check instead of passing as a stale value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

double eg_check_tolerance(effgen_dtype t) { return t == EFFGEN_FP16 ? 2e-3 : 1e-2; }

effgen_status eg_check(effgen_ctx *ctx, const eg_problem *p, const char *config, uint64_t seed, eg_check_result *r) {
    return eg_check_ext(ctx, p, NULL, config, seed, r);
}

/* Copy n bytes of host data to a new device buffer (*d stays 0 for n = 0 or no data). */
static effgen_status upload(const eg_rt_cuda *cu, CUdeviceptr *d, const void *h, size_t n, const char *what) {
    if (!h || !n) return EFFGEN_OK;
    effgen_status st = eg_rt_cu(cu->cuMemAlloc(d, n), what);
    if (!st) st = eg_rt_cu(cu->cuMemcpyHtoD(*d, h, n), what);
    return st;
}

effgen_status eg_check_ext(effgen_ctx *ctx, const eg_problem *p, const eg_problem_ext *x, const char *config,
                           uint64_t seed, eg_check_result *r) {
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_device(ctx, &cu);
    if (st) return st;
    memset(r, 0, sizeof *r);
    r->tolerance = eg_check_tolerance(p->dtype);
    size_t nq = eg_problem_q_elems(p, x), nk = eg_problem_k_elems(p, x);
    size_t nrows = nq / (size_t)p->head_dim;
    uint16_t *hq = malloc(nq * 2), *hk = malloc(nk * 2), *hv = malloc(nk * 2), *ho = malloc(nq * 2);
    float *hl = malloc(nrows * 4), *hs = malloc((size_t)p->heads * 4);
    double *ro = malloc(nq * sizeof(double)), *rl = malloc(nrows * sizeof(double));
    CUdeviceptr dq = 0, dk = 0, dv = 0, dout = 0, dl = 0, ds = 0, dx[6] = {0}, dxt[EG_EXPR_TENSORS_MAX] = {0};
    effgen_expr_tensor xt_dev[EG_EXPR_TENSORS_MAX];
    int pushed = 0;
    if (!hq || !hk || !hv || !ho || !hl || !hs || !ro || !rl) {
        st = eg_err(EFFGEN_NO_MEMORY, "check: host buffers for %zu + 2*%zu elements", nq, nk);
        goto done;
    }
    eg_fill_random(p->dtype, hq, nq, seed * 3 + 1);
    eg_fill_random(p->dtype, hk, nk, seed * 3 + 2);
    eg_fill_random(p->dtype, hv, nk, seed * 3 + 3);

    if ((st = eg_rt_push(ctx))) goto done;
    pushed = 1;
    if ((st = eg_rt_cu(cu->cuMemAlloc(&dq, nq * 2), "cuMemAlloc(q)"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemAlloc(&dk, nk * 2), "cuMemAlloc(k)"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemAlloc(&dv, nk * 2), "cuMemAlloc(v)"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemAlloc(&dout, nq * 2), "cuMemAlloc(o)"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemAlloc(&dl, nrows * 4), "cuMemAlloc(lse)"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemcpyHtoD(dq, hq, nq * 2), "copy q"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemcpyHtoD(dk, hk, nk * 2), "copy k"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemcpyHtoD(dv, hv, nk * 2), "copy v"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemsetD8(dout, 0xff, nq * 2), "poison o"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemsetD8(dl, 0xff, nrows * 4), "poison lse"))) goto done;
    if (p->alibi) {
        eg_alibi_slopes(p->heads, hs);
        if ((st = eg_rt_cu(cu->cuMemAlloc(&ds, (size_t)p->heads * 4), "cuMemAlloc(alibi_slopes)"))) goto done;
        if ((st = eg_rt_cu(cu->cuMemcpyHtoD(ds, hs, (size_t)p->heads * 4), "copy alibi_slopes"))) goto done;
    }

    effgen_attn_args a;
    eg_problem_args_ext(p, x, &a);
    if (x) {
        if ((st = upload(cu, &dx[0], x->cu_q, x->cu_q ? 4 * (size_t)(p->batch + 1) : 0, "copy cu_seqlens_q"))) goto done;
        if ((st = upload(cu, &dx[1], x->cu_k, x->cu_k ? 4 * (size_t)(p->batch + 1) : 0, "copy cu_seqlens_k"))) goto done;
        if ((st = upload(cu, &dx[2], x->bias, x->bias_elems * 2, "copy bias"))) goto done;
        if ((st = upload(cu, &dx[3], x->mask, x->mask_words * 4, "copy mask"))) goto done;
        if ((st = upload(cu, &dx[4], x->bs_row, x->bs_row_elems * 4, "copy bsparse_row_ptr"))) goto done;
        if ((st = upload(cu, &dx[5], x->bs_col, x->bs_col_elems * 4, "copy bsparse_col_idx"))) goto done;
        if (x->cu_q) a.cu_seqlens_q = (const int32_t *)(uintptr_t)dx[0], a.cu_seqlens_k = (const int32_t *)(uintptr_t)dx[1];
        if (x->bias) a.bias = (const void *)(uintptr_t)dx[2];
        if (x->mask) a.mask = (const uint32_t *)(uintptr_t)dx[3];
        if (x->bs_row)
            a.bsparse_row_ptr = (const int32_t *)(uintptr_t)dx[4], a.bsparse_col_idx = (const int32_t *)(uintptr_t)dx[5];
        if ((st = eg_problem_ext_upload_tensors(cu, x, xt_dev, dxt))) goto done;
        if (x->n_xt) a.expr_tensors = xt_dev;
    }
    a.alibi_slopes = (const float *)(uintptr_t)ds;
    a.q = (const void *)(uintptr_t)dq;
    a.k = (const void *)(uintptr_t)dk;
    a.v = (const void *)(uintptr_t)dv;
    a.o = (void *)(uintptr_t)dout;
    a.lse = (float *)(uintptr_t)dl;
    a.config = config;
    char spec_text[EG_KEY_MAX];
    if ((st = effgen_describe(ctx, &a, spec_text, sizeof spec_text, r->config, sizeof r->config))) goto done;
    if ((st = effgen_attention_fwd(ctx, &a, NULL))) goto done;
    if ((st = eg_rt_cu(cu->cuCtxSynchronize(), "attention kernel"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemcpyDtoH(ho, dout, nq * 2), "copy o back"))) goto done;
    if ((st = eg_rt_cu(cu->cuMemcpyDtoH(hl, dl, nrows * 4), "copy lse back"))) goto done;

    for (size_t i = 0; i < nq; i++) ro[i] = NAN;
    eg_ref_attention_ext(p, x, hq, hk, hv, ro, rl, 0);
    double num = 0, den = 0;
    for (size_t i = 0; i < nq; i++) {
        double got = eg_to_f32(p->dtype, ho[i]);
        if (!isfinite(got)) {
            r->unwritten++;
            continue;
        }
        double d = got - ro[i];
        num += d * d;
        den += ro[i] * ro[i];
        if (fabs(d) > r->max_abs || isnan(d)) r->max_abs = fabs(d);
    }
    r->rel_err = den > 0 ? sqrt(num / den) : sqrt(num);
    for (size_t i = 0; i < nrows; i++) {
        double got = hl[i];
        if (isnan(got)) {
            r->unwritten++;
        } else if (isinf(rl[i]) || isinf(got)) {
            if (!(isinf(rl[i]) && isinf(got) && rl[i] < 0 && got < 0)) r->lse_mismatch++;
        } else if (fabs(got - rl[i]) > r->lse_max_abs) {
            r->lse_max_abs = fabs(got - rl[i]);
        }
    }
    /* LSE is fp32 of values of order log(N) + max score: 1e-3 absolute covers fast exp2/log. */
    r->pass = r->unwritten == 0 && r->lse_mismatch == 0 && r->rel_err <= r->tolerance && r->lse_max_abs <= 1e-3 &&
              isfinite(r->rel_err);
done:
    if (dq) cu->cuMemFree(dq);
    if (dk) cu->cuMemFree(dk);
    if (dv) cu->cuMemFree(dv);
    if (dout) cu->cuMemFree(dout);
    if (dl) cu->cuMemFree(dl);
    if (ds) cu->cuMemFree(ds);
    for (int i = 0; i < 6; i++)
        if (dx[i]) cu->cuMemFree(dx[i]);
    for (int i = 0; i < EG_EXPR_TENSORS_MAX; i++)
        if (dxt[i]) cu->cuMemFree(dxt[i]);
    if (pushed) eg_rt_pop(ctx);
    free(hq);
    free(hk);
    free(hv);
    free(ho);
    free(hl);
    free(hs);
    free(ro);
    free(rl);
    return st;
}
