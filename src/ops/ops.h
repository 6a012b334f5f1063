/* SPDX-License-Identifier: MIT */
/* ops.h: what op files share. */
#ifndef CG_OPS_H
#define CG_OPS_H

#include "node.h"

#include "gemm.h"

#include <math.h>

/* The oneDNN cache g's products use, or NULL for cg_gemm (precision.c). */
cg_gemm_cache *cg_graph_gemm_cache(cg_graph *g);

#ifdef CG_DOUBLE
#define CG_EXP exp
#define CG_LOG log
#define CG_SQRT sqrt
#define CG_TANH tanh
#define CG_POW pow
#define CG_FABS fabs
#define CG_LOG1P log1p
#else
#define CG_EXP expf
#define CG_LOG logf
#define CG_SQRT sqrtf
#define CG_TANH tanhf
#define CG_POW powf
#define CG_FABS fabsf
#define CG_LOG1P log1pf
/* NumPy broadcasting (broadcast.c). Set n's shape to that of a and b
 * broadcast together, or return CG_ERR_SHAPE naming both. */
int cg_broadcast_shape(cg_node *n, const cg_node *a, const cg_node *b);
/* Strides of x's elements along each axis of out (x broadcasts to out):
 * 0 where x's dimension is 1 or missing. */
void cg_broadcast_strides(const cg_node *x, const cg_node *out, size_t *strides);

#endif

/* Dimensions equal, where -1 (open batch) only equals -1. */
static inline int cg_dims_equal(const cg_node *a, const cg_node *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

/* The hot elementwise loops in an AVX2 clone beside the baseline x86-64
 * one (SSE), picked at load time by the CPU; without FMA contraction (C11
 * mode) both give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define CG_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CG_AVX2_CLONES
/* NumPy broadcasting (broadcast.c). Set n's shape to that of a and b
 * broadcast together, or return CG_ERR_SHAPE naming both. */
int cg_broadcast_shape(cg_node *n, const cg_node *a, const cg_node *b);
/* Strides of x's elements along each axis of out (x broadcasts to out):
 * 0 where x's dimension is 1 or missing. */
void cg_broadcast_strides(const cg_node *x, const cg_node *out, size_t *strides);

#endif

/* Thread t of T's block [*lo, *hi) of `len` columns: whole multiples of
 * 16 floats (a cache line), so blocks never share a line. matmul.c splits
 * products this way too: a loop over the columns of a product's output,
 * split alike, finds its block in the same core's cache. */
#define CG_BLOCK_ALIGN 16
/* Blocks of rows only need whole rows; multiples of 8 keep OpenBLAS's
 * 16-row tiles but for one 8-row tail, and balance 784 rows as 392 + 392
 * (16 would give 400 + 384). Its products are the same bits either way. */
#define CG_ROW_ALIGN 8

static inline void cg_block_aligned(int len, int T, int t, int align, int *lo, int *hi)
{
    int chunk = (len + T - 1) / T;
    chunk = (chunk + align - 1) / align * align;
    *lo = t * chunk < len ? t * chunk : len;
    *hi = *lo + chunk < len ? *lo + chunk : len;
}

static inline void cg_block(int len, int T, int t, int *lo, int *hi)
{
    cg_block_aligned(len, T, t, CG_BLOCK_ALIGN, lo, hi);
}

/* Sums over [0, n) that give the same bits for any thread count: the
 * range is cut into CG_SUM_PARTS fixed chunks of cg_sum_chunk(n), each
 * summed in order into part[c] (the chunks may run on any threads), and
 * the parts added in chunk order by cg_sum_parts. OpenMP's reduction
 * clause would add one partial per thread instead, so the last bits would
 * follow the thread count (threads.c changes it between steps). */
#define CG_SUM_PARTS 64

static inline long cg_sum_chunk(long n) { return n > CG_SUM_PARTS ? (n + CG_SUM_PARTS - 1) / CG_SUM_PARTS : 1; }

static inline long cg_sum_end(long c, long chunk, long n) { return (c + 1) * chunk < n ? (c + 1) * chunk : n; }

static inline double cg_sum_parts(const double *part)
{
    double s = 0;
    for (int c = 0; c < CG_SUM_PARTS; c++) s += part[c];
    return s;
}

/* Rows and columns of a node seen as a matrix (last dim = columns). */
static inline int cg_cols(const cg_node *n) { return n->ndim ? n->shape[n->ndim - 1] : 1; }

static inline void cg_copy_shape(cg_node *dst, const cg_node *src)
{
    dst->ndim = src->ndim;
    for (int i = 0; i < CG_MAX_DIMS; i++) dst->shape[i] = src->shape[i];
}

/* NumPy broadcasting (broadcast.c). Set n's shape to that of a and b
 * broadcast together, or return CG_ERR_SHAPE naming both. */
int cg_broadcast_shape(cg_node *n, const cg_node *a, const cg_node *b);
/* Strides of x's elements along each axis of out (x broadcasts to out):
 * 0 where x's dimension is 1 or missing. */
void cg_broadcast_strides(const cg_node *x, const cg_node *out, size_t *strides);

#endif
