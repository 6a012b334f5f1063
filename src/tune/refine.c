/* SPDX-License-Identifier: MIT */
/* refine.c: coarse to fine: the next round's ranges from the best trials. */
#include <math.h>

#include "internal.h"
#include "tune/tune.h"

/* The value in the units of lo/hi: 1 - beta for one_minus_log. */
static double bound_units(const cg_tune_param *p, double v)
{
    return p->dist == CG_TUNE_ONE_MINUS_LOG ? 1 - v : v;
}

static void refine_numeric(cg_tune_param *p, const cg_tune_param *o, int i,
                           const cg_tune_point *best, int n, double margin)
{
    double mn = HUGE_VAL, mx = -HUGE_VAL, bmin = HUGE_VAL, bmax = -HUGE_VAL;
    for (int j = 0; j < n; j++) {
        double x = cg_tune_to_scale(p, best[j].v[i]), b = bound_units(p, best[j].v[i]);
        mn = fmin(mn, x);
        mx = fmax(mx, x);
        bmin = fmin(bmin, b);
        bmax = fmax(bmax, b);
    }
    double oa, ob;
    cg_tune_scale_range(o, &oa, &ob);
    /* Widen by a share of the span, and never to nothing: one best point
     * alone still leaves a neighbourhood to search. */
    double m = fmax(margin * (mx - mn), margin / 2 * (ob - oa));
    double a = fmax(oa, mn - m), b = fmin(ob, mx + m);
    double lo, hi;
    if (cg_tune_param_is_log(p)) {
        lo = pow(10, a);
        hi = pow(10, b);
    } else {
        lo = a;
        hi = b;
    }
    if (p->dist == CG_TUNE_INT || p->dist == CG_TUNE_INTLOG) {
        lo = floor(lo);
        hi = ceil(hi);
    }
    /* The best points stay inside whatever pow/log rounding did. */
    lo = fmax(fmin(lo, bmin), o->lo);
    hi = fmin(fmax(hi, bmax), o->hi);
    p->lo = lo;
    p->hi = hi;
}

void cg_tune_space_refine(cg_tune_space *s, const cg_tune_space *orig,
                          const cg_tune_point *best, int n, double margin)
{
    if (n < 1) return;
    for (int i = 0; i < s->n; i++) {
        cg_tune_param *p = &s->p[i];
        if (p->dist != CG_TUNE_CHOICE) {
            refine_numeric(p, &orig->p[i], i, best, n, margin);
            continue;
        }
        for (int c = 0; c < p->n_choices; c++) p->active[c] = 0;
        for (int j = 0; j < n; j++) {
            int c = (int)best[j].v[i];
            if (c >= 0 && c < p->n_choices) p->active[c] = 1;
        }
    }
}
