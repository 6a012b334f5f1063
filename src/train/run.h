/* SPDX-License-Identifier: MIT */
/* run.h: what run.c (a run), choose.c (cg_train) and run_log.c (its run
 * directory) share. */
#ifndef CG_TRAIN_RUN_H
#define CG_TRAIN_RUN_H

#include "internal.h"
#include <stdio.h>

/* The per-epoch callback's state (cg_fit_options.user). */
typedef struct run_log {
    FILE *f;                 /* DIR/metrics.jsonl or NULL                 */
    const char *dir;         /* the run directory, or NULL                */
    cg_model *model;
    cg_optimizer *opt;
    const cg_normalizer *nz;
    const char *config;      /* the run configuration, in each checkpoint */
    cg_epoch_callback on_epoch; /* the caller's, after the files           */
    void *user;
    int failed;
    char error[512];
} run_log;

/* One run of its configuration, as cg_train documents it, without the
 * choice of model (choose.c, which calls it). */
int cg_train_one(const cg_run_config *config, const cg_train_options *opt, cg_train_result *res);
/* A line for o->on_note (printf-style, no newline), if there is one. */
void cg_train_note(const cg_train_options *o, const char *fmt, ...) CG_PRINTF(2, 3);

/* cg_epoch_callback: DIR/last.safetensors, DIR/best.safetensors when the
 * validation accuracy improved, a line of DIR/metrics.jsonl, then the
 * caller's callback. */
int cg_run_log_epoch(const cg_epoch_metrics *e, void *user);
/* Keep the lines of epochs 1..epochs of a metrics.jsonl (a resume's
 * checkpoint epoch), dropping the later ones and any cut short. */
int cg_run_log_truncate(const char *path, int epochs);

#endif
