/* SPDX-License-Identifier: MIT */
/* train_flags.c: the flags of `cgrad train`, one table: each sets a field
 * of the run configuration (or of the command's own options) and says
 * whether it may change on --resume. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/flags.h"
#include "cli/train.h"

#define CFG(f) offsetof(train_opts, cfg.f)
#define OPT(f) offsetof(train_opts, f)

static int set_hidden(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    cg_model_config *mc = &((train_opts *)target)->cfg.model;
    mc->n_hidden = 0;
    if (!strcmp(s, "none")) return 0;
    const char *p = s;
    for (;;) {
        int w;
        int len = 0;
        if (sscanf(p, "%d%n", &w, &len) != 1 || w < 1 || w > 1000000 || (p[len] && p[len] != ',') ||
            p[0] == '+' || p[0] == ' ' || mc->n_hidden == CG_MAX_HIDDEN) {
            return cli_bad_value("'%s' is not a comma-separated list of at most %d layer widths in "
                                 "[1, 1000000] (or 'none')", s, CG_MAX_HIDDEN);
        }
        mc->hidden[mc->n_hidden++] = w;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

static int set_arch(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    cg_model_config *mc = &((train_opts *)target)->cfg.model;
    if (cg_arch_parse(s, mc->layers, CG_MAX_LAYERS, &mc->n_layers)) {
        /* "arch: layer 3 'conv64x': ..." -> "--arch: layer 3 ..." */
        const char *msg = cg_last_error();
        if (!strncmp(msg, "arch: ", 6)) msg += 6;
        return cli_bad_value("%s", msg);
    }
    mc->n_hidden = 0; /* the architecture replaces the default hidden widths */
    return 0;
}

static int set_activation(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    int a = cg_activation_from_name(s);
    if (a != CG_RELU && a != CG_TANH && a != CG_SIGMOID)
        return cli_bad_value("'%s' is not one of relu, tanh, sigmoid", s);
    ((train_opts *)target)->cfg.model.activation = a;
    return 0;
}

static int set_optimizer(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    if (!cg_optimizer_summary(s)) {
        char list[256] = "";
        for (int i = 0; i < cg_optimizer_count(); i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     cg_optimizer_name_at(i));
        return cli_bad_value("unknown optimizer '%s' (valid: %s)", s, list);
    }
    snprintf(((train_opts *)target)->cfg.optim.name, CG_NAME_LEN, "%s", s);
    return 0;
}

static int set_schedule(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    cg_schedule_config *sc = &((train_opts *)target)->cfg.schedule;
    if (cg_lr_schedule_parse(s, &sc->kind, sc->params)) return cli_bad_value("%s", cg_last_error());
    return 0;
}

static int set_beta(void *target, const cli_flag *f, const char *s)
{
    double *v = (double *)((char *)target + f->offset);
    if (cli_parse_double(s, 0, 1, v)) return -1;
    if (!(*v < 1)) return cli_bad_value("'%s' must be below 1", s);
    return 0;
}

static int set_decoupled(void *target, const cli_flag *f, const char *s)
{
    train_opts *o = target;
    o->cfg.optim.decoupled = 1;
    return cli_parse_double(s, f->lo, f->hi, &o->cfg.optim.weight_decay);
}

static int set_lr(void *target, const cli_flag *f, const char *s)
{
    (void)f;
    double *v = &((train_opts *)target)->cfg.optim.lr;
    if (cli_parse_double(s, 0, HUGE_VAL, v)) return -1;
    if (!(*v > 0)) return cli_bad_value("'%s' must be positive", s);
    return 0;
}

static int set_standardize(void *target, const cli_flag *f, const char *s)
{
    (void)s;
    ((train_opts *)target)->cfg.data.standardize = strcmp(f->name, "--standardize") == 0;
    return 0;
}

static int set_task(void *target, const cli_flag *f, const char *s)
{
    cg_model_config *mc = &((train_opts *)target)->cfg.model;
    const int loss = !strcmp(f->name, "--loss");
    int v = loss ? cg_loss_from_name(s) : cg_task_from_name(s);
    if (v < 0 || (loss && (v == CG_LOSS_DEFAULT || v == CG_LOSS_CROSS_ENTROPY)))
        return cli_bad_value("'%s' is not one of %s", s,
                             loss ? "mse, mae, huber (regression), bce (multilabel)"
                                  : "classification, regression, multilabel");
    *(loss ? &mc->loss : &mc->task) = v;
    return 0;
}

static const cli_flag flags[] = {
    {.name = "--data", .value = "SPEC", .set = cli_set_string, .offset = CFG(data.source),
     .field = "data.source",
     .hi = CG_PATH_LEN, .resume = CLI_RESUME_OK, .example = "fashion-mnist",
     .help = "fashion-mnist (default), a directory of MNIST-style IDX files, or a .csv /\n"
             ".npy file; with --resume, where the recorded data is now"},
    {.name = "--test", .value = "FILE", .set = cli_set_string, .offset = CFG(data.test),
     .field = "data.test",
     .hi = CG_PATH_LEN, .resume = CLI_RESUME_OK, .example = "test.csv",
     .help = "test set: a .csv / .npy file like --data, or an IDX images file (its\n"
             "labels file beside it); IDX directories use their t10k-* files"},
    {.name = "--label", .value = "COL", .set = cli_set_string, .offset = CFG(data.label),
     .hi = CG_NAME_LEN * 4, .field = "data.label", .example = "3",
     .unused_example = "--data fashion-mnist --label 3",
     .help = "label column of a .csv / .npy file (name or 0-based index; default\n"
             "last); with --task regression or multilabel, one or more: price,volume"},
    {.name = "--task", .value = "TASK", .set = set_task, .field = "model.task", .example = "regression",
     .help = "classification (default: one class per row, softmax cross-entropy),\n"
             "regression (numeric --label columns, e.g. price,volume: a linear output\n"
             "per target, trained on targets standardised with the training rows'\n"
             "mean and std, reported in their own units) or multilabel (0/1 --label\n"
             "columns: a sigmoid output per label, binary cross-entropy)"},
    {.name = "--loss", .value = "NAME", .set = set_task, .field = "model.loss", .example = "huber",
     .unused_example = "--loss mae",
     .help = "regression: mse (default), mae or huber (delta 1 standard deviation);\n"
             "multilabel: bce; classification trains with cross-entropy only"},
    {.name = "--delimiter", .value = "D", .set = cli_set_string, .offset = CFG(data.delimiter), .hi = 8,
     .field = "data.delimiter", .resume = CLI_RESUME_OK, .example = ";",
     .unused_example = "--data fashion-mnist --delimiter ;",
     .help = "CSV cell delimiter: ',', ';', tab or space (runs of spaces and tabs);\n"
             "default: detected from the first rows (docs/data.md)"},
    {.name = "--missing", .value = "HOW", .set = cli_set_string, .offset = CFG(data.missing), .hi = 8,
     .field = "data.missing", .example = "error", .unused_example = "--data fashion-mnist --missing error",
     .help = "CSV missing cells (empty, NA, N/A, NaN, ?): impute (default: the training\n"
             "mean, or a text column's most frequent value; a warning counts them per\n"
             "column) or error"},
    {.name = "--unknown-category", .value = "HOW", .set = cli_set_string, .offset = CFG(data.unknown_category),
     .hi = 8, .field = "data.unknown_category", .example = "zero",
     .unused_example = "--data fashion-mnist --unknown-category zero",
     .help = "a CSV text value the training file did not have, in --test: error\n"
             "(default) or zero (none of the column's one-hot features set)"},
    {.name = "--standardize", .set = set_standardize, .conflicts = "--no-standardize",
     .help = "per-feature standardisation (default for .csv / .npy)"},
    {.name = "--no-standardize", .set = set_standardize,
     .help = "only scale bytes to [0, 1] (default for images)"},
    {.name = "--hidden", .value = "LIST", .set = set_hidden, .field = "model.hidden",
     .example = "64,32", .help = "hidden layer widths, e.g. 256,256 (default), or none; with --task\n"
             "regression and no model flag, the default is 256,256 or none, whichever\n"
             "validates better (both are trained; not with --val-split 0 or MPI)"},
    {.name = "--arch", .value = "LIST", .set = set_arch, .field = "model.arch", .conflicts = "--hidden",
     .example = "conv8x3,maxpool2,dense16",
     .help = "layers instead of --hidden: denseN, convFxK (F filters KxK, stride 1,\n"
             "same padding; convFxKsS stride S, convFxKpP padding P), maxpoolK,\n"
             "avgpoolK (stride K; maxpoolKsS), gap (global average pool), bn, dropoutP,\n"
             "flatten; e.g. conv32x3,maxpool2,conv64x3,maxpool2,dense128. The\n"
             "activation follows each conv and dense layer (after its bn), the output\n"
             "layer is added; conv and pools need images (IDX data, 4-D .npy)"},
    {.name = "--activation", .value = "NAME", .set = set_activation, .field = "model.activation",
     .example = "tanh", .unused_example = "--hidden none --activation tanh",
     .help = "relu (default), tanh or sigmoid, after each hidden (or conv) layer"},
    {.name = "--bn", .offset = CFG(model.batch_norm), .field = "model.batch_norm",
     .unused_example = "--hidden none --bn",
     .help = "batch norm between each hidden dense layer (then without bias) and its\n"
             "activation"},
    {.name = "--dropout", .value = "P", .set = cli_set_double, .offset = CFG(model.dropout),
     .lo = 0, .hi = 0.99, .field = "model.dropout", .example = "0.2",
     .unused_example = "--hidden none --dropout 0.5",
     .help = "inverted dropout with rate P after each hidden activation (default: from the\n"
             "run's length: 0.2 for a classifier trained for 20 epochs or more, else 0)"},
    {.name = "--optimizer", .value = "NAME", .set = set_optimizer, .field = "optim.name",
     .example = "sgd",
     .help = "sgd, momentum, nesterov, rmsprop, adam (default) or adamw"},
    {.name = "--lr", .value = "RATE", .set = set_lr, .field = "optim.lr", .example = "0.01",
     .resume = CLI_RESUME_PHASE,
     .help = "learning rate (default: the optimizer's: 0.1 sgd, 0.01 momentum and\n"
             "nesterov, 0.001 the others); with --resume, starts a new schedule phase"},
    {.name = "--momentum", .value = "B", .set = set_beta, .offset = CFG(optim.momentum),
     .field = "optim.momentum", .example = "0.8", .unused_example = "--optimizer adam --momentum 0.9",
     .help = "momentum/nesterov beta in [0, 1) (default 0.9)"},
    {.name = "--beta1", .value = "B", .set = set_beta, .offset = CFG(optim.beta1),
     .field = "optim.beta1", .example = "0.8", .unused_example = "--optimizer sgd --beta1 0.9",
     .help = "Adam's/AdamW's beta1, RMSprop's beta (default 0.9)"},
    {.name = "--beta2", .value = "B", .set = set_beta, .offset = CFG(optim.beta2),
     .field = "optim.beta2", .example = "0.99", .unused_example = "--optimizer rmsprop --beta2 0.99",
     .help = "Adam's/AdamW's beta2 (default 0.999)"},
    {.name = "--eps", .value = "E", .set = cli_set_double, .offset = CFG(optim.eps), .lo = 1e-30,
     .hi = 1, .field = "optim.eps", .example = "1e-6", .unused_example = "--optimizer momentum --eps 1e-6",
     .help = "Adam/AdamW/RMSprop epsilon (default 1e-8)"},
    {.name = "--weight-decay", .value = "WD", .set = cli_set_double, .offset = CFG(optim.weight_decay),
     .lo = 0, .hi = 1, .field = "optim.weight_decay", .conflicts = "--decoupled-weight-decay",
     .example = "1e-4",
     .help = "weight decay in the optimizer's own form: decoupled for adamw (as\n"
             "torch.optim.AdamW; default 0.01, 0 turns it off), L2 added to the\n"
             "gradient for the others (as their PyTorch weight_decay; default 0)"},
    {.name = "--decoupled-weight-decay", .value = "WD", .set = set_decoupled, .lo = 0, .hi = 1,
     .field = "optim.decoupled", .example = "1e-4",
     .help = "decoupled decay w -= lr*WD*w for an optimizer whose --weight-decay is L2\n"
             "(adam with it is AdamW; adamw's own --weight-decay is already this)"},
    {.name = "--clip-norm", .value = "N", .set = cli_set_double, .offset = CFG(optim.clip_norm),
     .lo = 0, .hi = HUGE_VAL, .field = "optim.clip_norm", .example = "1",
     .help = "clip gradients to global norm N (default 0 = off)"},
    {.name = "--clip-value", .value = "V", .set = cli_set_double, .offset = CFG(optim.clip_value),
     .lo = 0, .hi = HUGE_VAL, .field = "optim.clip_value", .example = "0.5",
     .help = "clamp each gradient to [-V, V] (default 0 = off)"},
    {.name = "--lr-decay", .value = "SPEC", .set = set_schedule, .field = "schedule",
     .conflicts = "--schedule", .resume = CLI_RESUME_PHASE, .example = "step:2:0.5",
     .help = "learning-rate schedule by epoch: cosine over the run to 0 (default),\n"
             "none, inverse:K (lr/(1+K*epoch)), exp:R (lr*R^epoch), step:N:GAMMA,\n"
             "cosine:T[:LR_MIN]; with --resume, starts a new phase (epochs count from it)"},
    {.name = "--schedule", .value = "SPEC", .set = set_schedule, .field = "schedule",
     .resume = CLI_RESUME_PHASE, .example = "none", .help = "the same as --lr-decay"},
    {.name = "--warmup", .value = "STEPS", .set = cli_set_int, .offset = CFG(schedule.warmup),
     .lo = 0, .hi = 1e9, .field = "schedule.warmup", .example = "100",
     .help = "linear learning-rate warm-up over the first STEPS updates (default 0)"},
    {.name = "--epochs", .value = "N", .set = cli_set_int, .offset = CFG(loop.epochs), .lo = 1,
     .hi = 1000000, .field = "loop.epochs", .resume = CLI_RESUME_OK, .example = "2",
     .help = "passes over the training set; with --resume, the total (default: from\n"
             "the data: what 1.5e11 multiply-adds afford at the model's cost an example,\n"
             "at least about 4,000 updates, 10 to 1000 epochs)"},
    {.name = "--batch", .value = "N", .set = cli_set_int, .offset = CFG(loop.batch), .lo = 1,
     .hi = 1 << 24, .field = "loop.batch", .example = "64", .help = "mini-batch size (default: from the data, about 1% of the training\n"
             "rows as a power of two from 32 to 128)"},
    {.name = "--val-split", .value = "F", .set = cli_set_double, .offset = CFG(loop.val_split),
     .lo = 0, .hi = 0.999999, .field = "loop.val_split", .example = "0.2",
     .help = "fraction held out for validation, in [0, 1) (default 0.1)"},
    {.name = "--patience", .value = "N", .set = cli_set_int, .offset = CFG(loop.patience), .lo = 0,
     .hi = 1000000, .field = "loop.patience", .resume = CLI_RESUME_OK, .example = "3",
     .unused_example = "--val-split 0 --patience 3",
     .help = "stop after N epochs without a validation accuracy (--task regression,\n"
             "multilabel: loss) as good as the best and restore the best weights (of\n"
             "ties, the later); 0 = off (default: from\n"
             "the data, a tenth of the epochs, at least 5, with 100 validation rows or more)"},
    {.name = "--seed", .value = "N", .set = cli_set_u64, .offset = CFG(loop.seed), .example = "7",
     .help = "seed for initial weights, split and shuffling (default 42)"},
    {.name = "--subset", .value = "N", .set = cli_set_int, .offset = CFG(loop.subset), .lo = 1,
     .hi = 2147483647, .field = "loop.subset", .example = "1000",
     .help = "train on the first N examples of the training split"},
    {.name = "--sync-bn", .offset = CFG(loop.sync_bn), .field = "loop.sync_bn",
     .unused_example = "--hidden 8 --sync-bn",
     .help = "under mpirun: batch norm with the statistics of the global batch\n"
             "(default: each rank's own); needs --bn"},
    {.name = "--precision", .value = "P", .set = cli_set_precision, .offset = CFG(loop.precision),
     .field = "loop.precision",
     .resume = CLI_RESUME_OK, .example = "fp32",
     .help = "fp32 (default); bf16: matrix products in bf16 with fp32 accumulation\n"
             "(needs oneDNN and AVX-512 BF16; weights, optimizer and loss stay fp32);\n"
             "auto: bf16 where available and the model is large enough (it says which)"},
    {.name = "--threads", .value = "N", .set = cli_set_int, .offset = OPT(threads), .lo = 0,
     .hi = 4096, .resume = CLI_RESUME_OK, .example = "1",
     .help = "threads (default 0: up to all cores, fewer while the machine is busy);\n"
             "results are the same for any count"},
    {.name = "--out", .value = "DIR", .set = cli_set_string, .offset = OPT(out), .hi = CG_PATH_LEN,
     .field = "out",
     .resume = CLI_RESUME_OK, .example = "run",
     .help = "write DIR/metrics.jsonl (one JSON object per epoch), DIR/last.safetensors\n"
             "(every epoch) and DIR/best.safetensors (best validation accuracy); with\n"
             "--resume the default is the checkpoint's directory"},
    {.name = "--resume", .value = "CKPT", .set = cli_set_string, .offset = OPT(resume),
     .field = "resume",
     .hi = CG_PATH_LEN, .resume = CLI_RESUME_OK,
     .help = "continue the run a checkpoint (DIR/last.safetensors) records: its model,\n"
             "optimizer, schedule, data and loop; only flags marked so may change"},
    {.name = "--json", .offset = OPT(json), .resume = CLI_RESUME_OK,
     .help = "stdout holds only JSON: one result object, last; other text goes to stderr"},
    {.name = "--quiet", .offset = OPT(quiet), .resume = CLI_RESUME_OK,
     .help = "print nothing on success (but the --json line, if asked)"},
};

const cli_command_flags cli_train_flags = {
    .command = "train",
    .usage = "cgrad train [flags]",
    .summary = "Train a classifier (a multi-layer perceptron, or a CNN with --arch) and\n"
               "report its test accuracy.\n"
               "The run's whole configuration is stored in its checkpoints; --resume\n"
               "continues it.",
    .flags = flags,
    .n_flags = (int)(sizeof flags / sizeof *flags),
    .resumable = 1,
};
