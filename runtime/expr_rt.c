/* expr_rt.c - user expressions at run time: the caller's tensors checked field by field, each score_mod /
 * mask_mod text parsed once per context (cached by kind, text and the declarations the tensors give), the
 * tensors an expression reads matched by name, and the kernel's tensor table filled for a launch. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

_Static_assert((int)EFFGEN_EXPR_F32 == (int)EG_EXPR_F32 && (int)EFFGEN_EXPR_F16 == (int)EG_EXPR_F16 &&
                   (int)EFFGEN_EXPR_BF16 == (int)EG_EXPR_BF16 && (int)EFFGEN_EXPR_I32 == (int)EG_EXPR_I32 &&
                   (int)EFFGEN_EXPR_U8 == (int)EG_EXPR_U8 && (int)EFFGEN_EXPR_BOOL == (int)EG_EXPR_BOOL,
               "effgen_expr_dtype must number the dtypes as eg_expr_dtype");

/* One parsed text of a context. */
struct eg_rt_expr {
    int kind;
    char *text; /* the caller's text */
    char *sig;  /* the declarations the tensors gave: "name:dtype:rank," ... */
    eg_expr *e;
    struct eg_rt_expr *next;
};

static int elem_bytes(effgen_expr_dtype t) {
    return t == EFFGEN_EXPR_F32 || t == EFFGEN_EXPR_I32 ? 4 : t == EFFGEN_EXPR_F16 || t == EFFGEN_EXPR_BF16 ? 2 : 1;
}

static effgen_status check_tensor(const effgen_attn_args *a, int i) {
    const effgen_expr_tensor *t = &a->expr_tensors[i];
    const char *n = t->name;
    size_t len = n ? strlen(n) : 0;
    int ident = len > 0 && len <= EG_EXPR_NAME_MAX && (isalpha((unsigned char)n[0]) || n[0] == '_');
    for (size_t c = 1; ident && c < len; c++) ident = isalnum((unsigned char)n[c]) || n[c] == '_';
    if (!ident)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d].name=%s%s%s: must be an identifier of 1 to %d characters",
                      i, n ? "\"" : "", n ? n : "NULL", n ? "\"" : "", EG_EXPR_NAME_MAX);
    for (int j = 0; j < i; j++)
        if (!strcmp(a->expr_tensors[j].name, n))
            return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d].name=\"%s\": also the name of expr_tensors[%d]", i,
                          n, j);
    if ((int)t->dtype < EFFGEN_EXPR_F32 || (int)t->dtype > EFFGEN_EXPR_BOOL)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": dtype=%d: must be one of f32, f16, bf16, i32, u8, bool",
                      i, n, (int)t->dtype);
    if (t->rank < 1 || t->rank > EG_EXPR_RANK_MAX)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": rank=%d: must be 1 to %d", i, n, t->rank,
                      EG_EXPR_RANK_MAX);
    if (!t->data) return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": data=NULL: must be a device pointer", i, n);
    if ((uintptr_t)t->data % (uintptr_t)elem_bytes(t->dtype))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": data=%p: must be aligned to %d bytes (%s)", i, n,
                      t->data, elem_bytes(t->dtype), eg_expr_dtype_name((eg_expr_dtype)t->dtype));
    int64_t sum = 0, term;
    for (int d = 0; d < t->rank; d++) {
        if (t->sizes[d] < 1)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": sizes[%d]=%lld: must be >= 1", i, n, d,
                          (long long)t->sizes[d]);
        if (t->strides[d] < 0)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors[%d] \"%s\": strides[%d]=%lld: must be >= 0 (0 broadcasts)",
                          i, n, d, (long long)t->strides[d]);
    }
    int64_t st[4];
    eg_rt_expr_strides(t, st);
    for (int d = 0; d < t->rank; d++)
        if (__builtin_mul_overflow(t->sizes[d] - 1, st[d], &term) || __builtin_add_overflow(sum, term, &sum) ||
            sum > INT64_MAX / 4)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "expr_tensors[%d] \"%s\": sizes and strides: the largest byte offset overflows 64 bits", i, n);
    return EFFGEN_OK;
}

void eg_rt_expr_strides(const effgen_expr_tensor *t, int64_t st[4]) {
    int all_zero = 1;
    for (int d = 0; d < 4; d++) {
        st[d] = d < t->rank ? t->strides[d] : 0;
        if (st[d]) all_zero = 0;
    }
    if (!all_zero) return;
    int64_t m = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        st[d] = m;
        if (__builtin_mul_overflow(m, t->sizes[d] > 0 ? t->sizes[d] : 1, &m)) m = INT64_MAX / 8;
    }
}

effgen_status eg_rt_check_expr_args(const effgen_attn_args *a) {
    if (a->n_expr_tensors < 0 || a->n_expr_tensors > 64)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "n_expr_tensors=%d: must be 0 to 64", a->n_expr_tensors);
    if (a->n_expr_tensors && !a->expr_tensors)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "expr_tensors=NULL with n_expr_tensors=%d: set the array (or 0)",
                      a->n_expr_tensors);
    for (int i = 0; i < a->n_expr_tensors; i++) {
        effgen_status st = check_tensor(a, i);
        if (st) return st;
    }
    return EFFGEN_OK;
}

/* Parse text as kind with the tensors' declarations; a tensor declared in the text too must agree, and every
 * tensor the expression reads must be given. Returns a new expression in *out. */
static effgen_status parse_one(const effgen_attn_args *a, const char *text, eg_expr_kind kind, eg_expr **out) {
    const char *what = kind == EG_EXPR_SCORE ? "score_mod" : "mask_mod";
    int n = a->n_expr_tensors;
    eg_expr_decl decls[64];
    for (int i = 0; i < n; i++)
        decls[i] = (eg_expr_decl){a->expr_tensors[i].name, (eg_expr_dtype)a->expr_tensors[i].dtype,
                                  a->expr_tensors[i].rank};
    eg_expr *e = NULL;
    effgen_status st = eg_expr_parse(text, kind, decls, n, &e);
    if (st == EFFGEN_PARSE && n) {
        /* the text alone may parse: then its own declarations disagree with the tensors given */
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", effgen_last_error());
        eg_expr *alone = NULL;
        if (eg_expr_parse(text, kind, NULL, 0, &alone) == EFFGEN_OK) {
            for (int i = 0; i < eg_expr_tensor_count(alone); i++) {
                eg_expr_decl d;
                eg_expr_tensor(alone, i, &d);
                for (int j = 0; j < n; j++)
                    if (!strcmp(decls[j].name, d.name) && (decls[j].dtype != d.dtype || decls[j].rank != d.rank)) {
                        st = eg_err(EFFGEN_INVALID_ARGUMENT,
                                    "%s: tensor \"%s\" is declared %s[%d] in the expression but expr_tensors[%d] is %s[%d]",
                                    what, d.name, eg_expr_dtype_name(d.dtype), d.rank, j,
                                    eg_expr_dtype_name(decls[j].dtype), decls[j].rank);
                        eg_expr_free(alone);
                        return st;
                    }
            }
            eg_expr_free(alone);
        }
        eg_err(EFFGEN_PARSE, "%s", keep);
    }
    if (st) return eg_err_wrap(st, "%s", what);
    for (int i = 0; i < eg_expr_tensor_count(e); i++) {
        eg_expr_decl d;
        eg_expr_tensor(e, i, &d);
        int found = 0;
        for (int j = 0; j < n && !found; j++) found = !strcmp(decls[j].name, d.name);
        if (!found) {
            st = eg_err(EFFGEN_INVALID_ARGUMENT,
                        "%s: tensor \"%s\" (%s[%d]) is read by the expression but not given: add it to expr_tensors", what,
                        d.name, eg_expr_dtype_name(d.dtype), d.rank);
            eg_expr_free(e);
            return st;
        }
    }
    *out = e;
    return EFFGEN_OK;
}

/* "name:dtype:rank," for each tensor: what, besides the text, decides the parse. */
static char *decl_sig(const effgen_attn_args *a) {
    size_t cap = (size_t)a->n_expr_tensors * 48 + 1, len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < a->n_expr_tensors; i++) {
        int w = snprintf(s + len, cap - len, "%s:%d:%d,", a->expr_tensors[i].name, (int)a->expr_tensors[i].dtype,
                         a->expr_tensors[i].rank);
        if (w > 0) len += (size_t)w;
    }
    return s;
}

static effgen_status cached(effgen_ctx *ctx, const effgen_attn_args *a, const char *text, eg_expr_kind kind,
                            const eg_expr **out) {
    char *sig = decl_sig(a);
    if (!sig) return eg_err(EFFGEN_NO_MEMORY, "expressions: out of memory");
    pthread_mutex_lock(&ctx->lock);
    for (struct eg_rt_expr *x = ctx->exprs; x; x = x->next)
        if (x->kind == (int)kind && !strcmp(x->text, text) && !strcmp(x->sig, sig)) {
            *out = x->e;
            pthread_mutex_unlock(&ctx->lock);
            free(sig);
            return EFFGEN_OK;
        }
    pthread_mutex_unlock(&ctx->lock);
    eg_expr *e = NULL;
    effgen_status st = parse_one(a, text, kind, &e);
    if (st) {
        free(sig);
        return st;
    }
    struct eg_rt_expr *x = calloc(1, sizeof *x);
    char *t = strdup(text);
    if (!x || !t) {
        free(x), free(t), free(sig);
        eg_expr_free(e);
        return eg_err(EFFGEN_NO_MEMORY, "expressions: out of memory");
    }
    x->kind = (int)kind, x->text = t, x->sig = sig, x->e = e;
    pthread_mutex_lock(&ctx->lock);
    /* another thread may have parsed the same text meanwhile: either copy is the same expression */
    x->next = ctx->exprs;
    ctx->exprs = x;
    pthread_mutex_unlock(&ctx->lock);
    *out = e;
    return EFFGEN_OK;
}

effgen_status eg_rt_exprs(effgen_ctx *ctx, const effgen_attn_args *a, const eg_expr **score, const eg_expr **mask) {
    *score = *mask = NULL;
    effgen_status st = eg_rt_check_expr_args(a);
    if (st) return st;
    if (a->score_mod && (st = cached(ctx, a, a->score_mod, EG_EXPR_SCORE, score))) return st;
    if (a->mask_mod && (st = cached(ctx, a, a->mask_mod, EG_EXPR_MASK, mask))) return st;
    int ns = eg_expr_tensor_count(*score), nm = eg_expr_tensor_count(*mask);
    if (ns + nm > EG_EXPR_TENSORS_MAX)
        return eg_err(EFFGEN_UNSUPPORTED, "score_mod and mask_mod read %d + %d tensors: at most %d together", ns, nm,
                      EG_EXPR_TENSORS_MAX);
    return EFFGEN_OK;
}

void eg_rt_exprs_free(effgen_ctx *ctx) {
    for (struct eg_rt_expr *x = ctx->exprs, *next; x; x = next) {
        next = x->next;
        eg_expr_free(x->e);
        free(x->text);
        free(x->sig);
        free(x);
    }
    ctx->exprs = NULL;
}

effgen_status eg_rt_spec_own(eg_spec *s, eg_expr *own[2]) {
    own[0] = own[1] = NULL;
    const eg_expr *ex[2] = {s->score_mod, s->mask_mod};
    for (int i = 0; i < 2; i++) {
        if (!ex[i]) continue;
        /* the canonical text holds the declarations and parses to itself */
        effgen_status st = eg_expr_parse(eg_expr_text(ex[i]), eg_expr_kind_of(ex[i]), NULL, 0, &own[i]);
        if (st) {
            eg_expr_free(own[0]);
            own[0] = NULL;
            return eg_err_wrap(st, "copy of an expression");
        }
    }
    s->score_mod = own[0];
    s->mask_mod = own[1];
    return EFFGEN_OK;
}

int eg_rt_lower_bias(effgen_ctx *ctx, effgen_attn_args *a) {
    if (!a->score_mod || a->bias || a->cu_seqlens_q || a->cu_seqlens_k) return 0;
    const eg_expr *score = NULL, *mask = NULL;
    if (eg_rt_exprs(ctx, a, &score, &mask) != EFFGEN_OK) {
        eg_err_clear();
        return 0;
    }
    int slot = 0, rank = 0;
    char axes[EG_EXPR_RANK_MAX];
    eg_expr_decl d;
    if (!eg_expr_bias_term(score, &slot, axes, &rank) || eg_expr_tensor(score, slot, &d) != EFFGEN_OK) return 0;
    const effgen_expr_tensor *t = NULL;
    for (int j = 0; j < a->n_expr_tensors && !t; j++)
        if (a->expr_tensors[j].name && !strcmp(a->expr_tensors[j].name, d.name)) t = &a->expr_tensors[j];
    const effgen_expr_dtype want = a->dtype == EFFGEN_FP16 ? EFFGEN_EXPR_F16 : EFFGEN_EXPR_BF16;
    if (!t || t->dtype != want || t->rank != rank || (uintptr_t)t->data % 16) return 0;
    int64_t st[4], bs[3] = {0, 0, 0};
    eg_rt_expr_strides(t, st);
    for (int i = 0; i < rank; i++) {
        const int ax = axes[i] == 'b' ? 0 : axes[i] == 'h' ? 1 : axes[i] == 'q' ? 2 : 3;
        const int64_t need = ax == 0 ? a->batch : ax == 1 ? a->heads : ax == 2 ? a->seqlen_q : a->seqlen_k;
        if (t->sizes[i] < need) return 0;
        if (ax == 3 ? st[i] != 1 : st[i] % 8 != 0) return 0; /* rows in whole 16 bytes, as the TMA loads them */
        if (ax < 3) bs[ax] = st[i];
    }
    if (bs[2] == 0) return 0; /* one row for every query: not the built-in bias's layout */
    effgen_attn_args low = *a;
    low.bias = t->data;
    low.bias_stride[0] = bs[0], low.bias_stride[1] = bs[1], low.bias_stride[2] = bs[2], low.bias_stride[3] = 1;
    low.score_mod = NULL;
    if (a->config) {
        /* a config the caller names must fit the lowered spec too (a bias tile per stage in shared memory,
         * the bias registers); where it does not, the expression runs as written */
        pthread_mutex_lock(&ctx->lock);
        int arch = ctx->arch;
        pthread_mutex_unlock(&ctx->lock);
        eg_spec sp;
        eg_config cf;
        eg_rt_spec_of(&low, arch, &sp);
        if (eg_rt_exprs(ctx, &low, &sp.score_mod, &sp.mask_mod) != EFFGEN_OK ||
            eg_config_parse(low.config, &cf) != EFFGEN_OK || eg_config_validate(&cf, &sp) != EFFGEN_OK) {
            eg_err_clear();
            return 0;
        }
    }
    *a = low;
    return 1;
}

effgen_status eg_rt_expr_table(const eg_spec *s, const effgen_attn_args *a, eg_expr_tensors *out) {
    memset(out, 0, sizeof *out);
    const eg_expr *ex[2] = {s->score_mod, s->mask_mod};
    int slot = 0;
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < eg_expr_tensor_count(ex[i]); t++, slot++) {
            eg_expr_decl d;
            eg_expr_tensor(ex[i], t, &d);
            const effgen_expr_tensor *found = NULL;
            for (int j = 0; j < a->n_expr_tensors && !found; j++)
                if (a->expr_tensors[j].name && !strcmp(a->expr_tensors[j].name, d.name)) found = &a->expr_tensors[j];
            if (!found || (int)found->dtype != (int)d.dtype || found->rank != d.rank)
                return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: tensor \"%s\" (%s[%d]) is not in expr_tensors with that dtype and rank",
                              i ? "mask_mod" : "score_mod", d.name, eg_expr_dtype_name(d.dtype), d.rank);
            if (slot >= EG_EXPR_TENSORS_MAX) return eg_err(EFFGEN_UNSUPPORTED, "expressions read more than %d tensors", EG_EXPR_TENSORS_MAX);
            out->ptr[slot] = found->data;
            eg_rt_expr_strides(found, out->stride[slot]);
        }
    return EFFGEN_OK;
}
