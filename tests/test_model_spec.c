/* SPDX-License-Identifier: MIT */
/* test_model_spec.c: a model's spec (a checkpoint's "model" metadata)
 * reads back to the same spec, and a spec whose seed is not an unsigned
 * 64-bit integer is refused naming "seed" (a number beyond 2^64 was once
 * cast to an integer: undefined behaviour, found by fuzz_model_spec). */
#include "check.h"

#include <cgrad.h>

#include <stdlib.h>

static const char *with_seed(const char *seed)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"n_inputs\":4,\"n_classes\":3,\"seed\":%s,\"layers\":[{\"type\":\"dense\","
             "\"name\":\"dense1\",\"units\":3,\"bias\":true,\"output\":true}]}",
             seed);
    return buf;
}

int main(void)
{
    cg_model *m = cg_model_new(4, 3, 12345678901234567ull);
    CHECK(cg_model_add_dense(m, 8) == CG_OK);
    CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_TANH) == CG_OK);
    CHECK(cg_model_add_dropout(m, 0.25) == CG_OK);
    char *spec = cg_model_spec(m);
    CHECK(spec && strstr(spec, "\"seed\":\"12345678901234567\""));
    cg_model *back = spec ? cg_model_from_spec(spec) : NULL;
    CHECK(back != NULL);
    char *spec2 = back ? cg_model_spec(back) : NULL;
    CHECK(spec2 && strcmp(spec, spec2) == 0);
    cg_free_string(spec);
    cg_free_string(spec2);
    cg_model_free(back);
    cg_model_free(m);

    static const char *const good[] = {"7", "\"18446744073709551615\"", "0"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        cg_model *g = cg_model_from_spec(with_seed(good[i]));
        CHECK(g != NULL);
        cg_model_free(g);
    }
    static const char *const bad[] = {"1e30", "-1", "2.5", "18446744073709551616", "true",
                                      "\"x\"", "[1]", "\"-1\"", "\"18446744073709551616\"", "\" 1\"", "\"\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(cg_model_from_spec(with_seed(bad[i])) == NULL);
        CHECK_ERROR("\"seed\"");
    }
    CHECK_DONE();
}
