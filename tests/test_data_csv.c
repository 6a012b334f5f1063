/* SPDX-License-Identifier: MIT */
/* test_data_csv.c: the CSV loader on small files written here, valid and
 * malformed. */
#include "cgrad.h"
#include "check.h"
#include "data_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    size_t n = strlen(text);
    if (!f || fwrite(text, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

/* Load text saved as `path`; expect success. */
static int load_ok(const char *path, const char *text, const char *label, int header,
                   cg_dataset *ds)
{
    write_text(path, text);
    int rc = cg_load_csv(path, label, header, ds);
    if (rc != CG_OK) fprintf(stderr, "unexpected error: %s\n", cg_last_error());
    return rc == CG_OK;
}

/* Load text saved as `path`; expect `code` and an error naming the file. */
#define BAD(path, text, label, header, code, needle)                         \
    do {                                                                     \
        cg_dataset bad_ds_;                                                  \
        memset(&bad_ds_, 0x5a, sizeof bad_ds_);                              \
        write_text((path), (text));                                          \
        CHECK(cg_load_csv((path), (label), (header), &bad_ds_) == (code));   \
        CHECK(zeroed(&bad_ds_));                                             \
        CHECK_ERROR(path);                                                   \
        CHECK_ERROR(needle);                                                 \
        cg_dataset_free(&bad_ds_);                                           \
        remove(path);                                                        \
    } while (0)

static int rows_equal(const cg_dataset *ds, const float *x, const int *y)
{
    if (!ds->x_f32 || !ds->y) return 0;
    for (int i = 0; i < ds->n; i++) {
        if (ds->y[i] != y[i]) return 0;
        for (int j = 0; j < ds->d; j++)
            if (ds->x_f32[i * ds->d + j] != x[i * ds->d + j]) return 0;
    }
    return 1;
}

int main(void)
{
    cg_dataset ds;

    /* Header detected; label is the last column by default. */
    if (load_ok("tdcsv_a.csv", "f1,f2,label\n1.5,-2,0\n3,4e2,2\n0.25,0,1\n", NULL, -1, &ds)) {
        const float x[] = {1.5f, -2, 3, 400, 0.25f, 0};
        const int y[] = {0, 2, 1};
        CHECK(ds.n == 3 && ds.d == 2 && ds.n_classes == 3);
        CHECK(ds.x_u8 == NULL && ds.rows == 0 && ds.cols == 0);
        CHECK(rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
        CHECK(zeroed(&ds));
    }
    /* Label by name, in the middle. */
    if (load_ok("tdcsv_a.csv", "f1,cls,f2\n1,3,2\n4,0,5\n", "cls", -1, &ds)) {
        const float x[] = {1, 2, 4, 5};
        const int y[] = {3, 0};
        CHECK(ds.n == 2 && ds.d == 2 && ds.n_classes == 4);
        CHECK(rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    /* Label by index as text; no header, detected. */
    if (load_ok("tdcsv_a.csv", "5,1,2\n6,0,3\n", "0", -1, &ds)) {
        const float x[] = {1, 2, 0, 3};
        const int y[] = {5, 6};
        CHECK(ds.n == 2 && ds.d == 2 && ds.n_classes == 7);
        CHECK(rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    /* Header forced on although numeric; index label; header forced off. */
    if (load_ok("tdcsv_a.csv", "10,20,30\n1,2,3\n", "1", 1, &ds)) {
        const float x[] = {1, 3};
        const int y[] = {2};
        CHECK(ds.n == 1 && ds.d == 2 && rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    if (load_ok("tdcsv_a.csv", "10,20,30\n1,2,3\n", NULL, 0, &ds)) {
        const float x[] = {10, 20, 1, 2};
        const int y[] = {30, 3};
        CHECK(ds.n == 2 && ds.n_classes == 31 && rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    /* CRLF, quoted cells (header with a comma and an escaped quote),
     * spaces, a BOM, blank lines in between and at the end, no final
     * newline; labels written as 2.0 and 1e0 are integers. */
    if (load_ok("tdcsv_b.csv",
                "\xEF\xBB\xBF\"a, \"\"x\"\"\", b ,y\r\n"
                "\"1.25\", 2 ,\"2.0\"\r\n"
                "\r\n"
                "  -3 ,\"4\",1e0\r\n"
                "\r\n\r\n   \r\n",
                "y", -1, &ds)) {
        const float x[] = {1.25f, 2, -3, 4};
        const int y[] = {2, 1};
        CHECK(ds.n == 2 && ds.d == 2 && ds.n_classes == 3);
        CHECK(rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    if (load_ok("tdcsv_b.csv", "\"a, \"\"x\"\"\",b,y\n1,2,0\n", "a, \"x\"", -1, &ds)) {
        CHECK(ds.n == 1 && ds.d == 2 && ds.x_f32 && ds.x_f32[0] == 2 && ds.y[0] == 1);
        cg_dataset_free(&ds);
    }
    /* A bare CR line end (old Mac), no trailing newline. */
    if (load_ok("tdcsv_b.csv", "1,2,0\r3,4,1", NULL, -1, &ds)) {
        const float x[] = {1, 2, 3, 4};
        const int y[] = {0, 1};
        CHECK(ds.n == 2 && rows_equal(&ds, x, y));
        cg_dataset_free(&ds);
    }
    /* Many rows (the arrays grow): 5000 rows of 3 features. */
    {
        size_t cap = 5000 * 40 + 100, o = 0;
        char *text = malloc(cap);
        o += (size_t)snprintf(text + o, cap - o, "a,b,c,label\n");
        for (int i = 0; i < 5000; i++)
            o += (size_t)snprintf(text + o, cap - o, "%d,%d.5,%d,%d\n", i, -i, 2 * i, i % 4);
        if (load_ok("tdcsv_big.csv", text, NULL, -1, &ds)) {
            CHECK(ds.n == 5000 && ds.d == 3 && ds.n_classes == 4);
            if (ds.n == 5000) {
                CHECK(ds.x_f32[4999 * 3 + 0] == 4999.0f);
                CHECK(ds.x_f32[4999 * 3 + 1] == -4999.5f);
                CHECK(ds.x_f32[1234 * 3 + 2] == 2468.0f);
                CHECK(ds.y[4999] == 3 && ds.y[1234] == 2);
            }
            cg_dataset_free(&ds);
        }
        free(text);
        remove("tdcsv_big.csv");
    }

    /* --- Malformed files: the message names file:line:column and text --- */

    BAD("tdcsv_num.csv", "a,b,y\n1,2,0\n3,abc,1\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_num.csv:3:2: 'abc' is not a number");
    BAD("tdcsv_num.csv", "a,b,y\n1,2,0\n3,4x,1\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_num.csv:3:2: '4x' is not a number");
    BAD("tdcsv_num.csv", "1,2,0\nfoo,4,1\n", NULL, 0, CG_ERR_FORMAT,
        "tdcsv_num.csv:2:1: 'foo' is not a number");
    /* has_header 0: a text first row is data, hence an error. */
    BAD("tdcsv_num.csv", "a,b,y\n1,2,0\n", NULL, 0, CG_ERR_FORMAT,
        "tdcsv_num.csv:1:1: 'a' is not a number");
    /* A column with every cell missing has nothing to impute from. */
    BAD("tdcsv_empty_cell.csv", "a,b,y\n1,,0\n2,NA,1\n", NULL, -1, CG_ERR_FORMAT,
        "file 'tdcsv_empty_cell.csv': column 'b' (2) has no values: all 2 cells are missing");
    BAD("tdcsv_inf.csv", "a,b,y\n1,-inf,0\n", NULL, -1, CG_ERR_NUMERIC,
        "tdcsv_inf.csv:2:2: '-inf' is not finite");
    BAD("tdcsv_big.csv", "a,b,y\n1,1e300,0\n", NULL, -1, CG_ERR_NUMERIC,
        "tdcsv_big.csv:2:2: '1e300' is out of float range");
    BAD("tdcsv_cols.csv", "a,b,y\n1,2,0\n1,2\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_cols.csv:3: row has 2 columns, expected 3 (as on line 1; the delimiter is ',')");
    BAD("tdcsv_cols.csv", "a,b,y\r\n1,2,0\r\n\r\n1,2,3,4\r\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_cols.csv:4: row has 4 columns, expected 3");
    /* Labels: negative, fractional, not a number, too large, empty. */
    BAD("tdcsv_lab.csv", "a,y\n1,0\n2,-1\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_lab.csv:3:2: label '-1' is not a valid class");
    BAD("tdcsv_lab.csv", "a,y\n1,0.5\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_lab.csv:2:2: label '0.5' is not a valid class");
    BAD("tdcsv_lab.csv", "a,y\n1,1e9\n", NULL, -1, CG_ERR_FORMAT,
        "label '1e9' is not a valid class (numeric labels must be integers in 0..65535");
    /* A label of 2^24 would make 16777217 classes: refused before any
     * allocation, naming the cell. */
    BAD("tdcsv_lab.csv", "a,y\n1,0\n2,16777216\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_lab.csv:3:2: label '16777216' is not a valid class");
    BAD("tdcsv_lab.csv", "y,a\n,1\n", "0", 1, CG_ERR_FORMAT,
        "tdcsv_lab.csv:2:1: missing label");
    /* Quotes. */
    BAD("tdcsv_quote.csv", "a,y\n\"1,0\n2,1\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_quote.csv:2:1: unterminated quoted cell");
    BAD("tdcsv_quote.csv", "a,y\n\"1\"x,0\n", NULL, -1, CG_ERR_FORMAT,
        "tdcsv_quote.csv:2:1: unexpected text after a closing quote");
    /* Empty file, only blank lines, only a header, one column. */
    BAD("tdcsv_void.csv", "", NULL, -1, CG_ERR_FORMAT, "file 'tdcsv_void.csv': empty file");
    BAD("tdcsv_void.csv", "\n\r\n  \n", NULL, -1, CG_ERR_FORMAT,
        "file 'tdcsv_void.csv': empty file");
    BAD("tdcsv_head.csv", "a,b,y\n", NULL, -1, CG_ERR_FORMAT,
        "file 'tdcsv_head.csv': no data rows");
    BAD("tdcsv_one.csv", "y\n1\n2\n", NULL, -1, CG_ERR_FORMAT,
        "file 'tdcsv_one.csv': line 1 has 1 column; need at least one feature column");
    /* Label columns that do not exist. */
    BAD("tdcsv_lcol.csv", "a,b,y\n1,2,0\n", "z", -1, CG_ERR_ARG,
        "file 'tdcsv_lcol.csv': no column named 'z' (columns: 'a', 'b', 'y')");
    BAD("tdcsv_lcol.csv", "1,2,0\n", "y", -1, CG_ERR_ARG,
        "file 'tdcsv_lcol.csv': no column named 'y' (the file has no header row");
    BAD("tdcsv_lcol.csv", "a,b,y\n1,2,0\n", "3", -1, CG_ERR_ARG,
        "file 'tdcsv_lcol.csv': label column 3 is out of range (the file has 3 columns");
    /* Many long column names: the list is cut with "..." (the fuzzer found
     * this overflowing the message buffer by one byte at some lengths). */
    for (int len = 1; len <= 12; len++) {
        char text[2048];
        size_t o = 0;
        for (int i = 0; i < 60; i++)
            o += (size_t)snprintf(text + o, sizeof text - o, "%s%.*s%02d", i ? "," : "",
                                  len, "cccccccccccc", i);
        snprintf(text + o, sizeof text - o, "\n");
        write_text("tdcsv_many.csv", text);
        CHECK(cg_load_csv("tdcsv_many.csv", "nope", -1, &ds) == CG_ERR_ARG);
        CHECK_ERROR("no column named 'nope' (columns: 'c");
        CHECK_ERROR("', ...)");
    }
    /* Missing file, bad arguments. */
    CHECK(cg_load_csv("tdcsv_missing.csv", NULL, -1, &ds) == CG_ERR_IO);
    CHECK_ERROR("file 'tdcsv_missing.csv': cannot open");
    CHECK(zeroed(&ds));
    CHECK(cg_load_csv(NULL, NULL, -1, &ds) == CG_ERR_ARG);
    write_text("tdcsv_a.csv", "1,0\n");
    CHECK(cg_load_csv("tdcsv_a.csv", NULL, -1, NULL) == CG_ERR_ARG);
    CHECK(cg_load_csv("tdcsv_a.csv", NULL, 2, &ds) == CG_ERR_ARG);
    CHECK_ERROR("has_header");

    remove("tdcsv_a.csv");
    remove("tdcsv_b.csv");
    remove("tdcsv_many.csv");
    CHECK_DONE();
}
