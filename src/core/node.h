/* SPDX-License-Identifier: MIT */
/* node.h: the graph's data structures, shared by core and ops (not users).
 *
 * A graph is an array of nodes in creation order, which is a topological
 * order: a node's inputs always exist before it. Forward walks the array
 * forwards, backward walks it backwards. */
#ifndef CG_NODE_H
#define CG_NODE_H

#include "internal.h"

#include <string.h>

#define CG_MAX_INPUTS 5
#define CG_MAX_IPARAMS 8

/* An op is data: shape rule, forward and backward, side by side in one
 * file under src/ops/. The graph code never knows ops by name. */
typedef struct cg_op_def {
    const char *name;
    int arity;
    /* Set n->ndim and n->shape from the inputs' shapes; return CG_OK or an
     * error (with message). Called when the node is built, with the batch
     * dimension unknown (-1), and again whenever memory is planned. */
    int (*infer_shape)(cg_node *n);
    /* Extra planned memory (in cg_real) the op needs, given n's shape. */
    size_t (*scratch_size)(const cg_node *n);
    void (*forward)(cg_node *n);
    /* Add n's contribution to the gradient of each input whose grad is not
     * NULL. NULL for ops without a gradient (argmax). */
    void (*backward)(cg_node *n);
    /* Gradients are zeroed lazily (autodiff.c). An op that sets this writes
     * an input's gradient with = when cg_grad_first says it is the first
     * writer of the pass, and adds to it otherwise; for the other ops,
     * autodiff zeroes the inputs' gradients before their backward runs. */
    int grad_overwrite;
    /* Fusion (plan.c): an elementwise op whose output block depends only on
     * the same block of in[0] (and on leaves) runs inside the threads of the
     * op that produces in[0], block by block, while the block is still in
     * that core's cache, instead of in a pass of its own. blockwise says
     * whether node n can (NULL: never); forward_block computes rows
     * [r0, r1) x columns [c0, c1) of n's [rows, cols] output. */
    int (*blockwise)(const cg_node *n);
    void (*forward_block)(cg_node *n, int r0, int r1, int c0, int c1);
    /* The op's forward calls cg_run_fused on every block it writes. */
    int runs_fused;
    /* Node n passes its gradient to in[0] unchanged (a bias add): in[0]
     * may share n's gradient buffer (plan.c). NULL: never. */
    int (*grad_passes)(const cg_node *n);
    /* Backward fusion (plan.c), the mirror of the forward's: once a
     * product has written a block of columns of its input's gradient, the
     * ops before it that work column by column (an activation, a bias add,
     * a batch norm) run their backward on those columns, all rows, in the
     * same thread.
     * backward_block does columns [c0, c1) of n's gradient, writing in[j]'s
     * with = where n->bfirst[j] (the first writer, decided beforehand).
     * blockwise (above) says whether node n may join such a chain. */
    void (*backward_block)(cg_node *n, int c0, int c1);
    /* The op's backward calls cg_run_bfused on every block of columns of
     * in[0]'s gradient it writes. */
    int runs_bfused;
    /* Views (plan.c): an op whose output is a contiguous run of in[0]'s
     * values (a reshape, a slice along the first axis) returns the offset
     * of that run, and the node's value then points into in[0]'s instead
     * of getting memory of its own; its forward finds nothing to copy.
     * CG_NOT_A_VIEW: this node needs its own copy. NULL: never a view. */
    size_t (*view)(const cg_node *n);
} cg_op_def;

#define CG_NOT_A_VIEW ((size_t)-1)

enum cg_node_kind {
    CG_KIND_OP,
    CG_KIND_VARIABLE,
    CG_KIND_PLACEHOLDER,
    CG_KIND_CONSTANT,
    CG_KIND_STATE
};

struct cg_node {
    cg_graph *g;
    int id;
    int kind;
    const cg_op_def *op;         /* NULL for leaves */
    cg_node *in[CG_MAX_INPUTS];
    int n_in;

    int ndim;
    int shape[CG_MAX_DIMS];      /* -1: the open batch dimension, not yet set */
    int decl[CG_MAX_DIMS];       /* placeholders: shape as declared */
    size_t size;

    cg_real *val;
    cg_real *grad;               /* NULL unless a variable feeds into n */
    cg_real *scratch;
    size_t scratch_len;

    int needs_grad;
    int fed;                     /* placeholder fed since the last plan */
    unsigned mark;               /* ancestor stamp for forward/backward */
    unsigned grad_mark;          /* == g->grad_pass: grad written this pass */
    cg_node *fused;              /* first node of the chain this node's
                                    forward computes block by block */
    cg_node *fused_next;         /* next in the chain of its producer */
    int fused_in;                /* run by its producer's forward: skipped */
    cg_node *bfused;             /* backward: first node of the chain run on
                                    the blocks of in[0]'s gradient */
    cg_node *bfused_next;        /* next in that chain (towards the leaves) */
    int bfused_in;               /* run by its consumer's backward: skipped */
    int bfirst[CG_MAX_INPUTS];   /* in a backward chain: first writer of in[j] */
    struct cg_one_call {         /* matmul.c: whether one call gives its
                                    parts' bits, for a product's shape    */
        int M, N, K, bf16;
        signed char same;        /* 1 yes, -1 no; 0: entry unused         */
    } one_call[3][4];            /* forward, dA, dB; the latest 4 shapes  */
    double prof_fwd, prof_bwd;   /* profiling (profile.c): seconds, calls */
    long prof_nfwd, prof_nbwd;

    int ip[CG_MAX_IPARAMS];      /* op parameters: axis, flags, shape ... */
    cg_real rp[2];               /* op parameters: exponent, eps ...      */

    char *name;
    size_t offset;               /* variables/state: offset in their buffer */
    cg_real *own;                /* constants: their own values */
};

struct cg_graph {
    cg_node **nodes;
    int n_nodes, cap_nodes;

    int training;
    cg_rng rng;

    int batch;                   /* current open dimension, 0 = unset */
    int planned;                 /* arena matches current shapes */
    unsigned stamp;
    unsigned grad_pass;          /* stamp of the running backward pass */

    cg_real *params, *grads;     /* all variables, contiguous */
    size_t n_params;
    cg_real *state;              /* all non-trainable state, contiguous */
    size_t n_state;

    cg_real *arena;              /* values, gradients, scratch of the rest */
    size_t arena_cap;

    int fault;                   /* set by an op whose data is bad (a label
                                    out of range): the run stops there */

    int profile;                 /* time ops (profile.c) */

    int precision;               /* CG_PRECISION_FP32 or _BF16 (precision.c) */
    struct cg_gemm_cache *gemm_cache; /* oneDNN's primitives (gemm.h) */
    void (*gemm_cache_free)(struct cg_gemm_cache *);
    int gemm_cache_failed;       /* could not be made: cg_gemm's backend */

    cg_thread_tuner infer_threads; /* inference loops' thread count (threads.c) */
    int infer_threads_ready;

    cg_collective sync;          /* training data-parallel with synchronised
                                    batch norm: batch statistics are summed
                                    with it (sync.sum NULL = local)       */
};

/* Build an op node: checks inputs (NULL, mixed graphs), infers its shape,
 * appends it. On error nothing is appended and NULL is returned. */
cg_node *cg_node_new_op(const cg_op_def *op, cg_node *const *in, int n_in,
                        const int *ip, int n_ip, const cg_real *rp, int n_rp);

/* Product of n->shape; -1 when the batch dimension is still open. */
size_t cg_shape_size(int ndim, const int *shape);
/* "[128, 784]" into buf. */
const char *cg_shape_str(const cg_node *n, char *buf, size_t len);
/* The node's name, or "#id" when it has none, into buf. */
const char *cg_node_label(const cg_node *n, char *buf, size_t len);

/* For an op's forward: data it cannot handle. Records the message and
 * makes the current cg_forward return `code`. */
void cg_node_fault(cg_node *n, int code, const char *fmt, ...) CG_PRINTF(3, 4);

/* For the backward of a grad_overwrite op, just before it writes in's
 * gradient: 1 when nothing has written it in this backward pass (write it
 * with =, its memory holds the last pass's values), 0 when it must be added
 * to. Marks it written. Call it once per write, outside parallel loops:
 * an input used twice is then overwritten once and added to once. */
static inline int cg_grad_first(cg_node *in)
{
    if (in->grad_mark == in->g->grad_pass) return 0;
    in->grad_mark = in->g->grad_pass;
    return 1;
}

/* For a runs_fused op's forward: compute its fused chain on rows
 * [r0, r1) x columns [c0, c1), after writing that block of its output. */
static inline void cg_run_fused(const cg_node *n, int r0, int r1, int c0, int c1)
{
    for (cg_node *e = n->fused; e; e = e->fused_next) e->op->forward_block(e, r0, r1, c0, c1);
}

/* The same in strips of a few rows: each op of the chain then finds the
 * strip the op before it wrote still in L1, not just in L2. */
#define CG_FUSED_STRIP 8
static inline void cg_run_fused_strips(const cg_node *n, int r0, int r1, int c0, int c1)
{
    for (int r = r0; r < r1; r += CG_FUSED_STRIP)
        cg_run_fused(n, r, r + CG_FUSED_STRIP < r1 ? r + CG_FUSED_STRIP : r1, c0, c1);
}

/* For a runs_bfused op's backward, before its parallel region: decide
 * which gradients each node of its backward chain writes first, in the
 * order the unfused backward would have (cg_grad_first is not thread-safe). */
static inline void cg_bfused_prepare(const cg_node *n)
{
    for (cg_node *e = n->bfused; e; e = e->bfused_next)
        for (int j = 0; j < e->n_in; j++)
            e->bfirst[j] = e->in[j]->grad ? cg_grad_first(e->in[j]) : 0;
}

/* Then, after writing columns [c0, c1) (all rows) of in[0]'s gradient. */
static inline void cg_run_bfused(const cg_node *n, int c0, int c1)
{
    for (cg_node *e = n->bfused; e; e = e->bfused_next) e->op->backward_block(e, c0, c1);
}

/* For an op that only knows how to add to in's gradient: zero it first
 * when this pass has not written it yet. */
static inline void cg_grad_prepare(cg_node *in)
{
    if (in->grad && cg_grad_first(in)) memset(in->grad, 0, in->size * sizeof(cg_real));
}

/* Profiling (profile.c): run n's forward or backward, timed when on. */
void cg_profile_forward(cg_node *n);
void cg_profile_backward(cg_node *n);
static inline void cg_run_forward(cg_node *n)
{
    if (n->g->profile) cg_profile_forward(n);
    else n->op->forward(n);
}
static inline void cg_run_backward(cg_node *n)
{
    if (n->g->profile) cg_profile_backward(n);
    else n->op->backward(n);
}

/* Plan memory for the current batch size (done lazily by feed/forward). */
int cg_graph_plan(cg_graph *g);

/* Run fn for the op table (src/ops/op_table.c). */
extern const cg_op_def *const cg_op_table[];
extern const int cg_op_table_len;

/* Elementwise loops only go parallel above this many elements: below it,
 * waking threads costs more than the loop. */
#define CG_OMP_MIN 16384

#endif
