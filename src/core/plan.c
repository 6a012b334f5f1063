/* SPDX-License-Identifier: MIT */
/* plan.c: memory planning. Once per batch size, every node's shape is
 * re-inferred and its value, gradient and scratch get a slice of one arena,
 * so running the graph never allocates. */
#include "node.h"

#include <string.h>

/* 64-byte slices: whole cache lines, and aligned for SIMD loads. */
static size_t round_up(size_t n) { return (n + 7) & ~(size_t)7; }

/* An open placeholder takes the batch size; before any batch is known it
 * stays unresolved (size -1), and so does every op that depends on it:
 * they get no memory until the first feed sets the batch. cg_forward
 * refuses to run them (the placeholder was not fed). */
static void resolve_placeholder(cg_graph *g, cg_node *n)
{
    memcpy(n->shape, n->decl, sizeof n->shape);
    if (n->ndim > 0 && n->decl[0] == CG_BATCH && g->batch > 0) n->shape[0] = g->batch;
    n->size = cg_shape_size(n->ndim, n->shape);
}

static int unresolved(const cg_node *n) { return n->size == (size_t)-1; }

/* Where n's value starts inside in[0]'s when n is a view (node.h). */
static size_t view_offset(const cg_node *n)
{
    return n->op->view && n->n_in ? n->op->view(n) : CG_NOT_A_VIEW;
}

void cg_threads_default(void); /* threads.c */

/* Fusion: after an op that writes its [rows, cols] output block by block
 * on its threads (runs_fused: a product, batch norm), the elementwise ops
 * that follow it (a bias add, an activation) run on each block as soon as
 * it is written, in the same threads, instead of in passes of their own
 * that would fetch the blocks back from the other core's cache. A chain
 * holds consecutive ops only (leaves between them run nothing), each
 * taking the previous one's output as its first input; their other inputs
 * are leaves or earlier nodes, all ready when the producer runs. Each
 * fused node still gets its own value. */
static void plan_fusion(cg_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        n->fused = n->fused_next = NULL;
        n->fused_in = 0;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *p = g->nodes[i];
        if (p->kind != CG_KIND_OP || !p->op->runs_fused || !p->val || p->ndim != 2) continue;
        cg_node *last = p, **link = &p->fused;
        for (int j = i + 1; j < g->n_nodes; j++) {
            cg_node *e = g->nodes[j];
            if (e->kind != CG_KIND_OP) continue;
            if (e->in[0] != last || !e->op->forward_block || !e->op->blockwise ||
                !e->op->blockwise(e) || !e->val ||
                e->shape[0] != p->shape[0] || e->shape[1] != p->shape[1])
                break;
            *link = e;
            link = &e->fused_next;
            e->fused_in = 1;
            last = e;
        }
    }
}

/* A node whose only consumer passes its gradient through unchanged (a bias
 * add: d(x + b)/dx = 1) shares that consumer's gradient buffer instead of
 * receiving a copy of it; the op's backward sees the shared buffer and
 * only marks the gradient written (binary.c). Only for a single consumer:
 * another would add into the shared buffer before the bias add read it. */
static int consumers(const cg_graph *g, const cg_node *p)
{
    int k = 0;
    for (int i = p->id + 1; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i]->n_in; j++) k += g->nodes[i]->in[j] == p;
    return k;
}

static void plan_grad_sharing(cg_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *e = g->nodes[i], *p = e->n_in ? e->in[0] : NULL;
        if (e->kind != CG_KIND_OP || !e->op->grad_passes || !e->op->grad_passes(e) || !e->grad ||
            !p || p->kind != CG_KIND_OP || !p->grad || p->size != e->size || consumers(g, p) != 1)
            continue;
        p->grad = e->grad;
    }
}

/* Backward fusion: a product's input gradient is final once the product's
 * backward has written it when the product is that input's only consumer
 * (using it once); then the input's own backward can run on each block of
 * columns as it is written, and so on down a chain of single-consumer ops
 * that work column by column (a ReLU, a batch norm or bias add before it).
 * Those nodes are skipped by the backward walk (autodiff.c). */
static void plan_backward_fusion(cg_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        n->bfused = n->bfused_next = NULL;
        n->bfused_in = 0;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *p = g->nodes[i];
        if (p->kind != CG_KIND_OP || !p->op->runs_bfused || !p->n_in) continue;
        cg_node *last = p, **link = &p->bfused;
        for (cg_node *e = p->in[0]; e->kind == CG_KIND_OP; e = e->in[0]) {
            int uses = 0;
            for (int j = 0; j < last->n_in; j++) uses += last->in[j] == e;
            if (uses != 1 || consumers(g, e) != 1 || !e->grad || !e->op->backward_block ||
                !e->op->blockwise || !e->op->blockwise(e) || e->bfused_in || e->ndim != 2 ||
                e->shape[0] != p->in[0]->shape[0] || e->shape[1] != p->in[0]->shape[1])
                break;
            *link = e;
            link = &e->bfused_next;
            e->bfused_in = 1;
            last = e;
        }
    }
}

int cg_graph_plan(cg_graph *g)
{
    cg_threads_default();
    size_t total = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        if (n->kind == CG_KIND_PLACEHOLDER) {
            if (n->own) continue; /* fixed shape: its own memory */
            resolve_placeholder(g, n);
            if (!unresolved(n)) total += round_up(n->size);
        } else if (n->kind == CG_KIND_OP) {
            if (n->op->infer_shape(n) != CG_OK) return cg_last_error_code();
            n->size = cg_shape_size(n->ndim, n->shape);
            for (int j = 0; j < n->n_in; j++)
                if (unresolved(n->in[j])) n->size = (size_t)-1;
            if (unresolved(n)) continue;
            n->scratch_len = n->op->scratch_size ? n->op->scratch_size(n) : 0;
            total += round_up(n->size) * ((n->needs_grad ? 1 : 0) +
                                          (view_offset(n) == CG_NOT_A_VIEW ? 1 : 0)) +
                     round_up(n->scratch_len);
        }
    }
    if (total > g->arena_cap) {
        /* Aligned to 64 bytes: freed with cg_free like everything else. */
        cg_real *a = cg_realloc(g->arena, total * sizeof(cg_real) + 64);
        if (!a) return cg_error(CG_ERR_MEMORY, "plan: out of memory for %zu values", total);
        g->arena = a;
        g->arena_cap = total;
    }
    cg_real *p = g->arena;
    if (total) memset(p, 0, total * sizeof(cg_real));
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        if (n->kind == CG_KIND_PLACEHOLDER) {
            if (n->own) continue;
            n->fed = 0;
            if (unresolved(n)) { n->val = NULL; continue; }
            n->val = p;
            p += round_up(n->size);
        } else if (n->kind == CG_KIND_OP) {
            if (unresolved(n)) {
                n->val = n->grad = n->scratch = NULL;
                n->scratch_len = 0;
                continue;
            }
            size_t at = view_offset(n);
            if (at != CG_NOT_A_VIEW) {
                n->val = n->in[0]->val + at;
            } else {
                n->val = p;
                p += round_up(n->size);
            }
            n->grad = NULL;
            if (n->needs_grad) {
                n->grad = p;
                p += round_up(n->size);
            }
            n->scratch = n->scratch_len ? p : NULL;
            p += round_up(n->scratch_len);
        }
    }
    plan_fusion(g);
    plan_grad_sharing(g);
    plan_backward_fusion(g);
    g->planned = 1;
    return CG_OK;
}
