/* SPDX-License-Identifier: MIT */
/* tune_run.h: what the `cgrad tune` files share: a trial's result record,
 * running one trial as a child `cgrad train` process, and results.jsonl. */
#ifndef CG_CLI_TUNE_RUN_H
#define CG_CLI_TUNE_RUN_H

#include <stdio.h>
#include <sys/types.h>

#include "tune/tune.h"

typedef struct tune_epoch {
    int epoch;
    double train_loss, train_acc, val_loss, val_acc, seconds, lr;
} tune_epoch;

enum { TRIAL_OK, TRIAL_FAILED, TRIAL_STOPPED };

/* One finished trial, as a line of results.jsonl. */
typedef struct tune_record {
    int id, round, index;
    int rank;      /* the MPI rank that ran it (0 without MPI) */
    uint64_t seed; /* the trial's `cgrad train --seed` */
    cg_tune_point point;
    int status;
    char reason[512];
    tune_epoch *epochs; /* malloc'd */
    int n_epochs, cap_epochs;
    double val_acc, test_acc, seconds; /* NaN when unknown */
} tune_record;

/* What every trial of a search shares. */
typedef struct tune_ctx {
    const char *exe;        /* the cgrad binary to run */
    const char *out;        /* the search's directory */
    uint64_t seed;          /* the search's --seed */
    char **train_argv;      /* flags given to every trial (data, epochs, `--` rest) */
    int train_argc;
    int threads;            /* --threads of each trial */
    int epochs;             /* epochs of a trial unless an "epochs" parameter says */
    const cg_tune_space *space;
    int rank;               /* this process's MPI rank (0 without MPI) */
} tune_ctx;

/* A trial while it runs. */
typedef struct tune_trial {
    tune_record rec;
    pid_t pid;
    char dir[1024];
    long metrics_offset;    /* bytes of metrics.jsonl already read */
    double started;         /* monotonic seconds */
    int epochs_total;
    int stop_requested;     /* SIGTERM sent by early stopping */
    double last_shown;      /* when its progress was last printed */
} tune_trial;

void tune_record_free(tune_record *r);
/* Seconds on a monotonic clock. */
double tune_now(void);

/* The `cgrad train` argv of a trial (without --out/--json/--quiet/--threads
 * unless `full`), malloc'd strings in a malloc'd NULL-terminated array; NULL
 * on failure. tune_argv_free frees it. */
char **tune_trial_argv(const tune_ctx *c, const tune_record *r, int full, const char *dir);
void tune_argv_free(char **argv);
/* The same as one shell-quoted line, malloc'd ("cgrad train ..."). */
char *tune_trial_command(const tune_ctx *c, const tune_record *r);

/* Start trial (round, index) at point `pt`: fork and exec `cgrad train` into
 * OUT/trials/rROUND-INDEX. 0, or -1 with a message on stderr. */
int tune_trial_start(const tune_ctx *c, tune_trial *t, int id, int round, int index,
                     const cg_tune_point *pt);
/* Read new epochs from the trial's metrics.jsonl; 1 if a new epoch came. */
int tune_trial_poll_metrics(tune_trial *t);
/* Non-blocking: 1 if the trial has exited (its record is then complete), 0
 * if it still runs. */
int tune_trial_reap(tune_trial *t);
/* Kill a running trial (SIGTERM, then wait for it). */
void tune_trial_kill(tune_trial *t);
/* Run one trial to the end and fill `out` (blocking). */
int tune_trial_run(const tune_ctx *c, int id, int round, int index, const cg_tune_point *pt,
                   tune_record *out);

/* A record as one JSON line (malloc'd, no newline). */
char *tune_record_json(const tune_ctx *c, const tune_record *r);
/* Parse a metrics.jsonl line. 0 on success. */
int tune_parse_epoch(const char *line, tune_epoch *e);
/* The same from a parsed object (a metrics.jsonl line, or an element of a
 * results.jsonl record's "epochs"): 0, or -1 without an epoch >= 1. */
struct cJSON;
int tune_epoch_from_json(const struct cJSON *o, tune_epoch *e);
/* A number field of o, NaN when missing or not a number. */
double tune_json_number(const struct cJSON *o, const char *key);
/* One line of results.jsonl into a record (its point parsed with the
 * space): 0; 1 if it is not a JSON object; -1 if it does not fit the space.
 * On failure `err` says why and there is nothing to free. */
int tune_record_parse(const char *line, const cg_tune_space *s, tune_record *r, char *err,
                      size_t err_size);
/* The lines of `text` (results.jsonl read from `path`) into malloc'd
 * records; lines that are not JSON (cut short by a crash) are skipped. 0,
 * or -1 (with a message on stderr if `verbose`); the records read so far
 * are then in *recs, *n. */
int tune_results_parse(const char *text, const char *path, const cg_tune_space *s, int verbose,
                       tune_record **recs, int *n);

/* A search: its settings, and every finished trial so far. */
typedef struct tune_search {
    tune_ctx ctx;
    cg_tune_space orig, cur;   /* the given space; this round's ranges */
    int trials, grid, rounds, keep, jobs, early_median, quiet;
    double margin;
    tune_record *recs;         /* finished trials, resumed ones included */
    int n_recs, cap_recs;
    FILE *results;             /* OUT/results.jsonl, appended and flushed (rank 0) */
    int tty, live_lines;
    /* Under mpirun, rank `rank` of `size` runs the todo trials k with
     * k % size == rank; only rank 0 writes files and prints. */
    cg_dist *dist;
    int rank, size;
} tune_search;

/* Run every round; records land in s->recs and results.jsonl. Under MPI
 * the ranks swap their records after each round, so that every rank holds
 * them all. CLI_OK, or CLI_FAIL (interrupted: 128 + the signal is returned
 * after stopping the trials). */
int tune_search_run(tune_search *s);
/* The records sorted best first (val accuracy, failed last; ties by id):
 * a malloc'd array of indices into s->recs. */
int *tune_search_ranking(const tune_search *s, int max_round);
/* "lr=0.001 optimizer=adam ..." */
void tune_format_params(const cg_tune_space *sp, const cg_tune_point *pt, char *buf, size_t size);

/* `cgrad plot DIR`: SVG charts of a search's results.jsonl into DIR. */
int tune_plot_dir(const char *dir, int quiet);

#endif
