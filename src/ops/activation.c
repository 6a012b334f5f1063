/* SPDX-License-Identifier: MIT */
/* activation.c: elementwise activations beyond unary.c's, with PyTorch's
 * definitions and conventions at the kinks (checked against the values
 * PyTorch documents in tests/test_ops2.c):
 *
 *   leaky_relu  x > 0 ? x : slope x             f' at 0: slope
 *   elu         x > 0 ? x : alpha (e^x - 1)     f' at 0: alpha
 *   gelu        x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
 *   gelu_tanh   x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
 *   softplus    log(1 + e^x), x itself above 20 (beta 1, threshold 20)
 *   abs         |x|                             f' at 0: 0
 *   clip        min(max(x, lo), hi)             f' = 1 on [lo, hi], both
 *               ends included (torch.clamp), 0 outside
 *
 * Like unary.c's, they fuse into the product before them (plan.c), block
 * by block, forward and backward. */
#include "ops.h"

enum { A_LEAKY_RELU, A_ELU, A_GELU, A_GELU_TANH, A_SOFTPLUS, A_ABS, A_CLIP };

#ifdef CG_DOUBLE
#define CG_ERF erf
#else
#define CG_ERF erff
#endif

#define SQRT1_2 0.70710678118654752440   /* 1 / sqrt(2)    */
#define INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */
#define SQRT_2_PI 0.79788456080286535588 /* sqrt(2 / pi)   */
#define GELU_C 0.044715
#define SOFTPLUS_THRESHOLD 20

static int infer_same(cg_node *n)
{
    cg_copy_shape(n, n->in[0]);
    return CG_OK;
}

/* y = f(x) for i in [lo, hi); p, q: the op's parameters. */
static void act_range(int kind, cg_real p, cg_real q, const cg_real *restrict x,
                      cg_real *restrict y, long lo, long hi)
{
    switch (kind) {
#define LOOP(EXPR) \
    for (long i = lo; i < hi; i++) y[i] = (EXPR); \
    break
    case A_LEAKY_RELU: LOOP(x[i] > 0 ? x[i] : p * x[i]);
    case A_ELU: LOOP(x[i] > 0 ? x[i] : p * (CG_EXP(x[i]) - 1));
    case A_GELU: LOOP((cg_real)0.5 * x[i] * (1 + CG_ERF(x[i] * (cg_real)SQRT1_2)));
    case A_GELU_TANH:
        LOOP((cg_real)0.5 * x[i] *
             (1 + CG_TANH((cg_real)SQRT_2_PI * (x[i] + (cg_real)GELU_C * x[i] * x[i] * x[i]))));
    /* log1p(e^x) never overflows below the threshold; above it, it equals x
     * to float precision. */
    case A_SOFTPLUS: LOOP(x[i] > SOFTPLUS_THRESHOLD ? x[i] : CG_LOG1P(CG_EXP(x[i])));
    case A_ABS: LOOP(CG_FABS(x[i]));
    case A_CLIP: LOOP(x[i] < p ? p : x[i] > q ? q : x[i]);
#undef LOOP
    }
}

/* f'(x), from x or y = f(x). */
static inline cg_real act_grad(int kind, cg_real p, cg_real q, cg_real x, cg_real y)
{
    switch (kind) {
    case A_LEAKY_RELU: return x > 0 ? 1 : p;
    case A_ELU: return x > 0 ? 1 : y + p; /* alpha e^x = y + alpha */
    case A_GELU:
        return (cg_real)0.5 * (1 + CG_ERF(x * (cg_real)SQRT1_2)) +
               x * (cg_real)INV_SQRT_2PI * CG_EXP((cg_real)-0.5 * x * x);
    case A_GELU_TANH: {
        cg_real t = CG_TANH((cg_real)SQRT_2_PI * (x + (cg_real)GELU_C * x * x * x));
        return (cg_real)0.5 * (1 + t) + (cg_real)0.5 * x * (1 - t * t) * (cg_real)SQRT_2_PI *
                                            (1 + 3 * (cg_real)GELU_C * x * x);
    }
    case A_SOFTPLUS: /* the sigmoid, split by sign so exp never overflows */
        if (x > SOFTPLUS_THRESHOLD) return 1;
        if (x >= 0) return 1 / (1 + CG_EXP(-x));
        else {
            cg_real e = CG_EXP(x);
            return e / (1 + e);
        }
    case A_ABS: return x > 0 ? 1 : x < 0 ? -1 : 0;
    default: return x >= p && x <= q ? 1 : 0; /* A_CLIP */
    }
}

/* gx = (first) or += (not) g f'(x) for i in [lo, hi). */
static void act_grad_range(int kind, cg_real p, cg_real q, const cg_real *restrict x,
                           const cg_real *restrict y, const cg_real *restrict g,
                           cg_real *restrict gx, long lo, long hi, int first)
{
    if (first)
        for (long i = lo; i < hi; i++) gx[i] = g[i] * act_grad(kind, p, q, x[i], y[i]);
    else
        for (long i = lo; i < hi; i++) gx[i] += g[i] * act_grad(kind, p, q, x[i], y[i]);
}

#define ACT_CHUNK 4096

static void forward_act(cg_node *n)
{
    const long N = (long)n->size, chunks = (N + ACT_CHUNK - 1) / ACT_CHUNK;
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long k = 0; k < chunks; k++) {
        long lo = k * ACT_CHUNK, hi = lo + ACT_CHUNK < N ? lo + ACT_CHUNK : N;
        act_range(n->ip[0], n->rp[0], n->rp[1], n->in[0]->val, n->val, lo, hi);
    }
}

static void backward_act(cg_node *n)
{
    const long N = (long)n->size, chunks = (N + ACT_CHUNK - 1) / ACT_CHUNK;
    const int first = cg_grad_first(n->in[0]);
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long k = 0; k < chunks; k++) {
        long lo = k * ACT_CHUNK, hi = lo + ACT_CHUNK < N ? lo + ACT_CHUNK : N;
        act_grad_range(n->ip[0], n->rp[0], n->rp[1], n->in[0]->val, n->val, n->grad,
                       n->in[0]->grad, lo, hi, first);
    }
}

/* Fusion (plan.c): any block of a 2-D output. */
static int blockwise_act(const cg_node *n) { return n->ndim == 2; }

static void block_act(cg_node *n, int r0, int r1, int c0, int c1)
{
    const long cols = n->shape[1];
    for (long r = r0; r < r1; r++)
        act_range(n->ip[0], n->rp[0], n->rp[1], n->in[0]->val + r * cols, n->val + r * cols, c0,
                  c1);
}

static void backward_block_act(cg_node *n, int c0, int c1)
{
    const long cols = n->shape[1];
    for (long r = 0; r < n->shape[0]; r++) {
        const long o = r * cols;
        act_grad_range(n->ip[0], n->rp[0], n->rp[1], n->in[0]->val + o, n->val + o, n->grad + o,
                       n->in[0]->grad + o, c0, c1, n->bfirst[0]);
    }
}

#define ACT_OP(NAME)                               \
    const cg_op_def cg_op_##NAME = {               \
        .name = #NAME,                             \
        .arity = 1,                                \
        .infer_shape = infer_same,                 \
        .forward = forward_act,                    \
        .backward = backward_act,                  \
        .grad_overwrite = 1,                       \
        .blockwise = blockwise_act,                \
        .forward_block = block_act,                \
        .backward_block = backward_block_act,      \
    };

ACT_OP(leaky_relu)
ACT_OP(elu)
ACT_OP(gelu)
ACT_OP(gelu_tanh)
ACT_OP(softplus)
ACT_OP(abs)
ACT_OP(clip)

static cg_node *act(const cg_op_def *op, int kind, cg_node *a, cg_real p, cg_real q)
{
    int ip[1] = {kind};
    cg_real rp[2] = {p, q};
    return cg_node_new_op(op, &a, 1, ip, 1, rp, 2);
}

cg_node *cg_leaky_relu(cg_node *a, cg_real slope)
{
    if (!isfinite(slope))
        return cg_error_null(CG_ERR_ARG, "leaky_relu: slope %g is not finite", (double)slope);
    return act(&cg_op_leaky_relu, A_LEAKY_RELU, a, slope, 0);
}

cg_node *cg_elu(cg_node *a, cg_real alpha)
{
    if (!isfinite(alpha))
        return cg_error_null(CG_ERR_ARG, "elu: alpha %g is not finite", (double)alpha);
    return act(&cg_op_elu, A_ELU, a, alpha, 0);
}

cg_node *cg_gelu(cg_node *a) { return act(&cg_op_gelu, A_GELU, a, 0, 0); }
cg_node *cg_gelu_tanh(cg_node *a) { return act(&cg_op_gelu_tanh, A_GELU_TANH, a, 0, 0); }
cg_node *cg_softplus(cg_node *a) { return act(&cg_op_softplus, A_SOFTPLUS, a, 0, 0); }
cg_node *cg_abs(cg_node *a) { return act(&cg_op_abs, A_ABS, a, 0, 0); }

cg_node *cg_clip(cg_node *a, cg_real lo, cg_real hi)
{
    if (isnan(lo) || isnan(hi) || lo > hi)
        return cg_error_null(CG_ERR_ARG, "clip: bounds [%g, %g] are not an interval (lo <= hi)",
                             (double)lo, (double)hi);
    return act(&cg_op_clip, A_CLIP, a, lo, hi);
}
