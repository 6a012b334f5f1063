/* SPDX-License-Identifier: MIT */
/* load.c: loading a data set by name (cg_load_dataset): "fashion-mnist",
 * a directory of IDX files, or a .csv / .npy file, dispatched to the
 * readers. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "data/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Find dir/<prefix>-<kind>-idx<k>-ubyte under its usual spellings (the
 * original MNIST site also has "<kind>.idx<k>-ubyte"), plain or .gz. */
static int find_idx(const char *dir, const char *prefix, const char *kind, int k,
                    char *out, size_t size)
{
    static const char *const forms[] = {"%s/%s-%s-idx%d-ubyte.gz",
                                        "%s/%s-%s-idx%d-ubyte",
                                        "%s/%s-%s.idx%d-ubyte.gz",
                                        "%s/%s-%s.idx%d-ubyte"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        int w = snprintf(out, size, forms[i], dir, prefix, kind, k);
        if (w > 0 && (size_t)w < size && is_file(out)) return 1;
    }
    snprintf(out, size, "%s/%s-%s-idx%d-ubyte[.gz]", dir, prefix, kind, k);
    return 0;
}

static int load_idx_dir(const char *dir, int train, cg_dataset *out)
{
    const char *prefix = train ? "train" : "t10k";
    char images[4096], labels[4096];
    if (!find_idx(dir, prefix, "images", 3, images, sizeof images))
        return cg_error(CG_ERR_IO,
                        "file '%s': not found (directory '%s' has no MNIST-style "
                        "%s images file)", images, dir, prefix);
    if (!find_idx(dir, prefix, "labels", 1, labels, sizeof labels))
        return cg_error(CG_ERR_IO,
                        "file '%s': not found (directory '%s' has no MNIST-style "
                        "%s labels file)", labels, dir, prefix);
    return cg_load_idx(images, labels, out);
}

int cg_load_dataset(const char *spec, const char *label, int train, cg_dataset *out)
{
    cg_csv_options o;
    cg_csv_options_init(&o);
    o.label = label;
    return cg_load_dataset_opts(spec, train, &o, out);
}

int cg_load_dataset_opts(const char *spec, int train, const cg_csv_options *o, cg_dataset *out)
{
    cg_csv_options dflt;
    if (!o) {
        cg_csv_options_init(&dflt);
        o = &dflt;
    }
    const char *label = o->label;
    if (out) memset(out, 0, sizeof *out);
    if (!spec || !out) return cg_error(CG_ERR_ARG, "cg_load_dataset: NULL argument");
    if (!*spec) return cg_error(CG_ERR_ARG, "cg_load_dataset: empty data set name");

    if (strcmp(spec, "fashion-mnist") == 0) {
        if (!is_dir(FASHION_MNIST_DIR))
            return cg_error(CG_ERR_IO,
                            "data set 'fashion-mnist': directory '%s' not found "
                            "(install Debian's dataset-fashion-mnist package)",
                            FASHION_MNIST_DIR);
        return load_idx_dir(FASHION_MNIST_DIR, train, out);
    }
    if (is_dir(spec)) return load_idx_dir(spec, train, out);
    if (cg_ends_with(spec, ".csv")) return cg_load_csv_opts(spec, o, out);
    if (cg_ends_with(spec, ".npy")) return cg_load_npy(spec, label, out);
    struct stat st;
    if (stat(spec, &st) != 0)
        return cg_error(CG_ERR_IO,
                        "file '%s': not found (%s); expected 'fashion-mnist', a "
                        "directory of MNIST-style IDX files, or a .csv or .npy "
                        "file", spec, strerror(errno));
    return cg_error(CG_ERR_ARG,
                    "file '%s': unknown data set format (expected 'fashion-mnist', "
                    "a directory of MNIST-style IDX files, or a file ending in "
                    ".csv or .npy)", spec);
}
