/* SPDX-License-Identifier: MIT */
/* test_blobs.c: softmax regression (no hidden layer) separates
 * well-separated 2-D blobs for C = 3..6 at >= 0.95 accuracy, on a held-out
 * set drawn with another seed. */
#include "check.h"

#include <cgrad.h>

int main(void)
{
    for (int c = 3; c <= 6; c++) {
        cg_dataset train, test;
        CHECK(cg_make_blobs(100, c, 2, 0.6, 1, &train) == CG_OK);
        CHECK(cg_make_blobs(100, c, 2, 0.6, 2, &test) == CG_OK);
        cg_model *m = cg_model_new(2, c, 3);
        cg_optimizer *opt = cg_adam_default(0.05);
        cg_fit_options o;
        cg_fit_options_init(&o);
        o.epochs = 30;
        double acc = 0;
        CHECK(cg_fit(m, opt, &train, NULL, NULL, &o, NULL) == CG_OK);
        CHECK(cg_evaluate(m, &test, NULL, 0, NULL, &acc) == CG_OK);
        printf("C = %d: test accuracy %.4f\n", c, acc);
        CHECK(acc >= 0.95);
        cg_model_free(m);
        cg_optimizer_free(opt);
        cg_dataset_free(&train);
        cg_dataset_free(&test);
    }
    CHECK(cg_make_blobs(10, 1, 2, 0.5, 1, &(cg_dataset){0}) != CG_OK);
    CHECK_ERROR("classes");
    CHECK_DONE();
}
