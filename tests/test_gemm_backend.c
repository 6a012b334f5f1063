// SPDX-License-Identifier: MIT
/* test_gemm_backend.c: the fp32 product backends (gemm.h). Where the
 * build has oneDNN, a graph's fp32 products run through it and
 * CG_GEMM=openblas puts them back on OpenBLAS: both agree within fp32
 * rounding on a product and its gradients, split over threads and not;
 * oneDNN's results are the same bits at 1 and 2 threads (the split is
 * fixed by the shape: matmul.c) and the same bits after its primitive
 * cache has replaced the shape's primitives (more shapes than it keeps).
 * Without oneDNN, both settings are OpenBLAS (or the portable
 * loops) and must give the same bits. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

#include "ops/gemm.h"

#define SH(...) ((const int[]){__VA_ARGS__})

/* cost = sum((X W) * R): C = X W, dX, dW into out (c | dx | dw). */
static void product(int m, int n, int k, const cg_real *x, const cg_real *w, const cg_real *r,
                    cg_real *out)
{
    cg_graph *g = cg_graph_new();
    cg_node *X = cg_variable(g, "x", 2, SH(m, k), x);
    cg_node *W = cg_variable(g, "w", 2, SH(k, n), w);
    cg_node *C = cg_matmul(X, W, 0, 0);
    cg_node *cost = cg_sum(cg_mul(C, cg_constant(g, 2, SH(m, n), r)));
    CHECK(cg_backward(cost) == CG_OK);
    memcpy(out, cg_node_value(C), (size_t)m * n * sizeof *out);
    memcpy(out + (size_t)m * n, cg_node_grad(X), (size_t)m * k * sizeof *out);
    memcpy(out + (size_t)m * n + (size_t)m * k, cg_node_grad(W), (size_t)k * n * sizeof *out);
    cg_graph_free(g);
}

int main(void)
{
    unsetenv("CG_GEMM"); /* the build's default; the test sets it below */
    const int dnnl = cg_gemm_dnnl_fp32();
    printf("fp32 products: %s\n", dnnl ? "oneDNN" : "cg_gemm (no oneDNN in this build)");
    cg_rng rng;
    cg_rng_seed(&rng, 3);
    /* {m, n, k}: split over the threads (config A's first layer), thin
     * output, odd sizes. */
    static const int shapes[][3] = {{128, 512, 784}, {128, 10, 512}, {7, 13, 29}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        const size_t len = (size_t)m * n + (size_t)m * k + (size_t)k * n;
        cg_real *x = malloc((size_t)m * k * sizeof *x), *w = malloc((size_t)k * n * sizeof *w);
        cg_real *r = malloc((size_t)m * n * sizeof *r), *out = malloc(4 * len * sizeof *out);
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = (cg_real)(cg_rng_uniform(&rng) - 0.5);
        for (size_t i = 0; i < (size_t)k * n; i++) w[i] = (cg_real)(cg_rng_uniform(&rng) - 0.5);
        for (size_t i = 0; i < (size_t)m * n; i++) r[i] = (cg_real)(cg_rng_uniform(&rng) - 0.5);
        cg_real *d1 = out, *d2 = out + len, *blas = out + 2 * len;
        cg_set_threads(1);
        product(m, n, k, x, w, r, d1);
        cg_set_threads(2);
        product(m, n, k, x, w, r, d2);
        CHECK(!memcmp(d1, d2, len * sizeof *out)); /* the same bits at 1 and 2 threads */
        setenv("CG_GEMM", "openblas", 1);
        CHECK(!cg_gemm_dnnl_fp32());
        product(m, n, k, x, w, r, blas);
        unsetenv("CG_GEMM");
        /* fp32 sums in another order: within a few ulps of the terms' sum
         * of magnitudes, which is at most k (or m, n) times 0.25. */
        double worst = 0;
        for (size_t i = 0; i < len; i++) {
            const double d = fabs((double)d2[i] - blas[i]);
            if (d > worst) worst = d;
        }
        const int kk = k > m ? (k > n ? k : n) : (m > n ? m : n);
        if (!(worst <= 1e-5 * kk)) fprintf(stderr, "shape %zu: oneDNN - OpenBLAS %g\n", s, worst);
        CHECK(worst <= 1e-5 * kk);
        if (!dnnl) CHECK(!memcmp(d2, blas, len * sizeof *out));
        free(x), free(w), free(r), free(out);
    }

    /* Many batch sizes through one graph (predict on varied inputs): more
     * shapes than the primitive cache keeps, then the first again. */
    {
        cg_graph *g = cg_graph_new();
        cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, 64));
        cg_real wv[64 * 32], xv[100 * 64], first[5 * 32];
        for (int i = 0; i < 64 * 32; i++) wv[i] = (cg_real)(cg_rng_uniform(&rng) - 0.5);
        for (int i = 0; i < 100 * 64; i++) xv[i] = (cg_real)(cg_rng_uniform(&rng) - 0.5);
        cg_node *y = cg_matmul(x, cg_variable(g, "w", 2, SH(64, 32), wv), 0, 0);
        CHECK(cg_feed(x, xv, 5) == CG_OK && cg_forward(y) == CG_OK);
        memcpy(first, cg_node_value(y), sizeof first);
        for (int b = 6; b <= 100; b++) CHECK(cg_feed(x, xv, b) == CG_OK && cg_forward(y) == CG_OK);
        CHECK(cg_feed(x, xv, 5) == CG_OK && cg_forward(y) == CG_OK);
        CHECK(!memcmp(first, cg_node_value(y), sizeof first));
        cg_graph_free(g);
    }
    CHECK_DONE();
}
