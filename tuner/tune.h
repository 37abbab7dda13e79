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

/* The tensors of the varlen, bias, mask and block-sparse variants as host data: the reference reads it,
 * the check and the bench copy it to the device. A NULL eg_problem_ext (or NULL members) means off. */
typedef struct eg_problem_ext {
    /* varlen: offsets [batch + 1]; the problem's seqlen_q / seqlen_k are then the totals, and Q, K, V, O
     * are packed [tokens][heads][D] whatever bnhd says */
    int32_t *cu_q, *cu_k;
    int max_seqlen_q;
    /* bias, elements of the problem's dtype at b*s[0] + h*s[1] + i*s[2] + j */
    uint16_t *bias;
    size_t bias_elems;
    int64_t bias_stride[3];
    /* bit mask words at b*s[0] + h*s[1] + i*s[2] + j/32 */
    uint32_t *mask;
    size_t mask_words;
    int64_t mask_stride[3];
    /* block-sparse CSR tables (one per (b, h) by the strides; 0 shares) and block sizes */
    int32_t *bs_row, *bs_col;
    size_t bs_row_elems, bs_col_elems;
    int64_t bs_row_stride[2], bs_col_stride[2];
    int bs_block_q, bs_block_k;
    /* user expressions (NULL: none) and the tensors they read: host copies in xt[i].data (owned, freed by
     * eg_problem_ext_free), contiguous; check and bench upload them and pass device pointers */
    const char *score_mod, *mask_mod;
    int n_xt;
    effgen_expr_tensor xt[EG_EXPR_TENSORS_MAX];
} eg_problem_ext;

/* Add a tensor for the expressions from "name:dtype:D0xD1x..." (dtype f32, f16, bf16, i32, u8 or bool; 1 to 4
 * sizes), contiguous, with seeded random contents: floats uniform in [-2, 2]; i32 non-decreasing from 0 in
 * steps of 1 with probability 1/8 along the flattened order (document ids); u8 uniform in 0..3; bool 0 or 1.
 * EFFGEN_PARSE names the bad part of the text. */
effgen_status eg_problem_ext_add_tensor(eg_problem_ext *x, const char *text, uint64_t seed);
/* The same with B, H, Q, K and M in the sizes (after the last ':') standing for p's batch, heads, seqlen_q,
 * seqlen_k and the larger of the two (the totals under varlen), e.g. "doc:i32:BxM". */
effgen_status eg_problem_ext_add_tensor_sized(eg_problem_ext *x, const eg_problem *p, const char *text, uint64_t seed);
/* Device copies of x's expression tensors: dev[i] is xt[i] with the data on the device (mem[i] to free). */
effgen_status eg_problem_ext_upload_tensors(const eg_rt_cuda *cu, const eg_problem_ext *x, effgen_expr_tensor *dev,
                                            CUdeviceptr *mem);

/* What eg_problem_ext_make draws. */
typedef struct eg_ext_opts {
    int varlen;        /* batch sequences, query lengths uniform in [len_min, len_max] */
    int len_min, len_max;
    int keys_differ;   /* key lengths drawn separately (else equal to the query lengths) */
    int bias;          /* bias with bias_bcast bits: 1 over batch, 2 over heads, 4 over queries */
    int bias_bcast;
    int mask;          /* random bits, mask_pct percent visible */
    int mask_pct;
    int bsparse;       /* BigBird-like: diagonal + first column + bsparse_pct percent random blocks */
    int bs_block, bsparse_pct;
    int bs_per_head;   /* one table per (b, h) instead of one shared */
    int mask_bcast;    /* one bit mask for every batch entry (stride 0 over the batch) */
} eg_ext_opts;

/* Draw the variant tensors of o for problem p (seeded); under varlen also sets p's batch (kept), seqlen_q and
 * seqlen_k (the totals) from the drawn lengths. Bias values are uniform in [-2, 2]. */
effgen_status eg_problem_ext_make(eg_problem *p, eg_problem_ext *x, const eg_ext_opts *o, uint64_t seed);
void eg_problem_ext_free(eg_problem_ext *x);
/* eg_problem_args plus the variant fields; the pointer fields are set to x's host arrays (so that the spec
 * shows the variants): callers replace them with device copies before a launch. */
void eg_problem_args_ext(const eg_problem *p, const eg_problem_ext *x, effgen_attn_args *a);
/* Useful FLOPs counting only visible (query, key) pairs of every sequence, mask and table. */
double eg_problem_flops_ext(const eg_problem *p, const eg_problem_ext *x);
/* Elements of Q (and O) and of K (and V) of the problem: packed under varlen. */
size_t eg_problem_q_elems(const eg_problem *p, const eg_problem_ext *x);
size_t eg_problem_k_elems(const eg_problem *p, const eg_problem_ext *x);

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
/* The same with the variant tensors of x (may be NULL); under varlen lse is [h][total_q]. */
void eg_ref_attention_ext(const eg_problem *p, const eg_problem_ext *x, const uint16_t *q, const uint16_t *k,
                          const uint16_t *v, double *o, double *lse, int threads);

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
/* The same with the variant tensors of x (may be NULL), copied to the device. */
effgen_status eg_check_ext(effgen_ctx *ctx, const eg_problem *p, const eg_problem_ext *x, const char *config,
                           uint64_t seed, eg_check_result *r);

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
/* The same with the variant tensors of x (may be NULL; copied once, shared by the input sets); TFLOP/s
 * from eg_problem_flops_ext. */
effgen_status eg_bench_ext(effgen_ctx *ctx, const eg_problem *p, const eg_problem_ext *x, const char *config, int reps,
                           eg_bench_result *r);

#endif
