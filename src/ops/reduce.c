/* SPDX-License-Identifier: MIT */
/* reduce.c: sum and mean over everything (a scalar); sum, mean and max
 * over any one axis (negative counts from the last, as in NumPy), which
 * is removed from the shape or, with keepdim, kept with size 1. For an
 * axis, the input is viewed as [outer, len, inner]:
 * out[o, i] = sum_j x[o, j, i]. max's gradient goes to the first maximal
 * element along the axis (as argmax picks it), not split among ties. */
#include "ops.h"

enum { R_SUM, R_MEAN, R_MAX };

static int infer_reduce_all(cg_node *n)
{
    n->ndim = 0;
    return CG_OK;
}

static void forward_reduce_all(cg_node *n)
{
    const cg_real *x = n->in[0]->val;
    const long N = (long)n->in[0]->size;
    /* double: a float sum of 10^6 terms loses digits */
    const long ch = cg_sum_chunk(N);
    double part[CG_SUM_PARTS];
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long c = 0; c < CG_SUM_PARTS; c++) {
        double s = 0;
        for (long i = c * ch; i < cg_sum_end(c, ch, N); i++) s += x[i];
        part[c] = s;
    }
    const double s = cg_sum_parts(part);
    n->val[0] = (cg_real)(n->ip[0] == R_MEAN ? s / (double)N : s);
}

static void backward_reduce_all(cg_node *n)
{
    cg_real *gx = n->in[0]->grad;
    const long N = (long)n->in[0]->size;
    cg_real g = n->grad[0];
    if (n->ip[0] == R_MEAN) g /= (cg_real)N;
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long i = 0; i < N; i++) gx[i] += g;
}

static void axis_dims(const cg_node *x, int axis, size_t *outer, size_t *len, size_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)x->shape[i];
    *len = (size_t)x->shape[axis];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= (size_t)x->shape[i];
}

/* ip[1] = axis (normalised here to 0..ndim-1), ip[2] = keepdim. */
static int infer_reduce_axis(cg_node *n)
{
    const cg_node *x = n->in[0];
    int axis = n->ip[1];
    if (axis < -x->ndim || axis >= x->ndim) {
        char s[96];
        return cg_error(CG_ERR_SHAPE, "%s: axis %d out of range for shape %s", n->op->name, axis,
                        cg_shape_str(x, s, sizeof s));
    }
    if (axis < 0) n->ip[1] = axis += x->ndim;
    if (n->ip[2]) {
        cg_copy_shape(n, x);
        n->shape[axis] = 1;
        return CG_OK;
    }
    n->ndim = x->ndim - 1;
    for (int i = 0, j = 0; i < x->ndim; i++)
        if (i != axis) n->shape[j++] = x->shape[i];
    return CG_OK;
}

static void forward_reduce_axis(cg_node *n)
{
    size_t outer, len, inner;
    axis_dims(n->in[0], n->ip[1], &outer, &len, &inner);
    const cg_real *x = n->in[0]->val;
    cg_real scale = n->ip[0] == R_MEAN ? (cg_real)1 / (cg_real)len : 1;
    for (size_t o = 0; o < outer; o++) {
        cg_real *y = n->val + o * inner;
        for (size_t i = 0; i < inner; i++) y[i] = 0;
        for (size_t j = 0; j < len; j++) {
            const cg_real *xr = x + (o * len + j) * inner;
            for (size_t i = 0; i < inner; i++) y[i] += xr[i];
        }
        for (size_t i = 0; i < inner; i++) y[i] *= scale;
    }
}

static void backward_reduce_axis(cg_node *n)
{
    size_t outer, len, inner;
    axis_dims(n->in[0], n->ip[1], &outer, &len, &inner);
    cg_real *gx = n->in[0]->grad;
    cg_real scale = n->ip[0] == R_MEAN ? (cg_real)1 / (cg_real)len : 1;
    for (size_t o = 0; o < outer; o++) {
        const cg_real *g = n->grad + o * inner;
        for (size_t j = 0; j < len; j++) {
            cg_real *gr = gx + (o * len + j) * inner;
            for (size_t i = 0; i < inner; i++) gr[i] += g[i] * scale;
        }
    }
}

/* max: out[o, i] = x[o, j*, i], j* the first j where it is largest (or
 * the first NaN: a NaN propagates, as in torch.max); the backward finds
 * j* again rather than storing it. */
static inline size_t max_index(const cg_real *x, size_t len, size_t inner)
{
    size_t k = 0;
    for (size_t j = 1; j < len && x[k * inner] == x[k * inner]; j++)
        if (x[j * inner] > x[k * inner] || x[j * inner] != x[j * inner]) k = j;
    return k;
}

static void forward_max_axis(cg_node *n)
{
    size_t outer, len, inner;
    axis_dims(n->in[0], n->ip[1], &outer, &len, &inner);
    const cg_real *x = n->in[0]->val;
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const cg_real *xs = x + o * len * inner + i;
            n->val[o * inner + i] = xs[max_index(xs, len, inner) * inner];
        }
}

static void backward_max_axis(cg_node *n)
{
    size_t outer, len, inner;
    axis_dims(n->in[0], n->ip[1], &outer, &len, &inner);
    const cg_real *x = n->in[0]->val;
    cg_real *gx = n->in[0]->grad;
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t at = o * len * inner + i;
            gx[at + max_index(x + at, len, inner) * inner] += n->grad[o * inner + i];
        }
}

const cg_op_def cg_op_max_axis = {
    .name = "max_axis",
    .arity = 1,
    .infer_shape = infer_reduce_axis,
    .forward = forward_max_axis,
    .backward = backward_max_axis,
};

const cg_op_def cg_op_sum = {
    .name = "sum",
    .arity = 1,
    .infer_shape = infer_reduce_all,
    .forward = forward_reduce_all,
    .backward = backward_reduce_all,
};
const cg_op_def cg_op_mean = {
    .name = "mean",
    .arity = 1,
    .infer_shape = infer_reduce_all,
    .forward = forward_reduce_all,
    .backward = backward_reduce_all,
};
const cg_op_def cg_op_sum_axis = {
    .name = "sum_axis",
    .arity = 1,
    .infer_shape = infer_reduce_axis,
    .forward = forward_reduce_axis,
    .backward = backward_reduce_axis,
};
const cg_op_def cg_op_mean_axis = {
    .name = "mean_axis",
    .arity = 1,
    .infer_shape = infer_reduce_axis,
    .forward = forward_reduce_axis,
    .backward = backward_reduce_axis,
};

cg_node *cg_sum(cg_node *a)
{
    int ip[1] = {R_SUM};
    return cg_node_new_op(&cg_op_sum, &a, 1, ip, 1, NULL, 0);
}

cg_node *cg_mean(cg_node *a)
{
    int ip[1] = {R_MEAN};
    return cg_node_new_op(&cg_op_mean, &a, 1, ip, 1, NULL, 0);
}

/* The original constructors take axes from 0 only, as they always did. */
static int negative_axis(const char *op, const cg_node *a, int axis)
{
    if (!a || axis >= 0) return 0;
    char s[96];
    cg_error(CG_ERR_SHAPE, "%s: axis %d out of range for shape %s (the _dim forms count "
             "negative axes from the last)", op, axis, cg_shape_str(a, s, sizeof s));
    return 1;
}

cg_node *cg_sum_axis(cg_node *a, int axis)
{
    return negative_axis("sum_axis", a, axis) ? NULL : cg_sum_dim(a, axis, 0);
}

cg_node *cg_mean_axis(cg_node *a, int axis)
{
    return negative_axis("mean_axis", a, axis) ? NULL : cg_mean_dim(a, axis, 0);
}

cg_node *cg_sum_dim(cg_node *a, int axis, int keepdim)
{
    int ip[3] = {R_SUM, axis, keepdim != 0};
    return cg_node_new_op(&cg_op_sum_axis, &a, 1, ip, 3, NULL, 0);
}

cg_node *cg_mean_dim(cg_node *a, int axis, int keepdim)
{
    int ip[3] = {R_MEAN, axis, keepdim != 0};
    return cg_node_new_op(&cg_op_mean_axis, &a, 1, ip, 3, NULL, 0);
}

cg_node *cg_max_dim(cg_node *a, int axis, int keepdim)
{
    int ip[3] = {R_MAX, axis, keepdim != 0};
    return cg_node_new_op(&cg_op_max_axis, &a, 1, ip, 3, NULL, 0);
}
