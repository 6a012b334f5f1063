/* SPDX-License-Identifier: MIT */
/* table.c: the one table of optimizers: names, constructors' kinds,
 * defaults and which hyperparameters each uses. Everything that maps a
 * name to an optimizer (cg_optimizer_from_name, run configurations,
 * checkpoints, the command line's help, tune's search spaces) reads it. */
#include "optim.h"

#include <math.h>
#include <string.h>

#define UNUSED NAN

/* Defaults follow PyTorch's, except RMSprop's beta (0.9, Keras's and TF's
 * rho: PyTorch's alpha 0.99 adapts too slowly for short runs), and the
 * rates, which are the usual starting points for each rule. */
static const cg_optim_def table[] = {
    {.name = "sgd", .summary = "plain gradient descent", .kind = CG_OPT_SGD,
     .lr = 0.1, .momentum = UNUSED, .beta1 = UNUSED, .beta2 = UNUSED, .eps = UNUSED,
     .weight_decay = 0},
    {.name = "momentum", .summary = "heavy-ball momentum (PyTorch's SGD with momentum)",
     .kind = CG_OPT_MOMENTUM, .lr = 0.01, .momentum = 0.9, .beta1 = UNUSED, .beta2 = UNUSED,
     .eps = UNUSED, .weight_decay = 0},
    {.name = "nesterov", .summary = "Nesterov momentum", .kind = CG_OPT_MOMENTUM, .nesterov = 1,
     .lr = 0.01, .momentum = 0.9, .beta1 = UNUSED, .beta2 = UNUSED, .eps = UNUSED,
     .weight_decay = 0},
    {.name = "rmsprop", .summary = "RMSprop (its beta is beta1)", .kind = CG_OPT_RMSPROP,
     .lr = 0.001, .momentum = UNUSED, .beta1 = 0.9, .beta2 = UNUSED, .eps = 1e-8,
     .weight_decay = 0},
    {.name = "adam", .summary = "Adam, bias-corrected; weight decay as L2 in the gradient",
     .kind = CG_OPT_ADAM, .lr = 0.001, .momentum = UNUSED, .beta1 = 0.9, .beta2 = 0.999,
     .eps = 1e-8, .weight_decay = 0},
    {.name = "adamw", .summary = "Adam with decoupled weight decay (torch.optim.AdamW)",
     .kind = CG_OPT_ADAM, .decoupled = 1, .lr = 0.001, .momentum = UNUSED, .beta1 = 0.9,
     .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01},
};
enum { N_OPTIMIZERS = sizeof table / sizeof *table };

int cg_optimizer_count(void) { return N_OPTIMIZERS; }

const char *cg_optimizer_name_at(int i) { return i >= 0 && i < N_OPTIMIZERS ? table[i].name : NULL; }

const cg_optim_def *cg_optim_def_of(int kind, int nesterov, int decoupled)
{
    for (int i = 0; i < N_OPTIMIZERS; i++)
        if (table[i].kind == kind && table[i].nesterov == nesterov &&
            (kind != CG_OPT_ADAM || table[i].decoupled == decoupled))
            return &table[i];
    return NULL;
}

static const char *valid_names(void)
{
    static char list[128];
    if (!list[0])
        for (int i = 0; i < N_OPTIMIZERS; i++) {
            if (i) strcat(list, ", ");
            strcat(list, table[i].name);
        }
    return list;
}

const cg_optim_def *cg_optim_find(const char *name)
{
    for (int i = 0; name && i < N_OPTIMIZERS; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return cg_error_null(CG_ERR_ARG, "unknown optimizer \"%s\" (valid: %s)", name ? name : "(null)",
                         valid_names());
}

static const cg_optim_def *lookup(const char *name)
{
    for (int i = 0; name && i < N_OPTIMIZERS; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

const char *cg_optimizer_summary(const char *name)
{
    const cg_optim_def *d = lookup(name);
    return d ? d->summary : NULL;
}

/* The default of one hyperparameter (NaN: unused), or NULL for a name
 * that is no hyperparameter. */
static const double *hyper_field(const cg_optim_def *d, const char *hyper)
{
    if (!strcmp(hyper, "lr")) return &d->lr;
    if (!strcmp(hyper, "momentum")) return &d->momentum;
    if (!strcmp(hyper, "beta1")) return &d->beta1;
    if (!strcmp(hyper, "beta2")) return &d->beta2;
    if (!strcmp(hyper, "eps")) return &d->eps;
    if (!strcmp(hyper, "weight_decay")) return &d->weight_decay;
    return NULL;
}

double cg_optimizer_default(const char *name, const char *hyper)
{
    const cg_optim_def *d = lookup(name);
    const double *v = d && hyper ? hyper_field(d, hyper) : NULL;
    return v ? *v : NAN;
}

int cg_optimizer_uses(const char *name, const char *hyper)
{
    return !isnan(cg_optimizer_default(name, hyper));
}

/* A new optimizer of entry d with the given hyperparameters (all set). */
cg_optimizer *cg_optim_make(const cg_optim_def *d, double lr, double momentum, double beta1,
                            double beta2, double eps)
{
    cg_optimizer *o = NULL;
    switch (d->kind) {
    case CG_OPT_SGD: o = cg_sgd(lr); break;
    case CG_OPT_MOMENTUM: o = d->nesterov ? cg_nesterov(lr, momentum) : cg_momentum(lr, momentum); break;
    case CG_OPT_RMSPROP: o = cg_rmsprop(lr, beta1, eps); break;
    default: o = cg_adam(lr, beta1, beta2, eps); break;
    }
    if (o) o->def = d;
    if (o && d->weight_decay > 0 && cg_optimizer_set_weight_decay(o, d->weight_decay, d->decoupled)) {
        cg_optimizer_free(o);
        return NULL;
    }
    return o;
}

cg_optimizer *cg_optimizer_from_name(const char *name, double lr)
{
    const cg_optim_def *d = cg_optim_find(name);
    if (!d) return NULL;
    return cg_optim_make(d, lr, d->momentum, d->beta1, d->beta2, d->eps);
}
