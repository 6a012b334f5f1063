/* SPDX-License-Identifier: MIT */
/* test_cli_predict_escape.c: `cgrad predict` prints class names with
 * C-style escapes (tab, newline, CR, quote, backslash, other control
 * characters), so each example stays one line of tab-separated fields; a
 * plain name and UTF-8 pass unchanged. A model whose output layer is the
 * identity (scaled) predicts class i for the one-hot row i. */
#define _POSIX_C_SOURCE 200809L /* popen */
#include "check.h"

#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    static const char *const names[5] = {"tab\there", "new\nline \"q\"", "bell\a\\x\x7f",
                                         "cr\rend", "plain caf\xc3\xa9"};
    static const char *const want[5] = {"tab\\there", "new\\nline \\\"q\\\"",
                                        "bell\\x07\\\\x\\x7f", "cr\\rend", "plain caf\xc3\xa9"};
    const int k = 5;
    cg_model *m = cg_model_new(k, k, 1);
    CHECK(m && cg_model_set_class_names(m, names, k) == CG_OK);
    cg_graph *g = cg_model_graph(m);
    CHECK(g != NULL);
    /* The one dense layer: weight [k, k] = 10 I, bias 0. */
    cg_node *w = NULL, *b = NULL;
    for (int i = 0; i < cg_graph_node_count(g); i++) {
        cg_node *n = cg_graph_node(g, i);
        if (!cg_node_is_variable(n)) continue;
        if (cg_node_ndim(n) == 2) w = n;
        else b = n;
    }
    CHECK(w && b);
    if (!w || !b) CHECK_DONE();
    cg_real *wv = cg_node_value(w), *bv = cg_node_value(b);
    for (int i = 0; i < k * k; i++) wv[i] = (i / k == i % k) ? 10 : 0;
    for (int i = 0; i < k; i++) bv[i] = 0;

    char dir[] = "/tmp/cg_predict_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char ck[256], csv[256], cmd[1024];
    snprintf(ck, sizeof ck, "%s/m.safetensors", dir);
    snprintf(csv, sizeof csv, "%s/x.csv", dir);
    CHECK(cg_checkpoint_save(ck, m, NULL, NULL, NULL) == CG_OK);
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL);
    if (!f) CHECK_DONE();
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) fprintf(f, "%d%c", i == j, j + 1 < k ? ',' : '\n');
    fclose(f);

    snprintf(cmd, sizeof cmd, "%s/cgrad predict --model %s --input %s", CG_BUILD_DIR, ck, csv);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) CHECK_DONE();
    char line[512];
    int row = 0;
    while (fgets(line, sizeof line, p)) {
        char *tab = strchr(line, '\t');
        CHECK(tab != NULL && strchr(line, '\n') == line + strlen(line) - 1);
        if (!tab || row >= k) {
            row++;
            continue;
        }
        *tab = 0;
        if (strcmp(line, want[row]) != 0) {
            fprintf(stderr, "row %d: got \"%s\", want \"%s\"\n", row, line, want[row]);
            check_failures++;
        }
        CHECK(strtod(tab + 1, NULL) > 0.99);
        row++;
    }
    CHECK(pclose(p) == 0);
    CHECK(row == k);

    cg_model_free(m);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK_DONE();
}
