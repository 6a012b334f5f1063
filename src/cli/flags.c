/* SPDX-License-Identifier: MIT */
/* flags.c: the parser, help and reference generated from a command's
 * flag table. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/flags.h"

static void *field_ptr(void *target, const cli_flag *f) { return (char *)target + f->offset; }

int cli_set_int(void *target, const cli_flag *f, const char *value)
{
    return cli_parse_int(value, (long)f->lo, (long)f->hi, field_ptr(target, f));
}

int cli_set_double(void *target, const cli_flag *f, const char *value)
{
    return cli_parse_double(value, f->lo, f->hi, field_ptr(target, f));
}

int cli_set_string(void *target, const cli_flag *f, const char *value)
{
    size_t size = (size_t)f->hi, n = strlen(value);
    if (n == 0 || n >= size) return cli_bad_value("'%s' must be 1 to %zu characters", value, size - 1);
    memcpy(field_ptr(target, f), value, n + 1);
    return 0;
}

int cli_set_precision(void *target, const cli_flag *f, const char *value)
{
    int p = cg_precision_from_name(value);
    if (p < 0) return cli_bad_value("'%s' is not one of fp32, bf16, auto", value);
    *(int *)field_ptr(target, f) = p;
    return 0;
}

int cli_set_u64(void *target, const cli_flag *f, const char *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *end || errno || value[0] == '-' || value[0] == '+')
        return cli_bad_value("'%s' is not a non-negative integer", value);
    *(uint64_t *)field_ptr(target, f) = (uint64_t)v;
    return 0;
}

const cli_flag *cli_find_flag(const cli_command_flags *cmd, const char *name)
{
    for (int i = 0; i < cmd->n_flags; i++)
        if (!strcmp(cmd->flags[i].name, name)) return &cmd->flags[i];
    return NULL;
}

/* A setter refused its value: "cgrad CMD: --flag: why (see ...)". A setter
 * that recorded nothing printed its own lines (tune's --train-args: the
 * train flags it parses). */
static int bad_value(const cli_command_flags *cmd, const cli_flag *f)
{
    const char *why = cli_take_bad_value();
    return *why ? cli_usage(cmd->command, "%s: %s", f->name, why) : CLI_USAGE;
}

int cli_parse_flags(const cli_command_flags *cmd, int argc, char **argv, void *target,
                    unsigned char *given, const char **positional)
{
    memset(given, 0, (size_t)cmd->n_flags);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_print_help(stdout, cmd); /* every command's --help, here once */
            return 1;
        }
        const cli_flag *f = cli_find_flag(cmd, a);
        if (!f) {
            if (strncmp(a, "-", 1) != 0 && positional && !*positional) {
                *positional = a;
                continue;
            }
            return cli_usage(cmd->command, strncmp(a, "--", 2) == 0 ? "unknown flag '%s'"
                                                                      : "unexpected argument '%s'", a);
        }
        int k = (int)(f - cmd->flags);
        if (given[k] && !f->repeat) return cli_usage(cmd->command, "%s is given twice", a);
        given[k] = 1;
        if (!f->value) {
            if (f->set) {
                if (f->set(target, f, NULL)) return bad_value(cmd, f);
            } else {
                *(int *)field_ptr(target, f) = 1;
            }
            continue;
        }
        if (i + 1 >= argc) return cli_usage(cmd->command, "%s needs a value (%s)", a, f->value);
        if (f->set(target, f, argv[++i])) return bad_value(cmd, f);
    }
    for (int k = 0; k < cmd->n_flags; k++) {
        const cli_flag *f = &cmd->flags[k];
        const cli_flag *other = f->conflicts ? cli_find_flag(cmd, f->conflicts) : NULL;
        if (given[k] && other && given[other - cmd->flags])
            return cli_usage(cmd->command, "%s and %s cannot be given together", f->name, other->name);
    }
    return 0;
}

const cli_flag *cli_flag_for_message(const cli_command_flags *cmd, const char *message)
{
    const cli_flag *best = NULL;
    for (int i = 0; i < cmd->n_flags; i++) {
        const char *field = cmd->flags[i].field;
        size_t n = field ? strlen(field) : 0;
        /* The first flag of a field wins (--weight-decay before
         * --decoupled-weight-decay). */
        if (n && !strncmp(message, field, n) && message[n] == ':' && !best) best = &cmd->flags[i];
    }
    return best;
}

int cli_config_error(const cli_command_flags *cmd, const char *message)
{
    const cli_flag *f = cli_flag_for_message(cmd, message);
    if (!f) return cli_usage(cmd->command, "%s", message);
    const char *rest = message + strlen(f->field) + 1;
    while (*rest == ' ') rest++;
    return cli_usage(cmd->command, "%s: %s", f->name, rest);
}

/* A help line: "  --flag VALUE" padded to 24 columns, then the text, its
 * later lines indented to the same column. */
static void help_entry(FILE *out, const cli_flag *f)
{
    char head[64];
    snprintf(head, sizeof head, "  %s%s%s", f->name, f->value ? " " : "", f->value ? f->value : "");
    fprintf(out, "%-24s", head);
    if (strlen(head) >= 24) fprintf(out, "\n%-24s", "");
    for (const char *p = f->help; *p; p++) {
        fputc(*p, out);
        if (*p == '\n') fprintf(out, "%-24s", "");
    }
    fputc('\n', out);
}

void cli_print_help(FILE *out, const cli_command_flags *cmd)
{
    fprintf(out, "usage: %s\n\n%s\n\n", cmd->usage, cmd->summary);
    for (int i = 0; i < cmd->n_flags; i++) help_entry(out, &cmd->flags[i]);
    fprintf(out, "%-24s%s\n", "  --help", "this text");
}

void cli_print_markdown(FILE *out, const cli_command_flags *cmd)
{
    fprintf(out, "## `cgrad %s`\n\n```\n%s\n```\n\n%s\n\n", cmd->command, cmd->usage, cmd->summary);
    if (cmd->n_flags == 0) return;
    if (cmd->resumable)
        fprintf(out, "| flag | value | what it does | with `--resume` |\n|---|---|---|---|\n");
    else
        fprintf(out, "| flag | value | what it does |\n|---|---|---|\n");
    for (int i = 0; i < cmd->n_flags; i++) {
        const cli_flag *f = &cmd->flags[i];
        fprintf(out, "| `%s` | %s%s%s | ", f->name, f->value ? "`" : "", f->value ? f->value : "",
                f->value ? "`" : "");
        for (const char *p = f->help; *p; p++) {
            if (*p == '\n') fputc(' ', out);
            else if (*p == '|') fputs("\\|", out);
            else fputc(*p, out);
        }
        if (!cmd->resumable) fprintf(out, " |\n");
        else
            fprintf(out, " | %s |\n", f->resume == CLI_RESUME_OK      ? "may change"
                                      : f->resume == CLI_RESUME_PHASE ? "starts a new schedule phase"
                                                                      : "from the checkpoint");
    }
    fputc('\n', out);
}

const cli_command_flags *const *cli_all_flags(int *n)
{
    static const cli_command_flags *const all[] = {
        &cli_train_flags, &cli_eval_flags,  &cli_predict_flags,     &cli_export_flags,
        &cli_tune_flags,  &cli_plot_flags,  &cli_watch_flags,       &cli_demo_saddle_flags,
        &cli_demo_softmax2d_flags};
    *n = (int)(sizeof all / sizeof *all);
    return all;
}

void cli_print_reference(FILE *out)
{
    int n;
    const cli_command_flags *const *all = cli_all_flags(&n);
    fprintf(out, "# Command-line reference\n\nGenerated by `cgrad help --markdown` from the "
                 "commands' flag tables (`make docs`); a test checks that it is current.\n\n");
    for (int i = 0; i < n; i++) cli_print_markdown(out, all[i]);
}
