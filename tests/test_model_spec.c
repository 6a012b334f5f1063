/* SPDX-License-Identifier: MIT */
/* test_model_spec.c: a model's spec (a checkpoint's "model" metadata)
 * reads back to the same spec, and a spec whose seed is not an unsigned
 * 64-bit integer is refused naming "seed" (a number beyond 2^64 was once
 * cast to an integer: undefined behaviour, found by fuzz_model_spec). A
 * regression model's task, loss and target scale read back too, and its
 * "probs" node gives values in the targets' units. */
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

    /* Regression: two targets of mean 100 and 5, std 10 and 0.5. With
     * zero weights the output is the mean, whatever the input. */
    const double mean[2] = {100, 5}, sd[2] = {10, 0.5};
    cg_model *r = cg_model_new(3, 2, 1);
    CHECK(cg_model_set_task(r, CG_TASK_REGRESSION, CG_LOSS_CROSS_ENTROPY, 2, mean, sd) != CG_OK);
    CHECK_ERROR("does not fit");
    CHECK(cg_model_set_task(r, CG_TASK_REGRESSION, CG_LOSS_HUBER, 2, mean, (double[]){1, 0}) != CG_OK);
    CHECK(cg_model_set_task(r, CG_TASK_REGRESSION, CG_LOSS_HUBER, 2, mean, sd) == CG_OK);
    spec = cg_model_spec(r);
    CHECK(spec && strstr(spec, "\"kind\":\"regression\"") && strstr(spec, "\"loss\":\"huber\""));
    back = spec ? cg_model_from_spec(spec) : NULL;
    CHECK(back != NULL);
    spec2 = back ? cg_model_spec(back) : NULL;
    CHECK(spec2 && strcmp(spec, spec2) == 0);
    int loss = 0;
    double mu = 0, s1 = 0;
    CHECK(cg_model_task(back, &loss) == CG_TASK_REGRESSION && loss == CG_LOSS_HUBER);
    cg_model_target_scale(back, 1, &mu, &s1);
    CHECK(mu == 5 && s1 == 0.5);
    cg_graph *g = back ? cg_model_graph(back) : NULL;
    CHECK(g != NULL);
    if (g) {
        size_t n = cg_graph_param_count(g);
        cg_real *w = cg_graph_params(g);
        for (size_t i = 0; w && i < n; i++) w[i] = 0;
        cg_real x[3] = {1, 2, 3}, out[2];
        CHECK(cg_predict(back, x, 1, out, NULL) == CG_OK);
        CHECK(out[0] == 100 && out[1] == 5);
    }
    cg_free_string(spec);
    cg_free_string(spec2);
    cg_model_free(back);
    cg_model_free(r);
    CHECK_DONE();
}
