/* mock_cuda.c - a stand-in CUDA driver (EFFGEN_LIBCUDA) so that CI, with no GPU, runs the GPU paths of the
 * tuner and the dispatcher. Small launches compute attention on the host from the kernel's parameters
 * (dtype and mask, which they do not carry, from EFFGEN_MOCK_DTYPE and EFFGEN_MOCK_CAUSAL); event time is
 * virtual; EFFGEN_MOCK_DELAY_US slows each launch in real time. Cubins are checked for the ELF magic only.
 * Varlen launches are computed per packed sequence (cu_seqlens, each sequence's diagonal, the [h][total]
 * LSE); launches with the other tensor variants (bias, mask, block-sparse) are accepted but not computed.
 * Built twice: mock_cuda, a driver without cuTensorMapEncodeTiled, and mock_cuda_tma (EG_MOCK_TMA), with it,
 * which also runs the wg family (its launches carry the same parameters). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

typedef struct fwd_params {
    const void *q, *k, *v;
    void *o;
    float *lse;
    int64_t q_sb, q_sh, q_sn;
    int64_t k_sb, k_sh, k_sn;
    int64_t v_sb, v_sh, v_sn;
    int64_t o_sb, o_sh, o_sn;
    int b, h, nq, nk;
    int causal_offset;
    float scale_log2;
    float scale;
    int m_blocks;
    int head_group;
    int win_left, win_right;       /* the host fills these even without a window: then they reach every key */
    float softcap_in, softcap_out; /* 0 when off */
    int kv_group;
    const float *alibi;
    /* the tensor variants: varlen is computed, the others are not (their outputs are left alone) */
    const int32_t *cu_q, *cu_k;
    const void *bias;
    int64_t bias_sb, bias_sh, bias_sq;
    float bias_mul;
    int varlen_br;
    const uint32_t *mask;
    int64_t mask_sb, mask_sh, mask_sq;
    const int32_t *bs_row, *bs_col;
    int64_t bs_row_sb, bs_row_sh, bs_col_sb, bs_col_sh;
    int bs_bq, bs_bk;
} fwd_params;
_Static_assert(sizeof(fwd_params) == 344 && offsetof(fwd_params, alibi) == 192 && offsetof(fwd_params, cu_q) == 200,
               "mirror of eg::FwdParams");

static double vclock; /* milliseconds of virtual GPU time */

CUresult cuInit(unsigned f) { (void)f; return 0; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int o) { *d = o; return 0; }
CUresult cuDeviceGetName(char *b, int n, int d) { (void)d; snprintf(b, (size_t)n, "Mock H100"); return 0; }
CUresult cuDeviceGetAttribute(int *v, int which, int d) {
    (void)d;
    const char *cc = getenv("EFFGEN_MOCK_CC");
    int c = cc ? atoi(cc) : 90;
    switch (which) {
    case 16: *v = 132; break;
    case 38: *v = 1 << 20; break;
    case 75: *v = c / 10; break;
    case 76: *v = c % 10; break;
    case 97: *v = 232448; break;
    default: *v = 0;
    }
    return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { (void)d; *c = (void *)0x1234; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { (void)d; return 0; }
CUresult cuCtxPushCurrent_v2(void *c) { (void)c; return 0; }
CUresult cuCtxPopCurrent_v2(void **c) { *c = (void *)0x1234; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadData(void **m, const void *img) {
    const unsigned char *p = img;
    if (p[0] != 0x7f || p[1] != 'E') return 200; /* CUDA_ERROR_INVALID_IMAGE */
    *m = malloc(16);
    return 0;
}
CUresult cuModuleUnload(void *m) { free(m); return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) { (void)name; *f = m; return 0; }
CUresult cuFuncSetAttribute(void *f, int a, int v) { (void)f; (void)a; (void)v; return 0; }
CUresult cuFuncGetAttribute(int *v, int a, void *f) { (void)a; (void)f; *v = 128; return 0; }

static float to_f(const uint16_t *p, int fp16) {
    uint16_t h = *p;
    if (!fp16) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) { float v = (float)mant / 16777216.0f; return sign ? -v : v; }
    uint32_t u = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    float f; memcpy(&f, &u, 4); return f;
}
static uint16_t from_f(float f, int fp16) {
    uint32_t u; memcpy(&u, &f, 4);
    if (!fp16) { u += 0x7fffu + ((u >> 16) & 1u); return (uint16_t)(u >> 16); }
    /* crude but adequate: normal range only */
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a < 0x38800000u) return (uint16_t)sign;
    uint32_t exp = (a >> 23) - 127 + 15, mant = a & 0x7fffffu;
    uint32_t h = (exp << 10) | (mant >> 13), rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned smem, void *stream, void **params, void **extra) {
    (void)f; (void)gy; (void)gz; (void)by; (void)bz; (void)stream; (void)extra;
    fwd_params *p = params[0];
    const char *dt = getenv("EFFGEN_MOCK_DTYPE"), *cz = getenv("EFFGEN_MOCK_CAUSAL");
    int fp16 = dt && !strcmp(dt, "fp16"), causal = cz && atoi(cz);
    if (p->bias || p->mask || p->bs_row) return 0; /* not modelled: outputs stay poisoned */
    int D = (int)(p->q_sh < p->q_sn ? p->q_sh : p->q_sn); /* contiguous B,H,N,D or B,N,H,D (packed N,H,D) */
    /* sequences: the batch entries, or under varlen the packed sequences of cu_q / cu_k */
    int varlen = p->cu_q != NULL;
    long work = 0;
    for (int b = 0; b < p->b; b++)
        work += varlen ? (long)p->h * (p->cu_q[b + 1] - p->cu_q[b]) * (p->cu_k[b + 1] - p->cu_k[b])
                       : (long)p->h * p->nq * p->nk;
    /* virtual time: proportional to the work, with a config-dependent factor so configs differ */
    vclock += 1e-9 * (double)work * (1.0 + (bx % 7) * 0.01 + (smem % 1000) * 1e-5 + (gx % 5) * 0.001);
    const char *delay = getenv("EFFGEN_MOCK_DELAY_US"); /* a slow GPU, for tests that interrupt a tune */
    if (delay) usleep((useconds_t)atoi(delay));
    if (work > (varlen ? (1L << 22) : (1L << 20))) return 0; /* timed problems: the time is virtual, the result unused */
    float *s = malloc(sizeof(float) * (size_t)(p->nk > 0 ? p->nk : 1));
    for (int b = 0; b < p->b; b++) {
        /* this sequence's first packed rows (0 without varlen), its lengths and its diagonal */
        long qr = varlen ? p->cu_q[b] : 0, kr = varlen ? p->cu_k[b] : 0;
        int nq = varlen ? p->cu_q[b + 1] - p->cu_q[b] : p->nq, nk = varlen ? p->cu_k[b + 1] - p->cu_k[b] : p->nk;
        long offset = p->causal_offset + (varlen && p->varlen_br ? nk - nq : 0);
        for (int h = 0; h < p->h; h++)
            for (int i = 0; i < nq; i++) {
                const uint16_t *q = (const uint16_t *)p->q + b * p->q_sb + h * p->q_sh + (qr + i) * p->q_sn;
                int hk = h / (p->kv_group > 0 ? p->kv_group : 1);
                float mx = -INFINITY;
                long diag = (long)i + offset;
                long first = diag - p->win_left, last = diag + p->win_right;
                if (causal && last > diag) last = diag;
                if (first < 0) first = 0;
                if (last > nk - 1) last = nk - 1;
                for (long j = first; j <= last; j++) {
                    const uint16_t *k = (const uint16_t *)p->k + b * p->k_sb + hk * p->k_sh + (kr + j) * p->k_sn;
                    float acc = 0;
                    for (int d = 0; d < D; d++) acc += to_f(q + d, fp16) * to_f(k + d, fp16);
                    s[j] = acc * p->scale;
                    if (p->softcap_out > 0) s[j] = p->softcap_out * p->scale * tanhf(s[j] / (p->softcap_out * p->scale));
                    if (p->alibi) s[j] -= p->alibi[h] * fabsf((float)(diag - j));
                    if (s[j] > mx) mx = s[j];
                }
                float sum = 0;
                for (long j = first; j <= last; j++) { s[j] = expf(s[j] - mx); sum += s[j]; }
                uint16_t *o = (uint16_t *)p->o + b * p->o_sb + h * p->o_sh + (qr + i) * p->o_sn;
                for (int d = 0; d < D; d++) {
                    float acc = 0;
                    for (long j = first; j <= last; j++) {
                        const uint16_t *v = (const uint16_t *)p->v + b * p->v_sb + hk * p->v_sh + (kr + j) * p->v_sn;
                        acc += s[j] * to_f(v + d, fp16);
                    }
                    o[d] = from_f(last >= first ? acc / sum : 0.f, fp16);
                }
                /* [b][h][nq], or under varlen [h][total queries] */
                long li = varlen ? (long)h * p->nq + qr + i : ((long)b * p->h + h) * p->nq + i;
                if (p->lse) p->lse[li] = last >= first ? mx + logf(sum) : -INFINITY;
            }
    }
    free(s);
    return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) { void *m = malloc(n ? n : 1); if (!m) return 2; *p = (CUdeviceptr)(uintptr_t)m; return 0; }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)(uintptr_t)p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); return 0; }
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char c, size_t n) { memset((void *)(uintptr_t)d, c, n); return 0; }
CUresult cuStreamSynchronize(void *s) { (void)s; return 0; }
CUresult cuEventCreate(void **e, unsigned f) { (void)f; *e = calloc(1, sizeof(double)); return 0; }
CUresult cuEventRecord(void *e, void *s) { (void)s; *(double *)e = vclock; return 0; }
CUresult cuEventSynchronize(void *e) { (void)e; return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { *ms = (float)(*(double *)b - *(double *)a); return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); return 0; }
#ifdef EG_MOCK_TMA
/* The TMA descriptor encoder of CUDA 12 drivers, in the mock_cuda_tma build only (the plain stand-in has
 * none, as an older driver). It checks what the driver checks of the wg family's maps (rank, a 16-byte
 * aligned address, byte strides that are multiples of 16, boxes of at most 256 rows and, under the
 * 128-byte swizzle, 128-byte rows) and records the address; the host attention above reads the tensors
 * through the parameters, which the wg family fills as the mma family does. */
CUresult cuTensorMapEncodeTiled(void *map, int dtype, unsigned rank, void *addr, const uint64_t *dims,
                                const uint64_t *strides, const unsigned *box, const unsigned *estr, int interleave,
                                int swizzle, int l2, int oob) {
    (void)l2; (void)oob; (void)interleave;
    if (!map || rank < 1 || rank > 5 || !addr || (uintptr_t)addr % 16) return 1; /* CUDA_ERROR_INVALID_VALUE */
    if (dtype != 6 && dtype != 9) return 1;
    for (unsigned i = 0; i < rank; i++) {
        if (dims[i] < 1 || box[i] < 1 || box[i] > 256 || estr[i] != 1) return 1;
        if (i + 1 < rank && strides[i] % 16) return 1;
    }
    if (swizzle == 3 && box[0] * 2 != 128) return 1;
    memset(map, 0, 128);
    memcpy(map, &addr, sizeof addr);
    return 0;
}
#endif
CUresult cuGetErrorName(CUresult r, const char **s) { *s = r ? "CUDA_ERROR_MOCK" : "CUDA_SUCCESS"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **s) { *s = r ? "mock failure" : "no error"; return 0; }
