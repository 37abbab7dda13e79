/* attention.c - a host program that uses effgen through its public API only: causal attention on random
 * bf16 data, checked against a CPU reference on a few rows. Device memory comes from the CUDA driver,
 * loaded here with dlopen (a real application would use its own CUDA runtime). Without a GPU it shows
 * what still works there, generation and compilation, and exits 0. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"

/* The few driver entry points this program needs, by their ABI-versioned names. */
typedef unsigned long long devptr;
static struct {
    int (*init)(unsigned);
    int (*device_get)(int *, int);
    int (*primary_retain)(void **, int);
    int (*primary_release)(int);
    int (*push)(void *);
    int (*pop)(void **);
    int (*alloc)(devptr *, size_t);
    int (*free)(devptr);
    int (*htod)(devptr, const void *, size_t);
    int (*dtoh)(void *, devptr, size_t);
    int (*sync)(void);
} cu;

static int load_driver(char *why, size_t size) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(why, size, "libcuda.so.1 not found (%s)", dlerror());
        return -1;
    }
    void *p;
#define LOAD(field, name)                                          \
    if (!(p = dlsym(lib, name))) {                                 \
        snprintf(why, size, "libcuda.so.1 lacks %s", name);        \
        return -1;                                                 \
    }                                                              \
    memcpy(&cu.field, &p, sizeof p)
    LOAD(init, "cuInit");
    LOAD(device_get, "cuDeviceGet");
    LOAD(primary_retain, "cuDevicePrimaryCtxRetain");
    LOAD(primary_release, "cuDevicePrimaryCtxRelease_v2");
    LOAD(push, "cuCtxPushCurrent_v2");
    LOAD(pop, "cuCtxPopCurrent_v2");
    LOAD(alloc, "cuMemAlloc_v2");
    LOAD(free, "cuMemFree_v2");
    LOAD(htod, "cuMemcpyHtoD_v2");
    LOAD(dtoh, "cuMemcpyDtoH_v2");
    LOAD(sync, "cuCtxSynchronize");
#undef LOAD
    int r = cu.init(0);
    if (r != 0) {
        snprintf(why, size, "cuInit failed with CUresult %d (%s)", r, r == 100 ? "no device" : "see cuda.h");
        return -1;
    }
    return 0;
}

/* fp32 <-> bf16 with round-to-nearest-even; inputs here are never NaN */
static uint16_t to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
static float from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Offline demonstration: what a machine with NVRTC and no GPU can do. */
static int no_gpu(const char *why) {
    printf("no GPU here: %s\n", why);
    char *src = NULL;
    effgen_status st = effgen_generate("attn_fwd/d128/bf16/causal/sm_90", NULL, &src);
    if (st != EFFGEN_OK) {
        printf("effgen_generate: %s: %s\n", effgen_status_name(st), effgen_last_error());
        return 1; /* generation needs nothing from the machine: this is a real failure */
    }
    printf("generated %zu bytes of CUDA C++ for attn_fwd/d128/bf16/causal/sm_90\n", strlen(src));
    effgen_free(src);

    effgen_options opt;
    effgen_options_init(&opt);
    opt.no_gpu = 1;
    opt.arch = "sm_90";
    effgen_ctx *ctx = NULL;
    st = effgen_open(&ctx, &opt);
    if (st != EFFGEN_OK) {
        printf("effgen_open: %s: %s\n", effgen_status_name(st), effgen_last_error());
        return 1;
    }
    size_t size = 0;
    void *cubin = NULL;
    effgen_kernel_info info;
    st = effgen_compile(ctx, "attn_fwd/d128/bf16/causal/sm_90", NULL, NULL, &cubin, &size, &info);
    if (st == EFFGEN_OK)
        printf("compiled %s %s: %zu-byte cubin, %d registers, %d bytes spilled, %d bytes shared memory, %.0f ms\n",
               info.spec, info.config, size, info.registers, info.spill_bytes, info.smem_bytes, info.compile_ms);
    else
        printf("effgen_compile: %s: %s\n", effgen_status_name(st), effgen_last_error());
    effgen_free(cubin);
    effgen_close(ctx);
    return 0;
}

/* Causal (bottom-right aligned) attention for one query row of one (batch, head), in double. */
static void reference_row(const uint16_t *q, const uint16_t *k, const uint16_t *v, int n, int d, int row, double *out) {
    double *p = malloc(sizeof *p * (size_t)n), mx = -INFINITY, sum = 0;
    double scale = 1.0 / sqrt((double)d);
    for (int j = 0; j <= row; j++) {
        double s = 0;
        for (int c = 0; c < d; c++) s += (double)from_bf16(q[(size_t)row * d + c]) * from_bf16(k[(size_t)j * d + c]);
        p[j] = s * scale;
        if (p[j] > mx) mx = p[j];
    }
    for (int j = 0; j <= row; j++) sum += p[j] = exp(p[j] - mx);
    for (int c = 0; c < d; c++) {
        double o = 0;
        for (int j = 0; j <= row; j++) o += p[j] * from_bf16(v[(size_t)j * d + c]);
        out[c] = o / sum;
    }
    free(p);
}

int main(void) {
    enum { B = 2, H = 4, N = 512, D = 128 };
    const size_t count = (size_t)B * H * N * D, bytes = count * 2;
    printf("effgen %s\n", effgen_version());

    char why[512];
    if (load_driver(why, sizeof why) != 0) return no_gpu(why);

    int dev = 0;
    void *pctx = NULL, *popped = NULL;
    if (cu.device_get(&dev, 0) || cu.primary_retain(&pctx, dev)) return no_gpu("device 0 cannot be used");

    int rc = 1;
    devptr dq = 0, dk = 0, dv = 0, dout = 0;
    uint16_t *hq = malloc(bytes), *hk = malloc(bytes), *hv = malloc(bytes), *ho = malloc(bytes);
    effgen_ctx *ctx = NULL;
    int pushed = 0;
    if (!hq || !hk || !hv || !ho || cu.push(pctx)) goto done;
    pushed = 1;
    if (cu.alloc(&dq, bytes) || cu.alloc(&dk, bytes) || cu.alloc(&dv, bytes) || cu.alloc(&dout, bytes)) {
        printf("cuMemAlloc failed\n");
        goto done;
    }
    srand(1);
    for (size_t i = 0; i < count; i++) {
        hq[i] = to_bf16(2.0f * rand() / (float)RAND_MAX - 1.0f);
        hk[i] = to_bf16(2.0f * rand() / (float)RAND_MAX - 1.0f);
        hv[i] = to_bf16(2.0f * rand() / (float)RAND_MAX - 1.0f);
    }
    if (cu.htod(dq, hq, bytes) || cu.htod(dk, hk, bytes) || cu.htod(dv, hv, bytes)) goto done;

    effgen_status st = effgen_open(&ctx, NULL); /* device 0, compiling for its own arch */
    if (st != EFFGEN_OK) {
        printf("effgen_open: %s: %s\n", effgen_status_name(st), effgen_last_error());
        goto done;
    }
    effgen_attn_args a;
    effgen_attn_args_init(&a); /* bf16, contiguous B,H,N,D strides, scale 1/sqrt(D) */
    a.batch = B, a.heads = H, a.seqlen_q = N, a.seqlen_k = N, a.head_dim = D;
    a.q = (const void *)(uintptr_t)dq, a.k = (const void *)(uintptr_t)dk, a.v = (const void *)(uintptr_t)dv;
    a.o = (void *)(uintptr_t)dout;
    a.causal = 1;
    char spec[128], config[64];
    if (effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config) == EFFGEN_OK)
        printf("kernel: %s %s\n", spec, config);
    st = effgen_attention_fwd(ctx, &a, NULL); /* NULL: the default stream */
    if (st != EFFGEN_OK) {
        printf("effgen_attention_fwd: %s: %s\n", effgen_status_name(st), effgen_last_error());
        goto done;
    }
    if (cu.sync() || cu.dtoh(ho, dout, bytes)) {
        printf("the kernel or the copy back failed\n");
        goto done;
    }

    size_t nan = 0;
    for (size_t i = 0; i < count; i++) nan += isnan(from_bf16(ho[i]));
    printf("O[0][0][0][0..3] = %.4f %.4f %.4f %.4f; NaN: %zu\n", from_bf16(ho[0]), from_bf16(ho[1]), from_bf16(ho[2]),
           from_bf16(ho[3]), nan);
    /* first, middle and last row of the last (batch, head): bf16 outputs agree to about 1e-2 */
    double ref[D], worst = 0;
    const size_t base = (size_t)(B * H - 1) * N * D;
    const int rows[] = {0, N / 2, N - 1};
    for (int r = 0; r < 3; r++) {
        reference_row(hq + base, hk + base, hv + base, N, D, rows[r], ref);
        for (int c = 0; c < D; c++) {
            double e = fabs(from_bf16(ho[base + (size_t)rows[r] * D + c]) - ref[c]);
            if (e > worst) worst = e;
        }
    }
    printf("largest difference from the CPU reference on 3 rows: %.2e\n", worst);
    rc = nan == 0 && worst < 2e-2 ? 0 : 1;
    printf("%s\n", rc ? "FAILED" : "ok");

done:
    effgen_close(ctx);
    if (dq) cu.free(dq);
    if (dk) cu.free(dk);
    if (dv) cu.free(dv);
    if (dout) cu.free(dout);
    if (pushed) cu.pop(&popped);
    cu.primary_release(dev);
    free(hq);
    free(hk);
    free(hv);
    free(ho);
    return rc;
}
