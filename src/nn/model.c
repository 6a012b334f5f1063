/* SPDX-License-Identifier: MIT */
/* model.c: a sequential classifier built on the graph API. Layers are kept
 * as a list and turned into a graph on first use. */
#include "internal.h"
#include "nn/model.h"

#include <stdio.h>
#include <string.h>

cg_model *cg_model_new(int n_inputs, int n_classes, uint64_t seed)
{
    if (n_inputs < 1)
        return cg_error_null(CG_ERR_ARG, "cg_model_new: n_inputs %d must be positive", n_inputs);
    if (n_classes < 2)
        return cg_error_null(CG_ERR_ARG, "cg_model_new: n_classes %d must be at least 2", n_classes);
    cg_model *m = cg_calloc(1, sizeof *m);
    if (!m) return cg_error_null(CG_ERR_MEMORY, "cg_model_new: out of memory");
    m->n_inputs = n_inputs;
    m->n_classes = n_classes;
    m->seed = seed;
    return m;
}

void cg_model_free(cg_model *m)
{
    if (!m) return;
    cg_graph_free(m->g);
    cg_free(m->layers);
    cg_model_set_class_names(m, NULL, 0);
    cg_free(m->t_mean);
    cg_free(m->t_std);
    cg_free(m);
}

int cg_model_set_class_names(cg_model *m, const char *const *names, int n)
{
    if (!m) return cg_error(CG_ERR_ARG, "cg_model_set_class_names: model is NULL");
    if (names && n != m->n_classes)
        return cg_error(CG_ERR_ARG, "cg_model_set_class_names: %d names for %d classes", n,
                        m->n_classes);
    char **copy = NULL;
    if (names) {
        copy = cg_calloc((size_t)n, sizeof *copy);
        if (!copy) return cg_error(CG_ERR_MEMORY, "cg_model_set_class_names: out of memory");
        for (int i = 0; i < n; i++) {
            copy[i] = cg_strdup(names[i] ? names[i] : "");
            if (!copy[i]) {
                for (int j = 0; j < i; j++) cg_free(copy[j]);
                cg_free(copy);
                return cg_error(CG_ERR_MEMORY, "cg_model_set_class_names: out of memory");
            }
        }
    }
    if (m->class_names)
        for (int i = 0; i < m->n_classes; i++) cg_free(m->class_names[i]);
    cg_free(m->class_names);
    m->class_names = copy;
    return CG_OK;
}

const char *cg_model_class_name(const cg_model *m, int c)
{
    if (!m || !m->class_names || c < 0 || c >= m->n_classes) return NULL;
    return m->class_names[c];
}

static int current_width(const cg_model *m)
{
    return m->n_layers ? m->layers[m->n_layers - 1].width : m->n_inputs;
}

/* The shape the next layer sees: C x H x W (h = w = 0 when flat). */
static void current_shape(const cg_model *m, int *c, int *h, int *w)
{
    if (m->n_layers) {
        const layer *l = &m->layers[m->n_layers - 1];
        *c = l->c, *h = l->h, *w = l->w;
    } else if (m->in_h > 0) {
        *c = m->in_c, *h = m->in_h, *w = m->in_w;
    } else {
        *c = m->n_inputs, *h = *w = 0;
    }
}

static layer *push_layer(cg_model *m, const char *fn)
{
    if (!m) return cg_error_null(CG_ERR_ARG, "%s: model is NULL", fn);
    if (m->g) return cg_error_null(CG_ERR_STATE, "%s: the model is already built", fn);
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? 2 * m->cap_layers : 8;
        layer *l = cg_realloc(m->layers, (size_t)cap * sizeof *l);
        if (!l) return cg_error_null(CG_ERR_MEMORY, "%s: out of memory", fn);
        m->layers = l;
        m->cap_layers = cap;
    }
    layer *l = &m->layers[m->n_layers];
    memset(l, 0, sizeof *l);
    current_shape(m, &l->c, &l->h, &l->w);
    l->width = current_width(m);
    return l;
}

const char *const cg_layer_spec_types[LAYER_KINDS] = {
    "dense", "activation", "batch_norm", "dropout", "conv2d",
    "max_pool2d", "avg_pool2d", "global_avg_pool2d", "flatten"};

int cg_layer_has_bias(const cg_model *m, int i)
{
    return !(i + 1 < m->n_layers && m->layers[i + 1].kind == LAYER_BATCH_NORM);
}

double cg_layer_param_count(const layer *l, int in_c, int bias)
{
    switch (l->kind) {
    case LAYER_DENSE: return (double)in_c * l->units + (bias ? l->units : 0);
    case LAYER_CONV:
        return (double)in_c * l->kernel * l->kernel * l->units + (bias ? l->units : 0);
    case LAYER_BATCH_NORM: return 4.0 * l->c; /* gamma, beta, running mean and variance */
    default: return 0;
    }
}

int cg_model_set_input_shape(cg_model *m, int channels, int height, int width)
{
    if (!m) return cg_error(CG_ERR_ARG, "cg_model_set_input_shape: model is NULL");
    if (m->n_layers || m->g)
        return cg_error(CG_ERR_STATE, "cg_model_set_input_shape: layers were already added");
    if (channels < 1 || height < 1 || width < 1 ||
        (double)channels * height * width != (double)m->n_inputs)
        return cg_error(CG_ERR_ARG, "cg_model_set_input_shape: %d x %d x %d is not the model's %d "
                        "inputs", channels, height, width, m->n_inputs);
    m->in_c = channels, m->in_h = height, m->in_w = width;
    return CG_OK;
}

int cg_model_input_shape(const cg_model *m, int shape[3])
{
    if (!m || m->in_h <= 0) return 0;
    if (shape) shape[0] = m->in_c, shape[1] = m->in_h, shape[2] = m->in_w;
    return 1;
}

static int add_flatten(cg_model *m, const char *fn)
{
    layer *l = push_layer(m, fn);
    if (!l) return cg_last_error_code();
    l->kind = LAYER_FLATTEN;
    l->c = l->width;
    l->h = l->w = 0;
    snprintf(l->name, sizeof l->name, "flatten%d", ++m->n_flat);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_flatten(cg_model *m)
{
    if (m && !m->g) {
        int c, h, w;
        current_shape(m, &c, &h, &w);
        if (h == 0) return cg_error(CG_ERR_ARG, "cg_model_add_flatten: the input is already flat");
    }
    return add_flatten(m, "cg_model_add_flatten");
}

/* Conv and pools take an image: C x H x W from the input shape or the
 * layer before. */
static int need_image(const cg_model *m, const char *fn)
{
    if (!m) return cg_error(CG_ERR_ARG, "%s: model is NULL", fn);
    int c, h, w;
    current_shape(m, &c, &h, &w);
    if (h == 0)
        return cg_error(CG_ERR_SHAPE, "%s: needs an image (C x H x W) input; %s", fn,
                        m->n_layers ? "the layer before is flat"
                                    : "the model's input is flat (cg_model_set_input_shape)");
    return CG_OK;
}

/* Output size of a window of `kernel` moved by `stride` over n positions
 * padded by pad each side (CG_PAD_SAME: ceil(n / stride)); < 1: no window fits. */
static int window_out(int n, int kernel, int stride, int pad)
{
    if (pad == CG_PAD_SAME) return (n + stride - 1) / stride;
    return n + 2 * pad < kernel ? 0 : (n + 2 * pad - kernel) / stride + 1;
}

int cg_model_add_conv2d(cg_model *m, int filters, int kernel, int stride, int padding)
{
    static const char fn[] = "cg_model_add_conv2d";
    if (need_image(m, fn)) return cg_last_error_code();
    if (filters < 1 || kernel < 1 || stride < 1 || (padding < 0 && padding != CG_PAD_SAME))
        return cg_error(CG_ERR_ARG, "%s: filters %d, kernel %d, stride %d must be positive and "
                        "padding %d >= 0 or CG_PAD_SAME", fn, filters, kernel, stride, padding);
    layer *l = push_layer(m, fn);
    if (!l) return cg_last_error_code();
    int oh = window_out(l->h, kernel, stride, padding), ow = window_out(l->w, kernel, stride, padding);
    if (oh < 1 || ow < 1)
        return cg_error(CG_ERR_SHAPE, "%s: a %dx%d kernel with padding %d does not fit a %dx%d input",
                        fn, kernel, kernel, padding, l->h, l->w);
    l->kind = LAYER_CONV;
    l->units = filters;
    l->kernel = kernel;
    l->stride = stride;
    l->pad = padding;
    l->c = filters, l->h = oh, l->w = ow;
    l->width = filters * oh * ow;
    snprintf(l->name, sizeof l->name, "conv%d", ++m->n_conv);
    m->n_layers++;
    return CG_OK;
}

static int add_pool(cg_model *m, int kind, int kernel, int stride, const char *fn)
{
    if (need_image(m, fn)) return cg_last_error_code();
    if (kernel < 1 || stride < 1)
        return cg_error(CG_ERR_ARG, "%s: kernel %d and stride %d must be positive", fn, kernel, stride);
    layer *l = push_layer(m, fn);
    if (!l) return cg_last_error_code();
    int oh = window_out(l->h, kernel, stride, 0), ow = window_out(l->w, kernel, stride, 0);
    if (oh < 1 || ow < 1)
        return cg_error(CG_ERR_SHAPE, "%s: a %dx%d window does not fit a %dx%d input", fn, kernel,
                        kernel, l->h, l->w);
    l->kind = kind;
    l->kernel = kernel;
    l->stride = stride;
    l->h = oh, l->w = ow;
    l->width = l->c * oh * ow;
    snprintf(l->name, sizeof l->name, "%s%d", kind == LAYER_MAX_POOL ? "maxpool" : "avgpool",
             ++m->n_pool);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_max_pool2d(cg_model *m, int kernel, int stride)
{
    return add_pool(m, LAYER_MAX_POOL, kernel, stride, "cg_model_add_max_pool2d");
}

int cg_model_add_avg_pool2d(cg_model *m, int kernel, int stride)
{
    return add_pool(m, LAYER_AVG_POOL, kernel, stride, "cg_model_add_avg_pool2d");
}

int cg_model_add_global_avg_pool2d(cg_model *m)
{
    static const char fn[] = "cg_model_add_global_avg_pool2d";
    if (need_image(m, fn)) return cg_last_error_code();
    layer *l = push_layer(m, fn);
    if (!l) return cg_last_error_code();
    l->kind = LAYER_GAP;
    l->h = l->w = 0;
    l->width = l->c;
    snprintf(l->name, sizeof l->name, "gap%d", ++m->n_gap);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_dense(cg_model *m, int units)
{
    if (m && units < 1)
        return cg_error(CG_ERR_ARG, "cg_model_add_dense: units %d must be positive", units);
    /* A dense layer on an image sees it flattened: said in the layer list,
     * so that the spec and the summary show it. */
    if (m && !m->g) {
        int c, h, w;
        current_shape(m, &c, &h, &w);
        if (h > 0 && add_flatten(m, "cg_model_add_dense")) return cg_last_error_code();
    }
    layer *l = push_layer(m, "cg_model_add_dense");
    if (!l) return cg_last_error_code();
    l->kind = LAYER_DENSE;
    l->units = units;
    l->c = l->width = units;
    l->h = l->w = 0;
    snprintf(l->name, sizeof l->name, "dense%d", ++m->n_dense);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_activation(cg_model *m, int activation)
{
    if (m && (activation < CG_LINEAR || activation > CG_SIGMOID))
        return cg_error(CG_ERR_ARG, "cg_model_add_activation: unknown activation %d", activation);
    layer *l = push_layer(m, "cg_model_add_activation");
    if (!l) return cg_last_error_code();
    l->kind = LAYER_ACTIVATION;
    l->activation = activation;
    snprintf(l->name, sizeof l->name, "%s%d", cg_activation_name(activation), ++m->n_act);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_batch_norm(cg_model *m, double momentum, double eps)
{
    if (m && !(momentum >= 0 && momentum <= 1))
        return cg_error(CG_ERR_ARG, "cg_model_add_batch_norm: momentum %g must be in [0, 1]", momentum);
    if (m && !(eps > 0))
        return cg_error(CG_ERR_ARG, "cg_model_add_batch_norm: eps %g must be positive", eps);
    layer *l = push_layer(m, "cg_model_add_batch_norm");
    if (!l) return cg_last_error_code();
    l->kind = LAYER_BATCH_NORM;
    l->rate = momentum;
    l->eps = eps;
    snprintf(l->name, sizeof l->name, "bn%d", ++m->n_bn);
    m->n_layers++;
    return CG_OK;
}

int cg_model_add_dropout(cg_model *m, double p)
{
    if (m && !(p >= 0 && p < 1))
        return cg_error(CG_ERR_ARG, "cg_model_add_dropout: rate %g must be in [0, 1)", p);
    layer *l = push_layer(m, "cg_model_add_dropout");
    if (!l) return cg_last_error_code();
    l->kind = LAYER_DROPOUT;
    l->rate = p;
    snprintf(l->name, sizeof l->name, "dropout%d", ++m->n_drop);
    m->n_layers++;
    return CG_OK;
}

/* The activation that follows layer i (past a batch norm): it chooses the
 * dense layer's initialiser. */
static int next_activation(const cg_model *m, int i)
{
    int j = i + 1;
    if (j < m->n_layers && m->layers[j].kind == LAYER_BATCH_NORM) j++;
    if (j < m->n_layers && m->layers[j].kind == LAYER_ACTIVATION) return m->layers[j].activation;
    return CG_LINEAR;
}

static cg_node *batch_norm_layer(cg_graph *g, cg_node *h, const layer *l)
{
    int n = l->c;
    cg_real *ones = cg_malloc((size_t)n * sizeof *ones);
    if (!ones) return cg_error_null(CG_ERR_MEMORY, "batch norm: out of memory");
    for (int j = 0; j < n; j++) ones[j] = 1;
    char name[64];
    snprintf(name, sizeof name, "%s.gamma", l->name);
    cg_node *gamma = cg_variable(g, name, 1, (int[]){n}, ones);
    snprintf(name, sizeof name, "%s.beta", l->name);
    cg_node *beta = gamma ? cg_variable(g, name, 1, (int[]){n}, NULL) : NULL;
    snprintf(name, sizeof name, "%s.running_mean", l->name);
    cg_node *rm = beta ? cg_state(g, name, 1, (int[]){n}, NULL) : NULL;
    snprintf(name, sizeof name, "%s.running_var", l->name);
    cg_node *rv = rm ? cg_state(g, name, 1, (int[]){n}, ones) : NULL;
    cg_free(ones);
    if (!rv) return NULL;
    return (l->h > 0 ? cg_batch_norm2d : cg_batch_norm)(h, gamma, beta, rm, rv, (cg_real)l->rate,
                                                       (cg_real)l->eps);
}

/* Weight [K, C, k, k] initialised for the activation that follows (He
 * normal for ReLU, else Xavier uniform, fan_in C k k), bias [K] zeros. */
static cg_node *conv_layer(cg_graph *g, cg_node *h, const layer *l, int in_c, int activation,
                           int bias)
{
    int k = l->kernel, fan_in = in_c * k * k;
    cg_real *w0 = cg_malloc((size_t)fan_in * (size_t)l->units * sizeof *w0);
    if (!w0) return cg_error_null(CG_ERR_MEMORY, "conv: out of memory");
    if (activation == CG_RELU) cg_init_he_normal(cg_graph_rng(g), w0, fan_in, l->units);
    else cg_init_xavier_uniform(cg_graph_rng(g), w0, fan_in, l->units);
    char name[64];
    snprintf(name, sizeof name, "%s.weight", l->name);
    cg_node *w = cg_variable(g, name, 4, (int[]){l->units, in_c, k, k}, w0);
    cg_free(w0);
    snprintf(name, sizeof name, "%s.bias", l->name);
    cg_node *b = w && bias ? cg_variable(g, name, 1, (int[]){l->units}, NULL) : NULL;
    if (!w || (bias && !b)) return NULL;
    return cg_conv2d(h, w, b, l->stride, l->stride, l->pad, l->pad, 1, 1, 1);
}

int cg_model_finish_layers(cg_model *m)
{
    int c, h, w;
    current_shape(m, &c, &h, &w);
    return h > 0 && !m->g ? add_flatten(m, "cg_model_build") : CG_OK;
}

static int fail_build(cg_model *m, const char *what)
{
    int code = cg_last_error_code();
    char msg[512];
    snprintf(msg, sizeof msg, "%s", cg_last_error());
    cg_graph_free(m->g);
    m->g = NULL;
    m->x = m->y = m->logits = m->loss = m->probs = m->pred = NULL;
    return cg_error(code ? code : CG_ERR_STATE, "cg_model_build: %s: %s", what, msg);
}

int cg_model_build(cg_model *m)
{
    if (!m) return cg_error(CG_ERR_ARG, "cg_model_build: model is NULL");
    if (m->g) return CG_OK;
    /* The output layer is dense: an image before it is flattened. */
    if (cg_model_finish_layers(m)) return cg_last_error_code();
    cg_graph *g = m->g = cg_graph_new();
    if (!g) return fail_build(m, "graph");
    cg_rng_seed(cg_graph_rng(g), m->seed);
    m->x = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, m->n_inputs});
    m->y = m->task == CG_TASK_CLASSIFICATION ? cg_placeholder(g, "y", 1, (int[]){CG_BATCH})
                                             : cg_placeholder(g, "y", 2, (int[]){CG_BATCH, m->n_classes});
    if (!m->x || !m->y) return fail_build(m, "placeholders");
    cg_node *h = m->x;
    if (m->in_h > 0) { /* rows arrive flat; the layers see them as images */
        h = cg_reshape(h, 4, (int[]){-1, m->in_c, m->in_h, m->in_w});
        if (!h) return fail_build(m, "input shape");
    }
    int in_c = m->in_h > 0 ? m->in_c : m->n_inputs;
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        size_t before = cg_graph_param_count(g) + cg_graph_state_count(g);
        if (l->kind == LAYER_CONV) {
            h = conv_layer(g, h, l, in_c, next_activation(m, i), cg_layer_has_bias(m, i));
        } else if (l->kind == LAYER_MAX_POOL) {
            h = cg_max_pool2d(h, l->kernel, l->kernel, l->stride, l->stride, 0, 0);
        } else if (l->kind == LAYER_AVG_POOL) {
            h = cg_avg_pool2d(h, l->kernel, l->kernel, l->stride, l->stride, 0, 0);
        } else if (l->kind == LAYER_GAP) {
            h = cg_global_avg_pool2d(h);
        } else if (l->kind == LAYER_FLATTEN) {
            h = cg_flatten(h);
        } else if (l->kind == LAYER_DENSE) {
            int bn_next = i + 1 < m->n_layers && m->layers[i + 1].kind == LAYER_BATCH_NORM;
            h = (bn_next ? cg_dense_no_bias : cg_dense)(g, h, l->units, next_activation(m, i), l->name);
        } else if (l->kind == LAYER_BATCH_NORM) {
            h = batch_norm_layer(g, h, l);
        } else if (l->kind == LAYER_DROPOUT) {
            h = cg_dropout(h, (cg_real)l->rate);
        } else {
            switch (l->activation) {
            case CG_RELU: h = cg_relu(h); break;
            case CG_TANH: h = cg_tanh(h); break;
            case CG_SIGMOID: h = cg_sigmoid(h); break;
            default: break;
            }
        }
        if (!h) return fail_build(m, l->name);
        l->params = cg_graph_param_count(g) + cg_graph_state_count(g) - before;
        in_c = l->c;
    }
    char out[32];
    snprintf(out, sizeof out, "dense%d", m->n_dense + 1);
    m->logits = cg_dense(g, h, m->n_classes, CG_LINEAR, out);
    if (!m->logits || cg_node_set_name(m->logits, "logits")) return fail_build(m, "output layer");
    if (cg_model_build_head(m)) return fail_build(m, "loss and outputs");
    return CG_OK;
}

cg_graph *cg_model_graph(cg_model *m) { return cg_model_build(m) ? NULL : m->g; }
cg_node *cg_model_input(cg_model *m) { return cg_model_build(m) ? NULL : m->x; }
cg_node *cg_model_labels(cg_model *m) { return cg_model_build(m) ? NULL : m->y; }
cg_node *cg_model_logits(cg_model *m) { return cg_model_build(m) ? NULL : m->logits; }
cg_node *cg_model_loss(cg_model *m) { return cg_model_build(m) ? NULL : m->loss; }
cg_node *cg_model_probs(cg_model *m) { return cg_model_build(m) ? NULL : m->probs; }
cg_node *cg_model_pred(cg_model *m) { return cg_model_build(m) ? NULL : m->pred; }
int cg_model_n_inputs(const cg_model *m) { return m ? m->n_inputs : 0; }
int cg_model_n_classes(const cg_model *m) { return m ? m->n_classes : 0; }

double cg_model_multiply_adds(const cg_model *m)
{
    if (!m) return 0;
    /* Dense and conv layers only: the rest (activations, pools, batch
     * norm) are a few operations per value, negligible beside them. */
    double total = 0;
    int in_c = m->in_h > 0 ? m->in_c : m->n_inputs;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        if (l->kind == LAYER_DENSE) total += (double)(i ? m->layers[i - 1].width : m->n_inputs) * l->units;
        else if (l->kind == LAYER_CONV)
            total += (double)l->h * l->w * l->units * l->kernel * l->kernel * in_c;
        in_c = l->c;
    }
    return total + (double)current_width(m) * m->n_classes;
}

static void summary_row(FILE *f, const char *name, const char *type, int c, int h, int w,
                        size_t params)
{
    char shape[64], label[96];
    snprintf(label, sizeof label, "%s (%s)", name, type);
    if (h > 0) snprintf(shape, sizeof shape, "(None, %d, %d, %d)", c, h, w);
    else snprintf(shape, sizeof shape, "(None, %d)", c);
    fprintf(f, "%-30s %-22s %12zu\n", label, shape, params);
}

int cg_model_summary(cg_model *m, void *file)
{
    FILE *f = file ? (FILE *)file : stdout;
    if (cg_model_build(m)) return cg_last_error_code();
    static const char rule[] = "=================================================================";
    static const char thin[] = "-----------------------------------------------------------------";
    fprintf(f, "Model: sequential\n%s\n%-30s %-22s %12s\n%s\n", rule, "Layer (type)",
            "Output shape (NCHW)", "Params", rule);
    if (m->in_h > 0) summary_row(f, "x", "Input", m->in_c, m->in_h, m->in_w, 0);
    else summary_row(f, "x", "Input", m->n_inputs, 0, 0, 0);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        static const char *const types[LAYER_KINDS] = {
            "Dense", "Activation", "BatchNorm", "Dropout", "Conv2D", "MaxPool2D", "AvgPool2D",
            "GlobalAvgPool2D", "Flatten"};
        const char *type = types[l->kind];
        char t[48];
        if (l->kind == LAYER_ACTIVATION) {
            snprintf(t, sizeof t, "%s %s", type, cg_activation_name(l->activation));
            type = t;
        } else if (l->kind == LAYER_CONV) {
            if (l->pad == CG_PAD_SAME) snprintf(t, sizeof t, "%s %dx%d/%d same", type, l->kernel, l->kernel, l->stride);
            else snprintf(t, sizeof t, "%s %dx%d/%d pad %d", type, l->kernel, l->kernel, l->stride, l->pad);
            type = t;
        } else if (l->kind == LAYER_MAX_POOL || l->kind == LAYER_AVG_POOL) {
            snprintf(t, sizeof t, "%s %dx%d/%d", type, l->kernel, l->kernel, l->stride);
            type = t;
        }
        summary_row(f, l->name, type, l->c, l->h, l->w, l->params);
    }
    size_t total = cg_graph_param_count(m->g);
    size_t out_params = (size_t)current_width(m) * (size_t)m->n_classes + (size_t)m->n_classes;
    char out[32];
    snprintf(out, sizeof out, "dense%d", m->n_dense + 1);
    summary_row(f, out, m->task == CG_TASK_REGRESSION ? "Dense, linear" : "Dense, logits", m->n_classes, 0, 0, out_params);
    fprintf(f, "%s\nTotal params: %zu\nTrainable params: %zu\nNon-trainable params: %zu\n%s\n",
            rule, total + cg_graph_state_count(m->g), total, cg_graph_state_count(m->g), thin);
    return ferror(f) ? cg_error(CG_ERR_IO, "cg_model_summary: write failed") : CG_OK;
}
