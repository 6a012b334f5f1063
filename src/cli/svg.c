/* SPDX-License-Identifier: MIT */
/* svg.c: see svg.h. */
#include "svg.h"

#include <math.h>
#include <stdlib.h>

int svg_begin(svg *s, FILE *f, int w, int h, double x0, double x1, double y0, double y1)
{
    s->f = f;
    s->w = w;
    s->h = h;
    s->margin = 40;
    s->x0 = x0;
    s->x1 = x1;
    s->y0 = y0;
    s->y1 = y1;
    return fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                   w, h, w, h) < 0 ? -1 : 0;
}

void svg_end(svg *s) { fprintf(s->f, "</svg>\n"); }

double svg_px(const svg *s, double x)
{
    return s->margin + (x - s->x0) / (s->x1 - s->x0) * (s->w - 2 * s->margin);
}

double svg_py(const svg *s, double y)
{
    return s->h - s->margin - (y - s->y0) / (s->y1 - s->y0) * (s->h - 2 * s->margin);
}

void svg_polyline(svg *s, const double *xs, const double *ys, int n, const char *color,
                  double width)
{
    fprintf(s->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" points=\"", color,
            width);
    for (int i = 0; i < n; i++) fprintf(s->f, "%.1f,%.1f ", svg_px(s, xs[i]), svg_py(s, ys[i]));
    fprintf(s->f, "\"/>\n");
}

void svg_circle(svg *s, double x, double y, double r, const char *color)
{
    fprintf(s->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", svg_px(s, x),
            svg_py(s, y), r, color);
}

void svg_rect(svg *s, double x, double y, double w, double h, const char *color, double opacity)
{
    double px = svg_px(s, x), py = svg_py(s, y + h);
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                  "fill-opacity=\"%.2f\"/>\n",
            px, py, svg_px(s, x + w) - px, svg_py(s, y) - py, color, opacity);
}

void svg_text(svg *s, double px, double py, const char *color, const char *text)
{
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n", px, py, color, text);
}

void svg_axes(svg *s)
{
    double l = svg_px(s, s->x0), r = svg_px(s, s->x1), t = svg_py(s, s->y1), b = svg_py(s, s->y0);
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                  "stroke=\"#444\"/>\n",
            l, t, r - l, b - t);
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\">%g</text><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"end\">%g</text>\n",
            l, b + 14, s->x0, r, b + 14, s->x1);
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text><text x=\"%.1f\" "
                  "y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
            l - 4, b, s->y0, l - 4, t + 10, s->y1);
}

/* Marching squares: for each cell, the level crosses the edges whose ends
 * lie on opposite sides; join the crossing points pairwise. */
void svg_contours(svg *s, double (*f)(double, double, void *), void *user, int nx, int ny,
                  const double *levels, int n_levels, const char *color)
{
    double *v = malloc((size_t)(nx + 1) * (size_t)(ny + 1) * sizeof *v);
    if (!v) return;
    double dx = (s->x1 - s->x0) / nx, dy = (s->y1 - s->y0) / ny;
    for (int j = 0; j <= ny; j++)
        for (int i = 0; i <= nx; i++) v[j * (nx + 1) + i] = f(s->x0 + i * dx, s->y0 + j * dy, user);
    fprintf(s->f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"0.8\" d=\"", color);
    for (int k = 0; k < n_levels; k++) {
        double L = levels[k];
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++) {
                /* corners counter-clockwise from bottom-left */
                double cx[4] = {i, i + 1, i + 1, i}, cy[4] = {j, j, j + 1, j + 1};
                double cv[4];
                for (int c = 0; c < 4; c++) cv[c] = v[(int)cy[c] * (nx + 1) + (int)cx[c]];
                double px[4], py[4];
                int np = 0;
                for (int e = 0; e < 4 && np < 4; e++) {
                    int a = e, b = (e + 1) % 4;
                    if ((cv[a] < L) != (cv[b] < L)) {
                        double t = (L - cv[a]) / (cv[b] - cv[a]);
                        px[np] = s->x0 + (cx[a] + t * (cx[b] - cx[a])) * dx;
                        py[np] = s->y0 + (cy[a] + t * (cy[b] - cy[a])) * dy;
                        np++;
                    }
                }
                for (int p = 0; p + 1 < np; p += 2)
                    fprintf(s->f, "M%.1f %.1fL%.1f %.1f", svg_px(s, px[p]), svg_py(s, py[p]),
                            svg_px(s, px[p + 1]), svg_py(s, py[p + 1]));
            }
    }
    fprintf(s->f, "\"/>\n");
    free(v);
}

const char *svg_color(int i)
{
    static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    return palette[i % 8];
}
