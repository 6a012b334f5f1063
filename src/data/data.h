/* SPDX-License-Identifier: MIT */
/* data.h: what the data loaders share and users never see. */
#ifndef CG_DATA_H
#define CG_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "internal.h"

/* Fill *out as a data set of float features, taking ownership of x [n, d]
 * and y [n] (y may be NULL: an unlabelled set with n_classes 0; otherwise
 * n_classes is 1 + the largest label). */
void cg_dataset_take_f32(cg_dataset *out, int n, int d, float *x, int32_t *y);

/* 1 if s ends with suffix, ignoring ASCII case (".CSV" is ".csv"). */
int cg_ends_with(const char *s, const char *suffix);

/* Read an IDX images file (ubyte, 3 dims, plain or gzip): *pixels is a new
 * buffer of dims[0] * dims[1] * dims[2] bytes. */
int cg_idx_read_images(const char *path, uint8_t **pixels, uint32_t dims[3]);

/* The CSV reader behind cg_load_csv and cg_load_inputs. `name` names the
 * source in messages; `stream` (may be NULL: open name) is read to its end
 * and not closed. d == 0 loads a labelled set as cg_load_csv documents;
 * d > 0 loads features only: rows of d cells, or of d + 1 cells whose
 * label column (chosen as for cg_load_csv) is dropped unread. */
int cg_csv_read(const char *name, FILE *stream, const char *label, int has_header, int d,
                cg_dataset *out);

/* The .npy reader behind cg_load_npy and cg_load_inputs; d as for
 * cg_csv_read. */
int cg_npy_read(const char *path, const char *label, int d, cg_dataset *out);

#endif
