/* SPDX-License-Identifier: MIT */
/* permute.c: out's axis k is x's axis perm[k] (torch.permute,
 * numpy.transpose(x, perm)); transpose swaps the last two axes. Element
 * out[i_0, .., i_{d-1}] = x[...] with index i_k on x's axis perm[k]: the
 * loop walks out in order and reads x through x's strides taken in out's
 * axis order. Each x element is read once, so the backward (the inverse
 * permutation) writes every gradient element once, in parallel. */
#include "ops.h"

/* ip[0] = ndim, ip[1 + k] = perm[k]. */
static int infer_permute(cg_node *n)
{
    const cg_node *x = n->in[0];
    const int nd = n->ip[0];
    char s[96];
    if (nd != x->ndim)
        return cg_error(CG_ERR_SHAPE, "permute: %d axes given for %s, which has %d", nd,
                        cg_shape_str(x, s, sizeof s), x->ndim);
    int seen[CG_MAX_DIMS] = {0};
    for (int k = 0; k < nd; k++) {
        int p = n->ip[1 + k];
        if (p < 0 || p >= nd || seen[p]++)
            return cg_error(CG_ERR_ARG, "permute: entry %d (%d) makes the axes no permutation "
                            "of 0..%d", k, p, nd - 1);
    }
    n->ndim = nd;
    for (int k = 0; k < nd; k++) n->shape[k] = x->shape[n->ip[1 + k]];
    return CG_OK;
}

/* x's strides in out's axis order. */
static void permuted_strides(const cg_node *n, size_t *st)
{
    const cg_node *x = n->in[0];
    size_t xs[CG_MAX_DIMS], s = 1;
    for (int i = x->ndim - 1; i >= 0; i--) {
        xs[i] = s;
        s *= (size_t)x->shape[i];
    }
    for (int k = 0; k < n->ndim; k++) st[k] = xs[n->ip[1 + k]];
}

/* Offset in x of out's row r (out seen as [rows, last dim]). */
static size_t row_offset(const cg_node *n, const size_t *st, size_t r)
{
    size_t o = 0;
    for (int d = n->ndim - 2; d >= 0; d--) {
        o += (r % (size_t)n->shape[d]) * st[d];
        r /= (size_t)n->shape[d];
    }
    return o;
}

static void forward_permute(cg_node *n)
{
    size_t st[CG_MAX_DIMS];
    permuted_strides(n, st);
    const size_t cols = n->ndim ? (size_t)n->shape[n->ndim - 1] : 1;
    const size_t cs = n->ndim ? st[n->ndim - 1] : 1;
    const long R = (long)(n->size / cols);
    const cg_real *x = n->in[0]->val;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        const cg_real *xr = x + row_offset(n, st, (size_t)r);
        cg_real *y = n->val + (size_t)r * cols;
        for (size_t c = 0; c < cols; c++) y[c] = xr[c * cs];
    }
}

static void backward_permute(cg_node *n)
{
    size_t st[CG_MAX_DIMS];
    permuted_strides(n, st);
    const size_t cols = n->ndim ? (size_t)n->shape[n->ndim - 1] : 1;
    const size_t cs = n->ndim ? st[n->ndim - 1] : 1;
    const long R = (long)(n->size / cols);
    cg_real *gx = n->in[0]->grad;
#pragma omp parallel for if (n->size > CG_OMP_MIN) schedule(static)
    for (long r = 0; r < R; r++) {
        cg_real *gr = gx + row_offset(n, st, (size_t)r);
        const cg_real *g = n->grad + (size_t)r * cols;
        for (size_t c = 0; c < cols; c++) gr[c * cs] += g[c];
    }
}

const cg_op_def cg_op_permute = {
    .name = "permute",
    .arity = 1,
    .infer_shape = infer_permute,
    .forward = forward_permute,
    .backward = backward_permute,
};

cg_node *cg_permute(cg_node *a, int ndim, const int *perm)
{
    if (ndim < 0 || ndim > CG_MAX_DIMS || (ndim && !perm))
        return cg_error_null(CG_ERR_ARG, "permute: %d axes%s (0..%d)", ndim,
                             ndim && !perm ? " and perm is NULL" : "", CG_MAX_DIMS);
    int ip[1 + CG_MAX_DIMS] = {ndim};
    for (int k = 0; k < ndim; k++) ip[1 + k] = perm[k];
    return cg_node_new_op(&cg_op_permute, &a, 1, ip, 1 + ndim, NULL, 0);
}

cg_node *cg_transpose(cg_node *a)
{
    if (!a) return cg_permute(a, 0, NULL);
    if (a->ndim < 2) {
        char s[96];
        return cg_error_null(CG_ERR_SHAPE, "transpose: %s has fewer than 2 axes",
                             cg_shape_str(a, s, sizeof s));
    }
    int perm[CG_MAX_DIMS];
    for (int k = 0; k < a->ndim; k++) perm[k] = k;
    perm[a->ndim - 2] = a->ndim - 1;
    perm[a->ndim - 1] = a->ndim - 2;
    return cg_permute(a, a->ndim, perm);
}
