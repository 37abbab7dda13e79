/* spec.c - canonical text of specs and configs: one printer per type, one parser that gives the same
 * struct back, and the field checks whose messages name the bad field and the allowed values. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "expr.h"

static const int supported_archs[] = {80, 86, 87, 89, 90, EG_ARCH_SM90A, 100, 103, 110, 120, 121};
#define N_ARCHS ((int)(sizeof supported_archs / sizeof supported_archs[0]))

const char *eg_arch_list(void) {
    return "sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, sm_100, sm_103, sm_110, sm_120, sm_121";
}

static int arch_supported(int arch) {
    for (int i = 0; i < N_ARCHS; i++)
        if (supported_archs[i] == arch) return 1;
    return 0;
}

void eg_arch_print(int arch, char *buf, size_t size) {
    snprintf(buf, size, "sm_%d%s", eg_arch_base(arch), eg_arch_is_feature(arch) ? "a" : "");
}

/* Parse a decimal int that must span the whole token; -1 when it does not. */
static long parse_num(const char *s, size_t n) {
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

effgen_status eg_arch_parse(const char *text, int *arch) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "arch=NULL: must be one of %s", eg_arch_list());
    long v = -1;
    if (strncmp(text, "sm_", 3) == 0) {
        size_t n = strlen(text + 3);
        int feature = n > 1 && text[3 + n - 1] == 'a'; /* "sm_90a": the arch-specific target */
        v = parse_num(text + 3, n - (size_t)feature);
        if (v >= 0 && feature) v += EG_ARCH_FEATURE;
    }
    if (v < 0 || !arch_supported((int)v))
        return eg_err(EFFGEN_PARSE, "arch=\"%s\": must be one of %s", text, eg_arch_list());
    *arch = (int)v;
    return EFFGEN_OK;
}

static const char *mask_text(const eg_spec *s) {
    if (s->mask == EG_MASK_NONE) return "none";
    return s->align == EFFGEN_CAUSAL_TOP_LEFT ? "causal_tl" : "causal";
}

/* The variant suffixes in canonical order; the order is part of the key (one text per struct). */
#define N_VARIANTS 8
static const char *const variant_names[N_VARIANTS] = {"win", "softcap", "alibi", "gqa",
                                                      "varlen", "bias", "mask", "bsparse"};

static int *variant_slot(eg_spec *s, int i) {
    int *slots[N_VARIANTS] = {&s->window, &s->softcap, &s->alibi, &s->gqa,
                              &s->varlen, &s->bias,    &s->bmask, &s->bsparse};
    return slots[i];
}

int eg_spec_has_expr(const eg_spec *s) { return s->score_mod != NULL || s->mask_mod != NULL; }

int eg_spec_expr_batch_free(const eg_spec *s) {
    return eg_expr_tensor_count(s->score_mod) + eg_expr_tensor_count(s->mask_mod) > 0 &&
           !eg_expr_reads_batch(s->score_mod) && !eg_expr_reads_batch(s->mask_mod);
}

int eg_spec_has_variant(const eg_spec *s) {
    return s->window || s->softcap || s->alibi || s->gqa || s->varlen || s->bias || s->bmask || s->bsparse ||
           eg_spec_has_expr(s);
}

static int same_expr(const eg_expr *a, const eg_expr *b) {
    if (!a || !b) return a == b;
    return eg_expr_kind_of(a) == eg_expr_kind_of(b) && strcmp(eg_expr_text(a), eg_expr_text(b)) == 0;
}

int eg_spec_same_exprs(const eg_spec *a, const eg_spec *b) {
    return same_expr(a->score_mod, b->score_mod) && same_expr(a->mask_mod, b->mask_mod);
}

int eg_spec_print(const eg_spec *s, char *buf, size_t size) {
    char sfx[128] = "";
    size_t n_sfx = 0;
    eg_spec c = *s;
    for (int i = 0; i < N_VARIANTS; i++)
        if (*variant_slot(&c, i)) {
            int w = snprintf(sfx + n_sfx, sizeof sfx - n_sfx, "+%s", variant_names[i]);
            if (w > 0) n_sfx += (size_t)w;
        }
    /* expressions by hash, after every flag variant: a spec without them prints the key it always had */
    const eg_expr *ex[2] = {s->score_mod, s->mask_mod};
    const char *ex_names[2] = {"score", "mask"};
    for (int i = 0; i < 2; i++)
        if (ex[i]) {
            char hex[17];
            eg_expr_hash_hex(ex[i], hex);
            int w = snprintf(sfx + n_sfx, sizeof sfx - n_sfx, "+%s.%s", ex_names[i], hex);
            if (w > 0) n_sfx += (size_t)w;
        }
    char arch[16];
    eg_arch_print(s->arch, arch, sizeof arch);
    int n = snprintf(buf, size, "attn_fwd/d%d/%s/%s%s/%s", s->head_dim, s->dtype == EFFGEN_FP16 ? "fp16" : "bf16",
                     mask_text(s), sfx, arch);
    return n < 0 ? 0 : n;
}

int eg_config_print(const eg_config *c, char *buf, size_t size) {
    int n = c->family == EG_FAMILY_WG
                ? snprintf(buf, size, "wg.bm%d.bn%d.c%d.s%d", c->block_m, c->block_n, eg_config_consumers(c), c->stages)
                : snprintf(buf, size, "bm%d.bn%d.w%d.s%d%s", c->block_m, c->block_n, c->warps, c->stages,
                           c->dsplit == 2 ? ".d2" : "");
    return n < 0 ? 0 : n;
}

effgen_status eg_spec_validate(const eg_spec *s) {
    if (s->op != EG_OP_ATTN_FWD) return eg_err(EFFGEN_INVALID_ARGUMENT, "op=%d: must be attn_fwd", (int)s->op);
    if (s->head_dim < 8 || s->head_dim > 256 || s->head_dim % 8)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "head_dim=%d: must be a multiple of 8 from 8 to 256", s->head_dim);
    if (s->dtype != EFFGEN_BF16 && s->dtype != EFFGEN_FP16)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "dtype=%d: must be bf16 or fp16", (int)s->dtype);
    if (s->mask != EG_MASK_NONE && s->mask != EG_MASK_CAUSAL)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "mask=%d: must be none, causal or causal_tl", (int)s->mask);
    if (s->align != EFFGEN_CAUSAL_BOTTOM_RIGHT && s->align != EFFGEN_CAUSAL_TOP_LEFT)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "causal_align=%d: must be bottom_right (0) or top_left (1)",
                      (int)s->align);
    if (!arch_supported(s->arch)) {
        char an[16];
        eg_arch_print(s->arch, an, sizeof an);
        return eg_err(EFFGEN_INVALID_ARGUMENT, "arch=%s: must be one of %s", an, eg_arch_list());
    }
    eg_spec c = *s;
    for (int i = 0; i < N_VARIANTS; i++) {
        int v = *variant_slot(&c, i);
        if (v != 0 && v != 1)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s=%d: must be 0 (off) or 1 (on)", variant_names[i], v);
    }
    if (s->score_mod && eg_expr_kind_of(s->score_mod) != EG_EXPR_SCORE)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "score_mod: the expression was parsed as a mask, not a score");
    if (s->mask_mod && eg_expr_kind_of(s->mask_mod) != EG_EXPR_MASK)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "mask_mod: the expression was parsed as a score, not a mask");
    if (eg_expr_tensor_count(s->score_mod) + eg_expr_tensor_count(s->mask_mod) > EG_EXPR_TENSORS_MAX)
        return eg_err(EFFGEN_UNSUPPORTED,
                      "score_mod and mask_mod read %d + %d tensors: at most %d together (a tensor both read counts twice)",
                      eg_expr_tensor_count(s->score_mod), eg_expr_tensor_count(s->mask_mod), EG_EXPR_TENSORS_MAX);
    if (eg_spec_has_expr(s)) {
        char key[2 * EG_KEY_MAX];
        int n = eg_spec_print(s, key, sizeof key);
        if (n >= EG_KEY_MAX)
            return eg_err(EFFGEN_UNSUPPORTED, "spec \"%s\": %d characters, more than a key holds (%d); drop a variant",
                          key, n, EG_KEY_MAX - 1);
    }
    return EFFGEN_OK;
}

effgen_status eg_spec_parse(const char *text, eg_spec *out) { return eg_spec_parse_expr(text, NULL, NULL, out); }

/* Whether v[0..vl) is "NAME.<16 hex digits>"; the digits in hex. */
static int expr_suffix(const char *v, size_t vl, const char *name, char hex[17]) {
    size_t nl = strlen(name);
    if (vl < nl + 1 || strncmp(v, name, nl) || v[nl] != '.') return 0;
    size_t hl = vl - nl - 1;
    if (hl > 16) hl = 16;
    memcpy(hex, v + nl + 1, hl);
    hex[hl] = 0;
    return 1;
}

effgen_status eg_spec_parse_expr(const char *text, const eg_expr *score, const eg_expr *mask, eg_spec *out) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "spec=NULL: expected text like attn_fwd/d128/bf16/causal/sm_90");
    const char *field_names[5] = {"op", "head dim", "dtype", "mask", "arch"};
    const char *tok[5];
    size_t len[5];
    int n = 0;
    const char *p = text;
    while (n < 5) {
        const char *slash = strchr(p, '/');
        tok[n] = p;
        len[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    if (n != 5 || strchr(tok[4], '/'))
        return eg_err(EFFGEN_PARSE, "spec \"%s\": expected 5 fields op/dHEAD/dtype/mask[+variants]/arch, e.g. attn_fwd/d128/bf16/causal/sm_90",
                      text);
    eg_spec s = {0};
    if (!(len[0] == 8 && !strncmp(tok[0], "attn_fwd", 8)))
        return eg_err(EFFGEN_PARSE, "spec \"%s\": %s \"%.*s\" must be attn_fwd", text, field_names[0], (int)len[0], tok[0]);
    s.op = EG_OP_ATTN_FWD;
    long d = (len[1] > 1 && tok[1][0] == 'd') ? parse_num(tok[1] + 1, len[1] - 1) : -1;
    if (d < 0)
        return eg_err(EFFGEN_PARSE, "spec \"%s\": head dim \"%.*s\" must be d<N>, N a multiple of 8 from 8 to 256", text,
                      (int)len[1], tok[1]);
    s.head_dim = (int)d;
    if (len[2] == 4 && !strncmp(tok[2], "bf16", 4))
        s.dtype = EFFGEN_BF16;
    else if (len[2] == 4 && !strncmp(tok[2], "fp16", 4))
        s.dtype = EFFGEN_FP16;
    else
        return eg_err(EFFGEN_PARSE, "spec \"%s\": dtype \"%.*s\" must be bf16 or fp16", text, (int)len[2], tok[2]);
    /* mask, then optional "+variant" suffixes in canonical order */
    size_t base = len[3];
    const char *plus = memchr(tok[3], '+', len[3]);
    if (plus) base = (size_t)(plus - tok[3]);
    if (base == 4 && !strncmp(tok[3], "none", 4)) {
        s.mask = EG_MASK_NONE;
    } else if (base == 6 && !strncmp(tok[3], "causal", 6)) {
        s.mask = EG_MASK_CAUSAL;
    } else if (base == 9 && !strncmp(tok[3], "causal_tl", 9)) {
        s.mask = EG_MASK_CAUSAL;
        s.align = EFFGEN_CAUSAL_TOP_LEFT;
    } else {
        return eg_err(EFFGEN_PARSE, "spec \"%s\": mask \"%.*s\" must be none, causal or causal_tl", text, (int)base,
                      tok[3]);
    }
    int next = 0; /* variants before this index are behind us */
    for (size_t at = base; at < len[3];) {
        const char *v = tok[3] + at + 1;
        const char *end = memchr(v, '+', len[3] - at - 1);
        size_t vl = end ? (size_t)(end - v) : len[3] - at - 1;
        int found = -1;
        for (int i = 0; i < N_VARIANTS; i++)
            if (strlen(variant_names[i]) == vl && !strncmp(v, variant_names[i], vl)) found = i;
        char hex[17];
        int ex = expr_suffix(v, vl, "score", hex) ? 0 : expr_suffix(v, vl, "mask", hex) ? 1 : -1;
        if (ex >= 0) {
            const char *kind = ex ? "mask" : "score";
            const eg_expr *given = ex ? mask : score;
            if ((ex == 0 && (s.score_mod || s.mask_mod)) || (ex == 1 && s.mask_mod))
                return eg_err(EFFGEN_PARSE,
                              "spec \"%s\": variant \"%.*s\" out of order or repeated; expressions follow the other "
                              "variants, +score.HASH before +mask.HASH",
                              text, (int)vl, v);
            int hex_ok = vl == strlen(kind) + 17;
            for (int i = 0; hex_ok && i < 16; i++) hex_ok = isdigit((unsigned char)hex[i]) || (hex[i] >= 'a' && hex[i] <= 'f');
            if (!hex_ok)
                return eg_err(EFFGEN_PARSE, "spec \"%s\": variant \"%.*s\": the hash must be 16 lower-case hex digits",
                              text, (int)vl, v);
            if (!given)
                return eg_err(EFFGEN_PARSE,
                              "spec \"%s\": variant \"+%.*s\" names a %s expression by the hash of its text, which "
                              "the key does not hold: give the text (effgen --%s-mod TEXT, eg_spec_parse_expr, "
                              "effgen_generate_mod, effgen_compile_mod)",
                              text, (int)vl, v, kind, kind);
            char want[17];
            eg_expr_hash_hex(given, want);
            if (strcmp(want, hex))
                return eg_err(EFFGEN_PARSE, "spec \"%s\": variant \"+%.*s\": the %s_mod given hashes to %s (\"%s\")",
                              text, (int)vl, v, kind, want, eg_expr_text(given));
            if (ex == 0)
                s.score_mod = given;
            else
                s.mask_mod = given;
            next = N_VARIANTS;
            at += 1 + vl;
            continue;
        }
        if (found >= 0 && (s.score_mod || s.mask_mod)) found = -2; /* a flag variant after an expression */
        if (found == -2)
            return eg_err(EFFGEN_PARSE,
                          "spec \"%s\": variant \"%.*s\" out of order; expressions (+score.HASH, +mask.HASH) come "
                          "after every other variant",
                          text, (int)vl, v);
        if (found < 0)
            return eg_err(EFFGEN_PARSE, "spec \"%s\": variant \"%.*s\" must be one of win, softcap, alibi, gqa, varlen, bias, mask, bsparse, score.HASH, mask.HASH", text,
                          (int)vl, v);
        if (found < next)
            return eg_err(EFFGEN_PARSE,
                          "spec \"%s\": variant \"%.*s\" out of order or repeated; variants follow the mask once "
                          "each in the order +win+softcap+alibi+gqa+varlen+bias+mask+bsparse",
                          text, (int)vl, v);
        *variant_slot(&s, found) = 1;
        next = found + 1;
        at += 1 + vl;
    }
    /* an expression given for a key without its suffix joins the spec (the key printed then has it) */
    if (score && !s.score_mod) s.score_mod = score;
    if (mask && !s.mask_mod) s.mask_mod = mask;
    effgen_status st = eg_arch_parse(tok[4], &s.arch);
    if (st) return eg_err_wrap(st, "spec \"%s\"", text);
    st = eg_spec_validate(&s);
    if (st) return eg_err_wrap(st, "spec \"%s\"", text);
    *out = s;
    return EFFGEN_OK;
}

/* The wg family: one producer warpgroup and 1 to 3 consumers of 64 query rows each; key tiles of 64 or
 * 128 (the N of the S = Q K^T wgmma); with a spec, the arch, head dims and variants it implements and the
 * shared memory and registers of the arch. */
static effgen_status wg_validate(const eg_config *c, const eg_spec *s, const char *key) {
    int cons = eg_config_consumers(c);
    if (c->warps % 4 || cons < 1 || cons > 3)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: consumers=%d: must be 1, 2 or 3 warpgroups", key, cons);
    if (c->block_m != 64 * cons)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: block_m=%d: must be 64 * consumers (%d)", key, c->block_m,
                      64 * cons);
    if (c->block_n != 64 && c->block_n != 128)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: block_n=%d: must be 64 or 128", key, c->block_n);
    if (c->stages < 2 || c->stages > 4)
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "config %s: stages=%d: must be 2 to 4 (a consumer holds one stage while the next loads)", key,
                      c->stages);
    if (!s) return EFFGEN_OK;
    char sk[EG_KEY_MAX];
    eg_spec_print(s, sk, sizeof sk);
    if (s->arch != EG_ARCH_SM90A)
        return eg_err(EFFGEN_UNSUPPORTED, "config %s for %s: the wgmma family runs on sm_90a only (spec arch sm_90a)",
                      key, sk);
    if (s->head_dim < 8 || s->head_dim > 256 || s->head_dim % 8)
        return eg_err(EFFGEN_UNSUPPORTED,
                      "config %s for %s: head_dim=%d: the wgmma family supports multiples of 8 from 8 to 256", key,
                      sk, s->head_dim);
    if (s->varlen && (s->bias || s->bmask || s->bsparse))
        return eg_err(EFFGEN_UNSUPPORTED,
                      "config %s for %s: the wgmma family takes +varlen without +bias, +mask and +bsparse (an mma "
                      "config runs them together)",
                      key, sk);
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    eg_arch_limits lim = eg_model_limits(s->arch);
    if (cost.smem_bytes > lim.smem_per_block)
        return eg_err(EFFGEN_RESOURCES, "config %s for %s: shared memory %d bytes exceeds the sm_90a limit of %d bytes",
                      key, sk, cost.smem_bytes, lim.smem_per_block);
    int prod, cons_regs;
    eg_model_wg_regs(cons, &prod, &cons_regs);
    int cap = cons_regs ? cons_regs : 255;
    if (cost.regs_estimate > cap)
        return eg_err(EFFGEN_RESOURCES,
                      "config %s for %s: a consumer needs about %d registers per thread, more than its %d; use a "
                      "smaller block_n or fewer consumers",
                      key, sk, cost.regs_estimate, cap);
    return EFFGEN_OK;
}

effgen_status eg_config_validate(const eg_config *c, const eg_spec *s) {
    char key[EG_KEY_MAX];
    eg_config_print(c, key, sizeof key);
    if (c->family == EG_FAMILY_WG) return wg_validate(c, s, key);
    if (c->family != EG_FAMILY_MMA)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: family=%d: must be mma (0) or wg (1)", key, c->family);
    if (c->warps != 1 && c->warps != 2 && c->warps != 4 && c->warps != 8)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: warps=%d: must be 1, 2, 4 or 8", key, c->warps);
    if (c->block_m < 16 || c->block_m > 256 || c->block_m % (16 * c->warps))
        return eg_err(EFFGEN_INVALID_ARGUMENT,
                      "config %s: block_m=%d: must be a multiple of 16*warps (%d) and at most 256", key, c->block_m,
                      16 * c->warps);
    if (c->block_n < 16 || c->block_n > 256 || c->block_n % 16)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: block_n=%d: must be a multiple of 16 from 16 to 256", key,
                      c->block_n);
    if (c->stages < 1 || c->stages > 4)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: stages=%d: must be 1 to 4", key, c->stages);
    if (c->dsplit != 0 && c->dsplit != 2)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: dsplit=%d: must be 0 (one warp per row tile) or 2 (.d2: "
                      "warps in pairs)", key, c->dsplit);
    if (c->dsplit == 2) {
        /* templates/eg_attn_fwd_pair.cuh: 32 rows per pair of warps, S and P V split in halves of 16s */
        if (c->warps < 2 || c->block_m != 16 * c->warps)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "config %s: block_m=%d, warps=%d: the .d2 layout needs warps 2, 4 or 8 and block_m = "
                          "16*warps (32 rows per pair of warps)", key, c->block_m, c->warps);
        if (c->block_n % 32)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: block_n=%d: the .d2 layout needs a multiple of 32",
                          key, c->block_n);
        if (c->stages < 2)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "config %s: stages=%d: the .d2 layout needs 2 to 4", key,
                          c->stages);
    }
    if (!s) return EFFGEN_OK;
    if (c->dsplit == 2) {
        char sk[EG_KEY_MAX];
        eg_spec_print(s, sk, sizeof sk);
        if (s->head_dim % 32)
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "config %s for %s: head_dim=%d: the .d2 layout needs a multiple of 32 (halves of 16s)", key,
                          sk, s->head_dim);
        if (s->window || s->softcap || s->alibi || s->varlen || s->bias || s->bmask || s->bsparse ||
            eg_spec_has_expr(s))
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "config %s for %s: the .d2 layout runs none, causal and causal_tl masks with +gqa only; "
                          "use a config without .d2",
                          key, sk);
    }
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    eg_arch_limits lim = eg_model_limits(s->arch);
    if (cost.smem_bytes > lim.smem_per_block) {
        char sk[EG_KEY_MAX];
        eg_spec_print(s, sk, sizeof sk);
        char an[16];
        eg_arch_print(s->arch, an, sizeof an);
        return eg_err(EFFGEN_RESOURCES, "config %s for %s: shared memory %d bytes exceeds the %s limit of %d bytes",
                      key, sk, cost.smem_bytes, an, lim.smem_per_block);
    }
    if (cost.regs_estimate > 255) {
        char sk[EG_KEY_MAX];
        eg_spec_print(s, sk, sizeof sk);
        return eg_err(EFFGEN_RESOURCES,
                      "config %s for %s: accumulators need about %d registers per thread, more than 255; "
                      "use fewer rows per warp (block_m/warps) or a smaller block_n",
                      key, sk, cost.regs_estimate);
    }
    return EFFGEN_OK;
}

effgen_status eg_config_parse(const char *text, eg_config *out) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "config=NULL: expected text like bm128.bn64.w4.s2");
    eg_config c = {0, 0, 0, 0, EG_FAMILY_MMA, 0};
    int *slot[4] = {&c.block_m, &c.block_n, &c.warps, &c.stages};
    const char *pre[4] = {"bm", "bn", "w", "s"};
    const char *form = "bm<N>.bn<N>.w<N>.s<N>";
    const char *p = text;
    if (!strncmp(text, "wg.", 3)) {
        /* the warpgroup family: "wg." then the tiles, consumer warpgroups and stages */
        c.family = EG_FAMILY_WG;
        pre[2] = "c";
        form = "wg.bm<N>.bn<N>.c<N>.s<N>";
        p += 3;
    }
    for (int i = 0; i < 4; i++) {
        size_t pl = strlen(pre[i]);
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        long v = (n > pl && !strncmp(p, pre[i], pl)) ? parse_num(p + pl, n - pl) : -1;
        if (v < 0)
            return eg_err(EFFGEN_PARSE, "config \"%s\": field %d \"%.*s\" must be %s<N>; the form is %s", text, i + 1,
                          (int)n, p, pre[i], form);
        *slot[i] = (int)v;
        if (i < 3 && !dot)
            return eg_err(EFFGEN_PARSE, "config \"%s\": missing fields; the form is %s", text, form);
        if (i == 3 && dot) {
            /* the mma family's pair layout: ".d2" */
            if (c.family == EG_FAMILY_MMA && !strcmp(dot, ".d2")) {
                c.dsplit = 2;
                break;
            }
            return eg_err(EFFGEN_PARSE, "config \"%s\": unexpected text \"%s\" after the stages field%s", text, dot,
                          c.family == EG_FAMILY_MMA ? " (the one suffix is .d2)" : "");
        }
        p = dot ? dot + 1 : p + n;
    }
    if (c.family == EG_FAMILY_WG) {
        if (c.warps < 1 || c.warps > 3)
            return eg_err(EFFGEN_PARSE, "config \"%s\": consumers=%d: must be 1, 2 or 3 warpgroups", text, c.warps);
        c.warps = 4 * (c.warps + 1); /* the producer warpgroup and the consumers */
    }
    effgen_status st = eg_config_validate(&c, NULL);
    if (st) return st;
    *out = c;
    return EFFGEN_OK;
}
