/* SPDX-License-Identifier: MIT */
/* optimizer.c: SGD, momentum (heavy-ball and Nesterov), RMSprop and Adam,
 * with weight decay and gradient clipping, and the one-call training step.
 * State buffers are allocated once; an update allocates nothing. */
#include "optim.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#ifdef CG_DOUBLE
#define CG_SQRTR sqrt
#define CG_FABSR fabs
#define CG_REAL_MIN DBL_MIN
#else
#define CG_SQRTR sqrtf
#define CG_FABSR fabsf
#define CG_REAL_MIN FLT_MIN
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__GNUC__)
#define CG_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CG_ALWAYS_INLINE inline
#endif

/* An AVX2 variant of the adaptive update (float, x86-64, gcc/clang). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(CG_DOUBLE)
#define CG_AVX2_VARIANT 1
#include <immintrin.h>
#else
#define CG_AVX2_VARIANT 0
#endif

static int lr_ok(double lr) { return lr > 0 && isfinite(lr); }
static int beta_ok(double b) { return b >= 0 && b < 1; }
static int eps_ok(double e) { return e > 0 && isfinite(e); }

static cg_optimizer *make(const char *who, int kind, double lr)
{
    if (!lr_ok(lr))
        return cg_error_null(CG_ERR_ARG, "%s: learning rate %g must be positive and finite", who, lr);
    cg_optimizer *o = cg_calloc(1, sizeof *o);
    if (!o) return cg_error_null(CG_ERR_MEMORY, "%s: out of memory", who);
    o->kind = kind;
    o->lr0 = lr;
    o->sched = CG_LR_CONSTANT;
    return o;
}

cg_optimizer *cg_sgd(double lr) { return make("cg_sgd", CG_OPT_SGD, lr); }

static cg_optimizer *momentum(const char *who, double lr, double beta, int nesterov)
{
    if (!beta_ok(beta))
        return cg_error_null(CG_ERR_ARG, "%s: beta = %g must be in [0, 1)", who, beta);
    cg_optimizer *o = make(who, CG_OPT_MOMENTUM, lr);
    if (!o) return NULL;
    o->beta1 = beta;
    o->nesterov = nesterov;
    return o;
}

cg_optimizer *cg_momentum(double lr, double beta) { return momentum("cg_momentum", lr, beta, 0); }
cg_optimizer *cg_nesterov(double lr, double beta) { return momentum("cg_nesterov", lr, beta, 1); }

cg_optimizer *cg_rmsprop(double lr, double beta, double eps)
{
    if (!beta_ok(beta))
        return cg_error_null(CG_ERR_ARG, "cg_rmsprop: beta = %g must be in [0, 1)", beta);
    if (!eps_ok(eps))
        return cg_error_null(CG_ERR_ARG, "cg_rmsprop: eps = %g must be positive and finite", eps);
    cg_optimizer *o = make("cg_rmsprop", CG_OPT_RMSPROP, lr);
    if (!o) return NULL;
    o->beta1 = beta;
    o->eps = eps;
    return o;
}

cg_optimizer *cg_adam(double lr, double beta1, double beta2, double eps)
{
    if (!beta_ok(beta1))
        return cg_error_null(CG_ERR_ARG, "cg_adam: beta1 = %g must be in [0, 1)", beta1);
    if (!beta_ok(beta2))
        return cg_error_null(CG_ERR_ARG, "cg_adam: beta2 = %g must be in [0, 1)", beta2);
    if (!eps_ok(eps))
        return cg_error_null(CG_ERR_ARG, "cg_adam: eps = %g must be positive and finite", eps);
    cg_optimizer *o = make("cg_adam", CG_OPT_ADAM, lr);
    if (!o) return NULL;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    return o;
}

cg_optimizer *cg_adam_default(double lr)
{
    return cg_adam(lr, CG_ADAM_BETA1, CG_ADAM_BETA2, CG_ADAM_EPS);
}

cg_optimizer *cg_adamw(double lr, double weight_decay)
{
    cg_optimizer *o = cg_adam_default(lr);
    if (o && cg_optimizer_set_weight_decay(o, weight_decay, 1)) {
        cg_optimizer_free(o);
        return NULL;
    }
    return o;
}

void cg_optimizer_free(cg_optimizer *o)
{
    if (!o) return;
    cg_free(o->s0);
    cg_free(o->s1);
    cg_free(o);
}

const char *cg_optimizer_name(const cg_optimizer *o)
{
    if (!o) return NULL;
    if (o->def && o->def->nesterov == o->nesterov) return o->def->name;
    /* Made by a constructor: the table's entry for its rule. */
    const cg_optim_def *d = cg_optim_def_of(o->kind, o->nesterov, o->wd > 0 && o->decoupled);
    return d ? d->name : "unknown";
}

/* --- Setters --- */

int cg_optimizer_set_weight_decay(cg_optimizer *o, double wd, int decoupled)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_weight_decay: NULL optimizer");
    if (!(wd >= 0) || !isfinite(wd))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_weight_decay: weight decay %g must be >= 0 and finite", wd);
    o->wd = wd;
    o->decoupled = decoupled != 0;
    return CG_OK;
}

int cg_optimizer_set_clip_norm(cg_optimizer *o, double max_norm)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_norm: NULL optimizer");
    if (!(max_norm >= 0) || !isfinite(max_norm))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_norm: max norm %g must be >= 0 and finite (0 = off)", max_norm);
    o->clip_norm = max_norm;
    return CG_OK;
}

int cg_optimizer_set_clip_value(cg_optimizer *o, double v)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_value: NULL optimizer");
    if (!(v >= 0) || !isfinite(v))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_clip_value: clip value %g must be >= 0 and finite (0 = off)", v);
    o->clip_value = v;
    return CG_OK;
}

int cg_optimizer_set_nesterov(cg_optimizer *o, int on)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_nesterov: NULL optimizer");
    if (o->kind != CG_OPT_MOMENTUM)
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_nesterov: optimizer \"%s\" has no momentum",
                        cg_optimizer_name(o));
    o->nesterov = on != 0;
    return CG_OK;
}

int cg_optimizer_set_lr(cg_optimizer *o, double lr)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_lr: NULL optimizer");
    if (!lr_ok(lr))
        return cg_error(CG_ERR_ARG, "cg_optimizer_set_lr: learning rate %g must be positive and finite", lr);
    o->lr0 = lr;
    return CG_OK;
}

long cg_optimizer_step_count(const cg_optimizer *o) { return o ? o->t : 0; }

int cg_optimizer_set_step_count(cg_optimizer *o, long t)
{
    if (!o) return cg_error(CG_ERR_ARG, "cg_optimizer_set_step_count: NULL optimizer");
    if (t < 0) return cg_error(CG_ERR_ARG, "cg_optimizer_set_step_count: step count %ld is negative", t);
    o->t = t;
    return CG_OK;
}

/* --- State --- */

int cg_optimizer_prepare(cg_optimizer *o, cg_graph *g)
{
    if (!o || !g) return cg_error(CG_ERR_ARG, "cg_optimizer_prepare: NULL argument");
    size_t n = cg_graph_param_count(g);
    int need0 = o->kind == CG_OPT_MOMENTUM || o->kind == CG_OPT_ADAM;
    int need1 = o->kind == CG_OPT_RMSPROP || o->kind == CG_OPT_ADAM;
    if (o->s0 || o->s1) {
        if (n != o->n)
            return cg_error(CG_ERR_STATE,
                            "optimizer \"%s\" holds state for %zu parameters but the graph has %zu; "
                            "use a new optimizer for a different model",
                            cg_optimizer_name(o), o->n, n);
        return CG_OK;
    }
    o->n = n;
    if (n == 0) return CG_OK;
    if (need0 && !(o->s0 = cg_calloc(n, sizeof *o->s0)))
        return cg_error(CG_ERR_MEMORY, "cg_optimizer_prepare: out of memory for %zu parameters", n);
    if (need1 && !(o->s1 = cg_calloc(n, sizeof *o->s1))) {
        cg_free(o->s0);
        o->s0 = NULL;
        return cg_error(CG_ERR_MEMORY, "cg_optimizer_prepare: out of memory for %zu parameters", n);
    }
    return CG_OK;
}

cg_real *cg_optimizer_state(cg_optimizer *o, int which, size_t *n)
{
    cg_real *p = NULL;
    if (o && which == 0) p = o->s0;
    if (o && which == 1) p = o->s1;
    if (n) *n = p ? o->n : 0;
    return p;
}

/* --- The update --- */

double cg_optimizer_lr(const cg_optimizer *o)
{
    if (!o) return 0;
    double lr = cg_optim_scheduled_lr(o);
    if (o->warmup > 0 && o->t + 1 < o->warmup)
        lr *= (double)(o->t + 1) / (double)o->warmup;
    return lr;
}

/* The update is one pass over the contiguous parameter buffer in cg_real
 * (float by default), after a read-only check of the gradients: each
 * element's gradient is clipped, scaled and decayed, its state advanced and
 * the weight moved. Large models split the pass over OpenMP threads;
 * below OPTIM_OMP_MIN parameters waking them costs more than the loop. */
#define OPTIM_OMP_MIN 32768

typedef struct hyper {
    cg_real lr, shrink, l2, cv, scale; /* rate, decoupled decay, L2, clips */
    cg_real b1, b2, eps, c1, c2;        /* betas; c1, c2: 1 / bias corrections */
} hyper;

/* The gradient of element i as the optimizer sees it: value-clipped (cv is
 * +inf when off), scaled by the norm clip, plus the L2 term. */
static inline cg_real effective_grad(const hyper h, cg_real g, cg_real w)
{
    g = g > h.cv ? h.cv : g < -h.cv ? -h.cv : g;
    return g * h.scale + h.l2 * w;
}

/* Blocks of BLOCK elements: each thread takes whole blocks, and within a
 * block the loops are simple enough for the compiler to vectorise. */
#define BLOCK 512

/* The optimizer's state, flushed to zero below the smallest normal
 * number. A parameter whose gradient stays 0 (a weight of an input that
 * is always 0: Fashion-MNIST's border pixels; a dead unit) has moments
 * that decay by beta each step into subnormal numbers, and stay there
 * (rounding keeps the smallest ones from reaching 0). Arithmetic on
 * subnormals takes microcode assists, about 100x slower: measured, Adam's
 * update of config A went from 0.46 to 11 ms per step after ~1,500 steps,
 * and 784-512-512-10 epochs on Fashion-MNIST from 1.5 to 2.5 s. Values
 * this small move no weight (eps is 1e-8), so flushing changes nothing
 * but the time. Not NaN (!(x < min) keeps it), and the same in every
 * variant below, so results stay bit for bit the same. */
static inline cg_real flush_tiny(cg_real x) { return CG_FABSR(x) < CG_REAL_MIN ? 0 : x; }

/* sqrt in place. With errno semantics (the default) compilers will not
 * vectorise sqrtf, so SSE does it explicitly where there is SSE. */
static void sqrt_block(cg_real *x, int n)
{
    int i = 0;
#if defined(__SSE2__) && !defined(CG_DOUBLE)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#elif defined(__SSE2__)
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(x + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#endif
    for (; i < n; i++) x[i] = CG_SQRTR(x[i]);
}

/* SGD and momentum on one block. */
static CG_ALWAYS_INLINE void plain_block(const hyper h, int momentum, int nesterov, int len,
                                         cg_real *restrict wb, const cg_real *restrict gb,
                                         cg_real *restrict sb)
{
    if (!momentum) {
#pragma omp simd
        for (int i = 0; i < len; i++) {
            cg_real g = effective_grad(h, gb[i], wb[i]);
            wb[i] = wb[i] - h.shrink * wb[i] - h.lr * g;
        }
        return;
    }
#pragma omp simd
    for (int i = 0; i < len; i++) {
        cg_real g = effective_grad(h, gb[i], wb[i]);
        cg_real v = flush_tiny(h.b1 * sb[i] + g);
        sb[i] = v;
        cg_real step = nesterov ? g + h.b1 * v : v;
        wb[i] = wb[i] - h.shrink * wb[i] - h.lr * step;
    }
}

/* RMSprop (adam = 0: mb unused) and Adam with bias correction:
 *   w -= lr * g / (sqrt(s) + eps),  w -= lr * (m / bc1) / (sqrt(v / bc2) + eps).
 * One block: moments and the radicand, then their square roots, then the
 * weights. plain: no clipping, no L2 term, no decoupled decay, whose
 * operations (x * 1, + 0 * w, - 0 * w) then change nothing but the sign of
 * a zero; skipped. */
static CG_ALWAYS_INLINE void adaptive_block(const hyper h, int adam, int plain, int len,
                                            cg_real *restrict wb, const cg_real *restrict gb,
                                            cg_real *restrict mb, cg_real *restrict vb,
                                            void (*root)(cg_real *, int))
{
    const cg_real a1 = 1 - h.b1, a2 = 1 - h.b2;
    cg_real num[BLOCK], den[BLOCK];
    if (adam) {
#pragma omp simd
        for (int i = 0; i < len; i++) {
            cg_real g = plain ? gb[i] : effective_grad(h, gb[i], wb[i]);
            cg_real m = flush_tiny(h.b1 * mb[i] + a1 * g);
            cg_real v = flush_tiny(h.b2 * vb[i] + a2 * g * g);
            mb[i] = m;
            vb[i] = v;
            num[i] = m * h.c1;
            den[i] = v * h.c2;
        }
    } else {
#pragma omp simd
        for (int i = 0; i < len; i++) {
            cg_real g = plain ? gb[i] : effective_grad(h, gb[i], wb[i]);
            cg_real v = flush_tiny(h.b1 * vb[i] + a1 * g * g);
            vb[i] = v;
            num[i] = g;
            den[i] = v;
        }
    }
    root(den, len);
    if (plain) {
#pragma omp simd
        for (int i = 0; i < len; i++) wb[i] = wb[i] - h.lr * (num[i] / (den[i] + h.eps));
    } else {
#pragma omp simd
        for (int i = 0; i < len; i++)
            wb[i] = wb[i] - h.shrink * wb[i] - h.lr * (num[i] / (den[i] + h.eps));
    }
}

/* Whether the hyperparameters make the adaptive update plain. */
static int plain_update(const hyper h)
{
    return h.cv == (cg_real)INFINITY && h.scale == 1 && h.l2 == 0 && h.shrink == 0;
}

/* One block of any optimizer. The loops run on a block with restrict
 * pointers and a by-value copy of the hyperparameters: written as one
 * OpenMP loop over the whole buffer, gcc read them through OpenMP's shared
 * struct, reloading each one after every store to the weights (floats
 * too, so they might alias); SGD then took 0.6 ns per parameter. Inlined
 * into each instruction-set variant below. */
static CG_ALWAYS_INLINE void update_block(const hyper h, int kind, int nesterov, int len,
                                          cg_real *wb, const cg_real *gb, cg_real *s0b,
                                          cg_real *s1b, void (*root)(cg_real *, int))
{
    switch (kind) {
    case CG_OPT_SGD: plain_block(h, 0, 0, len, wb, gb, NULL); break;
    case CG_OPT_MOMENTUM: plain_block(h, 1, nesterov, len, wb, gb, s0b); break;
    case CG_OPT_RMSPROP:
        if (plain_update(h)) adaptive_block(h, 0, 1, len, wb, gb, NULL, s1b, root);
        else adaptive_block(h, 0, 0, len, wb, gb, NULL, s1b, root);
        break;
    default:
        if (plain_update(h)) adaptive_block(h, 1, 1, len, wb, gb, s0b, s1b, root);
        else adaptive_block(h, 1, 0, len, wb, gb, s0b, s1b, root);
        break;
    }
}

typedef void (*update_block_fn)(const hyper, int, int, int, cg_real *, const cg_real *,
                                cg_real *, cg_real *);

static void update_block_base(const hyper h, int kind, int nesterov, int len, cg_real *wb,
                              const cg_real *gb, cg_real *s0b, cg_real *s1b)
{
    update_block(h, kind, nesterov, len, wb, gb, s0b, s1b, sqrt_block);
}

#if CG_AVX2_VARIANT
/* flush_tiny on 8 lanes: |x| not below FLT_MIN keeps x (NaN too), else +0. */
__attribute__((target("avx2"))) static CG_ALWAYS_INLINE __m256 flush_tiny_avx2(__m256 x)
{
    const __m256 mag = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    return _mm256_and_ps(x, _mm256_cmp_ps(mag, _mm256_set1_ps(FLT_MIN), _CMP_NLT_UQ));
}

/* adaptive_block with 8-wide AVX2 vectors, chosen at run time where the
 * CPU has them: the library is built for baseline x86-64 (4-wide SSE). Without
 * FMA contraction (C11 mode) the results are bit for bit the same.
 *
 * RMSprop and Adam here take two passes over a block, with intrinsics:
 * moments, square root and denominator, then the division and the weights.
 * Measured on config A's 670k parameters (bench/OPTIMIZATIONS.md): alone,
 * 150 us against 195 for adaptive_block's three passes; inside steps in
 * this VM's slow phases, 650 against 700 us. One pass (150 us alone) took
 * 1.9 ms there: it chains a load, a square root and a division per
 * element, which the two threads' shared core did not overlap. */
__attribute__((target("avx2"))) static CG_ALWAYS_INLINE void
adaptive_block_avx2(const hyper h, int adam, int plain, int len, cg_real *restrict wb,
                    const cg_real *restrict gb, cg_real *restrict mb, cg_real *restrict vb)
{
    const __m256 cv = _mm256_set1_ps(h.cv), ncv = _mm256_set1_ps(-h.cv);
    const __m256 scale = _mm256_set1_ps(h.scale), l2 = _mm256_set1_ps(h.l2);
    const __m256 b1 = _mm256_set1_ps(h.b1), b2 = _mm256_set1_ps(h.b2);
    const __m256 a1 = _mm256_set1_ps(1 - h.b1), a2 = _mm256_set1_ps(1 - h.b2);
    const __m256 c1 = _mm256_set1_ps(h.c1), c2 = _mm256_set1_ps(h.c2);
    const __m256 eps = _mm256_set1_ps(h.eps), lr = _mm256_set1_ps(h.lr);
    const __m256 shrink = _mm256_set1_ps(h.shrink);
    cg_real num[BLOCK], den[BLOCK];
    const int vec = len / 8 * 8;
    for (int i = 0; i < vec; i += 8) {
        __m256 g = _mm256_loadu_ps(gb + i);
        if (!plain) { /* effective_grad: min/max give the clamp's values */
            g = _mm256_max_ps(_mm256_min_ps(g, cv), ncv);
            g = _mm256_add_ps(_mm256_mul_ps(g, scale), _mm256_mul_ps(l2, _mm256_loadu_ps(wb + i)));
        }
        __m256 nu, d;
        if (adam) {
            __m256 m = flush_tiny_avx2(_mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(mb + i)),
                                                     _mm256_mul_ps(a1, g)));
            __m256 v = flush_tiny_avx2(_mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(vb + i)),
                                                     _mm256_mul_ps(_mm256_mul_ps(a2, g), g)));
            _mm256_storeu_ps(mb + i, m);
            _mm256_storeu_ps(vb + i, v);
            nu = _mm256_mul_ps(m, c1);
            d = _mm256_sqrt_ps(_mm256_mul_ps(v, c2));
        } else {
            __m256 v = flush_tiny_avx2(_mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(vb + i)),
                                                     _mm256_mul_ps(_mm256_mul_ps(a1, g), g)));
            _mm256_storeu_ps(vb + i, v);
            nu = g;
            d = _mm256_sqrt_ps(v);
        }
        _mm256_storeu_ps(num + i, nu);
        _mm256_storeu_ps(den + i, _mm256_add_ps(d, eps));
    }
    for (int i = 0; i < vec; i += 8) {
        __m256 w = _mm256_loadu_ps(wb + i);
        if (!plain) w = _mm256_sub_ps(w, _mm256_mul_ps(shrink, w));
        __m256 q = _mm256_div_ps(_mm256_loadu_ps(num + i), _mm256_loadu_ps(den + i));
        _mm256_storeu_ps(wb + i, _mm256_sub_ps(w, _mm256_mul_ps(lr, q)));
    }
    if (vec < len) /* the rest, the same operations without intrinsics */
        adaptive_block(h, adam, plain, len - vec, wb + vec, gb + vec, adam ? mb + vec : NULL,
                       vb + vec, sqrt_block);
}

__attribute__((target("avx2"))) static void update_block_avx2(const hyper h, int kind,
                                                             int nesterov, int len, cg_real *wb,
                                                             const cg_real *gb, cg_real *s0b,
                                                             cg_real *s1b)
{
    const int plain = plain_update(h);
    if (kind == CG_OPT_ADAM && plain)
        adaptive_block_avx2(h, 1, 1, len, wb, gb, s0b, s1b);
    else if (kind == CG_OPT_ADAM)
        adaptive_block_avx2(h, 1, 0, len, wb, gb, s0b, s1b);
    else if (kind == CG_OPT_RMSPROP && plain)
        adaptive_block_avx2(h, 0, 1, len, wb, gb, s0b, s1b);
    else if (kind == CG_OPT_RMSPROP)
        adaptive_block_avx2(h, 0, 0, len, wb, gb, s0b, s1b);
    else
        update_block(h, kind, nesterov, len, wb, gb, s0b, s1b, sqrt_block);
}
#endif

/* Every parameter, in blocks of BLOCK; threads take whole blocks. */
static void update_all(const hyper h, int kind, int nesterov, long n, cg_real *w,
                       const cg_real *dw, cg_real *s0, cg_real *s1)
{
    update_block_fn block = update_block_base;
#if CG_AVX2_VARIANT
    if (__builtin_cpu_supports("avx2")) block = update_block_avx2;
#endif
    const long blocks = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for if (n > OPTIM_OMP_MIN) schedule(static)
    for (long b = 0; b < blocks; b++) {
        const long lo = b * BLOCK;
        const int len = (int)(n - lo < BLOCK ? n - lo : BLOCK);
        block(h, kind, nesterov, len, w + lo, dw + lo, s0 ? s0 + lo : NULL, s1 ? s1 + lo : NULL);
    }
}

/* 0 when every gradient is finite: g * 0 is NaN exactly for inf and NaN,
 * so one vectorised sum tells, without a branch per element. */
static int first_non_finite(const cg_real *dw, long n)
{
    cg_real z = 0;
    const long blocks = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for reduction(+ : z) if (n > OPTIM_OMP_MIN) schedule(static)
    for (long b = 0; b < blocks; b++) {
        const long hi = (b + 1) * BLOCK < n ? (b + 1) * BLOCK : n;
        cg_real acc[8] = {0}; /* 8 lanes: a vector sum without -ffast-math */
        long i = b * BLOCK;
        for (; i + 8 <= hi; i += 8)
            for (int j = 0; j < 8; j++) acc[j] += dw[i + j] * 0;
        for (; i < hi; i++) acc[0] += dw[i] * 0;
        for (int j = 0; j < 8; j++) z += acc[j];
    }
    if (z == 0) return -1;
    for (long i = 0; i < n; i++)
        if (!isfinite((double)dw[i])) return (int)(i < INT_MAX ? i : INT_MAX);
    return -1;
}

/* Global L2 norm of the value-clipped gradient, summed in double over
 * blocks in block order: the same bits for any thread count. */
static double clipped_norm(const cg_real *dw, long n, cg_real cv)
{
    enum { PARTS = 64 };
    double part[PARTS];
    const long ch = n > PARTS ? (n + PARTS - 1) / PARTS : 1;
#pragma omp parallel for if (n > OPTIM_OMP_MIN) schedule(static)
    for (long c = 0; c < PARTS; c++) {
        double sq = 0;
        for (long i = c * ch; i < (c + 1) * ch && i < n; i++) {
            double g = (double)(dw[i] > cv ? cv : dw[i] < -cv ? -cv : dw[i]);
            sq += g * g;
        }
        part[c] = sq;
    }
    double sq = 0;
    for (int c = 0; c < PARTS; c++) sq += part[c];
    return sqrt(sq);
}

int cg_optimizer_update(cg_optimizer *o, cg_graph *g)
{
    if (!o || !g) return cg_error(CG_ERR_ARG, "cg_optimizer_update: NULL argument");
    int rc = cg_optimizer_prepare(o, g);
    if (rc) return rc;
    const long n = (long)o->n;
    cg_real *w = cg_graph_params(g);
    const cg_real *dw = cg_graph_grads(g);
    if (n && (!w || !dw))
        return cg_error(CG_ERR_STATE, "cg_optimizer_update: the graph has no parameter or gradient buffer");

    /* Checked before anything moves: a failed update leaves the weights. */
    int bad = first_non_finite(dw, n);
    if (bad >= 0)
        return cg_error(CG_ERR_NUMERIC,
                        "cg_optimizer_update: gradient of parameter %d is %g; "
                        "lower the learning rate or clip gradients", bad, (double)dw[bad]);
    const cg_real cv = o->clip_value > 0 ? (cg_real)o->clip_value : (cg_real)INFINITY;
    double scale = 1;
    if (o->clip_norm > 0) {
        double norm = clipped_norm(dw, n, cv);
        if (norm > o->clip_norm) scale = o->clip_norm / norm;
    }

    const double lr = cg_optimizer_lr(o);
    o->t++;
    const double wd = o->wd;
    hyper h = {
        .lr = (cg_real)lr,
        .shrink = (cg_real)(o->decoupled ? lr * wd : 0),
        .l2 = (cg_real)(o->decoupled ? 0 : wd),
        .cv = cv,
        .scale = (cg_real)scale,
        .b1 = (cg_real)o->beta1,
        .b2 = (cg_real)o->beta2,
        .eps = (cg_real)o->eps,
        .c1 = (cg_real)(1 / (1 - pow(o->beta1, (double)o->t))),
        .c2 = (cg_real)(1 / (1 - pow(o->beta2, (double)o->t))),
    };
    update_all(h, o->kind, o->nesterov, n, w, dw, o->s0, o->s1);
    return CG_OK;
}

int cg_minimize_step(cg_optimizer *o, cg_node *cost, cg_real *loss)
{
    if (!o || !cost) return cg_error(CG_ERR_ARG, "cg_minimize_step: NULL argument");
    int rc = cg_backward(cost);
    if (rc) return rc;
    cg_real j = cg_node_scalar(cost);
    if (loss) *loss = j;
    if (!isfinite((double)j))
        return cg_error(CG_ERR_NUMERIC, "cg_minimize_step: the cost is %g; lower the learning rate",
                        (double)j);
    return cg_optimizer_update(o, cg_node_graph(cost));
}
