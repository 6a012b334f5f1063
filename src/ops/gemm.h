/* SPDX-License-Identifier: MIT */
/* gemm.h: the one matrix-product interface the ops call.
 *
 * Row-major, BLAS semantics: C [m, n] = alpha op(A) op(B) + beta C, with
 * op(A) [m, k], op(B) [k, n]; trans_a / trans_b nonzero mean op = transpose.
 * As in BLAS, beta = 0 does not read C (NaNs there are overwritten).
 * Every call runs on the calling thread: callers split large products over
 * their own threads (matmul.c).
 *
 * Two implementations, chosen at build time (CMake option CG_BLAS):
 *  - CG_HAVE_BLAS: OpenBLAS's CBLAS, called inline from here, so the ops
 *    compile to the same cblas_?gemm call as before this interface existed;
 *  - otherwise gemm_portable.c: cache-blocked C that the compiler
 *    vectorises (SSE/AVX natively, SIMD128 under emscripten -msimd128). */
#ifndef CG_GEMM_H
#define CG_GEMM_H

#include "cgrad.h"

#ifdef CG_HAVE_BLAS
#include <cblas.h>

static inline void cg_gemm(int trans_a, int trans_b, int m, int n, int k, cg_real alpha,
                           const cg_real *A, int lda, const cg_real *B, int ldb, cg_real beta,
                           cg_real *C, int ldc)
{
#ifdef CG_DOUBLE
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

/* y = alpha op(A) x + beta y, A [m, n] row-major, op = transpose by flag. */
static inline void cg_gemv(int trans, int m, int n, cg_real alpha, const cg_real *A, int lda,
                           const cg_real *x, int incx, cg_real beta, cg_real *y, int incy)
{
#ifdef CG_DOUBLE
    cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, alpha, A, lda, x, incx,
                beta, y, incy);
#else
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, alpha, A, lda, x, incx,
                beta, y, incy);
#endif
}

/* Keep the product library on the calling thread (threads.c: one pool). */
static inline void cg_gemm_single_threaded(void) { openblas_set_num_threads(1); }

#else /* portable */

void cg_gemm(int trans_a, int trans_b, int m, int n, int k, cg_real alpha, const cg_real *A,
             int lda, const cg_real *B, int ldb, cg_real beta, cg_real *C, int ldc);
void cg_gemv(int trans, int m, int n, cg_real alpha, const cg_real *A, int lda, const cg_real *x,
             int incx, cg_real beta, cg_real *y, int incy);
static inline void cg_gemm_single_threaded(void) {}

#endif
#endif
