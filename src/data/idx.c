/* SPDX-License-Identifier: MIT */
/* idx.c: IDX files (the MNIST layout), plain or gzip-compressed.
 *
 * An IDX file is a 4-byte magic (0, 0, element type, number of dims), one
 * big-endian uint32 per dimension, then the elements. zlib's gzread reads
 * gzip and plain files alike (it looks at the content, not the name). */
#include "data/readers.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#ifdef CG_HAVE_ZLIB
#include <zlib.h>
#else
/* Built without zlib (the WebAssembly build): the few gz* calls below over
 * stdio, for plain files; a gzip file is a clear error instead. */
#include <stdio.h>
#include <stdlib.h>

#define Z_OK 0
#define Z_ERRNO (-1)
#define Z_DATA_ERROR (-3)
typedef struct {
    FILE *f;
    int err;
    int first; /* before the first read: look for gzip's magic */
} *gzFile;

static gzFile gzopen(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    gzFile g = f ? calloc(1, sizeof *g) : NULL;
    if (g) {
        g->f = f;
        g->first = 1;
    } else if (f) {
        fclose(f);
    }
    return g;
}

static void gzbuffer(gzFile g, unsigned size) { (void)g, (void)size; }

static const char *gzerror(gzFile g, int *code)
{
    *code = g->err;
    return g->err == Z_DATA_ERROR ? "gzip-compressed, and this build has no zlib" : "";
}

static int gzread(gzFile g, void *buf, unsigned len)
{
    size_t r = fread(buf, 1, len, g->f);
    if (g->first && r >= 2 && ((unsigned char *)buf)[0] == 0x1f &&
        ((unsigned char *)buf)[1] == 0x8b) {
        g->err = Z_DATA_ERROR;
        return -1;
    }
    g->first = 0;
    if (r < len && ferror(g->f)) {
        g->err = Z_ERRNO;
        return -1;
    }
    return (int)r;
}

static int gzclose(gzFile g)
{
    int rc = fclose(g->f);
    free(g);
    return rc;
}
#endif

#define IDX_UBYTE 0x08
/* First allocation for the payload; it grows as data actually arrives, so a
 * corrupt header announcing terabytes fails as truncated, not out of memory. */
#define IDX_FIRST_CHUNK ((size_t)64 << 20)

static int open_gz(const char *path, gzFile *g)
{
    errno = 0;
    *g = gzopen(path, "rb");
    if (!*g)
        return cg_error(CG_ERR_IO, "file '%s': cannot open (%s)", path,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(*g, 1u << 18);
    return CG_OK;
}

/* zlib's message, without the "path: " it puts in front. */
static const char *gz_message(gzFile g, const char *path, int *code)
{
    const char *msg = gzerror(g, code);
    size_t n = strlen(path);
    if (msg && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    return msg ? msg : "";
}

/* Read up to n bytes; returns how many were read, or -1 with an error. */
static long long gz_read_some(gzFile g, const char *path, void *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(g, (char *)dst + got, (unsigned)want);
        if (r < 0) {
            int code;
            const char *msg = gz_message(g, path, &code);
            cg_error(code == Z_ERRNO ? CG_ERR_IO : CG_ERR_FORMAT,
                     "file '%s': read error (%s)", path,
                     code == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* Why a read stopped short: a damaged gzip stream or just a short file. */
static const char *gz_short_reason(gzFile g, const char *path)
{
    int code;
    const char *msg = gz_message(g, path, &code);
    return (code != Z_OK && msg && *msg) ? msg : "end of file";
}

/* Read the magic and dims of an IDX file of ubyte elements with `ndim` dims. */
static int read_header(gzFile g, const char *path, int ndim, const char *what,
                       uint32_t *dims)
{
    unsigned char h[4 + 4 * 3];
    size_t need = 4 + 4 * (size_t)ndim;
    long long got = gz_read_some(g, path, h, 4);
    if (got < 0) return cg_last_error_code();
    uint32_t expect = 0x00000800u | (uint32_t)ndim;
    if (got < 4)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': too short for an IDX %s file (%lld bytes, "
                        "expected magic 0x%08x)", path, what, got, expect);
    uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                     (uint32_t)h[2] << 8 | h[3];
    if (h[0] != 0 || h[1] != 0)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': not an IDX file (magic 0x%08x, expected "
                        "0x%08x for %s)", path, magic, expect, what);
    if (h[2] != IDX_UBYTE)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': IDX element type 0x%02x is not supported "
                        "(magic 0x%08x, expected 0x%08x: unsigned bytes)",
                        path, h[2], magic, expect);
    if (h[3] != ndim)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': IDX file has %d dimensions, expected %d for "
                        "%s (magic 0x%08x, expected 0x%08x)",
                        path, h[3], ndim, what, magic, expect);
    got = gz_read_some(g, path, h + 4, need - 4);
    if (got < 0) return cg_last_error_code();
    if ((size_t)got < need - 4)
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': truncated IDX header (%zu of %zu bytes)",
                        path, 4 + (size_t)got, need);
    for (int i = 0; i < ndim; i++) {
        const unsigned char *b = h + 4 + 4 * i;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                  (uint32_t)b[2] << 8 | b[3];
    }
    return CG_OK;
}

/* Read exactly `n` payload bytes into a new buffer, then insist on EOF. The
 * buffer grows with the data, so a lying header cannot force a huge malloc. */
static int read_payload(gzFile g, const char *path, size_t n, const char *what,
                        uint8_t **out)
{
    size_t cap = n < IDX_FIRST_CHUNK ? n : IDX_FIRST_CHUNK;
    uint8_t *buf = cg_malloc(cap);
    size_t got = 0;
    *out = NULL;
    if (!buf) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    for (;;) {
        long long r = gz_read_some(g, path, buf + got, cap - got);
        if (r < 0) {
            cg_free(buf);
            return cg_last_error_code();
        }
        got += (size_t)r;
        if (got < cap) break; /* short: end of data */
        if (cap == n) break;
        size_t ncap = cap > n / 2 ? n : cap * 2;
        uint8_t *nb = cg_realloc(buf, ncap);
        if (!nb) {
            cg_free(buf);
            return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        }
        buf = nb;
        cap = ncap;
    }
    if (got < n) {
        const char *why = gz_short_reason(g, path);
        cg_free(buf);
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': truncated %s data (%zu of %zu bytes: %s)",
                        path, what, got, n, why);
    }
    unsigned char extra;
    long long r = gz_read_some(g, path, &extra, 1);
    if (r != 0) {
        cg_free(buf);
        if (r < 0) return cg_last_error_code();
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': unexpected data after the %zu bytes of %s "
                        "data the header announces", path, n, what);
    }
    *out = buf;
    return CG_OK;
}

int cg_idx_read_images(const char *path, uint8_t **pixels, uint32_t dims[3])
{
    gzFile g;
    int rc = open_gz(path, &g);
    if (rc) return rc;
    rc = read_header(g, path, 3, "images", dims);
    if (rc == CG_OK) {
        if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0)
            rc = cg_error(CG_ERR_FORMAT,
                          "file '%s': empty image set (dims %u x %u x %u)",
                          path, dims[0], dims[1], dims[2]);
        else if (dims[0] > INT_MAX || (uint64_t)dims[1] * dims[2] > INT_MAX ||
                 (uint64_t)dims[1] * dims[2] > SIZE_MAX / dims[0])
            rc = cg_error(CG_ERR_FORMAT,
                          "file '%s': image dims %u x %u x %u are too large",
                          path, dims[0], dims[1], dims[2]);
    }
    if (rc == CG_OK)
        rc = read_payload(g, path, (size_t)dims[0] * dims[1] * dims[2],
                          "pixel", pixels);
    gzclose(g);
    return rc;
}

static int load_labels(const char *path, uint8_t **labels, uint32_t *count)
{
    gzFile g;
    int rc = open_gz(path, &g);
    if (rc) return rc;
    rc = read_header(g, path, 1, "labels", count);
    if (rc == CG_OK && (*count == 0 || *count > INT_MAX))
        rc = cg_error(CG_ERR_FORMAT, "file '%s': bad label count %u", path,
                      *count);
    if (rc == CG_OK) rc = read_payload(g, path, *count, "label", labels);
    gzclose(g);
    return rc;
}

int cg_load_idx(const char *images_path, const char *labels_path, cg_dataset *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!images_path || !labels_path || !out)
        return cg_error(CG_ERR_ARG, "cg_load_idx: NULL argument");

    uint8_t *pixels = NULL, *labels = NULL;
    uint32_t dims[3] = {0, 0, 0}, count = 0;
    int rc = cg_idx_read_images(images_path, &pixels, dims);
    if (rc) return rc;
    rc = load_labels(labels_path, &labels, &count);
    if (rc) {
        cg_free(pixels);
        return rc;
    }
    if (count != dims[0]) {
        cg_free(pixels);
        cg_free(labels);
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': %u labels, but images file '%s' has %u "
                        "images (counts must be equal)",
                        labels_path, count, images_path, dims[0]);
    }
    int32_t *y = cg_malloc((size_t)count * sizeof *y);
    if (!y) {
        cg_free(pixels);
        cg_free(labels);
        return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", labels_path);
    }
    int max = 0;
    for (uint32_t i = 0; i < count; i++) {
        y[i] = labels[i]; /* ubyte: always within 0..255 */
        if (labels[i] > max) max = labels[i];
    }
    cg_free(labels);

    out->n = (int)count;
    out->d = (int)(dims[1] * dims[2]);
    out->n_classes = max + 1;
    out->x_u8 = pixels;
    out->x_f32 = NULL;
    out->y = y;
    out->rows = (int)dims[1];
    out->cols = (int)dims[2];
    out->channels = 1;
    return CG_OK;
}
