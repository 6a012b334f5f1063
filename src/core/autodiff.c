/* autodiff.c: reverse-mode automatic differentiation. After the forward
 * pass, seed d(cost)/d(cost) = 1 and walk the nodes backwards; each op adds
 * its share of the gradient into its inputs (the chain rule, summed over
 * every path). Creation order is topological, so one reverse walk is
 * enough. */
#include "node.h"

#include <string.h>

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
    unsigned s = cost->mark;
    if (g->n_params) memset(g->grads, 0, g->n_params * sizeof(cg_real));
    for (int i = 0; i <= cost->id; i++) {
        cg_node *m = g->nodes[i];
        if (m->mark == s && m->kind == CG_KIND_OP && m->grad)
            memset(m->grad, 0, m->size * sizeof(cg_real));
    }
    if (!cost->grad) return CG_OK; /* no variable feeds the cost */
    cost->grad[0] = seed;
    for (int i = cost->id; i >= 0; i--) {
        cg_node *m = g->nodes[i];
        if (m->mark == s && m->kind == CG_KIND_OP && m->grad) m->op->backward(m);
    }
    return CG_OK;
}
