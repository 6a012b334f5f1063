/* SPDX-License-Identifier: MIT */
/* flags.c: a point of the search space as `cgrad train` flags. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tune/tune.h"

/* Parameter name -> train flag, for the names that map one to one. */
static const char *const flag_of[][2] = {
    {"lr", "--lr"},           {"optimizer", "--optimizer"},   {"momentum", "--momentum"},
    {"beta1", "--beta1"},     {"beta2", "--beta2"},           {"eps", "--eps"},
    {"batch", "--batch"},     {"hidden", "--hidden"},         {"dropout", "--dropout"},
    {"lr_decay", "--lr-decay"}, {"weight_decay", "--weight-decay"}, {"epochs", "--epochs"},
    {"activation", "--activation"},
};

static int is_optimizer_hyper(const char *name)
{
    return !strcmp(name, "momentum") || !strcmp(name, "beta1") || !strcmp(name, "beta2") ||
           !strcmp(name, "eps");
}

typedef struct out_args {
    char **argv;
    int n, max;
    char *store;
    int used, size, overflow;
} out_args;

static void push(out_args *o, const char *s)
{
    int len = (int)strlen(s) + 1;
    if (o->n == o->max || o->used + len > o->size) {
        o->overflow = 1;
        return;
    }
    memcpy(o->store + o->used, s, (size_t)len);
    o->argv[o->n++] = o->store + o->used;
    o->used += len;
}

int cg_tune_train_flags(const cg_tune_space *s, const cg_tune_point *pt, char **argv, int max,
                        char *store, int store_size)
{
    out_args o = {argv, 0, max, store, 0, store_size, 0};
    char val[CG_TUNE_CHOICE_LEN + 32];
    int units = 256, layers = -1, have_units = 0;
    char opt[CG_TUNE_CHOICE_LEN + 32];
    const char *optimizer = NULL;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->p[i].name, "optimizer") == 0) {
            cg_tune_format_value(&s->p[i], pt->v[i], opt, (int)sizeof opt);
            optimizer = opt;
        }
    for (int i = 0; i < s->n; i++) {
        const cg_tune_param *p = &s->p[i];
        cg_tune_format_value(p, pt->v[i], val, (int)sizeof val);
        if (strcmp(p->name, "units") == 0) {
            units = (int)pt->v[i];
            if (p->dist == CG_TUNE_CHOICE) sscanf(val, "%d", &units);
            have_units = 1;
            continue;
        }
        if (strcmp(p->name, "layers") == 0) {
            layers = (int)pt->v[i];
            if (p->dist == CG_TUNE_CHOICE) sscanf(val, "%d", &layers);
            continue;
        }
        if (strcmp(p->name, "bn") == 0) {
            if (strcmp(val, "1") == 0) push(&o, "--bn");
            continue;
        }
        /* A point that samples SGD leaves out the betas it also sampled:
         * train refuses a flag its optimizer does not use. */
        if (optimizer && is_optimizer_hyper(p->name) && !cg_optimizer_uses(optimizer, p->name))
            continue;
        for (size_t k = 0; k < sizeof flag_of / sizeof *flag_of; k++)
            if (strcmp(flag_of[k][0], p->name) == 0) {
                push(&o, flag_of[k][1]);
                push(&o, val);
            }
    }
    /* units alone keeps train's two hidden layers; layers alone keeps 256. */
    if (have_units || layers >= 0) {
        if (layers < 0) layers = 2;
        char list[1024] = "none";
        int used = 0;
        for (int l = 0; l < layers && used < (int)sizeof list - 16; l++)
            used += snprintf(list + used, sizeof list - (size_t)used, "%s%d", l ? "," : "", units);
        push(&o, "--hidden");
        push(&o, list);
    }
    if (o.overflow) return cg_error(CG_ERR_ARG, "cg_tune_train_flags: too many flags"), -1;
    return o.n;
}
