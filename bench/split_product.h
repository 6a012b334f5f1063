/* SPDX-License-Identifier: MIT */
/* split_product.h: one product split by blocks of columns over the OpenMP
 * team, each thread calling the library single-threaded on its block, the
 * way src/ops/matmul.c runs a product; shared by roofline.c and
 * bf16/gemm_bench.c so both time the same split. Needs ../src and
 * ../src/core on the include path, OpenBLAS and OpenMP. It includes
 * system headers, so bench_util.h, where used, comes before it. */
#ifndef BENCH_SPLIT_PRODUCT_H
#define BENCH_SPLIT_PRODUCT_H

#include "ops/gemm.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

/* The library each thread calls on its block. */
enum { BENCH_BLAS, BENCH_DNNL, BENCH_DNNL_BF16 };

/* C [M, N] = op(A) op(B) (+ C when accumulate), row-major, op(A) [M, K],
 * ldc = N. A and B are float, or uint16_t bf16 for BENCH_DNNL_BF16; C is
 * float. BENCH_BLAS needs OpenBLAS set to one thread (cg_set_threads
 * does), the DNNL ones a cache from cg_gemm_cache_new. Block edges are
 * multiples of 16 columns (whole vectors; the last thread takes the
 * rest). On a oneDNN error prints "who: message" and exits. */
static inline void bench_split_product(cg_gemm_cache *cache, int how, int ta, int tb, int M, int N,
                                       int K, const void *a, int lda, const void *b, int ldb,
                                       int accumulate, float *c, const char *who)
{
#pragma omp parallel
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        const int lo = N * t / T / 16 * 16, hi = t + 1 == T ? N : N * (t + 1) / T / 16 * 16;
        const size_t bo = tb ? (size_t)lo * ldb : (size_t)lo; /* B's first column lo */
        const int bf16 = how == BENCH_DNNL_BF16;
        if (lo < hi && how == BENCH_BLAS)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                        tb ? CblasTrans : CblasNoTrans, M, hi - lo, K, 1, a, lda,
                        (const float *)b + bo, ldb, accumulate ? 1 : 0, c + lo, N);
        else if (lo < hi && cg_gemm_dnnl(cache, bf16, ta, tb, M, hi - lo, K, a, lda,
                                         cg_operand_at(b, bf16, bo), ldb, accumulate, c + lo, N)) {
            fprintf(stderr, "%s: %s\n", who, cg_last_error());
            exit(1);
        }
    }
}

#endif
