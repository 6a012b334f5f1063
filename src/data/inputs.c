/* SPDX-License-Identifier: MIT */
/* inputs.c: unlabelled inputs for prediction (cg_load_inputs): the same
 * formats as training data, features only, checked against the width the
 * model takes. */
#include "data/readers.h"
#include "data/table.h"

#include <errno.h>
#include <string.h>

/* The name stdin goes by in messages. */
#define STDIN_NAME "<stdin>"

enum { FMT_CSV, FMT_NPY, FMT_IDX };

/* By extension; otherwise by the first bytes: the .npy magic, gzip's magic
 * or IDX's two zero bytes, and anything else is read as CSV. */
static int sniff_format(const char *path, int *fmt)
{
    *fmt = FMT_CSV;
    if (cg_ends_with(path, ".csv")) return CG_OK;
    if (cg_ends_with(path, ".npy")) {
        *fmt = FMT_NPY;
        return CG_OK;
    }
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cg_error(CG_ERR_IO, "file '%s': cannot open (%s)", path,
                        errno ? strerror(errno) : "unknown error");
    unsigned char b[6] = {0};
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got == 6 && memcmp(b, "\x93NUMPY", 6) == 0) *fmt = FMT_NPY;
    else if (got >= 2 && ((b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0 && b[1] == 0)))
        *fmt = FMT_IDX;
    return CG_OK;
}

static int load_idx_inputs(const char *path, int d, cg_dataset *out)
{
    uint8_t *pixels = NULL;
    uint32_t dims[3];
    int rc = cg_idx_read_images(path, &pixels, dims);
    if (rc) return rc;
    /* The reader bounds dims[1] * dims[2] by INT_MAX. */
    int width = (int)(dims[1] * dims[2]);
    if (width != d) {
        cg_free(pixels);
        return cg_error(CG_ERR_SHAPE,
                        "%s: rows have %d features, the model takes %d (images "
                        "of %u x %u pixels)", path, width, d, dims[1], dims[2]);
    }
    out->n = (int)dims[0];
    out->d = d;
    out->n_classes = 0;
    out->x_u8 = pixels;
    out->x_f32 = NULL;
    out->y = NULL;
    out->rows = (int)dims[1];
    out->cols = (int)dims[2];
    out->channels = 1;
    return CG_OK;
}

int cg_load_inputs(const char *path, int d, const char *label, cg_dataset *out)
{
    cg_csv_options o;
    cg_csv_options_init(&o);
    o.label = label;
    return cg_load_inputs_opts(path, d, &o, out);
}

int cg_load_inputs_opts(const char *path, int d, const cg_csv_options *o, cg_dataset *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return cg_error(CG_ERR_ARG, "cg_load_inputs: NULL argument");
    if (d <= 0)
        return cg_error(CG_ERR_ARG, "cg_load_inputs: feature count %d is not positive", d);
    cg_csv_options dflt;
    if (!o) {
        cg_csv_options_init(&dflt);
        o = &dflt;
    }
    const char *label = o->label;
    if (strcmp(path, "-") == 0) return cg_csv_read(STDIN_NAME, stdin, o, d, out);
    int fmt;
    int rc = sniff_format(path, &fmt);
    if (rc) return rc;
    /* Only CSV has the text a model's one-hot columns read. */
    if (fmt != FMT_CSV && o->table && cg_table_has_text(o->table))
        return cg_error(CG_ERR_ARG, "%s: the model's %d features come from a CSV file with text columns; give "
                        "its inputs as CSV", path, d);
    if (fmt == FMT_NPY) return cg_npy_read(path, label, d, out);
    if (fmt == FMT_IDX) return load_idx_inputs(path, d, out);
    return cg_csv_read(path, NULL, o, d, out);
}
