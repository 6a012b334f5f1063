// SPDX-License-Identifier: MIT
/* arch.c: an architecture as text ("conv32x3,maxpool2,dense128", the form
 * `--arch` and the run configuration's "model.arch" use) and back. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A positive integer at *p in [1, hi], advancing p; -1 if none. */
static int read_int(const char **p, int hi)
{
    if (**p < '0' || **p > '9') return -1;
    errno = 0;
    char *end;
    long v = strtol(*p, &end, 10);
    if (errno || v < 1 || v > hi) return -1;
    *p = end;
    return (int)v;
}

static int starts(const char **p, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(*p, prefix, n) != 0) return 0;
    *p += n;
    return 1;
}

static int bad(const char *text, const char *why)
{
    return cg_error(CG_ERR_ARG, "'%s' %s", text, why);
}

int cg_layer_parse(const char *text, cg_layer_config *l)
{
    if (!text || !l) return cg_error(CG_ERR_ARG, "cg_layer_parse: NULL argument");
    memset(l, 0, sizeof *l);
    const char *p = text;
    if (starts(&p, "dense")) {
        l->kind = CG_LAYER_DENSE;
        if ((l->size = read_int(&p, 1000000)) < 0 || *p)
            return bad(text, "is not denseN (N units in [1, 1000000])");
        return CG_OK;
    }
    if (starts(&p, "conv")) {
        l->kind = CG_LAYER_CONV;
        l->stride = 1;
        l->padding = CG_PAD_SAME;
        if ((l->size = read_int(&p, 1 << 20)) < 0 || *p++ != 'x' || (l->kernel = read_int(&p, 4096)) < 0)
            return bad(text, "is not convFxK[sS][pP] (F filters, KxK kernel, stride S, padding P; "
                             "e.g. conv32x3, conv64x3s2, conv64x5p0)");
        if (*p == 's' && (++p, (l->stride = read_int(&p, 4096)) < 0))
            return bad(text, "has no stride after 's' (conv64x3s2)");
        if (*p == 'p') {
            p++;
            if (*p == '0' && (p[1] == 0)) {
                l->padding = 0;
                p++;
            } else if ((l->padding = read_int(&p, 4096)) < 0) {
                return bad(text, "has no padding after 'p' (conv64x5p0, conv64x5p2)");
            }
        }
        if (*p) return bad(text, "has something after the conv's kernel, stride and padding");
        return CG_OK;
    }
    int pool = starts(&p, "maxpool") ? CG_LAYER_MAX_POOL : starts(&p, "avgpool") ? CG_LAYER_AVG_POOL : 0;
    if (pool) {
        l->kind = pool;
        if ((l->kernel = read_int(&p, 4096)) < 0)
            return bad(text, "is not maxpoolK / avgpoolK[sS] (KxK window, stride S, default K)");
        l->stride = l->kernel;
        if (*p == 's' && (++p, (l->stride = read_int(&p, 4096)) < 0))
            return bad(text, "has no stride after 's' (maxpool3s2)");
        if (*p) return bad(text, "has something after the pool's window and stride");
        return CG_OK;
    }
    if (starts(&p, "dropout")) {
        l->kind = CG_LAYER_DROPOUT;
        char *end;
        errno = 0;
        l->rate = *p >= '0' && *p <= '9' ? strtod(p, &end) : -1;
        if (l->rate < 0 || errno || *end || !(l->rate < 1))
            return bad(text, "is not dropoutP (rate P in [0, 1), e.g. dropout0.3)");
        return CG_OK;
    }
    if (!strcmp(text, "gap")) l->kind = CG_LAYER_GAP;
    else if (!strcmp(text, "bn")) l->kind = CG_LAYER_BN;
    else if (!strcmp(text, "flatten")) l->kind = CG_LAYER_FLATTEN;
    else
        return bad(text, "is not a layer (denseN, convFxK[sS][pP], maxpoolK[sS], avgpoolK[sS], gap, "
                         "bn, dropoutP, flatten)");
    return CG_OK;
}

int cg_arch_parse(const char *text, cg_layer_config *layers, int max, int *n)
{
    if (!text || !layers || !n) return cg_error(CG_ERR_ARG, "cg_arch_parse: NULL argument");
    *n = 0;
    if (!*text) return cg_error(CG_ERR_ARG, "arch: empty (give layers such as conv32x3,maxpool2,dense128)");
    const char *p = text;
    for (int i = 1;; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char one[64];
        if (len == 0 || len >= sizeof one) {
            *n = 0;
            return cg_error(CG_ERR_ARG, "arch: layer %d '%.*s' is %s", i, (int)(len > 60 ? 60 : len), p,
                            len ? "too long" : "empty");
        }
        if (*n == max) {
            *n = 0;
            return cg_error(CG_ERR_ARG, "arch: more than %d layers", max);
        }
        memcpy(one, p, len);
        one[len] = 0;
        if (cg_layer_parse(one, &layers[*n])) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", cg_last_error());
            *n = 0;
            return cg_error(CG_ERR_ARG, "arch: layer %d %s", i, msg);
        }
        ++*n;
        if (!comma) return CG_OK;
        p = comma + 1;
    }
}

static int format_one(const cg_layer_config *l, char *buf, size_t size)
{
    int k;
    switch (l->kind) {
    case CG_LAYER_DENSE: k = snprintf(buf, size, "dense%d", l->size); break;
    case CG_LAYER_CONV:
        k = snprintf(buf, size, "conv%dx%d", l->size, l->kernel);
        if (l->stride != 1 && k >= 0 && (size_t)k < size) k += snprintf(buf + k, size - (size_t)k, "s%d", l->stride);
        if (l->padding != CG_PAD_SAME && k >= 0 && (size_t)k < size)
            k += snprintf(buf + k, size - (size_t)k, "p%d", l->padding);
        break;
    case CG_LAYER_MAX_POOL:
    case CG_LAYER_AVG_POOL:
        k = snprintf(buf, size, "%s%d", l->kind == CG_LAYER_MAX_POOL ? "maxpool" : "avgpool", l->kernel);
        if (l->stride != l->kernel && k >= 0 && (size_t)k < size)
            k += snprintf(buf + k, size - (size_t)k, "s%d", l->stride);
        break;
    case CG_LAYER_GAP: k = snprintf(buf, size, "gap"); break;
    case CG_LAYER_BN: k = snprintf(buf, size, "bn"); break;
    case CG_LAYER_DROPOUT: k = snprintf(buf, size, "dropout%g", l->rate); break;
    case CG_LAYER_FLATTEN: k = snprintf(buf, size, "flatten"); break;
    default: return -1;
    }
    return k < 0 || (size_t)k >= size ? -1 : k;
}

int cg_arch_format(const cg_layer_config *layers, int n, char *buf, size_t size)
{
    if (!layers || !buf || !size) return cg_error(CG_ERR_ARG, "cg_arch_format: NULL argument");
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) {
            if (used + 1 >= size) return cg_error(CG_ERR_ARG, "cg_arch_format: buffer too small");
            buf[used++] = ',';
            buf[used] = 0;
        }
        int k = format_one(&layers[i], buf + used, size - used);
        if (k < 0) {
            buf[used] = 0;
            return cg_error(CG_ERR_ARG, "cg_arch_format: layer %d: %s", i + 1,
                            layers[i].kind < CG_LAYER_DENSE || layers[i].kind > CG_LAYER_FLATTEN
                                ? "unknown kind" : "buffer too small");
        }
        used += (size_t)k;
    }
    return CG_OK;
}

int cg_arch_needs_image(const cg_layer_config *layers, int n)
{
    for (int i = 0; layers && i < n; i++)
        if (layers[i].kind == CG_LAYER_CONV || layers[i].kind == CG_LAYER_MAX_POOL ||
            layers[i].kind == CG_LAYER_AVG_POOL || layers[i].kind == CG_LAYER_GAP)
            return 1;
    return 0;
}
