/* SPDX-License-Identifier: MIT */
/* test_fuzz_regressions.c: every input saved under fuzz/regressions/<target>/
 * (inputs that once crashed a loader or a metadata reader, found by scripts/fuzz.sh) is replayed
 * through that fuzz target's own checks, so a fixed crash stays fixed in
 * the ordinary suite. An empty directory passes; so does a README. */
#define FUZZ_REPLAY
#include "../fuzz/fuzz_csv.c"
#include "../fuzz/fuzz_idx.c"
#include "../fuzz/fuzz_npy.c"
#include "../fuzz/fuzz_safetensors.c"
#include "../fuzz/fuzz_model_spec.c"
#include "../fuzz/fuzz_run_config.c"

#include "check.h"

#include <dirent.h>


typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

static int read_whole(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return 0;
    }
    *data = buf;
    *size = n;
    return 1;
}

/* Replay every file of dir (but README*); returns how many. */
static int replay(const char *target, fuzz_fn fn)
{
    /* CG_TEST_DATA is <repo>/tests/data, which need not exist: go up from
     * tests/ by name. */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", CG_TEST_DATA);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    size_t used = strlen(dir);
    snprintf(dir + used, sizeof dir - used, "/../fuzz/regressions/%s", target);
    DIR *d = opendir(dir);
    if (!d) return 0; /* no directory: nothing to replay */
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        uint8_t *data = NULL;
        size_t size = 0;
        CHECK(read_whole(path, &data, &size));
        if (!data) continue;
        fprintf(stderr, "replay %s/%s (%zu bytes)\n", target, e->d_name, size);
        fn(data, size); /* aborts on a broken promise; ASan on memory errors */
        free(data);
        count++;
    }
    closedir(d);
    return count;
}

int main(void)
{
    int n = 0;
    n += replay("csv", fuzz_csv_one);
    n += replay("idx", fuzz_idx_one);
    n += replay("npy", fuzz_npy_one);
    n += replay("safetensors", fuzz_safetensors_one);
    n += replay("model_spec", fuzz_model_spec_one);
    n += replay("run_config", fuzz_run_config_one);
    fprintf(stderr, "%d saved input(s) replayed\n", n);
    CHECK_DONE();
}
