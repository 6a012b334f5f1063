/* SPDX-License-Identifier: MIT */
/* demo.c: `cgrad demo NAME`, small runs that show an idea in a picture. */
#include "cli.h"
#include "flags.h"

#include <string.h>

int cli_demo(int argc, char **argv)
{
    /* argv[0] is "demo" */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: cgrad demo NAME [flags] (`cgrad demo NAME --help` for its flags)\n\n");
        cli_print_help(f, &cli_demo_saddle_flags);
        fprintf(f, "\n");
        cli_print_help(f, &cli_demo_softmax2d_flags);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "saddle") == 0) return cli_demo_saddle(argc - 1, argv + 1);
    if (strcmp(argv[1], "softmax2d") == 0) return cli_demo_softmax2d(argc - 1, argv + 1);
    return cli_usage("demo", "unknown demo '%s' (demos: saddle, softmax2d)", argv[1]);
}
