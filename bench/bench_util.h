/* SPDX-License-Identifier: MIT */
/* bench_util.h: the clock, median and random operands the benchmark
 * programs share. Each program is one file, so static inline functions in
 * a header are enough: no extra source in every target, and an unused one
 * costs nothing (and no -Wunused-function).
 *
 * Include it first, before any system header: clock_gettime and
 * CLOCK_MONOTONIC are POSIX, not C11, and glibc reads _POSIX_C_SOURCE at
 * its first header. A late include stops at the #error below rather than
 * building without the declaration. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef CLOCK_MONOTONIC
#error "bench_util.h must be included before any system header (it needs _POSIX_C_SOURCE)"
#endif

/* Seconds on the monotonic clock: differences only, immune to clock steps. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n-1], n >= 1; sorts v in place. For an even n it is
 * v[n / 2], the upper of the middle two, as every program here took it
 * and as their PyTorch twins (torch_bench.py, cnn/torch_cnn.py) still do,
 * so the two sides stay comparable. */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[n / 2];
}

/* n floats in [-0.5, 0.5) from a fixed LCG (the same values on every run
 * and in every program, so timings stay comparable); the caller frees.
 * Exits with "who: out of memory" when malloc fails. */
static inline float *bench_random_matrix(size_t n, const char *who)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "%s: out of memory\n", who);
        exit(1);
    }
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

#endif
