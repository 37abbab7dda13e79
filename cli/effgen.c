/* effgen.c - the command-line front end. It parses arguments and calls the library: generation and
 * compilation through the public API, checks and timings through the tuner's measuring functions.
 * Every subcommand answers --help. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "effgen.h"
#include "tune.h"

static int fail(const char *what, effgen_status st) {
    fprintf(stderr, "effgen: %s: %s (%s)\n", what, effgen_last_error()[0] ? effgen_last_error() : effgen_status_message(st),
            effgen_status_name(st));
    return 1;
}

/* ---- small argument helpers ---- */

/* A --config value is checked once, before any device or compile, instead of failing on every shape. */
static int config_ok(const char *cmd, const char *v) {
    eg_config c;
    if (eg_config_parse(v, &c) == EFFGEN_OK) return 1;
    fprintf(stderr, "effgen %s: --config: %s\n", cmd, effgen_last_error());
    return 0;
}

typedef struct args {
    int argc;
    char **argv;
    int i;
} args;

static int is_help(const char *s) { return !strcmp(s, "--help") || !strcmp(s, "-h"); }

/* Parse "64,128,256" into out (at most max); returns the count or -1 with a message. */
static int parse_int_list(const char *flag, const char *s, int *out, int max) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0 || v > 1 << 30 || n == max || (*end && *end != ',')) {
            fprintf(stderr, "effgen: %s \"%s\": expected a comma-separated list of positive integers\n", flag, s);
            return -1;
        }
        out[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return n;
}

static int parse_dtype_list(const char *s, effgen_dtype *out) {
    int n = 0;
    if (strstr(s, "bf16")) out[n++] = EFFGEN_BF16;
    if (strstr(s, "fp16")) out[n++] = EFFGEN_FP16;
    if (!n) fprintf(stderr, "effgen: --dtype \"%s\": must be bf16, fp16 or bf16,fp16\n", s);
    return n;
}

static int parse_causal_list(const char *s, int *out) {
    if (!strcmp(s, "0") || !strcmp(s, "none")) return out[0] = 0, 1;
    if (!strcmp(s, "1") || !strcmp(s, "causal")) return out[0] = 1, 1;
    if (!strcmp(s, "both")) return out[0] = 0, out[1] = 1, 2;
    fprintf(stderr, "effgen: --causal \"%s\": must be 0, 1 or both\n", s);
    return 0;
}

static const char *need_value(args *a) {
    if (a->i + 1 >= a->argc) {
        fprintf(stderr, "effgen: option %s needs a value\n", a->argv[a->i]);
        return NULL;
    }
    return a->argv[++a->i];
}

/* The variant options of check and bench; zero is off for each. */
typedef struct variant_opts {
    int window, window_left, window_right;
    float softcap;
    int alibi, kv_heads;
    eg_ext_opts ext; /* varlen, bias, mask, block-sparse */
    int seqs;        /* varlen sequences (bench) */
    const char *score_mod, *mask_mod;      /* user expressions */
    const char *xt[EG_EXPR_TENSORS_MAX];   /* --expr-tensor texts, sizes with B, H, Q, K */
    int n_xt;
} variant_opts;

#define VARIANT_USAGE                                                                                         \
    "[--window L,R] [--softcap C] [--alibi] [--kv-heads N]\n"                                                \
    "                    [--varlen MIN,MAX] [--seqs N] [--bias full|b|bh|i] [--mask PCT[,b]] [--bsparse PCT[,BLOCK]]\n" \
    "                    [--score-mod TEXT] [--mask-mod TEXT] [--expr-tensor NAME:DTYPE:SIZES]..."
#define VARIANT_HELP                                                                                          \
    "--window L,R: sliding window of L keys before and R after the diagonal (-1: unbounded);\n"             \
    "--softcap C: scores become C*tanh(s/C); --alibi: per-head slopes 2^(-8(h+1)/H); --kv-heads N: GQA;\n"  \
    "--varlen MIN,MAX: packed sequences with lengths uniform in [MIN, MAX] (--seqs N of them in bench,\n"   \
    "  default 64; check keeps each shape's batch, at least 3, with key lengths drawn apart);\n"            \
    "--bias full|b|bh|i: additive bias tensor, broadcast over nothing, batch, batch and heads, or queries;\n" \
    "--mask PCT[,b]: bit mask with PCT%% of keys visible (,b: one mask for every batch entry);\n"         \
    "--bsparse PCT[,BLOCK]: block-sparse table of BLOCK x BLOCK blocks (default 128): diagonal + first\n"    \
    "  column + PCT%% random blocks (BigBird-like).\n"                                                       \
    "--score-mod TEXT, --mask-mod TEXT: user expressions (docs/expressions.md); --expr-tensor NAME:DTYPE:SIZES\n" \
    "  (repeatable): a tensor they read, random contents (floats in [-2, 2], i32 non-decreasing document ids,\n" \
    "  u8 0..3, bool 0/1); SIZES like HxQxK, where B, H, Q, K, M stand for batch, heads, seqlen_q, seqlen_k\n" \
    "  and the larger of the two (the totals under varlen), e.g. --score-mod 'score + t[h, q, k]' --expr-tensor t:f32:HxQxK.\n"

/* One option at argv[a->i]: 1 when it was a variant option (parsed), 0 when it is not one, -1 on bad input. */
static int parse_variant_opt(args *a, variant_opts *o) {
    const char *s = a->argv[a->i], *v;
    char *end;
    if (!strcmp(s, "--window")) {
        if (!(v = need_value(a))) return -1;
        long l = strtol(v, &end, 10), r = -2;
        if (*end == ',') r = strtol(end + 1, &end, 10);
        if (*end || l < -1 || r < -1 || l > 1 << 28 || r > 1 << 28) {
            fprintf(stderr, "effgen: --window \"%s\": must be L,R with each >= 0 or -1 (unbounded)\n", v);
            return -1;
        }
        o->window = 1, o->window_left = (int)l, o->window_right = (int)r;
        return 1;
    }
    if (!strcmp(s, "--softcap")) {
        if (!(v = need_value(a))) return -1;
        double c = strtod(v, &end);
        if (*end || !(c > 0) || c > 1e30) {
            fprintf(stderr, "effgen: --softcap \"%s\": must be a positive number\n", v);
            return -1;
        }
        o->softcap = (float)c;
        return 1;
    }
    if (!strcmp(s, "--alibi")) return o->alibi = 1, 1;
    if (!strcmp(s, "--varlen")) {
        if (!(v = need_value(a))) return -1;
        long lo = strtol(v, &end, 10), hi = -1;
        if (*end == ',') hi = strtol(end + 1, &end, 10);
        if (*end || lo < 0 || hi < lo || hi < 1 || hi > 1 << 20) {
            fprintf(stderr, "effgen: --varlen \"%s\": must be MIN,MAX with 0 <= MIN <= MAX, MAX >= 1\n", v);
            return -1;
        }
        o->ext.varlen = 1, o->ext.len_min = (int)lo, o->ext.len_max = (int)hi;
        return 1;
    }
    if (!strcmp(s, "--seqs")) {
        if (!(v = need_value(a))) return -1;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 1 << 20) {
            fprintf(stderr, "effgen: --seqs \"%s\": must be a positive integer\n", v);
            return -1;
        }
        o->seqs = (int)n;
        return 1;
    }
    if (!strcmp(s, "--bias")) {
        if (!(v = need_value(a))) return -1;
        static const char *forms[4] = {"full", "b", "bh", "i"};
        static const int bits[4] = {0, 1, 3, 4};
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, forms[i])) return o->ext.bias = 1, o->ext.bias_bcast = bits[i], 1;
        fprintf(stderr, "effgen: --bias \"%s\": must be full, b, bh or i (the dimensions broadcast)\n", v);
        return -1;
    }
    if (!strcmp(s, "--mask")) {
        if (!(v = need_value(a))) return -1;
        long pct = strtol(v, &end, 10);
        const int bcast = !strcmp(end, ",b");
        if ((*end && !bcast) || end == v || pct < 0 || pct > 100) {
            fprintf(stderr, "effgen: --mask \"%s\": must be a percentage from 0 to 100, optionally followed by \",b\" "
                            "(one mask for every batch entry)\n", v);
            return -1;
        }
        o->ext.mask = 1, o->ext.mask_pct = (int)pct, o->ext.mask_bcast = bcast;
        return 1;
    }
    if (!strcmp(s, "--bsparse")) {
        if (!(v = need_value(a))) return -1;
        long pct = strtol(v, &end, 10), blk = 128;
        if (*end == ',') blk = strtol(end + 1, &end, 10);
        if (*end || pct < 0 || pct > 100 || blk < 16 || blk % 16 || blk > 1 << 16) {
            fprintf(stderr, "effgen: --bsparse \"%s\": must be PCT[,BLOCK], PCT 0..100, BLOCK a multiple of 16\n", v);
            return -1;
        }
        o->ext.bsparse = 1, o->ext.bsparse_pct = (int)pct, o->ext.bs_block = (int)blk;
        return 1;
    }
    if (!strcmp(s, "--score-mod")) return (o->score_mod = need_value(a)) ? 1 : -1;
    if (!strcmp(s, "--mask-mod")) return (o->mask_mod = need_value(a)) ? 1 : -1;
    if (!strcmp(s, "--expr-tensor")) {
        if (!(v = need_value(a))) return -1;
        if (o->n_xt == EG_EXPR_TENSORS_MAX) {
            fprintf(stderr, "effgen: --expr-tensor: at most %d\n", EG_EXPR_TENSORS_MAX);
            return -1;
        }
        /* its name, type and sizes are checked here, once, on a problem of one row and one key */
        eg_problem one = {EFFGEN_BF16, 1, 1, 1, 1, 64, 0, EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f, 0, 0, 0, 0.f, 0, 0};
        eg_problem_ext x;
        memset(&x, 0, sizeof x);
        effgen_status st = eg_problem_ext_add_tensor_sized(&x, &one, v, 1);
        eg_problem_ext_free(&x);
        if (st) {
            fprintf(stderr, "effgen: --expr-tensor \"%s\": %s\n", v, effgen_last_error());
            return -1;
        }
        o->xt[o->n_xt++] = v;
        return 1;
    }
    if (!strcmp(s, "--kv-heads")) {
        if (!(v = need_value(a))) return -1;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 1 << 20) {
            fprintf(stderr, "effgen: --kv-heads \"%s\": must be a positive integer\n", v);
            return -1;
        }
        o->kv_heads = (int)n;
        return 1;
    }
    return 0;
}

static void apply_variants(const variant_opts *o, eg_problem *p) {
    p->window = o->window;
    p->window_left = o->window_left;
    p->window_right = o->window_right;
    p->softcap = o->softcap;
    p->alibi = o->alibi;
    p->kv_heads = o->kv_heads;
}

/* The expressions of o and their tensors into x, sizes resolved for problem p. */
static effgen_status add_exprs(const variant_opts *o, const eg_problem *p, eg_problem_ext *x, uint64_t seed) {
    x->score_mod = o->score_mod;
    x->mask_mod = o->mask_mod;
    for (int i = 0; i < o->n_xt; i++) {
        effgen_status st = eg_problem_ext_add_tensor_sized(x, p, o->xt[i], seed + (uint64_t)i);
        if (st) return st;
    }
    return EFFGEN_OK;
}

/* The spec text of a problem without its arch ("attn_fwd/d64/bf16/causal+win"), for tables. */
static void problem_spec(const eg_problem *p, const eg_problem_ext *x, char *buf, size_t size) {
    effgen_attn_args a;
    eg_spec s;
    eg_problem_args_ext(p, x, &a);
    eg_rt_spec_of(&a, 90, &s);
    eg_spec_print(&s, buf, size);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = 0;
    /* the expressions by kind (their hashes are in the kernel's key) */
    size_t n = strlen(buf);
    if (x && x->score_mod && n + 11 < size) n += (size_t)snprintf(buf + n, size - n, "+score_mod");
    if (x && x->mask_mod && n + 10 < size) snprintf(buf + n, size - n, "+mask_mod");
}

/* ---- gen ---- */

static int cmd_gen(int argc, char **argv) {
    const char *pos[2] = {NULL, NULL}, *score = NULL, *mask = NULL;
    int npos = 0, bad = argc < 2;
    for (int i = 1; i < argc && !bad; i++) {
        if (is_help(argv[i])) {
            bad = -1;
        } else if (!strcmp(argv[i], "--score-mod") && i + 1 < argc) {
            score = argv[++i];
        } else if (!strcmp(argv[i], "--mask-mod") && i + 1 < argc) {
            mask = argv[++i];
        } else if (argv[i][0] != '-' && npos < 2) {
            pos[npos++] = argv[i];
        } else {
            bad = 1;
        }
    }
    if (bad || !pos[0]) {
        printf("usage: effgen gen SPEC [CONFIG] [--score-mod TEXT] [--mask-mod TEXT]\n"
               "Print the CUDA C++ source generated for SPEC (e.g. attn_fwd/d128/bf16/causal/sm_90) and CONFIG\n"
               "(e.g. bm128.bn64.w4.s2; default: the cost model's choice, a wg.* config of the Hopper warpgroup\n"
               "family for the sm_90a specs it implements); the source's header names both, and the chosen\n"
               "config is also written to stderr. The expressions (with their tensor declarations, e.g.\n"
               "'doc[q] == doc[k]; doc: i32[1]') add +score.HASH / +mask.HASH to the spec, or must match the\n"
               "hashes it has.\n");
        return bad < 0 ? 0 : 2;
    }
    char *src = NULL;
    effgen_status st = effgen_generate_mod(pos[0], pos[1], score, mask, &src);
    if (st) return fail("gen", st);
    fputs(src, stdout);
    /* the header's config line, to stderr, where a source redirected to a file does not hide it */
    const char *cl = strstr(src, "// config ");
    if (cl) {
        cl += strlen("// config ");
        int n = (int)strcspn(cl, "\n");
        fprintf(stderr, "effgen gen: config %.*s%s\n", n, cl, pos[1] ? "" : " (the cost model's choice)");
    }
    effgen_free(src);
    return 0;
}

/* ---- compile ---- */

static void print_info(const effgen_kernel_info *k) {
    printf("%-34s %-20s %-7s regs %3d  smem %6d  spill %4d  stack %4d  threads %3d  occupancy %d  compile %7.1f ms%s\n",
           k->spec, k->config, k->arch, k->registers, k->smem_bytes, k->spill_bytes, k->stack_bytes, k->threads,
           k->occupancy_blocks, k->compile_ms, k->wgmma_serialized == 1 ? "  wgmma serialized by ptxas" : "");
}

typedef struct compile_job {
    char spec[EG_KEY_MAX];
    const char *arch;
    effgen_kernel_info info;
    effgen_status st;
    char err[512];
} compile_job;

typedef struct compile_pool {
    compile_job *jobs;
    int n, next;
    pthread_mutex_t lock;
} compile_pool;

static void *compile_worker(void *arg) {
    compile_pool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        int i = pool->next++;
        pthread_mutex_unlock(&pool->lock);
        if (i >= pool->n) return NULL;
        compile_job *j = &pool->jobs[i];
        j->st = effgen_compile(NULL, j->spec, NULL, j->arch, NULL, NULL, &j->info);
        if (j->st) snprintf(j->err, sizeof j->err, "%s", effgen_last_error());
    }
}

/* The default kernel set: the head dims people use, both dtypes, with and without a causal mask. */
static int compile_all(const char *arch, int jobs_n) {
    int n_dims = 0;
    const int *dims = effgen_default_head_dims(&n_dims);
    static const char *dt[] = {"bf16", "fp16"};
    static const char *mk[] = {"none", "causal"};
    compile_job *jobs = calloc((size_t)n_dims * 2 * 2, sizeof *jobs);
    if (!jobs) {
        fprintf(stderr, "effgen compile: out of memory\n");
        return 1;
    }
    int n = 0;
    for (int d = 0; d < n_dims; d++)
        for (int t = 0; t < 2; t++)
            for (int m = 0; m < 2; m++) {
                snprintf(jobs[n].spec, sizeof jobs[n].spec, "attn_fwd/d%d/%s/%s/%s", dims[d], dt[t], mk[m], arch);
                jobs[n].arch = arch;
                n++;
            }
    compile_pool pool = {jobs, n, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t th[32];
    if (jobs_n < 1) jobs_n = 1;
    if (jobs_n > 32) jobs_n = 32;
    int started = 0;
    for (int i = 0; i < jobs_n; i++)
        if (pthread_create(&th[started], NULL, compile_worker, &pool) == 0) started++;
    if (!started) compile_worker(&pool);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (jobs[i].st) {
            fprintf(stderr, "effgen: compile %s: %s\n", jobs[i].spec, jobs[i].err);
            bad++;
        } else {
            print_info(&jobs[i].info);
        }
    }
    printf("compiled %d of %d kernels for %s\n", n - bad, n, arch);
    free(jobs);
    return bad ? 1 : 0;
}

static int cmd_compile(int argc, char **argv) {
    const char *spec = NULL, *config = NULL, *arch = NULL, *out = NULL, *score = NULL, *mask = NULL;
    int all = 0, jobs = 2;
    args a = {argc, argv, 1};
    for (; a.i < argc; a.i++) {
        const char *s = argv[a.i];
        if (is_help(s)) {
            int ndims = 0;
            const int *dims = effgen_default_head_dims(&ndims);
            char dl[128] = "";
            for (int i = 0, o = 0; i < ndims && o < (int)sizeof dl - 8; i++)
                o += snprintf(dl + o, sizeof dl - (size_t)o, "%s%d", i ? ", " : "", dims[i]);
            printf("usage: effgen compile SPEC [CONFIG] [--arch sm_XX] [-o FILE.cubin] [--score-mod TEXT] [--mask-mod TEXT]\n"
                   "       effgen compile --all [--arch sm_XX] [--jobs N]\n"
                   "Compile with NVRTC (no GPU needed) and report registers, shared memory, spills, occupancy\n"
                   "and compile time. --all compiles the default kernel set (head dims %s;\n"
                   "bf16 and fp16; causal or not) on N threads. --arch defaults to the spec's arch (sm_90\n"
                   "with --all). Without CONFIG the cost model chooses for the arch compiled for: on sm_90a a wg.*\n"
                   "config of the Hopper warpgroup family for the specs it implements (docs/hopper.md). A line\n"
                   "ends in \"wgmma serialized by ptxas\" where ptxas reports that it issued the kernel's wgmma one\n"
                   "after the other (correct, and far slower).\n",
                   dl);
            return 0;
        } else if (!strcmp(s, "--arch")) {
            if (!(arch = need_value(&a))) return 2;
        } else if (!strcmp(s, "-o")) {
            if (!(out = need_value(&a))) return 2;
        } else if (!strcmp(s, "--score-mod")) {
            if (!(score = need_value(&a))) return 2;
        } else if (!strcmp(s, "--mask-mod")) {
            if (!(mask = need_value(&a))) return 2;
        } else if (!strcmp(s, "--jobs")) {
            const char *v = need_value(&a);
            if (!v || !eg_cli_positive("--jobs", v, &jobs)) return 2;
        } else if (!strcmp(s, "--all")) {
            all = 1;
        } else if (s[0] == '-') {
            fprintf(stderr, "effgen compile: unknown option %s (see --help)\n", s);
            return 2;
        } else if (!spec) {
            spec = s;
        } else if (!config) {
            config = s;
        } else {
            fprintf(stderr, "effgen compile: unexpected argument %s\n", s);
            return 2;
        }
    }
    if (all) {
        int archnum;
        if (!arch) arch = "sm_90";
        if (eg_arch_parse(arch, &archnum)) return fail("compile --arch", EFFGEN_PARSE);
        return compile_all(arch, jobs);
    }
    if (!spec) {
        fprintf(stderr, "effgen compile: missing SPEC (see --help)\n");
        return 2;
    }
    void *cubin = NULL;
    size_t size = 0;
    effgen_kernel_info info;
    effgen_status st =
        effgen_compile_mod(NULL, spec, config, arch, score, mask, out ? &cubin : NULL, out ? &size : NULL, &info);
    if (st) return fail("compile", st);
    print_info(&info);
    if (out) {
        FILE *f = fopen(out, "wb");
        int ok = f && fwrite(cubin, 1, size, f) == size;
        if (f && fclose(f)) ok = 0;
        effgen_free(cubin);
        if (!ok) {
            fprintf(stderr, "effgen compile: cannot write %s\n", out);
            return 1;
        }
        printf("wrote %zu bytes to %s\n", size, out);
    }
    return 0;
}

/* ---- check ---- */

typedef struct shape {
    int b, h, nq, nk;
} shape;

/* A context on the GPU compiling for arch (NULL: the GPU's default, sm_90a on a 9.0 GPU; "sm_90" there for
 * the mma family alone). */
static effgen_status open_for_arch(effgen_ctx **ctx, const char *arch) {
    effgen_options opt;
    effgen_options_init(&opt);
    opt.arch = arch;
    return effgen_open(ctx, &opt);
}

static int cmd_check(int argc, char **argv) {
    int dims[64] = {8, 32, 64, 80, 96, 128, 160, 192, 256}, nd = 9;
    effgen_dtype dts[2] = {EFFGEN_BF16, EFFGEN_FP16};
    int ndt = 2, causals[2] = {0, 1}, nc = 2, quick = 0;
    const char *config = NULL;
    int align = -1; /* -1: mixed */
    unsigned long seed = 1;
    float scale = 0.f; /* 0: 1/sqrt(head_dim) */
    variant_opts vo;
    memset(&vo, 0, sizeof vo);
    const char *arch = NULL; /* --arch: compile for this arch (sm_90a for wg.* configs) */
    args a = {argc, argv, 1};
    for (; a.i < argc; a.i++) {
        const char *s = argv[a.i], *v;
        int vr;
        if (is_help(s)) {
            printf("usage: effgen check [--d 64,128] [--dtype bf16,fp16] [--causal 0|1|both] [--config C]\n"
                   "                    [--align mixed|br|tl] [--seed N] [--scale S] [--quick] [--arch sm_XX] " VARIANT_USAGE "\n"
                   "Run kernels on the GPU against the double-precision reference over a sweep of shapes\n"
                   "(Nq != Nk, lengths 1, 17, 1000, 4097, B,H,N,D and B,N,H,D layouts) and print the error of\n"
                   "each. Exit status 1 when any check fails. --align picks the causal alignment: br\n"
                   "(bottom-right), tl (top-left) or mixed (default: every third shape top-left). --scale S\n"
                   "multiplies the scores by S instead of 1/sqrt(head dim) (a large S spreads them, so that row\n"
                   "maxima keep moving from key tile to key tile).\n" VARIANT_HELP
                   "With --kv-heads N each shape runs N K/V heads shared by groups of 2 (or of the shape's\n"
                   "head count when larger) query heads. --arch compiles for that arch instead of the GPU's default\n"
                   "(sm_90a on a 9.0 GPU, where the model's choice is a wg.* config of the Hopper warpgroup family\n"
                   "for the specs it implements, docs/hopper.md; --arch sm_90 keeps the mma family there).\n");
            return 0;
        } else if ((vr = parse_variant_opt(&a, &vo)) != 0) {
            if (vr < 0) return 2;
        } else if (!strcmp(s, "--d")) {
            if (!(v = need_value(&a)) || (nd = parse_int_list("--d", v, dims, 64)) < 0) return 2;
        } else if (!strcmp(s, "--dtype")) {
            if (!(v = need_value(&a)) || !(ndt = parse_dtype_list(v, dts))) return 2;
        } else if (!strcmp(s, "--causal")) {
            if (!(v = need_value(&a)) || !(nc = parse_causal_list(v, causals))) return 2;
        } else if (!strcmp(s, "--align")) {
            if (!(v = need_value(&a))) return 2;
            if (!strcmp(v, "mixed")) align = -1;
            else if (!strcmp(v, "br")) align = EFFGEN_CAUSAL_BOTTOM_RIGHT;
            else if (!strcmp(v, "tl")) align = EFFGEN_CAUSAL_TOP_LEFT;
            else {
                fprintf(stderr, "effgen check: --align \"%s\": expected mixed, br or tl\n", v);
                return 2;
            }
        } else if (!strcmp(s, "--config")) {
            if (!(config = need_value(&a)) || !config_ok("check", config)) return 2;
        } else if (!strcmp(s, "--arch")) {
            if (!(arch = need_value(&a))) return 2;
        } else if (!strcmp(s, "--seed")) {
            if (!(v = need_value(&a))) return 2;
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (end == v || *end || strchr(v, '-') || n > 0xffffffffull) {
                fprintf(stderr, "effgen check: --seed \"%s\": expected a whole number from 0 to 4294967295\n", v);
                return 2;
            }
            seed = (unsigned long)n;
        } else if (!strcmp(s, "--scale")) {
            if (!(v = need_value(&a))) return 2;
            char *end = NULL;
            double x = strtod(v, &end);
            if (end == v || *end || !(x > 0.0) || x > 1e4) {
                fprintf(stderr, "effgen check: --scale \"%s\": expected a number above 0, at most 10000\n", v);
                return 2;
            }
            scale = (float)x;
        } else if (!strcmp(s, "--quick")) {
            quick = 1;
        } else {
            fprintf(stderr, "effgen check: unknown option %s (see --help)\n", s);
            return 2;
        }
    }
    static const shape full[] = {{1, 2, 1, 1}, {2, 3, 17, 17}, {1, 2, 1000, 1000}, {2, 2, 17, 1000},
                                 {1, 3, 1000, 17}, {1, 1, 4097, 4097}, {1, 2, 300, 4097}};
    static const shape fast[] = {{1, 2, 1, 1}, {2, 3, 17, 17}, {1, 2, 257, 1000}, {1, 2, 1000, 77}};
    const shape *shapes = quick ? fast : full;
    int nshapes = quick ? 4 : 7;
    effgen_ctx *ctx = NULL;
    effgen_status st = open_for_arch(&ctx, arch);
    if (st) return fail("open", st);
    int bad = 0, total = 0, k = 0;
    printf("%-34s %-18s %-24s %-6s %10s %10s %10s  %s\n", "spec", "config", "shape B,H,Nq,Nk", "layout", "rel err",
           "max abs", "lse err", "result");
    for (int di = 0; di < nd; di++)
        for (int ti = 0; ti < ndt; ti++)
            for (int ci = 0; ci < nc; ci++)
                for (int si = 0; si < nshapes; si++, k++) {
                    eg_problem p = {dts[ti], shapes[si].b, shapes[si].h, shapes[si].nq, shapes[si].nk, dims[di],
                                    causals[ci],
                                    align >= 0         ? (effgen_causal_align)align
                                    : (k / 2) % 3 == 2 ? EFFGEN_CAUSAL_TOP_LEFT
                                                       : EFFGEN_CAUSAL_BOTTOM_RIGHT,
                                    k % 2, scale, 0, 0, 0, 0.f, 0, 0};
                    apply_variants(&vo, &p);
                    if (vo.kv_heads) p.heads = vo.kv_heads * (p.heads > 2 ? p.heads : 2);
                    eg_check_result r;
                    char spec[EG_KEY_MAX] = "", shp[64];
                    eg_problem_ext x;
                    eg_ext_opts eo = vo.ext;
                    eo.keys_differ = 1;
                    if (eo.varlen && p.batch < 3) p.batch = 3;
                    st = eg_problem_ext_make(&p, &x, &eo, seed + (unsigned long)k);
                    if (!st) st = add_exprs(&vo, &p, &x, seed + (unsigned long)k);
                    snprintf(shp, sizeof shp, "%d,%d,%d,%d", p.batch, p.heads, p.seqlen_q, p.seqlen_k);
                    if (!st) st = eg_check_ext(ctx, &p, &x, config, seed + (unsigned long)k, &r);
                    total++;
                    if (st) {
                        bad++;
                        fprintf(stderr, "effgen check: d%d %s: %s (%s)\n", p.head_dim, shp, effgen_last_error(),
                                effgen_status_name(st));
                        eg_problem_ext_free(&x);
                        if (st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_NO_DEVICE) goto done;
                        continue;
                    }
                    problem_spec(&p, &x, spec, sizeof spec);
                    eg_problem_ext_free(&x);
                    bad += !r.pass;
                    printf("%-34s %-18s %-24s %-6s %10.2e %10.2e %10.2e  %s", spec, r.config, shp, p.bnhd ? "bnhd" : "bhnd",
                           r.rel_err, r.max_abs, r.lse_max_abs, r.pass ? "ok" : "FAIL");
                    if (r.unwritten) printf(" (%ld unwritten)", r.unwritten);
                    if (r.lse_mismatch) printf(" (%ld -inf mismatches)", r.lse_mismatch);
                    printf("\n");
                    fflush(stdout);
                }
done:
    effgen_close(ctx);
    printf("%d passed, %d failed\n", total - bad, bad);
    return bad ? 1 : 0;
}

/* ---- bench ---- */

static int cmd_bench(int argc, char **argv) {
    int dims[64] = {64, 128, 256}, nd = 3, ns[64] = {512, 1024, 2048, 4096, 8192, 16384}, nn = 6;
    effgen_dtype dts[2] = {EFFGEN_BF16};
    int ndt = 1, causals[2] = {0, 1}, nc = 2, reps = 30;
    const char *config = NULL, *json = NULL;
    variant_opts vo;
    memset(&vo, 0, sizeof vo);
    const char *arch = NULL; /* --arch: compile for this arch (sm_90a for wg.* configs) */
    args a = {argc, argv, 1};
    for (; a.i < argc; a.i++) {
        const char *s = argv[a.i], *v;
        int vr;
        if (is_help(s)) {
            printf("usage: effgen bench [--d 64,128,256] [--n 512,...,16384] [--dtype bf16] [--causal both]\n"
                   "                    [--config C] [--reps N] [--json FILE] [--arch sm_XX] " VARIANT_USAGE "\n"
                   "Time forward attention with CUDA events on the shapes of the FlashAttention benchmarks\n"
                   "(B*N = 16k tokens, H*D = 2048): warm-up, median of N repetitions, inputs rotated beyond the\n"
                   "L2 cache. --json writes rows in the format of the peers' benchmark (impl, mode, mask, dtype,\n"
                   "B, H, N, D, ms, tflops) plus config, registers, shared memory and spills. Without --config\n"
                   "each row times what effgen_attention_fwd runs: the kernel database's tuned winner for the\n"
                   "size bucket (\"tuned\"), else the cost model's pick (\"model\"). --arch compiles for that arch\n"
                   "instead of the GPU's default (sm_90a on a 9.0 GPU, whose model picks are wg.* configs where the\n"
                   "Hopper warpgroup family applies; --arch sm_90 times the mma family there).\n" VARIANT_HELP
                   "Masks in the rows: score_mod, mask_mod or score_mod+mask_mod with expressions (TFLOP/s then\n"
                   "count the pairs the other masks leave, hidden or not), window<L+1> with a window, alibi with ALiBi, blocksparse<pct of listed\n"
                   "blocks>, mask<pct>, bias, varlen or varlen-causal (B: sequences, N: the longest; --n is ignored), else causal\n"
                   "or none; TFLOP/s count only visible scores.\n");
            return 0;
        } else if ((vr = parse_variant_opt(&a, &vo)) != 0) {
            if (vr < 0) return 2;
        } else if (!strcmp(s, "--d")) {
            if (!(v = need_value(&a)) || (nd = parse_int_list("--d", v, dims, 64)) < 0) return 2;
        } else if (!strcmp(s, "--n")) {
            if (!(v = need_value(&a)) || (nn = parse_int_list("--n", v, ns, 64)) < 0) return 2;
        } else if (!strcmp(s, "--dtype")) {
            if (!(v = need_value(&a)) || !(ndt = parse_dtype_list(v, dts))) return 2;
        } else if (!strcmp(s, "--causal")) {
            if (!(v = need_value(&a)) || !(nc = parse_causal_list(v, causals))) return 2;
        } else if (!strcmp(s, "--arch")) {
            if (!(arch = need_value(&a))) return 2;
        } else if (!strcmp(s, "--config")) {
            if (!(config = need_value(&a)) || !config_ok("bench", config)) return 2;
        } else if (!strcmp(s, "--reps")) {
            if (!(v = need_value(&a)) || !eg_cli_positive("--reps", v, &reps)) return 2;
        } else if (!strcmp(s, "--json")) {
            if (!(json = need_value(&a))) return 2;
        } else {
            fprintf(stderr, "effgen bench: unknown option %s (see --help)\n", s);
            return 2;
        }
    }
    FILE *jf = NULL;
    if (json && !(jf = fopen(json, "w"))) {
        fprintf(stderr, "effgen bench: cannot write %s\n", json);
        return 1;
    }
    effgen_ctx *ctx = NULL;
    effgen_status st = open_for_arch(&ctx, arch);
    if (st) {
        if (jf) fclose(jf);
        return fail("open", st);
    }
    int bad = 0, rows = 0;
    if (jf) fprintf(jf, "{\"rows\": [\n");
    printf("%-6s %-5s %4s %6s %4s %4s  %-18s %-6s %9s %9s %8s  %4s %6s %5s %8s\n", "mask", "dtype", "D", "N", "B",
           "H", "config", "from", "ms", "spread", "TFLOP/s", "regs", "smem", "spill", "jit ms");
    for (int ti = 0; ti < ndt; ti++)
        for (int di = 0; di < nd; di++)
            for (int ni = 0; ni < nn; ni++)
                for (int ci = 0; ci < nc; ci++) {
                    int D = dims[di], N = ns[ni];
                    int H = 2048 / D > 0 ? 2048 / D : 1, B = 16384 / N > 0 ? 16384 / N : 1;
                    /* varlen: one row per head dim, --seqs sequences of the drawn lengths */
                    if (vo.ext.varlen && ni > 0) continue;
                    if (vo.ext.varlen) B = vo.seqs ? vo.seqs : 64;
                    eg_problem p = {dts[ti], B, H, N, N, D, causals[ci], EFFGEN_CAUSAL_BOTTOM_RIGHT, 0, 0.f, 0, 0, 0, 0.f, 0, 0};
                    apply_variants(&vo, &p);
                    eg_problem_ext x;
                    st = eg_problem_ext_make(&p, &x, &vo.ext, 1234);
                    if (!st) st = add_exprs(&vo, &p, &x, 1234);
                    if (vo.ext.varlen) N = x.max_seqlen_q;
                    eg_bench_result r;
                    const char *dn = dts[ti] == EFFGEN_FP16 ? "fp16" : "bf16", *mk = causals[ci] ? "causal" : "none";
                    char mkbuf[32];
                    /* the peers' mask names: window<W> for W keys, alibi, bias, varlen (varlen-causal),
                     * blocksparse<pct of listed blocks>; a bit mask is mask<pct> */
                    if (vo.score_mod || vo.mask_mod) {
                        mk = vo.score_mod && vo.mask_mod ? "score_mod+mask_mod" : vo.score_mod ? "score_mod" : "mask_mod";
                    } else if (vo.window) {
                        snprintf(mkbuf, sizeof mkbuf, "window%d", vo.window_left + 1);
                        mk = mkbuf;
                    } else if (vo.alibi) {
                        mk = "alibi";
                    } else if (vo.ext.bsparse && x.bs_row) {
                        int nqb = (N + x.bs_block_q - 1) / x.bs_block_q, nkb = (N + x.bs_block_k - 1) / x.bs_block_k;
                        snprintf(mkbuf, sizeof mkbuf, "blocksparse%d",
                                 (int)(100.0 * x.bs_row[nqb] / ((double)nqb * nkb) + 0.5));
                        mk = mkbuf;
                    } else if (vo.ext.mask) {
                        snprintf(mkbuf, sizeof mkbuf, "mask%d", vo.ext.mask_pct);
                        mk = mkbuf;
                    } else if (vo.ext.bias) {
                        mk = "bias";
                    } else if (vo.ext.varlen) {
                        mk = causals[ci] ? "varlen-causal" : "varlen"; /* as python/bench_varlen.py names them */
                    }
                    if (!st) st = eg_bench_ext(ctx, &p, &x, config, reps, &r);
                    eg_problem_ext_free(&x);
                    if (st) {
                        bad++;
                        fprintf(stderr, "effgen bench: D=%d N=%d %s: %s (%s)\n", D, N, mk, effgen_last_error(),
                                effgen_status_name(st));
                        if (st == EFFGEN_DRIVER_UNAVAILABLE || st == EFFGEN_NO_DEVICE) goto done;
                        continue;
                    }
                    /* tuned: a measured winner of the database; model: the cost model's pick; given: --config */
                    const char *from = config ? "given" : r.source == EG_DB_MEASURED ? "tuned" : "model";
                    printf("%-6s %-5s %4d %6d %4d %4d  %-18s %-6s %9.4f %8.1f%% %8.1f  %4d %6d %5d %8.1f\n", mk, dn, D,
                           N, B, H, r.config, from, r.ms_median, 100.0 * (r.ms_max - r.ms_min) / r.ms_median, r.tflops,
                           r.registers, r.smem_bytes, r.spill_bytes, r.first_call_ms);
                    fflush(stdout);
                    if (jf)
                        fprintf(jf,
                                "%s {\"impl\": \"effgen\", \"mode\": \"fwd\", \"mask\": \"%s\", \"dtype\": \"%s\", "
                                "\"B\": %d, \"H\": %d, \"N\": %d, \"D\": %d, \"ms\": %.6f, \"tflops\": %.3f, "
                                "\"ms_min\": %.6f, \"ms_max\": %.6f, \"reps\": %d, \"spec\": \"%s\", \"config\": \"%s\", "
                                "\"config_from\": \"%s\", \"registers\": %d, \"smem\": %d, \"spill_bytes\": %d, "
                                "\"first_call_ms\": %.1f}\n",
                                rows ? "," : " ", mk, dn, B, H, N, D, r.ms_median, r.tflops, r.ms_min, r.ms_max, r.reps,
                                r.spec, r.config, from, r.registers, r.smem_bytes, r.spill_bytes, r.first_call_ms);
                    rows++;
                }
done:
    if (jf) {
        fprintf(jf, "], \"device\": \"%s\"}\n", ctx ? ctx->info.name : "");
        fclose(jf);
    }
    effgen_close(ctx);
    return bad ? 1 : 0;
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv) {
    if (argc > 1 && is_help(argv[1])) {
        printf("usage: effgen info\nShow effgen's version, the generator version, NVRTC, the driver and the device.\n");
        return 0;
    }
    printf("effgen      %s (generator %s)\n", effgen_version(), eg_generator_version);
    printf("archs       %s\n", eg_arch_list());
    int maj = 0, min = 0, drv = 0;
    if (effgen_nvrtc_version(&maj, &min) == EFFGEN_OK)
        printf("nvrtc       %d.%d\n", maj, min);
    else
        printf("nvrtc       unavailable: %s\n", effgen_last_error());
    if (effgen_driver_version(&drv) != EFFGEN_OK) {
        printf("driver      unavailable: %s\n", effgen_last_error());
        return 0;
    }
    printf("driver      CUDA %d.%d\n", drv / 1000, (drv % 1000) / 10);
    effgen_ctx *ctx = NULL;
    const eg_rt_cuda *cu;
    effgen_status st = effgen_open(&ctx, NULL);
    if (!st) st = eg_rt_device(ctx, &cu);
    if (st) {
        printf("device      unavailable: %s\n", effgen_last_error());
    } else {
        printf("device      %s, sm_%d%d, %d SMs, L2 %d KB, %d KB shared memory per block\n", ctx->info.name,
               ctx->info.cc_major, ctx->info.cc_minor, ctx->info.sm_count, ctx->info.l2_bytes / 1024,
               ctx->info.smem_optin / 1024);
        char an[16];
        eg_arch_print(ctx->arch, an, sizeof an);
        printf("target      %s (contexts without an arch compile for it%s)\n", an,
               ctx->arch == EG_ARCH_SM90A ? "; the model's choice is a wg.* config of the Hopper warpgroup family "
                                            "wherever it implements the spec"
                                          : "");
    }
    effgen_close(ctx);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: effgen COMMAND [ARGS]   (effgen COMMAND --help for each)\n"
               "  gen SPEC [CONFIG]          print the generated CUDA source\n"
               "  compile SPEC [CONFIG]      compile with NVRTC and report resources (no GPU needed)\n"
               "  check                      compare kernels with the reference on the GPU\n"
               "  bench                      time kernels on the GPU (--json for peers' row format)\n"
               "  info                       versions, NVRTC, driver and device\n"
               "  tune                       search tile configs, store winners in the kernel database\n"
               "  pack                       build a shippable kernel database for a list of archs\n"
               "  db                         list, show, export, import, merge, verify, vacuum the database\n"
               "SPEC is op/dHEAD/dtype/mask/arch, e.g. attn_fwd/d128/bf16/causal/sm_90;\n"
               "CONFIG is bm<rows>.bn<keys>.w<warps>.s<stages>, e.g. bm128.bn64.w4.s2, or for sm_90a's Hopper\n"
               "warpgroup family wg.bm<rows>.bn<keys>.c<consumers>.s<stages>, e.g. wg.bm128.bn128.c2.s2.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *c = argv[1];
    if (!strcmp(c, "gen")) return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(c, "compile")) return cmd_compile(argc - 1, argv + 1);
    if (!strcmp(c, "check")) return cmd_check(argc - 1, argv + 1);
    if (!strcmp(c, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(c, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(c, "tune")) return eg_cli_tune(argc - 1, argv + 1);
    if (!strcmp(c, "pack")) return eg_cli_pack(argc - 1, argv + 1);
    if (!strcmp(c, "db")) return eg_cli_db(argc - 1, argv + 1);
    if (!strcmp(c, "--version")) return printf("effgen %s\n", effgen_version()), 0;
    fprintf(stderr, "effgen: unknown command \"%s\"\n", c);
    usage(stderr);
    return 2;
}
