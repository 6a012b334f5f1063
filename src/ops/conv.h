/* SPDX-License-Identifier: MIT */
/* conv.h: what tests may reach inside conv.c (not part of the public API). */
#ifndef CG_CONV_H
#define CG_CONV_H

/* 1: conv2d's products run in the portable loops (the path a build
 * without BLAS takes) instead of BLAS; 0 (the default): BLAS. Lets the
 * tests check both paths in one build. Not thread-safe: set it before
 * running graphs. */
void cg_conv_use_portable_gemm(int on);

#endif
