/* test_compile_repeat.c - compiling the same kernel twice reports the same resources. Where a CUDA driver
 * is installed, NVRTC may serve the second compile from the driver's compute cache, whose program log
 * lacks the ptxas report; registers and spills must still be right, since the tuner and the occupancy
 * figures rely on them. Without NVRTC: 77 if EFFGEN_ALLOW_NO_NVRTC is set, else a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effgen.h"
#include "t.h"

int main(void) {
    int major, minor;
    if (effgen_nvrtc_version(&major, &minor) != EFFGEN_OK) {
        fprintf(stderr, "NVRTC unavailable: %s\n", effgen_last_error());
        if (getenv("EFFGEN_ALLOW_NO_NVRTC")) return T_SKIP_CODE;
        CHECK(0);
        return T_DONE();
    }
    static const char *specs[] = {"attn_fwd/d64/bf16/causal/sm_80", "attn_fwd/d128/fp16/none/sm_90"};
    for (int i = 0; i < 2; i++) {
        effgen_kernel_info first, again;
        memset(&first, 0, sizeof first);
        memset(&again, 0, sizeof again);
        size_t n1 = 0, n2 = 0;
        void *c1 = NULL, *c2 = NULL;
        if (!CHECK_OK(effgen_compile(NULL, specs[i], NULL, NULL, &c1, &n1, &first))) continue;
        if (CHECK_OK(effgen_compile(NULL, specs[i], NULL, NULL, &c2, &n2, &again))) {
            fprintf(stderr, "%s: %d/%d registers, %d/%d bytes spilled, %.0f/%.0f ms\n", specs[i], first.registers,
                    again.registers, first.spill_bytes, again.spill_bytes, first.compile_ms, again.compile_ms);
            CHECK(first.registers > 0);
            CHECK_INT(again.registers, first.registers);
            CHECK_INT(again.stack_bytes, first.stack_bytes);
            /* NVRTC 13 is told to bypass the cache, so both compiles carry a report; an older NVRTC that
             * served one from the cache says -1 (unknown), never a made-up 0 */
            if (major >= 13) {
                CHECK(first.spill_bytes >= 0);
                CHECK_INT(again.spill_bytes, first.spill_bytes);
            } else {
                CHECK(again.spill_bytes == first.spill_bytes || again.spill_bytes == -1 || first.spill_bytes == -1);
            }
            CHECK_INT(n2, n1);
            CHECK(n1 == n2 && memcmp(c1, c2, n1) == 0); /* same input, same cubin */
        }
        effgen_free(c1);
        effgen_free(c2);
    }
    return T_DONE();
}
