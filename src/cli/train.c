/* train.c: `cgrad train`: flags -> a run configuration (or a checkpoint's,
 * with --resume) -> load the data, build the model, fit, evaluate, report.
 * Human text goes to stdout, or to stderr with --json, so that stdout then
 * holds only JSON; --quiet prints nothing but that JSON. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cgrad.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/train.h"

void cli_train_help(FILE *f) { cli_print_help(f, &cli_train_flags); }

static int flag_given(const unsigned char *given, const char *name)
{
    const cli_flag *f = cli_find_flag(&cli_train_flags, name);
    return f && given[f - cli_train_flags.flags];
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

/* A run being resumed: the checkpoint's model, optimizer, normalisation
 * and configuration, with the flags that may change applied. */
typedef struct resumed {
    cg_model *model;
    cg_optimizer *opt;
    cg_normalizer nz;
    cg_checkpoint_info info;
    int new_phase;
} resumed;

/* The schedule reaches 0 and stays there: cosine without a floor. */
static int schedule_ends(const cg_schedule_config *s, int *end)
{
    *end = s->start_epoch + (int)ceil(s->params[0]);
    return s->kind == CG_LR_COSINE && !(s->params[1] > 0);
}

static int resume_run(train_opts *a, const unsigned char *given, resumed *r)
{
    const cli_command_flags *t = &cli_train_flags;
    for (int i = 0; i < t->n_flags; i++)
        if (given[i] && t->flags[i].resume == CLI_RESUME_NO)
            return cli_usage("train", "%s: the checkpoint fixes the model, optimizer and data of "
                             "the run it resumes; only --epochs, --patience, --lr, --lr-decay, "
                             "--data/--test (where the data is now), --out, --threads, --json and "
                             "--quiet may be given with --resume", t->flags[i].name);
    r->model = cg_checkpoint_load(a->resume, &r->opt, &r->nz, &r->info);
    if (!r->model) return cli_usage("train", "--resume: %s", cg_last_error());
    if (!r->info.config)
        return cli_usage("train", "--resume: %s holds no run configuration (metadata \"config\")",
                         a->resume);
    cg_run_config c;
    if (cg_run_config_from_json(r->info.config, &c))
        return cli_usage("train", "--resume: %s: %s", a->resume, cg_last_error());
    /* Only what may change mid-run comes from the flags given now. */
    const cg_run_config *now = &a->cfg;
    if (flag_given(given, "--epochs")) c.loop.epochs = now->loop.epochs;
    if (flag_given(given, "--patience")) c.loop.patience = now->loop.patience;
    if (flag_given(given, "--data")) memcpy(c.data.source, now->data.source, sizeof c.data.source);
    if (flag_given(given, "--test")) memcpy(c.data.test, now->data.test, sizeof c.data.test);
    const int done = r->info.epoch;
    if (done >= c.loop.epochs)
        return cli_usage("train", "--resume: %s has trained %d epochs already; ask for more with "
                         "--epochs N (the total, N > %d)", a->resume, done, done);
    r->new_phase = flag_given(given, "--lr") || flag_given(given, "--lr-decay") ||
                   flag_given(given, "--schedule");
    if (r->new_phase) {
        /* A new phase: the rate given (or the one the run had), and the
         * schedule given (or the default, cosine to 0 over the rest). */
        if (flag_given(given, "--lr")) c.optim.lr = now->optim.lr;
        cg_schedule_config s = c.schedule;
        if (flag_given(given, "--lr-decay") || flag_given(given, "--schedule")) {
            s.kind = now->schedule.kind;
            memcpy(s.params, now->schedule.params, sizeof s.params);
        } else {
            s.kind = CG_LR_DEFAULT;
        }
        s.start_epoch = done;
        c.schedule = s;
    } else {
        int end;
        if (schedule_ends(&c.schedule, &end) && end < c.loop.epochs) {
            char spec[64];
            snprintf(spec, sizeof spec, "cosine:%g", c.schedule.params[0]);
            return cli_usage("train", "--epochs %d: the run's learning-rate schedule (%s from epoch "
                             "%d) reaches 0 at epoch %d, so epochs %d-%d would not train; to train "
                             "on, start a new schedule phase with --lr RATE and/or --lr-decay SPEC "
                             "(e.g. --lr-decay cosine:%d)", c.loop.epochs, spec,
                             c.schedule.start_epoch, end, end + 1, c.loop.epochs,
                             c.loop.epochs - done);
        }
    }
    if (cg_run_config_resolve(&c)) return cli_config_error(t, cg_last_error());
    if (r->new_phase &&
        (cg_optimizer_set_lr(r->opt, c.optim.lr) ||
         cg_optimizer_set_schedule(r->opt, c.schedule.kind, c.schedule.params) ||
         cg_optimizer_set_schedule_start(r->opt, c.schedule.start_epoch)))
        return cli_usage("train", "--resume: %s", cg_last_error());
    a->cfg = c;
    return 0;
}

/* The directory of a path ("." when it has none). */
static void dir_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, size, ".");
    else if (slash == path) snprintf(out, size, "/");
    else snprintf(out, size, "%.*s", (int)(slash - path), path);
}

static void print_result_json(const cg_fit_result *res, double test_loss, double test_acc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    train_json_number(o, "test_accuracy", test_acc);
    train_json_number(o, "test_loss", test_loss);
    train_json_number(o, "val_accuracy", res->val_acc);
    train_json_number(o, "val_loss", res->val_loss);
    train_json_number(o, "best_val_accuracy", res->best_val_acc);
    train_json_number(o, "train_accuracy", res->train_acc);
    train_json_number(o, "train_loss", res->train_loss);
    cJSON_AddNumberToObject(o, "epochs", res->epochs);
    cJSON_AddBoolToObject(o, "stopped_early", res->stopped_early);
    cJSON_AddNumberToObject(o, "train_seconds", res->seconds);
    cJSON_AddNumberToObject(o, "examples_per_second", res->examples_per_second);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) printf("%s\n", s);
    free(s);
}

int cli_train(int argc, char **argv)
{
    train_opts a;
    memset(&a, 0, sizeof a);
    cg_run_config_init(&a.cfg);
    unsigned char given[64];
    int rc = cli_parse_flags(&cli_train_flags, argc, argv, &a, given, NULL);
    if (rc == 1) {
        cli_train_help(stdout);
        return CLI_OK;
    }
    if (rc) return rc;

    cg_dataset full = {0}, test = {0}, va = {0};
    resumed r = {0};
    cg_normalizer *nz = &r.nz;
    cg_model *model = NULL;
    cg_optimizer *opt = NULL;
    epoch_log log = {0};
    int status = CLI_FAIL, have_test = 0;
    char *config_json = NULL;
    const char *data_note = NULL;

    if (a.resume[0]) {
        if ((status = resume_run(&a, given, &r))) goto done;
        status = CLI_FAIL;
        model = r.model;
        opt = r.opt;
        if (!a.out[0]) dir_of(a.resume, a.out, sizeof a.out);
    } else if (cg_run_config_resolve(&a.cfg)) {
        status = cli_config_error(&cli_train_flags, cg_last_error());
        goto done;
    }
    const cg_run_config *c = &a.cfg;
    if (!(config_json = cg_run_config_to_json(c))) goto fail;
    const int rank = cg_dist_rank(cli_dist), nranks = cg_dist_size(cli_dist);
    cg_set_threads(a.threads ? a.threads : ranks_threads(nranks));
    /* Human text: stdout, or stderr when stdout is for JSON; none with
     * --quiet or on ranks other than 0. */
    FILE *human = a.quiet || rank != 0 ? NULL : a.json ? stderr : stdout;

    const char *source = c->data.source, *label = c->data.label[0] ? c->data.label : NULL;
    if (cg_load_dataset(source, label, 1, &full)) {
        status = cli_usage("train", "--data: %s", cg_last_error());
        goto done;
    }
    int is_idx = full.rows > 0, is_bytes = full.x_u8 != NULL;
    if (c->data.test[0]) {
        if (cg_load_dataset(c->data.test, label, 1, &test)) {
            status = cli_usage("train", "--test: %s", cg_last_error());
            goto done;
        }
        have_test = 1;
    } else if (is_idx) {
        if (cg_load_dataset(source, label, 0, &test)) {
            status = cli_usage("train", "--data: test split: %s", cg_last_error());
            goto done;
        }
        have_test = 1;
    } else {
        data_note = "no --test file given; the test evaluation is skipped";
    }
    if (have_test && test.d != full.d) {
        status = cli_usage("train", "--test has %d features, --data has %d", test.d, full.d);
        goto done;
    }
    int n_classes = full.n_classes;
    if (have_test && test.n_classes > n_classes) n_classes = test.n_classes;
    if (n_classes < 2) n_classes = 2;
    if (model) { /* resumed: the model decides; fit reports labels it cannot take */
        n_classes = cg_model_n_classes(model);
        if (full.d != cg_model_n_inputs(model)) {
            status = cli_usage("train", "--data has %d features, the checkpoint's model takes %d",
                               full.d, cg_model_n_inputs(model));
            goto done;
        }
    }

    const cg_dataset *train_set = &full, *val_set = NULL;
    if (c->loop.val_split > 0) {
        /* In place: a copy of the training part would double the memory
         * the pixels take. */
        if (cg_dataset_split_inplace(&full, c->loop.val_split, c->loop.seed, &va)) {
            status = cli_usage("train", "--val-split: %s", cg_last_error());
            goto done;
        }
        val_set = va.n > 0 ? &va : NULL;
    }
    cg_dataset subset;
    if (c->loop.subset > 0 && c->loop.subset < train_set->n) {
        subset = *train_set; /* a view of the first rows; freed with its owner */
        subset.n = c->loop.subset;
        train_set = &subset;
    }
    if (c->loop.patience > 0 && !val_set) {
        status = cli_usage("train", "--patience: the validation split of %d rows is empty", full.n);
        goto done;
    }
    if (!model) {
        int standardize = c->data.standardize >= 0 ? c->data.standardize : !is_bytes;
        if (cg_normalizer_fit(nz, train_set, standardize)) goto fail;
        model = cg_model_from_config(&c->model, full.d, n_classes, c->loop.seed);
        const char *const *names = known_class_names(source, n_classes);
        if (!model || (names && cg_model_set_class_names(model, names, n_classes)) ||
            cg_model_build(model))
            goto fail;
        if (!(opt = cg_optimizer_from_config(&c->optim, &c->schedule, c->loop.epochs))) goto fail;
    }

    if (a.out[0] && rank == 0) {
        char path[CG_PATH_LEN + 32];
        if (cli_make_dirs(a.out) != 0) {
            fprintf(stderr, "cgrad train: --out: cannot create directory '%s': %s\n", a.out,
                    strerror(errno));
            goto done;
        }
        snprintf(path, sizeof path, "%s/metrics.jsonl", a.out);
        /* A resumed run continues the log of the run it resumes. */
        log.f = fopen(path, a.resume[0] ? "a" : "w");
        if (!log.f) {
            fprintf(stderr, "cgrad train: --out: cannot write '%s': %s\n", path, strerror(errno));
            goto done;
        }
        log.dir = a.out;
    }
    log.model = model;
    log.opt = opt;
    log.nz = nz;
    log.config = config_json;

    if (human) {
        if (data_note) fprintf(human, "note: %s\n", data_note);
        fprintf(human, "data: %s: %d training, %d validation, %d test examples, %d features, "
                       "%d classes\n", source, train_set->n, val_set ? val_set->n : 0,
                have_test ? test.n : 0, full.d, n_classes);
        cg_model_summary(model, human);
        char sched[64];
        cg_lr_schedule_format(c->schedule.kind, c->schedule.params, sched, sizeof sched);
        if (a.resume[0])
            fprintf(human, "resumed from %s after epoch %d (step %ld); writing to %s\n", a.resume,
                    r.info.epoch, r.info.step, a.out);
        if (r.new_phase)
            fprintf(human, "new schedule phase from epoch %d: lr %g, %s\n", r.info.epoch + 1,
                    c->optim.lr, sched);
        fprintf(human, "optimizer: %s, lr %g (schedule %s from epoch %d), batch %d, epochs %d, "
                       "seed %llu%s\n", c->optim.name, c->optim.lr, sched, c->schedule.start_epoch,
                c->loop.batch, c->loop.epochs, (unsigned long long)c->loop.seed,
                nz->mean ? ", standardized inputs" : "");
        fflush(human);
    }

    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = c->loop.epochs;
    fo.batch_size = c->loop.batch;
    fo.seed = c->loop.seed;
    fo.verbose = human != NULL;
    fo.progress = human;
    fo.on_epoch = train_on_epoch;
    fo.user = &log;
    fo.patience = c->loop.patience;
    fo.dist = cli_dist;
    fo.sync_bn = c->loop.sync_bn;
    fo.initial_epoch = r.info.epoch;
    if (a.resume[0]) {
        fo.best_val_acc = r.info.best_val_acc;
        fo.epochs_since_best = r.info.epochs_since_best;
    }
    cg_fit_result res;
    if (cg_fit(model, opt, train_set, val_set, nz, &fo, &res)) goto fail;
    if (log.failed) {
        fprintf(stderr, "cgrad train: --out: %s\n", log.error);
        goto done;
    }
    /* The best epoch came before this resumed run: its weights are on disk. */
    if (res.stopped_early && res.best_epoch == 0 && a.out[0]) {
        char path[CG_PATH_LEN + 32];
        snprintf(path, sizeof path, "%s/best.safetensors", a.out);
        if (cg_model_load_weights(model, path)) goto fail;
    }

    double test_loss = NAN, test_acc = NAN;
    int eval_batch = c->loop.batch > CG_EVAL_BATCH ? c->loop.batch : CG_EVAL_BATCH;
    if (have_test && cg_evaluate_dist(model, &test, nz, eval_batch, cli_dist, &test_loss, &test_acc))
        goto fail;
    if (rank != 0) {
        status = CLI_OK;
        goto done;
    }
    if (human) {
        if (have_test) fprintf(human, "test loss: %.4f - test accuracy: %.4f\n", test_loss, test_acc);
        fprintf(human, "trained %d epochs%s in %.1fs (%.0f examples/s)\n", res.epochs,
                res.stopped_early ? " (stopped early: no better validation accuracy)" : "",
                res.seconds, res.examples_per_second);
    }
    if (a.json) print_result_json(&res, test_loss, test_acc);
    status = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    goto done;
fail:
    fprintf(stderr, "cgrad train: %s\n", *cg_last_error() ? cg_last_error() : "out of memory");
done:
    if (log.f) fclose(log.f);
    cg_free_string(config_json);
    cg_checkpoint_info_free(&r.info);
    cg_optimizer_free(opt);
    cg_model_free(model);
    cg_normalizer_free(nz);
    cg_dataset_free(&va);
    cg_dataset_free(&test);
    cg_dataset_free(&full);
    return status;
}
