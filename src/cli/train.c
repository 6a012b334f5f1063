/* SPDX-License-Identifier: MIT */
/* train.c: `cgrad train`: load a data set, build an MLP, fit it, evaluate
 * it on the test set, and optionally log metrics and print JSON. */
#define _POSIX_C_SOURCE 200809L /* mkdir */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/train.h"

#define MAX_HIDDEN 64

typedef struct train_args {
    const char *data, *test, *label, *optimizer, *out, *schedule;
    int hidden[MAX_HIDDEN], n_hidden;
    int activation;
    int epochs, batch, threads, json, quiet;
    int standardize; /* -1 = by data type */
    double lr;       /* 0 = the optimizer's default */
    double weight_decay, clip_norm, dropout;
    double momentum, beta1, beta2, eps; /* -1 = not given: the optimizer's default */
    int subset;      /* 0 = the whole training split */
    int patience;    /* 0 = no early stopping */
    const char *resume;
    int bn;
    int sync_bn;     /* under mpirun: batch statistics of the global batch */
    int decoupled;
    double val_split;
    uint64_t seed;
} train_args;

void cli_train_help(FILE *f)
{
    fprintf(f,
            "usage: cgrad train [flags]\n"
            "\n"
            "Train a multi-layer perceptron classifier and report its test accuracy.\n"
            "\n"
            "  --data SPEC          fashion-mnist (default), a directory of MNIST-style IDX\n"
            "                       files, or a .csv / .npy file\n"
            "  --test FILE          test set for .csv / .npy data (IDX data uses t10k-*)\n"
            "  --label COL          label column of .csv / .npy (name or index; default last)\n"
            "  --hidden LIST        hidden layer widths, e.g. 256,256 (default), or none\n"
            "  --activation NAME    relu (default), tanh or sigmoid\n"
            "  --bn                 batch norm between each hidden dense layer (then without\n"
            "                       bias) and its activation\n"
            "  --dropout P          inverted dropout with rate P after each hidden activation\n"
            "  --sync-bn            under mpirun: batch norm with the statistics of the\n"
            "                       global batch (default: each rank's own); needs --bn\n"
            "  --optimizer NAME     adam (default), adamw, sgd, momentum, nesterov, rmsprop\n"
            "  --lr RATE            learning rate (default 0.001 for adam/adamw/rmsprop,\n"
            "                       0.01 for momentum/nesterov, 0.1 for sgd)\n"
            "  --lr-decay SPEC      learning-rate schedule by epoch: cosine:EPOCHS (default),\n"
            "                       none, inverse:K (lr/(1+K*epoch)), exp:R (lr*R^epoch),\n"
            "                       step:N:GAMMA, cosine:T[:LR_MIN]  (alias: --schedule)\n"
            "  --weight-decay WD    L2 weight decay added to the gradient (default 0)\n"
            "  --decoupled-weight-decay WD  decoupled decay, as AdamW (default 0)\n"
            "  --clip-norm N        clip gradients to global norm N (default off)\n"
            "  --momentum B         momentum/nesterov beta in [0, 1) (default 0.9)\n"
            "  --beta1 B            Adam's/AdamW's beta1, RMSprop's beta (default 0.9)\n"
            "  --beta2 B            Adam's/AdamW's beta2 (default 0.999)\n"
            "  --eps E              Adam/AdamW/RMSprop epsilon (default 1e-8)\n"
            "                       (a flag the optimizer does not use is an error)\n"
            "  --subset N           train on the first N examples of the training split\n"
            "  --epochs N           passes over the training set (default 10)\n"
            "  --batch N            mini-batch size (default 128)\n"
            "  --seed N             seed for initial weights, split and shuffling (default 42)\n"
            "  --threads N          BLAS/OpenMP threads (default 0 = all cores)\n"
            "  --val-split F        fraction held out for validation, in [0, 1) (default 0.1)\n"
            "  --standardize        per-feature standardisation (default for .csv / .npy)\n"
            "  --no-standardize     only scale bytes to [0, 1] (default for images)\n"
            "  --out DIR            write DIR/metrics.jsonl (one JSON object per epoch,\n"
            "                       flushed as it goes), DIR/last.safetensors (every epoch)\n"
            "                       and DIR/best.safetensors (best validation accuracy)\n"
            "  --resume CKPT        continue from a checkpoint (DIR/last.safetensors): the\n"
            "                       model, optimizer state, normalisation and flags come from\n"
            "                       it; flags given now override the data/training flags;\n"
            "                       --epochs is the total to reach\n"
            "  --patience N         stop after N epochs without a better validation accuracy\n"
            "                       and restore the best weights (default off)\n"
            "  --json               end with one JSON line of results on stdout\n"
            "  --quiet              no progress output\n"
            "  --help               this text\n");
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "cgrad train: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (see `cgrad train --help`)\n");
    return CLI_USAGE;
}

static int parse_hidden(const char *s, train_args *a)
{
    a->n_hidden = 0;
    if (strcmp(s, "none") == 0) return 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 1000000 || (*end && *end != ',') ||
            a->n_hidden == MAX_HIDDEN) {
            fprintf(stderr,
                    "cgrad train: --hidden: '%s' is not a comma-separated list of positive "
                    "layer widths (or 'none')\n", s);
            return -1;
        }
        a->hidden[a->n_hidden++] = (int)v;
        if (!*end) return 0;
        p = end + 1;
    }
}

/* A flag that the run would not use is an error, not silently dropped:
 * --beta2 with SGD, --sync-bn without batch norm. */
static int check_applies(const train_args *a)
{
    static const char *const hyper[] = {"momentum", "beta1", "beta2", "eps"};
    const double given[] = {a->momentum, a->beta1, a->beta2, a->eps};
    const char *o = a->optimizer;
    for (int i = 0; i < 4; i++) {
        if (given[i] < 0 || cg_optimizer_uses(o, hyper[i])) continue;
        char what[128]; /* o is a known optimizer name here: short */
        snprintf(what, sizeof what, "--%s: --optimizer %s has no %s", hyper[i], o, hyper[i]);
        const char *hint = "";
        if (i == 0 && cg_optimizer_uses(o, "beta1")) hint = " (its beta is --beta1)";
        if (i == 1 && cg_optimizer_uses(o, "momentum")) hint = " (its beta is --momentum)";
        return usage_error("%s%s", what, hint);
    }
    if (a->sync_bn && !a->bn)
        return usage_error("--sync-bn: synchronises batch norm's statistics and needs --bn%s%s",
                           "", "");
    return 0;
}

/* 0, CLI_OK for --help (returned as 1), or CLI_USAGE. */
static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->data = "fashion-mnist";
    a->optimizer = "adam";
    a->momentum = a->beta1 = a->beta2 = a->eps = -1;
    a->hidden[0] = a->hidden[1] = 256;
    a->n_hidden = 2;
    a->activation = CG_RELU;
    a->epochs = 10;
    a->batch = 128;
    a->seed = 42;
    a->val_split = 0.1;
    a->standardize = -1;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) return 1;
        if (strcmp(f, "--json") == 0) { a->json = 1; continue; }
        if (strcmp(f, "--quiet") == 0) { a->quiet = 1; continue; }
        if (strcmp(f, "--bn") == 0) { a->bn = 1; continue; }
        if (strcmp(f, "--sync-bn") == 0) { a->sync_bn = 1; continue; }
        if (strcmp(f, "--standardize") == 0) { a->standardize = 1; continue; }
        if (strcmp(f, "--no-standardize") == 0) { a->standardize = 0; continue; }
        static const char *const valued[] = {"--data", "--test", "--label", "--hidden",
                                             "--activation", "--epochs", "--batch", "--lr",
                                             "--optimizer", "--seed", "--threads", "--val-split",
                                             "--out", "--schedule", "--lr-decay",
                                             "--weight-decay", "--decoupled-weight-decay",
                                             "--clip-norm", "--dropout", "--momentum",
                                             "--beta1", "--beta2", "--eps", "--subset",
                                             "--patience", "--resume"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++)
            if (strcmp(f, valued[k]) == 0) known = 1;
        if (!known) {
            if (strncmp(f, "--", 2) == 0)
                return usage_error("unknown flag '%s'%s", f, "");
            return usage_error("unexpected argument '%s'%s", f, "");
        }
        if (i + 1 >= argc) return usage_error("%s needs a value%s", f, "");
        const char *v = argv[++i];
        if (strcmp(f, "--data") == 0) a->data = v;
        else if (strcmp(f, "--test") == 0) a->test = v;
        else if (strcmp(f, "--label") == 0) a->label = v;
        else if (strcmp(f, "--out") == 0) a->out = v;
        else if (strcmp(f, "--resume") == 0) a->resume = v;
        else if (strcmp(f, "--patience") == 0) {
            if (cli_parse_int(f, v, 0, 1000000, &a->patience)) return CLI_USAGE;
        }
        else if (strcmp(f, "--lr-decay") == 0 || strcmp(f, "--schedule") == 0) {
            int kind;
            double params[CG_LR_MAX_PARAMS];
            if (cg_lr_schedule_parse(v, &kind, params))
                return usage_error("%s: %s", f, cg_last_error());
            a->schedule = v;
        }
        else if (strcmp(f, "--optimizer") == 0) {
            /* Validated here so that a typo fails before any work. */
            cg_optimizer *o = cg_optimizer_from_name(v, 0.1);
            if (!o) return usage_error("--optimizer: %s%s", cg_last_error(), "");
            cg_optimizer_free(o);
            a->optimizer = v;
        } else if (strcmp(f, "--hidden") == 0) {
            if (parse_hidden(v, a)) return CLI_USAGE;
        } else if (strcmp(f, "--activation") == 0) {
            a->activation = cg_activation_from_name(v);
            if (a->activation != CG_RELU && a->activation != CG_TANH && a->activation != CG_SIGMOID)
                return usage_error("--activation: '%s' is not one of relu, tanh, sigmoid%s", v, "");
        } else if (strcmp(f, "--epochs") == 0) {
            if (cli_parse_int(f, v, 1, 1000000, &a->epochs)) return CLI_USAGE;
        } else if (strcmp(f, "--batch") == 0) {
            if (cli_parse_int(f, v, 1, 1 << 24, &a->batch)) return CLI_USAGE;
        } else if (strcmp(f, "--threads") == 0) {
            if (cli_parse_int(f, v, 0, 4096, &a->threads)) return CLI_USAGE;
        } else if (strcmp(f, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-')
                return usage_error("--seed: '%s' is not a non-negative integer%s", v, "");
            a->seed = (uint64_t)s;
        } else if (strcmp(f, "--weight-decay") == 0 || strcmp(f, "--decoupled-weight-decay") == 0) {
            if (cli_parse_double(f, v, 0, 1, &a->weight_decay)) return CLI_USAGE;
            a->decoupled = strcmp(f, "--decoupled-weight-decay") == 0;
        } else if (strcmp(f, "--dropout") == 0) {
            if (cli_parse_double(f, v, 0, 0.99, &a->dropout)) return CLI_USAGE;
        } else if (strcmp(f, "--momentum") == 0 || strcmp(f, "--beta1") == 0 ||
                   strcmp(f, "--beta2") == 0) {
            double b;
            if (cli_parse_double(f, v, 0, 1, &b)) return CLI_USAGE;
            if (!(b < 1)) return usage_error("%s: '%s' must be below 1", f, v);
            *(strcmp(f, "--beta2") == 0 ? &a->beta2 : strcmp(f, "--beta1") == 0 ? &a->beta1
                                                                               : &a->momentum) = b;
        } else if (strcmp(f, "--eps") == 0) {
            if (cli_parse_double(f, v, 1e-30, 1, &a->eps)) return CLI_USAGE;
        } else if (strcmp(f, "--subset") == 0) {
            if (cli_parse_int(f, v, 1, INT_MAX, &a->subset)) return CLI_USAGE;
        } else if (strcmp(f, "--clip-norm") == 0) {
            if (cli_parse_double(f, v, 0, HUGE_VAL, &a->clip_norm)) return CLI_USAGE;
        } else if (strcmp(f, "--lr") == 0) {
            if (cli_parse_double(f, v, -HUGE_VAL, HUGE_VAL, &a->lr)) return CLI_USAGE;
            if (!(a->lr > 0)) return usage_error("--lr: '%s' must be positive%s", v, "");
        } else if (strcmp(f, "--val-split") == 0) {
            if (cli_parse_double(f, v, -HUGE_VAL, HUGE_VAL, &a->val_split)) return CLI_USAGE;
            if (!(a->val_split >= 0 && a->val_split < 1))
                return usage_error("--val-split: '%s' must be in [0, 1)%s", v, "");
        }
    }
    return check_applies(a);
}

static double default_lr(const char *opt)
{
    if (strcmp(opt, "sgd") == 0) return 0.1;
    if (strcmp(opt, "momentum") == 0 || strcmp(opt, "nesterov") == 0) return 0.01;
    return 0.001;
}

/* The optimizer by name, with the betas and eps given on the command line
 * (0 = the default of cg_optimizer_from_name). */
static cg_optimizer *make_optimizer(const train_args *a, double lr)
{
    const char *name = a->optimizer;
    double b1 = a->beta1 >= 0 ? a->beta1 : CG_ADAM_BETA1;
    double b2 = a->beta2 >= 0 ? a->beta2 : CG_ADAM_BETA2;
    double eps = a->eps >= 0 ? a->eps : CG_ADAM_EPS;
    double mom = a->momentum >= 0 ? a->momentum : CG_MOMENTUM_BETA;
    if (strcmp(name, "momentum") == 0) return cg_momentum(lr, mom);
    if (strcmp(name, "nesterov") == 0) return cg_nesterov(lr, mom);
    if (strcmp(name, "rmsprop") == 0) return cg_rmsprop(lr, b1, eps);
    if (strcmp(name, "adam") == 0) return cg_adam(lr, b1, b2, eps);
    if (strcmp(name, "adamw") == 0) {
        cg_optimizer *o = cg_adam(lr, b1, b2, eps);
        if (o && cg_optimizer_set_weight_decay(o, 0.01, 1)) {
            cg_optimizer_free(o);
            return NULL;
        }
        return o;
    }
    return cg_optimizer_from_name(name, lr);
}

/* Threads per rank when --threads is not given: the cores shared among the
 * ranks on this node, so that N ranks do not oversubscribe them. */
static int ranks_threads(int nranks)
{
    if (nranks <= 1) return 0;
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long per_node = local ? strtol(local, NULL, 10) : nranks;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (per_node < 1) per_node = 1;
    long t = cores / per_node;
    return t < 1 ? 1 : (int)t;
}


/* The class names of the data sets cgrad knows by name. */
static const char *const *known_class_names(const char *spec, int n_classes)
{
    static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    return strcmp(spec, "fashion-mnist") == 0 && n_classes == 10 ? fashion : NULL;
}

/* The model and optimizer of a new run, from the flags. */
static int build_new(const train_args *a, int n_in, int n_classes, cg_model **model,
                     cg_optimizer **opt)
{
    cg_model *m = *model = cg_model_new(n_in, n_classes, a->seed);
    if (!m) return -1;
    for (int i = 0; i < a->n_hidden; i++)
        if (cg_model_add_dense(m, a->hidden[i]) ||
            (a->bn && cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS)) ||
            cg_model_add_activation(m, a->activation) ||
            (a->dropout > 0 && cg_model_add_dropout(m, a->dropout)))
            return -1;
    const char *const *names = known_class_names(a->data, n_classes);
    if ((names && cg_model_set_class_names(m, names, n_classes)) || cg_model_build(m)) return -1;
    double lr = a->lr > 0 ? a->lr : default_lr(a->optimizer);
    cg_optimizer *o = *opt = make_optimizer(a, lr);
    if (!o) return -1;
    char default_schedule[32];
    const char *schedule = a->schedule;
    if (!schedule) { /* cosine decay to 0 over the run */
        snprintf(default_schedule, sizeof default_schedule, "cosine:%d", a->epochs);
        schedule = default_schedule;
    }
    int sched_kind;
    double sched_params[CG_LR_MAX_PARAMS];
    if (cg_lr_schedule_parse(schedule, &sched_kind, sched_params) ||
        cg_optimizer_set_schedule(o, sched_kind, sched_params))
        return -1;
    if ((a->weight_decay > 0 && cg_optimizer_set_weight_decay(o, a->weight_decay, a->decoupled)) ||
        (a->clip_norm > 0 && cg_optimizer_set_clip_norm(o, a->clip_norm)))
        return -1;
    return 0;
}

int cli_train(int argc, char **argv)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 1) {
        cli_train_help(stdout);
        return CLI_OK;
    }
    if (rc) return rc;

    cg_dataset full = {0}, test = {0}, va = {0};
    cg_normalizer nz = {0};
    cg_model *model = NULL;
    cg_optimizer *opt = NULL;
    cg_checkpoint_info info = {0};
    epoch_log log = {0};
    int status = CLI_FAIL, have_test = 0, resumed_argc = 0;
    char **resumed_argv = NULL, *extra = NULL;
    FILE *out = stdout;

    if (a.resume) {
        const char *path = a.resume;
        model = cg_checkpoint_load(path, &opt, &nz, &info);
        if (!model) {
            fprintf(stderr, "cgrad train: --resume: %s\n", cg_last_error());
            return CLI_USAGE;
        }
        resumed_argv = train_resume_argv(path, info.extra, argc, argv, &resumed_argc);
        if (!resumed_argv) { status = CLI_USAGE; goto done; }
        if (parse_args(resumed_argc, resumed_argv, &a)) { status = CLI_USAGE; goto done; }
        if (info.epoch >= a.epochs) {
            fprintf(stderr, "cgrad train: --resume: %s has trained %d epochs already; ask for more "
                            "with --epochs N (the total, N > %d)\n", path, info.epoch, info.epoch);
            status = CLI_USAGE;
            goto done;
        }
        extra = train_flags_json(resumed_argc, resumed_argv);
    } else {
        extra = train_flags_json(argc, argv);
    }
    if (!extra) goto fail_memory;
    const int rank = cg_dist_rank(cli_dist), nranks = cg_dist_size(cli_dist);
    cg_set_threads(a.threads ? a.threads : ranks_threads(nranks));
    /* Only rank 0 reports and writes files. */
    int verbose = !a.quiet && rank == 0;
    if (rank != 0) out = NULL;

    if (cg_load_dataset(a.data, a.label, 1, &full)) {
        fprintf(stderr, "cgrad train: --data: %s\n", cg_last_error());
        status = CLI_USAGE;
        goto done;
    }
    int is_idx = full.rows > 0, is_bytes = full.x_u8 != NULL;
    if (a.test) {
        if (cg_load_dataset(a.test, a.label, is_idx ? 0 : 1, &test)) {
            fprintf(stderr, "cgrad train: --test: %s\n", cg_last_error());
            status = CLI_USAGE;
            goto done;
        }
        have_test = 1;
    } else if (is_idx) {
        if (cg_load_dataset(a.data, a.label, 0, &test)) {
            fprintf(stderr, "cgrad train: --data: test split: %s\n", cg_last_error());
            status = CLI_USAGE;
            goto done;
        }
        have_test = 1;
    } else if (verbose) {
        fprintf(stderr, "cgrad train: note: no --test file given; skipping the test evaluation\n");
    }
    if (have_test && test.d != full.d) {
        fprintf(stderr, "cgrad train: --test has %d features, --data has %d\n", test.d, full.d);
        status = CLI_USAGE;
        goto done;
    }
    int n_classes = full.n_classes;
    if (have_test && test.n_classes > n_classes) n_classes = test.n_classes;
    if (n_classes < 2) n_classes = 2;
    if (model) { /* resumed: the model decides; fit reports labels it cannot take */
        n_classes = cg_model_n_classes(model);
        if (full.d != cg_model_n_inputs(model)) {
            fprintf(stderr, "cgrad train: --data has %d features, the checkpoint's model takes %d\n",
                    full.d, cg_model_n_inputs(model));
            status = CLI_USAGE;
            goto done;
        }
    }

    const cg_dataset *train_set = &full, *val_set = NULL;
    if (a.val_split > 0) {
        /* In place: a copy of the training part would double the memory
         * the pixels take. */
        if (cg_dataset_split_inplace(&full, a.val_split, a.seed, &va)) {
            fprintf(stderr, "cgrad train: --val-split: %s\n", cg_last_error());
            status = CLI_USAGE;
            goto done;
        }
        val_set = va.n > 0 ? &va : NULL;
    }
    cg_dataset subset;
    if (a.subset > 0 && a.subset < train_set->n) {
        subset = *train_set; /* a view of the first rows; freed with its owner */
        subset.n = a.subset;
        train_set = &subset;
    }
    if (a.patience > 0 && !val_set) {
        fprintf(stderr, "cgrad train: --patience needs a validation set (--val-split > 0)\n");
        status = CLI_USAGE;
        goto done;
    }
    int standardize = a.standardize >= 0 ? a.standardize : !is_bytes;
    if (!model) {
        if (cg_normalizer_fit(&nz, train_set, standardize)) goto fail;
        if (build_new(&a, full.d, n_classes, &model, &opt)) goto fail;
    }

    if (a.out && rank == 0) {
        char path[4096];
        if (cli_make_dirs(a.out) != 0) {
            fprintf(stderr, "cgrad train: --out: cannot create directory '%s': %s\n", a.out,
                    strerror(errno));
            goto done;
        }
        snprintf(path, sizeof path, "%s/metrics.jsonl", a.out);
        /* A resumed run continues the log of the run it resumes. */
        log.f = fopen(path, a.resume ? "a" : "w");
        if (!log.f) {
            fprintf(stderr, "cgrad train: --out: cannot write '%s': %s\n", path, strerror(errno));
            goto done;
        }
        log.dir = a.out;
    }
    log.model = model;
    log.opt = opt;
    log.nz = &nz;
    log.extra = extra;

    if (verbose) {
        fprintf(out, "data: %s: %d training, %d validation, %d test examples, %d features, "
                     "%d classes\n", a.data, train_set->n, val_set ? val_set->n : 0,
                have_test ? test.n : 0, full.d, n_classes);
        cg_model_summary(model, out);
        if (a.resume)
            fprintf(out, "resumed from %s after epoch %d (step %ld)\n", a.resume, info.epoch, info.step);
        fprintf(out, "optimizer: %s, lr %g, batch %d, epochs %d, seed %llu%s\n",
                cg_optimizer_name(opt), cg_optimizer_lr(opt), a.batch, a.epochs,
                (unsigned long long)a.seed, nz.mean ? ", standardized inputs" : "");
        fflush(out);
    }

    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = a.epochs;
    fo.batch_size = a.batch;
    fo.seed = a.seed;
    fo.verbose = verbose;
    fo.progress = out;
    fo.on_epoch = train_on_epoch;
    fo.user = &log;
    fo.patience = a.patience;
    fo.dist = cli_dist;
    fo.sync_bn = a.sync_bn;
    fo.initial_epoch = info.epoch;
    if (a.resume) {
        fo.best_val_acc = info.best_val_acc;
        fo.epochs_since_best = info.epochs_since_best;
    }
    cg_fit_result res;
    if (cg_fit(model, opt, train_set, val_set, &nz, &fo, &res)) goto fail;
    if (log.failed) {
        fprintf(stderr, "cgrad train: --out: %s\n", log.error);
        goto done;
    }
    /* The best epoch came before this resumed run: its weights are on disk. */
    if (res.stopped_early && res.best_epoch == 0 && a.out) {
        char path[4096];
        snprintf(path, sizeof path, "%s/best.safetensors", a.out);
        if (cg_model_load_weights(model, path)) goto fail;
    }

    double test_loss = NAN, test_acc = NAN;
    if (have_test && cg_evaluate_dist(model, &test, &nz, a.batch > CG_EVAL_BATCH ? a.batch : CG_EVAL_BATCH, cli_dist, &test_loss, &test_acc))
        goto fail;
    if (!out) {
        status = CLI_OK;
        goto done;
    }
    if (have_test) fprintf(out, "test loss: %.4f - test accuracy: %.4f\n", test_loss, test_acc);
    fprintf(out, "trained %d epochs in %.1fs (%.0f examples/s)\n", res.epochs, res.seconds,
            res.examples_per_second);
    if (a.json) {
        cJSON *o = cJSON_CreateObject();
        if (!o) goto done;
        train_json_number(o, "test_accuracy", test_acc);
        train_json_number(o, "test_loss", test_loss);
        train_json_number(o, "val_accuracy", res.val_acc);
        train_json_number(o, "val_loss", res.val_loss);
        train_json_number(o, "best_val_accuracy", res.best_val_acc);
        train_json_number(o, "train_accuracy", res.train_acc);
        train_json_number(o, "train_loss", res.train_loss);
        cJSON_AddNumberToObject(o, "epochs", res.epochs);
        cJSON_AddBoolToObject(o, "stopped_early", res.stopped_early);
        cJSON_AddNumberToObject(o, "train_seconds", res.seconds);
        cJSON_AddNumberToObject(o, "examples_per_second", res.examples_per_second);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s) goto done;
        fprintf(out, "%s\n", s);
        free(s);
    }
    status = fflush(out) == 0 ? CLI_OK : CLI_FAIL;
    goto done;
fail_memory:
    fprintf(stderr, "cgrad train: out of memory\n");
    goto done;
fail:
    fprintf(stderr, "cgrad train: %s\n", cg_last_error());
done:
    if (log.f) fclose(log.f);
    free(extra);
    train_free_argv(resumed_argv, resumed_argc);
    cg_checkpoint_info_free(&info);
    cg_optimizer_free(opt);
    cg_model_free(model);
    cg_normalizer_free(&nz);
    cg_dataset_free(&va);
    cg_dataset_free(&test);
    cg_dataset_free(&full);
    return status;
}
