/* SPDX-License-Identifier: MIT */
/* test_model_bn.c: batch norm and dropout as model layers: the dense layer
 * before a batch norm has no bias, running statistics are state outside
 * the optimizer's buffer, inference is the same (to float rounding) for an
 * example alone or in a batch of 1000, and dropout only acts in training. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

static cg_model *make(int bn, double dropout)
{
    cg_model *m = cg_model_new(20, 3, 5);
    CHECK(cg_model_add_dense(m, 32) == CG_OK);
    if (bn) CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    if (dropout > 0) CHECK(cg_model_add_dropout(m, dropout) == CG_OK);
    return m;
}

int main(void)
{
    cg_dataset ds;
    CHECK(cg_make_blobs(400, 3, 20, 1.0, 9, &ds) == CG_OK);

    /* structure */
    cg_model *m = make(1, 0.3);
    cg_graph *g = cg_model_graph(m);
    CHECK(g != NULL);
    CHECK(cg_graph_find(g, "dense1.weight") != NULL);
    CHECK(cg_graph_find(g, "dense1.bias") == NULL);
    CHECK(cg_graph_find(g, "bn1.gamma") != NULL && cg_node_is_variable(cg_graph_find(g, "bn1.gamma")));
    cg_node *rm = cg_graph_find(g, "bn1.running_mean"), *rv = cg_graph_find(g, "bn1.running_var");
    CHECK(rm && rv && !cg_node_is_variable(rm) && !cg_node_is_variable(rv));
    /* params: W 20x32, gamma 32, beta 32, output 32x3 + 3 */
    CHECK(cg_graph_param_count(g) == 20 * 32 + 64 + 32 * 3 + 3);
    CHECK(cg_graph_state_count(g) == 64);
    FILE *f = tmpfile();
    CHECK(cg_model_summary(m, f) == CG_OK);
    char buf[4096] = {0};
    rewind(f);
    CHECK(fread(buf, 1, sizeof buf - 1, f) > 0);
    fclose(f);
    CHECK(strstr(buf, "BatchNorm") && strstr(buf, "Dropout"));
    CHECK(strstr(buf, "Non-trainable params: 64"));

    /* training moves the running statistics; it converges */
    cg_optimizer *opt = cg_adam_default(0.01);
    cg_fit_options o;
    cg_fit_options_init(&o);
    o.epochs = 5;
    CHECK(cg_fit(m, opt, &ds, NULL, NULL, &o, NULL) == CG_OK);
    CHECK(cg_node_value(rv)[0] != 1 && cg_node_value(rm)[0] != 0);
    double acc = 0;
    CHECK(cg_evaluate(m, &ds, NULL, 0, NULL, &acc) == CG_OK);
    CHECK(acc >= 0.95);

    /* inference: alone == inside a batch of 1000 up to float rounding
     * (BLAS orders its sums by the shape), repeatable bit for bit, and
     * deterministic despite dropout */
    enum { N = 1000 };
    cg_real *x = malloc(sizeof(cg_real) * N * 20), *p_all = malloc(sizeof(cg_real) * N * 3);
    cg_real p_one[3], p_again[3];
    int ids[N];
    for (int i = 0; i < N; i++) ids[i] = i;
    cg_dataset_gather(&ds, NULL, ids, N, x, NULL);
    CHECK(cg_predict(m, x, N, p_all, NULL) == CG_OK);
    int same = 1;
    for (int i = 0; i < N; i += 37) {
        CHECK(cg_predict(m, x + 20 * i, 1, p_one, NULL) == CG_OK);
        CHECK(cg_predict(m, x + 20 * i, 1, p_again, NULL) == CG_OK);
        for (int c = 0; c < 3; c++)
            same &= fabs((double)p_one[c] - (double)p_all[3 * i + c]) <= 1e-6 && p_one[c] == p_again[c];
    }
    CHECK(same);
    free(x);
    free(p_all);

    /* errors */
    CHECK(cg_model_add_dropout(m, 0.5) != CG_OK); /* already built */
    CHECK_ERROR("already built");
    cg_model *bad = cg_model_new(4, 2, 1);
    CHECK(cg_model_add_dropout(bad, 1.0) != CG_OK);
    CHECK_ERROR("rate");
    CHECK(cg_model_add_batch_norm(bad, 2.0, 1e-5) != CG_OK);
    CHECK_ERROR("momentum");
    CHECK(cg_model_add_batch_norm(bad, 0.1, 0) != CG_OK);
    CHECK_ERROR("eps");
    cg_model_free(bad);

    cg_optimizer_free(opt);
    cg_model_free(m);
    cg_dataset_free(&ds);
    CHECK_DONE();
}
