/* SPDX-License-Identifier: MIT */
/* fuzz_npy.c: libFuzzer target for the .npy reader, through cg_load_npy
 * (label last, or column 0) and cg_load_inputs (2 features: [n, 2] or
 * [n, 3] with the last column dropped). */
#include "fuzz_util.h"

static int fuzz_npy_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path("in.npy");
    fuzz_write(path, data, size);

    cg_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_npy(path, NULL, &ds), &ds, 1);
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_npy(path, "0", &ds), &ds, 1);
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_inputs(path, 2, NULL, &ds), &ds, 0);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_npy_one(data, size);
}
#endif
