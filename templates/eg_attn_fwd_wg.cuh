// eg_attn_fwd_wg.cuh - the forward attention main loop of the Hopper warpgroup family (sm_90a).
// A work tile is BM = 64 * CONSUMERS query rows of one (batch, head). Warpgroup 0 is the producer: one of
// its threads loads each work tile's Q and its K/V tiles of BN keys into a STAGES-deep ring with TMA, each
// load completing on an mbarrier; the other warpgroups are consumers, each owning 64 query rows: S = Q K^T
// by wgmma with K from shared memory and Q from shared memory or, with QREG, from registers (loaded once per
// work tile), online softmax in registers (exp2, scale folded in), then
// O += P V by wgmma with P straight from the S registers and V from shared memory read N-major. The
// consumer loop is software-pipelined by one key tile, and consumers take turns at the tensor cores
// (ping-pong), so that softmax overlaps matrix products.
//
// Under varlen a (batch, head) is one packed sequence of one head (see work_of).
//
// Shared memory (base rounded up to 1024 bytes, the period of the 128-byte swizzle): Q [BM][D], then K
// stages, then V stages [BN][D] each, every tile as ceil(D/64) column blocks of rows x 128 bytes written by
// TMA with 128-byte swizzle (16-byte chunk c of row r lands at chunk c ^ (r % 8)); with a bias, a bias tile
// [BM][BN] per stage (BN/64 blocks of BM x 128 bytes, loaded with the stage's K); with OBUF, O's staging
// buffer: OBUF_BLOCKS column blocks of BM x 128 bytes (all of O's where they fit; the epilogue stores O in
// passes of that many); then the mbarriers, the shared word and the record of the work tile. O leaves by
// TMA as well: each consumer stages its 64 rows in that layout and one of its threads stores them.
//
// Work tiles (query blocks of BM rows of one batch and head) in the launch order. The producer thread
// chooses each work tile of its CTA and hands it to the consumers with the tile's Q: it writes the tile's
// position to a shared word, and the tile as it computed it (batch, head, rows, key tiles: a record the
// consumers copy instead of deriving it again), before its arrival on q_full (the consumers read them after
// their wait; they are rewritten only after q_empty, when every consumer is done with the tile). A tile with no
// visible key is handed over with a bare arrival (the consumers write O = 0 and LSE = -inf), and so is the
// end of the walk (a position past the last). On the host's default persistent grid (as many CTAs as fit
// on the SMs, runtime/launch.c) CTA c starts at position c and then draws the next undrawn position from
// a counter pair in device memory (next position, CTAs done; the last CTA to finish sets both back to
// zero), so an SM that finishes light tiles takes more, and the producer loads the next tile's K and V
// while the consumers finish the current one. Without the counter the walk steps by the grid size (one
// CTA per tile: it runs once).
//
// Barriers and phases. q_full (count 1): the producer's arrive.expect_tx of Q's bytes plus the TMA bytes;
// q_empty (count 128 * CONSUMERS): every consumer thread is done with Q's rows: with its own output buffer
// (OBUF, where shared memory allows) once the last S = Q K^T of the work tile is complete, or with QREG as
// soon as Q is in registers (from D = 72 to 128), and the producer then loads the next tile's Q ahead of its
// K/V tiles, during the last P V and the epilogue (QREG: during the whole tile); otherwise after the
// epilogue, which stages O in Q's rows. k_full[s], v_full[s] (count 1 each): the same for stage s's K and V
// tiles, apart so that S = Q K^T starts before V lands. k_empty[s], v_empty[s] (count 128 * CONSUMERS): every
// consumer thread arrives once it has waited for the last wgmma reading that K or V tile. K and V are
// released apart because the consumer loop is pipelined (S = Q K^T of key tile j is issued before P V of tile
// j - 1): K_j is free as soon as S_j is, while V_j is held one iteration longer; with one barrier for both,
// the next K would wait for the slower V and reach the consumers late. Key tiles are numbered over all the
// work tiles of the CTA: tile number i uses stage s = i % STAGES for the u = i / STAGES-th time; the
// consumers wait k_full[s] and v_full[s] on parity u & 1; the producer, before refilling a slot, waits its
// empty barrier on parity (u & 1) ^ 1, which a fresh barrier passes at once (u = 0) and which otherwise is
// the consumers' release of tile i - STAGES. Q of the w-th work tile likewise: q_full on parity w & 1,
// q_empty on (w & 1) ^ 1 (tiles with no visible key included). Every consumer visits every key tile of the
// CTA, so each empty phase gets its 128 * CONSUMERS arrivals, and the producer is at most STAGES tiles (one
// Q) ahead, so no barrier can run two phases ahead of its waiter. A consumer holds V of tile i - 1 while it
// waits for K of tile i: STAGES >= 2 keeps the producer a tile ahead.
//
// Strips (WALK: a window): a position is a strip of p.strip consecutive query blocks of one (batch, head).
// A work tile's first `shared` key tiles are the previous one's last, still in the ring: they are numbered
// once, loaded once, and released only by the work tile that reads them last (the others wait their full
// barriers on the same phase, which cannot move before that release). At most STAGES are shared, so a slot the
// producer waits for is released by the work tile at hand or an earlier one; a work tile that shares tiles
// has its Q loaded first, since its first new tile waits for its own consumers.
#pragma once
#include "eg_attn_fwd.cuh"
#include "eg_sm90.cuh"

namespace eg {

// A work tile of the wg family: batch, head, first query row, first key tile and key tile count; under a
// block-sparse table also the listed key blocks of its query block; under varlen its sequence's first
// packed query and key rows, its lengths and its diagonal; in a strip, the key tiles shared with its
// neighbours.
template <bool BSPARSE>
struct WgWorkBs {};
template <>
struct WgWorkBs<true> {
    const int *bs_list;
};
template <bool VARLEN>
struct WgWorkVl {};
template <>
struct WgWorkVl<true> {
    int qr, kr, nq, nk, coff;
};
// (WALK) the key tiles a work tile shares with the previous one of its strip (its first `shared`, already
// in the ring) and with the next (its last `keep`, which it therefore does not release).
template <bool WALK>
struct WgWorkWk {};
template <>
struct WgWorkWk<true> {
    int shared, keep;
};
template <bool BSPARSE, bool VARLEN, bool WALK>
struct WgWork : WgWorkBs<BSPARSE>, WgWorkVl<VARLEN>, WgWorkWk<WALK> {
    int b, h, q0, j0, n;
};

// TMA coordinates (row, batch) of row r of work tile w's queries (KEYS: keys): (r, w.b), or under varlen the
// packed row of its sequence with batch coordinate 0 (the descriptors then span all the packed tokens).
template <bool KEYS, bool BSPARSE, bool VARLEN, bool WALK>
__device__ __forceinline__ void tma_rows(const WgWork<BSPARSE, VARLEN, WALK> &w, int r, int &row, int &bc) {
    if constexpr (VARLEN) {
        row = r + (KEYS ? w.kr : w.qr);
        bc = 0;
    } else {
        row = r;
        bc = w.b;
    }
}

// A compile-time int as a value (for generic lambdas).
template <int N>
struct IntC {
    static constexpr int value = N;
};

// An integer trait present in the generated source only where it differs from its default.
template <class K, int DEF, class = void>
struct opt_OBUF_BLOCKS {
    static constexpr int value = DEF;
};
template <class K, int DEF>
struct opt_OBUF_BLOCKS<K, DEF, decltype(void(K::OBUF_BLOCKS))> {
    static constexpr int value = K::OBUF_BLOCKS;
};

template <class K>
__device__ __forceinline__ void attn_fwd_wg(const FwdParams &p, const TmaMap &tq, const TmaMap &tk, const TmaMap &tv,
                                            const TmaMap &to, const TmaMap &tb) {
    constexpr bool BF16 = K::BF16;
    typedef typename K::T T;
    constexpr int D = K::D, BM = K::BM, BN = K::BN, C = K::CONSUMERS, S = K::STAGES;
    // A head dim that is not a multiple of 64 is stored padded to one (the TMA fills the columns past D
    // with zeros): S = Q K^T runs ceil(D / 16) k-steps and O += P V has N = D, so only the shared memory
    // is padded, not the arithmetic.
    constexpr int DP = (D + 63) / 64 * 64;
    constexpr int DB = DP / 64;                             // 64-column blocks of a tile
    constexpr u32 Q_BLOCK = BM * 128, KV_BLOCK = BN * 128;  // bytes of one column block
    constexpr u32 Q_BYTES = Q_BLOCK * DB, KV_BYTES = KV_BLOCK * DB;
    static_assert(BM == 64 * C && C >= 1 && C <= 3, "one consumer warpgroup per 64 query rows");
    // Variants of this family (traits absent from the generated source are false).
    constexpr bool WINDOW = opt_WINDOW<K>::value, SOFTCAP = opt_SOFTCAP<K>::value, ALIBI = opt_ALIBI<K>::value,
                   GQA = opt_GQA<K>::value, BSPARSE = opt_BSPARSE<K>::value, BIAS = opt_BIAS<K>::value,
                   OBUF = opt_OBUF<K>::value, VARLEN = opt_VARLEN<K>::value, MASK = opt_MASK<K>::value,
                   SCORE_MOD = opt_SCORE_MOD<K>::value, MASK_MOD = opt_MASK_MOD<K>::value,
                   SCORE_ADD = opt_SCORE_ADD<K>::value, MASK_RANGE = opt_MASK_RANGE<K>::value;
    // The softmax of a key tile overlaps the consumer's own P V of the previous one (see the loop).
    constexpr bool OVERLAP = opt_SOFTMAX_OVERLAP<K>::value;
    // Q in registers: each consumer loads its rows' A fragments once per work tile and S = Q K^T reads Q
    // from them (wgmma with A in registers) instead of from shared memory on every key tile.
    constexpr bool QREG = opt_QREG<K>::value;
    // Column blocks of O's staging buffer: all of O's, or OBUF_BLOCKS where fewer fit.
    constexpr int OB = opt_OBUF_BLOCKS<K, DB>::value;
    // The producer loads a work tile's Q ahead of its K/V tiles, and a consumer holding Q in registers
    // releases its rows once they are loaded (Q_EARLY): from D = 72 to 128 (at D = 64 it measured -1%, at
    // D = 256 -3% at N = 512).
    constexpr bool Q_FIRST = OBUF && D > 64 && D <= 128;
    constexpr bool Q_EARLY = Q_FIRST && QREG;
    // Strips (WALK, a window without tables or a bias): the CTA's unit of work is p.strip consecutive query
    // blocks of one (batch, head), walked in order; the key tiles a query block shares with the previous
    // one stay in the ring instead of being loaded again (see the producer).
    constexpr bool WALK = opt_WALK<K>::value;
    // Half tiles (HALVES, a window on 128-key tiles with two consumers): where a consumer's 64 rows see keys of
    // only one half of a key tile (under a causal window of 256, the first tile's upper half for the second
    // consumer, the diagonal tile's lower half for the first), the softmax and P V of that tile run on those
    // 64 keys alone (four k-steps of P V): each consumer's softmax covers 320 of a work tile's 384 keys.
    // S = Q K^T stays whole: an m64n64 product on a branch of its own made ptxas serialise every wgmma of the
    // kernel (the other half of its accumulators is then defined outside the product). The two consumers
    // still take the same turns.
    constexpr bool HALVES = opt_HALVES<K>::value && WINDOW && BN == 128 && C == 2 && !BIAS && !MASK && !MASK_MOD &&
                            !SCORE_MOD && !SCORE_ADD && !BSPARSE && !MASK_RANGE;
    static_assert(!(WALK && (BSPARSE || BIAS || MASK_RANGE)), "strips share whole key tiles, in order");
    static_assert(OB >= 1 && OB <= DB, "output buffer blocks");
    static_assert(!(VARLEN && (BIAS || BSPARSE || MASK)),
                  "varlen tables, biases and bit masks stay with the mma family");
    // The bias tile of a key tile (BM rows x BN keys, BN / 64 column blocks of BM x 128 bytes, swizzled like
    // K and V) rides with K: it lands on k_full and is released with k_empty.
    constexpr u32 B_BLOCK = BM * 128, B_BYTES = BIAS ? B_BLOCK * (BN / 64) : 0;
    static_assert(D % 8 == 0 && D >= 8 && D <= 256 && (BN == 64 || BN == 128), "tile shape");
    static_assert(S >= 2, "a consumer holds V of one tile while K of the next loads");
    // V's ring may hold one tile more than K's (VSTAGE): a V tile is read last, one softmax after its K, so its
    // slot frees later; the extra slot lets the producer load a V tile (and the next work tile's Q behind it)
    // as soon as its K, a key tile ahead.
    constexpr int SV = S + (opt_VSTAGE<K>::value ? 1 : 0);

    extern __shared__ unsigned char smem_raw[];
    const u32 sQ = (smem_addr(smem_raw) + 1023u) & ~1023u;
    const u32 sK = sQ + Q_BYTES, sV = sK + S * KV_BYTES, sB = sV + SV * KV_BYTES, sO = sB + S * B_BYTES;
    const u32 bars = sO + (OBUF ? (u32)OB * Q_BLOCK : 0u);
    const u32 q_full = bars, q_empty = bars + 8u;
    auto k_full = [&](int s) { return bars + 8u * (u32)(2 + s); };
    auto v_full = [&](int s) { return bars + 8u * (u32)(2 + SV + s); };
    auto k_empty = [&](int s) { return bars + 8u * (u32)(2 + 2 * SV + s); };
    auto v_empty = [&](int s) { return bars + 8u * (u32)(2 + 3 * SV + s); };

    // Work tiles: position idx of the launch order (tile_order, eg_attn_fwd.cuh) is the query block
    // q0 .. q0 + BM - 1 of (b, h); its key tiles are j0 .. j0 + n - 1 (keys (j0 + j) * BN ...): under
    // causal only up to the last row's diagonal, under a window from the tile holding the first row's
    // leftmost key to the last row's rightmost. Tiles outside are never loaded. Under a block-sparse table
    // the key tiles are those of the listed key blocks of the query block's row (bs_bk / BN tiles each, in
    // table order, up to the last block that starts before the causal bound; a window then only masks,
    // as in the mma family), and key_of(w, j) gives the first key of tile j.
    //
    // Under varlen, (b, h) is sequence b of head h: its queries are the packed rows w.qr .. w.qr + w.nq - 1,
    // its keys w.kr .. w.kr + w.nk - 1, both loaded from the packed tensors (batch coordinate 0), and
    // query blocks past its end are tiles with nothing to write. Rows and keys of the next sequence that a
    // tile reaches are loaded but never used: keys past nk are masked, rows past nq are not stored.
    typedef WgWork<BSPARSE, VARLEN, WALK> Work;
    auto nq_of = [&](const Work &w) {
        if constexpr (VARLEN) return w.nq;
        return p.nq;
    };
    auto nk_of = [&](const Work &w) {
        if constexpr (VARLEN) return w.nk;
        return p.nk;
    };
    auto coff_of = [&](const Work &w) {
        if constexpr (VARLEN) return w.coff;
        return p.causal_offset;
    };
    auto work_at = [&](int b, int h, int m_block) {
        Work w;
        w.b = b, w.h = h;
        w.q0 = m_block * BM;
        if constexpr (WALK) w.shared = w.keep = 0;
        if constexpr (VARLEN) {
            w.qr = __ldg(p.cu_q + w.b);
            w.nq = __ldg(p.cu_q + w.b + 1) - w.qr;
            w.kr = __ldg(p.cu_k + w.b);
            w.nk = __ldg(p.cu_k + w.b + 1) - w.kr;
            w.coff = p.causal_offset + (p.varlen_br ? w.nk - w.nq : 0);
        }
        int n_keys = nk_of(w);
        const int last_row = min(w.q0 + BM, nq_of(w)) - 1;
        if (K::CAUSAL) n_keys = max(0, min(nk_of(w), last_row + coff_of(w) + 1));
        if constexpr (VARLEN) {
            if (w.q0 >= w.nq) n_keys = 0;  // past the sequence's end: no rows
        }
        w.j0 = 0;
        if constexpr (WINDOW) {
            n_keys = max(0, min(n_keys, last_row + coff_of(w) + p.win_right + 1));
            if constexpr (!BSPARSE) w.j0 = min(max(0, w.q0 + coff_of(w) - p.win_left) / BN, (n_keys + BN - 1) / BN);
        }
        if constexpr (BSPARSE) {
            const int *row = p.bs_row + w.b * p.bs_row_sb + w.h * p.bs_row_sh + w.q0 / p.bs_bq;
            const int first = __ldg(row);
            int last = __ldg(row + 1);
            w.bs_list = p.bs_col + w.b * p.bs_col_sb + w.h * p.bs_col_sh + first;
            while (last > first && __ldg(w.bs_list + last - first - 1) * p.bs_bk >= n_keys) --last;
            w.n = (last - first) * (p.bs_bk / BN);
        } else {
            w.n = (n_keys + BN - 1) / BN - w.j0;
        }
        return w;
    };
    auto work_of = [&](int idx) {
        int b, h, m_block;
        tile_order<K::CAUSAL, BIAS || MASK || opt_BATCH_FREE<K>::value>(p, (unsigned)idx, b, h, m_block);
        return work_at(b, h, m_block);
    };
    auto key_of = [&](const Work &w, int j) {
        if constexpr (BSPARSE) return tile_key<BN, true>(j, w.bs_list, p.bs_bk / BN, p.bs_bk);
        return (w.j0 + j) * BN;
    };
    // MASK_RANGE: what the mask expression says of every (query, key) of the key tiles j .. j + s - 1 over
    // the rows of a work tile: 0 all hidden, 1 all visible, 2 either (K::mask_range, interval arithmetic).
    // Tiles all hidden for a work tile's rows are neither loaded by the producer nor visited by the
    // consumers: next_visible(w, j) is the first tile from j on that is not (w.n if none), found by the walk
    // of next_visible_tile. Only the producer walks: it hands over the work tile with its first visible tile
    // (none: nothing to visit), and each loaded key tile with its index and whether it is the last, in the
    // stage's word of key_slot, released by the stage's k_full.
    auto tiles_class = [&](const Work &w, int j, int s) {
        if constexpr (MASK_RANGE) {
            const int k0 = key_of(w, j), k1 = min(key_of(w, j + s - 1) + BN, nk_of(w)) - 1;
            return K::mask_range(w.b, w.h, w.q0, min(w.q0 + BM, nq_of(w)) - 1, k0, k1, nq_of(w), nk_of(w));
        } else {
            (void)w, (void)j, (void)s;
            return 2;
        }
    };
    auto next_visible = [&](const Work &w, int j) {
        return next_visible_tile<!BSPARSE>(j, w.n, [&](int a, int s) { return tiles_class(w, a, s); });
    };
    // positions of the launch order: work tiles, or (WALK) strips
    const bool strips = WALK && p.strip > 1;  // (strips of one block: the work tiles' launch order)
    const int total = p.b * p.h * (strips ? (p.m_blocks + p.strip - 1) / p.strip : p.m_blocks);
    // The CTA's next work tile: under a persistent grid with a counter, the next position nobody has
    // drawn (the first gridDim.x positions go to the CTAs by index), so that SMs that finish light tiles
    // take more; without one, a stride of the grid (one CTA per tile: none).
    auto next_tile = [&](int idx) {
        return p.tile_counter != nullptr ? (int)gridDim.x + atomicAdd(p.tile_counter, 1) : idx + (int)gridDim.x;
    };
    const u32 tile_slot = bars + 8u * (u32)(2 + 4 * SV);  // the position of the work tile in Q
    const u32 first_slot = tile_slot + 4u;                 // (MASK_RANGE) its first key tile visited (n: none)
    auto key_slot = [&](int s) { return tile_slot + 8u + 4u * (u32)s; };  // (MASK_RANGE) stage s's key tile
    // The work tile handed over, as the producer computed it (work_of): the consumers read it instead of
    // deriving it again from the position (divisions by the launch's sizes on every tile's critical path).
    const u32 work_rec = (key_slot(S) + 7u) & ~7u;
    Work *const rec = reinterpret_cast<Work *>(smem_raw + (work_rec - smem_addr(smem_raw)));

    if (threadIdx.x == 0) {
        mbar_init(q_full, 1);
        mbar_init(q_empty, 128 * C);
#pragma unroll
        for (int s = 0; s < S; ++s) {
            mbar_init(k_full(s), 1);
            mbar_init(v_full(s), 1);
            mbar_init(k_empty(s), 128 * C);
            mbar_init(v_empty(s), 128 * C);
        }
#pragma unroll
        for (int s = S; s < SV; ++s) {  // (VSTAGE) V's extra stage
            mbar_init(v_full(s), 1);
            mbar_init(v_empty(s), 128 * C);
        }
        mbar_init_fence();
    }
    __syncthreads();  // the last CTA-wide barrier: the roles below synchronise through mbarriers only

    const int wg = (int)(threadIdx.x / 128);
    if (wg == 0) {
        // ---- producer warpgroup: one thread issues every TMA load ----
        // K/V tile number it (counted over all work tiles of this CTA) uses K stage it % S for the
        // (it / S)-th time (V: it % SV, (it / SV)-th); the slot is refilled once the consumers have released
        // its previous use (a fresh barrier passes parity 1 at once). Without OBUF, Q is loaded after the
        // first K/V tile of a work tile, so that those load while the consumers still finish the previous
        // work tile, whose output they stage in Q's rows (q_empty: every consumer thread is done with them);
        // with OBUF, Q is free before the epilogue, and from D = 72 to 128 it goes first (Q_FIRST).
        if constexpr (K::REGS_PRODUCER > 0) setmaxnreg_dec<K::REGS_PRODUCER>();
        if (threadIdx.x == 0) {
            tma_prefetch_map(&tq);
            tma_prefetch_map(&tk);
            tma_prefetch_map(&tv);
            tma_prefetch_map(&to);
            if constexpr (BIAS) tma_prefetch_map(&tb);
            int it = 0, qt = 0;
            // Hands work tile idx to the consumers with its Q (an empty tile or the end: a bare arrival).
            // Its TMA coordinates come from the record (tma_rows).
            auto publish = [&](int idx, bool load_q, int first, const Work *w) {
                mbar_wait(q_empty, ((u32)qt & 1u) ^ 1u);
                st_shared_u32(tile_slot, (u32)idx);  // released to the consumers by the arrival below
                if (w != nullptr) *rec = *w;
                if constexpr (MASK_RANGE) st_shared_u32(first_slot, (u32)first);
                else (void)first;
                if (load_q) {
                    int row, b;
                    tma_rows<false>(*w, w->q0, row, b);
                    mbar_arrive_expect_tx(q_full, Q_BYTES);
#pragma unroll
                    for (int db = 0; db < DB; ++db) tma_load_4d(sQ + db * Q_BLOCK, &tq, q_full, db * 64, row, w->h, b);
                } else {
                    mbar_arrive(q_full);
                }
            };
            // One work tile: hands it over with its Q and loads its key tiles (in a strip, from its first not
            // shared with the previous work tile).
            auto run_tile = [&](int idx, const Work &w) {
                if (w.n <= 0) {
                    publish(idx, false, 0, &w);
                    ++qt;
                    return;
                }
                const int hkv = GQA ? w.h / p.kv_group : w.h;  // K/V head of this query head
                int krow, bc;  // TMA coordinates of key 0
                tma_rows<true>(w, 0, krow, bc);
                // the key tiles to load: all, or under MASK_RANGE those not hidden wholly, or in a strip those
                // the previous work tile did not load
                int j_first = MASK_RANGE ? next_visible(w, 0) : 0;
                if constexpr (WALK) j_first = w.shared;
                if constexpr (MASK_RANGE) {
                    if (j_first >= w.n) {
                        publish(idx, false, w.n, &w);  // every key tile hidden: nothing to load
                        ++qt;
                        return;
                    }
                }
                // With O's own buffer Q is released before the epilogue (after its last read: with QREG
                // once it is in registers), and where Q_FIRST says so the next work tile's Q loads first,
                // ahead of its K/V tiles. So does the Q of a work tile that shares tiles with the previous
                // one: its first load waits for a slot that only its own consumers release.
                const bool q_first = Q_FIRST || (WALK && j_first > 0);
                if (q_first) publish(idx, true, j_first, &w);
                int jn = 0;  // (MASK_RANGE) the next visible tile after j, found before j is loaded
                for (int j = j_first; j < w.n; j = MASK_RANGE ? jn : j + 1, ++it) {
                    if constexpr (MASK_RANGE) jn = next_visible(w, j + 1);
                    const int s = it % S, sv = it % SV;
                    const u32 par = ((u32)(it / S) & 1u) ^ 1u, parv = ((u32)(it / SV) & 1u) ^ 1u;
                    const u32 ks = sK + (u32)s * KV_BYTES, vs = sV + (u32)sv * KV_BYTES;
                    const int key = key_of(w, j);
                    mbar_wait(k_empty(s), par);
                    if constexpr (MASK_RANGE) st_shared_u32(key_slot(s), (u32)j | (jn >= w.n ? 0x80000000u : 0u));
                    mbar_arrive_expect_tx(k_full(s), KV_BYTES + B_BYTES);
#pragma unroll
                    for (int db = 0; db < DB; ++db) tma_load_4d(ks + db * KV_BLOCK, &tk, k_full(s), db * 64, krow + key, hkv, bc);
                    if constexpr (BIAS) {
                        // broadcast dimensions (stride 0) have size 1 in the bias's tensor map
                        const u32 bs = sB + (u32)s * B_BYTES;
#pragma unroll
                        for (int bb = 0; bb < BN / 64; ++bb)
                            tma_load_4d(bs + bb * B_BLOCK, &tb, k_full(s), key + 64 * bb, w.q0, p.bias_sh ? w.h : 0,
                                        p.bias_sb ? w.b : 0);
                    }
                    mbar_wait(v_empty(sv), parv);
                    mbar_arrive_expect_tx(v_full(sv), KV_BYTES);
#pragma unroll
                    for (int db = 0; db < DB; ++db)
                        tma_load_4d(vs + db * KV_BLOCK, &tv, v_full(sv), db * 64, krow + key, hkv, bc);
                    if (!q_first && j == j_first) publish(idx, true, j_first, &w);
                }
                ++qt;
            };
            // (the position just handed over is read back from the shared word: a register less across the
            // loads, where the producer has few)
            for (int idx = (int)blockIdx.x;; idx = next_tile((int)ld_shared_u32(tile_slot))) {
                if (idx >= total) {
                    publish(total, false, 0, nullptr);
                    break;
                }
                if constexpr (WALK) {
                    if (strips) {
                        // Strip idx: query blocks m0 .. m0 + cnt - 1 of head bh. A work tile shares with the
                        // previous one the key tiles from its first to the previous one's last (the key ranges
                        // of a window only move forward), where there are at most S of them: those stay in the
                        // ring (the consumers release a tile after its last use), and the producer never waits
                        // for a slot that a later use still holds. Each work tile is computed again for its
                        // successor's overlap rather than kept (the producer has few registers).
                        const int sph = (p.m_blocks + p.strip - 1) / p.strip;
                        const int bh = idx / sph, m0 = idx % sph * p.strip, cnt = min(p.strip, p.m_blocks - m0);
                        const int b = bh / p.h, h = bh % p.h;
                        // tiles of x from its first up to key tile end - 1 (end: -1 after a work tile with none)
                        auto overlap = [&](int end, const Work &x) {
                            const int o = x.n > 0 ? min(max(end - x.j0, 0), x.n) : 0;
                            return o <= S ? o : 0;
                        };
                        int end = -1;
                        for (int q = 0; q < cnt; ++q) {
                            Work w = work_at(b, h, m0 + q);
                            w.shared = overlap(end, w);
                            end = w.n > 0 ? w.j0 + w.n : -1;
                            w.keep = q + 1 < cnt ? overlap(end, work_at(b, h, m0 + q + 1)) : 0;
                            run_tile(idx, w);
                        }
                        continue;
                    }
                }
                run_tile(idx, work_of(idx));
            }
            if (p.tile_counter != nullptr) {
                // The last CTA to finish returns the counter pair to zero for the next launch on the
                // stream: every CTA has drawn its last tile before it counts itself done.
                __threadfence();
                if (atomicAdd(p.tile_counter + 1, 1) == (int)gridDim.x - 1) {
                    __threadfence();
                    atomicExch(p.tile_counter, 0);
                    atomicExch(p.tile_counter + 1, 0);
                }
            }
        }
    } else {
        // ---- consumer warpgroup cw: rows q0 + 64 cw .. q0 + 64 cw + 63 of each work tile ----
        if constexpr (K::REGS_CONSUMER > 0) setmaxnreg_inc<K::REGS_CONSUMER>();
        const int cw = wg - 1;
        const int tid = (int)(threadIdx.x % 128), warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
        const u32 qa = sQ + (u32)cw * 64u * 128u;  // this warpgroup's rows of every Q column block
        const u32 oa = OBUF ? sO + (u32)cw * 64u * 128u : qa;  // and of O's staging blocks
        constexpr int CH = D / 8;                  // 16-byte chunks of a row of O

        float o[D / 2];
        float m[2], l[2];       // running max (log2 domain), partial sums of this thread's two rows
        float sc[BN / 2];       // S of the newest key tile, then its P in fp32
        u32 pa[BN / 16][4];     // P of the previous key tile, packed
        constexpr int QK = (D + 15) / 16;  // k-steps of S = Q K^T
        u32 qf[QREG ? QK : 1][4];          // (QREG) Q's A fragments of this warp's 16 rows, per k-step
        int it = 0, qt = 0;     // K/V tiles and work tiles consumed so far, as the producer counts them
        Work w;
        float alibi_c = 0.f;    // -slope / scale: ALiBi in the raw score domain
        float bias_lo = 0.f, bias_hi = 0.f;  // the bias pair of the score pair at hand
        // this thread's rows of the work tile: row0() and row0() + 8 (recomputed: cheaper than a register)
        auto row0 = [&]() { return w.q0 + 64 * cw + 16 * warp + g; };
        auto out = [&]() {
            if constexpr (VARLEN)
                return reinterpret_cast<T *>(p.o) + w.b * p.o_sb + w.h * p.o_sh + (i64)w.qr * p.o_sn;
            else
                return reinterpret_cast<T *>(p.o) + w.b * p.o_sb + w.h * p.o_sh;
        };
        // index of the LSE of row `row` of the work tile: [b][h][nq], or under varlen [h][total queries]
        // (FlashAttention's layout)
        auto lse_index = [&](int row) {
            if constexpr (VARLEN) return (i64)w.h * p.nq + w.qr + row;
            else return ((i64)w.b * p.h + w.h) * p.nq + row;
        };

        // The key tiles a work tile visits: j = 0 .. nt - 1, all n of them, or under MASK_RANGE those the mask
        // expression does not hide wholly: advance(j) reads visited tile j's word of key_slot (its index, and
        // the top bit set where it is the last) once its stage is full (nt counts the tiles as they come).
        // kt(j) is the first key of visited tile j.
        int nt = 0;
        u32 jw = 0u;
        auto advance = [&](int j) {
            if constexpr (MASK_RANGE) {
                const int s = (it + j) % S;
                mbar_wait(k_full(s), (u32)((it + j) / S) & 1u);
                jw = ld_shared_u32(key_slot(s));
            } else {
                (void)j;
            }
        };
        auto last = [&]() { return (jw >> 31) != 0u; };
        // Whether key tile j of the work tile is released after its use here: in a strip not the last
        // `keep`, which the next work tile reads again (its slots refill only after that).
        auto releases = [&](int j) {
            if constexpr (WALK) return j < nt - w.keep;
            (void)j;
            return true;
        };
        auto kt = [&](int j) { return key_of(w, MASK_RANGE ? (int)(jw & 0x7fffffffu) : j); };
        int hcur = 0;  // (HALVES) half_of of the key tile whose softmax ran last: its P and its P V
        // (HALVES) the keys of key tile j this warpgroup's 64 rows may see: 0 both halves, 1 only the first 64
        // (the window's right edge or the keys' end falls before the second), 2 only the last 64 (its left edge
        // falls after the first). Rows past the end count as rows: that only widens the range.
        auto half_of = [&](int j) {
            if constexpr (HALVES) {
                const int k0 = kt(j), r0 = w.q0 + 64 * cw + coff_of(w);
                int hi = min(nk_of(w) - 1, r0 + 63 + p.win_right);
                if (K::CAUSAL) hi = min(hi, r0 + 63);
                // the same for the whole warpgroup; taken from lane 0, so that ptxas sees a warp-uniform branch
                // around P V (on a per-thread value it serialises every wgmma of the kernel)
                return __shfl_sync(0xffffffffu, hi < k0 + BN / 2 ? 1 : r0 - p.win_left >= k0 + BN / 2 ? 2 : 0, 0);
            }
            (void)j;
            return 0;
        };
        // The bit mask's words of key tile j for this thread's two rows: word q covers the tile's keys
        // 32q .. 32q + 31 (k0 is a multiple of BN, so of 32), that is n-tiles 4q .. 4q + 3. Loaded right after
        // the tile's S = Q K^T is issued, so that the loads run beside the product; rows and words past the
        // end read as 0 (hidden).
        constexpr int MW = MASK ? BN / 32 : 1;
        u32 mk[2][MW];
        auto load_mask = [&](int j) {
            if constexpr (MASK) {
                const int k0 = kt(j);
                const u32 *mg = p.mask + w.b * p.mask_sb + w.h * p.mask_sh + (k0 >> 5);
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int row = row0() + 8 * r;
#pragma unroll
                    for (int q = 0; q < MW; ++q)
                        mk[r][q] = row < nq_of(w) && k0 + 32 * q < nk_of(w) ? __ldg(mg + (i64)row * p.mask_sq + q) : 0u;
                }
            } else {
                (void)j;
            }
        };
        // The mask expression of key tile j, evaluated right after the tile's S = Q K^T is issued (it does not
        // read the score), so that its reads and arithmetic run beside the product: one bit per score of this
        // thread's two rows, set where the key is visible. Keys and rows past the end never reach the
        // expression (their bits are set; the bounds mask hides those keys, and those rows are never stored).
        u32 mm[2];
        auto eval_mask_mod = [&](int j) {
            if constexpr (MASK_MOD) {
                const int k0 = kt(j);
                // what the expression says of the tile for this warp's 16 rows: evaluated only where it may be either
                int cls = 2;
                if constexpr (MASK_RANGE) {
                    const int wq = w.q0 + 64 * cw + 16 * warp;
                    if (wq < nq_of(w))
                        cls = K::mask_range(w.b, w.h, wq, min(wq + 16, nq_of(w)) - 1, k0, min(k0 + BN, nk_of(w)) - 1,
                                            nq_of(w), nk_of(w));
                }
                auto visible = [&](int n, int e) {
                    const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                    return K::mask_mod(w.b, w.h, row, col, nq_of(w), nk_of(w), p.xt);
                };
                mm[0] = mm[1] = 0u;
                if (cls != 2) {
                    mm[0] = mm[1] = cls ? ~0u : 0u;  // the same verdict for the whole tile: nothing to evaluate
                } else if (k0 + BN <= nk_of(w) && row0() + 8 < nq_of(w)) {
                    // inside the sequence for both rows: no test per score, so that what the expression reads
                    // per row or per key is read once
#pragma unroll
                    for (int n = 0; n < BN / 8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) mm[e >> 1] |= (visible(n, e) ? 1u : 0u) << (2 * n + (e & 1));
                } else {
#pragma unroll
                    for (int n = 0; n < BN / 8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                            const bool vis = row >= nq_of(w) || col >= nk_of(w) || visible(n, e);
                            mm[e >> 1] |= (vis ? 1u : 0u) << (2 * n + (e & 1));
                        }
                }
            } else {
                (void)j;
            }
        };
        // Ping-pong between consumers (C >= 2): a warpgroup issues its matrix products only in its turn,
        // then hands the turn to the next, so that one warpgroup's softmax runs while another's wgmma
        // occupy the tensor cores. Turns pass round a ring of named barriers 4 + cw (1..3 belong to the
        // epilogue, 7..9 to the softmax overlap's vote): the turn of cw is a bar.sync of its own barrier,
        // which completes when the previous warpgroup has arrived there. The last consumer hands consumer 0
        // its first turn; every consumer takes the same number of turns (each work tile has n + 1 groups for
        // all of them), so consumer 0 takes one more at the end to consume the last hand-over, and no
        // barrier is left half-arrived.
        constexpr bool PINGPONG = C >= 2;
        auto turn_begin = [&]() {
            if constexpr (PINGPONG) named_barrier(4u + (u32)cw, 256u);
        };
        auto turn_end = [&]() {
            if constexpr (PINGPONG) named_barrier_arrive(4u + (u32)((cw + 1) % C), 256u);
        };
        if constexpr (PINGPONG) {
            if (cw == C - 1) named_barrier_arrive(4u, 256u);
        }

        // S = Q K^T of key tile j into sc (onto the expression's term with SCORE_ADD): ceil(D/16) k-steps; a
        // step is 32 bytes along a swizzled row, 4 steps per column block. Issued and committed, not waited for.
        // Descriptors of the first k-step of Q and of stage 0's K and V; a later step or stage adds its byte
        // offset / 16 to the start-address field (every address stays below 256 KB: no carry out of it).
        const u64 dq0 = smem_desc(qa, 16u, 1024u), dk0 = smem_desc(sK, 16u, 1024u), dv0 = smem_desc(sV, KV_BLOCK, 1024u);
        auto issue_qk = [&](int j) {
            const int s = (it + j) % S;
            const u64 dks = dk0 + (u64)((u32)s * (KV_BYTES / 16u));
            mbar_wait(k_full(s), (u32)((it + j) / S) & 1u);
            wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < QK; ++kk) {
                const u64 dk = dks + (u64)(((kk / 4) * KV_BLOCK + (kk % 4) * 32u) / 16u);
                if constexpr (QREG) {
                    wgmma<BN, BF16>::rs(sc, qf[kk], dk, kk > 0 || SCORE_ADD ? 1 : 0);
                } else {
                    const u64 da = dq0 + (u64)(((kk / 4) * Q_BLOCK + (kk % 4) * 32u) / 16u);
                    wgmma<BN, BF16>::ss(sc, da, dk, kk > 0 || SCORE_ADD ? 1 : 0);
                }
            }
            wgmma_commit();
        };
        // (QREG) Q's fragments from the swizzled tile: for k-step kk, ldmatrix matrix i of lane L is rows
        // 8 (i & 1) .. + 7 of the warp's 16 at the 16-byte chunk 2 (kk % 4) + i / 2 of column block kk / 4,
        // stored at chunk ^ (row % 8).
        auto load_q = [&]() {
            if constexpr (QREG) {
                const int mi = lane / 8, rl = 16 * warp + 8 * (mi & 1) + lane % 8;
#pragma unroll
                for (int kk = 0; kk < QK; ++kk) {
                    const int chunk = 2 * (kk % 4) + (mi >> 1);
                    ldsm_x4(qf[kk],
                            qa + (u32)(kk / 4) * Q_BLOCK + (u32)rl * 128u + (u32)((chunk ^ (rl % 8)) * 16));
                }
            }
        };
        // O += P V of key tile j with P from pa: k-step kk reads keys 16 kk .. 16 kk + 15, rows 2048 bytes
        // apart; V is N-major (the head dim contiguous), 64 columns per block (LBO) and 8 keys per 1024
        // bytes (SBO). Issued and committed, not waited for.
        auto issue_pv = [&](int j) {
            const int s = (it + j) % SV;
            const u64 dvs = dv0 + (u64)((u32)s * (KV_BYTES / 16u));
            mbar_wait(v_full(s), (u32)((it + j) / SV) & 1u);
            fence_regs(o);
            wgmma_fence();
            if constexpr (HALVES) {
                const int hf = hcur;  // P V of the tile whose softmax ran last
                if (hf != 0) {
                    const int k1 = hf == 2 ? BN / 32 : 0;  // the half's first k-step of 16 keys
#pragma unroll
                    for (int kk = 0; kk < BN / 32; ++kk)
                        wgmma<D, BF16>::rs_tb(o, pa[kk], dvs + (u64)((kk + k1) * 128), 1);
                    wgmma_commit();
                    return;
                }
            }
#pragma unroll
            for (int kk = 0; kk < BN / 16; ++kk)
                wgmma<D, BF16>::rs_tb(o, pa[kk], dvs + (u64)(kk * 128u), 1);
            wgmma_commit();
        };
        // SCORE_ADD: the term E of the user's score + E for key tile j, written into the accumulators that
        // S = Q K^T then adds to (E / scale: the accumulators hold raw scores). Called while no wgmma is in
        // flight, before the turn: the term's reads run while the other consumers use the tensor cores. Keys
        // and rows past the end get 0 (they are masked, or never stored) and never reach the expression.
        auto init_scores = [&](int j) {
            if constexpr (SCORE_ADD) {
                const int k0 = kt(j);
                auto term = [&](int n, int e) {
                    const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                    return K::score_add(w.b, w.h, row, col, nq_of(w), nk_of(w), p.xt) * p.bias_mul;
                };
                // inside the sequence for both rows: no test per score, so that what the term computes per
                // row or head is computed once
                if (k0 + BN <= nk_of(w) && row0() + 8 < nq_of(w)) {
#pragma unroll
                    for (int n = 0; n < BN / 8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) sc[4 * n + e] = term(n, e);
                } else {
#pragma unroll
                    for (int n = 0; n < BN / 8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                            sc[4 * n + e] = row < nq_of(w) && col < nk_of(w) ? term(n, e) : 0.f;
                        }
                }
            } else {
                (void)j;
            }
        };
        // Score modifications, the mask (only on tiles that meet the end of the keys, the causal diagonal
        // or a window edge within this warpgroup's rows), then the online softmax of key tile j in place:
        // each row's 2 * BN / 8 values are here, the rest in the other 3 lanes of the quad. Returns in
        // alpha the factor that moves O and l to the new maxima.
        // Generic over the keys it covers: NT8 column tiles of 8, a whole key tile (BN / 8) or, with HALVES, a
        // half of one from its key koff (BN / 16).
        auto softmax_keys = [&](auto nt8, int j, int koff, float(&alpha)[2]) {
            constexpr int NT8 = decltype(nt8)::value;
            const int k0 = kt(j) + koff;
            if constexpr (SOFTCAP || ALIBI || BIAS || SCORE_MOD) {
#pragma unroll
                for (int n = 0; n < NT8; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        float x = sc[4 * n + e];
                        if constexpr (SOFTCAP) x = p.softcap_out * tanhf(x * p.softcap_in);
                        if constexpr (ALIBI) {
                            const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                            x = fmaf(alibi_c, fabsf((float)(row + coff_of(w) - col)), x);
                        }
                        if constexpr (BIAS) {
                            // this thread's bias pair: row rl of the tile, keys 8n + 2t and 8n + 2t + 1 (one
                            // 32-bit word in chunk (n % 8) ^ (rl % 8) of column block n / 8)
                            if ((e & 1) == 0) {
                                const u32 bs = sB + (u32)((it + j) % S) * B_BYTES;
                                const int rl = 64 * cw + 16 * warp + g + (e >= 2 ? 8 : 0);
                                const u32 word = ld_shared_u32(bs + (u32)(n / 8) * B_BLOCK + (u32)rl * 128u +
                                                               (u32)(((n % 8) ^ (rl % 8)) * 16 + 4 * t));
                                unpack2<BF16>(word, bias_lo, bias_hi);
                            }
                            x = fmaf(e & 1 ? bias_hi : bias_lo, p.bias_mul, x);
                        }
                        // The user's score expression sees the scaled score and plain indexes (within the
                        // sequence under varlen); rows and keys past the end never reach it (keys there are
                        // masked below, rows there never stored), so it never reads its tensors there.
                        if constexpr (SCORE_MOD) {
                            const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                            if (row < nq_of(w) && col < nk_of(w))
                                x = K::score_mod(x * p.scale, w.b, w.h, row, col, nq_of(w), nk_of(w), p.xt) *
                                    p.bias_mul;
                        }
                        sc[4 * n + e] = x;
                    }
            }
            const int rw0 = w.q0 + 64 * cw;
            bool need_mask = k0 + 8 * NT8 > nk_of(w);
            if (K::CAUSAL) need_mask = need_mask || (k0 + 8 * NT8 - 1 > rw0 + coff_of(w));
            if constexpr (WINDOW)
                need_mask = need_mask || (k0 + 8 * NT8 - 1 > rw0 + coff_of(w) + p.win_right) ||
                            (k0 < rw0 + 63 + coff_of(w) - p.win_left);
            // Each of the thread's two rows sees the keys lo[r] .. hi[r] of this tile, counted from its first
            // column 2t: the end of the keys, the causal diagonal (the family's mask hook, K::visible, is
            // that bound and nothing else) and the window's right edge bound hi, the window's left edge lo.
            // Score (n, e) sits at column 8n + (e & 1), a constant: without a window one compare against hi
            // per score, then a select (measured on an H200 against a test per score: D = 128 causal +1%, but
            // D = 64 causal -2 to -3% at N = 512 and 1024, which keeps the test per score). Under a window,
            // where the two edges took two compares per score, one mask per row (row_run_mask), then a select.
            constexpr bool BOUNDS = WINDOW || D > 64;
            if (need_mask && !BOUNDS) {
#pragma unroll
                for (int n = 0; n < NT8; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int row = row0() + (e >= 2 ? 8 : 0), col = k0 + 8 * n + 2 * t + (e & 1);
                        if (col >= nk_of(w) || !K::visible(row, col, coff_of(w))) sc[4 * n + e] = neg_inf();
                    }
            }
            if (need_mask && BOUNDS) {
                int lo[2], hi[2];
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int diag = row0() + 8 * r + coff_of(w), base = k0 + 2 * t;
                    hi[r] = nk_of(w) - 1;
                    if (K::CAUSAL) hi[r] = min(hi[r], diag);
                    if constexpr (WINDOW) hi[r] = min(hi[r], diag + p.win_right);
                    hi[r] -= base;
                    lo[r] = WINDOW ? diag - p.win_left - base : -8 * NT8;
                }
                if constexpr (WINDOW) {
#pragma unroll
                    for (int r = 0; r < 2; ++r) {  // one row's mask at a time (a register less)
                        const u32 vis = row_run_mask<8 * NT8>(lo[r], hi[r]);
#pragma unroll
                        for (int n = 0; n < NT8; ++n)
#pragma unroll
                            for (int b = 0; b < 2; ++b)
                                if (!(vis & (1u << (2 * n + b)))) sc[4 * n + 2 * r + b] = neg_inf();
                    }
                } else {
#pragma unroll
                    for (int n = 0; n < NT8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int r = e >> 1, c = 8 * n + (e & 1);
                            if (c > hi[r]) sc[4 * n + e] = neg_inf();
                        }
                }
            }
            // The mask expression's verdicts (eval_mask_mod): score (n, e) is bit 2n + (e & 1) of word e / 2.
            if constexpr (MASK_MOD) {
#pragma unroll
                for (int n = 0; n < NT8; ++n)
#pragma unroll
                    for (int e = 0; e < 4; ++e)
                        if (!((mm[e >> 1] >> (2 * n + (e & 1))) & 1u)) sc[4 * n + e] = neg_inf();
            }
            // The bit mask, where some key of the warp's rows is hidden: score (n, e) is bit
            // 8 (n % 4) + 2t + (e & 1) of word n / 4 of its row.
            if constexpr (MASK) {
                bool all = true;
#pragma unroll
                for (int r = 0; r < 2; ++r)
#pragma unroll
                    for (int q = 0; q < MW; ++q) all = all && mk[r][q] == 0xffffffffu;
                if (!__all_sync(0xffffffffu, all)) {
#pragma unroll
                    for (int n = 0; n < NT8; ++n)
#pragma unroll
                        for (int e = 0; e < 4; ++e)
                            if (!((mk[e >> 1][n >> 2] >> ((n & 3) * 8 + 2 * t + (e & 1))) & 1u))
                                sc[4 * n + e] = neg_inf();
                }
            }
            // The running max m (log2 domain, scale folded in) moves only when the row's new maximum
            // exceeds it by more than 8, a factor 256: the exponentials stay below 256 (exact in fp32, no
            // less precise in 16 bits), alpha is 1 on most tiles of a long row, and O is rescaled only
            // where some row of the warp moved.
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                float v = neg_inf();
#pragma unroll
                for (int n = 0; n < NT8; ++n) v = fmaxf(v, fmaxf(sc[4 * n + 2 * r], sc[4 * n + 2 * r + 1]));
                v = quad_max(v) * p.scale_log2;
                alpha[r] = 1.f;
                if (v > m[r] + 8.f) {
                    alpha[r] = fast_exp2(m[r] - v);  // 0 while m was -inf
                    m[r] = v;
                }
                const float m_use = m[r] == neg_inf() ? 0.f : m[r];  // a row with nothing visible yet
                float sum = 0.f;
#pragma unroll
                for (int n = 0; n < NT8; ++n) {
                    sc[4 * n + 2 * r] = fast_exp2(fmaf(sc[4 * n + 2 * r], p.scale_log2, -m_use));
                    sc[4 * n + 2 * r + 1] = fast_exp2(fmaf(sc[4 * n + 2 * r + 1], p.scale_log2, -m_use));
                    sum += sc[4 * n + 2 * r] + sc[4 * n + 2 * r + 1];
                }
                l[r] = l[r] * alpha[r] + sum;
            }
        };
        auto softmax = [&](int j, float(&alpha)[2]) {
            if constexpr (HALVES) {
                const int hf = hcur = half_of(j);
                if (hf != 0) {
                    if (hf == 2) {
#pragma unroll
                        for (int i = 0; i < BN / 4; ++i) sc[i] = sc[i + BN / 4];  // the last 64 keys' scores
                    }
                    softmax_keys(IntC<BN / 16>{}, j, hf == 2 ? BN / 2 : 0, alpha);
                    return;
                }
            }
            softmax_keys(IntC<BN / 8>{}, j, 0, alpha);
        };
        // With a bias the K slot also holds the bias tile, read by the softmax through the generic proxy:
        // released after it, with the proxy fence that orders those reads before the next TMA write.
        auto release_bias_k = [&](int j) {
            fence_proxy_async();
            mbar_arrive(k_empty((it + j) % S));
        };
        // P as the A fragments of BN/16 k-steps: accumulator tiles 2k and 2k+1, packed in pairs.
        auto pack_p_keys = [&](auto ks) {
#pragma unroll
            for (int kk = 0; kk < decltype(ks)::value; ++kk) {
                pa[kk][0] = pack2<BF16>(sc[8 * kk + 0], sc[8 * kk + 1]);
                pa[kk][1] = pack2<BF16>(sc[8 * kk + 2], sc[8 * kk + 3]);
                pa[kk][2] = pack2<BF16>(sc[8 * kk + 4], sc[8 * kk + 5]);
                pa[kk][3] = pack2<BF16>(sc[8 * kk + 6], sc[8 * kk + 7]);
            }
        };
        // (HALVES: a half tile's 64 keys are P's first four k-steps; hcur was set by the tile's softmax)
        auto pack_p = [&]() {
            if constexpr (HALVES) {
                if (hcur != 0) {
                    pack_p_keys(IntC<BN / 32>{});
                    return;
                }
            }
            pack_p_keys(IntC<BN / 16>{});
        };

        for (;;) {
            mbar_wait(q_full, (u32)qt & 1u);
            const int idx = (int)ld_shared_u32(tile_slot);
            if (idx >= total) break;
            w = *rec;
            if constexpr (WALK) it -= w.shared;  // its first key tiles are the previous work tile's last
            if constexpr (ALIBI) alibi_c = -p.alibi[w.h] / p.scale;
            nt = w.n;
            if constexpr (MASK_RANGE) {
                nt = (int)ld_shared_u32(first_slot) < w.n ? 1 : 0;  // the first visible tile, or none
            }
            if (nt <= 0) {
                // No key visible to any row (causal with more queries than keys, a window past the keys, or
                // every key tile hidden by the mask expression): O = 0 and LSE = -inf, written directly;
                // nothing was loaded for this tile.
#pragma unroll
                for (int k = 0; k < (64 * CH + 127) / 128; ++k) {
                    const int ci = k * 128 + tid, rl = ci / CH, c = ci % CH, row = w.q0 + 64 * cw + rl;
                    if (ci < 64 * CH && row < nq_of(w))
                        st_global_v4(out() + (i64)row * p.o_sn + c * 8, vec16{0u, 0u, 0u, 0u});
                }
                if (p.lse != nullptr && t == 0)
#pragma unroll
                    for (int r = 0; r < 2; ++r)
                        if (row0() + 8 * r < nq_of(w)) p.lse[lse_index(row0() + 8 * r)] = neg_inf();
                mbar_arrive(q_empty);
                ++qt;
                continue;
            }
#pragma unroll
            for (int i = 0; i < D / 2; ++i) o[i] = 0.f;
            m[0] = m[1] = neg_inf();
            l[0] = l[1] = 0.f;

            // The key loop is software-pipelined by one tile: iteration j issues S_j = Q K_j^T and then
            // O += P_{j-1} V_{j-1}, and computes the softmax of S_j while the second product runs. O moves
            // to S_j's maxima only after that product has completed (it accumulated P_{j-1} at the old
            // ones). K_j is released as soon as S_j is complete, V_{j-1} after its product.
            float alpha[2];
            load_q();
            if constexpr (Q_EARLY) {
                // Q is in registers: its rows may take the next work tile's Q (the fence orders these generic
                // reads before that TMA write)
                fence_proxy_async();
                mbar_arrive(q_empty);
            }
            advance(0);
            init_scores(0);
            turn_begin();
            issue_qk(0);
            turn_end();
            load_mask(0);
            eval_mask_mod(0);
            wgmma_wait<0>();
            fence_regs(sc);
            if constexpr (!BIAS) {
                if (releases(0)) mbar_arrive(k_empty(it % S));  // K_0 has been read
            }
            if (OBUF && !Q_EARLY && (MASK_RANGE ? last() : nt == 1)) mbar_arrive(q_empty);  // and so has Q, for the last time
            softmax(0, alpha);                                   // O is still zero: nothing to rescale
            if constexpr (BIAS) release_bias_k(0);
            pack_p();
            for (int j = 1; MASK_RANGE ? !last() : j < nt; ++j) {
                if constexpr (MASK_RANGE) ++nt;
                advance(j);
                init_scores(j);
                turn_begin();
                issue_qk(j);
                issue_pv(j - 1);
                turn_end();
                load_mask(j);
                eval_mask_mod(j);
                wgmma_wait<1>();  // groups complete in order: S_j is ready, P_{j-1} V_{j-1} may still run
                fence_regs(sc);
                if constexpr (!BIAS) {
                    if (releases(j)) mbar_arrive(k_empty((it + j) % S));  // K_j has been read: the slot may refill
                }
                if (OBUF && !Q_EARLY && (MASK_RANGE ? last() : j == nt - 1)) mbar_arrive(q_empty);  // Q too: the next work tile's may load
                softmax(j, alpha);
                if constexpr (BIAS) release_bias_k(j);
                // Then wait for P_{j-1} V_{j-1} and move O to the new maxima where some row of the warp moved.
                // ptxas hoists a wgmma wait to the start of its basic block: with the softmax in that block
                // the wait runs ahead of every exponential, and the softmax overlaps only the other
                // consumers' products. With SOFTMAX_OVERLAP the wait sits in the blocks after a branch, so
                // the softmax also overlaps this consumer's own P V (measured faster with two consumers of
                // 128-key tiles at D = 128, slower at D = 64 and with 64-key tiles at D = 256).
                const bool moved = __any_sync(0xffffffffu, alpha[0] != 1.f || alpha[1] != 1.f);
                auto rescale_o = [&]() {
#pragma unroll
                    for (int n = 0; n < D / 8; ++n) {
                        o[4 * n] *= alpha[0];
                        o[4 * n + 1] *= alpha[0];
                        o[4 * n + 2] *= alpha[1];
                        o[4 * n + 3] *= alpha[1];
                    }
                };
                if constexpr (OVERLAP) {
                    // wgmma.wait_group is warpgroup-aligned: the branch is on whether a row of any warp of
                    // the warpgroup moved (a barrier of its 128 threads, 7 + cw), so that all four warps
                    // wait at the same instruction
                    if (named_barrier_or(7u + (u32)cw, 128u, moved)) {
                        wgmma_wait<0>();
                        fence_regs(o);
                        if (moved) rescale_o();
                    }
                }
                wgmma_wait<0>();
                fence_regs(o);
                fence_regs(pa);
                if (releases(j - 1)) mbar_arrive(v_empty((it + j - 1) % SV));  // V_{j-1} has been read
                if constexpr (!OVERLAP) {
                    if (moved) rescale_o();
                }
                pack_p();
            }
            turn_begin();
            issue_pv(nt - 1);
            turn_end();
            wgmma_wait<0>();
            fence_regs(o);
            fence_regs(pa);
            if (releases(nt - 1)) mbar_arrive(v_empty((it + nt - 1) % SV));
            it += nt;

            // Epilogue: normalise, stage this warpgroup's 64 rows of O in its own (swizzled) rows of the
            // output buffer (OBUF) or of the Q tile, then store them by TMA (or in 16-byte chunks, below);
            // where the buffer holds fewer column blocks than O (OBUF_BLOCKS), in passes of that many. Every wgmma of this warpgroup has
            // completed (each thread waited for its groups); in Q's rows the fence orders their async-proxy
            // reads of Q before the writes; the first named barrier of a pass orders all four warps' last
            // reads of the rows (the previous pass's or epilogue's, or Q's) before any write.
            if constexpr (!OBUF) fence_proxy_async();
            float inv[2];
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                const float sum = quad_sum(l[r]);
                inv[r] = sum > 0.f ? 1.f / sum : 0.f;
                const int row = row0() + 8 * r;
                if (p.lse != nullptr && t == 0 && row < nq_of(w))
                    p.lse[lse_index(row)] = sum > 0.f ? m[r] * 0.69314718055994531f + logf(sum) : neg_inf();
            }
            constexpr int PB = OBUF ? OB : DB;          // column blocks staged per pass
            constexpr int PASSES = (DB + PB - 1) / PB;
            // O leaves by TMA: one thread stores the warpgroup's 64 rows of each column block (the tensor map
            // drops rows past the queries and columns past D). Under varlen only where all 64 rows are the
            // sequence's (the next sequence's rows follow them in the packed tensor); there every thread
            // stores its own chunks otherwise.
            const int orow = w.q0 + 64 * cw;
            const bool o_tma = !VARLEN || orow + 64 <= nq_of(w);
#pragma unroll
            for (int ps = 0; ps < PASSES; ++ps) {
                constexpr int PC = 8 * PB;              // 16-byte chunks of a row per full pass
                const int c0 = ps * PC, pch = min(CH - c0, PC);  // this pass: chunks c0 .. c0 + pch - 1
                if (tid == 0) bulk_wait_read<0>();      // the last TMA store out of the buffer has read it
                named_barrier(1 + cw, 128);
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int rl = 16 * warp + g + 8 * r;  // row within the warpgroup's 64
#pragma unroll
                    for (int n = 0; n < D / 8; ++n) {
                        if (n / PC != ps) continue;
                        const int nb = n - c0;
                        const u32 addr = oa + (u32)(nb / 8) * Q_BLOCK + (u32)rl * 128u +
                                         (u32)(((nb % 8) ^ (rl % 8)) * 16 + t * 4);
                        st_shared_u32(addr, pack2<BF16>(o[4 * n + 2 * r] * inv[r], o[4 * n + 2 * r + 1] * inv[r]));
                    }
                }
                if (o_tma) fence_proxy_async();         // the writes above, before the TMA unit reads them
                named_barrier(1 + cw, 128);
                if (o_tma) {
                    if (tid == 0) {
                        int row, bc;
                        tma_rows<false>(w, orow, row, bc);
#pragma unroll
                        for (int bb = 0; bb < PB; ++bb)
                            if (8 * bb < pch) tma_store_4d(&to, oa + (u32)bb * Q_BLOCK, (c0 / 8 + bb) * 64, row, w.h, bc);
                        bulk_commit();
                    }
                } else if constexpr (VARLEN) {
#pragma unroll
                    for (int k = 0; k < (64 * PC + 127) / 128; ++k) {
                        const int ci = k * 128 + tid, rl = ci / pch, c = ci % pch;
                        const int row = orow + rl;
                        if (ci < 64 * pch && row < nq_of(w))
                            st_global_v4(out() + (i64)row * p.o_sn + (c0 + c) * 8,
                                         ld_shared_v4(oa + (u32)(c / 8) * Q_BLOCK + (u32)rl * 128u +
                                                      (u32)(((c % 8) ^ (rl % 8)) * 16)));
                    }
                }
            }
            // Staged in Q's rows: the next Q lands there by TMA (the async proxy); order this thread's
            // generic reads and writes of them first (and the store's reads of them), then release them.
            if constexpr (!OBUF) {
                if (tid == 0) bulk_wait_read<0>();
                fence_proxy_async();
                mbar_arrive(q_empty);
            }
            ++qt;
        }
        if (tid == 0) bulk_wait<0>();  // the last stores of O complete before the CTA ends
        if constexpr (PINGPONG) {
            if (cw == 0) turn_begin();  // the last consumer's final hand-over
        }
    }
}

}  // namespace eg
