/* SPDX-License-Identifier: MIT */
/* config.h: the optimizer's and the schedule's parts of a run
 * configuration, for the module that assembles the whole (src/train). */
#ifndef CG_OPTIM_CONFIG_H
#define CG_OPTIM_CONFIG_H

#include "internal.h"
#include <cjson/cJSON.h>

void cg_optim_config_init(cg_optim_config *oc);
void cg_schedule_config_init(cg_schedule_config *sc);
/* Defaults filled in and checked (see cg_run_config_resolve). */
int cg_optim_config_resolve(cg_optim_config *oc);
/* The default schedule becomes cosine to 0 over the epochs of its phase. */
int cg_schedule_config_resolve(cg_schedule_config *sc, int epochs);
/* The parts as JSON objects (NULL if out of memory), and back into *oc /
 * *sc from an object named `where`. */
cJSON *cg_optim_config_json(const cg_optim_config *oc);
int cg_optim_config_read(const cJSON *o, const char *where, cg_optim_config *oc);
cJSON *cg_schedule_config_json(const cg_schedule_config *sc);
int cg_schedule_config_read(const cJSON *o, const char *where, cg_schedule_config *sc);
/* The schedule as a spec cg_lr_schedule_parse reads ("cosine:10"). */
void cg_schedule_format(const cg_schedule_config *sc, char *buf, size_t size);

#endif
