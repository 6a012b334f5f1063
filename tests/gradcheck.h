/* SPDX-License-Identifier: MIT */
/* gradcheck.h: what the gradient-check tests (dtest_gradcheck*.c) share:
 * seeded random inputs, the cost sum(y * W) with W random (so every output
 * element, a wrong sign or a transposed gradient shows in it), and the
 * check itself against central finite differences in double precision:
 *
 *   numeric  n = (J(p_i + h) - J(p_i - h)) / 2h,   h = 1e-5
 *   analytic a = what cg_backward left in the gradient buffer
 *   relative error = |a - n| / max(|a|, |n|, 1e-3) < 1e-6
 *
 * The floor 1e-3 keeps gradients that are (nearly) zero from turning
 * rounding noise (~1e-11 absolute) into a large relative error. */
#ifndef CG_GRADCHECK_H
#define CG_GRADCHECK_H

#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define GC_UNUSED __attribute__((unused))
#else
#define GC_UNUSED
#endif

#define TOL 1e-6
#define GC_H 1e-5 /* the finite-difference step */

#define SH(...) ((const int[]){__VA_ARGS__})

/* Where inputs are drawn: anywhere, positive, away from 0, inside (0, 1),
 * wide. */
enum { U_ANY, U_POS, U_AWAY, U_UNIT, U_WIDE };

GC_UNUSED static double draw(cg_rng *r, int kind)
{
    double u = cg_rng_uniform(r);
    switch (kind) {
    case U_POS: return 0.5 + 1.5 * u;                 /* [0.5, 2)   */
    case U_AWAY: {                                    /* +-[0.2, 1.5) */
        double s = cg_rng_uniform(r) < 0.5 ? -1 : 1;
        return s * (0.2 + 1.3 * u);
    }
    case U_UNIT: return 0.05 + 0.9 * u;               /* (0, 1)     */
    case U_WIDE: return -3 + 6 * u;                   /* [-3, 3)    */
    default: return -1.5 + 3 * u;                     /* [-1.5, 1.5) */
    }
}

GC_UNUSED static size_t shape_size(int nd, const int *sh)
{
    size_t s = 1;
    for (int i = 0; i < nd; i++) s *= (size_t)sh[i];
    return s;
}

/* A variable (a parameter the check perturbs) or a constant of values
 * drawn by `kind`. */
GC_UNUSED static cg_node *leaf(cg_graph *g, cg_rng *r, int kind, int nd, const int *sh,
                               int variable)
{
    size_t n = shape_size(nd, sh);
    cg_real *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) v[i] = (cg_real)draw(r, kind);
    cg_node *x = variable ? cg_variable(g, NULL, nd, sh, v) : cg_constant(g, nd, sh, v);
    free(v);
    return x;
}

GC_UNUSED static cg_node *var(cg_graph *g, cg_rng *r, int kind, int nd, const int *sh)
{
    return leaf(g, r, kind, nd, sh, 1);
}

GC_UNUSED static cg_node *cst(cg_graph *g, cg_rng *r, int kind, int nd, const int *sh)
{
    return leaf(g, r, kind, nd, sh, 0);
}

/* sum(y * W), W random with y's (known) shape. */
GC_UNUSED static cg_node *weigh(cg_node *y, cg_rng *r)
{
    if (!y) return NULL;
    int nd = cg_node_ndim(y), sh[CG_MAX_DIMS];
    for (int i = 0; i < nd; i++) sh[i] = cg_node_dim(y, i);
    cg_node *w = cst(cg_node_graph(y), r, U_ANY, nd, sh);
    return cg_sum(cg_mul(y, w));
}

/* Max relative error of cost's gradient w.r.t. every parameter of g; -1
 * on error. *nonzero counts analytic entries that are not 0. The graph's
 * random stream is reseeded before every pass, so that dropout draws the
 * same mask each time; the graph is left as the analytic pass left it
 * (values at p). */
GC_UNUSED static double gradcheck(cg_graph *g, cg_node *cost, int *nonzero)
{
    cg_rng_seed(cg_graph_rng(g), 5);
    if (cg_backward(cost)) return -1;
    size_t n = cg_graph_param_count(g);
    cg_real *p = cg_graph_params(g);
    cg_real *an = malloc((n ? n : 1) * sizeof *an);
    if (!an) return -1;
    for (size_t i = 0; i < n; i++) an[i] = cg_graph_grads(g)[i];
    double worst = 0;
    *nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        cg_real keep = p[i];
        double j[2];
        for (int s = 0; s < 2; s++) {
            p[i] = keep + (s ? -GC_H : GC_H);
            cg_rng_seed(cg_graph_rng(g), 5);
            if (cg_forward(cost)) {
                free(an);
                return -1;
            }
            j[s] = cg_node_scalar(cost);
        }
        p[i] = keep;
        double num = (j[0] - j[1]) / (2 * GC_H), a = an[i];
        double err = fabs(a - num) / fmax(fmax(fabs(a), fabs(num)), 1e-3);
        if (err > worst) worst = err;
        if (a != 0) (*nonzero)++;
        if (err >= TOL)
            fprintf(stderr, "    param %zu: analytic %.10g, numeric %.10g, rel err %.3g\n", i, a,
                    num, err);
    }
    free(an);
    cg_rng_seed(cg_graph_rng(g), 5);
    return cg_forward(cost) ? -1 : worst;
}

/* 1 if g has a node of op `op`. */
GC_UNUSED static int graph_has_op(cg_graph *g, const char *op)
{
    for (int i = 0; i < cg_graph_node_count(g); i++)
        if (strcmp(cg_node_op(cg_graph_node(g, i)), op) == 0) return 1;
    return 0;
}

#endif
