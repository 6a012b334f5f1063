/* SPDX-License-Identifier: MIT */
/* cgrad.h: the one public header of cgrad, a deep-learning framework in C.
 *
 * Part 1 is the engine: a static computation graph (define, then run),
 * ops with shape inference, forward and backward, reverse-mode autodiff.
 * Part 2 is built on top: optimizers, data sets, layers and models.
 *
 * Conventions:
 *  - Functions that can fail return an int status (CG_OK = 0, negative on
 *    error) or a pointer (NULL on error). The reason is in cg_last_error().
 *    The library never prints or aborts on the user's behalf.
 *  - Every node belongs to one graph; the graph owns nodes and all their
 *    memory. cg_graph_free releases everything.
 *  - Tensors are dense, row-major, of cg_real (float, or double when the
 *    library is built with -DCG_DOUBLE=ON).
 */
#ifndef CGRAD_H
#define CGRAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef CG_DOUBLE
typedef double cg_real;
#else
typedef float cg_real;
#endif

#define CG_VERSION "0.1.0"
#define CG_MAX_DIMS 4
/* A placeholder dimension left open: set by what is fed (the batch size). */
#define CG_BATCH (-1)

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */
/* ---------------------------------------------------------------------- */

enum {
    CG_OK = 0,
    CG_ERR_ARG = -1,     /* NULL or out-of-range argument            */
    CG_ERR_SHAPE = -2,   /* shapes do not fit the op                 */
    CG_ERR_STATE = -3,   /* wrong call order, unfed placeholder, ... */
    CG_ERR_MEMORY = -4,  /* allocation failed                        */
    CG_ERR_IO = -5,      /* file could not be read or written        */
    CG_ERR_FORMAT = -6,  /* malformed file content                   */
    CG_ERR_NUMERIC = -7, /* NaN/inf where a finite value is required */
    CG_ERR_DIVERGED = -8 /* training diverged (see cg_fit): try a lower
                            learning rate                             */
};

/* The message of the last error in this thread ("" if none). */
const char *cg_last_error(void);
/* Forget the last error. */
void cg_clear_error(void);

/* Number of heap allocations the library has made (all threads). Used to
 * prove that a training step allocates nothing. */
size_t cg_alloc_count(void);

/* Threads for the products and loops. n > 0: exactly n. n = 0 (the
 * default): up to all cores, and training adapts the count to the load:
 * it times its steps at all cores and at fewer, runs the faster, and
 * checks again now and then (a machine that becomes busy, or idle, mid
 * run). Inference adapts the same way, batch by batch and from one call
 * to the next (cg_predict, cg_evaluate, cg_predict_graph,
 * cg_evaluate_graph; one count per graph), and leaves the count at its
 * choice. Results never depend on the count (the work is cut into parts
 * fixed by the shape and the machine's core count), so adapting it keeps
 * a run's bits. cg_get_threads: the most threads a step may use. */
void cg_set_threads(int n);
int cg_get_threads(void);

/* ---------------------------------------------------------------------- */
/* Random numbers: one small, portable PRNG (xoshiro256**, seeded through  */
/* splitmix64), so the same seed gives the same numbers on every machine.  */
/* ---------------------------------------------------------------------- */

typedef struct cg_rng { uint64_t s[4]; } cg_rng;

void cg_rng_seed(cg_rng *r, uint64_t seed);
uint64_t cg_rng_next(cg_rng *r);
/* Uniform in [0, 1). */
double cg_rng_uniform(cg_rng *r);
/* Standard normal (Box-Muller, no cached spare: state stays 4 words). */
double cg_rng_normal(cg_rng *r);
/* Uniform integer in [0, n). */
uint64_t cg_rng_below(cg_rng *r, uint64_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void cg_rng_shuffle(cg_rng *r, int *idx, int n);

/* ---------------------------------------------------------------------- */
/* Part 1: graph, nodes, ops, autodiff                                      */
/* ---------------------------------------------------------------------- */

typedef struct cg_graph cg_graph;
typedef struct cg_node cg_node;

/* A new empty graph, or NULL. Free with cg_graph_free. */
cg_graph *cg_graph_new(void);
void cg_graph_free(cg_graph *g);

/* Training mode (1, the default) or inference mode (0). Ops such as batch
 * norm and dropout behave differently in the two. */
void cg_graph_set_training(cg_graph *g, int training);
int cg_graph_training(const cg_graph *g);

/* The graph's own PRNG (dropout masks); seed it for reproducible runs. */
cg_rng *cg_graph_rng(cg_graph *g);

/* Profiling: time each op's forward and backward, node by node, to see
 * where a step goes. on = 1 starts (counters reset), 0 stops. Off by
 * default; off, it costs one branch per node. */
void cg_graph_profile(cg_graph *g, int on);
/* Seconds spent inside ops (forward and backward) since profiling began:
 * a step's time minus this is the framework's own overhead plus whatever
 * ran outside the graph (feeding, the optimizer). */
double cg_graph_profile_seconds(const cg_graph *g);
/* A table, one row per op node that ran: calls and microseconds per call
 * forward and backward, and its share of the total. Nodes fused into the
 * op before them (a bias add, an activation) show as part of it. */
int cg_graph_profile_report(const cg_graph *g, void *file /* FILE*, NULL = stdout */);

/* Precision (docs/precision.md). CG_PRECISION_FP32 (the default): all
 * arithmetic in fp32. CG_PRECISION_BF16: mixed precision: the matrix
 * products (cg_matmul, so dense layers, and cg_conv2d's, forward and
 * backward) take bf16 copies of their inputs and accumulate in fp32
 * through oneDNN; the variables, gradients, optimizer state, losses,
 * softmax and batch-norm statistics stay fp32 (so do products of a single
 * row).
 * It needs a build with oneDNN (libdnnl-dev) and a processor with AVX-512
 * BF16; otherwise, or when the environment variable CG_DISABLE_BF16 is set
 * (not "0"), CG_ERR_ARG with a message naming what is missing. The graph
 * is re-planned; weights are unchanged, so a checkpoint saved in either
 * precision loads in the other. CG_PRECISION_AUTO is for configurations
 * (cg_loop_config.precision): cg_precision_auto resolves it. */
enum { CG_PRECISION_FP32 = 0, CG_PRECISION_BF16 = 1, CG_PRECISION_AUTO = 2 };
int cg_graph_set_precision(cg_graph *g, int precision);
int cg_graph_precision(const cg_graph *g);
/* 1 when bf16 can run here; else 0 and the reason, a sentence, in why. */
int cg_bf16_supported(char *why, size_t size);
/* "fp32", "bf16", "auto" and back (-1 for any other name). */
const char *cg_precision_name(int precision);
int cg_precision_from_name(const char *name);
/* Multiply-adds per example of g's matrix products (K x N of each) and
 * convolutions (K x C/groups x kh x kw per output position). */
long cg_graph_product_size(const cg_graph *g);
/* The rule of "auto": bf16 when cg_bf16_supported and the products do at
 * least CG_BF16_AUTO_MIN multiply-adds per example; fp32 otherwise.
 * Measured (bench/bf16/README.md), bf16 steps were faster on every
 * configuration down to 784-10 (7,840 per example); below 4,096, not
 * measured, a step is mostly overhead and fp32 stays. Returns the choice,
 * and says it and why in a sentence. */
#define CG_BF16_AUTO_MIN 4096L
int cg_precision_auto(const cg_graph *g, char *why, size_t size);

/* --- Leaves --- */

/* A trainable variable of the given shape. `init` (may be NULL = zeros)
 * holds the initial values, copied. Variables' values live in one
 * contiguous parameter buffer, their gradients in one gradient buffer. */
cg_node *cg_variable(cg_graph *g, const char *name, int ndim, const int *shape,
                     const cg_real *init);
/* A scalar variable, for small examples. */
cg_node *cg_scalar_variable(cg_graph *g, const char *name, cg_real init);

/* A placeholder, fed at run time (like TF's placeholder + feed_dict).
 * shape[0] may be CG_BATCH: the leading dimension is set by what is fed. */
cg_node *cg_placeholder(cg_graph *g, const char *name, int ndim, const int *shape);

/* A constant tensor (values copied). */
cg_node *cg_constant(cg_graph *g, int ndim, const int *shape, const cg_real *values);
cg_node *cg_scalar(cg_graph *g, cg_real value);

/* --- Ops. Each returns a new node, or NULL with cg_last_error() set. A
 * NULL input gives NULL, so a chain of calls can be checked once at the
 * end; the message keeps the first failure. --- */

/* Elementwise binary ops. Broadcasting: same shape; either side a scalar
 * (one element); or one side a row vector [n] / [1, n] against [m, n]
 * (biases), or a column [m, 1] against [m, n]. */
cg_node *cg_add(cg_node *a, cg_node *b);
cg_node *cg_sub(cg_node *a, cg_node *b);
cg_node *cg_mul(cg_node *a, cg_node *b);
cg_node *cg_div(cg_node *a, cg_node *b);

/* Elementwise unary ops. */
cg_node *cg_neg(cg_node *a);
cg_node *cg_square(cg_node *a);
cg_node *cg_pow(cg_node *a, cg_real exponent);
cg_node *cg_exp(cg_node *a);
cg_node *cg_log(cg_node *a);
cg_node *cg_sqrt(cg_node *a);
cg_node *cg_relu(cg_node *a);
cg_node *cg_sigmoid(cg_node *a);
cg_node *cg_tanh(cg_node *a);

/* Matrix product of 2-D nodes: op(a) * op(b), op = transpose when the flag
 * is set. Runs through CBLAS gemm. */
cg_node *cg_matmul(cg_node *a, cg_node *b, int trans_a, int trans_b);

/* Sum / mean of all elements (scalar result) ... */
cg_node *cg_sum(cg_node *a);
cg_node *cg_mean(cg_node *a);
/* ... or over one axis, which is removed from the shape. */
cg_node *cg_sum_axis(cg_node *a, int axis);
cg_node *cg_mean_axis(cg_node *a, int axis);

/* Same data, new shape; at most one entry may be -1 (inferred). */
cg_node *cg_reshape(cg_node *a, int ndim, const int *shape);
/* a[i] along the first axis: shape loses its first dimension. */
cg_node *cg_index(cg_node *a, int i);
/* Rows [start, start+len) along the first axis. */
cg_node *cg_slice(cg_node *a, int start, int len);

/* Row-wise softmax of a 2-D node (numerically stable: the row max is
 * subtracted first), and its logarithm. */
cg_node *cg_softmax(cg_node *logits);
cg_node *cg_log_softmax(cg_node *logits);

/* Mean softmax cross-entropy over the batch, fused: the gradient with
 * respect to the logits is (softmax(z) - y) / m, computed directly.
 * `labels` is either [m] of class indices (stored as cg_real) or [m, C] of
 * one-hot / probability rows. Result: a scalar. */
cg_node *cg_softmax_cross_entropy(cg_node *logits, cg_node *labels);

/* Mean binary cross-entropy on logits z with targets y in [0, 1] (same
 * shape): mean(max(z,0) - z*y + log(1 + exp(-|z|))). Gradient
 * (sigmoid(z) - y) / n. Result: a scalar. */
cg_node *cg_sigmoid_cross_entropy(cg_node *logits, cg_node *targets);

/* Inference helpers (no gradient): index of the row max as [m], and the
 * one-hot of it as [m, C]. Ties go to the lowest index. */
cg_node *cg_argmax(cg_node *a);
cg_node *cg_hardmax(cg_node *a);

/* Batch normalisation of x [m, n] over the batch: see cg_batch_norm_layer
 * for the model-level API. gamma, beta are [n] variables; running_mean and
 * running_var are [n] non-trainable state nodes (cg_state). In training
 * mode: batch mean and biased variance normalise, and the running values
 * are updated as running = (1 - momentum) * running + momentum * batch, the
 * running variance taking the unbiased batch variance (PyTorch's
 * convention). In inference mode the running values normalise. */
cg_node *cg_batch_norm(cg_node *x, cg_node *gamma, cg_node *beta,
                       cg_node *running_mean, cg_node *running_var,
                       cg_real momentum, cg_real eps);

/* Inverted dropout: in training mode, each element is zeroed with
 * probability p and survivors are scaled by 1/(1-p); identity in inference
 * mode. Masks come from the graph's PRNG. */
cg_node *cg_dropout(cg_node *x, cg_real p);

/* --- Convolutional networks: ops on NCHW tensors [batch, channels,
 * height, width]. Spatial sizes follow PyTorch (floor division, no
 * ceil_mode). A 4-D placeholder may leave its batch dimension open. --- */

/* conv2d's padding that keeps the size at stride 1 ("same"): for each
 * axis, out = ceil(in / stride) and the padding that needs is split
 * evenly, the odd one after (TensorFlow's rule; PyTorch's padding="same"
 * at stride 1 is the same), so even kernels work too. */
#define CG_PAD_SAME (-1)

/* 2-D convolution (cross-correlation, like every framework) of x [N, C,
 * H, W] with w [K, C / groups, kh, kw] plus bias [K] (NULL: no bias):
 *   y [N, K, OH, OW],  OH = (H + 2 pad_h - dilation_h (kh - 1) - 1) / stride_h + 1
 * (likewise OW), zero padding of pad_h rows above and below (pad_w
 * columns left and right) or CG_PAD_SAME. groups >= 1 must divide C and
 * K: input channels are split into `groups` blocks, each convolved with
 * its K / groups filters (groups = C is a depthwise convolution). stride
 * and dilation >= 1; any kernel size. Runs as im2col + GEMM, threads over
 * the batch; its workspace is planned with the graph (no allocation per
 * step). Initialise w with cg_init_he_normal(r, w, C / groups * kh * kw,
 * K): fan_in is C / groups * kh * kw. CG_ERR_ARG for a parameter out of
 * range, CG_ERR_SHAPE when shapes disagree or no window fits. */
cg_node *cg_conv2d(cg_node *x, cg_node *w, cg_node *bias, int stride_h, int stride_w,
                   int pad_h, int pad_w, int dilation_h, int dilation_w, int groups);

/* Max and average pooling of x [N, C, H, W] over kernel_h x kernel_w
 * windows moved by stride (>= 1), with pad_h / pad_w (0 .. half the
 * kernel) on each side: [N, C, (H + 2 pad_h - kernel_h) / stride_h + 1,
 * likewise W]. Max ignores padding; its gradient goes to the first largest
 * value of each window. Average divides by kernel_h kernel_w, counting
 * padding as zeros (PyTorch's count_include_pad=True default). The usual
 * 2x2 max pool: cg_max_pool2d(x, 2, 2, 2, 2, 0, 0). */
cg_node *cg_max_pool2d(cg_node *x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w);
cg_node *cg_avg_pool2d(cg_node *x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                       int pad_h, int pad_w);
/* Mean of each plane: [N, C, H, W] -> [N, C]. */
cg_node *cg_global_avg_pool2d(cg_node *x);
/* [N, d1, d2, ...] -> [N, d1 d2 ...] (a reshape; op "reshape"), e.g.
 * between the last pooling and a dense layer. */
cg_node *cg_flatten(cg_node *x);

/* Batch normalisation over the channels of x [N, C, H, W] (PyTorch's
 * BatchNorm2d): per channel, statistics over the N H W values; gamma,
 * beta [C] variables, running_mean, running_var [C] state, with
 * cg_batch_norm's conventions (biased batch variance normalises; running
 * values updated with momentum, the variance unbiased by M / (M - 1), M =
 * N H W; inference mode normalises with them). Synchronised over MPI
 * ranks under cg_fit's sync_bn, as cg_batch_norm. */
cg_node *cg_batch_norm2d(cg_node *x, cg_node *gamma, cg_node *beta,
                         cg_node *running_mean, cg_node *running_var,
                         cg_real momentum, cg_real eps);

/* Non-trainable state (e.g. batch-norm running statistics): kept with the
 * model, never touched by an optimizer. `init` may be NULL (zeros). */
cg_node *cg_state(cg_graph *g, const char *name, int ndim, const int *shape,
                  const cg_real *init);

/* --- Running the graph --- */

/* Copy `n` rows of data into placeholder p (n fills an open batch
 * dimension; for a fixed shape n must equal shape[0]). */
int cg_feed(cg_node *p, const cg_real *data, int n);
/* The same by placeholder name. */
int cg_feed_by_name(cg_graph *g, const char *name, const cg_real *data, int n);
/* Set the batch size of every open dimension and return p's buffer so the
 * caller can fill it in place (no copy); NULL on error. */
cg_real *cg_feed_buffer(cg_node *p, int n);

/* Evaluate node `n` (and the nodes it depends on). */
int cg_forward(cg_node *n);
/* Evaluate `cost` (a scalar), then fill the gradient of cost with respect
 * to every node that depends on a variable. */
int cg_backward(cg_node *cost);

/* --- Reading nodes --- */

cg_graph *cg_node_graph(const cg_node *n);
const char *cg_node_name(const cg_node *n);
/* The op's name ("variable", "placeholder", "constant", "state", "add"...). */
const char *cg_node_op(const cg_node *n);
int cg_node_ndim(const cg_node *n);
/* Current shape; the batch dimension is whatever was last fed. */
int cg_node_dim(const cg_node *n, int axis);
size_t cg_node_size(const cg_node *n);
/* Pointers into the graph's memory; valid until the graph is re-planned
 * (a new batch size, a new node) or freed. Gradients are NULL for nodes no
 * variable feeds into. Values of variables may be written to set weights. */
cg_real *cg_node_value(cg_node *n);
cg_real *cg_node_grad(cg_node *n);
/* The first value, for scalars. */
cg_real cg_node_scalar(cg_node *n);
int cg_node_is_variable(const cg_node *n);

/* Nodes by index, in creation (= topological) order, and by name. */
int cg_graph_node_count(const cg_graph *g);
cg_node *cg_graph_node(cg_graph *g, int i);
cg_node *cg_graph_find(cg_graph *g, const char *name);

/* All trainable parameters as one contiguous buffer (plans memory first).
 * Variables are views into it, in creation order. */
size_t cg_graph_param_count(cg_graph *g);
cg_real *cg_graph_params(cg_graph *g);
cg_real *cg_graph_grads(cg_graph *g);

/* One line per node: id, op, name, shape, parameter count; a total. */
int cg_graph_print(cg_graph *g, void *file /* FILE*, NULL = stdout */);

/* --- The op table (for tools and tests) --- */
int cg_op_count(void);
const char *cg_op_name(int i);
/* 1 if the op has a backward (argmax/hardmax do not). */
int cg_op_differentiable(int i);

/* --- More ops (issue 24): broadcasting, layout, lookup, activations,
 * reductions over any axis, regression losses. docs/ops.md lists every op
 * with its shape rule and gradient convention. Axes may be negative,
 * counting from the last (-1 = the last), as in NumPy. --- */

/* Elementwise maximum / minimum of a and b, broadcast like cg_add. At a
 * tie (a == b) each side gets half the gradient (PyTorch's
 * torch.maximum convention); a NaN on either side gives NaN. cg_add, cg_sub, cg_mul, cg_div, cg_maximum
 * and cg_minimum all broadcast any pair of shapes NumPy does: aligned at
 * the last dimension, a missing or size-1 dimension stretches (the open
 * batch dimension matches only itself or 1); the gradient of a stretched
 * input is summed over what it was stretched across. */
cg_node *cg_maximum(cg_node *a, cg_node *b);
cg_node *cg_minimum(cg_node *a, cg_node *b);

/* Sum / mean / max over one axis; keepdim = 1 keeps it with size 1 (so
 * the result broadcasts against a), 0 removes it. cg_max_dim's gradient
 * goes to the first largest element along the axis (a NaN in the line is
 * the maximum, as in torch.max). For the max of all
 * elements: cg_max_dim(cg_reshape(a, 1, (int[]){-1}), 0, 0). */
cg_node *cg_sum_dim(cg_node *a, int axis, int keepdim);
cg_node *cg_mean_dim(cg_node *a, int axis, int keepdim);
cg_node *cg_max_dim(cg_node *a, int axis, int keepdim);

/* log_softmax over any axis of a node of any rank (cg_log_softmax is the
 * 2-D, per-row case). */
cg_node *cg_log_softmax_axis(cg_node *z, int axis);

/* Concatenate n nodes (1..5) along axis: all dimensions but that one
 * equal. Not along the open batch dimension. For more than 5 inputs,
 * concatenate results again. */
cg_node *cg_concat(int n, cg_node *const *nodes, int axis);
/* Entries [start, start + len) of axis, every other axis whole. A view of
 * a's memory (no copy) when only 1s precede the axis. */
cg_node *cg_slice_axis(cg_node *a, int axis, int start, int len);
/* Split a along axis into n pieces: sizes[k] entries each (sizes must sum
 * to the axis length), or equal pieces when sizes is NULL. out[0..n-1]
 * receives one cg_slice_axis node per piece. Returns CG_OK, or an error
 * code with out[] set to NULL from the failing piece on (earlier pieces
 * stay in the graph). */
int cg_split(cg_node *a, int axis, int n, const int *sizes, cg_node **out);

/* Permute axes: the result's axis k is a's axis perm[k] (torch.permute);
 * ndim must be a's rank and perm a permutation of 0..ndim-1. The data is
 * copied into the new order. cg_transpose swaps the last two axes. */
cg_node *cg_permute(cg_node *a, int ndim, const int *perm);
cg_node *cg_transpose(cg_node *a);

/* Embedding lookup: table [V, D...] gathered by indices [I...] (integers
 * stored as cg_real, like class labels) is [I..., D...], row k the table's
 * row indices[k]. The table's gradient is scatter-added (a row picked
 * twice gets both contributions); indices get none. An index that is not
 * an integer in [0, V) makes cg_forward/cg_backward fail with CG_ERR_ARG
 * and a message naming the index and its position. */
cg_node *cg_gather(cg_node *table, cg_node *indices);

/* Activations, PyTorch's definitions and derivatives:
 * leaky_relu: x > 0 ? x : slope * x (derivative at 0: slope);
 * elu: x > 0 ? x : alpha * (exp(x) - 1) (derivative at 0: alpha);
 * gelu: x * Phi(x), Phi the normal CDF through erf (approximate='none');
 * gelu_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 *   (approximate='tanh');
 * softplus: log(1 + exp(x)), x itself where x > 20 (beta 1, threshold 20);
 *   stable for any x;
 * abs: |x| (derivative at 0: 0);
 * clip: min(max(x, lo), hi), derivative 1 for lo <= x <= hi (both ends
 *   included, as torch.clamp) and 0 outside; lo > hi is CG_ERR_ARG. */
cg_node *cg_leaky_relu(cg_node *a, cg_real slope);
cg_node *cg_elu(cg_node *a, cg_real alpha);
cg_node *cg_gelu(cg_node *a);
cg_node *cg_gelu_tanh(cg_node *a);
cg_node *cg_softplus(cg_node *a);
cg_node *cg_abs(cg_node *a);
cg_node *cg_clip(cg_node *a, cg_real lo, cg_real hi);

/* Regression losses: the mean over every element of d = pred - target
 * (same shape, no broadcasting: a [m, 1] prediction against an [m] target
 * is CG_ERR_SHAPE, not an [m, m] loss). Scalar results; PyTorch's
 * MSELoss, L1Loss and HuberLoss with reduction='mean':
 * mse: d^2; l1: |d| (gradient sign(d), 0 at d = 0);
 * huber: d^2 / 2 where |d| <= delta, else delta (|d| - delta / 2)
 *   (delta > 0, else CG_ERR_ARG). The target gets a gradient too. */
cg_node *cg_mse_loss(cg_node *pred, cg_node *target);
cg_node *cg_l1_loss(cg_node *pred, cg_node *target);
cg_node *cg_huber_loss(cg_node *pred, cg_node *target, cg_real delta);
/* Binary cross-entropy on logits, per output (multi-label), mean over all
 * elements: PyTorch's BCEWithLogitsLoss. The same op as
 * cg_sigmoid_cross_entropy (targets in [0, 1], same shape as logits). */
cg_node *cg_bce_with_logits_loss(cg_node *logits, cg_node *targets);

/* ---------------------------------------------------------------------- */
/* Part 2: data sets                                                        */
/* ---------------------------------------------------------------------- */

/* A labelled data set held in memory. Features are kept as bytes (images,
 * 1 byte per pixel) or as floats (tabular data) and turned into cg_real
 * only when a batch is gathered, so a large image set costs 1 byte a pixel. */
/* How a CSV file's columns became features: each column numeric or text
 * (one-hot over its categories), the label column and its class names.
 * Learned from a training file, kept with the normaliser (so checkpoints
 * carry it) and applied to test files and inputs. See docs/data.md. */
typedef struct cg_table cg_table;

typedef struct cg_dataset {
    int n;               /* examples                                     */
    int d;               /* features per example                         */
    int n_classes;       /* 1 + the largest label (or as declared)       */
    uint8_t *x_u8;       /* [n, d] bytes, or NULL                        */
    float *x_f32;        /* [n, d] floats, or NULL                       */
    int32_t *y;          /* [n] class indices, or NULL (unlabelled)      */
    int rows, cols;      /* image shape when known (IDX), else 0         */
    cg_table *table;     /* CSV: the column encoding, or NULL; owned      */
    int channels;        /* with rows, cols: d = channels rows cols (IDX: 1) */
    float *t_f32;        /* [n, n_targets] numeric targets (regression,
                            multi-label; y is NULL then), or NULL          */
    int n_targets;
} cg_dataset;

/* Input normalisation, kept with a model: x' = (x * scale - mean) * inv_std
 * per feature (mean/inv_std NULL = 0 / 1). Bytes are scaled by 1/255. */
typedef struct cg_normalizer {
    int d;
    float scale;
    float *mean;         /* [d] or NULL */
    float *inv_std;      /* [d] or NULL */
    float *fill;         /* [d] or NULL: the raw value a missing (NaN) feature
                            takes (the training mean; for a one-hot text
                            column its most frequent category)            */
    cg_table *table;     /* the CSV column encoding the model reads, or NULL */
} cg_normalizer;

/* IDX files (MNIST layout), plain or gzip-compressed (detected by content).
 * Images must be ubyte with 3 dims, labels ubyte with 1 dim, equal counts. */
int cg_load_idx(const char *images_path, const char *labels_path, cg_dataset *out);

/* A CSV file with the default options (cg_load_csv_opts): has_header 1,
 * 0, or -1 to detect; label a column name, a 0-based index as text, or
 * NULL for the last column. */
int cg_load_csv(const char *path, const char *label, int has_header, cg_dataset *out);

/* CSV reading options (cg_csv_options_init gives the defaults). */
enum { CG_MISSING_IMPUTE = 0, CG_MISSING_ERROR = 1 };
enum { CG_UNKNOWN_ERROR = 0, CG_UNKNOWN_ZERO = 1 };
typedef struct cg_csv_options {
    const char *label;     /* label column: a name, a 0-based index as text,
                              or NULL for the last                          */
    int has_header;        /* 1, 0, or -1 to detect (default)               */
    char delimiter;        /* ',', ';', '\t', ' ' (runs of whitespace), or 0
                              to detect (default)                           */
    int missing;           /* CG_MISSING_IMPUTE (cells become NaN features,
                              which the normaliser fills) or CG_MISSING_ERROR */
    int unknown_category;  /* a text value the table does not know:
                              CG_UNKNOWN_ERROR, or CG_UNKNOWN_ZERO (all-zero
                              one-hot)                                       */
    const cg_table *table; /* encode as this table does (test sets, inputs);
                              NULL: learn the encoding from the file        */
    int targets;           /* 1: label names one or more comma-separated
                              columns ("price,volume") read as numbers into
                              out->t_f32 (regression, multi-label): each
                              must be numeric, with no missing cell        */
} cg_csv_options;
void cg_csv_options_init(cg_csv_options *o);
/* CSV as people write it (docs/data.md): delimiter and header detected,
 * RFC 4180 quoting, BOM, CRLF; numeric and text columns (text one-hot
 * encoded over its sorted categories); labels that are all non-negative
 * integers are class indices, any other labels are class names, sorted
 * (out->table's classes); missing cells (empty, NA, N/A, NaN, ?) become
 * NaN. Errors name file:line:column and are found before the matrix is
 * allocated; the file is read a block at a time, so loading needs little
 * more than the matrix itself. out->table records the encoding. */
int cg_load_csv_opts(const char *path, const cg_csv_options *o, cg_dataset *out);
/* Class names of a table (NULL when labels are indices or c is out of
 * range) and their count (0 then). */
int cg_table_n_classes(const cg_table *t);
/* The features a table's columns make (its one-hot columns widened). */
int cg_table_n_features(const cg_table *t);
/* The label column's 0-based index (-1: none) and, unless name is NULL,
 * its name. */
int cg_table_label_column(const cg_table *t, const char **name);
/* A table of numeric targets (cg_csv_options.targets): their count (0:
 * none) and target k's column name (NULL when out of range). */
int cg_table_n_targets(const cg_table *t);
const char *cg_table_target_name(const cg_table *t, int k);
const char *cg_table_class_name(const cg_table *t, int c);
/* "'age' 3 (mean), 'color' 1 (most frequent value)": the missing cells per
 * column of the file the table was last used on, or NULL when none
 * (allocated; free with cg_free_string). */
char *cg_table_missing_summary(const cg_table *t);
/* The table as JSON and back (checkpoints); cg_table_free drops a
 * reference. */
char *cg_table_to_json(const cg_table *t);
cg_table *cg_table_from_json(const char *json);
void cg_table_free(cg_table *t);

/* NumPy .npy, 2-D, C order, dtype <f4, <f8 or |u1. The label column is
 * chosen as for CSV by index (NULL = last). */
/* NumPy .npy, C order, dtype <f4, <f8 or |u1. 2-D: rows of features, the
 * label column chosen as for CSV by index (NULL = last). 4-D [n, C, H, W]:
 * images, each a row of C H W features with the shape kept (channels,
 * rows, cols), labelled by NAME.labels.npy beside NAME.npy (1-D, n
 * integers: int64, int32, int8, uint8 or whole floats); label must be
 * NULL. */
int cg_load_npy(const char *path, const char *label, cg_dataset *out);

/* Load by name: "fashion-mnist" (Debian's dataset-fashion-mnist package),
 * a directory with MNIST-named IDX files, or a .csv / .npy file. train
 * selects train-* or t10k-* files for IDX directories. */
int cg_load_dataset(const char *spec, const char *label, int train, cg_dataset *out);
/* The same with CSV options (o->label is the label column; NULL o: the
 * defaults). */
int cg_load_dataset_opts(const char *spec, int train, const cg_csv_options *o, cg_dataset *out);

/* Unlabelled inputs for prediction: features only, for a model taking d
 * features (out->y NULL, n_classes 0). path is
 *  - an IDX images file (ubyte, 3 dims, plain or gzip) of rows x cols =
 *    d pixels, kept as bytes;
 *  - a .npy file, 2-D [n, d] of <f4, <f8 or |u1, or [n, d + 1] whose label
 *    column (a 0-based index as text; NULL = the last) is dropped;
 *  - a .csv file (header detected as cg_load_csv does) of d columns, or of
 *    d + 1 with the label column (a name or an index; NULL = the last)
 *    dropped, its cells unread;
 *  - "-": CSV read from stdin.
 * Other names are told apart by content: the .npy magic, gzip or IDX magic
 * (IDX), else CSV. label is ignored when rows have d columns. Rows of any
 * other width give CG_ERR_SHAPE ("path: rows have 5 features, the model
 * takes 4"). */
int cg_load_inputs(const char *path, int d, const char *label, cg_dataset *out);
/* The same with CSV options: with o->table, a CSV file is read as that
 * table's columns (the label column optional, dropped unread) and encoded
 * by it, and d must be its feature count. */
int cg_load_inputs_opts(const char *path, int d, const cg_csv_options *o, cg_dataset *out);

/* Frees the buffers of ds (labelled or not) and zeroes it. */
void cg_dataset_free(cg_dataset *ds);

/* Synthetic data: n_per_class points of each of `classes` Gaussian blobs
 * (standard deviation stddev) in `dims` dimensions, centres on a circle in
 * the first two coordinates, well separated. Labels cycle 0,1,..,C-1. */
int cg_make_blobs(int n_per_class, int classes, int dims, double stddev, uint64_t seed,
                  cg_dataset *out);

/* Split off the last `frac` of a shuffled order as validation set: the first
 * part goes to train, the rest to val (both new data sets). */
int cg_dataset_split(const cg_dataset *ds, double frac, uint64_t seed,
                     cg_dataset *train, cg_dataset *val);

/* The same split without a copy of the training part: ds's rows are
 * reordered in place and ds keeps the training rows (as train above, in
 * the same order); val gets a copy of the validation rows. For a large
 * set this saves a copy of it. On error ds may be reordered. */
int cg_dataset_split_inplace(cg_dataset *ds, double frac, uint64_t seed, cg_dataset *val);

/* Fit a normaliser on ds: scale 1/255 for bytes, 1 for floats; if
 * standardize, per-feature mean and 1/std (std 0 gives inv_std 1). */
int cg_normalizer_fit(cg_normalizer *nz, const cg_dataset *ds, int standardize);
void cg_normalizer_free(cg_normalizer *nz);

/* Gather examples idx[0..m) into x [m, d] (normalised) and y [m] (labels as
 * cg_real). nz may be NULL (bytes scaled by 1/255, floats as they are).
 * x or y may be NULL; y is not written when ds has no labels (ds->y NULL,
 * as from cg_load_inputs). With numeric targets (ds->t_f32), y gets
 * n_targets values a row, as they are. */
void cg_dataset_gather(const cg_dataset *ds, const cg_normalizer *nz,
                       const int *idx, int m, cg_real *x, cg_real *y);

/* ---------------------------------------------------------------------- */
/* Part 2: optimizers                                                       */
/* ---------------------------------------------------------------------- */

typedef struct cg_optimizer cg_optimizer;

/* Optimizers update every trainable variable of a graph from its gradients.
 * Each keeps its state (velocity, moments) in buffers allocated once, on
 * the first update (or cg_optimizer_prepare), sized to the graph's
 * parameter count; later updates allocate nothing. Using one optimizer on a
 * graph with a different parameter count is an error (CG_ERR_STATE).
 * Constructors return NULL with cg_last_error() set (CG_ERR_ARG) when an
 * argument is out of range; the message names the bad value. Hyper-
 * parameters: lr > 0 and finite; betas in [0, 1); eps > 0.
 *
 * Per update, with g the gradient of a parameter w and lr the current
 * learning rate (schedule and warm-up applied, see below):
 *   1. every gradient must be finite, else CG_ERR_NUMERIC and nothing moves;
 *   2. clipping: g = clamp(g, -v, v) (cg_optimizer_set_clip_value), then, if
 *      the global norm ||g|| over all parameters exceeds max_norm,
 *      g *= max_norm / ||g|| (cg_optimizer_set_clip_norm);
 *   3. weight decay wd: coupled (L2) g += wd * w, or decoupled (AdamW style)
 *      w -= lr * wd * w, using w before this update;
 *   4. the optimizer's own rule, below. */

/* Plain gradient descent: w -= lr * g. Name "sgd". */
cg_optimizer *cg_sgd(double lr);

/* Heavy-ball momentum, PyTorch's convention (velocity v starts at 0):
 *   v = beta * v + g;  w -= lr * v
 * or with Nesterov on (cg_optimizer_set_nesterov, or cg_nesterov):
 *   v = beta * v + g;  w -= lr * (g + beta * v).
 * Name "momentum" ("nesterov" when Nesterov is on). Typical beta: 0.9
 * (CG_MOMENTUM_BETA). */
#define CG_MOMENTUM_BETA 0.9
cg_optimizer *cg_momentum(double lr, double beta);
/* cg_momentum with Nesterov on. */
cg_optimizer *cg_nesterov(double lr, double beta);

/* RMSprop (s starts at 0):
 *   s = beta * s + (1 - beta) * g^2;  w -= lr * g / (sqrt(s) + eps).
 * Name "rmsprop". Typical: beta 0.9, eps 1e-8. */
cg_optimizer *cg_rmsprop(double lr, double beta, double eps);

/* Adam, bias-corrected, at step t = 1, 2, ... (m, v start at 0):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   m_hat = m / (1 - b1^t); v_hat = v / (1 - b2^t);
 *   w -= lr * m_hat / (sqrt(v_hat) + eps).
 * Name "adam" ("adamw" once decoupled weight decay > 0 is set). */
#define CG_ADAM_BETA1 0.9
#define CG_ADAM_BETA2 0.999
#define CG_ADAM_EPS 1e-8
cg_optimizer *cg_adam(double lr, double beta1, double beta2, double eps);
/* cg_adam(lr, 0.9, 0.999, 1e-8). */
cg_optimizer *cg_adam_default(double lr);
/* AdamW: cg_adam_default(lr) with decoupled weight decay wd (>= 0). */
cg_optimizer *cg_adamw(double lr, double weight_decay);

/* The optimizers by name, from one table (its order is the one below):
 *   "sgd"       lr 0.1
 *   "momentum"  lr 0.01, momentum 0.9
 *   "nesterov"  lr 0.01, momentum 0.9
 *   "rmsprop"   lr 0.001, beta1 0.9 (its beta), eps 1e-8
 *   "adam"      lr 0.001, beta1 0.9, beta2 0.999, eps 1e-8
 *   "adamw"     adam with decoupled weight decay 0.01 (torch.optim.AdamW)
 * Every optimizer also takes weight_decay (default 0; adamw 0.01): L2 in
 * the gradient (torch.optim.Adam's weight_decay) for all but adamw, whose
 * decay is decoupled. cg_optimizer_from_name makes one with its defaults
 * and learning rate lr (cg_optimizer_default(name, "lr") for its usual
 * one); NULL with CG_ERR_ARG and a message listing the valid names for
 * another name, or naming a bad lr. */
cg_optimizer *cg_optimizer_from_name(const char *name, double lr);
/* The table: its size, the i-th name (NULL out of range), and a one-line
 * summary of the named optimizer (NULL if unknown). */
int cg_optimizer_count(void);
const char *cg_optimizer_name_at(int i);
const char *cg_optimizer_summary(const char *name);
/* Whether the optimizer of that name uses the hyperparameter `hyper`:
 * "lr" and "weight_decay" (all), "momentum" (momentum, nesterov), "beta1"
 * and "eps" (adam, adamw, rmsprop: its beta is beta1), "beta2" (adam,
 * adamw). 0 for an unknown name or hyperparameter. */
int cg_optimizer_uses(const char *name, const char *hyper);
/* Its default value of `hyper` (as above); NaN when it does not use it or
 * the name is unknown. */
double cg_optimizer_default(const char *name, const char *hyper);

void cg_optimizer_free(cg_optimizer *o);

/* Weight decay wd >= 0 (0, the default, turns it off): decoupled = 0 adds
 * wd * w to the gradient (L2), decoupled = 1 shrinks w -= lr * wd * w
 * (AdamW). CG_ERR_ARG for a negative or non-finite wd. */
int cg_optimizer_set_weight_decay(cg_optimizer *o, double wd, int decoupled);
/* Clip the global gradient norm to max_norm > 0 (0 turns it off, the
 * default). */
int cg_optimizer_set_clip_norm(cg_optimizer *o, double max_norm);
/* Clamp every gradient to [-v, v], v > 0 (0 turns it off, the default). */
int cg_optimizer_set_clip_value(cg_optimizer *o, double v);
/* Nesterov momentum on (1) or off (0); CG_ERR_ARG for optimizers without
 * momentum (sgd, rmsprop, adam). */
int cg_optimizer_set_nesterov(cg_optimizer *o, int on);
/* A new base learning rate lr0 (> 0), kept with the schedule. */
int cg_optimizer_set_lr(cg_optimizer *o, double lr);

/* Learning-rate schedules by epoch (e = 0, 1, ... as set by
 * cg_optimizer_set_epoch), from the base rate lr0:
 *   CG_LR_CONSTANT      lr0                            (no params)
 *   CG_LR_INVERSE_TIME  lr0 / (1 + k e)                params {k >= 0}
 *   CG_LR_EXPONENTIAL   lr0 * r^e                      params {r > 0}
 *   CG_LR_STEP          lr0 * gamma^floor(e / n)       params {n >= 1 integer, gamma > 0}
 *   CG_LR_COSINE        lr_min + (lr0 - lr_min)(1 + cos(pi min(e,T) / T)) / 2
 *                                                      params {T > 0, lr_min >= 0}
 * (after T epochs the cosine schedule stays at lr_min). */
enum {
    CG_LR_CONSTANT = 0,
    CG_LR_INVERSE_TIME = 1,
    CG_LR_EXPONENTIAL = 2,
    CG_LR_STEP = 3,
    CG_LR_COSINE = 4
};
#define CG_LR_MAX_PARAMS 2
/* Set the schedule; params holds CG_LR_MAX_PARAMS values (unused ones are
 * ignored; may be NULL for CG_LR_CONSTANT). CG_ERR_ARG for an unknown kind
 * or an out-of-range parameter. */
int cg_optimizer_set_schedule(cg_optimizer *o, int kind, const double *params);
/* Linear warm-up over the first `steps` updates: update t (1-based) uses
 * lr * min(1, t / steps). 0 (the default) turns it off. */
int cg_optimizer_set_warmup(cg_optimizer *o, int steps);
/* The schedule's phase begins at `epoch`: the schedule above sees epoch -
 * start (0 before it). A resumed run that changes its rate or schedule
 * starts a new phase at its first epoch. Default 0. */
int cg_optimizer_set_schedule_start(cg_optimizer *o, int epoch);
/* The training loop calls this at the start of each epoch (epoch >= 0). */
int cg_optimizer_set_epoch(cg_optimizer *o, int epoch);
/* The learning rate the next update will use (schedule and warm-up
 * applied); 0 for a NULL optimizer. */
double cg_optimizer_lr(const cg_optimizer *o);
/* Parse a schedule spec: "none" (or "constant"), "inverse:K", "exp:R",
 * "step:N:GAMMA", "cosine:T" or "cosine:T:LR_MIN" into *kind and
 * params[CG_LR_MAX_PARAMS]. CG_ERR_ARG with a message quoting the spec and
 * the valid forms when it is malformed or out of range. */
int cg_lr_schedule_parse(const char *spec, int *kind, double *params);
/* The spec of a schedule, as cg_lr_schedule_parse reads it ("cosine:10",
 * "none"), into buf of size bytes. */
void cg_lr_schedule_format(int kind, const double *params, char *buf, size_t size);

/* An optimizer's settings and counters as JSON (allocated; free with
 * cg_free_string): {"config": the optimizer's part of a run configuration
 * (cg_optim_config), "schedule": (cg_schedule_config), "epoch": E, "step":
 * "T"}. Its state buffers are not included (see cg_optimizer_state). */
char *cg_optimizer_to_json(const cg_optimizer *o);
/* A new optimizer from such JSON; NULL with CG_ERR_FORMAT naming the field. */
cg_optimizer *cg_optimizer_from_json(const char *json);

/* Apply one update to every variable of g from the current gradients.
 * CG_ERR_NUMERIC (nothing changed) if a gradient is NaN or infinite. */
int cg_optimizer_update(cg_optimizer *o, cg_graph *g);

/* State, for checkpoints. */
/* "sgd", "momentum", "nesterov", "rmsprop", "adam" or "adamw" (NULL for a
 * NULL optimizer). */
const char *cg_optimizer_name(const cg_optimizer *o);
/* Updates made so far (Adam's t; warm-up counts these too). */
long cg_optimizer_step_count(const cg_optimizer *o);
int cg_optimizer_set_step_count(cg_optimizer *o, long t);
/* Allocate the state buffers for graph g now (zeros) if not yet done, so a
 * checkpoint can be restored into them before the first update. */
int cg_optimizer_prepare(cg_optimizer *o, cg_graph *g);
/* State buffer `which` (0 = velocity / first moment m, 1 = second moment:
 * RMSprop's s, Adam's v), writable, of *n values (one per parameter, in
 * cg_graph_params order). NULL and *n = 0 if the optimizer has no such
 * state or it is not allocated yet. n may be NULL. */
cg_real *cg_optimizer_state(cg_optimizer *o, int which, size_t *n);
/* Name a node after creation (names are unique in a graph). */
int cg_node_set_name(cg_node *n, const char *name);
/* Non-trainable state (batch-norm running statistics), contiguous. */
size_t cg_graph_state_count(cg_graph *g);
cg_real *cg_graph_state(cg_graph *g);

/* One training step, like TF's optimizer.minimize(cost): forward, backward
 * and update. The cost's value is left in *loss if loss is not NULL.
 * CG_ERR_NUMERIC (no update) if the cost or a gradient is NaN/inf. */
int cg_minimize_step(cg_optimizer *o, cg_node *cost, cg_real *loss);

/* ---------------------------------------------------------------------- */
/* Part 2: the run configuration                                            */
/* ---------------------------------------------------------------------- */

/* One training run written down as data (Keras's get_config/from_config):
 * what model, which optimizer and schedule, how the loop runs, on what
 * data. Each part converts to and from JSON in the module that owns it; a
 * checkpoint stores the whole of it, and `cgrad train` fills it from its
 * flags, resume and tune trials read it back. Plain data: no pointers, so
 * a struct copy is a copy. A number left NaN (or a name left "") means
 * "the default"; cg_run_config_resolve turns every default into the value
 * the run will use, so a stored configuration never depends on a later
 * version's defaults. */
#define CG_MAX_HIDDEN 64
#define CG_NAME_LEN 32
#define CG_PATH_LEN 1024

/* One layer of an architecture (cg_model_config.layers), as `--arch`
 * writes it (cg_arch_parse): "dense128", "conv32x3" (32 filters 3x3,
 * stride 1, "same" padding), "conv64x3s2" (stride 2), "conv64x5p0"
 * (padding 0 each side; s and p may both be given, s first),
 * "maxpool2" / "avgpool2" (2x2 windows, stride 2; "maxpool3s2": stride
 * 2), "gap" (global average pooling), "bn" (batch norm), "dropout0.3",
 * "flatten". */
#define CG_MAX_LAYERS 64
enum {
    CG_LAYER_DENSE = 1, CG_LAYER_CONV, CG_LAYER_MAX_POOL, CG_LAYER_AVG_POOL, CG_LAYER_GAP,
    CG_LAYER_BN, CG_LAYER_DROPOUT, CG_LAYER_FLATTEN
};
typedef struct cg_layer_config {
    int kind;                     /* CG_LAYER_*                           */
    int size;                     /* dense: units; conv: filters          */
    int kernel;                   /* conv, pools: square window           */
    int stride;                   /* conv (1), pools (the kernel)         */
    int padding;                  /* conv: each side, or CG_PAD_SAME      */
    double rate;                  /* dropout                              */
} cg_layer_config;

/* Model: either hidden dense layers, each followed by batch norm
 * (optional), the activation and dropout (optional); or an architecture,
 * a list of layers (n_layers > 0; then n_hidden must be 0 and batch_norm,
 * dropout unset: bn and dropout are layers of the list), where the
 * activation follows each conv and dense layer (after its batch norm
 * when a "bn" comes next). The output layer is added at build, after a
 * flatten if the last layer leaves an image. */
typedef struct cg_model_config {
    int n_layers;                 /* 0 = the hidden list below            */
    cg_layer_config layers[CG_MAX_LAYERS];
    int n_hidden;                 /* 0 = softmax regression               */
    int hidden[CG_MAX_HIDDEN];    /* widths                               */
    int activation;               /* CG_RELU, CG_TANH, CG_SIGMOID; -1 = the
                                     default (relu; none without hidden layers) */
    int batch_norm;               /* 0/1: between each dense and its activation */
    double dropout;               /* rate in [0, 1) after each hidden activation */
    int task;                     /* CG_TASK_* (0: classification)        */
    int loss;                     /* CG_LOSS_*; CG_LOSS_DEFAULT = the task's
                                     (cross-entropy, mse, bce)            */
} cg_model_config;

/* Optimizer: a name from the table above and its hyperparameters. A
 * hyperparameter the optimizer does not use must stay NaN (an error
 * otherwise: nothing given is silently ignored). */
typedef struct cg_optim_config {
    char name[CG_NAME_LEN];       /* "" = "adam"                          */
    double lr;                    /* NaN = the optimizer's default        */
    double momentum, beta1, beta2, eps; /* NaN = default / unused         */
    double weight_decay;          /* NaN = default (0; adamw 0.01)        */
    int decoupled;                /* -1 = the optimizer's own form (adamw:
                                     decoupled, the others: L2), 0 = L2 in
                                     the gradient, 1 = decoupled          */
    double clip_norm;             /* global gradient norm, 0 = off        */
    double clip_value;            /* clamp each gradient, 0 = off         */
} cg_optim_config;

/* Learning-rate schedule by epoch (see cg_optimizer_set_schedule). */
#define CG_LR_DEFAULT (-1)        /* cosine from lr to 0 over the run's epochs */
typedef struct cg_schedule_config {
    int kind;                     /* CG_LR_* or CG_LR_DEFAULT             */
    double params[CG_LR_MAX_PARAMS];
    int warmup;                   /* linear warm-up steps, 0 = off        */
    int start_epoch;              /* the phase began after this many epochs */
} cg_schedule_config;

/* The training loop. Epochs, batch and patience left CG_FROM_DATA (the
 * default) follow from the number of training rows and the model's cost,
 * by the rule of cg_loop_config_from_cost. CG_DEFAULT_MULTIPLY_ADDS is a
 * default run's compute: forward multiply-adds an example times examples
 * seen (the backward pass doubles it again), ten epochs of the default
 * 784-256-256-10 MLP on Fashion-MNIST's 54,000 training rows (1.45e11),
 * some seconds of a few cores. */
#define CG_FROM_DATA (-1)
#define CG_DEFAULT_UPDATES 4000
#define CG_DEFAULT_MULTIPLY_ADDS 1.5e11
#define CG_DEFAULT_MAX_EPOCHS 1000
#define CG_DEFAULT_MIN_VAL 100
/* A classifier's MLP (--hidden) left without a dropout rate (model.dropout
 * CG_FROM_DATA, cg_run_config_init's default) takes CG_DEFAULT_DROPOUT
 * after each hidden activation when its run has CG_DEFAULT_DROPOUT_EPOCHS
 * epochs or more, else none: cg_run_config_dropout_from_data. */
#define CG_DEFAULT_DROPOUT 0.2
#define CG_DEFAULT_DROPOUT_EPOCHS 20
typedef struct cg_loop_config {
    int epochs;                   /* total epochs                         */
    int batch;                    /* mini-batch size                      */
    double val_split;             /* fraction held out (default 0.1)      */
    int patience;                 /* early stopping, 0 = off              */
    uint64_t seed;                /* weights, split, shuffles (default 42) */
    int subset;                   /* train on the first N rows, 0 = all   */
    int sync_bn;                  /* MPI: global batch statistics         */
    int precision;                /* CG_PRECISION_FP32 (default), _BF16 or
                                     _AUTO (cg_precision_auto at start)   */
} cg_loop_config;

/* Data: where the rows come from and how inputs are normalised. */
typedef struct cg_data_config {
    char source[CG_PATH_LEN];     /* "fashion-mnist", an IDX dir, .csv, .npy */
    char test[CG_PATH_LEN];       /* "" = none (IDX dirs: their t10k files) */
    char label[CG_NAME_LEN * 4];  /* label column, "" = the last          */
    int standardize;              /* -1 = by data type (floats yes, bytes no) */
    char delimiter[8];            /* CSV: "" detect, ",", ";", "tab", "space" */
    char missing[8];              /* CSV missing cells: "impute" (default), "error" */
    char unknown_category[8];     /* CSV text value unseen in training: "error"
                                     (default) or "zero" (all-zero one-hot)  */
} cg_data_config;

/* The CSV reading options a data configuration asks for (label,
 * delimiter, missing cells, unknown categories; table NULL). */
void cg_data_config_csv(const cg_data_config *dc, cg_csv_options *o);
/* A delimiter's name as its character: ",", ";", "tab", "space" (also
 * "comma", "semicolon", "whitespace", a tab or a space); "" gives 0
 * (detect); -1 for anything else. */
int cg_delimiter_from_name(const char *name);

typedef struct cg_run_config {
    cg_model_config model;
    cg_optim_config optim;
    cg_schedule_config schedule;
    cg_loop_config loop;
    cg_data_config data;
} cg_run_config;

/* The defaults: an MLP 256-256 ReLU, adam with its defaults, the default
 * schedule, epochs, batch, patience and dropout from the data, 10% validation,
 * seed 42, fashion-mnist. */
void cg_run_config_init(cg_run_config *c);
/* Fill the loop's CG_FROM_DATA fields for n_train training rows and
 * n_val validation rows of a model of `multiply_adds` forward
 * multiply-adds an example (cg_model_multiply_adds), and say why in `why`
 * (a sentence; "" when every field was given). The rule: a batch of about
 * 1% of the rows as a power of two from 32 to 128 (at most the rows); as
 * many whole epochs as CG_DEFAULT_MULTIPLY_ADDS affords, and at least
 * enough for CG_DEFAULT_UPDATES updates (Adam's second moment averages
 * over 1,000), from 10 to CG_DEFAULT_MAX_EPOCHS; early stopping after a
 * tenth of the epochs (at least 5) without matching the best validation
 * accuracy, the best weights restored, when there are at least
 * CG_DEFAULT_MIN_VAL validation rows (fewer measure accuracy too coarsely
 * to stop on); else none (cg_train stops a regression or multi-label
 * run, which watches its continuous validation loss, with any validation
 * rows). cg_train applies it; a configuration stores the values it chose. multiply_adds 0 (unknown) leaves the updates alone to
 * set the epochs: cg_loop_config_from_data. */
int cg_loop_config_from_cost(cg_loop_config *lc, long n_train, long n_val, double multiply_adds,
                             char *why, size_t why_size);
int cg_loop_config_from_data(cg_loop_config *lc, long n_train, long n_val, char *why,
                             size_t why_size);
/* Fill model.dropout when it is CG_FROM_DATA, once the run's epochs are
 * known (given, or from cg_loop_config_from_cost): CG_DEFAULT_DROPOUT for
 * a classifier whose model is an MLP with hidden layers (--hidden, not an
 * architecture) trained for CG_DEFAULT_DROPOUT_EPOCHS epochs or more, else
 * 0. Why: a run of many passes over its rows lets the MLP memorise them
 * (training accuracy 1.0 while validation stalls), which dropout prevents;
 * dropout also slows fitting, so a run of few passes (Fashion-MNIST's 10)
 * keeps none. Appends the reason to `why` (a clause after "; "; nothing
 * when the rate was given or the model has no hidden layers to drop). */
int cg_run_config_dropout_from_data(cg_run_config *c, char *why, size_t why_size);
/* Fill every default with its value (the optimizer's lr and betas, the
 * schedule's horizon = the run's epochs; a model without hidden layers
 * takes ten times its optimizer's default lr: it is convex, so larger
 * steps are safe, and its weights have far to go; the loop's CG_FROM_DATA
 * fields stay for cg_loop_config_from_data, a CG_FROM_DATA dropout for
 * cg_run_config_dropout_from_data) and check the whole: a value out
 * of range, a hyperparameter the optimizer does not use, dropout or batch
 * norm without hidden layers, sync_bn without batch norm, patience without
 * a validation split: CG_ERR_ARG with a message naming the field (as its
 * JSON path, e.g. "optim.momentum") and why. */
int cg_run_config_resolve(cg_run_config *c);
/* The configuration as one JSON object {"model": {...}, "optim": {...},
 * "schedule": {...}, "loop": {...}, "data": {...}} (allocated; free with
 * cg_free_string), and back: a field missing from the JSON keeps its
 * default, an unknown field or a value of the wrong type is CG_ERR_FORMAT
 * naming it. */
char *cg_run_config_to_json(const cg_run_config *c);
int cg_run_config_from_json(const char *json, cg_run_config *c);

/* Built from a configuration (resolved first, on a copy): the optimizer
 * with its schedule, for a run of `epochs` epochs in all ... */
cg_optimizer *cg_optimizer_from_config(const cg_optim_config *oc, const cg_schedule_config *sc,
                                       int epochs);
typedef struct cg_model cg_model; /* see "Part 2: models" */
/* ... and the (unbuilt) model for n_inputs features and n_classes. */
cg_model *cg_model_from_config(const cg_model_config *mc, int n_inputs, int n_classes,
                               uint64_t seed);
/* The same for images of channels x height x width: the model takes the
 * shape when its architecture has conv or pooling layers (else the flat
 * features, as cg_model_from_config). An architecture with such layers on
 * flat inputs is CG_ERR_SHAPE ("model.arch: ..."). */
cg_model *cg_model_from_config_image(const cg_model_config *mc, int channels, int height,
                                     int width, int n_classes, uint64_t seed);
/* An architecture from text, comma-separated layers as `--arch` takes
 * them ("conv32x3,maxpool2,dense128"; see cg_layer_config): into
 * layers[0 .. *n), at most max. CG_ERR_ARG naming the bad layer and its
 * position ("arch: layer 3 'conv64x': ..."). One layer: cg_layer_parse. */
int cg_arch_parse(const char *text, cg_layer_config *layers, int max, int *n);
int cg_layer_parse(const char *text, cg_layer_config *layer);
/* And back: the canonical text of n layers (or one), always terminated;
 * CG_ERR_ARG if it does not fit in size bytes. */
int cg_arch_format(const cg_layer_config *layers, int n, char *buf, size_t size);
/* 1 if the architecture has layers that need image input. */
int cg_arch_needs_image(const cg_layer_config *layers, int n);

/* ---------------------------------------------------------------------- */
/* Part 2: models                                                           */
/* ---------------------------------------------------------------------- */

/* What a model's outputs are (docs/training.md, "Tasks"):
 *  - CG_TASK_CLASSIFICATION: one of C classes, softmax cross-entropy;
 *  - CG_TASK_REGRESSION: T numbers; the output layer is linear and trains
 *    on standardised targets ((y - mean) / std, from the training split)
 *    with CG_LOSS_MSE, CG_LOSS_MAE or CG_LOSS_HUBER (delta 1, in standard
 *    deviations); the model's "probs" node maps back to original units;
 *  - CG_TASK_MULTILABEL: T independent 0/1 labels, sigmoid outputs,
 *    binary cross-entropy with logits (CG_LOSS_BCE); "probs" holds the
 *    probabilities. */
enum { CG_TASK_CLASSIFICATION = 0, CG_TASK_REGRESSION = 1, CG_TASK_MULTILABEL = 2 };
enum { CG_LOSS_DEFAULT = 0, CG_LOSS_CROSS_ENTROPY, CG_LOSS_MSE, CG_LOSS_MAE, CG_LOSS_HUBER, CG_LOSS_BCE };
/* "classification", "regression", "multilabel"; "cross_entropy", "mse",
 * "mae", "huber", "bce" ("default" for CG_LOSS_DEFAULT); and back (-1 if
 * unknown). */
const char *cg_task_name(int task);
int cg_task_from_name(const char *name);
const char *cg_loss_name(int loss);
int cg_loss_from_name(const char *name);
/* The loss a task trains with by default, and 1 if `loss` fits `task`. */
int cg_task_default_loss(int task);
int cg_task_loss_fits(int task, int loss);

/* Activations (they also choose a dense layer's initialiser). */
enum { CG_LINEAR = 0, CG_RELU = 1, CG_TANH = 2, CG_SIGMOID = 3 };

/* "linear", "relu", "tanh", "sigmoid"; and back (-1 if unknown). */
const char *cg_activation_name(int activation);
int cg_activation_from_name(const char *name);

/* Initialisers, filling w [fan_in, fan_out] from r. He normal: N(0, 2 /
 * fan_in), for ReLU. Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in
 * + fan_out)), for tanh, sigmoid and linear outputs. */
void cg_init_he_normal(cg_rng *r, cg_real *w, int fan_in, int fan_out);
void cg_init_xavier_uniform(cg_rng *r, cg_real *w, int fan_in, int fan_out);

/* A fully connected layer on x [m, in]: returns the pre-activation x W + b.
 * Creates the variables "<prefix>.weight" [in, units] (initialised from
 * the graph's PRNG for the activation that follows: He normal for CG_RELU,
 * else Xavier uniform) and "<prefix>.bias" [units] (zeros). */
cg_node *cg_dense(cg_graph *g, cg_node *x, int units, int activation, const char *prefix);
/* The same without the bias (for a dense layer followed by batch norm,
 * whose beta plays the bias's part). */
cg_node *cg_dense_no_bias(cg_graph *g, cg_node *x, int units, int activation, const char *prefix);

/* A sequential classifier: input [CG_BATCH, n_inputs] -> the layers added
 * -> a dense output layer of n_classes logits (always appended at build).
 * Graph nodes: placeholders "x" [CG_BATCH, n_inputs] and "y" [CG_BATCH]
 * (class indices as cg_real), "logits", "loss" (mean softmax
 * cross-entropy), "probs" (softmax) and "pred" (argmax). */

cg_model *cg_model_new(int n_inputs, int n_classes, uint64_t seed);
void cg_model_free(cg_model *m);
/* Add layers (before the graph is built; CG_ERR_STATE after). */
int cg_model_add_dense(cg_model *m, int units);
int cg_model_add_activation(cg_model *m, int activation);
/* Batch normalisation of the previous layer's output (place it between a
 * dense layer and its activation: that dense layer then has no bias).
 * gamma starts at 1, beta at 0; running statistics (momentum 0.1, PyTorch's
 * convention, see cg_batch_norm) are state, not trainable; eps 1e-5. */
#define CG_BN_MOMENTUM 0.1
#define CG_BN_EPS 1e-5
int cg_model_add_batch_norm(cg_model *m, double momentum, double eps);
/* Inverted dropout with rate p in [0, 1), active only in training. */
int cg_model_add_dropout(cg_model *m, double p);
/* Convolutional layers. The input rows stay flat ([CG_BATCH, n_inputs],
 * fed as ever); cg_model_set_input_shape (before any layer, C H W =
 * n_inputs) makes the layers see them as images [N, C, H, W]. A conv layer
 * has a weight "<name>.weight" [filters, C, kernel, kernel] (He normal
 * when a ReLU follows, else Xavier uniform) and a bias "<name>.bias"
 * [filters] unless a batch norm follows it; padding is rows and columns
 * on each side, or CG_PAD_SAME (out = ceil(in / stride)). Pools have no
 * padding. Batch norm after an image layer normalises per channel
 * (cg_batch_norm2d). A dense layer after an image flattens it (a flatten
 * layer is added to the list), and so does the build before the output
 * layer. CG_ERR_SHAPE when a layer needs an image and has none, or its
 * window does not fit; CG_ERR_ARG for a size out of range. Layer names:
 * conv1, maxpool1, avgpool2, gap1, flatten1, ... */
int cg_model_set_input_shape(cg_model *m, int channels, int height, int width);
int cg_model_add_conv2d(cg_model *m, int filters, int kernel, int stride, int padding);
int cg_model_add_max_pool2d(cg_model *m, int kernel, int stride);
int cg_model_add_avg_pool2d(cg_model *m, int kernel, int stride);
int cg_model_add_global_avg_pool2d(cg_model *m);
int cg_model_add_flatten(cg_model *m);
/* 1 and shape = {C, H, W} when the model takes images, else 0. */
int cg_model_input_shape(const cg_model *m, int shape[3]);
/* Build the graph (done lazily by the functions below); CG_OK if built. */
int cg_model_build(cg_model *m);
/* The model's graph (built if needed), NULL on error. The graph API stays
 * usable on it; the model owns it. */
cg_graph *cg_model_graph(cg_model *m);
cg_node *cg_model_input(cg_model *m);
cg_node *cg_model_labels(cg_model *m);
cg_node *cg_model_logits(cg_model *m);
cg_node *cg_model_loss(cg_model *m);
cg_node *cg_model_probs(cg_model *m);
cg_node *cg_model_pred(cg_model *m);
int cg_model_n_inputs(const cg_model *m);
int cg_model_n_classes(const cg_model *m);
/* Make m (not built yet) a regression or multi-label model of n_outputs
 * outputs (its "classes"; the "y" placeholder is then [CG_BATCH,
 * n_outputs] in original units), trained with `loss` (CG_LOSS_DEFAULT:
 * the task's). Regression needs each output's target mean and std (> 0;
 * NULL: 0 and 1). CG_ERR_ARG for a loss that does not fit the task. */
int cg_model_set_task(cg_model *m, int task, int loss, int n_outputs, const double *mean,
                      const double *std);
/* The task (CG_TASK_*), its loss into *loss (may be NULL). */
int cg_model_task(const cg_model *m, int *loss);
/* Output k's target mean and std (regression; else 0 and 1). */
void cg_model_target_scale(const cg_model *m, int k, double *mean, double *std);
/* Class names (shown by eval/predict, kept in checkpoints): n names, one
 * per class, copied; names NULL clears them. */
int cg_model_set_class_names(cg_model *m, const char *const *names, int n);
/* The name of class c; NULL when names are unknown or c is out of range. */
const char *cg_model_class_name(const cg_model *m, int c);
/* The architecture as a JSON string (allocated; free with cg_free_string):
 * {"n_inputs":784,"n_classes":10,"seed":42,"layers":[{"type":"dense",
 * "name":"dense1","units":256,"bias":true},{"type":"activation","name":
 * "relu1","activation":"relu"},{"type":"batch_norm",...,"momentum":0.1,
 * "eps":1e-05},{"type":"dropout",...,"rate":0.2},...,{"type":"dense",
 * "name":"dense3","units":10,"bias":true,"output":true}]}: every layer in
 * order, the output layer last. NULL on error. */
char *cg_model_spec(cg_model *m);
/* A new (unbuilt) model from such a spec; CG_ERR_FORMAT naming the field
 * when the JSON is malformed or describes an impossible model. */
cg_model *cg_model_from_spec(const char *json);
void cg_free_string(char *s);
/* The multiply-adds of one example's forward pass: each dense layer's
 * inputs times units, each conv layer's output positions times filters
 * times kernel area times input channels, the output layer's; other
 * layers are not counted (a few operations a value). The backward pass
 * costs about twice as much. Built or not. */
double cg_model_multiply_adds(const cg_model *m);
/* Keras-like table: each layer's name and type, its output shape
 * ("(None, 32, 28, 28)": batch, channels, height, width; "(None, 128)"
 * when flat) and parameter count (batch norm's running statistics
 * included), the output layer, and the totals: all, trainable and
 * non-trainable. Builds the model if needed. */
int cg_model_summary(cg_model *m, void *file /* FILE*, NULL = stdout */);

/* --- Training --- */

/* The most metrics one fit reports (cg_fit_spec.metrics). */
#define CG_MAX_METRICS 8

typedef struct cg_epoch_metrics {
    int epoch;             /* 1-based                                    */
    int epochs;            /* of how many                                */
    double train_loss;     /* mean over the epoch's batches (by example) */
    double train_acc;
    double val_loss;       /* NaN when there is no validation set        */
    double val_acc;
    double seconds;        /* the whole epoch, validation included       */
    double examples_per_second; /* training examples / training time     */
    int improved;          /* the monitored value (val_acc for cg_fit) is
                              the best so far or ties it (the later of
                              equal epochs is kept: it trained longer)     */
    double best_val_acc;   /* the best monitored value so far (cg_fit: the
                              validation accuracy; NaN without validation) */
    int epochs_since_best;
    /* Every metric by name: cg_fit has one, "acc"; cg_fit_graph those of
     * its cg_fit_spec. train_acc and val_acc above are the first accuracy
     * metric's (NaN when there is none). */
    int n_metrics;
    const char *const *metric_names; /* [n_metrics]                       */
    const double *train_metrics; /* [n_metrics], over the epoch's training
                              batches as they went (Keras's convention)    */
    const double *val_metrics; /* [n_metrics], NaN without validation     */
    const char *monitor;   /* what improved, best_val_acc and patience
                              watch: "val_acc" (cg_fit), "val_loss",
                              "val_r2", ...; these pointers are valid
                              during the callback only                     */
} cg_epoch_metrics;

/* Called after each epoch; a non-zero return stops training (not an
 * error). */
typedef int (*cg_epoch_callback)(const cg_epoch_metrics *m, void *user);

/* Progress of cg_fit, reported to cg_fit_options.on_progress: what a
 * progress bar or a log needs, so that the library itself never prints. */
typedef enum cg_progress_phase {
    CG_PROGRESS_BATCH,      /* after each training step of an epoch       */
    CG_PROGRESS_EPOCH,      /* an epoch is done (validation included)     */
    CG_PROGRESS_STOPPED,    /* the epoch ends without its EPOCH report
                               (an error, divergence or on_step's stop)   */
    CG_PROGRESS_EARLY_STOP  /* patience ran out: `message` says so         */
} cg_progress_phase;

typedef struct cg_progress {
    cg_progress_phase phase;
    int epoch, epochs;     /* 1-based epoch, of how many                  */
    int step, steps;       /* training steps done in this epoch, of how
                              many                                         */
    double loss, acc;      /* running means over this epoch's examples so
                              far (BATCH, STOPPED)                         */
    double elapsed;        /* seconds since this epoch began              */
    int has_validation;    /* a validation set is evaluated each epoch    */
    const cg_epoch_metrics *metrics; /* EPOCH: the epoch's; else NULL     */
    const char *message;   /* EARLY_STOP: one line without a newline, e.g.
                              "early stopping: no better val_acc for 3
                              epochs (best 0.8512 at epoch 4); restoring
                              its weights"; else NULL                      */
    /* BATCH: every metric's running value over this epoch's examples so
     * far, named as in cg_epoch_metrics (cg_fit: "acc", equal to acc);
     * other phases: 0 and NULL. Valid during the call only. */
    int n_metrics;
    const char *const *metric_names;
    const double *values;
} cg_progress;

typedef void (*cg_progress_callback)(const cg_progress *p, void *user);

/* A Keras-like progress display for cg_fit, installed by a program:
 *     cg_progress_bar bar;
 *     cg_progress_bar_init(&bar, stderr);
 *     opt.on_progress = cg_progress_bar_callback;
 *     opt.progress_user = &bar;
 * On a terminal the bar of the current epoch is redrawn in place (at most
 * ten times a second) with its ETA, running loss and accuracy; anything
 * else (a pipe, a file) gets one line per epoch. Each epoch ends with one
 * line "Epoch 3/10 - 1.2s - loss: 0.4123 - acc: 0.8512 - val_loss: ... -
 * val_acc: ... - 51234 examples/s"; early stopping prints its message. */
typedef struct cg_progress_bar {
    void *file;            /* FILE* written to                            */
    int tty;               /* file is a terminal: redrawn bar             */
    int epoch;             /* the epoch being drawn                       */
    int drawn;             /* a partial bar is on the line                */
    double last_draw;      /* elapsed at the last redraw                  */
} cg_progress_bar;

/* Set up bar to write to file (FILE*; NULL = stderr). */
void cg_progress_bar_init(cg_progress_bar *bar, void *file);
/* A cg_progress_callback; user is a cg_progress_bar set up by
 * cg_progress_bar_init. */
void cg_progress_bar_callback(const cg_progress *p, void *user);

typedef struct cg_dist cg_dist; /* MPI ranks, see "Data-parallel training" */

typedef struct cg_fit_options {
    int epochs;            /* default 10                                  */
    int batch_size;        /* default 32; the last batch may be partial   */
    uint64_t seed;         /* shuffling; default 0                        */
    cg_epoch_callback on_epoch; /* may be NULL                            */
    void *user;            /* passed to on_epoch and on_step              */
    cg_progress_callback on_progress; /* progress reports (see
                              cg_progress); NULL (default) = silent: the
                              library prints nothing. Install
                              cg_progress_bar_callback for Keras's bar.    */
    void *progress_user;   /* passed to on_progress                       */
    int initial_epoch;     /* epochs already done (resuming): training
                              runs epochs initial_epoch+1 .. epochs, with
                              the shuffles and schedule those epochs would
                              have had in one run; default 0              */
    int patience;          /* early stopping: stop after this many epochs
                              without a validation accuracy that matches
                              or beats the best (for
                              cg_fit_graph: its monitored value); 0 =
                              off (default). Needs a validation set.       */
    int restore_best;      /* with patience: put back the weights (and
                              batch-norm statistics) of the best epoch,
                              as Keras's restore_best_weights; default 1  */
    double best_val_acc;   /* resuming: the best monitored value so far
                              (cg_fit: validation accuracy; NaN = none)   */
    int epochs_since_best; /* resuming: epochs since it                   */
    cg_dist *dist;         /* data-parallel over MPI ranks (NULL = this
                              process alone): weights are broadcast from
                              rank 0, each global batch of batch_size is
                              split evenly across ranks, gradients are
                              averaged; batch-norm statistics are per rank
                              (running ones averaged after each step);
                              validation is split and reduced; only rank
                              0 calls on_progress. Every rank calls cg_fit
                              with the same data and options.             */
    int sync_bn;           /* with dist: batch norm normalises with the
                              statistics of the global batch (summed over
                              ranks in forward and backward, PyTorch's
                              SyncBatchNorm); a last batch smaller than
                              the rank count is then skipped. Default 0.  */
    int (*on_step)(int step, double loss, void *user); /* after each
                              update (step counts from 1 in this call;
                              loss is the batch's); non-zero stops. May be
                              NULL.                                       */
    const char *checkpoint; /* a safetensors file (cg_graph_save_weights)
                              written, atomically, after every epoch that
                              improves the monitored value (every epoch
                              without validation), before on_epoch; NULL
                              (default) = none. Rank 0 writes it.          */
} cg_fit_options;

typedef struct cg_fit_result {
    int epochs;            /* epochs completed                            */
    double train_loss, train_acc, val_loss, val_acc; /* of the last epoch */
    double seconds;        /* total wall time                             */
    double examples_per_second; /* over all training steps              */
    int stopped_early;     /* patience ran out                            */
    int best_epoch;        /* epoch of the best validation accuracy (0 if
                              unknown; before initial_epoch if resumed)   */
    double best_val_acc;   /* the best monitored value (cg_fit: accuracy) */
    int n_metrics;         /* the metrics of the last epoch, as in
                              cg_epoch_metrics (cg_fit: 1, "acc")          */
    double train_metrics[CG_MAX_METRICS], val_metrics[CG_MAX_METRICS];
} cg_fit_result;

/* Defaults as documented above. */
void cg_fit_options_init(cg_fit_options *opt);

/* Train with mini-batches (reshuffled each epoch with opt->seed) of train,
 * normalised by nz (may be NULL), evaluating on val (may be NULL) after
 * each epoch. opt NULL = defaults; res may be NULL. The graph is left in
 * training mode.
 *
 * Before training, every feature value of train and val, as normalised
 * by nz, must be finite and at most 2^64 (the square root of FLT_MAX) in
 * magnitude, so that squares and products of two stay finite; else
 * CG_ERR_NUMERIC naming the set, row and column (raw values near FLT_MAX
 * without standardisation overflow). The weights and batch-norm
 * statistics must be finite too, and so must the loss of the first batch,
 * computed before any update (CG_ERR_NUMERIC: an overflow, not a
 * divergence).
 *
 * Divergence stops training with CG_ERR_DIVERGED and a message that
 * suggests a lower learning rate, before on_epoch sees the epoch (so a
 * checkpoint saved there is always of a good epoch). Training has
 * diverged when
 *   1. the loss or a gradient of a step is NaN or infinite (no update is
 *      made), or
 *   2. after an epoch, a weight or batch-norm statistic is NaN or
 *      infinite (checked once per epoch: a NaN can hide behind a ReLU and
 *      leave the loss finite), or
 *   3. an epoch's mean training loss exceeds CG_DIVERGENCE_FACTOR (10)
 *      times max(L0, ln C), where L0 is the loss of this call's first
 *      batch (the model as it starts) and ln C the loss of the uniform
 *      prediction over C classes. The bound is relative to what knowing
 *      nothing scores, so it does not depend on the data's scale or class
 *      count; a run that learns has epoch losses near or below L0, and a
 *      transient spike must be sustained over a whole epoch to average
 *      above ten times chance (a geometric-mean probability of the right
 *      class below C^-10). A learning rate far too high (--lr 1e6) gives
 *      epoch losses of 1e6 and more while accuracy stays at chance. */
#define CG_DIVERGENCE_FACTOR 10.0
/* cg_fit is cg_fit_graph's loop (below) with the model's loss, one metric
 * "acc" (accuracy of the logits against the labels) as the monitored
 * value, and batches gathered from cg_datasets through nz. */
int cg_fit(cg_model *m, cg_optimizer *o, const cg_dataset *train, const cg_dataset *val,
           const cg_normalizer *nz, const cg_fit_options *opt, cg_fit_result *res);

/* Mean loss and accuracy over ds in inference mode, in batches of `batch`
 * (<= 0: CG_EVAL_BATCH). loss or acc may be NULL. */
#define CG_EVAL_BATCH 256
int cg_evaluate(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                double *loss, double *acc);

/* cg_evaluate that also counts, in the same pass, confusion[y * C + p]
 * += 1 for each example of class y predicted as p (C = the class count;
 * the caller provides C * C zeroed counts). */
int cg_evaluate_confusion(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                          double *loss, double *acc, long *confusion);

/* What cg_evaluate_task measures of a regression or multi-label model
 * (values in the targets' original units). Per-output figures are kept
 * for the first CG_MAX_TARGETS outputs. */
#define CG_MAX_TARGETS 64
typedef struct cg_task_metrics {
    int task, n_outputs, n; /* CG_TASK_*, outputs, rows                   */
    double loss;           /* the model's mean loss                       */
    double rmse, mae, r2;  /* regression: over every output (r2: the mean
                              of the outputs' R2, scikit-learn's r2_score) */
    double residual[5];    /* regression: min, first quartile, median,
                              third quartile, max of target - prediction  */
    double acc, f1;        /* multi-label: the mean over labels of each
                              label's accuracy and F1 (threshold 0.5)     */
    double out_rmse[CG_MAX_TARGETS], out_mae[CG_MAX_TARGETS], out_r2[CG_MAX_TARGETS];
    double out_acc[CG_MAX_TARGETS], out_f1[CG_MAX_TARGETS];
} cg_task_metrics;
/* Evaluate a regression or multi-label model on ds (its numeric targets,
 * normalised by nz) in inference mode. */
int cg_evaluate_task(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz,
                     cg_task_metrics *out);

/* What `cgrad eval` prints, into file (FILE*; NULL = stdout): a
 * classifier's loss, accuracy, per-class precision/recall/F1 and the
 * confusion counts of cg_evaluate_confusion over n rows; or a regression
 * or multi-label model's cg_task_metrics. As text, or as one JSON object
 * (with "split", the name of the rows scored). */
int cg_report_confusion(cg_model *m, const long *confusion, double loss, double acc, int n,
                        const char *split, int json, void *file);
int cg_report_task(cg_model *m, const cg_task_metrics *t, const char *split, int json, void *file);

/* cg_evaluate with the rows split across the ranks of d and the sums
 * reduced: every rank gets the same loss and accuracy. */
int cg_evaluate_dist(cg_model *m, const cg_dataset *ds, const cg_normalizer *nz, int batch,
                     cg_dist *d, double *loss, double *acc);

/* Inference on n rows x [n, n_inputs] (already normalised): probs [n,
 * n_classes] and/or classes [n] (either may be NULL). */
int cg_predict(cg_model *m, const cg_real *x, int n, cg_real *probs, int *classes);

/* Fraction of the n rows of logits/probabilities [n, c] whose argmax equals
 * the label (labels as cg_real class indices, like the "y" placeholder). */
double cg_accuracy(const cg_real *scores, const cg_real *labels, int n, int c);

/* --- Training any graph (docs/fit.md) --- */

/* cg_fit trains a cg_model classifier; cg_fit_graph trains any graph
 * that computes a scalar loss from named placeholders, with the same loop
 * (shuffled mini-batches, validation, early stopping and restore-best,
 * progress and callbacks, divergence checks, checkpoints, MPI). Like
 * Keras's model.compile(loss, metrics) + model.fit({"x": ..., "y": ...}):
 *
 *     cg_node *x = cg_placeholder(g, "x", 2, (int[]){CG_BATCH, 8});
 *     cg_node *y = cg_placeholder(g, "y", 2, (int[]){CG_BATCH, 1});
 *     cg_node *pred = cg_dense(g, cg_relu(cg_dense(g, x, 32, CG_RELU, "h")), 1,
 *                              CG_LINEAR, "out");
 *     cg_fit_spec spec = {.loss = cg_mse_loss(pred, y), .n_metrics = 2,
 *                         .metrics = {{"rmse", CG_METRIC_RMSE, pred, y},
 *                                     {"r2", CG_METRIC_R2, pred, y}},
 *                         .monitor = "r2"};
 *     cg_tensor_dataset train = {0};
 *     cg_tensor_dataset_add(&train, "x", xs, n, 8);
 *     cg_tensor_dataset_add(&train, "y", ys, n, 1);
 *     cg_fit_graph(&spec, opt, &train, &val, &fit_options, &result);
 */

/* A named array of n rows, fed to the placeholder of that name: row i is
 * data[i * width .. (i + 1) * width). The data is borrowed (not copied):
 * it must outlive the data set's use. */
#define CG_MAX_ARRAYS 8
typedef struct cg_named_array {
    const char *name;      /* a placeholder's name                        */
    const cg_real *data;   /* [n, width], row-major                       */
    int width;             /* values per row: the product of the
                              placeholder's dimensions after the first     */
} cg_named_array;

/* PyTorch's TensorDataset with names: arrays of the same row count, one
 * per placeholder the loss (and the metrics) read. Plain data: zero it
 * ({0}) and add arrays. */
typedef struct cg_tensor_dataset {
    int n;                 /* rows (set by the first array added)         */
    int count;             /* arrays                                      */
    cg_named_array arrays[CG_MAX_ARRAYS];
} cg_tensor_dataset;

/* Add data [n, width] under name (a placeholder's). CG_ERR_ARG for a NULL
 * argument, n or width < 1, a name already there, more than
 * CG_MAX_ARRAYS arrays, or n unlike the rows already in ds. */
int cg_tensor_dataset_add(cg_tensor_dataset *ds, const char *name, const cg_real *data, int n,
                          int width);
/* Rows [start, start + len) of ds as a new data set in *out, a view (no
 * copy): the usual way to split off a validation set from shuffled data.
 * CG_ERR_ARG when the range is not inside ds. */
int cg_tensor_dataset_rows(const cg_tensor_dataset *ds, int start, int len,
                           cg_tensor_dataset *out);

/* Metrics, computed exactly over a whole set (not as a mean of batch
 * values) from running sums, on the training batches as they go and on the
 * validation set after each epoch. pred and target are nodes whose first
 * dimension is the batch; both are computed by the loss's forward pass
 * (the loss must depend on them, or they are placeholders).
 *   CG_METRIC_MEAN      the mean over rows of a scalar node `pred` (say a
 *                       term of the loss), weighted by batch size
 *   CG_METRIC_MSE       mean of (pred - target)^2 over every element
 *   CG_METRIC_RMSE      its square root
 *   CG_METRIC_MAE       mean of |pred - target|
 *   CG_METRIC_R2        coefficient of determination 1 - SSE / SST per
 *                       output column, averaged over the columns
 *                       (scikit-learn's r2_score, 'uniform_average'; a
 *                       constant column scores 1 if predicted exactly,
 *                       else 0)
 *   CG_METRIC_ACCURACY  pred [m, C] scores against target [m] class
 *                       indices: argmax == target; or pred and target of
 *                       the same size (binary, multi-label): logit pred >
 *                       0 against target > 0.5, per element
 * pred and target of MSE, RMSE, MAE and R2 have the same size per row.
 * Higher is better for R2 and ACCURACY, lower for the others. */
typedef enum cg_metric_kind {
    CG_METRIC_MEAN,
    CG_METRIC_MSE,
    CG_METRIC_RMSE,
    CG_METRIC_MAE,
    CG_METRIC_R2,
    CG_METRIC_ACCURACY
} cg_metric_kind;

typedef struct cg_metric {
    const char *name;      /* reported name ("rmse"; validation: "val_rmse");
                              NULL = the kind's: "mean", "mse", "rmse",
                              "mae", "r2", "acc"                          */
    int kind;              /* CG_METRIC_*                                 */
    cg_node *pred;         /* MEAN: the scalar                            */
    cg_node *target;       /* NULL for MEAN                               */
} cg_metric;

/* What cg_fit_graph trains and reports. */
typedef struct cg_fit_spec {
    cg_node *loss;         /* a scalar (mean over the batch); its graph is
                              the model                                    */
    int n_metrics;         /* 0..CG_MAX_METRICS                           */
    cg_metric metrics[CG_MAX_METRICS];
    const char *monitor;   /* early stopping, restore-best and the
                              checkpoint watch this on the validation set:
                              "loss" (NULL, the default) or a metric's
                              name                                         */
    cg_node *const *params; /* the variables to train (n_params of them);
                              NULL = every variable of the graph. The
                              others are held fixed (fine-tuning).         */
    int n_params;
    double baseline_loss;  /* divergence rule 3 (see cg_fit): the loss of
                              knowing nothing, e.g. the variance of a
                              target for MSE; 0 = unknown, and the bound
                              is 10 times the first batch's loss (off when
                              that is not positive)                        */
} cg_fit_spec;

/* Train spec's graph on train's rows, evaluating val (may be NULL) after
 * each epoch; o updates the variables, opt as for cg_fit (NULL =
 * defaults), res may be NULL. Every array of train and val feeds the
 * placeholder of its name, which must have an open batch dimension
 * (CG_BATCH) and `width` values per row; every placeholder the loss or a
 * metric reads must have an array. Values must be finite and at most 2^64
 * in magnitude. The same checks, divergence rules (rule 3 with
 * baseline_loss for ln C) and early stopping as cg_fit; the graph is left
 * in training mode. Errors: CG_ERR_ARG (a NULL loss, a loss that is not a
 * scalar, a name that is no placeholder, a missing array, a monitor that
 * names no metric, a params entry that is no variable of the graph),
 * CG_ERR_SHAPE (a width or metric shape that does not fit), then as
 * cg_fit. */
int cg_fit_graph(const cg_fit_spec *spec, cg_optimizer *o, const cg_tensor_dataset *train,
                 const cg_tensor_dataset *val, const cg_fit_options *opt, cg_fit_result *res);

/* The mean loss and the metrics (metrics[n_metrics], may be NULL) of
 * spec over ds in inference mode, in batches of `batch` (<= 0:
 * CG_EVAL_BATCH). */
int cg_evaluate_graph(const cg_fit_spec *spec, const cg_tensor_dataset *ds, int batch,
                      double *loss, double *metrics);

/* Node `out` over every row of ds in inference mode, in batches of
 * `batch` (<= 0: CG_EVAL_BATCH): values [ds->n, width] into dst, width
 * being out's values per row. ds needs only the placeholders out reads. */
int cg_predict_graph(cg_node *out, const cg_tensor_dataset *ds, int batch, cg_real *dst);

/* Every variable and state node (batch-norm statistics) of g, under its
 * name, as a safetensors file written atomically (see cg_checkpoint_save);
 * CG_ERR_ARG when one has no name. */
int cg_graph_save_weights(cg_graph *g, const char *path);
/* Load such a file (or any safetensors whose names and shapes match, as
 * cg_model_load_weights, which a cg_checkpoint_save file of a model of the
 * same graph is): a missing tensor, a shape that differs, a non-finite
 * value or a tensor g lacks is an error naming it, and then g may be
 * partly loaded. Tensors named "optimizer.*" and "input.*" are ignored. */
int cg_graph_load_weights(cg_graph *g, const char *path);

/* --- Data-parallel training (MPI) --- */

/* `mpirun -np N prog` starts N ranks; each trains the same model on its
 * share of every global mini-batch, and the gradients are averaged with one
 * MPI_Allreduce per step, so every rank holds the same weights after each
 * step (see cg_fit_options.dist). cgrad built without MPI (or a process
 * not started by mpirun) is rank 0 of 1. cg_dist is declared with
 * cg_fit_options. */

/* 1 if this cgrad was built with MPI. */
int cg_dist_available(void);
/* 1 if this process was started by mpirun (or another MPI launcher). */
int cg_dist_launched(void);
/* Join the MPI job (MPI_Init unless already done); without MPI, a handle
 * for rank 0 of 1. */
cg_dist *cg_dist_init(int *argc, char ***argv);
int cg_dist_rank(const cg_dist *d);
int cg_dist_size(const cg_dist *d);
/* Stop every rank (MPI_Abort) so that an error on one does not leave the
 * others waiting; returns only when there is one rank. */
void cg_dist_abort(cg_dist *d, int code);
/* MPI_Finalize (if cg_dist_init initialised MPI) and free. */
void cg_dist_finalize(cg_dist *d);
/* Wait until every rank gets here. */
int cg_dist_barrier(cg_dist *d);
/* Every rank's n bytes at `mine`, concatenated in rank order, for every
 * rank (MPI_Allgatherv): *out (malloc'd, free with free(); NUL-terminated
 * for convenience, the NUL not counted) and *out_n. */
int cg_dist_allgather(cg_dist *d, const void *mine, size_t n, char **out, size_t *out_n);

/* --- Run directories: one writer each --- */

/* A run directory (`cgrad train --out DIR`) has one writer at a time: the
 * writer holds an exclusive flock(2) on DIR/.lock, which holds its PID, for
 * the whole run. The kernel releases the lock when the process ends, however
 * it ends, so a killed run never leaves DIR locked. Readers (watch) ask
 * whether a writer is alive without taking the lock. */
typedef struct cg_run_lock cg_run_lock;

/* Take DIR's lock (DIR must exist; DIR/.lock is created if needed and
 * left in place). Fails at once if another process (or another lock in
 * this one) holds it: CG_ERR_STATE, "run directory 'DIR' is in use by
 * process PID (...)". CG_ERR_IO when DIR/.lock cannot be opened. On
 * success *out is the lock (free with cg_run_dir_unlock); the lock is not
 * inherited across exec. */
int cg_run_dir_lock(const char *dir, cg_run_lock **out);
/* Release and free the lock (NULL: nothing). */
void cg_run_dir_unlock(cg_run_lock *lock);
/* Whether a live process holds DIR's lock, without taking it: 1 if held
 * (*pid, if pid is not NULL, is the holder's PID, or 0 if it has not been
 * written yet), 0 if not (no lock file counts as not held), CG_ERR_IO if
 * DIR does not exist or cannot be read. */
int cg_run_dir_holder(const char *dir, long *pid);
/* Remove the temporary files of atomic saves ("NAME.tmp.PID", as
 * cg_checkpoint_save and the other safetensors writers name them) that
 * processes no longer alive left in DIR: a run calls it at its start,
 * after taking the lock. Files of live processes are kept. *removed (may
 * be NULL) counts the files removed. CG_ERR_IO if DIR cannot be read or a
 * stale file cannot be removed. */
int cg_run_dir_clean_stale(const char *dir, int *removed);

/* --- Checkpoints --- */

/* A checkpoint is a safetensors file (8-byte little-endian header length,
 * a JSON header, raw little-endian data) holding the model's weights and
 * batch-norm statistics under their graph names ("dense1.weight" [in,
 * out], "dense1.bias", "bn1.gamma", "bn1.beta", "bn1.running_mean",
 * "bn1.running_var"), the optimizer's moments ("optimizer.m.<name>",
 * "optimizer.v.<name>"), the input standardisation ("input.mean",
 * "input.inv_std"), and metadata: the model spec (cg_model_spec), the
 * normaliser, class names, epoch, step, the optimizer (cg_optimizer_to_json),
 * the PRNG state and the run configuration (cg_run_config_to_json).
 * Format version 2; version 1 files (cgrad 0.1, which kept argv instead of
 * a configuration) load without their optimizer: they can be evaluated and
 * exported but not resumed. */
typedef struct cg_checkpoint_info {
    int epoch;             /* epochs completed                            */
    long step;             /* optimizer updates                           */
    double best_val_acc;   /* best validation accuracy so far, or NaN     */
    int epochs_since_best; /* for early stopping across a resume          */
    char *config;          /* the run configuration as JSON, kept as
                              metadata "config": save: may be NULL; load:
                              allocated or NULL, freed by
                              cg_checkpoint_info_free                     */
} cg_checkpoint_info;

/* Save atomically (a temporary file in the same directory, fsynced, then
 * renamed over path): a failed save leaves the previous file intact. o,
 * nz and info may be NULL. */
int cg_checkpoint_save(const char *path, cg_model *m, cg_optimizer *o, const cg_normalizer *nz,
                       const cg_checkpoint_info *info);
/* Load a checkpoint written by cg_checkpoint_save: a new built model with
 * its weights, class names and PRNG state; *opt (if opt is not NULL) a new
 * optimizer with its state; *nz (if not NULL) the normaliser (identity
 * scale 1 when none was saved); *info (if not NULL). NULL with CG_ERR_IO,
 * CG_ERR_FORMAT or CG_ERR_SHAPE and a message naming the file and what is
 * wrong for a file that is not such a checkpoint, is damaged, or holds
 * tensors that do not fit its model spec. */
cg_model *cg_checkpoint_load(const char *path, cg_optimizer **opt, cg_normalizer *nz,
                             cg_checkpoint_info *info);
void cg_checkpoint_info_free(cg_checkpoint_info *info);
/* Load weights (and batch-norm statistics) into m from any safetensors
 * file whose tensor names and shapes match m's (PyTorch's
 * load_state_dict(strict=True)): a missing tensor, a shape mismatch or a
 * tensor m does not have is an error. Tensors named "optimizer.*" and
 * "input.*" are ignored. */
int cg_model_load_weights(cg_model *m, const char *path);

/* --- Export as C code --- */

/* Write m (e.g. as cg_checkpoint_load returns it) as standalone C99
 * inference code: DIR/PREFIX.h and DIR/PREFIX.c, which need only <math.h>
 * (link with -lm). The header defines PREFIX_N_INPUTS, PREFIX_N_CLASSES
 * (upper-cased), PREFIX_class_names (the model's class names, else "0",
 * "1", ...) and int PREFIX_predict(const float *x, float *probs): raw
 * features in, nz applied, softmax probabilities into probs (may be NULL),
 * the most probable class returned. The model is written in inference
 * form: batch norm uses its running statistics and is folded into the
 * dense layer before it (or kept as a per-feature scale and shift), and
 * dropout is left out. Weights are float literals that read back exactly.
 *   nz      the input normalisation (NULL: inputs go in as they are)
 *   dir     created with its parents when missing
 *   prefix  a C identifier of at most 48 characters; NULL = "model"
 *   source  where the model came from (a checkpoint's path), named in the
 *           files' first comment; NULL = not named
 * Errors: CG_ERR_ARG (a NULL model or dir, a prefix that is no identifier,
 * nz of another width); CG_ERR_NUMERIC naming the tensor when a value is
 * not a finite float (after folding) or a running variance is negative;
 * CG_ERR_IO naming the path when dir cannot be created or a file written.
 * Nothing is written before the values are checked, and a failed write
 * leaves no partial file. */
int cg_export_c(cg_model *m, const cg_normalizer *nz, const char *dir, const char *prefix,
                const char *source);

/* cg_export_c with int8 weights and integer arithmetic: every dense and
 * conv layer stores its weights as int8, symmetric per output column or
 * filter (scale max|w| / 127), quantises its input to uint8 over the range
 * that input reaches on `calibrate` examples of calibration (raw features
 * as the model takes them, e.g. the training set; 0 = CG_ONNX_CALIBRATE,
 * spread evenly over the set; batch norm is folded first) and sums in
 * int32; the ranges are constants in the generated code, which stays
 * C99 with no dependency but <math.h> and <stdint.h>. Biases, batch norm
 * that cannot fold, pools, activations and the softmax stay float. The
 * scheme is cg_export_onnx's int8 (QDQ) one. Errors as cg_export_c's, and
 * CG_ERR_ARG for no calibration examples or ones of another width. */
int cg_export_c_int8(cg_model *m, const cg_normalizer *nz, const char *dir, const char *prefix,
                     const char *source, const cg_dataset *calibration, int calibrate);

/* --- A whole run --- */

/* What `cgrad train` does, as one call: load the data the configuration
 * names, split off the validation rows, fit the normalisation, build the
 * model and optimizer (or restore them from a checkpoint), train with
 * cg_fit, keep a run directory, and evaluate on the test set. The library
 * prints nothing: what a person may want to read comes through on_note. */
typedef struct cg_train_options {
    const char *out;       /* run directory: DIR/metrics.jsonl (a line per
                              epoch), DIR/last.safetensors (every epoch),
                              DIR/best.safetensors (best validation
                              accuracy); NULL = none                       */
    const char *resume;    /* a checkpoint whose run this continues, with
                              `config` its stored configuration (see
                              cg_checkpoint_config) where only loop.epochs,
                              loop.patience, data.source/test and a new
                              schedule phase (optim.lr and schedule with
                              start_epoch = the epochs done) may differ;
                              NULL = a new run                            */
    cg_dist *dist;         /* data-parallel over MPI ranks, or NULL        */
    void (*on_note)(const char *line, void *user); /* data, model summary,
                              settings: one line each, no newline; NULL   */
    cg_epoch_callback on_epoch; /* after the epoch is in the run directory */
    void *user;            /* for on_note and on_epoch                     */
    cg_progress_callback on_progress; /* cg_fit's progress (see
                              cg_fit_options), e.g. cg_progress_bar_callback */
    void *progress_user;
    int choose_model;      /* 1: the configuration's model is the default,
                              not one the user asked for; a new regression
                              with a validation split then trains the
                              linear model first (in memory) and keeps it
                              instead of the MLP when its validation loss
                              is lower, training it again as the run (the
                              run directory then holds it; on_epoch sees
                              both runs). `cgrad train` sets it when no
                              model flag is given. 0 (default): as given */
} cg_train_options;

typedef struct cg_train_result {
    cg_fit_result fit;
    double test_loss, test_acc; /* NaN without a test set (multi-label:
                              the mean per-label accuracy)                  */
    int task;              /* CG_TASK_*                                    */
    cg_task_metrics test;  /* regression, multi-label: on the test set    */
    int n_train, n_val, n_test, n_features, n_classes;
    int initial_epoch;     /* epochs done before (resumed runs)           */
} cg_train_result;

void cg_train_options_init(cg_train_options *o);
/* Run `config` (resolved here on a copy). Errors name the configuration
 * field at fault when there is one ("data.source: ...", "loop.patience:
 * ..."); "out: ..." for the run directory. */
int cg_train(const cg_run_config *config, const cg_train_options *opt, cg_train_result *res);
/* The configuration a checkpoint stores, and the epochs it has done;
 * CG_ERR_FORMAT when it keeps none (format 1). */
int cg_checkpoint_config(const char *path, cg_run_config *config, int *epochs_done);

/* ---------------------------------------------------------------------- */
/* Part 2: hyperparameter search                                            */
/* ---------------------------------------------------------------------- */

/* What `cgrad tune` does, as one call: trials are run configurations made
 * from a base configuration and a point of a search space; each runs as
 * cg_train in a forked child process (no path to a binary is needed), a
 * few at a time; results are data (cg_tune_record) and, in the output
 * directory, results.jsonl (one JSON object per finished trial, read back
 * by a resumed search) and tune.json (each round's ranges). */
#define CG_TUNE_MAX_PARAMS 32
#define CG_TUNE_MAX_CHOICES 32
#define CG_TUNE_NAME_LEN 32
#define CG_TUNE_CHOICE_LEN 64

/* How a parameter is drawn. */
typedef enum cg_tune_dist {
    CG_TUNE_UNIFORM,       /* uniform:a:b            value ~ U(a, b) */
    CG_TUNE_LOGUNIFORM,    /* loguniform:a:b         log10(value) ~ U */
    CG_TUNE_ONE_MINUS_LOG, /* one_minus_log:a:b      value = 1 - 10^u, 1 - value in [a, b] */
    CG_TUNE_INT,           /* int:a:b                integers a..b, equally likely */
    CG_TUNE_INTLOG,        /* intlog:a:b             integers a..b, uniform in log */
    CG_TUNE_CHOICE         /* choice:x,y,z (or x|y|z) one of the strings */
} cg_tune_dist;

typedef struct cg_tune_param {
    char name[CG_TUNE_NAME_LEN];
    cg_tune_dist dist;
    double lo, hi;             /* bounds in value units (for one_minus_log: of 1 - value) */
    int n_choices;
    char choices[CG_TUNE_MAX_CHOICES][CG_TUNE_CHOICE_LEN];
    unsigned char active[CG_TUNE_MAX_CHOICES]; /* choices still sampled (coarse to fine) */
} cg_tune_param;

/* A search space: plain data, zero-initialise it ({0}) and add parameters. */
typedef struct cg_tune_space {
    int n;
    cg_tune_param p[CG_TUNE_MAX_PARAMS];
} cg_tune_space;

/* One point of a space: v[i] is parameter i's value, or for a choice the
 * index of the chosen string. */
typedef struct cg_tune_point {
    double v[CG_TUNE_MAX_PARAMS];
} cg_tune_point;

/* Parse "name=dist:args" (e.g. "lr=loguniform:1e-4:1") and add it to the
 * space, replacing a parameter of the same name. Names (cg_tune_param_names):
 * lr optimizer momentum beta1 beta2 eps batch weight_decay dropout lr_decay
 * activation epochs bn hidden units layers, each setting its field of the
 * run configuration. CG_ERR_ARG with a message naming the spec on error
 * (the space is then unchanged). */
int cg_tune_space_add(cg_tune_space *s, const char *spec);
/* Every parameter of a JSON object {"lr": "loguniform:1e-4:1", "optimizer":
 * ["adam", "rmsprop"], "hidden": {"choice": ["256,256", "512"]}}. */
int cg_tune_space_add_json(cg_tune_space *s, const char *json);
const char *cg_tune_param_names(void);
/* Add the space `tune` searches when none is given, around `base`: lr
 * log-uniform over a decade either side of base's (or its optimizer's
 * default), batch one of 32, 64, 128, 256, weight_decay log-uniform in
 * [1e-6, 1e-2], and for a model with hidden layers, their width (units,
 * log-uniform integers from a quarter to twice base's widest, the layer
 * count kept) and dropout uniform in [0, 0.5]. */
int cg_tune_space_default(cg_tune_space *s, const cg_run_config *base);
/* The parameter named `name`, or -1. */
int cg_tune_space_find(const cg_tune_space *s, const char *name);
/* A parameter's value as text (choice string, integer, or %.10g), and a
 * range as its spec ("loguniform:0.0001:1", "choice:adam,rmsprop"). */
void cg_tune_format_value(const cg_tune_param *p, double v, char *buf, int size);
void cg_tune_describe(const cg_tune_param *p, char *buf, int size);
/* A trial's configuration: `base` with the point's values in their fields
 * (units/layers make one hidden list; with the optimizer sampled, momentum,
 * beta1, beta2 and eps only where that optimizer uses them). CG_ERR_ARG if
 * a value does not fit its field. */
int cg_tune_point_config(const cg_tune_space *s, const cg_tune_point *pt,
                         const cg_run_config *base, cg_run_config *out);

/* One epoch of a trial (a line of its metrics.jsonl); NaN when unknown. */
typedef struct cg_tune_epoch {
    int epoch;
    double train_loss, train_acc, val_loss, val_acc, seconds, lr;
    double train_r2, val_r2;      /* a regression's (NaN otherwise; its
                                     accuracies are NaN)                  */
} cg_tune_epoch;

/* A trial's outcome. Diverged: cg_train returned CG_ERR_DIVERGED (see
 * cg_fit), a trial that never becomes the best (nor shapes later rounds). */
enum { CG_TRIAL_OK, CG_TRIAL_FAILED, CG_TRIAL_STOPPED, CG_TRIAL_DIVERGED };
/* Its name in results.jsonl: "ok", "failed", "stopped", "diverged". */
const char *cg_tune_status_name(int status);

/* One trial: finished (status), or running (in events). */
typedef struct cg_tune_record {
    int id, round, index;      /* id counts trials over all rounds        */
    int rank;                  /* the MPI rank that ran it                */
    uint64_t seed;             /* its loop.seed, from (search seed, round, index) */
    cg_tune_point point;
    cg_run_config config;      /* what it ran (not resolved)              */
    int status;                /* CG_TRIAL_*                              */
    char reason[512];          /* why it failed or stopped, or ""         */
    cg_tune_epoch *epochs;     /* malloc'd, n_epochs of them              */
    int n_epochs, cap_epochs;
    double val_acc, test_acc, seconds; /* NaN when unknown; the score the
                                  search ranks by: accuracy, or R2 when
                                  config.model.task is a regression       */
} cg_tune_record;

/* An epoch's validation score, higher is better, as the search ranks,
 * prunes and refines by it: accuracy, or R2 for a regression (whose
 * epochs have no accuracy); NaN when the epoch has neither. */
double cg_tune_epoch_score(const cg_tune_epoch *e);

void cg_tune_record_free(cg_tune_record *r);
/* Append the whole lines added to a metrics.jsonl since *offset (bytes
 * read so far, 0 at first) to r's epochs; 1 if an epoch came, 0 if none
 * (or no file yet). For following a run as it is written. */
int cg_metrics_poll(const char *path, long *offset, cg_tune_record *r);

/* What a search reports while it runs (instead of printing). */
enum {
    CG_TUNE_ROUND,   /* a round starts: round, ranges, n_trials, n_done     */
    CG_TUNE_RUNNING, /* the running trials (on a change, or each second)     */
    CG_TUNE_DONE     /* record finished (its own or another rank's)          */
};
typedef struct cg_tune_running {
    const cg_tune_record *record; /* epochs so far                         */
    int epochs;                   /* of how many                           */
    double seconds;               /* since it started                      */
    int stopping;                 /* early stopping asked it to stop       */
} cg_tune_running;
typedef struct cg_tune_event {
    int kind;
    int round;
    const cg_tune_space *ranges;  /* ROUND: this round's ranges            */
    long n_trials, n_done;        /* ROUND: its trials, how many resumed   */
    const cg_tune_running *running; /* RUNNING: n_running of them          */
    int n_running;
    const cg_tune_record *record; /* DONE                                  */
} cg_tune_event;

typedef struct cg_tune_options {
    cg_run_config base;    /* every trial's configuration before its point */
    cg_tune_space space;   /* at least one parameter                       */
    int trials;            /* random trials per round (default 20)         */
    int grid;              /* > 0: grid search instead, this many points per
                              numeric parameter times every choice         */
    uint64_t seed;         /* trial i of round r: its point and loop.seed
                              come from (seed, r, i) alone (default 1)     */
    int rounds;            /* coarse to fine (default 1): after a round,
                              numeric ranges shrink to the span of the keep
                              best so far, widened by margin of it each side */
    int keep;              /* default 5                                    */
    double margin;         /* default 0.1                                  */
    int early_median;      /* stop a trial below the median of finished
                              ones at the same epoch (once 3 reached it)   */
    int jobs;              /* trials at once, each a process (default 1)   */
    int threads;           /* cg_set_threads of each trial (0 = all cores) */
    const char *out;       /* the search's directory (required): results.jsonl,
                              tune.json, trials/rR-IIII/ (each trial's
                              run directory, stdout.txt: its result line,
                              stderr.txt: its error)                       */
    int resume;            /* continue `out`: trials in its results.jsonl
                              are kept, not run again; 0 = out must not
                              hold a search                               */
    cg_dist *dist;         /* under MPI, rank r runs every size-th trial of
                              a round; the ranks swap records after each
                              round; rank 0 writes the files. Every rank
                              calls cg_tune with the same options.         */
    void (*on_event)(const cg_tune_event *e, void *user); /* may be NULL */
    void *user;
    volatile int *stop;    /* non-zero (e.g. set by a signal handler): stop
                              the running trials and return; may be NULL  */
} cg_tune_options;

typedef struct cg_tune_result {
    cg_tune_record *records; /* every finished trial, resumed ones too     */
    int n_records;
    int *ranking;          /* indices into records, best first (val accuracy;
                              failed last; ties by id), n_records of them   */
    int best;              /* index of the best finished trial, or -1      */
    int n_ok, n_failed, n_stopped, n_diverged;
    int interrupted;       /* *stop's value when it stopped the search     */
} cg_tune_result;

void cg_tune_options_init(cg_tune_options *o);
/* Run the search. CG_OK (also when interrupted or no trial finished: see
 * the result), or an error: CG_ERR_ARG for options that do not fit (an
 * empty space, out holding a search without resume, a resumed trial whose
 * parameters differ), CG_ERR_IO for the directory. The result is to be
 * freed with cg_tune_result_free either way. */
int cg_tune(const cg_tune_options *o, cg_tune_result *res);
void cg_tune_result_free(cg_tune_result *res);

/* --- Deployment: ONNX export --- */

/* Options of cg_export_onnx; a zeroed struct (or NULL) means the defaults. */
#define CG_ONNX_OPSET 13
#define CG_ONNX_CALIBRATE 1000
typedef struct cg_onnx_options {
    int opset;              /* ONNX opset, 13 to 17; 0 = CG_ONNX_OPSET      */
    const char *input_name; /* the graph's input; NULL = "input"             */
    int int8;               /* 1: quantised, QDQ format: weights int8 per
                               output column or conv filter (symmetric),
                               each dense and conv layer's input uint8
                               over the range seen on the calibration
                               examples (batch norm folded first)          */
    const cg_dataset *calibration; /* int8: raw examples (e.g. the training
                               set), features as the model takes them      */
    int calibrate;          /* int8: how many of them, spread evenly over
                               the set; 0 = CG_ONNX_CALIBRATE (metadata
                               "int8_calibration_examples" says how many)  */
} cg_onnx_options;

/* Write m as an ONNX model file at path (a temporary file renamed over it,
 * so a failed export leaves no partial file). The graph takes what
 * `cgrad predict` takes: float32 [batch, n_inputs] of raw features (pixel
 * bytes as 0..255, CSV values), with the batch dimension symbolic; the
 * normaliser nz (may be NULL: none) is part of the graph, batch norm is
 * folded into the dense layer before it (or applied as a scale and shift),
 * dropout is left out, and the output "probabilities" [batch, n_classes]
 * is the softmax. metadata_props holds "class_names" (a JSON array, when
 * the model has names), "cgrad_model_spec" and "cgrad_version".
 * CG_ERR_STATE for a layer ONNX export does not handle yet or a cgrad
 * built without ONNX support; CG_ERR_ARG for a bad option; CG_ERR_IO when
 * the file cannot be written. */
int cg_export_onnx(cg_model *m, const cg_normalizer *nz, const char *path,
                   const cg_onnx_options *opt);

#ifdef __cplusplus
}
#endif
#endif
