/* ext.c - host data of the varlen, bias, mask and block-sparse variants: drawing it for checks and
 * benchmarks (seeded), turning it into launch arguments, and counting the FLOPs of the pairs it leaves
 * visible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int draw(uint64_t *s, int lo, int hi) { return lo + (int)(next_u64(s) % (uint64_t)(hi - lo + 1)); }

void eg_problem_ext_free(eg_problem_ext *x) {
    if (!x) return;
    free(x->cu_q);
    free(x->cu_k);
    free(x->bias);
    free(x->mask);
    free(x->bs_row);
    free(x->bs_col);
    for (int i = 0; i < x->n_xt; i++) {
        free((void *)(uintptr_t)x->xt[i].data);
        free((void *)(uintptr_t)x->xt[i].name);
    }
    memset(x, 0, sizeof *x);
}

static int elem_size(effgen_expr_dtype t) {
    return t == EFFGEN_EXPR_F32 || t == EFFGEN_EXPR_I32 ? 4 : t == EFFGEN_EXPR_F16 || t == EFFGEN_EXPR_BF16 ? 2 : 1;
}

effgen_status eg_problem_ext_add_tensor(eg_problem_ext *x, const char *text, uint64_t seed) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor: NULL text");
    if (x->n_xt == EG_EXPR_TENSORS_MAX)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor \"%s\": at most %d", text, EG_EXPR_TENSORS_MAX);
    const char *c1 = strchr(text, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == text || c1 - text > EG_EXPR_NAME_MAX)
        return eg_err(EFFGEN_PARSE, "expression tensor \"%s\": expected NAME:DTYPE:D0xD1..., e.g. doc:i32:4096", text);
    effgen_expr_tensor t;
    memset(&t, 0, sizeof t);
    int dt = -1;
    for (int d = 0; d <= EG_EXPR_BOOL; d++) {
        const char *dn = eg_expr_dtype_name((eg_expr_dtype)d);
        if (strlen(dn) == (size_t)(c2 - c1 - 1) && !strncmp(dn, c1 + 1, (size_t)(c2 - c1 - 1))) dt = d;
    }
    if (dt < 0)
        return eg_err(EFFGEN_PARSE, "expression tensor \"%s\": dtype \"%.*s\" must be f32, f16, bf16, i32, u8 or bool",
                      text, (int)(c2 - c1 - 1), c1 + 1);
    t.dtype = (effgen_expr_dtype)dt;
    const char *p = c2 + 1;
    size_t total = 1;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || v > (1ll << 31) || t.rank == 4 || (*end && *end != 'x'))
            return eg_err(EFFGEN_PARSE, "expression tensor \"%s\": sizes must be 1 to 4 positive integers joined by x",
                          text);
        t.sizes[t.rank++] = v;
        if (__builtin_mul_overflow(total, (size_t)v, &total) || total > ((size_t)1 << 32))
            return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor \"%s\": more than 2^32 elements", text);
        p = *end ? end + 1 : end;
    }
    if (t.rank == 0) return eg_err(EFFGEN_PARSE, "expression tensor \"%s\": no sizes", text);
    unsigned char *data = malloc(total * (size_t)elem_size(t.dtype));
    char *name = strndup(text, (size_t)(c1 - text));
    if (!data || !name) free(data), free(name), data = NULL;
    t.name = name;
    if (!data) return eg_err(EFFGEN_NO_MEMORY, "expression tensor \"%s\": out of host memory", text);
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 11;
    int32_t doc = 0;
    for (size_t i = 0; i < total; i++) {
        uint64_t r = next_u64(&s);
        float f = (float)((double)(r >> 11) / 9007199254740992.0 * 4.0 - 2.0);
        switch (t.dtype) {
        case EFFGEN_EXPR_F32: memcpy(data + 4 * i, &f, 4); break;
        case EFFGEN_EXPR_F16: { uint16_t h = eg_f32_to_fp16(f); memcpy(data + 2 * i, &h, 2); } break;
        case EFFGEN_EXPR_BF16: { uint16_t h = eg_f32_to_bf16(f); memcpy(data + 2 * i, &h, 2); } break;
        case EFFGEN_EXPR_I32:
            if (i && r % 8 == 0) doc++;
            memcpy(data + 4 * i, &doc, 4);
            break;
        case EFFGEN_EXPR_U8: data[i] = (unsigned char)(r % 4); break;
        case EFFGEN_EXPR_BOOL: data[i] = (unsigned char)(r & 1); break;
        }
    }
    int64_t m = 1;
    for (int d = t.rank - 1; d >= 0; d--) t.strides[d] = m, m *= t.sizes[d];
    t.data = data;
    x->xt[x->n_xt++] = t;
    return EFFGEN_OK;
}

effgen_status eg_problem_ext_add_tensor_sized(eg_problem_ext *x, const eg_problem *p, const char *text, uint64_t seed) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "expression tensor: NULL text");
    char out[256];
    size_t n = 0;
    const char *sizes = strrchr(text, ':');
    for (const char *c = text; *c && n + 16 < sizeof out; c++) {
        int v = -1;
        if (sizes && c > sizes)
            v = *c == 'B'   ? p->batch
                : *c == 'H' ? p->heads
                : *c == 'Q' ? p->seqlen_q
                : *c == 'K' ? p->seqlen_k
                : *c == 'M' ? (p->seqlen_q > p->seqlen_k ? p->seqlen_q : p->seqlen_k)
                            : -1;
        if (v >= 0)
            n += (size_t)snprintf(out + n, sizeof out - n, "%d", v);
        else
            out[n++] = *c;
    }
    out[n] = 0;
    return eg_problem_ext_add_tensor(x, out, seed);
}

effgen_status eg_problem_ext_upload_tensors(const eg_rt_cuda *cu, const eg_problem_ext *x, effgen_expr_tensor *dev,
                                            CUdeviceptr *mem) {
    for (int i = 0; i < x->n_xt; i++) {
        size_t n = (size_t)elem_size(x->xt[i].dtype);
        for (int d = 0; d < x->xt[i].rank; d++) n *= (size_t)x->xt[i].sizes[d];
        dev[i] = x->xt[i];
        effgen_status st = eg_rt_cu(cu->cuMemAlloc(&mem[i], n), "cuMemAlloc(expression tensor)");
        if (!st) st = eg_rt_cu(cu->cuMemcpyHtoD(mem[i], x->xt[i].data, n), "copy expression tensor");
        if (st) return eg_err_wrap(st, "tensor \"%s\"", x->xt[i].name);
        dev[i].data = (const void *)(uintptr_t)mem[i];
    }
    return EFFGEN_OK;
}

effgen_status eg_problem_ext_make(eg_problem *p, eg_problem_ext *x, const eg_ext_opts *o, uint64_t seed) {
    memset(x, 0, sizeof *x);
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 7;
    int B = p->batch, H = p->heads;
    if (o->varlen) {
        x->cu_q = malloc(sizeof(int32_t) * (size_t)(B + 1));
        x->cu_k = malloc(sizeof(int32_t) * (size_t)(B + 1));
        if (!x->cu_q || !x->cu_k) goto oom;
        x->cu_q[0] = x->cu_k[0] = 0;
        for (int b = 0; b < B; b++) {
            int lq = draw(&s, o->len_min, o->len_max);
            int lk = o->keys_differ ? draw(&s, o->len_min, o->len_max) : lq;
            x->cu_q[b + 1] = x->cu_q[b] + lq;
            x->cu_k[b + 1] = x->cu_k[b] + lk;
            if (lq > x->max_seqlen_q) x->max_seqlen_q = lq;
        }
        /* at least one token each way: the tensors are never empty */
        if (x->cu_q[B] == 0) x->cu_q[B] = 1, x->max_seqlen_q = 1;
        if (x->cu_k[B] == 0) x->cu_k[B] = 1;
        p->seqlen_q = x->cu_q[B];
        p->seqlen_k = x->cu_k[B];
    }
    /* rows and keys of one (sequence, head): the longest under varlen */
    int nq = o->varlen ? x->max_seqlen_q : p->seqlen_q, nk = p->seqlen_k;
    if (o->varlen) {
        nk = 0;
        for (int b = 0; b < B; b++)
            if (x->cu_k[b + 1] - x->cu_k[b] > nk) nk = x->cu_k[b + 1] - x->cu_k[b];
        if (nk < 1) nk = 1;
    }
    if (o->bias) {
        int64_t row = (nk + 1) / 2 * 2; /* even row stride */
        x->bias_stride[2] = o->bias_bcast & 4 ? 0 : row;
        int64_t hs = (o->bias_bcast & 4 ? 1 : nq) * row;
        x->bias_stride[1] = o->bias_bcast & 2 ? 0 : hs;
        x->bias_stride[0] = o->bias_bcast & 1 ? 0 : hs * (o->bias_bcast & 2 ? 1 : H);
        x->bias_elems = (size_t)((B - 1) * x->bias_stride[0] + (H - 1) * x->bias_stride[1] +
                                 (int64_t)(nq - 1) * x->bias_stride[2] + row);
        x->bias = malloc(x->bias_elems * 2);
        if (!x->bias) goto oom;
        for (size_t i = 0; i < x->bias_elems; i++) {
            float v = (float)((double)(next_u64(&s) >> 11) / 9007199254740992.0 * 4.0 - 2.0);
            x->bias[i] = p->dtype == EFFGEN_FP16 ? eg_f32_to_fp16(v) : eg_f32_to_bf16(v);
        }
    }
    if (o->mask) {
        int64_t w = (nk + 31) / 32;
        x->mask_stride[2] = w;
        x->mask_stride[1] = (int64_t)nq * w;
        x->mask_stride[0] = o->mask_bcast ? 0 : x->mask_stride[1] * H;
        x->mask_words = (size_t)(x->mask_stride[1] * H * (o->mask_bcast ? 1 : B));
        x->mask = malloc(x->mask_words * 4);
        if (!x->mask) goto oom;
        uint64_t thr = (uint64_t)o->mask_pct * ((1ull << 32) / 100);
        for (size_t i = 0; i < x->mask_words; i++) {
            uint32_t v = 0;
            for (int bit = 0; bit < 32; bit++) v |= (uint32_t)((next_u64(&s) >> 32) < thr) << bit;
            x->mask[i] = v;
        }
        /* some rows see everything and some nothing, so tiles wholly visible and wholly hidden occur */
        for (size_t r = 0; r + 1 < x->mask_words / (size_t)w; r += 7) {
            memset(x->mask + r * (size_t)w, r % 14 ? 0xff : 0, (size_t)w * 4);
        }
    }
    if (o->bsparse) {
        int bq = o->bs_block, bk = o->bs_block;
        int nqb = (nq + bq - 1) / bq, nkb = (nk + bk - 1) / bk;
        int tables = o->bs_per_head ? B * H : 1;
        x->bs_block_q = bq, x->bs_block_k = bk;
        x->bs_row_elems = (size_t)tables * (nqb + 1);
        x->bs_col_elems = (size_t)tables * nqb * nkb;
        x->bs_row = malloc(x->bs_row_elems * 4);
        x->bs_col = malloc(x->bs_col_elems * 4);
        if (!x->bs_row || !x->bs_col) goto oom;
        if (o->bs_per_head) {
            x->bs_row_stride[1] = nqb + 1, x->bs_row_stride[0] = (int64_t)H * (nqb + 1);
            x->bs_col_stride[1] = (int64_t)nqb * nkb, x->bs_col_stride[0] = (int64_t)H * nqb * nkb;
        }
        uint64_t thr = (uint64_t)o->bsparse_pct * ((1ull << 32) / 100);
        for (int t = 0; t < tables; t++) {
            int32_t *row = x->bs_row + (size_t)t * (nqb + 1), *col = x->bs_col + (size_t)t * nqb * nkb;
            row[0] = 0;
            for (int qb = 0; qb < nqb; qb++) {
                int n = row[qb];
                for (int c = 0; c < nkb; c++)
                    if (c == 0 || c == qb || (next_u64(&s) >> 32) < thr) col[n++] = c;
                row[qb + 1] = n;
            }
        }
    }
    return EFFGEN_OK;
oom:
    eg_problem_ext_free(x);
    return eg_err(EFFGEN_NO_MEMORY, "variant tensors of the problem: out of host memory");
}

void eg_problem_args_ext(const eg_problem *p, const eg_problem_ext *x, effgen_attn_args *a) {
    eg_problem_args(p, a);
    if (!x) return;
    if (x->cu_q) {
        a->cu_seqlens_q = x->cu_q;
        a->cu_seqlens_k = x->cu_k;
        a->max_seqlen_q = x->max_seqlen_q;
        int64_t D = p->head_dim, kvh = eg_problem_kv_heads(p);
        int64_t qs[3] = {0, D, p->heads * D}, ks[3] = {0, D, kvh * D};
        memcpy(a->q_stride, qs, sizeof qs), memcpy(a->o_stride, qs, sizeof qs);
        memcpy(a->k_stride, ks, sizeof ks), memcpy(a->v_stride, ks, sizeof ks);
    }
    if (x->bias) {
        a->bias = x->bias;
        memcpy(a->bias_stride, x->bias_stride, sizeof x->bias_stride);
        a->bias_stride[3] = 1;
    }
    if (x->mask) {
        a->mask = x->mask;
        memcpy(a->mask_stride, x->mask_stride, sizeof x->mask_stride);
    }
    a->score_mod = x->score_mod;
    a->mask_mod = x->mask_mod;
    a->expr_tensors = x->n_xt ? x->xt : NULL;
    a->n_expr_tensors = x->n_xt;
    if (x->bs_row) {
        a->bsparse_row_ptr = x->bs_row;
        a->bsparse_col_idx = x->bs_col;
        memcpy(a->bsparse_row_stride, x->bs_row_stride, sizeof x->bs_row_stride);
        memcpy(a->bsparse_col_stride, x->bs_col_stride, sizeof x->bs_col_stride);
        a->bsparse_block_q = x->bs_block_q;
        a->bsparse_block_k = x->bs_block_k;
    }
}

size_t eg_problem_q_elems(const eg_problem *p, const eg_problem_ext *x) {
    return (size_t)(x && x->cu_q ? 1 : p->batch) * p->heads * p->seqlen_q * p->head_dim;
}

size_t eg_problem_k_elems(const eg_problem *p, const eg_problem_ext *x) {
    return (size_t)(x && x->cu_q ? 1 : p->batch) * eg_problem_kv_heads(p) * p->seqlen_k * p->head_dim;
}

/* Visible keys of row i (of nq) of (b, h) in a sequence of nk keys. */
static double row_pairs(const eg_problem *p, const eg_problem_ext *x, int b, int h, int i, int nq, int nk) {
    eg_problem q = *p;
    q.seqlen_q = nq, q.seqlen_k = nk;
    int lo, hi;
    eg_problem_key_range(&q, i, &lo, &hi);
    if (hi < lo) return 0;
    if (!x || (!x->mask && !x->bs_row)) return hi - lo + 1;
    double n = 0;
    if (x->bs_row && !x->mask) {
        const int32_t *row = x->bs_row + b * x->bs_row_stride[0] + h * x->bs_row_stride[1];
        const int32_t *col = x->bs_col + b * x->bs_col_stride[0] + h * x->bs_col_stride[1];
        int qb = i / x->bs_block_q;
        for (int e = row[qb]; e < row[qb + 1]; e++) {
            long a = (long)col[e] * x->bs_block_k, z = a + x->bs_block_k - 1;
            if (a < lo) a = lo;
            if (z > hi) z = hi;
            if (z >= a) n += (double)(z - a + 1);
        }
        return n;
    }
    const uint32_t *w = x->mask + b * x->mask_stride[0] + h * x->mask_stride[1] + (int64_t)i * x->mask_stride[2];
    for (int j = lo; j <= hi; j++) {
        int v = (w[j / 32] >> (j % 32)) & 1;
        if (v && x->bs_row) {
            const int32_t *row = x->bs_row + b * x->bs_row_stride[0] + h * x->bs_row_stride[1];
            const int32_t *col = x->bs_col + b * x->bs_col_stride[0] + h * x->bs_col_stride[1];
            int qb = i / x->bs_block_q, in = 0;
            for (int e = row[qb]; e < row[qb + 1]; e++) in |= col[e] == j / x->bs_block_k;
            v = in;
        }
        n += v;
    }
    return n;
}

double eg_problem_flops_ext(const eg_problem *p, const eg_problem_ext *x) {
    if (!x || (!x->cu_q && !x->mask && !x->bs_row)) return eg_problem_flops(p);
    double pairs = 0;
    int seqs = p->batch;
    for (int b = 0; b < seqs; b++) {
        int nq = p->seqlen_q, nk = p->seqlen_k;
        if (x->cu_q) nq = x->cu_q[b + 1] - x->cu_q[b], nk = x->cu_k[b + 1] - x->cu_k[b];
        /* without a per-(b, h) mask or table every head and batch entry counts alike */
        int heads = x->mask || (x->bs_row && (x->bs_row_stride[0] || x->bs_row_stride[1])) ? p->heads : 1;
        double per = 0;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < nq; i++) per += row_pairs(p, x, b, h, i, nq, nk);
        pairs += per * (heads == 1 ? p->heads : 1);
    }
    return 4.0 * p->head_dim * pairs;
}
