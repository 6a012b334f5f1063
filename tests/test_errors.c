/* SPDX-License-Identifier: MIT */
/* test_errors.c: errors are values, and their messages say what went
 * wrong: the op, the shapes, the node. */
#include "check.h"

#include <cgrad.h>

#define SH(...) ((const int[]){__VA_ARGS__})

static void test_shapes(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_variable(g, "a", 2, SH(2, 3), NULL);
    cg_node *b = cg_variable(g, "b", 1, SH(4), NULL);
    int before = cg_graph_node_count(g);

    cg_clear_error();
    CHECK(cg_add(a, b) == NULL);
    CHECK_ERROR("add");
    CHECK_ERROR("[2, 3]");
    CHECK_ERROR("[4]");
    CHECK(cg_graph_node_count(g) == before); /* nothing appended */
    CHECK(cg_mul(b, a) == NULL);
    CHECK_ERROR("mul");
    CHECK_ERROR("[4] and [2, 3]");
    /* A column must match the rows. */
    cg_node *col = cg_variable(g, "col", 2, SH(3, 1), NULL);
    CHECK(cg_sub(a, col) == NULL);
    CHECK_ERROR("sub");
    CHECK_ERROR("[3, 1]");

    cg_node *m = cg_variable(g, "m", 2, SH(4, 5), NULL);
    CHECK(cg_matmul(a, m, 0, 0) == NULL);
    CHECK_ERROR("matmul");
    CHECK_ERROR("[2, 3]");
    CHECK_ERROR("[4, 5]");
    CHECK_ERROR("3 vs 4");
    CHECK(cg_matmul(a, m, 1, 1) == NULL);
    CHECK_ERROR("2 vs 5");
    CHECK(cg_matmul(a, b, 0, 0) == NULL);
    CHECK_ERROR("2-D");
    CHECK(cg_matmul(a, a, 0, 1) != NULL);

    /* Bad axis. */
    CHECK(cg_sum_axis(a, 2) == NULL);
    CHECK_ERROR("sum_axis");
    CHECK_ERROR("axis 2");
    CHECK_ERROR("[2, 3]");
    CHECK(cg_mean_axis(a, -1) == NULL);
    CHECK_ERROR("mean_axis");
    CHECK_ERROR("axis -1");

    /* Bad reshape. */
    CHECK(cg_reshape(a, 2, SH(4, 2)) == NULL);
    CHECK_ERROR("reshape");
    CHECK_ERROR("[2, 3]");
    CHECK_ERROR("[4, 2]");
    CHECK(cg_reshape(a, 2, SH(-1, -1)) == NULL);
    CHECK_ERROR("more than one -1");
    CHECK(cg_reshape(a, 2, SH(4, -1)) == NULL);
    CHECK_ERROR("reshape");
    CHECK(cg_reshape(a, 2, SH(0, 6)) == NULL);
    CHECK_ERROR("reshape");
    CHECK(cg_reshape(a, 5, SH(1, 1, 1, 2, 3)) == NULL);
    CHECK_ERROR("ndim 5");
    CHECK(cg_reshape(a, 2, NULL) == NULL);
    CHECK_ERROR("reshape");

    /* index / slice out of range. */
    CHECK(cg_index(a, 2) == NULL);
    CHECK_ERROR("index");
    CHECK(cg_index(a, -1) == NULL);
    CHECK_ERROR("index");
    CHECK(cg_slice(a, 1, 2) == NULL);
    CHECK_ERROR("slice");
    CHECK_ERROR("[2, 3]");
    CHECK(cg_index(cg_sum(a), 0) == NULL);
    CHECK_ERROR("scalar");

    /* Softmax family on non-matrices, mismatched labels. */
    CHECK(cg_softmax(b) == NULL);
    CHECK_ERROR("softmax");
    CHECK_ERROR("[4]");
    CHECK(cg_log_softmax(b) == NULL);
    CHECK_ERROR("log_softmax");
    CHECK(cg_softmax_cross_entropy(a, b) == NULL);
    CHECK_ERROR("softmax_cross_entropy");
    CHECK_ERROR("[4]");
    CHECK(cg_sigmoid_cross_entropy(a, b) == NULL);
    CHECK_ERROR("sigmoid_cross_entropy");
    CHECK_ERROR("[2, 3]");
    CHECK(cg_argmax(b) == NULL);
    CHECK_ERROR("argmax");

    /* Bad leaf shapes. */
    CHECK(cg_variable(g, "z", 2, SH(2, 0), NULL) == NULL);
    CHECK_ERROR("cg_variable");
    CHECK(cg_variable(g, "z", 5, SH(1, 1, 1, 1, 1), NULL) == NULL);
    CHECK_ERROR("ndim");
    CHECK(cg_variable(g, "z", 1, SH(CG_BATCH), NULL) == NULL);
    CHECK_ERROR("cg_variable");
    CHECK(cg_placeholder(g, "z", 2, SH(2, CG_BATCH)) == NULL);
    CHECK_ERROR("cg_placeholder");
    CHECK(cg_constant(g, 1, SH(2), NULL) == NULL);
    CHECK_ERROR("cg_constant");
    cg_graph_free(g);
}

static void test_unfed(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "images", 2, SH(2, 3));
    cg_node *y = cg_relu(x);
    cg_clear_error();
    CHECK(cg_forward(y) == CG_ERR_STATE);
    CHECK_ERROR("images");
    CHECK_ERROR("not fed");
    /* An open batch placeholder, never fed. */
    cg_graph *g2 = cg_graph_new();
    cg_node *x2 = cg_placeholder(g2, "batchy", 2, SH(CG_BATCH, 3));
    cg_node *w = cg_variable(g2, "w", 2, SH(3, 1), NULL);
    cg_node *c = cg_sum(cg_matmul(x2, w, 0, 0));
    CHECK(c != NULL);
    CHECK(cg_forward(c) < 0);
    CHECK_ERROR("batchy");
    CHECK(cg_backward(c) < 0);
    CHECK_ERROR("batchy");
    /* Two placeholders, one fed: the other is named. */
    cg_node *lab = cg_placeholder(g2, "labels", 1, SH(CG_BATCH));
    cg_node *loss = cg_softmax_cross_entropy(cg_matmul(x2, w, 0, 0), lab);
    CHECK(loss != NULL);
    CHECK(cg_feed(x2, (const cg_real[]){1, 2, 3, 4, 5, 6}, 2) == CG_OK);
    CHECK(cg_forward(loss) == CG_ERR_STATE);
    CHECK_ERROR("labels");
    cg_graph_free(g2);
    cg_graph_free(g);
}

static void test_backward_scalar(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_variable(g, "a", 2, SH(2, 3), NULL);
    cg_node *y = cg_tanh(a);
    cg_clear_error();
    CHECK(cg_backward(y) == CG_ERR_SHAPE);
    CHECK_ERROR("scalar");
    CHECK_ERROR("[2, 3]");
    CHECK(cg_backward(NULL) == CG_ERR_ARG);
    CHECK_ERROR("cg_backward");
    CHECK(cg_forward(NULL) == CG_ERR_ARG);
    CHECK_ERROR("cg_forward");
    cg_graph_free(g);
}

static void test_null(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *a = cg_variable(g, "a", 2, SH(2, 3), NULL);
    cg_node *p = cg_placeholder(g, "p", 1, SH(3));
    cg_clear_error();
    CHECK(cg_add(NULL, a) == NULL);
    CHECK_ERROR("add");
    CHECK_ERROR("NULL");
    CHECK(cg_matmul(a, NULL, 0, 0) == NULL);
    CHECK_ERROR("matmul");
    CHECK(cg_tanh(NULL) == NULL);
    CHECK_ERROR("tanh");
    CHECK(cg_softmax_cross_entropy(NULL, NULL) == NULL);
    CHECK_ERROR("softmax_cross_entropy");
    CHECK(cg_reshape(NULL, 1, SH(6)) == NULL);
    CHECK_ERROR("reshape");
    CHECK(cg_sum_axis(NULL, 0) == NULL);
    CHECK_ERROR("sum_axis");

    CHECK(cg_feed(NULL, (const cg_real[]){1, 2, 3}, 1) == CG_ERR_ARG);
    CHECK_ERROR("cg_feed");
    CHECK(cg_feed(p, NULL, 3) == CG_ERR_ARG);
    CHECK_ERROR("cg_feed");
    CHECK(cg_feed_buffer(NULL, 1) == NULL);
    CHECK_ERROR("cg_feed");
    CHECK(cg_feed_by_name(NULL, "p", (const cg_real[]){1, 2, 3}, 1) == CG_ERR_ARG);
    CHECK_ERROR("cg_feed_by_name");
    CHECK(cg_feed_by_name(g, NULL, (const cg_real[]){1, 2, 3}, 1) == CG_ERR_ARG);
    CHECK_ERROR("cg_feed_by_name");
    CHECK(cg_feed_by_name(g, "nobody", (const cg_real[]){1, 2, 3}, 1) == CG_ERR_ARG);
    CHECK_ERROR("nobody");
    /* Feeding something that is not a placeholder. */
    CHECK(cg_feed(a, (const cg_real[]){1, 2, 3, 4, 5, 6}, 2) == CG_ERR_ARG);
    CHECK_ERROR("'a'");
    CHECK_ERROR("not a placeholder");
    CHECK(cg_variable(NULL, "v", 1, SH(3), NULL) == NULL);
    CHECK_ERROR("cg_variable");
    CHECK(cg_placeholder(NULL, "v", 1, SH(3)) == NULL);
    CHECK_ERROR("cg_placeholder");

    /* A NULL from an earlier failure keeps the first message. */
    cg_node *b = cg_variable(g, "b", 1, SH(4), NULL);
    cg_node *bad = cg_add(a, b);
    CHECK(bad == NULL);
    cg_node *chain = cg_sum(cg_relu(cg_mul(bad, a)));
    CHECK(chain == NULL);
    CHECK_ERROR("add: shapes [2, 3] and [4]");
    CHECK(cg_forward(chain) == CG_ERR_ARG);

    /* Nodes of two graphs do not mix. */
    cg_graph *g2 = cg_graph_new();
    cg_node *o = cg_variable(g2, "other", 2, SH(2, 3), NULL);
    CHECK(cg_add(a, o) == NULL);
    CHECK_ERROR("another graph");
    CHECK_ERROR("'other'");
    cg_graph_free(g2);
    cg_graph_free(g);
}

static void test_names(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *w = cg_variable(g, "w", 1, SH(3), (const cg_real[]){1, 2, 3});
    size_t params = cg_graph_param_count(g);
    int count = cg_graph_node_count(g);
    cg_clear_error();
    CHECK(cg_variable(g, "w", 1, SH(5), NULL) == NULL);
    CHECK_ERROR("'w'");
    CHECK_ERROR("already exists");
    CHECK(cg_placeholder(g, "w", 1, SH(2)) == NULL);
    CHECK_ERROR("'w'");
    CHECK(cg_state(g, "w", 1, SH(2), NULL) == NULL);
    CHECK_ERROR("'w'");
    /* Nothing changed, and w's values are intact. */
    CHECK(cg_graph_param_count(g) == params && cg_graph_node_count(g) == count);
    CHECK(cg_node_value(w) == cg_graph_params(g));
    CHECK(cg_node_value(w)[2] == 3);
    cg_node *x = cg_placeholder(g, "x", 1, SH(3));
    CHECK(x != NULL);
    CHECK(cg_node_set_name(x, "w") != CG_OK);
    CHECK_ERROR("'w'");
    CHECK(cg_node_set_name(x, "x2") == CG_OK);
    CHECK(cg_graph_find(g, "x2") == x);
    cg_graph_free(g);
}

static void test_feed_rows(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "fixed", 2, SH(3, 2));
    cg_node *o = cg_placeholder(g, "open", 2, SH(CG_BATCH, 2));
    cg_real v[8] = {0};
    cg_clear_error();
    CHECK(cg_feed(x, v, 2) == CG_ERR_SHAPE);
    CHECK_ERROR("'fixed'");
    CHECK_ERROR("3 rows");
    CHECK_ERROR("2 fed");
    CHECK(cg_feed_buffer(x, 4) == NULL);
    CHECK_ERROR("4 fed");
    CHECK(cg_feed(x, v, 3) == CG_OK);
    CHECK(cg_feed(o, v, 0) == CG_ERR_SHAPE);
    CHECK_ERROR("'open'");
    CHECK_ERROR("batch size 0");
    CHECK(cg_feed(o, v, -2) == CG_ERR_SHAPE);
    CHECK(cg_feed(o, v, 4) == CG_OK);
    cg_graph_free(g);
}

static void test_labels(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *z = cg_variable(g, "z", 2, SH(3, 4), NULL);
    cg_node *y = cg_placeholder(g, "y", 1, SH(3));
    cg_node *loss = cg_softmax_cross_entropy(z, y);
    CHECK(loss != NULL);
    cg_clear_error();
    CHECK(cg_feed(y, (const cg_real[]){0, 7, 1}, 3) == CG_OK);
    CHECK(cg_forward(loss) == CG_ERR_ARG);
    CHECK_ERROR("softmax_cross_entropy");
    CHECK_ERROR("label 7");
    CHECK_ERROR("example 1");
    CHECK(cg_backward(loss) == CG_ERR_ARG);
    CHECK_ERROR("label 7");
    CHECK(cg_feed(y, (const cg_real[]){-1, 0, 1}, 3) == CG_OK);
    CHECK(cg_forward(loss) == CG_ERR_ARG);
    CHECK_ERROR("label -1");
    CHECK_ERROR("example 0");
    CHECK(cg_feed(y, (const cg_real[]){0, 1, 2.5}, 3) == CG_OK);
    CHECK(cg_forward(loss) == CG_ERR_ARG);
    CHECK_ERROR("label 2.5");
    CHECK(cg_feed(y, (const cg_real[]){0, 1, 4}, 3) == CG_OK);
    CHECK(cg_forward(loss) == CG_ERR_ARG);
    CHECK_ERROR("0..3");
    /* Good labels afterwards run fine: the fault does not stick. */
    CHECK(cg_feed(y, (const cg_real[]){0, 3, 2}, 3) == CG_OK);
    CHECK(cg_forward(loss) == CG_OK);
    CHECK_NEAR(cg_node_scalar(loss), log(4.0), 1e-5);
    CHECK(cg_backward(loss) == CG_OK);
    cg_graph_free(g);
}

int main(void)
{
    test_shapes();
    test_unfed();
    test_backward_scalar();
    test_null();
    test_names();
    test_feed_rows();
    test_labels();
    CHECK_DONE();
}
