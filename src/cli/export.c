/* SPDX-License-Identifier: MIT */
/* export.c: `cgrad export --model CKPT --c DIR`: read a checkpoint's model
 * spec, normaliser and weights (straight from the safetensors file: only
 * inference needs them, not the optimizer), fold batch norm into the dense
 * layer before it, and hand the network to export_emit.c to print as C. */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/export.h"
#include "io/safetensors.h"

#define MAX_PREFIX 48

void cli_export_help(FILE *f)
{
    fprintf(f,
            "usage: cgrad export --model CKPT (--c DIR | --onnx FILE) [flags]\n"
            "\n"
            "Write a trained classifier as standalone C99 inference code: DIR/model.h and\n"
            "DIR/model.c, which need only <math.h>. model_predict(x, probs) takes the raw\n"
            "features as the training data held them (pixel bytes as 0..255, or CSV values),\n"
            "applies the training normalisation, fills the class probabilities and returns\n"
            "the most probable class. Batch norm is folded into the dense layer before it;\n"
            "dropout is left out (it is the identity at inference).\n"
            "\n"
            "  --model CKPT   checkpoint written by `cgrad train --out` (.safetensors)\n"
            "  --c DIR        output directory (created if missing)\n"
            "  --onnx FILE    also or instead: an ONNX model (opset 13) taking the same raw\n"
            "                 features, normalisation inside, output \"probabilities\"\n"
            "  --int8         with --onnx: int8 weights (per output column) and activations\n"
            "                 (QDQ), activation ranges calibrated on examples of --data\n"
            "  --data SPEC    with --int8: the training data (as for cgrad train)\n"
            "  --calibrate N  with --int8: examples used for calibration (default 1000)\n"
            "  --prefix NAME  C identifier naming the files (NAME.h, NAME.c) and the\n"
            "                 symbols: NAME_predict, NAME_class_names, NAME_N_INPUTS,\n"
            "                 NAME_N_CLASSES upper-cased (default model)\n"
            "  --help         this text\n");
}

static int fail(const char *fmt, ...) CLI_PRINTF;
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cgrad export: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return CLI_FAIL;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "cgrad export: %s%s (see `cgrad export --help`)\n", what, arg);
    return CLI_USAGE;
}

static int is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_PREFIX || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}


/* --- Reading the checkpoint --- */

typedef struct reader {
    const char *path;
    st_file st;
    ex_net *net;
} reader;

/* Tensor `name` of shape [d0] (d1 < 0) or [d0, d1], as doubles (allocated
 * into *out). Every value must be finite. */
static int read_tensor(reader *r, const char *name, int d0, int d1, double **out)
{
    const st_tensor *t = st_find(&r->st, name);
    if (!t) return fail("%s: no tensor '%s'", r->path, name);
    int ndim = d1 < 0 ? 1 : 2;
    if (t->ndim != ndim || t->shape[0] != d0 || (ndim == 2 && t->shape[1] != d1)) {
        char have[128] = "", want[64];
        size_t len = 0;
        for (int i = 0; i < t->ndim && len < sizeof have - 24; i++)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%lld", i ? ", " : "",
                                    (long long)t->shape[i]);
        if (ndim == 1) snprintf(want, sizeof want, "%d", d0);
        else snprintf(want, sizeof want, "%d, %d", d0, d1);
        return fail("%s: tensor '%s' has shape [%s], the model spec needs [%s]", r->path, name,
                    have, want);
    }
    size_t n = t->count;
    cg_real *tmp = malloc((n ? n : 1) * sizeof *tmp);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!tmp || !v) {
        free(tmp);
        free(v);
        return fail("out of memory reading tensor '%s'", name);
    }
    if (st_read(&r->st, t, tmp, n)) {
        free(tmp);
        free(v);
        return fail("%s", cg_last_error());
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = (double)tmp[i];
        if (!isfinite(v[i])) {
            free(tmp);
            free(v);
            return fail("%s: tensor '%s' holds a non-finite value at index %zu", r->path, name, i);
        }
    }
    free(tmp);
    *out = v;
    return CLI_OK;
}

static ex_layer *push_layer(ex_net *net, int kind, int n_in, int n_out, const char *what)
{
    ex_layer *l = realloc(net->layers, (size_t)(net->n_layers + 1) * sizeof *l);
    if (!l) return NULL;
    net->layers = l;
    l += net->n_layers++;
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->n_in = n_in;
    l->n_out = n_out;
    snprintf(l->what, sizeof l->what, "%s", what);
    return l;
}

static const char *layer_name(const cJSON *l)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "name");
    return cJSON_IsString(v) && strlen(v->valuestring) < 64 ? v->valuestring : NULL;
}

/* Integer field in [1, 2^24]; -1 if missing or not one. */
static int units_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= (1 << 24)) ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    return (int)v->valuedouble;
}

static int add_dense(reader *r, const cJSON *l, const char *name, int *width)
{
    int units = units_field(l, "units");
    if (units < 0) return fail("%s: model spec: layer '%s': \"units\" must be a positive integer",
                               r->path, name);
    char key[96];
    ex_layer *e = push_layer(r->net, EX_DENSE, *width, units, name);
    if (!e) return fail("out of memory");
    snprintf(key, sizeof key, "%s.weight", name);
    if (read_tensor(r, key, *width, units, &e->w)) return CLI_FAIL;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "bias"))) {
        snprintf(key, sizeof key, "%s.bias", name);
        if (read_tensor(r, key, units, -1, &e->b)) return CLI_FAIL;
    } else {
        e->b = calloc((size_t)units, sizeof *e->b);
        if (!e->b) return fail("out of memory");
    }
    *width = units;
    return CLI_OK;
}

/* Batch norm at inference is y = x * s + (beta - mean * s) with
 * s = gamma / sqrt(var + eps): fold it into the dense layer before it
 * (W' = W s per output column, b' = (b - mean) s + beta), else keep it as a
 * per-feature scale and shift. Folding is done in double, so the only
 * rounding is the final one to float. */
static int add_batch_norm(reader *r, const cJSON *l, const char *name, int width)
{
    const cJSON *eps_j = cJSON_GetObjectItemCaseSensitive(l, "eps");
    if (!cJSON_IsNumber(eps_j) || !(eps_j->valuedouble > 0) || !isfinite(eps_j->valuedouble))
        return fail("%s: model spec: layer '%s': \"eps\" must be a positive number", r->path, name);
    double eps = eps_j->valuedouble;
    /* The library normalises in cg_real; the float eps is what it adds. */
    if (sizeof(cg_real) == sizeof(float)) eps = (double)(float)eps;
    static const char *const parts[] = {"gamma", "beta", "running_mean", "running_var"};
    double *p[4] = {NULL, NULL, NULL, NULL};
    int status = CLI_OK;
    for (int k = 0; k < 4 && status == CLI_OK; k++) {
        char key[96];
        snprintf(key, sizeof key, "%s.%s", name, parts[k]);
        status = read_tensor(r, key, width, -1, &p[k]);
    }
    for (int j = 0; status == CLI_OK && j < width; j++)
        if (!(p[3][j] >= 0))
            status = fail("%s: tensor '%s.running_var' holds a negative variance at index %d",
                          r->path, name, j);
    ex_net *net = r->net;
    ex_layer *prev = net->n_layers ? &net->layers[net->n_layers - 1] : NULL;
    int fold = prev && (prev->kind == EX_DENSE || prev->kind == EX_SCALE);
    if (status == CLI_OK && !fold) {
        prev = push_layer(net, EX_SCALE, width, width, name);
        if (!prev || !(prev->w = malloc((size_t)width * sizeof *prev->w)) ||
            !(prev->b = calloc((size_t)width, sizeof *prev->b)))
            status = fail("out of memory");
        else
            for (int j = 0; j < width; j++) prev->w[j] = 1;
    }
    if (status == CLI_OK) {
        int rows = prev->kind == EX_DENSE ? prev->n_in : 1; /* a scale is one row */
        for (int j = 0; j < width; j++) {
            double s = p[0][j] / sqrt(p[3][j] + eps);
            for (int i = 0; i < rows; i++) prev->w[(size_t)i * (size_t)width + (size_t)j] *= s;
            prev->b[j] = (prev->b[j] - p[2][j]) * s + p[1][j];
        }
        if (fold) {
            size_t len = strlen(prev->what);
            snprintf(prev->what + len, sizeof prev->what - len, " (%s folded in)", name);
        }
    }
    for (int k = 0; k < 4; k++) free(p[k]);
    return status;
}

static int read_layers(reader *r, const cJSON *spec)
{
    ex_net *net = r->net;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(spec, "layers");
    int n = cJSON_GetArraySize(layers);
    if (!cJSON_IsArray(layers) || n < 1)
        return fail("%s: model spec: \"layers\" must be a non-empty array", r->path);
    int width = net->n_inputs, i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        const char *name = layer_name(l);
        if (!cJSON_IsString(type) || !name)
            return fail("%s: model spec: layer %d has no \"type\" or \"name\" string", r->path, i);
        const char *t = type->valuestring;
        int last = ++i == n;
        if (last && strcmp(t, "dense") != 0)
            return fail("%s: model spec: the last layer ('%s') must be the dense output layer",
                        r->path, name);
        if (strcmp(t, "dense") == 0) {
            if (add_dense(r, l, name, &width)) return CLI_FAIL;
            if (last && width != net->n_classes)
                return fail("%s: model spec: the output layer '%s' has %d units for %d classes",
                            r->path, name, width, net->n_classes);
        } else if (strcmp(t, "batch_norm") == 0) {
            if (add_batch_norm(r, l, name, width)) return CLI_FAIL;
        } else if (strcmp(t, "activation") == 0) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(l, "activation");
            int act = cJSON_IsString(a) ? cg_activation_from_name(a->valuestring) : -1;
            if (act != CG_LINEAR && act != CG_RELU && act != CG_TANH && act != CG_SIGMOID)
                return fail("%s: model spec: layer '%s': unknown activation", r->path, name);
            if (act != CG_LINEAR) {
                ex_layer *e = push_layer(net, EX_ACTIVATION, width, width, name);
                if (!e) return fail("out of memory");
                e->activation = act;
            }
        } else if (strcmp(t, "dropout") != 0) { /* dropout: identity at inference */
            return fail("%s: model spec: layer '%s' has unknown type '%s'", r->path, name, t);
        }
    }
    return CLI_OK;
}

/* "normalizer": {"d":..,"scale":..,"standardized":..}, with the tensors
 * input.mean and input.inv_std when standardized. Without it the inputs
 * go in as they are (scale 1), as cg_checkpoint_load has it. */
static int read_normalizer(reader *r)
{
    ex_net *net = r->net;
    const char *text = st_meta(&r->st, "normalizer");
    net->scale = 1;
    if (!text) return CLI_OK;
    cJSON *o = cJSON_Parse(text);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "d");
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(o, "scale");
    const cJSON *std = cJSON_GetObjectItemCaseSensitive(o, "standardized");
    int ok = cJSON_IsNumber(d) && cJSON_IsNumber(scale) && cJSON_IsBool(std) &&
             isfinite(scale->valuedouble) && fabs(scale->valuedouble) <= FLT_MAX;
    int d_value = ok ? (int)d->valuedouble : 0;
    double scale_value = ok ? scale->valuedouble : 0;
    int standardized = ok && cJSON_IsTrue(std);
    cJSON_Delete(o);
    if (!ok) return fail("%s: \"normalizer\" metadata is not {\"d\", \"scale\", \"standardized\"}",
                         r->path);
    if (d_value != net->n_inputs)
        return fail("%s: the normalizer is for %d features, the model has %d inputs", r->path,
                    d_value, net->n_inputs);
    net->scale = scale_value;
    if (!standardized) return CLI_OK;
    if (read_tensor(r, "input.mean", net->n_inputs, -1, &net->mean) ||
        read_tensor(r, "input.inv_std", net->n_inputs, -1, &net->inv_std))
        return CLI_FAIL;
    return CLI_OK;
}

/* "class_names": optional JSON array of n_classes strings. */
static int read_class_names(reader *r)
{
    ex_net *net = r->net;
    const char *text = st_meta(&r->st, "class_names");
    if (!text) return CLI_OK;
    cJSON *a = cJSON_Parse(text);
    int status = CLI_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != net->n_classes)
        status = fail("%s: \"class_names\" metadata is not an array of %d names", r->path,
                      net->n_classes);
    else if (!(net->class_names = calloc((size_t)net->n_classes, sizeof *net->class_names)))
        status = fail("out of memory");
    int c = 0;
    const cJSON *s;
    if (status == CLI_OK)
        cJSON_ArrayForEach(s, a) {
            if (!cJSON_IsString(s)) {
                status = fail("%s: \"class_names\" entry %d is not a string", r->path, c);
                break;
            }
            size_t len = strlen(s->valuestring);
            if (!(net->class_names[c] = malloc(len + 1))) {
                status = fail("out of memory");
                break;
            }
            memcpy(net->class_names[c++], s->valuestring, len + 1);
        }
    cJSON_Delete(a);
    return status;
}

static int read_spec(reader *r)
{
    const char *text = st_meta(&r->st, "model");
    if (!text) return fail("%s: no \"model\" metadata (the model spec)", r->path);
    cJSON *spec = cJSON_Parse(text);
    int status = CLI_OK;
    r->net->n_inputs = units_field(spec, "n_inputs");
    r->net->n_classes = units_field(spec, "n_classes");
    if (!cJSON_IsObject(spec))
        status = fail("%s: the \"model\" metadata is not a JSON object", r->path);
    else if (r->net->n_inputs < 1 || r->net->n_classes < 1)
        status = fail("%s: model spec: \"n_inputs\" and \"n_classes\" must be positive integers",
                      r->path);
    else
        status = read_layers(r, spec);
    cJSON_Delete(spec);
    return status;
}

static void free_net(ex_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        free(net->layers[i].w);
        free(net->layers[i].b);
    }
    free(net->layers);
    if (net->class_names)
        for (int c = 0; c < net->n_classes; c++) free(net->class_names[c]);
    free(net->class_names);
    free(net->mean);
    free(net->inv_std);
    memset(net, 0, sizeof *net);
}

static int read_checkpoint(const char *path, ex_net *net)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.net = net;
    memset(net, 0, sizeof *net);
    net->source = path;
    if (st_load(path, &r.st)) return fail("%s", cg_last_error());
    const char *format = st_meta(&r.st, "format");
    const char *version = st_meta(&r.st, "format_version");
    int status = CLI_OK;
    if (!format || strcmp(format, "cgrad") != 0)
        status = fail("%s: not a cgrad checkpoint (no \"format\": \"cgrad\" metadata)", path);
    else if (!version || strcmp(version, "1") != 0)
        status = fail("%s: checkpoint format_version '%s' is not supported (this cgrad reads 1)",
                      path, version ? version : "(missing)");
    else if (read_spec(&r) || read_normalizer(&r) || read_class_names(&r))
        status = CLI_FAIL;
    st_free(&r.st);
    if (status != CLI_OK) free_net(net);
    return status;
}

/* --- The command --- */

int cli_export(int argc, char **argv)
{
    const char *model = NULL, *dir = NULL, *prefix = "model", *onnx = NULL, *data = NULL;
    const char *calibrate = NULL;
    int int8 = 0;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            cli_export_help(stdout);
            return CLI_OK;
        }
        if (strcmp(f, "--int8") == 0) {
            int8 = 1;
            continue;
        }
        const char **dst = strcmp(f, "--model") == 0    ? &model
                           : strcmp(f, "--c") == 0      ? &dir
                           : strcmp(f, "--prefix") == 0 ? &prefix
                           : strcmp(f, "--onnx") == 0   ? &onnx
                           : strcmp(f, "--data") == 0   ? &data
                           : strcmp(f, "--calibrate") == 0 ? &calibrate
                                                        : NULL;
        if (!dst)
            return usage_error(f[0] == '-' ? "unknown flag " : "unexpected argument ",
                               f);
        if (i + 1 >= argc) return usage_error(f, " needs a value");
        *dst = argv[++i];
    }
    if (!model) return usage_error("--model CKPT is required", "");
    if (!dir && !onnx) return usage_error("--c DIR or --onnx FILE is required", "");
    if (!is_identifier(prefix))
        return usage_error("--prefix: not a C identifier of at most 48 characters: ", prefix);

    cg_onnx_options opt = {0};
    opt.int8 = int8;
    if (int8 && (!onnx || !data))
        return usage_error("--int8 needs --onnx FILE and --data SPEC", "");
    if (!int8 && (data || calibrate))
        return usage_error(data ? "--data" : "--calibrate", " needs --int8");
    if (calibrate && cli_parse_int("--calibrate", calibrate, 1, 1 << 20, &opt.calibrate))
        return CLI_USAGE;
    if (onnx) {
        cg_normalizer nz;
        cg_dataset ds = {0};
        cg_model *m = cg_checkpoint_load(model, NULL, &nz, NULL);
        int rc = m && (!int8 || cg_load_dataset(data, NULL, 1, &ds) == CG_OK) ? CG_OK : CLI_FAIL;
        opt.calibration = &ds;
        if (rc == CG_OK) rc = cg_export_onnx(m, &nz, onnx, &opt);
        if (m) cg_normalizer_free(&nz);
        cg_dataset_free(&ds);
        cg_model_free(m);
        if (rc) return fail("%s", cg_last_error());
        printf("wrote %s\n", onnx);
        if (!dir) return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    ex_net net;
    if (read_checkpoint(model, &net)) return CLI_FAIL;
    int status;
    if (cli_make_dirs(dir) != 0)
        status = fail("--c: cannot create directory '%s': %s", dir, strerror(errno));
    else
        status = export_emit(&net, dir, prefix);
    if (status == CLI_OK) {
        size_t params = 0;
        for (int i = 0; i < net.n_layers; i++)
            if (net.layers[i].kind != EX_ACTIVATION)
                params += (size_t)net.layers[i].n_in * (size_t)(net.layers[i].kind == EX_DENSE
                                                                     ? net.layers[i].n_out
                                                                     : 1) +
                          (size_t)net.layers[i].n_out;
        printf("wrote %s/%s.h and %s/%s.c: %d inputs, %d classes, %zu parameters\n", dir, prefix,
               dir, prefix, net.n_inputs, net.n_classes, params);
        status = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    free_net(&net);
    return status;
}
