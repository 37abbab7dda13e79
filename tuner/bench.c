/* bench.c - timing with CUDA events: warm-up first (module load and compilation stay out of the
 * numbers), then one event pair per launch for a median, min and max, over input sets rotated so that
 * together they exceed twice the L2 cache (repeated runs measure memory, not a warm cache). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tune.h"

#define MAX_SETS 16

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Host inputs are kept from one call to the next: the tuner times many configs of one problem in a row,
 * and drawing tens of millions of normal values costs more than the timing itself. One set per process,
 * locked while the copies to the device run. */
static pthread_mutex_t inputs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    uint16_t *q, *k;
    size_t nq, nk;
    effgen_dtype dtype;
} inputs;

/* Lock the inputs and make them hold nq and nk values of dtype; NULL pointers when out of memory. */
static void inputs_get(effgen_dtype t, size_t nq, size_t nk, uint16_t **q, uint16_t **k) {
    pthread_mutex_lock(&inputs_lock);
    if (!inputs.q || !inputs.k || inputs.dtype != t || inputs.nq != nq || inputs.nk != nk) {
        free(inputs.q);
        free(inputs.k);
        inputs.q = malloc(nq * 2);
        inputs.k = malloc(nk * 2);
        if (inputs.q && inputs.k) {
            eg_fill_random(t, inputs.q, nq, 11);
            eg_fill_random(t, inputs.k, nk, 12);
        }
        inputs.nq = nq;
        inputs.nk = nk;
        inputs.dtype = t;
    }
    *q = inputs.q;
    *k = inputs.k;
}

static void inputs_put(void) { pthread_mutex_unlock(&inputs_lock); }

effgen_status eg_bench(effgen_ctx *ctx, const eg_problem *p, const char *config, int reps, eg_bench_result *r) {
    return eg_bench_ext(ctx, p, NULL, config, reps, r);
}

effgen_status eg_bench_ext(effgen_ctx *ctx, const eg_problem *p, const eg_problem_ext *x, const char *config, int reps,
                           eg_bench_result *r) {
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_device(ctx, &cu);
    if (st) return st;
    if (reps < 1) reps = 1;
    memset(r, 0, sizeof *r);
    size_t nq = eg_problem_q_elems(p, x), nk = eg_problem_k_elems(p, x);
    /* each set: q, k, v, o, then the ALiBi slopes (16-byte aligned: the tensors are multiples of 8) */
    size_t set_bytes = (2 * nq + 2 * nk) * 2 + (p->alibi ? (size_t)p->heads * 4 : 0);
    int sets = (int)((2.0 * ctx->info.l2_bytes + set_bytes - 1) / set_bytes);
    if (sets < 1) sets = 1;
    if (sets > MAX_SETS) sets = MAX_SETS;
    CUdeviceptr buf[MAX_SETS] = {0}, dx[6] = {0}, dxt[EG_EXPR_TENSORS_MAX] = {0};
    effgen_expr_tensor xt_dev[EG_EXPR_TENSORS_MAX];
    CUevent *ev = calloc((size_t)reps * 2, sizeof(CUevent));
    double *ms = calloc((size_t)reps, sizeof(double));
    uint16_t *hq = NULL, *hk = NULL;
    float *slopes = p->alibi ? malloc((size_t)p->heads * 4) : NULL;
    int pushed = 0, inputs_held = 0;
    if (!ev || !ms || (p->alibi && !slopes)) {
        st = eg_err(EFFGEN_NO_MEMORY, "bench: host buffers");
        goto done;
    }
    if (slopes) eg_alibi_slopes(p->heads, slopes);
    if ((st = eg_rt_push(ctx))) goto done;
    pushed = 1;

    effgen_attn_args a;
    eg_problem_args_ext(p, x, &a);
    a.config = config;
    if (x) { /* the variant tensors: one copy, shared by the input sets */
        const void *h[6] = {x->cu_q, x->cu_k, x->bias, x->mask, x->bs_row, x->bs_col};
        size_t n[6] = {x->cu_q ? 4 * (size_t)(p->batch + 1) : 0, x->cu_k ? 4 * (size_t)(p->batch + 1) : 0,
                       x->bias_elems * 2, x->mask_words * 4, x->bs_row_elems * 4, x->bs_col_elems * 4};
        for (int i = 0; i < 6; i++) {
            if (!h[i] || !n[i]) continue;
            if ((st = eg_rt_cu(cu->cuMemAlloc(&dx[i], n[i]), "bench: cuMemAlloc(variant tensor)"))) goto done;
            if ((st = eg_rt_cu(cu->cuMemcpyHtoD(dx[i], h[i], n[i]), "bench: copy variant tensor"))) goto done;
        }
        if (x->cu_q) a.cu_seqlens_q = (const int32_t *)(uintptr_t)dx[0], a.cu_seqlens_k = (const int32_t *)(uintptr_t)dx[1];
        if (x->bias) a.bias = (const void *)(uintptr_t)dx[2];
        if (x->mask) a.mask = (const uint32_t *)(uintptr_t)dx[3];
        if (x->bs_row)
            a.bsparse_row_ptr = (const int32_t *)(uintptr_t)dx[4], a.bsparse_col_idx = (const int32_t *)(uintptr_t)dx[5];
        if ((st = eg_problem_ext_upload_tensors(cu, x, xt_dev, dxt))) goto done;
        if (x->n_xt) a.expr_tensors = xt_dev;
    }
    inputs_get(p->dtype, nq, nk, &hq, &hk);
    inputs_held = 1;
    if (!hq || !hk) {
        st = eg_err(EFFGEN_NO_MEMORY, "bench: host buffers for %zu + %zu elements", nq, nk);
        goto done;
    }
    for (int s = 0; s < sets; s++) {
        if ((st = eg_rt_cu(cu->cuMemAlloc(&buf[s], set_bytes), "bench: cuMemAlloc"))) goto done;
        CUdeviceptr q = buf[s], k = q + nq * 2, v = k + nk * 2, o = v + nk * 2;
        if ((st = eg_rt_cu(cu->cuMemcpyHtoD(q, hq, nq * 2), "bench: copy q"))) goto done;
        if ((st = eg_rt_cu(cu->cuMemcpyHtoD(k, hk, nk * 2), "bench: copy k"))) goto done;
        if ((st = eg_rt_cu(cu->cuMemcpyHtoD(v, hk, nk * 2), "bench: copy v"))) goto done;
        if ((st = eg_rt_cu(cu->cuMemsetD8(o, 0, nq * 2), "bench: clear o"))) goto done;
        if (p->alibi && (st = eg_rt_cu(cu->cuMemcpyHtoD(o + nq * 2, slopes, (size_t)p->heads * 4),
                                       "bench: copy alibi_slopes")))
            goto done;
    }
    inputs_put();
    inputs_held = 0;
    eg_spec spec;
    eg_config cfg;
    const eg_rt_kernel *kern = NULL;
    a.q = a.k = a.v = a.o = (void *)(uintptr_t)buf[0];
    if (p->alibi) a.alibi_slopes = (const float *)(uintptr_t)(buf[0] + 2 * nq * 2 + 2 * nk * 2);
    if ((st = eg_rt_problem(ctx, &a, &spec, &cfg))) goto done;
    /* without an explicit config, time what effgen_attention_fwd would run: the database's winner for
     * this size bucket, else the model's choice */
    r->source = -1;
    if (!config && (st = eg_rt_dispatch_config(ctx, &spec, a.seqlen_k, &cfg, &r->source, &spec.arch))) goto done;
    double t0 = now_ms();
    if ((st = eg_rt_kernel_get(ctx, &spec, &cfg, &kern))) goto done;
    r->first_call_ms = now_ms() - t0;
    eg_spec_print(&spec, r->spec, sizeof r->spec);
    eg_config_print(&cfg, r->config, sizeof r->config);
    r->registers = kern->registers;
    r->smem_bytes = kern->smem_bytes;
    r->spill_bytes = kern->spill_bytes;
    r->input_sets = sets;
    r->reps = reps;
    for (int i = 0; i < 2 * reps; i++)
        if ((st = eg_rt_cu(cu->cuEventCreate(&ev[i], EG_CU_EVENT_DEFAULT), "bench: cuEventCreate"))) goto done;
    /* warm-up: every input set once, and at least 5 launches */
    for (int i = 0; i < (sets > 5 ? sets : 5); i++) {
        CUdeviceptr q = buf[i % sets];
        a.q = (const void *)(uintptr_t)q;
        a.k = (const void *)(uintptr_t)(q + nq * 2);
        a.v = (const void *)(uintptr_t)(q + nq * 2 + nk * 2);
        a.o = (void *)(uintptr_t)(q + nq * 2 + 2 * nk * 2);
        if (p->alibi) a.alibi_slopes = (const float *)(uintptr_t)(q + 2 * nq * 2 + 2 * nk * 2);
        if ((st = eg_rt_launch(ctx, kern, &a, NULL))) goto done;
    }
    for (int i = 0; i < reps; i++) {
        CUdeviceptr q = buf[i % sets];
        a.q = (const void *)(uintptr_t)q;
        a.k = (const void *)(uintptr_t)(q + nq * 2);
        a.v = (const void *)(uintptr_t)(q + nq * 2 + nk * 2);
        a.o = (void *)(uintptr_t)(q + nq * 2 + 2 * nk * 2);
        if (p->alibi) a.alibi_slopes = (const float *)(uintptr_t)(q + 2 * nq * 2 + 2 * nk * 2);
        if ((st = eg_rt_cu(cu->cuEventRecord(ev[2 * i], NULL), "bench: cuEventRecord"))) goto done;
        if ((st = eg_rt_launch(ctx, kern, &a, NULL))) goto done;
        if ((st = eg_rt_cu(cu->cuEventRecord(ev[2 * i + 1], NULL), "bench: cuEventRecord"))) goto done;
    }
    if ((st = eg_rt_cu(cu->cuEventSynchronize(ev[2 * reps - 1]), "bench: kernel"))) goto done;
    for (int i = 0; i < reps; i++) {
        float t = 0;
        if ((st = eg_rt_cu(cu->cuEventElapsedTime(&t, ev[2 * i], ev[2 * i + 1]), "bench: cuEventElapsedTime")))
            goto done;
        ms[i] = t;
    }
    qsort(ms, (size_t)reps, sizeof(double), cmp_double);
    r->ms_min = ms[0];
    r->ms_max = ms[reps - 1];
    r->ms_median = reps % 2 ? ms[reps / 2] : 0.5 * (ms[reps / 2 - 1] + ms[reps / 2]);
    r->tflops = eg_problem_flops_ext(p, x) / (r->ms_median * 1e-3) / 1e12;
done:
    if (ev)
        for (int i = 0; i < 2 * reps; i++)
            if (ev[i]) cu->cuEventDestroy(ev[i]);
    for (int s = 0; s < sets; s++)
        if (buf[s]) cu->cuMemFree(buf[s]);
    for (int i = 0; i < 6; i++)
        if (dx[i]) cu->cuMemFree(dx[i]);
    for (int i = 0; i < EG_EXPR_TENSORS_MAX; i++)
        if (dxt[i]) cu->cuMemFree(dxt[i]);
    if (pushed) eg_rt_pop(ctx);
    free(ev);
    free(ms);
    free(slopes);
    if (inputs_held) inputs_put();
    return st;
}
