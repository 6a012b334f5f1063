/* SPDX-License-Identifier: MIT */
/* train.h: what the training loop (fit.c) and evaluation (evaluate.c)
 * share and users never see. */
#ifndef CG_TRAIN_H
#define CG_TRAIN_H

#include "internal.h"

/* The index of the largest of row[0..c) (the first on ties). */
int cg_train_row_argmax(const cg_real *row, int c);

/* Number of the n rows of scores [n, c] whose argmax equals the label. */
long cg_train_count_correct(const cg_real *scores, const cg_real *labels, int n, int c);

/* ds fits m: not empty, m's feature count, labels within its classes.
 * fn and what ("training") name the caller and the set in messages. */
int cg_train_check_data(cg_model *m, const cg_dataset *ds, const char *fn, const char *what);

/* Gather rows idx[0..n) of ds, normalised by nz, into m's placeholders. */
int cg_train_feed_batch(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                        const int *idx, int n);

/* Mean loss and accuracy over ds in inference mode, in batches of `batch`
 * using idx_buf [batch], and (conf not NULL, one rank) the confusion
 * counts; with several ranks in d (may be NULL), each takes its share of
 * the rows and the sums are reduced. */
int cg_train_evaluate_rows(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                           int batch, int *idx_buf, cg_dist *d, double *loss, double *acc,
                           long *conf);

/* The largest input magnitude the loop accepts: 2^64, the square root of
 * FLT_MAX (up to rounding), so that squares (batch-norm variance, gradient
 * norms) and products of two such values (x times a gradient) stay
 * finite. Larger values overflow in the first forward pass. */
#define CG_FIT_VALUE_LIMIT 18446744073709551616.0

/* --- Metrics (metrics.c) --- */

/* Running sums of a fit's metrics: each metric keeps a few (an error sum
 * and a count, a correct count, per-column sums for R2), all in one array
 * of n_sums doubles, so that ranks reduce them in one call and a set's
 * metric is exact, not a mean of batch values. */
typedef struct cg_metric_sums {
    int n;                          /* metrics                              */
    cg_metric m[CG_MAX_METRICS];    /* names filled in                      */
    const char *names[CG_MAX_METRICS];
    int cols[CG_MAX_METRICS];       /* pred's values per row                */
    int tcols[CG_MAX_METRICS];      /* target's (0 without one)             */
    size_t off[CG_MAX_METRICS + 1]; /* metric i's sums: [off[i], off[i+1])  */
} cg_metric_sums;

/* Check metrics m[0..n) (fn names the caller) and lay out their sums. */
int cg_metric_sums_init(cg_metric_sums *s, const cg_metric *m, int n, const char *fn);
/* Add the k rows now in the metric nodes' values to sums[0..off[n]). */
int cg_metric_accumulate(const cg_metric_sums *s, double *sums, int k);
/* Each metric's value from its sums (NaN with no rows). */
void cg_metric_values(const cg_metric_sums *s, const double *sums, double *out);
/* 1 if higher values of metric i are better. */
int cg_metric_maximize(const cg_metric_sums *s, int i);

/* --- The loop (fit.c): what cg_fit and cg_fit_graph give it --- */

typedef struct cg_fit_task cg_fit_task;
struct cg_fit_task {
    const char *fn;        /* "cg_fit", "cg_fit_graph": names the caller   */
    cg_graph *g;
    cg_node *loss;
    /* Put rows idx[0..k) of `set` (train or val) in the placeholders. */
    int (*feed)(const cg_fit_task *t, const void *set, const int *idx, int k);
    const void *ctx;       /* for feed: cg_fit's normaliser              */
    const void *train, *val; /* val NULL: none                          */
    int n_train, n_val;
    cg_metric_sums ms;
    int acc_metric;        /* reported as train_acc / val_acc, or -1      */
    int monitor;           /* the metric watched, or -1: the loss         */
    char monitor_name[48]; /* "val_acc"                                   */
    int classes;           /* cg_fit: rule 3 uses ln classes              */
    double baseline;       /* cg_fit_graph: rule 3 uses this instead      */
    /* cg_fit_graph's variables held fixed: ranges of the parameter
     * buffer [frozen[2i], frozen[2i] + frozen[2i+1]). */
    size_t *frozen;
    int n_frozen;
};

/* cg_fit's task (classifier.c): m's graph, fed from cg_datasets through
 * nz, accuracy as its metric "acc" and the monitored value. ctx holds m
 * and nz for the feed and must outlive t. */
typedef struct cg_classifier_ctx {
    cg_model *m;
    const cg_normalizer *nz;
} cg_classifier_ctx;
int cg_train_classifier_task(cg_model *m, const cg_normalizer *nz, cg_classifier_ctx *ctx,
                             cg_fit_task *t);

/* Fail with CG_ERR_ARG on options out of range. */
int cg_fit_check_options(const cg_fit_options *opt, const char *fn);
/* The loop: t filled, its data checked; opt not NULL. */
int cg_fit_run(const cg_fit_task *t, cg_optimizer *o, const cg_fit_options *opt,
               cg_fit_result *res);
/* The mean loss over set's n rows and its metric sums (sums[ms.off[n]],
 * may be NULL; zeroed here), in inference mode, in batches of `batch`
 * using idx_buf [batch]; with several ranks in d (may be NULL) each takes
 * its share and the sums are reduced. after_batch (may be NULL) sees each
 * batch of k rows after its forward pass (one rank). adapt: the thread
 * count adapts to the load (cg_infer_threads_begin); 0 inside training,
 * whose own tuner chose it. */
int cg_fit_evaluate(const cg_fit_task *t, const void *set, int n, int batch, int *idx_buf,
                    cg_dist *d, double *loss, double *sums,
                    void (*after_batch)(void *user, int k), void *user, int adapt);

#endif
