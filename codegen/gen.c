/* gen.c - the source generator: for one spec and config it writes the constants, the element type,
 * the mask hook and the kernel entry point; the heavy loop lives in templates/eg_attn_fwd.cuh and
 * unrolls fully for these constants. */
#include <stdio.h>
#include <stdlib.h>

#include "cg.h"
#include "expr.h"

/* The warpgroup family (sm_90a): the traits of templates/eg_attn_fwd_wg.cuh and an entry point that takes
 * the TMA descriptors of Q, K and V after the parameters. */
/* The mask hook of the traits, shared by both families. */
static void emit_visible(eg_emit *e, const eg_spec *s) {
    eg_emit_line(e, "// mask hook: may query row q see key k? (only called on tiles that straddle the mask)");
    eg_emit_open(e, "static __device__ __forceinline__ bool visible(int q, int k, int causal_offset)");
    if (s->mask == EG_MASK_CAUSAL) {
        eg_emit_line(e, "return k <= q + causal_offset;");
    } else {
        eg_emit_line(e, "(void)q; (void)k; (void)causal_offset;");
        eg_emit_line(e, "return true;");
    }
    eg_emit_close(e, "");
}

/* The user expressions as functions in namespace eg, only when the spec has them (other kernels keep the
 * text they had), for both families; with `additive`, the score expression as the term it adds; with
 * `range`, also the mask expression's tile classification. On failure the emitter is released. */
static effgen_status emit_exprs(eg_emit *e, const eg_spec *s, const char *sk, int additive, int range) {
    const eg_expr *ex[2] = {s->score_mod, s->mask_mod};
    if (!ex[0] && !ex[1]) return EFFGEN_OK;
    effgen_status st = EFFGEN_OK;
    eg_expr_emit_prelude(e);
    for (int i = 0; i < 2 && !st; i++) {
        if (!ex[i]) continue;
        if (!i && additive)
            st = eg_expr_emit_term(ex[i], e, "user_score_add", 0);
        else
            st = eg_expr_emit(ex[i], e, i ? "user_mask_mod" : "user_score_mod", i ? eg_expr_tensor_count(ex[0]) : 0);
    }
    if (range && !st) {
        eg_emit_line(e, "#include \"eg_range.cuh\"");
        st = eg_expr_emit_range(ex[1], e, "user_mask_range");
    }
    eg_emit_line(e, "%s", "");
    if (!st) return EFFGEN_OK;
    char *drop = NULL; /* the partial source is not the caller's */
    if (eg_emit_finish(e, &drop) == EFFGEN_OK) free(drop);
    return eg_err_wrap(st, "%s", sk);
}

/* The wg family adds a score expression of the form score + E to the accumulators before S = Q K^T, E
 * computed while nothing waits for it; not under softcap, which comes before the expression. */
static int wg_additive(const eg_spec *s) { return s->score_mod && !s->softcap && eg_expr_additive(s->score_mod); }

/* Both families skip the key tiles a mask expression hides for every row of a work tile, and evaluate it
 * only where a warp's rows may see either, where some comparison of the expression can decide a tile. */
static int mask_range(const eg_spec *s) { return s->mask_mod && eg_expr_range_useful(s->mask_mod); }

/* The traits that call them. */
static void emit_expr_traits(eg_emit *e, const eg_spec *s, int additive, int range) {
    if (range) {
        eg_emit_line(e, "static constexpr bool MASK_RANGE = true;  // the mask expression's verdict on a whole tile");
        eg_emit_line(e, "static __device__ __forceinline__ int mask_range(int b, int h, int qlo, int qhi, int klo, "
                        "int khi, int nq, int nk) { return eg::user_mask_range(b, h, qlo, qhi, klo, khi, nq, nk); }");
    }
    if (s->score_mod && additive) {
        eg_emit_line(e, "static constexpr bool SCORE_ADD = true;  // user score expression score + E: E before S");
        eg_emit_line(e, "static __device__ __forceinline__ float score_add(int b, int h, int q, int k, int nq, int nk, "
                        "const eg::ExprTensors &t) { return eg::user_score_add(b, h, q, k, nq, nk, t); }");
    } else if (s->score_mod) {
        eg_emit_line(e, "static constexpr bool SCORE_MOD = true;  // user score expression on the scaled score");
        eg_emit_line(e, "static __device__ __forceinline__ float score_mod(float score, int b, int h, int q, int k, "
                        "int nq, int nk, const eg::ExprTensors &t) { return eg::user_score_mod(score, b, h, q, k, "
                        "nq, nk, t); }");
    }
    if (eg_spec_expr_batch_free(s))
        eg_emit_line(e, "static constexpr bool BATCH_FREE = true;  // the expressions' tensors do not vary with b");
    if (s->mask_mod) {
        eg_emit_line(e, "static constexpr bool MASK_MOD = true;   // user mask expression: false hides the key");
        eg_emit_line(e, "static __device__ __forceinline__ bool mask_mod(int b, int h, int q, int k, int nq, int nk, "
                        "const eg::ExprTensors &t) { return eg::user_mask_mod(b, h, q, k, nq, nk, t); }");
    }
}

/* A list of n items, eight a line: the accumulator registers "%0, %1, ..." as pieces of the asm string
 * (quoted), or the operands "+f"(d[0]), "+f"(d[1]), ... of the statement. */
static void emit_list(eg_emit *e, int n, int quoted) {
    for (int i = 0; i < n; i += 8) {
        char line[256];
        size_t len = 0;
        for (int j = i; j < n && j < i + 8; j++)
            len += (size_t)snprintf(line + len, sizeof line - len, quoted ? "%s%%%d" : "%s\"+f\"(d[%d])",
                                    j == i ? "" : ", ", j);
        int end = i + 8 >= n;
        if (quoted)
            eg_emit_line(e, "\"%s%s%s\"", i ? " " : "{", line, end ? "}" : ",");
        else
            eg_emit_line(e, "%s%s", line, end ? "" : ",");
    }
}

/* The wgmma.mma_async m64nNk16 wrappers one warpgroup kernel uses (N = its key tile for S = Q K^T, its
 * head dim for O += P V): an inline asm statement lists each of the N/2 accumulator registers, so the
 * generator writes the lists for the sizes at hand rather than the templates holding every size. */
static void emit_wgmma(eg_emit *e, int n, int bf16) {
    const char *ty = bf16 ? "bf16" : "f16";
    const int nd = n / 2;
    eg_emit_line(e, "template <>");
    eg_emit_open(e, "struct wgmma<%d, %s>", n, bf16 ? "true" : "false");
    for (int rs = 0; rs < 3; rs++) {
        if (rs) {
            eg_emit_line(e, "// A from registers (the m16n8k16 A fragment of each warp's 16 rows), B %s",
                         rs == 1 ? "N-major" : "K-major");
            eg_emit_open(e, "static __device__ __forceinline__ void %s(float (&d)[%d], const u32 (&a)[4], u64 b, "
                            "int scale_d)", rs == 1 ? "rs_tb" : "rs", nd);
        } else {
            eg_emit_line(e, "// A and B K-major from shared memory; scale_d 0 overwrites D, 1 accumulates");
            eg_emit_open(e, "static __device__ __forceinline__ void ss(float (&d)[%d], u64 a, u64 b, int scale_d)", nd);
        }
        eg_emit_line(e, "asm volatile(\"{\\n.reg .pred p;\\nsetp.ne.b32 p, %%%d, 0;\\n\"", nd + (rs ? 5 : 2));
        e->indent += 3;
        eg_emit_line(e, "\"wgmma.mma_async.sync.aligned.m64n%dk16.f32.%s.%s \"", n, ty, ty);
        emit_list(e, nd, 1);
        if (rs)
            eg_emit_line(e, "\", {%%%d, %%%d, %%%d, %%%d}, %%%d, p, 1, 1, %d;\\n}\\n\"", nd, nd + 1, nd + 2, nd + 3,
                         nd + 4, rs == 1);
        else
            eg_emit_line(e, "\", %%%d, %%%d, p, 1, 1, 0, 0;\\n}\\n\"", nd, nd + 1);
        eg_emit_line(e, ":");
        emit_list(e, nd, 0);
        eg_emit_line(e, "%s", rs ? ": \"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3]), \"l\"(b), \"r\"(scale_d));"
                                 : ": \"l\"(a), \"l\"(b), \"r\"(scale_d));");
        e->indent -= 3;
        eg_emit_close(e, "");
    }
    eg_emit_close(e, ";");
}

static effgen_status generate_wg(const eg_spec *s, const eg_config *c, const char *sk, const char *ck, char **out) {
    int bf16 = s->dtype == EFFGEN_BF16;
    int prod, cons;
    eg_model_wg_regs(eg_config_consumers(c), &prod, &cons);
    eg_emit e;
    eg_emit_init(&e);
    eg_emit_line(&e, "// generated by effgen %s (generator %s)", effgen_version(), eg_generator_version);
    eg_emit_line(&e, "// spec   %s", sk);
    eg_emit_line(&e, "// config %s", ck);
    eg_emit_line(&e, "#include \"eg_attn_fwd_wg.cuh\"");
    eg_emit_line(&e, "%s", "");
    effgen_status st = emit_exprs(&e, s, sk, wg_additive(s), mask_range(s));
    if (st) return st;
    eg_emit_line(&e, "namespace eg {");
    emit_wgmma(&e, c->block_n, bf16);
    if (s->head_dim != c->block_n) emit_wgmma(&e, s->head_dim, bf16);
    eg_emit_line(&e, "}  // namespace eg");
    eg_emit_line(&e, "%s", "");
    eg_emit_open(&e, "struct eg_kernel_traits");
    eg_emit_line(&e, "typedef eg::%s T;", bf16 ? "bf16" : "fp16");
    eg_emit_line(&e, "static constexpr bool BF16 = %s;", bf16 ? "true" : "false");
    eg_emit_line(&e, "static constexpr int D = %d;", s->head_dim);
    eg_emit_line(&e, "static constexpr int BM = %d, BN = %d, CONSUMERS = %d, STAGES = %d;", c->block_m, c->block_n,
                 eg_config_consumers(c), c->stages);
    eg_emit_line(&e, "static constexpr bool CAUSAL = %s;", s->mask == EG_MASK_CAUSAL ? "true" : "false");
    /* the variants of the family, written only when on (the template defaults them to false), so that a
     * kernel without them keeps the text it had before they existed */
    if (s->window) eg_emit_line(&e, "static constexpr bool WINDOW = true;   // sliding window, extents in FwdParams");
    if (s->softcap) eg_emit_line(&e, "static constexpr bool SOFTCAP = true;  // cap * tanh(score / cap)");
    if (s->alibi) eg_emit_line(&e, "static constexpr bool ALIBI = true;    // score -= slope[head] * |i' - j|");
    if (s->gqa) eg_emit_line(&e, "static constexpr bool GQA = true;      // K/V head = head / kv_group");
    if (s->varlen) eg_emit_line(&e, "static constexpr bool VARLEN = true;   // packed sequences, cu_seqlens in FwdParams");
    if (s->bsparse) eg_emit_line(&e, "static constexpr bool BSPARSE = true;  // CSR table of visited key blocks");
    if (s->bias) eg_emit_line(&e, "static constexpr bool BIAS = true;     // score += bias[b][h][i][j] / scale, by TMA");
    if (s->bmask) eg_emit_line(&e, "static constexpr bool MASK = true;     // bit j%%32 of word [b][h][i][j/32]: visible");
    emit_expr_traits(&e, s, wg_additive(s), mask_range(s));
    const int obuf = eg_model_wg_obuf(s, c);
    if (obuf) eg_emit_line(&e, "static constexpr bool OBUF = true;     // O staged in its own buffer, not Q's rows");
    if (eg_model_wg_qreg(s, c))
        eg_emit_line(&e, "static constexpr bool QREG = true;     // Q's A fragments in registers for S = Q K^T");
    if (eg_model_wg_walk(s))
        eg_emit_line(&e, "static constexpr bool WALK = true;     // strips of query blocks share key tiles");
    if (eg_model_wg_vstage(s, c))
        eg_emit_line(&e, "static constexpr bool VSTAGE = true;   // one V stage more than K's");
    if (eg_model_wg_halves(s, c))
        eg_emit_line(&e, "static constexpr bool HALVES = true;   // half key tiles where a consumer sees one half");
    if (eg_model_wg_softmax_overlap(s, c))
        eg_emit_line(&e, "static constexpr bool SOFTMAX_OVERLAP = true;  // softmax of tile j during P V of j - 1");
    if (obuf && obuf < (s->head_dim + 63) / 64)
        eg_emit_line(&e, "static constexpr int OBUF_BLOCKS = %d;  // of 64 columns: O is stored in passes", obuf);
    eg_emit_line(&e, "// setmaxnreg per thread: the producer gives registers back, the consumers take them (0: keep)");
    eg_emit_line(&e, "static constexpr int REGS_PRODUCER = %d, REGS_CONSUMER = %d;", prod, cons);
    emit_visible(&e, s);
    eg_emit_close(&e, ";");
    eg_emit_line(&e, "%s", "");
    eg_emit_line(&e, "extern \"C\" __global__ void __launch_bounds__(%d, 1)", 32 * c->warps);
    if (s->bias) {
        /* the output's tensor map is a fourth parameter, the bias's a fifth */
        eg_emit_open(&e, EG_KERNEL_NAME "(const eg::FwdParams p, const __grid_constant__ eg::TmaMap tq, "
                                        "const __grid_constant__ eg::TmaMap tk, const __grid_constant__ eg::TmaMap tv, "
                                        "const __grid_constant__ eg::TmaMap to, const __grid_constant__ eg::TmaMap tb)");
        eg_emit_line(&e, "eg::attn_fwd_wg<eg_kernel_traits>(p, tq, tk, tv, to, tb);");
    } else {
        eg_emit_open(&e, EG_KERNEL_NAME "(const eg::FwdParams p, const __grid_constant__ eg::TmaMap tq, "
                                        "const __grid_constant__ eg::TmaMap tk, const __grid_constant__ eg::TmaMap tv, "
                                        "const __grid_constant__ eg::TmaMap to)");
        eg_emit_line(&e, "eg::attn_fwd_wg<eg_kernel_traits>(p, tq, tk, tv, to, tv);  // no bias: tv stands in, unread");
    }
    eg_emit_close(&e, "");
    return eg_emit_finish(&e, out);
}

effgen_status eg_cg_generate(const eg_spec *s, const eg_config *c, char **out) {
    effgen_status st = eg_spec_validate(s);
    if (st) return st;
    st = eg_config_validate(c, s);
    if (st) return st;
    char sk[EG_KEY_MAX], ck[EG_KEY_MAX];
    eg_spec_print(s, sk, sizeof sk);
    eg_config_print(c, ck, sizeof ck);
    if (c->family == EG_FAMILY_WG) return generate_wg(s, c, sk, ck, out);
    int bf16 = s->dtype == EFFGEN_BF16;
    int threads = 32 * c->warps;

    eg_emit e;
    eg_emit_init(&e);
    eg_emit_line(&e, "// generated by effgen %s (generator %s)", effgen_version(), eg_generator_version);
    eg_emit_line(&e, "// spec   %s", sk);
    eg_emit_line(&e, "// config %s", ck);
    eg_emit_line(&e, "#include \"%s\"", c->dsplit == 2 ? "eg_attn_fwd_pair.cuh" : "eg_attn_fwd.cuh");
    eg_emit_line(&e, "%s", "");
    st = emit_exprs(&e, s, sk, 0, mask_range(s));
    if (st) return st;
    eg_emit_open(&e, "struct eg_kernel_traits");
    eg_emit_line(&e, "typedef eg::%s T;", bf16 ? "bf16" : "fp16");
    eg_emit_line(&e, "static constexpr bool BF16 = %s;", bf16 ? "true" : "false");
    eg_emit_line(&e, "static constexpr int D = %d;", s->head_dim);
    eg_emit_line(&e, "static constexpr int BM = %d, BN = %d, WARPS = %d, STAGES = %d;", c->block_m, c->block_n,
                 c->warps, c->stages);
    eg_emit_line(&e, "static constexpr int PITCH = %d;  // shared-memory row pitch, elements",
                 eg_model_row_pitch(s->head_dim));
    eg_emit_line(&e, "static constexpr bool CAUSAL = %s;", s->mask == EG_MASK_CAUSAL ? "true" : "false");
    eg_emit_line(&e, "static constexpr bool Q_REGS = %s;  // Q fragments stay in registers",
                 eg_model_q_in_registers(s, c) ? "true" : "false");
    eg_emit_line(&e, "// variants: each adds code only where its trait is true (if constexpr in the template)");
    eg_emit_line(&e, "static constexpr bool WINDOW = %s;   // sliding window, extents in FwdParams",
                 s->window ? "true" : "false");
    eg_emit_line(&e, "static constexpr bool SOFTCAP = %s;  // cap * tanh(score / cap)", s->softcap ? "true" : "false");
    eg_emit_line(&e, "static constexpr bool ALIBI = %s;    // score -= slope[head] * |i' - j|",
                 s->alibi ? "true" : "false");
    eg_emit_line(&e, "static constexpr bool GQA = %s;      // K/V head = head / kv_group", s->gqa ? "true" : "false");
    /* traits of the later variants are written only when on, so the source of a kernel without them is
     * the text it had before they existed (the template defaults them to false) */
    if (s->varlen) eg_emit_line(&e, "static constexpr bool VARLEN = true;   // packed sequences, cu_seqlens in FwdParams");
    if (s->bias) eg_emit_line(&e, "static constexpr bool BIAS = true;     // score += bias[b][h][i][j] / scale");
    if (s->bmask) eg_emit_line(&e, "static constexpr bool MASK = true;     // bit j%%32 of word [b][h][i][j/32]: visible");
    if (s->bsparse) eg_emit_line(&e, "static constexpr bool BSPARSE = true;  // CSR table of visited key blocks");
    if (eg_model_unsigned_offsets(s, c))
        eg_emit_line(&e, "static constexpr bool UOFF = true;     // copy offsets and LSE row in unsigned arithmetic");
    if (eg_model_pair_last_apart(s, c))
        eg_emit_line(&e, "static constexpr bool LAST_APART = true;  // causal: the last key tile a copy of its own");
    if (eg_model_pair_one_barrier(s, c))
        eg_emit_line(&e, "static constexpr bool ONE_BARRIER = true;  // one block barrier per key tile");
    emit_expr_traits(&e, s, 0, mask_range(s));
    emit_visible(&e, s);
    eg_emit_close(&e, ";");
    eg_emit_line(&e, "%s", "");
    eg_emit_line(&e, "extern \"C\" __global__ void __launch_bounds__(%d, 1)", threads);
    eg_emit_open(&e, EG_KERNEL_NAME "(const eg::FwdParams p)");
    eg_emit_line(&e, "eg::%s<eg_kernel_traits>(p);", c->dsplit == 2 ? "attn_fwd_pair" : "attn_fwd");
    eg_emit_close(&e, "");
    return eg_emit_finish(&e, out);
}
