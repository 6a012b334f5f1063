/* SPDX-License-Identifier: MIT */
/* flags.h: one table of flags per command. Each entry says the flag's
 * name, its value, its help text, the configuration field it sets and
 * when it applies; the parser, `--help`, the man/markdown reference in
 * docs/ and the test that walks every table are all generated from it. */
#ifndef CG_CLI_FLAGS_H
#define CG_CLI_FLAGS_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_flag cli_flag;

/* Parse `value` into the target (a command's options struct); 0, or -1
 * with the reason recorded by cli_bad_value (the parser names the command
 * and the flag). */
typedef int (*cli_flag_set)(void *target, const cli_flag *f, const char *value);

enum {
    CLI_RESUME_NO = 0,     /* fixed by the checkpoint: an error with --resume */
    CLI_RESUME_OK = 1,     /* may change when resuming                        */
    CLI_RESUME_PHASE = 2   /* with --resume, starts a new schedule phase      */
};

struct cli_flag {
    const char *name;      /* "--lr"                                          */
    const char *value;     /* "RATE"; NULL for a switch                       */
    const char *help;      /* one or more lines, no trailing newline          */
    cli_flag_set set;      /* NULL for a switch stored as int 1 at offset     */
    size_t offset;         /* the field in the target struct                  */
    double lo, hi;         /* numbers: the accepted range; strings: hi = size */
    const char *field;     /* the configuration field ("optim.lr"), for the
                              library's checks to name the flag; or NULL      */
    const char *conflicts; /* a flag that cannot be given with this one       */
    int resume;            /* CLI_RESUME_*                                    */
    const char *unused_example; /* flags with which this one is not used: the
                              table test checks that they are an error      */
    const char *example;   /* a valid value, for the table test               */
    int repeat;            /* may be given more than once (each adds)         */
};

typedef struct cli_command_flags {
    const char *command;   /* "train"                                         */
    const char *usage;     /* "cgrad train [flags]"                           */
    const char *summary;   /* a paragraph                                     */
    const cli_flag *flags;
    int n_flags;
    int resumable;         /* has --resume: the reference says what may change */
} cli_command_flags;

/* Generic setters: int/double in [lo, hi], a string copied into a char
 * array of hi bytes, an unsigned 64-bit integer. */
int cli_set_int(void *target, const cli_flag *f, const char *value);
int cli_set_double(void *target, const cli_flag *f, const char *value);
int cli_set_string(void *target, const cli_flag *f, const char *value);
int cli_set_u64(void *target, const cli_flag *f, const char *value);
/* fp32, bf16 or auto into an int (CG_PRECISION_*). */
int cli_set_precision(void *target, const cli_flag *f, const char *value);

/* Parse argv[1..argc) against the command's table into target; given[i]
 * (n_flags entries, zeroed here) says which were given. 0, 1 for --help
 * (after printing the help on stdout),
 * or CLI_USAGE after one line on stderr (unknown flag, missing or bad
 * value, two flags that conflict, a flag given twice). Positional words
 * are an error unless positional is not NULL: then the first is stored
 * there (and a second is an error). */
int cli_parse_flags(const cli_command_flags *cmd, int argc, char **argv, void *target,
                    unsigned char *given, const char **positional);

/* The table entry of `name`, or NULL. */
const cli_flag *cli_find_flag(const cli_command_flags *cmd, const char *name);
/* The flag whose configuration field starts the library's message (e.g.
 * "optim.momentum: ..."), or NULL. */
const cli_flag *cli_flag_for_message(const cli_command_flags *cmd, const char *message);
/* "cgrad CMD: --flag: <the message after the field>" (or the message as
 * it is when no flag owns it); returns CLI_USAGE. */
int cli_config_error(const cli_command_flags *cmd, const char *message);

/* The --help text and the Markdown reference, from the table. */
void cli_print_help(FILE *f, const cli_command_flags *cmd);
void cli_print_markdown(FILE *f, const cli_command_flags *cmd);

/* docs/cli.md: every command's Markdown reference. */
void cli_print_reference(FILE *f);

/* Every command's table, for `cgrad help --markdown` and the tests. */
extern const cli_command_flags cli_train_flags, cli_eval_flags, cli_predict_flags,
    cli_export_flags, cli_tune_flags, cli_plot_flags, cli_watch_flags, cli_demo_saddle_flags,
    cli_demo_softmax2d_flags;
const cli_command_flags *const *cli_all_flags(int *n);

#endif
