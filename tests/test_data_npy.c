/* SPDX-License-Identifier: MIT */
/* test_data_npy.c: the .npy loader on small files written here, valid and
 * malformed. */
#include "cgrad.h"
#include "check.h"
#include "data_files.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char buf[1 << 16];

/* A .npy image in buf: version `major`, header dict `dict` (padded as numpy
 * does), then `count` values encoded as `dtype` ('f' = <f4, 'd' = <f8,
 * 'u' = |u1). Returns the size. */
static size_t make_npy(int major, const char *dict, char dtype, const double *v, size_t count)
{
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = pre + dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = dl + pad + 1, o = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    o = 8;
    buf[o++] = (unsigned char)(hlen & 0xff);
    buf[o++] = (unsigned char)(hlen >> 8);
    if (major != 1) {
        buf[o++] = (unsigned char)(hlen >> 16);
        buf[o++] = (unsigned char)(hlen >> 24);
    }
    memcpy(buf + o, dict, dl);
    o += dl;
    memset(buf + o, ' ', pad);
    o += pad;
    buf[o++] = '\n';
    for (size_t i = 0; i < count; i++) {
        if (dtype == 'u') {
            buf[o++] = (unsigned char)v[i];
        } else if (dtype == 'f') {
            float f = (float)v[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int k = 0; k < 4; k++) buf[o++] = (unsigned char)(u >> (8 * k));
        } else {
            uint64_t u;
            memcpy(&u, &v[i], 8);
            for (int k = 0; k < 8; k++) buf[o++] = (unsigned char)(u >> (8 * k));
        }
    }
    return o;
}

#define BAD(path, label, code, needle)                                      \
    do {                                                                    \
        cg_dataset bad_ds_;                                                 \
        memset(&bad_ds_, 0x5a, sizeof bad_ds_);                             \
        CHECK(cg_load_npy((path), (label), &bad_ds_) == (code));            \
        CHECK(zeroed(&bad_ds_));                                            \
        CHECK_ERROR("file '" path "'");                                     \
        CHECK_ERROR(needle);                                                \
        cg_dataset_free(&bad_ds_);                                          \
    } while (0)

/* The 3 x 3 table used below: two features, then the label. */
static const double table[9] = {1.5, -2, 1, 0.25, 8, 0, 1e3, 3, 4};

static void check_table(const cg_dataset *ds)
{
    CHECK(ds->n == 3 && ds->d == 2 && ds->n_classes == 5);
    CHECK(ds->x_u8 == NULL && ds->x_f32 != NULL && ds->y != NULL);
    CHECK(ds->rows == 0 && ds->cols == 0);
    if (ds->x_f32 && ds->n == 3 && ds->d == 2) {
        const float x[6] = {1.5f, -2, 0.25f, 8, 1e3f, 3};
        int ok = 1;
        for (int i = 0; i < 6; i++) ok &= ds->x_f32[i] == x[i];
        CHECK(ok);
        CHECK(ds->y[0] == 1 && ds->y[1] == 0 && ds->y[2] == 4);
    }
}

int main(void)
{
    cg_dataset ds;
    const char *f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }";
    const char *f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }";

    /* Valid: <f4 (v1), <f8 (v2 and v3), label last by default. */
    write_file("tdnpy_f4.npy", buf, make_npy(1, f4, 'f', table, 9));
    CHECK(cg_load_npy("tdnpy_f4.npy", NULL, &ds) == CG_OK);
    check_table(&ds);
    cg_dataset_free(&ds);
    CHECK(zeroed(&ds));
    write_file("tdnpy_f8v2.npy", buf, make_npy(2, f8, 'd', table, 9));
    CHECK(cg_load_npy("tdnpy_f8v2.npy", NULL, &ds) == CG_OK);
    check_table(&ds);
    cg_dataset_free(&ds);
    write_file("tdnpy_f8v3.npy", buf, make_npy(3, f8, 'd', table, 9));
    CHECK(cg_load_npy("tdnpy_f8v3.npy", "2", &ds) == CG_OK);
    check_table(&ds);
    cg_dataset_free(&ds);

    /* Label column by index: column 2 of 3 (0-based 1) is the label. */
    {
        const double t[6] = {0.5, 2, 7, -1, 0, 9};
        write_file("tdnpy_mid.npy", buf,
                   make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                            'f', t, 6));
        CHECK(cg_load_npy("tdnpy_mid.npy", "1", &ds) == CG_OK);
        CHECK(ds.n == 2 && ds.d == 2 && ds.n_classes == 3);
        if (ds.x_f32 && ds.n == 2) {
            CHECK(ds.x_f32[0] == 0.5f && ds.x_f32[1] == 7 && ds.x_f32[2] == -1 &&
                  ds.x_f32[3] == 9);
            CHECK(ds.y[0] == 2 && ds.y[1] == 0);
        }
        cg_dataset_free(&ds);
        /* Label out of range / not an index. */
        BAD("tdnpy_mid.npy", "3", CG_ERR_ARG, "label column 3 is out of range");
        BAD("tdnpy_mid.npy", "y", CG_ERR_ARG, "label 'y' is not a column index");
    }
    /* |u1 with double quotes and extra spaces in the header; features as
     * floats 0..255. */
    {
        const double t[4] = {255, 3, 0, 1};
        write_file("tdnpy_u1.npy", buf,
                   make_npy(1, "{ \"descr\" : \"|u1\" , \"fortran_order\" : False , "
                               "\"shape\" : ( 2 , 2 ) }", 'u', t, 4));
        CHECK(cg_load_npy("tdnpy_u1.npy", NULL, &ds) == CG_OK);
        CHECK(ds.n == 2 && ds.d == 1 && ds.n_classes == 4);
        if (ds.x_f32 && ds.n == 2) CHECK(ds.x_f32[0] == 255 && ds.x_f32[1] == 0);
        if (ds.y && ds.n == 2) CHECK(ds.y[0] == 3 && ds.y[1] == 1);
        cg_dataset_free(&ds);
    }

    /* --- Malformed files --- */

    write_file("tdnpy_magic.npy", "PK\x03\x04 zip file", 14);
    BAD("tdnpy_magic.npy", NULL, CG_ERR_FORMAT, "not a .npy file");
    write_file("tdnpy_short.npy", "\x93NUM", 4);
    BAD("tdnpy_short.npy", NULL, CG_ERR_FORMAT, "not a .npy file");
    {
        size_t n = make_npy(1, f4, 'f', table, 9);
        buf[6] = 9;
        write_file("tdnpy_ver.npy", buf, n);
        BAD("tdnpy_ver.npy", NULL, CG_ERR_FORMAT, "unsupported .npy format version 9.0");
        make_npy(1, f4, 'f', table, 9);
        write_file("tdnpy_cuthdr.npy", buf, 30);
        BAD("tdnpy_cuthdr.npy", NULL, CG_ERR_FORMAT, "truncated .npy header");
    }
    /* Bad header dicts. */
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, 3), }", 'f',
                        table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "bad .npy header: expected True or False");
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "['descr', '<f4']", 'f', table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "bad .npy header: expected '{'");
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }", 'f',
                        table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "bad .npy header: expected a dimension");
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "{'descr': '<f4', 'shape': (3, 3), }", 'f', table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "bad .npy header: no 'fortran_order' key");
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), 'x': 1}",
                        'f', table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "unknown key 'x'");
    write_file("tdnpy_hdr.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3)", 'f',
                        table, 9));
    BAD("tdnpy_hdr.npy", NULL, CG_ERR_FORMAT, "bad .npy header");
    /* Fortran order, unsupported dtypes. */
    write_file("tdnpy_fortran.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 3), }", 'f',
                        table, 9));
    BAD("tdnpy_fortran.npy", NULL, CG_ERR_FORMAT, "'fortran_order': True is not supported");
    write_file("tdnpy_dtype.npy", buf,
               make_npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 3), }", 'd',
                        table, 9));
    BAD("tdnpy_dtype.npy", NULL, CG_ERR_FORMAT,
        "unsupported dtype '<i8' (expected '<f4', '<f8' or '|u1')");
    write_file("tdnpy_dtype.npy", buf,
               make_npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (3, 3), }", 'd',
                        table, 9));
    BAD("tdnpy_dtype.npy", NULL, CG_ERR_FORMAT, "unsupported dtype '>f8'");
    /* Shapes: 3-D, 1-D, no rows, a single column. */
    write_file("tdnpy_3d.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 3), }",
                        'f', table, 9));
    BAD("tdnpy_3d.npy", NULL, CG_ERR_FORMAT, "shape (1, 3, 3) is 3-D (expected 2-D");
    write_file("tdnpy_1d.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }", 'f',
                        table, 9));
    BAD("tdnpy_1d.npy", NULL, CG_ERR_FORMAT, "shape (9,) is 1-D");
    write_file("tdnpy_0.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 'f',
                        table, 0));
    BAD("tdnpy_0.npy", NULL, CG_ERR_FORMAT, "shape (0, 3) has no rows");
    write_file("tdnpy_col.npy", buf,
               make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9, 1), }", 'f',
                        table, 9));
    BAD("tdnpy_col.npy", NULL, CG_ERR_FORMAT, "shape (9, 1) has no feature columns");
    /* Truncated data, extra data, a shape far larger than the file. */
    {
        size_t n = make_npy(1, f4, 'f', table, 9);
        write_file("tdnpy_cut.npy", buf, n - 3);
        BAD("tdnpy_cut.npy", NULL, CG_ERR_FORMAT,
            "truncated data: shape (3, 3) of <f4 needs 36 bytes, the file has 33");
        buf[n] = 0;
        write_file("tdnpy_extra.npy", buf, n + 1);
        BAD("tdnpy_extra.npy", NULL, CG_ERR_FORMAT, "1 unexpected bytes after the data");
        write_file("tdnpy_huge.npy", buf,
                   make_npy(1, "{'descr': '<f8', 'fortran_order': False, "
                               "'shape': (1000000000, 1000), }", 'd', table, 9));
        BAD("tdnpy_huge.npy", NULL, CG_ERR_FORMAT, "truncated data");
    }
    /* Labels: negative, fractional, NaN, beyond float exactness; features
     * NaN / infinite / beyond float range. */
    {
        double t[9];
        memcpy(t, table, sizeof t);
        t[5] = -1;
        write_file("tdnpy_lab.npy", buf, make_npy(1, f8, 'd', t, 9));
        BAD("tdnpy_lab.npy", NULL, CG_ERR_FORMAT, "label -1 at [1, 2] (0-based) is not a valid class");
        t[5] = 2.5;
        write_file("tdnpy_lab.npy", buf, make_npy(1, f8, 'd', t, 9));
        BAD("tdnpy_lab.npy", NULL, CG_ERR_FORMAT, "label 2.5 at [1, 2]");
        t[5] = 1.0 + 1e-9; /* not an integer, though close */
        write_file("tdnpy_lab.npy", buf, make_npy(1, f8, 'd', t, 9));
        BAD("tdnpy_lab.npy", NULL, CG_ERR_FORMAT, "label 1.000000001");
        t[5] = 1e8;
        write_file("tdnpy_lab.npy", buf, make_npy(1, f8, 'd', t, 9));
        BAD("tdnpy_lab.npy", NULL, CG_ERR_FORMAT, "label 100000000 at [1, 2]");
        t[5] = strtod("nan", NULL);
        write_file("tdnpy_lab.npy", buf, make_npy(1, f4, 'f', t, 9));
        BAD("tdnpy_lab.npy", NULL, CG_ERR_FORMAT, "at [1, 2] (0-based) is not a valid class");
        memcpy(t, table, sizeof t);
        t[4] = strtod("inf", NULL);
        write_file("tdnpy_inf.npy", buf, make_npy(1, f4, 'f', t, 9));
        BAD("tdnpy_inf.npy", NULL, CG_ERR_NUMERIC, "value inf at [1, 1] (0-based) is not a finite float");
        t[4] = 1e300;
        write_file("tdnpy_inf.npy", buf, make_npy(1, f8, 'd', t, 9));
        BAD("tdnpy_inf.npy", NULL, CG_ERR_NUMERIC, "value 1e+300 at [1, 1]");
    }
    /* Missing file, NULL arguments. */
    BAD("tdnpy_missing.npy", NULL, CG_ERR_IO, "cannot open");
    CHECK(cg_load_npy(NULL, NULL, &ds) == CG_ERR_ARG);
    CHECK(cg_load_npy("tdnpy_f4.npy", NULL, NULL) == CG_ERR_ARG);

    const char *files[] = {"tdnpy_f4.npy", "tdnpy_f8v2.npy", "tdnpy_f8v3.npy", "tdnpy_mid.npy",
                           "tdnpy_u1.npy", "tdnpy_magic.npy", "tdnpy_short.npy", "tdnpy_ver.npy",
                           "tdnpy_cuthdr.npy", "tdnpy_hdr.npy", "tdnpy_fortran.npy",
                           "tdnpy_dtype.npy", "tdnpy_3d.npy", "tdnpy_1d.npy", "tdnpy_0.npy",
                           "tdnpy_col.npy", "tdnpy_cut.npy", "tdnpy_extra.npy", "tdnpy_huge.npy",
                           "tdnpy_lab.npy", "tdnpy_inf.npy"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) remove(files[i]);
    CHECK_DONE();
}
