/* SPDX-License-Identifier: MIT */
/* csv.c: a small hand-written CSV reader for numeric tables.
 *
 * Comma separated; a cell may be double-quoted ("" inside stands for one
 * quote, and commas and line breaks inside quotes are data); LF, CRLF or CR
 * line ends; blank lines are skipped; a UTF-8 byte-order mark is ignored.
 * Spaces and tabs around a cell are trimmed. Errors carry
 * "file:line:column:" positions (1-based, column = cell number). */
#include "data/readers.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Labels above this are refused: beyond it a float no longer holds every
 * integer, and it is almost surely the wrong column. */
#define CSV_MAX_LABEL (1 << 24)
/* Offending text is quoted up to this many characters. */
#define CSV_SHOW 40

typedef struct csv_reader {
    const char *path;
    const char *p, *end;
    int line;      /* physical line of p, 1-based */
    char *text;    /* the current row's cells, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *cell;  /* offsets of the cells in text */
    int ncells, cell_cap;
    int row_line;  /* line where the current row starts */
} csv_reader;

/* Read all of f (a file or a pipe: no seeking) into a NUL-terminated buffer. */
static int read_all(FILE *f, const char *path, char **data, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = cg_malloc(cap + 1);
    if (!buf) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap > SIZE_MAX / 2 - 1) break;
        char *nb = cg_realloc(buf, cap * 2 + 1);
        if (!nb) {
            cg_free(buf);
            return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        }
        buf = nb;
        cap *= 2;
    }
    if (ferror(f)) {
        cg_free(buf);
        return cg_error(CG_ERR_IO, "file '%s': read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return CG_OK;
}

/* Room for `extra` more bytes of cell text. */
static int reserve(csv_reader *r, size_t extra)
{
    if (r->text_len + extra < r->text_cap) return CG_OK;
    size_t ncap = r->text_cap ? r->text_cap : 256;
    while (ncap <= r->text_len + extra) ncap *= 2;
    char *nt = cg_realloc(r->text, ncap);
    if (!nt) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", r->path);
    r->text = nt;
    r->text_cap = ncap;
    return CG_OK;
}

static int push_char(csv_reader *r, char c)
{
    if (r->text_len + 1 >= r->text_cap) {
        int rc = reserve(r, 1);
        if (rc) return rc;
    }
    r->text[r->text_len++] = c;
    return CG_OK;
}

static int start_cell(csv_reader *r)
{
    if (r->ncells == r->cell_cap) {
        int ncap = r->cell_cap ? r->cell_cap * 2 : 16;
        size_t *nc = cg_realloc(r->cell, (size_t)ncap * sizeof *nc);
        if (!nc) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", r->path);
        r->cell = nc;
        r->cell_cap = ncap;
    }
    r->cell[r->ncells++] = r->text_len;
    return CG_OK;
}

static const char *cell_text(const csv_reader *r, int i) { return r->text + r->cell[i]; }

/* At a line end? Consumes it (CRLF, LF or CR) and counts the line. */
static int eat_newline(csv_reader *r)
{
    if (r->p < r->end && *r->p == '\r') {
        r->p++;
        if (r->p < r->end && *r->p == '\n') r->p++;
        r->line++;
        return 1;
    }
    if (r->p < r->end && *r->p == '\n') {
        r->p++;
        r->line++;
        return 1;
    }
    return 0;
}

/* Read the next non-blank row into r's cells. Returns 1 for a row, 0 at the
 * end of the file, or an error code. */
static int read_row(csv_reader *r)
{
    for (;;) {
        /* Skip blank lines (only spaces or tabs). */
        const char *q = r->p;
        while (q < r->end && (*q == ' ' || *q == '\t')) q++;
        if (q == r->end) {
            r->p = q;
            return 0;
        }
        if (*q == '\r' || *q == '\n') {
            r->p = q;
            eat_newline(r);
            continue;
        }
        break;
    }
    r->row_line = r->line;
    r->ncells = 0;
    r->text_len = 0;
    for (;;) {
        int rc = start_cell(r);
        if (rc) return rc;
        int col = r->ncells;
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t')) r->p++;
        if (r->p < r->end && *r->p == '"') {
            int open_line = r->line;
            r->p++;
            for (;;) {
                if (r->p == r->end)
                    return cg_error(CG_ERR_FORMAT,
                                    "%s:%d:%d: unterminated quoted cell "
                                    "(no closing '\"')", r->path, open_line, col);
                char c = *r->p;
                if (c == '"') {
                    if (r->p + 1 < r->end && r->p[1] == '"') {
                        r->p += 2;
                        if ((rc = push_char(r, '"'))) return rc;
                        continue;
                    }
                    r->p++;
                    break;
                }
                if (c == '\r' || c == '\n') {
                    /* A line break inside quotes is data (kept as '\n'). */
                    eat_newline(r);
                    if ((rc = push_char(r, '\n'))) return rc;
                    continue;
                }
                if ((rc = push_char(r, c))) return rc;
                r->p++;
            }
            while (r->p < r->end && (*r->p == ' ' || *r->p == '\t')) r->p++;
            if (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n')
                return cg_error(CG_ERR_FORMAT,
                                "%s:%d:%d: unexpected text after a closing quote "
                                "(expected ',' or end of line)",
                                r->path, r->line, col);
        } else {
            size_t start = r->text_len;
            const char *q = r->p;
            while (q < r->end && *q != ',' && *q != '\r' && *q != '\n') q++;
            if ((rc = reserve(r, (size_t)(q - r->p) + 1))) return rc;
            memcpy(r->text + r->text_len, r->p, (size_t)(q - r->p));
            r->text_len += (size_t)(q - r->p);
            r->p = q;
            while (r->text_len > start &&
                   (r->text[r->text_len - 1] == ' ' || r->text[r->text_len - 1] == '\t'))
                r->text_len--;
        }
        if ((rc = push_char(r, '\0'))) return rc;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        eat_newline(r);
        return 1;
    }
}

/* A whole cell that strtod reads, possibly NaN or inf. */
static int is_number(const char *s, double *v)
{
    if (!*s) return 0;
    /* Fast path: a plain integer of up to 15 digits is exact in a double. */
    const char *q = s + (*s == '-' || *s == '+');
    int k = 0;
    long long acc = 0;
    while (k < 16 && q[k] >= '0' && q[k] <= '9') acc = acc * 10 + (q[k++] - '0');
    if (k > 0 && k < 16 && q[k] == '\0') {
        if (v) *v = *s == '-' ? -(double)acc : (double)acc;
        return 1;
    }
    char *e;
    errno = 0;
    double x = strtod(s, &e);
    if (*e != '\0') return 0;
    if (v) *v = x;
    return 1;
}

/* Digits only, fitting an int: a column index. */
static int parse_index(const char *s, int *out)
{
    while (*s == ' ' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return 0;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > INT_MAX) return 0;
        s++;
    }
    while (*s == ' ' || *s == '\t') s++;
    if (*s) return 0;
    *out = (int)v;
    return 1;
}

static int shown_len(const char *s)
{
    size_t n = strlen(s);
    return n > CSV_SHOW ? CSV_SHOW : (int)n;
}

static const char *ellipsis(const char *s) { return strlen(s) > CSV_SHOW ? "..." : ""; }

/* Find the label column from the first row (a header or not). */
static int find_label(csv_reader *r, const char *label, int header, int ncols, int *col)
{
    if (!label) {
        *col = ncols - 1;
        return CG_OK;
    }
    if (header)
        for (int i = 0; i < ncols; i++)
            if (strcmp(cell_text(r, i), label) == 0) {
                *col = i;
                return CG_OK;
            }
    int idx;
    if (parse_index(label, &idx)) {
        if (idx >= ncols)
            return cg_error(CG_ERR_ARG,
                            "file '%s': label column %d is out of range (the "
                            "file has %d columns, indices 0..%d)",
                            r->path, idx, ncols, ncols - 1);
        *col = idx;
        return CG_OK;
    }
    if (!header)
        return cg_error(CG_ERR_ARG,
                        "file '%s': no column named '%s' (the file has no header "
                        "row; give the label column as a 0-based index)",
                        r->path, label);
    /* Names fill names[0, room), which leaves space for the ellipsis. */
    char names[256];
    const size_t room = sizeof names - sizeof ", ...";
    size_t used = 0;
    names[0] = '\0';
    for (int i = 0; i < ncols; i++) {
        int w = snprintf(names + used, room - used, "%s'%s'", i ? ", " : "",
                         cell_text(r, i));
        if (w < 0 || (size_t)w >= room - used) {
            strcpy(names + used, i ? ", ..." : "...");
            break;
        }
        used += (size_t)w;
    }
    return cg_error(CG_ERR_ARG, "file '%s': no column named '%s' (columns: %s)",
                    r->path, label, names);
}

static int parse_feature(const csv_reader *r, int i, float *out)
{
    const char *s = cell_text(r, i);
    double v;
    if (!*s)
        return cg_error(CG_ERR_FORMAT, "%s:%d:%d: empty cell (expected a number)",
                        r->path, r->row_line, i + 1);
    if (!is_number(s, &v))
        return cg_error(CG_ERR_FORMAT, "%s:%d:%d: '%.*s%s' is not a number",
                        r->path, r->row_line, i + 1, shown_len(s), s, ellipsis(s));
    float f = (float)v;
    if (!isfinite(v))
        return cg_error(CG_ERR_NUMERIC,
                        "%s:%d:%d: '%.*s%s' is not finite (NaN and infinity are "
                        "not allowed)", r->path, r->row_line, i + 1, shown_len(s),
                        s, ellipsis(s));
    if (!isfinite(f))
        return cg_error(CG_ERR_NUMERIC,
                        "%s:%d:%d: '%.*s%s' is out of float range", r->path,
                        r->row_line, i + 1, shown_len(s), s, ellipsis(s));
    *out = f;
    return CG_OK;
}

static int parse_label(const csv_reader *r, int i, int32_t *out)
{
    const char *s = cell_text(r, i);
    double v;
    if (!*s)
        return cg_error(CG_ERR_FORMAT,
                        "%s:%d:%d: empty label cell (expected a non-negative "
                        "integer)", r->path, r->row_line, i + 1);
    if (!is_number(s, &v) || !isfinite(v) || v < 0 || v != floor(v) ||
        v > CSV_MAX_LABEL)
        return cg_error(CG_ERR_FORMAT,
                        "%s:%d:%d: label '%.*s%s' is not a valid class (labels "
                        "must be integers in 0..%d)", r->path, r->row_line,
                        i + 1, shown_len(s), s, ellipsis(s), CSV_MAX_LABEL);
    *out = (int32_t)v;
    return CG_OK;
}

/* Make room for row `n` (0-based) in x and y. */
static int grow(csv_reader *r, float **x, int32_t **y, int *cap, int n, int d)
{
    if (n < *cap) return CG_OK;
    if (n == INT_MAX)
        return cg_error(CG_ERR_FORMAT, "file '%s': too many rows", r->path);
    int ncap = *cap > INT_MAX / 2 ? INT_MAX : (*cap ? *cap * 2 : 1024);
    if ((size_t)ncap > SIZE_MAX / sizeof(float) / (size_t)d)
        return cg_error(CG_ERR_MEMORY, "file '%s': too large", r->path);
    float *nx = cg_realloc(*x, (size_t)ncap * (size_t)d * sizeof(float));
    if (!nx) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", r->path);
    *x = nx;
    int32_t *ny = cg_realloc(*y, (size_t)ncap * sizeof(int32_t));
    if (!ny) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", r->path);
    *y = ny;
    *cap = ncap;
    return CG_OK;
}

/* Which columns hold features: d == 0 (labelled) takes every column but
 * the label; d > 0 (features only) takes d columns, dropping the label
 * column when there are d + 1. *lcol is -1 when there is none. */
static int choose_columns(csv_reader *r, const char *label, int header, int d,
                          int first_line, int *lcol)
{
    int ncols = r->ncells;
    *lcol = -1;
    if (d > 0) {
        if (ncols == d) return CG_OK;
        if (ncols != d + 1)
            return cg_error(CG_ERR_SHAPE,
                            "%s: rows have %d features, the model takes %d (or %d "
                            "columns with a label column, which is dropped)",
                            r->path, ncols, d, d + 1);
    } else if (ncols < 2) {
        return cg_error(CG_ERR_FORMAT,
                        "file '%s': line %d has %d column; need at least one "
                        "feature column besides the label", r->path, first_line,
                        ncols);
    }
    return find_label(r, label, header, ncols, lcol);
}

static int load(csv_reader *r, const char *label, int has_header, int want_d,
                cg_dataset *out)
{
    int rc = read_row(r);
    if (rc < 0) return rc;
    if (rc == 0)
        return cg_error(CG_ERR_FORMAT, "file '%s': empty file (no rows)", r->path);

    int ncols = r->ncells;
    int first_line = r->row_line;
    int header = has_header;
    if (header < 0) {
        header = 0;
        for (int i = 0; i < ncols; i++) {
            const char *s = cell_text(r, i);
            if (*s && !is_number(s, NULL)) header = 1;
        }
    }
    int lcol;
    if ((rc = choose_columns(r, label, header, want_d, first_line, &lcol))) return rc;
    int d = lcol < 0 ? ncols : ncols - 1;
    int labelled = want_d == 0;

    float *x = NULL;
    int32_t *y = NULL;
    int n = 0, cap = 0;
    if (header) rc = read_row(r);
    else rc = 1; /* the first row is data */
    for (; rc == 1; rc = read_row(r)) {
        if (r->ncells != ncols) {
            rc = cg_error(CG_ERR_FORMAT,
                          "%s:%d: row has %d columns, expected %d (as on line %d)",
                          r->path, r->row_line, r->ncells, ncols, first_line);
            break;
        }
        if ((rc = grow(r, &x, &y, &cap, n, d))) break;
        float *row = x + (size_t)n * (size_t)d;
        for (int i = 0, k = 0; i < ncols && rc == CG_OK; i++) {
            if (i != lcol) rc = parse_feature(r, i, &row[k++]);
            else if (labelled) rc = parse_label(r, i, &y[n]);
        }
        if (rc) break;
        n++;
    }
    if (rc == 0 && n == 0)
        rc = cg_error(CG_ERR_FORMAT, "file '%s': no data rows after the header",
                      r->path);
    if (rc) {
        cg_free(x);
        cg_free(y);
        return rc;
    }
    if (!labelled) {
        cg_free(y);
        y = NULL;
    }
    cg_dataset_take_f32(out, n, d, x, y);
    return CG_OK;
}

int cg_csv_read(const char *name, FILE *stream, const char *label, int has_header, int d,
                cg_dataset *out)
{
    FILE *f = stream;
    if (!f) {
        errno = 0;
        f = fopen(name, "rb");
        if (!f)
            return cg_error(CG_ERR_IO, "file '%s': cannot open (%s)", name,
                            errno ? strerror(errno) : "unknown error");
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_all(f, name, &data, &len);
    if (!stream) fclose(f);
    if (rc) return rc;
    csv_reader r = {0};
    r.path = name;
    r.p = data;
    r.end = data + len;
    r.line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) r.p += 3;
    rc = load(&r, label, has_header, d, out);
    cg_free(r.text);
    cg_free(r.cell);
    cg_free(data);
    return rc;
}

int cg_load_csv(const char *path, const char *label, int has_header, cg_dataset *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return cg_error(CG_ERR_ARG, "cg_load_csv: NULL argument");
    if (has_header < -1 || has_header > 1)
        return cg_error(CG_ERR_ARG,
                        "cg_load_csv: has_header must be 1, 0 or -1 (detect), not %d",
                        has_header);
    return cg_csv_read(path, NULL, label, has_header, 0, out);
}
