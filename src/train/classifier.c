// SPDX-License-Identifier: MIT
/* classifier.c: cg_fit, the training loop (fit.c) on a cg_model
 * classifier: fed from cg_datasets through a normaliser, with accuracy as
 * its one metric ("acc") and what early stopping watches. */
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int feed(const cg_fit_task *t, const void *set, const int *idx, int k)
{
    const cg_classifier_ctx *c = t->ctx;
    return cg_train_feed_batch(c->m, set, c->nz, idx, k);
}

int cg_train_classifier_task(cg_model *m, const cg_normalizer *nz, cg_classifier_ctx *ctx,
                             cg_fit_task *t)
{
    memset(t, 0, sizeof *t);
    ctx->m = m;
    ctx->nz = nz;
    t->fn = "cg_fit";
    t->g = cg_model_graph(m);
    t->loss = cg_model_loss(m);
    t->feed = feed;
    t->ctx = ctx;
    int loss, task = cg_model_task(m, &loss);
    cg_node *y = cg_model_labels(m);
    const cg_metric acc = {"acc", CG_METRIC_ACCURACY, cg_model_logits(m), y};
    if (task == CG_TASK_CLASSIFICATION) {
        t->classes = cg_model_n_classes(m);
        t->acc_metric = 0;
        t->monitor = 0;
        snprintf(t->monitor_name, sizeof t->monitor_name, "val_acc");
        return cg_metric_sums_init(&t->ms, &acc, 1, "cg_fit");
    }
    /* Regression and multi-label watch the validation loss. The baseline
     * of divergence rule 3 is what predicting nothing scores: the mean of
     * standardised targets (a variance of 1), or p = 0.5 (ln 2). */
    t->monitor = -1;
    snprintf(t->monitor_name, sizeof t->monitor_name, "val_loss");
    if (task == CG_TASK_MULTILABEL) {
        t->acc_metric = 0;
        t->baseline = log(2.0);
        return cg_metric_sums_init(&t->ms, &acc, 1, "cg_fit");
    }
    t->acc_metric = -1;
    t->baseline = 1.0;
    cg_node *out = cg_model_probs(m); /* original units */
    const cg_metric reg[3] = {{"rmse", CG_METRIC_RMSE, out, y}, {"mae", CG_METRIC_MAE, out, y},
                              {"r2", CG_METRIC_R2, out, y}};
    return cg_metric_sums_init(&t->ms, reg, 3, "cg_fit");
}

enum { CHECK_ROWS = 256 };

/* Every feature value of ds, as the training steps will see it (normalised
 * by nz), is finite and at most CG_FIT_VALUE_LIMIT in magnitude: a raw
 * value near FLT_MAX, or a tiny standard deviation, overflows and would
 * poison every weight it meets. */
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
            if (fabs((double)buf[j]) <= CG_FIT_VALUE_LIMIT) continue; /* false for NaN */
            const int row = start + (int)(j / (size_t)d), col = (int)(j % (size_t)d);
            const size_t at = (size_t)row * (size_t)d + (size_t)col;
            const double raw = ds->x_f32 ? (double)ds->x_f32[at] : (double)ds->x_u8[at];
            rc = cg_error(CG_ERR_NUMERIC,
                          "cg_fit: the %s set's row %d, feature column %d (0-based) is %g after "
                          "normalisation (raw value %g); values must be finite and at most 2^64 "
                          "(%.3g) in magnitude, or training overflows: standardise or rescale "
                          "the features", what, row, col, (double)buf[j], raw, CG_FIT_VALUE_LIMIT);
            break;
        }
    }
    cg_free(buf);
    cg_free(idx);
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
    if (cg_fit_check_options(opt, "cg_fit")) return cg_last_error_code();
    if (cg_model_build(m)) return cg_last_error_code();
    if (cg_train_check_data(m, train, "cg_fit", "training")) return cg_last_error_code();
    if (val && val->n == 0) val = NULL;
    if (val && cg_train_check_data(m, val, "cg_fit", "validation")) return cg_last_error_code();
    if (opt->patience > 0 && !val)
        return cg_error(CG_ERR_ARG, "cg_fit: early stopping (patience %d) needs a validation set",
                        opt->patience);
    if (check_features(train, nz, "training") || (val && check_features(val, nz, "validation")))
        return cg_last_error_code();
    cg_classifier_ctx ctx;
    cg_fit_task t;
    if (cg_train_classifier_task(m, nz, &ctx, &t)) return cg_last_error_code();
    t.train = train;
    t.n_train = train->n;
    t.val = val;
    t.n_val = val ? val->n : 0;
    return cg_fit_run(&t, o, opt, res);
}
