/* SPDX-License-Identifier: MIT */
/* spec.c: a model's architecture as JSON and back, for checkpoints and
 * export. The spec lists every layer, the output layer last, so a reader
 * (cgrad export, a Python script) needs no knowledge of what cg_model adds
 * implicitly. */
#include "internal.h"
#include "json.h"
#include "nn/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

void cg_free_string(char *s) { cg_free(s); }

static cJSON *layer_json(const cg_model *m, int i)
{
    const layer *l = &m->layers[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "type", cg_layer_spec_types[l->kind]);
    cJSON_AddStringToObject(o, "name", l->name);
    switch (l->kind) {
    case LAYER_DENSE:
        cJSON_AddNumberToObject(o, "units", l->units);
        cJSON_AddBoolToObject(o, "bias", cg_layer_has_bias(m, i));
        break;
    case LAYER_CONV:
        cJSON_AddNumberToObject(o, "filters", l->units);
        cJSON_AddNumberToObject(o, "kernel", l->kernel);
        cJSON_AddNumberToObject(o, "stride", l->stride);
        if (l->pad == CG_PAD_SAME) cJSON_AddStringToObject(o, "padding", "same");
        else cJSON_AddNumberToObject(o, "padding", l->pad);
        cJSON_AddBoolToObject(o, "bias", cg_layer_has_bias(m, i));
        break;
    case LAYER_MAX_POOL:
    case LAYER_AVG_POOL:
        cJSON_AddNumberToObject(o, "kernel", l->kernel);
        cJSON_AddNumberToObject(o, "stride", l->stride);
        break;
    case LAYER_GAP:
    case LAYER_FLATTEN:
        break;
    case LAYER_ACTIVATION:
        cJSON_AddStringToObject(o, "activation", cg_activation_name(l->activation));
        break;
    case LAYER_BATCH_NORM:
        cJSON_AddNumberToObject(o, "momentum", l->rate);
        cJSON_AddNumberToObject(o, "eps", l->eps);
        break;
    case LAYER_DROPOUT:
        cJSON_AddNumberToObject(o, "rate", l->rate);
        break;
    }
    /* The output shape, for readers (exporters) that do not track it. */
    if (l->h > 0) {
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        if (shape) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(l->c));
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(l->h));
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(l->w));
        }
    }
    return o;
}

char *cg_model_spec(cg_model *m)
{
    if (!m) return cg_error_null(CG_ERR_ARG, "cg_model_spec: model is NULL");
    if (cg_model_finish_layers(m)) return NULL;
    cJSON *root = cJSON_CreateObject(), *layers = NULL;
    if (root) {
        cJSON_AddNumberToObject(root, "n_inputs", m->n_inputs);
        cJSON_AddNumberToObject(root, "n_classes", m->n_classes);
        if (m->in_h > 0) { /* [C, H, W]; absent for flat inputs */
            cJSON *shape = cJSON_AddArrayToObject(root, "input_shape");
            if (shape) {
                cJSON_AddItemToArray(shape, cJSON_CreateNumber(m->in_c));
                cJSON_AddItemToArray(shape, cJSON_CreateNumber(m->in_h));
                cJSON_AddItemToArray(shape, cJSON_CreateNumber(m->in_w));
            }
        }
        /* As a string: a 64-bit seed does not survive a JSON double. */
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
        cJSON_AddStringToObject(root, "seed", seed);
        layers = cJSON_AddArrayToObject(root, "layers");
        if (m->task != CG_TASK_CLASSIFICATION) { /* absent: a classifier */
            cJSON *t = cJSON_AddObjectToObject(root, "task");
            int loss;
            cJSON_AddStringToObject(t, "kind", cg_task_name(cg_model_task(m, &loss)));
            cJSON_AddStringToObject(t, "loss", cg_loss_name(loss));
            if (m->t_mean) {
                cJSON_AddItemToObject(t, "target_mean", cJSON_CreateDoubleArray(m->t_mean, m->n_classes));
                cJSON_AddItemToObject(t, "target_std", cJSON_CreateDoubleArray(m->t_std, m->n_classes));
            }
        }
    }
    int ok = layers != NULL;
    for (int i = 0; ok && i < m->n_layers; i++) {
        cJSON *l = layer_json(m, i);
        ok = l && cJSON_AddItemToArray(layers, l);
    }
    if (ok) {
        cJSON *out = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "dense%d", m->n_dense + 1);
        ok = out && cJSON_AddItemToArray(layers, out);
        if (ok) {
            cJSON_AddStringToObject(out, "type", "dense");
            cJSON_AddStringToObject(out, "name", name);
            cJSON_AddNumberToObject(out, "units", m->n_classes);
            cJSON_AddBoolToObject(out, "bias", 1);
            cJSON_AddBoolToObject(out, "output", 1);
        }
    }
    if (!ok) cJSON_Delete(root);
    char *text = ok ? cg_json_text(root) : NULL;
    return text ? text : cg_error_null(CG_ERR_MEMORY, "cg_model_spec: out of memory");
}

/* An integer field in [lo, hi]; -1 with an error otherwise. */
static int int_field(const cJSON *o, const char *key, int lo, int hi, const char *where, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble)) {
        cg_error(CG_ERR_FORMAT, "model spec: %s: \"%s\" must be an integer in [%d, %d]", where, key,
                 lo, hi);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int number_field(const cJSON *o, const char *key, const char *where, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        cg_error(CG_ERR_FORMAT, "model spec: %s: \"%s\" must be a number", where, key);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* Add layer l (JSON) to m; the output dense layer is checked, not added. */
static int add_layer(cg_model *m, const cJSON *l, int index, int last)
{
    char where[64];
    snprintf(where, sizeof where, "layer %d", index);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
    if (!cJSON_IsObject(l) || !cJSON_IsString(type))
        return cg_error(CG_ERR_FORMAT, "model spec: %s: not an object with a \"type\"", where);
    const char *t = type->valuestring;
    snprintf(where, sizeof where, "layer %d (%.16s)", index, t);
    int kind = -1;
    for (int k = 0; k < LAYER_KINDS; k++)
        if (strcmp(t, cg_layer_spec_types[k]) == 0) kind = k;
    if (kind < 0) return cg_error(CG_ERR_FORMAT, "model spec: %s: unknown layer type \"%s\"", where, t);
    if (strcmp(t, "dense") == 0) {
        int units;
        if (int_field(l, "units", 1, 1 << 24, where, &units)) return CG_ERR_FORMAT;
        if (last) {
            if (units != m->n_classes)
                return cg_error(CG_ERR_FORMAT,
                                "model spec: the output layer has %d units for %d classes", units,
                                m->n_classes);
            return CG_OK;
        }
        return cg_model_add_dense(m, units);
    }
    if (last) return cg_error(CG_ERR_FORMAT, "model spec: the last layer must be the dense output layer");
    if (strcmp(t, "activation") == 0) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(l, "activation");
        int act = cJSON_IsString(a) ? cg_activation_from_name(a->valuestring) : -1;
        if (act < 0)
            return cg_error(CG_ERR_FORMAT, "model spec: %s: unknown activation", where);
        return cg_model_add_activation(m, act);
    }
    if (strcmp(t, "batch_norm") == 0) {
        double momentum, eps;
        if (number_field(l, "momentum", where, &momentum) || number_field(l, "eps", where, &eps))
            return CG_ERR_FORMAT;
        return cg_model_add_batch_norm(m, momentum, eps);
    }
    if (strcmp(t, "dropout") == 0) {
        double rate;
        if (number_field(l, "rate", where, &rate)) return CG_ERR_FORMAT;
        return cg_model_add_dropout(m, rate);
    }
    int kernel = 0, stride = 0, filters = 0, pad = 0;
    switch (kind) {
    case LAYER_CONV: {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "padding");
        if (int_field(l, "filters", 1, 1 << 20, where, &filters) ||
            int_field(l, "kernel", 1, 1 << 12, where, &kernel) ||
            int_field(l, "stride", 1, 1 << 12, where, &stride))
            return CG_ERR_FORMAT;
        if (cJSON_IsString(p) && strcmp(p->valuestring, "same") == 0) pad = CG_PAD_SAME;
        else if (int_field(l, "padding", 0, 1 << 12, where, &pad))
            return cg_error(CG_ERR_FORMAT, "model spec: %s: \"padding\" must be \"same\" or an "
                            "integer in [0, 4096]", where);
        return cg_model_add_conv2d(m, filters, kernel, stride, pad);
    }
    case LAYER_MAX_POOL:
    case LAYER_AVG_POOL:
        if (int_field(l, "kernel", 1, 1 << 12, where, &kernel) ||
            int_field(l, "stride", 1, 1 << 12, where, &stride))
            return CG_ERR_FORMAT;
        return (kind == LAYER_MAX_POOL ? cg_model_add_max_pool2d : cg_model_add_avg_pool2d)(m, kernel,
                                                                                           stride);
    case LAYER_GAP: return cg_model_add_global_avg_pool2d(m);
    case LAYER_FLATTEN: return cg_model_add_flatten(m);
    default: break;
    }
    return cg_error(CG_ERR_FORMAT, "model spec: %s: unknown layer type \"%s\"", where, t);
}

/* n numbers of a JSON array into v (allocated); NULL with an error. */
static double *number_array(const cJSON *a, int n, const char *key)
{
    double *v = cJSON_GetArraySize(a) == n ? cg_malloc((size_t)n * sizeof *v) : NULL;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!v || !cJSON_IsNumber(e)) break;
        v[i++] = e->valuedouble;
    }
    if (v && i == n) return v;
    cg_free(v);
    return cg_error_null(CG_ERR_FORMAT, "model spec: task: \"%s\" must be %d numbers", key, n);
}

/* The optional "task" object: {"kind", "loss", "target_mean", "target_std"}. */
static int read_task(const cJSON *t, cg_model *m, int n_out)
{
    if (!t) return n_out >= 2 ? CG_OK : cg_error(CG_ERR_FORMAT, "model spec: a classifier needs n_classes >= 2");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(t, "kind"), *loss = cJSON_GetObjectItemCaseSensitive(t, "loss");
    int task = cJSON_IsString(kind) ? cg_task_from_name(kind->valuestring) : -1;
    int l = cJSON_IsString(loss) ? cg_loss_from_name(loss->valuestring) : -1;
    if (task < 0 || l < 0)
        return cg_error(CG_ERR_FORMAT, "model spec: task: needs a \"kind\" (classification, regression, "
                        "multilabel) and a \"loss\" (cross_entropy, mse, mae, huber, bce)");
    double *mean = NULL, *std = NULL;
    if (task == CG_TASK_REGRESSION &&
        (!(mean = number_array(cJSON_GetObjectItemCaseSensitive(t, "target_mean"), n_out, "target_mean")) ||
         !(std = number_array(cJSON_GetObjectItemCaseSensitive(t, "target_std"), n_out, "target_std")))) {
        cg_free(mean);
        return CG_ERR_FORMAT;
    }
    int rc = cg_model_set_task(m, task, l, n_out, mean, std);
    cg_free(mean);
    cg_free(std);
    return rc ? cg_error(CG_ERR_FORMAT, "model spec: task: %s", cg_last_error()) : CG_OK;
}

cg_model *cg_model_from_spec(const char *json)
{
    if (!json) return cg_error_null(CG_ERR_ARG, "cg_model_from_spec: NULL spec");
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cg_error_null(CG_ERR_FORMAT, "model spec: not a JSON object");
    }
    cg_model *m = NULL;
    int n_in, n_classes;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    unsigned long long s = 0;
    if (int_field(root, "n_inputs", 1, 1 << 30, "model", &n_in) ||
        int_field(root, "n_classes", 1, 1 << 24, "model", &n_classes))
        goto done;
    if (cJSON_IsString(seed)) {
        char *end;
        errno = 0;
        s = strtoull(seed->valuestring, &end, 10);
        /* strtoull takes "-1" and " 1" too (and clamps what overflows):
         * only digits, within 64 bits, are a seed. */
        if (*end || errno || !(*seed->valuestring >= '0' && *seed->valuestring <= '9')) {
            cg_error(CG_ERR_FORMAT, "model spec: \"seed\" is not an unsigned integer");
            goto done;
        }
    } else if (cJSON_IsNumber(seed)) {
        /* Casting a double outside [0, 2^64) is undefined: check first. */
        double v = seed->valuedouble;
        if (!(v >= 0 && v < 18446744073709551616.0 && v == floor(v))) {
            cg_error(CG_ERR_FORMAT, "model spec: \"seed\" is not an unsigned integer");
            goto done;
        }
        s = (unsigned long long)v;
    } else if (seed) {
        cg_error(CG_ERR_FORMAT, "model spec: \"seed\" is not an unsigned integer");
        goto done;
    }
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1) {
        cg_error(CG_ERR_FORMAT, "model spec: \"layers\" must be a non-empty array");
        goto done;
    }
    m = cg_model_new(n_in, n_classes < 2 ? 2 : n_classes, (uint64_t)s);
    if (!m) goto done;
    if (read_task(cJSON_GetObjectItemCaseSensitive(root, "task"), m, n_classes)) {
        cg_model_free(m);
        m = NULL;
        goto done;
    }
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(root, "input_shape");
    if (shape) {
        int d[3] = {0, 0, 0};
        int ok = cJSON_IsArray(shape) && cJSON_GetArraySize(shape) == 3;
        for (int k = 0; ok && k < 3; k++) {
            const cJSON *v = cJSON_GetArrayItem(shape, k);
            ok = cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= (1 << 30) &&
                 v->valuedouble == floor(v->valuedouble);
            if (ok) d[k] = (int)v->valuedouble;
        }
        if (!ok || cg_model_set_input_shape(m, d[0], d[1], d[2])) {
            cg_model_free(m);
            m = NULL;
            cg_error(CG_ERR_FORMAT, "model spec: \"input_shape\" must be [C, H, W] with C H W = "
                     "n_inputs %d", n_in);
            goto done;
        }
    }
    int n = cJSON_GetArraySize(layers), i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        if (add_layer(m, l, i, i == n - 1)) {
            int code = cg_last_error_code();
            char msg[256];
            snprintf(msg, sizeof msg, "%s", cg_last_error());
            cg_model_free(m);
            m = NULL;
            /* cg_model_add_* report CG_ERR_ARG; in a file it is a format error. */
            cg_error(code == CG_ERR_ARG ? CG_ERR_FORMAT : code, "%s", msg);
            goto done;
        }
        i++;
    }
done:
    cJSON_Delete(root);
    return m;
}
