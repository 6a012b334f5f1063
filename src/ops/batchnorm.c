/* SPDX-License-Identifier: MIT */
/* batchnorm.c: batch normalisation of x [m, n] over the batch (Ioffe &
 * Szegedy 2015), one fused op.
 *
 * Training:  mu, var = batch mean and biased variance of each column;
 *            xhat = (x - mu) / sqrt(var + eps);  y = gamma * xhat + beta;
 *            running = (1 - momentum) * running + momentum * batch, where
 *            the running variance takes the unbiased m/(m-1) var — PyTorch's
 *            convention.
 * Inference: mu, var = the running values.
 * Backward (training), per column, with dxhat = g * gamma:
 *            dx = inv / m * (m dxhat - sum(dxhat) - xhat sum(dxhat xhat))
 * which carries the gradient through mu and var. In inference, mu and var
 * are constants: dx = g * gamma * inv.
 * Inputs: x, gamma [n], beta [n], running_mean [n], running_var [n].
 * Scratch, per column: inv | mu | var, then sum(g) | sum(g xhat) | factor.
 * xhat is not kept: the backward recomputes it from x, mu and inv, the same
 * operations giving the same values, and the forward writes one array
 * less (config B: 65 -> 33 us per batch norm forward, with the strips below). */
#include "ops.h"

#include "omp_compat.h"

static int infer_bn(cg_node *n)
{
    const cg_node *x = n->in[0];
    char s[96], t[96];
    if (x->ndim != 2)
        return cg_error(CG_ERR_SHAPE, "batch_norm: input must be 2-D [batch, features], got %s",
                        cg_shape_str(x, s, sizeof s));
    static const char *what[] = {"", "gamma", "beta", "running_mean", "running_var"};
    for (int i = 1; i < 5; i++) {
        const cg_node *p = n->in[i];
        if (p->ndim != 1 || p->shape[0] != x->shape[1])
            return cg_error(CG_ERR_SHAPE, "batch_norm: %s has shape %s, expected [%d] for input %s",
                            what[i], cg_shape_str(p, s, sizeof s), x->shape[1],
                            cg_shape_str(x, t, sizeof t));
    }
    if (n->in[3]->kind == CG_KIND_VARIABLE || n->in[4]->kind == CG_KIND_VARIABLE)
        return cg_error(CG_ERR_ARG, "batch_norm: running statistics must be state (cg_state), "
                        "not trainable variables");
    cg_copy_shape(n, x);
    return CG_OK;
}

static size_t scratch_bn(const cg_node *n) { return 5 * (size_t)n->shape[1]; }

typedef struct bn_scratch {
    cg_real *inv, *mu, *var, *sum_g, *sum_gx, *k;
} bn_scratch;

static bn_scratch bn_parts(const cg_node *n)
{
    const size_t c = (size_t)n->shape[1];
    bn_scratch s;
    s.inv = n->scratch;
    s.mu = s.inv + c;
    s.var = s.sum_g = s.mu + c; /* var is done with before sum_g is used */
    s.sum_gx = s.sum_g + c;
    s.k = s.sum_gx + c;
    return s;
}

/* Rows per strip of the normalisation: the strip is still in L1 when the
 * fused activation (plan.c) reads it. */
#define BN_STRIP CG_FUSED_STRIP

/* Threads take blocks of columns (ops.h, cg_block): a column's statistics
 * are then one thread's sums, in row order whatever the thread count, and
 * its block is the one the same thread wrote in the product before it
 * (matmul.c splits alike), still in that core's cache. Over MPI with
 * synchronised statistics, one thread sums across the ranks between the
 * passes. */
static int bn_parallel(const cg_node *n)
{
    return n->size > CG_OMP_MIN && n->shape[1] >= 2 * CG_BLOCK_ALIGN;
}

/* The loops over a block [lo, hi) of columns take restrict pointers as
 * arguments: read through OpenMP's shared variables, gcc does not
 * vectorise them ("complicated access pattern"). */

/* sum[j] = sum over rows of x[i, j], in row order. */
CG_AVX2_CLONES
static void col_sums(const cg_real *restrict x, int m, int c, int lo, int hi, cg_real *restrict sum)
{
    for (int j = lo; j < hi; j++) sum[j] = 0;
    for (int i = 0; i < m; i++) {
        const cg_real *restrict xr = x + (size_t)i * c;
        for (int j = lo; j < hi; j++) sum[j] += xr[j];
    }
}

/* sq[j] = sum over rows of (x[i, j] - mu[j])^2, in row order. */
CG_AVX2_CLONES
static void col_sq_dev(const cg_real *restrict x, int m, int c, int lo, int hi,
                       const cg_real *restrict mu, cg_real *restrict sq)
{
    for (int j = lo; j < hi; j++) sq[j] = 0;
    for (int i = 0; i < m; i++) {
        const cg_real *restrict xr = x + (size_t)i * c;
        for (int j = lo; j < hi; j++) {
            cg_real d = xr[j] - mu[j];
            sq[j] += d * d;
        }
    }
}

/* y = gamma xhat + beta with xhat = (x - mu) inv, rows [r0, r1). */
CG_AVX2_CLONES
static void normalize(const cg_real *restrict x, int r0, int r1, int c, int lo, int hi,
                      const cg_real *restrict mu, const cg_real *restrict inv,
                      const cg_real *restrict gamma, const cg_real *restrict beta,
                      cg_real *restrict y)
{
    for (int i = r0; i < r1; i++) {
        const cg_real *restrict xr = x + (size_t)i * c;
        cg_real *restrict yr = y + (size_t)i * c;
        for (int j = lo; j < hi; j++) {
            const cg_real h = (xr[j] - mu[j]) * inv[j];
            yr[j] = gamma[j] * h + beta[j];
        }
    }
}

static void forward_bn(cg_node *n)
{
    const int m = n->shape[0], c = n->shape[1];
    const cg_real *x = n->in[0]->val, *gamma = n->in[1]->val, *beta = n->in[2]->val;
    cg_real *rmean = n->in[3]->val, *rvar = n->in[4]->val;
    const cg_real momentum = n->rp[0], eps = n->rp[1];
    const bn_scratch sc = bn_parts(n);
    cg_real *inv = sc.inv, *mu = sc.mu, *var = sc.var;
    const int training = n->g->training;
    const cg_collective *sync = training && n->g->sync.sum ? &n->g->sync : NULL;
    cg_real M = (cg_real)m;
    if (training) {
        /* Synchronised: the statistics of the global batch, summed over
         * the ranks; M is its size (every rank holds at least one row). */
        if (sync && sync->sum(sync->ctx, &M, 1)) {
            cg_node_fault(n, CG_ERR_STATE, "batch_norm: %s", cg_last_error());
            return;
        }
        if (M < 2) {
            cg_node_fault(n, CG_ERR_SHAPE, "batch_norm: a batch of %d in training mode has no "
                          "variance; use a batch of 2 or more, or inference mode", m);
            return;
        }
    }
#pragma omp parallel if (bn_parallel(n))
    {
        int lo, hi;
        cg_block(c, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        if (training) {
            col_sums(x, m, c, lo, hi, mu);
            if (sync) {
#pragma omp barrier
#pragma omp single
                sync->sum(sync->ctx, mu, (size_t)c);
            }
            for (int j = lo; j < hi; j++) mu[j] /= M;
            col_sq_dev(x, m, c, lo, hi, mu, var);
            if (sync) {
#pragma omp barrier
#pragma omp single
                sync->sum(sync->ctx, var, (size_t)c);
            }
            for (int j = lo; j < hi; j++) {
                var[j] /= M;
                inv[j] = 1 / CG_SQRT(var[j] + eps);
                rmean[j] = (1 - momentum) * rmean[j] + momentum * mu[j];
                rvar[j] = (1 - momentum) * rvar[j] + momentum * var[j] * M / (M - 1);
            }
        } else {
            for (int j = lo; j < hi; j++) {
                mu[j] = rmean[j];
                inv[j] = 1 / CG_SQRT(rvar[j] + eps);
            }
        }
        for (int r0 = 0; r0 < m; r0 += BN_STRIP) {
            const int r1 = r0 + BN_STRIP < m ? r0 + BN_STRIP : m;
            normalize(x, r0, r1, c, lo, hi, mu, inv, gamma, beta, n->val);
            cg_run_fused(n, r0, r1, lo, hi); /* the activation after it (plan.c) */
        }
    }
}

/* sum_g[j] = sum of g[i, j]; sum_gx[j] = sum of g[i, j] xhat[i, j], with
 * xhat = (x - mu) inv as the forward computed it. */
CG_AVX2_CLONES
static void grad_sums(const cg_real *restrict g, const cg_real *restrict x,
                      const cg_real *restrict mu, const cg_real *restrict inv, int m, int c, int lo,
                      int hi, cg_real *restrict sum_g, cg_real *restrict sum_gx)
{
    for (int j = lo; j < hi; j++) sum_g[j] = sum_gx[j] = 0;
    for (int i = 0; i < m; i++) {
        const cg_real *restrict gr = g + (size_t)i * c, *restrict xr = x + (size_t)i * c;
        for (int j = lo; j < hi; j++) {
            const cg_real h = (xr[j] - mu[j]) * inv[j];
            sum_g[j] += gr[j];
            sum_gx[j] += gr[j] * h;
        }
    }
}

/* dx (=, or += when add) for block [lo, hi). Training: k = gamma inv / M
 * and dx = k (M g - sum(g) - xhat sum(g xhat)); inference (mu and var are
 * constants): dx = g gamma inv, passed as k = gamma inv, M = 1, sums NULL. */
CG_AVX2_CLONES
static void grad_x(const cg_real *restrict g, const cg_real *restrict x, const cg_real *restrict mu,
                   const cg_real *restrict inv, int m, int c, int lo, int hi,
                   const cg_real *restrict k, cg_real M, const cg_real *restrict sum_g,
                   const cg_real *restrict sum_gx, int add, cg_real *restrict gx)
{
    for (int i = 0; i < m; i++) {
        const cg_real *restrict gr = g + (size_t)i * c, *restrict xr = x + (size_t)i * c;
        cg_real *restrict out = gx + (size_t)i * c;
        if (!sum_g) {
            if (add)
                for (int j = lo; j < hi; j++) out[j] += gr[j] * k[j];
            else
                for (int j = lo; j < hi; j++) out[j] = gr[j] * k[j];
        } else if (add) {
            for (int j = lo; j < hi; j++) {
                const cg_real h = (xr[j] - mu[j]) * inv[j];
                out[j] += k[j] * (M * gr[j] - sum_g[j] - h * sum_gx[j]);
            }
        } else {
            for (int j = lo; j < hi; j++) {
                const cg_real h = (xr[j] - mu[j]) * inv[j];
                out[j] = k[j] * (M * gr[j] - sum_g[j] - h * sum_gx[j]);
            }
        }
    }
}

/* Columns [c0, c1), every row: the sums, then gamma's and beta's
 * gradients (= where set_gamma / set_beta: their first writer, else +=).
 * Each rank's own sums: data-parallel training sums parameter gradients
 * across ranks afterwards. */
static void backward_sums(cg_node *n, int c0, int c1, int set_gamma, int set_beta)
{
    const bn_scratch sc = bn_parts(n);
    cg_real *ggamma = n->in[1]->grad, *gbeta = n->in[2]->grad;
    grad_sums(n->grad, n->in[0]->val, sc.mu, sc.inv, n->shape[0], n->shape[1], c0, c1, sc.sum_g,
              sc.sum_gx);
    if (ggamma)
        for (int j = c0; j < c1; j++)
            ggamma[j] = set_gamma ? sc.sum_gx[j] : ggamma[j] + sc.sum_gx[j];
    if (gbeta)
        for (int j = c0; j < c1; j++) gbeta[j] = set_beta ? sc.sum_g[j] : gbeta[j] + sc.sum_g[j];
}

/* Then x's gradient on the same columns (+= where add); M is the batch
 * the statistics came from (all ranks' with synchronised statistics). */
static void backward_x(cg_node *n, int c0, int c1, cg_real M, int add)
{
    const bn_scratch sc = bn_parts(n);
    const cg_real *gamma = n->in[1]->val;
    const int m = n->shape[0], c = n->shape[1];
    if (!n->g->training) {
        for (int j = c0; j < c1; j++) sc.k[j] = gamma[j] * sc.inv[j];
        grad_x(n->grad, n->in[0]->val, sc.mu, sc.inv, m, c, c0, c1, sc.k, 1, NULL, NULL, add,
               n->in[0]->grad);
    } else {
        /* gamma inv / M once per column rather than per element: the same
         * value, and no division in the inner loop. sum(dxhat) = gamma
         * sum(g); sum(dxhat xhat) = gamma sum(g xhat). */
        for (int j = c0; j < c1; j++) sc.k[j] = gamma[j] * sc.inv[j] / M;
        grad_x(n->grad, n->in[0]->val, sc.mu, sc.inv, m, c, c0, c1, sc.k, M, sc.sum_g, sc.sum_gx,
               add, n->in[0]->grad);
    }
}

static void backward_bn(cg_node *n)
{
    const cg_collective *sync = n->g->training && n->g->sync.sum ? &n->g->sync : NULL;
    /* Each gradient is written (=) by its first writer (autodiff.c). */
    const int set_gamma = n->in[1]->grad && cg_grad_first(n->in[1]);
    const int set_beta = n->in[2]->grad && cg_grad_first(n->in[2]);
    const int has_x = n->in[0]->grad != NULL, add = has_x && !cg_grad_first(n->in[0]);
    const int c = n->shape[1];
    cg_real M = (cg_real)n->shape[0];
#pragma omp parallel if (bn_parallel(n))
    {
        int lo, hi;
        cg_block(c, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        backward_sums(n, lo, hi, set_gamma, set_beta);
        if (has_x && sync) {
            /* x's gradient flows through the global statistics. */
            const bn_scratch sc = bn_parts(n);
#pragma omp barrier
#pragma omp single
            {
                sync->sum(sync->ctx, sc.sum_g, 2 * (size_t)c);
                sync->sum(sync->ctx, &M, 1);
            }
        }
        if (has_x) backward_x(n, lo, hi, M, add);
    }
}

/* In a backward chain (plan.c): not with statistics synchronised across
 * processes, whose sums are exchanged between the passes. */
static int blockwise_bn(const cg_node *n) { return !n->g->sync.sum; }

/* Run by the product after it (plan.c): columns [c0, c1), every row, as
 * one thread's block of backward_bn. */
static void backward_block_bn(cg_node *n, int c0, int c1)
{
    backward_sums(n, c0, c1, n->bfirst[1], n->bfirst[2]);
    if (n->in[0]->grad) backward_x(n, c0, c1, (cg_real)n->shape[0], !n->bfirst[0]);
}

const cg_op_def cg_op_batch_norm = {
    .name = "batch_norm",
    .arity = 5,
    .infer_shape = infer_bn,
    .scratch_size = scratch_bn,
    .forward = forward_bn,
    .backward = backward_bn,
    .grad_overwrite = 1,
    .blockwise = blockwise_bn,
    .runs_fused = 1,
    .backward_block = backward_block_bn,
};

cg_node *cg_batch_norm(cg_node *x, cg_node *gamma, cg_node *beta, cg_node *running_mean,
                       cg_node *running_var, cg_real momentum, cg_real eps)
{
    if (!(momentum >= 0 && momentum <= 1))
        return cg_error_null(CG_ERR_ARG, "batch_norm: momentum %g must be in [0, 1]", (double)momentum);
    if (!(eps > 0))
        return cg_error_null(CG_ERR_ARG, "batch_norm: eps %g must be positive", (double)eps);
    cg_node *in[5] = {x, gamma, beta, running_mean, running_var};
    cg_real rp[2] = {momentum, eps};
    return cg_node_new_op(&cg_op_batch_norm, in, 5, NULL, 0, rp, 2);
}
