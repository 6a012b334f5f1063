/* SPDX-License-Identifier: MIT */
/* train_log.c: what `cgrad train` keeps of a run: a metrics line and
 * checkpoints after each epoch, and the flags that --resume rebuilds the
 * run from. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cli/train.h"

void train_json_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static int save_checkpoint(epoch_log *log, const cg_epoch_metrics *e, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", log->dir, file);
    cg_checkpoint_info info = {e->epoch, cg_optimizer_step_count(log->opt), e->best_val_acc,
                               e->epochs_since_best, (char *)log->extra};
    if (cg_checkpoint_save(path, log->model, log->opt, log->nz, &info) == CG_OK) return 0;
    snprintf(log->error, sizeof log->error, "%s", cg_last_error());
    log->failed = 1;
    return 1;
}

int train_on_epoch(const cg_epoch_metrics *e, void *user)
{
    epoch_log *log = user;
    if (log->dir && (save_checkpoint(log, e, "last.safetensors") ||
                     (e->improved && save_checkpoint(log, e, "best.safetensors"))))
        return 1;
    if (!log->f) return 0;
    cJSON *o = cJSON_CreateObject();
    if (!o) { log->failed = 1; return 1; }
    cJSON_AddNumberToObject(o, "epoch", e->epoch);
    train_json_number(o, "train_loss", e->train_loss);
    train_json_number(o, "train_accuracy", e->train_acc);
    train_json_number(o, "val_loss", e->val_loss);
    train_json_number(o, "val_accuracy", e->val_acc);
    cJSON_AddNumberToObject(o, "seconds", e->seconds);
    cJSON_AddNumberToObject(o, "examples_per_second", e->examples_per_second);
    cJSON_AddNumberToObject(o, "lr", cg_optimizer_lr(log->opt));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s || fprintf(log->f, "%s\n", s) < 0 || fflush(log->f) != 0) {
        snprintf(log->error, sizeof log->error, "writing %s/metrics.jsonl failed", log->dir);
        log->failed = 1;
    }
    free(s);
    return log->failed;
}

/* The flags as a JSON object {"argv": [...]}, kept in checkpoints so that
 * --resume can rebuild the data split and training loop. */
char *train_flags_json(int argc, char **argv)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *a = o ? cJSON_AddArrayToObject(o, "argv") : NULL;
    for (int i = 1; a && i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) { i++; continue; }
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]));
    }
    char *s = a ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* argv for a resumed run: "train", the checkpoint's flags, then the flags
 * given now (later flags win). NULL with a message on error. */
char **train_resume_argv(const char *path, const char *extra, int argc, char **argv, int *out_argc)
{
    cJSON *o = extra ? cJSON_Parse(extra) : NULL;
    cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "argv");
    if (!cJSON_IsArray(a)) {
        fprintf(stderr, "cgrad train: --resume: %s has no training flags (metadata \"train\"); "
                        "was it written by cgrad train?\n", path);
        cJSON_Delete(o);
        return NULL;
    }
    int n = cJSON_GetArraySize(a);
    char **v = calloc((size_t)(n + argc + 1), sizeof *v);
    int k = 0, ok = v != NULL;
    if (ok) v[k++] = strdup("train");
    const cJSON *item;
    cJSON_ArrayForEach(item, a)
        if (ok) ok = cJSON_IsString(item) && (v[k++] = strdup(item->valuestring));
    for (int i = 1; ok && i < argc; i++) ok = (v[k++] = strdup(argv[i])) != NULL;
    cJSON_Delete(o);
    if (!ok) {
        fprintf(stderr, "cgrad train: --resume: %s: bad training flags\n", path);
        for (int i = 0; v && i < k; i++) free(v[i]);
        free(v);
        return NULL;
    }
    *out_argc = k;
    return v;
}

void train_free_argv(char **v, int n)
{
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}
