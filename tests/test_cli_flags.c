/* SPDX-License-Identifier: MIT */
/* test_cli_flags.c: walks every command's flag table (every command has
 * one, each demo too): each flag parses its
 * example value, appears in --help and in docs/cli.md (which must equal
 * what `cgrad help --markdown` prints), and each "not used here" rule
 * fires: the flags of its example are an error that names the flag. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cgrad.h"
#include "cli/flags.h"
#include "cli/train.h"

static char *slurp(FILE *f, size_t *n)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, k, m);
    fclose(m);
    *n = size;
    return buf;
}

/* Split a space-separated example into argv (argv[0] = the command). */
static int split_words(const char *cmd, const char *words, char *store, size_t size, char **argv)
{
    int n = 0;
    argv[n++] = (char *)cmd;
    snprintf(store, size, "%s", words);
    for (char *t = strtok(store, " "); t; t = strtok(NULL, " ")) argv[n++] = t;
    return n;
}

static void walk(const cli_command_flags *cmd, const char *docs)
{
    char *help = NULL;
    size_t help_n = 0;
    FILE *m = open_memstream(&help, &help_n);
    cli_print_help(m, cmd);
    fclose(m);
    for (int i = 0; i < cmd->n_flags; i++) {
        const cli_flag *f = &cmd->flags[i];
        char needle[96];
        snprintf(needle, sizeof needle, "  %s ", f->name);
        int in_help = strstr(help, needle) != NULL;
        snprintf(needle, sizeof needle, "  %s\n", f->name);
        in_help = in_help || strstr(help, needle) != NULL;
        if (!in_help) fprintf(stderr, "%s %s: not in --help\n", cmd->command, f->name);
        CHECK(in_help);
        snprintf(needle, sizeof needle, "| `%s` |", f->name);
        if (!strstr(docs, needle)) fprintf(stderr, "%s %s: not in docs/cli.md\n", cmd->command, f->name);
        CHECK(strstr(docs, needle) != NULL);
        CHECK(f->help && f->help[0]);
        CHECK(!f->value || f->set);

        /* The flag parses (a value flag its example). */
        /* Room for any command's options (tune's hold a search space);
         * each begins with what it shares with train. */
        static union {
            train_opts t;
            unsigned char any[1 << 18];
        } target;
        train_opts *t = &target.t;
        memset(&target, 0, sizeof target);
        cg_run_config_init(&t->cfg);
        unsigned char given[64];
        char *argv[16];
        int argc = 0;
        argv[argc++] = (char *)cmd->command;
        argv[argc++] = (char *)f->name;
        if (f->value) {
            CHECK(f->example != NULL || !strcmp(f->name, "--resume"));
            argv[argc++] = (char *)(f->example ? f->example : "x");
        }
        int rc = cli_parse_flags(cmd, argc, argv, t, given, NULL);
        if (rc) fprintf(stderr, "%s %s: does not parse its example\n", cmd->command, f->name);
        CHECK(rc == 0 && given[i]);

        if (!f->unused_example) continue;
        /* Where it is not used, the library's check names it. */
        char store[256];
        memset(&target, 0, sizeof target);
        cg_run_config_init(&t->cfg);
        argc = split_words(cmd->command, f->unused_example, store, sizeof store, argv);
        rc = cli_parse_flags(cmd, argc, argv, t, given, NULL);
        CHECK(rc == 0);
        int resolved = cg_run_config_resolve(&t->cfg);
        const cli_flag *named = resolved ? cli_flag_for_message(cmd, cg_last_error()) : NULL;
        if (named != f)
            fprintf(stderr, "%s %s: '%s' is %s (%s)\n", cmd->command, f->name, f->unused_example,
                    resolved ? "an error naming another flag" : "accepted", cg_last_error());
        CHECK(resolved != CG_OK && named == f);
    }
    free(help);
}

int main(void)
{
    FILE *d = fopen(CG_SOURCE_DIR "/docs/cli.md", "r");
    CHECK(d != NULL);
    if (!d) return 1;
    size_t docs_n;
    char *docs = slurp(d, &docs_n);
    fclose(d);
    char *want = NULL;
    size_t want_n = 0;
    FILE *m = open_memstream(&want, &want_n);
    cli_print_reference(m);
    fclose(m);
    int current = docs_n == want_n && memcmp(docs, want, want_n) == 0;
    if (!current) fprintf(stderr, "docs/cli.md is not current: run `make docs`\n");
    CHECK(current);

    int n;
    const cli_command_flags *const *all = cli_all_flags(&n);
    for (int i = 0; i < n; i++) walk(all[i], docs);
    /* Every command has a table (demo one per demo), and each table's
     * parser answers --help and refuses an unknown flag. */
    static const char *const commands[] = {"train", "eval", "predict", "export", "tune", "plot",
                                           "watch", "demo saddle", "demo softmax2d"};
    CHECK(n == (int)(sizeof commands / sizeof *commands));
    for (int i = 0; i < n && i < (int)(sizeof commands / sizeof *commands); i++) {
        CHECK(strcmp(all[i]->command, commands[i]) == 0);
        static unsigned char scratch[1 << 18], seen[64];
        char *help[] = {(char *)all[i]->command, "--help"}, *bad[] = {help[0], "--no-such-flag"};
        CHECK(cli_parse_flags(all[i], 2, help, scratch, seen, NULL) == 1);
        CHECK(cli_parse_flags(all[i], 2, bad, scratch, seen, NULL) == 2);
    }

    /* Conflicting flags are a usage error, whatever their order. */
    train_opts t;
    memset(&t, 0, sizeof t);
    cg_run_config_init(&t.cfg);
    unsigned char given[64];
    char *argv[] = {"train", "--weight-decay", "0.1", "--decoupled-weight-decay", "0.1"};
    CHECK(cli_parse_flags(&cli_train_flags, 5, argv, &t, given, NULL) == 2);
    char *twice[] = {"train", "--lr", "0.1", "--lr", "0.2"};
    CHECK(cli_parse_flags(&cli_train_flags, 5, twice, &t, given, NULL) == 2);
    free(docs);
    free(want);
    if (check_failures) return 1;
    printf("flag tables: all checks passed\n");
    return 0;
}
