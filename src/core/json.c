/* SPDX-License-Identifier: MIT */
/* json.c: strict field readers and writers for configuration JSON. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *field(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

int cg_json_object(const cJSON *o, const char *where)
{
    if (!cJSON_IsObject(o)) return cg_error(CG_ERR_FORMAT, "configuration: \"%s\" must be an object", where);
    return CG_OK;
}

int cg_json_number(const cJSON *o, const char *where, const char *key, double *out)
{
    const cJSON *v = field(o, key);
    if (!v) return CG_OK;
    if (cJSON_IsNull(v)) {
        *out = NAN;
        return CG_OK;
    }
    /* 1e400 parses as infinity: not a value a configuration can hold (and
     * one it would write back as null). */
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.%s\" must be a finite number", where,
                        key);
    *out = v->valuedouble;
    return CG_OK;
}

int cg_json_int(const cJSON *o, const char *where, const char *key, long lo, long hi, int *out)
{
    const cJSON *v = field(o, key);
    if (!v) return CG_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.%s\" must be a whole number in [%ld, %ld]",
                        where, key, lo, hi);
    *out = (int)v->valuedouble;
    return CG_OK;
}

int cg_json_bool(const cJSON *o, const char *where, const char *key, int *out)
{
    const cJSON *v = field(o, key);
    if (!v) return CG_OK;
    if (!cJSON_IsBool(v))
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.%s\" must be true or false", where, key);
    *out = cJSON_IsTrue(v);
    return CG_OK;
}

int cg_json_string(const cJSON *o, const char *where, const char *key, char *out, size_t size)
{
    const cJSON *v = field(o, key);
    if (!v) return CG_OK;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
        return cg_error(CG_ERR_FORMAT, "configuration: \"%s.%s\" must be a string of at most %zu bytes",
                        where, key, size - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return CG_OK;
}

int cg_json_u64(const cJSON *o, const char *where, const char *key, uint64_t *out)
{
    const cJSON *v = field(o, key);
    if (!v) return CG_OK;
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
        v->valuedouble == floor(v->valuedouble)) {
        *out = (uint64_t)v->valuedouble;
        return CG_OK;
    }
    if (cJSON_IsString(v) && v->valuestring[0] >= '0' && v->valuestring[0] <= '9') {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (!*end && !errno) {
            *out = (uint64_t)x;
            return CG_OK;
        }
    }
    return cg_error(CG_ERR_FORMAT, "configuration: \"%s.%s\" must be a non-negative integer", where, key);
}

int cg_json_known_keys(const cJSON *o, const char *where, const char *const *keys)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, o) {
        int known = 0;
        for (const char *const *k = keys; *k && !known; k++) known = c->string && !strcmp(c->string, *k);
        if (!known)
            return cg_error(CG_ERR_FORMAT, "configuration: unknown field \"%s.%s\"", where,
                            c->string ? c->string : "");
    }
    return CG_OK;
}

double cg_json_get_number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void cg_json_add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

void cg_json_add_u64(cJSON *o, const char *key, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    cJSON_AddStringToObject(o, key, b);
}

char *cg_json_text(cJSON *o)
{
    char *t = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!t) return NULL;
    char *copy = cg_strdup(t);
    cJSON_free(t);
    return copy;
}
