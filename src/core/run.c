/* SPDX-License-Identifier: MIT */
/* run.c: feeding placeholders and the forward walk. */
#include "node.h"

#include "omp_compat.h"
#include <stdio.h>
#include <string.h>

/* Below this many elements one thread copies: waking the others costs
 * more. Above, each copies a share, instead of leaving them waiting (a
 * batch of config A, 400 KB, took one thread 20-27 us). */
#define FEED_OMP_MIN (1L << 16)

static void copy_parallel(cg_real *dst, const cg_real *src, size_t n)
{
    if (n < (size_t)FEED_OMP_MIN) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
#pragma omp parallel
    {
        /* Shares in multiples of 16 values (a cache line of floats): no
         * line is written by two threads when dst is line-aligned. */
        const size_t T = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        const size_t share = (n / T + 15) / 16 * 16;
        const size_t lo = t * share < n ? t * share : n;
        const size_t hi = lo + share < n ? lo + share : n;
        if (lo < hi) memcpy(dst + lo, src + lo, (hi - lo) * sizeof *dst);
    }
}

static int set_batch(cg_graph *g, int n)
{
    if (g->batch != n) {
        g->batch = n;
        g->planned = 0;
    }
    return g->planned ? CG_OK : cg_graph_plan(g);
}

cg_real *cg_feed_buffer(cg_node *p, int n)
{
    char lbl[96];
    if (!p) return cg_error_null(CG_ERR_ARG, "cg_feed: placeholder is NULL");
    if (p->kind != CG_KIND_PLACEHOLDER)
        return cg_error_null(CG_ERR_ARG, "cg_feed: node %s is a %s, not a placeholder",
                             cg_node_label(p, lbl, sizeof lbl), cg_node_op(p));
    cg_graph *g = p->g;
    int open = p->ndim > 0 && p->decl[0] == CG_BATCH;
    if (open) {
        if (n <= 0)
            return cg_error_null(CG_ERR_SHAPE, "cg_feed: placeholder %s: batch size %d must be positive",
                                 cg_node_label(p, lbl, sizeof lbl), n);
        if (set_batch(g, n)) return NULL;
    } else {
        int rows = p->ndim > 0 ? p->decl[0] : 1;
        if (n != rows)
            return cg_error_null(CG_ERR_SHAPE, "cg_feed: placeholder %s has %d rows, %d fed",
                                 cg_node_label(p, lbl, sizeof lbl), rows, n);
        if (!g->planned && cg_graph_plan(g)) return NULL;
    }
    p->fed = 1;
    return p->val;
}

int cg_feed(cg_node *p, const cg_real *data, int n)
{
    if (!data) return cg_error(CG_ERR_ARG, "cg_feed: data is NULL");
    cg_real *dst = cg_feed_buffer(p, n);
    if (!dst) return cg_last_error_code();
    copy_parallel(dst, data, p->size);
    return CG_OK;
}

int cg_feed_by_name(cg_graph *g, const char *name, const cg_real *data, int n)
{
    if (!g || !name) return cg_error(CG_ERR_ARG, "cg_feed_by_name: NULL argument");
    cg_node *p = cg_graph_find(g, name);
    if (!p) return cg_error(CG_ERR_ARG, "cg_feed_by_name: no node named '%s'", name);
    return cg_feed(p, data, n);
}

/* Stamp n and everything it depends on with a fresh mark. */
unsigned cg_mark_ancestors(cg_node *n)
{
    cg_graph *g = n->g;
    unsigned s = ++g->stamp;
    n->mark = s;
    for (int i = n->id; i >= 0; i--) {
        cg_node *m = g->nodes[i];
        if (m->mark != s) continue;
        for (int j = 0; j < m->n_in; j++) m->in[j]->mark = s;
    }
    return s;
}

int cg_forward(cg_node *n)
{
    if (!n) return cg_error(CG_ERR_ARG, "cg_forward: node is NULL");
    cg_graph *g = n->g;
    if (!g->planned && cg_graph_plan(g)) return cg_last_error_code();
    unsigned s = cg_mark_ancestors(n);
    char lbl[96];
    for (int i = 0; i <= n->id; i++) {
        cg_node *m = g->nodes[i];
        if (m->mark == s && m->kind == CG_KIND_PLACEHOLDER && !m->fed)
            return cg_error(CG_ERR_STATE, "placeholder %s was not fed",
                            cg_node_label(m, lbl, sizeof lbl));
    }
    for (int i = 0; i <= n->id; i++) {
        cg_node *m = g->nodes[i];
        /* A fused node is computed by its producer's forward (plan.c). */
        if (m->mark == s && m->kind == CG_KIND_OP && !m->fused_in) {
            cg_run_forward(m);
            if (g->fault) {
                int code = g->fault;
                g->fault = 0;
                return code;
            }
        }
    }
    return CG_OK;
}

void cg_node_fault(cg_node *n, int code, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Only the first fault of a run is kept: it is the cause. */
    if (!n->g->fault) {
        n->g->fault = code;
        cg_error(code, "%s", msg);
    }
}
