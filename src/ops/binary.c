/* SPDX-License-Identifier: MIT */
/* binary.c: add, sub, mul, div, maximum, minimum with NumPy broadcasting.
 *
 * Fast broadcast modes of an input against the output [rows, cols]:
 *   SAME   the same shape;       element (r, c) is x[r*cols + c]
 *   SCALAR one element;          always x[0]
 *   ROW    [cols] or [1, cols];  x[c]   (a bias added to every row)
 *   COL    [rows, 1];            x[r]   (e.g. a per-row max)
 * Each row of an input is then a base pointer plus a stride of 0 or 1.
 * Any other pair of shapes that NumPy broadcasts (trailing dimensions
 * aligned, a size-1 or missing dimension stretched) is GENERAL: a strided
 * loop (broadcast.c). In backward, a broadcast input sums the gradient
 * over what it was spread.
 *
 * maximum/minimum at a tie (a == b) give each side half the gradient, as
 * PyTorch's torch.maximum does; that is also what a central difference
 * measures there. A NaN on either side gives NaN, as there too. */
#include "ops.h"

#include "omp_compat.h"

enum { BC_SAME, BC_SCALAR, BC_ROW, BC_COL, BC_GENERAL };
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN };

static void forward_general(cg_node *n);
static void backward_general(cg_node *n);

static int is_row_of(const cg_node *v, const cg_node *m)
{
    if (m->ndim < 2) return 0;
    int c = cg_cols(m);
    return (v->ndim == 1 && v->shape[0] == c) ||
           (v->ndim == 2 && v->shape[0] == 1 && v->shape[1] == c);
}

static int is_col_of(const cg_node *v, const cg_node *m)
{
    return m->ndim == 2 && v->ndim == 2 && v->shape[1] == 1 && v->shape[0] == m->shape[0];
}

/* A one-element s against x: the output has x's shape only when s has no
 * more dimensions than x (NumPy: [4] + [1, 1, 1] is [1, 1, 4]). */
static int is_scalar_of(const cg_node *s, const cg_node *x)
{
    return s->ndim <= x->ndim && cg_shape_size(s->ndim, s->shape) == 1;
}

static int infer_binary(cg_node *n)
{
    const cg_node *a = n->in[0], *b = n->in[1];
    int ma, mb;
    const cg_node *big;
    if (cg_dims_equal(a, b)) { ma = mb = BC_SAME; big = a; }
    else if (is_scalar_of(b, a)) { ma = BC_SAME; mb = BC_SCALAR; big = a; }
    else if (is_scalar_of(a, b)) { ma = BC_SCALAR; mb = BC_SAME; big = b; }
    else if (is_row_of(b, a)) { ma = BC_SAME; mb = BC_ROW; big = a; }
    else if (is_row_of(a, b)) { ma = BC_ROW; mb = BC_SAME; big = b; }
    else if (is_col_of(b, a)) { ma = BC_SAME; mb = BC_COL; big = a; }
    else if (is_col_of(a, b)) { ma = BC_COL; mb = BC_SAME; big = b; }
    else {
        n->ip[0] = n->ip[1] = BC_GENERAL;
        return cg_broadcast_shape(n, a, b);
    }
    n->ip[0] = ma;
    n->ip[1] = mb;
    cg_copy_shape(n, big);
    return CG_OK;
}

/* Row r of an input in mode m: base pointer and stride. */
static inline const cg_real *row_base(const cg_real *x, int m, size_t r, size_t cols, int *stride)
{
    switch (m) {
    case BC_SAME: *stride = 1; return x + r * cols;
    case BC_ROW: *stride = 1; return x;
    case BC_COL: *stride = 0; return x + r;
    default: *stride = 0; return x;
    }
}

static void shape_rc(const cg_node *n, size_t *rows, size_t *cols)
{
    *cols = n->ndim ? (size_t)cg_cols(n) : 1;
    *rows = *cols ? n->size / *cols : 0;
}

static inline cg_real apply(int op, cg_real x, cg_real y)
{
    switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    case OP_DIV: return x / y;
    /* A NaN on either side wins, as in torch.maximum. */
    case OP_MAX: return x >= y || x != x ? x : y;
    default: return x <= y || x != x ? x : y;
    }
}

/* x [rows, cols] + bias [cols]: a dense layer's bias, the hot case, in
 * loops simple enough to vectorise. */
static int is_bias_add(const cg_node *n)
{
    return n->ip[2] == OP_ADD && n->ip[0] == BC_SAME && n->ip[1] == BC_ROW;
}

static void forward_bias_add(cg_node *n)
{
    size_t rows, cols;
    shape_rc(n, &rows, &cols);
    const cg_real *restrict b = n->in[1]->val;
    const long R = (long)rows;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        const cg_real *restrict x = n->in[0]->val + (size_t)r * cols;
        cg_real *restrict y = n->val + (size_t)r * cols;
        for (size_t c = 0; c < cols; c++) y[c] = x[c] + b[c];
    }
}

/* Fused after a 2-D producer (plan.c): the bias add, block by block. */
static int blockwise_binary(const cg_node *n) { return n->ndim == 2 && is_bias_add(n); }

static void block_bias_add(cg_node *n, int r0, int r1, int c0, int c1)
{
    const size_t cols = (size_t)n->shape[1];
    const cg_real *restrict b = n->in[1]->val;
    for (size_t r = (size_t)r0; r < (size_t)r1; r++) {
        const cg_real *restrict x = n->in[0]->val + r * cols;
        cg_real *restrict y = n->val + r * cols;
        for (size_t c = (size_t)c0; c < (size_t)c1; c++) y[c] = x[c] + b[c];
    }
}

/* Columns [c0, c1) of dx and dbias, every row, dbias summed row by row in
 * order; in[j]'s gradient written (=) where n->bfirst[j], else added to.
 * Run by backward_bias_add and by the product after the add (plan.c). */
static void backward_block_bias_add(cg_node *n, int c0, int c1)
{
    size_t rows, cols;
    shape_rc(n, &rows, &cols);
    const cg_real *restrict g = n->grad;
    cg_real *gx = n->in[0]->grad, *restrict gb = n->in[1]->grad;
    if (gx && gx != g) /* else x shares this gradient (plan.c) */
        for (size_t r = 0; r < rows; r++) {
            const cg_real *restrict gr = g + r * cols;
            cg_real *restrict xr = gx + r * cols;
            if (n->bfirst[0])
                for (size_t c = (size_t)c0; c < (size_t)c1; c++) xr[c] = gr[c];
            else
                for (size_t c = (size_t)c0; c < (size_t)c1; c++) xr[c] += gr[c];
        }
    if (gb) {
        size_t r = 0;
        if (n->bfirst[1]) {
            for (size_t c = (size_t)c0; c < (size_t)c1; c++) gb[c] = g[c];
            r = 1;
        }
        for (; r < rows; r++) {
            const cg_real *restrict gr = g + r * cols;
            for (size_t c = (size_t)c0; c < (size_t)c1; c++) gb[c] += gr[c];
        }
    }
}

/* A bias add passes its gradient to x unchanged: x may share it. */
static int grad_passes_binary(const cg_node *n) { return is_bias_add(n); }

/* dx += g; dbias += the column sums of g: backward_block_bias_add over
 * blocks of columns. A first writer (autodiff.c) copies instead of adding
 * to what it holds. */
static void backward_bias_add(cg_node *n)
{
    for (int j = 0; j < 2; j++) n->bfirst[j] = n->in[j]->grad ? cg_grad_first(n->in[j]) : 0;
    const int cols = cg_cols(n);
#pragma omp parallel if (n->size > CG_OMP_MIN && cols >= 2 * CG_BLOCK_ALIGN)
    {
        int lo, hi;
        cg_block(cols, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
        if (lo < hi) backward_block_bias_add(n, lo, hi);
    }
}

static void forward_binary(cg_node *n)
{
    const int op = n->ip[2];
    const cg_real *a = n->in[0]->val, *b = n->in[1]->val;
    cg_real *y = n->val;
    if (is_bias_add(n)) {
        forward_bias_add(n);
        return;
    }
    if (n->ip[0] == BC_GENERAL) {
        forward_general(n);
        return;
    }
    if (n->ip[0] == BC_SAME && n->ip[1] == BC_SAME) {
        const long N = (long)n->size;
#pragma omp parallel for if (N > CG_OMP_MIN) schedule(static)
        for (long i = 0; i < N; i++) y[i] = apply(op, a[i], b[i]);
        return;
    }
    size_t rows, cols;
    shape_rc(n, &rows, &cols);
    const long R = (long)rows;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        int sa, sb;
        const cg_real *ar = row_base(a, n->ip[0], (size_t)r, cols, &sa);
        const cg_real *br = row_base(b, n->ip[1], (size_t)r, cols, &sb);
        cg_real *yr = y + (size_t)r * cols;
        for (size_t c = 0; c < cols; c++) yr[c] = apply(op, ar[c * (size_t)sa], br[c * (size_t)sb]);
    }
}

/* d(out)/d(a) and d(out)/d(b) times the upstream gradient g; a tie of
 * maximum/minimum splits g evenly. */
static inline cg_real partial_a(int op, cg_real g, cg_real a, cg_real b)
{
    switch (op) {
    case OP_MUL: return g * b;
    case OP_DIV: return g / b;
    case OP_MAX: return a > b ? g : a == b ? g / 2 : 0;
    case OP_MIN: return a < b ? g : a == b ? g / 2 : 0;
    default: return g;
    }
}

static inline cg_real partial_b(int op, cg_real g, cg_real a, cg_real b)
{
    switch (op) {
    case OP_ADD: return g;
    case OP_SUB: return -g;
    case OP_MUL: return g * a;
    case OP_DIV: return -g * a / (b * b);
    case OP_MAX: return b > a ? g : a == b ? g / 2 : 0;
    default: return b < a ? g : a == b ? g / 2 : 0;
    }
}

/* ---- the general case: any NumPy-compatible pair of shapes ---- */

/* Offsets into a and b of the first element of output row r (the output
 * seen as [rows, last dim]), from the broadcast strides sa, sb. */
static void row_offsets(const cg_node *n, const size_t *sa, const size_t *sb, size_t r,
                        size_t *oa, size_t *ob)
{
    *oa = *ob = 0;
    for (int d = n->ndim - 2; d >= 0; d--) {
        size_t i = r % (size_t)n->shape[d];
        r /= (size_t)n->shape[d];
        *oa += i * sa[d];
        *ob += i * sb[d];
    }
}

static void forward_general(cg_node *n)
{
    size_t sa[CG_MAX_DIMS], sb[CG_MAX_DIMS];
    cg_broadcast_strides(n->in[0], n, sa);
    cg_broadcast_strides(n->in[1], n, sb);
    const int op = n->ip[2], last = n->ndim - 1;
    const size_t cols = (size_t)n->shape[last], ca = sa[last], cb = sb[last];
    const cg_real *a = n->in[0]->val, *b = n->in[1]->val;
    const long R = cols ? (long)(n->size / cols) : 0;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        size_t oa, ob;
        row_offsets(n, sa, sb, (size_t)r, &oa, &ob);
        cg_real *y = n->val + (size_t)r * cols;
        for (size_t c = 0; c < cols; c++) y[c] = apply(op, a[oa + c * ca], b[ob + c * cb]);
    }
}

/* Serial: rows of a broadcast input's gradient receive from many output
 * rows. The inputs' gradients were zeroed (or hold earlier terms). */
static void backward_general(cg_node *n)
{
    size_t sa[CG_MAX_DIMS], sb[CG_MAX_DIMS];
    cg_broadcast_strides(n->in[0], n, sa);
    cg_broadcast_strides(n->in[1], n, sb);
    const int op = n->ip[2], last = n->ndim - 1;
    const size_t cols = (size_t)n->shape[last], ca = sa[last], cb = sb[last];
    const cg_real *a = n->in[0]->val, *b = n->in[1]->val;
    cg_real *ga = n->in[0]->grad, *gb = n->in[1]->grad;
    const size_t R = cols ? n->size / cols : 0;
    for (size_t r = 0; r < R; r++) {
        size_t oa, ob;
        row_offsets(n, sa, sb, r, &oa, &ob);
        const cg_real *g = n->grad + r * cols;
        for (size_t c = 0; c < cols; c++) {
            cg_real x = a[oa + c * ca], y = b[ob + c * cb];
            if (ga) ga[oa + c * ca] += partial_a(op, g[c], x, y);
            if (gb) gb[ob + c * cb] += partial_b(op, g[c], x, y);
        }
    }
}

static void backward_binary(cg_node *n)
{
    if (is_bias_add(n)) {
        backward_bias_add(n);
        return;
    }
    const int op = n->ip[2];
    cg_node *A = n->in[0], *B = n->in[1];
    cg_grad_prepare(A);
    cg_grad_prepare(B);
    if (n->ip[0] == BC_GENERAL) {
        backward_general(n);
        return;
    }
    const cg_real *a = A->val, *b = B->val, *g = n->grad;
    cg_real *ga = A->grad, *gb = B->grad;
    size_t rows, cols;
    shape_rc(n, &rows, &cols);
    /* Rows write disjoint gradient slices unless an input is spread over
     * rows (SCALAR, ROW): then the rows sum into one place, serially. */
    int spread = n->ip[0] == BC_SCALAR || n->ip[0] == BC_ROW || n->ip[1] == BC_SCALAR ||
                 n->ip[1] == BC_ROW;
    const long R = (long)rows;
#pragma omp parallel for if (!spread && n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        int sa, sb;
        const cg_real *ar = row_base(a, n->ip[0], (size_t)r, cols, &sa);
        const cg_real *br = row_base(b, n->ip[1], (size_t)r, cols, &sb);
        const cg_real *gr = g + (size_t)r * cols;
        if (ga) {
            cg_real *gar = (cg_real *)row_base(ga, n->ip[0], (size_t)r, cols, &sa);
            for (size_t c = 0; c < cols; c++)
                gar[c * (size_t)sa] += partial_a(op, gr[c], ar[c * (size_t)sa], br[c * (size_t)sb]);
        }
        if (gb) {
            cg_real *gbr = (cg_real *)row_base(gb, n->ip[1], (size_t)r, cols, &sb);
            for (size_t c = 0; c < cols; c++)
                gbr[c * (size_t)sb] += partial_b(op, gr[c], ar[c * (size_t)sa], br[c * (size_t)sb]);
        }
    }
}

#define BINARY_OP(NAME, KIND)                                                      \
    const cg_op_def cg_op_##NAME = {                                               \
        .name = #NAME,                                                             \
        .arity = 2,                                                                \
        .infer_shape = infer_binary,                                               \
        .forward = forward_binary,                                                 \
        .backward = backward_binary,                                               \
        .grad_overwrite = 1,                                                       \
        .blockwise = blockwise_binary,                                             \
        .forward_block = block_bias_add,                                           \
        .grad_passes = grad_passes_binary,                                         \
        .backward_block = backward_block_bias_add,                                 \
    };                                                                             \
    cg_node *cg_##NAME(cg_node *a, cg_node *b)                                     \
    {                                                                              \
        cg_node *in[2] = {a, b};                                                   \
        int ip[3] = {0, 0, KIND};                                                  \
        return cg_node_new_op(&cg_op_##NAME, in, 2, ip, 3, NULL, 0);               \
    }

BINARY_OP(add, OP_ADD)
BINARY_OP(sub, OP_SUB)
BINARY_OP(mul, OP_MUL)
BINARY_OP(div, OP_DIV)
BINARY_OP(maximum, OP_MAX)
BINARY_OP(minimum, OP_MIN)
