// SPDX-License-Identifier: MIT
/* metrics.c: the metrics of a fit (cg_metric) as running sums, so that a
 * set's RMSE or R2 is exact over all its rows rather than a mean of batch
 * values, and ranks combine theirs by adding. */
#include "train/train.h"

#include <math.h>
#include <string.h>

static const char *const kind_names[] = {"mean", "mse", "rmse", "mae", "r2", "acc"};

/* Values per row of n, its first dimension being the batch. */
static int per_row(cg_node *n)
{
    long c = 1;
    for (int a = 1; a < cg_node_ndim(n); a++) c *= cg_node_dim(n, a);
    return c > 0 && c <= 1 << 30 ? (int)c : -1;
}

/* How many sums metric m keeps, cols its pred's values per row. */
static size_t sums_needed(const cg_metric *m, int cols)
{
    /* R2: the row count, then per column sum y, sum y^2, sum (y - p)^2. */
    return m->kind == CG_METRIC_R2 ? 1 + 3 * (size_t)cols : 2;
}

static int check_metric(cg_metric_sums *s, int i, const char *fn)
{
    const cg_metric *m = &s->m[i];
    const char *name = s->names[i];
    if (m->kind < CG_METRIC_MEAN || m->kind > CG_METRIC_ACCURACY)
        return cg_error(CG_ERR_ARG, "%s: metric %d ('%s') has kind %d, not a CG_METRIC_* value", fn,
                        i, name, m->kind);
    if (!m->pred) return cg_error(CG_ERR_ARG, "%s: metric '%s' has no pred node", fn, name);
    if (m->kind == CG_METRIC_MEAN) {
        if (m->target)
            return cg_error(CG_ERR_ARG, "%s: metric '%s' (mean) takes no target node", fn, name);
        if (cg_node_ndim(m->pred) > 0 && per_row(m->pred) != 1)
            return cg_error(CG_ERR_SHAPE, "%s: metric '%s' (mean) needs a scalar node", fn, name);
        s->cols[i] = 1;
        return CG_OK;
    }
    if (!m->target) return cg_error(CG_ERR_ARG, "%s: metric '%s' has no target node", fn, name);
    if (cg_node_graph(m->pred) != cg_node_graph(m->target))
        return cg_error(CG_ERR_ARG, "%s: metric '%s': pred and target are in different graphs", fn,
                        name);
    const int pc = per_row(m->pred), tc = per_row(m->target);
    if (pc < 1 || tc < 1 || cg_node_ndim(m->pred) < 1 || cg_node_ndim(m->target) < 1)
        return cg_error(CG_ERR_SHAPE, "%s: metric '%s': pred and target need a batch dimension "
                                      "first", fn, name);
    const int multiclass = m->kind == CG_METRIC_ACCURACY && tc == 1 && pc > 1;
    if (pc != tc && !multiclass)
        return cg_error(CG_ERR_SHAPE,
                        "%s: metric '%s': pred has %d values per row, target %d; they must be "
                        "equal%s", fn, name, pc, tc,
                        m->kind == CG_METRIC_ACCURACY ? " (or target 1, a class index)" : "");
    s->cols[i] = pc;
    s->tcols[i] = tc;
    return CG_OK;
}

int cg_metric_sums_init(cg_metric_sums *s, const cg_metric *m, int n, const char *fn)
{
    memset(s, 0, sizeof *s);
    if (n < 0 || n > CG_MAX_METRICS)
        return cg_error(CG_ERR_ARG, "%s: %d metrics; 0 to %d are allowed", fn, n, CG_MAX_METRICS);
    if (n && !m) return cg_error(CG_ERR_ARG, "%s: %d metrics but no metric array", fn, n);
    s->n = n;
    for (int i = 0; i < n; i++) {
        s->m[i] = m[i];
        int known = m[i].kind >= CG_METRIC_MEAN && m[i].kind <= CG_METRIC_ACCURACY;
        s->names[i] = m[i].name ? m[i].name : known ? kind_names[m[i].kind] : "?";
        if (!*s->names[i]) return cg_error(CG_ERR_ARG, "%s: metric %d has an empty name", fn, i);
        for (int j = 0; j < i; j++)
            if (strcmp(s->names[i], s->names[j]) == 0)
                return cg_error(CG_ERR_ARG, "%s: two metrics are named '%s'", fn, s->names[i]);
        if (strcmp(s->names[i], "loss") == 0)
            return cg_error(CG_ERR_ARG, "%s: a metric may not be named 'loss' (the loss is always "
                                        "reported)", fn);
        if (check_metric(s, i, fn)) return cg_last_error_code();
        s->off[i + 1] = s->off[i] + sums_needed(&m[i], s->cols[i]);
    }
    return CG_OK;
}

static int row_argmax(const cg_real *row, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

/* Metric i's sums over k rows; the values come from its nodes. */
static void accumulate(const cg_metric_sums *s, int i, double *sum, int k)
{
    const cg_metric *m = &s->m[i];
    const int c = s->cols[i];
    const cg_real *p = cg_node_value(m->pred);
    const cg_real *y = m->target ? cg_node_value(m->target) : NULL;
    const size_t n = (size_t)k * (size_t)c;
    switch (m->kind) {
    case CG_METRIC_MEAN:
        sum[0] += (double)p[0] * k;
        sum[1] += k;
        break;
    case CG_METRIC_MSE:
    case CG_METRIC_RMSE:
        for (size_t j = 0; j < n; j++) {
            double d = (double)p[j] - (double)y[j];
            sum[0] += d * d;
        }
        sum[1] += (double)n;
        break;
    case CG_METRIC_MAE:
        for (size_t j = 0; j < n; j++) sum[0] += fabs((double)p[j] - (double)y[j]);
        sum[1] += (double)n;
        break;
    case CG_METRIC_R2:
        sum[0] += k;
        for (size_t j = 0; j < n; j++) {
            double *col = sum + 1 + 3 * (j % (size_t)c), t = (double)y[j], d = (double)p[j] - t;
            col[0] += t;
            col[1] += t * t;
            col[2] += d * d;
        }
        break;
    case CG_METRIC_ACCURACY:
        if (cg_node_size(m->target) == (size_t)k && c > 1) {
            for (int r = 0; r < k; r++) sum[0] += row_argmax(p + (size_t)r * (size_t)c, c) == (int)y[r];
            sum[1] += k;
        } else {
            for (size_t j = 0; j < n; j++) sum[0] += (p[j] > 0) == (y[j] > (cg_real)0.5);
            sum[1] += (double)n;
        }
        break;
    }
}

int cg_metric_accumulate(const cg_metric_sums *s, double *sums, int k)
{
    for (int i = 0; i < s->n; i++) {
        const cg_metric *m = &s->m[i];
        size_t want_p = m->kind == CG_METRIC_MEAN ? 1 : (size_t)k * (size_t)s->cols[i];
        size_t want_t = (size_t)k * (size_t)s->tcols[i];
        /* A node whose first axis is not the batch (a transposed output)
         * would be read as the wrong rows. */
        if (cg_node_size(m->pred) != want_p || (m->target && cg_node_size(m->target) != want_t))
            return cg_error(CG_ERR_SHAPE,
                            "metric '%s': a batch of %d rows gave pred %zu values and target %zu; "
                            "the first dimension of both must be the batch", s->names[i], k,
                            cg_node_size(m->pred), m->target ? cg_node_size(m->target) : 0);
        accumulate(s, i, sums + s->off[i], k);
    }
    return CG_OK;
}

void cg_metric_values(const cg_metric_sums *s, const double *sums, double *out)
{
    for (int i = 0; i < s->n; i++) {
        const double *sum = sums + s->off[i];
        const int c = s->cols[i];
        switch (s->m[i].kind) {
        case CG_METRIC_RMSE:
            out[i] = sum[1] > 0 ? sqrt(sum[0] / sum[1]) : NAN;
            break;
        case CG_METRIC_R2: {
            const double rows = sum[0];
            double total = 0;
            for (int j = 0; j < c; j++) {
                const double *col = sum + 1 + 3 * j;
                const double sst = col[1] - col[0] * col[0] / rows;
                /* scikit-learn's force_finite: a constant column scores 1
                 * when predicted exactly, else 0. The tolerance absorbs the
                 * rounding of sum y^2 - (sum y)^2 / n. */
                if (sst <= 1e-12 * (col[1] > 0 ? col[1] : 1)) total += col[2] == 0 ? 1 : 0;
                else total += 1 - col[2] / sst;
            }
            out[i] = rows > 0 ? total / c : NAN;
            break;
        }
        default: /* a sum over a count */
            out[i] = sum[1] > 0 ? sum[0] / sum[1] : NAN;
            break;
        }
    }
}

int cg_metric_maximize(const cg_metric_sums *s, int i)
{
    return s->m[i].kind == CG_METRIC_R2 || s->m[i].kind == CG_METRIC_ACCURACY;
}
