// eg_sm90.cuh - PTX wrappers of the Hopper (sm_90a) instructions the warpgroup family uses: mbarriers,
// TMA tile loads (cp.async.bulk.tensor), proxy fences, named barriers, setmaxnreg, shared-memory matrix
// descriptors and wgmma.mma_async. Written here so that no toolkit header is needed.
#pragma once
#include "eg_prelude.cuh"

namespace eg {

// The driver's CUtensorMap: 128 opaque bytes, 64-byte aligned (as cuda.h declares it; the TMA unit reads
// it by address from the kernel's parameter space, which is why kernels take it as __grid_constant__).
struct __align__(64) TmaMap {
    u64 opaque[16];
};

// ---- mbarriers (shared::cta, 8 bytes each) ----

__device__ __forceinline__ void mbar_init(u32 bar, u32 count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
// Make the initialised barriers visible to the other threads and to the async proxy (the TMA unit).
__device__ __forceinline__ void mbar_init_fence() { asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory"); }
// One arrival that also announces `bytes` of transactions (TMA) the current phase must see land.
__device__ __forceinline__ void mbar_arrive_expect_tx(u32 bar, u32 bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(u32 bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Wait until the phase of parity `parity` has completed. A fresh barrier is in phase 0, so waiting on
// parity 1 returns at once (the phase before the first counts as complete): the producer's first pass.
__device__ __forceinline__ void mbar_wait(u32 bar, u32 parity) {
    u32 done;
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(bar), "r"(parity)
                     : "memory");
    } while (!done);
}

// ---- TMA ----

// A box of the 4-d tensor map (coordinates innermost first) into shared memory at dst, completing on bar
// with the box's bytes (rows past the tensor's end arrive as zeros and count all the same).
__device__ __forceinline__ void tma_load_4d(u32 dst, const TmaMap *map, u32 bar, int c0, int c1, int c2, int c3) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
        "[%6];\n" ::"r"(dst),
        "l"(reinterpret_cast<u64>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
        : "memory");
}
// A box of shared memory at src (laid out as tma_load_4d writes it) into the 4-d tensor at those
// coordinates; elements past the tensor's end are not written. Completes in this thread's bulk async-group:
// commit with bulk_commit, then bulk_wait_read<0> before src is written again and bulk_wait<0> before the
// writes must be complete.
__device__ __forceinline__ void tma_store_4d(const TmaMap *map, u32 src, int c0, int c1, int c2, int c3) {
    asm volatile("cp.async.bulk.tensor.4d.global.shared::cta.bulk_group [%0, {%2, %3, %4, %5}], [%1];\n" ::"l"(
                     reinterpret_cast<u64>(map)),
                 "r"(src), "r"(c0), "r"(c1), "r"(c2), "r"(c3)
                 : "memory");
}
__device__ __forceinline__ void bulk_commit() { asm volatile("cp.async.bulk.commit_group;\n" ::: "memory"); }
// Wait until at most N of this thread's committed bulk groups still read their shared memory.
template <int N>
__device__ __forceinline__ void bulk_wait_read() {
    asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
}
// Wait until at most N of this thread's committed bulk groups are incomplete (their writes done).
template <int N>
__device__ __forceinline__ void bulk_wait() {
    asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void tma_prefetch_map(const TmaMap *map) {
    asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<u64>(map)) : "memory");
}

// 32-bit store and 16-byte load at a shared-memory address.
__device__ __forceinline__ void st_shared_u32(u32 addr, u32 v) {
    asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(addr), "r"(v) : "memory");
}
__device__ __forceinline__ vec16 ld_shared_v4(u32 addr) {
    vec16 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(addr)
                 : "memory");
    return v;
}

// 16-byte store to global memory (one instruction: a struct copy may be split into four).
__device__ __forceinline__ void st_global_v4(void *ptr, vec16 v) {
    asm volatile("st.global.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"l"(ptr), "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w)
                 : "memory");
}

__device__ __forceinline__ u32 ld_shared_u32(u32 addr) {
    u32 v;
    asm volatile("ld.shared.u32 %0, [%1];\n" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

// Order this thread's generic-proxy shared-memory accesses with later async-proxy ones (TMA, wgmma).
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// Barrier `id` (1..15; 0 is __syncthreads) among `count` threads (a multiple of 32).
__device__ __forceinline__ void named_barrier(u32 id, u32 count) {
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}

// Arrive at barrier `id` without waiting: counts toward the `count` threads a bar.sync there waits for.
__device__ __forceinline__ void named_barrier_arrive(u32 id, u32 count) {
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}

// Barrier `id` among `count` threads that also returns, to each of them, whether any passed `v` true.
__device__ __forceinline__ bool named_barrier_or(u32 id, u32 count, bool v) {
    u32 r;
    asm volatile(
        "{\n .reg .pred pv, pr;\n setp.ne.u32 pv, %1, 0;\n bar.red.or.pred pr, %2, %3, pv;\n selp.u32 %0, 1, 0, pr;\n}\n"
        : "=r"(r)
        : "r"((u32)v), "r"(id), "r"(count)
        : "memory");
    return r != 0u;
}

// Registers per thread of the executing warpgroup (all its warps execute it).
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void setmaxnreg_dec() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}

// ---- wgmma ----

// Shared-memory matrix descriptor: start address (bits 0-13), leading-dimension byte offset (16-29),
// stride-dimension byte offset (32-45), all in 16-byte units; base offset (49-51) 0 because every tile
// starts on a 1024-byte boundary; layout (62-63) 1 = 128-byte swizzle.
//   K-major, 128B swizzle: 8-row x 64-element atoms, rows 128 bytes apart; SBO = 1024 (the next 8 rows);
//     LBO unused (a k16 step lies within one 128-byte row); a k16 step advances the start by 32 bytes.
//   MN-major, 128B swizzle: the same atoms read the other way (64 elements of N along a row, 8 K rows);
//     LBO = the byte offset of the next 64 elements of N, SBO = 1024 (the next 8 K rows).
__device__ __forceinline__ u64 smem_desc(u32 addr, u32 lbo, u32 sbo) {
    return (u64)((addr & 0x3ffffu) >> 4) | ((u64)((lbo >> 4) & 0x3fffu) << 16) | ((u64)((sbo >> 4) & 0x3fffu) << 32) |
           ((u64)1 << 62);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

// The registers an asynchronous wgmma reads or writes must not be touched by other code until its wait:
// an empty asm that "modifies" each one pins it in place between the issue and the wait.
template <int N>
__device__ __forceinline__ void fence_regs(float (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
template <int N>
__device__ __forceinline__ void fence_regs(u32 (&r)[N][4]) {
#pragma unroll
    for (int i = 0; i < N; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) asm volatile("" : "+r"(r[i][j])::"memory");
}

// wgmma.mma_async m64nNk16 with fp32 accumulators, N = 64, 128 or 256. The accumulator layout, per warp w
// of the warpgroup (rows 16w .. 16w+15), lane = 4g + t: d[4n + 0..1] = row 16w+g, columns 8n+2t, 8n+2t+1;
// d[4n + 2..3] = row 16w+g+8, the same columns (the m16n8 C fragment repeated over N/8 column tiles).
// The A register fragment (4 registers of two 16-bit values) is the m16n8k16 A fragment of the warp's
// rows: a[0] = row g, k 2t..2t+1; a[1] = row g+8, k 2t..; a[2] = row g, k 2t+8..; a[3] = row g+8, k 2t+8..
// So the accumulator tiles 2k and 2k+1 of S, packed in pairs, are the A fragment of k-step k of P V.
// The specialisations a kernel needs (ss: A and B from shared memory; rs_tb: A from registers, B N-major)
// are written by the generator (codegen/gen.c), whose loops list the N/2 accumulator registers.
template <int N, bool BF16>
struct wgmma;

}  // namespace eg
