/* SPDX-License-Identifier: MIT */
/* mpi/bn2d.c: synchronised batch_norm2d, run by ctest as `mpirun -np 2
 * --oversubscribe mpi_bn2d`. Each rank holds its share of a global batch;
 * with the graph's batch norm synchronised over the ranks (what cg_fit's
 * sync_bn sets), each rank's output, x gradient and running statistics
 * equal those of one process normalising the whole batch, and gamma's and
 * beta's gradients summed over the ranks (as data-parallel training sums
 * every parameter gradient) equal the whole batch's. Within 1e-5
 * relative: the sums run in another order. */
#include "../check.h"
#include "core/internal.h"
#include "dist/dist.h"

#include <cgrad.h>
#include <mpi.h>
#include <stdlib.h>

enum { PER = 3, C = 3, H = 4, W = 5, PLANE = H * W };

#define SH(...) ((const int[]){__VA_ARGS__})

static double worst_rel(const cg_real *a, const cg_real *b, size_t n)
{
    double scale = 1e-3, d = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)b[i]));
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d / scale;
}

typedef struct bn_graph {
    cg_graph *g;
    cg_node *x, *gamma, *beta, *rm, *rv, *y, *cost;
} bn_graph;

/* Rows [first, first + n) of the global batch, the same random values on
 * every rank. */
static bn_graph build(int first, int n, const cg_real *xall, const cg_real *rall)
{
    bn_graph b;
    b.g = cg_graph_new();
    b.x = cg_variable(b.g, "x", 4, SH(n, C, H, W), xall + (size_t)first * C * PLANE);
    b.gamma = cg_variable(b.g, "gamma", 1, SH(C), (const cg_real[]){0.5, 1.5, 2});
    b.beta = cg_variable(b.g, "beta", 1, SH(C), (const cg_real[]){-1, 0, 1});
    b.rm = cg_state(b.g, "rm", 1, SH(C), NULL);
    b.rv = cg_state(b.g, "rv", 1, SH(C), (const cg_real[]){1, 1, 1});
    cg_node *r = cg_constant(b.g, 4, SH(n, C, H, W), rall + (size_t)first * C * PLANE);
    b.y = cg_batch_norm2d(b.x, b.gamma, b.beta, b.rm, b.rv, 0.1f, 1e-5f);
    b.cost = cg_sum(cg_mul(b.y, r));
    return b;
}

int main(int argc, char **argv)
{
    cg_set_threads(1);
    cg_dist *d = cg_dist_init(&argc, &argv);
    CHECK(d != NULL);
    const int rank = cg_dist_rank(d), size = cg_dist_size(d), total = PER * size;
    CHECK(size >= 2);
    const size_t n_all = (size_t)total * C * PLANE, n_mine = (size_t)PER * C * PLANE;
    cg_real *xall = malloc(n_all * sizeof *xall), *rall = malloc(n_all * sizeof *rall);
    cg_rng r;
    cg_rng_seed(&r, 5);
    for (size_t i = 0; i < n_all; i++) {
        xall[i] = (cg_real)(4 * cg_rng_uniform(&r) - 1);
        rall[i] = (cg_real)(2 * cg_rng_uniform(&r) - 1);
    }

    bn_graph whole = build(0, total, xall, rall);
    bn_graph mine = build(rank * PER, PER, xall, rall);
    CHECK(whole.cost && mine.cost);
    cg_collective coll;
    cg_dist_collective(d, &coll);
    cg_graph_set_collective(mine.g, &coll);
    CHECK(cg_backward(whole.cost) == CG_OK);
    CHECK(cg_backward(mine.cost) == CG_OK);

    const size_t off = (size_t)rank * n_mine;
    double e_y = worst_rel(cg_node_value(mine.y), cg_node_value(whole.y) + off, n_mine);
    double e_dx = worst_rel(cg_node_grad(mine.x), cg_node_grad(whole.x) + off, n_mine);
    double e_rm = worst_rel(cg_node_value(mine.rm), cg_node_value(whole.rm), C);
    double e_rv = worst_rel(cg_node_value(mine.rv), cg_node_value(whole.rv), C);
    /* gamma's and beta's gradients: each rank's share, summed. */
    double part[2 * C], sum[2 * C];
    for (int c = 0; c < C; c++) {
        part[c] = cg_node_grad(mine.gamma)[c];
        part[C + c] = cg_node_grad(mine.beta)[c];
    }
    MPI_Allreduce(part, sum, 2 * C, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    cg_real gsum[2 * C], gwhole[2 * C];
    for (int c = 0; c < C; c++) {
        gsum[c] = (cg_real)sum[c];
        gsum[C + c] = (cg_real)sum[C + c];
        gwhole[c] = cg_node_grad(whole.gamma)[c];
        gwhole[C + c] = cg_node_grad(whole.beta)[c];
    }
    double e_gb = worst_rel(gsum, gwhole, 2 * C);

    /* Inference: both normalise with the (equal) running statistics. */
    cg_graph_set_training(whole.g, 0);
    cg_graph_set_training(mine.g, 0);
    CHECK(cg_forward(whole.y) == CG_OK && cg_forward(mine.y) == CG_OK);
    double e_inf = worst_rel(cg_node_value(mine.y), cg_node_value(whole.y) + off, n_mine);

    if (rank == 0)
        printf("synchronised batch_norm2d on %d ranks vs one process: worst relative "
               "difference y %.2g, dx %.2g, running mean %.2g, var %.2g, dgamma/dbeta %.2g, "
               "inference y %.2g\n", size, e_y, e_dx, e_rm, e_rv, e_gb, e_inf);
    CHECK(e_y <= 1e-5 && e_dx <= 1e-5 && e_rm <= 1e-5 && e_rv <= 1e-5 && e_gb <= 1e-5 &&
          e_inf <= 1e-5);
    /* Unsynchronised, a rank's statistics are its own: the output differs. */
    cg_graph_set_collective(mine.g, NULL);
    cg_graph_set_training(mine.g, 1);
    cg_graph_set_training(whole.g, 1);
    CHECK(cg_forward(mine.y) == CG_OK && cg_forward(whole.y) == CG_OK);
    CHECK(worst_rel(cg_node_value(mine.y), cg_node_value(whole.y) + off, n_mine) > 1e-3);

    cg_graph_free(whole.g);
    cg_graph_free(mine.g);
    free(xall);
    free(rall);
    cg_dist_finalize(d);
    CHECK_DONE();
}
