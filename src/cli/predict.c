/* SPDX-License-Identifier: MIT */
/* predict.c: `cgrad predict`: a checkpoint's class (and probabilities) for
 * every example of an unlabelled input file. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"

typedef struct predict_args {
    char model[CG_PATH_LEN], input[CG_PATH_LEN], label[CG_NAME_LEN * 4];
    char delimiter[8], missing[8], unknown[8];
    int batch, threads, precision, probs;
} predict_args;

#define ARG(f) offsetof(predict_args, f)

static const cli_flag flags[] = {
    {.name = "--model", .value = "CKPT", .set = cli_set_string, .offset = ARG(model),
     .hi = CG_PATH_LEN, .example = "run/last.safetensors",
     .help = "checkpoint written by `cgrad train --out` (required)"},
    {.name = "--input", .value = "FILE", .set = cli_set_string, .offset = ARG(input),
     .hi = CG_PATH_LEN, .example = "x.csv",
     .help = "an IDX images file (.gz or plain), a .npy or .csv file with one\n"
             "example per row, or - for CSV on stdin (required). A row may carry\n"
             "one extra column (a label), which is dropped"},
    {.name = "--label", .value = "COL", .set = cli_set_string, .offset = ARG(label),
     .hi = CG_NAME_LEN * 4, .example = "label",
     .help = "that extra column of .csv / .npy, a name or index (default: the last)"},
    {.name = "--delimiter", .value = "D", .set = cli_set_string, .offset = ARG(delimiter), .hi = 8,
     .example = ";", .help = "CSV cell delimiter: ',', ';', tab or space (default: detected)"},
    {.name = "--missing", .value = "HOW", .set = cli_set_string, .offset = ARG(missing), .hi = 8,
     .example = "error",
     .help = "CSV missing cells (empty, NA, N/A, NaN, ?): impute (default: the values\n"
             "the model stored from its training data; a warning counts them) or error"},
    {.name = "--unknown-category", .value = "HOW", .set = cli_set_string, .offset = ARG(unknown),
     .hi = 8, .example = "zero",
     .help = "a text value the training data did not have: error (default) or zero\n"
             "(none of its one-hot features set)"},
    {.name = "--probs", .offset = ARG(probs),
     .help = "also print every class's (multilabel: label's) probability (tab-separated)"},
    {.name = "--batch", .value = "N", .set = cli_set_int, .offset = ARG(batch), .lo = 1,
     .hi = 1 << 20, .example = "256", .help = "examples per forward pass (default 1000)"},
    {.name = "--precision", .value = "P", .set = cli_set_precision, .offset = ARG(precision),
     .example = "fp32",
     .help = "fp32 (default), bf16 (matrix products in bf16, fp32 accumulation) or auto"},
    {.name = "--threads", .value = "N", .set = cli_set_int, .offset = ARG(threads), .hi = 4096,
     .example = "2", .help = "threads (default 0: up to all cores, fewer while the machine is busy);\n"
             "results are the same for any count"},
};

const cli_command_flags cli_predict_flags = {
    .command = "predict",
    .usage = "cgrad predict --model CKPT --input FILE [flags]",
    .summary = "Print one line per example: the predicted class (its name when the model\n"
               "knows class names) and its probability, tab-separated; a regression model's\n"
               "values (one per target, in its units), a multilabel model's 0/1 per label. The input\n"
               "normalisation saved with the model is applied. A class name is printed with\n"
               "C-style escapes, so that each example stays one line of tab-separated fields:\n"
               "\\\\, \\\", \\t, \\n, \\r, and \\xHH for other control characters.",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};

static int parse(int argc, char **argv, predict_args *a)
{
    memset(a, 0, sizeof *a);
    a->batch = 1000;
    unsigned char given[sizeof flags / sizeof *flags];
    int rc = cli_parse_flags(&cli_predict_flags, argc, argv, a, given, NULL);
    if (rc) return rc;
    if (!a->model[0]) return cli_usage("predict", "--model CKPT is required");
    if (!a->input[0]) return cli_usage("predict", "--input FILE is required (- for CSV on stdin)");
    if (a->delimiter[0] && cg_delimiter_from_name(a->delimiter) <= 0)
        return cli_usage("predict", "--delimiter: '%s' is not one of ',', ';', tab, space", a->delimiter);
    if (a->missing[0] && strcmp(a->missing, "impute") && strcmp(a->missing, "error"))
        return cli_usage("predict", "--missing: '%s' is not impute or error", a->missing);
    if (a->unknown[0] && strcmp(a->unknown, "error") && strcmp(a->unknown, "zero"))
        return cli_usage("predict", "--unknown-category: '%s' is not error or zero", a->unknown);
    return 0;
}

/* A class name as one tab-separated field: backslash, double quote and
 * control characters (a tab or newline would split the line) as C-style
 * escapes; other bytes (UTF-8 included) as they are. */
static void print_name(const char *name)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        switch (*c) {
        case '\\': fputs("\\\\", stdout); break;
        case '"': fputs("\\\"", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        default:
            if (*c < 0x20 || *c == 0x7f) printf("\\x%02x", *c);
            else putchar(*c);
        }
    }
}

static int print_rows(cg_model *m, const cg_real *probs, const int *cls, int k, int all)
{
    int c = cg_model_n_classes(m), task = cg_model_task(m, NULL);
    for (int i = 0; i < k; i++) {
        const cg_real *p = probs + (size_t)i * c;
        if (task) { /* regression: a value per target; multi-label: 0/1 per label (and probabilities) */
            for (int j = 0; j < c; j++)
                if (task == CG_TASK_REGRESSION) printf("%s%.7g", j ? "\t" : "", (double)p[j]);
                else printf("%s%d", j ? "\t" : "", p[j] > 0.5);
            for (int j = 0; all && task == CG_TASK_MULTILABEL && j < c; j++) printf("\t%.6f", (double)p[j]);
            if (putchar('\n') == EOF) return -1;
            continue;
        }
        const char *name = cg_model_class_name(m, cls[i]);
        if (name) print_name(name);
        else printf("%d", cls[i]);
        printf("\t%.6f", (double)p[cls[i]]);
        for (int j = 0; all && j < c; j++) printf("\t%.6g", (double)p[j]);
        if (putchar('\n') == EOF) return -1;
    }
    return 0;
}

int cli_predict(int argc, char **argv)
{
    predict_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc == 1 ? CLI_OK : rc;
    cg_set_threads(a.threads);
    cg_normalizer nz;
    cg_model *m = cg_checkpoint_load(a.model, NULL, &nz, NULL);
    if (!m) return cli_usage("predict", "--model: %s", cg_last_error());
    if (cli_model_precision("predict", m, a.precision)) {
        cg_model_free(m);
        return CLI_USAGE;
    }

    cg_dataset ds = {0};
    int status = CLI_FAIL, d = cg_model_n_inputs(m), c = cg_model_n_classes(m);
    cg_real *x = NULL, *y = NULL, *probs = NULL;
    int *idx = NULL, *cls = NULL;
    /* A CSV model knows its label column: --label may only name it. */
    const char *lname;
    int lcol = cg_table_label_column(nz.table, &lname);
    char lidx[16];
    snprintf(lidx, sizeof lidx, "%d", lcol);
    if (a.label[0] && cg_table_n_targets(nz.table)) {
        status = cli_usage("predict", "--label: the model's target columns (first: %s) are known to it and "
                           "dropped from the input when present", cg_table_target_name(nz.table, 0));
        goto done;
    }
    if (a.label[0] && nz.table && (lcol < 0 || (strcmp(a.label, lname) && strcmp(a.label, lidx)))) {
        status = cli_usage("predict", "--label: '%s' is not the label column the model was trained with (%s)",
                           a.label, lcol < 0 ? "none" : lname);
        goto done;
    }
    cg_csv_options co;
    cg_csv_options_init(&co);
    co.label = a.label[0] ? a.label : NULL;
    co.table = nz.table; /* a CSV model reads its inputs' columns as it was trained */
    co.delimiter = a.delimiter[0] ? (char)cg_delimiter_from_name(a.delimiter) : 0;
    co.missing = a.missing[0] && !strcmp(a.missing, "error") ? CG_MISSING_ERROR : CG_MISSING_IMPUTE;
    co.unknown_category = a.unknown[0] && !strcmp(a.unknown, "zero") ? CG_UNKNOWN_ZERO : CG_UNKNOWN_ERROR;
    if (cg_load_inputs_opts(a.input, d, &co, &ds)) {
        status = cli_usage("predict", "--input: %s", cg_last_error());
        goto done;
    }
    char *missing = cg_table_missing_summary(ds.table);
    if (missing)
        fprintf(stderr, "cgrad predict: warning: %s: missing cells imputed with the model's stored values, per "
                        "column: %s\n", a.input, missing);
    cg_free_string(missing);
    int batch = a.batch < ds.n ? a.batch : ds.n;
    if (batch < 1) batch = 1;
    x = malloc((size_t)batch * (size_t)d * sizeof *x);
    y = malloc((size_t)batch * sizeof *y);
    probs = malloc((size_t)batch * (size_t)c * sizeof *probs);
    idx = malloc((size_t)batch * sizeof *idx);
    cls = malloc((size_t)batch * sizeof *cls);
    if (!x || !y || !probs || !idx || !cls) {
        cli_fail("predict: out of memory");
        goto done;
    }
    for (int start = 0; start < ds.n; start += batch) {
        int k = ds.n - start < batch ? ds.n - start : batch;
        for (int i = 0; i < k; i++) idx[i] = start + i;
        cg_dataset_gather(&ds, &nz, idx, k, x, y);
        if (cg_predict(m, x, k, probs, cls)) {
            cli_fail("predict: %s", cg_last_error());
            goto done;
        }
        if (print_rows(m, probs, cls, k, a.probs)) {
            cli_fail("predict: writing the output failed");
            goto done;
        }
    }
    status = fflush(stdout) == 0 ? CLI_OK : cli_fail("predict: writing the output failed");
done:
    free(x);
    free(y);
    free(probs);
    free(idx);
    free(cls);
    cg_dataset_free(&ds);
    cg_normalizer_free(&nz);
    cg_model_free(m);
    return status;
}
