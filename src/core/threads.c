/* SPDX-License-Identifier: MIT */
/* threads.c: one threading layer. OpenMP threads run the elementwise loops
 * and the matrix products alike (matmul.c splits a large product over
 * them); OpenBLAS itself stays single-threaded. Two pools, OpenBLAS's next
 * to OpenMP's, oversubscribe the cores: a pool's idle threads spin while
 * the other pool works, and each product waits on a thread that has lost
 * its core (PyTorch's slowdown on 2 threads). */
#include "node.h"

#include "omp_compat.h"
#include "ops/gemm.h"
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int threads_set;
/* cg_set_threads(0), the default: training adapts the count (below). */
static atomic_int fixed_count;
/* Atomic: graphs may be planned on several threads at once (parallel
 * trials); one of them sets OpenBLAS to one thread. */
static atomic_int blas_single;

/* Called when a graph plans its memory, before any product runs. */
void cg_threads_default(void)
{
    if (atomic_load(&blas_single) || atomic_exchange(&blas_single, 1)) return;
    cg_gemm_single_threaded();
}

/* /proc/stat when cg_set_threads(0) was called (a command's start, before
 * it loads its data), so a run's first probe of more threads can come at
 * once rather than CG_TUNER_MIN_READ into training. */
static double set_idle, set_total, set_at;
static int cpu_times(double *idle, double *total);
/* cg_set_threads calls so far: a tuner made before the latest is stale. */
static atomic_int set_generation;

void cg_set_threads(int n)
{
    atomic_store(&fixed_count, n > 0);
    if (n <= 0 && cpu_times(&set_idle, &set_total)) set_at = cg_seconds();
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    cg_gemm_single_threaded();
    atomic_store(&blas_single, 1);
    threads_set = n;
    atomic_fetch_add(&set_generation, 1);
}

int cg_thread_parts(void)
{
    static atomic_int parts;
    int p = atomic_load(&parts);
    if (!p) {
        p = omp_get_num_procs();
        if (p < 1) p = 1;
        atomic_store(&parts, p);
    }
    return p;
}

/* Before any cg_set_threads: OpenMP's count at the library's first look
 * (OMP_NUM_THREADS, or the cores), kept, because the tuners change
 * OpenMP's count themselves (inference leaves it at its choice): read
 * later, a run after a prediction at one thread would find one thread
 * its most and never adapt. */
int cg_get_threads(void)
{
    static atomic_int first;
    if (threads_set) return threads_set;
    int n = atomic_load(&first), none = 0;
    if (n) return n;
    n = omp_get_max_threads();
    return atomic_compare_exchange_strong(&first, &none, n) ? n : none;
}

/* ---- The adaptive thread count ----
 *
 * On an idle machine all cores are fastest. On a busy one they can be
 * far slower than one thread: a step is a chain of parallel regions, each
 * ending in a barrier, and a region waits for its slowest thread; when
 * another process holds one of the cores, that thread runs only in the
 * scheduler's slices, and the threads waiting for it spin (libgomp spins
 * before it sleeps, and reads its wait policy only at start-up), taking
 * the time the busy core had left. Measured: 20-100x slower than one
 * thread for two runs side by side (bench/contention/README.md).
 *
 * So the loop times its steps (seconds per example) and now and then
 * probes another count, halving or doubling (for two cores: 1 and 2):
 * fewer threads for 3 timed steps after one untimed, more for
 * CG_TUNER_PROBE_STEPS after CG_TUNER_UP_SKIP untimed (threads and caches
 * waking on other cores); the constants are in internal.h. The probe wins
 * if its median beats the median of the current count's latest steps by
 * CG_TUNER_WIN; a probe whose first step is far slower stops there.
 *  - A step at too many threads can cost hundreds at the right count
 *    (measured: 48 ms against 150 us), so probes of more threads are
 *    paced by time as well as steps: one starts only while probes have
 *    taken at most CG_TUNER_BUDGET of the training time. Lost probes
 *    double the steps to the next (up to CG_TUNER_MAX_GAP), a switch starts
 *    again from CG_TUNER_MIN_GAP.
 *  - More threads are probed only when the machine has had idle cores
 *    for them (idle_cores_for), and only after timing the start of an
 *    empty parallel region at that count (the fastest of three: the
 *    first wakes threads that slept).
 *  - Steps half as slow again as when the count was chosen mean the
 *    machine changed: a probe follows at once.
 *  - The loop starts at one thread and probes upwards: a first step at
 *    all cores on a busy machine would cost the most.
 * Changing the count never changes results (cg_thread_parts). */

static double median(const double *v, int n)
{
    double s[8];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--) s[j] = s[j - 1];
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* CPU time since boot, all cores, in clock ticks: *idle (idle and
 * waiting for I/O) and *total; 0 where /proc/stat cannot be read. */
static int cpu_times(double *idle, double *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 4) return 0;
    *idle = (double)v[3] + (double)v[4];
    *total = 0;
    for (int i = 0; i < 8; i++) *total += (double)v[i];
    return 1;
}

/* Whether the machine has had `more` cores' worth of idle time (half a
 * core for each added thread, at least) since the last reading: another
 * thread can only win on a core that nobody else wants. Timing alone
 * would not tell: a run probing more threads beside another run takes the
 * other's time and measures itself faster, until both lose. Readings need
 * CG_TUNER_MIN_READ seconds between them (the kernel counts in ticks of
 * 10 ms); sooner, the answer is no. Without /proc/stat, yes: timing decides. */
static int idle_cores_for(cg_thread_tuner *tu, int more)
{
    double idle, total, t = tu->src.seconds();
    if (tu->at0 > 0 && t - tu->at0 < CG_TUNER_MIN_READ) return 0; /* no read */
    if (!tu->src.cpu_times(&idle, &total)) return 1;
    if (tu->at0 == 0) {
        tu->at0 = t, tu->idle0 = idle, tu->total0 = total;
        return 0;
    }
    const double cores = cg_thread_parts();
    const double idle_cores = total > tu->total0 ? cores * (idle - tu->idle0) / (total - tu->total0) : 0;
    tu->at0 = t, tu->idle0 = idle, tu->total0 = total;
    return idle_cores >= 0.5 * more;
}

void cg_thread_tuner_init(cg_thread_tuner *tu)
{
    const cg_thread_sources real = {cg_seconds, cpu_times};
    cg_thread_tuner_init_sources(tu, &real);
}

void cg_thread_tuner_init_sources(cg_thread_tuner *tu, const cg_thread_sources *src)
{
    memset(tu, 0, sizeof *tu);
    tu->src = *src;
    tu->full = cg_get_threads();
    tu->on = !atomic_load(&fixed_count) && tu->full > 1 && !omp_in_parallel();
    tu->cur = tu->on ? 1 : tu->full;
    tu->skip = 1; /* the first step plans and touches memory */
    /* cg_set_threads(0)'s reading is of the real clock and /proc/stat. */
    const int real = src->seconds == cg_seconds && src->cpu_times == cpu_times;
    if (tu->on && real && set_at > 0)
        tu->at0 = set_at, tu->idle0 = set_idle, tu->total0 = set_total;
    else if (tu->on && src->cpu_times(&tu->idle0, &tu->total0))
        tu->at0 = src->seconds();
    tu->gap = CG_TUNER_MIN_GAP;
    tu->next = CG_TUNER_PROBE_STEPS + 2;
    tu->generation = atomic_load(&set_generation);
}

void cg_thread_tuner_begin(cg_thread_tuner *tu)
{
    if (!tu->on) return;
    omp_set_num_threads(tu->trial ? tu->trial : tu->cur);
    tu->t0 = tu->src.seconds();
}

/* The count a probe tries: half of cur, or double, in turn where both
 * exist. */
static int probe_count(const cg_thread_tuner *tu)
{
    const int down = tu->cur > 1 ? tu->cur / 2 : 0;
    const int up = tu->cur < tu->full ? (2 * tu->cur < tu->full ? 2 * tu->cur : tu->full) : 0;
    if (!down) return up;
    if (!up) return down;
    return tu->probes % 2 ? up : down;
}

static void end_probe(cg_thread_tuner *tu, int won)
{
    if (won) {
        if (getenv("CG_THREADS_TRACE"))
            fprintf(stderr, "threads: %d -> %d at step %d (%.3g -> %.3g us per example)\n",
                    tu->cur, tu->trial, tu->steps, 1e6 * median(tu->cost, tu->n_cost),
                    1e6 * median(tu->probe, tu->n_probe));
        tu->cur = tu->trial;
        memcpy(tu->cost, tu->probe, (size_t)tu->n_probe * sizeof *tu->cost);
        tu->n_cost = tu->n_probe;
        tu->gap = CG_TUNER_MIN_GAP;
        tu->switches++;
    } else {
        tu->gap = tu->gap * 2 < CG_TUNER_MAX_GAP ? tu->gap * 2 : CG_TUNER_MAX_GAP;
        tu->skip = 1; /* back to cur: its threads wake */
    }
    tu->trial = 0;
    tu->n_probe = 0;
    tu->probes++;
    tu->next = tu->steps + tu->gap;
    tu->ref = median(tu->cost, tu->n_cost);
}

void cg_thread_tuner_end(cg_thread_tuner *tu, int examples)
{
    if (!tu->on || examples < 1) return;
    const double dt = tu->src.seconds() - tu->t0, c = dt / examples;
    tu->steps++;
    tu->spent += dt;
    if (tu->trial) tu->probe_spent += dt;
    if (tu->skip) {
        tu->skip--;
        /* A probe already 4x slower in its untimed step is not worth
         * another. */
        if (tu->trial && tu->n_cost && c > 4 * median(tu->cost, tu->n_cost)) end_probe(tu, 0);
        return;
    }
    if (tu->trial) {
        tu->probe[tu->n_probe++] = c;
        const double base = median(tu->cost, tu->n_cost);
        if (tu->n_probe == 1 && c > 2 * base)
            end_probe(tu, 0);
        else if (tu->n_probe == CG_TUNER_PROBE_STEPS || (tu->trial < tu->cur && tu->n_probe == 3))
            end_probe(tu, median(tu->probe, tu->n_probe) < CG_TUNER_WIN * base);
        return;
    }
    /* The latest steps of cur, oldest dropped. */
    if (tu->n_cost == (int)(sizeof tu->cost / sizeof *tu->cost))
        memmove(tu->cost, tu->cost + 1, (size_t)--tu->n_cost * sizeof *tu->cost);
    tu->cost[tu->n_cost++] = c;
    /* Steps half as fast again as when the count was last chosen: the
     * machine changed (another run started), so probe soon. */
    if (tu->ref > 0 && tu->n_cost >= CG_TUNER_PROBE_STEPS &&
        median(tu->cost, tu->n_cost) > 1.5 * tu->ref) {
        tu->gap = CG_TUNER_MIN_GAP;
        tu->next = tu->steps;
        tu->ref = 0;
    }
    if (tu->steps < tu->next || tu->n_cost < CG_TUNER_PROBE_STEPS) return;
    const int trial = probe_count(tu);
    /* Fewer threads cost at most a few slower steps: probed when due.
     * More threads only within the budget and with idle cores for them. */
    if (trial > tu->cur &&
        (tu->probe_spent > CG_TUNER_BUDGET * tu->spent || !idle_cores_for(tu, trial - tu->cur))) {
        tu->next = tu->steps + CG_TUNER_MIN_GAP;
        return;
    }
    tu->trial = trial;
    tu->skip = trial > tu->cur ? CG_TUNER_UP_SKIP : 1;
    if (trial < tu->cur) return;
    /* More threads: first the time to start them at all. A step at twice
     * the threads takes at least half the step now plus that time for
     * each of its parallel regions; if one region's start alone exceeds
     * half a step, the probe has lost, at the cost of that start rather
     * than of a step. */
    double start = INFINITY, t0 = tu->src.seconds();
    for (int r = 0; r < 3; r++) { /* the first wakes sleeping threads */
        const double t1 = tu->src.seconds();
#pragma omp parallel num_threads(trial)
        {
            (void)0;
        }
        const double dt = tu->src.seconds() - t1;
        if (dt < start) start = dt;
    }
    const double probed = tu->src.seconds() - t0;
    tu->spent += probed;
    tu->probe_spent += probed;
    if (start > 0.5 * median(tu->cost, tu->n_cost) * examples) end_probe(tu, 0);
}

void cg_thread_tuner_done(cg_thread_tuner *tu)
{
    if (tu->on) omp_set_num_threads(tu->full);
}

void cg_infer_threads_begin(cg_graph *g)
{
    cg_thread_tuner *tu = &g->infer_threads;
    if (!g->infer_threads_ready || tu->generation != atomic_load(&set_generation)) {
        cg_thread_tuner_init(tu);
        g->infer_threads_ready = 1;
    }
    cg_thread_tuner_begin(tu);
}

void cg_infer_threads_end(cg_graph *g, int examples)
{
    cg_thread_tuner_end(&g->infer_threads, examples);
}

/* Unlike training's _done, the count stays at the tuner's choice: the
 * work between calls (the caller gathering the next batch: a parallel
 * loop) runs best at it too. Measured on a busy machine, predicting 60,000
 * images with all cores restored between calls took 1.3-1.5x as long as
 * --threads 1; at the tuner's count, as long. */
void cg_infer_threads_done(cg_graph *g)
{
    const cg_thread_tuner *tu = &g->infer_threads;
    if (g->infer_threads_ready && tu->on) omp_set_num_threads(tu->cur);
}
