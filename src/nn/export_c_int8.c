/* SPDX-License-Identifier: MIT */
/* export_c_int8.c: the int8 form of an ex_net (cg_export_c_int8). Each
 * dense and conv layer gets int8 weights, symmetric per output column or
 * filter (scale max|w| / 127), and reads its input as uint8 codes over the
 * range that input reaches on calibration examples (widened to hold 0, so
 * that zero padding is exact). The ranges come from running the network
 * itself, as export_c.c built it (batch norm folded), in double, one
 * example at a time; the scheme is the ONNX export's QDQ one (onnx.c), so
 * both exports of a model compute the same numbers up to rounding. */
#include "internal.h"
#include "nn/export_c.h"

#include <math.h>
#include <string.h>

/* The largest |(q - z) w| is 255 * 127, so an int32 sum stays exact over
 * this many terms. */
#define MAX_FAN_IN 66000

typedef struct range {
    double lo, hi;
} range;

static void widen(range *r, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r->lo = x[i] < r->lo ? x[i] : r->lo;
        r->hi = x[i] > r->hi ? x[i] : r->hi;
    }
}

/* y = layer l (x): the float network, in double. */
static void forward(const ex_layer *l, const double *x, double *y)
{
    int n_in = l->n_in, n_out = l->n_out;
    if (l->kind == EX_DENSE) {
        for (int j = 0; j < n_out; j++) y[j] = l->b[j];
        for (int i = 0; i < n_in; i++)
            for (int j = 0; j < n_out; j++) y[j] += x[i] * l->w[(size_t)i * n_out + j];
    } else if (l->kind == EX_SCALE) {
        for (int i = 0; i < n_out; i++) y[i] = x[i] * l->w[i / l->hw] + l->b[i / l->hw];
    } else if (l->kind == EX_ACTIVATION) {
        for (int i = 0; i < n_out; i++)
            y[i] = l->activation == CG_RELU   ? (x[i] > 0 ? x[i] : 0)
                   : l->activation == CG_TANH ? tanh(x[i])
                                              : 1 / (1 + exp(-x[i]));
    } else if (l->kind == EX_CONV) {
        int c = l->ic, h = l->ih, w = l->iw, k = l->kernel, st = l->stride;
        for (int o = 0; o < l->oc; o++)
            for (int i = 0; i < l->oh; i++)
                for (int j = 0; j < l->ow; j++) {
                    double s = l->b[o];
                    for (int ci = 0; ci < c; ci++) {
                        const double *xc = x + (size_t)ci * h * w;
                        const double *wc = l->w + ((size_t)o * c + ci) * k * k;
                        for (int ki = 0; ki < k; ki++) {
                            int yy = i * st - l->pad_t + ki;
                            for (int kj = 0; yy >= 0 && yy < h && kj < k; kj++) {
                                int xx = j * st - l->pad_l + kj;
                                if (xx >= 0 && xx < w) s += xc[(size_t)yy * w + xx] * wc[ki * k + kj];
                            }
                        }
                    }
                    y[((size_t)o * l->oh + i) * l->ow + j] = s;
                }
    } else if (l->kind == EX_GAP) {
        size_t hw = (size_t)l->ih * l->iw;
        for (int ci = 0; ci < l->ic; ci++) {
            double s = 0;
            for (size_t i = 0; i < hw; i++) s += x[ci * hw + i];
            y[ci] = s / (double)hw;
        }
    } else { /* max or average pooling, no padding */
        int k = l->kernel, st = l->stride, w = l->iw;
        for (int ci = 0; ci < l->ic; ci++)
            for (int i = 0; i < l->oh; i++)
                for (int j = 0; j < l->ow; j++) {
                    const double *xw = x + ((size_t)ci * l->ih + (size_t)i * st) * w + (size_t)j * st;
                    double m = xw[0], s = 0;
                    for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++) {
                            double v = xw[(size_t)ki * w + kj];
                            m = v > m ? v : m;
                            s += v;
                        }
                    y[((size_t)ci * l->oh + i) * l->ow + j] = l->kind == EX_AVG_POOL ? s / (k * k) : m;
                }
    }
}

/* Example r of ds normalised as the generated code does it, into x. */
static void normalised(const ex_net *net, const cg_dataset *ds, size_t r, double *x)
{
    size_t d = (size_t)net->n_inputs;
    for (size_t j = 0; j < d; j++) {
        double v = ds->x_u8 ? (double)ds->x_u8[r * d + j] : (double)ds->x_f32[r * d + j];
        if (net->fill && isnan(v)) v = net->fill[j];
        v *= net->scale;
        x[j] = net->mean ? (v - net->mean[j]) * net->inv_std[j] : v;
    }
}

/* Layer l's int8 form from its input's range r. */
static int quantize_layer(ex_layer *l, range r)
{
    int conv = l->kind == EX_CONV;
    size_t n_ch = (size_t)(conv ? l->oc : l->n_out);
    size_t per = conv ? (size_t)l->ic * (size_t)l->kernel * (size_t)l->kernel : (size_t)l->n_in;
    if (per > MAX_FAN_IN)
        return cg_error(CG_ERR_ARG, "cg_export_c: layer %s sums %zu inputs an output; int8 "
                        "(an int32 sum) holds at most %d", l->what, per, MAX_FAN_IN);
    ex_quant *q = cg_calloc(1, sizeof *q);
    if (!q) return cg_error(CG_ERR_MEMORY, "cg_export_c: out of memory");
    l->q = q;
    q->w = cg_malloc(n_ch * per);
    q->scale = cg_malloc(n_ch * sizeof *q->scale);
    if (!q->w || !q->scale) return cg_error(CG_ERR_MEMORY, "cg_export_c: out of memory");
    q->x_scale = r.hi > r.lo ? (r.hi - r.lo) / 255 : 1;
    double z = floor(-r.lo / q->x_scale + 0.5);
    q->x_zero = z < 0 ? 0 : z > 255 ? 255 : (int)z;
    /* Channel j's i-th weight: dense w [n_in][n_out], conv [oc][per]. */
    size_t rs = conv ? 1 : n_ch, cs = conv ? per : 1;
    for (size_t j = 0; j < n_ch; j++) {
        double amax = 0;
        for (size_t i = 0; i < per; i++) amax = fmax(amax, fabs(l->w[i * rs + j * cs]));
        double ws = amax > 0 ? amax / 127 : 1;
        q->scale[j] = ws * q->x_scale;
        for (size_t i = 0; i < per; i++) {
            double v = floor(l->w[i * rs + j * cs] / ws + 0.5);
            q->w[j * per + i] = (signed char)(v < -127 ? -127 : v > 127 ? 127 : v);
        }
    }
    return CG_OK;
}

int ex_quantize(ex_net *net, const cg_dataset *ds, int calibrate)
{
    if (!ds || ds->n < 1 || (!ds->x_u8 && !ds->x_f32))
        return cg_error(CG_ERR_ARG, "cg_export_c: int8 needs calibration examples");
    if (ds->d != net->n_inputs)
        return cg_error(CG_ERR_ARG, "cg_export_c: calibration examples have %d features, the "
                                    "model takes %d", ds->d, net->n_inputs);
    if (calibrate < 0) return cg_error(CG_ERR_ARG, "cg_export_c: calibrate %d < 0", calibrate);
    int n = calibrate ? calibrate : CG_ONNX_CALIBRATE;
    n = n < ds->n ? n : ds->n;
    size_t width = (size_t)net->n_inputs;
    for (int i = 0; i < net->n_layers; i++)
        width = (size_t)net->layers[i].n_out > width ? (size_t)net->layers[i].n_out : width;
    double *a = cg_malloc(width * sizeof *a), *b = cg_malloc(width * sizeof *b);
    range *r = cg_calloc((size_t)net->n_layers + 1, sizeof *r); /* zeroed: 0 is in every range */
    int rc = a && b && r ? CG_OK : cg_error(CG_ERR_MEMORY, "cg_export_c: out of memory");
    for (int e = 0; !rc && e < n; e++) {
        normalised(net, ds, (size_t)((double)e * ds->n / n), a);
        for (int i = 0; i < net->n_layers; i++) {
            const ex_layer *l = &net->layers[i];
            if (l->kind == EX_DENSE || l->kind == EX_CONV) widen(&r[i], a, (size_t)l->n_in);
            forward(l, a, b);
            double *t = a;
            a = b;
            b = t;
        }
    }
    for (int i = 0; !rc && i < net->n_layers; i++)
        if (net->layers[i].kind == EX_DENSE || net->layers[i].kind == EX_CONV)
            rc = quantize_layer(&net->layers[i], r[i]);
    if (!rc) net->calibrated = n;
    cg_free(a);
    cg_free(b);
    cg_free(r);
    return rc;
}

void ex_quant_free(ex_quant *q)
{
    if (!q) return;
    cg_free(q->w);
    cg_free(q->scale);
    cg_free(q);
}
