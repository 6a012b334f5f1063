/* SPDX-License-Identifier: MIT */
/* internal.h: what library files share and users never see. */
#ifndef CG_INTERNAL_H
#define CG_INTERNAL_H

#include "cgrad.h"
#include <stdarg.h>

#if defined(__GNUC__)
#define CG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CG_PRINTF(a, b)
#endif

/* Record an error message (printf-style) and return `code`, so a failing
 * function can `return cg_error(CG_ERR_SHAPE, "...", ...)`. */
int cg_error(int code, const char *fmt, ...) CG_PRINTF(2, 3);
/* The same, for functions returning a pointer: records and returns NULL. */
void *cg_error_null(int code, const char *fmt, ...) CG_PRINTF(2, 3);
/* The code of the last error (CG_OK if none). */
int cg_last_error_code(void);

/* cg_backward with d(cost)/d(cost) = seed instead of 1 (data-parallel
 * training seeds each rank with its share of the global batch). */
int cg_backward_seeded(cg_node *cost, cg_real seed);

/* A collective sum across the processes that train one model together
 * (data-parallel ranks): sum(ctx, buf, n) replaces buf[0..n) by the
 * elementwise sum over every process, the same on each, and returns CG_OK
 * or an error code. Core and ops know only this hook; the distributed
 * layer (src/dist) provides it, so nothing below it includes MPI. */
typedef struct cg_collective {
    int (*sum)(void *ctx, cg_real *buf, size_t n);
    int (*sum_double)(void *ctx, double *buf, size_t n); /* sums kept in double */
    void *ctx;
} cg_collective;

/* While training, batch norm sums its batch statistics (and their
 * gradients) with c: the statistics of the global batch (PyTorch's
 * SyncBatchNorm). c is copied; NULL (or c->sum NULL) = each process's own
 * batch. */
void cg_graph_set_collective(cg_graph *g, const cg_collective *c);

/* Seconds on the monotonic clock (clock.c): differences time steps, ops
 * and trials. */
double cg_seconds(void);

/* mkdir -p (src/io/rundir.c): CG_ERR_IO naming dir when it cannot be made
 * or is not a directory. */
int cg_make_dirs(const char *dir);

/* How many parts work that threads share is cut into (matmul.c, conv.c,
 * the sums): the machine's core count, fixed for the process. The parts
 * never depend on the threads running now, so neither do the results
 * (threads.c may change the thread count between steps). */
int cg_thread_parts(void);

/* Where the tuner reads the time and the machine's idle CPU time: the
 * clock (cg_seconds) and /proc/stat, unless a test simulates a machine
 * (tests/test_thread_tuner.c). cpu_times gives the CPU time since boot of
 * all cores, *idle and *total, in any one unit; 0 where unknown. */
typedef struct cg_thread_sources {
    double (*seconds)(void);
    int (*cpu_times)(double *idle, double *total);
} cg_thread_sources;

/* The adaptive thread count of cg_set_threads(0), one per training loop
 * (fit.c): cg_thread_tuner_begin/_end around each step, _done after the
 * last. Off (every call a no-op) after cg_set_threads(n > 0), on a
 * machine of one core, or inside a parallel region. */
typedef struct cg_thread_tuner {
    cg_thread_sources src;
    int on, full;      /* adapting; the most threads */
    int cur, trial;    /* threads of the steps now; of the probe (0: none) */
    int skip, steps;   /* steps left to ignore after a switch; steps seen */
    int next, gap;     /* step of the next probe; steps between probes */
    int switches;      /* how often cur changed */
    int probes;        /* probes so far (their direction alternates) */
    double t0;         /* start of the step being timed */
    double idle0, total0; /* /proc/stat's idle and total CPU time then */
    double at0;        /* ... read at this time (0: not yet) */
    double spent;      /* seconds of all steps, and of the probes' */
    double probe_spent;
    double cost[5];    /* seconds per example of cur's latest steps */
    double ref;        /* their median when the last probe ended */
    int n_cost;
    double probe[5];   /* ... and of the probe's */
    int n_probe;
    int generation;    /* cg_set_threads calls before init */
} cg_thread_tuner;

/* Its constants (threads.c says why each): steps a probe times; steps
 * left untimed when more threads start; steps between probes, fewest and
 * most; the share of the current count's time a probe must beat; the
 * share of the training time probes of more threads may take; seconds
 * between two readings of /proc/stat. */
#define CG_TUNER_PROBE_STEPS 5
#define CG_TUNER_UP_SKIP 3
#define CG_TUNER_MIN_GAP 16
#define CG_TUNER_MAX_GAP 4096
#define CG_TUNER_WIN 0.95
#define CG_TUNER_BUDGET 0.03
#define CG_TUNER_MIN_READ 0.1

void cg_thread_tuner_init(cg_thread_tuner *tu);
/* The same with the time and idle CPU time read from src (copied). */
void cg_thread_tuner_init_sources(cg_thread_tuner *tu, const cg_thread_sources *src);
void cg_thread_tuner_begin(cg_thread_tuner *tu);
void cg_thread_tuner_end(cg_thread_tuner *tu, int examples);
void cg_thread_tuner_done(cg_thread_tuner *tu);

/* The same for a graph's inference loops (cg_predict, cg_evaluate,
 * cg_predict_graph, cg_evaluate_graph): _begin/_end around each batch,
 * _done before returning (it leaves the count at the tuner's choice). One
 * tuner per graph, kept across calls, so a program that predicts again
 * and again goes on adapting; made anew after a cg_set_threads. Not for
 * training's own evaluation passes: those run at the count its tuner
 * chose. */
void cg_infer_threads_begin(cg_graph *g);
void cg_infer_threads_end(cg_graph *g, int examples);
void cg_infer_threads_done(cg_graph *g);

/* The library's allocator: counts every allocation (see cg_alloc_count). */
void *cg_malloc(size_t n);
void *cg_calloc(size_t count, size_t size);
void *cg_realloc(void *p, size_t n);
void cg_free(void *p);
char *cg_strdup(const char *s);

#endif
