/* SPDX-License-Identifier: MIT */
/* check.h: the few macros the tests need. A failed check prints where and
 * why, and the test exits non-zero at the end. */
#ifndef CG_CHECK_H
#define CG_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                 \
    do {                                                                      \
        double check_a_ = (double)(a), check_b_ = (double)(b);                \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                          \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.12g, %s = %.12g\n", \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_);          \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

/* The last error message contains `needle`. */
#define CHECK_ERROR(needle)                                                   \
    do {                                                                      \
        if (!strstr(cg_last_error(), (needle))) {                             \
            fprintf(stderr, "%s:%d: error message \"%s\" lacks \"%s\"\n",     \
                    __FILE__, __LINE__, cg_last_error(), (needle));           \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_DONE()                                                          \
    do {                                                                      \
        if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures); \
        return check_failures ? 1 : 0;                                        \
    } while (0)

#endif
