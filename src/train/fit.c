/* SPDX-License-Identifier: MIT */
/* fit.c: the training loop that cg_fit (classifier.c) and cg_fit_graph
 * (fit_graph.c) share: mini-batches, data-parallel steps, validation,
 * early stopping, divergence checks, checkpoints. What it trains comes as
 * a cg_fit_task (train.h): a graph, its loss, how to feed a batch, the
 * metrics. Progress goes to the caller's on_progress (progress.c has the
 * bar). */
#include "train/train.h"
#include "dist/dist.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int cg_fit_check_options(const cg_fit_options *opt, const char *fn)
{
    if (opt->epochs < 1) return cg_error(CG_ERR_ARG, "%s: epochs %d must be positive", fn, opt->epochs);
    if (opt->batch_size < 1)
        return cg_error(CG_ERR_ARG, "%s: batch size %d must be positive", fn, opt->batch_size);
    if (opt->initial_epoch < 0)
        return cg_error(CG_ERR_ARG, "%s: initial epoch %d must not be negative", fn,
                        opt->initial_epoch);
    if (opt->patience < 0)
        return cg_error(CG_ERR_ARG, "%s: patience %d must not be negative", fn, opt->patience);
    return CG_OK;
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
static int check_state(const char *fn, cg_graph *g, int code, const char *when,
                       const char *advice)
{
    const cg_real *bad = first_nonfinite(cg_graph_params(g), cg_graph_param_count(g));
    if (!bad) bad = first_nonfinite(cg_graph_state(g), cg_graph_state_count(g));
    if (!bad) return CG_OK;
    cg_node *n = node_holding(g, bad);
    const char *name = n && cg_node_name(n) ? cg_node_name(n) : "?";
    long at = n ? (long)(bad - cg_node_value(n)) : -1;
    return cg_error(code, "%s: %s, %s[%ld] is %g%s", fn, when, name, at, (double)*bad, advice);
}

static const char diverged_advice[] = " (diverged); try a lower learning rate";


/* --- Steps --- */

/* What one call of the loop carries from step to step and epoch to
 * epoch. */
typedef struct fit_run {
    const cg_fit_task *t;
    cg_optimizer *o;
    const cg_fit_options *opt;
    cg_graph *g;
    int n, bs, steps, eval_batch, nranks;
    int *idx, *eidx;
    snapshot best;
    cg_rng rng;
    double best_val;       /* of the monitored value; NaN before any    */
    int maximize;          /* the monitored value is better higher      */
    int since_best, best_epoch, steps_done;
    double first_loss;     /* loss of this call's first batch (NaN before) */
    double loss_bound;     /* an epoch above it has diverged               */
    double train_time;
    long examples;
    size_t n_sums;         /* the metrics' sums: the epoch's, a step's   */
    double *sums, *step_sums, *val_sums, *reduce_buf;
    cg_real *frozen_buf;   /* the fixed variables' values during an update */
    double train_m[CG_MAX_METRICS], val_m[CG_MAX_METRICS];
    cg_thread_tuner tuner; /* the thread count, adapted to the load */
} fit_run;

/* The fixed variables' gradients are zeroed (so that clipping by the
 * global norm sees only the trained ones) and their values kept. */
static void freeze_before(const fit_run *r)
{
    const cg_fit_task *t = r->t;
    cg_real *p = cg_graph_params(r->g), *gr = cg_graph_grads(r->g), *buf = r->frozen_buf;
    for (int i = 0; i < t->n_frozen; i++) {
        const size_t at = t->frozen[2 * i], len = t->frozen[2 * i + 1];
        memset(gr + at, 0, len * sizeof *gr);
        memcpy(buf, p + at, len * sizeof *buf);
        buf += len;
    }
}

/* ... and put back after the update (weight decay would move them). */
static void freeze_after(const fit_run *r)
{
    const cg_fit_task *t = r->t;
    cg_real *p = cg_graph_params(r->g);
    const cg_real *buf = r->frozen_buf;
    for (int i = 0; i < t->n_frozen; i++) {
        const size_t at = t->frozen[2 * i], len = t->frozen[2 * i + 1];
        memcpy(p + at, buf, len * sizeof *buf);
        buf += len;
    }
}

static int update(const fit_run *r)
{
    if (r->t->n_frozen) freeze_before(r);
    int rc = cg_optimizer_update(r->o, r->g);
    if (r->t->n_frozen) freeze_after(r);
    return rc;
}

/* One step on one process: forward, backward, update (cg_minimize_step's
 * checks); the batch's metric sums added to sums. */
static int local_step(const fit_run *r, const int *idx, int k, cg_real *loss, double *sums)
{
    const cg_fit_task *t = r->t;
    int rc = t->feed(t, t->train, idx, k);
    if (!rc) rc = cg_backward(t->loss);
    if (rc) return rc;
    *loss = cg_node_scalar(t->loss);
    if (!isfinite((double)*loss)) return CG_ERR_NUMERIC;
    rc = cg_metric_accumulate(&t->ms, sums, k);
    return rc ? rc : update(r);
}

/* One data-parallel step: this rank's share of the global batch idx[0..k),
 * gradients scaled by share / k and summed across ranks (so they are the
 * gradient of the global batch's mean loss), then the same update on every
 * rank. Batch-norm running statistics are averaged so that all ranks keep
 * the same. *loss and the metric sums added to sums are the global
 * batch's. */
static int dist_step(const fit_run *r, const int *idx, int k, double *loss, double *sums)
{
    const cg_fit_task *t = r->t;
    cg_dist *d = r->opt->dist;
    cg_graph *g = r->g;
    const int rk = cg_dist_rank(d), nr = cg_dist_size(d);
    const int lo = (int)((long)k * rk / nr), hi = (int)((long)k * (rk + 1) / nr), kr = hi - lo;
    const size_t np = cg_graph_param_count(g), ns = cg_graph_state_count(g);
    cg_real *grads = cg_graph_grads(g);
    /* loss * examples, failed, then the metrics' sums of this step */
    double *buf = r->reduce_buf;
    memset(buf, 0, (2 + r->n_sums) * sizeof *buf);
    int rc = CG_OK;
    /* Synchronised batch norm needs every rank in each forward and
     * backward: a batch too small to give each a row is skipped. */
    if (r->opt->sync_bn && k < nr) {
        *loss = 0;
        return CG_OK;
    }
    if (kr > 0) {
        rc = t->feed(t, t->train, idx + lo, kr);
        /* Seeding with this rank's share makes every gradient (and, with
         * synchronised batch norm, every upstream gradient) that of the
         * global batch's mean loss. */
        if (!rc) rc = cg_backward_seeded(t->loss, (cg_real)kr / (cg_real)k);
        if (!rc) {
            buf[0] = (double)cg_node_scalar(t->loss) * kr;
            rc = cg_metric_accumulate(&t->ms, buf + 2, kr);
        }
    } else if (np) {
        memset(grads, 0, np * sizeof *grads);
    }
    buf[1] = rc != CG_OK;
    /* Every rank joins both reductions, even after its own error. */
    int rc2 = cg_dist_sum_double(d, buf, 2 + r->n_sums);
    if (!rc && !rc2 && np) rc2 = cg_dist_sum(d, grads, np);
    if (rc) return rc;
    if (rc2) return rc2;
    if (buf[1] > 0) return cg_error(CG_ERR_STATE, "the training step failed on another rank");
    *loss = buf[0] / k;
    for (size_t i = 0; i < r->n_sums; i++) sums[i] += buf[2 + i];
    if (!isfinite(*loss)) return CG_ERR_NUMERIC;
    rc = update(r);
    if (!rc && ns) {
        cg_real *state = cg_graph_state(g);
        rc = cg_dist_sum(d, state, ns);
        const cg_real inv = (cg_real)1 / (cg_real)nr;
        for (size_t i = 0; !rc && i < ns; i++) state[i] *= inv;
    }
    return rc;
}

/* --- Evaluation --- */

int cg_fit_evaluate(const cg_fit_task *t, const void *set, int n, int batch, int *idx_buf,
                    cg_dist *d, double *loss, double *sums,
                    void (*after_batch)(void *user, int k), void *user, int adapt)
{
    cg_graph *g = t->g;
    int was = cg_graph_training(g);
    cg_graph_set_training(g, 0);
    const int r = cg_dist_rank(d), nr = cg_dist_size(d);
    const int lo = (int)((long)n * r / nr), hi = (int)((long)n * (r + 1) / nr);
    const size_t ns = t->ms.off[t->ms.n];
    double sum_loss = 0;
    if (sums) memset(sums, 0, ns * sizeof *sums);
    int rc = CG_OK;
    for (int start = lo; start < hi && rc == CG_OK; start += batch) {
        int k = hi - start < batch ? hi - start : batch;
        for (int i = 0; i < k; i++) idx_buf[i] = start + i;
        if (adapt) cg_infer_threads_begin(g);
        rc = t->feed(t, set, idx_buf, k);
        if (!rc) rc = cg_forward(t->loss);
        if (adapt) cg_infer_threads_end(g, k);
        if (!rc && sums) rc = cg_metric_accumulate(&t->ms, sums, k);
        if (rc) break;
        sum_loss += (double)cg_node_scalar(t->loss) * k;
        if (after_batch) after_batch(user, k);
    }
    cg_graph_set_training(g, was);
    if (adapt) cg_infer_threads_done(g);
    /* Every rank reaches the reduction, even after an error of its own. */
    if (nr > 1) {
        int failed = cg_dist_max_int(d, rc != CG_OK);
        if (!rc && failed) rc = cg_error(CG_ERR_STATE, "evaluation failed on another rank");
        if (!rc) rc = cg_dist_sum_double(d, &sum_loss, 1);
        if (!rc && sums && ns) rc = cg_dist_sum_double(d, sums, ns);
    }
    if (rc) return rc;
    if (loss) *loss = sum_loss / n;
    return CG_OK;
}

/* --- Fit --- */

static void report(const fit_run *r, cg_progress *p)
{
    const cg_fit_options *opt = r->opt;
    if (!opt->on_progress || cg_dist_rank(opt->dist) != 0) return;
    p->epochs = opt->epochs;
    p->steps = r->steps;
    p->has_validation = r->t->val != NULL;
    opt->on_progress(p, opt->progress_user);
}

/* The bound of rule 3 (cgrad.h): CG_DIVERGENCE_FACTOR times the larger of
 * the starting loss and what knowing nothing scores: ln C for C classes,
 * the spec's baseline_loss for any graph. Not positive: no bound. */
static double divergence_bound(const cg_fit_task *t, double first_loss)
{
    double chance = t->classes ? log((double)(t->classes > 1 ? t->classes : 2)) : t->baseline;
    double b = CG_DIVERGENCE_FACTOR * (first_loss > chance ? first_loss : chance);
    return b > 0 ? b : INFINITY;
}

static double acc_of(const fit_run *r, const double *values)
{
    return r->t->acc_metric >= 0 ? values[r->t->acc_metric] : NAN;
}

/* Train one epoch; *user_stop set when on_step asks to stop. */
static int train_epoch(fit_run *r, int ep, double t0, double *sum_loss, int *user_stop)
{
    const cg_fit_options *opt = r->opt;
    const cg_fit_task *t = r->t;
    int seen = 0;
    memset(r->sums, 0, r->n_sums * sizeof *r->sums);
    for (int s = 0; s < r->steps; s++) {
        int start = s * r->bs, k = r->n - start < r->bs ? r->n - start : r->bs;
        cg_real loss = 0;
        int rc;
        cg_thread_tuner_begin(&r->tuner);
        if (r->nranks > 1) {
            double l = 0;
            rc = dist_step(r, r->idx + start, k, &l, r->sums);
            loss = (cg_real)l;
        } else {
            rc = local_step(r, r->idx + start, k, &loss, r->sums);
        }
        cg_thread_tuner_end(&r->tuner, k);
        if (rc == CG_ERR_NUMERIC && isnan(r->first_loss))
            return cg_error(CG_ERR_NUMERIC,
                            "%s: epoch %d, step 1: the starting model's loss is %g, before any "
                            "update: the forward pass overflows (rescale or standardise the "
                            "%s)", t->fn, ep, (double)loss, t->classes ? "features" : "inputs");
        if (rc == CG_ERR_NUMERIC) {
            /* The data and starting weights were checked: a non-finite
             * loss or gradient after updates means the weights ran away. */
            if (!isfinite(loss))
                return cg_error(CG_ERR_DIVERGED, "%s: epoch %d, step %d: the loss is %g%s", t->fn,
                                ep, s + 1, (double)loss, diverged_advice);
            return cg_error(CG_ERR_DIVERGED,
                            "%s: epoch %d, step %d: a gradient is not finite (loss %g)%s", t->fn,
                            ep, s + 1, (double)loss, diverged_advice);
        }
        if (rc) return rc;
        if (isnan(r->first_loss)) {
            r->first_loss = (double)loss;
            r->loss_bound = divergence_bound(t, r->first_loss);
        }
        *sum_loss += (double)loss * k;
        seen += k;
        cg_metric_values(&t->ms, r->sums, r->train_m);
        cg_progress p = {.phase = CG_PROGRESS_BATCH, .epoch = ep, .step = s + 1,
                         .loss = *sum_loss / seen, .acc = acc_of(r, r->train_m),
                         .elapsed = cg_seconds() - t0, .n_metrics = t->ms.n,
                         .metric_names = t->ms.names, .values = r->train_m};
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
    const cg_fit_task *t = r->t;
    char when[64];
    snprintf(when, sizeof when, "after epoch %d", ep);
    if (check_state(t->fn, r->g, CG_ERR_DIVERGED, when, diverged_advice))
        return cg_last_error_code();
    if (!(train_loss > r->loss_bound)) return CG_OK;
    if (t->classes)
        return cg_error(CG_ERR_DIVERGED,
                        "%s: epoch %d: the mean training loss %g is over %g times %.4g, the "
                        "larger of the starting loss (%.4g) and the uniform prediction's (ln %d = "
                        "%.4g)%s", t->fn, ep, train_loss, CG_DIVERGENCE_FACTOR,
                        r->loss_bound / CG_DIVERGENCE_FACTOR, r->first_loss, t->classes,
                        log((double)t->classes), diverged_advice);
    return cg_error(CG_ERR_DIVERGED,
                    "%s: epoch %d: the mean training loss %g is over %g times %.4g, the larger "
                    "of the starting loss (%.4g) and baseline_loss (%.4g)%s", t->fn, ep,
                    train_loss, CG_DIVERGENCE_FACTOR, r->loss_bound / CG_DIVERGENCE_FACTOR,
                    r->first_loss, t->baseline, diverged_advice);
}

/* Validation and the best-so-far bookkeeping of epoch e. */
static int validate(fit_run *r, cg_epoch_metrics *e)
{
    const cg_fit_task *t = r->t;
    int rc = cg_fit_evaluate(t, t->val, t->n_val, r->eval_batch, r->eidx, r->opt->dist,
                             &e->val_loss, r->val_sums, NULL, NULL, 0);
    if (rc) return rc;
    cg_metric_values(&t->ms, r->val_sums, r->val_m);
    e->val_acc = acc_of(r, r->val_m);
    const double v = t->monitor >= 0 ? r->val_m[t->monitor] : e->val_loss;
    /* NaN compares false: the first epoch always improves. A tie counts:
     * it is as good on validation and has trained longer, and accuracy over
     * a few hundred rows moves in coarse steps, so on a plateau the first
     * best would otherwise stop the run and be restored from its start. */
    e->improved = r->maximize ? !(v < r->best_val) : !(v > r->best_val);
    if (e->improved) {
        r->best_val = v;
        r->best_epoch = e->epoch;
        r->since_best = 0;
        if (r->best.params) snapshot_take(&r->best, r->g);
    } else {
        r->since_best++;
    }
    e->best_val_acc = r->best_val;
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
    res->best_val_acc = r->best_val;
    res->best_epoch = r->best_epoch;
    res->n_metrics = r->t->ms.n;
    for (int i = 0; i < r->t->ms.n; i++) {
        res->train_metrics[i] = r->train_m[i];
        res->val_metrics[i] = r->val_m[i];
    }
}

/* opt->checkpoint after an epoch that improved (every epoch without
 * validation). Every rank holds the same weights: rank 0 writes. */
static int save_checkpoint(const fit_run *r, const cg_epoch_metrics *e)
{
    const cg_fit_options *opt = r->opt;
    if (!opt->checkpoint || (r->t->val && !e->improved)) return CG_OK;
    int rc = cg_dist_rank(opt->dist) == 0 ? cg_graph_save_weights(r->g, opt->checkpoint) : CG_OK;
    /* The other ranks stop too, or they would wait for rank 0 forever. */
    if (r->nranks > 1 && cg_dist_max_int(opt->dist, rc != CG_OK) && !rc)
        rc = cg_error(CG_ERR_IO, "%s: rank 0 could not write the checkpoint", r->t->fn);
    return rc;
}

/* The epochs; returns the first error. *stopped: patience ran out. */
static int run_epochs(fit_run *r, cg_fit_result *res, int *stopped)
{
    const cg_fit_options *opt = r->opt;
    const cg_fit_task *t = r->t;
    /* A run that patience had stopped stays stopped when resumed. */
    if (opt->patience > 0 && r->since_best >= opt->patience) {
        *stopped = 1;
        return CG_OK;
    }
    for (int ep = opt->initial_epoch + 1; ep <= opt->epochs; ep++) {
        double t0 = cg_seconds();
        cg_rng_shuffle(&r->rng, r->idx, r->n);
        int rc = cg_optimizer_set_epoch(r->o, ep - 1);
        if (rc) return rc;
        double sum_loss = 0;
        int user_stop = 0;
        rc = train_epoch(r, ep, t0, &sum_loss, &user_stop);
        double t_train = cg_seconds() - t0;
        cg_metric_values(&t->ms, r->sums, r->train_m);
        for (int i = 0; i < t->ms.n; i++) r->val_m[i] = NAN;
        cg_epoch_metrics e = {.epoch = ep, .epochs = opt->epochs, .train_loss = sum_loss / r->n,
                              .train_acc = acc_of(r, r->train_m), .val_loss = NAN,
                              .val_acc = NAN,
                              .examples_per_second = t_train > 0 ? r->n / t_train : 0,
                              .best_val_acc = NAN, .n_metrics = t->ms.n,
                              .metric_names = t->ms.names, .train_metrics = r->train_m,
                              .val_metrics = r->val_m, .monitor = t->monitor_name};
        /* Before validation and on_epoch: a diverged epoch is never
         * reported as one, nor saved by the caller. */
        if (!rc && !user_stop) rc = check_divergence(r, ep, e.train_loss);
        if (!rc && !user_stop && t->val) rc = validate(r, &e);
        if (!rc && !user_stop) rc = save_checkpoint(r, &e);
        if (rc || user_stop) {
            cg_progress p = {.phase = CG_PROGRESS_STOPPED, .epoch = ep,
                             .elapsed = cg_seconds() - t0};
            report(r, &p);
            return rc;
        }
        r->train_time += t_train;
        r->examples += r->n;
        e.seconds = cg_seconds() - t0;
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
            char msg[192];
            snprintf(msg, sizeof msg,
                     "early stopping: no %s as good as the best for %d epochs (best %.4f at epoch %d)%s",
                     t->monitor_name, r->since_best, r->best_val, r->best_epoch,
                     r->best.taken ? "; restoring its weights" : "");
            cg_progress q = {.phase = CG_PROGRESS_EARLY_STOP, .epoch = ep, .step = r->steps,
                             .elapsed = cg_seconds() - t0, .message = msg};
            report(r, &q);
            return CG_OK;
        }
    }
    return CG_OK;
}

static void free_run(fit_run *r)
{
    cg_free(r->idx);
    cg_free(r->eidx);
    cg_free(r->best.params);
    cg_free(r->best.state);
    cg_free(r->sums);
    cg_free(r->frozen_buf);
}

/* Buffers, allocated once: nothing in a step allocates. */
static int alloc_run(fit_run *r, int keep_best)
{
    const cg_fit_task *t = r->t;
    size_t frozen = 0;
    for (int i = 0; i < t->n_frozen; i++) frozen += t->frozen[2 * i + 1];
    r->idx = cg_malloc((size_t)r->n * sizeof *r->idx);
    r->eidx = cg_malloc((size_t)(r->eval_batch > 0 ? r->eval_batch : 1) * sizeof *r->eidx);
    /* sums, val_sums, reduce_buf (2 + n_sums) in one block */
    r->sums = cg_malloc((3 * r->n_sums + 2) * sizeof *r->sums);
    r->frozen_buf = cg_malloc((frozen + 1) * sizeof *r->frozen_buf);
    if (keep_best) {
        r->best.params = cg_malloc((cg_graph_param_count(r->g) + 1) * sizeof *r->best.params);
        r->best.state = cg_malloc((cg_graph_state_count(r->g) + 1) * sizeof *r->best.state);
    }
    if (!r->idx || !r->eidx || !r->sums || !r->frozen_buf ||
        (keep_best && (!r->best.params || !r->best.state)))
        return cg_error(CG_ERR_MEMORY, "%s: out of memory", t->fn);
    r->val_sums = r->sums + r->n_sums;
    r->reduce_buf = r->val_sums + r->n_sums;
    return CG_OK;
}

int cg_fit_run(const cg_fit_task *t, cg_optimizer *o, const cg_fit_options *opt,
               cg_fit_result *res)
{
    if (opt->patience > 0 && !t->val)
        return cg_error(CG_ERR_ARG, "%s: early stopping (patience %d) needs a validation set",
                        t->fn, opt->patience);
    if (res) {
        memset(res, 0, sizeof *res);
        res->val_loss = res->val_acc = res->best_val_acc = NAN;
        res->epochs = opt->initial_epoch;
        res->n_metrics = t->ms.n;
        for (int i = 0; i < CG_MAX_METRICS; i++) res->train_metrics[i] = res->val_metrics[i] = NAN;
    }

    fit_run r = {.t = t, .o = o, .opt = opt, .g = t->g, .n = t->n_train,
                 .best_val = opt->best_val_acc, .since_best = opt->epochs_since_best,
                 .first_loss = NAN, .loss_bound = INFINITY, .nranks = cg_dist_size(opt->dist),
                 .n_sums = t->ms.off[t->ms.n]};
    r.maximize = t->monitor >= 0 && cg_metric_maximize(&t->ms, t->monitor);
    cg_graph *g = r.g;
    r.bs = opt->batch_size < r.n ? opt->batch_size : r.n;
    r.steps = (r.n + r.bs - 1) / r.bs;
    /* Evaluating in batches of the training size (CG_EVAL_BATCH at least)
     * keeps the memory plan, which holds every node's values and
     * gradients, near the training one. */
    r.eval_batch = r.bs > CG_EVAL_BATCH ? r.bs : CG_EVAL_BATCH;
    if (t->val && r.eval_batch > t->n_val) r.eval_batch = t->n_val;
    if (alloc_run(&r, opt->patience > 0 && opt->restore_best)) {
        free_run(&r);
        return cg_last_error_code();
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
    if (check_state(t->fn, g, CG_ERR_NUMERIC, "before training",
                    "; the starting weights must be finite")) {
        free_run(&r);
        return cg_last_error_code();
    }

    double t_start = cg_seconds();
    cg_graph_set_training(g, 1);
    cg_collective sync;
    cg_dist_collective(opt->dist, &sync);
    cg_graph_set_collective(g, r.nranks > 1 && opt->sync_bn ? &sync : NULL);
    int stopped = 0;
    cg_thread_tuner_init(&r.tuner);
    int rc = run_epochs(&r, res, &stopped);
    cg_thread_tuner_done(&r.tuner);
    /* Keras's restore_best_weights: the weights of the best epoch, unless
     * the last epoch was the best (or the best came before a resume). */
    if (rc == CG_OK && r.best.taken && r.since_best > 0) snapshot_restore(&r.best, g);
    cg_graph_set_collective(g, NULL);
    if (res) {
        res->stopped_early = stopped;
        res->seconds = cg_seconds() - t_start;
        res->examples_per_second = r.train_time > 0 ? r.examples / r.train_time : 0;
    }
    free_run(&r);
    return rc;
}
