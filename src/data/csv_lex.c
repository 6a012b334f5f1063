/* SPDX-License-Identifier: MIT */
/* csv_lex.c: splitting CSV text into rows of cells (RFC 4180): a cell may
 * be double-quoted ("" inside stands for one quote; delimiters and line
 * breaks inside quotes are data); LF, CRLF or CR line ends; blank lines
 * are skipped; a UTF-8 byte-order mark is ignored; spaces (and tabs, when
 * tab is not the delimiter) around a cell are trimmed. The delimiter is
 * ',', ';', tab or runs of whitespace, detected from the first rows. */
#define _POSIX_C_SOURCE 200809L /* fseeko, ftello */
#include "data/csv_lex.h"

#include <errno.h>
#include <string.h>
#include <sys/types.h>

#define BLOCK (1 << 16)
/* Rows the delimiter is detected from. */
#define SNIFF_ROWS 20

const char *csv_delim_name(char delim)
{
    switch (delim) {
    case ',': return "','";
    case ';': return "';'";
    case '\t': return "tab";
    default: return "whitespace";
    }
}

static int fill(csv_lex *r)
{
    if (r->pos < r->len) return 1;
    if (r->eof) return 0;
    r->len = fread(r->buf, 1, BLOCK, r->f);
    r->pos = 0;
    if (r->len == 0) r->eof = 1;
    return r->len > 0;
}

static inline int peek(csv_lex *r) { return fill(r) ? (unsigned char)r->buf[r->pos] : EOF; }

/* Room for `extra` more bytes of cell text. */
static int reserve(csv_lex *r, size_t extra)
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

static inline int push(csv_lex *r, char c)
{
    if (r->text_len + 1 >= r->text_cap && reserve(r, 1)) return CG_ERR_MEMORY;
    r->text[r->text_len++] = c;
    return CG_OK;
}

static int start_cell(csv_lex *r)
{
    if (r->ncells == r->cell_cap) {
        if (r->cell_cap > (1 << 24))
            return cg_error(CG_ERR_FORMAT, "%s:%ld: more than %d cells in a row", r->path,
                            r->row_line, 1 << 24);
        int ncap = r->cell_cap ? r->cell_cap * 2 : 16;
        size_t *nc = cg_realloc(r->cell, (size_t)ncap * sizeof *nc);
        if (!nc) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", r->path);
        r->cell = nc;
        r->cell_cap = ncap;
    }
    r->cell[r->ncells++] = r->text_len;
    return CG_OK;
}

/* At a line end? Consumes it (CRLF, LF or CR) and counts the line. */
static int eat_newline(csv_lex *r)
{
    int c = peek(r);
    if (c == '\r') {
        r->pos++;
        if (peek(r) == '\n') r->pos++;
        r->line++;
        return 1;
    }
    if (c == '\n') {
        r->pos++;
        r->line++;
        return 1;
    }
    return 0;
}

/* Blank around a cell: spaces, and tabs unless tab delimits. */
static inline int is_blank(const csv_lex *r, int c) { return c == ' ' || (c == '\t' && r->delim != '\t'); }

static int is_delim(const csv_lex *r, int c)
{
    return r->delim == CSV_WHITESPACE ? (c == ' ' || c == '\t') : c == r->delim;
}

static int quoted_cell(csv_lex *r, int col)
{
    long open_line = r->line;
    r->pos++; /* the opening quote */
    for (;;) {
        int c = peek(r);
        if (c == EOF)
            return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: unterminated quoted cell (no closing '\"')",
                            r->path, open_line, col);
        if (c == '"') {
            r->pos++;
            if (peek(r) == '"') {
                r->pos++;
                if (push(r, '"')) return CG_ERR_MEMORY;
                continue;
            }
            break;
        }
        if (c == '\r' || c == '\n') {
            /* A line break inside quotes is data (kept as '\n'). */
            eat_newline(r);
            if (push(r, '\n')) return CG_ERR_MEMORY;
            continue;
        }
        if (push(r, (char)c)) return CG_ERR_MEMORY;
        r->pos++;
    }
    int c;
    while (is_blank(r, c = peek(r))) r->pos++;
    if (c != EOF && !is_delim(r, c) && c != '\r' && c != '\n')
        return cg_error(CG_ERR_FORMAT, "%s:%ld:%d: unexpected text after a closing quote (expected "
                        "%s or the end of the line)", r->path, r->line, col, csv_delim_name(r->delim));
    return CG_OK;
}

int csv_lex_row(csv_lex *r)
{
    int c;
    for (;;) { /* blank lines (only spaces or tabs) */
        while ((c = peek(r)) == ' ' || c == '\t') r->pos++;
        if (c == EOF) return ferror(r->f) ? cg_error(CG_ERR_IO, "file '%s': read error", r->path) : 0;
        if (!eat_newline(r)) break;
    }
    r->row_line = r->line;
    r->ncells = 0;
    r->text_len = 0;
    for (;;) {
        if (start_cell(r)) return cg_last_error_code();
        int col = r->ncells;
        while (is_blank(r, c = peek(r))) r->pos++;
        if (c == '"') {
            if (quoted_cell(r, col)) return cg_last_error_code();
        } else {
            size_t start = r->text_len;
            while ((c = peek(r)) != EOF && !is_delim(r, c) && c != '\r' && c != '\n') {
                if (push(r, (char)c)) return CG_ERR_MEMORY;
                r->pos++;
            }
            while (r->text_len > start && is_blank(r, (unsigned char)r->text[r->text_len - 1]))
                r->text_len--;
        }
        if (push(r, '\0')) return CG_ERR_MEMORY;
        c = peek(r);
        if (c != EOF && is_delim(r, c)) {
            r->pos++;
            if (r->delim == CSV_WHITESPACE) { /* a run is one delimiter; trailing ones end the row */
                while ((c = peek(r)) == ' ' || c == '\t') r->pos++;
                if (c == EOF || c == '\r' || c == '\n') {
                    eat_newline(r);
                    return 1;
                }
            }
            continue;
        }
        eat_newline(r);
        if (ferror(r->f)) return cg_error(CG_ERR_IO, "file '%s': read error", r->path);
        return 1;
    }
}

/* Cells per row of text[0, n) for delimiter d, quote-aware, of up to
 * SNIFF_ROWS complete non-blank rows (a row cut by the end of a full
 * block is left out); the rows' count. */
static int sniff_counts(const char *t, size_t n, int full, char d, int *counts)
{
    int rows = 0;
    size_t i = 0;
    while (i < n && rows < SNIFF_ROWS) {
        size_t j = i;
        while (j < n && (t[j] == ' ' || t[j] == '\t')) j++;
        if (j < n && (t[j] == '\r' || t[j] == '\n')) {
            i = j + 1;
            continue;
        }
        if (j == n) break;
        int cells = 1, quoted = 0, at_start = 1;
        for (; j < n; j++) {
            char c = t[j];
            if (quoted) {
                if (c == '"') quoted = 0;
                continue;
            }
            if (c == '"' && at_start) {
                quoted = 1;
                continue;
            }
            if (c == '\r' || c == '\n') break;
            if (d == CSV_WHITESPACE ? (c == ' ' || c == '\t') : c == d) {
                if (d == CSV_WHITESPACE) {
                    while (j + 1 < n && (t[j + 1] == ' ' || t[j + 1] == '\t')) j++;
                    if (j + 1 == n || t[j + 1] == '\r' || t[j + 1] == '\n') continue;
                }
                cells++;
                at_start = 1;
                continue;
            }
            if (c != ' ' && c != '\t') at_start = 0;
        }
        if (j == n && (full || quoted)) break; /* cut off */
        counts[rows++] = cells;
        i = j + 1;
    }
    return rows;
}

/* The delimiter that splits the first rows into the same number of cells,
 * the most cells when several do (ties: ',' then ';', tab; whitespace
 * only when none of them does); else the one giving the first row most
 * cells. */
static char sniff(const char *t, size_t n, int full)
{
    static const char cand[4] = {',', ';', '\t', CSV_WHITESPACE};
    int counts[SNIFF_ROWS];
    char best = ',', first_best = ',';
    int best_cells = 1, first_cells = 1;
    for (int k = 0; k < 4; k++) {
        int rows = sniff_counts(t, n, full, cand[k], counts);
        if (rows == 0) continue;
        int same = 1;
        for (int i = 1; i < rows; i++) same &= counts[i] == counts[0];
        /* Whitespace only when no character delimits: "1, 2, 3" splits
         * on spaces too. */
        if (same && counts[0] > best_cells && (cand[k] != CSV_WHITESPACE || best_cells == 1)) {
            best = cand[k];
            best_cells = counts[0];
        }
        if (counts[0] > first_cells) {
            first_best = cand[k];
            first_cells = counts[0];
        }
    }
    return best_cells > 1 ? best : first_best;
}

static int skip_bom(csv_lex *r)
{
    if (fill(r) && r->len - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0) r->pos += 3;
    return CG_OK;
}

int csv_lex_open(csv_lex *r, const char *name, FILE *stream, char delim)
{
    memset(r, 0, sizeof *r);
    r->path = name;
    r->line = 1;
    if (!(r->buf = cg_malloc(BLOCK))) return cg_error(CG_ERR_MEMORY, "file '%s': out of memory", name);
    if (!stream) {
        errno = 0;
        r->f = fopen(name, "rb");
        if (!r->f)
            return cg_error(CG_ERR_IO, "file '%s': cannot open (%s)", name,
                            errno ? strerror(errno) : "unknown error");
        r->own_file = 1;
    } else if (fseeko(stream, 0, SEEK_CUR) == 0 && ftello(stream) >= 0) {
        r->f = stream;
    } else {
        /* A pipe: copied to a temporary file so that it can be read twice. */
        if (!(r->f = tmpfile()))
            return cg_error(CG_ERR_IO, "file '%s': cannot make a temporary copy (%s)", name,
                            strerror(errno));
        r->own_file = 1;
        size_t got;
        while ((got = fread(r->buf, 1, BLOCK, stream)) > 0)
            if (fwrite(r->buf, 1, got, r->f) != got)
                return cg_error(CG_ERR_IO, "file '%s': cannot write a temporary copy", name);
        if (ferror(stream)) return cg_error(CG_ERR_IO, "file '%s': read error", name);
        rewind(r->f);
    }
    r->start = (long)ftello(r->f);
    skip_bom(r);
    r->delim = delim ? delim : sniff(r->buf + r->pos, r->len - r->pos, r->len == BLOCK);
    return CG_OK;
}

int csv_lex_rewind(csv_lex *r)
{
    if (fseeko(r->f, (off_t)r->start, SEEK_SET) != 0)
        return cg_error(CG_ERR_IO, "file '%s': cannot read it again (%s)", r->path, strerror(errno));
    r->pos = r->len = 0;
    r->eof = 0;
    r->line = 1;
    return skip_bom(r);
}

void csv_lex_close(csv_lex *r)
{
    if (r->own_file && r->f) fclose(r->f);
    cg_free(r->buf);
    cg_free(r->text);
    cg_free(r->cell);
    memset(r, 0, sizeof *r);
}
