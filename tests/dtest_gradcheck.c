/* SPDX-License-Identifier: MIT */
/* dtest_gradcheck.c: every differentiable op's backward against central
 * finite differences, in double precision.
 *
 * Each case builds a small graph from variables holding seeded random
 * values and returns a scalar cost: sum(op(...) * W) with W a constant of
 * random weights, so every output element (and a wrong sign or a
 * transposed gradient) shows up in the cost. For every parameter p_i:
 *
 *   numeric  n = (J(p_i + h) - J(p_i - h)) / 2h,   h = 1e-5
 *   analytic a = what cg_backward left in the gradient buffer
 *   relative error = |a - n| / max(|a|, |n|, 1e-3)
 *
 * The floor 1e-3 in the denominator keeps gradients that are (nearly)
 * zero from turning rounding noise (~1e-11 absolute) into a large
 * relative error; above it the error is truly relative. Every case must
 * stay below 1e-6.
 *
 * The suite walks the op table: an op with a backward and no case here,
 * or without a backward and no forward check here, fails it (the ops
 * listed in gradcheck_ops2.h have theirs in dtest_gradcheck_ops2.c). */
#include "gradcheck.h"
#include "gradcheck_ops2.h"

static int verbose;

/* ---- binary ops with every broadcast mode ---- */

enum { B_ADD, B_SUB, B_MUL, B_DIV };

static const struct {
    const char *what;
    int nda;
    int sha[3];
    int ndb;
    int shb[3];
} bmodes[] = {
    {"same shape", 2, {3, 4}, 2, {3, 4}},
    {"scalar right", 2, {3, 4}, 0, {0}},
    {"scalar left", 0, {0}, 2, {3, 4}},
    {"[1,1] right", 2, {3, 4}, 2, {1, 1}},
    {"row [n] right", 2, {3, 4}, 1, {4}},
    {"row [n] left", 1, {4}, 2, {3, 4}},
    {"row [1,n] right", 2, {3, 4}, 2, {1, 4}},
    {"row [1,n] left", 2, {1, 4}, 2, {3, 4}},
    {"column [m,1] right", 2, {3, 4}, 2, {3, 1}},
    {"column [m,1] left", 2, {3, 1}, 2, {3, 4}},
    {"3-D with row [n]", 3, {2, 3, 4}, 1, {4}},
};
#define N_BMODES ((int)(sizeof bmodes / sizeof bmodes[0]))

static cg_node *build_binary(cg_graph *g, cg_rng *r, int arg)
{
    int op = arg / 100, m = arg % 100;
    cg_node *a = var(g, r, U_ANY, bmodes[m].nda, bmodes[m].sha);
    /* A divisor stays away from 0. */
    cg_node *b = var(g, r, op == B_DIV ? U_POS : U_ANY, bmodes[m].ndb, bmodes[m].shb);
    cg_node *y = op == B_ADD ? cg_add(a, b) : op == B_SUB ? cg_sub(a, b)
               : op == B_MUL ? cg_mul(a, b) : cg_div(a, b);
    return weigh(y, r);
}

/* ---- unary ops ---- */

enum { F_NEG, F_SQUARE, F_POW3, F_POWHALF, F_EXP, F_LOG, F_SQRT, F_RELU, F_SIGMOID, F_TANH };

static cg_node *build_unary(cg_graph *g, cg_rng *r, int f)
{
    int kind = f == F_POWHALF || f == F_LOG || f == F_SQRT ? U_POS
             : f == F_RELU ? U_AWAY : f == F_SIGMOID || f == F_TANH ? U_WIDE : U_ANY;
    cg_node *x = var(g, r, kind, 2, SH(3, 4)), *y = NULL;
    switch (f) {
    case F_NEG: y = cg_neg(x); break;
    case F_SQUARE: y = cg_square(x); break;
    case F_POW3: y = cg_pow(x, 3.0); break;
    case F_POWHALF: y = cg_pow(x, 0.5); break;
    case F_EXP: y = cg_exp(x); break;
    case F_LOG: y = cg_log(x); break;
    case F_SQRT: y = cg_sqrt(x); break;
    case F_RELU: y = cg_relu(x); break;
    case F_SIGMOID: y = cg_sigmoid(x); break;
    case F_TANH: y = cg_tanh(x); break;
    }
    return weigh(y, r);
}

/* ---- matmul: arg bits 0/1 = transpose a/b; 4 = a constant, 8 = b constant ---- */

static cg_node *build_matmul(cg_graph *g, cg_rng *r, int arg)
{
    int ta = arg & 1, tb = (arg >> 1) & 1;
    const int *sa = ta ? SH(4, 3) : SH(3, 4), *sb = tb ? SH(5, 4) : SH(4, 5);
    cg_node *a = arg & 4 ? cst(g, r, U_ANY, 2, sa) : var(g, r, U_ANY, 2, sa);
    cg_node *b = arg & 8 ? cst(g, r, U_ANY, 2, sb) : var(g, r, U_ANY, 2, sb);
    return weigh(cg_matmul(a, b, ta, tb), r);
}

/* ---- reductions: arg = 10 * kind + axis ---- */

static cg_node *build_reduce(cg_graph *g, cg_rng *r, int arg)
{
    int kind = arg / 10, axis = arg % 10;
    cg_node *x = var(g, r, U_ANY, 3, SH(2, 3, 4));
    cg_node *y = kind == 0 ? cg_sum(x) : kind == 1 ? cg_mean(x)
               : kind == 2 ? cg_sum_axis(x, axis) : cg_mean_axis(x, axis);
    return weigh(y, r);
}

static cg_node *build_reduce2d(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 2, SH(3, 5));
    return weigh(arg & 1 ? cg_mean_axis(x, arg >> 1) : cg_sum_axis(x, arg >> 1), r);
}

/* ---- shape ops ---- */

static cg_node *build_reshape(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 3, SH(2, 3, 4)), *y = NULL;
    switch (arg) {
    case 0: y = cg_reshape(x, 2, SH(6, 4)); break;
    case 1: y = cg_reshape(x, 2, SH(4, -1)); break;
    case 2: y = cg_reshape(x, 1, SH(-1)); break;
    default: y = cg_reshape(cg_tanh(x), 4, SH(2, -1, 2, 3)); break;
    }
    return weigh(y, r);
}

static cg_node *build_index(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *y;
    if (arg == 0) y = cg_index(var(g, r, U_ANY, 2, SH(3, 4)), 1);
    else if (arg == 1) y = cg_index(var(g, r, U_ANY, 3, SH(2, 3, 4)), 1);
    else y = cg_index(var(g, r, U_ANY, 1, SH(5)), 2);
    return weigh(y, r);
}

static cg_node *build_slice(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *y;
    if (arg == 0) y = cg_slice(var(g, r, U_ANY, 2, SH(5, 3)), 1, 3);
    else if (arg == 1) y = cg_slice(var(g, r, U_ANY, 3, SH(3, 2, 2)), 2, 1);
    else y = cg_slice(var(g, r, U_ANY, 1, SH(6)), 0, 4);
    return weigh(y, r);
}

/* ---- softmax family ---- */

static cg_node *build_softmax(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *z = var(g, r, U_WIDE, 2, arg == 1 ? SH(1, 5) : SH(3, 4));
    return weigh(cg_softmax(z), r);
}

static cg_node *build_log_softmax(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *z = var(g, r, U_WIDE, 2, arg == 1 ? SH(1, 5) : SH(3, 4));
    return weigh(cg_log_softmax(z), r);
}

/* Probability rows (positive, each summing to 1) of shape [m, C]. */
static void prob_rows(cg_rng *r, int m, int C, cg_real *out)
{
    for (int i = 0; i < m; i++) {
        double s = 0;
        for (int c = 0; c < C; c++) s += out[i * C + c] = (cg_real)draw(r, U_UNIT);
        for (int c = 0; c < C; c++) out[i * C + c] = (cg_real)(out[i * C + c] / s);
    }
}

/* arg 0: index labels fed through a placeholder; 1: constant probability
 * rows; 2: probability rows held by a variable (gradient w.r.t. the labels
 * too; the logits' gradient (p - y) / m assumes rows summing to 1, as they
 * do here); 3: one-hot rows. */
static cg_node *build_sce(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *z = var(g, r, U_WIDE, 2, SH(4, 3)), *y;
    cg_real p[12];
    if (arg == 0) {
        /* Fed before the rest of the graph is built: a fixed-shape
         * placeholder keeps what was fed across re-plans. */
        y = cg_placeholder(g, "labels", 1, SH(4));
        if (cg_feed(y, (const cg_real[]){2, 0, 1, 2}, 4)) return NULL;
    } else if (arg == 3) {
        const cg_real oh[12] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1};
        y = cg_constant(g, 2, SH(4, 3), oh);
    } else {
        prob_rows(r, 4, 3, p);
        y = arg == 1 ? cg_constant(g, 2, SH(4, 3), p) : cg_variable(g, NULL, 2, SH(4, 3), p);
    }
    return cg_mul(cg_softmax_cross_entropy(z, y), cg_scalar(g, (cg_real)1.7));
}

/* arg 0: gradient w.r.t. logits and targets; 1: targets constant. */
static cg_node *build_bce(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *z = var(g, r, U_WIDE, 2, SH(3, 4));
    cg_node *y = arg == 0 ? var(g, r, U_UNIT, 2, SH(3, 4)) : cst(g, r, U_UNIT, 2, SH(3, 4));
    return cg_mul(cg_sigmoid_cross_entropy(z, y), cg_scalar(g, (cg_real)-0.8));
}

/* ---- batch norm: arg 0 training mode, 1 inference mode (running
 * statistics normalise); the running values are state, not checked ---- */

static cg_node *build_batch_norm(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_WIDE, 2, SH(5, 3));
    cg_node *gamma = var(g, r, U_POS, 1, SH(3)), *beta = var(g, r, U_ANY, 1, SH(3));
    cg_real rm[3], rv[3];
    for (int i = 0; i < 3; i++) {
        rm[i] = (cg_real)draw(r, U_ANY);
        rv[i] = (cg_real)draw(r, U_POS);
    }
    cg_node *mean = cg_state(g, NULL, 1, SH(3), rm), *vr = cg_state(g, NULL, 1, SH(3), rv);
    cg_graph_set_training(g, arg == 0);
    return weigh(cg_batch_norm(x, gamma, beta, mean, vr, (cg_real)0.1, (cg_real)1e-3), r);
}

/* ---- dropout: the mask comes from the graph's PRNG, which gradcheck
 * reseeds before every run, so each run draws the same mask ---- */

static cg_node *build_dropout(cg_graph *g, cg_rng *r, int arg)
{
    cg_node *x = var(g, r, U_ANY, 2, SH(4, 5));
    cg_graph_set_training(g, arg == 0);
    return weigh(cg_dropout(cg_tanh(x), (cg_real)0.3), r);
}

/* ---- the case table ---- */

typedef cg_node *(*builder_fn)(cg_graph *g, cg_rng *r, int arg);

struct gcase {
    const char *op;    /* the op under test (an op-table name) */
    const char *what;
    builder_fn build;
    int arg;
};

#define BIN_CASES(NAME, OP)                                                              \
    {NAME, "same shape", build_binary, OP * 100 + 0},                                    \
    {NAME, "scalar right", build_binary, OP * 100 + 1},                                  \
    {NAME, "scalar left", build_binary, OP * 100 + 2},                                   \
    {NAME, "[1,1] right", build_binary, OP * 100 + 3},                                   \
    {NAME, "row [n] right", build_binary, OP * 100 + 4},                                 \
    {NAME, "row [n] left", build_binary, OP * 100 + 5},                                  \
    {NAME, "row [1,n] right", build_binary, OP * 100 + 6},                               \
    {NAME, "row [1,n] left", build_binary, OP * 100 + 7},                                \
    {NAME, "column [m,1] right", build_binary, OP * 100 + 8},                            \
    {NAME, "column [m,1] left", build_binary, OP * 100 + 9},                             \
    {NAME, "3-D with row [n]", build_binary, OP * 100 + 10},

static const struct gcase cases[] = {
    BIN_CASES("add", B_ADD)
    BIN_CASES("sub", B_SUB)
    BIN_CASES("mul", B_MUL)
    BIN_CASES("div", B_DIV)
    {"neg", "", build_unary, F_NEG},
    {"square", "", build_unary, F_SQUARE},
    {"pow", "exponent 3", build_unary, F_POW3},
    {"pow", "exponent 0.5", build_unary, F_POWHALF},
    {"exp", "", build_unary, F_EXP},
    {"log", "positive inputs", build_unary, F_LOG},
    {"sqrt", "positive inputs", build_unary, F_SQRT},
    {"relu", "inputs away from 0", build_unary, F_RELU},
    {"sigmoid", "", build_unary, F_SIGMOID},
    {"tanh", "", build_unary, F_TANH},
    {"matmul", "a b", build_matmul, 0},
    {"matmul", "a^T b", build_matmul, 1},
    {"matmul", "a b^T", build_matmul, 2},
    {"matmul", "a^T b^T", build_matmul, 3},
    {"matmul", "constant a", build_matmul, 4},
    {"matmul", "constant b^T", build_matmul, 8 | 2},
    {"sum", "3-D", build_reduce, 0},
    {"mean", "3-D", build_reduce, 10},
    {"sum_axis", "axis 0 of 3-D", build_reduce, 20},
    {"sum_axis", "axis 1 of 3-D", build_reduce, 21},
    {"sum_axis", "axis 2 of 3-D", build_reduce, 22},
    {"mean_axis", "axis 0 of 3-D", build_reduce, 30},
    {"mean_axis", "axis 1 of 3-D", build_reduce, 31},
    {"mean_axis", "axis 2 of 3-D", build_reduce, 32},
    {"sum_axis", "axis 1 of 2-D", build_reduce2d, 2},
    {"mean_axis", "axis 0 of 2-D", build_reduce2d, 1},
    {"reshape", "[6,4]", build_reshape, 0},
    {"reshape", "[4,-1]", build_reshape, 1},
    {"reshape", "[-1]", build_reshape, 2},
    {"reshape", "4-D with -1 after tanh", build_reshape, 3},
    {"index", "row of 2-D", build_index, 0},
    {"index", "matrix of 3-D", build_index, 1},
    {"index", "element of 1-D", build_index, 2},
    {"slice", "rows of 2-D", build_slice, 0},
    {"slice", "last block of 3-D", build_slice, 1},
    {"slice", "head of 1-D", build_slice, 2},
    {"softmax", "[3,4]", build_softmax, 0},
    {"softmax", "[1,5]", build_softmax, 1},
    {"log_softmax", "[3,4]", build_log_softmax, 0},
    {"log_softmax", "[1,5]", build_log_softmax, 1},
    {"softmax_cross_entropy", "index labels, fed", build_sce, 0},
    {"softmax_cross_entropy", "constant probability rows", build_sce, 1},
    {"softmax_cross_entropy", "probability rows in a variable", build_sce, 2},
    {"softmax_cross_entropy", "one-hot rows", build_sce, 3},
    {"sigmoid_cross_entropy", "logits and targets", build_bce, 0},
    {"sigmoid_cross_entropy", "constant targets", build_bce, 1},
    {"batch_norm", "training mode", build_batch_norm, 0},
    {"batch_norm", "inference mode", build_batch_norm, 1},
    {"dropout", "training mode, fixed seed", build_dropout, 0},
    {"dropout", "inference mode", build_dropout, 1},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the check ---- */

static int in_op_table(const char *op)
{
    for (int i = 0; i < cg_op_count(); i++)
        if (strcmp(cg_op_name(i), op) == 0) return 1;
    return 0;
}

/* Run one case; 1 if it passed. */
static int run_case(int k)
{
    const struct gcase *c = &cases[k];
    /* Cases written ahead of their op (not in the table yet) wait. */
    if (!in_op_table(c->op)) {
        if (verbose) printf("%-22s %-32s not in the op table: skipped\n", c->op, c->what);
        return 1;
    }
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 1000 + (uint64_t)k);
    cg_node *cost = c->build(g, &r, c->arg);
    int ok = 0, nonzero = 0;
    double err = -1;
    if (!cost) {
        fprintf(stderr, "%s (%s): build failed: %s\n", c->op, c->what, cg_last_error());
    } else if (!graph_has_op(g, c->op)) {
        fprintf(stderr, "%s (%s): the graph has no '%s' node\n", c->op, c->what, c->op);
    } else if ((err = gradcheck(g, cost, &nonzero)) < 0) {
        fprintf(stderr, "%s (%s): run failed: %s\n", c->op, c->what, cg_last_error());
    } else if (err >= TOL) {
        fprintf(stderr, "%s (%s): max relative error %.3g >= %g\n", c->op, c->what, err, TOL);
    } else if (nonzero == 0) {
        fprintf(stderr, "%s (%s): all gradients are zero\n", c->op, c->what);
    } else {
        ok = 1;
    }
    if (verbose) printf("%-22s %-32s max rel err %.3g\n", c->op, c->what, err);
    cg_graph_free(g);
    CHECK(ok);
    return ok;
}

/* ---- forward checks for ops without a gradient ---- */

static int check_argmax(void)
{
    int before = check_failures;
    cg_graph *g = cg_graph_new();
    const cg_real z[9] = {1, 3, 2, 5, 5, 0, -1, -2, -3};
    cg_node *x = cg_variable(g, "z", 2, SH(3, 3), z);
    cg_node *a = cg_argmax(x);
    CHECK(a && cg_forward(a) == CG_OK);
    if (a) {
        CHECK(cg_node_ndim(a) == 1 && cg_node_dim(a, 0) == 3);
        const cg_real *v = cg_node_value(a);
        CHECK(v[0] == 1 && v[1] == 0 && v[2] == 0); /* the tie goes to the lowest */
        CHECK(cg_node_grad(a) == NULL);
    }
    cg_graph_free(g);
    return check_failures == before;
}

static int check_hardmax(void)
{
    int before = check_failures;
    cg_graph *g = cg_graph_new();
    const cg_real z[8] = {0.5, -1, 2, 1.5, 7, 7, 7, -7};
    const cg_real want[8] = {0, 0, 1, 0, 1, 0, 0, 0};
    cg_node *x = cg_variable(g, "z", 2, SH(2, 4), z);
    cg_node *h = cg_hardmax(x);
    CHECK(h && cg_forward(h) == CG_OK);
    if (h) {
        CHECK(cg_node_ndim(h) == 2 && cg_node_dim(h, 0) == 2 && cg_node_dim(h, 1) == 4);
        for (int i = 0; i < 8; i++) CHECK(cg_node_value(h)[i] == want[i]);
        CHECK(cg_node_grad(h) == NULL);
    }
    cg_graph_free(g);
    return check_failures == before;
}

static const struct {
    const char *op;
    int (*check)(void);
} forward_checks[] = {{"argmax", check_argmax}, {"hardmax", check_hardmax}};
#define N_FORWARD ((int)(sizeof forward_checks / sizeof forward_checks[0]))

/* ---- graphs beyond one op ---- */

/* One node used several times: gradients from every path add up. */
static void check_accumulation(void)
{
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 77);
    cg_node *x = var(g, &r, U_ANY, 2, SH(3, 4));
    cg_node *t = cg_tanh(x);
    /* x feeds mul twice, t feeds three ops. */
    cg_node *y = cg_add(cg_mul(x, x), cg_mul(t, cg_exp(t)));
    cg_node *cost = cg_add(weigh(y, &r), cg_sum(cg_sub(t, cg_square(x))));
    int nz = 0;
    double err = cost ? gradcheck(g, cost, &nz) : -1;
    if (verbose) printf("%-22s %-32s max rel err %.3g\n", "(graph)", "node used twice", err);
    CHECK(err >= 0 && err < TOL && nz > 0);

    /* d/dx sum(x + x) = 2 exactly. */
    cg_graph *g2 = cg_graph_new();
    cg_node *v = cg_variable(g2, "v", 1, SH(3), (const cg_real[]){1, 2, 3});
    cg_node *c2 = cg_sum(cg_add(v, v));
    CHECK(c2 && cg_backward(c2) == CG_OK);
    for (int i = 0; i < 3; i++) CHECK(cg_node_grad(v)[i] == 2);
    /* A second backward gives the same, not twice as much. */
    CHECK(cg_backward(c2) == CG_OK);
    for (int i = 0; i < 3; i++) CHECK(cg_node_grad(v)[i] == 2);
    cg_graph_free(g2);
    cg_graph_free(g);
}

/* Gradients are zeroed lazily (autodiff.c): the first op to write an
 * input's gradient in a pass overwrites it, later ones add. Each op that
 * overwrites (matmul, bias add, relu, batch norm's input) or zeroes first
 * (softmax cross-entropy, batch norm's gamma and beta) is checked as the
 * first writer of its inputs' gradients (late = 0: another
 * user of each input comes earlier in the graph, so its backward runs
 * later) and as a later one (late = 1), twice in a row, so the second pass
 * starts from the first one's values in every buffer. */
static void check_first_writer(void)
{
    for (int late = 0; late < 2; late++) {
        cg_graph *g = cg_graph_new();
        cg_rng r;
        cg_rng_seed(&r, 123u + (unsigned)late);
        cg_node *x = var(g, &r, U_ANY, 2, SH(4, 6)), *w = var(g, &r, U_ANY, 2, SH(6, 5));
        cg_node *b = var(g, &r, U_ANY, 1, SH(5)), *gamma = var(g, &r, U_POS, 1, SH(5));
        cg_node *beta = var(g, &r, U_ANY, 1, SH(5));
        cg_node *unused = var(g, &r, U_ANY, 1, SH(3));
        cg_real zeros[5] = {0}, ones[5] = {1, 1, 1, 1, 1};
        cg_node *rm = cg_state(g, NULL, 1, SH(5), zeros), *rv = cg_state(g, NULL, 1, SH(5), ones);
        cg_node *labels = cg_constant(g, 1, SH(4), (const cg_real[]){1, 0, 4, 2});
        cg_node *side = cg_scalar(g, 0); /* the other users' terms */
#define SIDE(n) side = cg_add(side, weigh(cg_tanh(n), &r))
        if (!late) {
            SIDE(x);
            SIDE(w);
            SIDE(b);
        }
        cg_node *mm = cg_matmul(x, w, 0, 0);
        if (!late) SIDE(mm);
        cg_node *h = cg_add(mm, b);
        if (!late) SIDE(h);
        cg_node *a = cg_relu(h);
        if (!late) {
            SIDE(a);
            SIDE(gamma);
            SIDE(beta);
        }
        cg_node *bn = cg_batch_norm(a, gamma, beta, rm, rv, (cg_real)0.1, (cg_real)1e-3);
        if (!late) SIDE(bn);
        cg_node *loss = cg_softmax_cross_entropy(bn, labels);
        if (late) {
            SIDE(x);
            SIDE(w);
            SIDE(b);
            SIDE(mm);
            SIDE(h);
            SIDE(a);
            SIDE(gamma);
            SIDE(beta);
            SIDE(bn);
        }
#undef SIDE
        cg_node *cost = cg_add(loss, side);
        CHECK(cost != NULL);
        for (int pass = 0; cost && pass < 2; pass++) {
            cg_node_grad(unused)[1] = 7; /* what no op reaches reads 0 */
            int nz = 0;
            double err = gradcheck(g, cost, &nz);
            if (verbose)
                printf("%-22s %-32s max rel err %.3g\n", "(graph)",
                       late ? "overwriting ops add, pass" : "overwriting ops write", err);
            CHECK(err >= 0 && err < TOL && nz > 0);
            CHECK(cg_node_grad(unused)[1] == 0);
        }
        cg_graph_free(g);
    }
}

/* Backward fusion (plan.c): before a product, a chain of single-consumer
 * ops (tanh, batch norm, ReLU, bias add) runs its backward inside the
 * product's, column block by column block. Checked in training and in
 * inference mode, twice in a row (the second pass must overwrite the
 * first's gradients, not add to them). */
static void check_backward_chain(void)
{
    for (int training = 0; training < 2; training++) {
        cg_graph *g = cg_graph_new();
        cg_rng r;
        cg_rng_seed(&r, 321u + (unsigned)training);
        cg_node *x = var(g, &r, U_ANY, 2, SH(6, 4)), *w1 = var(g, &r, U_ANY, 2, SH(4, 5));
        cg_node *b1 = var(g, &r, U_ANY, 1, SH(5)), *gamma = var(g, &r, U_POS, 1, SH(5));
        cg_node *beta = var(g, &r, U_ANY, 1, SH(5)), *w2 = var(g, &r, U_ANY, 2, SH(5, 3));
        cg_real rm[5], rv[5];
        for (int i = 0; i < 5; i++) {
            rm[i] = (cg_real)draw(&r, U_ANY);
            rv[i] = (cg_real)draw(&r, U_POS);
        }
        cg_node *mean = cg_state(g, NULL, 1, SH(5), rm), *vr = cg_state(g, NULL, 1, SH(5), rv);
        cg_graph_set_training(g, training);
        cg_node *h = cg_relu(cg_add(cg_matmul(x, w1, 0, 0), b1));
        cg_node *a = cg_tanh(cg_batch_norm(h, gamma, beta, mean, vr, (cg_real)0.1, (cg_real)1e-3));
        cg_node *cost = weigh(cg_matmul(a, w2, 0, 0), &r);
        CHECK(cost != NULL);
        for (int pass = 0; cost && pass < 2; pass++) {
            int nz = 0;
            double err = gradcheck(g, cost, &nz);
            if (verbose)
                printf("%-22s %-32s max rel err %.3g\n", "(graph)",
                       training ? "backward chain, training" : "backward chain, inference", err);
            CHECK(err >= 0 && err < TOL && nz > 0);
        }
        cg_graph_free(g);
    }
}

/* A placeholder with an open batch dimension, fed two batch sizes. */
static void check_batch(void)
{
    cg_graph *g = cg_graph_new();
    cg_rng r;
    cg_rng_seed(&r, 99);
    cg_node *x = cg_placeholder(g, "x", 2, SH(CG_BATCH, 3));
    cg_node *lab = cg_placeholder(g, "y", 1, SH(CG_BATCH));
    cg_node *w = var(g, &r, U_ANY, 2, SH(3, 4)), *b = var(g, &r, U_ANY, 1, SH(4));
    cg_node *h = cg_add(cg_matmul(x, w, 0, 0), b);
    cg_node *cost = cg_add(cg_softmax_cross_entropy(h, lab),
                           cg_mean(cg_mul(cg_tanh(h), cst(g, &r, U_ANY, 1, SH(4)))));
    CHECK(cost != NULL);
    const int sizes[2] = {5, 9};
    for (int k = 0; cost && k < 2; k++) {
        int m = sizes[k];
        cg_real xv[27], yv[9];
        for (int i = 0; i < 3 * m; i++) xv[i] = (cg_real)draw(&r, U_ANY);
        for (int i = 0; i < m; i++) yv[i] = (cg_real)cg_rng_below(&r, 4);
        CHECK(cg_feed(x, xv, m) == CG_OK);
        CHECK(cg_feed_by_name(g, "y", yv, m) == CG_OK);
        CHECK(cg_node_dim(h, 0) == m);
        int nz = 0;
        double err = gradcheck(g, cost, &nz);
        if (verbose) printf("%-22s batch %-26d max rel err %.3g\n", "(graph)", m, err);
        if (err < 0) fprintf(stderr, "batch %d: %s\n", m, cg_last_error());
        CHECK(err >= 0 && err < TOL && nz > 0);
    }
    cg_graph_free(g);
}

int main(int argc, char **argv)
{
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    int *passed = calloc((size_t)N_CASES, sizeof *passed);
    if (!passed) return 1;
    for (int k = 0; k < N_CASES; k++) passed[k] = run_case(k);

    /* Every op of the table has a gradient check, or a forward check if
     * it has no gradient; the convolution ops have theirs in
     * dtest_gradcheck_conv.c, which checks that it covers them. */
    static const char *const elsewhere[] = {"conv2d", "max_pool2d", "avg_pool2d",
                                            "global_avg_pool2d", "batch_norm2d"};
    for (int i = 0; i < cg_op_count(); i++) {
        const char *name = cg_op_name(i);
        int have = 0;
        for (size_t k = 0; k < sizeof elsewhere / sizeof elsewhere[0]; k++)
            have += strcmp(elsewhere[k], name) == 0;
        if (cg_op_differentiable(i)) {
            for (int k = 0; k < N_CASES; k++)
                if (strcmp(cases[k].op, name) == 0) have++;
            for (int k = 0; k < N_GRADCHECK_OPS2; k++) /* checked there */
                if (strcmp(gradcheck_ops2[k], name) == 0) have++;
        } else {
            for (int k = 0; k < N_FORWARD; k++)
                if (strcmp(forward_checks[k].op, name) == 0) {
                    CHECK(forward_checks[k].check());
                    have++;
                }
        }
        if (!have)
            fprintf(stderr, "op '%s' has no %s check\n", name,
                    cg_op_differentiable(i) ? "gradient" : "forward");
        CHECK(have > 0);
    }

    check_accumulation();
    check_first_writer();
    check_backward_chain();
    check_batch();
    free(passed);
    CHECK_DONE();
}
