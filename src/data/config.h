/* SPDX-License-Identifier: MIT */
/* config.h: the data's part of a run configuration, for the module that
 * assembles the whole (src/train). */
#ifndef CG_DATA_CONFIG_H
#define CG_DATA_CONFIG_H

#include "internal.h"
#include <cjson/cJSON.h>

void cg_data_config_init(cg_data_config *dc);
int cg_data_config_resolve(cg_data_config *dc);
cJSON *cg_data_config_json(const cg_data_config *dc);
int cg_data_config_read(const cJSON *o, const char *where, cg_data_config *dc);

#endif
