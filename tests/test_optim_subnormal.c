/* SPDX-License-Identifier: MIT */
/* test_optim_subnormal.c: an optimizer's state never holds subnormal
 * numbers. A parameter whose gradient turns 0 has moments that decay by
 * beta each step; without a flush they reach the subnormal range and stay
 * at its smallest values (rounding keeps x * beta from reaching 0), and
 * every later update runs on microcode assists (optimizer.c: 25x slower).
 * Here the gradient is c for one step, then 0: after enough steps every
 * state value must be exactly 0, in the AVX2 blocks and in the scalar
 * tail (1003 parameters), and no value on the way may be subnormal. */
#include "cgrad.h"
#include "check.h"

#include <math.h>
#include <stdio.h>

#define N 1003 /* two blocks of 512 less 21: vector lanes and a scalar tail */

static int subnormals(const cg_real *v, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) k += fpclassify(v[i]) == FP_SUBNORMAL;
    return k;
}

static void decays_to_zero(const char *name, cg_optimizer *o, int steps)
{
    cg_graph *g = cg_graph_new();
    cg_real w0[N];
    for (int i = 0; i < N; i++) w0[i] = (cg_real)(i % 13) - 6;
    cg_node *w = cg_variable(g, "w", 2, (int[]){1, N}, w0);
    cg_node *c = cg_placeholder(g, "c", 2, (int[]){CG_BATCH, N});
    cg_node *j = cg_sum(cg_mul(w, c)); /* dJ/dw = c */
    CHECK(j && o);
    int seen = 0;
    for (int t = 0; t < steps && j && o; t++) {
        cg_real *cv = cg_feed_buffer(c, 1);
        /* 1e-3 at first, on the scale of real gradients; then 0. */
        for (int i = 0; i < N; i++) cv[i] = t == 0 ? (cg_real)1e-3 * (cg_real)(1 + i % 5) : 0;
        CHECK(cg_minimize_step(o, j, NULL) == CG_OK);
        for (int which = 0; which < 2; which++) {
            size_t n;
            const cg_real *s = cg_optimizer_state(o, which, &n);
            if (s) seen += subnormals(s, n);
        }
    }
    size_t n0 = 0, n1 = 0;
    const cg_real *s0 = cg_optimizer_state(o, 0, &n0), *s1 = cg_optimizer_state(o, 1, &n1);
    CHECK(n0 + n1 > 0);
    int nonzero = 0;
    for (size_t i = 0; s0 && i < n0; i++) nonzero += s0[i] != 0;
    for (size_t i = 0; s1 && i < n1; i++) nonzero += s1[i] != 0;
    if (seen || nonzero)
        fprintf(stderr, "%s: %d subnormal state values on the way, %d nonzero at the end\n", name,
                seen, nonzero);
    CHECK(seen == 0);
    CHECK(nonzero == 0);
    cg_optimizer_free(o);
    cg_graph_free(g);
}

int main(void)
{
    /* Steps: a moment of ~1e-3 (or its square, ~1e-6) times beta^t falls
     * below FLT_MIN (1.2e-38) after ln(1e-38 / 1e-6) / ln(beta) steps:
     * 700 for beta 0.9, 7,300 for 0.99. Twice that and more. */
    decays_to_zero("adam", cg_adam(1e-3, 0.9, 0.9, 1e-8), 2000);
    decays_to_zero("adam, beta2 0.99", cg_adam(1e-3, 0.9, 0.99, 1e-8), 16000);
    decays_to_zero("momentum", cg_optimizer_from_name("momentum", 1e-3), 2000);
    decays_to_zero("rmsprop", cg_optimizer_from_name("rmsprop", 1e-3), 16000);
    printf("test_optim_subnormal: %s\n", check_failures ? "FAILED" : "ok");
    CHECK_DONE();
}
