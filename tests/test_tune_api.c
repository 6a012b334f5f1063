/* SPDX-License-Identifier: MIT */
/* test_tune_api.c: a search run from C through cgrad.h alone (no CLI):
 * cg_tune_options_init, cg_tune_space_add, cg_tune on Gaussian blobs
 * written to a CSV. Checks the records (count, ids, epochs, statuses), the
 * ranking and the best trial, results.jsonl, events, a resumed search that
 * runs nothing again, a diverging trial (lr 1e6) recorded as diverged and
 * never the best, and the usage errors. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "check.h"

#include <cgrad.h>

#include <stdlib.h>

/* n rows of 3 blobs in 4 features, overlapping enough that accuracy
 * depends on the hyperparameters. */
static int write_blobs(const char *path, int n_per_class, uint64_t seed)
{
    cg_dataset ds;
    if (cg_make_blobs(n_per_class, 3, 4, 1.5, seed, &ds) != CG_OK) return -1;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "a,b,c,d,label\n");
        for (int i = 0; i < ds.n; i++) {
            for (int j = 0; j < ds.d; j++) fprintf(f, "%.4f,", ds.x_f32[i * ds.d + j]);
            fprintf(f, "%d\n", ds.y[i]);
        }
        fclose(f);
    }
    cg_dataset_free(&ds);
    return f ? 0 : -1;
}

static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1 << 16];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

typedef struct events {
    int rounds, done;
} events;

static void on_event(const cg_tune_event *e, void *user)
{
    events *ev = user;
    ev->rounds += e->kind == CG_TUNE_ROUND;
    ev->done += e->kind == CG_TUNE_DONE;
}

int main(void)
{
    char dir[] = "/tmp/cg_tune_api_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char train[256], test[256], out[256], results[300];
    snprintf(train, sizeof train, "%s/train.csv", dir);
    snprintf(test, sizeof test, "%s/test.csv", dir);
    snprintf(out, sizeof out, "%s/search", dir);
    snprintf(results, sizeof results, "%s/results.jsonl", out);
    CHECK(write_blobs(train, 60, 1) == 0);
    CHECK(write_blobs(test, 30, 2) == 0);

    cg_tune_options o;
    cg_tune_options_init(&o);
    snprintf(o.base.data.source, sizeof o.base.data.source, "%s", train);
    snprintf(o.base.data.test, sizeof o.base.data.test, "%s", test);
    o.base.model.n_hidden = 1;
    o.base.model.hidden[0] = 8;
    o.base.loop.epochs = 2;
    o.base.loop.batch = 16;
    o.out = out;
    o.trials = 4;
    o.jobs = 2;
    o.threads = 1;
    o.seed = 7;
    events ev = {0};
    o.on_event = on_event;
    o.user = &ev;

    /* An empty space is refused before anything is written. */
    cg_tune_result res;
    CHECK(cg_tune(&o, &res) == CG_ERR_ARG);
    CHECK_ERROR("no parameters");
    cg_tune_result_free(&res);
    CHECK(cg_tune_space_add(&o.space, "speed=uniform:0:1") == CG_ERR_ARG);
    CHECK_ERROR("speed");
    CHECK(o.space.n == 0);

    CHECK(cg_tune_space_add(&o.space, "lr=loguniform:1e-3:0.3") == CG_OK);
    CHECK(cg_tune_space_add(&o.space, "units=intlog:4:16") == CG_OK);
    CHECK(o.space.n == 2);
    int rc = cg_tune(&o, &res);
    CHECK(rc == CG_OK);
    if (rc) fprintf(stderr, "cg_tune: %s\n", cg_last_error());
    CHECK(res.n_records == 4);
    CHECK(res.n_ok == 4 && res.n_failed == 0 && res.n_stopped == 0 && res.n_diverged == 0);
    CHECK(!res.interrupted);
    CHECK(ev.rounds == 1 && ev.done == 4);
    int seen = 0;
    for (int i = 0; i < res.n_records; i++) {
        const cg_tune_record *r = &res.records[i];
        CHECK(r->id >= 0 && r->id < 4);
        seen |= 1 << r->id;
        CHECK(r->round == 0 && r->index == r->id);
        CHECK(r->status == CG_TRIAL_OK);
        CHECK(strcmp(cg_tune_status_name(r->status), "ok") == 0);
        CHECK(r->n_epochs == 2 && r->epochs[1].epoch == 2);
        CHECK(r->val_acc >= 0 && r->val_acc <= 1);
        CHECK(r->test_acc >= 0 && r->test_acc <= 1);
        /* The trial ran its point: the sampled width and rate in its config
         * (units alone gives two hidden layers of that width). */
        CHECK(r->config.model.n_hidden == 2 && r->config.model.hidden[0] == (int)r->point.v[1] &&
              r->config.model.hidden[1] == (int)r->point.v[1]);
        CHECK(r->point.v[1] >= 4 && r->point.v[1] <= 16);
        CHECK(r->config.optim.lr == r->point.v[0]);
        CHECK(r->config.loop.seed == r->seed);
    }
    CHECK(seen == 0xf);
    CHECK(res.best >= 0 && res.best < res.n_records && res.ranking && res.ranking[0] == res.best);
    for (int k = 1; res.ranking && k < res.n_records; k++)
        CHECK(res.records[res.ranking[k - 1]].val_acc >= res.records[res.ranking[k]].val_acc);
    /* Well-separated enough blobs: the best trial learned something. */
    if (res.best >= 0) CHECK(res.records[res.best].val_acc > 0.5);
    CHECK(count_lines(results, "\"status\":\"ok\"") == 4);
    cg_tune_result_free(&res);

    /* The same directory again: refused without resume; with resume the
     * finished trials are read back and none runs again. */
    CHECK(cg_tune(&o, &res) == CG_ERR_ARG);
    CHECK_ERROR("holds a search");
    cg_tune_result_free(&res);
    o.resume = 1;
    ev = (events){0};
    CHECK(cg_tune(&o, &res) == CG_OK);
    CHECK(res.n_records == 4 && res.n_ok == 4 && res.best >= 0);
    CHECK(count_lines(results, "\"id\"") == 4);
    cg_tune_result_free(&res);

    /* An absurd learning rate diverges: its trials are recorded as such
     * (in the result and the file), with the advice, and are never best. */
    char out2[300], results2[320];
    snprintf(out2, sizeof out2, "%s/diverge", dir);
    snprintf(results2, sizeof results2, "%s/results.jsonl", out2);
    o.out = out2;
    o.resume = 0;
    o.space = (cg_tune_space){0};
    o.base.optim.lr = NAN;
    CHECK(cg_tune_space_add(&o.space, "lr=choice:0.05,1e6") == CG_OK);
    CHECK(cg_tune(&o, &res) == CG_OK);
    CHECK(res.n_records == 4 && res.n_diverged >= 1 && res.n_ok >= 1);
    CHECK(res.n_ok + res.n_diverged == 4);
    for (int i = 0; i < res.n_records; i++) {
        const cg_tune_record *r = &res.records[i];
        int big = r->config.optim.lr == 1e6;
        CHECK(r->status == (big ? CG_TRIAL_DIVERGED : CG_TRIAL_OK));
        if (big) CHECK(strstr(r->reason, "diverged") && strstr(r->reason, "lower learning rate"));
    }
    CHECK(res.best >= 0 && res.records[res.best].status == CG_TRIAL_OK);
    for (int k = 0; res.ranking && k < res.n_records; k++) /* diverged ones rank last */
        if (res.records[res.ranking[k]].status == CG_TRIAL_DIVERGED)
            CHECK(k >= res.n_ok);
    CHECK(count_lines(results2, "\"status\":\"diverged\"") == res.n_diverged);
    cg_tune_result_free(&res);
    /* Read back by a resume, they stay diverged. */
    o.resume = 1;
    CHECK(cg_tune(&o, &res) == CG_OK);
    CHECK(res.n_records == 4 && res.n_diverged >= 1 && res.n_ok + res.n_diverged == 4);
    CHECK(res.best >= 0 && res.records[res.best].status == CG_TRIAL_OK);
    cg_tune_result_free(&res);
    CHECK(strcmp(cg_tune_status_name(CG_TRIAL_DIVERGED), "diverged") == 0);
    CHECK(strcmp(cg_tune_status_name(99), "unknown") == 0);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    CHECK_DONE();
}
