/* SPDX-License-Identifier: MIT */
/* test_onnx_api.c: cg_export_onnx through the C API: argument and model
 * errors come back as codes with messages and leave no file; a model with
 * batch norm, dropout and class names gives a file that holds the parts
 * the exporter promises. (tests/test_onnx.sh checks the models' numbers in
 * ONNX Runtime and the format with onnx.checker.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "check.h"

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Whether the file holds the bytes of s. */
static int file_has(const char *path, const char *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f), k = strlen(s);
    fclose(f);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, s, k) == 0) return 1;
    return 0;
}

static cg_model *small_model(void)
{
    cg_model *m = cg_model_new(3, 2, 5);
    CHECK(m && cg_model_add_dense(m, 4) == CG_OK);
    CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    CHECK(cg_model_add_dropout(m, 0.5) == CG_OK);
    CHECK(cg_model_build(m) == CG_OK);
    return m;
}

int main(void)
{
    const char *path = "test_onnx_api.onnx";
    remove(path);
    cg_model *m = small_model();
    float mean[3] = {1, 2, 3}, inv[3] = {0.5f, 0.25f, 2};
    cg_normalizer nz = {.d = 3, .scale = 1.0f / 255.0f, .mean = mean, .inv_std = inv};

    int rc = cg_export_onnx(m, &nz, path, NULL);
    if (rc == CG_ERR_STATE && strstr(cg_last_error(), "without ONNX")) {
        printf("SKIP: %s\n", cg_last_error());
        cg_model_free(m);
        return 0;
    }
    CHECK(rc == CG_OK);
    CHECK(file_size(path) > 100);
    /* Field 1 (ir_version, varint) first: tag 0x08, then 7 for opset 13. */
    FILE *f = fopen(path, "rb");
    unsigned char head[2] = {0, 0};
    CHECK(f && fread(head, 1, 2, f) == 2 && head[0] == 0x08 && head[1] == 7);
    if (f) fclose(f);
    CHECK(file_has(path, "probabilities") && file_has(path, "Softmax"));
    CHECK(file_has(path, "dense1+bn1") && file_has(path, "Gemm") && file_has(path, "Relu"));
    CHECK(!file_has(path, "Dropout") && !file_has(path, "BatchNormalization"));
    CHECK(file_has(path, "input.mean") && file_has(path, "input.inv_std"));
    CHECK(file_has(path, "batch") && file_has(path, CG_VERSION));
    CHECK(!file_has(path, "class_names"));

    /* Names, another opset and input name. */
    const char *names[2] = {"cat", "dog \"x\""};
    CHECK(cg_model_set_class_names(m, names, 2) == CG_OK);
    cg_onnx_options opt = {.opset = 17, .input_name = "pixels"};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_OK);
    CHECK(file_has(path, "class_names") && file_has(path, "[\"cat\",\"dog \\\"x\\\"\"]"));
    CHECK(file_has(path, "pixels") && !file_has(path, "input.mean"));
    f = fopen(path, "rb");
    CHECK(f && fread(head, 1, 2, f) == 2 && head[0] == 0x08 && head[1] == 8);
    if (f) fclose(f);

    /* Errors: a code, a message, and the earlier file untouched. */
    long before = file_size(path);
    CHECK(cg_export_onnx(NULL, NULL, path, NULL) == CG_ERR_ARG);
    CHECK(cg_export_onnx(m, NULL, NULL, NULL) == CG_ERR_ARG);
    opt = (cg_onnx_options){.opset = 12};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    CHECK_ERROR("opset 12");
    opt = (cg_onnx_options){.opset = 18};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    opt = (cg_onnx_options){.input_name = ""};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    CHECK_ERROR("input name");
    opt = (cg_onnx_options){.input_name = "probabilities"};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    cg_normalizer wrong = {.d = 5, .scale = 1.0f, .mean = mean};
    CHECK(cg_export_onnx(m, &wrong, path, NULL) == CG_ERR_SHAPE);
    CHECK_ERROR("5 features");
    CHECK(cg_export_onnx(m, NULL, "no/such/dir/m.onnx", NULL) == CG_ERR_IO);
    CHECK_ERROR("no/such/dir/m.onnx");
    cg_real *w = cg_node_value(cg_graph_find(cg_model_graph(m), "dense1.weight"));
    CHECK(w != NULL);
    if (w) {
        cg_real keep = w[1];
        w[1] = (cg_real)NAN;
        CHECK(cg_export_onnx(m, NULL, path, NULL) == CG_ERR_NUMERIC);
        CHECK_ERROR("dense1.weight");
        w[1] = keep;
    }
    CHECK(file_size(path) == before);

    /* int8: calibration examples are required and must fit the model. */
    cg_dataset cal;
    CHECK(cg_make_blobs(20, 2, 3, 0.5, 1, &cal) == CG_OK);
    opt = (cg_onnx_options){.int8 = 1};
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    CHECK_ERROR("calibration");
    opt.calibration = &cal;
    opt.calibrate = -1;
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_ARG);
    cg_dataset narrow;
    CHECK(cg_make_blobs(5, 2, 2, 0.5, 1, &narrow) == CG_OK);
    opt.calibration = &narrow;
    opt.calibrate = 0;
    CHECK(cg_export_onnx(m, NULL, path, &opt) == CG_ERR_SHAPE);
    CHECK_ERROR("2 features");
    CHECK(file_size(path) == before);
    opt.calibration = &cal;
    opt.calibrate = 25; /* of 40 */
    CHECK(cg_export_onnx(m, &nz, path, &opt) == CG_OK);
    CHECK(file_has(path, "QuantizeLinear") && file_has(path, "DequantizeLinear"));
    CHECK(file_has(path, "dense1+bn1.weight_q") && file_has(path, "dense1+bn1.x_scale"));
    CHECK(file_has(path, "int8_calibration_examples") && file_has(path, "25"));
    CHECK(file_size(path) > 0 && file_size(path) != before);
    cg_dataset_free(&cal);
    cg_dataset_free(&narrow);

    cg_model_free(m);
    remove(path);
    CHECK_DONE();
}
