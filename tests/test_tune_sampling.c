/* SPDX-License-Identifier: MIT */
/* test_tune_sampling.c: search spaces: samples on the right scale (uniform
 * in log for loguniform, in log(1 - beta) for one_minus_log), integers and
 * choices covering their range, order-independent trial seeds, coarse-to-
 * fine ranges that keep the best points and shrink, grid points, spec
 * validation, and the run configuration a point becomes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tune/tune.h"

#define N 100000

static void add(cg_tune_space *s, const char *spec)
{
    int rc = cg_tune_space_add(s, spec);
    if (rc) fprintf(stderr, "%s: %s\n", spec, cg_last_error());
    CHECK(rc == CG_OK);
}

/* Counts of x over `bins` equal bins of [a, b]: each must be within `tol`
 * of N / bins (binomial sd ~ sqrt(N / bins) ~ 70 for 20 bins: tol 500 is
 * 7 sd, yet a sample uniform in the value instead of its log misses by
 * thousands). */
static void check_flat(const double *x, double a, double b, int bins, double tol)
{
    int count[64] = {0};
    for (int i = 0; i < N; i++) {
        int k = (int)((x[i] - a) / (b - a) * bins);
        if (k == bins) k--;
        CHECK(k >= 0 && k < bins);
        if (k >= 0 && k < bins) count[k]++;
    }
    for (int k = 0; k < bins; k++) CHECK_NEAR(count[k], (double)N / bins, tol);
}

static void test_loguniform(double *x)
{
    cg_tune_space s = {0};
    add(&s, "lr=loguniform:1e-4:1");
    cg_tune_point p;
    for (int i = 0; i < N; i++) {
        cg_tune_sample(&s, cg_tune_trial_seed(7, 0, i), &p);
        CHECK(p.v[0] >= 1e-4 && p.v[0] <= 1);
        x[i] = log10(p.v[0]);
    }
    check_flat(x, -4, 0, 20, 500);
    /* A quarter of the samples per decade, so lr < 1e-3 as often as > 0.1. */
    int low = 0;
    for (int i = 0; i < N; i++) low += x[i] < -3;
    CHECK_NEAR(low, N / 4, 800);
}

static void test_one_minus_log(double *x)
{
    cg_tune_space s = {0};
    add(&s, "beta2=one_minus_log:1e-4:1e-1");
    cg_tune_point p;
    int below_099 = 0;
    for (int i = 0; i < N; i++) {
        cg_tune_sample(&s, cg_tune_trial_seed(11, 2, i), &p);
        double b = p.v[0];
        CHECK(b >= 0.9 && b <= 0.9999 && b < 1);
        below_099 += b < 0.99;
        x[i] = log10(1 - b);
    }
    check_flat(x, -4, -1, 15, 500);
    /* 0.9 .. 0.99 is one decade of three: a third, not the 91% a uniform
     * beta would give. */
    CHECK_NEAR(below_099, N / 3.0, 800);
}

static void test_integers_and_choices(void)
{
    cg_tune_space s = {0};
    add(&s, "layers=int:1:3");
    add(&s, "batch=intlog:32:512");
    add(&s, "optimizer=choice:adam,momentum,rmsprop");
    add(&s, "dropout=uniform:0.1:0.5");
    int layers[4] = {0}, opt[3] = {0}, batch_lo = 0, batch_min = 1 << 30, batch_max = 0;
    double sum = 0;
    cg_tune_point p;
    for (int i = 0; i < N; i++) {
        cg_tune_sample(&s, cg_tune_trial_seed(3, 0, i), &p);
        int l = (int)p.v[0], b = (int)p.v[1], o = (int)p.v[2];
        CHECK(p.v[0] == l && l >= 1 && l <= 3);
        CHECK(p.v[1] == b && b >= 32 && b <= 512);
        CHECK(o >= 0 && o < 3);
        if (l >= 1 && l <= 3) layers[l]++;
        if (o >= 0 && o < 3) opt[o]++;
        batch_lo += b < 128;
        if (b < batch_min) batch_min = b;
        if (b > batch_max) batch_max = b;
        CHECK(p.v[3] >= 0.1 && p.v[3] <= 0.5);
        sum += p.v[3];
    }
    for (int k = 1; k <= 3; k++) CHECK_NEAR(layers[k], N / 3.0, 800);
    for (int k = 0; k < 3; k++) CHECK_NEAR(opt[k], N / 3.0, 800);
    CHECK(batch_min == 32 && batch_max == 512); /* both ends are reached */
    /* log-uniform over [32, 513): P(b < 128) = log(128/32) / log(513/32) */
    CHECK_NEAR(batch_lo, N * log(4.0) / log(513.0 / 32), 800);
    CHECK_NEAR(sum / N, 0.3, 0.003);
}

static void test_seeds(void)
{
    /* The same (seed, round, index) gives the same point in any order. */
    cg_tune_space s = {0};
    add(&s, "lr=loguniform:1e-4:1");
    add(&s, "units=int:64:512");
    cg_tune_point fwd[50], back[50];
    for (int i = 0; i < 50; i++) cg_tune_sample(&s, cg_tune_trial_seed(5, 1, i), &fwd[i]);
    for (int i = 49; i >= 0; i--) cg_tune_sample(&s, cg_tune_trial_seed(5, 1, i), &back[i]);
    CHECK(memcmp(fwd, back, sizeof fwd) == 0);
    /* Trials, rounds and searches get different seeds. */
    CHECK(cg_tune_trial_seed(5, 1, 0) != cg_tune_trial_seed(5, 1, 1));
    CHECK(cg_tune_trial_seed(5, 0, 1) != cg_tune_trial_seed(5, 1, 0));
    CHECK(cg_tune_trial_seed(5, 1, 0) != cg_tune_trial_seed(6, 1, 0));
    int distinct = 0;
    for (int i = 1; i < 50; i++) distinct += fwd[i].v[0] != fwd[0].v[0];
    CHECK(distinct == 49);
    CHECK(cg_tune_train_seed(cg_tune_trial_seed(5, 1, 0)) < (1ULL << 31));
    /* Adding a parameter leaves the others' values alone. */
    cg_tune_space t = s;
    add(&t, "dropout=uniform:0:0.5");
    cg_tune_point q;
    cg_tune_sample(&t, cg_tune_trial_seed(5, 1, 7), &q);
    CHECK(q.v[0] == fwd[7].v[0] && q.v[1] == fwd[7].v[1]);
}

static void test_refine(void)
{
    cg_tune_space orig = {0};
    add(&orig, "lr=loguniform:1e-5:1");
    add(&orig, "units=int:1:100");
    add(&orig, "optimizer=choice:adam,momentum,rmsprop");
    add(&orig, "beta2=one_minus_log:1e-4:1e-1");
    cg_tune_space s = orig;
    cg_tune_point best[3] = {{{1e-3, 20, 0, 0.99}}, {{3e-3, 30, 2, 0.995}}, {{2e-3, 25, 0, 0.999}}};
    cg_tune_space_refine(&s, &orig, best, 3, 0.1);
    /* lr: span log10 3 = 0.477, widened by max(0.1 * span, 0.05 * 5 decades). */
    CHECK_NEAR(log10(s.p[0].lo), -3 - 0.25, 1e-9);
    CHECK_NEAR(log10(s.p[0].hi), log10(3e-3) + 0.25, 1e-9);
    /* units: span 10, margin max(1, 0.05 * 99), then whole numbers outwards. */
    CHECK(s.p[1].lo == 15 && s.p[1].hi == 35);
    CHECK(s.p[2].active[0] && !s.p[2].active[1] && s.p[2].active[2]);
    /* 1 - beta2 spans 1e-3 .. 1e-2 (of 1e-4 .. 1e-1). */
    CHECK(s.p[3].lo <= 1e-3 && s.p[3].hi >= 1e-2 && s.p[3].lo > 1e-4 && s.p[3].hi < 1e-1);
    for (int j = 0; j < 3; j++) {
        CHECK(best[j].v[0] >= s.p[0].lo && best[j].v[0] <= s.p[0].hi);
        CHECK(best[j].v[1] >= s.p[1].lo && best[j].v[1] <= s.p[1].hi);
        CHECK(1 - best[j].v[3] >= s.p[3].lo && 1 - best[j].v[3] <= s.p[3].hi);
    }
    /* Every range shrank. */
    CHECK(s.p[0].hi / s.p[0].lo < orig.p[0].hi / orig.p[0].lo / 100);
    CHECK(s.p[1].hi - s.p[1].lo < (orig.p[1].hi - orig.p[1].lo) / 3);
    CHECK(s.p[3].hi / s.p[3].lo < orig.p[3].hi / orig.p[3].lo);
    /* The next round samples only there. */
    cg_tune_point p;
    for (int i = 0; i < 2000; i++) {
        cg_tune_sample(&s, cg_tune_trial_seed(1, 1, i), &p);
        CHECK(p.v[0] >= s.p[0].lo && p.v[0] <= s.p[0].hi);
        CHECK(p.v[1] >= 15 && p.v[1] <= 35);
        CHECK(p.v[2] != 1);
        CHECK(1 - p.v[3] >= s.p[3].lo * (1 - 1e-9) && 1 - p.v[3] <= s.p[3].hi * (1 + 1e-9));
    }
    /* A second round around one point shrinks again, and keeps it. */
    cg_tune_space r2 = s;
    cg_tune_point one = {{2e-3, 25, 2, 0.995}};
    cg_tune_space_refine(&r2, &orig, &one, 1, 0.1);
    CHECK(r2.p[0].lo <= 2e-3 && r2.p[0].hi >= 2e-3);
    CHECK(r2.p[0].hi / r2.p[0].lo < s.p[0].hi / s.p[0].lo);
    CHECK(r2.p[1].lo <= 25 && r2.p[1].hi >= 25 && r2.p[1].hi - r2.p[1].lo <= 20);
    CHECK(!r2.p[2].active[0] && r2.p[2].active[2]);
    /* Points at the edge of the original range stay within it. */
    cg_tune_space r3 = orig;
    cg_tune_point edge[2] = {{{1e-5, 1, 0, 0.9}}, {{1, 100, 1, 0.9999}}};
    cg_tune_space_refine(&r3, &orig, edge, 2, 0.1);
    CHECK(r3.p[0].lo == 1e-5 && r3.p[0].hi == 1 && r3.p[1].lo == 1 && r3.p[1].hi == 100);
}

static void test_grid(void)
{
    cg_tune_space s = {0};
    add(&s, "lr=loguniform:1e-4:1e-2");
    add(&s, "optimizer=choice:adam,rmsprop");
    CHECK(cg_tune_grid_size(&s, 3, 1000) == 6);
    CHECK(cg_tune_grid_size(&s, 3, 5) == 0);
    double lrs[6];
    int opts[2] = {0};
    for (int i = 0; i < 6; i++) {
        cg_tune_point p;
        cg_tune_grid_point(&s, 3, i, &p);
        lrs[i] = p.v[0];
        opts[(int)p.v[1]]++;
    }
    CHECK_NEAR(lrs[0], 1e-4, 1e-12);
    CHECK_NEAR(lrs[1], 1e-3, 1e-12);
    CHECK_NEAR(lrs[2], 1e-2, 1e-12);
    CHECK(opts[0] == 3 && opts[1] == 3);
}

static void expect_error(const char *spec, const char *needle)
{
    cg_tune_space s = {0};
    add(&s, "lr=loguniform:1e-4:1");
    cg_tune_space before = s;
    int rc = cg_tune_space_add(&s, spec);
    CHECK(rc == CG_ERR_ARG);
    if (rc != CG_ERR_ARG) fprintf(stderr, "  spec '%s' was accepted\n", spec);
    else CHECK_ERROR(needle);
    CHECK(memcmp(&s, &before, sizeof s) == 0);
}

static void test_validation(void)
{
    expect_error("foo=uniform:0:1", "unknown parameter 'foo'");
    expect_error("lr=gauss:0:1", "unknown distribution 'gauss'");
    expect_error("lr=loguniform:1:0.1", "below");
    expect_error("lr=loguniform:0.1:0.1", "below");
    expect_error("lr=loguniform:0:1", "positive");
    expect_error("lr=loguniform:-1:1", "positive");
    expect_error("lr=loguniform:1e-3", "expected loguniform:LO:HI");
    expect_error("lr=loguniform:a:1", "must be numbers");
    expect_error("lr", "expected NAME=DIST:ARGS");
    expect_error("beta2=uniform:0.5:1.5", "outside");
    expect_error("momentum=uniform:0:0.9", "outside");
    expect_error("beta1=one_minus_log:1e-3:2", "(0, 1)");
    expect_error("batch=uniform:1:10", "integer");
    expect_error("batch=int:0:10", "outside");
    expect_error("dropout=int:0:1", "not an integer");
    expect_error("optimizer=uniform:0:1", "choice");
    expect_error("optimizer=choice:adam,bogus", "bogus");
    expect_error("activation=choice:relu,softplus", "softplus");
    expect_error("lr_decay=choice:cosine:5,wobble", "wobble");
    expect_error("hidden=choice:256,256|12x", "12x");
    expect_error("batch=choice:64,big", "big");
    expect_error("optimizer=choice:adam,,sgd", "empty choice");
    /* Accepted: replacing a parameter, choices with commas. */
    cg_tune_space s = {0};
    add(&s, "lr=uniform:0.1:0.2");
    add(&s, "lr=loguniform:1e-4:1");
    add(&s, "hidden=choice:256,256|512|none");
    add(&s, "lr_decay=choice:none,cosine:5,step:2:0.5");
    CHECK(s.n == 3 && s.p[0].dist == CG_TUNE_LOGUNIFORM);
    CHECK(s.p[1].n_choices == 3 && strcmp(s.p[1].choices[0], "256,256") == 0);
    CHECK(s.p[2].n_choices == 3 && strcmp(s.p[2].choices[2], "step:2:0.5") == 0);
}

static void test_json(void)
{
    cg_tune_space s = {0};
    int rc = cg_tune_space_add_json(&s, "{\"lr\": \"loguniform:1e-4:1\", \"optimizer\": [\"adam\", "
                                        "\"rmsprop\"], \"hidden\": [\"256,256\"], \"bn\": [0, 1], "
                                        "\"batch\": {\"choice\": [64, 128]}}");
    CHECK(rc == CG_OK);
    CHECK(s.n == 5);
    CHECK(s.p[2].n_choices == 1 && strcmp(s.p[2].choices[0], "256,256") == 0);
    CHECK(s.p[3].n_choices == 2 && strcmp(s.p[3].choices[1], "1") == 0);
    CHECK(s.p[4].n_choices == 2 && strcmp(s.p[4].choices[1], "128") == 0);
    cg_tune_space t = {0};
    CHECK(cg_tune_space_add_json(&t, "{\"lr\": ") == CG_ERR_FORMAT);
    CHECK(cg_tune_space_add_json(&t, "{\"lr\": 3}") == CG_ERR_FORMAT);
    CHECK_ERROR("lr");
    CHECK(cg_tune_space_add_json(&t, "{\"nope\": \"uniform:0:1\"}") == CG_ERR_ARG);
    CHECK_ERROR("unknown parameter 'nope'");
}

static void test_point_config(void)
{
    cg_tune_space s = {0};
    add(&s, "lr=loguniform:1e-4:1");
    add(&s, "units=int:64:512");
    add(&s, "layers=int:1:3");
    add(&s, "bn=choice:0,1");
    add(&s, "beta2=one_minus_log:1e-4:1e-1");
    add(&s, "lr_decay=choice:none,exp:0.9");
    cg_tune_point p = {{0.0031, 64, 3, 1, 0.9993, 1}};
    cg_run_config base, c;
    cg_run_config_init(&base);
    base.loop.epochs = 7;
    CHECK(cg_tune_point_config(&s, &p, &base, &c) == CG_OK);
    CHECK(c.optim.lr == 0.0031 && c.optim.beta2 == 0.9993 && c.model.batch_norm == 1);
    CHECK(c.model.n_hidden == 3 && c.model.hidden[0] == 64 && c.model.hidden[2] == 64);
    CHECK(c.schedule.kind == CG_LR_EXPONENTIAL && fabs(c.schedule.params[0] - 0.9) < 1e-12);
    CHECK(c.loop.epochs == 7); /* the base where no parameter says */
    p.v[2] = 0;
    p.v[3] = 0;
    CHECK(cg_tune_point_config(&s, &p, &base, &c) == CG_OK);
    CHECK(c.model.n_hidden == 0 && c.model.batch_norm == 0);

    /* With the optimizer sampled too, a point leaves out the
     * hyperparameters its optimizer does not use (a run refuses them). */
    cg_tune_space o = {0};
    add(&o, "optimizer=choice:sgd,momentum,rmsprop,adam");
    add(&o, "momentum=uniform:0.5:0.99");
    add(&o, "beta1=uniform:0.5:0.99");
    add(&o, "beta2=one_minus_log:1e-4:1e-1");
    add(&o, "eps=loguniform:1e-9:1e-6");
    const int expect[4][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 1}, {0, 1, 1, 1}};
    for (int k = 0; k < 4; k++) {
        cg_tune_point q = {{k, 0.9, 0.8, 0.999, 1e-7}};
        CHECK(cg_tune_point_config(&o, &q, &base, &c) == CG_OK);
        CHECK(strcmp(c.optim.name, o.p[0].choices[k]) == 0);
        const double got[4] = {c.optim.momentum, c.optim.beta1, c.optim.beta2, c.optim.eps};
        for (int f = 0; f < 4; f++) CHECK((isnan(got[f]) ? 0 : 1) == expect[k][f]);
        CHECK(cg_run_config_resolve(&c) == CG_OK);
    }
    /* units alone keeps two layers. */
    cg_tune_space u = {0};
    add(&u, "units=int:4:32");
    cg_tune_point r = {{8}};
    CHECK(cg_tune_point_config(&u, &r, &base, &c) == CG_OK);
    CHECK(c.model.n_hidden == 2 && c.model.hidden[1] == 8);
}

int main(void)
{
    double *x = malloc(N * sizeof *x);
    if (!x) return 1;
    test_loguniform(x);
    test_one_minus_log(x);
    free(x);
    test_integers_and_choices();
    test_seeds();
    test_refine();
    test_grid();
    test_validation();
    test_json();
    test_point_config();
    CHECK_DONE();
}
