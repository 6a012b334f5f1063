/* SPDX-License-Identifier: MIT */
/* tune.c: `cgrad tune`: flags -> the search's options (the trials' base
 * run configuration from train's own flags) -> cg_tune -> a live table and
 * the report, with the best trial as a `cgrad train` command line. */
#define _POSIX_C_SOURCE 200809L /* sigaction, sysconf, strdup */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/train.h"

/* The command's options. `train` comes first: the flags passed to every
 * trial fill train.cfg at the offsets train's own table uses. */
typedef struct tune_opts {
    train_opts train;
    cg_tune_options o;
    char out[CG_PATH_LEN];
    int resume, plot, json, quiet, have_space, early;
} tune_opts;

#define TRAIN(f) offsetof(tune_opts, train.cfg.f)
#define OPT(f) offsetof(tune_opts, f)

static int set_param(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    tune_opts *t = target;
    if (cg_tune_space_add(&t->o.space, s)) return cli_bad_value("%s", cg_last_error());
    t->have_space = 1;
    return 0;
}

static int set_space(void *target, const cli_flag *f, const char *path)
{
    (void)f;
    tune_opts *t = target;
    if (path[0] == '{') { /* the JSON itself */
        if (cg_tune_space_add_json(&t->o.space, path)) return cli_bad_value("%s", cg_last_error());
        t->have_space = 1;
        return 0;
    }
    FILE *in = fopen(path, "rb");
    if (!in) return cli_bad_value("cannot read '%s': %s", path, strerror(errno));
    char *text = NULL;
    size_t n = 0, cap = 0, got;
    do {
        char *p = n + 4097 > cap ? realloc(text, cap = 2 * cap + 8192) : text;
        if (!p) break;
        text = p;
        n += got = fread(text + n, 1, 4096, in);
    } while (got > 0);
    fclose(in);
    if (text) text[n] = 0;
    int rc = text ? cg_tune_space_add_json(&t->o.space, text) : CG_ERR_MEMORY;
    free(text);
    if (rc) return cli_bad_value("%s: %s", path, cg_last_error());
    t->have_space = 1;
    return 0;
}

static int set_early(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    if (strcmp(s, "median") && strcmp(s, "none")) return cli_bad_value("'%s' is not median or none", s);
    ((tune_opts *)target)->o.early_median = !strcmp(s, "median");
    return 0;
}

/* Train flags for every trial; those the search sets itself are refused. */
static int parse_train(tune_opts *t, int argc, char **argv)
{
    static const char *const own[] = {"--out", "--resume", "--json", "--quiet", "--threads",
                                      "--seed"};
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < sizeof own / sizeof *own; k++)
            if (!strcmp(argv[i], own[k]))
                return cli_usage("tune", "%s: the search sets it for each trial", argv[i]);
    unsigned char given[64];
    return cli_parse_flags(&cli_train_flags, argc, argv, &t->train, given, NULL);
}

static int set_train_args(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    char *copy = strdup(s);
    char *argv[256] = {"train"};
    int argc = 1;
    for (char *w = copy ? strtok(copy, " \t\n") : NULL; w && argc < 256; w = strtok(NULL, " \t\n"))
        argv[argc++] = w;
    int rc = copy ? parse_train(target, argc, argv) : -1;
    free(copy);
    return rc ? -1 : 0;
}

static const cli_flag flags[] = {
    {.name = "--param", .repeat = 1, .value = "NAME=DIST:ARGS", .set = set_param, .example = "lr=loguniform:1e-4:1",
     .help = "add a parameter to the search space (repeatable); DIST is one of\n"
             "uniform:A:B, loguniform:A:B (log10 uniform, A > 0), one_minus_log:A:B\n"
             "(1 - value log-uniform in [A, B] within (0, 1): beta2=one_minus_log:1e-4:1e-1\n"
             "is 0.9 ... 0.9999), int:A:B, intlog:A:B (integers uniform in log),\n"
             "choice:X,Y,Z (| instead of , when values hold commas: hidden=choice:64,64|128).\n"
             "NAMEs: lr optimizer momentum beta1 beta2 eps batch weight_decay dropout\n"
             "lr_decay activation epochs bn (choice:0,1) hidden (choice of lists), units +\n"
             "layers (UNITS repeated LAYERS times; alone, units keeps 2 layers and layers\n"
             "256 units); with optimizer sampled, momentum/beta1/beta2/eps only where it\n"
             "uses them"},
    {.name = "--space", .repeat = 1, .value = "FILE", .set = set_space,
     .example = "{\"lr\":\"loguniform:1e-4:1\"}",
     .help = "parameters from a JSON object in FILE (or given as the value), e.g. {\"lr\": \"loguniform:1e-4:1\",\n"
             "\"optimizer\": [\"adam\", \"rmsprop\"], \"hidden\": [\"256,256\", \"512\"]}"},
    {.name = "--trials", .value = "N", .set = cli_set_int, .offset = OPT(o.trials), .lo = 1,
     .hi = 100000, .example = "5", .help = "random trials per round (default 20)"},
    {.name = "--grid", .value = "K", .set = cli_set_int, .offset = OPT(o.grid), .lo = 1, .hi = 1000,
     .field = "grid", .example = "3",
     .help = "grid search instead: K points per numeric parameter (ends included, on\n"
             "its scale) times every choice"},
    {.name = "--seed", .value = "S", .set = cli_set_u64, .offset = OPT(o.seed), .example = "3",
     .help = "search seed (default 1): trial i of round r gets parameters and a train\n"
             "seed from (S, r, i) alone"},
    {.name = "--rounds", .value = "R", .set = cli_set_int, .offset = OPT(o.rounds), .lo = 1,
     .hi = 1000, .example = "2",
     .help = "coarse to fine: R rounds (default 1); after each, every numeric range\n"
             "shrinks to the span (on its scale) of the --keep best trials so far,\n"
             "widened by --margin of that span each side (at least margin/2 of the\n"
             "original range), within the original range; a choice keeps the values\n"
             "the best used"},
    {.name = "--keep", .value = "K", .set = cli_set_int, .offset = OPT(o.keep), .lo = 1, .hi = 256,
     .example = "2", .help = "trials that set the next round's ranges (default 5)"},
    {.name = "--margin", .value = "F", .set = cli_set_double, .offset = OPT(o.margin), .lo = 0,
     .hi = 10, .example = "0.2", .help = "widening of the kept span (default 0.1)"},
    {.name = "--early-stop", .value = "RULE", .set = set_early, .example = "median",
     .help = "none (default) or median: stop a trial whose val accuracy (R2 for a\n"
             "regression) after an epoch is below the median of finished trials at that\n"
             "epoch (once 3 have finished it)"},
    {.name = "--jobs", .value = "J", .set = cli_set_int, .offset = OPT(o.jobs), .lo = 1, .hi = 1024,
     .example = "2", .help = "trials run at once, each a process (default 1)"},
    {.name = "--threads", .value = "T", .set = cli_set_int, .offset = OPT(o.threads), .lo = 1,
     .hi = 4096, .example = "1", .help = "threads per trial (default: cores / J, at least 1)"},
    {.name = "--data", .value = "SPEC", .set = cli_set_string, .offset = TRAIN(data.source),
     .field = "data.source", .hi = CG_PATH_LEN, .example = "train.csv",
     .help = "the trials' data (as train's --data)"},
    {.name = "--test", .value = "FILE", .set = cli_set_string, .offset = TRAIN(data.test),
     .field = "data.test", .hi = CG_PATH_LEN, .example = "test.csv",
     .help = "the trials' test set (as train's --test)"},
    {.name = "--label", .value = "COL", .set = cli_set_string, .offset = TRAIN(data.label),
     .field = "data.label", .hi = CG_NAME_LEN * 4, .example = "3",
     .help = "label column (as train's --label)"},
    {.name = "--subset", .value = "N", .set = cli_set_int, .offset = TRAIN(loop.subset), .lo = 1,
     .hi = 2147483647, .field = "loop.subset", .example = "1000",
     .help = "train each trial on the first N examples"},
    {.name = "--val-split", .value = "F", .set = cli_set_double, .offset = TRAIN(loop.val_split),
     .lo = 0, .hi = 0.999999, .field = "loop.val_split", .example = "0.2",
     .help = "fraction held out for validation, which ranks the trials: in (0, 1)\n"
             "(default 0.1)"},
    {.name = "--epochs", .value = "N", .set = cli_set_int, .offset = TRAIN(loop.epochs), .lo = 1,
     .hi = 1000000, .field = "loop.epochs", .example = "2",
     .help = "epochs per trial (default 1), unless an epochs parameter says"},
    {.name = "--train-args", .repeat = 1, .value = "'FLAGS'", .set = set_train_args, .example = "--batch 32",
     .help = "more `cgrad train` flags for every trial (also after `--`)"},
    {.name = "--out", .value = "DIR", .set = cli_set_string, .offset = OPT(out), .hi = CG_PATH_LEN,
     .field = "out", .example = "search",
     .help = "DIR/results.jsonl (one object per finished trial: id, round, index, seed,\n"
             "rank, params, status, reason, val_accuracy, test_accuracy (val_r2,\n"
             "test_r2 for a regression), seconds,\n"
             "epochs, config: the trial's run configuration), DIR/tune.json (each\n"
             "round's ranges), DIR/trials/rR-IIII/ (each trial's run directory)\n"
             "(default tune-out)"},
    {.name = "--resume", .offset = OPT(resume),
     .help = "continue DIR: trials already in results.jsonl are kept and not run again\n"
             "(give the same flags)"},
    {.name = "--plot", .offset = OPT(plot),
     .help = "write SVG charts into DIR at the end (as `cgrad plot DIR`)"},
    {.name = "--quiet", .offset = OPT(quiet), .help = "no live table, only the result"},
    {.name = "--json", .offset = OPT(json),
     .help = "end with one JSON line: the best trial and its command"},
};

const cli_command_flags cli_tune_flags = {
    .command = "tune",
    .usage = "cgrad tune [flags] [-- cgrad-train-flags...]",
    .summary = "Search hyperparameters: run many training trials with sampled settings, keep\n"
               "the best by validation accuracy (R2 for --task regression, given with\n"
               "--train-args), and print it as a `cgrad train` command. A\n"
               "trial that fails (a diverged loss) is recorded with its reason and the search\n"
               "goes on; Ctrl-C stops the running trials and keeps the finished. Under MPI\n"
               "(mpirun -np N cgrad tune ...) each rank runs every N-th trial of a round, the\n"
               "ranks swap results after each round, and rank 0 writes DIR and prints;\n"
               "without --early-stop the results equal a run without mpirun. The search is\n"
               "the library's cg_tune (cgrad.h).",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};


/* --- the `cgrad train` command line of a configuration --- */

typedef struct words {
    char buf[8192];
    size_t n;
} words;

/* Quote a word for a POSIX shell only where it needs it. */
static void add_word(words *w, const char *s)
{
    int quote = !*s || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_.,:/=+@%")];
    size_t room = sizeof w->buf - w->n;
    if (room < 4 * strlen(s) + 4) return;
    w->n += (size_t)snprintf(w->buf + w->n, room, " %s", quote ? "'" : "");
    for (; *s; s++) {
        if (*s == '\'' && quote) w->n += (size_t)sprintf(w->buf + w->n, "'\\''");
        else w->buf[w->n++] = *s;
    }
    if (quote) w->buf[w->n++] = '\'';
    w->buf[w->n] = 0;
}

/* The shortest %g that reads back as v: the command reproduces the run. */
static void add_double(words *w, double v)
{
    char s[40];
    for (int p = 6; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*g", p, v);
        if (strtod(s, NULL) == v) break;
    }
    add_word(w, s);
}

/* Each flag of train's table whose field differs from the default. */
static void train_command(const cg_run_config *c, words *w)
{
    cg_run_config d;
    cg_run_config_init(&d);
    snprintf(w->buf, sizeof w->buf, "cgrad train");
    w->n = strlen(w->buf);
    const cli_command_flags *t = &cli_train_flags;
    for (int i = 0; i < t->n_flags; i++) {
        const cli_flag *f = &t->flags[i];
        const char *n = f->name;
        const char *p = (const char *)c + f->offset, *q = (const char *)&d + f->offset;
        if (!strcmp(n, "--arch") && c->model.n_layers > 0) {
            char arch[CG_MAX_LAYERS * 24];
            cg_arch_format(c->model.layers, c->model.n_layers, arch, sizeof arch);
            add_word(w, n);
            add_word(w, arch);
        } else if (!strcmp(n, "--hidden") && c->model.n_layers > 0) {
            continue; /* the architecture replaces it */
        } else if (!strcmp(n, "--hidden") && (c->model.n_hidden != d.model.n_hidden ||
                                       memcmp(c->model.hidden, d.model.hidden, sizeof d.model.hidden))) {
            char list[CG_MAX_HIDDEN * 12] = "none";
            for (int k = 0, used = 0; k < c->model.n_hidden; k++)
                used += snprintf(list + used, sizeof list - (size_t)used, "%s%d", k ? "," : "",
                                 c->model.hidden[k]);
            add_word(w, n);
            add_word(w, list);
        } else if (!strcmp(n, "--activation") && c->model.activation >= 0) {
            add_word(w, n);
            add_word(w, cg_activation_name(c->model.activation));
        } else if (!strcmp(n, "--task") || !strcmp(n, "--loss") || !strcmp(n, "--precision")) {
            /* ints set by name: the generic cases below do not fit them */
            if (!strcmp(n, "--task") && c->model.task != d.model.task)
                add_word(w, n), add_word(w, cg_task_name(c->model.task));
            if (!strcmp(n, "--loss") && c->model.loss != CG_LOSS_DEFAULT)
                add_word(w, n), add_word(w, cg_loss_name(c->model.loss));
            if (!strcmp(n, "--precision") && c->loop.precision != d.loop.precision)
                add_word(w, n), add_word(w, cg_precision_name(c->loop.precision));
        } else if (!strcmp(n, "--optimizer") && c->optim.name[0]) {
            add_word(w, n);
            add_word(w, c->optim.name);
        } else if (!strcmp(n, "--lr") && !isnan(c->optim.lr)) {
            add_word(w, n);
            add_double(w, c->optim.lr);
        } else if (!strcmp(n, "--lr-decay") && c->schedule.kind != CG_LR_DEFAULT) {
            char spec[256];
            cg_lr_schedule_format(c->schedule.kind, c->schedule.params, spec, sizeof spec);
            add_word(w, n);
            add_word(w, spec);
        } else if (!strcmp(n, "--standardize") || !strcmp(n, "--no-standardize")) {
            if (c->data.standardize == (n[2] == 's')) add_word(w, n);
        } else if (!strcmp(n, "--weight-decay") || !strcmp(n, "--decoupled-weight-decay")) {
            /* One of the two, by the form the configuration asks for. */
            if ((c->optim.decoupled == 1) == (n[2] == 'd') && !isnan(c->optim.weight_decay)) {
                add_word(w, n);
                add_double(w, c->optim.weight_decay);
            }
        } else if (f->offset == 0 || f->offset >= sizeof *c) {
            continue; /* set by name above, or not part of the configuration */
        } else if (f->set == cli_set_string) {
            if (strcmp(p, q)) add_word(w, n), add_word(w, p);
        } else if (!f->set) {
            if (*(const int *)p) add_word(w, n);
        } else if (f->set == cli_set_int) {
            char s[32];
            snprintf(s, sizeof s, "%d", *(const int *)p);
            if (memcmp(p, q, sizeof(int))) add_word(w, n), add_word(w, s);
        } else if (f->set == cli_set_u64) {
            char s[32];
            snprintf(s, sizeof s, "%llu", (unsigned long long)*(const uint64_t *)p);
            if (memcmp(p, q, sizeof(uint64_t))) add_word(w, n), add_word(w, s);
        } else if (memcmp(p, q, sizeof(double))) { /* a double: cli_set_double, the betas */
            add_word(w, n);
            add_double(w, *(const double *)p);
        }
    }
}

/* --- progress --- */

typedef struct show {
    const cg_tune_space *space;
    int quiet, tty, live_lines;
    double last_plain;
} show;

static void format_params(const cg_tune_space *sp, const cg_tune_point *pt, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < sp->n && used < size; i++) {
        char v[CG_TUNE_CHOICE_LEN + 32];
        cg_tune_format_value(&sp->p[i], pt->v[i], v, (int)sizeof v);
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "", sp->p[i].name, v);
    }
}

/* The live table is redrawn in place on a terminal: move up over it and
 * clear, then print what is final above the new one. */
static void clear_live(show *s)
{
    if (s->tty && s->live_lines) printf("\033[%dA\033[J", s->live_lines);
    s->live_lines = 0;
}

static void on_event(const cg_tune_event *e, void *user)
{
    show *s = user;
    char params[2048], d[2048];
    if (s->quiet) return;
    if (e->kind == CG_TUNE_ROUND) {
        clear_live(s);
        printf("round %d: %ld trials", e->round, e->n_trials);
        if (e->n_done) printf(" (%ld already done)", e->n_done);
        printf("\n");
        for (int i = 0; i < e->ranges->n; i++) {
            cg_tune_describe(&e->ranges->p[i], d, (int)sizeof d);
            printf("  %-12s %s\n", e->ranges->p[i].name, d);
        }
    } else if (e->kind == CG_TUNE_DONE) {
        const cg_tune_record *r = e->record;
        format_params(s->space, &r->point, params, sizeof params);
        clear_live(s);
        printf("[%4d] r%d %-8s val %.4f test %.4f %7.1fs  %s%s%s\n", r->id, r->round,
               cg_tune_status_name(r->status), isfinite(r->val_acc) ? r->val_acc : 0.0,
               isfinite(r->test_acc) ? r->test_acc : 0.0, r->seconds, params,
               r->reason[0] ? "  -- " : "", r->reason);
    } else {
        /* Redrawn on a terminal; for logs, plain lines every 10 s at most. */
        if (!s->tty && cli_seconds() - s->last_plain < 10) return;
        clear_live(s);
        for (int i = 0; i < e->n_running; i++) {
            const cg_tune_running *t = &e->running[i];
            const cg_tune_record *r = t->record;
            const cg_tune_epoch *ep = r->n_epochs ? &r->epochs[r->n_epochs - 1] : NULL;
            char val[32] = "     -";
            const double sc = ep ? cg_tune_epoch_score(ep) : NAN;
            if (isfinite(sc)) snprintf(val, sizeof val, "%.4f", sc);
            format_params(s->space, &r->point, params, sizeof params);
            printf("%s[%4d] r%d %-7s epoch %d/%d val %s %7.1fs  %s\n", s->tty ? "  " : "", r->id,
                   r->round, t->stopping ? "stopping" : "running", ep ? ep->epoch : 0, t->epochs,
                   val, t->seconds, params);
        }
        if (s->tty) s->live_lines = e->n_running;
        else if (e->n_running) s->last_plain = cli_seconds();
    }
    fflush(stdout);
}

static volatile int interrupted;

static void on_signal(int sig) { interrupted = sig; }

static void report(const tune_opts *t, const cg_tune_result *res)
{
    const cg_tune_record *best = res->best >= 0 ? &res->records[res->best] : NULL;
    words cmd = {{0}, 0};
    if (best) train_command(&best->config, &cmd);
    const int reg = t->o.base.model.task == CG_TASK_REGRESSION; /* scored by R2 */
    if (!t->quiet) {
        printf("\n%d trials: %d finished, %d failed, %d diverged, %d stopped early\n",
               res->n_records, res->n_ok, res->n_failed, res->n_diverged, res->n_stopped);
        printf("rank    id  round  %s  %s  seconds  status    params\n", reg ? " val_r2" : "val_acc",
               reg ? " test_r2" : "test_acc");
        for (int k = 0; k < res->n_records && k < 20; k++) {
            const cg_tune_record *r = &res->records[res->ranking[k]];
            char params[2048];
            format_params(&t->o.space, &r->point, params, sizeof params);
            printf("%4d  %4d  %5d  %7.4f  %8.4f  %7.1f  %-8s  %s\n", k + 1, r->id, r->round,
                   isfinite(r->val_acc) ? r->val_acc : 0.0,
                   isfinite(r->test_acc) ? r->test_acc : 0.0, r->seconds,
                   cg_tune_status_name(r->status), params);
        }
        if (res->n_records > 20)
            printf("... %d more in %s/results.jsonl\n", res->n_records - 20, t->out);
        if (best)
            printf("\nbest: trial %d (round %d): val %s %.4f, test %s %.4f\n%s\n", best->id, best->round,
                   reg ? "r2" : "accuracy", best->val_acc, reg ? "r2" : "accuracy", best->test_acc, cmd.buf);
    }
    if (!best) fprintf(stderr, "cgrad tune: no trial finished\n");
    if (!t->json) return;
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddNumberToObject(o, "trials", res->n_records);
    cJSON_AddNumberToObject(o, "failed", res->n_failed);
    cJSON_AddNumberToObject(o, "diverged", res->n_diverged);
    if (best) {
        cJSON_AddNumberToObject(o, "best_id", best->id);
        cJSON_AddNumberToObject(o, reg ? "val_r2" : "val_accuracy", best->val_acc);
        if (isfinite(best->test_acc))
            cJSON_AddNumberToObject(o, reg ? "test_r2" : "test_accuracy", best->test_acc);
        cJSON_AddStringToObject(o, "command", cmd.buf);
    }
    char *text = cJSON_PrintUnformatted(o);
    if (text) printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
}

int cli_tune(int argc, char **argv)
{
    tune_opts *t = calloc(1, sizeof *t);
    if (!t) return cli_fail("tune: out of memory");
    cg_tune_options_init(&t->o);
    cg_run_config_init(&t->train.cfg);
    t->train.cfg.loop.epochs = 1;
    snprintf(t->out, sizeof t->out, "tune-out");
    int n = 1;
    while (n < argc && strcmp(argv[n], "--")) n++;
    unsigned char given[64];
    int rc = cli_parse_flags(&cli_tune_flags, n, argv, t, given, NULL);
    if (rc == 0 && n < argc) {
        argv[n] = "train"; /* the words after `--`, as train's argv */
        rc = parse_train(t, argc - n, argv + n);
    }
    if (rc == 1) {
        free(t);
        return CLI_OK;
    }
    if (rc == 0 && !t->have_space) {
        /* No space given: the default one, around the trials' base. */
        if (cg_tune_space_default(&t->o.space, &t->train.cfg))
            rc = cli_config_error(&cli_tune_flags, cg_last_error());
        else if (!t->quiet) {
            fprintf(stderr, "cgrad tune: no --param or --space: searching the default space:");
            for (int i = 0; i < t->o.space.n; i++) {
                char range[512];
                cg_tune_describe(&t->o.space.p[i], range, (int)sizeof range);
                fprintf(stderr, "%s %s=%s", i ? "," : "", t->o.space.p[i].name, range);
            }
            fprintf(stderr, "\n");
        }
    }
    if (rc) goto done;
    const int rank = cg_dist_rank(cli_dist), size = cg_dist_size(cli_dist);
    if (rank != 0) t->quiet = 1, t->json = t->plot = 0; /* rank 0 speaks for the search */
    /* One trial at a time on one process: 0, all cores adapted to the
     * load as in `train`. Trials side by side share the cores evenly. */
    if (!t->o.threads && (t->o.jobs > 1 || size > 1)) {
        /* Ranks that share a node share its cores. */
        const char *local = size > 1 ? getenv("OMPI_COMM_WORLD_LOCAL_SIZE") : NULL;
        long per_node = local ? strtol(local, NULL, 10) : size;
        long cores = sysconf(_SC_NPROCESSORS_ONLN) / (per_node > 1 ? per_node : 1);
        t->o.threads = (int)(cores / t->o.jobs > 1 ? cores / t->o.jobs : 1);
    }
    t->o.base = t->train.cfg;
    t->o.out = t->out;
    t->o.resume = t->resume;
    t->o.dist = cli_dist;
    show s = {.space = &t->o.space, .quiet = t->quiet, .tty = isatty(STDOUT_FILENO)};
    t->o.on_event = on_event;
    t->o.user = &s;
    t->o.stop = &interrupted;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    cg_tune_result res;
    int code = cg_tune(&t->o, &res);
    clear_live(&s);
    if (code) {
        const char *msg = cg_last_error();
        rc = code != CG_ERR_ARG ? cli_fail("tune: %s", msg)
             : strstr(msg, "holds a search") ? cli_usage("tune", "--out: %s (--resume continues it)",
                                                         msg + 5)
             : cli_config_error(&cli_tune_flags, msg);
    } else if (res.interrupted) {
        if (rank == 0)
            fprintf(stderr, "cgrad tune: interrupted; finished trials are in %s/results.jsonl "
                            "(continue with --resume)\n", t->out);
        rc = 128 + res.interrupted;
    }
    /* What finished is reported even when the search stopped on an error,
     * but not after a usage error: nothing ran (a refused resume may have
     * read records back), and stdout stays empty. */
    if ((code == CG_OK || (res.n_records && code != CG_ERR_ARG)) && rank == 0) report(t, &res);
    if (rc == CLI_OK && t->plot) rc = tune_plot_dir(t->out, t->quiet);
    if (rc == CLI_OK && res.n_records > 0 && res.n_ok == 0) rc = CLI_FAIL;
    cg_tune_result_free(&res);
done:
    free(t);
    return rc;
}
