/* SPDX-License-Identifier: MIT */
/* c_run.c: a model exported by `cgrad export --c` (model.h / model.c, float
 * or --int8) on the test set, for bench/quant/run.sh. Not a test.
 *   c_run IMAGES LABELS RUNS
 * IMAGES, LABELS: uncompressed IDX files. Prints "accuracy median_us
 * p10_us": the accuracy over every image, then the single-image latency of
 * model_predict (probabilities filled) over RUNS calls, each a different
 * image, after 50 warm-up calls. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model.h"

static unsigned char *read_idx(const char *path, long *n, long header)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)size);
    if (b && fread(b, 1, (size_t)size, f) != (size_t)size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = b ? (size - header) : 0;
    return b;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n_px, n, runs = argc == 4 ? atol(argv[3]) : 0, correct = 0, i, j;
    unsigned char *img = argc == 4 ? read_idx(argv[1], &n_px, 16) : NULL;
    unsigned char *lab = argc == 4 ? read_idx(argv[2], &n, 8) : NULL;
    if (!img || !lab || runs < 1 || n_px != n * MODEL_N_INPUTS) {
        fprintf(stderr, "usage: c_run IMAGES LABELS RUNS (uncompressed IDX, %d pixels an image)\n",
                MODEL_N_INPUTS);
        return 2;
    }
    float *x = malloc((size_t)n_px * sizeof *x), p[MODEL_N_CLASSES];
    double *t = malloc((size_t)runs * sizeof *t);
    if (!x || !t) return 1;
    for (i = 0; i < n_px; i++) x[i] = img[16 + i];
    for (i = 0; i < n; i++) correct += model_predict(x + i * MODEL_N_INPUTS, p) == lab[8 + i];
    for (i = 0; i < runs + 50; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        model_predict(x + (i % n) * MODEL_N_INPUTS, p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (i >= 50) t[i - 50] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp);
    j = runs / 10;
    printf("%.4f %.1f %.1f\n", (double)correct / (double)n, t[runs / 2], t[j]);
    free(x);
    free(t);
    free(img);
    free(lab);
    return 0;
}
