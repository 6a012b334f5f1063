/* SPDX-License-Identifier: MIT */
/* config.c: a point of the search space applied to a run configuration:
 * each parameter sets its field, so that a trial is plain data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tune/tune.h"

static int is_optimizer_hyper(const char *name)
{
    return !strcmp(name, "momentum") || !strcmp(name, "beta1") || !strcmp(name, "beta2") ||
           !strcmp(name, "eps");
}

static int bad(const char *name, const char *val)
{
    return cg_error(CG_ERR_ARG, "cg_tune_point_config: %s: '%s' does not fit the run "
                    "configuration", name, val);
}

/* "256,128" or "none" into the model's hidden widths. */
static int set_hidden(cg_model_config *mc, const char *s)
{
    mc->n_hidden = 0;
    if (!strcmp(s, "none")) return 0;
    for (const char *p = s;;) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || w > 1000000 || (*end && *end != ',') ||
            mc->n_hidden == CG_MAX_HIDDEN)
            return -1;
        mc->hidden[mc->n_hidden++] = (int)w;
        if (!*end) return 0;
        p = end + 1;
    }
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end ? 0 : -1;
}

int cg_tune_point_config(const cg_tune_space *s, const cg_tune_point *pt,
                         const cg_run_config *base, cg_run_config *out)
{
    if (!s || !pt || !base || !out) return cg_error(CG_ERR_ARG, "cg_tune_point_config: NULL");
    cg_run_config c = *base;
    char val[CG_TUNE_CHOICE_LEN + 32];
    int units = 256, layers = -1, have_units = 0;
    const char *optimizer = NULL;
    int k = cg_tune_space_find(s, "optimizer");
    char opt[CG_TUNE_CHOICE_LEN + 32];
    if (k >= 0) {
        cg_tune_format_value(&s->p[k], pt->v[k], opt, (int)sizeof opt);
        optimizer = opt;
    }
    for (int i = 0; i < s->n; i++) {
        const char *name = s->p[i].name;
        cg_tune_format_value(&s->p[i], pt->v[i], val, (int)sizeof val);
        double x = 0;
        int numeric = number(val, &x) == 0;
        /* A point that samples SGD leaves out the betas it also sampled:
         * a hyperparameter the optimizer does not use is an error. */
        if (optimizer && is_optimizer_hyper(name) && !cg_optimizer_uses(optimizer, name))
            continue;
        int ok = 1;
        if (!strcmp(name, "lr")) ok = numeric, c.optim.lr = x;
        else if (!strcmp(name, "momentum")) ok = numeric, c.optim.momentum = x;
        else if (!strcmp(name, "beta1")) ok = numeric, c.optim.beta1 = x;
        else if (!strcmp(name, "beta2")) ok = numeric, c.optim.beta2 = x;
        else if (!strcmp(name, "eps")) ok = numeric, c.optim.eps = x;
        else if (!strcmp(name, "weight_decay")) ok = numeric, c.optim.weight_decay = x;
        else if (!strcmp(name, "dropout")) ok = numeric, c.model.dropout = x;
        else if (!strcmp(name, "batch")) ok = numeric && x >= 1, c.loop.batch = (int)x;
        else if (!strcmp(name, "epochs")) ok = numeric && x >= 1, c.loop.epochs = (int)x;
        else if (!strcmp(name, "units")) ok = numeric && x >= 1, units = (int)x, have_units = 1;
        else if (!strcmp(name, "layers")) ok = numeric && x >= 0, layers = (int)x;
        else if (!strcmp(name, "bn")) c.model.batch_norm = !strcmp(val, "1");
        else if (!strcmp(name, "optimizer")) {
            size_t n = strlen(val);
            if ((ok = n < sizeof c.optim.name)) memcpy(c.optim.name, val, n + 1);
        }
        else if (!strcmp(name, "activation"))
            ok = (c.model.activation = cg_activation_from_name(val)) > 0;
        else if (!strcmp(name, "hidden")) ok = set_hidden(&c.model, val) == 0;
        else if (!strcmp(name, "arch")) {
            ok = cg_arch_parse(val, c.model.layers, CG_MAX_LAYERS, &c.model.n_layers) == CG_OK;
            c.model.n_hidden = 0; /* replaces the base's hidden widths */
        }
        else if (!strcmp(name, "lr_decay"))
            ok = cg_lr_schedule_parse(val, &c.schedule.kind, c.schedule.params) == CG_OK;
        else ok = 0;
        if (!ok) return bad(name, val);
    }
    /* units alone keeps two hidden layers; layers alone keeps 256 units. */
    if (have_units || layers >= 0) {
        if (layers < 0) layers = 2;
        if (layers > CG_MAX_HIDDEN) return bad("layers", "too many");
        c.model.n_hidden = layers;
        for (int l = 0; l < layers; l++) c.model.hidden[l] = units;
    }
    *out = c;
    return CG_OK;
}
