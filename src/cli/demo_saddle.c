/* SPDX-License-Identifier: MIT */
/* demo_saddle.c: `cgrad demo saddle` — GD, momentum, RMSprop and Adam from
 * the same start near the saddle point of
 *     f(x, y) = x^2 + y^4 / 4 - y^2 / 2
 * The saddle is at (0, 0); the minima at (0, +-1) with f = -1/4. Around the
 * saddle the slope in y is ~ -y: a plateau where plain gradient descent
 * crawls (y grows by a factor 1 + lr per step) while adaptive methods take
 * steps of about lr whatever the slope. The run uses cgrad's own graph and
 * optimizers; the table counts the steps until |y| >= 0.5 (out of the
 * saddle region) and gives the final loss. */
#include "cli.h"
#include "flags.h"
#include "svg.h"

#include <cgrad.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SADDLE_STEPS_MAX 5000

static double saddle_f(double x, double y, void *user)
{
    (void)user;
    return x * x + y * y * y * y / 4 - y * y / 2;
}

typedef struct trajectory {
    const char *name;
    double xs[SADDLE_STEPS_MAX + 1], ys[SADDLE_STEPS_MAX + 1];
    int escape;        /* first step with |y| >= 0.5, -1 if never */
    double final_loss;
} trajectory;

static int run_one(trajectory *t, cg_optimizer *opt, int steps)
{
    cg_graph *g = cg_graph_new();
    cg_node *p = cg_variable(g, "p", 1, (int[]){2}, (cg_real[]){1.0, 1e-3});
    cg_node *x = cg_index(p, 0), *y = cg_index(p, 1);
    cg_node *cost = cg_add(cg_square(x), cg_sub(cg_mul(cg_scalar(g, 0.25), cg_pow(y, 4)),
                                                cg_mul(cg_scalar(g, 0.5), cg_square(y))));
    int rc = cost && opt ? 0 : -1;
    t->escape = -1;
    cg_real *v = cg_node_value(p);
    t->xs[0] = v[0];
    t->ys[0] = v[1];
    for (int s = 1; s <= steps && rc == 0; s++) {
        rc = cg_minimize_step(opt, cost, NULL);
        t->xs[s] = v[0];
        t->ys[s] = v[1];
        if (t->escape < 0 && fabs(t->ys[s]) >= 0.5) t->escape = s;
    }
    if (rc == 0) rc = cg_forward(cost);
    t->final_loss = rc == 0 ? cg_node_scalar(cost) : NAN;
    cg_optimizer_free(opt);
    cg_graph_free(g);
    return rc;
}

static int write_svg(const char *path, trajectory *ts, int n, int steps)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return cli_fail("cannot write '%s'", tmp);
    svg s;
    svg_begin(&s, f, 640, 560, -1.2, 1.2, -1.4, 1.4);
    double levels[] = {-0.24, -0.2, -0.15, -0.1, -0.05, 0, 0.1, 0.25, 0.5, 0.75, 1, 1.5};
    svg_contours(&s, saddle_f, NULL, 120, 120, levels, (int)(sizeof levels / sizeof *levels),
                 "#bbbbbb");
    /* The flat region: where the slope is under 0.4, plain gradient
     * descent's steps are under 0.4 lr; shaded so the crawl has a place. */
    const int cells = 96;
    const double cw = 2.4 / cells, ch = 2.8 / cells;
    for (int i = 0; i < cells; i++)
        for (int j = 0; j < cells; j++) {
            double x = -1.2 + (i + 0.5) * cw, y = -1.4 + (j + 0.5) * ch;
            double gx = 2 * x, gy = y * y * y - y;
            if (sqrt(gx * gx + gy * gy) < 0.4)
                svg_rect(&s, -1.2 + i * cw, -1.4 + j * ch, cw, ch, "#f2c94c", 0.35);
        }
    svg_axes(&s);
    /* Drawn last-to-first, each thinner than the one under it: where the
     * paths overlap (all four start along y = 0), every one stays visible,
     * plain GD's on top. */
    for (int i = n - 1; i >= 0; i--)
        svg_polyline(&s, ts[i].xs, ts[i].ys, steps + 1, svg_color(i), 1.5 + 2.0 * i);
    for (int i = 0; i < n; i++) {
        char label[128];
        snprintf(label, sizeof label, "%s: escapes at step %d, final loss %.4f", ts[i].name,
                 ts[i].escape, ts[i].final_loss);
        svg_text(&s, 50, 20 + 15 * i, svg_color(i), label);
    }
    svg_text(&s, 50, 20 + 15 * n, "#b8860b", "shaded: flat, |grad f| &lt; 0.4 (GD steps &lt; 0.4 lr)");
    svg_circle(&s, 1.0, 1e-3, 4, "black");
    svg_text(&s, svg_px(&s, 1.0) + 6, svg_py(&s, 0) - 6, "black", "start");
    svg_text(&s, svg_px(&s, 0) + 6, svg_py(&s, 0) + 14, "#666", "saddle (0,0)");
    svg_end(&s);
    int bad = ferror(f);
    if (fclose(f) || bad || rename(tmp, path)) {
        remove(tmp);
        return cli_fail("cannot write '%s'", path);
    }
    return 0;
}

typedef struct saddle_args {
    char out[CG_PATH_LEN];
    int steps;
    double lr;
} saddle_args;

static const cli_flag flags[] = {
    {.name = "--out", .value = "FILE.svg", .set = cli_set_string,
     .offset = offsetof(saddle_args, out), .hi = CG_PATH_LEN, .example = "saddle.svg",
     .help = "also draw the four paths over the contours of f"},
    {.name = "--steps", .value = "N", .set = cli_set_int, .offset = offsetof(saddle_args, steps),
     .lo = 1, .hi = SADDLE_STEPS_MAX, .example = "500", .help = "steps of each optimizer (default 1000)"},
    {.name = "--lr", .value = "LR", .set = cli_set_double, .offset = offsetof(saddle_args, lr),
     .lo = 1e-9, .hi = 10, .example = "0.05", .help = "learning rate of all four (default 0.01)"},
};

const cli_command_flags cli_demo_saddle_flags = {
    .command = "demo saddle",
    .usage = "cgrad demo saddle [flags]",
    .summary = "Runs GD, momentum, RMSprop and Adam from (1, 0.001) near the saddle of\n"
               "f(x,y) = x^2 + y^4/4 - y^2/2 and prints steps to escape |y| < 0.5.",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};

int cli_demo_saddle(int argc, char **argv)
{
    saddle_args a = {.steps = 1000, .lr = 0.01};
    unsigned char given[sizeof flags / sizeof *flags];
    int prc = cli_parse_flags(&cli_demo_saddle_flags, argc, argv, &a, given, NULL);
    if (prc) return prc == 1 ? CLI_OK : prc;
    const char *out = a.out[0] ? a.out : NULL;
    int steps = a.steps;
    double lr = a.lr;
    static trajectory ts[4];
    cg_optimizer *opts[4] = {cg_sgd(lr), cg_momentum(lr, 0.9), cg_rmsprop(lr, 0.9, 1e-8),
                             cg_adam_default(lr)};
    const char *names[4] = {"gd", "momentum", "rmsprop", "adam"};
    printf("%-10s %16s %12s %18s\n", "optimizer", "escape step", "final loss", "final (x, y)");
    for (int i = 0; i < 4; i++) {
        ts[i].name = names[i];
        if (run_one(&ts[i], opts[i], steps)) {
            cli_fail("demo saddle: %s", cg_last_error());
            return 1;
        }
        char esc[32];
        if (ts[i].escape < 0) snprintf(esc, sizeof esc, "> %d", steps);
        else snprintf(esc, sizeof esc, "%d", ts[i].escape);
        printf("%-10s %16s %12.6f   (%7.4f, %7.4f)\n", names[i], esc, ts[i].final_loss,
               ts[i].xs[steps], ts[i].ys[steps]);
    }
    if (out && write_svg(out, ts, 4, steps)) return 1;
    if (out) printf("wrote %s\n", out);
    return 0;
}
