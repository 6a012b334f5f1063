/* SPDX-License-Identifier: MIT */
/* model_config.c: the model's part of a run configuration: an
 * architecture or hidden layers, activation, batch norm, dropout; its
 * checks, its JSON, and the model it describes. */
#include "nn/model_config.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void cg_model_config_init(cg_model_config *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->n_hidden = 2;
    mc->hidden[0] = mc->hidden[1] = 256;
    mc->activation = -1;
}

/* A layer set from C (not parsed): its fields in range. */
static int check_layer(const cg_layer_config *l, int i)
{
    int ok;
    switch (l->kind) {
    case CG_LAYER_DENSE: ok = l->size >= 1 && l->size <= 1000000; break;
    case CG_LAYER_CONV:
        ok = l->size >= 1 && l->size <= (1 << 20) && l->kernel >= 1 && l->kernel <= 4096 &&
             l->stride >= 1 && l->stride <= 4096 &&
             (l->padding == CG_PAD_SAME || (l->padding >= 0 && l->padding <= 4096));
        break;
    case CG_LAYER_MAX_POOL:
    case CG_LAYER_AVG_POOL:
        ok = l->kernel >= 1 && l->kernel <= 4096 && l->stride >= 1 && l->stride <= 4096;
        break;
    case CG_LAYER_DROPOUT: ok = l->rate >= 0 && l->rate < 1; break;
    case CG_LAYER_GAP:
    case CG_LAYER_BN:
    case CG_LAYER_FLATTEN: ok = 1; break;
    default: return cg_error(CG_ERR_ARG, "model.arch: layer %d has unknown kind %d", i + 1, l->kind);
    }
    if (ok) return CG_OK;
    char text[64] = "?";
    cg_arch_format(l, 1, text, sizeof text);
    return cg_error(CG_ERR_ARG, "model.arch: layer %d '%s' has a size out of range", i + 1, text);
}

static int resolve_arch(cg_model_config *mc)
{
    if (mc->n_layers > CG_MAX_LAYERS)
        return cg_error(CG_ERR_ARG, "model.arch: %d layers (at most %d)", mc->n_layers, CG_MAX_LAYERS);
    if (mc->n_hidden > 0)
        return cg_error(CG_ERR_ARG, "model.hidden: give either hidden widths or an architecture "
                        "(model.arch), not both");
    /* Batch norm and dropout are layers of the architecture. */
    if (mc->batch_norm)
        return cg_error(CG_ERR_ARG, "model.batch_norm: with an architecture, put bn layers in it");
    if (mc->dropout > 0)
        return cg_error(CG_ERR_ARG, "model.dropout: with an architecture, put dropoutP layers in it");
    int weighted = 0;
    for (int i = 0; i < mc->n_layers; i++) {
        if (check_layer(&mc->layers[i], i)) return CG_ERR_ARG;
        weighted += mc->layers[i].kind == CG_LAYER_DENSE || mc->layers[i].kind == CG_LAYER_CONV;
    }
    if (!weighted && mc->activation >= 0)
        return cg_error(CG_ERR_ARG, "model.activation: the architecture has no conv or dense layers "
                        "to apply it to");
    if (mc->activation < 0 && weighted) mc->activation = CG_RELU;
    if (weighted && mc->activation != CG_RELU && mc->activation != CG_TANH && mc->activation != CG_SIGMOID)
        return cg_error(CG_ERR_ARG, "model.activation: %d is not relu, tanh or sigmoid", mc->activation);
    return CG_OK;
}

/* The task and its loss (default: the task's), before the layers. */
static int resolve_task(cg_model_config *mc)
{
    if (mc->task < 0 || mc->task > CG_TASK_MULTILABEL)
        return cg_error(CG_ERR_ARG, "model.task: %d is not classification, regression or multilabel", mc->task);
    if (mc->loss < 0 || mc->loss > CG_LOSS_BCE)
        return cg_error(CG_ERR_ARG, "model.loss: unknown loss %d", mc->loss);
    if (!cg_task_loss_fits(mc->task, mc->loss))
        return cg_error(CG_ERR_ARG, "model.loss: '%s' does not fit the task '%s' (%s)", cg_loss_name(mc->loss),
                        cg_task_name(mc->task),
                        mc->task == CG_TASK_REGRESSION ? "regression trains with mse, mae or huber"
                        : mc->task == CG_TASK_MULTILABEL ? "multilabel trains with bce"
                                                         : "classification trains with cross_entropy");
    if (mc->loss == CG_LOSS_DEFAULT) mc->loss = cg_task_default_loss(mc->task);
    return CG_OK;
}

int cg_model_config_resolve(cg_model_config *mc)
{
    if (resolve_task(mc)) return CG_ERR_ARG;
    /* A rate left to the data (cg_run_config_init's default) is chosen by
     * cg_train (cg_run_config_dropout_from_data); a model built from the
     * configuration outside a run has none. */
    if (mc->dropout == CG_FROM_DATA) mc->dropout = 0;
    if (mc->n_layers < 0) return cg_error(CG_ERR_ARG, "model.arch: %d layers", mc->n_layers);
    if (mc->n_layers > 0) return resolve_arch(mc);
    if (mc->n_hidden < 0 || mc->n_hidden > CG_MAX_HIDDEN)
        return cg_error(CG_ERR_ARG, "model.hidden: %d layers (at most %d)", mc->n_hidden, CG_MAX_HIDDEN);
    for (int i = 0; i < mc->n_hidden; i++)
        if (mc->hidden[i] < 1 || mc->hidden[i] > 1000000)
            return cg_error(CG_ERR_ARG, "model.hidden: width %d must be in [1, 1000000]", mc->hidden[i]);
    if (!(mc->dropout >= 0 && mc->dropout < 1))
        return cg_error(CG_ERR_ARG, "model.dropout: rate %g must be in [0, 1)", mc->dropout);
    /* What acts on hidden layers means nothing without them: an error,
     * not a setting silently unused. */
    if (mc->n_hidden == 0) {
        if (mc->activation >= 0)
            return cg_error(CG_ERR_ARG, "model.activation: the model has no hidden layers to apply it to");
        if (mc->batch_norm)
            return cg_error(CG_ERR_ARG, "model.batch_norm: the model has no hidden layers to normalise");
        if (mc->dropout > 0)
            return cg_error(CG_ERR_ARG, "model.dropout: the model has no hidden layers to drop out of");
        return CG_OK;
    }
    if (mc->activation < 0) mc->activation = CG_RELU;
    if (mc->activation != CG_RELU && mc->activation != CG_TANH && mc->activation != CG_SIGMOID)
        return cg_error(CG_ERR_ARG, "model.activation: %d is not relu, tanh or sigmoid", mc->activation);
    mc->batch_norm = mc->batch_norm != 0;
    return CG_OK;
}

cJSON *cg_model_config_json(const cg_model_config *mc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (mc->n_layers > 0) { /* absent for hidden lists: older readers know those */
        cJSON *a = cJSON_AddArrayToObject(o, "arch");
        for (int i = 0; a && i < mc->n_layers; i++) {
            char text[64] = "?";
            cg_arch_format(&mc->layers[i], 1, text, sizeof text);
            cJSON_AddItemToArray(a, cJSON_CreateString(text));
        }
    }
    cJSON *h = cJSON_AddArrayToObject(o, "hidden");
    for (int i = 0; h && i < mc->n_hidden; i++) cJSON_AddItemToArray(h, cJSON_CreateNumber(mc->hidden[i]));
    if (mc->activation >= 0) cJSON_AddStringToObject(o, "activation", cg_activation_name(mc->activation));
    else cJSON_AddNullToObject(o, "activation");
    cJSON_AddBoolToObject(o, "batch_norm", mc->batch_norm);
    cJSON_AddNumberToObject(o, "dropout", mc->dropout);
    if (mc->task != CG_TASK_CLASSIFICATION || (mc->loss && mc->loss != CG_LOSS_CROSS_ENTROPY)) {
        cJSON_AddStringToObject(o, "task", cg_task_name(mc->task)); /* absent: classification */
        cJSON_AddStringToObject(o, "loss", cg_loss_name(mc->loss));
    }
    return o;
}

int cg_model_config_read(const cJSON *o, const char *where, cg_model_config *mc)
{
    static const char *const keys[] = {"arch", "hidden", "activation", "batch_norm", "dropout", "task", "loss", NULL};
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_bool(o, where, "batch_norm", &mc->batch_norm) ||
        cg_json_number(o, where, "dropout", &mc->dropout))
        return CG_ERR_FORMAT;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hidden");
    if (h) {
        int n = cJSON_GetArraySize(h);
        if (!cJSON_IsArray(h) || n > CG_MAX_HIDDEN)
            return cg_error(CG_ERR_FORMAT, "configuration: \"%s.hidden\" must be an array of at most %d "
                                           "widths", where, CG_MAX_HIDDEN);
        for (int i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetArrayItem(h, i);
            if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
                v->valuedouble > 1000000)
                return cg_error(CG_ERR_FORMAT, "configuration: \"%s.hidden\" must hold widths in [1, "
                                               "1000000]", where);
            mc->hidden[i] = (int)v->valuedouble;
        }
        mc->n_hidden = n;
    }
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(o, "arch");
    if (arch) {
        int n = cJSON_GetArraySize(arch);
        if (!cJSON_IsArray(arch) || n > CG_MAX_LAYERS)
            return cg_error(CG_ERR_FORMAT, "configuration: \"%s.arch\" must be an array of at most %d "
                            "layers such as \"conv32x3\"", where, CG_MAX_LAYERS);
        for (int i = 0; i < n; i++) {
            const cJSON *v = cJSON_GetArrayItem(arch, i);
            if (!cJSON_IsString(v) || cg_layer_parse(v->valuestring, &mc->layers[i]))
                return cg_error(CG_ERR_FORMAT, "configuration: \"%s.arch\" layer %d: %s", where, i + 1,
                                cJSON_IsString(v) ? cg_last_error() : "not a string");
        }
        mc->n_layers = n;
        /* An architecture replaces the default hidden widths; both given
         * is an error for resolve to report. */
        if (!h) mc->n_hidden = 0;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "activation");
    if (cJSON_IsNull(a)) {
        mc->activation = -1;
    } else if (a) {
        int act = cJSON_IsString(a) ? cg_activation_from_name(a->valuestring) : -1;
        if (act != CG_RELU && act != CG_TANH && act != CG_SIGMOID)
            return cg_error(CG_ERR_FORMAT, "configuration: \"%s.activation\" must be relu, tanh or "
                                           "sigmoid", where);
        mc->activation = act;
    }
    if (isnan(mc->dropout)) mc->dropout = 0;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task"), *loss = cJSON_GetObjectItemCaseSensitive(o, "loss");
    if (task && (mc->task = cJSON_IsString(task) ? cg_task_from_name(task->valuestring) : -1) < 0)
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.task\" must be classification, regression or "
                        "multilabel", where);
    if (loss && (mc->loss = cJSON_IsString(loss) ? cg_loss_from_name(loss->valuestring) : -1) < 0)
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.loss\" must be cross_entropy, mse, mae, huber or "
                        "bce", where);
    return CG_OK;
}

/* The architecture's layers into m: each conv and dense layer followed by
 * its batch norm (when a bn comes next) and the activation. */
static int add_arch(cg_model *m, const cg_model_config *mc)
{
    for (int i = 0; i < mc->n_layers; i++) {
        const cg_layer_config *l = &mc->layers[i];
        int rc = CG_OK, weighted = 0;
        switch (l->kind) {
        case CG_LAYER_DENSE: rc = cg_model_add_dense(m, l->size), weighted = 1; break;
        case CG_LAYER_CONV:
            rc = cg_model_add_conv2d(m, l->size, l->kernel, l->stride, l->padding), weighted = 1;
            break;
        case CG_LAYER_MAX_POOL: rc = cg_model_add_max_pool2d(m, l->kernel, l->stride); break;
        case CG_LAYER_AVG_POOL: rc = cg_model_add_avg_pool2d(m, l->kernel, l->stride); break;
        case CG_LAYER_GAP: rc = cg_model_add_global_avg_pool2d(m); break;
        case CG_LAYER_BN: rc = cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS); break;
        case CG_LAYER_DROPOUT: rc = cg_model_add_dropout(m, l->rate); break;
        case CG_LAYER_FLATTEN: rc = cg_model_add_flatten(m); break;
        default: break;
        }
        if (!rc && weighted && i + 1 < mc->n_layers && mc->layers[i + 1].kind == CG_LAYER_BN) {
            rc = cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS);
            i++;
        }
        if (!rc && weighted) rc = cg_model_add_activation(m, mc->activation);
        if (rc) {
            char text[64] = "?", msg[512];
            cg_arch_format(l, 1, text, sizeof text);
            snprintf(msg, sizeof msg, "%s", cg_last_error());
            return cg_error(rc, "model.arch: layer %d '%s': %s", i + 1, text, msg);
        }
    }
    return CG_OK;
}

static cg_model *from_config(const cg_model_config *config, const int *shape, int n_inputs,
                             int n_classes, uint64_t seed)
{
    if (!config) return cg_error_null(CG_ERR_ARG, "cg_model_from_config: NULL configuration");
    cg_model_config mc = *config;
    if (cg_model_config_resolve(&mc)) return NULL;
    int image = mc.n_layers > 0 && cg_arch_needs_image(mc.layers, mc.n_layers);
    if (image && !shape)
        return cg_error_null(CG_ERR_SHAPE, "model.arch: conv and pooling layers need images (C x H x "
                             "W: IDX files or a 4-D .npy array); the data's %d features are flat",
                             n_inputs);
    cg_model *m = cg_model_new(n_inputs, n_classes, seed);
    if (!m) return NULL;
    if (mc.n_layers > 0) {
        if ((image && cg_model_set_input_shape(m, shape[0], shape[1], shape[2])) || add_arch(m, &mc)) {
            cg_model_free(m);
            return NULL;
        }
        return m;
    }
    for (int i = 0; i < mc.n_hidden; i++)
        if (cg_model_add_dense(m, mc.hidden[i]) ||
            (mc.batch_norm && cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS)) ||
            cg_model_add_activation(m, mc.activation) ||
            (mc.dropout > 0 && cg_model_add_dropout(m, mc.dropout))) {
            cg_model_free(m);
            return NULL;
        }
    return m;
}

cg_model *cg_model_from_config(const cg_model_config *config, int n_inputs, int n_classes,
                               uint64_t seed)
{
    return from_config(config, NULL, n_inputs, n_classes, seed);
}

cg_model *cg_model_from_config_image(const cg_model_config *config, int channels, int height,
                                     int width, int n_classes, uint64_t seed)
{
    if (channels < 1 || height < 1 || width < 1 || (double)channels * height * width > 1e9)
        return cg_error_null(CG_ERR_ARG, "cg_model_from_config_image: image shape %d x %d x %d",
                             channels, height, width);
    return from_config(config, (const int[]){channels, height, width}, channels * height * width,
                       n_classes, seed);
}
