/* rt.h - the runtime's internal interface: the driver and NVRTC loaded with dlopen (types of our own,
 * no cuda.h), compilation, the per-context module cache, problem validation and launch. Used by the
 * public API (api.c), the tuner and the command-line front end. */
#ifndef EG_RT_H
#define EG_RT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cg.h"
#include "effgen.h"
#include "expr.h"

/* ---- driver API types and entry points (dl.c) ---- */

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

/* attribute numbers from the driver API */
#define EG_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT 16
#define EG_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE 38
#define EG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR 75
#define EG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR 76
#define EG_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN 97
#define EG_CU_FUNC_ATTRIBUTE_NUM_REGS 4
#define EG_CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES 3
#define EG_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES 8
#define EG_CU_EVENT_DEFAULT 0

typedef struct eg_rt_cuda {
    CUresult (*cuInit)(unsigned);
    CUresult (*cuDriverGetVersion)(int *);
    CUresult (*cuDeviceGetCount)(int *);
    CUresult (*cuDeviceGet)(CUdevice *, int);
    CUresult (*cuDeviceGetName)(char *, int, CUdevice);
    CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
    CUresult (*cuCtxPushCurrent)(CUcontext);
    CUresult (*cuCtxPopCurrent)(CUcontext *);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuModuleLoadData)(CUmodule *, const void *);
    CUresult (*cuModuleUnload)(CUmodule);
    CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
    CUresult (*cuFuncGetAttribute)(int *, int, CUfunction);
    CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                               CUstream, void **, void **);
    CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
    CUresult (*cuMemFree)(CUdeviceptr);
    CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
    CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
    CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);
    CUresult (*cuStreamSynchronize)(CUstream);
    CUresult (*cuEventCreate)(CUevent *, unsigned);
    CUresult (*cuEventRecord)(CUevent, CUstream);
    CUresult (*cuEventSynchronize)(CUevent);
    CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
    CUresult (*cuEventDestroy)(CUevent);
    CUresult (*cuGetErrorName)(CUresult, const char **);
    CUresult (*cuGetErrorString)(CUresult, const char **);
    /* Optional (CUDA 12.0 drivers and later; NULL where absent): TMA descriptors for the wg family.
     * Arguments: map, data type, rank, address, sizes, byte strides of dims 1.., box, element strides,
     * interleave, swizzle, L2 promotion, out-of-bounds fill. */
    CUresult (*cuTensorMapEncodeTiled)(void *, int, unsigned, void *, const uint64_t *, const uint64_t *,
                                       const unsigned *, const unsigned *, int, int, int, int);
    /* Optional (NULL where absent): whether a stream is being captured into a CUDA graph (status 0: no). */
    CUresult (*cuStreamIsCapturing)(CUstream, int *);
} eg_rt_cuda;

/* Load libcuda.so.1 (or $EFFGEN_LIBCUDA) once per process and call cuInit. On failure the error text
 * names the library that was not found and says that generation and compilation still work. */
effgen_status eg_rt_cuda_load(const eg_rt_cuda **out);
/* Translate a driver result: OK for 0, else EFFGEN_DRIVER with "what: CUDA_ERROR_NAME (description)". */
effgen_status eg_rt_cu(CUresult r, const char *what);

/* ---- NVRTC (dl.c, compile.c) ---- */

typedef struct eg_rt_nvrtc {
    int (*nvrtcVersion)(int *, int *);
    int (*nvrtcCreateProgram)(void **, const char *, const char *, int, const char *const *, const char *const *);
    int (*nvrtcDestroyProgram)(void **);
    int (*nvrtcCompileProgram)(void *, int, const char *const *);
    int (*nvrtcGetProgramLogSize)(void *, size_t *);
    int (*nvrtcGetProgramLog)(void *, char *);
    int (*nvrtcGetCUBINSize)(void *, size_t *);
    int (*nvrtcGetCUBIN)(void *, char *);
    const char *(*nvrtcGetErrorString)(int);
} eg_rt_nvrtc;

/* Load NVRTC once per process: $EFFGEN_NVRTC if set, else libnvrtc.so, libnvrtc.so.13, libnvrtc.so.12. */
effgen_status eg_rt_nvrtc_load(const eg_rt_nvrtc **out);

typedef struct eg_rt_cubin {
    void *data;
    size_t size;
    /* From the ptxas report, or for registers and stack from the cubin when the report is missing;
     * -1 when unknown (spills always are without the report). */
    int registers, spill_bytes, stack_bytes;
    double compile_ms;
    /* 1 where ptxas reports that it serialized the kernel's wgmma (a Hopper kernel then runs its matrix
     * products one after the other: correct, and far slower), 0 where its report says nothing of it, -1
     * without a report */
    int wgmma_serialized;
} eg_rt_cubin;

/* Generate and compile spec+config for arch with NVRTC (templates passed from memory, program named by
 * the canonical keys). The ptxas report fills registers/spills/stack; where it is missing (a compile
 * served from the driver's compute cache) registers and stack come from the cubin and spills are -1.
 * On a compile error the NVRTC log is the error text. */
effgen_status eg_rt_compile(const eg_spec *s, const eg_config *c, int arch, eg_rt_cubin *out);
void eg_rt_cubin_free(eg_rt_cubin *c);
/* The entry function's (EG_KERNEL_NAME) figures from an NVRTC log compiled with --ptxas-options=-v:
 * registers, stack frame, spill bytes (stores + loads), and whether ptxas serialized its wgmma (1 / 0);
 * each -1 where the log holds no report of the entry. */
void eg_rt_ptxas_report(const char *log, int *regs, int *stack, int *spill, int *serialized);

/* Registers per thread and stack frame bytes of function `kernel`, read from the attribute records of a
 * cubin (cubin.c). Each is -1 where the cubin does not say; returns 0 when the register count was found,
 * -1 otherwise. Reads nothing outside data[0, size), whatever the bytes are; sets no error text. */
int eg_rt_cubin_resources(const void *data, size_t size, const char *kernel, int *registers, int *stack_bytes);

/* ---- context, module cache, launch (ctx.c, launch.c) ---- */

typedef struct eg_rt_kernel {
    char key[2 * EG_KEY_MAX]; /* "spec config" */
    CUmodule module;
    CUfunction fn;
    eg_spec spec;
    eg_config config;
    int smem_bytes, threads, registers, spill_bytes, stack_bytes;
    double compile_ms;
    eg_expr *own_expr[2]; /* the kernel's copies of spec.score_mod / spec.mask_mod (spec points to them) */
    struct eg_rt_kernel *next;
} eg_rt_kernel;

typedef struct eg_rt_device_info {
    char name[256];
    int cc_major, cc_minor, sm_count, l2_bytes, smem_optin, driver_version;
} eg_rt_device_info;

/* Streams a context can run persistent wg grids on at once (each has its own tile counter pair). */
#define EG_RT_STREAMS 64
/* Bytes between two counter pairs: a cache line each. */
#define EG_RT_COUNTER_STRIDE 128

struct effgen_ctx {
    effgen_options opt;
    int arch;              /* compile target: opt.arch, else eg_rt_default_arch of the device (0 until known) */
    int log;               /* EFFGEN_LOG set */
    int wg_persistent;     /* EFFGEN_WG_PERSISTENT: 1 on, 0 off, -1 unset (launch.c's default) */
    int head_group;        /* EFFGEN_HEAD_GROUP: heads per launch-order group, 0 unset (launch.c's rule) */
    int wg_strip;          /* EFFGEN_WG_STRIP: query blocks per strip of a walking wg kernel, 0 unset */
    pthread_mutex_t lock;  /* guards everything below */
    int device_ready;
    CUdevice dev;
    CUcontext primary;
    eg_rt_device_info info;
    eg_rt_kernel *kernels; /* module cache: one entry per spec+config */
    struct eg_rt_dispatch *dispatch; /* dispatch.c: database and per-spec choices */
    struct eg_rt_expr *exprs;        /* expr_rt.c: parsed score_mod / mask_mod texts, kept until close */
    CUdeviceptr tile_counters;       /* EG_RT_STREAMS counter pairs of the persistent wg grid (0 until used) */
    CUstream counter_stream[EG_RT_STREAMS]; /* the stream each pair serves */
    int counter_streams;
};

/* The arch a context (or a tune) without an explicit one compiles for on a device of compute capability
 * cc_major.cc_minor: sm_90a on 9.0 (its arch-specific target, which has the wg family), else the device's
 * own sm_XY. */
int eg_rt_default_arch(int cc_major, int cc_minor);

/* Make sure the driver is loaded and the device's primary context retained; fills ctx->info and
 * ctx->arch (without options.arch: eg_rt_default_arch of the device). Thread-safe. */
effgen_status eg_rt_device(effgen_ctx *ctx, const eg_rt_cuda **cu);
/* Push / pop the context's primary context on the calling thread. */
effgen_status eg_rt_push(effgen_ctx *ctx);
void eg_rt_pop(effgen_ctx *ctx);

/* The loaded kernel for spec+config, compiling and loading it on first use (a second call with the same
 * key reuses the module). Pointer stays valid until effgen_close. Caller has pushed the context. */
effgen_status eg_rt_kernel_get(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const eg_rt_kernel **out);

/* The cached kernel for spec+config, or NULL. */
const eg_rt_kernel *eg_rt_kernel_cached(effgen_ctx *ctx, const eg_spec *s, const eg_config *c);
/* Load a compiled cubin (registers/spills/stack/compile time as far as known, -1 or 0 otherwise) into the
 * current context and add it to the module cache; checks that it can run on the device and that its
 * shared memory fits. When another thread added the same key meanwhile, theirs is returned and *raced
 * (may be NULL) is set. Caller has pushed the context. */
effgen_status eg_rt_kernel_add(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const eg_rt_cubin *cb,
                               const eg_rt_kernel **out, int *raced);

/* The checks of a problem that need no arch (sizes, pointers, strides, dtype, causal, scale, head_dim,
 * the syntax of the config text), so bad input is named even where the device cannot be reached. */
effgen_status eg_rt_check_args(const effgen_attn_args *a);
/* The spec (op, head dim, dtype, mask, variants) of validated arguments, for arch. */
void eg_rt_spec_of(const effgen_attn_args *a, int arch, eg_spec *s);

/* Make a model-chosen config c fit a's block-sparse blocks (multiples of block_m / block_n) by shrinking its
 * tiles; returns 1 when it changed c. */
int eg_rt_fit_config(const effgen_attn_args *a, eg_config *c);
/* Query rows the grid covers: max_seqlen_q under varlen, else seqlen_q. */
int eg_rt_grid_rows(const effgen_attn_args *a);
/* Query blocks per strip of a wg kernel that walks strips (eg_model_wg_walk) for config c: `heads` batch x
 * heads of m_blocks query blocks each, the window's diagonal offset and extents (unbounded: huge), `slots`
 * CTAs resident at once. 1 where neighbouring blocks share more key tiles than c's stages hold. */
int eg_rt_wg_strip(const eg_config *c, int64_t heads, int m_blocks, int causal_offset, int win_left, int win_right,
                   unsigned slots);
/* Heads per group of the launch order (tile_order): those whose K and V (seqlen_k x head_dim, 16-bit) fit
 * together in 16 MB of L2, at most `heads` (batch x heads). With heavy_first (query blocks of growing work,
 * one CTA each, placed as SMs free up): every head in one group where such groups would hold fewer than 3/4
 * of the `slots` CTAs resident at once (m_blocks query blocks a head); else, from 8 blocks a head, at least
 * 4 * slots / (m_blocks + 1) heads; then the smallest divisor of `heads` from that size to twice it, if any. */
int eg_rt_head_group(int64_t heads, int seqlen_k, int head_dim, int m_blocks, int heavy_first, int64_t slots);
/* The key length the dispatcher picks a size bucket by: seqlen_k, or under varlen (where seqlen_k is the
 * total) the mean keys per sequence, rounded up. */
int eg_rt_bucket_len(const effgen_attn_args *a);

/* Validate a problem (every field named on failure) and derive its spec (arch = ctx->arch) and config
 * (args->config parsed, or the model's default). Needs ctx->arch known: call eg_rt_device first, or
 * have set an arch in the options. */
effgen_status eg_rt_problem(effgen_ctx *ctx, const effgen_attn_args *a, eg_spec *s, eg_config *c);

/* The tile counter pair of the persistent wg grid for launches on stream: one pair per stream, so that
 * launches on two streams never share one (launches on one stream run one after another, and each leaves
 * its pair at zero). The pairs are allocated and zeroed on first use. *out is 0 where none can be had: the
 * per-thread default stream (one handle for many streams), a stream being captured into a CUDA graph (a
 * replay may run beside launches on other streams), or more than EG_RT_STREAMS streams; the caller then
 * launches one CTA per tile. Caller has pushed the context. */
effgen_status eg_rt_tile_counter(effgen_ctx *ctx, CUstream stream, CUdeviceptr *out);

/* Queue the kernel for a validated problem on stream. Caller has pushed the context. */
effgen_status eg_rt_launch(effgen_ctx *ctx, const eg_rt_kernel *k, const effgen_attn_args *a, CUstream stream);

/* Write "effgen: ..." to stderr when EFFGEN_LOG is set. */
void eg_rt_log(const effgen_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- user expressions (expr_rt.c) ---- */

/* The fields of a's expression tensors (names, dtypes, ranks, pointers, alignment, sizes, strides). */
effgen_status eg_rt_check_expr_args(const effgen_attn_args *a);
/* Check a's expression tensors and parse a->score_mod / a->mask_mod, each distinct (text, declarations of
 * the tensors) once per context; *score and *mask (NULL when absent) are the context's, valid until
 * effgen_close. Errors: EFFGEN_PARSE "score_mod: ..." with the column and caret; EFFGEN_INVALID_ARGUMENT
 * naming a tensor that is read but not given, or declared in the text with another dtype or rank. */
effgen_status eg_rt_exprs(effgen_ctx *ctx, const effgen_attn_args *a, const eg_expr **score, const eg_expr **mask);
void eg_rt_exprs_free(effgen_ctx *ctx);
/* Point s's expressions at copies of them owned by own[0..1] (free with eg_expr_free). */
effgen_status eg_rt_spec_own(eg_spec *s, eg_expr *own[2]);
/* Element strides of an expression tensor: its strides, or contiguous row-major when all are 0. */
void eg_rt_expr_strides(const effgen_expr_tensor *t, int64_t st[4]);
/* A score expression that is an additive bias (eg_expr_bias_term) over a tensor of Q's dtype, keys
 * contiguous, becomes the built-in bias: a->bias and a->bias_stride are set from the tensor and
 * a->score_mod is cleared, so that the spec, the kernel and the launch are those of +bias (the tensor then
 * arrives by TMA with the K tiles, not element by element). Left alone under varlen, beside a built-in bias,
 * and where the TMA could not load the tensor as the bias (16-byte alignment, strides in multiples of 8
 * elements, a row per query) or its sizes do not cover the problem, and where a->config names a config
 * that the lowered spec refuses (the bias needs shared memory and registers of its own). Returns whether it
 * changed a; errors are left to the path that parses. */
int eg_rt_lower_bias(effgen_ctx *ctx, effgen_attn_args *a);
/* The kernel's tensor table: the tensors s's expressions read (score_mod's, then mask_mod's), from a. */
effgen_status eg_rt_expr_table(const eg_spec *s, const effgen_attn_args *a, eg_expr_tensors *out);

/* ---- dispatcher (dispatch.c) ----
 * Chooses the kernel of a problem: the database's winner for (arch, spec, seqlen_k bucket), loaded from
 * its cubin without NVRTC (an sm_90a context also takes sm_90 rows for the specs the wg family does not
 * implement); otherwise the model's choice, compiled and recorded when the database is
 * writable. The choice is kept per spec and bucket, so a repeated call costs a lookup. The database is
 * options.db, else $EFFGEN_DB, else eg_db_default_path, used only when the file exists; "" means none.
 * A database that cannot be read is logged (EFFGEN_LOG) and ignored: the runtime then works by JIT. */

#include "db.h"

typedef struct eg_rt_dispatch eg_rt_dispatch;

/* Set up ctx->dispatch from ctx->opt (called by effgen_open; the database is opened on first use). */
effgen_status eg_rt_dispatch_init(effgen_ctx *ctx);
/* Release ctx->dispatch and close its database (called by effgen_close; modules are the cache's). */
void eg_rt_dispatch_free(effgen_ctx *ctx);

/* effgen_attention_fwd: validate, choose (args->config, else the database, else the model), load or
 * compile once, launch on stream. */
effgen_status eg_rt_dispatch_fwd(effgen_ctx *ctx, const effgen_attn_args *a, CUstream stream);

/* The config the dispatcher serves for spec s (arch set) and seqlen_k: the database's winner, else the
 * model's choice. *source (may be NULL): EG_DB_MEASURED or EG_DB_MODEL for a database row, -1 for the
 * model's choice with no row. *arch (may be NULL): the arch the kernel is built for, s->arch or, for an
 * sm_90a spec the wg family does not implement, 90 where an sm_90 row serves it. Needs no GPU. */
effgen_status eg_rt_dispatch_config(effgen_ctx *ctx, const eg_spec *s, int seqlen_k, eg_config *c, int *source,
                                    int *arch);

/* Put a compiled cubin for spec+config into the module cache (reused if the key is already loaded).
 * Caller has pushed the context. */
effgen_status eg_rt_kernel_load(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const void *cubin,
                                size_t size, const eg_rt_kernel **out);

/* The build stamp rows must match to be served: eg_generator_version and NVRTC's "major.minor" ("" when
 * NVRTC cannot be loaded). */
void eg_rt_db_build(eg_db_build *b);

typedef struct eg_rt_dispatch_stats {
    long calls;       /* forward calls dispatched */
    long db_kernels;  /* modules loaded from database cubins */
    long jit_kernels; /* modules compiled with NVRTC */
    long recorded;    /* JIT'd kernels written back to the database */
    int db_state;     /* 0: not opened yet, 1: open for writing, 2: read-only, -1: none or unusable */
    char db_path[1024];
} eg_rt_dispatch_stats;

void eg_rt_dispatch_stats_get(effgen_ctx *ctx, eg_rt_dispatch_stats *out);

#endif
