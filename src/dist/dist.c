/* SPDX-License-Identifier: MIT */
/* dist.c: data-parallel training over MPI (OpenMPI from Debian), optional
 * at build time. Without CG_HAVE_MPI every process is rank 0 of 1. */
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#ifdef CG_HAVE_MPI
#include <mpi.h>
#endif

struct cg_dist {
    int rank, size;
    int initialized_mpi; /* we called MPI_Init, so we finalize */
};

int cg_dist_available(void)
{
#ifdef CG_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int cg_dist_launched(void)
{
    /* Set by mpirun (OpenMPI, PMIx) or by other launchers (PMI). */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

cg_dist *cg_dist_init(int *argc, char ***argv)
{
    cg_dist *d = cg_calloc(1, sizeof *d);
    if (!d) return cg_error_null(CG_ERR_MEMORY, "cg_dist_init: out of memory");
    d->size = 1;
#ifdef CG_HAVE_MPI
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
        if (MPI_Init(argc, argv) != MPI_SUCCESS) {
            cg_free(d);
            return cg_error_null(CG_ERR_STATE, "cg_dist_init: MPI_Init failed");
        }
        d->initialized_mpi = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
#else
    (void)argc;
    (void)argv;
#endif
    return d;
}

int cg_dist_rank(const cg_dist *d) { return d ? d->rank : 0; }
int cg_dist_size(const cg_dist *d) { return d ? d->size : 1; }

void cg_dist_abort(cg_dist *d, int code)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
    }
#endif
    (void)d;
    (void)code;
}

void cg_dist_finalize(cg_dist *d)
{
    if (!d) return;
#ifdef CG_HAVE_MPI
    if (d->initialized_mpi) MPI_Finalize();
#endif
    cg_free(d);
}

#ifdef CG_HAVE_MPI
#ifdef CG_DOUBLE
#define MPI_REAL_T MPI_DOUBLE
#else
#define MPI_REAL_T MPI_FLOAT
#endif

/* MPI counts are int: large buffers go in chunks. */
enum { CHUNK = 1 << 30 };

static int mpi_fail(const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return cg_error(CG_ERR_STATE, "%s failed: %s", what, msg);
}
#endif

#ifdef CG_HAVE_MPI
/* Sum n elements of `type` (each `size` bytes) in place across ranks, in
 * chunks that fit MPI's int counts. */
static int sum_in_place(void *buf, size_t n, size_t size, MPI_Datatype type)
{
    for (size_t off = 0; off < n; off += CHUNK) {
        int k = (int)(n - off < CHUNK ? n - off : CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * size, k, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allreduce", rc);
    }
    return CG_OK;
}
#endif

int cg_dist_sum(cg_dist *d, cg_real *buf, size_t n)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1) return sum_in_place(buf, n, sizeof *buf, MPI_REAL_T);
#endif
    (void)d;
    (void)buf;
    (void)n;
    return CG_OK;
}

static int collective_sum(void *ctx, cg_real *buf, size_t n)
{
    return cg_dist_sum(ctx, buf, n);
}

static int collective_sum_double(void *ctx, double *buf, size_t n)
{
    return cg_dist_sum_double(ctx, buf, n);
}

void cg_dist_collective(cg_dist *d, cg_collective *out)
{
    out->sum = collective_sum;
    out->sum_double = collective_sum_double;
    out->ctx = d;
}

int cg_dist_sum_double(cg_dist *d, double *buf, size_t n)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1) return sum_in_place(buf, n, sizeof *buf, MPI_DOUBLE);
#endif
    (void)d;
    (void)buf;
    (void)n;
    return CG_OK;
}

int cg_dist_max_int(cg_dist *d, int v)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1) {
        int out = v;
        MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        return out;
    }
#endif
    (void)d;
    return v;
}

int cg_dist_broadcast(cg_dist *d, cg_real *buf, size_t n, int root)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1)
        for (size_t off = 0; off < n; off += CHUNK) {
            int k = (int)(n - off < CHUNK ? n - off : CHUNK);
            int rc = MPI_Bcast(buf + off, k, MPI_REAL_T, root, MPI_COMM_WORLD);
            if (rc != MPI_SUCCESS) return mpi_fail("MPI_Bcast", rc);
        }
#endif
    (void)d;
    (void)buf;
    (void)n;
    (void)root;
    return CG_OK;
}

int cg_dist_barrier(cg_dist *d)
{
#ifdef CG_HAVE_MPI
    if (d && d->size > 1) {
        int rc = MPI_Barrier(MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail("MPI_Barrier", rc);
    }
#endif
    (void)d;
    return CG_OK;
}

int cg_dist_allgather(cg_dist *d, const void *mine, size_t n, char **out, size_t *out_n)
{
    if (!out || !out_n || (n && !mine)) return cg_error(CG_ERR_ARG, "cg_dist_allgather: NULL argument");
    *out = NULL;
    *out_n = 0;
    if (n > (size_t)INT_MAX) return cg_error(CG_ERR_ARG, "cg_dist_allgather: %zu bytes is too many", n);
    int size = cg_dist_size(d);
    int *counts = calloc((size_t)size, sizeof *counts), *displs = calloc((size_t)size, sizeof *displs);
    if (!counts || !displs) {
        free(counts);
        free(displs);
        return cg_error(CG_ERR_MEMORY, "cg_dist_allgather: out of memory");
    }
    int rc = CG_OK;
    size_t total = n;
    counts[0] = (int)n;
#ifdef CG_HAVE_MPI
    if (size > 1) {
        int mine_n = (int)n, e = MPI_Allgather(&mine_n, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
        if (e != MPI_SUCCESS) rc = mpi_fail("MPI_Allgather", e);
        total = 0;
        for (int r = 0; r < size; r++) {
            displs[r] = (int)total;
            total += (size_t)counts[r];
        }
        if (!rc && total > (size_t)INT_MAX)
            rc = cg_error(CG_ERR_ARG, "cg_dist_allgather: %zu bytes in all is too many", total);
    }
#endif
    char *buf = rc ? NULL : malloc(total + 1);
    if (!rc && !buf) rc = cg_error(CG_ERR_MEMORY, "cg_dist_allgather: out of memory");
    if (!rc) {
#ifdef CG_HAVE_MPI
        if (size > 1) {
            int e = MPI_Allgatherv(mine, (int)n, MPI_CHAR, buf, counts, displs, MPI_CHAR, MPI_COMM_WORLD);
            if (e != MPI_SUCCESS) rc = mpi_fail("MPI_Allgatherv", e);
        } else
#endif
        if (n) memcpy(buf, mine, n);
    }
    free(counts);
    free(displs);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[total] = 0;
    *out = buf;
    *out_n = total;
    return CG_OK;
}
