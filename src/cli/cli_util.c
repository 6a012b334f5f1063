/* SPDX-License-Identifier: MIT */
/* cli_util.c: flag parsing and error lines shared by the subcommands. */
#define _POSIX_C_SOURCE 200809L /* strdup, clock_gettime */
#include "cli.h"

/* The MPI job this process belongs to (NULL: not started by mpirun). */
cg_dist *cli_dist;

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* The CLI parses its flags on one thread, once: one buffer will do. */
static char bad_value[600];

int cli_bad_value(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bad_value, sizeof bad_value, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cli_take_bad_value(void)
{
    static char taken[sizeof bad_value];
    memcpy(taken, bad_value, sizeof bad_value);
    bad_value[0] = 0;
    return taken;
}

int cli_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return cli_bad_value("'%s' is not an integer in [%ld, %ld]", s, lo, hi);
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) return cli_bad_value("'%s' is not a number", s);
    if (v < lo || v > hi) return cli_bad_value("%g is out of range [%g, %g]", v, lo, hi);
    *out = v;
    return 0;
}

int cli_model_precision(const char *cmd, cg_model *m, int precision)
{
    char said[300];
    if (precision == CG_PRECISION_AUTO) {
        precision = cg_precision_auto(cg_model_graph(m), said, sizeof said);
        fprintf(stderr, "cgrad %s: %s\n", cmd, said);
    }
    if (cg_graph_set_precision(cg_model_graph(m), precision)) {
        const char *msg = cg_last_error();
        if (!strncmp(msg, "precision ", 10)) msg += 10; /* "--precision: bf16: why" */
        return cli_usage(cmd, "--precision: %s", msg);
    }
    return CLI_OK;
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

/* The library's cg_seconds is internal; the CLI uses the public API only. */
double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
