/* SPDX-License-Identifier: MIT */
/* test_data_idx.c: the IDX loader on small files written here (plain and
 * gzip), valid and malformed. */
#include "cgrad.h"
#include "check.h"
#include "data_files.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IDX images: n images of r x c, pixel (i, j) = (7 * i + 3 * j + 1) & 255. */
static size_t make_images(unsigned char *buf, uint32_t magic, uint32_t n, uint32_t r,
                          uint32_t c)
{
    size_t o = put_be32(buf, magic);
    o += put_be32(buf + o, n);
    o += put_be32(buf + o, r);
    o += put_be32(buf + o, c);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < r * c; j++) buf[o++] = (unsigned char)((7 * i + 3 * j + 1) & 255);
    return o;
}

static size_t make_labels(unsigned char *buf, uint32_t magic, uint32_t n,
                          const unsigned char *labels)
{
    size_t o = put_be32(buf, magic);
    o += put_be32(buf + o, n);
    memcpy(buf + o, labels, n);
    return o + n;
}

static void check_small(const cg_dataset *ds, const unsigned char *labels)
{
    CHECK(ds->n == 3);
    CHECK(ds->d == 6);
    CHECK(ds->rows == 2);
    CHECK(ds->cols == 3);
    CHECK(ds->n_classes == 8);
    CHECK(ds->x_u8 != NULL);
    CHECK(ds->x_f32 == NULL);
    CHECK(ds->y != NULL);
    if (ds->x_u8 && ds->y && ds->n == 3 && ds->d == 6) {
        int ok = 1;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 6; j++)
                if (ds->x_u8[i * 6 + j] != ((7 * i + 3 * j + 1) & 255)) ok = 0;
        CHECK(ok);
        for (int i = 0; i < 3; i++) CHECK(ds->y[i] == labels[i]);
    }
}

#define BAD(images, labels, code, needle)                                  \
    do {                                                                   \
        cg_dataset bad_ds_;                                                \
        memset(&bad_ds_, 0x5a, sizeof bad_ds_);                            \
        int bad_rc_ = cg_load_idx((images), (labels), &bad_ds_);           \
        CHECK(bad_rc_ == (code));                                          \
        CHECK(zeroed(&bad_ds_));                                           \
        CHECK_ERROR(needle);                                               \
        cg_dataset_free(&bad_ds_);                                         \
    } while (0)

int main(void)
{
    static unsigned char img[4096], lab[1024], gz[8192], tmp[8192];
    const unsigned char labels[3] = {2, 0, 7};
    size_t ni = make_images(img, 0x803, 3, 2, 3);
    size_t nl = make_labels(lab, 0x801, 3, labels);
    write_file("tdidx_img", img, ni);
    write_file("tdidx_lab", lab, nl);

    /* Plain files. */
    cg_dataset ds;
    CHECK(cg_load_idx("tdidx_img", "tdidx_lab", &ds) == CG_OK);
    check_small(&ds, labels);
    cg_dataset_free(&ds);
    CHECK(zeroed(&ds));
    cg_dataset_free(&ds); /* twice is harmless */
    cg_dataset_free(NULL);

    /* gzip, detected by content: names without .gz, and mixed plain/gzip. */
    write_file("tdidx_img_gz", gz, make_gzip(img, ni, gz));
    write_file("tdidx_lab_gz.gz", gz, make_gzip(lab, nl, gz));
    CHECK(cg_load_idx("tdidx_img_gz", "tdidx_lab_gz.gz", &ds) == CG_OK);
    check_small(&ds, labels);
    cg_dataset_free(&ds);
    CHECK(cg_load_idx("tdidx_img_gz", "tdidx_lab", &ds) == CG_OK);
    check_small(&ds, labels);
    cg_dataset_free(&ds);

    /* Labels use the whole byte range: n_classes = 1 + max. */
    {
        const unsigned char big[3] = {255, 0, 17};
        write_file("tdidx_lab255", tmp, make_labels(tmp, 0x801, 3, big));
        CHECK(cg_load_idx("tdidx_img", "tdidx_lab255", &ds) == CG_OK);
        CHECK(ds.n_classes == 256);
        CHECK(ds.y && ds.y[0] == 255 && ds.y[1] == 0 && ds.y[2] == 17);
        cg_dataset_free(&ds);
    }
    /* A larger gzip (several stored blocks): 100 images of 28 x 28. */
    {
        static unsigned char bimg[100 * 784 + 16], bgz[100 * 784 + 1000];
        unsigned char blab[100];
        for (int i = 0; i < 100; i++) blab[i] = (unsigned char)(i % 10);
        size_t nb = make_images(bimg, 0x803, 100, 28, 28);
        write_file("tdidx_bimg.gz", bgz, make_gzip(bimg, nb, bgz));
        write_file("tdidx_blab", tmp, make_labels(tmp, 0x801, 100, blab));
        CHECK(cg_load_idx("tdidx_bimg.gz", "tdidx_blab", &ds) == CG_OK);
        CHECK(ds.n == 100 && ds.d == 784 && ds.rows == 28 && ds.cols == 28);
        CHECK(ds.n_classes == 10);
        if (ds.x_u8 && ds.n == 100) {
            CHECK(ds.x_u8[99 * 784 + 783] == ((7 * 99 + 3 * 783 + 1) & 255));
            CHECK(ds.x_u8[50 * 784 + 10] == ((7 * 50 + 3 * 10 + 1) & 255));
            CHECK(ds.y[57] == 7);
        }
        cg_dataset_free(&ds);

        /* The same gzip cut in the middle of the data. */
        size_t nz = make_gzip(bimg, nb, bgz);
        write_file("tdidx_bimg_cut.gz", bgz, nz / 2);
        BAD("tdidx_bimg_cut.gz", "tdidx_blab", CG_ERR_FORMAT, "file 'tdidx_bimg_cut.gz'");
        CHECK_ERROR("truncated pixel data");
        /* A damaged gzip stream (bad block type). */
        bgz[10] = 0x07;
        write_file("tdidx_bimg_bad.gz", bgz, nz);
        BAD("tdidx_bimg_bad.gz", "tdidx_blab", CG_ERR_FORMAT, "file 'tdidx_bimg_bad.gz'");
    }

    /* --- Malformed files --- */

    /* A labels file given as images: right type, wrong number of dims. */
    BAD("tdidx_lab", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_lab'");
    CHECK_ERROR("has 1 dimensions, expected 3");
    BAD("tdidx_img", "tdidx_img", CG_ERR_FORMAT, "file 'tdidx_img'");
    CHECK_ERROR("has 3 dimensions, expected 1");

    /* Not IDX at all. */
    write_file("tdidx_text", "GIF89a some text here", 21);
    BAD("tdidx_text", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_text': not an IDX file");
    CHECK_ERROR("0x47494638");
    CHECK_ERROR("expected 0x00000803");
    BAD("tdidx_img", "tdidx_text", CG_ERR_FORMAT, "expected 0x00000801");

    /* Element type other than ubyte (0x0D = float). */
    {
        size_t n = make_images(tmp, 0x0D03, 3, 2, 3);
        write_file("tdidx_float", tmp, n);
        BAD("tdidx_float", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_float'");
        CHECK_ERROR("element type 0x0d");
    }

    /* Too short for a magic; header cut short. */
    write_file("tdidx_tiny", img, 2);
    BAD("tdidx_tiny", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_tiny': too short");
    write_file("tdidx_cuthead", img, 10);
    BAD("tdidx_cuthead", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_cuthead': truncated IDX header");
    write_file("tdidx_empty", img, 0);
    BAD("tdidx_empty", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_empty'");

    /* Pixel data and label data cut short. */
    write_file("tdidx_cutimg", img, ni - 1);
    BAD("tdidx_cutimg", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_cutimg': truncated pixel data");
    CHECK_ERROR("17 of 18 bytes");
    write_file("tdidx_cutlab", lab, nl - 2);
    BAD("tdidx_img", "tdidx_cutlab", CG_ERR_FORMAT, "file 'tdidx_cutlab': truncated label data");

    /* A header announcing far more than the file holds: a clean error, no
     * attempt to allocate terabytes. */
    {
        size_t n = make_images(tmp, 0x803, 3, 2, 3);
        put_be32(tmp + 4, 0x7fffffff);
        put_be32(tmp + 8, 60000);
        put_be32(tmp + 12, 60000);
        write_file("tdidx_liar", tmp, n);
        BAD("tdidx_liar", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_liar'");
        CHECK_ERROR("too large");
        put_be32(tmp + 4, 1000000);
        put_be32(tmp + 8, 100);
        put_be32(tmp + 12, 100);
        write_file("tdidx_liar2", tmp, n);
        BAD("tdidx_liar2", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_liar2': truncated pixel data");
    }

    /* Zero images. */
    {
        size_t n = make_images(tmp, 0x803, 0, 2, 3);
        write_file("tdidx_zero", tmp, n);
        BAD("tdidx_zero", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_zero': empty image set");
    }

    /* Trailing bytes after the data. */
    {
        memcpy(tmp, img, ni);
        tmp[ni] = 1;
        write_file("tdidx_extra", tmp, ni + 1);
        BAD("tdidx_extra", "tdidx_lab", CG_ERR_FORMAT, "file 'tdidx_extra': unexpected data");
    }

    /* Different counts. */
    {
        const unsigned char four[4] = {1, 2, 3, 4};
        write_file("tdidx_lab4", tmp, make_labels(tmp, 0x801, 4, four));
        BAD("tdidx_img", "tdidx_lab4", CG_ERR_FORMAT, "file 'tdidx_lab4': 4 labels");
        CHECK_ERROR("'tdidx_img' has 3 images");
    }

    /* Missing files and NULL arguments. */
    BAD("tdidx_no_such_file", "tdidx_lab", CG_ERR_IO, "file 'tdidx_no_such_file': cannot open");
    BAD("tdidx_img", "tdidx_no_such_file", CG_ERR_IO, "file 'tdidx_no_such_file': cannot open");
    CHECK(cg_load_idx(NULL, "tdidx_lab", &ds) == CG_ERR_ARG);
    CHECK(cg_load_idx("tdidx_img", NULL, &ds) == CG_ERR_ARG);
    CHECK(cg_load_idx("tdidx_img", "tdidx_lab", NULL) == CG_ERR_ARG);

    const char *files[] = {"tdidx_img", "tdidx_lab", "tdidx_img_gz", "tdidx_lab_gz.gz",
                           "tdidx_lab255", "tdidx_bimg.gz", "tdidx_blab",
                           "tdidx_bimg_cut.gz", "tdidx_bimg_bad.gz", "tdidx_text",
                           "tdidx_float", "tdidx_tiny", "tdidx_cuthead", "tdidx_empty",
                           "tdidx_cutimg", "tdidx_cutlab", "tdidx_liar", "tdidx_liar2",
                           "tdidx_zero", "tdidx_extra", "tdidx_lab4"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) remove(files[i]);
    CHECK_DONE();
}
