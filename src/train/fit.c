/* SPDX-License-Identifier: MIT */
/* fit.c: the training loop (cg_fit), evaluation, prediction, accuracy, and
 * a Keras-like progress display. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno */
#include "internal.h"
#include "dist/dist.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int row_argmax(const cg_real *row, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

/* Number of rows whose argmax equals the label. */
static long count_correct(const cg_real *scores, const cg_real *labels, int n, int c)
{
    long k = 0;
    for (int i = 0; i < n; i++)
        if (row_argmax(scores + (size_t)i * (size_t)c, c) == (int)labels[i]) k++;
    return k;
}

double cg_accuracy(const cg_real *scores, const cg_real *labels, int n, int c)
{
    if (!scores || !labels || n <= 0 || c <= 0) return 0.0;
    return (double)count_correct(scores, labels, n, c) / n;
}

void cg_fit_options_init(cg_fit_options *opt)
{
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->epochs = 10;
    opt->batch_size = 32;
    opt->verbose = 1;
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

static int check_data(cg_model *m, const cg_dataset *ds, const char *fn, const char *what)
{
    if (!ds->n || (!ds->x_u8 && !ds->x_f32) || !ds->y)
        return cg_error(CG_ERR_ARG, "%s: the %s set is empty", fn, what);
    if (ds->d != cg_model_n_inputs(m))
        return cg_error(CG_ERR_SHAPE, "%s: the %s set has %d features, the model takes %d", fn,
                        what, ds->d, cg_model_n_inputs(m));
    int c = cg_model_n_classes(m);
    for (int i = 0; i < ds->n; i++)
        if (ds->y[i] < 0 || ds->y[i] >= c)
            return cg_error(CG_ERR_ARG, "%s: the %s set has label %d at row %d; the model has %d classes",
                            fn, what, (int)ds->y[i], i, c);
    return CG_OK;
}

/* Gather rows idx[0..n) into the model's placeholders; returns the batch. */
static int feed_batch(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, const int *idx,
                      int n)
{
    cg_real *x = cg_feed_buffer(cg_model_input(m), n);
    if (!x) return cg_last_error_code();
    cg_real *y = cg_feed_buffer(cg_model_labels(m), n);
    if (!y) return cg_last_error_code();
    cg_dataset_gather(ds, nz, idx, n, x, y);
    return CG_OK;
}

/* Mean loss and accuracy over ds in inference mode, and (conf not NULL,
 * one rank) the confusion counts; with several ranks, each takes its share
 * of the rows and the sums are reduced. */
static int evaluate_rows(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                         int *idx_buf, cg_dist *d, double *loss, double *acc, long *conf)
{
    cg_graph *g = cg_model_graph(m);
    int was = cg_graph_training(g);
    cg_graph_set_training(g, 0);
    const int r = cg_dist_rank(d), nr = cg_dist_size(d);
    const int lo = (int)((long)ds->n * r / nr), hi = (int)((long)ds->n * (r + 1) / nr);
    double sums[2] = {0, 0}; /* loss * examples, correct */
    int rc = CG_OK, c = cg_model_n_classes(m);
    for (int start = lo; start < hi && rc == CG_OK; start += batch) {
        int n = hi - start < batch ? hi - start : batch;
        for (int i = 0; i < n; i++) idx_buf[i] = start + i;
        rc = feed_batch(m, ds, nz, idx_buf, n);
        if (!rc) rc = cg_forward(cg_model_loss(m));
        if (rc) break;
        sums[0] += (double)cg_node_scalar(cg_model_loss(m)) * n;
        const cg_real *logits = cg_node_value(cg_model_logits(m));
        const cg_real *labels = cg_node_value(cg_model_labels(m));
        for (int i = 0; i < n; i++) {
            int pred = row_argmax(logits + (size_t)i * (size_t)c, c), y = (int)labels[i];
            sums[1] += pred == y;
            if (conf) conf[(size_t)y * (size_t)c + (size_t)pred]++;
        }
    }
    cg_graph_set_training(g, was);
    /* Every rank reaches the reduction, even after an error of its own. */
    if (nr > 1) {
        int failed = cg_dist_max_int(d, rc != CG_OK);
        if (!rc && failed) rc = cg_error(CG_ERR_STATE, "evaluation failed on another rank");
        if (!rc) rc = cg_dist_sum_double(d, sums, 2);
    }
    if (rc) return rc;
    if (loss) *loss = sums[0] / ds->n;
    if (acc) *acc = sums[1] / ds->n;
    return CG_OK;
}

static int evaluate(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                    cg_dist *d, double *loss, double *acc, long *conf)
{
    if (!m || !ds) return cg_error(CG_ERR_ARG, "cg_evaluate: NULL argument");
    if (cg_model_build(m)) return cg_last_error_code();
    if (check_data(m, ds, "cg_evaluate", "evaluation")) return cg_last_error_code();
    if (batch <= 0) batch = CG_EVAL_BATCH;
    if (batch > ds->n) batch = ds->n;
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    if (!idx) return cg_error(CG_ERR_MEMORY, "cg_evaluate: out of memory");
    int rc = evaluate_rows(m, ds, nz, batch, idx, d, loss, acc, conf);
    cg_free(idx);
    return rc;
}

int cg_evaluate_dist(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                     cg_dist *d, double *loss, double *acc)
{
    return evaluate(m, ds, nz, batch, d, loss, acc, NULL);
}

int cg_evaluate(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                double *loss, double *acc)
{
    return evaluate(m, ds, nz, batch, NULL, loss, acc, NULL);
}

int cg_evaluate_confusion(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                          double *loss, double *acc, long *confusion)
{
    if (!confusion) return cg_error(CG_ERR_ARG, "cg_evaluate_confusion: NULL confusion matrix");
    return evaluate(m, ds, nz, batch, NULL, loss, acc, confusion);
}

int cg_predict(cg_model *m, const cg_real *x, int n, cg_real *probs, int *classes)
{
    if (!m || !x) return cg_error(CG_ERR_ARG, "cg_predict: NULL argument");
    if (n < 1) return cg_error(CG_ERR_ARG, "cg_predict: %d rows", n);
    if (cg_model_build(m)) return cg_last_error_code();
    cg_graph *g = cg_model_graph(m);
    int was = cg_graph_training(g), rc = CG_OK;
    cg_graph_set_training(g, 0);
    const int d = cg_model_n_inputs(m), c = cg_model_n_classes(m), batch = 1000;
    for (int start = 0; start < n && rc == CG_OK; start += batch) {
        int k = n - start < batch ? n - start : batch;
        cg_real *in = cg_feed_buffer(cg_model_input(m), k);
        if (!in) { rc = cg_last_error_code(); break; }
        memcpy(in, x + (size_t)start * (size_t)d, (size_t)k * (size_t)d * sizeof *in);
        rc = cg_forward(cg_model_probs(m));
        if (rc) break;
        const cg_real *p = cg_node_value(cg_model_probs(m));
        if (probs) memcpy(probs + (size_t)start * (size_t)c, p, (size_t)k * (size_t)c * sizeof *p);
        if (classes)
            for (int i = 0; i < k; i++) classes[start + i] = row_argmax(p + (size_t)i * (size_t)c, c);
    }
    cg_graph_set_training(g, was);
    return rc;
}

/* --- Progress --- */

typedef struct progress {
    FILE *f;
    int tty, verbose;
    int epoch, epochs, steps;
    double t0, last_draw;
} progress;

static void fmt_eta(char *buf, size_t size, double s)
{
    if (s >= 3600) snprintf(buf, size, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    else if (s >= 60) snprintf(buf, size, "%d:%02d", (int)(s / 60), (int)s % 60);
    else snprintf(buf, size, "%ds", (int)(s + 0.5));
}

enum { BAR_WIDTH = 30 };

static void fill_bar(char *bar, int step, int steps)
{
    int filled = (int)((double)BAR_WIDTH * step / steps);
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : '.';
    if (filled < BAR_WIDTH) bar[filled] = '>';
    bar[BAR_WIDTH] = 0;
}

static void draw_bar(progress *p, int step, double loss, double acc)
{
    char bar[BAR_WIDTH + 1], eta[32];
    fill_bar(bar, step, p->steps);
    double el = now_seconds() - p->t0;
    fmt_eta(eta, sizeof eta, step ? el * (p->steps - step) / step : 0);
    fprintf(p->f, "\rEpoch %d/%d  %d/%d [%s] - ETA %s - loss: %.4f - acc: %.4f\033[K", p->epoch,
            p->epochs, step, p->steps, bar, eta, loss, acc);
    fflush(p->f);
}

static void progress_step(progress *p, int step, double loss, double acc)
{
    if (!p->verbose || !p->tty) return;
    double t = now_seconds();
    if (step < p->steps && t - p->last_draw < 0.1) return;
    p->last_draw = t;
    draw_bar(p, step, loss, acc);
}

static void progress_epoch(progress *p, const cg_epoch_metrics *e, int has_val)
{
    if (!p->verbose) return;
    char val[96] = "";
    if (has_val) snprintf(val, sizeof val, " - val_loss: %.4f - val_acc: %.4f", e->val_loss, e->val_acc);
    if (p->tty) {
        char bar[BAR_WIDTH + 1];
        fill_bar(bar, p->steps, p->steps);
        fprintf(p->f, "\r\033[KEpoch %d/%d  %d/%d [%s]", e->epoch, e->epochs, p->steps, p->steps, bar);
    } else {
        fprintf(p->f, "Epoch %d/%d", e->epoch, e->epochs);
    }
    fprintf(p->f, " - %.1fs - loss: %.4f - acc: %.4f%s - %.0f examples/s\n", e->seconds,
            e->train_loss, e->train_acc, val, e->examples_per_second);
    fflush(p->f);
}

/* --- Fit --- */

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
        rc = feed_batch(m, ds, nz, idx + lo, kr);
        /* Seeding with this rank's share makes every gradient (and, with
         * synchronised batch norm, every upstream gradient) that of the
         * global batch's mean loss. */
        if (!rc) rc = cg_backward_seeded(cg_model_loss(m), (cg_real)kr / (cg_real)k);
        if (!rc) {
            sums[0] = (double)cg_node_scalar(cg_model_loss(m)) * kr;
            sums[1] = (double)count_correct(cg_node_value(cg_model_logits(m)),
                                            cg_node_value(cg_model_labels(m)), kr, cg_model_n_classes(m));
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

int cg_fit(cg_model *m, cg_optimizer *o, const cg_dataset *train, const cg_dataset *val,
           const cg_normalizer *nz, const cg_fit_options *opt, cg_fit_result *res)
{
    if (!m || !o || !train) return cg_error(CG_ERR_ARG, "cg_fit: NULL argument");
    cg_fit_options defaults;
    if (!opt) {
        cg_fit_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->epochs < 1) return cg_error(CG_ERR_ARG, "cg_fit: epochs %d must be positive", opt->epochs);
    if (opt->batch_size < 1)
        return cg_error(CG_ERR_ARG, "cg_fit: batch size %d must be positive", opt->batch_size);
    if (opt->initial_epoch < 0)
        return cg_error(CG_ERR_ARG, "cg_fit: initial epoch %d must not be negative", opt->initial_epoch);
    if (opt->patience < 0)
        return cg_error(CG_ERR_ARG, "cg_fit: patience %d must not be negative", opt->patience);
    if (cg_model_build(m)) return cg_last_error_code();
    if (check_data(m, train, "cg_fit", "training")) return cg_last_error_code();
    if (val && val->n == 0) val = NULL;
    if (val && check_data(m, val, "cg_fit", "validation")) return cg_last_error_code();
    if (opt->patience > 0 && !val)
        return cg_error(CG_ERR_ARG, "cg_fit: early stopping (patience %d) needs a validation set",
                        opt->patience);
    if (res) {
        memset(res, 0, sizeof *res);
        res->val_loss = res->val_acc = res->best_val_acc = NAN;
        res->epochs = opt->initial_epoch;
    }

    cg_graph *g = cg_model_graph(m);
    const int n = train->n, c = cg_model_n_classes(m);
    const int bs = opt->batch_size < n ? opt->batch_size : n;
    /* Evaluating in batches of the training size (CG_EVAL_BATCH at least)
     * keeps the memory plan, which holds every node's values and
     * gradients, near the training one. */
    int eval_batch = bs > CG_EVAL_BATCH ? bs : CG_EVAL_BATCH;
    if (val && eval_batch > val->n) eval_batch = val->n;
    int *idx = cg_malloc((size_t)n * sizeof *idx);
    int *eidx = cg_malloc((size_t)(eval_batch > 0 ? eval_batch : 1) * sizeof *eidx);
    snapshot best = {0};
    if (opt->patience > 0 && opt->restore_best) {
        best.params = cg_malloc((cg_graph_param_count(g) + 1) * sizeof *best.params);
        best.state = cg_malloc((cg_graph_state_count(g) + 1) * sizeof *best.state);
    }
    if (!idx || !eidx || (opt->patience > 0 && opt->restore_best && (!best.params || !best.state))) {
        cg_free(idx);
        cg_free(eidx);
        cg_free(best.params);
        cg_free(best.state);
        return cg_error(CG_ERR_MEMORY, "cg_fit: out of memory");
    }
    for (int i = 0; i < n; i++) idx[i] = i;
    cg_rng rng;
    cg_rng_seed(&rng, opt->seed);
    /* Replay the shuffles of the epochs already done, so a resumed run sees
     * the same batches as one that never stopped. */
    for (int ep = 1; ep <= opt->initial_epoch; ep++) cg_rng_shuffle(&rng, idx, n);
    double best_acc = opt->best_val_acc;
    int since_best = opt->epochs_since_best, best_epoch = 0, stopped = 0, user_stop = 0, steps_done = 0;

    progress p = {0};
    p.f = opt->progress ? (FILE *)opt->progress : stderr;
    p.tty = isatty(fileno(p.f));
    p.verbose = opt->verbose && cg_dist_rank(opt->dist) == 0;
    const int nranks = cg_dist_size(opt->dist);
    /* Every rank starts from rank 0's weights. */
    if (nranks > 1 && (cg_dist_broadcast(opt->dist, cg_graph_params(g), cg_graph_param_count(g), 0) ||
                       cg_dist_broadcast(opt->dist, cg_graph_state(g), cg_graph_state_count(g), 0))) {
        cg_free(idx);
        cg_free(eidx);
        cg_free(best.params);
        cg_free(best.state);
        return cg_last_error_code();
    }
    p.epochs = opt->epochs;
    p.steps = (n + bs - 1) / bs;

    int rc = CG_OK;
    double t_start = now_seconds(), train_time = 0;
    long examples = 0;
    cg_graph_set_training(g, 1);
    cg_graph_set_bn_sync(g, nranks > 1 && opt->sync_bn ? opt->dist : NULL);
    for (int ep = opt->initial_epoch + 1; ep <= opt->epochs && rc == CG_OK; ep++) {
        double t0 = now_seconds();
        p.epoch = ep;
        p.t0 = t0;
        p.last_draw = 0;
        cg_rng_shuffle(&rng, idx, n);
        rc = cg_optimizer_set_epoch(o, ep - 1);
        if (rc) break;
        double sum_loss = 0;
        long correct = 0;
        int seen = 0;
        for (int s = 0; s < p.steps; s++) {
            int start = s * bs, k = n - start < bs ? n - start : bs;
            cg_real loss = 0;
            long step_correct = -1;
            if (nranks > 1) {
                double l = 0;
                rc = dist_step(m, o, train, nz, idx + start, k, opt->dist, opt->sync_bn, &l, &step_correct);
                loss = (cg_real)l;
            } else {
                rc = feed_batch(m, train, nz, idx + start, k);
                if (!rc) rc = cg_minimize_step(o, cg_model_loss(m), &loss);
            }
            if (rc) {
                if (rc == CG_ERR_NUMERIC)
                    rc = cg_error(CG_ERR_NUMERIC,
                                  "cg_fit: epoch %d, step %d: the loss is %g (diverged); try a lower "
                                  "learning rate", ep, s + 1, (double)loss);
                break;
            }
            sum_loss += (double)loss * k;
            correct += step_correct >= 0 ? step_correct
                                         : count_correct(cg_node_value(cg_model_logits(m)),
                                                         cg_node_value(cg_model_labels(m)), k, c);
            seen += k;
            progress_step(&p, s + 1, sum_loss / seen, (double)correct / seen);
            if (opt->on_step && opt->on_step(++steps_done, (double)loss, opt->user)) {
                user_stop = 1;
                break;
            }
        }
        if (user_stop) break;
        if (rc) {
            if (p.verbose && p.tty) fputc('\n', p.f);
            break;
        }
        double t_train = now_seconds() - t0;
        train_time += t_train;
        examples += n;
        cg_epoch_metrics e = {ep, opt->epochs, sum_loss / n, (double)correct / n, NAN, NAN, 0,
                              t_train > 0 ? n / t_train : 0, 0, NAN, 0};
        if (val) {
            rc = evaluate_rows(m, val, nz, eval_batch, eidx, opt->dist, &e.val_loss, &e.val_acc, NULL);
            if (rc) break;
            /* NaN compares false: the first epoch always improves. */
            e.improved = !(e.val_acc <= best_acc);
            if (e.improved) {
                best_acc = e.val_acc;
                best_epoch = ep;
                since_best = 0;
                if (best.params) snapshot_take(&best, g);
            } else {
                since_best++;
            }
            e.best_val_acc = best_acc;
            e.epochs_since_best = since_best;
        }
        e.seconds = now_seconds() - t0;
        progress_epoch(&p, &e, val != NULL);
        if (res) {
            res->epochs = ep;
            res->train_loss = e.train_loss;
            res->train_acc = e.train_acc;
            res->val_loss = e.val_loss;
            res->val_acc = e.val_acc;
            res->best_val_acc = best_acc;
            res->best_epoch = best_epoch;
        }
        int stop = opt->on_epoch ? opt->on_epoch(&e, opt->user) != 0 : 0;
        /* Ranks stop together, or the others would wait forever. */
        if (nranks > 1) stop = cg_dist_max_int(opt->dist, stop);
        if (stop) break;
        if (opt->patience > 0 && since_best >= opt->patience) {
            stopped = 1;
            if (p.verbose)
                fprintf(p.f, "early stopping: no better val_acc for %d epochs (best %.4f at epoch %d)%s\n",
                        since_best, best_acc, best_epoch,
                        best.taken ? "; restoring its weights" : "");
            break;
        }
    }
    /* Keras's restore_best_weights: the weights of the best epoch, unless
     * the last epoch was the best (or the best came before a resume). */
    if (rc == CG_OK && best.taken && since_best > 0) snapshot_restore(&best, g);
    if (res) res->stopped_early = stopped;
    cg_graph_set_bn_sync(g, NULL);
    cg_free(best.params);
    cg_free(best.state);
    if (res) {
        res->seconds = now_seconds() - t_start;
        res->examples_per_second = train_time > 0 ? examples / train_time : 0;
    }
    cg_free(idx);
    cg_free(eidx);
    return rc;
}
