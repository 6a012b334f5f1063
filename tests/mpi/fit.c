/* SPDX-License-Identifier: MIT */
/* mpi/fit.c: data-parallel training, run by ctest as `mpirun -np 2
 * --oversubscribe mpi_fit`. Without batch norm, 2 ranks with a global batch
 * of 128 reach the same weights after 50 steps as one process with batch
 * 128 (within 1e-5 relative: the sums run in another order), and after
 * every step both ranks hold identical weights (a checksum per rank). With
 * batch norm (per-rank statistics), the ranks still agree bit for bit. */
#include "../check.h"

#include <cgrad.h>
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

enum { STEPS = 50, BATCH = 128, DIMS = 40, CLASSES = 5 };

static cg_model *make(int bn)
{
    cg_model *m = cg_model_new(DIMS, CLASSES, 17);
    cg_model_add_dense(m, 64);
    if (bn) cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS);
    cg_model_add_activation(m, CG_RELU);
    cg_model_add_dense(m, 32);
    cg_model_add_activation(m, CG_TANH);
    CHECK(cg_model_build(m) == CG_OK);
    return m;
}

/* FNV-1a over the bytes of the weights and state: equal only if identical. */
static uint64_t checksum(cg_model *m)
{
    cg_graph *g = cg_model_graph(m);
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)cg_graph_params(g);
    for (size_t i = 0; i < cg_graph_param_count(g) * sizeof(cg_real); i++) h = (h ^ p[i]) * 1099511628211ull;
    p = (const unsigned char *)cg_graph_state(g);
    for (size_t i = 0; i < cg_graph_state_count(g) * sizeof(cg_real); i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

typedef struct step_check {
    cg_model *m;
    int steps, mismatches;
} step_check;

static int on_step(int step, double loss, void *user)
{
    (void)loss;
    step_check *sc = user;
    unsigned long long mine = checksum(sc->m), all[64];
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    for (int r = 1; r < size && r < 64; r++)
        if (all[r] != all[0]) {
            sc->mismatches++;
            fprintf(stderr, "step %d: rank %d's weights differ from rank 0's\n", step, r);
        }
    sc->steps = step;
    return 0;
}

static void fit(cg_model *m, cg_dataset *ds, cg_dist *d, step_check *sc, int sync_bn)
{
    cg_optimizer *o = cg_adam_default(1e-3);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 1;
    fo.batch_size = BATCH;
    fo.seed = 9;
    fo.dist = d;
    fo.sync_bn = sync_bn;
    if (sc) {
        fo.on_step = on_step;
        fo.user = sc;
    }
    CHECK(cg_fit(m, o, ds, NULL, NULL, &fo, NULL) == CG_OK);
    cg_optimizer_free(o);
}

int main(int argc, char **argv)
{
    cg_set_threads(1);
    cg_dist *d = cg_dist_init(&argc, &argv);
    CHECK(d != NULL);
    int rank = cg_dist_rank(d), size = cg_dist_size(d);
    CHECK(size >= 2);
    cg_dataset ds;
    CHECK(cg_make_blobs(STEPS * BATCH / CLASSES, CLASSES, DIMS, 3.0, 4, &ds) == CG_OK);
    CHECK(ds.n == STEPS * BATCH);

    /* One process, batch 128 */
    cg_model *alone = make(0);
    fit(alone, &ds, NULL, NULL, 0);

    /* All ranks, global batch 128 */
    cg_model *par = make(0);
    step_check sc = {par, 0, 0};
    fit(par, &ds, d, &sc, 0);
    CHECK(sc.steps == STEPS && sc.mismatches == 0);

    cg_graph *ga = cg_model_graph(alone), *gp = cg_model_graph(par);
    const cg_real *a = cg_graph_params(ga), *p = cg_graph_params(gp);
    double diff = 0, norm = 0, worst = 0;
    for (size_t i = 0; i < cg_graph_param_count(ga); i++) {
        double e = (double)p[i] - (double)a[i];
        diff += e * e;
        norm += (double)a[i] * a[i];
        double rel = fabs(e) / (fabs((double)a[i]) + 1e-3);
        if (rel > worst) worst = rel;
    }
    double rel = sqrt(diff / norm);
    if (rank == 0)
        printf("%d ranks, %d steps of batch %d: relative difference to one process %.3g "
               "(worst element %.3g); weights identical across ranks after every step\n",
               size, sc.steps, BATCH, rel, worst);
    CHECK(rel <= 1e-5);
    CHECK(worst <= 1e-4);

    /* Batch norm with per-rank statistics: ranks still agree exactly. */
    cg_model *bn = make(1);
    step_check sb = {bn, 0, 0};
    fit(bn, &ds, d, &sb, 0);
    CHECK(sb.steps == STEPS && sb.mismatches == 0);
    cg_node *rv = cg_graph_find(cg_model_graph(bn), "bn1.running_var");
    CHECK(rv && cg_node_value(rv)[0] != 1);

    /* Synchronised batch norm: the statistics of the global batch, so 2
     * ranks reach what one process with batch norm reaches (running
     * statistics included, checked through the state in the checksum
     * buffer below). */
    cg_model *bn_alone = make(1), *bn_sync = make(1);
    fit(bn_alone, &ds, NULL, NULL, 0);
    step_check ss = {bn_sync, 0, 0};
    fit(bn_sync, &ds, d, &ss, 1);
    CHECK(ss.steps == STEPS && ss.mismatches == 0);
    cg_graph *g1 = cg_model_graph(bn_alone), *g2 = cg_model_graph(bn_sync);
    double bdiff = 0, bnorm = 0;
    for (size_t i = 0; i < cg_graph_param_count(g1); i++) {
        double e = (double)cg_graph_params(g2)[i] - (double)cg_graph_params(g1)[i];
        bdiff += e * e;
        bnorm += (double)cg_graph_params(g1)[i] * cg_graph_params(g1)[i];
    }
    double sdiff = 0, snorm = 0;
    for (size_t i = 0; i < cg_graph_state_count(g1); i++) {
        double e = (double)cg_graph_state(g2)[i] - (double)cg_graph_state(g1)[i];
        sdiff += e * e;
        snorm += (double)cg_graph_state(g1)[i] * cg_graph_state(g1)[i];
    }
    if (rank == 0)
        printf("synchronised batch norm: relative difference to one process %.3g (weights), "
               "%.3g (running statistics)\n", sqrt(bdiff / bnorm), sqrt(sdiff / snorm));
    CHECK(sqrt(bdiff / bnorm) <= 1e-5);
    CHECK(sqrt(sdiff / snorm) <= 1e-5);
    cg_model_free(bn_alone);
    cg_model_free(bn_sync);

    /* Evaluation split across ranks equals the whole set on one. */
    double l1, a1, l2, a2;
    CHECK(cg_evaluate(par, &ds, NULL, 500, &l1, &a1) == CG_OK);
    CHECK(cg_evaluate_dist(par, &ds, NULL, 500, d, &l2, &a2) == CG_OK);
    CHECK(a1 == a2);
    CHECK_NEAR(l1, l2, 1e-6);

    cg_model_free(alone);
    cg_model_free(par);
    cg_model_free(bn);
    cg_dataset_free(&ds);
    int failed = check_failures, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    cg_dist_finalize(d);
    if (any && !failed) fprintf(stderr, "rank %d: another rank failed\n", rank);
    return any ? 1 : 0;
}
