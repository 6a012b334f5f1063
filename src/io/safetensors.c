/* SPDX-License-Identifier: MIT */
/* safetensors.c: the safetensors reader and writer (see safetensors.h).
 *
 * Reading: the file is copied into one buffer, the JSON header is parsed
 * with cJSON and every entry is checked before anything is handed out;
 * tensor bytes stay in the buffer and are decoded on demand by st_read,
 * byte by byte (little-endian, any alignment, any host).
 *
 * Writing: the header is built with cJSON, padded with spaces to a multiple
 * of 8 bytes, and the file goes to "<path>.tmp.<pid>", is flushed, fsynced
 * and renamed over the target; then the directory is fsynced. */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync, getpid, open */

#include "safetensors.h"

#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000) /* 100 MB, as the reference reader */
#define ST_MAX_EXACT 9007199254740992.0            /* 2^53: JSON numbers are doubles */
#define ST_META "__metadata__"
#define NAMEF "%.200s" /* names in messages are cut to keep the message readable */

static const struct {
    const char *name;
    size_t size;
} st_types[] = {
    [ST_F32] = {"F32", 4}, [ST_F64] = {"F64", 8}, [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4}, [ST_I64] = {"I64", 8},
    [ST_U8] = {"U8", 1},   [ST_I8] = {"I8", 1},
};
#define ST_N_TYPES ((int)(sizeof st_types / sizeof st_types[0]))

const char *st_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < ST_N_TYPES ? st_types[dtype].name : "?";
}

size_t st_dtype_size(int dtype)
{
    return dtype >= 0 && dtype < ST_N_TYPES ? st_types[dtype].size : 0;
}

/* ------------------------------------------------------------------ */
/* Little-endian decoding                                              */

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | (unsigned)p[1] << 8); }

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static float half_to_float(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24); /* zero or subnormal */
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400), (int)exp - 25);
    return (h & 0x8000) ? -v : v;
}

static float bf16_to_float(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static float f32_of(const unsigned char *p)
{
    uint32_t u = le32(p);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static double f64_of(const unsigned char *p)
{
    uint64_t u = le64(p);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Two's complement without implementation-defined conversions. */
static int64_t i64_of(uint64_t u)
{
    return (u >> 63) ? -(int64_t)(~u) - 1 : (int64_t)u;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

void st_free(st_file *f)
{
    if (!f) return;
    if (f->tensors)
        for (int i = 0; i < f->n_tensors; i++) cg_free(f->tensors[i].name);
    if (f->meta_keys)
        for (int i = 0; i < f->n_meta; i++) cg_free(f->meta_keys[i]);
    if (f->meta_values)
        for (int i = 0; i < f->n_meta; i++) cg_free(f->meta_values[i]);
    cg_free(f->tensors);
    cg_free(f->meta_keys);
    cg_free(f->meta_values);
    cg_free(f->buf);
    memset(f, 0, sizeof *f);
}

/* A JSON number that is a whole number in [0, 2^53]; *v gets it. */
static int whole_number(const cJSON *item, uint64_t *v)
{
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (!isfinite(d) || d < 0 || d > ST_MAX_EXACT || floor(d) != d) return 0;
    *v = (uint64_t)d;
    return 1;
}

/* Describe a bad number for a message: "-1", "2.5", "a string", ... */
static const char *json_kind(const cJSON *item)
{
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsObject(item)) return "an object";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    return "invalid";
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* First name that occurs twice among names[0..n), or NULL. Sorts names. */
static const char *find_duplicate(char **names, int n)
{
    if (n < 2) return NULL;
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) return names[i];
    return NULL;
}

static int cmp_begin(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Check and fill one tensor entry. */
static int parse_tensor(const char *what, const cJSON *entry, size_t data_len, st_tensor *t)
{
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': entry is %s, not an object",
                        what, name, json_kind(entry));
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL, *field;
    cJSON_ArrayForEach(field, entry) {
        const cJSON **slot = NULL;
        if (!field->string) continue;
        if (strcmp(field->string, "dtype") == 0) slot = &dtype;
        else if (strcmp(field->string, "shape") == 0) slot = &shape;
        else if (strcmp(field->string, "data_offsets") == 0) slot = &offsets;
        if (!slot) continue; /* unknown fields are ignored, as other readers do */
        if (*slot)
            return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': duplicate field '%s'", what,
                            name, field->string);
        *slot = field;
    }
    if (!dtype) return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': missing dtype", what, name);
    if (!shape) return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': missing shape", what, name);
    if (!offsets)
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': missing data_offsets", what, name);

    if (!cJSON_IsString(dtype))
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': dtype is %s, not a string", what,
                        name, json_kind(dtype));
    t->dtype = -1;
    for (int k = 0; k < ST_N_TYPES; k++)
        if (strcmp(dtype->valuestring, st_types[k].name) == 0) t->dtype = k;
    if (t->dtype < 0)
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': unknown dtype '%.32s' (cgrad reads F32, F64, "
                        "F16, BF16, I32, I64, U8, I8)", what, name, dtype->valuestring);
    size_t esize = st_types[t->dtype].size;

    if (!cJSON_IsArray(shape))
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': shape is %s, not an array", what,
                        name, json_kind(shape));
    int nd = cJSON_GetArraySize(shape);
    if (nd > ST_MAX_DIMS)
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': shape has %d dims, more than %d",
                        what, name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    size_t count = 1;
    int d = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t v;
        if (!whole_number(dim, &v)) {
            if (cJSON_IsNumber(dim))
                return cg_error(CG_ERR_FORMAT,
                                "%s: tensor '" NAMEF "': shape dim %d = %g is not a "
                                "non-negative integer", what, name, d, dim->valuedouble);
            return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': shape dim %d is %s, not an "
                            "integer", what, name, d, json_kind(dim));
        }
        t->shape[d++] = (int64_t)v;
        if (v > SIZE_MAX || (v != 0 && count > SIZE_MAX / v))
            return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': shape overflows the element "
                            "count", what, name);
        count *= (size_t)v;
    }
    if (count > SIZE_MAX / esize)
        return cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': shape overflows the byte size",
                        what, name);
    t->count = count;
    size_t bytes = count * esize;

    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': data_offsets is not an array of 2 integers",
                        what, name);
    uint64_t b, e;
    if (!whole_number(offsets->child, &b) || !whole_number(offsets->child->next, &e))
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': data_offsets are not non-negative integers",
                        what, name);
    if (b > e)
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': data_offsets begin %" PRIu64 " > end %" PRIu64,
                        what, name, b, e);
    if (e > data_len)
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': data_offsets end %" PRIu64
                        " is beyond the data section (%zu bytes)", what, name, e, data_len);
    if (e - b != bytes)
        return cg_error(CG_ERR_FORMAT,
                        "%s: tensor '" NAMEF "': data_offsets span %" PRIu64
                        " bytes but %zu %s values take %zu", what, name, e - b, count,
                        st_types[t->dtype].name, bytes);
    t->begin = (size_t)b;
    t->end = (size_t)e;
    return CG_OK;
}

static int parse_metadata(const char *what, const cJSON *meta, st_file *out)
{
    if (!cJSON_IsObject(meta))
        return cg_error(CG_ERR_FORMAT, "%s: " ST_META " is %s, not an object", what,
                        json_kind(meta));
    int n = cJSON_GetArraySize(meta);
    out->meta_keys = cg_calloc((size_t)n, sizeof *out->meta_keys);
    out->meta_values = cg_calloc((size_t)n, sizeof *out->meta_values);
    if (!out->meta_keys || !out->meta_values)
        return cg_error(CG_ERR_MEMORY, "%s: out of memory for metadata", what);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, meta) {
        if (!kv->string)
            return cg_error(CG_ERR_FORMAT, "%s: " ST_META " entry without a key", what);
        if (!cJSON_IsString(kv))
            return cg_error(CG_ERR_FORMAT, "%s: " ST_META " value of '" NAMEF "' is %s, not a "
                            "string", what, kv->string, json_kind(kv));
        int i = out->n_meta;
        out->meta_keys[i] = cg_strdup(kv->string);
        out->meta_values[i] = cg_strdup(kv->valuestring);
        out->n_meta++;
        if (!out->meta_keys[i] || !out->meta_values[i])
            return cg_error(CG_ERR_MEMORY, "%s: out of memory for metadata", what);
    }
    return CG_OK;
}

/* The header's checks, with cJSON's tree in hand. */
static int parse_header(const char *what, const cJSON *root, st_file *out)
{
    if (!cJSON_IsObject(root))
        return cg_error(CG_ERR_FORMAT, "%s: header is %s, not a JSON object", what,
                        json_kind(root));
    int n = cJSON_GetArraySize(root), n_meta_entries = 0;
    out->tensors = cg_calloc((size_t)n, sizeof *out->tensors);
    if (!out->tensors) return cg_error(CG_ERR_MEMORY, "%s: out of memory for %d tensors", what, n);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, root) {
        if (!entry->string) return cg_error(CG_ERR_FORMAT, "%s: header entry without a name", what);
        if (strcmp(entry->string, ST_META) == 0) {
            if (n_meta_entries++)
                return cg_error(CG_ERR_FORMAT, "%s: duplicate " ST_META " entry", what);
            int rc = parse_metadata(what, entry, out);
            if (rc) return rc;
            continue;
        }
        st_tensor *t = &out->tensors[out->n_tensors];
        t->name = cg_strdup(entry->string);
        if (!t->name) return cg_error(CG_ERR_MEMORY, "%s: out of memory", what);
        out->n_tensors++;
        int rc = parse_tensor(what, entry, out->data_len, t);
        if (rc) return rc;
    }

    int nt = out->n_tensors, rc = CG_OK;
    size_t nidx = (size_t)(nt > out->n_meta ? nt : out->n_meta);
    char **names = cg_malloc(nidx * sizeof *names);
    st_tensor **by_begin = cg_malloc((size_t)nt * sizeof *by_begin);
    if (!names || !by_begin) {
        rc = cg_error(CG_ERR_MEMORY, "%s: out of memory", what);
        goto done;
    }

    /* Unique names (cJSON keeps duplicate keys). */
    for (int i = 0; i < nt; i++) names[i] = out->tensors[i].name;
    const char *dup = find_duplicate(names, nt);
    if (dup) {
        rc = cg_error(CG_ERR_FORMAT, "%s: tensor '" NAMEF "': duplicate tensor name", what, dup);
        goto done;
    }
    for (int i = 0; i < out->n_meta; i++) names[i] = out->meta_keys[i];
    dup = find_duplicate(names, out->n_meta);
    if (dup) {
        rc = cg_error(CG_ERR_FORMAT, "%s: " ST_META ": duplicate key '" NAMEF "'", what, dup);
        goto done;
    }

    /* No two non-empty tensors share a byte. */
    int m = 0;
    for (int i = 0; i < nt; i++)
        if (out->tensors[i].end > out->tensors[i].begin) by_begin[m++] = &out->tensors[i];
    qsort(by_begin, (size_t)m, sizeof *by_begin, cmp_begin);
    for (int i = 1; i < m; i++)
        if (by_begin[i]->begin < by_begin[i - 1]->end) {
            rc = cg_error(CG_ERR_FORMAT,
                          "%s: tensor '" NAMEF "': data_offsets [%zu, %zu] overlap tensor '" NAMEF
                          "' [%zu, %zu]", what, by_begin[i]->name, by_begin[i]->begin,
                          by_begin[i]->end, by_begin[i - 1]->name, by_begin[i - 1]->begin,
                          by_begin[i - 1]->end);
            goto done;
        }
done:
    cg_free(names);
    cg_free(by_begin);
    return rc;
}

/* st_parse on a buffer the parser may keep (it is freed on error). */
static int parse_owned(unsigned char *buf, size_t len, const char *what, st_file *out)
{
    memset(out, 0, sizeof *out);
    if (len < 8) {
        cg_free(buf);
        return cg_error(CG_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header "
                        "length", what, len);
    }
    uint64_t n = le64(buf);
    if (n > ST_MAX_HEADER) {
        cg_free(buf);
        return cg_error(CG_ERR_FORMAT, "%s: header length %" PRIu64 " exceeds the limit of %"
                        PRIu64 " bytes", what, n, ST_MAX_HEADER);
    }
    if (n > len - 8) {
        cg_free(buf);
        return cg_error(CG_ERR_FORMAT, "%s: header length %" PRIu64 " is beyond the end of the "
                        "file (%zu bytes)", what, n, len);
    }
    out->buf = buf;
    out->len = len;
    out->data = buf + 8 + n;
    out->data_len = len - 8 - (size_t)n;

    int rc;
    char *text = NULL;
    cJSON *root = NULL;
    if (n == 0 || memchr(buf + 8, '\0', (size_t)n)) {
        rc = cg_error(CG_ERR_FORMAT, "%s: header is not valid JSON (%s)", what,
                      n == 0 ? "it is empty" : "it holds a NUL byte");
        goto done;
    }
    text = cg_malloc((size_t)n + 1);
    if (!text) {
        rc = cg_error(CG_ERR_MEMORY, "%s: out of memory for a %" PRIu64 "-byte header", what, n);
        goto done;
    }
    memcpy(text, buf + 8, (size_t)n);
    text[n] = '\0';
    const char *end = NULL;
    /* require_null_terminated: only whitespace (the padding) may follow. */
    root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
        rc = cg_error(CG_ERR_FORMAT, "%s: header is not valid JSON (error near byte %zu of %"
                      PRIu64 ")", what, at, n);
        goto done;
    }
    rc = parse_header(what, root, out);
done:
    cJSON_Delete(root);
    cg_free(text);
    if (rc) st_free(out);
    return rc;
}

int st_parse(const unsigned char *buf, size_t len, const char *what, st_file *out)
{
    if (!out) return cg_error(CG_ERR_ARG, "st_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!what) what = "safetensors";
    if (!buf && len) return cg_error(CG_ERR_ARG, "%s: st_parse: buf is NULL", what);
    unsigned char *copy = cg_malloc(len);
    if (!copy) return cg_error(CG_ERR_MEMORY, "%s: out of memory for %zu bytes", what, len);
    if (len) memcpy(copy, buf, len);
    return parse_owned(copy, len, what, out);
}

int st_load(const char *path, st_file *out)
{
    if (!out) return cg_error(CG_ERR_ARG, "st_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return cg_error(CG_ERR_ARG, "st_load: path is NULL");
    FILE *fp = fopen(path, "rb");
    if (!fp) return cg_error(CG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = cg_malloc(cap);
    if (!buf) {
        fclose(fp);
        return cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) {
                cg_free(buf);
                fclose(fp);
                return cg_error(CG_ERR_MEMORY, "%s: file too large", path);
            }
            unsigned char *nb = cg_realloc(buf, cap * 2);
            if (!nb) {
                cg_free(buf);
                fclose(fp);
                return cg_error(CG_ERR_MEMORY, "%s: out of memory reading the file", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        int e = errno;
        cg_free(buf);
        fclose(fp);
        return cg_error(CG_ERR_IO, "%s: read error: %s", path, strerror(e));
    }
    fclose(fp);
    return parse_owned(buf, len, path, out);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    if (!f || !name) return NULL;
    for (int i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    if (!f || !key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}

/* "[2, 3]" into buf. */
static const char *shape_str(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t o = 0;
    o += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (o < size) snprintf(buf + o, size - o, "]");
    return buf;
}

int st_read(const st_file *f, const st_tensor *t, cg_real *dst, size_t n)
{
    if (!f || !t) return cg_error(CG_ERR_ARG, "st_read: file or tensor is NULL");
    if (t->dtype < 0 || t->dtype >= ST_N_TYPES || t->ndim < 0 || t->ndim > ST_MAX_DIMS)
        return cg_error(CG_ERR_ARG, "st_read: tensor '" NAMEF "' is not from st_parse", t->name);
    if (t->count != n) {
        char s[160];
        return cg_error(CG_ERR_SHAPE,
                        "tensor '" NAMEF "': shape %s holds %zu values, but %zu are expected",
                        t->name, shape_str(s, sizeof s, t->ndim, t->shape), t->count, n);
    }
    size_t esize = st_types[t->dtype].size;
    if (t->begin > t->end || t->end > f->data_len || n > SIZE_MAX / esize ||
        t->end - t->begin != n * esize)
        return cg_error(CG_ERR_ARG, "st_read: tensor '" NAMEF "' is not from this file", t->name);
    if (n && !dst) return cg_error(CG_ERR_ARG, "st_read: dst is NULL");
    const unsigned char *p = f->data + t->begin;
    for (size_t i = 0; i < n; i++, p += esize) {
        switch (t->dtype) {
        case ST_F32: dst[i] = (cg_real)f32_of(p); break;
        case ST_F64: dst[i] = (cg_real)f64_of(p); break;
        case ST_F16: dst[i] = (cg_real)half_to_float(le16(p)); break;
        case ST_BF16: dst[i] = (cg_real)bf16_to_float(le16(p)); break;
        case ST_I32: {
            uint32_t u = le32(p);
            dst[i] = (cg_real)(u >> 31 ? (int64_t)u - ((int64_t)1 << 32) : (int64_t)u);
            break;
        }
        case ST_I64: dst[i] = (cg_real)i64_of(le64(p)); break;
        case ST_U8: dst[i] = (cg_real)p[0]; break;
        case ST_I8: dst[i] = (cg_real)(p[0] < 128 ? (int)p[0] : (int)p[0] - 256); break;
        }
    }
    return CG_OK;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static cJSON *json_uint(uint64_t v)
{
    char s[32];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return cJSON_CreateRaw(s);
}

/* Bytes of tensor i as written, checked. */
static int out_bytes(const st_out *t, size_t *bytes, int *dtype)
{
    size_t count = 1;
    *dtype = t->f32 || sizeof(cg_real) == 4 ? ST_F32 : ST_F64;
    *bytes = 0;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t v = (uint64_t)t->shape[d];
        if (v > SIZE_MAX || (v && count > SIZE_MAX / v)) return 0;
        count *= (size_t)v;
    }
    if (count > SIZE_MAX / 8) return 0;
    *bytes = count * st_types[*dtype].size;
    return 1;
}

static int check_outputs(const char *path, const st_out *tensors, int n,
                         const char *const *keys, const char *const *values, int n_meta)
{
    if (n < 0 || n_meta < 0 || (n && !tensors) || (n_meta && (!keys || !values)))
        return cg_error(CG_ERR_ARG, "%s: st_save: bad tensor or metadata arrays", path);
    for (int i = 0; i < n; i++) {
        const st_out *t = &tensors[i];
        if (!t->name) return cg_error(CG_ERR_ARG, "%s: st_save: tensor %d has no name", path, i);
        if (strcmp(t->name, ST_META) == 0)
            return cg_error(CG_ERR_ARG, "%s: st_save: a tensor cannot be called " ST_META, path);
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
            return cg_error(CG_ERR_ARG, "%s: st_save: tensor '" NAMEF "' has %d dims (0..%d)",
                            path, t->name, t->ndim, ST_MAX_DIMS);
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0)
                return cg_error(CG_ERR_ARG, "%s: st_save: tensor '" NAMEF "' has dim %d = %" PRId64,
                                path, t->name, d, t->shape[d]);
        size_t bytes;
        int dt;
        if (!out_bytes(t, &bytes, &dt))
            return cg_error(CG_ERR_ARG, "%s: st_save: tensor '" NAMEF "' is too large", path,
                            t->name);
        if (bytes && !t->data && !t->f32)
            return cg_error(CG_ERR_ARG, "%s: st_save: tensor '" NAMEF "' has no data", path,
                            t->name);
        for (int j = 0; j < i; j++)
            if (strcmp(tensors[j].name, t->name) == 0)
                return cg_error(CG_ERR_ARG, "%s: st_save: duplicate tensor name '" NAMEF "'",
                                path, t->name);
    }
    for (int i = 0; i < n_meta; i++) {
        if (!keys[i] || !values[i])
            return cg_error(CG_ERR_ARG, "%s: st_save: metadata pair %d has a NULL key or value",
                            path, i);
        for (int j = 0; j < i; j++)
            if (strcmp(keys[j], keys[i]) == 0)
                return cg_error(CG_ERR_ARG, "%s: st_save: duplicate metadata key '" NAMEF "'",
                                path, keys[i]);
    }
    return CG_OK;
}

/* The header JSON (unpadded), or NULL when out of memory. */
static char *build_header(const st_out *tensors, int n, const char *const *keys,
                          const char *const *values, int n_meta)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    if (n_meta) {
        cJSON *meta = cJSON_AddObjectToObject(root, ST_META);
        if (!meta) goto fail;
        for (int i = 0; i < n_meta; i++)
            if (!cJSON_AddStringToObject(meta, keys[i], values[i])) goto fail;
    }
    uint64_t offset = 0;
    for (int i = 0; i < n; i++) {
        size_t bytes = 0;
        int dt = ST_F32;
        out_bytes(&tensors[i], &bytes, &dt); /* checked by check_outputs */
        cJSON *e = cJSON_AddObjectToObject(root, tensors[i].name);
        if (!e || !cJSON_AddStringToObject(e, "dtype", st_types[dt].name)) goto fail;
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        if (!shape) goto fail;
        for (int d = 0; d < tensors[i].ndim; d++) {
            cJSON *v = json_uint((uint64_t)tensors[i].shape[d]);
            if (!v || !cJSON_AddItemToArray(shape, v)) {
                cJSON_Delete(v);
                goto fail;
            }
        }
        cJSON *off = cJSON_AddArrayToObject(e, "data_offsets");
        if (!off) goto fail;
        cJSON *b = json_uint(offset), *en = json_uint(offset + bytes);
        if (!b || !cJSON_AddItemToArray(off, b)) {
            cJSON_Delete(b);
            cJSON_Delete(en);
            goto fail;
        }
        if (!en || !cJSON_AddItemToArray(off, en)) {
            cJSON_Delete(en);
            goto fail;
        }
        offset += bytes;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
fail:
    cJSON_Delete(root);
    return NULL;
}

typedef struct writer {
    FILE *fp;
    int err; /* errno of the first failure, 0 if none */
    unsigned char chunk[1 << 14];
    size_t used;
} writer;

static void w_flush(writer *w)
{
    if (w->used && !w->err) {
        errno = 0;
        if (fwrite(w->chunk, 1, w->used, w->fp) != w->used) w->err = errno ? errno : EIO;
    }
    w->used = 0;
}

static void w_bytes(writer *w, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n && !w->err) {
        if (w->used == sizeof w->chunk) w_flush(w);
        size_t k = sizeof w->chunk - w->used;
        if (k > n) k = n;
        memcpy(w->chunk + w->used, s, k);
        w->used += k;
        s += k;
        n -= k;
    }
}

static void w_u32(writer *w, uint32_t u)
{
    unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                          (unsigned char)(u >> 24)};
    w_bytes(w, b, 4);
}

static void w_u64(writer *w, uint64_t u)
{
    w_u32(w, (uint32_t)u);
    w_u32(w, (uint32_t)(u >> 32));
}

static void w_f32(writer *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    w_u32(w, u);
}

static void w_f64(writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    w_u64(w, u);
}

/* Fsync the directory holding path (so the rename is durable). */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) dir = cg_strdup(".");
    else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        dir = cg_malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir) return ENOMEM;
    int fd = open(dir, O_RDONLY), e = 0;
    if (fd < 0) {
        /* A directory we may write but not read: nothing to sync through. */
        if (errno != EACCES) e = errno;
    } else {
        if (fsync(fd) != 0 && errno != EINVAL) e = errno;
        close(fd);
    }
    cg_free(dir);
    return e;
}

int st_save(const char *path, const st_out *tensors, int n, const char *const *keys,
            const char *const *values, int n_meta)
{
    if (!path || !*path) return cg_error(CG_ERR_ARG, "st_save: path is NULL or empty");
    int rc = check_outputs(path, tensors, n, keys, values, n_meta);
    if (rc) return rc;

    char *header = build_header(tensors, n, keys, values, n_meta);
    if (!header) return cg_error(CG_ERR_MEMORY, "%s: out of memory building the header", path);
    size_t hlen = strlen(header), pad = (8 - hlen % 8) % 8;

    size_t tlen = strlen(path) + 32;
    char *tmp = cg_malloc(tlen);
    writer *w = cg_malloc(sizeof *w);
    if (!tmp || !w) {
        cJSON_free(header);
        cg_free(tmp);
        cg_free(w);
        return cg_error(CG_ERR_MEMORY, "%s: out of memory", path);
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    w->err = 0;
    w->used = 0;
    w->fp = fopen(tmp, "wb");
    const char *step = "cannot create temporary file";
    if (!w->fp) {
        rc = cg_error(CG_ERR_IO, "%s: %s '%s': %s", path, step, tmp, strerror(errno));
        cJSON_free(header);
        cg_free(tmp);
        cg_free(w);
        return rc;
    }

    step = "write failed";
    w_u64(w, (uint64_t)(hlen + pad));
    w_bytes(w, header, hlen);
    for (size_t i = 0; i < pad; i++) w_bytes(w, " ", 1);
    for (int i = 0; i < n && !w->err; i++) {
        const st_out *t = &tensors[i];
        size_t count = 1;
        for (int d = 0; d < t->ndim; d++) count *= (size_t)t->shape[d];
        for (size_t k = 0; k < count && !w->err; k++) {
            if (t->f32) w_f32(w, t->f32[k]);
            else if (sizeof(cg_real) == 4) w_f32(w, (float)t->data[k]);
            else w_f64(w, (double)t->data[k]);
        }
    }
    w_flush(w);
    int err = w->err;
    if (!err && fflush(w->fp) != 0) {
        err = errno;
        step = "flush failed";
    }
    if (!err && fsync(fileno(w->fp)) != 0) {
        err = errno;
        step = "fsync failed";
    }
    if (fclose(w->fp) != 0 && !err) {
        err = errno;
        step = "close failed";
    }
    if (!err && rename(tmp, path) != 0) {
        err = errno;
        step = "cannot rename the temporary file over it";
    }
    if (err) {
        remove(tmp);
        rc = cg_error(CG_ERR_IO, "%s: %s: %s", path, step, strerror(err));
    } else if ((err = sync_dir(path)) != 0) {
        rc = cg_error(CG_ERR_IO, "%s: fsync of its directory failed: %s", path, strerror(err));
    }
    cJSON_free(header);
    cg_free(tmp);
    cg_free(w);
    return rc;
}
