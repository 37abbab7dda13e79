/* cg.h - kernel spec and tiling config, their canonical text, the cost model and the source generator.
 * Pure C with no GPU dependency: everything here runs and is tested on any machine. Also home of the
 * per-thread error text that every layer of the library records failures into. */
#ifndef EG_CG_H
#define EG_CG_H

#include <stddef.h>
#include <stdint.h>

#include "effgen.h"

/* ---- error text (err.c) ---- */

/* Record printf-style text as this thread's last error and return s (so callers can `return`
 * eg_err(...)). Text beyond the buffer is truncated. */
effgen_status eg_err(effgen_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error text with "what: " (keeps the detail, adds context). Returns s. */
effgen_status eg_err_wrap(effgen_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eg_err_clear(void);

/* ---- spec and config (spec.c) ---- */

typedef enum eg_op { EG_OP_ATTN_FWD = 0 } eg_op;
typedef enum eg_mask { EG_MASK_NONE = 0, EG_MASK_CAUSAL = 1 } eg_mask;

/* A user expression (expr.h); a spec borrows them, it does not own them. */
typedef struct eg_expr eg_expr;

/* Arch values are SM numbers (80, 86, 89, 90, 100, 120, ...). An arch-specific target, whose cubin runs
 * only on that exact compute capability and may use its own instructions (sm_90a: wgmma, setmaxnreg),
 * adds EG_ARCH_FEATURE: it prints as "sm_90a" and keys, caches and stores apart from sm_90. */
#define EG_ARCH_FEATURE 1000
#define EG_ARCH_SM90A (90 + EG_ARCH_FEATURE)
/* The SM number of an arch value (90 for both sm_90 and sm_90a). */
static inline int eg_arch_base(int arch) { return arch % EG_ARCH_FEATURE; }
/* Whether an arch value is an arch-specific ("a") target. */
static inline int eg_arch_is_feature(int arch) { return arch >= EG_ARCH_FEATURE; }

/* What must be true of a kernel. arch as above. */
typedef struct eg_spec {
    eg_op op;
    int head_dim;
    effgen_dtype dtype;
    eg_mask mask;
    effgen_causal_align align; /* meaningful when mask is causal */
    int arch;
    /* Variants, each 0 (off) or 1; printed as "+name" suffixes of the mask field in this order.
     * Their values (extents, cap, slopes, head ratio) are launch parameters, not part of the kernel. */
    int window;  /* sliding window: keys in [i' - left, i' + right] of the aligned query position i' */
    int softcap; /* scores become cap * tanh(score / cap) */
    int alibi;   /* score += -slope[head] * |i' - j| */
    int gqa;     /* K/V heads shared by groups of query heads */
    int varlen;  /* packed sequences of different lengths (cu_seqlens arrays) */
    int bias;    /* additive bias tensor on the scores */
    int bmask;   /* bit-packed boolean mask tensor ("+mask") */
    int bsparse; /* block-sparse CSR table of visited key blocks */
    /* User expressions (NULL: none), borrowed: they must outlive every use of the spec. Printed as
     * "+score.HASH" / "+mask.HASH" (eg_expr_hash_hex of the canonical text) after the other variants. A
     * key names an expression only by its hash, so two specs are the same kernel only when their
     * expressions' canonical texts are equal (eg_spec_same_exprs), not merely their keys. */
    const eg_expr *score_mod; /* kind EG_EXPR_SCORE */
    const eg_expr *mask_mod;  /* kind EG_EXPR_MASK */
} eg_spec;

/* Whether a spec uses any variant (the dense and causal kernels use none). */
int eg_spec_has_variant(const eg_spec *s);
/* Whether a spec has a score or mask expression. */
int eg_spec_has_expr(const eg_spec *s);
/* Whether the spec's expressions read a tensor and none reads the batch index: the tensors' elements are
 * then the same for every batch entry (the launch order runs a head's entries side by side). */
int eg_spec_expr_batch_free(const eg_spec *s);
/* Whether the expressions of two specs have equal canonical texts (both absent counts as equal). */
int eg_spec_same_exprs(const eg_spec *a, const eg_spec *b);

/* Kernel families: the mma.sync main loop (every arch) and the Hopper warpgroup family (wgmma, TMA,
 * mbarriers, warp specialisation; sm_90a only, the model's choice there for the specs it implements). */
typedef enum eg_family { EG_FAMILY_MMA = 0, EG_FAMILY_WG = 1 } eg_family;

/* How to tile it. */
typedef struct eg_config {
    int block_m;  /* query rows per CTA */
    int block_n;  /* key rows per pipeline stage */
    int warps;    /* warps per CTA; mma: each owns block_m/warps query rows; wg: 4 per warpgroup, the first
                   * warpgroup the TMA producer, each other one a consumer of 64 query rows */
    int stages;   /* K/V tiles in flight (cp.async ring depth; wg: TMA stages) */
    int family;   /* eg_family; 0 (mma) for every config text without a family prefix */
    int dsplit;   /* mma only: 2 = warps in pairs, each pair 32 query rows, each warp half the keys of S and
                   * half the head dim of O (config text suffix ".d2"; templates/eg_attn_fwd_pair.cuh);
                   * 0 = one warp per block_m / warps rows */
} eg_config;

/* Consumer warpgroups of a wg config (warps / 4 - 1). */
static inline int eg_config_consumers(const eg_config *c) { return c->warps / 4 - 1; }

#define EG_KEY_MAX 128

/* Canonical text: "attn_fwd/d128/bf16/causal/sm_90" and "bm128.bn64.w4.s2"; a wg config prints as
 * "wg.bm128.bn128.c2.s2" (c: consumer warpgroups) and the pair layout as "bm128.bn64.w8.s2.d2", so every
 * other mma key keeps its text. Variants follow the
 * mask as "+win", "+softcap", "+alibi", "+gqa", "+varlen", "+bias", "+mask", "+bsparse", "+score.HASH",
 * "+mask.HASH" in that order: "attn_fwd/d128/bf16/causal+win+gqa/sm_90". The print functions
 * always NUL-terminate and return the number of characters written; parse validates every field and
 * names the bad one in the error text. eg_spec_parse refuses a key with an expression hash (the text is
 * not in the key): eg_spec_parse_expr takes the expressions, whose hashes must match the key's; a key
 * without the suffix gets it from the expression given (so "attn_fwd/d64/bf16/none/sm_90" with a score
 * expression names the spec "...none+score.HASH..."). The spec borrows score and mask. */
int eg_spec_print(const eg_spec *s, char *buf, size_t size);
int eg_config_print(const eg_config *c, char *buf, size_t size);
effgen_status eg_spec_parse(const char *text, eg_spec *out);
effgen_status eg_spec_parse_expr(const char *text, const eg_expr *score, const eg_expr *mask, eg_spec *out);
effgen_status eg_config_parse(const char *text, eg_config *out);

/* "sm_90" <-> 90, "sm_90a" <-> EG_ARCH_SM90A. parse accepts the supported list only and names it on failure. */
effgen_status eg_arch_parse(const char *text, int *arch);
void eg_arch_print(int arch, char *buf, size_t size);
/* Comma-separated list of supported archs, for messages. */
const char *eg_arch_list(void);

/* Field checks shared by parse and the runtime. */
effgen_status eg_spec_validate(const eg_spec *s);
effgen_status eg_config_validate(const eg_config *c, const eg_spec *s);

/* ---- cost model (model.c) ---- */

typedef struct eg_arch_limits {
    int smem_per_block;  /* opt-in dynamic shared memory per block, bytes */
    int smem_per_sm;
    int regs_per_sm;
    int max_threads_per_sm;
} eg_arch_limits;

typedef struct eg_cost {
    int smem_bytes;      /* dynamic shared memory of one CTA */
    int regs_estimate;   /* per thread, before the compiler has spoken */
    int threads;
    int blocks_per_sm;   /* occupancy bound by shared memory, registers, threads */
} eg_cost;

eg_arch_limits eg_model_limits(int arch);
/* Shared-memory row pitch of a tile of head_dim elements, in elements (padded so ldmatrix rows fall in
 * distinct banks). */
int eg_model_row_pitch(int head_dim);
void eg_model_cost(const eg_spec *s, const eg_config *c, eg_cost *out);
/* Whether the Q fragments of a warp fit in registers beside the accumulators for the whole loop. */
int eg_model_q_in_registers(const eg_spec *s, const eg_config *c);
/* 1 where the mma plain loop computes its copy offsets and LSE row unsigned (trait UOFF, eg_attn_fwd.cuh) */
int eg_model_unsigned_offsets(const eg_spec *s, const eg_config *c);
/* 1 where the pair layout runs its last causal key tile apart (trait LAST_APART, eg_attn_fwd_pair.cuh) */
int eg_model_pair_last_apart(const eg_spec *s, const eg_config *c);
/* 1 where the pair layout keeps one block barrier per key tile (trait ONE_BARRIER, eg_attn_fwd_pair.cuh) */
int eg_model_pair_one_barrier(const eg_spec *s, const eg_config *c);
/* Occupancy with a known register count (after compilation). */
int eg_model_occupancy(int arch, int threads, int regs, int smem);
/* Estimated run time in microseconds of a config on a problem (batch*heads, seqlen_q, seqlen_k): used to
 * rank candidates, not as a prediction to report. INFINITY for a config the arch cannot run. */
double eg_model_estimate(const eg_spec *s, const eg_config *c, int batch_heads, int seqlen_q, int seqlen_k);
/* Multiprocessors of the arch's reference part (H100 SXM: 132; A100: 108; ...). */
int eg_model_sm_count(int arch);
/* The 64-column blocks of a wg kernel's own output staging buffer (block_m rows each): the whole padded
 * head dim where that fits the arch's shared memory, else as many as fit (the epilogue then stores O in
 * passes of that many blocks), 0 where not one fits (O is then staged in Q's rows). With a buffer the next
 * work tile's Q loads as soon as the last S = Q K^T of the current one has completed, not after its
 * epilogue. */
int eg_model_wg_obuf(const eg_spec *s, const eg_config *c);
/* Whether a wg consumer waits for its own P V only after the softmax of the next key tile (which then
 * overlaps that product), rather than before it: where measured faster (two consumers of 128-key tiles
 * above D = 64, without a bias). */
int eg_model_wg_softmax_overlap(const eg_spec *s, const eg_config *c);
/* Whether a wg kernel holds Q's A fragments in registers for S = Q K^T (loaded once per work tile) instead
 * of reading Q from shared memory on every key tile: two consumers of 128-key tiles, no user expression,
 * and room in the consumer's register estimate (docs/hopper.md). */
int eg_model_wg_qreg(const eg_spec *s, const eg_config *c);

/* Whether a wg kernel walks strips of consecutive query blocks of one head, loading the key tiles that
 * neighbouring blocks share once (a window, without a block-sparse table, a bias or a tile-skipping mask
 * expression; docs/hopper.md). */
int eg_model_wg_walk(const eg_spec *s);
/* Whether a wg kernel runs the softmax and P V on half a key tile where a consumer's 64 rows see keys of only
 * one half (a window at head dims 72 to 128 on 128-key tiles with two consumers, without tables, a bias, a bit
 * mask or user expressions; docs/hopper.md). */
int eg_model_wg_halves(const eg_spec *s, const eg_config *c);
/* whether the wg kernel's V ring holds one key tile more than its K ring */
int eg_model_wg_vstage(const eg_spec *s, const eg_config *c);

/* Registers per thread a wg kernel of `consumers` warpgroups sets with setmaxnreg: the producer's (decreased)
 * and each consumer's (increased); both 0 when the kernel keeps its launch allocation (one consumer). */
void eg_model_wg_regs(int consumers, int *producer, int *consumer);
/* Whether the wg family implements spec s (arch sm_90a, head dim 64, 128 or 256, no variant). */
int eg_model_wg_supported(const eg_spec *s);
/* The model's choice for spec s on the benchmarks' shape at one sequence length (16k tokens, heads *
 * head_dim = 2048, seqlen queries and keys). The wg family weighs its configs there (short sequences
 * favour smaller work tiles: less padding in the last one, more tiles for the SMs); the mma family's
 * choice is eg_model_default's at every length. */
effgen_status eg_model_pick_seqlen(const eg_spec *s, int seqlen, eg_config *out);
/* The family the model chooses for s: wg where it implements the spec (measured 1.5 to 2.3 times the mma
 * family's speed there), else mma. */
eg_family eg_model_family(const eg_spec *s);
/* The model's choice for a spec; always feasible for the spec's arch. A spec the wg family implements
 * gets the wg config with the lowest estimate, any other the mma config with the lowest estimate. */
effgen_status eg_model_default(const eg_spec *s, eg_config *out);

/* ---- source generation (gen.c, emit.c) ---- */

/* Growable text buffer with an indent level and a sticky error (checked once at the end). */
typedef struct eg_emit {
    char *buf;
    size_t len, cap;
    int indent;
    int failed;
} eg_emit;

void eg_emit_init(eg_emit *e);
void eg_emit_line(eg_emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eg_emit_open(eg_emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  /* "... {" */
void eg_emit_close(eg_emit *e, const char *tail); /* "}" + tail */
/* Hand the text to the caller (malloc'd) or report the sticky error; the emitter is reset. */
effgen_status eg_emit_finish(eg_emit *e, char **out);

/* Name of the generated kernel entry point. */
#define EG_KERNEL_NAME "effgen_attn_fwd"

/* CUDA C++ source for spec+config; *out malloc'd. */
effgen_status eg_cg_generate(const eg_spec *s, const eg_config *c, char **out);

/* Embedded template headers (templates_embed.c, generated at build time). */
typedef struct eg_template {
    const char *name;
    const char *text;
} eg_template;
extern const eg_template eg_templates[];
extern const int eg_template_count;
/* Hash of the templates and the generator's sources: part of every cache key. */
extern const char eg_generator_version[];

#endif
