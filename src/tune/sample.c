/* SPDX-License-Identifier: MIT */
/* sample.c: derived trial seeds, random points on each parameter's scale,
 * and grid points. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "tune/tune.h"

/* splitmix64's finaliser: a bijective mix of 64 bits. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t cg_tune_trial_seed(uint64_t seed, int round, int index)
{
    uint64_t key = (uint64_t)(uint32_t)round << 32 | (uint32_t)index;
    return mix64(mix64(seed) ^ key);
}

uint64_t cg_tune_train_seed(uint64_t trial_seed) { return mix64(trial_seed ^ 0x5eed) >> 33; }

/* FNV-1a: each parameter draws from its own stream, so adding a parameter
 * to a space leaves the others' values unchanged. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

double cg_tune_to_scale(const cg_tune_param *p, double v)
{
    switch (p->dist) {
    case CG_TUNE_LOGUNIFORM:
    case CG_TUNE_INTLOG: return log10(v);
    case CG_TUNE_ONE_MINUS_LOG: return log10(1 - v);
    default: return v;
    }
}

double cg_tune_from_scale(const cg_tune_param *p, double x)
{
    switch (p->dist) {
    case CG_TUNE_LOGUNIFORM:
    case CG_TUNE_INTLOG: return pow(10, x);
    case CG_TUNE_ONE_MINUS_LOG: return 1 - pow(10, x);
    default: return x;
    }
}

void cg_tune_scale_range(const cg_tune_param *p, double *a, double *b)
{
    if (cg_tune_param_is_log(p)) { /* one_minus_log's bounds are of 1 - value already */
        *a = log10(p->lo);
        *b = log10(p->hi);
    } else {
        *a = p->lo;
        *b = p->hi;
    }
}

static double round_sig4(double v)
{
    if (v == 0 || !isfinite(v)) return v;
    double f = pow(10, 3 - floor(log10(fabs(v))));
    return round(v * f) / f;
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A continuous value at scale position x, rounded to 4 significant digits
 * (of 1 - value for betas, whose interesting digits are the last ones). */
static double continuous_at(const cg_tune_param *p, double x)
{
    if (p->dist == CG_TUNE_ONE_MINUS_LOG)
        return 1 - clamp(round_sig4(pow(10, x)), p->lo, p->hi);
    return clamp(round_sig4(cg_tune_from_scale(p, x)), p->lo, p->hi);
}

static double choose_active(const cg_tune_param *p, uint64_t r)
{
    int n = 0;
    for (int i = 0; i < p->n_choices; i++) n += p->active[i] != 0;
    if (n == 0) return 0;
    int k = (int)(r % (uint64_t)n);
    for (int i = 0; i < p->n_choices; i++)
        if (p->active[i] && k-- == 0) return i;
    return 0;
}

static double sample_param(const cg_tune_param *p, cg_rng *r)
{
    double a, b;
    cg_tune_scale_range(p, &a, &b);
    switch (p->dist) {
    case CG_TUNE_UNIFORM:
    case CG_TUNE_LOGUNIFORM:
    case CG_TUNE_ONE_MINUS_LOG: return continuous_at(p, a + cg_rng_uniform(r) * (b - a));
    case CG_TUNE_INT:
        return p->lo + (double)cg_rng_below(r, (uint64_t)(p->hi - p->lo) + 1);
    case CG_TUNE_INTLOG: {
        /* floor of a log-uniform draw over [lo, hi + 1): integer k gets
         * probability log((k + 1) / k) / log((hi + 1) / lo). */
        double x = log(p->lo) + cg_rng_uniform(r) * (log(p->hi + 1) - log(p->lo));
        return clamp(floor(exp(x)), p->lo, p->hi);
    }
    case CG_TUNE_CHOICE: return choose_active(p, cg_rng_next(r));
    }
    return 0;
}

void cg_tune_sample(const cg_tune_space *s, uint64_t trial_seed, cg_tune_point *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->n; i++) {
        cg_rng r;
        cg_rng_seed(&r, trial_seed ^ name_hash(s->p[i].name));
        out->v[i] = sample_param(&s->p[i], &r);
    }
}

static long grid_levels(const cg_tune_param *p, int k)
{
    if (p->dist != CG_TUNE_CHOICE) return k;
    long n = 0;
    for (int i = 0; i < p->n_choices; i++) n += p->active[i] != 0;
    return n > 0 ? n : 1;
}

long cg_tune_grid_size(const cg_tune_space *s, int k, long limit)
{
    if (k < 1) return 0;
    long n = 1;
    for (int i = 0; i < s->n; i++) {
        long l = grid_levels(&s->p[i], k);
        if (n > limit / l) return 0;
        n *= l;
    }
    return n;
}

void cg_tune_grid_point(const cg_tune_space *s, int k, long index, cg_tune_point *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->n; i++) {
        const cg_tune_param *p = &s->p[i];
        long l = grid_levels(p, k), j = index % l;
        index /= l;
        if (p->dist == CG_TUNE_CHOICE) {
            out->v[i] = choose_active(p, (uint64_t)j);
            continue;
        }
        double a, b;
        cg_tune_scale_range(p, &a, &b);
        double x = l == 1 ? (a + b) / 2 : a + (b - a) * (double)j / (double)(l - 1);
        if (p->dist == CG_TUNE_INT || p->dist == CG_TUNE_INTLOG)
            out->v[i] = clamp(round(cg_tune_from_scale(p, x)), p->lo, p->hi);
        else
            out->v[i] = continuous_at(p, x);
    }
}
