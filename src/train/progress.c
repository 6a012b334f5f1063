/* SPDX-License-Identifier: MIT */
/* progress.c: the Keras-like progress display a program installs as
 * cg_fit's on_progress (cg_fit itself never prints). */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

void cg_progress_bar_init(cg_progress_bar *bar, void *file)
{
    if (!bar) return;
    FILE *f = file ? (FILE *)file : stderr;
    bar->file = f;
    bar->tty = isatty(fileno(f));
    bar->epoch = 0;
    bar->drawn = 0;
    bar->last_draw = 0;
}

static void fmt_eta(char *buf, size_t size, double s)
{
    if (s >= 3600) snprintf(buf, size, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    else if (s >= 60) snprintf(buf, size, "%d:%02d", (int)(s / 60), (int)s % 60);
    else snprintf(buf, size, "%ds", (int)(s + 0.5));
}

enum { BAR_WIDTH = 30 };

static void fill_bar(char *bar, int step, int steps)
{
    int filled = steps > 0 ? (int)((double)BAR_WIDTH * step / steps) : BAR_WIDTH;
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : '.';
    if (filled < BAR_WIDTH) bar[filled] = '>';
    bar[BAR_WIDTH] = 0;
}

/* " - name: value" for each metric, prefix ("val_") before each name;
 * without names (a report made by hand), the accuracy acc unless NaN. */
static void fmt_metrics(char *buf, size_t size, int n, const char *const *names,
                        const double *values, const char *prefix, double acc)
{
    size_t at = 0;
    buf[0] = 0;
    if (!names && !isnan(acc)) snprintf(buf, size, " - %sacc: %.4f", prefix, acc);
    for (int i = 0; i < n && names && values && at < size; i++) {
        int w = snprintf(buf + at, size - at, " - %s%s: %.4f", prefix, names[i], values[i]);
        if (w < 0) break;
        at += (size_t)w;
    }
}

/* Redrawn in place: at most ten times a second, and always the last step. */
static void draw_step(cg_progress_bar *b, const cg_progress *p)
{
    if (!b->tty) return;
    if (p->epoch != b->epoch) {
        b->epoch = p->epoch;
        b->drawn = 0;
    }
    if (b->drawn && p->step < p->steps && p->elapsed - b->last_draw < 0.1) return;
    b->last_draw = p->elapsed;
    b->drawn = 1;
    char bar[BAR_WIDTH + 1], eta[32];
    fill_bar(bar, p->step, p->steps);
    fmt_eta(eta, sizeof eta, p->step ? p->elapsed * (p->steps - p->step) / p->step : 0);
    FILE *f = b->file;
    char m[256];
    fmt_metrics(m, sizeof m, p->n_metrics, p->metric_names, p->values, "", p->acc);
    fprintf(f, "\rEpoch %d/%d  %d/%d [%s] - ETA %s - loss: %.4f%s\033[K", p->epoch, p->epochs,
            p->step, p->steps, bar, eta, p->loss, m);
    fflush(f);
}

static void draw_epoch(cg_progress_bar *b, const cg_progress *p)
{
    const cg_epoch_metrics *e = p->metrics;
    FILE *f = b->file;
    char train[256], val[300] = "";
    fmt_metrics(train, sizeof train, e->n_metrics, e->metric_names, e->train_metrics, "",
                e->train_acc);
    if (p->has_validation) {
        int w = snprintf(val, sizeof val, " - val_loss: %.4f", e->val_loss);
        fmt_metrics(val + w, sizeof val - (size_t)w, e->n_metrics, e->metric_names,
                    e->val_metrics, "val_", e->val_acc);
    }
    if (b->tty) {
        char bar[BAR_WIDTH + 1];
        fill_bar(bar, p->steps, p->steps);
        fprintf(f, "\r\033[KEpoch %d/%d  %d/%d [%s]", e->epoch, e->epochs, p->steps, p->steps, bar);
    } else {
        fprintf(f, "Epoch %d/%d", e->epoch, e->epochs);
    }
    fprintf(f, " - %.1fs - loss: %.4f%s%s - %.0f examples/s\n", e->seconds, e->train_loss, train,
            val, e->examples_per_second);
    fflush(f);
    b->drawn = 0;
}

void cg_progress_bar_callback(const cg_progress *p, void *user)
{
    cg_progress_bar *b = user;
    if (!p || !b || !b->file) return;
    FILE *f = b->file;
    switch (p->phase) {
    case CG_PROGRESS_BATCH:
        draw_step(b, p);
        break;
    case CG_PROGRESS_EPOCH:
        if (p->metrics) draw_epoch(b, p);
        break;
    case CG_PROGRESS_STOPPED:
        /* End the half-drawn bar's line, so what follows starts clean. */
        if (b->tty && b->drawn && b->epoch == p->epoch) {
            fputc('\n', f);
            fflush(f);
        }
        b->drawn = 0;
        break;
    case CG_PROGRESS_EARLY_STOP:
        if (p->message) {
            fprintf(f, "%s\n", p->message);
            fflush(f);
        }
        break;
    }
}
