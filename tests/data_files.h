/* SPDX-License-Identifier: MIT */
/* data_files.h: what the data-loading tests (test_data_*.c) share to write
 * the files they load: a whole file, big-endian words (IDX), gzip written
 * here with stored (uncompressed) deflate blocks so the tests need no zlib,
 * and the empty data set every failed load must leave. */
#ifndef CG_DATA_FILES_H
#define CG_DATA_FILES_H

#include "cgrad.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define DF_UNUSED __attribute__((unused))
#else
#define DF_UNUSED
#endif

/* A failure here is the harness's, not the loader's: exit 2. */
DF_UNUSED static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

DF_UNUSED static size_t put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

DF_UNUSED static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* data as a gzip file in out (the caller's buffer, n + 18 + 5 bytes per
 * 65535 at least); returns its size. */
DF_UNUSED static size_t make_gzip(const unsigned char *data, size_t n, unsigned char *out)
{
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    size_t o = 10, i = 0;
    memcpy(out, head, 10);
    do {
        size_t len = n - i > 65535 ? 65535 : n - i;
        out[o++] = (unsigned char)(i + len == n); /* BFINAL, BTYPE 00 */
        out[o++] = (unsigned char)(len & 0xff);
        out[o++] = (unsigned char)(len >> 8);
        out[o++] = (unsigned char)(~len & 0xff);
        out[o++] = (unsigned char)((~len >> 8) & 0xff);
        memcpy(out + o, data + i, len);
        o += len;
        i += len;
    } while (i < n);
    uint32_t crc = crc32_of(data, n);
    for (int k = 0; k < 4; k++) out[o++] = (unsigned char)(crc >> (8 * k));
    for (int k = 0; k < 4; k++) out[o++] = (unsigned char)((uint32_t)n >> (8 * k));
    return o;
}

/* What a failed load leaves. */
DF_UNUSED static int zeroed(const cg_dataset *ds)
{
    return ds->n == 0 && ds->d == 0 && !ds->x_u8 && !ds->x_f32 && !ds->y;
}

#endif
