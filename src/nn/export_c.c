/* SPDX-License-Identifier: MIT */
/* export_c.c: cg_export_c, a model as standalone C99 inference code (and
 * cg_export_c_int8, its int8 form: export_c_int8.c quantises it). The
 * model's layer list and its graph's variables (read by name, as
 * checkpoint.c saves them) become an ex_net (export_c.h) in inference form:
 * dropout and flatten left out, batch norm folded into the dense or conv
 * layer before it, every value checked; export_c_emit.c then prints it. */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include "internal.h"
#include "nn/export_c.h"
#include "nn/model.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PREFIX 48

static int is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_PREFIX || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

static void free_net(ex_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        cg_free(net->layers[i].w);
        cg_free(net->layers[i].b);
        ex_quant_free(net->layers[i].q);
    }
    cg_free(net->layers);
    cg_free(net->mean);
    cg_free(net->inv_std);
    cg_free(net->fill);
    memset(net, 0, sizeof *net);
}

/* n doubles, zero, or NULL after recording the error. */
static double *new_values(size_t n)
{
    double *v = cg_calloc(n ? n : 1, sizeof *v);
    if (!v) cg_error(CG_ERR_MEMORY, "cg_export_c: out of memory");
    return v;
}

/* The graph's variable `name` of n values, as doubles (NULL and an error
 * when it is missing or of another size: a model cg_model_build made
 * always has it). */
static double *tensor(cg_model *m, const char *name, size_t n)
{
    cg_node *v = cg_graph_find(m->g, name);
    if (!v || cg_node_size(v) != n)
        return cg_error_null(CG_ERR_STATE, "cg_export_c: the model has no %zu-value tensor \"%s\"",
                             n, name);
    double *out = new_values(n);
    const cg_real *x = cg_node_value(v);
    for (size_t i = 0; out && i < n; i++) out[i] = (double)x[i];
    return out;
}

static ex_layer *push_layer(ex_net *net, int kind, int n_in, int n_out, const char *what)
{
    ex_layer *l = cg_realloc(net->layers, (size_t)(net->n_layers + 1) * sizeof *l);
    if (!l) return cg_error_null(CG_ERR_MEMORY, "cg_export_c: out of memory");
    net->layers = l;
    l += net->n_layers++;
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->n_in = n_in;
    l->n_out = n_out;
    snprintf(l->what, sizeof l->what, "%s", what);
    return l;
}

/* Dense layer `name`; without a bias (a batch norm follows) its bias is 0. */
static int add_dense(ex_net *net, cg_model *m, const char *name, int n_in, int units)
{
    char key[64];
    ex_layer *e = push_layer(net, EX_DENSE, n_in, units, name);
    if (!e) return CG_ERR_MEMORY;
    snprintf(key, sizeof key, "%s.weight", name);
    if (!(e->w = tensor(m, key, (size_t)n_in * (size_t)units))) return cg_last_error_code();
    snprintf(key, sizeof key, "%s.bias", name);
    e->b = cg_graph_find(m->g, key) ? tensor(m, key, (size_t)units) : new_values((size_t)units);
    return e->b ? CG_OK : cg_last_error_code();
}

/* Conv layer l on an image c x h x w; without a bias (a batch norm
 * follows) its bias is 0. "Same" padding puts the odd row after, as
 * cg_conv2d does. */
static int add_conv(ex_net *net, cg_model *m, const layer *l, int c, int h, int w)
{
    char key[64];
    ex_layer *e = push_layer(net, EX_CONV, c * h * w, l->width, l->name);
    if (!e) return CG_ERR_MEMORY;
    e->ic = c, e->ih = h, e->iw = w;
    e->oc = l->c, e->oh = l->h, e->ow = l->w;
    e->kernel = l->kernel;
    e->stride = l->stride;
    if (l->pad == CG_PAD_SAME) {
        int th = (l->h - 1) * l->stride + l->kernel - h, tw = (l->w - 1) * l->stride + l->kernel - w;
        e->pad_t = th > 0 ? th / 2 : 0;
        e->pad_l = tw > 0 ? tw / 2 : 0;
    } else {
        e->pad_t = e->pad_l = l->pad;
    }
    size_t n = (size_t)l->c * (size_t)c * (size_t)l->kernel * (size_t)l->kernel;
    snprintf(key, sizeof key, "%s.weight", l->name);
    if (!(e->w = tensor(m, key, n))) return cg_last_error_code();
    snprintf(key, sizeof key, "%s.bias", l->name);
    e->b = cg_graph_find(m->g, key) ? tensor(m, key, (size_t)l->c) : new_values((size_t)l->c);
    return e->b ? CG_OK : cg_last_error_code();
}

static int add_pool(ex_net *net, const layer *l, int c, int h, int w)
{
    int kind = l->kind == LAYER_MAX_POOL ? EX_MAX_POOL : l->kind == LAYER_AVG_POOL ? EX_AVG_POOL : EX_GAP;
    ex_layer *e = push_layer(net, kind, c * h * w, l->width, l->name);
    if (!e) return CG_ERR_MEMORY;
    e->ic = c, e->ih = h, e->iw = w;
    e->oc = l->c, e->oh = l->h, e->ow = l->w;
    e->kernel = l->kernel;
    e->stride = l->stride;
    return CG_OK;
}

/* Batch norm at inference is y = x * s + (beta - mean * s) with
 * s = gamma / sqrt(var + eps), per feature (or per channel of an image):
 * fold it into the dense or conv layer before it (W' = W s per output
 * column or filter, b' = (b - mean) s + beta), else keep it as a scale and
 * shift. Folding is done in double, so the only rounding is the final one
 * to float. */
static int add_batch_norm(ex_net *net, cg_model *m, const layer *l)
{
    /* The library normalises in cg_real; the float eps is what it adds. */
    double eps = sizeof(cg_real) == sizeof(float) ? (double)(float)l->eps : l->eps;
    int width = l->c, hw = l->h > 0 ? l->h * l->w : 1; /* channels (or features), values each */
    static const char *const parts[] = {"gamma", "beta", "running_mean", "running_var"};
    double *p[4] = {NULL, NULL, NULL, NULL};
    int rc = CG_OK;
    for (int k = 0; k < 4 && !rc; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s.%s", l->name, parts[k]);
        if (!(p[k] = tensor(m, key, (size_t)width))) rc = cg_last_error_code();
    }
    for (int j = 0; !rc && j < width; j++)
        if (!(p[3][j] >= 0))
            rc = cg_error(CG_ERR_NUMERIC, "tensor \"%s.running_var\" holds a negative variance at %d",
                          l->name, j);
    ex_layer *prev = net->n_layers ? &net->layers[net->n_layers - 1] : NULL;
    int fold = prev && (prev->kind == EX_DENSE || prev->kind == EX_CONV ||
                        (prev->kind == EX_SCALE && prev->hw == hw && prev->n_out == width * hw));
    if (!rc && !fold) {
        prev = push_layer(net, EX_SCALE, width * hw, width * hw, l->name);
        if (!prev || !(prev->w = new_values((size_t)width)) || !(prev->b = new_values((size_t)width)))
            rc = cg_last_error_code();
        else {
            prev->hw = hw;
            for (int j = 0; j < width; j++) prev->w[j] = 1;
        }
    }
    if (!rc) {
        /* dense: w [n_in, width], output j a column; conv: w [width, per]
         * with filter j a row; a scale: one row. */
        size_t rows = prev->kind == EX_DENSE ? (size_t)prev->n_in : 1;
        size_t per = prev->kind == EX_CONV ? (size_t)prev->ic * (size_t)prev->kernel * (size_t)prev->kernel : 1;
        for (int j = 0; j < width; j++) {
            double s = p[0][j] / sqrt(p[3][j] + eps);
            if (prev->kind == EX_CONV)
                for (size_t i = 0; i < per; i++) prev->w[(size_t)j * per + i] *= s;
            else
                for (size_t i = 0; i < rows; i++) prev->w[i * (size_t)width + (size_t)j] *= s;
            prev->b[j] = (prev->b[j] - p[2][j]) * s + p[1][j];
        }
        if (fold) {
            size_t len = strlen(prev->what);
            snprintf(prev->what + len, sizeof prev->what - len, " (%s folded in)", l->name);
        }
    }
    for (int k = 0; k < 4; k++) cg_free(p[k]);
    return rc;
}

/* The model's layers, then its output layer (which the layer list leaves
 * implicit: dense<n_dense + 1>, with a bias, n_classes units). */
static int add_layers(ex_net *net, cg_model *m)
{
    int width = m->n_inputs, rc = CG_OK;
    int c = m->in_h > 0 ? m->in_c : m->n_inputs, h = m->in_h, w = m->in_w; /* the shape seen */
    for (int i = 0; i < m->n_layers && !rc; i++) {
        const layer *l = &m->layers[i];
        if (l->kind == LAYER_DENSE) {
            rc = add_dense(net, m, l->name, width, l->units);
        } else if (l->kind == LAYER_BATCH_NORM) {
            rc = add_batch_norm(net, m, l);
        } else if (l->kind == LAYER_CONV) {
            rc = add_conv(net, m, l, c, h, w);
        } else if (l->kind == LAYER_MAX_POOL || l->kind == LAYER_AVG_POOL || l->kind == LAYER_GAP) {
            rc = add_pool(net, l, c, h, w);
        } else if (l->kind == LAYER_ACTIVATION && l->activation != CG_LINEAR) {
            ex_layer *e = push_layer(net, EX_ACTIVATION, width, width, l->name);
            if (e) e->activation = l->activation;
            else rc = cg_last_error_code();
        } /* dropout, flatten: the identity at inference */
        width = l->width;
        c = l->c, h = l->h, w = l->w;
    }
    char out[32];
    snprintf(out, sizeof out, "dense%d", m->n_dense + 1);
    return rc ? rc : add_dense(net, m, out, width, m->n_classes);
}

/* The input normalisation; a missing mean or inv_std is 0 or 1. */
static int add_normalizer(ex_net *net, const cg_normalizer *nz)
{
    net->scale = nz ? nz->scale : 1;
    size_t d = (size_t)net->n_inputs;
    if (nz && nz->fill) { /* CSV models: missing values as in training */
        if (!(net->fill = new_values(d))) return CG_ERR_MEMORY;
        for (size_t j = 0; j < d; j++) net->fill[j] = nz->fill[j];
    }
    if (!nz || (!nz->mean && !nz->inv_std)) return CG_OK;
    if (!(net->mean = new_values(d)) || !(net->inv_std = new_values(d))) return CG_ERR_MEMORY;
    for (size_t j = 0; j < d; j++) {
        net->mean[j] = nz->mean ? (double)nz->mean[j] : 0;
        net->inv_std[j] = nz->inv_std ? (double)nz->inv_std[j] : 1;
    }
    return CG_OK;
}

/* Every value the code will hold must be a float: a NaN or one out of
 * float's range (after folding) would not compile or would predict
 * nonsense. */
static int check_values(const char *what, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(v[i]) <= FLT_MAX))
            return cg_error(CG_ERR_NUMERIC, "%s holds %g at %zu, which is not a finite float", what,
                            v[i], i);
    return CG_OK;
}

static int check_net(const ex_net *net)
{
    int rc = check_values("the input normalisation's scale", &net->scale, 1);
    if (!rc && net->mean) rc = check_values("tensor \"input.mean\"", net->mean, (size_t)net->n_inputs);
    if (!rc && net->mean)
        rc = check_values("tensor \"input.inv_std\"", net->inv_std, (size_t)net->n_inputs);
    if (!rc && net->fill) rc = check_values("tensor \"input.fill\"", net->fill, (size_t)net->n_inputs);
    for (int i = 0; i < net->n_layers && !rc; i++) {
        const ex_layer *l = &net->layers[i];
        if (!l->w) continue; /* no weights */
        char what[200];
        snprintf(what, sizeof what, "layer %s", l->what);
        size_t nw, nb;
        if (l->kind == EX_DENSE) nw = (size_t)l->n_in * (size_t)l->n_out, nb = (size_t)l->n_out;
        else if (l->kind == EX_CONV)
            nb = (size_t)l->oc, nw = nb * (size_t)l->ic * (size_t)l->kernel * (size_t)l->kernel;
        else nw = nb = (size_t)l->n_out / (size_t)l->hw;
        rc = check_values(what, l->w, nw);
        if (!rc) rc = check_values(what, l->b, nb);
    }
    return rc;
}

/* cg_export_c, or cg_export_c_int8 when ds is not NULL. */
static int export_c(cg_model *m, const cg_normalizer *nz, const char *dir, const char *prefix,
                    const char *source, const cg_dataset *ds, int calibrate)
{
    if (!prefix) prefix = "model";
    if (!m || !dir || !*dir) return cg_error(CG_ERR_ARG, "cg_export_c: NULL model or directory");
    if (!is_identifier(prefix))
        return cg_error(CG_ERR_ARG, "cg_export_c: prefix '%s' is not a C identifier of at most %d "
                        "characters", prefix, MAX_PREFIX);
    if (nz && nz->d != m->n_inputs)
        return cg_error(CG_ERR_ARG, "cg_export_c: the normaliser is for %d features, the model "
                        "has %d inputs", nz->d, m->n_inputs);
    if (cg_model_build(m)) return cg_last_error_code();
    ex_net net;
    memset(&net, 0, sizeof net);
    net.source = source;
    net.n_inputs = m->n_inputs;
    net.n_classes = m->n_classes;
    net.class_names = (const char *const *)m->class_names;
    int rc = add_normalizer(&net, nz);
    if (!rc) rc = add_layers(&net, m);
    net.task = m->task;
    if (!rc && m->task == CG_TASK_REGRESSION) {
        /* y = (h W + b) std + mean: the columns of W and b scaled, mean added */
        ex_layer *l = &net.layers[net.n_layers - 1];
        for (int j = 0; j < l->n_out; j++) {
            for (int i = 0; i < l->n_in; i++) l->w[(size_t)i * l->n_out + j] *= m->t_std[j];
            l->b[j] = l->b[j] * m->t_std[j] + m->t_mean[j];
        }
        snprintf(l->what + strlen(l->what), sizeof l->what - strlen(l->what), ", targets' std and mean folded in");
    }
    if (!rc) rc = check_net(&net);
    if (!rc && ds) rc = ex_quantize(&net, ds, calibrate);
    if (!rc) rc = cg_make_dirs(dir);
    if (!rc) rc = ex_emit(&net, dir, prefix);
    free_net(&net);
    return rc;
}

int cg_export_c(cg_model *m, const cg_normalizer *nz, const char *dir, const char *prefix,
                const char *source)
{
    return export_c(m, nz, dir, prefix, source, NULL, 0);
}

int cg_export_c_int8(cg_model *m, const cg_normalizer *nz, const char *dir, const char *prefix,
                     const char *source, const cg_dataset *calibration, int calibrate)
{
    if (!calibration) return cg_error(CG_ERR_ARG, "cg_export_c_int8: int8 needs calibration examples");
    if (m && cg_model_task(m, NULL))
        return cg_error(CG_ERR_ARG, "int8 C export covers classifiers; export a regression or "
                                    "multi-label model without --int8");
    return export_c(m, nz, dir, prefix, source, calibration, calibrate);
}
