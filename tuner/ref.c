/* ref.c - the reference: exact softmax attention in double precision on the host, with the same
 * conventions as the kernels (strides, causal alignment, scale, fully masked rows -> 0 and -inf) and the
 * variants: window, softcap then ALiBi on the scaled scores, K/V heads shared under GQA. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
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

/* Key position of query row i: the diagonal of causal, window and ALiBi (bottom-right unless top-left). */
static long diag_of(const eg_problem *p, int i) {
    return p->align == EFFGEN_CAUSAL_BOTTOM_RIGHT ? (long)i + p->seqlen_k - p->seqlen_q : (long)i;
}

void eg_problem_key_range(const eg_problem *p, int i, int *first, int *last) {
    long d = diag_of(p, i), lo = 0, hi = p->seqlen_k - 1;
    if (p->causal && d < hi) hi = d;
    if (p->window && p->window_left >= 0 && d - p->window_left > lo) lo = d - p->window_left;
    if (p->window && p->window_right >= 0 && d + p->window_right < hi) hi = d + p->window_right;
    if (hi < lo - 1) hi = lo - 1;
    *first = (int)lo;
    *last = (int)hi;
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
    const uint16_t *q, *k, *v;
    double *o, *lse;
    long row_begin, row_end; /* over b*h*nq */
} ref_job;

static void *ref_rows(void *arg) {
    ref_job *j = arg;
    const eg_problem *p = j->p;
    int D = p->head_dim, nq = p->seqlen_q, nk = p->seqlen_k;
    int64_t sq[3], sk[3];
    eg_problem_strides(p, nq, sq);
    eg_problem_kv_strides(p, sk);
    double scale = p->scale > 0 ? p->scale : 1.0 / sqrt((double)D);
    int group = p->heads / eg_problem_kv_heads(p);
    double *s = malloc(sizeof(double) * (size_t)nk);
    double *qr = malloc(sizeof(double) * (size_t)D);
    double *acc = malloc(sizeof(double) * (size_t)D);
    float *slopes = p->alibi ? malloc(sizeof(float) * (size_t)p->heads) : NULL;
    if (!s || !qr || !acc || (p->alibi && !slopes)) goto done; /* the caller's poisoned NaNs fail the check */
    if (slopes) eg_alibi_slopes(p->heads, slopes);
    for (long r = j->row_begin; r < j->row_end; r++) {
        int i = (int)(r % nq);
        long bh = r / nq;
        int h = (int)(bh % p->heads), b = (int)(bh / p->heads);
        const uint16_t *qp = j->q + b * sq[0] + h * sq[1] + (int64_t)i * sq[2];
        for (int d = 0; d < D; d++) qr[d] = eg_to_f32(p->dtype, qp[d]);
        int first, last;
        eg_problem_key_range(p, i, &first, &last);
        long diag = diag_of(p, i);
        int hk = h / group; /* K/V head of query head h */
        double *orow = j->o + b * sq[0] + h * sq[1] + (int64_t)i * sq[2];
        if (last < first) {
            for (int d = 0; d < D; d++) orow[d] = 0;
            j->lse[r] = -INFINITY;
            continue;
        }
        double m = -INFINITY;
        for (int n = first; n <= last; n++) {
            const uint16_t *kp = j->k + b * sk[0] + hk * sk[1] + (int64_t)n * sk[2];
            double dot = 0;
            for (int d = 0; d < D; d++) dot += qr[d] * eg_to_f32(p->dtype, kp[d]);
            s[n] = dot * scale;
            /* softcap, then ALiBi, both on the scaled score */
            if (p->softcap > 0) s[n] = p->softcap * tanh(s[n] / p->softcap);
            if (slopes) s[n] -= (double)slopes[h] * fabs((double)(diag - n));
            if (s[n] > m) m = s[n];
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        for (int n = first; n <= last; n++) {
            double e = exp(s[n] - m);
            l += e;
            const uint16_t *vp = j->v + b * sk[0] + hk * sk[1] + (int64_t)n * sk[2];
            for (int d = 0; d < D; d++) acc[d] += e * eg_to_f32(p->dtype, vp[d]);
        }
        for (int d = 0; d < D; d++) orow[d] = acc[d] / l;
        j->lse[r] = m + log(l);
    }
done:
    free(slopes);
    free(s);
    free(qr);
    free(acc);
    return NULL;
}

void eg_ref_attention(const eg_problem *p, const uint16_t *q, const uint16_t *k, const uint16_t *v, double *o,
                      double *lse, int threads) {
    long rows = (long)p->batch * p->heads * p->seqlen_q;
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
        jobs[t] = (ref_job){p, q, k, v, o, lse, rows * t / threads, rows * (t + 1) / threads};
        if (t > 0) running[t] = pthread_create(&tid[t], NULL, ref_rows, &jobs[t]) == 0;
    }
    for (int t = 0; t < threads; t++)
        if (!running[t]) ref_rows(&jobs[t]); /* share 0, and any share whose thread did not start */
    for (int t = 1; t < threads; t++)
        if (running[t]) pthread_join(tid[t], NULL);
}
