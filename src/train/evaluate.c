/* SPDX-License-Identifier: MIT */
/* evaluate.c: evaluation (loss, accuracy, confusion counts) and prediction
 * of a model in inference mode, and the checks and batch feeding the
 * training loop shares with them. */
#include "train/train.h"
#include "dist/dist.h"

#include <math.h>
#include <string.h>

int cg_train_row_argmax(const cg_real *row, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

long cg_train_count_correct(const cg_real *scores, const cg_real *labels, int n, int c)
{
    long k = 0;
    for (int i = 0; i < n; i++)
        if (cg_train_row_argmax(scores + (size_t)i * (size_t)c, c) == (int)labels[i]) k++;
    return k;
}

double cg_accuracy(const cg_real *scores, const cg_real *labels, int n, int c)
{
    if (!scores || !labels || n <= 0 || c <= 0) return 0.0;
    return (double)cg_train_count_correct(scores, labels, n, c) / n;
}

int cg_train_check_data(cg_model *m, const cg_dataset *ds, const char *fn, const char *what)
{
    const int task = cg_model_task(m, NULL), c = cg_model_n_classes(m);
    if (!ds->n || (!ds->x_u8 && !ds->x_f32))
        return cg_error(CG_ERR_ARG, "%s: the %s set is empty", fn, what);
    if (!ds->y && !ds->t_f32) /* inputs only: nothing to score against */
        return cg_error(CG_ERR_ARG, "%s: the %s set has no %s columns", fn, what, task ? "target" : "label");
    if (ds->d != cg_model_n_inputs(m))
        return cg_error(CG_ERR_SHAPE, "%s: the %s set has %d features, the model takes %d", fn,
                        what, ds->d, cg_model_n_inputs(m));
    if (task != CG_TASK_CLASSIFICATION || ds->t_f32) {
        if (task == CG_TASK_CLASSIFICATION || !ds->t_f32 || ds->n_targets != c)
            return cg_error(CG_ERR_ARG, "%s: the %s set has %d numeric targets, the %s model takes %d", fn,
                            what, ds->t_f32 ? ds->n_targets : 0, cg_task_name(task),
                            task == CG_TASK_CLASSIFICATION ? 0 : c);
        for (size_t i = 0; i < (size_t)ds->n * (size_t)c; i++) {
            float v = ds->t_f32[i];
            if (!isfinite(v) || (task == CG_TASK_MULTILABEL && v != 0 && v != 1))
                return cg_error(CG_ERR_ARG, "%s: the %s set has target %g at row %zu, column %zu; %s", fn,
                                what, (double)v, i / (size_t)c, i % (size_t)c,
                                task == CG_TASK_MULTILABEL ? "multi-label targets are 0 or 1" : "targets must be finite");
        }
        return CG_OK;
    }
    for (int i = 0; i < ds->n; i++)
        if (ds->y[i] < 0 || ds->y[i] >= c)
            return cg_error(CG_ERR_ARG, "%s: the %s set has label %d at row %d; the model has %d classes",
                            fn, what, (int)ds->y[i], i, c);
    return CG_OK;
}

int cg_train_feed_batch(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                        const int *idx, int n)
{
    cg_real *x = cg_feed_buffer(cg_model_input(m), n);
    if (!x) return cg_last_error_code();
    cg_real *y = cg_feed_buffer(cg_model_labels(m), n);
    if (!y) return cg_last_error_code();
    cg_dataset_gather(ds, nz, idx, n, x, y);
    return CG_OK;
}

/* Confusion counts of one evaluated batch of k rows. */
typedef struct confusion {
    cg_model *m;
    long *conf;
} confusion;

static void count_confusion(void *user, int k)
{
    confusion *cf = user;
    const int c = cg_model_n_classes(cf->m);
    const cg_real *logits = cg_node_value(cg_model_logits(cf->m));
    const cg_real *labels = cg_node_value(cg_model_labels(cf->m));
    for (int i = 0; i < k; i++) {
        int pred = cg_train_row_argmax(logits + (size_t)i * (size_t)c, c), y = (int)labels[i];
        cf->conf[(size_t)y * (size_t)c + (size_t)pred]++;
    }
}

int cg_train_evaluate_rows(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                           int batch, int *idx_buf, cg_dist *d, double *loss, double *acc,
                           long *conf)
{
    cg_classifier_ctx ctx;
    cg_fit_task t;
    if (cg_train_classifier_task(m, nz, &ctx, &t)) return cg_last_error_code();
    /* Regression's R2 keeps sums per output column. */
    double *sums = cg_malloc(t.ms.off[t.ms.n] * sizeof *sums + 1), value[CG_MAX_METRICS];
    if (!sums) return cg_error(CG_ERR_MEMORY, "cg_evaluate: out of memory");
    confusion cf = {m, conf};
    int rc = cg_fit_evaluate(&t, ds, ds->n, batch, idx_buf, d, loss, sums,
                             conf ? count_confusion : NULL, &cf, 1);
    if (!rc) cg_metric_values(&t.ms, sums, value);
    cg_free(sums);
    if (!rc && acc) *acc = t.acc_metric >= 0 ? value[t.acc_metric] : NAN;
    return rc;
}

static int evaluate(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                    cg_dist *d, double *loss, double *acc, long *conf)
{
    if (!m || !ds) return cg_error(CG_ERR_ARG, "cg_evaluate: NULL argument");
    if (cg_model_build(m)) return cg_last_error_code();
    if (cg_train_check_data(m, ds, "cg_evaluate", "evaluation")) return cg_last_error_code();
    if (batch <= 0) batch = CG_EVAL_BATCH;
    if (batch > ds->n) batch = ds->n;
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    if (!idx) return cg_error(CG_ERR_MEMORY, "cg_evaluate: out of memory");
    int rc = cg_train_evaluate_rows(m, ds, nz, batch, idx, d, loss, acc, conf);
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
        cg_infer_threads_begin(g);
        rc = cg_forward(cg_model_probs(m));
        cg_infer_threads_end(g, k);
        if (rc) break;
        const cg_real *p = cg_node_value(cg_model_probs(m));
        if (probs) memcpy(probs + (size_t)start * (size_t)c, p, (size_t)k * (size_t)c * sizeof *p);
        if (classes)
            for (int i = 0; i < k; i++)
                classes[start + i] = cg_train_row_argmax(p + (size_t)i * (size_t)c, c);
    }
    cg_graph_set_training(g, was);
    cg_infer_threads_done(g);
    return rc;
}
