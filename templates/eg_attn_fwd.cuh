// eg_attn_fwd.cuh - the forward attention main loop (FlashAttention-2 style) for the mma.sync family.
// One CTA owns BM query rows of one (batch, head); each warp owns BM/WARPS of them. K/V tiles of BN keys
// stream through a STAGES-deep cp.async ring (one stage: a K buffer and a V buffer, each loading while the
// other is used); S = Q K^T and O += P V run on m16n8k16 tensor cores;
// softmax is online in fp32 with exp2 and the scale folded in. The generated traits give the sizes,
// the element type and the mask hook; every loop below unrolls fully for them. Variants (window, softcap,
// ALiBi, GQA, ..., the user's score_mod and mask_mod) are traits tested with if constexpr, so a kernel
// without them compiles to the code it had before they existed.
#pragma once
#include "eg_prelude.cuh"

namespace eg {

// Kernel parameters; the host builds the identical struct (runtime/launch.c).
struct FwdParams {
    const void *q;
    const void *k;
    const void *v;
    void *o;
    float *lse;  // [b][h][nq] or null
    i64 q_sb, q_sh, q_sn;
    i64 k_sb, k_sh, k_sn;
    i64 v_sb, v_sh, v_sn;
    i64 o_sb, o_sh, o_sn;
    int b, h, nq, nk;
    int causal_offset;  // query i sees keys j <= i + causal_offset
    float scale_log2;   // scale * log2(e)
    float scale;
    int m_blocks;
    int head_group;  // heads whose query blocks interleave in launch order
    // Variants; a kernel reads only those its traits switch on. causal_offset doubles as the diagonal of
    // the window and of ALiBi (query i sits at key position i + causal_offset).
    int win_left, win_right;        // keys before / after the diagonal a query sees (>= 0, clamped by the host)
    float softcap_in, softcap_out;  // raw score x -> softcap_out * tanh(x * softcap_in)
    int kv_group;                   // query heads per K/V head
    const float *alibi;             // fp32 slopes [h], in the domain of the scaled scores
    // Variable lengths: sequence b's queries are rows cu_q[b] .. cu_q[b+1]-1 of the packed Q and O, its keys
    // rows cu_k[b] .. cu_k[b+1]-1 of K and V; nq and nk above are the totals (the LSE is [h][nq]).
    const int *cu_q;
    const int *cu_k;
    // Additive bias, element type of Q: bias + b*bias_sb + h*bias_sh + i*bias_sq + j (keys contiguous),
    // added to the raw score times bias_mul (1 / scale) so that it lands on the scaled score (score_mod
    // results return to the raw domain through it too).
    const void *bias;
    i64 bias_sb, bias_sh, bias_sq;
    float bias_mul;
    int varlen_br;  // 1: under varlen each sequence's diagonal is bottom-right (adds its nk - nq)
    // Bit mask: bit j%32 of word mask[b*mask_sb + h*mask_sh + i*mask_sq + j/32] set = visible.
    const u32 *mask;
    i64 mask_sb, mask_sh, mask_sq;
    // Block-sparse CSR table: for query block qb (of bs_bq rows) of (b, h), the key blocks (of bs_bk keys)
    // col[cb + row[rb + qb] .. row[rb + qb + 1] - 1], rb = b*bs_row_sb + h*bs_row_sh, cb likewise.
    const int *bs_row;
    const int *bs_col;
    i64 bs_row_sb, bs_row_sh, bs_col_sb, bs_col_sh;
    int bs_bq, bs_bk;
    // Tensors of the user expressions (score_mod then mask_mod slots); last, so that the fields above keep
    // their offsets. Read only by kernels with SCORE_MOD or MASK_MOD, through the parameter bank.
    ExprTensors xt;
    // The wg family's persistent grid: a pair of counters in device memory (next work tile, CTAs done),
    // zero at launch and left zero by the last CTA; null: work tiles in strides of the grid.
    int *tile_counter;
    // 1: the batch index varies fastest in launch order, so the CTAs of one head's batch entries run
    // together and a bias or bit mask broadcast over the batch, or tensors of expressions that do not read
    // b, are read from memory once, not once per entry.
    int batch_inner;
    // (wg family, WALK) query blocks per strip: a CTA's unit of work is a strip of that many consecutive
    // query blocks of one (batch, head), whose key tiles it loads once (>= 1).
    int strip;
};

// Traits of the later variants are present in the generated source only when on; absent means false.
#define EG_OPTIONAL_TRAIT(NAME)                                                                     \
    template <class K, class = void>                                                                \
    struct opt_##NAME {                                                                             \
        static constexpr bool value = false;                                                        \
    };                                                                                              \
    template <class K>                                                                              \
    struct opt_##NAME<K, decltype(void(K::NAME))> {                                                 \
        static constexpr bool value = K::NAME;                                                      \
    };
EG_OPTIONAL_TRAIT(WINDOW)
EG_OPTIONAL_TRAIT(BATCH_FREE)
EG_OPTIONAL_TRAIT(SOFTCAP)
EG_OPTIONAL_TRAIT(ALIBI)
EG_OPTIONAL_TRAIT(GQA)
EG_OPTIONAL_TRAIT(VARLEN)
EG_OPTIONAL_TRAIT(BIAS)
EG_OPTIONAL_TRAIT(MASK)
EG_OPTIONAL_TRAIT(BSPARSE)
EG_OPTIONAL_TRAIT(SCORE_MOD)
EG_OPTIONAL_TRAIT(MASK_MOD)
EG_OPTIONAL_TRAIT(SCORE_ADD)
EG_OPTIONAL_TRAIT(MASK_RANGE)
EG_OPTIONAL_TRAIT(OBUF)
EG_OPTIONAL_TRAIT(SOFTMAX_OVERLAP)
EG_OPTIONAL_TRAIT(QREG)
EG_OPTIONAL_TRAIT(WALK)
EG_OPTIONAL_TRAIT(HALVES)
EG_OPTIONAL_TRAIT(VSTAGE)
EG_OPTIONAL_TRAIT(UOFF)
EG_OPTIONAL_TRAIT(LAST_APART)
EG_OPTIONAL_TRAIT(ONE_BARRIER)
#undef EG_OPTIONAL_TRAIT

// Two 16-bit values of one register as floats (lo, hi).
template <bool BF16>
__device__ __forceinline__ void unpack2(u32 v, float &lo, float &hi) {
    if constexpr (BF16) {
        lo = __uint_as_float(v << 16);
        hi = __uint_as_float(v & 0xffff0000u);
    } else {
        unsigned short a = (unsigned short)(v & 0xffffu), c = (unsigned short)(v >> 16);
        asm("cvt.f32.f16 %0, %1;\n" : "=f"(lo) : "h"(a));
        asm("cvt.f32.f16 %0, %1;\n" : "=f"(hi) : "h"(c));
    }
}

// Passes of load_tile over ROWS rows of D elements with NT threads: each pass copies NT / (D / 8) rows.
template <int ROWS, int D, int NT>
__host__ __device__ constexpr int tile_passes() {
    return (ROWS + NT / (D / 8) - 1) / (NT / (D / 8));
}

// Copy ROWS rows of D elements from global (row stride ld) into shared (row pitch PITCH), zero-filling
// rows at or past `valid`. Threads form RP rows of CH 16-byte chunks, so each thread's source advances by
// a fixed stride per pass and its shared address by a compile-time constant: two or three instructions
// per copy instead of a division and a 64-bit multiply. U: the thread's row and chunk in unsigned
// arithmetic, so that its 64-bit source offset needs no sign word (the UOFF trait, see the plain loop).
template <class T, int ROWS, int D, int PITCH, int NT, bool U = false>
__device__ __forceinline__ void load_tile(u32 s_base, const T *g, i64 ld, int valid, int tid) {
    constexpr int CH = D / 8;
    constexpr int RP = NT / CH;  // rows per pass (CH <= 32 <= NT)
    constexpr int PASSES = tile_passes<ROWS, D, NT>();
    const int row = U ? (int)((unsigned)tid / CH) : tid / CH, col = U ? (int)((unsigned)tid % CH) : tid % CH;
    if (RP * CH != NT && tid >= RP * CH) return;
    const T *src = U ? g + (i64)row * ld + (unsigned)col * 8u : g + (i64)row * ld + col * 8;
    const i64 step = (i64)RP * ld;
    const u32 dst = s_base + (u32)(row * PITCH + col * 8) * 2u;
#pragma unroll
    for (int it = 0; it < PASSES; ++it) {
        const int r = row + it * RP;
        if (ROWS % RP == 0 || r < ROWS) {
            const bool ok = r < valid;
            cp_async16_u32(dst + (u32)(it * RP * PITCH * 2), ok ? src : g, ok ? 16 : 0);
        }
        src += step;
    }
}

// Pass `it` of load_tile alone (the same rows, chunks and zero fill), so that a tile's copies can be spread
// over other work instead of issued in one burst (the pair layout, eg_attn_fwd_pair.cuh). It spells the
// layout out again: with the lanes computed by one helper for both, ptxas spilled the D = 256 pair kernel.
template <class T, int ROWS, int D, int PITCH, int NT>
__device__ __forceinline__ void load_tile_pass(u32 s_base, const T *g, i64 ld, int valid, int tid, int it) {
    constexpr int CH = D / 8;
    constexpr int RP = NT / CH;
    const int row = tid / CH + it * RP, col = tid % CH;
    if (RP * CH != NT && tid >= RP * CH) return;
    if (ROWS % RP == 0 || row < ROWS) {
        const bool ok = row < valid;
        cp_async16_u32(s_base + (u32)(row * PITCH + col * 8) * 2u, ok ? g + (i64)row * ld + col * 8 : g, ok ? 16 : 0);
    }
}

// K and V of the key tile that starts at key kt (relative to Kg and Vg), into the stage at sk and sv.
template <class T, int BN, int D, int PITCH, int NT, bool U = false>
__device__ __forceinline__ void load_kv_tile(u32 sk, u32 sv, const T *Kg, const T *Vg, const FwdParams &p, int kt,
                                             int n_keys, int tid) {
    load_tile<T, BN, D, PITCH, NT, U>(sk, Kg + (i64)kt * p.k_sn, p.k_sn, n_keys - kt, tid);
    load_tile<T, BN, D, PITCH, NT, U>(sv, Vg + (i64)kt * p.v_sn, p.v_sn, n_keys - kt, tid);
}

// acc[i][2n] and acc[i][2n + 1] += A_i B for the MT row tiles of a warp: B is one ldmatrix.x4 fragment, two
// 8-column n-tiles.
template <bool BF16, int MT, int N>
__device__ __forceinline__ void mma_x4(float (&acc)[MT][N][4], int n, const u32 (&a)[MT][4], const u32 (&bf)[4]) {
#pragma unroll
    for (int i = 0; i < MT; ++i) {
        mma_k16<BF16>(acc[i][2 * n], a[i], bf[0], bf[1]);
        mma_k16<BF16>(acc[i][2 * n + 1], a[i], bf[2], bf[3]);
    }
}

// Which of a row's scores in an accumulator tile of COLS columns lie within lo .. hi, columns counted from
// the thread's first (2t): score (n, b) of the row sits at column 8n + b (b = 0, 1), and those columns grow
// with the index 2n + b, so the scores inside form one run of that index. Bit 2n + b of the result is set
// where score (n, b) is inside; each score is then a test of a constant bit (ptxas sets several predicates
// from the mask in one instruction) instead of a compare per bound.
template <int COLS>
__device__ __forceinline__ u32 row_run_mask(int lo, int hi) {
    static_assert(COLS % 8 == 0 && COLS <= 128, "a row's scores in one 32-bit mask");
    // indexes 2n + b whose column 8n + b lies below x, for x clamped to the tile
    auto below = [](int x) {
        x = min(max(x, 0), COLS);
        return 2 * (x >> 3) + min(x & 7, 2);
    };
    // the low k bits set, k = 0 .. 32 (a funnel shift clamps its count at 32)
    auto low_bits = [](int k) { return __funnelshift_lc(0xffffffffu, 0u, (u32)k); };
    return low_bits(below(hi + 1)) & ~low_bits(below(lo));
}

// First key of visited tile jt (relative to the first visited block's key): jt * BN, or under a
// block-sparse table tile jt % r of listed key block jt / r (r tiles of BN keys per block of bk).
template <int BN, bool BSPARSE>
__device__ __forceinline__ int tile_key(int jt, const int *list, int r, int bk) {
    if constexpr (BSPARSE) {
        const int blk = jt / r;
        return __ldg(list + blk) * bk + (jt - blk * r) * BN;
    } else {
        (void)list, (void)r, (void)bk;
        return jt * BN;
    }
}

// Under a mask expression's tile verdicts (MASK_RANGE). cls(j, s) is the verdict on the s key tiles
// j .. j + s - 1 together: 0 all hidden, 1 all visible, 2 either. With CONTIG (consecutive tiles hold
// consecutive keys) both walks below ask about aligned runs of tiles, doubling a run after one they could
// pass over whole (hidden; for the count also wholly visible) and halving one they could not, so that a
// long row of a few visible tiles is not walked tile by tile: such a run of 2^k tiles costs one verdict.
//
// next_visible_tile: the first of the tiles j .. n - 1 the expression does not hide wholly, or n. Tile j is
// asked alone first, so a row of visible tiles costs one verdict per tile.
template <bool CONTIG, class F>
__device__ __forceinline__ int next_visible_tile(int j, int n, F cls) {
    int s = 1;
    bool grow = false;
    while (j < n) {
        if (CONTIG && grow)
            while ((j & (2 * s - 1)) == 0 && j + 2 * s <= n) s *= 2;
        const int m = min(s, n - j);
        if (cls(j, m) == 0) {
            j += m;
            grow = true;
        } else if (m == 1) {
            return j;
        } else {
            s /= 2;  // (s >= m > 1)
            grow = false;
        }
    }
    return n;
}
// count_visible_tiles: how many of the tiles 0 .. n - 1 it does not hide wholly (runs all visible count whole).
template <bool CONTIG, class F>
__device__ __forceinline__ int count_visible_tiles(int n, F cls) {
    int j = 0, s = 1, count = 0;
    bool grow = true;
    while (j < n) {
        if (CONTIG && grow)
            while ((j & (2 * s - 1)) == 0 && j + 2 * s <= n) s *= 2;
        const int m = min(s, n - j), c = cls(j, m);
        if (c != 2 || m == 1) {
            count += c ? m : 0;
            j += m;
            grow = true;
        } else {
            s /= 2;
            grow = false;
        }
    }
    return count;
}

// Launch order, shared by both families: groups of head_group heads (their K and V fit in L2 together);
// within a group the query blocks of its heads interleave, heaviest first under a causal mask (later query
// blocks see more keys), so the CTAs running at once re-read K and V from L2 and each group ends light.
// Heads are numbered b * H + h, or h * B + b with batch_inner (a tensor shared by the batch entries is then
// read by CTAs that run at once: the second read of each tile comes from L2); SHARED: a kernel with such a
// tensor (a bias, a bit mask, or expressions that read tensors but not b), the only ones that read
// batch_inner.
// tile_order maps a position in that order to (batch, head, query block); a CTA of the mma family runs
// position blockIdx.x, a persistent CTA of the wg family the positions blockIdx.x + k * gridDim.x.
template <bool CAUSAL, bool SHARED>
__device__ __forceinline__ void tile_order(const FwdParams &p, unsigned idx, int &b, int &h, int &m_block) {
    const int per_group = p.head_group * p.m_blocks;
    const int grp = (int)(idx / (unsigned)per_group);
    const int rem = (int)(idx % (unsigned)per_group);
    const int heads_here = min(p.head_group, p.b * p.h - grp * p.head_group);
    const int mb = rem / heads_here;
    const int bh = grp * p.head_group + rem % heads_here;
    const bool inner = SHARED && p.batch_inner;
    b = inner ? bh % p.b : bh / p.h;
    h = inner ? bh / p.b : bh % p.h;
    m_block = CAUSAL ? p.m_blocks - 1 - mb : mb;
}
template <bool CAUSAL, bool SHARED>
__device__ __forceinline__ void launch_order(const FwdParams &p, int &b, int &h, int &m_block) {
    tile_order<CAUSAL, SHARED>(p, blockIdx.x, b, h, m_block);
}

// The online softmax of the mma family's loops, per warp: MT row tiles of 16 rows (two rows a thread), S of
// SN 8-column tiles, O of ON. softmax_rescale moves the running maximum m (log2 domain, scale folded in) of
// a row only when its new maximum mx exceeds it by more than 8, i.e. a factor 256 (exponentials stay below
// 256, exact in fp32 and no less precise in 16 bits), rescaling its sum l and its O accumulators; move says
// whether any of this thread's rows does. softmax_exp turns S into P = exp2(S * scale_log2 - m) in place
// and adds this thread's part of each row's sum to l.
// softmax_init: O zero, the running maxima -inf (nothing seen yet), the sums zero.
template <int MT, int ON>
__device__ __forceinline__ void softmax_init(float (&o)[MT][ON][4], float (&m)[MT][2], float (&l)[MT][2]) {
#pragma unroll
    for (int i = 0; i < MT; ++i) {
#pragma unroll
        for (int j = 0; j < ON; ++j) o[i][j][0] = o[i][j][1] = o[i][j][2] = o[i][j][3] = 0.f;
        m[i][0] = m[i][1] = neg_inf();
        l[i][0] = l[i][1] = 0.f;
    }
}
template <int MT, int ON>
__device__ __forceinline__ void softmax_rescale(float (&o)[MT][ON][4], float (&m)[MT][2], float (&l)[MT][2],
                                                const float (&mx)[MT][2], bool move) {
    if (__any_sync(0xffffffffu, move)) {
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                if (mx[i][r] > m[i][r] + 8.f) {
                    const float alpha = fast_exp2(m[i][r] - mx[i][r]);  // 0 when m was -inf
                    m[i][r] = mx[i][r];
                    l[i][r] *= alpha;
#pragma unroll
                    for (int n = 0; n < ON; ++n) {
                        o[i][n][2 * r] *= alpha;
                        o[i][n][2 * r + 1] *= alpha;
                    }
                }
            }
    }
}
template <int MT, int SN>
__device__ __forceinline__ void softmax_exp(float (&s)[MT][SN][4], const float (&m)[MT][2], float (&l)[MT][2],
                                            float scale_log2) {
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const float m_use = m[i][r] == neg_inf() ? 0.f : m[i][r];  // a row with nothing visible yet
            float sum = 0.f;
#pragma unroll
            for (int n = 0; n < SN; ++n) {
                s[i][n][2 * r] = fast_exp2(fmaf(s[i][n][2 * r], scale_log2, -m_use));
                s[i][n][2 * r + 1] = fast_exp2(fmaf(s[i][n][2 * r + 1], scale_log2, -m_use));
                sum += s[i][n][2 * r] + s[i][n][2 * r + 1];
            }
            l[i][r] += sum;
        }
}

template <class K>
__device__ __forceinline__ void attn_fwd(const FwdParams &p) {
    typedef typename K::T T;
    constexpr bool BF16 = K::BF16;
    constexpr int D = K::D, BM = K::BM, BN = K::BN, WARPS = K::WARPS, STAGES = K::STAGES, PITCH = K::PITCH;
    constexpr int NT = WARPS * 32;
    constexpr int MT = BM / WARPS / 16;  // 16-row MMA tiles per warp
    constexpr int SN = BN / 8;           // 8-column tiles of S
    constexpr int DK = D / 16;           // full 16-wide steps over the head dim
    constexpr bool DTAIL = (D % 16) != 0;
    constexpr int ON = D / 8;            // 8-column tiles of O
    static_assert(BM % (WARPS * 16) == 0 && BN % 16 == 0 && D % 8 == 0, "tile shape");
    // One stage: K and V load apart (FlashAttention-2's order), each behind the other's use. V_j loads
    // during S = Q K_j^T and the softmax, K_{j+1} during O += P V_j, with one buffer each; with two or more
    // stages whole K/V tiles load STAGES - 1 key blocks ahead.
    constexpr bool SPLIT = STAGES == 1;
    constexpr bool VARLEN = opt_VARLEN<K>::value, BIAS = opt_BIAS<K>::value, MASK = opt_MASK<K>::value,
                   BSPARSE = opt_BSPARSE<K>::value, SCORE_MOD = opt_SCORE_MOD<K>::value,
                   MASK_MOD = opt_MASK_MOD<K>::value, MASK_RANGE = opt_MASK_RANGE<K>::value;
    // UOFF (the generator's choice, eg_model_unsigned_offsets): the copies' offsets and the LSE row in unsigned
    // arithmetic. ptxas then holds no sign words through the loop, which is what the D = 128 and 160 kernels
    // of sm_90 and later spilled; elsewhere the same change moved the allocation for the worse (measured).
    constexpr bool UOFF = opt_UOFF<K>::value;

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T *sQ = reinterpret_cast<T *>(smem_raw);
    // Shared addresses as 32-bit integers: tile offsets below are compile-time constants that fold into
    // the immediate field of ldmatrix and cp.async.
    const u32 sQa = smem_addr(smem_raw);
    const u32 sKa = sQa + BM * PITCH * 2;
    const u32 sVa = sKa + STAGES * BN * PITCH * 2;
    constexpr u32 TILE_BYTES = BN * PITCH * 2;

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    int b, h, m_block;
    launch_order<K::CAUSAL, BIAS || MASK || opt_BATCH_FREE<K>::value>(p, b, h, m_block);
    const int q0 = m_block * BM;
    const int wrow = warp * MT * 16;  // first row of this warp within the block

    // Rows and keys of this (batch, head): the whole tensors, or under varlen one packed sequence of them.
    // Without varlen the accessors read the kernel parameters at each use: a parameter is an operand from
    // the constant bank, while a local copy would hold a register through the whole main loop (and push
    // the accumulators of the large tiles into local memory).
    const i64 q_row0 = VARLEN ? p.cu_q[b] : 0, k_row0 = VARLEN ? p.cu_k[b] : 0;  // first packed row
    const int vnq = VARLEN ? p.cu_q[b + 1] - (int)q_row0 : 0, vnk = VARLEN ? p.cu_k[b + 1] - (int)k_row0 : 0;
    const int voff = VARLEN ? p.causal_offset + (p.varlen_br ? vnk - vnq : 0) : 0;
    auto nq = [&]() { return VARLEN ? vnq : p.nq; };
    auto nk = [&]() { return VARLEN ? vnk : p.nk; };
    auto causal_offset = [&]() { return VARLEN ? voff : p.causal_offset; };
    if constexpr (VARLEN) {
        if (q0 >= vnq) return;  // past this sequence's end: the grid is sized for the longest
    }
    const T *Qg = reinterpret_cast<const T *>(p.q) + b * p.q_sb + h * p.q_sh + (i64)q0 * p.q_sn;
    if constexpr (VARLEN) Qg += q_row0 * p.q_sn;
    int hkv = h;  // K/V head of this query head
    if constexpr (K::GQA) hkv = h / p.kv_group;
    const T *Kg = reinterpret_cast<const T *>(p.k) + b * p.k_sb + hkv * p.k_sh;
    const T *Vg = reinterpret_cast<const T *>(p.v) + b * p.v_sb + hkv * p.v_sh;
    if constexpr (VARLEN) {
        Kg += k_row0 * p.k_sn;
        Vg += k_row0 * p.v_sn;
    }

    int n_keys = nk();
    if (K::CAUSAL) {
        const int last_row = min(q0 + BM, nq()) - 1;
        n_keys = max(0, min(nk(), last_row + causal_offset() + 1));
    }
    // A window also bounds the keys from below: the key blocks before the first row's window are never
    // visited. Kg, Vg and n_keys become relative to key_base, the first key of the first visited block.
    int key_base = 0;
    if constexpr (K::WINDOW) {
        const int last_row = min(q0 + BM, nq()) - 1;
        n_keys = max(0, min(n_keys, last_row + causal_offset() + p.win_right + 1));
        // (block-sparse kernels walk their table from key 0: the window then only masks)
        if constexpr (!BSPARSE) {
            key_base = min(max(0, q0 + causal_offset() - p.win_left) / BN * BN, n_keys);
            Kg += (i64)key_base * p.k_sn;
            Vg += (i64)key_base * p.v_sn;
            n_keys -= key_base;
        }
    }
    int n_blocks = (n_keys + BN - 1) / BN;
    // Block-sparse: the visited tiles are those of the listed key blocks (bs_bk / BN tiles each), in table
    // order, up to the last block that starts before n_keys (the table is ascending per row).
    const int *bs_list = nullptr;
    int bs_r = 1;
    if constexpr (BSPARSE) {
        const int *row = p.bs_row + b * p.bs_row_sb + h * p.bs_row_sh + q0 / p.bs_bq;
        int first = row[0], last = row[1];
        bs_list = p.bs_col + b * p.bs_col_sb + h * p.bs_col_sh + first;
        while (last > first && bs_list[last - first - 1] * p.bs_bk >= n_keys) --last;
        bs_r = p.bs_bk / BN;
        n_blocks = (last - first) * bs_r;
    }
    // Under a mask expression's tile verdicts (MASK_RANGE) the visited tiles are those of the n_tiles above
    // that it does not hide for every row of the block: n_blocks of them, found in order by the copies'
    // cursor jl (tile_of moves it to the next), and handed to the products through the ring of the tiles
    // loaded and not yet visited (ring[0] the next to visit). Otherwise visited tile j is tile j.
    const int n_tiles = n_blocks;
    int jl = -1;
    int ring[MASK_RANGE ? STAGES : 1];
    auto tiles_class = [&](int jt, int cnt) {  // the verdict on the tiles jt .. jt + cnt - 1 for the block's rows
        if constexpr (MASK_RANGE) {
            const int k0 = key_base + tile_key<BN, BSPARSE>(jt, bs_list, bs_r, p.bs_bk);
            const int k1 = min(key_base + tile_key<BN, BSPARSE>(jt + cnt - 1, bs_list, bs_r, p.bs_bk) + BN, nk()) - 1;
            return K::mask_range(b, h, q0, min(q0 + BM, nq()) - 1, k0, k1, nq(), nk());
        } else {
            (void)jt, (void)cnt;
            return 2;
        }
    };
    auto tile_of = [&](int &cur) {
        cur = next_visible_tile<!BSPARSE>(cur + 1, n_tiles, tiles_class);
        return cur;
    };
    if constexpr (MASK_RANGE) n_blocks = count_visible_tiles<!BSPARSE>(n_tiles, tiles_class);

    float alibi_c = 0.f;  // -slope / scale: the bias in the domain of the raw scores
    if constexpr (K::ALIBI) alibi_c = -p.alibi[h] / p.scale;

    load_tile<T, BM, D, PITCH, NT, UOFF>(sQa, Qg, p.q_sn, nq() - q0, tid);
    cp_async_commit();
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (s < n_blocks) {
            const int kt = tile_key<BN, BSPARSE>(MASK_RANGE ? ring[s] = tile_of(jl) : s, bs_list, bs_r, p.bs_bk);
            load_kv_tile<T, BN, D, PITCH, NT, UOFF>(sKa + s * TILE_BYTES, sVa + s * TILE_BYTES, Kg, Vg, p, kt, n_keys,
                                                    tid);
        }
        cp_async_commit();
    }
    if constexpr (SPLIT) {
        if (n_blocks > 0) {
            const int kt = tile_key<BN, BSPARSE>(MASK_RANGE ? ring[0] = tile_of(jl) : 0, bs_list, bs_r, p.bs_bk);
            load_tile<T, BN, D, PITCH, NT, UOFF>(sKa, Kg + (i64)kt * p.k_sn, p.k_sn, n_keys - kt, tid);
        }
        cp_async_commit();
    }

    float o[MT][ON][4];
    float m[MT][2], l[MT][2];
    softmax_init(o, m, l);

    // ldmatrix lane addresses (see the fragment layouts of mma.m16n8k16), in bytes within a tile
    const int g = lane / 4, t = lane % 4;
    const u32 q_lane = sQa + ((wrow + lane % 16) * PITCH + (lane / 16) * 8) * 2;              // A 16x16, row-major
    const u32 k_lane = (((lane % 8) + (lane / 16) * 8) * PITCH + ((lane / 8) % 2) * 8) * 2;   // two B n-tiles, [n][k]
    const u32 k_lane2 = (((lane % 8) + ((lane / 8) % 2) * 8) * PITCH + D - 8) * 2;          // head-dim tail
    const u32 v_lane = (((lane % 8) + ((lane / 8) % 2) * 8) * PITCH + (lane / 16) * 8) * 2;   // two B n-tiles, [k][n]

    // Q fragments in registers for the whole loop where the generator found room for them.
    u32 qf[K::Q_REGS ? MT : 1][K::Q_REGS && DK > 0 ? DK : 1][4];
    if constexpr (K::Q_REGS) {
        cp_async_wait<STAGES - 1>();  // the Q group is the oldest
        __syncthreads();
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int kk = 0; kk < DK; ++kk) ldsm_x4(qf[i][kk], q_lane + (i * 16 * PITCH + kk * 16) * 2);
    }

    for (int j = 0; j < n_blocks; ++j) {
        if constexpr (!SPLIT) {
            const int jn = j + STAGES - 1;
            if (jn < n_blocks) {
                const u32 st = (u32)(jn % STAGES) * TILE_BYTES;
                const int kt = tile_key<BN, BSPARSE>(MASK_RANGE ? ring[STAGES - 1] = tile_of(jl) : jn, bs_list, bs_r,
                                                     p.bs_bk);
                load_kv_tile<T, BN, D, PITCH, NT, UOFF>(sKa + st, sVa + st, Kg, Vg, p, kt, n_keys, tid);
            }
            cp_async_commit();
        }
        const int jt = MASK_RANGE ? ring[0] : j;  // the tile visited
        if constexpr (MASK_RANGE && !SPLIT) {
#pragma unroll
            for (int r = 0; r + 1 < STAGES; ++r) ring[r] = ring[r + 1];
        }
        int k0 = tile_key<BN, BSPARSE>(jt, bs_list, bs_r, p.bs_bk);
        if constexpr (K::WINDOW) k0 += key_base;
        // (MASK_RANGE) the mask expression's verdict on this warp's rows of the tile: hidden (as are rows
        // past the end) skips the warp's work on it, visible its evaluation
        int wcls = 2;
        if constexpr (MASK_RANGE) {
            const int r0 = q0 + wrow;
            wcls = r0 < nq() ? K::mask_range(b, h, r0, min(r0 + MT * 16, nq()) - 1, k0, min(k0 + BN, nk()) - 1, nq(), nk())
                             : 0;
        }

        // Bias and mask words of this tile go from global memory straight into registers in the layout
        // of the S accumulators; issued before the wait so that their latency hides behind it.
        u32 bias_r[BIAS ? MT : 1][BIAS ? SN : 1][2];
        if constexpr (BIAS) {
            const T *Bg = reinterpret_cast<const T *>(p.bias) + b * p.bias_sb + h * p.bias_sh;
            const bool inside = k0 + BN <= nk() && q0 + wrow + MT * 16 <= nq();
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int row = q0 + wrow + i * 16 + g + 8 * r;
                    const T *br = Bg + (i64)row * p.bias_sq + k0 + 2 * t;
#pragma unroll
                    for (int n = 0; n < SN; ++n) {
                        if (inside) {
                            bias_r[i][n][r] = *reinterpret_cast<const u32 *>(br + n * 8);
                        } else {
                            const int col = k0 + n * 8 + 2 * t;
                            u32 v = 0;
                            if (row < nq() && col + 1 < nk())
                                v = *reinterpret_cast<const u32 *>(br + n * 8);
                            else if (row < nq() && col < nk())
                                v = *reinterpret_cast<const unsigned short *>(br + n * 8);
                            bias_r[i][n][r] = v;
                        }
                    }
                }
        }
        // Mask words: with BN a multiple of 32 (then so is k0), word w of a row covers n-tiles 4w .. 4w+3.
        constexpr int MW = BN % 32 == 0 ? BN / 32 : 1;
        u32 mask_r[MASK ? MT : 1][2][MASK ? MW : 1];
        bool mask_none = false, mask_all = false;  // this warp sees no key / every key of the tile
        if constexpr (MASK) {
            const u32 *Mg = p.mask + b * p.mask_sb + h * p.mask_sh;
            bool none = true, all = true;
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int row = q0 + wrow + i * 16 + g + 8 * r;
                    const u32 *mr = Mg + (i64)row * p.mask_sq;
#pragma unroll
                    for (int w = 0; w < MW; ++w) {
                        u32 v = 0;
                        if constexpr (BN % 32 == 0) {
                            if (row < nq() && k0 + 32 * w < nk()) v = mr[(k0 >> 5) + w];
                        }
                        mask_r[i][r][w] = v;
                        none = none && v == 0u;
                        all = all && v == 0xffffffffu;
                    }
                }
            if constexpr (BN % 32 == 0) {
                mask_none = __all_sync(0xffffffffu, none);
                mask_all = __all_sync(0xffffffffu, all);
            }
        }
        cp_async_wait<SPLIT ? 0 : STAGES - 1>();
        __syncthreads();  // (one stage: every warp is also done with V_{j-1})
        if constexpr (SPLIT) {
            const int kt = tile_key<BN, BSPARSE>(jt, bs_list, bs_r, p.bs_bk);
            load_tile<T, BN, D, PITCH, NT, UOFF>(sVa, Vg + (i64)kt * p.v_sn, p.v_sn, n_keys - kt, tid);
            cp_async_commit();
        }
        // A warp whose rows see no key of this tile under the mask skips it (its scores would all be -inf).
        const bool run = !(MASK && mask_none) && !(MASK_RANGE && wcls == 0);
        const u32 stage = (u32)(j % STAGES) * TILE_BYTES;
        const u32 kb = sKa + stage + k_lane, vb = sVa + stage + v_lane;
        float s[MT][SN][4];
        if (run) {
        // S = Q K^T for this warp's rows
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int n = 0; n < SN; ++n) s[i][n][0] = s[i][n][1] = s[i][n][2] = s[i][n][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < DK; ++kk) {
            u32 a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                if constexpr (K::Q_REGS) {
                    a[i][0] = qf[i][kk][0], a[i][1] = qf[i][kk][1], a[i][2] = qf[i][kk][2], a[i][3] = qf[i][kk][3];
                } else {
                    ldsm_x4(a[i], q_lane + (i * 16 * PITCH + kk * 16) * 2);
                }
            }
#pragma unroll
            for (int n = 0; n < SN / 2; ++n) {
                u32 bf[4];
                ldsm_x4(bf, kb + (n * 16 * PITCH + kk * 16) * 2);
                mma_x4<BF16>(s, n, a, bf);
            }
        }
        if constexpr (DTAIL) {
            u32 a[MT][2];
#pragma unroll
            for (int i = 0; i < MT; ++i) ldsm_x2(a[i][0], a[i][1], q_lane - (lane / 16) * 16 + (i * 16 * PITCH + D - 8) * 2);
#pragma unroll
            for (int n = 0; n < SN / 2; ++n) {
                u32 b0, b1;
                ldsm_x2(b0, b1, sKa + stage + k_lane2 + n * 16 * PITCH * 2);
#pragma unroll
                for (int i = 0; i < MT; ++i) {
                    mma_k8<BF16>(s[i][2 * n], a[i][0], a[i][1], b0);
                    mma_k8<BF16>(s[i][2 * n + 1], a[i][0], a[i][1], b1);
                }
            }
        }

        // Score modifications apply to every visited tile (masked elements are overwritten below).
        if constexpr (K::SOFTCAP || K::ALIBI || BIAS || SCORE_MOD) {
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int n = 0; n < SN; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        float x = s[i][n][e];
                        if constexpr (K::SOFTCAP) x = p.softcap_out * tanhf(x * p.softcap_in);
                        if constexpr (K::ALIBI) {
                            const int row = q0 + wrow + i * 16 + g + (e >= 2 ? 8 : 0);
                            const int col = k0 + n * 8 + 2 * t + (e & 1);
                            x = fmaf(alibi_c, fabsf((float)(row + causal_offset() - col)), x);
                        }
                        if constexpr (BIAS) {
                            float lo, hi;
                            unpack2<BF16>(bias_r[i][n][e >> 1], lo, hi);
                            x = fmaf(e & 1 ? hi : lo, p.bias_mul, x);
                        }
                        // The user's expression sees the scaled score and plain indexes (within the
                        // sequence under varlen); rows and keys past the end never reach it (they are
                        // masked below), so it never reads its tensors there.
                        if constexpr (SCORE_MOD) {
                            const int row = q0 + wrow + i * 16 + g + (e >= 2 ? 8 : 0);
                            const int col = k0 + n * 8 + 2 * t + (e & 1);
                            if (row < nq() && col < nk())
                                x = K::score_mod(x * p.scale, b, h, row, col, nq(), nk(), p.xt) * p.bias_mul;
                        }
                        s[i][n][e] = x;
                    }
        }

        // Mask only where this warp's rows meet the end of the keys, the causal diagonal or a window edge:
        // tiles wholly inside run without mask code (wholly outside ones were never visited).
        bool need_mask = k0 + BN > nk();
        if (K::CAUSAL) need_mask = need_mask || (k0 + BN - 1 > q0 + wrow + causal_offset());
        if constexpr (K::WINDOW)
            need_mask = need_mask || (k0 + BN - 1 > q0 + wrow + causal_offset() + p.win_right) ||
                        (k0 < q0 + wrow + MT * 16 - 1 + causal_offset() - p.win_left);
        // A mask expression may hide any element: every visited tile takes the masked path and evaluates it,
        // but under its tile verdicts only where this warp's rows may see either.
        const bool eval_mod = MASK_MOD && (!MASK_RANGE || wcls == 2);
        if constexpr (MASK_MOD) need_mask = need_mask || eval_mod;
        // The mask tensor: bits evaluated only where this warp's part of the tile is not wholly visible.
        if constexpr (MASK) {
            if (!mask_all) {
                const u32 *Mg = p.mask + b * p.mask_sb + h * p.mask_sh;
#pragma unroll
                for (int i = 0; i < MT; ++i)
#pragma unroll
                    for (int n = 0; n < SN; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int r = e >> 1;
                            const int c = n * 8 + 2 * t + (e & 1);  // column within the tile
                            u32 word;
                            int bit;
                            if constexpr (BN % 32 == 0) {
                                word = mask_r[i][r][n >> 2];  // n-tiles 4w .. 4w+3 share word w
                                bit = (n & 3) * 8 + 2 * t + (e & 1);
                            } else {
                                const int row = q0 + wrow + i * 16 + g + 8 * r, col = k0 + c;
                                word = row < nq() && col < nk() ? Mg[(i64)row * p.mask_sq + (col >> 5)] : 0u;
                                bit = col & 31;
                            }
                            if (!((word >> bit) & 1u)) s[i][n][e] = neg_inf();
                        }
            }
        }
        if (need_mask) {
            // Under a window each row sees the keys lo .. hi of the tile, counted from this thread's first
            // column 2t (the end of the keys, the causal diagonal and the right edge bound hi, the left edge
            // lo): one mask per row (row_run_mask) in place of four compares per score.
            if constexpr (K::WINDOW) {
                // The right bound is taken as it is before this thread's first column is subtracted: where the
                // subtraction reached into the minimum, NVVM wrote it as a maximum of negated terms, and ptxas
                // 13.0 (sm_90, 16- to 128-key tiles) dropped the negation of the keys' end for one of the two
                // rows, whose mask then hid keys the row sees.
                int lo[MT][2], hi[MT][2];
#pragma unroll
                for (int i = 0; i < MT; ++i)
#pragma unroll
                    for (int r = 0; r < 2; ++r) {
                        const int diag = q0 + wrow + i * 16 + g + 8 * r + causal_offset(), base = k0 + 2 * t;
                        hi[i][r] = nk() - 1;
                        if (K::CAUSAL) hi[i][r] = min(hi[i][r], diag);  // K::visible's bound
                        hi[i][r] = opaque_int(min(hi[i][r], diag + p.win_right)) - base;
                        lo[i][r] = diag - p.win_left - base;
                    }
#pragma unroll
                for (int i = 0; i < MT; ++i)
#pragma unroll
                    for (int r = 0; r < 2; ++r) {
                        const u32 vis = row_run_mask<BN>(lo[i][r], hi[i][r]);
#pragma unroll
                        for (int n = 0; n < SN; ++n)
#pragma unroll
                            for (int c = 0; c < 2; ++c)
                                if (!(vis & (1u << (2 * n + c)))) s[i][n][2 * r + c] = neg_inf();
                    }
            }
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int n = 0; n < SN; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int row = q0 + wrow + i * 16 + g + (e >= 2 ? 8 : 0);
                        const int col = k0 + n * 8 + 2 * t + (e & 1);
                        if constexpr (!K::WINDOW) {
                            if (col >= nk() || !K::visible(row, col, causal_offset())) s[i][n][e] = neg_inf();
                        }
                        if constexpr (MASK_MOD) {
                            if (eval_mod && row < nq() && col < nk() && !K::mask_mod(b, h, row, col, nq(), nk(), p.xt))
                                s[i][n][e] = neg_inf();
                        }
                    }
        }

        // Online softmax (softmax_rescale, softmax_exp): O is rescaled only in the rare blocks where some
        // row of the warp moved its maximum by more than 8.
        float mx[MT][2];
        bool move = false;
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float v = neg_inf();
#pragma unroll
                for (int n = 0; n < SN; ++n) v = fmaxf(v, fmaxf(s[i][n][2 * r], s[i][n][2 * r + 1]));
                mx[i][r] = quad_max(v) * p.scale_log2;
                move |= mx[i][r] > m[i][r] + 8.f;
            }
        softmax_rescale(o, m, l, mx, move);
        softmax_exp(s, m, l, p.scale_log2);

        }  // run
        if constexpr (SPLIT) {
            cp_async_wait<0>();  // V_j
            __syncthreads();     // and every warp is done with K_j: K_{j+1} may load over it
            if (j + 1 < n_blocks) {
                const int kt = tile_key<BN, BSPARSE>(MASK_RANGE ? ring[0] = tile_of(jl) : j + 1, bs_list, bs_r, p.bs_bk);
                load_tile<T, BN, D, PITCH, NT, UOFF>(sKa, Kg + (i64)kt * p.k_sn, p.k_sn, n_keys - kt, tid);
            }
            cp_async_commit();
        }
        if (run) {
        // O += P V, P taken from the S accumulators without a trip through shared memory.
#pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
            u32 a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                a[i][0] = pack2<BF16>(s[i][2 * kk][0], s[i][2 * kk][1]);
                a[i][1] = pack2<BF16>(s[i][2 * kk][2], s[i][2 * kk][3]);
                a[i][2] = pack2<BF16>(s[i][2 * kk + 1][0], s[i][2 * kk + 1][1]);
                a[i][3] = pack2<BF16>(s[i][2 * kk + 1][2], s[i][2 * kk + 1][3]);
            }
#pragma unroll
            for (int n = 0; n < ON / 2; ++n) {
                u32 bf[4];
                ldsm_x4_t(bf, vb + (kk * 16 * PITCH + n * 16) * 2);
                mma_x4<BF16>(o, n, a, bf);
            }
            if constexpr (DTAIL) {
                u32 b0, b1;
                ldsm_x2_t(b0, b1, vb - (lane / 16) * 16 + (kk * 16 * PITCH + D - 8) * 2);
#pragma unroll
                for (int i = 0; i < MT; ++i) mma_k16<BF16>(o[i][ON - 1], a[i], b0, b1);
            }
        }
        }  // run
        if constexpr (!SPLIT) __syncthreads();
    }
    // When no key block ran, nothing has ordered other threads' Q copies before the O staging below.
    cp_async_wait<0>();
    __syncthreads();

    // Epilogue: normalise, stage this warp's rows of O in its own rows of sQ, store 16-byte chunks.
    T *Og = reinterpret_cast<T *>(p.o) + b * p.o_sb + h * p.o_sh;
    if constexpr (VARLEN) Og += q_row0 * p.o_sn;
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const float sum = quad_sum(l[i][r]);
            const float inv = sum > 0.f ? 1.f / sum : 0.f;
            const int row = wrow + i * 16 + g + 8 * r;
#pragma unroll
            for (int n = 0; n < ON; ++n) {
                const u32 v = pack2<BF16>(o[i][n][2 * r] * inv, o[i][n][2 * r + 1] * inv);
                *reinterpret_cast<u32 *>(sQ + row * PITCH + n * 8 + 2 * t) = v;
            }
            if (p.lse != nullptr && t == 0 && q0 + row < nq()) {
                const float lse = sum > 0.f ? m[i][r] * 0.69314718055994531f + logf(sum) : neg_inf();
                if constexpr (VARLEN)
                    p.lse[(i64)h * p.nq + q_row0 + q0 + row] = lse;  // [h][total_q], as FlashAttention
                else if constexpr (UOFF)
                    p.lse[((i64)b * p.h + h) * p.nq + (unsigned)(q0 + row)] = lse;
                else
                    p.lse[((i64)b * p.h + h) * p.nq + q0 + row] = lse;
            }
        }
    __syncwarp();
    constexpr int CH = D / 8;
#pragma unroll
    for (int it = 0; it < (MT * 16 * CH + 31) / 32; ++it) {
        const int idx = it * 32 + lane;
        if ((MT * 16 * CH) % 32 == 0 || idx < MT * 16 * CH) {
            const int r = wrow + idx / CH, c = idx % CH;
            if (q0 + r < nq())
                *reinterpret_cast<vec16 *>(Og + (i64)(q0 + r) * p.o_sn + c * 8) =
                    *reinterpret_cast<const vec16 *>(sQ + r * PITCH + c * 8);
        }
    }
}

}  // namespace eg
