/* pack.c - a shippable kernel database: for each arch, the measured winners (with their cubins) of a
 * source database where it has them for this build, and the cost model's picks, compiled offline, for
 * every other problem of the plan. Written to a temporary file and renamed only when complete, so a
 * failed pack never leaves a half-filled database under the requested name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune_int.h"

typedef struct winners {
    eg_db_winner *w;
    int n, cap;
    const int *archs;
    int n_archs;
    const eg_db_build *build;
    int oom;
} winners;

static int want_winner(const eg_db_winner *w, void *arg) {
    winners *ws = arg;
    if (w->source != EG_DB_MEASURED) return 0;
    if (strcmp(w->build.generator, ws->build->generator) || strcmp(w->build.nvrtc, ws->build->nvrtc)) return 0;
    int arch_ok = 0;
    for (int i = 0; i < ws->n_archs; i++) arch_ok |= ws->archs[i] == w->arch;
    if (!arch_ok) return 0;
    if (ws->n == ws->cap) {
        int cap = ws->cap ? 2 * ws->cap : 64;
        eg_db_winner *nw = realloc(ws->w, sizeof *nw * (size_t)cap);
        if (!nw) {
            ws->oom = 1;
            return 1;
        }
        ws->w = nw;
        ws->cap = cap;
    }
    ws->w[ws->n++] = *w;
    return 0;
}

/* Copy the measured winners of src for the archs (and this build) with their cubins into dst. */
static effgen_status copy_measured(eg_db *dst, const char *src_path, const eg_pack_options *opt,
                                   const eg_db_build *build, int *kept, FILE *log) {
    eg_db *src = NULL;
    effgen_status st = eg_db_open(src_path, 1, &src);
    if (st) return eg_err_wrap(st, "pack --from");
    winners ws = {NULL, 0, 0, opt->archs, opt->n_archs, build, 0};
    st = eg_db_winner_each(src, want_winner, &ws);
    if (!st && ws.oom) st = eg_err(EFFGEN_NO_MEMORY, "pack: out of memory reading winners");
    for (int i = 0; i < ws.n && !st; i++) {
        eg_db_winner *w = &ws.w[i];
        eg_db_kernel k;
        memset(&k, 0, sizeof k);
        int found = 0;
        if ((st = eg_db_kernel_get(src, w->spec, w->config, w->arch, &w->build, &k, &found))) break;
        if (!found) {
            char an[16];
            eg_arch_print(w->arch, an, sizeof an);
            if (!opt->quiet)
                fprintf(log, "effgen pack: %s bucket %d (%s): measured winner %s has no cubin in %s; the model "
                             "picks instead\n",
                        w->spec, w->bucket, an, w->config, src_path);
            continue;
        }
        st = eg_db_kernel_put(dst, &k);
        free(k.cubin);
        if (!st) st = eg_db_winner_put(dst, w);
        if (!st) (*kept)++;
    }
    free(ws.w);
    eg_db_close(src);
    return st;
}

/* Append the results and add the totals of one arch's run to the pack's stats. */
static effgen_status merge_stats(eg_tune_stats *into, const eg_tune_stats *one) {
    int n = into->n_results + one->n_results;
    eg_tune_result *r = realloc(into->results, sizeof *r * (size_t)(n ? n : 1));
    if (!r) return eg_err(EFFGEN_NO_MEMORY, "pack: out of memory");
    if (one->n_results) memcpy(r + into->n_results, one->results, sizeof *r * (size_t)one->n_results);
    into->results = r;
    into->n_results = n;
    into->candidates += one->candidates;
    into->pruned += one->pruned;
    into->selected += one->selected;
    into->compiled += one->compiled;
    into->reused += one->reused;
    into->compile_failed += one->compile_failed;
    into->compile_s += one->compile_s;
    into->compile_wait_s += one->compile_wait_s;
    return EFFGEN_OK;
}

static void remove_db_files(const char *path) {
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
}

effgen_status eg_tune_pack(const eg_tune_plan *plan, const eg_pack_options *opt, eg_tune_stats *stats) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (!plan || !opt || !opt->out_path || !opt->archs || opt->n_archs < 1)
        return eg_err(EFFGEN_INVALID_ARGUMENT, "pack: a plan, archs and an output path are required");
    for (int i = 0; i < opt->n_archs; i++) {
        char a[16];
        int parsed;
        eg_arch_print(opt->archs[i], a, sizeof a);
        effgen_status st = eg_arch_parse(a, &parsed);
        if (st) return eg_err_wrap(st, "pack");
    }
    FILE *log = opt->log ? opt->log : stderr;
    eg_db_build build;
    eg_rt_db_build(&build);
    if (!build.nvrtc[0])
        return eg_err(EFFGEN_NVRTC_UNAVAILABLE, "pack: NVRTC is needed to compile the kernels and was not found "
                                                "(set EFFGEN_NVRTC to the library)");
    size_t len = strlen(opt->out_path);
    char *tmp = malloc(len + 32);
    if (!tmp) return eg_err(EFFGEN_NO_MEMORY, "pack: out of memory");
    snprintf(tmp, len + 32, "%s.tmp-%ld", opt->out_path, (long)getpid());
    remove_db_files(tmp);

    eg_tune_stats local;
    eg_tune_stats *sts = stats ? stats : &local;
    memset(sts, 0, sizeof *sts);
    double t0 = eg_tune_now();
    eg_db *db = NULL;
    int kept = 0;
    effgen_status st = eg_db_open(tmp, 0, &db);
    if (!st && opt->from_path) st = copy_measured(db, opt->from_path, opt, &build, &kept, log);
    eg_db_close(db);
    db = NULL;
    if (!st && opt->from_path && !opt->quiet)
        fprintf(log, "effgen pack: kept %d measured winner%s from %s\n", kept, kept == 1 ? "" : "s", opt->from_path);

    /* every arch is an offline tune into the new file: measured winners already there are kept */
    for (int i = 0; i < opt->n_archs && !st; i++) {
        eg_tune_options to;
        memset(&to, 0, sizeof to);
        to.arch = opt->archs[i];
        to.db_path = tmp;
        to.jobs = opt->jobs;
        to.offline = 1;
        to.progress = opt->quiet ? 0 : 1;
        to.log = log;
        eg_tune_strategy ex = {EG_TUNE_EXHAUSTIVE, 8, 16, 1};
        to.strategy = &ex; /* offline ranks every candidate; a script's strategy never runs */
        eg_tune_stats one;
        st = eg_tune_run_plan(plan, &to, &one);
        if (!st) st = merge_stats(sts, &one);
        eg_tune_stats_free(&one);
    }
    if (!st) {
        remove_db_files(opt->out_path);
        if (rename(tmp, opt->out_path) != 0)
            st = eg_err(EFFGEN_IO, "pack: cannot rename %s to %s", tmp, opt->out_path);
    }
    if (st) remove_db_files(tmp);
    sts->arch = opt->archs[0];
    sts->offline = 1;
    snprintf(sts->db_path, sizeof sts->db_path, "%s", opt->out_path);
    sts->wall_s = eg_tune_now() - t0;
    if (!stats) eg_tune_stats_free(&local);
    free(tmp);
    return st;
}
