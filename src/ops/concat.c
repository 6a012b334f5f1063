/* SPDX-License-Identifier: MIT */
/* concat.c: concat and slice along any axis (split is slices). Along an
 * axis, a tensor is [outer, len, inner]: each of the outer blocks holds
 * len * inner contiguous values. Concatenating along the axis interleaves
 * the inputs' blocks; a slice takes a run of each block. */
#include "ops.h"

#include <string.h>

static void axis_dims(const cg_node *x, int axis, size_t *outer, size_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)x->shape[i];
    for (int i = axis + 1; i < x->ndim; i++) *inner *= (size_t)x->shape[i];
}

/* Axis a of an ndim-D tensor, negative counting from the last, into
 * 0..ndim-1; -1 with the error recorded when out of range. */
static int norm_axis(const char *op, int axis, const cg_node *x)
{
    if (axis < -x->ndim || axis >= x->ndim) {
        char s[96];
        cg_error(CG_ERR_SHAPE, "%s: axis %d out of range for shape %s", op, axis,
                 cg_shape_str(x, s, sizeof s));
        return -1;
    }
    return axis < 0 ? axis + x->ndim : axis;
}

/* ---- concat: ip[0] = axis ---- */

static int infer_concat(cg_node *n)
{
    const cg_node *a = n->in[0];
    char sa[96], sb[96];
    int axis = norm_axis("concat", n->ip[0], a);
    if (axis < 0) return cg_last_error_code();
    n->ip[0] = axis;
    cg_copy_shape(n, a);
    for (int k = 1; k < n->n_in; k++) {
        const cg_node *b = n->in[k];
        int ok = b->ndim == a->ndim;
        for (int i = 0; ok && i < a->ndim; i++) ok = i == axis || b->shape[i] == a->shape[i];
        if (!ok)
            return cg_error(CG_ERR_SHAPE, "concat: input %d %s does not fit input 1 %s (all "
                            "dimensions but axis %d must be equal)", k + 1,
                            cg_shape_str(b, sb, sizeof sb), cg_shape_str(a, sa, sizeof sa), axis);
        n->shape[axis] += b->shape[axis];
    }
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k]->shape[axis] < 0)
            return cg_error(CG_ERR_SHAPE, "concat: cannot concatenate along the open batch "
                            "dimension (axis %d of %s)", axis,
                            cg_shape_str(n->in[k], sa, sizeof sa));
    return CG_OK;
}

static void forward_concat(cg_node *n)
{
    const int axis = n->ip[0];
    size_t outer, inner;
    axis_dims(n, axis, &outer, &inner);
    const size_t block = (size_t)n->shape[axis] * inner;
    size_t at = 0; /* where input k's run starts in each output block */
    for (int k = 0; k < n->n_in; k++) {
        const size_t run = (size_t)n->in[k]->shape[axis] * inner;
        const cg_real *x = n->in[k]->val;
        for (size_t o = 0; o < outer; o++)
            memcpy(n->val + o * block + at, x + o * run, run * sizeof(cg_real));
        at += run;
    }
}

static void backward_concat(cg_node *n)
{
    const int axis = n->ip[0];
    size_t outer, inner;
    axis_dims(n, axis, &outer, &inner);
    const size_t block = (size_t)n->shape[axis] * inner;
    size_t at = 0;
    for (int k = 0; k < n->n_in; k++) {
        const size_t run = (size_t)n->in[k]->shape[axis] * inner;
        cg_real *gx = n->in[k]->grad;
        for (size_t o = 0; gx && o < outer; o++) {
            const cg_real *g = n->grad + o * block + at;
            for (size_t i = 0; i < run; i++) gx[o * run + i] += g[i];
        }
        at += run;
    }
}

const cg_op_def cg_op_concat = {
    .name = "concat",
    .arity = -1, /* 1 .. CG_MAX_INPUTS */
    .infer_shape = infer_concat,
    .forward = forward_concat,
    .backward = backward_concat,
};

cg_node *cg_concat(int n, cg_node *const *nodes, int axis)
{
    if (n < 1 || n > CG_MAX_INPUTS || !nodes)
        return cg_error_null(CG_ERR_ARG, "concat: %d inputs; give 1 to %d (concatenate the "
                             "result again for more)", n, CG_MAX_INPUTS);
    int ip[1] = {axis};
    return cg_node_new_op(&cg_op_concat, nodes, n, ip, 1, NULL, 0);
}

/* ---- slice_axis: ip[0] = axis, ip[1] = start, ip[2] = length ---- */

static int infer_slice_axis(cg_node *n)
{
    const cg_node *x = n->in[0];
    char s[96];
    int axis = norm_axis("slice_axis", n->ip[0], x);
    if (axis < 0) return cg_last_error_code();
    n->ip[0] = axis;
    int start = n->ip[1], len = n->ip[2], dim = x->shape[axis];
    if (dim < 0)
        return cg_error(CG_ERR_SHAPE, "slice_axis: cannot slice the open batch dimension of %s",
                        cg_shape_str(x, s, sizeof s));
    if (start < 0 || len <= 0 || start > dim - len)
        return cg_error(CG_ERR_SHAPE, "slice_axis: [%d, %d) along axis %d out of range for %s",
                        start, start + len, axis, cg_shape_str(x, s, sizeof s));
    cg_copy_shape(n, x);
    n->shape[axis] = len;
    return CG_OK;
}

/* A view when the run is one block: nothing before the axis but 1s. */
static size_t view_slice_axis(const cg_node *n)
{
    size_t outer, inner;
    axis_dims(n->in[0], n->ip[0], &outer, &inner);
    return outer == 1 ? (size_t)n->ip[1] * inner : CG_NOT_A_VIEW;
}

static void forward_slice_axis(cg_node *n)
{
    const cg_node *x = n->in[0];
    size_t outer, inner;
    axis_dims(x, n->ip[0], &outer, &inner);
    const size_t block = (size_t)x->shape[n->ip[0]] * inner, run = (size_t)n->ip[2] * inner;
    const cg_real *src = x->val + (size_t)n->ip[1] * inner;
    if (n->val == src) return; /* a view */
    for (size_t o = 0; o < outer; o++)
        memcpy(n->val + o * run, src + o * block, run * sizeof(cg_real));
}

static void backward_slice_axis(cg_node *n)
{
    const cg_node *x = n->in[0];
    size_t outer, inner;
    axis_dims(x, n->ip[0], &outer, &inner);
    const size_t block = (size_t)x->shape[n->ip[0]] * inner, run = (size_t)n->ip[2] * inner;
    cg_real *gx = x->grad + (size_t)n->ip[1] * inner;
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < run; i++) gx[o * block + i] += n->grad[o * run + i];
}

const cg_op_def cg_op_slice_axis = {
    .name = "slice_axis",
    .arity = 1,
    .infer_shape = infer_slice_axis,
    .forward = forward_slice_axis,
    .backward = backward_slice_axis,
    .view = view_slice_axis,
};

cg_node *cg_slice_axis(cg_node *a, int axis, int start, int len)
{
    int ip[3] = {axis, start, len};
    return cg_node_new_op(&cg_op_slice_axis, &a, 1, ip, 3, NULL, 0);
}

int cg_split(cg_node *a, int axis, int n, const int *sizes, cg_node **out)
{
    if (!out) return cg_error(CG_ERR_ARG, "split: out is NULL");
    for (int k = 0; k < n; k++) out[k] = NULL;
    if (!a) return cg_error(CG_ERR_ARG, "split: input is NULL");
    if (n < 1) return cg_error(CG_ERR_ARG, "split: %d pieces; need at least 1", n);
    int ax = norm_axis("split", axis, a);
    if (ax < 0) return cg_last_error_code();
    int dim = a->shape[ax], total = 0;
    char s[96];
    if (dim < 0)
        return cg_error(CG_ERR_SHAPE, "split: cannot split the open batch dimension of %s",
                        cg_shape_str(a, s, sizeof s));
    if (sizes) {
        for (int k = 0; k < n; k++) {
            if (sizes[k] <= 0)
                return cg_error(CG_ERR_ARG, "split: piece %d has size %d", k, sizes[k]);
            total += sizes[k];
        }
        if (total != dim)
            return cg_error(CG_ERR_SHAPE, "split: sizes add up to %d, axis %d of %s has %d",
                            total, ax, cg_shape_str(a, s, sizeof s), dim);
    } else if (dim % n) {
        return cg_error(CG_ERR_SHAPE, "split: axis %d of %s (%d) does not divide into %d "
                        "equal pieces", ax, cg_shape_str(a, s, sizeof s), dim, n);
    }
    for (int k = 0, at = 0; k < n; k++) {
        int len = sizes ? sizes[k] : dim / n;
        if (!(out[k] = cg_slice_axis(a, ax, at, len))) return cg_last_error_code();
        at += len;
    }
    return CG_OK;
}
