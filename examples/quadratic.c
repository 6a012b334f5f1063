/* SPDX-License-Identifier: MIT */
/* quadratic.c: the classic first program. Minimise J(w) = w^2 - 10w + 25
 * by gradient descent (lr 0.01, w from 0); the minimum is at w = 5. Then
 * feed the coefficients through a placeholder: J = x0 w^2 + x1 w + x2. */
#include <cgrad.h>
#include <stdio.h>

static int train(cg_graph *g, cg_node *w, cg_node *cost, int steps)
{
    cg_optimizer *opt = cg_sgd(0.01);
    for (int i = 0; i < steps; i++)
        if (cg_minimize_step(opt, cost, NULL)) return -1;
    cg_optimizer_free(opt);
    (void)g;
    printf("w = %f\n", (double)cg_node_scalar(w));
    return 0;
}

int main(void)
{
    /* Fixed coefficients: J = w^2 - 10 w + 25. */
    cg_graph *g = cg_graph_new();
    cg_node *w = cg_scalar_variable(g, "w", 0);
    cg_node *cost = cg_add(cg_sub(cg_square(w), cg_mul(cg_scalar(g, 10), w)), cg_scalar(g, 25));
    if (!cost || train(g, w, cost, 1) || train(g, w, cost, 999)) goto fail;
    cg_graph_free(g);

    /* Coefficients fed at run time, like TF's placeholder + feed_dict. */
    const cg_real coeffs[2][3] = {{1, -10, 25}, {1, -20, 100}};
    for (int k = 0; k < 2; k++) {
        g = cg_graph_new();
        w = cg_scalar_variable(g, "w", 0);
        cg_node *x = cg_placeholder(g, "x", 2, (int[]){3, 1});
        cg_node *x0 = cg_index(cg_index(x, 0), 0), *x1 = cg_index(cg_index(x, 1), 0),
                *x2 = cg_index(cg_index(x, 2), 0);
        cost = cg_add(cg_add(cg_mul(x0, cg_square(w)), cg_mul(x1, w)), x2);
        if (!cost || cg_feed_by_name(g, "x", coeffs[k], 3) || train(g, w, cost, 1000)) goto fail;
        cg_graph_free(g);
    }
    return 0;
fail:
    fprintf(stderr, "quadratic: %s\n", cg_last_error());
    cg_graph_free(g);
    return 1;
}
