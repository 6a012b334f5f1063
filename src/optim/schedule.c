/* SPDX-License-Identifier: MIT */
/* schedule.c: learning-rate schedules by epoch, warm-up, and the parser
 * for schedule specs given on a command line. */
#include "optim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CG_LR_FORMS "none, inverse:K, exp:R, step:N:GAMMA, cosine:T or cosine:T:LR_MIN"

int cg_optim_check_schedule(const char *who, int kind, const double *p)
{
    static const double none[CG_LR_MAX_PARAMS];
    if (!p) {
        if (kind != CG_LR_CONSTANT)
            return cg_error(CG_ERR_ARG, "%s: schedule %d needs parameters", who, kind);
        p = none;
    }
    switch (kind) {
    case CG_LR_CONSTANT:
        return CG_OK;
    case CG_LR_INVERSE_TIME:
        if (!(p[0] >= 0) || !isfinite(p[0]))
            return cg_error(CG_ERR_ARG, "%s: inverse-time decay k = %g must be >= 0 and finite", who, p[0]);
        return CG_OK;
    case CG_LR_EXPONENTIAL:
        if (!(p[0] > 0) || !isfinite(p[0]))
            return cg_error(CG_ERR_ARG, "%s: exponential rate r = %g must be positive and finite", who, p[0]);
        return CG_OK;
    case CG_LR_STEP:
        if (!(p[0] >= 1) || p[0] > 1e9 || p[0] != floor(p[0]))
            return cg_error(CG_ERR_ARG, "%s: step size %g must be a positive whole number of epochs", who, p[0]);
        if (!(p[1] > 0) || !isfinite(p[1]))
            return cg_error(CG_ERR_ARG, "%s: step factor gamma = %g must be positive and finite", who, p[1]);
        return CG_OK;
    case CG_LR_COSINE:
        if (!(p[0] > 0) || !isfinite(p[0]))
            return cg_error(CG_ERR_ARG, "%s: cosine period T = %g must be positive and finite", who, p[0]);
        if (!(p[1] >= 0) || !isfinite(p[1]))
            return cg_error(CG_ERR_ARG, "%s: cosine lr_min = %g must be >= 0 and finite", who, p[1]);
        return CG_OK;
    default:
        return cg_error(CG_ERR_ARG, "%s: unknown schedule kind %d (valid: CG_LR_CONSTANT .. CG_LR_COSINE)",
                        who, kind);
    }
}

int cg_optimizer_set_schedule(cg_optimizer *o, int kind, const double *params)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_schedule: NULL optimizer");
    int rc = cg_optim_check_schedule("cg_optimizer_set_schedule", kind, params);
    if (rc) return rc;
    o->sched = kind;
    for (int i = 0; i < CG_LR_MAX_PARAMS; i++) o->sched_p[i] = params ? params[i] : 0;
    return CG_OK;
}

int cg_optimizer_set_schedule_start(cg_optimizer *o, int epoch)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_schedule_start: NULL optimizer");
    if (epoch < 0)
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_schedule_start: epoch %d is negative", epoch);
    o->sched_start = epoch;
    return CG_OK;
}

int cg_optimizer_set_warmup(cg_optimizer *o, int steps)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_warmup: NULL optimizer");
    if (steps < 0) return cg_error(CG_ERR_ARG, "cg_optimizer_set_warmup: warm-up steps %d is negative", steps);
    o->warmup = steps;
    return CG_OK;
}

int cg_optimizer_set_epoch(cg_optimizer *o, int epoch)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_epoch: NULL optimizer");
    if (epoch < 0) return cg_error(CG_ERR_ARG, "cg_optimizer_set_epoch: epoch %d is negative", epoch);
    o->epoch = epoch;
    return CG_OK;
}

double cg_optim_scheduled_lr(const cg_optimizer *o)
{
    const double lr0 = o->lr0;
    const double e = o->epoch > o->sched_start ? (double)(o->epoch - o->sched_start) : 0;
    const double *p = o->sched_p;
    switch (o->sched) {
    case CG_LR_INVERSE_TIME: return lr0 / (1 + p[0] * e);
    case CG_LR_EXPONENTIAL: return lr0 * pow(p[0], e);
    case CG_LR_STEP: return lr0 * pow(p[1], floor(e / p[0]));
    case CG_LR_COSINE: {
        double x = e < p[0] ? e : p[0];
        return p[1] + (lr0 - p[1]) * (1 + cos(M_PI * x / p[0])) / 2;
    }
    default: return lr0;
    }
}

/* Parse one number that must run to the next ':' or the end; advance *s. */
static int number(const char **s, double *out)
{
    const char *b = *s;
    char *end;
    if (!*b || *b == ':' || *b == ' ') return -1;
    errno = 0;
    *out = strtod(b, &end);
    if (end == b || errno == ERANGE || (*end && *end != ':')) return -1;
    *s = *end == ':' ? end + 1 : end;
    return *end == ':' && !end[1] ? -1 : 0; /* a trailing ':' is malformed */
}

int cg_lr_schedule_parse(const char *spec, int *kind, double *params)
{
    if (!spec || !kind || !params)
        return cg_error(CG_ERR_ARG, "cg_lr_schedule_parse: NULL argument");
    static const struct { const char *name; int kind, min, max; } forms[] = {
        {"none", CG_LR_CONSTANT, 0, 0},       {"constant", CG_LR_CONSTANT, 0, 0},
        {"inverse", CG_LR_INVERSE_TIME, 1, 1}, {"exp", CG_LR_EXPONENTIAL, 1, 1},
        {"step", CG_LR_STEP, 2, 2},           {"cosine", CG_LR_COSINE, 1, 2},
    };
    size_t len = strcspn(spec, ":");
    int f = -1;
    for (int i = 0; i < (int)(sizeof forms / sizeof forms[0]); i++)
        if (strlen(forms[i].name) == len && !strncmp(spec, forms[i].name, len)) f = i;
    if (f < 0)
        return cg_error(CG_ERR_ARG, "bad learning-rate schedule \"%s\": unknown kind (valid: " CG_LR_FORMS ")",
                        spec);
    double p[CG_LR_MAX_PARAMS] = {0};
    int np = 0;
    const char *s = spec + len;
    if (*s == ':') {
        s++;
        while (*s || np == 0) {
            if (np == forms[f].max || number(&s, &p[np]))
                return cg_error(CG_ERR_ARG,
                                "bad learning-rate schedule \"%s\": expected %s%d number%s after \"%s:\" "
                                "(valid: " CG_LR_FORMS ")",
                                spec, forms[f].min == forms[f].max ? "" : "up to ", forms[f].max,
                                forms[f].max == 1 ? "" : "s", forms[f].name);
            np++;
        }
    }
    if (np < forms[f].min)
        return cg_error(CG_ERR_ARG,
                        "bad learning-rate schedule \"%s\": \"%s\" needs %d number%s (valid: " CG_LR_FORMS ")",
                        spec, forms[f].name, forms[f].min, forms[f].min == 1 ? "" : "s");
    if (cg_optim_check_schedule("cg_lr_schedule_parse", forms[f].kind, p)) {
        char why[512];
        snprintf(why, sizeof why, "%s", cg_last_error());
        return cg_error(CG_ERR_ARG, "bad learning-rate schedule \"%s\": %s", spec, why);
    }
    *kind = forms[f].kind;
    for (int i = 0; i < CG_LR_MAX_PARAMS; i++) params[i] = p[i];
    return CG_OK;
}
