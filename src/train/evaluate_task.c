// SPDX-License-Identifier: MIT
/* evaluate_task.c: cg_evaluate_task, what a regression or multi-label
 * model scores on a data set: errors in the targets' own units, the
 * spread of the residuals, per-label accuracy and F1. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n), linear between order statistics (as
 * numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    double at = q * (double)(n - 1);
    size_t i = (size_t)at;
    return i + 1 < n ? v[i] + (at - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

int cg_evaluate_task(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, cg_task_metrics *out)
{
    static const char fn[] = "cg_evaluate_task";
    if (!m || !ds || !out) return cg_error(CG_ERR_ARG, "%s: NULL argument", fn);
    memset(out, 0, sizeof *out);
    const int task = cg_model_task(m, NULL), c = cg_model_n_classes(m), d = ds->d;
    if (task == CG_TASK_CLASSIFICATION)
        return cg_error(CG_ERR_ARG, "%s: a classifier (use cg_evaluate)", fn);
    if (cg_evaluate(m, ds, nz, 0, &out->loss, NULL)) return cg_last_error_code();
    const size_t n = (size_t)ds->n, nc = n * (size_t)c;
    const int batch = 1024;
    cg_real *x = cg_malloc((size_t)batch * (size_t)d * sizeof *x);
    cg_real *p = cg_malloc(nc * sizeof *p);
    double *res = cg_malloc(nc * sizeof *res);
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    double *sum = cg_calloc((size_t)c * 6, sizeof *sum); /* per output: y, y^2, e^2, |e|, tp, fp|fn */
    int rc = x && p && res && idx && sum ? CG_OK : cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    for (size_t s = 0; !rc && s < n; s += (size_t)batch) {
        int k = n - s < (size_t)batch ? (int)(n - s) : batch;
        for (int i = 0; i < k; i++) idx[i] = (int)s + i;
        cg_dataset_gather(ds, nz, idx, k, x, NULL);
        rc = cg_predict(m, x, k, p + s * (size_t)c, NULL);
    }
    out->task = task, out->n_outputs = c, out->n = (int)n;
    for (size_t i = 0; !rc && i < nc; i++) {
        double y = ds->t_f32[i], e = y - (double)p[i], *o = sum + (i % (size_t)c) * 6;
        res[i] = e;
        o[0] += y, o[1] += y * y, o[2] += e * e, o[3] += fabs(e);
        int hit = p[i] > 0.5, pos = y > 0.5;
        o[4] += hit && pos, o[5] += hit != pos;
    }
    double se = 0, ae = 0;
    for (int j = 0; !rc && j < c; j++) {
        const double *o = sum + (size_t)j * 6, sst = o[1] - o[0] * o[0] / (double)n;
        se += o[2], ae += o[3];
        /* scikit-learn's convention for a constant target: 1 if exact, else 0 */
        double r2 = sst > 0 ? 1 - o[2] / sst : (o[2] == 0 ? 1 : 0);
        double acc = 1 - o[5] / (double)n, f1 = o[4] + o[5] > 0 ? 2 * o[4] / (2 * o[4] + o[5]) : 1;
        out->r2 += r2 / c, out->acc += acc / c, out->f1 += f1 / c;
        if (j < CG_MAX_TARGETS) {
            out->out_rmse[j] = sqrt(o[2] / (double)n), out->out_mae[j] = o[3] / (double)n;
            out->out_r2[j] = r2, out->out_acc[j] = acc, out->out_f1[j] = f1;
        }
    }
    if (!rc) {
        out->rmse = sqrt(se / (double)nc), out->mae = ae / (double)nc;
        qsort(res, nc, sizeof *res, by_value);
        for (int q = 0; q < 5; q++) out->residual[q] = quantile(res, nc, q / 4.0);
        if (task != CG_TASK_REGRESSION) out->rmse = out->mae = out->r2 = NAN;
        else out->acc = out->f1 = NAN;
    }
    cg_free(x);
    cg_free(p);
    cg_free(res);
    cg_free(idx);
    cg_free(sum);
    return rc;
}
