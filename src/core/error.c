/* SPDX-License-Identifier: MIT */
/* error.c: errors are values; the message of the last one is kept per thread. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[1024];
static _Thread_local int last_code;

static void set_message(int code, const char *fmt, va_list ap)
{
    /* Through a copy: a caller may pass cg_last_error() itself as an
     * argument, to prefix the message with context. */
    char buf[sizeof last_message];
    vsnprintf(buf, sizeof buf, fmt, ap);
    memcpy(last_message, buf, sizeof buf);
    last_code = code;
}

int cg_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(code, fmt, ap);
    va_end(ap);
    return code;
}

void *cg_error_null(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(code, fmt, ap);
    va_end(ap);
    return NULL;
}

const char *cg_last_error(void) { return last_message; }
int cg_last_error_code(void) { return last_code; }

void cg_clear_error(void)
{
    last_message[0] = '\0';
    last_code = CG_OK;
}
