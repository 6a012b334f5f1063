/* SPDX-License-Identifier: MIT */
/* graph.c: building the graph — leaves, op nodes, lookups, the dump. */
#include "node.h"

#include <stdio.h>
#include <string.h>

cg_graph *cg_graph_new(void)
{
    cg_graph *g = cg_calloc(1, sizeof *g);
    if (!g) return cg_error_null(CG_ERR_MEMORY, "cg_graph_new: out of memory");
    g->training = 1;
    cg_rng_seed(&g->rng, 0);
    return g;
}

void cg_graph_free(cg_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) {
        cg_free(g->nodes[i]->name);
        cg_free(g->nodes[i]->own);
        cg_free(g->nodes[i]);
    }
    cg_free(g->nodes);
    cg_free(g->params);
    cg_free(g->grads);
    cg_free(g->state);
    cg_free(g->arena);
    if (g->gemm_cache) g->gemm_cache_free(g->gemm_cache);
    cg_free(g);
}

void cg_graph_set_training(cg_graph *g, int training)
{
    if (g) g->training = training != 0;
}

int cg_graph_training(const cg_graph *g) { return g ? g->training : 0; }
cg_rng *cg_graph_rng(cg_graph *g) { return g ? &g->rng : NULL; }

size_t cg_shape_size(int ndim, const int *shape)
{
    size_t s = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return (size_t)-1;
        s *= (size_t)shape[i];
    }
    return s;
}

const char *cg_shape_str(const cg_node *n, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n->ndim && k < len; i++) {
        if (n->shape[i] < 0)
            k += (size_t)snprintf(buf + k, len - k, "%sbatch", i ? ", " : "");
        else
            k += (size_t)snprintf(buf + k, len - k, "%s%d", i ? ", " : "", n->shape[i]);
    }
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}

const char *cg_node_label(const cg_node *n, char *buf, size_t len)
{
    if (n->name) snprintf(buf, len, "'%s'", n->name);
    else snprintf(buf, len, "#%d (%s)", n->id, cg_node_op(n));
    return buf;
}

/* Append a node; the graph's memory plan is stale afterwards. */
static cg_node *append(cg_graph *g, int kind, const char *name)
{
    if (name && cg_graph_find(g, name))
        return cg_error_null(CG_ERR_ARG, "a node named '%s' already exists", name);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        cg_node **nodes = cg_realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return cg_error_null(CG_ERR_MEMORY, "graph: out of memory");
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    cg_node *n = cg_calloc(1, sizeof *n);
    if (!n) return cg_error_null(CG_ERR_MEMORY, "graph: out of memory");
    if (name && !(n->name = cg_strdup(name))) {
        cg_free(n);
        return cg_error_null(CG_ERR_MEMORY, "graph: out of memory");
    }
    n->g = g;
    n->kind = kind;
    n->id = g->n_nodes;
    g->nodes[g->n_nodes++] = n;
    g->planned = 0;
    return n;
}

static int check_shape(const char *what, int ndim, const int *shape, int allow_batch)
{
    if (ndim < 0 || ndim > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "%s: ndim %d out of range 0..%d", what, ndim, CG_MAX_DIMS);
    if (ndim > 0 && !shape)
        return cg_error(CG_ERR_ARG, "%s: shape is NULL", what);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == CG_BATCH && i == 0 && allow_batch) continue;
        if (shape[i] <= 0)
            return cg_error(CG_ERR_SHAPE, "%s: dimension %d is %d, must be positive%s", what,
                            i, shape[i], allow_batch ? " (or CG_BATCH for dimension 0)" : "");
    }
    return CG_OK;
}

/* Grow a contiguous buffer (params, grads or state) by `add` values and
 * re-point every node that views into it. */
static int grow_buffer(cg_real **buf, size_t old, size_t add)
{
    cg_real *b = cg_realloc(*buf, (old + add) * sizeof(cg_real));
    if (!b) return cg_error(CG_ERR_MEMORY, "graph: out of memory for %zu values", old + add);
    memset(b + old, 0, add * sizeof(cg_real));
    *buf = b;
    return CG_OK;
}

static void repoint_leaves(cg_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        if (n->kind == CG_KIND_VARIABLE) {
            n->val = g->params + n->offset;
            n->grad = g->grads + n->offset;
        } else if (n->kind == CG_KIND_STATE) {
            n->val = g->state + n->offset;
        }
    }
}

static cg_node *new_stored_leaf(cg_graph *g, int kind, const char *what, const char *name,
                                int ndim, const int *shape, const cg_real *init)
{
    if (!g) return cg_error_null(CG_ERR_ARG, "%s: graph is NULL", what);
    if (check_shape(what, ndim, shape, 0)) return NULL;
    size_t size = cg_shape_size(ndim, shape);
    int trainable = kind == CG_KIND_VARIABLE;
    size_t old = trainable ? g->n_params : g->n_state;
    if (trainable) {
        if (grow_buffer(&g->params, old, size) || grow_buffer(&g->grads, old, size))
            return NULL;
    } else if (grow_buffer(&g->state, old, size)) {
        return NULL;
    }
    cg_node *n = append(g, kind, name);
    if (!n) { repoint_leaves(g); return NULL; }
    n->ndim = ndim;
    if (ndim) memcpy(n->shape, shape, (size_t)ndim * sizeof(int));
    n->size = size;
    n->offset = old;
    n->needs_grad = trainable;
    if (trainable) g->n_params += size;
    else g->n_state += size;
    repoint_leaves(g);
    if (init) memcpy(n->val, init, size * sizeof(cg_real));
    return n;
}

cg_node *cg_variable(cg_graph *g, const char *name, int ndim, const int *shape,
                     const cg_real *init)
{
    return new_stored_leaf(g, CG_KIND_VARIABLE, "cg_variable", name, ndim, shape, init);
}

cg_node *cg_state(cg_graph *g, const char *name, int ndim, const int *shape,
                  const cg_real *init)
{
    return new_stored_leaf(g, CG_KIND_STATE, "cg_state", name, ndim, shape, init);
}

cg_node *cg_scalar_variable(cg_graph *g, const char *name, cg_real init)
{
    return cg_variable(g, name, 0, NULL, &init);
}

cg_node *cg_placeholder(cg_graph *g, const char *name, int ndim, const int *shape)
{
    if (!g) return cg_error_null(CG_ERR_ARG, "cg_placeholder: graph is NULL");
    if (check_shape("cg_placeholder", ndim, shape, 1)) return NULL;
    /* A fixed-shape placeholder owns its memory, like a constant: what was
     * fed survives re-plans (a new batch size, a new node). */
    int open = ndim > 0 && shape[0] == CG_BATCH;
    cg_real *own = NULL;
    if (!open && !(own = cg_calloc(cg_shape_size(ndim, shape), sizeof(cg_real))))
        return cg_error_null(CG_ERR_MEMORY, "cg_placeholder: out of memory");
    cg_node *n = append(g, CG_KIND_PLACEHOLDER, name);
    if (!n) { cg_free(own); return NULL; }
    n->ndim = ndim;
    if (ndim) memcpy(n->shape, shape, (size_t)ndim * sizeof(int));
    if (ndim) memcpy(n->decl, shape, (size_t)ndim * sizeof(int));
    if (g->batch > 0 && open) n->shape[0] = g->batch;
    n->size = cg_shape_size(ndim, n->shape);
    n->own = n->val = own;
    return n;
}

cg_node *cg_constant(cg_graph *g, int ndim, const int *shape, const cg_real *values)
{
    if (!g) return cg_error_null(CG_ERR_ARG, "cg_constant: graph is NULL");
    if (check_shape("cg_constant", ndim, shape, 0)) return NULL;
    if (!values) return cg_error_null(CG_ERR_ARG, "cg_constant: values is NULL");
    size_t size = cg_shape_size(ndim, shape);
    cg_real *own = cg_malloc(size * sizeof(cg_real));
    if (!own) return cg_error_null(CG_ERR_MEMORY, "cg_constant: out of memory");
    cg_node *n = append(g, CG_KIND_CONSTANT, NULL);
    if (!n) { cg_free(own); return NULL; }
    memcpy(own, values, size * sizeof(cg_real));
    n->ndim = ndim;
    if (ndim) memcpy(n->shape, shape, (size_t)ndim * sizeof(int));
    n->size = size;
    n->own = n->val = own;
    return n;
}

cg_node *cg_scalar(cg_graph *g, cg_real value) { return cg_constant(g, 0, NULL, &value); }

cg_node *cg_node_new_op(const cg_op_def *op, cg_node *const *in, int n_in,
                        const int *ip, int n_ip, const cg_real *rp, int n_rp)
{
    char lbl[96];
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) {
            /* Keep the first failure: it is the one the user must fix. */
            if (cg_last_error_code() != CG_OK) {
                char prev[700];
                snprintf(prev, sizeof prev, "%s", cg_last_error());
                return cg_error_null(CG_ERR_ARG, "%s: input %d is NULL (after earlier error: %s)",
                                     op->name, i + 1, prev);
            }
            return cg_error_null(CG_ERR_ARG, "%s: input %d is NULL", op->name, i + 1);
        }
        if (in[i]->g != in[0]->g)
            return cg_error_null(CG_ERR_ARG, "%s: input %d (%s) belongs to another graph",
                                 op->name, i + 1, cg_node_label(in[i], lbl, sizeof lbl));
    }
    /* Shape inference needs the node filled in before it is appended. */
    cg_node tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.g = in[0]->g;
    tmp.op = op;
    tmp.n_in = n_in;
    for (int i = 0; i < n_in; i++) tmp.in[i] = in[i];
    for (int i = 0; i < n_ip; i++) tmp.ip[i] = ip[i];
    for (int i = 0; i < n_rp; i++) tmp.rp[i] = rp[i];
    if (op->infer_shape(&tmp) != CG_OK) return NULL;

    cg_node *n = append(in[0]->g, CG_KIND_OP, NULL);
    if (!n) return NULL;
    int id = n->id;
    *n = tmp;
    n->id = id;
    n->size = cg_shape_size(n->ndim, n->shape);
    for (int i = 0; i < n_in; i++)
        if (in[i]->needs_grad && op->backward) n->needs_grad = 1;
    return n;
}

/* ---- reading nodes ---- */

cg_graph *cg_node_graph(const cg_node *n) { return n ? n->g : NULL; }
const char *cg_node_name(const cg_node *n) { return n && n->name ? n->name : ""; }

const char *cg_node_op(const cg_node *n)
{
    if (!n) return "";
    switch (n->kind) {
    case CG_KIND_VARIABLE: return "variable";
    case CG_KIND_PLACEHOLDER: return "placeholder";
    case CG_KIND_CONSTANT: return "constant";
    case CG_KIND_STATE: return "state";
    default: return n->op->name;
    }
}

int cg_node_ndim(const cg_node *n) { return n ? n->ndim : -1; }

int cg_node_dim(const cg_node *n, int axis)
{
    if (!n || axis < 0 || axis >= n->ndim) return -1;
    return n->shape[axis];
}

size_t cg_node_size(const cg_node *n) { return n && n->size != (size_t)-1 ? n->size : 0; }
cg_real *cg_node_value(cg_node *n) { return n ? n->val : NULL; }
cg_real *cg_node_grad(cg_node *n) { return n ? n->grad : NULL; }
cg_real cg_node_scalar(cg_node *n) { return n && n->val ? n->val[0] : (cg_real)0; }
int cg_node_is_variable(const cg_node *n) { return n && n->kind == CG_KIND_VARIABLE; }

int cg_node_set_name(cg_node *n, const char *name)
{
    if (!n || !name) return cg_error(CG_ERR_ARG, "cg_node_set_name: NULL argument");
    if (cg_graph_find(n->g, name))
        return cg_error(CG_ERR_ARG, "a node named '%s' already exists", name);
    char *s = cg_strdup(name);
    if (!s) return cg_error(CG_ERR_MEMORY, "out of memory");
    cg_free(n->name);
    n->name = s;
    return CG_OK;
}

int cg_graph_node_count(const cg_graph *g) { return g ? g->n_nodes : 0; }

cg_node *cg_graph_node(cg_graph *g, int i)
{
    if (!g || i < 0 || i >= g->n_nodes) return NULL;
    return g->nodes[i];
}

cg_node *cg_graph_find(cg_graph *g, const char *name)
{
    if (!g || !name) return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->name && strcmp(g->nodes[i]->name, name) == 0) return g->nodes[i];
    return NULL;
}

size_t cg_graph_param_count(cg_graph *g) { return g ? g->n_params : 0; }
cg_real *cg_graph_params(cg_graph *g) { return g ? g->params : NULL; }
cg_real *cg_graph_grads(cg_graph *g) { return g ? g->grads : NULL; }
size_t cg_graph_state_count(cg_graph *g) { return g ? g->n_state : 0; }
cg_real *cg_graph_state(cg_graph *g) { return g ? g->state : NULL; }

void cg_graph_set_collective(cg_graph *g, const cg_collective *c)
{
    if (!g) return;
    cg_collective next = {.sum = NULL};
    if (c && c->sum) next = *c;
    if (next.sum == g->sync.sum && next.ctx == g->sync.ctx) return;
    g->sync = next;
    g->planned = 0; /* synchronised batch norm cannot run in fused blocks (plan.c) */
}

int cg_graph_print(cg_graph *g, void *file)
{
    if (!g) return cg_error(CG_ERR_ARG, "cg_graph_print: graph is NULL");
    FILE *f = file ? (FILE *)file : stdout;
    char shp[96];
    fprintf(f, "%-4s %-22s %-16s %-20s %10s\n", "id", "op", "name", "shape", "params");
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *n = g->nodes[i];
        size_t p = n->kind == CG_KIND_VARIABLE ? n->size : 0;
        char ins[64] = "";
        size_t k = 0;
        for (int j = 0; j < n->n_in && k < sizeof ins; j++)
            k += (size_t)snprintf(ins + k, sizeof ins - k, "%s#%d", j ? "," : "(", n->in[j]->id);
        if (n->n_in && k < sizeof ins) snprintf(ins + k, sizeof ins - k, ")");
        char opname[64];
        snprintf(opname, sizeof opname, "%s%s", cg_node_op(n), ins);
        fprintf(f, "%-4d %-22s %-16s %-20s %10zu\n", n->id, opname, n->name ? n->name : "-",
                cg_shape_str(n, shp, sizeof shp), p);
    }
    fprintf(f, "total trainable parameters: %zu\n", g->n_params);
    return CG_OK;
}
