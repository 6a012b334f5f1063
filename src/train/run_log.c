/* run_log.c: the run directory of cg_train: after each epoch a line of
 * metrics.jsonl and the checkpoints (with the run configuration). */
#include "train/run.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int save_checkpoint(run_log *log, const cg_epoch_metrics *e, const char *file)
{
    char path[CG_PATH_LEN + 32];
    snprintf(path, sizeof path, "%s/%s", log->dir, file);
    cg_checkpoint_info info = {e->epoch, cg_optimizer_step_count(log->opt), e->best_val_acc,
                               e->epochs_since_best, (char *)log->config};
    if (cg_checkpoint_save(path, log->model, log->opt, log->nz, &info) == CG_OK) return 0;
    snprintf(log->error, sizeof log->error, "%s", cg_last_error());
    log->failed = 1;
    return 1;
}

static int write_metrics(run_log *log, const cg_epoch_metrics *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        snprintf(log->error, sizeof log->error, "out of memory");
        return log->failed = 1;
    }
    cJSON_AddNumberToObject(o, "epoch", e->epoch);
    cg_json_add_number(o, "train_loss", e->train_loss);
    cg_json_add_number(o, "train_accuracy", e->train_acc);
    cg_json_add_number(o, "val_loss", e->val_loss);
    cg_json_add_number(o, "val_accuracy", e->val_acc);
    cJSON_AddNumberToObject(o, "seconds", e->seconds);
    cJSON_AddNumberToObject(o, "examples_per_second", e->examples_per_second);
    cJSON_AddNumberToObject(o, "lr", cg_optimizer_lr(log->opt));
    char *s = cg_json_text(o);
    if (!s || fprintf(log->f, "%s\n", s) < 0 || fflush(log->f) != 0) {
        snprintf(log->error, sizeof log->error, "writing %s/metrics.jsonl failed", log->dir);
        log->failed = 1;
    }
    cg_free(s);
    return log->failed;
}

int cg_run_log_epoch(const cg_epoch_metrics *e, void *user)
{
    run_log *log = user;
    if (log->dir && (save_checkpoint(log, e, "last.safetensors") ||
                     (e->improved && save_checkpoint(log, e, "best.safetensors"))))
        return 1;
    if (log->f && write_metrics(log, e)) return 1;
    return log->on_epoch ? log->on_epoch(e, log->user) : 0;
}
