/* ref.c - the reference: exact softmax attention in double precision on the host, with the same
 * conventions as the kernels (strides, causal alignment, scale, fully masked rows -> 0 and -inf) and the
 * variants: window, softcap then ALiBi on the scaled scores, K/V heads shared under GQA, bias, masks, and
 * the user's score_mod / mask_mod evaluated with eg_expr_eval_* in double. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune.h"

void eg_problem_strides(const eg_problem *p, int n, int64_t st[3]) {
    int64_t D = p->head_dim;
    if (p->bnhd) {
        st[0] = (int64_t)n * p->heads * D;
        st[1] = D;
        st[2] = (int64_t)p->heads * D;
    } else {
        st[0] = (int64_t)p->heads * n * D;
        st[1] = (int64_t)n * D;
        st[2] = D;
    }
}

int eg_problem_kv_heads(const eg_problem *p) { return p->kv_heads > 0 ? p->kv_heads : p->heads; }

void eg_problem_kv_strides(const eg_problem *p, int64_t st[3]) {
    eg_problem q = *p;
    q.heads = eg_problem_kv_heads(p);
    eg_problem_strides(&q, p->seqlen_k, st);
}

/* Keys query row i of a sequence of nq queries and nk keys sees by causal and window: [first, last]. */
static void key_range(const eg_problem *p, int nq, int nk, int i, int *first, int *last) {
    long d = p->align == EFFGEN_CAUSAL_BOTTOM_RIGHT ? (long)i + nk - nq : (long)i, lo = 0, hi = nk - 1;
    if (p->causal && d < hi) hi = d;
    if (p->window && p->window_left >= 0 && d - p->window_left > lo) lo = d - p->window_left;
    if (p->window && p->window_right >= 0 && d + p->window_right < hi) hi = d + p->window_right;
    if (hi < lo - 1) hi = lo - 1;
    *first = (int)lo;
    *last = (int)hi;
}

void eg_problem_key_range(const eg_problem *p, int i, int *first, int *last) {
    key_range(p, p->seqlen_q, p->seqlen_k, i, first, last);
}

double eg_problem_flops(const eg_problem *p) {
    double f = 4.0 * p->batch * p->heads * (double)p->seqlen_q * p->seqlen_k * p->head_dim;
    if (!p->window) return p->causal ? f / 2 : f;
    double pairs = 0;
    for (int i = 0; i < p->seqlen_q; i++) {
        int lo, hi;
        eg_problem_key_range(p, i, &lo, &hi);
        pairs += hi - lo + 1;
    }
    return 4.0 * p->batch * p->heads * p->head_dim * pairs;
}

void eg_problem_args(const eg_problem *p, effgen_attn_args *a) {
    effgen_attn_args_init(a);
    a->dtype = p->dtype;
    a->batch = p->batch;
    a->heads = p->heads;
    a->seqlen_q = p->seqlen_q;
    a->seqlen_k = p->seqlen_k;
    a->head_dim = p->head_dim;
    a->causal = p->causal;
    a->causal_align = p->align;
    a->scale = p->scale;
    a->window = p->window;
    a->window_left = p->window ? p->window_left : 0;
    a->window_right = p->window ? p->window_right : 0;
    a->softcap = p->softcap;
    a->kv_heads = p->kv_heads;
    eg_problem_strides(p, p->seqlen_q, a->q_stride);
    eg_problem_kv_strides(p, a->k_stride);
    eg_problem_kv_strides(p, a->v_stride);
    eg_problem_strides(p, p->seqlen_q, a->o_stride);
}

void eg_alibi_slopes(int heads, float *out) {
    for (int h = 0; h < heads; h++) out[h] = (float)exp2(-8.0 * (h + 1) / heads);
}

typedef struct ref_job {
    const eg_problem *p;
    const eg_problem_ext *x;
    const uint16_t *q, *k, *v;
    double *o, *lse;
    long row_begin, row_end; /* over b*h*nq, or h*total_q under varlen */
} ref_job;

/* The host tensors of expression e, in its slot order, from x's tensors by name; 0 when one is missing. */
static int expr_host_tensors(const eg_expr *e, const eg_problem_ext *x, eg_expr_host_tensor *t) {
    for (int i = 0; i < eg_expr_tensor_count(e); i++) {
        eg_expr_decl d;
        eg_expr_tensor(e, i, &d);
        int found = -1;
        for (int k = 0; k < x->n_xt; k++)
            if (!strcmp(x->xt[k].name, d.name)) found = k;
        if (found < 0) return 0;
        memset(&t[i], 0, sizeof t[i]);
        t[i].data = x->xt[found].data;
        for (int r = 0; r < x->xt[found].rank; r++) {
            t[i].size[r] = x->xt[found].sizes[r];
            t[i].stride[r] = x->xt[found].strides[r];
        }
    }
    return 1;
}

/* Parse x's expressions with the declarations its tensors give and gather their host tensors; 0 on failure. */
static int ref_exprs(const eg_problem_ext *x, eg_expr *ex[2], eg_expr_host_tensor t[2][EG_EXPR_TENSORS_MAX]) {
    ex[0] = ex[1] = NULL;
    if (!x) return 1;
    eg_expr_decl decls[EG_EXPR_TENSORS_MAX];
    for (int i = 0; i < x->n_xt; i++)
        decls[i] = (eg_expr_decl){x->xt[i].name, (eg_expr_dtype)x->xt[i].dtype, x->xt[i].rank};
    const char *text[2] = {x->score_mod, x->mask_mod};
    for (int i = 0; i < 2; i++) {
        if (!text[i]) continue;
        if (eg_expr_parse(text[i], i ? EG_EXPR_MASK : EG_EXPR_SCORE, decls, x->n_xt, &ex[i]) != EFFGEN_OK ||
            !expr_host_tensors(ex[i], x, t[i]))
            return 0;
    }
    return 1;
}

static void *ref_rows(void *arg) {
    ref_job *j = arg;
    const eg_problem *p = j->p;
    const eg_problem_ext *x = j->x;
    /* the user's expressions, in double: score_mod after the bias, mask_mod with the other masks; an
     * expression that cannot be evaluated (an index out of its tensor's sizes) makes the row NaN */
    eg_expr *ex[2] = {NULL, NULL};
    eg_expr_host_tensor xt[2][EG_EXPR_TENSORS_MAX];
    int ex_ok = ref_exprs(x, ex, xt);
    int varlen = x && x->cu_q;
    int D = p->head_dim, nq = p->seqlen_q, nk = p->seqlen_k;
    int64_t sq[3], sk[3];
    eg_problem_strides(p, nq, sq);
    eg_problem_kv_strides(p, sk);
    if (varlen) { /* packed [tokens][heads][D] */
        sq[0] = 0, sq[1] = D, sq[2] = (int64_t)p->heads * D;
        sk[0] = 0, sk[1] = D, sk[2] = (int64_t)eg_problem_kv_heads(p) * D;
    }
    double scale = p->scale > 0 ? p->scale : 1.0 / sqrt((double)D);
    int group = p->heads / eg_problem_kv_heads(p);
    int bs = x && x->bs_row;
    int nkb = bs ? (nk + x->bs_block_k - 1) / x->bs_block_k + 1 : 1;
    double *s = malloc(sizeof(double) * (size_t)nk);
    double *qr = malloc(sizeof(double) * (size_t)D);
    double *acc = malloc(sizeof(double) * (size_t)D);
    char *vis = malloc((size_t)nk + 1), *blk = malloc((size_t)nkb);
    float *slopes = p->alibi ? malloc(sizeof(float) * (size_t)p->heads) : NULL;
    if (!s || !qr || !acc || !vis || !blk || (p->alibi && !slopes) || !ex_ok) goto done; /* the caller's poisoned NaNs fail */
    if (slopes) eg_alibi_slopes(p->heads, slopes);
    for (long r = j->row_begin; r < j->row_end; r++) {
        int i, h, b, rnq = nq, rnk = nk;
        int64_t qrow, krow0 = 0; /* token row of the query, first key row */
        if (varlen) {
            h = (int)(r / nq);
            int tok = (int)(r % nq);
            b = 0;
            while (b + 1 < p->batch && x->cu_q[b + 1] <= tok) b++;
            i = tok - x->cu_q[b];
            rnq = x->cu_q[b + 1] - x->cu_q[b];
            rnk = x->cu_k[b + 1] - x->cu_k[b];
            qrow = tok;
            krow0 = x->cu_k[b];
        } else {
            i = (int)(r % nq);
            long bh = r / nq;
            h = (int)(bh % p->heads), b = (int)(bh / p->heads);
            qrow = i;
        }
        const uint16_t *qp = j->q + b * sq[0] + h * sq[1] + qrow * sq[2];
        for (int d = 0; d < D; d++) qr[d] = eg_to_f32(p->dtype, qp[d]);
        int first, last;
        key_range(p, rnq, rnk, i, &first, &last);
        long diag = p->align == EFFGEN_CAUSAL_BOTTOM_RIGHT ? (long)i + rnk - rnq : (long)i;
        int hk = h / group; /* K/V head of query head h */
        double *orow = j->o + b * sq[0] + h * sq[1] + qrow * sq[2];
        /* the keys the mask and the block table leave visible within [first, last] */
        int any = 0, bad_expr = 0;
        if (bs) {
            for (int c = 0; c < nkb; c++) blk[c] = 0;
            const int32_t *row = x->bs_row + b * x->bs_row_stride[0] + h * x->bs_row_stride[1];
            const int32_t *col = x->bs_col + b * x->bs_col_stride[0] + h * x->bs_col_stride[1];
            int qb = i / x->bs_block_q;
            for (int e = row[qb]; e < row[qb + 1]; e++)
                if (col[e] >= 0 && col[e] < nkb) blk[col[e]] = 1;
        }
        for (int n = first; n <= last; n++) {
            int v = 1;
            if (x && x->mask) {
                uint32_t w = x->mask[b * x->mask_stride[0] + h * x->mask_stride[1] + (int64_t)i * x->mask_stride[2] + n / 32];
                v = (w >> (n % 32)) & 1;
            }
            if (bs && !blk[n / x->bs_block_k]) v = 0;
            if (v && ex[1]) {
                int mv = 0;
                if (eg_expr_eval_mask(ex[1], b, h, i, n, rnq, rnk, xt[1], EG_EXPR_TENSORS_MAX, &mv) != EFFGEN_OK)
                    bad_expr = 1;
                v = mv;
            }
            vis[n] = (char)v;
            any |= v;
        }
        if (bad_expr) {
            for (int d = 0; d < D; d++) orow[d] = NAN;
            j->lse[r] = NAN;
            continue;
        }
        if (!any) {
            for (int d = 0; d < D; d++) orow[d] = 0;
            j->lse[r] = -INFINITY;
            continue;
        }
        double m = -INFINITY;
        for (int n = first; n <= last; n++) {
            if (!vis[n]) continue;
            const uint16_t *kp = j->k + b * sk[0] + hk * sk[1] + (krow0 + n) * sk[2];
            double dot = 0;
            for (int d = 0; d < D; d++) dot += qr[d] * eg_to_f32(p->dtype, kp[d]);
            s[n] = dot * scale;
            /* softcap, then ALiBi, then the bias, all on the scaled score */
            if (p->softcap > 0) s[n] = p->softcap * tanh(s[n] / p->softcap);
            if (slopes) s[n] -= (double)slopes[h] * fabs((double)(diag - n));
            if (x && x->bias)
                s[n] += eg_to_f32(p->dtype, x->bias[b * x->bias_stride[0] + h * x->bias_stride[1] +
                                                    (int64_t)i * x->bias_stride[2] + n]);
            if (ex[0]) {
                double y = NAN;
                if (eg_expr_eval_score(ex[0], s[n], b, h, i, n, rnq, rnk, xt[0], EG_EXPR_TENSORS_MAX, &y) != EFFGEN_OK)
                    y = NAN;
                s[n] = y;
            }
            if (s[n] > m || isnan(s[n])) m = s[n];
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        for (int n = first; n <= last; n++) {
            if (!vis[n]) continue;
            double e = exp(s[n] - m);
            l += e;
            const uint16_t *vp = j->v + b * sk[0] + hk * sk[1] + (krow0 + n) * sk[2];
            for (int d = 0; d < D; d++) acc[d] += e * eg_to_f32(p->dtype, vp[d]);
        }
        for (int d = 0; d < D; d++) orow[d] = acc[d] / l;
        j->lse[r] = m + log(l);
    }
done:
    eg_expr_free(ex[0]);
    eg_expr_free(ex[1]);
    free(slopes);
    free(s);
    free(qr);
    free(acc);
    free(vis);
    free(blk);
    return NULL;
}

void eg_ref_attention(const eg_problem *p, const uint16_t *q, const uint16_t *k, const uint16_t *v, double *o,
                      double *lse, int threads) {
    eg_ref_attention_ext(p, NULL, q, k, v, o, lse, threads);
}

void eg_ref_attention_ext(const eg_problem *p, const eg_problem_ext *x, const uint16_t *q, const uint16_t *k,
                          const uint16_t *v, double *o, double *lse, int threads) {
    long rows = (long)(x && x->cu_q ? 1 : p->batch) * p->heads * p->seqlen_q;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > 64) threads = 64;
    if (threads > rows) threads = (int)rows;
    pthread_t tid[64];
    int running[64] = {0};
    ref_job jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (ref_job){p, x, q, k, v, o, lse, rows * t / threads, rows * (t + 1) / threads};
        if (t > 0) running[t] = pthread_create(&tid[t], NULL, ref_rows, &jobs[t]) == 0;
    }
    for (int t = 0; t < threads; t++)
        if (!running[t]) ref_rows(&jobs[t]); /* share 0, and any share whose thread did not start */
    for (int t = 1; t < threads; t++)
        if (running[t]) pthread_join(tid[t], NULL);
}
