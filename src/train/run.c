/* SPDX-License-Identifier: MIT */
/* run.c: cg_train_one, a whole run from its configuration: data, split,
 * normalisation, model and optimizer (new, or restored to continue a
 * checkpoint's run), the fit with its run directory, the test score. */
#define _POSIX_C_SOURCE 200809L /* open_memstream, mkdir */
#include "train/run.h"
#include "data/config.h"
#include "data/table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void cg_train_options_init(cg_train_options *o)
{
    if (o) memset(o, 0, sizeof *o);
}

void cg_train_note(const cg_train_options *o, const char *fmt, ...)
{
    if (!o->on_note) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->on_note(line, o->user);
}

/* The model's summary table, a note per line. */
static void note_summary(const cg_train_options *o, cg_model *m)
{
    if (!o->on_note) return;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) return;
    cg_model_summary(m, f);
    fclose(f);
    for (char *line = text, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        o->on_note(line, o->user);
        if (!nl) break;
    }
    free(text);
}

/* The class names of the data sets cgrad knows by name. */
static const char *const *known_class_names(const char *spec, int n_classes)
{
    static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    return strcmp(spec, "fashion-mnist") == 0 && n_classes == 10 ? fashion : NULL;
}

int cg_checkpoint_config(const char *path, cg_run_config *config, int *epochs_done)
{
    if (!path || !config) return cg_error(CG_ERR_ARG, "cg_checkpoint_config: NULL argument");
    cg_checkpoint_info info;
    cg_model *m = cg_checkpoint_load(path, NULL, NULL, &info);
    if (!m) return cg_last_error_code();
    cg_model_free(m);
    int rc = CG_OK;
    if (!info.config)
        rc = cg_error(CG_ERR_FORMAT, "%s holds no run configuration (a format-1 checkpoint of cgrad "
                                     "0.1): it cannot be resumed", path);
    else if (cg_run_config_from_json(info.config, config))
        rc = cg_error(CG_ERR_FORMAT, "%s: %s", path, cg_last_error());
    if (!rc && epochs_done) *epochs_done = info.epoch;
    cg_checkpoint_info_free(&info);
    return rc;
}

/* A cosine schedule without a floor reaches 0 at its end and stays there. */
static int schedule_end(const cg_schedule_config *s)
{
    if (s->kind != CG_LR_COSINE || s->params[1] > 0) return -1;
    return s->start_epoch + (int)ceil(s->params[0]);
}

/* Resuming: the optimizer restored from the checkpoint takes a new
 * schedule phase when the configuration starts one; nothing trains past
 * the end of a schedule that decays to 0. */
static int continue_schedule(const cg_run_config *c, cg_optimizer *o, int done)
{
    if (c->schedule.start_epoch > done)
        return cg_error(CG_ERR_ARG, "schedule.start_epoch: %d is after the %d epochs done",
                        c->schedule.start_epoch, done);
    if (c->schedule.start_epoch == done && done > 0 &&
        (cg_optimizer_set_lr(o, c->optim.lr) ||
         cg_optimizer_set_schedule(o, c->schedule.kind, c->schedule.params) ||
         cg_optimizer_set_schedule_start(o, c->schedule.start_epoch)))
        return cg_last_error_code();
    int end = schedule_end(&c->schedule);
    if (end >= 0 && end < c->loop.epochs) {
        char spec[64];
        cg_lr_schedule_format(c->schedule.kind, c->schedule.params, spec, sizeof spec);
        return cg_error(CG_ERR_ARG, "loop.epochs: %d goes past the run's learning-rate schedule (%s "
                                    "from epoch %d), which reaches 0 at epoch %d, so epochs %d-%d "
                                    "would not train; to train on, start a new schedule phase from "
                                    "epoch %d with a learning rate and/or a schedule (e.g. cosine "
                                    "over the %d epochs left)",
                        c->loop.epochs, spec, c->schedule.start_epoch, end, end + 1, c->loop.epochs,
                        done + 1, c->loop.epochs - done);
    }
    return CG_OK;
}

typedef struct run_state {
    cg_dataset full, test, val;
    cg_normalizer nz;
    cg_model *model;
    cg_optimizer *opt;
    cg_checkpoint_info info;
    char *config_json;
    run_log log;
    cg_run_lock *lock;
} run_state;

static void run_free(run_state *s)
{
    if (s->log.f) fclose(s->log.f);
    cg_run_dir_unlock(s->lock); /* after the log is closed: watch reads it all */
    cg_free_string(s->config_json);
    cg_checkpoint_info_free(&s->info);
    cg_optimizer_free(s->opt);
    cg_model_free(s->model);
    cg_normalizer_free(&s->nz);
    cg_dataset_free(&s->val);
    cg_dataset_free(&s->test);
    cg_dataset_free(&s->full);
}

/* Data: the training rows, the test rows (a test file, or an IDX
 * directory's t10k files), n_classes. */
/* A .npy file (4-D images keep their shape, but have no test split of
 * their own, unlike IDX data). */
static int npy_source(const char *source)
{
    size_t n = strlen(source);
    return n >= 4 && strcasecmp(source + n - 4, ".npy") == 0;
}

static int load_data(const cg_run_config *c, run_state *s, int *has_test)
{
    const char *source = c->data.source, *label = c->data.label[0] ? c->data.label : NULL;
    cg_csv_options co;
    cg_data_config_csv(&c->data, &co);
    co.table = s->nz.table; /* resumed: the checkpoint's column encoding */
    co.targets = c->model.task != CG_TASK_CLASSIFICATION;
    size_t len = strlen(source);
    if (co.targets && !(len >= 4 && strcasecmp(source + len - 4, ".csv") == 0))
        return cg_error(CG_ERR_ARG, "model.task: %s needs a .csv file with numeric target columns; "
                        "data.source is '%s'", cg_task_name(c->model.task), source);
    if (cg_load_dataset_opts(source, 1, &co, &s->full))
        return cg_error(cg_last_error_code(), "data.source: %s", cg_last_error());
    *has_test = 0;
    if (c->data.test[0]) {
        /* A CSV test file is encoded as the training file was. */
        co.table = s->full.table;
        if (cg_load_dataset_opts(c->data.test, 1, &co, &s->test))
            return cg_error(cg_last_error_code(), "data.test: %s", cg_last_error());
        *has_test = 1;
    } else if (s->full.rows > 0 && !npy_source(source)) { /* IDX: its t10k files */
        if (cg_load_dataset(source, label, 0, &s->test))
            return cg_error(cg_last_error_code(), "data.source: test split: %s", cg_last_error());
        *has_test = 1;
    }
    if (*has_test && s->test.d != s->full.d)
        return cg_error(CG_ERR_SHAPE, "data.test: %d features, data.source has %d", s->test.d, s->full.d);
    return CG_OK;
}

/* What a CSV file's columns became: class names, text columns, and a
 * warning per file with missing cells imputed. */
static void note_csv(const cg_train_options *o, const run_state *s)
{
    const cg_table *t = s->full.table;
    if (!t) return;
    int n = cg_table_n_classes(t);
    if (n > 0) {
        char list[512] = "";
        for (int i = 0; i < n; i++) {
            size_t used = strlen(list);
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cg_table_class_name(t, i));
            if (w < 0 || (size_t)w >= sizeof list - used) {
                snprintf(list + (used < sizeof list - 8 ? used : sizeof list - 8), 8, ", ...");
                break;
            }
        }
        cg_train_note(o, "classes (sorted names): %s", list);
    }
    const int nl = cg_table_n_label_cols(t);
    if (t->n_features > t->n_cols - nl)
        cg_train_note(o, "text columns one-hot encoded: %d columns make %d features", t->n_cols - nl, t->n_features);
    const cg_dataset *sets[2] = {&s->full, &s->test};
    const char *what[2] = {"data.source", "data.test"};
    for (int k = 0; k < 2; k++) {
        char *m = cg_table_missing_summary(sets[k]->table);
        if (m) cg_train_note(o, "warning: %s: missing cells imputed (the training mean, or a text column's most frequent "
                       "value), per column: %s", what[k], m);
        cg_free_string(m);
    }
}

/* Regression: each target's mean and std over the training rows (the
 * scale the model trains in); a constant target is an error naming its
 * column. Multi-label: every target 0 or 1. */
static int target_scale(const cg_run_config *c, const cg_dataset *train, double *mean, double *std)
{
    const int nt = train->n_targets;
    for (int k = 0; k < nt; k++) {
        const char *name = cg_table_target_name(train->table, k);
        double sum = 0, sq = 0;
        for (int i = 0; i < train->n; i++) sum += train->t_f32[(size_t)i * nt + k];
        mean[k] = sum / train->n;
        for (int i = 0; i < train->n; i++) {
            double v = train->t_f32[(size_t)i * nt + k], e = v - mean[k];
            sq += e * e;
            if (c->model.task == CG_TASK_MULTILABEL && v != 0 && v != 1)
                return cg_error(CG_ERR_ARG, "data.label: target column '%s' holds %g: multilabel targets "
                                "are 0 or 1 (for numbers, use --task regression)", name, v);
        }
        std[k] = sqrt(sq / train->n);
        if (c->model.task == CG_TASK_REGRESSION && !(std[k] > 1e-12 * fabs(mean[k]) && std[k] > 0))
            return cg_error(CG_ERR_ARG, "data.label: target column '%s' is constant (%g in all %d training "
                            "rows): there is nothing to learn", name, mean[k], train->n);
    }
    return CG_OK;
}

/* Forward multiply-adds an example of the model the run trains, which
 * sets the default epochs: the resumed model's, or that of one made (not
 * built) from the configuration; 0 when none can be made (the
 * configuration's check then says why). */
static double model_cost(const cg_run_config *c, const cg_model *resumed, const cg_dataset *full,
                         int n_classes)
{
    if (resumed) return cg_model_multiply_adds(resumed);
    /* Dropout, whose default waits for the epochs, costs no multiply-adds. */
    cg_model_config mc = c->model;
    if (mc.dropout == CG_FROM_DATA) mc.dropout = 0;
    cg_model *m = full->rows > 0 ? cg_model_from_config_image(&mc, full->channels > 0 ? full->channels : 1,
                                                              full->rows, full->cols, n_classes, c->loop.seed)
                                 : cg_model_from_config(&mc, full->d, n_classes, c->loop.seed);
    double cost = cg_model_multiply_adds(m);
    cg_model_free(m);
    return cost;
}

int cg_train_one(const cg_run_config *config, const cg_train_options *opt, cg_train_result *res)
{
    if (!config) return cg_error(CG_ERR_ARG, "cg_train: NULL configuration");
    cg_train_options defaults;
    if (!opt) {
        cg_train_options_init(&defaults);
        opt = &defaults;
    }
    cg_train_result r;
    memset(&r, 0, sizeof r);
    r.test_loss = r.test_acc = NAN;
    cg_run_config c = *config;
    if (cg_run_config_resolve(&c)) return cg_last_error_code();
    /* The rate was left to the defaults and is not the optimizer's own:
     * resolve chose it for the model (see cg_run_config_resolve). */
    const int model_lr = isnan(config->optim.lr) && c.optim.lr != cg_optimizer_default(c.optim.name, "lr");
    run_state s;
    memset(&s, 0, sizeof s);
    const int rank = cg_dist_rank(opt->dist);
    int rc = CG_OK, has_test = 0;
    if (opt->resume) {
        s.model = cg_checkpoint_load(opt->resume, &s.opt, &s.nz, &s.info);
        if (!s.model) {
            rc = cg_error(cg_last_error_code(), "resume: %s", cg_last_error());
            goto done;
        }
        if (s.info.epoch >= c.loop.epochs) {
            /* Nothing to run; the directory is still tidied of what killed
             * writers left, under its lock (a live run there keeps it). */
            if (opt->out && rank == 0 && cg_run_dir_lock(opt->out, &s.lock) == CG_OK)
                cg_run_dir_clean_stale(opt->out, NULL);
            rc = cg_error(CG_ERR_ARG, "loop.epochs: %s has trained %d epochs already; ask for more "
                                      "(the total, more than %d)", opt->resume, s.info.epoch, s.info.epoch);
            goto done;
        }
        if ((rc = continue_schedule(&c, s.opt, s.info.epoch))) goto done;
        r.initial_epoch = s.info.epoch;
    }
    if ((rc = load_data(&c, &s, &has_test))) goto done;
    /* The stored configuration says what the run did: bytes (images) are
     * only scaled by default, floats (tables) standardised. */
    if (c.data.standardize < 0) c.data.standardize = s.full.x_u8 == NULL;
    const int task = c.model.task;
    r.task = task;
    int n_classes = task ? s.full.n_targets : s.full.n_classes;
    if (has_test && s.test.n_classes > n_classes) n_classes = s.test.n_classes;
    if (n_classes < 2 && !task) n_classes = 2;
    if (s.model) { /* resumed: the model decides; fit reports labels it cannot take */
        n_classes = cg_model_n_classes(s.model);
        if (s.full.d != cg_model_n_inputs(s.model)) {
            rc = cg_error(CG_ERR_SHAPE, "data.source: %d features, the checkpoint's model takes %d",
                          s.full.d, cg_model_n_inputs(s.model));
            goto done;
        }
    }
    const cg_dataset *train = &s.full, *val = NULL;
    if (c.loop.val_split > 0) {
        /* In place: a copy of the training part would double the memory
         * the pixels take. */
        if ((rc = cg_dataset_split_inplace(&s.full, c.loop.val_split, c.loop.seed, &s.val))) {
            rc = cg_error(rc, "loop.val_split: %s", cg_last_error());
            goto done;
        }
        val = s.val.n > 0 ? &s.val : NULL;
    }
    cg_dataset subset;
    if (c.loop.subset > 0 && c.loop.subset < train->n) {
        subset = *train; /* a view of the first rows; freed with its owner */
        subset.n = c.loop.subset;
        train = &subset;
    }
    /* Epochs, batch and patience not given follow from the rows trained
     * on and the model's cost; the stored configuration holds the values
     * chosen. */
    char why[768];
    /* The minimum of validation rows for early stopping is for accuracy,
     * which moves in steps of 1/rows; a regression's or multi-label
     * model's validation loss is continuous, so any validation rows do. */
    long n_val = val ? val->n : 0;
    if (task && n_val > 0 && n_val < CG_DEFAULT_MIN_VAL) n_val = CG_DEFAULT_MIN_VAL;
    /* A model of one output (a regression on one target) is costed as
     * one of two: a classifier needs two classes to be made, and one
     * output more changes the cost by a few multiply-adds. Without a cost
     * the budget would not apply and a regression would get the fewest
     * epochs the rule allows. */
    double cost = c.loop.epochs == CG_FROM_DATA ? model_cost(&c, s.model, &s.full, n_classes < 2 ? 2 : n_classes) : 0;
    if (cg_loop_config_from_cost(&c.loop, train->n, n_val, cost, why, sizeof why) ||
        cg_run_config_dropout_from_data(&c, why, sizeof why) || cg_run_config_resolve(&c) ||
        !(s.config_json = cg_run_config_to_json(&c))) {
        rc = cg_last_error_code();
        goto done;
    }
    char *acc_word = strstr(why, "validation accuracy");
    if (task && acc_word) /* regression and multi-label stop on the validation loss */
        memmove(acc_word + 15, acc_word + 19, strlen(acc_word + 19) + 1), memcpy(acc_word + 11, "loss", 4);
    if (c.loop.patience > 0 && !val) {
        rc = cg_error(CG_ERR_ARG, "loop.patience: the validation split of %d rows is empty", s.full.n);
        goto done;
    }
    if (!s.model) {
        int standardize = c.data.standardize;
        const char *const *names = task ? NULL : known_class_names(c.data.source, n_classes);
        double *mean = NULL, *std = NULL;
        if (task) {
            const char *tn[CG_MAX_TARGETS];
            mean = cg_malloc((size_t)n_classes * sizeof *mean);
            std = cg_malloc((size_t)n_classes * sizeof *std);
            for (int k = 0; k < n_classes && k < CG_MAX_TARGETS; k++) tn[k] = cg_table_target_name(s.full.table, k);
            rc = !mean || !std ? cg_error(CG_ERR_MEMORY, "cg_train: out of memory")
               : n_classes > CG_MAX_TARGETS ? cg_error(CG_ERR_ARG, "data.label: %d target columns (at most %d)",
                                                       n_classes, CG_MAX_TARGETS)
                                            : target_scale(&c, train, mean, std);
            if (!rc && !(s.model = cg_model_from_config(&c.model, s.full.d, 2, c.loop.seed))) rc = cg_last_error_code();
            if (!rc && (cg_model_set_task(s.model, task, c.model.loss, n_classes, task == CG_TASK_REGRESSION ? mean : NULL,
                                          task == CG_TASK_REGRESSION ? std : NULL) ||
                        cg_model_set_class_names(s.model, tn, n_classes)))
                rc = cg_last_error_code();
            cg_free(mean);
            cg_free(std);
            if (rc) goto done;
        }
        if ((rc = cg_normalizer_fit(&s.nz, train, standardize)) ||
            (!s.model && !(s.model = s.full.rows > 0
                            ? cg_model_from_config_image(&c.model, s.full.channels > 0 ? s.full.channels : 1,
                                                         s.full.rows, s.full.cols, n_classes, c.loop.seed)
                            : cg_model_from_config(&c.model, s.full.d, n_classes, c.loop.seed))) ||
            (names && cg_model_set_class_names(s.model, names, n_classes)) ||
            (cg_table_n_classes(s.full.table) == n_classes &&
             cg_model_set_class_names(s.model, (const char *const *)s.full.table->classes, n_classes)) ||
            cg_model_build(s.model) ||
            !(s.opt = cg_optimizer_from_config(&c.optim, &c.schedule, c.loop.epochs))) {
            rc = cg_last_error_code() ? cg_last_error_code() : CG_ERR_MEMORY;
            goto done;
        }
    }

    if (opt->out && rank == 0) {
        char path[CG_PATH_LEN + 32];
        if ((rc = cg_make_dirs(opt->out))) {
            rc = cg_error(rc, "out: %s", cg_last_error());
            goto done;
        }
        /* One writer per run directory, for the whole run; temporary files
         * of writers killed before are removed. */
        if (cg_run_dir_lock(opt->out, &s.lock) || cg_run_dir_clean_stale(opt->out, NULL)) {
            rc = cg_error(cg_last_error_code(), "out: %s", cg_last_error());
            goto done;
        }
        snprintf(path, sizeof path, "%s/metrics.jsonl", opt->out);
        /* A resumed run continues the log of the run it resumes, from its
         * checkpoint's epoch: one line per epoch. */
        if (opt->resume && (rc = cg_run_log_truncate(path, s.info.epoch))) goto done;
        s.log.f = fopen(path, opt->resume ? "a" : "w");
        if (!s.log.f) {
            rc = cg_error(CG_ERR_IO, "out: cannot write '%s': %s", path, strerror(errno));
            goto done;
        }
        s.log.dir = opt->out;
    }
    s.log.model = s.model;
    s.log.opt = s.opt;
    s.log.nz = &s.nz;
    s.log.config = s.config_json;
    s.log.on_epoch = opt->on_epoch;
    s.log.user = opt->user;

    r.n_train = train->n;
    r.n_val = val ? val->n : 0;
    r.n_test = has_test ? s.test.n : 0;
    r.n_features = s.full.d;
    r.n_classes = n_classes;
    /* Precision: the model's graph, for training and the evaluations
     * alike; "auto" decides now that the model is known. */
    char chose[300] = "";
    int precision = c.loop.precision;
    if (precision == CG_PRECISION_AUTO)
        precision = cg_precision_auto(cg_model_graph(s.model), chose, sizeof chose);
    if ((rc = cg_graph_set_precision(cg_model_graph(s.model), precision))) {
        rc = cg_error(rc, "loop.precision: %s", cg_last_error());
        goto done;
    }
    if (rank == 0 && opt->on_note) {
        char sched[64];
        if (chose[0]) cg_train_note(opt, "%s", chose);
        else if (precision == CG_PRECISION_BF16)
            cg_train_note(opt, "precision bf16: matrix products in bf16 with fp32 accumulation; weights, "
                      "optimizer state and loss in fp32");
        cg_lr_schedule_format(c.schedule.kind, c.schedule.params, sched, sizeof sched);
        if (!task)
            cg_train_note(opt, "data: %s: %d training, %d validation, %d test examples, %d features, %d classes",
                 c.data.source, r.n_train, r.n_val, r.n_test, r.n_features, n_classes);
        else
            cg_train_note(opt, "data: %s: %d training, %d validation, %d test examples, %d features, %d %s",
                 c.data.source, r.n_train, r.n_val, r.n_test, r.n_features, n_classes,
                 task == CG_TASK_REGRESSION ? "targets (standardised with the training rows' mean and "
                                              "std for training; reported in their own units)"
                                            : "0/1 labels");
        if (!has_test) cg_train_note(opt, "note: no test set given; the test evaluation is skipped");
        note_csv(opt, &s);
        note_summary(opt, s.model);
        if (why[0]) cg_train_note(opt, "defaults from the data: %s", why);
        if (model_lr)
            cg_train_note(opt, "learning rate %g: ten times %s's default, for a model without hidden layers "
                      "(convex: larger steps are safe, and its weights have far to go)",
                 c.optim.lr, c.optim.name);
        if (opt->resume)
            cg_train_note(opt, "resumed from %s after epoch %d (step %ld)%s%s", opt->resume, s.info.epoch,
                 s.info.step, opt->out ? "; writing to " : "", opt->out ? opt->out : "");
        if (opt->resume && c.schedule.start_epoch == s.info.epoch)
            cg_train_note(opt, "new schedule phase from epoch %d: lr %g, %s", s.info.epoch + 1, c.optim.lr, sched);
        cg_train_note(opt, "optimizer: %s, lr %g (schedule %s from epoch %d), batch %d, epochs %d, seed %llu%s",
             c.optim.name, c.optim.lr, sched, c.schedule.start_epoch, c.loop.batch, c.loop.epochs,
             (unsigned long long)c.loop.seed, s.nz.mean ? ", standardized inputs" : "");
    }

    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = c.loop.epochs;
    fo.batch_size = c.loop.batch;
    fo.seed = c.loop.seed;
    fo.on_progress = opt->on_progress;
    fo.progress_user = opt->progress_user;
    fo.on_epoch = cg_run_log_epoch;
    fo.user = &s.log;
    fo.patience = c.loop.patience;
    fo.dist = opt->dist;
    fo.sync_bn = c.loop.sync_bn;
    fo.initial_epoch = s.info.epoch;
    if (opt->resume) {
        fo.best_val_acc = s.info.best_val_acc;
        fo.epochs_since_best = s.info.epochs_since_best;
    }
    rc = cg_fit(s.model, s.opt, train, val, &s.nz, &fo, &r.fit);
    if (!rc && s.log.failed) rc = cg_error(CG_ERR_IO, "out: %s", s.log.error);
    if (rc) goto done;
    /* The best epoch came before this resumed run: its weights are on disk. */
    if (r.fit.stopped_early && r.fit.best_epoch == 0 && opt->out) {
        char path[CG_PATH_LEN + 32];
        snprintf(path, sizeof path, "%s/best.safetensors", opt->out);
        if ((rc = cg_model_load_weights(s.model, path))) goto done;
    }
    int eval_batch = c.loop.batch > CG_EVAL_BATCH ? c.loop.batch : CG_EVAL_BATCH;
    if (has_test && task) {
        if (!(rc = cg_evaluate_task(s.model, &s.test, &s.nz, &r.test))) {
            r.test_loss = r.test.loss;
            r.test_acc = r.test.acc;
        }
    } else if (has_test) {
        rc = cg_evaluate_dist(s.model, &s.test, &s.nz, eval_batch, opt->dist, &r.test_loss, &r.test_acc);
    }
done:
    run_free(&s);
    if (res) *res = r;
    return rc;
}
