/* SPDX-License-Identifier: MIT */
/* watch.c: `cgrad watch DIR`: follow a running `cgrad train --out DIR`
 * ("panda" mode): print each epoch of DIR/metrics.jsonl as it is written. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/tune_run.h"

void cli_watch_help(FILE *f)
{
    fprintf(f, "usage: cgrad watch DIR [flags]\n"
               "\n"
               "Follow a training run started with `cgrad train --out DIR`: print each epoch\n"
               "of DIR/metrics.jsonl (or of the .jsonl file given) as it is appended.\n"
               "\n"
               "  --interval S   seconds between looks at the file (default 1)\n"
               "  --idle S       stop after S seconds without a new epoch (default: never;\n"
               "                 Ctrl-C stops)\n"
               "  --once         print what is there now and stop\n"
               "  --help         this text\n");
}

static void print_epoch(const tune_epoch *e)
{
    printf("%5d  %10.4f  %9.4f  %8.4f  %7.4f  %9.3g  %7.1f\n", e->epoch, e->train_loss,
           e->train_acc, e->val_loss, e->val_acc, e->lr, e->seconds);
    fflush(stdout);
}

int cli_watch(int argc, char **argv)
{
    const char *dir = NULL;
    double interval = 1, idle = 0;
    int once = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            cli_watch_help(stdout);
            return CLI_OK;
        }
        if (strcmp(f, "--once") == 0) once = 1;
        else if (strcmp(f, "--interval") == 0 || strcmp(f, "--idle") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "cgrad watch: %s needs a value (see `cgrad watch --help`)\n", f);
                return CLI_USAGE;
            }
            if (cli_parse_double(f, argv[++i], 0.01, 1e6, strcmp(f, "--idle") ? &interval : &idle))
                return CLI_USAGE;
        } else if (f[0] == '-' || dir) {
            fprintf(stderr, "cgrad watch: unexpected argument '%s' (see `cgrad watch --help`)\n", f);
            return CLI_USAGE;
        } else {
            dir = f;
        }
    }
    if (!dir) {
        fprintf(stderr, "cgrad watch: which run? `cgrad watch DIR` (see `cgrad watch --help`)\n");
        return CLI_USAGE;
    }
    /* A tune_trial reads the file incrementally, whole lines only. */
    tune_trial t;
    memset(&t, 0, sizeof t);
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
    printf("epoch  train_loss  train_acc  val_loss  val_acc         lr  seconds\n");
    double last = tune_now();
    struct timespec nap = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
    for (;;) {
        int shown = t.rec.n_epochs;
        if (tune_trial_poll_metrics(&t)) last = tune_now();
        for (int i = shown; i < t.rec.n_epochs; i++) print_epoch(&t.rec.epochs[i]);
        if (once || (idle > 0 && tune_now() - last > idle)) break;
        nanosleep(&nap, NULL);
    }
    int rc = t.rec.n_epochs > 0 ? CLI_OK : CLI_FAIL;
    if (rc) fprintf(stderr, "cgrad watch: no epochs in %s/metrics.jsonl yet\n", t.dir);
    tune_record_free(&t.rec);
    return rc;
}
