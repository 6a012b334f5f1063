/* SPDX-License-Identifier: MIT */
/* train.h: what train.c and train_log.c share. */
#ifndef CG_CLI_TRAIN_H
#define CG_CLI_TRAIN_H

#include "cgrad.h"
#include "cli/cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* The per-epoch callback's state (cg_fit_options.user). */
typedef struct epoch_log {
    FILE *f;                 /* DIR/metrics.jsonl or NULL                 */
    const char *dir;         /* --out, for the checkpoints, or NULL       */
    cg_model *model;
    cg_optimizer *opt;
    const cg_normalizer *nz;
    const char *extra;       /* the flags, kept in each checkpoint        */
    int failed;
    char error[512];
} epoch_log;

/* cg_epoch_callback: DIR/last.safetensors, DIR/best.safetensors when the
 * validation accuracy improved, and a line of DIR/metrics.jsonl. */
int train_on_epoch(const cg_epoch_metrics *e, void *user);
/* v as a JSON number, or null when it is not finite. */
void train_json_number(cJSON *o, const char *key, double v);
/* The flags as {"argv": [...]} (malloc'd), without --resume. */
char *train_flags_json(int argc, char **argv);
/* argv for a resumed run: "train", the checkpoint's flags (its "train"
 * metadata, extra), then the flags given now; later flags win. NULL with a
 * message on stderr on error. */
char **train_resume_argv(const char *path, const char *extra, int argc, char **argv, int *out_argc);
void train_free_argv(char **v, int n);

#endif
