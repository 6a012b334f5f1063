/* SPDX-License-Identifier: MIT */
/* mnist_mlp.c: a 784-256-256-10 ReLU network on Fashion-MNIST through the
 * model API: load, build, fit (2 epochs of Adam), evaluate. */
#include <cgrad.h>
#include <stdio.h>

int main(void)
{
    cg_dataset train = {0}, test = {0};
    if (cg_load_dataset("fashion-mnist", NULL, 1, &train) ||
        cg_load_dataset("fashion-mnist", NULL, 0, &test)) {
        fprintf(stderr, "mnist_mlp: %s\n", cg_last_error());
        return 1;
    }
    cg_model *model = cg_model_new(784, 10, 42);
    cg_model_add_dense(model, 256);
    cg_model_add_activation(model, CG_RELU);
    cg_model_add_dense(model, 256);
    cg_model_add_activation(model, CG_RELU);
    cg_model_summary(model, stdout);

    cg_optimizer *adam = cg_adam_default(1e-3);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 2;
    opt.batch_size = 128;
    cg_progress_bar bar; /* Keras's bar: cg_fit itself prints nothing */
    cg_progress_bar_init(&bar, stdout);
    opt.on_progress = cg_progress_bar_callback;
    opt.progress_user = &bar;
    double loss = 0, acc = 0;
    int rc = cg_fit(model, adam, &train, NULL, NULL, &opt, NULL);
    if (!rc) rc = cg_evaluate(model, &test, NULL, 1000, &loss, &acc);
    if (rc) fprintf(stderr, "mnist_mlp: %s\n", cg_last_error());
    else printf("test loss %.4f, test accuracy %.4f\n", loss, acc);

    cg_optimizer_free(adam);
    cg_model_free(model);
    cg_dataset_free(&train);
    cg_dataset_free(&test);
    return rc ? 1 : 0;
}
