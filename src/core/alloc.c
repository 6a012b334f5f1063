/* SPDX-License-Identifier: MIT */
/* alloc.c: every heap allocation of the library goes through here, so a
 * test can prove that a training step allocates nothing. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_size_t allocations;

void *cg_malloc(size_t n)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return malloc(n ? n : 1);
}

void *cg_calloc(size_t count, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return calloc(count ? count : 1, size ? size : 1);
}

void *cg_realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return realloc(p, n ? n : 1);
}

void cg_free(void *p) { free(p); }

char *cg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cg_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

size_t cg_alloc_count(void)
{
    return atomic_load_explicit(&allocations, memory_order_relaxed);
}
