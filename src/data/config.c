/* SPDX-License-Identifier: MIT */
/* config.c: the data's part of a run configuration: where the rows come
 * from (a source, a test set, the label column) and how inputs are
 * normalised. */
#include "data/config.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

void cg_data_config_init(cg_data_config *dc)
{
    memset(dc, 0, sizeof *dc);
    snprintf(dc->source, sizeof dc->source, "fashion-mnist");
    dc->standardize = -1;
}

int cg_data_config_resolve(cg_data_config *dc)
{
    if (!dc->source[0]) return cg_error(CG_ERR_ARG, "data.source: empty");
    /* Only tables have a label column to choose; IDX labels are a file. */
    size_t n = strlen(dc->source);
    int table = n > 4 && (!strcmp(dc->source + n - 4, ".csv") || !strcmp(dc->source + n - 4, ".npy"));
    if (dc->label[0] && !table)
        return cg_error(CG_ERR_ARG, "data.label: %s is not a .csv / .npy table; its labels come from "
                                    "its IDX labels file", dc->source);
    if (dc->standardize < -1 || dc->standardize > 1)
        return cg_error(CG_ERR_ARG, "data.standardize: %d is not -1, 0 or 1", dc->standardize);
    return CG_OK;
}

cJSON *cg_data_config_json(const cg_data_config *dc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "source", dc->source);
    cJSON_AddStringToObject(o, "test", dc->test);
    cJSON_AddStringToObject(o, "label", dc->label);
    if (dc->standardize < 0) cJSON_AddNullToObject(o, "standardize");
    else cJSON_AddBoolToObject(o, "standardize", dc->standardize);
    return o;
}

int cg_data_config_read(const cJSON *o, const char *where, cg_data_config *dc)
{
    static const char *const keys[] = {"source", "test", "label", "standardize", NULL};
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_string(o, where, "source", dc->source, sizeof dc->source) ||
        cg_json_string(o, where, "test", dc->test, sizeof dc->test) ||
        cg_json_string(o, where, "label", dc->label, sizeof dc->label))
        return CG_ERR_FORMAT;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "standardize");
    if (cJSON_IsNull(s)) dc->standardize = -1;
    else if (cg_json_bool(o, where, "standardize", &dc->standardize)) return CG_ERR_FORMAT;
    return CG_OK;
}
