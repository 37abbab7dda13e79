/* test_gpu_runtime.c - the runtime on a GPU: a second call with the same spec and config reuses the
 * loaded module, and concurrent calls on one context from several threads (same and different
 * kernels) all produce correct results. Exit 77 without a GPU. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tune.h"
#include "t_gpu.h"

typedef struct job {
    effgen_ctx *ctx;
    eg_problem p;
    unsigned seed;
    effgen_status st;
    eg_check_result r;
} job;

static void *run(void *arg) {
    job *j = arg;
    j->st = eg_check(j->ctx, &j->p, NULL, j->seed, &j->r);
    return NULL;
}

int main(void) {
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu;
    effgen_status st = EFFGEN_OK;
    int opened = t_gpu_open(&ctx, &cu);
    if (opened) return opened;
    int failed = 0;

    /* module cache: same key, same loaded kernel; another config, another kernel */
    eg_spec s;
    eg_config c1, c2;
    const eg_rt_kernel *k1 = NULL, *k2 = NULL, *k3 = NULL;
    eg_spec_parse("attn_fwd/d64/bf16/none/sm_80", &s);
    s.arch = ctx->arch;
    eg_config_parse("bm64.bn64.w4.s2", &c1);
    eg_config_parse("bm64.bn32.w4.s2", &c2);
    if ((st = eg_rt_push(ctx))) return printf("FAIL push: %s\n", effgen_last_error()), 1;
    if (eg_rt_kernel_get(ctx, &s, &c1, &k1) || eg_rt_kernel_get(ctx, &s, &c1, &k2) ||
        eg_rt_kernel_get(ctx, &s, &c2, &k3)) {
        printf("FAIL kernel_get: %s\n", effgen_last_error());
        failed++;
    } else {
        if (k1 != k2 || k1->module != k2->module) printf("FAIL: second get of one key compiled again\n"), failed++;
        if (k1 == k3) printf("FAIL: two configs share one cache entry\n"), failed++;
        printf("cache: %s -> %p, again -> %p, %s -> %p\n", k1->key, (void *)k1, (void *)k2, k3->key, (void *)k3);
    }
    eg_rt_pop(ctx);

    /* eight threads on one context: pairs share a kernel, the rest differ */
    job jobs[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        eg_problem p = {i % 2 ? EFFGEN_FP16 : EFFGEN_BF16, 1, 2, 200 + 37 * i, 300, (i / 2 + 1) * 32, i % 3 == 0,
                        EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f, 0, 0, 0, 0.f, 0, 0};
        if (i >= 4) p.head_dim = 64; /* shared kernels compiled concurrently */
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].ctx = ctx;
        jobs[i].p = p;
        jobs[i].seed = 50u + (unsigned)i;
    }
    int started[8] = {0};
    for (int i = 0; i < 8; i++) started[i] = pthread_create(&th[i], NULL, run, &jobs[i]) == 0;
    for (int i = 0; i < 8; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            run(&jobs[i]);
        job *j = &jobs[i];
        int ok = j->st == EFFGEN_OK && j->r.pass;
        failed += !ok;
        printf("%s thread %d d%d %s nq=%d: %s rel %.2e\n", ok ? "ok  " : "FAIL", i, j->p.head_dim,
               j->p.dtype == EFFGEN_FP16 ? "fp16" : "bf16", j->p.seqlen_q,
               j->st ? effgen_last_error() : j->r.config, j->r.rel_err);
    }
    effgen_close(ctx);
    printf("%d failed\n", failed);
    return failed ? 1 : 0;
}
