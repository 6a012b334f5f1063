/* SPDX-License-Identifier: MIT */
/* conv_roofline.c: the GEMM roofline of issue 23's CNN's convolutions
 * (conv32x3 on 1x28x28, conv64x3 on 32x14x14, same padding, batch 128):
 * the time the products conv.c makes take alone (im2col GEMM per image,
 * shapes and transposes as in conv.c), each conv's forward and backward,
 * one thread, median of REPS, through the faster of OpenBLAS's
 * cblas_sgemm and (where cgrad is built with it) oneDNN's fp32 matmul,
 * the two backends conv.c can use. Against cgrad's
 * profile of the same convs (bench/cnn/run.sh), the fraction of the
 * roofline reached; the rest is im2col, col2im, bias and the partial sums.
 *
 *   conv_roofline        prints "convN fwd_us=... bwd_us=... gflop=..." per
 *                        conv, then "peak gflops=..." (a 1024^3 product,
 *                        the machine's one-thread GEMM speed, the faster
 *                        backend's). */
#include "../bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include "ops/gemm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <cgrad.h>

#define REPS 5
#define BATCH 128

/* Operands from bench_util's LCG: values in [-0.5, 0.5) (no denormals to
 * slow a product), the same in every run. */
static float *filled(size_t n)
{
    return bench_random_matrix(n, "conv_roofline");
}

static cg_gemm_cache *cache; /* oneDNN's primitives, NULL without oneDNN */
static int use_dnnl;        /* the backend being timed */

/* One row-major product as conv.c's conv_gemm makes it (beta = 1). */
static void gemm(int ta, int tb, int m, int n, int k, const float *A, int lda, const float *B,
                 int ldb, float *C, int ldc)
{
    if (use_dnnl) {
        if (cg_gemm_dnnl(cache, 0, ta, tb, m, n, k, A, lda, B, ldb, 1, C, ldc)) {
            fprintf(stderr, "conv_roofline: %s\n", cg_last_error());
            exit(1);
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, 1.0f, A, lda, B, ldb, 1.0f, C, ldc);
}

typedef struct conv {
    const char *name;
    int C, K, k, P; /* channels in, filters, kernel side, output positions */
    int first;      /* the input is data: no gradient for it */
} conv;

/* Median seconds of the batch's forward (fwd) or backward products. */
static double time_products(const conv *c, int backward)
{
    const int ckk = c->C * c->k * c->k, K = c->K, P = c->P;
    float *w = filled((size_t)K * ckk), *col = filled((size_t)ckk * P), *y = filled((size_t)K * P);
    float *dw = filled((size_t)K * ckk), *dcol = filled((size_t)ckk * P);
    double t[REPS];
    for (int r = -1; r < REPS; r++) { /* one warm-up */
        double t0 = bench_now();
        for (int i = 0; i < BATCH; i++) {
            if (!backward) {
                gemm(0, 0, K, P, ckk, w, ckk, col, P, y, P);
                continue;
            }
            gemm(0, 1, K, ckk, P, y, P, col, P, dw, ckk);
            if (!c->first) gemm(1, 0, ckk, P, K, w, ckk, y, P, dcol, P);
        }
        if (r >= 0) t[r] = bench_now() - t0;
    }
    free(w), free(col), free(y), free(dw), free(dcol);
    return bench_median(t, REPS);
}

/* The faster backend's time. */
static double best_products(const conv *c, int backward)
{
    use_dnnl = 0;
    double t = time_products(c, backward);
    if (cache) {
        use_dnnl = 1;
        double d = time_products(c, backward);
        if (d < t) t = d;
    }
    return t;
}

int main(void)
{
    cg_set_threads(1); /* and OpenBLAS to one thread */
    if (cg_gemm_dnnl_fp32()) cache = cg_gemm_cache_new();
    const conv convs[] = {{"conv1", 1, 32, 3, 28 * 28, 1}, {"conv2", 32, 64, 3, 14 * 14, 0}};
    for (size_t i = 0; i < sizeof convs / sizeof *convs; i++) {
        const conv *c = &convs[i];
        const double ckk = (double)c->C * c->k * c->k;
        const double fwd_flop = 2.0 * BATCH * c->K * ckk * c->P;
        const double flop = fwd_flop * (c->first ? 2 : 3);
        printf("%s fwd_us=%.1f bwd_us=%.1f gflop=%.4f\n", c->name, 1e6 * best_products(c, 0),
               1e6 * best_products(c, 1), 1e-9 * flop);
    }
    const int n = 1024;
    float *a = filled((size_t)n * n), *b = filled((size_t)n * n), *cm = filled((size_t)n * n);
    double best = 0;
    for (use_dnnl = 0; use_dnnl <= (cache != NULL); use_dnnl++) {
        double t[REPS];
        for (int r = -1; r < REPS; r++) {
            double t0 = bench_now();
            gemm(0, 0, n, n, n, a, n, b, n, cm, n);
            if (r >= 0) t[r] = bench_now() - t0;
        }
        const double med = bench_median(t, REPS);
        if (best == 0 || med < best) best = med;
    }
    printf("peak gflops=%.1f\n", 2e-9 * n * (double)n * n / best);
    free(a), free(b), free(cm);
    cg_gemm_cache_free(cache);
    return 0;
}
