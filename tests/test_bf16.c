// SPDX-License-Identifier: MIT
/* test_bf16.c: bf16 matrix products (cg_graph_set_precision) against fp32,
 * forward and both gradients, every transpose, shapes split over threads
 * and not: within 1e-2 relative per element on positive inputs (no
 * cancellation: each term's rounding is at most 2^-8 relative), and
 * exactly equal on inputs bf16 represents (small integers: every sum is
 * exact in fp32 either way); the same for convolutions (forward, dx, dW;
 * groups, pointwise, stride, and a single image shared by the threads);
 * and a bf16 training step, dense or convolutional, allocates nothing
 * after the first. Without bf16 (no oneDNN, no AVX-512 BF16, or
 * CG_DISABLE_BF16) cg_graph_set_precision must fail and say why. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

#define SH(...) ((const int[]){__VA_ARGS__})

typedef struct run {
    cg_real *c, *da, *db;
} run;

/* cost = sum(op(A) op(B) * R); fills c, dA, dB. */
static void product(int precision, int ta, int tb, int m, int n, int k, const cg_real *a,
                    const cg_real *b, const cg_real *r, run *out)
{
    cg_graph *g = cg_graph_new();
    cg_node *A = cg_variable(g, "A", 2, ta ? SH(k, m) : SH(m, k), a);
    cg_node *B = cg_variable(g, "B", 2, tb ? SH(n, k) : SH(k, n), b);
    cg_node *C = cg_matmul(A, B, ta, tb);
    cg_node *R = cg_constant(g, 2, SH(m, n), r);
    cg_node *cost = cg_sum(cg_mul(C, R));
    CHECK(cg_graph_set_precision(g, precision) == CG_OK);
    CHECK(cg_graph_precision(g) == precision);
    CHECK(cg_backward(cost) == CG_OK);
    memcpy(out->c, cg_node_value(C), (size_t)m * n * sizeof(cg_real));
    memcpy(out->da, cg_node_grad(A), (size_t)m * k * sizeof(cg_real));
    memcpy(out->db, cg_node_grad(B), (size_t)k * n * sizeof(cg_real));
    cg_graph_free(g);
}

/* A convolution's shape: batch, channels, square images h = w, output
 * channels, square kernel, stride, padding, groups. */
typedef struct conv_case {
    int n, c, h, w, k, kh, stride, pad, groups;
} conv_case;

static size_t conv_out(const conv_case *q)
{
    const int o = (q->h + 2 * q->pad - q->kh) / q->stride + 1;
    return (size_t)q->n * q->k * o * o;
}

/* cost = sum((conv(x, w) + bias) * R); fills y, dx, dw. */
static void conv(int precision, const conv_case *q, const cg_real *x, const cg_real *w,
                 const cg_real *r, cg_real *y, cg_real *dx, cg_real *dw)
{
    cg_graph *g = cg_graph_new();
    const size_t lx = (size_t)q->n * q->c * q->h * q->w;
    const size_t lw = (size_t)q->k * (q->c / q->groups) * q->kh * q->kh, ly = conv_out(q);
    cg_node *X = cg_variable(g, "x", 4, SH(q->n, q->c, q->h, q->w), x);
    cg_node *W = cg_variable(g, "w", 4, SH(q->k, q->c / q->groups, q->kh, q->kh), w);
    cg_node *b = cg_variable(g, "b", 1, SH(q->k), NULL);
    cg_node *Y = cg_conv2d(X, W, b, q->stride, q->stride, q->pad, q->pad, 1, 1, q->groups);
    CHECK(Y != NULL);
    const int o = (q->h + 2 * q->pad - q->kh) / q->stride + 1; /* square images */
    CHECK(q->h == q->w);
    cg_node *R = cg_constant(g, 4, SH(q->n, q->k, o, o), r);
    cg_node *cost = cg_sum(cg_mul(Y, R));
    CHECK(cg_graph_set_precision(g, precision) == CG_OK);
    CHECK(cg_backward(cost) == CG_OK);
    memcpy(y, cg_node_value(Y), ly * sizeof(cg_real));
    memcpy(dx, cg_node_grad(X), lx * sizeof(cg_real));
    memcpy(dw, cg_node_grad(W), lw * sizeof(cg_real));
    cg_graph_free(g);
}

static double max_rel(const cg_real *x, const cg_real *ref, size_t len)
{
    double worst = 0;
    for (size_t i = 0; i < len; i++) {
        double d = fabs((double)x[i] - ref[i]) / fabs((double)ref[i]);
        if (!(d <= worst)) worst = d; /* NaN included */
    }
    return worst;
}

static int equal(const cg_real *x, const cg_real *ref, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (x[i] != ref[i]) return 0;
    return 1;
}

static void fill(cg_rng *rng, cg_real *x, size_t len, int integers)
{
    for (size_t i = 0; i < len; i++)
        x[i] = integers ? (cg_real)((int)(cg_rng_uniform(rng) * 17) - 8)
                        : (cg_real)(0.5 + cg_rng_uniform(rng));
}

int main(void)
{
    char why[200];
    /* Forced off: the clear error, whatever the machine. */
    setenv("CG_DISABLE_BF16", "1", 1);
    cg_graph *g = cg_graph_new();
    CHECK(!cg_bf16_supported(why, sizeof why));
    CHECK(cg_graph_set_precision(g, CG_PRECISION_BF16) == CG_ERR_ARG);
    CHECK_ERROR("precision bf16: ");
    CHECK(cg_graph_precision(g) == CG_PRECISION_FP32);
    CHECK(cg_graph_set_precision(g, CG_PRECISION_AUTO) == CG_ERR_ARG);
    char said[300];
    CHECK(cg_precision_auto(g, said, sizeof said) == CG_PRECISION_FP32);
    CHECK(strstr(said, "fp32") != NULL);
    unsetenv("CG_DISABLE_BF16");
    CHECK(cg_precision_from_name("bf16") == CG_PRECISION_BF16);
    CHECK(cg_precision_from_name("fp16") == -1);
    CHECK(!strcmp(cg_precision_name(CG_PRECISION_AUTO), "auto"));
    if (!cg_bf16_supported(why, sizeof why)) {
        /* No oneDNN in the build, or no AVX-512 BF16 here: it says which. */
        CHECK(cg_graph_set_precision(g, CG_PRECISION_BF16) == CG_ERR_ARG);
        CHECK(strstr(cg_last_error(), "oneDNN") || strstr(cg_last_error(), "AVX-512 BF16"));
        printf("bf16 not available here (%s): the error checked, no products\n", why);
        cg_graph_free(g);
        CHECK_DONE();
    }
    cg_graph_free(g);
    /* auto: bf16 for products of CG_BF16_AUTO_MIN multiply-adds per row
     * and more, fp32 below. */
    for (int big = 0; big < 2; big++) {
        g = cg_graph_new();
        const int k = big ? 784 : 8, n = big ? 512 : 4;
        cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, k));
        cg_node *w = cg_variable(g, "w", 2, SH(k, n), NULL);
        CHECK(cg_matmul(x, w, 0, 0) != NULL);
        CHECK(cg_graph_product_size(g) == (long)k * n);
        CHECK(cg_precision_auto(g, said, sizeof said) ==
              (big ? CG_PRECISION_BF16 : CG_PRECISION_FP32));
        CHECK(strstr(said, big ? "auto: bf16" : "auto: fp32") != NULL);
        cg_graph_free(g);
    }
    /* A bf16 step allocates nothing once its primitives exist (the first
     * step makes them): a model's training steps, as test_alloc.c's, for
     * an MLP and a CNN (300 inputs = 3 x 10 x 10 images). */
    for (int cnn = 0; cnn < 2; cnn++) {
        cg_model *mm = cg_model_new(300, 10, 1);
        if (cnn) {
            CHECK(cg_model_set_input_shape(mm, 3, 10, 10) == CG_OK);
            CHECK(cg_model_add_conv2d(mm, 8, 3, 1, CG_PAD_SAME) == CG_OK);
            CHECK(cg_model_add_activation(mm, CG_RELU) == CG_OK);
            CHECK(cg_model_add_conv2d(mm, 8, 1, 1, 0) == CG_OK); /* pointwise */
            CHECK(cg_model_add_max_pool2d(mm, 2, 2) == CG_OK);
        } else {
            CHECK(cg_model_add_dense(mm, 256) == CG_OK);
            CHECK(cg_model_add_activation(mm, CG_RELU) == CG_OK);
        }
        CHECK(cg_graph_set_precision(cg_model_graph(mm), CG_PRECISION_BF16) == CG_OK);
        cg_optimizer *o = cg_sgd(0.01);
        static cg_real xb[64 * 300], yb[64];
        for (int i = 0; i < 64 * 300; i++) xb[i] = (cg_real)((i % 7) * 0.1);
        for (int i = 0; i < 64; i++) yb[i] = (cg_real)(i % 10);
        size_t before = 0;
        for (int step = 0; step < 6; step++) {
            if (step == 2) before = cg_alloc_count();
            CHECK(cg_feed(cg_model_input(mm), xb, 64) == CG_OK);
            CHECK(cg_feed(cg_model_labels(mm), yb, 64) == CG_OK);
            CHECK(cg_minimize_step(o, cg_model_loss(mm), NULL) == CG_OK);
        }
        CHECK(cg_alloc_count() == before);
        cg_optimizer_free(o);
        cg_model_free(mm);
    }
    setenv("CG_DISABLE_BF16", "1", 1);
    CHECK(!cg_bf16_supported(why, sizeof why) && strstr(why, "AVX-512 BF16"));
    unsetenv("CG_DISABLE_BF16");

    /* {m, n, k}: split over the threads (784-512 layer), a thin output
     * layer, odd sizes, one row of the batch. */
    static const int shapes[][3] = {{128, 512, 784}, {128, 10, 512}, {7, 13, 29}, {1, 64, 300}};
    cg_rng rng;
    cg_rng_seed(&rng, 7);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        const size_t la = (size_t)m * k, lb = (size_t)k * n, lc = (size_t)m * n;
        cg_real *a = malloc(la * sizeof *a), *b = malloc(lb * sizeof *b), *r = malloc(lc * sizeof *r);
        cg_real *buf = malloc(2 * (la + lb + lc) * sizeof *buf);
        run f = {buf, buf + lc, buf + lc + la}, h = {f.db + lb, f.db + lb + lc, f.db + lb + lc + la};
        for (int integers = 0; integers < 2; integers++) {
            fill(&rng, a, la, integers);
            fill(&rng, b, lb, integers);
            fill(&rng, r, lc, integers);
            for (int t = 0; t < 4; t++) {
                const int ta = t & 1, tb = t >> 1;
                product(CG_PRECISION_FP32, ta, tb, m, n, k, a, b, r, &f);
                product(CG_PRECISION_BF16, ta, tb, m, n, k, a, b, r, &h);
                if (integers) {
                    CHECK(equal(h.c, f.c, lc) && equal(h.da, f.da, la) && equal(h.db, f.db, lb));
                } else {
                    double e[3] = {max_rel(h.c, f.c, lc), max_rel(h.da, f.da, la),
                                   max_rel(h.db, f.db, lb)};
                    for (int j = 0; j < 3; j++)
                        if (!(e[j] <= 1e-2))
                            fprintf(stderr, "m %d n %d k %d ta %d tb %d: %s relative error %g\n", m,
                                    n, k, ta, tb, j ? j == 1 ? "dA" : "dB" : "C", e[j]);
                    CHECK(e[0] <= 1e-2 && e[1] <= 1e-2 && e[2] <= 1e-2);
                    /* And bf16 is in use: not bit-equal to fp32. */
                    if (m > 1) CHECK(!equal(h.c, f.c, lc));
                }
            }
        }
        free(a), free(b), free(r), free(buf);
    }
    /* Convolutions: 3x3 same over a batch (images split over the
     * threads), grouped, pointwise, strided, and one large image (the
     * threads share it: forward_shared). */
    static const conv_case convs[] = {{4, 3, 12, 12, 8, 3, 1, 1, 1}, {3, 4, 9, 9, 6, 3, 1, 1, 2},
                                      {4, 8, 7, 7, 16, 1, 1, 0, 1}, {2, 3, 11, 11, 5, 3, 2, 0, 1},
                                      {1, 16, 32, 32, 32, 3, 1, 1, 1}};
    for (size_t s = 0; s < sizeof convs / sizeof convs[0]; s++) {
        const conv_case *q = &convs[s];
        const size_t lx = (size_t)q->n * q->c * q->h * q->w;
        const size_t lw = (size_t)q->k * (q->c / q->groups) * q->kh * q->kh, ly = conv_out(q);
        const size_t all = ly + lx + lw;
        cg_real *x = malloc(lx * sizeof *x), *w = malloc(lw * sizeof *w), *r = malloc(ly * sizeof *r);
        cg_real *f = malloc(2 * all * sizeof *f), *h = f + all;
        for (int integers = 0; integers < 2; integers++) {
            fill(&rng, x, lx, integers);
            fill(&rng, w, lw, integers);
            fill(&rng, r, ly, integers);
            conv(CG_PRECISION_FP32, q, x, w, r, f, f + ly, f + ly + lx);
            conv(CG_PRECISION_BF16, q, x, w, r, h, h + ly, h + ly + lx);
            if (integers) {
                CHECK(equal(h, f, all));
            } else {
                double e[3] = {max_rel(h, f, ly), max_rel(h + ly, f + ly, lx),
                               max_rel(h + ly + lx, f + ly + lx, lw)};
                for (int j = 0; j < 3; j++)
                    if (!(e[j] <= 1e-2))
                        fprintf(stderr, "conv case %zu: %s relative error %g\n", s,
                                j ? j == 1 ? "dx" : "dw" : "y", e[j]);
                CHECK(e[0] <= 1e-2 && e[1] <= 1e-2 && e[2] <= 1e-2);
                CHECK(!equal(h, f, ly)); /* bf16 is in use */
            }
        }
        free(x), free(w), free(r), free(f);
    }
    CHECK_DONE();
}
