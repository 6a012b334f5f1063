/* train_log.c: what `cgrad train` keeps of a run: a metrics line and
 * checkpoints (with the run configuration) after each epoch. */
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
                               e->epochs_since_best, (char *)log->config};
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

