/* SPDX-License-Identifier: MIT */
/* train.h: what the files of `cgrad train` share. */
#ifndef CG_CLI_TRAIN_H
#define CG_CLI_TRAIN_H

#include "cgrad.h"
#include "cli/cli.h"

/* The command's options: the run configuration its flags fill, and what
 * belongs to this invocation only. */
typedef struct train_opts {
    cg_run_config cfg;
    char out[CG_PATH_LEN];
    char resume[CG_PATH_LEN];
    int threads, json, quiet;
} train_opts;

#endif
