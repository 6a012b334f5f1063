/* SPDX-License-Identifier: MIT */
/* fuzz_model_spec.c: libFuzzer target for a checkpoint's "model" metadata,
 * the architecture as JSON, through cg_model_from_spec (the first thing a
 * checkpoint reader builds from a file). A spec that reads must give a
 * model whose own spec reads back to the same text; a small one must build
 * or fail with a message. */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

/* The parameter count of a spec cg_model_spec wrote (dense layers only:
 * the rest is smaller), to keep builds of absurd sizes out of the run. */
static double spec_params(const char *spec)
{
    cJSON *o = cJSON_Parse(spec);
    const cJSON *n_in = cJSON_GetObjectItemCaseSensitive(o, "n_inputs");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(o, "layers"), *l;
    double prev = cJSON_IsNumber(n_in) ? n_in->valuedouble : 0, total = 0;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(l, "units");
        if (!cJSON_IsNumber(u)) continue;
        total += (prev + 1) * u->valuedouble;
        prev = u->valuedouble;
    }
    cJSON_Delete(o);
    return total;
}

static int fuzz_model_spec_one(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size);
    cg_model *m = cg_model_from_spec(json);
    free(json);
    if (!m) {
        FUZZ_ASSERT(cg_last_error()[0] != '\0');
        return 0;
    }
    FUZZ_ASSERT(cg_model_n_inputs(m) >= 1 && cg_model_n_classes(m) >= 2);
    char *spec = cg_model_spec(m);
    FUZZ_ASSERT(spec != NULL);
    cg_model *again = cg_model_from_spec(spec);
    FUZZ_ASSERT(again != NULL);
    char *spec2 = cg_model_spec(again);
    FUZZ_ASSERT(spec2 != NULL && strcmp(spec, spec2) == 0);
    if (spec_params(spec) < 1e5) {
        int rc = cg_model_build(m);
        if (rc != CG_OK) fuzz_check_error(rc);
        else FUZZ_ASSERT(cg_model_logits(m) != NULL && cg_model_loss(m) != NULL);
    }
    cg_free_string(spec);
    cg_free_string(spec2);
    cg_model_free(again);
    cg_model_free(m);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_model_spec_one(data, size);
}
#endif
