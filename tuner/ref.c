/* ref.c - the reference: exact softmax attention in double precision on the host, with the same
 * conventions as the kernels (strides, causal alignment, scale, fully masked rows -> 0 and -inf). */
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

double eg_problem_flops(const eg_problem *p) {
    double f = 4.0 * p->batch * p->heads * (double)p->seqlen_q * p->seqlen_k * p->head_dim;
    return p->causal ? f / 2 : f;
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
    eg_problem_strides(p, nk, sk);
    double scale = p->scale > 0 ? p->scale : 1.0 / sqrt((double)D);
    long off = p->causal && p->align == EFFGEN_CAUSAL_BOTTOM_RIGHT ? (long)nk - nq : 0;
    double *s = malloc(sizeof(double) * (size_t)nk);
    double *qr = malloc(sizeof(double) * (size_t)D);
    double *acc = malloc(sizeof(double) * (size_t)D);
    if (!s || !qr || !acc) goto done; /* caller sees the poisoned NaNs it set and fails the check */
    for (long r = j->row_begin; r < j->row_end; r++) {
        int i = (int)(r % nq);
        long bh = r / nq;
        int h = (int)(bh % p->heads), b = (int)(bh / p->heads);
        const uint16_t *qp = j->q + b * sq[0] + h * sq[1] + (int64_t)i * sq[2];
        for (int d = 0; d < D; d++) qr[d] = eg_to_f32(p->dtype, qp[d]);
        int visible = nk;
        if (p->causal) {
            long lim = i + off + 1;
            visible = lim < 0 ? 0 : (lim > nk ? nk : (int)lim);
        }
        double *orow = j->o + b * sq[0] + h * sq[1] + (int64_t)i * sq[2];
        if (visible == 0) {
            for (int d = 0; d < D; d++) orow[d] = 0;
            j->lse[r] = -INFINITY;
            continue;
        }
        double m = -INFINITY;
        for (int n = 0; n < visible; n++) {
            const uint16_t *kp = j->k + b * sk[0] + h * sk[1] + (int64_t)n * sk[2];
            double dot = 0;
            for (int d = 0; d < D; d++) dot += qr[d] * eg_to_f32(p->dtype, kp[d]);
            s[n] = dot * scale;
            if (s[n] > m) m = s[n];
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        for (int n = 0; n < visible; n++) {
            double e = exp(s[n] - m);
            l += e;
            const uint16_t *vp = j->v + b * sk[0] + h * sk[1] + (int64_t)n * sk[2];
            for (int d = 0; d < D; d++) acc[d] += e * eg_to_f32(p->dtype, vp[d]);
        }
        for (int d = 0; d < D; d++) orow[d] = acc[d] / l;
        j->lse[r] = m + log(l);
    }
done:
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
