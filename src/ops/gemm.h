/* SPDX-License-Identifier: MIT */
/* gemm.h: the one matrix-product interface the ops call.
 *
 * Row-major, BLAS semantics: C [m, n] = alpha op(A) op(B) + beta C, with
 * op(A) [m, k], op(B) [k, n]; trans_a / trans_b nonzero mean op = transpose.
 * As in BLAS, beta = 0 does not read C (NaNs there are overwritten).
 * Every call runs on the calling thread: callers split large products over
 * their own threads (matmul.c).
 *
 * fp32 implementations: oneDNN's (cg_gemm_dnnl, below), which runs a
 * graph's products where the build has it; and cg_gemm here, chosen at
 * build time (CMake option CG_BLAS):
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

/* oneDNN products (gemm_dnnl.c): oneDNN's matmul, with fp32 or bf16
 * inputs and fp32 accumulation and output, on the calling thread, like
 * cg_gemm (matmul.c splits large products). Where the build has oneDNN
 * (and is single precision), the graph's fp32 products run here instead
 * of OpenBLAS, unless the environment says CG_GEMM=openblas
 * (cg_gemm_dnnl_fp32); products of one row (matmul.c's gemm_thin) stay
 * OpenBLAS's gemv.
 * C [M, N] = op(A) op(B) (+ C when accumulate), leading dimensions in
 * elements. Primitives are made once per shape and thread and kept in the
 * cache (one per graph, made before any product: cg_gemm_cache_new).
 * CG_OK or an error code with a message (CG_ERR_ARG when the build has no
 * bf16). */
#include <stddef.h>
#include <stdint.h>

/* Element i of a product's operand: fp32 (cg_real) or its bf16 copy. */
static inline const void *cg_operand_at(const void *p, int bf16, size_t i)
{
    return (const char *)p + i * (bf16 ? sizeof(uint16_t) : sizeof(cg_real));
}
/* cg_real scratch slots holding count bf16 values, in whole 64-byte
 * lines (so each copy starts on its own cache line). */
static inline size_t cg_bf16_slots(size_t count)
{
    return (count * sizeof(uint16_t) + 63) / 64 * (64 / sizeof(cg_real));
}

typedef struct cg_gemm_cache cg_gemm_cache;
cg_gemm_cache *cg_gemm_cache_new(void);
void cg_gemm_cache_free(cg_gemm_cache *c);
int cg_gemm_dnnl(cg_gemm_cache *c, int bf16, int ta, int tb, int M, int N, int K, const void *A,
                 int lda, const void *B, int ldb, int accumulate, float *C, int ldc);
/* 1 when fp32 products go through oneDNN (above), else 0. */
int cg_gemm_dnnl_fp32(void);
/* Whether a product of M N K multiply-adds goes to oneDNN, given the
 * graph's cache (NULL: never): bf16 always; fp32 from CG_DNNL_MIN_WORK
 * multiply-adds. Below, a oneDNN call's fixed cost (3-5 us) is more than
 * OpenBLAS takes for the whole product: on one thread, 32 x 10 x 64 took
 * 1.0 us in OpenBLAS and 3.4 in oneDNN, 32 x 64 x 64 3.3 and 4.5, and
 * they are even at 2^18 (64 x 64 x 64: 6.1 and 5.8); above, oneDNN wins
 * (32 x 64 x 784: 39.7 and 19.9). The same bound as matmul.c's for
 * splitting a product over threads. By shape only, so a product's bits
 * never depend on the thread count. */
#define CG_DNNL_MIN_WORK (1L << 18)
static inline int cg_gemm_use_dnnl(const cg_gemm_cache *cache, int bf16, int M, int N, int K)
{
    return cache && (bf16 || (long)M * N * K >= CG_DNNL_MIN_WORK);
}
/* 1 when bf16 products can run here: oneDNN in the build, AVX-512 BF16 in
 * the processor, CG_DISABLE_BF16 unset; else 0 and the reason in why. */
int cg_bf16_check(char *why, size_t size);
/* fp32 -> bf16, rounding to nearest even (a portable loop). */
void cg_f32_to_bf16(const float *x, uint16_t *y, size_t n);
/* The same as cg_f32_to_bf16 with AVX-512 BF16, over the threads when n is
 * large (at least 4 x CG_BF16_PAR_MIN) and not called in a team already;
 * only where cg_bf16_check says yes. */
#define CG_BF16_PAR_MIN 16384
void cg_to_bf16(const float *x, uint16_t *y, size_t n);
/* The same on the calling thread only (inside a team: conv.c). */
void cg_to_bf16_here(const float *x, uint16_t *y, size_t n);
#endif
