// SPDX-License-Identifier: MIT
/* gemm_bench.c: the products of a configuration's training step (as in
 * roofline.c: forward X W, dW = X^T dY, dX = dY W^T but for the first
 * layer), each timed alone on its exact shape and transposes through
 *   blas   OpenBLAS sgemm,
 *   dnnl   oneDNN matmul, fp32,
 *   bf16   oneDNN matmul, bf16 inputs (already converted), fp32 output,
 * and the fp32 -> bf16 conversions a bf16 step adds (matmul.c: the
 * layer's input and weights once in the forward, the output gradient
 * once in the backward). With THREADS > 1 each product is split over
 * the OpenMP threads by blocks of columns, each thread calling the
 * library single-threaded, as matmul.c does.
 *
 *   gemm_bench CONFIG [THREADS]    CONFIG: A..E (bench/configs.h)
 * Prints one line per product (microseconds) and the totals: the bf16
 * roofline (examples/s doing nothing but the step's bf16 products). */
#include "../bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include "../configs.h"
#include "../split_product.h"
#include "ops/gemm.h"

#include <stdio.h>
#include <stdlib.h>

/* The columns of the table, in order: split_product.h's three libraries,
 * then the fp32 -> bf16 conversion. */
enum { BLAS = BENCH_BLAS, DNNL = BENCH_DNNL, BF16 = BENCH_DNNL_BF16, CONVERT };
static cg_gemm_cache *cache;
static double budget = 0.1;

/* Median of 3 timings of at least `budget` seconds each, per call. */
static double time_one(int how, int ta, int tb, int M, int N, int K)
{
    float *a = bench_random_matrix((size_t)M * K, "gemm_bench"),
          *b = bench_random_matrix((size_t)K * N, "gemm_bench"),
          *c = bench_random_matrix((size_t)M * N, "gemm_bench");
    uint16_t *a16 = malloc((size_t)M * K * 2), *b16 = malloc((size_t)K * N * 2);
    cg_f32_to_bf16(a, a16, (size_t)M * K);
    cg_f32_to_bf16(b, b16, (size_t)K * N);
    int lda = ta ? M : K, ldb = tb ? K : N;
    double t[3];
    for (int r = -1; r < 3; r++) {
        long calls = 0;
        double t0 = bench_now(), el;
        do {
            if (how == CONVERT)
                cg_to_bf16(a, a16, (size_t)M * K);
            else
                bench_split_product(cache, how, ta, tb, M, N, K, how == BF16 ? (void *)a16 : a,
                                    lda, how == BF16 ? (void *)b16 : b, ldb, 0, c, "gemm_bench");
            calls++;
        } while ((el = bench_now() - t0) < budget);
        if (r >= 0) t[r] = el / (double)calls;
    }
    free(a), free(b), free(c), free(a16), free(b16);
    return bench_median(t, 3);
}

int main(int argc, char **argv)
{
    const bench_config *c = argc > 1 ? bench_find(argv[1]) : NULL;
    if (!c) {
        fprintf(stderr, "usage: gemm_bench A|B|C|D|E [THREADS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    cg_set_threads(threads); /* and OpenBLAS to one thread */
    const char *env = getenv("BENCH_SCALE");
    if (env && atof(env) > 0) budget *= atof(env);
    char why[200];
    if (!cg_bf16_check(why, sizeof why)) {
        fprintf(stderr, "gemm_bench: %s\n", why);
        return 1;
    }
    cache = cg_gemm_cache_new();
    const int m = c->batch;
    double tot[4] = {0}, flops = 0;
    printf("%s, %d threads: product (M x N x K)   blas us  dnnl us  bf16 us  (GFLOP/s blas/dnnl/bf16)\n",
           c->name, threads);
    for (int l = 0; l + 1 < c->n_dims; l++) {
        int k = c->dims[l], n = c->dims[l + 1];
        /* forward, dW, dX: {ta, tb, M, N, K} */
        int p[3][5] = {{0, 0, m, n, k}, {1, 0, k, n, m}, {0, 1, m, k, n}};
        const char *names[3] = {"fwd X W", "dW X^T dY", "dX dY W^T"};
        for (int j = 0; j < (l > 0 ? 3 : 2); j++) {
            double t[3], f = 2.0 * p[j][2] * p[j][3] * p[j][4];
            for (int h = 0; h < 3; h++) {
                t[h] = time_one(h, p[j][0], p[j][1], p[j][2], p[j][3], p[j][4]);
                tot[h] += t[h];
            }
            flops += f;
            printf("layer %d %-10s %5d x %5d x %5d  %8.1f %8.1f %8.1f  (%.0f/%.0f/%.0f)\n", l + 1,
                   names[j], p[j][2], p[j][3], p[j][4], 1e6 * t[0], 1e6 * t[1], 1e6 * t[2],
                   1e-9 * f / t[0], 1e-9 * f / t[1], 1e-9 * f / t[2]);
        }
        /* The conversions: X [m, k] and W [k, n] (forward), dY [m, n]. */
        tot[CONVERT] += time_one(CONVERT, 0, 0, m, 1, k) + time_one(CONVERT, 0, 0, k, 1, n) +
                        time_one(CONVERT, 0, 0, m, 1, n);
    }
    printf("%s total: blas %.1f us, dnnl fp32 %.1f us, bf16 %.1f us, bf16 conversions %.1f us\n",
           c->name, 1e6 * tot[0], 1e6 * tot[1], 1e6 * tot[2], 1e6 * tot[3]);
    printf("%s roofline ex_per_s: fp32 blas %.0f, fp32 dnnl %.0f, bf16 %.0f (%.0f with conversions)"
           " gflops_bf16=%.1f\n",
           c->name, m / tot[0], m / tot[1], m / tot[2], m / (tot[2] + tot[3]), 1e-9 * flops / tot[2]);
    cg_gemm_cache_free(cache);
    return 0;
}
