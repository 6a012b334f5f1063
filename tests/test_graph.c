/* SPDX-License-Identifier: MIT */
/* test_graph.c: forward values of every op on hand-computed inputs,
 * feeding, batch changes, the graph dump and the parameter buffer. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <string.h>

#define SH(...) ((const int[]){__VA_ARGS__})
#define TOL 1e-5

/* Evaluate y and compare its values with want[0..n). */
static void check_values(cg_node *y, const double *want, size_t n, double tol, int line)
{
    if (!y || cg_forward(y) != CG_OK) {
        fprintf(stderr, "line %d: %s\n", line, cg_last_error());
        check_failures++;
        return;
    }
    if (cg_node_size(y) != n) {
        fprintf(stderr, "line %d: size %zu, want %zu\n", line, cg_node_size(y), n);
        check_failures++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double v = cg_node_value(y)[i];
        if (!(fabs(v - want[i]) <= tol)) {
            fprintf(stderr, "line %d: element %zu is %.9g, want %.9g\n", line, i, v, want[i]);
            check_failures++;
        }
    }
}
#define VALUES(y, tol, ...)                                                          \
    check_values((y), (const double[]){__VA_ARGS__},                                \
                 sizeof((const double[]){__VA_ARGS__}) / sizeof(double), (tol), __LINE__)

static void test_binary(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 2, 3, 4, 5, 6});
    cg_node *b = cg_constant(g, 2, SH(2, 3), (const cg_real[]){6, 5, 4, 3, 2, 1});
    cg_node *s = cg_scalar(g, 2);
    cg_node *row = cg_constant(g, 1, SH(3), (const cg_real[]){10, 20, 30});
    cg_node *row2 = cg_constant(g, 2, SH(1, 3), (const cg_real[]){1, 2, 4});
    cg_node *col = cg_constant(g, 2, SH(2, 1), (const cg_real[]){100, 200});

    VALUES(cg_add(a, b), TOL, 7, 7, 7, 7, 7, 7);
    VALUES(cg_sub(a, b), TOL, -5, -3, -1, 1, 3, 5);
    VALUES(cg_mul(a, b), TOL, 6, 10, 12, 12, 10, 6);
    VALUES(cg_div(a, b), TOL, 1.0 / 6, 0.4, 0.75, 4.0 / 3, 2.5, 6);
    VALUES(cg_add(a, s), TOL, 3, 4, 5, 6, 7, 8);
    VALUES(cg_sub(s, a), TOL, 1, 0, -1, -2, -3, -4);
    VALUES(cg_div(a, s), TOL, 0.5, 1, 1.5, 2, 2.5, 3);
    VALUES(cg_div(s, a), TOL, 2, 1, 2.0 / 3, 0.5, 0.4, 1.0 / 3);
    VALUES(cg_add(a, row), TOL, 11, 22, 33, 14, 25, 36);
    VALUES(cg_sub(row, a), TOL, 9, 18, 27, 6, 15, 24);
    VALUES(cg_mul(a, row2), TOL, 1, 4, 12, 4, 10, 24);
    VALUES(cg_div(row2, a), TOL, 1, 1, 4.0 / 3, 0.25, 0.4, 4.0 / 6);
    VALUES(cg_sub(a, col), TOL, -99, -98, -97, -196, -195, -194);
    VALUES(cg_div(col, a), TOL, 100, 50, 100.0 / 3, 50, 40, 200.0 / 6);
    cg_node *y = cg_add(a, row);
    CHECK(cg_node_ndim(y) == 2 && cg_node_dim(y, 0) == 2 && cg_node_dim(y, 1) == 3);
    y = cg_add(row, a);
    CHECK(cg_node_ndim(y) == 2 && cg_node_dim(y, 0) == 2 && cg_node_dim(y, 1) == 3);
    cg_graph_free(g);
}

static void test_unary(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_constant(g, 1, SH(4), (const cg_real[]){-2, -0.5, 0.5, 3});
    cg_node *p = cg_constant(g, 1, SH(3), (const cg_real[]){0.25, 1, 4});
    VALUES(cg_neg(x), TOL, 2, 0.5, -0.5, -3);
    VALUES(cg_square(x), TOL, 4, 0.25, 0.25, 9);
    VALUES(cg_pow(x, 3), 1e-5, -8, -0.125, 0.125, 27);
    VALUES(cg_pow(p, 0.5), TOL, 0.5, 1, 2);
    VALUES(cg_pow(p, -1), TOL, 4, 1, 0.25);
    VALUES(cg_exp(x), 1e-5, exp(-2), exp(-0.5), exp(0.5), exp(3));
    VALUES(cg_log(p), TOL, log(0.25), 0, log(4));
    VALUES(cg_sqrt(p), TOL, 0.5, 1, 2);
    VALUES(cg_relu(x), TOL, 0, 0, 0.5, 3);
    VALUES(cg_sigmoid(x), TOL, 1 / (1 + exp(2)), 1 / (1 + exp(0.5)), 1 / (1 + exp(-0.5)),
           1 / (1 + exp(-3)));
    VALUES(cg_tanh(x), TOL, tanh(-2), tanh(-0.5), tanh(0.5), tanh(3));
    /* Extremes stay finite. */
    cg_node *big = cg_constant(g, 1, SH(3), (const cg_real[]){-1000, 0, 1000});
    VALUES(cg_sigmoid(big), 0, 0, 0.5, 1);
    VALUES(cg_tanh(big), 0, -1, 0, 1);
    VALUES(cg_relu(big), 0, 0, 0, 1000);
    cg_graph_free(g);
}

static void test_matmul(void)
{
    cg_graph *g = cg_graph_new();
    /* A [2,3], B [3,2]; A B = [[4, 5], [10, 11]]. */
    cg_node *A = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 2, 3, 4, 5, 6});
    cg_node *B = cg_constant(g, 2, SH(3, 2), (const cg_real[]){1, 0, 0, 1, 1, 1});
    cg_node *At = cg_constant(g, 2, SH(3, 2), (const cg_real[]){1, 4, 2, 5, 3, 6});
    cg_node *Bt = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 0, 1, 0, 1, 1});
    VALUES(cg_matmul(A, B, 0, 0), TOL, 4, 5, 10, 11);
    VALUES(cg_matmul(At, B, 1, 0), TOL, 4, 5, 10, 11);
    VALUES(cg_matmul(A, Bt, 0, 1), TOL, 4, 5, 10, 11);
    VALUES(cg_matmul(At, Bt, 1, 1), TOL, 4, 5, 10, 11);
    /* B A = [3,3]. */
    cg_node *BA = cg_matmul(B, A, 0, 0);
    CHECK(cg_node_dim(BA, 0) == 3 && cg_node_dim(BA, 1) == 3);
    VALUES(BA, TOL, 1, 2, 3, 4, 5, 6, 5, 7, 9);
    cg_graph_free(g);
}

static void test_reduce_and_shape(void)
{
    cg_graph *g = cg_graph_new();
    cg_real v[24];
    for (int i = 0; i < 24; i++) v[i] = (cg_real)i;
    cg_node *x = cg_constant(g, 3, SH(2, 3, 4), v);
    VALUES(cg_sum(x), TOL, 276);
    VALUES(cg_mean(x), TOL, 11.5);
    VALUES(cg_sum_axis(x, 0), TOL, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34);
    VALUES(cg_sum_axis(x, 1), TOL, 12, 15, 18, 21, 48, 51, 54, 57);
    VALUES(cg_sum_axis(x, 2), TOL, 6, 22, 38, 54, 70, 86);
    VALUES(cg_mean_axis(x, 1), TOL, 4, 5, 6, 7, 16, 17, 18, 19);
    VALUES(cg_mean_axis(x, 2), TOL, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5);
    cg_node *s1 = cg_sum_axis(x, 1);
    CHECK(cg_node_ndim(s1) == 2 && cg_node_dim(s1, 0) == 2 && cg_node_dim(s1, 1) == 4);
    CHECK(cg_node_ndim(cg_sum(x)) == 0);

    cg_node *r = cg_reshape(x, 2, SH(-1, 6));
    CHECK(r && cg_node_dim(r, 0) == 4 && cg_node_dim(r, 1) == 6);
    VALUES(cg_index(r, 1), TOL, 6, 7, 8, 9, 10, 11);
    VALUES(cg_index(x, 1), TOL, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    VALUES(cg_index(cg_index(cg_index(x, 1), 2), 3), TOL, 23);
    cg_node *sl = cg_slice(r, 2, 2);
    CHECK(sl && cg_node_dim(sl, 0) == 2 && cg_node_dim(sl, 1) == 6);
    VALUES(sl, TOL, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    cg_graph_free(g);
}

static void test_softmax(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *z = cg_constant(g, 2, SH(1, 4), (const cg_real[]){5, 2, -1, 3});
    VALUES(cg_softmax(z), 5e-4, 0.842, 0.042, 0.002, 0.114);
    double lse = log(exp(5) + exp(2) + exp(-1) + exp(3));
    VALUES(cg_log_softmax(z), 1e-5, 5 - lse, 2 - lse, -1 - lse, 3 - lse);

    /* Rows of +-1000: finite and right. */
    cg_node *big = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1000, -1000, 0, -1000, -1000, -1000});
    VALUES(cg_softmax(big), 1e-6, 1, 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3);
    VALUES(cg_log_softmax(big), 1e-3, 0, -2000, -1000, -log(3), -log(3), -log(3));
    cg_node *lab = cg_constant(g, 1, SH(2), (const cg_real[]){1, 2});
    VALUES(cg_softmax_cross_entropy(big, lab), 1e-2, (2000 + log(3)) / 2);

    /* Two classes: softmax = sigmoid of the difference. */
    const cg_real zz[6] = {0.3, -1.2, 2, 2, -4, 1.5};
    cg_node *z2 = cg_constant(g, 2, SH(3, 2), zz);
    cg_node *sm = cg_softmax(z2);
    CHECK(cg_forward(sm) == CG_OK);
    for (int i = 0; i < 3; i++) {
        double d = (double)zz[2 * i + 1] - zz[2 * i];
        CHECK_NEAR(cg_node_value(sm)[2 * i + 1], 1 / (1 + exp(-d)), 1e-6);
        CHECK_NEAR(cg_node_value(sm)[2 * i], 1 / (1 + exp(d)), 1e-6);
    }

    /* Cross-entropy: index labels, one-hot rows, probability rows. */
    cg_node *zl = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 2, 3, 0, 0, 0});
    double l0 = log(exp(1) + exp(2) + exp(3));
    cg_node *idx = cg_constant(g, 1, SH(2), (const cg_real[]){0, 2});
    VALUES(cg_softmax_cross_entropy(zl, idx), 1e-5, ((l0 - 1) + log(3)) / 2);
    cg_node *oh = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 0, 0, 0, 0, 1});
    VALUES(cg_softmax_cross_entropy(zl, oh), 1e-5, ((l0 - 1) + log(3)) / 2);
    cg_node *pr = cg_constant(g, 2, SH(2, 3), (const cg_real[]){0.5, 0.5, 0, 0.2, 0.3, 0.5});
    VALUES(cg_softmax_cross_entropy(zl, pr), 1e-5, (0.5 * (l0 - 1) + 0.5 * (l0 - 2) + log(3)) / 2);

    /* Binary cross-entropy on logits, including extremes. */
    cg_node *bz = cg_constant(g, 1, SH(3), (const cg_real[]){0, 2, -1});
    cg_node *by = cg_constant(g, 1, SH(3), (const cg_real[]){1, 0, 0.25});
    double want = (log(2) + (2 + log1p(exp(-2))) + (0.25 + log1p(exp(-1)))) / 3;
    VALUES(cg_sigmoid_cross_entropy(bz, by), 1e-5, want);
    cg_node *ez = cg_constant(g, 1, SH(2), (const cg_real[]){1000, -1000});
    cg_node *ey = cg_constant(g, 1, SH(2), (const cg_real[]){1, 1});
    VALUES(cg_sigmoid_cross_entropy(ez, ey), 1e-3, 500);

    /* argmax / hardmax, ties to the lowest index. */
    cg_node *t = cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 3, 3, -5, -6, -7});
    VALUES(cg_argmax(t), 0, 1, 0);
    VALUES(cg_hardmax(t), 0, 0, 1, 0, 1, 0, 0);
    cg_graph_free(g);
}

static void test_feeding(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, SH(2, 2));
    cg_node *w = cg_variable(g, "w", 2, SH(2, 1), (const cg_real[]){1, -1});
    cg_node *y = cg_matmul(x, w, 0, 0);
    CHECK(cg_feed(x, (const cg_real[]){3, 1, 5, 7}, 2) == CG_OK);
    VALUES(y, TOL, 2, -2);
    CHECK(cg_feed_by_name(g, "x", (const cg_real[]){1, 1, 4, 0}, 2) == CG_OK);
    VALUES(y, TOL, 0, 4);
    cg_real *buf = cg_feed_buffer(x, 2);
    CHECK(buf != NULL);
    if (buf) {
        buf[0] = 10; buf[1] = 1; buf[2] = 0; buf[3] = 2;
        VALUES(y, TOL, 9, -2);
    }
    CHECK(cg_graph_find(g, "x") == x && cg_graph_find(g, "w") == w);
    CHECK(cg_graph_find(g, "nope") == NULL);
    CHECK(strcmp(cg_node_name(x), "x") == 0 && strcmp(cg_node_op(x), "placeholder") == 0);
    CHECK(strcmp(cg_node_op(w), "variable") == 0 && cg_node_is_variable(w));
    CHECK(strcmp(cg_node_op(y), "matmul") == 0 && !cg_node_is_variable(y));
    cg_graph_free(g);

    /* A batch large enough to be copied by several threads, odd-sized so
     * the shares end inside a row: every element arrives. */
    g = cg_graph_new();
    const int d = 777, rows = 131;
    x = cg_placeholder(g, "x", 2, SH(CG_BATCH, d));
    cg_real *v = malloc(sizeof *v * (size_t)rows * d);
    for (int i = 0; i < rows * d; i++) v[i] = (cg_real)i;
    CHECK(cg_feed(x, v, rows) == CG_OK);
    const cg_real *got = cg_node_value(x);
    CHECK(got && memcmp(got, v, sizeof *v * (size_t)rows * d) == 0);
    free(v);
    cg_graph_free(g);
}

static void test_batch_change(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, 2));
    cg_node *b = cg_variable(g, "b", 1, SH(2), (const cg_real[]){1, 10});
    cg_node *y = cg_sum_axis(cg_mul(cg_add(x, b), cg_scalar(g, 2)), 1);
    cg_node *m = cg_mean(y);
    CHECK(cg_node_dim(x, 0) == CG_BATCH);
    const int sizes[4] = {3, 5, 2, 5};
    for (int k = 0; k < 4; k++) {
        int n = sizes[k];
        cg_real v[10];
        double want[5], mean = 0;
        for (int i = 0; i < n; i++) {
            v[2 * i] = (cg_real)(i + k);
            v[2 * i + 1] = (cg_real)(-i);
            want[i] = 2 * ((i + k + 1) + (-i + 10));
            mean += want[i] / n;
        }
        CHECK(cg_feed(x, v, n) == CG_OK);
        CHECK(cg_node_dim(x, 0) == n && cg_node_dim(y, 0) == n);
        check_values(y, want, (size_t)n, TOL, __LINE__);
        VALUES(m, 1e-4, mean);
        CHECK(cg_backward(m) == CG_OK);
        CHECK_NEAR(cg_node_grad(b)[0], 2, 1e-5);
        CHECK_NEAR(cg_node_grad(b)[1], 2, 1e-5);
        /* Variables keep their values across re-plans. */
        CHECK(cg_node_value(b)[0] == 1 && cg_node_value(b)[1] == 10);
    }
    cg_graph_free(g);
}

/* A fixed-shape placeholder keeps what was fed when the graph is
 * re-planned (new nodes, a new batch size), and can be fed before the
 * batch size is known. */
static void test_fixed_placeholder(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *k = cg_placeholder(g, "k", 1, SH(2));
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, 2));
    CHECK(cg_feed(k, (const cg_real[]){3, 4}, 2) == CG_OK);
    cg_node *y = cg_mul(x, k); /* a new node after the feed */
    CHECK(cg_feed(x, (const cg_real[]){1, 1, 2, 2}, 2) == CG_OK);
    VALUES(y, TOL, 3, 4, 6, 8);
    CHECK(cg_feed(x, (const cg_real[]){1, 0, 0, 1, 2, 2}, 3) == CG_OK); /* new batch */
    VALUES(y, TOL, 3, 0, 0, 4, 6, 8);
    VALUES(cg_sum(k), TOL, 7);
    cg_graph_free(g);
}

static void test_print(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "input", 2, SH(CG_BATCH, 3));
    cg_node *w = cg_variable(g, "weights", 2, SH(3, 4), NULL);
    cg_node *b = cg_variable(g, "bias", 1, SH(4), NULL);
    cg_node *h = cg_relu(cg_add(cg_matmul(x, w, 0, 0), b));
    cg_node *s = cg_sum(h);
    CHECK(s != NULL);
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f) { cg_graph_free(g); return; }
    CHECK(cg_graph_print(g, f) == CG_OK);
    rewind(f);
    char line[512];
    int n = cg_graph_node_count(g), lines = 0, node_lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        int id;
        if (sscanf(line, "%d", &id) != 1) continue;
        CHECK(id == node_lines && id < n);
        if (id >= n) break;
        cg_node *nd = cg_graph_node(g, id);
        char shp[64] = "[";
        for (int i = 0; i < cg_node_ndim(nd); i++) {
            char d[16];
            int v = cg_node_dim(nd, i);
            if (v < 0) snprintf(d, sizeof d, "%sbatch", i ? ", " : "");
            else snprintf(d, sizeof d, "%s%d", i ? ", " : "", v);
            strcat(shp, d);
        }
        strcat(shp, "]");
        CHECK(strstr(line, cg_node_op(nd)) != NULL);
        if (!strstr(line, shp)) fprintf(stderr, "no shape %s in: %s", shp, line);
        CHECK(strstr(line, shp) != NULL);
        if (*cg_node_name(nd)) CHECK(strstr(line, cg_node_name(nd)) != NULL);
        /* The parameter count is the last field. */
        size_t params = cg_node_is_variable(nd) ? cg_node_size(nd) : 0;
        char *end = line + strlen(line);
        while (end > line && (end[-1] == '\n' || end[-1] == ' ')) end--;
        char *num = end;
        while (num > line && num[-1] >= '0' && num[-1] <= '9') num--;
        CHECK(num < end && strtoul(num, NULL, 10) == params);
        node_lines++;
    }
    CHECK(node_lines == n);
    CHECK(lines >= n && lines <= n + 2); /* a header and a total at most */
    fclose(f);
    CHECK(cg_graph_param_count(g) == 16);
    cg_graph_free(g);
}

static void test_params(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_variable(g, "a", 2, SH(2, 3), (const cg_real[]){1, 2, 3, 4, 5, 6});
    cg_node *x = cg_placeholder(g, "x", 1, SH(4));
    cg_node *b = cg_variable(g, "b", 1, SH(4), (const cg_real[]){7, 8, 9, 10});
    cg_node *k = cg_constant(g, 1, SH(2), (const cg_real[]){0, 0});
    cg_node *c = cg_scalar_variable(g, "c", 11);
    /* Many more variables: the buffer grows, views follow. */
    for (int i = 0; i < 100; i++) CHECK(cg_variable(g, NULL, 1, SH(3), NULL) != NULL);
    (void)x; (void)k;
    CHECK(cg_graph_param_count(g) == 11 + 300);
    cg_real *p = cg_graph_params(g), *gr = cg_graph_grads(g);
    CHECK(p != NULL && gr != NULL);
    CHECK(cg_node_value(a) == p && cg_node_value(b) == p + 6 && cg_node_value(c) == p + 10);
    CHECK(cg_node_grad(a) == gr && cg_node_grad(b) == gr + 6 && cg_node_grad(c) == gr + 10);
    for (int i = 0; i < 11; i++) CHECK(p[i] == i + 1);
    for (int i = 11; i < 311; i++) CHECK(p[i] == 0);
    /* Writing through the view is writing the buffer. */
    cg_node_value(b)[0] = 70;
    CHECK(p[6] == 70);
    CHECK(cg_node_scalar(c) == 11);
    /* Gradients land in the buffer too. */
    cg_node *cost = cg_add(cg_sum(cg_mul(a, cg_scalar(g, 3))), cg_square(c));
    CHECK(cg_backward(cost) == CG_OK);
    gr = cg_graph_grads(g);
    for (int i = 0; i < 6; i++) CHECK_NEAR(gr[i], 3, 1e-6);
    for (int i = 6; i < 10; i++) CHECK(gr[i] == 0);
    CHECK_NEAR(gr[10], 22, 1e-5);
    cg_graph_free(g);
}

/* Fusion (plan.c): a bias add and activations after a product or a batch
 * norm run inside its threads, block by block. The values must be those of
 * the ops run one by one: checked against plain loops, for products split
 * by columns (m 200, n 128) and by rows (m 600, n 64) over 2 threads. */
static void test_fusion(void)
{
    const int sizes[2][2] = {{200, 128}, {600, 64}}, k = 48;
    cg_set_threads(2);
    for (int t = 0; t < 2; t++) {
        const int m = sizes[t][0], n = sizes[t][1];
        cg_rng r;
        cg_rng_seed(&r, 5u + (unsigned)t);
        cg_real *xv = malloc(sizeof(cg_real) * (size_t)m * (size_t)k);
        cg_real *wv = malloc(sizeof(cg_real) * (size_t)k * (size_t)n);
        cg_real *bv = malloc(sizeof(cg_real) * (size_t)n), *ones = malloc(sizeof(cg_real) * (size_t)n);
        double *h = malloc(sizeof(double) * (size_t)m * (size_t)n);
        CHECK(xv && wv && bv && ones && h);
        if (!xv || !wv || !bv || !ones || !h) return;
        for (int i = 0; i < m * k; i++) xv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        for (int i = 0; i < k * n; i++) wv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        for (int j = 0; j < n; j++) {
            bv[j] = (cg_real)(cg_rng_uniform(&r) - 0.5);
            ones[j] = 1;
        }
        cg_graph *g = cg_graph_new();
        cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, k));
        cg_node *w = cg_variable(g, "w", 2, SH(k, n), wv), *b = cg_variable(g, "b", 1, SH(n), bv);
        cg_node *gamma = cg_variable(g, "gamma", 1, SH(n), ones);
        cg_node *beta = cg_variable(g, "beta", 1, SH(n), NULL);
        cg_node *rm = cg_state(g, NULL, 1, SH(n), NULL), *rv = cg_state(g, NULL, 1, SH(n), ones);
        cg_node *mm = cg_matmul(x, w, 0, 0);
        cg_node *act = cg_tanh(cg_relu(cg_add(mm, b)));
        cg_node *out = cg_relu(cg_batch_norm(act, gamma, beta, rm, rv, (cg_real)0.1, (cg_real)1e-5));
        CHECK(out != NULL && cg_feed(x, xv, m) == CG_OK);
        /* The product alone first (its chain runs too), then the rest. */
        CHECK(cg_forward(mm) == CG_OK);
        double worst_mm = 0, worst_act = 0, worst_out = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double z = 0;
                for (int q = 0; q < k; q++) z += (double)xv[i * k + q] * wv[q * n + j];
                worst_mm = fmax(worst_mm, fabs(cg_node_value(mm)[i * n + j] - z));
                z += bv[j];
                h[i * n + j] = tanh(z > 0 ? z : 0);
            }
        CHECK(cg_forward(out) == CG_OK);
        for (int j = 0; j < n; j++) {
            double mu = 0, var = 0;
            for (int i = 0; i < m; i++) mu += h[i * n + j];
            mu /= m;
            for (int i = 0; i < m; i++) var += (h[i * n + j] - mu) * (h[i * n + j] - mu);
            var /= m;
            for (int i = 0; i < m; i++) {
                worst_act = fmax(worst_act, fabs(cg_node_value(act)[i * n + j] - h[i * n + j]));
                double y = (h[i * n + j] - mu) / sqrt(var + 1e-5);
                worst_out = fmax(worst_out, fabs(cg_node_value(out)[i * n + j] - (y > 0 ? y : 0)));
            }
        }
        CHECK(worst_mm < 1e-5 && worst_act < 1e-5 && worst_out < 1e-4);
        if (!(worst_mm < 1e-5 && worst_act < 1e-5 && worst_out < 1e-4))
            fprintf(stderr, "fusion m %d n %d: errors %g %g %g\n", m, n, worst_mm, worst_act,
                    worst_out);

        /* The profiler: ops timed, fused nodes shown as such, off again. */
        cg_graph_profile(g, 1);
        CHECK(cg_forward(out) == CG_OK && cg_graph_profile_seconds(g) > 0);
        FILE *f = tmpfile();
        CHECK(f && cg_graph_profile_report(g, f) == CG_OK);
        int fused = 0, rows = 0;
        char line[256];
        if (f) {
            rewind(f);
            while (fgets(line, sizeof line, f)) {
                rows++;
                if (strstr(line, "(fused)")) fused++;
            }
            fclose(f);
        }
        CHECK(fused == 4 && rows >= 7); /* add, relu, tanh after the product; relu after bn */
        cg_graph_profile(g, 1); /* restarting resets the counters */
        CHECK(cg_graph_profile_seconds(g) == 0);
        cg_graph_profile(g, 0);
        cg_graph_free(g);
        free(xv);
        free(wv);
        free(bv);
        free(ones);
        free(h);
    }
}

/* Backward fusion (plan.c): the ReLU/tanh/bias-add backward chain before a
 * product runs on each block of columns of the product's input gradient.
 * Gradients of a 2-layer net against double loops, with the product's dA
 * split by columns (W2 as is) and by rows (W2 stored transposed), twice in
 * a row (the second pass overwrites the first's buffers). */
static void test_backward_fusion(void)
{
    const int m_of[2] = {200, 600}, h_of[2] = {128, 64}, k = 48, o = 32;
    cg_set_threads(2);
    for (int t = 0; t < 2; t++) {
        const int m = m_of[t], h = h_of[t];
        cg_rng r;
        cg_rng_seed(&r, 11u + (unsigned)t);
        cg_real *xv = malloc(sizeof(cg_real) * (size_t)m * k), *cv = malloc(sizeof(cg_real) * (size_t)m * o);
        cg_real *w1v = malloc(sizeof(cg_real) * (size_t)k * h), *w2v = malloc(sizeof(cg_real) * (size_t)h * o);
        cg_real *b1v = malloc(sizeof(cg_real) * (size_t)h);
        double *pre = malloc(sizeof(double) * (size_t)m * h), *act = malloc(sizeof(double) * (size_t)m * h);
        double *dh = malloc(sizeof(double) * (size_t)m * h);
        CHECK(xv && cv && w1v && w2v && b1v && pre && act && dh);
        if (!xv || !cv || !w1v || !w2v || !b1v || !pre || !act || !dh) return;
        for (int i = 0; i < m * k; i++) xv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        for (int i = 0; i < m * o; i++) cv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        for (int i = 0; i < k * h; i++) w1v[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        for (int i = 0; i < h * o; i++) w2v[i] = (cg_real)(cg_rng_uniform(&r) - 0.5); /* [h, o] */
        for (int j = 0; j < h; j++) b1v[j] = (cg_real)(cg_rng_uniform(&r) - 0.5);
        cg_real *w2t = malloc(sizeof(cg_real) * (size_t)h * o); /* [o, h] */
        CHECK(w2t != NULL);
        if (!w2t) return;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < o; j++) w2t[j * h + i] = w2v[i * o + j];

        cg_graph *g = cg_graph_new();
        cg_node *x = cg_placeholder(g, "x", 2, SH(m, k));
        cg_node *w1 = cg_variable(g, "w1", 2, SH(k, h), w1v), *b1 = cg_variable(g, "b1", 1, SH(h), b1v);
        cg_node *w2 = t ? cg_variable(g, "w2", 2, SH(o, h), w2t) : cg_variable(g, "w2", 2, SH(h, o), w2v);
        cg_node *c = cg_constant(g, 2, SH(m, o), cv);
        cg_node *a = cg_tanh(cg_relu(cg_add(cg_matmul(x, w1, 0, 0), b1)));
        cg_node *cost = cg_sum(cg_mul(cg_matmul(a, w2, 0, t), c));
        CHECK(cost != NULL && cg_feed(x, xv, m) == CG_OK);

        /* dcost/dy = c; da = c W2^T; through tanh and ReLU to dpre. */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < h; j++) {
                double z = b1v[j];
                for (int q = 0; q < k; q++) z += (double)xv[i * k + q] * w1v[q * h + j];
                pre[i * h + j] = z;
                act[i * h + j] = tanh(z > 0 ? z : 0);
                double da = 0;
                for (int q = 0; q < o; q++) da += (double)cv[i * o + q] * w2v[j * o + q];
                double tt = act[i * h + j];
                dh[i * h + j] = z > 0 ? da * (1 - tt * tt) : 0;
            }
        for (int pass = 0; pass < 2; pass++) {
            CHECK(cg_backward(cost) == CG_OK);
            double worst = 0;
            for (int q = 0; q < k; q++)
                for (int j = 0; j < h; j++) {
                    double s = 0;
                    for (int i = 0; i < m; i++) s += (double)xv[i * k + q] * dh[i * h + j];
                    worst = fmax(worst, fabs(cg_node_grad(w1)[q * h + j] - s));
                }
            for (int j = 0; j < h; j++) {
                double s = 0;
                for (int i = 0; i < m; i++) s += dh[i * h + j];
                worst = fmax(worst, fabs(cg_node_grad(b1)[j] - s));
            }
            for (int j = 0; j < h; j++)
                for (int q = 0; q < o; q++) {
                    double s = 0;
                    for (int i = 0; i < m; i++) s += act[i * h + j] * cv[i * o + q];
                    worst = fmax(worst, fabs(cg_node_grad(w2)[t ? q * h + j : j * o + q] - s));
                }
            if (!(worst < 1e-3)) fprintf(stderr, "backward fusion m %d h %d pass %d: error %g\n", m, h, pass, worst);
            CHECK(worst < 1e-3);
        }
        /* The chain ran inside the product: the profiler counts no backward
         * call of the ReLU, tanh or bias add (forward: fused too). */
        cg_graph_profile(g, 1);
        CHECK(cg_backward(cost) == CG_OK);
        FILE *f = tmpfile();
        CHECK(f && cg_graph_profile_report(g, f) == CG_OK);
        int own = 0, seen = 0;
        char line[256];
        if (f) {
            rewind(f);
            while (fgets(line, sizeof line, f)) {
                const char *shape = strchr(line, ']');
                long fwd_n = -1, bwd_n = -1;
                double fwd_us;
                if (!(strstr(line, " relu ") || strstr(line, " tanh ") || strstr(line, " add ")) ||
                    !shape || sscanf(shape + 1, "%ld %lf %ld", &fwd_n, &fwd_us, &bwd_n) != 3)
                    continue;
                seen++;
                own += bwd_n != 0;
            }
            fclose(f);
        }
        cg_graph_profile(g, 0);
        CHECK(seen == 3);
        CHECK(own == 0);
        cg_graph_free(g);
        free(xv), free(cv), free(w1v), free(w2v), free(w2t), free(b1v), free(pre), free(act), free(dh);
    }
}

/* A single row times a large matrix (batch-1 inference) sums W's rows in
 * fixed chunks (matmul.c): the values must match double loops, with the
 * bias add and ReLU fused after it, be the same bits on 1 and 2 threads,
 * and survive batch changes (its scratch exists only at batch 1). K = 777
 * leaves a short last chunk. */
static void test_single_row_product(void)
{
    const int k = 777, n = 512;
    cg_rng r;
    cg_rng_seed(&r, 21u);
    cg_real *xv = malloc(sizeof(cg_real) * 3 * (size_t)k);
    cg_real *wv = malloc(sizeof(cg_real) * (size_t)k * n);
    cg_real *bv = malloc(sizeof(cg_real) * (size_t)n), *one = malloc(sizeof(cg_real) * (size_t)n);
    CHECK(xv && wv && bv && one);
    if (!xv || !wv || !bv || !one) return;
    for (int i = 0; i < 3 * k; i++) xv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
    for (int i = 0; i < k * n; i++) wv[i] = (cg_real)(cg_rng_uniform(&r) - 0.5);
    for (int j = 0; j < n; j++) bv[j] = (cg_real)(cg_rng_uniform(&r) - 0.5);
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, k));
    cg_node *w = cg_variable(g, "w", 2, SH(k, n), wv), *b = cg_variable(g, "b", 1, SH(n), bv);
    cg_node *mm = cg_matmul(x, w, 0, 0), *out = cg_relu(cg_add(mm, b));
    CHECK(out != NULL);
    double worst = 0, worst_out = 0;
    for (int pass = 0; pass < 3; pass++) {
        cg_set_threads(pass == 1 ? 1 : 2);
        /* pass 2: batch 3 in between, then row 1 alone again */
        if (pass == 2) CHECK(cg_feed(x, xv, 3) == CG_OK && cg_forward(out) == CG_OK);
        CHECK(cg_feed(x, xv + (size_t)k, 1) == CG_OK && cg_forward(out) == CG_OK);
        const cg_real *mv = cg_node_value(mm), *ov = cg_node_value(out);
        for (int j = 0; j < n; j++) {
            double z = 0;
            for (int q = 0; q < k; q++) z += (double)xv[k + q] * wv[q * n + j];
            worst = fmax(worst, fabs(mv[j] - z));
            z = (double)mv[j] + bv[j];
            worst_out = fmax(worst_out, fabs(ov[j] - (z > 0 ? z : 0)));
        }
        if (pass == 0) memcpy(one, mv, sizeof(cg_real) * (size_t)n);
        else CHECK(memcmp(one, mv, sizeof(cg_real) * (size_t)n) == 0);
    }
    CHECK(worst < 1e-4 && worst_out < 1e-6);
    if (!(worst < 1e-4 && worst_out < 1e-6))
        fprintf(stderr, "single row: errors %g %g\n", worst, worst_out);
    cg_graph_free(g);
    free(xv);
    free(wv);
    free(bv);
    free(one);
}

int main(void)
{
    test_binary();
    test_unary();
    test_matmul();
    test_reduce_and_shape();
    test_softmax();
    test_feeding();
    test_batch_change();
    test_fixed_placeholder();
    test_print();
    test_params();
    test_fusion();
    test_backward_fusion();
    test_single_row_product();
    CHECK_DONE();
}
