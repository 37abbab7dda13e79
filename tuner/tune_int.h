/* tune_int.h - what the tuner's own files share: the pool of host threads that compiles candidates
 * ahead of the GPU work, and small helpers. Not part of any interface outside tuner/. */
#ifndef EG_TUNE_INT_H
#define EG_TUNE_INT_H

#include "autotune.h"
#include "rt.h"

/* One kernel to compile (or already at hand: state done with from_db set). */
typedef struct eg_tune_job {
    eg_spec spec; /* arch = the target */
    eg_config config;
    int state;    /* 0 waiting, 1 compiling, 2 done */
    int from_db;  /* the cubin came from the database: no compile */
    effgen_status st;
    char *err;    /* malloc'd failure text when st != OK */
    eg_rt_cubin cubin;
} eg_tune_job;

typedef struct eg_tune_pool eg_tune_pool;

/* Start `threads` workers over jobs[0, n) in order; a worker never runs more than `window` jobs ahead
 * of the highest job taken, which bounds the cubins held in memory. threads <= 0 (or a failed
 * pthread_create) compiles on the taking thread instead. */
effgen_status eg_tune_pool_start(eg_tune_job *jobs, int n, int threads, int window, eg_tune_pool **out);
/* Wait until job i is done and return it (jobs taken out of order are fine). */
eg_tune_job *eg_tune_pool_take(eg_tune_pool *p, int i);
/* Stop the workers (pending jobs are dropped), join them and free the pool; NULL is a no-op. The jobs
 * stay the caller's: free their cubins and texts with eg_tune_jobs_free. */
void eg_tune_pool_stop(eg_tune_pool *p);
void eg_tune_jobs_free(eg_tune_job *jobs, int n);

/* Seconds on the monotonic clock. */
double eg_tune_now(void);

#endif
