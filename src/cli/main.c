/* SPDX-License-Identifier: MIT */
/* main.c: `cgrad <command> [flags]`, dispatching to the subcommands. */
#define _POSIX_C_SOURCE 200809L /* sleep */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"

typedef struct command {
    const char *name, *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    const cli_command_flags *flags;    /* NULL: the command prints its own help */
    int mpi;                           /* joins an MPI job under mpirun */
} command;

static char rank_errors[1 << 16];

static const command commands[] = {
    {"train", "train a classifier (default: an MLP on Fashion-MNIST)", cli_train, &cli_train_flags, 1},
    {"eval", "evaluate a checkpoint: accuracy, per-class precision/recall, confusion",
     cli_eval, &cli_eval_flags, 0},
    {"predict", "classify the examples of a file with a checkpoint", cli_predict, &cli_predict_flags, 0},
    {"export", "write a trained model as standalone C (--c DIR) or ONNX (--onnx FILE)", cli_export,
     &cli_export_flags, 0},
    {"tune", "hyperparameter search: many `train` trials, random, coarse to fine", cli_tune,
     &cli_tune_flags, 1},
    {"plot", "SVG charts of a `tune` search (accuracy vs parameters, learning curves)",
     cli_plot, &cli_plot_flags, 0},
    {"watch", "follow a running `train --out DIR` epoch by epoch", cli_watch, &cli_watch_flags, 0},
    {"demo", "saddle (optimizers near a saddle point), softmax2d (decision regions)", cli_demo, NULL, 0},
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *f)
{
    fprintf(f, "usage: cgrad <command> [flags]\n\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "this text, or `cgrad help <command>` for a command's flags");
    fprintf(f, "\nflags:\n  --version  print the version\n  --help     this text\n");
}

static const command *find(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    const command *c = find(cmd);
    if (c) {
        if (c->mpi && cg_dist_launched()) {
            if (!cg_dist_available()) {
                fprintf(stderr, "cgrad %s: started by mpirun, but this cgrad was built without MPI "
                                "(install libopenmpi-dev and rebuild)\n", cmd);
                return CLI_FAIL;
            }
            if (!(cli_dist = cg_dist_init(&argc, &argv))) return cli_fail("%s", cg_last_error());
            /* Ranks > 0 hold their error lines back (see below). */
            if (cg_dist_rank(cli_dist) > 0) setvbuf(stderr, rank_errors, _IOFBF, sizeof rank_errors);
        }
        int rc = c->run(argc - 1, argv + 1);
        /* An error on one rank stops them all instead of leaving the others
         * waiting in a collective. When every rank fails alike (a bad flag,
         * a diverged loss), rank 0 aborts first and the job shows its one
         * message; a rank > 0 that fails alone shows its own a moment later. */
        if (rc && cg_dist_size(cli_dist) > 1) {
            if (cg_dist_rank(cli_dist) > 0) sleep(2);
            fflush(stderr);
            cg_dist_abort(cli_dist, rc);
        }
        cg_dist_finalize(cli_dist);
        return rc;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("cgrad %s\n", CG_VERSION);
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2) {
            const command *h = find(argv[2]);
            if (!strcmp(argv[2], "--markdown")) { /* docs/cli.md, from the flag tables */
                cli_print_reference(stdout);
                return CLI_OK;
            }
            if (!h) {
                fprintf(stderr, "cgrad help: unknown command '%s' (try `cgrad --help`)\n", argv[2]);
                return CLI_USAGE;
            }
            if (!h->flags) return h->run(2, (char *[]){argv[2], "--help", NULL});
            cli_print_help(stdout, h->flags);
            return CLI_OK;
        }
        usage(stdout);
        return CLI_OK;
    }
    fprintf(stderr, "cgrad: unknown command '%s' (try `cgrad --help`)\n", cmd);
    return CLI_USAGE;
}
