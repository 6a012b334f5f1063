/* SPDX-License-Identifier: MIT */
/* fuzz_idx.c: libFuzzer target for the IDX loader (cg_load_idx) and the
 * unlabelled loader on an images file (cg_load_inputs).
 *
 * Input layout: a 4-byte big-endian length L, then L bytes of images file,
 * then the labels file (the rest). L past the end takes everything. */
#include "fuzz_util.h"

static int fuzz_idx_one(const uint8_t *data, size_t size)
{
    size_t split = 0;
    if (size >= 4) {
        split = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
        data += 4;
        size -= 4;
    }
    if (split > size) split = size;
    const char *images = fuzz_path("images"), *labels = fuzz_path("labels");
    fuzz_write(images, data, split);
    fuzz_write(labels, data + split, size - split);

    cg_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_idx(images, labels, &ds), &ds, 1);
    /* The seeds are 2 x 2 images; 4 features makes them load. */
    memset(&ds, 0x5a, sizeof ds);
    fuzz_check(cg_load_inputs(images, 4, NULL, &ds), &ds, 0);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_idx_one(data, size);
}
#endif
