/* SPDX-License-Identifier: MIT */
/* op_table.c: every op of the library, so tools and tests can iterate over
 * them (the gradient-check suite fails for an op it has no case for). */
#include "node.h"

#define OPS(X)                                                                          \
    X(add) X(sub) X(mul) X(div) X(neg) X(square) X(pow) X(exp) X(log) X(sqrt) X(relu)   \
    X(sigmoid) X(tanh) X(matmul) X(sum) X(mean) X(sum_axis) X(mean_axis) X(reshape)     \
    X(index) X(slice) X(softmax) X(log_softmax) X(softmax_cross_entropy)                \
    X(sigmoid_cross_entropy) X(argmax) X(hardmax) X(batch_norm) X(dropout) X(maximum)   \
    X(minimum) X(max_axis) X(concat) X(slice_axis) X(permute) X(gather) X(leaky_relu)   \
    X(elu) X(gelu) X(gelu_tanh) X(softplus) X(abs) X(clip) X(mse_loss) X(l1_loss)       \
    X(huber_loss) X(conv2d) X(max_pool2d) X(avg_pool2d) X(global_avg_pool2d)            \
    X(batch_norm2d)

#define DECLARE(name) extern const cg_op_def cg_op_##name;
OPS(DECLARE)
#define ENTRY(name) &cg_op_##name,
const cg_op_def *const cg_op_table[] = {OPS(ENTRY)};
const int cg_op_table_len = (int)(sizeof cg_op_table / sizeof cg_op_table[0]);

int cg_op_count(void) { return cg_op_table_len; }

const char *cg_op_name(int i)
{
    return i >= 0 && i < cg_op_table_len ? cg_op_table[i]->name : NULL;
}

int cg_op_differentiable(int i)
{
    return i >= 0 && i < cg_op_table_len && cg_op_table[i]->backward != NULL;
}
