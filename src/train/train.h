/* SPDX-License-Identifier: MIT */
/* train.h: what the training loop (fit.c) and evaluation (evaluate.c)
 * share and users never see. */
#ifndef CG_TRAIN_H
#define CG_TRAIN_H

#include "internal.h"

/* The index of the largest of row[0..c) (the first on ties). */
int cg_train_row_argmax(const cg_real *row, int c);

/* Number of the n rows of scores [n, c] whose argmax equals the label. */
long cg_train_count_correct(const cg_real *scores, const cg_real *labels, int n, int c);

/* ds fits m: not empty, m's feature count, labels within its classes.
 * fn and what ("training") name the caller and the set in messages. */
int cg_train_check_data(cg_model *m, const cg_dataset *ds, const char *fn, const char *what);

/* Gather rows idx[0..n) of ds, normalised by nz, into m's placeholders. */
int cg_train_feed_batch(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                        const int *idx, int n);

/* Mean loss and accuracy over ds in inference mode, in batches of `batch`
 * using idx_buf [batch], and (conf not NULL, one rank) the confusion
 * counts; with several ranks in d (may be NULL), each takes its share of
 * the rows and the sums are reduced. */
int cg_train_evaluate_rows(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                           int batch, int *idx_buf, cg_dist *d, double *loss, double *acc,
                           long *conf);

#endif
