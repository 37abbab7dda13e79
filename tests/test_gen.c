/* test_gen.c - the source generator: generated text carries the constants and canonical keys of its
 * spec and config, includes only the embedded templates (never a toolkit header), differs in the mask
 * hook between masks, is deterministic, and the public effgen_generate fails cleanly on bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "expr.h"
#include "t.h"

static int is_template(const char *name, size_t n) {
    for (int i = 0; i < eg_template_count; i++)
        if (strlen(eg_templates[i].name) == n && !strncmp(eg_templates[i].name, name, n)) return 1;
    return 0;
}

/* Every #include in text names an embedded template in quotes: the program must compile with no include
 * path and no files, and no toolkit header may sneak in. */
static void includes_only_templates(const char *what, const char *text) {
    for (const char *p = strstr(text, "#include"); p; p = strstr(p + 1, "#include")) {
        const char *q = p + strlen("#include");
        while (*q == ' ' || *q == '\t') q++;
        if (!CHECK(*q == '"')) {
            fprintf(stderr, "  %s: include not in quotes: %.40s\n", what, p);
            continue;
        }
        const char *end = strchr(q + 1, '"');
        if (!CHECK(end != NULL)) continue;
        if (!CHECK(is_template(q + 1, (size_t)(end - q - 1))))
            fprintf(stderr, "  %s includes %.*s, which is not embedded\n", what, (int)(end - q - 1), q + 1);
    }
    CHECK_LACKS(text, "#include <");
}

static char *gen(const char *spec, const char *config) {
    eg_spec s;
    eg_config c;
    char *src = NULL;
    if (!CHECK_OK(eg_spec_parse(spec, &s))) return NULL;
    if (!CHECK_OK(eg_config_parse(config, &c))) return NULL;
    if (!CHECK_OK(eg_cg_generate(&s, &c, &src))) return NULL;
    CHECK(src != NULL && strlen(src) > 100);
    return src;
}

static void constants_and_keys(void) {
    char *src = gen("attn_fwd/d80/fp16/causal/sm_80", "bm64.bn32.w4.s2");
    if (!src) return;
    CHECK_HAS(src, "attn_fwd/d80/fp16/causal/sm_80");
    CHECK_HAS(src, "bm64.bn32.w4.s2");
    CHECK_HAS(src, "D = 80;");
    CHECK_HAS(src, "BM = 64, BN = 32, WARPS = 4, STAGES = 2;");
    CHECK_HAS(src, "PITCH = 88;"); /* 80/8 = 10 chunks, padded to 11 */
    CHECK_HAS(src, "eg::fp16");
    CHECK_HAS(src, "BF16 = false");
    CHECK_HAS(src, "CAUSAL = true");
    CHECK_HAS(src, "extern \"C\" __global__");
    CHECK_HAS(src, EG_KERNEL_NAME "(");
    CHECK_HAS(src, "__launch_bounds__(128");
    CHECK_HAS(src, eg_generator_version);
    includes_only_templates("d80 source", src);
    free(src);

    src = gen("attn_fwd/d256/bf16/none/sm_90", "bm128.bn64.w8.s2");
    if (!src) return;
    CHECK_HAS(src, "D = 256;");
    CHECK_HAS(src, "eg::bf16");
    CHECK_HAS(src, "BF16 = true");
    CHECK_HAS(src, "CAUSAL = false");
    CHECK_HAS(src, "__launch_bounds__(256");
    free(src);
}

/* Every variant of a wg kernel's spec is a trait of its source (an absent trait is false in the template,
 * so a missing line would silently run the plain kernel). */
static void wg_traits(void) {
    static const char *const jobs[][3] = {
        {"attn_fwd/d128/bf16/causal+win+softcap+alibi+gqa+varlen/sm_90a", "wg.bm128.bn128.c2.s2",
         "WINDOW SOFTCAP ALIBI GQA VARLEN"},
        {"attn_fwd/d64/fp16/none+softcap+bsparse/sm_90a", "wg.bm128.bn128.c2.s3", "SOFTCAP BSPARSE"},
        {"attn_fwd/d128/bf16/none+bias/sm_90a", "wg.bm128.bn64.c2.s2", "BIAS"},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2", ""},
    };
    static const char *const all[] = {"WINDOW", "SOFTCAP", "ALIBI", "GQA", "VARLEN", "BSPARSE", "BIAS"};
    for (int i = 0; i < 4; i++) {
        char *src = gen(jobs[i][0], jobs[i][1]);
        if (!src) continue;
        for (int t = 0; t < 7; t++) {
            char want[64];
            snprintf(want, sizeof want, "static constexpr bool %s = true;", all[t]);
            int on = strstr(jobs[i][2], all[t]) != NULL, has = strstr(src, want) != NULL;
            if (!CHECK_INT(has, on)) fprintf(stderr, "  %s: trait %s\n", jobs[i][0], all[t]);
        }
        free(src);
    }
}

/* A trait the model turns on for some (spec, config) pairs: the generated source has `NAME = true` exactly
 * where the model function says so, and the model says what each case expects. */
typedef struct {
    const char *spec, *config;
    int on;
} trait_case;

static void check_trait(const char *name, int (*model)(const eg_spec *, const eg_config *), const trait_case *cases,
                        size_t n) {
    char text[64];
    snprintf(text, sizeof text, "%s = true", name);
    for (size_t i = 0; i < n; i++) {
        char *src = gen(cases[i].spec, cases[i].config);
        if (!src) continue;
        int has = strstr(src, text) != NULL;
        if (!CHECK_INT(has, cases[i].on)) fprintf(stderr, "  %s %s: %s %d\n", cases[i].spec, cases[i].config, name, has);
        eg_spec s;
        eg_config c;
        if (CHECK_OK(eg_spec_parse(cases[i].spec, &s)) && CHECK_OK(eg_config_parse(cases[i].config, &c)))
            CHECK_INT(model(&s, &c), cases[i].on);
        free(src);
    }
}

/* eg_model_wg_walk in check_trait's form (strips depend on the spec alone) */
static int wg_walk_of(const eg_spec *s, const eg_config *c) {
    (void)c;
    return eg_model_wg_walk(s);
}

/* The output buffer's traits follow the model: a whole buffer is OBUF alone, a partial one adds its block
 * count, none writes neither; likewise the softmax overlap. */
static void wg_output_buffer_traits(void) {
    static const struct {
        const char *spec, *config;
        int obuf, blocks;
    } jobs[] = {
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2", 1, 0},
        {"attn_fwd/d256/bf16/causal/sm_90a", "wg.bm128.bn64.c2.s2", 1, 2},
        {"attn_fwd/d256/fp16/none/sm_90a", "wg.bm64.bn64.c1.s3", 0, 0},
    };
    for (int i = 0; i < (int)(sizeof jobs / sizeof jobs[0]); i++) {
        char *src = gen(jobs[i].spec, jobs[i].config);
        if (!src) continue;
        CHECK_INT(strstr(src, "static constexpr bool OBUF = true;") != NULL, jobs[i].obuf);
        const char *b = strstr(src, "static constexpr int OBUF_BLOCKS = ");
        CHECK_INT(b ? atoi(b + strlen("static constexpr int OBUF_BLOCKS = ")) : 0, jobs[i].blocks);
        free(src);
    }
    /* the softmax overlaps the consumer's own P V with two consumers of 128-key tiles above D = 64, without
     * a bias, only */
    static const trait_case ov[] = {
        {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d96/fp16/none+win/sm_90a", "wg.bm128.bn128.c2.s3", 1},
        {"attn_fwd/d64/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d64/bf16/none/sm_90a", "wg.bm192.bn128.c3.s2", 0},
        {"attn_fwd/d256/bf16/none/sm_90a", "wg.bm128.bn64.c2.s2", 0},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm64.bn128.c1.s2", 0},
        {"attn_fwd/d128/bf16/none+bias/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/causal+win+alibi/sm_90a", "wg.bm128.bn128.c2.s2", 1},
    };
    check_trait("SOFTMAX_OVERLAP", eg_model_wg_softmax_overlap, ov, sizeof ov / sizeof ov[0]);
    /* strips of query blocks: a window at head dims 72 to 128, without a bias or a block-sparse table, on any
     * config */
    static const trait_case wk[] = {
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d72/fp16/none+win+gqa+varlen/sm_90a", "wg.bm64.bn64.c1.s4", 1},
        {"attn_fwd/d96/bf16/causal+win+softcap+alibi/sm_90a", "wg.bm128.bn64.c2.s3", 1},
        {"attn_fwd/d64/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s3", 0},
        {"attn_fwd/d256/bf16/causal+win/sm_90a", "wg.bm128.bn64.c2.s2", 0},
        {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+bias/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+bsparse/sm_90a", "wg.bm128.bn128.c2.s2", 0},
    };
    check_trait("WALK", wg_walk_of, wk, sizeof wk / sizeof wk[0]);
    /* half key tiles: a window at head dims 72 to 128 on 128-key tiles with two consumers, without a bias, a
     * bit mask, a block-sparse table or expressions */
    static const trait_case hv[] = {
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d96/fp16/none+win+softcap+alibi+gqa/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d72/bf16/causal+win+varlen/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d64/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s3", 0},
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm128.bn64.c2.s2", 0},
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm64.bn128.c1.s2", 0},
        {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+bias/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+mask/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+bsparse/sm_90a", "wg.bm128.bn128.c2.s2", 0},
    };
    check_trait("HALVES", eg_model_wg_halves, hv, sizeof hv / sizeof hv[0]);
    /* one V stage more than K's: the kernels that walk strips, where it fits in shared memory beside the output
     * buffer the kernel has without it */
    static const trait_case vs[] = {
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s2", 1},
        {"attn_fwd/d72/fp16/none+win+gqa+varlen/sm_90a", "wg.bm64.bn64.c1.s4", 1},
        {"attn_fwd/d96/bf16/causal+win+softcap+alibi/sm_90a", "wg.bm128.bn64.c2.s3", 1},
        {"attn_fwd/d128/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s3", 0},
        {"attn_fwd/d64/bf16/causal+win/sm_90a", "wg.bm128.bn128.c2.s3", 0},
        {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn128.c2.s2", 0},
        {"attn_fwd/d128/bf16/none+win+bias/sm_90a", "wg.bm128.bn128.c2.s2", 0},
    };
    check_trait("VSTAGE", eg_model_wg_vstage, vs, sizeof vs / sizeof vs[0]);
}

static void templates_self_contained(void) {
    CHECK(eg_template_count >= 2);
    for (int i = 0; i < eg_template_count; i++) {
        CHECK(strlen(eg_templates[i].text) > 0);
        includes_only_templates(eg_templates[i].name, eg_templates[i].text);
        CHECK_LACKS(eg_templates[i].text, "cuda_fp16.h");
        CHECK_LACKS(eg_templates[i].text, "cuda_bf16.h");
    }
    CHECK(strlen(eg_generator_version) == 16);
}

/* The mask hook is the only generated logic; none and causal must differ there and only the causal one
 * compares indices. Top-left and bottom-right share a kernel (the offset is a launch parameter). */
static void mask_hook(void) {
    char *none = gen("attn_fwd/d64/bf16/none/sm_90", "bm128.bn64.w4.s2");
    char *causal = gen("attn_fwd/d64/bf16/causal/sm_90", "bm128.bn64.w4.s2");
    char *tl = gen("attn_fwd/d64/bf16/causal_tl/sm_90", "bm128.bn64.w4.s2");
    if (none && causal && tl) {
        const char *hn = strstr(none, "visible("), *hc = strstr(causal, "visible(");
        if (CHECK(hn && hc)) {
            const char *en = strchr(hn, '}'), *ec = strchr(hc, '}');
            CHECK(en && ec && ((en - hn) != (ec - hc) || strncmp(hn, hc, (size_t)(en - hn)) != 0));
        }
        CHECK_HAS(causal, "k <= q + causal_offset");
        CHECK_LACKS(none, "k <= q + causal_offset");
        CHECK_HAS(none, "return true;");
        CHECK_HAS(tl, "k <= q + causal_offset");
        CHECK_HAS(tl, "causal_tl");
    }
    free(none);
    free(causal);
    free(tl);
}

/* Same input, same bytes: the source is part of what the cache keys stand for. */
static void deterministic_and_balanced(void) {
    static const char *dt[] = {"bf16", "fp16"};
    static const char *mk[] = {"none", "causal"};
    int n = 0;
    for (int d = 8; d <= 256; d += 8)
        for (int t = 0; t < 2; t++)
            for (int m = 0; m < 2; m++) {
                char spec[EG_KEY_MAX], key[EG_KEY_MAX];
                snprintf(spec, sizeof spec, "attn_fwd/d%d/%s/%s/sm_90", d, dt[t], mk[m]);
                eg_spec s;
                eg_config c;
                char *a = NULL, *b = NULL;
                if (!CHECK_OK(eg_spec_parse(spec, &s)) || !CHECK_OK(eg_model_default(&s, &c))) continue;
                CHECK_OK(eg_cg_generate(&s, &c, &a));
                CHECK_OK(eg_cg_generate(&s, &c, &b));
                if (CHECK(a && b)) {
                    CHECK_STR(a, b);
                    eg_config_print(&c, key, sizeof key);
                    CHECK_HAS(a, key);
                    CHECK_HAS(a, spec);
                    int depth = 0, min_depth = 0;
                    for (const char *p = a; *p; p++) {
                        depth += (*p == '{') - (*p == '}');
                        if (depth < min_depth) min_depth = depth;
                    }
                    CHECK_INT(depth, 0);
                    CHECK_INT(min_depth, 0);
                }
                free(a);
                free(b);
                n++;
            }
    CHECK_INT(n, 32 * 4);
}

/* The pair layout's source: its template and entry point, the same traits otherwise. */
static void pair_source(void) {
    eg_spec s = {EG_OP_ATTN_FWD, 256, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config c = {128, 64, 8, 2, EG_FAMILY_MMA, 2};
    char *src = NULL;
    if (CHECK_OK(eg_cg_generate(&s, &c, &src))) {
        CHECK_HAS(src, "#include \"eg_attn_fwd_pair.cuh\"");
        CHECK_HAS(src, "eg::attn_fwd_pair<eg_kernel_traits>(p);");
        CHECK_HAS(src, "// config bm128.bn64.w8.s2.d2");
        CHECK_HAS(src, "BM = 128, BN = 64, WARPS = 8, STAGES = 2");
        includes_only_templates("pair", src);
    }
    free(src);
    src = NULL;
    c.dsplit = 0;
    if (CHECK_OK(eg_cg_generate(&s, &c, &src))) {
        CHECK_LACKS(src, "eg_attn_fwd_pair.cuh");
        CHECK_HAS(src, "eg::attn_fwd<eg_kernel_traits>(p);");
    }
    free(src);
    src = NULL;
    c.dsplit = 2;
    s.softcap = 1; /* a variant the layout does not run: refused, naming the way out */
    CHECK_STATUS(eg_cg_generate(&s, &c, &src), EFFGEN_INVALID_ARGUMENT);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "without .d2");
}

/* The UOFF trait (unsigned copy offsets and LSE row): the plain loop from D = 128 on sm_90 and later without
 * variants, never at D = 64, on sm_80 to sm_89, with a variant or in the pair layout (eg_model_unsigned_offsets:
 * where it measured faster and removed the spills, and not where it moved ptxas's allocation for the worse). */
static void unsigned_offsets_trait(void) {
    static const trait_case cases[] = {
        {"attn_fwd/d128/bf16/none/sm_90", "bm128.bn64.w4.s2", 1},
        {"attn_fwd/d160/fp16/causal/sm_100", "bm128.bn32.w4.s2", 1},
        {"attn_fwd/d256/bf16/none/sm_120", "bm128.bn16.w8.s2", 1},
        {"attn_fwd/d64/bf16/none/sm_90", "bm128.bn64.w4.s2", 0},
        {"attn_fwd/d96/bf16/causal/sm_100", "bm128.bn64.w4.s2", 0},
        {"attn_fwd/d160/bf16/causal/sm_80", "bm128.bn32.w4.s2", 0},
        {"attn_fwd/d128/bf16/none/sm_89", "bm128.bn32.w4.s2", 0},
        {"attn_fwd/d192/bf16/none/sm_90", "bm128.bn64.w8.s2.d2", 0},
        {"attn_fwd/d128/bf16/causal+gqa/sm_90", "bm128.bn64.w4.s2", 0},
    };
    check_trait("UOFF", eg_model_unsigned_offsets, cases, sizeof cases / sizeof cases[0]);
}

/* The LAST_APART trait (the pair layout's last causal key tile as a copy of its own): causal pair-layout
 * kernels, with GQA too, but not on sm_110 (where ptxas spilled the copy), without the mask, or in the plain
 * loop (eg_model_pair_last_apart). */
static void last_apart_trait(void) {
    static const trait_case cases[] = {
        {"attn_fwd/d256/bf16/causal/sm_90", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d192/fp16/causal/sm_100", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d256/bf16/causal+gqa/sm_90", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d256/bf16/causal/sm_80", "bm64.bn32.w4.s2.d2", 1},
        {"attn_fwd/d256/bf16/none/sm_90", "bm128.bn64.w8.s2.d2", 0},
        {"attn_fwd/d256/bf16/causal/sm_110", "bm128.bn64.w8.s2.d2", 0},
        {"attn_fwd/d256/bf16/causal/sm_90", "bm128.bn32.w8.s2", 0},
        {"attn_fwd/d128/bf16/causal/sm_90", "bm128.bn64.w4.s2", 0},
    };
    check_trait("LAST_APART", eg_model_pair_last_apart, cases, sizeof cases / sizeof cases[0]);
}

/* The ONE_BARRIER trait (one block barrier per key tile in the pair layout): pair kernels at D = 256, any mask,
 * dtype or arch, with GQA too; not at D = 192 (where ptxas then gave up the loop's uniform datapath) nor in the
 * plain loop (eg_model_pair_one_barrier). */
static void one_barrier_trait(void) {
    static const trait_case cases[] = {
        {"attn_fwd/d256/bf16/none/sm_90", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d256/fp16/causal/sm_100", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d256/bf16/causal+gqa/sm_90", "bm128.bn64.w8.s2.d2", 1},
        {"attn_fwd/d256/bf16/none/sm_80", "bm64.bn32.w4.s2.d2", 1},
        {"attn_fwd/d192/bf16/none/sm_90", "bm128.bn64.w8.s2.d2", 0},
        {"attn_fwd/d192/bf16/causal/sm_90", "bm128.bn64.w8.s2.d2", 0},
        {"attn_fwd/d256/bf16/none/sm_90", "bm128.bn64.w8.s2", 0},
        {"attn_fwd/d128/bf16/causal/sm_90", "bm128.bn64.w4.s2", 0},
    };
    check_trait("ONE_BARRIER", eg_model_pair_one_barrier, cases, sizeof cases / sizeof cases[0]);
}

static void internal_bad_input(void) {
    eg_spec s = {EG_OP_ATTN_FWD, 100, EFFGEN_BF16, EG_MASK_NONE, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config c = {128, 64, 4, 2, EG_FAMILY_MMA, 0};
    char *src = NULL;
    CHECK_STATUS(eg_cg_generate(&s, &c, &src), EFFGEN_INVALID_ARGUMENT);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
    s.head_dim = 256;
    s.arch = 86;
    c.stages = 4;
    CHECK_STATUS(eg_cg_generate(&s, &c, &src), EFFGEN_RESOURCES);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "shared memory");
}

static void emitter(void) {
    eg_emit e;
    char *out = NULL;
    eg_emit_init(&e);
    eg_emit_open(&e, "struct s%d", 1);
    eg_emit_line(&e, "int x = %d;", 7);
    eg_emit_close(&e, ";");
    CHECK_OK(eg_emit_finish(&e, &out));
    if (CHECK(out != NULL)) {
        CHECK_HAS(out, "struct s1 {");
        CHECK_HAS(out, "int x = 7;");
        CHECK_HAS(out, "};");
        /* the body is indented deeper than its scope */
        const char *x = strstr(out, "int x");
        CHECK(x && x > out && x[-1] == ' ');
    }
    free(out);

    /* the sticky error: once failed, finish reports it and hands back nothing */
    static char long_line[2000];
    memset(long_line, 'x', sizeof long_line - 1);
    eg_emit_init(&e);
    eg_emit_line(&e, "before");
    eg_emit_line(&e, "%s", long_line); /* longer than the emitter's line limit */
    eg_emit_line(&e, "after");
    char *keep = (char *)"untouched";
    out = keep;
    CHECK_STATUS(eg_emit_finish(&e, &out), EFFGEN_NO_MEMORY);
    CHECK(out == keep);
    CHECK(e.buf == NULL && e.len == 0 && !e.failed); /* reset for reuse */
}

/* The public entry point: text in, text out, clean failures. */
static void public_generate(void) {
    char *src = NULL;
    CHECK_OK(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", "bm128.bn64.w4.s2", &src));
    if (CHECK(src != NULL)) CHECK_HAS(src, "bm128.bn64.w4.s2");
    effgen_free(src);

    src = NULL;
    CHECK_OK(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", NULL, &src)); /* the model's choice */
    if (CHECK(src != NULL)) {
        eg_spec s;
        eg_config c;
        char key[EG_KEY_MAX];
        CHECK_OK(eg_spec_parse("attn_fwd/d128/bf16/causal/sm_90", &s));
        CHECK_OK(eg_model_default(&s, &c));
        eg_config_print(&c, key, sizeof key);
        CHECK_HAS(src, key);
    }
    effgen_free(src);

    src = NULL;
    CHECK_STATUS(effgen_generate("attn_fwd/d100/bf16/causal/sm_90", NULL, &src), EFFGEN_INVALID_ARGUMENT);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
    CHECK_STATUS(effgen_generate("attn_fwd/d128/bf16/causal/sm_70", NULL, &src), EFFGEN_PARSE);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "sm_70");
    CHECK_STATUS(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", "bm128.bn64.w3.s2", &src),
                 EFFGEN_INVALID_ARGUMENT);
    CHECK(src == NULL);
    CHECK_HAS(effgen_last_error(), "warps=3");
    CHECK_STATUS(effgen_generate("attn_fwd/d256/bf16/causal/sm_86", "bm128.bn128.w8.s4", &src), EFFGEN_RESOURCES);
    CHECK(src == NULL);
    CHECK_STATUS(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", "garbage", &src), EFFGEN_PARSE);
    CHECK(src == NULL);
    CHECK_STATUS(effgen_generate(NULL, NULL, &src), EFFGEN_INVALID_ARGUMENT);
    CHECK(src == NULL);
    CHECK_STATUS(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", NULL, NULL), EFFGEN_INVALID_ARGUMENT);
    effgen_free(NULL);
}

/* Expressions: in the wg family a score expression score + E becomes SCORE_ADD with the term alone (not
 * under softcap, which comes first: then SCORE_MOD, as for any other score expression; the mma family
 * always takes SCORE_MOD); in both families a mask expression gets MASK_RANGE and its tile classification
 * only where a comparison of ints without tensor reads can decide a tile, and expressions that read
 * tensors but not b get BATCH_FREE. */
static void wg_expression_traits(void) {
    static const struct {
        const char *spec, *config, *score, *mask;
        int add, mod, range, bfree;
    } jobs[] = {
        {"attn_fwd/d128/bf16/causal/sm_90a", "wg.bm128.bn128.c2.s2", "score - slopes[h] * (q - k); slopes: f32[1]",
         NULL, 1, 0, 0, 1},
        {"attn_fwd/d128/bf16/causal+softcap/sm_90a", "wg.bm128.bn128.c2.s2", "score + t[h]; t: f32[1]", NULL, 0, 1, 0, 1},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn64.c2.s2", "score * 0.5", "q >= k && q - k < 256", 0, 1, 1, 0},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn64.c2.s2", NULL, "doc[q] == doc[k]; doc: i32[1]", 0, 0, 0, 1},
        {"attn_fwd/d128/bf16/none/sm_90a", "wg.bm128.bn64.c2.s2", "score + t[h]; t: f32[1]",
         "doc[b, q] == doc[b, k]; doc: i32[2]", 1, 0, 0, 0},
        {"attn_fwd/d128/bf16/none/sm_90", "bm128.bn64.w4.s2", "score + 1", "q >= k", 0, 1, 1, 0},
        {"attn_fwd/d64/fp16/causal/sm_80", "bm64.bn64.w4.s2", NULL, "doc[q] == doc[k]; doc: i32[1]", 0, 0, 0, 1},
        {"attn_fwd/d64/fp16/causal/sm_80", "bm64.bn64.w4.s2", "score + bias[b, h, q, k]; bias: bf16[4]", NULL, 0, 1, 0, 0},
    };
    for (int i = 0; i < (int)(sizeof jobs / sizeof jobs[0]); i++) {
        eg_expr *sx = NULL, *mx = NULL;
        eg_spec s;
        eg_config c;
        char *src = NULL;
        if ((jobs[i].score && !CHECK_OK(eg_expr_parse(jobs[i].score, EG_EXPR_SCORE, NULL, 0, &sx))) ||
            (jobs[i].mask && !CHECK_OK(eg_expr_parse(jobs[i].mask, EG_EXPR_MASK, NULL, 0, &mx))) ||
            !CHECK_OK(eg_spec_parse_expr(jobs[i].spec, sx, mx, &s)) || !CHECK_OK(eg_config_parse(jobs[i].config, &c)) ||
            !CHECK_OK(eg_cg_generate(&s, &c, &src))) {
            eg_expr_free(sx);
            eg_expr_free(mx);
            continue;
        }
        CHECK_INT(strstr(src, "static constexpr bool SCORE_ADD = true;") != NULL, jobs[i].add);
        CHECK_INT(strstr(src, "user_score_add(") != NULL, jobs[i].add);
        CHECK_INT(strstr(src, "static constexpr bool SCORE_MOD = true;") != NULL, jobs[i].mod);
        CHECK_INT(strstr(src, "static constexpr bool MASK_RANGE = true;") != NULL, jobs[i].range);
        CHECK_INT(strstr(src, "#include \"eg_range.cuh\"") != NULL, jobs[i].range);
        CHECK_INT(strstr(src, "static constexpr bool MASK_MOD = true;") != NULL, jobs[i].mask != NULL);
        /* tensors read, and none through the batch index: the launch order runs a head's entries together */
        CHECK_INT(strstr(src, "static constexpr bool BATCH_FREE = true;") != NULL, jobs[i].bfree);
        includes_only_templates(jobs[i].spec, src);
        free(src);
        eg_expr_free(sx);
        eg_expr_free(mx);
    }
}

int main(void) {
    wg_expression_traits();
    constants_and_keys();
    wg_traits();
    wg_output_buffer_traits();
    templates_self_contained();
    mask_hook();
    deterministic_and_balanced();
    internal_bad_input();
    pair_source();
    unsigned_offsets_trait();
    last_apart_trait();
    one_barrier_trait();
    emitter();
    public_generate();
    return T_DONE();
}
