/* SPDX-License-Identifier: MIT */
/* fit.c: the training loop (cg_fit): mini-batches, data-parallel steps,
 * validation, early stopping, divergence checks. Progress goes to the
 * caller's on_progress (progress.c has the bar); evaluation is in
 * evaluate.c. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "train/train.h"
#include "dist/dist.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cg_fit_options_init(cg_fit_options *opt)
{
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->epochs = 10;
    opt->batch_size = 32;
    opt->restore_best = 1;
    opt->best_val_acc = NAN;
}

/* The weights and batch-norm statistics of the best epoch, for
 * restore_best. */
typedef struct snapshot {
    cg_real *params, *state;
    int taken;
} snapshot;

/* memcpy of n values; the buffers are NULL when n is 0. */
static void copy_values(cg_real *dst, const cg_real *src, size_t n)
{
    if (n) memcpy(dst, src, n * sizeof *dst);
}

static void snapshot_take(snapshot *s, cg_graph *g)
{
    copy_values(s->params, cg_graph_params(g), cg_graph_param_count(g));
    copy_values(s->state, cg_graph_state(g), cg_graph_state_count(g));
    s->taken = 1;
}

static void snapshot_restore(const snapshot *s, cg_graph *g)
{
    copy_values(cg_graph_params(g), s->params, cg_graph_param_count(g));
    copy_values(cg_graph_state(g), s->state, cg_graph_state_count(g));
}

/* --- Checks --- */

enum { CHECK_ROWS = 256 };

/* The largest feature magnitude cg_fit accepts: 2^64, the square root of
 * FLT_MAX (up to rounding), so that squares (batch-norm variance, gradient
 * norms) and products of two such values (x times a gradient) stay
 * finite. Larger values overflow in the first forward pass. */
#define FEATURE_LIMIT 18446744073709551616.0

/* Every feature value of ds, as the training steps will see it (normalised
 * by nz), is finite and at most FEATURE_LIMIT in magnitude: a raw value
 * near FLT_MAX, or a tiny standard deviation, overflows and would poison
 * every weight it meets. */
static int check_features(const cg_dataset *ds, const cg_normalizer *nz, const char *what)
{
    const int d = ds->d;
    cg_real *buf = cg_malloc((size_t)CHECK_ROWS * (size_t)d * sizeof *buf);
    int *idx = cg_malloc(CHECK_ROWS * sizeof *idx);
    int rc = CG_OK;
    if (!buf || !idx) rc = cg_error(CG_ERR_MEMORY, "cg_fit: out of memory");
    for (int start = 0; !rc && start < ds->n; start += CHECK_ROWS) {
        const int k = ds->n - start < CHECK_ROWS ? ds->n - start : CHECK_ROWS;
        for (int i = 0; i < k; i++) idx[i] = start + i;
        cg_dataset_gather(ds, nz, idx, k, buf, NULL);
        for (size_t j = 0; j < (size_t)k * (size_t)d; j++) {
            if (fabs((double)buf[j]) <= FEATURE_LIMIT) continue; /* false for NaN */
            const int row = start + (int)(j / (size_t)d), col = (int)(j % (size_t)d);
            const size_t at = (size_t)row * (size_t)d + (size_t)col;
            const double raw = ds->x_f32 ? (double)ds->x_f32[at] : (double)ds->x_u8[at];
            rc = cg_error(CG_ERR_NUMERIC,
                          "cg_fit: the %s set's row %d, feature column %d (0-based) is %g after "
                          "normalisation (raw value %g); values must be finite and at most 2^64 "
                          "(%.3g) in magnitude, or training overflows: standardise or rescale "
                          "the features", what, row, col, (double)buf[j], raw, FEATURE_LIMIT);
            break;
        }
    }
    cg_free(buf);
    cg_free(idx);
    return rc;
}

/* The first non-finite value of v[0..n), or NULL. */
static const cg_real *first_nonfinite(const cg_real *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return v + i;
    return NULL;
}

/* The node whose values hold *p (a weight or a batch-norm statistic), for
 * messages; NULL if none does. */
static cg_node *node_holding(cg_graph *g, const cg_real *p)
{
    for (int i = 0; i < cg_graph_node_count(g); i++) {
        cg_node *n = cg_graph_node(g, i);
        const cg_real *v = cg_node_value(n);
        if (v && p >= v && p < v + cg_node_size(n)) return n;
    }
    return NULL;
}

/* Weights and batch-norm statistics are finite; else `code` with a message
 * naming the tensor and the element. `when` says when it was found. */
static int check_state(cg_graph *g, int code, const char *when, const char *advice)
{
    const cg_real *bad = first_nonfinite(cg_graph_params(g), cg_graph_param_count(g));
    if (!bad) bad = first_nonfinite(cg_graph_state(g), cg_graph_state_count(g));
    if (!bad) return CG_OK;
    cg_node *n = node_holding(g, bad);
    const char *name = n && cg_node_name(n) ? cg_node_name(n) : "?";
    long at = n ? (long)(bad - cg_node_value(n)) : -1;
    return cg_error(code, "cg_fit: %s, %s[%ld] is %g%s", when, name, at, (double)*bad, advice);
}

static const char diverged_advice[] = " (diverged); try a lower learning rate";

/* --- Steps --- */

/* One data-parallel step: this rank's share of the global batch idx[0..k),
 * gradients scaled by share / k and summed across ranks (so they are the
 * gradient of the global batch's mean loss), then the same update on every
 * rank. Batch-norm running statistics are averaged so that all ranks keep
 * the same. *loss and *correct are the global batch's. */
static int dist_step(cg_model *m, cg_optimizer *o, const cg_dataset *ds, const cg_normalizer *nz,
                     const int *idx, int k, cg_dist *d, int sync_bn, double *loss, long *correct)
{
    cg_graph *g = cg_model_graph(m);
    const int r = cg_dist_rank(d), nr = cg_dist_size(d);
    const int lo = (int)((long)k * r / nr), hi = (int)((long)k * (r + 1) / nr), kr = hi - lo;
    const size_t np = cg_graph_param_count(g), ns = cg_graph_state_count(g);
    cg_real *grads = cg_graph_grads(g);
    double sums[3] = {0, 0, 0}; /* loss * examples, correct, failed */
    int rc = CG_OK;
    /* Synchronised batch norm needs every rank in each forward and
     * backward: a batch too small to give each a row is skipped. */
    if (sync_bn && k < nr) {
        *loss = 0;
        *correct = 0;
        return CG_OK;
    }
    if (kr > 0) {
        rc = cg_train_feed_batch(m, ds, nz, idx + lo, kr);
        /* Seeding with this rank's share makes every gradient (and, with
         * synchronised batch norm, every upstream gradient) that of the
         * global batch's mean loss. */
        if (!rc) rc = cg_backward_seeded(cg_model_loss(m), (cg_real)kr / (cg_real)k);
        if (!rc) {
            sums[0] = (double)cg_node_scalar(cg_model_loss(m)) * kr;
            sums[1] = (double)cg_train_count_correct(cg_node_value(cg_model_logits(m)),
                                                     cg_node_value(cg_model_labels(m)), kr,
                                                     cg_model_n_classes(m));
        }
    } else if (np) {
        memset(grads, 0, np * sizeof *grads);
    }
    sums[2] = rc != CG_OK;
    /* Every rank joins both reductions, even after its own error. */
    int rc2 = cg_dist_sum_double(d, sums, 3);
    if (!rc && !rc2 && np) rc2 = cg_dist_sum(d, grads, np);
    if (rc) return rc;
    if (rc2) return rc2;
    if (sums[2] > 0) return cg_error(CG_ERR_STATE, "the training step failed on another rank");
    *loss = sums[0] / k;
    *correct = (long)sums[1];
    if (!isfinite(*loss)) return CG_ERR_NUMERIC;
    rc = cg_optimizer_update(o, g);
    if (!rc && ns) {
        cg_real *state = cg_graph_state(g);
        rc = cg_dist_sum(d, state, ns);
        const cg_real inv = (cg_real)1 / (cg_real)nr;
        for (size_t i = 0; !rc && i < ns; i++) state[i] *= inv;
    }
    return rc;
}

/* --- Fit --- */

/* What one call of cg_fit carries from epoch to epoch. */
typedef struct fit_run {
    cg_model *m;
    cg_optimizer *o;
    const cg_dataset *train, *val;
    const cg_normalizer *nz;
    const cg_fit_options *opt;
    cg_graph *g;
    int n, bs, steps, eval_batch, nranks;
    int *idx, *eidx;
    snapshot best;
    cg_rng rng;
    double best_acc;
    int since_best, best_epoch, steps_done;
    double first_loss;     /* loss of this call's first batch (NaN before) */
    double loss_bound;     /* an epoch above it has diverged               */
    double train_time;
    long examples;
} fit_run;

static void report(const fit_run *r, cg_progress *p)
{
    const cg_fit_options *opt = r->opt;
    if (!opt->on_progress || cg_dist_rank(opt->dist) != 0) return;
    p->epochs = opt->epochs;
    p->steps = r->steps;
    p->has_validation = r->val != NULL;
    opt->on_progress(p, opt->progress_user);
}

/* The bound of rule 3 (cgrad.h): CG_DIVERGENCE_FACTOR times the larger of
 * the starting loss and the uniform prediction's, ln C. */
static double divergence_bound(double first_loss, int classes)
{
    double chance = log((double)(classes > 1 ? classes : 2));
    return CG_DIVERGENCE_FACTOR * (first_loss > chance ? first_loss : chance);
}

/* Train one epoch; *user_stop set when on_step asks to stop. */
static int train_epoch(fit_run *r, int ep, double t0, double *sum_loss, long *correct,
                       int *user_stop)
{
    const cg_fit_options *opt = r->opt;
    const int c = cg_model_n_classes(r->m);
    int seen = 0;
    for (int s = 0; s < r->steps; s++) {
        int start = s * r->bs, k = r->n - start < r->bs ? r->n - start : r->bs;
        cg_real loss = 0;
        long step_correct = -1;
        int rc;
        if (r->nranks > 1) {
            double l = 0;
            rc = dist_step(r->m, r->o, r->train, r->nz, r->idx + start, k, opt->dist, opt->sync_bn,
                           &l, &step_correct);
            loss = (cg_real)l;
        } else {
            rc = cg_train_feed_batch(r->m, r->train, r->nz, r->idx + start, k);
            if (!rc) rc = cg_minimize_step(r->o, cg_model_loss(r->m), &loss);
        }
        if (rc == CG_ERR_NUMERIC && isnan(r->first_loss))
            return cg_error(CG_ERR_NUMERIC,
                            "cg_fit: epoch %d, step 1: the starting model's loss is %g, before any "
                            "update: the forward pass overflows (rescale or standardise the "
                            "features)", ep, (double)loss);
        if (rc == CG_ERR_NUMERIC) {
            /* The data and starting weights were checked: a non-finite
             * loss or gradient after updates means the weights ran away. */
            if (!isfinite(loss))
                return cg_error(CG_ERR_DIVERGED, "cg_fit: epoch %d, step %d: the loss is %g%s", ep,
                                s + 1, (double)loss, diverged_advice);
            return cg_error(CG_ERR_DIVERGED,
                            "cg_fit: epoch %d, step %d: a gradient is not finite (loss %g)%s", ep,
                            s + 1, (double)loss, diverged_advice);
        }
        if (rc) return rc;
        if (isnan(r->first_loss)) {
            r->first_loss = (double)loss;
            r->loss_bound = divergence_bound(r->first_loss, c);
        }
        *sum_loss += (double)loss * k;
        *correct += step_correct >= 0
                        ? step_correct
                        : cg_train_count_correct(cg_node_value(cg_model_logits(r->m)),
                                                 cg_node_value(cg_model_labels(r->m)), k, c);
        seen += k;
        cg_progress p = {.phase = CG_PROGRESS_BATCH, .epoch = ep, .step = s + 1,
                         .loss = *sum_loss / seen, .acc = (double)*correct / seen,
                         .elapsed = now_seconds() - t0};
        report(r, &p);
        if (opt->on_step && opt->on_step(++r->steps_done, (double)loss, opt->user)) {
            *user_stop = 1;
            return CG_OK;
        }
    }
    return CG_OK;
}

/* Rules 2 and 3 of cgrad.h's divergence after epoch ep's training. */
static int check_divergence(fit_run *r, int ep, double train_loss)
{
    char when[64];
    snprintf(when, sizeof when, "after epoch %d", ep);
    if (check_state(r->g, CG_ERR_DIVERGED, when, diverged_advice)) return cg_last_error_code();
    if (train_loss > r->loss_bound)
        return cg_error(CG_ERR_DIVERGED,
                        "cg_fit: epoch %d: the mean training loss %g is over %g times %.4g, the "
                        "larger of the starting loss (%.4g) and the uniform prediction's (ln %d = "
                        "%.4g)%s", ep, train_loss, CG_DIVERGENCE_FACTOR,
                        r->loss_bound / CG_DIVERGENCE_FACTOR, r->first_loss,
                        cg_model_n_classes(r->m), log((double)cg_model_n_classes(r->m)),
                        diverged_advice);
    return CG_OK;
}

/* Validation and the best-so-far bookkeeping of epoch e. */
static int validate(fit_run *r, cg_epoch_metrics *e)
{
    int rc = cg_train_evaluate_rows(r->m, r->val, r->nz, r->eval_batch, r->eidx, r->opt->dist,
                                    &e->val_loss, &e->val_acc, NULL);
    if (rc) return rc;
    /* NaN compares false: the first epoch always improves. */
    e->improved = !(e->val_acc <= r->best_acc);
    if (e->improved) {
        r->best_acc = e->val_acc;
        r->best_epoch = e->epoch;
        r->since_best = 0;
        if (r->best.params) snapshot_take(&r->best, r->g);
    } else {
        r->since_best++;
    }
    e->best_val_acc = r->best_acc;
    e->epochs_since_best = r->since_best;
    return CG_OK;
}

static void record(cg_fit_result *res, const fit_run *r, const cg_epoch_metrics *e)
{
    if (!res) return;
    res->epochs = e->epoch;
    res->train_loss = e->train_loss;
    res->train_acc = e->train_acc;
    res->val_loss = e->val_loss;
    res->val_acc = e->val_acc;
    res->best_val_acc = r->best_acc;
    res->best_epoch = r->best_epoch;
}

/* The epochs; returns the first error. *stopped: patience ran out. */
static int run_epochs(fit_run *r, cg_fit_result *res, int *stopped)
{
    const cg_fit_options *opt = r->opt;
    /* A run that patience had stopped stays stopped when resumed. */
    if (opt->patience > 0 && r->since_best >= opt->patience) {
        *stopped = 1;
        return CG_OK;
    }
    for (int ep = opt->initial_epoch + 1; ep <= opt->epochs; ep++) {
        double t0 = now_seconds();
        cg_rng_shuffle(&r->rng, r->idx, r->n);
        int rc = cg_optimizer_set_epoch(r->o, ep - 1);
        if (rc) return rc;
        double sum_loss = 0;
        long correct = 0;
        int user_stop = 0;
        rc = train_epoch(r, ep, t0, &sum_loss, &correct, &user_stop);
        double t_train = now_seconds() - t0;
        cg_epoch_metrics e = {ep, opt->epochs, sum_loss / r->n, (double)correct / r->n, NAN, NAN, 0,
                              t_train > 0 ? r->n / t_train : 0, 0, NAN, 0};
        /* Before validation and on_epoch: a diverged epoch is never
         * reported as one, nor saved by the caller. */
        if (!rc && !user_stop) rc = check_divergence(r, ep, e.train_loss);
        if (!rc && !user_stop && r->val) rc = validate(r, &e);
        if (rc || user_stop) {
            cg_progress p = {.phase = CG_PROGRESS_STOPPED, .epoch = ep,
                             .elapsed = now_seconds() - t0};
            report(r, &p);
            return rc;
        }
        r->train_time += t_train;
        r->examples += r->n;
        e.seconds = now_seconds() - t0;
        cg_progress p = {.phase = CG_PROGRESS_EPOCH, .epoch = ep, .step = r->steps,
                         .loss = e.train_loss, .acc = e.train_acc, .elapsed = e.seconds,
                         .metrics = &e};
        report(r, &p);
        record(res, r, &e);
        int stop = opt->on_epoch ? opt->on_epoch(&e, opt->user) != 0 : 0;
        /* Ranks stop together, or the others would wait forever. */
        if (r->nranks > 1) stop = cg_dist_max_int(opt->dist, stop);
        if (stop) return CG_OK;
        if (opt->patience > 0 && r->since_best >= opt->patience) {
            *stopped = 1;
            char msg[160];
            snprintf(msg, sizeof msg,
                     "early stopping: no better val_acc for %d epochs (best %.4f at epoch %d)%s",
                     r->since_best, r->best_acc, r->best_epoch,
                     r->best.taken ? "; restoring its weights" : "");
            cg_progress q = {.phase = CG_PROGRESS_EARLY_STOP, .epoch = ep, .step = r->steps,
                             .elapsed = now_seconds() - t0, .message = msg};
            report(r, &q);
            return CG_OK;
        }
    }
    return CG_OK;
}

static int check_options(const cg_fit_options *opt)
{
    if (opt->epochs < 1) return cg_error(CG_ERR_ARG, "cg_fit: epochs %d must be positive", opt->epochs);
    if (opt->batch_size < 1)
        return cg_error(CG_ERR_ARG, "cg_fit: batch size %d must be positive", opt->batch_size);
    if (opt->initial_epoch < 0)
        return cg_error(CG_ERR_ARG, "cg_fit: initial epoch %d must not be negative", opt->initial_epoch);
    if (opt->patience < 0)
        return cg_error(CG_ERR_ARG, "cg_fit: patience %d must not be negative", opt->patience);
    return CG_OK;
}

static void free_run(fit_run *r)
{
    cg_free(r->idx);
    cg_free(r->eidx);
    cg_free(r->best.params);
    cg_free(r->best.state);
}

int cg_fit(cg_model *m, cg_optimizer *o, const cg_dataset *train, const cg_dataset *val,
           const cg_normalizer *nz, const cg_fit_options *opt, cg_fit_result *res)
{
    if (!m || !o || !train) return cg_error(CG_ERR_ARG, "cg_fit: NULL argument");
    cg_fit_options defaults;
    if (!opt) {
        cg_fit_options_init(&defaults);
        opt = &defaults;
    }
    if (check_options(opt)) return cg_last_error_code();
    if (cg_model_build(m)) return cg_last_error_code();
    if (cg_train_check_data(m, train, "cg_fit", "training")) return cg_last_error_code();
    if (val && val->n == 0) val = NULL;
    if (val && cg_train_check_data(m, val, "cg_fit", "validation")) return cg_last_error_code();
    if (opt->patience > 0 && !val)
        return cg_error(CG_ERR_ARG, "cg_fit: early stopping (patience %d) needs a validation set",
                        opt->patience);
    if (check_features(train, nz, "training") || (val && check_features(val, nz, "validation")))
        return cg_last_error_code();
    if (res) {
        memset(res, 0, sizeof *res);
        res->val_loss = res->val_acc = res->best_val_acc = NAN;
        res->epochs = opt->initial_epoch;
    }

    fit_run r = {.m = m, .o = o, .train = train, .val = val, .nz = nz, .opt = opt,
                 .g = cg_model_graph(m), .n = train->n, .best_acc = opt->best_val_acc,
                 .since_best = opt->epochs_since_best, .first_loss = NAN, .loss_bound = INFINITY,
                 .nranks = cg_dist_size(opt->dist)};
    cg_graph *g = r.g;
    r.bs = opt->batch_size < r.n ? opt->batch_size : r.n;
    r.steps = (r.n + r.bs - 1) / r.bs;
    /* Evaluating in batches of the training size (CG_EVAL_BATCH at least)
     * keeps the memory plan, which holds every node's values and
     * gradients, near the training one. */
    r.eval_batch = r.bs > CG_EVAL_BATCH ? r.bs : CG_EVAL_BATCH;
    if (val && r.eval_batch > val->n) r.eval_batch = val->n;
    r.idx = cg_malloc((size_t)r.n * sizeof *r.idx);
    r.eidx = cg_malloc((size_t)(r.eval_batch > 0 ? r.eval_batch : 1) * sizeof *r.eidx);
    const int keep_best = opt->patience > 0 && opt->restore_best;
    if (keep_best) {
        r.best.params = cg_malloc((cg_graph_param_count(g) + 1) * sizeof *r.best.params);
        r.best.state = cg_malloc((cg_graph_state_count(g) + 1) * sizeof *r.best.state);
    }
    if (!r.idx || !r.eidx || (keep_best && (!r.best.params || !r.best.state))) {
        free_run(&r);
        return cg_error(CG_ERR_MEMORY, "cg_fit: out of memory");
    }
    for (int i = 0; i < r.n; i++) r.idx[i] = i;
    cg_rng_seed(&r.rng, opt->seed);
    /* Replay the shuffles of the epochs already done, so a resumed run sees
     * the same batches as one that never stopped. */
    for (int ep = 1; ep <= opt->initial_epoch; ep++) cg_rng_shuffle(&r.rng, r.idx, r.n);
    /* Every rank starts from rank 0's weights. */
    if (r.nranks > 1 && (cg_dist_broadcast(opt->dist, cg_graph_params(g), cg_graph_param_count(g), 0) ||
                         cg_dist_broadcast(opt->dist, cg_graph_state(g), cg_graph_state_count(g), 0))) {
        free_run(&r);
        return cg_last_error_code();
    }
    if (check_state(g, CG_ERR_NUMERIC, "before training", "; the starting weights must be finite")) {
        free_run(&r);
        return cg_last_error_code();
    }

    double t_start = now_seconds();
    cg_graph_set_training(g, 1);
    cg_collective sync;
    cg_dist_collective(opt->dist, &sync);
    cg_graph_set_collective(g, r.nranks > 1 && opt->sync_bn ? &sync : NULL);
    int stopped = 0;
    int rc = run_epochs(&r, res, &stopped);
    /* Keras's restore_best_weights: the weights of the best epoch, unless
     * the last epoch was the best (or the best came before a resume). */
    if (rc == CG_OK && r.best.taken && r.since_best > 0) snapshot_restore(&r.best, g);
    cg_graph_set_collective(g, NULL);
    if (res) {
        res->stopped_early = stopped;
        res->seconds = now_seconds() - t_start;
        res->examples_per_second = r.train_time > 0 ? r.examples / r.train_time : 0;
    }
    free_run(&r);
    return rc;
}
