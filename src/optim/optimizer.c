/* optimizer.c: SGD, momentum (heavy-ball and Nesterov), RMSprop and Adam,
 * with weight decay and gradient clipping, and the one-call training step.
 * State buffers are allocated once; an update allocates nothing. */
#include "optim.h"

#include <math.h>
#include <string.h>

static int lr_ok(double lr) { return lr > 0 && isfinite(lr); }
static int beta_ok(double b) { return b >= 0 && b < 1; }
static int eps_ok(double e) { return e > 0 && isfinite(e); }

static cg_optimizer *make(const char *who, int kind, double lr)
{
    if (!lr_ok(lr))
        return cg_error_null(CG_ERR_ARG, "%s: learning rate %g must be positive and finite", who, lr);
    cg_optimizer *o = cg_calloc(1, sizeof *o);
    if (!o) return cg_error_null(CG_ERR_MEMORY, "%s: out of memory", who);
    o->kind = kind;
    o->lr0 = lr;
    o->sched = CG_LR_CONSTANT;
    return o;
}

cg_optimizer *cg_sgd(double lr) { return make("cg_sgd", CG_OPT_SGD, lr); }

static cg_optimizer *momentum(const char *who, double lr, double beta, int nesterov)
{
    if (!beta_ok(beta))
        return cg_error_null(CG_ERR_ARG, "%s: beta = %g must be in [0, 1)", who, beta);
    cg_optimizer *o = make(who, CG_OPT_MOMENTUM, lr);
    if (!o) return NULL;
    o->beta1 = beta;
    o->nesterov = nesterov;
    return o;
}

cg_optimizer *cg_momentum(double lr, double beta) { return momentum("cg_momentum", lr, beta, 0); }
cg_optimizer *cg_nesterov(double lr, double beta) { return momentum("cg_nesterov", lr, beta, 1); }

cg_optimizer *cg_rmsprop(double lr, double beta, double eps)
{
    if (!beta_ok(beta))
        return cg_error_null(CG_ERR_ARG, "cg_rmsprop: beta = %g must be in [0, 1)", beta);
    if (!eps_ok(eps))
        return cg_error_null(CG_ERR_ARG, "cg_rmsprop: eps = %g must be positive and finite", eps);
    cg_optimizer *o = make("cg_rmsprop", CG_OPT_RMSPROP, lr);
    if (!o) return NULL;
    o->beta1 = beta;
    o->eps = eps;
    return o;
}

cg_optimizer *cg_adam(double lr, double beta1, double beta2, double eps)
{
    if (!beta_ok(beta1))
        return cg_error_null(CG_ERR_ARG, "cg_adam: beta1 = %g must be in [0, 1)", beta1);
    if (!beta_ok(beta2))
        return cg_error_null(CG_ERR_ARG, "cg_adam: beta2 = %g must be in [0, 1)", beta2);
    if (!eps_ok(eps))
        return cg_error_null(CG_ERR_ARG, "cg_adam: eps = %g must be positive and finite", eps);
    cg_optimizer *o = make("cg_adam", CG_OPT_ADAM, lr);
    if (!o) return NULL;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return o;
}

cg_optimizer *cg_adam_default(double lr)
{
    return cg_adam(lr, CG_ADAM_BETA1, CG_ADAM_BETA2, CG_ADAM_EPS);
}

cg_optimizer *cg_adamw(double lr, double weight_decay)
{
    cg_optimizer *o = cg_adam_default(lr);
    if (o && cg_optimizer_set_weight_decay(o, weight_decay, 1)) {
        cg_optimizer_free(o);
        return NULL;
    }
    return o;
}

#define CG_OPT_NAMES "sgd, momentum, nesterov, rmsprop, adam, adamw"

cg_optimizer *cg_optimizer_from_name(const char *name, double lr)
{
    if (!name)
        return cg_error_null(CG_ERR_ARG, "cg_optimizer_from_name: NULL name (valid: " CG_OPT_NAMES ")");
    if (!strcmp(name, "sgd")) return cg_sgd(lr);
    if (!strcmp(name, "momentum")) return cg_momentum(lr, CG_MOMENTUM_BETA);
    if (!strcmp(name, "nesterov")) return cg_nesterov(lr, CG_MOMENTUM_BETA);
    if (!strcmp(name, "rmsprop")) return cg_rmsprop(lr, 0.9, 1e-8);
    if (!strcmp(name, "adam")) return cg_adam_default(lr);
    if (!strcmp(name, "adamw")) return cg_adamw(lr, 0.01);
    return cg_error_null(CG_ERR_ARG, "unknown optimizer \"%s\" (valid: " CG_OPT_NAMES ")", name);
}

void cg_optimizer_free(cg_optimizer *o)
{
    if (!o) return;
    cg_free(o->s0);
    cg_free(o->s1);
    cg_free(o);
}

const char *cg_optimizer_name(const cg_optimizer *o)
{
    if (!o) return NULL;
    switch (o->kind) {
    case CG_OPT_SGD: return "sgd";
    case CG_OPT_MOMENTUM: return o->nesterov ? "nesterov" : "momentum";
    case CG_OPT_RMSPROP: return "rmsprop";
    default: return o->wd > 0 && o->decoupled ? "adamw" : "adam";
    }
}

/* --- Setters --- */

int cg_optimizer_set_weight_decay(cg_optimizer *o, double wd, int decoupled)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_weight_decay: NULL optimizer");
    if (!(wd >= 0) || !isfinite(wd))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_weight_decay: weight decay %g must be >= 0 and finite", wd);
    o->wd = wd;
    o->decoupled = decoupled != 0;
    return CG_OK;
}

int cg_optimizer_set_clip_norm(cg_optimizer *o, double max_norm)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_norm: NULL optimizer");
    if (!(max_norm >= 0) || !isfinite(max_norm))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_norm: max norm %g must be >= 0 and finite (0 = off)", max_norm);
    o->clip_norm = max_norm;
    return CG_OK;
}

int cg_optimizer_set_clip_value(cg_optimizer *o, double v)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_value: NULL optimizer");
    if (!(v >= 0) || !isfinite(v))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_value: clip value %g must be >= 0 and finite (0 = off)", v);
    o->clip_value = v;
    return CG_OK;
}

int cg_optimizer_set_nesterov(cg_optimizer *o, int on)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_nesterov: NULL optimizer");
    if (o->kind != CG_OPT_MOMENTUM)
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_nesterov: optimizer \"%s\" has no momentum",
                        cg_optimizer_name(o));
    o->nesterov = on != 0;
    return CG_OK;
}

int cg_optimizer_set_lr(cg_optimizer *o, double lr)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_lr: NULL optimizer");
    if (!lr_ok(lr))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_lr: learning rate %g must be positive and finite", lr);
    o->lr0 = lr;
    return CG_OK;
}

long cg_optimizer_step_count(const cg_optimizer *o) { return o ? o->t : 0; }

int cg_optimizer_set_step_count(cg_optimizer *o, long t)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_step_count: NULL optimizer");
    if (t < 0) return cg_error(CG_ERR_ARG, "cg_optimizer_set_step_count: step count %ld is negative", t);
    o->t = t;
    return CG_OK;
}

/* --- State --- */

int cg_optimizer_prepare(cg_optimizer *o, cg_graph *g)
{
    if (!o || !g) return cg_error(CG_ERR_ARG, "cg_optimizer_prepare: NULL argument");
    size_t n = cg_graph_param_count(g);
    int need0 = o->kind == CG_OPT_MOMENTUM || o->kind == CG_OPT_ADAM;
    int need1 = o->kind == CG_OPT_RMSPROP || o->kind == CG_OPT_ADAM;
    if (o->s0 || o->s1) {
        if (n != o->n)
            return cg_error(CG_ERR_STATE,
                            "optimizer \"%s\" holds state for %zu parameters but the graph has %zu; "
                            "use a new optimizer for a different model",
                            cg_optimizer_name(o), o->n, n);
        return CG_OK;
    }
    o->n = n;
    if (n == 0) return CG_OK;
    if (need0 && !(o->s0 = cg_calloc(n, sizeof *o->s0)))
        return cg_error(CG_ERR_MEMORY, "cg_optimizer_prepare: out of memory for %zu parameters", n);
    if (need1 && !(o->s1 = cg_calloc(n, sizeof *o->s1))) {
        cg_free(o->s0);
        o->s0 = NULL;
        return cg_error(CG_ERR_MEMORY, "cg_optimizer_prepare: out of memory for %zu parameters", n);
    }
    return CG_OK;
}

cg_real *cg_optimizer_state(cg_optimizer *o, int which, size_t *n)
{
    cg_real *p = NULL;
    if (o && which == 0) p = o->s0;
    if (o && which == 1) p = o->s1;
    if (n) *n = p ? o->n : 0;
    return p;
}

/* --- The update --- */

double cg_optimizer_lr(const cg_optimizer *o)
{
    if (!o) return 0;
    double lr = cg_optim_scheduled_lr(o);
    if (o->warmup > 0 && o->t + 1 < o->warmup)
        lr *= (double)(o->t + 1) / (double)o->warmup;
    return lr;
}

int cg_optimizer_update(cg_optimizer *o, cg_graph *g)
{
    if (!o || !g) return cg_error(CG_ERR_ARG, "cg_optimizer_update: NULL argument");
    int rc = cg_optimizer_prepare(o, g);
    if (rc) return rc;
    const size_t n = o->n;
    cg_real *w = cg_graph_params(g);
    const cg_real *dw = cg_graph_grads(g);
    if (n && (!w || !dw))
        return cg_error(CG_ERR_STATE, "cg_optimizer_update: the graph has no parameter or gradient buffer");

    /* Pass 1: every gradient finite; the global norm after value clipping. */
    const double cv = o->clip_value;
    double sq = 0;
    for (size_t i = 0; i < n; i++) {
        double gi = (double)dw[i];
        if (!isfinite(gi))
            return cg_error(CG_ERR_NUMERIC,
                            "cg_optimizer_update: gradient of parameter %zu is %g; "
                            "lower the learning rate or clip gradients", i, gi);
        if (cv > 0) gi = gi > cv ? cv : gi < -cv ? -cv : gi;
        sq += gi * gi;
    }
    double scale = 1;
    if (o->clip_norm > 0) {
        double norm = sqrt(sq);
        if (norm > o->clip_norm) scale = o->clip_norm / norm;
    }

    const double lr = cg_optimizer_lr(o);
    o->t++;
    const double wd = o->wd;
    const double l2 = o->decoupled ? 0 : wd;
    const double shrink = o->decoupled ? lr * wd : 0;
    const double b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    const double bc1 = 1 - pow(b1, (double)o->t), bc2 = 1 - pow(b2, (double)o->t);
    cg_real *s0 = o->s0, *s1 = o->s1;

    for (size_t i = 0; i < n; i++) {
        double wi = (double)w[i];
        double gi = (double)dw[i];
        if (cv > 0) gi = gi > cv ? cv : gi < -cv ? -cv : gi;
        gi *= scale;
        gi += l2 * wi;
        double step;
        switch (o->kind) {
        case CG_OPT_SGD:
            step = gi;
            break;
        case CG_OPT_MOMENTUM: {
            double v = b1 * (double)s0[i] + gi;
            s0[i] = (cg_real)v;
            step = o->nesterov ? gi + b1 * v : v;
            break;
        }
        case CG_OPT_RMSPROP: {
            double s = b1 * (double)s1[i] + (1 - b1) * gi * gi;
            s1[i] = (cg_real)s;
            step = gi / (sqrt(s) + eps);
            break;
        }
        default: { /* Adam */
            double m = b1 * (double)s0[i] + (1 - b1) * gi;
            double v = b2 * (double)s1[i] + (1 - b2) * gi * gi;
            s0[i] = (cg_real)m;
            s1[i] = (cg_real)v;
            step = (m / bc1) / (sqrt(v / bc2) + eps);
            break;
        }
        }
        w[i] = (cg_real)(wi - shrink * wi - lr * step);
    }
    return CG_OK;
}

int cg_minimize_step(cg_optimizer *o, cg_node *cost, cg_real *loss)
{
    if (!o || !cost) return cg_error(CG_ERR_ARG, "cg_minimize_step: NULL argument");
    int rc = cg_backward(cost);
    if (rc) return rc;
    cg_real j = cg_node_scalar(cost);
    if (loss) *loss = j;
    if (!isfinite((double)j))
        return cg_error(CG_ERR_NUMERIC, "cg_minimize_step: the cost is %g; lower the learning rate",
                        (double)j);
    return cg_optimizer_update(o, cg_node_graph(cost));
}
