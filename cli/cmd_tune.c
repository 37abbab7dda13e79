/* cmd_tune.c - effgen tune and effgen pack: argument parsing over the autotuner (tuner/autotune.h) and
 * the Lua tuning scripts (lua/eg_lua.h). The work, the messages and the database writes are the
 * library's; this file reads flags and prints the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autotune.h"
#include "cli.h"
#include "eg_lua.h"

static int fail(const char *what, effgen_status st) {
    fprintf(stderr, "effgen %s: %s (%s)\n", what,
            effgen_last_error()[0] ? effgen_last_error() : effgen_status_message(st), effgen_status_name(st));
    return 1;
}

static int is_help(const char *s) { return !strcmp(s, "--help") || !strcmp(s, "-h"); }

/* The value of option argv[*i]; NULL (with a message) when it is missing. */
static const char *value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "effgen: option %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int eg_cli_positive(const char *flag, const char *v, int *out) {
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < 1 || n > 1 << 20) {
        fprintf(stderr, "effgen: %s \"%s\": expected a whole number from 1 to %d\n", flag, v, 1 << 20);
        return 0;
    }
    *out = (int)n;
    return 1;
}

static void print_results(const eg_tune_stats *s) {
    printf("%-34s %7s  %-20s %-8s %9s %8s  %5s %5s %5s %5s\n", "spec", "bucket", "winner", "source", "ms",
           "TFLOP/s", "cands", "comp", "check", "timed");
    for (int i = 0; i < s->n_results; i++) {
        const eg_tune_result *r = &s->results[i];
        const char *src = r->config[0] ? (r->source == EG_DB_MODEL ? "model" : "measured") : "-";
        if (r->config[0] && r->source == EG_DB_MEASURED && r->ms > 0)
            printf("%-34s %7d  %-20s %-8s %9.4f %8.1f  %5d %5d %5d %5d\n", r->spec, r->bucket, r->config, src, r->ms,
                   r->tflops, r->candidates, r->compiled, r->checked, r->timed);
        else
            printf("%-34s %7d  %-20s %-8s %9s %8s  %5d %5d %5d %5d\n", r->spec, r->bucket,
                   r->config[0] ? r->config : "(none)", src, "-", "-", r->candidates, r->compiled, r->checked,
                   r->timed);
    }
}

static void print_totals(const eg_tune_stats *s, const char *what) {
    char an[16];
    eg_arch_print(s->arch, an, sizeof an);
    printf("%s %d problem%s for %s in %.1f s: %d candidates (%d more pruned before compiling), %d compiled "
           "(NVRTC %.1f s of thread time, %.1f s waited on), %d cubins reused, %d checked (%.1f s), %d timed "
           "(%.1f s), %d resumed, %d failed\n",
           what, s->n_results, s->n_results == 1 ? "" : "s", an, s->wall_s, s->candidates, s->pruned,
           s->compiled, s->compile_s, s->compile_wait_s, s->reused, s->checked, s->check_s, s->timed, s->time_s,
           s->resumed, s->compile_failed + s->check_failed);
    if (s->db_path[0]) printf("database: %s\n", s->db_path);
}

static int load_plan(const char *script, eg_tune_plan **plan) {
    char def[1024];
    if (!script) {
        effgen_status st = eg_lua_default_script(def, sizeof def);
        if (st) return fail("tune", st);
        script = def;
    }
    effgen_status st = eg_lua_plan_load(script, plan);
    if (st) return fail("tune", st);
    return 0;
}

int eg_cli_tune(int argc, char **argv) {
    const char *script = NULL, *db = NULL, *json = NULL, *strategy = NULL;
    eg_tune_options o;
    memset(&o, 0, sizeof o);
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v;
        if (is_help(s)) {
            printf(
                "usage: effgen tune [--arch sm_XX] [--script FILE] [--db PATH] [--jobs N] [--shard i/n]\n"
                "                   [--json FILE] [--strategy NAME] [--reps N] [--offline] [--dry-run] [--quiet]\n"
                "Search the tile configs of the problems a tuning script declares (default: default.lua) and\n"
                "store kernels, measurements and winners in the kernel database. Candidates are pruned by the\n"
                "arch's limits and the script's constraints, compiled on N threads (default: all cores),\n"
                "checked against the reference and timed on the GPU. Where the GPU is not of --arch (or there\n"
                "is none, or --offline), the cost model picks the winners and only they are compiled.\n"
                "An interrupted tune started again skips what it already measured.\n"
                "  --arch sm_XX      target (default: the GPU's, sm_90a on a 9.0 GPU; without a GPU sm_90).\n"
                "                    For sm_90a the script's wg_space adds candidates of the Hopper warpgroup\n"
                "                    family to the specs it implements (head dims 64, 128, 256, no variant)\n"
                "  --db PATH         database (default: $EFFGEN_DB, else $XDG_CACHE_HOME/effgen/kernels.db)\n"
                "  --strategy NAME   exhaustive, topk[:K], random[:BUDGET[:SEED]] or script (default: the\n"
                "                    script's own, else exhaustive)\n"
                "  --shard i/n       tune every n-th spec starting at i (0-based); combine the databases of\n"
                "                    the shards with effgen db merge\n"
                "  --reps N          timed launches per candidate (default 20)\n"
                "  --json FILE       summary per problem: winner, ms, TFLOP/s, counts, seconds\n"
                "  --dry-run         list problems, candidates and the model's picks; compile nothing\n");
            return 0;
        } else if (!strcmp(s, "--arch")) {
            if (!(v = value(argc, argv, &i))) return 2;
            if (eg_arch_parse(v, &o.arch)) return fail("tune --arch", EFFGEN_PARSE);
        } else if (!strcmp(s, "--script")) {
            if (!(script = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--db")) {
            if (!(db = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--json")) {
            if (!(json = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--strategy")) {
            if (!(strategy = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--jobs")) {
            if (!(v = value(argc, argv, &i)) || !eg_cli_positive("--jobs", v, &o.jobs)) return 2;
        } else if (!strcmp(s, "--reps")) {
            if (!(v = value(argc, argv, &i)) || !eg_cli_positive("--reps", v, &o.reps)) return 2;
        } else if (!strcmp(s, "--shard")) {
            if (!(v = value(argc, argv, &i))) return 2;
            int a = -1, b = -1;
            char tail;
            if (sscanf(v, "%d/%d%c", &a, &b, &tail) != 2 || b < 1 || a < 0 || a >= b) {
                fprintf(stderr, "effgen tune: --shard \"%s\": expected i/n with 0 <= i < n\n", v);
                return 2;
            }
            o.shard = a;
            o.shards = b;
        } else if (!strcmp(s, "--offline")) {
            o.offline = 1;
        } else if (!strcmp(s, "--dry-run")) {
            o.dry_run = 1;
        } else if (!strcmp(s, "--quiet")) {
            quiet = 1;
        } else {
            fprintf(stderr, "effgen tune: unknown option %s (see --help)\n", s);
            return 2;
        }
    }
    eg_tune_strategy strat;
    if (strategy) {
        if (eg_tune_strategy_parse(strategy, &strat)) return fail("tune --strategy", EFFGEN_PARSE);
        o.strategy = &strat;
    }
    o.db_path = db;
    o.progress = quiet ? 0 : isatty(2) ? 2 : 1;
    eg_tune_plan *plan = NULL;
    int rc = load_plan(script, &plan);
    if (rc) return rc;
    eg_tune_stats stats;
    effgen_status st = eg_tune_run_plan(plan, &o, &stats);
    if (!st || stats.n_results) {
        if (o.dry_run) {
            printf("%-34s %7s %-22s %6s %6s %6s  %s\n", "spec", "bucket", "problem", "cands", "pruned", "chosen",
                   "model's pick");
            for (int i = 0; i < stats.n_results; i++) {
                const eg_tune_result *r = &stats.results[i];
                printf("%-34s %7d %-22s %6d %6d %6d  %s\n", r->spec, r->bucket, r->problem, r->candidates, r->pruned,
                       r->selected, r->model_config);
            }
            printf("dry run: %d problems, %d candidates, %d to measure\n", stats.n_results, stats.candidates,
                   stats.selected);
        } else if (!st) {
            if (stats.offline) {
                char an[16];
                eg_arch_print(stats.arch, an, sizeof an);
                printf("no GPU of %s to measure on: winners picked by the cost model (source=model)\n", an);
            }
            print_results(&stats);
            print_totals(&stats, "tuned");
        }
    }
    if (!st && json) st = eg_tune_write_json(&stats, json);
    rc = st ? fail("tune", st) : 0;
    eg_tune_stats_free(&stats);
    eg_lua_plan_free(plan);
    return rc;
}

int eg_cli_pack(int argc, char **argv) {
    const char *script = NULL, *out = NULL, *from = NULL, *json = NULL, *list = NULL;
    int jobs = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v;
        if (is_help(s)) {
            printf("usage: effgen pack --arch sm_80,sm_86,sm_89,sm_90 -o FILE [--from DB] [--script FILE]\n"
                   "                   [--jobs N] [--json FILE] [--quiet]\n"
                   "Build a shippable kernel database: for each arch, the measured winners of DB (with their\n"
                   "cubins) where it has them for this generator and NVRTC, and the cost model's picks,\n"
                   "compiled by NVRTC (no GPU needed), for every other problem of the script (default:\n"
                   "default.lua). FILE is replaced only once the pack is complete. A program opening its\n"
                   "context on FILE (options.db or EFFGEN_DB) runs with no NVRTC installed.\n");
            return 0;
        } else if (!strcmp(s, "--arch")) {
            if (!(list = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
            if (!(out = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--from")) {
            if (!(from = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--script")) {
            if (!(script = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--json")) {
            if (!(json = value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--jobs")) {
            if (!(v = value(argc, argv, &i)) || !eg_cli_positive("--jobs", v, &jobs)) return 2;
        } else if (!strcmp(s, "--quiet")) {
            quiet = 1;
        } else {
            fprintf(stderr, "effgen pack: unknown option %s (see --help)\n", s);
            return 2;
        }
    }
    if (!list || !out) {
        fprintf(stderr, "effgen pack: --arch LIST and -o FILE are required (see --help)\n");
        return 2;
    }
    int archs[32], n = 0;
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[32];
        if (len == 0 || len >= sizeof one || n == 32) {
            fprintf(stderr, "effgen pack: --arch \"%s\": expected a comma-separated list like sm_80,sm_90\n", list);
            return 2;
        }
        memcpy(one, p, len);
        one[len] = 0;
        if (eg_arch_parse(one, &archs[n])) return fail("pack --arch", EFFGEN_PARSE);
        n++;
        p = comma ? comma + 1 : p + len;
    }
    eg_tune_plan *plan = NULL;
    int rc = load_plan(script, &plan);
    if (rc) return rc;
    eg_pack_options po;
    memset(&po, 0, sizeof po);
    po.archs = archs;
    po.n_archs = n;
    po.out_path = out;
    po.from_path = from;
    po.jobs = jobs;
    po.quiet = quiet;
    eg_tune_stats stats;
    effgen_status st = eg_tune_pack(plan, &po, &stats);
    if (!st) {
        print_results(&stats);
        printf("packed %d winners for %d arch%s into %s in %.1f s (%d compiled, %d reused)\n", stats.n_results, n,
               n == 1 ? "" : "s", out, stats.wall_s, stats.compiled, stats.reused);
    }
    if (!st && json) st = eg_tune_write_json(&stats, json);
    rc = st ? fail("pack", st) : 0;
    eg_tune_stats_free(&stats);
    eg_lua_plan_free(plan);
    return rc;
}
