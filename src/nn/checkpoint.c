/* SPDX-License-Identifier: MIT */
/* checkpoint.c: a model, its optimizer and its input normalisation saved to
 * and restored from one safetensors file, so that training resumes exactly.
 *
 * Tensors: every variable and state node under its graph name
 * ("dense1.weight", "bn1.running_mean", ...), the optimizer's moments as
 * "optimizer.m.<name>" / "optimizer.v.<name>", and the standardisation
 * constants as "input.mean" / "input.inv_std" (and a CSV model's values
 * for missing cells, "input.fill"). Metadata (strings): format,
 * format_version, model (the spec, see cg_model_spec), normalizer, table
 * (a CSV model's column encoding, cg_table_to_json), class_names, epoch, step, best_val_acc, optimizer (its settings and
 * counters, cg_optimizer_to_json), rng (the graph's PRNG state, which
 * dropout draws from) and config (the run configuration,
 * cg_run_config_to_json).
 *
 * Format 1 (cgrad 0.1) kept the command line's flags ("train": {"argv":
 * [...]}) and the optimizer's fields flat. Its model, weights,
 * normalisation and class names load as before (eval, predict, export);
 * its optimizer and flags are not read, so it cannot be resumed. */
#include "internal.h"
#include "json.h"
#include "node.h"
#include "io/safetensors.h"
#include "nn/model.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#define FORMAT_NAME "cgrad"
#define FORMAT_VERSION "2"
#define FORMAT_VERSION_1 "1" /* read, not resumable */

static const char *const optimizer_prefix[2] = {"optimizer.m.", "optimizer.v."};

/* Variables and state nodes: what a checkpoint holds for the model. */
static int is_saved(const cg_node *n) { return n->kind == CG_KIND_VARIABLE || n->kind == CG_KIND_STATE; }

static char *normalizer_json(const cg_normalizer *nz)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddNumberToObject(j, "d", nz->d);
    cJSON_AddNumberToObject(j, "scale", nz->scale);
    cJSON_AddBoolToObject(j, "standardized", nz->mean != NULL);
    if (nz->fill) cJSON_AddBoolToObject(j, "fill", 1);
    return cg_json_text(j);
}

static char *class_names_json(const cg_model *m)
{
    if (!m->class_names) return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < m->n_classes; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(m->class_names[i]));
    return cg_json_text(a);
}

static char *rng_json(const cg_rng *r)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < 4; i++) {
        char h[24];
        snprintf(h, sizeof h, "%016" PRIx64, r->s[i]);
        cJSON_AddItemToArray(a, cJSON_CreateString(h));
    }
    return cg_json_text(a);
}

enum { MAX_META = 16 };

typedef struct meta_list {
    const char *keys[MAX_META];
    char *values[MAX_META];
    int n, failed;
} meta_list;

/* Takes ownership of value (NULL: allocation failed, unless optional). */
static void meta_add(meta_list *ml, const char *key, char *value, int optional)
{
    if (!value || ml->n == MAX_META) {
        if (!optional || value) ml->failed = 1;
        free(value);
        return;
    }
    ml->keys[ml->n] = key;
    ml->values[ml->n++] = value;
}

static char *number_text(const char *fmt, double v)
{
    char b[64];
    snprintf(b, sizeof b, fmt, v);
    return cg_strdup(b);
}

int cg_checkpoint_save(const char *path, cg_model *m, cg_optimizer *o, const cg_normalizer *nz,
                       const cg_checkpoint_info *info)
{
    if (!path || !m) return cg_error(CG_ERR_ARG, "cg_checkpoint_save: NULL argument");
    if (cg_model_build(m)) return cg_last_error_code();
    cg_graph *g = m->g;
    if (o && cg_optimizer_prepare(o, g)) return cg_last_error_code();
    size_t n_state0 = 0, n_state1 = 0;
    cg_real *s[2] = {o ? cg_optimizer_state(o, 0, &n_state0) : NULL,
                     o ? cg_optimizer_state(o, 1, &n_state1) : NULL};

    int cap = 3;
    for (int i = 0; i < g->n_nodes; i++) cap += is_saved(g->nodes[i]) ? 3 : 0;
    st_out *t = cg_calloc((size_t)cap, sizeof *t);
    char **names = cg_calloc((size_t)cap, sizeof *names);
    meta_list ml = {0};
    int n = 0, rc = CG_OK;
    if (!t || !names) {
        rc = cg_error(CG_ERR_MEMORY, "cg_checkpoint_save: out of memory");
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *v = g->nodes[i];
        if (!is_saved(v)) continue;
        st_out *e = &t[n++];
        e->name = v->name;
        e->ndim = v->ndim;
        for (int k = 0; k < v->ndim; k++) e->shape[k] = v->shape[k];
        e->data = v->val;
        for (int w = 0; w < 2 && v->kind == CG_KIND_VARIABLE; w++) {
            if (!s[w]) continue;
            size_t len = strlen(optimizer_prefix[w]) + strlen(v->name) + 1;
            char *name = names[n] = cg_malloc(len);
            if (!name) {
                rc = cg_error(CG_ERR_MEMORY, "cg_checkpoint_save: out of memory");
                goto done;
            }
            snprintf(name, len, "%s%s", optimizer_prefix[w], v->name);
            st_out *q = &t[n++];
            *q = *e;
            q->name = name;
            q->data = s[w] + v->offset;
        }
    }
    if (nz && nz->mean && nz->inv_std) {
        t[n++] = (st_out){.name = "input.mean", .ndim = 1, .shape = {nz->d}, .f32 = nz->mean};
        t[n++] = (st_out){.name = "input.inv_std", .ndim = 1, .shape = {nz->d}, .f32 = nz->inv_std};
    }
    if (nz && nz->fill) /* missing cells' values (CSV tables) */
        t[n++] = (st_out){.name = "input.fill", .ndim = 1, .shape = {nz->d}, .f32 = nz->fill};

    /* Nothing non-finite is saved: a checkpoint is the last good state. */
    for (int i = 0; i < n && !rc; i++) {
        size_t count = 1;
        for (int k = 0; k < t[i].ndim; k++) count *= (size_t)t[i].shape[k];
        for (size_t k = 0; k < count && !rc; k++) {
            double v = t[i].f32 ? (double)t[i].f32[k] : (double)t[i].data[k];
            if (!isfinite(v))
                rc = cg_error(CG_ERR_NUMERIC, "cg_checkpoint_save: %s: tensor \"%s\" holds a non-finite "
                                              "value at %zu; not saved", path, t[i].name, k);
        }
    }
    if (rc) goto done;
    meta_add(&ml, "format", cg_strdup(FORMAT_NAME), 0);
    meta_add(&ml, "format_version", cg_strdup(FORMAT_VERSION), 0);
    meta_add(&ml, "cgrad_version", cg_strdup(CG_VERSION), 0); /* provenance: not read back */
    meta_add(&ml, "model", cg_model_spec(m), 0);
    if (nz) meta_add(&ml, "normalizer", normalizer_json(nz), 0);
    if (nz && nz->table) meta_add(&ml, "table", cg_table_to_json(nz->table), 0);
    if (m->class_names) meta_add(&ml, "class_names", class_names_json(m), 0);
    if (o) meta_add(&ml, "optimizer", cg_optimizer_to_json(o), 0);
    meta_add(&ml, "rng", rng_json(&g->rng), 0);
    if (info) {
        meta_add(&ml, "epoch", number_text("%.0f", info->epoch), 0);
        meta_add(&ml, "step", number_text("%.0f", (double)info->step), 0);
        if (isfinite(info->best_val_acc))
            meta_add(&ml, "best_val_acc", number_text("%.17g", info->best_val_acc), 0);
        meta_add(&ml, "epochs_since_best", number_text("%.0f", info->epochs_since_best), 0);
        if (info->config) meta_add(&ml, "config", cg_strdup(info->config), 0);
    }
    if (ml.failed) {
        rc = cg_error(CG_ERR_MEMORY, "cg_checkpoint_save: out of memory");
        goto done;
    }
    rc = st_save(path, t, n, ml.keys, (const char *const *)ml.values, ml.n);
done:
    for (int i = 0; i < ml.n; i++) cg_free(ml.values[i]);
    for (int i = 0; names && i < cap; i++) cg_free(names[i]);
    cg_free(names);
    cg_free(t);
    return rc;
}

/* --- Loading --- */

/* The parameters the spec implies must fit in the file before the model is
 * built: a small file with a large spec would otherwise allocate for a
 * model the file cannot hold (a byte an element is the least any dtype
 * takes). */
static int check_fits(const cg_model *m, const st_file *f, const char *path)
{
    double need = 0;
    int in_c = m->in_h > 0 ? m->in_c : m->n_inputs;
    for (int i = 0; i < m->n_layers; i++) {
        need += cg_layer_param_count(&m->layers[i], in_c, 0);
        in_c = m->layers[i].c;
    }
    need += (double)(m->n_layers ? m->layers[m->n_layers - 1].width : m->n_inputs) * m->n_classes;
    if (need > (double)f->data_len)
        return cg_error(CG_ERR_FORMAT, "%s: its model spec needs %.0f weights, more than the file's %zu "
                                       "data bytes can hold", path, need, f->data_len);
    return CG_OK;
}

/* Every value of a tensor read from a file must be finite: a NaN in a
 * normaliser or a moment would spread into every weight it touches. */
static int check_finite(const char *path, const char *name, const cg_real *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite((double)v[k]))
            return cg_error(CG_ERR_NUMERIC, "%s: tensor \"%s\" holds a non-finite value at %zu", path,
                            name, k);
    return CG_OK;
}

/* Read tensor `name` of f into dst after checking its shape against want. */
static int read_tensor(const st_file *f, const char *path, const char *name, int ndim,
                       const int *want, cg_real *dst)
{
    const st_tensor *t = st_find(f, name);
    if (!t) return cg_error(CG_ERR_FORMAT, "%s: tensor \"%s\" is missing", path, name);
    int same = t->ndim == ndim;
    for (int k = 0; same && k < ndim; k++) same = t->shape[k] == want[k];
    if (!same) {
        char a[96] = "", b[96] = "";
        for (int k = 0; k < t->ndim; k++)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%" PRId64, k ? ", " : "", t->shape[k]);
        for (int k = 0; k < ndim; k++)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%d", k ? ", " : "", want[k]);
        return cg_error(CG_ERR_SHAPE, "%s: tensor \"%s\" has shape [%s], the model needs [%s]", path,
                        name, a, b);
    }
    size_t count = 1;
    for (int k = 0; k < ndim; k++) count *= (size_t)want[k];
    return st_read(f, t, dst, count);
}

/* A tensor the model does not know makes the file a different model
 * (PyTorch's load_state_dict(strict=True) says the same). */
static int check_unexpected(const st_file *f, const char *path, cg_graph *g, int allow_extras)
{
    for (int i = 0; i < f->n_tensors; i++) {
        const char *name = f->tensors[i].name;
        if (allow_extras && (strncmp(name, "optimizer.", 10) == 0 || strcmp(name, "input.mean") == 0 ||
                             strcmp(name, "input.inv_std") == 0 || strcmp(name, "input.fill") == 0))
            continue;
        cg_node *v = cg_graph_find(g, name);
        if (!v || !is_saved(v))
            return cg_error(CG_ERR_FORMAT, "%s: tensor \"%s\" is not part of the model", path, name);
    }
    return CG_OK;
}

static int load_weights(cg_model *m, const st_file *f, const char *path, int allow_extras)
{
    if (cg_model_build(m)) return cg_last_error_code();
    cg_graph *g = m->g;
    for (int i = 0; i < g->n_nodes; i++) {
        cg_node *v = g->nodes[i];
        if (is_saved(v) && read_tensor(f, path, v->name, v->ndim, v->shape, v->val))
            return cg_last_error_code();
        if (is_saved(v) && check_finite(path, v->name, v->val, v->size)) return CG_ERR_NUMERIC;
    }
    return check_unexpected(f, path, g, allow_extras);
}

int cg_model_load_weights(cg_model *m, const char *path)
{
    if (!m || !path) return cg_error(CG_ERR_ARG, "cg_model_load_weights: NULL argument");
    st_file f;
    if (st_load(path, &f)) return cg_last_error_code();
    int rc = load_weights(m, &f, path, 1);
    st_free(&f);
    return rc;
}

static cJSON *meta_json(const st_file *f, const char *path, const char *key, int required)
{
    const char *s = st_meta(f, key);
    if (!s) {
        if (required) cg_error(CG_ERR_FORMAT, "%s: metadata \"%s\" is missing", path, key);
        return NULL;
    }
    cJSON *j = cJSON_Parse(s);
    if (!j) cg_error(CG_ERR_FORMAT, "%s: metadata \"%s\" is not valid JSON", path, key);
    return j;
}

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int load_normalizer(const st_file *f, const char *path, int d, int n_classes, cg_normalizer *nz)
{
    memset(nz, 0, sizeof *nz);
    nz->d = d;
    nz->scale = 1;
    cJSON *j = meta_json(f, path, "normalizer", 0);
    if (!j) return st_meta(f, "normalizer") ? CG_ERR_FORMAT : CG_OK;
    int rc = CG_OK;
    double scale = num(j, "scale", NAN);
    if ((int)num(j, "d", -1) != d || !(scale > 0) || !isfinite(scale))
        rc = cg_error(CG_ERR_FORMAT, "%s: metadata \"normalizer\" does not fit a model of %d inputs",
                      path, d);
    nz->scale = (float)scale;
    if (!rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "standardized"))) {
        nz->mean = cg_malloc((size_t)d * sizeof *nz->mean);
        nz->inv_std = cg_malloc((size_t)d * sizeof *nz->inv_std);
        cg_real *tmp = cg_malloc((size_t)d * sizeof *tmp);
        if (!nz->mean || !nz->inv_std || !tmp) rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
        const char *names[2] = {"input.mean", "input.inv_std"};
        float *dst[2] = {nz->mean, nz->inv_std};
        for (int w = 0; w < 2 && !rc; w++) {
            rc = read_tensor(f, path, names[w], 1, &d, tmp);
            if (!rc) rc = check_finite(path, names[w], tmp, (size_t)d);
            for (int k = 0; k < d && !rc; k++) dst[w][k] = (float)tmp[k];
        }
        cg_free(tmp);
    }
    if (!rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "fill"))) {
        nz->fill = cg_malloc((size_t)d * sizeof *nz->fill);
        cg_real *tmp = cg_malloc((size_t)d * sizeof *tmp);
        if (!nz->fill || !tmp) rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
        if (!rc) rc = read_tensor(f, path, "input.fill", 1, &d, tmp);
        if (!rc) rc = check_finite(path, "input.fill", tmp, (size_t)d);
        for (int k = 0; k < d && !rc; k++) nz->fill[k] = (float)tmp[k];
        cg_free(tmp);
    }
    /* The CSV column encoding: it must make the model's inputs. */
    const char *table = st_meta(f, "table");
    if (!rc && table) {
        if (!(nz->table = cg_table_from_json(table)))
            rc = cg_error(cg_last_error_code(), "%s: metadata \"table\": %s", path, cg_last_error());
        else if (cg_table_n_features(nz->table) != d)
            rc = cg_error(CG_ERR_FORMAT, "%s: metadata \"table\" makes %d features, the model takes %d", path,
                          cg_table_n_features(nz->table), d);
        else if (cg_table_n_classes(nz->table) && cg_table_n_classes(nz->table) != n_classes)
            rc = cg_error(CG_ERR_FORMAT, "%s: metadata \"table\" names %d classes, the model has %d", path,
                          cg_table_n_classes(nz->table), n_classes);
    }
    cJSON_Delete(j);
    if (rc) cg_normalizer_free(nz);
    return rc;
}

static int load_class_names(const st_file *f, const char *path, cg_model *m)
{
    cJSON *j = meta_json(f, path, "class_names", 0);
    if (!j) return st_meta(f, "class_names") ? CG_ERR_FORMAT : CG_OK;
    int n = cJSON_GetArraySize(j), rc = CG_OK;
    const char **names = NULL;
    if (!cJSON_IsArray(j) || n != m->n_classes) {
        rc = cg_error(CG_ERR_FORMAT, "%s: metadata \"class_names\" must list %d names", path,
                      m->n_classes);
    } else if (!(names = cg_calloc((size_t)n, sizeof *names))) {
        rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
    } else {
        for (int i = 0; i < n && !rc; i++) {
            const cJSON *s = cJSON_GetArrayItem(j, i);
            if (!cJSON_IsString(s))
                rc = cg_error(CG_ERR_FORMAT, "%s: class name %d is not a string", path, i);
            else names[i] = s->valuestring;
        }
        if (!rc) rc = cg_model_set_class_names(m, names, n);
    }
    cg_free(names);
    cJSON_Delete(j);
    return rc;
}

static int load_rng(const st_file *f, const char *path, cg_rng *r)
{
    cJSON *j = meta_json(f, path, "rng", 0);
    if (!j) return st_meta(f, "rng") ? CG_ERR_FORMAT : CG_OK;
    int rc = cJSON_IsArray(j) && cJSON_GetArraySize(j) == 4 ? CG_OK : CG_ERR_FORMAT;
    cg_rng tmp;
    for (int i = 0; i < 4 && !rc; i++) {
        const cJSON *s = cJSON_GetArrayItem(j, i);
        char *end = NULL;
        if (cJSON_IsString(s)) tmp.s[i] = strtoull(s->valuestring, &end, 16);
        if (!end || *end || end == s->valuestring) rc = CG_ERR_FORMAT;
    }
    cJSON_Delete(j);
    if (rc) return cg_error(CG_ERR_FORMAT, "%s: metadata \"rng\" is not 4 hex words", path);
    *r = tmp;
    return CG_OK;
}

static int load_optimizer(const st_file *f, const char *path, cg_graph *g, cg_optimizer **out)
{
    *out = NULL;
    const char *json = st_meta(f, "optimizer");
    if (!json) return cg_error(CG_ERR_FORMAT, "%s: metadata \"optimizer\" is missing", path);
    cg_optimizer *o = cg_optimizer_from_json(json);
    if (!o) return cg_error(CG_ERR_FORMAT, "%s: %s", path, cg_last_error());
    int rc = cg_optimizer_prepare(o, g);
    for (int w = 0; w < 2 && !rc; w++) {
        cg_real *s = cg_optimizer_state(o, w, NULL);
        if (!s) continue;
        for (int i = 0; i < g->n_nodes && !rc; i++) {
            cg_node *v = g->nodes[i];
            if (v->kind != CG_KIND_VARIABLE) continue;
            char name[256];
            snprintf(name, sizeof name, "%s%s", optimizer_prefix[w], v->name);
            rc = read_tensor(f, path, name, v->ndim, v->shape, s + v->offset);
            if (!rc) rc = check_finite(path, name, s + v->offset, v->size);
        }
    }
    if (rc) {
        cg_optimizer_free(o);
        return rc;
    }
    *out = o;
    return CG_OK;
}

static int meta_int(const st_file *f, const char *key, long *out)
{
    const char *s = st_meta(f, key);
    if (!s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

void cg_checkpoint_info_free(cg_checkpoint_info *info)
{
    if (!info) return;
    cg_free(info->config);
    info->config = NULL;
}

cg_model *cg_checkpoint_load(const char *path, cg_optimizer **opt, cg_normalizer *nz,
                             cg_checkpoint_info *info)
{
    if (opt) *opt = NULL;
    if (nz) memset(nz, 0, sizeof *nz);
    if (info) {
        memset(info, 0, sizeof *info);
        info->best_val_acc = NAN;
    }
    if (!path) return cg_error_null(CG_ERR_ARG, "cg_checkpoint_load: NULL path");
    st_file f;
    if (st_load(path, &f)) return NULL;
    cg_model *m = NULL;
    cg_optimizer *o = NULL;
    cg_normalizer tmp_nz = {0};
    const char *format = st_meta(&f, "format"), *spec = st_meta(&f, "model");
    int rc = CG_OK;
    if (!format || strcmp(format, FORMAT_NAME) != 0 || !spec) {
        rc = cg_error(CG_ERR_FORMAT,
                      "%s: not a cgrad checkpoint (no \"format\": \"cgrad\" and \"model\" metadata); "
                      "to load bare weights into a model, use cg_model_load_weights",
                      path);
        goto done;
    }
    const char *version = st_meta(&f, "format_version");
    int v1 = version && strcmp(version, FORMAT_VERSION_1) == 0;
    if (!version || (strcmp(version, FORMAT_VERSION) != 0 && !v1)) {
        rc = cg_error(CG_ERR_FORMAT, "%s: checkpoint format version %s; this cgrad reads versions "
                      FORMAT_VERSION_1 " and " FORMAT_VERSION, path, version ? version : "(none)");
        goto done;
    }
    if (v1 && opt) {
        rc = cg_error(CG_ERR_FORMAT, "%s: a format-1 checkpoint (cgrad 0.1) keeps no run configuration "
                      "and cannot be resumed; it can still be evaluated, predicted with and exported",
                      path);
        goto done;
    }
    m = cg_model_from_spec(spec);
    if (!m) {
        rc = cg_error(cg_last_error_code(), "%s: %s", path, cg_last_error());
        goto done;
    }
    long epoch = 0, step = 0, since = 0;
    if ((rc = check_fits(m, &f, path))) goto done;
    if ((rc = load_weights(m, &f, path, 1)) || (rc = load_class_names(&f, path, m)) ||
        (rc = load_rng(&f, path, &m->g->rng)) ||
        (rc = load_normalizer(&f, path, m->n_inputs, m->n_classes, &tmp_nz)))
        goto done;
    if (opt && (rc = load_optimizer(&f, path, m->g, &o))) goto done;
    if (meta_int(&f, "epoch", &epoch) || meta_int(&f, "step", &step) ||
        meta_int(&f, "epochs_since_best", &since) || epoch > 1000000000 || since > epoch) {
        rc = cg_error(CG_ERR_FORMAT, "%s: metadata epoch/step/epochs_since_best are not counts", path);
        goto done;
    }
    if (info) {
        const char *best = st_meta(&f, "best_val_acc"), *config = v1 ? NULL : st_meta(&f, "config");
        info->epoch = (int)epoch;
        info->step = step;
        info->epochs_since_best = (int)since;
        if (best) info->best_val_acc = strtod(best, NULL);
        if (config && !(info->config = cg_strdup(config))) {
            rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
            goto done;
        }
    }
done:
    st_free(&f);
    if (rc) {
        cg_model_free(m);
        cg_optimizer_free(o);
        cg_normalizer_free(&tmp_nz);
        if (info) cg_checkpoint_info_free(info);
        return NULL;
    }
    if (opt) *opt = o;
    if (nz) *nz = tmp_nz;
    else cg_normalizer_free(&tmp_nz);
    return m;
}
