/* SPDX-License-Identifier: MIT */
/* pool.c: pooling over the planes of NCHW tensors, and flatten.
 *
 * max_pool2d / avg_pool2d, x [N, C, H, W] -> [N, C, OH, OW], window
 * kh x kw moved by stride, padding ph, pw on each side,
 * OH = (H + 2 ph - kh) / sh + 1 (rounded down, PyTorch's ceil_mode=False).
 * Padding is at most half the window (PyTorch's rule), so every window
 * holds at least one input value.
 *   max: padding never wins (it is -inf); the gradient goes to the first
 *        largest value of the window, whose index in the plane the forward
 *        keeps in the scratch (int32 in cg_real-sized memory).
 *   avg: the sum of the window over kh kw, padding counted as zeros
 *        (PyTorch's count_include_pad=True default); each input gets g / (kh kw)
 *        from every window that holds it.
 * global_avg_pool2d: [N, C, H, W] -> [N, C], the mean of each plane.
 * flatten: [N, ...] -> [N, prod(...)], a reshape.
 *
 * Planes are independent: threads take blocks of the N C planes, and each
 * writes only its planes of dx, so the first writer of dx can clear and
 * scatter in one pass (grad_overwrite). */
#include "ops.h"

#include <stdint.h>
#include <string.h>

enum { POOL_MAX, POOL_AVG };

/* ip: 0 kh, 1 kw, 2 sh, 3 sw, 4 ph, 5 pw, 6 POOL_MAX or POOL_AVG. */
typedef struct pool_geom {
    int planes, H, W, OH, OW, kh, kw, sh, sw, ph, pw;
} pool_geom;

static void pool_geometry(const cg_node *n, pool_geom *q)
{
    const cg_node *x = n->in[0];
    q->planes = x->shape[0] * x->shape[1]; /* negative while the batch is open */
    q->H = x->shape[2];
    q->W = x->shape[3];
    q->kh = n->ip[0];
    q->kw = n->ip[1];
    q->sh = n->ip[2];
    q->sw = n->ip[3];
    q->ph = n->ip[4];
    q->pw = n->ip[5];
    q->OH = q->H + 2 * q->ph < q->kh ? 0 : (q->H + 2 * q->ph - q->kh) / q->sh + 1;
    q->OW = q->W + 2 * q->pw < q->kw ? 0 : (q->W + 2 * q->pw - q->kw) / q->sw + 1;
}

static int infer_pool(cg_node *n)
{
    const cg_node *x = n->in[0];
    char s[96];
    if (x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "%s: input must be 4-D [batch, channels, height, width], "
                        "got %s", n->op->name, cg_shape_str(x, s, sizeof s));
    pool_geom q;
    pool_geometry(n, &q);
    if (q.OH < 1 || q.OW < 1)
        return cg_error(CG_ERR_SHAPE, "%s: window %dx%d does not fit input %s with padding %d,%d",
                        n->op->name, q.kh, q.kw, cg_shape_str(x, s, sizeof s), q.ph, q.pw);
    n->ndim = 4;
    n->shape[0] = x->shape[0];
    n->shape[1] = x->shape[1];
    n->shape[2] = q.OH;
    n->shape[3] = q.OW;
    return CG_OK;
}

/* Rows (or columns) of window o: [*lo, *hi) clipped to the input. */
static inline void window(int o, int s, int p, int k, int size, int *lo, int *hi)
{
    int a = o * s - p, b = a + k;
    *lo = a < 0 ? 0 : a;
    *hi = b > size ? size : b;
}

/* Max pooling keeps each output's argmax (index in its input plane). */
static size_t scratch_pool(const cg_node *n)
{
    if (n->ip[6] != POOL_MAX) return 0;
    return (n->size * sizeof(int32_t) + sizeof(cg_real) - 1) / sizeof(cg_real);
}

/* The common 2x2 window at stride 2 without padding: no clipping, two
 * rows read side by side. */
static void max_plane_2x2(int OH, int OW, int W, const cg_real *restrict x, cg_real *restrict y,
                          int32_t *restrict arg)
{
    for (int oh = 0; oh < OH; oh++) {
        const cg_real *restrict r0 = x + (size_t)(2 * oh) * W, *restrict r1 = r0 + W;
        cg_real *restrict yr = y + (size_t)oh * OW;
        int32_t *restrict ar = arg + (size_t)oh * OW;
        for (int ow = 0; ow < OW; ow++) {
            const int j = 2 * ow;
            /* The first largest in row order, a NaN winning (as below). */
            int best = j;
            cg_real m = r0[j];
            if (r0[j + 1] > m || (r0[j + 1] != r0[j + 1] && m == m)) m = r0[best = j + 1];
            if (r1[j] > m || (r1[j] != r1[j] && m == m)) m = r1[j], best = W + j;
            if (r1[j + 1] > m || (r1[j + 1] != r1[j + 1] && m == m)) m = r1[j + 1], best = W + j + 1;
            yr[ow] = m;
            ar[ow] = 2 * oh * W + best;
        }
    }
}

static void max_plane(const pool_geom *qp, const cg_real *restrict x, cg_real *restrict y,
                      int32_t *restrict arg)
{
    const pool_geom q = *qp; /* locals: the int32 stores below could alias *qp */
    if (q.kh == 2 && q.kw == 2 && q.sh == 2 && q.sw == 2 && q.ph == 0 && q.pw == 0) {
        max_plane_2x2(q.OH, q.OW, q.W, x, y, arg);
        return;
    }
    for (int oh = 0; oh < q.OH; oh++) {
        int h0, h1;
        window(oh, q.sh, q.ph, q.kh, q.H, &h0, &h1);
        for (int ow = 0; ow < q.OW; ow++) {
            int w0, w1;
            window(ow, q.sw, q.pw, q.kw, q.W, &w0, &w1);
            int best = h0 * q.W + w0;
            cg_real m = x[best];
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) {
                    const cg_real v = x[h * q.W + w];
                    /* A NaN wins, so it propagates as in PyTorch. */
                    if (v > m || (v != v && m == m)) {
                        m = v;
                        best = h * q.W + w;
                    }
                }
            y[oh * q.OW + ow] = m;
            arg[oh * q.OW + ow] = best;
        }
    }
}

static void avg_plane(const pool_geom *q, const cg_real *restrict x, cg_real *restrict y)
{
    const cg_real inv = (cg_real)1 / (cg_real)(q->kh * q->kw);
    for (int oh = 0; oh < q->OH; oh++) {
        int h0, h1;
        window(oh, q->sh, q->ph, q->kh, q->H, &h0, &h1);
        for (int ow = 0; ow < q->OW; ow++) {
            int w0, w1;
            window(ow, q->sw, q->pw, q->kw, q->W, &w0, &w1);
            cg_real s = 0;
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) s += x[h * q->W + w];
            y[oh * q->OW + ow] = s * inv;
        }
    }
}

static void forward_pool(cg_node *n)
{
    pool_geom q;
    pool_geometry(n, &q);
    const size_t in = (size_t)q.H * q.W, out = (size_t)q.OH * q.OW;
    const cg_real *x = n->in[0]->val;
    int32_t *arg = (int32_t *)(void *)n->scratch;
    const int is_max = n->ip[6] == POOL_MAX;
#pragma omp parallel for if (n->in[0]->size > CG_OMP_MIN) schedule(static)
    for (int p = 0; p < q.planes; p++) {
        if (is_max)
            max_plane(&q, x + p * in, n->val + p * out, arg + p * out);
        else
            avg_plane(&q, x + p * in, n->val + p * out);
    }
}

static void backward_pool(cg_node *n)
{
    pool_geom q;
    pool_geometry(n, &q);
    cg_node *xn = n->in[0];
    const size_t in = (size_t)q.H * q.W, out = (size_t)q.OH * q.OW;
    const int32_t *arg = (const int32_t *)(const void *)n->scratch;
    const int is_max = n->ip[6] == POOL_MAX, first = cg_grad_first(xn);
    const cg_real inv = (cg_real)1 / (cg_real)(q.kh * q.kw);
#pragma omp parallel for if (xn->size > CG_OMP_MIN) schedule(static)
    for (int p = 0; p < q.planes; p++) {
        cg_real *restrict dx = xn->grad + p * in;
        const cg_real *restrict g = n->grad + p * out;
        if (first) memset(dx, 0, in * sizeof *dx);
        if (is_max) {
            const int32_t *restrict a = arg + p * out;
            for (size_t o = 0; o < out; o++) dx[a[o]] += g[o];
            continue;
        }
        for (int oh = 0; oh < q.OH; oh++) {
            int h0, h1;
            window(oh, q.sh, q.ph, q.kh, q.H, &h0, &h1);
            for (int ow = 0; ow < q.OW; ow++) {
                int w0, w1;
                window(ow, q.sw, q.pw, q.kw, q.W, &w0, &w1);
                const cg_real v = g[oh * q.OW + ow] * inv;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dx[h * q.W + w] += v;
            }
        }
    }
}

const cg_op_def cg_op_max_pool2d = {
    .name = "max_pool2d",
    .arity = 1,
    .infer_shape = infer_pool,
    .scratch_size = scratch_pool,
    .forward = forward_pool,
    .backward = backward_pool,
    .grad_overwrite = 1,
};
const cg_op_def cg_op_avg_pool2d = {
    .name = "avg_pool2d",
    .arity = 1,
    .infer_shape = infer_pool,
    .scratch_size = scratch_pool,
    .forward = forward_pool,
    .backward = backward_pool,
    .grad_overwrite = 1,
};

static cg_node *pool(const cg_op_def *op, int kind, cg_node *x, int kernel_h, int kernel_w,
                     int stride_h, int stride_w, int pad_h, int pad_w)
{
    if (kernel_h < 1 || kernel_w < 1)
        return cg_error_null(CG_ERR_ARG, "%s: kernel %dx%d must be at least 1x1", op->name,
                             kernel_h, kernel_w);
    if (stride_h < 1 || stride_w < 1)
        return cg_error_null(CG_ERR_ARG, "%s: stride %d,%d must be at least 1", op->name,
                             stride_h, stride_w);
    if (pad_h < 0 || pad_w < 0 || pad_h > kernel_h / 2 || pad_w > kernel_w / 2)
        return cg_error_null(CG_ERR_ARG, "%s: padding %d,%d must be between 0 and half the "
                             "kernel (%dx%d)", op->name, pad_h, pad_w, kernel_h, kernel_w);
    int ip[7] = {kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, kind};
    return cg_node_new_op(op, &x, 1, ip, 7, NULL, 0);
}

cg_node *cg_max_pool2d(cg_node *x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w)
{
    return pool(&cg_op_max_pool2d, POOL_MAX, x, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                pad_w);
}

cg_node *cg_avg_pool2d(cg_node *x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w)
{
    return pool(&cg_op_avg_pool2d, POOL_AVG, x, kernel_h, kernel_w, stride_h, stride_w, pad_h,
                pad_w);
}

/* ---- global average pooling ---- */

static int infer_gap(cg_node *n)
{
    const cg_node *x = n->in[0];
    char s[96];
    if (x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "global_avg_pool2d: input must be 4-D [batch, channels, "
                        "height, width], got %s", cg_shape_str(x, s, sizeof s));
    n->ndim = 2;
    n->shape[0] = x->shape[0];
    n->shape[1] = x->shape[1];
    return CG_OK;
}

static void forward_gap(cg_node *n)
{
    const cg_node *x = n->in[0];
    const size_t hw = (size_t)x->shape[2] * x->shape[3];
    const long planes = (long)n->size;
    const cg_real inv = (cg_real)1 / (cg_real)hw;
#pragma omp parallel for if (x->size > CG_OMP_MIN) schedule(static)
    for (long p = 0; p < planes; p++) {
        const cg_real *restrict xp = x->val + (size_t)p * hw;
        cg_real s = 0;
        for (size_t i = 0; i < hw; i++) s += xp[i];
        n->val[p] = s * inv;
    }
}

static void backward_gap(cg_node *n)
{
    cg_node *x = n->in[0];
    const size_t hw = (size_t)x->shape[2] * x->shape[3];
    const long planes = (long)n->size;
    const cg_real inv = (cg_real)1 / (cg_real)hw;
    const int first = cg_grad_first(x);
#pragma omp parallel for if (x->size > CG_OMP_MIN) schedule(static)
    for (long p = 0; p < planes; p++) {
        cg_real *restrict dx = x->grad + (size_t)p * hw;
        const cg_real v = n->grad[p] * inv;
        if (first)
            for (size_t i = 0; i < hw; i++) dx[i] = v;
        else
            for (size_t i = 0; i < hw; i++) dx[i] += v;
    }
}

const cg_op_def cg_op_global_avg_pool2d = {
    .name = "global_avg_pool2d",
    .arity = 1,
    .infer_shape = infer_gap,
    .forward = forward_gap,
    .backward = backward_gap,
    .grad_overwrite = 1,
};

cg_node *cg_global_avg_pool2d(cg_node *x)
{
    return cg_node_new_op(&cg_op_global_avg_pool2d, &x, 1, NULL, 0, NULL, 0);
}

/* ---- flatten: a reshape keeping the first dimension ---- */

cg_node *cg_flatten(cg_node *x)
{
    if (!x) return cg_reshape(NULL, 2, (const int[]){-1, 1}); /* reports the NULL input */
    int nd = cg_node_ndim(x);
    if (nd < 1) return cg_error_null(CG_ERR_SHAPE, "flatten: input is a scalar");
    int inner = 1;
    for (int i = 1; i < nd; i++) inner *= cg_node_dim(x, i);
    return cg_reshape(x, 2, (const int[]){-1, inner});
}
