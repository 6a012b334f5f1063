/* SPDX-License-Identifier: MIT */
/* run_log.c: the run directory of cg_train: after each epoch a line of
 * metrics.jsonl and the checkpoints (with the run configuration).
 *
 * Write order, so that a kill at any instant leaves a directory a resume
 * puts right: the metrics line is flushed and fsynced first, then best is
 * renamed into place, then last. A resume restarts from last, whose epoch
 * is never ahead of the metrics, and drops the metrics lines after it
 * (run_log_truncate); best is never older than the best epoch last knows
 * of, since it lands first. */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#include "train/run.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* A classifier's one metric is accuracy; a regression's are rmse, mae
     * and r2 (in the targets' units), each as train_ and val_. */
    const int acc = e->n_metrics > 0 && !strcmp(e->metric_names[0], "acc");
    cg_json_add_number(o, "train_loss", e->train_loss);
    if (acc) cg_json_add_number(o, "train_accuracy", e->train_acc);
    cg_json_add_number(o, "val_loss", e->val_loss);
    if (acc) cg_json_add_number(o, "val_accuracy", e->val_acc);
    for (int i = 0; !acc && i < e->n_metrics; i++) {
        char key[64];
        snprintf(key, sizeof key, "train_%s", e->metric_names[i]);
        cg_json_add_number(o, key, e->train_metrics[i]);
        snprintf(key, sizeof key, "val_%s", e->metric_names[i]);
        cg_json_add_number(o, key, e->val_metrics[i]);
    }
    cJSON_AddNumberToObject(o, "seconds", e->seconds);
    cJSON_AddNumberToObject(o, "examples_per_second", e->examples_per_second);
    cJSON_AddNumberToObject(o, "lr", cg_optimizer_lr(log->opt));
    char *s = cg_json_text(o);
    if (!s || fprintf(log->f, "%s\n", s) < 0 || fflush(log->f) != 0 || fsync(fileno(log->f)) != 0) {
        snprintf(log->error, sizeof log->error, "writing %s/metrics.jsonl failed", log->dir);
        log->failed = 1;
    }
    cg_free(s);
    return log->failed;
}

int cg_run_log_epoch(const cg_epoch_metrics *e, void *user)
{
    run_log *log = user;
    if (log->f && write_metrics(log, e)) return 1;
    if (log->dir && ((e->improved && save_checkpoint(log, e, "best.safetensors")) ||
                     save_checkpoint(log, e, "last.safetensors")))
        return 1;
    return log->on_epoch ? log->on_epoch(e, log->user) : 0;
}

/* The epoch of a metrics line, or -1 if it is not a whole JSON object
 * with one (a line cut short by a kill). */
static int line_epoch(const char *line, size_t n)
{
    char *copy = cg_malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, line, n);
    copy[n] = 0;
    cJSON *o = cJSON_Parse(copy);
    cg_free(copy);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "epoch");
    int epoch = cJSON_IsNumber(e) ? (int)e->valuedouble : -1;
    cJSON_Delete(o);
    return epoch;
}

int cg_run_log_truncate(const char *path, int epochs)
{
    FILE *f = fopen(path, "rb");
    if (!f) return CG_OK; /* nothing logged yet */
    char *text = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[65536];
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = 2 * (len + k + 1);
            char *t = cg_realloc(text, cap);
            if (!t) {
                cg_free(text);
                fclose(f);
                return cg_error(CG_ERR_MEMORY, "out: reading %s: out of memory", path);
            }
            text = t;
        }
        memcpy(text + len, chunk, k);
        len += k;
    }
    fclose(f);
    /* Keep whole lines of epochs 1..epochs, in order; stop at the first
     * that is cut short, out of order or past the checkpoint. */
    size_t keep = 0;
    int want = 1;
    for (size_t at = 0; at < len && want <= epochs;) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) break;
        size_t n = (size_t)(nl - (text + at));
        if (line_epoch(text + at, n) != want) break;
        at += n + 1;
        keep = at;
        want++;
    }
    int rc = CG_OK;
    if (keep < len) {
        char tmp[CG_PATH_LEN + 32];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
        FILE *w = fopen(tmp, "wb");
        if (!w || fwrite(text, 1, keep, w) != keep || fflush(w) != 0 || fsync(fileno(w)) != 0) {
            rc = cg_error(CG_ERR_IO, "out: cannot rewrite %s", path);
            if (w) fclose(w);
            remove(tmp);
        } else if (fclose(w) != 0 || rename(tmp, path) != 0) {
            rc = cg_error(CG_ERR_IO, "out: cannot rewrite %s", path);
            remove(tmp);
        }
    }
    cg_free(text);
    return rc;
}
