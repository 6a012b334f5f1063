/* SPDX-License-Identifier: MIT */
/* broadcast.c: NumPy's broadcasting rule, shared by the elementwise binary
 * ops (binary.c). Shapes are aligned at their trailing dimensions; a
 * dimension of size 1, or a missing leading one, stretches to the other's.
 * The open batch dimension (-1) matches -1 or 1, never a fixed size > 1:
 * whether that fits is unknown until the batch is fed. */
#include "ops.h"

#include <stdio.h>

static void dim_str(int d, char *buf, size_t len)
{
    if (d < 0) snprintf(buf, len, "batch");
    else snprintf(buf, len, "%d", d);
}

int cg_broadcast_shape(cg_node *n, const cg_node *a, const cg_node *b)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; i++) {
        /* Dimension i of the output is dimension i - (nd - ndim) of each. */
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da == db || db == 1) n->shape[i] = da;
        else if (da == 1) n->shape[i] = db;
        else {
            char sa[96], sb[96], xa[16], xb[16];
            dim_str(da, xa, sizeof xa);
            dim_str(db, xb, sizeof xb);
            return cg_error(CG_ERR_SHAPE,
                            "%s: shapes %s and %s do not broadcast (dimension %d of the "
                            "result: %s against %s; aligned from the last, each pair must be "
                            "equal or contain a 1)",
                            n->op->name, cg_shape_str(a, sa, sizeof sa),
                            cg_shape_str(b, sb, sizeof sb), i, xa, xb);
        }
    }
    n->ndim = nd;
    return CG_OK;
}

void cg_broadcast_strides(const cg_node *x, const cg_node *out, size_t *strides)
{
    size_t s = 1;
    for (int i = out->ndim - 1; i >= 0; i--) {
        int ix = i - (out->ndim - x->ndim);
        int d = ix >= 0 ? x->shape[ix] : 1;
        strides[i] = d == 1 && out->shape[i] != 1 ? 0 : s;
        if (ix >= 0) s *= (size_t)d;
    }
}
