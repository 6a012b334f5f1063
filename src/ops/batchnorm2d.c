/* batchnorm2d.c: batch normalisation of NCHW input over channels (Ioffe &
 * Szegedy 2015, PyTorch's BatchNorm2d), with the conventions of
 * cg_batch_norm (batchnorm.c): for each channel c, over the M = N H W
 * values of that channel,
 * Training:  mu, var = batch mean and biased variance;
 *            xhat = (x - mu) / sqrt(var + eps);  y = gamma[c] xhat + beta[c];
 *            running = (1 - momentum) running + momentum batch, the running
 *            variance taking the unbiased M/(M-1) var (PyTorch's convention).
 * Inference: mu, var = the running values.
 * Backward (training), with dxhat = g gamma:
 *            dx = gamma inv / M (M g - sum(g) - xhat sum(g xhat))
 * and in inference dx = g gamma inv.
 * Inputs: x [N, C, H, W], gamma [C], beta [C], running_mean [C],
 * running_var [C]. Scratch, per channel: inv | mu.
 *
 * Threads take blocks of channels: a channel's sums are then one thread's,
 * in the same order whatever the thread count. Each plane's sum is taken
 * in cg_real and the planes' sums added in double, so a float sum over
 * M = 10^5 values keeps its digits. Statistics are each process's own: with
 * data-parallel training this op does not synchronise them (cg_batch_norm
 * does, under sync_bn). */
#include "ops.h"

#include <omp.h>

static int infer_bn2d(cg_node *n)
{
    const cg_node *x = n->in[0];
    char s[96], t[96];
    if (x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "batch_norm2d: input must be 4-D [batch, channels, height, "
                        "width], got %s", cg_shape_str(x, s, sizeof s));
    static const char *what[] = {"", "gamma", "beta", "running_mean", "running_var"};
    for (int i = 1; i < 5; i++) {
        const cg_node *p = n->in[i];
        if (p->ndim != 1 || p->shape[0] != x->shape[1])
            return cg_error(CG_ERR_SHAPE, "batch_norm2d: %s has shape %s, expected [%d] for "
                            "input %s", what[i], cg_shape_str(p, s, sizeof s), x->shape[1],
                            cg_shape_str(x, t, sizeof t));
    }
    if (n->in[3]->kind == CG_KIND_VARIABLE || n->in[4]->kind == CG_KIND_VARIABLE)
        return cg_error(CG_ERR_ARG, "batch_norm2d: running statistics must be state (cg_state), "
                        "not trainable variables");
    cg_copy_shape(n, x);
    return CG_OK;
}

static size_t scratch_bn2d(const cg_node *n) { return 2 * (size_t)n->shape[1]; }

static int bn2d_parallel(const cg_node *n) { return n->size > CG_OMP_MIN && n->shape[1] > 1; }

/* Sum of x[i] over one plane; then of (x[i] - mu)^2. */
CG_AVX2_CLONES
static cg_real plane_sum(const cg_real *restrict x, size_t hw)
{
    cg_real s = 0;
    for (size_t i = 0; i < hw; i++) s += x[i];
    return s;
}

CG_AVX2_CLONES
static cg_real plane_sq_dev(const cg_real *restrict x, size_t hw, cg_real mu)
{
    cg_real s = 0;
    for (size_t i = 0; i < hw; i++) {
        const cg_real d = x[i] - mu;
        s += d * d;
    }
    return s;
}

CG_AVX2_CLONES
static void plane_normalize(const cg_real *restrict x, size_t hw, cg_real mu, cg_real inv,
                            cg_real gamma, cg_real beta, cg_real *restrict y)
{
    for (size_t i = 0; i < hw; i++) y[i] = gamma * ((x[i] - mu) * inv) + beta;
}

static void forward_bn2d(cg_node *n)
{
    const int N = n->shape[0], C = n->shape[1];
    const size_t hw = (size_t)n->shape[2] * n->shape[3];
    const cg_real *x = n->in[0]->val, *gamma = n->in[1]->val, *beta = n->in[2]->val;
    cg_real *rmean = n->in[3]->val, *rvar = n->in[4]->val;
    const cg_real momentum = n->rp[0], eps = n->rp[1];
    cg_real *inv = n->scratch, *mu = inv + C;
    const int training = n->g->training;
    const double M = (double)N * (double)hw;
    if (training && M < 2) {
        cg_node_fault(n, CG_ERR_SHAPE, "batch_norm2d: one value per channel in training mode has "
                      "no variance; use a larger batch or inference mode");
        return;
    }
#pragma omp parallel for if (bn2d_parallel(n)) schedule(static)
    for (int c = 0; c < C; c++) {
        if (training) {
            double s = 0, q = 0;
            for (int i = 0; i < N; i++) s += plane_sum(x + ((size_t)i * C + c) * hw, hw);
            const cg_real m = (cg_real)(s / M);
            for (int i = 0; i < N; i++) q += plane_sq_dev(x + ((size_t)i * C + c) * hw, hw, m);
            const double var = q / M;
            mu[c] = m;
            inv[c] = (cg_real)(1 / sqrt(var + eps));
            rmean[c] = (1 - momentum) * rmean[c] + momentum * m;
            rvar[c] = (1 - momentum) * rvar[c] + momentum * (cg_real)(var * M / (M - 1));
        } else {
            mu[c] = rmean[c];
            inv[c] = 1 / CG_SQRT(rvar[c] + eps);
        }
        for (int i = 0; i < N; i++) {
            const size_t off = ((size_t)i * C + c) * hw;
            plane_normalize(x + off, hw, mu[c], inv[c], gamma[c], beta[c], n->val + off);
        }
    }
}

/* sum(g) and sum(g xhat) over one plane. */
CG_AVX2_CLONES
static void plane_grad_sums(const cg_real *restrict g, const cg_real *restrict x, size_t hw,
                            cg_real mu, cg_real inv, cg_real *sg, cg_real *sgx)
{
    cg_real a = 0, b = 0;
    for (size_t i = 0; i < hw; i++) {
        a += g[i];
        b += g[i] * ((x[i] - mu) * inv);
    }
    *sg = a;
    *sgx = b;
}

/* dx = (or += when add) k (M g - sg - xhat sgx); inference: sums 0, M 1. */
CG_AVX2_CLONES
static void plane_grad_x(const cg_real *restrict g, const cg_real *restrict x, size_t hw,
                         cg_real mu, cg_real inv, cg_real k, cg_real M, cg_real sg, cg_real sgx,
                         int add, cg_real *restrict dx)
{
    if (add)
        for (size_t i = 0; i < hw; i++) dx[i] += k * (M * g[i] - sg - (x[i] - mu) * inv * sgx);
    else
        for (size_t i = 0; i < hw; i++) dx[i] = k * (M * g[i] - sg - (x[i] - mu) * inv * sgx);
}

static void backward_bn2d(cg_node *n)
{
    const int N = n->shape[0], C = n->shape[1];
    const size_t hw = (size_t)n->shape[2] * n->shape[3];
    cg_node *xn = n->in[0];
    cg_real *ggamma = n->in[1]->grad, *gbeta = n->in[2]->grad;
    const cg_real *x = xn->val, *gamma = n->in[1]->val, *g = n->grad;
    const cg_real *inv = n->scratch, *mu = inv + C;
    /* First writers overwrite (autodiff.c), decided before the threads. */
    const int set_gamma = ggamma && cg_grad_first(n->in[1]);
    const int set_beta = gbeta && cg_grad_first(n->in[2]);
    const int add_x = xn->grad && !cg_grad_first(xn);
    const int training = n->g->training;
    const double M = (double)N * (double)hw;
#pragma omp parallel for if (bn2d_parallel(n)) schedule(static)
    for (int c = 0; c < C; c++) {
        double sg = 0, sgx = 0;
        for (int i = 0; i < N; i++) {
            cg_real a, b;
            const size_t off = ((size_t)i * C + c) * hw;
            plane_grad_sums(g + off, x + off, hw, mu[c], inv[c], &a, &b);
            sg += a;
            sgx += b;
        }
        if (ggamma) ggamma[c] = set_gamma ? (cg_real)sgx : ggamma[c] + (cg_real)sgx;
        if (gbeta) gbeta[c] = set_beta ? (cg_real)sg : gbeta[c] + (cg_real)sg;
        if (!xn->grad) continue;
        /* Inference: mu and var are constants, dx = g gamma inv. */
        const cg_real k = training ? (cg_real)(gamma[c] * inv[c] / M) : gamma[c] * inv[c];
        const cg_real Mr = training ? (cg_real)M : 1;
        const cg_real a = training ? (cg_real)sg : 0, b = training ? (cg_real)sgx : 0;
        for (int i = 0; i < N; i++) {
            const size_t off = ((size_t)i * C + c) * hw;
            plane_grad_x(g + off, x + off, hw, mu[c], inv[c], k, Mr, a, b, add_x,
                         xn->grad + off);
        }
    }
}

const cg_op_def cg_op_batch_norm2d = {"batch_norm2d", 5, infer_bn2d, scratch_bn2d, forward_bn2d,
                                      backward_bn2d, 1, NULL, NULL, 0, NULL, NULL, 0};

cg_node *cg_batch_norm2d(cg_node *x, cg_node *gamma, cg_node *beta, cg_node *running_mean,
                         cg_node *running_var, cg_real momentum, cg_real eps)
{
    if (!(momentum >= 0 && momentum <= 1))
        return cg_error_null(CG_ERR_ARG, "batch_norm2d: momentum %g must be in [0, 1]",
                             (double)momentum);
    if (!(eps > 0))
        return cg_error_null(CG_ERR_ARG, "batch_norm2d: eps %g must be positive", (double)eps);
    cg_node *in[5] = {x, gamma, beta, running_mean, running_var};
    cg_real rp[2] = {momentum, eps};
    return cg_node_new_op(&cg_op_batch_norm2d, in, 5, NULL, 0, rp, 2);
}
