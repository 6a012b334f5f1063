/* SPDX-License-Identifier: MIT */
/* test_fit_diverge.c: cg_fit's divergence rules (cgrad.h) each stop
 * training with CG_ERR_DIVERGED before on_epoch sees the bad epoch, a sane
 * run trips none, and features that overflow are refused up front, naming
 * the row and column. */
#include "check.h"

#include <cgrad.h>
#include <math.h>
#include <stdlib.h>

typedef struct counts {
    int epochs;       /* on_epoch calls */
    cg_node *poison;  /* set to NaN after the first step, if not NULL */
    int shown, stopped; /* EPOCH and STOPPED progress reports */
} counts;

static void on_progress(const cg_progress *p, void *user)
{
    counts *c = user;
    c->shown += p->phase == CG_PROGRESS_EPOCH;
    c->stopped += p->phase == CG_PROGRESS_STOPPED;
}

static int on_epoch(const cg_epoch_metrics *e, void *user)
{
    (void)e;
    ((counts *)user)->epochs++;
    return 0;
}

static int on_step(int step, double loss, void *user)
{
    (void)loss;
    counts *c = user;
    if (step == 1 && c->poison) cg_node_value(c->poison)[0] = NAN;
    return 0;
}

static cg_model *mlp(int bn)
{
    cg_model *m = cg_model_new(4, 3, 7);
    CHECK(cg_model_add_dense(m, 16) == CG_OK);
    if (bn) CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    return m;
}

static int fit(cg_model *m, cg_optimizer *o, const cg_dataset *ds, const cg_normalizer *nz,
               int epochs, counts *c)
{
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = epochs;
    fo.batch_size = 16;
    fo.on_epoch = on_epoch;
    fo.on_step = on_step;
    fo.user = c;
    fo.on_progress = on_progress;
    fo.progress_user = c;
    return cg_fit(m, o, ds, NULL, nz, &fo, NULL);
}

int main(void)
{
    cg_dataset ds;
    CHECK(cg_make_blobs(100, 3, 4, 1.0, 3, &ds) == CG_OK);

    /* A sane run trips no rule. */
    {
        cg_model *m = mlp(1);
        cg_optimizer *o = cg_adam_default(1e-2);
        counts c = {0};
        CHECK(fit(m, o, &ds, NULL, 5, &c) == CG_OK);
        CHECK(c.epochs == 5 && c.shown == 5 && c.stopped == 0);
        cg_optimizer_free(o);
        cg_model_free(m);
    }
    /* Rule 3: Adam at lr 1e6 keeps every value finite (its steps are
     * bounded by lr) but the loss far above chance: diverged in epoch 1,
     * which on_epoch never sees. */
    {
        cg_model *m = mlp(0);
        cg_optimizer *o = cg_adam_default(1e6);
        counts c = {0};
        CHECK(fit(m, o, &ds, NULL, 5, &c) == CG_ERR_DIVERGED);
        CHECK_ERROR("epoch 1: the mean training loss");
        CHECK_ERROR("try a lower learning rate");
        CHECK(c.epochs == 0);
        /* A progress display is told the epoch stopped (a bar ends its
         * line), not that it finished. */
        CHECK(c.shown == 0 && c.stopped == 1);
        cg_optimizer_free(o);
        cg_model_free(m);
    }
    /* Rule 1: plain SGD at lr 1e30 makes the next steps' loss non-finite. */
    {
        cg_model *m = mlp(0);
        cg_optimizer *o = cg_sgd(1e30);
        counts c = {0};
        CHECK(fit(m, o, &ds, NULL, 5, &c) == CG_ERR_DIVERGED);
        CHECK_ERROR("step");
        CHECK_ERROR("try a lower learning rate");
        CHECK(c.epochs == 0);
        cg_optimizer_free(o);
        cg_model_free(m);
    }
    /* Rule 2: a NaN where the loss cannot see it (a running statistic is
     * only written while training) is found after the epoch, by name. */
    {
        cg_model *m = mlp(1);
        cg_optimizer *o = cg_adam_default(1e-3);
        counts c = {.poison = cg_graph_find(cg_model_graph(m), "bn1.running_mean")};
        CHECK(c.poison != NULL);
        CHECK(fit(m, o, &ds, NULL, 3, &c) == CG_ERR_DIVERGED);
        CHECK_ERROR("after epoch 1, bn1.running_mean[0] is nan");
        CHECK(c.epochs == 0);
        /* ... and a model that starts non-finite is refused before
         * training, as a numeric error, not a divergence. */
        c.poison = NULL;
        CHECK(fit(m, o, &ds, NULL, 3, &c) == CG_ERR_NUMERIC);
        CHECK_ERROR("before training, bn1.running_mean[0] is nan");
        cg_optimizer_free(o);
        cg_model_free(m);
    }
    /* Features: a value near FLT_MAX, left unscaled, is refused with its
     * row and column; so is one that normalisation makes infinite. */
    {
        cg_model *m = mlp(0);
        cg_optimizer *o = cg_adam_default(1e-3);
        counts c = {0};
        float keep = ds.x_f32[7 * 4 + 2];
        ds.x_f32[7 * 4 + 2] = 3e38f;
        CHECK(fit(m, o, &ds, NULL, 1, &c) == CG_ERR_NUMERIC);
        CHECK_ERROR("row 7, feature column 2");
        ds.x_f32[7 * 4 + 2] = keep;
        float mean[4] = {0, 0, 0, 0}, inv[4] = {1, 1e38f, 1, 1};
        cg_normalizer nz = {.d = 4, .scale = 1.0f, .mean = mean, .inv_std = inv};
        CHECK(fit(m, o, &ds, &nz, 1, &c) == CG_ERR_NUMERIC);
        CHECK_ERROR("feature column 1");
        CHECK_ERROR("after normalisation");
        /* Within the bound, it trains. */
        inv[1] = 1;
        CHECK(fit(m, o, &ds, &nz, 1, &c) == CG_OK);
        cg_optimizer_free(o);
        cg_model_free(m);
    }
    cg_dataset_free(&ds);
    CHECK_DONE();
}
