/* SPDX-License-Identifier: MIT */
/* tune.c: `cgrad tune`: hyperparameter search over `cgrad train` runs:
 * flags, the search space, and the final report. */
#define _POSIX_C_SOURCE 200809L /* readlink, sysconf */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/tune_run.h"

void cli_tune_help(FILE *f)
{
    fprintf(f,
"usage: cgrad tune [flags] [-- cgrad-train-flags...]\n"
"\n"
"Search hyperparameters: run many `cgrad train` trials with sampled settings,\n"
"keep the best by validation accuracy, and print it as a command line.\n"
"\n"
"search space (at least one parameter):\n"
"  --param NAME=DIST:ARGS   add a parameter (repeatable); DIST is one of\n"
"        uniform:A:B        uniform in [A, B]\n"
"        loguniform:A:B     log10 uniform, A > 0 (e.g. lr=loguniform:1e-4:1)\n"
"        one_minus_log:A:B  1 - 10^u with 1 - value log-uniform in [A, B] within\n"
"                           (0, 1): beta2=one_minus_log:1e-4:1e-1 is 0.9 ... 0.9999\n"
"        int:A:B            integers A..B, equally likely\n"
"        intlog:A:B         integers A..B, uniform in log (batch=intlog:32:512)\n"
"        choice:X,Y,Z       one of the values; separate with | when they hold\n"
"                           commas (hidden=choice:256,256|512|none)\n"
"  --space FILE             parameters from a JSON object, e.g.\n"
"                           {\"lr\": \"loguniform:1e-4:1\", \"optimizer\": [\"adam\",\n"
"                           \"rmsprop\"], \"hidden\": [\"256,256\", \"512\"]}\n"
"  NAMEs: lr optimizer momentum beta1 beta2 eps batch weight_decay dropout\n"
"  lr_decay activation epochs bn (choice:0,1) hidden (choice of lists), and\n"
"  units + layers (--hidden UNITS repeated LAYERS times; alone, units keeps 2\n"
"  layers and layers keeps 256 units). Each maps to the `cgrad train` flag;\n"
"  with optimizer sampled, momentum/beta1/beta2/eps only where it uses them.\n"
"\n"
"search:\n"
"  --trials N         random trials per round (default 20)\n"
"  --grid K           grid search instead: K points per numeric parameter (ends\n"
"                     included, on its scale) times every choice\n"
"  --seed S           search seed (default 1): trial i of round r gets parameters\n"
"                     and a train --seed from (S, r, i) alone\n"
"  --rounds R         coarse to fine: R rounds (default 1); after each, every\n"
"                     numeric range shrinks to the span (on its scale) of the\n"
"                     --keep best trials so far, widened by --margin of that\n"
"                     span each side (at least margin/2 of the original range),\n"
"                     within the original range; a choice keeps the values the\n"
"                     best used\n"
"  --keep K           trials that set the next round's ranges (default 5)\n"
"  --margin F         widening of the kept span (default 0.1)\n"
"  --early-stop RULE  none (default) or median: stop a trial whose val accuracy\n"
"                     after an epoch is below the median of finished trials at\n"
"                     that epoch (once 3 have finished it)\n"
"  --jobs J           trials run at once, as separate processes (default 1)\n"
"  --threads T        threads per trial (default: cores / J, at least 1)\n"
"\n"
"passed to every trial (more after `--`, or --train-args 'FLAGS'):\n"
"  --data SPEC --test FILE --label COL --subset N --val-split F (must be > 0)\n"
"  --epochs N         epochs per trial (default 1)\n"
"\n"
"output:\n"
"  --out DIR          DIR/results.jsonl (one object per finished trial: id,\n"
"                     round, index, seed, rank, params, status, reason,\n"
"                     val_accuracy, test_accuracy, seconds, epochs, command),\n"
"                     DIR/tune.json\n"
"                     (each round's ranges), DIR/trials/rR-IIII/ (each trial's\n"
"                     metrics.jsonl, stdout, stderr) (default tune-out)\n"
"  --resume           continue DIR: trials already in results.jsonl are kept\n"
"                     and not run again (give the same flags)\n"
"  --plot             write SVG charts into DIR at the end (as `cgrad plot DIR`)\n"
"  --quiet            no live table, only the result\n"
"  --json             end with one JSON line: the best trial and its command\n"
"  --help             this text\n"
"\n"
"A trial that fails (bad flags, a diverged loss) is recorded with its reason and\n"
"the search goes on. Ctrl-C stops the running trials and keeps the finished.\n"
"\n"
"Under MPI (mpirun -np N cgrad tune ...) each rank runs every N-th trial of a\n"
"round (--jobs at a time, threads shared with the ranks on its node), the ranks\n"
"swap results after each round, and rank 0 writes DIR and prints; without\n"
"--early-stop the results equal a run without mpirun. Median stopping compares\n"
"a trial with the earlier rounds and its own rank's finished trials. Ctrl-C\n"
"under mpirun is best effort: trials of finished rounds and rank 0's are kept;\n"
"--resume runs the rest.\n");
}

static int usage(const char *fmt, const char *a)
{
    fprintf(stderr, "cgrad tune: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, " (see `cgrad tune --help`)\n");
    return CLI_USAGE;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + n, 1, 4096, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = 0;
    return buf;
}

typedef struct tune_args {
    char **train;          /* flags for every trial */
    int n_train;
    const char *out;
    int resume, plot, json, threads;
    uint64_t seed;
} tune_args;

static int push_train(tune_args *a, const char *s)
{
    char **p = realloc(a->train, (size_t)(a->n_train + 2) * sizeof *p);
    if (!p) return -1;
    a->train = p;
    if (!(a->train[a->n_train] = strdup(s))) return -1;
    a->train[++a->n_train] = NULL;
    return 0;
}

static int push_words(tune_args *a, const char *s)
{
    char *copy = strdup(s);
    if (!copy) return -1;
    int rc = 0;
    for (char *w = strtok(copy, " \t\n"); w && !rc; w = strtok(NULL, " \t\n")) rc = push_train(a, w);
    free(copy);
    return rc;
}

/* 0, 1 for --help, or CLI_USAGE. */
static int parse_args(int argc, char **argv, tune_args *a, tune_search *s)
{
    int epochs = 1, have_space = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) return 1;
        if (strcmp(f, "--") == 0) {
            for (i++; i < argc; i++)
                if (push_train(a, argv[i])) return CLI_FAIL;
            break;
        }
        if (strcmp(f, "--resume") == 0) { a->resume = 1; continue; }
        if (strcmp(f, "--plot") == 0) { a->plot = 1; continue; }
        if (strcmp(f, "--json") == 0) { a->json = 1; continue; }
        if (strcmp(f, "--quiet") == 0) { s->quiet = 1; continue; }
        static const char *const valued[] = {
            "--param", "--space", "--trials", "--grid", "--seed", "--rounds", "--keep",
            "--margin", "--early-stop", "--jobs", "--threads", "--data", "--test", "--label",
            "--subset", "--val-split", "--epochs", "--out", "--train-args"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) known |= !strcmp(f, valued[k]);
        if (!known) return usage(strncmp(f, "--", 2) ? "unexpected argument '%s'"
                                                      : "unknown flag '%s'", f);
        if (i + 1 >= argc) return usage("%s needs a value", f);
        const char *v = argv[++i];
        if (strcmp(f, "--param") == 0) {
            if (cg_tune_space_add(&s->orig, v)) return usage("%s", cg_last_error());
            have_space = 1;
        } else if (strcmp(f, "--space") == 0) {
            char *text = read_file(v);
            if (!text) {
                fprintf(stderr, "cgrad tune: --space: cannot read '%s': %s\n", v, strerror(errno));
                return CLI_USAGE;
            }
            int rc = cg_tune_space_add_json(&s->orig, text);
            free(text);
            if (rc) {
                fprintf(stderr, "cgrad tune: --space %s: %s\n", v, cg_last_error());
                return CLI_USAGE;
            }
            have_space = 1;
        } else if (strcmp(f, "--trials") == 0) {
            if (cli_parse_int(f, v, 1, 100000, &s->trials)) return CLI_USAGE;
        } else if (strcmp(f, "--grid") == 0) {
            if (cli_parse_int(f, v, 1, 1000, &s->grid)) return CLI_USAGE;
        } else if (strcmp(f, "--rounds") == 0) {
            if (cli_parse_int(f, v, 1, 1000, &s->rounds)) return CLI_USAGE;
        } else if (strcmp(f, "--keep") == 0) {
            if (cli_parse_int(f, v, 1, 256, &s->keep)) return CLI_USAGE;
        } else if (strcmp(f, "--jobs") == 0) {
            if (cli_parse_int(f, v, 1, 1024, &s->jobs)) return CLI_USAGE;
        } else if (strcmp(f, "--threads") == 0) {
            if (cli_parse_int(f, v, 1, 4096, &a->threads)) return CLI_USAGE;
        } else if (strcmp(f, "--margin") == 0) {
            if (cli_parse_double(f, v, 0, 10, &s->margin)) return CLI_USAGE;
        } else if (strcmp(f, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long x = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-')
                return usage("--seed: '%s' is not a non-negative integer", v);
            a->seed = (uint64_t)x;
        } else if (strcmp(f, "--early-stop") == 0) {
            if (strcmp(v, "median") == 0) s->early_median = 1;
            else if (strcmp(v, "none") == 0) s->early_median = 0;
            else return usage("--early-stop: '%s' is not median or none", v);
        } else if (strcmp(f, "--epochs") == 0) {
            if (cli_parse_int(f, v, 1, 1000000, &epochs)) return CLI_USAGE;
        } else if (strcmp(f, "--out") == 0) {
            a->out = v;
        } else if (strcmp(f, "--train-args") == 0) {
            if (push_words(a, v)) return CLI_FAIL;
        } else { /* --data, --test, --label, --subset, --val-split: as given */
            if (strcmp(f, "--val-split") == 0) {
                double vs;
                if (cli_parse_double(f, v, 0, 1, &vs)) return CLI_USAGE;
                if (!(vs > 0 && vs < 1))
                    return usage("--val-split: '%s': the search ranks trials by validation "
                                 "accuracy, so it must be in (0, 1)", v);
            }
            if (push_train(a, f) || push_train(a, v)) return CLI_FAIL;
        }
    }
    if (!have_space)
        return usage("no search space: give --param NAME=DIST:ARGS or --space FILE%s", "");
    s->ctx.epochs = epochs;
    if (cg_tune_space_find(&s->orig, "epochs") < 0) {
        char e[32];
        snprintf(e, sizeof e, "%d", epochs);
        if (push_train(a, "--epochs") || push_train(a, e)) return CLI_FAIL;
    }
    return 0;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Rank 0 checks --out and creates it, then tells the other ranks whether
 * to go on, with the results.jsonl to resume from, in one allgather: a
 * line "STATUS" and the file. The others create --out after that (it may
 * be on another machine's disk), so they never mistake rank 0's fresh
 * directory for an earlier search. Every rank returns the same status. */
static int open_out(tune_search *s, const tune_args *a)
{
    char path[4096], trials[4200];
    snprintf(path, sizeof path, "%s/results.jsonl", a->out);
    snprintf(trials, sizeof trials, "%s/trials", a->out);
    char *msg = NULL;
    int rc = CLI_OK;
    if (s->rank == 0) {
        struct stat st;
        char *text = NULL;
        if (!a->resume && stat(path, &st) == 0)
            rc = usage("--out: '%s' holds a search already: --resume it or choose another --out",
                       a->out);
        else if (a->resume && !(text = read_file(path)) && errno != ENOENT)
            rc = cli_fail("tune: --resume: cannot read '%s': %s", path, strerror(errno));
        else if (make_dir(a->out) || make_dir(trials) || !(s->results = fopen(path, "a")))
            rc = cli_fail("tune: --out: cannot write in '%s': %s", a->out, strerror(errno));
        size_t n = text ? strlen(text) : 0;
        if ((msg = malloc(n + 16))) snprintf(msg, n + 16, "%d\n%s", rc, text ? text : "");
        free(text);
        if (!msg) rc = cli_fail("tune: out of memory");
    }
    if (s->size > 1) {
        char *all = NULL;
        size_t n_all = 0;
        if (cg_dist_allgather(s->dist, msg ? msg : "", msg ? strlen(msg) : 0, &all, &n_all)) {
            free(msg);
            return cli_fail("tune: %s", cg_last_error());
        }
        free(msg);
        msg = all; /* only rank 0 sent anything */
        rc = *msg ? atoi(msg) : CLI_FAIL;
        if (rc == CLI_OK && s->rank != 0 && (make_dir(a->out) || make_dir(trials)))
            rc = cli_fail("tune: --out: cannot write in '%s': %s", a->out, strerror(errno));
    }
    if (rc == CLI_OK && a->resume) {
        const char *text = strchr(msg, '\n') + 1;
        if (tune_results_parse(text, path, &s->orig, s->rank == 0, &s->recs, &s->n_recs))
            rc = CLI_USAGE;
    }
    s->cap_recs = s->n_recs;
    free(msg);
    return rc;
}

static void report(tune_search *s, const tune_args *a)
{
    int *rank = tune_search_ranking(s, 1 << 30);
    if (!rank) return;
    int n_ok = 0, n_failed = 0;
    for (int i = 0; i < s->n_recs; i++) {
        n_ok += s->recs[i].status == TRIAL_OK;
        n_failed += s->recs[i].status == TRIAL_FAILED;
    }
    if (!s->quiet) {
        printf("\n%d trials: %d finished, %d failed, %d stopped early\n", s->n_recs, n_ok,
               n_failed, s->n_recs - n_ok - n_failed);
        printf("rank    id  round  val_acc  test_acc  seconds  status   params\n");
        static const char *const st[] = {"ok", "failed", "stopped"};
        for (int k = 0; rank[k] >= 0 && k < 20; k++) {
            const tune_record *r = &s->recs[rank[k]];
            char params[2048];
            tune_format_params(&s->orig, &r->point, params, sizeof params);
            printf("%4d  %4d  %5d  %7.4f  %8.4f  %7.1f  %-7s  %s\n", k + 1, r->id, r->round,
                   isfinite(r->val_acc) ? r->val_acc : 0.0,
                   isfinite(r->test_acc) ? r->test_acc : 0.0, r->seconds, st[r->status], params);
        }
        if (s->n_recs > 20) printf("... %d more in %s/results.jsonl\n", s->n_recs - 20, a->out);
    }
    const tune_record *best = rank[0] >= 0 && s->recs[rank[0]].status == TRIAL_OK
                                  ? &s->recs[rank[0]] : NULL;
    s->ctx.space = &s->orig;
    char *cmd = best ? tune_trial_command(&s->ctx, best) : NULL;
    if (best && !s->quiet)
        printf("\nbest: trial %d (round %d): val accuracy %.4f, test accuracy %.4f\n%s\n",
               best->id, best->round, best->val_acc, best->test_acc, cmd ? cmd : "");
    else if (!best)
        fprintf(stderr, "cgrad tune: no trial finished\n");
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        if (o) {
            cJSON_AddNumberToObject(o, "trials", s->n_recs);
            cJSON_AddNumberToObject(o, "failed", n_failed);
            if (best) {
                cJSON_AddNumberToObject(o, "best_id", best->id);
                cJSON_AddNumberToObject(o, "val_accuracy", best->val_acc);
                if (isfinite(best->test_acc)) cJSON_AddNumberToObject(o, "test_accuracy", best->test_acc);
                if (cmd) cJSON_AddStringToObject(o, "command", cmd);
            }
            char *text = cJSON_PrintUnformatted(o);
            if (text) printf("%s\n", text);
            free(text);
            cJSON_Delete(o);
        }
    }
    free(cmd);
    free(rank);
}

int cli_tune(int argc, char **argv)
{
    tune_args a;
    memset(&a, 0, sizeof a);
    a.out = "tune-out";
    a.seed = 1;
    tune_search *s = calloc(1, sizeof *s);
    if (!s) return cli_fail("tune: out of memory");
    s->trials = 20;
    s->rounds = 1;
    s->keep = 5;
    s->jobs = 1;
    s->margin = 0.1;
    int rc = parse_args(argc, argv, &a, s);
    if (rc == 1) {
        cli_tune_help(stdout);
        rc = CLI_OK;
        goto done;
    }
    if (rc) goto done;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || n >= (ssize_t)sizeof exe - 1) snprintf(exe, sizeof exe, "/proc/self/exe");
    else exe[n] = 0;
    s->dist = cli_dist;
    s->rank = cg_dist_rank(cli_dist);
    s->size = cg_dist_size(cli_dist);
    s->ctx.rank = s->rank;
    if (s->rank != 0) { /* rank 0 speaks for the search */
        s->quiet = 1;
        a.json = a.plot = 0;
    }
    /* Ranks that share a node share its cores. */
    const char *local = s->size > 1 ? getenv("OMPI_COMM_WORLD_LOCAL_SIZE") : NULL;
    long per_node = local ? strtol(local, NULL, 10) : s->size;
    long cores = sysconf(_SC_NPROCESSORS_ONLN) / (per_node > 1 ? per_node : 1);
    s->ctx.exe = exe;
    s->ctx.out = a.out;
    s->ctx.seed = a.seed;
    s->ctx.train_argv = a.train;
    s->ctx.train_argc = a.n_train;
    s->ctx.threads = a.threads ? a.threads : (int)(cores / s->jobs > 1 ? cores / s->jobs : 1);
    s->ctx.space = &s->orig;
    s->tty = isatty(STDOUT_FILENO);

    rc = open_out(s, &a);
    if (rc) goto done;
    rc = tune_search_run(s);
    if (s->results) fclose(s->results);
    s->results = NULL;
    if ((rc == CLI_OK || rc == CLI_FAIL) && s->rank == 0) report(s, &a);
    if (rc == CLI_OK && a.plot) rc = tune_plot_dir(a.out, s->quiet);
    if (rc == CLI_OK && s->n_recs > 0) {
        int any = 0;
        for (int i = 0; i < s->n_recs; i++) any |= s->recs[i].status == TRIAL_OK;
        if (!any) rc = CLI_FAIL;
    }
done:
    if (s->results) fclose(s->results);
    for (int i = 0; i < s->n_recs; i++) tune_record_free(&s->recs[i]);
    free(s->recs);
    free(s);
    for (int i = 0; i < a.n_train; i++) free(a.train[i]);
    free(a.train);
    return rc;
}
