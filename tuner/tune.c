/* tune.c - the autotuner: candidates enumerated and pruned before any compile (counted, not stored: a
 * resumed run prunes the same way), the strategies that choose which to measure, and the run: online
 * (compile on host threads, check, time, store every outcome) or offline (the cost model picks, only the
 * picks are compiled). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune.h"
#include "tune_int.h"

#define DEFAULT_REPS 20
#define SUSPICIOUS_LEAD 0.85 /* a winner this much faster than the runner-up is timed again */

/* ---- strategies ---- */

effgen_status eg_tune_strategy_parse(const char *text, eg_tune_strategy *out) {
    if (!text) return eg_err(EFFGEN_INVALID_ARGUMENT, "strategy=NULL: expected exhaustive, topk, random or script");
    eg_tune_strategy s = {EG_TUNE_EXHAUSTIVE, 8, 16, 1};
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    long a = -1, b = -1;
    if (colon) {
        char *end;
        a = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || a <= 0 || a > 1000000) a = -2;
        else if (*end == ':') {
            char *end2;
            b = strtol(end + 1, &end2, 10);
            if (end2 == end + 1 || b < 0 || *end2) a = -2;
        } else if (*end) {
            a = -2;
        }
    }
    if (n == 10 && !strncmp(text, "exhaustive", n) && !colon) {
        s.kind = EG_TUNE_EXHAUSTIVE;
    } else if (n == 4 && !strncmp(text, "topk", n) && a != -2 && b < 0) {
        s.kind = EG_TUNE_TOPK;
        if (a > 0) s.k = (int)a;
    } else if (n == 6 && !strncmp(text, "random", n) && a != -2) {
        s.kind = EG_TUNE_RANDOM;
        if (a > 0) s.budget = (int)a;
        if (b >= 0) s.seed = (uint64_t)b;
    } else if (n == 6 && !strncmp(text, "script", n) && !colon) {
        s.kind = EG_TUNE_SCRIPT;
    } else {
        return eg_err(EFFGEN_PARSE,
                      "strategy \"%s\": must be exhaustive, topk[:K], random[:BUDGET[:SEED]] or script", text);
    }
    *out = s;
    return EFFGEN_OK;
}

void eg_tune_problem_print(const eg_tune_problem *p, char *buf, size_t size) {
    snprintf(buf, size, "b%d.h%d.nq%d.nk%d", p->batch, p->heads, p->seqlen_q, p->seqlen_k);
}

double eg_tune_estimate(const eg_tune_problem *p, const eg_config *c) {
    return eg_model_estimate(&p->spec, c, p->batch * p->heads, p->seqlen_q, p->seqlen_k);
}

int eg_tune_model_before(const eg_tune_problem *p, const eg_config *a, double ea, const eg_config *b, double eb) {
    /* the family first, as eg_model_default chooses it: the two families' estimates are in the same units
     * but not equally close to what they measure (docs/cost-model.md) */
    int fam = (int)eg_model_family(&p->spec);
    int pa = a->family == fam, pb = b->family == fam;
    if (pa != pb) return pa;
    return ea < eb;
}

/* The model's pick among cands[0, n): the first in its order; -1 when n is 0. */
static int model_pick(const eg_tune_problem *p, const eg_config *cands, int n) {
    int best = -1;
    double be = INFINITY;
    for (int i = 0; i < n; i++) {
        double e = eg_tune_estimate(p, &cands[i]);
        if (best < 0 || eg_tune_model_before(p, &cands[i], e, &cands[best], be)) {
            best = i;
            be = e;
        }
    }
    return best;
}

/* Whether v appears in list[0, i): a value listed twice yields one candidate. */
static int seen_before(const int *list, int i, int v) {
    for (int j = 0; j < i; j++)
        if (list[j] == v) return 1;
    return 0;
}

/* Whether candidate cf survives the arch's limits, the plan's limits and the constraint (*keep), counting
 * the ones it fails in pruned[]; an error status comes from the constraint hook. */
static effgen_status prune(const eg_tune_plan *plan, const eg_tune_problem *p, const eg_config *cf, int pruned[3],
                           int *keep) {
    *keep = 0;
    if (eg_config_validate(cf, &p->spec) != EFFGEN_OK) {
        eg_err_clear();
        pruned[0]++;
        return EFFGEN_OK;
    }
    const eg_tune_limits *lim = &plan->limits;
    eg_cost cost;
    eg_model_cost(&p->spec, cf, &cost);
    if ((lim->max_smem > 0 && cost.smem_bytes > lim->max_smem) ||
        (lim->max_registers > 0 && cost.regs_estimate > lim->max_registers) ||
        (lim->min_occupancy > 0 && cost.blocks_per_sm < lim->min_occupancy)) {
        pruned[1]++;
        return EFFGEN_OK;
    }
    if (plan->hooks.constraint) {
        int ok = 0;
        effgen_status st = plan->hooks.constraint(plan->hooks.ud, p, cf, &ok);
        if (st) return st;
        if (!ok) {
            pruned[2]++;
            return EFFGEN_OK;
        }
    }
    *keep = 1;
    return EFFGEN_OK;
}

effgen_status eg_tune_candidates(const eg_tune_plan *plan, const eg_tune_problem *p, eg_config **out, int *n,
                                 int pruned[3]) {
    *out = NULL;
    *n = 0;
    pruned[0] = pruned[1] = pruned[2] = 0;
    const eg_tune_space *sp = &plan->space;
    const eg_tune_wg_space *wg = &plan->wg_space;
    /* the wg family joins where the model would choose it: sm_90a and a spec it implements */
    int use_wg = wg->n_consumers > 0 && wg->n_block_n > 0 && wg->n_stages > 0 && eg_model_wg_supported(&p->spec);
    static const int plain[1] = {0};
    const int *dsplit = sp->n_dsplit > 0 ? sp->dsplit : plain, n_dsplit = sp->n_dsplit > 0 ? sp->n_dsplit : 1;
    int cap = sp->n_block_m * sp->n_block_n * sp->n_warps * sp->n_stages * n_dsplit;
    if (use_wg) cap += wg->n_consumers * wg->n_block_n * wg->n_stages;
    if (cap <= 0) return EFFGEN_OK;
    eg_config *c = malloc(sizeof *c * (size_t)cap);
    if (!c) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory for %d candidates", cap);
    int m = 0;
    effgen_status st = EFFGEN_OK;
    for (int a = 0; a < sp->n_block_m; a++) {
        if (seen_before(sp->block_m, a, sp->block_m[a])) continue;
        for (int b = 0; b < sp->n_block_n; b++) {
            if (seen_before(sp->block_n, b, sp->block_n[b])) continue;
            for (int w = 0; w < sp->n_warps; w++) {
                if (seen_before(sp->warps, w, sp->warps[w])) continue;
                for (int s = 0; s < sp->n_stages; s++) {
                    if (seen_before(sp->stages, s, sp->stages[s])) continue;
                    for (int d = 0; d < n_dsplit; d++) {
                        if (seen_before(dsplit, d, dsplit[d])) continue;
                        eg_config cf = {sp->block_m[a], sp->block_n[b], sp->warps[w], sp->stages[s], EG_FAMILY_MMA,
                                        dsplit[d]};
                        int keep = 0;
                        if ((st = prune(plan, p, &cf, pruned, &keep))) goto fail;
                        if (keep) c[m++] = cf;
                    }
                }
            }
        }
    }
    for (int a = 0; use_wg && a < wg->n_consumers; a++) {
        if (seen_before(wg->consumers, a, wg->consumers[a])) continue;
        for (int b = 0; b < wg->n_block_n; b++) {
            if (seen_before(wg->block_n, b, wg->block_n[b])) continue;
            for (int s = 0; s < wg->n_stages; s++) {
                if (seen_before(wg->stages, s, wg->stages[s])) continue;
                int cons = wg->consumers[a];
                eg_config cf = {64 * cons, wg->block_n[b], 4 * (cons + 1), wg->stages[s], EG_FAMILY_WG, 0};
                int keep = 0;
                if ((st = prune(plan, p, &cf, pruned, &keep))) goto fail;
                if (keep) c[m++] = cf;
            }
        }
    }
    if (!m) goto fail; /* nothing kept: no array */
    *out = c;
    *n = m;
    return EFFGEN_OK;
fail:
    free(c);
    return st;
}

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t hash_text(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

effgen_status eg_tune_select(const eg_tune_strategy *s, const eg_tune_problem *p, const eg_config *cands, int n,
                             int *idx, int *m) {
    *m = 0;
    for (int i = 0; i < n; i++) idx[i] = i;
    switch (s->kind) {
    case EG_TUNE_EXHAUSTIVE:
        *m = n;
        return EFFGEN_OK;
    case EG_TUNE_TOPK: {
        if (s->k < 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "strategy topk: k=%d: must be >= 1", s->k);
        double *est = malloc(sizeof *est * (size_t)(n ? n : 1));
        if (!est) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory ranking %d candidates", n);
        for (int i = 0; i < n; i++) est[i] = eg_tune_estimate(p, &cands[i]);
        /* insertion sort in the model's order: stable, so equals keep the space's order */
        for (int i = 1; i < n; i++) {
            int v = idx[i], j = i;
            while (j > 0 && eg_tune_model_before(p, &cands[v], est[v], &cands[idx[j - 1]], est[idx[j - 1]])) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = v;
        }
        free(est);
        *m = s->k < n ? s->k : n;
        return EFFGEN_OK;
    }
    case EG_TUNE_RANDOM: {
        if (s->budget < 1) return eg_err(EFFGEN_INVALID_ARGUMENT, "strategy random: budget=%d: must be >= 1", s->budget);
        char key[EG_KEY_MAX];
        eg_spec_print(&p->spec, key, sizeof key);
        /* the draw depends on the seed and the problem only, so shards and reruns agree */
        uint64_t state = mix64(s->seed ^ hash_text(key) ^ ((uint64_t)(unsigned)p->bucket << 32));
        int take = s->budget < n ? s->budget : n;
        for (int i = 0; i < take; i++) {
            state = mix64(state);
            int j = i + (int)(state % (uint64_t)(n - i));
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        *m = take;
        return EFFGEN_OK;
    }
    case EG_TUNE_SCRIPT:
        return eg_err(EFFGEN_INVALID_ARGUMENT, "strategy script: chosen by the script's function, not by selection");
    }
    return eg_err(EFFGEN_INVALID_ARGUMENT, "strategy kind %d: unknown", (int)s->kind);
}

/* ---- the run ---- */

/* A kernel of the spec group under way. */
typedef struct krec {
    eg_config config;
    char key[64];
    int job;               /* index into run->jobs; -1: fetch or compile when first needed */
    int state;             /* 0: not yet loaded, 1: loaded, -1: failed (see fail_result, failure) */
    int checked;           /* 1: passed the reference check */
    double rel_err;
    eg_db_result fail_result;
    char failure[512];
} krec;

/* What the plan pass found for one problem of this shard. */
typedef struct pinfo {
    eg_tune_problem p;     /* arch set */
    int group;             /* index of its spec group */
    eg_config *cands;
    int n, pruned[3];
    int *sel, nsel;
    char *done;            /* per selected candidate: already measured (resume) */
    eg_tune_result *res;
} pinfo;

struct eg_tune_run {
    const eg_tune_plan *plan;
    const eg_tune_options *opt;
    const eg_tune_strategy *strategy;
    FILE *log;
    int arch, reps, progress;
    eg_db *db;
    eg_db_build build;
    eg_db_device dev;
    double ceiling_tflops;
    effgen_ctx *hold; /* keeps the device's primary context alive between the groups' contexts */
    effgen_ctx *ctx;
    eg_tune_job *jobs;
    int n_jobs;
    eg_tune_pool *pool;
    krec *k;
    int nk, capk;
    eg_tune_stats *st;
    pinfo *cur;
    double t0;
    long work_total, work_done;
};

static void note(eg_tune_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(eg_tune_run *r, const char *fmt, ...) {
    if (!r->progress) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->progress == 2) fputs("\r\033[K", r->log);
    fprintf(r->log, "effgen tune: %s\n", line);
    fflush(r->log);
}

static void fmt_duration(double s, char *buf, size_t size) {
    if (s < 0 || !isfinite(s)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%lds", t);
}

/* The bar on a terminal: redrawn in place after every measurement. */
static void progress_bar(eg_tune_run *r) {
    if (r->progress != 2 || !r->cur) return;
    double el = eg_tune_now() - r->t0;
    long total = r->work_total > 0 ? r->work_total : 1, done = r->work_done > total ? total : r->work_done;
    char eta[32] = "?";
    if (done > 0) fmt_duration(el / (double)done * (double)(total - done), eta, sizeof eta);
    char bar[31];
    int fill = (int)(30 * done / total);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
    bar[30] = 0;
    fprintf(r->log, "\r\033[K[%s] %ld/%ld %s b%d  ETA %s", bar, done, total, r->cur->res->spec, r->cur->p.bucket,
            eta);
    fflush(r->log);
}

static void problem_line(eg_tune_run *r, const eg_tune_result *res) {
    if (!r->progress) return;
    if (r->progress == 2) fputs("\r\033[K", r->log);
    if (!res->config[0])
        fprintf(r->log, "%s bucket %d: no winner (%d timed, %d failed checks, %d failed compiles)\n", res->spec,
                res->bucket, res->timed, res->check_failed, res->compile_failed);
    else if (res->source == EG_DB_MODEL)
        fprintf(r->log, "%s bucket %d: %s (model's pick)\n", res->spec, res->bucket, res->config);
    else
        fprintf(r->log, "%s bucket %d: %s %.4f ms %.1f TFLOP/s (%d timed, %d resumed, %d failed)%s\n", res->spec,
                res->bucket, res->config, res->ms, res->tflops, res->timed, res->resumed,
                res->check_failed + res->compile_failed, res->kept ? " (measured winner kept)" : "");
    fflush(r->log);
}

/* Bounded copy that always terminates; long texts (compiler logs) are cut. */
static void copy_text(char *dst, size_t size, const char *src) {
    if (!size) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= size) n = size - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

static void measurement_key(eg_tune_run *r, const eg_tune_problem *p, const char *config, eg_db_measurement *m) {
    memset(m, 0, sizeof *m);
    eg_spec_print(&p->spec, m->spec, sizeof m->spec);
    copy_text(m->config, sizeof m->config, config);
    m->arch = r->arch;
    m->build = r->build;
    eg_tune_problem_print(p, m->problem, sizeof m->problem);
    m->bucket = p->bucket;
    m->device = r->dev;
}

static eg_problem bench_problem(const eg_tune_problem *p) {
    eg_problem e;
    memset(&e, 0, sizeof e);
    e.dtype = p->spec.dtype;
    e.batch = p->batch;
    e.heads = p->heads;
    e.seqlen_q = p->seqlen_q;
    e.seqlen_k = p->seqlen_k;
    e.head_dim = p->spec.head_dim;
    e.causal = p->spec.mask == EG_MASK_CAUSAL;
    e.align = p->spec.align;
    /* A variant spec is measured on representative values, so the kernel timed is the spec's own: a
     * window of 256 keys (the peers' sliding window; symmetric without causal), Gemma's softcap of 50,
     * the standard ALiBi slopes, and two query heads per K/V head (one K/V head for an odd count). */
    if (p->spec.window) {
        e.window = 1;
        e.window_left = 255;
        e.window_right = e.causal ? 0 : 255;
    }
    if (p->spec.softcap) e.softcap = 50.0f;
    e.alibi = p->spec.alibi;
    if (p->spec.gqa) {
        if (e.heads < 2) e.heads = 2;
        e.kv_heads = e.heads % 2 ? 1 : e.heads / 2;
    }
    return e;
}

static krec *find_krec(eg_tune_run *r, const eg_config *c) {
    for (int i = 0; i < r->nk; i++)
        if (!memcmp(&r->k[i].config, c, sizeof *c)) return &r->k[i];
    return NULL;
}

static krec *add_krec(eg_tune_run *r, const eg_config *c, int job) {
    krec *k = find_krec(r, c);
    if (k) return k;
    if (r->nk == r->capk) {
        int cap = r->capk ? 2 * r->capk : 64;
        krec *nk = realloc(r->k, sizeof *nk * (size_t)cap);
        if (!nk) return NULL;
        r->k = nk;
        r->capk = cap;
    }
    k = &r->k[r->nk++];
    memset(k, 0, sizeof *k);
    k->config = *c;
    k->job = job;
    eg_config_print(c, k->key, sizeof k->key);
    return k;
}

static void kernel_row(eg_tune_run *r, const eg_spec *s, const eg_config *c, const eg_rt_cubin *cb, eg_db_kernel *k) {
    memset(k, 0, sizeof *k);
    eg_spec_print(s, k->spec, sizeof k->spec);
    eg_config_print(c, k->config, sizeof k->config);
    k->arch = r->arch;
    k->build = r->build;
    eg_cost cost;
    eg_model_cost(s, c, &cost);
    k->registers = cb->registers;
    k->smem_bytes = cost.smem_bytes;
    k->spill_bytes = cb->spill_bytes;
    k->compile_ms = cb->compile_ms;
    k->cubin = cb->data;
    k->cubin_size = cb->size;
}

/* The cubin of spec+config from the database; *found 0 when it has none. */
static effgen_status db_cubin(eg_tune_run *r, const eg_spec *s, const eg_config *c, eg_rt_cubin *cb, int *found) {
    char sk[EG_KEY_MAX], ck[64];
    eg_spec_print(s, sk, sizeof sk);
    eg_config_print(c, ck, sizeof ck);
    eg_db_kernel k;
    memset(&k, 0, sizeof k);
    memset(cb, 0, sizeof *cb);
    effgen_status st = eg_db_kernel_get(r->db, sk, ck, r->arch, &r->build, &k, found);
    if (st || !*found) return st;
    cb->data = k.cubin;
    cb->size = k.cubin_size;
    cb->registers = k.registers;
    cb->spill_bytes = k.spill_bytes;
    cb->compile_ms = k.compile_ms;
    return EFFGEN_OK;
}

/* Record a fresh compile: stats and the database row. */
static effgen_status compiled_one(eg_tune_run *r, const eg_spec *s, const eg_config *c, const eg_rt_cubin *cb) {
    r->st->compiled++;
    r->st->compile_s += cb->compile_ms / 1e3;
    if (r->cur) {
        r->cur->res->compiled++;
        r->cur->res->compile_s += cb->compile_ms / 1e3;
    }
    eg_db_kernel k;
    kernel_row(r, s, c, cb, &k);
    return eg_db_kernel_put(r->db, &k);
}

static void fail_krec(krec *k, eg_db_result why, const char *text) {
    k->state = -1;
    k->fail_result = why;
    copy_text(k->failure, sizeof k->failure, text);
}

/* Get the kernel of k into the context's module cache: from the pool, the database or NVRTC. A
 * candidate's own failure leaves k->state -1 and returns OK; an error status stops the tune. */
static effgen_status kernel_ready(eg_tune_run *r, const eg_tune_problem *p, krec *k) {
    if (k->state != 0) return EFFGEN_OK;
    eg_rt_cubin local;
    memset(&local, 0, sizeof local);
    eg_rt_cubin *cb = &local;
    effgen_status st = EFFGEN_OK;
    double t0 = eg_tune_now();
    if (k->job >= 0) {
        eg_tune_job *j = eg_tune_pool_take(r->pool, k->job);
        r->st->compile_wait_s += eg_tune_now() - t0;
        if (j->st) {
            r->st->compile_failed++;
            r->cur->res->compile_failed++;
            fail_krec(k, EG_DB_COMPILE_FAILED, j->err ? j->err : effgen_status_message(j->st));
            return EFFGEN_OK;
        }
        cb = &j->cubin;
        if (j->from_db) {
            r->st->reused++;
            r->cur->res->reused++;
        } else if ((st = compiled_one(r, &p->spec, &k->config, cb))) {
            return st;
        }
    } else {
        int found = 0;
        if ((st = db_cubin(r, &p->spec, &k->config, cb, &found))) return st;
        if (found) {
            r->st->reused++;
            r->cur->res->reused++;
        } else {
            effgen_status cs = eg_rt_compile(&p->spec, &k->config, r->arch, cb);
            r->st->compile_wait_s += eg_tune_now() - t0;
            if (cs) {
                r->st->compile_failed++;
                r->cur->res->compile_failed++;
                fail_krec(k, EG_DB_COMPILE_FAILED, effgen_last_error());
                return EFFGEN_OK;
            }
            if ((st = compiled_one(r, &p->spec, &k->config, cb))) {
                eg_rt_cubin_free(cb);
                return st;
            }
        }
    }
    const eg_rt_kernel *kern = NULL;
    effgen_status ls = eg_rt_push(r->ctx);
    if (!ls) {
        ls = eg_rt_kernel_load(r->ctx, &p->spec, &k->config, cb->data, cb->size, &kern);
        eg_rt_pop(r->ctx);
    }
    if (ls)
        fail_krec(k, EG_DB_LAUNCH_FAILED, effgen_last_error());
    else
        k->state = 1;
    /* the module holds the code now; the host copy would only grow the tune's memory */
    eg_rt_cubin_free(cb);
    return EFFGEN_OK;
}

/* Reference check of a loaded kernel on a small problem with partial tiles in both directions. */
static effgen_status kernel_checked(eg_tune_run *r, const eg_tune_problem *p, krec *k) {
    if (k->state != 1 || k->checked) return EFFGEN_OK;
    eg_tune_problem small = *p;
    small.batch = 1;
    small.heads = 2;
    small.seqlen_q = 2 * k->config.block_m + 19;
    small.seqlen_k = 3 * k->config.block_n + 37;
    eg_problem e = bench_problem(&small);
    eg_check_result res;
    double t0 = eg_tune_now();
    effgen_status st = eg_check(r->ctx, &e, k->key, 0x5eed0000u + (uint64_t)hash_text(k->key) % 1000u, &res);
    double dt = eg_tune_now() - t0;
    r->st->check_s += dt;
    r->cur->res->check_s += dt;
    r->st->checked++;
    r->cur->res->checked++;
    if (st) {
        fail_krec(k, EG_DB_LAUNCH_FAILED, effgen_last_error());
        /* a fault in the kernel poisons the CUDA context for the whole process: stop, and let a rerun
         * resume past this candidate (its failure is stored) */
        return st == EFFGEN_DRIVER ? st : EFFGEN_OK;
    }
    k->rel_err = res.rel_err;
    if (!res.pass) {
        char why[512];
        snprintf(why, sizeof why,
                 "reference check failed: relative error %.3g (tolerance %.3g), max abs %.3g, lse error %.3g, "
                 "%ld unwritten, %ld -inf mismatches",
                 res.rel_err, res.tolerance, res.max_abs, res.lse_max_abs, res.unwritten, res.lse_mismatch);
        fail_krec(k, EG_DB_CHECK_FAILED, why);
        r->st->check_failed++;
        r->cur->res->check_failed++;
        return EFFGEN_OK;
    }
    k->checked = 1;
    return EFFGEN_OK;
}

/* Time k on p with `reps` launches and store the row. *ms = -1 when the candidate failed. */
static effgen_status time_one(eg_tune_run *r, const eg_tune_problem *p, krec *k, int reps, double *ms) {
    *ms = -1;
    eg_db_measurement m;
    measurement_key(r, p, k->key, &m);
    effgen_status st = kernel_ready(r, p, k);
    if (!st) st = kernel_checked(r, p, k);
    if (st && k->state != -1) return st;
    effgen_status fatal = st;
    if (k->state == 1) {
        eg_problem e = bench_problem(p);
        eg_bench_result br;
        double t0 = eg_tune_now();
        st = eg_bench(r->ctx, &e, k->key, reps, &br);
        double dt = eg_tune_now() - t0;
        r->st->time_s += dt;
        r->cur->res->time_s += dt;
        if (st) {
            fail_krec(k, EG_DB_LAUNCH_FAILED, effgen_last_error());
            if (st == EFFGEN_DRIVER) fatal = st;
        } else {
            m.result = EG_DB_OK;
            m.ms_median = br.ms_median;
            m.ms_min = br.ms_min;
            m.ms_max = br.ms_max;
            m.tflops = br.tflops;
            m.rel_err = k->rel_err;
            *ms = br.ms_median;
            r->st->timed++;
            r->cur->res->timed++;
        }
    }
    if (k->state == -1) {
        m.result = k->fail_result;
        copy_text(m.failure, sizeof m.failure, k->failure);
        m.rel_err = k->rel_err;
    }
    st = eg_db_measurement_put(r->db, &m);
    if (st) return st;
    return fatal;
}

/* The measured outcome of (p, config) already in the database, if any. */
typedef struct lookup {
    const char *config;
    int found;
    eg_db_measurement m;
} lookup;

static int lookup_fn(const eg_db_measurement *m, void *arg) {
    lookup *l = arg;
    if (strcmp(m->config, l->config) != 0) return 0;
    /* several rows of one pair (re-measured): the database orders by time, keep the first OK one */
    if (!l->found || (l->m.result != EG_DB_OK && m->result == EG_DB_OK)) {
        l->m = *m;
        l->found = 1;
    }
    return 0;
}

static effgen_status stored(eg_tune_run *r, const eg_tune_problem *p, const char *config, lookup *l) {
    memset(l, 0, sizeof *l);
    l->config = config;
    eg_db_measurement key;
    measurement_key(r, p, config, &key);
    return eg_db_measurement_each(r->db, key.spec, r->arch, &r->build, key.problem, &r->dev, lookup_fn, l);
}

effgen_status eg_tune_measure(eg_tune_run *r, const eg_tune_problem *p, const eg_config *c, double *ms, char *reason,
                              size_t reason_size) {
    *ms = -1;
    if (reason && reason_size) reason[0] = 0;
    if (!r || !r->cur || !r->ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "measure: only during an online tune");
    if (memcmp(&p->spec, &r->cur->p.spec, sizeof p->spec) != 0 || p->bucket != r->cur->p.bucket)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "measure: only for the problem under way");
    effgen_status st = eg_config_validate(c, &p->spec);
    if (st) {
        if (reason) copy_text(reason, reason_size, effgen_last_error());
        eg_err_clear();
        return EFFGEN_OK;
    }
    char key[64];
    eg_config_print(c, key, sizeof key);
    eg_db_measurement m;
    measurement_key(r, &r->cur->p, key, &m);
    int has = 0;
    if ((st = eg_db_measurement_has(r->db, &m, &has))) return st;
    if (has) {
        lookup l;
        if ((st = stored(r, &r->cur->p, key, &l))) return st;
        if (l.found) {
            r->cur->res->resumed++;
            r->st->resumed++;
            if (l.m.result == EG_DB_OK) *ms = l.m.ms_median;
            else if (reason) copy_text(reason, reason_size, l.m.failure);
            return EFFGEN_OK;
        }
    }
    krec *k = add_krec(r, c, -1);
    if (!k) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
    st = time_one(r, &r->cur->p, k, r->reps, ms);
    r->work_done++;
    progress_bar(r);
    if (*ms < 0 && reason) copy_text(reason, reason_size, k->failure);
    return st;
}

/* ---- choosing and storing winners ---- */

typedef struct timed {
    char config[64];
    double ms, tflops;
} timed;

typedef struct collect {
    timed *t;
    int n, cap;
} collect;

static int collect_fn(const eg_db_measurement *m, void *arg) {
    collect *c = arg;
    if (m->result != EG_DB_OK) return 0;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->t[i].config, m->config)) return 0; /* ordered by time: the first row is kept */
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        timed *nt = realloc(c->t, sizeof *nt * (size_t)cap);
        if (!nt) return 1;
        c->t = nt;
        c->cap = cap;
    }
    timed *t = &c->t[c->n++];
    copy_text(t->config, sizeof t->config, m->config);
    t->ms = m->ms_median;
    t->tflops = m->tflops;
    return 0;
}

static const timed *find_timed(const collect *c, const char *config) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->t[i].config, config)) return &c->t[i];
    return NULL;
}

/* OK measurements of the current problem among the configs in allow[0, n) (all when allow is NULL). */
static effgen_status gather(eg_tune_run *r, const eg_config *allow, int n, collect *out) {
    memset(out, 0, sizeof *out);
    collect all = {0};
    eg_db_measurement key;
    measurement_key(r, &r->cur->p, "", &key);
    effgen_status st = eg_db_measurement_each(r->db, key.spec, r->arch, &r->build, key.problem, &r->dev, collect_fn,
                                              &all);
    if (st || !allow) {
        *out = all;
        return st;
    }
    for (int i = 0; i < all.n; i++) {
        eg_config c;
        if (eg_config_parse(all.t[i].config, &c) != EFFGEN_OK) {
            eg_err_clear();
            continue;
        }
        for (int j = 0; j < n; j++)
            if (!memcmp(&allow[j], &c, sizeof c)) {
                all.t[out->n++] = all.t[i]; /* compacting in place: out->n <= i */
                break;
            }
    }
    out->t = all.t;
    out->cap = all.cap;
    return EFFGEN_OK;
}

static int timed_cmp(const void *a, const void *b) {
    double x = ((const timed *)a)->ms, y = ((const timed *)b)->ms;
    return (x > y) - (x < y);
}

/* The winner among the measured candidates; a suspiciously fast one (far ahead of the runner-up, or
 * above what the device can do) is timed again with more repetitions and the new time kept. */
static effgen_status pick_measured(eg_tune_run *r, const eg_config *allow, int n, timed *win, int *found) {
    *found = 0;
    collect c;
    effgen_status st = gather(r, allow, n, &c);
    if (st) goto done;
    for (int round = 0; round < 2 && c.n > 0; round++) {
        qsort(c.t, (size_t)c.n, sizeof *c.t, timed_cmp);
        int fast = c.n > 1 && c.t[0].ms < SUSPICIOUS_LEAD * c.t[1].ms;
        int impossible = r->ceiling_tflops > 0 && c.t[0].tflops > r->ceiling_tflops;
        /* a problem measured wholly by an earlier run was judged (and re-timed) then: a resumed tune times
         * nothing again */
        if (round == 1 || !(fast || impossible) || r->cur->res->timed == 0) break;
        eg_config cf;
        if ((st = eg_config_parse(c.t[0].config, &cf))) goto done;
        krec *k = add_krec(r, &cf, -1);
        if (!k) {
            st = eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
            goto done;
        }
        note(r, "%s bucket %d: %s at %.4f ms is %s; timing it again", r->cur->res->spec, r->cur->p.bucket,
             c.t[0].config, c.t[0].ms, impossible ? "above the device's peak" : "far ahead of the runner-up");
        double ms = -1;
        if ((st = time_one(r, &r->cur->p, k, 3 * r->reps, &ms))) goto done;
        r->cur->res->remeasured++;
        if (ms < 0) {
            c.t[0] = c.t[--c.n]; /* failed this time: not a winner */
        } else {
            c.t[0].tflops *= c.t[0].ms / ms;
            c.t[0].ms = ms;
        }
    }
    if (c.n > 0) {
        *win = c.t[0];
        *found = 1;
    }
    /* for the strategy table: what the model alone and its top 8 would have picked, as measured */
    eg_tune_result *res = r->cur->res;
    if (r->cur->n > 0) {
        int *idx = malloc(sizeof *idx * (size_t)r->cur->n), m = 0;
        eg_tune_strategy top8 = {EG_TUNE_TOPK, 8, 0, 0};
        if (idx && eg_tune_select(&top8, &r->cur->p, r->cur->cands, r->cur->n, idx, &m) == EFFGEN_OK) {
            for (int i = 0; i < m; i++) {
                char key[64];
                eg_config_print(&r->cur->cands[idx[i]], key, sizeof key);
                const timed *t = find_timed(&c, key);
                if (i == 0) copy_text(res->model_config, sizeof res->model_config, key);
                if (i == 0 && t) res->model_ms = t->ms;
                if (t && (!res->top8_config[0] || t->ms < res->top8_ms)) {
                    copy_text(res->top8_config, sizeof res->top8_config, key);
                    res->top8_ms = t->ms;
                }
            }
        }
        free(idx);
    }
done:
    free(c.t);
    return st;
}

static effgen_status put_winner(eg_tune_run *r, const eg_tune_problem *p, const char *config, eg_db_source src,
                                double tflops) {
    eg_db_winner w;
    memset(&w, 0, sizeof w);
    w.arch = r->arch;
    eg_spec_print(&p->spec, w.spec, sizeof w.spec);
    w.bucket = p->bucket;
    copy_text(w.config, sizeof w.config, config);
    w.source = src;
    w.tflops = src == EG_DB_MEASURED ? tflops : 0;
    w.build = r->build;
    if (src == EG_DB_MEASURED) copy_text(w.device, sizeof w.device, r->dev.name);
    return eg_db_winner_put(r->db, &w);
}

/* ---- online: one context per spec group ---- */

static effgen_status open_ctx(eg_tune_run *r) {
    effgen_options o;
    effgen_options_init(&o);
    o.db = ""; /* measuring must not consult or feed the dispatcher's database */
    /* the context's problems must be the tune's specs: sm_90 on a 9.0 device, whose contexts default to
     * sm_90a, is named */
    char arch[16];
    eg_arch_print(r->arch, arch, sizeof arch);
    o.arch = arch; /* effgen_open keeps a copy */
    effgen_status st = effgen_open(&r->ctx, &o);
    if (!st) st = eg_rt_device(r->ctx, NULL);
    return st;
}

static effgen_status tune_problem_online(eg_tune_run *r, pinfo *pi) {
    r->cur = pi;
    eg_tune_result *res = pi->res;
    effgen_status st = EFFGEN_OK;
    eg_config chosen;
    int script = r->strategy->kind == EG_TUNE_SCRIPT;
    if (script) {
        if (!r->plan->hooks.strategy)
            return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: strategy script: the script defines no strategy function",
                          r->plan->source[0] ? r->plan->source : "plan");
        if ((st = r->plan->hooks.strategy(r->plan->hooks.ud, r, &pi->p, pi->cands, pi->n, &chosen))) return st;
        double ms = -1;
        char why[512] = "", ck[64];
        eg_config_print(&chosen, ck, sizeof ck);
        lookup l;
        if ((st = stored(r, &pi->p, ck, &l))) return st;
        if (!l.found) {
            /* chosen without being measured: it still has to earn its place */
            if ((st = eg_tune_measure(r, &pi->p, &chosen, &ms, why, sizeof why))) return st;
        } else if (l.m.result == EG_DB_OK) {
            ms = l.m.ms_median;
        } else {
            copy_text(why, sizeof why, l.m.failure);
        }
        if (ms < 0) {
            note(r, "%s bucket %d: the script chose %s, which failed: %s", res->spec, pi->p.bucket, ck, why);
        } else {
            timed win;
            int found = 0;
            if ((st = pick_measured(r, &chosen, 1, &win, &found))) return st;
            if (found) {
                copy_text(res->config, sizeof res->config, win.config);
                res->ms = win.ms;
                res->tflops = win.tflops;
            }
        }
    } else {
        for (int i = 0; i < pi->nsel; i++) {
            if (pi->done[i]) {
                res->resumed++;
                r->st->resumed++;
                continue;
            }
            krec *k = find_krec(r, &pi->cands[pi->sel[i]]);
            if (!k) return eg_err(EFFGEN_INTERNAL, "tune: candidate without a kernel record");
            double ms;
            st = time_one(r, &pi->p, k, r->reps, &ms);
            r->work_done++;
            progress_bar(r);
            if (st) return st;
        }
        eg_config *allow = malloc(sizeof *allow * (size_t)(pi->nsel ? pi->nsel : 1));
        if (!allow) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
        for (int i = 0; i < pi->nsel; i++) allow[i] = pi->cands[pi->sel[i]];
        timed win;
        int found = 0;
        st = pick_measured(r, allow, pi->nsel, &win, &found);
        free(allow);
        if (st) return st;
        if (found) {
            copy_text(res->config, sizeof res->config, win.config);
            res->ms = win.ms;
            res->tflops = win.tflops;
        }
    }
    res->source = EG_DB_MEASURED;
    if (res->config[0]) st = put_winner(r, &pi->p, res->config, EG_DB_MEASURED, res->tflops);
    problem_line(r, res);
    return st;
}

/* Queue compile jobs for every candidate still to be measured, in the order they will be needed, and
 * give each spec group its kernel records as the group starts. */
static effgen_status plan_jobs(eg_tune_run *r, pinfo *pis, int np) {
    int cap = 0;
    for (int i = 0; i < np; i++) cap += pis[i].nsel;
    r->jobs = calloc((size_t)(cap ? cap : 1), sizeof *r->jobs);
    if (!r->jobs) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory for %d compile jobs", cap);
    effgen_status st = EFFGEN_OK;
    for (int i = 0; i < np; i++) {
        pinfo *pi = &pis[i];
        for (int s = 0; s < pi->nsel; s++) {
            if (pi->done[s]) continue;
            const eg_config *c = &pi->cands[pi->sel[s]];
            int dup = 0;
            /* one job per kernel of a group: the group's problems share them */
            for (int j = r->n_jobs - 1; j >= 0 && !dup; j--)
                if (!memcmp(&r->jobs[j].spec, &pi->p.spec, sizeof pi->p.spec) &&
                    !memcmp(&r->jobs[j].config, c, sizeof *c))
                    dup = 1;
            if (dup) continue;
            eg_tune_job *j = &r->jobs[r->n_jobs++];
            j->spec = pi->p.spec;
            j->config = *c;
            int found = 0;
            if ((st = db_cubin(r, &j->spec, c, &j->cubin, &found))) return st;
            if (found) {
                j->state = 2;
                j->from_db = 1;
            }
        }
    }
    return st;
}

static int job_of(eg_tune_run *r, const eg_spec *s, const eg_config *c) {
    for (int j = 0; j < r->n_jobs; j++)
        if (!memcmp(&r->jobs[j].spec, s, sizeof *s) && !memcmp(&r->jobs[j].config, c, sizeof *c)) return j;
    return -1;
}

static effgen_status run_online(eg_tune_run *r, pinfo *pis, int np, int ngroups) {
    effgen_status st = EFFGEN_OK;
    /* resume: a pair already measured (any outcome) is not measured again */
    for (int i = 0; i < np; i++) {
        pinfo *pi = &pis[i];
        if (r->strategy->kind == EG_TUNE_SCRIPT) {
            r->work_total += pi->n / 2 + 1; /* unknown: a guess for the bar */
            continue;
        }
        for (int s = 0; s < pi->nsel; s++) {
            char key[64];
            eg_config_print(&pi->cands[pi->sel[s]], key, sizeof key);
            eg_db_measurement m;
            measurement_key(r, &pi->p, key, &m);
            int has = 0;
            if ((st = eg_db_measurement_has(r->db, &m, &has))) return st;
            pi->done[s] = (char)has;
            r->work_total += !has;
        }
    }
    if (r->strategy->kind != EG_TUNE_SCRIPT) {
        if ((st = plan_jobs(r, pis, np))) return st;
        int threads = r->opt->jobs > 0 ? r->opt->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (threads < 1) threads = 1;
        if ((st = eg_tune_pool_start(r->jobs, r->n_jobs, threads, 4 * threads + 16, &r->pool))) return st;
    }
    for (int g = 0; g < ngroups && !st; g++) {
        int first = -1;
        for (int i = 0; i < np; i++)
            if (pis[i].group == g) {
                first = i;
                break;
            }
        if (first < 0) continue;
        r->nk = 0;
        for (int i = first; i < np; i++) {
            if (pis[i].group != g) continue;
            for (int s = 0; s < pis[i].nsel && r->strategy->kind != EG_TUNE_SCRIPT; s++)
                if (!pis[i].done[s]) {
                    const eg_config *c = &pis[i].cands[pis[i].sel[s]];
                    if (!add_krec(r, c, job_of(r, &pis[i].p.spec, c))) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
                }
        }
        if ((st = open_ctx(r))) break;
        for (int i = first; i < np && !st; i++)
            if (pis[i].group == g) st = tune_problem_online(r, &pis[i]);
        effgen_close(r->ctx);
        r->ctx = NULL;
        r->cur = NULL;
    }
    eg_tune_pool_stop(r->pool);
    r->pool = NULL;
    return st;
}

/* ---- offline: the model picks, NVRTC compiles the picks ---- */

static effgen_status run_offline(eg_tune_run *r, pinfo *pis, int np) {
    effgen_status st = EFFGEN_OK;
    eg_config *pick = calloc((size_t)(np ? np : 1), sizeof *pick);
    r->jobs = calloc((size_t)(np ? np : 1), sizeof *r->jobs);
    if (!pick || !r->jobs) {
        free(pick);
        return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
    }
    for (int i = 0; i < np && !st; i++) {
        pinfo *pi = &pis[i];
        eg_tune_result *res = pi->res;
        eg_db_winner w;
        int found = 0;
        if ((st = eg_db_winner_get(r->db, r->arch, res->spec, pi->p.bucket, &r->build, &w, &found))) break;
        if (found && w.bucket == pi->p.bucket && w.source == EG_DB_MEASURED) {
            /* a measurement beats the model: keep it */
            res->kept = 1;
            res->source = EG_DB_MEASURED;
            copy_text(res->config, sizeof res->config, w.config);
            res->tflops = w.tflops;
            continue;
        }
        int best = model_pick(&pi->p, pi->cands, pi->n);
        if (best >= 0) pick[i] = pi->cands[best];
        res->source = EG_DB_MODEL;
        eg_config_print(&pick[i], res->config, sizeof res->config);
        copy_text(res->model_config, sizeof res->model_config, res->config);
        if (job_of(r, &pi->p.spec, &pick[i]) >= 0) continue;
        eg_tune_job *j = &r->jobs[r->n_jobs++];
        j->spec = pi->p.spec;
        j->config = pick[i];
        if ((st = db_cubin(r, &j->spec, &j->config, &j->cubin, &found))) break;
        if (found) {
            j->state = 2;
            j->from_db = 1;
            eg_rt_cubin_free(&j->cubin); /* only its presence matters here */
        }
    }
    int threads = r->opt->jobs > 0 ? r->opt->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (!st) st = eg_tune_pool_start(r->jobs, r->n_jobs, threads < 1 ? 1 : threads, r->n_jobs + 1, &r->pool);
    int failed = 0;
    for (int i = 0; i < np && !st; i++) {
        pinfo *pi = &pis[i];
        eg_tune_result *res = pi->res;
        r->cur = pi;
        if (res->kept) {
            problem_line(r, res);
            continue;
        }
        int j = job_of(r, &pi->p.spec, &pick[i]);
        eg_tune_job *job = eg_tune_pool_take(r->pool, j);
        if (job->st) {
            note(r, "%s bucket %d: compiling the model's pick %s failed: %s", res->spec, pi->p.bucket, res->config,
                 job->err ? job->err : "");
            res->compile_failed++;
            r->st->compile_failed++;
            res->config[0] = 0;
            failed++;
            continue;
        }
        if (job->from_db) {
            if (job->from_db == 1) {
                res->reused++;
                r->st->reused++;
                job->from_db = 2; /* counted once */
            }
        } else if (job->cubin.data) {
            if ((st = compiled_one(r, &pi->p.spec, &pick[i], &job->cubin))) break;
            eg_rt_cubin_free(&job->cubin);
            job->from_db = 2; /* stored now: later problems with the same pick reuse it */
        }
        if ((st = put_winner(r, &pi->p, res->config, EG_DB_MODEL, 0))) break;
        problem_line(r, res);
    }
    eg_tune_pool_stop(r->pool);
    r->pool = NULL;
    r->cur = NULL;
    free(pick);
    if (!st && failed) {
        char an[16];
        eg_arch_print(r->arch, an, sizeof an);
        st = eg_err(EFFGEN_COMPILE, "tune: %d model pick%s could not be compiled for %s (see the log)", failed,
                    failed == 1 ? "" : "s", an);
    }
    return st;
}

/* ---- the whole run ---- */

static double device_ceiling(const eg_rt_device_info *d) {
    /* dense 16-bit tensor throughput per SM and clock, at a 2 GHz clock: an upper bound no honest
     * timing exceeds */
    double per_clock = d->cc_major >= 9 ? 4096 : d->cc_major == 8 && d->cc_minor == 0 ? 2048 : 1024;
    return d->sm_count * 2.0e9 * per_clock / 1e12;
}

static void free_pinfos(pinfo *pis, int np) {
    if (!pis) return;
    for (int i = 0; i < np; i++) {
        free(pis[i].cands);
        free(pis[i].sel);
        free(pis[i].done);
    }
    free(pis);
}

/* Where to point a message about a plan: the declaration's line, else the script, else "plan". */
static const char *where(const eg_tune_plan *plan, const char *w) {
    if (w && w[0]) return w;
    return plan->source[0] ? plan->source : "plan";
}

/* Decide online or offline; fills r->dev and the ceiling when online. */
static int probe_device(eg_tune_run *r, char *why, size_t size) {
    if (r->opt->offline) {
        snprintf(why, size, "offline mode requested");
        return 0;
    }
    effgen_ctx *ctx = NULL;
    effgen_options o;
    effgen_options_init(&o);
    o.db = "";
    effgen_status st = effgen_open(&ctx, &o);
    if (!st) st = eg_rt_device(ctx, NULL);
    if (st) {
        snprintf(why, size, "no GPU to measure on (%s)", effgen_last_error());
        effgen_close(ctx);
        eg_err_clear();
        return 0;
    }
    int dev_arch = ctx->info.cc_major * 10 + ctx->info.cc_minor;
    if (!r->arch) r->arch = eg_rt_default_arch(ctx->info.cc_major, ctx->info.cc_minor);
    /* sm_90a cubins run on 9.0 only, as sm_90 ones measured there do */
    int online = dev_arch == eg_arch_base(r->arch);
    if (!online) {
        char an[16];
        eg_arch_print(r->arch, an, sizeof an);
        snprintf(why, size, "the GPU (%s) is sm_%d, not %s", ctx->info.name, dev_arch, an);
    } else {
        copy_text(r->dev.name, sizeof r->dev.name, ctx->info.name);
        r->dev.cc = dev_arch;
        r->dev.sm_count = ctx->info.sm_count;
        r->dev.driver = ctx->info.driver_version;
        r->ceiling_tflops = device_ceiling(&ctx->info);
        r->hold = ctx;
        return 1;
    }
    effgen_close(ctx);
    return online;
}

effgen_status eg_tune_run_plan(const eg_tune_plan *plan, const eg_tune_options *opt, eg_tune_stats *stats) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (!plan || !opt) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_tune_run_plan: plan and options must be non-NULL");
    if (plan->n_problems < 1)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "%s: no problems declared (call problems{...})", where(plan, NULL));
    if (opt->shards > 1 && (opt->shard < 0 || opt->shard >= opt->shards))
        return eg_err(EFFGEN_INVALID_ARGUMENT, "shard %d/%d: must be 0 to %d", opt->shard, opt->shards,
                      opt->shards - 1);
    eg_tune_stats local;
    eg_tune_stats *sts = stats ? stats : &local;
    memset(sts, 0, sizeof *sts);
    eg_tune_run run;
    memset(&run, 0, sizeof run);
    eg_tune_run *r = &run;
    r->plan = plan;
    r->opt = opt;
    r->strategy = opt->strategy ? opt->strategy : &plan->strategy;
    r->log = opt->log ? opt->log : stderr;
    r->progress = opt->progress;
    r->reps = opt->reps > 0 ? opt->reps : DEFAULT_REPS;
    r->st = sts;
    r->t0 = eg_tune_now();
    r->arch = opt->arch;
    effgen_status st = EFFGEN_OK;
    pinfo *pis = NULL;
    int np = 0;
    char why[512] = "";

    if (r->arch) {
        eg_spec probe = plan->problems[0].spec;
        probe.arch = r->arch;
        if ((st = eg_spec_validate(&probe))) return st;
    }
    int online = !opt->dry_run && probe_device(r, why, sizeof why);
    if (!r->arch) r->arch = 90;
    sts->arch = r->arch;
    sts->offline = !online && !opt->dry_run;
    sts->dry_run = opt->dry_run;
    copy_text(sts->device, sizeof sts->device, online ? r->dev.name : "");

    /* ---- plan pass: everything a script can get wrong fails here, before the database is touched ---- */
    pis = calloc((size_t)plan->n_problems, sizeof *pis);
    sts->results = calloc((size_t)plan->n_problems, sizeof *sts->results);
    if (!pis || !sts->results) {
        st = eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
        goto done;
    }
    char (*gkeys)[EG_KEY_MAX] = calloc((size_t)plan->n_problems, sizeof *gkeys);
    if (!gkeys) {
        st = eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
        goto done;
    }
    int ngroups = 0;
    for (int i = 0; i < plan->n_problems && !st; i++) {
        eg_tune_problem p = plan->problems[i];
        p.spec.arch = r->arch;
        char sk[EG_KEY_MAX];
        eg_spec_print(&p.spec, sk, sizeof sk);
        if ((st = eg_spec_validate(&p.spec))) {
            eg_err_wrap(st, "%s: problem %d", where(plan, NULL), i + 1);
            break;
        }
        int g = 0;
        while (g < ngroups && strcmp(gkeys[g], sk)) g++;
        if (g == ngroups) copy_text(gkeys[ngroups++], EG_KEY_MAX, sk);
        if (opt->shards > 1 && g % opt->shards != opt->shard) continue;
        pinfo *pi = &pis[np];
        pi->p = p;
        pi->group = g;
        pi->res = &sts->results[np];
        np++;
        if ((st = eg_tune_candidates(plan, &p, &pi->cands, &pi->n, pi->pruned))) break;
        eg_tune_result *res = pi->res;
        copy_text(res->spec, sizeof res->spec, sk);
        eg_tune_problem_print(&p, res->problem, sizeof res->problem);
        res->bucket = p.bucket;
        res->candidates = pi->n;
        res->pruned = pi->pruned[0] + pi->pruned[1] + pi->pruned[2];
        if (pi->n == 0) {
            int total = res->pruned;
            char an[16];
            eg_arch_print(r->arch, an, sizeof an);
            if (total == 0) {
                st = eg_err(EFFGEN_INVALID_ARGUMENT,
                            "%s: no candidate for %s bucket %d: the plan declares no space{...} and its wg_space "
                            "applies only where the target is sm_90a and the wg family implements the spec (head "
                            "dims 64, 128, 256, no variant)",
                            where(plan, plan->where_space), sk, p.bucket);
                break;
            }
            st = eg_err(EFFGEN_INVALID_ARGUMENT,
                        "%s: no candidate left for %s bucket %d: of %d in the space, %d exceed the limits of %s, "
                        "%d the declared limits, %d fail the constraint",
                        where(plan, pi->pruned[1] + pi->pruned[2] ? plan->where_constraint : plan->where_space), sk,
                        p.bucket, total, pi->pruned[0], an, pi->pruned[1], pi->pruned[2]);
            break;
        }
        pi->sel = malloc(sizeof *pi->sel * (size_t)pi->n);
        pi->done = calloc((size_t)pi->n, 1);
        if (!pi->sel || !pi->done) {
            st = eg_err(EFFGEN_NO_MEMORY, "tune: out of memory");
            break;
        }
        if (r->strategy->kind == EG_TUNE_SCRIPT) {
            if (!plan->hooks.strategy) {
                st = eg_err(EFFGEN_INVALID_ARGUMENT, "%s: strategy script: the script defines no strategy function",
                            where(plan, NULL));
                break;
            }
            pi->nsel = 0;
        } else if ((st = eg_tune_select(r->strategy, &p, pi->cands, pi->n, pi->sel, &pi->nsel))) {
            break;
        }
        res->selected = r->strategy->kind == EG_TUNE_SCRIPT ? pi->n : pi->nsel;
        sts->candidates += pi->n;
        sts->pruned += res->pruned;
        sts->selected += res->selected;
    }
    free(gkeys);
    sts->n_results = np;
    if (st) goto done;

    if (opt->dry_run) {
        for (int i = 0; i < np; i++) {
            pinfo *pi = &pis[i];
            int best = model_pick(&pi->p, pi->cands, pi->n);
            if (best >= 0) eg_config_print(&pi->cands[best], pi->res->model_config, sizeof pi->res->model_config);
        }
        goto done;
    }

    /* ---- the database and the build stamp ---- */
    eg_rt_db_build(&r->build);
    if (!r->build.nvrtc[0]) {
        st = eg_err(EFFGEN_NVRTC_UNAVAILABLE, "tune: NVRTC is needed to compile candidates and was not found "
                                              "(set EFFGEN_NVRTC to the library)");
        goto done;
    }
    char path[1024];
    if (opt->db_path) {
        copy_text(path, sizeof path, opt->db_path);
    } else if ((st = eg_db_default_path(path, sizeof path))) {
        goto done;
    }
    copy_text(sts->db_path, sizeof sts->db_path, path);
    if ((st = eg_db_open(path, 0, &r->db))) goto done;
    if (!online) {
        char an[16];
        eg_arch_print(r->arch, an, sizeof an);
        note(r, "%s: picking winners for %s by the cost model (offline)", why, an);
    }
    st = online ? run_online(r, pis, np, ngroups) : run_offline(r, pis, np);

done:
    if (r->progress == 2) {
        fputs("\r\033[K", r->log);
        fflush(r->log);
    }
    eg_tune_pool_stop(r->pool);
    eg_tune_jobs_free(r->jobs, r->n_jobs);
    free(r->k);
    effgen_close(r->ctx);
    effgen_close(r->hold);
    eg_db_close(r->db);
    free_pinfos(pis, np);
    sts->wall_s = eg_tune_now() - r->t0;
    if (!stats) eg_tune_stats_free(&local);
    return st;
}

void eg_tune_stats_free(eg_tune_stats *s) {
    if (!s) return;
    free(s->results);
    s->results = NULL;
    s->n_results = 0;
}
