/* SPDX-License-Identifier: MIT */
/* test_model.c: dense layers, initialisers, the sequential model, fit,
 * evaluate, predict; and, when Fashion-MNIST is installed (and
 * CG_TEST_QUICK is unset), accuracy floors for softmax regression and an
 * MLP. */
#define _POSIX_C_SOURCE 200809L /* setenv-free; clock_gettime */
#include "cgrad.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FMNIST "/usr/share/datasets/fashion-mnist"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static cg_model *mlp(int in, int classes, uint64_t seed, int act)
{
    cg_model *m = cg_model_new(in, classes, seed);
    CHECK(m != NULL);
    CHECK(cg_model_add_dense(m, 256) == CG_OK);
    CHECK(cg_model_add_activation(m, act) == CG_OK);
    CHECK(cg_model_add_dense(m, 256) == CG_OK);
    CHECK(cg_model_add_activation(m, act) == CG_OK);
    return m;
}

static void test_init_and_names(void)
{
    cg_model *a = mlp(784, 10, 7, CG_RELU), *b = mlp(784, 10, 7, CG_RELU),
             *c = mlp(784, 10, 8, CG_RELU);
    cg_graph *ga = cg_model_graph(a), *gb = cg_model_graph(b), *gc = cg_model_graph(c);
    CHECK(ga && gb && gc);
    size_t n = cg_graph_param_count(ga);
    CHECK(n == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    CHECK(n == cg_graph_param_count(gb));
    CHECK(memcmp(cg_graph_params(ga), cg_graph_params(gb), n * sizeof(cg_real)) == 0);
    CHECK(memcmp(cg_graph_params(ga), cg_graph_params(gc), n * sizeof(cg_real)) != 0);

    cg_node *w = cg_graph_find(ga, "dense1.weight"), *bias = cg_graph_find(ga, "dense1.bias");
    CHECK(w && bias);
    CHECK(cg_node_ndim(w) == 2 && cg_node_dim(w, 0) == 784 && cg_node_dim(w, 1) == 256);
    CHECK(cg_node_ndim(bias) == 1 && cg_node_dim(bias, 0) == 256);
    CHECK(cg_graph_find(ga, "dense3.weight") != NULL);
    CHECK(cg_graph_find(ga, "x") == cg_model_input(a));
    CHECK(cg_graph_find(ga, "y") == cg_model_labels(a));
    CHECK(cg_graph_find(ga, "logits") == cg_model_logits(a));
    CHECK(cg_graph_find(ga, "loss") == cg_model_loss(a));
    CHECK(cg_graph_find(ga, "probs") == cg_model_probs(a));
    CHECK(cg_graph_find(ga, "pred") == cg_model_pred(a));
    /* He normal: std sqrt(2 / 784); biases zero. */
    const cg_real *wv = cg_node_value(w);
    double s = 0, s2 = 0;
    for (int i = 0; i < 784 * 256; i++) s += wv[i], s2 += (double)wv[i] * wv[i];
    double mean = s / (784 * 256), sd = sqrt(s2 / (784 * 256) - mean * mean);
    CHECK_NEAR(mean, 0, 0.002);
    CHECK_NEAR(sd, sqrt(2.0 / 784), 0.02 * sqrt(2.0 / 784));
    const cg_real *bv = cg_node_value(bias);
    int zero = 1;
    for (int i = 0; i < 256; i++) zero &= bv[i] == 0;
    CHECK(zero);
    /* Adding layers after the build is a state error. */
    CHECK(cg_model_add_dense(a, 3) == CG_ERR_STATE);

    /* Xavier uniform for tanh: within +-sqrt(6 / (784 + 256)), variance a^2/3. */
    cg_model *t = mlp(784, 10, 7, CG_TANH);
    cg_node *wt = cg_graph_find(cg_model_graph(t), "dense1.weight");
    CHECK(wt != NULL);
    double lim = sqrt(6.0 / (784 + 256)), mx = 0;
    s2 = 0;
    for (int i = 0; i < 784 * 256; i++) {
        double v = fabs((double)cg_node_value(wt)[i]);
        if (v > mx) mx = v;
        s2 += v * v;
    }
    CHECK(mx <= lim);
    CHECK_NEAR(s2 / (784 * 256), lim * lim / 3, 0.03 * lim * lim / 3);
    cg_model_free(t);

    /* The summary lists layers, parameter counts and the total. */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK(cg_model_summary(a, f) == CG_OK);
    rewind(f);
    char buf[4096];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    CHECK(strstr(buf, "dense1 (Dense)") != NULL);
    CHECK(strstr(buf, "(None, 256)") != NULL);
    CHECK(strstr(buf, "200960") != NULL); /* 784*256+256 */
    CHECK(strstr(buf, "65792") != NULL);  /* 256*256+256 */
    CHECK(strstr(buf, "2570") != NULL);   /* 256*10+10   */
    CHECK(strstr(buf, "Total params: 269322") != NULL);

    cg_model_free(a);
    cg_model_free(b);
    cg_model_free(c);
}

static void test_errors(void)
{
    CHECK(cg_model_new(0, 10, 1) == NULL);
    CHECK(cg_model_new(5, 1, 1) == NULL);
    cg_model *m = cg_model_new(4, 3, 1);
    CHECK(cg_model_add_dense(m, 0) == CG_ERR_ARG);
    CHECK(cg_model_add_activation(m, 99) == CG_ERR_ARG);
    CHECK(cg_dense(NULL, NULL, 3, CG_RELU, "d") == NULL);

    /* Features that do not match the model. */
    float xs[6 * 5] = {0};
    int32_t ys[6] = {0, 1, 2, 0, 1, 2};
    cg_dataset ds = {.n = 6, .d = 5, .n_classes = 3, .x_f32 = xs, .y = ys};
    cg_optimizer *o = cg_sgd(0.1);
    CHECK(cg_fit(m, o, &ds, NULL, NULL, NULL, NULL) == CG_ERR_SHAPE);
    CHECK_ERROR("5 features");
    /* A label beyond the classes. */
    ds.d = 4;
    ys[2] = 3;
    CHECK(cg_fit(m, o, &ds, NULL, NULL, NULL, NULL) == CG_ERR_ARG);
    CHECK_ERROR("label 3");
    ys[2] = 2;
    /* Divergence: large inputs (within cg_fit's 2^64) and a huge learning
     * rate give non-finite weights, then a non-finite loss. */
    for (int i = 0; i < 24; i++) xs[i] = (i % 2 ? 1e18f : -1e18f);
    cg_optimizer_free(o);
    o = cg_sgd(1e30);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 3;
    CHECK(cg_fit(m, o, &ds, NULL, NULL, &fo, NULL) == CG_ERR_DIVERGED);
    CHECK_ERROR("(diverged); try a lower learning rate");
    cg_optimizer_free(o);
    cg_model_free(m);
}

/* Three separable blobs: fit, evaluate, predict, callbacks, partial batch. */
static int calls, last_epoch;
static int count_epochs(const cg_epoch_metrics *e, void *user)
{
    (void)user;
    calls++;
    last_epoch = e->epoch;
    CHECK(isnan(e->val_loss) || e->val_loss >= 0);
    return e->epoch == 4; /* stop after 4 */
}

static void test_blobs(void)
{
    enum { N = 301, D = 2, C = 3 };
    static float xs[N * D];
    static int32_t ys[N];
    cg_rng r;
    cg_rng_seed(&r, 3);
    const float cx[C] = {-3, 3, 0}, cy[C] = {0, 0, 4};
    for (int i = 0; i < N; i++) {
        int k = i % C;
        ys[i] = k;
        xs[i * D] = cx[k] + 0.5f * (float)cg_rng_normal(&r);
        xs[i * D + 1] = cy[k] + 0.5f * (float)cg_rng_normal(&r);
    }
    cg_dataset ds = {.n = N, .d = D, .n_classes = C, .x_f32 = xs, .y = ys};
    cg_model *m = cg_model_new(D, C, 5);
    CHECK(cg_model_add_dense(m, 16) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_TANH) == CG_OK);
    cg_optimizer *o = cg_sgd(0.1);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 10;
    fo.batch_size = 32; /* 301 = 9 * 32 + 13: a partial last batch */
    fo.seed = 1;
    fo.on_epoch = count_epochs;
    cg_fit_result res;
    CHECK(cg_fit(m, o, &ds, &ds, NULL, &fo, &res) == CG_OK);
    CHECK(calls == 4 && last_epoch == 4 && res.epochs == 4);
    CHECK(res.train_acc > 0.95 && res.val_acc > 0.95);
    CHECK(res.examples_per_second > 0);
    double loss = -1, acc = -1;
    CHECK(cg_evaluate(m, &ds, NULL, 50, &loss, &acc) == CG_OK);
    CHECK(acc > 0.95 && loss > 0 && loss < 0.5);
    CHECK_NEAR(acc, res.val_acc, 1e-9);
    CHECK(cg_graph_training(cg_model_graph(m)) == 1);

    cg_real x[3 * D], probs[3 * C];
    int cls[3];
    for (int i = 0; i < 3; i++) x[i * D] = cx[i], x[i * D + 1] = cy[i];
    CHECK(cg_predict(m, x, 3, probs, cls) == CG_OK);
    for (int i = 0; i < 3; i++) {
        CHECK(cls[i] == i);
        CHECK_NEAR(probs[i * C] + probs[i * C + 1] + probs[i * C + 2], 1, 1e-5);
    }
    CHECK_NEAR(cg_accuracy(probs, (cg_real[]){0, 1, 1}, 3, C), 2.0 / 3, 1e-12);

    /* Same seeds, same run. */
    cg_model *m2 = cg_model_new(D, C, 5);
    cg_model_add_dense(m2, 16);
    cg_model_add_activation(m2, CG_TANH);
    fo.on_epoch = NULL;
    fo.epochs = 4;
    cg_optimizer *o2 = cg_sgd(0.1);
    CHECK(cg_fit(m2, o2, &ds, NULL, NULL, &fo, NULL) == CG_OK);
    cg_graph *g1 = cg_model_graph(m), *g2 = cg_model_graph(m2);
    CHECK(memcmp(cg_graph_params(g1), cg_graph_params(g2),
                 cg_graph_param_count(g1) * sizeof(cg_real)) == 0);
    cg_optimizer_free(o2);
    cg_model_free(m2);
    cg_optimizer_free(o);
    cg_model_free(m);
}

static void fashion(void)
{
    struct stat st;
    if (getenv("CG_TEST_QUICK") || stat(FMNIST, &st) != 0) {
        printf("SKIP: Fashion-MNIST training (%s)\n",
               getenv("CG_TEST_QUICK") ? "CG_TEST_QUICK set" : FMNIST " not installed");
        return;
    }
    cg_dataset train, test;
    CHECK(cg_load_dataset("fashion-mnist", NULL, 1, &train) == CG_OK);
    CHECK(cg_load_dataset("fashion-mnist", NULL, 0, &test) == CG_OK);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.seed = 42;
    double loss, acc, t0;

    /* Softmax regression: no hidden layer. */
    cg_model *m = cg_model_new(784, 10, 42);
    cg_optimizer *o = cg_sgd(0.1);
    fo.epochs = 10;
    fo.batch_size = 64;
    t0 = seconds();
    CHECK(cg_fit(m, o, &train, NULL, NULL, &fo, NULL) == CG_OK);
    CHECK(cg_evaluate(m, &test, NULL, 0, &loss, &acc) == CG_OK);
    printf("softmax regression, sgd 0.1, batch 64, 10 epochs: test loss %.4f acc %.4f (%.1fs)\n",
           loss, acc, seconds() - t0);
    CHECK(acc >= 0.83);
    cg_optimizer_free(o);
    cg_model_free(m);

    /* MLP 784-256-256-10, ReLU, Adam. */
    m = mlp(784, 10, 42, CG_RELU);
    o = cg_adam_default(1e-3);
    CHECK(o != NULL);
    CHECK(cg_optimizer_set_schedule(o, CG_LR_COSINE, (double[]){10, 0}) == CG_OK);
    fo.epochs = 10;
    fo.batch_size = 128;
    t0 = seconds();
    CHECK(cg_fit(m, o, &train, NULL, NULL, &fo, NULL) == CG_OK);
    CHECK(cg_evaluate(m, &test, NULL, 0, &loss, &acc) == CG_OK);
    printf("MLP 784-256-256-10 relu, adam 1e-3 cosine, batch 128, 10 epochs: test loss %.4f "
           "acc %.4f (%.1fs)\n", loss, acc, seconds() - t0);
    CHECK(acc >= 0.88);
    cg_optimizer_free(o);
    cg_model_free(m);
    cg_dataset_free(&train);
    cg_dataset_free(&test);
}

int main(void)
{
    test_init_and_names();
    test_errors();
    test_blobs();
    fashion();
    CHECK_DONE();
}
