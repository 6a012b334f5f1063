/* SPDX-License-Identifier: MIT */
/* test_fit_progress.c: cg_fit reports progress through on_progress only
 * (it prints nothing itself), in order: each step, then the epoch with its
 * metrics, then early stopping's message; cg_progress_bar_callback writes
 * Keras's lines to a file that is not a terminal. */
#define _POSIX_C_SOURCE 200809L /* dup, dup2, fileno */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct trace {
    int batches, epochs, stops, early;
    int last_step, order_ok;
    char message[256];
    cg_progress_bar bar;
} trace;

static void record(const cg_progress *p, void *user)
{
    trace *t = user;
    switch (p->phase) {
    case CG_PROGRESS_BATCH:
        if (p->step != t->last_step + 1 || p->step > p->steps || !(p->loss >= 0) ||
            p->acc < 0 || p->acc > 1 || p->elapsed < 0 || p->metrics || p->message)
            t->order_ok = 0;
        t->last_step = p->step;
        t->batches++;
        break;
    case CG_PROGRESS_EPOCH:
        if (t->last_step != p->steps || !p->metrics || p->metrics->epoch != p->epoch ||
            !p->has_validation || isnan(p->metrics->val_acc))
            t->order_ok = 0;
        t->last_step = 0;
        t->epochs++;
        break;
    case CG_PROGRESS_STOPPED:
        t->stops++;
        break;
    case CG_PROGRESS_EARLY_STOP:
        snprintf(t->message, sizeof t->message, "%s", p->message ? p->message : "(null)");
        t->early++;
        break;
    }
    cg_progress_bar_callback(p, &t->bar);
}

static int stop_at_5(int step, double loss, void *user)
{
    (void)loss;
    (void)user;
    return step == 5;
}

static cg_model *mlp(void)
{
    cg_model *m = cg_model_new(4, 3, 7);
    CHECK(cg_model_add_dense(m, 8) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    return m;
}

static char *slurp(FILE *f)
{
    static char buf[16384];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    return buf;
}

int main(void)
{
    cg_dataset ds, tr, va;
    CHECK(cg_make_blobs(50, 3, 4, 3.0, 3, &ds) == CG_OK);
    CHECK(cg_dataset_split(&ds, 0.3, 1, &tr, &va) == CG_OK);

    /* Without on_progress nothing is written to stderr or stdout. */
    {
        FILE *cap = tmpfile();
        fflush(stderr);
        fflush(stdout);
        int e = dup(fileno(stderr)), o = dup(fileno(stdout));
        dup2(fileno(cap), fileno(stderr));
        dup2(fileno(cap), fileno(stdout));
        cg_model *m = mlp();
        cg_optimizer *opt = cg_adam_default(1e-2);
        cg_fit_options fo;
        cg_fit_options_init(&fo);
        fo.epochs = 2;
        fo.patience = 1;
        int rc = cg_fit(m, opt, &tr, &va, NULL, &fo, NULL);
        fflush(stderr);
        fflush(stdout);
        dup2(e, fileno(stderr));
        dup2(o, fileno(stdout));
        close(e);
        close(o);
        CHECK(rc == CG_OK);
        CHECK(strcmp(slurp(cap), "") == 0);
        fclose(cap);
        cg_optimizer_free(opt);
        cg_model_free(m);
    }
    /* Phases in order; early stopping ends with its message; the bar's
     * lines in a file. The validation labels are rotated (y + 1 mod 3), so
     * as the model learns, validation accuracy falls below epoch 1's. */
    {
        cg_dataset wrong = va;
        int32_t *wy = malloc((size_t)va.n * sizeof *wy);
        for (int i = 0; i < va.n; i++) wy[i] = (va.y[i] + 1) % 3;
        wrong.y = wy;
        cg_model *m = mlp();
        cg_optimizer *opt = cg_sgd(0.001);
        trace t = {.order_ok = 1};
        FILE *f = tmpfile();
        cg_progress_bar_init(&t.bar, f);
        CHECK(t.bar.tty == 0);
        cg_fit_options fo;
        cg_fit_options_init(&fo);
        fo.epochs = 10;
        fo.batch_size = 16;
        fo.patience = 2;
        fo.on_progress = record;
        fo.progress_user = &t;
        cg_fit_result res;
        CHECK(cg_fit(m, opt, &tr, &wrong, NULL, &fo, &res) == CG_OK);
        free(wy);
        const int steps = (tr.n + 15) / 16;
        CHECK(res.stopped_early && res.epochs == 3);
        CHECK(t.order_ok);
        CHECK(t.epochs == 3 && t.batches == 3 * steps && t.stops == 0 && t.early == 1);
        CHECK(strstr(t.message, "early stopping: no val_acc as good as the best for 2 epochs") == t.message);
        const char *out = slurp(f);
        CHECK(strncmp(out, "Epoch 1/10 - ", 13) == 0);
        CHECK(strstr(out, "\nEpoch 3/10 - ") != NULL);
        CHECK(strstr(out, " - val_acc: ") != NULL);
        CHECK(strstr(out, "\nearly stopping: no val_acc as good as the best for 2 epochs") != NULL);
        CHECK(strchr(out, '\r') == NULL && strchr(out, '\033') == NULL);
        fclose(f);
        cg_optimizer_free(opt);
        cg_model_free(m);
    }
    /* on_step's stop ends the epoch early: STOPPED, no EPOCH. */
    {
        cg_model *m = mlp();
        cg_optimizer *opt = cg_adam_default(1e-2);
        trace t = {.order_ok = 1};
        cg_progress_bar_init(&t.bar, tmpfile());
        cg_fit_options fo;
        cg_fit_options_init(&fo);
        fo.epochs = 3;
        fo.batch_size = 8;
        fo.on_step = stop_at_5;
        fo.on_progress = record;
        fo.progress_user = &t;
        CHECK(cg_fit(m, opt, &tr, NULL, NULL, &fo, NULL) == CG_OK);
        CHECK(t.batches == 5 && t.epochs == 0 && t.stops == 1);
        fclose(t.bar.file);
        cg_optimizer_free(opt);
        cg_model_free(m);
    }
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    cg_dataset_free(&ds);
    CHECK_DONE();
}
