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
    snprintf(dc->missing, sizeof dc->missing, "impute");
    snprintf(dc->unknown_category, sizeof dc->unknown_category, "error");
}

int cg_delimiter_from_name(const char *name)
{
    if (!name[0]) return 0;
    if (!strcmp(name, ",") || !strcmp(name, "comma")) return ',';
    if (!strcmp(name, ";") || !strcmp(name, "semicolon")) return ';';
    if (!strcmp(name, "tab") || !strcmp(name, "\t")) return '\t';
    if (!strcmp(name, "space") || !strcmp(name, "whitespace")) return ' ';
    return -1;
}

void cg_data_config_csv(const cg_data_config *dc, cg_csv_options *o)
{
    cg_csv_options_init(o);
    o->label = dc->label[0] ? dc->label : NULL;
    int d = cg_delimiter_from_name(dc->delimiter);
    o->delimiter = d > 0 ? (char)d : 0;
    o->missing = !strcmp(dc->missing, "error") ? CG_MISSING_ERROR : CG_MISSING_IMPUTE;
    o->unknown_category = !strcmp(dc->unknown_category, "zero") ? CG_UNKNOWN_ZERO : CG_UNKNOWN_ERROR;
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
    if (cg_delimiter_from_name(dc->delimiter) < 0)
        return cg_error(CG_ERR_ARG, "data.delimiter: '%s' is not one of ',', ';', tab, space (or empty: "
                                    "detect)", dc->delimiter);
    if (!dc->missing[0]) snprintf(dc->missing, sizeof dc->missing, "impute");
    if (strcmp(dc->missing, "impute") && strcmp(dc->missing, "error"))
        return cg_error(CG_ERR_ARG, "data.missing: '%s' is not impute or error", dc->missing);
    if (!dc->unknown_category[0]) snprintf(dc->unknown_category, sizeof dc->unknown_category, "error");
    if (strcmp(dc->unknown_category, "error") && strcmp(dc->unknown_category, "zero"))
        return cg_error(CG_ERR_ARG, "data.unknown_category: '%s' is not error or zero", dc->unknown_category);
    if (!strcmp(dc->unknown_category, "zero") && !dc->test[0])
        return cg_error(CG_ERR_ARG, "data.unknown_category: zero is for the values of a test file "
                                    "(data.test) that training did not see; there is no test file");
    int csv = n > 4 && !strcmp(dc->source + n - 4, ".csv");
    if (!csv && (dc->delimiter[0] || strcmp(dc->missing, "impute") || strcmp(dc->unknown_category, "error")))
        return cg_error(CG_ERR_ARG, "data.%s: %s is not a .csv file", dc->delimiter[0] ? "delimiter" :
                        strcmp(dc->missing, "impute") ? "missing" : "unknown_category", dc->source);
    return CG_OK;
}

cJSON *cg_data_config_json(const cg_data_config *dc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "source", dc->source);
    cJSON_AddStringToObject(o, "test", dc->test);
    cJSON_AddStringToObject(o, "label", dc->label);
    cJSON_AddStringToObject(o, "delimiter", dc->delimiter);
    cJSON_AddStringToObject(o, "missing", dc->missing);
    cJSON_AddStringToObject(o, "unknown_category", dc->unknown_category);
    if (dc->standardize < 0) cJSON_AddNullToObject(o, "standardize");
    else cJSON_AddBoolToObject(o, "standardize", dc->standardize);
    return o;
}

int cg_data_config_read(const cJSON *o, const char *where, cg_data_config *dc)
{
    static const char *const keys[] = {"source", "test", "label", "standardize", "delimiter", "missing",
                                       "unknown_category", NULL};
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_string(o, where, "source", dc->source, sizeof dc->source) ||
        cg_json_string(o, where, "test", dc->test, sizeof dc->test) ||
        cg_json_string(o, where, "label", dc->label, sizeof dc->label) ||
        cg_json_string(o, where, "delimiter", dc->delimiter, sizeof dc->delimiter) ||
        cg_json_string(o, where, "missing", dc->missing, sizeof dc->missing) ||
        cg_json_string(o, where, "unknown_category", dc->unknown_category, sizeof dc->unknown_category))
        return CG_ERR_FORMAT;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "standardize");
    if (cJSON_IsNull(s)) dc->standardize = -1;
    else if (cg_json_bool(o, where, "standardize", &dc->standardize)) return CG_ERR_FORMAT;
    return CG_OK;
}
