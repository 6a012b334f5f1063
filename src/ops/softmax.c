/* SPDX-License-Identifier: MIT */
/* softmax.c: row-wise softmax and log-softmax, the fused losses on logits,
 * and argmax/hardmax for inference. All work on [m, C]: m rows (examples)
 * of C classes. Every exp is taken of (z - row max) <= 0, so nothing
 * overflows, even for logits of +-1000. */
#include "ops.h"

#include <float.h>

static int infer_rows(cg_node *n)
{
    const cg_node *z = n->in[0];
    if (z->ndim != 2) {
        char s[96];
        return cg_error(CG_ERR_SHAPE, "%s: logits must be 2-D [examples, classes], got %s",
                        n->op->name, cg_shape_str(z, s, sizeof s));
    }
    cg_copy_shape(n, z);
    return CG_OK;
}

/* log(sum(exp(z))) of one row, stably. */
static inline cg_real log_sum_exp(const cg_real *z, int C)
{
    cg_real mx = z[0];
    for (int c = 1; c < C; c++)
        if (z[c] > mx) mx = z[c];
    cg_real s = 0;
    for (int c = 0; c < C; c++) s += CG_EXP(z[c] - mx);
    return mx + CG_LOG(s);
}

/* p = exp(z - max) / sum(exp(z - max)): dividing by the sum, rather than
 * taking exp(z - lse), keeps full precision when |z| is large (z - lse
 * rounds to the ulp of lse, 6e-5 in float at 1000). */
static inline cg_real softmax_row_lse(const cg_real *z, cg_real *p, int C)
{
    cg_real mx = z[0];
    for (int c = 1; c < C; c++)
        if (z[c] > mx) mx = z[c];
    cg_real s = 0;
    for (int c = 0; c < C; c++) s += p[c] = CG_EXP(z[c] - mx);
    for (int c = 0; c < C; c++) p[c] /= s;
    return mx + CG_LOG(s); /* log_sum_exp(z), from the same exps */
}

static inline void softmax_row(const cg_real *z, cg_real *p, int C) { softmax_row_lse(z, p, C); }

/* ---- softmax: p = exp(z - max) / sum; dz = p * (g - sum(g * p)) ---- */

static void forward_softmax(cg_node *n)
{
    const int m = n->shape[0], C = n->shape[1];
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        const cg_real *z = n->in[0]->val + (size_t)i * C;
        cg_real *p = n->val + (size_t)i * C;
        softmax_row(z, p, C);
    }
}

static void backward_softmax(cg_node *n)
{
    const int m = n->shape[0], C = n->shape[1];
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        const cg_real *p = n->val + (size_t)i * C, *g = n->grad + (size_t)i * C;
        cg_real *gz = n->in[0]->grad + (size_t)i * C;
        cg_real dot = 0;
        for (int c = 0; c < C; c++) dot += g[c] * p[c];
        for (int c = 0; c < C; c++) gz[c] += p[c] * (g[c] - dot);
    }
}

/* ---- log_softmax: y = z - lse; dz = g - exp(y) * sum(g) ----
 * Over the rows of a 2-D node (cg_log_softmax), or over any axis
 * (cg_log_softmax_axis: ip[1] = 1, ip[0] = the axis): the input seen as
 * [outer, len, inner], each of the outer * inner lines of len values,
 * inner apart, normalised on its own. Rows are the case inner = 1. */

static int infer_log_softmax(cg_node *n)
{
    if (!n->ip[1]) {
        n->ip[0] = 1;
        return infer_rows(n);
    }
    const cg_node *z = n->in[0];
    int axis = n->ip[0];
    if (axis < -z->ndim || axis >= z->ndim) {
        char s[96];
        return cg_error(CG_ERR_SHAPE, "log_softmax: axis %d out of range for shape %s", axis,
                        cg_shape_str(z, s, sizeof s));
    }
    if (axis < 0) n->ip[0] = axis + z->ndim;
    cg_copy_shape(n, z);
    return CG_OK;
}

static void lines(const cg_node *n, size_t *outer, size_t *len, size_t *inner)
{
    const int axis = n->ip[0];
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)n->shape[i];
    *len = (size_t)n->shape[axis];
    for (int i = axis + 1; i < n->ndim; i++) *inner *= (size_t)n->shape[i];
}

static void forward_log_softmax(cg_node *n)
{
    size_t outer, len, inner;
    lines(n, &outer, &len, &inner);
    const long L = (long)(outer * inner);
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long l = 0; l < L; l++) {
        const size_t base = (size_t)l / inner * len * inner + (size_t)l % inner;
        const cg_real *z = n->in[0]->val + base;
        cg_real *y = n->val + base;
        if (inner == 1) {
            cg_real lse = log_sum_exp(z, (int)len);
            for (size_t c = 0; c < len; c++) y[c] = z[c] - lse;
            continue;
        }
        cg_real mx = z[0], s = 0;
        for (size_t c = 1; c < len; c++)
            if (z[c * inner] > mx) mx = z[c * inner];
        for (size_t c = 0; c < len; c++) s += CG_EXP(z[c * inner] - mx);
        cg_real lse = mx + CG_LOG(s);
        for (size_t c = 0; c < len; c++) y[c * inner] = z[c * inner] - lse;
    }
}

static void backward_log_softmax(cg_node *n)
{
    size_t outer, len, inner;
    lines(n, &outer, &len, &inner);
    const long L = (long)(outer * inner);
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long l = 0; l < L; l++) {
        const size_t base = (size_t)l / inner * len * inner + (size_t)l % inner;
        const cg_real *y = n->val + base, *g = n->grad + base;
        cg_real *gz = n->in[0]->grad + base;
        cg_real s = 0;
        for (size_t c = 0; c < len; c++) s += g[c * inner];
        for (size_t c = 0; c < len; c++) gz[c * inner] += g[c * inner] - CG_EXP(y[c * inner]) * s;
    }
}

/* ---- softmax cross-entropy, fused ----
 * J = (1/m) sum_i (lse_i - sum_c y_ic z_ic)  (with sum_c y_ic = 1), and
 * dJ/dz = (p - y) / m directly: the softmax Jacobian never appears.
 * scratch holds p. ip[0] = 1 when labels are class indices [m]. */

static int infer_sce(cg_node *n)
{
    const cg_node *z = n->in[0], *y = n->in[1];
    char sz[96], sy[96];
    if (z->ndim != 2)
        return cg_error(CG_ERR_SHAPE, "softmax_cross_entropy: logits must be 2-D [examples, "
                        "classes], got %s", cg_shape_str(z, sz, sizeof sz));
    if (y->ndim == 1 && y->shape[0] == z->shape[0]) n->ip[0] = 1;
    else if (cg_dims_equal(y, z)) n->ip[0] = 0;
    else
        return cg_error(CG_ERR_SHAPE, "softmax_cross_entropy: labels %s fit neither class indices "
                        "[%s] nor one-hot rows like the logits %s", cg_shape_str(y, sy, sizeof sy),
                        z->shape[0] < 0 ? "batch" : "m", cg_shape_str(z, sz, sizeof sz));
    n->ndim = 0;
    return CG_OK;
}

static size_t scratch_sce(const cg_node *n) { return n->in[0]->size; }

/* Rows [lo, hi) of forward_sce: softmax into scratch, the rows' loss
 * summed in order; *bad = the first row with a label that is not a class. */
static double sce_rows(cg_node *n, long lo, long hi, int *bad)
{
    const cg_node *Z = n->in[0], *Y = n->in[1];
    const int C = Z->shape[1], indices = n->ip[0];
    double total = 0;
    for (long i = lo; i < hi; i++) {
        const cg_real *z = Z->val + (size_t)i * C;
        cg_real *p = n->scratch + (size_t)i * C;
        cg_real lse = softmax_row_lse(z, p, C);
        if (indices) {
            cg_real yv = Y->val[i];
            int k = (int)yv;
            if (!(yv >= 0 && yv < C) || (cg_real)k != yv) {
#pragma omp critical
                if (*bad < 0 || i < *bad) *bad = (int)i;
                continue;
            }
            total += lse - z[k];
        } else {
            const cg_real *y = Y->val + (size_t)i * C;
            for (int c = 0; c < C; c++)
                if (y[c] != 0) total += y[c] * (lse - z[c]);
        }
    }
    return total;
}

static void forward_sce(cg_node *n)
{
    const cg_node *Z = n->in[0], *Y = n->in[1];
    const int m = Z->shape[0], C = Z->shape[1];
    const long ch = cg_sum_chunk(m);
    double part[CG_SUM_PARTS];
    int bad = -1;
#pragma omp parallel for if (Z->size > CG_OMP_MIN) schedule(static)
    for (long c = 0; c < CG_SUM_PARTS; c++) part[c] = sce_rows(n, c * ch, cg_sum_end(c, ch, m), &bad);
    if (bad >= 0) {
        cg_node_fault(n, CG_ERR_ARG, "softmax_cross_entropy: label %g of example %d is not a class "
                      "index in 0..%d", (double)Y->val[bad], bad, C - 1);
        return;
    }
    n->val[0] = (cg_real)(cg_sum_parts(part) / m);
}

static void backward_sce(cg_node *n)
{
    cg_node *Z = n->in[0], *Y = n->in[1];
    const int m = Z->shape[0], C = Z->shape[1], indices = n->ip[0];
    const cg_real s = n->grad[0] / (cg_real)m;
#pragma omp parallel for if (Z->size > CG_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        const cg_real *p = n->scratch + (size_t)i * C;
        if (Z->grad) {
            cg_real *gz = Z->grad + (size_t)i * C;
            if (indices) {
                int k = (int)Y->val[i];
                for (int c = 0; c < C; c++) gz[c] += s * (p[c] - (c == k));
            } else {
                const cg_real *y = Y->val + (size_t)i * C;
                for (int c = 0; c < C; c++) gz[c] += s * (p[c] - y[c]);
            }
        }
        if (Y->grad && !indices) {
            /* dJ/dy_c = -log p_c / m (soft targets from another node). */
            cg_real *gy = Y->grad + (size_t)i * C;
            const cg_real *z = Z->val + (size_t)i * C;
            cg_real lse = log_sum_exp(z, C);
            for (int c = 0; c < C; c++) gy[c] += s * (lse - z[c]);
        }
    }
}

/* ---- sigmoid cross-entropy on logits ----
 * l = max(z, 0) - z y + log(1 + exp(-|z|)), the stable form of
 * -y log s(z) - (1 - y) log(1 - s(z)); dl/dz = s(z) - y, dl/dy = -z. */

static int infer_bce(cg_node *n)
{
    if (!cg_dims_equal(n->in[0], n->in[1])) {
        char a[96], b[96];
        return cg_error(CG_ERR_SHAPE, "sigmoid_cross_entropy: logits %s and targets %s differ",
                        cg_shape_str(n->in[0], a, sizeof a), cg_shape_str(n->in[1], b, sizeof b));
    }
    n->ndim = 0;
    return CG_OK;
}

static void forward_bce(cg_node *n)
{
    const cg_real *z = n->in[0]->val, *y = n->in[1]->val;
    const long N = (long)n->in[0]->size;
    const long ch = cg_sum_chunk(N);
    double part[CG_SUM_PARTS];
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long c = 0; c < CG_SUM_PARTS; c++) {
        double s = 0;
        for (long i = c * ch; i < cg_sum_end(c, ch, N); i++)
            s += (z[i] > 0 ? z[i] : 0) - z[i] * y[i] + CG_LOG1P(CG_EXP(-CG_FABS(z[i])));
        part[c] = s;
    }
    n->val[0] = (cg_real)(cg_sum_parts(part) / (double)N);
}

static void backward_bce(cg_node *n)
{
    cg_node *Z = n->in[0], *Y = n->in[1];
    const long N = (long)Z->size;
    const cg_real s = n->grad[0] / (cg_real)N;
    for (long i = 0; i < N; i++) {
        cg_real z = Z->val[i];
        cg_real sg = z >= 0 ? 1 / (1 + CG_EXP(-z)) : CG_EXP(z) / (1 + CG_EXP(z));
        if (Z->grad) Z->grad[i] += s * (sg - Y->val[i]);
        if (Y->grad) Y->grad[i] += s * -z;
    }
}

/* ---- argmax [m] and hardmax [m, C]: ties go to the lowest index ---- */

static int infer_argmax(cg_node *n)
{
    int rc = infer_rows(n);
    if (rc) return rc;
    n->ndim = 1;
    return CG_OK;
}

static inline int row_argmax(const cg_real *z, int C)
{
    int k = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > z[k]) k = c;
    return k;
}

static void forward_argmax(cg_node *n)
{
    const cg_node *Z = n->in[0];
    const int m = Z->shape[0], C = Z->shape[1];
    for (int i = 0; i < m; i++) n->val[i] = (cg_real)row_argmax(Z->val + (size_t)i * C, C);
}

static void forward_hardmax(cg_node *n)
{
    const int m = n->shape[0], C = n->shape[1];
    for (int i = 0; i < m; i++) {
        cg_real *h = n->val + (size_t)i * C;
        int k = row_argmax(n->in[0]->val + (size_t)i * C, C);
        for (int c = 0; c < C; c++) h[c] = c == k;
    }
}

const cg_op_def cg_op_softmax = {
    .name = "softmax",
    .arity = 1,
    .infer_shape = infer_rows,
    .forward = forward_softmax,
    .backward = backward_softmax,
};
const cg_op_def cg_op_log_softmax = {
    .name = "log_softmax",
    .arity = 1,
    .infer_shape = infer_log_softmax,
    .forward = forward_log_softmax,
    .backward = backward_log_softmax,
};
const cg_op_def cg_op_softmax_cross_entropy = {
    .name = "softmax_cross_entropy",
    .arity = 2,
    .infer_shape = infer_sce,
    .scratch_size = scratch_sce,
    .forward = forward_sce,
    .backward = backward_sce,
};
const cg_op_def cg_op_sigmoid_cross_entropy = {
    .name = "sigmoid_cross_entropy",
    .arity = 2,
    .infer_shape = infer_bce,
    .forward = forward_bce,
    .backward = backward_bce,
};
const cg_op_def cg_op_argmax = {
    .name = "argmax",
    .arity = 1,
    .infer_shape = infer_argmax,
    .forward = forward_argmax,
};
const cg_op_def cg_op_hardmax = {
    .name = "hardmax",
    .arity = 1,
    .infer_shape = infer_rows,
    .forward = forward_hardmax,
};

cg_node *cg_softmax(cg_node *z) { return cg_node_new_op(&cg_op_softmax, &z, 1, NULL, 0, NULL, 0); }

cg_node *cg_log_softmax(cg_node *z)
{
    int ip[2] = {1, 0};
    return cg_node_new_op(&cg_op_log_softmax, &z, 1, ip, 2, NULL, 0);
}

cg_node *cg_log_softmax_axis(cg_node *z, int axis)
{
    int ip[2] = {axis, 1};
    return cg_node_new_op(&cg_op_log_softmax, &z, 1, ip, 2, NULL, 0);
}

cg_node *cg_softmax_cross_entropy(cg_node *logits, cg_node *labels)
{
    cg_node *in[2] = {logits, labels};
    return cg_node_new_op(&cg_op_softmax_cross_entropy, in, 2, NULL, 0, NULL, 0);
}

cg_node *cg_sigmoid_cross_entropy(cg_node *logits, cg_node *targets)
{
    cg_node *in[2] = {logits, targets};
    return cg_node_new_op(&cg_op_sigmoid_cross_entropy, in, 2, NULL, 0, NULL, 0);
}

cg_node *cg_argmax(cg_node *z) { return cg_node_new_op(&cg_op_argmax, &z, 1, NULL, 0, NULL, 0); }
cg_node *cg_hardmax(cg_node *z) { return cg_node_new_op(&cg_op_hardmax, &z, 1, NULL, 0, NULL, 0); }
