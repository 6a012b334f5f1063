/* SPDX-License-Identifier: MIT */
/* test_cnn_fashion.c: a small CNN built from the graph API learns
 * Fashion-MNIST. conv 8x3x3 (same) -> ReLU -> max pool 2 -> conv 16x3x3
 * (same) -> ReLU -> max pool 2 -> flatten -> dense 10, softmax
 * cross-entropy, Adam (lr 2e-3), batch 64, seeded; trained on the first
 * TRAIN_N training images for EPOCHS epochs and scored on the first TEST_N
 * test images in inference mode. The floor sits above what a linear model
 * reaches on that little data (about 0.78), so passing needs the
 * convolutions to work. CG_TEST_QUICK=1 skips it (as the other Fashion-MNIST
 * runs). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <time.h>

#define TRAIN_N 6000
#define TEST_N 2000
#define EPOCHS 2
#define BATCH 64
#define FLOOR 0.80

#define SH(...) ((const int[]){__VA_ARGS__})

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A He-initialised weight of shape sh with the given fan-in. */
static cg_node *he(cg_graph *g, cg_rng *r, const char *name, int nd, const int *sh, int fan_in)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)sh[i];
    cg_real *v = malloc(n * sizeof *v);
    cg_init_he_normal(r, v, fan_in, (int)(n / (size_t)fan_in));
    cg_node *w = cg_variable(g, name, nd, sh, v);
    free(v);
    return w;
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
    CHECK(tr.rows == 28 && tr.cols == 28 && tr.d == 784 && tr.n >= TRAIN_N && te.n >= TEST_N);

    cg_rng r;
    cg_rng_seed(&r, 42);
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 4, SH(CG_BATCH, 1, 28, 28));
    cg_node *y = cg_placeholder(g, "y", 1, SH(CG_BATCH));
    cg_node *w1 = he(g, &r, "conv1.weight", 4, SH(8, 1, 3, 3), 9);
    cg_node *b1 = cg_variable(g, "conv1.bias", 1, SH(8), NULL);
    cg_node *w2 = he(g, &r, "conv2.weight", 4, SH(16, 8, 3, 3), 72);
    cg_node *b2 = cg_variable(g, "conv2.bias", 1, SH(16), NULL);
    cg_node *wd = he(g, &r, "dense.weight", 2, SH(16 * 7 * 7, 10), 16 * 7 * 7);
    cg_node *bd = cg_variable(g, "dense.bias", 1, SH(10), NULL);
    cg_node *h = cg_relu(cg_conv2d(x, w1, b1, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 1));
    h = cg_max_pool2d(h, 2, 2, 2, 2, 0, 0); /* [., 8, 14, 14] */
    h = cg_relu(cg_conv2d(h, w2, b2, 1, 1, 1, 1, 1, 1, 1));
    h = cg_max_pool2d(h, 2, 2, 2, 2, 0, 0); /* [., 16, 7, 7] */
    cg_node *logits = cg_add(cg_matmul(cg_flatten(h), wd, 0, 0), bd);
    cg_node *cost = cg_softmax_cross_entropy(logits, y);
    cg_node *pred = cg_argmax(logits);
    cg_optimizer *o = cg_adam_default(2e-3);
    CHECK(cost && pred && o);
    if (!cost || !pred || !o) {
        fprintf(stderr, "%s\n", cg_last_error());
        return 1;
    }

    int *idx = malloc(TRAIN_N * sizeof *idx);
    cg_real *labels = malloc(BATCH * sizeof *labels);
    for (int i = 0; i < TRAIN_N; i++) idx[i] = i;
    double t0 = now(), loss_sum = 0;
    int steps = 0;
    for (int e = 0; e < EPOCHS; e++) {
        cg_rng_shuffle(&r, idx, TRAIN_N);
        for (int s = 0; s + BATCH <= TRAIN_N; s += BATCH) {
            /* Gathered straight into the placeholder: [m, 784] is [m, 1, 28, 28]. */
            cg_real *xb = cg_feed_buffer(x, BATCH);
            CHECK(xb != NULL);
            if (!xb) break;
            cg_dataset_gather(&tr, NULL, idx + s, BATCH, xb, labels);
            CHECK(cg_feed(y, labels, BATCH) == CG_OK);
            cg_real loss;
            CHECK(cg_minimize_step(o, cost, &loss) == CG_OK);
            if (e == EPOCHS - 1) {
                loss_sum += loss;
                steps++;
            }
        }
    }
    double t1 = now();

    cg_graph_set_training(g, 0);
    int correct = 0;
    int tidx[250];
    cg_real tl[250];
    for (int s = 0; s < TEST_N; s += 250) {
        for (int i = 0; i < 250; i++) tidx[i] = s + i;
        cg_real *xb = cg_feed_buffer(x, 250);
        if (!xb) break;
        cg_dataset_gather(&te, NULL, tidx, 250, xb, tl);
        CHECK(cg_forward(pred) == CG_OK);
        for (int i = 0; i < 250; i++) correct += cg_node_value(pred)[i] == tl[i];
    }
    double acc = (double)correct / TEST_N;
    printf("CNN on %d Fashion-MNIST images, %d epochs: last-epoch loss %.4f, test accuracy "
           "%.4f (floor %.2f); training %.1f s (%.0f images/s)\n",
           TRAIN_N, EPOCHS, steps ? loss_sum / steps : NAN, acc, FLOOR, t1 - t0,
           EPOCHS * (TRAIN_N / BATCH * BATCH) / (t1 - t0));
    CHECK(acc >= FLOOR);

    free(idx);
    free(labels);
    cg_optimizer_free(o);
    cg_graph_free(g);
    cg_dataset_free(&tr);
    cg_dataset_free(&te);
    CHECK_DONE();
}
