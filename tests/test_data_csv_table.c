/* SPDX-License-Identifier: MIT */
/* test_data_csv_table.c: CSV files as people write them (tests/data/csv_*):
 * delimiters, quoting, class names, text columns, missing cells, a table
 * applied to a test file, the table's JSON, and the bad files. */
#include "cgrad.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DATA(name) CG_TEST_DATA "/" name

static int load(const char *path, const cg_csv_options *o, cg_dataset *ds)
{
    int rc = cg_load_csv_opts(path, o, ds);
    if (rc) fprintf(stderr, "%s: unexpected error: %s\n", path, cg_last_error());
    return rc == CG_OK;
}

static float at(const cg_dataset *ds, int i, int j) { return ds->x_f32[(size_t)i * ds->d + j]; }

int main(void)
{
    cg_csv_options o;
    cg_dataset ds, test;

    /* Semicolons, a BOM, CRLF, a quoted number; text labels sorted. */
    cg_csv_options_init(&o);
    if (load(DATA("csv_semicolon.csv"), &o, &ds)) {
        CHECK(ds.n == 3 && ds.d == 2 && ds.n_classes == 2);
        CHECK(at(&ds, 1, 0) == 3.5f && at(&ds, 2, 1) == 2.5f);
        CHECK(!strcmp(cg_table_class_name(ds.table, 0), "large"));
        CHECK(!strcmp(cg_table_class_name(ds.table, 1), "small"));
        CHECK(ds.y[0] == 1 && ds.y[1] == 0 && ds.y[2] == 1);
        cg_dataset_free(&ds);
    }
    /* Tabs; whitespace runs (leading and trailing too); no header. */
    if (load(DATA("csv_tab.csv"), &o, &ds)) {
        CHECK(ds.n == 2 && ds.d == 2 && at(&ds, 1, 1) == 4 && ds.y[1] == 1);
        CHECK(cg_table_n_classes(ds.table) == 0); /* integer labels are indices */
        cg_dataset_free(&ds);
    }
    if (load(DATA("csv_space.csv"), &o, &ds)) {
        CHECK(ds.n == 3 && ds.d == 2 && at(&ds, 2, 0) == 5 && at(&ds, 2, 1) == 6 && ds.y[2] == 1);
        cg_dataset_free(&ds);
    }
    /* pandas' to_csv: an unnamed index column (empty header cell). */
    if (load(DATA("csv_pandas_index.csv"), &o, &ds)) {
        CHECK(ds.n == 3 && ds.d == 3 && ds.n_classes == 2 && at(&ds, 2, 0) == 2 && at(&ds, 2, 1) == 3.5f);
        char *json = cg_table_to_json(ds.table);
        CHECK(json && strstr(json, "\"name\":\"column 1\"") && strstr(json, "\"name\":\"a\""));
        cg_free_string(json);
        cg_dataset_free(&ds);
    }
    /* The delimiter given: a comma file read with ';' has one column. */
    o.delimiter = ';';
    CHECK(cg_load_csv_opts(DATA("csv_names_train.csv"), &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("need at least one feature column");
    o.delimiter = 0;
    /* Quoted cells: delimiters, doubled quotes and a line break inside;
     * the text column is one-hot over its sorted categories. */
    if (load(DATA("csv_quoted.csv"), &o, &ds)) {
        CHECK(ds.n == 3 && ds.d == 3 && ds.n_classes == 2);
        /* categories: "plain" < "said \"hi\"\non two lines" */
        CHECK(at(&ds, 0, 0) == 0 && at(&ds, 0, 1) == 1 && at(&ds, 0, 2) == 1);
        CHECK(at(&ds, 1, 0) == 1 && at(&ds, 1, 1) == 0 && at(&ds, 1, 2) == 2);
        CHECK(at(&ds, 2, 1) == 1 && ds.y[0] == 1 && ds.y[1] == 0);
        char *json = cg_table_to_json(ds.table);
        CHECK(json && strstr(json, "\"name\":\"note, with comma\"") &&
              strstr(json, "said \\\"hi\\\"\\non two lines") && strstr(json, "\"classes\":[\"no\",\"yes\"]"));
        cg_table *back = json ? cg_table_from_json(json) : NULL;
        char *again = back ? cg_table_to_json(back) : NULL;
        CHECK(again && !strcmp(json, again));
        cg_free_string(json);
        cg_free_string(again);
        cg_table_free(back);
        cg_dataset_free(&ds);
    }

    /* Missing cells: NaN in the matrix, counted per column; the normaliser
     * fills them with the mean (numbers) and the most frequent category. */
    if (load(DATA("csv_missing.csv"), &o, &ds)) {
        CHECK(ds.n == 4 && ds.d == 4); /* age, color (blue, red), score */
        CHECK(isnan(at(&ds, 1, 0)) && isnan(at(&ds, 3, 0)) && isnan(at(&ds, 2, 1)) && isnan(at(&ds, 2, 2)));
        CHECK(at(&ds, 1, 1) == 1 && at(&ds, 1, 2) == 0 && at(&ds, 0, 2) == 1);
        char *summary = cg_table_missing_summary(ds.table);
        CHECK(summary && !strcmp(summary, "'age' 2 (mean), 'color' 1 (most frequent value), 'score' 2 (mean)"));
        cg_free_string(summary);
        cg_normalizer nz;
        if (cg_normalizer_fit(&nz, &ds, 0) == CG_OK) {
            CHECK(nz.fill && nz.fill[0] == 40 && nz.fill[1] == 0 && nz.fill[2] == 1 && nz.fill[3] == 2);
            cg_real x[4 * 4];
            int idx[4] = {0, 1, 2, 3};
            cg_dataset_gather(&ds, &nz, idx, 4, x, NULL);
            CHECK(x[4 + 0] == 40 && x[4 + 3] == 2 && x[8 + 1] == 0 && x[8 + 2] == 1 && x[12 + 0] == 40 && x[12 + 3] == 2);
            cg_normalizer_free(&nz);
        }
        cg_dataset_free(&ds);
    }
    o.missing = CG_MISSING_ERROR;
    CHECK(cg_load_csv_opts(DATA("csv_missing.csv"), &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("csv_missing.csv:3:1: missing value ''");
    o.missing = CG_MISSING_IMPUTE;

    /* Class names; a test file encoded by the training table; a class the
     * training data did not have is an error naming it. */
    if (load(DATA("csv_names_train.csv"), &o, &ds)) {
        CHECK(ds.n_classes == 3 && !strcmp(cg_table_class_name(ds.table, 2), "virginica"));
        CHECK(ds.y[0] == 0 && ds.y[1] == 1 && ds.y[2] == 2);
        o.table = ds.table;
        CHECK(cg_load_csv_opts(DATA("csv_names_test.csv"), &o, &test) == CG_ERR_FORMAT);
        CHECK_ERROR("csv_names_test.csv:3:3: class 'unicorn' was not in the training data (its 3 classes: "
                    "'setosa', 'versicolor', 'virginica')");
        /* Inputs without the label column. */
        CHECK(cg_load_inputs_opts(DATA("csv_names_test.csv"), 2, &o, &test) == CG_OK);
        CHECK(test.n == 2 && test.d == 2 && !test.y && test.x_f32[2] == 6.1f);
        cg_dataset_free(&test);
        o.table = NULL;
        cg_dataset_free(&ds);
    }
    /* Text features: an unseen category at predict time is an error, or
     * an all-zero one-hot when asked. */
    if (load(DATA("csv_text.csv"), &o, &ds)) {
        CHECK(ds.n == 4 && ds.d == 4 && ds.n_classes == 2); /* size, blue, green, red */
        CHECK(at(&ds, 0, 3) == 1 && at(&ds, 1, 2) == 1 && at(&ds, 3, 1) == 1);
        o.table = ds.table;
        CHECK(cg_load_inputs_opts(DATA("csv_text_unseen.csv"), 4, &o, &test) == CG_ERR_FORMAT);
        CHECK_ERROR("csv_text_unseen.csv:2:2: 'purple' is not a category of text column 'color'");
        o.unknown_category = CG_UNKNOWN_ZERO;
        if (cg_load_inputs_opts(DATA("csv_text_unseen.csv"), 4, &o, &test) == CG_OK) {
            CHECK(test.n == 2 && at(&test, 0, 0) == 5 && at(&test, 0, 1) == 0 && at(&test, 0, 2) == 0 &&
                  at(&test, 0, 3) == 0 && at(&test, 1, 3) == 1);
            cg_dataset_free(&test);
        }
        CHECK(cg_load_inputs_opts(DATA("csv_text_unseen.csv"), 3, &o, &test) == CG_ERR_SHAPE);
        o.unknown_category = CG_UNKNOWN_ERROR;
        o.table = NULL;
        cg_dataset_free(&ds);
    }

    /* A checkpoint keeps the table (classes, categories) and the fill
     * values; a table that does not make the model's inputs is refused. */
    if (load(DATA("csv_missing.csv"), &o, &ds)) {
        cg_normalizer nz, back;
        cg_model *m = cg_model_new(ds.d, ds.n_classes, 1);
        CHECK(m && cg_normalizer_fit(&nz, &ds, 1) == CG_OK);
        CHECK(cg_checkpoint_save("tdct.safetensors", m, NULL, &nz, NULL) == CG_OK);
        cg_model *m2 = cg_checkpoint_load("tdct.safetensors", NULL, &back, NULL);
        CHECK(m2 && back.fill && back.table && back.mean);
        if (m2 && back.fill && back.table) {
            for (int j = 0; j < ds.d; j++) CHECK(back.fill[j] == nz.fill[j]);
            char *a = cg_table_to_json(nz.table), *b = cg_table_to_json(back.table);
            CHECK(a && b && !strcmp(a, b) && strstr(a, "\"categories\":[\"blue\",\"red\"]"));
            cg_free_string(a);
            cg_free_string(b);
        }
        cg_normalizer_free(&back);
        cg_model_free(m2);
        /* The same file with a model of another width: the table no longer fits. */
        cg_model *m3 = cg_model_new(ds.d + 1, ds.n_classes, 1);
        cg_normalizer wide = nz;
        wide.d = ds.d + 1;
        wide.mean = wide.inv_std = wide.fill = NULL;
        CHECK(m3 && cg_checkpoint_save("tdct.safetensors", m3, NULL, &wide, NULL) == CG_OK);
        CHECK(cg_checkpoint_load("tdct.safetensors", NULL, &back, NULL) == NULL);
        CHECK_ERROR("metadata \"table\" makes 4 features, the model takes 5");
        cg_model_free(m3);
        cg_model_free(m);
        cg_normalizer_free(&nz);
        cg_dataset_free(&ds);
        remove("tdct.safetensors");
    }

    /* Bad files: the error names file, line and column. */
    CHECK(cg_load_csv_opts(DATA("csv_ragged.csv"), &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("csv_ragged.csv:3: row has 2 columns, expected 3");
    CHECK(cg_load_csv_opts(DATA("csv_all_missing.csv"), &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("column 'b' (2) has no values: all 3 cells are missing");
    CHECK(cg_load_csv_opts(DATA("csv_huge_label.csv"), &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("csv_huge_label.csv:3:3: label '16777216' is not a valid class");
    CHECK(ds.n == 0 && !ds.x_f32 && !ds.table);
    /* Generated: a text column with a stray number; an identifier column
     * (1001 distinct values); 65537 class names. */
    FILE *f = fopen("tdct.csv", "w");
    fputs("c,x,y\nred,1,0\nblue,2,1\n3,3,0\ngreen,4,1\n", f);
    fclose(f);
    CHECK(cg_load_csv_opts("tdct.csv", &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("tdct.csv:4:1: '3' is a number in text column 'c' (3 text cells, 1 numbers");
    f = fopen("tdct.csv", "w");
    fputs("id,x,y\n", f);
    for (int i = 0; i < 1001; i++) fprintf(f, "u%d,%d,%d\n", i, i, i % 2);
    fclose(f);
    CHECK(cg_load_csv_opts("tdct.csv", &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("tdct.csv:1002:1: text column 'id' has more than 1000 distinct values");
    f = fopen("tdct.csv", "w");
    fputs("x,y\n", f);
    for (int i = 0; i < 65537; i++) fprintf(f, "%d,c%d\n", i, i);
    fclose(f);
    CHECK(cg_load_csv_opts("tdct.csv", &o, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("label column 'y' has more than 65536 distinct values");
    CHECK(ds.n == 0 && !ds.x_f32 && !ds.table);
    remove("tdct.csv");
    CHECK_DONE();
}
