/* SPDX-License-Identifier: MIT */
/* run_config.c: the run configuration as a whole: the loop's part (owned
 * here, with the training loop) and the assembly of every module's part
 * into one JSON object and one check. */
#include "internal.h"
#include "json.h"
#include "data/config.h"
#include "nn/model_config.h"
#include "optim/config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void loop_init(cg_loop_config *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->epochs = CG_FROM_DATA;
    lc->batch = CG_FROM_DATA;
    lc->patience = CG_FROM_DATA;
    lc->val_split = 0.1;
    lc->seed = 42;
}

void cg_run_config_init(cg_run_config *c)
{
    if (!c) return;
    memset(c, 0, sizeof *c);
    cg_model_config_init(&c->model);
    c->model.dropout = CG_FROM_DATA;
    cg_optim_config_init(&c->optim);
    cg_schedule_config_init(&c->schedule);
    loop_init(&c->loop);
    cg_data_config_init(&c->data);
}

static int loop_resolve(const cg_run_config *c)
{
    const cg_loop_config *lc = &c->loop;
    if (lc->epochs != CG_FROM_DATA && (lc->epochs < 1 || lc->epochs > 1000000))
        return cg_error(CG_ERR_ARG, "loop.epochs: %d must be in [1, 1000000]", lc->epochs);
    if (lc->batch != CG_FROM_DATA && (lc->batch < 1 || lc->batch > (1 << 24)))
        return cg_error(CG_ERR_ARG, "loop.batch: %d must be in [1, %d]", lc->batch, 1 << 24);
    if (!(lc->val_split >= 0 && lc->val_split < 1))
        return cg_error(CG_ERR_ARG, "loop.val_split: %g must be in [0, 1)", lc->val_split);
    if (lc->patience < 0 && lc->patience != CG_FROM_DATA)
        return cg_error(CG_ERR_ARG, "loop.patience: %d is negative", lc->patience);
    if (lc->patience > 0 && lc->val_split == 0)
        return cg_error(CG_ERR_ARG, "loop.patience: early stopping needs a validation split "
                                    "(loop.val_split > 0)");
    if (lc->subset < 0) return cg_error(CG_ERR_ARG, "loop.subset: %d is negative", lc->subset);
    if (lc->precision < CG_PRECISION_FP32 || lc->precision > CG_PRECISION_AUTO)
        return cg_error(CG_ERR_ARG, "loop.precision: %d is not one of fp32, bf16, auto",
                        lc->precision);
    char why[200];
    if (lc->precision == CG_PRECISION_BF16 && !cg_bf16_supported(why, sizeof why))
        return cg_error(CG_ERR_ARG, "loop.precision: bf16: %s", why);
    int arch_bn = 0;
    for (int i = 0; i < c->model.n_layers && i < CG_MAX_LAYERS; i++)
        arch_bn |= c->model.layers[i].kind == CG_LAYER_BN;
    if (lc->sync_bn && !c->model.batch_norm && !arch_bn)
        return cg_error(CG_ERR_ARG, "loop.sync_bn: synchronises batch norm's statistics, and the model "
                                    "has no batch norm");
    return CG_OK;
}

int cg_run_config_resolve(cg_run_config *c)
{
    if (!c) return cg_error(CG_ERR_ARG, "cg_run_config_resolve: NULL configuration");
    /* A model without hidden layers is convex, and on standardised inputs
     * its weights grow to several units; Adam (and RMSprop, SGD) move a
     * weight about lr per update, so its deep-network default would cover
     * that distance only in far more updates than the default budget:
     * unless given, such a model takes ten times the optimizer's rate. */
    if (isnan(c->optim.lr) && c->model.n_hidden == 0 && c->model.n_layers == 0)
        c->optim.lr = 10 * cg_optimizer_default(c->optim.name[0] ? c->optim.name : "adam", "lr");
    /* A dropout left to the data waits for the run's epochs
     * (cg_run_config_dropout_from_data); the rest is checked as for none. */
    const int auto_dropout = c->model.dropout == CG_FROM_DATA;
    if (auto_dropout) c->model.dropout = 0;
    int bad = cg_model_config_resolve(&c->model);
    if (auto_dropout) c->model.dropout = CG_FROM_DATA;
    if (bad || cg_optim_config_resolve(&c->optim) || loop_resolve(c) || cg_data_config_resolve(&c->data))
        return CG_ERR_ARG;
    /* The schedule's horizon is the run's length: known once the data is
     * (cg_run_config_from_data). */
    if (c->loop.epochs == CG_FROM_DATA) {
        /* Checked now all the same; only the default's horizon waits. */
        cg_schedule_config check = c->schedule;
        cg_schedule_config *sc = c->schedule.kind == CG_LR_DEFAULT ? &check : &c->schedule;
        return cg_schedule_config_resolve(sc, check.start_epoch + 1) ? CG_ERR_ARG : CG_OK;
    }
    if (c->schedule.start_epoch >= c->loop.epochs)
        return cg_error(CG_ERR_ARG, "schedule.start_epoch: %d is not before the last epoch (%d)",
                        c->schedule.start_epoch, c->loop.epochs);
    return cg_schedule_config_resolve(&c->schedule, c->loop.epochs) ? CG_ERR_ARG : CG_OK;
}

/* printf at the end of buf's string (cut at size). */
static void append(char *buf, size_t size, const char *fmt, ...) CG_PRINTF(3, 4);
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t k = strlen(buf);
    if (k + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, size - k, fmt, ap);
    va_end(ap);
}

/* Defaults from the data's shape and the model's cost. Adam's second
 * moment averages over 1 / (1 - beta2) = 1,000 updates, so a run needs a
 * few of those spans to settle whatever the data: CG_DEFAULT_UPDATES at
 * least. Beyond that, what a default run may spend is compute, not a
 * count of updates: CG_DEFAULT_MULTIPLY_ADDS, the cost of ten epochs of
 * the default MLP on Fashion-MNIST, so that a cheaper model or a smaller
 * table trains for more epochs in the same time (early stopping ends it
 * sooner when it has converged). The cost comes from the model's layers,
 * not its parameters: a CNN has few parameters and many multiply-adds.
 * A batch of about 1% of the rows keeps an epoch at ~100 updates, between
 * 32 rows (below that a step is too short to vectorise and too noisy) and
 * 128 (beyond that, on a CPU, fewer updates buy nothing); the epochs are
 * at least 10 passes over every row and at most CG_DEFAULT_MAX_EPOCHS.
 * Early stopping (on the validation split, the best weights restored)
 * waits a tenth of the epochs, at least 5: the default schedule spans the
 * epochs, so a tenth of them is the same share of its decay however long
 * the run. Over fewer than CG_DEFAULT_MIN_VAL validation rows, accuracy
 * moves in steps over 1%, too coarse and noisy to stop on, so there is
 * none. */
int cg_loop_config_from_cost(cg_loop_config *lc, long n_train, long n_val, double multiply_adds,
                             char *why, size_t why_size)
{
    if (!lc) return cg_error(CG_ERR_ARG, "cg_loop_config_from_cost: NULL configuration");
    if (!(multiply_adds >= 0) || isinf(multiply_adds))
        return cg_error(CG_ERR_ARG, "cg_loop_config_from_cost: multiply-adds %g is not a "
                                    "non-negative number", multiply_adds);
    if (n_train < 1) n_train = 1;
    const int auto_batch = lc->batch == CG_FROM_DATA, auto_epochs = lc->epochs == CG_FROM_DATA,
              auto_patience = lc->patience == CG_FROM_DATA;
    if (auto_batch) {
        long b = 32;
        while (b < 128 && 2 * b <= n_train / 100) b *= 2;
        lc->batch = (int)(b < n_train ? b : n_train);
    }
    int by_cost = 0;
    if (auto_epochs) {
        long steps = (n_train + lc->batch - 1) / lc->batch;
        double e = (double)((CG_DEFAULT_UPDATES + steps - 1) / steps);
        /* The budget is a ceiling: whole epochs within it. */
        double affordable = multiply_adds > 0
                                ? floor(CG_DEFAULT_MULTIPLY_ADDS / (multiply_adds * (double)n_train))
                                : 0;
        if (affordable > e) e = affordable, by_cost = 1;
        if (e < 10) e = 10, by_cost = 0;
        if (e > CG_DEFAULT_MAX_EPOCHS) e = CG_DEFAULT_MAX_EPOCHS;
        lc->epochs = (int)e;
    }
    if (auto_patience) {
        int p = lc->epochs / 10;
        lc->patience = n_val >= CG_DEFAULT_MIN_VAL ? (p < 5 ? 5 : p) : 0;
    }
    if (why && why_size) {
        why[0] = 0;
        if (!auto_batch && !auto_epochs && !auto_patience) return CG_OK;
        append(why, why_size, "%ld training rows:", n_train);
        const char *sep = " ";
        if (auto_batch) {
            append(why, why_size, "%sbatch %d (about 1%% of the rows, 32 to 128)", sep, lc->batch);
            sep = ", ";
        }
        if (auto_epochs && by_cost)
            append(why, why_size, "%sup to %d epochs (a budget of %.2g multiply-adds at %.0f an "
                   "example; at least %d updates, 10 to %d epochs)", sep, lc->epochs,
                   CG_DEFAULT_MULTIPLY_ADDS, multiply_adds, CG_DEFAULT_UPDATES, CG_DEFAULT_MAX_EPOCHS);
        else if (auto_epochs)
            append(why, why_size, "%sup to %d epochs (about %d updates, 10 to %d epochs)", sep,
                   lc->epochs, CG_DEFAULT_UPDATES, CG_DEFAULT_MAX_EPOCHS);
        if (auto_epochs) sep = ", ";
        if (auto_patience && lc->patience)
            append(why, why_size, "%sstop after %d epochs without matching the best validation "
                   "accuracy (the best weights restored)", sep, lc->patience);
        else if (auto_patience)
            append(why, why_size, "%sno early stopping (%ld validation rows, fewer than %d)", sep,
                   n_val, CG_DEFAULT_MIN_VAL);
    }
    return CG_OK;
}

int cg_loop_config_from_data(cg_loop_config *lc, long n_train, long n_val, char *why,
                             size_t why_size)
{
    return cg_loop_config_from_cost(lc, n_train, n_val, 0, why, why_size);
}

/* Dropout from the run's length. A default run of many passes over a
 * table lets the 256-256 MLP memorise it: on the 20,000-row 4-class table
 * of bench/defaults its training accuracy reaches 1.000 while validation
 * stalls at 0.86, where dropout 0.2 gives 0.92. Dropout also slows
 * fitting (each update trains a thinned net), so it is only for runs of
 * at least twice the rule's 10-epoch minimum: those that see each row
 * often enough to memorise it. Fashion-MNIST's 10 epochs keep none. 0.2
 * rather than the 0.5 of Srivastava et al. for hidden units: within the
 * compute budget, 0.5 left a 100,000-row table (28 epochs) under-trained.
 * A regression keeps none: its default is chosen against the linear
 * model on the validation rows (choose.c). */
int cg_run_config_dropout_from_data(cg_run_config *c, char *why, size_t why_size)
{
    if (!c) return cg_error(CG_ERR_ARG, "cg_run_config_dropout_from_data: NULL configuration");
    if (c->model.dropout != CG_FROM_DATA) return CG_OK;
    const int mlp = c->model.n_layers == 0 && c->model.n_hidden > 0;
    if (!mlp || c->model.task != CG_TASK_CLASSIFICATION || c->loop.epochs == CG_FROM_DATA) {
        c->model.dropout = 0;
        return CG_OK;
    }
    const int on = c->loop.epochs >= CG_DEFAULT_DROPOUT_EPOCHS;
    c->model.dropout = on ? CG_DEFAULT_DROPOUT : 0;
    if (why && why_size) {
        const char *sep = why[0] ? "; " : "";
        if (on)
            append(why, why_size, "%sdropout %g after each hidden layer (%d epochs, %d or more: "
                   "enough passes over the rows to memorise them)", sep, c->model.dropout, c->loop.epochs,
                   CG_DEFAULT_DROPOUT_EPOCHS);
        else
            append(why, why_size, "%sno dropout (%d epochs, fewer than %d: too few passes over the "
                   "rows to memorise them)", sep, c->loop.epochs, CG_DEFAULT_DROPOUT_EPOCHS);
    }
    return CG_OK;
}

static cJSON *loop_json(const cg_loop_config *lc)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "epochs", lc->epochs);
    cJSON_AddNumberToObject(o, "batch", lc->batch);
    cJSON_AddNumberToObject(o, "val_split", lc->val_split);
    cJSON_AddNumberToObject(o, "patience", lc->patience);
    cg_json_add_u64(o, "seed", lc->seed);
    cJSON_AddNumberToObject(o, "subset", lc->subset);
    cJSON_AddBoolToObject(o, "sync_bn", lc->sync_bn);
    cJSON_AddStringToObject(o, "precision", cg_precision_name(lc->precision));
    return o;
}

static int loop_read(const cJSON *o, const char *where, cg_loop_config *lc)
{
    static const char *const keys[] = {"epochs", "batch", "val_split", "patience", "seed", "subset",
                                       "sync_bn", "precision", NULL};
    char precision[8] = "";
    if (cg_json_object(o, where) || cg_json_known_keys(o, where, keys) ||
        cg_json_int(o, where, "epochs", CG_FROM_DATA, 1000000, &lc->epochs) ||
        cg_json_int(o, where, "batch", CG_FROM_DATA, 1 << 24, &lc->batch) ||
        cg_json_number(o, where, "val_split", &lc->val_split) ||
        cg_json_int(o, where, "patience", CG_FROM_DATA, 1000000, &lc->patience) ||
        cg_json_u64(o, where, "seed", &lc->seed) ||
        cg_json_int(o, where, "subset", 0, 2147483647, &lc->subset) ||
        cg_json_bool(o, where, "sync_bn", &lc->sync_bn) ||
        cg_json_string(o, where, "precision", precision, sizeof precision))
        return CG_ERR_FORMAT;
    /* A checkpoint from before precision existed ran fp32. */
    if (precision[0] && (lc->precision = cg_precision_from_name(precision)) < 0)
        return cg_error(CG_ERR_FORMAT,
                        "configuration: \"%s.precision\": '%s' is not one of fp32, bf16, auto",
                        where, precision);
    return CG_OK;
}

char *cg_run_config_to_json(const cg_run_config *c)
{
    if (!c) return cg_error_null(CG_ERR_ARG, "cg_run_config_to_json: NULL configuration");
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddItemToObject(o, "model", cg_model_config_json(&c->model));
        cJSON_AddItemToObject(o, "optim", cg_optim_config_json(&c->optim));
        cJSON_AddItemToObject(o, "schedule", cg_schedule_config_json(&c->schedule));
        cJSON_AddItemToObject(o, "loop", loop_json(&c->loop));
        cJSON_AddItemToObject(o, "data", cg_data_config_json(&c->data));
    }
    char *s = cg_json_text(o);
    return s ? s : cg_error_null(CG_ERR_MEMORY, "cg_run_config_to_json: out of memory");
}

int cg_run_config_from_json(const char *json, cg_run_config *c)
{
    if (!json || !c) return cg_error(CG_ERR_ARG, "cg_run_config_from_json: NULL argument");
    cJSON *o = cJSON_Parse(json);
    if (!o) return cg_error(CG_ERR_FORMAT, "configuration: not valid JSON");
    cg_run_config tmp;
    cg_run_config_init(&tmp);
    static const char *const keys[] = {"model", "optim", "schedule", "loop", "data", NULL};
    const cJSON *part;
    int rc = cg_json_object(o, "configuration") || cg_json_known_keys(o, "configuration", keys);
    if (!rc && (part = cJSON_GetObjectItemCaseSensitive(o, "model")))
        rc = cg_model_config_read(part, "model", &tmp.model);
    if (!rc && (part = cJSON_GetObjectItemCaseSensitive(o, "optim")))
        rc = cg_optim_config_read(part, "optim", &tmp.optim);
    if (!rc && (part = cJSON_GetObjectItemCaseSensitive(o, "schedule")))
        rc = cg_schedule_config_read(part, "schedule", &tmp.schedule);
    if (!rc && (part = cJSON_GetObjectItemCaseSensitive(o, "loop")))
        rc = loop_read(part, "loop", &tmp.loop);
    if (!rc && (part = cJSON_GetObjectItemCaseSensitive(o, "data")))
        rc = cg_data_config_read(part, "data", &tmp.data);
    cJSON_Delete(o);
    if (rc) return CG_ERR_FORMAT;
    *c = tmp;
    return CG_OK;
}
