/* train.h: what the files of `cgrad train` share. */
#ifndef CG_CLI_TRAIN_H
#define CG_CLI_TRAIN_H

#include "cgrad.h"
#include "cli/cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* The command's options: the run configuration its flags fill, and what
 * belongs to this invocation only. */
typedef struct train_opts {
    cg_run_config cfg;
    char out[CG_PATH_LEN];
    char resume[CG_PATH_LEN];
    int threads, json, quiet;
} train_opts;

/* The per-epoch callback's state (cg_fit_options.user). */
typedef struct epoch_log {
    FILE *f;                 /* DIR/metrics.jsonl or NULL                 */
    const char *dir;         /* --out, for the checkpoints, or NULL       */
    cg_model *model;
    cg_optimizer *opt;
    const cg_normalizer *nz;
    const char *config;      /* the run configuration, in each checkpoint */
    int failed;
    char error[512];
} epoch_log;

/* cg_epoch_callback: DIR/last.safetensors, DIR/best.safetensors when the
 * validation accuracy improved, and a line of DIR/metrics.jsonl. */
int train_on_epoch(const cg_epoch_metrics *e, void *user);
/* v as a JSON number, or null when it is not finite. */
void train_json_number(cJSON *o, const char *key, double v);

#endif
