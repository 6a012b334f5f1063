/* SPDX-License-Identifier: MIT */
/* safetensors.h: reading and writing the safetensors format
 * (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON mapping tensor names to {dtype, shape,
 * data_offsets}, an optional "__metadata__" object of string values, then
 * the raw little-endian tensor data.
 *
 * The reader trusts nothing in the file: every length, offset, shape and
 * dtype is checked, and a bad file gives CG_ERR_FORMAT with a message that
 * names the file and what is wrong. The writer is atomic: it writes a
 * temporary file in the target's directory, flushes and fsyncs it, then
 * renames it over the target, so a failed save leaves the old file intact. */
#ifndef CG_SAFETENSORS_H
#define CG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "cgrad.h"

/* Tensor element types cgrad reads (all converted to cg_real on read) and
 * writes (F32, or F64 when cg_real is double). */
enum { ST_F32, ST_F64, ST_F16, ST_BF16, ST_I32, ST_I64, ST_U8, ST_I8 };

#define ST_MAX_DIMS 8

/* The dtype's name in the format ("F32", ...) and its size in bytes ("?"
 * and 0 for a value that is not an ST_* constant). */
const char *st_dtype_name(int dtype);
size_t st_dtype_size(int dtype);

typedef struct st_tensor {
    char *name;
    int dtype;                   /* ST_*                                  */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t count;                /* product of shape (1 for a 0-d tensor) */
    size_t begin, end;           /* byte offsets in the data section      */
} st_tensor;

typedef struct st_file {
    unsigned char *buf;          /* the whole file (owned)                */
    size_t len;
    const unsigned char *data;   /* the data section, buf + 8 + N         */
    size_t data_len;
    st_tensor *tensors;          /* in header order                       */
    int n_tensors;
    char **meta_keys, **meta_values; /* __metadata__, in header order     */
    int n_meta;
} st_file;

/* Parse a safetensors image held in memory (copied; buf may be freed
 * after). `what` names the source in error messages (a path). Checks: the
 * file holds the 8-byte length and the header it announces; the header is
 * a JSON object (at most 100 MB); each entry has a known dtype, a shape of
 * 0..ST_MAX_DIMS non-negative dims, and data_offsets [begin, end] with
 * begin <= end <= data length and end - begin == count * dtype size (no
 * overflow); no two tensors overlap; names are unique; __metadata__ values
 * are strings. On error *out is left empty (safe to st_free). */
int st_parse(const unsigned char *buf, size_t len, const char *what, st_file *out);
/* Read path whole and st_parse it. */
int st_load(const char *path, st_file *out);
void st_free(st_file *f);

/* The tensor called name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);
/* The metadata value of key, or NULL. */
const char *st_meta(const st_file *f, const char *key);
/* Convert tensor t's elements to cg_real into dst, which holds n values;
 * CG_ERR_SHAPE (message naming the tensor, its shape and n) if t->count !=
 * n; integer dtypes are converted too. */
int st_read(const st_file *f, const st_tensor *t, cg_real *dst, size_t n);

/* A tensor to write: values are cg_real, written as F32 (F64 when cg_real
 * is double); or, if f32 is not NULL, float values written as F32. */
typedef struct st_out {
    const char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const cg_real *data;
    const float *f32;
} st_out;

/* Write n tensors and n_meta metadata pairs (keys[i] -> values[i], both
 * strings) to path atomically (temporary file "<path>.tmp.<pid>" in the same
 * directory, fwrite, fflush, fsync, rename; then the directory is fsynced).
 * Tensors are laid out in the order given, 8-byte aligned as the format
 * allows (the header is padded with spaces). On any failure the temporary
 * file is removed, the target is untouched and CG_ERR_IO names the path
 * and the reason (strerror). */
int st_save(const char *path, const st_out *tensors, int n, const char *const *keys,
            const char *const *values, int n_meta);

#endif
