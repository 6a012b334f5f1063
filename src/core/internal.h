/* SPDX-License-Identifier: MIT */
/* internal.h: what library files share and users never see. */
#ifndef CG_INTERNAL_H
#define CG_INTERNAL_H

#include "cgrad.h"
#include <stdarg.h>

#if defined(__GNUC__)
#define CG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CG_PRINTF(a, b)
#endif

/* Record an error message (printf-style) and return `code`, so a failing
 * function can `return cg_error(CG_ERR_SHAPE, "...", ...)`. */
int cg_error(int code, const char *fmt, ...) CG_PRINTF(2, 3);
/* The same, for functions returning a pointer: records and returns NULL. */
void *cg_error_null(int code, const char *fmt, ...) CG_PRINTF(2, 3);
/* The code of the last error (CG_OK if none). */
int cg_last_error_code(void);

/* cg_backward with d(cost)/d(cost) = seed instead of 1 (data-parallel
 * training seeds each rank with its share of the global batch). */
int cg_backward_seeded(cg_node *cost, cg_real seed);

/* Synchronised batch norm over the ranks of d while training (NULL: each
 * rank's own batch statistics). */
void cg_graph_set_bn_sync(cg_graph *g, cg_dist *d);

/* The library's allocator: counts every allocation (see cg_alloc_count). */
void *cg_malloc(size_t n);
void *cg_calloc(size_t count, size_t size);
void *cg_realloc(void *p, size_t n);
void cg_free(void *p);
char *cg_strdup(const char *s);

#endif
