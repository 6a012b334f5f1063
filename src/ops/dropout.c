/* SPDX-License-Identifier: MIT */
/* dropout.c: inverted dropout (Srivastava et al. 2014). Training: keep each
 * element with probability 1 - p and scale it by 1 / (1 - p), so the
 * expected output equals the input and inference needs no rescaling.
 * Inference: identity. The mask (0 or 1/(1-p)) sits in scratch for the
 * backward pass; it is drawn from the graph's seeded PRNG. */
#include "ops.h"

#include <string.h>

static int infer_dropout(cg_node *n)
{
    cg_copy_shape(n, n->in[0]);
    return CG_OK;
}

static size_t scratch_dropout(const cg_node *n) { return n->size; }

static void forward_dropout(cg_node *n)
{
    const cg_real *x = n->in[0]->val;
    const size_t N = n->size;
    if (!n->g->training || n->rp[0] == 0) {
        memcpy(n->val, x, N * sizeof(cg_real));
        for (size_t i = 0; i < N; i++) n->scratch[i] = 1;
        return;
    }
    const double p = n->rp[0];
    const cg_real scale = (cg_real)(1 / (1 - p));
    cg_rng *r = &n->g->rng;
    for (size_t i = 0; i < N; i++) {
        n->scratch[i] = cg_rng_uniform(r) >= p ? scale : 0;
        n->val[i] = x[i] * n->scratch[i];
    }
}

static void backward_dropout(cg_node *n)
{
    cg_real *gx = n->in[0]->grad;
    for (size_t i = 0; i < n->size; i++) gx[i] += n->grad[i] * n->scratch[i];
}

const cg_op_def cg_op_dropout = {
    .name = "dropout",
    .arity = 1,
    .infer_shape = infer_dropout,
    .scratch_size = scratch_dropout,
    .forward = forward_dropout,
    .backward = backward_dropout,
};

cg_node *cg_dropout(cg_node *x, cg_real p)
{
    if (!(p >= 0 && p < 1))
        return cg_error_null(CG_ERR_ARG, "dropout: rate %g must be in [0, 1)", (double)p);
    cg_real rp[1] = {p};
    return cg_node_new_op(&cg_op_dropout, &x, 1, NULL, 0, rp, 1);
}
