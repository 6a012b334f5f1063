/* SPDX-License-Identifier: MIT */
/* threads.c: one threading layer. OpenMP threads run the elementwise loops
 * and the matrix products alike (matmul.c splits a large product over
 * them); OpenBLAS itself stays single-threaded. Two pools, OpenBLAS's next
 * to OpenMP's, oversubscribe the cores: a pool's idle threads spin while
 * the other pool works, and each product waits on a thread that has lost
 * its core (PyTorch's slowdown on 2 threads). */
#include "cgrad.h"

#include "omp_compat.h"
#include "ops/gemm.h"
#include <stdatomic.h>

static int threads_set;
/* Atomic: graphs may be planned on several threads at once (parallel
 * trials); one of them sets OpenBLAS to one thread. */
static atomic_int blas_single;

/* Called when a graph plans its memory, before any product runs. */
void cg_threads_default(void)
{
    if (atomic_load(&blas_single) || atomic_exchange(&blas_single, 1)) return;
    cg_gemm_single_threaded();
}

void cg_set_threads(int n)
{
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    cg_gemm_single_threaded();
    atomic_store(&blas_single, 1);
    threads_set = n;
}

int cg_thread_parts(void)
{
    static atomic_int parts;
    int p = atomic_load(&parts);
    if (!p) {
        p = omp_get_num_procs();
        if (p < 1) p = 1;
        atomic_store(&parts, p);
    }
    return p;
}

int cg_get_threads(void) { return threads_set ? threads_set : omp_get_max_threads(); }
