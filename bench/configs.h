/* SPDX-License-Identifier: MIT */
/* configs.h: the benchmark configurations of issue 8, shared by the cgrad
 * timer (bench_train.c) and the GEMM roofline (roofline.c); torch_bench.py
 * holds the same table in Python. */
#ifndef BENCH_CONFIGS_H
#define BENCH_CONFIGS_H

#include <string.h>

enum { OPT_SGD, OPT_ADAM };

typedef struct bench_config {
    const char *name;
    int n_dims;      /* input, hidden..., classes */
    int dims[4];
    int bn;          /* batch norm before each ReLU */
    int opt;
    double lr;
    int batch;
    int steps;       /* timed steps per repetition */
} bench_config;

static const bench_config bench_configs[] = {
    {"A", 4, {784, 512, 512, 10}, 0, OPT_ADAM, 1e-3, 128, 200},
    {"B", 4, {784, 512, 512, 10}, 1, OPT_ADAM, 1e-3, 128, 200},
    {"C", 3, {784, 64, 10, 0}, 0, OPT_SGD, 0.1, 32, 3000},
    {"D", 2, {784, 10, 0, 0}, 0, OPT_SGD, 0.1, 256, 3000},
    {"E", 4, {784, 2048, 2048, 10}, 0, OPT_ADAM, 1e-3, 512, 12},
};

static inline const bench_config *bench_find(const char *name)
{
    for (size_t i = 0; i < sizeof bench_configs / sizeof bench_configs[0]; i++)
        if (strcmp(bench_configs[i].name, name) == 0) return &bench_configs[i];
    return NULL;
}

#endif
