/* SPDX-License-Identifier: MIT */
/* export_c.h: the network cg_export_c writes out, as export_c.c builds it
 * from a model and export_c_emit.c prints it as C. It is the model at
 * inference time: dropout gone, batch norm folded into the dense layer
 * before it (or kept as a per-feature scale and shift where no dense layer
 * precedes it), values in double until they are printed as float. */
#ifndef CG_NN_EXPORT_C_H
#define CG_NN_EXPORT_C_H

#include <stddef.h>

enum { EX_DENSE, EX_SCALE, EX_ACTIVATION };

typedef struct ex_layer {
    int kind;                 /* EX_*                                       */
    int n_in, n_out;          /* equal unless dense                         */
    int activation;           /* EX_ACTIVATION: CG_RELU, CG_TANH, CG_SIGMOID */
    double *w;                /* dense: [n_in, n_out] row-major; scale: [n] */
    double *b;                /* dense, scale: [n_out]                      */
    char what[160];           /* for a comment: "dense1 (bn1 folded in)"    */
} ex_layer;

typedef struct ex_net {
    const char *source;       /* for the header comment, or NULL            */
    int n_inputs, n_classes;
    double scale;             /* x' = (x * scale - mean) * inv_std          */
    double *mean, *inv_std;   /* [n_inputs], or NULL when not standardized  */
    double *fill;             /* [n_inputs]: a missing (NaN) input's value, or NULL */
    const char *const *class_names; /* [n_classes], or NULL                 */
    ex_layer *layers;
    int n_layers;
} ex_net;

/* Write dir/<prefix>.h and dir/<prefix>.c (dir must exist; every value
 * must fit a float, which export_c.c checks). CG_ERR_IO naming the file
 * when one cannot be written; then no partial file is left. */
int ex_emit(const ex_net *net, const char *dir, const char *prefix);

#endif
