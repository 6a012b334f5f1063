/* SPDX-License-Identifier: MIT */
/* test_ops2.c: forward values of the ops of issue 24 (float build) against
 * hand-computed values and the values PyTorch documents for the same
 * definitions; the gradient conventions at kinks and ties; views; the
 * errors (shapes, bad arguments, an index out of range at run time); and
 * fusion of the new activations into the product before them. Gradients
 * in general are checked in dtest_gradcheck_ops2.c. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <string.h>

#define SH(...) ((const int[]){__VA_ARGS__})
#define TOL 1e-5

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
        if (!(fabs(v - want[i]) <= tol * fmax(1, fabs(want[i])))) {
            fprintf(stderr, "line %d: element %zu is %.9g, want %.9g\n", line, i, v, want[i]);
            check_failures++;
        }
    }
}

#define VALUES(y, tol, ...)                                                          \
    check_values((y), (const double[]){__VA_ARGS__},                                \
                 sizeof((const double[]){__VA_ARGS__}) / sizeof(double), (tol), __LINE__)

static int dims_are(cg_node *y, int nd, const int *sh)
{
    if (!y || cg_node_ndim(y) != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (cg_node_dim(y, i) != sh[i]) return 0;
    return 1;
}

/* The gradient of sum(y * w) with respect to variable x, after backward. */
static const cg_real *grad_of(cg_node *y, cg_node *x)
{
    if (!y || cg_backward(cg_sum(y)) != CG_OK) {
        fprintf(stderr, "backward: %s\n", cg_last_error());
        check_failures++;
        return NULL;
    }
    return cg_node_grad(x);
}

static void test_broadcast(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *col = cg_constant(g, 2, SH(3, 1), (const cg_real[]){1, 2, 3});
    cg_node *row = cg_constant(g, 2, SH(1, 2), (const cg_real[]){10, 20});
    cg_node *y = cg_add(col, row);
    CHECK(dims_are(y, 2, SH(3, 2)));
    VALUES(y, TOL, 11, 21, 12, 22, 13, 23);
    VALUES(cg_sub(row, col), TOL, 9, 19, 8, 18, 7, 17);
    /* [2] against [2, 1, 1]: [2, 1, 2] */
    cg_node *v = cg_constant(g, 1, SH(2), (const cg_real[]){1, 2});
    cg_node *w = cg_constant(g, 3, SH(2, 1, 1), (const cg_real[]){10, 100});
    y = cg_mul(v, w);
    CHECK(dims_are(y, 3, SH(2, 1, 2)));
    VALUES(y, TOL, 10, 20, 100, 200);
    /* one element with more dimensions than the other side */
    y = cg_add(v, cg_constant(g, 3, SH(1, 1, 1), (const cg_real[]){5}));
    CHECK(dims_are(y, 3, SH(1, 1, 2)));
    VALUES(y, TOL, 6, 7);
    VALUES(cg_maximum(col, cg_constant(g, 1, SH(2), (const cg_real[]){2, 0})), TOL, 2, 1, 2, 2,
           3, 3);
    VALUES(cg_minimum(col, cg_scalar(g, 2)), TOL, 1, 2, 2);

    /* Shapes NumPy refuses are errors naming both. */
    cg_node *a = cg_constant(g, 2, SH(2, 3), (const cg_real[]){0, 0, 0, 0, 0, 0});
    cg_node *b = cg_constant(g, 2, SH(4, 3), (const cg_real[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK(cg_add(a, b) == NULL);
    CHECK_ERROR("add");
    CHECK_ERROR("[2, 3]");
    CHECK_ERROR("[4, 3]");
    CHECK_ERROR("2 against 4");
    CHECK(cg_maximum(cg_constant(g, 1, SH(2), (const cg_real[]){0, 0}), a) == NULL);
    CHECK_ERROR("maximum");

    /* The open batch dimension matches itself or 1, never a fixed size. */
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, 3));
    CHECK(cg_mul(x, cg_constant(g, 3, SH(2, 1, 3), (const cg_real[]){1, 1, 1, 2, 2, 2})) != NULL);
    CHECK(cg_add(x, b) == NULL);
    CHECK_ERROR("batch against 4");
    cg_graph_free(g);

    /* The gradient of a stretched input sums over the stretch. */
    g = cg_graph_new();
    cg_node *p = cg_variable(g, "p", 2, SH(3, 1), (const cg_real[]){1, 2, 3});
    cg_node *q = cg_variable(g, "q", 2, SH(1, 2), (const cg_real[]){10, 20});
    const cg_real *gp = grad_of(cg_mul(p, q), p);
    if (gp) CHECK(gp[0] == 30 && gp[1] == 30 && gp[2] == 30);
    CHECK(cg_node_grad(q)[0] == 6 && cg_node_grad(q)[1] == 6);
    cg_graph_free(g);
}

/* Ties: maximum/minimum split the gradient evenly (PyTorch's
 * torch.maximum); max over an axis gives it all to the first maximum. */
static void test_ties(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_variable(g, "a", 1, SH(3), (const cg_real[]){1, 5, 2});
    cg_node *b = cg_variable(g, "b", 1, SH(3), (const cg_real[]){1, 4, 3});
    const cg_real *ga = grad_of(cg_maximum(a, b), a);
    if (ga) {
        CHECK(ga[0] == 0.5f && ga[1] == 1 && ga[2] == 0);
        const cg_real *gb = cg_node_grad(b);
        CHECK(gb[0] == 0.5f && gb[1] == 0 && gb[2] == 1);
    }
    ga = grad_of(cg_minimum(a, b), a);
    if (ga) CHECK(ga[0] == 0.5f && ga[1] == 0 && ga[2] == 1);
    cg_graph_free(g);

    g = cg_graph_new();
    cg_node *x = cg_variable(g, "x", 2, SH(2, 3), (const cg_real[]){4, 7, 7, 2, 2, 1});
    cg_node *m = cg_max_dim(x, 1, 0);
    VALUES(m, 0, 7, 2);
    const cg_real *gx = grad_of(m, x);
    if (gx) {
        const cg_real want[6] = {0, 1, 0, 1, 0, 0};
        for (int i = 0; i < 6; i++) CHECK(gx[i] == want[i]);
    }
    /* A NaN propagates through max and maximum, as in PyTorch. */
    cg_node *xn = cg_constant(g, 1, SH(3), (const cg_real[]){1, NAN, 3});
    cg_node *mn = cg_max_dim(xn, 0, 0);
    CHECK(mn && cg_forward(mn) == CG_OK && isnan(cg_node_value(mn)[0]));
    cg_node *mx = cg_maximum(xn, cg_scalar(g, 2)), *mi = cg_minimum(cg_scalar(g, 2), xn);
    CHECK(mx && cg_forward(mx) == CG_OK && isnan(cg_node_value(mx)[1]));
    CHECK(cg_node_value(mx)[0] == 2 && cg_node_value(mx)[2] == 3);
    CHECK(mi && cg_forward(mi) == CG_OK && isnan(cg_node_value(mi)[1]));
    cg_node *m0 = cg_max_dim(x, 0, 1);
    CHECK(dims_are(m0, 2, SH(1, 3)));
    VALUES(m0, 0, 4, 7, 7);
    cg_graph_free(g);
}

static void test_reduce(void)
{
    cg_graph *g = cg_graph_new();
    cg_real v[24];
    for (int i = 0; i < 24; i++) v[i] = (cg_real)i;
    cg_node *x = cg_constant(g, 3, SH(2, 3, 4), v);
    cg_node *s = cg_sum_dim(x, 1, 1);
    CHECK(dims_are(s, 3, SH(2, 1, 4)));
    VALUES(s, TOL, 12, 15, 18, 21, 48, 51, 54, 57);
    cg_node *mean = cg_mean_dim(x, -1, 0);
    CHECK(dims_are(mean, 2, SH(2, 3)));
    VALUES(mean, TOL, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5);
    VALUES(cg_max_dim(x, 0, 0), TOL, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    /* keepdim results broadcast against their input: x - max */
    VALUES(cg_sum(cg_sub(x, cg_max_dim(x, 2, 1))), TOL, -36);
    CHECK(cg_max_dim(x, 3, 0) == NULL);
    CHECK_ERROR("max_axis");
    CHECK_ERROR("axis 3");
    CHECK(cg_sum_dim(x, -4, 0) == NULL);
    CHECK_ERROR("axis -4");
    cg_graph_free(g);
}

static void test_log_softmax_axis(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *z = cg_constant(g, 2, SH(3, 2), (const cg_real[]){1, 2, 3, -1, 0, 4});
    double l0 = log(exp(1) + exp(3) + exp(0)), l1 = log(exp(2) + exp(-1) + exp(4));
    VALUES(cg_log_softmax_axis(z, 0), TOL, 1 - l0, 2 - l1, 3 - l0, -1 - l1, 0 - l0, 4 - l1);
    double r0 = log(exp(1) + exp(2)), r1 = log(exp(3) + exp(-1)), r2 = log(exp(0) + exp(4));
    VALUES(cg_log_softmax_axis(z, -1), TOL, 1 - r0, 2 - r0, 3 - r1, -1 - r1, -r2, 4 - r2);
    /* Stable for large logits. */
    cg_node *big = cg_constant(g, 1, SH(3), (const cg_real[]){1000, 0, -1000});
    VALUES(cg_log_softmax_axis(big, 0), 1e-3, 0, -1000, -2000);
    CHECK(cg_log_softmax_axis(z, 2) == NULL);
    CHECK_ERROR("log_softmax");
    cg_graph_free(g);
}

static void test_layout(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_constant(g, 2, SH(2, 2), (const cg_real[]){1, 2, 3, 4});
    cg_node *b = cg_constant(g, 2, SH(2, 1), (const cg_real[]){5, 6});
    cg_node *c = cg_concat(2, (cg_node *[]){a, b}, 1);
    CHECK(dims_are(c, 2, SH(2, 3)));
    VALUES(c, 0, 1, 2, 5, 3, 4, 6);
    VALUES(cg_concat(2, (cg_node *[]){a, cg_transpose(a)}, 0), 0, 1, 2, 3, 4, 1, 3, 2, 4);
    CHECK(cg_concat(2, (cg_node *[]){a, b}, 0) == NULL);
    CHECK_ERROR("concat");
    CHECK_ERROR("[2, 1]");
    CHECK(cg_concat(6, (cg_node *[]){a, a, a, a, a, a}, 0) == NULL);
    CHECK_ERROR("concat");

    cg_node *pieces[3];
    CHECK(cg_split(c, 1, 2, SH(2, 1), pieces) == CG_OK);
    VALUES(pieces[0], 0, 1, 2, 3, 4);
    VALUES(pieces[1], 0, 5, 6);
    CHECK(cg_split(c, 1, 3, NULL, pieces) == CG_OK);
    VALUES(pieces[2], 0, 5, 6);
    CHECK(cg_split(c, 1, 2, NULL, pieces) != CG_OK);
    CHECK_ERROR("split");
    CHECK(pieces[0] == NULL && pieces[1] == NULL);
    CHECK(cg_split(c, 1, 2, SH(2, 2), pieces) != CG_OK);
    CHECK_ERROR("add up to 4");
    CHECK(cg_slice_axis(c, 1, 2, 2) == NULL);
    CHECK_ERROR("slice_axis");

    cg_real v[24];
    for (int i = 0; i < 24; i++) v[i] = (cg_real)i;
    cg_node *x = cg_constant(g, 3, SH(2, 3, 4), v);
    cg_node *p = cg_permute(x, 3, SH(2, 0, 1));
    CHECK(dims_are(p, 3, SH(4, 2, 3)));
    /* p[i, j, k] = x[j, k, i] */
    VALUES(cg_slice_axis(p, 0, 1, 1), 0, 1, 5, 9, 13, 17, 21);
    VALUES(cg_transpose(cg_constant(g, 2, SH(2, 3), v)), 0, 0, 3, 1, 4, 2, 5);
    CHECK(cg_permute(x, 3, SH(0, 0, 1)) == NULL);
    CHECK_ERROR("permute");
    CHECK(cg_permute(x, 2, SH(1, 0)) == NULL);
    CHECK_ERROR("permute");
    CHECK(cg_transpose(cg_constant(g, 1, SH(3), v)) == NULL);
    CHECK_ERROR("transpose");
    cg_graph_free(g);
}

/* A reshape, and a slice along the first axis, share their input's
 * memory; a slice along a later axis copies. */
static void test_views(void)
{
    cg_graph *g = cg_graph_new();
    cg_real v[12];
    for (int i = 0; i < 12; i++) v[i] = (cg_real)i;
    cg_node *x = cg_variable(g, "x", 2, SH(3, 4), v);
    cg_node *r = cg_reshape(cg_tanh(x), 2, SH(2, 6));
    cg_node *s = cg_slice_axis(x, 0, 1, 2), *t = cg_slice_axis(x, 1, 1, 2);
    cg_node *i = cg_index(x, 2);
    cg_node *cost = cg_add(cg_add(cg_sum(r), cg_sum(s)), cg_add(cg_sum(t), cg_sum(i)));
    CHECK(cost && cg_backward(cost) == CG_OK);
    CHECK(r && cg_node_value(r) == cg_node_value(cg_graph_node(g, 1))); /* the tanh's */
    CHECK(cg_node_value(s) == cg_node_value(x) + 4);
    CHECK(cg_node_value(i) == cg_node_value(x) + 8);
    CHECK(cg_node_value(t) != cg_node_value(x) + 1);
    VALUES(t, 0, 1, 2, 5, 6, 9, 10);
    VALUES(s, 0, 4, 5, 6, 7, 8, 9, 10, 11);
    /* d/dx: 1 - tanh^2 from r, 1 from s (rows 1-2), t (cols 1-2), i (row 2) */
    for (int k = 0; k < 12; k++) {
        double th = tanh((double)k);
        double want = 1 - th * th + (k >= 4) + (k % 4 == 1 || k % 4 == 2) + (k >= 8);
        CHECK_NEAR(cg_node_grad(x)[k], want, 1e-5);
    }
    cg_graph_free(g);
}

static void test_gather(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *t = cg_variable(g, "t", 2, SH(4, 2), (const cg_real[]){0, 1, 10, 11, 20, 21, 30, 31});
    cg_node *ix = cg_placeholder(g, "ix", 2, SH(CG_BATCH, 2));
    cg_node *e = cg_gather(t, ix);
    /* Built before feeding: a new node re-plans, and an open placeholder
     * must then be fed again. */
    cg_node *cost = cg_sum(e);
    CHECK(e != NULL && cost != NULL);
    CHECK(cg_feed(ix, (const cg_real[]){3, 0, 3, 1, 2, 3}, 3) == CG_OK);
    CHECK(dims_are(e, 3, SH(3, 2, 2)));
    VALUES(e, 0, 30, 31, 0, 1, 30, 31, 10, 11, 20, 21, 30, 31);
    CHECK(cg_backward(cost) == CG_OK);
    const cg_real *gt = cg_node_grad(t);
    const cg_real want[8] = {1, 1, 1, 1, 1, 1, 3, 3}; /* row 3 picked three times */
    for (int k = 0; k < 8; k++) CHECK(gt[k] == want[k]);
    /* Out of range and non-integer indices fail the run, naming them. */
    CHECK(cg_feed(ix, (const cg_real[]){1, 4}, 1) == CG_OK);
    CHECK(cg_forward(e) == CG_ERR_ARG);
    CHECK_ERROR("gather");
    CHECK_ERROR("index 4");
    CHECK_ERROR("position 1");
    CHECK(cg_feed(ix, (const cg_real[]){-1, 0}, 1) == CG_OK);
    CHECK(cg_forward(e) == CG_ERR_ARG);
    CHECK_ERROR("index -1");
    CHECK(cg_feed(ix, (const cg_real[]){0, 1.5f}, 1) == CG_OK);
    CHECK(cg_backward(cost) == CG_ERR_ARG);
    CHECK_ERROR("index 1.5");
    CHECK(cg_feed(ix, (const cg_real[]){2, 1}, 1) == CG_OK);
    VALUES(e, 0, 20, 21, 10, 11);
    CHECK(cg_gather(cg_scalar(g, 1), ix) == NULL);
    CHECK_ERROR("gather");
    cg_graph_free(g);
}

static void test_activations(void)
{
    cg_graph *g = cg_graph_new();
    const cg_real xs[6] = {-3, -1, 0, 0.5f, 1, 3};
    cg_node *x = cg_constant(g, 1, SH(6), xs);
    /* torch.nn.functional.gelu, approximate='none' and 'tanh' */
    VALUES(cg_gelu(x), 1e-6, -0.00404969409489031, -0.15865525393145707, 0, 0.34573123063700656,
           0.8413447460685429, 2.99595030590511);
    VALUES(cg_gelu_tanh(x), 1e-6, -0.0036373920817729943, -0.15880800939172324, 0,
           0.34571400982514394, 0.8411919906082768, 2.996362607918227);
    VALUES(cg_leaky_relu(x, (cg_real)0.01), TOL, -0.03, -0.01, 0, 0.5, 1, 3);
    VALUES(cg_elu(x, 1), TOL, exp(-3) - 1, exp(-1) - 1, 0, 0.5, 1, 3);
    VALUES(cg_elu(x, 2), TOL, 2 * (exp(-3) - 1), 2 * (exp(-1) - 1), 0, 0.5, 1, 3);
    VALUES(cg_abs(x), 0, 3, 1, 0, 0.5, 1, 3);
    VALUES(cg_clip(x, -1, (cg_real)0.5), 0, -1, -1, 0, 0.5, 0.5, 0.5);
    /* softplus: log(1 + e^x), x itself above 20, finite everywhere */
    cg_node *sx = cg_constant(g, 1, SH(7), (const cg_real[]){0, 1, -30, 20, 20.5f, 1000, -1000});
    VALUES(cg_softplus(sx), 1e-6, log(2), log1p(exp(1)), 9.357622968839737e-14, 20.000000002061153,
           20.5, 1000, 0);
    CHECK(cg_clip(x, 1, -1) == NULL);
    CHECK_ERROR("clip");
    CHECK(cg_leaky_relu(x, (cg_real)NAN) == NULL);
    CHECK_ERROR("leaky_relu");
    cg_graph_free(g);

    /* The conventions at the kinks: abs' 0 at 0; clip's 1 at both ends
     * (torch.clamp); leaky_relu's slope and elu's alpha at 0. */
    g = cg_graph_new();
    cg_node *v = cg_variable(g, "v", 1, SH(5), (const cg_real[]){-1, -0.5f, 0, 0.5f, 1});
    const cg_real *gv = grad_of(cg_abs(v), v);
    if (gv) CHECK(gv[0] == -1 && gv[1] == -1 && gv[2] == 0 && gv[3] == 1 && gv[4] == 1);
    gv = grad_of(cg_clip(v, (cg_real)-0.5, (cg_real)0.5), v);
    if (gv) CHECK(gv[0] == 0 && gv[1] == 1 && gv[2] == 1 && gv[3] == 1 && gv[4] == 0);
    gv = grad_of(cg_leaky_relu(v, (cg_real)0.1), v);
    if (gv) CHECK(gv[2] == (cg_real)0.1 && gv[0] == (cg_real)0.1 && gv[4] == 1);
    gv = grad_of(cg_elu(v, (cg_real)1.5), v);
    if (gv) CHECK_NEAR(gv[2], 1.5, 1e-6);
    /* softplus' far out: 1 and e^x, never NaN */
    cg_node *w = cg_variable(g, "w", 1, SH(2), (const cg_real[]){100, -100});
    gv = grad_of(cg_softplus(w), w);
    if (gv) CHECK(gv[0] == 1 && gv[1] >= 0 && gv[1] < 1e-40);
    cg_graph_free(g);
}

static void test_losses(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *p = cg_variable(g, "p", 2, SH(2, 2), (const cg_real[]){1, 2, 3, -1});
    cg_node *t = cg_constant(g, 2, SH(2, 2), (const cg_real[]){1, 1, 1, 1});
    /* d = [0, 1, 2, -2] */
    VALUES(cg_mse_loss(p, t), TOL, (0 + 1 + 4 + 4) / 4.0);
    VALUES(cg_l1_loss(p, t), TOL, (0 + 1 + 2 + 2) / 4.0);
    /* delta 1: 0, 0.5, 1.5, 1.5 */
    VALUES(cg_huber_loss(p, t, 1), TOL, 3.5 / 4);
    /* delta 1.5: 0, 0.5, 1.5 (2 - 0.75), 1.875 */
    VALUES(cg_huber_loss(p, t, (cg_real)1.5), TOL, (0 + 0.5 + 1.875 + 1.875) / 4);
    const cg_real *gp = grad_of(cg_huber_loss(p, t, 1), p);
    if (gp) {
        CHECK_NEAR(gp[0], 0, 1e-7);
        CHECK_NEAR(gp[1], 0.25, 1e-7);
        CHECK_NEAR(gp[2], 0.25, 1e-7);
        CHECK_NEAR(gp[3], -0.25, 1e-7);
    }
    gp = grad_of(cg_mse_loss(p, t), p);
    if (gp) CHECK_NEAR(gp[3], 2 * -2 / 4.0, 1e-7);
    gp = grad_of(cg_l1_loss(p, t), p);
    if (gp) CHECK(gp[0] == 0 && gp[1] == 0.25f && gp[3] == -0.25f);

    /* BCE with logits: -y log s(z) - (1 - y) log(1 - s(z)), and stable
     * where that form overflows. */
    cg_node *z = cg_constant(g, 1, SH(3), (const cg_real[]){0.5f, -2, 0});
    cg_node *y = cg_constant(g, 1, SH(3), (const cg_real[]){1, 0.25f, 0});
    double want = 0;
    const double zs[3] = {0.5, -2, 0}, ys[3] = {1, 0.25, 0};
    for (int i = 0; i < 3; i++) {
        double s = 1 / (1 + exp(-zs[i]));
        want += -ys[i] * log(s) - (1 - ys[i]) * log(1 - s);
    }
    VALUES(cg_bce_with_logits_loss(z, y), TOL, want / 3);
    cg_node *zb = cg_constant(g, 1, SH(2), (const cg_real[]){100, -100});
    cg_node *yb = cg_constant(g, 1, SH(2), (const cg_real[]){0, 0});
    VALUES(cg_bce_with_logits_loss(zb, yb), 1e-4, 50);
    CHECK(strcmp(cg_node_op(cg_bce_with_logits_loss(z, y)), "sigmoid_cross_entropy") == 0);

    /* Shapes must match: [2, 1] against [2] is an error, not [2, 2]. */
    cg_node *col = cg_constant(g, 2, SH(2, 1), (const cg_real[]){1, 2});
    cg_node *vec = cg_constant(g, 1, SH(2), (const cg_real[]){1, 2});
    CHECK(cg_mse_loss(col, vec) == NULL);
    CHECK_ERROR("mse_loss");
    CHECK_ERROR("[2, 1]");
    CHECK(cg_huber_loss(p, t, 0) == NULL);
    CHECK_ERROR("delta");
    cg_graph_free(g);
}

/* The new activations run inside the product before them (plan.c), as
 * ReLU does: forward fused, and their backward inside the next product. */
static void test_fusion(void)
{
    cg_graph *g = cg_graph_new();
    cg_real xv[8 * 6], w1[6 * 5], w2[5 * 3], b[5];
    for (int i = 0; i < 48; i++) xv[i] = (cg_real)sin(i);
    for (int i = 0; i < 30; i++) w1[i] = (cg_real)cos(i);
    for (int i = 0; i < 15; i++) w2[i] = (cg_real)sin(2 * i);
    for (int i = 0; i < 5; i++) b[i] = (cg_real)(0.1 * i);
    cg_node *x = cg_constant(g, 2, SH(8, 6), xv);
    cg_node *W1 = cg_variable(g, "w1", 2, SH(6, 5), w1), *B = cg_variable(g, "b", 1, SH(5), b);
    cg_node *W2 = cg_variable(g, "w2", 2, SH(5, 3), w2);
    cg_node *h = cg_gelu(cg_add(cg_matmul(x, W1, 0, 0), B));
    cg_node *cost = cg_sum(cg_matmul(h, W2, 0, 0));
    CHECK(cost && cg_backward(cost) == CG_OK);
    cg_graph_profile(g, 1);
    CHECK(cg_backward(cost) == CG_OK);
    FILE *f = tmpfile();
    CHECK(f && cg_graph_profile_report(g, f) == CG_OK);
    int fused = 0, gelu_bwd = -1;
    char line[256];
    if (f) {
        rewind(f);
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "(fused)")) fused++;
            const char *shape = strchr(line, ']');
            long fwd_n, bwd_n;
            double fwd_us;
            if (strstr(line, " gelu ") && shape &&
                sscanf(shape + 1, "%ld %lf %ld", &fwd_n, &fwd_us, &bwd_n) == 3)
                gelu_bwd = (int)bwd_n;
        }
        fclose(f);
    }
    cg_graph_profile(g, 0);
    CHECK(fused == 2);    /* the bias add and gelu */
    CHECK(gelu_bwd == 0); /* run inside the second product's backward */
    cg_graph_free(g);
}

int main(void)
{
    test_broadcast();
    test_ties();
    test_reduce();
    test_log_softmax_axis();
    test_layout();
    test_views();
    test_gather();
    test_activations();
    test_losses();
    test_fusion();
    CHECK_DONE();
}
