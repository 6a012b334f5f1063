/* SPDX-License-Identifier: MIT */
/* onnx.c: a trained classifier as an ONNX model (cg_export_onnx).
 *
 * The structure comes from the public API only: the model spec (JSON, its
 * layers in order) and the graph's named tensors ("dense1.weight", ...).
 * The ONNX graph is the model at inference time:
 *   input [batch, d] raw features
 *   -> Mul(scale) -> Sub(mean) -> Mul(inv_std)   the normaliser, in the
 *      order and precision cgrad applies it (float)
 *   -> per dense layer Gemm(x, W, b), batch norm folded into the dense layer
 *      before it (in double, then rounded once), or Mul + Add where no dense
 *      layer precedes it; dropout left out (the identity at inference)
 *   -> Relu / Tanh / Sigmoid
 *   -> Softmax(axis 1) named "probabilities" [batch, n_classes]; a
 *      multi-label model's Sigmoid (also "probabilities"); a regression's
 *      Mul(target std) -> Add(target mean) named "predictions", [batch,
 *      targets] in the targets' units.
 * A convolutional model (an input shape C x H x W) reshapes the rows to
 * [batch, C, H, W] after the normaliser; conv layers become Conv (batch
 * norm folded in the same way; "same" padding as explicit pads, the odd
 * one after, as cg_conv2d), pools MaxPool / AveragePool, global average
 * pooling GlobalAveragePool + Flatten, a batch norm that cannot fold a
 * per-channel Mul + Add ([C, 1, 1] constants).
 * The batch dimension is symbolic ("batch"). Class names, the model spec
 * and cgrad's version are metadata_props.
 *
 * int8 (QDQ format): each Gemm and Conv reads its input through
 * QuantizeLinear + DequantizeLinear (uint8, per tensor, the range seen on
 * calibration examples, widened to hold 0) and its weights as int8 per
 * output column or filter (symmetric, scale max|w| / 127) through
 * DequantizeLinear (axis 1, or 0 for a Conv's [out, in, k, k]); batch norm
 * is folded first, as in the float export; biases, pools, a batch norm
 * that cannot fold and the softmax stay float. The calibration ranges come from running the
 * exported network itself, in double, on a sample of examples.
 *
 * The protobuf is written by protobuf-c from C that the build generates out
 * of onnx.proto (Debian's python3-onnx); every message is allocated from a
 * list freed at the end, so an error anywhere cleans up in one place. */
#define _POSIX_C_SOURCE 200809L /* getpid */

#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CG_HAVE_ONNX

int cg_export_onnx(cg_model *m, const cg_normalizer *nz, const char *path,
                   const cg_onnx_options *opt)
{
    (void)nz, (void)path, (void)opt;
    int shape[3];
    if (cg_model_input_shape(m, shape)) /* the same answer as a build with ONNX */
        return cg_error(CG_ERR_STATE, "cg_export_onnx: a convolutional model (images %dx%dx%d, conv "
                        "and pooling layers) has no ONNX form yet; export it as C (cg_export_c, "
                        "`cgrad export --c`)", shape[0], shape[1], shape[2]);
    return cg_error(CG_ERR_STATE, "cg_export_onnx: this cgrad was built without ONNX export "
                                  "(install protobuf-c-compiler, libprotobuf-c-dev and "
                                  "python3-onnx, then rebuild)");
}

#else

#include "onnx.pb-c.h"

#define OX_NAME 96 /* tensor and node names: layer names are shorter */

typedef struct ox {
    void **allocs; /* everything allocated for the model, freed at the end */
    size_t n_allocs, cap_allocs;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    cg_graph *g;
    char x[OX_NAME]; /* the tensor the next node reads */
    int width;       /* its feature count */
    int oom;
    /* int8: the calibration examples as they reach the current tensor,
     * [cal_n, width] in double. */
    int int8, cal_n;
    double *cal;
    /* A dense layer not yet written: batch norm may still fold into it. */
    int pending;
    char pend_name[OX_NAME];
    int pend_in, pend_out;
    double *pend_w, *pend_b; /* [in, out], [out]; conv: [out, in k k], [out] */
    /* Images: the current tensor is [batch, c, h, w] when img is set. */
    int img, c, h, w;
    /* A pending conv (pend_conv set): kernel, stride, pads (top, left,
     * bottom, right), its output shape. */
    int pend_conv, pend_k, pend_stride, pend_pads[4], pend_c, pend_h, pend_w_;
} ox;

/* Grow *arr (elements of `size` bytes) to hold one more; 0 on success. */
static int ox_grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = cg_realloc(*arr, c * size);
    if (!p) return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static void *ox_alloc(ox *o, size_t n)
{
    void *p = NULL;
    if (o->oom || ox_grow((void **)&o->allocs, &o->cap_allocs, o->n_allocs, sizeof *o->allocs) ||
        !(p = cg_calloc(1, n ? n : 1))) {
        o->oom = 1;
        return NULL;
    }
    o->allocs[o->n_allocs++] = p;
    return p;
}

static char *ox_str(ox *o, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ox_alloc(o, n);
    if (p) memcpy(p, s, n);
    return p;
}

static void ox_free(ox *o)
{
    for (size_t i = 0; i < o->n_allocs; i++) cg_free(o->allocs[i]);
    cg_free(o->allocs);
    cg_free(o->nodes);
    cg_free(o->inits);
    cg_free(o->pend_w);
    cg_free(o->pend_b);
    cg_free(o->cal);
}

/* An initializer `name` of the given shape and ONNX data type whose raw
 * bytes (little-endian) the caller fills: returned, or NULL. */
static uint8_t *ox_initializer_raw(ox *o, const char *name, int ndim, const int64_t *dims,
                                   int type, size_t bytes)
{
    Onnx__TensorProto *t = ox_alloc(o, sizeof *t);
    int64_t *d = ox_alloc(o, (size_t)(ndim ? ndim : 1) * sizeof *d);
    uint8_t *raw = ox_alloc(o, bytes);
    if (!t || !d || !raw ||
        ox_grow((void **)&o->inits, &o->cap_inits, o->n_inits, sizeof *o->inits)) {
        o->oom = 1;
        return NULL;
    }
    onnx__tensor_proto__init(t);
    t->name = ox_str(o, name);
    for (int i = 0; i < ndim; i++) d[i] = dims[i];
    t->n_dims = (size_t)ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = raw;
    o->inits[o->n_inits++] = t;
    return o->oom ? NULL : raw;
}

/* A float32 initializer from double values (rounded once). */
static int ox_initializer(ox *o, const char *name, int ndim, const int64_t *dims,
                          const double *v, size_t n)
{
    uint8_t *raw = ox_initializer_raw(o, name, ndim, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                                      n * 4);
    if (!raw) return CG_ERR_MEMORY;
    for (size_t i = 0; i < n; i++) {
        float f = (float)v[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        for (int b = 0; b < 4; b++) raw[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
    }
    return CG_OK;
}

/* A node op(inputs) -> out; `out` becomes the current tensor. */
static Onnx__NodeProto *ox_node(ox *o, const char *op, const char *name, int n_in,
                                const char *const *in, const char *out)
{
    Onnx__NodeProto *nd = ox_alloc(o, sizeof *nd);
    char **ins = ox_alloc(o, (size_t)n_in * sizeof *ins);
    char **outs = ox_alloc(o, sizeof *outs);
    if (!nd || !ins || !outs ||
        ox_grow((void **)&o->nodes, &o->cap_nodes, o->n_nodes, sizeof *o->nodes)) {
        o->oom = 1;
        return NULL;
    }
    onnx__node_proto__init(nd);
    for (int i = 0; i < n_in; i++) ins[i] = ox_str(o, in[i]);
    outs[0] = ox_str(o, out);
    nd->n_input = (size_t)n_in;
    nd->input = ins;
    nd->n_output = 1;
    nd->output = outs;
    nd->name = ox_str(o, name);
    nd->op_type = ox_str(o, op);
    if (o->oom) return NULL;
    o->nodes[o->n_nodes++] = nd;
    snprintf(o->x, sizeof o->x, "%s", out);
    return nd;
}

static int ox_attr_int(ox *o, Onnx__NodeProto *nd, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = ox_alloc(o, sizeof *a);
    Onnx__AttributeProto **list = ox_alloc(o, sizeof *list);
    if (!a || !list) return CG_ERR_MEMORY;
    onnx__attribute_proto__init(a);
    a->name = ox_str(o, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    list[0] = a;
    nd->n_attribute = 1;
    nd->attribute = list;
    return o->oom ? CG_ERR_MEMORY : CG_OK;
}

/* Append an INTS attribute to nd (after any it has). */
static int ox_attr_ints(ox *o, Onnx__NodeProto *nd, const char *name, const int64_t *v, int n)
{
    Onnx__AttributeProto *a = ox_alloc(o, sizeof *a);
    Onnx__AttributeProto **list = ox_alloc(o, (nd->n_attribute + 1) * sizeof *list);
    int64_t *ints = ox_alloc(o, (size_t)n * sizeof *ints);
    if (!a || !list || !ints) return CG_ERR_MEMORY;
    onnx__attribute_proto__init(a);
    a->name = ox_str(o, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    for (int i = 0; i < n; i++) ints[i] = v[i];
    a->n_ints = (size_t)n;
    a->ints = ints;
    for (size_t i = 0; i < nd->n_attribute; i++) list[i] = nd->attribute[i];
    list[nd->n_attribute++] = a;
    nd->attribute = list;
    return o->oom ? CG_ERR_MEMORY : CG_OK;
}

/* Elementwise op(current, constant [n] or a scalar when n == 0). */
static int ox_const_op(ox *o, const char *op, const char *name, const char *cname,
                       const double *v, int n)
{
    int64_t dims[1] = {n};
    double one = v[0];
    if (ox_initializer(o, cname, n ? 1 : 0, dims, n ? v : &one, n ? (size_t)n : 1))
        return CG_ERR_MEMORY;
    const char *in[2] = {o->x, cname};
    return ox_node(o, op, name, 2, in, name) ? CG_OK : CG_ERR_MEMORY;
}

/* Elementwise op(current, constant [n, 1, 1]): per channel of an image. */
static int ox_channel_op(ox *o, const char *op, const char *name, const char *cname,
                         const double *v, int n)
{
    int64_t dims[3] = {n, 1, 1};
    if (ox_initializer(o, cname, 3, dims, v, (size_t)n)) return CG_ERR_MEMORY;
    const char *in[2] = {o->x, cname};
    return ox_node(o, op, name, 2, in, name) ? CG_OK : CG_ERR_MEMORY;
}

/* float32 [batch, width] value info. */
static Onnx__ValueInfoProto *ox_value_info(ox *o, const char *name, int width)
{
    Onnx__ValueInfoProto *vi = ox_alloc(o, sizeof *vi);
    Onnx__TypeProto *tp = ox_alloc(o, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ox_alloc(o, sizeof *tt);
    Onnx__TensorShapeProto *sh = ox_alloc(o, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ox_alloc(o, 2 * sizeof *dims);
    Onnx__TensorShapeProto__Dimension *d0 = ox_alloc(o, sizeof *d0);
    Onnx__TensorShapeProto__Dimension *d1 = ox_alloc(o, sizeof *d1);
    if (o->oom) return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    onnx__tensor_shape_proto__dimension__init(d0);
    onnx__tensor_shape_proto__dimension__init(d1);
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0->dim_param = ox_str(o, "batch");
    d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1->dim_value = width;
    dims[0] = d0;
    dims[1] = d1;
    sh->n_dim = 2;
    sh->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = ox_str(o, name);
    vi->type = tp;
    return o->oom ? NULL : vi;
}

/* --- Reading the model --- */

/* The values of graph tensor `name`, which must have n elements, as
 * doubles (allocated). */
static int ox_tensor(ox *o, const char *name, size_t n, double **out)
{
    cg_node *t = cg_graph_find(o->g, name);
    if (!t) return cg_error(CG_ERR_FORMAT, "cg_export_onnx: the model has no tensor '%s'", name);
    if (cg_node_size(t) != n)
        return cg_error(CG_ERR_SHAPE, "cg_export_onnx: tensor '%s' has %zu values, the model spec "
                                      "needs %zu", name, cg_node_size(t), n);
    const cg_real *v = cg_node_value(t);
    double *d = cg_malloc((n ? n : 1) * sizeof *d);
    if (!v || !d) {
        cg_free(d);
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory reading '%s'", name);
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = (double)v[i];
        if (!isfinite(d[i])) {
            cg_free(d);
            return cg_error(CG_ERR_NUMERIC, "cg_export_onnx: tensor '%s' holds a non-finite value "
                                            "at index %zu", name, i);
        }
    }
    *out = d;
    return CG_OK;
}

/* --- Calibration (int8): the examples carried through each step --- */

enum { OX_CAL_SCALE, OX_CAL_SUB, OX_CAL_AFFINE, OX_CAL_ACT };

/* x[:, j] = x * a (a[0] for all j when n_a == 1), x - a[j], x * a[j] +
 * b[j], or the activation `act`; on an image, j is the channel. */
static void ox_cal_map(ox *o, int kind, const double *a, int n_a, const double *b, int act)
{
    size_t w = (size_t)o->width, g = o->img ? (size_t)o->h * (size_t)o->w : 1;
    for (size_t k = 0; o->cal && k < (size_t)o->cal_n * w; k++) {
        size_t j = k % w / g;
        double *x = &o->cal[k], aj = a ? a[n_a == 1 ? 0 : j] : 0;
        if (kind == OX_CAL_SCALE) *x *= aj;
        else if (kind == OX_CAL_SUB) *x -= aj;
        else if (kind == OX_CAL_AFFINE) *x = *x * aj + b[j];
        else if (act == CG_RELU) *x = *x > 0 ? *x : 0;
        else if (act == CG_TANH) *x = tanh(*x);
        else if (act == CG_SIGMOID) *x = 1 / (1 + exp(-*x));
    }
}

/* Replace the calibration examples by y [cal_n, n] (NULL: out of memory). */
static int ox_cal_set(ox *o, double *y)
{
    if (!y) return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory (calibration)");
    cg_free(o->cal);
    o->cal = y;
    return CG_OK;
}

/* x = x W + b for the pending dense layer. */
static int ox_cal_gemm(ox *o)
{
    if (!o->cal) return CG_OK;
    size_t in = (size_t)o->pend_in, out = (size_t)o->pend_out;
    double *y = cg_malloc((size_t)o->cal_n * out * sizeof *y);
    for (size_t r = 0; y && r < (size_t)o->cal_n; r++) {
        double *yr = y + r * out;
        const double *xr = o->cal + r * in;
        for (size_t j = 0; j < out; j++) yr[j] = o->pend_b[j];
        for (size_t i = 0; i < in; i++)
            for (size_t j = 0; j < out; j++) yr[j] += xr[i] * o->pend_w[i * out + j];
    }
    return ox_cal_set(o, y);
}

/* The pending conv on the current images [cal_n, c, h, w]: zero padding
 * pend_pads above and left, the output pend_c x pend_h x pend_w_. */
static int ox_cal_conv(ox *o)
{
    if (!o->cal) return CG_OK;
    int c = o->c, h = o->h, w = o->w, k = o->pend_k, st = o->pend_stride;
    int oc = o->pend_c, oh = o->pend_h, ow = o->pend_w_, pt = o->pend_pads[0], pl = o->pend_pads[1];
    size_t in = (size_t)c * h * w, out = (size_t)oc * oh * ow;
    double *y = cg_malloc((size_t)o->cal_n * out * sizeof *y);
    for (size_t r = 0; y && r < (size_t)o->cal_n; r++)
        for (int f = 0; f < oc; f++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    double s = o->pend_b[f];
                    for (int ci = 0; ci < c; ci++) {
                        const double *x = o->cal + r * in + (size_t)ci * h * w;
                        const double *wt = o->pend_w + ((size_t)f * c + ci) * k * k;
                        for (int ki = 0; ki < k; ki++) {
                            int yy = i * st - pt + ki;
                            for (int kj = 0; yy >= 0 && yy < h && kj < k; kj++) {
                                int xx = j * st - pl + kj;
                                if (xx >= 0 && xx < w) s += x[(size_t)yy * w + xx] * wt[ki * k + kj];
                            }
                        }
                    }
                    y[r * out + ((size_t)f * oh + i) * ow + j] = s;
                }
    return ox_cal_set(o, y);
}

/* Max (avg 0) or average (avg 1) pooling of kh x kw windows at stride st,
 * no padding, into oh x ow (global average pooling: the whole plane). */
static int ox_cal_pool(ox *o, int kh, int kw, int st, int oh, int ow, int avg)
{
    if (!o->cal) return CG_OK;
    int c = o->c, h = o->h, w = o->w;
    size_t in = (size_t)c * h * w, out = (size_t)c * oh * ow;
    double *y = cg_malloc((size_t)o->cal_n * out * sizeof *y);
    for (size_t r = 0; y && r < (size_t)o->cal_n; r++)
        for (int ci = 0; ci < c; ci++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++) {
                    const double *x = o->cal + r * in + ((size_t)ci * h + (size_t)i * st) * w + (size_t)j * st;
                    double m = x[0], s = 0;
                    for (int ki = 0; ki < kh; ki++)
                        for (int kj = 0; kj < kw; kj++) {
                            double v = x[(size_t)ki * w + kj];
                            m = v > m ? v : m;
                            s += v;
                        }
                    y[r * out + ((size_t)ci * oh + i) * ow + j] = avg ? s / (kh * kw) : m;
                }
    return ox_cal_set(o, y);
}

/* The current tensor (n values an example) through QuantizeLinear +
 * DequantizeLinear: uint8, per tensor, over the range the calibration
 * examples reach, widened to hold 0 (so that zero padding stays exact).
 * Its name is NAME.x_dq. */
static int ox_qdq_input(ox *o, const char *name, size_t n)
{
    double lo = 0, hi = 0;
    for (size_t k = 0; k < (size_t)o->cal_n * n; k++) {
        lo = o->cal[k] < lo ? o->cal[k] : lo;
        hi = o->cal[k] > hi ? o->cal[k] : hi;
    }
    double xs = hi > lo ? (hi - lo) / 255 : 1, zp = floor(-lo / xs + 0.5);
    zp = zp < 0 ? 0 : zp > 255 ? 255 : zp;
    char xsn[OX_NAME + 16], xzn[OX_NAME + 16], xq[OX_NAME + 16], xdq[OX_NAME + 16];
    snprintf(xsn, sizeof xsn, "%s.x_scale", name);
    snprintf(xzn, sizeof xzn, "%s.x_zero_point", name);
    snprintf(xq, sizeof xq, "%s.x_q", name);
    snprintf(xdq, sizeof xdq, "%s.x_dq", name);
    uint8_t *zraw = ox_initializer_raw(o, xzn, 0, NULL, ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 1);
    if (!zraw || ox_initializer(o, xsn, 0, NULL, &xs, 1))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    zraw[0] = (uint8_t)zp;
    const char *qin[3] = {o->x, xsn, xzn}, *dqin[3] = {xq, xsn, xzn};
    if (!ox_node(o, "QuantizeLinear", xq, 3, qin, xq) ||
        !ox_node(o, "DequantizeLinear", xdq, 3, dqin, xdq))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    return CG_OK;
}

/* Weights w (dims, ndim) as int8 per output channel, symmetric (scale
 * max|w| / 127): channel j's i-th value is w[i * rs + j * cs], i < per;
 * DequantizeLinear(axis) gives NAME.weight_dq. The node reads o->x, which
 * this leaves as it found it. */
static int ox_weight_int8(ox *o, const char *name, const double *w, size_t per, size_t n_ch,
                          size_t rs, size_t cs, int ndim, const int64_t *dims, int axis)
{
    char x[OX_NAME], wq[OX_NAME + 16], wsn[OX_NAME + 16], wzn[OX_NAME + 24], wdq[OX_NAME + 16];
    snprintf(x, sizeof x, "%s", o->x);
    snprintf(wq, sizeof wq, "%s.weight_q", name);
    snprintf(wsn, sizeof wsn, "%s.weight_scale", name);
    snprintf(wzn, sizeof wzn, "%s.weight_zero_point", name);
    snprintf(wdq, sizeof wdq, "%s.weight_dq", name);
    int64_t cd[1] = {(int64_t)n_ch};
    double *ws = cg_malloc(n_ch * sizeof *ws);
    uint8_t *wraw = ox_initializer_raw(o, wq, ndim, dims, ONNX__TENSOR_PROTO__DATA_TYPE__INT8, per * n_ch);
    uint8_t *wz = ox_initializer_raw(o, wzn, 1, cd, ONNX__TENSOR_PROTO__DATA_TYPE__INT8, n_ch);
    if (!ws || !wraw || !wz) {
        cg_free(ws);
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    for (size_t j = 0; j < n_ch; j++) {
        double amax = 0;
        for (size_t i = 0; i < per; i++) amax = fmax(amax, fabs(w[i * rs + j * cs]));
        ws[j] = amax > 0 ? amax / 127 : 1;
        for (size_t i = 0; i < per; i++) {
            double q = floor(w[i * rs + j * cs] / ws[j] + 0.5);
            wraw[i * rs + j * cs] = (uint8_t)(int8_t)(q < -127 ? -127 : q > 127 ? 127 : q);
        }
    }
    int rc = ox_initializer(o, wsn, 1, cd, ws, n_ch);
    cg_free(ws);
    const char *wdin[3] = {wq, wsn, wzn};
    Onnx__NodeProto *wn = NULL;
    if (rc || !(wn = ox_node(o, "DequantizeLinear", wdq, 3, wdin, wdq)) ||
        ox_attr_int(o, wn, "axis", axis))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    snprintf(o->x, sizeof o->x, "%s", x);
    return CG_OK;
}

/* The pending dense layer as QDQ: x -> QuantizeLinear -> DequantizeLinear,
 * W [in, out] int8 per output column -> DequantizeLinear(axis 1), then
 * Gemm with the float bias. */
static int ox_gemm_int8(ox *o, const char *bn)
{
    const char *name = o->pend_name;
    size_t in = (size_t)o->pend_in, out = (size_t)o->pend_out;
    int64_t wd[2] = {(int64_t)in, (int64_t)out};
    char xdq[OX_NAME + 16], wdq[OX_NAME + 16];
    snprintf(xdq, sizeof xdq, "%s.x_dq", name);
    snprintf(wdq, sizeof wdq, "%s.weight_dq", name);
    int rc = ox_qdq_input(o, name, in);
    if (!rc) rc = ox_weight_int8(o, name, o->pend_w, in, out, out, 1, 2, wd, 1);
    const char *gin[3] = {xdq, wdq, bn};
    if (!rc && !ox_node(o, "Gemm", name, 3, gin, name))
        rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    return rc;
}

static int ox_flush_conv(ox *o)
{
    o->pending = o->pend_conv = 0;
    char wn[OX_NAME + 16], bn[OX_NAME + 8];
    snprintf(wn, sizeof wn, "%s.weight", o->pend_name);
    snprintf(bn, sizeof bn, "%s.bias", o->pend_name);
    int k = o->pend_k;
    int64_t wd[4] = {o->pend_out, o->pend_in, k, k}, bd[1] = {o->pend_out};
    int64_t ks[2] = {k, k}, st[2] = {o->pend_stride, o->pend_stride};
    int64_t pads[4] = {o->pend_pads[0], o->pend_pads[1], o->pend_pads[2], o->pend_pads[3]};
    size_t per = (size_t)o->pend_in * (size_t)(k * k), n_in = (size_t)o->width;
    Onnx__NodeProto *nd = NULL;
    int rc = ox_initializer(o, bn, 1, bd, o->pend_b, (size_t)o->pend_out) ? CG_ERR_MEMORY : CG_OK;
    if (!rc && o->int8) { /* QDQ: the input per tensor, filter j int8 with its own scale */
        snprintf(wn, sizeof wn, "%s.weight_dq", o->pend_name);
        if (!(rc = ox_qdq_input(o, o->pend_name, n_in)))
            rc = ox_weight_int8(o, o->pend_name, o->pend_w, per, (size_t)o->pend_out, 1, per, 4, wd, 0);
        if (!rc) rc = ox_cal_conv(o);
    } else if (!rc && ox_initializer(o, wn, 4, wd, o->pend_w, (size_t)o->pend_out * per)) {
        rc = CG_ERR_MEMORY;
    }
    if (rc && rc != CG_ERR_MEMORY) return rc;
    const char *in[3] = {o->x, wn, bn};
    if (rc || !(nd = ox_node(o, "Conv", o->pend_name, 3, in, o->pend_name)) ||
        ox_attr_ints(o, nd, "kernel_shape", ks, 2) || ox_attr_ints(o, nd, "strides", st, 2) ||
        ox_attr_ints(o, nd, "pads", pads, 4))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    o->c = o->pend_c, o->h = o->pend_h, o->w = o->pend_w_;
    o->width = o->c * o->h * o->w;
    cg_free(o->pend_w);
    cg_free(o->pend_b);
    o->pend_w = o->pend_b = NULL;
    return CG_OK;
}

static int ox_flush_dense(ox *o)
{
    if (!o->pending) return CG_OK;
    if (o->pend_conv) return ox_flush_conv(o);
    o->pending = 0;
    char wn[OX_NAME + 8], bn[OX_NAME + 8];
    snprintf(wn, sizeof wn, "%s.weight", o->pend_name);
    snprintf(bn, sizeof bn, "%s.bias", o->pend_name);
    int64_t wd[2] = {o->pend_in, o->pend_out}, bd[1] = {o->pend_out};
    int rc;
    if (ox_initializer(o, bn, 1, bd, o->pend_b, (size_t)o->pend_out))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    if (o->int8) {
        if ((rc = ox_gemm_int8(o, bn))) return rc;
    } else {
        const char *in[3] = {o->x, wn, bn};
        if (ox_initializer(o, wn, 2, wd, o->pend_w, (size_t)o->pend_in * (size_t)o->pend_out) ||
            !ox_node(o, "Gemm", o->pend_name, 3, in, o->pend_name))
            return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    if ((rc = ox_cal_gemm(o))) return rc;
    o->width = o->pend_out;
    cg_free(o->pend_w);
    cg_free(o->pend_b);
    o->pend_w = o->pend_b = NULL;
    return CG_OK;
}

static int ox_dense(ox *o, const cJSON *l, const char *name)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(l, "units");
    if (!cJSON_IsNumber(u) || !(u->valuedouble >= 1 && u->valuedouble <= (1 << 24)))
        return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': no valid \"units\"", name);
    int units = (int)u->valuedouble, rc;
    if ((rc = ox_flush_dense(o))) return rc;
    char key[OX_NAME + 8];
    snprintf(key, sizeof key, "%s.weight", name);
    if ((rc = ox_tensor(o, key, (size_t)o->width * (size_t)units, &o->pend_w))) return rc;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "bias"))) {
        snprintf(key, sizeof key, "%s.bias", name);
        if ((rc = ox_tensor(o, key, (size_t)units, &o->pend_b))) return rc;
    } else if (!(o->pend_b = cg_calloc((size_t)units, sizeof *o->pend_b))) {
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    o->pending = 1;
    o->pend_in = o->width;
    o->pend_out = units;
    snprintf(o->pend_name, sizeof o->pend_name, "%s", name);
    o->width = units;
    return CG_OK;
}

static int ox_int_field(const cJSON *l, const char *key, int lo, int hi, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': no valid \"%s\"", name, key);
    *out = (int)v->valuedouble;
    return CG_OK;
}

/* A conv layer, held pending (a batch norm may fold into it). "Same"
 * padding splits as cg_conv2d does: the odd row after. */
static int ox_conv(ox *o, const cJSON *l, const char *name)
{
    int f = 0, k = 1, st = 1, pad = 0, rc;
    if ((rc = ox_flush_dense(o))) return rc;
    if (!o->img) return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': conv on flat input", name);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "padding");
    if ((rc = ox_int_field(l, "filters", 1, 1 << 20, name, &f)) ||
        (rc = ox_int_field(l, "kernel", 1, 4096, name, &k)) ||
        (rc = ox_int_field(l, "stride", 1, 4096, name, &st)))
        return rc;
    int same = cJSON_IsString(p) && strcmp(p->valuestring, "same") == 0;
    if (!same && (rc = ox_int_field(l, "padding", 0, 4096, name, &pad))) return rc;
    int oh, ow;
    if (same) {
        oh = (o->h + st - 1) / st, ow = (o->w + st - 1) / st;
        int th = (oh - 1) * st + k - o->h, tw = (ow - 1) * st + k - o->w;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        o->pend_pads[0] = th / 2, o->pend_pads[1] = tw / 2;
        o->pend_pads[2] = th - th / 2, o->pend_pads[3] = tw - tw / 2;
    } else {
        oh = (o->h + 2 * pad - k) / st + 1, ow = (o->w + 2 * pad - k) / st + 1;
        for (int i = 0; i < 4; i++) o->pend_pads[i] = pad;
    }
    size_t nw = (size_t)f * (size_t)o->c * (size_t)k * (size_t)k;
    char key[OX_NAME + 8];
    snprintf(key, sizeof key, "%s.weight", name);
    if ((rc = ox_tensor(o, key, nw, &o->pend_w))) return rc;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "bias"))) {
        snprintf(key, sizeof key, "%s.bias", name);
        if ((rc = ox_tensor(o, key, (size_t)f, &o->pend_b))) return rc;
    } else if (!(o->pend_b = cg_calloc((size_t)f, sizeof *o->pend_b))) {
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    o->pending = o->pend_conv = 1;
    o->pend_in = o->c;
    o->pend_out = f;
    o->pend_k = k;
    o->pend_stride = st;
    o->pend_c = f, o->pend_h = oh, o->pend_w_ = ow;
    snprintf(o->pend_name, sizeof o->pend_name, "%s", name);
    return CG_OK;
}

/* MaxPool / AveragePool (no padding), GlobalAveragePool + Flatten, or
 * Flatten. */
static int ox_pool(ox *o, const cJSON *l, const char *name, const char *t)
{
    int rc = ox_flush_dense(o);
    if (rc) return rc;
    if (!o->img) return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': %s on flat input", name, t);
    const char *in[1] = {o->x};
    if (!strcmp(t, "flatten") || !strcmp(t, "global_avg_pool2d")) {
        char gn[OX_NAME + 8];
        snprintf(gn, sizeof gn, "%s.pool", name);
        int gap = strcmp(t, "flatten") != 0;
        Onnx__NodeProto *nd = NULL;
        if ((gap && !ox_node(o, "GlobalAveragePool", gn, 1, in, gn)) ||
            !(in[0] = o->x, nd = ox_node(o, "Flatten", name, 1, in, name)) ||
            ox_attr_int(o, nd, "axis", 1))
            return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
        if (gap && (rc = ox_cal_pool(o, o->h, o->w, 1, 1, 1, 1))) return rc;
        o->width = gap ? o->c : o->c * o->h * o->w;
        o->img = 0;
        return CG_OK;
    }
    int k = 1, st = 1;
    if ((rc = ox_int_field(l, "kernel", 1, 4096, name, &k)) ||
        (rc = ox_int_field(l, "stride", 1, 4096, name, &st)))
        return rc;
    int64_t ks[2] = {k, k}, sts[2] = {st, st};
    Onnx__NodeProto *nd = ox_node(o, !strcmp(t, "max_pool2d") ? "MaxPool" : "AveragePool", name, 1, in, name);
    if (!nd || ox_attr_ints(o, nd, "kernel_shape", ks, 2) || ox_attr_ints(o, nd, "strides", sts, 2))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    int oh = (o->h - k) / st + 1, ow = (o->w - k) / st + 1;
    if ((rc = ox_cal_pool(o, k, k, st, oh, ow, strcmp(t, "max_pool2d") != 0))) return rc;
    o->h = oh, o->w = ow;
    o->width = o->c * o->h * o->w;
    return CG_OK;
}

/* Batch norm at inference: y = x s + (beta - mean s), s = gamma /
 * sqrt(var + eps), with the eps the library adds (in cg_real). */
static int ox_batch_norm(ox *o, const cJSON *l, const char *name)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(l, "eps");
    if (!cJSON_IsNumber(e) || !(e->valuedouble > 0) || !isfinite(e->valuedouble))
        return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': no valid \"eps\"", name);
    double eps = (double)(cg_real)e->valuedouble;
    static const char *const parts[] = {"gamma", "beta", "running_mean", "running_var"};
    double *p[4] = {NULL, NULL, NULL, NULL};
    int conv = o->pending && o->pend_conv;
    int rc = CG_OK, n = conv ? o->pend_out : o->img ? o->c : o->width;
    size_t per = conv ? (size_t)o->pend_in * (size_t)(o->pend_k * o->pend_k) : 0;
    for (int k = 0; k < 4 && rc == CG_OK; k++) {
        char key[OX_NAME + 16];
        snprintf(key, sizeof key, "%s.%s", name, parts[k]);
        rc = ox_tensor(o, key, (size_t)n, &p[k]);
    }
    for (int j = 0; rc == CG_OK && j < n; j++) {
        if (!(p[3][j] >= 0))
            rc = cg_error(CG_ERR_NUMERIC, "cg_export_onnx: '%s.running_var' is negative at %d",
                          name, j);
        double s = p[0][j] / sqrt(p[3][j] + eps);
        p[0][j] = s;                      /* scale */
        p[1][j] = p[1][j] - p[2][j] * s;  /* shift */
        if (conv) {
            for (size_t i = 0; i < per; i++) o->pend_w[(size_t)j * per + i] *= s;
            o->pend_b[j] = o->pend_b[j] * s + p[1][j];
        } else if (o->pending) {
            for (int i = 0; i < o->pend_in; i++) o->pend_w[(size_t)i * (size_t)n + (size_t)j] *= s;
            o->pend_b[j] = o->pend_b[j] * s + p[1][j];
        }
    }
    if (rc == CG_OK && o->pending) {
        size_t len = strlen(o->pend_name);
        snprintf(o->pend_name + len, sizeof o->pend_name - len, "+%s", name);
    } else if (rc == CG_OK) {
        char sn[OX_NAME + 8], bn[OX_NAME + 8], mul[OX_NAME + 8];
        snprintf(sn, sizeof sn, "%s.scale", name);
        snprintf(bn, sizeof bn, "%s.shift", name);
        snprintf(mul, sizeof mul, "%s.mul", name);
        if (o->img ? ox_channel_op(o, "Mul", mul, sn, p[0], n) || ox_channel_op(o, "Add", name, bn, p[1], n)
                   : ox_const_op(o, "Mul", mul, sn, p[0], n) || ox_const_op(o, "Add", name, bn, p[1], n))
            rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
        ox_cal_map(o, OX_CAL_AFFINE, p[0], n, p[1], 0);
    }
    for (int k = 0; k < 4; k++) cg_free(p[k]);
    return rc;
}

static int ox_layers(ox *o, const cJSON *spec)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(spec, "layers"), *l;
    int rc, i = 0, n = cJSON_GetArraySize(layers);
    if (!cJSON_IsArray(layers) || n < 1)
        return cg_error(CG_ERR_FORMAT, "cg_export_onnx: the model spec has no layers");
    cJSON_ArrayForEach(l, layers) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l, "name");
        if (!cJSON_IsString(type) || !cJSON_IsString(nm) || strlen(nm->valuestring) >= 64)
            return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer %d has no type or name", i);
        const char *t = type->valuestring, *name = nm->valuestring;
        i++;
        if (strcmp(t, "dense") == 0) {
            rc = ox_dense(o, l, name);
        } else if (strcmp(t, "batch_norm") == 0) {
            rc = ox_batch_norm(o, l, name);
        } else if (strcmp(t, "dropout") == 0) {
            rc = CG_OK; /* the identity at inference */
        } else if (strcmp(t, "conv2d") == 0) {
            rc = ox_conv(o, l, name);
        } else if (strcmp(t, "max_pool2d") == 0 || strcmp(t, "avg_pool2d") == 0 ||
                   strcmp(t, "global_avg_pool2d") == 0 || strcmp(t, "flatten") == 0) {
            rc = ox_pool(o, l, name, t);
        } else if (strcmp(t, "activation") == 0) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(l, "activation");
            int act = cJSON_IsString(a) ? cg_activation_from_name(a->valuestring) : -1;
            const char *op = act == CG_RELU      ? "Relu"
                             : act == CG_TANH    ? "Tanh"
                             : act == CG_SIGMOID ? "Sigmoid"
                                                 : NULL;
            if (!op && act != CG_LINEAR)
                return cg_error(CG_ERR_FORMAT, "cg_export_onnx: layer '%s': unknown activation",
                                name);
            if ((rc = ox_flush_dense(o)) == CG_OK && op) {
                const char *in[1] = {o->x};
                if (!ox_node(o, op, name, 1, in, name))
                    rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
                ox_cal_map(o, OX_CAL_ACT, NULL, 0, NULL, act);
            }
        } else {
            return cg_error(CG_ERR_STATE, "cg_export_onnx: layer '%s' of type '%s' has no ONNX "
                                          "form yet", name, t);
        }
        if (rc) return rc;
    }
    return ox_flush_dense(o);
}

/* The normaliser x' = (x * scale - mean) * inv_std, each step only where
 * it changes something; first, for a CSV model, missing (NaN) inputs
 * filled: Where(IsNaN(x), input.fill, x). */
static int ox_normalizer(ox *o, const cg_normalizer *nz, int d)
{
    if (!nz) return CG_OK;
    if (nz->d != d && (nz->mean || nz->inv_std))
        return cg_error(CG_ERR_SHAPE, "cg_export_onnx: the normaliser has %d features, the "
                                      "model takes %d", nz->d, d);
    if (nz->fill && nz->d != d)
        return cg_error(CG_ERR_SHAPE, "cg_export_onnx: the normaliser has %d features, the "
                                      "model takes %d", nz->d, d);
    double *v = cg_malloc((size_t)d * sizeof *v);
    if (!v) return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    int rc = CG_OK;
    if (nz->fill) { /* a missing input (NaN) takes the training data's value, as in cgrad */
        char x0[sizeof o->x];
        snprintf(x0, sizeof x0, "%s", o->x);
        int64_t dims[1] = {d};
        for (int j = 0; j < d; j++) v[j] = (double)nz->fill[j];
        const char *nan_in[1] = {x0}, *where_in[3] = {"input.missing", "input.fill", x0};
        rc = ox_initializer(o, "input.fill", 1, dims, v, (size_t)d);
        if (!rc && !ox_node(o, "IsNaN", "input.missing", 1, nan_in, "input.missing")) rc = CG_ERR_MEMORY;
        if (!rc && !ox_node(o, "Where", "input.filled", 3, where_in, "input.filled")) rc = CG_ERR_MEMORY;
    }
    if (!rc && nz->scale != 1.0f) {
        v[0] = (double)nz->scale;
        rc = ox_const_op(o, "Mul", "input.scaled", "input.scale", v, 0);
        ox_cal_map(o, OX_CAL_SCALE, v, 1, NULL, 0);
    }
    if (!rc && nz->mean) {
        for (int j = 0; j < d; j++) v[j] = (double)nz->mean[j];
        rc = ox_const_op(o, "Sub", "input.centred", "input.mean", v, d);
        ox_cal_map(o, OX_CAL_SUB, v, d, NULL, 0);
    }
    if (!rc && nz->inv_std) {
        for (int j = 0; j < d; j++) v[j] = (double)nz->inv_std[j];
        rc = ox_const_op(o, "Mul", "input.normalized", "input.inv_std", v, d);
        ox_cal_map(o, OX_CAL_SCALE, v, d, NULL, 0);
    }
    cg_free(v);
    return rc ? cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory") : CG_OK;
}

static int ox_metadata(ox *o, Onnx__ModelProto *mp, cg_model *m, const char *spec)
{
    Onnx__StringStringEntryProto **props = ox_alloc(o, 4 * sizeof *props);
    const char *keys[4] = {"cgrad_version", "cgrad_model_spec", "class_names",
                           "int8_calibration_examples"};
    char cal[32];
    snprintf(cal, sizeof cal, "%d", o->cal_n);
    char *names = NULL;
    if (cg_model_class_name(m, 0)) {
        cJSON *arr = cJSON_CreateArray();
        for (int c = 0; arr && c < cg_model_n_classes(m); c++)
            if (!cJSON_AddItemToArray(arr, cJSON_CreateString(cg_model_class_name(m, c)))) {
                cJSON_Delete(arr);
                arr = NULL;
            }
        char *s = arr ? cJSON_PrintUnformatted(arr) : NULL;
        cJSON_Delete(arr);
        if (!s) return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
        names = ox_str(o, s);
        cJSON_free(s);
    }
    const char *values[4] = {CG_VERSION, spec, names, o->int8 ? cal : NULL};
    size_t n = 0;
    for (int k = 0; k < 4 && props; k++) {
        if (!values[k]) continue;
        Onnx__StringStringEntryProto *e = ox_alloc(o, sizeof *e);
        if (!e) break;
        onnx__string_string_entry_proto__init(e);
        e->key = ox_str(o, keys[k]);
        e->value = ox_str(o, values[k]);
        props[n++] = e;
    }
    mp->n_metadata_props = n;
    mp->metadata_props = props;
    return o->oom ? cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory") : CG_OK;
}

/* Pack and write to a temporary file renamed over path, so a failed write
 * leaves no partial model. */
static int ox_write(const Onnx__ModelProto *mp, const char *path)
{
    size_t n = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = cg_malloc(n ? n : 1);
    size_t tlen = strlen(path) + 32;
    char *tmp = cg_malloc(tlen);
    if (!buf || !tmp) {
        cg_free(buf);
        cg_free(tmp);
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory (%zu bytes)", n);
    }
    onnx__model_proto__pack(mp, buf);
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    int rc = CG_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = cg_error(CG_ERR_IO, "%s: cannot write '%s': %s", path, tmp, strerror(errno));
    } else {
        int bad = fwrite(buf, 1, n, f) != n;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path) != 0) {
            rc = cg_error(CG_ERR_IO, "%s: %s", path, strerror(errno));
            remove(tmp);
        }
    }
    cg_free(buf);
    cg_free(tmp);
    return rc;
}

/* int8: the calibration sample, raw, spread evenly over the data set. */
static int ox_calibration(ox *o, const cg_onnx_options *opt, int d)
{
    const cg_dataset *ds = opt->calibration;
    if (!ds || ds->n < 1 || (!ds->x_u8 && !ds->x_f32))
        return cg_error(CG_ERR_ARG, "cg_export_onnx: int8 needs calibration examples");
    if (ds->d != d)
        return cg_error(CG_ERR_SHAPE, "cg_export_onnx: calibration examples have %d features, "
                                      "the model takes %d", ds->d, d);
    if (opt->calibrate < 0)
        return cg_error(CG_ERR_ARG, "cg_export_onnx: calibrate %d < 0", opt->calibrate);
    int n = opt->calibrate ? opt->calibrate : CG_ONNX_CALIBRATE;
    n = n < ds->n ? n : ds->n;
    if (!(o->cal = cg_malloc((size_t)n * (size_t)d * sizeof *o->cal)))
        return cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory (calibration)");
    for (int r = 0; r < n; r++) {
        size_t row = (size_t)((double)r * ds->n / n) * (size_t)d;
        for (size_t j = 0; j < (size_t)d; j++)
            o->cal[(size_t)r * (size_t)d + j] =
                ds->x_u8 ? (double)ds->x_u8[row + j] : (double)ds->x_f32[row + j];
    }
    o->cal_n = n;
    o->int8 = 1;
    return CG_OK;
}

int cg_export_onnx(cg_model *m, const cg_normalizer *nz, const char *path,
                   const cg_onnx_options *opt)
{
    if (!m || !path || !*path) return cg_error(CG_ERR_ARG, "cg_export_onnx: NULL model or path");
    int opset = opt && opt->opset ? opt->opset : CG_ONNX_OPSET;
    const char *input = opt && opt->input_name ? opt->input_name : "input";
    if (opset < 13 || opset > 17)
        return cg_error(CG_ERR_ARG, "cg_export_onnx: opset %d is not supported (13 to 17)", opset);
    if (!*input || strlen(input) >= OX_NAME || strcmp(input, "probabilities") == 0)
        return cg_error(CG_ERR_ARG, "cg_export_onnx: invalid input name '%.100s'", input);
    int shape[3], img = cg_model_input_shape(m, shape);
    ox o;
    memset(&o, 0, sizeof o);
    if (!(o.g = cg_model_graph(m))) return cg_last_error_code();
    int rc = opt && opt->int8 ? ox_calibration(&o, opt, cg_model_n_inputs(m)) : CG_OK;
    if (rc) {
        ox_free(&o);
        return rc;
    }
    /* Plan the graph so every variable and state tensor has its memory. */
    if ((cg_graph_param_count(o.g) && !cg_graph_params(o.g)) ||
        (cg_graph_state_count(o.g) && !cg_graph_state(o.g))) {
        ox_free(&o);
        return cg_last_error_code();
    }
    char *spec_s = cg_model_spec(m);
    if (!spec_s) {
        ox_free(&o);
        return cg_last_error_code();
    }
    cJSON *spec = cJSON_Parse(spec_s);
    int d = cg_model_n_inputs(m), c = cg_model_n_classes(m);
    snprintf(o.x, sizeof o.x, "%s", input);
    o.width = d;
    if (!spec) rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: cannot parse the model spec");
    if (!rc) rc = ox_normalizer(&o, nz, d);
    if (!rc && img) { /* rows in, images [batch, C, H, W] for the layers */
        int64_t dims[1] = {4};
        uint8_t *raw = ox_initializer_raw(&o, "input.image_shape", 1, dims,
                                          ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 32);
        int64_t v[4] = {-1, shape[0], shape[1], shape[2]};
        for (int i = 0; raw && i < 4; i++)
            for (int b = 0; b < 8; b++) raw[8 * i + b] = (uint8_t)((uint64_t)v[i] >> (8 * b));
        const char *in[2] = {o.x, "input.image_shape"};
        if (!raw || !ox_node(&o, "Reshape", "input.image", 2, in, "input.image"))
            rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
        o.img = 1, o.c = shape[0], o.h = shape[1], o.w = shape[2];
    }
    if (!rc) rc = ox_layers(&o, spec);
    if (!rc && o.width != c)
        rc = cg_error(CG_ERR_FORMAT, "cg_export_onnx: the last layer has %d units for %d "
                                     "classes", o.width, c);
    /* The head: class probabilities (Softmax), label probabilities
     * (Sigmoid), or a regression's values in the targets' units (Mul by
     * their std, Add their mean), named "predictions". */
    const int task = cg_model_task(m, NULL);
    const char *out = task == CG_TASK_REGRESSION ? "predictions" : "probabilities";
    Onnx__NodeProto *sm = NULL;
    if (!rc && task == CG_TASK_REGRESSION) {
        double *mean = cg_malloc((size_t)c * sizeof *mean), *sd = cg_malloc((size_t)c * sizeof *sd);
        for (int k = 0; mean && sd && k < c; k++) cg_model_target_scale(m, k, &mean[k], &sd[k]);
        if (!mean || !sd || ox_const_op(&o, "Mul", "targets.scaled", "targets.std", sd, c) ||
            ox_const_op(&o, "Add", out, "targets.mean", mean, c))
            rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
        cg_free(mean);
        cg_free(sd);
    } else if (!rc) {
        const char *in[1] = {o.x};
        if (!(sm = ox_node(&o, task ? "Sigmoid" : "Softmax", task ? "sigmoid" : "softmax", 1, in, out)) ||
            (!task && ox_attr_int(&o, sm, "axis", 1)))
            rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    Onnx__ModelProto *mp = ox_alloc(&o, sizeof *mp);
    Onnx__GraphProto *gp = ox_alloc(&o, sizeof *gp);
    Onnx__OperatorSetIdProto *os = ox_alloc(&o, sizeof *os);
    Onnx__OperatorSetIdProto **oss = ox_alloc(&o, sizeof *oss);
    Onnx__ValueInfoProto **ins = ox_alloc(&o, sizeof *ins), **outs = ox_alloc(&o, sizeof *outs);
    if (!rc && o.oom) rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    if (!rc) {
        onnx__model_proto__init(mp);
        onnx__graph_proto__init(gp);
        onnx__operator_set_id_proto__init(os);
        os->domain = ox_str(&o, "");
        os->has_version = 1;
        os->version = opset;
        oss[0] = os;
        /* IR 7 came with opset 13, IR 8 with opset 15. */
        mp->has_ir_version = 1;
        mp->ir_version = opset >= 15 ? 8 : 7;
        mp->n_opset_import = 1;
        mp->opset_import = oss;
        mp->producer_name = ox_str(&o, "cgrad");
        mp->producer_version = ox_str(&o, CG_VERSION);
        mp->doc_string = ox_str(&o, "A cgrad classifier: raw features in (the training "
                                    "normalisation is part of the graph), class "
                                    "probabilities out.");
        gp->name = ox_str(&o, "cgrad");
        gp->n_node = o.n_nodes;
        gp->node = o.nodes;
        gp->n_initializer = o.n_inits;
        gp->initializer = o.inits;
        ins[0] = ox_value_info(&o, input, d);
        outs[0] = ox_value_info(&o, out, c);
        gp->n_input = 1;
        gp->input = ins;
        gp->n_output = 1;
        gp->output = outs;
        mp->graph = gp;
        rc = ox_metadata(&o, mp, m, spec_s);
        if (!rc && o.oom) rc = cg_error(CG_ERR_MEMORY, "cg_export_onnx: out of memory");
    }
    if (!rc) rc = ox_write(mp, path);
    cJSON_Delete(spec);
    cg_free_string(spec_s);
    ox_free(&o);
    return rc;
}

#endif
