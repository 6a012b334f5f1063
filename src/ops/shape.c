/* SPDX-License-Identifier: MIT */
/* shape.c: reshape, index and slice — ops that only move data. All three
 * are views (node.h, plan.c): their value is a contiguous run of their
 * input's, so their forward copies nothing. Their gradients are not
 * views: the input may have other consumers adding to its gradient, so
 * the backward adds (or, for reshape as the first writer, copies) the
 * output gradient into it. */
#include "ops.h"

#include <string.h>

/* ---- reshape: ip[0] = ndim, ip[1..] = target shape (one -1 allowed) ---- */

static int infer_reshape(cg_node *n)
{
    const cg_node *x = n->in[0];
    int nd = n->ip[0], infer_at = -1;
    char s[96];
    if (nd < 0 || nd > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "reshape: ndim %d out of range 0..%d", nd, CG_MAX_DIMS);
    size_t known = 1;
    for (int i = 0; i < nd; i++) {
        int d = n->ip[1 + i];
        if (d == -1) {
            if (infer_at >= 0) return cg_error(CG_ERR_SHAPE, "reshape: more than one -1 in the shape");
            infer_at = i;
        } else if (d <= 0) {
            return cg_error(CG_ERR_SHAPE, "reshape: dimension %d is %d", i, d);
        } else {
            known *= (size_t)d;
        }
    }
    size_t total = cg_shape_size(x->ndim, x->shape);
    n->ndim = nd;
    for (int i = 0; i < nd; i++) n->shape[i] = n->ip[1 + i];
    if (total == (size_t)-1) {
        /* Batch still open: the -1 stays open; checked again when planned. */
        if (infer_at < 0)
            return cg_error(CG_ERR_SHAPE, "reshape: input %s has an open batch dimension; "
                            "the target shape needs a -1", cg_shape_str(x, s, sizeof s));
        return CG_OK;
    }
    if (infer_at >= 0) {
        if (total % known)
            return cg_error(CG_ERR_SHAPE, "reshape: %zu elements of %s do not divide into rows of %zu",
                            total, cg_shape_str(x, s, sizeof s), known);
        n->shape[infer_at] = (int)(total / known);
    } else if (known != total) {
        char t[96];
        return cg_error(CG_ERR_SHAPE, "reshape: cannot reshape %s (%zu elements) to %s (%zu)",
                        cg_shape_str(x, s, sizeof s), total, cg_shape_str(n, t, sizeof t), known);
    }
    return CG_OK;
}

/* A reshape is always a view. */
static size_t view_whole(const cg_node *n)
{
    (void)n;
    return 0;
}

static void forward_copy(cg_node *n)
{
    if (n->val != n->in[0]->val) memcpy(n->val, n->in[0]->val, n->size * sizeof(cg_real));
}

static void backward_copy(cg_node *n)
{
    cg_real *gx = n->in[0]->grad;
    if (cg_grad_first(n->in[0])) memcpy(gx, n->grad, n->size * sizeof(cg_real));
    else
        for (size_t i = 0; i < n->size; i++) gx[i] += n->grad[i];
}

const cg_op_def cg_op_reshape = {
    .name = "reshape",
    .arity = 1,
    .infer_shape = infer_reshape,
    .forward = forward_copy,
    .backward = backward_copy,
    .grad_overwrite = 1,
    .view = view_whole,
};

cg_node *cg_reshape(cg_node *a, int ndim, const int *shape)
{
    if (ndim < 0 || ndim > CG_MAX_DIMS)
        return cg_error_null(CG_ERR_SHAPE, "reshape: ndim %d out of range 0..%d", ndim, CG_MAX_DIMS);
    if (ndim && !shape) return cg_error_null(CG_ERR_ARG, "reshape: shape is NULL");
    int ip[1 + CG_MAX_DIMS] = {ndim};
    for (int i = 0; i < ndim; i++) ip[1 + i] = shape[i];
    return cg_node_new_op(&cg_op_reshape, &a, 1, ip, 1 + ndim, NULL, 0);
}

/* ---- slice: rows [ip[0], ip[0] + ip[1]) of the first axis; index drops
 * that axis (ip[2] = 1). Both are one contiguous block. ---- */

static int infer_slice(cg_node *n)
{
    const cg_node *x = n->in[0];
    int start = n->ip[0], len = n->ip[1], drop = n->ip[2];
    const char *name = n->op->name;
    char s[96];
    if (x->ndim < 1)
        return cg_error(CG_ERR_SHAPE, "%s: cannot index a scalar", name);
    int rows = x->shape[0];
    if (rows < 0) /* open batch: checked once the batch is known */
        return cg_error(CG_ERR_SHAPE, "%s: cannot index the open batch dimension of %s", name,
                        cg_shape_str(x, s, sizeof s));
    if (start < 0 || len <= 0 || start + len > rows)
        return cg_error(CG_ERR_SHAPE, "%s: rows [%d, %d) out of range for shape %s", name, start,
                        start + len, cg_shape_str(x, s, sizeof s));
    if (drop) {
        n->ndim = x->ndim - 1;
        for (int i = 1; i < x->ndim; i++) n->shape[i - 1] = x->shape[i];
    } else {
        cg_copy_shape(n, x);
        n->shape[0] = len;
    }
    return CG_OK;
}

static size_t row_size(const cg_node *x)
{
    return cg_shape_size(x->ndim - 1, x->shape + 1);
}

static size_t view_slice(const cg_node *n) { return (size_t)n->ip[0] * row_size(n->in[0]); }

static void forward_slice(cg_node *n)
{
    const cg_real *src = n->in[0]->val + view_slice(n);
    if (n->val != src) memcpy(n->val, src, n->size * sizeof(cg_real));
}

static void backward_slice(cg_node *n)
{
    cg_real *gx = n->in[0]->grad + (size_t)n->ip[0] * row_size(n->in[0]);
    for (size_t i = 0; i < n->size; i++) gx[i] += n->grad[i];
}

const cg_op_def cg_op_slice = {
    .name = "slice",
    .arity = 1,
    .infer_shape = infer_slice,
    .forward = forward_slice,
    .backward = backward_slice,
    .view = view_slice,
};
const cg_op_def cg_op_index = {
    .name = "index",
    .arity = 1,
    .infer_shape = infer_slice,
    .forward = forward_slice,
    .backward = backward_slice,
    .view = view_slice,
};

cg_node *cg_slice(cg_node *a, int start, int len)
{
    int ip[3] = {start, len, 0};
    return cg_node_new_op(&cg_op_slice, &a, 1, ip, 3, NULL, 0);
}

cg_node *cg_index(cg_node *a, int i)
{
    int ip[3] = {i, 1, 1};
    return cg_node_new_op(&cg_op_index, &a, 1, ip, 3, NULL, 0);
}
