// SPDX-License-Identifier: MIT
/* two_branch.c: a network no cg_model describes, trained by the same loop
 * as the classifiers (cg_fit_graph, docs/fit.md):
 *
 *   "a" [4] -> dense 32, ReLU ----\
 *                                  concat [64] -> dense 64, ReLU -> + -> dense 1
 *   "b" [6] -> dense 32, tanh ----/            \____________________/
 *                                                 skip connection
 *
 * with a custom loss built from ops: log-cosh of the error, log(cosh(d)) =
 * d + softplus(-2 d) - log 2 (quadratic near 0 like MSE, linear far out
 * like MAE, and stable for any d), plus an L2 penalty on the first
 * layers' weights. The target mixes both inputs:
 *     y = a0 a1 + sin(b0 + b1) + 0.5 tanh(a2 - b2) + b3 (a3 > 0) + noise.
 * The log-cosh term is reported as a metric of its own (CG_METRIC_MEAN),
 * beside RMSE and R^2. Exits 1 if the test R^2 is below 0.85 (it reaches
 * about 0.96), so it runs as a test. */
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 3000, DA = 4, DB = 6, N_TRAIN = 2000, N_VAL = 500, N_TEST = N - N_TRAIN - N_VAL };
#define R2_FLOOR 0.85

static void make_data(cg_real *a, cg_real *b, cg_real *y, uint64_t seed)
{
    cg_rng r;
    cg_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        cg_real *ai = a + (size_t)i * DA, *bi = b + (size_t)i * DB;
        for (int j = 0; j < DA; j++) ai[j] = (cg_real)cg_rng_normal(&r);
        for (int j = 0; j < DB; j++) bi[j] = (cg_real)cg_rng_normal(&r);
        y[i] = (cg_real)(ai[0] * ai[1] + sin(bi[0] + bi[1]) + 0.5 * tanh(ai[2] - bi[2]) +
                         (ai[3] > 0 ? bi[3] : 0) + 0.1 * cg_rng_normal(&r));
    }
}

/* mean(log cosh(pred - target)), from ops. */
static cg_node *log_cosh_loss(cg_graph *g, cg_node *pred, cg_node *target)
{
    cg_node *d = cg_sub(pred, target);
    cg_node *lc = cg_add(d, cg_softplus(cg_mul(cg_scalar(g, -2), d)));
    return cg_sub(cg_mean(lc), cg_scalar(g, (cg_real)log(2.0)));
}

int main(void)
{
    cg_real *a = malloc(sizeof(cg_real) * N * DA), *b = malloc(sizeof(cg_real) * N * DB);
    cg_real *y = malloc(sizeof(cg_real) * N);
    cg_graph *g = cg_graph_new();
    cg_optimizer *adam = cg_adam_default(2e-3);
    if (!a || !b || !y || !g || !adam) return 1;
    make_data(a, b, y, 5);

    cg_rng_seed(cg_graph_rng(g), 11);
    cg_node *in_a = cg_placeholder(g, "a", 2, (int[]){CG_BATCH, DA});
    cg_node *in_b = cg_placeholder(g, "b", 2, (int[]){CG_BATCH, DB});
    cg_node *target = cg_placeholder(g, "y", 2, (int[]){CG_BATCH, 1});
    cg_node *ha = cg_relu(cg_dense(g, in_a, 32, CG_RELU, "branch_a"));
    cg_node *hb = cg_tanh(cg_dense(g, in_b, 32, CG_TANH, "branch_b"));
    cg_node *joined = cg_concat(2, (cg_node *[]){ha, hb}, 1);              /* [batch, 64] */
    cg_node *h = cg_relu(cg_dense(g, joined, 64, CG_RELU, "mix"));
    cg_node *out = cg_dense(g, cg_add(h, joined), 1, CG_LINEAR, "out"); /* the skip */

    cg_node *fit_term = log_cosh_loss(g, out, target);
    cg_node *l2 = cg_add(cg_sum(cg_square(cg_graph_find(g, "branch_a.weight"))),
                         cg_sum(cg_square(cg_graph_find(g, "branch_b.weight"))));
    cg_fit_spec spec = {
        .loss = cg_add(fit_term, cg_mul(cg_scalar(g, 1e-4f), l2)),
        .n_metrics = 3,
        .metrics = {{"log_cosh", CG_METRIC_MEAN, fit_term, NULL},
                    {"rmse", CG_METRIC_RMSE, out, target},
                    {"r2", CG_METRIC_R2, out, target}},
        .monitor = "rmse",
        /* divergence's floor (rule 3 of cg_fit): about what predicting 0
         * scores here, so that a lucky small first loss does not make the
         * bound tight */
        .baseline_loss = 0.5,
    };
    if (!spec.loss) goto fail;

    cg_tensor_dataset all = {0}, train, val, test;
    if (cg_tensor_dataset_add(&all, "a", a, N, DA) || cg_tensor_dataset_add(&all, "b", b, N, DB) ||
        cg_tensor_dataset_add(&all, "y", y, N, 1) ||
        cg_tensor_dataset_rows(&all, 0, N_TRAIN, &train) ||
        cg_tensor_dataset_rows(&all, N_TRAIN, N_VAL, &val) ||
        cg_tensor_dataset_rows(&all, N_TRAIN + N_VAL, N_TEST, &test))
        goto fail;

    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 60;
    opt.batch_size = 32;
    opt.patience = 8;
    opt.seed = 2;
    cg_progress_bar bar;
    cg_progress_bar_init(&bar, stdout);
    opt.on_progress = cg_progress_bar_callback;
    opt.progress_user = &bar;
    cg_fit_result res;
    if (cg_fit_graph(&spec, adam, &train, &val, &opt, &res)) goto fail;
    printf("best val_rmse %.4f at epoch %d of %d%s\n", res.best_val_acc, res.best_epoch,
           res.epochs, res.stopped_early ? " (stopped early)" : "");

    double loss, m[3];
    if (cg_evaluate_graph(&spec, &test, 0, &loss, m)) goto fail;
    printf("test: loss %.4f  log_cosh %.4f  rmse %.4f  r2 %.4f\n", loss, m[0], m[1], m[2]);
    int ok = m[2] >= R2_FLOOR;
    if (!ok) fprintf(stderr, "two_branch: test R^2 %.4f is below %.2f\n", m[2], R2_FLOOR);
    cg_optimizer_free(adam);
    cg_graph_free(g);
    free(a);
    free(b);
    free(y);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "two_branch: %s\n", cg_last_error());
    return 1;
}
