/* SPDX-License-Identifier: MIT */
/* eval.c: `cgrad eval`: a checkpoint's loss, accuracy, per-class precision
 * and recall, and confusion matrix on a labelled data set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"

void cli_eval_help(FILE *f)
{
    fprintf(f,
            "usage: cgrad eval --model CKPT [flags]\n"
            "\n"
            "Evaluate a checkpoint on a labelled data set: loss, accuracy, per-class\n"
            "precision/recall/F1 and the confusion matrix. The input normalisation saved\n"
            "with the model is applied.\n"
            "\n"
            "  --model CKPT     checkpoint written by cgrad train (DIR/best.safetensors)\n"
            "  --data SPEC      fashion-mnist, an IDX directory, or a .csv / .npy file\n"
            "                   (default: the test set the model was trained with)\n"
            "  --split S        test (default) or train, for IDX data\n"
            "  --label COL      label column of .csv / .npy (default: as in training)\n"
            "  --batch N        examples per forward pass (default 1000)\n"
            "  --threads N      BLAS/OpenMP threads (default 0 = all cores)\n"
            "  --json           one JSON object on stdout instead of tables\n"
            "  --help           this text\n");
}

typedef struct eval_args {
    const char *model, *data, *label, *split;
    int batch, threads, json;
} eval_args;

static int parse(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    a->split = "test";
    a->batch = 1000;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) return 1;
        if (strcmp(f, "--json") == 0) { a->json = 1; continue; }
        const char **str = strcmp(f, "--model") == 0 ? &a->model
                           : strcmp(f, "--data") == 0 ? &a->data
                           : strcmp(f, "--label") == 0 ? &a->label
                           : strcmp(f, "--split") == 0 ? &a->split : NULL;
        int is_int = strcmp(f, "--batch") == 0 || strcmp(f, "--threads") == 0;
        if (!str && !is_int) return cli_usage("eval", "unknown flag '%s'", f);
        if (i + 1 >= argc) return cli_usage("eval", "%s needs a value", f);
        const char *v = argv[++i];
        if (str) *str = v;
        else if (strcmp(f, "--batch") == 0 && cli_parse_int(f, v, 1, 1 << 20, &a->batch)) return CLI_USAGE;
        else if (strcmp(f, "--threads") == 0 && cli_parse_int(f, v, 0, 4096, &a->threads)) return CLI_USAGE;
    }
    if (!a->model) return cli_usage("eval", "--model CKPT is required");
    if (strcmp(a->split, "test") != 0 && strcmp(a->split, "train") != 0)
        return cli_usage("eval", "--split: '%s' is not test or train", a->split);
    return 0;
}

typedef struct class_stats {
    double precision, recall, f1;
    long support, predicted;
} class_stats;

static void stats_from_confusion(const long *conf, int c, class_stats *st)
{
    for (int k = 0; k < c; k++) {
        long tp = conf[(size_t)k * c + k], support = 0, predicted = 0;
        for (int j = 0; j < c; j++) {
            support += conf[(size_t)k * c + j];
            predicted += conf[(size_t)j * c + k];
        }
        st[k].support = support;
        st[k].predicted = predicted;
        st[k].precision = predicted ? (double)tp / predicted : 0;
        st[k].recall = support ? (double)tp / support : 0;
        double pr = st[k].precision + st[k].recall;
        st[k].f1 = pr > 0 ? 2 * st[k].precision * st[k].recall / pr : 0;
    }
}

static const char *class_label(cg_model *m, int k, char *buf, size_t size)
{
    const char *name = cg_model_class_name(m, k);
    if (name) return name;
    snprintf(buf, size, "%d", k);
    return buf;
}

static void print_tables(cg_model *m, const long *conf, const class_stats *st, int c, double loss,
                         double acc, int n)
{
    char buf[32];
    printf("loss: %.4f - accuracy: %.4f (%d examples)\n\n", loss, acc, n);
    printf("%-14s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
    double mp = 0, mr = 0, mf = 0;
    for (int k = 0; k < c; k++) {
        printf("%-14.14s %9.4f %9.4f %9.4f %9ld\n", class_label(m, k, buf, sizeof buf),
               st[k].precision, st[k].recall, st[k].f1, st[k].support);
        mp += st[k].precision / c;
        mr += st[k].recall / c;
        mf += st[k].f1 / c;
    }
    printf("%-14s %9.4f %9.4f %9.4f %9d\n\n", "macro avg", mp, mr, mf, n);
    printf("confusion matrix (rows: true class, columns: predicted class)\n%-14s", "");
    for (int j = 0; j < c; j++) printf(" %6d", j);
    printf("\n");
    for (int k = 0; k < c; k++) {
        char label[40];
        snprintf(label, sizeof label, "%d %s", k, cg_model_class_name(m, k) ? cg_model_class_name(m, k) : "");
        printf("%-14.14s", label);
        for (int j = 0; j < c; j++) printf(" %6ld", conf[(size_t)k * c + j]);
        printf("\n");
    }
}

static int print_json(cg_model *m, const long *conf, const class_stats *st, int c, double loss,
                      double acc, int n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    cJSON_AddNumberToObject(o, "loss", loss);
    cJSON_AddNumberToObject(o, "accuracy", acc);
    cJSON_AddNumberToObject(o, "examples", n);
    cJSON *classes = cJSON_AddArrayToObject(o, "classes");
    cJSON *matrix = cJSON_AddArrayToObject(o, "confusion");
    char buf[32];
    for (int k = 0; classes && matrix && k < c; k++) {
        cJSON *e = cJSON_CreateObject();
        cJSON *row = cJSON_CreateArray();
        if (!e || !row) {
            cJSON_Delete(e);
            cJSON_Delete(row);
            break;
        }
        cJSON_AddStringToObject(e, "name", class_label(m, k, buf, sizeof buf));
        cJSON_AddNumberToObject(e, "precision", st[k].precision);
        cJSON_AddNumberToObject(e, "recall", st[k].recall);
        cJSON_AddNumberToObject(e, "f1", st[k].f1);
        cJSON_AddNumberToObject(e, "support", (double)st[k].support);
        cJSON_AddItemToArray(classes, e);
        for (int j = 0; j < c; j++) cJSON_AddItemToArray(row, cJSON_CreateNumber((double)conf[(size_t)k * c + j]));
        cJSON_AddItemToArray(matrix, row);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return -1;
    printf("%s\n", s);
    free(s);
    return 0;
}

int cli_eval(int argc, char **argv)
{
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc == 1) {
        cli_eval_help(stdout);
        return CLI_OK;
    }
    if (rc) return rc;
    cg_set_threads(a.threads);
    cg_normalizer nz;
    cg_checkpoint_info info;
    cg_model *m = cg_checkpoint_load(a.model, NULL, &nz, &info);
    if (!m) return cli_usage("eval", "--model: %s", cg_last_error());

    cg_dataset ds = {0};
    long *conf = NULL;
    class_stats *st = NULL;
    int status = CLI_FAIL;
    /* By default, the test set the model was trained with. */
    char *trained_data = cli_stored_flag(info.extra, "--data");
    char *trained_test = cli_stored_flag(info.extra, "--test");
    char *trained_label = cli_stored_flag(info.extra, "--label");
    const char *label = a.label ? a.label : trained_label;
    const char *spec = a.data;
    int train_split = strcmp(a.split, "train") == 0;
    if (!spec && !train_split && trained_test) spec = trained_test;
    if (!spec) spec = trained_data ? trained_data : "fashion-mnist";
    if (cg_load_dataset(spec, label, train_split, &ds)) {
        status = cli_usage("eval", "--data: %s", cg_last_error());
        goto done;
    }
    if (ds.d != cg_model_n_inputs(m)) {
        status = cli_usage("eval", "%s has %d features, the model takes %d", spec, ds.d,
                           cg_model_n_inputs(m));
        goto done;
    }
    int c = cg_model_n_classes(m);
    for (int i = 0; i < ds.n; i++)
        if (ds.y[i] >= c) {
            status = cli_usage("eval", "%s: label %d at row %d, but the model has %d classes", spec,
                               ds.y[i], i, c);
            goto done;
        }
    double loss, acc;
    conf = calloc((size_t)c * (size_t)c, sizeof *conf);
    st = calloc((size_t)c, sizeof *st);
    if (!conf || !st) goto fail;
    if (cg_evaluate_confusion(m, &ds, &nz, a.batch, &loss, &acc, conf)) goto fail;
    stats_from_confusion(conf, c, st);
    if (a.json) {
        if (print_json(m, conf, st, c, loss, acc, ds.n)) goto fail;
    } else {
        printf("model: %s (%d inputs, %d classes, trained %d epochs)\ndata: %s%s: %d examples\n",
               a.model, cg_model_n_inputs(m), c, info.epoch, spec,
               ds.rows ? (train_split ? " (train split)" : " (test split)") : "", ds.n);
        print_tables(m, conf, st, c, loss, acc, ds.n);
    }
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    goto done;
fail:
    cli_fail("eval: %s", *cg_last_error() ? cg_last_error() : "out of memory");
done:
    free(conf);
    free(st);
    free(trained_data);
    free(trained_test);
    free(trained_label);
    cg_dataset_free(&ds);
    cg_checkpoint_info_free(&info);
    cg_normalizer_free(&nz);
    cg_model_free(m);
    return status;
}
