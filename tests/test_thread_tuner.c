/* SPDX-License-Identifier: MIT */
/* test_thread_tuner.c: the adaptive thread count's decisions on a
 * simulated machine. The tuner reads a simulated clock and /proc/stat
 * (cg_thread_sources); each step takes a time set by the threads the
 * tuner chose and by the load of other processes, so every decision is
 * deterministic and the bounds below follow from threads.c's constants. */
#include "check.h"

#include "core/node.h"
#include "core/omp_compat.h"
#include <stdlib.h>

/* The bounds below derive from the tuner's constants (internal.h). */
#define T1 0.01 /* seconds of a step at one thread: CG_TUNER_MIN_READ is 10 steps */
#define EXAMPLES 32
#define MAX_STEPS 4096

/* A machine of two cores: a step at 1 thread takes t1, at 2 threads t2;
 * `other` cores are busy with other processes. */
typedef struct machine {
    double t1, t2;
    int other;
} machine;

static struct {
    double now;          /* the clock */
    double idle, total;  /* /proc/stat */
    int stat_ok;         /* /proc/stat readable */
    long reads;          /* of either */
    double tick;         /* added by each clock read in _end after its first */
    int in_end;          /* 1 + the clock reads so far in _end; 0 outside */
} sim;

/* With a tick, each empty parallel region that _end times to start more
 * threads takes `tick` seconds. */
static double sim_seconds(void)
{
    sim.reads++;
    if (sim.in_end && sim.in_end++ > 1) sim.now += sim.tick;
    return sim.now;
}

static int sim_cpu_times(double *idle, double *total)
{
    sim.reads++;
    if (!sim.stat_ok) return 0;
    *idle = sim.idle, *total = sim.total;
    return 1;
}

/* dt seconds pass with `ours` threads of this process running. The tuner
 * estimates idle cores as cg_thread_parts() times the idle share of CPU
 * time; the share reported makes that estimate the simulated machine's
 * idle cores, whatever the real core count. */
static void advance(double dt, int ours, int other)
{
    const double parts = cg_thread_parts();
    double idle = 2 - ours - other;
    idle = idle < 0 ? 0 : idle > parts ? parts : idle;
    sim.now += dt;
    sim.total += parts * dt;
    sim.idle += idle * dt;
}

/* Per step k (1-based): threads it ran at, whether a probe, tu->cur after. */
typedef struct trace {
    int steps;
    int threads[MAX_STEPS + 1], probe[MAX_STEPS + 1], cur[MAX_STEPS + 1];
    double time, probe_time, oracle; /* the oracle picks the faster count */
    double over; /* the most probe_time - CG_TUNER_BUDGET * time after a step */
} trace;

static trace tr;

static void start(cg_thread_tuner *tu, int stat_ok)
{
    const cg_thread_sources src = {sim_seconds, sim_cpu_times};
    memset(&sim, 0, sizeof sim);
    memset(&tr, 0, sizeof tr);
    sim.now = 1; /* the tuner takes a reading at time 0 for none */
    sim.stat_ok = stat_ok;
    cg_thread_tuner_init_sources(tu, &src);
}

static void run(cg_thread_tuner *tu, const machine *m, int steps)
{
    for (int i = 0; i < steps && tr.steps < MAX_STEPS; i++) {
        cg_thread_tuner_begin(tu);
        const int k = ++tr.steps, n = omp_get_max_threads();
        const double dt = n == 1 ? m->t1 : m->t2;
        tr.threads[k] = n;
        tr.probe[k] = tu->trial != 0;
        tr.time += dt;
        tr.probe_time += tr.probe[k] ? dt : 0;
        tr.oracle += m->t1 < m->t2 ? m->t1 : m->t2;
        advance(dt, n, m->other);
        sim.in_end = 1;
        cg_thread_tuner_end(tu, EXAMPLES);
        sim.in_end = 0;
        tr.cur[k] = tu->cur;
        const double over = tr.probe_time - CG_TUNER_BUDGET * tr.time;
        if (over > tr.over) tr.over = over;
    }
}

static void finish(cg_thread_tuner *tu)
{
    cg_thread_tuner_done(tu);
    CHECK(omp_get_max_threads() == 2); /* _done restores the full count */
}

/* The first step in [from, to] at `threads` (0: none). */
static int first_at(int from, int to, int threads)
{
    for (int k = from; k <= to && k <= tr.steps; k++)
        if (tr.threads[k] == threads) return k;
    return 0;
}

/* The first step after which cur is `cur` (0: none). */
static int first_cur(int from, int cur)
{
    for (int k = from; k <= tr.steps; k++)
        if (tr.cur[k] == cur) return k;
    return 0;
}

/* The first up-probe is due at step CG_TUNER_PROBE_STEPS + 2, but only 7
 * steps (70 ms) after init's /proc/stat reading: under CG_TUNER_MIN_READ,
 * so it waits CG_TUNER_MIN_GAP steps (an idle core then), runs
 * CG_TUNER_UP_SKIP untimed and CG_TUNER_PROBE_STEPS timed steps, and wins
 * by 1/1.8 < CG_TUNER_WIN. */
#define FIRST_SWITCH                                                                   \
    (CG_TUNER_PROBE_STEPS + 2 + CG_TUNER_MIN_GAP + CG_TUNER_UP_SKIP + CG_TUNER_PROBE_STEPS)

/* Idle machine, 2 threads 1.8x faster: to 2 by FIRST_SWITCH, then stays.
 * Probes of 1 thread lose (1.8 > CG_TUNER_WIN) and double their gap from CG_TUNER_MIN_GAP:
 * in 2000 steps after the switch, at +16, +48, +112, +240, +496 and
 * +1008, each 1 untimed + 3 timed steps at T1: 24 T1, plus the up-probe's
 * 8 steps at T1/1.8 = 4.4 T1, of a run of about 1150 T1: 2.5% <= CG_TUNER_BUDGET. */
static void idle_machine(void)
{
    cg_thread_tuner tu;
    const machine m = {T1, T1 / 1.8, 0};
    start(&tu, 1);
    CHECK(tu.on && tu.full == 2 && tu.cur == 1);
    run(&tu, &m, FIRST_SWITCH + 2000);
    const int sw = first_cur(1, 2);
    CHECK(sw > 0 && sw <= FIRST_SWITCH);
    CHECK(first_at(1, sw, 2) > CG_TUNER_PROBE_STEPS); /* starts at one thread */
    for (int k = sw + 1; k <= tr.steps; k++)
        if (tr.threads[k] != 2 && !tr.probe[k]) {
            fprintf(stderr, "idle: step %d at %d threads, not a probe\n", k, tr.threads[k]);
            CHECK(0);
            break;
        }
    CHECK(tu.switches == 1 && tu.cur == 2);
    CHECK(tr.probe_time <= CG_TUNER_BUDGET * tr.time);
    CHECK_NEAR(tu.spent, tr.time, 1e-9); /* the tuner saw the simulated time */
    printf("idle: 2 threads after step %d; probes %.2f%% of %.3f s\n", sw,
           100 * tr.probe_time / tr.time, tr.time);
    finish(&tu);
}

/* Busy machine (the other core taken), 2 threads 20x slower: /proc/stat
 * shows no idle core, so no up-probe starts, not even its first step. */
static void busy_machine(void)
{
    cg_thread_tuner tu;
    const machine m = {T1, 20 * T1, 1};
    start(&tu, 1);
    run(&tu, &m, 3000);
    CHECK(first_at(1, tr.steps, 2) == 0);
    CHECK(tu.switches == 0 && tu.probes == 0);
    CHECK(tu.at0 > 1); /* /proc/stat was read again, and said no */
    printf("busy: %d steps, none at 2 threads\n", tr.steps);
    finish(&tu);
}

/* Idle with 2 threads 1.8x faster until step N, then another process
 * takes a core and 2 threads are 30x slower than 1; from step 2N it is
 * gone. N = 1000 falls between two down-probes (+496 and +1008 after the
 * switch at 31), so none is under way when the load comes.
 *  - Back: the median of cur's 5 latest steps exceeds 1.5x its reference
 *    at the 3rd slow step; a down-probe follows at once, 1 untimed step
 *    and 3 timed, and wins: from step N + 3 + 1 + 3 + 1 on, 1 thread.
 *  - Cost: the oracle takes 1000 T1/1.8 + 1000 T1 = 1556 T1. The tuner
 *    loses 23 T1 * (1 - 1/1.8) = 10 T1 before its first switch, 5
 *    down-probes * 4 T1 * (1 - 1/1.8) = 9 T1, and 3 steps at 30 T1
 *    instead of T1 = 87 T1: 1.068x the oracle; bound 1.08x.
 *  - Return: while busy, /proc/stat is read every CG_TUNER_MIN_GAP steps; the
 *    first reading after 2N may still hold busy steps, the next holds
 *    only idle ones; then CG_TUNER_UP_SKIP + CG_TUNER_PROBE_STEPS steps of probe win. */
#define N 1000
static void load_comes_and_goes(void)
{
    cg_thread_tuner tu;
    const machine idle = {T1, T1 / 1.8, 0}, busy = {T1, 30 * T1, 1};
    start(&tu, 1);
    run(&tu, &idle, N);
    CHECK(tu.cur == 2 && !tu.trial);
    run(&tu, &busy, N);
    const int back = N + 3 + 1 + 3 + 1;
    int late = 0;
    for (int k = N + 1; k <= 2 * N; k++) late += tr.threads[k] == 2 && k >= back;
    CHECK(late == 0);
    CHECK(tr.time <= 1.08 * tr.oracle);
    printf("load at step %d: 1 thread after step %d; %.3fx the oracle\n", N + 1,
           first_cur(N + 1, 1), tr.time / tr.oracle);
    run(&tu, &idle, 500);
    const int up = first_cur(2 * N + 1, 2);
    CHECK(up > 0 && up <= 2 * N + 2 * CG_TUNER_MIN_GAP + CG_TUNER_UP_SKIP + CG_TUNER_PROBE_STEPS);
    printf("load gone at step %d: 2 threads after step %d\n", 2 * N + 1, up);
    finish(&tu);
}

/* The length of the first run of steps at 2 threads (0: none). */
static int first_run_at_2(void)
{
    int k = first_at(1, tr.steps, 2), n = 0;
    while (k && k + n <= tr.steps && tr.threads[k + n] == 2) n++;
    return n;
}

/* Idle machine where 2 threads are slower: a probe whose first (untimed)
 * step is over 4x slower stops after it; one 3x slower runs its CG_TUNER_UP_SKIP
 * untimed steps and stops at its first timed one (over 2x). Up-probes
 * start only while probes took at most CG_TUNER_BUDGET of the time, so that share
 * exceeds CG_TUNER_BUDGET by at most one probe: 5 T1, or (CG_TUNER_UP_SKIP + 1) 3 T1. */
static void early_stop(void)
{
    cg_thread_tuner tu;
    const machine m5 = {T1, 5 * T1, 0}, m3 = {T1, 3 * T1, 0};
    start(&tu, 1);
    run(&tu, &m5, 2000);
    CHECK(first_run_at_2() == 1);
    CHECK(tu.probes >= 2 && tu.switches == 0 && tu.cur == 1);
    CHECK(tr.over <= 5 * T1 + 1e-9);
    printf("early stop: a 5x probe ran 1 step; %d probes, %.2f%% of the time\n", tu.probes,
           100 * tr.probe_time / tr.time);
    finish(&tu);
    start(&tu, 1);
    run(&tu, &m3, 2000);
    CHECK(first_run_at_2() == CG_TUNER_UP_SKIP + 1);
    CHECK(tu.probes >= 2 && tu.switches == 0 && tu.cur == 1);
    CHECK(tr.over <= (CG_TUNER_UP_SKIP + 1) * 3 * T1 + 1e-9);
    printf("early stop: a 3x probe ran %d steps; %d probes, %.2f%% of the time\n",
           first_run_at_2(), tu.probes, 100 * tr.probe_time / tr.time);
    finish(&tu);
}

/* Idle machine where 2 threads would win, but starting them takes a whole
 * step at 1 thread (over half a step): each up-probe loses at that start,
 * before any step at 2 threads. */
static void slow_start(void)
{
    cg_thread_tuner tu;
    const machine m = {T1, T1 / 1.8, 0};
    start(&tu, 1);
    sim.tick = T1;
    run(&tu, &m, 2000);
    CHECK(first_at(1, tr.steps, 2) == 0);
    CHECK(tu.probes >= 2 && tu.switches == 0 && tu.cur == 1);
    printf("slow start: %d probes lost at the start, no step at 2 threads\n", tu.probes);
    finish(&tu);
}

/* cg_set_threads(n > 0) fixes the count: every call a no-op, reading
 * neither the clock nor /proc/stat. Last: it ends the adaptive default. */
static void fixed_count(void)
{
    cg_thread_tuner tu;
    const machine m = {T1, T1 / 1.8, 0};
    cg_set_threads(3);
    start(&tu, 1);
    CHECK(!tu.on);
    run(&tu, &m, 100);
    CHECK(first_at(1, tr.steps, 3) == 1 && tu.steps == 0 && sim.reads == 0);
    for (int k = 1; k <= tr.steps; k++) CHECK(tr.threads[k] == 3);
    cg_thread_tuner_done(&tu);
    CHECK(omp_get_max_threads() == 3);
}

/* Before any cg_set_threads: the tuners adapt up to OpenMP's count at the
 * start (2, main), and a prediction that leaves the count at its choice
 * (1 here: too soon to probe) does not lower that for later tuners. */
static void inference_unset(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, 4});
    const cg_real wv[4] = {1, -2, 0.5, 3};
    cg_node *out = cg_matmul(x, cg_variable(g, "w", 2, (int[]){4, 1}, wv), 0, 0);
    cg_real xs[16 * 4], p[16];
    for (int i = 0; i < 16 * 4; i++) xs[i] = (cg_real)(i % 7) - 3;
    cg_tensor_dataset ds = {0};
    CHECK(cg_tensor_dataset_add(&ds, "x", xs, 16, 4) == CG_OK);
    CHECK(cg_predict_graph(out, &ds, 2, p) == CG_OK);
    CHECK(g->infer_threads.on && g->infer_threads.full == 2);
    cg_thread_tuner later;
    cg_thread_tuner_init(&later);
    CHECK(later.full == 2 && cg_get_threads() == 2);
    omp_set_num_threads(2); /* as main left it, for the scenarios after */
    cg_graph_free(g);
}

/* Inference adapts per graph (cg_predict_graph here; cg_predict and
 * cg_evaluate share the tuner): a fixed count holds; after
 * cg_set_threads(0) the graph's tuner starts at one thread and leaves the
 * count at its choice; a later cg_set_threads(n) makes it stale, so n
 * holds again. Results are the same at every count. */
static void inference(void)
{
    cg_graph *g = cg_graph_new();
    cg_node *x = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, 4});
    const cg_real wv[8] = {1, -2, 0.5, 3, -1, 0.25, 2, -0.5};
    cg_node *out = cg_matmul(x, cg_variable(g, "w", 2, (int[]){4, 2}, wv), 0, 0);
    enum { ROWS = 50 };
    cg_real xs[ROWS * 4], p[3][ROWS * 2];
    for (int i = 0; i < ROWS * 4; i++) xs[i] = (cg_real)((i * 37) % 11) - 5;
    cg_tensor_dataset ds = {0};
    CHECK(cg_tensor_dataset_add(&ds, "x", xs, ROWS, 4) == CG_OK);

    cg_set_threads(2);
    CHECK(cg_predict_graph(out, &ds, 8, p[0]) == CG_OK);
    CHECK(g->infer_threads_ready && !g->infer_threads.on);
    CHECK(omp_get_max_threads() == 2);

    cg_set_threads(0);
    CHECK(cg_predict_graph(out, &ds, 8, p[1]) == CG_OK);
    if (omp_get_num_procs() > 1) { /* else: one core, nothing to adapt */
        CHECK(g->infer_threads.on && g->infer_threads.steps == 7);
        CHECK(omp_get_max_threads() == g->infer_threads.cur);
        CHECK(cg_predict_graph(out, &ds, 8, p[1]) == CG_OK); /* the same tuner goes on */
        CHECK(g->infer_threads.steps == 14);
    }

    cg_set_threads(3);
    CHECK(cg_predict_graph(out, &ds, 8, p[2]) == CG_OK);
    CHECK(!g->infer_threads.on && omp_get_max_threads() == 3);
    CHECK(!memcmp(p[0], p[1], sizeof p[0]) && !memcmp(p[0], p[2], sizeof p[0]));
    cg_graph_free(g);
}

int main(void)
{
    /* full = cg_get_threads(), which before any cg_set_threads is
     * omp_get_max_threads(): 2 here even on one core. OMP_NUM_THREADS
     * set now would be too late (the runtime read it at load), and
     * cg_set_threads(0) would give the core count. */
    omp_set_num_threads(2);
    if (omp_get_max_threads() < 2) { /* built without OpenMP: always off */
        cg_thread_tuner tu;
        start(&tu, 1);
        CHECK(!tu.on);
        printf("test_thread_tuner: no OpenMP, tuner off\n");
        CHECK_DONE();
    }
    idle_machine();
    busy_machine();
    load_comes_and_goes();
    early_stop();
    slow_start();
    inference_unset(); /* before any cg_set_threads */
    fixed_count();
    inference(); /* last: it sets the count */
    printf("test_thread_tuner: %s\n", check_failures ? "FAILED" : "ok");
    CHECK_DONE();
}
