/* SPDX-License-Identifier: MIT */
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
 * running_var [C].
 *
 * Threads take blocks of channels: a channel's sums are then one thread's,
 * in the same order whatever the thread count. Each plane's sum is taken
 * in cg_real and the planes' sums added in double, so a float sum over
 * M = 10^5 values keeps its digits. Over MPI with synchronised batch norm
 * (cg_fit's sync_bn), the sums are added across the ranks between the
 * passes, as cg_batch_norm does: the statistics, and x's gradient, are
 * those of the global batch. */
#include "ops.h"

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

/* Scratch: inv | mu (cg_real), then two double sums per channel: the
 * forward's sum(x) and sum((x - mu)^2), the backward's sum(g) and
 * sum(g xhat). */
typedef struct bn2d_scratch {
    cg_real *inv, *mu;
    double *s1, *s2;
} bn2d_scratch;

static bn2d_scratch bn2d_parts(const cg_node *n)
{
    const size_t C = (size_t)n->shape[1];
    bn2d_scratch p;
    p.inv = n->scratch;
    p.mu = p.inv + C;
    p.s1 = (double *)(void *)(p.mu + C); /* 8-byte aligned: 2C values of cg_real before it */
    p.s2 = p.s1 + C;
    return p;
}

static size_t scratch_bn2d(const cg_node *n)
{
    const size_t C = (size_t)n->shape[1];
    return 2 * C + (2 * C * sizeof(double) + sizeof(cg_real) - 1) / sizeof(cg_real);
}

/* The pieces of the forward for channel c; planes i = 0..N-1 of it are
 * at x + (i C + c) hw. */
typedef struct bn2d_fwd {
    const cg_real *x, *gamma, *beta;
    cg_real *y, *rmean, *rvar;
    int N, C;
    size_t hw;
    double M;
    cg_real momentum, eps;
    bn2d_scratch sc;
} bn2d_fwd;

static void chan_sum(const bn2d_fwd *f, int c)
{
    double s = 0;
    for (int i = 0; i < f->N; i++) s += plane_sum(f->x + ((size_t)i * f->C + c) * f->hw, f->hw);
    f->sc.s1[c] = s;
}

static void chan_sq_dev(const bn2d_fwd *f, int c)
{
    const cg_real m = (cg_real)(f->sc.s1[c] / f->M);
    double q = 0;
    for (int i = 0; i < f->N; i++)
        q += plane_sq_dev(f->x + ((size_t)i * f->C + c) * f->hw, f->hw, m);
    f->sc.mu[c] = m;
    f->sc.s2[c] = q;
}

/* Training: statistics from the sums, running values updated; inference:
 * the running values. Then y for channel c. */
static void chan_normalize(const bn2d_fwd *f, int c, int training)
{
    const bn2d_scratch *sc = &f->sc;
    if (training) {
        const double var = sc->s2[c] / f->M;
        sc->inv[c] = (cg_real)(1 / sqrt(var + f->eps));
        f->rmean[c] = (1 - f->momentum) * f->rmean[c] + f->momentum * sc->mu[c];
        f->rvar[c] = (1 - f->momentum) * f->rvar[c] +
                     f->momentum * (cg_real)(var * f->M / (f->M - 1));
    } else {
        sc->mu[c] = f->rmean[c];
        sc->inv[c] = 1 / CG_SQRT(f->rvar[c] + f->eps);
    }
    for (int i = 0; i < f->N; i++) {
        const size_t off = ((size_t)i * f->C + c) * f->hw;
        plane_normalize(f->x + off, f->hw, sc->mu[c], sc->inv[c], f->gamma[c], f->beta[c],
                        f->y + off);
    }
}

static void forward_bn2d(cg_node *n)
{
    bn2d_fwd f;
    f.N = n->shape[0];
    f.C = n->shape[1];
    f.hw = (size_t)n->shape[2] * n->shape[3];
    f.x = n->in[0]->val;
    f.gamma = n->in[1]->val;
    f.beta = n->in[2]->val;
    f.rmean = n->in[3]->val;
    f.rvar = n->in[4]->val;
    f.y = n->val;
    f.momentum = n->rp[0];
    f.eps = n->rp[1];
    f.sc = bn2d_parts(n);
    f.M = (double)f.N * (double)f.hw;
    const int training = n->g->training, C = f.C, par = bn2d_parallel(n);
    const cg_collective *sync = training && n->g->sync.sum ? &n->g->sync : NULL;
    if (training) {
        /* Synchronised: the statistics of all ranks' batches. */
        if (sync && sync->sum_double(sync->ctx, &f.M, 1)) {
            cg_node_fault(n, CG_ERR_STATE, "batch_norm2d: %s", cg_last_error());
            return;
        }
        if (f.M < 2) {
            cg_node_fault(n, CG_ERR_SHAPE, "batch_norm2d: one value per channel in training "
                          "mode has no variance; use a larger batch or inference mode");
            return;
        }
    }
    if (!sync) {
        /* Each channel's passes one after the other, while its values
         * may still be in cache. */
#pragma omp parallel for if (par) schedule(static)
        for (int c = 0; c < C; c++) {
            if (training) {
                chan_sum(&f, c);
                chan_sq_dev(&f, c);
            }
            chan_normalize(&f, c, training);
        }
        return;
    }
#pragma omp parallel for if (par) schedule(static)
    for (int c = 0; c < C; c++) chan_sum(&f, c);
    if (sync->sum_double(sync->ctx, f.sc.s1, (size_t)C)) {
        cg_node_fault(n, CG_ERR_STATE, "batch_norm2d: %s", cg_last_error());
        return;
    }
#pragma omp parallel for if (par) schedule(static)
    for (int c = 0; c < C; c++) chan_sq_dev(&f, c);
    if (sync->sum_double(sync->ctx, f.sc.s2, (size_t)C)) {
        cg_node_fault(n, CG_ERR_STATE, "batch_norm2d: %s", cg_last_error());
        return;
    }
#pragma omp parallel for if (par) schedule(static)
    for (int c = 0; c < C; c++) chan_normalize(&f, c, 1);
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

typedef struct bn2d_bwd {
    const cg_real *x, *gamma, *g;
    cg_real *ggamma, *gbeta, *gx;
    int N, C, set_gamma, set_beta, add_x, training;
    size_t hw;
    double M;
    bn2d_scratch sc;
} bn2d_bwd;

/* Channel c's sums, and gamma's and beta's gradients from them (each
 * rank's own: data-parallel training sums parameter gradients after). */
static void chan_grad_sums(const bn2d_bwd *b, int c)
{
    double sg = 0, sgx = 0;
    for (int i = 0; i < b->N; i++) {
        cg_real u, v;
        const size_t off = ((size_t)i * b->C + c) * b->hw;
        plane_grad_sums(b->g + off, b->x + off, b->hw, b->sc.mu[c], b->sc.inv[c], &u, &v);
        sg += u;
        sgx += v;
    }
    b->sc.s1[c] = sg;
    b->sc.s2[c] = sgx;
    if (b->ggamma) b->ggamma[c] = b->set_gamma ? (cg_real)sgx : b->ggamma[c] + (cg_real)sgx;
    if (b->gbeta) b->gbeta[c] = b->set_beta ? (cg_real)sg : b->gbeta[c] + (cg_real)sg;
}

/* x's gradient for channel c, from the sums (all ranks' when synchronised). */
static void chan_grad_x(const bn2d_bwd *b, int c)
{
    const bn2d_scratch *sc = &b->sc;
    /* Inference: mu and var are constants, dx = g gamma inv. */
    const cg_real k = b->training ? (cg_real)(b->gamma[c] * sc->inv[c] / b->M)
                                  : b->gamma[c] * sc->inv[c];
    const cg_real Mr = b->training ? (cg_real)b->M : 1;
    const cg_real s1 = b->training ? (cg_real)sc->s1[c] : 0;
    const cg_real s2 = b->training ? (cg_real)sc->s2[c] : 0;
    for (int i = 0; i < b->N; i++) {
        const size_t off = ((size_t)i * b->C + c) * b->hw;
        plane_grad_x(b->g + off, b->x + off, b->hw, sc->mu[c], sc->inv[c], k, Mr, s1, s2,
                     b->add_x, b->gx + off);
    }
}

static void backward_bn2d(cg_node *n)
{
    bn2d_bwd b;
    cg_node *xn = n->in[0];
    b.N = n->shape[0];
    b.C = n->shape[1];
    b.hw = (size_t)n->shape[2] * n->shape[3];
    b.x = xn->val;
    b.gamma = n->in[1]->val;
    b.g = n->grad;
    b.ggamma = n->in[1]->grad;
    b.gbeta = n->in[2]->grad;
    b.gx = xn->grad;
    b.sc = bn2d_parts(n);
    b.training = n->g->training;
    b.M = (double)b.N * (double)b.hw;
    /* First writers overwrite (autodiff.c), decided before the threads. */
    b.set_gamma = b.ggamma && cg_grad_first(n->in[1]);
    b.set_beta = b.gbeta && cg_grad_first(n->in[2]);
    b.add_x = b.gx && !cg_grad_first(xn);
    const cg_collective *sync = b.training && n->g->sync.sum ? &n->g->sync : NULL;
    const int C = b.C, par = bn2d_parallel(n);
    if (!sync || !b.gx) {
#pragma omp parallel for if (par) schedule(static)
        for (int c = 0; c < C; c++) {
            chan_grad_sums(&b, c);
            if (b.gx) chan_grad_x(&b, c);
        }
        return;
    }
#pragma omp parallel for if (par) schedule(static)
    for (int c = 0; c < C; c++) chan_grad_sums(&b, c);
    /* x's gradient flows through the global statistics: s1 and s2 are
     * contiguous, one sum for both. */
    if (sync->sum_double(sync->ctx, b.sc.s1, 2 * (size_t)C) || sync->sum_double(sync->ctx, &b.M, 1)) {
        cg_node_fault(n, CG_ERR_STATE, "batch_norm2d: %s", cg_last_error());
        return;
    }
#pragma omp parallel for if (par) schedule(static)
    for (int c = 0; c < C; c++) chan_grad_x(&b, c);
}

const cg_op_def cg_op_batch_norm2d = {
    .name = "batch_norm2d",
    .arity = 5,
    .infer_shape = infer_bn2d,
    .scratch_size = scratch_bn2d,
    .forward = forward_bn2d,
    .backward = backward_bn2d,
    .grad_overwrite = 1,
};

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
