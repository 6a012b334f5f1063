/* SPDX-License-Identifier: MIT */
/* fuzz_csv.c: libFuzzer target for the CSV reader, through cg_load_csv
 * (header detected; the label by name, else last) and cg_load_inputs
 * (features only, 2 or 3 columns). */
#include "fuzz_util.h"

static int fuzz_csv_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.csv");
    fuzz_write(path, data, size);

    cg_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_csv(path, NULL, -1, &ds), &ds, 1);
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_csv(path, "label", -1, &ds), &ds, 1);
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
