/* SPDX-License-Identifier: MIT */
/* search.c: cg_tune: the output directory (new, or resumed), the rounds of
 * a search: this round's points, trials run `jobs` at a time (under MPI,
 * each rank runs its share and the ranks swap records at the end of the
 * round), median stopping, then the next round's ranges from the best
 * trials so far. Progress goes to the caller's event callback. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, kill */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "internal.h"
#include "tune/engine.h"

void cg_tune_options_init(cg_tune_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    cg_run_config_init(&o->base);
    o->trials = 20;
    o->seed = 1;
    o->rounds = 1;
    o->keep = 5;
    o->margin = 0.1;
    o->jobs = 1;
}

void cg_tune_result_free(cg_tune_result *res)
{
    if (!res) return;
    for (int i = 0; i < res->n_records; i++) cg_tune_record_free(&res->records[i]);
    free(res->records);
    free(res->ranking);
    memset(res, 0, sizeof *res);
    res->best = -1;
}

static int stopped(tune_search *s)
{
    if (!s->interrupted && s->o->stop && *s->o->stop) s->interrupted = *s->o->stop;
    return s->interrupted != 0;
}

static void emit(const tune_search *s, cg_tune_event *e)
{
    if (s->o->on_event) s->o->on_event(e, s->o->user);
}

/* Better first: finished before failed, higher val score (accuracy, or R2
 * for a regression), then lower id,
 * so that the ranking (and the next round's ranges) never depends on the
 * order trials finished in. */
typedef struct ranked {
    const cg_tune_record *r;
    int i;
} ranked;

static int better(const void *pa, const void *pb)
{
    const cg_tune_record *a = ((const ranked *)pa)->r, *b = ((const ranked *)pb)->r;
    int ga = a->status == CG_TRIAL_OK && isfinite(a->val_acc);
    int gb = b->status == CG_TRIAL_OK && isfinite(b->val_acc);
    if (ga != gb) return gb - ga;
    double va = isfinite(a->val_acc) ? a->val_acc : -1, vb = isfinite(b->val_acc) ? b->val_acc : -1;
    if (va != vb) return va > vb ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Indices of the records of rounds <= max_round, best first, ended by -1. */
static int *ranking(const tune_search *s, int max_round)
{
    int *idx = malloc((size_t)(s->n_recs + 1) * sizeof *idx), n = 0;
    ranked *r = malloc((size_t)(s->n_recs + 1) * sizeof *r);
    if (idx && r) {
        for (int i = 0; i < s->n_recs; i++)
            if (s->recs[i].round <= max_round) r[n++] = (ranked){&s->recs[i], i};
        qsort(r, (size_t)n, sizeof *r, better);
        for (int i = 0; i < n; i++) idx[i] = r[i].i;
        idx[n] = -1;
    } else {
        free(idx);
        idx = NULL;
    }
    free(r);
    return idx;
}

static const cg_tune_record *find_record(const tune_search *s, int round, int index)
{
    for (int i = 0; i < s->n_recs; i++)
        if (s->recs[i].round == round && s->recs[i].index == index) return &s->recs[i];
    return NULL;
}

/* Median stopping (Golovin et al., Google Vizier): a trial whose val
 * accuracy at epoch e is below the median of finished trials' at epoch e
 * stops, once 3 finished trials reached e. Under MPI "finished" means known
 * to this rank: every rank's trials of earlier rounds, its own of this one
 * (records are swapped only between rounds). */
static void median_stop(tune_search *s, tune_trial *t)
{
    if (t->stop_requested || t->rec.n_epochs == 0) return;
    const cg_tune_epoch *e = &t->rec.epochs[t->rec.n_epochs - 1];
    const double score = cg_tune_epoch_score(e);
    if (e->epoch >= t->epochs_total || !isfinite(score)) return;
    double *v = malloc((size_t)(s->n_recs + 1) * sizeof *v);
    if (!v) return;
    int n = 0;
    for (int i = 0; i < s->n_recs; i++) {
        const cg_tune_record *r = &s->recs[i];
        if (r->status != CG_TRIAL_OK || r->n_epochs < e->epoch) continue;
        const double other = cg_tune_epoch_score(&r->epochs[e->epoch - 1]);
        if (isfinite(other)) v[n++] = other;
    }
    if (n >= 3) {
        for (int i = 1; i < n; i++) /* insertion sort: n is small */
            for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                double x = v[j];
                v[j] = v[j - 1];
                v[j - 1] = x;
            }
        double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        if (score < med) {
            snprintf(t->rec.reason, sizeof t->rec.reason,
                     "median stopping at epoch %d: val %s %.4f < median %.4f", e->epoch,
                     isnan(e->val_acc) ? "r2" : "accuracy", score, med);
            t->stop_requested = 1;
            kill(t->pid, SIGTERM);
        }
    }
    free(v);
}

/* Append a record to results.jsonl (rank 0 only: the other ranks have no
 * file open) and to s->recs, which takes its epochs. */
static int keep_record(tune_search *s, cg_tune_record *r)
{
    if (s->results) {
        char *line = tune_record_json(s, r);
        int bad = !line || fprintf(s->results, "%s\n", line) < 0 || fflush(s->results) != 0;
        free(line);
        if (bad) {
            cg_tune_record_free(r);
            return cg_error(CG_ERR_IO, "out: cannot write %s/results.jsonl", s->o->out);
        }
    }
    if (tune_add_record(s, r)) {
        cg_tune_record_free(r);
        return CG_ERR_MEMORY;
    }
    cg_tune_event e = {.kind = CG_TUNE_DONE, .round = r->round, .record = &s->recs[s->n_recs - 1]};
    emit(s, &e);
    return CG_OK;
}

static void report_running(tune_search *s, const tune_trial *run, int n)
{
    if (!s->o->on_event) return;
    cg_tune_running r[64];
    if (n > 64) n = 64;
    for (int i = 0; i < n; i++)
        r[i] = (cg_tune_running){&run[i].rec, run[i].epochs_total, cg_seconds() - run[i].started,
                                 run[i].stop_requested};
    cg_tune_event e = {.kind = CG_TUNE_RUNNING, .running = r, .n_running = n,
                       .round = n ? run[0].rec.round : 0};
    emit(s, &e);
}

/* Run the given trials of a round, `jobs` at a time. */
static int run_trials(tune_search *s, int round, int first_id, const int *todo, int n_todo,
                      const cg_tune_point *points)
{
    tune_trial *run = calloc((size_t)s->o->jobs, sizeof *run);
    if (!run) return cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
    int n_run = 0, next = 0, rc = CG_OK;
    double last_report = 0;
    const struct timespec nap = {0, 100 * 1000 * 1000};
    while ((next < n_todo || n_run > 0) && rc == CG_OK && !stopped(s)) {
        int changed = 0;
        while (n_run < s->o->jobs && next < n_todo && rc == CG_OK) {
            int i = todo[next++];
            rc = tune_trial_start(s, &run[n_run], first_id + i, round, i, &points[i]);
            if (rc == CG_OK) n_run++;
            changed = 1;
        }
        for (int k = 0; k < n_run; k++) {
            tune_trial *t = &run[k];
            if (tune_trial_poll(t)) {
                changed = 1;
                if (s->o->early_median) median_stop(s, t);
            }
            if (!tune_trial_reap(t)) continue;
            if (stopped(s)) { /* it may have died of the same Ctrl-C: not a result */
                cg_tune_record_free(&t->rec);
                run[k--] = run[--n_run];
                continue;
            }
            if (rc == CG_OK) rc = keep_record(s, &t->rec);
            else cg_tune_record_free(&t->rec);
            run[k--] = run[--n_run];
            changed = 1;
        }
        if (changed || cg_seconds() - last_report > 1) {
            report_running(s, run, n_run);
            last_report = cg_seconds();
        }
        if (n_run > 0) nanosleep(&nap, NULL);
    }
    for (int k = 0; k < n_run; k++) {
        tune_trial_kill(&run[k]);
        cg_tune_record_free(&run[k].rec);
    }
    if (n_run) report_running(s, run, 0);
    free(run);
    return rc;
}

/* OUT/tune.json: the space and each round's ranges, for plots. */
static void write_ranges(tune_search *s, cJSON *rounds)
{
    cJSON *r = cJSON_CreateObject();
    for (int i = 0; r && i < s->cur.n; i++) {
        char d[2048];
        cg_tune_describe(&s->cur.p[i], d, (int)sizeof d);
        cJSON_AddStringToObject(r, s->cur.p[i].name, d);
    }
    if (r) cJSON_AddItemToArray(rounds, r);
    cJSON *o = s->rank == 0 ? cJSON_CreateObject() : NULL;
    if (!o) return;
    cJSON *scale = cJSON_AddObjectToObject(o, "scale");
    for (int i = 0; scale && i < s->orig.n; i++) {
        const cg_tune_param *p = &s->orig.p[i];
        cJSON_AddStringToObject(scale, p->name,
                                p->dist == CG_TUNE_ONE_MINUS_LOG ? "one_minus_log"
                                : cg_tune_param_is_log(p)        ? "log"
                                : p->dist == CG_TUNE_CHOICE      ? "choice" : "linear");
    }
    cJSON_AddItemReferenceToObject(o, "rounds", rounds);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    char path[CG_PATH_LEN + 100];
    snprintf(path, sizeof path, "%s/tune.json", s->o->out);
    FILE *f = text ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%s\n", text);
        fclose(f);
    }
    free(text);
}

static void refine(tune_search *s, int round)
{
    int *rank = ranking(s, round - 1);
    cg_tune_point best[256];
    int n = 0;
    for (int i = 0; rank && rank[i] >= 0 && n < s->o->keep && n < 256; i++) {
        const cg_tune_record *r = &s->recs[rank[i]];
        if (r->status != CG_TRIAL_OK || !isfinite(r->val_acc)) break;
        best[n++] = r->point;
    }
    free(rank);
    if (n > 0) cg_tune_space_refine(&s->cur, &s->orig, best, n, s->o->margin);
}

/* Same params as recorded, or the search has changed under resume. */
static int same_point(const tune_search *s, const cg_tune_point *a, const cg_tune_point *b)
{
    for (int i = 0; i < s->orig.n; i++) {
        char x[CG_TUNE_CHOICE_LEN + 32], y[CG_TUNE_CHOICE_LEN + 32];
        cg_tune_format_value(&s->orig.p[i], a->v[i], x, (int)sizeof x);
        cg_tune_format_value(&s->orig.p[i], b->v[i], y, (int)sizeof y);
        if (strcmp(x, y) != 0) return 0;
    }
    return 1;
}

static int by_id(const void *pa, const void *pb)
{
    const cg_tune_record *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

/* Append a line to a growing buffer. */
static int append(char **buf, size_t *len, size_t *cap, const char *line)
{
    size_t n = strlen(line);
    if (*len + n + 2 > *cap) {
        size_t c = 2 * (*len + n + 2);
        char *p = realloc(*buf, c);
        if (!p) return -1;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, line, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    return 0;
}

/* The end of a round under MPI: every rank sends the records it finished
 * this round (s->recs from `first` on) as results.jsonl lines, and adds the
 * other ranks' in id order, so that all ranks rank the same records and
 * agree on the next round's ranges. A rank that was interrupted says so in
 * a line "!SIGNAL", so that they all stop together. */
static int exchange(tune_search *s, int first)
{
    char *mine = NULL, *all = NULL;
    size_t len = 0, cap = 0, n_all = 0;
    int rc = CG_OK;
    for (int i = first; i < s->n_recs && rc == CG_OK; i++) {
        char *line = tune_record_json(s, &s->recs[i]);
        if (!line || append(&mine, &len, &cap, line)) rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
        free(line);
    }
    if (rc == CG_OK && stopped(s)) {
        char stop[32];
        snprintf(stop, sizeof stop, "!%d", s->interrupted);
        if (append(&mine, &len, &cap, stop)) rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
    }
    if (rc == CG_OK) rc = cg_dist_allgather(s->o->dist, mine ? mine : "", len, &all, &n_all);
    free(mine);
    cg_tune_record *got = NULL;
    int n_got = 0, cap_got = 0;
    for (char *p = all; rc == CG_OK && p && *p;) {
        char *end = strchr(p, '\n');
        if (end) *end = 0;
        cg_tune_record r;
        char err[600];
        if (p[0] == '!') {
            int sig = atoi(p + 1);
            if (!s->interrupted && sig > 0) s->interrupted = sig;
        } else if (tune_record_parse(s, p, &r, err, sizeof err) != 0) {
            rc = cg_error(CG_ERR_FORMAT, "cg_tune: a record from another rank: %s", err);
        } else if (find_record(s, r.round, r.index)) {
            cg_tune_record_free(&r); /* this rank's own */
        } else {
            if (n_got == cap_got) {
                cap_got = cap_got ? 2 * cap_got : 16;
                cg_tune_record *q = realloc(got, (size_t)cap_got * sizeof *q);
                if (!q) {
                    cg_tune_record_free(&r);
                    rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
                    break;
                }
                got = q;
            }
            got[n_got++] = r;
        }
        p = end ? end + 1 : p + strlen(p);
    }
    free(all);
    if (n_got) qsort(got, (size_t)n_got, sizeof *got, by_id);
    for (int i = 0; i < n_got; i++)
        if (rc != CG_OK) cg_tune_record_free(&got[i]);
        else rc = keep_record(s, &got[i]);
    free(got);
    return rc;
}

static int search_rounds(tune_search *s)
{
    const cg_tune_options *o = s->o;
    s->cur = s->orig;
    cJSON *rounds = cJSON_CreateArray();
    int rc = rounds ? CG_OK : CG_ERR_MEMORY, first_id = 0;
    for (int round = 0; round < o->rounds && rc == CG_OK && !stopped(s); round++) {
        if (round > 0) refine(s, round);
        write_ranges(s, rounds);
        long n = o->grid ? cg_tune_grid_size(&s->cur, o->grid, 100000) : o->trials;
        if (n <= 0) {
            rc = cg_error(CG_ERR_ARG, "grid: %d points per parameter make more than 100000 "
                          "trials", o->grid);
            break;
        }
        cg_tune_point *pts = malloc((size_t)n * sizeof *pts);
        int *todo = malloc((size_t)n * sizeof *todo), n_todo = 0;
        if (!pts || !todo) rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
        for (int i = 0; rc == CG_OK && i < n; i++) {
            if (o->grid) cg_tune_grid_point(&s->cur, o->grid, i, &pts[i]);
            else cg_tune_sample(&s->cur, cg_tune_trial_seed(o->seed, round, i), &pts[i]);
            const cg_tune_record *done = find_record(s, round, i);
            if (!done) todo[n_todo++] = i;
            else if (!same_point(s, &done->point, &pts[i]))
                rc = cg_error(CG_ERR_ARG, "resume: trial %d of round %d in results.jsonl has "
                              "other parameters than this search gives it: resume with the "
                              "same seed, space and options", i, round);
        }
        if (rc == CG_OK) {
            cg_tune_event e = {.kind = CG_TUNE_ROUND, .round = round, .ranges = &s->cur,
                               .n_trials = n, .n_done = n - n_todo};
            emit(s, &e);
        }
        /* Under MPI this rank's share: every size-th of the todo trials. */
        int n_mine = 0;
        for (int k = 0; k < n_todo; k++)
            if (k % s->size == s->rank) todo[n_mine++] = todo[k];
        int first_rec = s->n_recs;
        if (rc == CG_OK) rc = run_trials(s, round, first_id, todo, n_mine, pts);
        if (rc == CG_OK && s->size > 1) rc = exchange(s, first_rec);
        first_id += (int)n;
        free(pts);
        free(todo);
    }
    cJSON_Delete(rounds);
    return rc;
}

static char *read_text(const char *path)
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
                errno = ENOMEM;
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

static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Rank 0 checks out and creates it, then tells the other ranks whether to
 * go on, with the results.jsonl to resume from, in one allgather: "CODE\n
 * MESSAGE\nFILE". The others create out after that (it may be on another
 * machine's disk), so they never mistake rank 0's fresh directory for an
 * earlier search. Every rank returns the same code. */
static int open_out(tune_search *s)
{
    const cg_tune_options *o = s->o;
    char path[CG_PATH_LEN + 100], trials[CG_PATH_LEN + 100];
    snprintf(path, sizeof path, "%s/results.jsonl", o->out);
    snprintf(trials, sizeof trials, "%s/trials", o->out);
    char *msg = NULL, *text = NULL;
    int rc = CG_OK;
    if (s->rank == 0) {
        struct stat st;
        if (!o->resume && stat(path, &st) == 0)
            rc = cg_error(CG_ERR_ARG, "out: '%s' holds a search already: resume it or choose "
                          "another directory", o->out);
        else if (o->resume && !(text = read_text(path)) && errno != ENOENT)
            rc = cg_error(CG_ERR_IO, "out: cannot read '%s': %s", path, strerror(errno));
        else if (make_dir(o->out) || make_dir(trials) || !(s->results = fopen(path, "a")))
            rc = cg_error(CG_ERR_IO, "out: cannot write in '%s': %s", o->out, strerror(errno));
        const char *err = rc ? cg_last_error() : "";
        size_t n = (text ? strlen(text) : 0) + strlen(err) + 32;
        if ((msg = malloc(n))) snprintf(msg, n, "%d\n%s\n%s", rc, err, text ? text : "");
        else rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
        free(text);
        text = NULL;
    }
    if (s->size > 1) {
        char *all = NULL;
        size_t n_all = 0;
        int got = cg_dist_allgather(o->dist, msg ? msg : "", msg ? strlen(msg) : 0, &all, &n_all);
        free(msg);
        if (got) return got;
        msg = all; /* only rank 0 sent anything */
        rc = *msg ? atoi(msg) : CG_ERR_STATE;
        char *m = strchr(msg, '\n'), *e = m ? strchr(m + 1, '\n') : NULL;
        if (rc && s->rank != 0 && e) {
            *e = 0;
            cg_error(rc, "%s", m + 1);
            *e = '\n';
        }
        if (rc == CG_OK && s->rank != 0 && (make_dir(o->out) || make_dir(trials)))
            rc = cg_error(CG_ERR_IO, "out: cannot write in '%s': %s", o->out, strerror(errno));
    }
    if (rc == CG_OK && o->resume) {
        char *m = strchr(msg, '\n'), *body = m ? strchr(m + 1, '\n') : NULL;
        if (body) rc = tune_results_parse(s, body + 1, path);
    }
    free(msg);
    return rc;
}

static int check_options(const cg_tune_options *o)
{
    if (!o->out || !*o->out) return cg_error(CG_ERR_ARG, "out: the search needs a directory");
    if (o->space.n < 1 || o->space.n > CG_TUNE_MAX_PARAMS)
        return cg_error(CG_ERR_ARG, "space: no parameters to search");
    if (o->trials < 1 || o->rounds < 1 || o->keep < 1 || o->jobs < 1 || o->grid < 0 ||
        !(o->margin >= 0) || o->threads < 0)
        return cg_error(CG_ERR_ARG, "cg_tune: trials, rounds, keep and jobs must be at least 1, "
                        "grid, margin and threads not negative");
    /* Ranking, pruning and refining read the validation score: accuracy,
     * or R2 for a regression (cg_tune_epoch_score). */
    double vs = o->base.loop.val_split;
    if (!(vs > 0 && vs < 1))
        return cg_error(CG_ERR_ARG, "loop.val_split: the search ranks trials by validation "
                        "%s, so it must be in (0, 1)", o->base.model.task == CG_TASK_REGRESSION ? "R2" : "accuracy");
    return CG_OK;
}

int cg_tune(const cg_tune_options *o, cg_tune_result *res)
{
    if (!res) return cg_error(CG_ERR_ARG, "cg_tune: NULL result");
    memset(res, 0, sizeof *res);
    res->best = -1;
    if (!o) return cg_error(CG_ERR_ARG, "cg_tune: NULL options");
    int rc = check_options(o);
    if (rc) return rc;
    tune_search *s = calloc(1, sizeof *s);
    if (!s) return cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
    s->o = o;
    s->orig = o->space;
    s->rank = o->dist ? cg_dist_rank(o->dist) : 0;
    s->size = o->dist ? cg_dist_size(o->dist) : 1;
    rc = open_out(s);
    if (rc == CG_OK) rc = search_rounds(s);
    if (s->results) fclose(s->results);
    res->interrupted = s->interrupted;
    res->records = s->recs;
    res->n_records = s->n_recs;
    res->ranking = ranking(s, 1 << 30);
    if (res->ranking) {
        int b = res->ranking[0];
        res->best = b >= 0 && s->recs[b].status == CG_TRIAL_OK ? b : -1;
    } else if (rc == CG_OK) {
        rc = cg_error(CG_ERR_MEMORY, "cg_tune: out of memory");
    }
    for (int i = 0; i < s->n_recs; i++) {
        res->n_ok += s->recs[i].status == CG_TRIAL_OK;
        res->n_failed += s->recs[i].status == CG_TRIAL_FAILED;
        res->n_stopped += s->recs[i].status == CG_TRIAL_STOPPED;
        res->n_diverged += s->recs[i].status == CG_TRIAL_DIVERGED;
    }
    free(s);
    return rc;
}
