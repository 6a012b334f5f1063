/* SPDX-License-Identifier: MIT */
/* config.c: the optimizer's and the schedule's parts of a run
 * configuration: defaults from the optimizer table, checks, JSON, and the
 * optimizer built from them (and its settings written back as JSON for
 * checkpoints). */
#include "optim.h"
#include "optim/config.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cg_optim_config_init(cg_optim_config *oc)
{
    memset(oc, 0, sizeof *oc);
    oc->lr = oc->momentum = oc->beta1 = oc->beta2 = oc->eps = oc->weight_decay = NAN;
    oc->decoupled = -1;
}

void cg_schedule_config_init(cg_schedule_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->kind = CG_LR_DEFAULT;
}

static int finite_nonneg(double v) { return v >= 0 && isfinite(v); }

/* One hyperparameter: a value given to an optimizer that does not use it
 * is an error (never dropped); a missing one takes the default. */
static int resolve_hyper(const cg_optim_def *d, const char *hyper, double *v)
{
    double dflt = cg_optimizer_default(d->name, hyper);
    if (isnan(*v)) {
        *v = dflt;
        return CG_OK;
    }
    if (isnan(dflt)) {
        const char *hint = "";
        if (!strcmp(hyper, "momentum") && cg_optimizer_uses(d->name, "beta1")) hint = " (its beta is beta1)";
        if (!strcmp(hyper, "beta1") && cg_optimizer_uses(d->name, "momentum")) hint = " (its beta is momentum)";
        return cg_error(CG_ERR_ARG, "optim.%s: optimizer %s has no %s%s", hyper, d->name, hyper, hint);
    }
    int beta = strcmp(hyper, "eps") != 0;
    if (beta ? !(*v >= 0 && *v < 1) : !(*v > 0 && isfinite(*v)))
        return cg_error(CG_ERR_ARG, "optim.%s: %g must be %s", hyper, *v,
                        beta ? "in [0, 1)" : "positive and finite");
    return CG_OK;
}

int cg_optim_config_resolve(cg_optim_config *oc)
{
    if (!oc->name[0]) snprintf(oc->name, sizeof oc->name, "adam");
    const cg_optim_def *d = cg_optim_find(oc->name);
    if (!d) return cg_error(CG_ERR_ARG, "optim.name: %s", cg_last_error());
    if (isnan(oc->lr)) oc->lr = d->lr;
    if (!(oc->lr > 0) || !isfinite(oc->lr))
        return cg_error(CG_ERR_ARG, "optim.lr: learning rate %g must be positive and finite", oc->lr);
    static const char *const hypers[] = {"momentum", "beta1", "beta2", "eps"};
    double *vals[] = {&oc->momentum, &oc->beta1, &oc->beta2, &oc->eps};
    for (int i = 0; i < 4; i++)
        if (resolve_hyper(d, hypers[i], vals[i])) return CG_ERR_ARG;
    if (isnan(oc->weight_decay)) oc->weight_decay = d->weight_decay;
    if (!finite_nonneg(oc->weight_decay))
        return cg_error(CG_ERR_ARG, "optim.weight_decay: %g must be >= 0 and finite", oc->weight_decay);
    if (oc->decoupled < 0) oc->decoupled = d->decoupled;
    if (d->decoupled && !oc->decoupled)
        return cg_error(CG_ERR_ARG, "optim.decoupled: adamw's weight decay is decoupled by definition; "
                                    "for L2 in the gradient use adam");
    if (oc->decoupled > 1) oc->decoupled = 1;
    if (!finite_nonneg(oc->clip_norm))
        return cg_error(CG_ERR_ARG, "optim.clip_norm: %g must be >= 0 and finite (0 = off)", oc->clip_norm);
    if (!finite_nonneg(oc->clip_value))
        return cg_error(CG_ERR_ARG, "optim.clip_value: %g must be >= 0 and finite (0 = off)",
                        oc->clip_value);
    return CG_OK;
}

int cg_schedule_config_resolve(cg_schedule_config *sc, int epochs)
{
    if (sc->start_epoch < 0)
        return cg_error(CG_ERR_ARG, "schedule.start_epoch: %d is negative", sc->start_epoch);
    if (sc->kind == CG_LR_DEFAULT) {
        /* Cosine to 0 over the epochs of the phase: the rate the run ends
         * at is the one Keras/PyTorch users reach for with a schedule. */
        int span = epochs - sc->start_epoch;
        sc->kind = CG_LR_COSINE;
        sc->params[0] = span > 0 ? span : 1;
        sc->params[1] = 0;
    }
    if (sc->warmup < 0) return cg_error(CG_ERR_ARG, "schedule.warmup: %d steps is negative", sc->warmup);
    if (cg_optim_check_schedule("schedule", sc->kind, sc->params)) return CG_ERR_ARG;
    for (int i = 0; i < CG_LR_MAX_PARAMS; i++)
        if (!isfinite(sc->params[i])) sc->params[i] = 0;
    return CG_OK;
}

void cg_schedule_format(const cg_schedule_config *sc, char *buf, size_t size)
{
    cg_lr_schedule_format(sc->kind, sc->params, buf, size);
}

void cg_lr_schedule_format(int kind, const double *p, char *buf, size_t size)
{
    if (!buf || !size) return;
    static const double none[CG_LR_MAX_PARAMS];
    if (!p) p = none;
    switch (kind) {
    case CG_LR_DEFAULT: snprintf(buf, size, "default"); break;
    case CG_LR_INVERSE_TIME: snprintf(buf, size, "inverse:%g", p[0]); break;
    case CG_LR_EXPONENTIAL: snprintf(buf, size, "exp:%g", p[0]); break;
    case CG_LR_STEP: snprintf(buf, size, "step:%g:%g", p[0], p[1]); break;
    case CG_LR_COSINE:
        if (p[1] > 0) snprintf(buf, size, "cosine:%g:%g", p[0], p[1]);
        else snprintf(buf, size, "cosine:%g", p[0]);
        break;
    default: snprintf(buf, size, "none"); break;
    }
}

/* --- JSON --- */

cJSON *cg_optim_config_json(const cg_optim_config *oc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", oc->name);
    cg_json_add_number(o, "lr", oc->lr);
    cg_json_add_number(o, "momentum", oc->momentum);
    cg_json_add_number(o, "beta1", oc->beta1);
    cg_json_add_number(o, "beta2", oc->beta2);
    cg_json_add_number(o, "eps", oc->eps);
    cg_json_add_number(o, "weight_decay", oc->weight_decay);
    if (oc->decoupled < 0) cJSON_AddNullToObject(o, "decoupled");
    else cJSON_AddBoolToObject(o, "decoupled", oc->decoupled);
    cg_json_add_number(o, "clip_norm", oc->clip_norm);
    cg_json_add_number(o, "clip_value", oc->clip_value);
    return o;
}

int cg_optim_config_read(const cJSON *o, const char *where, cg_optim_config *oc)
{
    static const char *const keys[] = {"name", "lr", "momentum", "beta1", "beta2", "eps",
                                       "weight_decay", "decoupled", "clip_norm", "clip_value", NULL};
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_string(o, where, "name", oc->name, sizeof oc->name) ||
        cg_json_number(o, where, "lr", &oc->lr) || cg_json_number(o, where, "momentum", &oc->momentum) ||
        cg_json_number(o, where, "beta1", &oc->beta1) || cg_json_number(o, where, "beta2", &oc->beta2) ||
        cg_json_number(o, where, "eps", &oc->eps) ||
        cg_json_number(o, where, "weight_decay", &oc->weight_decay) ||
        cg_json_number(o, where, "clip_norm", &oc->clip_norm) ||
        cg_json_number(o, where, "clip_value", &oc->clip_value))
        return CG_ERR_FORMAT;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(o, "decoupled");
    if (cJSON_IsNull(dec)) oc->decoupled = -1;
    else if (cg_json_bool(o, where, "decoupled", &oc->decoupled)) return CG_ERR_FORMAT;
    if (isnan(oc->clip_norm)) oc->clip_norm = 0;
    if (isnan(oc->clip_value)) oc->clip_value = 0;
    return CG_OK;
}

static const char *const kind_names[] = {"constant", "inverse", "exp", "step", "cosine"};

cJSON *cg_schedule_config_json(const cg_schedule_config *sc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "kind", sc->kind >= 0 && sc->kind <= CG_LR_COSINE ? kind_names[sc->kind]
                                                                               : "default");
    cJSON *p = cJSON_AddArrayToObject(o, "params");
    for (int i = 0; p && i < CG_LR_MAX_PARAMS; i++) cJSON_AddItemToArray(p, cJSON_CreateNumber(sc->params[i]));
    cJSON_AddNumberToObject(o, "warmup", sc->warmup);
    cJSON_AddNumberToObject(o, "start_epoch", sc->start_epoch);
    return o;
}

int cg_schedule_config_read(const cJSON *o, const char *where, cg_schedule_config *sc)
{
    static const char *const keys[] = {"kind", "params", "warmup", "start_epoch", NULL};
    char kind[16] = "";
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_string(o, where, "kind", kind, sizeof kind) ||
        cg_json_int(o, where, "warmup", 0, 1000000000, &sc->warmup) ||
        cg_json_int(o, where, "start_epoch", 0, 1000000000, &sc->start_epoch))
        return CG_ERR_FORMAT;
    if (kind[0]) {
        int k = !strcmp(kind, "default") ? CG_LR_DEFAULT : -2;
        for (int i = 0; i <= CG_LR_COSINE; i++)
            if (!strcmp(kind, kind_names[i])) k = i;
        if (k == -2)
            return cg_error(CG_ERR_FORMAT, "configuration: \"%s.kind\" \"%s\" is not one of default, "
                                           "constant, inverse, exp, step, cosine", where, kind);
        sc->kind = k;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
    if (p) {
        if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) > CG_LR_MAX_PARAMS)
            return cg_error(CG_ERR_FORMAT, "configuration: \"%s.params\" must be an array of at most %d "
                                           "numbers", where, CG_LR_MAX_PARAMS);
        for (int i = 0; i < cJSON_GetArraySize(p); i++) {
            const cJSON *v = cJSON_GetArrayItem(p, i);
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
                return cg_error(CG_ERR_FORMAT, "configuration: \"%s.params\" must hold finite numbers",
                                where);
            sc->params[i] = v->valuedouble;
        }
    }
    return CG_OK;
}

/* --- The optimizer from a configuration, and back --- */

static cg_optimizer *build(const cg_optim_config *oc, const cg_schedule_config *sc)
{
    const cg_optim_def *d = cg_optim_find(oc->name);
    cg_optimizer *o = d ? cg_optim_make(d, oc->lr, oc->momentum, oc->beta1, oc->beta2, oc->eps) : NULL;
    if (!o) return NULL;
    if (cg_optimizer_set_weight_decay(o, oc->weight_decay, oc->decoupled) ||
        cg_optimizer_set_clip_norm(o, oc->clip_norm) || cg_optimizer_set_clip_value(o, oc->clip_value) ||
        cg_optimizer_set_schedule(o, sc->kind, sc->params) || cg_optimizer_set_warmup(o, sc->warmup) ||
        cg_optimizer_set_schedule_start(o, sc->start_epoch)) {
        cg_optimizer_free(o);
        return NULL;
    }
    return o;
}

cg_optimizer *cg_optimizer_from_config(const cg_optim_config *oc, const cg_schedule_config *sc,
                                       int epochs)
{
    if (!oc || !sc) return cg_error_null(CG_ERR_ARG, "cg_optimizer_from_config: NULL argument");
    cg_optim_config o = *oc;
    cg_schedule_config s = *sc;
    if (cg_optim_config_resolve(&o) || cg_schedule_config_resolve(&s, epochs)) return NULL;
    return build(&o, &s);
}

/* The settings of a live optimizer as configuration parts. */
static void settings(const cg_optimizer *o, cg_optim_config *oc, cg_schedule_config *sc)
{
    cg_optim_config_init(oc);
    snprintf(oc->name, sizeof oc->name, "%s", cg_optimizer_name(o));
    const char *n = oc->name;
    oc->lr = o->lr0;
    oc->momentum = cg_optimizer_uses(n, "momentum") ? o->beta1 : NAN;
    oc->beta1 = cg_optimizer_uses(n, "beta1") ? o->beta1 : NAN;
    oc->beta2 = cg_optimizer_uses(n, "beta2") ? o->beta2 : NAN;
    oc->eps = cg_optimizer_uses(n, "eps") ? o->eps : NAN;
    oc->weight_decay = o->wd;
    oc->decoupled = o->decoupled;
    oc->clip_norm = o->clip_norm;
    oc->clip_value = o->clip_value;
    cg_schedule_config_init(sc);
    sc->kind = o->sched;
    for (int i = 0; i < CG_LR_MAX_PARAMS; i++) sc->params[i] = o->sched_p[i];
    sc->warmup = o->warmup;
    sc->start_epoch = o->sched_start;
}

char *cg_optimizer_to_json(const cg_optimizer *o)
{
    if (!o) return cg_error_null(CG_ERR_ARG, "cg_optimizer_to_json: NULL optimizer");
    cg_optim_config oc;
    cg_schedule_config sc;
    settings(o, &oc, &sc);
    cJSON *j = cJSON_CreateObject();
    if (j) {
        cJSON_AddItemToObject(j, "config", cg_optim_config_json(&oc));
        cJSON_AddItemToObject(j, "schedule", cg_schedule_config_json(&sc));
        cJSON_AddNumberToObject(j, "epoch", o->epoch);
        char step[32];
        snprintf(step, sizeof step, "%ld", o->t);
        cJSON_AddStringToObject(j, "step", step);
    }
    char *s = cg_json_text(j);
    return s ? s : cg_error_null(CG_ERR_MEMORY, "cg_optimizer_to_json: out of memory");
}

cg_optimizer *cg_optimizer_from_json(const char *json)
{
    cJSON *j = json ? cJSON_Parse(json) : NULL;
    if (!j) return cg_error_null(CG_ERR_FORMAT, "optimizer: not valid JSON");
    cg_optim_config oc;
    cg_schedule_config sc;
    cg_optim_config_init(&oc);
    cg_schedule_config_init(&sc);
    static const char *const keys[] = {"config", "schedule", "epoch", "step", NULL};
    int epoch = 0;
    uint64_t step = 0;
    cg_optimizer *o = NULL;
    if (!cg_json_object(j, "optimizer") && !cg_json_known_keys(j, "optimizer", keys) &&
        !cg_optim_config_read(cJSON_GetObjectItemCaseSensitive(j, "config"), "optimizer.config", &oc) &&
        !cg_schedule_config_read(cJSON_GetObjectItemCaseSensitive(j, "schedule"), "optimizer.schedule",
                                 &sc) &&
        !cg_json_int(j, "optimizer", "epoch", 0, 1000000000, &epoch) &&
        !cg_json_u64(j, "optimizer", "step", &step)) {
        if (step > (uint64_t)1 << 62) cg_error(CG_ERR_FORMAT, "optimizer.step: %llu is too large",
                                              (unsigned long long)step);
        else if (cg_optim_config_resolve(&oc) || sc.kind == CG_LR_DEFAULT ||
                 cg_schedule_config_resolve(&sc, 1))
            cg_error(CG_ERR_FORMAT, "optimizer: %s", sc.kind == CG_LR_DEFAULT
                                                         ? "schedule.kind must be resolved"
                                                         : cg_last_error());
        else if ((o = build(&oc, &sc)) &&
                 (cg_optimizer_set_epoch(o, epoch) || cg_optimizer_set_step_count(o, (long)step))) {
            cg_optimizer_free(o);
            o = NULL;
        }
    }
    cJSON_Delete(j);
    if (!o && cg_last_error_code() != CG_ERR_FORMAT)
        cg_error(CG_ERR_FORMAT, "optimizer: %s", cg_last_error());
    return o;
}
