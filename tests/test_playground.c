/* SPDX-License-Identifier: MIT */
/* test_playground.c: the browser playground's C side (web/playground.c),
 * natively: the functions the page's worker calls, on a 3-arm spiral like
 * the page's default (2-16-16-3 tanh, Adam 0.01, batch 32): errors before
 * setup, training to an accuracy floor, a reproducible run, the confusion
 * counts, one-pass prediction and hidden units, the checkpoint (loaded
 * back by cg_checkpoint_load, same predictions), the optimizer race, and
 * bad arguments. The browser test (tests/web) drives the same code as
 * WebAssembly. */
#include "../web/playground.c"

#include "check.h"

#include <math.h>

#define PER_CLASS 200
#define CLASSES 3

/* The page's spiral (web/datasets.js), without the noise: arm c at angle
 * 2 pi (c / C + t), radius 0.05 + 0.9 t; even rows train, odd rows test. */
static void spiral(float *xtr, int *ytr, float *xte, int *yte)
{
    int ntr = 0, nte = 0;
    for (int c = 0; c < CLASSES; c++)
        for (int i = 0; i < PER_CLASS; i++) {
            double t = (double)i / PER_CLASS, r = 0.05 + 0.9 * t;
            double a = 2 * 3.14159265358979323846 * ((double)c / CLASSES + t);
            float *x = i % 2 ? xte + 2 * nte : xtr + 2 * ntr;
            x[0] = (float)(r * cos(a));
            x[1] = (float)(r * sin(a));
            if (i % 2) yte[nte++] = c;
            else ytr[ntr++] = c;
        }
}

static int init_default(int seed)
{
    const int widths[] = {16, 16};
    return pg_init(seed, 2, widths, CG_TANH, 0, 0, "adam", 0.01, 0);
}

int main(void)
{
    enum { N = CLASSES * PER_CLASS / 2 };
    static float xtr[2 * N], xte[2 * N];
    static int ytr[N], yte[N];
    spiral(xtr, ytr, xte, yte);
    double loss, acc, acc2, loss2;

    /* Before any data or model: errors with messages, no crash. */
    CHECK(pg_train(1, 32, &loss) != CG_OK);
    CHECK(strstr(pg_error(), "no model") != NULL);
    CHECK(init_default(1) != CG_OK);
    CHECK(strstr(pg_error(), "no data") != NULL);

    CHECK(pg_set_data(xtr, ytr, N, xte, yte, N, 2, CLASSES) == CG_OK);
    CHECK(init_default(1) == CG_OK);
    CHECK(pg_param_count() == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3);
    CHECK(pg_train(3000, 32, &loss) == CG_OK);
    int conf[CLASSES * CLASSES];
    CHECK(pg_evaluate(1, &loss, &acc, conf) == CG_OK);
    CHECK(acc >= 0.95);
    int total = 0, right = 0;
    for (int i = 0; i < CLASSES * CLASSES; i++) total += conf[i];
    for (int c = 0; c < CLASSES; c++) right += conf[c * CLASSES + c];
    CHECK(total == N);
    CHECK_NEAR((double)right / N, acc, 1e-9);
    printf("spiral, 3000 steps: test loss %.4f, accuracy %.4f\n", loss, acc);

    /* The same seed gives the same run. */
    CHECK(init_default(1) == CG_OK);
    CHECK(pg_train(3000, 32, NULL) == CG_OK);
    CHECK(pg_evaluate(1, &loss2, &acc2, NULL) == CG_OK);
    CHECK(loss2 == loss && acc2 == acc);

    /* Predictions for the test rows in one pass agree with the evaluation;
     * hidden units hold values for every row, bounded by tanh. */
    static float probs[N * CLASSES], h[N];
    CHECK(pg_predict(xte, N, probs) == CG_OK);
    int agree = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (probs[i * CLASSES + c] > probs[i * CLASSES + best]) best = c;
        agree += best == yte[i];
    }
    CHECK_NEAR((double)agree / N, acc, 1e-9);
    CHECK(pg_hidden(1, 15, N, h) == CG_OK);
    int inside = 1;
    for (int i = 0; i < N; i++) inside &= h[i] >= -1 && h[i] <= 1;
    CHECK(inside);
    CHECK(pg_hidden(2, 0, N, h) != CG_OK);  /* only 2 hidden layers */
    CHECK(pg_hidden(0, 16, N, h) != CG_OK); /* 16 units: 0..15 */

    /* The checkpoint the page downloads: cg_checkpoint_load gives a model
     * with the same predictions. */
    CHECK(pg_save("tpg_model.safetensors") == CG_OK);
    cg_model *m = cg_checkpoint_load("tpg_model.safetensors", NULL, NULL, NULL);
    CHECK(m != NULL);
    if (m) {
        static cg_real x[2 * N], p2[N * CLASSES];
        for (int i = 0; i < 2 * N; i++) x[i] = xte[i];
        CHECK(cg_predict(m, x, N, p2, NULL) == CG_OK);
        double worst = 0;
        for (int i = 0; i < N * CLASSES; i++) worst = fmax(worst, fabs(p2[i] - probs[i]));
        CHECK(worst < 1e-5);
        cg_model_free(m);
    }
    remove("tpg_model.safetensors");

    /* Batch norm, dropout, L2 and every optimizer build and train. */
    const char *opts[] = {"sgd", "momentum", "rmsprop", "adam", "adamw"};
    for (int k = 0; k < 5; k++) {
        const int widths[] = {8};
        CHECK(pg_init(2, 1, widths, CG_RELU, 1, 0.1, opts[k], 0.01, 1e-4) == CG_OK);
        CHECK(pg_train(50, 16, &loss) == CG_OK);
        CHECK(isfinite(loss));
    }
    CHECK(pg_init(1, 0, NULL, CG_RELU, 0, 0, "nosuch", 0.01, 0) != CG_OK);
    CHECK(init_default(1) == CG_OK);
    CHECK(pg_train(1, 0, &loss) != CG_OK);

    /* The race on the saddle, lr 0.01, 300 steps: Adam is in a minimum
     * (f = -1/4) while plain gradient descent is still near the saddle. */
    float xy[8], f[4];
    CHECK(pg_race_init(0, 1, 1e-3, 4, "sgd\0momentum\0rmsprop\0adam\0", 0.01) == CG_OK);
    CHECK(pg_race_step(300, xy, f) == CG_OK);
    CHECK(f[3] < -0.24 && f[0] > -0.05);
    CHECK(pg_race_init(7, 1, 1, 1, "adam\0", 0.01) != CG_OK);
    CHECK(pg_race_init(0, 1, 1, 7, "adam\0", 0.01) != CG_OK);
    race_free();

    cg_model_free(model);
    cg_optimizer_free(opt);
    free_data(&train_set);
    free_data(&test_set);
    free(order);
    free(batch_x);
    free(batch_y);
    CHECK_DONE();
}
