/* SPDX-License-Identifier: MIT */
/* dense.c: activations by name, weight initialisers, the dense layer. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const act_names[] = {"linear", "relu", "tanh", "sigmoid"};

const char *cg_activation_name(int activation)
{
    if (activation < 0 || activation > CG_SIGMOID) return "?";
    return act_names[activation];
}

int cg_activation_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i <= CG_SIGMOID; i++)
        if (strcmp(name, act_names[i]) == 0) return i;
    return -1;
}

void cg_init_he_normal(cg_rng *r, cg_real *w, int fan_in, int fan_out)
{
    double std = sqrt(2.0 / (fan_in > 0 ? fan_in : 1));
    size_t n = (size_t)fan_in * (size_t)fan_out;
    for (size_t i = 0; i < n; i++) w[i] = (cg_real)(std * cg_rng_normal(r));
}

void cg_init_xavier_uniform(cg_rng *r, cg_real *w, int fan_in, int fan_out)
{
    int fans = fan_in + fan_out;
    double a = sqrt(6.0 / (fans > 0 ? fans : 1));
    size_t n = (size_t)fan_in * (size_t)fan_out;
    for (size_t i = 0; i < n; i++) w[i] = (cg_real)(a * (2.0 * cg_rng_uniform(r) - 1.0));
}

/* bias = 0: no bias (a batch norm follows, whose beta replaces it). */
static cg_node *dense(cg_graph *g, cg_node *x, int units, int activation, const char *prefix,
                      int bias)
{
    if (!g || !x || !prefix) return cg_error_null(CG_ERR_ARG, "cg_dense: NULL argument");
    if (units < 1) return cg_error_null(CG_ERR_ARG, "cg_dense: units %d must be positive", units);
    if (activation < CG_LINEAR || activation > CG_SIGMOID)
        return cg_error_null(CG_ERR_ARG, "cg_dense: unknown activation %d", activation);
    if (cg_node_ndim(x) != 2)
        return cg_error_null(CG_ERR_SHAPE, "cg_dense: input must be 2-D [batch, features], not %d-D",
                             cg_node_ndim(x));
    int in = cg_node_dim(x, 1);
    if (in < 1) return cg_error_null(CG_ERR_SHAPE, "cg_dense: input has %d features", in);
    size_t plen = strlen(prefix);
    char *name = cg_malloc(plen + 8);
    cg_real *w0 = cg_malloc((size_t)in * (size_t)units * sizeof *w0);
    if (!name || !w0) {
        cg_free(name);
        cg_free(w0);
        return cg_error_null(CG_ERR_MEMORY, "cg_dense: out of memory");
    }
    if (activation == CG_RELU)
        cg_init_he_normal(cg_graph_rng(g), w0, in, units);
    else
        cg_init_xavier_uniform(cg_graph_rng(g), w0, in, units);
    snprintf(name, plen + 8, "%s.weight", prefix);
    cg_node *w = cg_variable(g, name, 2, (int[]){in, units}, w0);
    snprintf(name, plen + 8, "%s.bias", prefix);
    cg_node *b = w && bias ? cg_variable(g, name, 1, (int[]){units}, NULL) : NULL;
    cg_free(name);
    cg_free(w0);
    if (!w || (bias && !b)) return NULL;
    cg_node *z = cg_matmul(x, w, 0, 0);
    return bias ? cg_add(z, b) : z;
}

cg_node *cg_dense(cg_graph *g, cg_node *x, int units, int activation, const char *prefix)
{
    return dense(g, x, units, activation, prefix, 1);
}

cg_node *cg_dense_no_bias(cg_graph *g, cg_node *x, int units, int activation, const char *prefix)
{
    return dense(g, x, units, activation, prefix, 0);
}
