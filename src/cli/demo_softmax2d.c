/* SPDX-License-Identifier: MIT */
/* demo_softmax2d.c: `cgrad demo softmax2d` — softmax regression (or an MLP
 * with --hidden N) on 2-D Gaussian blobs; the SVG shows the decision
 * regions (straight boundaries without a hidden layer, bent with one) and
 * the points. */
#include "cli.h"
#include "flags.h"
#include "svg.h"

#include <cgrad.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { GRID = 100 };

static int write_regions(const char *path, cg_model *m, const cg_dataset *ds, int classes,
                         int hidden, double acc)
{
    const double lo = -8, hi = 8, step = (hi - lo) / GRID;
    cg_real *grid = malloc(sizeof(cg_real) * GRID * GRID * 2);
    int *cls = malloc(sizeof(int) * GRID * GRID);
    if (!grid || !cls) {
        free(grid);
        free(cls);
        return cli_fail("demo softmax2d: out of memory");
    }
    for (int i = 0; i < GRID; i++)
        for (int j = 0; j < GRID; j++) {
            grid[2 * (i * GRID + j)] = (cg_real)(lo + (j + 0.5) * step);
            grid[2 * (i * GRID + j) + 1] = (cg_real)(lo + (i + 0.5) * step);
        }
    int rc = cg_predict(m, grid, GRID * GRID, NULL, cls);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = rc ? NULL : fopen(tmp, "w");
    if (f) {
        svg s;
        svg_begin(&s, f, 640, 640, lo, hi, lo, hi);
        for (int i = 0; i < GRID; i++)
            for (int j = 0; j < GRID; j++)
                svg_rect(&s, lo + j * step, lo + i * step, step, step,
                         svg_color(cls[i * GRID + j]), 0.3);
        for (int k = 0; k < ds->n; k++)
            svg_circle(&s, ds->x_f32[2 * k], ds->x_f32[2 * k + 1], 2.5, svg_color(ds->y[k]));
        svg_axes(&s);
        char title[160];
        snprintf(title, sizeof title, "%d classes, %s: accuracy %.3f", classes,
                 hidden ? "one hidden layer (boundaries bend)" : "softmax regression (straight boundaries)",
                 acc);
        svg_text(&s, 45, 25, "black", title);
        svg_end(&s);
        rc = ferror(f) | fclose(f);
        if (!rc) rc = rename(tmp, path);
        if (rc) remove(tmp);
    } else {
        rc = -1;
    }
    free(grid);
    free(cls);
    return rc ? cli_fail("demo softmax2d: cannot write '%s'%s%s", path, cg_last_error()[0] ? ": " : "",
                         cg_last_error())
              : CLI_OK;
}

typedef struct softmax2d_args {
    int classes, hidden, epochs;
    char out[CG_PATH_LEN];
} softmax2d_args;

#define ARG(f) offsetof(softmax2d_args, f)

static const cli_flag flags[] = {
    {.name = "--classes", .value = "C", .set = cli_set_int, .offset = ARG(classes), .lo = 2,
     .hi = 8, .example = "3", .help = "blobs, one per class, 2 to 8 (default 4)"},
    {.name = "--hidden", .value = "N", .set = cli_set_int, .offset = ARG(hidden), .hi = 4096,
     .example = "16", .help = "units of one tanh hidden layer (default 0: softmax regression)"},
    {.name = "--epochs", .value = "E", .set = cli_set_int, .offset = ARG(epochs), .lo = 1,
     .hi = 100000, .example = "20", .help = "training epochs (default 40)"},
    {.name = "--out", .value = "FILE.svg", .set = cli_set_string, .offset = ARG(out),
     .hi = CG_PATH_LEN, .example = "regions.svg",
     .help = "also draw the decision regions and the points"},
};

const cli_command_flags cli_demo_softmax2d_flags = {
    .command = "demo softmax2d",
    .usage = "cgrad demo softmax2d [flags]",
    .summary = "Trains softmax regression (or an MLP with --hidden N) on 2-D Gaussian\n"
               "blobs and prints its accuracy; the SVG shows the decision regions.",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};

int cli_demo_softmax2d(int argc, char **argv)
{
    softmax2d_args a = {.classes = 4, .epochs = 40};
    unsigned char given[sizeof flags / sizeof *flags];
    int prc = cli_parse_flags(&cli_demo_softmax2d_flags, argc, argv, &a, given, NULL);
    if (prc) return prc == 1 ? CLI_OK : prc;
    int classes = a.classes, hidden = a.hidden;
    const char *out = a.out[0] ? a.out : NULL;
    cg_dataset ds;
    if (cg_make_blobs(100, classes, 2, 0.6, 1, &ds)) return cli_fail("%s", cg_last_error());
    cg_model *m = cg_model_new(2, classes, 1);
    cg_optimizer *opt = cg_adam_default(0.05);
    cg_fit_options o;
    cg_fit_options_init(&o);
    o.epochs = a.epochs;
    double acc = 0;
    int rc = !m || !opt;
    if (!rc && hidden) rc = cg_model_add_dense(m, hidden) || cg_model_add_activation(m, CG_TANH);
    if (!rc) rc = cg_fit(m, opt, &ds, NULL, NULL, &o, NULL) || cg_evaluate(m, &ds, NULL, 0, NULL, &acc);
    if (rc) rc = cli_fail("demo softmax2d: %s", cg_last_error());
    else {
        printf("classes %d, hidden %d: accuracy %.4f\n", classes, hidden, acc);
        if (out && (rc = write_regions(out, m, &ds, classes, hidden, acc)) == CLI_OK)
            printf("wrote %s\n", out);
    }
    cg_model_free(m);
    cg_optimizer_free(opt);
    cg_dataset_free(&ds);
    return rc;
}
