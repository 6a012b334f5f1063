/* fit.c: the training loop (cg_fit), evaluation, prediction, accuracy, and
 * a Keras-like progress display. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, fileno */
#include "internal.h"

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

static int evaluate_rows(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                         int *idx_buf, double *loss, double *acc)
{
    cg_graph *g = cg_model_graph(m);
    int was = cg_graph_training(g);
    cg_graph_set_training(g, 0);
    double sum_loss = 0;
    long correct = 0;
    int rc = CG_OK, c = cg_model_n_classes(m);
    for (int start = 0; start < ds->n && rc == CG_OK; start += batch) {
        int n = ds->n - start < batch ? ds->n - start : batch;
        for (int i = 0; i < n; i++) idx_buf[i] = start + i;
        rc = feed_batch(m, ds, nz, idx_buf, n);
        if (!rc) rc = cg_forward(cg_model_loss(m));
        if (rc) break;
        sum_loss += (double)cg_node_scalar(cg_model_loss(m)) * n;
        correct += count_correct(cg_node_value(cg_model_logits(m)),
                                 cg_node_value(cg_model_labels(m)), n, c);
    }
    cg_graph_set_training(g, was);
    if (rc) return rc;
    if (loss) *loss = sum_loss / ds->n;
    if (acc) *acc = (double)correct / ds->n;
    return CG_OK;
}

int cg_evaluate(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                double *loss, double *acc)
{
    if (!m || !ds) return cg_error(CG_ERR_ARG, "cg_evaluate: NULL argument");
    if (cg_model_build(m)) return cg_last_error_code();
    if (check_data(m, ds, "cg_evaluate", "evaluation")) return cg_last_error_code();
    if (batch <= 0) batch = 1000;
    if (batch > ds->n) batch = ds->n;
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    if (!idx) return cg_error(CG_ERR_MEMORY, "cg_evaluate: out of memory");
    int rc = evaluate_rows(m, ds, nz, batch, idx, loss, acc);
    cg_free(idx);
    return rc;
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
    if (cg_model_build(m)) return cg_last_error_code();
    if (check_data(m, train, "cg_fit", "training")) return cg_last_error_code();
    if (val && val->n == 0) val = NULL;
    if (val && check_data(m, val, "cg_fit", "validation")) return cg_last_error_code();
    if (res) {
        memset(res, 0, sizeof *res);
        res->val_loss = res->val_acc = NAN;
    }

    cg_graph *g = cg_model_graph(m);
    const int n = train->n, c = cg_model_n_classes(m);
    const int bs = opt->batch_size < n ? opt->batch_size : n;
    int eval_batch = 1000;
    if (val && eval_batch > val->n) eval_batch = val->n;
    int *idx = cg_malloc((size_t)n * sizeof *idx);
    int *eidx = cg_malloc((size_t)(eval_batch > 0 ? eval_batch : 1) * sizeof *eidx);
    if (!idx || !eidx) {
        cg_free(idx);
        cg_free(eidx);
        return cg_error(CG_ERR_MEMORY, "cg_fit: out of memory");
    }
    for (int i = 0; i < n; i++) idx[i] = i;
    cg_rng rng;
    cg_rng_seed(&rng, opt->seed);

    progress p = {0};
    p.f = opt->progress ? (FILE *)opt->progress : stderr;
    p.tty = isatty(fileno(p.f));
    p.verbose = opt->verbose;
    p.epochs = opt->epochs;
    p.steps = (n + bs - 1) / bs;

    int rc = CG_OK;
    double t_start = now_seconds(), train_time = 0;
    long examples = 0;
    cg_graph_set_training(g, 1);
    for (int ep = 1; ep <= opt->epochs && rc == CG_OK; ep++) {
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
            rc = feed_batch(m, train, nz, idx + start, k);
            if (!rc) rc = cg_minimize_step(o, cg_model_loss(m), &loss);
            if (rc) {
                if (rc == CG_ERR_NUMERIC)
                    rc = cg_error(CG_ERR_NUMERIC,
                                  "cg_fit: epoch %d, step %d: the loss is %g (diverged); try a lower "
                                  "learning rate", ep, s + 1, (double)loss);
                break;
            }
            sum_loss += (double)loss * k;
            correct += count_correct(cg_node_value(cg_model_logits(m)),
                                     cg_node_value(cg_model_labels(m)), k, c);
            seen += k;
            progress_step(&p, s + 1, sum_loss / seen, (double)correct / seen);
        }
        if (rc) {
            if (p.verbose && p.tty) fputc('\n', p.f);
            break;
        }
        double t_train = now_seconds() - t0;
        train_time += t_train;
        examples += n;
        cg_epoch_metrics e = {ep, opt->epochs, sum_loss / n, (double)correct / n, NAN, NAN, 0,
                              t_train > 0 ? n / t_train : 0};
        if (val) {
            rc = evaluate_rows(m, val, nz, eval_batch, eidx, &e.val_loss, &e.val_acc);
            if (rc) break;
        }
        e.seconds = now_seconds() - t0;
        progress_epoch(&p, &e, val != NULL);
        if (res) {
            res->epochs = ep;
            res->train_loss = e.train_loss;
            res->train_acc = e.train_acc;
            res->val_loss = e.val_loss;
            res->val_acc = e.val_acc;
        }
        if (opt->on_epoch && opt->on_epoch(&e, opt->user)) break;
    }
    if (res) {
        res->seconds = now_seconds() - t_start;
        res->examples_per_second = train_time > 0 ? examples / train_time : 0;
    }
    cg_free(idx);
    cg_free(eidx);
    return rc;
}
