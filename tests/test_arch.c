// SPDX-License-Identifier: MIT
/* test_arch.c: architectures as layer lists. The --arch text parses and
 * formats back; bad layers are named; the model built from a list has the
 * layers, shapes and parameter counts it says (the summary shows them);
 * its spec rebuilds the same model and the run configuration's JSON keeps
 * the list; conv layers on flat inputs, both hidden and arch, and bn flags
 * with an arch are errors; a small CNN trains. */
#include "check.h"

#include <cgrad.h>
#include <stdlib.h>

static const char *const ARCH = "conv8x3,bn,maxpool2,conv16x3s2p1,avgpool2s1,dropout0.25,dense32";

static void test_parse(void)
{
    cg_layer_config l[CG_MAX_LAYERS];
    int n = 0;
    CHECK(cg_arch_parse("conv32x3,maxpool2,conv64x3,maxpool2,dense128", l, CG_MAX_LAYERS, &n) == CG_OK);
    CHECK(n == 5);
    CHECK(l[0].kind == CG_LAYER_CONV && l[0].size == 32 && l[0].kernel == 3 && l[0].stride == 1 &&
          l[0].padding == CG_PAD_SAME);
    CHECK(l[1].kind == CG_LAYER_MAX_POOL && l[1].kernel == 2 && l[1].stride == 2);
    CHECK(l[4].kind == CG_LAYER_DENSE && l[4].size == 128);
    CHECK(cg_arch_parse("conv64x3s2,conv64x5p0,conv8x3s2p1,avgpool2,maxpool3s2,gap,bn,dropout0.3,flatten", l,
                        CG_MAX_LAYERS, &n) == CG_OK);
    CHECK(n == 9);
    CHECK(l[0].stride == 2 && l[0].padding == CG_PAD_SAME);
    CHECK(l[1].kernel == 5 && l[1].padding == 0 && l[1].stride == 1);
    CHECK(l[2].stride == 2 && l[2].padding == 1);
    CHECK(l[3].kind == CG_LAYER_AVG_POOL && l[3].stride == 2);
    CHECK(l[4].kernel == 3 && l[4].stride == 2);
    CHECK(l[5].kind == CG_LAYER_GAP && l[6].kind == CG_LAYER_BN && l[8].kind == CG_LAYER_FLATTEN);
    CHECK(l[7].kind == CG_LAYER_DROPOUT && fabs(l[7].rate - 0.3) < 1e-12);
    char text[256];
    CHECK(cg_arch_format(l, n, text, sizeof text) == CG_OK);
    CHECK(!strcmp(text, "conv64x3s2,conv64x5p0,conv8x3s2p1,avgpool2,maxpool3s2,gap,bn,dropout0.3,flatten"));
    CHECK(cg_arch_format(l, n, text, 10) != CG_OK);

    /* each bad layer is named with its position */
    static const char *const bad[][2] = {
        {"conv32x3,maxpol2", "layer 2 'maxpol2'"}, {"conv32", "layer 1 'conv32'"},
        {"dense0", "layer 1 'dense0'"},            {"dense128,", "layer 2 '' is empty"},
        {"conv8x3s", "layer 1 'conv8x3s'"},        {"dropout1", "layer 1 'dropout1'"},
        {"conv8x3q", "layer 1 'conv8x3q'"},        {"gap2", "layer 1 'gap2'"},
        {"", "empty"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(cg_arch_parse(bad[i][0], l, CG_MAX_LAYERS, &n) == CG_ERR_ARG);
        CHECK(n == 0);
        CHECK_ERROR(bad[i][1]);
    }
    CHECK(cg_arch_parse("dense1,dense1,dense1", l, 2, &n) == CG_ERR_ARG);
    CHECK_ERROR("more than 2 layers");
}

static char *summary_of(cg_model *m)
{
    static char buf[8192];
    FILE *f = tmpfile();
    CHECK(f && cg_model_summary(m, f) == CG_OK);
    rewind(f);
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    return buf;
}

static void test_model(void)
{
    cg_model_config mc;
    cg_run_config rc;
    cg_run_config_init(&rc);
    mc = rc.model;
    CHECK(cg_arch_parse(ARCH, mc.layers, CG_MAX_LAYERS, &mc.n_layers) == CG_OK);
    mc.n_hidden = 0;
    mc.activation = CG_RELU;
    cg_model *m = cg_model_from_config_image(&mc, 1, 12, 12, 4, 7);
    CHECK(m != NULL);
    int shape[3];
    CHECK(cg_model_input_shape(m, shape) == 1 && shape[0] == 1 && shape[1] == 12 && shape[2] == 12);
    cg_graph *g = cg_model_graph(m);
    CHECK(g != NULL);
    /* conv1 before bn has no bias; conv2 has one */
    CHECK(cg_graph_find(g, "conv1.weight") && !cg_graph_find(g, "conv1.bias"));
    CHECK(cg_graph_find(g, "conv2.weight") && cg_graph_find(g, "conv2.bias"));
    /* 1x12x12 -conv8x3-> 8x12x12 -maxpool2-> 8x6x6 -conv16x3s2p1-> 16x3x3
     * -avgpool2s1-> 16x2x2 -flatten-> 64 -dense32-> 32 -> 4 */
    size_t want = 8 * 9 + 16 + (16 * 8 * 9 + 16) + (64 * 32 + 32) + (32 * 4 + 4);
    CHECK(cg_graph_param_count(g) == want);
    CHECK(cg_graph_state_count(g) == 16);
    CHECK(cg_node_dim(cg_model_logits(m), 1) == 4);
    const char *s = summary_of(m);
    CHECK(strstr(s, "conv1 (Conv2D 3x3/1 same)") && strstr(s, "(None, 8, 12, 12)"));
    CHECK(strstr(s, "bn1 (BatchNorm)"));
    CHECK(strstr(s, "(None, 16, 3, 3)") && strstr(s, "1168")); /* 16*8*9+16 */
    CHECK(strstr(s, "(None, 16, 2, 2)") && strstr(s, "flatten1 (Flatten)") && strstr(s, "(None, 64)"));
    CHECK(strstr(s, "Non-trainable params: 16"));

    /* the spec rebuilds the same model, shapes and weights included */
    char *spec = cg_model_spec(m);
    CHECK(spec && strstr(spec, "\"input_shape\":[1,12,12]") && strstr(spec, "\"type\":\"conv2d\"") &&
          strstr(spec, "\"padding\":\"same\"") && strstr(spec, "\"type\":\"avg_pool2d\""));
    cg_model *m2 = cg_model_from_spec(spec);
    CHECK(m2 != NULL);
    char *spec2 = m2 ? cg_model_spec(m2) : NULL;
    CHECK(spec2 && !strcmp(spec, spec2));
    cg_free_string(spec2);
    CHECK(cg_graph_param_count(cg_model_graph(m2)) == want);
    /* same seed, same initial weights: same predictions */
    float x[2 * 144];
    for (int i = 0; i < 2 * 144; i++) x[i] = (float)((i * 37) % 17) / 17.0f;
    cg_real p1[8], p2[8];
    CHECK(cg_predict(m, x, 2, p1, NULL) == CG_OK && cg_predict(m2, x, 2, p2, NULL) == CG_OK);
    for (int i = 0; i < 8; i++) CHECK_NEAR(p1[i], p2[i], 1e-6);
    cg_free_string(spec);
    cg_model_free(m2);
    cg_model_free(m);

    /* the list survives the run configuration's JSON */
    rc.model = mc;
    char *json = cg_run_config_to_json(&rc);
    CHECK(json && strstr(json, "\"arch\":[\"conv8x3\",\"bn\",\"maxpool2\",\"conv16x3s2p1\",\"avgpool2s1\","
                               "\"dropout0.25\",\"dense32\"]"));
    cg_run_config back;
    cg_run_config_init(&back);
    CHECK(cg_run_config_from_json(json, &back) == CG_OK);
    CHECK(back.model.n_layers == 7 && back.model.n_hidden == 0 && back.model.layers[3].padding == 1);
    cg_free_string(json);
    CHECK(cg_run_config_from_json("{\"model\":{\"arch\":[\"conv8x3\",\"pool\"]}}", &back) == CG_ERR_FORMAT);
    CHECK_ERROR("layer 2");

    /* errors */
    CHECK(cg_model_from_config(&mc, 144, 4, 7) == NULL);
    CHECK_ERROR("need images");
    cg_model_config both = mc;
    both.n_hidden = 1;
    both.hidden[0] = 8;
    CHECK(cg_model_from_config_image(&both, 1, 12, 12, 4, 7) == NULL);
    CHECK_ERROR("model.hidden");
    cg_model_config bnflag = mc;
    bnflag.batch_norm = 1;
    CHECK(cg_model_from_config_image(&bnflag, 1, 12, 12, 4, 7) == NULL);
    CHECK_ERROR("model.batch_norm");
    cg_model_config big = mc;
    CHECK(cg_arch_parse("conv8x5p0,conv8x5p0,conv8x5p0", big.layers, CG_MAX_LAYERS, &big.n_layers) == 0);
    CHECK(cg_model_from_config_image(&big, 1, 12, 12, 4, 7) == NULL);
    CHECK_ERROR("layer 3 'conv8x5p0'");
    cg_model *flat = cg_model_new(144, 3, 1);
    CHECK(cg_model_add_conv2d(flat, 4, 3, 1, CG_PAD_SAME) == CG_ERR_SHAPE);
    CHECK(cg_model_set_input_shape(flat, 2, 8, 8) == CG_ERR_ARG);
    CHECK(cg_model_set_input_shape(flat, 1, 12, 12) == CG_OK);
    CHECK(cg_model_add_global_avg_pool2d(flat) == CG_OK);
    CHECK(cg_model_add_max_pool2d(flat, 2, 2) == CG_ERR_SHAPE);
    cg_model_free(flat);
}

/* A small CNN learns blobs laid out as 2x4x4 images. */
static void test_train(void)
{
    cg_dataset ds;
    CHECK(cg_make_blobs(300, 3, 32, 1.0, 3, &ds) == CG_OK);
    cg_run_config rc;
    cg_run_config_init(&rc);
    cg_model_config mc = rc.model;
    CHECK(cg_arch_parse("conv8x3,bn,maxpool2,dense16", mc.layers, CG_MAX_LAYERS, &mc.n_layers) == CG_OK);
    mc.n_hidden = 0;
    cg_model *m = cg_model_from_config_image(&mc, 2, 4, 4, 3, 11);
    CHECK(m != NULL);
    cg_optimizer *o = cg_adam_default(0.01);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 30;
    fo.batch_size = 32;
    CHECK(cg_fit(m, o, &ds, NULL, NULL, &fo, NULL) == CG_OK);
    double acc = 0;
    CHECK(cg_evaluate(m, &ds, NULL, 0, NULL, &acc) == CG_OK);
    CHECK(acc > 0.9);
    cg_optimizer_free(o);
    cg_model_free(m);
    cg_dataset_free(&ds);
}

int main(void)
{
    test_parse();
    test_model();
    test_train();
    return check_failures ? 1 : 0;
}
