/* expr.h - user expressions that modify attention scores (score_mod) or decide visibility (mask_mod):
 * a small typed language parsed into an AST, printed in one canonical text (part of a kernel's key),
 * hashed, emitted as a CUDA __device__ function and evaluated on the CPU for the reference.
 * Pure C, no GPU; the language is described in docs/expressions.md. */
#ifndef EG_EXPR_H
#define EG_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "cg.h"
#include "effgen.h"

/* Limits: longer input, deeper nesting or more tensors are refused with EFFGEN_PARSE. */
#define EG_EXPR_TEXT_MAX 4096 /* characters of the input and of the canonical text */
#define EG_EXPR_DEPTH_MAX 128 /* levels of the expression tree */
#define EG_EXPR_NEST_MAX 256  /* parentheses, brackets and operators open at once while parsing */
#define EG_EXPR_TENSORS_MAX 8 /* tensors one expression reads; also the slots of eg_expr_tensors */
#define EG_EXPR_RANK_MAX 4    /* indexes of one tensor */
#define EG_EXPR_NAME_MAX 31   /* characters of a tensor name */

typedef enum eg_expr_kind {
    EG_EXPR_SCORE = 0, /* numeric: the new score of (b, h, q, k) */
    EG_EXPR_MASK = 1,  /* boolean: whether query q may see key k */
} eg_expr_kind;

/* Element types of the tensors an expression reads. f32, f16 and bf16 read as float; i32 and u8 as int;
 * bool is one byte per element, nonzero meaning true. */
typedef enum eg_expr_dtype {
    EG_EXPR_F32 = 0,
    EG_EXPR_F16 = 1,
    EG_EXPR_BF16 = 2,
    EG_EXPR_I32 = 3,
    EG_EXPR_U8 = 4,
    EG_EXPR_BOOL = 5,
} eg_expr_dtype;

/* "f32", "f16", "bf16", "i32", "u8", "bool"; NULL for a value outside the list. */
const char *eg_expr_dtype_name(eg_expr_dtype t);

/* A tensor the expression may read: a name (an identifier that is not a variable or function of the
 * language), its element type and its number of indexes (1 to EG_EXPR_RANK_MAX). Sizes and strides are
 * launch arguments, not part of the kernel. */
typedef struct eg_expr_decl {
    const char *name;
    eg_expr_dtype dtype;
    int rank;
} eg_expr_decl;

typedef struct eg_expr eg_expr;

/* Parse text as an expression of the given kind. Tensors are declared by decls[0..n_decls) and/or in
 * the text after a ';' ("score + bias[h, q, k]; bias: f32[3]"); a name declared twice must agree.
 * Only the tensors the expression reads are kept, in name order: that order numbers the tensor slots.
 * On success *out is a new expression (free with eg_expr_free). On failure *out is NULL and the status
 * is EFFGEN_PARSE (bad text: the error names the token, its 1-based column, and shows a caret line),
 * EFFGEN_INVALID_ARGUMENT (NULL text/out, a bad entry in decls) or EFFGEN_NO_MEMORY. */
effgen_status eg_expr_parse(const char *text, eg_expr_kind kind, const eg_expr_decl *decls, int n_decls,
                            eg_expr **out);
/* NULL is a no-op. The accessors below take NULL as the empty expression ("" text, hash 0, no tensors). */
void eg_expr_free(eg_expr *e);

eg_expr_kind eg_expr_kind_of(const eg_expr *e);

/* The canonical text: single spaces around binary operators, parentheses only where precedence needs
 * them, literals in shortest round-trip form, where(c, a, b) as c ? a : b, and the tensors read
 * declared after "; " in name order. Whitespace and redundant parentheses of the input do not change it,
 * and parsing it again gives the same text. Owned by e. */
const char *eg_expr_text(const eg_expr *e);
/* Copy the canonical text into buf (always NUL-terminated when size > 0); returns its full length, as
 * snprintf does. */
int eg_expr_print(const eg_expr *e, char *buf, size_t size);
/* 64-bit FNV-1a of the canonical text, and the same as 16 lower-case hex digits + NUL. */
uint64_t eg_expr_hash(const eg_expr *e);
void eg_expr_hash_hex(const eg_expr *e, char buf[17]);

/* The tensors the expression reads, in slot order (name order). The name points into e. */
int eg_expr_tensor_count(const eg_expr *e);
effgen_status eg_expr_tensor(const eg_expr *e, int i, eg_expr_decl *out);

/* ---- CUDA emission ---- */

/* Kernel-side tensor table, mirrored by eg::ExprTensors in templates/eg_prelude.cuh: slot i holds a device
 * pointer and the element strides of its indexes (unused indexes and slots are ignored). One table
 * serves a kernel's score and mask expressions: each reads the slots from its slot_base on. */
typedef struct eg_expr_tensors {
    const void *ptr[EG_EXPR_TENSORS_MAX];
    int64_t stride[EG_EXPR_TENSORS_MAX][EG_EXPR_RANK_MAX];
} eg_expr_tensors;

/* Write, once per program, the device-side definitions the emitted functions use (inside namespace eg:
 * loads of each element type through the prelude's fp16/bf16 storage types, integer
 * division that is defined for every operand). The program must include "eg_prelude.cuh" before it. */
void eg_expr_emit_prelude(eg_emit *em);
/* Write the expression as a function in namespace eg:
 *   __device__ __forceinline__ float score_mod(float score, int b, int h, int q, int k, int nq, int nk,
 *                                              const ExprTensors &t)
 *   __device__ __forceinline__ bool mask_mod(int b, int h, int q, int k, int nq, int nk, const ExprTensors &t)
 * named `name` (NULL: score_mod / mask_mod). The expression's tensor i reads slot slot_base + i.
 * Errors of the emitter are sticky in em; the status reports a bad argument (slots beyond the table, a
 * name that is not an identifier). */
effgen_status eg_expr_emit(const eg_expr *e, eg_emit *em, const char *name, int slot_base);

/* Whether a score expression is the score plus a term that does not read it: score + E, E + score or
 * score - E. Such a term can be computed before the score is (the Hopper family adds it to the product's
 * accumulators before the product). eg_expr_emit_term writes it (negated for score - E) as
 *   __device__ __forceinline__ float name(int b, int h, int q, int k, int nq, int nk, const ExprTensors &t)
 * in namespace eg; EFFGEN_INVALID_ARGUMENT for another expression or a bad name or slot base. */
int eg_expr_additive(const eg_expr *e);
effgen_status eg_expr_emit_term(const eg_expr *e, eg_emit *em, const char *name, int slot_base);
/* Tile classification of a mask expression (templates/eg_range.cuh): over the queries qlo..qhi and keys
 * klo..khi of one (b, h), 0 when it is false for every pair, 1 when true for every pair, 2 when it may be
 * either (interval arithmetic over the int parts; tensor reads and floats are not followed). Sound, not
 * exact: 2 is always a correct answer. eg_expr_range_useful says whether some comparison of ints reads no
 * tensor (otherwise every tile is 2); eg_expr_emit_range writes the same classification as
 *   __device__ __forceinline__ int name(int b, int h, int qlo, int qhi, int klo, int khi, int nq, int nk)
 * in namespace eg (the program must include "eg_range.cuh"). */
effgen_status eg_expr_mask_range(const eg_expr *e, int b, int h, int qlo, int qhi, int klo, int khi, int nq, int nk,
                                 int *out);
int eg_expr_range_useful(const eg_expr *e);
/* Whether the expression reads the batch index b (NULL: no). One that does not reads the same tensor
 * elements for every batch entry. */
int eg_expr_reads_batch(const eg_expr *e);
/* Whether a score expression is an additive bias: score + T[...] or T[...] + score, T read at plain
 * variables, each at most once, ending with q, k and taking b and h (either may be left out) before them in
 * that order. *slot is T's slot; axes[i] is the variable of T's index i ('b', 'h', 'q' or 'k'), *rank their
 * number. Such an expression computes what the built-in bias does (added to the scaled score after softcap
 * and ALiBi). */
int eg_expr_bias_term(const eg_expr *e, int *slot, char axes[EG_EXPR_RANK_MAX], int *rank);
effgen_status eg_expr_emit_range(const eg_expr *e, eg_emit *em, const char *name);
/* ---- CPU evaluation (the reference) ---- */

/* A host tensor for evaluation: data of the declared element type, and per index its size (indexes
 * outside [0, size) are refused) and element stride. */
typedef struct eg_expr_host_tensor {
    const void *data;
    int64_t size[EG_EXPR_RANK_MAX];
    int64_t stride[EG_EXPR_RANK_MAX];
} eg_expr_host_tensor;

/* Evaluate at one (b, h, q, k): floats in double, ints as 32-bit two's complement (as the kernel).
 * t[i] is the expression's tensor i; n_tensors must be at least eg_expr_tensor_count(e). Returns
 * EFFGEN_INVALID_ARGUMENT for the wrong kind, too few tensors, NULL data or an index out of range
 * (naming the tensor, the index and its value). */
effgen_status eg_expr_eval_score(const eg_expr *e, double score, int b, int h, int q, int k, int nq, int nk,
                                 const eg_expr_host_tensor *t, int n_tensors, double *out);
effgen_status eg_expr_eval_mask(const eg_expr *e, int b, int h, int q, int k, int nq, int nk,
                                const eg_expr_host_tensor *t, int n_tensors, int *out);

#endif
