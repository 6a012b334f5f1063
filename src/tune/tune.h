/* SPDX-License-Identifier: MIT */
/* tune.h: hyperparameter search spaces, their sampling on the right scale,
 * grid points, derived seeds and coarse-to-fine refinement: pure functions
 * (no processes, no files) that the tests check. The space's types and the
 * search itself (cg_tune) are public, in cgrad.h. */
#ifndef CG_TUNE_H
#define CG_TUNE_H

#include <stdint.h>

#include "cgrad.h"

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

/* Parameter i's value from its string (inverse of format; a choice string
 * gives its index): CG_OK, or CG_ERR_ARG if not a value of the space. */
int cg_tune_parse_value(const cg_tune_param *p, const char *str, double *out);

#endif
