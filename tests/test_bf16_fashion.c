// SPDX-License-Identifier: MIT
/* test_bf16_fashion.c: bf16 matrix products train the Fashion-MNIST MLP
 * (784-256-256-10 ReLU, Adam, batch 128, seed 42, cosine decay over 2
 * epochs) to the accuracy fp32 reaches: above the floor measured here
 * and within a point of the fp32 run made beside it. Skipped without
 * bf16 (no oneDNN or AVX-512 BF16) and under CG_TEST_QUICK=1. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

#define EPOCHS 2
#define FLOOR 0.855 /* measured: fp32 0.8588, bf16 0.8613 */

static double train(int precision, const cg_dataset *tr, const cg_dataset *te)
{
    cg_model *m = cg_model_new(784, 10, 42);
    CHECK(cg_model_add_dense(m, 256) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    CHECK(cg_model_add_dense(m, 256) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    CHECK(cg_graph_set_precision(cg_model_graph(m), precision) == CG_OK);
    cg_optimizer *opt = cg_optimizer_from_name("adam", 0.001);
    CHECK(cg_optimizer_set_schedule(opt, CG_LR_COSINE, (double[]){EPOCHS, 0}) == CG_OK);
    cg_fit_options o;
    cg_fit_options_init(&o);
    o.epochs = EPOCHS;
    o.batch_size = 128;
    o.seed = 42;
    double acc = 0, loss = 0;
    CHECK(cg_fit(m, opt, tr, NULL, NULL, &o, NULL) == CG_OK);
    CHECK(cg_evaluate(m, te, NULL, 0, &loss, &acc) == CG_OK);
    printf("%s: test accuracy %.4f loss %.4f\n", cg_precision_name(precision), acc, loss);
    cg_optimizer_free(opt);
    cg_model_free(m);
    return acc;
}

int main(void)
{
    char why[200];
    if (getenv("CG_TEST_QUICK")) {
        printf("CG_TEST_QUICK set: skipping the Fashion-MNIST runs\n");
        return 0;
    }
    if (!cg_bf16_supported(why, sizeof why)) {
        printf("skipped: %s\n", why);
        return 0;
    }
    cg_dataset tr, te;
    if (cg_load_dataset("fashion-mnist", NULL, 1, &tr)) {
        printf("skipped: %s\n", cg_last_error());
        return 0;
    }
    CHECK(cg_load_dataset("fashion-mnist", NULL, 0, &te) == CG_OK);
    double fp32 = train(CG_PRECISION_FP32, &tr, &te), bf16 = train(CG_PRECISION_BF16, &tr, &te);
    CHECK(bf16 >= FLOOR);
    CHECK(fabs(bf16 - fp32) <= 0.01);
    cg_dataset_free(&tr);
    cg_dataset_free(&te);
    CHECK_DONE();
}
