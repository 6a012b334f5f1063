/* SPDX-License-Identifier: MIT */
/* model_config.c: the model's part of a run configuration: hidden layers,
 * activation, batch norm, dropout; its checks, its JSON, and the model it
 * describes. */
#include "nn/model_config.h"
#include "json.h"

#include <math.h>
#include <string.h>

void cg_model_config_init(cg_model_config *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->n_hidden = 2;
    mc->hidden[0] = mc->hidden[1] = 256;
    mc->activation = -1;
}

int cg_model_config_resolve(cg_model_config *mc)
{
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
    cJSON *h = cJSON_AddArrayToObject(o, "hidden");
    for (int i = 0; h && i < mc->n_hidden; i++) cJSON_AddItemToArray(h, cJSON_CreateNumber(mc->hidden[i]));
    if (mc->activation >= 0) cJSON_AddStringToObject(o, "activation", cg_activation_name(mc->activation));
    else cJSON_AddNullToObject(o, "activation");
    cJSON_AddBoolToObject(o, "batch_norm", mc->batch_norm);
    cJSON_AddNumberToObject(o, "dropout", mc->dropout);
    return o;
}

int cg_model_config_read(const cJSON *o, const char *where, cg_model_config *mc)
{
    static const char *const keys[] = {"hidden", "activation", "batch_norm", "dropout", NULL};
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
    return CG_OK;
}

cg_model *cg_model_from_config(const cg_model_config *config, int n_inputs, int n_classes,
                               uint64_t seed)
{
    if (!config) return cg_error_null(CG_ERR_ARG, "cg_model_from_config: NULL configuration");
    cg_model_config mc = *config;
    if (cg_model_config_resolve(&mc)) return NULL;
    cg_model *m = cg_model_new(n_inputs, n_classes, seed);
    if (!m) return NULL;
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
