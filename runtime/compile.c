/* compile.c - spec+config to cubin through NVRTC. The generated source and the embedded templates reach
 * NVRTC from memory, so no include path or file is involved; ptxas reports its resource use into the
 * program log, which is where registers, stack and spills come from (the cubin stands in for the first
 * two when the report is missing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt.h"

#define EG_NVRTC_ERROR_OUT_OF_MEMORY 1
#define EG_NVRTC_ERROR_INVALID_OPTION 5

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The number written just before `needle` in the ptxas report ("12 bytes stack frame"); -1 if absent. */
static int number_before(const char *log, const char *needle) {
    const char *hit = strstr(log, needle);
    if (!hit) return -1;
    const char *p = hit;
    while (p > log && p[-1] >= '0' && p[-1] <= '9') p--;
    if (p == hit) return -1;
    return atoi(p);
}

/* The number right after `needle` ("Used 128 registers"); -1 if absent. */
static int number_after(const char *log, const char *needle) {
    const char *hit = strstr(log, needle);
    if (!hit) return -1;
    hit += strlen(needle);
    if (*hit < '0' || *hit > '9') return -1;
    return atoi(hit);
}

/* Registers, stack frame and spill bytes of the entry function from the ptxas report; each -1 when the
 * report does not give it. serialized: whether ptxas says it serialized the wgmma (its "Potential
 * Performance Loss: wgmma.mma_async instructions are serialized ..." notes, C7510 to C7520), -1 without
 * a report. */
void eg_rt_ptxas_report(const char *log, int *regs, int *stack, int *spill, int *serialized) {
    *regs = *stack = *spill = *serialized = -1;
    /* Device functions the compiler did not inline get reports of their own; the entry's comes after
     * this line, and without it the log holds no report of the entry at all. */
    const char *entry = log ? strstr(log, "Compiling entry function '" EG_KERNEL_NAME "'") : NULL;
    if (!entry) return;
    *regs = number_after(entry, "Used ");
    *stack = number_before(entry, " bytes stack frame");
    int st = number_before(entry, " bytes spill stores");
    int ld = number_before(entry, " bytes spill loads");
    if (st >= 0 || ld >= 0) *spill = (st > 0 ? st : 0) + (ld > 0 ? ld : 0);
    *serialized = strstr(log, "wgmma.mma_async instructions are serialized") ? 1 : 0;
}

/* Fill the resource figures of a compiled kernel. NVRTC 12.9 and later may serve a repeat compile from
 * the driver's compute cache, and then the log carries no ptxas report: registers and stack frame are
 * read from the cubin instead, spills (which the cubin does not record) stay -1, never a made-up 0. */
static void resources(const char *log, eg_rt_cubin *out) {
    int regs, stack, spill, serialized, cregs, cstack;
    eg_rt_ptxas_report(log, &regs, &stack, &spill, &serialized);
    eg_rt_cubin_resources(out->data, out->size, EG_KERNEL_NAME, &cregs, &cstack);
    out->registers = regs > 0 ? regs : cregs;
    out->stack_bytes = stack >= 0 ? stack : cstack;
    out->spill_bytes = spill;
    out->wgmma_serialized = serialized;
}

/* The program name shows up in NVRTC diagnostics: keep the keys readable but file-like. */
static void program_name(const char *sk, const char *ck, char *buf, size_t size) {
    snprintf(buf, size, "%s.%s.cu", sk, ck);
    for (char *p = buf; *p; p++)
        if (*p == '/' || *p == ' ') *p = '_';
}

effgen_status eg_rt_compile(const eg_spec *s, const eg_config *c, int arch, eg_rt_cubin *out) {
    if (!s || !c || !out)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_compile: spec, config and out must be non-NULL");
    memset(out, 0, sizeof *out);
    const eg_rt_nvrtc *nv = NULL;
    effgen_status st = eg_rt_nvrtc_load(&nv);
    if (st) return st;

    /* The kernel is built for `arch`: checking the config against that arch's limits (not the spec's)
     * is what keeps a launch on that arch from failing later. */
    eg_spec t = *s;
    t.arch = arch;
    char sk[EG_KEY_MAX], ck[EG_KEY_MAX], name[2 * EG_KEY_MAX + 8];
    eg_spec_print(&t, sk, sizeof sk);
    eg_config_print(c, ck, sizeof ck);
    program_name(sk, ck, name, sizeof name);

    char *src = NULL, *log = NULL, *cubin = NULL;
    const char **hdr = NULL, **inc = NULL;
    void *prog = NULL;
    st = eg_cg_generate(&t, c, &src);
    if (st) {
        eg_err_wrap(st, "%s %s", sk, ck);
        goto done;
    }
    hdr = malloc(sizeof *hdr * (size_t)(eg_template_count + 1));
    inc = malloc(sizeof *inc * (size_t)(eg_template_count + 1));
    if (!hdr || !inc) {
        st = eg_err(EFFGEN_NO_MEMORY, "%s %s: out of memory for the header table", sk, ck);
        goto done;
    }
    for (int i = 0; i < eg_template_count; i++) {
        hdr[i] = eg_templates[i].text;
        inc[i] = eg_templates[i].name;
    }

    double t0 = now_ms();
    int r = nv->nvrtcCreateProgram(&prog, src, name, eg_template_count, hdr, inc);
    if (r != 0) {
        prog = NULL;
        st = eg_err(r == EG_NVRTC_ERROR_OUT_OF_MEMORY ? EFFGEN_NO_MEMORY : EFFGEN_COMPILE,
                    "%s %s: nvrtcCreateProgram: %s", sk, ck, nv->nvrtcGetErrorString(r));
        goto done;
    }
    char arch_opt[48], arch_name[16];
    eg_arch_print(arch, arch_name, sizeof arch_name); /* "sm_90a" for the arch-specific target */
    snprintf(arch_opt, sizeof arch_opt, "--gpu-architecture=%s", arch_name);
    /* -default-device: the templates' generic lambdas (auto parameters) are device code; without it NVRTC
     * takes an unannotated generic lambda for a host function */
    const char *opts[] = {arch_opt, "-std=c++17", "-default-device", "--ptxas-options=-v", "--no-cache"};
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    /* A compile served from the driver's compute cache has no ptxas report, so no spill figures, which
     * the tuner and `effgen info` rely on; cubins are cached in our own database anyway. --no-cache is
     * known to work from NVRTC 13 on; an older NVRTC fails the whole compile on an option it does not
     * know, so it goes without and a cached compile falls back on the cubin. */
    int nv_major = 0, nv_minor = 0;
    if (effgen_nvrtc_version(&nv_major, &nv_minor) != EFFGEN_OK || nv_major < 13) nopts--;
    int cr = nv->nvrtcCompileProgram(prog, nopts, opts);

    /* The log is wanted in both outcomes: the error text on failure, the ptxas report on success. */
    size_t log_size = 0;
    if (nv->nvrtcGetProgramLogSize(prog, &log_size) == 0 && log_size > 0) {
        log = malloc(log_size + 1);
        if (log && nv->nvrtcGetProgramLog(prog, log) == 0)
            log[log_size] = 0;
        else if (log)
            log[0] = 0;
    }
    if (cr != 0) {
        effgen_status fail = cr == EG_NVRTC_ERROR_INVALID_OPTION ? EFFGEN_UNSUPPORTED
                             : cr == EG_NVRTC_ERROR_OUT_OF_MEMORY ? EFFGEN_NO_MEMORY
                                                                  : EFFGEN_COMPILE;
        st = eg_err(fail, "%s %s: NVRTC compilation for %s failed (%s)%s\n%s", sk, ck, arch_name,
                    nv->nvrtcGetErrorString(cr),
                    cr == EG_NVRTC_ERROR_INVALID_OPTION ? "; this NVRTC may not know the arch" : "",
                    log && log[0] ? log : "(empty log)");
        goto done;
    }
    size_t size = 0;
    r = nv->nvrtcGetCUBINSize(prog, &size);
    if (r != 0 || size == 0) {
        st = eg_err(EFFGEN_COMPILE, "%s %s: nvrtcGetCUBINSize: %s", sk, ck,
                    r ? nv->nvrtcGetErrorString(r) : "empty cubin");
        goto done;
    }
    cubin = malloc(size);
    if (!cubin) {
        st = eg_err(EFFGEN_NO_MEMORY, "%s %s: out of memory for a cubin of %zu bytes", sk, ck, size);
        goto done;
    }
    r = nv->nvrtcGetCUBIN(prog, cubin);
    if (r != 0) {
        st = eg_err(EFFGEN_COMPILE, "%s %s: nvrtcGetCUBIN: %s", sk, ck, nv->nvrtcGetErrorString(r));
        goto done;
    }
    out->compile_ms = now_ms() - t0;
    out->data = cubin;
    out->size = size;
    cubin = NULL;
    resources(log, out);
    st = EFFGEN_OK;

done:
    if (prog) nv->nvrtcDestroyProgram(&prog);
    free(cubin);
    free(log);
    free(hdr);
    free(inc);
    free(src);
    return st;
}

void eg_rt_cubin_free(eg_rt_cubin *c) {
    if (!c) return;
    free(c->data);
    memset(c, 0, sizeof *c);
}
