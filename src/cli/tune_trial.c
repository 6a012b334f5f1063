/* SPDX-License-Identifier: MIT */
/* tune_trial.c: one trial of `cgrad tune` as a child `cgrad train` process:
 * its command line, starting it, following its metrics.jsonl, and reading
 * its outcome when it exits. */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid, kill, setpgid, clock_gettime */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cli/tune_run.h"

extern char **environ;

double tune_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tune_record_free(tune_record *r)
{
    free(r->epochs);
    r->epochs = NULL;
    r->n_epochs = r->cap_epochs = 0;
}

void tune_argv_free(char **argv)
{
    if (!argv) return;
    for (char **p = argv; *p; p++) free(*p);
    free(argv);
}

char **tune_trial_argv(const tune_ctx *c, const tune_record *r, int full, const char *dir)
{
    enum { MAX_FLAGS = 2 * CG_TUNE_MAX_PARAMS + 4 };
    char *flags[MAX_FLAGS], store[8192];
    int nf = cg_tune_train_flags(c->space, &r->point, flags, MAX_FLAGS, store, (int)sizeof store);
    if (nf < 0) return NULL;
    int max = c->train_argc + nf + 16;
    char **argv = calloc((size_t)max, sizeof *argv);
    if (!argv) return NULL;
    int n = 0, ok = 1;
    char seed[32], threads[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->seed);
    snprintf(threads, sizeof threads, "%d", c->threads);
#define PUSH(s) do { if (ok && !(argv[n++] = strdup(s))) ok = 0; } while (0)
    PUSH(full ? c->exe : "cgrad");
    PUSH("train");
    for (int i = 0; i < c->train_argc; i++) PUSH(c->train_argv[i]);
    for (int i = 0; i < nf; i++) PUSH(flags[i]);
    PUSH("--seed");
    PUSH(seed);
    if (full) {
        PUSH("--out");
        PUSH(dir);
        PUSH("--json");
        PUSH("--quiet");
        PUSH("--threads");
        PUSH(threads);
    }
#undef PUSH
    if (!ok) {
        tune_argv_free(argv);
        return NULL;
    }
    return argv;
}

/* Quote a word for a POSIX shell only where it needs it. */
static int needs_quotes(const char *s)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+@%",
                    *s))
            return 1;
    return 0;
}

char *tune_trial_command(const tune_ctx *c, const tune_record *r)
{
    char **argv = tune_trial_argv(c, r, 0, NULL);
    if (!argv) return NULL;
    size_t len = 1;
    for (char **p = argv; *p; p++) len += 4 * strlen(*p) + 3;
    char *s = malloc(len), *w = s;
    if (s) {
        for (char **p = argv; *p; p++) {
            if (p != argv) *w++ = ' ';
            if (!needs_quotes(*p)) {
                w += sprintf(w, "%s", *p);
                continue;
            }
            *w++ = '\'';
            for (const char *q = *p; *q; q++) {
                if (*q == '\'') w += sprintf(w, "'\\''");
                else *w++ = *q;
            }
            *w++ = '\'';
        }
        *w = 0;
    }
    tune_argv_free(argv);
    return s;
}

/* The environment without the variables an MPI launcher sets for this rank:
 * a trial is a plain process, and `cgrad train` seeing them would try to
 * join the job as this rank. A malloc'd array of pointers into environ. */
static char **plain_environ(void)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = malloc((n + 1) * sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OMPI_", 5) && strncmp(environ[i], "PMIX_", 5) &&
            strncmp(environ[i], "PMI_", 4))
            env[k++] = environ[i];
    env[k] = NULL;
    return env;
}

/* The search seed, the round and the index make the trial's train seed. */
int tune_trial_start(const tune_ctx *c, tune_trial *t, int id, int round, int index,
                     const cg_tune_point *pt)
{
    memset(t, 0, sizeof *t);
    t->pid = -1;
    t->rec.id = id;
    t->rec.round = round;
    t->rec.index = index;
    t->rec.rank = c->rank;
    t->rec.seed = cg_tune_train_seed(cg_tune_trial_seed(c->seed, round, index));
    t->rec.point = *pt;
    t->rec.val_acc = t->rec.test_acc = t->rec.seconds = NAN;
    t->epochs_total = c->epochs;
    int e = cg_tune_space_find(c->space, "epochs");
    if (e >= 0) {
        char v[64];
        cg_tune_format_value(&c->space->p[e], pt->v[e], v, (int)sizeof v);
        t->epochs_total = atoi(v);
    }
    snprintf(t->dir, sizeof t->dir, "%s/trials/r%d-%04d", c->out, round, index);
    if (mkdir(t->dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cgrad tune: cannot create '%s': %s\n", t->dir, strerror(errno));
        return -1;
    }
    char path[1100];
    /* A previous, interrupted run of this trial must not be read as this one. */
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/stdout.txt", t->dir);
    int fo = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    snprintf(path, sizeof path, "%s/stderr.txt", t->dir);
    int fe = fo < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    char **argv = fe < 0 ? NULL : tune_trial_argv(c, &t->rec, 1, t->dir);
    char **env = argv ? plain_environ() : NULL;
    if (!env) {
        tune_argv_free(argv);
        fprintf(stderr, "cgrad tune: cannot start a trial in '%s': %s\n", t->dir,
                strerror(errno));
        if (fo >= 0) close(fo);
        if (fe >= 0) close(fe);
        return -1;
    }
    fflush(NULL); /* the child must not inherit and repeat buffered output */
    t->started = tune_now();
    pid_t pid = fork();
    if (pid == 0) {
        /* Its own process group: a Ctrl-C at the terminal reaches only the
         * search, which then stops its trials and records what finished. */
        setpgid(0, 0);
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        close(fo);
        close(fe);
        execve(c->exe, argv, env);
        fprintf(stderr, "cgrad tune: cannot run '%s': %s\n", c->exe, strerror(errno));
        _exit(127);
    }
    int err = errno;
    close(fo);
    close(fe);
    tune_argv_free(argv);
    free(env);
    if (pid < 0) {
        fprintf(stderr, "cgrad tune: fork: %s\n", strerror(err));
        return -1;
    }
    t->pid = pid;
    return 0;
}

static void push_epoch(tune_record *r, const tune_epoch *e)
{
    if (r->n_epochs == r->cap_epochs) {
        int cap = r->cap_epochs ? 2 * r->cap_epochs : 8;
        tune_epoch *p = realloc(r->epochs, (size_t)cap * sizeof *p);
        if (!p) return;
        r->epochs = p;
        r->cap_epochs = cap;
    }
    r->epochs[r->n_epochs++] = *e;
}

int tune_parse_epoch(const char *line, tune_epoch *e)
{
    cJSON *o = cJSON_Parse(line);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    int rc = tune_epoch_from_json(o, e);
    cJSON_Delete(o);
    return rc;
}

int tune_trial_poll_metrics(tune_trial *t)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int got = 0;
    char line[4096];
    if (fseek(f, t->metrics_offset, SEEK_SET) == 0)
        /* Only whole lines count: the writer may be halfway through one. */
        while (fgets(line, sizeof line, f) && strchr(line, '\n')) {
            t->metrics_offset += (long)strlen(line);
            tune_epoch e;
            if (tune_parse_epoch(line, &e) == 0) {
                push_epoch(&t->rec, &e);
                got = 1;
            }
        }
    fclose(f);
    return got;
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

/* The outcome from the exit status, train's final JSON line and stderr. */
static void finish(tune_trial *t, int status)
{
    tune_record *r = &t->rec;
    r->seconds = tune_now() - t->started;
    tune_trial_poll_metrics(t);
    char path[1100], line[4096];
    snprintf(path, sizeof path, "%s/stdout.txt", t->dir);
    last_line(path, line, sizeof line);
    cJSON *o = line[0] == '{' ? cJSON_Parse(line) : NULL;
    if (o) {
        r->val_acc = tune_json_number(o, "val_accuracy");
        r->test_acc = tune_json_number(o, "test_accuracy");
        cJSON_Delete(o);
    }
    if (!isfinite(r->val_acc) && r->n_epochs > 0) r->val_acc = r->epochs[r->n_epochs - 1].val_acc;
    if (t->stop_requested) {
        r->status = TRIAL_STOPPED;
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && o) {
        r->status = TRIAL_OK;
        return;
    }
    r->status = TRIAL_FAILED;
    snprintf(path, sizeof path, "%s/stderr.txt", t->dir);
    last_line(path, r->reason, sizeof r->reason);
    if (!r->reason[0]) {
        if (WIFSIGNALED(status))
            snprintf(r->reason, sizeof r->reason, "killed by signal %d", WTERMSIG(status));
        else if (WIFEXITED(status))
            snprintf(r->reason, sizeof r->reason, "exit status %d", WEXITSTATUS(status));
        else
            snprintf(r->reason, sizeof r->reason, "no result line from cgrad train");
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

int tune_trial_run(const tune_ctx *c, int id, int round, int index, const cg_tune_point *pt,
                   tune_record *out)
{
    tune_trial t;
    if (tune_trial_start(c, &t, id, round, index, pt)) return -1;
    const struct timespec nap = {0, 50 * 1000 * 1000};
    while (!tune_trial_reap(&t)) {
        tune_trial_poll_metrics(&t);
        nanosleep(&nap, NULL);
    }
    *out = t.rec;
    return 0;
}
