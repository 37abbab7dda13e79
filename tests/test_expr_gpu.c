/* test_expr_gpu.c - emitted expression functions run on the GPU and agree with the CPU evaluator at
 * every (b, h, q, k): every operator, function and tensor element type, the int corner cases (wrap,
 * division by zero) and lazy tensor reads. Scores within fp32 tolerance, masks exactly. The emitted tile
 * classification of every mask expression (eg_expr_emit_range) agrees with eg_expr_mask_range on random
 * tiles. Exit 77 without a GPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "rt.h"
#include "t.h"

enum { NB = 2, NH = 3, NQ = 24, NK = 20, NDOC = 32, TOTAL = NB * NH * NQ * NK };

static const eg_expr_decl decls[] = {
    {"bias", EG_EXPR_F32, 3}, {"slopes", EG_EXPR_F32, 1}, {"doc", EG_EXPR_I32, 1}, {"t5", EG_EXPR_F32, 2},
    {"hb", EG_EXPR_F16, 2},   {"bb", EG_EXPR_BF16, 4},    {"w", EG_EXPR_U8, 1},    {"keep", EG_EXPR_BOOL, 2},
};
#define N_DECLS 8
static const int64_t sizes[N_DECLS][4] = {{NH, NQ, NK}, {NH}, {NDOC}, {NH, 17}, {NH, NK}, {NB, NH, NQ, NK}, {NK}, {NB, NQ}};
static const size_t elem[N_DECLS] = {4, 4, 4, 4, 2, 2, 1, 1};

static const struct {
    eg_expr_kind kind;
    const char *text;
} cases[] = {
    {EG_EXPR_SCORE, "score + t5[h, min(max(q - k, -8), 8) + 8]"},
    {EG_EXPR_SCORE, "score - slopes[h] * (q - k) + bias[h, q, k]"},
    {EG_EXPR_SCORE, "30 * tanh(score / 30)"},
    {EG_EXPR_SCORE, "score + hb[h, k] + bb[b, h, q, k] + w[k] * 2 + (keep[b, q] ? 1.0 : -1e30) + -score + -q"},
    {EG_EXPR_SCORE, "abs(score) + abs(q - k) + min(score, 1) + max(q, 2.5) + exp(score) + exp2(q / 4) + "
                    "log(1 + score * score) + log2(nq) + sqrt(nk + k) + floor(score) + ceil(score)"},
    {EG_EXPR_SCORE, "score + q % 7 - q / 3 + (k - 10) / (q - 12) + (k - 10) % (q - 12) + q * 65536 * 65536"},
    {EG_EXPR_SCORE, "where(q >= k, score, score - 1e4) + (q == 1 ? 2147483647 + q : -2147483647 - k) / -1"},
    {EG_EXPR_MASK, "q - k < 8 && q >= k"},
    {EG_EXPR_MASK, "doc[q] == doc[k] || !(q != k) && k <= nq && q > -1 && nk >= 0"},
    {EG_EXPR_MASK, "k < 4 ? doc[k + 28] == 4 : keep[b, q]"},
    {EG_EXPR_MASK, "q < 2 || keep[b, q - 2] == true && w[k] % 2 == 0"},
    {EG_EXPR_MASK, "(q < k) == (h < 2) != (b == 1)"},
    {EG_EXPR_MASK, "(q - 40) / 16 == (k - 40) / 16 || (q + k) % (h + 5) == 1 && (k - 50) % 9 > -3"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))
/* tiles for the classification: b, h, qlo, qhi, klo, khi */
#define N_TILES 512

static unsigned rng = 2463534242u;
static double rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return (double)(rng >> 8) / 16777216.0 - 0.5;
}

static float score_at(int b, int h, int q, int k) {
    float x = (float)(q - k) * 0.37f, y = 0.11f * (float)h, z = 0.05f * (float)b;
    float xy = x + y;
    return xy - z;
}

int main(void) {
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu = NULL;
    effgen_status st = effgen_open(&ctx, NULL);
    if (!st) st = eg_rt_device(ctx, &cu);
    if (st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_NO_DEVICE) {
        printf("skipped: %s\n", effgen_last_error());
        effgen_close(ctx);
        return T_SKIP_CODE;
    }
    if (!CHECK_OK(st)) return T_DONE();

    /* host data: values exact in their element type, so the GPU and the reference read the same */
    void *hostd[N_DECLS];
    eg_expr_host_tensor ht[N_DECLS];
    for (int d = 0; d < N_DECLS; d++) {
        int64_t n = 1;
        memset(&ht[d], 0, sizeof ht[d]);
        for (int i = decls[d].rank - 1; i >= 0; i--) {
            ht[d].size[i] = sizes[d][i];
            ht[d].stride[i] = n;
            n *= sizes[d][i];
        }
        unsigned char *p = malloc((size_t)n * elem[d]);
        if (!CHECK(p != NULL)) return T_DONE();
        for (int64_t i = 0; i < n; i++) {
            double v = rnd();
            if (decls[d].dtype == EG_EXPR_F32) {
                float f = (float)v;
                memcpy(p + i * 4, &f, 4);
            } else if (decls[d].dtype == EG_EXPR_F16) { /* multiples of 2^-10 in [-0.5, 0.5): sign, exp, mantissa */
                int m = (int)floor(v * 1024), a = abs(m);
                unsigned short bits = 0;
                if (a) {
                    int e = 0;
                    while ((a >> e) > 1) e++;
                    bits = (unsigned short)(((e - 10 + 15) << 10) | ((a << (10 - e)) & 1023));
                }
                if (m < 0) bits |= 0x8000;
                memcpy(p + i * 2, &bits, 2);
            } else if (decls[d].dtype == EG_EXPR_BF16) {
                float f = (float)v;
                uint32_t u;
                memcpy(&u, &f, 4);
                unsigned short bits = (unsigned short)(u >> 16);
                memcpy(p + i * 2, &bits, 2);
            } else if (decls[d].dtype == EG_EXPR_I32) {
                int x = (int)(i / 7);
                memcpy(p + i * 4, &x, 4);
            } else if (decls[d].dtype == EG_EXPR_U8) {
                p[i] = (unsigned char)(i * 13 % 256);
            } else {
                p[i] = (unsigned char)(i % 3 ? 0 : 1 + i % 5);
            }
        }
        hostd[d] = p;
        ht[d].data = p;
    }

    /* one program: the prelude, every case as fn<i>, and a kernel writing each one's value */
    eg_expr *ex[N_CASES] = {0};
    eg_emit em;
    eg_emit_init(&em);
    eg_emit_line(&em, "#include \"eg_prelude.cuh\"");
    eg_expr_emit_prelude(&em);
    int parsed = 1;
    for (int i = 0; i < N_CASES; i++) {
        char name[16];
        snprintf(name, sizeof name, "fn%d", i);
        if (CHECK_OK(eg_expr_parse(cases[i].text, cases[i].kind, decls, N_DECLS, &ex[i])))
            CHECK_OK(eg_expr_emit(ex[i], &em, name, 0));
        else
            parsed = 0;
    }
    eg_emit_line(&em, "#include \"eg_range.cuh\"");
    for (int i = 0; i < N_CASES; i++) {
        char name[16];
        snprintf(name, sizeof name, "rng%d", i);
        if (cases[i].kind == EG_EXPR_MASK && ex[i]) CHECK_OK(eg_expr_emit_range(ex[i], &em, name));
    }
    eg_emit_open(&em, "extern \"C\" __global__ void range_gpu(const int *tiles, int *out)");
    eg_emit_line(&em, "const int i = blockIdx.x * blockDim.x + threadIdx.x;");
    eg_emit_line(&em, "if (i >= %d) return;", N_TILES);
    eg_emit_line(&em, "const int *t = tiles + 6 * i;");
    for (int i = 0; i < N_CASES; i++)
        if (cases[i].kind == EG_EXPR_MASK)
            eg_emit_line(&em, "out[%d * %d + i] = eg::rng%d(t[0], t[1], t[2], t[3], t[4], t[5], %d, %d);", i, N_TILES, i,
                         NQ, NK);
    eg_emit_close(&em, "");
    eg_emit_open(&em, "extern \"C\" __global__ void expr_gpu(const eg::ExprTensors *tables, float *out)");
    eg_emit_line(&em, "const int q = blockIdx.x, b = blockIdx.y, h = blockIdx.z, k = threadIdx.x;");
    /* the score of score_at(), rounded the same way (no contraction into fma) */
    eg_emit_line(&em, "const float s = __fsub_rn(__fadd_rn(__fmul_rn((float)(q - k), 0.37f), __fmul_rn(0.11f, (float)h)), "
                      "__fmul_rn(0.05f, (float)b));");
    eg_emit_line(&em, "const long long at = (((long long)b * %d + h) * %d + q) * %d + k;", NH, NQ, NK);
    for (int i = 0; i < N_CASES; i++) {
        if (cases[i].kind == EG_EXPR_SCORE)
            eg_emit_line(&em, "out[%d * %d + at] = eg::fn%d(s, b, h, q, k, %d, %d, tables[%d]);", i, TOTAL, i, NQ, NK, i);
        else
            eg_emit_line(&em, "out[%d * %d + at] = eg::fn%d(b, h, q, k, %d, %d, tables[%d]) ? 1.f : 0.f;", i, TOTAL, i,
                         NQ, NK, i);
    }
    eg_emit_close(&em, "");
    char *src = NULL;
    if (!CHECK_OK(eg_emit_finish(&em, &src)) || !parsed) goto out;

    const eg_rt_nvrtc *nv = NULL;
    if (!CHECK_OK(eg_rt_nvrtc_load(&nv))) goto out;
    void *prog = NULL, *cubin = NULL;
    const char *hdr[64], *inc[64];
    if (!CHECK(eg_template_count <= 64)) goto out;
    for (int i = 0; i < eg_template_count; i++) hdr[i] = eg_templates[i].text, inc[i] = eg_templates[i].name;
    char an[16], arch[48];
    eg_arch_print(ctx->arch, an, sizeof an); /* sm_90a on a 9.0 device */
    snprintf(arch, sizeof arch, "--gpu-architecture=%s", an);
    const char *opts[] = {arch, "-std=c++17"};
    if (!CHECK_INT(nv->nvrtcCreateProgram(&prog, src, "expr_gpu.cu", eg_template_count, hdr, inc), 0)) goto out;
    int cr = nv->nvrtcCompileProgram(prog, 2, opts);
    size_t size = 0;
    if (!CHECK_INT(cr, 0) || !CHECK_INT(nv->nvrtcGetCUBINSize(prog, &size), 0) || !(cubin = malloc(size)) ||
        !CHECK_INT(nv->nvrtcGetCUBIN(prog, cubin), 0)) {
        size_t ls = 0;
        nv->nvrtcGetProgramLogSize(prog, &ls);
        char *log = malloc(ls + 1);
        if (log && !nv->nvrtcGetProgramLog(prog, log)) fprintf(stderr, "%s\n", log);
        free(log);
        nv->nvrtcDestroyProgram(&prog);
        free(cubin);
        goto out;
    }
    nv->nvrtcDestroyProgram(&prog);

    if (!CHECK_OK(eg_rt_push(ctx))) goto out;
    CUmodule mod = NULL;
    CUfunction fn = NULL;
    CUdeviceptr dd[N_DECLS] = {0}, dtab = 0, dout = 0;
    float *got = malloc(sizeof(float) * TOTAL * N_CASES);
    eg_expr_tensors tabs[N_CASES];
    memset(tabs, 0, sizeof tabs);
    if (!CHECK(got != NULL) || !CHECK_OK(eg_rt_cu(cu->cuModuleLoadData(&mod, cubin), "cuModuleLoadData")) ||
        !CHECK_OK(eg_rt_cu(cu->cuModuleGetFunction(&fn, mod, "expr_gpu"), "cuModuleGetFunction")))
        goto gpu_done;
    for (int d = 0; d < N_DECLS; d++) {
        size_t bytes = elem[d];
        for (int i = 0; i < decls[d].rank; i++) bytes *= (size_t)sizes[d][i];
        if (!CHECK_OK(eg_rt_cu(cu->cuMemAlloc(&dd[d], bytes), "cuMemAlloc")) ||
            !CHECK_OK(eg_rt_cu(cu->cuMemcpyHtoD(dd[d], hostd[d], bytes), "cuMemcpyHtoD")))
            goto gpu_done;
    }
    /* each case's table: its tensors in slot order, found by name */
    for (int i = 0; i < N_CASES; i++)
        for (int s = 0; s < eg_expr_tensor_count(ex[i]); s++) {
            eg_expr_decl x;
            eg_expr_tensor(ex[i], s, &x);
            for (int d = 0; d < N_DECLS; d++)
                if (!strcmp(decls[d].name, x.name)) {
                    tabs[i].ptr[s] = (const void *)(uintptr_t)dd[d];
                    memcpy(tabs[i].stride[s], ht[d].stride, sizeof ht[d].stride);
                }
        }
    if (!CHECK_OK(eg_rt_cu(cu->cuMemAlloc(&dtab, sizeof tabs), "cuMemAlloc")) ||
        !CHECK_OK(eg_rt_cu(cu->cuMemcpyHtoD(dtab, tabs, sizeof tabs), "cuMemcpyHtoD")) ||
        !CHECK_OK(eg_rt_cu(cu->cuMemAlloc(&dout, sizeof(float) * TOTAL * N_CASES), "cuMemAlloc")) ||
        !CHECK_OK(eg_rt_cu(cu->cuMemsetD8(dout, 0xff, sizeof(float) * TOTAL * N_CASES), "cuMemsetD8")))
        goto gpu_done;
    void *args[] = {&dtab, &dout};
    if (!CHECK_OK(eg_rt_cu(cu->cuLaunchKernel(fn, NQ, NB, NH, NK, 1, 1, 0, NULL, args, NULL), "cuLaunchKernel")) ||
        !CHECK_OK(eg_rt_cu(cu->cuCtxSynchronize(), "cuCtxSynchronize")) ||
        !CHECK_OK(eg_rt_cu(cu->cuMemcpyDtoH(got, dout, sizeof(float) * TOTAL * N_CASES), "cuMemcpyDtoH")))
        goto gpu_done;

    for (int i = 0; i < N_CASES; i++) {
        eg_expr_host_tensor t[EG_EXPR_TENSORS_MAX];
        for (int s = 0; s < eg_expr_tensor_count(ex[i]); s++) {
            eg_expr_decl x;
            eg_expr_tensor(ex[i], s, &x);
            for (int d = 0; d < N_DECLS; d++)
                if (!strcmp(decls[d].name, x.name)) t[s] = ht[d];
        }
        int bad = 0;
        double worst = 0;
        for (int b = 0; b < NB; b++)
            for (int h = 0; h < NH; h++)
                for (int q = 0; q < NQ; q++)
                    for (int k = 0; k < NK; k++) {
                        float g = got[(size_t)i * TOTAL + (((size_t)b * NH + h) * NQ + q) * NK + k];
                        double want = 0;
                        int m = 0;
                        effgen_status es;
                        if (cases[i].kind == EG_EXPR_SCORE)
                            es = eg_expr_eval_score(ex[i], score_at(b, h, q, k), b, h, q, k, NQ, NK, t,
                                                    eg_expr_tensor_count(ex[i]), &want);
                        else
                            es = eg_expr_eval_mask(ex[i], b, h, q, k, NQ, NK, t, eg_expr_tensor_count(ex[i]), &m),
                            want = m;
                        double err = fabs((double)g - want) / (1 + fabs(want));
                        int ok = es == EFFGEN_OK && (cases[i].kind == EG_EXPR_MASK ? g == (float)want : err <= 1e-5);
                        if (err > worst && es == EFFGEN_OK) worst = err;
                        if (!ok && bad++ < 3)
                            fprintf(stderr, "  %s at b=%d h=%d q=%d k=%d: GPU %.9g, reference %.9g (%s)\n",
                                    cases[i].text, b, h, q, k, (double)g, want, es ? effgen_last_error() : "");
                    }
        CHECK_INT(bad, 0);
        printf("%-100.100s  worst relative error %.2e\n", cases[i].text, worst);
    }

    /* the tile classification: random tiles of every size up to the whole problem */
    {
        CUfunction rfn = NULL;
        CUdeviceptr dt = 0, dr = 0;
        int tiles[6 * N_TILES], *rgot = malloc(sizeof(int) * N_TILES * N_CASES);
        for (int i = 0; i < N_TILES; i++) {
            int *t = tiles + 6 * i;
            const int qs = 1 + (int)((rnd() + 0.5) * NQ) % NQ, ks = 1 + (int)((rnd() + 0.5) * NK) % NK;
            t[0] = i % NB, t[1] = i % NH;
            t[2] = (int)((rnd() + 0.5) * (NQ - qs + 1)) % (NQ - qs + 1), t[3] = t[2] + qs - 1;
            t[4] = (int)((rnd() + 0.5) * (NK - ks + 1)) % (NK - ks + 1), t[5] = t[4] + ks - 1;
        }
        void *rargs[] = {&dt, &dr};
        if (CHECK(rgot != NULL) &&
            CHECK_OK(eg_rt_cu(cu->cuModuleGetFunction(&rfn, mod, "range_gpu"), "cuModuleGetFunction")) &&
            CHECK_OK(eg_rt_cu(cu->cuMemAlloc(&dt, sizeof tiles), "cuMemAlloc")) &&
            CHECK_OK(eg_rt_cu(cu->cuMemcpyHtoD(dt, tiles, sizeof tiles), "cuMemcpyHtoD")) &&
            CHECK_OK(eg_rt_cu(cu->cuMemAlloc(&dr, sizeof(int) * N_TILES * N_CASES), "cuMemAlloc")) &&
            CHECK_OK(eg_rt_cu(cu->cuMemsetD8(dr, 0xff, sizeof(int) * N_TILES * N_CASES), "cuMemsetD8")) &&
            CHECK_OK(eg_rt_cu(cu->cuLaunchKernel(rfn, (N_TILES + 127) / 128, 1, 1, 128, 1, 1, 0, NULL, rargs, NULL),
                              "cuLaunchKernel")) &&
            CHECK_OK(eg_rt_cu(cu->cuCtxSynchronize(), "cuCtxSynchronize")) &&
            CHECK_OK(eg_rt_cu(cu->cuMemcpyDtoH(rgot, dr, sizeof(int) * N_TILES * N_CASES), "cuMemcpyDtoH"))) {
            for (int i = 0; i < N_CASES; i++) {
                if (cases[i].kind != EG_EXPR_MASK) continue;
                int bad = 0, seen[3] = {0, 0, 0};
                for (int j = 0; j < N_TILES; j++) {
                    const int *t = tiles + 6 * j;
                    int want = -1;
                    CHECK_OK(eg_expr_mask_range(ex[i], t[0], t[1], t[2], t[3], t[4], t[5], NQ, NK, &want));
                    if (want >= 0 && want <= 2) seen[want]++;
                    if (rgot[i * N_TILES + j] != want && bad++ < 3)
                        fprintf(stderr, "  %s: tile b=%d h=%d q %d..%d k %d..%d: GPU %d, CPU %d\n", cases[i].text, t[0],
                                t[1], t[2], t[3], t[4], t[5], rgot[i * N_TILES + j], want);
                }
                CHECK_INT(bad, 0);
                printf("%-100.100s  tiles hidden/visible/either %d/%d/%d\n", cases[i].text, seen[0], seen[1], seen[2]);
            }
        }
        if (dt) cu->cuMemFree(dt);
        if (dr) cu->cuMemFree(dr);
        free(rgot);
    }

gpu_done:
    if (mod) cu->cuModuleUnload(mod);
    for (int d = 0; d < N_DECLS; d++)
        if (dd[d]) cu->cuMemFree(dd[d]);
    if (dtab) cu->cuMemFree(dtab);
    if (dout) cu->cuMemFree(dout);
    eg_rt_pop(ctx);
    free(got);
    free(cubin);
out:
    free(src);
    for (int i = 0; i < N_CASES; i++) eg_expr_free(ex[i]);
    for (int d = 0; d < N_DECLS; d++) free(hostd[d]);
    effgen_close(ctx);
    return T_DONE();
}
