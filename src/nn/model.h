/* SPDX-License-Identifier: MIT */
/* model.h: the sequential model's layout, shared by model.c (building),
 * spec.c (the model as JSON) and checkpoint.c. */
#ifndef CG_NN_MODEL_H
#define CG_NN_MODEL_H

#include "internal.h"

enum { LAYER_DENSE, LAYER_ACTIVATION, LAYER_BATCH_NORM, LAYER_DROPOUT };

typedef struct layer {
    int kind;
    int units;        /* dense: outputs                      */
    int activation;   /* activation: which                   */
    double rate;      /* dropout: p; batch norm: momentum    */
    double eps;       /* batch norm                          */
    int width;        /* output width, known when added      */
    size_t params;    /* filled at build                     */
    char name[32];
} layer;

struct cg_model {
    int n_inputs, n_classes;
    uint64_t seed;
    layer *layers;
    int n_layers, cap_layers;
    int n_dense, n_act, n_bn, n_drop; /* for names           */
    cg_graph *g;
    cg_node *x, *y, *logits, *loss, *probs, *pred;
    char **class_names;               /* [n_classes] or NULL       */
};

#endif
