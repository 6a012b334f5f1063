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
 * Scratch: xhat [m, n] | inv [n] | sum1 [n] | sum2 [n] | per-column factor [n]. */
#include "ops.h"
#include "dist/dist.h"

#include <string.h>

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

static size_t scratch_bn(const cg_node *n)
{
    return n->size + 4 * (size_t)n->shape[1];
}

static void forward_bn(cg_node *n)
{
    const int m = n->shape[0], c = n->shape[1];
    const cg_real *x = n->in[0]->val, *gamma = n->in[1]->val, *beta = n->in[2]->val;
    cg_real *rmean = n->in[3]->val, *rvar = n->in[4]->val;
    const cg_real momentum = n->rp[0], eps = n->rp[1];
    cg_real *xhat = n->scratch, *inv = xhat + n->size, *mu = inv + c, *var = mu + c;
    cg_dist *sync = n->g->bn_sync;
    if (n->g->training) {
        /* Synchronised: the statistics of the global batch, summed over
         * the ranks; M is its size (every rank holds at least one row). */
        cg_real total = (cg_real)m;
        if (sync && cg_dist_sum(sync, &total, 1)) {
            cg_node_fault(n, CG_ERR_STATE, "batch_norm: %s", cg_last_error());
            return;
        }
        const cg_real M = total;
        if (M < 2) {
            cg_node_fault(n, CG_ERR_SHAPE, "batch_norm: a batch of %d in training mode has no "
                          "variance; use a batch of 2 or more, or inference mode", m);
            return;
        }
        memset(mu, 0, 2 * (size_t)c * sizeof(cg_real));
        for (int i = 0; i < m; i++)
            for (int j = 0; j < c; j++) mu[j] += x[(size_t)i * c + j];
        if (sync) cg_dist_sum(sync, mu, (size_t)c);
        for (int j = 0; j < c; j++) mu[j] /= M;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < c; j++) {
                cg_real d = x[(size_t)i * c + j] - mu[j];
                var[j] += d * d;
            }
        if (sync) cg_dist_sum(sync, var, (size_t)c);
        for (int j = 0; j < c; j++) {
            var[j] /= M;
            inv[j] = 1 / CG_SQRT(var[j] + eps);
            rmean[j] = (1 - momentum) * rmean[j] + momentum * mu[j];
            rvar[j] = (1 - momentum) * rvar[j] + momentum * var[j] * M / (M - 1);
        }
    } else {
        for (int j = 0; j < c; j++) {
            mu[j] = rmean[j];
            inv[j] = 1 / CG_SQRT(rvar[j] + eps);
        }
    }
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        const cg_real *xr = x + (size_t)i * c;
        cg_real *hr = xhat + (size_t)i * c, *yr = n->val + (size_t)i * c;
        for (int j = 0; j < c; j++) {
            hr[j] = (xr[j] - mu[j]) * inv[j];
            yr[j] = gamma[j] * hr[j] + beta[j];
        }
    }
}

static void backward_bn(cg_node *n)
{
    const int m = n->shape[0], c = n->shape[1];
    const cg_real *g = n->grad, *gamma = n->in[1]->val;
    cg_real *gx = n->in[0]->grad, *ggamma = n->in[1]->grad, *gbeta = n->in[2]->grad;
    const cg_real *xhat = n->scratch, *inv = xhat + n->size;
    cg_real *sum_g = (cg_real *)inv + c, *sum_gx = sum_g + c; /* mu/var no longer needed */
    memset(sum_g, 0, 2 * (size_t)c * sizeof(cg_real));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < c; j++) {
            cg_real gi = g[(size_t)i * c + j];
            sum_g[j] += gi;
            sum_gx[j] += gi * xhat[(size_t)i * c + j];
        }
    /* gamma and beta take this rank's sums: data-parallel training sums
     * parameter gradients across ranks afterwards. */
    if (ggamma)
        for (int j = 0; j < c; j++) ggamma[j] += sum_gx[j];
    if (gbeta)
        for (int j = 0; j < c; j++) gbeta[j] += sum_g[j];
    if (!gx) return;
    const int training = n->g->training;
    cg_dist *sync = training ? n->g->bn_sync : NULL;
    /* Synchronised: x's gradient flows through the global statistics. */
    cg_real M = (cg_real)m;
    if (sync) {
        cg_dist_sum(sync, sum_g, 2 * (size_t)c);
        cg_dist_sum(sync, &M, 1);
    }
    if (!training) {
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
        for (int i = 0; i < m; i++) {
            const cg_real *restrict gr = g + (size_t)i * c;
            cg_real *restrict out = gx + (size_t)i * c;
            for (int j = 0; j < c; j++) out[j] += gr[j] * gamma[j] * inv[j];
        }
        return;
    }
    /* gamma inv / M once per column rather than per element: the same
     * value, and no division in the inner loop. */
    cg_real *k = sum_gx + c;
    for (int j = 0; j < c; j++) k[j] = gamma[j] * inv[j] / M;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (int i = 0; i < m; i++) {
        const cg_real *restrict gr = g + (size_t)i * c, *restrict hr = xhat + (size_t)i * c;
        cg_real *restrict out = gx + (size_t)i * c;
        /* sum(dxhat) = gamma sum(g); sum(dxhat xhat) = gamma sum(g xhat) */
        for (int j = 0; j < c; j++) out[j] += k[j] * (M * gr[j] - sum_g[j] - hr[j] * sum_gx[j]);
    }
}

const cg_op_def cg_op_batch_norm = {"batch_norm", 5, infer_bn, scratch_bn, forward_bn, backward_bn};

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
