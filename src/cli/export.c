/* SPDX-License-Identifier: MIT */
/* export.c: `cgrad export`: flags -> cg_checkpoint_load (the reader eval,
 * predict and train --resume use) -> cg_export_c and/or cg_export_onnx ->
 * one line each. Each output format is one flag and one library call. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"

typedef struct export_args {
    char model[CG_PATH_LEN], c_dir[CG_PATH_LEN], prefix[64];
    char onnx[CG_PATH_LEN], data[CG_PATH_LEN];
    int int8, calibrate, opset;
} export_args;

#define ARG(f) offsetof(export_args, f)

/* A C identifier of at most 48 characters (cg_export_c's rule, checked
 * here to name the flag). */
static int set_prefix(void *target, const cli_flag *f, const char *s)
{
    size_t n = strlen(s);
    int ok = n >= 1 && n <= 48 && !(s[0] >= '0' && s[0] <= '9');
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (!ok) return cli_bad_value("'%s' is not a C identifier of at most 48 characters", s);
    memcpy((char *)target + f->offset, s, n + 1);
    return 0;
}

static const cli_flag flags[] = {
    {.name = "--model", .value = "CKPT", .set = cli_set_string, .offset = ARG(model),
     .hi = CG_PATH_LEN, .example = "run/last.safetensors",
     .help = "checkpoint written by `cgrad train --out` (required)"},
    {.name = "--c", .value = "DIR", .set = cli_set_string, .offset = ARG(c_dir), .hi = CG_PATH_LEN,
     .example = "deploy",
     .help = "write standalone C99 code, DIR/NAME.h and DIR/NAME.c (DIR is created\n"
             "if missing)"},
    {.name = "--prefix", .value = "NAME", .set = set_prefix, .offset = ARG(prefix), .hi = 64,
     .example = "net",
     .help = "C identifier naming the files (NAME.h, NAME.c) and the symbols:\n"
             "NAME_predict, NAME_class_names, NAME_N_INPUTS, NAME_N_CLASSES\n"
             "upper-cased (default model)"},
    {.name = "--onnx", .value = "FILE", .set = cli_set_string, .offset = ARG(onnx),
     .hi = CG_PATH_LEN, .example = "model.onnx",
     .help = "write an ONNX model (with or instead of --c) taking the same raw\n"
             "features, the normalisation inside the graph, output \"probabilities\",\n"
             "a symbolic batch dimension, class names in its metadata"},
    {.name = "--opset", .value = "N", .set = cli_set_int, .offset = ARG(opset), .lo = 13,
     .hi = 17, .example = "17", .help = "with --onnx: the ONNX opset, 13 to 17 (default 13)"},
    {.name = "--int8", .offset = ARG(int8),
     .help = "int8 weights (per output column or filter) and activations, their\n"
             "ranges calibrated on examples of --data: QDQ format with --onnx,\n"
             "integer arithmetic in the C of --c"},
    {.name = "--data", .value = "SPEC", .set = cli_set_string, .offset = ARG(data),
     .hi = CG_PATH_LEN, .example = "fashion-mnist",
     .help = "with --int8: the training data, as for `cgrad train --data`"},
    {.name = "--calibrate", .value = "N", .set = cli_set_int, .offset = ARG(calibrate), .lo = 1,
     .hi = 1 << 20, .example = "500",
     .help = "with --int8: how many examples of --data calibrate the activation\n"
             "ranges, spread evenly over the set (default 1000)"},
};

const cli_command_flags cli_export_flags = {
    .command = "export",
    .usage = "cgrad export --model CKPT (--c DIR | --onnx FILE) [flags]",
    .summary = "Write a trained classifier as standalone C99 inference code, which needs\n"
               "only <math.h>, and/or as an ONNX model (docs/deploy.md). NAME_predict(x, probs) takes the raw features as the\n"
               "training data held them (pixel bytes as 0..255, or CSV values), applies\n"
               "the training normalisation, fills the class probabilities and returns the\n"
               "most probable class. Batch norm is folded into the dense layer before it;\n"
               "dropout is left out (it is the identity at inference).",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};


/* A library export call's status: the checkpoint's values at fault (2),
 * or the output that could not be written (1). */
static int export_status(int rc, const char *model)
{
    if (rc == CG_OK) return CLI_OK;
    if (rc == CG_ERR_IO || rc == CG_ERR_MEMORY) return cli_fail("export: %s", cg_last_error());
    return cli_usage("export", "--model: %s: %s", model, cg_last_error());
}

int cli_export(int argc, char **argv)
{
    export_args a;
    memset(&a, 0, sizeof a);
    snprintf(a.prefix, sizeof a.prefix, "model");
    unsigned char given[sizeof flags / sizeof *flags];
    int rc = cli_parse_flags(&cli_export_flags, argc, argv, &a, given, NULL);
    if (rc) return rc == 1 ? CLI_OK : rc;
    if (!a.model[0]) return cli_usage("export", "--model CKPT is required");
    if (!a.c_dir[0] && !a.onnx[0]) return cli_usage("export", "--c DIR or --onnx FILE is required");
    if (!a.onnx[0] && a.opset) return cli_usage("export", "--opset is used only with --onnx FILE");
    if (!a.int8 && (a.data[0] || a.calibrate))
        return cli_usage("export", "%s is used only with --int8", a.data[0] ? "--data" : "--calibrate");
    if (a.int8 && !a.data[0])
        return cli_usage("export", "--int8 needs --data SPEC (the examples that calibrate it)");

    cg_normalizer nz;
    cg_model *m = cg_checkpoint_load(a.model, NULL, &nz, NULL);
    if (!m) return cli_usage("export", "--model: %s", cg_last_error());
    int status = CLI_OK;
    cg_dataset ds;
    memset(&ds, 0, sizeof ds);
    cg_csv_options co; /* a CSV model's calibration rows are encoded as it was trained */
    cg_csv_options_init(&co);
    co.table = nz.table;
    if (a.int8 && cg_load_dataset_opts(a.data, 1, &co, &ds) != CG_OK)
        status = cli_usage("export", "--data: %s", cg_last_error());
    if (status == CLI_OK && a.c_dir[0]) {
        status = export_status(a.int8 ? cg_export_c_int8(m, &nz, a.c_dir, a.prefix, a.model, &ds, a.calibrate)
                                      : cg_export_c(m, &nz, a.c_dir, a.prefix, a.model), a.model);
        if (status == CLI_OK)
            printf("wrote %s/%s.h and %s/%s.c: %d inputs, %d %s%s\n", a.c_dir, a.prefix,
                   a.c_dir, a.prefix, cg_model_n_inputs(m), cg_model_n_classes(m),
                   cg_model_task(m, NULL) ? "outputs" : "classes", a.int8 ? ", int8" : "");
    }
    if (status == CLI_OK && a.onnx[0]) {
        cg_onnx_options opt = {.opset = a.opset, .int8 = a.int8, .calibrate = a.calibrate,
                               .calibration = a.int8 ? &ds : NULL};
        status = export_status(cg_export_onnx(m, &nz, a.onnx, &opt), a.model);
        if (status == CLI_OK)
            printf("wrote %s: %d inputs, %d %s%s\n", a.onnx, cg_model_n_inputs(m),
                   cg_model_n_classes(m), cg_model_task(m, NULL) ? "outputs" : "classes",
                   a.int8 ? ", int8" : "");
    }
    cg_dataset_free(&ds);
    if (status == CLI_OK && fflush(stdout) != 0) status = cli_fail("export: writing the output failed");
    cg_normalizer_free(&nz);
    cg_model_free(m);
    return status;
}
