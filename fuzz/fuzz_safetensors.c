/* SPDX-License-Identifier: MIT */
/* fuzz_safetensors.c: libFuzzer target for the safetensors parser
 * (st_parse works on memory, so no scratch file). A file that parses must
 * keep its promises: every tensor found by name, its bytes inside the data
 * section, its values readable. */
#include "fuzz_util.h"

#include "io/safetensors.h"

static int fuzz_safetensors_one(const uint8_t *data, size_t size)
{
    st_file f;
    int rc = st_parse(data, size, "fuzz", &f);
    if (rc != CG_OK) {
        FUZZ_ASSERT(rc < 0 && cg_last_error()[0] != '\0');
        st_free(&f);
        return 0;
    }
    for (int i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        FUZZ_ASSERT(st_find(&f, t->name) == t);
        FUZZ_ASSERT(t->begin <= t->end && t->end <= f.data_len);
        FUZZ_ASSERT(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS);
        /* The data section is inside the input, so count is bounded by it. */
        cg_real *v = malloc((t->count ? t->count : 1) * sizeof *v);
        FUZZ_ASSERT(v != NULL);
        FUZZ_ASSERT(st_read(&f, t, v, t->count) == CG_OK);
        if (t->count > 0) FUZZ_ASSERT(st_read(&f, t, v, t->count - 1) == CG_ERR_SHAPE);
        free(v);
    }
    for (int i = 0; i < f.n_meta; i++)
        FUZZ_ASSERT(st_meta(&f, f.meta_keys[i]) != NULL);
    st_free(&f);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_safetensors_one(data, size);
}
#endif
