/* test_no_driver.c - a machine without the CUDA driver: a call that needs the GPU reports
 * EFFGEN_DRIVER_UNAVAILABLE, names the library and says that generation still works, and it does. A
 * process of its own, because the driver is loaded once per process. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"
#include "t.h"

#define MISSING "/nonexistent/libcuda.so.1"

int main(void) {
    setenv("EFFGEN_LIBCUDA", MISSING, 1);
    effgen_ctx *ctx = NULL;
    /* opening is lazy: no driver is needed until a launch */
    if (!CHECK_OK(effgen_open(&ctx, NULL))) return T_DONE();

    int version = -1;
    CHECK_STATUS(effgen_driver_version(&version), EFFGEN_DRIVER_UNAVAILABLE);
    CHECK_HAS(effgen_last_error(), MISSING);
    CHECK_HAS(effgen_last_error(), "generation");

    /* a valid problem with no arch in the options needs the device to pick one */
    effgen_attn_args a;
    effgen_attn_args_init(&a);
    a.batch = 1, a.heads = 2, a.seqlen_q = 64, a.seqlen_k = 64, a.head_dim = 128;
    a.q = (const void *)(uintptr_t)0x10000, a.k = (const void *)(uintptr_t)0x20000;
    a.v = (const void *)(uintptr_t)0x30000, a.o = (void *)(uintptr_t)0x40000;
    CHECK_STATUS(effgen_attention_fwd(ctx, &a, NULL), EFFGEN_DRIVER_UNAVAILABLE);
    CHECK_HAS(effgen_last_error(), MISSING);
    CHECK_HAS(effgen_last_error(), "generation and compilation still work");
    char spec[128], config[64];
    CHECK_STATUS(effgen_describe(ctx, &a, spec, sizeof spec, config, sizeof config), EFFGEN_DRIVER_UNAVAILABLE);

    /* with an arch in the options the problem is validated and described without the driver */
    effgen_ctx *offline = NULL;
    effgen_options opt;
    effgen_options_init(&opt);
    opt.arch = "sm_80";
    if (CHECK_OK(effgen_open(&offline, &opt))) {
        CHECK_OK(effgen_describe(offline, &a, spec, sizeof spec, config, sizeof config));
        CHECK_STR(spec, "attn_fwd/d128/bf16/none/sm_80");
        a.head_dim = 100;
        CHECK_STATUS(effgen_attention_fwd(offline, &a, NULL), EFFGEN_INVALID_ARGUMENT);
        CHECK_HAS(effgen_last_error(), "head_dim=100");
        a.head_dim = 128;
        CHECK_STATUS(effgen_attention_fwd(offline, &a, NULL), EFFGEN_DRIVER_UNAVAILABLE);
        CHECK_HAS(effgen_last_error(), MISSING);
        effgen_close(offline);
    }

    /* what the message promises */
    char *src = NULL;
    CHECK_OK(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", NULL, &src));
    CHECK(src != NULL);
    effgen_free(src);
    effgen_close(ctx);
    return T_DONE();
}
