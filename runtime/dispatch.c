/* dispatch.c - the dispatcher behind effgen_attention_fwd: per call, the kernel the database names for
 * this arch, spec and sequence-length bucket, loaded from its stored cubin with no NVRTC involved; the
 * model's choice compiled by NVRTC where the database has none (and written back when it can be). The
 * choice and the module are kept per context, so a repeated call costs a short lookup and the launch.
 * An sm_90a context is also served sm_90 rows for the specs the wg family does not implement: their
 * cubins run on the same device, so a database tuned for sm_90 keeps serving the variants. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

/* The kernel serving one bucket of a spec. */
typedef struct dsp_choice {
    int bucket;             /* 0 for the model's choice with no database row */
    int arch;               /* of the row (the spec's arch, or sm_90 serving an sm_90a context) */
    eg_config config;
    int source;             /* EG_DB_MEASURED, EG_DB_MODEL, or -1: the model's choice, no row */
    int short_len;          /* > 0: the model's choice for sequences up to this length (not a row) */
    eg_db_build build;      /* of the row: the key its cubin is stored under */
    const eg_rt_kernel *k;  /* loaded module, NULL until first use */
} dsp_choice;

/* What the dispatcher knows about one spec: the database's rows, or the model's choice. */
typedef struct dsp_spec {
    eg_spec spec;
    eg_expr *own_expr[2]; /* copies of spec's expressions (spec points to them) */
    dsp_choice *c; /* ascending bucket */
    int n;
    struct dsp_spec *next;
} dsp_spec;

/* Lock order: mu before dbmu, never the reverse. */
struct eg_rt_dispatch {
    pthread_mutex_t mu;   /* guards the tables and the counters in stats */
    pthread_mutex_t dbmu; /* serialises database use; guards db, build, stats.db_state and db_path */
    char *path;           /* explicit path; NULL with use_default: resolve on first use */
    int use_default;
    eg_db *db;
    eg_db_build build;
    int build_known;
    dsp_spec *specs;
    eg_rt_dispatch_stats stats;
};

void eg_rt_db_build(eg_db_build *b) {
    memset(b, 0, sizeof *b);
    snprintf(b->generator, sizeof b->generator, "%s", eg_generator_version);
    int major = 0, minor = 0;
    if (effgen_nvrtc_version(&major, &minor) == EFFGEN_OK)
        snprintf(b->nvrtc, sizeof b->nvrtc, "%d.%d", major, minor);
    else
        eg_err_clear(); /* no NVRTC is a legal state here: only the rows' generator is matched then */
}

effgen_status eg_rt_dispatch_init(effgen_ctx *ctx) {
    eg_rt_dispatch *d = calloc(1, sizeof *d);
    if (!d) return eg_err(EFFGEN_NO_MEMORY, "effgen_open: out of memory");
    pthread_mutex_init(&d->mu, NULL);
    pthread_mutex_init(&d->dbmu, NULL);
    const char *p = ctx->opt.db;
    if (!p) p = getenv("EFFGEN_DB");
    if (!p) {
        d->use_default = 1;
    } else if (*p) {
        d->path = strdup(p);
        if (!d->path) {
            free(d);
            return eg_err(EFFGEN_NO_MEMORY, "effgen_open: out of memory");
        }
    } else {
        d->stats.db_state = -1;
    }
    /* the caller's string need not outlive effgen_open */
    ctx->opt.db = NULL;
    ctx->dispatch = d;
    return EFFGEN_OK;
}

void eg_rt_dispatch_free(effgen_ctx *ctx) {
    if (!ctx || !ctx->dispatch) return;
    eg_rt_dispatch *d = ctx->dispatch;
    for (dsp_spec *s = d->specs, *next; s; s = next) {
        next = s->next;
        eg_expr_free(s->own_expr[0]);
        eg_expr_free(s->own_expr[1]);
        free(s->c);
        free(s);
    }
    eg_db_close(d->db);
    free(d->path);
    pthread_mutex_destroy(&d->mu);
    pthread_mutex_destroy(&d->dbmu);
    free(d);
    ctx->dispatch = NULL;
}

void eg_rt_dispatch_stats_get(effgen_ctx *ctx, eg_rt_dispatch_stats *out) {
    memset(out, 0, sizeof *out);
    if (!ctx || !ctx->dispatch) return;
    /* lock order: mu, then dbmu (db_state and db_path change under dbmu) */
    pthread_mutex_lock(&ctx->dispatch->mu);
    pthread_mutex_lock(&ctx->dispatch->dbmu);
    *out = ctx->dispatch->stats;
    pthread_mutex_unlock(&ctx->dispatch->dbmu);
    pthread_mutex_unlock(&ctx->dispatch->mu);
}

/* Open the database on first use. A missing file means none (the runtime never creates one: tune and
 * pack do); an unreadable one is logged and ignored. Caller holds dbmu. */
static void open_db(effgen_ctx *ctx, eg_rt_dispatch *d) {
    if (d->stats.db_state != 0) return;
    char path[1024];
    if (d->use_default) {
        if (eg_db_default_path(path, sizeof path) != EFFGEN_OK) {
            eg_rt_log(ctx, "no default database path (%s): compiling kernels as needed", effgen_last_error());
            eg_err_clear();
            d->stats.db_state = -1;
            return;
        }
    } else {
        snprintf(path, sizeof path, "%s", d->path);
    }
    snprintf(d->stats.db_path, sizeof d->stats.db_path, "%s", path);
    if (access(path, F_OK) != 0) {
        eg_rt_log(ctx, "no database at %s: compiling kernels as needed", path);
        d->stats.db_state = -1;
        return;
    }
    effgen_status st = EFFGEN_UNSUPPORTED;
    if (access(path, W_OK) == 0) st = eg_db_open(path, 0, &d->db);
    if (st == EFFGEN_OK) {
        d->stats.db_state = 1;
    } else if (eg_db_open(path, 1, &d->db) == EFFGEN_OK) {
        d->stats.db_state = 2;
    } else {
        eg_rt_log(ctx, "database %s cannot be used (%s): compiling kernels as needed", path, effgen_last_error());
        eg_err_clear();
        d->db = NULL;
        d->stats.db_state = -1;
        return;
    }
    eg_rt_db_build(&d->build);
    d->build_known = 1;
    eg_rt_log(ctx, "database %s opened %s (generator %s, NVRTC %s)", path,
              d->stats.db_state == 1 ? "for reading and writing" : "read-only", d->build.generator,
              d->build.nvrtc[0] ? d->build.nvrtc : "absent: rows of any NVRTC are served");
}

/* A database call failed: log it and stop using the database (it stays closed for this context). Caller
 * holds dbmu. */
static void db_failed(effgen_ctx *ctx, eg_rt_dispatch *d, const char *what) {
    eg_rt_log(ctx, "database %s: %s failed (%s); compiling kernels as needed from now on", d->stats.db_path, what,
              effgen_last_error());
    eg_err_clear();
    eg_db_close(d->db);
    d->db = NULL;
    d->stats.db_state = -1;
}

static int same_spec(const eg_spec *a, const eg_spec *b) {
    return a->op == b->op && a->head_dim == b->head_dim && a->dtype == b->dtype && a->mask == b->mask &&
           a->align == b->align && a->arch == b->arch && a->window == b->window && a->softcap == b->softcap &&
           a->alibi == b->alibi && a->gqa == b->gqa && a->varlen == b->varlen && a->bias == b->bias &&
           a->bmask == b->bmask && a->bsparse == b->bsparse && eg_spec_same_exprs(a, b);
}

typedef struct gather {
    const eg_spec *s;
    const char *spec;
    int arch;
    /* a second arch whose rows also serve (sm_90 for an sm_90a spec the wg family does not implement;
     * 0: none), its spec and key */
    eg_spec alt;
    char alt_key[EG_KEY_MAX];
    const eg_db_build *build;
    dsp_choice *c;
    int n, cap, failed;
} gather;

/* Rows built by this generator and NVRTC; with no NVRTC present any NVRTC's row serves (there is no
 * compiler to disagree with it, and a cubin runs the same whoever built it). */
static int gather_fn(const eg_db_winner *w, void *arg) {
    gather *g = arg;
    const eg_spec *s = NULL;
    if (w->arch == g->arch && strcmp(w->spec, g->spec) == 0)
        s = g->s;
    else if (g->alt.arch && w->arch == g->alt.arch && strcmp(w->spec, g->alt_key) == 0)
        s = &g->alt;
    if (!s) return 0;
    if (strcmp(w->build.generator, g->build->generator) != 0) return 0;
    if (g->build->nvrtc[0] && strcmp(w->build.nvrtc, g->build->nvrtc) != 0) return 0;
    eg_config cf;
    /* a row this arch cannot run (edited by hand, or a limit that changed) is skipped, not served */
    if (eg_config_parse(w->config, &cf) != EFFGEN_OK || eg_config_validate(&cf, s) != EFFGEN_OK) {
        eg_err_clear();
        return 0;
    }
    for (int i = 0; i < g->n; i++)
        if (g->c[i].bucket == w->bucket) {
            /* two rows of one bucket (two NVRTC builds, or the spec's arch and sm_90): a measurement beats
             * the model; between equals the spec's own arch wins */
            dsp_choice *c = &g->c[i];
            int better = c->source == EG_DB_MODEL && w->source == EG_DB_MEASURED;
            if (c->source == (int)w->source && c->arch != g->arch && w->arch == g->arch) better = 1;
            if (better) {
                c->config = cf;
                c->source = w->source;
                c->build = w->build;
                c->arch = w->arch;
            }
            return 0;
        }
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 8;
        dsp_choice *nc = realloc(g->c, sizeof *nc * (size_t)cap);
        if (!nc) {
            g->failed = 1;
            return 1;
        }
        g->c = nc;
        g->cap = cap;
    }
    dsp_choice *c = &g->c[g->n++];
    memset(c, 0, sizeof *c);
    c->bucket = w->bucket;
    c->arch = w->arch;
    c->config = cf;
    c->source = w->source;
    c->build = w->build;
    return 0;
}

static int choice_cmp(const void *a, const void *b) {
    int x = ((const dsp_choice *)a)->bucket, y = ((const dsp_choice *)b)->bucket;
    return (x > y) - (x < y);
}

/* The table of spec s: the database's winners, else the model's choice alone. Caller holds d->mu. */
static effgen_status spec_entry(effgen_ctx *ctx, eg_rt_dispatch *d, const eg_spec *s, dsp_spec **out) {
    for (dsp_spec *e = d->specs; e; e = e->next)
        if (same_spec(&e->spec, s)) {
            *out = e;
            return EFFGEN_OK;
        }
    char sk[EG_KEY_MAX];
    eg_spec_print(s, sk, sizeof sk);
    gather g;
    memset(&g, 0, sizeof g);
    g.s = s;
    g.spec = sk;
    g.arch = s->arch;
    g.build = &d->build;
    if (s->arch == EG_ARCH_SM90A && !eg_model_wg_supported(s)) {
        g.alt = *s;
        g.alt.arch = 90;
        eg_spec_print(&g.alt, g.alt_key, sizeof g.alt_key);
    }
    /* Expression kernels are not in the database: its keys name an expression by hash only, and a row
     * could then serve another expression of the same hash. They run the model's choice, compiled. */
    int use_db = !eg_spec_has_expr(s);
    pthread_mutex_lock(&d->dbmu);
    if (use_db) open_db(ctx, d);
    if (use_db && d->db && eg_db_winner_each(d->db, gather_fn, &g) != EFFGEN_OK) {
        free(g.c);
        memset(&g, 0, sizeof g);
        db_failed(ctx, d, "reading winners");
    }
    pthread_mutex_unlock(&d->dbmu);
    if (g.failed) {
        free(g.c);
        return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory for the dispatch table", sk);
    }
    if (g.n == 0) {
        g.c = calloc(1, sizeof *g.c);
        if (!g.c) return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory for the dispatch table", sk);
        effgen_status st = eg_model_default(s, &g.c[0].config);
        if (st) {
            free(g.c);
            return st;
        }
        g.c[0].source = -1;
        g.c[0].arch = s->arch;
        g.c[0].build = d->build;
        g.n = 1;
    }
    int alt_rows = 0;
    for (int i = 0; i < g.n; i++) alt_rows += g.c[i].source >= 0 && g.c[i].arch != s->arch;
    eg_rt_log(ctx, "%s: %d database winner%s%s%s", sk, g.c[0].source < 0 ? 0 : g.n,
              g.c[0].source < 0 || g.n != 1 ? "s" : "", g.c[0].source < 0 ? "; the model's choice serves" : "",
              alt_rows ? " (sm_90 rows among them: the wg family does not implement the spec)" : "");
    if (g.n == 1 && g.c[0].bucket == 0 && g.c[0].source != EG_DB_MEASURED && g.c[0].arch == s->arch &&
        g.c[0].config.family == EG_FAMILY_WG) {
        /* Nothing measured: the model's spec-level choice (bucket 0) serves every length, except where it
         * prefers other tiles for short sequences (those choices are not written back as rows). */
        static const int lens[] = {512, 1024, 2048};
        dsp_choice *nc = realloc(g.c, sizeof *nc * 4);
        if (!nc) {
            free(g.c);
            return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory for the dispatch table", sk);
        }
        g.c = nc;
        dsp_choice base = g.c[0];
        base.bucket = INT_MAX; /* after the short lengths: the catch-all */
        int n = 0;
        for (int i = 0; i < 3; i++) {
            eg_config pc;
            if (eg_model_pick_seqlen(s, lens[i], &pc) != EFFGEN_OK) {
                eg_err_clear();
                continue;
            }
            if (!memcmp(&pc, &base.config, sizeof pc)) continue;
            dsp_choice *c = &g.c[n++];
            memset(c, 0, sizeof *c);
            c->bucket = lens[i];
            c->arch = s->arch;
            c->config = pc;
            c->source = -1;
            c->short_len = lens[i];
            c->build = d->build;
        }
        if (n) { /* else the table stays as it was */
            g.c[n++] = base;
            g.n = n;
        }
    }
    qsort(g.c, (size_t)g.n, sizeof *g.c, choice_cmp);
    dsp_spec *e = calloc(1, sizeof *e);
    if (!e) {
        free(g.c);
        return eg_err(EFFGEN_NO_MEMORY, "%s: out of memory for the dispatch table", sk);
    }
    e->spec = *s;
    effgen_status ost = eg_rt_spec_own(&e->spec, e->own_expr);
    if (ost) {
        free(g.c);
        free(e);
        return ost;
    }
    e->c = g.c;
    e->n = g.n;
    e->next = d->specs;
    d->specs = e;
    *out = e;
    return EFFGEN_OK;
}

/* The smallest bucket >= seqlen_k, else the largest (as the database defines it). */
static dsp_choice *pick_bucket(dsp_spec *e, int seqlen_k) {
    for (int i = 0; i < e->n; i++)
        if (e->c[i].bucket >= seqlen_k) return &e->c[i];
    return &e->c[e->n - 1];
}

effgen_status eg_rt_dispatch_config(effgen_ctx *ctx, const eg_spec *s, int seqlen_k, eg_config *c, int *source,
                                    int *arch) {
    if (!ctx || !ctx->dispatch || !s || !c)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_dispatch_config: NULL argument");
    eg_rt_dispatch *d = ctx->dispatch;
    dsp_spec *e = NULL;
    pthread_mutex_lock(&d->mu);
    effgen_status st = spec_entry(ctx, d, s, &e);
    if (!st) {
        dsp_choice *ch = pick_bucket(e, seqlen_k);
        *c = ch->config;
        if (source) *source = ch->source;
        if (arch) *arch = ch->arch;
    }
    pthread_mutex_unlock(&d->mu);
    return st;
}

/* Add a cubin to the module cache, naming the kernel in any error. */
static effgen_status load_cubin(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const void *cubin, size_t size,
                                int spill, int stack, double compile_ms, const eg_rt_kernel **out) {
    eg_rt_cubin cb = {.data = (void *)cubin, .size = size, .registers = -1, .spill_bytes = spill, .stack_bytes = stack,
                      .compile_ms = compile_ms, .wgmma_serialized = -1};
    return eg_rt_kernel_add(ctx, s, c, &cb, out, NULL);
}

effgen_status eg_rt_kernel_load(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const void *cubin, size_t size,
                                const eg_rt_kernel **out) {
    if (!ctx || !s || !c || !out) return eg_err(EFFGEN_INVALID_ARGUMENT, "eg_rt_kernel_load: NULL argument");
    effgen_status st = eg_spec_validate(s);
    if (!st) st = eg_config_validate(c, s);
    if (st) return st;
    return load_cubin(ctx, s, c, cubin, size, -1, -1, 0, out);
}

/* The module for spec+config: the context's cache, the database's cubin (built by `build`), or NVRTC.
 * record_model: a JIT'd kernel is also written as the spec's model winner (the database had none).
 * Caller has pushed the context and holds no dispatcher lock. */
static effgen_status kernel_for(effgen_ctx *ctx, const eg_spec *s, const eg_config *c, const eg_db_build *build,
                                int record_model, const eg_rt_kernel **out) {
    eg_rt_dispatch *d = ctx->dispatch;
    char sk[EG_KEY_MAX], ck[64], key[2 * EG_KEY_MAX];
    eg_spec_print(s, sk, sizeof sk);
    eg_config_print(c, ck, sizeof ck);
    snprintf(key, sizeof key, "%s %s", sk, ck);
    const eg_rt_kernel *hit = eg_rt_kernel_cached(ctx, s, c);
    if (hit) {
        *out = hit;
        return EFFGEN_OK;
    }
    eg_db_kernel row;
    memset(&row, 0, sizeof row);
    int found = 0;
    if (!build) build = &d->build;
    int use_db = !eg_spec_has_expr(s); /* expression kernels are never read from or written to it */
    pthread_mutex_lock(&d->dbmu);
    if (use_db) open_db(ctx, d);
    /* with no NVRTC to stamp the build (and no row naming one) nothing stored can match */
    if (use_db && d->db && build->nvrtc[0] && eg_db_kernel_get(d->db, sk, ck, s->arch, build, &row, &found) != EFFGEN_OK) {
        found = 0;
        db_failed(ctx, d, "reading a cubin");
    }
    pthread_mutex_unlock(&d->dbmu);
    if (found) {
        effgen_status st = load_cubin(ctx, s, c, row.cubin, row.cubin_size, row.spill_bytes, -1, 0, out);
        free(row.cubin);
        if (!st) {
            pthread_mutex_lock(&d->mu);
            d->stats.db_kernels++;
            pthread_mutex_unlock(&d->mu);
            eg_rt_log(ctx, "%s: loaded from the database's cubin (%zu bytes), no NVRTC", key, row.cubin_size);
            return EFFGEN_OK;
        }
        /* a stored cubin the driver refuses is not fatal: compile a fresh one */
        eg_rt_log(ctx, "%s: the database's cubin did not load (%s); compiling", key, effgen_last_error());
        eg_err_clear();
    }

    eg_rt_cubin cb;
    effgen_status st = eg_rt_compile(s, c, s->arch, &cb);
    if (st) return st;
    st = load_cubin(ctx, s, c, cb.data, cb.size, cb.spill_bytes, cb.stack_bytes, cb.compile_ms, out);
    if (st) {
        eg_rt_cubin_free(&cb);
        return st;
    }
    pthread_mutex_lock(&d->mu);
    d->stats.jit_kernels++;
    pthread_mutex_unlock(&d->mu);
    eg_rt_log(ctx, "%s: compiled in %.1f ms (%d registers), loaded", key, cb.compile_ms, (*out)->registers);

    int recorded = 0;
    pthread_mutex_lock(&d->dbmu);
    if (use_db && d->db && d->stats.db_state == 1 && d->build.nvrtc[0]) {
        eg_db_kernel k;
        memset(&k, 0, sizeof k);
        snprintf(k.spec, sizeof k.spec, "%s", sk);
        snprintf(k.config, sizeof k.config, "%s", ck);
        k.arch = s->arch;
        k.build = d->build;
        k.registers = cb.registers;
        k.smem_bytes = (*out)->smem_bytes;
        k.spill_bytes = cb.spill_bytes;
        k.compile_ms = cb.compile_ms;
        k.cubin = cb.data;
        k.cubin_size = cb.size;
        effgen_status ws = eg_db_kernel_put(d->db, &k);
        if (!ws && record_model) {
            /* bucket 0: served only while the spec has no other row (see docs/tuning.md) */
            eg_db_winner w;
            memset(&w, 0, sizeof w);
            w.arch = s->arch;
            snprintf(w.spec, sizeof w.spec, "%s", sk);
            w.bucket = 0;
            snprintf(w.config, sizeof w.config, "%s", ck);
            w.source = EG_DB_MODEL;
            w.build = d->build;
            ws = eg_db_winner_put(d->db, &w);
        }
        if (ws) {
            eg_rt_log(ctx, "%s: could not record the compiled kernel (%s)", key, effgen_last_error());
            eg_err_clear();
        } else {
            recorded = 1;
        }
    }
    pthread_mutex_unlock(&d->dbmu);
    /* mu is never taken while holding dbmu (spec_entry takes them the other way round) */
    pthread_mutex_lock(&d->mu);
    d->stats.recorded += recorded;
    pthread_mutex_unlock(&d->mu);
    eg_rt_cubin_free(&cb);
    return EFFGEN_OK;
}

effgen_status eg_rt_dispatch_fwd(effgen_ctx *ctx, const effgen_attn_args *a, CUstream stream) {
    if (!ctx) return eg_err(EFFGEN_INVALID_ARGUMENT, "ctx=NULL: open a context with effgen_open");
    /* bad input is named before the device is touched */
    effgen_status st = eg_rt_check_args(a);
    if (st) return st;
    /* a score expression that is an additive bias takes the built-in bias (eg_rt_problem and eg_rt_launch
     * do the same, so the spec, the kernel and the launch agree) */
    effgen_attn_args lowered = *a;
    if (eg_rt_lower_bias(ctx, &lowered)) a = &lowered;
    const eg_expr *score = NULL, *mask = NULL;
    if ((a->score_mod || a->mask_mod) && (st = eg_rt_exprs(ctx, a, &score, &mask))) return st;
    eg_spec s;
    eg_config c;
    /* with the arch fixed by the options, a config the arch cannot run is named before the device */
    int checked = a->config && ctx->opt.arch;
    if (checked && (st = eg_rt_problem(ctx, a, &s, &c))) return st;
    st = eg_rt_device(ctx, NULL);
    if (st) return st;
    eg_rt_dispatch *d = ctx->dispatch;
    const eg_rt_kernel *k = NULL;
    if (a->config) {
        if (!checked && (st = eg_rt_problem(ctx, a, &s, &c))) return st;
        if ((st = eg_rt_push(ctx))) return st;
        st = kernel_for(ctx, &s, &c, NULL, 0, &k);
    } else {
        eg_rt_spec_of(a, ctx->arch, &s);
        s.score_mod = score;
        s.mask_mod = mask;
        if ((st = eg_spec_validate(&s))) return st;
        dsp_spec *e = NULL;
        dsp_choice *ch = NULL;
        pthread_mutex_lock(&d->mu);
        d->stats.calls++;
        st = spec_entry(ctx, d, &s, &e);
        if (!st) {
            ch = pick_bucket(e, eg_rt_bucket_len(a)); /* under varlen the mean sequence, not the total */
            k = ch->k;
            c = ch->config;
            s.arch = ch->arch; /* sm_90 where an sm_90 row serves an sm_90a context */
        }
        pthread_mutex_unlock(&d->mu);
        if (st) return st;
        /* a block-sparse table whose blocks the chosen tiles do not divide gets the largest tiles that do */
        int refit = eg_rt_fit_config(a, &c);
        if (refit) k = NULL;
        /* the one check left after eg_rt_check_args depends on the config: the grid */
        int64_t ctas = ((int64_t)eg_rt_grid_rows(a) + c.block_m - 1) / c.block_m * a->batch * a->heads;
        if (ctas > INT_MAX) {
            char ck[EG_KEY_MAX];
            eg_config_print(&c, ck, sizeof ck);
            return eg_err(EFFGEN_INVALID_ARGUMENT,
                          "batch*heads*ceil(seqlen_q/%d)=%lld with config %s: must be at most %d (grid limit)",
                          c.block_m, (long long)ctas, ck, INT_MAX);
        }
        if ((st = eg_rt_push(ctx))) return st;
        if (!k && refit) {
            st = kernel_for(ctx, &s, &c, NULL, 0, &k);
        } else if (!k) {
            eg_db_build b = ch->build;
            st = kernel_for(ctx, &s, &c, &b, ch->source < 0 && !ch->short_len, &k);
            if (!st) {
                pthread_mutex_lock(&d->mu);
                ch->k = k;
                pthread_mutex_unlock(&d->mu);
            }
        }
    }
    if (!st) st = eg_rt_launch(ctx, k, a, stream);
    eg_rt_pop(ctx);
    if (!st && ctx->log)
        eg_rt_log(ctx, "attention_fwd B=%d H=%d Nq=%d Nk=%d D=%d%s: %s, %d threads, %d bytes shared memory, queued",
                  a->batch, a->heads, a->seqlen_q, a->seqlen_k, a->head_dim, a->config ? "" : " (dispatched)", k->key,
                  k->threads, k->smem_bytes);
    return st;
}
