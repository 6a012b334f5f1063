/* SPDX-License-Identifier: MIT */
/* train.c: `cgrad train`: flags -> a run configuration (with --resume, the
 * checkpoint's, changed only where a run may change) -> cg_train -> the
 * report. Human text goes to stdout, or to stderr with --json, so that
 * stdout then holds only JSON; --quiet prints nothing but that JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/train.h"


/* v as a JSON number, or null when it is not finite (the library's
 * cg_json_add_number is internal to it). */
static void train_json_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static int flag_given(const unsigned char *given, const char *name)
{
    const cli_flag *f = cli_find_flag(&cli_train_flags, name);
    return f && given[f - cli_train_flags.flags];
}

/* Threads per rank when --threads is not given: the cores shared among the
 * ranks on this node, so that N ranks do not oversubscribe them. */
static int ranks_threads(int nranks)
{
    if (nranks <= 1) return 0;
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long per_node = local ? strtol(local, NULL, 10) : nranks;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (per_node < 1) per_node = 1;
    long t = cores / per_node;
    return t < 1 ? 1 : (int)t;
}

/* --resume: the stored configuration, with what may change mid-run taken
 * from the flags given now (a new learning rate or schedule starts a new
 * schedule phase after the epochs done). */
static int resume_config(train_opts *a, const unsigned char *given)
{
    const cli_command_flags *t = &cli_train_flags;
    for (int i = 0; i < t->n_flags; i++)
        if (given[i] && t->flags[i].resume == CLI_RESUME_NO)
            return cli_usage("train", "%s: the checkpoint fixes the model, optimizer and data of "
                             "the run it resumes; only --epochs, --patience, --lr, --lr-decay, "
                             "--data/--test (where the data is now), --out, --threads, --precision, "
                             "--json and --quiet may be given with --resume", t->flags[i].name);
    cg_run_config c;
    int done = 0;
    if (cg_checkpoint_config(a->resume, &c, &done))
        return cli_usage("train", "--resume: %s", cg_last_error());
    const cg_run_config *now = &a->cfg;
    if (flag_given(given, "--epochs")) c.loop.epochs = now->loop.epochs;
    if (flag_given(given, "--patience")) c.loop.patience = now->loop.patience;
    /* Checkpoints hold fp32 weights: a run may go on in either precision. */
    if (flag_given(given, "--precision")) c.loop.precision = now->loop.precision;
    if (flag_given(given, "--data")) memcpy(c.data.source, now->data.source, sizeof c.data.source);
    if (flag_given(given, "--test")) memcpy(c.data.test, now->data.test, sizeof c.data.test);
    int sched = flag_given(given, "--lr-decay") || flag_given(given, "--schedule");
    if (flag_given(given, "--lr") || sched) {
        /* The rate given (or the one the run had), and the schedule given
         * (or the default: cosine to 0 over the rest of the run). */
        if (flag_given(given, "--lr")) c.optim.lr = now->optim.lr;
        c.schedule.kind = sched ? now->schedule.kind : CG_LR_DEFAULT;
        memcpy(c.schedule.params, now->schedule.params, sizeof c.schedule.params);
        c.schedule.start_epoch = done;
    }
    a->cfg = c;
    return 0;
}

/* The directory of a path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, size, ".");
    else if (slash == path) snprintf(out, size, "/");
    else snprintf(out, size, "%.*s", (int)(slash - path), path);
}

static void print_note(const char *line, void *user) { fprintf((FILE *)user, "%s\n", line); }

static void print_result_json(const cg_train_result *r)
{
    const cg_fit_result *f = &r->fit;
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    if (r->task == CG_TASK_REGRESSION) {
        train_json_number(o, "test_rmse", r->n_test ? r->test.rmse : NAN);
        train_json_number(o, "test_mae", r->n_test ? r->test.mae : NAN);
        train_json_number(o, "test_r2", r->n_test ? r->test.r2 : NAN);
    } else {
        train_json_number(o, "test_accuracy", r->test_acc);
    }
    if (r->task == CG_TASK_MULTILABEL) train_json_number(o, "test_f1", r->n_test ? r->test.f1 : NAN);
    train_json_number(o, "test_loss", r->test_loss);
    if (r->task != CG_TASK_REGRESSION) train_json_number(o, "val_accuracy", f->val_acc);
    for (int i = 0; r->task == CG_TASK_REGRESSION && i < 3; i++) /* rmse, mae, r2 */
        train_json_number(o, (const char *[]){"val_rmse", "val_mae", "val_r2"}[i], f->val_metrics[i]);
    train_json_number(o, "val_loss", f->val_loss);
    train_json_number(o, r->task ? "best_val_loss" : "best_val_accuracy", f->best_val_acc);
    if (r->task != CG_TASK_REGRESSION) train_json_number(o, "train_accuracy", f->train_acc);
    train_json_number(o, "train_loss", f->train_loss);
    cJSON_AddNumberToObject(o, "epochs", f->epochs);
    cJSON_AddBoolToObject(o, "stopped_early", f->stopped_early);
    cJSON_AddNumberToObject(o, "train_seconds", f->seconds);
    cJSON_AddNumberToObject(o, "examples_per_second", f->examples_per_second);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) printf("%s\n", s);
    free(s);
}

/* A library error: one that names a setting a flag owns is a usage error
 * naming the flag; a diverged run has its own exit status; else 1. */
static int report_error(int code)
{
    const char *msg = cg_last_error();
    if (code == CG_ERR_DIVERGED) {
        fprintf(stderr, "cgrad train: %s\n", msg);
        return CLI_DIVERGED;
    }
    if (strncmp(msg, "out:", 4) == 0) {
        fprintf(stderr, "cgrad train: --out:%s\n", msg + 4);
        return code == CG_ERR_STATE ? CLI_USAGE : CLI_FAIL; /* another writer holds it */
    }
    if (strstr(msg, "new schedule phase")) { /* say how, in flags */
        char m[1200];
        snprintf(m, sizeof m, "%s: with --resume, give --lr RATE and/or --lr-decay SPEC", msg);
        return cli_config_error(&cli_train_flags, m);
    }
    if (cli_flag_for_message(&cli_train_flags, msg)) return cli_config_error(&cli_train_flags, msg);
    fprintf(stderr, "cgrad train: %s\n", *msg ? msg : "out of memory");
    return CLI_FAIL;
}

int cli_train(int argc, char **argv)
{
    train_opts a;
    memset(&a, 0, sizeof a);
    cg_run_config_init(&a.cfg);
    unsigned char given[64];
    int rc = cli_parse_flags(&cli_train_flags, argc, argv, &a, given, NULL);
    if (rc) return rc == 1 ? CLI_OK : rc;
    if (a.resume[0]) {
        if ((rc = resume_config(&a, given))) return rc;
        if (!a.out[0]) dir_of(a.resume, a.out, sizeof a.out); /* beside the checkpoint */
    }
    /* Checked before any work (and before --out is created). */
    cg_run_config check = a.cfg;
    if (cg_run_config_resolve(&check)) return cli_config_error(&cli_train_flags, cg_last_error());

    const int rank = cg_dist_rank(cli_dist), nranks = cg_dist_size(cli_dist);
    cg_set_threads(a.threads ? a.threads : ranks_threads(nranks));
    /* Human text: stdout, or stderr when stdout is for JSON; none with
     * --quiet or on ranks other than 0. */
    FILE *human = a.quiet || rank != 0 ? NULL : a.json ? stderr : stdout;
    cg_train_options to;
    cg_train_options_init(&to);
    to.out = a.out[0] ? a.out : NULL;
    to.resume = a.resume[0] ? a.resume : NULL;
    to.dist = cli_dist;
    /* No model flag: the model is the default's to choose (a regression
     * compares the linear model with the MLP on its validation rows). */
    to.choose_model = !a.resume[0];
    for (const char *const *m = (const char *const[]){"--hidden", "--arch", "--activation", "--bn", "--dropout", NULL};
         *m; m++)
        if (flag_given(given, *m)) to.choose_model = 0;
    to.on_note = human ? print_note : NULL;
    to.user = human;
    cg_progress_bar bar;
    cg_progress_bar_init(&bar, human);
    if (human) {
        to.on_progress = cg_progress_bar_callback;
        to.progress_user = &bar;
    }
    if (human) fflush(human);
    cg_train_result r;
    if ((rc = cg_train(&a.cfg, &to, &r))) return report_error(rc);
    if (rank != 0) return CLI_OK;
    if (human) {
        if (r.n_test && r.task == CG_TASK_REGRESSION)
            fprintf(human, "test loss: %.4f - test rmse: %.4g - test mae: %.4g - test r2: %.4f (in the targets' "
                    "units)\n", r.test_loss, r.test.rmse, r.test.mae, r.test.r2);
        else if (r.n_test)
            fprintf(human, "test loss: %.4f - test accuracy: %.4f%s\n", r.test_loss, r.test_acc,
                    r.task == CG_TASK_MULTILABEL ? " (mean over labels)" : "");
        fprintf(human, "trained %d epochs%s in %.1fs (%.0f examples/s)\n", r.fit.epochs - r.initial_epoch,
                !r.fit.stopped_early ? "" : r.task ? " (stopped early: validation loss stopped improving)"
                                                   : " (stopped early: validation accuracy stopped improving)",
                r.fit.seconds, r.fit.examples_per_second);
    }
    if (a.json) print_result_json(&r);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
