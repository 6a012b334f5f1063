/* SPDX-License-Identifier: MIT */
/* test_data_inputs.c: cg_load_inputs, the unlabelled loader behind
 * `cgrad predict`: IDX (plain and gzip), .npy, CSV and stdin, with and
 * without a label column to drop, and inputs of the wrong width. */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, dup2 */
#include "cgrad.h"
#include "check.h"
#include "data_files.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* The loader's promise for every successful load: no labels. */
static int unlabelled(const cg_dataset *ds)
{
    return ds->y == NULL && ds->n_classes == 0;
}

/* Expect `code`, a message containing `needle`, and *ds left empty. */
#define BAD(path, d, label, code, needle)                                    \
    do {                                                                     \
        cg_dataset bad_ds_;                                                  \
        memset(&bad_ds_, 0x5a, sizeof bad_ds_);                              \
        CHECK(cg_load_inputs((path), (d), (label), &bad_ds_) == (code));     \
        CHECK_ERROR(needle);                                                 \
        CHECK(zeroed(&bad_ds_));                                             \
    } while (0)

/* --- IDX --- */

/* n images of r x c; pixel j of image i = 10 * i + j. */
static size_t make_images(unsigned char *buf, uint32_t n, uint32_t r, uint32_t c)
{
    size_t o = put_be32(buf, 0x00000803u);
    o += put_be32(buf + o, n);
    o += put_be32(buf + o, r);
    o += put_be32(buf + o, c);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < r * c; j++) buf[o++] = (unsigned char)(10 * i + j);
    return o;
}

static void test_idx(void)
{
    unsigned char img[256], gz[512];
    size_t ni = make_images(img, 3, 2, 3);
    cg_dataset ds;

    write_file("tdin_img", img, ni);
    CHECK(cg_load_inputs("tdin_img", 6, NULL, &ds) == CG_OK);
    CHECK(ds.n == 3 && ds.d == 6 && ds.rows == 2 && ds.cols == 3);
    CHECK(unlabelled(&ds) && ds.x_u8 && !ds.x_f32);
    CHECK(ds.x_u8 && ds.x_u8[0] == 0 && ds.x_u8[5] == 5 && ds.x_u8[6] == 10 &&
          ds.x_u8[17] == 25);
    cg_dataset_free(&ds);
    CHECK(zeroed(&ds));

    /* gzip, told apart by content, and a label argument that is ignored. */
    write_file("tdin_img_gz", gz, make_gzip(img, ni, gz));
    CHECK(cg_load_inputs("tdin_img_gz", 6, "label", &ds) == CG_OK);
    CHECK(ds.n == 3 && ds.d == 6 && unlabelled(&ds));
    CHECK(ds.x_u8 && ds.x_u8[17] == 25);
    cg_dataset_free(&ds);

    BAD("tdin_img", 784, NULL, CG_ERR_SHAPE,
        "tdin_img: rows have 6 features, the model takes 784");
    /* A labels file is not an images file. */
    unsigned char lab[16];
    size_t nl = put_be32(lab, 0x00000801u);
    nl += put_be32(lab + nl, 2);
    lab[nl++] = 1;
    lab[nl++] = 2;
    write_file("tdin_lab", lab, nl);
    BAD("tdin_lab", 1, NULL, CG_ERR_FORMAT, "file 'tdin_lab'");
    /* Truncated pixels. */
    write_file("tdin_img_cut", img, ni - 1);
    BAD("tdin_img_cut", 6, NULL, CG_ERR_FORMAT, "truncated");
}

/* --- NPY --- */

/* A version 1.0 .npy image of a [rows, cols] array of `dtype` ('f' = <f4,
 * 'd' = <f8, 'u' = |u1) holding v. */
static size_t make_npy(unsigned char *buf, char dtype, int rows, int cols, const double *v)
{
    char dict[128];
    snprintf(dict, sizeof dict,
             "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }",
             dtype == 'f' ? "<f4" : dtype == 'd' ? "<f8" : "|u1", rows, cols);
    size_t dl = strlen(dict), pad = (64 - (10 + dl + 1) % 64) % 64;
    size_t hlen = dl + pad + 1, o = 0;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    o = 8;
    buf[o++] = (unsigned char)(hlen & 0xff);
    buf[o++] = (unsigned char)(hlen >> 8);
    memcpy(buf + o, dict, dl);
    o += dl;
    memset(buf + o, ' ', pad);
    o += pad;
    buf[o++] = '\n';
    for (int i = 0; i < rows * cols; i++) {
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

static void test_npy(void)
{
    static unsigned char buf[4096];
    const double v[] = {1.5, -2, 3, 4, 5.25, 6, 7, 8, 9};
    cg_dataset ds;

    /* [3, 3] f4 for a model of 3 features: all columns are features. */
    write_file("tdin_a.npy", buf, make_npy(buf, 'f', 3, 3, v));
    CHECK(cg_load_inputs("tdin_a.npy", 3, NULL, &ds) == CG_OK);
    CHECK(ds.n == 3 && ds.d == 3 && unlabelled(&ds) && ds.x_f32 && !ds.x_u8);
    CHECK(ds.x_f32 && ds.x_f32[0] == 1.5f && ds.x_f32[1] == -2 && ds.x_f32[8] == 9);
    cg_dataset_free(&ds);

    /* The same for 2 features: the last column (the label) is dropped. */
    CHECK(cg_load_inputs("tdin_a.npy", 2, NULL, &ds) == CG_OK);
    CHECK(ds.n == 3 && ds.d == 2 && unlabelled(&ds));
    CHECK(ds.x_f32 && ds.x_f32[0] == 1.5f && ds.x_f32[1] == -2 && ds.x_f32[2] == 4 &&
          ds.x_f32[5] == 8);
    cg_dataset_free(&ds);

    /* ... or the column named by index; it need not hold valid labels. */
    CHECK(cg_load_inputs("tdin_a.npy", 2, "0", &ds) == CG_OK);
    CHECK(ds.x_f32 && ds.x_f32[0] == -2 && ds.x_f32[1] == 3 && ds.x_f32[2] == 5.25f);
    cg_dataset_free(&ds);

    /* f8 and u1; a name without .npy is found by its magic. */
    write_file("tdin_b.data", buf, make_npy(buf, 'd', 3, 3, v));
    CHECK(cg_load_inputs("tdin_b.data", 3, NULL, &ds) == CG_OK);
    CHECK(ds.n == 3 && ds.x_f32 && ds.x_f32[4] == 5.25f && unlabelled(&ds));
    cg_dataset_free(&ds);
    const double bytes[] = {0, 255, 7, 9};
    write_file("tdin_c.npy", buf, make_npy(buf, 'u', 2, 2, bytes));
    CHECK(cg_load_inputs("tdin_c.npy", 2, NULL, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.x_f32 && ds.x_f32[1] == 255 && ds.x_f32[3] == 9);
    cg_dataset_free(&ds);

    BAD("tdin_a.npy", 5, NULL, CG_ERR_SHAPE,
        "tdin_a.npy: rows have 3 features, the model takes 5");
    BAD("tdin_a.npy", 1, NULL, CG_ERR_SHAPE, "rows have 3 features, the model takes 1");
    BAD("tdin_a.npy", 2, "3", CG_ERR_ARG, "out of range");
    BAD("tdin_a.npy", 2, "x", CG_ERR_ARG, "not a column index");
    /* A non-finite feature is refused as in training data. */
    const double inf[] = {1, 1e300};
    write_file("tdin_inf.npy", buf, make_npy(buf, 'd', 1, 2, inf));
    BAD("tdin_inf.npy", 2, NULL, CG_ERR_NUMERIC, "not a finite float");
}

/* --- CSV --- */

static void test_csv(void)
{
    cg_dataset ds;
    write_text("tdin_a.csv", "a,b,c\n1,2,3\n4,5,6\n");
    CHECK(cg_load_inputs("tdin_a.csv", 3, NULL, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 3 && unlabelled(&ds) && ds.x_f32);
    CHECK(ds.x_f32 && ds.x_f32[0] == 1 && ds.x_f32[5] == 6);
    cg_dataset_free(&ds);

    /* d + 1 columns: the label column by name, by index, or the last. */
    CHECK(cg_load_inputs("tdin_a.csv", 2, "b", &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 2 && unlabelled(&ds));
    CHECK(ds.x_f32 && ds.x_f32[0] == 1 && ds.x_f32[1] == 3 && ds.x_f32[3] == 6);
    cg_dataset_free(&ds);
    CHECK(cg_load_inputs("tdin_a.csv", 2, "0", &ds) == CG_OK);
    CHECK(ds.x_f32 && ds.x_f32[0] == 2 && ds.x_f32[1] == 3);
    cg_dataset_free(&ds);
    CHECK(cg_load_inputs("tdin_a.csv", 2, NULL, &ds) == CG_OK);
    CHECK(ds.x_f32 && ds.x_f32[0] == 1 && ds.x_f32[1] == 2 && ds.x_f32[2] == 4);
    cg_dataset_free(&ds);

    /* No header (all cells numeric). */
    write_text("tdin_b.csv", "0.5,-1,7\n2,3e2,8\n");
    CHECK(cg_load_inputs("tdin_b.csv", 2, NULL, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 2 && ds.x_f32 && ds.x_f32[0] == 0.5f &&
          ds.x_f32[3] == 300);
    cg_dataset_free(&ds);
    /* The dropped column is not read: text is fine there. */
    write_text("tdin_g.csv", "a,b,kind\n0.5,-1,cat\n2,3e2,dog\n");
    CHECK(cg_load_inputs("tdin_g.csv", 2, "kind", &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 2 && ds.x_f32 && ds.x_f32[3] == 300);
    cg_dataset_free(&ds);

    /* Any other name that is not .npy or IDX by content is read as CSV. */
    write_text("tdin_c.txt", "1,2\n3,4\n");
    CHECK(cg_load_inputs("tdin_c.txt", 2, NULL, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.x_f32 && ds.x_f32[3] == 4);
    cg_dataset_free(&ds);

    BAD("tdin_a.csv", 4, NULL, CG_ERR_SHAPE,
        "tdin_a.csv: rows have 3 features, the model takes 4");
    BAD("tdin_a.csv", 2, "z", CG_ERR_ARG, "no column named 'z'");
    BAD("tdin_g.csv", 3, NULL, CG_ERR_FORMAT, "tdin_g.csv:2:3: 'cat' is not a number");
    write_text("tdin_d.csv", "1,2\n3\n");
    BAD("tdin_d.csv", 2, NULL, CG_ERR_FORMAT, "tdin_d.csv:2: row has 1 columns");
    write_text("tdin_e.csv", "");
    BAD("tdin_e.csv", 2, NULL, CG_ERR_FORMAT, "empty file");
}

/* --- stdin --- */

/* cg_load_inputs("-") with `text` arriving through a pipe from a child. */
static int load_stdin(const char *text, int d, const char *label, cg_dataset *ds)
{
    int fd[2];
    if (pipe(fd) != 0) return -100;
    pid_t pid = fork();
    if (pid < 0) return -100;
    if (pid == 0) {
        close(fd[0]);
        size_t n = strlen(text), off = 0;
        while (off < n) {
            ssize_t w = write(fd[1], text + off, n - off);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fd[1]);
    int saved = dup(0);
    dup2(fd[0], 0);
    close(fd[0]);
    clearerr(stdin);
    int rc = cg_load_inputs("-", d, label, ds);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return rc;
}

static void test_stdin(void)
{
    cg_dataset ds;
    /* Big enough to need several reads from the pipe. */
    size_t cap = 200000, o = 0;
    char *text = malloc(cap);
    if (!text) exit(2);
    o += (size_t)snprintf(text, cap, "x,y,label\n");
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(text + o, cap - o, "%d,%d.5,%d\n", i, -i, i % 3);
    CHECK(load_stdin(text, 2, NULL, &ds) == CG_OK);
    CHECK(ds.n == 5000 && ds.d == 2 && unlabelled(&ds));
    CHECK(ds.x_f32 && ds.x_f32[0] == 0 && ds.x_f32[1] == 0.5f &&
          ds.x_f32[2 * 4999] == 4999 && ds.x_f32[2 * 4999 + 1] == -4999.5f);
    cg_dataset_free(&ds);
    free(text);

    memset(&ds, 0x5a, sizeof ds);
    CHECK(load_stdin("1,2,3,4\n", 2, NULL, &ds) == CG_ERR_SHAPE);
    CHECK_ERROR("<stdin>: rows have 4 features, the model takes 2");
    CHECK(zeroed(&ds));
}

/* --- Unlabelled sets downstream: gather, split, normaliser, free --- */

static void test_unlabelled_use(void)
{
    cg_dataset ds, tr, va;
    write_text("tdin_f.csv", "1,2\n3,4\n5,6\n7,8\n");
    CHECK(cg_load_inputs("tdin_f.csv", 2, NULL, &ds) == CG_OK);
    int idx[2] = {2, 0};
    cg_real x[4], y[2] = {-7, -7};
    cg_clear_error();
    cg_dataset_gather(&ds, NULL, idx, 2, x, y);
    CHECK(strcmp(cg_last_error(), "") == 0);
    CHECK(x[0] == 5 && x[1] == 6 && x[2] == 1 && x[3] == 2);
    CHECK(y[0] == -7 && y[1] == -7); /* no labels: y untouched */
    cg_normalizer nz;
    CHECK(cg_normalizer_fit(&nz, &ds, 1) == CG_OK);
    cg_dataset_gather(&ds, &nz, idx, 2, x, NULL);
    CHECK_NEAR(x[0], (5 - 4) / sqrt(5.0), 1e-5);
    cg_normalizer_free(&nz);
    CHECK(cg_dataset_split(&ds, 0.25, 1, &tr, &va) == CG_OK);
    CHECK(tr.n == 3 && va.n == 1 && !tr.y && !va.y && tr.x_f32 && va.x_f32);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    cg_dataset_free(&ds);
    cg_dataset_free(&ds); /* freeing twice is harmless: free zeroes */
}

static void test_args(void)
{
    cg_dataset ds;
    CHECK(cg_load_inputs(NULL, 2, NULL, &ds) == CG_ERR_ARG);
    CHECK(cg_load_inputs("tdin_a.csv", 2, NULL, NULL) == CG_ERR_ARG);
    BAD("tdin_a.csv", 0, NULL, CG_ERR_ARG, "not positive");
    BAD("tdin_missing.csv", 2, NULL, CG_ERR_IO, "file 'tdin_missing.csv': cannot open");
    BAD("tdin_missing", 2, NULL, CG_ERR_IO, "file 'tdin_missing': cannot open");
}

int main(void)
{
    test_idx();
    test_npy();
    test_csv();
    test_stdin();
    test_unlabelled_use();
    test_args();
    CHECK_DONE();
}
