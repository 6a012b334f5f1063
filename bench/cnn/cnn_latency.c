// SPDX-License-Identifier: MIT
/* cnn_latency.c: single-image inference latency of issue 23's CNN built
 * the way `cgrad train --arch conv32x3,maxpool2,conv64x3,maxpool2,dense128`
 * builds it (cg_arch_parse, cg_model_from_config_image), through
 * cg_predict on one 28x28 image at a time. The PyTorch twin is
 * torch_cnn.py's latency mode.
 *
 *     cnn_latency [THREADS [REPS]]     (defaults: 1 thread, 300 reps)
 *
 * Prints "cnn_latency threads=T us_per_image=..." (the median of REPS
 * calls after 20 warm-up calls). */
#include "../bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 300;
    if (reps < 1) reps = 1;
    cg_set_threads(threads);
    cg_run_config c;
    cg_run_config_init(&c);
    c.model.n_hidden = 0;
    cg_model *m = NULL;
    if (cg_arch_parse("conv32x3,maxpool2,conv64x3,maxpool2,dense128", c.model.layers, CG_MAX_LAYERS,
                      &c.model.n_layers) ||
        !(m = cg_model_from_config_image(&c.model, 1, 28, 28, 10, 1)) || cg_model_build(m)) {
        fprintf(stderr, "cnn_latency: %s\n", cg_last_error());
        return 1;
    }
    float x[784];
    cg_real probs[10];
    cg_rng r;
    cg_rng_seed(&r, 2);
    for (int i = 0; i < 784; i++) x[i] = (float)cg_rng_uniform(&r);
    double *t = malloc((size_t)reps * sizeof *t);
    for (int s = -20; s < reps; s++) {
        double t0 = bench_now();
        if (cg_predict(m, x, 1, probs, NULL)) {
            fprintf(stderr, "cnn_latency: %s\n", cg_last_error());
            return 1;
        }
        if (s >= 0) t[s] = bench_now() - t0;
    }
    printf("cnn_latency threads=%d us_per_image=%.1f\n", cg_get_threads(),
           1e6 * bench_median(t, reps));
    free(t);
    cg_model_free(m);
    return 0;
}
