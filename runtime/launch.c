/* launch.c - from the caller's attention arguments to a launch: every field validated with a message that
 * names it and the allowed values, the spec and config derived, and the kernel queued with a host mirror
 * of eg::FwdParams (templates/eg_attn_fwd.cuh) as its single argument. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "rt.h"

/* Host mirror of eg::FwdParams: same fields, same order, same types. */
typedef struct fwd_params {
    const void *q, *k, *v;
    void *o;
    float *lse;
    int64_t q_sb, q_sh, q_sn;
    int64_t k_sb, k_sh, k_sn;
    int64_t v_sb, v_sh, v_sn;
    int64_t o_sb, o_sh, o_sn;
    int b, h, nq, nk;
    int causal_offset;
    float scale_log2;
    float scale;
    int m_blocks;
    int head_group; /* heads whose query blocks are interleaved in launch order */
    int win_left, win_right;       /* window extents, clamped to >= 0 (unbounded: seqlen_q + seqlen_k + 1) */
    float softcap_in, softcap_out; /* raw score x -> softcap_out * tanh(x * softcap_in) */
    int kv_group;                  /* query heads per K/V head */
    const float *alibi;            /* slopes [heads] or NULL */
    const int32_t *cu_q, *cu_k;    /* varlen offsets [batch + 1] or NULL */
    const void *bias;
    int64_t bias_sb, bias_sh, bias_sq;
    float bias_mul; /* 1 / scale: the bias lands on the scaled score */
    int varlen_br;  /* varlen with a bottom-right diagonal: each sequence adds its nk - nq */
    const uint32_t *mask;
    int64_t mask_sb, mask_sh, mask_sq;
    const int32_t *bs_row, *bs_col;
    int64_t bs_row_sb, bs_row_sh, bs_col_sb, bs_col_sh;
    int bs_bq, bs_bk;
    eg_expr_tensors xt; /* the expressions' tensors: score_mod's slots, then mask_mod's */
    int32_t *tile_counter; /* device counter pair of a persistent wg grid, or NULL */
    int batch_inner;       /* 1: batch entries of one head are neighbours in launch order */
    int strip;             /* (wg kernels that walk) query blocks per strip, >= 1 */
} fwd_params;

/* The kernel reads its argument with the device-side layout; a field added on one side only must not
 * go unnoticed. */
_Static_assert(sizeof(fwd_params) == 680, "fwd_params must mirror eg::FwdParams (680 bytes)");
_Static_assert(offsetof(fwd_params, xt) == 344 && sizeof(eg_expr_tensors) == 320,
               "fwd_params.xt must mirror eg::FwdParams::xt (eg::ExprTensors)");
_Static_assert(offsetof(fwd_params, b) == 136 && offsetof(fwd_params, m_blocks) == 164 &&
                   offsetof(fwd_params, head_group) == 168 && offsetof(fwd_params, win_left) == 172 &&
                   offsetof(fwd_params, softcap_in) == 180 && offsetof(fwd_params, kv_group) == 188 &&
                   offsetof(fwd_params, alibi) == 192 && offsetof(fwd_params, cu_q) == 200 &&
                   offsetof(fwd_params, bias_mul) == 248 && offsetof(fwd_params, varlen_br) == 252 &&
                   offsetof(fwd_params, mask) == 256 && offsetof(fwd_params, bs_row) == 288 &&
                   offsetof(fwd_params, bs_col_sh) == 328 && offsetof(fwd_params, bs_bq) == 336 &&
                   offsetof(fwd_params, tile_counter) == 664 && offsetof(fwd_params, batch_inner) == 672 &&
                   offsetof(fwd_params, strip) == 676,
               "fwd_params field offsets must mirror eg::FwdParams");

/* The driver's CUtensorMap: 128 opaque bytes, 64-byte aligned. */
typedef struct tma_map {
    _Alignas(64) uint64_t opaque[16];
} tma_map;

#define EG_TMA_BF16 9          /* CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 */
#define EG_TMA_FP16 6          /* CU_TENSOR_MAP_DATA_TYPE_FLOAT16 */
#define EG_TMA_SWIZZLE_128B 3  /* CU_TENSOR_MAP_SWIZZLE_128B */
#define EG_TMA_L2_128B 2       /* CU_TENSOR_MAP_L2_PROMOTION_L2_128B */

/* The TMA descriptor of one of Q, K, V for the wg family: a 4-d tensor (head dim, sequence, head, batch)
 * with the caller's strides, read in boxes of 64 elements (one 128-byte swizzle span) by box_rows rows;
 * rows past the sequence's end arrive as zeros. A dimension of size 1 gets the packed stride (its stride
 * is never used, and a caller's 0 or huge value would be refused). */
static effgen_status tma_encode(const eg_rt_cuda *cu, tma_map *m, const char *name, const void *base,
                                effgen_dtype dt, int d, int n, int heads, int batch, const int64_t st[3],
                                int box_rows) {
    uint64_t dims[4] = {(uint64_t)d, (uint64_t)n, (uint64_t)heads, (uint64_t)batch};
    int64_t el[3] = {st[2], st[1], st[0]}; /* sequence, head, batch: dims 1, 2, 3 */
    uint64_t strides[3];
    uint64_t packed = (uint64_t)d * 2;
    for (int i = 0; i < 3; i++) {
        strides[i] = dims[i + 1] == 1 ? packed : (uint64_t)el[i] * 2;
        if (strides[i] % 16 || strides[i] >= ((uint64_t)1 << 40))
            return eg_err(EFFGEN_UNSUPPORTED, "%s_stride[%d]=%lld: the wgmma family's TMA needs byte strides that are "
                          "multiples of 16 below 2^40", name, 2 - i, (long long)el[i]);
        packed = strides[i] * dims[i + 1];
    }
    unsigned box[4] = {64, (unsigned)box_rows, 1, 1}, estr[4] = {1, 1, 1, 1};
    CUresult r = cu->cuTensorMapEncodeTiled(m, dt == EFFGEN_FP16 ? EG_TMA_FP16 : EG_TMA_BF16, 4, (void *)base, dims,
                                            strides, box, estr, 0, EG_TMA_SWIZZLE_128B, EG_TMA_L2_128B, 0);
    if (r) {
        effgen_status st2 = eg_rt_cu(r, "cuTensorMapEncodeTiled");
        return eg_err_wrap(st2, "%s: TMA descriptor", name);
    }
    return EFFGEN_OK;
}

/* K/V heads of a problem: kv_heads, 0 meaning heads. */
static int kv_heads_of(const effgen_attn_args *a) { return a->kv_heads ? a->kv_heads : a->heads; }

#define EG_LOG2E 1.4426950408889634

static int is_varlen(const effgen_attn_args *a) { return a->cu_seqlens_q != NULL || a->cu_seqlens_k != NULL; }

/* Query rows of the longest (batch entry's) sequence: what the grid covers. */
static int grid_rows(const effgen_attn_args *a) { return is_varlen(a) ? a->max_seqlen_q : a->seqlen_q; }

/* Block sizes of a block-sparse table, 0 meaning 128. */
static int bs_block(int v) { return v ? v : 128; }

/* Strides left all 0 mean contiguous B,H,N,D (packed N,H,D under varlen); the bias and mask strides
 * contiguous [b][h][i][j]. Filled on the caller's behalf into a copy. Sizes must already be positive. */
static effgen_status fill_strides(effgen_attn_args *a) {
    int64_t *st[4] = {a->q_stride, a->k_stride, a->v_stride, a->o_stride};
    const char *names[4] = {"q", "k", "v", "o"};
    int64_t n[4] = {a->seqlen_q, a->seqlen_k, a->seqlen_k, a->seqlen_q};
    int heads[4] = {a->heads, kv_heads_of(a), kv_heads_of(a), a->heads};
    for (int i = 0; i < 4; i++) {
        if (st[i][0] || st[i][1] || st[i][2]) continue;
        int64_t nd, hnd;
        if (__builtin_mul_overflow(n[i], (int64_t)a->head_dim, &nd) ||
            __builtin_mul_overflow(nd, (int64_t)heads[i], &hnd))
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s_stride: contiguous strides for heads=%d, seqlen %lld, "
                          "head_dim=%d overflow 64 bits", names[i], heads[i], (long long)n[i], a->head_dim);
        if (is_varlen(a)) {
            st[i][0] = 0;
            st[i][1] = a->head_dim;
            st[i][2] = (int64_t)heads[i] * a->head_dim;
        } else {
            st[i][0] = hnd;
            st[i][1] = nd;
            st[i][2] = a->head_dim;
        }
    }
    /* under varlen the layouts of bias and mask are the caller's to state (checked in check_tensors) */
    if (a->bias && !is_varlen(a) && !(a->bias_stride[0] || a->bias_stride[1] || a->bias_stride[2] || a->bias_stride[3])) {
        a->bias_stride[3] = 1;
        a->bias_stride[2] = a->seqlen_k;
        a->bias_stride[1] = (int64_t)a->seqlen_q * a->seqlen_k;
        a->bias_stride[0] = a->bias_stride[1] * a->heads; /* sizes are int: no overflow in 64 bits */
    }
    if (a->mask && !is_varlen(a) && !(a->mask_stride[0] || a->mask_stride[1] || a->mask_stride[2])) {
        a->mask_stride[2] = (a->seqlen_k + 31) / 32;
        a->mask_stride[1] = (int64_t)a->seqlen_q * a->mask_stride[2];
        a->mask_stride[0] = a->mask_stride[1] * a->heads;
    }
    return EFFGEN_OK;
}

static effgen_status check_ptr(const void *p, const char *name, unsigned align) {
    if (!p) return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=NULL: must be a device pointer", name);
    if ((uintptr_t)p % align)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=%p: must be aligned to %u bytes", name, p, align);
    return EFFGEN_OK;
}

/* Strides of one tensor: positive multiples of 8 elements (16-byte rows for cp.async), and the largest
 * element offset (plus the row) representable in 64 bits. */
static effgen_status check_strides(const int64_t st[3], const char *name, const effgen_attn_args *a, int heads,
                                   int n) {
    if (is_varlen(a) && st[0] != 0)
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "%s_stride[0]=%lld: must be 0 with varlen (sequences are packed along the token dimension; "
                      "cu_seqlens give each one's first row)",
                      name, (long long)st[0]);
    for (int i = is_varlen(a) ? 1 : 0; i < 3; i++) {
        if (st[i] <= 0)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "%s_stride[%d]=%lld: must be > 0 (leave all three 0 for contiguous B,H,N,D)", name, i,
                          (long long)st[i]);
        if (st[i] % 8)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s_stride[%d]=%lld: must be a multiple of 8 elements", name, i,
                          (long long)st[i]);
    }
    int64_t ext[3] = {is_varlen(a) ? 0 : a->batch - 1, heads - 1, n - 1}, sum = a->head_dim, term;
    for (int i = 0; i < 3; i++) {
        if (__builtin_mul_overflow(ext[i], st[i], &term) || __builtin_add_overflow(sum, term, &sum))
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s_stride[%d]=%lld: the largest element offset overflows 64 bits",
                          name, i, (long long)st[i]);
    }
    return EFFGEN_OK;
}

/* The variant fields (window, softcap, kv_heads; the slopes pointer is checked with the others). */
static effgen_status check_variants(const effgen_attn_args *a) {
    if (a->window != 0 && a->window != 1)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "window=%d: must be 0 (off) or 1 (sliding window)", a->window);
    if (!a->window && (a->window_left || a->window_right))
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "window_left=%d, window_right=%d with window=0: set window=1 to use a sliding window "
                      "(the extents must be 0 when it is off)",
                      a->window_left, a->window_right);
    if (a->window) {
        if (a->window_left < -1)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "window_left=%d: must be >= 0, or -1 for unbounded",
                          a->window_left);
        if (a->window_right < -1)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "window_right=%d: must be >= 0, or -1 for unbounded",
                          a->window_right);
        /* the kernel's window bounds are int sums of a position and an extent of up to seqlen_q + seqlen_k */
        if ((int64_t)a->seqlen_q + a->seqlen_k > INT32_MAX / 3)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "seqlen_q + seqlen_k = %lld: must be at most %d with window=1",
                          (long long)a->seqlen_q + a->seqlen_k, INT32_MAX / 3);
    }
    if (!(a->softcap >= 0.0f) || !isfinite(a->softcap))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "softcap=%g: must be positive and finite (0: off)", (double)a->softcap);
    if (a->kv_heads < 0 || (a->kv_heads > 0 && a->heads % a->kv_heads))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "kv_heads=%d: must divide heads=%d (0: as many as heads)",
                      a->kv_heads, a->heads);
    return EFFGEN_OK;
}

/* The tensors of the later variants: varlen offsets, bias, mask and block-sparse table (pointers, strides,
 * sizes); bias and mask strides already filled. */
static effgen_status check_tensors(const effgen_attn_args *a) {
    if (is_varlen(a)) {
        if (!a->cu_seqlens_q)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "cu_seqlens_q=NULL with cu_seqlens_k set: varlen needs both (device int32 [batch + 1])");
        if (!a->cu_seqlens_k)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "cu_seqlens_k=NULL with cu_seqlens_q set: varlen needs both (device int32 [batch + 1])");
        if ((uintptr_t)a->cu_seqlens_q % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "cu_seqlens_q=%p: must be aligned to 4 bytes", (const void *)a->cu_seqlens_q);
        if ((uintptr_t)a->cu_seqlens_k % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "cu_seqlens_k=%p: must be aligned to 4 bytes", (const void *)a->cu_seqlens_k);
        if (a->max_seqlen_q < 1 || a->max_seqlen_q > a->seqlen_q)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "max_seqlen_q=%d: must be from 1 to seqlen_q=%d (the total tokens) with varlen: the "
                          "longest sequence's query count sizes the grid",
                          a->max_seqlen_q, a->seqlen_q);
    } else if (a->max_seqlen_q) {
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "max_seqlen_q=%d without cu_seqlens_q: set cu_seqlens_q and cu_seqlens_k for varlen "
                      "(it must be 0 otherwise)",
                      a->max_seqlen_q);
    }
    int nq = grid_rows(a), nk = a->seqlen_k;
    if (a->bias) {
        if ((uintptr_t)a->bias % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bias=%p: must be aligned to 4 bytes", a->bias);
        const int64_t *st = a->bias_stride;
        if (!(st[0] || st[1] || st[2] || st[3]))
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "bias_stride={0,0,0,0} with varlen: state the bias layout (b = sequence, i and j within it)");
        if (st[3] != 1)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "bias_stride[3]=%lld: must be 1 (keys contiguous, read two at a time)", (long long)st[3]);
        int64_t ext[3] = {a->batch - 1, a->heads - 1, nq - 1}, sum = nk - 1, term;
        for (int i = 0; i < 3; i++) {
            if (st[i] < 0 || st[i] % 2)
                return eg_err(EFFGEN_INVALID_ARGUMENT,
                              "bias_stride[%d]=%lld: must be even and >= 0 (0 broadcasts; keys are read in pairs)", i,
                              (long long)st[i]);
            if (__builtin_mul_overflow(ext[i], st[i], &term) || __builtin_add_overflow(sum, term, &sum))
                return eg_err(EFFGEN_INVALID_ARGUMENT, "bias_stride[%d]=%lld: the largest element offset overflows 64 bits",
                              i, (long long)st[i]);
        }
    } else if (a->bias_stride[0] || a->bias_stride[1] || a->bias_stride[2] || a->bias_stride[3]) {
        return eg_err(EFFGEN_INVALID_ARGUMENT, "bias_stride set with bias=NULL: set bias (or leave the strides 0)");
    }
    if (a->mask) {
        if ((uintptr_t)a->mask % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "mask=%p: must be aligned to 4 bytes", (const void *)a->mask);
        const int64_t *st = a->mask_stride;
        if (!(st[0] || st[1] || st[2]))
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "mask_stride={0,0,0} with varlen: state the mask layout in words (b = sequence, i within it)");
        int64_t ext[3] = {a->batch - 1, a->heads - 1, nq - 1}, sum = (nk - 1) / 32, term;
        for (int i = 0; i < 3; i++) {
            if (st[i] < 0)
                return eg_err(EFFGEN_INVALID_ARGUMENT, "mask_stride[%d]=%lld: must be >= 0 words (0 broadcasts)", i,
                              (long long)st[i]);
            if (__builtin_mul_overflow(ext[i], st[i], &term) || __builtin_add_overflow(sum, term, &sum))
                return eg_err(EFFGEN_INVALID_ARGUMENT, "mask_stride[%d]=%lld: the largest word offset overflows 64 bits",
                              i, (long long)st[i]);
        }
    } else if (a->mask_stride[0] || a->mask_stride[1] || a->mask_stride[2]) {
        return eg_err(EFFGEN_INVALID_ARGUMENT, "mask_stride set with mask=NULL: set mask (or leave the strides 0)");
    }
    if (a->bsparse_row_ptr || a->bsparse_col_idx) {
        if (!a->bsparse_row_ptr)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr=NULL with bsparse_col_idx set: block-sparse needs both");
        if (!a->bsparse_col_idx)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_col_idx=NULL with bsparse_row_ptr set: block-sparse needs both");
        if ((uintptr_t)a->bsparse_row_ptr % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr=%p: must be aligned to 4 bytes",
                          (const void *)a->bsparse_row_ptr);
        if ((uintptr_t)a->bsparse_col_idx % 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_col_idx=%p: must be aligned to 4 bytes",
                          (const void *)a->bsparse_col_idx);
        const int blk[2] = {a->bsparse_block_q, a->bsparse_block_k};
        const char *bn[2] = {"bsparse_block_q", "bsparse_block_k"};
        for (int i = 0; i < 2; i++)
            if (blk[i] < 0 || blk[i] % 16 || blk[i] > (1 << 20))
                return eg_err(EFFGEN_INVALID_ARGUMENT,
                              "%s=%d: must be a multiple of 16 from 16 to 1048576 (0: 128), and of the kernel's %s",
                              bn[i], blk[i], i ? "block_n" : "block_m");
        const int64_t *sts[2] = {a->bsparse_row_stride, a->bsparse_col_stride};
        const char *sn[2] = {"bsparse_row_stride", "bsparse_col_stride"};
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 2; i++) {
                int64_t term;
                if (sts[t][i] < 0 || __builtin_mul_overflow(sts[t][i], (int64_t)(i ? a->heads : a->batch), &term))
                    return eg_err(EFFGEN_INVALID_ARGUMENT, "%s[%d]=%lld: must be >= 0 (0 shares the table%s)", sn[t],
                                  i, (long long)sts[t][i], i ? " across heads" : " across the batch");
            }
    } else if (a->bsparse_block_q || a->bsparse_block_k || a->bsparse_row_stride[0] || a->bsparse_row_stride[1] ||
               a->bsparse_col_stride[0] || a->bsparse_col_stride[1]) {
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "bsparse_block_q/k or strides set with bsparse_row_ptr=NULL: set the table (or leave them 0)");
    }
    return EFFGEN_OK;
}

/* Whether config c can serve the block-sparse table of a (its blocks multiples of c's tiles). */
static int bs_fits(const effgen_attn_args *a, const eg_config *c) {
    if (!a->bsparse_row_ptr) return 1;
    return bs_block(a->bsparse_block_q) % c->block_m == 0 && bs_block(a->bsparse_block_k) % c->block_n == 0;
}

/* The largest tiles no larger than c's that divide the block-sparse blocks (a model choice made to fit). */
static void bs_shrink(const effgen_attn_args *a, eg_config *c) {
    int bq = bs_block(a->bsparse_block_q), bk = bs_block(a->bsparse_block_k);
    if (c->family == EG_FAMILY_WG) { /* 64 rows per consumer, 64- or 128-key tiles (the spec's blocks are 64s) */
        int cons = eg_config_consumers(c);
        while (cons > 1 && bq % (64 * cons)) cons--;
        c->block_m = 64 * cons;
        c->warps = 4 * (cons + 1);
        if (bk % c->block_n) c->block_n = 64;
        return;
    }
    for (;;) { /* keep the warps while a multiple of their rows divides the block; 16 rows always do */
        int unit = 16 * c->warps, bm = c->block_m / unit * unit;
        while (bm >= unit && bq % bm) bm -= unit;
        if (bm >= unit) {
            c->block_m = bm;
            break;
        }
        c->warps /= 2;
    }
    while (bk % c->block_n) c->block_n -= 16;
}

/* Whether the TMA can load a's bias: a 16-byte aligned address, a row per query (bias_stride[2] != 0) and
 * every other stride in whole 16 bytes (multiples of 8 elements; all-zero strides are the contiguous
 * layout, whose row stride is seqlen_k). */
static int bias_tma_ok(const effgen_attn_args *a) {
    const int64_t *st = a->bias_stride;
    if ((uintptr_t)a->bias % 16) return 0;
    if (!(st[0] || st[1] || st[2] || st[3])) return a->seqlen_k % 8 == 0;
    return st[2] != 0 && st[0] % 8 == 0 && st[1] % 8 == 0 && st[2] % 8 == 0;
}

void eg_rt_spec_of(const effgen_attn_args *a, int arch, eg_spec *s) {
    memset(s, 0, sizeof *s);
    s->op = EG_OP_ATTN_FWD;
    s->head_dim = a->head_dim;
    s->dtype = a->dtype;
    s->mask = a->causal ? EG_MASK_CAUSAL : EG_MASK_NONE;
    /* the alignment only matters under a causal mask: keep non-causal problems on one key */
    s->align = a->causal ? a->causal_align : EFFGEN_CAUSAL_BOTTOM_RIGHT;
    s->arch = arch;
    s->window = a->window != 0;
    s->softcap = a->softcap > 0.0f;
    s->alibi = a->alibi_slopes != NULL;
    /* as many K/V heads as query heads is plain attention: the same kernel as without kv_heads */
    s->gqa = a->kv_heads > 0 && a->kv_heads != a->heads;
    s->varlen = is_varlen(a);
    s->bias = a->bias != NULL;
    s->bmask = a->mask != NULL;
    s->bsparse = a->bsparse_row_ptr != NULL || a->bsparse_col_idx != NULL;
    /* The wg family loads the bias by TMA: a bias it cannot map keeps the problem on the sm_90 instruction
     * set, where the mma family reads it element by element; so do block-sparse blocks that are not
     * multiples of its tiles (64 query rows per consumer, 64 or 128 keys). An explicit wg config keeps
     * sm_90a, and its launch says what it refuses. */
    int wg_config = a->config && !strncmp(a->config, "wg.", 3);
    if (arch == EG_ARCH_SM90A && !wg_config &&
        ((s->bias && !bias_tma_ok(a)) ||
         (s->bsparse && (bs_block(a->bsparse_block_q) % 64 || bs_block(a->bsparse_block_k) % 64))))
        s->arch = 90;
}

/* Validate every field, filling zero strides on the way (a is the caller's copy). */
static effgen_status check_args(effgen_attn_args *a) {
    if (a->dtype != EFFGEN_BF16 && a->dtype != EFFGEN_FP16)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "dtype=%d: must be EFFGEN_BF16 or EFFGEN_FP16", (int)a->dtype);
    const int sizes[4] = {a->batch, a->heads, a->seqlen_q, a->seqlen_k};
    const char *size_names[4] = {"batch", "heads", "seqlen_q", "seqlen_k"};
    for (int i = 0; i < 4; i++)
        if (sizes[i] < 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=%d: must be >= 1", size_names[i], sizes[i]);
    if (a->head_dim < 8 || a->head_dim > 256 || a->head_dim % 8)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "head_dim=%d: must be a multiple of 8 from 8 to 256", a->head_dim);
    if (a->causal != 0 && a->causal != 1)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "causal=%d: must be 0 or 1", a->causal);
    if (a->causal_align != EFFGEN_CAUSAL_BOTTOM_RIGHT && a->causal_align != EFFGEN_CAUSAL_TOP_LEFT)
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "causal_align=%d: must be EFFGEN_CAUSAL_BOTTOM_RIGHT (0) or EFFGEN_CAUSAL_TOP_LEFT (1)",
                      (int)a->causal_align);
    if (!(a->scale >= 0.0f) || !isfinite(a->scale) || (a->scale == 0.0f && signbit(a->scale)))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "scale=%g: must be positive and finite (0 means 1/sqrt(head_dim))",
                      (double)a->scale);
    effgen_status st = check_variants(a);
    if (!st) st = fill_strides(a);
    if (!st) st = check_ptr(a->q, "q", 16);
    if (!st) st = check_ptr(a->k, "k", 16);
    if (!st) st = check_ptr(a->v, "v", 16);
    if (!st) st = check_ptr(a->o, "o", 16);
    if (!st && a->lse) st = check_ptr(a->lse, "lse", 4);
    if (!st && a->alibi_slopes) st = check_ptr(a->alibi_slopes, "alibi_slopes", 4);
    if (!st) st = check_strides(a->q_stride, "q", a, a->heads, a->seqlen_q);
    if (!st) st = check_strides(a->k_stride, "k", a, kv_heads_of(a), a->seqlen_k);
    if (!st) st = check_strides(a->v_stride, "v", a, kv_heads_of(a), a->seqlen_k);
    if (!st) st = check_strides(a->o_stride, "o", a, a->heads, a->seqlen_q);
    if (!st) st = check_tensors(a);
    if (!st) st = eg_rt_check_expr_args(a);
    if (st) return st;
    return EFFGEN_OK;
}

int eg_rt_fit_config(const effgen_attn_args *a, eg_config *c) {
    if (bs_fits(a, c)) return 0;
    bs_shrink(a, c);
    return 1;
}

int eg_rt_grid_rows(const effgen_attn_args *a) { return grid_rows(a); }

int eg_rt_head_group(int64_t heads, int seqlen_k, int head_dim, int m_blocks, int heavy_first, int64_t slots) {
    /* Heads whose K and V fit together in a part of L2 (16 MB): re-reads of K and V by the CTAs of a group
     * that run at once hit L2. */
    int64_t kv_bytes = (int64_t)seqlen_k * head_dim * 2 * 2;
    int64_t group = ((int64_t)16 << 20) / (kv_bytes > 0 ? kv_bytes : 1);
    if (heads < 1) heads = 1;
    if (group < 1) group = 1;
    /* With the heaviest blocks first a group runs its heavy blocks beside the light ones of the groups
     * before it; groups that hold under 3/4 of the resident CTAs leave the heavy blocks of the last groups
     * running alone at the end (mma family, H200, bench/results/h200-2026-12-01o: D = 160 causal at 4k,
     * groups of 6 heads of 32 blocks on 264 slots, 305 TFLOP/s, one group 335; at 16k 315 and 346 to 355). One
     * group then orders every block of the launch heaviest first. */
    if (heavy_first && m_blocks > 0 && 4 * group * m_blocks < 3 * slots) {
        group = heads;
    } else if (heavy_first && m_blocks >= 8) {
        /* Groups of at least 4 * slots / (m_blocks + 1) heads, so that each group's heaviest-first order
         * spans several rounds of the resident CTAs (with the equal sizes below, bench/results/h200-2026-12-02b:
         * D = 80 / 96 +8 to +11% at 4k and 16k, D = 160 / 192 +5% at 1k, D = 192 +3% at 4k; D = 80 / 96 at 1k
         * -1.5 / -2%). Not below 8 blocks a head: there the K and V of the wider groups' heads are read again
         * beyond L2 (D = 256 at 512 -1.4%). */
        int64_t spread = (4 * slots + m_blocks) / (m_blocks + 1);
        if (spread > group) group = spread;
    }
    if (heavy_first && group < heads) {
        /* Groups of equal size: the smallest divisor of the heads from group to 2 * group, where there is
         * one. A short last group runs its heavy blocks late and alone: without this the rule above lost 9%
         * at D = 128 at 2k and D = 256 at 1k, and with it alone D = 80 at 4k gained 8%. */
        int64_t best = 0; /* over the divisor pairs (i, heads / i): O(sqrt(heads)) steps */
        for (int64_t i = 1; i * i <= heads; i++) {
            if (heads % i) continue;
            int64_t pair[2] = {i, heads / i};
            for (int k = 0; k < 2; k++)
                if (pair[k] >= group && pair[k] <= 2 * group && (!best || pair[k] < best)) best = pair[k];
        }
        if (best) group = best;
    }
    if (group > heads) group = heads;
    return (int)(group > INT32_MAX ? INT32_MAX : group);
}

int eg_rt_wg_strip(const eg_config *c, int64_t heads, int m_blocks, int causal_offset, int win_left, int win_right,
                   unsigned slots) {
    /* A window kernel walks strips of consecutive query blocks of one head and loads the key tiles neighbours
     * share once. A window whose neighbouring blocks (in the middle of a head) share more tiles than the ring
     * holds shares none: strips of one block. */
    int64_t bm = c->block_m, bn = c->block_n, m = m_blocks / 2;
    int64_t first = ((m + 1) * bm + causal_offset - win_left) / bn;          /* the next block's first tile */
    int64_t end = (m * bm + bm + causal_offset + win_right + bn - 1) / bn;   /* past this block's last */
    if (m_blocks < 2 || first < 0 || end - first > c->stages) return 1;
    /* the fewest rounds of strips over the CTA slots times a strip's length, the longest strip among equals
     * (one walked strip costs less than its blocks apart); strips of one head as even as they go, at most 64
     * blocks (longer ones save little more) */
    int64_t best = INT64_MAX, n_slots = slots > 0 ? slots : 1;
    int strip = 1;
    for (int len = 1; len <= m_blocks && len <= 64; len++) {
        int64_t per_head = (m_blocks + len - 1) / len;
        if ((m_blocks + per_head - 1) / per_head != len) continue; /* the same strips as a shorter len */
        int64_t cost = (heads * per_head + n_slots - 1) / n_slots * len;
        if (cost <= best) best = cost, strip = len;
    }
    return strip;
}

int eg_rt_bucket_len(const effgen_attn_args *a) {
    if (!is_varlen(a) || a->batch < 1) return a->seqlen_k;
    return (int)(((int64_t)a->seqlen_k + a->batch - 1) / a->batch);
}

effgen_status eg_rt_check_args(const effgen_attn_args *a) {
    if (!a) return eg_err(EFFGEN_INVALID_ARGUMENT, "args=NULL: must point to an effgen_attn_args");
    effgen_attn_args f = *a;
    effgen_status st = check_args(&f);
    if (!st && f.config) {
        eg_config cf;
        st = eg_config_parse(f.config, &cf);
    }
    return st;
}

effgen_status eg_rt_problem(effgen_ctx *ctx, const effgen_attn_args *a, eg_spec *s, eg_config *c) {
    if (!ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "ctx=NULL: open a context with effgen_open");
    if (!a) return eg_err(EFFGEN_INVALID_ARGUMENT, "args=NULL: must point to an effgen_attn_args");
    if (!s || !c) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_problem: spec and config must be non-NULL");
    pthread_mutex_lock(&ctx->lock);
    int arch = ctx->arch;
    pthread_mutex_unlock(&ctx->lock);
    if (!arch)
        return eg_err(EFFGEN_INTERNAL, "the target arch is not known yet: set options.arch or initialise the device");

    effgen_attn_args f = *a;
    effgen_status st = check_args(&f);
    if (st) return st;
    eg_rt_lower_bias(ctx, &f); /* a score expression that is an additive bias takes the built-in bias */

    eg_spec sp;
    eg_rt_spec_of(&f, arch, &sp);
    st = eg_rt_exprs(ctx, &f, &sp.score_mod, &sp.mask_mod);
    if (st) return st;
    st = eg_spec_validate(&sp);
    if (st) return st;

    eg_config cf;
    if (f.config) {
        st = eg_config_parse(f.config, &cf);
        if (!st) st = eg_config_validate(&cf, &sp);
        if (!st && !bs_fits(&f, &cf)) {
            char ck[EG_KEY_MAX];
            eg_config_print(&cf, ck, sizeof ck);
            st = eg_err(EFFGEN_INVALID_ARGUMENT,
                        "bsparse_block_q=%d, bsparse_block_k=%d with config %s: must be multiples of block_m=%d and "
                        "block_n=%d",
                        bs_block(f.bsparse_block_q), bs_block(f.bsparse_block_k), ck, cf.block_m, cf.block_n);
        }
    } else {
        st = eg_model_default(&sp, &cf);
        if (!st) eg_rt_fit_config(&f, &cf);
    }
    if (st) return st;
    /* one CTA per (batch, head, query block) on a one-dimensional grid */
    int64_t ctas = ((int64_t)grid_rows(&f) + cf.block_m - 1) / cf.block_m * f.batch * f.heads;
    if (ctas > INT32_MAX) {
        char ck[EG_KEY_MAX];
        eg_config_print(&cf, ck, sizeof ck);
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "batch*heads*ceil(%s/%d)=%lld with config %s: must be at most %d (grid limit)",
                      is_varlen(&f) ? "max_seqlen_q" : "seqlen_q", cf.block_m,
                      (long long)ctas, ck, INT32_MAX);
    }
    *s = sp;
    *c = cf;
    return EFFGEN_OK;
}

effgen_status eg_rt_launch(effgen_ctx *ctx, const eg_rt_kernel *k, const effgen_attn_args *a, CUstream stream) {
    if (!ctx || !k || !a) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_launch: NULL argument");
    const eg_rt_cuda *cu = NULL;
    effgen_status st = eg_rt_cuda_load(&cu);
    if (st) return st;
    effgen_attn_args f = *a;
    eg_rt_lower_bias(ctx, &f); /* the same lowering as eg_rt_problem's, so that the launch fits the kernel */
    st = fill_strides(&f);
    if (st) return st;

    fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = f.q;
    p.k = f.k;
    p.v = f.v;
    p.o = f.o;
    p.lse = f.lse;
    p.q_sb = f.q_stride[0], p.q_sh = f.q_stride[1], p.q_sn = f.q_stride[2];
    p.k_sb = f.k_stride[0], p.k_sh = f.k_stride[1], p.k_sn = f.k_stride[2];
    p.v_sb = f.v_stride[0], p.v_sh = f.v_stride[1], p.v_sn = f.v_stride[2];
    p.o_sb = f.o_stride[0], p.o_sh = f.o_stride[1], p.o_sn = f.o_stride[2];
    p.b = f.batch;
    p.h = f.heads;
    p.nq = f.seqlen_q;
    p.nk = f.seqlen_k;
    /* the diagonal of the causal mask, and also of the window and of ALiBi's distances */
    int diag = f.causal || f.window || f.alibi_slopes;
    p.causal_offset = (diag && f.causal_align == EFFGEN_CAUSAL_BOTTOM_RIGHT) ? f.seqlen_k - f.seqlen_q : 0;
    if (is_varlen(&f)) {
        /* per sequence, added by the kernel */
        p.varlen_br = diag && f.causal_align == EFFGEN_CAUSAL_BOTTOM_RIGHT;
        p.causal_offset = 0;
        p.cu_q = f.cu_seqlens_q;
        p.cu_k = f.cu_seqlens_k;
    }
    p.bias = f.bias;
    p.bias_sb = f.bias_stride[0], p.bias_sh = f.bias_stride[1], p.bias_sq = f.bias_stride[2];
    p.mask = f.mask;
    p.mask_sb = f.mask_stride[0], p.mask_sh = f.mask_stride[1], p.mask_sq = f.mask_stride[2];
    p.bs_row = f.bsparse_row_ptr;
    p.bs_col = f.bsparse_col_idx;
    p.bs_row_sb = f.bsparse_row_stride[0], p.bs_row_sh = f.bsparse_row_stride[1];
    p.bs_col_sb = f.bsparse_col_stride[0], p.bs_col_sh = f.bsparse_col_stride[1];
    p.bs_bq = bs_block(f.bsparse_block_q);
    p.bs_bk = bs_block(f.bsparse_block_k);
    if (f.bsparse_row_ptr && !bs_fits(&f, &k->config)) {
        char ck[EG_KEY_MAX];
        eg_config_print(&k->config, ck, sizeof ck);
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "bsparse_block_q=%d, bsparse_block_k=%d with config %s: must be multiples of block_m=%d and "
                      "block_n=%d",
                      p.bs_bq, p.bs_bk, ck, k->config.block_m, k->config.block_n);
    }
    /* an unbounded extent (-1, or off) becomes one that reaches every key from every query */
    int64_t reach = (int64_t)f.seqlen_q + f.seqlen_k + 1;
    if (reach > INT32_MAX) reach = INT32_MAX; /* only without a window (validated otherwise): never read */
    p.win_left = (int)(f.window && f.window_left >= 0 && f.window_left < reach ? f.window_left : reach);
    p.win_right = (int)(f.window && f.window_right >= 0 && f.window_right < reach ? f.window_right : reach);
    p.kv_group = f.heads / kv_heads_of(&f);
    p.alibi = f.alibi_slopes;
    p.scale = f.scale != 0.0f ? f.scale : (float)(1.0 / sqrt((double)f.head_dim));
    p.scale_log2 = (float)((double)p.scale * EG_LOG2E);
    p.bias_mul = (float)(1.0 / (double)p.scale);
    if (f.softcap > 0.0f) {
        p.softcap_in = (float)((double)p.scale / f.softcap);
        p.softcap_out = (float)((double)f.softcap / p.scale);
    }
    if (eg_spec_has_expr(&k->spec) && (st = eg_rt_expr_table(&k->spec, &f, &p.xt))) return st;
    p.m_blocks = (grid_rows(&f) + k->config.block_m - 1) / k->config.block_m;
    /* Launch order: groups of heads (eg_rt_head_group); within a group the query blocks of all its heads
     * interleave, the heaviest first under a causal mask. Causal work grows with the query block only
     * without a window, a block table or packed sequences. */
    int64_t bh = (int64_t)f.batch * f.heads;
    int heavy_first = k->config.family == EG_FAMILY_MMA && k->spec.mask == EG_MASK_CAUSAL && !k->spec.window &&
                      !k->spec.varlen && !k->spec.bsparse;
    int64_t slots = 0; /* CTAs resident at once: only the heaviest-first order reads them */
    if (heavy_first) {
        int per_sm = eg_model_occupancy(ctx->arch, 32 * k->config.warps, k->registers > 0 ? k->registers : 255,
                                        k->smem_bytes);
        slots = (int64_t)(ctx->info.sm_count > 0 ? ctx->info.sm_count : 1) * (per_sm > 0 ? per_sm : 1);
    }
    int64_t group = eg_rt_head_group(bh, f.seqlen_k, f.head_dim, p.m_blocks, heavy_first, slots);
    if (ctx->head_group > 0) group = ctx->head_group; /* EFFGEN_HEAD_GROUP, for measurements */
    p.head_group = (int)(group < 1 ? 1 : group > bh ? bh : group);
    /* A bias or bit mask shared by the batch entries (stride 0 over the batch) is the largest tensor a
     * launch reads (N x N per head), and so may be what user expressions read when they do not read b:
     * with the batch index innermost its tiles are read from memory by one CTA and from L2 by the others
     * running beside it, instead of once per entry, tiles apart in time. */
    p.batch_inner = f.batch > 1 && ((f.bias && f.bias_stride[0] == 0) || (f.mask && f.mask_stride[0] == 0) ||
                                    eg_spec_expr_batch_free(&k->spec));

    /* query blocks of one head are neighbours in launch order, so they share K and V in L2 */
    unsigned grid_x = (unsigned)((int64_t)f.batch * f.heads * p.m_blocks);
    void *params[6] = {&p, NULL, NULL, NULL, NULL, NULL};
    tma_map tq, tk, tv, to, tb;
    if (k->config.family == EG_FAMILY_WG) {
        /* the wg family takes TMA descriptors of Q, K, V and O (then the bias's) after the parameters */
        if (!cu->cuTensorMapEncodeTiled)
            return eg_err(EFFGEN_DRIVER_UNAVAILABLE,
                          "%s: the CUDA driver has no cuTensorMapEncodeTiled (CUDA 12.0 or later is needed for the "
                          "wgmma family's TMA descriptors)",
                          k->key);
        /* under varlen one batch entry of all the packed tokens (the kernel adds each sequence's first row) */
        int tb_batch = is_varlen(&f) ? 1 : f.batch;
        if ((st = tma_encode(cu, &tq, "q", f.q, f.dtype, f.head_dim, f.seqlen_q, f.heads, tb_batch, f.q_stride,
                             k->config.block_m)) ||
            (st = tma_encode(cu, &tk, "k", f.k, f.dtype, f.head_dim, f.seqlen_k, kv_heads_of(&f), tb_batch,
                             f.k_stride, k->config.block_n)) ||
            (st = tma_encode(cu, &tv, "v", f.v, f.dtype, f.head_dim, f.seqlen_k, kv_heads_of(&f), tb_batch,
                             f.v_stride, k->config.block_n)))
            return eg_err_wrap(st, "%s", k->key);
        params[1] = &tq;
        params[2] = &tk;
        params[3] = &tv;
        /* O leaves by TMA too, in boxes of one consumer's 64 rows (validation already holds O to the TMA's
         * alignment: a 16-byte address and strides in whole 16 bytes) */
        if ((st = tma_encode(cu, &to, "o", f.o, f.dtype, f.head_dim, f.seqlen_q, f.heads, tb_batch, f.o_stride, 64)))
            return eg_err_wrap(st, "%s", k->key);
        params[4] = &to;
        if (k->spec.bias) {
            /* the bias by TMA too: (keys, queries, heads, batch), a broadcast dimension (stride 0) of size 1
             * and read at 0; rows of BM queries in boxes of 64 keys */
            const int64_t *bst = f.bias_stride;
            if (bst[2] == 0)
                return eg_err(EFFGEN_UNSUPPORTED,
                              "%s: bias_stride[2]=0 (one row for every query) is not supported by the wgmma family; "
                              "use an mma config (e.g. bm128.bn64.w4.s2)",
                              k->key);
            if ((uintptr_t)f.bias % 16)
                return eg_err(EFFGEN_UNSUPPORTED,
                              "%s: bias=%p: the wgmma family's TMA needs 16-byte alignment; use an mma config", k->key,
                              f.bias);
            int64_t bstr[3] = {bst[0], bst[1], bst[2]};
            if ((st = tma_encode(cu, &tb, "bias", f.bias, f.dtype, f.seqlen_k, f.seqlen_q, bst[1] ? f.heads : 1,
                                 bst[0] ? f.batch : 1, bstr, k->config.block_m)))
                return eg_err_wrap(st, "%s", k->key);
            params[5] = &tb;
        }
        /* A persistent grid (as many CTAs as fit on the SMs at once; EFFGEN_WG_PERSISTENT=0 turns it off):
         * each CTA draws its next work tile from a counter in launch order (the heaviest first under a
         * causal mask), so SMs that finish light tiles take more, and its producer loads the next tile's
         * K and V while the consumers finish the current one. Without a counter (see eg_rt_tile_counter)
         * or with few tiles, one CTA per tile. */
        int persistent = ctx->wg_persistent != 0;
        int regs = k->registers > 0 ? k->registers : 128;
        int per_sm = eg_model_occupancy(ctx->arch, k->threads, regs, k->smem_bytes);
        unsigned sms = (unsigned)(ctx->info.sm_count > 0 ? ctx->info.sm_count : 0);
        unsigned slots = sms * (unsigned)(per_sm > 0 ? per_sm : 1);
        if (eg_model_wg_walk(&k->spec)) {
            /* strips of consecutive query blocks whose shared key tiles load once (docs/hopper.md) */
            int strip = eg_rt_wg_strip(&k->config, (int64_t)f.batch * f.heads, p.m_blocks, p.causal_offset,
                                       p.win_left, p.win_right, slots);
            if (ctx->wg_strip > 0) strip = ctx->wg_strip < p.m_blocks ? ctx->wg_strip : p.m_blocks; /* EFFGEN_WG_STRIP */
            if (strip < 1) strip = 1;
            int per_head = (p.m_blocks + strip - 1) / strip;
            p.strip = (p.m_blocks + per_head - 1) / per_head; /* strips of a head as even as they go */
            grid_x = (unsigned)((int64_t)f.batch * f.heads * per_head);
        }
        if (persistent && slots > 0 && grid_x > slots) {
            CUdeviceptr counter;
            if (eg_rt_tile_counter(ctx, stream, &counter) != EFFGEN_OK) {
                eg_rt_log(ctx, "%s: no tile counter (%s); one CTA per work tile", k->key, effgen_last_error());
                eg_err_clear(); /* the grid of one CTA per tile needs none */
                counter = 0;
            }
            if (counter) {
                p.tile_counter = (int32_t *)(uintptr_t)counter;
                grid_x = slots;
            }
        }
    }
    CUresult r = cu->cuLaunchKernel(k->fn, grid_x, 1, 1, (unsigned)(32 * k->config.warps), 1, 1,
                                    (unsigned)k->smem_bytes, stream, params, NULL);
    if (r) {
        st = eg_rt_cu(r, "cuLaunchKernel");
        return eg_err_wrap(st, "%s (grid %u, %d threads, %d bytes shared memory)", k->key, grid_x,
                           32 * k->config.warps, k->smem_bytes);
    }
    return EFFGEN_OK;
}

effgen_status effgen_varlen_validate(const int32_t *cu_q, const int32_t *cu_k, int batch, int total_q, int total_k,
                                     int *max_seqlen_q) {
    if (batch < 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "batch=%d: must be >= 1", batch);
    const int32_t *cu[2] = {cu_q, cu_k};
    const char *name[2] = {"cu_seqlens_q", "cu_seqlens_k"};
    const int total[2] = {total_q, total_k};
    const char *tname[2] = {"total_q", "total_k"};
    int longest = 0;
    for (int t = 0; t < 2; t++) {
        if (!cu[t]) return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=NULL: must be a host copy of batch + 1 offsets", name[t]);
        if (cu[t][0] < 0)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s[0]=%d: must be >= 0", name[t], (int)cu[t][0]);
        for (int b = 1; b <= batch; b++) {
            if (cu[t][b] < cu[t][b - 1])
                return eg_err(EFFGEN_INVALID_ARGUMENT, "%s[%d]=%d: must be >= %s[%d]=%d (non-decreasing)", name[t], b,
                              (int)cu[t][b], name[t], b - 1, (int)cu[t][b - 1]);
            if (cu[t][b] > total[t])
                return eg_err(EFFGEN_INVALID_ARGUMENT, "%s[%d]=%d: must be <= %s=%d (rows of the packed tensor)",
                              name[t], b, (int)cu[t][b], tname[t], total[t]);
            if (t == 0 && cu[t][b] - cu[t][b - 1] > longest) longest = cu[t][b] - cu[t][b - 1];
        }
    }
    if (max_seqlen_q) *max_seqlen_q = longest;
    return EFFGEN_OK;
}

effgen_status effgen_bsparse_validate(const int32_t *row_ptr, const int32_t *col_idx, int n_qblocks, int n_kblocks,
                                      int64_t col_capacity) {
    if (!row_ptr) return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr=NULL: must be a host copy of the table");
    if (!col_idx) return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_col_idx=NULL: must be a host copy of the table");
    if (n_qblocks < 1 || n_kblocks < 1)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "n_qblocks=%d, n_kblocks=%d: must be >= 1", n_qblocks, n_kblocks);
    if (row_ptr[0] < 0) return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr[0]=%d: must be >= 0", (int)row_ptr[0]);
    for (int r = 1; r <= n_qblocks; r++) {
        if (row_ptr[r] < row_ptr[r - 1])
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr[%d]=%d: must be >= bsparse_row_ptr[%d]=%d (non-decreasing)",
                          r, (int)row_ptr[r], r - 1, (int)row_ptr[r - 1]);
        if (row_ptr[r] > col_capacity)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr[%d]=%d: must be <= %lld (entries of bsparse_col_idx)",
                          r, (int)row_ptr[r], (long long)col_capacity);
        for (int i = row_ptr[r - 1]; i < row_ptr[r]; i++) {
            if (col_idx[i] < 0 || col_idx[i] >= n_kblocks)
                return eg_err(EFFGEN_INVALID_ARGUMENT,
                              "bsparse_col_idx[%d]=%d: must be from 0 to %d (key blocks of seqlen_k; query block %d)", i,
                              (int)col_idx[i], n_kblocks - 1, r - 1);
            if (i > row_ptr[r - 1] && col_idx[i] <= col_idx[i - 1])
                return eg_err(EFFGEN_INVALID_ARGUMENT,
                              "bsparse_col_idx[%d]=%d: must be > bsparse_col_idx[%d]=%d (strictly ascending within query "
                              "block %d)",
                              i, (int)col_idx[i], i - 1, (int)col_idx[i - 1], r - 1);
        }
    }
    return EFFGEN_OK;
}
