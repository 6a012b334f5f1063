/* SPDX-License-Identifier: MIT */
/* autodiff.c: reverse-mode automatic differentiation. After the forward
 * pass, seed d(cost)/d(cost) = 1 and walk the nodes backwards; each op adds
 * its share of the gradient into its inputs (the chain rule, summed over
 * every path). Creation order is topological, so one reverse walk is
 * enough.
 *
 * Gradients are not zeroed up front: that was a pass over every gradient
 * buffer (2.7 MB for a 784-512-512-10 model) each step. The first op to
 * write a gradient in a pass overwrites it (cg_grad_first); ops that only
 * know how to add get their inputs' gradients zeroed just before their
 * backward runs; what no op reached is zeroed at the end. */
#include "node.h"


unsigned cg_mark_ancestors(cg_node *n);

int cg_backward(cg_node *cost) { return cg_backward_seeded(cost, 1); }

int cg_backward_seeded(cg_node *cost, cg_real seed)
{
    if (!cost) return cg_error(CG_ERR_ARG, "cg_backward: cost is NULL");
    int rc = cg_forward(cost);
    if (rc) return rc;
    if (cost->size != 1) {
        char shp[96];
        return cg_error(CG_ERR_SHAPE, "cg_backward: cost must be a scalar, got shape %s (op %s)",
                        cg_shape_str(cost, shp, sizeof shp), cg_node_op(cost));
    }
    cg_graph *g = cost->g;
    const unsigned s = cost->mark;
    g->grad_pass = s;
    if (cost->grad) {
        cost->grad[0] = seed;
        cost->grad_mark = s;
    }
    for (int i = cost->id; i >= 0; i--) {
        cg_node *m = g->nodes[i];
        if (m->mark != s || m->kind != CG_KIND_OP || !m->grad) continue;
        if (m->grad_mark != s) continue; /* no gradient reached it: it passes on none */
        if (m->bfused_in) continue;      /* run by its consumer's backward (plan.c) */
        if (!m->op->grad_overwrite)
            for (int j = 0; j < m->n_in; j++) cg_grad_prepare(m->in[j]);
        cg_run_backward(m);
    }
    /* Every variable's gradient, and every gradient on the cost's path,
     * reads as the whole derivative: zero where nothing flowed. */
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *m = g->nodes[i];
        if (m->kind == CG_KIND_VARIABLE || (m->kind == CG_KIND_OP && m->mark == s))
            cg_grad_prepare(m);
    }
    return CG_OK;
}
