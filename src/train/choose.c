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

/* Whether this run chooses its model: 1; 0 where it is not asked to;
 * -1 where it would but cannot (no validation rows to decide on, or MPI
 * ranks, which would each need the comparison): the default MLP trains. */
static int chooses(const cg_run_config *c, const cg_train_options *o)
{
    if (!o->choose_model || o->resume || c->model.task != CG_TASK_REGRESSION || c->model.n_layers != 0 ||
        c->model.n_hidden == 0)
        return 0;
    return c->loop.val_split > 0 && cg_dist_size(o->dist) <= 1 ? 1 : -1;
}

int cg_train(const cg_run_config *config, const cg_train_options *opt, cg_train_result *res)
{
    const int choose = config && opt ? chooses(config, opt) : 0;
    if (choose <= 0) {
        const int rc = cg_train_one(config, opt, res);
        /* Said after the run, so that a run that fails prints only its error. */
        if (!rc && choose < 0)
            cg_train_note(opt, "model: the default MLP, not compared with the linear model (%s)",
                          config->loop.val_split > 0 ? "data-parallel runs train the MLP"
                                                     : "no validation split to compare on");
        return rc;
    }
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
        cg_train_note(opt, "model: the linear model, trained for comparison, failed (%s); the default MLP is the run's",
            cg_last_error());
        return cg_train_one(config, opt, res);
    }
    cg_train_note(opt, "model: none given, so the linear model and the default MLP both train and the lower "
             "validation loss decides; the linear model: %.4g (epoch %d of %d)",
        lin.fit.best_val_acc, lin.fit.best_epoch, lin.fit.epochs);
    cg_train_result mlp;
    rc = cg_train_one(config, opt, &mlp);
    if (rc) {
        if (res) *res = mlp;
        return rc;
    }
    if (!(lin.fit.best_val_acc < mlp.fit.best_val_acc)) {
        cg_train_note(opt, "model: the MLP validates better (loss %.4g against the linear model's %.4g): kept",
            mlp.fit.best_val_acc, lin.fit.best_val_acc);
        if (res) *res = mlp;
        return CG_OK;
    }
    cg_train_note(opt, "model: the linear model validates better (loss %.4g against the MLP's %.4g): it is the "
             "run's model, trained again%s (a model given, e.g. --hidden, is kept as it is)",
        lin.fit.best_val_acc, mlp.fit.best_val_acc, opt->out ? " into the run directory" : "");
    return cg_train_one(&linear, opt, res);
}
