/* SPDX-License-Identifier: MIT */
/* watch.c: `cgrad watch DIR`: follow a running `cgrad train --out DIR`
 * ("panda" mode): print each epoch of DIR/metrics.jsonl as it is written,
 * and stop when the run ends (its writer's lock on DIR is released). */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/flags.h"

typedef struct watch_args {
    double interval, idle;
    int once;
} watch_args;

static const cli_flag flags[] = {
    {.name = "--interval", .value = "S", .set = cli_set_double,
     .offset = offsetof(watch_args, interval), .lo = 0.01, .hi = 1e6, .example = "0.5",
     .help = "seconds between looks at the file (default 1)"},
    {.name = "--idle", .value = "S", .set = cli_set_double, .offset = offsetof(watch_args, idle),
     .lo = 0.01, .hi = 1e6, .example = "60", .conflicts = "--once",
     .help = "stop after S seconds without a new epoch (default: never; Ctrl-C stops)"},
    {.name = "--once", .offset = offsetof(watch_args, once),
     .help = "print what is there now and stop"},
};

const cli_command_flags cli_watch_flags = {
    .command = "watch",
    .usage = "cgrad watch DIR [flags]",
    .summary = "Follow a training run started with `cgrad train --out DIR`: print each epoch\n"
               "of DIR/metrics.jsonl (or of the .jsonl file given) as it is appended, and\n"
               "stop when the run ends (exit 0; 1 if it ended without an epoch). A finished\n"
               "run's epochs are printed at once; before a run starts in DIR, watch waits.\n"
               "A DIR that does not exist is an error (exit 2).",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};

/* The header comes with the first epoch: a regression's lines have R2
 * where a classifier's have accuracy. */
static void print_epoch(const cg_tune_epoch *e, int first)
{
    const int r2 = isnan(e->train_acc) && (!isnan(e->train_r2) || !isnan(e->val_r2));
    if (first)
        printf("epoch  train_loss  %s  val_loss  %s         lr  seconds\n", r2 ? " train_r2" : "train_acc",
               r2 ? " val_r2" : "val_acc");
    printf("%5d  %10.4f  %9.4f  %8.4f  %7.4f  %9.3g  %7.1f\n", e->epoch, e->train_loss,
           r2 ? e->train_r2 : e->train_acc, e->val_loss, r2 ? e->val_r2 : e->val_acc, e->lr, e->seconds);
    fflush(stdout);
}

int cli_watch(int argc, char **argv)
{
    const char *dir = NULL;
    watch_args a = {.interval = 1};
    unsigned char given[sizeof flags / sizeof *flags];
    int prc = cli_parse_flags(&cli_watch_flags, argc, argv, &a, given, &dir);
    if (prc) return prc == 1 ? CLI_OK : prc;
    if (!dir) return cli_usage("watch", "which run? `cgrad watch DIR`");
    /* cg_metrics_poll reads the file incrementally, whole lines only. */
    struct {
        char dir[CG_PATH_LEN + 8];
        cg_tune_record rec;
    } t;
    memset(&t, 0, sizeof t);
    long offset = 0;
    char path[CG_PATH_LEN + 32];
    size_t n = strlen(dir);
    if (n > 6 && strcmp(dir + n - 6, ".jsonl") == 0) {
        const char *slash = strrchr(dir, '/');
        if (slash && strcmp(slash + 1, "metrics.jsonl") == 0)
            snprintf(t.dir, sizeof t.dir, "%.*s", (int)(slash - dir), dir);
        else {
            fprintf(stderr, "cgrad watch: give the run's directory or its metrics.jsonl\n");
            return CLI_USAGE;
        }
    } else {
        snprintf(t.dir, sizeof t.dir, "%s", dir);
    }
    struct stat st;
    if (stat(t.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cgrad watch: run directory '%s' %s\n", t.dir,
                errno == ENOENT ? "does not exist" : "is not a directory");
        return CLI_USAGE;
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", t.dir);
    double last = cli_seconds();
    struct timespec nap = {(time_t)a.interval, (long)((a.interval - floor(a.interval)) * 1e9)};
    int seen_writer = 0, said_waiting = 0;
    for (;;) {
        /* Asked before reading: every line the writer wrote before it let
         * go of the lock is in the file by the time it is read. */
        int held = cg_run_dir_holder(t.dir, NULL);
        if (held < 0) {
            fprintf(stderr, "cgrad watch: %s\n", cg_last_error());
            cg_tune_record_free(&t.rec);
            return CLI_FAIL;
        }
        seen_writer |= held;
        int shown = t.rec.n_epochs;
        if (cg_metrics_poll(path, &offset, &t.rec)) last = cli_seconds();
        for (int i = shown; i < t.rec.n_epochs; i++) print_epoch(&t.rec.epochs[i], i == 0);
        if (a.once || (a.idle > 0 && cli_seconds() - last > a.idle)) break;
        /* The run has ended: its writer was seen, or it left epochs. */
        if (!held && (seen_writer || t.rec.n_epochs > 0)) break;
        if (!held && !said_waiting) {
            fprintf(stderr, "cgrad watch: no run in '%s' yet; waiting for one to start\n", t.dir);
            said_waiting = 1;
        }
        nanosleep(&nap, NULL);
    }
    int rc = t.rec.n_epochs > 0 ? CLI_OK : CLI_FAIL;
    if (rc) fprintf(stderr, "cgrad watch: no epochs in %s/metrics.jsonl%s\n", t.dir,
                    seen_writer ? ": the run ended without one" : " yet");
    cg_tune_record_free(&t.rec);
    return rc;
}
