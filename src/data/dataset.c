/* SPDX-License-Identifier: MIT */
/* dataset.c: the data set itself: ownership, splitting, normalising,
 * gathering batches. The readers (csv.c, npy.c, idx.c) build on it;
 * loading by name (load.c) builds on them. */
#include "data/dataset.h"
#include "data/table.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int cg_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != tolower((unsigned char)suffix[i]))
            return 0;
    return 1;
}

void cg_dataset_take_f32(cg_dataset *out, int n, int d, float *x, int32_t *y)
{
    int max_label = -1;
    for (int i = 0; y && i < n; i++)
        if (y[i] > max_label) max_label = y[i];
    out->n = n;
    out->d = d;
    out->n_classes = y ? max_label + 1 : 0;
    out->x_u8 = NULL;
    out->x_f32 = x;
    out->y = y;
    out->rows = out->cols = out->channels = 0;
    out->table = NULL;
}

void cg_dataset_free(cg_dataset *ds)
{
    if (!ds) return;
    cg_free(ds->x_u8);
    cg_free(ds->x_f32);
    cg_free(ds->y);
    cg_free(ds->t_f32);
    cg_table_free(ds->table);
    memset(ds, 0, sizeof *ds);
}

/* --- Splitting --- */

/* A new data set with the rows idx[0..m) of ds. */
static int take_rows(const cg_dataset *ds, const int *idx, int m, cg_dataset *out)
{
    size_t d = (size_t)ds->d;
    memset(out, 0, sizeof *out);
    out->n = m;
    out->d = ds->d;
    out->n_classes = ds->n_classes;
    out->rows = ds->rows;
    out->cols = ds->cols;
    out->table = cg_table_ref(ds->table);
    out->channels = ds->channels;
    const size_t nt = (size_t)ds->n_targets;
    out->n_targets = ds->n_targets;
    if (ds->t_f32) out->t_f32 = cg_malloc((size_t)m * nt * sizeof *out->t_f32 + 1);
    if (ds->y) out->y = cg_malloc((size_t)m * sizeof *out->y);
    if (ds->x_u8) out->x_u8 = cg_malloc((size_t)m * d);
    else out->x_f32 = cg_malloc((size_t)m * d * sizeof *out->x_f32);
    if ((ds->y && !out->y) || (ds->t_f32 && !out->t_f32) || (!out->x_u8 && !out->x_f32)) {
        cg_dataset_free(out);
        return cg_error(CG_ERR_MEMORY, "cg_dataset_split: out of memory");
    }
    for (int i = 0; i < m; i++) {
        size_t src = (size_t)idx[i];
        if (ds->y) out->y[i] = ds->y[src];
        if (ds->t_f32) memcpy(out->t_f32 + (size_t)i * nt, ds->t_f32 + src * nt, nt * sizeof *out->t_f32);
        if (ds->x_u8) memcpy(out->x_u8 + (size_t)i * d, ds->x_u8 + src * d, d);
        else
            memcpy(out->x_f32 + (size_t)i * d, ds->x_f32 + src * d,
                   d * sizeof *out->x_f32);
    }
    return CG_OK;
}

/* The validation size and the shuffled row order both splits use (the
 * last n_val entries go to validation), after checking frac and ds. */
static int split_order(const cg_dataset *ds, double frac, uint64_t seed, const char *fn,
                       int **order, int *n_val)
{
    if (!(frac >= 0.0 && frac < 1.0))
        return cg_error(CG_ERR_ARG, "%s: validation fraction %g is not in [0, 1)", fn, frac);
    if (ds->n <= 0 || ds->d <= 0 || (!ds->x_u8 && !ds->x_f32))
        return cg_error(CG_ERR_ARG, "%s: empty data set", fn);
    int n = ds->n;
    *n_val = (int)floor(frac * n + 0.5);
    if (*n_val > n - 1) *n_val = n - 1; /* keep at least one training example */
    int *o = *order = cg_malloc((size_t)n * sizeof *o);
    if (!o) return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    for (int i = 0; i < n; i++) o[i] = i;
    cg_rng rng;
    cg_rng_seed(&rng, seed);
    cg_rng_shuffle(&rng, o, n);
    return CG_OK;
}

int cg_dataset_split(const cg_dataset *ds, double frac, uint64_t seed,
                     cg_dataset *train, cg_dataset *val)
{
    if (train) memset(train, 0, sizeof *train);
    if (val && val != train) memset(val, 0, sizeof *val);
    if (!ds || !train || !val)
        return cg_error(CG_ERR_ARG, "cg_dataset_split: NULL argument");
    if (train == val || train == ds || val == ds)
        return cg_error(CG_ERR_ARG,
                        "cg_dataset_split: train, val and the source must be "
                        "three different data sets");
    int *order, n_val;
    if (split_order(ds, frac, seed, "cg_dataset_split", &order, &n_val)) return cg_last_error_code();
    int n_train = ds->n - n_val;
    int rc = take_rows(ds, order, n_train, train);
    if (rc == CG_OK) {
        rc = take_rows(ds, order + n_train, n_val, val);
        if (rc) cg_dataset_free(train);
    }
    cg_free(order);
    return rc;
}

/* Reorder ds's rows so that row i becomes old row order[i], one cycle of
 * the permutation at a time through a single spare row. */
static int permute_rows(cg_dataset *ds, const int *order)
{
    const int n = ds->n;
    const size_t row = ds->x_u8 ? (size_t)ds->d : (size_t)ds->d * sizeof *ds->x_f32;
    unsigned char *x = ds->x_u8 ? ds->x_u8 : (unsigned char *)ds->x_f32;
    unsigned char *done = cg_calloc((size_t)n, 1), *spare = cg_malloc(row);
    if (!done || !spare) {
        cg_free(done);
        cg_free(spare);
        return cg_error(CG_ERR_MEMORY, "cg_dataset_split_inplace: out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (done[i]) continue;
        memcpy(spare, x + (size_t)i * row, row);
        int32_t spare_y = ds->y ? ds->y[i] : 0;
        int j = i;
        for (;;) {
            done[j] = 1;
            int k = order[j];
            if (k == i) {
                memcpy(x + (size_t)j * row, spare, row);
                if (ds->y) ds->y[j] = spare_y;
                break;
            }
            memcpy(x + (size_t)j * row, x + (size_t)k * row, row);
            if (ds->y) ds->y[j] = ds->y[k];
            j = k;
        }
    }
    cg_free(done);
    cg_free(spare);
    if (ds->t_f32) { /* targets: a reordered copy (a few floats a row) */
        const size_t nt = (size_t)ds->n_targets;
        float *t = cg_malloc((size_t)n * nt * sizeof *t + 1);
        if (!t) return cg_error(CG_ERR_MEMORY, "cg_dataset_split_inplace: out of memory");
        for (int i = 0; i < n; i++) memcpy(t + (size_t)i * nt, ds->t_f32 + (size_t)order[i] * nt, nt * sizeof *t);
        cg_free(ds->t_f32);
        ds->t_f32 = t;
    }
    return CG_OK;
}

int cg_dataset_split_inplace(cg_dataset *ds, double frac, uint64_t seed, cg_dataset *val)
{
    if (val) memset(val, 0, sizeof *val);
    if (!ds || !val || ds == val) return cg_error(CG_ERR_ARG, "cg_dataset_split_inplace: bad argument");
    int *order, n_val;
    if (split_order(ds, frac, seed, "cg_dataset_split_inplace", &order, &n_val))
        return cg_last_error_code();
    int n_train = ds->n - n_val;
    int rc = take_rows(ds, order + n_train, n_val, val);
    if (rc == CG_OK) rc = permute_rows(ds, order);
    if (rc == CG_OK) ds->n = n_train;
    else cg_dataset_free(val);
    cg_free(order);
    return rc;
}

/* --- Normalisation --- */

/* The value a missing (NaN) feature takes: the mean of the column's
 * values; for a text column's one-hot features, 1 at its most frequent
 * category and 0 elsewhere. A column with no values here gets 0. */
static int fit_fill(cg_normalizer *nz, const cg_dataset *ds)
{
    size_t n = (size_t)ds->n, d = (size_t)ds->d;
    double *sum = cg_calloc(d, sizeof *sum);
    long *count = cg_calloc(d, sizeof *count);
    nz->fill = cg_malloc(d * sizeof *nz->fill);
    if (!sum || !count || !nz->fill) {
        cg_free(sum);
        cg_free(count);
        return cg_error(CG_ERR_MEMORY, "cg_normalizer_fit: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const float *r = ds->x_f32 + i * d;
        for (size_t j = 0; j < d; j++)
            if (r[j] == r[j]) {
                sum[j] += r[j];
                count[j]++;
            }
    }
    for (size_t j = 0; j < d; j++) nz->fill[j] = count[j] ? (float)(sum[j] / (double)count[j]) : 0.0f;
    const cg_table *t = ds->table;
    for (int c = 0; t && c < t->n_cols; c++) {
        const cg_table_col *col = &t->cols[c];
        if (c == t->label_col || !col->text || col->offset + col->n_cats > ds->d) continue;
        int best = 0;
        for (int k = 1; k < col->n_cats; k++)
            if (sum[col->offset + k] > sum[col->offset + best]) best = k;
        for (int k = 0; k < col->n_cats; k++) nz->fill[col->offset + k] = k == best ? 1.0f : 0.0f;
    }
    cg_free(sum);
    cg_free(count);
    return CG_OK;
}

/* Row i, feature j of ds as the normaliser reads it (missing filled). */
static inline double raw_value(const cg_dataset *ds, const float *fill, size_t i, size_t j)
{
    size_t d = (size_t)ds->d;
    if (ds->x_u8) return ds->x_u8[i * d + j];
    float v = ds->x_f32[i * d + j];
    return v != v && fill ? fill[j] : v;
}

int cg_normalizer_fit(cg_normalizer *nz, const cg_dataset *ds, int standardize)
{
    if (nz) memset(nz, 0, sizeof *nz);
    if (!nz || !ds) return cg_error(CG_ERR_ARG, "cg_normalizer_fit: NULL argument");
    if (ds->d <= 0 || ds->n < 0 || (ds->n > 0 && !ds->x_u8 && !ds->x_f32))
        return cg_error(CG_ERR_ARG, "cg_normalizer_fit: data set has no features");
    nz->d = ds->d;
    nz->scale = ds->x_u8 ? 1.0f / 255.0f : 1.0f;
    nz->table = cg_table_ref(ds->table);
    /* A CSV model always carries fill values, so that inputs with gaps
     * can be predicted even when the training file had none. */
    int has_nan = 0;
    for (size_t k = 0; ds->x_f32 && !ds->table && k < (size_t)ds->n * (size_t)ds->d && !has_nan; k++)
        has_nan = ds->x_f32[k] != ds->x_f32[k];
    if (ds->x_f32 && (ds->table || has_nan) && fit_fill(nz, ds)) {
        cg_normalizer_free(nz);
        return CG_ERR_MEMORY;
    }
    if (!standardize) return CG_OK;
    if (ds->n == 0) {
        cg_normalizer_free(nz);
        return cg_error(CG_ERR_ARG, "cg_normalizer_fit: cannot standardise an empty data set");
    }

    size_t n = (size_t)ds->n, d = (size_t)ds->d;
    double *sum = cg_calloc(d, sizeof *sum);
    double *sq = cg_calloc(d, sizeof *sq);
    nz->mean = cg_malloc(d * sizeof *nz->mean);
    nz->inv_std = cg_malloc(d * sizeof *nz->inv_std);
    if (!sum || !sq || !nz->mean || !nz->inv_std) {
        cg_free(sum);
        cg_free(sq);
        cg_normalizer_free(nz);
        return cg_error(CG_ERR_MEMORY, "cg_normalizer_fit: out of memory");
    }
    /* Two passes over the raw values (mean, then squared deviations), row
     * by row so memory is read in order; scaled at the end. */
    const float *fill = nz->fill;
    if (ds->x_u8) {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *r = ds->x_u8 + i * d;
            for (size_t j = 0; j < d; j++) sum[j] += r[j];
        }
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) sum[j] += raw_value(ds, fill, i, j);
    }
    for (size_t j = 0; j < d; j++) sum[j] /= (double)n; /* raw mean */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double e = raw_value(ds, fill, i, j) - sum[j];
            sq[j] += e * e;
        }
    double scale = ds->x_u8 ? 1.0 / 255.0 : 1.0;
    for (size_t j = 0; j < d; j++) {
        double sd = sqrt(sq[j] / (double)n) * scale; /* population std */
        double inv = sd > 0 ? 1.0 / sd : 1.0;
        if (!isfinite(inv) || inv > 3.0e38) inv = 1.0;
        nz->mean[j] = (float)(sum[j] * scale);
        nz->inv_std[j] = (float)inv;
    }
    cg_free(sum);
    cg_free(sq);
    return CG_OK;
}

void cg_normalizer_free(cg_normalizer *nz)
{
    if (!nz) return;
    cg_free(nz->mean);
    cg_free(nz->inv_std);
    cg_free(nz->fill);
    cg_table_free(nz->table);
    memset(nz, 0, sizeof *nz);
}

/* --- Gathering batches --- */

/* Elements below which one thread gathers a batch. */
#define GATHER_OMP_MIN (1u << 16)

void cg_dataset_gather(const cg_dataset *ds, const cg_normalizer *nz,
                       const int *idx, int m, cg_real *x, cg_real *y)
{
    if (!ds || (m > 0 && !idx) || m < 0) {
        cg_error(CG_ERR_ARG, "cg_dataset_gather: NULL or negative argument");
        return;
    }
    if (m == 0) return;
    if (x && !ds->x_u8 && !ds->x_f32) {
        cg_error(CG_ERR_ARG, "cg_dataset_gather: data set has no features");
        return;
    }
    if (!ds->y && !ds->t_f32) y = NULL; /* unlabelled (cg_load_inputs): y is left as it is */
    const size_t nt = (size_t)ds->n_targets; /* with targets, y takes nt values a row */
    if (nz && nz->d != ds->d) {
        cg_error(CG_ERR_ARG,
                 "cg_dataset_gather: normaliser is for %d features, data set has %d",
                 nz->d, ds->d);
        return;
    }
    const size_t d = (size_t)ds->d;
    const float scale = nz ? nz->scale : (ds->x_u8 ? 1.0f / 255.0f : 1.0f);
    const float *mean = nz ? nz->mean : NULL;
    const float *inv = nz ? nz->inv_std : NULL;
    /* Indices are checked first, on this thread: cg_error's message is
     * this thread's. */
    for (int i = 0; i < m; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            cg_error(CG_ERR_ARG, "cg_dataset_gather: index %d out of range [0, %d)", idx[i],
                     ds->n);
    /* Rows are spread over the threads for a large batch: one thread alone
     * left the others waiting (a batch of 128 Fashion-MNIST images). */
#pragma omp parallel for if ((size_t)m * d > GATHER_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        int k = idx[i];
        cg_real *restrict xo = x ? x + (size_t)i * d : NULL;
        if (k < 0 || k >= ds->n) {
            if (xo) memset(xo, 0, d * sizeof *xo);
            if (y && ds->t_f32) memset(y + (size_t)i * nt, 0, nt * sizeof *y);
            else if (y) y[i] = 0;
            continue;
        }
        if (y && ds->t_f32)
            for (size_t j = 0; j < nt; j++) y[(size_t)i * nt + j] = (cg_real)ds->t_f32[(size_t)k * nt + j];
        else if (y) y[i] = (cg_real)ds->y[k];
        if (!xo) continue;
        if (ds->x_u8) {
            const uint8_t *restrict r = ds->x_u8 + (size_t)k * d;
            if (mean && inv)
                for (size_t j = 0; j < d; j++)
                    xo[j] = (cg_real)(((float)r[j] * scale - mean[j]) * inv[j]);
            else if (mean)
                for (size_t j = 0; j < d; j++)
                    xo[j] = (cg_real)((float)r[j] * scale - mean[j]);
            else if (inv)
                for (size_t j = 0; j < d; j++)
                    xo[j] = (cg_real)((float)r[j] * scale * inv[j]);
            else
                for (size_t j = 0; j < d; j++) xo[j] = (cg_real)((float)r[j] * scale);
        } else {
            const float *restrict r = ds->x_f32 + (size_t)k * d;
            const float *fill = nz ? nz->fill : NULL;
            if (fill) /* missing cells (NaN) take their fill value first */
                for (size_t j = 0; j < d; j++) {
                    float v = r[j] != r[j] ? fill[j] : r[j];
                    v *= scale;
                    if (mean) v -= mean[j];
                    if (inv) v *= inv[j];
                    xo[j] = (cg_real)v;
                }
            else if (mean && inv)
                for (size_t j = 0; j < d; j++)
                    xo[j] = (cg_real)((r[j] * scale - mean[j]) * inv[j]);
            else if (mean)
                for (size_t j = 0; j < d; j++) xo[j] = (cg_real)(r[j] * scale - mean[j]);
            else if (inv)
                for (size_t j = 0; j < d; j++) xo[j] = (cg_real)(r[j] * scale * inv[j]);
            else
                for (size_t j = 0; j < d; j++) xo[j] = (cg_real)(r[j] * scale);
        }
    }
}
