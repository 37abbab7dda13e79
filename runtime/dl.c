/* dl.c - the CUDA driver and NVRTC, loaded with dlopen once per process so that the library links
 * against neither: a machine with NVRTC and no GPU still generates and compiles, and a host with only
 * the driver still launches precompiled kernels. Also the one place that turns a CUresult into text. */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define EG_MSG_CAP 2048

/* Driver error codes that decide which status a failed cuInit maps to. */
#define EG_CUDA_ERROR_STUB_LIBRARY 34
#define EG_CUDA_ERROR_INSUFFICIENT_DRIVER 35
#define EG_CUDA_ERROR_NO_DEVICE 100

/* A symbol to resolve and where its address goes. The versioned names are the ones cuda.h maps the
 * plain names to; the unversioned exports of those are legacy ABIs (32-bit device pointers). */
typedef struct sym {
    const char *name;
    size_t offset;
} sym;

#define CU_SYM(field, name) {name, offsetof(eg_rt_cuda, field)}
static const sym cuda_syms[] = {
    CU_SYM(cuInit, "cuInit"),
    CU_SYM(cuDriverGetVersion, "cuDriverGetVersion"),
    CU_SYM(cuDeviceGetCount, "cuDeviceGetCount"),
    CU_SYM(cuDeviceGet, "cuDeviceGet"),
    CU_SYM(cuDeviceGetName, "cuDeviceGetName"),
    CU_SYM(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
    CU_SYM(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    CU_SYM(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
    CU_SYM(cuCtxPushCurrent, "cuCtxPushCurrent_v2"),
    CU_SYM(cuCtxPopCurrent, "cuCtxPopCurrent_v2"),
    CU_SYM(cuCtxSynchronize, "cuCtxSynchronize"),
    CU_SYM(cuModuleLoadData, "cuModuleLoadData"),
    CU_SYM(cuModuleUnload, "cuModuleUnload"),
    CU_SYM(cuModuleGetFunction, "cuModuleGetFunction"),
    CU_SYM(cuFuncSetAttribute, "cuFuncSetAttribute"),
    CU_SYM(cuFuncGetAttribute, "cuFuncGetAttribute"),
    CU_SYM(cuLaunchKernel, "cuLaunchKernel"),
    CU_SYM(cuMemAlloc, "cuMemAlloc_v2"),
    CU_SYM(cuMemFree, "cuMemFree_v2"),
    CU_SYM(cuMemcpyHtoD, "cuMemcpyHtoD_v2"),
    CU_SYM(cuMemcpyDtoH, "cuMemcpyDtoH_v2"),
    CU_SYM(cuMemsetD8, "cuMemsetD8_v2"),
    CU_SYM(cuStreamSynchronize, "cuStreamSynchronize"),
    CU_SYM(cuEventCreate, "cuEventCreate"),
    CU_SYM(cuEventRecord, "cuEventRecord"),
    CU_SYM(cuEventSynchronize, "cuEventSynchronize"),
    CU_SYM(cuEventElapsedTime, "cuEventElapsedTime"),
    CU_SYM(cuEventDestroy, "cuEventDestroy_v2"),
    CU_SYM(cuGetErrorName, "cuGetErrorName"),
    CU_SYM(cuGetErrorString, "cuGetErrorString"),
};

#define NVRTC_SYM(field) {#field, offsetof(eg_rt_nvrtc, field)}
static const sym nvrtc_syms[] = {
    NVRTC_SYM(nvrtcVersion),           NVRTC_SYM(nvrtcCreateProgram),     NVRTC_SYM(nvrtcDestroyProgram),
    NVRTC_SYM(nvrtcCompileProgram),    NVRTC_SYM(nvrtcGetProgramLogSize), NVRTC_SYM(nvrtcGetProgramLog),
    NVRTC_SYM(nvrtcGetCUBINSize),      NVRTC_SYM(nvrtcGetCUBIN),          NVRTC_SYM(nvrtcGetErrorString),
};

/* The outcome of each load is process-wide; the error text is kept here because eg_err's buffer is
 * per thread and every later caller must see the same reason. */
static pthread_once_t cuda_once = PTHREAD_ONCE_INIT;
static eg_rt_cuda cuda_fns;
static int cuda_syms_ok; /* symbols resolved (cuInit may still have failed) */
static effgen_status cuda_status;
static char cuda_msg[EG_MSG_CAP];

static pthread_once_t nvrtc_once = PTHREAD_ONCE_INIT;
static eg_rt_nvrtc nvrtc_fns;
static effgen_status nvrtc_status;
static char nvrtc_msg[EG_MSG_CAP];
static int nvrtc_major, nvrtc_minor;

/* Fill a table of function pointers; on a missing symbol write its name into msg and return nonzero.
 * POSIX guarantees that a dlsym result converts to a function pointer, hence the memcpy. */
static int resolve(void *lib, const sym *syms, size_t n, void *table, const char *libname, char *msg, size_t cap) {
    for (size_t i = 0; i < n; i++) {
        dlerror();
        void *p = dlsym(lib, syms[i].name);
        if (!p) {
            const char *why = dlerror();
            snprintf(msg, cap, "%s: symbol %s not found (%s)", libname, syms[i].name, why ? why : "null address");
            return 1;
        }
        memcpy((char *)table + syms[i].offset, &p, sizeof p);
    }
    return 0;
}

/* "CUDA_ERROR_NAME (description)" for r. The stub library answers no name queries, so the codes that
 * decide a status here have names of our own to fall back on. */
static void describe_cu(CUresult r, char *buf, size_t size) {
    const char *ename = NULL, *estr = NULL;
    if (cuda_syms_ok) {
        if (cuda_fns.cuGetErrorName(r, &ename) != 0) ename = NULL;
        if (cuda_fns.cuGetErrorString(r, &estr) != 0) estr = NULL;
    }
    if (!ename) {
        ename = r == EG_CUDA_ERROR_STUB_LIBRARY        ? "CUDA_ERROR_STUB_LIBRARY"
                : r == EG_CUDA_ERROR_INSUFFICIENT_DRIVER ? "CUDA_ERROR_INSUFFICIENT_DRIVER"
                : r == EG_CUDA_ERROR_NO_DEVICE           ? "CUDA_ERROR_NO_DEVICE"
                                                         : NULL;
        estr = NULL;
    }
    if (ename)
        snprintf(buf, size, "%s (%s)", ename, estr ? estr : "no description from the driver");
    else
        snprintf(buf, size, "CUresult %d (unknown to this driver)", r);
}

static void cuda_load_once(void) {
    const char *env = getenv("EFFGEN_LIBCUDA");
    const char *name = (env && *env) ? env : "libcuda.so.1";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        cuda_status = EFFGEN_DRIVER_UNAVAILABLE;
        snprintf(cuda_msg, sizeof cuda_msg,
                 "CUDA driver library %s%s not found (%s); kernels cannot run here, generation and compilation "
                 "still work",
                 name, (env && *env) ? " (from EFFGEN_LIBCUDA)" : "", why ? why : "dlopen failed");
        return;
    }
    char detail[EG_MSG_CAP / 2];
    if (resolve(lib, cuda_syms, sizeof cuda_syms / sizeof cuda_syms[0], &cuda_fns, name, detail, sizeof detail)) {
        cuda_status = EFFGEN_DRIVER_UNAVAILABLE;
        snprintf(cuda_msg, sizeof cuda_msg, "%s; the driver is too old or not a CUDA driver", detail);
        /* the library stays mapped: unloading a half-initialised driver buys nothing */
        return;
    }
    cuda_syms_ok = 1;
    /* optional: only the wg family needs it, and a launch of one says so when it is missing */
    dlerror();
    void *tma = dlsym(lib, "cuTensorMapEncodeTiled");
    if (tma) memcpy(&cuda_fns.cuTensorMapEncodeTiled, &tma, sizeof tma);
    void *capturing = dlsym(lib, "cuStreamIsCapturing");
    if (capturing) memcpy(&cuda_fns.cuStreamIsCapturing, &capturing, sizeof capturing);
    CUresult r = cuda_fns.cuInit(0);
    if (r == 0) return;
    char desc[400], err[512];
    describe_cu(r, desc, sizeof desc);
    snprintf(err, sizeof err, "cuInit: %s", desc);
    if (r == EG_CUDA_ERROR_NO_DEVICE) {
        cuda_status = EFFGEN_NO_DEVICE;
        snprintf(cuda_msg, sizeof cuda_msg,
                 "no CUDA device present (%s); generation and compilation still work", err);
    } else if (r == EG_CUDA_ERROR_STUB_LIBRARY || r == EG_CUDA_ERROR_INSUFFICIENT_DRIVER) {
        cuda_status = EFFGEN_DRIVER_UNAVAILABLE;
        snprintf(cuda_msg, sizeof cuda_msg,
                 "CUDA driver library %s is not a usable driver (%s); generation and compilation still work", name,
                 err);
    } else {
        cuda_status = EFFGEN_DRIVER;
        snprintf(cuda_msg, sizeof cuda_msg, "CUDA driver %s failed to initialise: %s", name, err);
    }
}

effgen_status eg_rt_cuda_load(const eg_rt_cuda **out) {
    pthread_once(&cuda_once, cuda_load_once);
    if (cuda_status) {
        if (out) *out = NULL;
        return eg_err(cuda_status, "%s", cuda_msg);
    }
    if (out) *out = &cuda_fns;
    return EFFGEN_OK;
}

effgen_status eg_rt_cu(CUresult r, const char *what) {
    if (r == 0) return EFFGEN_OK;
    /* a CUresult implies a loaded driver; the once call only orders the read of cuda_syms_ok */
    pthread_once(&cuda_once, cuda_load_once);
    char desc[400];
    describe_cu(r, desc, sizeof desc);
    return eg_err(EFFGEN_DRIVER, "%s: %s", what, desc);
}

static void nvrtc_load_once(void) {
    static const char *const defaults[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"};
    const char *env = getenv("EFFGEN_NVRTC");
    const char *const *names = defaults;
    size_t n = sizeof defaults / sizeof defaults[0];
    if (env && *env) {
        names = &env;
        n = 1;
    }
    void *lib = NULL;
    const char *name = NULL;
    char tried[EG_MSG_CAP / 2] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib) {
            name = names[i];
            break;
        }
        const char *why = dlerror();
        snprintf(tried + used, sizeof tried - used, "%s%s (%s)", used ? "; " : "", names[i],
                 why ? why : "dlopen failed");
        used = strlen(tried);
    }
    if (!lib) {
        nvrtc_status = EFFGEN_NVRTC_UNAVAILABLE;
        snprintf(nvrtc_msg, sizeof nvrtc_msg, "NVRTC not found%s; tried: %s",
                 (env && *env) ? " at EFFGEN_NVRTC" : " (set EFFGEN_NVRTC to its path)", tried);
        return;
    }
    char detail[EG_MSG_CAP / 2];
    if (resolve(lib, nvrtc_syms, sizeof nvrtc_syms / sizeof nvrtc_syms[0], &nvrtc_fns, name, detail, sizeof detail)) {
        nvrtc_status = EFFGEN_NVRTC_UNAVAILABLE;
        snprintf(nvrtc_msg, sizeof nvrtc_msg, "%s; NVRTC 11.1 or newer is needed for cubin output", detail);
        return;
    }
    if (nvrtc_fns.nvrtcVersion(&nvrtc_major, &nvrtc_minor) != 0) {
        nvrtc_status = EFFGEN_NVRTC_UNAVAILABLE;
        snprintf(nvrtc_msg, sizeof nvrtc_msg, "%s: nvrtcVersion failed", name);
    }
}

effgen_status eg_rt_nvrtc_load(const eg_rt_nvrtc **out) {
    pthread_once(&nvrtc_once, nvrtc_load_once);
    if (nvrtc_status) {
        if (out) *out = NULL;
        return eg_err(nvrtc_status, "%s", nvrtc_msg);
    }
    if (out) *out = &nvrtc_fns;
    return EFFGEN_OK;
}

effgen_status effgen_nvrtc_version(int *major, int *minor) {
    if (!major || !minor)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=NULL: must point to an int", !major ? "major" : "minor");
    effgen_status st = eg_rt_nvrtc_load(NULL);
    if (st) return st;
    *major = nvrtc_major;
    *minor = nvrtc_minor;
    return EFFGEN_OK;
}

effgen_status effgen_driver_version(int *version) {
    if (!version) return eg_err(EFFGEN_INVALID_ARGUMENT, "version=NULL: must point to an int");
    effgen_status st = eg_rt_cuda_load(NULL);
    /* cuDriverGetVersion needs no cuInit: a driver without a device still reports its version */
    if (st && st != EFFGEN_NO_DEVICE) return st;
    return eg_rt_cu(cuda_fns.cuDriverGetVersion(version), "cuDriverGetVersion");
}
