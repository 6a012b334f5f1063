/* SPDX-License-Identifier: MIT */
/* loss.c: regression losses, each the mean over every element of
 * pred - target (same shapes; a scalar result), PyTorch's definitions
 * with reduction='mean':
 *
 *   mse    d^2                                      dl/dd = 2 d
 *   l1     |d|                                      dl/dd = sign(d), 0 at 0
 *   huber  d^2 / 2 where |d| <= delta,              dl/dd = clamp(d, -delta, delta)
 *          delta (|d| - delta / 2) elsewhere
 *
 * (d = pred - target), each gradient divided by the element count; the
 * target gets the negative of pred's. Sums run in double: a float sum of
 * 10^6 squared errors loses digits. Binary cross-entropy on logits is
 * softmax.c's sigmoid_cross_entropy (cg_bce_with_logits_loss). */
#include "ops.h"

enum { L_MSE, L_L1, L_HUBER };

static int infer_loss(cg_node *n)
{
    const cg_node *p = n->in[0], *t = n->in[1];
    if (!cg_dims_equal(p, t)) {
        char a[96], b[96];
        return cg_error(CG_ERR_SHAPE, "%s: prediction %s and target %s differ (reshape one: a "
                        "loss never broadcasts, so [m, 1] against [m] is not [m, m])",
                        n->op->name, cg_shape_str(p, a, sizeof a), cg_shape_str(t, b, sizeof b));
    }
    n->ndim = 0;
    return CG_OK;
}

static inline double loss_term(int kind, double d, double delta)
{
    double a = fabs(d);
    switch (kind) {
    case L_MSE: return d * d;
    case L_L1: return a;
    default: return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
    }
}

static inline cg_real loss_grad(int kind, cg_real d, cg_real delta)
{
    switch (kind) {
    case L_MSE: return 2 * d;
    case L_L1: return d > 0 ? 1 : d < 0 ? -1 : 0;
    default: return d < -delta ? -delta : d > delta ? delta : d;
    }
}

static void forward_loss(cg_node *n)
{
    const cg_real *p = n->in[0]->val, *t = n->in[1]->val;
    const int kind = n->ip[0];
    const double delta = n->rp[0];
    const long N = (long)n->in[0]->size;
    const long ch = cg_sum_chunk(N);
    double part[CG_SUM_PARTS];
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long c = 0; c < CG_SUM_PARTS; c++) {
        double s = 0;
        for (long i = c * ch; i < cg_sum_end(c, ch, N); i++)
            s += loss_term(kind, (double)p[i] - (double)t[i], delta);
        part[c] = s;
    }
    n->val[0] = (cg_real)(cg_sum_parts(part) / (double)N);
}

static void backward_loss(cg_node *n)
{
    const cg_real *p = n->in[0]->val, *t = n->in[1]->val;
    cg_real *gp = n->in[0]->grad, *gt = n->in[1]->grad;
    const int kind = n->ip[0];
    const cg_real delta = n->rp[0];
    const long N = (long)n->in[0]->size;
    const cg_real s = n->grad[0] / (cg_real)N;
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
    for (long i = 0; i < N; i++) {
        cg_real d = s * loss_grad(kind, p[i] - t[i], delta);
        if (gp) gp[i] += d;
        if (gt) gt[i] -= d;
    }
}

#define LOSS_OP(NAME)                    \
    const cg_op_def cg_op_##NAME = {     \
        .name = #NAME,                   \
        .arity = 2,                      \
        .infer_shape = infer_loss,       \
        .forward = forward_loss,         \
        .backward = backward_loss,       \
    };

LOSS_OP(mse_loss)
LOSS_OP(l1_loss)
LOSS_OP(huber_loss)

static cg_node *loss(const cg_op_def *op, int kind, cg_node *pred, cg_node *target, cg_real delta)
{
    cg_node *in[2] = {pred, target};
    int ip[1] = {kind};
    cg_real rp[1] = {delta};
    return cg_node_new_op(op, in, 2, ip, 1, rp, 1);
}

cg_node *cg_mse_loss(cg_node *pred, cg_node *target)
{
    return loss(&cg_op_mse_loss, L_MSE, pred, target, 0);
}

cg_node *cg_l1_loss(cg_node *pred, cg_node *target)
{
    return loss(&cg_op_l1_loss, L_L1, pred, target, 0);
}

cg_node *cg_huber_loss(cg_node *pred, cg_node *target, cg_real delta)
{
    if (!(delta > 0) || !isfinite(delta))
        return cg_error_null(CG_ERR_ARG, "huber_loss: delta %g must be positive and finite",
                             (double)delta);
    return loss(&cg_op_huber_loss, L_HUBER, pred, target, delta);
}

/* One op, two names: BCEWithLogitsLoss is the sigmoid cross-entropy. */
cg_node *cg_bce_with_logits_loss(cg_node *logits, cg_node *targets)
{
    return cg_sigmoid_cross_entropy(logits, targets);
}
