/* test_spec.c - canonical text of specs and configs: every spec the generator accepts prints and parses
 * back to the same struct and the same text, and every documented parse or validation error is provoked
 * once, with a check that the message names the bad field and what would have been allowed. */
#include <stdio.h>
#include <string.h>

#include "cg.h"
#include "expr.h"
#include "t.h"

static const int archs[] = {80, 86, 87, 89, 90, 100, 103, 110, 120, 121};
#define N_ARCHS ((int)(sizeof archs / sizeof archs[0]))

static int spec_equal(const eg_spec *a, const eg_spec *b) {
    return a->op == b->op && a->head_dim == b->head_dim && a->dtype == b->dtype && a->mask == b->mask &&
           a->align == b->align && a->arch == b->arch && a->window == b->window && a->softcap == b->softcap &&
           a->alibi == b->alibi && a->gqa == b->gqa && a->varlen == b->varlen && a->bias == b->bias &&
           a->bmask == b->bmask && a->bsparse == b->bsparse && a->score_mod == b->score_mod &&
           a->mask_mod == b->mask_mod;
}

/* Every documented spec round-trips both ways: struct -> text -> struct and text -> struct -> text. */
static void spec_round_trips(void) {
    static const char *masks[] = {"none", "causal", "causal_tl"};
    static const char *dtypes[] = {"bf16", "fp16"};
    int n = 0, bad = 0;
    for (int d = 8; d <= 256; d += 8)
        for (int t = 0; t < 2; t++)
            for (int m = 0; m < 3; m++)
                for (int a = 0; a < N_ARCHS; a++) {
                    char text[EG_KEY_MAX], back[EG_KEY_MAX];
                    snprintf(text, sizeof text, "attn_fwd/d%d/%s/%s/sm_%d", d, dtypes[t], masks[m], archs[a]);
                    eg_spec want = {EG_OP_ATTN_FWD, d, t ? EFFGEN_FP16 : EFFGEN_BF16,
                                    m ? EG_MASK_CAUSAL : EG_MASK_NONE,
                                    m == 2 ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT, archs[a], 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
                    eg_spec got;
                    memset(&got, 0xab, sizeof got);
                    n++;
                    if (!CHECK_OK(eg_spec_parse(text, &got))) {
                        bad++;
                        continue;
                    }
                    if (!CHECK(spec_equal(&got, &want))) fprintf(stderr, "  parsed %s wrongly\n", text);
                    int len = eg_spec_print(&got, back, sizeof back);
                    CHECK_STR(back, text);
                    CHECK_INT(len, strlen(text));
                    /* the struct path: print the wanted struct, parse it again */
                    eg_spec_print(&want, back, sizeof back);
                    eg_spec again;
                    if (CHECK_OK(eg_spec_parse(back, &again))) CHECK(spec_equal(&again, &want));
                    CHECK_OK(eg_spec_validate(&want));
                }
    fprintf(stderr, "spec round trips: %d specs, %d failed to parse\n", n, bad);
    CHECK_INT(n, 32 * 2 * 3 * N_ARCHS);
}

/* Every config that passes the shape checks round-trips; every one that fails them is refused by parse. */
static void config_round_trips(void) {
    int ok = 0, refused = 0;
    for (int w = 1; w <= 8; w++)
        for (int bm = 16; bm <= 256; bm += 16)
            for (int bn = 16; bn <= 256; bn += 16)
                for (int s = 1; s <= 4; s++) {
                    eg_config c = {bm, bn, w, s, EG_FAMILY_MMA, 0}, got = {0, 0, 0, 0, EG_FAMILY_MMA, 0};
                    char text[EG_KEY_MAX], back[EG_KEY_MAX];
                    int len = eg_config_print(&c, text, sizeof text);
                    CHECK_INT(len, strlen(text));
                    effgen_status want = eg_config_validate(&c, NULL);
                    effgen_status st = eg_config_parse(text, &got);
                    CHECK_INT(st, want);
                    if (want != EFFGEN_OK) {
                        refused++;
                        continue;
                    }
                    ok++;
                    CHECK(got.block_m == bm && got.block_n == bn && got.warps == w && got.stages == s);
                    eg_config_print(&got, back, sizeof back);
                    CHECK_STR(back, text);
                }
    fprintf(stderr, "config round trips: %d accepted, %d refused\n", ok, refused);
    CHECK(ok > 0);
    CHECK(refused > 0);
    eg_config c;
    CHECK_OK(eg_config_parse("bm128.bn64.w4.s2", &c));
    CHECK(c.block_m == 128 && c.block_n == 64 && c.warps == 4 && c.stages == 2);
}

static void arch_names(void) {
    for (int a = 0; a < N_ARCHS; a++) {
        char buf[16];
        int got = 0;
        eg_arch_print(archs[a], buf, sizeof buf);
        CHECK_OK(eg_arch_parse(buf, &got));
        CHECK_INT(got, archs[a]);
        CHECK_HAS(eg_arch_list(), buf);
    }
}

/* One bad spec text: the status, and fragments the message must contain (NULL-terminated). */
static void bad_spec(const char *text, effgen_status want, const char *const *frags) {
    eg_spec s = {EG_OP_ATTN_FWD, 64, EFFGEN_BF16, EG_MASK_NONE, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL}, keep = s;
    eg_err_clear();
    effgen_status st = eg_spec_parse(text, &s);
    if (!CHECK_INT(st, want)) fprintf(stderr, "  spec \"%s\": %s\n", text ? text : "(null)", effgen_last_error());
    CHECK(spec_equal(&s, &keep)); /* a failed parse leaves the output alone */
    for (; *frags; frags++) CHECK_HAS(effgen_last_error(), *frags);
}

static void bad_config(const char *text, effgen_status want, const char *const *frags) {
    eg_config c = {1, 2, 3, 4, EG_FAMILY_MMA, 0};
    eg_err_clear();
    effgen_status st = eg_config_parse(text, &c);
    if (!CHECK_INT(st, want)) fprintf(stderr, "  config \"%s\": %s\n", text ? text : "(null)", effgen_last_error());
    CHECK(c.block_m == 1 && c.block_n == 2 && c.warps == 3 && c.stages == 4);
    for (; *frags; frags++) CHECK_HAS(effgen_last_error(), *frags);
}

#define FRAGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void spec_errors(void) {
    bad_spec("attn_fwd/d100/bf16/none/sm_90", EFFGEN_INVALID_ARGUMENT,
             FRAGS("head_dim=100", "multiple of 8", "256"));
    bad_spec("attn_fwd/d0/bf16/none/sm_90", EFFGEN_INVALID_ARGUMENT, FRAGS("head_dim=0", "multiple of 8", "256"));
    bad_spec("attn_fwd/d264/bf16/none/sm_90", EFFGEN_INVALID_ARGUMENT,
             FRAGS("head_dim=264", "multiple of 8", "256"));
    bad_spec("attn_fwd/128/bf16/none/sm_90", EFFGEN_PARSE, FRAGS("head dim", "\"128\"", "d<N>"));
    bad_spec("attn_fwd/d128/fp32/none/sm_90", EFFGEN_PARSE, FRAGS("dtype", "\"fp32\"", "bf16", "fp16"));
    bad_spec("attn_fwd/d128/bf16/sliding/sm_90", EFFGEN_PARSE,
             FRAGS("mask", "\"sliding\"", "none", "causal", "causal_tl"));
    bad_spec("attn_fwd/d128/bf16/none/sm_70", EFFGEN_PARSE, FRAGS("arch", "sm_70", "sm_80", "sm_90", "sm_120"));
    bad_spec("attn_fwd/d128/bf16/none/sm_xx", EFFGEN_PARSE, FRAGS("arch", "sm_xx", "sm_80", "sm_90"));
    bad_spec("attn_bwd/d128/bf16/none/sm_90", EFFGEN_PARSE, FRAGS("op", "attn_bwd", "attn_fwd"));
    bad_spec("attn_fwd/d128/bf16/none", EFFGEN_PARSE, FRAGS("5 fields", "attn_fwd/d128/bf16/causal/sm_90"));
    bad_spec("attn_fwd/d128/bf16/none/sm_90/x", EFFGEN_PARSE, FRAGS("5 fields"));
    bad_spec("", EFFGEN_PARSE, FRAGS("5 fields"));
    bad_spec(NULL, EFFGEN_INVALID_ARGUMENT, FRAGS("spec=NULL"));

    /* the struct path names the same fields */
    eg_spec s = {EG_OP_ATTN_FWD, 100, EFFGEN_BF16, EG_MASK_NONE, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
    s.head_dim = 64;
    s.dtype = (effgen_dtype)7;
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "dtype=7");
    s.dtype = EFFGEN_FP16;
    s.mask = (eg_mask)5;
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "mask=5");
    s.mask = EG_MASK_CAUSAL;
    s.align = (effgen_causal_align)9;
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "causal_align=9");
    s.align = EFFGEN_CAUSAL_TOP_LEFT;
    s.arch = 70;
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "arch=sm_70");
    CHECK_HAS(effgen_last_error(), "sm_80");

    int arch = 1234;
    CHECK_STATUS(eg_arch_parse("sm_70", &arch), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "sm_86");
    CHECK_STATUS(eg_arch_parse("90", &arch), EFFGEN_PARSE);
    CHECK_STATUS(eg_arch_parse(NULL, &arch), EFFGEN_INVALID_ARGUMENT);
    CHECK_INT(arch, 1234);
}

/* Variant suffixes: every subset of the eight, on every mask, round-trips in the canonical order; the keys
 * of specs with no variant are the five-field keys of before. */
static void variant_round_trips(void) {
    static const char *masks[] = {"none", "causal", "causal_tl"};
    static const char *names[] = {"+win", "+softcap", "+alibi", "+gqa", "+varlen", "+bias", "+mask", "+bsparse"};
    int n = 0;
    for (int m = 0; m < 3; m++)
        for (int bits = 0; bits < 256; bits++)
            for (int a = 0; a < 2; a++) {
                char text[EG_KEY_MAX], back[EG_KEY_MAX], sfx[64] = "";
                for (int i = 0; i < 8; i++)
                    if (bits >> i & 1) strcat(sfx, names[i]);
                int arch = a ? 90 : 80;
                snprintf(text, sizeof text, "attn_fwd/d64/fp16/%s%s/sm_%d", masks[m], sfx, arch);
                eg_spec want = {EG_OP_ATTN_FWD, 64, EFFGEN_FP16, m ? EG_MASK_CAUSAL : EG_MASK_NONE,
                                m == 2 ? EFFGEN_CAUSAL_TOP_LEFT : EFFGEN_CAUSAL_BOTTOM_RIGHT, arch,
                                bits & 1, bits >> 1 & 1, bits >> 2 & 1, bits >> 3 & 1,
                                bits >> 4 & 1, bits >> 5 & 1, bits >> 6 & 1, bits >> 7 & 1, NULL, NULL};
                eg_spec got;
                n++;
                if (!CHECK_OK(eg_spec_parse(text, &got))) continue;
                if (!CHECK(spec_equal(&got, &want))) fprintf(stderr, "  parsed %s wrongly\n", text);
                CHECK_INT(eg_spec_has_variant(&got), bits != 0);
                eg_spec_print(&want, back, sizeof back);
                CHECK_STR(back, text);
            }
    CHECK_INT(n, 3 * 256 * 2);
    eg_spec s;
    CHECK_OK(eg_spec_parse("attn_fwd/d128/bf16/causal+win/sm_90", &s));
    CHECK(s.mask == EG_MASK_CAUSAL && s.window && !s.softcap && !s.alibi && !s.gqa);
    CHECK_OK(eg_spec_parse("attn_fwd/d128/bf16/causal/sm_90", &s));
    CHECK(!eg_spec_has_variant(&s));
    char back[EG_KEY_MAX];
    eg_spec_print(&s, back, sizeof back);
    CHECK_STR(back, "attn_fwd/d128/bf16/causal/sm_90");

    bad_spec("attn_fwd/d64/bf16/none+sliding/sm_90", EFFGEN_PARSE,
             FRAGS("variant", "\"sliding\"", "win, softcap, alibi, gqa"));
    bad_spec("attn_fwd/d64/bf16/causal+gqa+win/sm_90", EFFGEN_PARSE, FRAGS("\"win\"", "order", "+win+softcap+alibi+gqa"));
    bad_spec("attn_fwd/d64/bf16/causal+win+win/sm_90", EFFGEN_PARSE, FRAGS("\"win\"", "repeated"));
    bad_spec("attn_fwd/d64/bf16/causal+bsparse+varlen/sm_90", EFFGEN_PARSE,
             FRAGS("\"varlen\"", "order", "+gqa+varlen+bias+mask+bsparse"));
    bad_spec("attn_fwd/d64/bf16/none+sparse/sm_90", EFFGEN_PARSE, FRAGS("\"sparse\"", "varlen, bias, mask, bsparse"));
    bad_spec("attn_fwd/d64/bf16/causal+/sm_90", EFFGEN_PARSE, FRAGS("variant \"\""));
    bad_spec("attn_fwd/d64/bf16/win/sm_90", EFFGEN_PARSE, FRAGS("mask \"win\"", "none, causal or causal_tl"));
    bad_spec("attn_fwd/d64/bf16/dense+win/sm_90", EFFGEN_PARSE, FRAGS("mask \"dense\""));
    s.alibi = 2;
    CHECK_STATUS(eg_spec_validate(&s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "alibi=2");
}

static void config_errors(void) {
    const char *const form[] = {"bm<N>.bn<N>.w<N>.s<N>", NULL};
    bad_config("bm128.bn64.w4", EFFGEN_PARSE, form);
    bad_config("bm128.bn64.w4.s2.x", EFFGEN_PARSE, FRAGS("after the stages field"));
    bad_config("128.64.4.2", EFFGEN_PARSE, FRAGS("\"128\"", "bm<N>"));
    bad_config("bm128.bnx.w4.s2", EFFGEN_PARSE, FRAGS("\"bnx\"", "bn<N>"));
    bad_config("bm128.bn64.w4.s-1", EFFGEN_PARSE, FRAGS("\"s-1\"", "s<N>"));
    bad_config("", EFFGEN_PARSE, form);
    bad_config(NULL, EFFGEN_INVALID_ARGUMENT, FRAGS("config=NULL"));
    bad_config("bm48.bn64.w4.s2", EFFGEN_INVALID_ARGUMENT, FRAGS("block_m=48", "multiple of 16*warps (64)"));
    bad_config("bm512.bn64.w4.s2", EFFGEN_INVALID_ARGUMENT, FRAGS("block_m=512", "at most 256"));
    bad_config("bm128.bn24.w4.s2", EFFGEN_INVALID_ARGUMENT, FRAGS("block_n=24", "multiple of 16"));
    bad_config("bm128.bn64.w4.s0", EFFGEN_INVALID_ARGUMENT, FRAGS("stages=0", "1 to 4"));
    bad_config("bm128.bn64.w4.s5", EFFGEN_INVALID_ARGUMENT, FRAGS("stages=5", "1 to 4"));
    bad_config("bm96.bn64.w3.s2", EFFGEN_INVALID_ARGUMENT, FRAGS("warps=3", "1, 2, 4 or 8"));

    /* Resource limits need the spec: the same config fits one arch and not another. */
    eg_spec s = {EG_OP_ATTN_FWD, 256, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 86, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config big = {128, 128, 8, 4, EG_FAMILY_MMA, 0};
    eg_err_clear();
    CHECK_STATUS(eg_config_validate(&big, &s), EFFGEN_RESOURCES);
    CHECK_HAS(effgen_last_error(), "shared memory");
    CHECK_HAS(effgen_last_error(), "sm_86");
    CHECK_HAS(effgen_last_error(), "bm128.bn128.w8.s4");
    CHECK_HAS(effgen_last_error(), "101376"); /* the limit itself, so the user knows how far over it is */

    eg_config mid = {64, 32, 4, 2, EG_FAMILY_MMA, 0}; /* (64 + 2*2*32) * 264 * 2 = 101376 bytes: exactly the sm_86 limit */
    CHECK_OK(eg_config_validate(&mid, &s));
    mid.stages = 3;
    CHECK_STATUS(eg_config_validate(&mid, &s), EFFGEN_RESOURCES);
    s.arch = 90;
    CHECK_OK(eg_config_validate(&mid, &s));

    /* too many accumulator rows per warp: the register estimate is over 255 */
    eg_config regs = {256, 16, 4, 1, EG_FAMILY_MMA, 0};
    CHECK_STATUS(eg_config_validate(&regs, &s), EFFGEN_RESOURCES);
    CHECK_HAS(effgen_last_error(), "registers");
    CHECK_HAS(effgen_last_error(), "block_m/warps");
}

/* The pair layout (".d2"): its text round-trips, its shape rules and the specs it runs name their fields. */
static void pair_configs(void) {
    eg_config c;
    char back[EG_KEY_MAX];
    if (CHECK_OK(eg_config_parse("bm128.bn64.w8.s2.d2", &c))) {
        CHECK(c.block_m == 128 && c.block_n == 64 && c.warps == 8 && c.stages == 2 && c.dsplit == 2 &&
              c.family == EG_FAMILY_MMA);
        eg_config_print(&c, back, sizeof back);
        CHECK_STR(back, "bm128.bn64.w8.s2.d2");
    }
    if (CHECK_OK(eg_config_parse("bm128.bn64.w8.s2", &c))) CHECK_INT(c.dsplit, 0);
    bad_config("bm128.bn64.w8.s2.d3", EFFGEN_PARSE, FRAGS("\".d3\"", ".d2"));
    bad_config("bm128.bn64.w8.s2.d2.d2", EFFGEN_PARSE, FRAGS("after the stages field"));
    bad_config("wg.bm128.bn64.c2.s2.d2", EFFGEN_PARSE, FRAGS("after the stages field"));
    bad_config("bm128.bn64.w4.s2.d2", EFFGEN_INVALID_ARGUMENT, FRAGS("block_m=128", "warps=4", "16*warps"));
    bad_config("bm16.bn64.w1.s2.d2", EFFGEN_INVALID_ARGUMENT, FRAGS("warps=1", "warps 2, 4 or 8"));
    bad_config("bm128.bn48.w8.s2.d2", EFFGEN_INVALID_ARGUMENT, FRAGS("block_n=48", "multiple of 32"));
    bad_config("bm128.bn64.w8.s1.d2", EFFGEN_INVALID_ARGUMENT, FRAGS("stages=1", "2 to 4"));
    eg_config odd = {128, 64, 8, 2, EG_FAMILY_MMA, 1};
    eg_err_clear();
    CHECK_STATUS(eg_config_validate(&odd, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "dsplit=1");
    /* with a spec: head dims in halves of 16s, no variant but GQA */
    eg_spec s = {EG_OP_ATTN_FWD, 256, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config d2 = {128, 64, 8, 2, EG_FAMILY_MMA, 2};
    CHECK_OK(eg_config_validate(&d2, &s));
    s.gqa = 1;
    CHECK_OK(eg_config_validate(&d2, &s));
    s.window = 1;
    eg_err_clear();
    CHECK_STATUS(eg_config_validate(&d2, &s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "+gqa only");
    CHECK_HAS(effgen_last_error(), "without .d2");
    s.window = 0;
    s.head_dim = 80;
    eg_err_clear();
    CHECK_STATUS(eg_config_validate(&d2, &s), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=80");
    CHECK_HAS(effgen_last_error(), "multiple of 32");
    /* 224 KB of shared memory at D = 256: over sm_80's 163 KB */
    s.head_dim = 256;
    s.arch = 80;
    eg_err_clear();
    CHECK_STATUS(eg_config_validate(&d2, &s), EFFGEN_RESOURCES);
    CHECK_HAS(effgen_last_error(), "shared memory");
}

/* Expression suffixes: printed from the hashes, refused without the text, accepted with the matching text
 * (and added from the text to a key without them), in order after every other variant. */
static void expr_keys(void) {
    eg_expr *sc = NULL, *mk = NULL, *sc_ws = NULL, *other = NULL;
    if (!CHECK_OK(eg_expr_parse("score - slopes[h] * (q - k); slopes: f32[1]", EG_EXPR_SCORE, NULL, 0, &sc)) ||
        !CHECK_OK(eg_expr_parse("q - k < 256 && q >= k", EG_EXPR_MASK, NULL, 0, &mk)) ||
        !CHECK_OK(eg_expr_parse("score-slopes[h]*((q-k)) ;slopes:f32[1]", EG_EXPR_SCORE, NULL, 0, &sc_ws)) ||
        !CHECK_OK(eg_expr_parse("score - slopes[h] * (k - q); slopes: f32[1]", EG_EXPR_SCORE, NULL, 0, &other)))
        goto done;
    char hs[17], hm[17], ho[17], want[EG_KEY_MAX], got[EG_KEY_MAX];
    eg_expr_hash_hex(sc, hs);
    eg_expr_hash_hex(mk, hm);
    eg_expr_hash_hex(other, ho);
    CHECK(strcmp(hs, ho) != 0);
    eg_spec s = {EG_OP_ATTN_FWD, 128, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 1, 0, 0, 0, 0, sc, mk};
    CHECK_OK(eg_spec_validate(&s));
    CHECK(eg_spec_has_expr(&s) && eg_spec_has_variant(&s));
    snprintf(want, sizeof want, "attn_fwd/d128/bf16/causal+gqa+score.%s+mask.%s/sm_90", hs, hm);
    eg_spec_print(&s, got, sizeof got);
    CHECK_STR(got, want);
    /* the key does not hold the text: parsing it alone is refused, naming what is needed */
    bad_spec(want, EFFGEN_PARSE, FRAGS("+score.", "score expression", "hash", "--score-mod TEXT"));
    eg_spec back;
    if (CHECK_OK(eg_spec_parse_expr(want, sc, mk, &back))) CHECK(spec_equal(&back, &s));
    /* the same canonical text (other spacing) has the same hash and parses the key */
    if (CHECK_OK(eg_spec_parse_expr(want, sc_ws, mk, &back))) CHECK(eg_spec_same_exprs(&back, &s));
    CHECK_STATUS(eg_spec_parse_expr(want, other, mk, &back), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), ho);
    CHECK_STATUS(eg_spec_parse_expr(want, sc, NULL, &back), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "--mask-mod TEXT");
    /* different texts are different kernels even where the keys would agree */
    eg_spec t = s;
    t.score_mod = other;
    CHECK(!eg_spec_same_exprs(&s, &t));
    t.score_mod = NULL;
    CHECK(!eg_spec_same_exprs(&s, &t));
    /* a key without the suffixes takes them from the expressions given */
    if (CHECK_OK(eg_spec_parse_expr("attn_fwd/d128/bf16/causal+gqa/sm_90", sc, mk, &back))) {
        eg_spec_print(&back, got, sizeof got);
        CHECK_STR(got, want);
    }
    snprintf(want, sizeof want, "attn_fwd/d64/fp16/none+mask+mask.%s/sm_80", hm);
    if (CHECK_OK(eg_spec_parse_expr(want, NULL, mk, &back))) {
        CHECK(back.bmask == 1 && back.mask_mod == mk && back.score_mod == NULL);
        eg_spec_print(&back, got, sizeof got);
        CHECK_STR(got, want);
    }
    /* order, repetition and hash form */
    snprintf(want, sizeof want, "attn_fwd/d64/bf16/none+mask.%s+score.%s/sm_90", hm, hs);
    CHECK_STATUS(eg_spec_parse_expr(want, sc, mk, &back), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "out of order");
    snprintf(want, sizeof want, "attn_fwd/d64/bf16/none+score.%s+gqa/sm_90", hs);
    CHECK_STATUS(eg_spec_parse_expr(want, sc, mk, &back), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "after every other variant");
    CHECK_STATUS(eg_spec_parse_expr("attn_fwd/d64/bf16/none+score.XYZ/sm_90", sc, NULL, &back), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "16 lower-case hex digits");
    /* kinds must match the fields */
    t = s;
    t.score_mod = mk;
    CHECK_STATUS(eg_spec_validate(&t), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "score_mod");
    /* the longest key (every variant, both expressions, causal_tl, sm_121) fits a key buffer and round-trips */
    eg_spec big = {EG_OP_ATTN_FWD, 128, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_TOP_LEFT, 121, 1, 1, 1, 1, 1, 1, 1, 1, sc, mk};
    CHECK_OK(eg_spec_validate(&big));
    CHECK_INT(eg_spec_print(&big, got, sizeof got), EG_KEY_MAX - 1);
    if (CHECK_OK(eg_spec_parse_expr(got, sc, mk, &back))) CHECK(spec_equal(&back, &big));
done:
    eg_expr_free(sc);
    eg_expr_free(mk);
    eg_expr_free(sc_ws);
    eg_expr_free(other);
}

/* sm_90a and wg configs: canonical text both ways, apart from sm_90 and from the mma texts. */
static void wg_keys(void) {
    eg_spec s;
    if (CHECK_OK(eg_spec_parse("attn_fwd/d128/bf16/causal/sm_90a", &s))) {
        CHECK_INT(s.arch, EG_ARCH_SM90A);
        CHECK_INT(eg_arch_base(s.arch), 90);
        char buf[EG_KEY_MAX];
        eg_spec_print(&s, buf, sizeof buf);
        CHECK_STR(buf, "attn_fwd/d128/bf16/causal/sm_90a");
    }
    int arch = 0;
    CHECK_OK(eg_arch_parse("sm_90", &arch));
    CHECK_INT(arch, 90);
    CHECK_STATUS(eg_arch_parse("sm_80a", &arch), EFFGEN_PARSE);
    CHECK_STATUS(eg_arch_parse("sm_a", &arch), EFFGEN_PARSE);
    static const char *const texts[] = {"wg.bm128.bn128.c2.s2", "wg.bm64.bn64.c1.s4", "wg.bm192.bn128.c3.s3"};
    for (int i = 0; i < 3; i++) {
        eg_config c;
        if (!CHECK_OK(eg_config_parse(texts[i], &c))) continue;
        CHECK_INT(c.family, EG_FAMILY_WG);
        CHECK_INT(c.warps, 4 * (eg_config_consumers(&c) + 1));
        char buf[EG_KEY_MAX];
        eg_config_print(&c, buf, sizeof buf);
        CHECK_STR(buf, texts[i]);
    }
    eg_config m;
    if (CHECK_OK(eg_config_parse("bm128.bn64.w4.s2", &m))) CHECK_INT(m.family, EG_FAMILY_MMA);
    /* one stage is an mma config's business only: a wg consumer holds a stage while the next loads */
    CHECK_STATUS(eg_config_parse("wg.bm128.bn128.c2.s1", &m), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "stages=1: must be 2 to 4");
    CHECK_STATUS(eg_config_parse("wg.bm128.bn128.c2.s5", &m), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "stages=5");
    CHECK_OK(eg_config_parse("bm128.bn64.w4.s1", &m));
}

int main(void) {
    wg_keys();
    spec_round_trips();
    config_round_trips();
    arch_names();
    spec_errors();
    variant_round_trips();
    config_errors();
    pair_configs();
    expr_keys();
    return T_DONE();
}
