/* SPDX-License-Identifier: MIT */
/* unary.c: elementwise functions y = f(x) and their derivatives.
 * Each backward uses whichever of x and y makes f' cheapest. */
#include "ops.h"

enum { U_NEG, U_SQUARE, U_POW, U_EXP, U_LOG, U_SQRT, U_RELU, U_SIGMOID, U_TANH };

static int infer_unary(cg_node *n)
{
    cg_copy_shape(n, n->in[0]);
    return CG_OK;
}

static inline cg_real sigmoid(cg_real x)
{
    /* Split by sign so exp never overflows. */
    if (x >= 0) return 1 / (1 + CG_EXP(-x));
    cg_real e = CG_EXP(x);
    return e / (1 + e);
}

/* y[i] = f(x[i]) for i in [lo, hi). */
CG_AVX2_CLONES
static void unary_range(int kind, cg_real p, const cg_real *restrict x, cg_real *restrict y,
                        long lo, long hi)
{
    switch (kind) {
#define LOOP(EXPR) \
    for (long i = lo; i < hi; i++) y[i] = (EXPR); \
    break
    case U_NEG: LOOP(-x[i]);
    case U_SQUARE: LOOP(x[i] * x[i]);
    case U_POW: LOOP(CG_POW(x[i], p));
    case U_EXP: LOOP(CG_EXP(x[i]));
    case U_LOG: LOOP(CG_LOG(x[i]));
    case U_SQRT: LOOP(CG_SQRT(x[i]));
    case U_RELU: LOOP(x[i] > 0 ? x[i] : 0);
    case U_SIGMOID: LOOP(sigmoid(x[i]));
    case U_TANH: LOOP(CG_TANH(x[i]));
#undef LOOP
    }
}

/* Chunks of whole cache lines per thread. */
#define UNARY_CHUNK 4096

static void forward_unary(cg_node *n)
{
    const cg_real *x = n->in[0]->val;
    cg_real *y = n->val;
    const long N = (long)n->size, chunks = (N + UNARY_CHUNK - 1) / UNARY_CHUNK;
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long k = 0; k < chunks; k++) {
        long lo = k * UNARY_CHUNK, hi = lo + UNARY_CHUNK < N ? lo + UNARY_CHUNK : N;
        unary_range(n->ip[0], n->rp[0], x, y, lo, hi);
    }
}

/* Fused after a 2-D producer (plan.c): elementwise, any block. */
static int blockwise_unary(const cg_node *n) { return n->ndim == 2; }

static void block_unary(cg_node *n, int r0, int r1, int c0, int c1)
{
    const long cols = n->shape[1];
    for (long r = r0; r < r1; r++)
        unary_range(n->ip[0], n->rp[0], n->in[0]->val + r * cols, n->val + r * cols, c0, c1);
}

/* The hot case: pass the gradient where x > 0, gx = (or +=) g [x > 0].
 * g is loaded unconditionally so the compiler emits a vector select: as
 * a branch, the sign of x mispredicts half the time. */
CG_AVX2_CLONES
static void relu_grad_range(const cg_real *restrict x, const cg_real *restrict g,
                            cg_real *restrict gx, long lo, long hi, int first)
{
    if (first)
        for (long i = lo; i < hi; i++) {
            cg_real gi = g[i];
            gx[i] = x[i] > 0 ? gi : 0;
        }
    else
        for (long i = lo; i < hi; i++) {
            cg_real gi = g[i];
            gx[i] += x[i] > 0 ? gi : 0;
        }
}

/* gx = (first) or += (not) g f'(x) for i in [lo, hi), f' from x or y. */
static void unary_grad_range(int kind, cg_real p, const cg_real *restrict x,
                             const cg_real *restrict y, const cg_real *restrict g,
                             cg_real *restrict gx, long lo, long hi, int first)
{
    switch (kind) {
#define LOOP(EXPR)                                                   \
    if (first)                                                       \
        for (long i = lo; i < hi; i++) gx[i] = g[i] * (EXPR);        \
    else                                                             \
        for (long i = lo; i < hi; i++) gx[i] += g[i] * (EXPR);       \
    break
    case U_NEG: LOOP(-1);
    case U_SQUARE: LOOP(2 * x[i]);
    case U_POW: LOOP(p * CG_POW(x[i], p - 1));
    case U_EXP: LOOP(y[i]);
    case U_LOG: LOOP(1 / x[i]);
    case U_SQRT: LOOP(1 / (2 * y[i]));
    case U_RELU: relu_grad_range(x, g, gx, lo, hi, first); break;
    case U_SIGMOID: LOOP(y[i] * (1 - y[i]));
    case U_TANH: LOOP(1 - y[i] * y[i]);
#undef LOOP
    }
}

static void backward_unary(cg_node *n)
{
    const cg_real *x = n->in[0]->val, *y = n->val, *g = n->grad;
    cg_real *gx = n->in[0]->grad;
    const long N = (long)n->size, chunks = (N + UNARY_CHUNK - 1) / UNARY_CHUNK;
    /* ReLU, the hot case, writes (=) when it is the gradient's first
     * writer (autodiff.c); the others add to a zeroed gradient. */
    const int first = n->ip[0] == U_RELU && cg_grad_first(n->in[0]);
    if (n->ip[0] != U_RELU) cg_grad_prepare(n->in[0]);
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long k = 0; k < chunks; k++) {
        long lo = k * UNARY_CHUNK, hi = lo + UNARY_CHUNK < N ? lo + UNARY_CHUNK : N;
        unary_grad_range(n->ip[0], n->rp[0], x, y, g, gx, lo, hi, first);
    }
}

/* Run by the product after it (plan.c): columns [c0, c1), every row. */
static void backward_block_unary(cg_node *n, int c0, int c1)
{
    const long cols = n->shape[1];
    for (long r = 0; r < n->shape[0]; r++) {
        const long o = r * cols;
        unary_grad_range(n->ip[0], n->rp[0], n->in[0]->val + o, n->val + o, n->grad + o,
                         n->in[0]->grad + o, c0, c1, n->bfirst[0]);
    }
}

#define UNARY_OP(NAME, KIND)                                                     \
    const cg_op_def cg_op_##NAME = {                                             \
        .name = #NAME,                                                           \
        .arity = 1,                                                              \
        .infer_shape = infer_unary,                                              \
        .forward = forward_unary,                                                \
        .backward = backward_unary,                                              \
        .grad_overwrite = 1,                                                     \
        .blockwise = blockwise_unary,                                            \
        .forward_block = block_unary,                                            \
        .backward_block = backward_block_unary,                                  \
    };                                                                           \
    cg_node *cg_##NAME(cg_node *a)                                               \
    {                                                                            \
        int ip[1] = {KIND};                                                      \
        return cg_node_new_op(&cg_op_##NAME, &a, 1, ip, 1, NULL, 0);             \
    }

UNARY_OP(neg, U_NEG)
UNARY_OP(square, U_SQUARE)
UNARY_OP(exp, U_EXP)
UNARY_OP(log, U_LOG)
UNARY_OP(sqrt, U_SQRT)
UNARY_OP(relu, U_RELU)
UNARY_OP(sigmoid, U_SIGMOID)
UNARY_OP(tanh, U_TANH)

const cg_op_def cg_op_pow = {
    .name = "pow",
    .arity = 1,
    .infer_shape = infer_unary,
    .forward = forward_unary,
    .backward = backward_unary,
    .grad_overwrite = 1,
    .blockwise = blockwise_unary,
    .forward_block = block_unary,
    .backward_block = backward_block_unary,
};

cg_node *cg_pow(cg_node *a, cg_real exponent)
{
    int ip[1] = {U_POW};
    cg_real rp[1] = {exponent};
    return cg_node_new_op(&cg_op_pow, &a, 1, ip, 1, rp, 1);
}
