/* eg_range.cuh - what a mask expression can say about a whole tile: interval arithmetic over the query
 * rows and keys of the tile. Valid C and CUDA C++: the generator's CPU evaluator (codegen/expr.c) and the
 * emitted device functions use the same operations, so both classify a tile the same way.
 *
 * An int value is a range [lo, hi] within 32 bits; a result that may leave them (the language wraps) is the
 * whole 32-bit range. A bool value is a tri-state: 0 false for every (q, k) of the tile, 1 true for every one,
 * 2 unknown. Float values and tensor reads are not followed: a comparison of floats is unknown, a read of
 * an int tensor is its type's whole range, a read of a bool tensor unknown. */
#ifndef EG_RANGE_CUH
#define EG_RANGE_CUH

#ifdef __CUDACC__
#define EG_RANGE_FN static __device__ __forceinline__
#else
#define EG_RANGE_FN static inline
#endif

#define EG_I32_MIN (-2147483647LL - 1)
#define EG_I32_MAX 2147483647LL

typedef struct eg_irange {
    long long lo, hi;
} eg_irange;

EG_RANGE_FN eg_irange eg_ir(long long lo, long long hi) {
    eg_irange r;
    r.lo = lo < EG_I32_MIN || hi > EG_I32_MAX ? EG_I32_MIN : lo;
    r.hi = lo < EG_I32_MIN || hi > EG_I32_MAX ? EG_I32_MAX : hi;
    return r;
}
EG_RANGE_FN eg_irange eg_ir_full(void) { return eg_ir(EG_I32_MIN, EG_I32_MAX); }
EG_RANGE_FN long long eg_ll_min(long long a, long long b) { return a < b ? a : b; }
EG_RANGE_FN long long eg_ll_max(long long a, long long b) { return a > b ? a : b; }
EG_RANGE_FN eg_irange eg_ir_add(eg_irange a, eg_irange b) { return eg_ir(a.lo + b.lo, a.hi + b.hi); }
EG_RANGE_FN eg_irange eg_ir_sub(eg_irange a, eg_irange b) { return eg_ir(a.lo - b.hi, a.hi - b.lo); }
EG_RANGE_FN eg_irange eg_ir_mul(eg_irange a, eg_irange b) {
    /* operands within 32 bits: every product fits 63 */
    const long long p0 = a.lo * b.lo, p1 = a.lo * b.hi, p2 = a.hi * b.lo, p3 = a.hi * b.hi;
    return eg_ir(eg_ll_min(eg_ll_min(p0, p1), eg_ll_min(p2, p3)), eg_ll_max(eg_ll_max(p0, p1), eg_ll_max(p2, p3)));
}
EG_RANGE_FN eg_irange eg_ir_neg(eg_irange a) { return eg_ir(-a.hi, -a.lo); }
EG_RANGE_FN eg_irange eg_ir_abs(eg_irange a) {
    if (a.lo >= 0) return a;
    if (a.hi <= 0) return eg_ir(-a.hi, -a.lo);
    return eg_ir(0, eg_ll_max(-a.lo, a.hi));
}
EG_RANGE_FN eg_irange eg_ir_min(eg_irange a, eg_irange b) { return eg_ir(eg_ll_min(a.lo, b.lo), eg_ll_min(a.hi, b.hi)); }
EG_RANGE_FN eg_irange eg_ir_max(eg_irange a, eg_irange b) { return eg_ir(eg_ll_max(a.lo, b.lo), eg_ll_max(a.hi, b.hi)); }
/* a / b and a % b as the language defines them (truncating; x / 0 and x % 0 are 0): followed for divisors
 * that are all positive, the whole range otherwise. With b > 0, a / b grows with a and moves monotonically
 * with b on either sign of a, so its extremes lie at the corners; a % b keeps the sign of a and stays below
 * b in magnitude, and where a runs within one multiple of a single divisor it grows with a. */
/* (the bounds of a range are within 32 bits and the divisor positive: the quotients are those of int
 * division, which is cheaper than 64-bit division on a GPU; a divisor that is one value, the common case,
 * makes two of the corners the other two) */
EG_RANGE_FN long long eg_i32_div(long long a, long long b) { return (long long)((int)a / (int)b); }
EG_RANGE_FN eg_irange eg_ir_div(eg_irange a, eg_irange b) {
    if (b.lo <= 0) return eg_ir_full();
    if (b.lo == b.hi) return eg_ir(eg_i32_div(a.lo, b.lo), eg_i32_div(a.hi, b.lo));
    const long long p0 = eg_i32_div(a.lo, b.lo), p1 = eg_i32_div(a.lo, b.hi), p2 = eg_i32_div(a.hi, b.lo),
                    p3 = eg_i32_div(a.hi, b.hi);
    return eg_ir(eg_ll_min(eg_ll_min(p0, p1), eg_ll_min(p2, p3)), eg_ll_max(eg_ll_max(p0, p1), eg_ll_max(p2, p3)));
}
EG_RANGE_FN eg_irange eg_ir_mod(eg_irange a, eg_irange b) {
    if (b.lo <= 0) return eg_ir_full();
    if (b.lo == b.hi && eg_i32_div(a.lo, b.lo) == eg_i32_div(a.hi, b.lo) && (a.lo >= 0 || a.hi <= 0))
        return eg_ir(a.lo - eg_i32_div(a.lo, b.lo) * b.lo, a.hi - eg_i32_div(a.hi, b.lo) * b.lo);
    return eg_ir(a.lo >= 0 ? 0 : eg_ll_max(a.lo, 1 - b.hi), a.hi <= 0 ? 0 : eg_ll_min(a.hi, b.hi - 1));
}
/* c ? a : b with c a tri-state */
EG_RANGE_FN eg_irange eg_ir_cond(int c, eg_irange a, eg_irange b) {
    if (c == 1) return a;
    if (c == 0) return b;
    return eg_ir(eg_ll_min(a.lo, b.lo), eg_ll_max(a.hi, b.hi));
}

EG_RANGE_FN int eg_tri_lt(eg_irange a, eg_irange b) { return a.hi < b.lo ? 1 : a.lo >= b.hi ? 0 : 2; }
EG_RANGE_FN int eg_tri_le(eg_irange a, eg_irange b) { return a.hi <= b.lo ? 1 : a.lo > b.hi ? 0 : 2; }
EG_RANGE_FN int eg_tri_eq(eg_irange a, eg_irange b) {
    if (a.lo == a.hi && b.lo == b.hi && a.lo == b.lo) return 1;
    return a.hi < b.lo || b.hi < a.lo ? 0 : 2;
}
EG_RANGE_FN int eg_tri_not(int a) { return a == 2 ? 2 : 1 - a; }
EG_RANGE_FN int eg_tri_ne(eg_irange a, eg_irange b) { return eg_tri_not(eg_tri_eq(a, b)); }
EG_RANGE_FN int eg_tri_and(int a, int b) { return a == 0 || b == 0 ? 0 : a == 1 && b == 1 ? 1 : 2; }
EG_RANGE_FN int eg_tri_or(int a, int b) { return a == 1 || b == 1 ? 1 : a == 0 && b == 0 ? 0 : 2; }
/* == and != of two bools */
EG_RANGE_FN int eg_tri_beq(int a, int b) { return a == 2 || b == 2 ? 2 : a == b; }
EG_RANGE_FN int eg_tri_bne(int a, int b) { return eg_tri_not(eg_tri_beq(a, b)); }
EG_RANGE_FN int eg_tri_cond(int c, int a, int b) { return c == 1 ? a : c == 0 ? b : a == b ? a : 2; }

#endif
