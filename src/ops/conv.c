/* SPDX-License-Identifier: MIT */
/* conv.c: 2-D convolution of NCHW tensors (cross-correlation, as in every
 * framework), as im2col + GEMM.
 *
 * x [N, C, H, W], w [K, C/G, kh, kw], bias [K] or none, G groups:
 *   y[n, k, oh, ow] = bias[k] + sum over c in k's group, ki, kj of
 *       w[k, c - g C/G, ki, kj] x[n, c, oh sh - ph + ki dh, ow sw - pw + kj dw]
 * with x read as 0 outside the image (zero padding).
 *
 * im2col lays out one image as col [C kh kw, P] (P = OH OW output
 * positions): row (c, ki, kj) holds the input value each output position
 * sees through tap (ki, kj) of channel c. Group g's rows are a contiguous
 * block of Cg kh kw rows (Cg = C/G), so for each group
 *   Y_g [Kg, P]       = W_g [Kg, Cg kh kw] col_g [Cg kh kw, P]
 * and backward, with D = dY:
 *   dW_g [Kg, CgKK]   += D_g [Kg, P] col_g^T
 *   dcol_g [CgKK, P]  = W_g^T D_g,   then col2im adds dcol into dx
 *   dbias[k]          += sum over n and positions of D[n, k]
 * col is recomputed in backward rather than kept from forward: it is kh kw
 * times the input's size, and rebuilding it costs less than a pass of the
 * products. A 1x1 kernel at stride 1 without padding needs no col: the
 * image itself is col (a pointwise convolution).
 *
 * Threads take whole images (the batch split in contiguous blocks); each
 * has its own col buffer and its own partial dW and dbias, summed in
 * thread order at the end. A batch smaller than the thread count shares
 * each image's work instead (forward only: single-image inference). All of it is the node's scratch, planned with
 * the graph's memory for the thread count at plan time (scratch_conv), so
 * a step allocates nothing. The partial sums make dW's last bits depend on
 * that thread count (not on anything else).
 *
 * Every product goes through conv_gemm: the product interface (gemm.h:
 * OpenBLAS, or the portable GEMM of the build without BLAS) by default,
 * plain reference loops when a test asks (cg_conv_use_portable_gemm).
 *
 * bf16 (cg_graph_set_precision, precision.c): the same products through
 * oneDNN with bf16 inputs and fp32 accumulation and output (gemm_dnnl.c),
 * as matmul.c's. The forward converts W once, before the threads, into
 * the node's scratch (the backward reuses it: W does not change in
 * between); each group converts its col (or, pointwise, its image) and,
 * in the backward, its image's output gradient into its own bf16
 * buffers. col itself stays fp32: col2im adds fp32 sums into dx. */
#include "ops.h"
#include "conv.h"

#include "omp_compat.h"
#include <string.h>

/* ---- geometry ---- */

/* ip: 0 stride_h, 1 stride_w, 2 pad_h, 3 pad_w, 4 dilation_h,
 * 5 dilation_w, 6 groups. A pad of CG_PAD_SAME is resolved from the
 * shapes each time (conv_geom). */
typedef struct conv_geom {
    int N, C, H, W;          /* input */
    int K, kh, kw;           /* output channels, kernel */
    int OH, OW;              /* output */
    int sh, sw, ph, pw, dh, dw, G;
    int Cg, Kg, ckk;         /* per group: input and output channels, Cg kh kw */
    size_t P, HW;            /* output positions, input positions per image */
    int pointwise;           /* 1x1, stride 1, no padding: col is the image */
} conv_geom;

/* Output size along one axis, and the padding before it: explicit pad p,
 * or "same" (CG_PAD_SAME): out = ceil(in / s), the total padding needed
 * for that split as evenly as possible, the odd one after (TensorFlow's
 * rule; PyTorch's padding="same" at stride 1 does the same). 0 when no
 * window fits. */
static int out_size(int in, int k, int s, int p, int d, int *before)
{
    const int span = d * (k - 1) + 1;
    if (p == CG_PAD_SAME) {
        const int out = (in + s - 1) / s;
        int total = (out - 1) * s + span - in;
        if (total < 0) total = 0;
        *before = total / 2;
        return out;
    }
    *before = p;
    return in + 2 * p < span ? 0 : (in + 2 * p - span) / s + 1;
}

static void conv_geometry(const cg_node *n, conv_geom *q)
{
    const cg_node *x = n->in[0], *w = n->in[1];
    q->N = x->shape[0];
    q->C = x->shape[1];
    q->H = x->shape[2];
    q->W = x->shape[3];
    q->K = w->shape[0];
    q->kh = w->shape[2];
    q->kw = w->shape[3];
    q->sh = n->ip[0];
    q->sw = n->ip[1];
    q->dh = n->ip[4];
    q->dw = n->ip[5];
    q->G = n->ip[6];
    q->OH = out_size(q->H, q->kh, q->sh, n->ip[2], q->dh, &q->ph);
    q->OW = out_size(q->W, q->kw, q->sw, n->ip[3], q->dw, &q->pw);
    q->Cg = q->C / q->G;
    q->Kg = q->K / q->G;
    q->ckk = q->Cg * q->kh * q->kw;
    q->P = (size_t)q->OH * (size_t)q->OW;
    q->HW = (size_t)q->H * (size_t)q->W;
    q->pointwise = q->kh == 1 && q->kw == 1 && q->sh == 1 && q->sw == 1 && q->ph == 0 &&
                   q->pw == 0;
}

static int infer_conv(cg_node *n)
{
    const cg_node *x = n->in[0], *w = n->in[1], *b = n->n_in > 2 ? n->in[2] : NULL;
    char sx[96], sw[96];
    if (x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "conv2d: input must be 4-D [batch, channels, height, "
                        "width], got %s", cg_shape_str(x, sx, sizeof sx));
    if (w->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "conv2d: weight must be 4-D [out_channels, "
                        "in_channels/groups, kh, kw], got %s", cg_shape_str(w, sw, sizeof sw));
    const int G = n->ip[6], C = x->shape[1], K = w->shape[0];
    if (C % G || K % G)
        return cg_error(CG_ERR_SHAPE, "conv2d: groups %d must divide the input channels (%d) "
                        "and the output channels (%d)", G, C, K);
    if (w->shape[1] != C / G)
        return cg_error(CG_ERR_SHAPE, "conv2d: weight %s has %d input channels per group; input "
                        "%s with %d group(s) needs %d", cg_shape_str(w, sw, sizeof sw),
                        w->shape[1], cg_shape_str(x, sx, sizeof sx), G, C / G);
    if (b && (b->ndim != 1 || b->shape[0] != K))
        return cg_error(CG_ERR_SHAPE, "conv2d: bias has shape %s, expected [%d]",
                        cg_shape_str(b, sx, sizeof sx), K);
    conv_geom q;
    conv_geometry(n, &q);
    if (q.OH < 1 || q.OW < 1)
        return cg_error(CG_ERR_SHAPE, "conv2d: kernel %dx%d (dilation %d,%d) does not fit input "
                        "%s with padding %d,%d", q.kh, q.kw, q.dh, q.dw,
                        cg_shape_str(x, sx, sizeof sx), q.ph, q.pw);
    n->ndim = 4;
    n->shape[0] = x->shape[0]; /* may be the open batch */
    n->shape[1] = K;
    n->shape[2] = q.OH;
    n->shape[3] = q.OW;
    return CG_OK;
}

/* ---- the product: the one call site of a GEMM backend ---- */

static int use_portable;

void cg_conv_use_portable_gemm(int on) { use_portable = on != 0; }

/* C [M, N] = op(A) [M, K] op(B) [K, N] + beta C, row-major, beta 0 or 1. */
static void gemm_loops(int ta, int tb, int M, int N, int K, const cg_real *A, int lda,
                       const cg_real *B, int ldb, cg_real beta, cg_real *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        cg_real *restrict c = C + (size_t)i * ldc;
        if (beta == 0)
            for (int j = 0; j < N; j++) c[j] = 0;
        for (int k = 0; k < K; k++) {
            const cg_real a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
            if (tb) {
                for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k];
            } else {
                const cg_real *restrict b = B + (size_t)k * ldb;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

/* The operands' precision: fp32, or bf16 copies (then A and B point to
 * uint16_t); multiplied through the graph's oneDNN cache when there is
 * one (always in bf16), else by cg_gemm. */
typedef struct prec {
    int bf16;
    cg_gemm_cache *cache;
} prec;

/* The same on the calling thread (OpenBLAS is kept single-threaded,
 * threads.c: the threads here are OpenMP's, one per block of images).
 * CG_OK, or the error of a oneDNN primitive that could not be made. */
static int conv_gemm(const prec *h, int ta, int tb, int M, int N, int K, const void *A, int lda,
                     const void *B, int ldb, cg_real beta, cg_real *C, int ldc)
{
#ifndef CG_DOUBLE
    if (h->bf16 || (!use_portable && cg_gemm_use_dnnl(h->cache, 0, M, N, K)))
        return cg_gemm_dnnl(h->cache, h->bf16, ta, tb, M, N, K, A, lda, B, ldb, beta != 0, C, ldc);
#else
    (void)h;
#endif
    if (!use_portable) {
        cg_gemm(ta, tb, M, N, K, 1, A, lda, B, ldb, beta, C, ldc);
        return CG_OK;
    }
    gemm_loops(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    return CG_OK;
}

/* fp32 -> bf16 on the calling thread (the double library has no bf16:
 * precision.c refuses it). */
static void to_bf16(const cg_real *x, uint16_t *y, size_t n)
{
#ifndef CG_DOUBLE
    cg_to_bf16_here(x, y, n);
#else
    (void)x, (void)y, (void)n;
#endif
}

static int uses_bf16(const cg_node *n) { return n->g->precision == CG_PRECISION_BF16; }

/* ---- im2col and col2im ---- */

/* Output positions o in [0, n_out) whose input index o s + off lies in
 * [0, size): [*lo, *hi). */
static void valid_range(int n_out, int s, int off, int size, int *lo, int *hi)
{
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = size - 1 - off < 0 ? 0 : (size - 1 - off) / s + 1;
    if (h > n_out) h = n_out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Rows [r0, r1) of col [C kh kw, P] of image x [C, H, W]; row r is tap
 * (ki, kj) of channel c, r = (c kh + ki) kw + kj. */
static void im2col_rows(const conv_geom *q, const cg_real *restrict x, cg_real *restrict col,
                        int r0, int r1)
{
    const int OW = q->OW;
    for (int r = r0; r < r1; r++) {
        const int kj = r % q->kw, ki = r / q->kw % q->kh, c = r / (q->kw * q->kh);
        const int ioff = ki * q->dh - q->ph, joff = kj * q->dw - q->pw;
        int h0, h1, w0, w1;
        valid_range(q->OH, q->sh, ioff, q->H, &h0, &h1);
        valid_range(OW, q->sw, joff, q->W, &w0, &w1);
        cg_real *restrict row = col + (size_t)r * q->P;
        memset(row, 0, (size_t)h0 * OW * sizeof *row);
        memset(row + (size_t)h1 * OW, 0, (size_t)(q->OH - h1) * OW * sizeof *row);
        for (int oh = h0; oh < h1; oh++) {
            const cg_real *restrict xr =
                x + (size_t)c * q->HW + (size_t)(oh * q->sh + ioff) * q->W + joff;
            cg_real *restrict out = row + (size_t)oh * OW;
            for (int ow = 0; ow < w0; ow++) out[ow] = 0;
            if (q->sw == 1)
                memcpy(out + w0, xr + w0, (size_t)(w1 - w0) * sizeof *out);
            else
                for (int ow = w0; ow < w1; ow++) out[ow] = xr[ow * q->sw];
            for (int ow = w1; ow < OW; ow++) out[ow] = 0;
        }
    }
}

static void im2col(const conv_geom *q, const cg_real *x, cg_real *col)
{
    im2col_rows(q, x, col, 0, q->C * q->kh * q->kw);
}

/* dx [C, H, W] += what col [C kh kw, P] says each tap saw (the adjoint of
 * im2col: padding positions are dropped). */
static void col2im(const conv_geom *q, const cg_real *restrict col, cg_real *restrict dx)
{
    const int OW = q->OW;
    for (int c = 0; c < q->C; c++)
        for (int ki = 0; ki < q->kh; ki++) {
            const int ioff = ki * q->dh - q->ph;
            int h0, h1;
            valid_range(q->OH, q->sh, ioff, q->H, &h0, &h1);
            for (int kj = 0; kj < q->kw; kj++) {
                const int joff = kj * q->dw - q->pw;
                int w0, w1;
                valid_range(OW, q->sw, joff, q->W, &w0, &w1);
                const cg_real *restrict row =
                    col + ((size_t)(c * q->kh + ki) * q->kw + kj) * q->P;
                for (int oh = h0; oh < h1; oh++) {
                    cg_real *restrict xr =
                        dx + (size_t)c * q->HW + (size_t)(oh * q->sh + ioff) * q->W + joff;
                    const cg_real *restrict in = row + (size_t)oh * OW;
                    if (q->sw == 1)
                        for (int ow = w0; ow < w1; ow++) xr[ow] += in[ow];
                    else
                        for (int ow = w0; ow < w1; ow++) xr[ow * q->sw] += in[ow];
                }
            }
        }
}

/* ---- scratch: per group, col | dW partial | dbias partial, and in bf16
 * | col (or the image) in bf16 | dY's image in bf16; then, in bf16, W
 * in bf16 for all ---- */

static size_t col_len(const conv_geom *q)
{
    return q->pointwise ? 0 : (size_t)q->C * q->kh * q->kw * q->P;
}

/* bf16 col: col's rows, or the image's channels (pointwise: P = H W). */
static size_t colh_len(const conv_geom *q) { return (size_t)q->C * q->kh * q->kw * q->P; }

static size_t per_thread(const conv_geom *q, int h)
{
    return col_len(q) + (size_t)q->K * q->ckk + (size_t)q->K +
           (h ? cg_bf16_slots(colh_len(q)) + cg_bf16_slots((size_t)q->K * q->P) : 0);
}

/* A group's bf16 buffers, after its fp32 ones. */
static uint16_t *group_colh(const conv_geom *q, cg_real *group)
{
    return (uint16_t *)(group + col_len(q) + (size_t)q->K * q->ckk + (size_t)q->K);
}

static uint16_t *group_dh(const conv_geom *q, cg_real *group)
{
    return (uint16_t *)((cg_real *)group_colh(q, group) + cg_bf16_slots(colh_len(q)));
}

/* W in bf16, after the groups. */
static size_t shared_len(const conv_geom *q, int h)
{
    return h ? cg_bf16_slots((size_t)q->K * q->ckk) : 0;
}

static uint16_t *weight_h(const cg_node *n, const conv_geom *q)
{
    return (uint16_t *)(n->scratch + n->scratch_len - shared_len(q, 1));
}

/* Groups of images a batch of N is cut into, each with its own buffers
 * and partial dW: the machine's parts (cg_thread_parts), not more than
 * images. Fixed by the shape, so the sums of the partials are the same
 * bits for any thread count. */
static int plan_groups(int N)
{
    int G = cg_thread_parts();
    return G < N ? G : N > 0 ? N : 1;
}

static size_t scratch_conv(const cg_node *n)
{
    conv_geom q;
    conv_geometry(n, &q);
    const int h = uses_bf16(n);
    return (size_t)plan_groups(q.N) * per_thread(&q, h) + shared_len(&q, h);
}

/* Below this many multiply-adds in a batch, one thread does it: waking
 * the others costs more (and on a loaded machine, far more). */
#define CONV_PARALLEL_MIN (1L << 16)

/* Groups of images: those the plan made room for (plan_groups), or one
 * for a small batch. */
static int groups(const cg_node *n, const conv_geom *q)
{
    if ((long)q->N * q->K * q->ckk * (long)q->P < CONV_PARALLEL_MIN) return 1;
    const int h = uses_bf16(n);
    return (int)((n->scratch_len - shared_len(q, h)) / per_thread(q, h));
}

/* Threads for G groups: no more than groups, nor than a parallel region
 * would get now (cg_set_threads or threads.c may have lowered it). */
static int group_threads(int G)
{
    const int now = omp_in_parallel() ? 1 : omp_get_max_threads();
    return G < now ? G : now;
}

/* ---- forward ---- */

/* Keep the first error of a team's products (a oneDNN primitive that
 * could not be made: out of memory). */
static void keep_error(int *rc, int r)
{
    if (r) {
#pragma omp atomic write
        *rc = r;
    }
}

/* Columns [p0, p1) of one image's y [K, P] from its col B [C kh kw, P]
 * (in h's precision, as w). */
static int forward_cols(const conv_geom *q, const prec *h, const void *B, const void *w,
                        const cg_real *bias, cg_real *y, int p0, int p1)
{
    const int P = (int)q->P;
    int rc = CG_OK;
    /* The output starts as the bias and the product adds to it: no
     * separate pass for the bias, and no beta = 0 clearing pass. */
    for (int k = 0; k < q->K; k++) {
        cg_real *restrict yk = y + (size_t)k * P, bk = bias ? bias[k] : 0;
        for (int p = p0; p < p1; p++) yk[p] = bk;
    }
    for (int g = 0; g < q->G && !rc; g++)
        rc = conv_gemm(h, 0, 0, q->Kg, p1 - p0, q->ckk,
                       cg_operand_at(w, h->bf16, (size_t)g * q->Kg * q->ckk), q->ckk,
                       cg_operand_at(B, h->bf16, (size_t)g * q->ckk * P + p0), P, 1,
                       y + (size_t)g * q->Kg * P + p0, P);
    return rc;
}

/* Rows [r0, r1) of image x's col (or, pointwise, channels of x itself),
 * in bf16: colh. */
static void col_rows_bf16(const conv_geom *q, const cg_real *x, cg_real *col, uint16_t *colh,
                          int r0, int r1)
{
    const cg_real *src = x;
    if (!q->pointwise) {
        im2col_rows(q, x, col, r0, r1);
        src = col;
    }
    to_bf16(src + (size_t)r0 * q->P, colh + (size_t)r0 * q->P, (size_t)(r1 - r0) * q->P);
}

/* Below this many multiply-adds an image runs on one thread. */
#define CONV_SPLIT_MIN (1L << 18)

/* A batch smaller than the machine's parts (single-image inference): the
 * threads share each image instead, im2col split by rows of col, then the
 * products by the parts' blocks of output positions. Uses the first
 * group's buffers. */
static int forward_shared(cg_node *n, const conv_geom *q, const prec *h, const void *w, int T)
{
    const int parts = cg_thread_parts();
    const cg_real *bias = n->n_in > 2 ? n->in[2]->val : NULL;
    const size_t xs = (size_t)q->C * q->HW, ys = (size_t)q->K * q->P;
    /* Rows of col, or (pointwise, bf16) channels of the image. */
    const int rows = q->pointwise ? q->C : q->C * q->kh * q->kw;
    cg_real *col = n->scratch;
    uint16_t *colh = h->bf16 ? group_colh(q, n->scratch) : NULL;
    int rc = CG_OK;
    (void)T; /* only the pragma reads it: unused in a build without OpenMP */
    for (int i = 0; i < q->N && !rc; i++) {
        const cg_real *x = n->in[0]->val + (size_t)i * xs;
        const void *B = h->bf16 ? (const void *)colh : q->pointwise ? x : col;
        cg_real *y = n->val + (size_t)i * ys;
#pragma omp parallel num_threads(T)
        {
            const int nt = omp_get_num_threads(), t = omp_get_thread_num();
            int lo, hi;
            if (h->bf16 || !q->pointwise) {
                cg_block_aligned(rows, nt, t, 1, &lo, &hi);
                if (h->bf16)
                    col_rows_bf16(q, x, col, colh, lo, hi);
                else
                    im2col_rows(q, x, col, lo, hi);
#pragma omp barrier
            }
            for (int p = t * parts / nt; p < (t + 1) * parts / nt; p++) {
                cg_block((int)q->P, parts, p, &lo, &hi);
                if (lo < hi) keep_error(&rc, forward_cols(q, h, B, w, bias, y, lo, hi));
            }
        }
    }
    return rc;
}

/* The products' precision and W in it: in bf16, W converted once here
 * (over the threads when large) into the node's scratch. */
static const void *weights(cg_node *n, const conv_geom *q, prec *h)
{
    *h = (prec){uses_bf16(n), cg_graph_gemm_cache(n->g)};
    if (!h->bf16) return n->in[1]->val;
#ifndef CG_DOUBLE
    cg_to_bf16(n->in[1]->val, weight_h(n, q), (size_t)q->K * q->ckk);
#endif
    return weight_h(n, q);
}

static void forward_conv(cg_node *n)
{
    conv_geom q;
    conv_geometry(n, &q);
    prec h;
    const void *w = weights(n, &q, &h);
    const cg_real *x = n->in[0]->val;
    const cg_real *bias = n->n_in > 2 ? n->in[2]->val : NULL;
    const int T = group_threads(groups(n, &q)), now = omp_get_max_threads();
    int rc = CG_OK;
    if (q.N < cg_thread_parts() && q.P >= 2 * CG_BLOCK_ALIGN &&
        (long)q.K * q.ckk * (long)q.P >= CONV_SPLIT_MIN) {
        rc = forward_shared(n, &q, &h, w, omp_in_parallel() ? 1 : now);
    } else {
        const size_t xs = (size_t)q.C * q.HW, ys = (size_t)q.K * q.P, pt = per_thread(&q, h.bf16);
        const int rows = q.pointwise ? q.C : q.C * q.kh * q.kw;
#pragma omp parallel num_threads(T) if (T > 1)
        {
            const int t = omp_get_thread_num();
            int lo, hi;
            cg_block_aligned(q.N, omp_get_num_threads(), t, 1, &lo, &hi);
            cg_real *col = n->scratch + (size_t)t * pt;
            uint16_t *colh = h.bf16 ? group_colh(&q, col) : NULL;
            for (int i = lo; i < hi; i++) {
                const cg_real *xi = x + (size_t)i * xs;
                const void *B = xi;
                if (h.bf16) {
                    col_rows_bf16(&q, xi, col, colh, 0, rows);
                    B = colh;
                } else if (!q.pointwise) {
                    im2col(&q, xi, col);
                    B = col;
                }
                keep_error(&rc, forward_cols(&q, &h, B, w, bias, n->val + (size_t)i * ys, 0,
                                             (int)q.P));
            }
        }
    }
    if (rc) cg_node_fault(n, rc, "conv2d: %s", cg_last_error());
}

/* ---- backward ---- */

/* One image: dW partial += D col^T, dbias partial += row sums of D,
 * dx (=, or += when add) via col2im of W^T D. w in h's precision; in
 * bf16, colh and dh are the group's bf16 buffers. */
static int backward_image(const conv_geom *q, const prec *h, const cg_real *x, const void *w,
                          const cg_real *D, cg_real *col, uint16_t *colh, uint16_t *dh,
                          cg_real *dw, cg_real *db, cg_real *dx, int add)
{
    const int P = (int)q->P, ckk = q->ckk, Kg = q->Kg, hb = h->bf16;
    int rc = CG_OK;
    /* D in the products' precision: converted once for both. */
    const void *Dp = D;
    if (hb && (dw || dx)) {
        to_bf16(D, dh, (size_t)q->K * P);
        Dp = dh;
    }
    if (dw) {
        const void *B = x;
        if (hb) {
            col_rows_bf16(q, x, col, colh, 0, q->pointwise ? q->C : q->C * q->kh * q->kw);
            B = colh;
        } else if (!q->pointwise) {
            im2col(q, x, col);
            B = col;
        }
        for (int g = 0; g < q->G && !rc; g++)
            rc = conv_gemm(h, 0, 1, Kg, ckk, P, cg_operand_at(Dp, hb, (size_t)g * Kg * P), P,
                           cg_operand_at(B, hb, (size_t)g * ckk * P), P, 1,
                           dw + (size_t)g * Kg * ckk, ckk);
    }
    if (db)
        for (int k = 0; k < q->K; k++) {
            const cg_real *restrict dk = D + (size_t)k * P;
            cg_real s = 0;
            for (int p = 0; p < P; p++) s += dk[p];
            db[k] += s;
        }
    if (!dx || rc) return rc;
    /* Pointwise: dx is dcol, written by the product directly. */
    cg_real *dcol = q->pointwise ? dx : col;
    if (!q->pointwise || !add) memset(dcol, 0, (size_t)q->C * q->kh * q->kw * P * sizeof *dcol);
    for (int g = 0; g < q->G && !rc; g++)
        rc = conv_gemm(h, 1, 0, ckk, P, Kg, cg_operand_at(w, hb, (size_t)g * Kg * ckk), ckk,
                       cg_operand_at(Dp, hb, (size_t)g * Kg * P), P, 1,
                       dcol + (size_t)g * ckk * P, P);
    if (q->pointwise || rc) return rc;
    if (!add) memset(dx, 0, (size_t)q->C * q->HW * sizeof *dx);
    col2im(q, col, dx);
    return CG_OK;
}

/* g = (or += when add) the sum of the T partials part[t * stride + j]. */
static void sum_partials(const cg_real *part, int T, size_t stride, size_t len, int add,
                         cg_real *g)
{
    for (size_t j = 0; j < len; j++) {
        cg_real s = add ? g[j] : 0;
        for (int t = 0; t < T; t++) s += part[(size_t)t * stride + j];
        g[j] = s;
    }
}

static void backward_conv(cg_node *n)
{
    conv_geom q;
    conv_geometry(n, &q);
    cg_node *xn = n->in[0], *wn = n->in[1], *bn = n->n_in > 2 ? n->in[2] : NULL;
    /* W in bf16 is the forward's: W has not changed since. */
    const prec h = {uses_bf16(n), cg_graph_gemm_cache(n->g)};
    const void *w = h.bf16 ? (const void *)weight_h(n, &q) : wn->val;
    /* First writers overwrite (autodiff.c), decided before the threads. */
    const int add_x = xn->grad && !cg_grad_first(xn);
    const int add_w = wn->grad && !cg_grad_first(wn);
    const int add_b = bn && bn->grad && !cg_grad_first(bn);
    const int has_w = wn->grad != NULL, has_b = bn && bn->grad;
    const int G = groups(n, &q), T = group_threads(G);
    const size_t xs = (size_t)q.C * q.HW, ys = (size_t)q.K * q.P, pt = per_thread(&q, h.bf16);
    const size_t cl = col_len(&q), wl = (size_t)q.K * q.ckk;
    int rc = CG_OK;
    /* Group g's images, buffers and partials are g's whichever thread
     * runs it: the partials, summed in group order, do not depend on T. */
#pragma omp parallel num_threads(T) if (T > 1)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        for (int g = t * G / nt; g < (t + 1) * G / nt; g++) {
            int lo, hi;
            cg_block_aligned(q.N, G, g, 1, &lo, &hi);
            cg_real *col = n->scratch + (size_t)g * pt, *dw = col + cl, *db = dw + wl;
            uint16_t *colh = h.bf16 ? group_colh(&q, col) : NULL;
            uint16_t *dh = h.bf16 ? group_dh(&q, col) : NULL;
            memset(dw, 0, (wl + (size_t)q.K) * sizeof *dw);
            for (int i = lo; i < hi; i++)
                keep_error(&rc, backward_image(&q, &h, xn->val + (size_t)i * xs, w,
                                               n->grad + (size_t)i * ys, col, colh, dh,
                                               has_w ? dw : NULL, has_b ? db : NULL,
                                               xn->grad ? xn->grad + (size_t)i * xs : NULL,
                                               add_x));
        }
    }
    if (rc) {
        cg_node_fault(n, rc, "conv2d: %s", cg_last_error());
        return;
    }
    cg_real *part = n->scratch + cl;
    if (has_w) sum_partials(part, G, pt, wl, add_w, wn->grad);
    if (has_b) sum_partials(part + wl, G, pt, (size_t)q.K, add_b, bn->grad);
}

/* Arity -1: two inputs, or three with a bias. */
const cg_op_def cg_op_conv2d = {
    .name = "conv2d",
    .arity = -1,
    .infer_shape = infer_conv,
    .scratch_size = scratch_conv,
    .forward = forward_conv,
    .backward = backward_conv,
    .grad_overwrite = 1,
};

cg_node *cg_conv2d(cg_node *x, cg_node *w, cg_node *bias, int stride_h, int stride_w, int pad_h,
                   int pad_w, int dilation_h, int dilation_w, int groups)
{
    if (stride_h < 1 || stride_w < 1)
        return cg_error_null(CG_ERR_ARG, "conv2d: stride %d,%d must be at least 1", stride_h,
                             stride_w);
    if ((pad_h < 0 && pad_h != CG_PAD_SAME) || (pad_w < 0 && pad_w != CG_PAD_SAME))
        return cg_error_null(CG_ERR_ARG, "conv2d: padding %d,%d must be >= 0 or CG_PAD_SAME",
                             pad_h, pad_w);
    if (dilation_h < 1 || dilation_w < 1)
        return cg_error_null(CG_ERR_ARG, "conv2d: dilation %d,%d must be at least 1", dilation_h,
                             dilation_w);
    if (groups < 1) return cg_error_null(CG_ERR_ARG, "conv2d: groups %d must be at least 1", groups);
    cg_node *in[3] = {x, w, bias};
    int ip[7] = {stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups};
    return cg_node_new_op(&cg_op_conv2d, in, bias ? 3 : 2, ip, 7, NULL, 0);
}
