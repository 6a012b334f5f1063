/* SPDX-License-Identifier: MIT */
/* tune_search.c: the rounds of a search: this round's points, trials run
 * `jobs` at a time (under MPI, each rank runs its share and the ranks swap
 * records at the end of the round), a live table, median stopping, then the
 * ranges of the next round from the best trials so far. */
#define _POSIX_C_SOURCE 200809L /* sigaction, nanosleep, kill */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/tune_run.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { interrupted = sig; }

void tune_format_params(const cg_tune_space *sp, const cg_tune_point *pt, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < sp->n && used < size; i++) {
        char v[CG_TUNE_CHOICE_LEN + 32];
        cg_tune_format_value(&sp->p[i], pt->v[i], v, (int)sizeof v);
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", i ? " " : "", sp->p[i].name, v);
    }
}

/* Better first: finished before failed, higher val accuracy, then lower id,
 * so that the ranking (and the next round's ranges) never depends on the
 * order trials finished in. */
static const tune_record *sort_recs;

static int better(const void *pa, const void *pb)
{
    const tune_record *a = &sort_recs[*(const int *)pa], *b = &sort_recs[*(const int *)pb];
    int ga = a->status == TRIAL_OK && isfinite(a->val_acc);
    int gb = b->status == TRIAL_OK && isfinite(b->val_acc);
    if (ga != gb) return gb - ga;
    double va = isfinite(a->val_acc) ? a->val_acc : -1, vb = isfinite(b->val_acc) ? b->val_acc : -1;
    if (va != vb) return va > vb ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

int *tune_search_ranking(const tune_search *s, int max_round)
{
    int *idx = malloc((size_t)(s->n_recs + 1) * sizeof *idx), n = 0;
    if (!idx) return NULL;
    for (int i = 0; i < s->n_recs; i++)
        if (s->recs[i].round <= max_round) idx[n++] = i;
    sort_recs = s->recs;
    qsort(idx, (size_t)n, sizeof *idx, better);
    idx[n] = -1;
    return idx;
}

static int add_record(tune_search *s, const tune_record *r)
{
    if (s->n_recs == s->cap_recs) {
        int cap = s->cap_recs ? 2 * s->cap_recs : 64;
        tune_record *p = realloc(s->recs, (size_t)cap * sizeof *p);
        if (!p) return -1;
        s->recs = p;
        s->cap_recs = cap;
    }
    s->recs[s->n_recs++] = *r;
    return 0;
}

static const tune_record *find_record(const tune_search *s, int round, int index)
{
    for (int i = 0; i < s->n_recs; i++)
        if (s->recs[i].round == round && s->recs[i].index == index) return &s->recs[i];
    return NULL;
}

/* The live table's lines are redrawn in place on a terminal: move up over
 * them and clear, then print what is final above the new ones. */
static void clear_live(tune_search *s)
{
    if (s->tty && s->live_lines) printf("\033[%dA\033[J", s->live_lines);
    s->live_lines = 0;
}

static void print_finished(tune_search *s, const tune_record *r)
{
    if (s->quiet) return;
    static const char *const names[] = {"ok", "FAILED", "stopped"};
    char params[2048];
    tune_format_params(&s->ctx.space[0], &r->point, params, sizeof params);
    clear_live(s);
    printf("[%4d] r%d %-7s val %.4f test %.4f %7.1fs  %s%s%s\n", r->id, r->round,
           names[r->status], isfinite(r->val_acc) ? r->val_acc : 0.0,
           isfinite(r->test_acc) ? r->test_acc : 0.0, r->seconds, params,
           r->reason[0] ? "  -- " : "", r->reason);
}

static void print_progress(tune_search *s, const tune_trial *t, int n_running, int live)
{
    char params[2048];
    tune_format_params(s->ctx.space, &t->rec.point, params, sizeof params);
    const tune_epoch *e = t->rec.n_epochs ? &t->rec.epochs[t->rec.n_epochs - 1] : NULL;
    char val[32] = "     -";
    if (e && isfinite(e->val_acc)) snprintf(val, sizeof val, "%.4f", e->val_acc);
    printf("%s[%4d] r%d %-7s epoch %d/%d val %s %7.1fs  %s\n", live ? "  " : "", t->rec.id,
           t->rec.round, t->stop_requested ? "stopping" : "running", e ? e->epoch : 0,
           t->epochs_total, val, tune_now() - t->started, params);
    (void)n_running;
}

static void draw_live(tune_search *s, const tune_trial *run, int n)
{
    if (s->quiet || !s->tty) return;
    clear_live(s);
    for (int i = 0; i < n; i++) print_progress(s, &run[i], n, 1);
    s->live_lines = n;
    fflush(stdout);
}

/* Median stopping (Golovin et al., Google Vizier): a trial whose val
 * accuracy at epoch e is below the median of finished trials' at epoch e
 * stops, once 3 finished trials reached e. Under MPI "finished" means known
 * to this rank: every rank's trials of earlier rounds, its own of this one
 * (records are swapped only between rounds). */
static void median_stop(tune_search *s, tune_trial *t)
{
    if (t->stop_requested || t->rec.n_epochs == 0) return;
    const tune_epoch *e = &t->rec.epochs[t->rec.n_epochs - 1];
    if (e->epoch >= t->epochs_total || !isfinite(e->val_acc)) return;
    double *v = malloc((size_t)(s->n_recs + 1) * sizeof *v);
    if (!v) return;
    int n = 0;
    for (int i = 0; i < s->n_recs; i++) {
        const tune_record *r = &s->recs[i];
        if (r->status == TRIAL_OK && r->n_epochs >= e->epoch && isfinite(r->epochs[e->epoch - 1].val_acc))
            v[n++] = r->epochs[e->epoch - 1].val_acc;
    }
    if (n >= 3) {
        for (int i = 1; i < n; i++) /* insertion sort: n is small */
            for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                double x = v[j];
                v[j] = v[j - 1];
                v[j - 1] = x;
            }
        double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        if (e->val_acc < med) {
            snprintf(t->rec.reason, sizeof t->rec.reason,
                     "median stopping at epoch %d: val accuracy %.4f < median %.4f", e->epoch,
                     e->val_acc, med);
            t->stop_requested = 1;
            kill(t->pid, SIGTERM);
        }
    }
    free(v);
}

/* Append a record to results.jsonl (rank 0 only: the other ranks have no
 * file open) and to s->recs. */
static int keep_record(tune_search *s, tune_record *r)
{
    if (s->results) {
        char *line = tune_record_json(&s->ctx, r);
        int bad = !line || fprintf(s->results, "%s\n", line) < 0 || fflush(s->results) != 0;
        free(line);
        if (bad) {
            clear_live(s);
            fprintf(stderr, "cgrad tune: cannot write %s/results.jsonl\n", s->ctx.out);
            tune_record_free(r);
            return -1;
        }
    }
    print_finished(s, r);
    if (add_record(s, r)) {
        tune_record_free(r);
        return -1;
    }
    return 0;
}

/* Run the given trials of a round, `jobs` at a time. */
static int run_trials(tune_search *s, int round, int first_id, const int *todo, int n_todo,
                      const cg_tune_point *points)
{
    tune_trial *run = calloc((size_t)s->jobs, sizeof *run);
    if (!run) return CLI_FAIL;
    int n_run = 0, next = 0, rc = CLI_OK;
    double last_draw = 0;
    const struct timespec nap = {0, 100 * 1000 * 1000};
    while ((next < n_todo || n_run > 0) && rc == CLI_OK) {
        if (interrupted) break;
        int changed = 0;
        while (n_run < s->jobs && next < n_todo) {
            int i = todo[next++];
            if (tune_trial_start(&s->ctx, &run[n_run], first_id + i, round, i, &points[i])) {
                rc = CLI_FAIL;
                break;
            }
            n_run++;
            changed = 1;
        }
        for (int k = 0; k < n_run; k++) {
            tune_trial *t = &run[k];
            if (tune_trial_poll_metrics(t)) {
                changed = 1;
                /* Plain lines for logs: one per trial every 10 s at most. */
                if (!s->quiet && !s->tty && t->rec.n_epochs < t->epochs_total &&
                    tune_now() - t->last_shown > 10) {
                    print_progress(s, t, n_run, 0);
                    t->last_shown = tune_now();
                }
                if (s->early_median) median_stop(s, t);
            }
            if (!tune_trial_reap(t)) continue;
            if (interrupted) { /* it may have died of the same Ctrl-C: not a result */
                tune_record_free(&t->rec);
                run[k--] = run[--n_run];
                continue;
            }
            if (keep_record(s, &t->rec)) rc = CLI_FAIL;
            run[k--] = run[--n_run];
            changed = 1;
        }
        if (changed || tune_now() - last_draw > 1) {
            draw_live(s, run, n_run);
            last_draw = tune_now();
        }
        if (n_run > 0) nanosleep(&nap, NULL);
    }
    for (int k = 0; k < n_run; k++) {
        tune_trial_kill(&run[k]);
        tune_record_free(&run[k].rec);
    }
    clear_live(s);
    free(run);
    return rc;
}

/* OUT/tune.json: the space and each round's ranges, for the report and plots. */
static void write_ranges(tune_search *s, cJSON *rounds)
{
    cJSON *r = cJSON_CreateObject();
    for (int i = 0; r && i < s->cur.n; i++) {
        char d[2048];
        cg_tune_describe(&s->cur.p[i], d, (int)sizeof d);
        cJSON_AddStringToObject(r, s->cur.p[i].name, d);
    }
    if (r) cJSON_AddItemToArray(rounds, r);
    cJSON *o = cJSON_CreateObject();
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
    char path[1100];
    snprintf(path, sizeof path, "%s/tune.json", s->ctx.out);
    FILE *f = text && s->rank == 0 ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%s\n", text);
        fclose(f);
    }
    free(text);
}

static void refine(tune_search *s, int round)
{
    int *rank = tune_search_ranking(s, round - 1);
    cg_tune_point best[256];
    int n = 0;
    for (int i = 0; rank && rank[i] >= 0 && n < s->keep && n < 256; i++) {
        const tune_record *r = &s->recs[rank[i]];
        if (r->status != TRIAL_OK || !isfinite(r->val_acc)) break;
        best[n++] = r->point;
    }
    free(rank);
    if (n > 0) cg_tune_space_refine(&s->cur, &s->orig, best, n, s->margin);
}

/* Same params as recorded, or the search has changed under --resume. */
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
    const tune_record *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
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
    int rc = CLI_OK;
    for (int i = first; i <= s->n_recs && rc == CLI_OK; i++) {
        char stop[32] = "";
        char *line = NULL;
        if (i < s->n_recs) line = tune_record_json(&s->ctx, &s->recs[i]);
        else if (interrupted) snprintf(stop, sizeof stop, "!%d", (int)interrupted);
        const char *add = line ? line : stop;
        size_t n = strlen(add);
        if (i < s->n_recs && !line) rc = CLI_FAIL;
        else if (len + n + 2 > cap) {
            size_t c = 2 * (len + n + 2);
            char *p = realloc(mine, c);
            if (p) {
                mine = p;
                cap = c;
            } else {
                rc = CLI_FAIL;
            }
        }
        if (rc == CLI_OK && n) {
            memcpy(mine + len, add, n);
            len += n;
            mine[len++] = '\n';
        }
        free(line);
    }
    if (rc == CLI_OK && cg_dist_allgather(s->dist, mine ? mine : "", len, &all, &n_all)) {
        fprintf(stderr, "cgrad tune: %s\n", cg_last_error());
        rc = CLI_FAIL;
    }
    free(mine);
    tune_record *got = NULL;
    int n_got = 0, cap_got = 0;
    for (char *p = all; rc == CLI_OK && p && *p;) {
        char *end = strchr(p, '\n');
        if (end) *end = 0;
        tune_record r;
        char err[256];
        if (p[0] == '!') {
            int sig = atoi(p + 1);
            if (!interrupted && sig > 0) interrupted = sig;
        } else if (tune_record_parse(p, s->ctx.space, &r, err, sizeof err) != 0) {
            fprintf(stderr, "cgrad tune: a record from another rank: %s\n", err);
            rc = CLI_FAIL;
        } else if (find_record(s, r.round, r.index)) {
            tune_record_free(&r); /* this rank's own */
        } else if (n_got == cap_got) {
            cap_got = cap_got ? 2 * cap_got : 16;
            tune_record *q = realloc(got, (size_t)cap_got * sizeof *q);
            if (q) {
                got = q;
                got[n_got++] = r;
            } else {
                tune_record_free(&r);
                rc = CLI_FAIL;
            }
        } else {
            got[n_got++] = r;
        }
        p = end ? end + 1 : p + strlen(p);
    }
    free(all);
    if (n_got) qsort(got, (size_t)n_got, sizeof *got, by_id);
    for (int i = 0; i < n_got; i++)
        if (rc != CLI_OK || keep_record(s, &got[i])) {
            tune_record_free(&got[i]);
            rc = CLI_FAIL;
        }
    free(got);
    return rc;
}

int tune_search_run(tune_search *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    s->cur = s->orig;
    s->ctx.space = &s->cur;
    cJSON *rounds = cJSON_CreateArray();
    int rc = CLI_OK, first_id = 0;
    for (int round = 0; round < s->rounds && rc == CLI_OK && !interrupted; round++) {
        if (round > 0) refine(s, round);
        write_ranges(s, rounds);
        long n = s->grid ? cg_tune_grid_size(&s->cur, s->grid, 100000) : s->trials;
        if (n <= 0) {
            fprintf(stderr, "cgrad tune: --grid %d: more than 100000 points\n", s->grid);
            rc = CLI_USAGE;
            break;
        }
        cg_tune_point *pts = malloc((size_t)n * sizeof *pts);
        int *todo = malloc((size_t)n * sizeof *todo), n_todo = 0;
        if (!pts || !todo) rc = CLI_FAIL;
        for (int i = 0; rc == CLI_OK && i < n; i++) {
            if (s->grid) cg_tune_grid_point(&s->cur, s->grid, i, &pts[i]);
            else cg_tune_sample(&s->cur, cg_tune_trial_seed(s->ctx.seed, round, i), &pts[i]);
            const tune_record *done = find_record(s, round, i);
            if (!done) todo[n_todo++] = i;
            else if (!same_point(s, &done->point, &pts[i])) {
                fprintf(stderr, "cgrad tune: --resume: trial %d of round %d in results.jsonl has "
                                "other parameters than this search gives it: resume with the "
                                "same --seed, space and flags\n", i, round);
                rc = CLI_USAGE;
            }
        }
        if (rc == CLI_OK && !s->quiet) {
            printf("round %d: %ld trials", round, n);
            if (n_todo < n) printf(" (%ld already done)", n - n_todo);
            printf("\n");
            for (int i = 0; i < s->cur.n; i++) {
                char d[2048];
                cg_tune_describe(&s->cur.p[i], d, (int)sizeof d);
                printf("  %-12s %s\n", s->cur.p[i].name, d);
            }
            fflush(stdout);
        }
        /* Under MPI this rank's share: every size-th of the todo trials. */
        int n_mine = 0;
        for (int k = 0; k < n_todo; k++)
            if (k % s->size == s->rank) todo[n_mine++] = todo[k];
        int first_rec = s->n_recs;
        if (rc == CLI_OK) rc = run_trials(s, round, first_id, todo, n_mine, pts);
        if (rc == CLI_OK && s->size > 1) rc = exchange(s, first_rec);
        first_id += (int)n;
        free(pts);
        free(todo);
    }
    cJSON_Delete(rounds);
    if (interrupted) {
        if (s->rank == 0)
            fprintf(stderr, "cgrad tune: interrupted; finished trials are in %s/results.jsonl "
                            "(continue with --resume)\n", s->ctx.out);
        return 128 + (int)interrupted;
    }
    return rc;
}
