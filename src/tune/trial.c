/* SPDX-License-Identifier: MIT */
/* trial.c: one trial of a search as a forked child that runs cg_train
 * into the trial's directory: starting it, following its metrics.jsonl,
 * and reading its outcome when it exits. A child, not a thread: a trial
 * that is stopped early or by Ctrl-C is simply killed, a crash or a
 * diverged run stays in its process, and trials run in parallel without
 * sharing the library's global state (threads, last error). */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, kill, setpgid, dprintf */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "internal.h"
#include "json.h"
#include "tune/engine.h"

/* The child's exit status when cg_train reports CG_ERR_DIVERGED (as the
 * CLI's exit code for it). */
#define DIVERGED_EXIT 3

void cg_tune_record_free(cg_tune_record *r)
{
    if (!r) return;
    free(r->epochs);
    r->epochs = NULL;
    r->n_epochs = r->cap_epochs = 0;
}

int tune_trial_config(const tune_search *s, const cg_tune_point *pt, uint64_t seed,
                      cg_run_config *out)
{
    int rc = cg_tune_point_config(&s->orig, pt, &s->o->base, out);
    out->loop.seed = seed;
    return rc;
}

/* The child: train, then one JSON line with the result on fd `fo`, or the
 * error on `fe`. Never returns. */
static void run_child(const tune_search *s, const tune_trial *t, int fo, int fe)
{
    /* Its own process group: a Ctrl-C at the terminal reaches only the
     * search, which then stops its trials and records what finished; and
     * the search's signal handlers are not the trial's. */
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    cg_set_threads(s->o->threads);
    cg_train_options to;
    cg_train_options_init(&to);
    to.out = t->dir;
    cg_train_result r;
    int rc = cg_train(&t->rec.config, &to, &r);
    if (rc) {
        dprintf(fe, "%s\n", cg_last_error());
        _exit(rc == CG_ERR_DIVERGED ? DIVERGED_EXIT : 1);
    }
    cJSON *o = cJSON_CreateObject();
    char *line = NULL;
    if (o) {
        const int reg = r.task == CG_TASK_REGRESSION;
        cg_json_add_number(o, tune_score_key(r.task, 0), reg ? r.fit.val_metrics[2] : r.fit.val_acc);
        cg_json_add_number(o, tune_score_key(r.task, 1), reg ? r.test.r2 : r.test_acc);
        cg_json_add_number(o, "best_val_accuracy", r.fit.best_val_acc);
        cJSON_AddNumberToObject(o, "epochs", r.fit.epochs);
        line = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    if (!line || dprintf(fo, "%s\n", line) < 0) _exit(1);
    _exit(0); /* no atexit handlers: they belong to the parent (MPI among them) */
}

/* The search seed, the round and the index make the trial's seed. */
int tune_trial_start(const tune_search *s, tune_trial *t, int id, int round, int index,
                     const cg_tune_point *pt)
{
    memset(t, 0, sizeof *t);
    t->pid = -1;
    cg_tune_record *r = &t->rec;
    r->id = id;
    r->round = round;
    r->index = index;
    r->rank = s->rank;
    r->seed = cg_tune_train_seed(cg_tune_trial_seed(s->o->seed, round, index));
    r->point = *pt;
    r->val_acc = r->test_acc = r->seconds = NAN;
    if (tune_trial_config(s, pt, r->seed, &r->config)) return cg_last_error_code();
    t->epochs_total = r->config.loop.epochs > 0 ? r->config.loop.epochs : 10;
    snprintf(t->dir, sizeof t->dir, "%s/trials/r%d-%04d", s->o->out, round, index);
    if (mkdir(t->dir, 0777) != 0 && errno != EEXIST)
        return cg_error(CG_ERR_IO, "out: cannot create '%s': %s", t->dir, strerror(errno));
    char path[CG_PATH_LEN + 100];
    /* A previous, interrupted run of this trial must not be read as this one. */
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/stdout.txt", t->dir);
    int fo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    snprintf(path, sizeof path, "%s/stderr.txt", t->dir);
    int fe = fo < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fe < 0) {
        int err = errno;
        if (fo >= 0) close(fo);
        return cg_error(CG_ERR_IO, "out: cannot write in '%s': %s", t->dir, strerror(err));
    }
    fflush(NULL); /* the child must not inherit and repeat buffered output */
    t->started = cg_seconds();
    pid_t pid = fork();
    if (pid == 0) run_child(s, t, fo, fe);
    int err = errno;
    close(fo);
    close(fe);
    if (pid < 0) return cg_error(CG_ERR_STATE, "cg_tune: fork: %s", strerror(err));
    t->pid = pid;
    return CG_OK;
}

static void push_epoch(cg_tune_record *r, const cg_tune_epoch *e)
{
    if (r->n_epochs == r->cap_epochs) {
        int cap = r->cap_epochs ? 2 * r->cap_epochs : 8;
        cg_tune_epoch *p = realloc(r->epochs, (size_t)cap * sizeof *p);
        if (!p) return;
        r->epochs = p;
        r->cap_epochs = cap;
    }
    r->epochs[r->n_epochs++] = *e;
}

double cg_tune_epoch_score(const cg_tune_epoch *e) { return isnan(e->val_acc) ? e->val_r2 : e->val_acc; }

const char *tune_score_key(int task, int test)
{
    if (task == CG_TASK_REGRESSION) return test ? "test_r2" : "val_r2";
    return test ? "test_accuracy" : "val_accuracy";
}

int tune_epoch_from_json(const cJSON *o, cg_tune_epoch *e)
{
    double ep = cg_json_get_number(o, "epoch");
    e->epoch = isfinite(ep) && ep >= 1 && ep < 1e9 ? (int)ep : 0;
    e->train_loss = cg_json_get_number(o, "train_loss");
    e->train_acc = cg_json_get_number(o, "train_accuracy");
    e->val_loss = cg_json_get_number(o, "val_loss");
    e->val_acc = cg_json_get_number(o, "val_accuracy");
    e->train_r2 = cg_json_get_number(o, "train_r2");
    e->val_r2 = cg_json_get_number(o, "val_r2");
    e->seconds = cg_json_get_number(o, "seconds");
    e->lr = cg_json_get_number(o, "lr");
    return e->epoch > 0 ? 0 : -1;
}

int cg_metrics_poll(const char *path, long *offset, cg_tune_record *r)
{
    FILE *f = path && offset && r ? fopen(path, "r") : NULL;
    if (!f) return 0;
    int got = 0;
    char line[4096];
    if (fseek(f, *offset, SEEK_SET) == 0)
        /* Only whole lines count: the writer may be halfway through one. */
        while (fgets(line, sizeof line, f) && strchr(line, '\n')) {
            *offset += (long)strlen(line);
            cJSON *o = cJSON_Parse(line);
            cg_tune_epoch e;
            if (cJSON_IsObject(o) && tune_epoch_from_json(o, &e) == 0) {
                push_epoch(r, &e);
                got = 1;
            }
            cJSON_Delete(o);
        }
    fclose(f);
    return got;
}

int tune_trial_poll(tune_trial *t)
{
    char path[CG_PATH_LEN + 100];
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->dir);
    return cg_metrics_poll(path, &t->metrics_offset, &t->rec);
}

/* The last non-empty line of a (small) file, without its newline. */
static void last_line(const char *path, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n) snprintf(buf, size, "%s", line);
    }
    fclose(f);
}

/* The outcome from the exit status, the child's result line and error. */
static void finish(tune_trial *t, int status)
{
    cg_tune_record *r = &t->rec;
    r->seconds = cg_seconds() - t->started;
    tune_trial_poll(t);
    char path[CG_PATH_LEN + 100], line[4096];
    snprintf(path, sizeof path, "%s/stdout.txt", t->dir);
    last_line(path, line, sizeof line);
    cJSON *o = line[0] == '{' ? cJSON_Parse(line) : NULL;
    if (o) {
        r->val_acc = cg_json_get_number(o, tune_score_key(r->config.model.task, 0));
        r->test_acc = cg_json_get_number(o, tune_score_key(r->config.model.task, 1));
        cJSON_Delete(o);
    }
    if (!isfinite(r->val_acc) && r->n_epochs > 0) r->val_acc = cg_tune_epoch_score(&r->epochs[r->n_epochs - 1]);
    if (t->stop_requested) {
        r->status = CG_TRIAL_STOPPED;
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && o) {
        r->status = CG_TRIAL_OK;
        return;
    }
    r->status = WIFEXITED(status) && WEXITSTATUS(status) == DIVERGED_EXIT ? CG_TRIAL_DIVERGED
                                                                          : CG_TRIAL_FAILED;
    snprintf(path, sizeof path, "%s/stderr.txt", t->dir);
    last_line(path, r->reason, sizeof r->reason);
    if (!r->reason[0]) {
        if (WIFSIGNALED(status))
            snprintf(r->reason, sizeof r->reason, "killed by signal %d", WTERMSIG(status));
        else if (WIFEXITED(status))
            snprintf(r->reason, sizeof r->reason, "exit status %d", WEXITSTATUS(status));
        else
            snprintf(r->reason, sizeof r->reason, "no result from the trial");
    }
}

int tune_trial_reap(tune_trial *t)
{
    if (t->pid <= 0) return 1;
    int status;
    pid_t p = waitpid(t->pid, &status, WNOHANG);
    if (p == 0 || (p < 0 && errno == EINTR)) return 0;
    if (p < 0) status = 0xff00; /* lost child: treat as exit status 255 */
    t->pid = -1;
    finish(t, status);
    return 1;
}

void tune_trial_kill(tune_trial *t)
{
    if (t->pid <= 0) return;
    kill(t->pid, SIGTERM);
    int status;
    while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR) {
    }
    t->pid = -1;
}
