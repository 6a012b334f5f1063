/* SPDX-License-Identifier: MIT */
/* npy.c: NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: "\x93NUMPY", major and minor version bytes, the header length
 * (uint16 little-endian in 1.x, uint32 in 2.x and 3.x), then the header: a
 * Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (100, 5), }
 * padded with spaces and ending in '\n'; then the raw elements. Values are
 * decoded byte by byte, so the reader works on hosts of either endianness. */
#include "data/readers.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NPY_MAX_LABEL (1 << 24) /* every integer up to here is exact in a float */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_MAX_DIMS 8

enum { DT_F4, DT_F8, DT_U1, DT_I8, DT_I4, DT_I1 };

typedef struct npy_header {
    int have_descr, have_order, have_shape;
    char descr[16];
    int fortran;
    int ndim;
    uint64_t shape[NPY_MAX_DIMS];
} npy_header;

typedef struct hparser {
    const char *path;
    const char *s, *p, *end;
} hparser;

static void skip_ws(hparser *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int bad(hparser *h, const char *expected)
{
    return cg_error(CG_ERR_FORMAT,
                    "file '%s': bad .npy header: expected %s at offset %d of "
                    "the header dict", h->path, expected, (int)(h->p - h->s));
}

static int expect_char(hparser *h, char c, const char *what)
{
    skip_ws(h);
    if (h->p >= h->end || *h->p != c) return bad(h, what);
    h->p++;
    return CG_OK;
}

/* A Python string literal in single or double quotes, no escapes. */
static int parse_str(hparser *h, char *out, size_t size)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return bad(h, "a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (n + 1 >= size) return bad(h, "a short string");
        out[n++] = *h->p++;
    }
    if (h->p >= h->end) return bad(h, "a closing quote");
    h->p++;
    out[n] = '\0';
    return CG_OK;
}

static int parse_word(hparser *h, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

static int parse_shape(hparser *h, npy_header *hd)
{
    int rc = expect_char(h, '(', "'(' opening the shape tuple");
    if (rc) return rc;
    hd->ndim = 0;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            return CG_OK;
        }
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return bad(h, "a dimension (non-negative integer)");
        uint64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (v > (UINT64_MAX - 9) / 10) return bad(h, "a smaller dimension");
            v = v * 10 + (uint64_t)(*h->p++ - '0');
        }
        if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 long */
        if (hd->ndim == NPY_MAX_DIMS) return bad(h, "fewer dimensions");
        hd->shape[hd->ndim++] = v;
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            continue;
        }
        if (h->p < h->end && *h->p == ')') continue;
        return bad(h, "',' or ')' in the shape tuple");
    }
}

static int parse_header(const char *path, const char *text, size_t len, npy_header *hd)
{
    hparser h = {path, text, text, text + len};
    memset(hd, 0, sizeof *hd);
    int rc = expect_char(&h, '{', "'{'");
    if (rc) return rc;
    for (;;) {
        skip_ws(&h);
        if (h.p < h.end && *h.p == '}') {
            h.p++;
            break;
        }
        char key[32];
        if ((rc = parse_str(&h, key, sizeof key))) return rc;
        if ((rc = expect_char(&h, ':', "':' after a key"))) return rc;
        skip_ws(&h);
        if (strcmp(key, "descr") == 0) {
            if ((rc = parse_str(&h, hd->descr, sizeof hd->descr))) return rc;
            hd->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&h, "False")) hd->fortran = 0;
            else if (parse_word(&h, "True")) hd->fortran = 1;
            else return bad(&h, "True or False for 'fortran_order'");
            hd->have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if ((rc = parse_shape(&h, hd))) return rc;
            hd->have_shape = 1;
        } else {
            return cg_error(CG_ERR_FORMAT,
                            "file '%s': bad .npy header: unknown key '%s' "
                            "(expected 'descr', 'fortran_order', 'shape')", path, key);
        }
        skip_ws(&h);
        if (h.p < h.end && *h.p == ',') {
            h.p++;
            continue;
        }
        if (h.p < h.end && *h.p == '}') continue;
        return bad(&h, "',' or '}' after a value");
    }
    skip_ws(&h);
    if (h.p != h.end) return bad(&h, "the end of the header after '}'");
    const char *missing = !hd->have_descr ? "descr"
                        : !hd->have_order ? "fortran_order"
                        : !hd->have_shape ? "shape" : NULL;
    if (missing)
        return cg_error(CG_ERR_FORMAT, "file '%s': bad .npy header: no '%s' key",
                        path, missing);
    return CG_OK;
}

static void shape_text(const npy_header *hd, char *buf, size_t size)
{
    size_t used = 0;
    int w = snprintf(buf, size, "(");
    used = (size_t)w;
    for (int i = 0; i < hd->ndim && used < size; i++) {
        w = snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                     (unsigned long long)hd->shape[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (used < size) snprintf(buf + used, size - used, hd->ndim == 1 ? ",)" : ")");
}

static int parse_index(const char *s, int *out)
{
    if (*s < '0' || *s > '9') return 0;
    long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > INT_MAX) return 0;
    }
    if (*s) return 0;
    *out = (int)v;
    return 1;
}

static double decode(const unsigned char *b, int dt)
{
    if (dt == DT_U1) return b[0];
    if (dt == DT_I1) return (double)(int8_t)b[0];
    if (dt == DT_I4) {
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        return (double)(int32_t)u;
    }
    if (dt == DT_I8) {
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--) u = u << 8 | b[i];
        return (double)(int64_t)u;
    }
    if (dt == DT_F4) {
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | b[i];
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Decode the rows: column lcol (-1: none) is the label, read into y when
 * labelled, else skipped unread. */
static int read_data(FILE *f, const char *path, const npy_header *hd, int dt,
                     size_t isz, int lcol, int labelled, cg_dataset *out)
{
    int n = (int)hd->shape[0], c = (int)hd->shape[1], d = lcol < 0 ? c : c - 1;
    size_t row_bytes = (size_t)c * isz;
    unsigned char *row = cg_malloc(row_bytes);
    float *x = cg_malloc((size_t)n * (size_t)d * sizeof *x);
    int32_t *y = labelled ? cg_malloc((size_t)n * sizeof *y) : NULL;
    int rc = CG_OK;
    if (!row || !x || (labelled && !y)) {
        rc = cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        goto done;
    }
    for (int i = 0; i < n && rc == CG_OK; i++) {
        size_t got = fread(row, 1, row_bytes, f);
        if (got < row_bytes) {
            rc = cg_error(CG_ERR_FORMAT,
                          "file '%s': truncated data: row %d of %d is incomplete "
                          "(%zu of %zu bytes)", path, i, n, got, row_bytes);
            break;
        }
        float *xr = x + (size_t)i * (size_t)d;
        for (int j = 0, k = 0; j < c; j++) {
            double v = decode(row + (size_t)j * isz, dt);
            if (j == lcol) {
                if (!labelled) continue;
                if (!(v >= 0) || v != floor(v) || v > NPY_MAX_LABEL) {
                    rc = cg_error(CG_ERR_FORMAT,
                                  "file '%s': label %.17g at [%d, %d] (0-based) is "
                                  "not a valid class (labels must be integers in "
                                  "0..%d)", path, v, i, j, NPY_MAX_LABEL);
                    break;
                }
                y[i] = (int32_t)v;
            } else {
                float fv = (float)v;
                if (!isfinite(fv)) {
                    rc = cg_error(CG_ERR_NUMERIC,
                                  "file '%s': value %g at [%d, %d] (0-based) is "
                                  "not a finite float", path, v, i, j);
                    break;
                }
                xr[k++] = fv;
            }
        }
    }
    if (rc == CG_OK && fgetc(f) != EOF)
        rc = cg_error(CG_ERR_FORMAT,
                      "file '%s': unexpected data after the %d x %d elements the "
                      "header's shape announces", path, n, c);
done:
    cg_free(row);
    if (rc) {
        cg_free(x);
        cg_free(y);
        return rc;
    }
    cg_dataset_take_f32(out, n, d, x, y);
    return CG_OK;
}

/* The label column (-1: none) of a [rows, c] array; d as for cg_npy_read. */
static int choose_label(const char *path, const char *label, int c, int d,
                        const char *shp, int *lcol)
{
    *lcol = -1;
    if (d > 0) {
        if (c == d) return CG_OK;
        if (c != d + 1)
            return cg_error(CG_ERR_SHAPE,
                            "%s: rows have %d features, the model takes %d (or %d "
                            "columns with a label column, which is dropped)",
                            path, c, d, d + 1);
    } else if (c < 2) {
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': shape %s has no feature columns (need a "
                        "label column and at least one feature)", path, shp);
    }
    *lcol = c - 1;
    if (!label) return CG_OK;
    if (!parse_index(label, lcol))
        return cg_error(CG_ERR_ARG,
                        "file '%s': label '%s' is not a column index (.npy "
                        "files have no column names; give a 0-based index)",
                        path, label);
    if (*lcol >= c)
        return cg_error(CG_ERR_ARG,
                        "file '%s': label column %d is out of range (shape "
                        "%s has %d columns, indices 0..%d)", path, *lcol,
                        shp, c, c - 1);
    return CG_OK;
}

/* The magic, version and header of f, and its element type: the feature
 * types, and with ints also '<i8', '<i4' and '|i1' (label files). */
static int read_header(FILE *f, const char *path, npy_header *hd, int *dt_out, size_t *isz_out,
                       int ints)
{
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < 8 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': not a .npy file (expected the magic "
                        "\"\\x93NUMPY\" at the start)", path);
    int major = pre[6], minor = pre[7];
    size_t hlen;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) < 2)
            return cg_error(CG_ERR_FORMAT, "file '%s': truncated .npy header", path);
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) < 4)
            return cg_error(CG_ERR_FORMAT, "file '%s': truncated .npy header", path);
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
    } else {
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': unsupported .npy format version %d.%d "
                        "(expected 1.x, 2.x or 3.x)", path, major, minor);
    }
    if (hlen == 0 || hlen > NPY_MAX_HEADER)
        return cg_error(CG_ERR_FORMAT, "file '%s': bad .npy header length %zu",
                        path, hlen);
    char *text = cg_malloc(hlen);
    if (!text) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    if (fread(text, 1, hlen, f) < hlen) {
        cg_free(text);
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': truncated .npy header (expected %zu bytes)",
                        path, hlen);
    }
    int rc = parse_header(path, text, hlen, hd);
    cg_free(text);
    if (rc) return rc;

    int dt;
    size_t isz;
    if (strcmp(hd->descr, "<f4") == 0) dt = DT_F4, isz = 4;
    else if (strcmp(hd->descr, "<f8") == 0) dt = DT_F8, isz = 8;
    else if (strcmp(hd->descr, "|u1") == 0) dt = DT_U1, isz = 1;
    else if (ints && strcmp(hd->descr, "<i8") == 0) dt = DT_I8, isz = 8;
    else if (ints && strcmp(hd->descr, "<i4") == 0) dt = DT_I4, isz = 4;
    else if (ints && strcmp(hd->descr, "|i1") == 0) dt = DT_I1, isz = 1;
    else
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': unsupported dtype '%s' (expected '<f4', "
                        "'<f8' or '|u1'%s)", path, hd->descr, ints ? ", '<i8', '<i4' or '|i1'" : "");
    if (hd->fortran)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': 'fortran_order': True is not supported "
                        "(expected C order; save np.ascontiguousarray(a))", path);
    *dt_out = dt;
    *isz_out = isz;
    return CG_OK;
}

static int load_images(FILE *f, const char *path, const char *label, int want_d,
                       const npy_header *hd, int dt, size_t isz, cg_dataset *out);

static int load(FILE *f, const char *path, const char *label, int want_d, cg_dataset *out)
{
    npy_header hd;
    int dt, rc;
    size_t isz;
    if ((rc = read_header(f, path, &hd, &dt, &isz, 0))) return rc;
    if (hd.ndim == 4) return load_images(f, path, label, want_d, &hd, dt, isz, out);
    char shp[128];
    shape_text(&hd, shp, sizeof shp);
    if (hd.ndim != 2)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': shape %s is %d-D (expected 2-D: rows, "
                        "columns; or 4-D images: count, channels, height, width)", path, shp,
                        hd.ndim);
    if (hd.shape[0] == 0)
        return cg_error(CG_ERR_FORMAT, "file '%s': shape %s has no rows", path, shp);
    if (hd.shape[0] > INT_MAX || hd.shape[1] > INT_MAX ||
        hd.shape[0] > SIZE_MAX / 8 / (hd.shape[1] ? hd.shape[1] : 1))
        return cg_error(CG_ERR_FORMAT, "file '%s': shape %s is too large", path, shp);
    int c = (int)hd.shape[1], lcol;
    if ((rc = choose_label(path, label, c, want_d, shp, &lcol))) return rc;

    /* Check the size first where the file can tell, so a lying shape gives
     * a clear message and no huge allocation. */
    long here = ftell(f);
    size_t need = (size_t)hd.shape[0] * (size_t)c * isz;
    if (here >= 0 && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, here, SEEK_SET) == 0) {
            size_t have = (size_t)(size - here);
            if (have < need)
                return cg_error(CG_ERR_FORMAT,
                                "file '%s': truncated data: shape %s of %s "
                                "needs %zu bytes, the file has %zu", path, shp,
                                hd.descr, need, have);
            if (have > need)
                return cg_error(CG_ERR_FORMAT,
                                "file '%s': %zu unexpected bytes after the data "
                                "(shape %s of %s needs %zu bytes)", path,
                                have - need, shp, hd.descr, need);
        } else {
            clearerr(f);
            if (fseek(f, here, SEEK_SET) != 0)
                return cg_error(CG_ERR_IO, "file '%s': cannot seek", path);
        }
    } else {
        clearerr(f);
    }
    return read_data(f, path, &hd, dt, isz, lcol, want_d == 0, out);
}

/* The labels of a 4-D image array NAME.npy: NAME.labels.npy beside it, a
 * 1-D array of n integer classes (as np.save writes them: int64, int32,
 * int8, uint8, or whole floats). */
static int read_labels(const char *images, int n, cg_dataset *out)
{
    size_t len = strlen(images);
    char *path = cg_malloc(len + 16);
    if (!path) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", images);
    int stem = (int)len - (cg_ends_with(images, ".npy") ? 4 : 0);
    snprintf(path, len + 16, "%.*s.labels.npy", stem, images);
    errno = 0;
    FILE *f = fopen(path, "rb");
    int rc = CG_OK;
    int32_t *y = NULL;
    if (!f) {
        rc = cg_error(CG_ERR_IO, "file '%s': cannot open (%s): the labels of the 4-D image array "
                      "'%s' are read from it", path, errno ? strerror(errno) : "unknown error",
                      images);
        goto done;
    }
    npy_header hd;
    int dt;
    size_t isz;
    if ((rc = read_header(f, path, &hd, &dt, &isz, 1))) goto done;
    if (hd.ndim != 1 || hd.shape[0] != (uint64_t)n) {
        char shp[128];
        shape_text(&hd, shp, sizeof shp);
        rc = cg_error(CG_ERR_SHAPE, "file '%s': shape %s; the labels of '%s' must be a 1-D array "
                      "of its %d images' classes", path, shp, images, n);
        goto done;
    }
    if (!(y = cg_malloc((size_t)n * sizeof *y))) {
        rc = cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        goto done;
    }
    int max = 0;
    for (int i = 0; i < n; i++) {
        unsigned char b[8];
        if (fread(b, 1, isz, f) < isz) {
            rc = cg_error(CG_ERR_FORMAT, "file '%s': truncated data: %d of %d labels", path, i, n);
            goto done;
        }
        double v = decode(b, dt);
        if (!(v >= 0) || v != floor(v) || v > NPY_MAX_LABEL) {
            rc = cg_error(CG_ERR_FORMAT, "file '%s': label %.17g at %d (0-based) is not a valid "
                          "class (labels must be integers in 0..%d)", path, v, i, NPY_MAX_LABEL);
            goto done;
        }
        y[i] = (int32_t)v;
        if (y[i] > max) max = y[i];
    }
    if (fgetc(f) != EOF) {
        rc = cg_error(CG_ERR_FORMAT, "file '%s': unexpected data after its %d labels", path, n);
        goto done;
    }
    out->y = y;
    out->n_classes = max + 1;
    y = NULL;
done:
    if (f) fclose(f);
    cg_free(y);
    cg_free(path);
    return rc;
}

/* A 4-D array [n, channels, height, width] of images: each image one row
 * of channels x height x width features, the shape kept; labelled data
 * (want_d 0) takes its labels from NAME.labels.npy. */
static int load_images(FILE *f, const char *path, const char *label, int want_d,
                       const npy_header *hd, int dt, size_t isz, cg_dataset *out)
{
    char shp[128];
    shape_text(hd, shp, sizeof shp);
    double d = (double)hd->shape[1] * (double)hd->shape[2] * (double)hd->shape[3];
    if (hd->shape[0] == 0 || d < 1)
        return cg_error(CG_ERR_FORMAT, "file '%s': shape %s holds no images", path, shp);
    if (hd->shape[0] > INT_MAX || d > INT_MAX / 8 || (double)hd->shape[0] * d * (double)isz > 1e15)
        return cg_error(CG_ERR_FORMAT, "file '%s': shape %s is too large", path, shp);
    if (label)
        return cg_error(CG_ERR_ARG, "file '%s': a 4-D array of images has no label column; its "
                        "labels are read from the 1-D array beside it, NAME.labels.npy", path);
    if (want_d > 0 && (int)d != want_d)
        return cg_error(CG_ERR_SHAPE, "%s: images of %d x %d x %d = %d features, the model takes %d",
                        path, (int)hd->shape[1], (int)hd->shape[2], (int)hd->shape[3], (int)d,
                        want_d);
    npy_header rows = *hd; /* read as rows of d features, no label column */
    rows.ndim = 2;
    rows.shape[1] = (uint64_t)d;
    int rc = read_data(f, path, &rows, dt, isz, -1, 0, out);
    if (rc) return rc;
    out->channels = (int)hd->shape[1];
    out->rows = (int)hd->shape[2];
    out->cols = (int)hd->shape[3];
    if (want_d == 0 && (rc = read_labels(path, out->n, out))) cg_dataset_free(out);
    return rc;
}

int cg_npy_read(const char *path, const char *label, int d, cg_dataset *out)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cg_error(CG_ERR_IO, "file '%s': cannot open (%s)", path,
                        errno ? strerror(errno) : "unknown error");
    int rc = load(f, path, label, d, out);
    fclose(f);
    return rc;
}

int cg_load_npy(const char *path, const char *label, cg_dataset *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return cg_error(CG_ERR_ARG, "cg_load_npy: NULL argument");
    return cg_npy_read(path, label, 0, out);
}
