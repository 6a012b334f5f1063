/* matmul.c: C = op(A) op(B) through CBLAS gemm, op = transpose by flag.
 *
 * Backward, with G = dC:
 *   C = A B     : dA += G B^T,   dB += A^T G
 *   C = A^T B   : dA += B G^T,   dB += A G
 *   C = A B^T   : dA += G B,     dB += G^T A
 *   C = A^T B^T : dA += B^T G^T, dB += G^T A^T
 * Each is one gemm with beta = 1 (accumulate) and no copies. */
#include "ops.h"

#include <string.h>

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

/* OpenBLAS takes another kernel for fewer than 8 rows, whose sums are
 * ordered differently: an example predicted alone would then differ in the
 * last bits from the same example inside a batch. Below that many rows the
 * product is computed on rows padded with zeros, so each output row is the
 * same whatever batch it belongs to. */
#define MATMUL_MIN_ROWS 8

static size_t scratch_matmul(const cg_node *n)
{
    if (n->ip[0] || n->shape[0] >= MATMUL_MIN_ROWS) return 0;
    return (size_t)MATMUL_MIN_ROWS * (size_t)(n->in[0]->shape[1] + n->shape[1]);
}

static void forward_matmul(cg_node *n)
{
    const cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    int m = n->shape[0], nn = n->shape[1], k = a->shape[ta ? 0 : 1];
    if (n->scratch) {
        cg_real *pa = n->scratch, *pc = pa + (size_t)MATMUL_MIN_ROWS * k;
        memcpy(pa, a->val, (size_t)m * k * sizeof(cg_real));
        memset(pa + (size_t)m * k, 0, (size_t)(MATMUL_MIN_ROWS - m) * k * sizeof(cg_real));
        cg_gemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, MATMUL_MIN_ROWS, nn,
                k, 1, pa, k, b->val, b->shape[1], 0, pc, nn);
        memcpy(n->val, pc, (size_t)m * nn * sizeof(cg_real));
        return;
    }
    cg_gemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
            nn, k, 1, a->val, a->shape[1], b->val, b->shape[1], 0, n->val, nn);
}

static void backward_matmul(cg_node *n)
{
    cg_node *a = n->in[0], *b = n->in[1];
    int ta = n->ip[0], tb = n->ip[1];
    int m = n->shape[0], nn = n->shape[1], k = a->shape[ta ? 0 : 1];
    int lda = a->shape[1], ldb = b->shape[1];
    const cg_real *G = n->grad;
    const CBLAS_TRANSPOSE T = CblasTrans, N = CblasNoTrans;
    if (a->grad) {
        if (!ta) /* dA [m,k] = G [m,n] * op(B)^T */
            cg_gemm(CblasRowMajor, N, tb ? N : T, m, k, nn, 1, G, nn, b->val, ldb, 1, a->grad, lda);
        else /* dA [k,m] = op(B) [k,n] * G^T */
            cg_gemm(CblasRowMajor, tb ? T : N, T, k, m, nn, 1, b->val, ldb, G, nn, 1, a->grad, lda);
    }
    if (b->grad) {
        if (!tb) /* dB [k,n] = op(A)^T [k,m] * G [m,n] */
            cg_gemm(CblasRowMajor, ta ? N : T, N, k, nn, m, 1, a->val, lda, G, nn, 1, b->grad, ldb);
        else /* dB [n,k] = G^T [n,m] * op(A) [m,k] */
            cg_gemm(CblasRowMajor, T, ta ? T : N, nn, k, m, 1, G, nn, a->val, lda, 1, b->grad, ldb);
    }
}

const cg_op_def cg_op_matmul = {"matmul", 2, infer_matmul, scratch_matmul, forward_matmul,
                                 backward_matmul};

cg_node *cg_matmul(cg_node *a, cg_node *b, int trans_a, int trans_b)
{
    cg_node *in[2] = {a, b};
    int ip[2] = {trans_a != 0, trans_b != 0};
    return cg_node_new_op(&cg_op_matmul, in, 2, ip, 2, NULL, 0);
}
