/* tune.h - measuring kernels: random problem data, the double-precision CPU reference, the correctness
 * check of a kernel against it, and event timing. The tuner builds on these; the CLI's check and bench
 * commands call them directly. */
#ifndef EG_TUNE_H
#define EG_TUNE_H

#include <stdint.h>

#include "rt.h"

/* One attention problem as a benchmark or a test states it. */
typedef struct eg_problem {
    effgen_dtype dtype;
    int batch, heads, seqlen_q, seqlen_k, head_dim;
    int causal;
    effgen_causal_align align;
    int bnhd;     /* 1: tensors laid out B,N,H,D; 0: B,H,N,D */
    float scale;  /* 0: 1/sqrt(D) */
    /* Variants, as in effgen_attn_args; zero is off for each. */
    int window, window_left, window_right; /* window 1: extents >= 0 or -1 (unbounded) */
    float softcap;                         /* > 0: cap of the scaled scores */
    int alibi;                             /* 1: slopes from eg_alibi_slopes */
    int kv_heads;                          /* 0: heads */
} eg_problem;

/* Element strides (batch, head, sequence) of a Q or O tensor of the problem with seqlen n. */
void eg_problem_strides(const eg_problem *p, int n, int64_t stride[3]);
/* K/V heads (kv_heads, or heads when 0) and the strides of K and V (seqlen_k, that many heads). */
int eg_problem_kv_heads(const eg_problem *p);
void eg_problem_kv_strides(const eg_problem *p, int64_t stride[3]);
/* The keys query row i sees: [*first, *last] (empty when *last < *first), from causal and window. */
void eg_problem_key_range(const eg_problem *p, int i, int *first, int *last);
/* Useful forward FLOPs as the peers count them: 4*B*H*Nq*Nk*D, halved when causal; with a window,
 * 4*B*H*D times the number of visible (query, key) pairs. */
double eg_problem_flops(const eg_problem *p);
/* The arguments of a problem (sizes, strides, variants); pointers and config left NULL. */
void eg_problem_args(const eg_problem *p, effgen_attn_args *a);
/* ALiBi slopes the check and the bench use: slope[h] = 2^(-8 (h + 1) / heads) (the ALiBi paper's
 * geometric sequence, for any head count). */
void eg_alibi_slopes(int heads, float *out);

/* ---- host data (data.c) ---- */

uint16_t eg_f32_to_bf16(float f);
float eg_bf16_to_f32(uint16_t h);
uint16_t eg_f32_to_fp16(float f);
float eg_fp16_to_f32(uint16_t h);
float eg_to_f32(effgen_dtype t, uint16_t h);
/* n values drawn from a standard normal (seeded, reproducible), rounded to the dtype. */
void eg_fill_random(effgen_dtype t, uint16_t *dst, size_t n, uint64_t seed);

/* ---- reference (ref.c) ---- */

/* Exact attention in double on the host, inputs read through the problem's strides from 16-bit
 * arrays; o in the layout of q (as double), lse [b][h][nq]. Rows with no visible key: o = 0,
 * lse = -inf. Runs on `threads` host threads (0: all cores). */
void eg_ref_attention(const eg_problem *p, const uint16_t *q, const uint16_t *k, const uint16_t *v, double *o,
                      double *lse, int threads);

/* ---- check (check.c) ---- */

typedef struct eg_check_result {
    double rel_err;     /* ||o - ref||_F / ||ref||_F */
    double max_abs;     /* largest |o - ref| */
    double lse_max_abs; /* largest |lse - ref| over finite rows */
    long unwritten;     /* outputs still holding the poison (or NaN/inf) after the launch */
    long lse_mismatch;  /* rows where one LSE is -inf and the other not */
    double tolerance;   /* the dtype's relative tolerance */
    int pass;
    char config[64];
} eg_check_result;

/* Relative tolerance of a dtype: bf16 1e-2, fp16 2e-3 (Frobenius-relative). */
double eg_check_tolerance(effgen_dtype t);

/* Run config (NULL: model default) on random data against the reference; outputs are poisoned first.
 * Returns OK when the comparison ran (see result->pass), an error status when it could not run. */
effgen_status eg_check(effgen_ctx *ctx, const eg_problem *p, const char *config, uint64_t seed, eg_check_result *r);

/* ---- timing (bench.c) ---- */

typedef struct eg_bench_result {
    double ms_median, ms_min, ms_max;
    double tflops;
    int reps, input_sets;
    char spec[EG_KEY_MAX], config[64];
    int registers, smem_bytes, spill_bytes;
    double first_call_ms; /* wall time to get the kernel: generate + compile + load, or a cache hit */
    int source;           /* where the config came from: EG_DB_MEASURED or EG_DB_MODEL (a database row),
                           * -1 (the model, no row, or an explicit config) */
} eg_bench_result;

/* Time one problem with CUDA events: warm-up, then `reps` timed launches (median/min/max), inputs
 * rotated over enough sets to exceed twice the L2 cache. */
effgen_status eg_bench(effgen_ctx *ctx, const eg_problem *p, const char *config, int reps, eg_bench_result *r);

#endif
