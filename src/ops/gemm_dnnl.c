// SPDX-License-Identifier: MIT
/* gemm_dnnl.c: the oneDNN implementation of gemm.h's product interface,
 * through oneDNN's matmul: fp32 products (faster than Debian's OpenBLAS
 * on every step shape measured: bench/bf16/README.md), bf16 ones (bf16
 * inputs, fp32 accumulation and output), and the processor check that
 * --precision bf16 and auto rest on.
 *
 * A primitive is made once per shape (transposes, leading dimensions,
 * accumulate or overwrite) and per thread of matmul.c's team, on the first
 * step, and kept in a per-graph cache, so that graphs run by different
 * threads (tune trials) never share one; each thread's scratchpad is the
 * cache's own buffer (oneDNN's "user" mode), grown only when a primitive
 * is made. In steady state a product looks its primitive up and runs it:
 * no allocation of ours (oneDNN's execute builds its small argument map
 * internally). */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include "gemm.h"
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#if defined(CG_HAVE_DNNL) && !defined(CG_DOUBLE)
#define CG_BF16_BUILD 1
#include <oneapi/dnnl/dnnl.h>
#endif

#ifdef CG_BF16_BUILD
/* AVX-512 BF16 (vdpbf16ps): CPUID leaf 7 sub-leaf 1, EAX bit 5; usable
 * only if the OS saves the AVX-512 registers (XCR0 bits 5-7, with 1-2). */
static int cpu_has_avx512_bf16(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6) != 0xe6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 16))) return 0; /* AVX512F */
    if (a < 1 || !__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;
#else
    return 0;
#endif
}
#endif

int cg_bf16_check(char *why, size_t size)
{
    const char *msg = NULL;
#ifndef CG_BF16_BUILD
#ifdef CG_DOUBLE
    msg = "needs the single-precision library (this one is built with CG_DOUBLE)";
#else
    msg = "needs oneDNN, and this cgrad was built without it (install libdnnl-dev and "
          "rebuild)";
#endif
#else
    const char *off = getenv("CG_DISABLE_BF16");
    if (off && off[0] && strcmp(off, "0"))
        msg = "the processor's AVX-512 BF16 instructions are disabled (CG_DISABLE_BF16 is set)";
    else if (!cpu_has_avx512_bf16())
        msg = "this processor has no AVX-512 BF16 instructions (avx512_bf16)";
#endif
    if (why && size) snprintf(why, size, "%s", msg ? msg : "");
    return msg == NULL;
}

int cg_gemm_dnnl_fp32(void)
{
#ifdef CG_BF16_BUILD
    const char *b = getenv("CG_GEMM");
    return !(b && !strcmp(b, "openblas"));
#else
    return 0;
#endif
}

/* Round to nearest even; a NaN stays a (quiet) NaN. */
void cg_f32_to_bf16(const float *restrict x, uint16_t *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
        y[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r);
    }
}

#ifdef CG_BF16_BUILD

#include "omp_compat.h"
#include <immintrin.h>

/* The same with vcvtneps2bf16, 16 at a time, on processors that have it
 * (the only ones bf16 runs on): 4x the loop above on one thread, on the
 * 784-512-512-10 step's operands (662 -> 165 us a step). */
__attribute__((target("avx512f,avx512bf16"))) static void to_bf16_avx512(const float *x, uint16_t *y,
                                                                          size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        memcpy(y + i, &v, sizeof v);
    }
    cg_f32_to_bf16(x + i, y + i, n - i);
}

/* x -> y, split over the threads when large and not already in a team. */
void cg_to_bf16(const float *x, uint16_t *y, size_t n)
{
    const int team = !omp_in_parallel() && omp_get_max_threads() > 1 && n >= 4 * CG_BF16_PAR_MIN;
#pragma omp parallel if (team)
    {
        const size_t T = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        size_t lo = n * t / T / 16 * 16, hi = t + 1 == T ? n : n * (t + 1) / T / 16 * 16;
        to_bf16_avx512(x + lo, y + lo, hi - lo);
    }
}

void cg_to_bf16_here(const float *x, uint16_t *y, size_t n) { to_bf16_avx512(x, y, n); }

typedef struct entry {
    int key[10];
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, pad; /* handles re-pointed at every call */
} entry;

/* One thread's primitives (a thread of matmul.c's team, or the caller):
 * its own memory objects, stream and scratchpad, so that the threads of
 * one split product never share one. At most MAX_ENTRIES, in an array
 * made on the slot's first use: a shape past that replaces the oldest
 * (made again if it comes back, with the same bits), so that a caller
 * cycling through many batch sizes (predict on varied inputs) neither
 * grows memory without bound nor allocates in cgrad after the first
 * product. A training step has a few dozen shapes at most. */
typedef struct slot {
    entry *e;
    int n, next; /* entries made; the next to replace once full */
    void *pad;
    size_t pad_size;
    dnnl_stream_t stream;
} slot;

#define MAX_ENTRIES 64
#define MAX_SLOTS 256

struct cg_gemm_cache {
    dnnl_engine_t engine;
    slot s[MAX_SLOTS];
};

static int fail(dnnl_status_t st, const char *what)
{
    return cg_error(st == dnnl_out_of_memory ? CG_ERR_MEMORY : CG_ERR_STATE,
                    "oneDNN: %s failed (status %d)", what, (int)st);
}

static void destroy_entry(entry *e)
{
    dnnl_primitive_destroy(e->prim);
    dnnl_memory_destroy(e->a);
    dnnl_memory_destroy(e->b);
    dnnl_memory_destroy(e->c);
    dnnl_memory_destroy(e->pad);
    memset(e, 0, sizeof *e);
}

cg_gemm_cache *cg_gemm_cache_new(void)
{
    cg_gemm_cache *c = cg_calloc(1, sizeof *c);
    if (!c) return cg_error_null(CG_ERR_MEMORY, "oneDNN cache: out of memory");
    dnnl_status_t st = dnnl_engine_create(&c->engine, dnnl_cpu, 0);
    if (st) {
        fail(st, "engine");
        cg_free(c);
        return NULL;
    }
    return c;
}

void cg_gemm_cache_free(cg_gemm_cache *c)
{
    if (!c) return;
    for (int t = 0; t < MAX_SLOTS; t++) {
        slot *s = &c->s[t];
        for (int i = 0; i < s->n; i++) destroy_entry(&s->e[i]);
        cg_free(s->e);
        free(s->pad);
        if (s->stream) dnnl_stream_destroy(s->stream);
    }
    dnnl_engine_destroy(c->engine);
    cg_free(c);
}

static int make_entry(dnnl_engine_t engine, slot *s, const int *key, entry *e)
{
    const int dt_in = key[0], ta = key[1], tb = key[2], M = key[3], N = key[4], K = key[5],
              lda = key[6], ldb = key[7], ldc = key[8], acc = key[9];
    const dnnl_data_type_t dt = dt_in ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t ad, bd, cd;
    dnnl_dims_t adims = {M, K}, bdims = {K, N}, cdims = {M, N};
    dnnl_dims_t as = {ta ? 1 : lda, ta ? lda : 1}, bs = {tb ? 1 : ldb, tb ? ldb : 1},
                cs = {ldc, 1};
    dnnl_status_t st;
    if ((st = dnnl_memory_desc_init_by_strides(&ad, 2, adims, dt, as)) ||
        (st = dnnl_memory_desc_init_by_strides(&bd, 2, bdims, dt, bs)) ||
        (st = dnnl_memory_desc_init_by_strides(&cd, 2, cdims, dnnl_f32, cs)))
        return fail(st, "memory descriptor");
    dnnl_matmul_desc_t md;
    if ((st = dnnl_matmul_desc_init(&md, &ad, &bd, NULL, &cd))) return fail(st, "matmul descriptor");
    dnnl_primitive_attr_t attr;
    if ((st = dnnl_primitive_attr_create(&attr))) return fail(st, "attributes");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (acc) { /* C += A B: the sum post-op */
        dnnl_post_ops_t po;
        dnnl_post_ops_create(&po);
        dnnl_post_ops_append_sum(po, 1.0f);
        dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
    }
    dnnl_primitive_desc_t pd;
    st = dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st) return fail(st, "matmul primitive descriptor");
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t pad_size = pad_md ? dnnl_memory_desc_get_size(pad_md) : 0;
    memset(e, 0, sizeof *e);
    memcpy(e->key, key, sizeof e->key);
    st = dnnl_primitive_create(&e->prim, pd);
    if (!st) st = dnnl_memory_create(&e->a, &ad, engine, DNNL_MEMORY_NONE);
    if (!st) st = dnnl_memory_create(&e->b, &bd, engine, DNNL_MEMORY_NONE);
    if (!st) st = dnnl_memory_create(&e->c, &cd, engine, DNNL_MEMORY_NONE);
    if (!st && pad_size) st = dnnl_memory_create(&e->pad, pad_md, engine, DNNL_MEMORY_NONE);
    dnnl_primitive_desc_destroy(pd);
    if (st) return fail(st, "matmul primitive");
    if (pad_size > s->pad_size) {
        void *p = NULL;
        if (posix_memalign(&p, 64, pad_size))
            return cg_error(CG_ERR_MEMORY, "oneDNN scratchpad: out of memory");
        free(s->pad);
        s->pad = p;
        s->pad_size = pad_size;
    }
    return CG_OK;
}

static entry *lookup(cg_gemm_cache *c, slot *s, const int *key)
{
    for (int i = 0; i < s->n; i++)
        if (!memcmp(s->e[i].key, key, sizeof s->e[i].key)) return &s->e[i];
    if (!s->stream) {
        dnnl_status_t st = dnnl_stream_create(&s->stream, c->engine, dnnl_stream_default_flags);
        if (st) return fail(st, "stream"), NULL;
    }
    if (!s->e && !(s->e = cg_calloc(MAX_ENTRIES, sizeof *s->e)))
        return cg_error_null(CG_ERR_MEMORY, "oneDNN cache: out of memory");
    entry *e = &s->e[s->n < MAX_ENTRIES ? s->n : s->next];
    if (s->n == MAX_ENTRIES) {
        destroy_entry(e);
        s->next = (s->next + 1) % MAX_ENTRIES;
    }
    if (make_entry(c->engine, s, key, e)) return NULL;
    if (s->n < MAX_ENTRIES) s->n++;
    return e;
}

int cg_gemm_dnnl(cg_gemm_cache *c, int bf16, int ta, int tb, int M, int N, int K, const void *A,
                 int lda, const void *B, int ldb, int accumulate, float *C, int ldc)
{
    const int t = omp_get_thread_num();
    if (t >= MAX_SLOTS) return cg_error(CG_ERR_STATE, "oneDNN: more than %d threads", MAX_SLOTS);
    slot *s = &c->s[t];
    const int key[10] = {bf16 != 0, ta != 0, tb != 0, M, N, K, lda, ldb, ldc, accumulate != 0};
    entry *e = lookup(c, s, key);
    if (!e) return cg_last_error_code();
    dnnl_memory_set_data_handle_v2(e->a, (void *)(uintptr_t)A, s->stream);
    dnnl_memory_set_data_handle_v2(e->b, (void *)(uintptr_t)B, s->stream);
    dnnl_memory_set_data_handle_v2(e->c, C, s->stream);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c},
                               {DNNL_ARG_SCRATCHPAD, e->pad}};
    if (e->pad) dnnl_memory_set_data_handle_v2(e->pad, s->pad, s->stream);
    dnnl_status_t st;
    /* On this thread alone, as OpenBLAS runs (matmul.c and conv.c split
     * what is worth splitting). Inside an active team oneDNN sees that and
     * runs inline. Outside one it would open its own team of
     * omp_get_max_threads(): so a team of one here, and in it a limit of
     * one thread, since a team of one is not "in parallel" to oneDNN, and
     * its nested team of two made a new thread on every call (found with
     * gdb: 1,898 threads in a 0.05-scale run of config C; 333 us a
     * product instead of 6.5). The limit lasts as long as the team. */
#pragma omp parallel num_threads(1) if (!omp_in_parallel())
    {
        if (omp_get_max_threads() > 1) omp_set_num_threads(1);
        st = dnnl_primitive_execute(e->prim, s->stream, e->pad ? 4 : 3, args);
    }
    return st ? fail(st, "matmul") : CG_OK;
}

#else /* no oneDNN, or the double library */

cg_gemm_cache *cg_gemm_cache_new(void)
{
    char why[160];
    cg_bf16_check(why, sizeof why);
    return cg_error_null(CG_ERR_ARG, "%s", why);
}
void cg_gemm_cache_free(cg_gemm_cache *c) { (void)c; }
void cg_to_bf16(const float *x, uint16_t *y, size_t n) { cg_f32_to_bf16(x, y, n); }
void cg_to_bf16_here(const float *x, uint16_t *y, size_t n) { cg_f32_to_bf16(x, y, n); }

int cg_gemm_dnnl(cg_gemm_cache *cache, int bf16, int ta, int tb, int M, int N, int K,
                 const void *A, int lda, const void *B, int ldb, int accumulate, float *C, int ldc)
{
    (void)cache, (void)bf16, (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)A, (void)lda;
    (void)B, (void)ldb, (void)accumulate, (void)C, (void)ldc;
    char why[160];
    cg_bf16_check(why, sizeof why);
    return cg_error(CG_ERR_ARG, "%s", why);
}

#endif
