/* SPDX-License-Identifier: MIT */
/* model_config.h: the model's part of a run configuration, for the
 * module that assembles the whole (src/train). */
#ifndef CG_NN_MODEL_CONFIG_H
#define CG_NN_MODEL_CONFIG_H

#include "internal.h"
#include <cjson/cJSON.h>

void cg_model_config_init(cg_model_config *mc);
int cg_model_config_resolve(cg_model_config *mc);
cJSON *cg_model_config_json(const cg_model_config *mc);
int cg_model_config_read(const cJSON *o, const char *where, cg_model_config *mc);

#endif
