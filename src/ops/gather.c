/* SPDX-License-Identifier: MIT */
/* gather.c: embedding lookup. out[k, ...] = table[idx[k], ...] for every
 * index k of `indices` (any shape, integers stored as cg_real, like class
 * labels): [V, D...] gathered by [I...] is [I..., D...]. The backward adds
 * each output row's gradient into the table row it came from (a
 * scatter-add: a row picked twice gets both). Indices get no gradient:
 * the output is piecewise constant in them. An index that is not an
 * integer in [0, V) stops the forward with an error naming it. */
#include "ops.h"

#include <string.h>

static int infer_gather(cg_node *n)
{
    const cg_node *t = n->in[0], *ix = n->in[1];
    char st[96], si[96];
    if (t->ndim < 1)
        return cg_error(CG_ERR_SHAPE, "gather: the table is a scalar; it needs rows [V, ...]");
    if (ix->ndim + t->ndim - 1 > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "gather: indices %s into table %s give more than %d "
                        "dimensions", cg_shape_str(ix, si, sizeof si),
                        cg_shape_str(t, st, sizeof st), CG_MAX_DIMS);
    n->ndim = ix->ndim + t->ndim - 1;
    for (int i = 0; i < ix->ndim; i++) n->shape[i] = ix->shape[i];
    for (int i = 1; i < t->ndim; i++) n->shape[ix->ndim + i - 1] = t->shape[i];
    return CG_OK;
}

static size_t row_len(const cg_node *t) { return cg_shape_size(t->ndim - 1, t->shape + 1); }

static void forward_gather(cg_node *n)
{
    const cg_node *t = n->in[0], *ix = n->in[1];
    const size_t row = row_len(t), K = ix->size;
    const int V = t->shape[0];
    for (size_t k = 0; k < K; k++) {
        cg_real v = ix->val[k];
        int i = (int)v;
        if (!(v >= 0 && v < (cg_real)V) || (cg_real)i != v) {
            cg_node_fault(n, CG_ERR_ARG, "gather: index %g at position %zu is not a row of the "
                          "table (an integer in 0..%d)", (double)v, k, V - 1);
            return;
        }
        memcpy(n->val + k * row, t->val + (size_t)i * row, row * sizeof(cg_real));
    }
}

static void backward_gather(cg_node *n)
{
    const cg_node *t = n->in[0], *ix = n->in[1];
    cg_real *gt = t->grad;
    if (!gt) return;
    const size_t row = row_len(t), K = ix->size;
    for (size_t k = 0; k < K; k++) {
        cg_real *dst = gt + (size_t)ix->val[k] * row;
        const cg_real *g = n->grad + k * row;
        for (size_t j = 0; j < row; j++) dst[j] += g[j];
    }
}

const cg_op_def cg_op_gather = {
    .name = "gather",
    .arity = 2,
    .infer_shape = infer_gather,
    .forward = forward_gather,
    .backward = backward_gather,
};

cg_node *cg_gather(cg_node *table, cg_node *indices)
{
    cg_node *in[2] = {table, indices};
    return cg_node_new_op(&cg_op_gather, in, 2, NULL, 0, NULL, 0);
}
