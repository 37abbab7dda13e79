// eg_attn_fwd_pair.cuh - the mma.sync family's forward loop with warps in pairs (configs `.d2`).
//
// Where O of a 32-row warp tile does not fit the registers (D = 192, 256: 2 * D / 8 * 4 accumulators per
// thread), the plain loop gives each warp 16 rows, and every K and V fragment it reads from shared memory
// feeds one 16-row MMA tile. Here two warps share 32 rows. Warp c (0 or 1) of a pair computes S for the rows' keys c * BN/2 .. c * BN/2 + BN/2 - 1 of
// each tile (the whole head dim), and O for their head-dim columns c * D/2 .. c * D/2 + D/2 - 1 (every key
// of the tile): each fragment of Q, K and V read from shared memory feeds two MMA tiles. Per key tile the
// two warps exchange the rows' maxima of their halves of S and then their halves of P through shared memory,
// each exchange behind a barrier of the pair's 64 threads; each warp keeps the row sums of its own keys and
// the two are added at the end. At D = 256 that reads a quarter less from shared memory per key tile; the
// exchanges' waits take most of the gain (+2 to +3.5% measured, docs/cost-model.md).
//
// Everything else is the plain loop's: launch order, a STAGES-deep cp.async ring of K/V tiles (STAGES >=
// 2) behind one block barrier per tile, causal tiles above the diagonal never visited and the mask
// evaluated only where a warp's part of a tile meets the diagonal or the end of the keys, exp2 softmax with
// the scale folded in, O rescaled only when a row's maximum moves by more than 8 (log2 domain). The first key
// tile differs: its Q and K arrive in two halves of the head dim and S starts on the first (see the prologue);
// under a causal mask so does the last (LAST_APART below).
// Variants: GQA; the generator offers the layout to no spec with other variants.
#pragma once
#include "eg_attn_fwd.cuh"

namespace eg {

template <class K>
__device__ __forceinline__ void attn_fwd_pair(const FwdParams &p) {
    typedef typename K::T T;
    constexpr bool BF16 = K::BF16;
    constexpr int D = K::D, BM = K::BM, BN = K::BN, WARPS = K::WARPS, STAGES = K::STAGES, PITCH = K::PITCH;
    constexpr int NT = WARPS * 32;
    constexpr int MT = 2;          // 16-row MMA tiles of a pair's 32 rows
    constexpr int DH = D / 2;      // head-dim columns of O per warp
    constexpr int BH = BN / 2;     // keys of S per warp
    constexpr int SN = BH / 8;     // 8-column tiles of a warp's S
    constexpr int DK = D / 16;     // 16-wide steps over the head dim (S = Q K^T)
    constexpr int ON = DH / 8;     // 8-column tiles of a warp's O
    constexpr int PP = BH + 8;     // row pitch of a warp's P in shared memory, elements (an odd count of 16 bytes)
    static_assert(BM == WARPS * 16 && WARPS % 2 == 0 && D % 32 == 0 && BN % 32 == 0 && STAGES >= 2,
                  "pair layout: 32 rows per warp pair, head dim and keys split in halves of 16s");
    static_assert(((PP / 8) & 1) == 1, "P pitch");

    extern __shared__ __align__(16) unsigned char smem_raw[];
    T *sQ = reinterpret_cast<T *>(smem_raw);
    const u32 sQa = smem_addr(smem_raw);
    const u32 sKa = sQa + BM * PITCH * 2;
    const u32 sVa = sKa + STAGES * BN * PITCH * 2;
    constexpr u32 TILE_BYTES = BN * PITCH * 2;
    const u32 sPa = sVa + STAGES * TILE_BYTES;             // [WARPS][32][PP] 16-bit P halves
    const u32 sXa = sPa + WARPS * 32 * PP * 2;             // [WARPS][32] fp32 row maxima, then row sums

    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int pair = warp / 2, c = warp % 2, partner = warp ^ 1;
    int b, h, m_block;
    launch_order<K::CAUSAL, false>(p, b, h, m_block);
    const int q0 = m_block * BM;
    const int prow = pair * 32;  // first row of the pair within the block

    const T *Qg = reinterpret_cast<const T *>(p.q) + b * p.q_sb + h * p.q_sh + (i64)q0 * p.q_sn;
    int hkv = h;
    if constexpr (K::GQA) hkv = h / p.kv_group;
    const T *Kg = reinterpret_cast<const T *>(p.k) + b * p.k_sb + hkv * p.k_sh;
    const T *Vg = reinterpret_cast<const T *>(p.v) + b * p.v_sb + hkv * p.v_sh;

    int n_keys = p.nk;
    if (K::CAUSAL) {
        const int last_row = min(q0 + BM, p.nq) - 1;
        n_keys = max(0, min(p.nk, last_row + p.causal_offset + 1));
    }
    const int n_blocks = (n_keys + BN - 1) / BN;

    // The first tile's S = Q K_0^T starts on the first halves of the head dim of Q and K_0 (group A) while
    // the second halves (group B) and V_0 (group C) are still landing; the later stages follow, one group each.
    load_tile<T, BM, D / 2, PITCH, NT>(sQa, Qg, p.q_sn, p.nq - q0, tid);
    if (n_blocks > 0) load_tile<T, BN, D / 2, PITCH, NT>(sKa, Kg, p.k_sn, n_keys, tid);
    cp_async_commit();
    load_tile<T, BM, D / 2, PITCH, NT>(sQa + D, Qg + D / 2, p.q_sn, p.nq - q0, tid);
    if (n_blocks > 0) load_tile<T, BN, D / 2, PITCH, NT>(sKa + D, Kg + D / 2, p.k_sn, n_keys, tid);
    cp_async_commit();
    if (n_blocks > 0) load_tile<T, BN, D, PITCH, NT>(sVa, Vg, p.v_sn, n_keys, tid);
    cp_async_commit();
#pragma unroll
    for (int s = 1; s < STAGES - 1; ++s) {
        if (s < n_blocks) {
            const int kt = s * BN;
            load_kv_tile<T, BN, D, PITCH, NT>(sKa + s * TILE_BYTES, sVa + s * TILE_BYTES, Kg, Vg, p, kt, n_keys, tid);
        }
        cp_async_commit();
    }

    float o[MT][ON][4];
    float m[MT][2], l[MT][2];
    softmax_init(o, m, l);

    const int g = lane / 4, t = lane % 4;
    const u32 q_lane = sQa + ((prow + lane % 16) * PITCH + (lane / 16) * 8) * 2;                // A 16x16, row-major
    const u32 k_lane = (((lane % 8) + (lane / 16) * 8 + c * BH) * PITCH + ((lane / 8) % 2) * 8) * 2;  // [n][k]
    const u32 v_lane = (((lane % 8) + ((lane / 8) % 2) * 8) * PITCH + c * DH + (lane / 16) * 8) * 2;  // [k][n]
    const u32 p_own = sPa + (u32)(warp * 32 * PP) * 2;
    const u32 p_lane = sPa + (u32)((partner * 32 + lane % 16) * PP + (lane / 16) * 8) * 2;  // partner's P, A 16x16
    const u32 x_own = sXa + (u32)(warp * 32) * 4, x_partner = sXa + (u32)(partner * 32) * 4;
    // the pair's barrier: named barrier 1 + pair (0 is __syncthreads), 64 threads
    auto pair_sync = [&]() { asm volatile("bar.sync %0, 64;\n" ::"r"(1 + pair) : "memory"); };
    // a per-row value of the pair's 32 rows (maxima, then sums): the partner's for row tile i, half r
    // (get_row), this warp's to shared memory by one thread of each quad (put_rows)
    auto get_row = [&](int i, int r, float &v) {
        asm volatile("ld.shared.f32 %0, [%1];\n" : "=f"(v) : "r"(x_partner + (u32)(i * 16 + g + 8 * r) * 4));
    };
    auto put_rows = [&](const float (&v)[MT][2]) {
        if (t == 0) {
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int r = 0; r < 2; ++r)
                    asm volatile("st.shared.f32 [%0], %1;\n" ::"r"(x_own + (u32)(i * 16 + g + 8 * r) * 4), "f"(v[i][r]));
        }
    };

    // The copies of key tile j + STAGES - 1 are spread evenly over the k-steps of S = Q K^T of tile j instead
    // of issued in one burst ahead of it: a burst fills the LSU's queue, and each copy's address
    // registers stay claimed until the LSU reads them, so the instructions that reuse them wait.
    constexpr int PASSES = tile_passes<BN, D, NT>();  // load_tile's passes per K or V tile
    // With LAST_APART (causal; eg_model_pair_last_apart) the last tile past the first is a copy of its own
    // (LAST): a pair whose rows all end before its first key leaves it out altogether (its scores are all
    // hidden: m, l and O stay as they are), and no block barrier follows it: no stage is refilled after it,
    // and from there on a pair reads and writes only its own rows of sQ and its own P and row buffers, so
    // each pair goes on to the epilogue as soon as it is done.
    constexpr bool LAST_APART = opt_LAST_APART<K>::value;
    // ONE_BARRIER (eg_model_pair_one_barrier): one block barrier per key tile, the one at its start.
    constexpr bool ONE_BARRIER = opt_ONE_BARRIER<K>::value;
    // One key tile; FIRST (tile 0, a copy of the body of its own so that the loop has no branch for it)
    // waits for group A, for B halfway through S, for C before P V.
    auto tile = [&](const bool FIRST, const bool LAST, const int j) {
        const int k0 = j * BN;
        const int jn = j + STAGES - 1;
        const bool next = !LAST && jn < n_blocks;
        const u32 st_n = (u32)(jn % STAGES) * TILE_BYTES;
        const T *Kn = Kg + (i64)jn * BN * p.k_sn, *Vn = Vg + (i64)jn * BN * p.v_sn;
        const int valid_n = n_keys - jn * BN;
        if (FIRST)
            cp_async_wait<STAGES>();  // group A
        else
            cp_async_wait<STAGES - 2>();  // tile j has landed (tile j + 1 .. may still be in flight)
        __syncthreads();  // for every thread, and every warp is done with the stage tile jn refills
        if (LAST && k0 > q0 + prow + 31 + p.causal_offset) return;  // the pair's rows end before the tile
        const u32 stage = (u32)(j % STAGES) * TILE_BYTES;
        const u32 kb = sKa + stage + k_lane, vb = sVa + stage + v_lane;

        // S = Q K^T: the pair's 32 rows, this warp's half of the keys
        float s[MT][SN][4];
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int n = 0; n < SN; ++n) s[i][n][0] = s[i][n][1] = s[i][n][2] = s[i][n][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < DK; ++kk) {
            if (FIRST && kk == DK / 2) {
                cp_async_wait<STAGES - 1>();  // group B: the second halves of Q and K_0
                __syncthreads();
            }
            if (next) {
                // copies kk * 2 * PASSES / DK .. (kk + 1) * 2 * PASSES / DK - 1: K's passes, then V's
#pragma unroll
                for (int y = kk * 2 * PASSES / DK; y < (kk + 1) * 2 * PASSES / DK; ++y) {
                    if (y < PASSES)
                        load_tile_pass<T, BN, D, PITCH, NT>(sKa + st_n, Kn, p.k_sn, valid_n, tid, y);
                    else
                        load_tile_pass<T, BN, D, PITCH, NT>(sVa + st_n, Vn, p.v_sn, valid_n, tid, y - PASSES);
                }
            }
            u32 a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; ++i) ldsm_x4(a[i], q_lane + (i * 16 * PITCH + kk * 16) * 2);
#pragma unroll
            for (int n = 0; n < SN / 2; ++n) {
                u32 bf[4];
                ldsm_x4(bf, kb + (n * 16 * PITCH + kk * 16) * 2);
                mma_x4<BF16>(s, n, a, bf);
            }
        }
        cp_async_commit();  // tile jn's group (empty past the last tile)

        // Mask only where this warp's part of the tile meets the end of the keys or the diagonal.
        const int kw = k0 + c * BH;  // first key of this warp's half
        bool need_mask = kw + BH > p.nk;
        if (K::CAUSAL) need_mask = need_mask || (kw + BH - 1 > q0 + prow + p.causal_offset);
        if (need_mask) {
#pragma unroll
            for (int i = 0; i < MT; ++i)
#pragma unroll
                for (int n = 0; n < SN; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int row = q0 + prow + i * 16 + g + (e >= 2 ? 8 : 0);
                        const int col = kw + n * 8 + 2 * t + (e & 1);
                        if (col >= p.nk || !K::visible(row, col, p.causal_offset)) s[i][n][e] = neg_inf();
                    }
        }

        // Row maxima of this half, then of the whole tile with the partner's (log2 domain, scale folded in).
        float mx[MT][2];
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float v = neg_inf();
#pragma unroll
                for (int n = 0; n < SN; ++n) v = fmaxf(v, fmaxf(s[i][n][2 * r], s[i][n][2 * r + 1]));
                mx[i][r] = quad_max(v) * p.scale_log2;
            }
        put_rows(mx);
        pair_sync();
        bool move = false;
#pragma unroll
        for (int i = 0; i < MT; ++i)
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float other;
                get_row(i, r, other);
                mx[i][r] = fmaxf(mx[i][r], other);
                move |= mx[i][r] > m[i][r] + 8.f;
            }
        // Both warps of the pair see the same maxima and make the same choices.
        softmax_rescale(o, m, l, mx, move);
        softmax_exp(s, m, l, p.scale_log2);
        // P of this half: in registers as A fragments of P V, and in shared memory for the partner.
        u32 pa[MT][SN / 2][4];
#pragma unroll
        for (int i = 0; i < MT; ++i) {
#pragma unroll
            for (int kk = 0; kk < SN / 2; ++kk) {
                pa[i][kk][0] = pack2<BF16>(s[i][2 * kk][0], s[i][2 * kk][1]);
                pa[i][kk][1] = pack2<BF16>(s[i][2 * kk][2], s[i][2 * kk][3]);
                pa[i][kk][2] = pack2<BF16>(s[i][2 * kk + 1][0], s[i][2 * kk + 1][1]);
                pa[i][kk][3] = pack2<BF16>(s[i][2 * kk + 1][2], s[i][2 * kk + 1][3]);
#pragma unroll
                for (int x = 0; x < 4; ++x) {
                    // fragment register x: rows g (+8 for x odd), columns 2t, 2t+1 of 8-column tile 2kk + x/2
                    const u32 at = p_own + (u32)((i * 16 + g + 8 * (x & 1)) * PP + (2 * kk + x / 2) * 8 + 2 * t) * 2;
                    asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(at), "r"(pa[i][kk][x]));
                }
            }
        }
        pair_sync();
        if (FIRST) {
            cp_async_wait<STAGES - 1>();  // group C, V_0 (past it: the later stages' groups and tile jn's)
            __syncthreads();
        }

        // O += P V: the pair's rows, every key of the tile, this warp's half of the head dim.
#pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
            const int half = kk / (SN / 2), kh = kk % (SN / 2);
            u32 a[MT][4];
#pragma unroll
            for (int i = 0; i < MT; ++i) {
                if (half == c) {
                    a[i][0] = pa[i][kh][0], a[i][1] = pa[i][kh][1], a[i][2] = pa[i][kh][2], a[i][3] = pa[i][kh][3];
                } else {
                    ldsm_x4(a[i], p_lane + (u32)(i * 16 * PP + kh * 16) * 2);
                }
            }
#pragma unroll
            for (int n = 0; n < ON / 2; ++n) {
                u32 bf[4];
                ldsm_x4_t(bf, vb + (kk * 16 * PITCH + n * 16) * 2);
                mma_x4<BF16>(o, n, a, bf);
            }
        }
        // Every warp is done with this stage before it is refilled. With ONE_BARRIER the barrier at the start
        // of tile j + 1 does that: the stage is refilled during that tile's S, after it, and every warp
        // reaches it only when done with this tile.
        if (!LAST && !ONE_BARRIER) __syncthreads();
    };
    if (n_blocks > 0) tile(true, false, 0);
    if constexpr (LAST_APART) {
        for (int j = 1; j < n_blocks - 1; ++j) tile(false, false, j);
        if (n_blocks > 1) tile(false, true, n_blocks - 1);
    } else {
        for (int j = 1; j < n_blocks; ++j) tile(false, false, j);
    }
    cp_async_wait<0>();
    // Without a key tile nothing waited for the other threads' copies of Q, which the epilogue overwrites.
    // Otherwise (LAST_APART, ONE_BARRIER) each pair goes on to its epilogue as soon as it is done: only the
    // pair reads its rows of sQ.
    if (!(LAST_APART || ONE_BARRIER) || n_blocks == 0) __syncthreads();

    // Row sums: this warp's keys plus the partner's.
    float sum[MT][2];
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int r = 0; r < 2; ++r) sum[i][r] = quad_sum(l[i][r]);
    put_rows(sum);
    pair_sync();

    // Epilogue: normalise, stage this warp's columns of the pair's rows of O in sQ, store 16-byte chunks.
    T *Og = reinterpret_cast<T *>(p.o) + b * p.o_sb + h * p.o_sh;
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            float other;
            get_row(i, r, other);
            const float total = sum[i][r] + other;
            const float inv = total > 0.f ? 1.f / total : 0.f;
            const int row = prow + i * 16 + g + 8 * r;
#pragma unroll
            for (int n = 0; n < ON; ++n) {
                const u32 v = pack2<BF16>(o[i][n][2 * r] * inv, o[i][n][2 * r + 1] * inv);
                *reinterpret_cast<u32 *>(sQ + row * PITCH + c * DH + n * 8 + 2 * t) = v;
            }
            if (p.lse != nullptr && c == 0 && t == 0 && q0 + row < p.nq) {
                const float lse = total > 0.f ? m[i][r] * 0.69314718055994531f + logf(total) : neg_inf();
                p.lse[((i64)b * p.h + h) * p.nq + q0 + row] = lse;
            }
        }
    __syncwarp();
    constexpr int CH = DH / 8;  // 16-byte chunks of a warp's half row
#pragma unroll
    for (int it = 0; it < (32 * CH + 31) / 32; ++it) {
        const int idx = it * 32 + lane;
        if ((32 * CH) % 32 == 0 || idx < 32 * CH) {
            const int r = prow + idx / CH, cc = c * CH + idx % CH;
            if (q0 + r < p.nq)
                *reinterpret_cast<vec16 *>(Og + (i64)(q0 + r) * p.o_sn + cc * 8) =
                    *reinterpret_cast<const vec16 *>(sQ + r * PITCH + cc * 8);
        }
    }
}

}  // namespace eg
