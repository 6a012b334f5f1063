/* SPDX-License-Identifier: MIT */
/* bench_train.c: examples per second of cgrad training steps (configs A-E
 * of configs.h) and of inference with model A, on random data held in
 * memory. One configuration per process, so the peak RSS printed at the
 * end is that configuration's alone.
 *
 *   bench_train CONFIG [THREADS]     CONFIG: A..E, infer1, infer1000
 *
 * Prints one line: "CONFIG ex_per_s=... us_per_step=... rss_kib=...",
 * each figure the median of 3 timed repetitions after a warm-up; training
 * configs add, from one more repetition with the graph profiler on,
 * "ops_us=... update_us=... overhead_us=...": per step, the time inside
 * the ops (GEMMs and elementwise math), in the optimizer update, and the
 * framework's own overhead (cg_backward's time outside its ops: walking
 * the graph, marks, checks). The environment variable BENCH_SCALE
 * (default 1) scales the step counts; BENCH_PRECISION=bf16 runs the
 * matrix products in bf16 (cg_graph_set_precision; bench/bf16). */
#include "bench_util.h" /* first: it sets _POSIX_C_SOURCE */
#include "cgrad.h"
#include "configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define POOL 4096 /* rows of random data the batches cycle through */
#define REPS 3

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_train: %s: %s\n", what, cg_last_error());
    exit(1);
}

static cg_model *build(const bench_config *c)
{
    cg_model *m = cg_model_new(c->dims[0], c->dims[c->n_dims - 1], 42);
    if (!m) die("model");
    for (int i = 1; i < c->n_dims - 1; i++) {
        if (cg_model_add_dense(m, c->dims[i])) die("dense");
        if (c->bn && cg_model_add_batch_norm(m, 0.1, 1e-5)) die("batch norm");
        if (cg_model_add_activation(m, CG_RELU)) die("relu");
    }
    if (cg_model_build(m)) die("build");
    const char *p = getenv("BENCH_PRECISION");
    if (p && *p && cg_graph_set_precision(cg_model_graph(m), cg_precision_from_name(p)))
        die("precision");
    return m;
}

/* Pixels in [0, 1) and labels 0..classes-1, like normalised images. */
static void random_data(float *x, float *y, int d, int classes)
{
    cg_rng r;
    cg_rng_seed(&r, 7);
    for (size_t i = 0; i < (size_t)POOL * (size_t)d; i++) x[i] = (float)cg_rng_uniform(&r);
    for (int i = 0; i < POOL; i++) y[i] = (float)cg_rng_below(&r, (uint64_t)classes);
}

static void feed(cg_model *m, const float *x, const float *y, int d, int batch, long step)
{
    long start = (step * batch) % (POOL - batch + 1);
    if (cg_feed(cg_model_input(m), x + (size_t)start * (size_t)d, batch) ||
        cg_feed(cg_model_labels(m), y + start, batch))
        die("feed");
}

static void bench_training(const bench_config *c, double scale)
{
    const int d = c->dims[0], batch = c->batch;
    const long steps = (long)(c->steps * scale) > 0 ? (long)(c->steps * scale) : 1;
    float *x = malloc((size_t)POOL * (size_t)d * sizeof *x), *y = malloc(POOL * sizeof *y);
    if (!x || !y) die("out of memory");
    random_data(x, y, d, c->dims[c->n_dims - 1]);
    cg_model *m = build(c);
    cg_optimizer *o = c->opt == OPT_ADAM ? cg_adam_default(c->lr) : cg_sgd(c->lr);
    if (!o) die("optimizer");
    cg_node *loss = cg_model_loss(m);
    long step = 0;
    for (long i = 0; i < steps / 5 + 2; i++, step++) { /* warm-up: plan, page in, caches */
        feed(m, x, y, d, batch, step);
        if (cg_minimize_step(o, loss, NULL)) die("step");
    }
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now();
        for (long i = 0; i < steps; i++, step++) {
            feed(m, x, y, d, batch, step);
            if (cg_minimize_step(o, loss, NULL)) die("step");
        }
        t[r] = (bench_now() - t0) / (double)steps;
    }
    double s = bench_median(t, REPS);

    /* Where a step goes: one more repetition, profiled. */
    cg_graph *g = cg_model_graph(m);
    double t_graph = 0, t_update = 0;
    cg_graph_profile(g, 1);
    for (long i = 0; i < steps; i++, step++) {
        feed(m, x, y, d, batch, step);
        double t0 = bench_now();
        if (cg_backward(loss)) die("backward");
        double t1 = bench_now();
        if (cg_optimizer_update(o, g)) die("update");
        t_graph += t1 - t0;
        t_update += bench_now() - t1;
    }
    double t_ops = cg_graph_profile_seconds(g);
    cg_graph_profile(g, 0);
    printf("%s ex_per_s=%.0f us_per_step=%.2f rss_kib=%ld ops_us=%.2f update_us=%.2f "
           "overhead_us=%.2f\n",
           c->name, batch / s, 1e6 * s, peak_rss_kib(), 1e6 * t_ops / (double)steps,
           1e6 * t_update / (double)steps, 1e6 * (t_graph - t_ops) / (double)steps);
    if (getenv("BENCH_PROFILE")) cg_graph_profile_report(g, stderr);
    cg_optimizer_free(o);
    cg_model_free(m);
    free(x);
    free(y);
}

/* Forward to the class probabilities, in inference mode, batch rows. */
static void bench_inference(const char *name, int batch, double scale)
{
    const bench_config *c = bench_find("A");
    const int d = c->dims[0];
    const long calls = (long)((batch == 1 ? 5000 : 50) * scale) > 0
                           ? (long)((batch == 1 ? 5000 : 50) * scale) : 1;
    float *x = malloc((size_t)POOL * (size_t)d * sizeof *x), *y = malloc(POOL * sizeof *y);
    if (!x || !y) die("out of memory");
    random_data(x, y, d, 10);
    cg_model *m = build(c);
    cg_graph_set_training(cg_model_graph(m), 0);
    cg_node *probs = cg_model_probs(m);
    long call = 0;
    for (long i = 0; i < calls / 5 + 2; i++, call++) {
        feed(m, x, y, d, batch, call);
        if (cg_forward(probs)) die("forward");
    }
    double t[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now();
        for (long i = 0; i < calls; i++, call++) {
            feed(m, x, y, d, batch, call);
            if (cg_forward(probs)) die("forward");
        }
        t[r] = (bench_now() - t0) / (double)calls;
    }
    double s = bench_median(t, REPS);
    printf("%s ex_per_s=%.0f us_per_step=%.2f rss_kib=%ld\n", name, batch / s, 1e6 * s,
           peak_rss_kib());
    if (getenv("BENCH_PROFILE")) { /* where a call goes, op by op */
        cg_graph *g = cg_model_graph(m);
        cg_graph_profile(g, 1);
        for (long i = 0; i < calls; i++, call++) {
            feed(m, x, y, d, batch, call);
            if (cg_forward(probs)) die("forward");
        }
        cg_graph_profile_report(g, stderr);
        cg_graph_profile(g, 0);
    }
    cg_model_free(m);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_train A|B|C|D|E|infer1|infer1000 [THREADS]\n");
        return 2;
    }
    cg_set_threads(argc > 2 ? atoi(argv[2]) : 2);
    const char *env = getenv("BENCH_SCALE");
    double scale = env ? atof(env) : 1.0;
    if (!(scale > 0)) scale = 1.0;
    if (strcmp(argv[1], "infer1") == 0) bench_inference(argv[1], 1, scale);
    else if (strcmp(argv[1], "infer1000") == 0) bench_inference(argv[1], 1000, scale);
    else {
        const bench_config *c = bench_find(argv[1]);
        if (!c) {
            fprintf(stderr, "bench_train: unknown configuration '%s'\n", argv[1]);
            return 2;
        }
        bench_training(c, scale);
    }
    return 0;
}
