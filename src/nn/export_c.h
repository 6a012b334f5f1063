/* SPDX-License-Identifier: MIT */
/* export_c.h: the network cg_export_c writes out, as export_c.c builds it
 * from a model and export_c_emit.c prints it as C. It is the model at
 * inference time: dropout gone, batch norm folded into the dense or conv
 * layer before it (or kept as a per-feature or per-channel scale and shift
 * where none precedes it), flatten gone (an image is stored as C x H x W,
 * already the order a dense layer reads), values in double until they are
 * printed as float. */
#ifndef CG_NN_EXPORT_C_H
#define CG_NN_EXPORT_C_H

#include <stddef.h>

enum { EX_DENSE, EX_SCALE, EX_ACTIVATION, EX_CONV, EX_MAX_POOL, EX_AVG_POOL, EX_GAP };

struct cg_dataset;

/* A dense or conv layer's int8 form (export_c_int8.c): output j is
 * scale[j] * sum_i (q_i - x_zero) w[j][i] + b[j], the sum in int32, where
 * q_i = round(x_i / x_scale) + x_zero clamped to 0..255. */
typedef struct ex_quant {
    signed char *w;           /* [n_out or oc][fan-in]: dense transposed,
                                 conv as its float weights                  */
    double *scale;            /* [n_out or oc]: x_scale * the weight scale */
    double x_scale;           /* the input's step                           */
    int x_zero;               /* the input's zero point, 0..255             */
} ex_quant;

typedef struct ex_layer {
    int kind;                 /* EX_*                                       */
    int n_in, n_out;          /* values in and out                          */
    int activation;           /* EX_ACTIVATION: CG_RELU, CG_TANH, CG_SIGMOID */
    int ic, ih, iw;           /* conv, pools, gap: the input image          */
    int oc, oh, ow;           /* ... and the output (gap: oc values)        */
    int kernel, stride;       /* conv, pools: square                        */
    int pad_t, pad_l;         /* conv: zero rows above, columns left        */
    int hw;                   /* scale: values per channel (1 when flat)    */
    double *w;                /* dense: [n_in, n_out] row-major; scale: [n_out / hw];
                                 conv: [oc, c, kernel, kernel]               */
    double *b;                /* dense, conv: [n_out or oc]; scale: as w    */
    ex_quant *q;              /* dense, conv: int8 form, or NULL (float)    */
    char what[160];           /* for a comment: "dense1 (bn1 folded in)"    */
} ex_layer;

typedef struct ex_net {
    const char *source;       /* for the header comment, or NULL            */
    int n_inputs, n_classes;
    int task;                 /* CG_TASK_*: what the outputs are (regression:
                                 the target scale folded into the last dense) */
    double scale;             /* x' = (x * scale - mean) * inv_std          */
    double *mean, *inv_std;   /* [n_inputs], or NULL when not standardized  */
    double *fill;             /* [n_inputs]: a missing (NaN) input's value, or NULL */
    const char *const *class_names; /* [n_classes], or NULL                 */
    ex_layer *layers;
    int n_layers;
    int calibrated;           /* int8: calibration examples used; 0 = float */
} ex_net;

/* int8: quantise every dense and conv layer, the input ranges from
 * running the net on `calibrate` examples of ds (0 = CG_ONNX_CALIBRATE)
 * spread evenly over it. CG_ERR_ARG for examples of another width or a
 * layer whose int32 sum could overflow. */
int ex_quantize(ex_net *net, const struct cg_dataset *ds, int calibrate);
void ex_quant_free(ex_quant *q);

/* Write dir/<prefix>.h and dir/<prefix>.c (dir must exist; every value
 * must fit a float, which export_c.c checks). CG_ERR_IO naming the file
 * when one cannot be written; then no partial file is left. */
int ex_emit(const ex_net *net, const char *dir, const char *prefix);

#endif
