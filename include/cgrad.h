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
    CG_ERR_NUMERIC = -7  /* NaN/inf where a finite value is required */
};

/* The message of the last error in this thread ("" if none). */
const char *cg_last_error(void);
/* Forget the last error. */
void cg_clear_error(void);

/* Number of heap allocations the library has made (all threads). Used to
 * prove that a training step allocates nothing. */
size_t cg_alloc_count(void);

/* Number of threads for BLAS and OpenMP loops (0 = all cores). */
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

/* ---------------------------------------------------------------------- */
/* Part 2: data sets                                                        */
/* ---------------------------------------------------------------------- */

/* A labelled data set held in memory. Features are kept as bytes (images,
 * 1 byte per pixel) or as floats (tabular data) and turned into cg_real
 * only when a batch is gathered, so a large image set costs 1 byte a pixel. */
typedef struct cg_dataset {
    int n;               /* examples                                     */
    int d;               /* features per example                         */
    int n_classes;       /* 1 + the largest label (or as declared)       */
    uint8_t *x_u8;       /* [n, d] bytes, or NULL                        */
    float *x_f32;        /* [n, d] floats, or NULL                       */
    int32_t *y;          /* [n] class indices, or NULL (unlabelled)      */
    int rows, cols;      /* image shape when known (IDX), else 0         */
} cg_dataset;

/* Input normalisation, kept with a model: x' = (x * scale - mean) * inv_std
 * per feature (mean/inv_std NULL = 0 / 1). Bytes are scaled by 1/255. */
typedef struct cg_normalizer {
    int d;
    float scale;
    float *mean;         /* [d] or NULL */
    float *inv_std;      /* [d] or NULL */
} cg_normalizer;

/* IDX files (MNIST layout), plain or gzip-compressed (detected by content).
 * Images must be ubyte with 3 dims, labels ubyte with 1 dim, equal counts. */
int cg_load_idx(const char *images_path, const char *labels_path, cg_dataset *out);

/* CSV with numeric feature cells. has_header: 1, 0, or -1 to detect (first
 * row has a non-numeric cell). label: a column name, a 0-based index as
 * text, or NULL for the last column. Label cells must be non-negative
 * integers. */
int cg_load_csv(const char *path, const char *label, int has_header, cg_dataset *out);

/* NumPy .npy, 2-D, C order, dtype <f4, <f8 or |u1. The label column is
 * chosen as for CSV by index (NULL = last). */
int cg_load_npy(const char *path, const char *label, cg_dataset *out);

/* Load by name: "fashion-mnist" (Debian's dataset-fashion-mnist package),
 * a directory with MNIST-named IDX files, or a .csv / .npy file. train
 * selects train-* or t10k-* files for IDX directories. */
int cg_load_dataset(const char *spec, const char *label, int train, cg_dataset *out);

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
 * as from cg_load_inputs). */
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

/* By name, for command lines, with the defaults above: "sgd", "momentum"
 * (beta 0.9), "nesterov" (beta 0.9), "rmsprop" (beta 0.9, eps 1e-8),
 * "adam" (0.9, 0.999, 1e-8), "adamw" (adam + decoupled weight decay 0.01).
 * NULL with CG_ERR_ARG and a message listing the valid names otherwise. */
cg_optimizer *cg_optimizer_from_name(const char *name, double lr);
/* Whether the optimizer of that name uses the hyperparameter `hyper`:
 * "momentum" (momentum, nesterov), "beta1" and "eps" (adam, adamw,
 * rmsprop: its beta is beta1), "beta2" (adam, adamw). 0 for any other
 * name or hyperparameter. */
int cg_optimizer_uses(const char *name, const char *hyper);

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
/* Part 2: models                                                           */
/* ---------------------------------------------------------------------- */

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
typedef struct cg_model cg_model;

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
/* Keras-like table: layer, type, output shape, parameters; the total. */
int cg_model_summary(cg_model *m, void *file /* FILE*, NULL = stdout */);

/* --- Training --- */

typedef struct cg_epoch_metrics {
    int epoch;             /* 1-based                                    */
    int epochs;            /* of how many                                */
    double train_loss;     /* mean over the epoch's batches (by example) */
    double train_acc;
    double val_loss;       /* NaN when there is no validation set        */
    double val_acc;
    double seconds;        /* the whole epoch, validation included       */
    double examples_per_second; /* training examples / training time     */
    int improved;          /* val_acc is the best so far                  */
    double best_val_acc;   /* the best so far (NaN without validation)    */
    int epochs_since_best;
} cg_epoch_metrics;

/* Called after each epoch; a non-zero return stops training (not an
 * error). */
typedef int (*cg_epoch_callback)(const cg_epoch_metrics *m, void *user);

typedef struct cg_dist cg_dist; /* MPI ranks, see "Data-parallel training" */

typedef struct cg_fit_options {
    int epochs;            /* default 10                                  */
    int batch_size;        /* default 32; the last batch may be partial   */
    uint64_t seed;         /* shuffling; default 0                        */
    int verbose;           /* 0 silent, 1 progress (default)              */
    void *progress;        /* FILE* for progress; NULL = stderr. A
                              terminal gets a redrawn bar, anything else
                              one line per epoch.                         */
    cg_epoch_callback on_epoch; /* may be NULL                            */
    void *user;            /* passed to on_epoch                          */
    int initial_epoch;     /* epochs already done (resuming): training
                              runs epochs initial_epoch+1 .. epochs, with
                              the shuffles and schedule those epochs would
                              have had in one run; default 0              */
    int patience;          /* early stopping: stop after this many epochs
                              without a better validation accuracy; 0 =
                              off (default). Needs a validation set.       */
    int restore_best;      /* with patience: put back the weights (and
                              batch-norm statistics) of the best epoch,
                              as Keras's restore_best_weights; default 1  */
    double best_val_acc;   /* resuming: the best so far (NaN = none)      */
    int epochs_since_best; /* resuming: epochs since it                   */
    cg_dist *dist;         /* data-parallel over MPI ranks (NULL = this
                              process alone): weights are broadcast from
                              rank 0, each global batch of batch_size is
                              split evenly across ranks, gradients are
                              averaged; batch-norm statistics are per rank
                              (running ones averaged after each step);
                              validation is split and reduced; only rank
                              0 shows progress. Every rank calls cg_fit
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
} cg_fit_options;

typedef struct cg_fit_result {
    int epochs;            /* epochs completed                            */
    double train_loss, train_acc, val_loss, val_acc; /* of the last epoch */
    double seconds;        /* total wall time                             */
    double examples_per_second; /* over all training steps              */
    int stopped_early;     /* patience ran out                            */
    int best_epoch;        /* epoch of the best validation accuracy (0 if
                              unknown; before initial_epoch if resumed)   */
    double best_val_acc;
} cg_fit_result;

/* Defaults as documented above. */
void cg_fit_options_init(cg_fit_options *opt);

/* Train with mini-batches (reshuffled each epoch with opt->seed) of train,
 * normalised by nz (may be NULL), evaluating on val (may be NULL) after
 * each epoch. opt NULL = defaults; res may be NULL. A non-finite loss stops
 * training with CG_ERR_NUMERIC. The graph is left in training mode. */
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

/* --- Checkpoints --- */

/* A checkpoint is a safetensors file (8-byte little-endian header length,
 * a JSON header, raw little-endian data) holding the model's weights and
 * batch-norm statistics under their graph names ("dense1.weight" [in,
 * out], "dense1.bias", "bn1.gamma", "bn1.beta", "bn1.running_mean",
 * "bn1.running_var"), the optimizer's moments ("optimizer.m.<name>",
 * "optimizer.v.<name>"), the input standardisation ("input.mean",
 * "input.inv_std"), and metadata: the model spec (cg_model_spec), the
 * normaliser, class names, epoch, step, the optimizer's name,
 * hyperparameters, schedule and step count, and the PRNG state. */
typedef struct cg_checkpoint_info {
    int epoch;             /* epochs completed                            */
    long step;             /* optimizer updates                           */
    double best_val_acc;   /* best validation accuracy so far, or NaN     */
    int epochs_since_best; /* for early stopping across a resume          */
    char *extra;           /* the caller's JSON, kept as metadata "train":
                              save: may be NULL; load: allocated or NULL,
                              freed by cg_checkpoint_info_free            */
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

/* --- Deployment: ONNX export --- */

/* Options of cg_export_onnx; a zeroed struct (or NULL) means the defaults. */
#define CG_ONNX_OPSET 13
#define CG_ONNX_CALIBRATE 1000
typedef struct cg_onnx_options {
    int opset;              /* ONNX opset, 13 to 17; 0 = CG_ONNX_OPSET      */
    const char *input_name; /* the graph's input; NULL = "input"             */
    int int8;               /* 1: quantised, QDQ format: weights int8 per
                               output column (symmetric), each dense
                               layer's input uint8 over the range seen on
                               the calibration examples                    */
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
