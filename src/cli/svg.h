/* SPDX-License-Identifier: MIT */
/* svg.h: the little SVG the demos and plots need: a canvas mapping data
 * coordinates to pixels, lines, polylines, circles, text, contour lines. */
#ifndef CG_CLI_SVG_H
#define CG_CLI_SVG_H

#include <stdio.h>

typedef struct svg {
    FILE *f;
    double x0, x1, y0, y1;   /* data range */
    int w, h, margin;        /* pixels */
} svg;

/* Open a canvas of w x h pixels for data in [x0,x1] x [y0,y1]. */
int svg_begin(svg *s, FILE *f, int w, int h, double x0, double x1, double y0, double y1);
void svg_end(svg *s);
double svg_px(const svg *s, double x);
double svg_py(const svg *s, double y);
void svg_polyline(svg *s, const double *xs, const double *ys, int n, const char *color,
                  double width);
void svg_circle(svg *s, double x, double y, double r, const char *color);
void svg_rect(svg *s, double x, double y, double w, double h, const char *color, double opacity);
void svg_text(svg *s, double px, double py, const char *color, const char *text);
void svg_axes(svg *s);
/* Contour lines of f sampled on an nx x ny grid over the canvas range at
 * the given levels (marching squares). */
void svg_contours(svg *s, double (*f)(double, double, void *), void *user, int nx, int ny,
                  const double *levels, int n_levels, const char *color);
/* A colour from a fixed palette of distinct hues. */
const char *svg_color(int i);

#endif
