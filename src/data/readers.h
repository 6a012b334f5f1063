/* SPDX-License-Identifier: MIT */
/* readers.h: the file readers (csv.c, npy.c, idx.c) as the loaders above
 * them use them; users never see it. */
#ifndef CG_DATA_READERS_H
#define CG_DATA_READERS_H

#include <stdint.h>
#include <stdio.h>

#include "data/dataset.h"

/* Read an IDX images file (ubyte, 3 dims, plain or gzip): *pixels is a new
 * buffer of dims[0] * dims[1] * dims[2] bytes. */
int cg_idx_read_images(const char *path, uint8_t **pixels, uint32_t dims[3]);

/* The CSV reader behind cg_load_csv(_opts) and cg_load_inputs(_opts).
 * `name` names the source in messages; `stream` (may be NULL: open name)
 * is read to its end and not closed (a pipe is copied to a temporary
 * file: the reader makes two passes). o may be NULL (the defaults).
 * d == 0 loads a labelled set; d > 0 loads features only for a model
 * taking d: with o->table, that table's columns (its label column
 * optional and dropped unread); without, d numeric columns or d + 1 whose
 * label column (chosen as for cg_load_csv) is dropped unread. */
int cg_csv_read(const char *name, FILE *stream, const cg_csv_options *o, int d, cg_dataset *out);

/* The .npy reader behind cg_load_npy and cg_load_inputs; d as for
 * cg_csv_read. */
int cg_npy_read(const char *path, const char *label, int d, cg_dataset *out);

#endif
