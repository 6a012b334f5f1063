// SPDX-License-Identifier: MIT
/* regression.c: a small MLP regressor trained with cg_fit_graph (see
 * docs/fit.md). The data is generated: 8 features x ~ N(0, 1) and a
 * nonlinear target
 *     y = sin(2 x0) + x1^2 / 2 - x2 x3 + |x4| + noise (sd 0.1),
 * which a linear model fits poorly. The network
 * 8 -> 64 -> 64 -> 1 (ReLU) minimises the mean squared error with Adam;
 * RMSE, MAE and R^2 are reported each epoch, early stopping watches the
 * validation R^2 and puts back the best epoch's weights. Exits 1 when the
 * test R^2 is below 0.9 (it reaches about 0.95), so it runs as a test. */
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 3000, D = 8, N_TRAIN = 2000, N_VAL = 500, N_TEST = N - N_TRAIN - N_VAL };
#define R2_FLOOR 0.9

static void make_data(cg_real *x, cg_real *y, uint64_t seed)
{
    cg_rng r;
    cg_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        cg_real *xi = x + (size_t)i * D;
        for (int j = 0; j < D; j++) xi[j] = (cg_real)cg_rng_normal(&r);
        y[i] = (cg_real)(sin(2 * xi[0]) + 0.5 * xi[1] * xi[1] - xi[2] * xi[3] + fabs(xi[4]) +
                         0.1 * cg_rng_normal(&r));
    }
}

int main(int argc, char **argv)
{
    const char *checkpoint = argc > 1 ? argv[1] : NULL; /* optional: save the best weights */
    cg_real *x = malloc(sizeof(cg_real) * N * D), *y = malloc(sizeof(cg_real) * N);
    cg_real *pred = malloc(sizeof(cg_real) * N_TEST);
    cg_graph *g = cg_graph_new();
    cg_optimizer *adam = cg_adam_default(3e-3);
    if (!x || !y || !pred || !g || !adam) return 1;
    make_data(x, y, 1);

    /* The model: named placeholders for the inputs and the target. */
    cg_rng_seed(cg_graph_rng(g), 7); /* the dense layers' initial weights */
    cg_node *in = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, D});
    cg_node *target = cg_placeholder(g, "y", 2, (int[]){CG_BATCH, 1});
    cg_node *h = cg_relu(cg_dense(g, in, 64, CG_RELU, "hidden1"));
    h = cg_relu(cg_dense(g, h, 64, CG_RELU, "hidden2"));
    cg_node *out = cg_dense(g, h, 1, CG_LINEAR, "out");

    /* Loss, metrics and what early stopping watches: Keras's compile(). */
    cg_fit_spec spec = {
        .loss = cg_mse_loss(out, target),
        .n_metrics = 3,
        .metrics = {{"rmse", CG_METRIC_RMSE, out, target},
                    {"mae", CG_METRIC_MAE, out, target},
                    {"r2", CG_METRIC_R2, out, target}},
        .monitor = "r2",
    };
    if (!spec.loss) goto fail;

    /* Rows [0, 2000) train, the next 500 validate, the last 500 test (the
     * generated rows are in no order, so the split needs no shuffle). */
    cg_tensor_dataset all = {0}, train, val, test;
    if (cg_tensor_dataset_add(&all, "x", x, N, D) || cg_tensor_dataset_add(&all, "y", y, N, 1) ||
        cg_tensor_dataset_rows(&all, 0, N_TRAIN, &train) ||
        cg_tensor_dataset_rows(&all, N_TRAIN, N_VAL, &val) ||
        cg_tensor_dataset_rows(&all, N_TRAIN + N_VAL, N_TEST, &test))
        goto fail;

    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 60;
    opt.batch_size = 32;
    opt.patience = 10;
    opt.seed = 3;
    opt.checkpoint = checkpoint;
    cg_progress_bar bar;
    cg_progress_bar_init(&bar, stdout);
    opt.on_progress = cg_progress_bar_callback;
    opt.progress_user = &bar;
    cg_fit_result res;
    if (cg_fit_graph(&spec, adam, &train, &val, &opt, &res)) goto fail;
    printf("best val_r2 %.4f at epoch %d of %d\n", res.best_val_acc, res.best_epoch, res.epochs);

    /* The test set: the same metrics, and predictions. */
    double loss, m[3];
    if (cg_evaluate_graph(&spec, &test, 0, &loss, m)) goto fail;
    printf("test: mse %.4f  rmse %.4f  mae %.4f  r2 %.4f\n", loss, m[0], m[1], m[2]);
    if (cg_predict_graph(out, &test, 0, pred)) goto fail;
    for (int i = 0; i < 3; i++)
        printf("  y %7.3f  predicted %7.3f\n", (double)y[N_TRAIN + N_VAL + i], (double)pred[i]);

    int ok = m[2] >= R2_FLOOR;
    if (!ok) fprintf(stderr, "regression: test R^2 %.4f is below %.2f\n", m[2], R2_FLOOR);
    cg_optimizer_free(adam);
    cg_graph_free(g);
    free(x);
    free(y);
    free(pred);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "regression: %s\n", cg_last_error());
    return 1;
}
