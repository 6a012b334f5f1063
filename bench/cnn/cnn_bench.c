/* SPDX-License-Identifier: MIT */
/* cnn_bench.c: forward + backward (+ Adam update) time of issue 23's CNN,
 * conv32x3 -> maxpool2 -> conv64x3 -> maxpool2 -> dense128 -> dense10 on
 * 28x28x1 inputs (ReLU after each conv and the hidden dense, "same"
 * padding, stride 1), batch 128, random data held in memory. The PyTorch
 * twin is torch_cnn.py.
 *
 *     cnn_bench [THREADS [STEPS]]     (defaults: all cores, 30 steps)
 *
 * Prints "cnn threads=T ms_per_step=... ex_per_s=... gflops=..." (median
 * of the timed steps, after 3 warm-up steps; a step is feed, forward,
 * backward and the optimizer update) and the per-op profile of one more
 * set of steps. BENCH_PRECISION=bf16 runs the products in bf16. GFLOP/s counts the convolutions' and dense layers'
 * multiply-adds as 2 flops, forward and backward (3x the forward). */
#include "../bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SH(...) ((const int[]){__VA_ARGS__})
#define BATCH 128

static cg_node *he(cg_graph *g, cg_rng *r, int nd, const int *sh, int fan_in)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)sh[i];
    cg_real *v = malloc(n * sizeof *v);
    cg_init_he_normal(r, v, fan_in, (int)(n / (size_t)fan_in));
    cg_node *w = cg_variable(g, NULL, nd, sh, v);
    free(v);
    return w;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0, steps = argc > 2 ? atoi(argv[2]) : 30;
    if (steps < 1) steps = 1;
    cg_set_threads(threads);
    cg_rng r;
    cg_rng_seed(&r, 1);
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 4, SH(CG_BATCH, 1, 28, 28));
    cg_node *y = cg_placeholder(g, "y", 1, SH(CG_BATCH));
    cg_node *h = cg_conv2d(x, he(g, &r, 4, SH(32, 1, 3, 3), 9),
                           cg_variable(g, NULL, 1, SH(32), NULL), 1, 1, 1, 1, 1, 1, 1);
    h = cg_max_pool2d(cg_relu(h), 2, 2, 2, 2, 0, 0);
    h = cg_conv2d(h, he(g, &r, 4, SH(64, 32, 3, 3), 288), cg_variable(g, NULL, 1, SH(64), NULL),
                  1, 1, 1, 1, 1, 1, 1);
    h = cg_flatten(cg_max_pool2d(cg_relu(h), 2, 2, 2, 2, 0, 0));
    h = cg_relu(cg_add(cg_matmul(h, he(g, &r, 2, SH(3136, 128), 3136), 0, 0),
                       cg_variable(g, NULL, 1, SH(128), NULL)));
    cg_node *logits = cg_add(cg_matmul(h, he(g, &r, 2, SH(128, 10), 128), 0, 0),
                             cg_variable(g, NULL, 1, SH(10), NULL));
    cg_node *cost = cg_softmax_cross_entropy(logits, y);
    cg_optimizer *o = cg_adam_default(1e-3);
    if (!cost || !o) {
        fprintf(stderr, "cnn_bench: %s\n", cg_last_error());
        return 1;
    }
    const char *p = getenv("BENCH_PRECISION");
    if (p && !strcmp(p, "bf16") && cg_graph_set_precision(g, CG_PRECISION_BF16)) {
        fprintf(stderr, "cnn_bench: %s\n", cg_last_error());
        return 1;
    }
    cg_real *xv = malloc(BATCH * 784 * sizeof *xv), yv[BATCH];
    for (int i = 0; i < BATCH * 784; i++) xv[i] = (cg_real)cg_rng_uniform(&r);
    for (int i = 0; i < BATCH; i++) yv[i] = (cg_real)cg_rng_below(&r, 10);
    double *t = malloc((size_t)steps * sizeof *t);
    for (int s = -3; s < steps; s++) {
        double t0 = bench_now();
        if (cg_feed(x, xv, BATCH) || cg_feed(y, yv, BATCH) ||
            cg_minimize_step(o, cost, NULL)) {
            fprintf(stderr, "cnn_bench: %s\n", cg_last_error());
            return 1;
        }
        if (s >= 0) t[s] = bench_now() - t0;
    }
    const double med = bench_median(t, steps);
    /* Multiply-adds per example, forward. */
    const double macs = 32.0 * 9 * 784 + 64.0 * 288 * 196 + 3136.0 * 128 + 128.0 * 10;
    printf("cnn threads=%d ms_per_step=%.2f ex_per_s=%.0f gflops=%.1f\n", cg_get_threads(),
           1e3 * med, BATCH / med, 3 * 2 * macs * BATCH / med / 1e9);
    cg_graph_profile(g, 1);
    for (int s = 0; s < 10; s++) {
        cg_feed(x, xv, BATCH);
        cg_feed(y, yv, BATCH);
        cg_minimize_step(o, cost, NULL);
    }
    cg_graph_profile(g, 0);
    cg_graph_profile_report(g, stdout);
    free(t);
    free(xv);
    cg_optimizer_free(o);
    cg_graph_free(g);
    return 0;
}
