/* main.c: `cgrad <command> [flags]`, dispatching to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cgrad <command> [flags]\n"
            "\n"
            "commands:\n"
            "  train      train a classifier (default: an MLP on Fashion-MNIST)\n"
            "  demo       saddle (optimizers near a saddle point), softmax2d (decision regions)\n"
            "  help       this text, or `cgrad help <command>` for a command's flags\n"
            "\n"
            "flags:\n"
            "  --version  print the version\n"
            "  --help     this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") == 0) return cli_train(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0) return cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("cgrad %s\n", CG_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "train") == 0) {
            cli_train_help(stdout);
            return CLI_OK;
        }
        if (argc > 2) {
            fprintf(stderr, "cgrad help: unknown command '%s' (commands: train, demo, help)\n", argv[2]);
            return CLI_USAGE;
        }
        usage(stdout);
        return CLI_OK;
    }
    fprintf(stderr, "cgrad: unknown command '%s' (commands: train, demo, help; try `cgrad --help`)\n", cmd);
    return CLI_USAGE;
}
