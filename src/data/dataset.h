/* SPDX-License-Identifier: MIT */
/* dataset.h: the data set core (dataset.c) that every reader builds on;
 * users never see it. The floors of src/data, each including only the
 * ones below: dataset.c; the readers csv.c, npy.c, idx.c (readers.h);
 * loading by name (load.c) and of inputs (inputs.c). */
#ifndef CG_DATA_DATASET_H
#define CG_DATA_DATASET_H

#include <stdint.h>

#include "internal.h"

/* Fill *out as a data set of float features, taking ownership of x [n, d]
 * and y [n] (y may be NULL: an unlabelled set with n_classes 0; otherwise
 * n_classes is 1 + the largest label). */
void cg_dataset_take_f32(cg_dataset *out, int n, int d, float *x, int32_t *y);

/* 1 if s ends with suffix, ignoring ASCII case (".CSV" is ".csv"). */
int cg_ends_with(const char *s, const char *suffix);

#endif
