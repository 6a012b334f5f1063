/* SPDX-License-Identifier: MIT */
/* test_data_dataset.c: cg_load_dataset (by name, directory, .csv, .npy),
 * split, normaliser, gather, and the real Fashion-MNIST when installed. */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include "cgrad.h"
#include "check.h"
#include "data_files.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FMNIST "/usr/share/datasets/fashion-mnist"

/* gzip with one stored block (n < 65536). */
static void write_gzip(const char *path, const unsigned char *data, size_t n)
{
    static unsigned char out[70000];
    write_file(path, out, make_gzip(data, n, out));
}

/* IDX images n x 2 x 2 with pixel (i, j) = base + 4 i + j, labels i % 3. */
static void write_idx_pair(const char *images, const char *labels, int n, int base, int gz)
{
    unsigned char img[1024], lab[256];
    size_t o = put_be32(img, 0x803);
    o += put_be32(img + o, (uint32_t)n);
    o += put_be32(img + o, 2);
    o += put_be32(img + o, 2);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) img[o++] = (unsigned char)(base + 4 * i + j);
    size_t l = put_be32(lab, 0x801);
    l += put_be32(lab + l, (uint32_t)n);
    for (int i = 0; i < n; i++) lab[l++] = (unsigned char)(i % 3);
    if (gz) write_gzip(images, img, o);
    else write_file(images, img, o);
    write_file(labels, lab, l);
}

static void test_load_by_name(void)
{
    cg_dataset ds;
    /* A directory of MNIST-named files: train-* gzip, t10k-* plain with
     * the original site's "images.idx3" spelling. */
    mkdir("tdds_dir", 0777);
    write_idx_pair("tdds_dir/train-images-idx3-ubyte.gz", "tdds_dir/train-labels-idx1-ubyte",
                   5, 0, 1);
    write_idx_pair("tdds_dir/t10k-images.idx3-ubyte", "tdds_dir/t10k-labels.idx1-ubyte", 2, 100,
                   0);
    CHECK(cg_load_dataset("tdds_dir", NULL, 1, &ds) == CG_OK);
    CHECK(ds.n == 5 && ds.d == 4 && ds.rows == 2 && ds.cols == 2 && ds.n_classes == 3);
    if (ds.x_u8 && ds.n == 5) CHECK(ds.x_u8[4 * 4 + 3] == 19 && ds.y[4] == 1);
    cg_dataset_free(&ds);
    CHECK(cg_load_dataset("tdds_dir", NULL, 0, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 4 && ds.n_classes == 2);
    if (ds.x_u8 && ds.n == 2) CHECK(ds.x_u8[0] == 100 && ds.x_u8[7] == 107);
    cg_dataset_free(&ds);
    /* A directory without them. */
    mkdir("tdds_empty", 0777);
    memset(&ds, 0x5a, sizeof ds);
    CHECK(cg_load_dataset("tdds_empty", NULL, 1, &ds) == CG_ERR_IO);
    CHECK(zeroed(&ds));
    CHECK_ERROR("file 'tdds_empty/train-images-idx3-ubyte[.gz]': not found");
    /* Labels missing. */
    remove("tdds_dir/t10k-labels.idx1-ubyte");
    CHECK(cg_load_dataset("tdds_dir", NULL, 0, &ds) == CG_ERR_IO);
    CHECK_ERROR("t10k-labels-idx1-ubyte[.gz]': not found");

    /* .csv and .npy by extension (case-insensitive), the label passed on. */
    write_file("tdds_t.CSV", "a,lab,b\n1,2,3\n4,0,6\n", 20);
    CHECK(cg_load_dataset("tdds_t.CSV", "lab", 1, &ds) == CG_OK);
    CHECK(ds.n == 2 && ds.d == 2 && ds.n_classes == 3 && ds.x_f32 && ds.x_f32[1] == 3);
    cg_dataset_free(&ds);
    {
        static const char hdr[] = "\x93NUMPY\x01\x00\x3c\x00"
                                  "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }\n";
        unsigned char npy[128];
        size_t n = sizeof hdr - 1;
        memcpy(npy, hdr, n);
        CHECK(n == 10 + 0x3c);
        npy[n++] = 1, npy[n++] = 7, npy[n++] = 8, npy[n++] = 9;
        write_file("tdds_t.npy", npy, n);
        CHECK(cg_load_dataset("tdds_t.npy", "0", 1, &ds) == CG_OK);
        CHECK(ds.n == 2 && ds.d == 1 && ds.n_classes == 9);
        if (ds.x_f32 && ds.n == 2) CHECK(ds.x_f32[0] == 7 && ds.x_f32[1] == 9 && ds.y[1] == 8);
        cg_dataset_free(&ds);
    }
    /* Errors from the loaders come through. */
    write_file("tdds_bad.csv", "a,y\n1,1,2\n", 10); /* 10 bytes */
    CHECK(cg_load_dataset("tdds_bad.csv", NULL, 1, &ds) == CG_ERR_FORMAT);
    CHECK_ERROR("tdds_bad.csv:2: row has 3 columns, expected 2");
    /* Unknown names and formats. */
    CHECK(cg_load_dataset("tdds_nothing_here", NULL, 1, &ds) == CG_ERR_IO);
    CHECK_ERROR("file 'tdds_nothing_here': not found");
    CHECK_ERROR("fashion-mnist");
    write_file("tdds_x.txt", "hello", 5);
    CHECK(cg_load_dataset("tdds_x.txt", NULL, 1, &ds) == CG_ERR_ARG);
    CHECK_ERROR("file 'tdds_x.txt': unknown data set format");
    CHECK(cg_load_dataset("tdds_missing.csv", NULL, 1, &ds) == CG_ERR_IO);
    CHECK_ERROR("file 'tdds_missing.csv': cannot open");
    CHECK(cg_load_dataset(NULL, NULL, 1, &ds) == CG_ERR_ARG);
    CHECK(cg_load_dataset("fashion-mnist", NULL, 1, NULL) == CG_ERR_ARG);
    CHECK(cg_load_dataset("", NULL, 1, &ds) == CG_ERR_ARG);

    const char *files[] = {"tdds_dir/train-images-idx3-ubyte.gz",
                           "tdds_dir/train-labels-idx1-ubyte", "tdds_dir/t10k-images.idx3-ubyte",
                           "tdds_dir", "tdds_empty", "tdds_t.CSV", "tdds_t.npy", "tdds_bad.csv",
                           "tdds_x.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) remove(files[i]);
}

static void test_fashion_mnist(void)
{
    struct stat st;
    if (stat(FMNIST, &st) != 0) {
        printf("SKIP: %s is missing (install dataset-fashion-mnist); "
               "real-data checks not run\n", FMNIST);
        return;
    }
    cg_dataset tr, te;
    CHECK(cg_load_dataset("fashion-mnist", NULL, 1, &tr) == CG_OK);
    CHECK(tr.n == 60000 && tr.d == 784 && tr.rows == 28 && tr.cols == 28);
    CHECK(tr.n_classes == 10 && tr.x_u8 && !tr.x_f32);
    if (tr.n == 60000 && tr.x_u8) {
        CHECK(tr.y[0] == 9 && tr.y[1] == 0 && tr.y[2] == 0 && tr.y[3] == 3);
        uint64_t sum = 0, first = 0;
        for (size_t i = 0; i < (size_t)60000 * 784; i++) sum += tr.x_u8[i];
        for (size_t i = 0; i < 784; i++) first += tr.x_u8[i];
        CHECK(sum == 3431114169u); /* mean pixel 72.94 */
        CHECK(first == 76247);
        int count[10] = {0};
        for (int i = 0; i < tr.n; i++)
            if (tr.y[i] >= 0 && tr.y[i] < 10) count[tr.y[i]]++;
        for (int c = 0; c < 10; c++) CHECK(count[c] == 6000);
    }
    CHECK(cg_load_dataset("fashion-mnist", NULL, 0, &te) == CG_OK);
    CHECK(te.n == 10000 && te.d == 784 && te.n_classes == 10);
    if (te.n == 10000 && te.x_u8) {
        CHECK(te.y[0] == 9 && te.y[1] == 2 && te.y[2] == 1);
        uint64_t sum = 0;
        for (size_t i = 0; i < (size_t)10000 * 784; i++) sum += te.x_u8[i];
        CHECK(sum == 573469082u);
    }
    /* Gather the first image scaled to [0, 1]. */
    if (tr.n == 60000 && tr.x_u8) {
        static cg_real x[2 * 784];
        cg_real y[2];
        int idx[2] = {0, 59999};
        cg_dataset_gather(&tr, NULL, idx, 2, x, y);
        double s = 0;
        for (int j = 0; j < 784; j++) s += x[j];
        CHECK_NEAR(s, 76247.0 / 255.0, 1e-3);
        CHECK(y[0] == 9);
        CHECK(y[1] == (cg_real)tr.y[59999]);
    }
    cg_dataset_free(&tr);
    cg_dataset_free(&te);
}

/* A float data set: row i = (i, 10 i + 1, 7), label i % 4. */
static void make_f32(cg_dataset *ds, int n)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->d = 3;
    ds->n_classes = 4;
    ds->x_f32 = malloc((size_t)n * 3 * sizeof(float));
    ds->y = malloc((size_t)n * sizeof(int32_t));
    for (int i = 0; i < n; i++) {
        ds->x_f32[i * 3] = (float)i;
        ds->x_f32[i * 3 + 1] = (float)(10 * i + 1);
        ds->x_f32[i * 3 + 2] = 7;
        ds->y[i] = i % 4;
    }
}

static void free_own(cg_dataset *ds)
{
    free(ds->x_f32);
    free(ds->x_u8);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

static void test_split(void)
{
    cg_dataset ds, tr, va, tr2, va2;
    make_f32(&ds, 100);
    CHECK(cg_dataset_split(&ds, 0.2, 42, &tr, &va) == CG_OK);
    CHECK(tr.n == 80 && va.n == 20);
    CHECK(tr.d == 3 && va.d == 3 && tr.n_classes == 4 && va.n_classes == 4);
    CHECK(tr.x_f32 && va.x_f32 && !tr.x_u8 && !va.x_u8);
    /* Disjoint and complete: each source row exactly once, rows intact. */
    int seen[100] = {0}, ok = 1, moved = 0;
    for (int k = 0; k < 100 && tr.n == 80; k++) {
        const cg_dataset *p = k < 80 ? &tr : &va;
        int i = k < 80 ? k : k - 80;
        int src = (int)p->x_f32[i * 3];
        if (src < 0 || src >= 100) {
            ok = 0;
            continue;
        }
        seen[src]++;
        ok &= p->x_f32[i * 3 + 1] == (float)(10 * src + 1) && p->x_f32[i * 3 + 2] == 7 &&
              p->y[i] == src % 4;
        moved += src != k;
    }
    CHECK(ok);
    for (int i = 0; i < 100; i++) CHECK(seen[i] == 1);
    CHECK(moved > 50); /* shuffled, not the first 80 rows */
    /* Deterministic with the seed; another seed gives another order. */
    CHECK(cg_dataset_split(&ds, 0.2, 42, &tr2, &va2) == CG_OK);
    CHECK(tr2.n == 80 && memcmp(tr.x_f32, tr2.x_f32, 80 * 3 * sizeof(float)) == 0);
    CHECK(memcmp(va.y, va2.y, 20 * sizeof(int32_t)) == 0);
    cg_dataset_free(&tr2);
    cg_dataset_free(&va2);
    CHECK(cg_dataset_split(&ds, 0.2, 43, &tr2, &va2) == CG_OK);
    CHECK(memcmp(tr.x_f32, tr2.x_f32, 80 * 3 * sizeof(float)) != 0);
    cg_dataset_free(&tr2);
    cg_dataset_free(&va2);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);

    /* Rounding: 0.29 of 100 is 29 (not 28 by floating error). */
    CHECK(cg_dataset_split(&ds, 0.29, 1, &tr, &va) == CG_OK);
    CHECK(tr.n == 71 && va.n == 29);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    /* frac 0: everything in train, val empty. */
    CHECK(cg_dataset_split(&ds, 0.0, 1, &tr, &va) == CG_OK);
    CHECK(tr.n == 100 && va.n == 0 && va.d == 3 && va.n_classes == 4);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    /* A near-1 fraction keeps one training example. */
    CHECK(cg_dataset_split(&ds, 0.999, 1, &tr, &va) == CG_OK);
    CHECK(tr.n == 1 && va.n == 99);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);

    /* Bytes: rows/cols kept, the bytes copied. */
    {
        cg_dataset b;
        memset(&b, 0, sizeof b);
        b.n = 10, b.d = 4, b.n_classes = 10, b.rows = 2, b.cols = 2;
        b.x_u8 = malloc(40);
        b.y = malloc(10 * sizeof(int32_t));
        for (int i = 0; i < 40; i++) b.x_u8[i] = (uint8_t)i;
        for (int i = 0; i < 10; i++) b.y[i] = i;
        CHECK(cg_dataset_split(&b, 0.3, 7, &tr, &va) == CG_OK);
        CHECK(tr.n == 7 && va.n == 3 && tr.rows == 2 && va.cols == 2 && tr.x_u8 && va.x_u8);
        int good = 1;
        for (int i = 0; i < tr.n; i++)
            for (int j = 0; j < 4; j++) good &= tr.x_u8[i * 4 + j] == 4 * tr.y[i] + j;
        for (int i = 0; i < va.n; i++)
            for (int j = 0; j < 4; j++) good &= va.x_u8[i * 4 + j] == 4 * va.y[i] + j;
        CHECK(good);
        cg_dataset_free(&tr);
        cg_dataset_free(&va);
        free_own(&b);
    }

    /* Bad arguments: out sets zeroed, nothing leaked. */
    CHECK(cg_dataset_split(&ds, 1.0, 1, &tr, &va) == CG_ERR_ARG);
    CHECK_ERROR("fraction 1 is not in [0, 1)");
    CHECK(zeroed(&tr) && zeroed(&va));
    CHECK(cg_dataset_split(&ds, -0.1, 1, &tr, &va) == CG_ERR_ARG);
    CHECK(cg_dataset_split(&ds, strtod("nan", NULL), 1, &tr, &va) == CG_ERR_ARG);
    CHECK(cg_dataset_split(NULL, 0.1, 1, &tr, &va) == CG_ERR_ARG);
    CHECK(cg_dataset_split(&ds, 0.1, 1, NULL, &va) == CG_ERR_ARG);
    CHECK(cg_dataset_split(&ds, 0.1, 1, &tr, NULL) == CG_ERR_ARG);
    CHECK(cg_dataset_split(&ds, 0.1, 1, &tr, &tr) == CG_ERR_ARG);
    CHECK_ERROR("different");
    {
        cg_dataset empty;
        memset(&empty, 0, sizeof empty);
        CHECK(cg_dataset_split(&empty, 0.1, 1, &tr, &va) == CG_ERR_ARG);
        CHECK_ERROR("empty");
    }
    free_own(&ds);
}

static void test_normalizer_and_gather(void)
{
    /* Floats: column 0 = 0..3 (mean 1.5, std sqrt(1.25)), column 1 = 10 i + 1,
     * column 2 constant (std 0 -> inv_std 1). */
    cg_dataset ds;
    cg_normalizer nz;
    make_f32(&ds, 4);
    CHECK(cg_normalizer_fit(&nz, &ds, 0) == CG_OK);
    CHECK(nz.d == 3 && nz.scale == 1.0f && !nz.mean && !nz.inv_std);
    cg_normalizer_free(&nz);
    CHECK(cg_normalizer_fit(&nz, &ds, 1) == CG_OK);
    CHECK(nz.mean && nz.inv_std);
    if (nz.mean && nz.inv_std) {
        CHECK_NEAR(nz.mean[0], 1.5, 1e-6);
        CHECK_NEAR(nz.mean[1], 16.0, 1e-5);
        CHECK_NEAR(nz.mean[2], 7.0, 1e-6);
        CHECK_NEAR(nz.inv_std[0], 1.0 / sqrt(1.25), 1e-6);
        CHECK_NEAR(nz.inv_std[1], 1.0 / sqrt(125.0), 1e-6);
        CHECK(nz.inv_std[2] == 1.0f);
    }
    {
        cg_real x[2 * 3], y[2];
        int idx[2] = {3, 0};
        cg_dataset_gather(&ds, NULL, idx, 2, x, y);
        CHECK(x[0] == 3 && x[1] == 31 && x[2] == 7 && x[3] == 0 && x[4] == 1 && x[5] == 7);
        CHECK(y[0] == 3 && y[1] == 0);
        cg_dataset_gather(&ds, &nz, idx, 2, x, y);
        CHECK_NEAR(x[0], 1.5 / sqrt(1.25), 1e-5);
        CHECK_NEAR(x[1], 15.0 / sqrt(125.0), 1e-5);
        CHECK_NEAR(x[2], 0.0, 1e-6);
        CHECK_NEAR(x[3], -1.5 / sqrt(1.25), 1e-5);
        CHECK_NEAR(x[4], -15.0 / sqrt(125.0), 1e-5);
        CHECK(y[0] == 3 && y[1] == 0);
        /* Standardised over all rows: mean 0, variance 1 per varying column. */
        int all[4] = {0, 1, 2, 3};
        cg_real xa[4 * 3];
        cg_dataset_gather(&ds, &nz, all, 4, xa, NULL);
        for (int j = 0; j < 2; j++) {
            double m = 0, v = 0;
            for (int i = 0; i < 4; i++) m += xa[i * 3 + j] / 4.0;
            for (int i = 0; i < 4; i++) v += (xa[i * 3 + j] - m) * (xa[i * 3 + j] - m) / 4.0;
            CHECK_NEAR(m, 0.0, 1e-6);
            CHECK_NEAR(v, 1.0, 1e-5);
        }
        /* Bad uses: an index out of range (row zeroed, error set); a
         * normaliser for another width (nothing written). */
        int bad[2] = {1, 4};
        cg_clear_error();
        cg_dataset_gather(&ds, NULL, bad, 2, x, y);
        CHECK_ERROR("index 4 out of range [0, 4)");
        CHECK(x[0] == 1 && x[3] == 0 && x[4] == 0 && x[5] == 0 && y[1] == 0);
        cg_normalizer other = nz;
        other.d = 5;
        x[0] = -99;
        cg_dataset_gather(&ds, &other, idx, 2, x, y);
        CHECK_ERROR("normaliser is for 5 features, data set has 3");
        CHECK(x[0] == -99);
        cg_dataset_gather(NULL, NULL, idx, 2, x, y);
        CHECK_ERROR("cg_dataset_gather");
        cg_dataset_gather(&ds, NULL, NULL, 2, x, y);
        CHECK_ERROR("cg_dataset_gather");
        cg_dataset_gather(&ds, NULL, NULL, 0, x, y); /* nothing to do */
    }
    cg_normalizer_free(&nz);
    CHECK(!nz.mean && !nz.inv_std);
    cg_normalizer_free(&nz);
    cg_normalizer_free(NULL);
    free_own(&ds);

    /* Bytes: scale 1/255, mean and std in scaled units. Column 0 = 0, 255
     * (mean 0.5, std 0.5); column 1 = 51 always. */
    {
        cg_dataset b;
        memset(&b, 0, sizeof b);
        b.n = 2, b.d = 2, b.n_classes = 2;
        b.x_u8 = malloc(4);
        b.y = malloc(2 * sizeof(int32_t));
        b.x_u8[0] = 0, b.x_u8[1] = 51, b.x_u8[2] = 255, b.x_u8[3] = 51;
        b.y[0] = 1, b.y[1] = 0;
        CHECK(cg_normalizer_fit(&nz, &b, 1) == CG_OK);
        CHECK_NEAR(nz.scale, 1.0 / 255.0, 1e-9);
        if (nz.mean && nz.inv_std) {
            CHECK_NEAR(nz.mean[0], 0.5, 1e-6);
            CHECK_NEAR(nz.inv_std[0], 2.0, 1e-5);
            CHECK_NEAR(nz.mean[1], 0.2, 1e-6);
            CHECK(nz.inv_std[1] == 1.0f);
        }
        cg_real x[4], y[2];
        int idx[2] = {1, 0};
        cg_dataset_gather(&b, NULL, idx, 2, x, y);
        CHECK_NEAR(x[0], 1.0, 1e-6);
        CHECK_NEAR(x[1], 0.2, 1e-6);
        CHECK_NEAR(x[2], 0.0, 1e-6);
        CHECK(y[0] == 0 && y[1] == 1);
        cg_dataset_gather(&b, &nz, idx, 2, x, y);
        CHECK_NEAR(x[0], 1.0, 1e-5);
        CHECK_NEAR(x[1], 0.0, 1e-6);
        CHECK_NEAR(x[2], -1.0, 1e-5);
        CHECK_NEAR(x[3], 0.0, 1e-6);
        /* A plain normaliser (no standardisation) only scales. */
        cg_normalizer plain;
        CHECK(cg_normalizer_fit(&plain, &b, 0) == CG_OK);
        cg_dataset_gather(&b, &plain, idx, 2, x, NULL);
        CHECK_NEAR(x[0], 1.0, 1e-6);
        CHECK_NEAR(x[1], 0.2, 1e-6);
        cg_normalizer_free(&plain);
        cg_normalizer_free(&nz);
        free_own(&b);
    }
    /* Fit errors. */
    {
        cg_dataset empty;
        memset(&empty, 0, sizeof empty);
        CHECK(cg_normalizer_fit(NULL, &empty, 1) == CG_ERR_ARG);
        CHECK(cg_normalizer_fit(&nz, NULL, 1) == CG_ERR_ARG);
        CHECK(cg_normalizer_fit(&nz, &empty, 1) == CG_ERR_ARG);
        CHECK(!nz.mean && !nz.inv_std);
    }
}

/* A batch large enough to be gathered by several threads equals the rows
 * converted one by one; a bad index in the middle zeroes its row only. */
static void test_gather_large_batch(void)
{
    enum { N = 300, D = 784, M = 128 };
    cg_dataset b;
    memset(&b, 0, sizeof b);
    b.n = N, b.d = D, b.n_classes = 10;
    b.x_u8 = malloc((size_t)N * D);
    b.y = malloc(N * sizeof(int32_t));
    for (int i = 0; i < N * D; i++) b.x_u8[i] = (uint8_t)((i * 7 + i / D) % 256);
    for (int i = 0; i < N; i++) b.y[i] = i % 10;
    cg_normalizer nz;
    CHECK(cg_normalizer_fit(&nz, &b, 1) == CG_OK);
    int idx[M];
    for (int i = 0; i < M; i++) idx[i] = (i * 37) % N;
    idx[M / 2] = N; /* out of range */
    cg_real *x = malloc(sizeof(cg_real) * M * D), y[M];
    cg_clear_error();
    cg_dataset_gather(&b, &nz, idx, M, x, y);
    CHECK_ERROR("index 300 out of range [0, 300)");
    int same = 1;
    for (int i = 0; i < M && same; i++) {
        for (int j = 0; j < D; j++) {
            cg_real want = 0;
            if (i != M / 2) {
                float v = (float)b.x_u8[(size_t)idx[i] * D + j] * nz.scale;
                want = (cg_real)((v - nz.mean[j]) * nz.inv_std[j]);
            }
            if (x[(size_t)i * D + j] != want) same = 0;
        }
        if (y[i] != (i == M / 2 ? 0 : idx[i] % 10)) same = 0;
    }
    CHECK(same);
    free(x);
    cg_normalizer_free(&nz);
    free_own(&b);
}

/* The in-place split gives the same sets as the copying one, for bytes and
 * for floats. */
static void test_split_inplace(void)
{
    cg_dataset f, tr, va, same_va;
    CHECK(cg_make_blobs(101, 3, 5, 1.0, 3, &f) == CG_OK);
    CHECK(cg_dataset_split(&f, 0.25, 77, &tr, &va) == CG_OK);
    CHECK(cg_dataset_split_inplace(&f, 0.25, 77, &same_va) == CG_OK);
    CHECK(f.n == tr.n && same_va.n == va.n);
    CHECK(memcmp(f.x_f32, tr.x_f32, (size_t)tr.n * 5 * sizeof(float)) == 0);
    CHECK(memcmp(f.y, tr.y, (size_t)tr.n * sizeof *tr.y) == 0);
    CHECK(memcmp(same_va.x_f32, va.x_f32, (size_t)va.n * 5 * sizeof(float)) == 0);
    CHECK(memcmp(same_va.y, va.y, (size_t)va.n * sizeof *va.y) == 0);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    cg_dataset_free(&same_va);
    /* bytes: the same rows again after moving them to a byte set */
    cg_dataset b = f;
    b.x_u8 = malloc((size_t)f.n * 5);
    for (size_t i = 0; i < (size_t)f.n * 5; i++) b.x_u8[i] = (uint8_t)((int)(f.x_f32[i] * 10) & 255);
    free(f.x_f32);
    b.x_f32 = NULL;
    CHECK(cg_dataset_split(&b, 0.5, 5, &tr, &va) == CG_OK);
    CHECK(cg_dataset_split_inplace(&b, 0.5, 5, &same_va) == CG_OK);
    CHECK(b.n == tr.n && memcmp(b.x_u8, tr.x_u8, (size_t)tr.n * 5) == 0);
    CHECK(memcmp(b.y, tr.y, (size_t)tr.n * sizeof *tr.y) == 0);
    CHECK(memcmp(same_va.x_u8, va.x_u8, (size_t)va.n * 5) == 0);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    cg_dataset_free(&same_va);
    CHECK(cg_dataset_split_inplace(&b, 1.5, 5, &same_va) == CG_ERR_ARG);
    free(b.x_u8);
    free(b.y);
}

int main(void)
{
    test_split_inplace();
    test_load_by_name();
    test_split();
    test_normalizer_and_gather();
    test_gather_large_batch();
    test_fashion_mnist();
    CHECK_DONE();
}
