/* SPDX-License-Identifier: MIT */
/* tune.h: hyperparameter search spaces, their sampling on the right scale,
 * grid points, derived seeds and coarse-to-fine refinement. Pure functions
 * (no processes, no files) so that the CLI and an MPI driver share them and
 * the tests can check them; not part of the public cgrad.h. */
#ifndef CG_TUNE_H
#define CG_TUNE_H

#include <stdint.h>

#include "cgrad.h"

#define CG_TUNE_MAX_PARAMS 32
#define CG_TUNE_MAX_CHOICES 32
#define CG_TUNE_NAME_LEN 32
#define CG_TUNE_CHOICE_LEN 64

/* How a parameter is drawn. */
typedef enum cg_tune_dist {
    CG_TUNE_UNIFORM,       /* uniform:a:b            value ~ U(a, b) */
    CG_TUNE_LOGUNIFORM,    /* loguniform:a:b         log10(value) ~ U */
    CG_TUNE_ONE_MINUS_LOG, /* one_minus_log:a:b      value = 1 - 10^u, 1 - value in [a, b] */
    CG_TUNE_INT,           /* int:a:b                integers a..b, equally likely */
    CG_TUNE_INTLOG,        /* intlog:a:b             integers a..b, uniform in log */
    CG_TUNE_CHOICE         /* choice:x,y,z (or x|y|z) one of the strings */
} cg_tune_dist;

typedef struct cg_tune_param {
    char name[CG_TUNE_NAME_LEN];
    cg_tune_dist dist;
    double lo, hi;             /* bounds in value units (for one_minus_log: of 1 - value) */
    int n_choices;
    char choices[CG_TUNE_MAX_CHOICES][CG_TUNE_CHOICE_LEN];
    unsigned char active[CG_TUNE_MAX_CHOICES]; /* choices still sampled (coarse to fine) */
} cg_tune_param;

typedef struct cg_tune_space {
    int n;
    cg_tune_param p[CG_TUNE_MAX_PARAMS];
} cg_tune_space;

/* One point of a space: values[i] is parameter i's value, or for a choice
 * the index of the chosen string. */
typedef struct cg_tune_point {
    double v[CG_TUNE_MAX_PARAMS];
} cg_tune_point;

/* Parse "name=dist:args" (e.g. "lr=loguniform:1e-4:1") and add it to the
 * space, replacing a parameter of the same name. Validates the name (one of
 * cg_tune_param_names), the distribution, the bounds (lo < hi, positive for
 * log scales, betas in (0, 1), ...). CG_ERR_ARG with a message naming the
 * spec on error; the space is unchanged then. */
int cg_tune_space_add(cg_tune_space *s, const char *spec);
/* Add every parameter of a JSON object {"lr": "loguniform:1e-4:1",
 * "optimizer": ["adam", "rmsprop"], "hidden": {"choice": ["256,256", "512"]}}
 * (a string is the spec after "name="; an array is a choice). */
int cg_tune_space_add_json(cg_tune_space *s, const char *json);
/* The known parameter names, space-separated, for help and errors. */
const char *cg_tune_param_names(void);
/* The parameter named `name`, or -1. */
int cg_tune_space_find(const cg_tune_space *s, const char *name);
/* 1 if the parameter is sampled on a log scale (loguniform, one_minus_log,
 * intlog). */
int cg_tune_param_is_log(const cg_tune_param *p);
int cg_tune_param_is_numeric(const cg_tune_param *p);

/* A value in the parameter's sampling scale (log10 for log ones, log10(1 -
 * value) for one_minus_log) and back; the current range in that scale. */
double cg_tune_to_scale(const cg_tune_param *p, double v);
double cg_tune_from_scale(const cg_tune_param *p, double x);
void cg_tune_scale_range(const cg_tune_param *p, double *a, double *b);

/* The seed of trial `index` of `round` of a search seeded with `seed`: a
 * hash of the three, so a trial's parameters and training seed do not
 * depend on the order or the place trials run. */
uint64_t cg_tune_trial_seed(uint64_t seed, int round, int index);
/* The `cgrad train --seed` of that trial (below 2^31, readable). */
uint64_t cg_tune_train_seed(uint64_t trial_seed);

/* Draw a point from the space with the trial seed. Continuous values are
 * rounded to 4 significant digits (of 1 - value for one_minus_log), so
 * command lines stay readable, and clamped to the range. */
void cg_tune_sample(const cg_tune_space *s, uint64_t trial_seed, cg_tune_point *out);
/* Grid search: k points per numeric parameter (evenly spaced in its scale,
 * ends included; integers rounded), every active choice. The number of
 * points (0 if above `limit`), and point `index` of it. */
long cg_tune_grid_size(const cg_tune_space *s, int k, long limit);
void cg_tune_grid_point(const cg_tune_space *s, int k, long index, cg_tune_point *out);

/* Coarse to fine: given the `n` best points (best first; at least one),
 * shrink each numeric range of `s` to the span of those points in the
 * parameter's scale, widened on each side by `margin` of that span (at least
 * margin/2 of the original range's span, so a span of zero still leaves
 * room), clamped to the range of `orig`. A choice keeps the choices seen
 * among the points. */
void cg_tune_space_refine(cg_tune_space *s, const cg_tune_space *orig,
                          const cg_tune_point *best, int n, double margin);

/* Parameter i's value of a point as a string for the command line (choice
 * string, integer, or %.10g). */
void cg_tune_format_value(const cg_tune_param *p, double v, char *buf, int size);
/* Parameter i's value from its string (inverse of format; a choice string
 * gives its index): CG_OK, or CG_ERR_ARG if not a value of the space. */
int cg_tune_parse_value(const cg_tune_param *p, const char *str, double *out);
/* Describe a parameter's current range ("loguniform:0.0001:1",
 * "choice:adam,rmsprop") into buf. */
void cg_tune_describe(const cg_tune_param *p, char *buf, int size);

/* The `cgrad train` flags for a point: appends up to `max` strings to argv
 * (pointers into `store`, `store_size` bytes) and returns how many, or -1 if
 * they do not fit. units/layers become one --hidden list; bn=1 gives --bn. */
int cg_tune_train_flags(const cg_tune_space *s, const cg_tune_point *pt, char **argv, int max,
                        char *store, int store_size);

#endif
