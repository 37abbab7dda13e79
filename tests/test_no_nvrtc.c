/* test_no_nvrtc.c - a machine without NVRTC: the first compile reports EFFGEN_NVRTC_UNAVAILABLE with a
 * message naming the library it looked for, every later compile says the same, and generation (which
 * needs no NVRTC) still works. A process of its own, because NVRTC is loaded once per process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"
#include "t.h"

#define MISSING "/nonexistent/libnvrtc.so"

int main(void) {
    setenv("EFFGEN_NVRTC", MISSING, 1);
    effgen_options opt;
    effgen_options_init(&opt);
    opt.no_gpu = 1;
    opt.arch = "sm_90";
    effgen_ctx *ctx = NULL;
    if (!CHECK_OK(effgen_open(&ctx, &opt))) return T_DONE(); /* NVRTC is not needed to open */

    void *cubin = (void *)&opt;
    size_t size = 123;
    effgen_kernel_info info;
    CHECK_STATUS(effgen_compile(ctx, "attn_fwd/d128/bf16/causal/sm_90", NULL, NULL, &cubin, &size, &info),
                 EFFGEN_NVRTC_UNAVAILABLE);
    CHECK_HAS(effgen_last_error(), MISSING);
    CHECK_HAS(effgen_last_error(), "EFFGEN_NVRTC");
    CHECK(cubin == NULL || cubin == (void *)&opt); /* nothing handed out that would leak */

    /* the outcome is sticky for the process, and the text is the same on a second call */
    CHECK_STATUS(effgen_compile(ctx, "attn_fwd/d64/fp16/none/sm_80", NULL, "sm_80", NULL, NULL, &info),
                 EFFGEN_NVRTC_UNAVAILABLE);
    CHECK_HAS(effgen_last_error(), MISSING);
    int major = -1, minor = -1;
    CHECK_STATUS(effgen_nvrtc_version(&major, &minor), EFFGEN_NVRTC_UNAVAILABLE);
    CHECK_HAS(effgen_last_error(), "libnvrtc");

    /* bad input is still reported as bad input, not as the missing library */
    CHECK_STATUS(effgen_compile(ctx, "attn_fwd/d100/bf16/causal/sm_90", NULL, NULL, NULL, NULL, &info),
                 EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=100");

    char *src = NULL;
    CHECK_OK(effgen_generate("attn_fwd/d128/bf16/causal/sm_90", NULL, &src));
    CHECK(src != NULL && strstr(src, "attn_fwd/d128/bf16/causal/sm_90") != NULL);
    effgen_free(src);
    effgen_close(ctx);
    return T_DONE();
}
