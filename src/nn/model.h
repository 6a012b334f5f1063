/* SPDX-License-Identifier: MIT */
/* model.h: the sequential model's layout, shared by model.c (building),
 * spec.c (the model as JSON) and checkpoint.c. */
#ifndef CG_NN_MODEL_H
#define CG_NN_MODEL_H

#include "internal.h"

enum {
    LAYER_DENSE, LAYER_ACTIVATION, LAYER_BATCH_NORM, LAYER_DROPOUT,
    LAYER_CONV, LAYER_MAX_POOL, LAYER_AVG_POOL, LAYER_GAP, LAYER_FLATTEN,
    LAYER_KINDS
};

typedef struct layer {
    int kind;
    int units;        /* dense: outputs; conv: filters       */
    int activation;   /* activation: which                   */
    int kernel, stride; /* conv, pools (square)              */
    int pad;          /* conv: rows/columns each side, or CG_PAD_SAME */
    double rate;      /* dropout: p; batch norm: momentum    */
    double eps;       /* batch norm                          */
    int c, h, w;      /* output shape C x H x W; h = w = 0: flat, c features */
    int width;        /* output width (c h w or c), known when added */
    size_t params;    /* filled at build                     */
    char name[32];
} layer;

/* The layer types as the spec and the summary name them. */
extern const char *const cg_layer_spec_types[LAYER_KINDS];

/* The parameters (trainable and state) a layer holds, from its input
 * shape (in_c features when flat) and its own fields. */
double cg_layer_param_count(const layer *l, int in_c, int bias);
/* 1 when layer i of m has a bias (dense and conv: not when a batch norm
 * follows, whose beta plays its part). */
int cg_layer_has_bias(const cg_model *m, int i);
/* Before the build (and in the spec): an image left after the last layer
 * is flattened for the dense output layer. */
int cg_model_finish_layers(cg_model *m);
/* task.c: on m->logits and m->y, the task's loss, probs and pred nodes. */
int cg_model_build_head(cg_model *m);

struct cg_model {
    int n_inputs, n_classes;
    int in_c, in_h, in_w;             /* image input C x H x W, or 0s */
    uint64_t seed;
    layer *layers;
    int n_layers, cap_layers;
    int n_dense, n_act, n_bn, n_drop; /* for names           */
    int n_conv, n_pool, n_gap, n_flat;
    cg_graph *g;
    cg_node *x, *y, *logits, *loss, *probs, *pred;
    char **class_names;               /* [n_classes] or NULL (regression
                                         and multi-label: target names) */
    int task, loss_kind;              /* CG_TASK_*, CG_LOSS_* (resolved) */
    double *t_mean, *t_std;           /* [n_classes]: regression targets */
};

#endif
