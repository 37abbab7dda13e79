/* test_cubin_info.c - the cubin reader that stands in for the ptxas report when a compile is served from
 * the driver's compute cache: on fresh compiles it must agree with the report (registers and stack frame),
 * and on truncated, corrupted or garbage input it must answer -1 or the truth, never crash or over-read
 * (run it under the sanitizers). The report reader finds ptxas's note on serialized wgmma in a real
 * report of a kernel that has them, and not in one of a kernel that does not. Without NVRTC: 77 if
 * EFFGEN_ALLOW_NO_NVRTC is set, else a failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "t.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Parse a copy of exactly n bytes, so that any read past the end lands outside the allocation. */
static int parse_copy(const void *data, size_t n, int *regs, int *stack) {
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy) return -1;
    if (n) memcpy(copy, data, n);
    int r = eg_rt_cubin_resources(copy, n, EG_KERNEL_NAME, regs, stack);
    free(copy);
    return r;
}

/* Garbage that is not an ELF, and an ELF header followed by garbage. */
static void garbage(void) {
    int regs = 7, stack = 7;
    CHECK_INT(eg_rt_cubin_resources(NULL, 0, EG_KERNEL_NAME, &regs, &stack), -1);
    CHECK_INT(regs, -1);
    CHECK_INT(stack, -1);
    unsigned char buf[512];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(next_random() % sizeof buf);
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)next_random();
        if (round % 2 && n >= 6) memcpy(buf, "\177ELF\002\001", 6);
        regs = 7;
        int r = parse_copy(buf, n, &regs, &stack);
        CHECK(r == 0 ? regs >= 0 : regs == -1);
    }
}

/* A real cubin, cut short at many lengths and corrupted at random in its headers, string and symbol
 * tables and attribute sections (which these cubins keep in their first 4 KB). */
static void damaged(const eg_rt_cubin *cb, int want_regs) {
    int regs, stack;
    size_t size = cb->size;
    int bad = 0;
    for (size_t n = 0; n < size; n += n < 4096 ? 1 : 1 + (size_t)(next_random() % 97)) {
        parse_copy(cb->data, n, &regs, &stack);
        if (regs != -1 && regs != want_regs) bad++;
    }
    CHECK_INT(bad, 0); /* a cut cubin gives the truth or nothing */

    const unsigned char *p = cb->data;
    uint64_t shoff = 0;
    for (int i = 7; i >= 0; i--) shoff = shoff << 8 | p[0x28 + i];
    unsigned char *copy = malloc(size);
    if (!CHECK(copy != NULL)) return;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, cb->data, size);
        int flips = 1 + (int)(next_random() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at;
            uint64_t where = next_random() % 3;
            if (where == 0 && shoff < size)
                at = (size_t)(shoff + next_random() % (size - shoff));
            else
                at = (size_t)(next_random() % (size < 4096 ? size : 4096));
            uint64_t how = next_random() % 3;
            copy[at] = how == 0 ? 0xff : how == 1 ? 0 : (unsigned char)next_random();
        }
        regs = 7;
        int r = parse_copy(copy, size, &regs, &stack);
        CHECK(r == 0 ? regs >= 0 : regs == -1);
    }
    free(copy);
}

/* A kernel whose one wgmma sits on a path that depends on the thread (divergent) or on none (COND 1):
 * ptxas serializes the first and says so in its report (C7515 with CUDA 13.0). */
static const char *const wgmma_src =
    "extern \"C\" __global__ void " EG_KERNEL_NAME "(float *out, unsigned long long da, unsigned long long db, int n) {\n"
    "    float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;\n"
    "    for (int i = 0; i < n; ++i) {\n"
    "        if (COND) {\n"
    "            asm volatile(\"wgmma.fence.sync.aligned;\\n\");\n"
    "            asm volatile(\"{\\n.reg .pred p;\\nsetp.ne.b32 p, %6, 0;\\n\"\n"
    "                         \"wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%0, %1, %2, %3}, %4, %5, p, 1, 1, 0, 0;\\n}\\n\"\n"
    "                         : \"+f\"(d0), \"+f\"(d1), \"+f\"(d2), \"+f\"(d3) : \"l\"(da), \"l\"(db), \"r\"(i));\n"
    "            asm volatile(\"wgmma.commit_group.sync.aligned;\\n\");\n"
    "        }\n"
    "    }\n"
    "    asm volatile(\"wgmma.wait_group.sync.aligned 0;\\n\" ::: \"memory\");\n"
    "    out[threadIdx.x] = d0 + d1 + d2 + d3;\n"
    "}\n";

/* Compile wgmma_src with COND for sm_90a and read the report; the log's figures, or -2 when NVRTC failed. */
static void compile_wgmma(int major, const char *cond, int *regs, int *spill, int *serialized) {
    *regs = *spill = *serialized = -2;
    const eg_rt_nvrtc *nv = NULL;
    if (!CHECK_OK(eg_rt_nvrtc_load(&nv))) return;
    void *prog = NULL;
    if (!CHECK_INT(nv->nvrtcCreateProgram(&prog, wgmma_src, "wgmma_report.cu", 0, NULL, NULL), 0)) return;
    char define[128];
    snprintf(define, sizeof define, "-DCOND=%s", cond);
    const char *opts[] = {"--gpu-architecture=sm_90a", "--ptxas-options=-v", define, "--no-cache"};
    int cr = nv->nvrtcCompileProgram(prog, major >= 13 ? 4 : 3, opts);
    size_t log_size = 0;
    char *log = NULL;
    if (nv->nvrtcGetProgramLogSize(prog, &log_size) == 0 && log_size > 1 && (log = malloc(log_size + 1))) {
        nv->nvrtcGetProgramLog(prog, log);
        log[log_size] = 0;
    }
    if (CHECK_INT(cr, 0)) {
        int stack;
        eg_rt_ptxas_report(log, regs, &stack, spill, serialized);
    } else {
        fprintf(stderr, "NVRTC log:\n%s\n", log ? log : "");
    }
    free(log);
    nv->nvrtcDestroyProgram(&prog);
}

/* The report reader: nothing without the entry's report, and ptxas's note on serialized wgmma found in a
 * real report (and not where ptxas has none). */
static void serialization(int major) {
    /* a compile served from the driver's compute cache has no report (NVRTC before 13 takes no --no-cache) */
    setenv("CUDA_CACHE_DISABLE", "1", 0);
    int regs = 7, stack = 7, spill = 7, ser = 7;
    eg_rt_ptxas_report(NULL, &regs, &stack, &spill, &ser);
    CHECK(regs == -1 && stack == -1 && spill == -1 && ser == -1);
    regs = stack = spill = ser = 7;
    eg_rt_ptxas_report("ptxas info    : Compiling entry function 'other' for 'sm_90a'\n", &regs, &stack, &spill, &ser);
    CHECK(regs == -1 && stack == -1 && spill == -1 && ser == -1);
    compile_wgmma(major, "(threadIdx.x + i) & 1", &regs, &spill, &ser);
    fprintf(stderr, "wgmma on a divergent path: %d registers, %d bytes spilled, serialized %d\n", regs, spill, ser);
    CHECK(regs > 0);
    CHECK_INT(ser, 1);
    compile_wgmma(major, "1", &regs, &spill, &ser);
    fprintf(stderr, "wgmma on a uniform path: %d registers, %d bytes spilled, serialized %d\n", regs, spill, ser);
    CHECK(regs > 0);
    CHECK_INT(ser, 0);
}

int main(void) {
    garbage();
    int major, minor;
    if (effgen_nvrtc_version(&major, &minor) != EFFGEN_OK) {
        fprintf(stderr, "NVRTC unavailable: %s\n", effgen_last_error());
        if (getenv("EFFGEN_ALLOW_NO_NVRTC")) return T_SKIP_CODE;
        CHECK(0);
        return T_DONE();
    }
    /* head dims and archs spread over both ways ptxas records the count (sh_info bits up to sm_89),
     * with and without a stack frame */
    static const char *specs[] = {"attn_fwd/d64/bf16/none/sm_80", "attn_fwd/d128/fp16/causal/sm_86",
                                  "attn_fwd/d256/bf16/causal/sm_89", "attn_fwd/d128/bf16/none/sm_90",
                                  "attn_fwd/d64/fp16/causal/sm_90", "attn_fwd/d256/fp16/none/sm_90",
                                  "attn_fwd/d128/bf16/none/sm_100", "attn_fwd/d96/bf16/causal/sm_120",
                                  "attn_fwd/d128/bf16/causal+win/sm_90a"};
    int checked = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        eg_spec s;
        eg_config c;
        eg_rt_cubin cb;
        if (!CHECK_OK(eg_spec_parse(specs[i], &s)) || !CHECK_OK(eg_model_default(&s, &c))) continue;
        if (!CHECK_OK(eg_rt_compile(&s, &c, s.arch, &cb))) continue;
        int regs = 0, stack = 0;
        int r = eg_rt_cubin_resources(cb.data, cb.size, EG_KERNEL_NAME, &regs, &stack);
        fprintf(stderr, "%-34s ptxas: %d registers, %d bytes stack, %d bytes spilled; cubin: %d registers, %d bytes "
                        "stack\n",
                specs[i], cb.registers, cb.stack_bytes, cb.spill_bytes, regs, stack);
        CHECK_INT(r, 0);
        CHECK(regs > 0 && regs <= 255);
        /* spills come from the report alone, so a known figure means the report was there to compare with;
         * NVRTC 13 is asked to bypass the driver's cache, so a fresh compile always has one */
        if (major >= 13) CHECK(cb.spill_bytes >= 0);
        if (cb.spill_bytes >= 0) {
            /* no default kernel has its wgmma serialized (the mma family has none to serialize) */
            CHECK_INT(cb.wgmma_serialized, 0);
            CHECK_INT(regs, cb.registers);
            CHECK_INT(stack, cb.stack_bytes);
            checked++;
        }
        int none = 0;
        CHECK_INT(eg_rt_cubin_resources(cb.data, cb.size, "no_such_kernel", &none, NULL), -1);
        CHECK_INT(none, -1);
        if (i == 0 || i == 3) damaged(&cb, regs);
        eg_rt_cubin_free(&cb);
    }
    fprintf(stderr, "%d cubins compared with their ptxas report\n", checked);
    serialization(major);
    return T_DONE();
}
