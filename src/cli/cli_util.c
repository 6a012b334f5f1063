/* SPDX-License-Identifier: MIT */
/* cli_util.c: flag parsing and error lines shared by the subcommands. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "cli.h"

#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cgrad: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return CLI_FAIL;
}

int cli_parse_int(const char *flag, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "cgrad: %s: '%s' is not an integer in [%ld, %ld]\n", flag, s, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        fprintf(stderr, "cgrad: %s: '%s' is not a number\n", flag, s);
        return -1;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "cgrad: %s: %g is out of range [%g, %g]\n", flag, v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cgrad %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see `cgrad %s --help`)\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

char *cli_stored_flag(const char *extra, const char *flag)
{
    cJSON *o = extra ? cJSON_Parse(extra) : NULL;
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(o, "argv");
    const char *value = NULL;
    int n = cJSON_GetArraySize(argv);
    for (int i = 0; i + 1 < n; i++) {
        const cJSON *f = cJSON_GetArrayItem(argv, i), *v = cJSON_GetArrayItem(argv, i + 1);
        if (cJSON_IsString(f) && cJSON_IsString(v) && strcmp(f->valuestring, flag) == 0)
            value = v->valuestring;
    }
    char *copy = value ? strdup(value) : NULL;
    cJSON_Delete(o);
    return copy;
}

/* mkdir -p. */
int cli_make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
