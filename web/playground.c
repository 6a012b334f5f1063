/* SPDX-License-Identifier: MIT */
/* playground.c: the playground's C side, compiled to WebAssembly. A thin
 * client of include/cgrad.h: the page (its worker, web/worker.js) hands
 * over the data set and the model's description, then calls pg_train for a
 * few steps at a time and reads back metrics and the decision regions.
 * One model at a time lives here; every pg_* returns a cgrad status (0 ok,
 * negative on error, with the message from pg_error). */
#include "cgrad.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#define PG_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define PG_EXPORT
#endif

static cg_model *model;
static cg_optimizer *opt;
static cg_dataset train_set, test_set;
static int *order;    /* the training rows in this epoch's shuffled order */
static int cursor;    /* next position in order */
static cg_rng shuffle_rng;
static cg_real *batch_x, *batch_y;
static int batch_cap;

/* The playground's own errors (cg_error is internal to the library); a
 * failed cgrad call leaves its message in cg_last_error instead. */
static char own_error[160];

static int fail(int code, const char *msg)
{
    snprintf(own_error, sizeof own_error, "%s", msg);
    return code;
}

PG_EXPORT const char *pg_error(void) { return own_error[0] ? own_error : cg_last_error(); }

static void free_data(cg_dataset *ds)
{
    free(ds->x_f32);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

static int copy_data(cg_dataset *ds, const float *x, const int *y, int n, int d, int classes)
{
    free_data(ds);
    ds->x_f32 = malloc(sizeof *ds->x_f32 * (size_t)(n > 0 ? n : 1) * d);
    ds->y = malloc(sizeof *ds->y * (size_t)(n > 0 ? n : 1));
    if (!ds->x_f32 || !ds->y) {
        free_data(ds);
        return CG_ERR_MEMORY;
    }
    memcpy(ds->x_f32, x, sizeof *x * (size_t)n * d);
    for (int i = 0; i < n; i++) ds->y[i] = y[i];
    ds->n = n;
    ds->d = d;
    ds->n_classes = classes;
    return CG_OK;
}

/* The data: n_train + n_test rows of d features (row-major floats, already
 * scaled by the page) and labels in [0, classes). */
PG_EXPORT int pg_set_data(const float *x_train, const int *y_train, int n_train,
                          const float *x_test, const int *y_test, int n_test, int d, int classes)
{
    own_error[0] = 0;
    int rc = copy_data(&train_set, x_train, y_train, n_train, d, classes);
    if (rc == CG_OK) rc = copy_data(&test_set, x_test, y_test, n_test, d, classes);
    free(order);
    order = malloc(sizeof *order * (size_t)(n_train > 0 ? n_train : 1));
    if (!order) return CG_ERR_MEMORY;
    for (int i = 0; i < n_train; i++) order[i] = i;
    cursor = n_train; /* shuffle before the first batch */
    return rc;
}

/* A new model: `layers` hidden layers of widths[i] units, each dense ->
 * [batch norm] -> activation -> [dropout]; then the optimizer by name
 * ("sgd", "momentum", "rmsprop", "adam", "adamw") with learning rate lr and
 * L2 weight decay l2 (decoupled for adamw, as its name says). */
PG_EXPORT int pg_init(int seed, int layers, const int *widths, int activation, int batch_norm,
                      double dropout, const char *optimizer, double lr, double l2)
{
    own_error[0] = 0;
    cg_model_free(model);
    cg_optimizer_free(opt);
    model = NULL;
    opt = NULL;
    if (train_set.d <= 0) return fail(CG_ERR_STATE, "pg_init: no data (pg_set_data first)");
    model = cg_model_new(train_set.d, train_set.n_classes, (uint64_t)seed);
    if (!model) return -1;
    int rc = CG_OK;
    for (int i = 0; i < layers && rc == CG_OK; i++) {
        rc = cg_model_add_dense(model, widths[i]);
        if (rc == CG_OK && batch_norm) rc = cg_model_add_batch_norm(model, CG_BN_MOMENTUM, CG_BN_EPS);
        if (rc == CG_OK) rc = cg_model_add_activation(model, activation);
        if (rc == CG_OK && dropout > 0) rc = cg_model_add_dropout(model, dropout);
    }
    if (rc == CG_OK) rc = cg_model_build(model);
    if (rc != CG_OK) return rc;
    cg_rng_seed(cg_graph_rng(cg_model_graph(model)), (uint64_t)seed + 1);
    if (strcmp(optimizer, "adamw") == 0) {
        opt = cg_adamw(lr, l2);
    } else {
        opt = cg_optimizer_from_name(optimizer, lr);
        if (opt && l2 > 0 && (rc = cg_optimizer_set_weight_decay(opt, l2, 0)) != CG_OK) return rc;
    }
    if (!opt) return -1;
    /* The same seed, the same batches: the order starts over too. */
    cg_rng_seed(&shuffle_rng, (uint64_t)seed + 2);
    for (int i = 0; i < train_set.n; i++) order[i] = i;
    cursor = train_set.n;
    return CG_OK;
}

PG_EXPORT int pg_set_lr(double lr) { return opt ? cg_optimizer_set_lr(opt, lr) : CG_ERR_STATE; }

/* A hyperparameter given as NaN: the library's default for that optimizer. */
static double or_default(double v, const char *name, const char *hyper)
{
    return v == v ? v : cg_optimizer_default(name, hyper);
}

/* Replace pg_init's optimizer with one made by its constructor from these
 * hyperparameters (any of them NaN: cgrad's default for it):
 *   beta1  momentum's beta, RMSprop's decay (its beta), Adam's beta1
 *   beta2  Adam's and AdamW's beta2
 *   eps    RMSprop's, Adam's and AdamW's eps
 *   wd     weight decay: L2 in the gradient, decoupled for adamw
 * A hyperparameter the optimizer does not use is not looked at. Call it
 * right after pg_init (it starts the optimizer's state afresh). */
PG_EXPORT int pg_set_optimizer(const char *name, double lr, double wd, double beta1, double beta2,
                               double eps)
{
    own_error[0] = 0;
    if (!model) return fail(CG_ERR_STATE, "pg_set_optimizer: no model (pg_init first)");
    cg_optimizer *o = NULL;
    if (strcmp(name, "sgd") == 0) {
        o = cg_sgd(lr);
    } else if (strcmp(name, "momentum") == 0) {
        o = cg_momentum(lr, or_default(beta1, name, "momentum"));
    } else if (strcmp(name, "rmsprop") == 0) {
        o = cg_rmsprop(lr, or_default(beta1, name, "beta1"), or_default(eps, name, "eps"));
    } else if (strcmp(name, "adam") == 0 || strcmp(name, "adamw") == 0) {
        o = cg_adam(lr, or_default(beta1, name, "beta1"), or_default(beta2, name, "beta2"),
                    or_default(eps, name, "eps"));
    } else {
        return fail(CG_ERR_ARG, "pg_set_optimizer: optimizer is none of sgd, momentum, rmsprop, "
                                "adam, adamw");
    }
    if (!o) return -1; /* the constructor named the bad value */
    const int decoupled = strcmp(name, "adamw") == 0;
    wd = or_default(wd, name, "weight_decay");
    int rc = wd > 0 || decoupled ? cg_optimizer_set_weight_decay(o, wd, decoupled) : CG_OK;
    if (rc != CG_OK) {
        cg_optimizer_free(o);
        return rc;
    }
    cg_optimizer_free(opt);
    opt = o;
    return CG_OK;
}

/* The learning-rate schedule, as cg_lr_schedule_parse reads it ("none",
 * "exp:R", "step:N:GAMMA", "cosine:T[:LR_MIN]", "inverse:K"), counted in
 * training steps here (pg_train moves it on every step), and a linear
 * warm-up over the first `warmup` steps (0: none). */
PG_EXPORT int pg_set_schedule(const char *spec, int warmup)
{
    own_error[0] = 0;
    if (!opt) return fail(CG_ERR_STATE, "pg_set_schedule: no optimizer (pg_init first)");
    int kind;
    double params[CG_LR_MAX_PARAMS];
    int rc = cg_lr_schedule_parse(spec, &kind, params);
    if (rc == CG_OK) rc = cg_optimizer_set_schedule(opt, kind, params);
    if (rc == CG_OK) rc = cg_optimizer_set_warmup(opt, warmup);
    return rc;
}

/* The learning rate the next step will use (schedule and warm-up applied). */
PG_EXPORT double pg_lr(void) { return cg_optimizer_lr(opt); }

static int ensure_batch(int n)
{
    if (n <= batch_cap) return CG_OK;
    cg_real *x = realloc(batch_x, sizeof *x * (size_t)n * train_set.d);
    if (!x) return CG_ERR_MEMORY;
    batch_x = x;
    cg_real *y = realloc(batch_y, sizeof *y * (size_t)n);
    if (!y) return CG_ERR_MEMORY;
    batch_y = y;
    batch_cap = n;
    return CG_OK;
}

/* `steps` mini-batch updates of `batch` rows, drawn epoch by epoch in a
 * seeded shuffled order. *loss: the mean of the steps' batch losses. */
PG_EXPORT int pg_train(int steps, int batch, double *loss)
{
    own_error[0] = 0;
    if (!model || !opt || train_set.n <= 0) return fail(CG_ERR_STATE, "pg_train: no model");
    if (batch > train_set.n) batch = train_set.n;
    if (batch < 1) return fail(CG_ERR_ARG, "pg_train: batch size below 1");
    int rc = ensure_batch(batch);
    if (rc != CG_OK) return rc;
    cg_graph *g = cg_model_graph(model);
    cg_graph_set_training(g, 1);
    double sum = 0;
    for (int s = 0; s < steps; s++) {
        if (cursor + batch > train_set.n) {
            cg_rng_shuffle(&shuffle_rng, order, train_set.n);
            cursor = 0;
        }
        cg_dataset_gather(&train_set, NULL, order + cursor, batch, batch_x, batch_y);
        cursor += batch;
        if ((rc = cg_feed(cg_model_input(model), batch_x, batch)) != CG_OK) return rc;
        if ((rc = cg_feed(cg_model_labels(model), batch_y, batch)) != CG_OK) return rc;
        cg_real l;
        if ((rc = cg_minimize_step(opt, cg_model_loss(model), &l)) != CG_OK) return rc;
        /* The playground's schedule counts steps (its "epoch" is the step),
         * so it moves on after each one, and pg_lr is the next step's. */
        long t = cg_optimizer_step_count(opt);
        if ((rc = cg_optimizer_set_epoch(opt, t < INT_MAX ? (int)t : INT_MAX)) != CG_OK) return rc;
        sum += l;
    }
    if (loss) *loss = steps > 0 ? sum / steps : 0;
    return CG_OK;
}

/* Loss, accuracy and the confusion counts (classes^2 ints, [true][pred])
 * on the training (which = 0) or test (1) rows, in inference mode. */
PG_EXPORT int pg_evaluate(int which, double *loss, double *acc, int *confusion)
{
    own_error[0] = 0;
    const cg_dataset *ds = which ? &test_set : &train_set;
    if (!model) return fail(CG_ERR_STATE, "pg_evaluate: no model");
    if (ds->n <= 0) {
        *loss = 0, *acc = 0;
        return CG_OK;
    }
    const int C = ds->n_classes;
    long *conf = calloc((size_t)C * C, sizeof *conf);
    if (!conf) return CG_ERR_MEMORY;
    int rc = cg_evaluate_confusion(model, ds, NULL, 0, loss, acc, conf);
    if (confusion)
        for (int i = 0; i < C * C; i++) confusion[i] = (int)conf[i];
    free(conf);
    return rc;
}

/* Class probabilities probs [n, classes] of n rows x [n, d], in inference
 * mode and in one forward pass, so that every hidden layer then holds its
 * values for all n rows (pg_hidden). */
PG_EXPORT int pg_predict(const float *x, int n, float *probs)
{
    own_error[0] = 0;
    if (!model) return fail(CG_ERR_STATE, "pg_predict: no model");
    const int d = train_set.d, C = train_set.n_classes;
    cg_graph_set_training(cg_model_graph(model), 0);
    cg_real *in = cg_feed_buffer(cg_model_input(model), n);
    if (!in) return -1;
    for (size_t i = 0; i < (size_t)n * d; i++) in[i] = x[i];
    int rc = cg_forward(cg_model_probs(model));
    const cg_real *p = cg_node_value(cg_model_probs(model));
    for (size_t i = 0; rc == CG_OK && i < (size_t)n * C; i++) probs[i] = (float)p[i];
    return rc;
}

/* Hidden layer `layer`'s output node: the last node computed before the
 * next dense layer's weights are created (nodes are created in order),
 * leaving out dropout (the identity at inference) and parameter nodes. */
static cg_node *hidden_node(cg_graph *g, int layer)
{
    char name[32];
    snprintf(name, sizeof name, "dense%d.weight", layer + 2);
    const cg_node *next = cg_graph_find(g, name);
    cg_node *h = NULL;
    for (int i = 0, n = cg_graph_node_count(g); next && i < n; i++) {
        cg_node *v = cg_graph_node(g, i);
        if (v == next) return h;
        const char *op = cg_node_op(v);
        if (strcmp(op, "variable") && strcmp(op, "state") && strcmp(op, "constant") &&
            strcmp(op, "placeholder") && strcmp(op, "dropout"))
            h = v;
    }
    return NULL;
}

/* The output of hidden unit `unit` of hidden layer `layer` (after its
 * batch norm and activation) for the rows last given to pg_predict: out [n]. */
PG_EXPORT int pg_hidden(int layer, int unit, int n, float *out)
{
    own_error[0] = 0;
    if (!model) return fail(CG_ERR_STATE, "pg_hidden: no model");
    cg_node *h = hidden_node(cg_model_graph(model), layer);
    if (!h || cg_node_ndim(h) != 2) return fail(CG_ERR_ARG, "pg_hidden: no such hidden layer");
    const int w = cg_node_dim(h, 1);
    if (unit < 0 || unit >= w || cg_node_dim(h, 0) < n)
        return fail(CG_ERR_ARG, "pg_hidden: no such unit, or fewer rows than asked");
    const cg_real *v = cg_node_value(h);
    for (int i = 0; i < n; i++) out[i] = (float)v[(size_t)i * w + unit];
    return CG_OK;
}

/* Save the model (and optimizer state) as a cgrad checkpoint at path (in
 * emscripten's in-memory file system; the page reads it back as a Blob). */
PG_EXPORT int pg_save(const char *path)
{
    own_error[0] = 0;
    if (!model) return fail(CG_ERR_STATE, "pg_save: no model");
    return cg_checkpoint_save(path, model, opt, NULL, NULL);
}

/* Export the model as standalone C (cg_export_c): DIR/PREFIX.h and
 * DIR/PREFIX.c. mean and inv_std (d values each, or NULL): the page's
 * scaling of a CSV's features, x' = (x - mean) * inv_std, so that the
 * exported code takes the CSV's raw features. */
PG_EXPORT int pg_export_c(const char *dir, const char *prefix, float *mean, float *inv_std)
{
    own_error[0] = 0;
    if (!model) return fail(CG_ERR_STATE, "pg_export_c: no model");
    cg_normalizer nz = {.d = train_set.d, .scale = 1, .mean = mean, .inv_std = inv_std};
    /* No source: cg_export_c would call it "`cgrad export` from" one, and
     * the worker's first comment says where the file came from. */
    return cg_export_c(model, mean ? &nz : NULL, dir, prefix, NULL);
}

PG_EXPORT int pg_param_count(void)
{
    own_error[0] = 0;
    return model ? (int)cg_graph_param_count(cg_model_graph(model)) : 0;
}

/* --- The optimizer race: several optimizers from the same start on a 2-D
 * surface f(x, y), each on its own graph (one variable p = (x, y)), so the
 * paths come from cgrad's own optimizers. Surfaces (web/app.js draws the
 * same formulas):
 *   0 saddle:  x^2 + y^4/4 - y^2/2   (saddle at 0, minima at (0, +-1))
 *   1 plateau: 1 - exp(-(x^2 + y^2)) (almost flat far from the minimum)
 *   2 ravine:  x^2/20 + 2 y^2        (condition number 40) */
#define RACE_MAX 6

static struct {
    cg_graph *g[RACE_MAX];
    cg_node *cost[RACE_MAX], *p[RACE_MAX];
    cg_optimizer *opt[RACE_MAX];
    int n;
} race;

static void race_free(void)
{
    for (int i = 0; i < race.n; i++) {
        cg_optimizer_free(race.opt[i]);
        cg_graph_free(race.g[i]);
    }
    memset(&race, 0, sizeof race);
}

static cg_node *surface(cg_graph *g, cg_node *p, int kind)
{
    cg_node *x = cg_index(p, 0), *y = cg_index(p, 1);
    switch (kind) {
    case 0:
        return cg_add(cg_square(x), cg_sub(cg_mul(cg_scalar(g, 0.25), cg_pow(y, 4)),
                                           cg_mul(cg_scalar(g, 0.5), cg_square(y))));
    case 1:
        return cg_sub(cg_scalar(g, 1), cg_exp(cg_neg(cg_add(cg_square(x), cg_square(y)))));
    case 2:
        return cg_add(cg_mul(cg_scalar(g, 0.05), cg_square(x)),
                      cg_mul(cg_scalar(g, 2), cg_square(y)));
    default:
        return NULL;
    }
}

/* n optimizers by name (names: n NUL-separated strings) with learning rate
 * lr each, from (x0, y0) on surface `kind`. */
PG_EXPORT int pg_race_init(int kind, double x0, double y0, int n, const char *names, double lr)
{
    own_error[0] = 0;
    race_free();
    if (n < 1 || n > RACE_MAX) return fail(CG_ERR_ARG, "pg_race_init: 1 to 6 optimizers");
    for (int i = 0; i < n; i++, names += strlen(names) + 1) {
        cg_graph *g = race.g[i] = cg_graph_new();
        race.n = i + 1;
        if (!g) return -1;
        race.p[i] = cg_variable(g, "p", 1, (int[]){2}, (cg_real[]){(cg_real)x0, (cg_real)y0});
        race.cost[i] = race.p[i] ? surface(g, race.p[i], kind) : NULL;
        if (!race.cost[i]) return race.p[i] ? fail(CG_ERR_ARG, "pg_race_init: no such surface") : -1;
        race.opt[i] = cg_optimizer_from_name(names, lr);
        if (!race.opt[i]) return -1;
    }
    return CG_OK;
}

/* `steps` updates of every racer; then xy [2n] their positions and loss [n]
 * their costs (a racer whose step failed, e.g. diverged, stays put). */
PG_EXPORT int pg_race_step(int steps, float *xy, float *loss)
{
    own_error[0] = 0;
    for (int i = 0; i < race.n; i++) {
        cg_real l = 0;
        for (int s = 0; s < steps; s++)
            if (cg_minimize_step(race.opt[i], race.cost[i], &l) != CG_OK) break;
        if (cg_forward(race.cost[i]) == CG_OK) l = cg_node_scalar(race.cost[i]);
        const cg_real *v = cg_node_value(race.p[i]);
        xy[2 * i] = (float)v[0];
        xy[2 * i + 1] = (float)v[1];
        loss[i] = (float)l;
    }
    return CG_OK;
}
