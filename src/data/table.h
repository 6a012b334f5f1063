/* SPDX-License-Identifier: MIT */
/* table.h: how a CSV file's columns became features (table.c): each
 * column numeric or text, a text column's categories (one-hot), the label
 * column and its class names. The CSV reader learns one from a training
 * file and encodes test files and inputs with it; the normaliser keeps it
 * so checkpoints carry it. A small string set (strset) maps text to ids. */
#ifndef CG_DATA_TABLE_H
#define CG_DATA_TABLE_H

#include "internal.h"

/* Bounds checked before anything is allocated from them: a text column
 * with more distinct values than this is an identifier, not a category;
 * more classes than this is a wrong label column. */
#define CG_TABLE_MAX_CATEGORIES 1000
#define CG_TABLE_MAX_CLASSES 65536

typedef struct cg_table_col {
    char *name;     /* the header's name, or "column N" (1-based)          */
    int text;       /* 1: categorical (one-hot), 0: numeric                */
    int offset;     /* first feature it fills; -1 for the label column    */
    int n_cats;     /* text: categories, sorted by strcmp                  */
    char **cats;
    long missing;   /* missing cells in the file this table last read     */
    int target;     /* a numeric target column: its index + 1; 0: not one  */
} cg_table_col;

struct cg_table {
    int refs;
    int n_cols;        /* columns in the file, the label column included   */
    int label_col;     /* -1: none                                         */
    int n_features;    /* the encoded width                                */
    cg_table_col *cols;
    int n_classes;     /* class names (sorted), or 0: labels are indices   */
    char **classes;
    int n_targets;     /* numeric target columns (label_col is -1 then)    */
};

/* 1 when column j is the label column or a target column: not a feature. */
static inline int cg_table_is_label(const cg_table *t, int j)
{
    return j == t->label_col || t->cols[j].target > 0;
}
/* The columns that are labels or targets. */
static inline int cg_table_n_label_cols(const cg_table *t)
{
    return t->label_col >= 0 ? 1 : t->n_targets;
}

cg_table *cg_table_new(int n_cols);
/* Another reference (t may be NULL); cg_table_free drops one. */
cg_table *cg_table_ref(cg_table *t);
/* A deep copy with its own missing counts (zeroed). */
cg_table *cg_table_clone(const cg_table *t);
/* 1 when a feature column is text (one-hot). */
int cg_table_has_text(const cg_table *t);
/* Feature offsets and n_features from the columns' kinds. */
void cg_table_layout(cg_table *t);

/* Set of distinct strings, each with an id in order of insertion. */
typedef struct strset {
    char *text;          /* the strings, NUL-terminated, back to back */
    size_t len, cap;
    size_t *off;         /* off[id]: where string id starts in text    */
    int n, cap_ids;
    int *slot;           /* hash table of ids + 1 (0 = empty)          */
    int n_slots;
} strset;

/* The id of s, adding it when new; -1 when out of memory. */
int strset_add(strset *s, const char *str);
/* The id of str, or -1. */
int strset_find(const strset *s, const char *str);
static inline const char *strset_get(const strset *s, int id) { return s->text + s->off[id]; }
void strset_free(strset *s);
/* The set's strings sorted by strcmp as new copies (*out, n entries) and
 * rank[id] = the sorted position of id (rank may be NULL). */
int strset_sorted(const strset *s, char ***out, int *rank);

#endif
