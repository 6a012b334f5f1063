/* SPDX-License-Identifier: MIT */
/* default_space.c: what `tune` searches when the user names no parameter.
 * Ranges sit around the base configuration, so a search starts where a
 * plain `train` would and explores on the scales that matter: a decade
 * either side of the learning rate, batches from 32 to 256, widths from a
 * quarter to twice the base's, weight decay across four decades, dropout
 * up to one half. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int add(cg_tune_space *s, const char *fmt, ...) CG_PRINTF(2, 3);
static int add(cg_tune_space *s, const char *fmt, ...)
{
    char spec[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(spec, sizeof spec, fmt, ap);
    va_end(ap);
    return cg_tune_space_add(s, spec);
}

int cg_tune_space_default(cg_tune_space *s, const cg_run_config *base)
{
    if (!s || !base) return cg_error(CG_ERR_ARG, "cg_tune_space_default: NULL argument");
    const char *opt = base->optim.name[0] ? base->optim.name : "adam";
    double lr = isfinite(base->optim.lr) ? base->optim.lr : cg_optimizer_default(opt, "lr");
    if (!(lr > 0)) return cg_error(CG_ERR_ARG, "cg_tune_space_default: no learning rate for '%s'", opt);
    const cg_model_config *m = &base->model;
    if (add(s, "lr=loguniform:%.6g:%.6g", lr / 10, lr * 10) ||
        add(s, "batch=choice:32,64,128,256") ||
        add(s, "weight_decay=loguniform:1e-6:1e-2"))
        return cg_last_error_code();
    if (m->n_hidden > 0) {
        int w = 0;
        for (int l = 0; l < m->n_hidden; l++) w = m->hidden[l] > w ? m->hidden[l] : w;
        int lo = w / 4 > 4 ? w / 4 : 4;
        if (add(s, "units=intlog:%d:%d", lo, 2 * w) || add(s, "layers=choice:%d", m->n_hidden) ||
            add(s, "dropout=uniform:0:0.5"))
            return cg_last_error_code();
    }
    return CG_OK;
}
