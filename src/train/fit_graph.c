// SPDX-License-Identifier: MIT
/* fit_graph.c: cg_fit_graph, the training loop (fit.c) on any graph with
 * a scalar loss, fed from named arrays (cg_tensor_dataset); and its
 * evaluation and prediction. */
#include "train/train.h"
#include "node.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* --- Data sets of named arrays --- */

int cg_tensor_dataset_add(cg_tensor_dataset *ds, const char *name, const cg_real *data, int n,
                          int width)
{
    if (!ds || !name || !data) return cg_error(CG_ERR_ARG, "cg_tensor_dataset_add: NULL argument");
    if (n < 1 || width < 1)
        return cg_error(CG_ERR_ARG, "cg_tensor_dataset_add: array '%s' has %d rows of %d values; "
                                    "both must be positive", name, n, width);
    if (ds->count >= CG_MAX_ARRAYS)
        return cg_error(CG_ERR_ARG, "cg_tensor_dataset_add: array '%s': a data set holds at most "
                                    "%d arrays", name, CG_MAX_ARRAYS);
    for (int i = 0; i < ds->count; i++)
        if (strcmp(ds->arrays[i].name, name) == 0)
            return cg_error(CG_ERR_ARG, "cg_tensor_dataset_add: the data set already has an array "
                                        "named '%s'", name);
    if (ds->count && n != ds->n)
        return cg_error(CG_ERR_ARG, "cg_tensor_dataset_add: array '%s' has %d rows, the data "
                                    "set's arrays %d", name, n, ds->n);
    ds->n = n;
    ds->arrays[ds->count++] = (cg_named_array){name, data, width};
    return CG_OK;
}

int cg_tensor_dataset_rows(const cg_tensor_dataset *ds, int start, int len, cg_tensor_dataset *out)
{
    if (!ds || !out) return cg_error(CG_ERR_ARG, "cg_tensor_dataset_rows: NULL argument");
    if (start < 0 || len < 1 || start > ds->n - len)
        return cg_error(CG_ERR_ARG, "cg_tensor_dataset_rows: rows [%d, %d) are not inside the "
                                    "data set's %d", start, start + len, ds->n);
    cg_tensor_dataset v = *ds;
    v.n = len;
    for (int i = 0; i < v.count; i++)
        v.arrays[i].data += (size_t)start * (size_t)v.arrays[i].width;
    *out = v;
    return CG_OK;
}

/* --- Feeding --- */

/* A set's arrays resolved to their placeholders. */
typedef struct bound_set {
    const cg_tensor_dataset *ds;
    cg_node *nodes[CG_MAX_ARRAYS];
} bound_set;

typedef struct graph_ctx {
    bound_set sets[2]; /* training, validation */
} graph_ctx;

static int feed_set(const bound_set *b, const int *idx, int k)
{
    for (int a = 0; a < b->ds->count; a++) {
        const cg_named_array *arr = &b->ds->arrays[a];
        cg_real *dst = cg_feed_buffer(b->nodes[a], k);
        if (!dst) return cg_last_error_code();
        const size_t w = (size_t)arr->width;
        for (int i = 0; i < k; i++)
            memcpy(dst + (size_t)i * w, arr->data + (size_t)idx[i] * w, w * sizeof *dst);
    }
    return CG_OK;
}

static int feed(const cg_fit_task *t, const void *set, const int *idx, int k)
{
    const graph_ctx *c = t->ctx;
    return feed_set(&c->sets[set == c->sets[0].ds ? 0 : 1], idx, k);
}

/* --- Checks --- */

/* Mark every ancestor of n (n included): mark[id] = 1. */
static void mark_ancestors(cg_node *n, unsigned char *mark)
{
    cg_graph *g = n->g;
    mark[n->id] = 1;
    for (int i = n->id; i >= 0; i--) {
        cg_node *m = g->nodes[i];
        if (!mark[i]) continue;
        for (int j = 0; j < m->n_in; j++) mark[m->in[j]->id] = 1;
    }
}

/* Every array of ds names an open placeholder of g with its width; the
 * placeholders marked in `needed` all have one; the values are finite and
 * within the loop's limit. */
static int bind(const char *fn, const char *what, cg_graph *g, const cg_tensor_dataset *ds,
                const unsigned char *needed, bound_set *b)
{
    b->ds = ds;
    if (ds->count < 1 || ds->n < 1)
        return cg_error(CG_ERR_ARG, "%s: the %s set is empty", fn, what);
    for (int a = 0; a < ds->count; a++) {
        const cg_named_array *arr = &ds->arrays[a];
        cg_node *p = arr->name ? cg_graph_find(g, arr->name) : NULL;
        if (!p || p->kind != CG_KIND_PLACEHOLDER)
            return cg_error(CG_ERR_ARG, "%s: the %s set's array '%s' names no placeholder of the "
                                        "graph", fn, what, arr->name ? arr->name : "(null)");
        if (p->ndim < 1 || p->decl[0] != CG_BATCH)
            return cg_error(CG_ERR_SHAPE, "%s: placeholder '%s' needs an open batch dimension "
                                          "(CG_BATCH) first", fn, arr->name);
        long w = 1;
        for (int k = 1; k < p->ndim; k++) w *= p->decl[k];
        if (w != arr->width)
            return cg_error(CG_ERR_SHAPE, "%s: the %s set's array '%s' has %d values per row, "
                                          "the placeholder takes %ld", fn, what, arr->name,
                            arr->width, w);
        b->nodes[a] = p;
        const size_t count = (size_t)ds->n * (size_t)arr->width;
        for (size_t j = 0; j < count; j++) {
            if (fabs((double)arr->data[j]) <= CG_FIT_VALUE_LIMIT) continue; /* false for NaN */
            return cg_error(CG_ERR_NUMERIC,
                            "%s: the %s set's array '%s' has %g at row %zu, column %zu (0-based); "
                            "values must be finite and at most 2^64 in magnitude", fn, what,
                            arr->name, (double)arr->data[j], j / (size_t)arr->width,
                            j % (size_t)arr->width);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *p = g->nodes[i];
        if (!needed[i] || p->kind != CG_KIND_PLACEHOLDER) continue;
        int found = 0;
        for (int a = 0; a < ds->count && !found; a++) found = b->nodes[a] == p;
        if (!found)
            return cg_error(CG_ERR_ARG, "%s: the %s set has no array for placeholder '%s', "
                                        "which the loss or a metric reads", fn, what,
                            p->name ? p->name : "(unnamed)");
    }
    return CG_OK;
}

/* The spec as a task: loss, metrics, monitor, fixed variables. `needed`
 * [node count] gets the loss's ancestors (and the metrics' nodes). */
static int spec_task(const char *fn, const cg_fit_spec *spec, unsigned char *needed, cg_fit_task *t)
{
    cg_node *loss = spec->loss;
    cg_graph *g = loss->g;
    for (int k = 0; k < loss->ndim; k++)
        if (loss->shape[k] != 1)
            return cg_error(CG_ERR_ARG, "%s: the loss must be a scalar (a mean over the batch), "
                                        "not a tensor of %d dimensions", fn, loss->ndim);
    t->fn = fn;
    t->g = g;
    t->loss = loss;
    t->feed = feed;
    t->acc_metric = -1;
    t->monitor = -1;
    if (cg_metric_sums_init(&t->ms, spec->metrics, spec->n_metrics, fn)) return cg_last_error_code();
    mark_ancestors(loss, needed);
    for (int i = 0; i < t->ms.n; i++) {
        cg_node *nodes[2] = {t->ms.m[i].pred, t->ms.m[i].target};
        for (int j = 0; j < 2; j++) {
            cg_node *n = nodes[j];
            if (!n) continue;
            if (n->g != g)
                return cg_error(CG_ERR_ARG, "%s: metric '%s' reads a node of another graph", fn,
                                t->ms.names[i]);
            /* Metrics read the values the loss's forward pass left. */
            if (!needed[n->id] && n->kind != CG_KIND_PLACEHOLDER)
                return cg_error(CG_ERR_ARG, "%s: metric '%s' reads node %s, which the loss does "
                                            "not depend on", fn, t->ms.names[i],
                                n->name ? n->name : cg_node_op(n));
            needed[n->id] = 1;
        }
        if (t->ms.m[i].kind == CG_METRIC_ACCURACY && t->acc_metric < 0) t->acc_metric = i;
    }
    const char *mon = spec->monitor && strcmp(spec->monitor, "loss") != 0 ? spec->monitor : NULL;
    for (int i = 0; mon && i < t->ms.n; i++)
        if (strcmp(t->ms.names[i], mon) == 0) t->monitor = i;
    if (mon && t->monitor < 0) {
        char names[256] = "\"loss\"";
        for (int i = 0; i < t->ms.n; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), ", \"%s\"", t->ms.names[i]);
        return cg_error(CG_ERR_ARG, "%s: monitor \"%s\" names no metric (one of %s)", fn, mon,
                        names);
    }
    snprintf(t->monitor_name, sizeof t->monitor_name, "val_%s", mon ? mon : "loss");
    if (!(spec->baseline_loss >= 0) || !isfinite(spec->baseline_loss))
        return cg_error(CG_ERR_ARG, "%s: baseline_loss %g must be finite and not negative", fn,
                        spec->baseline_loss);
    t->baseline = spec->baseline_loss;
    return CG_OK;
}

/* The variables spec->params leaves out, as ranges of the parameter
 * buffer (t->frozen, allocated). */
static int freeze(const char *fn, const cg_fit_spec *spec, cg_fit_task *t)
{
    if (spec->n_params < 0 || (spec->n_params > 0 && !spec->params))
        return cg_error(CG_ERR_ARG, "%s: n_params %d without a params array", fn, spec->n_params);
    if (!spec->params) return CG_OK;
    cg_graph *g = t->g;
    for (int i = 0; i < spec->n_params; i++) {
        const cg_node *v = spec->params[i];
        if (!v || v->g != g || v->kind != CG_KIND_VARIABLE)
            return cg_error(CG_ERR_ARG, "%s: params[%d] is not a variable of the loss's graph", fn,
                            i);
    }
    if (cg_graph_param_count(g) == 0) return CG_OK;
    t->frozen = cg_malloc(2 * (size_t)g->n_nodes * sizeof *t->frozen);
    if (!t->frozen) return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *v = g->nodes[i];
        int trained = 0;
        for (int j = 0; j < spec->n_params && !trained; j++) trained = spec->params[j] == v;
        if (v->kind != CG_KIND_VARIABLE || trained || v->size == 0) continue;
        t->frozen[2 * t->n_frozen] = v->offset;
        t->frozen[2 * t->n_frozen + 1] = v->size;
        t->n_frozen++;
    }
    return CG_OK;
}

/* The task of spec on train and val (may be NULL), checked; free
 * t->frozen and needed after. */
static int graph_task(const char *fn, const char *what, const cg_fit_spec *spec,
                      const cg_tensor_dataset *train, const cg_tensor_dataset *val, graph_ctx *ctx,
                      cg_fit_task *t, unsigned char **needed)
{
    memset(t, 0, sizeof *t);
    memset(ctx, 0, sizeof *ctx);
    *needed = NULL;
    if (!spec || !spec->loss || !train) return cg_error(CG_ERR_ARG, "%s: NULL argument", fn);
    cg_graph *g = spec->loss->g;
    *needed = cg_calloc((size_t)g->n_nodes, 1);
    if (!*needed) return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    if (spec_task(fn, spec, *needed, t) || freeze(fn, spec, t)) return cg_last_error_code();
    t->ctx = ctx;
    if (bind(fn, what, g, train, *needed, &ctx->sets[0]))
        return cg_last_error_code();
    t->train = train;
    t->n_train = train->n;
    if (val) {
        if (val == train)
            return cg_error(CG_ERR_ARG, "%s: the validation set is the training set", fn);
        if (bind(fn, "validation", g, val, *needed, &ctx->sets[1])) return cg_last_error_code();
        t->val = val;
        t->n_val = val->n;
    }
    return CG_OK;
}

int cg_fit_graph(const cg_fit_spec *spec, cg_optimizer *o, const cg_tensor_dataset *train,
                 const cg_tensor_dataset *val, const cg_fit_options *opt, cg_fit_result *res)
{
    static const char fn[] = "cg_fit_graph";
    if (!o) return cg_error(CG_ERR_ARG, "%s: NULL optimizer", fn);
    cg_fit_options defaults;
    if (!opt) {
        cg_fit_options_init(&defaults);
        opt = &defaults;
    }
    if (cg_fit_check_options(opt, fn)) return cg_last_error_code();
    if (val && val->n == 0) val = NULL;
    graph_ctx ctx;
    cg_fit_task t;
    unsigned char *needed;
    int rc = graph_task(fn, "training", spec, train, val, &ctx, &t, &needed);
    if (!rc) rc = cg_fit_run(&t, o, opt, res);
    cg_free(needed);
    cg_free(t.frozen);
    return rc;
}

int cg_evaluate_graph(const cg_fit_spec *spec, const cg_tensor_dataset *ds, int batch,
                      double *loss, double *metrics)
{
    static const char fn[] = "cg_evaluate_graph";
    graph_ctx ctx;
    cg_fit_task t;
    unsigned char *needed;
    int rc = graph_task(fn, "evaluation", spec, ds, NULL, &ctx, &t, &needed);
    cg_free(needed);
    cg_free(t.frozen);
    if (rc) return rc;
    if (batch <= 0) batch = CG_EVAL_BATCH;
    if (batch > ds->n) batch = ds->n;
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    double *sums = cg_malloc((t.ms.off[t.ms.n] + 1) * sizeof *sums);
    if (!idx || !sums) rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    if (!rc) rc = cg_fit_evaluate(&t, ds, ds->n, batch, idx, NULL, loss, sums, NULL, NULL, 1);
    if (!rc && metrics) cg_metric_values(&t.ms, sums, metrics);
    cg_free(idx);
    cg_free(sums);
    return rc;
}

int cg_predict_graph(cg_node *out, const cg_tensor_dataset *ds, int batch, cg_real *dst)
{
    static const char fn[] = "cg_predict_graph";
    if (!out || !ds || !dst) return cg_error(CG_ERR_ARG, "%s: NULL argument", fn);
    cg_graph *g = out->g;
    unsigned char *needed = cg_calloc((size_t)g->n_nodes, 1);
    if (!needed) return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    mark_ancestors(out, needed);
    bound_set b;
    int rc = bind(fn, "prediction", g, ds, needed, &b);
    cg_free(needed);
    if (rc) return rc;
    long w = 1;
    for (int k = 1; k < out->ndim; k++) w *= out->shape[k];
    if (batch <= 0) batch = CG_EVAL_BATCH;
    if (batch > ds->n) batch = ds->n;
    int *idx = cg_malloc((size_t)batch * sizeof *idx);
    if (!idx) return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
    int was = cg_graph_training(g);
    cg_graph_set_training(g, 0);
    for (int start = 0; start < ds->n && !rc; start += batch) {
        const int k = ds->n - start < batch ? ds->n - start : batch;
        for (int i = 0; i < k; i++) idx[i] = start + i;
        rc = feed_set(&b, idx, k);
        cg_infer_threads_begin(g);
        if (!rc) rc = cg_forward(out);
        cg_infer_threads_end(g, k);
        if (!rc && (out->ndim < 1 || out->size != (size_t)k * (size_t)w))
            rc = cg_error(CG_ERR_SHAPE, "%s: a batch of %d rows gave %zu values; the output's "
                                        "first dimension must be the batch", fn, k, out->size);
        if (!rc)
            memcpy(dst + (size_t)start * (size_t)w, out->val, (size_t)k * (size_t)w * sizeof *dst);
    }
    cg_graph_set_training(g, was);
    cg_infer_threads_done(g);
    cg_free(idx);
    return rc;
}
