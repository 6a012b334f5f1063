/* cli.h: what the cgrad command's files share. */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdio.h>

#if defined(__GNUC__)
#define CLI_PRINTF __attribute__((format(printf, 1, 2)))
#else
#define CLI_PRINTF
#endif

/* Exit statuses: success, a failure while running, a usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* `cgrad train [flags]`: argv[0] is "train". */
int cli_train(int argc, char **argv);
void cli_train_help(FILE *f);

/* `cgrad demo NAME [flags]`: argv[0] is "demo". */
int cli_demo(int argc, char **argv);
/* argv holds only the demo's flags. */
int cli_demo_saddle(int argc, char **argv);
int cli_demo_softmax2d(int argc, char **argv);

/* "cgrad: <message>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) CLI_PRINTF;
/* Parse a flag's value; on error print one line naming the flag, return -1. */
int cli_parse_int(const char *flag, const char *s, long lo, long hi, int *out);
int cli_parse_double(const char *flag, const char *s, double lo, double hi, double *out);

#endif
