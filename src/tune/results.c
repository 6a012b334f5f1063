/* SPDX-License-Identifier: MIT */
/* results.c: results.jsonl, one JSON object per finished trial: writing a
 * record, and reading them back (for a resumed search, and from the other
 * MPI ranks). A record keeps its run configuration ("config") so that a
 * trial can be run again from the file alone. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "internal.h"
#include "json.h"
#include "tune/engine.h"

static const char *const status_names[] = {"ok", "failed", "stopped", "diverged"};
#define N_STATUS ((int)(sizeof status_names / sizeof *status_names))

const char *cg_tune_status_name(int status)
{
    return status >= 0 && status < N_STATUS ? status_names[status] : "unknown";
}

char *tune_record_json(const tune_search *s, const cg_tune_record *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", r->id);
    cJSON_AddNumberToObject(o, "round", r->round);
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    cJSON_AddNumberToObject(o, "rank", r->rank);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (int i = 0; params && i < s->orig.n; i++) {
        const cg_tune_param *p = &s->orig.p[i];
        if (p->dist == CG_TUNE_CHOICE) {
            char v[CG_TUNE_CHOICE_LEN];
            cg_tune_format_value(p, r->point.v[i], v, (int)sizeof v);
            cJSON_AddStringToObject(params, p->name, v);
        } else {
            cJSON_AddNumberToObject(params, p->name, r->point.v[i]);
        }
    }
    cJSON_AddStringToObject(o, "status", cg_tune_status_name(r->status));
    if (r->reason[0]) cJSON_AddStringToObject(o, "reason", r->reason);
    else cJSON_AddNullToObject(o, "reason");
    cg_json_add_number(o, tune_score_key(r->config.model.task, 0), r->val_acc);
    cg_json_add_number(o, tune_score_key(r->config.model.task, 1), r->test_acc);
    cg_json_add_number(o, "seconds", r->seconds);
    cJSON *eps = cJSON_AddArrayToObject(o, "epochs");
    for (int i = 0; eps && i < r->n_epochs; i++) {
        const cg_tune_epoch *e = &r->epochs[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddNumberToObject(x, "epoch", e->epoch);
        cg_json_add_number(x, "train_loss", e->train_loss);
        cg_json_add_number(x, "train_accuracy", e->train_acc);
        cg_json_add_number(x, "val_loss", e->val_loss);
        cg_json_add_number(x, "val_accuracy", e->val_acc);
        if (!isnan(e->train_r2)) cg_json_add_number(x, "train_r2", e->train_r2);
        if (!isnan(e->val_r2)) cg_json_add_number(x, "val_r2", e->val_r2);
        cg_json_add_number(x, "seconds", e->seconds);
        cg_json_add_number(x, "lr", e->lr);
        cJSON_AddItemToArray(eps, x);
    }
    char *cfg = cg_run_config_to_json(&r->config);
    cJSON *c = cfg ? cJSON_Parse(cfg) : NULL;
    cg_free_string(cfg);
    char *text = NULL;
    if (c && cJSON_AddItemToObject(o, "config", c)) text = cJSON_PrintUnformatted(o);
    else cJSON_Delete(c);
    cJSON_Delete(o);
    return text;
}

/* A whole number field in [0, max), or `dflt` when missing or out of range
 * (casting NaN, or a value the type cannot hold, is undefined). */
static double whole(const cJSON *o, const char *key, double max, double dflt)
{
    double v = cg_json_get_number(o, key);
    return isfinite(v) && v >= 0 && v < max ? v : dflt;
}

/* One object into a record; -1 with the offending parameter in `err` if it
 * does not fit the space. The configuration is the search's for the point
 * (the same as the stored one unless the base changed under resume). */
static int parse_record(const tune_search *s, const cJSON *o, cg_tune_record *r, char *err,
                        size_t err_size)
{
    memset(r, 0, sizeof *r);
    r->id = (int)whole(o, "id", INT_MAX, -1);
    r->round = (int)whole(o, "round", INT_MAX, -1);
    r->index = (int)whole(o, "index", INT_MAX, -1);
    r->seed = (uint64_t)whole(o, "seed", 9e15, 0);
    r->rank = (int)whole(o, "rank", INT_MAX, 0);
    r->seconds = cg_json_get_number(o, "seconds");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    r->status = CG_TRIAL_FAILED;
    for (int i = 0; i < N_STATUS; i++)
        if (cJSON_IsString(st) && strcmp(st->valuestring, status_names[i]) == 0) r->status = i;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
    if (cJSON_IsString(reason)) snprintf(r->reason, sizeof r->reason, "%s", reason->valuestring);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    for (int i = 0; i < s->orig.n; i++) {
        const cg_tune_param *p = &s->orig.p[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, p->name);
        int bad = 0;
        if (cJSON_IsNumber(v) && p->dist != CG_TUNE_CHOICE) r->point.v[i] = v->valuedouble;
        else if (cJSON_IsString(v)) bad = cg_tune_parse_value(p, v->valuestring, &r->point.v[i]);
        else bad = 1;
        if (bad) {
            snprintf(err, err_size, "parameter '%s' missing or not of this search space", p->name);
            return -1;
        }
    }
    if (tune_trial_config(s, &r->point, r->seed, &r->config)) {
        snprintf(err, err_size, "%s", cg_last_error());
        return -1;
    }
    r->val_acc = cg_json_get_number(o, tune_score_key(r->config.model.task, 0));
    r->test_acc = cg_json_get_number(o, tune_score_key(r->config.model.task, 1));
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(o, "epochs"), *e;
    int n = cJSON_GetArraySize(eps);
    if (n > 0 && (r->epochs = calloc((size_t)n, sizeof *r->epochs))) {
        r->cap_epochs = n;
        cJSON_ArrayForEach(e, eps) tune_epoch_from_json(e, &r->epochs[r->n_epochs++]);
    }
    return 0;
}

int tune_record_parse(const tune_search *s, const char *line, cg_tune_record *r, char *err,
                      size_t err_size)
{
    cJSON *o = cJSON_Parse(line);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        snprintf(err, err_size, "not a JSON object");
        return 1;
    }
    int rc = parse_record(s, o, r, err, err_size);
    cJSON_Delete(o);
    return rc;
}

int tune_add_record(tune_search *s, const cg_tune_record *r)
{
    if (s->n_recs == s->cap_recs) {
        int cap = s->cap_recs ? 2 * s->cap_recs : 64;
        cg_tune_record *p = realloc(s->recs, (size_t)cap * sizeof *p);
        if (!p) return cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
        s->recs = p;
        s->cap_recs = cap;
    }
    s->recs[s->n_recs++] = *r;
    return CG_OK;
}

int tune_results_parse(tune_search *s, const char *text, const char *path)
{
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        char *line = malloc(len + 1);
        if (!line) return cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (end != NULL);
        char err[600];
        cg_tune_record r;
        int got = tune_record_parse(s, line, &r, err, sizeof err);
        free(line);
        /* got > 0: a line cut short by a crash: that trial simply runs again. */
        if (got == 0 && tune_add_record(s, &r)) {
            cg_tune_record_free(&r);
            return CG_ERR_MEMORY;
        }
        if (got < 0)
            return cg_error(CG_ERR_ARG, "resume: %s:%d: %s (resume with the same options)", path,
                            lineno, err);
    }
    return CG_OK;
}
