/* SPDX-License-Identifier: MIT */
/* roofline.c: the GEMM roofline of a configuration's training step: the
 * examples per second it would reach doing nothing but its matrix
 * products, each timed alone on exactly its shape and transposes, the
 * faster of OpenBLAS's cblas_sgemm (its own threads) and, where cgrad is
 * built with oneDNN, oneDNN's fp32 matmul (split by blocks of columns
 * over the threads, one oneDNN call each, as matmul.c runs it): the best
 * either library cgrad can use does on the product.
 *
 * For a dense layer X [m, k] -> Y [m, n] with weights W [k, n]:
 *   forward   Y  = X W       sgemm(N, N, m, n, k)
 *   backward  dW = X^T dY    sgemm(T, N, k, n, m)
 *             dX = dY W^T    sgemm(N, T, m, k, n)   (not for the first
 *                                                   layer: X is data)
 *
 *   roofline CONFIG [THREADS]    CONFIG: A..E (training step),
 *                                infer1, infer1000 (forward of model A)
 * Prints "CONFIG ex_per_s=... us_per_step=... gflops=..." (median of 3). */
#include "bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include "configs.h"
#include "ops/gemm.h"
#include "split_product.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#define REPS 3

static cg_gemm_cache *cache; /* oneDNN's primitives, NULL without oneDNN */

/* One product through the backend: OpenBLAS in one call on its own
 * threads, or oneDNN split by columns. */
static void product(int dnnl, int ta, int tb, int M, int N, int K, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c)
{
    if (dnnl)
        bench_split_product(cache, BENCH_DNNL, ta, tb, M, N, K, a, lda, b, ldb, beta != 0, c,
                            "roofline");
    else
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, N, K, 1, a, lda, b, ldb, beta, c, N);
}

/* Seconds per call of C [M, N] = op(A) op(B), op(A) [M, K], row-major;
 * the median of 3 timings, each at least `budget` seconds long. OpenBLAS
 * adds into C (beta 1: its beta 0 clears C in a separate pass, which
 * matmul.c avoids), oneDNN overwrites it (its accumulating form is the
 * slower), each its faster way. */
static double time_gemm(int dnnl, int ta, int tb, int M, int N, int K, double budget)
{
    float *a = bench_random_matrix((size_t)M * K, "roofline");
    float *b = bench_random_matrix((size_t)K * N, "roofline");
    float *c = bench_random_matrix((size_t)M * N, "roofline");
    int lda = ta ? M : K, ldb = tb ? K : N;
    for (int i = 0; i < 3; i++) /* warm-up */
        product(dnnl, ta, tb, M, N, K, a, lda, b, ldb, 0, c);
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        long calls = 0;
        double t0 = bench_now(), el;
        do {
            product(dnnl, ta, tb, M, N, K, a, lda, b, ldb, dnnl ? 0 : 1, c);
            calls++;
        } while ((el = bench_now() - t0) < budget);
        t[r] = el / (double)calls;
    }
    free(a);
    free(b);
    free(c);
    return bench_median(t, REPS);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: roofline A|B|C|D|E|infer1|infer1000 [THREADS]\n");
        return 2;
    }
    const int threads = argc > 2 ? atoi(argv[2]) : 2;
    cg_set_threads(threads); /* OpenMP's threads, and OpenBLAS to one */
    if (cg_gemm_dnnl_fp32()) cache = cg_gemm_cache_new();
    const char *env = getenv("BENCH_SCALE");
    double scale = env && atof(env) > 0 ? atof(env) : 1.0, budget = 0.1 * scale;
    int infer = 0, m;
    const bench_config *c;
    if (strcmp(argv[1], "infer1") == 0 || strcmp(argv[1], "infer1000") == 0) {
        infer = 1;
        c = bench_find("A");
        m = argv[1][5] == '1' && argv[1][6] == 0 ? 1 : 1000;
    } else {
        c = bench_find(argv[1]);
        if (!c) {
            fprintf(stderr, "roofline: unknown configuration '%s'\n", argv[1]);
            return 2;
        }
        m = c->batch;
    }
    /* Each layer's products: forward, dW, dX, as {ta, tb, M, N, K}. */
    enum { MAX_PRODUCTS = 3 * 8 };
    int p[MAX_PRODUCTS][6], np = 0;
    double flops = 0;
    for (int l = 0; l + 1 < c->n_dims; l++) {
        int k = c->dims[l], n = c->dims[l + 1];
        const int all[3][5] = {{0, 0, m, n, k}, {1, 0, k, n, m}, {0, 1, m, k, n}};
        for (int j = 0; j < (infer ? 1 : l > 0 ? 3 : 2); j++) {
            memcpy(p[np], all[j], sizeof all[j]);
            p[np++][5] = l + 1;
        }
        flops += 2.0 * m * n * k * (infer ? 1 : l > 0 ? 3 : 2);
    }
    /* oneDNN first, with OpenBLAS on one thread; then OpenBLAS on its
     * own threads, which spin for a while after each call: timed before,
     * they took the cores from the oneDNN runs (1.6-1.9x slower). */
    double t[MAX_PRODUCTS], total = 0;
    for (int i = 0; i < np; i++)
        t[i] = cache ? time_gemm(1, p[i][0], p[i][1], p[i][2], p[i][3], p[i][4], budget) : 1e30;
    openblas_set_num_threads(threads); /* OpenBLAS alone: its own threads */
    const int verbose = getenv("BENCH_PROFILE") != NULL;
    for (int i = 0; i < np; i++) {
        const double tb = time_gemm(0, p[i][0], p[i][1], p[i][2], p[i][3], p[i][4], budget);
        if (verbose)
            fprintf(stderr, "layer %d %dx%dx%d (%s%s): OpenBLAS %.1f us, oneDNN %.1f us\n", p[i][5],
                    p[i][2], p[i][3], p[i][4], p[i][0] ? "T" : "N", p[i][1] ? "T" : "N", 1e6 * tb,
                    cache ? 1e6 * t[i] : 0.0);
        total += tb < t[i] ? tb : t[i];
    }
    printf("%s ex_per_s=%.0f us_per_step=%.2f gflops=%.1f\n", argv[1], m / total, 1e6 * total,
           flops / total * 1e-9);
    cg_gemm_cache_free(cache);
    return 0;
}
