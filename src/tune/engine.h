/* SPDX-License-Identifier: MIT */
/* engine.h: what the files of cg_tune share: a trial while it runs (a
 * forked child calling cg_train), results.jsonl records, and the search's
 * state. Internal. */
#ifndef CG_TUNE_ENGINE_H
#define CG_TUNE_ENGINE_H

#include <stdio.h>
#include <sys/types.h>

#include "tune/tune.h"

/* A trial while it runs. */
typedef struct tune_trial {
    cg_tune_record rec;
    pid_t pid;
    char dir[CG_PATH_LEN + 64];
    long metrics_offset;    /* bytes of metrics.jsonl already read */
    double started;         /* monotonic seconds */
    int epochs_total;
    int stop_requested;     /* SIGTERM sent by early stopping */
} tune_trial;

/* A search: its options, and every finished trial so far. */
typedef struct tune_search {
    const cg_tune_options *o;
    cg_tune_space orig, cur;   /* the given space; this round's ranges */
    cg_tune_record *recs;      /* finished trials, resumed ones included */
    int n_recs, cap_recs;
    FILE *results;             /* OUT/results.jsonl, appended and flushed (rank 0) */
    int rank, size;            /* under MPI, rank 0 writes the files */
    int interrupted;
} tune_search;

/* The configuration of a trial: the base with the point, and its seed. */
int tune_trial_config(const tune_search *s, const cg_tune_point *pt, uint64_t seed,
                      cg_run_config *out);
/* Start trial (round, index) at point `pt` in a forked child that runs
 * cg_train into OUT/trials/rROUND-INDEX. CG_OK or an error. */
int tune_trial_start(const tune_search *s, tune_trial *t, int id, int round, int index,
                     const cg_tune_point *pt);
/* New epochs from its metrics.jsonl: 1 if one came. */
int tune_trial_poll(tune_trial *t);
/* Non-blocking: 1 if the trial has exited (its record is then complete). */
int tune_trial_reap(tune_trial *t);
/* SIGTERM, then wait for it. */
void tune_trial_kill(tune_trial *t);

/* An epoch from a metrics.jsonl line or a record's "epochs" element: 0, or
 * -1 without an epoch >= 1. */
struct cJSON;
int tune_epoch_from_json(const struct cJSON *o, cg_tune_epoch *e);
/* "val_accuracy" / "test_accuracy", or "val_r2" / "test_r2" for a
 * regression. */
const char *tune_score_key(int task, int test);

/* A record as one results.jsonl line (malloc'd, no newline), and back:
 * 0; 1 if the line is not a JSON object; -1 (err says why) if it does not
 * fit the space. */
char *tune_record_json(const tune_search *s, const cg_tune_record *r);
int tune_record_parse(const tune_search *s, const char *line, cg_tune_record *r, char *err,
                      size_t err_size);
/* The lines of results.jsonl text into s->recs; lines that are not JSON
 * (cut short by a crash) are skipped. CG_OK or CG_ERR_FORMAT. */
int tune_results_parse(tune_search *s, const char *text, const char *path);
/* Append a record to s->recs (taking its epochs). */
int tune_add_record(tune_search *s, const cg_tune_record *r);

#endif
