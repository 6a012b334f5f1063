/* SPDX-License-Identifier: MIT */
/* test_batchnorm.c: batch norm and dropout behaviour beyond their gradient
 * checks: batch statistics in training, running averages (PyTorch's
 * momentum and unbiased-variance convention), inference independent of the
 * batch, the batch-of-1 error, and dropout's expectation. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

typedef struct bn_net {
    cg_graph *g;
    cg_node *x, *gamma, *beta, *rm, *rv, *y;
} bn_net;

static void build(bn_net *b, int n, cg_real momentum)
{
    b->g = cg_graph_new();
    b->x = cg_placeholder(b->g, "x", 2, (int[]){CG_BATCH, n});
    cg_real ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    b->gamma = cg_variable(b->g, "gamma", 1, (int[]){n}, ones);
    b->beta = cg_variable(b->g, "beta", 1, (int[]){n}, NULL);
    b->rm = cg_state(b->g, "running_mean", 1, (int[]){n}, NULL);
    b->rv = cg_state(b->g, "running_var", 1, (int[]){n}, ones);
    b->y = cg_batch_norm(b->x, b->gamma, b->beta, b->rm, b->rv, momentum, (cg_real)1e-5);
}

static void test_training_statistics(void)
{
    bn_net b;
    build(&b, 2, (cg_real)0.1);
    CHECK(b.y != NULL);
    /* column 0: 1,2,3,4 (mean 2.5, biased var 1.25); column 1: constant 7 */
    cg_real x[8] = {1, 7, 2, 7, 3, 7, 4, 7};
    CHECK(cg_feed(b.x, x, 4) == CG_OK);
    CHECK(cg_forward(b.y) == CG_OK);
    const cg_real *y = cg_node_value(b.y);
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(y[2 * i], (x[2 * i] - 2.5) / sqrt(1.25 + 1e-5), 1e-5);
        CHECK_NEAR(y[2 * i + 1], 0, 1e-6);
    }
    /* running = 0.9 * running + 0.1 * batch; the variance unbiased (4/3). */
    const cg_real *rm = cg_node_value(b.rm), *rv = cg_node_value(b.rv);
    CHECK_NEAR(rm[0], 0.25, 1e-6);
    CHECK_NEAR(rm[1], 0.7, 1e-6);
    CHECK_NEAR(rv[0], 0.9 + 0.1 * 1.25 * 4 / 3, 1e-6);
    CHECK_NEAR(rv[1], 0.9, 1e-6);
    cg_graph_free(b.g);
}

static void test_inference_independent_of_batch(void)
{
    bn_net b;
    build(&b, 3, (cg_real)0.1);
    cg_rng r;
    cg_rng_seed(&r, 7);
    enum { M = 1000 };
    cg_real *x = malloc(sizeof(cg_real) * M * 3), *all = malloc(sizeof(cg_real) * M * 3);
    for (int i = 0; i < M * 3; i++) x[i] = (cg_real)(3 * cg_rng_normal(&r) + 1);
    /* a few training batches to move the running statistics */
    for (int k = 0; k < 5; k++) {
        CHECK(cg_feed(b.x, x + k * 30, 10) == CG_OK);
        CHECK(cg_forward(b.y) == CG_OK);
    }
    cg_graph_set_training(b.g, 0);
    CHECK(cg_feed(b.x, x, M) == CG_OK);
    CHECK(cg_forward(b.y) == CG_OK);
    for (int i = 0; i < M * 3; i++) all[i] = cg_node_value(b.y)[i];
    int same = 1;
    for (int i = 0; i < M; i += 97) {
        CHECK(cg_feed(b.x, x + 3 * i, 1) == CG_OK);
        CHECK(cg_forward(b.y) == CG_OK);
        for (int j = 0; j < 3; j++) same &= cg_node_value(b.y)[j] == all[3 * i + j];
    }
    CHECK(same); /* bit for bit */
    /* inference does not touch the running statistics */
    cg_real rm0 = cg_node_value(b.rm)[0];
    CHECK(cg_forward(b.y) == CG_OK);
    CHECK(cg_node_value(b.rm)[0] == rm0);
    free(x);
    free(all);
    cg_graph_free(b.g);
}

static void test_batch_of_one_is_an_error(void)
{
    bn_net b;
    build(&b, 2, (cg_real)0.1);
    cg_real x[2] = {1, 2};
    CHECK(cg_feed(b.x, x, 1) == CG_OK);
    CHECK(cg_forward(b.y) != CG_OK);
    CHECK_ERROR("batch_norm");
    CHECK_ERROR("batch of 1");
    CHECK_ERROR("variance");
    cg_graph_set_training(b.g, 0);
    CHECK(cg_forward(b.y) == CG_OK); /* inference is fine */
    CHECK(isfinite(cg_node_value(b.y)[0]));
    cg_graph_free(b.g);
}

static void test_bad_arguments(void)
{
    bn_net b;
    build(&b, 2, (cg_real)0.1);
    CHECK(cg_batch_norm(b.x, b.gamma, b.beta, b.rm, b.rv, (cg_real)1.5, (cg_real)1e-5) == NULL);
    CHECK_ERROR("momentum");
    CHECK(cg_batch_norm(b.x, b.gamma, b.beta, b.rm, b.rv, (cg_real)0.1, 0) == NULL);
    CHECK_ERROR("eps");
    cg_node *wrong = cg_variable(b.g, "wrong", 1, (int[]){3}, NULL);
    CHECK(cg_batch_norm(b.x, wrong, b.beta, b.rm, b.rv, (cg_real)0.1, (cg_real)1e-5) == NULL);
    CHECK_ERROR("gamma");
    CHECK(cg_batch_norm(b.x, b.gamma, b.beta, b.gamma, b.rv, (cg_real)0.1, (cg_real)1e-5) == NULL);
    CHECK_ERROR("running");
    cg_graph_free(b.g);
}

static void test_dropout(void)
{
    cg_graph *g = cg_graph_new();
    enum { N = 200000 };
    cg_node *x = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, 1000});
    cg_node *y = cg_dropout(x, (cg_real)0.3);
    CHECK(y != NULL);
    cg_real *buf = cg_feed_buffer(x, N / 1000);
    for (int i = 0; i < N; i++) buf[i] = 2;
    cg_rng_seed(cg_graph_rng(g), 1);
    CHECK(cg_forward(y) == CG_OK);
    double sum = 0;
    int zeros = 0;
    for (int i = 0; i < N; i++) {
        cg_real v = cg_node_value(y)[i];
        sum += v;
        zeros += v == 0;
        CHECK(v == 0 || fabs(v - 2 / 0.7) < 1e-5);
    }
    /* E[y] = x; the zero fraction is p (standard error ~0.001 here). */
    CHECK_NEAR(sum / N, 2.0, 0.02);
    CHECK_NEAR((double)zeros / N, 0.3, 0.005);
    /* same seed, same mask */
    cg_real first = cg_node_value(y)[123];
    cg_rng_seed(cg_graph_rng(g), 1);
    CHECK(cg_forward(y) == CG_OK);
    CHECK(cg_node_value(y)[123] == first);
    /* inference: identity, deterministic */
    cg_graph_set_training(g, 0);
    CHECK(cg_forward(y) == CG_OK);
    int ident = 1;
    for (int i = 0; i < N; i++) ident &= cg_node_value(y)[i] == 2;
    CHECK(ident);
    CHECK(cg_dropout(x, 1) == NULL);
    CHECK_ERROR("dropout");
    CHECK(cg_dropout(x, -0.1f) == NULL);
    cg_graph_free(g);
}

int main(void)
{
    test_training_statistics();
    test_inference_independent_of_batch();
    test_batch_of_one_is_an_error();
    test_bad_arguments();
    test_dropout();
    CHECK_DONE();
}
