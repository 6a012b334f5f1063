/* SPDX-License-Identifier: MIT */
/* test_conv.c: the convolution ops in the float library, beyond their
 * gradients (dtest_gradcheck_conv.c): bad arguments give errors that name
 * the problem; a training step of a small CNN allocates nothing; the
 * forward is the same bits at 1 and 2 threads and the gradients agree;
 * the portable product loops agree with BLAS. */
#include "check.h"
#include "ops/conv.h"

#include <cgrad.h>
#include <stdlib.h>

#define SH(...) ((const int[]){__VA_ARGS__})

static void fill(cg_rng *r, cg_real *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) v[i] = (cg_real)(scale * (2 * cg_rng_uniform(r) - 1));
}

static cg_node *rand_var(cg_graph *g, cg_rng *r, const char *name, int nd, const int *sh,
                         double scale)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++) n *= (size_t)sh[i];
    cg_real *v = malloc(n * sizeof *v);
    fill(r, v, n, scale);
    cg_node *x = cg_variable(g, name, nd, sh, v);
    free(v);
    return x;
}

static void check_errors(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 4, SH(CG_BATCH, 3, 8, 8));
    cg_node *x3 = cg_placeholder(g, "x3", 3, SH(CG_BATCH, 8, 8));
    cg_node *w = cg_variable(g, "w", 4, SH(4, 3, 3, 3), NULL);
    cg_node *wg = cg_variable(g, "wg", 4, SH(4, 1, 3, 3), NULL);
    cg_node *b5 = cg_variable(g, "b5", 1, SH(5), NULL);

    CHECK(cg_conv2d(x3, w, NULL, 1, 1, 0, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("conv2d: input must be 4-D");
    CHECK(cg_conv2d(x, x3, NULL, 1, 1, 0, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("conv2d: weight must be 4-D");
    CHECK(cg_conv2d(x, wg, NULL, 1, 1, 0, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("has 1 input channels per group");
    CHECK(cg_conv2d(x, wg, NULL, 1, 1, 0, 0, 1, 1, 3) == NULL); /* 4 filters, 3 groups */
    CHECK_ERROR("groups 3 must divide");
    CHECK(cg_conv2d(x, w, b5, 1, 1, 0, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("bias has shape [5], expected [4]");
    CHECK(cg_conv2d(x, w, NULL, 0, 1, 0, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("stride 0,1 must be at least 1");
    CHECK(cg_conv2d(x, w, NULL, 1, 1, -2, 0, 1, 1, 1) == NULL);
    CHECK_ERROR("padding -2,0");
    CHECK(cg_conv2d(x, w, NULL, 1, 1, 0, 0, 1, 0, 1) == NULL);
    CHECK_ERROR("dilation 1,0");
    CHECK(cg_conv2d(x, w, NULL, 1, 1, 0, 0, 1, 1, 0) == NULL);
    CHECK_ERROR("groups 0");
    CHECK(cg_conv2d(x, w, NULL, 1, 1, 0, 0, 4, 4, 1) == NULL); /* span 9 > 8 */
    CHECK_ERROR("does not fit input");

    CHECK(cg_max_pool2d(x3, 2, 2, 2, 2, 0, 0) == NULL);
    CHECK_ERROR("max_pool2d: input must be 4-D");
    CHECK(cg_avg_pool2d(x, 2, 2, 2, 2, 2, 0) == NULL);
    CHECK_ERROR("avg_pool2d: padding 2,0 must be between 0 and half the kernel");
    CHECK(cg_max_pool2d(x, 0, 2, 2, 2, 0, 0) == NULL);
    CHECK_ERROR("kernel 0x2");
    CHECK(cg_max_pool2d(x, 2, 2, 2, 0, 0, 0) == NULL);
    CHECK_ERROR("stride 2,0");
    CHECK(cg_max_pool2d(x, 9, 2, 1, 1, 0, 0) == NULL);
    CHECK_ERROR("window 9x2 does not fit");
    CHECK(cg_global_avg_pool2d(x3) == NULL);
    CHECK_ERROR("global_avg_pool2d: input must be 4-D");
    CHECK(cg_flatten(cg_scalar(g, 1)) == NULL);
    CHECK_ERROR("flatten: input is a scalar");

    cg_node *g3 = cg_variable(g, "g3", 1, SH(3), NULL), *g4 = cg_variable(g, "g4", 1, SH(4), NULL);
    cg_node *s3 = cg_state(g, "s3", 1, SH(3), NULL);
    CHECK(cg_batch_norm2d(x, g4, g3, s3, s3, 0.1, 1e-5) == NULL);
    CHECK_ERROR("batch_norm2d: gamma has shape [4], expected [3]");
    CHECK(cg_batch_norm2d(x, g3, g3, g3, s3, 0.1, 1e-5) == NULL);
    CHECK_ERROR("running statistics must be state");
    CHECK(cg_batch_norm2d(x3, g3, g3, s3, s3, 0.1, 1e-5) == NULL);
    CHECK_ERROR("batch_norm2d: input must be 4-D");
    CHECK(cg_batch_norm2d(x, g3, g3, s3, s3, 1.5, 1e-5) == NULL);
    CHECK_ERROR("momentum 1.5");
    CHECK(cg_batch_norm2d(x, g3, g3, s3, s3, 0.1, 0) == NULL);
    CHECK_ERROR("eps 0");

    /* A NULL input anywhere in a chain gives NULL, keeping the first error. */
    CHECK(cg_flatten(cg_max_pool2d(cg_conv2d(x3, w, NULL, 1, 1, 0, 0, 1, 1, 1), 2, 2, 2, 2, 0,
                                   0)) == NULL);
    CHECK_ERROR("conv2d: input must be 4-D");

    /* One value per channel has no batch variance. */
    cg_node *one = cg_placeholder(g, "one", 4, SH(CG_BATCH, 3, 1, 1));
    cg_node *bn = cg_batch_norm2d(one, g3, g3, s3, cg_state(g, "s3b", 1, SH(3), NULL), 0.1, 1e-5);
    CHECK(bn != NULL);
    CHECK(cg_feed(one, (const cg_real[]){1, 2, 3}, 1) == CG_OK);
    CHECK(cg_forward(bn) == CG_ERR_SHAPE);
    CHECK_ERROR("no variance");
    cg_graph_set_training(g, 0);
    CHECK(cg_forward(bn) == CG_OK);
    cg_graph_free(g);
}

/* A small CNN: conv(3x3 same) + bn2d + relu + max pool + grouped conv +
 * avg pool + flatten + dense, softmax cross-entropy. */
typedef struct net {
    cg_graph *g;
    cg_node *x, *y, *logits, *cost;
} net;

static net build_net(uint64_t seed)
{
    net n;
    cg_rng r;
    cg_rng_seed(&r, seed);
    n.g = cg_graph_new();
    n.x = cg_placeholder(n.g, "x", 4, SH(CG_BATCH, 2, 12, 12));
    n.y = cg_placeholder(n.g, "y", 1, SH(CG_BATCH));
    cg_node *w1 = rand_var(n.g, &r, "w1", 4, SH(8, 2, 3, 3), 0.4);
    cg_node *b1 = rand_var(n.g, &r, "b1", 1, SH(8), 0.1);
    cg_node *gm = cg_variable(n.g, "gamma", 1, SH(8), (const cg_real[]){1, 1, 1, 1, 1, 1, 1, 1});
    cg_node *bt = cg_variable(n.g, "beta", 1, SH(8), NULL);
    cg_node *rm = cg_state(n.g, "rm", 1, SH(8), NULL);
    cg_node *rv = cg_state(n.g, "rv", 1, SH(8), (const cg_real[]){1, 1, 1, 1, 1, 1, 1, 1});
    cg_node *w2 = rand_var(n.g, &r, "w2", 4, SH(8, 4, 3, 3), 0.3);
    cg_node *wd = rand_var(n.g, &r, "wd", 2, SH(8 * 3 * 3, 5), 0.3);
    cg_node *bd = cg_variable(n.g, "bd", 1, SH(5), NULL);
    cg_node *h = cg_conv2d(n.x, w1, b1, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 1);
    h = cg_relu(cg_batch_norm2d(h, gm, bt, rm, rv, 0.1, 1e-5));
    h = cg_max_pool2d(h, 2, 2, 2, 2, 0, 0);                       /* [., 8, 6, 6] */
    h = cg_relu(cg_conv2d(h, w2, NULL, 1, 1, 1, 1, 1, 1, 2));
    h = cg_avg_pool2d(h, 2, 2, 2, 2, 0, 0);                       /* [., 8, 3, 3] */
    n.logits = cg_add(cg_matmul(cg_flatten(h), wd, 0, 0), bd);
    n.cost = cg_softmax_cross_entropy(n.logits, n.y);
    return n;
}

static void batch(cg_rng *r, int m, cg_real *xv, cg_real *yv)
{
    fill(r, xv, (size_t)m * 2 * 144, 1);
    for (int i = 0; i < m; i++) yv[i] = (cg_real)cg_rng_below(r, 5);
}

/* Planned once, training steps allocate nothing; and it learns a fixed
 * batch (the loss falls). */
static void check_no_alloc(void)
{
    net n = build_net(1);
    CHECK(n.cost != NULL);
    if (!n.cost) { fprintf(stderr, "%s\n", cg_last_error()); return; }
    cg_optimizer *o = cg_adam_default(0.01);
    cg_rng r;
    cg_rng_seed(&r, 2);
    static cg_real xv[16 * 288], yv[16];
    batch(&r, 16, xv, yv);
    cg_real first = 0, loss = 0;
    CHECK(cg_feed(n.x, xv, 16) == CG_OK && cg_feed(n.y, yv, 16) == CG_OK);
    CHECK(cg_minimize_step(o, n.cost, &first) == CG_OK);
    size_t before = cg_alloc_count();
    for (int s = 0; s < 30; s++) {
        CHECK(cg_feed(n.x, xv, 16) == CG_OK && cg_feed(n.y, yv, 16) == CG_OK);
        CHECK(cg_minimize_step(o, n.cost, &loss) == CG_OK);
    }
    CHECK(cg_alloc_count() == before);
    CHECK(loss < 0.5 * first);
    if (!(loss < 0.5 * first)) fprintf(stderr, "loss %g -> %g\n", (double)first, (double)loss);
    cg_optimizer_free(o);
    cg_graph_free(n.g);
}

/* One forward and backward of a fresh net at `threads`, portable or BLAS
 * products: logits and the gradient buffer copied out. */
static void run_once(int threads, int portable, int m, cg_real *logits, cg_real *grads,
                     size_t *np)
{
    cg_set_threads(threads);
    cg_conv_use_portable_gemm(portable);
    net n = build_net(3);
    cg_rng r;
    cg_rng_seed(&r, 4);
    static cg_real xv[7 * 288], yv[7];
    batch(&r, m, xv, yv);
    CHECK(cg_feed(n.x, xv, m) == CG_OK && cg_feed(n.y, yv, m) == CG_OK);
    CHECK(cg_backward(n.cost) == CG_OK);
    memcpy(logits, cg_node_value(n.logits), (size_t)m * 5 * sizeof *logits);
    *np = cg_graph_param_count(n.g);
    memcpy(grads, cg_graph_grads(n.g), *np * sizeof *grads);
    cg_graph_free(n.g);
    cg_conv_use_portable_gemm(0);
}

static double max_rel(const cg_real *a, const cg_real *b, size_t n)
{
    double scale = 0, d = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)a[i]));
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d / (scale > 0 ? scale : 1);
}

static void check_threads_and_paths(void)
{
    const int saved = cg_get_threads(), m = 7;
    static cg_real l1[35], l2[35], l3[35], g1[4096], g2[4096], g3[4096];
    size_t n1, n2, n3;
    run_once(1, 0, m, l1, g1, &n1);
    run_once(2, 0, m, l2, g2, &n2);
    run_once(2, 1, m, l3, g3, &n3);
    CHECK(n1 == n2 && n2 == n3 && n1 < 4096);
    /* Each image's output is one thread's work: the same bits. */
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    /* dW sums per-thread partials: the same up to rounding. */
    CHECK(max_rel(g1, g2, n1) < 1e-5);
    /* Portable loops against BLAS. */
    CHECK(max_rel(l2, l3, 35) < 1e-5);
    CHECK(max_rel(g2, g3, n1) < 1e-5);
    cg_set_threads(saved);
}

/* Single-image inference: at 2 threads the threads share the image
 * (conv.c); the result matches 1 thread's. */
static void check_batch1(void)
{
    const int saved = cg_get_threads();
    static cg_real out[2][32 * 14 * 14];
    for (int k = 0; k < 2; k++) {
        cg_set_threads(k + 1);
        cg_rng r;
        cg_rng_seed(&r, 8);
        cg_graph *g = cg_graph_new();
        cg_node *x = cg_placeholder(g, "x", 4, SH(CG_BATCH, 16, 14, 14));
        cg_node *w = rand_var(g, &r, "w", 4, SH(32, 16, 3, 3), 0.2);
        cg_node *b = rand_var(g, &r, "b", 1, SH(32), 0.2);
        cg_node *y = cg_conv2d(x, w, b, 1, 1, 1, 1, 1, 1, 1);
        static cg_real xv[16 * 196];
        fill(&r, xv, 16 * 196, 1);
        CHECK(y && cg_feed(x, xv, 1) == CG_OK && cg_forward(y) == CG_OK);
        if (y) memcpy(out[k], cg_node_value(y), sizeof out[k]);
        cg_graph_free(g);
    }
    CHECK(max_rel(out[0], out[1], 32 * 196) < 1e-6);
    cg_set_threads(saved);
}

int main(void)
{
    check_errors();
    check_no_alloc();
    check_threads_and_paths();
    check_batch1();
    CHECK_DONE();
}
