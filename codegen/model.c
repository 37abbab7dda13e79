/* model.c - the cost model: shared memory and register footprint of a config, occupancy, and the
 * default config for a spec. The shared-memory term grows with head_dim * (block_m + 2*stages*block_n)
 * and the accumulator registers with head_dim * block_m / warps: the d^2 tradeoff the tuner explores.
 * See docs/cost-model.md for the formulas. */
#include "cg.h"

eg_arch_limits eg_model_limits(int arch) {
    eg_arch_limits l = {101376, 102400, 65536, 1536};
    switch (arch) {
    case 80:
    case 87:
        l.smem_per_block = 166912;
        l.smem_per_sm = 167936;
        l.max_threads_per_sm = 2048;
        break;
    case 90:
    case 100:
    case 103:
    case 110:
        l.smem_per_block = 232448;
        l.smem_per_sm = 233472;
        l.max_threads_per_sm = 2048;
        break;
    default: /* 86, 89, 120, 121: 100 KB per SM */
        break;
    }
    return l;
}

int eg_model_row_pitch(int head_dim) {
    /* ldmatrix reads eight 16-byte rows at once; with an odd number of 16-byte chunks per row the eight
     * rows land in eight distinct bank groups. */
    int chunks = head_dim / 8;
    if (chunks % 2 == 0) chunks += 1;
    return chunks * 8;
}

void eg_model_cost(const eg_spec *s, const eg_config *c, eg_cost *out) {
    int pitch = eg_model_row_pitch(s->head_dim);
    int m_tiles = c->block_m / c->warps / 16; /* 16-row MMA tiles per warp */
    int o_regs = m_tiles * (s->head_dim / 8) * 4;
    int s_regs = m_tiles * (c->block_n / 8) * 4;
    out->smem_bytes = (c->block_m + 2 * c->stages * c->block_n) * pitch * 2;
    /* fp32 accumulators for O and S, two row statistics per 8 rows, addressing and loop state */
    out->regs_estimate = o_regs + s_regs + 4 * m_tiles + 24;
    out->threads = 32 * c->warps;
    int regs = out->regs_estimate > 255 ? 255 : out->regs_estimate;
    out->blocks_per_sm = eg_model_occupancy(s->arch, out->threads, regs, out->smem_bytes);
}

int eg_model_occupancy(int arch, int threads, int regs, int smem) {
    eg_arch_limits l = eg_model_limits(arch);
    if (threads <= 0) return 0;
    int warps = (threads + 31) / 32;
    int regs_per_warp = ((regs < 1 ? 1 : regs) * 32 + 255) / 256 * 256; /* allocation unit: 256 per warp */
    int by_regs = l.regs_per_sm / (regs_per_warp * warps);
    int by_threads = l.max_threads_per_sm / threads;
    int by_smem = smem > 0 ? l.smem_per_sm / (smem + 1024) : 32; /* 1 KB reserved per block */
    int b = by_regs < by_threads ? by_regs : by_threads;
    b = b < by_smem ? b : by_smem;
    return b > 32 ? 32 : b;
}

effgen_status eg_model_default(const eg_spec *s, eg_config *out) {
    /* Preference order: large query tiles first (K/V read once per 128 query rows), 4 warps while the
     * accumulators of two 16-row tiles fit in registers, then 8 warps, then smaller tiles where shared
     * memory is scarce (sm_86/89/120 at large head dims). */
    static const eg_config prefs[] = {
        {128, 64, 4, 2}, {128, 64, 8, 2}, {128, 32, 8, 2}, {64, 64, 4, 2},
        {64, 32, 4, 2},  {64, 32, 4, 1},  {32, 32, 2, 1},  {16, 16, 1, 1},
    };
    effgen_status st = eg_spec_validate(s);
    if (st) return st;
    for (size_t i = 0; i < sizeof prefs / sizeof prefs[0]; i++) {
        if (eg_config_validate(&prefs[i], s) == EFFGEN_OK) {
            eg_err_clear();
            *out = prefs[i];
            return EFFGEN_OK;
        }
    }
    char key[EG_KEY_MAX];
    eg_spec_print(s, key, sizeof key);
    return eg_err(EFFGEN_RESOURCES, "spec %s: no config fits the shared memory of sm_%d", key, s->arch);
}
