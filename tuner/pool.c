/* pool.c - compiling candidates on host threads. NVRTC is the slow part of a tune and eg_rt_compile is
 * thread-safe, so workers compile the job list in order while the tuner's thread checks and times the
 * kernels already done; a window keeps the workers from running arbitrarily far ahead. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tune_int.h"

#define MAX_THREADS 128

struct eg_tune_pool {
    eg_tune_job *jobs;
    int n, next, taken, window, stop;
    pthread_mutex_t mu;
    pthread_cond_t done, space;
    pthread_t th[MAX_THREADS];
    int nthreads;
};

double eg_tune_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Compile one job; the error text is per thread, so it is copied into the job. */
static void compile_job(eg_tune_job *j) {
    j->st = eg_rt_compile(&j->spec, &j->config, j->spec.arch, &j->cubin);
    if (j->st) j->err = strdup(effgen_last_error());
}

/* Next job a worker may start, or -1 to exit. Caller holds the lock. */
static int claim(eg_tune_pool *p) {
    for (;;) {
        while (p->next < p->n && p->jobs[p->next].state != 0) p->next++;
        if (p->stop || p->next >= p->n) return -1;
        if (p->next < p->taken + p->window) break;
        pthread_cond_wait(&p->space, &p->mu);
    }
    p->jobs[p->next].state = 1;
    return p->next++;
}

static void *worker(void *arg) {
    eg_tune_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        int i = claim(p);
        if (i < 0) break;
        pthread_mutex_unlock(&p->mu);
        compile_job(&p->jobs[i]);
        pthread_mutex_lock(&p->mu);
        p->jobs[i].state = 2;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

effgen_status eg_tune_pool_start(eg_tune_job *jobs, int n, int threads, int window, eg_tune_pool **out) {
    *out = NULL;
    eg_tune_pool *p = calloc(1, sizeof *p);
    if (!p) return eg_err(EFFGEN_NO_MEMORY, "tune: out of memory for the compile pool");
    p->jobs = jobs;
    p->n = n;
    p->window = window < 1 ? 1 : window;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_cond_init(&p->space, NULL);
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > n) threads = n;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&p->th[p->nthreads], NULL, worker, p) == 0) p->nthreads++;
    *out = p;
    return EFFGEN_OK;
}

eg_tune_job *eg_tune_pool_take(eg_tune_pool *p, int i) {
    eg_tune_job *j = &p->jobs[i];
    pthread_mutex_lock(&p->mu);
    if (i + 1 > p->taken) {
        p->taken = i + 1;
        pthread_cond_broadcast(&p->space);
    }
    if (j->state == 0) {
        /* nobody has started it: compiling here beats waiting for a worker to get that far */
        j->state = 1;
        pthread_mutex_unlock(&p->mu);
        compile_job(j);
        pthread_mutex_lock(&p->mu);
        j->state = 2;
        pthread_cond_broadcast(&p->done);
    }
    while (j->state != 2) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return j;
}

void eg_tune_pool_stop(eg_tune_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->space);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->space);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void eg_tune_jobs_free(eg_tune_job *jobs, int n) {
    if (!jobs) return;
    for (int i = 0; i < n; i++) {
        eg_rt_cubin_free(&jobs[i].cubin);
        free(jobs[i].err);
    }
    free(jobs);
}
