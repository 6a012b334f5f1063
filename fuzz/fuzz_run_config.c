/* SPDX-License-Identifier: MIT */
/* fuzz_run_config.c: libFuzzer target for a checkpoint's configuration
 * metadata: the run configuration (cg_run_config_from_json, which resume,
 * eval and tune read back) and the optimizer's settings
 * (cg_optimizer_from_json), both fed the same input. Promises: a failed
 * read leaves the configuration untouched; a read one writes JSON that
 * reads back to the same text, resolved or not; a resolved one makes its
 * optimizer and model. */
#include "fuzz_util.h"

/* c's JSON reads back into a configuration whose JSON is the same text. */
static char *round_trip(const cg_run_config *c)
{
    char *text = cg_run_config_to_json(c);
    FUZZ_ASSERT(text != NULL);
    cg_run_config back;
    cg_run_config_init(&back);
    FUZZ_ASSERT(cg_run_config_from_json(text, &back) == CG_OK);
    char *again = cg_run_config_to_json(&back);
    FUZZ_ASSERT(again != NULL && strcmp(text, again) == 0);
    cg_free_string(again);
    return text;
}

static void check_optimizer(cg_optimizer *o)
{
    char *text = cg_optimizer_to_json(o);
    FUZZ_ASSERT(text != NULL);
    cg_optimizer *back = cg_optimizer_from_json(text);
    FUZZ_ASSERT(back != NULL);
    char *again = cg_optimizer_to_json(back);
    FUZZ_ASSERT(again != NULL && strcmp(text, again) == 0);
    cg_free_string(text);
    cg_free_string(again);
    cg_optimizer_free(back);
}

static int fuzz_run_config_one(const uint8_t *data, size_t size)
{
    char *json = fuzz_cstr(data, size);
    cg_run_config c, before;
    cg_run_config_init(&c);
    memcpy(&before, &c, sizeof c);
    int rc = cg_run_config_from_json(json, &c);
    if (rc != CG_OK) {
        fuzz_check_error(rc);
        FUZZ_ASSERT(memcmp(&c, &before, sizeof c) == 0);
    } else {
        cg_free_string(round_trip(&c));
        cg_run_config r = c;
        rc = cg_run_config_resolve(&r);
        if (rc != CG_OK) {
            fuzz_check_error(rc);
        } else {
            /* Resolving is idempotent, and a resolved configuration
             * survives its JSON resolved. */
            char *text = round_trip(&r);
            cg_run_config r2 = r;
            FUZZ_ASSERT(cg_run_config_resolve(&r2) == CG_OK);
            char *text2 = cg_run_config_to_json(&r2);
            FUZZ_ASSERT(text2 != NULL && strcmp(text, text2) == 0);
            cg_free_string(text);
            cg_free_string(text2);
            cg_optimizer *o = cg_optimizer_from_config(&r.optim, &r.schedule, r.loop.epochs);
            FUZZ_ASSERT(o != NULL);
            check_optimizer(o);
            cg_optimizer_free(o);
            cg_model *m = cg_model_from_config(&r.model, 4, 3, r.loop.seed);
            FUZZ_ASSERT(m != NULL);
            cg_model_free(m);
        }
    }
    cg_optimizer *o = cg_optimizer_from_json(json);
    if (o) check_optimizer(o);
    else FUZZ_ASSERT(cg_last_error()[0] != '\0');
    cg_optimizer_free(o);
    free(json);
    return 0;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_run_config_one(data, size);
}
#endif
