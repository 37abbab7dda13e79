/* test_errors.c - bad input through the public API, on a machine without a GPU: each mistake a caller
 * can make in effgen_attn_args gets its own status and a message naming the field, and all of it is
 * decided before the driver is needed. The driver is pointed at a path that does not exist, so a check
 * that ran after a driver load would show up here as EFFGEN_DRIVER_UNAVAILABLE instead. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"
#include "t.h"

/* Fake device addresses: never dereferenced, only checked for alignment. */
#define FAKE_Q ((const void *)(uintptr_t)0x7f0000100000u)
#define FAKE_K ((const void *)(uintptr_t)0x7f0000200000u)
#define FAKE_V ((const void *)(uintptr_t)0x7f0000300000u)
#define FAKE_O ((void *)(uintptr_t)0x7f0000400000u)

static effgen_ctx *ctx;

/* The config text divides the block-sparse blocks (block_m | bq, block_n | bk). */
static void eg_config_check(const char *config, int bq, int bk) {
    int bm = 0, bn = 0, w = 0, st = 0;
    CHECK(sscanf(config, "bm%d.bn%d.w%d.s%d", &bm, &bn, &w, &st) == 4);
    if (!CHECK(bm > 0 && bn > 0 && bq % bm == 0 && bk % bn == 0)) fprintf(stderr, "  config %s\n", config);
}

static effgen_attn_args good(void) {
    effgen_attn_args a;
    effgen_attn_args_init(&a);
    a.batch = 2;
    a.heads = 3;
    a.seqlen_q = 100;
    a.seqlen_k = 120;
    a.head_dim = 64;
    a.q = FAKE_Q;
    a.k = FAKE_K;
    a.v = FAKE_V;
    a.o = FAKE_O;
    a.causal = 1;
    return a;
}

/* One bad problem: the wanted status and text fragments of the message. */
static void bad(const effgen_attn_args *a, effgen_status want, const char *frag1, const char *frag2, int line) {
    char spec[128] = "x", config[64] = "x";
    effgen_status st = effgen_attention_fwd(ctx, a, NULL);
    if (!CHECK_INT(st, want))
        fprintf(stderr, "  (case at line %d) got %s: %s\n", line, effgen_status_name(st), effgen_last_error());
    if (!CHECK_HAS(effgen_last_error(), frag1)) fprintf(stderr, "  (case at line %d)\n", line);
    if (frag2 && !CHECK_HAS(effgen_last_error(), frag2)) fprintf(stderr, "  (case at line %d)\n", line);
    /* describe runs the same validation */
    st = effgen_describe(ctx, a, spec, sizeof spec, config, sizeof config);
    if (!CHECK_INT(st, want))
        fprintf(stderr, "  describe (case at line %d) got %s: %s\n", line, effgen_status_name(st), effgen_last_error());
    CHECK_HAS(effgen_last_error(), frag1);
}
#define BAD(a, want, f1, f2) bad(&(a), want, f1, f2, __LINE__)

static void args_init(void) {
    effgen_attn_args a;
    memset(&a, 0x5a, sizeof a);
    effgen_attn_args_init(&a);
    CHECK_INT(a.dtype, EFFGEN_BF16);
    CHECK_INT(a.causal, 0);
    CHECK_INT(a.causal_align, EFFGEN_CAUSAL_BOTTOM_RIGHT);
    CHECK(a.scale == 0.0f);
    CHECK(a.config == NULL);
    CHECK(a.q == NULL && a.k == NULL && a.v == NULL && a.o == NULL && a.lse == NULL);
    CHECK(a.q_stride[0] == 0 && a.q_stride[1] == 0 && a.q_stride[2] == 0);
    CHECK(a.window == 0 && a.window_left == 0 && a.window_right == 0 && a.softcap == 0.0f &&
          a.alibi_slopes == NULL && a.kv_heads == 0);
    effgen_attn_args_init(NULL); /* must not crash */
}

static void null_handles(void) {
    effgen_attn_args a = good();
    CHECK_STATUS(effgen_attention_fwd(NULL, &a, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "ctx");
    CHECK_STATUS(effgen_attention_fwd(ctx, NULL, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "args");
    char spec[128], config[64];
    CHECK_STATUS(effgen_describe(NULL, &a, spec, sizeof spec, config, sizeof config), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(effgen_describe(ctx, NULL, spec, sizeof spec, config, sizeof config), EFFGEN_INVALID_ARGUMENT);
    CHECK_STATUS(effgen_open(NULL, NULL), EFFGEN_INVALID_ARGUMENT);
    effgen_close(NULL);
}

static void sizes(void) {
    effgen_attn_args a;
    a = good(), a.head_dim = 100;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "head_dim=100", "multiple of 8");
    a = good(), a.head_dim = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "head_dim=0", NULL);
    a = good(), a.head_dim = 264;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "head_dim=264", "256");
    a = good(), a.batch = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "batch=0", NULL);
    a = good(), a.heads = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "heads=0", NULL);
    a = good(), a.seqlen_q = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "seqlen_q=0", NULL);
    a = good(), a.seqlen_k = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "seqlen_k=0", NULL);
    a = good(), a.batch = -3;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "batch=-3", NULL);
    a = good(), a.dtype = (effgen_dtype)9;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "dtype", NULL);
    a = good(), a.causal = 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "causal=2", NULL);
    a = good(), a.causal_align = (effgen_causal_align)5;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "causal_align", NULL);
    a = good(), a.scale = -1.0f;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "scale=", NULL);
    a = good(), a.scale = NAN;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "scale=", NULL);
}

static void pointers(void) {
    effgen_attn_args a;
    a = good(), a.q = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "q=NULL", NULL);
    a = good(), a.k = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "k=NULL", NULL);
    a = good(), a.v = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "v=NULL", NULL);
    a = good(), a.o = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "o=NULL", NULL);
    a = good(), a.q = (const char *)FAKE_Q + 8;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "q=", "16 bytes");
    a = good(), a.o = (char *)FAKE_O + 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "o=", "16 bytes");
    a = good(), a.lse = (float *)((char *)FAKE_O + 2);
    BAD(a, EFFGEN_INVALID_ARGUMENT, "lse=", "4 bytes");
}

static void strides(void) {
    effgen_attn_args a;
    a = good(), a.q_stride[0] = 3 * 100 * 64, a.q_stride[1] = 100 * 64, a.q_stride[2] = 12;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "q_stride", "multiple of 8");
    a = good(), a.k_stride[0] = 3 * 120 * 64 + 4, a.k_stride[1] = 120 * 64, a.k_stride[2] = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "k_stride", "multiple of 8");
    a = good(), a.v_stride[0] = 3 * 120 * 64, a.v_stride[1] = 120 * 64, a.v_stride[2] = -64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "v_stride[2]=-64", NULL);
    a = good(), a.v_stride[0] = 3 * 120 * 64, a.v_stride[1] = 0, a.v_stride[2] = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "v_stride[1]=0", NULL);
    /* an offset past 64 bits is refused rather than wrapped */
    a = good(), a.q_stride[0] = INT64_MAX / 8 * 8, a.q_stride[1] = 6400, a.q_stride[2] = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "q_stride[0]", "overflows");
    a = good(), a.o_stride[0] = 3 * 100 * 64, a.o_stride[1] = 100 * 64 + 2, a.o_stride[2] = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "o_stride", "multiple of 8");
}

static void bad_config(void) {
    effgen_attn_args a;
    a = good(), a.config = "bm128.bn64.w3.s2";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "warps=3", NULL);
    a = good(), a.config = "nonsense";
    BAD(a, EFFGEN_PARSE, "nonsense", "bm<N>.bn<N>.w<N>.s<N>");
    a = good(), a.head_dim = 256, a.config = "bm128.bn128.w8.s4";
    BAD(a, EFFGEN_RESOURCES, "shared memory", "sm_90");
}

/* The Hopper warpgroup family (wg.* configs): only for sm_90a, head dims multiples of 8 from 64 to 256,
 * the variants window, softcap, ALiBi and GQA only; its config text checked field by field; a valid one
 * describes as its own canonical keys. */
static void wg_family(void) {
    effgen_attn_args a;
    a = good(), a.config = "wg.bm128.bn128.c2.s2";
    BAD(a, EFFGEN_UNSUPPORTED, "sm_90a only", "wg.bm128.bn128.c2.s2"); /* the context compiles for sm_90 */
    effgen_ctx *plain = ctx;
    effgen_options opt;
    effgen_options_init(&opt);
    opt.no_gpu = 1;
    opt.arch = "sm_90a";
    if (!CHECK_OK(effgen_open(&ctx, &opt))) {
        ctx = plain;
        return;
    }
    /* a head dim below 64 is the family's too (one 64-column block in shared memory) */
    a = good(), a.head_dim = 48, a.config = "wg.bm128.bn128.c2.s2";
    {
        char hspec[128], hconfig[64];
        if (CHECK_OK(effgen_describe(ctx, &a, hspec, sizeof hspec, hconfig, sizeof hconfig))) {
            CHECK_STR(hspec, "attn_fwd/d48/bf16/causal/sm_90a");
            CHECK_STR(hconfig, "wg.bm128.bn128.c2.s2");
        }
    }
    /* user expressions and the bit mask are the family's, the bit mask not with varlen; a mask expression
     * (evaluated beside S) does not fit 128-key tiles at D = 128 */
    a = good(), a.score_mod = "score * 0.5", a.mask_mod = "q >= k", a.config = "wg.bm128.bn64.c2.s2";
    a.head_dim = 128;
    char dspec[128], dconfig[64];
    if (CHECK_OK(effgen_describe(ctx, &a, dspec, sizeof dspec, dconfig, sizeof dconfig))) {
        CHECK_HAS(dspec, "+score.");
        CHECK_HAS(dspec, "+mask.");
        CHECK_STR(dconfig, "wg.bm128.bn64.c2.s2");
    }
    a.config = "wg.bm128.bn128.c2.s2";
    BAD(a, EFFGEN_RESOURCES, "wg.bm128.bn128.c2.s2", "registers per thread");
    a = good(), a.mask = (const uint32_t *)FAKE_O, a.config = "wg.bm128.bn128.c2.s2", a.head_dim = 128;
    a.mask_stride[0] = 3 * 100 * 4, a.mask_stride[1] = 100 * 4, a.mask_stride[2] = 4; /* 120 keys: 4 words */
    if (CHECK_OK(effgen_describe(ctx, &a, dspec, sizeof dspec, dconfig, sizeof dconfig))) {
        CHECK_HAS(dspec, "+mask");
        CHECK_STR(dconfig, "wg.bm128.bn128.c2.s2");
    }
    a.cu_seqlens_q = (const int32_t *)(uintptr_t)0x7f0000500000u, a.cu_seqlens_k = a.cu_seqlens_q + 64;
    a.max_seqlen_q = 60;
    BAD(a, EFFGEN_UNSUPPORTED, "+varlen without +bias, +mask and +bsparse", "an mma config");
    /* varlen is the family's, but not with a bias: two packed sequences of 100 query and 120 key tokens */
    a = good(), a.config = "wg.bm128.bn128.c2.s2", a.head_dim = 128;
    a.cu_seqlens_q = (const int32_t *)(uintptr_t)0x7f0000500000u, a.cu_seqlens_k = a.cu_seqlens_q + 64;
    a.max_seqlen_q = 60;
    a.bias = FAKE_O, a.bias_stride[0] = 120 * 120, a.bias_stride[1] = 0, a.bias_stride[2] = 120, a.bias_stride[3] = 1;
    BAD(a, EFFGEN_UNSUPPORTED, "+varlen without +bias, +mask and +bsparse", "an mma config");
    a = good(), a.head_dim = 256, a.config = "wg.bm128.bn128.c2.s2";
    BAD(a, EFFGEN_RESOURCES, "shared memory", "sm_90a");
    a = good(), a.head_dim = 128, a.config = "wg.bm192.bn128.c3.s2";
    BAD(a, EFFGEN_RESOURCES, "registers", "block_n");
    a = good(), a.config = "wg.bm128.bn128.c2.s1";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "stages=1", "2 to 4");
    a = good(), a.config = "wg.bm128.bn128.c4.s2";
    BAD(a, EFFGEN_PARSE, "consumers=4", "1, 2 or 3");
    a = good(), a.config = "wg.bm64.bn128.c2.s2";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "block_m=64", "64 * consumers");
    a = good(), a.config = "wg.bm128.bn96.c2.s2";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "block_n=96", "64 or 128");
    a = good(), a.config = "wg.bm128.bn128.w8.s2";
    BAD(a, EFFGEN_PARSE, "c<N>", NULL);
    /* a valid one: canonical keys back, and no device in a no_gpu context */
    char spec[128], config[64];
    a = good(), a.config = "wg.bm128.bn128.c2.s2";
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal/sm_90a");
        CHECK_STR(config, "wg.bm128.bn128.c2.s2");
    }
    CHECK_STATUS(effgen_attention_fwd(ctx, &a, NULL), EFFGEN_NO_DEVICE);
    /* without a config the model's choice: on sm_90a the wg family where it implements the spec (odd and
     * small head dims and the window too), the mma family for a variant it does not have */
    a.config = NULL;
    a.seqlen_q = a.seqlen_k = 4096;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal/sm_90a");
        CHECK_STR(config, "wg.bm192.bn128.c3.s3");
    }
    /* short sequences: the model's choice at their length (two consumers, less padding in the last tile) */
    a.seqlen_q = 100, a.seqlen_k = 120;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal/sm_90a");
        CHECK_STR(config, "wg.bm128.bn128.c2.s3");
    }
    a.head_dim = 96;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) CHECK(!strncmp(config, "wg.", 3));
    a.head_dim = 48;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) CHECK(!strncmp(config, "wg.", 3));
    a = good(), a.window = 1, a.window_left = 16, a.window_right = 0;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal+win/sm_90a");
        CHECK(!strncmp(config, "wg.", 3));
    }
    a = good(), a.bias = FAKE_O, a.bias_stride[0] = 0, a.bias_stride[1] = 100 * 120, a.bias_stride[2] = 120,
    a.bias_stride[3] = 1;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal+bias/sm_90a");
        CHECK(!strncmp(config, "wg.", 3));
    }
    /* a bias the TMA cannot map (one row for every query; a row stride off 16 bytes) stays on sm_90 */
    a.bias_stride[2] = 0;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal+bias/sm_90");
        CHECK(strncmp(config, "wg.", 3) != 0);
    }
    a.bias_stride[2] = 122;
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_STR(spec, "attn_fwd/d64/bf16/causal+bias/sm_90");
        CHECK(strncmp(config, "wg.", 3) != 0);
    }
    effgen_close(ctx);
    ctx = plain;
}

/* Variant fields: each bad value named with what is allowed; zero is off and keeps the old keys. */
static void variants(void) {
    effgen_attn_args a;
    a = good(), a.window = 1, a.window_left = -2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "window_left=-2", "-1 for unbounded");
    a = good(), a.window = 1, a.window_left = 16, a.window_right = -5;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "window_right=-5", ">= 0");
    a = good(), a.window = 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "window=2", "0 (off) or 1");
    a = good(), a.window_left = 8;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "window_left=8", "window=0");
    a = good(), a.window = 1, a.seqlen_q = 400000000, a.seqlen_k = 400000000;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "seqlen_q + seqlen_k", "window=1");
    a = good(), a.softcap = -1.0f;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "softcap=-1", "positive and finite");
    a = good(), a.softcap = INFINITY;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "softcap=inf", "positive and finite");
    a = good(), a.softcap = NAN;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "softcap=", "positive and finite");
    a = good(), a.alibi_slopes = (const float *)((const char *)FAKE_O + 2);
    BAD(a, EFFGEN_INVALID_ARGUMENT, "alibi_slopes=", "4 bytes");
    a = good(), a.kv_heads = 2; /* heads = 3 */
    BAD(a, EFFGEN_INVALID_ARGUMENT, "kv_heads=2", "divide heads=3");
    a = good(), a.kv_heads = -1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "kv_heads=-1", "divide");
    /* K/V strides are checked against kv_heads: contiguous strides for 3 heads overflow with 1 */
    a = good(), a.kv_heads = 1, a.k_stride[0] = INT64_MAX / 8 * 8, a.k_stride[1] = 8, a.k_stride[2] = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "k_stride[0]", "overflows");

    /* each variant is a spec field, printed after the mask */
    char spec[128] = "", config[64] = "";
    a = good(), a.window = 1, a.window_left = 255, a.window_right = 0;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+win/sm_90");
    a = good(), a.causal = 0, a.softcap = 30.0f;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/none+softcap/sm_90");
    a = good(), a.alibi_slopes = (const float *)FAKE_O, a.heads = 4, a.kv_heads = 1;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+alibi+gqa/sm_90");
    /* as many K/V heads as query heads is plain attention: the old key */
    a = good(), a.kv_heads = 3;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal/sm_90");
    a = good(), a.window = 1, a.window_left = -1, a.window_right = -1, a.softcap = 1.5f, a.kv_heads = 1,
    a.alibi_slopes = (const float *)FAKE_O;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+win+softcap+alibi+gqa/sm_90");
}

/* The tensor variants: pointers, strides and block sizes named; host copies of offsets and tables checked
 * by the validate helpers, which name the first bad index. */
static void tensor_variants(void) {
    effgen_attn_args a;
    const int32_t *cu = (const int32_t *)(uintptr_t)0x7f0000500000u;
    /* varlen: 2 sequences packed into 100 query and 120 key tokens */
    effgen_attn_args v = good();
    v.cu_seqlens_q = cu, v.cu_seqlens_k = cu + 64, v.max_seqlen_q = 60;
    a = v, a.cu_seqlens_k = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "cu_seqlens_k=NULL", "both");
    a = v, a.cu_seqlens_q = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "cu_seqlens_q=NULL", "both");
    a = v, a.cu_seqlens_q = (const int32_t *)((const char *)cu + 2);
    BAD(a, EFFGEN_INVALID_ARGUMENT, "cu_seqlens_q=", "4 bytes");
    a = v, a.max_seqlen_q = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "max_seqlen_q=0", "from 1 to seqlen_q=100");
    a = v, a.max_seqlen_q = 101;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "max_seqlen_q=101", NULL);
    a = good(), a.max_seqlen_q = 10;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "max_seqlen_q=10", "without cu_seqlens_q");
    a = v, a.q_stride[0] = 64 * 3 * 100, a.q_stride[1] = 64, a.q_stride[2] = 192;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "q_stride[0]=19200", "must be 0 with varlen");
    char spec[128] = "", config[64] = "";
    CHECK_OK(effgen_describe(ctx, &v, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+varlen/sm_90");

    const int32_t okq[4] = {0, 40, 40, 100}, okk[4] = {0, 70, 70, 120};
    int longest = 0;
    CHECK_OK(effgen_varlen_validate(okq, okk, 3, 100, 120, &longest));
    CHECK_INT(longest, 60);
    const int32_t down[4] = {0, 40, 30, 100};
    CHECK_STATUS(effgen_varlen_validate(down, okk, 3, 100, 120, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "cu_seqlens_q[2]=30: must be >= cu_seqlens_q[1]=40");
    const int32_t over[4] = {0, 70, 70, 121};
    CHECK_STATUS(effgen_varlen_validate(okq, over, 3, 100, 120, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "cu_seqlens_k[3]=121: must be <= total_k=120");
    const int32_t neg[4] = {-1, 40, 40, 100};
    CHECK_STATUS(effgen_varlen_validate(neg, okk, 3, 100, 120, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "cu_seqlens_q[0]=-1");
    CHECK_STATUS(effgen_varlen_validate(NULL, okk, 3, 100, 120, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "cu_seqlens_q=NULL");

    /* bias */
    const void *bias = (const void *)(uintptr_t)0x7f0000600000u;
    a = good(), a.bias = bias, a.bias_stride[0] = 0, a.bias_stride[1] = 100 * 120, a.bias_stride[2] = 120,
    a.bias_stride[3] = 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride[3]=2", "must be 1");
    a.bias_stride[3] = 1, a.bias_stride[2] = -120;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride[2]=-120", ">= 0");
    a.bias_stride[2] = 121;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride[2]=121", "even");
    a.bias_stride[2] = 120, a.bias_stride[0] = INT64_MAX / 2 * 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride[0]", "overflows");
    a = good(), a.bias = (const char *)bias + 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias=", "4 bytes");
    a = good(), a.bias_stride[3] = 1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride set with bias=NULL", NULL);
    a = good(), a.bias = bias, a.seqlen_k = 121; /* contiguous rows of an odd length */
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride[2]=121", "even");
    a = v, a.bias = bias;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bias_stride={0,0,0,0} with varlen", NULL);
    a = good(), a.bias = bias; /* contiguous by default, broadcast allowed */
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+bias/sm_90");
    a.bias_stride[0] = a.bias_stride[1] = a.bias_stride[2] = 0, a.bias_stride[3] = 1;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));

    /* mask */
    const uint32_t *mask = (const uint32_t *)(uintptr_t)0x7f0000700000u;
    a = good(), a.mask = mask, a.mask_stride[2] = -4;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "mask_stride[2]=-4", ">= 0");
    a = good(), a.mask = (const uint32_t *)((const char *)mask + 2);
    BAD(a, EFFGEN_INVALID_ARGUMENT, "mask=", "4 bytes");
    a = v, a.mask = mask;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "mask_stride={0,0,0} with varlen", NULL);
    a = good(), a.mask = mask, a.causal = 0;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/none+mask/sm_90");

    /* block-sparse */
    const int32_t *rp = (const int32_t *)(uintptr_t)0x7f0000800000u, *ci = rp + 1024;
    a = good(), a.bsparse_row_ptr = rp;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_col_idx=NULL", "both");
    a = good(), a.bsparse_col_idx = ci;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr=NULL", "both");
    a = good(), a.bsparse_row_ptr = rp, a.bsparse_col_idx = ci, a.bsparse_block_q = 100;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_block_q=100", "multiple of 16");
    a = good(), a.bsparse_row_ptr = rp, a.bsparse_col_idx = ci, a.bsparse_block_k = 48, a.config = "bm64.bn32.w4.s2";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_block_q=128, bsparse_block_k=48", "block_n=32");
    a = good(), a.bsparse_row_ptr = rp, a.bsparse_col_idx = ci, a.bsparse_row_stride[1] = -1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_row_stride[1]=-1", ">= 0");
    a = good(), a.bsparse_block_q = 64;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "bsparse_row_ptr=NULL", NULL);
    /* the model's tiles shrink to divide the blocks */
    a = good(), a.bsparse_row_ptr = rp, a.bsparse_col_idx = ci, a.bsparse_block_q = 48, a.bsparse_block_k = 80;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal+bsparse/sm_90");
    eg_config_check(config, 48, 80);

    const int32_t row[4] = {0, 2, 2, 5}, col[5] = {0, 3, 1, 2, 3};
    CHECK_OK(effgen_bsparse_validate(row, col, 3, 4, 5));
    const int32_t col_big[5] = {0, 3, 1, 2, 4};
    CHECK_STATUS(effgen_bsparse_validate(row, col_big, 3, 4, 5), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "bsparse_col_idx[4]=4: must be from 0 to 3");
    const int32_t col_dup[5] = {0, 3, 2, 2, 3};
    CHECK_STATUS(effgen_bsparse_validate(row, col_dup, 3, 4, 5), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "bsparse_col_idx[3]=2: must be > bsparse_col_idx[2]=2");
    const int32_t row_down[4] = {0, 2, 1, 5};
    CHECK_STATUS(effgen_bsparse_validate(row_down, col, 3, 4, 5), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "bsparse_row_ptr[2]=1: must be >= bsparse_row_ptr[1]=2");
    CHECK_STATUS(effgen_bsparse_validate(row, col, 3, 4, 4), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "bsparse_row_ptr[3]=5: must be <= 4");
}

/* A valid problem is described without a GPU (the arch comes from the options), and the launch itself
 * is refused only for want of a device. */
static void valid_problem(void) {
    effgen_attn_args a = good();
    char spec[128] = "", config[64] = "";
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/bf16/causal/sm_90");
    CHECK(strlen(config) > 0);
    a.causal_align = EFFGEN_CAUSAL_TOP_LEFT;
    a.dtype = EFFGEN_FP16;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(spec, "attn_fwd/d64/fp16/causal_tl/sm_90");
    a.config = "bm64.bn64.w4.s2";
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    CHECK_STR(config, "bm64.bn64.w4.s2");
    /* B,N,H,D strides are legal as well */
    a = good();
    a.q_stride[0] = 100 * 3 * 64, a.q_stride[1] = 64, a.q_stride[2] = 3 * 64;
    CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config));
    /* buffers too small for the text */
    char tiny[4];
    CHECK(effgen_describe(ctx, &a, tiny, sizeof tiny, config, sizeof config) != EFFGEN_OK);

    a = good();
    effgen_status st = effgen_attention_fwd(ctx, &a, NULL);
    CHECK(st != EFFGEN_OK);
    CHECK(st == EFFGEN_NO_DEVICE || st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_INVALID_ARGUMENT);
    fprintf(stderr, "valid problem on a no_gpu context: %s: %s\n", effgen_status_name(st), effgen_last_error());
}

/* A context opened with no options learns its arch from the device, and the driver cannot load here: the
 * checks that need no arch still come first, so bad input is named as such rather than reported as a
 * missing driver, and only a valid problem gets as far as the device. */
static void no_arch_context(void) {
    effgen_ctx *c = NULL;
    if (!CHECK_OK(effgen_open(&c, NULL))) return;
    char spec[128], config[64];
    effgen_attn_args a = good();
    a.head_dim = 100;
    CHECK_STATUS(effgen_attention_fwd(c, &a, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
    CHECK_STATUS(effgen_describe(c, &a, spec, sizeof spec, config, sizeof config), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
    a = good(), a.k = (const char *)FAKE_K + 4;
    CHECK_STATUS(effgen_attention_fwd(c, &a, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "k=");
    a = good(), a.v_stride[0] = 3 * 120 * 64, a.v_stride[1] = 120 * 64, a.v_stride[2] = 60;
    CHECK_STATUS(effgen_attention_fwd(c, &a, NULL), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "v_stride[2]=60");
    a = good(), a.config = "nonsense";
    CHECK_STATUS(effgen_attention_fwd(c, &a, NULL), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "nonsense");
    a = good();
    CHECK_STATUS(effgen_attention_fwd(c, &a, NULL), EFFGEN_DRIVER_UNAVAILABLE);
    CHECK_STATUS(effgen_describe(c, &a, spec, sizeof spec, config, sizeof config), EFFGEN_DRIVER_UNAVAILABLE);
    effgen_close(c);
}

static void status_names(void) {
    CHECK_STR(effgen_status_name(EFFGEN_OK), "EFFGEN_OK");
    CHECK_STR(effgen_status_name(EFFGEN_NVRTC_UNAVAILABLE), "EFFGEN_NVRTC_UNAVAILABLE");
    CHECK_STR(effgen_status_name((effgen_status)999), "EFFGEN_UNKNOWN");
    CHECK_STR(effgen_status_message(EFFGEN_RESOURCES),
              "configuration exceeds the resources of the target architecture");
    CHECK(strlen(effgen_status_message((effgen_status)-1)) > 0);
    CHECK_STR(effgen_version(), "0.1.0");
}

static void open_options(void) {
    effgen_options opt;
    effgen_options_init(&opt);
    CHECK_INT(opt.device, 0);
    CHECK_INT(opt.no_gpu, 0);
    CHECK(opt.arch == NULL);
    opt.no_gpu = 1;
    opt.arch = "sm_70";
    effgen_ctx *c = (effgen_ctx *)&opt;
    CHECK_STATUS(effgen_open(&c, &opt), EFFGEN_PARSE);
    CHECK(c == NULL);
    CHECK_HAS(effgen_last_error(), "sm_70");
    opt.device = -1;
    opt.arch = "sm_90";
    c = (effgen_ctx *)&opt;
    CHECK_STATUS(effgen_open(&c, &opt), EFFGEN_INVALID_ARGUMENT);
    CHECK(c == NULL);
    CHECK_HAS(effgen_last_error(), "device=-1");
}

/* The calls bindings use to learn what the library supports and which device a context runs on. */
static void binding_queries(void) {
    CHECK(strstr(effgen_features(), "window") != NULL);
    CHECK(strstr(effgen_features(), "gqa") != NULL);
    CHECK_INT(effgen_attn_args_size(), sizeof(effgen_attn_args));
    effgen_device_info info;
    memset(&info, 0x5a, sizeof info);
    CHECK_INT(effgen_device_query(ctx, &info), EFFGEN_NO_DEVICE); /* no_gpu=1 */
    CHECK(strstr(effgen_last_error(), "no_gpu=1") != NULL);
    CHECK_INT(info.name[0], 0);
    CHECK_INT(info.cc_major, 0);
    CHECK_INT(effgen_device_query(NULL, &info), EFFGEN_INVALID_ARGUMENT);
    CHECK_INT(effgen_device_query(ctx, NULL), EFFGEN_INVALID_ARGUMENT);
}

/* score_mod / mask_mod: malformed text (the column and the argument named), tensors read but not given or
 * declared otherwise, every field of an expression tensor, and a valid problem's key. */
static void expressions(void) {
    const void *fake_t = (const void *)(uintptr_t)0x7f0000500000u;
    effgen_expr_tensor doc = {"doc", fake_t, EFFGEN_EXPR_I32, 1, {120, 0, 0, 0}, {0, 0, 0, 0}};
    effgen_attn_args a = good();
    a.score_mod = "score + ";
    BAD(a, EFFGEN_PARSE, "score_mod: ", "column 9");
    CHECK_HAS(effgen_last_error(), "^");
    a = good();
    a.mask_mod = "q - k < 256 & q >= k";
    BAD(a, EFFGEN_PARSE, "mask_mod: ", "column 13");
    a = good();
    a.score_mod = "q < k"; /* a score must be a number */
    BAD(a, EFFGEN_PARSE, "score_mod: ", "column");
    a = good();
    a.mask_mod = "score > 0"; /* no score in a mask */
    BAD(a, EFFGEN_PARSE, "mask_mod: ", "score");
    /* declared in the text, not given */
    a = good();
    a.mask_mod = "doc[q] == doc[k]; doc: i32[1]";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\"", "not given");
    /* given with another dtype, or another rank */
    effgen_expr_tensor t = doc;
    t.dtype = EFFGEN_EXPR_F32;
    a.expr_tensors = &t;
    a.n_expr_tensors = 1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\"", "i32[1]");
    CHECK_HAS(effgen_last_error(), "f32[1]");
    t = doc;
    t.rank = 2;
    t.sizes[1] = 4;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\"", "i32[2]");
    /* neither declared nor given: an unknown name with its column */
    a = good();
    a.score_mod = "score + t5[h]";
    BAD(a, EFFGEN_PARSE, "score_mod: ", "unknown name \"t5\"");
    /* the fields of a tensor */
    a = good();
    a.mask_mod = "doc[q] == doc[k]";
    a.expr_tensors = &t;
    a.n_expr_tensors = 1;
    t = doc, t.name = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "expr_tensors[0].name=NULL", NULL);
    t = doc, t.name = "2doc";
    BAD(a, EFFGEN_INVALID_ARGUMENT, "expr_tensors[0].name=\"2doc\"", "identifier");
    t = doc, t.data = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\": data=NULL", NULL);
    t = doc, t.data = (const void *)(uintptr_t)0x7f0000500002u;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\": data=", "aligned to 4 bytes");
    t = doc, t.dtype = (effgen_expr_dtype)9;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "dtype=9", NULL);
    t = doc, t.rank = 5;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "rank=5", "1 to 4");
    t = doc, t.sizes[0] = 0;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "sizes[0]=0", ">= 1");
    t = doc, t.strides[0] = -1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "strides[0]=-1", ">= 0");
    t = doc, t.sizes[0] = INT64_MAX / 2, t.strides[0] = 8;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "\"doc\"", "overflows");
    effgen_expr_tensor two[2] = {doc, doc};
    a.expr_tensors = two;
    a.n_expr_tensors = 2;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "expr_tensors[1].name=\"doc\"", "also the name");
    a.expr_tensors = NULL;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "expr_tensors=NULL", NULL);
    a.n_expr_tensors = -1;
    BAD(a, EFFGEN_INVALID_ARGUMENT, "n_expr_tensors=-1", NULL);

    /* valid: the key names both expressions, different texts name different keys, the tile fits them */
    a = good();
    a.score_mod = "score - slopes[h] * (q - k)";
    a.mask_mod = "doc[q] == doc[k]";
    effgen_expr_tensor ts[2] = {doc, {"slopes", fake_t, EFFGEN_EXPR_F32, 1, {3, 0, 0, 0}, {0, 0, 0, 0}}};
    a.expr_tensors = ts;
    a.n_expr_tensors = 2;
    char spec[128], spec2[128], config[64];
    if (CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) {
        CHECK_HAS(spec, "attn_fwd/d64/bf16/causal+score.");
        CHECK_HAS(spec, "+mask.");
        int bn = 0;
        CHECK(sscanf(config, "bm%*d.bn%d", &bn) == 1 && bn <= 64);
    }
    a.score_mod = "score - slopes[h] * (k - q)";
    if (CHECK_OK(effgen_describe(ctx, &a, spec2, sizeof spec2, config, sizeof config))) CHECK(strcmp(spec, spec2) != 0);
    /* without a device the call stops at the device, after every expression check passed */
    CHECK_STATUS(effgen_attention_fwd(ctx, &a, NULL), EFFGEN_NO_DEVICE);

    /* a score expression that is an additive bias over a tensor of Q's dtype, keys contiguous, takes the
     * built-in bias; other forms, dtypes, layouts and sizes keep the expression */
    static const struct {
        const char *text;
        effgen_expr_dtype dtype;
        int rank;
        int64_t sizes[4], strides[4];
        int lowered;
    } bt[] = {
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 0, 0}, 1},
        {"t[b, h, q, k] + score", EFFGEN_EXPR_BF16, 4, {2, 3, 100, 120}, {0, 0, 0, 0}, 1},
        {"score + t[q, k]", EFFGEN_EXPR_BF16, 2, {128, 128, 0, 0}, {0, 0, 0, 0}, 1},
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 128, 1, 0}, 1}, /* shared by heads */
        {"score + t[h, q, k]", EFFGEN_EXPR_F32, 3, {3, 100, 120, 0}, {0, 0, 0, 0}, 0},    /* not Q's dtype */
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {12000, 1, 100, 0}, 0}, /* keys strided */
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 122, 0}, {0, 0, 0, 0}, 0},   /* rows not in 16 bytes */
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 99, 120, 0}, {0, 0, 0, 0}, 0},    /* too few rows */
        {"score + t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 1, 0}, 0},   /* a row per query */
        {"score - t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 0, 0}, 0},
        {"score + 2 * t[h, q, k]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 0, 0}, 0},
        {"score + t[h, k, q]", EFFGEN_EXPR_BF16, 3, {3, 120, 100, 0}, {0, 0, 0, 0}, 0},
        {"score + t[h, q, k - 1]", EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 0, 0}, 0},
    };
    const int nbt = (int)(sizeof bt / sizeof bt[0]);
    for (int i = 0; i <= nbt; i++) {
        /* after the table: its first case again, at an address off 16 bytes (not lowered) */
        const int c = i < nbt ? i : 0, want = i < nbt ? bt[c].lowered : 0;
        effgen_expr_tensor tt = {"t", i < nbt ? fake_t : (const void *)((uintptr_t)fake_t + 8), bt[c].dtype,
                                 bt[c].rank, {0, 0, 0, 0}, {0, 0, 0, 0}};
        memcpy(tt.sizes, bt[c].sizes, sizeof tt.sizes);
        memcpy(tt.strides, bt[c].strides, sizeof tt.strides);
        a = good();
        a.score_mod = bt[c].text;
        a.expr_tensors = &tt;
        a.n_expr_tensors = 1;
        if (!CHECK_OK(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config))) continue;
        if (!CHECK_INT(strstr(spec, "+bias") != NULL && strstr(spec, "+score") == NULL, want))
            fprintf(stderr, "  %s (case %d%s): %s\n", bt[c].text, i, i < nbt ? "" : ", off 16 bytes", spec);
    }
    /* a config the caller names that the lowered spec refuses (128-key tiles of 32 rows a warp: the bias
     * pairs pass the register file) keeps the expression; one that fits both takes the bias */
    static const char *const named[2] = {"bm128.bn128.w4.s2", "bm128.bn64.w4.s2"};
    for (int i = 0; i < 2; i++) {
        effgen_expr_tensor tt = {"t", fake_t, EFFGEN_EXPR_BF16, 3, {3, 100, 120, 0}, {0, 0, 0, 0}};
        a = good();
        a.score_mod = "score + t[h, q, k]";
        a.expr_tensors = &tt;
        a.n_expr_tensors = 1;
        a.config = named[i];
        if (!CHECK_OK(effgen_describe(ctx, &a, spec2, sizeof spec2, config, sizeof config))) continue;
        if (!CHECK_INT(strstr(spec2, "+bias") != NULL && strstr(spec2, "+score") == NULL, i))
            fprintf(stderr, "  config %s: %s\n", named[i], spec2);
        CHECK(strcmp(config, named[i]) == 0);
    }

    /* generation from text: a key with a hash needs the text */
    char *src = NULL;
    CHECK_STATUS(effgen_generate(spec, NULL, &src), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "--score-mod TEXT");
    CHECK_STATUS(effgen_generate_mod("attn_fwd/d64/bf16/none/sm_90", NULL, "score +", NULL, &src), EFFGEN_PARSE);
    CHECK_HAS(effgen_last_error(), "score_mod: ");
    if (CHECK_OK(effgen_generate_mod("attn_fwd/d64/bf16/none/sm_90", NULL, NULL, "doc[q] == doc[k]; doc: i32[1]", &src))) {
        CHECK_HAS(src, "MASK_MOD = true");
        CHECK_HAS(src, "user_mask_mod");
        CHECK_LACKS(src, "SCORE_MOD");
    }
    effgen_free(src);
    src = NULL;
    if (CHECK_OK(effgen_generate("attn_fwd/d64/bf16/none/sm_90", NULL, &src))) {
        CHECK_LACKS(src, "MASK_MOD");
        CHECK_LACKS(src, "expr_ld");
    }
    effgen_free(src);
}

int main(void) {
    setenv("EFFGEN_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
    status_names();
    args_init();
    open_options();
    effgen_options opt;
    effgen_options_init(&opt);
    opt.no_gpu = 1;
    opt.arch = "sm_90";
    if (!CHECK_OK(effgen_open(&ctx, &opt))) return T_DONE();
    null_handles();
    sizes();
    pointers();
    strides();
    bad_config();
    wg_family();
    variants();
    tensor_variants();
    expressions();
    valid_problem();
    binding_queries();
    effgen_close(ctx);
    no_arch_context();
    return T_DONE();
}
