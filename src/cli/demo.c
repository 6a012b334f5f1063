/* SPDX-License-Identifier: MIT */
/* demo.c: `cgrad demo NAME`, small runs that show an idea in a picture. */
#include "cli.h"

#include <string.h>

int cli_demo(int argc, char **argv)
{
    /* argv[0] is "demo" */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: cgrad demo saddle [--out FILE.svg] [--steps N] [--lr LR]\n"
                   "       cgrad demo softmax2d [--classes C] [--hidden N] [--out FILE.svg]\n");
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "saddle") == 0) return cli_demo_saddle(argc - 2, argv + 2);
    if (strcmp(argv[1], "softmax2d") == 0) return cli_demo_softmax2d(argc - 2, argv + 2);
    return cli_fail("demo: unknown demo '%s' (demos: saddle, softmax2d)", argv[1]);
}
