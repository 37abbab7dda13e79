/* test_compile_matrix.c - the CI guard that needs no GPU: generate and NVRTC-compile a spread of head dims
 * (multiples of 16, odd multiples of 8, above 128) x dtypes x masks x archs with the model's default config,
 * on a few threads, and report registers and spills of each. NVRTC missing is a failure unless
 * EFFGEN_ALLOW_NO_NVRTC is set (then 77, skipped). EFFGEN_MATRIX=full compiles every head dim and arch. The
 * Hopper warpgroup family (wg.* configs, sm_90a) joins at head dims 8, 32, 48, 56, 64, 72, 96, 128, 192 and
 * 256 and with its variants (window, softcap, ALiBi, GQA, varlen, block-sparse, bias, bit mask,
 * expressions): its cubins must be for SM 90, hold the register cap setmaxnreg relies on, spill nothing,
 * have no wgmma that ptxas reports it serialized, and (where cuobjdump is installed) contain HGMMA
 * instructions, none reading A from shared memory where Q is held in registers, with the softmax's
 * exponentials ahead of the wait for P V, and the warpgroup's vote before that wait, where the kernel
 * overlaps them.
 * One-stage kernels of the mma family must issue cp.async copies between their tensor instructions (K and V
 * load apart, each during the other's product). The mma family's defaults of the shipped set (head dims 64 to
 * 256 of effgen compile --all, no variant) must spill nothing. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "expr.h"
#include "rt.h"
#include "t.h"

static const int small_dims[] = {8, 24, 32, 64, 72, 80, 96, 128, 160, 192, 256};
static const int small_archs[] = {80, 86, 89, 90};
static const int full_archs[] = {80, 86, 87, 89, 90, 100, 103, 110, 120, 121};

/* The variants, alone and in the combinations users ask for, on sm_80 and sm_90: each at one
 * head dim per arch, the combinations (causal+win, causal+softcap, causal+gqa, all at once) at two; the
 * dims rotate so that every variant meets several. Then varlen, bias, mask and block-sparse alone and with
 * causal (varlen with GQA, block-sparse with softcap), one mask kernel on 48-key tiles (the path for tiles
 * that are not whole mask words), and everything at once. 44 kernels. */
static const char *const variant_masks[] = {
    "none+win",   "causal+win",  "none+softcap",  "causal+softcap", "none+alibi",
    "causal+alibi", "none+gqa",  "causal+gqa",    "causal_tl+win+softcap+alibi+gqa",
    "none+varlen", "causal+gqa+varlen", "none+bias", "causal+bias", "none+mask", "causal+mask",
    "none+bsparse", "causal+softcap+bsparse", "causal+win+softcap+alibi+gqa+varlen+bias+mask+bsparse",
};
#define MASK_VARIANT 13 /* compiled on sm_80 with 48-key tiles */

/* User expressions (docs/expressions.md), each on sm_80, sm_90 and sm_90a (the wg family there): softcap,
 * ALiBi and T5-bias score expressions, sliding-window and document mask expressions, both kinds with
 * causal + GQA, and a mask expression under varlen. 21 kernels. */
static const struct {
    const char *mask, *score, *maskx;
} expr_cases[] = {
    {"none", "30 * tanh(score / 30)", NULL},
    {"causal", "score - slopes[h] * (q - k); slopes: f32[1]", NULL},
    {"none", "score + t5[h, min(max(q - k, -8), 8) + 8]; t5: f32[2]", NULL},
    {"none", NULL, "q - k < 256 && q >= k"},
    {"none", NULL, "doc[q] == doc[k]; doc: i32[1]"},
    {"causal+gqa", "score + bias[b, h, q, k]; bias: bf16[4]", "doc[b, q] == doc[b, k]; doc: i32[2]"},
    {"none+varlen", NULL, "k < 16 || k <= q"},
};
#define N_EXPR_CASES ((int)(sizeof expr_cases / sizeof expr_cases[0]))
static eg_expr *expr_objs[2 * N_EXPR_CASES];
#define N_VARIANTS ((int)(sizeof variant_masks / sizeof variant_masks[0]))
static const int variant_dims[] = {64, 128, 96, 256, 80};

/* The wg family's kernels: spec text and config. */
static const char *const wg_jobs[][2] = {
    {"attn_fwd/d64/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2"},   {"attn_fwd/d64/fp16/causal/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2"},  {"attn_fwd/d128/fp16/none/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2"}, {"attn_fwd/d128/fp16/causal_tl/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/bf16/causal/sm_90a", "wg.bm192.bn128.c3.s2"},  {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm64.bn128.c1.s2"},
    {"attn_fwd/d256/bf16/causal/sm_90a", "wg.bm128.bn64.c2.s2"},
    {"attn_fwd/d96/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2"},  {"attn_fwd/d192/fp16/none/sm_90a", "wg.bm128.bn64.c2.s2"},
    {"attn_fwd/d72/bf16/none/sm_90a", "wg.bm192.bn64.c3.s2"},
    {"attn_fwd/d128/bf16/causal+win+alibi/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/fp16/none+softcap+gqa/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/bf16/causal+win+alibi+gqa/sm_90a", "wg.bm192.bn64.c3.s2"},
    {"attn_fwd/d128/bf16/causal+bsparse/sm_90a", "wg.bm128.bn64.c2.s2"},
    {"attn_fwd/d64/fp16/none+softcap+bsparse/sm_90a", "wg.bm128.bn128.c2.s3"},
    {"attn_fwd/d128/bf16/none+bias/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/fp16/causal+alibi+bias/sm_90a", "wg.bm192.bn64.c3.s2"},
    {"attn_fwd/d128/bf16/none+varlen/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/fp16/causal+win+gqa+varlen/sm_90a", "wg.bm192.bn64.c3.s2"},
    {"attn_fwd/d128/bf16/causal+mask/sm_90a", "wg.bm128.bn128.c2.s2"},
    {"attn_fwd/d64/fp16/none+win+softcap+mask+bsparse/sm_90a", "wg.bm192.bn64.c3.s2"},
    {"attn_fwd/d8/bf16/causal/sm_90a", "wg.bm192.bn128.c3.s3"},    {"attn_fwd/d32/fp16/none/sm_90a", "wg.bm192.bn128.c3.s3"},
    {"attn_fwd/d48/bf16/causal+win+gqa+varlen/sm_90a", "wg.bm128.bn128.c2.s3"},
    {"attn_fwd/d56/bf16/none+bias/sm_90a", "wg.bm128.bn64.c2.s2"},
};
#define N_WG ((int)(sizeof wg_jobs / sizeof wg_jobs[0]))

/* One-stage kernels of the mma family, which load K and V apart: V of a key tile during its S = Q K^T, K
 * of the next during its P V. In their SASS some cp.async copies (LDGSTS) sit between tensor instructions
 * (HMMA); in a kernel that loads K and V together at the top of the key loop none does. */
static const char *const one_stage_jobs[][2] = {
    {"attn_fwd/d256/bf16/causal/sm_90", "bm64.bn64.w4.s1"},
    {"attn_fwd/d128/fp16/none/sm_80", "bm128.bn64.w4.s1"},
    {"attn_fwd/d64/bf16/causal+win+softcap+alibi+gqa+varlen+bias+mask+bsparse/sm_86", "bm16.bn16.w1.s1"},
    {"attn_fwd/d80/fp16/causal+gqa/sm_89", "bm64.bn32.w4.s1"},
};
#define N_ONE_STAGE ((int)(sizeof one_stage_jobs / sizeof one_stage_jobs[0]))

typedef struct job {
    eg_spec spec;
    eg_config config;
    effgen_status status;
    char error[512];
    size_t cubin_size;
    int elf; /* the cubin starts with the ELF magic */
    int registers, spill_bytes, stack_bytes, smem_bytes, occupancy;
    int wgmma_serialized; /* ptxas's report: it serialized the kernel's wgmma */
    double ms;
    int sm;     /* the SM number the cubin's ELF header names */
    int hgmma;  /* HGMMA lines in cuobjdump's SASS; -1 when not looked at */
    int hgmma_ss; /* of those, with A from shared memory (S = Q K^T unless Q is held in registers) */
    int ex2_before_wait; /* MUFU.EX2 between the key loop's wait for S and its wait for P V (SASS) */
    int vote_before_wait; /* BAR.RED there: the warpgroup's vote that puts the wait for P V at one PC */
    int copies_between;  /* LDGSTS after the first HMMA and before the last (SASS of the mma family) */
    int default_config;  /* the model's default for a spec without variants */
} job;

/* cuobjdump from $EFFGEN_CUOBJDUMP, PATH, /usr/local/cuda/bin or the source tree's .tools/ (where
 * scripts/deps.sh unpacks NVIDIA's wheels); NULL when there is none. */
static const char *cuobjdump_path(void) {
    static char path[512];
    const char *env = getenv("EFFGEN_CUOBJDUMP");
    if (env && *env) return env;
    FILE *f = popen("command -v cuobjdump 2>/dev/null", "r");
    if (f) {
        int got = fgets(path, sizeof path, f) != NULL;
        pclose(f);
        if (got) {
            path[strcspn(path, "\n")] = 0;
            if (path[0]) return path;
        }
    }
    if (access("/usr/local/cuda/bin/cuobjdump", X_OK) == 0) return "/usr/local/cuda/bin/cuobjdump";
    if (access(EFFGEN_TOOLS_DIR "/cuobjdump", X_OK) == 0) return EFFGEN_TOOLS_DIR "/cuobjdump";
    return NULL;
}

static const char *sass_tool; /* cuobjdump_path(), looked up once before the workers start */

/* The SASS of a cubin through cuobjdump: its HGMMA lines, those whose A operand comes from shared memory
 * (a descriptor, `gdesc`, rather than registers), and the exponentials (MUFU.EX2) the key loop
 * issues between its wait for S (the first `wgmma.wait_group 1`, WARPGROUP.DEPBAR.LE gsb0, 0x1) and its
 * next wait for all groups (gsb0, 0x0): the softmax that overlaps the consumer's own P V, and the barrier
 * reductions (BAR.RED) there; and the cp.async copies (LDGSTS) between the first and the last HMMA.
 * *hgmma is -1 when cuobjdump cannot be run on it. */
static void inspect_sass(const char *tool, const void *cubin, size_t size, int *hgmma, int *hgmma_ss, int *ex2,
                         int *votes, int *copies) {
    *hgmma = -1;
    *hgmma_ss = 0;
    *ex2 = 0;
    *votes = 0;
    *copies = 0;
    char file[] = "/tmp/effgen_wg_XXXXXX";
    int fd = mkstemp(file);
    if (fd < 0) return;
    int ok = write(fd, cubin, size) == (ssize_t)size;
    close(fd);
    if (ok) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "'%s' -sass '%s' 2>/dev/null", tool, file);
        FILE *f = popen(cmd, "r");
        if (f) {
            char line[512];
            int n = 0, state = 0; /* 0: before the wait for S, 1: after it, 2: past the next full wait */
            int hmma_seen = 0, copies_since = 0;
            while (fgets(line, sizeof line, f)) {
                const char *hg = strstr(line, "HGMMA");
                if (hg) {
                    n++;
                    const char *a = strchr(hg, ',');
                    while (a && (*a == ',' || *a == ' ')) a++;
                    if (a && !strncmp(a, "gdesc", 5)) (*hgmma_ss)++;
                }
                if (strstr(line, "HMMA")) {
                    if (hmma_seen) *copies = copies_since;
                    hmma_seen = 1;
                } else if (hmma_seen && strstr(line, "LDGSTS")) {
                    copies_since++;
                }
                if (state == 0 && strstr(line, "WARPGROUP.DEPBAR.LE gsb0, 0x1")) state = 1;
                else if (state == 1 && strstr(line, "WARPGROUP.DEPBAR.LE gsb0, 0x0")) state = 2;
                else if (state == 1 && strstr(line, "MUFU.EX2")) (*ex2)++;
                else if (state == 1 && strstr(line, "BAR.RED")) (*votes)++;
            }
            *hgmma = pclose(f) == 0 ? n : -1;
        }
    }
    unlink(file);
}

/* A kernel of the default set effgen ships (effgen compile --all, the kernel database's pack): a head dim of
 * effgen_default_head_dims, no variant. Its mma-family default must not spill. */
static int shipped_default(const eg_spec *s) {
    int n = 0, d = 0;
    const int *dims = effgen_default_head_dims(&n);
    for (int i = 0; i < n; i++) d |= s->head_dim == dims[i];
    return d && !eg_spec_has_variant(s);
}

static job *jobs;
static int n_jobs;
static atomic_int next_job;

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        int i = atomic_fetch_add(&next_job, 1);
        if (i >= n_jobs) return NULL;
        job *j = &jobs[i];
        eg_rt_cubin cb;
        j->status = eg_rt_compile(&j->spec, &j->config, j->spec.arch, &cb);
        if (j->status != EFFGEN_OK) {
            /* the error text is per thread: copy it while it is ours */
            snprintf(j->error, sizeof j->error, "%s", effgen_last_error());
            continue;
        }
        j->cubin_size = cb.size;
        j->elf = cb.size >= 4 && memcmp(cb.data, "\x7f" "ELF", 4) == 0;
        /* e_flags of the 64-bit ELF header: the SM number in bits 8-15 */
        j->sm = -1;
        j->hgmma = -1;
        if (j->elf && cb.size >= 0x34) {
            const unsigned char *h = cb.data;
            j->sm = h[0x31];
        }
        if ((j->config.family == EG_FAMILY_WG || j->config.stages == 1) && sass_tool)
            inspect_sass(sass_tool, cb.data, cb.size, &j->hgmma, &j->hgmma_ss, &j->ex2_before_wait,
                         &j->vote_before_wait, &j->copies_between);
        j->registers = cb.registers;
        j->spill_bytes = cb.spill_bytes;
        j->stack_bytes = cb.stack_bytes;
        j->wgmma_serialized = cb.wgmma_serialized;
        j->ms = cb.compile_ms;
        eg_cost cost;
        eg_model_cost(&j->spec, &j->config, &cost);
        j->smem_bytes = cost.smem_bytes;
        j->occupancy = eg_model_occupancy(j->spec.arch, cost.threads, cb.registers, cost.smem_bytes);
        eg_rt_cubin_free(&cb);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int thread_count(void) {
    const char *env = getenv("EFFGEN_TEST_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    /* at least 2 so the concurrent path is always exercised; NVRTC is memory hungry, so cap it */
    if (n < 2) n = 2;
    if (n > 16) n = 16;
    if (!(env && *env) && n > 4) n = 4;
    return (int)n;
}

/* The public path gives the same report as the internal one it wraps. */
static void public_compile(const job *ref) {
    effgen_options opt;
    effgen_options_init(&opt);
    opt.no_gpu = 1;
    opt.arch = "sm_90";
    effgen_ctx *ctx = NULL;
    if (!CHECK_OK(effgen_open(&ctx, &opt))) return;
    char sk[EG_KEY_MAX], ck[EG_KEY_MAX];
    eg_spec_print(&ref->spec, sk, sizeof sk);
    eg_config_print(&ref->config, ck, sizeof ck);
    void *cubin = NULL;
    size_t size = 0;
    effgen_kernel_info info;
    memset(&info, 0, sizeof info);
    if (CHECK_OK(effgen_compile(ctx, sk, ck, NULL, &cubin, &size, &info))) {
        CHECK(cubin != NULL && size > 0);
        CHECK_INT(size, ref->cubin_size);
        CHECK_INT(info.registers, ref->registers);
        CHECK_INT(info.spill_bytes, ref->spill_bytes);
        CHECK_INT(info.wgmma_serialized, ref->wgmma_serialized);
        CHECK_INT(info.smem_bytes, ref->smem_bytes);
        CHECK_STR(info.spec, sk);
        CHECK_STR(info.config, ck);
    }
    effgen_free(cubin);
    /* report only: no cubin wanted */
    CHECK_OK(effgen_compile(ctx, sk, NULL, "sm_80", NULL, NULL, &info));
    CHECK_STR(info.arch, "sm_80");
    effgen_close(ctx);
}

int main(void) {
    /* Where a driver is installed, NVRTC 13 serves repeated compiles from the driver's compute cache
     * (~/.nv/ComputeCache) and ptxas never runs: no resource report, and compile times of a cache. The
     * matrix is about real compiles, so it opts out (test_compile_repeat covers the cached path). */
    setenv("CUDA_CACHE_DISABLE", "1", 0);
    int full = getenv("EFFGEN_MATRIX") && !strcmp(getenv("EFFGEN_MATRIX"), "full");
    const eg_rt_nvrtc *nv = NULL;
    effgen_status st = eg_rt_nvrtc_load(&nv);
    if (st != EFFGEN_OK) {
        fprintf(stderr, "NVRTC unavailable: %s\n", effgen_last_error());
        if (getenv("EFFGEN_ALLOW_NO_NVRTC")) {
            fprintf(stderr, "EFFGEN_ALLOW_NO_NVRTC is set: skipping\n");
            return T_SKIP_CODE;
        }
        fprintf(stderr, "the compile matrix needs NVRTC (set EFFGEN_ALLOW_NO_NVRTC=1 to skip on purpose)\n");
        CHECK_OK(st);
        return T_DONE();
    }
    int major = 0, minor = 0;
    CHECK_OK(effgen_nvrtc_version(&major, &minor));

    int n_dims = full ? 32 : (int)(sizeof small_dims / sizeof small_dims[0]);
    const int *archs = full ? full_archs : small_archs;
    int n_archs = full ? (int)(sizeof full_archs / sizeof full_archs[0])
                       : (int)(sizeof small_archs / sizeof small_archs[0]);
    jobs = calloc((size_t)(n_dims * 2 * 2 * n_archs + N_VARIANTS * 4 + N_EXPR_CASES * 3 + N_WG + 1 + N_ONE_STAGE),
                  sizeof *jobs);
    if (!CHECK(jobs != NULL)) return T_DONE();
    for (int a = 0; a < n_archs; a++)
        for (int di = 0; di < n_dims; di++)
            for (int t = 0; t < 2; t++)
                for (int m = 0; m < 2; m++) {
                    job *j = &jobs[n_jobs];
                    j->spec = (eg_spec){EG_OP_ATTN_FWD, full ? 8 * (di + 1) : small_dims[di],
                                        t ? EFFGEN_FP16 : EFFGEN_BF16, m ? EG_MASK_CAUSAL : EG_MASK_NONE,
                                        EFFGEN_CAUSAL_BOTTOM_RIGHT, archs[a], 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
                    if (CHECK_OK(eg_model_default(&j->spec, &j->config))) {
                        j->default_config = 1;
                        n_jobs++;
                    }
                }
    int n_variant_jobs = 0;
    for (int v = 0; v < N_VARIANTS; v++)
        for (int a = 0; a < 2; a++)
            for (int k = 0; k < (v == 1 || v == 3 || v == 7 || v == 8 ? 2 : 1); k++) {
                char text[EG_KEY_MAX];
                int d = variant_dims[(v + 2 * a + k) % 5];
                snprintf(text, sizeof text, "attn_fwd/d%d/%s/%s/sm_%d", d, (v + k) % 2 ? "fp16" : "bf16",
                         variant_masks[v], a ? 90 : 80);
                job *j = &jobs[n_jobs];
                if (CHECK_OK(eg_spec_parse(text, &j->spec)) && CHECK_OK(eg_model_default(&j->spec, &j->config))) {
                    if (v == MASK_VARIANT && !a) j->config = (eg_config){64, 48, 4, 2, EG_FAMILY_MMA, 0};
                    n_jobs++;
                    n_variant_jobs++;
                }
            }
    CHECK_INT(n_variant_jobs, 2 * (N_VARIANTS + 4));
    int n_expr_jobs = 0;
    for (int v = 0; v < N_EXPR_CASES; v++) {
        eg_expr **sx = &expr_objs[2 * v], **mx = &expr_objs[2 * v + 1];
        if (expr_cases[v].score && !CHECK_OK(eg_expr_parse(expr_cases[v].score, EG_EXPR_SCORE, NULL, 0, sx))) continue;
        if (expr_cases[v].maskx && !CHECK_OK(eg_expr_parse(expr_cases[v].maskx, EG_EXPR_MASK, NULL, 0, mx))) continue;
        for (int a = 0; a < 3; a++) {
            char text[EG_KEY_MAX];
            snprintf(text, sizeof text, "attn_fwd/d%d/%s/%s/%s", variant_dims[(v + a) % 5], (v + a) % 2 ? "fp16" : "bf16",
                     expr_cases[v].mask, (const char *[]){"sm_80", "sm_90", "sm_90a"}[a]);
            job *j = &jobs[n_jobs];
            if (CHECK_OK(eg_spec_parse_expr(text, *sx, *mx, &j->spec)) &&
                CHECK_OK(eg_model_default(&j->spec, &j->config))) {
                CHECK(eg_spec_has_expr(&j->spec));
                /* sm_90a: the wg family, but for a mask expression at D = 256 (no wg shape without spills) */
                const int wg = a == 2 && !(expr_cases[v].maskx && j->spec.head_dim == 256);
                CHECK_INT(j->config.family, wg ? EG_FAMILY_WG : EG_FAMILY_MMA);
                n_jobs++;
                n_expr_jobs++;
            }
        }
    }
    CHECK_INT(n_expr_jobs, 3 * N_EXPR_CASES);
    /* the wgmma family, and the mma family built for sm_90a (the model's choice) */
    for (int w = 0; w <= N_WG; w++) {
        job *j = &jobs[n_jobs];
        const char *sk = w < N_WG ? wg_jobs[w][0] : "attn_fwd/d128/bf16/causal/sm_90a";
        if (!CHECK_OK(eg_spec_parse(sk, &j->spec))) continue;
        if (w < N_WG ? CHECK_OK(eg_config_parse(wg_jobs[w][1], &j->config)) &&
                           CHECK_OK(eg_config_validate(&j->config, &j->spec))
                     : CHECK_OK(eg_model_default(&j->spec, &j->config)))
            n_jobs++;
    }
    for (int o = 0; o < N_ONE_STAGE; o++) {
        job *j = &jobs[n_jobs];
        if (CHECK_OK(eg_spec_parse(one_stage_jobs[o][0], &j->spec)) &&
            CHECK_OK(eg_config_parse(one_stage_jobs[o][1], &j->config)) &&
            CHECK_OK(eg_config_validate(&j->config, &j->spec)))
            n_jobs++;
    }

    int threads = thread_count();
    fprintf(stderr, "compiling %d kernels with NVRTC %d.%d on %d threads\n", n_jobs, major, minor, threads);
    sass_tool = cuobjdump_path();
    double t0 = now_s();
    pthread_t tids[16];
    int started = 0;
    for (int i = 0; i < threads; i++)
        if (CHECK(pthread_create(&tids[i], NULL, worker, NULL) == 0)) started++;
    if (started == 0) worker(NULL);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    double wall = now_s() - t0;

    printf("%-60s %-18s %5s %6s %6s %7s %4s %8s %9s\n", "spec", "config", "regs", "spill", "stack", "smem", "occ",
           "cubin", "ms");
    int failed = 0, spilled = 0, max_regs = 0;
    double sum_ms = 0, max_ms = 0;
    for (int i = 0; i < n_jobs; i++) {
        job *j = &jobs[i];
        char sk[EG_KEY_MAX], ck[EG_KEY_MAX];
        eg_spec_print(&j->spec, sk, sizeof sk);
        eg_config_print(&j->config, ck, sizeof ck);
        if (!CHECK_INT(j->status, EFFGEN_OK)) {
            fprintf(stderr, "  %s %s: %s: %.400s\n", sk, ck, effgen_status_name(j->status), j->error);
            failed++;
            continue;
        }
        CHECK(j->cubin_size > 0);
        CHECK(j->elf);
        CHECK(j->registers > 0 && j->registers <= 255);
        CHECK(j->occupancy >= 1);
        if (j->spill_bytes) spilled++;
        if (eg_arch_base(j->spec.arch) == 90) CHECK_INT(j->sm, 90);
        if (j->config.family == EG_FAMILY_MMA && j->default_config && shipped_default(&j->spec) &&
            !CHECK_INT(j->spill_bytes, 0))
            fprintf(stderr, "  %s %s: a default kernel of the shipped set spills\n", sk, ck);
        if (j->config.family == EG_FAMILY_WG) {
            /* setmaxnreg moves registers within the CTA's allocation: the kernel must hold the full cap */
            int prod, cons;
            eg_model_wg_regs(eg_config_consumers(&j->config), &prod, &cons);
            if (cons) CHECK_INT(j->registers, 65536 / (32 * j->config.warps) / 8 * 8);
            CHECK_INT(j->spill_bytes, 0);
            CHECK_INT(j->stack_bytes, 0);
            /* serialized wgmma pass every numeric test and run at a fraction of the speed: ptxas says so */
            if (!CHECK_INT(j->wgmma_serialized, 0))
                fprintf(stderr, "  %s %s: ptxas serialized the wgmma\n", sk, ck);
            if (j->hgmma >= 0) {
                CHECK(j->hgmma > 0);
                /* ptxas moves a wgmma wait to the start of its basic block: where the kernel overlaps the
                 * softmax with its own P V, the tile's BN / 2 exponentials per thread must come before the
                 * wait for that product, not after it */
                int overlap = eg_model_wg_softmax_overlap(&j->spec, &j->config);
                if (overlap && !CHECK(j->ex2_before_wait >= j->config.block_n / 2))
                    fprintf(stderr, "  %s %s: %d exponentials before the wait for P V, want %d\n", sk, ck,
                            j->ex2_before_wait, j->config.block_n / 2);
                /* wgmma.wait_group is warpgroup-aligned: the branch in front of that wait is on the vote of
                 * the whole warpgroup (bar.red.or.pred), not on one warp's verdict */
                if (overlap && !CHECK(j->vote_before_wait >= 1))
                    fprintf(stderr, "  %s %s: no warpgroup vote before the wait for P V\n", sk, ck);
                /* with Q in registers no HGMMA reads A from shared memory; without, S = Q K^T does */
                int qreg = eg_model_wg_qreg(&j->spec, &j->config);
                if (!CHECK(qreg ? j->hgmma_ss == 0 : j->hgmma_ss > 0))
                    fprintf(stderr, "  %s %s: %d HGMMA with A from shared memory (Q in registers: %d)\n", sk, ck,
                            j->hgmma_ss, qreg);
                printf("  %s %s: %d HGMMA in the SASS (%d with A from shared memory); %d exponentials before the "
                       "wait for P V%s%s\n",
                       sk, ck, j->hgmma, j->hgmma_ss, j->ex2_before_wait, overlap ? " (softmax overlap)" : "",
                       qreg ? " (Q in registers)" : "");
            } else {
                printf("  %s %s: SASS not inspected (%s%s; set EFFGEN_CUOBJDUMP)\n", sk, ck,
                       sass_tool ? "cuobjdump failed on the cubin: " : "cuobjdump not found",
                       sass_tool ? sass_tool : "");
            }
        }
        if (j->config.family == EG_FAMILY_MMA && j->config.stages == 1) {
            if (j->hgmma >= 0) {
                if (!CHECK(j->copies_between > 0))
                    fprintf(stderr, "  %s %s: no K or V copy between the tensor instructions\n", sk, ck);
                printf("  %s %s: %d cp.async copies between the first and the last HMMA\n", sk, ck, j->copies_between);
            } else {
                printf("  %s %s: SASS not inspected (%s%s; set EFFGEN_CUOBJDUMP)\n", sk, ck,
                       sass_tool ? "cuobjdump failed on the cubin: " : "cuobjdump not found",
                       sass_tool ? sass_tool : "");
            }
        }
        if (j->registers > max_regs) max_regs = j->registers;
        sum_ms += j->ms;
        if (j->ms > max_ms) max_ms = j->ms;
        printf("%-60s %-18s %5d %6d %6d %7d %4d %8zu %9.0f\n", sk, ck, j->registers, j->spill_bytes, j->stack_bytes,
               j->smem_bytes, j->occupancy, j->cubin_size, j->ms);
    }
    printf("summary: %d kernels, %d failed, %d with spills, max %d registers; wall %.1f s on %d threads, "
           "compile time sum %.1f s, slowest %.1f s\n",
           n_jobs, failed, spilled, max_regs, wall, threads, sum_ms / 1e3, max_ms / 1e3);

    /* a spec with the internal results at hand: the public API must agree with them */
    for (int i = 0; i < n_jobs; i++)
        if (jobs[i].status == EFFGEN_OK && jobs[i].spec.arch == 90 && jobs[i].spec.head_dim == 128) {
            public_compile(&jobs[i]);
            break;
        }
    free(jobs);
    for (int i = 0; i < 2 * N_EXPR_CASES; i++) eg_expr_free(expr_objs[i]);
    return T_DONE();
}
