/* autotune.h - the autotuner: a plan (problems, search space, limits, strategy) in, winners out, with
 * kernels, measurements and winners stored in the kernel database. Online the candidates are compiled,
 * checked and timed on the GPU; offline the cost model ranks them. Plans come from tuning scripts
 * (lua/eg_lua.h) or are built in C. */
#ifndef EG_AUTOTUNE_H
#define EG_AUTOTUNE_H

#include <stdint.h>
#include <stdio.h>

#include "cg.h"
#include "db.h"

#define EG_TUNE_MAX_VALUES 16

/* One problem to tune: a spec and a sequence-length bucket, with the representative shape that is timed
 * for the bucket. */
typedef struct eg_tune_problem {
    eg_spec spec;   /* arch is ignored in a plan: the run sets its target arch */
    int bucket;     /* the largest seqlen_k the winner serves */
    int batch, heads, seqlen_q, seqlen_k;
} eg_tune_problem;

/* The search space of the mma family: the cross product of these lists. */
typedef struct eg_tune_space {
    int block_m[EG_TUNE_MAX_VALUES], n_block_m;
    int block_n[EG_TUNE_MAX_VALUES], n_block_n;
    int warps[EG_TUNE_MAX_VALUES], n_warps;
    int stages[EG_TUNE_MAX_VALUES], n_stages;
    int dsplit[EG_TUNE_MAX_VALUES], n_dsplit; /* 0 and/or 2 (warps in pairs, ".d2"); none given: {0} */
} eg_tune_space;

/* The search space of the Hopper warpgroup family: consumer warpgroups (block_m = 64 * consumers), keys
 * per tile and stages. Its candidates join the mma family's only where the target is sm_90a and the
 * family implements the problem's spec (eg_model_wg_supported); all lists empty: none. */
typedef struct eg_tune_wg_space {
    int consumers[EG_TUNE_MAX_VALUES], n_consumers;
    int block_n[EG_TUNE_MAX_VALUES], n_block_n;
    int stages[EG_TUNE_MAX_VALUES], n_stages;
} eg_tune_wg_space;

/* Declarative limits by the cost model, applied before compiling; 0 means no limit of the plan's own
 * (the arch's limits always apply). */
typedef struct eg_tune_limits {
    int max_smem;      /* dynamic shared memory per CTA, bytes */
    int max_registers; /* the model's register estimate per thread */
    int min_occupancy; /* the model's resident CTAs per SM */
} eg_tune_limits;

typedef enum eg_tune_kind {
    EG_TUNE_EXHAUSTIVE = 0, /* measure every candidate */
    EG_TUNE_TOPK = 1,       /* the k best by eg_model_estimate */
    EG_TUNE_RANDOM = 2,     /* budget candidates drawn with seed */
    EG_TUNE_SCRIPT = 3      /* the plan's strategy hook chooses, measuring as it likes */
} eg_tune_kind;

typedef struct eg_tune_strategy {
    eg_tune_kind kind;
    int k;         /* top-k */
    int budget;    /* random */
    uint64_t seed; /* random */
} eg_tune_strategy;

/* Parses "exhaustive", "topk", "topk:K", "random", "random:BUDGET", "random:BUDGET:SEED" or "script"
 * (defaults: k 8, budget 16, seed 1). */
effgen_status eg_tune_strategy_parse(const char *text, eg_tune_strategy *out);

typedef struct eg_tune_run eg_tune_run;

/* What a script adds to a plan. Either hook may be NULL. */
typedef struct eg_tune_hooks {
    void *ud;
    /* Sets *keep. An error status (text "file:line: ...") stops the tune before anything is written. */
    effgen_status (*constraint)(void *ud, const eg_tune_problem *p, const eg_config *c, int *keep);
    /* Chooses a config among cands for p (p->spec.arch is the target), measuring with eg_tune_measure as
     * it likes. */
    effgen_status (*strategy)(void *ud, eg_tune_run *run, const eg_tune_problem *p, const eg_config *cands, int n,
                              eg_config *chosen);
} eg_tune_hooks;

typedef struct eg_tune_plan {
    char source[256]; /* the script, for messages ("" for a plan built in C) */
    eg_tune_problem *problems;
    int n_problems;
    eg_tune_space space;
    eg_tune_wg_space wg_space;
    eg_tune_limits limits;
    eg_tune_strategy strategy;
    eg_tune_hooks hooks;
    char where_space[300]; /* "file:line" of the declarations, named when no candidate is left */
    char where_constraint[300];
} eg_tune_plan;

/* The candidates of a problem for the target arch p->spec.arch, in space order (block_m outermost,
 * stages innermost), then on sm_90a for a spec the wg family implements those of the wg space
 * (consumers outermost, stages innermost): *out malloc'd (NULL when none). pruned counts those rejected
 * by the arch's limits, the plan's limits and the constraint. Calls the constraint hook; its errors are
 * returned. */
effgen_status eg_tune_candidates(const eg_tune_plan *plan, const eg_tune_problem *p, eg_config **out, int *n,
                                 int pruned[3]);

/* Which candidates a non-script strategy measures: indexes into cands written to idx (room for n),
 * *m set. Top-k: the k first in the model's order (eg_tune_model_order), best first; random: a
 * reproducible draw from (seed, p's spec and bucket); exhaustive: all, in order. */
effgen_status eg_tune_select(const eg_tune_strategy *s, const eg_tune_problem *p, const eg_config *cands, int n,
                             int *idx, int *m);

/* Model estimate (microseconds) of c on p's representative shape. */
double eg_tune_estimate(const eg_tune_problem *p, const eg_config *c);
/* The model's order of candidates: those of the family the model chooses for p's spec (eg_model_family:
 * wg on sm_90a where it implements the spec) first, then by eg_tune_estimate; ties keep the given order.
 * Whether a (estimate ea) comes strictly before b (estimate eb). */
int eg_tune_model_before(const eg_tune_problem *p, const eg_config *a, double ea, const eg_config *b, double eb);

/* For script strategies, during eg_tune_run only: compile (or fetch), check and time c on p; *ms is the
 * median. A candidate that fails (compile, check, launch) returns EFFGEN_OK with *ms = -1 and the reason
 * in reason; an error status means the tune cannot go on. Already measured pairs are read back. */
effgen_status eg_tune_measure(eg_tune_run *run, const eg_tune_problem *p, const eg_config *c, double *ms,
                              char *reason, size_t reason_size);

typedef struct eg_tune_options {
    int arch;                          /* target (80, 90, EG_ARCH_SM90A, ...); 0: eg_rt_default_arch of the
                                        * device (sm_90a on a 9.0 device), or 90 without one */
    const char *db_path;               /* NULL: eg_db_default_path */
    int jobs;                          /* compile threads; 0: the number of cores */
    int shard, shards;                 /* tune shard `shard` of `shards` (0 of 0 or 1: everything) */
    int offline;                       /* 1: pick by the model even when a GPU of the arch is present */
    int dry_run;                       /* enumerate and report only: no compile, no GPU, no database */
    int reps;                          /* timed launches per candidate; 0: 20 */
    const eg_tune_strategy *strategy;  /* overrides the plan's; NULL: the plan's */
    int progress;                      /* 0: quiet, 1: a line per problem, 2: a bar with ETA */
    FILE *log;                         /* progress and notes; NULL: stderr */
} eg_tune_options;

/* The outcome for one problem. */
typedef struct eg_tune_result {
    char spec[EG_KEY_MAX];
    char problem[96];
    int bucket;
    char config[64];   /* the winner ("" when none) */
    double ms, tflops; /* of the winner; 0 for model picks */
    eg_db_source source;
    int kept;          /* offline: a measured winner already in the database was kept */
    int candidates, pruned, selected;
    int compiled, reused, compile_failed, checked, check_failed, timed, resumed, remeasured;
    double compile_s, check_s, time_s; /* compile: NVRTC time of the kernels first needed here */
    /* for judging strategies after an exhaustive run: the model's single pick and the best of its top 8,
     * as measured ("" when not measured) */
    char model_config[64], top8_config[64];
    double model_ms, top8_ms;
} eg_tune_result;

typedef struct eg_tune_stats {
    int arch, offline, dry_run;
    char device[256];
    char db_path[1024];
    eg_tune_result *results;
    int n_results;
    /* totals; compiled counts NVRTC compiles done by this run, reused cubins taken from the database */
    int candidates, pruned, selected, compiled, reused, compile_failed, checked, check_failed, timed, resumed;
    double wall_s, compile_s, compile_wait_s, check_s, time_s;
} eg_tune_stats;

/* Tune every problem of the plan (or of this shard) for opt->arch. Nothing is written before the whole
 * plan has been enumerated and checked (a script error or a problem with no candidate left fails first).
 * stats may be NULL; otherwise release it with eg_tune_stats_free. */
effgen_status eg_tune_run_plan(const eg_tune_plan *plan, const eg_tune_options *opt, eg_tune_stats *stats);
void eg_tune_stats_free(eg_tune_stats *s);
/* The --json summary. */
effgen_status eg_tune_write_json(const eg_tune_stats *s, const char *path);

typedef struct eg_pack_options {
    const int *archs;
    int n_archs;
    const char *out_path;  /* written to a temporary file and renamed when complete */
    const char *from_path; /* NULL: no source database; measured winners are copied from it */
    int jobs;
    FILE *log; /* NULL: stderr */
    int quiet;
} eg_pack_options;

/* Build a shippable database: for each arch, the measured winners (with cubins) of the source database
 * built by this generator and NVRTC, and model picks compiled for every other problem of the plan.
 * stats (may be NULL) accumulates over the archs. */
effgen_status eg_tune_pack(const eg_tune_plan *plan, const eg_pack_options *opt, eg_tune_stats *stats);

/* Canonical problem text "b16.h16.nq1024.nk1024". */
void eg_tune_problem_print(const eg_tune_problem *p, char *buf, size_t size);

#endif
