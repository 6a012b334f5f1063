/* SPDX-License-Identifier: MIT */
/* csv_lex.h: CSV rows as cells of text (csv_lex.c), for the reader that
 * turns them into numbers (csv.c). A file is read in blocks, a row at a
 * time, so that no more than one row's text is held; rewinding re-reads
 * it for another pass (a pipe is first copied to a temporary file). */
#ifndef CG_DATA_CSV_LEX_H
#define CG_DATA_CSV_LEX_H

#include <stdio.h>

#include "internal.h"

/* The whitespace delimiter: cells are separated by runs of spaces/tabs. */
#define CSV_WHITESPACE ' '

typedef struct csv_lex {
    const char *path;    /* for messages                                   */
    FILE *f;             /* read from; owned when own_file                 */
    int own_file;
    long start;          /* where data starts (after a byte-order mark)    */
    char *buf;           /* the block being read                           */
    size_t pos, len;
    int eof;
    char delim;          /* ',', ';', '\t' or CSV_WHITESPACE               */
    long line;           /* physical line of the next byte, 1-based        */
    long row_line;       /* line where the current row starts              */
    char *text;          /* the current row's cells, each NUL-terminated   */
    size_t text_len, text_cap;
    size_t *cell;        /* offsets of the cells in text                   */
    int ncells, cell_cap;
} csv_lex;

/* Open name (stream NULL) or read stream (not closed; copied to a
 * temporary file when it cannot seek); detect the delimiter when delim is
 * 0. */
int csv_lex_open(csv_lex *r, const char *name, FILE *stream, char delim);
void csv_lex_close(csv_lex *r);
/* Back to the first row. */
int csv_lex_rewind(csv_lex *r);
/* The next non-blank row into r's cells: 1, 0 at the end, or an error. */
int csv_lex_row(csv_lex *r);
static inline const char *csv_cell(const csv_lex *r, int i) { return r->text + r->cell[i]; }
/* The delimiter as words for messages ("','", "tab"). */
const char *csv_delim_name(char delim);

#endif
