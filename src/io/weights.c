// SPDX-License-Identifier: MIT
/* weights.c: a graph's variables and state nodes to and from a
 * safetensors file by name: the checkpoint of cg_fit_graph, whose graph is
 * the user's and has no model spec to keep. */
#include "internal.h"
#include "node.h"
#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int is_saved(const cg_node *n) { return n->kind == CG_KIND_VARIABLE || n->kind == CG_KIND_STATE; }

int cg_graph_save_weights(cg_graph *g, const char *path)
{
    if (!g || !path) return cg_error(CG_ERR_ARG, "cg_graph_save_weights: NULL argument");
    /* Values live in the planned buffers. */
    if (!cg_graph_params(g) && cg_graph_param_count(g)) return cg_last_error_code();
    if (!cg_graph_state(g) && cg_graph_state_count(g)) return cg_last_error_code();
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += is_saved(g->nodes[i]);
    st_out *t = cg_calloc((size_t)n + 1, sizeof *t);
    if (!t) return cg_error(CG_ERR_MEMORY, "cg_graph_save_weights: out of memory");
    int k = 0, rc = CG_OK;
    for (int i = 0; i < g->n_nodes && !rc; i++) {
        cg_node *v = g->nodes[i];
        if (!is_saved(v)) continue;
        if (!v->name) {
            rc = cg_error(CG_ERR_ARG, "cg_graph_save_weights: %s node %d has no name; name it "
                                      "(cg_node_set_name) so that it can be saved", cg_node_op(v),
                          v->id);
            break;
        }
        t[k].name = v->name;
        t[k].ndim = v->ndim;
        for (int d = 0; d < v->ndim; d++) t[k].shape[d] = v->shape[d];
        t[k].data = v->val;
        k++;
    }
    const char *keys[] = {"format"}, *values[] = {"cgrad-graph-weights"};
    if (!rc) rc = st_save(path, t, k, keys, values, 1);
    cg_free(t);
    return rc;
}

int cg_graph_load_weights(cg_graph *g, const char *path)
{
    if (!g || !path) return cg_error(CG_ERR_ARG, "cg_graph_load_weights: NULL argument");
    if (!cg_graph_params(g) && cg_graph_param_count(g)) return cg_last_error_code();
    if (!cg_graph_state(g) && cg_graph_state_count(g)) return cg_last_error_code();
    st_file f;
    if (st_load(path, &f)) return cg_last_error_code();
    int rc = CG_OK;
    for (int i = 0; i < g->n_nodes && !rc; i++) {
        cg_node *v = g->nodes[i];
        if (!is_saved(v)) continue;
        const st_tensor *t = v->name ? st_find(&f, v->name) : NULL;
        if (!t) {
            rc = cg_error(CG_ERR_FORMAT, "%s: tensor \"%s\" is missing", path,
                          v->name ? v->name : "(unnamed)");
            break;
        }
        int same = t->ndim == v->ndim;
        for (int d = 0; same && d < v->ndim; d++) same = t->shape[d] == v->shape[d];
        if (!same) {
            rc = cg_error(CG_ERR_SHAPE, "%s: tensor \"%s\" has %d dimensions and %zu values, the "
                                        "graph's node %d and %zu", path, v->name, t->ndim,
                          t->count, v->ndim, v->size);
            break;
        }
        rc = st_read(&f, t, v->val, v->size);
        for (size_t j = 0; !rc && j < v->size; j++)
            if (!isfinite((double)v->val[j]))
                rc = cg_error(CG_ERR_NUMERIC, "%s: tensor \"%s\" holds a non-finite value at %zu",
                              path, v->name, j);
    }
    for (int i = 0; i < f.n_tensors && !rc; i++) {
        const char *name = f.tensors[i].name;
        /* What a cg_checkpoint_save file holds besides weights. */
        if (strncmp(name, "optimizer.", 10) == 0 || strcmp(name, "input.mean") == 0 ||
            strcmp(name, "input.inv_std") == 0)
            continue;
        cg_node *v = cg_graph_find(g, name);
        if (!v || !is_saved(v))
            rc = cg_error(CG_ERR_FORMAT, "%s: tensor \"%s\" is not part of the graph", path,
                          f.tensors[i].name);
    }
    st_free(&f);
    return rc;
}
