/* SPDX-License-Identifier: MIT */
/* test_bn_fashion.c: on Fashion-MNIST (784-256-256-10 ReLU, batch 128,
 * seed 42, plain SGD at a learning rate of BN_LR), the net with batch norm
 * beats the same net without it after 3 epochs, and reaches >= 0.88 after
 * 10. Without batch norm this learning rate diverges or lags (the figures
 * are printed and recorded in the README). CG_TEST_QUICK=1 skips it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "check.h"

#include <cgrad.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#define BN_LR 0.5

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double test_acc[11]; /* after each epoch (the test set is fit's val set) */

static int record(const cg_epoch_metrics *e, void *user)
{
    (void)user;
    test_acc[e->epoch] = e->val_acc;
    printf("  epoch %d: test accuracy %.4f, %.1f s\n", e->epoch, e->val_acc, e->seconds);
    return 0;
}

/* Train `epochs` epochs with SGD at BN_LR, inverse-time decay 0.5 per
 * epoch; test_acc[] gets each epoch's accuracy, NaN after a divergence. */
static void train(cg_model *m, const cg_dataset *tr, const cg_dataset *te, int epochs)
{
    for (int e = 0; e <= 10; e++) test_acc[e] = NAN;
    cg_optimizer *o = cg_sgd(BN_LR);
    CHECK(cg_optimizer_set_schedule(o, CG_LR_INVERSE_TIME, (double[]){0.5, 0}) == CG_OK);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = epochs;
    opt.batch_size = 128;
    opt.seed = 1;
    opt.on_epoch = record;
    if (cg_fit(m, o, tr, te, NULL, &opt, NULL) != CG_OK)
        printf("  training stopped: %s\n", cg_last_error());
    cg_optimizer_free(o);
}

static cg_model *mlp(int bn)
{
    cg_model *m = cg_model_new(784, 10, 42);
    for (int i = 0; i < 2; i++) {
        cg_model_add_dense(m, 256);
        if (bn) cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS);
        cg_model_add_activation(m, CG_RELU);
    }
    return m;
}

int main(void)
{
    if (getenv("CG_TEST_QUICK")) {
        printf("CG_TEST_QUICK set: skipping\n");
        return 0;
    }
    cg_dataset tr, te;
    if (cg_load_dataset("fashion-mnist", NULL, 1, &tr)) {
        printf("skipped: %s\n", cg_last_error());
        return 0;
    }
    CHECK(cg_load_dataset("fashion-mnist", NULL, 0, &te) == CG_OK);

    cg_model *plain = mlp(0), *bn = mlp(1);
    printf("without batch norm, SGD lr %g, inverse-time decay 0.5:\n", BN_LR);
    double t0 = now();
    train(plain, &tr, &te, 3);
    double plain3 = test_acc[3], t1 = now();
    printf("with batch norm:\n");
    train(bn, &tr, &te, 10);
    double bn3 = test_acc[3], bn10 = test_acc[10], t2 = now();
    printf("3 epochs: without BN %.4f (%.1f s), with BN %.4f; 10 epochs with BN %.4f (%.1f s)\n",
           plain3, t1 - t0, bn3, bn10, t2 - t1);
    CHECK(isnan(plain3) || bn3 > plain3);
    CHECK(bn10 >= 0.88);
    cg_model_free(plain);
    cg_model_free(bn);
    cg_dataset_free(&tr);
    cg_dataset_free(&te);
    CHECK_DONE();
}
