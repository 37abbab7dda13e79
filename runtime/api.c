/* api.c - the public entry points that are not about contexts: argument defaults, the forward attention
 * call (validation, device, module cache, launch), describing a problem, and generation and compilation
 * from canonical text, which need neither a context nor a GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define EG_STR_(x) #x
#define EG_STR(x) EG_STR_(x)

const char *effgen_version(void) {
    return EG_STR(EFFGEN_VERSION_MAJOR) "." EG_STR(EFFGEN_VERSION_MINOR) "." EG_STR(EFFGEN_VERSION_PATCH);
}

void effgen_free(void *p) { free(p); }

const char *effgen_features(void) {
    return "causal_top_left,window,softcap,alibi,gqa,lse,strides,varlen,bias,mask,bsparse,score_mod,mask_mod";
}

size_t effgen_attn_args_size(void) { return sizeof(effgen_attn_args); }

const int *effgen_default_head_dims(int *count) {
    static const int dims[] = {64, 80, 96, 128, 160, 192, 256};
    if (count) *count = (int)(sizeof dims / sizeof dims[0]);
    return dims;
}

effgen_status effgen_device_query(effgen_ctx *ctx, effgen_device_info *out) {
    if (!out) return eg_err(EFFGEN_INVALID_ARGUMENT, "out=NULL: must point to an effgen_device_info");
    memset(out, 0, sizeof *out);
    if (!ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "ctx=NULL: open a context with effgen_open");
    effgen_status st = eg_rt_device(ctx, NULL);
    if (st) return st;
    pthread_mutex_lock(&ctx->lock); /* device_ready is set once; arch is read under the lock elsewhere too */
    const eg_rt_device_info *d = &ctx->info;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    out->ordinal = ctx->opt.device;
    out->cc_major = d->cc_major;
    out->cc_minor = d->cc_minor;
    out->sm_count = d->sm_count;
    out->l2_bytes = d->l2_bytes;
    out->smem_optin = d->smem_optin;
    out->driver_version = d->driver_version;
    eg_arch_print(ctx->arch, out->arch, sizeof out->arch);
    pthread_mutex_unlock(&ctx->lock);
    return EFFGEN_OK;
}

void effgen_attn_args_init(effgen_attn_args *a) {
    if (!a) return;
    memset(a, 0, sizeof *a);
    a->dtype = EFFGEN_BF16;
    a->causal_align = EFFGEN_CAUSAL_BOTTOM_RIGHT;
}

/* Spec and config of a problem. Whatever can be checked without the arch is checked first, so bad input
 * is named as such even where no driver is installed; the device is only touched when the context has
 * no arch of its own, so a context opened with an arch validates and describes problems on a machine
 * without a GPU. */
static effgen_status resolve_problem(effgen_ctx *ctx, const effgen_attn_args *a, eg_spec *s, eg_config *c) {
    if (!ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "ctx=NULL: open a context with effgen_open");
    effgen_status st = eg_rt_check_args(a);
    if (st) return st;
    if (!ctx->opt.arch) {
        st = eg_rt_device(ctx, NULL);
        if (st) return st;
    }
    return eg_rt_problem(ctx, a, s, c);
}

effgen_status effgen_attention_fwd(effgen_ctx *ctx, const effgen_attn_args *a, void *stream) {
    return eg_rt_dispatch_fwd(ctx, a, (CUstream)stream); /* dispatch.c: database, model, module cache */
}

/* Copy text into a caller's buffer, naming the size argument when it is too small. */
static effgen_status put_text(const char *text, char *buf, size_t size, const char *name) {
    if (!buf) return EFFGEN_OK;
    size_t n = strlen(text);
    if (n + 1 > size)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=%zu: too small for \"%s\" (needs %zu)", name, size, text, n + 1);
    memcpy(buf, text, n + 1);
    return EFFGEN_OK;
}

effgen_status effgen_describe(effgen_ctx *ctx, const effgen_attn_args *a, char *spec, size_t spec_size, char *config,
                              size_t config_size) {
    eg_spec s;
    eg_config c;
    effgen_status st = resolve_problem(ctx, a, &s, &c);
    if (!st && !a->config) st = eg_rt_dispatch_config(ctx, &s, eg_rt_bucket_len(a), &c, NULL, &s.arch); /* what a call runs */
    if (!st && !a->config) eg_rt_fit_config(a, &c); /* as the dispatcher fits it to a block-sparse table */
    if (st) return st;
    char sk[EG_KEY_MAX], ck[EG_KEY_MAX];
    eg_spec_print(&s, sk, sizeof sk);
    eg_config_print(&c, ck, sizeof ck);
    st = put_text(sk, spec, spec_size, "spec_size");
    if (!st) st = put_text(ck, config, config_size, "config_size");
    return st;
}

/* Parse a config for a spec, or take the model's choice when text is NULL. */
static effgen_status config_for(const char *text, const eg_spec *s, eg_config *c) {
    if (!text) return eg_model_default(s, c);
    effgen_status st = eg_config_parse(text, c);
    if (!st) st = eg_config_validate(c, s);
    return st;
}

/* Parse the expression texts (declarations in the text) and the spec key with them. */
static effgen_status spec_with_mods(const char *spec, const char *score_mod, const char *mask_mod, eg_expr *ex[2],
                                    eg_spec *s) {
    ex[0] = ex[1] = NULL;
    effgen_status st = EFFGEN_OK;
    if (score_mod && (st = eg_expr_parse(score_mod, EG_EXPR_SCORE, NULL, 0, &ex[0])))
        return eg_err_wrap(st, "score_mod");
    if (mask_mod && (st = eg_expr_parse(mask_mod, EG_EXPR_MASK, NULL, 0, &ex[1]))) {
        eg_expr_free(ex[0]);
        ex[0] = NULL;
        return eg_err_wrap(st, "mask_mod");
    }
    return eg_spec_parse_expr(spec, ex[0], ex[1], s);
}

effgen_status effgen_generate(const char *spec, const char *config, char **source) {
    return effgen_generate_mod(spec, config, NULL, NULL, source);
}

effgen_status effgen_generate_mod(const char *spec, const char *config, const char *score_mod, const char *mask_mod,
                                  char **source) {
    if (!source) return eg_err(EFFGEN_INVALID_ARGUMENT, "source=NULL: must point to a char pointer");
    *source = NULL;
    eg_spec s;
    eg_config c;
    eg_expr *ex[2];
    effgen_status st = spec_with_mods(spec, score_mod, mask_mod, ex, &s);
    if (!st) st = config_for(config, &s, &c);
    if (!st) st = eg_cg_generate(&s, &c, source);
    eg_expr_free(ex[0]);
    eg_expr_free(ex[1]);
    return st;
}

effgen_status effgen_compile(effgen_ctx *ctx, const char *spec, const char *config, const char *arch, void **cubin,
                             size_t *size, effgen_kernel_info *info) {
    return effgen_compile_mod(ctx, spec, config, arch, NULL, NULL, cubin, size, info);
}

static effgen_status compile_spec(effgen_ctx *ctx, const eg_spec *sp, const char *config, const char *arch,
                                  void **cubin, size_t *size, effgen_kernel_info *info);

effgen_status effgen_compile_mod(effgen_ctx *ctx, const char *spec, const char *config, const char *arch,
                                 const char *score_mod, const char *mask_mod, void **cubin, size_t *size,
                                 effgen_kernel_info *info) {
    if (cubin) *cubin = NULL;
    if (size) *size = 0;
    if (cubin && !size) return eg_err(EFFGEN_INVALID_ARGUMENT, "size=NULL: needed when cubin is wanted");
    eg_spec s;
    eg_expr *ex[2];
    effgen_status st = spec_with_mods(spec, score_mod, mask_mod, ex, &s);
    if (!st) st = compile_spec(ctx, &s, config, arch, cubin, size, info);
    eg_expr_free(ex[0]);
    eg_expr_free(ex[1]);
    return st;
}

static effgen_status compile_spec(effgen_ctx *ctx, const eg_spec *sp, const char *config, const char *arch,
                                  void **cubin, size_t *size, effgen_kernel_info *info) {
    eg_spec s = *sp;
    eg_config c;
    effgen_status st;
    int target = s.arch;
    if (arch) {
        st = eg_arch_parse(arch, &target);
        if (st) return st;
    }
    /* the config is chosen and checked for the arch the kernel is built for */
    eg_spec t = s;
    t.arch = target;
    st = config_for(config, &t, &c);
    if (st) return st;

    eg_rt_cubin cb;
    st = eg_rt_compile(&s, &c, target, &cb);
    if (st) return st;
    eg_cost cost;
    eg_model_cost(&t, &c, &cost);
    char ck[EG_KEY_MAX];
    eg_config_print(&c, ck, sizeof ck);
    if (info) {
        memset(info, 0, sizeof *info);
        eg_spec_print(&s, info->spec, sizeof info->spec);
        eg_config_print(&c, info->config, sizeof info->config);
        eg_arch_print(target, info->arch, sizeof info->arch);
        info->registers = cb.registers;
        info->smem_bytes = cost.smem_bytes;
        info->spill_bytes = cb.spill_bytes;
        info->stack_bytes = cb.stack_bytes;
        info->wgmma_serialized = cb.wgmma_serialized;
        info->threads = cost.threads;
        info->compile_ms = cb.compile_ms;
        /* before ptxas has spoken (no report in the log) the model's estimate stands in */
        info->occupancy_blocks =
            eg_model_occupancy(target, cost.threads, cb.registers > 0 ? cb.registers : cost.regs_estimate,
                               cost.smem_bytes);
    }
    if (ctx) {
        char sk[EG_KEY_MAX];
        eg_spec_print(&s, sk, sizeof sk);
        char an[16];
        eg_arch_print(target, an, sizeof an);
        eg_rt_log(ctx, "%s %s: compiled for %s in %.1f ms (%d registers, %d bytes spilled, %zu bytes of cubin)", sk,
                  ck, an, cb.compile_ms, cb.registers, cb.spill_bytes, cb.size);
    }
    if (size) *size = cb.size;
    if (cubin) {
        *cubin = cb.data;
        cb.data = NULL;
    }
    eg_rt_cubin_free(&cb);
    return EFFGEN_OK;
}
