// SPDX-License-Identifier: MIT
/* test_fit_graph.c: cg_fit_graph trains a user-built graph with the loop
 * cg_fit uses: a cg_model trained through it learns exactly what cg_fit
 * learns; metrics agree with the same formulas applied to the
 * predictions; early stopping restores the best epoch; the checkpoint
 * holds that epoch's weights and loads back; fixed variables do not move;
 * bad specs and data fail with messages naming what is wrong. */
#define _POSIX_C_SOURCE 200809L /* getpid */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <unistd.h>

enum { N = 400, D = 3 };

/* y = 2 x0 - x1 + 0.5 x2^2 + noise; a linear graph fits it only partly,
 * which leaves R2 well inside (0, 1). */
static void make_data(cg_real *x, cg_real *y, uint64_t seed)
{
    cg_rng r;
    cg_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        cg_real *xi = x + i * D;
        for (int j = 0; j < D; j++) xi[j] = (cg_real)cg_rng_normal(&r);
        y[i] = 2 * xi[0] - xi[1] + (cg_real)0.5 * xi[2] * xi[2] + (cg_real)(0.1 * cg_rng_normal(&r));
    }
}

typedef struct net {
    cg_graph *g;
    cg_node *x, *y, *out;
    cg_fit_spec spec;
} net;

/* x -> dense 16 tanh -> dense 1, MSE; metrics rmse, mae, r2. */
static void build(net *n, uint64_t seed)
{
    n->g = cg_graph_new();
    cg_rng_seed(cg_graph_rng(n->g), seed);
    n->x = cg_placeholder(n->g, "x", 2, (int[]){CG_BATCH, D});
    n->y = cg_placeholder(n->g, "y", 2, (int[]){CG_BATCH, 1});
    cg_node *h = cg_tanh(cg_dense(n->g, n->x, 16, CG_TANH, "h"));
    n->out = cg_dense(n->g, h, 1, CG_LINEAR, "out");
    memset(&n->spec, 0, sizeof n->spec);
    n->spec.loss = cg_mse_loss(n->out, n->y);
    n->spec.n_metrics = 3;
    n->spec.metrics[0] = (cg_metric){"rmse", CG_METRIC_RMSE, n->out, n->y};
    n->spec.metrics[1] = (cg_metric){NULL, CG_METRIC_MAE, n->out, n->y}; /* named "mae" */
    n->spec.metrics[2] = (cg_metric){"r2", CG_METRIC_R2, n->out, n->y};
    CHECK(n->spec.loss != NULL);
}

typedef struct seen {
    int epochs, names_ok;
    double last_val_r2;
    char monitor[32];
} seen;

static int on_epoch(const cg_epoch_metrics *e, void *user)
{
    seen *s = user;
    s->epochs++;
    s->names_ok = e->n_metrics == 3 && strcmp(e->metric_names[0], "rmse") == 0 &&
                  strcmp(e->metric_names[1], "mae") == 0 && strcmp(e->metric_names[2], "r2") == 0 &&
                  isfinite(e->train_metrics[2]) && isnan(e->train_acc);
    s->last_val_r2 = e->val_metrics[2];
    snprintf(s->monitor, sizeof s->monitor, "%s", e->monitor);
    return 0;
}

/* The metrics of cg_evaluate_graph equal the formulas on cg_predict_graph's
 * values; a few epochs of Adam bring R2 up. */
static void test_metrics(const cg_tensor_dataset *train, const cg_tensor_dataset *val,
                         const cg_real *yv)
{
    net n;
    build(&n, 1);
    cg_optimizer *o = cg_adam_default(1e-2);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 30;
    opt.batch_size = 16;
    seen s = {0};
    opt.on_epoch = on_epoch;
    opt.user = &s;
    n.spec.monitor = "r2";
    /* The bar names every metric (a file: one line per epoch). */
    FILE *f = tmpfile();
    cg_progress_bar bar;
    cg_progress_bar_init(&bar, f);
    opt.on_progress = cg_progress_bar_callback;
    opt.progress_user = &bar;
    cg_fit_result res;
    CHECK(cg_fit_graph(&n.spec, o, train, val, &opt, &res) == CG_OK);
    char line[512] = "";
    rewind(f);
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(strncmp(line, "Epoch 1/30 - ", 13) == 0 && strstr(line, " - loss: ") &&
          strstr(line, " - rmse: ") && strstr(line, " - mae: ") && strstr(line, " - r2: ") &&
          strstr(line, " - val_loss: ") && strstr(line, " - val_r2: ") && !strstr(line, "acc"));
    fclose(f);
    CHECK(s.epochs == 30 && s.names_ok && strcmp(s.monitor, "val_r2") == 0);
    CHECK(res.n_metrics == 3 && res.val_metrics[2] > 0.8);
    CHECK_NEAR(res.val_metrics[2], s.last_val_r2, 1e-12);

    double loss, m[3];
    CHECK(cg_evaluate_graph(&n.spec, val, 0, &loss, m) == CG_OK);
    cg_real p[N];
    CHECK(cg_predict_graph(n.out, val, 7, p) == CG_OK); /* batches of 7: a partial last one */
    double se = 0, ae = 0, mean = 0, sst = 0;
    for (int i = 0; i < val->n; i++) mean += yv[i] / val->n;
    for (int i = 0; i < val->n; i++) {
        double d = (double)p[i] - yv[i];
        se += d * d;
        ae += fabs(d);
        sst += (yv[i] - mean) * (yv[i] - mean);
    }
    CHECK_NEAR(loss, se / val->n, 1e-4);
    CHECK_NEAR(m[0], sqrt(se / val->n), 1e-4);
    CHECK_NEAR(m[1], ae / val->n, 1e-4);
    CHECK_NEAR(m[2], 1 - se / sst, 1e-4);
    CHECK_NEAR(m[2], res.val_metrics[2], 1e-5); /* training mode changes nothing here */
    cg_optimizer_free(o);
    cg_graph_free(n.g);
}

/* Early stopping on val_rmse restores the best epoch, which the checkpoint
 * holds too; it loads back into a new graph of the same build. */
static void test_early_stop_checkpoint(const cg_tensor_dataset *train, const cg_tensor_dataset *val)
{
    char path[64];
    snprintf(path, sizeof path, "fit_graph_%d.safetensors", (int)getpid());
    net n;
    build(&n, 2);
    /* SGD at a rate that overshoots now and then: later epochs are worse. */
    cg_optimizer *o = cg_momentum(0.05, 0.9);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 200;
    opt.batch_size = 8;
    opt.patience = 3;
    opt.checkpoint = path;
    n.spec.monitor = "rmse";
    cg_fit_result res;
    CHECK(cg_fit_graph(&n.spec, o, train, val, &opt, &res) == CG_OK);
    CHECK(res.stopped_early && res.epochs < 200 && res.best_epoch == res.epochs - 3);
    double loss, m[3];
    CHECK(cg_evaluate_graph(&n.spec, val, 0, &loss, m) == CG_OK);
    CHECK_NEAR(m[0], res.best_val_acc, 1e-6); /* the best epoch's weights are back */

    net n2;
    build(&n2, 99); /* other starting weights */
    double m2[3];
    CHECK(cg_graph_load_weights(n2.g, path) == CG_OK);
    CHECK(cg_evaluate_graph(&n2.spec, val, 0, &loss, m2) == CG_OK);
    CHECK_NEAR(m2[0], res.best_val_acc, 1e-6);

    /* A graph with another layer is not that file's model. */
    cg_graph *g3 = cg_graph_new();
    cg_variable(g3, "h.weight", 2, (int[]){D, 16}, NULL);
    CHECK(cg_graph_load_weights(g3, path) == CG_ERR_FORMAT);
    CHECK_ERROR("is not part of the graph");
    cg_variable(g3, "h.bias", 1, (int[]){16}, NULL);
    cg_variable(g3, "out.weight", 2, (int[]){16, 2}, NULL);
    CHECK(cg_graph_load_weights(g3, path) == CG_ERR_SHAPE);
    CHECK_ERROR("out.weight");
    cg_variable(g3, "extra", 1, (int[]){2}, NULL);
    CHECK(cg_graph_load_weights(g3, path) != CG_OK);
    cg_graph_free(g3);
    remove(path);
    cg_optimizer_free(o);
    cg_graph_free(n.g);
    cg_graph_free(n2.g);
}

/* A run stopped after 2 epochs and resumed from its checkpoint (plain SGD
 * keeps no state) ends with the weights of a run of 4 epochs. */
static void test_resume(const cg_tensor_dataset *train)
{
    char path[64];
    snprintf(path, sizeof path, "fit_graph_resume_%d.safetensors", (int)getpid());
    net whole, first, second;
    build(&whole, 6);
    build(&first, 6);
    build(&second, 77);
    cg_optimizer *o1 = cg_sgd(0.05), *o2 = cg_sgd(0.05), *o3 = cg_sgd(0.05);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 4;
    opt.seed = 12;
    CHECK(cg_fit_graph(&whole.spec, o1, train, NULL, &opt, NULL) == CG_OK);
    opt.epochs = 2;
    opt.checkpoint = path; /* no validation: written every epoch */
    CHECK(cg_fit_graph(&first.spec, o2, train, NULL, &opt, NULL) == CG_OK);
    CHECK(cg_graph_load_weights(second.g, path) == CG_OK);
    opt.checkpoint = NULL;
    opt.epochs = 4;
    opt.initial_epoch = 2;
    cg_fit_result res;
    CHECK(cg_fit_graph(&second.spec, o3, train, NULL, &opt, &res) == CG_OK);
    CHECK(res.epochs == 4);
    CHECK(memcmp(cg_graph_params(whole.g), cg_graph_params(second.g),
                 cg_graph_param_count(whole.g) * sizeof(cg_real)) == 0);
    remove(path);
    cg_optimizer_free(o1);
    cg_optimizer_free(o2);
    cg_optimizer_free(o3);
    cg_graph_free(whole.g);
    cg_graph_free(first.g);
    cg_graph_free(second.g);
}

/* params = the output layer: the hidden layer does not move, even under
 * decoupled weight decay; the output layer does. */
static void test_fixed(const cg_tensor_dataset *train)
{
    net n;
    build(&n, 3);
    cg_node *hw = cg_graph_find(n.g, "h.weight"), *ow = cg_graph_find(n.g, "out.weight");
    cg_node *train_only[] = {ow, cg_graph_find(n.g, "out.bias")};
    n.spec.params = train_only;
    n.spec.n_params = 2;
    cg_real h0[D * 16], o0[16];
    memcpy(h0, cg_node_value(hw), sizeof h0);
    memcpy(o0, cg_node_value(ow), sizeof o0);
    cg_optimizer *o = cg_adamw(1e-2, 0.1);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 2;
    CHECK(cg_fit_graph(&n.spec, o, train, NULL, &opt, NULL) == CG_OK);
    CHECK(memcmp(h0, cg_node_value(hw), sizeof h0) == 0);
    CHECK(memcmp(o0, cg_node_value(ow), sizeof o0) != 0);
    cg_node *bad[] = {n.out};
    n.spec.params = bad;
    n.spec.n_params = 1;
    CHECK(cg_fit_graph(&n.spec, o, train, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("params[0] is not a variable");
    cg_optimizer_free(o);
    cg_graph_free(n.g);
}

/* A cg_model's graph through cg_fit_graph learns bit for bit what cg_fit
 * learns: the classifier is one case of the same loop. */
static void test_same_as_cg_fit(void)
{
    cg_dataset ds, tr, va;
    CHECK(cg_make_blobs(60, 3, 4, 2.0, 5, &ds) == CG_OK);
    CHECK(cg_dataset_split(&ds, 0.25, 1, &tr, &va) == CG_OK);
    cg_model *m[2];
    cg_fit_result res[2];
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 4;
    opt.batch_size = 16;
    opt.seed = 9;
    for (int k = 0; k < 2; k++) {
        m[k] = cg_model_new(4, 3, 7);
        CHECK(cg_model_add_dense(m[k], 8) == CG_OK);
        CHECK(cg_model_add_activation(m[k], CG_RELU) == CG_OK);
        CHECK(cg_model_build(m[k]) == CG_OK);
    }
    cg_optimizer *o1 = cg_adam_default(1e-2), *o2 = cg_adam_default(1e-2);
    CHECK(cg_fit(m[0], o1, &tr, &va, NULL, &opt, &res[0]) == CG_OK);

    /* The same rows as named arrays: "x" features, "y" class indices. */
    cg_real *x = malloc(sizeof(cg_real) * (size_t)(tr.n + va.n) * 4);
    cg_real *y = malloc(sizeof(cg_real) * (size_t)(tr.n + va.n));
    for (int i = 0; i < tr.n * 4; i++) x[i] = tr.x_f32[i];
    for (int i = 0; i < va.n * 4; i++) x[tr.n * 4 + i] = va.x_f32[i];
    for (int i = 0; i < tr.n; i++) y[i] = (cg_real)tr.y[i];
    for (int i = 0; i < va.n; i++) y[tr.n + i] = (cg_real)va.y[i];
    cg_tensor_dataset all = {0}, t, v;
    CHECK(cg_tensor_dataset_add(&all, "x", x, tr.n + va.n, 4) == CG_OK);
    CHECK(cg_tensor_dataset_add(&all, "y", y, tr.n + va.n, 1) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, 0, tr.n, &t) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, tr.n, va.n, &v) == CG_OK);
    cg_fit_spec spec = {.loss = cg_model_loss(m[1]), .n_metrics = 1,
                        .metrics = {{"acc", CG_METRIC_ACCURACY, cg_model_logits(m[1]),
                                     cg_model_labels(m[1])}},
                        .monitor = "acc"};
    CHECK(cg_fit_graph(&spec, o2, &t, &v, &opt, &res[1]) == CG_OK);
    CHECK(res[0].train_loss == res[1].train_loss && res[0].val_loss == res[1].val_loss);
    CHECK(res[0].train_acc == res[1].train_acc && res[0].val_acc == res[1].val_acc);
    CHECK(res[0].best_val_acc == res[1].best_val_acc && res[0].val_acc > 0.9);
    CHECK(res[0].n_metrics == 1 && res[0].val_metrics[0] == res[0].val_acc);
    const size_t np = cg_graph_param_count(cg_model_graph(m[0]));
    CHECK(memcmp(cg_graph_params(cg_model_graph(m[0])), cg_graph_params(cg_model_graph(m[1])),
                 np * sizeof(cg_real)) == 0);
    /* A model checkpoint (with optimizer moments and input statistics)
     * loads into a graph of the same layers. */
    char path[64];
    snprintf(path, sizeof path, "fit_graph_model_%d.safetensors", (int)getpid());
    cg_normalizer nz;
    CHECK(cg_normalizer_fit(&nz, &tr, 1) == CG_OK);
    CHECK(cg_checkpoint_save(path, m[0], o1, &nz, NULL) == CG_OK);
    cg_model *m3 = cg_model_new(4, 3, 1234);
    CHECK(cg_model_add_dense(m3, 8) == CG_OK && cg_model_add_activation(m3, CG_RELU) == CG_OK);
    CHECK(cg_graph_load_weights(cg_model_graph(m3), path) == CG_OK);
    CHECK(memcmp(cg_graph_params(cg_model_graph(m[0])), cg_graph_params(cg_model_graph(m3)),
                 np * sizeof(cg_real)) == 0);
    remove(path);
    cg_model_free(m3);
    cg_normalizer_free(&nz);
    free(x);
    free(y);
    for (int k = 0; k < 2; k++) cg_model_free(m[k]);
    cg_optimizer_free(o1);
    cg_optimizer_free(o2);
    cg_dataset_free(&ds);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
}

/* Binary accuracy: logits > 0 against targets > 0.5. */
static void test_binary_accuracy(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *z = cg_placeholder(g, "z", 2, (int[]){CG_BATCH, 2});
    cg_node *t = cg_placeholder(g, "t", 2, (int[]){CG_BATCH, 2});
    cg_node *w = cg_scalar_variable(g, "w", 1);
    cg_node *logits = cg_mul(z, w);
    cg_fit_spec spec = {.loss = cg_bce_with_logits_loss(logits, t), .n_metrics = 1,
                        .metrics = {{NULL, CG_METRIC_ACCURACY, logits, t}}};
    const cg_real zv[] = {1, -1, 2, 3, -0.5f, -2}, tv[] = {1, 0, 0, 1, 1, 0};
    cg_tensor_dataset ds = {0};
    CHECK(cg_tensor_dataset_add(&ds, "z", zv, 3, 2) == CG_OK);
    CHECK(cg_tensor_dataset_add(&ds, "t", tv, 3, 2) == CG_OK);
    double loss, acc;
    CHECK(cg_evaluate_graph(&spec, &ds, 2, &loss, &acc) == CG_OK);
    CHECK_NEAR(acc, 4.0 / 6.0, 1e-12);
    cg_graph_free(g);
}

/* Bad specs and data: each a clear error. */
static void test_errors(const cg_tensor_dataset *train, const cg_tensor_dataset *val)
{
    net n;
    build(&n, 4);
    cg_optimizer *o = cg_adam_default(1e-3);
    cg_fit_options opt;
    cg_fit_options_init(&opt);
    opt.epochs = 1;

    n.spec.monitor = "accuracy";
    CHECK(cg_fit_graph(&n.spec, o, train, val, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("monitor \"accuracy\" names no metric");
    n.spec.monitor = NULL;

    cg_tensor_dataset bad = *train;
    bad.arrays[1].name = "target";
    CHECK(cg_fit_graph(&n.spec, o, &bad, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("array 'target' names no placeholder");
    bad = *train;
    bad.count = 1; /* no "y" */
    CHECK(cg_fit_graph(&n.spec, o, &bad, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("no array for placeholder 'y'");
    bad = *train;
    bad.arrays[0].width = 2;
    CHECK(cg_fit_graph(&n.spec, o, &bad, NULL, &opt, NULL) == CG_ERR_SHAPE);
    CHECK_ERROR("'x' has 2 values per row, the placeholder takes 3");

    cg_real ynan[N];
    memcpy(ynan, train->arrays[1].data, sizeof(cg_real) * (size_t)train->n);
    ynan[5] = NAN;
    bad = *train;
    bad.arrays[1].data = ynan;
    CHECK(cg_fit_graph(&n.spec, o, train, &bad, &opt, NULL) == CG_ERR_NUMERIC);
    CHECK_ERROR("validation set's array 'y' has nan at row 5");

    cg_fit_spec s2 = n.spec;
    s2.loss = cg_square(n.out); /* [batch, 1]: not a scalar */
    CHECK(cg_fit_graph(&s2, o, train, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("must be a scalar");
    s2 = n.spec;
    s2.metrics[0].pred = cg_square(n.out); /* not computed by the loss */
    CHECK(cg_fit_graph(&s2, o, train, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("which the loss does not depend on");
    s2 = n.spec;
    s2.metrics[0].target = n.x; /* 3 values per row against 1 */
    CHECK(cg_fit_graph(&s2, o, train, NULL, &opt, NULL) == CG_ERR_SHAPE);
    CHECK_ERROR("pred has 1 values per row, target 3");
    s2 = n.spec;
    s2.metrics[1].name = "rmse";
    CHECK(cg_fit_graph(&s2, o, train, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("two metrics are named 'rmse'");

    opt.patience = 2;
    CHECK(cg_fit_graph(&n.spec, o, train, NULL, &opt, NULL) == CG_ERR_ARG);
    CHECK_ERROR("needs a validation set");
    opt.patience = 0;

    cg_tensor_dataset ds = {0}, rows;
    CHECK(cg_tensor_dataset_add(&ds, "x", ynan, N, 1) == CG_OK);
    CHECK(cg_tensor_dataset_add(&ds, "x", ynan, N, 1) == CG_ERR_ARG);
    CHECK(cg_tensor_dataset_add(&ds, "y", ynan, N - 1, 1) == CG_ERR_ARG);
    CHECK_ERROR("has 399 rows, the data set's arrays 400");
    CHECK(cg_tensor_dataset_rows(&ds, N - 10, 11, &rows) == CG_ERR_ARG);

    /* A checkpoint that cannot be written stops training with the reason. */
    opt.checkpoint = "no-such-dir/fit.safetensors";
    CHECK(cg_fit_graph(&n.spec, o, train, NULL, &opt, NULL) == CG_ERR_IO);
    CHECK_ERROR("no-such-dir/fit.safetensors");
    opt.checkpoint = NULL;

    /* A rate far too high diverges, with the usual advice. */
    cg_optimizer *wild = cg_sgd(1e4);
    opt.epochs = 5;
    CHECK(cg_fit_graph(&n.spec, wild, train, NULL, &opt, NULL) == CG_ERR_DIVERGED);
    CHECK_ERROR("try a lower learning rate");
    cg_optimizer_free(wild);
    cg_optimizer_free(o);
    cg_graph_free(n.g);
}

int main(void)
{
    static cg_real x[N * D], y[N];
    make_data(x, y, 1);
    cg_tensor_dataset all = {0}, train, val;
    CHECK(cg_tensor_dataset_add(&all, "x", x, N, D) == CG_OK);
    CHECK(cg_tensor_dataset_add(&all, "y", y, N, 1) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, 0, 300, &train) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, 300, 100, &val) == CG_OK);
    CHECK(val.arrays[1].data == y + 300 && val.n == 100);

    test_metrics(&train, &val, y + 300);
    test_early_stop_checkpoint(&train, &val);
    test_resume(&train);
    test_fixed(&train);
    test_same_as_cg_fit();
    test_binary_accuracy();
    test_errors(&train, &val);
    return check_failures ? 1 : 0;
}
