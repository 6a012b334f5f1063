/* SPDX-License-Identifier: MIT */
/* table.c: a CSV file's column encoding (table.h): building, copying and
 * its JSON form in checkpoints; and the string set the reader collects
 * categories and class names in. */
#include "data/table.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- String set --- */

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int strset_find(const strset *s, const char *str)
{
    if (!s->n_slots) return -1;
    for (unsigned i = hash(str) & (unsigned)(s->n_slots - 1);; i = (i + 1) & (unsigned)(s->n_slots - 1)) {
        int id = s->slot[i] - 1;
        if (id < 0) return -1;
        if (strcmp(strset_get(s, id), str) == 0) return id;
    }
}

static int rehash(strset *s, int n_slots)
{
    int *slot = cg_calloc((size_t)n_slots, sizeof *slot);
    if (!slot) return -1;
    for (int id = 0; id < s->n; id++) {
        unsigned i = hash(strset_get(s, id)) & (unsigned)(n_slots - 1);
        while (slot[i]) i = (i + 1) & (unsigned)(n_slots - 1);
        slot[i] = id + 1;
    }
    cg_free(s->slot);
    s->slot = slot;
    s->n_slots = n_slots;
    return 0;
}

int strset_add(strset *s, const char *str)
{
    int id = strset_find(s, str);
    if (id >= 0) return id;
    if ((s->n + 1) * 2 > s->n_slots && rehash(s, s->n_slots ? s->n_slots * 2 : 16)) return -1;
    if (s->n == s->cap_ids) {
        int ncap = s->cap_ids ? s->cap_ids * 2 : 16;
        size_t *no = cg_realloc(s->off, (size_t)ncap * sizeof *no);
        if (!no) return -1;
        s->off = no;
        s->cap_ids = ncap;
    }
    size_t len = strlen(str) + 1;
    if (s->len + len > s->cap) {
        size_t ncap = s->cap ? s->cap : 256;
        while (ncap < s->len + len) ncap *= 2;
        char *nt = cg_realloc(s->text, ncap);
        if (!nt) return -1;
        s->text = nt;
        s->cap = ncap;
    }
    memcpy(s->text + s->len, str, len);
    s->off[s->n] = s->len;
    s->len += len;
    id = s->n++;
    unsigned i = hash(str) & (unsigned)(s->n_slots - 1);
    while (s->slot[i]) i = (i + 1) & (unsigned)(s->n_slots - 1);
    s->slot[i] = id + 1;
    return id;
}

void strset_free(strset *s)
{
    cg_free(s->text);
    cg_free(s->off);
    cg_free(s->slot);
    memset(s, 0, sizeof *s);
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int strset_sorted(const strset *s, char ***out, int *rank)
{
    *out = NULL;
    char **v = cg_calloc(s->n ? (size_t)s->n : 1, sizeof *v);
    if (!v) return CG_ERR_MEMORY;
    for (int i = 0; i < s->n; i++) {
        if (!(v[i] = cg_strdup(strset_get(s, i)))) {
            for (int k = 0; k < i; k++) cg_free(v[k]);
            cg_free(v);
            return CG_ERR_MEMORY;
        }
    }
    qsort(v, (size_t)s->n, sizeof *v, by_text);
    for (int i = 0; rank && i < s->n; i++) {
        const char **hit = bsearch(&(const char *){strset_get(s, i)}, v, (size_t)s->n, sizeof *v, by_text);
        rank[i] = (int)((char **)hit - v);
    }
    *out = v;
    return CG_OK;
}

/* --- The table --- */

cg_table *cg_table_new(int n_cols)
{
    cg_table *t = cg_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->refs = 1;
    t->label_col = -1;
    t->n_cols = n_cols;
    if (!(t->cols = cg_calloc(n_cols > 0 ? (size_t)n_cols : 1, sizeof *t->cols))) {
        cg_free(t);
        return NULL;
    }
    return t;
}

cg_table *cg_table_ref(cg_table *t)
{
    if (t) t->refs++;
    return t;
}

static void free_strings(char **v, int n)
{
    for (int i = 0; v && i < n; i++) cg_free(v[i]);
    cg_free(v);
}

void cg_table_free(cg_table *t)
{
    if (!t || --t->refs > 0) return;
    for (int i = 0; i < t->n_cols; i++) {
        cg_free(t->cols[i].name);
        free_strings(t->cols[i].cats, t->cols[i].n_cats);
    }
    cg_free(t->cols);
    free_strings(t->classes, t->n_classes);
    cg_free(t);
}

static char **copy_strings(char *const *v, int n, int *failed)
{
    if (!n) return NULL;
    char **c = cg_calloc((size_t)n, sizeof *c);
    if (!c) {
        *failed = 1;
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (!(c[i] = cg_strdup(v[i]))) *failed = 1;
    return c;
}

cg_table *cg_table_clone(const cg_table *t)
{
    cg_table *c = cg_table_new(t->n_cols);
    if (!c) return NULL;
    int failed = 0;
    c->label_col = t->label_col;
    c->n_targets = t->n_targets;
    c->n_features = t->n_features;
    for (int i = 0; i < t->n_cols; i++) {
        cg_table_col *d = &c->cols[i];
        const cg_table_col *s = &t->cols[i];
        *d = *s;
        d->missing = 0;
        d->name = cg_strdup(s->name);
        if (!d->name) failed = 1;
        d->cats = copy_strings(s->cats, s->n_cats, &failed);
    }
    c->n_classes = t->n_classes;
    c->classes = copy_strings(t->classes, t->n_classes, &failed);
    if (failed) {
        cg_table_free(c);
        return NULL;
    }
    return c;
}

int cg_table_has_text(const cg_table *t)
{
    for (int i = 0; i < t->n_cols; i++)
        if (i != t->label_col && t->cols[i].text) return 1;
    return 0;
}

void cg_table_layout(cg_table *t)
{
    int off = 0;
    for (int i = 0; i < t->n_cols; i++) {
        cg_table_col *c = &t->cols[i];
        if (cg_table_is_label(t, i)) {
            c->offset = -1;
            continue;
        }
        c->offset = off;
        off += c->text ? c->n_cats : 1;
    }
    t->n_features = off;
}

int cg_table_n_classes(const cg_table *t) { return t ? t->n_classes : 0; }

int cg_table_n_features(const cg_table *t) { return t ? t->n_features : 0; }

int cg_table_label_column(const cg_table *t, const char **name)
{
    int c = t ? t->label_col : -1;
    if (name) *name = c >= 0 ? t->cols[c].name : NULL;
    return c;
}

int cg_table_n_targets(const cg_table *t) { return t ? t->n_targets : 0; }

const char *cg_table_target_name(const cg_table *t, int k)
{
    for (int j = 0; t && j < t->n_cols; j++)
        if (t->cols[j].target == k + 1) return t->cols[j].name;
    return NULL;
}

const char *cg_table_class_name(const cg_table *t, int c)
{
    return t && c >= 0 && c < t->n_classes ? t->classes[c] : NULL;
}

char *cg_table_missing_summary(const cg_table *t)
{
    if (!t) return NULL;
    size_t cap = 64, len = 0;
    char *s = NULL;
    for (int i = 0; i < t->n_cols; i++) {
        const cg_table_col *c = &t->cols[i];
        if (!c->missing) continue;
        size_t need = strlen(c->name) + 64;
        if (!s || len + need > cap) {
            while (len + need > cap) cap *= 2;
            char *ns = cg_realloc(s, cap);
            if (!ns) {
                cg_free(s);
                return NULL;
            }
            s = ns;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s'%s' %ld (%s)", len ? ", " : "", c->name,
                                c->missing, c->text ? "most frequent value" : "mean");
    }
    return s;
}

/* --- JSON: {"columns": [{"name": "x", "type": "number"}, {"name": "c",
 * "type": "text", "categories": [...]}, ...], "label": 3, "classes":
 * [...] (absent: labels are class indices)} --- */

static cJSON *string_array(char *const *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(v[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

char *cg_table_to_json(const cg_table *t)
{
    if (!t) return cg_error_null(CG_ERR_ARG, "cg_table_to_json: NULL table");
    cJSON *o = cJSON_CreateObject(), *cols = cJSON_AddArrayToObject(o, "columns");
    int failed = !o || !cols;
    for (int i = 0; !failed && i < t->n_cols; i++) {
        const cg_table_col *c = &t->cols[i];
        cJSON *j = cJSON_CreateObject();
        failed = !j || !cJSON_AddItemToArray(cols, j) || !cJSON_AddStringToObject(j, "name", c->name) ||
                 !cJSON_AddStringToObject(j, "type", c->text ? "text" : "number");
        if (!failed && c->text && i != t->label_col) {
            cJSON *a = string_array(c->cats, c->n_cats);
            failed = !a || !cJSON_AddItemToObject(j, "categories", a);
        }
    }
    if (!failed) failed = !cJSON_AddNumberToObject(o, "label", t->label_col);
    if (!failed && t->n_targets) { /* column indices, in target order */
        cJSON *a = cJSON_AddArrayToObject(o, "targets");
        for (int k = 0; !failed && k < t->n_targets; k++)
            for (int i = 0; !failed && i < t->n_cols; i++)
                if (t->cols[i].target == k + 1) failed = !a || !cJSON_AddItemToArray(a, cJSON_CreateNumber(i));
    }
    if (!failed && t->classes) {
        cJSON *a = string_array(t->classes, t->n_classes);
        failed = !a || !cJSON_AddItemToObject(o, "classes", a);
    }
    if (failed) {
        cJSON_Delete(o);
        return cg_error_null(CG_ERR_MEMORY, "cg_table_to_json: out of memory");
    }
    char *s = cg_json_text(o);
    if (!s) return cg_error_null(CG_ERR_MEMORY, "cg_table_to_json: out of memory");
    return s;
}

/* Distinct strings of a JSON array, at most max, strictly increasing (the
 * sorted order the reader relies on). */
static int read_strings(const cJSON *a, const char *what, int max, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a)) return cg_error(CG_ERR_FORMAT, "table: %s is not an array", what);
    int k = cJSON_GetArraySize(a);
    if (k < 1 || k > max) return cg_error(CG_ERR_FORMAT, "table: %s has %d entries (1 to %d)", what, k, max);
    char **v = cg_calloc((size_t)k, sizeof *v);
    if (!v) return cg_error(CG_ERR_MEMORY, "table: out of memory");
    int i = 0;
    for (const cJSON *s = a->child; s; s = s->next, i++) {
        if (!cJSON_IsString(s) || (i > 0 && strcmp(v[i - 1], s->valuestring) >= 0)) {
            free_strings(v, i);
            return cg_error(CG_ERR_FORMAT, "table: %s must be distinct strings in sorted order", what);
        }
        if (!(v[i] = cg_strdup(s->valuestring))) {
            free_strings(v, i);
            return cg_error(CG_ERR_MEMORY, "table: out of memory");
        }
    }
    *out = v;
    *n = k;
    return CG_OK;
}

cg_table *cg_table_from_json(const char *json)
{
    if (!json) return cg_error_null(CG_ERR_ARG, "cg_table_from_json: NULL text");
    cJSON *o = cJSON_Parse(json);
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(o, "columns");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(o, "label");
    int n = cJSON_GetArraySize(cols);
    if (!cJSON_IsObject(o) || !cJSON_IsArray(cols) || n < 1 || n > (1 << 24) || !cJSON_IsNumber(label) ||
        label->valuedouble < -1 || label->valuedouble >= n || label->valuedouble != (int)label->valuedouble) {
        cJSON_Delete(o);
        return cg_error_null(CG_ERR_FORMAT, "table: not an object with \"columns\" and a \"label\" index");
    }
    cg_table *t = cg_table_new(n);
    int rc = t ? CG_OK : cg_error(CG_ERR_MEMORY, "table: out of memory");
    if (t) t->label_col = (int)label->valuedouble;
    int i = 0;
    for (const cJSON *c = cols->child; c && !rc; c = c->next, i++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        if (!cJSON_IsString(name) || !cJSON_IsString(type) ||
            (strcmp(type->valuestring, "text") && strcmp(type->valuestring, "number"))) {
            rc = cg_error(CG_ERR_FORMAT, "table: column %d needs a \"name\" and a \"type\" of text or number", i);
            break;
        }
        cg_table_col *col = &t->cols[i];
        if (!(col->name = cg_strdup(name->valuestring))) rc = cg_error(CG_ERR_MEMORY, "table: out of memory");
        col->text = !strcmp(type->valuestring, "text");
        if (!rc && col->text && i != t->label_col) {
            char what[64];
            snprintf(what, sizeof what, "column %d's categories", i);
            rc = read_strings(cJSON_GetObjectItemCaseSensitive(c, "categories"), what,
                              CG_TABLE_MAX_CATEGORIES, &col->cats, &col->n_cats);
        }
    }
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(o, "targets"), *tv;
    if (!rc && targets) {
        if (!cJSON_IsArray(targets) || t->label_col >= 0)
            rc = cg_error(CG_ERR_FORMAT, "table: \"targets\" must be an array of column indices, without a label");
        cJSON_ArrayForEach(tv, targets) {
            int j = cJSON_IsNumber(tv) ? (int)tv->valuedouble : -1;
            if (rc || j < 0 || j >= n || tv->valuedouble != j || t->cols[j].target || t->cols[j].text) {
                if (!rc) rc = cg_error(CG_ERR_FORMAT, "table: \"targets\" must be distinct numeric columns");
                break;
            }
            t->cols[j].target = ++t->n_targets;
        }
    }
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(o, "classes");
    if (!rc && classes) {
        if (t->label_col < 0 || !t->cols[t->label_col].text)
            rc = cg_error(CG_ERR_FORMAT, "table: \"classes\" without a text label column");
        else rc = read_strings(classes, "classes", CG_TABLE_MAX_CLASSES, &t->classes, &t->n_classes);
    } else if (!rc && t->label_col >= 0 && t->cols[t->label_col].text) {
        rc = cg_error(CG_ERR_FORMAT, "table: a text label column needs \"classes\"");
    }
    cJSON_Delete(o);
    if (rc) {
        cg_table_free(t);
        return NULL;
    }
    cg_table_layout(t);
    return t;
}
