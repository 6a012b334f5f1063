/* test_optim_fashion.c: every optimizer trains the Fashion-MNIST MLP
 * (784-256-256-10 ReLU, batch 128, seed 42, constant learning rate, the
 * same 3 epochs) above a floor measured on this code and recorded here,
 * a few points under what each reached. Adam's >= 0.885 with the full
 * 10-epoch run is in test_model. Set CG_TEST_QUICK=1 to skip. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <time.h>

#define FMNIST "/usr/share/datasets/fashion-mnist"

typedef struct case_ {
    const char *name;
    double lr;
    double floor;    /* measured (seed 42): see the comment per line */
} case_;

int main(void)
{
    if (getenv("CG_TEST_QUICK")) {
        printf("CG_TEST_QUICK set: skipping the Fashion-MNIST runs\n");
        return 0;
    }
    cg_dataset train, test;
    if (cg_load_dataset("fashion-mnist", NULL, 1, &train)) {
        printf("skipped: %s\n", cg_last_error());
        return 0;
    }
    CHECK(cg_load_dataset("fashion-mnist", NULL, 0, &test) == CG_OK);
    static const case_ cases[] = {
        {"sgd", 0.1, 0.845},       /* measured 0.8532 */
        {"momentum", 0.01, 0.840}, /* measured 0.8505 */
        {"nesterov", 0.01, 0.845}, /* measured 0.8578 */
        {"rmsprop", 0.001, 0.855}, /* measured 0.8667 */
        {"adam", 0.001, 0.860},    /* measured 0.8728 */
        {"adamw", 0.001, 0.860},   /* measured 0.8708 */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cg_model *m = cg_model_new(784, 10, 42);
        CHECK(cg_model_add_dense(m, 256) == CG_OK);
        CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
        CHECK(cg_model_add_dense(m, 256) == CG_OK);
        CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
        cg_optimizer *opt = cg_optimizer_from_name(cases[k].name, cases[k].lr);
        cg_fit_options o;
        cg_fit_options_init(&o);
        o.epochs = 3;
        o.batch_size = 128;
        o.seed = 42;
        o.verbose = 0;
        double acc = 0, loss = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(cg_fit(m, opt, &train, NULL, NULL, &o, NULL) == CG_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(cg_evaluate(m, &test, NULL, 0, &loss, &acc) == CG_OK);
        printf("%-9s lr %-6g test accuracy %.4f  loss %.4f  %.1f s\n", cases[k].name, cases[k].lr,
               acc, loss, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        CHECK(acc >= cases[k].floor);
        cg_optimizer_free(opt);
        cg_model_free(m);
    }
    cg_dataset_free(&train);
    cg_dataset_free(&test);
    CHECK_DONE();
}
