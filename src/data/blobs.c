/* SPDX-License-Identifier: MIT */
/* blobs.c: a synthetic classification set, Gaussian blobs in d dimensions
 * (as scikit-learn's make_blobs): class k's centre lies on a circle in the
 * first two coordinates, spaced so neighbouring centres are 5 standard
 * deviations apart — well separated, so a linear model separates them. */
#include "internal.h"

#include <math.h>
#include <string.h>

int cg_make_blobs(int n_per_class, int classes, int dims, double stddev, uint64_t seed,
                  cg_dataset *out)
{
    if (!out) return cg_error(CG_ERR_ARG, "cg_make_blobs: out is NULL");
    memset(out, 0, sizeof *out);
    if (n_per_class < 1 || classes < 2 || dims < 2 || !(stddev > 0))
        return cg_error(CG_ERR_ARG, "cg_make_blobs: need n_per_class >= 1 (got %d), classes >= 2 "
                        "(got %d), dims >= 2 (got %d), stddev > 0 (got %g)",
                        n_per_class, classes, dims, stddev);
    int n = n_per_class * classes;
    out->x_f32 = cg_malloc((size_t)n * (size_t)dims * sizeof(float));
    out->y = cg_malloc((size_t)n * sizeof(int32_t));
    if (!out->x_f32 || !out->y) {
        cg_dataset_free(out);
        return cg_error(CG_ERR_MEMORY, "cg_make_blobs: out of memory");
    }
    out->n = n;
    out->d = dims;
    out->n_classes = classes;
    double radius = 2.5 * stddev / sin(3.141592653589793 / classes);
    cg_rng r;
    cg_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int k = i % classes;
        double angle = 2 * 3.141592653589793 * k / classes;
        float *x = out->x_f32 + (size_t)i * dims;
        for (int j = 0; j < dims; j++) x[j] = (float)(stddev * cg_rng_normal(&r));
        x[0] += (float)(radius * cos(angle));
        x[1] += (float)(radius * sin(angle));
        out->y[i] = k;
    }
    return CG_OK;
}
