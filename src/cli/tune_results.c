/* SPDX-License-Identifier: MIT */
/* tune_results.c: results.jsonl, one JSON object per finished trial:
 * writing a record, and reading them back (for --resume, and from the
 * other MPI ranks). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cli/tune_run.h"

static const char *const status_names[] = {"ok", "failed", "stopped"};

static void add_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

char *tune_record_json(const tune_ctx *c, const tune_record *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", r->id);
    cJSON_AddNumberToObject(o, "round", r->round);
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddNumberToObject(o, "seed", (double)r->seed);
    cJSON_AddNumberToObject(o, "rank", r->rank);
    cJSON *params = cJSON_AddObjectToObject(o, "params");
    for (int i = 0; params && i < c->space->n; i++) {
        const cg_tune_param *p = &c->space->p[i];
        if (p->dist == CG_TUNE_CHOICE) {
            char v[CG_TUNE_CHOICE_LEN];
            cg_tune_format_value(p, r->point.v[i], v, (int)sizeof v);
            cJSON_AddStringToObject(params, p->name, v);
        } else {
            cJSON_AddNumberToObject(params, p->name, r->point.v[i]);
        }
    }
    cJSON_AddStringToObject(o, "status", status_names[r->status]);
    if (r->reason[0]) cJSON_AddStringToObject(o, "reason", r->reason);
    else cJSON_AddNullToObject(o, "reason");
    add_number_or_null(o, "val_accuracy", r->val_acc);
    add_number_or_null(o, "test_accuracy", r->test_acc);
    add_number_or_null(o, "seconds", r->seconds);
    cJSON *eps = cJSON_AddArrayToObject(o, "epochs");
    for (int i = 0; eps && i < r->n_epochs; i++) {
        const tune_epoch *e = &r->epochs[i];
        cJSON *x = cJSON_CreateObject();
        if (!x) break;
        cJSON_AddNumberToObject(x, "epoch", e->epoch);
        add_number_or_null(x, "train_loss", e->train_loss);
        add_number_or_null(x, "train_accuracy", e->train_acc);
        add_number_or_null(x, "val_loss", e->val_loss);
        add_number_or_null(x, "val_accuracy", e->val_acc);
        add_number_or_null(x, "seconds", e->seconds);
        add_number_or_null(x, "lr", e->lr);
        cJSON_AddItemToArray(eps, x);
    }
    char *cmd = tune_trial_command(c, r);
    if (cmd) cJSON_AddStringToObject(o, "command", cmd);
    free(cmd);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

double tune_json_number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A whole number field in [0, max), or `dflt` when missing or out of range
 * (casting NaN, or a value the type cannot hold, is undefined). */
static double whole(const cJSON *o, const char *key, double max, double dflt)
{
    double v = tune_json_number(o, key);
    return isfinite(v) && v >= 0 && v < max ? v : dflt;
}

int tune_epoch_from_json(const cJSON *o, tune_epoch *e)
{
    e->epoch = (int)whole(o, "epoch", 1e9, 0);
    e->train_loss = tune_json_number(o, "train_loss");
    e->train_acc = tune_json_number(o, "train_accuracy");
    e->val_loss = tune_json_number(o, "val_loss");
    e->val_acc = tune_json_number(o, "val_accuracy");
    e->seconds = tune_json_number(o, "seconds");
    e->lr = tune_json_number(o, "lr");
    return e->epoch > 0 ? 0 : -1;
}

/* One object into a record; -1 with the offending parameter in `err` if it
 * does not fit the space. */
static int parse_record(const cJSON *o, const cg_tune_space *s, tune_record *r, char *err,
                        size_t err_size)
{
    memset(r, 0, sizeof *r);
    r->id = (int)whole(o, "id", INT_MAX, -1);
    r->round = (int)whole(o, "round", INT_MAX, -1);
    r->index = (int)whole(o, "index", INT_MAX, -1);
    r->seed = (uint64_t)whole(o, "seed", 9e15, 0);
    r->rank = (int)whole(o, "rank", INT_MAX, 0);
    r->val_acc = tune_json_number(o, "val_accuracy");
    r->test_acc = tune_json_number(o, "test_accuracy");
    r->seconds = tune_json_number(o, "seconds");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    r->status = TRIAL_FAILED;
    for (int i = 0; i < 3; i++)
        if (cJSON_IsString(st) && strcmp(st->valuestring, status_names[i]) == 0) r->status = i;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
    if (cJSON_IsString(reason)) snprintf(r->reason, sizeof r->reason, "%s", reason->valuestring);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    for (int i = 0; i < s->n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, s->p[i].name);
        int bad = 0;
        if (cJSON_IsNumber(v) && s->p[i].dist != CG_TUNE_CHOICE) r->point.v[i] = v->valuedouble;
        else if (cJSON_IsString(v)) bad = cg_tune_parse_value(&s->p[i], v->valuestring, &r->point.v[i]);
        else bad = 1;
        if (bad) {
            snprintf(err, err_size, "parameter '%s' missing or not of this search space",
                     s->p[i].name);
            return -1;
        }
    }
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(o, "epochs"), *e;
    int n = cJSON_GetArraySize(eps);
    if (n > 0 && (r->epochs = calloc((size_t)n, sizeof *r->epochs))) {
        r->cap_epochs = n;
        cJSON_ArrayForEach(e, eps) tune_epoch_from_json(e, &r->epochs[r->n_epochs++]);
    }
    return 0;
}

int tune_record_parse(const char *line, const cg_tune_space *s, tune_record *r, char *err,
                      size_t err_size)
{
    cJSON *o = cJSON_Parse(line);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        snprintf(err, err_size, "not a JSON object");
        return 1;
    }
    int rc = parse_record(o, s, r, err, err_size);
    cJSON_Delete(o);
    return rc;
}

int tune_results_parse(const char *text, const char *path, const cg_tune_space *s, int verbose,
                       tune_record **recs, int *n)
{
    *recs = NULL;
    *n = 0;
    int cap = 0, lineno = 0, rc = 0;
    char *line = NULL;
    size_t lcap = 0;
    for (const char *p = text; *p && rc == 0;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        if (len + 1 > lcap) {
            char *l = realloc(line, len + 1);
            if (!l) {
                rc = -1;
                break;
            }
            line = l;
            lcap = len + 1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (end != NULL);
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            tune_record *q = realloc(*recs, (size_t)cap * sizeof *q);
            if (!q) {
                rc = -1;
                break;
            }
            *recs = q;
        }
        char err[256];
        int got = tune_record_parse(line, s, &(*recs)[*n], err, sizeof err);
        if (got == 0) {
            (*n)++;
        } else if (got > 0) {
            /* A line cut short by a crash: that trial simply runs again. */
            if (verbose && len > 0)
                fprintf(stderr, "cgrad tune: --resume: %s:%d: not a JSON object; ignored\n",
                        path, lineno);
        } else {
            tune_record_free(&(*recs)[*n]);
            if (verbose)
                fprintf(stderr, "cgrad tune: --resume: %s:%d: %s (resume with the same flags)\n",
                        path, lineno, err);
            rc = -1;
        }
    }
    free(line);
    return rc;
}
