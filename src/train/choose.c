/* SPDX-License-Identifier: MIT */
/* choose.c: cg_train, and the one choice of model it makes. A regression
 * on a table whose model the user left to the default trains the linear
 * model beside the default MLP and keeps the one with the lower
 * validation loss. Why: on a small noisy table, or a target that is
 * linear in its features, a 256-256 MLP overfits where least squares
 * does not (measured: R² 0.19 against 0.40 on 442 rows, 0.92 against
 * 0.99 on a linear table; bench/regression), and which of the two is
 * right is what a validation split measures. The linear model costs a
 * small fraction of the MLP. Classifiers keep the MLP: on the tables
 * measured (bench/defaults) it was never more than a point below the
 * linear model. */
#include "train/run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void say(const cg_train_options *o, const char *fmt, ...) CG_PRINTF(2, 3);
static void say(const cg_train_options *o, const char *fmt, ...)
{
    if (!o->on_note) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->on_note(line, o->user);
}

static int chooses(const cg_run_config *c, const cg_train_options *o)
{
    return o->choose_model && !o->resume && cg_dist_size(o->dist) <= 1 &&
           c->model.task == CG_TASK_REGRESSION && c->loop.val_split > 0 && c->model.n_layers == 0 &&
           c->model.n_hidden > 0;
}

int cg_train(const cg_run_config *config, const cg_train_options *opt, cg_train_result *res)
{
    if (!config || !opt || !chooses(config, opt)) return cg_train_one(config, opt, res);
    cg_run_config linear = *config;
    linear.model.n_hidden = 0;
    linear.model.activation = -1;
    linear.model.batch_norm = 0;
    linear.model.dropout = 0;
    cg_train_options quiet;
    cg_train_options_init(&quiet);
    cg_train_result lin;
    /* The linear candidate first, in memory: it is cheap. Bad data or
     * settings fail it as they would the run: that error is the run's. A
     * diverged fit of it leaves the default model to train. */
    int rc = cg_train_one(&linear, &quiet, &lin);
    if (rc && rc != CG_ERR_DIVERGED) {
        if (res) *res = lin;
        return rc;
    }
    if (rc || !isfinite(lin.fit.best_val_acc)) {
        say(opt, "model: the linear model, trained for comparison, failed (%s); the default MLP is the run's",
            cg_last_error());
        return cg_train_one(config, opt, res);
    }
    say(opt, "model: none given, so the linear model and the default MLP both train and the lower "
             "validation loss decides; the linear model: %.4g (epoch %d of %d)",
        lin.fit.best_val_acc, lin.fit.best_epoch, lin.fit.epochs);
    cg_train_result mlp;
    rc = cg_train_one(config, opt, &mlp);
    if (rc) {
        if (res) *res = mlp;
        return rc;
    }
    if (!(lin.fit.best_val_acc < mlp.fit.best_val_acc)) {
        say(opt, "model: the MLP validates better (loss %.4g against the linear model's %.4g): kept",
            mlp.fit.best_val_acc, lin.fit.best_val_acc);
        if (res) *res = mlp;
        return CG_OK;
    }
    say(opt, "model: the linear model validates better (loss %.4g against the MLP's %.4g): it is the "
             "run's model, trained again%s (a model given, e.g. --hidden, is kept as it is)",
        lin.fit.best_val_acc, mlp.fit.best_val_acc, opt->out ? " into the run directory" : "");
    return cg_train_one(&linear, opt, res);
}
