/* SPDX-License-Identifier: MIT */
/* export_c_emit.c: print an ex_net (export_c.h) as C99 inference code: a
 * header with the sizes, the class names and NAME_predict, and a source
 * file with the weights as static const float arrays and one straight-line
 * function over them (int8: export_c.h's ex_quant). The generated code
 * needs only <math.h> (and int8, <stdint.h>). */
#include "internal.h"
#include "nn/export_c.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct emitter {
    FILE *f;
    const char *prefix;
    char upper[64];     /* prefix upper-cased, for macros */
} emitter;

/* A float literal that reads back as exactly the float nearest v: 9
 * significant digits always suffice (FLT_DECIMAL_DIG), and the suffix
 * keeps the compiler from rounding through double. Returns its length. */
static int float_literal(double v, char *s, size_t size)
{
    int n = snprintf(s, size, "%.9g", (double)(float)v);
    if (!strpbrk(s, ".e")) n += snprintf(s + n, size - (size_t)n, ".0"); /* "1f" is no literal */
    return n + snprintf(s + n, size - (size_t)n, "f");
}

static void put_float(emitter *e, double v)
{
    char s[48];
    float_literal(v, s, sizeof s);
    fputs(s, e->f);
}

static void put_array(emitter *e, const char *name, const double *v, size_t n)
{
    fprintf(e->f, "static const float %s[%zu] = {", name, n);
    int col = 80;
    for (size_t i = 0; i < n; i++) {
        char s[48];
        int len = float_literal(v[i], s, sizeof s) + 2; /* space, comma */
        if (col + len > 80) {
            fputs("\n   ", e->f);
            col = 3;
        }
        fprintf(e->f, " %s%s", s, i + 1 < n ? "," : "");
        col += len;
    }
    fputs("\n};\n\n", e->f);
}

/* int8 values, 16 to a line. */
static void put_int8_array(emitter *e, const char *name, const signed char *v, size_t n)
{
    fprintf(e->f, "static const signed char %s[%zu] = {", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(e->f, "%s%d%s", i % 16 ? " " : "\n    ", v[i], i + 1 < n ? "," : "");
    fputs("\n};\n\n", e->f);
}

/* A C string literal; bytes outside printable ASCII as 3-digit octal
 * escapes, which cannot swallow the character that follows. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f || *p == '?') fprintf(f, "\\%03o", *p); /* '?': trigraphs */
        else fputc(*p, f);
    }
    fputc('"', f);
}

/* Text from the checkpoint (a path, layer names) inside a comment: no
 * way to end the comment early, nothing outside printable ASCII, and no
 * '?' (trigraphs). */
static void put_comment_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c >= 0x7f || c == '?' ? '_' : c, f);
        if (c == '*' && s[1] == '/') fputc(' ', f);
    }
}

/* "`cgrad export` from PATH", or "cgrad" when the model has no source. */
static void put_source(FILE *f, const char *source)
{
    if (!source) {
        fputs("cgrad", f);
        return;
    }
    fputs("`cgrad export` from ", f);
    put_comment_text(f, source);
}

static int max_width(const ex_net *net)
{
    int w = net->n_inputs;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].n_out > w) w = net->layers[i].n_out;
    return w;
}

/* The largest output plane of an int8 conv layer (0 without one): its
 * int32 sums' buffer. */
static int max_plane(const ex_net *net)
{
    int n = 0;
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].q && net->layers[i].kind == EX_CONV && net->layers[i].oh * net->layers[i].ow > n)
            n = net->layers[i].oh * net->layers[i].ow;
    return n;
}

/* The two activation buffers of NAME_predict (and int8's quantised input
 * and conv sums); on the stack up to MAX_STACK bytes, beyond that static
 * (a big model on a small thread stack would crash). */
#define MAX_STACK (256 * 1024)
static size_t buffer_bytes(const ex_net *net)
{
    return (size_t)max_width(net) * (2 * sizeof(float) + (net->calibrated ? sizeof(short) : 0)) +
           (size_t)max_plane(net) * 4;
}

static void emit_header(emitter *e, const ex_net *net)
{
    FILE *f = e->f;
    const char *p = e->prefix, *P = e->upper;
    fprintf(f, "/* %s.h: a %s exported by ", p, net->task == CG_TASK_REGRESSION ? "regression model"
                                             : net->task == CG_TASK_MULTILABEL ? "multi-label model" : "classifier");
    put_source(f, net->source);
    fprintf(f,
            ".\n * Standalone C99 (link with -lm)%s; see %s.c. */\n"
            "#ifndef %s_H\n#define %s_H\n\n"
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
            "#define %s_N_INPUTS %d\n#define %s_N_CLASSES %d\n\n",
            net->calibrated ? ", int8 weights and integer sums" : "", p, P, P, P, net->n_inputs, P,
            net->n_classes);
    fprintf(f,
            "/* The name of each class%s. */\n"
            "extern const char *const %s_class_names[%s_N_CLASSES];\n\n",
            net->class_names ? "" : " (the checkpoint had none: \"0\", \"1\", ...)", p, P);
    size_t bytes = buffer_bytes(net);
    if (net->task) {
        fprintf(f,
                "/* Predict one example. x: %s_N_INPUTS raw features as the training data\n"
                " * held them (CSV values%s); the normalisation fitted in training is\n"
                " * applied here. Fills out[%s_N_CLASSES] with %s. Returns 0. %s %zu bytes. */\n"
                "int %s_predict(const float *x, float *out);\n\n"
                "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
                P, net->fill ? ", NaN for a missing one, a text column as its one-hot\n * features (docs/data.md)" : "", P,
                net->task == CG_TASK_REGRESSION ? "each target's value, in the target's units (the\n * class names are the target columns)"
                                                : "each label's probability (the class\n * names are the label columns)",
                bytes <= MAX_STACK ? "Reentrant: it writes no globals; its stack buffers take"
                                   : "Not reentrant: its static buffers take", bytes, p);
        return;
    }
    fprintf(f,
            "/* Classify one example. x: %s_N_INPUTS raw features as the training data\n"
            " * held them (pixel bytes as 0..255, or CSV values%s); the normalisation\n"
            " * fitted in training is applied here. Unless probs is NULL, fills\n"
            " * probs[%s_N_CLASSES] with the softmax probabilities. Returns the most\n"
            " * probable class (ties: the lowest). %s %zu bytes. */\n"
            "int %s_predict(const float *x, float *probs);\n\n"
            "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
            P, net->fill ? ", NaN for a missing one, a text\n * column as its one-hot features (docs/data.md)" : "", P,
            bytes <= MAX_STACK ? "Reentrant: it writes no globals; its stack buffers take"
                               : "Not reentrant: its static buffers take",
            bytes, p);
}

static const char *act_expr(int activation)
{
    switch (activation) {
    case CG_RELU: return "h > 0 ? h : 0.0f";
    case CG_TANH: return "tanhf(h)";
    default: /* sigmoid, split by sign so that expf never overflows */
        return "h >= 0 ? 1.0f / (1.0f + expf(-h)) : expf(h) / (1.0f + expf(h))";
    }
}

static void emit_source(emitter *e, const ex_net *net)
{
    FILE *f = e->f;
    const char *p = e->prefix, *P = e->upper;
    int has[EX_GAP + 1] = {0}, has_q[EX_GAP + 1] = {0}; /* float kernels, int8 ones */
    for (int i = 0; i < net->n_layers; i++) {
        if (net->layers[i].q) has_q[net->layers[i].kind] = 1;
        else has[net->layers[i].kind] = 1;
    }
    fprintf(f, "/* %s.c: a classifier exported by ", p);
    put_source(f, net->source);
    fputs(net->calibrated ? ".\n * Scales and biases are" : ".\n * Weights are", f);
    fputs(" floats printed with 9 significant digits, so each reads\n"
          " * back exactly; batch norm is folded into the dense or conv layer before\n"
          " * it and dropout, the identity at inference, is left out. Images are\n"
          " * stored channel by channel, row by row (C x H x W). Do not edit: export\n"
          " * again instead. */\n", f);
    if (net->calibrated)
        fprintf(f,
                "/* int8: each dense and conv layer's weights are int8, one scale per\n"
                " * output (max|w| / 127); its input is quantised to uint8 codes over\n"
                " * the range it reached on %d calibration examples (held below as\n"
                " * 1 / step and zero point), and the sum is int32: output j is\n"
                " * s[j] * sum_i (q_i - zero) w[j][i] + b[j], s[j] the input's step\n"
                " * times the weights' scale. */\n",
                net->calibrated);
    fprintf(f, "#include <math.h>\n%s\n#include \"%s.h\"\n\n",
            net->calibrated ? "#include <stdint.h>\n" : "", p);

    fprintf(f, "const char *const %s_class_names[%s_N_CLASSES] = {\n", p, P);
    for (int c = 0; c < net->n_classes; c++) {
        fputs("    ", f);
        if (net->class_names) put_string(f, net->class_names[c]);
        else fprintf(f, "\"%d\"", c);
        fputs(c + 1 < net->n_classes ? ",\n" : "\n};\n\n", f);
    }

    fputs("/* Input normalisation, as in training: x' = (x * scale - mean) * inv_std. */\n", f);
    fprintf(f, "static const float in_scale = ");
    put_float(e, net->scale);
    fputs(";\n", f);
    if (net->fill) {
        fputs("/* A missing input (NaN) takes the training data's value. */\n", f);
        put_array(e, "in_fill", net->fill, (size_t)net->n_inputs);
    }
    if (net->mean) {
        put_array(e, "in_mean", net->mean, (size_t)net->n_inputs);
        put_array(e, "in_inv_std", net->inv_std, (size_t)net->n_inputs);
    } else {
        fputs("\n", f);
    }

    /* Weighted layers' arrays are w1, b1, w2, b2, ... in order. */
    for (int i = 0, k = 0; i < net->n_layers; i++) {
        const ex_layer *l = &net->layers[i];
        if (!l->w) continue; /* activations and pools have no weights */
        char name[32];
        size_t nw, nb;
        fputs("/* ", f);
        put_comment_text(f, l->what);
        if (l->kind == EX_DENSE) {
            fprintf(f, ": %d -> %d, w[%d][%d] row-major */\n", l->n_in, l->n_out, l->n_in,
                    l->n_out);
            nw = (size_t)l->n_in * (size_t)l->n_out, nb = (size_t)l->n_out;
        } else if (l->kind == EX_CONV) {
            fprintf(f, ": %dx%dx%d -> %dx%dx%d, w[%d][%d][%d][%d] */\n", l->ic, l->ih, l->iw, l->oc,
                    l->oh, l->ow, l->oc, l->ic, l->kernel, l->kernel);
            nb = (size_t)l->oc, nw = nb * (size_t)l->ic * (size_t)l->kernel * (size_t)l->kernel;
        } else {
            fputs(l->hw > 1 ? ": per-channel scale and shift */\n" : ": per-feature scale and shift */\n", f);
            nw = nb = (size_t)(l->n_out / l->hw);
        }
        snprintf(name, sizeof name, "w%d", ++k);
        if (l->q) {
            size_t per = nw / nb;
            fprintf(f, "/* int8, w[%zu][%zu] (one row an output), s[%zu] scales */\n", nb, per, nb);
            put_int8_array(e, name, l->q->w, nw);
            snprintf(name, sizeof name, "s%d", k);
            put_array(e, name, l->q->scale, nb);
        } else {
            put_array(e, name, l->w, nw);
        }
        snprintf(name, sizeof name, "b%d", k);
        put_array(e, name, l->b, nb);
    }

    if (has[EX_DENSE])
        fputs("/* y = x w + b, w row-major [n_in][n_out]: one pass over w in memory order. */\n"
          "static void dense(const float *x, int n_in, const float *w, const float *b, int n_out,\n"
          "                  float *y)\n"
          "{\n"
          "    int i, j;\n"
          "    for (j = 0; j < n_out; j++) y[j] = b[j];\n"
          "    for (i = 0; i < n_in; i++) {\n"
          "        const float xi = x[i];\n"
          "        const float *wi = w + (long)i * n_out;\n"
          "        for (j = 0; j < n_out; j++) y[j] += xi * wi[j];\n"
          "    }\n"
          "}\n\n", f);
    if (has_q[EX_DENSE] || has_q[EX_CONV])
        fputs("/* q = x's uint8 code (x / step rounded, plus zero, clamped to 0..255)\n"
              " * minus zero, as an int8 layer reads it; inv = 1 / step. */\n"
              "static void quantize(const float *x, int n, float inv, int zero, short *q)\n"
              "{\n"
              "    int i;\n"
              "    for (i = 0; i < n; i++) {\n"
              "        float v = x[i] * inv + (float)zero;\n"
              "        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;\n"
              "        q[i] = (short)((int)(v + 0.5f) - zero);\n"
              "    }\n"
              "}\n\n", f);
    if (has_q[EX_DENSE])
        fputs("/* y = s (w q) + b, w int8 [n_out][n_in]: an int32 dot product a row. */\n"
              "static void dense_int8(const short *q, int n_in, const signed char *w, const float *s,\n"
              "                       const float *b, int n_out, float *y)\n"
              "{\n"
              "    int i, j;\n"
              "    for (j = 0; j < n_out; j++) {\n"
              "        const signed char *wj = w + (long)j * n_in;\n"
              "        int32_t acc = 0;\n"
              "        for (i = 0; i < n_in; i++) acc += q[i] * wj[i];\n"
              "        y[j] = (float)acc * s[j] + b[j];\n"
              "    }\n"
              "}\n\n", f);
    if (has_q[EX_CONV])
        fputs("/* conv2d on the quantised input q with int8 filters wt, one output plane\n"
              " * at a time: every weight adds w q over the plane into the int32 sums acc\n"
              " * (rows and columns that fall in the padding skipped: there q is 0, x's\n"
              " * code minus the zero point), a loop over contiguous columns at stride\n"
              " * 1; then y = s[o] acc + b[o]. */\n"
              "static void conv2d_int8(const short *q, int c, int h, int w, const signed char *wt,\n"
              "                        const float *s, const float *b, int oc, int k, int st, int pt,\n"
              "                        int pl, int oh, int ow, int32_t *acc, float *y)\n"
              "{\n"
              "    int o, ci, i, j, ki, kj, j0, j1;\n"
              "    for (o = 0; o < oc; o++) {\n"
              "        for (i = 0; i < oh * ow; i++) acc[i] = 0;\n"
              "        for (ci = 0; ci < c; ci++)\n"
              "            for (ki = 0; ki < k; ki++)\n"
              "                for (kj = 0; kj < k; kj++) {\n"
              "                    const int32_t wv = wt[(((long)o * c + ci) * k + ki) * k + kj];\n"
              "                    /* output columns j whose input column j st - pl + kj is inside */\n"
              "                    j0 = pl - kj > 0 ? (pl - kj + st - 1) / st : 0;\n"
              "                    j1 = w - 1 + pl - kj < 0 ? 0 : (w - 1 + pl - kj) / st + 1;\n"
              "                    if (j1 > ow) j1 = ow;\n"
              "                    if (wv == 0) continue;\n"
              "                    for (i = 0; i < oh; i++) {\n"
              "                        const int yy = i * st - pt + ki;\n"
              "                        const long base = ((long)ci * h + yy) * w - pl + kj;\n"
              "                        int32_t *ar = acc + (long)i * ow;\n"
              "                        if (yy < 0 || yy >= h) continue;\n"
              "                        if (st == 1)\n"
              "                            for (j = j0; j < j1; j++) ar[j] += wv * q[base + j];\n"
              "                        else\n"
              "                            for (j = j0; j < j1; j++) ar[j] += wv * q[base + (long)j * st];\n"
              "                    }\n"
              "                }\n"
              "        for (i = 0; i < oh * ow; i++) y[(long)o * oh * ow + i] = (float)acc[i] * s[o] + b[o];\n"
              "    }\n"
              "}\n\n", f);
    if (has[EX_SCALE])
        fputs("/* x = x s + b for n groups of hw values (a feature, or a channel's plane). */\n"
              "static void scale_shift(float *x, int n, int hw, const float *s, const float *b)\n"
              "{\n"
              "    int j, i;\n"
              "    for (j = 0; j < n; j++)\n"
              "        for (i = 0; i < hw; i++) x[j * hw + i] = x[j * hw + i] * s[j] + b[j];\n"
              "}\n\n", f);
    if (has[EX_CONV])
        fputs("/* y [oc][oh][ow] = conv(x [c][h][w], w [oc][c][k][k]) + b, stride st, zero\n"
              " * padding pt rows above and pl columns left (and what the output size needs\n"
              " * below and right). */\n"
              "static void conv2d(const float *x, int c, int h, int w, const float *wt, const float *b,\n"
              "                   int oc, int k, int st, int pt, int pl, int oh, int ow, float *y)\n"
              "{\n"
              "    int o, ci, i, j, ki, kj;\n"
              "    for (o = 0; o < oc; o++)\n"
              "        for (i = 0; i < oh; i++)\n"
              "            for (j = 0; j < ow; j++) {\n"
              "                float s = b[o];\n"
              "                for (ci = 0; ci < c; ci++) {\n"
              "                    const float *xc = x + (long)ci * h * w;\n"
              "                    const float *wc = wt + ((long)o * c + ci) * k * k;\n"
              "                    for (ki = 0; ki < k; ki++) {\n"
              "                        const int yy = i * st - pt + ki;\n"
              "                        if (yy < 0 || yy >= h) continue;\n"
              "                        for (kj = 0; kj < k; kj++) {\n"
              "                            const int xx = j * st - pl + kj;\n"
              "                            if (xx >= 0 && xx < w) s += xc[(long)yy * w + xx] * wc[ki * k + kj];\n"
              "                        }\n"
              "                    }\n"
              "                }\n"
              "                y[((long)o * oh + i) * ow + j] = s;\n"
              "            }\n"
              "}\n\n", f);
    if (has[EX_MAX_POOL] || has[EX_AVG_POOL])
        fputs("/* Max (avg = 0) or average (avg = 1) of k x k windows moved by st, no padding. */\n"
              "static void pool2d(const float *x, int c, int h, int w, int k, int st, int oh, int ow,\n"
              "                   int avg, float *y)\n"
              "{\n"
              "    int ci, i, j, ki, kj;\n"
              "    for (ci = 0; ci < c; ci++)\n"
              "        for (i = 0; i < oh; i++)\n"
              "            for (j = 0; j < ow; j++) {\n"
              "                const float *xw = x + ((long)ci * h + (long)i * st) * w + (long)j * st;\n"
              "                float m = xw[0], s = 0;\n"
              "                for (ki = 0; ki < k; ki++)\n"
              "                    for (kj = 0; kj < k; kj++) {\n"
              "                        const float v = xw[(long)ki * w + kj];\n"
              "                        if (v > m) m = v;\n"
              "                        s += v;\n"
              "                    }\n"
              "                y[((long)ci * oh + i) * ow + j] = avg ? s / (float)(k * k) : m;\n"
              "            }\n"
              "}\n\n", f);
    if (has[EX_GAP])
        fputs("/* y [c] = the mean of each hw-value plane of x. */\n"
              "static void global_avg_pool(const float *x, int c, int hw, float *y)\n"
              "{\n"
              "    int ci, i;\n"
              "    for (ci = 0; ci < c; ci++) {\n"
              "        float s = 0;\n"
              "        for (i = 0; i < hw; i++) s += x[(long)ci * hw + i];\n"
              "        y[ci] = s / (float)hw;\n"
              "    }\n"
              "}\n\n", f);

    int width = max_width(net);
    fprintf(f,
            "int %s_predict(const float *x, float *probs)\n"
            "{\n"
            "    %sfloat a[%d], b[%d];\n",
            p, buffer_bytes(net) <= MAX_STACK ? "" : "static ", width, width);
    if (net->calibrated)
        fprintf(f, "    %sshort q[%d];\n", buffer_bytes(net) <= MAX_STACK ? "" : "static ", width);
    if (has_q[EX_CONV])
        fprintf(f, "    %sint32_t acc[%d];\n", buffer_bytes(net) <= MAX_STACK ? "" : "static ", max_plane(net));
    fputs("    float sum;\n"
          "    int j, best = 0;\n", f);
    const char *in = net->fill ? "a" : "x";
    if (net->fill)
        fprintf(f, "    for (j = 0; j < %s_N_INPUTS; j++) a[j] = isnan(x[j]) ? in_fill[j] : x[j];\n", P);
    if (net->mean)
        fprintf(f, "    for (j = 0; j < %s_N_INPUTS; j++) a[j] = (%s[j] * in_scale - in_mean[j]) * "
                   "in_inv_std[j];\n", P, in);
    else
        fprintf(f, "    for (j = 0; j < %s_N_INPUTS; j++) a[j] = %s[j] * in_scale;\n", P, in);
    /* The activations live in a; a dense layer writes b, then the names swap. */
    const char *cur = "a", *other = "b";
    for (int i = 0, k = 0; i < net->n_layers; i++) {
        const ex_layer *l = &net->layers[i];
        if (l->q) {
            char inv[48];
            float_literal(1 / l->q->x_scale, inv, sizeof inv);
            fprintf(f, "    quantize(%s, %d, %s, %d, q);\n", cur, l->n_in, inv, l->q->x_zero);
        }
        if (l->kind == EX_DENSE && l->q) {
            k++;
            fprintf(f, "    dense_int8(q, %d, w%d, s%d, b%d, %d, %s); /* ", l->n_in, k, k, k, l->n_out,
                    other);
            const char *t = cur;
            cur = other;
            other = t;
        } else if (l->kind == EX_DENSE) {
            k++;
            fprintf(f, "    dense(%s, %d, w%d, b%d, %d, %s); /* ", cur, l->n_in, k, k, l->n_out,
                    other);
            const char *t = cur;
            cur = other;
            other = t;
        } else if (l->kind == EX_SCALE) {
            k++;
            fprintf(f, "    scale_shift(%s, %d, %d, w%d, b%d); /* ", cur, l->n_out / l->hw, l->hw, k, k);
        } else if (l->kind == EX_CONV || l->kind == EX_MAX_POOL || l->kind == EX_AVG_POOL ||
                   l->kind == EX_GAP) {
            if (l->kind == EX_CONV && l->q) {
                k++;
                fprintf(f, "    conv2d_int8(q, %d, %d, %d, w%d, s%d, b%d, %d, %d, %d, %d, %d, %d, %d, acc, %s); /* ",
                        l->ic, l->ih, l->iw, k, k, k, l->oc, l->kernel, l->stride, l->pad_t,
                        l->pad_l, l->oh, l->ow, other);
            } else if (l->kind == EX_CONV) {
                k++;
                fprintf(f, "    conv2d(%s, %d, %d, %d, w%d, b%d, %d, %d, %d, %d, %d, %d, %d, %s); /* ",
                        cur, l->ic, l->ih, l->iw, k, k, l->oc, l->kernel, l->stride, l->pad_t,
                        l->pad_l, l->oh, l->ow, other);
            } else if (l->kind == EX_GAP) {
                fprintf(f, "    global_avg_pool(%s, %d, %d, %s); /* ", cur, l->ic, l->ih * l->iw, other);
            } else {
                fprintf(f, "    pool2d(%s, %d, %d, %d, %d, %d, %d, %d, %d, %s); /* ", cur, l->ic, l->ih,
                        l->iw, l->kernel, l->stride, l->oh, l->ow, l->kind == EX_AVG_POOL, other);
            }
            const char *t = cur;
            cur = other;
            other = t;
        } else {
            fprintf(f, "    for (j = 0; j < %d; j++) { /* ", l->n_out);
        }
        put_comment_text(f, l->what);
        fputs(" */\n", f);
        if (l->kind == EX_ACTIVATION)
            fprintf(f,
                    "        const float h = %s[j];\n"
                    "        %s[j] = %s;\n"
                    "    }\n",
                    cur, cur, act_expr(l->activation));
    }
    if (net->task) { /* regression: the values (the target scale is folded in); multi-label: sigmoids */
        fprintf(f, "    (void)sum;\n    (void)best;\n    for (j = 0; j < %s_N_CLASSES; j++) probs[j] = ", P);
        fprintf(f, net->task == CG_TASK_REGRESSION ? "%s[j];\n" : "1.0f / (1.0f + expf(-%s[j]));\n", cur);
        fputs("    return 0;\n}\n", f);
        return;
    }
    fprintf(f,
            "    /* Softmax with the max logit subtracted, so that expf never overflows. */\n"
            "    for (j = 1; j < %s_N_CLASSES; j++)\n"
            "        if (%s[j] > %s[best]) best = j;\n"
            "    if (probs) {\n"
            "        sum = 0;\n"
            "        for (j = 0; j < %s_N_CLASSES; j++) sum += probs[j] = expf(%s[j] - %s[best]);\n"
            "        for (j = 0; j < %s_N_CLASSES; j++) probs[j] /= sum;\n"
            "    }\n"
            "    return best;\n"
            "}\n",
            P, cur, cur, P, cur, cur, P);
}

/* Write one file through fn; remove it if anything failed. */
static int write_file(emitter *e, const ex_net *net, const char *path,
                      void (*fn)(emitter *, const ex_net *))
{
    e->f = fopen(path, "w");
    if (!e->f) return cg_error(CG_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    fn(e, net);
    int failed = ferror(e->f);
    failed |= fclose(e->f) != 0;
    if (failed) {
        remove(path);
        return cg_error(CG_ERR_IO, "writing '%s' failed", path);
    }
    return CG_OK;
}

int ex_emit(const ex_net *net, const char *dir, const char *prefix)
{
    emitter e;
    memset(&e, 0, sizeof e);
    e.prefix = prefix;
    size_t n = strlen(prefix);
    if (n >= sizeof e.upper) n = sizeof e.upper - 1;
    for (size_t i = 0; i < n; i++) e.upper[i] = (char)toupper((unsigned char)prefix[i]);
    size_t len = strlen(dir) + n + 4; /* '/', ".h", NUL */
    char *h = cg_malloc(len), *c = cg_malloc(len);
    int rc = h && c ? CG_OK : cg_error(CG_ERR_MEMORY, "cg_export_c: out of memory");
    if (!rc) {
        snprintf(h, len, "%s/%s.h", dir, prefix);
        snprintf(c, len, "%s/%s.c", dir, prefix);
        rc = write_file(&e, net, h, emit_header);
    }
    if (!rc && (rc = write_file(&e, net, c, emit_source))) remove(h);
    cg_free(h);
    cg_free(c);
    return rc;
}
