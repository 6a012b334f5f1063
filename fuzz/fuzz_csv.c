/* SPDX-License-Identifier: MIT */
/* fuzz_csv.c: libFuzzer target for the CSV reader, through cg_load_csv
 * (header detected; the label by name, else last), the table it learns
 * applied to the same file, and cg_load_inputs (features only, 2 or 3
 * columns). */
#include "fuzz_util.h"

static int fuzz_csv_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.csv");
    fuzz_write(path, data, size);

    cg_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_csv(path, NULL, -1, &ds), &ds, 1);
    memset(&ds, 0x5a, sizeof ds);
    int rc = cg_load_csv(path, "label", -1, &ds);
    if (rc == CG_OK) {
        /* The learned encoding: applied to the same file as inputs, and
         * its JSON read back. */
        cg_csv_options o;
        cg_csv_options_init(&o);
        o.table = ds.table;
        o.unknown_category = CG_UNKNOWN_ZERO;
        cg_dataset in;
        memset(&in, 0x5a, sizeof in);
        fuzz_check(cg_load_inputs_opts(path, ds.d, &o, &in), &in, 0);
        char *json = cg_table_to_json(ds.table);
        FUZZ_ASSERT(json != NULL);
        cg_table *back = cg_table_from_json(json);
        FUZZ_ASSERT(back != NULL && cg_table_n_features(back) == ds.d);
        cg_table_free(back);
        free(json); /* cg_free_string lives in src/nn, outside the fuzz build; it is free() */
        fuzz_check(CG_OK, &ds, 1);
    } else {
        fuzz_check(rc, &ds, 1);
    }
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_inputs(path, 2, "0", &ds), &ds, 0);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_csv_one(data, size);
}
#endif
