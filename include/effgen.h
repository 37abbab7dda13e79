/* effgen.h - the public C API of effgen, a generator and runtime for exact attention kernels.
 *
 * Every function returns an effgen_status (EFFGEN_OK on success) unless it says otherwise, never aborts
 * and never exits. Detailed text about the last failure (NVRTC log, driver error name, which field was
 * bad) is read with effgen_last_error(). Handles are opaque; closing or freeing NULL is a no-op. */
#ifndef EFFGEN_H
#define EFFGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EFFGEN_BUILDING) && defined(__GNUC__)
#define EFFGEN_API __attribute__((visibility("default")))
#else
#define EFFGEN_API
#endif

#define EFFGEN_VERSION_MAJOR 0
#define EFFGEN_VERSION_MINOR 1
#define EFFGEN_VERSION_PATCH 0

/* Status codes: one list generates the enum, the names and the messages. */
#define EFFGEN_STATUS_MAP(X)                                                                      \
    X(OK, 0, "success")                                                                           \
    X(INVALID_ARGUMENT, 1, "invalid argument")                                                    \
    X(PARSE, 2, "text could not be parsed")                                                       \
    X(UNSUPPORTED, 3, "combination not supported")                                                \
    X(RESOURCES, 4, "configuration exceeds the resources of the target architecture")             \
    X(NO_MEMORY, 5, "out of host memory")                                                         \
    X(NVRTC_UNAVAILABLE, 6, "NVRTC library not found")                                            \
    X(DRIVER_UNAVAILABLE, 7, "CUDA driver library not found")                                     \
    X(NO_DEVICE, 8, "no CUDA device present")                                                     \
    X(COMPILE, 9, "NVRTC compilation failed")                                                     \
    X(DRIVER, 10, "CUDA driver call failed")                                                      \
    X(CHECK_FAILED, 11, "result differs from the reference")                                      \
    X(IO, 12, "file could not be read or written")                                                \
    X(INTERNAL, 13, "internal error")

typedef enum effgen_status {
#define EFFGEN_X_ENUM(name, code, msg) EFFGEN_##name = code,
    EFFGEN_STATUS_MAP(EFFGEN_X_ENUM)
#undef EFFGEN_X_ENUM
} effgen_status;

/* "EFFGEN_OK", "EFFGEN_COMPILE", ...; "EFFGEN_UNKNOWN" for a value outside the list. Static storage. */
EFFGEN_API const char *effgen_status_name(effgen_status s);
/* One-line English description of a status. Static storage. */
EFFGEN_API const char *effgen_status_message(effgen_status s);

/* Element types of Q, K, V and O. */
typedef enum effgen_dtype { EFFGEN_BF16 = 0, EFFGEN_FP16 = 1 } effgen_dtype;

/* Which keys a causal query row may see when seqlen_q != seqlen_k.
 * BOTTOM_RIGHT (default, FlashAttention >= 2.1): query i sees keys j <= i + seqlen_k - seqlen_q.
 * TOP_LEFT: query i sees keys j <= i. */
typedef enum effgen_causal_align { EFFGEN_CAUSAL_BOTTOM_RIGHT = 0, EFFGEN_CAUSAL_TOP_LEFT = 1 } effgen_causal_align;

typedef struct effgen_ctx effgen_ctx;

/* Element types of the tensors a score_mod / mask_mod expression reads (docs/expressions.md): f32, f16 and
 * bf16 read as float, i32 and u8 as int, bool (one byte, nonzero is true) as bool. */
typedef enum effgen_expr_dtype {
    EFFGEN_EXPR_F32 = 0,
    EFFGEN_EXPR_F16 = 1,
    EFFGEN_EXPR_BF16 = 2,
    EFFGEN_EXPR_I32 = 3,
    EFFGEN_EXPR_U8 = 4,
    EFFGEN_EXPR_BOOL = 5
} effgen_expr_dtype;

/* A device tensor a user expression reads by name: element (i0, .., i[rank-1]) at
 * data + sum(i_d * strides[d]) elements. sizes[0..rank) must be >= 1; strides >= 0 (0 broadcasts), all
 * zero meaning contiguous row-major from the sizes. The kernel does not check indexes: an index outside
 * [0, sizes[d]) reads outside the tensor, which is the caller's responsibility (guard it in the
 * expression, e.g. `k < 16 ? t[k] : 0`); the sizes serve the host's checks (offsets fit 64 bits) and
 * the CPU reference (effgen check), which refuses such an index. */
typedef struct effgen_expr_tensor {
    const char *name;        /* the name the expression uses: an identifier of at most 31 characters */
    const void *data;        /* device pointer, aligned to the element size */
    effgen_expr_dtype dtype;
    int rank;                /* 1 to 4 */
    int64_t sizes[4];
    int64_t strides[4];      /* in elements */
} effgen_expr_tensor;

/* Options of effgen_open. Zero-initialise, or call effgen_options_init, then set fields. */
typedef struct effgen_options {
    int device;        /* CUDA device ordinal (default 0) */
    int no_gpu;        /* 1: never touch the driver; generation and compilation only */
    const char *arch;  /* target arch for compilation ("sm_90", "sm_90a"); NULL: the device's own, except
                        * sm_90a on a device of compute capability 9.0 (whose model choice is then the
                        * Hopper warpgroup family's wg.* config where it implements the spec) */
    const char *db;    /* kernel database (tuned winners and their cubins): NULL: $EFFGEN_DB, else the default
                        * path ($XDG_CACHE_HOME/effgen/kernels.db); used only when the file exists, and
                        * ignored (with a log line under EFFGEN_LOG) when it cannot be read. "": none */
} effgen_options;

EFFGEN_API void effgen_options_init(effgen_options *opt);

/* Create a context. opt may be NULL (defaults). The driver is loaded lazily on the first call that
 * needs the GPU, NVRTC on the first compile; a missing library is reported then, not here.
 * On failure *out is NULL. The context is safe to use from several threads at once. */
EFFGEN_API effgen_status effgen_open(effgen_ctx **out, const effgen_options *opt);
/* Destroy a context: unloads its modules. NULL is a no-op. */
EFFGEN_API void effgen_close(effgen_ctx *ctx);

/* Text of the last failure recorded by the calling thread (on any context, or by a call that takes
 * no context); "" if none. Valid until the next effgen call on this thread. Never NULL. */
EFFGEN_API const char *effgen_last_error(void);

/* Arguments of one forward attention call.
 * Tensors are addressed by element strides for (batch, head, sequence); the head dimension must be
 * contiguous (stride 1). B,H,N,D layout: strides {H*N*D, N*D, D}; B,N,H,D: {N*H*D, D, H*D}.
 * Pointers must be device pointers aligned to 16 bytes and strides multiples of 8 elements.
 * O has the shape of Q; LSE (optional, may be NULL) is fp32 [batch][heads][seqlen_q], contiguous,
 * natural-log log-sum-exp of the scaled scores of each row; a row that sees no key gets O = 0 and
 * LSE = -inf. */
typedef struct effgen_attn_args {
    effgen_dtype dtype;
    int batch, heads, seqlen_q, seqlen_k, head_dim;
    const void *q, *k, *v;
    void *o;
    float *lse;
    int64_t q_stride[3], k_stride[3], v_stride[3], o_stride[3]; /* batch, head, sequence */
    int causal;                                                  /* 0 or 1 */
    effgen_causal_align causal_align;
    float scale;        /* multiplies Q.K; 0 means 1/sqrt(head_dim) */
    const char *config; /* tiling in canonical text ("bm128.bn64.w4.s2", "wg.bm128.bn128.c2.s2" on sm_90a);
                         * NULL: the database's winner, else the model's choice */
    /* Variants. Zero (as effgen_attn_args_init leaves them) means off for each. Query i sits at key position
     * i' = i + seqlen_k - seqlen_q (bottom-right) or i' = i (causal_align TOP_LEFT), with or without causal. */
    int window;          /* 1: sliding window: query i sees keys j with i' - window_left <= j <= i' + window_right
                          * (and j <= i' under causal); 0: off, the extents must then be 0 */
    int window_left;     /* >= 0, or -1 for unbounded; read when window is 1 */
    int window_right;    /* >= 0, or -1 for unbounded; read when window is 1 */
    float softcap;       /* > 0: every scaled score s becomes softcap * tanh(s / softcap); 0: off */
    const float *alibi_slopes; /* device fp32 [heads], 4-byte aligned: scaled score += -slope[h] * |i' - j|
                                * (= -slope * (i' - j) on every key a causal row sees); NULL: off */
    int kv_heads;        /* heads of K and V (GQA/MQA): divides heads; query head h reads K/V head
                          * h / (heads / kv_heads); K/V strides are for kv_heads heads. 0: heads */
    /* Variable lengths (cu_seqlens_q non-NULL turns it on; both arrays then required): batch packed sequences
     * of different lengths. Q and O are [seqlen_q][heads][head_dim] and K, V [seqlen_k][kv_heads][head_dim],
     * seqlen_q / seqlen_k being the total tokens; the batch strides (stride[0]) must be 0, and all-zero strides
     * mean these packed layouts. Sequence b's queries are rows cu_seqlens_q[b] .. cu_seqlens_q[b+1]-1, its keys
     * rows cu_seqlens_k[b] .. cu_seqlens_k[b+1]-1; a sequence may be empty. Causal and window diagonals are
     * per sequence (bottom-right: that sequence's nk - nq). LSE is fp32 [heads][seqlen_q] (FlashAttention's
     * varlen layout). The arrays live on the device and are not read by the host: their values must start at
     * >= 0, be non-decreasing and end within seqlen_q / seqlen_k (check host copies with
     * effgen_varlen_validate). */
    const int32_t *cu_seqlens_q; /* device int32 [batch + 1], 4-byte aligned */
    const int32_t *cu_seqlens_k; /* device int32 [batch + 1], 4-byte aligned */
    int max_seqlen_q;            /* the longest sequence's query count (sizes the grid), 1 .. seqlen_q; 0 without varlen */
    /* Additive bias (NULL: off): element type of Q, 4-byte aligned, element (b, h, i, j) at
     * b*bias_stride[0] + h*bias_stride[1] + i*bias_stride[2] + j. The key stride bias_stride[3] must be 1; the
     * others even and >= 0 (0 broadcasts over batch, heads or queries). All four 0: contiguous
     * [batch][heads][seqlen_q][seqlen_k] (seqlen_k even; not under varlen, where i and j count within the
     * sequence and b is the sequence). Added to the scaled score after softcap and ALiBi: s + bias[b][h][i][j],
     * as FlexAttention's score_mod and PyTorch SDPA's float attn_mask. */
    const void *bias;
    int64_t bias_stride[4];
    /* Bit mask (NULL: off): 4-byte aligned uint32 words; key j of query i is visible when bit j % 32 of word
     * b*mask_stride[0] + h*mask_stride[1] + i*mask_stride[2] + j / 32 is set. Strides in words, >= 0 (0
     * broadcasts); all three 0: contiguous [batch][heads][seqlen_q][ceil(seqlen_k / 32)] (not under varlen).
     * It combines (AND) with causal, window and block-sparse masks. */
    const uint32_t *mask;
    int64_t mask_stride[3];
    /* Block-sparse (bsparse_row_ptr non-NULL: on; both arrays then required): a CSR table of the key blocks
     * (bsparse_block_k keys each) every query block (bsparse_block_q rows) visits; the kernel reads no other
     * key. For (b, h), the table is row_ptr = bsparse_row_ptr + b*bsparse_row_stride[0] + h*bsparse_row_stride[1],
     * [ceil(seqlen_q / block_q) + 1] entries, and col_idx = bsparse_col_idx + b*bsparse_col_stride[0] +
     * h*bsparse_col_stride[1]; query block qb visits key blocks col_idx[row_ptr[qb]] .. col_idx[row_ptr[qb+1]-1],
     * strictly ascending, each < ceil(seqlen_k / block_k) (check host copies with effgen_bsparse_validate).
     * Strides 0 (the default) share one table across batch and heads. The block sizes (0: 128) must be
     * multiples of 16 and of the kernel's block_m / block_n; the model's choice is reduced to fit. Combines
     * (AND) with causal, window and mask. */
    const int32_t *bsparse_row_ptr;
    const int32_t *bsparse_col_idx;
    int64_t bsparse_row_stride[2], bsparse_col_stride[2];
    int bsparse_block_q, bsparse_block_k;
    /* User expressions (NULL: none), effgen's small language (docs/expressions.md), the role of FlexAttention's
     * score_mod and mask_mod. score_mod gives the new score from `score` (the scaled score after softcap,
     * ALiBi and bias) and b, h, q, k, nq, nk; mask_mod gives true where query q may see key k (ANDed with
     * every other mask). q and k are plain indexes, 0 .. nq-1 and 0 .. nk-1 (not diagonal-aligned: write
     * q + nk - nq for bottom-right); under varlen b is the sequence and q, k, nq, nk count within it. Order:
     * scale, softcap, ALiBi, bias, score_mod, then the masks (causal, window, bit mask, block table,
     * mask_mod), then softmax. Each distinct text is parsed once per context and its kernel compiled once
     * (JIT with the model's config; never read from or written to the kernel database). A bad text gives
     * EFFGEN_PARSE with the column and a caret line, prefixed "score_mod: " or "mask_mod: ". */
    const char *score_mod;
    const char *mask_mod;
    /* The tensors the expressions read, by name: a tensor may be declared in the text ("; doc: i32[1]") or
     * only here (dtype and rank then declare it). One read by an expression but missing here, or declared in
     * the text with another dtype or rank, is EFFGEN_INVALID_ARGUMENT naming it. Tensors no expression reads
     * are ignored (after the checks of their fields). At most 8 read by score_mod and mask_mod together. */
    const effgen_expr_tensor *expr_tensors;
    int n_expr_tensors;
} effgen_attn_args;

/* Defaults: bf16, contiguous B,H,N,D strides filled from the sizes when left 0, scale 0, no causal. */
EFFGEN_API void effgen_attn_args_init(effgen_attn_args *a);

/* Check host copies of the varlen offsets: cu_q and cu_k hold batch + 1 values each, starting at >= 0,
 * non-decreasing, the last at most total_q / total_k. On failure the error text names the first bad index,
 * e.g. "cu_seqlens_k[3]=70: must be >= cu_seqlens_k[2]=80 (non-decreasing)". *max_seqlen_q (may be NULL)
 * receives the longest query sequence. */
EFFGEN_API effgen_status effgen_varlen_validate(const int32_t *cu_q, const int32_t *cu_k, int batch, int total_q,
                                                int total_k, int *max_seqlen_q);

/* Check one host copy of a block-sparse table: row_ptr [n_qblocks + 1] non-decreasing from >= 0, at most
 * col_capacity entries of col_idx used, each row's key blocks strictly ascending and < n_kblocks. The error
 * text names the first bad index, e.g. "bsparse_col_idx[7]=40: must be < 32 (key blocks of seqlen_k)". */
EFFGEN_API effgen_status effgen_bsparse_validate(const int32_t *row_ptr, const int32_t *col_idx, int n_qblocks,
                                                 int n_kblocks, int64_t col_capacity);

/* Forward attention on the caller's CUDA stream (a CUstream / cudaStream_t; NULL: the default stream).
 * The kernel is args->config when given, else the database's winner for this spec and seqlen_k, else the
 * cost model's choice; its cubin comes from the context's module cache, the database (no NVRTC needed)
 * or an NVRTC compile, once per context. Returns once the launch is queued. The device's primary
 * context is made current for the call and restored after. */
EFFGEN_API effgen_status effgen_attention_fwd(effgen_ctx *ctx, const effgen_attn_args *a, void *stream);

/* Canonical spec text of the kernel that serves a problem, e.g. "attn_fwd/d128/bf16/causal/sm_90",
 * and the config it would use, written into buffers of the given sizes. */
EFFGEN_API effgen_status effgen_describe(effgen_ctx *ctx, const effgen_attn_args *a, char *spec, size_t spec_size,
                                         char *config, size_t config_size);

/* Generate the CUDA C++ source for a spec and config given in canonical text (config NULL: the
 * model's choice). *source is allocated with malloc; the caller frees it with effgen_free. */
EFFGEN_API effgen_status effgen_generate(const char *spec, const char *config, char **source);

/* effgen_generate for a spec with user expressions: the texts (with their tensor declarations, e.g.
 * "doc[q] == doc[k]; doc: i32[1]"; NULL for none) name the kernel together with the key. The key may carry
 * "+score.HASH" / "+mask.HASH" (then the texts' hashes must match) or leave them out (the texts add them). */
EFFGEN_API effgen_status effgen_generate_mod(const char *spec, const char *config, const char *score_mod,
                                             const char *mask_mod, char **source);

/* Resource report of a compiled kernel. */
typedef struct effgen_kernel_info {
    char spec[128], config[64], arch[16];
    int registers;         /* per thread; -1 when unknown */
    int smem_bytes;        /* dynamic shared memory the launch requests */
    int spill_bytes;       /* local-memory spill stores + loads reported by ptxas; -1 when unknown (the
                            * compile was served from the driver's cache) */
    int stack_bytes;       /* stack frame; -1 when unknown */
    int threads;           /* per block */
    double compile_ms;     /* NVRTC wall time */
    int occupancy_blocks;  /* resident blocks per SM by the model (registers and shared memory) */
    int wgmma_serialized;  /* 1: ptxas serialized the kernel's wgmma (sm_90a; a kernel far below its speed),
                            * 0: it did not (always 0 without wgmma), -1: unknown (no ptxas report) */
} effgen_kernel_info;

/* Compile spec+config for an arch ("sm_80" ... "sm_120"; NULL: the spec's arch) without a GPU.
 * cubin/size may be NULL when only the report is wanted; otherwise *cubin is freed with effgen_free. */
EFFGEN_API effgen_status effgen_compile(effgen_ctx *ctx, const char *spec, const char *config, const char *arch,
                                        void **cubin, size_t *size, effgen_kernel_info *info);

/* effgen_compile for a spec with user expressions (see effgen_generate_mod). */
EFFGEN_API effgen_status effgen_compile_mod(effgen_ctx *ctx, const char *spec, const char *config, const char *arch,
                                            const char *score_mod, const char *mask_mod, void **cubin, size_t *size,
                                            effgen_kernel_info *info);

/* Free memory returned by effgen. NULL is a no-op. */
EFFGEN_API void effgen_free(void *p);

/* Versions: effgen's own ("0.1.0"), NVRTC's ("13.0", or the reason it is missing), the driver's. */
EFFGEN_API const char *effgen_version(void);
EFFGEN_API effgen_status effgen_nvrtc_version(int *major, int *minor);
EFFGEN_API effgen_status effgen_driver_version(int *version);

/* For bindings that declare effgen_attn_args themselves (the Python package does, through ctypes).
 * effgen_features: what effgen_attention_fwd supports in this build, as comma-separated names in a
 * fixed order: "causal_top_left,window,softcap,alibi,gqa,lse,strides,varlen,bias,mask,bsparse,score_mod,
 * mask_mod"; a capability's name joins the
 * list in the same change that adds its fields to effgen_attn_args. Static storage.
 * effgen_attn_args_size: sizeof(effgen_attn_args) in this build. Fields are only ever appended and zero
 * leaves each new one off, so a binding whose struct is smaller than this passes a zero-filled buffer of
 * this size with its own fields at the front. */
EFFGEN_API const char *effgen_features(void);
EFFGEN_API size_t effgen_attn_args_size(void);

/* The head dims of the default kernel set (`effgen compile --all`, the default tuning set lua/default.lua and
 * the kernel database built from it), ascending; *count (if not NULL) receives their number. Static storage. */
EFFGEN_API const int *effgen_default_head_dims(int *count);

/* The device a context runs on, as effgen sees it. */
typedef struct effgen_device_info {
    char name[256];           /* e.g. "NVIDIA H100 80GB HBM3" */
    int ordinal;              /* options.device */
    int cc_major, cc_minor;   /* compute capability */
    int sm_count;             /* multiprocessors */
    int l2_bytes;             /* L2 cache size */
    int smem_optin;           /* shared memory per block with opt-in, bytes */
    int driver_version;       /* cuDriverGetVersion: 1000 * major + 10 * minor */
    char arch[16];            /* the arch kernels are compiled for ("sm_90a"): options.arch or the device's
                               * default (sm_90a on 9.0, else its own) */
} effgen_device_info;

/* Describe the context's device, initialising it (driver, primary context) when no call has yet.
 * EFFGEN_NO_DEVICE for a context opened with no_gpu=1 or when the device is absent;
 * EFFGEN_DRIVER_UNAVAILABLE when the driver cannot be loaded. On failure *out is zeroed. */
EFFGEN_API effgen_status effgen_device_query(effgen_ctx *ctx, effgen_device_info *out);

#ifdef __cplusplus
}
#endif
#endif
