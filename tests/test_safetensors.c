/* SPDX-License-Identifier: MIT */
/* test_safetensors.c: the safetensors reader and writer: round trip, the
 * exact bytes of a tiny file, malformed headers, dtype decoding, shape
 * mismatch, and atomic saves that fail for real (a file size limit, a
 * missing or read-only directory).
 *
 * Leaves st_roundtrip.safetensors in the working directory for
 * test_safetensors_py.sh to read with numpy. With arguments
 * "--check-py FILE" it only checks FILE, written by that script's numpy
 * writer (F64, F16, I32, I64, U8 at unaligned offsets). */
#define _POSIX_C_SOURCE 200809L /* fork, setrlimit, mkdir, ... */

#include "cgrad.h"
#include "check.h"
#include "io/safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char buf[1 << 16];

/* The whole of path into a malloc'd buffer; *n its size; NULL if missing. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 12, len = 0, got;
    unsigned char *p = malloc(cap);
    while (p && (got = fread(p + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) p = realloc(p, cap *= 2);
    }
    fclose(f);
    *n = len;
    return p;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* A safetensors image in buf: header text hdr (its length as N), then
 * data_len zero bytes. Returns the size. */
static size_t mk(const char *hdr, size_t data_len)
{
    size_t n = strlen(hdr);
    put_le64(buf, n);
    memcpy(buf + 8, hdr, n);
    memset(buf + 8 + n, 0, data_len);
    return 8 + n + data_len;
}

/* Parsing buf[0..len) fails with CG_ERR_FORMAT, a message starting "fuzz: "
 * and containing needle, and leaves f empty. */
static void expect_bad_buf(size_t len, const char *needle, const char *label, int line)
{
    st_file f;
    memset(&f, 0xab, sizeof f);
    int rc = st_parse(buf, len, "fuzz", &f);
    const char *msg = cg_last_error();
    if (rc != CG_ERR_FORMAT || strncmp(msg, "fuzz: ", 6) != 0 || !strstr(msg, needle) ||
        f.buf || f.tensors || f.n_tensors || f.meta_keys || f.n_meta) {
        fprintf(stderr, "%s:%d: malformed case %s: rc %d, message \"%s\" (want \"%s\")\n",
                __FILE__, line, label, rc, msg, needle);
        check_failures++;
    }
    st_free(&f);
}
#define BAD(hdr, data_len, needle) expect_bad_buf(mk(hdr, data_len), needle, hdr, __LINE__)

static void test_malformed(void)
{
    /* Framing. */
    memcpy(buf, "\x05\0\0\0\0", 5);
    expect_bad_buf(5, "too short", "5 bytes", __LINE__);
    expect_bad_buf(0, "too short", "0 bytes", __LINE__);
    put_le64(buf, 100);
    memcpy(buf + 8, "{}", 2);
    expect_bad_buf(10, "beyond the end", "N past the file", __LINE__);
    put_le64(buf, 200000000);
    expect_bad_buf(10, "limit", "N > 100 MB", __LINE__);
    put_le64(buf, UINT64_MAX);
    expect_bad_buf(10, "limit", "N = 2^64-1", __LINE__);
    put_le64(buf, 0);
    expect_bad_buf(8, "empty", "N = 0", __LINE__);
    put_le64(buf, 4);
    memcpy(buf + 8, "{}\0 ", 4);
    expect_bad_buf(12, "NUL", "NUL in header", __LINE__);

    /* JSON. */
    BAD("{\"a\":", 0, "not valid JSON");
    BAD("{} x", 0, "not valid JSON");
    BAD("[1, 2]", 0, "not a JSON object");
    BAD("\"str\"", 0, "not a JSON object");
    BAD("{\"a\":1}", 0, "'a': entry is a number, not an object");
    BAD("{\"a\":[]}", 0, "not an object");

    /* Fields. */
    BAD("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'a': missing dtype");
    BAD("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'a': missing shape");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'a': missing data_offsets");
    BAD("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
        "duplicate field");
    BAD("{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is a number");
    BAD("{\"a\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown dtype 'F8'");
    BAD("{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype");

    /* Shapes. */
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":\"x\",\"data_offsets\":[0,4]}}", 4, "shape is a string");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,4]}}", 4, "integer");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
        "dim 0 is a string");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,8]}}", 8, "dim 0 is null");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
        "more than 8");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1e17],\"data_offsets\":[0,1]}}", 1, "integer");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
        "\"data_offsets\":[0,1]}}", 1, "overflows");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,1]}}",
        1, "overflows");
    BAD("{\"a\":{\"dtype\":\"F64\",\"shape\":[4503599627370496,4503599627370496],"
        "\"data_offsets\":[0,1]}}", 1, "overflows");

    /* Offsets. */
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "array of 2");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "array of 2");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"b\":0}}}", 4, "array of 2");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4,
        "not non-negative integers");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 4,
        "not non-negative integers");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
        "not non-negative integers");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]}}", 4,
        "not non-negative integers");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "begin 4 > end 0");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
        "beyond the data section");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "span 4 bytes");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,8]}}", 8, "span 8 bytes");
    BAD("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
        "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}", 4, "overlap");

    /* Names and metadata. */
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
        "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
        "'a': duplicate tensor name");
    BAD("{\"__metadata__\":\"x\"}", 0, "__metadata__ is a string, not an object");
    BAD("{\"__metadata__\":{\"k\":1}}", 0, "value of 'k' is a number, not a string");
    BAD("{\"__metadata__\":{\"k\":null}}", 0, "not a string");
    BAD("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0, "duplicate key 'k'");
    BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate __metadata__");

    /* Valid odds and ends: padding, zero-size tensors sharing an offset,
     * unknown fields, no tensors at all, tensors not in offset order. */
    size_t n = mk("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,1],\"x\":[]},"
                  "\"b\":{\"dtype\":\"U8\",\"shape\":[0,5],\"data_offsets\":[1,1]},"
                  "\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]},"
                  "\"d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}   ", 2);
    st_file f;
    CHECK(st_parse(buf, n, "ok", &f) == CG_OK);
    CHECK(f.n_tensors == 4 && f.n_meta == 0);
    st_free(&f);
    CHECK(st_parse(buf, mk("{}", 0), "ok", &f) == CG_OK);
    CHECK(f.n_tensors == 0);
    st_free(&f);
    CHECK(st_parse(buf, mk("  {\"__metadata__\":{}}\t\n ", 3), "ok", &f) == CG_OK);
    st_free(&f);
}

/* Exact bytes: one F32 tensor [1, -2] and one metadata pair. */
static void test_exact_bytes(void)
{
    static const char hdr[] =
        "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
        "\"data_offsets\":[0,8]}} "; /* 79 characters + 1 space of padding */
    unsigned char want[8 + 80 + 8];
    CHECK(sizeof hdr - 1 == 80);
    memset(want, 0, 8);
    want[0] = 80;
    memcpy(want + 8, hdr, 80);
    static const unsigned char data[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0};
    memcpy(want + 88, data, 8);

    const float v[2] = {1.0f, -2.0f};
    st_out t = {.name = "a", .ndim = 1, .shape = {2}, .f32 = v};
    const char *keys[] = {"k"}, *vals[] = {"v"};
    CHECK(st_save("st_exact.safetensors", &t, 1, keys, vals, 1) == CG_OK);
    size_t n = 0;
    unsigned char *got = slurp("st_exact.safetensors", &n);
    CHECK(got && n == sizeof want && memcmp(got, want, sizeof want) == 0);
    if (got && n == sizeof want && memcmp(got, want, sizeof want) != 0)
        fprintf(stderr, "got header: %.*s\n", (int)(n > 88 ? 80 : 0), (const char *)got + 8);
    free(got);

#ifndef CG_DOUBLE
    /* cg_real values go out as F32 too: the same bytes. */
    const cg_real r[2] = {1, -2};
    st_out t2 = {.name = "a", .ndim = 1, .shape = {2}, .data = r};
    CHECK(st_save("st_exact.safetensors", &t2, 1, keys, vals, 1) == CG_OK);
    got = slurp("st_exact.safetensors", &n);
    CHECK(got && n == sizeof want && memcmp(got, want, sizeof want) == 0);
    free(got);
#endif
    remove("st_exact.safetensors");
}

/* Several tensors out and back; the file stays for the numpy check. */
static void test_roundtrip(void)
{
    cg_real w[6], b[3] = {1, 2, 3}, s = 3.5;
    for (int i = 0; i < 6; i++) w[i] = (cg_real)(i * 0.25 - 0.5);
    const float f[4] = {1.5f, -0.125f, 65504.0f, 1.0f / 1048576};
    st_out t[5] = {
        {.name = "dense1.weight", .ndim = 2, .shape = {2, 3}, .data = w},
        {.name = "dense1.bias", .ndim = 1, .shape = {3}, .data = b},
        {.name = "scalar", .ndim = 0, .data = &s},
        {.name = "empty", .ndim = 2, .shape = {0, 4}, .data = NULL},
        {.name = "f32", .ndim = 3, .shape = {1, 2, 2}, .f32 = f},
    };
    const char *keys[] = {"format", "model", "optimizer"};
    const char *vals[] = {"cgrad-checkpoint-1", "{\"layers\": [\"dense\", 3], \"q\": \"\\\"\"}",
                          "sgd \xc3\xa9t\xc3\xa9"};
    const char *path = "st_roundtrip.safetensors";
    CHECK(st_save(path, t, 5, keys, vals, 3) == CG_OK);
    /* Saving again replaces the file. */
    CHECK(st_save(path, t, 5, keys, vals, 3) == CG_OK);

    st_file sf;
    CHECK(st_load(path, &sf) == CG_OK);
    CHECK(sf.n_tensors == 5 && sf.n_meta == 3);
    CHECK((sf.data - sf.buf) % 8 == 0);
    CHECK(sf.data_len == (6 + 3 + 1 + 0) * sizeof(cg_real) + 4 * 4);
    for (int i = 0; i < sf.n_tensors && i < 5; i++) {
        const st_tensor *q = &sf.tensors[i];
        CHECK(strcmp(q->name, t[i].name) == 0);
        CHECK(q->ndim == t[i].ndim);
        for (int d = 0; d < q->ndim; d++) CHECK(q->shape[d] == t[i].shape[d]);
        CHECK(q->dtype == (i == 4 || sizeof(cg_real) == 4 ? ST_F32 : ST_F64));
    }
    for (int i = 0; i < 3 && i < sf.n_meta; i++) {
        CHECK(strcmp(sf.meta_keys[i], keys[i]) == 0);
        CHECK(strcmp(sf.meta_values[i], vals[i]) == 0);
        CHECK(st_meta(&sf, keys[i]) && strcmp(st_meta(&sf, keys[i]), vals[i]) == 0);
    }
    CHECK(st_meta(&sf, "nope") == NULL);
    CHECK(st_find(&sf, "nope") == NULL);

    cg_real out[6];
    const st_tensor *q = st_find(&sf, "dense1.weight");
    CHECK(q && st_read(&sf, q, out, 6) == CG_OK);
    for (int i = 0; i < 6; i++) CHECK(out[i] == w[i]);
    q = st_find(&sf, "dense1.bias");
    CHECK(q && st_read(&sf, q, out, 3) == CG_OK);
    for (int i = 0; i < 3; i++) CHECK(out[i] == b[i]);
    q = st_find(&sf, "scalar");
    CHECK(q && q->ndim == 0 && q->count == 1 && st_read(&sf, q, out, 1) == CG_OK && out[0] == 3.5);
    q = st_find(&sf, "empty");
    CHECK(q && q->count == 0 && q->begin == q->end && st_read(&sf, q, NULL, 0) == CG_OK);
    q = st_find(&sf, "f32");
    CHECK(q && st_read(&sf, q, out, 4) == CG_OK);
    for (int i = 0; i < 4; i++) CHECK(out[i] == (cg_real)f[i]);

    /* Shape mismatch. */
    q = st_find(&sf, "dense1.weight");
    CHECK(st_read(&sf, q, out, 5) == CG_ERR_SHAPE);
    CHECK_ERROR("dense1.weight");
    CHECK_ERROR("[2, 3]");
    CHECK_ERROR("5");
    st_free(&sf);
    st_free(&sf); /* twice is harmless */

    /* No temporary file was left behind. */
    DIR *dir = opendir(".");
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (strncmp(de->d_name, "st_roundtrip.safetensors.tmp", 28) == 0) {
            fprintf(stderr, "leftover temporary file %s\n", de->d_name);
            check_failures++;
        }
    if (dir) closedir(dir);

    /* Writer argument checks. */
    st_out dup[2] = {t[1], t[1]};
    CHECK(st_save("st_bad.safetensors", dup, 2, NULL, NULL, 0) == CG_ERR_ARG);
    CHECK_ERROR("duplicate");
    st_out neg = {.name = "n", .ndim = 1, .shape = {-1}, .data = b};
    CHECK(st_save("st_bad.safetensors", &neg, 1, NULL, NULL, 0) == CG_ERR_ARG);
    st_out nodata = {.name = "n", .ndim = 1, .shape = {2}};
    CHECK(st_save("st_bad.safetensors", &nodata, 1, NULL, NULL, 0) == CG_ERR_ARG);
    st_out meta = {.name = "__metadata__", .ndim = 0, .data = b};
    CHECK(st_save("st_bad.safetensors", &meta, 1, NULL, NULL, 0) == CG_ERR_ARG);
    CHECK(access("st_bad.safetensors", F_OK) != 0);
    CHECK(st_load("st_no_such_file.safetensors", &sf) == CG_ERR_IO);
    CHECK_ERROR("st_no_such_file.safetensors");
}

/* Append a tensor to the image being built in buf: header text in hdr,
 * data at *data_len. */
static void add(char *hdr, size_t *data_len, const char *name, const char *dtype,
                const char *shape, const unsigned char *bytes, size_t n)
{
    size_t h = strlen(hdr);
    snprintf(hdr + h, 4096 - h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%zu,%zu]}",
             h > 1 ? "," : "", name, dtype, shape, *data_len, *data_len + n);
    memcpy(buf + 4096 + *data_len, bytes, n);
    *data_len += n;
}

static void test_decode(void)
{
    char hdr[4096] = "{";
    size_t dl = 0;
    /* U8 first, 3 bytes: everything after it is unaligned. */
    add(hdr, &dl, "u8", "U8", "[3]", (const unsigned char *)"\x00\xff\x07", 3);
    add(hdr, &dl, "f16", "F16", "[7]",
        (const unsigned char *)"\x00\x3c\x00\xc0\xff\x7b\x01\x00\x00\x02\x00\x7c\x00\x80", 14);
    add(hdr, &dl, "bf16", "BF16", "[3]", (const unsigned char *)"\x80\x3f\x20\xc0\x49\x40", 6);
    /* 0.1 = 0x3FB999999999999A, -2.5 = 0xC004000000000000 */
    add(hdr, &dl, "f64", "F64", "[2]",
        (const unsigned char *)"\x9a\x99\x99\x99\x99\x99\xb9\x3f\x00\x00\x00\x00\x00\x00\x04\xc0",
        16);
    add(hdr, &dl, "i32", "I32", "[3]",
        (const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x00\x00\x80", 12);
    add(hdr, &dl, "i64", "I64", "[2]",
        (const unsigned char *)"\xfb\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x01\x00\x00",
        16);
    add(hdr, &dl, "i8", "I8", "[3]", (const unsigned char *)"\x80\x7f\xff", 3);
    add(hdr, &dl, "f32", "F32", "[1,1]", (const unsigned char *)"\x00\x00\xc0\x3f", 4);
    strcat(hdr, "}");
    size_t hn = strlen(hdr);
    memmove(buf + 8 + hn, buf + 4096, dl);
    put_le64(buf, hn);
    memcpy(buf + 8, hdr, hn);

    st_file f;
    CHECK(st_parse(buf, 8 + hn + dl, "decode", &f) == CG_OK);
    cg_real v[8];
    const st_tensor *t;
    CHECK((t = st_find(&f, "u8")) && st_read(&f, t, v, 3) == CG_OK);
    CHECK(v[0] == 0 && v[1] == 255 && v[2] == 7);
    CHECK((t = st_find(&f, "f16")) && st_read(&f, t, v, 7) == CG_OK);
    CHECK(v[0] == 1 && v[1] == -2 && v[2] == 65504);
    CHECK(v[3] == (cg_real)ldexp(1, -24)); /* smallest subnormal */
    CHECK(v[4] == (cg_real)ldexp(1, -15)); /* subnormal 0x0200 */
    CHECK(isinf(v[5]) && v[5] > 0);
    CHECK(v[6] == 0 && signbit(v[6]));
    CHECK((t = st_find(&f, "bf16")) && st_read(&f, t, v, 3) == CG_OK);
    CHECK(v[0] == 1 && v[1] == -2.5 && v[2] == (cg_real)3.140625);
    CHECK((t = st_find(&f, "f64")) && st_read(&f, t, v, 2) == CG_OK);
    CHECK(v[0] == (cg_real)0.1 && v[1] == -2.5);
    CHECK((t = st_find(&f, "i32")) && st_read(&f, t, v, 3) == CG_OK);
    CHECK(v[0] == -1 && v[1] == (cg_real)2147483647.0 && v[2] == (cg_real)-2147483648.0);
    CHECK((t = st_find(&f, "i64")) && st_read(&f, t, v, 2) == CG_OK);
    CHECK(v[0] == -5 && v[1] == (cg_real)1099511627776.0);
    CHECK((t = st_find(&f, "i8")) && st_read(&f, t, v, 3) == CG_OK);
    CHECK(v[0] == -128 && v[1] == 127 && v[2] == -1);
    CHECK((t = st_find(&f, "f32")) && t->ndim == 2 && st_read(&f, t, v, 1) == CG_OK);
    CHECK(v[0] == 1.5);
    CHECK(st_read(&f, t, v, 2) == CG_ERR_SHAPE);
    CHECK_ERROR("'f32'");
    st_free(&f);
}

/* The .tmp.* files next to base in dir. */
static int count_temps(const char *dirpath, const char *base)
{
    int n = 0;
    size_t bl = strlen(base);
    DIR *dir = opendir(dirpath);
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (strncmp(de->d_name, base, bl) == 0 && strncmp(de->d_name + bl, ".tmp.", 5) == 0) n++;
    if (dir) closedir(dir);
    return n;
}

static void test_atomic(void)
{
    const char *dir = "st_atomic_dir", *path = "st_atomic_dir/model.safetensors";
    remove(path);
    rmdir(dir);
    CHECK(mkdir(dir, 0755) == 0);
    cg_real small[4] = {1, 2, 3, 4};
    st_out t = {.name = "w", .ndim = 1, .shape = {4}, .data = small};
    CHECK(st_save(path, &t, 1, NULL, NULL, 0) == CG_OK);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(path, &n0);
    CHECK(before != NULL);

    /* A save that fails part way: the file size limit lets the first 4 KB
     * through, then write() gives EFBIG (SIGXFSZ ignored). */
    enum { BIG = 100000 };
    cg_real *big = calloc(BIG, sizeof *big);
    st_out tb = {.name = "w", .ndim = 1, .shape = {BIG}, .data = big};
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {4096, 4096};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(90);
        int rc = st_save(path, &tb, 1, NULL, NULL, 0);
        if (rc == CG_ERR_IO && (!strstr(cg_last_error(), path) ||
                                !strstr(cg_last_error(), strerror(EFBIG))))
            _exit(91);
        _exit(-rc);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    if (WEXITSTATUS(status) != -CG_ERR_IO)
        fprintf(stderr, "child exited %d (want %d)\n", WEXITSTATUS(status), -CG_ERR_IO);
    CHECK(WEXITSTATUS(status) == -CG_ERR_IO);
    unsigned char *after = slurp(path, &n1);
    CHECK(after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(count_temps(dir, "model.safetensors") == 0);
    free(after);
    free(before);

    /* And without the limit the same save goes through. */
    CHECK(st_save(path, &tb, 1, NULL, NULL, 0) == CG_OK);
    st_file f;
    CHECK(st_load(path, &f) == CG_OK && f.n_tensors == 1 && f.tensors[0].count == BIG);
    st_free(&f);
    free(big);
    CHECK(count_temps(dir, "model.safetensors") == 0);

    /* A directory that does not exist. */
    CHECK(st_save("st_no_such_dir/m.safetensors", &t, 1, NULL, NULL, 0) == CG_ERR_IO);
    CHECK_ERROR("st_no_such_dir/m.safetensors");
    CHECK_ERROR(strerror(ENOENT));

    /* A read-only directory (root ignores permissions: skipped). */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0555) == 0);
        CHECK(st_save(path, &t, 1, NULL, NULL, 0) == CG_ERR_IO);
        CHECK_ERROR(path);
        CHECK_ERROR(strerror(EACCES));
        CHECK(chmod(dir, 0755) == 0);
        unsigned char *still = slurp(path, &n1);
        CHECK(still && n1 > (size_t)BIG);
        free(still);
    } else {
        printf("read-only directory check skipped (running as root)\n");
    }
    remove(path);
    rmdir(dir);
}

/* The file written by test_safetensors_py.sh's numpy writer. */
static int check_py(const char *path)
{
    st_file f;
    CHECK(st_load(path, &f) == CG_OK);
    if (check_failures) {
        fprintf(stderr, "%s\n", cg_last_error());
        CHECK_DONE();
    }
    static const struct {
        const char *name;
        int dtype, ndim;
        int64_t shape[2];
        double v[4];
    } want[] = {
        {"u8", ST_U8, 1, {3}, {3, 250, 0}},
        {"f64", ST_F64, 2, {2, 2}, {0.1, -2.5, 1e10, 3}},
        {"f16", ST_F16, 1, {3}, {1, -0.5, 65504}},
        {"i32", ST_I32, 1, {3}, {-7, 0, 123456}},
        {"i64", ST_I64, 0, {0}, {-9}},
    };
    CHECK(f.n_tensors == 5);
    for (int i = 0; i < 5; i++) {
        const st_tensor *t = st_find(&f, want[i].name);
        CHECK(t && t->dtype == want[i].dtype && t->ndim == want[i].ndim);
        if (!t) continue;
        cg_real v[4];
        CHECK(st_read(&f, t, v, t->count) == CG_OK && t->count <= 4);
        for (size_t k = 0; k < t->count && k < 4; k++) CHECK(v[k] == (cg_real)want[i].v[k]);
    }
    const char *m = st_meta(&f, "source");
    CHECK(m && strcmp(m, "numpy") == 0);
    st_free(&f);
    CHECK_DONE();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--check-py") == 0) return check_py(argv[2]);
    test_malformed();
    test_exact_bytes();
    test_roundtrip();
    test_decode();
    test_atomic();
    CHECK_DONE();
}
