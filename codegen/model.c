/* model.c - the cost model: shared memory and register footprint of a config, occupancy, and the
 * default config for a spec. The shared-memory term grows with head_dim * (block_m + 2*stages*block_n)
 * and the accumulator registers with head_dim * block_m / warps: the d^2 tradeoff the tuner explores.
 * See docs/cost-model.md for the formulas. */
#include <math.h>

#include "cg.h"
#include "expr.h"

eg_arch_limits eg_model_limits(int arch) {
    eg_arch_limits l = {101376, 102400, 65536, 1536};
    switch (eg_arch_base(arch)) {
    case 80:
    case 87:
        l.smem_per_block = 166912;
        l.smem_per_sm = 167936;
        l.max_threads_per_sm = 2048;
        break;
    case 90:
    case 100:
    case 103:
    case 110:
        l.smem_per_block = 232448;
        l.smem_per_sm = 233472;
        l.max_threads_per_sm = 2048;
        break;
    default: /* 86, 89, 120, 121: 100 KB per SM */
        break;
    }
    return l;
}

int eg_model_row_pitch(int head_dim) {
    /* ldmatrix reads eight 16-byte rows at once; with an odd number of 16-byte chunks per row the eight
     * rows land in eight distinct bank groups. */
    int chunks = head_dim / 8;
    if (chunks % 2 == 0) chunks += 1;
    return chunks * 8;
}

void eg_model_wg_regs(int consumers, int *producer, int *consumer) {
    /* __launch_bounds__(threads, 1) gives every thread 65536 / threads registers (rounded down to 8); the
     * producer warpgroup gives most of its share back and the consumers take it: 128 * producer +
     * 128 * consumers * consumer must stay within the CTA's allocation or the increase would wait forever. */
    switch (consumers) {
    case 2: *producer = 40, *consumer = 232; break;  /* 384 threads of 168: 5120 + 59392 <= 64512 */
    case 3: *producer = 32, *consumer = 160; break;  /* 512 threads of 128: 4096 + 61440 <= 65536 */
    default: *producer = 0, *consumer = 0; break;    /* 256 threads keep 255 each: nothing to move */
    }
}

/* The wg family: Q (block_m rows), stages of K and V (block_n rows each), the output's staging buffer
 * (block_m rows of `obuf` 64-column blocks, where it fits), all in 128-byte swizzled 64-column blocks; 1 KB
 * of slack to align the base to the swizzle pattern, and the mbarriers. Registers of a consumer thread:
 * S (block_n / 2 fp32), O (head_dim / 2 fp32), P (block_n / 4 packed) and state. */
static int wg_smem(const eg_spec *s, const eg_config *c, int obuf, int vstage) {
    int padded = (s->head_dim + 63) / 64 * 64; /* tiles are stored in whole 64-column blocks */
    int bytes = (c->block_m + (2 * c->stages + vstage) * c->block_n) * padded * 2;
    bytes += c->block_m * obuf * 128 + 1024 + 256;
    if (s->bias) bytes += c->stages * c->block_m * c->block_n * 2; /* a bias tile per K stage */
    return bytes;
}

int eg_model_wg_obuf(const eg_spec *s, const eg_config *c) {
    int limit = eg_model_limits(s->arch).smem_per_block;
    for (int ob = (s->head_dim + 63) / 64; ob >= 1; ob--)
        if (wg_smem(s, c, ob, 0) <= limit) return ob;
    return 0;
}

int eg_model_wg_vstage(const eg_spec *s, const eg_config *c) {
    /* One V stage more than K's, for the kernels that walk strips, where it fits beside the output buffer the
     * model gives the kernel without it. Measured on an H200 (bench/results/h200-2026-12-02e, run 5, and
     * h200-2026-12-02f, run 1): the causal window of 256 and the two-sided window of 128 at D = 128 0 to +1.8%;
     * dense D = 128 -1.8 to +4% and D = 64 -3 to +0.4% with it, left without. */
    int obuf = eg_model_wg_obuf(s, c);
    return eg_model_wg_walk(s) && obuf > 0 && wg_smem(s, c, obuf, 1) <= eg_model_limits(s->arch).smem_per_block;
}

int eg_model_wg_softmax_overlap(const eg_spec *s, const eg_config *c) {
    /* measured on an H200 (bench/results/h200-2026-11-30d, run3-overlap-everywhere): +1 to +10% at D = 128
     * with two consumers of 128-key tiles, -2 to -9% at D = 64 (two or three consumers) and up to -10% at
     * D = 256 (64-key tiles); with a bias, whose softmax reads its tile from shared memory, -3.5% at N = 2k
     * (run7-bias-overlap) */
    return eg_config_consumers(c) == 2 && c->block_n == 128 && s->head_dim > 64 && !s->bias;
}

static void wg_cost(const eg_spec *s, const eg_config *c, eg_cost *out) {
    out->smem_bytes = wg_smem(s, c, eg_model_wg_obuf(s, c), eg_model_wg_vstage(s, c));
    out->regs_estimate = c->block_n / 2 + s->head_dim / 2 + c->block_n / 4 + 24;
    /* a head dim that is not a multiple of 64 ends in a partial column block: its extra addressing
     * measured about 16 more (the three-consumer picks at 80 and 160 spilled without this) */
    if (s->head_dim % 64) out->regs_estimate += 16;
    /* three consumers keep about 8 more of loop and tile state live than the sum above (the picks at 136
     * and 144 spilled at an estimate of 156 and 160; 64 with 128-key tiles does not at 152) */
    if (eg_config_consumers(c) == 3) out->regs_estimate += 8;
    /* the variants' per-score work: tanhf's temporaries, the ALiBi slope and the window bounds */
    if (s->softcap) out->regs_estimate += 16;
    if (s->alibi) out->regs_estimate += 4;
    if (s->window) out->regs_estimate += 4;
    if (s->bias) out->regs_estimate += 8;
    if (s->bmask) out->regs_estimate += 2 * (c->block_n / 32); /* the mask words of the thread's two rows */
    /* user expressions: their tensor reads in flight beside S (measured: three consumers of 128-key tiles
     * at D = 64, an estimate of 160, spill 80 to 100 bytes with a score or a mask expression reading a
     * tensor; every two-consumer shape and three of 64-key tiles up to D = 128 spill nothing) */
    if (eg_spec_has_expr(s)) out->regs_estimate += 8;
    /* a mask expression is evaluated while S = Q K^T is in flight, beside S, O and P: its reads in flight
     * (measured: 12 to 44 bytes of spills with 128-key tiles at D = 64 and 128, and with 64-key tiles at
     * D = 256; none with 64-key tiles at D = 64 and 128) */
    if (s->mask_mod) out->regs_estimate += c->block_n / 2 + 16;
    out->threads = 32 * c->warps;
    /* the kernel's register cap is the whole file over its threads: one CTA per SM */
    int regs = 65536 / out->threads / 8 * 8;
    out->blocks_per_sm = eg_model_occupancy(s->arch, out->threads, regs > 255 ? 255 : regs, out->smem_bytes);
}

int eg_model_wg_qreg(const eg_spec *s, const eg_config *c) {
    /* Q's fragments take (D rounded up to 16) / 4 registers of a consumer thread for the whole key loop:
     * only with two consumers of 128-key tiles (232 registers each), without a user expression, and where
     * the estimate with them stays 8 under that budget (D = 128 without variants is 216, with a window,
     * ALiBi or a bias up to 224, none of which spills; with a softcap and GQA on top it spilled 20 bytes) */
    if (eg_config_consumers(c) != 2 || c->block_n != 128 || eg_spec_has_expr(s)) return 0;
    eg_cost cost;
    wg_cost(s, c, &cost);
    return cost.regs_estimate + (s->head_dim + 15) / 16 * 4 <= 224;
}

int eg_model_wg_walk(const eg_spec *s) {
    /* a window's key range moves forward with the query block, by whole tiles, so consecutive blocks share
     * tiles; a block-sparse table or a mask expression that skips tiles breaks the order, and a bias tile
     * belongs to one query block. Measured on an H200 (bench/results/h200-2026-12-01j): the causal window
     * of 256 at D = 128 +3.1% (2k) and +1.4% (8k), two-sided 128 +1.4 / +2.4%; at D = 64 -1.5 to -3% */
    return s->window && s->head_dim > 64 && s->head_dim <= 128 && !s->bsparse && !s->bias &&
           !(s->mask_mod && eg_expr_range_useful(s->mask_mod));
}

int eg_model_wg_halves(const eg_spec *s, const eg_config *c) {
    /* measured on an H200 (bench/results/h200-2026-12-02d, run 5): the causal window of 256 and the
     * two-sided window of 128 at D = 128, 2k and 8k, +1.3 to +2.2%. Head dims 72 to 128, the kernels that
     * walk strips like the one measured; D = 64 (three stages, no strips) was not timed with it. */
    return s->window && s->head_dim > 64 && s->head_dim <= 128 && c->block_n == 128 && eg_config_consumers(c) == 2 &&
           !s->bias && !s->bmask && !s->bsparse && !eg_spec_has_expr(s);
}

void eg_model_cost(const eg_spec *s, const eg_config *c, eg_cost *out) {
    if (c->family == EG_FAMILY_WG) {
        wg_cost(s, c, out);
        return;
    }
    int pitch = eg_model_row_pitch(s->head_dim);
    if (c->dsplit == 2) {
        /* pairs of warps (templates/eg_attn_fwd_pair.cuh): Q, the K/V ring, then each warp's half of P
         * (32 rows of block_n / 2 + 8 16-bit elements) and 32 fp32 row statistics. Per thread: O of 32 rows
         * and half the head dim, S and P of 32 rows and half the keys. */
        out->smem_bytes = (c->block_m + 2 * c->stages * c->block_n) * pitch * 2 + c->warps * 32 * (c->block_n / 2 + 8) * 2 +
                          c->warps * 32 * 4;
        out->regs_estimate = s->head_dim / 2 + c->block_n / 2 + c->block_n / 4 + 8 + 24;
        out->threads = 32 * c->warps;
        int regs = out->regs_estimate > 255 ? 255 : out->regs_estimate;
        out->blocks_per_sm = eg_model_occupancy(s->arch, out->threads, regs, out->smem_bytes);
        return;
    }
    int m_tiles = c->block_m / c->warps / 16; /* 16-row MMA tiles per warp */
    int o_regs = m_tiles * (s->head_dim / 8) * 4;
    int s_regs = m_tiles * (c->block_n / 8) * 4;
    out->smem_bytes = (c->block_m + 2 * c->stages * c->block_n) * pitch * 2;
    /* fp32 accumulators for O and S, two row statistics per 8 rows, addressing and loop state */
    out->regs_estimate = o_regs + s_regs + 4 * m_tiles + 24;
    /* variants holding per-tile data in registers: bias pairs in the S layout, mask words per row; the
     * table walk and per-sequence bounds need a few more */
    if (s->bias) out->regs_estimate += s_regs / 2;
    if (s->bmask) out->regs_estimate += m_tiles * 2 * (c->block_n % 32 ? 1 : c->block_n / 32) + 4;
    if (s->varlen) out->regs_estimate += 4;
    if (s->bsparse) out->regs_estimate += 24;
    /* a mask expression's tile verdicts: interval arithmetic in 64-bit pairs beside O (measured on sm_90 at
     * D = 128: four warps of 32 rows and 64-key tiles, an estimate of 224, spill 24 to 488 bytes, 22 to 24%
     * behind 32-key tiles on a window, 3% ahead on chunks; bench/results/h200-2026-11-30h) */
    if (s->mask_mod && eg_expr_range_useful(s->mask_mod)) out->regs_estimate += 16;
    out->threads = 32 * c->warps;
    int regs = out->regs_estimate > 255 ? 255 : out->regs_estimate;
    out->blocks_per_sm = eg_model_occupancy(s->arch, out->threads, regs, out->smem_bytes);
}

int eg_model_unsigned_offsets(const eg_spec *s, const eg_config *c) {
    /* The plain loop's copy offsets and LSE row in unsigned arithmetic (the UOFF trait): ptxas held their sign
     * words in registers through the loop and spilled D = 128 (sm_90 16 bytes, sm_100 40 / 24) and D = 160
     * (sm_90 8 / 24) at the 255-register cap. The same change elsewhere moved the allocation for the worse:
     * D = 64 on sm_90 4 to 12% slower without a mask, D = 160 on sm_80 to sm_89 a new 8-byte spill, so it
     * applies from D = 128 on sm_90 and later. Measured on an H200 (bench/results/h200-2026-12-01m, run 3):
     * D = 128 +0.4 to +5% causal (+2 to +5% from N = 1k), +0.2 to +1.6% without a mask. Kernels with variants
     * keep the signed form: they were not measured with it. */
    return c->family == EG_FAMILY_MMA && c->dsplit == 0 && s->head_dim >= 128 && eg_arch_base(s->arch) >= 90 &&
           !eg_spec_has_variant(s);
}

int eg_model_pair_last_apart(const eg_spec *s, const eg_config *c) {
    /* The pair layout's last key tile as a copy of its own under a causal mask (the LAST_APART trait): a pair
     * whose rows all end before the tile's first key leaves it out (at block_m = 2 block_n half the pairs of
     * every query block), and the others' products run with the SM to themselves while it starts its epilogue.
     * H200, bf16 and fp16 (bench/results/h200-2026-12-02a): D = 256 +7.5% at N = 512, +4% at 1k, level from
     * 4k; D = 192 +6 to +7% at 512. Without the mask the copy only made ptxas give the D = 192 loop 225
     * registers and 129 more address instructions, 3 to 4% slower, so those kernels keep one loop. On sm_110
     * ptxas spilled the D = 256 copy (12 bytes). (A pair skipping such tiles inside the loop, with the branch
     * in every iteration, measured 6 to 15% slower from 1k.) */
    return c->family == EG_FAMILY_MMA && c->dsplit == 2 && s->mask == EG_MASK_CAUSAL && eg_arch_base(s->arch) != 110;
}

int eg_model_pair_one_barrier(const eg_spec *s, const eg_config *c) {
    /* The pair layout with one block barrier per key tile (the ONE_BARRIER trait): its refills are issued
     * during a tile's S, after the barrier at the tile's start, so the barrier after each tile's P V (and the
     * one after the loop, but where no key tile ran) guards nothing. H200, against the tree before
     * (bench/results/h200-2026-12-02h, run 2): D = 256 without a mask +1.0 / +0.6 / +0.8 / +0.5 / -0.2 /
     * +0.2% at N = 512 ... 16k (fp16 +0.9 / +0.7% at 512 / 1k), causal level (-0.1 to +0.9%); at D = 192
     * ptxas then moved the key loop's 21 uniform-datapath instructions to per-thread registers and it ran 3 to
     * 6% slower without a mask (causal level), so there it stays off. */
    return c->family == EG_FAMILY_MMA && c->dsplit == 2 && s->head_dim == 256;
}

int eg_model_q_in_registers(const eg_spec *s, const eg_config *c) {
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    int m_tiles = c->block_m / c->warps / 16;
    int q_regs = m_tiles * (s->head_dim / 16) * 4;
    /* keep 40 registers of slack: fragments in flight and addressing grow with the unrolled loops */
    return cost.regs_estimate + q_regs <= 200;
}

int eg_model_occupancy(int arch, int threads, int regs, int smem) {
    eg_arch_limits l = eg_model_limits(arch);
    if (threads <= 0) return 0;
    int warps = (threads + 31) / 32;
    int regs_per_warp = ((regs < 1 ? 1 : regs) * 32 + 255) / 256 * 256; /* allocation unit: 256 per warp */
    int by_regs = l.regs_per_sm / (regs_per_warp * warps);
    int by_threads = l.max_threads_per_sm / threads;
    int by_smem = smem > 0 ? l.smem_per_sm / (smem + 1024) : 32; /* 1 KB reserved per block */
    int b = by_regs < by_threads ? by_regs : by_threads;
    b = b < by_smem ? b : by_smem;
    return b > 32 ? 32 : b;
}

int eg_model_sm_count(int arch) {
    switch (eg_arch_base(arch)) {
    case 80: return 108;
    case 86: return 84;
    case 87: return 16;
    case 89: return 128;
    case 90: return 132;
    case 100:
    case 103: return 148;
    case 110: return 20;
    default: return 84; /* 120, 121 */
    }
}

/* Clock of the reference part in MHz: estimates in clocks become microseconds. */
#define REF_MHZ 1.755e3

/* Key blocks a CTA of block_m query rows visits: all of them, or under a causal mask about half plus
 * the diagonal. */
static double key_blocks(const eg_spec *s, int block_m, int block_n, int seqlen_k) {
    double kb = ceil((double)seqlen_k / block_n);
    if (s->mask == EG_MASK_CAUSAL) kb = kb / 2.0 + 0.5 * ceil((double)block_m / block_n);
    return kb;
}

/* The wg family, per key tile, from the rates of the reference part (H100/H200 SXM):
 * - tensor cores: 2048 dense 16-bit FMA per clock per SM, so a wgmma m64nNk16 takes N/2 clocks, plus 16
 *   per instruction (its 64 x 16 A operand, 2 KB, staged at 128 bytes per clock; why narrow N costs
 *   more). A consumer's S = Q K^T is D/16 of m64n{BN}k16 and its O += P V is BN/16 of m64n{D}k16.
 * - softmax: 64 x BN exponentials (and 64 for the rescale) on the MUFU at 16 per clock per SM, or the
 *   consumer's instructions on the issue slots of its four warps (one per sub-partition): per thread
 *   BN/2 scores of 5 instructions (scale and subtract, max, exp2, sum, pack), D/2 to rescale O, 40 more.
 * - latency no other unit covers: 400 clocks (the two wgmma waits, the quad shuffles, the barriers).
 * A consumer runs these one after another (it waits for its S before the softmax and for O before the
 * next tile), while the C consumers of a CTA share the tensor cores and the softmax units: one's softmax
 * overlaps another's wgmma. The time of a key tile is the cycle time of that closed network of C
 * consumers, by exact mean value analysis. */
static double wg_tile_clocks(int head_dim, int block_n, int consumers) {
    const double D = head_dim, BN = block_n;
    double tensor = D / 16.0 * (BN / 2.0 + 16.0) + BN / 16.0 * (D / 2.0 + 16.0);
    double mufu = (64.0 * BN + 64.0) / 16.0;
    double issue = BN / 2.0 * 5.0 + D / 2.0 + 40.0;
    double softmax = mufu > issue ? mufu : issue;
    const double latency = 400.0;
    double q_tensor = 0.0, q_softmax = 0.0, cycle = latency + tensor + softmax;
    for (int n = 1; n <= consumers; n++) {
        double r_tensor = tensor * (1.0 + q_tensor), r_softmax = softmax * (1.0 + q_softmax);
        cycle = latency + r_tensor + r_softmax;
        q_tensor = n * r_tensor / cycle;
        q_softmax = n * r_softmax / cycle;
    }
    return cycle;
}

/* The producer keeps stages - 1 tiles in flight while the consumers work on one: a tile's K and V
 * (4 * block_n * head_dim bytes, at 64 bytes per clock from L2 after 500 clocks) wait only where that
 * takes longer. Each CTA also reads its Q and writes its O (4 * block_m * head_dim bytes at the SM's
 * share of HBM, about 20 bytes per clock) and waits about 1500 clocks for its first tiles. One CTA per
 * SM; waves of CTAs over the SMs as for the mma family. */
static double wg_estimate(const eg_spec *s, const eg_config *c, const eg_cost *cost, int batch_heads,
                          int seqlen_q, int seqlen_k) {
    const int D = s->head_dim, BM = c->block_m, BN = c->block_n;
    double tile = wg_tile_clocks(D, BN, eg_config_consumers(c));
    double load = 500.0 + 4.0 * BN * D / 64.0;
    double hidden = (c->stages - 1) * tile;
    if (load > hidden) tile += load - hidden;
    double cta_fixed = 1500.0 + 4.0 * BM * D / 20.0;
    int bps = cost->blocks_per_sm < 1 ? 1 : cost->blocks_per_sm;
    double ctas = (double)batch_heads * ceil((double)seqlen_q / BM);
    double waves = ceil(ctas / ((double)eg_model_sm_count(s->arch) * bps));
    double clocks = waves * (key_blocks(s, BM, BN, seqlen_k) * tile + cta_fixed) + 2000.0;
    /* Three consumers of 64-key tiles measured 1 to 23% slower than two of 128-key tiles wherever both
     * were timed (D = 64, 80 and 96, N = 512 to 4k; H200), where the estimate above ranked them close or
     * ahead: it matches them and runs about 10% under the two-consumer configs. */
    if (eg_config_consumers(c) == 3 && BN == 64) clocks *= 1.10;
    /* Stages. A second tile in flight covers the mean wait for a tile's loads but not its spread while
     * every SM loads at once: a third stage measured 1.5 to 2.6% faster at D = 64 under a causal mask (two
     * and three consumers), -1 to +8% at D = 128 with 64-key tiles (most on short rows), level at D = 64
     * without a mask (H200, bench/results/h200-2026-12-01e). Unless the stage takes the room of O's own
     * staging buffer: the next work tile's Q then waits for this one's epilogue, up to 12% slower (D = 128,
     * 128-key tiles). */
    if (c->stages == 2) clocks *= 1.02;
    if (c->stages > 2) {
        eg_config fewer = *c;
        fewer.stages--;
        if (eg_model_wg_obuf(s, c) < eg_model_wg_obuf(s, &fewer)) clocks *= 1.08;
    }
    return clocks / REF_MHZ;
}

/* Per key block and warp: tensor-core instructions, ldmatrix loads and other issued instructions.
 * Per CTA and key block the SM spends the largest of three times (clocks): tensor (an m16n8k16 every
 * 4 clocks per sub-partition), shared-memory reads (128 bytes per clock: ldmatrix.x4 reads 512, each
 * cp.async 16-byte chunk is written once), and instruction issue (one per clock per sub-partition).
 * Too few resident warps leave latency exposed; the last partial wave of CTAs runs on part of the GPU. */
double eg_model_estimate(const eg_spec *s, const eg_config *c, int batch_heads, int seqlen_q, int seqlen_k) {
    if (eg_config_validate(c, s) != EFFGEN_OK) {
        eg_err_clear();
        return INFINITY;
    }
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    if (c->family == EG_FAMILY_WG) return wg_estimate(s, c, &cost, batch_heads, seqlen_q, seqlen_k);
    const int D = s->head_dim, BM = c->block_m, BN = c->block_n, W = c->warps;
    const double MT = BM / W / 16.0, DK = ceil(D / 16.0);
    double hmma = MT * (BN / 8.0) * (D / 16.0) + MT * (D / 8.0) * (BN / 16.0);
    double ldsm = MT * DK + DK * (BN / 16.0) + (BN / 16.0) * (D / 16.0);
    double softmax = MT * (BN / 8.0) * 4.0 * 5.0 + 40.0; /* max, fma, exp2, sum, pack per element */
    if (c->dsplit == 2) {
        /* a pair's 32 rows: each warp S of half the keys over the whole head dim, O of half the head dim
         * over every key, P's halves swapped through shared memory (written and read: 2 * 32 rows * BN/2
         * * 2 bytes, in ldmatrix.x4 units of 512), and the two exchanges' extra instructions */
        hmma = 2.0 * (BN / 16.0) * (D / 16.0) + 2.0 * (D / 16.0) * (BN / 16.0);
        ldsm = 2.0 * DK + DK * (BN / 32.0) + (BN / 16.0) * (D / 32.0) + 2.0 * 32.0 * BN / 512.0;
        softmax = 2.0 * (BN / 16.0) * 4.0 * 5.0 + 40.0 + 40.0;
    }
    double copies = 2.0 * BN * D / 8.0 / (32.0 * W) * 3.0;
    double issue = hmma + ldsm + softmax + copies;
    double t_tensor = W * hmma * 4.0 / 4.0;
    double t_smem = (W * ldsm * 512.0 + 2.0 * BN * D * 2.0) / 128.0;
    double t_issue = W * issue / 4.0;
    double t_block = t_tensor > t_smem ? t_tensor : t_smem;
    t_block = t_block > t_issue ? t_block : t_issue;
    /* each key tile ends at a block-wide barrier after its copy wait, a latency no other warp of the
     * block hides: about 60 clocks (without it 32- and 64-key tiles tie at D = 64, where 64 measured
     * faster on an H200) */
    t_block += 60.0;
    /* the pair layout's two exchanges per key block: each waits for the slower warp of the pair, so the
     * part of a warp's S = Q K^T (D / 16 steps) that its partner does not overlap is exposed. Measured on an
     * H200 against the plain defaults (bench/results/h200-2026-12-01b): +2 to +3.5% at D = 256, a tie at
     * 192, 24% slower at 160 (against 32 rows a warp of 32-key tiles), where shared-memory traffic alone
     * would rank it 24, 22 and -10% ahead; about 4.25 * D clocks per key block fits all three. */
    if (c->dsplit == 2) t_block += 40.0 + 4.25 * D;
    int bps = cost.blocks_per_sm < 1 ? 1 : cost.blocks_per_sm;
    double warps_per_sub = bps * W / 4.0;
    double exposed = 1.0 + 0.6 / warps_per_sub; /* latency hidden by other resident warps */
    if (cost.regs_estimate > 224) exposed *= 1.0 + (cost.regs_estimate - 224) / 64.0; /* spill risk */
    /* S packed into 16-bit P fragments for P V while S is still live: past the 255-register file the
     * kernel spills (measured: D = 64 with 128-key tiles on four warps, 16 to 104 bytes on every arch) */
    const int with_p = cost.regs_estimate + (int)(MT * (BN / 8.0) * 2.0);
    if (with_p > 255) exposed *= 1.0 + (with_p - 255) / 32.0;
    if (c->stages < 2) exposed *= 1.3; /* no tile in flight: every key block waits for its own copy */
    int sms = eg_model_sm_count(s->arch);
    double ctas = (double)batch_heads * ceil((double)seqlen_q / BM);
    double kb = key_blocks(s, BM, BN, seqlen_k);
    double slots = (double)sms * bps;
    double waves = ceil(ctas / slots);
    /* each slot runs its CTAs one after another; CTAs sharing an SM split its throughput */
    double clocks = waves * kb * t_block * exposed * bps + 2000.0;
    return clocks / REF_MHZ;
}

int eg_model_wg_supported(const eg_spec *s) {
    /* two consumers of 64-key tiles fit every head dim the family has: what refuses it refuses the spec */
    eg_config c = {128, 64, 12, 2, EG_FAMILY_WG, 0};
    if (eg_spec_validate(s) != EFFGEN_OK || eg_config_validate(&c, s) != EFFGEN_OK) {
        eg_err_clear();
        return 0;
    }
    return 1;
}

eg_family eg_model_family(const eg_spec *s) { return eg_model_wg_supported(s) ? EG_FAMILY_WG : EG_FAMILY_MMA; }

/* The wg configs (1 to 3 consumers, 64- or 128-key tiles, 2 to 4 stages) on the shape of the benchmarks:
 * 16k tokens of seqlen queries and keys, heads * head_dim = 2048. Stages run innermost and only a lower
 * estimate replaces the pick, so more stages are taken only where the model sees the loads wait. */
static effgen_status wg_pick(const eg_spec *s, int seqlen, eg_config *out) {
    int heads = 2048 / s->head_dim, batch = seqlen < 16384 ? 16384 / seqlen : 1;
    double best = INFINITY;
    eg_config pick = {0, 0, 0, 0, EG_FAMILY_WG, 0};
    static const int bns[] = {128, 64};
    for (int cons = 1; cons <= 3; cons++)
        for (int j = 0; j < 2; j++)
            for (int stages = 2; stages <= 4; stages++) {
                eg_config c = {64 * cons, bns[j], 4 * (cons + 1), stages, EG_FAMILY_WG, 0};
                double t = eg_model_estimate(s, &c, batch * (heads > 0 ? heads : 1), seqlen, seqlen);
                if (t < best) {
                    best = t;
                    pick = c;
                }
            }
    if (best == INFINITY) {
        char key[EG_KEY_MAX];
        eg_spec_print(s, key, sizeof key);
        return eg_err(EFFGEN_INTERNAL, "spec %s: no wg config fits, though the family supports the spec", key);
    }
    *out = pick;
    return EFFGEN_OK;
}

static effgen_status wg_default(const eg_spec *s, eg_config *out) { return wg_pick(s, 4096, out); }

effgen_status eg_model_pick_seqlen(const eg_spec *s, int seqlen, eg_config *out) {
    effgen_status st = eg_spec_validate(s);
    if (st) return st;
    if (seqlen < 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "seqlen=%d: must be >= 1", seqlen);
    if (eg_model_wg_supported(s)) return wg_pick(s, seqlen, out);
    return eg_model_default(s, out);
}

effgen_status eg_model_default(const eg_spec *s, eg_config *out) {
    /* The configs worth considering; the estimate on a representative problem (32 heads of 4k
     * queries and keys) picks among those the arch can run. */
    static const int bms[] = {128, 64, 32, 16}, bns[] = {128, 64, 32, 16}, ws[] = {4, 8, 2, 1};
    effgen_status st = eg_spec_validate(s);
    if (st) return st;
    /* sm_90a: the warpgroup family wherever it implements the spec */
    if (eg_model_wg_supported(s)) return wg_default(s, out);
    double best = INFINITY;
    eg_config pick = {0, 0, 0, 0, EG_FAMILY_MMA, 0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 4; k++) {
                eg_config c = {bms[i], bns[j], ws[k], 2, EG_FAMILY_MMA, 0};
                if (c.block_m % (16 * c.warps)) continue;
                /* an expression is evaluated per score in registers: 128-key tiles spill heavily */
                if (eg_spec_has_expr(s) && c.block_n > 64) continue;
                double t = eg_model_estimate(s, &c, 32, 4096, 4096);
                if (t == INFINITY) {
                    c.stages = 1; /* scarce shared memory: no prefetch beats no kernel */
                    t = eg_model_estimate(s, &c, 32, 4096, 4096);
                }
                if (t < best) {
                    best = t;
                    pick = c;
                }
                /* the same tiles with warps in pairs (.d2), where the layout applies */
                eg_config d = {bms[i], bns[j], ws[k], 2, EG_FAMILY_MMA, 2};
                if (d.block_m != 16 * d.warps || eg_spec_has_expr(s)) continue;
                double td = eg_model_estimate(s, &d, 32, 4096, 4096);
                if (td < best) {
                    best = td;
                    pick = d;
                }
            }
    if (best == INFINITY) {
        char key[EG_KEY_MAX];
        eg_spec_print(s, key, sizeof key);
        char an[16];
        eg_arch_print(s->arch, an, sizeof an);
        return eg_err(EFFGEN_RESOURCES, "spec %s: no config fits the shared memory of %s", key, an);
    }
    *out = pick;
    return EFFGEN_OK;
}
