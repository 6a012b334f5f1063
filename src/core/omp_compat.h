/* SPDX-License-Identifier: MIT */
/* omp_compat.h: <omp.h> when OpenMP is on; otherwise the few runtime calls
 * cgrad makes, answering as a team of one thread (the WebAssembly build and
 * -DCG_OPENMP=OFF). The pragmas are then ignored by the compiler. */
#ifndef CG_OMP_COMPAT_H
#define CG_OMP_COMPAT_H

#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_num_procs(void) { return 1; }
static inline int omp_in_parallel(void) { return 0; }
static inline void omp_set_num_threads(int n) { (void)n; }
#endif

#endif
