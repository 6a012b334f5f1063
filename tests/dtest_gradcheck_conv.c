/* SPDX-License-Identifier: MIT */
/* dtest_gradcheck_conv.c: the convolution ops (conv2d, max_pool2d,
 * avg_pool2d, global_avg_pool2d, batch_norm2d, and flatten, a reshape) in
 * double precision:
 *  - forward against direct loops written here from the definitions
 *    (a gradient check alone passes a wrong forward with a matching
 *    backward);
 *  - backward against central finite differences, as dtest_gradcheck.c:
 *    cost = sum(op(...) * R), R random, relative error
 *    |a - n| / max(|a|, |n|, 1e-3) below 1e-6 for every parameter;
 *  - conv2d both through BLAS and through the portable loops;
 *  - every stride, padding (explicit and "same"), dilation and groups case,
 *    the 1x1 fast path, batch sizes below and above the thread count (a
 *    batch of 5 large enough to run on several threads), a
 *    deeper net where gradients meet, and an open batch fed several sizes.
 * dtest_gradcheck.c leaves these ops to this file; the end of main checks
 * that each has a case here. */
#include "gradcheck.h"
#include "ops/conv.h"

#define FWD_TOL 1e-12

static int verbose;

/* ---- helpers ---- */

static double *randoms(cg_rng *r, size_t n, double lo, double hi)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) v[i] = lo + (hi - lo) * cg_rng_uniform(r);
    return v;
}

static cg_node *var_in(cg_graph *g, cg_rng *r, int nd, const int *sh, double lo, double hi)
{
    double *v = randoms(r, shape_size(nd, sh), lo, hi);
    cg_node *n = v ? cg_variable(g, NULL, nd, sh, v) : NULL;
    free(v);
    return n;
}

static cg_node *cst_in(cg_graph *g, cg_rng *r, int nd, const int *sh, double lo, double hi)
{
    double *v = randoms(r, shape_size(nd, sh), lo, hi);
    cg_node *n = v ? cg_constant(g, nd, sh, v) : NULL;
    free(v);
    return n;
}

/* Gradient check of cost, reported under `what`. */
static void expect_grads(cg_graph *g, cg_node *cost, const char *what)
{
    int nz = 0;
    double err = cost ? gradcheck(g, cost, &nz) : -1;
    if (verbose) printf("%-58s max rel err %.3g\n", what, err);
    if (err < 0) fprintf(stderr, "%s: failed: %s\n", what, cg_last_error());
    else if (err >= TOL) fprintf(stderr, "%s: max relative error %.3g\n", what, err);
    else if (!nz) fprintf(stderr, "%s: all gradients are zero\n", what);
    CHECK(err >= 0 && err < TOL && nz > 0);
}

/* Max |a - b| over n values. */
static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static int has_op(cg_graph *g, const char *op)
{
    for (int i = 0; i < cg_graph_node_count(g); i++)
        if (strcmp(cg_node_op(cg_graph_node(g, i)), op) == 0) return 1;
    return 0;
}

/* ---- conv2d ---- */

struct conv_case {
    const char *what;
    int N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, G, bias;
    int OH, OW;        /* expected output size (PyTorch's / TensorFlow's) */
};

static const struct conv_case conv_cases[] = {
    /*                                   N  C  H  W  K kh kw sh sw ph pw dh dw G  b  OH OW */
    {"3x3 valid, no bias",               2, 3, 5, 6, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1, 0, 3, 4},
    {"3x3 pad 1 (same), bias",           3, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5},
    {"3x3 stride 2 pad 1",               2, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, 3},
    {"2x3 stride 2,1 pad 0,2",           2, 2, 6, 5, 3, 2, 3, 2, 1, 0, 2, 1, 1, 1, 1, 3, 7},
    {"3x3 dilation 2 pad 2",             2, 2, 7, 7, 2, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1, 7, 7},
    {"3x2 dilation 2,3 stride 2 pad 1",  2, 2, 8, 9, 2, 3, 2, 2, 2, 1, 1, 2, 3, 1, 1, 3, 4},
    {"groups 2",                         2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1, 5, 5},
    {"groups 2, stride 2, dilation 2",   2, 4, 7, 7, 4, 3, 3, 2, 2, 2, 1, 2, 2, 2, 0, 4, 3},
    {"depthwise (groups = C)",           2, 3, 6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1, 6, 5},
    {"depthwise, multiplier 2, stride 2",3, 3, 6, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 3, 1, 3, 3},
    {"1x1 pointwise",                    3, 4, 4, 5, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 4, 5},
    {"1x1 pointwise, groups 2",          2, 4, 3, 3, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2, 1, 3, 3},
    {"1x1 stride 2",                     2, 3, 5, 5, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 3, 3},
    {"1x1 pad 1",                        2, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5},
    {"same, even kernel 2x4",            2, 2, 5, 6, 3, 2, 4, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 1, 1, 5, 6},
    {"same, 3x3 stride 2",               2, 2, 6, 7, 2, 3, 3, 2, 2, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 1, 1, 3, 4},
    {"same, 3x3 dilation 2",             2, 2, 5, 5, 2, 3, 3, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 2, 2, 1, 0, 5, 5},
    {"5x5 kernel larger than input",     2, 1, 3, 4, 2, 5, 5, 1, 1, 2, 2, 1, 1, 1, 1, 3, 4},
    {"batch 1",                          1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5},
    {"batch 5 (uneven thread split)",    5, 3,10,10, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 8, 8},
};
#define N_CONV ((int)(sizeof conv_cases / sizeof conv_cases[0]))

/* Forward only: a batch smaller than the thread count with enough work per
 * image that the threads share each image (conv.c, forward_shared). */
static const struct conv_case conv_shared_cases[] = {
    /*                                   N  C  H  W  K kh kw sh sw ph pw dh dw G  b  OH OW */
    {"batch 1, 3x3 pad 1",               1, 8,16,16,16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1,16,16},
    {"batch 1, stride 2, groups 2",      1, 8,33,31,32, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1,17,16},
    {"batch 1, 1x1 pointwise",           1,64, 8, 8,64, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 8, 8},
};
#define N_SHARED ((int)(sizeof conv_shared_cases / sizeof conv_shared_cases[0]))

/* Output size and padding before, as the header documents them. */
static int ref_out(int in, int k, int s, int p, int d, int *before)
{
    int span = d * (k - 1) + 1;
    if (p == CG_PAD_SAME) {
        int out = (in + s - 1) / s, total = (out - 1) * s + span - in;
        *before = total > 0 ? total / 2 : 0;
        return out;
    }
    *before = p;
    return (in + 2 * p - span) / s + 1;
}

/* y = conv(x, w) + b by the definition. */
static void ref_conv(const struct conv_case *c, const double *x, const double *w, const double *b,
                     double *y)
{
    int pt, pl;
    int OH = ref_out(c->H, c->kh, c->sh, c->ph, c->dh, &pt);
    int OW = ref_out(c->W, c->kw, c->sw, c->pw, c->dw, &pl);
    int Cg = c->C / c->G, Kg = c->K / c->G;
    for (int n = 0; n < c->N; n++)
        for (int k = 0; k < c->K; k++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    double s = b ? b[k] : 0;
                    for (int cg = 0; cg < Cg; cg++) {
                        int ch = (k / Kg) * Cg + cg;
                        for (int ki = 0; ki < c->kh; ki++)
                            for (int kj = 0; kj < c->kw; kj++) {
                                int ih = oh * c->sh - pt + ki * c->dh;
                                int iw = ow * c->sw - pl + kj * c->dw;
                                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                                s += w[((k * Cg + cg) * c->kh + ki) * c->kw + kj] *
                                     x[((n * c->C + ch) * c->H + ih) * c->W + iw];
                            }
                    }
                    y[((n * c->K + k) * OH + oh) * OW + ow] = s;
                }
}

/* Which inputs are variables: bit 0 x, bit 1 w (constants otherwise);
 * none: the forward alone is checked. */
static void check_conv_case(const struct conv_case *c, int vars, const char *path)
{
    char what[160];
    snprintf(what, sizeof what, "conv2d %s [%s%s] (%s)", c->what, vars & 1 ? "dx " : "",
             vars & 2 ? "dw db" : "", path);
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 7);
    const int *xs = SH(c->N, c->C, c->H, c->W), *ws = SH(c->K, c->C / c->G, c->kh, c->kw);
    cg_node *x = vars & 1 ? var_in(g, &r, 4, xs, -1.5, 1.5) : cst_in(g, &r, 4, xs, -1.5, 1.5);
    cg_node *w = vars & 2 ? var_in(g, &r, 4, ws, -1, 1) : cst_in(g, &r, 4, ws, -1, 1);
    cg_node *b = !c->bias ? NULL : vars & 2 ? var_in(g, &r, 1, SH(c->K), -1, 1)
                                            : cst_in(g, &r, 1, SH(c->K), -1, 1);
    cg_node *y = cg_conv2d(x, w, b, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw, c->G);
    if (!y) fprintf(stderr, "%s: %s\n", what, cg_last_error());
    CHECK(y != NULL);
    if (y) {
        CHECK(cg_node_ndim(y) == 4 && cg_node_dim(y, 0) == c->N && cg_node_dim(y, 1) == c->K &&
              cg_node_dim(y, 2) == c->OH && cg_node_dim(y, 3) == c->OW);
        CHECK(cg_forward(y) == CG_OK);
        size_t ny = shape_size(4, SH(c->N, c->K, c->OH, c->OW));
        double *want = malloc(ny * sizeof *want);
        ref_conv(c, cg_node_value(x), cg_node_value(w), b ? cg_node_value(b) : NULL, want);
        double d = max_diff(want, cg_node_value(y), ny);
        if (d > FWD_TOL) fprintf(stderr, "%s: forward differs from the loops by %g\n", what, d);
        CHECK(d <= FWD_TOL);
        free(want);
        if (vars) expect_grads(g, weigh(y, &r), what);
    }
    cg_graph_free(g);
}

/* ---- pooling ---- */

struct pool_case {
    const char *what;
    int max, N, C, H, W, kh, kw, sh, sw, ph, pw, OH, OW;
};

static const struct pool_case pool_cases[] = {
    /*                              max N  C  H  W kh kw sh sw ph pw OH OW */
    {"2x2 stride 2",                 1, 2, 3, 6, 6, 2, 2, 2, 2, 0, 0, 3, 3},
    {"2x2 stride 2, odd input",      1, 2, 2, 7, 5, 2, 2, 2, 2, 0, 0, 3, 2},
    {"3x3 stride 2 pad 1",           1, 2, 2, 7, 6, 3, 3, 2, 2, 1, 1, 4, 3},
    {"3x3 stride 1 pad 1 (overlap)", 1, 2, 2, 5, 4, 3, 3, 1, 1, 1, 1, 5, 4},
    {"2x3 stride 1,2 pad 1,1",       1, 2, 2, 5, 6, 2, 3, 1, 2, 1, 1, 6, 3},
    {"2x2 stride 2",                 0, 2, 3, 6, 6, 2, 2, 2, 2, 0, 0, 3, 3},
    {"3x3 stride 2 pad 1",           0, 2, 2, 7, 6, 3, 3, 2, 2, 1, 1, 4, 3},
    {"3x3 stride 1 pad 1 (overlap)", 0, 2, 2, 5, 4, 3, 3, 1, 1, 1, 1, 5, 4},
    {"2x3 stride 1,2 pad 1,1",       0, 2, 2, 5, 6, 2, 3, 1, 2, 1, 1, 6, 3},
    {"4x4 stride 3 pad 2",           0, 2, 1, 7, 7, 4, 4, 3, 3, 2, 2, 3, 3},
};
#define N_POOL ((int)(sizeof pool_cases / sizeof pool_cases[0]))

static void ref_pool(const struct pool_case *c, const double *x, double *y)
{
    for (int p = 0; p < c->N * c->C; p++)
        for (int oh = 0; oh < c->OH; oh++)
            for (int ow = 0; ow < c->OW; ow++) {
                double m = -INFINITY, s = 0;
                for (int ki = 0; ki < c->kh; ki++)
                    for (int kj = 0; kj < c->kw; kj++) {
                        int ih = oh * c->sh - c->ph + ki, iw = ow * c->sw - c->pw + kj;
                        if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W) continue;
                        double v = x[(p * c->H + ih) * c->W + iw];
                        m = fmax(m, v);
                        s += v;
                    }
                y[(p * c->OH + oh) * c->OW + ow] = c->max ? m : s / (c->kh * c->kw);
            }
}

static void check_pool_case(const struct pool_case *c)
{
    char what[160];
    snprintf(what, sizeof what, "%s %s", c->max ? "max_pool2d" : "avg_pool2d", c->what);
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 11);
    cg_node *x = var_in(g, &r, 4, SH(c->N, c->C, c->H, c->W), -2, 2);
    cg_node *y = c->max ? cg_max_pool2d(x, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw)
                        : cg_avg_pool2d(x, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw);
    CHECK(y != NULL);
    if (y) {
        CHECK(cg_node_dim(y, 0) == c->N && cg_node_dim(y, 1) == c->C &&
              cg_node_dim(y, 2) == c->OH && cg_node_dim(y, 3) == c->OW);
        CHECK(cg_forward(y) == CG_OK);
        size_t ny = shape_size(4, SH(c->N, c->C, c->OH, c->OW));
        double *want = malloc(ny * sizeof *want);
        ref_pool(c, cg_node_value(x), want);
        double d = max_diff(want, cg_node_value(y), ny);
        if (d > FWD_TOL) fprintf(stderr, "%s: forward differs from the loops by %g\n", what, d);
        CHECK(d <= FWD_TOL);
        free(want);
        expect_grads(g, weigh(y, &r), what);
    }
    cg_graph_free(g);
}

/* Max pooling's gradient goes to the first largest value of a window. */
static void check_max_pool_ties(void)
{
    cg_graph *g = cg_graph_new();
    const double x[8] = {1, 3, 3, 0, /**/ 2, 2, 2, 2};
    cg_node *v = cg_variable(g, NULL, 4, SH(1, 2, 2, 2), x);
    cg_node *y = cg_max_pool2d(v, 2, 2, 2, 2, 0, 0);
    CHECK(y && cg_backward(cg_sum(y)) == CG_OK);
    if (y) {
        const double want[8] = {0, 1, 0, 0, 1, 0, 0, 0};
        CHECK(cg_node_value(y)[0] == 3 && cg_node_value(y)[1] == 2);
        CHECK(max_diff(cg_node_grad(v), want, 8) == 0);
    }
    cg_graph_free(g);
}

/* ---- global average pooling and flatten ---- */

static void check_gap_flatten(void)
{
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 13);
    cg_node *x = var_in(g, &r, 4, SH(3, 4, 3, 5), -2, 2);
    cg_node *y = cg_global_avg_pool2d(x);
    CHECK(y && cg_node_ndim(y) == 2 && cg_node_dim(y, 0) == 3 && cg_node_dim(y, 1) == 4);
    if (y && cg_forward(y) == CG_OK) {
        double want[12];
        for (int p = 0; p < 12; p++) {
            double s = 0;
            for (int i = 0; i < 15; i++) s += cg_node_value(x)[p * 15 + i];
            want[p] = s / 15;
        }
        CHECK(max_diff(want, cg_node_value(y), 12) <= FWD_TOL);
    }
    expect_grads(g, weigh(y, &r), "global_avg_pool2d [3,4,3,5]");
    cg_graph_free(g);

    g = cg_graph_new();
    cg_rng_seed(&r, 14);
    x = var_in(g, &r, 4, SH(2, 3, 2, 4), -2, 2);
    y = cg_flatten(cg_tanh(x));
    CHECK(y && cg_node_ndim(y) == 2 && cg_node_dim(y, 0) == 2 && cg_node_dim(y, 1) == 24);
    if (y && cg_forward(y) == CG_OK)
        for (int i = 0; i < 48; i++) CHECK(cg_node_value(y)[i] == tanh(cg_node_value(x)[i]));
    expect_grads(g, weigh(y, &r), "flatten [2,3,2,4] -> [2,24]");
    cg_graph_free(g);
}

/* ---- batch norm over channels ---- */

/* train: forward against the definition, running statistics after one
 * step against PyTorch's rule, then the gradient; inference: normalised
 * by the running values, which stay put. */
static void check_bn2d(int training, int N, int C, int H, int W)
{
    char what[160];
    snprintf(what, sizeof what, "batch_norm2d %s [%d,%d,%d,%d]",
             training ? "training" : "inference", N, C, H, W);
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 17);
    cg_node *x = var_in(g, &r, 4, SH(N, C, H, W), -3, 3);
    cg_node *gamma = var_in(g, &r, 1, SH(C), 0.5, 2), *beta = var_in(g, &r, 1, SH(C), -1, 1);
    double rm0[8], rv0[8];
    for (int c = 0; c < C; c++) {
        rm0[c] = cg_rng_uniform(&r) - 0.5;
        rv0[c] = 0.5 + cg_rng_uniform(&r);
    }
    cg_node *rm = cg_state(g, NULL, 1, SH(C), rm0), *rv = cg_state(g, NULL, 1, SH(C), rv0);
    cg_graph_set_training(g, training);
    const double mom = 0.1, eps = 1e-3;
    cg_node *y = cg_batch_norm2d(x, gamma, beta, rm, rv, mom, eps);
    CHECK(y && cg_forward(y) == CG_OK);
    if (!y) { cg_graph_free(g); return; }
    const double *xv = cg_node_value(x), *gv = cg_node_value(gamma), *bv = cg_node_value(beta);
    const int hw = H * W;
    const double M = (double)N * hw;
    double worst = 0;
    for (int c = 0; c < C; c++) {
        double mu = 0, var2 = 0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < hw; i++) mu += xv[(n * C + c) * hw + i];
        mu /= M;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < hw; i++) var2 += pow(xv[(n * C + c) * hw + i] - mu, 2);
        var2 /= M;
        double m = training ? mu : rm0[c], v = training ? var2 : rv0[c];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < hw; i++) {
                int k = (n * C + c) * hw + i;
                double want = gv[c] * (xv[k] - m) / sqrt(v + eps) + bv[c];
                worst = fmax(worst, fabs(want - cg_node_value(y)[k]));
            }
        double want_rm = training ? (1 - mom) * rm0[c] + mom * mu : rm0[c];
        double want_rv = training ? (1 - mom) * rv0[c] + mom * var2 * M / (M - 1) : rv0[c];
        CHECK_NEAR(cg_node_value(rm)[c], want_rm, 1e-12);
        CHECK_NEAR(cg_node_value(rv)[c], want_rv, 1e-12);
    }
    if (worst > FWD_TOL) fprintf(stderr, "%s: forward differs by %g\n", what, worst);
    CHECK(worst <= FWD_TOL);
    expect_grads(g, weigh(y, &r), what);
    cg_graph_free(g);
}

/* ---- graphs of several ops ---- */

/* conv -> bn2d -> tanh -> max pool -> grouped conv -> avg pool (pad) ->
 * gap -> dense -> softmax cross-entropy; x also feeds a second conv whose
 * output is added at the end (its gradient meets the first path's), and
 * the same w feeds both convs. Two passes: the second must overwrite, not
 * add to, the first's gradients. */
static void check_net(void)
{
    for (int training = 0; training < 2; training++) {
        cg_graph *g = cg_graph_new();
        cg_rng r;
        cg_rng_seed(&r, 19u + (unsigned)training);
        cg_node *x = var_in(g, &r, 4, SH(3, 2, 8, 8), -1.5, 1.5);
        cg_node *w1 = var_in(g, &r, 4, SH(4, 2, 3, 3), -0.5, 0.5);
        cg_node *b1 = var_in(g, &r, 1, SH(4), -0.5, 0.5);
        cg_node *gm = var_in(g, &r, 1, SH(4), 0.5, 1.5), *bt = var_in(g, &r, 1, SH(4), -0.5, 0.5);
        double z4[4] = {0}, o4[4] = {1, 1, 1, 1};
        cg_node *rm = cg_state(g, NULL, 1, SH(4), z4), *rv = cg_state(g, NULL, 1, SH(4), o4);
        cg_node *w2 = var_in(g, &r, 4, SH(6, 2, 3, 3), -0.5, 0.5);
        cg_node *wd = var_in(g, &r, 2, SH(6, 3), -1, 1), *bd = var_in(g, &r, 1, SH(3), -0.5, 0.5);
        cg_graph_set_training(g, training);
        cg_node *h = cg_conv2d(x, w1, b1, 1, 1, 1, 1, 1, 1, 1);
        h = cg_tanh(cg_batch_norm2d(h, gm, bt, rm, rv, 0.1, 1e-3));
        h = cg_max_pool2d(h, 2, 2, 2, 2, 0, 0);                 /* [3,4,4,4] */
        h = cg_conv2d(h, w2, NULL, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 2);
        h = cg_avg_pool2d(h, 3, 3, 2, 2, 1, 1);                 /* [3,6,2,2] */
        cg_node *logits = cg_add(cg_matmul(cg_global_avg_pool2d(h), wd, 0, 0), bd);
        cg_node *side = cg_conv2d(x, w1, NULL, 2, 2, 0, 0, 1, 1, 1); /* x and w1 again */
        cg_node *labels = cg_constant(g, 1, SH(3), (const double[]){2, 0, 1});
        cg_node *cost = cg_add(cg_softmax_cross_entropy(logits, labels), weigh(side, &r));
        CHECK(cost != NULL);
        for (int pass = 0; cost && pass < 2; pass++)
            expect_grads(g, cost, training ? "net, training" : "net, inference");
        cg_graph_free(g);
    }
}

/* An open batch: the workspace is re-planned for each batch size. */
static void check_open_batch(void)
{
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 23);
    cg_node *x = cg_placeholder(g, "x", 4, SH(CG_BATCH, 2, 6, 6));
    cg_node *y = cg_placeholder(g, "y", 1, SH(CG_BATCH));
    cg_node *w = var_in(g, &r, 4, SH(3, 2, 3, 3), -0.5, 0.5), *b = var_in(g, &r, 1, SH(3), -0.5, 0.5);
    cg_node *wd = var_in(g, &r, 2, SH(12, 4), -0.5, 0.5);
    cg_node *h = cg_max_pool2d(cg_tanh(cg_conv2d(x, w, b, 1, 1, 0, 0, 1, 1, 1)), 2, 2, 2, 2, 0, 0);
    cg_node *cost = cg_softmax_cross_entropy(cg_matmul(cg_flatten(h), wd, 0, 0), y);
    CHECK(cost != NULL && cg_node_dim(h, 0) == CG_BATCH);
    const int sizes[3] = {3, 1, 6};
    for (int k = 0; cost && k < 3; k++) {
        int m = sizes[k];
        double *xv = randoms(&r, (size_t)m * 72, -1, 1), yv[6];
        for (int i = 0; i < m; i++) yv[i] = (double)cg_rng_below(&r, 4);
        CHECK(cg_feed(x, xv, m) == CG_OK && cg_feed(y, yv, m) == CG_OK);
        char what[64];
        snprintf(what, sizeof what, "open batch, fed %d", m);
        expect_grads(g, cost, what);
        free(xv);
    }
    cg_graph_free(g);
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    for (int portable = 0; portable < 2; portable++) {
        cg_conv_use_portable_gemm(portable);
        for (int k = 0; k < N_CONV; k++)
            for (int vars = 1; vars <= 3; vars++)
                if (vars == 3 || k < 3 || portable == 0)
                    check_conv_case(&conv_cases[k], vars, portable ? "loops" : "BLAS");
        for (int k = 0; k < N_SHARED; k++)
            check_conv_case(&conv_shared_cases[k], 0, portable ? "loops" : "BLAS");
    }
    cg_conv_use_portable_gemm(0);
    for (int k = 0; k < N_POOL; k++) check_pool_case(&pool_cases[k]);
    check_max_pool_ties();
    check_gap_flatten();
    check_bn2d(1, 3, 2, 3, 4);
    check_bn2d(0, 3, 2, 3, 4);
    check_bn2d(1, 1, 3, 1, 2); /* M = 2: the smallest batch with a variance */
    check_net();
    check_open_batch();

    /* The ops dtest_gradcheck.c leaves to this file are all in the op
     * table and all built above. */
    static const char *const ops[] = {"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool2d",
                                      "batch_norm2d"};
    for (int i = 0; i < 5; i++) {
        int found = 0;
        for (int k = 0; k < cg_op_count(); k++)
            found += strcmp(cg_op_name(k), ops[i]) == 0 && cg_op_differentiable(k);
        CHECK(found == 1);
    }
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_variable(g, NULL, 4, SH(2, 2, 4, 4), NULL);
    cg_node *one = cg_variable(g, NULL, 1, SH(2), NULL);
    cg_node *w = cg_variable(g, NULL, 4, SH(2, 2, 1, 1), NULL);
    cg_node *s1 = cg_state(g, NULL, 1, SH(2), NULL), *s2 = cg_state(g, NULL, 1, SH(2), NULL);
    CHECK(cg_global_avg_pool2d(cg_avg_pool2d(cg_max_pool2d(cg_batch_norm2d(cg_conv2d(
              x, w, NULL, 1, 1, 0, 0, 1, 1, 1), one, one, s1, s2, 0.1, 1e-5), 2, 2, 1, 1, 0, 0),
              2, 2, 1, 1, 0, 0)) != NULL);
    for (int i = 0; i < 5; i++) CHECK(has_op(g, ops[i]));
    cg_graph_free(g);
    CHECK_DONE();
}
