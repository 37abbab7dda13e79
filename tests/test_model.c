/* test_model.c - the cost model: the shared-memory row pitch avoids ldmatrix bank conflicts, the
 * shared-memory formula matches the layout the template uses, the default config is feasible for every
 * spec, and occupancy respects each limit it is built from (see docs/cost-model.md). */
#include <stdio.h>

#include "cg.h"
#include "t.h"

static const int archs[] = {80, 86, 87, 89, 90, 100, 103, 110, 120, 121};
#define N_ARCHS ((int)(sizeof archs / sizeof archs[0]))

static void row_pitch(void) {
    for (int d = 8; d <= 256; d += 8) {
        int p = eg_model_row_pitch(d);
        CHECK_INT(p % 8, 0);         /* whole 16-byte chunks, so cp.async and ldmatrix rows stay aligned */
        CHECK_INT((p / 8) % 2, 1);   /* odd chunk count: eight ldmatrix rows hit eight bank groups */
        CHECK(p >= d && p - d <= 8); /* at most one chunk of padding */
        if (!CHECK(p == d || (d / 8) % 2 == 0)) fprintf(stderr, "  d=%d padded though already odd\n", d);
    }
    CHECK_INT(eg_model_row_pitch(64), 72);
    CHECK_INT(eg_model_row_pitch(72), 72);
    CHECK_INT(eg_model_row_pitch(128), 136);
    CHECK_INT(eg_model_row_pitch(256), 264);
}

static void smem_formula(void) {
    for (int d = 8; d <= 256; d += 8) {
        eg_spec s = {EG_OP_ATTN_FWD, d, EFFGEN_FP16, EG_MASK_NONE, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
        static const eg_config cs[] = {{128, 64, 4, 2, EG_FAMILY_MMA}, {64, 32, 4, 1, EG_FAMILY_MMA}, {16, 16, 1, 4, EG_FAMILY_MMA}, {256, 128, 8, 3, EG_FAMILY_MMA}};
        for (int i = 0; i < 4; i++) {
            eg_cost cost;
            eg_model_cost(&s, &cs[i], &cost);
            int want = (cs[i].block_m + 2 * cs[i].stages * cs[i].block_n) * eg_model_row_pitch(d) * 2;
            CHECK_INT(cost.smem_bytes, want);
            CHECK_INT(cost.threads, 32 * cs[i].warps);
        }
    }
    /* one worked example, by hand: Q tile 128 rows + K and V rings of 2 x 64 rows, pitch 136, 2 bytes */
    eg_spec s = {EG_OP_ATTN_FWD, 128, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 80, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config c = {128, 64, 4, 2, EG_FAMILY_MMA};
    eg_cost cost;
    eg_model_cost(&s, &c, &cost);
    CHECK_INT(cost.smem_bytes, 104448);
    /* registers: O 2*16*4 + S 2*8*4 + statistics 4*2 + 24 fixed */
    CHECK_INT(cost.regs_estimate, 128 + 64 + 8 + 24);
}

/* Registers grow with head_dim * block_m / warps: the term that forces 8 warps at large head dims. */
static void register_growth(void) {
    eg_config c = {128, 64, 4, 2, EG_FAMILY_MMA};
    int prev = 0;
    for (int d = 8; d <= 256; d += 8) {
        eg_spec s = {EG_OP_ATTN_FWD, d, EFFGEN_BF16, EG_MASK_NONE, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
        eg_cost cost;
        eg_model_cost(&s, &c, &cost);
        CHECK(cost.regs_estimate > prev);
        prev = cost.regs_estimate;
        eg_config c8 = {128, 64, 8, 2, EG_FAMILY_MMA};
        eg_cost cost8;
        eg_model_cost(&s, &c8, &cost8);
        CHECK(cost8.regs_estimate < cost.regs_estimate);
    }
}

static void defaults_validate(void) {
    int n = 0;
    for (int a = 0; a < N_ARCHS; a++)
        for (int d = 8; d <= 256; d += 8)
            for (int t = 0; t < 2; t++)
                for (int m = 0; m < 2; m++) {
                    eg_spec s = {EG_OP_ATTN_FWD, d, t ? EFFGEN_FP16 : EFFGEN_BF16, m ? EG_MASK_CAUSAL : EG_MASK_NONE,
                                 EFFGEN_CAUSAL_BOTTOM_RIGHT, archs[a], 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
                    eg_config c = {0, 0, 0, 0, EG_FAMILY_MMA};
                    n++;
                    if (!CHECK_OK(eg_model_default(&s, &c))) continue;
                    CHECK_OK(eg_config_validate(&c, &s));
                    eg_cost cost;
                    eg_model_cost(&s, &c, &cost);
                    CHECK(cost.blocks_per_sm >= 1);
                    CHECK(cost.smem_bytes <= eg_model_limits(archs[a]).smem_per_block);
                    CHECK(cost.regs_estimate <= 255);
                }
    CHECK_INT(n, N_ARCHS * 32 * 4);

    /* the worked examples of docs/cost-model.md */
    eg_spec s = {EG_OP_ATTN_FWD, 128, EFFGEN_BF16, EG_MASK_CAUSAL, EFFGEN_CAUSAL_BOTTOM_RIGHT, 90, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL};
    eg_config c;
    char key[EG_KEY_MAX];
    CHECK_OK(eg_model_default(&s, &c));
    eg_config_print(&c, key, sizeof key);
    CHECK_STR(key, "bm128.bn64.w4.s2");
    s.head_dim = 256;
    CHECK_OK(eg_model_default(&s, &c));
    eg_config_print(&c, key, sizeof key);
    CHECK_STR(key, "bm128.bn64.w8.s2");
    s.arch = 86;
    CHECK_OK(eg_model_default(&s, &c));
    eg_config_print(&c, key, sizeof key);
    CHECK_STR(key, "bm128.bn16.w8.s2");

    /* an invalid spec has no default, and says why */
    s.head_dim = 100;
    CHECK_STATUS(eg_model_default(&s, &c), EFFGEN_INVALID_ARGUMENT);
    CHECK_HAS(effgen_last_error(), "head_dim=100");
}

static void occupancy(void) {
    for (int a = 0; a < N_ARCHS; a++) {
        eg_arch_limits l = eg_model_limits(archs[a]);
        CHECK(l.smem_per_block > 0 && l.smem_per_block <= l.smem_per_sm);
        CHECK(l.regs_per_sm == 65536);
        CHECK(l.max_threads_per_sm >= 1024);
        for (int warps = 1; warps <= 8; warps *= 2) {
            int threads = 32 * warps, prev_r = 1 << 30;
            for (int regs = 16; regs <= 255; regs += 8) {
                int b = eg_model_occupancy(archs[a], threads, regs, 16384);
                CHECK(b <= prev_r); /* more registers never raise occupancy */
                prev_r = b;
                CHECK((long)b * threads <= l.max_threads_per_sm);
                CHECK((long)b * threads * regs <= l.regs_per_sm);
                CHECK((long)b * 16384 <= l.smem_per_sm);
            }
            int prev_s = 1 << 30;
            for (int smem = 0; smem <= l.smem_per_block; smem += 4096) {
                int b = eg_model_occupancy(archs[a], threads, 64, smem);
                CHECK(b <= prev_s);
                CHECK(b >= 1);
                prev_s = b;
            }
        }
        /* more shared memory than an SM has: nothing fits */
        CHECK_INT(eg_model_occupancy(archs[a], 128, 64, l.smem_per_sm + 1), 0);
        CHECK_INT(eg_model_occupancy(archs[a], 0, 64, 0), 0);
    }
    /* sm_90, 128 threads, 32 registers, no shared memory: threads and registers both allow 16 */
    CHECK_INT(eg_model_occupancy(90, 128, 32, 0), 16);
    /* sm_86 holds one 96 KB block (100 KB per SM, 1 KB reserved per block), sm_80 one as well */
    CHECK_INT(eg_model_occupancy(86, 128, 64, 96 * 1024), 1);
    CHECK_INT(eg_model_occupancy(80, 128, 64, 80 * 1024), 2);
}

int main(void) {
    row_pitch();
    smem_formula();
    register_growth();
    defaults_validate();
    occupancy();
    return T_DONE();
}
