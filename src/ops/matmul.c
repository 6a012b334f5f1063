/* SPDX-License-Identifier: MIT */
/* matmul.c: C = op(A) op(B) through gemm.h (oneDNN where the build has
 * it, else OpenBLAS or portable C), op = transpose by flag.
 *
 * Backward, with G = dC:
 *   C = A B     : dA += G B^T,   dB += A^T G
 *   C = A^T B   : dA += B G^T,   dB += A G
 *   C = A B^T   : dA += G B,     dB += G^T A
 *   C = A^T B^T : dA += B^T G^T, dB += G^T A^T
 * Each is one gemm, with beta = 0 for the gradient's first writer and 1
 * (accumulate) after, and no copies.
 *
 * Threads: OpenBLAS and oneDNN run single-threaded (threads.c,
 * gemm_dnnl.c) and a large product
 * is split here into parts, one gemm call per block of output columns (or
 * rows), run by the OpenMP threads. One pool of threads then serves the products and the
 * elementwise loops alike; two pools (OpenBLAS's own next to OpenMP's)
 * spin against each other on the same cores.
 *
 * bf16 (cg_graph_set_precision, precision.c): the same products, split
 * the same way, through oneDNN with bf16 inputs and fp32 accumulation and
 * output (gemm_dnnl.c). The node's scratch holds bf16 copies of A and B,
 * made in the forward and used again by the backward (neither changes in
 * between), and of the output gradient G, made once for both of the
 * backward's products. Batch-1 products (gemm_thin) stay fp32: reading
 * W once in fp32 costs less than converting it. */
#include "ops.h"

#include "omp_compat.h"
#include <string.h>

/* Below this many multiply-adds a product runs on one thread: splitting
 * it costs more than it saves. */
#define GEMM_SPLIT_MIN (1L << 18)

/* The operands of one product: fp32, or bf16 copies (bf16 set: A and B
 * then point to uint16_t), multiplied through the graph's oneDNN cache
 * when there is one (always in bf16), else by cg_gemm. */
typedef struct operands {
    const void *A, *B;
    int bf16;
    cg_gemm_cache *cache;
} operands;

/* One product on the calling thread. For cg_gemm with beta = 0 the block
 * is zeroed here and OpenBLAS asked to add (beta = 1): its own beta = 0
 * path clears C in a separate, slower pass (sgemm_beta), measured 20-70 us
 * more per product of config A than this memset of the thread's block. */
static int gemm1(int ta, int tb, int M, int N, int K, const void *A, int lda, const void *B,
                 int ldb, cg_real beta, cg_real *C, int ldc, const operands *o)
{
#ifndef CG_DOUBLE
    if (cg_gemm_use_dnnl(o->cache, o->bf16, M, N, K))
        return cg_gemm_dnnl(o->cache, o->bf16, ta, tb, M, N, K, A, lda, B, ldb, beta != 0, C, ldc);
#else
    (void)o;
#endif
    if (beta == 0) {
        if (ldc == N) /* whole rows: one span */
            memset(C, 0, (size_t)M * (size_t)N * sizeof *C);
        else
            for (int r = 0; r < M; r++) memset(C + (size_t)r * ldc, 0, (size_t)N * sizeof *C);
        beta = 1;
    }
    cg_gemm(ta, tb, M, N, K, 1, A, lda, B, ldb, beta, C, ldc);
    return CG_OK;
}

/* Part p of a product split by columns or rows: C's columns (rows)
 * [lo, hi) from B's (A's) share. */
static int gemm_part(int by_cols, int ta, int tb, int M, int N, int K, const operands *o, int lda,
                     int ldb, cg_real beta, cg_real *C, int ldc, int lo, int hi)
{
    if (by_cols) {
        const void *Bj = cg_operand_at(o->B, o->bf16, tb ? (size_t)lo * ldb : (size_t)lo);
        return gemm1(ta, tb, M, hi - lo, K, o->A, lda, Bj, ldb, beta, C + lo, ldc, o);
    }
    const void *Ai = cg_operand_at(o->A, o->bf16, ta ? (size_t)lo : (size_t)lo * lda);
    return gemm1(ta, tb, hi - lo, N, K, Ai, lda, o->B, ldb, beta, C + (size_t)lo * ldc, ldc, o);
}

/* n operand values for one_call_same, uniform in [-1, 1): cg_real, or
 * bf16 (the float's upper half). */
static void fill_check(cg_rng *rng, void *p, size_t n, int bf16)
{
    for (size_t i = 0; i < n; i++) {
        const float v = (float)(2 * cg_rng_uniform(rng) - 1);
        if (bf16) {
            uint32_t bits;
            memcpy(&bits, &v, sizeof bits);
            ((uint16_t *)p)[i] = (uint16_t)(bits >> 16);
        } else {
            ((cg_real *)p)[i] = (cg_real)v;
        }
    }
}

/* At one thread the parts run one after the other, and each call costs:
 * config A's bf16 step at one thread ran at 57-60k ex/s in two parts per
 * product, 75-76k in one call (fp32: 35-37k, 38-39k). One call gives the
 * parts' bits only where the library sums each element in the same order
 * for both shapes: OpenBLAS mostly does, oneDNN's bf16 did on A's shapes
 * and not with K = 2048, its fp32 not on most (bench/OPTIMIZATIONS.md). So
 * it is checked, once per shape: both ways, bits compared. The order of
 * the sums does not depend on the values, but equal bits only show it on
 * values that expose it: the product's own operands could be zero (a
 * layer initialised at zero), so the check multiplies pseudo-random ones
 * laid out alike. 1 when one call may serve; 0 also when the check could
 * not run (out of memory, a failed call). */
static int one_call_same(cg_node *n, int kind, int by_cols, int parts, int align, int ta, int tb,
                         int M, int N, int K, const operands *o, int lda, int ldb, int ldc)
{
    struct cg_one_call *e = n->one_call[kind];
    const int slots = (int)(sizeof n->one_call[0] / sizeof n->one_call[0][0]);
    int free_slot = -1;
    for (int i = 0; i < slots; i++) {
        if (e[i].same && e[i].M == M && e[i].N == N && e[i].K == K && e[i].bf16 == o->bf16)
            return e[i].same > 0;
        if (!e[i].same && free_slot < 0) free_slot = i;
    }
    const size_t es = o->bf16 ? sizeof(uint16_t) : sizeof(cg_real);
    const size_t c_len = (size_t)M * (size_t)ldc;
    const size_t a_len = (size_t)(ta ? K : M) * (size_t)lda, b_len = (size_t)(tb ? N : K) * (size_t)ldb;
    /* Four buffers on 64-byte lines, as the graph's own are. */
    const size_t c_bytes = (c_len * sizeof(cg_real) + 63) / 64 * 64;
    const size_t a_bytes = (a_len * es + 63) / 64 * 64, b_bytes = (b_len * es + 63) / 64 * 64;
    unsigned char *mem = cg_malloc(2 * c_bytes + a_bytes + b_bytes + 64);
    if (!mem) return 0;
    unsigned char *base = mem + (64 - (uintptr_t)mem % 64) % 64;
    cg_real *whole = (cg_real *)base, *split = (cg_real *)(base + c_bytes);
    unsigned char *ab = base + 2 * c_bytes;
    cg_rng rng;
    cg_rng_seed(&rng, 12345);
    fill_check(&rng, ab, a_len, o->bf16);
    fill_check(&rng, ab + a_bytes, b_len, o->bf16);
    const operands q = {ab, ab + a_bytes, o->bf16, o->cache};
    memset(base, 0, 2 * c_bytes); /* the gaps of ldc > N compare equal */
    int rc = gemm1(ta, tb, M, N, K, q.A, lda, q.B, ldb, 0, whole, ldc, &q);
    for (int p = 0; p < parts && !rc; p++) {
        int lo, hi;
        cg_block_aligned(by_cols ? N : M, parts, p, align, &lo, &hi);
        if (lo < hi) rc = gemm_part(by_cols, ta, tb, M, N, K, &q, lda, ldb, 0, split, ldc, lo, hi);
    }
    const int same = !rc && !memcmp(whole, split, c_len * sizeof *whole);
    cg_free(mem);
    if (rc) return 0;
    /* Full: the oldest entry goes (entries fill from the first). */
    if (free_slot < 0) {
        memmove(e, e + 1, (size_t)(slots - 1) * sizeof *e);
        free_slot = slots - 1;
    }
    e[free_slot] = (struct cg_one_call){M, N, K, o->bf16, (signed char)(same ? 1 : -1)};
    return same;
}

/* C [M, N] = op(A) [M, K] op(B) [K, N] + beta C, row-major, split along
 * one side of C into parts, each one gemm call. Each call packs all of
 * the operand it does not split: split by columns, A's M x K and its share
 * of B; by rows, its share of A and all of B's K x N. Splitting the longer
 * side packs less (measured on batch-1000 inference, 784-512: 4.69 -> 4.24
 * ms for the first product).
 *
 * The parts depend on the shape and the machine's core count only, never
 * on the threads running now: a thread runs a contiguous run of parts, one
 * thread all of them. OpenBLAS may sum a row in another order for a
 * narrower call (its small-matrix kernels), so a split chosen by the
 * thread count would make the bits depend on it; with the parts fixed, any
 * thread count gives the same bits, and threads.c may change the count
 * between steps (a loaded machine) without changing a run's results. One
 * thread makes one call instead where that gives the same bits
 * (one_call_same). */
static void gemm(cg_node *n, int kind, int ta, int tb, int M, int N, int K, const operands *o,
                 int lda, int ldb, cg_real beta, cg_real *C, int ldc, const cg_node *fused,
                 const cg_node *bfused)
{
    int rc = CG_OK;
    const long work = (long)M * N * K;
    const int cols_ok = N >= 4 * CG_BLOCK_ALIGN, rows_ok = M >= 4 * CG_BLOCK_ALIGN;
    /* One operand transposed (a gradient's product): split its side, so
     * each part packs only its share of it, which costs most to pack
     * (config A's dW2 = H1^T dZ2, 512 x 512: 338-354 us split by rows,
     * 362-370 by columns). Otherwise the longer side. */
    const int by_cols = ta != tb && cols_ok && rows_ok ? tb : cols_ok && (N >= M || !rows_ok);
    const int parts = work < GEMM_SPLIT_MIN || (!cols_ok && !rows_ok) ? 1 : cg_thread_parts();
    const int align = by_cols ? CG_BLOCK_ALIGN : CG_ROW_ALIGN, len = by_cols ? N : M;
    const int one_thread = omp_get_max_threads() == 1 || omp_in_parallel();
    if (parts == 1 || (one_thread && beta == 0 &&
                       one_call_same(n, kind, by_cols, parts, align, ta, tb, M, N, K, o, lda, ldb,
                                     ldc))) {
        rc = gemm1(ta, tb, M, N, K, o->A, lda, o->B, ldb, beta, C, ldc, o);
        if (fused) cg_run_fused_strips(fused, 0, M, 0, N);
        if (bfused) cg_run_bfused(bfused, 0, N);
        if (rc) cg_node_fault(n, rc, "matmul: %s", cg_last_error());
        return;
    }
#pragma omp parallel if (omp_get_max_threads() > 1 && !omp_in_parallel())
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        int lo, hi;
        for (int p = t * parts / T; p < (t + 1) * parts / T; p++) {
            cg_block_aligned(len, parts, p, align, &lo, &hi);
            if (lo >= hi) continue;
            const int r = gemm_part(by_cols, ta, tb, M, N, K, o, lda, ldb, beta, C, ldc, lo, hi);
            if (by_cols) {
                if (fused) cg_run_fused_strips(fused, 0, M, lo, hi);
                if (bfused) cg_run_bfused(bfused, lo, hi);
            } else if (fused) {
                cg_run_fused_strips(fused, lo, hi, 0, N);
            }
            if (r) {
#pragma omp atomic write
                rc = r;
            }
        }
        if (bfused && !by_cols) {
            /* The chain needs whole columns: once every row is written. */
#pragma omp barrier
            cg_block(N, T, t, &lo, &hi);
            if (lo < hi) cg_run_bfused(bfused, lo, hi);
        }
    }
    /* Only a primitive that could not be made (out of memory) fails. */
    if (rc) cg_node_fault(n, rc, "matmul: %s", cg_last_error());
}

/* A single row times a matrix (batch-1 inference), x [K] W [K, N], is
 * bound by reading W. Split by columns, each thread reads half of every
 * row, and the prefetchers, running past its half, likely fetch much of
 * the other. Here W's rows are cut into THIN_CHUNKS fixed chunks, each a
 * contiguous span read by one thread into its own partial row; the
 * partials are summed in chunk order, column block by column block.
 * bench infer1 (model A at batch 1), fast phase: 28 -> 23.5 us. The
 * chunks do not depend on the thread count, so neither do the sums. */
#define THIN_CHUNKS 4

static int thin_product(int ta, int tb, int M, int N, int K)
{
    return M == 1 && !ta && !tb && (long)N * K >= GEMM_SPLIT_MIN &&
           K >= THIN_CHUNKS * CG_ROW_ALIGN;
}

/* Rows per chunk: K split THIN_CHUNKS ways, in whole multiples of 8. */
static int thin_rows(int K)
{
    int kc = (K + THIN_CHUNKS - 1) / THIN_CHUNKS;
    return (kc + CG_ROW_ALIGN - 1) / CG_ROW_ALIGN * CG_ROW_ALIGN;
}

static void sum_partials(const cg_real *restrict part, int chunks, int N, int lo, int hi,
                         cg_real *restrict C)
{
    for (int j = lo; j < hi; j++) C[j] = part[j];
    for (int c = 1; c < chunks; c++)
        for (int j = lo; j < hi; j++) C[j] += part[(size_t)c * N + j];
}

/* C [1, N] = x [1, K] B [K, N]; part: THIN_CHUNKS x N of scratch. */
static void gemm_thin(int N, int K, const cg_real *x, const cg_real *B, int ldb, cg_real *C,
                      cg_real *part, const cg_node *fused)
{
    const int kc = thin_rows(K), chunks = (K + kc - 1) / kc;
#pragma omp parallel if (omp_get_max_threads() > 1 && !omp_in_parallel())
    {
        const int T = omp_get_num_threads(), t = omp_get_thread_num();
        int c0, c1, lo, hi;
        cg_block_aligned(chunks, T, t, 1, &c0, &c1);
        for (int c = c0; c < c1; c++) {
            const int r0 = c * kc, r1 = r0 + kc < K ? r0 + kc : K;
            cg_gemv(1, r1 - r0, N, 1, B + (size_t)r0 * ldb, ldb, x + r0, 1, 0,
                    part + (size_t)c * N, 1);
        }
#pragma omp barrier
        cg_block(N, T, t, &lo, &hi);
        if (lo < hi) {
            sum_partials(part, chunks, N, lo, hi, C);
            if (fused) cg_run_fused_strips(fused, 0, 1, lo, hi);
        }
    }
}

/* fp32 -> bf16 (the double library has no bf16: precision.c refuses it). */
static void to_bf16(const cg_real *x, uint16_t *y, size_t n)
{
#ifndef CG_DOUBLE
    cg_to_bf16(x, y, n);
#else
    (void)x, (void)y, (void)n;
#endif
}

static int uses_bf16(const cg_node *n)
{
    const cg_node *a = n->in[0];
    return n->g->precision == CG_PRECISION_BF16 &&
           !thin_product(n->ip[0], n->ip[1], n->shape[0], n->shape[1], a->shape[n->ip[0] ? 0 : 1]);
}

static size_t scratch_matmul(const cg_node *n)
{
    const cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    if (n->shape[0] < 0) return 0;
    int k = a->shape[ta ? 0 : 1];
    if (uses_bf16(n)) /* A, B and G in bf16 */
        return cg_bf16_slots(a->size) + cg_bf16_slots(b->size) +
               (n->needs_grad ? cg_bf16_slots(n->size) : 0);
    return thin_product(ta, tb, n->shape[0], n->shape[1], k) ? (size_t)THIN_CHUNKS * n->shape[1]
                                                              : 0;
}

/* The bf16 copies in n's scratch: A's, B's, G's. */
static uint16_t *bf16_a(const cg_node *n) { return (uint16_t *)n->scratch; }
static uint16_t *bf16_b(const cg_node *n)
{
    return (uint16_t *)(n->scratch + cg_bf16_slots(n->in[0]->size));
}
static uint16_t *bf16_g(const cg_node *n)
{
    return (uint16_t *)(n->scratch + cg_bf16_slots(n->in[0]->size) + cg_bf16_slots(n->in[1]->size));
}

static int infer_matmul(cg_node *n)
{
    const cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    char sa[96], sb[96];
    if (a->ndim != 2 || b->ndim != 2)
        return cg_error(CG_ERR_SHAPE, "matmul: inputs must be 2-D, got %s and %s",
                        cg_shape_str(a, sa, sizeof sa), cg_shape_str(b, sb, sizeof sb));
    int m = a->shape[ta ? 1 : 0], ka = a->shape[ta ? 0 : 1];
    int kb = b->shape[tb ? 1 : 0], nn = b->shape[tb ? 0 : 1];
    if (ka != kb)
        return cg_error(CG_ERR_SHAPE,
                        "matmul: inner dimensions differ: %s%s times %s%s (%d vs %d)",
                        cg_shape_str(a, sa, sizeof sa), ta ? "^T" : "",
                        cg_shape_str(b, sb, sizeof sb), tb ? "^T" : "", ka, kb);
    n->ndim = 2;
    n->shape[0] = m;
    n->shape[1] = nn;
    return CG_OK;
}

static void forward_matmul(cg_node *n)
{
    const cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    int m = n->shape[0], nn = n->shape[1], k = a->shape[ta ? 0 : 1];
    /* The fused chain (a bias add, an activation: plan.c) runs on each
     * thread's block of the product as soon as it is written. */
    operands o = {a->val, b->val, 0, cg_graph_gemm_cache(n->g)};
    if (uses_bf16(n)) {
        to_bf16(a->val, bf16_a(n), a->size);
        to_bf16(b->val, bf16_b(n), b->size);
        o = (operands){bf16_a(n), bf16_b(n), 1, n->g->gemm_cache};
    }
    if (thin_product(ta, tb, m, nn, k))
        gemm_thin(nn, k, a->val, b->val, b->shape[1], n->val, n->scratch, n);
    else
        gemm(n, 0, ta, tb, m, nn, k, &o, a->shape[1], b->shape[1], 0, n->val, nn, n, NULL);
}

static void backward_matmul(cg_node *n)
{
    cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    int m = n->shape[0], nn = n->shape[1], k = a->shape[ta ? 0 : 1];
    int lda = a->shape[1], ldb = b->shape[1];
    const void *G = n->grad, *A = a->val, *B = b->val;
    const int h = uses_bf16(n);
    cg_gemm_cache *cache = cg_graph_gemm_cache(n->g);
    if (h) { /* A's and B's bf16 copies are the forward's */
        to_bf16(n->grad, bf16_g(n), n->size);
        G = bf16_g(n), A = bf16_a(n), B = bf16_b(n);
    }
    /* beta 0 for the first writer of a gradient (autodiff.c), 1 after. */
    if (a->grad) {
        cg_real beta = cg_grad_first(a) ? 0 : 1;
        /* The backward chain before the product (plan.c) runs on each block
         * of dA as it is written. */
        cg_bfused_prepare(n);
        const cg_node *chain = n->bfused ? n : NULL;
        if (!ta) { /* dA [m,k] = G [m,n] * op(B)^T */
            operands o = {G, B, h, cache};
            gemm(n, 1, 0, !tb, m, k, nn, &o, nn, ldb, beta, a->grad, lda, NULL, chain);
        } else { /* dA [k,m] = op(B) [k,n] * G^T */
            operands o = {B, G, h, cache};
            gemm(n, 1, tb, 1, k, m, nn, &o, ldb, nn, beta, a->grad, lda, NULL, chain);
        }
    }
    if (b->grad) {
        cg_real beta = cg_grad_first(b) ? 0 : 1;
        if (!tb) { /* dB [k,n] = op(A)^T [k,m] * G [m,n] */
            operands o = {A, G, h, cache};
            gemm(n, 2, !ta, 0, k, nn, m, &o, lda, nn, beta, b->grad, ldb, NULL, NULL);
        } else { /* dB [n,k] = G^T [n,m] * op(A) [m,k] */
            operands o = {G, A, h, cache};
            gemm(n, 2, 1, ta, nn, k, m, &o, nn, lda, beta, b->grad, ldb, NULL, NULL);
        }
    }
}

const cg_op_def cg_op_matmul = {
    .name = "matmul",
    .arity = 2,
    .infer_shape = infer_matmul,
    .scratch_size = scratch_matmul,
    .forward = forward_matmul,
    .backward = backward_matmul,
    .grad_overwrite = 1,
    .runs_fused = 1,
    .runs_bfused = 1,
};

cg_node *cg_matmul(cg_node *a, cg_node *b, int trans_a, int trans_b)
{
    cg_node *in[2] = {a, b};
    int ip[2] = {trans_a != 0, trans_b != 0};
    return cg_node_new_op(&cg_op_matmul, in, 2, ip, 2, NULL, 0);
}
