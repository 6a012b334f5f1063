// SPDX-License-Identifier: MIT
/* report.c: an evaluation as a reader sees it (what `cgrad eval` prints):
 * a classifier's per-class precision, recall and F1 and its confusion
 * matrix; a regression's errors per target and its residuals; a
 * multi-label model's accuracy and F1 per label; as text or one JSON
 * object. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <cjson/cJSON.h>

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

static void print_tables(FILE *f, cg_model *m, const long *conf, const class_stats *st, int c, double loss,
                         double acc, int n)
{
    char buf[32];
    fprintf(f, "loss: %.4f - accuracy: %.4f (%d examples)\n\n", loss, acc, n);
    fprintf(f, "%-14s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
    double mp = 0, mr = 0, mf = 0;
    for (int k = 0; k < c; k++) {
        fprintf(f, "%-14.14s %9.4f %9.4f %9.4f %9ld\n", class_label(m, k, buf, sizeof buf),
               st[k].precision, st[k].recall, st[k].f1, st[k].support);
        mp += st[k].precision / c;
        mr += st[k].recall / c;
        mf += st[k].f1 / c;
    }
    fprintf(f, "%-14s %9.4f %9.4f %9.4f %9d\n\n", "macro avg", mp, mr, mf, n);
    fprintf(f, "confusion matrix (rows: true class, columns: predicted class)\n%-14s", "");
    for (int j = 0; j < c; j++) fprintf(f, " %6d", j);
    fprintf(f, "\n");
    for (int k = 0; k < c; k++) {
        char label[40];
        snprintf(label, sizeof label, "%d %s", k, cg_model_class_name(m, k) ? cg_model_class_name(m, k) : "");
        fprintf(f, "%-14.14s", label);
        for (int j = 0; j < c; j++) fprintf(f, " %6ld", conf[(size_t)k * c + j]);
        fprintf(f, "\n");
    }
}

static int print_json(FILE *f, cg_model *m, const long *conf, const class_stats *st, int c, double loss,
                      double acc, int n, const char *split)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    cJSON_AddStringToObject(o, "split", split);
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
    fprintf(f, "%s\n", s);
    free(s);
    return 0;
}

/* A regression or multi-label model's scores: overall, per target or
 * label, and (regression) the residuals' spread; or as one JSON object. */
static int print_task(FILE *f, cg_model *m, const cg_task_metrics *t, const char *split, int json)
{
    const int reg = t->task == CG_TASK_REGRESSION, n = t->n_outputs < CG_MAX_TARGETS ? t->n_outputs : CG_MAX_TARGETS;
    const char *keys[] = {"rmse", "mae", "r2", "accuracy", "f1"};
    const double all[] = {t->rmse, t->mae, t->r2, t->acc, t->f1};
    const double *per[] = {t->out_rmse, t->out_mae, t->out_r2, t->out_acc, t->out_f1};
    const int k0 = reg ? 0 : 3, k1 = reg ? 3 : 5;
    cJSON *o = json ? cJSON_CreateObject() : NULL, *a = o ? cJSON_CreateArray() : NULL;
    if (json && !a) return -1;
    if (o) cJSON_AddStringToObject(o, "split", split), cJSON_AddNumberToObject(o, "loss", t->loss);
    if (o) cJSON_AddNumberToObject(o, "examples", t->n);
    if (!o) fprintf(f, "loss: %.4f (%d examples)\n\n%-14s", t->loss, t->n, reg ? "target" : "label");
    for (int k = k0; k < k1; k++) o ? (void)cJSON_AddNumberToObject(o, keys[k], all[k]) : (void)fprintf(f, " %10s", keys[k]);
    for (int j = 0; j < n; j++) {
        const char *name = cg_model_class_name(m, j) ? cg_model_class_name(m, j) : "?";
        cJSON *e = o ? cJSON_CreateObject() : NULL;
        if (e) cJSON_AddStringToObject(e, "name", name);
        else fprintf(f, "\n%-14.14s", name);
        for (int k = k0; k < k1; k++) e ? (void)cJSON_AddNumberToObject(e, keys[k], per[k][j]) : (void)fprintf(f, " %10.4g", per[k][j]);
        if (e) cJSON_AddItemToArray(a, e);
    }
    if (!o) fprintf(f, "\n%-14s", reg ? "all" : "mean"); /* all values pooled (r2: the mean) */
    for (int k = k0; !o && k < k1; k++) fprintf(f, " %10.4g", all[k]);
    if (!o && reg) fprintf(f, "\n\nresiduals (target - prediction): min %.4g, 25%% %.4g, median %.4g, 75%% %.4g, max %.4g",
                          t->residual[0], t->residual[1], t->residual[2], t->residual[3], t->residual[4]);
    if (!o) return fprintf(f, "\n") < 0 ? -1 : 0;
    cJSON_AddItemToObject(o, reg ? "targets" : "labels", a);
    if (reg) cJSON_AddItemToObject(o, "residual_quantiles", cJSON_CreateDoubleArray(t->residual, 5));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) fprintf(f, "%s\n", text);
    free(text);
    return text ? 0 : -1;
}

int cg_report_confusion(cg_model *m, const long *conf, double loss, double acc, int n,
                        const char *split, int json, void *file)
{
    FILE *f = file ? (FILE *)file : stdout;
    const int c = cg_model_n_classes(m);
    class_stats *st = cg_calloc((size_t)c, sizeof *st);
    if (!m || !conf || !st) {
        cg_free(st);
        return cg_error(CG_ERR_ARG, "cg_report_confusion: NULL argument or out of memory");
    }
    stats_from_confusion(conf, c, st);
    int rc = CG_OK;
    if (json) rc = print_json(f, m, conf, st, c, loss, acc, n, split) ? CG_ERR_MEMORY : CG_OK;
    else print_tables(f, m, conf, st, c, loss, acc, n);
    cg_free(st);
    return rc ? cg_error(rc, "cg_report_confusion: out of memory") : ferror(f) ? cg_error(CG_ERR_IO, "cg_report_confusion: write failed") : CG_OK;
}

int cg_report_task(cg_model *m, const cg_task_metrics *t, const char *split, int json, void *file)
{
    FILE *f = file ? (FILE *)file : stdout;
    if (!m || !t || !split) return cg_error(CG_ERR_ARG, "cg_report_task: NULL argument");
    if (print_task(f, m, t, split, json)) return cg_error(CG_ERR_MEMORY, "cg_report_task: out of memory");
    return ferror(f) ? cg_error(CG_ERR_IO, "cg_report_task: write failed") : CG_OK;
}
