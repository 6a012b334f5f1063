/* SPDX-License-Identifier: MIT */
/* optim.h: the optimizer's private layout, shared by optimizer.c and
 * schedule.c. */
#ifndef CG_OPTIM_H
#define CG_OPTIM_H

#include "internal.h"

enum { CG_OPT_SGD, CG_OPT_MOMENTUM, CG_OPT_RMSPROP, CG_OPT_ADAM };

struct cg_optimizer {
    int kind;
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
    int warmup;          /* steps, 0 = off                             */
    int epoch;
    long t;              /* updates done                               */
    size_t n;            /* parameter count the state is sized for     */
    cg_real *s0;         /* velocity / first moment, or NULL           */
    cg_real *s1;         /* second moment, or NULL                     */
};

/* The scheduled rate at the current epoch, before warm-up. */
double cg_optim_scheduled_lr(const cg_optimizer *o);
/* Check a schedule kind and its parameters; `who` names the caller. */
int cg_optim_check_schedule(const char *who, int kind, const double *p);

#endif
