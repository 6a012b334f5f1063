/* SPDX-License-Identifier: MIT */
/* gradcheck_ops2.h: the ops whose gradient checks live in
 * dtest_gradcheck_ops2.c. dtest_gradcheck.c counts them as covered when it
 * walks the op table; dtest_gradcheck_ops2.c fails unless its cases cover
 * exactly these ops, each with a passing case. */
#ifndef CG_GRADCHECK_OPS2_H
#define CG_GRADCHECK_OPS2_H

static const char *const gradcheck_ops2[] = {
    "maximum",   "minimum", "max_axis", "concat", "slice_axis", "permute",  "gather",
    "leaky_relu", "elu",    "gelu",     "gelu_tanh", "softplus", "abs",     "clip",
    "mse_loss",  "l1_loss", "huber_loss",
};
#define N_GRADCHECK_OPS2 ((int)(sizeof gradcheck_ops2 / sizeof gradcheck_ops2[0]))

#endif
