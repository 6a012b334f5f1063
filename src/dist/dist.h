/* SPDX-License-Identifier: MIT */
/* dist.h: the collective operations data-parallel training needs, over
 * MPI when cgrad is built with it. With one rank (or no MPI) each is the
 * identity, so callers need no second code path for correctness. */
#ifndef CG_DIST_H
#define CG_DIST_H

#include "internal.h"

/* Sum n values in place across ranks (every rank gets the same sums). */
int cg_dist_sum(cg_dist *d, cg_real *buf, size_t n);
int cg_dist_sum_double(cg_dist *d, double *buf, size_t n);
/* The largest of each rank's v. */
int cg_dist_max_int(cg_dist *d, int v);
/* The graph's collective hook (internal.h) summing over d's ranks, for
 * cg_graph_set_collective: how synchronised batch norm reaches MPI
 * without ops knowing of it. */
void cg_dist_collective(cg_dist *d, cg_collective *out);
/* Copy rank root's buf to every rank. */
int cg_dist_broadcast(cg_dist *d, cg_real *buf, size_t n, int root);

#endif
