// SPDX-License-Identifier: MIT
/* test_defaults.c: the data-derived defaults of the training loop
 * (cg_loop_config_from_cost): the model's multiply-adds an example, the
 * rule's properties over data shapes from a few dozen to a few hundred
 * thousand rows, 2 to 1000 features and 2 to 100 classes, Fashion-MNIST's
 * default run kept at 10 epochs, flags given kept as they are,
 * and default-flag training on synthetic tables of different shapes
 * (rows, features, classes) reaching a floor. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "cgrad.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The default model's forward multiply-adds an example for d features
 * and k classes (cg_model_multiply_adds of a model from the default
 * configuration). */
static double default_cost(int d, int k)
{
    cg_run_config c;
    cg_run_config_init(&c);
    cg_model *m = cg_model_from_config(&c.model, d, k, 1);
    CHECK(m != NULL);
    double cost = cg_model_multiply_adds(m);
    cg_model_free(m);
    return cost;
}

/* The multiply-adds come from the layers, convolutions included. */
static void cost_of_models(void)
{
    /* 784-256-256-10: 784 x 256 + 256 x 256 + 256 x 10. */
    CHECK(default_cost(784, 10) == 268800);
    CHECK(default_cost(4, 3) == 4 * 256 + 256 * 256 + 256 * 3);
    cg_model *m = cg_model_new(5, 3, 1); /* softmax regression */
    CHECK(m && cg_model_multiply_adds(m) == 15);
    cg_model_free(m);
    CHECK(cg_model_multiply_adds(NULL) == 0);
    /* conv32x3 (same), maxpool2, conv64x3, maxpool2, dense128 on 1 x 28 x 28:
     * 28*28 positions x 32 filters x 9, then 14*14 x 64 x 9 x 32 inputs,
     * 64*7*7 x 128, 128 x 10; pools add none. */
    cg_run_config c;
    cg_run_config_init(&c);
    c.model.n_hidden = 0;
    CHECK(cg_arch_parse("conv32x3,maxpool2,conv64x3,maxpool2,dense128", c.model.layers,
                        CG_MAX_LAYERS, &c.model.n_layers) == CG_OK);
    m = cg_model_from_config_image(&c.model, 1, 28, 28, 10, 1);
    CHECK(m != NULL);
    double want = 28.0 * 28 * 32 * 9 + 14.0 * 14 * 64 * 9 * 32 + 64.0 * 7 * 7 * 128 + 128 * 10;
    CHECK(cg_model_multiply_adds(m) == want);
    /* Built, the same; the count is far above the parameters' (~420,000). */
    CHECK(cg_model_build(m) == CG_OK && cg_model_multiply_adds(m) == want);
    CHECK(want > 10 * (double)cg_graph_param_count(cg_model_graph(m)));
    cg_model_free(m);
}

static long updates_of(const cg_loop_config *lc, long n)
{
    return (n + lc->batch - 1) / lc->batch * lc->epochs;
}

static void rule_over_shapes(void)
{
    cg_run_config c0;
    static const long rows[] = {1, 20, 40, 100, 412, 1000, 3000, 6400, 12800, 54000, 300000};
    static const int features[] = {2, 13, 40, 100, 784, 1000};
    static const int classes[] = {2, 10, 100};
    int by_budget = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    for (size_t j = 0; j < sizeof features / sizeof features[0]; j++)
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        long n = rows[i];
        double cost = default_cost(features[j], classes[k]);
        cg_run_config c;
        cg_run_config_init(&c);
        char why[512];
        long n_val = n / 9; /* the default split's */
        CHECK(cg_loop_config_from_cost(&c.loop, n, n_val, cost, why, sizeof why) == CG_OK);
        int b = c.loop.batch, e = c.loop.epochs, p = c.loop.patience;
        /* A power of two from 32 to 128, never more than the rows. */
        CHECK(b >= 1 && b <= 128);
        CHECK(b == n || (b >= 32 && (b & (b - 1)) == 0));
        CHECK(b <= n);
        /* About 1%: the power of two at or below n / 100, within bounds. */
        if (n >= 32) CHECK(b == 32 || b <= n / 100);
        if (n >= 32) CHECK(b == 128 || 2 * b > n / 100);
        /* Enough updates, unless the epoch bounds say otherwise. */
        long steps = (n + b - 1) / b, updates = steps * e;
        CHECK(e >= 10 && e <= CG_DEFAULT_MAX_EPOCHS);
        CHECK(updates >= CG_DEFAULT_UPDATES || e == CG_DEFAULT_MAX_EPOCHS);
        /* Within the compute budget, unless the floors (10 epochs, the
         * updates) need more; and no epoch it affords is left out. */
        double spent = cost * (double)n * e;
        int floor_e = (int)((CG_DEFAULT_UPDATES + steps - 1) / steps);
        CHECK(spent <= CG_DEFAULT_MULTIPLY_ADDS || e == 10 || e == floor_e);
        CHECK(e == CG_DEFAULT_MAX_EPOCHS || spent + cost * (double)n > CG_DEFAULT_MULTIPLY_ADDS);
        /* The cost only adds epochs to the updates' rule. */
        cg_run_config u;
        cg_run_config_init(&u);
        CHECK(cg_loop_config_from_data(&u.loop, n, n_val, NULL, 0) == CG_OK);
        CHECK(u.loop.batch == b && u.loop.epochs <= e);
        CHECK(u.loop.epochs == 10 || updates_of(&u.loop, n) < CG_DEFAULT_UPDATES + steps);
        /* A cheaper model trains no fewer epochs: a tenth of the cost. */
        cg_run_config cheap;
        cg_run_config_init(&cheap);
        CHECK(cg_loop_config_from_cost(&cheap.loop, n, n_val, cost / 10, NULL, 0) == CG_OK);
        CHECK(cheap.loop.epochs >= e);
        by_budget += e != floor_e && e != 10;
        if (e != floor_e && e != 10) /* set by the budget: ten times the epochs */
            CHECK(cheap.loop.epochs == CG_DEFAULT_MAX_EPOCHS || cheap.loop.epochs >= 9 * e);
        /* Early stopping a tenth of the epochs, at least 5, when the
         * validation rows can measure accuracy finely enough. */
        if (n_val >= CG_DEFAULT_MIN_VAL) CHECK(p >= 5 && (p == 5 || p == e / 10));
        else CHECK(p == 0);
        /* The sentence says what was chosen. */
        char want[64];
        snprintf(want, sizeof want, "batch %d", b);
        CHECK(strstr(why, want) != NULL);
        snprintf(want, sizeof want, "up to %d epochs", e);
        CHECK(strstr(why, want) != NULL);
        snprintf(want, sizeof want, "stop after %d epochs", p);
        CHECK(strstr(why, p ? want : "no early stopping") != NULL);
        CHECK(strstr(why, "multiply-adds") != NULL || e == floor_e || e == 10);
    }
    CHECK(by_budget > 20); /* the budget decides on many shapes, not none */
    /* 13,500 rows of 40 features, 4 classes: 76,800 multiply-adds an
     * example, 1.5e11 / (76,800 x 13,500) = 144.7 epochs, 14 of patience
     * (the updates alone: 38). */
    cg_run_config_init(&c0);
    CHECK(cg_loop_config_from_cost(&c0.loop, 13500, 1500, default_cost(40, 4), NULL, 0) == CG_OK);
    CHECK(c0.loop.batch == 128 && c0.loop.epochs == 144 && c0.loop.patience == 14);
    /* Fashion-MNIST with no flags (54,000 training rows, the default MLP)
     * keeps batch 128, 10 epochs, patience 5; a CNN there costs more an
     * example, so it trains no more than that either. */
    cg_run_config c;
    cg_run_config_init(&c);
    char why[512];
    CHECK(cg_loop_config_from_cost(&c.loop, 54000, 6000, default_cost(784, 10), why,
                                   sizeof why) == CG_OK);
    CHECK(c.loop.batch == 128 && c.loop.epochs == 10 && c.loop.patience == 5);
    cg_run_config_init(&c);
    CHECK(cg_loop_config_from_cost(&c.loop, 54000, 6000, 4241152, why, sizeof why) == CG_OK);
    CHECK(c.loop.epochs == 10);
    /* A cost that is not a count. */
    cg_run_config_init(&c);
    CHECK(cg_loop_config_from_cost(&c.loop, 100, 10, -1, why, sizeof why) == CG_ERR_ARG);
    CHECK(cg_loop_config_from_cost(&c.loop, 100, 10, NAN, why, sizeof why) == CG_ERR_ARG);
    CHECK(cg_loop_config_from_cost(&c.loop, 100, 10, INFINITY, why, sizeof why) == CG_ERR_ARG);
    CHECK(strstr(cg_last_error(), "multiply-adds") != NULL);
    /* Values given win; no validation split, no early stopping. */
    cg_run_config_init(&c);
    c.loop.batch = 7;
    c.loop.val_split = 0;
    CHECK(cg_loop_config_from_data(&c.loop, 5000, 0, why, sizeof why) == CG_OK);
    CHECK(c.loop.batch == 7);
    CHECK(c.loop.epochs == 10); /* 715 updates an epoch: 10 passes at least */
    CHECK(c.loop.patience == 0);
    CHECK(strstr(why, "no early stopping") != NULL && strstr(why, "batch") == NULL);
    cg_run_config_init(&c);
    c.loop.batch = 64, c.loop.epochs = 3, c.loop.patience = 0;
    CHECK(cg_loop_config_from_data(&c.loop, 5000, 555, why, sizeof why) == CG_OK);
    CHECK(c.loop.batch == 64 && c.loop.epochs == 3 && c.loop.patience == 0 && why[0] == 0);
    /* Unresolved, the configuration still checks; its JSON keeps "from the data". */
    cg_run_config_init(&c);
    CHECK(cg_run_config_resolve(&c) == CG_OK);
    char *json = cg_run_config_to_json(&c);
    CHECK(json != NULL);
    cg_run_config back;
    CHECK(cg_run_config_from_json(json, &back) == CG_OK);
    CHECK(back.loop.epochs == CG_FROM_DATA && back.loop.batch == CG_FROM_DATA &&
          back.loop.patience == CG_FROM_DATA);
    cg_free_string(json);
}

/* A table of `classes` Gaussian classes (unit variance) in d dimensions,
 * centres drawn from seed (N(0, spread^2) per coordinate), the noise from
 * noise_seed; CSV with a header and the label last. Returns the rows
 * (n x d) and labels, for the reference classifier. */
static float *write_table(const char *path, int n, int d, int classes, double spread, uint64_t seed,
                          uint64_t noise_seed, int **labels)
{
    FILE *f = fopen(path, "w");
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)d);
    int *y = malloc(sizeof(int) * (size_t)n);
    double *centre = malloc(sizeof(double) * (size_t)classes * (size_t)d);
    CHECK(f && x && y && centre);
    cg_rng rng;
    cg_rng_seed(&rng, seed);
    for (int i = 0; i < classes * d; i++) centre[i] = spread * cg_rng_normal(&rng);
    cg_rng_seed(&rng, noise_seed);
    for (int j = 0; j < d; j++) fprintf(f, "f%d,", j);
    fprintf(f, "label\n");
    for (int r = 0; r < n; r++) {
        int k = y[r] = r % classes;
        for (int j = 0; j < d; j++) {
            x[(size_t)r * d + j] = (float)(centre[k * d + j] + cg_rng_normal(&rng));
            fprintf(f, "%.9g,", x[(size_t)r * d + j]);
        }
        fprintf(f, "%d\n", k);
    }
    free(centre);
    fclose(f);
    *labels = y;
    return x;
}

/* The reference: nearest class mean, learned from the training rows
 * (close to the best possible for Gaussian classes of one variance). */
static double nearest_centroid(const float *xtr, const int *ytr, const float *xte, const int *yte,
                               int n, int d, int classes)
{
    double *m = calloc((size_t)classes * (size_t)d, sizeof(double));
    int *count = calloc((size_t)classes, sizeof(int));
    for (int r = 0; r < n; r++) {
        count[ytr[r]]++;
        for (int j = 0; j < d; j++) m[ytr[r] * d + j] += xtr[(size_t)r * d + j];
    }
    for (int k = 0; k < classes; k++)
        for (int j = 0; j < d; j++) m[k * d + j] /= count[k] ? count[k] : 1;
    int right = 0;
    for (int r = 0; r < n; r++) {
        int best = 0;
        double best_d = INFINITY;
        for (int k = 0; k < classes; k++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double e = xte[(size_t)r * d + j] - m[k * d + j];
                s += e * e;
            }
            if (s < best_d) best_d = s, best = k;
        }
        right += best == yte[r];
    }
    free(m);
    free(count);
    return (double)right / n;
}

/* Default flags (only the data; a linear model, for the test's time) on
 * tables of different shapes: rows, features and classes. The defaults
 * must train the model to near the reference classifier: within 0.08 of
 * its accuracy on fresh rows. Too few updates, too large a batch or
 * early stopping on noise would each fall short on one shape or another. */
static void train_shapes(void)
{
    struct { int n, d, classes; double spread; } shapes[] = {
        {60, 2, 2, 1.5},         /* a few dozen rows                    */
        {600, 20, 5, 0.6},       /* a small table                       */
        {3000, 200, 20, 0.25},   /* many features and classes           */
        {20000, 8, 3, 0.7},      /* many rows, few features             */
    };
    char dir[] = "/tmp/cgrad_defaults_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int n = shapes[i].n, d = shapes[i].d, classes = shapes[i].classes;
        char train[256], test[256];
        snprintf(train, sizeof train, "%s/train%zu.csv", dir, i);
        snprintf(test, sizeof test, "%s/test%zu.csv", dir, i);
        int *ytr, *yte;
        float *xtr = write_table(train, n, d, classes, shapes[i].spread, 1 + i, 100, &ytr);
        float *xte = write_table(test, n, d, classes, shapes[i].spread, 1 + i, 200, &yte);
        double ref = nearest_centroid(xtr, ytr, xte, yte, n, d, classes);
        cg_run_config c;
        cg_run_config_init(&c);
        snprintf(c.data.source, sizeof c.data.source, "%s", train);
        snprintf(c.data.test, sizeof c.data.test, "%s", test);
        c.model.n_hidden = 0;
        cg_train_result r;
        int rc = cg_train(&c, NULL, &r);
        CHECK(rc == CG_OK);
        if (rc) fprintf(stderr, "%s\n", cg_last_error());
        printf("%d rows x %d features, %d classes: %d epochs trained, test accuracy %.3f "
               "(nearest class mean %.3f)\n", n, d, classes, r.fit.epochs, r.test_acc, ref);
        CHECK(r.test_acc >= ref - 0.08);
        free(xtr), free(ytr), free(xte), free(yte);
        remove(train);
        remove(test);
    }
    rmdir(dir);
}

/* Dropout from the run's length: 0.2 for a classifier's MLP of 20 epochs
 * or more, none below (Fashion-MNIST's 10) or for what has no hidden
 * layers, an architecture or a regression; a rate given wins. */
static void dropout_rule(void)
{
    cg_run_config c;
    char why[768];
    cg_run_config_init(&c);
    CHECK(c.model.dropout == CG_FROM_DATA);
    CHECK(cg_run_config_resolve(&c) == CG_OK && c.model.dropout == CG_FROM_DATA);
    /* Fashion-MNIST with no flags: 10 epochs, no dropout. */
    CHECK(cg_loop_config_from_cost(&c.loop, 54000, 6000, default_cost(784, 10), why, sizeof why) == CG_OK);
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK);
    CHECK(c.loop.epochs == 10 && c.model.dropout == 0);
    CHECK(strstr(why, "; no dropout (10 epochs, fewer than 20") != NULL);
    /* The 4-class table of bench/defaults: 144 epochs, dropout 0.2. */
    cg_run_config_init(&c);
    CHECK(cg_loop_config_from_cost(&c.loop, 13500, 1500, default_cost(40, 4), why, sizeof why) == CG_OK);
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK);
    CHECK(c.model.dropout == CG_DEFAULT_DROPOUT && strstr(why, "; dropout 0.2 after each hidden layer") != NULL);
    CHECK(cg_run_config_resolve(&c) == CG_OK && c.model.dropout == CG_DEFAULT_DROPOUT);
    /* The boundary, with the epochs given: the sentence is the only one. */
    for (int e = 19; e <= 20; e++) {
        cg_run_config_init(&c);
        c.loop.epochs = e;
        why[0] = 0;
        CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK);
        CHECK(c.model.dropout == (e >= CG_DEFAULT_DROPOUT_EPOCHS ? CG_DEFAULT_DROPOUT : 0));
        CHECK(why[0] != ';');
    }
    /* Given, no hidden layers, an architecture, a regression: as given or none, said nowhere. */
    cg_run_config_init(&c);
    c.loop.epochs = 100;
    c.model.dropout = 0.5;
    why[0] = 0;
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK && c.model.dropout == 0.5 && !why[0]);
    cg_run_config_init(&c);
    c.loop.epochs = 100;
    c.model.n_hidden = 0;
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK && c.model.dropout == 0 && !why[0]);
    cg_run_config_init(&c);
    c.loop.epochs = 100;
    c.model.task = CG_TASK_REGRESSION;
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK && c.model.dropout == 0 && !why[0]);
    cg_run_config_init(&c);
    c.loop.epochs = 100;
    c.model.n_hidden = 0;
    c.model.n_layers = 1;
    c.model.layers[0].kind = CG_LAYER_DENSE;
    c.model.layers[0].size = 8;
    CHECK(cg_run_config_dropout_from_data(&c, why, sizeof why) == CG_OK && c.model.dropout == 0 && !why[0]);
    /* A model built from the configuration outside a run has none. */
    cg_run_config_init(&c);
    cg_model *m = cg_model_from_config(&c.model, 4, 3, 1);
    CHECK(m != NULL && cg_model_multiply_adds(m) == 4 * 256 + 256 * 256 + 256 * 3);
    cg_model_free(m);
    /* The stored configuration holds the rate chosen. */
    cg_run_config_init(&c);
    c.loop.epochs = 50;
    CHECK(cg_run_config_dropout_from_data(&c, NULL, 0) == CG_OK);
    char *json = cg_run_config_to_json(&c);
    cg_run_config back;
    CHECK(json && cg_run_config_from_json(json, &back) == CG_OK && back.model.dropout == CG_DEFAULT_DROPOUT);
    cg_free_string(json);
}

int main(void)
{
    cost_of_models();
    rule_over_shapes();
    dropout_rule();
    train_shapes();
    CHECK_DONE();
}
