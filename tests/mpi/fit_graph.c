// SPDX-License-Identifier: MIT
/* mpi/fit_graph.c: cg_fit_graph over MPI ranks, run by ctest as `mpirun
 * -np 2 --oversubscribe mpi_fit_graph`. A regression graph trained on 2
 * ranks with a global batch of 64 reaches the weights one process reaches
 * (within 1e-5 relative: the sums run in another order), and its metrics
 * (RMSE, R2: sums reduced across ranks) are the one process's too, the
 * same on every rank. */
#include "../check.h"

#include <cgrad.h>
#include <mpi.h>
#include <stdlib.h>

enum { N = 1024, D = 5, N_TRAIN = 768 };

typedef struct net {
    cg_graph *g;
    cg_fit_spec spec;
} net;

static void build(net *n)
{
    n->g = cg_graph_new();
    cg_rng_seed(cg_graph_rng(n->g), 3);
    cg_node *x = cg_placeholder(n->g, "x", 2, (int[]){CG_BATCH, D});
    cg_node *y = cg_placeholder(n->g, "y", 2, (int[]){CG_BATCH, 1});
    cg_node *h = cg_relu(cg_dense(n->g, x, 32, CG_RELU, "h"));
    cg_node *out = cg_dense(n->g, h, 1, CG_LINEAR, "out");
    memset(&n->spec, 0, sizeof n->spec);
    n->spec.loss = cg_mse_loss(out, y);
    n->spec.n_metrics = 2;
    n->spec.metrics[0] = (cg_metric){"rmse", CG_METRIC_RMSE, out, y};
    n->spec.metrics[1] = (cg_metric){"r2", CG_METRIC_R2, out, y};
    n->spec.monitor = "r2";
    CHECK(n->spec.loss != NULL);
}

static void fit(net *n, const cg_tensor_dataset *tr, const cg_tensor_dataset *va, cg_dist *d,
                cg_fit_result *res)
{
    cg_optimizer *o = cg_adam_default(3e-3);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 8;
    fo.batch_size = 64;
    fo.seed = 5;
    fo.dist = d;
    CHECK(cg_fit_graph(&n->spec, o, tr, va, &fo, res) == CG_OK);
    cg_optimizer_free(o);
}

int main(int argc, char **argv)
{
    cg_set_threads(1);
    cg_dist *d = cg_dist_init(&argc, &argv);
    CHECK(d != NULL);
    int rank = cg_dist_rank(d);
    CHECK(cg_dist_size(d) >= 2);
    static cg_real x[N * D], y[N];
    cg_rng r;
    cg_rng_seed(&r, 8);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) x[i * D + j] = (cg_real)cg_rng_normal(&r);
        y[i] = x[i * D] * x[i * D + 1] + (cg_real)sin(x[i * D + 2]);
    }
    cg_tensor_dataset all = {0}, tr, va;
    CHECK(cg_tensor_dataset_add(&all, "x", x, N, D) == CG_OK);
    CHECK(cg_tensor_dataset_add(&all, "y", y, N, 1) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, 0, N_TRAIN, &tr) == CG_OK);
    CHECK(cg_tensor_dataset_rows(&all, N_TRAIN, N - N_TRAIN, &va) == CG_OK);

    net alone, par;
    cg_fit_result ra, rp;
    build(&alone);
    fit(&alone, &tr, &va, NULL, &ra);
    build(&par);
    fit(&par, &tr, &va, d, &rp);

    const cg_real *a = cg_graph_params(alone.g), *p = cg_graph_params(par.g);
    double diff = 0, norm = 0;
    for (size_t i = 0; i < cg_graph_param_count(alone.g); i++) {
        double e = (double)p[i] - (double)a[i];
        diff += e * e;
        norm += (double)a[i] * a[i];
    }
    if (rank == 0)
        printf("relative difference to one process %.3g; val_r2 %.6f alone, %.6f on ranks\n",
               sqrt(diff / norm), ra.val_metrics[1], rp.val_metrics[1]);
    CHECK(sqrt(diff / norm) <= 1e-5);
    CHECK_NEAR(rp.train_loss, ra.train_loss, 1e-5);
    for (int k = 0; k < 2; k++) {
        CHECK_NEAR(rp.train_metrics[k], ra.train_metrics[k], 1e-4);
        CHECK_NEAR(rp.val_metrics[k], ra.val_metrics[k], 1e-4);
    }
    CHECK(ra.val_metrics[1] > 0.3); /* it learned something */
    /* Every rank reports the same validation metrics. */
    double mine = rp.val_metrics[1], top = 0, low = 0;
    MPI_Allreduce(&mine, &top, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &low, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    CHECK(top == low);

    cg_graph_free(alone.g);
    cg_graph_free(par.g);
    int failed = check_failures, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    cg_dist_finalize(d);
    if (any && !failed) fprintf(stderr, "rank %d: another rank failed\n", rank);
    return any ? 1 : 0;
}
