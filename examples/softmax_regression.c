/* SPDX-License-Identifier: MIT */
/* softmax_regression.c: softmax regression on 2-D Gaussian blobs.
 *
 *   softmax_regression [CLASSES [HIDDEN [OUT.svg]]]
 *
 * With no hidden layer the model is linear in x, so the decision regions
 * it draws are separated by straight lines; with a hidden layer (e.g. 16)
 * the boundaries bend. Prints the accuracy and writes the regions and the
 * points as an SVG. */
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

/* Colour each cell of a G x G grid by the predicted class, then the points. */
static int write_svg(const char *path, cg_model *m, const cg_dataset *ds, double lo, double hi)
{
    enum { G = 80, PX = 600 };
    static cg_real grid[G * G * 2];
    static int cls[G * G];
    double step = (hi - lo) / G;
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
            grid[2 * (i * G + j)] = (cg_real)(lo + (j + 0.5) * step);
            grid[2 * (i * G + j) + 1] = (cg_real)(lo + (i + 0.5) * step);
        }
    if (cg_predict(m, grid, G * G, NULL, cls)) return -1;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    double s = PX / (hi - lo);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n", PX, PX);
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++)
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                       "fill-opacity=\"0.3\"/>\n",
                    j * step * s, PX - (i + 1) * step * s, step * s + 0.5, step * s + 0.5,
                    colors[cls[i * G + j] % 6]);
    for (int k = 0; k < ds->n; k++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                (ds->x_f32[2 * k] - lo) * s, PX - (ds->x_f32[2 * k + 1] - lo) * s,
                colors[ds->y[k] % 6]);
    fprintf(f, "</svg>\n");
    return fclose(f);
}

int main(int argc, char **argv)
{
    int classes = argc > 1 ? atoi(argv[1]) : 4;
    int hidden = argc > 2 ? atoi(argv[2]) : 0;
    const char *out = argc > 3 ? argv[3] : "softmax_regression.svg";

    cg_dataset ds;
    cg_model *m = NULL;
    cg_optimizer *opt = cg_adam_default(0.05);
    if (cg_make_blobs(100, classes, 2, 0.6, 1, &ds)) goto fail;
    m = cg_model_new(2, classes, 1);
    if (!m || (hidden > 0 && (cg_model_add_dense(m, hidden) || cg_model_add_activation(m, CG_TANH))))
        goto fail;

    cg_fit_options o;
    cg_fit_options_init(&o);
    o.epochs = 40;
    o.batch_size = 32;
    double acc;
    if (cg_fit(m, opt, &ds, NULL, NULL, &o, NULL) || cg_evaluate(m, &ds, NULL, 0, NULL, &acc))
        goto fail;
    printf("classes %d, hidden %d: accuracy %.4f\n", classes, hidden, acc);
    if (write_svg(out, m, &ds, -8, 8)) goto fail;
    printf("wrote %s\n", out);
    cg_model_free(m);
    cg_optimizer_free(opt);
    cg_dataset_free(&ds);
    return 0;
fail:
    fprintf(stderr, "softmax_regression: %s\n", cg_last_error());
    return 1;
}
