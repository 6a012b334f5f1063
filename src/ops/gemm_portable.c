/* SPDX-License-Identifier: MIT */
/* gemm_portable.c: matrix products in plain C, for builds without BLAS
 * (-DCG_BLAS=OFF, and the WebAssembly build). See gemm.h for the contract.
 *
 * The classic blocking (Goto's, as in BLIS): C is cut into NC-column and
 * MC-row blocks and k into KC slices; op(A) and op(B) are copied ("packed")
 * into contiguous panels, MR rows of A and NR columns of B, with the
 * transposes resolved while packing, so one kernel serves all four cases.
 * The kernel keeps an MR x NR tile of C in registers: each step broadcasts
 * one element of A and multiplies a row of NR elements of B. Its loops
 * have fixed lengths, which compilers unroll and vectorise (SSE, AVX2 via
 * the clone, WebAssembly SIMD128 under -msimd128). MR x NR = 4 x 8 floats is
 * eight 128-bit accumulators: it fits the 16 vector registers of x86-64
 * and of the engines that run WebAssembly. */
#include "ops.h"

/* A BLAS build leaves this file out (CMakeLists.txt); the guard keeps
 * builds that compile every source (scripts/fuzz.sh) from defining cg_gemm
 * twice. */
#ifndef CG_HAVE_BLAS

#include <string.h>

#define MR 4
#define NR (32 / (int)sizeof(cg_real)) /* two 128-bit vectors per row */
#define KC 256
#define MC 64  /* multiple of MR; a packed A block is MC x KC (64 KiB float) */
#define NC 256 /* multiple of NR; a packed B panel is KC x NC (256 KiB float) */

/* Per thread: matmul.c runs one product per OpenMP thread at once. Static,
 * so a training step allocates nothing. */
static _Thread_local cg_real pack_a[MC * KC];
static _Thread_local cg_real pack_b[KC * NC];

/* op(A)[i0.., p0..] (mc x kc) into panels of MR rows: panel q holds rows
 * q*MR.., stored p-major (MR values per p), zero-padded past mc. */
static void pack_block_a(int ta, const cg_real *A, int lda, int i0, int p0, int mc, int kc,
                         cg_real *restrict out)
{
    for (int q = 0; q < mc; q += MR) {
        const int rows = mc - q < MR ? mc - q : MR;
        for (int p = 0; p < kc; p++) {
            for (int r = 0; r < rows; r++) {
                const size_t i = (size_t)(i0 + q + r), kk = (size_t)(p0 + p);
                out[p * MR + r] = ta ? A[kk * lda + i] : A[i * lda + kk];
            }
            for (int r = rows; r < MR; r++) out[p * MR + r] = 0;
        }
        out += (size_t)MR * kc;
    }
}

/* op(B)[p0.., j0..] (kc x nc) into panels of NR columns, p-major,
 * zero-padded past nc. */
static void pack_block_b(int tb, const cg_real *B, int ldb, int p0, int j0, int kc, int nc,
                         cg_real *restrict out)
{
    for (int q = 0; q < nc; q += NR) {
        const int cols = nc - q < NR ? nc - q : NR;
        for (int p = 0; p < kc; p++) {
            const size_t kk = (size_t)(p0 + p);
            if (!tb && cols == NR) {
                memcpy(out + p * NR, B + kk * ldb + j0 + q, NR * sizeof *out);
                continue;
            }
            for (int c = 0; c < cols; c++) {
                const size_t j = (size_t)(j0 + q + c);
                out[p * NR + c] = tb ? B[j * ldb + kk] : B[kk * ldb + j];
            }
            for (int c = cols; c < NR; c++) out[p * NR + c] = 0;
        }
        out += (size_t)NR * kc;
    }
}

/* C[0..mr, 0..nr] += alpha * (packed a panel) (packed b panel). */
CG_AVX2_CLONES
static void kernel(int kc, const cg_real *restrict a, const cg_real *restrict b, cg_real alpha,
                   cg_real *restrict C, int ldc, int mr, int nr)
{
    cg_real acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int p = 0; p < kc; p++) {
        const cg_real *restrict bp = b + (size_t)p * NR;
        for (int r = 0; r < MR; r++) {
            const cg_real ar = a[(size_t)p * MR + r];
            for (int j = 0; j < NR; j++) acc[r][j] += ar * bp[j];
        }
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) C[(size_t)r * ldc + j] += alpha * acc[r][j];
}

static void scale_c(int m, int n, cg_real beta, cg_real *C, int ldc)
{
    if (beta == 1) return;
    for (int i = 0; i < m; i++) {
        cg_real *row = C + (size_t)i * ldc;
        if (beta == 0)
            memset(row, 0, (size_t)n * sizeof *row); /* BLAS: C is not read */
        else
            for (int j = 0; j < n; j++) row[j] *= beta;
    }
}

void cg_gemm(int trans_a, int trans_b, int m, int n, int k, cg_real alpha, const cg_real *A,
             int lda, const cg_real *B, int ldb, cg_real beta, cg_real *C, int ldc)
{
    if (m <= 0 || n <= 0) return;
    scale_c(m, n, beta, C, ldc);
    if (k <= 0 || alpha == 0) return;
    for (int j0 = 0; j0 < n; j0 += NC) {
        const int nc = n - j0 < NC ? n - j0 : NC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            const int kc = k - p0 < KC ? k - p0 : KC;
            pack_block_b(trans_b, B, ldb, p0, j0, kc, nc, pack_b);
            for (int i0 = 0; i0 < m; i0 += MC) {
                const int mc = m - i0 < MC ? m - i0 : MC;
                pack_block_a(trans_a, A, lda, i0, p0, mc, kc, pack_a);
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += MR)
                        kernel(kc, pack_a + (size_t)ir * kc, pack_b + (size_t)jr * kc, alpha,
                               C + (size_t)(i0 + ir) * ldc + j0 + jr, ldc,
                               mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR);
            }
        }
    }
}

void cg_gemv(int trans, int m, int n, cg_real alpha, const cg_real *A, int lda, const cg_real *x,
             int incx, cg_real beta, cg_real *y, int incy)
{
    const int ylen = trans ? n : m, xlen = trans ? m : n;
    if (m <= 0 || n <= 0) return;
    for (int i = 0; i < ylen; i++) {
        cg_real *yi = y + (ptrdiff_t)i * incy;
        *yi = beta == 0 ? 0 : beta * *yi;
    }
    if (alpha == 0) return;
    if (trans) {
        /* y += alpha A^T x: one pass over A's rows, each a contiguous axpy. */
        for (int i = 0; i < xlen; i++) {
            const cg_real t = alpha * x[(ptrdiff_t)i * incx];
            const cg_real *row = A + (size_t)i * lda;
            if (incy == 1)
                for (int j = 0; j < n; j++) y[j] += t * row[j];
            else
                for (int j = 0; j < n; j++) y[(ptrdiff_t)j * incy] += t * row[j];
        }
    } else {
        for (int i = 0; i < m; i++) {
            const cg_real *row = A + (size_t)i * lda;
            cg_real s = 0;
            for (int j = 0; j < n; j++) s += row[j] * x[(ptrdiff_t)j * incx];
            y[(ptrdiff_t)i * incy] += alpha * s;
        }
    }
}

#endif /* !CG_HAVE_BLAS */
