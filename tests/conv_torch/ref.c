/* SPDX-License-Identifier: MIT */
/* conv_torch/ref.c: the convolution ops on fixed random inputs, written
 * for test_conv_torch.sh to compare with PyTorch. For each case of
 * compare.py (same order), to the file argv[1], as float64: the inputs x,
 * w, b, then y = conv2d, avg pool, max pool, batch_norm2d (training) and
 * its running mean and variance, and the gradients of
 * cost = sum(avg^2) + sum(max^2) + sum(bn^2) + sum(gap(y^2)) w.r.t. x, w, b. */
#include <cgrad.h>
#include <stdio.h>

#define SH(...) ((const int[]){__VA_ARGS__})

struct tcase {
    int N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, G;
    int ak, as, ap;         /* avg pool: kernel, stride, padding (square) */
    int mkh, mkw, msh, msw, mph, mpw;
};

static const struct tcase cases[] = {
    {2, 4, 7, 6, 6, 2, 3, 1, 1, CG_PAD_SAME, CG_PAD_SAME, 1, 2, 2, 3, 2, 1, 3, 2, 2, 1, 1, 1},
    {2, 3, 9, 8, 3, 3, 3, 2, 2, 1, 1, 1, 1, 3, 2, 2, 0, 2, 2, 2, 2, 0, 0},
    {3, 2, 8, 7, 4, 3, 3, 2, 2, CG_PAD_SAME, CG_PAD_SAME, 1, 1, 1, 2, 1, 1, 3, 3, 1, 1, 1, 1},
    {2, 2, 10, 9, 3, 5, 3, 1, 2, 2, 0, 2, 1, 1, 4, 3, 2, 2, 2, 2, 2, 0, 0},
};

static void put(FILE *f, cg_node *n, int grad)
{
    fwrite(grad ? cg_node_grad(n) : cg_node_value(n), sizeof(cg_real), cg_node_size(n), f);
}

static int run(const struct tcase *c, cg_rng *r, FILE *f)
{
    static cg_real xv[4096], wv[1024], bv[64], one[64], zero[64];
    const int nx = c->N * c->C * c->H * c->W, nw = c->K * (c->C / c->G) * c->kh * c->kw;
    for (int i = 0; i < nx; i++) xv[i] = (cg_real)cg_rng_normal(r);
    for (int i = 0; i < nw; i++) wv[i] = (cg_real)cg_rng_normal(r);
    for (int i = 0; i < c->K; i++) {
        bv[i] = (cg_real)cg_rng_normal(r);
        one[i] = 1;
        zero[i] = 0;
    }
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_variable(g, NULL, 4, SH(c->N, c->C, c->H, c->W), xv);
    cg_node *w = cg_variable(g, NULL, 4, SH(c->K, c->C / c->G, c->kh, c->kw), wv);
    cg_node *b = cg_variable(g, NULL, 1, SH(c->K), bv);
    cg_node *y = cg_conv2d(x, w, b, c->sh, c->sw, c->ph, c->pw, c->dh, c->dw, c->G);
    cg_node *ap = cg_avg_pool2d(y, c->ak, c->ak, c->as, c->as, c->ap, c->ap);
    cg_node *mp = cg_max_pool2d(y, c->mkh, c->mkw, c->msh, c->msw, c->mph, c->mpw);
    cg_node *gm = cg_variable(g, NULL, 1, SH(c->K), one), *bt = cg_variable(g, NULL, 1, SH(c->K), zero);
    cg_node *rm = cg_state(g, NULL, 1, SH(c->K), zero), *rv = cg_state(g, NULL, 1, SH(c->K), one);
    cg_node *bn = cg_batch_norm2d(y, gm, bt, rm, rv, 0.1, 1e-5);
    cg_node *cost = cg_add(cg_add(cg_sum(cg_square(ap)), cg_sum(cg_square(mp))),
                           cg_add(cg_sum(cg_square(bn)), cg_sum(cg_global_avg_pool2d(cg_square(y)))));
    if (!cost || cg_backward(cost)) {
        fprintf(stderr, "ref: %s\n", cg_last_error());
        return 1;
    }
    put(f, x, 0), put(f, w, 0), put(f, b, 0);
    put(f, y, 0), put(f, ap, 0), put(f, mp, 0), put(f, bn, 0), put(f, rm, 0), put(f, rv, 0);
    put(f, x, 1), put(f, w, 1), put(f, b, 1);
    cg_graph_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    FILE *f = fopen(argv[1], "wb");
    if (!f) return 1;
    cg_rng r;
    cg_rng_seed(&r, 3);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (run(&cases[k], &r, f)) return 1;
    return fclose(f) != 0;
}
