/* SPDX-License-Identifier: MIT */
/* test_alloc.c: a training step allocates nothing. Memory is planned once
 * per batch size; after a warm-up step, feeding (by copy or in place),
 * forward, backward and the SGD update run on that plan alone. */
#include "check.h"

#include <cgrad.h>

#define SH(...) ((const int[]){__VA_ARGS__})
#define D 20
#define HID 16
#define C 4
#define MAXB 64

static cg_real xs[MAXB * D], ys[MAXB];

/* A learnable problem: the class is the argmax of a fixed linear map. */
static void make_batch(cg_rng *r, int m)
{
    for (int i = 0; i < m; i++) {
        double best = -1e30;
        int k = 0;
        for (int j = 0; j < D; j++) xs[i * D + j] = (cg_real)cg_rng_normal(r);
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int j = 0; j < D; j++) s += xs[i * D + j] * (double)((j * 7 + c * 3) % 5 - 2);
            if (s > best) { best = s; k = c; }
        }
        ys[i] = (cg_real)k;
    }
}

static cg_node *init_var(cg_graph *g, cg_rng *r, const char *name, int rows, int cols, double sd)
{
    static cg_real v[D * HID];
    int n = rows * cols;
    for (int i = 0; i < n; i++) v[i] = (cg_real)(sd * cg_rng_normal(r));
    return rows > 1 ? cg_variable(g, name, 2, SH(rows, cols), v)
                    : cg_variable(g, name, 1, SH(cols), v);
}

/* n steps of feed + minimize, alternating cg_feed and cg_feed_buffer. */
static int steps(cg_optimizer *o, cg_node *x, cg_node *y, cg_node *cost, int m, int n,
                 cg_real *loss)
{
    for (int s = 0; s < n; s++) {
        if (s % 2 == 0) {
            if (cg_feed(x, xs, m) || cg_feed(y, ys, m)) return -1;
        } else {
            cg_real *bx = cg_feed_buffer(x, m), *by = cg_feed_buffer(y, m);
            if (!bx || !by) return -1;
            memcpy(bx, xs, (size_t)m * D * sizeof(cg_real));
            memcpy(by, ys, (size_t)m * sizeof(cg_real));
        }
        if (cg_minimize_step(o, cost, loss)) return -1;
    }
    return 0;
}

int main(void)
{
    cg_rng r;
    cg_rng_seed(&r, 42);
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, D));
    cg_node *y = cg_placeholder(g, "y", 1, SH(CG_BATCH));
    cg_node *w1 = init_var(g, &r, "w1", D, HID, 0.3), *b1 = init_var(g, &r, "b1", 1, HID, 0);
    cg_node *w2 = init_var(g, &r, "w2", HID, C, 0.3), *b2 = init_var(g, &r, "b2", 1, C, 0);
    cg_node *h = cg_relu(cg_add(cg_matmul(x, w1, 0, 0), b1));
    cg_node *logits = cg_add(cg_matmul(h, w2, 0, 0), b2);
    cg_node *cost = cg_softmax_cross_entropy(logits, y);
    cg_optimizer *opt = cg_sgd(0.1);
    CHECK(cost != NULL && opt != NULL);
    if (!cost || !opt) {
        fprintf(stderr, "%s\n", cg_last_error());
        return 1;
    }

    /* Batch 32: one warm-up step plans memory, then 100 steps allocate nothing. */
    make_batch(&r, 32);
    cg_real first = 0, loss = 0;
    CHECK(steps(opt, x, y, cost, 32, 1, &first) == 0);
    size_t before = cg_alloc_count();
    CHECK(steps(opt, x, y, cost, 32, 100, &loss) == 0);
    CHECK(cg_alloc_count() == before);
    if (cg_alloc_count() != before)
        fprintf(stderr, "%zu allocations in 100 steps\n", cg_alloc_count() - before);
    /* It learns. */
    CHECK(loss < first * 0.5);
    if (!(loss < first * 0.5)) fprintf(stderr, "loss %g -> %g\n", (double)first, (double)loss);

    /* A larger batch re-plans once (at most one allocation: the arena grows). */
    make_batch(&r, 48);
    before = cg_alloc_count();
    CHECK(steps(opt, x, y, cost, 48, 1, NULL) == 0);
    CHECK(cg_alloc_count() - before <= 1);
    CHECK(cg_node_dim(logits, 0) == 48);
    before = cg_alloc_count();
    CHECK(steps(opt, x, y, cost, 48, 50, &loss) == 0);
    CHECK(cg_alloc_count() == before);

    /* A smaller batch fits the arena: no allocation at all, re-plan included. */
    make_batch(&r, 8);
    before = cg_alloc_count();
    CHECK(steps(opt, x, y, cost, 8, 50, &loss) == 0);
    CHECK(cg_alloc_count() == before);
    CHECK(cg_node_dim(logits, 0) == 8);
    CHECK(loss == loss && loss < first);

    /* Inference on the trained net allocates nothing either. */
    cg_node *pred = cg_argmax(logits); /* a new node: re-plans once */
    CHECK(pred != NULL);
    CHECK(cg_feed(x, xs, 8) == CG_OK && cg_forward(pred) == CG_OK);
    before = cg_alloc_count();
    for (int i = 0; i < 20; i++) CHECK(cg_feed(x, xs, 8) == CG_OK && cg_forward(pred) == CG_OK);
    CHECK(cg_alloc_count() == before);

    cg_optimizer_free(opt);
    cg_graph_free(g);
    CHECK_DONE();
}
