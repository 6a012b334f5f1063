/* SPDX-License-Identifier: MIT */
/* json.h: strict readers and writers for the run configuration's JSON,
 * shared by the modules that each own a part of it. A reader leaves *out
 * alone when the key is missing (the default stays), reads null as NaN
 * (numbers only), and rejects a value of the wrong type or range with
 * CG_ERR_FORMAT naming "where.key". */
#ifndef CG_JSON_H
#define CG_JSON_H

#include "internal.h"
#include <cjson/cJSON.h>

int cg_json_number(const cJSON *o, const char *where, const char *key, double *out);
int cg_json_int(const cJSON *o, const char *where, const char *key, long lo, long hi, int *out);
int cg_json_bool(const cJSON *o, const char *where, const char *key, int *out);
/* A string that fits in size bytes (NUL included). */
int cg_json_string(const cJSON *o, const char *where, const char *key, char *out, size_t size);
/* An unsigned 64-bit integer kept as a decimal string (JSON numbers are
 * doubles and lose digits past 2^53); a number is accepted when exact. */
int cg_json_u64(const cJSON *o, const char *where, const char *key, uint64_t *out);
/* Every key of o must be one of keys[] (NULL-terminated). */
int cg_json_known_keys(const cJSON *o, const char *where, const char *const *keys);
/* o must be an object (where names it). */
int cg_json_object(const cJSON *o, const char *where);

/* o's number `key`, NaN when missing or not a number (for records whose
 * numbers may be absent, such as metrics lines). */
double cg_json_get_number(const cJSON *o, const char *key);

/* v as a number, or null when it is NaN or infinite. */
void cg_json_add_number(cJSON *o, const char *key, double v);
void cg_json_add_u64(cJSON *o, const char *key, uint64_t v);
/* The text of o (deleted), in the library's allocator; NULL if out of memory. */
char *cg_json_text(cJSON *o);

#endif
