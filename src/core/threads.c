/* threads.c: one knob for both threading layers (OpenBLAS inside GEMMs,
 * OpenMP outside). They never run at the same time, so the same count for
 * both does not oversubscribe the cores. */
#include "cgrad.h"

#include <cblas.h>
#include <omp.h>

static int threads_set;

void cg_set_threads(int n)
{
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    threads_set = n;
}

int cg_get_threads(void) { return threads_set ? threads_set : omp_get_max_threads(); }
