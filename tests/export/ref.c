/* SPDX-License-Identifier: MIT */
/* ref.c (export_ref CKPT PREDICTIONS): the library's side of
 * test_export.sh. Loads the checkpoint with cg_checkpoint_load, predicts
 * the 10,000 Fashion-MNIST test images with cg_predict, and compares with
 * PREDICTIONS, the exported code's output (per line: the class, then the
 * probabilities): every class must be equal and every probability within
 * 1e-5. Prints the figures; exit 0 when they agree. */
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TOL 1e-5
#define BATCH 1000

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: export_ref CKPT PREDICTIONS\n");
        return 2;
    }
    cg_normalizer nz;
    cg_dataset ds;
    cg_model *m = cg_checkpoint_load(argv[1], NULL, &nz, NULL);
    if (!m) {
        fprintf(stderr, "export_ref: %s\n", cg_last_error());
        return 1;
    }
    if (cg_load_dataset("fashion-mnist", NULL, 0, &ds)) {
        fprintf(stderr, "export_ref: %s\n", cg_last_error());
        return 1;
    }
    FILE *in = fopen(argv[2], "r");
    if (!in) {
        perror(argv[2]);
        return 1;
    }
    const int C = cg_model_n_classes(m), d = ds.d;
    cg_real *x = malloc((size_t)BATCH * (size_t)d * sizeof *x);
    cg_real *probs = malloc((size_t)BATCH * (size_t)C * sizeof *probs);
    int *cls = malloc(BATCH * sizeof *cls), *idx = malloc(BATCH * sizeof *idx);
    if (!x || !probs || !cls || !idx) return 1;
    int n = 0, class_diffs = 0, bad = 0, correct = 0;
    double worst = 0;
    for (int start = 0; start < ds.n && !bad; start += BATCH) {
        int b = ds.n - start < BATCH ? ds.n - start : BATCH;
        for (int i = 0; i < b; i++) idx[i] = start + i;
        cg_dataset_gather(&ds, &nz, idx, b, x, NULL);
        if (cg_predict(m, x, b, probs, cls)) {
            fprintf(stderr, "export_ref: %s\n", cg_last_error());
            return 1;
        }
        for (int i = 0; i < b && !bad; i++, n++) {
            int c;
            if (fscanf(in, "%d", &c) != 1) {
                bad = 1;
                break;
            }
            if (c != cls[i]) {
                if (class_diffs++ < 5)
                    fprintf(stderr, "image %d: exported class %d, library class %d\n", n, c, cls[i]);
            }
            correct += cls[i] == ds.y[start + i];
            for (int k = 0; k < C; k++) {
                double p;
                if (fscanf(in, "%lf", &p) != 1) {
                    bad = 1;
                    break;
                }
                double diff = fabs(p - (double)probs[(size_t)i * C + k]);
                if (!(diff <= worst)) worst = diff; /* NaN sticks */
            }
        }
    }
    double extra;
    if (!bad && fscanf(in, "%lf", &extra) == 1) bad = 1;
    fclose(in);
    printf("export_ref: %d images, library accuracy %.4f, %d class differences, "
           "max |dp| %.3g (tolerance %g)\n", n, n ? (double)correct / n : 0.0, class_diffs, worst,
           TOL);
    if (bad) fprintf(stderr, "export_ref: %s does not hold one line per test image\n", argv[2]);
    free(x);
    free(probs);
    free(cls);
    free(idx);
    cg_dataset_free(&ds);
    cg_normalizer_free(&nz);
    cg_model_free(m);
    return bad || class_diffs || !(worst <= TOL) || n != 10000 ? 1 : 0;
}
