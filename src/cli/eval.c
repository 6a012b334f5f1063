/* SPDX-License-Identifier: MIT */
/* eval.c: `cgrad eval`: a checkpoint's loss, accuracy, per-class precision
 * and recall, and confusion matrix on a labelled data set. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"

typedef struct eval_args {
    char model[CG_PATH_LEN], data[CG_PATH_LEN], label[CG_NAME_LEN * 4], split[16];
    int batch, threads, precision, json;
} eval_args;

#define ARG(f) offsetof(eval_args, f)

static const cli_flag flags[] = {
    {.name = "--model", .value = "CKPT", .set = cli_set_string, .offset = ARG(model),
     .hi = CG_PATH_LEN, .example = "run/best.safetensors",
     .help = "checkpoint written by cgrad train (required)"},
    {.name = "--data", .value = "SPEC", .set = cli_set_string, .offset = ARG(data),
     .hi = CG_PATH_LEN, .example = "test.csv",
     .help = "fashion-mnist, an IDX directory, an IDX images file (labels beside it),\n"
             "or a .csv / .npy file (default: what the run recorded, see --split)"},
    {.name = "--split", .value = "S", .set = cli_set_string, .offset = ARG(split), .hi = 16,
     .example = "validation",
     .help = "which rows: test (default: the run's test set; a run without one is\n"
             "scored on its validation rows, re-split with its seed), validation, or\n"
             "train (the training rows)"},
    {.name = "--label", .value = "COL", .set = cli_set_string, .offset = ARG(label),
     .hi = CG_NAME_LEN * 4, .example = "3",
     .help = "label column of a .csv / .npy file (default: as in training)"},
    {.name = "--batch", .value = "N", .set = cli_set_int, .offset = ARG(batch), .lo = 1,
     .hi = 1 << 20, .example = "500", .help = "examples per forward pass (default 1000)"},
    {.name = "--precision", .value = "P", .set = cli_set_precision, .offset = ARG(precision),
     .example = "fp32",
     .help = "fp32 (default), bf16 (matrix products in bf16, fp32 accumulation) or auto"},
    {.name = "--threads", .value = "N", .set = cli_set_int, .offset = ARG(threads), .lo = 0,
     .hi = 4096, .example = "1", .help = "threads (default 0: up to all cores, fewer while the machine is busy);\n"
             "results are the same for any count"},
    {.name = "--json", .offset = ARG(json),
     .help = "one JSON object on stdout instead of tables (with \"split\": what was scored)"},
};

const cli_command_flags cli_eval_flags = {
    .command = "eval",
    .usage = "cgrad eval --model CKPT [flags]",
    .summary = "Evaluate a checkpoint on labelled rows: loss, accuracy, per-class\n"
               "precision/recall/F1 and the confusion matrix; for a regression model rmse,\n"
               "mae and r2 per target (in its units) and the residuals' quartiles; for a\n"
               "multilabel model accuracy and F1 per label. The input normalisation saved\n"
               "with the model is applied.",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
};


static int parse(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->split, sizeof a->split, "test");
    a->batch = 1000;
    unsigned char given[16];
    int rc = cli_parse_flags(&cli_eval_flags, argc, argv, a, given, NULL);
    if (rc) return rc;
    if (!a->model[0]) return cli_usage("eval", "--model CKPT is required");
    if (strcmp(a->split, "test") && strcmp(a->split, "train") && strcmp(a->split, "validation"))
        return cli_usage("eval", "--split: '%s' is not test, validation or train", a->split);
    return 0;
}


/* The rows to score. With --data: that set (IDX: its test or train files).
 * Without: what the run recorded: its test set; for a run without one, the
 * validation rows it held out (the same split, re-made with its seed and
 * fraction), never its training rows unless --split train asks. */
static int select_rows(const eval_args *a, const cg_checkpoint_info *info, const cg_normalizer *nz,
                       cg_dataset *ds, cg_dataset *rest, char *spec, size_t spec_size,
                       const char **split)
{
    cg_run_config c;
    int have_config = info->config && cg_run_config_from_json(info->config, &c) == CG_OK;
    const char *label = a->label[0] ? a->label : have_config && c.data.label[0] ? c.data.label : NULL;
    /* A CSV model's files are read as its training file was: its columns,
     * categories and class names, its run's missing-cell rule. */
    cg_csv_options co;
    if (have_config) cg_data_config_csv(&c.data, &co);
    else cg_csv_options_init(&co);
    co.label = label;
    co.table = nz->table;
    const char *want = a->split;
    if (a->data[0]) {
        snprintf(spec, spec_size, "%s", a->data);
        if (!strcmp(want, "validation"))
            return cli_usage("eval", "--split validation: the validation rows are the run's own; "
                             "leave out --data to score them");
        if (cg_load_dataset_opts(spec, !strcmp(want, "train"), &co, ds))
            return cli_usage("eval", "--data: %s", cg_last_error());
        *split = ds->rows && !strcmp(want, "train") ? "train" : "test";
        return 0;
    }
    if (!have_config)
        return cli_usage("eval", "--model: %s records no run configuration (a format-1 checkpoint); "
                         "give --data to say what to score", a->model);
    const char *source = c.data.source;
    int is_csv_like = strstr(source, ".csv") || strstr(source, ".npy");
    if (!strcmp(want, "test") && (c.data.test[0] || !is_csv_like)) {
        snprintf(spec, spec_size, "%s", c.data.test[0] ? c.data.test : source);
        if (cg_load_dataset_opts(spec, c.data.test[0] ? 1 : 0, &co, ds))
            return cli_usage("eval", "test set %s: %s", spec, cg_last_error());
        *split = "test";
        return 0;
    }
    /* The run's own rows: split as it was, then keep the part asked for. */
    snprintf(spec, spec_size, "%s", source);
    if (cg_load_dataset_opts(source, 1, &co, rest))
        return cli_usage("eval", "training data %s: %s", source, cg_last_error());
    if (!strcmp(want, "train")) {
        if (c.loop.val_split > 0 && cg_dataset_split_inplace(rest, c.loop.val_split, c.loop.seed, ds))
            return cli_fail("eval: %s", cg_last_error());
        cg_dataset tmp = *ds;
        *ds = *rest;
        *rest = tmp;
        *split = "train";
        return 0;
    }
    if (!(c.loop.val_split > 0))
        return cli_usage("eval", "the run trained on all of %s, with no test set and no validation "
                         "split: there are no held-out rows to score; give --data FILE", source);
    if (cg_dataset_split_inplace(rest, c.loop.val_split, c.loop.seed, ds))
        return cli_fail("eval: %s", cg_last_error());
    *split = "validation";
    return 0;
}

int cli_eval(int argc, char **argv)
{
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc == 1 ? CLI_OK : rc;
    cg_set_threads(a.threads);
    cg_normalizer nz;
    cg_checkpoint_info info;
    cg_model *m = cg_checkpoint_load(a.model, NULL, &nz, &info);
    if (!m) return cli_usage("eval", "--model: %s", cg_last_error());
    if (cli_model_precision("eval", m, a.precision)) {
        cg_model_free(m);
        return CLI_USAGE;
    }

    cg_dataset ds = {0}, rest = {0};
    long *conf = NULL;
    int status = CLI_FAIL;
    char spec[CG_PATH_LEN] = "";
    const char *split = a.split;
    if ((status = select_rows(&a, &info, &nz, &ds, &rest, spec, sizeof spec, &split))) goto done;
    char *missing = cg_table_missing_summary(ds.table ? ds.table : rest.table);
    if (missing)
        fprintf(stderr, "cgrad eval: warning: %s: missing cells imputed with the model's stored values, per "
                        "column: %s\n", spec, missing);
    cg_free_string(missing);
    status = CLI_FAIL;
    if (ds.d != cg_model_n_inputs(m)) {
        status = cli_usage("eval", "%s has %d features, the model takes %d", spec, ds.d,
                           cg_model_n_inputs(m));
        goto done;
    }
    int c = cg_model_n_classes(m);
    if (cg_model_task(m, NULL)) {
        cg_task_metrics tm;
        if (cg_evaluate_task(m, &ds, &nz, &tm)) goto fail;
        if (!a.json)
            printf("model: %s (%d inputs, %s of %d outputs, trained %d epochs)\ndata: %s (%s rows): %d examples\n",
                   a.model, cg_model_n_inputs(m), cg_task_name(tm.task), c, info.epoch, spec, split, ds.n);
        if (cg_report_task(m, &tm, split, a.json, stdout)) goto fail;
        status = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
        goto done;
    }
    for (int i = 0; i < ds.n; i++)
        if (ds.y[i] >= c) {
            status = cli_usage("eval", "%s: label %d at row %d, but the model has %d classes", spec,
                               ds.y[i], i, c);
            goto done;
        }
    double loss, acc;
    conf = calloc((size_t)c * (size_t)c, sizeof *conf);
    if (!conf || cg_evaluate_confusion(m, &ds, &nz, a.batch, &loss, &acc, conf)) goto fail;
    if (!a.json)
        printf("model: %s (%d inputs, %d classes, trained %d epochs)\ndata: %s (%s rows): %d "
               "examples\n", a.model, cg_model_n_inputs(m), c, info.epoch, spec, split, ds.n);
    if (cg_report_confusion(m, conf, loss, acc, ds.n, split, a.json, stdout)) goto fail;
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    goto done;
fail:
    cli_fail("eval: %s", *cg_last_error() ? cg_last_error() : "out of memory");
done:
    free(conf);
    cg_dataset_free(&ds);
    cg_dataset_free(&rest);
    cg_checkpoint_info_free(&info);
    cg_normalizer_free(&nz);
    cg_model_free(m);
    return status;
}
