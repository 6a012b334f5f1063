/* SPDX-License-Identifier: MIT */
/* fuzz_util.h: what the libFuzzer targets share. The loaders take paths,
 * so a target writes its input to a per-process scratch file and loads
 * that: the code under test is exactly what users run, file handling
 * included.
 *
 * Each target's work is a static fuzz_<name>_one(data, size); the
 * LLVMFuzzerTestOneInput entry is left out when FUZZ_REPLAY is defined, so
 * tests/test_fuzz_regressions.c can include the targets and replay saved
 * inputs through the very same checks. */
#ifndef CG_FUZZ_UTIL_H
#define CG_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L /* getpid */
#include "cgrad.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A crash libFuzzer records (with the input) when a promise is broken. */
#define FUZZ_ASSERT(cond)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                          \
        }                                                                     \
    } while (0)

#if defined(__GNUC__)
#define FUZZ_UNUSED __attribute__((unused))
#else
#define FUZZ_UNUSED
#endif

/* Scratch file "fuzz-<pid>-<tag>" in $TMPDIR (or /tmp), one per tag for
 * the whole run (the tag's extension matters to cg_load_inputs); all are
 * removed at exit. */
#define FUZZ_MAX_PATHS 8
FUZZ_UNUSED static char fuzz_paths[FUZZ_MAX_PATHS][512];
FUZZ_UNUSED static int fuzz_npaths;

FUZZ_UNUSED static void fuzz_cleanup(void)
{
    for (int i = 0; i < fuzz_npaths; i++) remove(fuzz_paths[i]);
}

FUZZ_UNUSED static const char *fuzz_path(const char *tag)
{
    const char *dir = getenv("TMPDIR");
    char want[512];
    snprintf(want, sizeof want, "%s/fuzz-%ld-%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), tag);
    for (int i = 0; i < fuzz_npaths; i++)
        if (strcmp(fuzz_paths[i], want) == 0) return fuzz_paths[i];
    if (fuzz_npaths == FUZZ_MAX_PATHS) abort(); /* a harness bug */
    if (fuzz_npaths == 0) atexit(fuzz_cleanup);
    strcpy(fuzz_paths[fuzz_npaths], want);
    return fuzz_paths[fuzz_npaths++];
}

FUZZ_UNUSED static void fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n)) {
        perror(path);
        exit(2); /* the harness, not the loader: not a finding */
    }
    fclose(f);
}

/* The input as a C string (the JSON readers take one); free it. An input
 * with a NUL byte is cut there, as a string read from a file would be. */
FUZZ_UNUSED static char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A failed call keeps the error promise: a negative code and a message. */
FUZZ_UNUSED static void fuzz_check_error(int rc)
{
    FUZZ_ASSERT(rc < 0);
    FUZZ_ASSERT(cg_last_error()[0] != '\0');
}

/* What every loader promises: on error an empty data set and a message;
 * on success consistent sizes and labels below n_classes. Every value is
 * read, so ASan sees any buffer shorter than announced. */
FUZZ_UNUSED static void fuzz_check(int rc, cg_dataset *ds, int labelled)
{
    if (rc != CG_OK) {
        FUZZ_ASSERT(rc < 0);
        FUZZ_ASSERT(cg_last_error()[0] != '\0');
        FUZZ_ASSERT(ds->n == 0 && !ds->x_u8 && !ds->x_f32 && !ds->y && !ds->table);
        return;
    }
    FUZZ_ASSERT(ds->n > 0 && ds->d > 0);
    FUZZ_ASSERT((ds->x_u8 != NULL) != (ds->x_f32 != NULL));
    FUZZ_ASSERT(labelled ? ds->y != NULL && ds->n_classes > 0
                         : ds->y == NULL && ds->n_classes == 0);
    size_t cells = (size_t)ds->n * (size_t)ds->d;
    double sum = 0;
    for (size_t i = 0; i < cells; i++) {
        double v = ds->x_u8 ? ds->x_u8[i] : ds->x_f32[i];
        FUZZ_ASSERT(v - v == 0 || (v != v && ds->table)); /* finite, or a missing CSV cell */
        sum += v;
    }
    for (int i = 0; labelled && i < ds->n; i++)
        FUZZ_ASSERT(ds->y[i] >= 0 && ds->y[i] < ds->n_classes);
    /* Gather the first rows as training would. */
    int m = ds->n < 4 ? ds->n : 4, idx[4] = {0, 0, 0, 0};
    cg_real y[4];
    cg_real *x = malloc((size_t)m * (size_t)ds->d * sizeof *x);
    FUZZ_ASSERT(x != NULL);
    for (int i = 0; i < m; i++) idx[i] = ds->n - 1 - i;
    cg_dataset_gather(ds, NULL, idx, m, x, y);
    free(x);
    (void)sum;
    cg_dataset_free(ds);
}

#endif
