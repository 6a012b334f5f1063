/* SPDX-License-Identifier: MIT */
/* dtest_gemm.c: the product interface (src/ops/gemm.h) against plain
 * double loops, in whichever backend this build has (OpenBLAS, or the
 * portable C of -DCG_BLAS=OFF): all four transpose cases, sizes that cross
 * the portable path's blocks (MC 64, KC 256, NC 256) and its 4 x 4 tiles
 * with ragged edges, leading dimensions wider than the matrix, alpha, and
 * beta 0 (C not read: NaN there is overwritten), 1 and other. */
#include "cgrad.h"
#include "check.h"
#include "ops/gemm.h"

#include <stdlib.h>

static double frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (double)((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

/* op(X)[i][j] of a row-major X with leading dimension ld. */
static double at(const cg_real *X, int ld, int t, int i, int j)
{
    return t ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j];
}

static void check_gemm(int ta, int tb, int m, int n, int k, double alpha, double beta, int pad)
{
    /* op(A) is m x k: stored k x m when transposed. */
    const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    const int lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    cg_real *A = malloc(sizeof *A * (size_t)ar * lda);
    cg_real *B = malloc(sizeof *B * (size_t)br * ldb);
    cg_real *C = malloc(sizeof *C * (size_t)m * ldc);
    double *want = malloc(sizeof *want * (size_t)m * n);
    unsigned s = (unsigned)(m * 131 + n * 17 + k + ta * 7 + tb * 3);
    for (size_t i = 0; i < (size_t)ar * lda; i++) A[i] = (cg_real)frand(&s);
    for (size_t i = 0; i < (size_t)br * ldb; i++) B[i] = (cg_real)frand(&s);
    for (size_t i = 0; i < (size_t)m * ldc; i++) C[i] = beta == 0 ? NAN : (cg_real)frand(&s);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) acc += at(A, lda, ta, i, p) * at(B, ldb, tb, p, j);
            want[(size_t)i * n + j] = alpha * acc + (beta == 0 ? 0 : beta * C[(size_t)i * ldc + j]);
        }
    const cg_real pad_mark = (cg_real)12345;
    for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++) C[(size_t)i * ldc + j] = pad_mark;
    cg_gemm(ta, tb, m, n, k, (cg_real)alpha, A, lda, B, ldb, (cg_real)beta, C, ldc);
    double worst = 0;
    int pad_ok = 1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double d = fabs(C[(size_t)i * ldc + j] - want[(size_t)i * n + j]);
            if (!(d <= worst)) worst = d; /* NaN sticks */
        }
        for (int j = n; j < ldc; j++) pad_ok &= C[(size_t)i * ldc + j] == pad_mark;
    }
    if (!(worst <= 1e-9 * (k + 1)) || !pad_ok)
        fprintf(stderr, "gemm ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d: err %g%s\n",
                ta, tb, m, n, k, alpha, beta, pad, worst, pad_ok ? "" : ", wrote past n");
    CHECK(worst <= 1e-9 * (k + 1));
    CHECK(pad_ok);
    free(A), free(B), free(C), free(want);
}

static void check_gemv(int trans, int m, int n, double alpha, double beta)
{
    const int lda = n + 3, xlen = trans ? m : n, ylen = trans ? n : m;
    cg_real *A = malloc(sizeof *A * (size_t)m * lda), *x = malloc(sizeof *x * (size_t)xlen);
    cg_real *y = malloc(sizeof *y * (size_t)ylen);
    unsigned s = (unsigned)(m * 7 + n + trans);
    for (size_t i = 0; i < (size_t)m * lda; i++) A[i] = (cg_real)frand(&s);
    for (int i = 0; i < xlen; i++) x[i] = (cg_real)frand(&s);
    for (int i = 0; i < ylen; i++) y[i] = beta == 0 ? NAN : (cg_real)frand(&s);
    double worst = 0;
    double *want = malloc(sizeof *want * (size_t)ylen);
    for (int i = 0; i < ylen; i++) {
        double acc = 0;
        for (int p = 0; p < xlen; p++)
            acc += (trans ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p]) * x[p];
        want[i] = alpha * acc + (beta == 0 ? 0 : beta * y[i]);
    }
    cg_gemv(trans, m, n, (cg_real)alpha, A, lda, x, 1, (cg_real)beta, y, 1);
    for (int i = 0; i < ylen; i++) {
        double d = fabs(y[i] - want[i]);
        if (!(d <= worst)) worst = d;
    }
    CHECK(worst <= 1e-9 * (xlen + 1));
    free(A), free(x), free(y), free(want);
}

int main(void)
{
    static const int sizes[][3] = {{1, 1, 1},   {3, 5, 7},     {4, 4, 4},    {17, 9, 33},
                                   {65, 70, 3}, {64, 257, 300}, {130, 31, 513}, {1, 300, 260},
                                   {200, 1, 9}, {5, 6, 0}};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
                const int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
                check_gemm(ta, tb, m, n, k, 1, 0, 0);
                check_gemm(ta, tb, m, n, k, 0.5, 1, 3);
                check_gemm(ta, tb, m, n, k, -2, 0.25, 1);
            }
    for (int t = 0; t < 2; t++) {
        check_gemv(t, 1, 1, 1, 0);
        check_gemv(t, 37, 300, 1, 0);
        check_gemv(t, 300, 37, 0.5, 2);
    }
    CHECK_DONE();
}
