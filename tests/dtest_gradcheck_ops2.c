/* SPDX-License-Identifier: MIT */
/* dtest_gradcheck_ops2.c: gradient checks of the ops of issue 24 (NumPy
 * broadcasting, maximum/minimum, reductions over any axis, concat/split,
 * permute, gather, the activations beyond unary.c's, the regression
 * losses, log_softmax over an axis, views), against central finite
 * differences in double precision, as dtest_gradcheck.c does:
 *
 *   numeric  n = (J(p_i + h) - J(p_i - h)) / 2h,   h = 1e-5
 *   relative error = |a - n| / max(|a|, |n|, 1e-3) < 1e-6
 *
 * with J = sum(op(...) * W), W random, for every parameter p_i. Inputs of
 * ops with kinks are drawn away from them (a kink within h of a point
 * makes the difference quotient meaningless there); ties of
 * maximum/minimum are checked exactly at the tie, where the even split of
 * the gradient is what the central difference measures.
 *
 * The ops covered here are listed in gradcheck_ops2.h; this test fails
 * unless its cases cover exactly those, each passing. */
#include "gradcheck.h"
#include "gradcheck_ops2.h"

static int verbose;

/* ---- broadcasting: every binary op on pairs only the general rule takes,
 * and maximum/minimum on the fast modes too. arg = 100 * op + pair ---- */

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN };

static const struct {
    int nda, sha[4], ndb, shb[4];
} pairs[] = {
    {2, {3, 1}, 2, {1, 4}},          /* 0: both stretch             */
    {3, {2, 3, 4}, 2, {3, 1}},       /* 1: missing and 1            */
    {3, {2, 1, 4}, 2, {3, 1}},       /* 2: both stretch, 3-D        */
    {1, {4}, 3, {2, 3, 1}},          /* 3: 1-D against 3-D          */
    {3, {2, 3, 4}, 3, {2, 1, 4}},    /* 4: middle 1                 */
    {4, {2, 1, 3, 2}, 3, {3, 1, 2}}, /* 5: 4-D                      */
    {1, {4}, 3, {1, 1, 1}},          /* 6: one element, more dims   */
    {2, {3, 4}, 2, {3, 4}},          /* 7: fast: same shape         */
    {2, {3, 4}, 0, {0}},             /* 8: fast: scalar             */
    {1, {4}, 2, {3, 4}},             /* 9: fast: row                */
    {2, {3, 4}, 2, {3, 1}},          /* 10: fast: column            */
};

static cg_node *binop(int op, cg_node *a, cg_node *b)
{
    switch (op) {
    case B_ADD: return cg_add(a, b);
    case B_SUB: return cg_sub(a, b);
    case B_MUL: return cg_mul(a, b);
    case B_DIV: return cg_div(a, b);
    case B_MAX: return cg_maximum(a, b);
    default: return cg_minimum(a, b);
    }
}

static cg_node *build_broadcast(cg_graph *g, cg_rng *r, int arg)
{
    int op = arg / 100, k = arg % 100;
    cg_node *a = var(g, r, U_ANY, pairs[k].nda, pairs[k].sha);
    cg_node *b = var(g, r, op == B_DIV ? U_POS : U_ANY, pairs[k].ndb, pairs[k].shb);
    return weigh(binop(op, a, b), r);
}

/* maximum/minimum with every element tied (b a copy of a), and with half
 * the elements tied, through a broadcast; each side gets half. */
static cg_node *build_ties(cg_graph *g, cg_rng *r, int arg)
{
    int op = arg & 1 ? B_MIN : B_MAX;
    cg_real v[12];
    for (int i = 0; i < 12; i++) v[i] = (cg_real)draw(r, U_ANY);
    cg_node *a = cg_variable(g, NULL, 2, SH(3, 4), v), *b;
    if (arg < 2) {
        b = cg_variable(g, NULL, 2, SH(3, 4), v);
    } else {
        cg_real col[3] = {v[0], v[5], v[10]}; /* ties on the diagonal */
        b = cg_variable(g, NULL, 2, SH(3, 1), col);
        a = cg_mul(a, cg_scalar(g, 1)); /* the general path, not the column one */
        b = cg_reshape(b, 3, SH(1, 3, 1));
    }
    return weigh(binop(op, a, b), r);
}

/* An open batch dimension against a stretched one: [batch, 3, 1] * [4]
 * and [batch, 1] + [1, 3, 1], fed two batch sizes in gradcheck_batch. */

/* ---- reductions: arg = 100 * kind + 10 * keepdim + axis (axis 9 = -1) ---- */

static cg_node *build_reduce(cg_graph *g, cg_rng *r, int arg)
{
    int kind = arg / 100, keep = arg / 10 % 10, axis = arg % 10 == 9 ? -1 : arg % 10;
    cg_node *x = var(g, r, U_ANY, 3, SH(2, 3, 4));
    cg_node *y = kind == 0 ? cg_sum_dim(x, axis, keep) : kind == 1 ? cg_mean_dim(x, axis, keep)
                                                                   : cg_max_dim(x, axis, keep);
    /* keepdim: the result broadcasts back against x */
    if (keep) y = cg_mul(cg_sub(x, y), y);
    return weigh(y, r);
}

static cg_node *build_log_softmax_axis(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *z = var(g, r, U_WIDE, 3, SH(2, 3, 4));
    return weigh(cg_log_softmax_axis(z, arg == 9 ? -1 : arg), r);
}

/* ---- concat, slice, split ---- */

static cg_node *build_concat(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *y = NULL;
    if (arg == 0) {
        cg_node *in[2] = {var(g, r, U_ANY, 2, SH(2, 3)), var(g, r, U_ANY, 2, SH(3, 3))};
        y = cg_concat(2, in, 0);
    } else if (arg == 1) {
        cg_node *in[3] = {var(g, r, U_ANY, 3, SH(2, 1, 4)), cst(g, r, U_ANY, 3, SH(2, 2, 4)),
                          var(g, r, U_ANY, 3, SH(2, 3, 4))};
        y = cg_concat(3, in, 1);
    } else {
        /* The same node twice, along the last axis. */
        cg_node *a = var(g, r, U_ANY, 3, SH(2, 2, 3));
        cg_node *in[3] = {a, var(g, r, U_ANY, 3, SH(2, 2, 1)), a};
        y = cg_concat(3, in, -1);
    }
    return weigh(y, r);
}

/* arg 0..2: one slice along axis arg of [4, 3, 5]; 3: split with sizes,
 * every piece weighed; 4: equal pieces along the last axis; 5: a slice
 * along axis 0 (a view) and tanh of the same input. */
static cg_node *build_slice_axis(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 3, SH(4, 3, 5));
    if (arg < 3) {
        static const int start[3] = {1, 1, 2}, len[3] = {2, 1, 3};
        return weigh(cg_slice_axis(x, arg, start[arg], len[arg]), r);
    }
    if (arg == 5)
        return cg_add(weigh(cg_slice_axis(x, 0, 1, 2), r), weigh(cg_tanh(x), r));
    cg_node *p[5];
    int n = arg == 3 ? 3 : 5;
    if (cg_split(x, arg == 3 ? 1 : -1, n, arg == 3 ? SH(1, 1, 1) : NULL, p)) return NULL;
    cg_node *cost = cg_scalar(g, 0);
    for (int k = 0; k < n; k++) cost = cg_add(cost, weigh(cg_square(p[k]), r));
    return cost;
}

/* ---- permute ---- */

static cg_node *build_permute(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *y = NULL;
    switch (arg) {
    case 0: y = cg_transpose(var(g, r, U_ANY, 2, SH(3, 5))); break;
    case 1: y = cg_permute(var(g, r, U_ANY, 3, SH(2, 3, 4)), 3, SH(2, 0, 1)); break;
    case 2: y = cg_permute(var(g, r, U_ANY, 4, SH(2, 3, 2, 3)), 4, SH(1, 3, 0, 2)); break;
    default: y = cg_transpose(cg_tanh(var(g, r, U_ANY, 3, SH(2, 3, 4)))); break;
    }
    return weigh(y, r);
}

/* ---- gather: repeated indices add up in the table's gradient ---- */

static cg_node *build_gather(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *y;
    if (arg == 0) {
        cg_node *t = var(g, r, U_ANY, 2, SH(5, 3));
        y = cg_gather(t, cg_constant(g, 1, SH(4), (const cg_real[]){4, 0, 4, 2}));
    } else if (arg == 1) {
        cg_node *t = var(g, r, U_ANY, 2, SH(6, 2));
        y = cg_gather(t, cg_constant(g, 2, SH(2, 3), (const cg_real[]){1, 5, 1, 0, 1, 3}));
    } else {
        cg_node *t = var(g, r, U_ANY, 1, SH(7));
        y = cg_gather(cg_tanh(t), cg_constant(g, 2, SH(2, 2), (const cg_real[]){6, 6, 0, 3}));
    }
    return weigh(y, r);
}

/* ---- activations ---- */

enum { A_LEAKY, A_ELU, A_GELU, A_GELU_TANH, A_SOFTPLUS, A_SOFTPLUS_BIG, A_SOFTPLUS_NEG, A_ABS,
       A_ABS_ZERO, A_CLIP };

static cg_node *build_act(cg_graph *g, cg_rng *r, int arg)
{
    int kind = arg == A_LEAKY || arg == A_ELU || arg == A_ABS ? U_AWAY
             : arg == A_CLIP ? U_ANY : U_WIDE;
    cg_node *x = var(g, r, kind, 2, SH(3, 4)), *y = NULL;
    switch (arg) {
    case A_LEAKY: y = cg_leaky_relu(x, (cg_real)0.1); break;
    case A_ELU: y = cg_elu(x, (cg_real)1.3); break;
    case A_GELU: y = cg_gelu(x); break;
    case A_GELU_TANH: y = cg_gelu_tanh(x); break;
    case A_SOFTPLUS: y = cg_softplus(x); break;
    /* x + 24 in [21, 27): above the threshold, the identity */
    case A_SOFTPLUS_BIG: y = cg_softplus(cg_add(x, cg_scalar(g, 24))); break;
    case A_SOFTPLUS_NEG: y = cg_softplus(cg_sub(x, cg_scalar(g, 30))); break;
    case A_ABS: y = cg_abs(x); break;
    case A_ABS_ZERO: /* x * [0 or 1]: some inputs exactly 0, derivative 0 there */
        y = cg_abs(cg_mul(x, cg_constant(g, 1, SH(4), (const cg_real[]){0, 1, 0, 1})));
        break;
    default: y = cg_clip(x, (cg_real)-0.5, (cg_real)0.7); break;
    }
    return weigh(y, r);
}

/* Fused into the product before it (plan.c), forward and backward:
 * x W1 + b, the activation, then a product again. */
static cg_node *build_act_fused(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 2, SH(6, 4)), *w1 = var(g, r, U_ANY, 2, SH(4, 5));
    cg_node *b = var(g, r, U_ANY, 1, SH(5)), *w2 = var(g, r, U_ANY, 2, SH(5, 3));
    cg_node *h = cg_add(cg_matmul(x, w1, 0, 0), b), *a = NULL;
    switch (arg) {
    case A_LEAKY: a = cg_leaky_relu(h, (cg_real)0.2); break;
    case A_ELU: a = cg_elu(h, 1); break;
    case A_GELU: a = cg_gelu(h); break;
    case A_GELU_TANH: a = cg_gelu_tanh(h); break;
    case A_SOFTPLUS: a = cg_softplus(h); break;
    case A_ABS: a = cg_abs(h); break;
    default: a = cg_clip(h, -1, 1); break;
    }
    return weigh(cg_matmul(a, w2, 0, 0), r);
}

/* ---- losses: arg 0 target a variable too, 1 target constant ---- */

enum { L_MSE, L_L1, L_HUBER };

static cg_node *build_loss(cg_graph *g, cg_rng *r, int arg)
{
    int kind = arg / 10, tvar = arg % 10 == 0;
    cg_node *p = var(g, r, U_WIDE, 2, SH(3, 4));
    cg_node *t = tvar ? var(g, r, U_ANY, 2, SH(3, 4)) : cst(g, r, U_ANY, 2, SH(3, 4));
    cg_node *l = kind == L_MSE ? cg_mse_loss(p, t)
               : kind == L_L1  ? cg_l1_loss(p, t)
                               : cg_huber_loss(p, t, (cg_real)0.8);
    return cg_mul(l, cg_scalar(g, (cg_real)1.7));
}

/* ---- views: a reshape of a variable with a second consumer, and a view
 * of a view ---- */

static cg_node *build_views(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 3, SH(2, 3, 4));
    if (arg == 0)
        return cg_add(weigh(cg_reshape(x, 2, SH(6, 4)), r), weigh(cg_exp(x), r));
    cg_node *v = cg_slice_axis(cg_reshape(x, 2, SH(3, 8)), 0, 1, 2);
    return cg_add(weigh(cg_reshape(v, 1, SH(-1)), r), weigh(cg_square(x), r));
}

/* ---- the case table ---- */

typedef cg_node *(*builder_fn)(cg_graph *g, cg_rng *r, int arg);

struct gcase {
    const char *op;
    const char *what;
    builder_fn build;
    int arg;
};

#define GENERAL(NAME, OP)                                                   \
    {NAME, "[3,1] . [1,4]", build_broadcast, OP * 100 + 0},                 \
    {NAME, "[2,3,4] . [3,1]", build_broadcast, OP * 100 + 1},               \
    {NAME, "[2,1,4] . [3,1]", build_broadcast, OP * 100 + 2},               \
    {NAME, "[4] . [2,3,1]", build_broadcast, OP * 100 + 3},                 \
    {NAME, "[2,3,4] . [2,1,4]", build_broadcast, OP * 100 + 4},             \
    {NAME, "[2,1,3,2] . [3,1,2]", build_broadcast, OP * 100 + 5},           \
    {NAME, "[4] . [1,1,1]", build_broadcast, OP * 100 + 6},

#define FAST(NAME, OP)                                                      \
    {NAME, "same shape", build_broadcast, OP * 100 + 7},                    \
    {NAME, "scalar", build_broadcast, OP * 100 + 8},                        \
    {NAME, "row", build_broadcast, OP * 100 + 9},                           \
    {NAME, "column", build_broadcast, OP * 100 + 10},

static const struct gcase cases[] = {
    GENERAL("add", B_ADD)
    GENERAL("sub", B_SUB)
    GENERAL("mul", B_MUL)
    GENERAL("div", B_DIV)
    GENERAL("maximum", B_MAX)
    GENERAL("minimum", B_MIN)
    FAST("maximum", B_MAX)
    FAST("minimum", B_MIN)
    {"maximum", "every element tied", build_ties, 0},
    {"minimum", "every element tied", build_ties, 1},
    {"maximum", "ties through a broadcast", build_ties, 2},
    {"minimum", "ties through a broadcast", build_ties, 3},
    {"sum_axis", "axis 0, keepdim", build_reduce, 10},
    {"sum_axis", "axis 1, keepdim", build_reduce, 11},
    {"sum_axis", "axis -1", build_reduce, 9},
    {"mean_axis", "axis 2, keepdim", build_reduce, 112},
    {"mean_axis", "axis -1, keepdim", build_reduce, 119},
    {"max_axis", "axis 0", build_reduce, 200},
    {"max_axis", "axis 1", build_reduce, 201},
    {"max_axis", "axis 2", build_reduce, 202},
    {"max_axis", "axis 0, keepdim", build_reduce, 210},
    {"max_axis", "axis 1, keepdim", build_reduce, 211},
    {"max_axis", "axis -1, keepdim", build_reduce, 219},
    {"log_softmax", "axis 0 of 3-D", build_log_softmax_axis, 0},
    {"log_softmax", "axis 1 of 3-D", build_log_softmax_axis, 1},
    {"log_softmax", "axis -1 of 3-D", build_log_softmax_axis, 9},
    {"concat", "2 along axis 0", build_concat, 0},
    {"concat", "3 along axis 1, one constant", build_concat, 1},
    {"concat", "one node twice, axis -1", build_concat, 2},
    {"slice_axis", "axis 0 (a view)", build_slice_axis, 0},
    {"slice_axis", "axis 1", build_slice_axis, 1},
    {"slice_axis", "axis 2", build_slice_axis, 2},
    {"slice_axis", "split with sizes, axis 1", build_slice_axis, 3},
    {"slice_axis", "split in equal pieces, axis -1", build_slice_axis, 4},
    {"slice_axis", "view with another consumer", build_slice_axis, 5},
    {"permute", "transpose of 2-D", build_permute, 0},
    {"permute", "[2,0,1] of 3-D", build_permute, 1},
    {"permute", "[1,3,0,2] of 4-D", build_permute, 2},
    {"permute", "transpose of 3-D after tanh", build_permute, 3},
    {"gather", "[5,3] by [4], repeats", build_gather, 0},
    {"gather", "[6,2] by [2,3]", build_gather, 1},
    {"gather", "1-D table by [2,2]", build_gather, 2},
    {"leaky_relu", "away from 0", build_act, A_LEAKY},
    {"elu", "away from 0", build_act, A_ELU},
    {"gelu", "", build_act, A_GELU},
    {"gelu_tanh", "", build_act, A_GELU_TANH},
    {"softplus", "", build_act, A_SOFTPLUS},
    {"softplus", "above the threshold", build_act, A_SOFTPLUS_BIG},
    {"softplus", "very negative", build_act, A_SOFTPLUS_NEG},
    {"abs", "away from 0", build_act, A_ABS},
    {"abs", "some inputs 0", build_act, A_ABS_ZERO},
    {"clip", "[-0.5, 0.7]", build_act, A_CLIP},
    {"leaky_relu", "fused after a product", build_act_fused, A_LEAKY},
    {"elu", "fused after a product", build_act_fused, A_ELU},
    {"gelu", "fused after a product", build_act_fused, A_GELU},
    {"gelu_tanh", "fused after a product", build_act_fused, A_GELU_TANH},
    {"softplus", "fused after a product", build_act_fused, A_SOFTPLUS},
    {"abs", "fused after a product", build_act_fused, A_ABS},
    {"clip", "fused after a product", build_act_fused, A_CLIP},
    {"mse_loss", "target a variable", build_loss, 10 * L_MSE},
    {"mse_loss", "constant target", build_loss, 10 * L_MSE + 1},
    {"l1_loss", "target a variable", build_loss, 10 * L_L1},
    {"l1_loss", "constant target", build_loss, 10 * L_L1 + 1},
    {"huber_loss", "target a variable", build_loss, 10 * L_HUBER},
    {"huber_loss", "constant target", build_loss, 10 * L_HUBER + 1},
    {"reshape", "view of a variable, second consumer", build_views, 0},
    {"reshape", "view of a view", build_views, 1},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the check ---- */

/* Run one case (twice: the second backward must overwrite the first's
 * gradients, not add to them); 1 if it passed. */
static int run_case(int k)
{
    const struct gcase *c = &cases[k];
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 2000 + (uint64_t)k);
    cg_node *cost = c->build(g, &r, c->arg);
    int ok = 0, nonzero = 0;
    double err = -1;
    if (!cost) {
        fprintf(stderr, "%s (%s): build failed: %s\n", c->op, c->what, cg_last_error());
    } else if (!graph_has_op(g, c->op)) {
        fprintf(stderr, "%s (%s): the graph has no '%s' node\n", c->op, c->what, c->op);
    } else {
        ok = 1;
        for (int pass = 0; ok && pass < 2; pass++) {
            ok = 0;
            if ((err = gradcheck(g, cost, &nonzero)) < 0)
                fprintf(stderr, "%s (%s): run failed: %s\n", c->op, c->what, cg_last_error());
            else if (err >= TOL)
                fprintf(stderr, "%s (%s): max relative error %.3g >= %g\n", c->op, c->what, err,
                        TOL);
            else if (nonzero == 0)
                fprintf(stderr, "%s (%s): all gradients are zero\n", c->op, c->what);
            else
                ok = 1;
        }
    }
    if (verbose) printf("%-12s %-38s max rel err %.3g\n", c->op, c->what, err);
    cg_graph_free(g);
    CHECK(ok);
    return ok;
}

/* Open batch dimensions through the general broadcast and gather: a
 * placeholder [batch, 3, 1] times a variable [1, 4], plus an embedding
 * of fed indices [batch], fed two batch sizes. */
static void check_batch(void)
{
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 99);
    cg_node *x = cg_placeholder(g, "x", 3, SH(CG_BATCH, 3, 1));
    cg_node *ix = cg_placeholder(g, "ix", 1, SH(CG_BATCH));
    cg_node *w = var(g, &r, U_ANY, 2, SH(1, 4)), *t = var(g, &r, U_ANY, 2, SH(5, 4));
    cg_node *e = cg_reshape(cg_gather(t, ix), 3, SH(-1, 1, 4));
    cg_node *y = cg_maximum(cg_mul(x, w), e); /* [batch, 3, 4] */
    cg_node *cost = cg_mean(cg_mul(y, cst(g, &r, U_ANY, 2, SH(3, 4))));
    CHECK(cost != NULL);
    const int sizes[2] = {2, 5};
    for (int k = 0; cost && k < 2; k++) {
        int m = sizes[k];
        cg_real xv[15], iv[5];
        for (int i = 0; i < 3 * m; i++) xv[i] = (cg_real)draw(&r, U_WIDE);
        for (int i = 0; i < m; i++) iv[i] = (cg_real)cg_rng_below(&r, 5);
        CHECK(cg_feed(x, xv, m) == CG_OK);
        CHECK(cg_feed(ix, iv, m) == CG_OK);
        int nz = 0;
        double err = gradcheck(g, cost, &nz);
        if (verbose) printf("%-12s batch %-32d max rel err %.3g\n", "(graph)", m, err);
        if (err < 0) fprintf(stderr, "batch %d: %s\n", m, cg_last_error());
        CHECK(err >= 0 && err < TOL && nz > 0);
        CHECK(cg_node_dim(y, 0) == m && cg_node_dim(y, 1) == 3 && cg_node_dim(y, 2) == 4);
    }
    cg_graph_free(g);
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    int *passed = calloc((size_t)N_CASES, sizeof *passed);
    if (!passed) return 1;
    for (int k = 0; k < N_CASES; k++) passed[k] = run_case(k);

    /* Every op listed in gradcheck_ops2.h (which dtest_gradcheck.c counts
     * as covered) has a passing case here, and is in the op table. */
    for (int i = 0; i < N_GRADCHECK_OPS2; i++) {
        int have = 0, in_table = 0;
        for (int k = 0; k < N_CASES; k++) have += strcmp(cases[k].op, gradcheck_ops2[i]) == 0;
        for (int j = 0; j < cg_op_count(); j++)
            in_table += strcmp(cg_op_name(j), gradcheck_ops2[i]) == 0 && cg_op_differentiable(j);
        if (!have || !in_table)
            fprintf(stderr, "op '%s': %s\n", gradcheck_ops2[i],
                    !have ? "no case here" : "not a differentiable op of the table");
        CHECK(have > 0 && in_table == 1);
    }
    check_batch();
    free(passed);
    CHECK_DONE();
}
