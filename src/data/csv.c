/* SPDX-License-Identifier: MIT */
/* csv.c: CSV tables as float features (cg_load_csv_opts and the readers
 * above it). Rows come from csv_lex.c; this file decides what the cells
 * mean and encodes them:
 *
 *  - learning (no table given), two passes over the file: the first
 *    classifies every cell (number, text, missing), counts rows, collects
 *    the distinct text values and finds every error it can (ragged rows,
 *    numbers out of float range, labels that are no class, columns that
 *    mix numbers and text or hold nothing); the header is then decided and
 *    the table (table.h) built. Only then is the matrix allocated, and the
 *    second pass fills it.
 *  - applying a table (test sets, inputs): a pass to count rows and decide
 *    the header, a pass to fill; a class or category the table does not
 *    know is an error naming it.
 *
 * Missing cells become NaN (the normaliser fills them); a text column's
 * missing cell is NaN in each of its one-hot features. Errors carry
 * "file:line:column:" positions (1-based, column = cell number). */
#include "data/readers.h"
#include "data/csv_lex.h"
#include "data/table.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Offending text is quoted up to this many characters. */
#define CSV_SHOW 40

void cg_csv_options_init(cg_csv_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->has_header = -1;
}

enum { CELL_MISSING, CELL_NUMBER, CELL_TEXT };

/* A whole cell that strtod reads (inf included: out of range later). */
static int is_number(const char *s, double *v)
{
    if (!*s) return 0;
    /* Fast path: a plain integer of up to 15 digits is exact in a double. */
    const char *q = s + (*s == '-' || *s == '+');
    int k = 0;
    long long acc = 0;
    while (k < 16 && q[k] >= '0' && q[k] <= '9') acc = acc * 10 + (q[k++] - '0');
    if (k > 0 && k < 16 && q[k] == '\0') {
        *v = *s == '-' ? -(double)acc : (double)acc;
        return 1;
    }
    char *e;
    errno = 0;
    double x = strtod(s, &e);
    if (*e != '\0') return 0;
    *v = x;
    return 1;
}

/* The first pass only needs to know that a cell is a number a float
 * holds, which its syntax tells without strtod (half the reading time):
 * 1 for a plain decimal ([+-]digits[.digits][e[+-]digits]) well inside
 * float's range, with *integer set when it has no fraction or exponent;
 * 0 when strtod must decide. */
static int plain_decimal(const char *s, int *integer)
{
    const char *p = s + (*s == '-' || *s == '+');
    int digits = 0, lead = 0, seen_nonzero = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        seen_nonzero |= *p != '0';
        lead += seen_nonzero;
    }
    *integer = 1;
    if (*p == '.') {
        *integer = 0;
        for (p++; *p >= '0' && *p <= '9'; p++) digits++;
    }
    if (!digits) return 0;
    if (*p == 'e' || *p == 'E') {
        *integer = 0;
        p++;
        int sign = *p == '-' ? -1 : 1, e = 0, ed = 0;
        p += *p == '-' || *p == '+';
        for (; *p >= '0' && *p <= '9' && ed < 4; p++, ed++) e = e * 10 + (*p - '0');
        if (!ed || *p) return 0;
        if (lead + sign * e > 30 || sign * e < -30) return 0; /* near the range's ends: strtod */
        return 1;
    }
    return !*p && lead <= 30;
}

/* Missing: empty, NA, N/A, NaN (any case, signed too), ?. */
static int classify(const char *s, double *v)
{
    if (!*s || !strcmp(s, "?") || !strcasecmp(s, "NA") || !strcasecmp(s, "N/A")) return CELL_MISSING;
    if (!is_number(s, v)) return CELL_TEXT;
    return isnan(*v) ? CELL_MISSING : CELL_NUMBER;
}

static int shown_len(const char *s)
{
    size_t n = strlen(s);
    return n > CSV_SHOW ? CSV_SHOW : (int)n;
}

static const char *ellipsis(const char *s) { return strlen(s) > CSV_SHOW ? "..." : ""; }

/* A number a float holds, else an error at (line, col). */
static int check_float(const csv_lex *r, long line, int col, const char *s, double v)
{
    if (!isfinite(v))
        return cg_error(CG_ERR_NUMERIC, "%s:%ld:%d: '%.*s%s' is not finite (infinity is not allowed)",
                        r->path, line, col, shown_len(s), s, ellipsis(s));
    if (!isfinite((float)v))
        return cg_error(CG_ERR_NUMERIC, "%s:%ld:%d: '%.*s%s' is out of float range", r->path, line, col,
                        shown_len(s), s, ellipsis(s));
    return CG_OK;
}

static int valid_index(double v) { return v >= 0 && v == floor(v) && v < CG_TABLE_MAX_CLASSES; }

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

/* The label column from the first row's names (header or not). */
static int find_label(const char *path, const char *label, char *const *names, int header, int ncols,
                      int *col)
{
    if (!label) {
        *col = ncols - 1;
        return CG_OK;
    }
    if (header)
        for (int i = 0; i < ncols; i++)
            if (strcmp(names[i], label) == 0) {
                *col = i;
                return CG_OK;
            }
    int idx;
    if (parse_index(label, &idx)) {
        if (idx >= ncols)
            return cg_error(CG_ERR_ARG, "file '%s': label column %d is out of range (the file has %d "
                            "columns, indices 0..%d)", path, idx, ncols, ncols - 1);
        *col = idx;
        return CG_OK;
    }
    if (!header)
        return cg_error(CG_ERR_ARG, "file '%s': no column named '%s' (the file has no header row; "
                        "give the label column as a 0-based index)", path, label);
    /* Names fill names[0, room), which leaves space for the ellipsis. */
    char list[256];
    const size_t room = sizeof list - sizeof ", ...";
    size_t used = 0;
    list[0] = '\0';
    for (int i = 0; i < ncols; i++) {
        int w = snprintf(list + used, room - used, "%s'%s'", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= room - used) {
            strcpy(list + used, i ? ", ..." : "...");
            break;
        }
        used += (size_t)w;
    }
    return cg_error(CG_ERR_ARG, "file '%s': no column named '%s' (columns: %s)", path, label, list);
}

/* Numeric targets (cg_csv_options.targets): each comma-separated name or
 * index of `label` (NULL: the last column) marks its column. */
static int find_targets(const char *path, const char *label, char *const *names, int header, cg_table *t)
{
    char item[CG_NAME_LEN * 4];
    const char *p = label;
    do {
        const char *comma = p ? strchr(p, ',') : NULL;
        size_t len = p ? (comma ? (size_t)(comma - p) : strlen(p)) : 0;
        if (p && (len == 0 || len >= sizeof item))
            return cg_error(CG_ERR_ARG, "file '%s': '%s' is not a comma-separated list of target columns", path, label);
        if (p) snprintf(item, sizeof item, "%.*s", (int)len, p);
        int j, rc = find_label(path, p ? item : NULL, names, header, t->n_cols, &j);
        if (rc) return rc;
        if (t->cols[j].target)
            return cg_error(CG_ERR_ARG, "file '%s': target column '%s' is named twice", path, names[j]);
        t->cols[j].target = ++t->n_targets;
        p = comma ? comma + 1 : NULL;
    } while (p);
    if (t->n_targets >= t->n_cols)
        return cg_error(CG_ERR_FORMAT, "file '%s': every column is a target; no feature column is left", path);
    return CG_OK;
}

/* What the first pass learns of a column. */
typedef struct colstat {
    long n_num, n_text, n_missing;
    long text_line, num_line, missing_line, bad_index_line, over_line;
    char text[CSV_SHOW + 4], num[CSV_SHOW + 4], bad_index[CSV_SHOW + 4];
    strset set;     /* distinct text values */
    int *rank;      /* set id -> sorted position */
} colstat;

static void keep(char *dst, const char *s) { snprintf(dst, CSV_SHOW + 4, "%.*s%s", shown_len(s), s, ellipsis(s)); }

/* The reader's state over its passes. */
typedef struct csv_ctx {
    csv_lex lex;
    const cg_csv_options *o;
    int labelled;           /* labels are read (a training or test set)   */
    int ncols;              /* cells per row of this file                  */
    int header;
    char **row1;            /* the first row's cells, copied               */
    long row1_line;
    long n;                 /* data rows                                   */
    colstat *st;            /* [ncols]                                     */
    cg_table *t;
    int *map;               /* [t->n_cols]: the file's cell for a table column, or -1 */
    const strset *sets;     /* [t->n_cols]: text values to ids             */
    int *const *ranks;      /* [t->n_cols]: id -> category (NULL: the id)  */
} csv_ctx;

static void ctx_free(csv_ctx *c)
{
    for (int i = 0; c->row1 && i < c->ncols; i++) cg_free(c->row1[i]);
    cg_free(c->row1);
    for (int i = 0; c->st && i < c->ncols; i++) {
        strset_free(&c->st[i].set);
        cg_free(c->st[i].rank);
    }
    cg_free(c->st);
    cg_free(c->map);
    cg_table_free(c->t);
    csv_lex_close(&c->lex);
}

/* The first row: copied, as it may be a header. */
static int read_first(csv_ctx *c)
{
    int rc = csv_lex_row(&c->lex);
    if (rc < 0) return rc;
    if (rc == 0) return cg_error(CG_ERR_FORMAT, "file '%s': empty file (no rows)", c->lex.path);
    c->ncols = c->lex.ncells;
    c->row1_line = c->lex.row_line;
    if (!(c->row1 = cg_calloc((size_t)c->ncols, sizeof *c->row1)))
        return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", c->lex.path);
    for (int i = 0; i < c->ncols; i++)
        if (!(c->row1[i] = cg_strdup(csv_cell(&c->lex, i))))
            return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", c->lex.path);
    return CG_OK;
}

static int ragged(const csv_ctx *c)
{
    return cg_error(CG_ERR_FORMAT, "%s:%ld: row has %d columns, expected %d (as on line %ld; the "
                    "delimiter is %s)", c->lex.path, c->lex.row_line, c->lex.ncells, c->ncols,
                    c->row1_line, csv_delim_name(c->lex.delim));
}

/* Learning, first pass: one cell into its column's statistics. */
static int observe(csv_ctx *c, int j, const char *s, long line)
{
    colstat *st = &c->st[j];
    double v = 0;
    int integer;
    /* Once a column has shown a number that is no class index, its other
     * numbers need no value: their syntax says they fit a float. */
    int fast = st->bad_index_line && plain_decimal(s, &integer);
    int kind = fast ? CELL_NUMBER : classify(s, &v);
    if (kind == CELL_MISSING) {
        if (c->o->missing == CG_MISSING_ERROR)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: missing value '%s' (--missing error refuses "
                            "them)", c->lex.path, line, j + 1, s);
        if (!st->n_missing++) st->missing_line = line;
        return CG_OK;
    }
    if (kind == CELL_NUMBER) {
        if (!fast && check_float(&c->lex, line, j + 1, s, v)) return cg_last_error_code();
        if (!st->n_num++) {
            st->num_line = line;
            keep(st->num, s);
        }
        if (!fast && !st->bad_index_line && !valid_index(v)) {
            st->bad_index_line = line;
            keep(st->bad_index, s);
        }
        return CG_OK;
    }
    if (!st->n_text++) {
        st->text_line = line;
        keep(st->text, s);
    }
    if (st->set.n <= CG_TABLE_MAX_CLASSES) {
        if (strset_add(&st->set, s) < 0) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", c->lex.path);
        if (st->set.n == CG_TABLE_MAX_CATEGORIES + 1) st->over_line = line;
    }
    return CG_OK;
}

/* Is the first row a header? Forced by the options, else: yes when a
 * column that holds only numbers below has text in it, or when the text
 * columns' first-row values never appear again below them (empty cells
 * count for neither). */
static int detect_header(const csv_ctx *c)
{
    if (c->o->has_header >= 0) return c->o->has_header;
    if (c->n == 0) { /* one row: a header when it has text */
        for (int j = 0; j < c->ncols; j++) {
            double v;
            if (classify(c->row1[j], &v) == CELL_TEXT) return 1;
        }
        return 0;
    }
    int any_text_col = 0, all_new = 1;
    for (int j = 0; j < c->ncols; j++) {
        const colstat *st = &c->st[j];
        double v;
        int kind = classify(c->row1[j], &v);
        if (kind == CELL_MISSING) continue; /* pandas' unnamed index column: says nothing */
        if (st->n_num > 0 && st->n_text == 0 && kind == CELL_TEXT) return 1;
        if (st->n_text > 0) {
            any_text_col = 1;
            if (strset_find(&st->set, c->row1[j]) >= 0) all_new = 0;
        } else if (kind == CELL_TEXT) {
            any_text_col = 1; /* a column empty below: text here is a name */
        }
    }
    return any_text_col && all_new;
}

/* After the first pass: what each column is, or the error that makes it
 * nothing. */
static int decide_columns(csv_ctx *c, int lcol)
{
    const char *path = c->lex.path;
    for (int j = 0; j < c->ncols; j++) {
        colstat *st = &c->st[j];
        cg_table_col *col = &c->t->cols[j];
        if (col->target) { /* a number in every row: nothing can stand in for a target */
            if (st->n_text)
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: target column '%s' is not numeric ('%s'; %ld text "
                                "cells): a regression or multi-label target must be a number in every row",
                                path, st->text_line, j + 1, col->name, st->text, st->n_text);
            if (st->n_missing)
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: target column '%s' has %ld missing values (NaN, "
                                "empty, NA...): every row needs its target; drop those rows", path,
                                st->missing_line, j + 1, col->name, st->n_missing);
            continue;
        }
        if (j == lcol) {
            if (st->n_missing)
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: missing label (every row needs its class)", path,
                                st->missing_line, j + 1);
            if (st->n_text) {
                col->text = 1;
                if (st->set.n > CG_TABLE_MAX_CLASSES)
                    return cg_error(CG_ERR_FORMAT, "file '%s': label column '%s' has more than %d distinct "
                                    "values; is it the right column?", path, col->name, CG_TABLE_MAX_CLASSES);
            } else if (st->bad_index_line) {
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: label '%s' is not a valid class (numeric labels "
                                "must be integers in 0..%d; other labels are read as class names only "
                                "when some of them are not numbers); to predict a number, train with "
                                "--task regression", path, st->bad_index_line, j + 1,
                                st->bad_index, CG_TABLE_MAX_CLASSES - 1);
            }
            continue;
        }
        if (st->n_num == 0 && st->n_text == 0)
            return cg_error(CG_ERR_FORMAT, "file '%s': column '%s' (%d) has no values: all %ld cells are "
                            "missing", path, col->name, j + 1, st->n_missing);
        if (st->n_num && st->n_text) {
            if (st->n_num >= st->n_text)
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: '%s' is not a number (column '%s' holds %ld "
                                "numbers and %ld text cells; a column is all numbers or all text)", path,
                                st->text_line, j + 1, st->text, col->name, st->n_num, st->n_text);
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: '%s' is a number in text column '%s' (%ld text "
                            "cells, %ld numbers; a column is all numbers or all text)", path, st->num_line,
                            j + 1, st->num, col->name, st->n_text, st->n_num);
        }
        if (st->n_text) {
            col->text = 1;
            if (st->set.n > CG_TABLE_MAX_CATEGORIES)
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: text column '%s' has more than %d distinct values: "
                                "an identifier or free text, not a category; drop the column", path,
                                st->over_line, j + 1, col->name, CG_TABLE_MAX_CATEGORIES);
        }
    }
    /* Categories and class names, sorted. */
    for (int j = 0; j < c->ncols; j++) {
        colstat *st = &c->st[j];
        cg_table_col *col = &c->t->cols[j];
        if (!col->text) continue;
        if (!(st->rank = cg_malloc((size_t)st->set.n * sizeof *st->rank)))
            return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        char **v;
        if (strset_sorted(&st->set, &v, st->rank)) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
        if (j == lcol) {
            c->t->classes = v;
            c->t->n_classes = st->set.n;
        } else {
            col->cats = v;
            col->n_cats = st->set.n;
        }
    }
    cg_table_layout(c->t);
    return CG_OK;
}

/* Learning: the first pass, the header, the table. */
static int learn(csv_ctx *c)
{
    const char *path = c->lex.path;
    int rc = read_first(c);
    if (rc) return rc;
    if (!(c->st = cg_calloc((size_t)c->ncols, sizeof *c->st)))
        return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    while ((rc = csv_lex_row(&c->lex)) == 1) {
        if (c->lex.ncells != c->ncols) return ragged(c);
        for (int j = 0; j < c->ncols; j++)
            if ((rc = observe(c, j, csv_cell(&c->lex, j), c->lex.row_line))) return rc;
        c->n++;
    }
    if (rc < 0) return rc;
    c->header = detect_header(c);
    if (!c->header) {
        for (int j = 0; j < c->ncols; j++)
            if ((rc = observe(c, j, c->row1[j], c->row1_line))) return rc;
        c->n++;
    }
    int lcol = -1;
    if (c->labelled && !c->o->targets) {
        if (c->ncols < 2)
            return cg_error(CG_ERR_FORMAT, "file '%s': line %ld has %d column; need at least one feature "
                            "column besides the label", path, c->row1_line, c->ncols);
        if ((rc = find_label(path, c->o->label, c->row1, c->header, c->ncols, &lcol))) return rc;
    }
    if (c->n == 0) return cg_error(CG_ERR_FORMAT, "file '%s': no data rows after the header", path);
    if (c->n > INT_MAX) return cg_error(CG_ERR_FORMAT, "file '%s': more than %d rows", path, INT_MAX);
    if (!(c->t = cg_table_new(c->ncols))) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    c->t->label_col = lcol;
    for (int j = 0; j < c->ncols; j++) {
        char name[32];
        snprintf(name, sizeof name, "column %d", j + 1);
        c->t->cols[j].name = cg_strdup(c->header && c->row1[j][0] ? c->row1[j] : name);
        if (!c->t->cols[j].name) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    }
    if (c->labelled && c->o->targets && (rc = find_targets(path, c->o->label, c->row1, c->header, c->t)))
        return rc;
    for (int j = 0; j < c->ncols; j++)
        c->t->cols[j].missing = cg_table_is_label(c->t, j) ? 0 : c->st[j].n_missing;
    if ((rc = decide_columns(c, lcol))) return rc;
    if (!(c->map = cg_malloc((size_t)c->ncols * sizeof *c->map)))
        return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    for (int j = 0; j < c->ncols; j++) c->map[j] = j;
    return CG_OK;
}

/* --- Applying a table --- */

/* Lookup sets of the table's categories and classes, ids = sorted order. */
typedef struct table_sets {
    strset *sets; /* [n_cols] */
    int n;
} table_sets;

static void table_sets_free(table_sets *s)
{
    for (int i = 0; s->sets && i < s->n; i++) strset_free(&s->sets[i]);
    cg_free(s->sets);
}

static int table_sets_make(const cg_table *t, table_sets *s)
{
    s->n = t->n_cols;
    if (!(s->sets = cg_calloc((size_t)t->n_cols, sizeof *s->sets))) return CG_ERR_MEMORY;
    for (int j = 0; j < t->n_cols; j++) {
        const cg_table_col *col = &t->cols[j];
        char **v = j == t->label_col ? t->classes : col->cats;
        int n = j == t->label_col ? t->n_classes : col->n_cats;
        for (int k = 0; k < n; k++)
            if (strset_add(&s->sets[j], v[k]) != k) return CG_ERR_MEMORY;
    }
    return CG_OK;
}

/* Applying: the file's columns against the table's, the header, rows. */
static int apply_layout(csv_ctx *c, int features_only)
{
    const cg_table *t = c->t;
    const char *path = c->lex.path;
    int rc = read_first(c);
    if (rc) return rc;
    const int nl = cg_table_n_label_cols(t);
    int with_label = c->ncols == t->n_cols;
    if (!with_label && !(features_only && nl > 0 && c->ncols == t->n_cols - nl)) {
        if (features_only && nl > 0)
            return cg_error(CG_ERR_SHAPE, "%s: rows have %d columns, the model reads %d (or %d with its "
                            "label column%s, which %s dropped)", path, c->ncols, t->n_cols - nl, t->n_cols,
                            nl > 1 ? "s" : "", nl > 1 ? "are" : "is");
        return cg_error(CG_ERR_SHAPE, "%s: rows have %d columns, the training data had %d", path, c->ncols,
                        t->n_cols);
    }
    if (!(c->map = cg_malloc((size_t)t->n_cols * sizeof *c->map)))
        return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    for (int j = 0, k = 0; j < t->n_cols; j++)
        c->map[j] = cg_table_is_label(t, j) && !with_label ? -1 : k++;
    if (!with_label || features_only) c->labelled = 0;
    /* Header: forced, or the first row gives the columns' names, or has
     * text where the table has a numeric column. */
    c->header = c->o->has_header;
    if (c->header < 0) {
        int names = 1, text_in_num = 0;
        for (int j = 0; j < t->n_cols; j++) {
            if (c->map[j] < 0) continue;
            const char *s = c->row1[c->map[j]];
            double v;
            if (strcmp(s, t->cols[j].name)) names = 0;
            if (!t->cols[j].text && classify(s, &v) == CELL_TEXT) text_in_num = 1;
        }
        c->header = names || text_in_num;
    }
    c->n = !c->header;
    while ((rc = csv_lex_row(&c->lex)) == 1) {
        if (c->lex.ncells != c->ncols) return ragged(c);
        c->n++;
    }
    if (rc < 0) return rc;
    if (c->n == 0) return cg_error(CG_ERR_FORMAT, "file '%s': no data rows after the header", path);
    if (c->n > INT_MAX) return cg_error(CG_ERR_FORMAT, "file '%s': more than %d rows", path, INT_MAX);
    return CG_OK;
}

/* A list of the classes for a message: "'a', 'b', 'c'" (cut with ...). */
static void class_list(const cg_table *t, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < t->n_classes; i++) {
        int w = snprintf(out + used, size - used, "%s'%s'", i ? ", " : "", t->classes[i]);
        if (w < 0 || (size_t)w >= size - used - 6) {
            snprintf(out + used, size - used, ", ...");
            return;
        }
        used += (size_t)w;
    }
}

/* --- Filling --- */

/* One cell of table column j into row / *y. */
static int encode(csv_ctx *c, int j, const char *s, long line, float *row, int32_t *y, float *tgt)
{
    const cg_table *t = c->t;
    const cg_table_col *col = &t->cols[j];
    const char *path = c->lex.path;
    int fc = c->map[j] + 1;
    double v = 0;
    int kind = classify(s, &v);
    if (col->target) {
        if (kind != CELL_NUMBER)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: target '%.*s%s' in column '%s' is %s (every row needs a "
                            "numeric target)", path, line, fc, shown_len(s), s, ellipsis(s), col->name,
                            kind == CELL_MISSING ? "missing" : "not a number");
        if (check_float(&c->lex, line, fc, s, v)) return cg_last_error_code();
        tgt[col->target - 1] = (float)v;
        return CG_OK;
    }
    if (j == t->label_col) {
        if (kind == CELL_MISSING)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: missing label (every row needs its class)", path,
                            line, fc);
        if (t->classes) {
            int id = strset_find(&c->sets[j], s);
            if (id < 0) {
                char list[200];
                class_list(t, list, sizeof list);
                return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: class '%.*s%s' was not in the training data "
                                "(its %d classes: %s)", path, line, fc, shown_len(s), s, ellipsis(s),
                                t->n_classes, list);
            }
            *y = c->ranks && c->ranks[j] ? c->ranks[j][id] : id;
            return CG_OK;
        }
        if (kind != CELL_NUMBER || !valid_index(v))
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: label '%.*s%s' is not a valid class (labels must be "
                            "integers in 0..%d)", path, line, fc, shown_len(s), s, ellipsis(s),
                            CG_TABLE_MAX_CLASSES - 1);
        *y = (int32_t)v;
        return CG_OK;
    }
    float *out = row + col->offset;
    if (kind == CELL_MISSING) {
        if (c->o->missing == CG_MISSING_ERROR)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: missing value '%s' in column '%s' (--missing error "
                            "refuses them)", path, line, fc, s, col->name);
        c->t->cols[j].missing++;
        int k = col->text ? col->n_cats : 1;
        for (int i = 0; i < k; i++) out[i] = NAN;
        return CG_OK;
    }
    if (!col->text) {
        if (kind == CELL_TEXT)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: '%.*s%s' is not a number (column '%s' is numeric)",
                            path, line, fc, shown_len(s), s, ellipsis(s), col->name);
        if (check_float(&c->lex, line, fc, s, v)) return cg_last_error_code();
        *out = (float)v;
        return CG_OK;
    }
    int id = strset_find(&c->sets[j], s);
    if (id < 0) {
        if (c->o->unknown_category == CG_UNKNOWN_ZERO) return CG_OK;
        return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: '%.*s%s' is not a category of text column '%s' seen in "
                        "training (%d categories; --unknown-category zero encodes it as none of them)",
                        path, line, fc, shown_len(s), s, ellipsis(s), col->name, col->n_cats);
    }
    out[c->ranks && c->ranks[j] ? c->ranks[j][id] : id] = 1;
    return CG_OK;
}

static int encode_row(csv_ctx *c, char *const *cells, long line, float *row, int32_t *y, float *tgt)
{
    const cg_table *t = c->t;
    memset(row, 0, (size_t)t->n_features * sizeof *row);
    for (int j = 0; j < t->n_cols; j++) {
        if (c->map[j] < 0 || (cg_table_is_label(t, j) && !c->labelled)) continue;
        int rc = encode(c, j, cells[c->map[j]], line, row, y, tgt);
        if (rc) return rc;
    }
    return CG_OK;
}

/* The second pass: every data row into the matrix. */
static int fill(csv_ctx *c, cg_dataset *out)
{
    const char *path = c->lex.path;
    size_t n = (size_t)c->n, d = (size_t)c->t->n_features;
    if (d == 0) return cg_error(CG_ERR_FORMAT, "file '%s': no feature columns", path);
    if (d > SIZE_MAX / sizeof(float) / n) return cg_error(CG_ERR_MEMORY, "file '%s': too large", path);
    float *x = cg_malloc(n * d * sizeof *x);
    const size_t nt = c->labelled ? (size_t)c->t->n_targets : 0;
    int32_t *y = c->labelled && !nt ? cg_malloc(n * sizeof *y) : NULL;
    float *tgt = nt ? cg_malloc(n * nt * sizeof *tgt) : NULL;
    char **cells = cg_malloc((size_t)c->ncols * sizeof *cells);
    int rc = x && cells && (y || tgt || !c->labelled) ? CG_OK : cg_error(CG_ERR_MEMORY, "file '%s': out of memory "
                                                                  "(%zu x %zu floats)", path, n, d);
    for (int j = 0; j < c->t->n_cols; j++) c->t->cols[j].missing = 0;
    size_t i = 0;
    if (!rc && !c->header) rc = encode_row(c, c->row1, c->row1_line, x, y, tgt);
    if (!rc && !c->header) i++;
    if (!rc) rc = csv_lex_rewind(&c->lex);
    if (!rc) rc = csv_lex_row(&c->lex) < 0 ? cg_last_error_code() : CG_OK; /* the first row */
    while (!rc && i < n) {
        int got = csv_lex_row(&c->lex);
        if (got < 0) rc = got;
        else if (got == 0 || c->lex.ncells != c->ncols)
            rc = cg_error(CG_ERR_IO, "file '%s': changed while it was read", path);
        if (rc) break;
        for (int j = 0; j < c->ncols; j++) cells[j] = (char *)csv_cell(&c->lex, j);
        rc = encode_row(c, cells, c->lex.row_line, x + i * d, y ? y + i : NULL, tgt ? tgt + i * nt : NULL);
        i++;
    }
    cg_free(cells);
    if (rc) {
        cg_free(x);
        cg_free(y);
        cg_free(tgt);
        return rc;
    }
    cg_dataset_take_f32(out, (int)n, (int)d, x, y);
    out->t_f32 = tgt;
    out->n_targets = (int)nt;
    if (y && c->t->classes) out->n_classes = c->t->n_classes;
    out->table = cg_table_ref(c->t);
    return CG_OK;
}

/* A table of d numeric columns (plus a label column, from the first row's
 * width) for inputs to a model that has none: the old all-numeric CSV. */
static int numeric_table(csv_ctx *c, int d)
{
    const char *path = c->lex.path;
    int rc = read_first(c);
    if (rc) return rc;
    int ncols = c->ncols, lcol = -1;
    if (ncols != d && ncols != d + 1)
        return cg_error(CG_ERR_SHAPE, "%s: rows have %d features, the model takes %d (or %d columns with a "
                        "label column, which is dropped)", path, ncols, d, d + 1);
    if (ncols == d + 1) {
        int header = c->o->has_header;
        if (header < 0) {
            header = 0;
            for (int j = 0; j < ncols; j++) {
                double v;
                if (classify(c->row1[j], &v) == CELL_TEXT) header = 1;
            }
        }
        if ((rc = find_label(path, c->o->label, c->row1, header, ncols, &lcol))) return rc;
    }
    if (!(c->t = cg_table_new(ncols))) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    c->t->label_col = lcol;
    for (int j = 0; j < ncols; j++) {
        char name[32];
        snprintf(name, sizeof name, "column %d", j + 1);
        if (!(c->t->cols[j].name = cg_strdup(name))) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", path);
    }
    cg_table_layout(c->t);
    for (int j = 0; j < c->ncols; j++) cg_free(c->row1[j]);
    cg_free(c->row1);
    c->row1 = NULL;
    return csv_lex_rewind(&c->lex);
}

/* The reader behind every CSV entry point. d == 0 reads a labelled set;
 * d > 0 features only, for a model taking d. */
static int read_csv(const char *name, FILE *stream, const cg_csv_options *o, int d, cg_dataset *out)
{
    csv_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.labelled = d == 0;
    table_sets ts = {0};
    int rc = csv_lex_open(&c.lex, name, stream, o->delimiter);
    cg_csv_options legacy;
    if (!rc && !o->table && d > 0) {
        /* No table to apply: numbers only, and nothing can fill a gap. */
        legacy = *o;
        legacy.missing = CG_MISSING_ERROR;
        c.o = &legacy;
        rc = numeric_table(&c, d);
    } else if (!rc && o->table) {
        if (!(c.t = cg_table_clone(o->table))) rc = cg_error(CG_ERR_MEMORY, "file '%s': out of memory", name);
    }
    if (!rc && c.t) {
        if (d > 0 && c.t->n_features != d)
            rc = cg_error(CG_ERR_SHAPE, "%s: its columns make %d features, the model takes %d", name,
                          c.t->n_features, d);
        if (!rc) rc = apply_layout(&c, d > 0);
        if (!rc && table_sets_make(c.t, &ts)) rc = cg_error(CG_ERR_MEMORY, "file '%s': out of memory", name);
        c.sets = ts.sets;
    } else if (!rc) {
        rc = learn(&c);
        if (!rc) {
            /* The sets the first pass built, with their ids' ranks. */
            if (!(ts.sets = cg_calloc((size_t)c.ncols, sizeof *ts.sets))) rc = CG_ERR_MEMORY;
            int **ranks = cg_calloc((size_t)c.ncols, sizeof *ranks);
            if (!ranks) rc = cg_error(CG_ERR_MEMORY, "file '%s': out of memory", name);
            for (int j = 0; !rc && j < c.ncols; j++) {
                ts.sets[j] = c.st[j].set; /* moved */
                memset(&c.st[j].set, 0, sizeof c.st[j].set);
                ranks[j] = c.st[j].rank;
            }
            ts.n = c.ncols;
            c.sets = ts.sets;
            c.ranks = ranks;
            if (!rc) rc = fill(&c, out);
            cg_free(ranks);
            c.ranks = NULL;
            goto done;
        }
    }
    if (!rc) rc = fill(&c, out);
done:
    table_sets_free(&ts);
    ctx_free(&c);
    return rc;
}

int cg_csv_read(const char *name, FILE *stream, const cg_csv_options *o, int d, cg_dataset *out)
{
    cg_csv_options dflt;
    if (!o) {
        cg_csv_options_init(&dflt);
        o = &dflt;
    }
    if (o->has_header < -1 || o->has_header > 1)
        return cg_error(CG_ERR_ARG, "cg_load_csv: has_header must be 1, 0 or -1 (detect), not %d", o->has_header);
    if (o->delimiter && !strchr(",;\t ", o->delimiter))
        return cg_error(CG_ERR_ARG, "cg_load_csv: delimiter '%c' is not ',', ';', tab or ' ' (whitespace)",
                        o->delimiter);
    int rc = read_csv(name, stream, o, d, out);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int cg_load_csv_opts(const char *path, const cg_csv_options *o, cg_dataset *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!path || !out) return cg_error(CG_ERR_ARG, "cg_load_csv: NULL argument");
    return cg_csv_read(path, NULL, o, 0, out);
}

int cg_load_csv(const char *path, const char *label, int has_header, cg_dataset *out)
{
    cg_csv_options o;
    cg_csv_options_init(&o);
    o.label = label;
    o.has_header = has_header;
    return cg_load_csv_opts(path, &o, out);
}
