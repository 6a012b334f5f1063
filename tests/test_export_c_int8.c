/* SPDX-License-Identifier: MIT */
/* test_export_c_int8.c: cg_export_c_int8 through the C API: missing or
 * ill-fitting calibration examples and a layer whose int32 sum could
 * overflow come back as CG_ERR_ARG with a message and write nothing; a
 * model with batch norm gives code with int8 weights, the calibration
 * described, <stdint.h> and no float weight array. (tests/test_export.sh
 * compiles such code and checks its classes on Fashion-MNIST.) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgrad.h"
#include "check.h"

/* Whether the file holds the bytes of s. */
static int file_has(const char *path, const char *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, s) != NULL;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int main(void)
{
    const char *dir = "test_export_c_int8.out";
    remove("test_export_c_int8.out/model.c");
    remove("test_export_c_int8.out/model.h");
    remove(dir);
    cg_model *m = cg_model_new(3, 2, 5);
    CHECK(m && cg_model_add_dense(m, 4) == CG_OK);
    CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    CHECK(cg_model_build(m) == CG_OK);

    cg_dataset cal, narrow;
    CHECK(cg_make_blobs(20, 2, 3, 0.5, 1, &cal) == CG_OK);
    CHECK(cg_make_blobs(5, 2, 2, 0.5, 1, &narrow) == CG_OK);
    CHECK(cg_export_c_int8(m, NULL, dir, NULL, NULL, NULL, 0) == CG_ERR_ARG);
    CHECK_ERROR("calibration");
    CHECK(cg_export_c_int8(m, NULL, dir, NULL, NULL, &narrow, 0) == CG_ERR_ARG);
    CHECK_ERROR("2 features");
    CHECK(cg_export_c_int8(m, NULL, dir, NULL, NULL, &cal, -1) == CG_ERR_ARG);
    CHECK_ERROR("-1");
    CHECK(!exists(dir));

    CHECK(cg_export_c_int8(m, NULL, dir, NULL, "a.safetensors", &cal, 25) == CG_OK);
    CHECK(file_has("test_export_c_int8.out/model.c", "static const signed char w1[12]"));
    CHECK(file_has("test_export_c_int8.out/model.c", "25 calibration examples")); /* of 40 */
    CHECK(file_has("test_export_c_int8.out/model.c", "#include <stdint.h>"));
    CHECK(file_has("test_export_c_int8.out/model.c", "dense_int8(q, 3, w1, s1, b1, 4, b)"));
    CHECK(!file_has("test_export_c_int8.out/model.c", "static const float w"));
    CHECK(file_has("test_export_c_int8.out/model.h", "int8 weights and integer sums"));
    remove("test_export_c_int8.out/model.c");
    remove("test_export_c_int8.out/model.h");
    remove(dir);
    cg_dataset_free(&cal);
    cg_dataset_free(&narrow);
    cg_model_free(m);

    /* 70,000 inputs to one output: 70,000 * 255 * 127 would overflow int32. */
    enum { WIDE = 70000 };
    m = cg_model_new(WIDE, 2, 5);
    CHECK(m && cg_model_build(m) == CG_OK);
    cg_dataset wide = {.n = 1, .d = WIDE, .n_classes = 2};
    wide.x_f32 = calloc(WIDE, sizeof *wide.x_f32);
    CHECK(wide.x_f32 != NULL);
    CHECK(cg_export_c_int8(m, NULL, dir, NULL, NULL, &wide, 0) == CG_ERR_ARG);
    CHECK_ERROR("66000");
    CHECK(!exists(dir));
    free(wide.x_f32);
    cg_model_free(m);
    CHECK_DONE();
}
