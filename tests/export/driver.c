/* SPDX-License-Identifier: MIT */
/* driver.c: runs an exported model (model.h / model.c from `cgrad export`)
 * over a file of examples, for test_export.sh. Plain C99, like the code it
 * drives.
 *   driver f32 FILE   FILE: raw float32 rows of MODEL_N_INPUTS features
 *   driver idx FILE   FILE: an uncompressed IDX3 ubyte image file
 *   driver names      the class names, one a line
 * Prints one line per example: the class, then the probabilities. */
#include <stdio.h>
#include <string.h>

#include "model.h"

static int run(FILE *in, int idx)
{
    unsigned char px[MODEL_N_INPUTS];
    float x[MODEL_N_INPUTS], p[MODEL_N_CLASSES];
    int i, c;
    if (idx) {
        unsigned char h[16];
        unsigned long rows, cols;
        if (fread(h, 1, 16, in) != 16 || h[2] != 8 || h[3] != 3) {
            fprintf(stderr, "driver: not an IDX3 ubyte file\n");
            return 1;
        }
        rows = (unsigned long)h[8] << 24 | (unsigned long)h[9] << 16 | h[10] << 8 | h[11];
        cols = (unsigned long)h[12] << 24 | (unsigned long)h[13] << 16 | h[14] << 8 | h[15];
        if (rows * cols != MODEL_N_INPUTS) {
            fprintf(stderr, "driver: images of %lux%lu pixels for %d inputs\n", rows, cols,
                    MODEL_N_INPUTS);
            return 1;
        }
    }
    for (;;) {
        if (idx) {
            if (fread(px, 1, MODEL_N_INPUTS, in) != MODEL_N_INPUTS) break;
            for (i = 0; i < MODEL_N_INPUTS; i++) x[i] = px[i];
        } else if (fread(x, sizeof x[0], MODEL_N_INPUTS, in) != MODEL_N_INPUTS) {
            break;
        }
        c = model_predict(x, p);
        if (model_predict(x, NULL) != c) {
            fprintf(stderr, "driver: the class depends on whether probs is NULL\n");
            return 1;
        }
        printf("%d", c);
        for (i = 0; i < MODEL_N_CLASSES; i++) printf(" %.9g", p[i]);
        printf("\n");
    }
    return ferror(in) || fflush(stdout) != 0;
}

int main(int argc, char **argv)
{
    FILE *in;
    int i, rc;
    if (argc == 2 && strcmp(argv[1], "names") == 0) {
        for (i = 0; i < MODEL_N_CLASSES; i++) printf("%s\n", model_class_names[i]);
        return 0;
    }
    if (argc != 3 || (strcmp(argv[1], "f32") != 0 && strcmp(argv[1], "idx") != 0)) {
        fprintf(stderr, "usage: driver f32|idx FILE | driver names\n");
        return 2;
    }
    in = fopen(argv[2], "rb");
    if (!in) {
        perror(argv[2]);
        return 1;
    }
    rc = run(in, strcmp(argv[1], "idx") == 0);
    fclose(in);
    return rc;
}
