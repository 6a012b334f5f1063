/* SPDX-License-Identifier: MIT */
/* optim.h: the optimizer's private layout, shared by optimizer.c and
 * schedule.c. */
#ifndef CG_OPTIM_H
#define CG_OPTIM_H

#include "internal.h"

enum { CG_OPT_SGD, CG_OPT_MOMENTUM, CG_OPT_RMSPROP, CG_OPT_ADAM };

typedef struct cg_optim_def cg_optim_def;

struct cg_optimizer {
    int kind;
    const cg_optim_def *def; /* its table entry, NULL if made directly */
    double lr0;          /* base learning rate                         */
    double beta1;        /* momentum beta / rmsprop beta / adam beta1  */
    double beta2;        /* adam beta2                                 */
    double eps;
    int nesterov;
    double wd;
    int decoupled;
    double clip_norm;    /* 0 = off */
    double clip_value;   /* 0 = off */
    int sched;           /* CG_LR_*                                    */
    double sched_p[CG_LR_MAX_PARAMS];
    int sched_start;     /* the epoch the schedule's phase began at    */
    int warmup;          /* steps, 0 = off                             */
    int epoch;
    long t;              /* updates done                               */
    size_t n;            /* parameter count the state is sized for     */
    cg_real *s0;         /* velocity / first moment, or NULL           */
    cg_real *s1;         /* second moment, or NULL                     */
};

/* The optimizer of that name in the one table of optimizers (table.c),
 * with its defaults; NULL with a message naming the valid names. */
struct cg_optim_def {
    const char *name, *summary;
    int kind, nesterov;
    int decoupled;       /* its --weight-decay is decoupled (AdamW)    */
    double lr, momentum, beta1, beta2, eps, weight_decay; /* NaN: unused */
};
const cg_optim_def *cg_optim_find(const char *name);
/* The entry of an update rule (kind, nesterov, decoupled weight decay),
 * or NULL: names an optimizer built by a constructor. */
const cg_optim_def *cg_optim_def_of(int kind, int nesterov, int decoupled);
/* A new optimizer of entry d with these hyperparameters (unused ones
 * ignored) and d's default weight decay. */
cg_optimizer *cg_optim_make(const cg_optim_def *d, double lr, double momentum, double beta1,
                            double beta2, double eps);

/* The scheduled rate at the current epoch, before warm-up. */
double cg_optim_scheduled_lr(const cg_optimizer *o);
/* Check a schedule kind and its parameters; `who` names the caller. */
int cg_optim_check_schedule(const char *who, int kind, const double *p);

#endif
