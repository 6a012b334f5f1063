/* sgd.c: plain gradient descent, and the one-call training step. */
#include "internal.h"

#include <math.h>

struct cg_optimizer {
    double lr;
};

cg_optimizer *cg_sgd(double lr)
{
    if (!(lr > 0) || !isfinite(lr))
        return cg_error_null(CG_ERR_ARG, "cg_sgd: learning rate %g must be positive", lr);
    cg_optimizer *o = cg_calloc(1, sizeof *o);
    if (!o) return cg_error_null(CG_ERR_MEMORY, "cg_sgd: out of memory");
    o->lr = lr;
    return o;
}

void cg_optimizer_free(cg_optimizer *o) { cg_free(o); }

int cg_optimizer_update(cg_optimizer *o, cg_graph *g)
{
    if (!o || !g) return cg_error(CG_ERR_ARG, "cg_optimizer_update: NULL argument");
    size_t n = cg_graph_param_count(g);
    cg_real *w = cg_graph_params(g);
    const cg_real *dw = cg_graph_grads(g);
    const cg_real lr = (cg_real)o->lr;
    for (size_t i = 0; i < n; i++) w[i] -= lr * dw[i];
    return CG_OK;
}

int cg_minimize_step(cg_optimizer *o, cg_node *cost, cg_real *loss)
{
    if (!o || !cost) return cg_error(CG_ERR_ARG, "cg_minimize_step: NULL argument");
    int rc = cg_backward(cost);
    if (rc) return rc;
    cg_real j = cg_node_scalar(cost);
    if (loss) *loss = j;
    if (!isfinite((double)j))
        return cg_error(CG_ERR_NUMERIC, "cg_minimize_step: the cost is %g; lower the learning rate",
                        (double)j);
    return cg_optimizer_update(o, cg_node_graph(cost));
}
