/* SPDX-License-Identifier: MIT */
/* dtest_optim.c: every optimizer, option and schedule against the update
 * formulas worked out here, on a small fixed problem (double build):
 *   cost = sum(c * w^2) + sum(d * w),  gradient 2 c w + d. */
#include "cgrad.h"
#include "check.h"

#include <math.h>

#define N 3
static const double C[N] = {0.5, 2.0, 1.5};
static const double D[N] = {-0.5, 0.5, 3.0};
static const double W0[N] = {1.0, -2.0, 0.5};
#define TOL 1e-12
#define PI 3.14159265358979323846

typedef struct {
    cg_graph *g;
    cg_node *w, *cost;
} problem;

static int problem_new(problem *p)
{
    int shape[1] = {N};
    cg_real c[N], d[N], w0[N];
    for (int i = 0; i < N; i++) c[i] = C[i], d[i] = D[i], w0[i] = W0[i];
    p->g = cg_graph_new();
    if (!p->g) return -1;
    p->w = cg_variable(p->g, "w", 1, shape, w0);
    cg_node *cn = cg_constant(p->g, 1, shape, c);
    cg_node *dn = cg_constant(p->g, 1, shape, d);
    p->cost = cg_sum(cg_add(cg_mul(cn, cg_square(p->w)), cg_mul(dn, p->w)));
    return p->cost ? 0 : -1;
}

static void grad(const double *w, double *g)
{
    for (int i = 0; i < N; i++) g[i] = 2 * C[i] * w[i] + D[i];
}

/* Reference settings: what each test case configures. */
typedef struct {
    const char *what;
    int kind; /* 0 sgd, 1 momentum, 2 rmsprop, 3 adam */
    double lr, b1, b2, eps;
    int nesterov;
    double wd;
    int decoupled;
    double clip_norm, clip_value;
    int sched;
    double sp[2];
    int warmup;
    int set_epochs; /* call set_epoch(step) before each step */
} ref;

static double ref_lr(const ref *r, int epoch, int t /* 1-based step */)
{
    double lr = r->lr, e = epoch;
    switch (r->sched) {
    case CG_LR_INVERSE_TIME: lr = r->lr / (1 + r->sp[0] * e); break;
    case CG_LR_EXPONENTIAL: lr = r->lr * pow(r->sp[0], e); break;
    case CG_LR_STEP: lr = r->lr * pow(r->sp[1], floor(e / r->sp[0])); break;
    case CG_LR_COSINE: {
        double x = fmin(e, r->sp[0]);
        lr = r->sp[1] + (r->lr - r->sp[1]) * (1 + cos(PI * x / r->sp[0])) / 2;
        break;
    }
    default: break;
    }
    if (r->warmup && t < r->warmup) lr *= (double)t / r->warmup;
    return lr;
}

/* Three steps of the reference; w, m, v are the state after them. */
static void ref_run(const ref *r, int steps, double *w, double *m, double *v)
{
    for (int i = 0; i < N; i++) w[i] = W0[i], m[i] = 0, v[i] = 0;
    for (int t = 1; t <= steps; t++) {
        double g[N];
        grad(w, g);
        double lr = ref_lr(r, r->set_epochs ? t - 1 : 0, t);
        if (r->clip_value > 0)
            for (int i = 0; i < N; i++) g[i] = fmax(-r->clip_value, fmin(r->clip_value, g[i]));
        if (r->clip_norm > 0) {
            double norm = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
            if (norm > r->clip_norm)
                for (int i = 0; i < N; i++) g[i] *= r->clip_norm / norm;
        }
        for (int i = 0; i < N; i++) {
            if (r->wd > 0 && !r->decoupled) g[i] += r->wd * w[i];
            double old = w[i];
            if (r->wd > 0 && r->decoupled) w[i] -= lr * r->wd * old;
            switch (r->kind) {
            case 0: w[i] -= lr * g[i]; break;
            case 1:
                m[i] = r->b1 * m[i] + g[i];
                w[i] -= lr * (r->nesterov ? g[i] + r->b1 * m[i] : m[i]);
                break;
            case 2:
                v[i] = r->b1 * v[i] + (1 - r->b1) * g[i] * g[i];
                w[i] -= lr * g[i] / (sqrt(v[i]) + r->eps);
                break;
            default: {
                m[i] = r->b1 * m[i] + (1 - r->b1) * g[i];
                v[i] = r->b2 * v[i] + (1 - r->b2) * g[i] * g[i];
                double mh = m[i] / (1 - pow(r->b1, t)), vh = v[i] / (1 - pow(r->b2, t));
                w[i] -= lr * mh / (sqrt(vh) + r->eps);
            }
            }
        }
    }
}

static cg_optimizer *make(const ref *r)
{
    cg_optimizer *o = NULL;
    switch (r->kind) {
    case 0: o = cg_sgd(r->lr); break;
    case 1: o = r->nesterov ? cg_nesterov(r->lr, r->b1) : cg_momentum(r->lr, r->b1); break;
    case 2: o = cg_rmsprop(r->lr, r->b1, r->eps); break;
    default: o = cg_adam(r->lr, r->b1, r->b2, r->eps); break;
    }
    if (!o) return NULL;
    int rc = 0;
    if (r->wd > 0) rc |= cg_optimizer_set_weight_decay(o, r->wd, r->decoupled);
    if (r->clip_norm > 0) rc |= cg_optimizer_set_clip_norm(o, r->clip_norm);
    if (r->clip_value > 0) rc |= cg_optimizer_set_clip_value(o, r->clip_value);
    if (r->sched) rc |= cg_optimizer_set_schedule(o, r->sched, r->sp);
    if (r->warmup) rc |= cg_optimizer_set_warmup(o, r->warmup);
    if (rc) {
        cg_optimizer_free(o);
        return NULL;
    }
    return o;
}

/* Run the library and the reference side by side for three steps. */
static void check_case(const ref *r)
{
    problem p;
    CHECK(problem_new(&p) == 0);
    cg_optimizer *o = make(r);
    CHECK(o != NULL);
    if (!o || !p.cost) {
        fprintf(stderr, "case %s: setup failed: %s\n", r->what, cg_last_error());
        cg_graph_free(p.g);
        return;
    }
    for (int t = 1; t <= 3; t++) {
        if (r->set_epochs) CHECK(cg_optimizer_set_epoch(o, t - 1) == CG_OK);
        double want_lr = ref_lr(r, r->set_epochs ? t - 1 : 0, t);
        if (fabs(cg_optimizer_lr(o) - want_lr) > TOL)
            fprintf(stderr, "case %s, step %d: lr\n", r->what, t);
        CHECK_NEAR(cg_optimizer_lr(o), want_lr, TOL);
        CHECK(cg_minimize_step(o, p.cost, NULL) == CG_OK);
        double w[N], m[N], v[N];
        ref_run(r, t, w, m, v);
        const cg_real *got = cg_node_value(p.w);
        for (int i = 0; i < N; i++) {
            if (fabs(got[i] - w[i]) > TOL)
                fprintf(stderr, "case %s, step %d, w[%d]\n", r->what, t, i);
            CHECK_NEAR(got[i], w[i], TOL);
        }
        /* The state buffers hold the reference's moments. */
        size_t n0 = 99, n1 = 99;
        const cg_real *s0 = cg_optimizer_state(o, 0, &n0);
        const cg_real *s1 = cg_optimizer_state(o, 1, &n1);
        CHECK((s0 != NULL) == (r->kind == 1 || r->kind == 3));
        CHECK((s1 != NULL) == (r->kind == 2 || r->kind == 3));
        CHECK(n0 == (s0 ? (size_t)N : 0) && n1 == (s1 ? (size_t)N : 0));
        for (int i = 0; i < N; i++) {
            if (s0) CHECK_NEAR(s0[i], m[i], TOL);
            if (s1) CHECK_NEAR(s1[i], v[i], TOL);
        }
    }
    CHECK(cg_optimizer_step_count(o) == 3);
    cg_optimizer_free(o);
    cg_graph_free(p.g);
}

static void test_sgd_by_hand(void)
{
    /* Worked out on paper: g = 2 c w + d = {0.5, -7.5, 4.5} at W0. */
    problem p;
    CHECK(problem_new(&p) == 0);
    cg_optimizer *o = cg_sgd(0.1);
    CHECK(cg_minimize_step(o, p.cost, NULL) == CG_OK);
    const cg_real *w = cg_node_value(p.w);
    CHECK_NEAR(w[0], 0.95, TOL);
    CHECK_NEAR(w[1], -1.25, TOL);
    CHECK_NEAR(w[2], 0.05, TOL);
    CHECK(!strcmp(cg_optimizer_name(o), "sgd"));
    cg_optimizer_free(o);
    cg_graph_free(p.g);
}

static void test_adam_first_step(void)
{
    /* Bias correction makes Adam's first step lr * g / (|g| + eps). */
    problem p;
    CHECK(problem_new(&p) == 0);
    const double lr = 0.01, eps = 1e-8;
    cg_optimizer *o = cg_adam(lr, 0.9, 0.999, eps);
    CHECK(cg_minimize_step(o, p.cost, NULL) == CG_OK);
    const cg_real *w = cg_node_value(p.w);
    for (int i = 0; i < N; i++) {
        double g = 2 * C[i] * W0[i] + D[i];
        CHECK_NEAR(w[i], W0[i] - lr * g / (fabs(g) + eps), TOL);
    }
    CHECK(!strcmp(cg_optimizer_name(o), "adam"));
    cg_optimizer_free(o);
    cg_graph_free(p.g);
}

static void test_names_and_defaults(void)
{
    static const char *names[] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};
    for (int i = 0; i < 6; i++) {
        cg_optimizer *o = cg_optimizer_from_name(names[i], 0.1);
        CHECK(o != NULL);
        if (o) CHECK(!strcmp(cg_optimizer_name(o), names[i]));
        CHECK_NEAR(cg_optimizer_lr(o), 0.1, 0);
        cg_optimizer_free(o);
    }
    /* cg_adam_default == cg_adam(lr, 0.9, 0.999, 1e-8): same trajectory. */
    ref r = {.what = "adam default", .kind = 3, .lr = 0.05, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8};
    problem p;
    CHECK(problem_new(&p) == 0);
    cg_optimizer *o = cg_adam_default(0.05);
    for (int t = 0; t < 3; t++) CHECK(cg_minimize_step(o, p.cost, NULL) == CG_OK);
    double w[N], m[N], v[N];
    ref_run(&r, 3, w, m, v);
    for (int i = 0; i < N; i++) CHECK_NEAR(cg_node_value(p.w)[i], w[i], TOL);
    cg_optimizer_free(o);
    cg_graph_free(p.g);
}

static void test_checkpoint_roundtrip(void)
{
    /* Copy Adam's state into a fresh optimizer: the next steps agree. */
    problem a, b;
    CHECK(problem_new(&a) == 0 && problem_new(&b) == 0);
    cg_optimizer *oa = cg_adamw(0.05, 0.1), *ob = cg_optimizer_from_name("adamw", 0.05);
    CHECK(cg_optimizer_set_weight_decay(ob, 0.1, 1) == CG_OK);
    CHECK(!strcmp(cg_optimizer_name(oa), "adamw"));
    for (int t = 0; t < 2; t++) CHECK(cg_minimize_step(oa, a.cost, NULL) == CG_OK);
    CHECK(cg_optimizer_state(ob, 0, NULL) == NULL);
    CHECK(cg_optimizer_prepare(ob, b.g) == CG_OK);
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        cg_real *dst = cg_optimizer_state(ob, k, &n);
        const cg_real *src = cg_optimizer_state(oa, k, NULL);
        CHECK(dst && src && n == N);
        if (dst && src) memcpy(dst, src, n * sizeof *dst);
    }
    CHECK(cg_optimizer_set_step_count(ob, cg_optimizer_step_count(oa)) == CG_OK);
    memcpy(cg_node_value(b.w), cg_node_value(a.w), N * sizeof(cg_real));
    CHECK(cg_minimize_step(oa, a.cost, NULL) == CG_OK);
    CHECK(cg_minimize_step(ob, b.cost, NULL) == CG_OK);
    for (int i = 0; i < N; i++) CHECK_NEAR(cg_node_value(a.w)[i], cg_node_value(b.w)[i], 0);
    CHECK(cg_optimizer_step_count(ob) == 3);

    /* The same optimizer on a graph of another size: a clear error. */
    cg_graph *g2 = cg_graph_new();
    const int two[1] = {2};
    cg_node *x = cg_variable(g2, "x", 1, two, NULL);
    cg_node *cost = cg_sum(cg_square(x));
    CHECK(cg_minimize_step(oa, cost, NULL) == CG_ERR_STATE);
    CHECK_ERROR("3 parameters");
    cg_graph_free(g2);
    cg_optimizer_free(oa);
    cg_optimizer_free(ob);
    cg_graph_free(a.g);
    cg_graph_free(b.g);
}

static void test_numeric(void)
{
    problem p;
    CHECK(problem_new(&p) == 0);
    cg_optimizer *o = cg_momentum(0.1, 0.9);
    CHECK(cg_backward(p.cost) == CG_OK);
    cg_real *gr = cg_graph_grads(p.g);
    gr[1] = (cg_real)NAN;
    CHECK(cg_optimizer_update(o, p.g) == CG_ERR_NUMERIC);
    CHECK_ERROR("gradient of parameter 1 is nan");
    for (int i = 0; i < N; i++) CHECK_NEAR(cg_node_value(p.w)[i], W0[i], 0);
    CHECK(cg_optimizer_step_count(o) == 0);
    gr[1] = (cg_real)INFINITY;
    CHECK(cg_optimizer_update(o, p.g) == CG_ERR_NUMERIC);
    CHECK_ERROR("inf");
    cg_node_value(p.w)[0] = (cg_real)INFINITY;
    CHECK(cg_minimize_step(o, p.cost, NULL) == CG_ERR_NUMERIC);
    CHECK_ERROR("cost");
    cg_optimizer_free(o);
    cg_graph_free(p.g);
}

static void test_bad_arguments(void)
{
    CHECK(cg_sgd(-0.5) == NULL);
    CHECK_ERROR("-0.5");
    CHECK(cg_sgd(0) == NULL);
    CHECK(cg_sgd(NAN) == NULL);
    CHECK(cg_momentum(0.1, 1.0) == NULL);
    CHECK_ERROR("beta = 1 ");
    CHECK(cg_nesterov(0.1, -0.25) == NULL);
    CHECK_ERROR("-0.25");
    CHECK(cg_rmsprop(0.1, 1.5, 1e-8) == NULL);
    CHECK_ERROR("beta = 1.5");
    CHECK(cg_rmsprop(0.1, 0.9, -1) == NULL);
    CHECK_ERROR("eps = -1");
    CHECK(cg_adam(0.1, 2, 0.999, 1e-8) == NULL);
    CHECK_ERROR("beta1 = 2");
    CHECK(cg_adam(0.1, 0.9, 1, 1e-8) == NULL);
    CHECK_ERROR("beta2 = 1");
    CHECK(cg_adam(-3, 0.9, 0.999, 1e-8) == NULL);
    CHECK_ERROR("-3");
    CHECK(cg_optimizer_from_name("adagrad", 0.1) == NULL);
    CHECK_ERROR("\"adagrad\"");
    CHECK_ERROR("sgd, momentum, nesterov, rmsprop, adam, adamw");
    CHECK(cg_optimizer_from_name(NULL, 0.1) == NULL);
    CHECK(cg_optimizer_from_name("adam", -0.01) == NULL);
    CHECK_ERROR("-0.01");

    /* Which hyperparameters each named optimizer has (the CLI refuses the
     * others): one row per name, columns momentum, beta1, beta2, eps. */
    static const char *const hyper[4] = {"momentum", "beta1", "beta2", "eps"};
    static const char *const name[6] = {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"};
    static const int uses[6][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {1, 0, 0, 0},
                                   {0, 1, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 1}};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) CHECK(cg_optimizer_uses(name[i], hyper[j]) == uses[i][j]);
    CHECK(!cg_optimizer_uses("adagrad", "eps") && !cg_optimizer_uses("adam", "gamma") &&
          !cg_optimizer_uses(NULL, "eps") && !cg_optimizer_uses("adam", NULL));
    /* Every optimizer has a rate and a weight decay, with the table's
     * defaults; adamw's decay is decoupled and on by default. */
    for (int i = 0; i < 6; i++) CHECK(cg_optimizer_uses(name[i], "lr") && cg_optimizer_uses(name[i], "weight_decay"));
    CHECK(cg_optimizer_default("sgd", "lr") == 0.1 && cg_optimizer_default("nesterov", "lr") == 0.01);
    CHECK(cg_optimizer_default("adamw", "weight_decay") == 0.01 && cg_optimizer_default("adam", "weight_decay") == 0);
    CHECK(isnan(cg_optimizer_default("adam", "momentum")) && isnan(cg_optimizer_default("nope", "lr")));
    CHECK(cg_optimizer_count() == 6);
    for (int i = 0; i < 6; i++) CHECK(!strcmp(cg_optimizer_name_at(i), name[i]) && cg_optimizer_summary(name[i]));
    CHECK(cg_optimizer_name_at(6) == NULL && cg_optimizer_summary("nope") == NULL);

    cg_optimizer *o = cg_adam_default(0.1);
    CHECK(cg_optimizer_set_weight_decay(o, -0.125, 0) == CG_ERR_ARG);
    CHECK_ERROR("-0.125");
    CHECK(cg_optimizer_set_clip_norm(o, -2) == CG_ERR_ARG);
    CHECK_ERROR("-2");
    CHECK(cg_optimizer_set_clip_value(o, -7) == CG_ERR_ARG);
    CHECK_ERROR("-7");
    CHECK(cg_optimizer_set_nesterov(o, 1) == CG_ERR_ARG);
    CHECK_ERROR("\"adam\" has no momentum");
    CHECK(cg_optimizer_set_warmup(o, -4) == CG_ERR_ARG);
    CHECK_ERROR("-4");
    CHECK(cg_optimizer_set_epoch(o, -1) == CG_ERR_ARG);
    CHECK(cg_optimizer_set_lr(o, -9) == CG_ERR_ARG);
    CHECK_ERROR("-9");
    CHECK(cg_optimizer_set_step_count(o, -1) == CG_ERR_ARG);
    double bad_exp[2] = {-0.5, 0};
    CHECK(cg_optimizer_set_schedule(o, CG_LR_EXPONENTIAL, bad_exp) == CG_ERR_ARG);
    CHECK_ERROR("-0.5");
    CHECK(cg_optimizer_set_schedule(o, 42, bad_exp) == CG_ERR_ARG);
    CHECK_ERROR("42");
    CHECK(cg_optimizer_set_schedule(o, CG_LR_STEP, NULL) == CG_ERR_ARG);
    CHECK(cg_optimizer_set_schedule(o, CG_LR_CONSTANT, NULL) == CG_OK);
    CHECK(cg_optimizer_update(NULL, NULL) == CG_ERR_ARG);
    cg_optimizer_free(o);
    cg_optimizer_free(NULL);
    cg_optimizer *m = cg_momentum(0.1, 0.9);
    CHECK(cg_optimizer_set_nesterov(m, 1) == CG_OK);
    CHECK(!strcmp(cg_optimizer_name(m), "nesterov"));
    cg_optimizer_free(m);
}

static void test_schedule_parse(void)
{
    int kind = -1;
    double p[CG_LR_MAX_PARAMS];
    CHECK(cg_lr_schedule_parse("none", &kind, p) == CG_OK && kind == CG_LR_CONSTANT);
    CHECK(cg_lr_schedule_parse("constant", &kind, p) == CG_OK && kind == CG_LR_CONSTANT);
    CHECK(cg_lr_schedule_parse("inverse:0.5", &kind, p) == CG_OK && kind == CG_LR_INVERSE_TIME);
    CHECK_NEAR(p[0], 0.5, 0);
    CHECK(cg_lr_schedule_parse("exp:0.9", &kind, p) == CG_OK && kind == CG_LR_EXPONENTIAL);
    CHECK_NEAR(p[0], 0.9, 0);
    CHECK(cg_lr_schedule_parse("step:3:0.5", &kind, p) == CG_OK && kind == CG_LR_STEP);
    CHECK_NEAR(p[0], 3, 0);
    CHECK_NEAR(p[1], 0.5, 0);
    CHECK(cg_lr_schedule_parse("cosine:10", &kind, p) == CG_OK && kind == CG_LR_COSINE);
    CHECK_NEAR(p[0], 10, 0);
    CHECK_NEAR(p[1], 0, 0);
    CHECK(cg_lr_schedule_parse("cosine:10:0.001", &kind, p) == CG_OK && kind == CG_LR_COSINE);
    CHECK_NEAR(p[1], 0.001, 0);

    static const char *bad[] = {
        "",        "warp:2",       "exp",        "exp:",      "exp:abc",   "exp:0.9:1",
        "exp:-1",  "exp:nan",      "inverse:",   "inverse:-2", "step:3",    "step:0:0.5",
        "step:2.5:0.5", "step:3:0.5:1", "step:3:", "cosine:-1", "cosine:0", "cosine:10:-1",
        "none:1",  "exp:0.9x",     "exp: 0.9",   "cosine:inf", "Exp:0.9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kind = -7;
        int rc = cg_lr_schedule_parse(bad[i], &kind, p);
        if (rc != CG_ERR_ARG) fprintf(stderr, "spec \"%s\" was accepted\n", bad[i]);
        CHECK(rc == CG_ERR_ARG);
        CHECK(kind == -7);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        CHECK_ERROR(quoted);
    }
    CHECK(cg_lr_schedule_parse("warp:2", &kind, p) == CG_ERR_ARG);
    CHECK_ERROR("step:N:GAMMA");
}

int main(void)
{
    test_sgd_by_hand();
    test_adam_first_step();
    const ref cases[] = {
        {.what = "sgd", .kind = 0, .lr = 0.1},
        {.what = "momentum", .kind = 1, .lr = 0.05, .b1 = 0.9},
        {.what = "nesterov", .kind = 1, .lr = 0.05, .b1 = 0.9, .nesterov = 1},
        {.what = "rmsprop", .kind = 2, .lr = 0.01, .b1 = 0.9, .eps = 1e-8},
        {.what = "rmsprop eps", .kind = 2, .lr = 0.02, .b1 = 0.5, .eps = 0.1},
        {.what = "adam", .kind = 3, .lr = 0.01, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8},
        {.what = "adam b", .kind = 3, .lr = 0.1, .b1 = 0.5, .b2 = 0.75, .eps = 0.01},
        {.what = "adamw", .kind = 3, .lr = 0.1, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8,
         .wd = 0.2, .decoupled = 1},
        {.what = "sgd decoupled wd", .kind = 0, .lr = 0.1, .wd = 0.3, .decoupled = 1},
        {.what = "sgd coupled wd", .kind = 0, .lr = 0.1, .wd = 0.3},
        {.what = "momentum coupled wd", .kind = 1, .lr = 0.05, .b1 = 0.9, .wd = 0.3},
        {.what = "adam coupled wd", .kind = 3, .lr = 0.1, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8,
         .wd = 0.3},
        {.what = "sgd clip norm", .kind = 0, .lr = 0.1, .clip_norm = 1.0},
        {.what = "momentum clip norm", .kind = 1, .lr = 0.1, .b1 = 0.9, .clip_norm = 2.5},
        {.what = "sgd clip value", .kind = 0, .lr = 0.1, .clip_value = 1.0},
        {.what = "adam clip value", .kind = 3, .lr = 0.1, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8,
         .clip_value = 0.75},
        {.what = "sgd clip both", .kind = 0, .lr = 0.1, .clip_value = 3.0, .clip_norm = 2.0},
        {.what = "inverse", .kind = 0, .lr = 0.1, .sched = CG_LR_INVERSE_TIME, .sp = {0.5, 0},
         .set_epochs = 1},
        {.what = "exp", .kind = 0, .lr = 0.1, .sched = CG_LR_EXPONENTIAL, .sp = {0.9, 0},
         .set_epochs = 1},
        {.what = "step", .kind = 0, .lr = 0.1, .sched = CG_LR_STEP, .sp = {2, 0.5},
         .set_epochs = 1},
        {.what = "cosine", .kind = 0, .lr = 0.1, .sched = CG_LR_COSINE, .sp = {4, 0.01},
         .set_epochs = 1},
        {.what = "cosine past T", .kind = 0, .lr = 0.1, .sched = CG_LR_COSINE, .sp = {1, 0.02},
         .set_epochs = 1},
        {.what = "constant", .kind = 0, .lr = 0.1, .sched = CG_LR_CONSTANT, .set_epochs = 1},
        {.what = "warmup", .kind = 0, .lr = 0.1, .warmup = 3},
        {.what = "adam exp warmup", .kind = 3, .lr = 0.1, .b1 = 0.9, .b2 = 0.999, .eps = 1e-8,
         .sched = CG_LR_EXPONENTIAL, .sp = {0.5, 0}, .warmup = 2, .set_epochs = 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);

    /* Schedule values by epoch, worked out directly. */
    cg_optimizer *o = cg_sgd(0.1);
    double sp[2] = {4, 0.01};
    CHECK(cg_optimizer_set_schedule(o, CG_LR_COSINE, sp) == CG_OK);
    CHECK(cg_optimizer_set_epoch(o, 2) == CG_OK);
    CHECK_NEAR(cg_optimizer_lr(o), 0.055, TOL);
    CHECK(cg_optimizer_set_epoch(o, 9) == CG_OK);
    CHECK_NEAR(cg_optimizer_lr(o), 0.01, TOL);
    sp[0] = 3, sp[1] = 0.5;
    CHECK(cg_optimizer_set_schedule(o, CG_LR_STEP, sp) == CG_OK);
    CHECK(cg_optimizer_set_epoch(o, 7) == CG_OK);
    CHECK_NEAR(cg_optimizer_lr(o), 0.025, TOL);
    cg_optimizer_free(o);

    test_names_and_defaults();
    test_checkpoint_roundtrip();
    test_numeric();
    test_bad_arguments();
    test_schedule_parse();
    CHECK_DONE();
}
