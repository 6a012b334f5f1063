/* SPDX-License-Identifier: MIT */
/* cli.h: what the cgrad command's files share. */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdio.h>

#if defined(__GNUC__)
#define CLI_PRINTF __attribute__((format(printf, 1, 2)))
#define CLI_PRINTF_2 __attribute__((format(printf, 2, 3)))
#else
#define CLI_PRINTF
#define CLI_PRINTF_2
#endif

#include "cgrad.h"

/* The MPI job this process belongs to (NULL: not started by mpirun). */
extern cg_dist *cli_dist;

/* Exit statuses: success, a failure while running, a usage or input
 * error, a training run that diverged. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_DIVERGED = 3 };

/* `cgrad train [flags]`: argv[0] is "train". */
int cli_train(int argc, char **argv);

/* `cgrad export --model CKPT --c DIR`: argv[0] is "export". */
int cli_export(int argc, char **argv);

/* `cgrad tune`, `cgrad plot DIR`, `cgrad watch DIR`: argv[0] is the command. */
int cli_tune(int argc, char **argv);
int cli_plot(int argc, char **argv);
/* SVG charts of the search in dir (its results.jsonl) into dir. */
int tune_plot_dir(const char *dir, int quiet);
int cli_watch(int argc, char **argv);

/* `cgrad demo NAME [flags]`: argv[0] is "demo". */
int cli_demo(int argc, char **argv);
/* argv[0] is the demo's name. */
int cli_demo_saddle(int argc, char **argv);
int cli_demo_softmax2d(int argc, char **argv);

/* `cgrad eval` and `cgrad predict`: argv[0] is the command. */
int cli_eval(int argc, char **argv);
int cli_predict(int argc, char **argv);

/* "cgrad <cmd>: <message> (see `cgrad <cmd> --help`)" on stderr; returns
 * CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) CLI_PRINTF_2;

/* --precision of eval and predict on a loaded model (auto says its choice
 * on stderr); CLI_OK, or CLI_USAGE naming the flag when bf16 cannot run. */
int cli_model_precision(const char *cmd, cg_model *m, int precision);

/* "cgrad: <message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF;
/* Seconds on the monotonic clock, for intervals (watch, tune's display). */
double cli_seconds(void);
/* Parse a flag's value; on error record why (cli_bad_value), return -1. */
int cli_parse_int(const char *s, long lo, long hi, int *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);
/* A flag setter's error: records why the value is bad, returns -1; the
 * parser (cli_parse_flags) prints it with the command and the flag, like
 * every other usage error. */
int cli_bad_value(const char *fmt, ...) CLI_PRINTF;
/* The reason recorded since the last call ("" if none), then cleared. */
const char *cli_take_bad_value(void);

#endif
