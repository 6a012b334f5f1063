/* SPDX-License-Identifier: MIT */
/* plot.c: `cgrad plot DIR`: SVG charts of a search's results.jsonl:
 * validation accuracy (R2 for a regression) against each numeric parameter (log axis where the
 * parameter was sampled on a log scale), coloured by round, and the
 * learning curves of all trials on one chart. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/svg.h"

const cli_command_flags cli_plot_flags = {
    .command = "plot",
    .usage = "cgrad plot DIR",
    .summary = "Charts of a `cgrad tune` search in DIR (its results.jsonl and tune.json),\n"
               "written into DIR as SVG: val_vs_NAME.svg (validation accuracy against each\n"
               "numeric parameter, log axis for log-scale ones, colour = round) and\n"
               "curves.svg (validation accuracy by epoch of every trial). A regression's\n"
               "search is charted by validation R2.",
};

typedef struct results {
    cJSON **rows;
    int n;
    cJSON *tune; /* tune.json, or NULL */
} results;

static void results_free(results *r)
{
    for (int i = 0; i < r->n; i++) cJSON_Delete(r->rows[i]);
    free(r->rows);
    cJSON_Delete(r->tune);
}

static int load(const char *dir, results *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/results.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cgrad plot: cannot read '%s'\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        cJSON *o = cJSON_Parse(line);
        if (!o) continue;
        cJSON **p = realloc(r->rows, (size_t)(r->n + 1) * sizeof *p);
        if (!p) {
            cJSON_Delete(o);
            break;
        }
        r->rows = p;
        r->rows[r->n++] = o;
    }
    free(line);
    fclose(f);
    snprintf(path, sizeof path, "%s/tune.json", dir);
    f = fopen(path, "r");
    if (f) {
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        r->tune = cJSON_Parse(buf);
        fclose(f);
    }
    return 0;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A trial's (or an epoch's) validation score, as the search ranked it:
 * accuracy, or R2 for a regression. */
static double score(const cJSON *o)
{
    const double acc = num(o, "val_accuracy");
    return isfinite(acc) ? acc : num(o, "val_r2");
}

/* The score's name for the charts: a search is all one task. */
static const char *score_name(const results *r)
{
    for (int i = 0; i < r->n; i++)
        if (isfinite(num(r->rows[i], "val_r2"))) return "validation R2";
    return "validation accuracy";
}

/* 0 linear, 1 log, 2 log of 1 - value (betas), as the search sampled it;
 * without tune.json, guess from the values (positive, over two decades). */
static int scale_of(const results *r, const char *name, double lo, double hi)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r->tune, "scale");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc, name);
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, "log") == 0 ? 1
               : strcmp(v->valuestring, "one_minus_log") == 0 ? 2 : 0;
    return lo > 0 && hi / lo > 100;
}

/* The round of a row, 0 if missing (a NaN cast to int is undefined). */
static int round_of(const cJSON *row)
{
    double r = num(row, "round");
    return isfinite(r) && r >= 0 && r < 1e6 ? (int)r : 0;
}

static void frame(svg *s, const char *title, const char *xlabel, int logx, int n_rounds)
{
    /* svg_axes would label the ends of a log axis with log10 values; the
     * frame and labels are drawn here instead. */
    double l = svg_px(s, s->x0), r = svg_px(s, s->x1), top = svg_py(s, s->y1), b = svg_py(s, s->y0);
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                  "stroke=\"#444\"/>\n", l, top, r - l, b - top);
    char t[256];
    snprintf(t, sizeof t, "%.3f", s->y0);
    svg_text(s, 2, b, "#666", t);
    snprintf(t, sizeof t, "%.3f", s->y1);
    svg_text(s, 2, top + 10, "#666", t);
    if (!logx) {
        snprintf(t, sizeof t, "%.4g", s->x0);
        svg_text(s, l, b + 14, "#666", t);
        snprintf(t, sizeof t, "%.4g", s->x1);
        svg_text(s, r - 30, b + 14, "#666", t);
    }
    svg_text(s, s->margin, 20, "#000", title);
    snprintf(t, sizeof t, "%s%s", xlabel, logx ? " (log scale)" : "");
    svg_text(s, s->w / 2.0 - 40, s->h - 6, "#000", t);
    if (logx) /* decade ticks: the axis holds log10 of the value */
        for (double d = ceil(s->x0); d <= s->x1; d++) {
            snprintf(t, sizeof t, "1e%g", d);
            svg_text(s, svg_px(s, d) - 10, b + 14, "#666", t);
        }
    for (int k = 0; k < n_rounds && k < 8; k++) {
        snprintf(t, sizeof t, "round %d", k);
        svg_text(s, s->w - s->margin - 60, s->margin + 14 + 14 * k, svg_color(k), t);
    }
}

static int open_svg(const char *dir, const char *name, FILE **f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *f = fopen(path, "w");
    if (!*f) fprintf(stderr, "cgrad plot: cannot write '%s'\n", path);
    return *f ? 0 : -1;
}

static void pad(double *lo, double *hi)
{
    if (!(*hi > *lo)) {
        *lo -= 0.5;
        *hi += 0.5;
    }
    double m = 0.05 * (*hi - *lo);
    *lo -= m;
    *hi += m;
}

static int plot_param(const char *dir, const results *r, const char *name, int n_rounds)
{
    double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
    for (int i = 0; i < r->n; i++) {
        double x = num(cJSON_GetObjectItemCaseSensitive(r->rows[i], "params"), name);
        double y = score(r->rows[i]);
        if (!isfinite(x) || !isfinite(y)) continue;
        xlo = fmin(xlo, x), xhi = fmax(xhi, x), ylo = fmin(ylo, y), yhi = fmax(yhi, y);
    }
    if (!(xlo <= xhi)) return 0;
    int scale = scale_of(r, name, xlo, xhi);
    int logx = scale != 0 && (scale == 1 ? xlo > 0 : xhi < 1);
    int beta = logx && scale == 2;
    double tx = beta ? log10(1 - xhi) : logx ? log10(xlo) : xlo;
    double ty = beta ? log10(1 - xlo) : logx ? log10(xhi) : xhi;
    pad(&tx, &ty);
    pad(&ylo, &yhi);
    char file[300], title[300], xl[300];
    snprintf(file, sizeof file, "val_vs_%s.svg", name);
    snprintf(title, sizeof title, "%s vs %s", score_name(r), name);
    snprintf(xl, sizeof xl, beta ? "1 - %s" : "%s", name);
    FILE *f;
    if (open_svg(dir, file, &f)) return -1;
    svg s;
    svg_begin(&s, f, 640, 420, tx, ty, ylo, yhi);
    frame(&s, title, xl, logx, n_rounds);
    for (int i = 0; i < r->n; i++) {
        double x = num(cJSON_GetObjectItemCaseSensitive(r->rows[i], "params"), name);
        double y = score(r->rows[i]);
        if (!isfinite(x) || !isfinite(y)) continue;
        double px = beta ? log10(1 - x) : logx ? log10(x) : x;
        svg_circle(&s, px, y, 4, svg_color(round_of(r->rows[i])));
    }
    svg_end(&s);
    return fclose(f) == 0 ? 0 : -1;
}

static int plot_curves(const char *dir, const results *r, int n_rounds)
{
    double ylo = HUGE_VAL, yhi = -HUGE_VAL;
    int emax = 1;
    for (int i = 0; i < r->n; i++) {
        const cJSON *e, *eps = cJSON_GetObjectItemCaseSensitive(r->rows[i], "epochs");
        cJSON_ArrayForEach(e, eps) {
            double y = score(e), x = num(e, "epoch");
            if (!isfinite(y) || !isfinite(x)) continue;
            ylo = fmin(ylo, y), yhi = fmax(yhi, y);
            if (x > emax && x < 1e6) emax = (int)x;
        }
    }
    if (!(ylo <= yhi)) ylo = 0, yhi = 1;
    pad(&ylo, &yhi);
    FILE *f;
    if (open_svg(dir, "curves.svg", &f)) return -1;
    svg s;
    svg_begin(&s, f, 640, 420, 0.5, emax + 0.5, ylo, yhi);
    char title[64];
    snprintf(title, sizeof title, "%s by epoch, every trial", score_name(r));
    frame(&s, title, "epoch", 0, n_rounds);
    for (int i = 0; i < r->n; i++) {
        const cJSON *e, *eps = cJSON_GetObjectItemCaseSensitive(r->rows[i], "epochs");
        int n = cJSON_GetArraySize(eps), k = 0;
        double *xs = malloc((size_t)(n + 1) * sizeof *xs), *ys = malloc((size_t)(n + 1) * sizeof *ys);
        const char *color = svg_color(round_of(r->rows[i]));
        if (xs && ys) {
            cJSON_ArrayForEach(e, eps) {
                double x = num(e, "epoch"), y = score(e);
                if (isfinite(x) && isfinite(y)) xs[k] = x, ys[k++] = y;
            }
            if (k > 1) svg_polyline(&s, xs, ys, k, color, 1.2);
            for (int j = 0; j < k; j++) svg_circle(&s, xs[j], ys[j], 2.5, color);
        }
        free(xs);
        free(ys);
    }
    svg_end(&s);
    return fclose(f) == 0 ? 0 : -1;
}

int tune_plot_dir(const char *dir, int quiet)
{
    results r = {0};
    if (load(dir, &r)) return CLI_FAIL;
    int n_rounds = 0, rc = CLI_OK, charts = 0;
    for (int i = 0; i < r.n; i++) {
        int k = round_of(r.rows[i]) + 1;
        if (k > n_rounds) n_rounds = k;
    }
    /* The numeric parameters, by name, from the first trial that has them. */
    const cJSON *params = r.n ? cJSON_GetObjectItemCaseSensitive(r.rows[0], "params") : NULL, *p;
    cJSON_ArrayForEach(p, params) {
        if (!cJSON_IsNumber(p)) continue;
        if (plot_param(dir, &r, p->string, n_rounds)) rc = CLI_FAIL;
        charts++;
    }
    if (plot_curves(dir, &r, n_rounds)) rc = CLI_FAIL;
    if (rc == CLI_OK && !quiet)
        printf("plots: %d chart(s) of %d trials in %s (val_vs_*.svg, curves.svg)\n", charts + 1,
               r.n, dir);
    results_free(&r);
    return rc;
}

int cli_plot(int argc, char **argv)
{
    const char *dir = NULL;
    unsigned char given[1];
    int rc = cli_parse_flags(&cli_plot_flags, argc, argv, NULL, given, &dir);
    if (rc) return rc == 1 ? CLI_OK : rc;
    if (!dir) return cli_usage("plot", "which search? `cgrad plot DIR`");
    return tune_plot_dir(dir, 0);
}
