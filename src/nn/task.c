// SPDX-License-Identifier: MIT
/* task.c: what a model's outputs mean (classification, regression,
 * multi-label) and the head each task builds on the output layer: its
 * loss and the "probs" node that predictions read. */
#include "internal.h"
#include "nn/model.h"

#include <math.h>
#include <string.h>

static const char *const task_names[] = {"classification", "regression", "multilabel"};
static const char *const loss_names[] = {"default", "cross_entropy", "mse", "mae", "huber", "bce"};

const char *cg_task_name(int task)
{
    return task >= 0 && task <= CG_TASK_MULTILABEL ? task_names[task] : "?";
}

int cg_task_from_name(const char *name)
{
    for (int i = 0; name && i <= CG_TASK_MULTILABEL; i++)
        if (!strcmp(name, task_names[i])) return i;
    return -1;
}

const char *cg_loss_name(int loss) { return loss >= 0 && loss <= CG_LOSS_BCE ? loss_names[loss] : "?"; }

int cg_loss_from_name(const char *name)
{
    for (int i = 0; name && i <= CG_LOSS_BCE; i++)
        if (!strcmp(name, loss_names[i])) return i;
    return -1;
}

int cg_task_default_loss(int task)
{
    return task == CG_TASK_REGRESSION ? CG_LOSS_MSE
         : task == CG_TASK_MULTILABEL ? CG_LOSS_BCE : CG_LOSS_CROSS_ENTROPY;
}

int cg_task_loss_fits(int task, int loss)
{
    if (loss == CG_LOSS_DEFAULT || loss == cg_task_default_loss(task)) return 1;
    return task == CG_TASK_REGRESSION && (loss == CG_LOSS_MAE || loss == CG_LOSS_HUBER);
}

int cg_model_set_task(cg_model *m, int task, int loss, int n_outputs, const double *mean,
                      const double *std)
{
    static const char fn[] = "cg_model_set_task";
    if (!m) return cg_error(CG_ERR_ARG, "%s: model is NULL", fn);
    if (m->g) return cg_error(CG_ERR_STATE, "%s: the model is already built", fn);
    if (task < 0 || task > CG_TASK_MULTILABEL) return cg_error(CG_ERR_ARG, "%s: unknown task %d", fn, task);
    if (loss < 0 || loss > CG_LOSS_BCE || !cg_task_loss_fits(task, loss))
        return cg_error(CG_ERR_ARG, "%s: loss '%s' does not fit task '%s'", fn, cg_loss_name(loss),
                        cg_task_name(task));
    if (n_outputs < (task == CG_TASK_CLASSIFICATION ? 2 : 1) || n_outputs > (1 << 24))
        return cg_error(CG_ERR_ARG, "%s: %d outputs", fn, n_outputs);
    for (int k = 0; std && k < n_outputs; k++)
        if (!(std[k] > 0 && isfinite(std[k]) && isfinite(mean ? mean[k] : 0)))
            return cg_error(CG_ERR_ARG, "%s: target %d has std %g: it must be positive and finite", fn, k, std[k]);
    double *mu = NULL, *sd = NULL;
    if (task == CG_TASK_REGRESSION) {
        mu = cg_malloc((size_t)n_outputs * sizeof *mu);
        sd = cg_malloc((size_t)n_outputs * sizeof *sd);
        if (!mu || !sd) {
            cg_free(mu);
            cg_free(sd);
            return cg_error(CG_ERR_MEMORY, "%s: out of memory", fn);
        }
        for (int k = 0; k < n_outputs; k++) mu[k] = mean ? mean[k] : 0, sd[k] = std ? std[k] : 1;
    }
    if (n_outputs != m->n_classes) cg_model_set_class_names(m, NULL, 0);
    cg_free(m->t_mean);
    cg_free(m->t_std);
    m->t_mean = mu, m->t_std = sd;
    m->task = task;
    m->loss_kind = loss == CG_LOSS_DEFAULT ? cg_task_default_loss(task) : loss;
    m->n_classes = n_outputs;
    return CG_OK;
}

int cg_model_task(const cg_model *m, int *loss)
{
    if (loss) *loss = m ? (m->loss_kind ? m->loss_kind : cg_task_default_loss(m->task)) : 0;
    return m ? m->task : CG_TASK_CLASSIFICATION;
}

void cg_model_target_scale(const cg_model *m, int k, double *mean, double *std)
{
    int ok = m && m->t_mean && k >= 0 && k < m->n_classes;
    if (mean) *mean = ok ? m->t_mean[k] : 0;
    if (std) *std = ok ? m->t_std[k] : 1;
}

/* A constant [n] of v[0..n) (as cg_real). */
static cg_node *vector(cg_graph *g, const double *v, int n, int invert)
{
    cg_real *buf = cg_malloc((size_t)n * sizeof *buf);
    if (!buf) return cg_error_null(CG_ERR_MEMORY, "cg_model_build: out of memory");
    for (int k = 0; k < n; k++) buf[k] = (cg_real)(invert ? 1.0 / v[k] : v[k]);
    cg_node *c = cg_constant(g, 1, (int[]){n}, buf);
    cg_free(buf);
    return c;
}

int cg_model_build_head(cg_model *m)
{
    cg_graph *g = m->g;
    cg_node *z = m->logits, *y = m->y;
    const int n = m->n_classes;
    if (m->task == CG_TASK_CLASSIFICATION) {
        m->loss = cg_softmax_cross_entropy(z, y);
        m->probs = cg_softmax(z);
        m->pred = cg_argmax(z);
    } else if (m->task == CG_TASK_MULTILABEL) {
        m->loss = cg_bce_with_logits_loss(z, y);
        m->probs = m->pred = cg_sigmoid(z);
    } else {
        /* The loss compares the outputs, standardised back from probs, with
         * the standardised targets: probs (original units) is then computed
         * by the loss's forward pass, for the metrics to read. */
        cg_node *mean = vector(g, m->t_mean, n, 0), *inv = vector(g, m->t_std, n, 1);
        cg_node *sd = vector(g, m->t_std, n, 0);
        m->probs = m->pred = mean && inv && sd ? cg_add(cg_mul(z, sd), mean) : NULL;
        cg_node *ys = m->probs ? cg_mul(cg_sub(y, mean), inv) : NULL;
        cg_node *zs = ys ? cg_mul(cg_sub(m->probs, mean), inv) : NULL;
        switch (m->loss_kind) {
        case CG_LOSS_MAE: m->loss = zs ? cg_l1_loss(zs, ys) : NULL; break;
        case CG_LOSS_HUBER: m->loss = zs ? cg_huber_loss(zs, ys, 1) : NULL; break;
        default: m->loss = zs ? cg_mse_loss(zs, ys) : NULL; break;
        }
    }
    if (!m->loss || cg_node_set_name(m->loss, "loss")) return cg_last_error_code();
    if (!m->probs || cg_node_set_name(m->probs, "probs")) return cg_last_error_code();
    if (m->pred != m->probs && (!m->pred || cg_node_set_name(m->pred, "pred"))) return cg_last_error_code();
    return CG_OK;
}
