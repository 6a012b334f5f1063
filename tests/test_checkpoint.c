/* SPDX-License-Identifier: MIT */
/* test_checkpoint.c: checkpoints hold everything training needs: 4 epochs
 * straight and 2 + save + load + 2 give bit-identical weights, batch-norm
 * statistics and optimizer moments (batch norm, dropout, Adam and a cosine
 * schedule all carry state); the loader rejects files that do not fit; a
 * failed save leaves the previous checkpoint; early stopping restores the
 * best weights. */
#define _POSIX_C_SOURCE 200809L /* fork, setrlimit */
#include "check.h"

#include <cgrad.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/safetensors.h"

static cg_model *make_model(void)
{
    cg_model *m = cg_model_new(20, 4, 11);
    CHECK(cg_model_add_dense(m, 32) == CG_OK);
    CHECK(cg_model_add_batch_norm(m, CG_BN_MOMENTUM, CG_BN_EPS) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_RELU) == CG_OK);
    CHECK(cg_model_add_dropout(m, 0.2) == CG_OK);
    CHECK(cg_model_add_dense(m, 16) == CG_OK);
    CHECK(cg_model_add_activation(m, CG_TANH) == CG_OK);
    const char *names[] = {"north", "east", "south", "west"};
    CHECK(cg_model_set_class_names(m, names, 4) == CG_OK);
    return m;
}

static cg_optimizer *make_optimizer(void)
{
    cg_optimizer *o = cg_adam_default(0.01);
    double cos[CG_LR_MAX_PARAMS] = {4, 0};
    CHECK(cg_optimizer_set_schedule(o, CG_LR_COSINE, cos) == CG_OK);
    return o;
}

static void fit_epochs(cg_model *m, cg_optimizer *o, const cg_dataset *tr, const cg_dataset *va,
                       const cg_normalizer *nz, int from, int to)
{
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = to;
    fo.initial_epoch = from;
    fo.batch_size = 32;
    fo.seed = 3;
    CHECK(cg_fit(m, o, tr, va, nz, &fo, NULL) == CG_OK);
}

static int same(const cg_real *a, const cg_real *b, size_t n)
{
    return n == 0 || (a && b && memcmp(a, b, n * sizeof *a) == 0);
}

static int file_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) eq = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return eq;
}

int main(void)
{
    cg_dataset all, tr, va;
    CHECK(cg_make_blobs(300, 4, 20, 2.0, 5, &all) == CG_OK);
    CHECK(cg_dataset_split(&all, 0.2, 1, &tr, &va) == CG_OK);
    cg_normalizer nz;
    CHECK(cg_normalizer_fit(&nz, &tr, 1) == CG_OK);
    const char *path = "test_checkpoint.safetensors";

    /* 4 epochs straight */
    cg_model *a = make_model();
    cg_optimizer *oa = make_optimizer();
    fit_epochs(a, oa, &tr, &va, &nz, 0, 4);

    /* 2 epochs, save, load everything into new objects, 2 more */
    cg_model *b = make_model();
    cg_optimizer *ob = make_optimizer();
    fit_epochs(b, ob, &tr, &va, &nz, 0, 2);
    cg_checkpoint_info info = {2, cg_optimizer_step_count(ob), 0.5, 1, "{\"note\":\"hi\"}"};
    CHECK(cg_checkpoint_save(path, b, ob, &nz, &info) == CG_OK);
    cg_optimizer *oc = NULL;
    cg_normalizer nz2;
    cg_checkpoint_info got;
    cg_model *c = cg_checkpoint_load(path, &oc, &nz2, &got);
    CHECK(c != NULL && oc != NULL);
    if (!c || !oc) CHECK_DONE();
    CHECK(got.epoch == 2 && got.step == cg_optimizer_step_count(ob) && got.best_val_acc == 0.5);
    CHECK(got.epochs_since_best == 1 && got.config && strcmp(got.config, "{\"note\":\"hi\"}") == 0);
    CHECK(strcmp(cg_optimizer_name(oc), "adam") == 0);
    CHECK(cg_model_class_name(c, 2) && strcmp(cg_model_class_name(c, 2), "south") == 0);
    CHECK(nz2.d == 20 && nz2.mean && nz2.inv_std);
    CHECK(nz2.mean && memcmp(nz2.mean, nz.mean, 20 * sizeof *nz.mean) == 0);
    cg_graph *gb = cg_model_graph(b), *gc = cg_model_graph(c);
    CHECK(same(cg_graph_params(gb), cg_graph_params(gc), cg_graph_param_count(gb)));
    CHECK(same(cg_graph_state(gb), cg_graph_state(gc), cg_graph_state_count(gb)));
    CHECK(cg_optimizer_lr(oc) == cg_optimizer_lr(ob));
    fit_epochs(c, oc, &tr, &va, &nz2, 2, 4);

    cg_graph *ga = cg_model_graph(a);
    size_t np = cg_graph_param_count(ga), n0, n1;
    CHECK(np == cg_graph_param_count(gc));
    CHECK(same(cg_graph_params(ga), cg_graph_params(gc), np));
    CHECK(same(cg_graph_state(ga), cg_graph_state(gc), cg_graph_state_count(ga)));
    CHECK(same(cg_optimizer_state(oa, 0, &n0), cg_optimizer_state(oc, 0, &n1), np) && n0 == n1);
    CHECK(same(cg_optimizer_state(oa, 1, &n0), cg_optimizer_state(oc, 1, &n1), np) && n0 == n1);
    CHECK(cg_optimizer_step_count(oa) == cg_optimizer_step_count(oc));

    st_out t = {.name = "x", .ndim = 1, .shape = {2}, .data = (cg_real[]){1, 2}};
    CHECK(st_save("bare.safetensors", &t, 1, NULL, NULL, 0) == CG_OK);

    /* Loading weights alone: into the same architecture works; into another
     * one is an error naming the tensor. */
    cg_model *w = make_model();
    CHECK(cg_model_load_weights(w, path) == CG_OK);
    CHECK(same(cg_graph_params(cg_model_graph(w)), cg_graph_params(gb), cg_graph_param_count(gb)));
    cg_model *other = cg_model_new(20, 4, 1);
    CHECK(cg_model_add_dense(other, 8) == CG_OK);
    CHECK(cg_model_load_weights(other, path) == CG_ERR_SHAPE);
    CHECK_ERROR("dense1.weight");
    cg_model *fewer = cg_model_new(2, 2, 1);
    st_out extra[3] = {{.name = "dense1.weight", .ndim = 2, .shape = {2, 2}, .data = (cg_real[]){1, 2, 3, 4}},
                       {.name = "dense1.bias", .ndim = 1, .shape = {2}, .data = (cg_real[]){1, 2}},
                       {.name = "junk", .ndim = 0, .data = (cg_real[]){1}}};
    CHECK(st_save("extra.safetensors", extra, 3, NULL, NULL, 0) == CG_OK);
    CHECK(cg_model_load_weights(fewer, "extra.safetensors") == CG_ERR_FORMAT);
    CHECK_ERROR("\"junk\" is not part of the model");
    CHECK(cg_model_load_weights(fewer, "bare.safetensors") == CG_ERR_FORMAT);
    CHECK_ERROR("\"dense1.weight\" is missing");

    /* Files that are not checkpoints */
    CHECK(cg_checkpoint_load("no-such-file.safetensors", NULL, NULL, NULL) == NULL);
    CHECK_ERROR("no-such-file.safetensors");
    CHECK(cg_checkpoint_load("bare.safetensors", NULL, NULL, NULL) == NULL);
    CHECK_ERROR("not a cgrad checkpoint");
    /* a checkpoint whose model spec wants a tensor the file lacks */
    const char *keys[] = {"format", "format_version", "model"};
    const char *spec = "{\"n_inputs\":2,\"n_classes\":2,\"seed\":\"1\",\"layers\":[{\"type\":"
                       "\"dense\",\"name\":\"dense1\",\"units\":2,\"bias\":true,\"output\":true}]}";
    const char *vals[] = {"cgrad", "1", spec};
    st_out wt = {.name = "dense1.weight", .ndim = 2, .shape = {2, 2}, .data = (cg_real[]){1, 2, 3, 4}};
    CHECK(st_save("missing.safetensors", &wt, 1, keys, vals, 3) == CG_OK);
    CHECK(cg_checkpoint_load("missing.safetensors", NULL, NULL, NULL) == NULL);
    CHECK_ERROR("\"dense1.bias\" is missing");
    vals[2] = "{\"n_inputs\":2,\"n_classes\":2,\"layers\":[{\"type\":\"conv\"}]}";
    CHECK(st_save("badspec.safetensors", &wt, 1, keys, vals, 3) == CG_OK);
    CHECK(cg_checkpoint_load("badspec.safetensors", NULL, NULL, NULL) == NULL);
    CHECK_ERROR("unknown layer type \"conv\"");

    /* A save that fails half-way (file size limit) leaves the previous
     * checkpoint byte for byte. */
    CHECK(cg_checkpoint_save("keep.safetensors", b, ob, &nz, NULL) == CG_OK);
    CHECK(cg_checkpoint_save("keep-copy.safetensors", b, ob, &nz, NULL) == CG_OK);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit lim = {4096, 4096};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        int rc = cg_checkpoint_save("keep.safetensors", a, oa, &nz, NULL);
        _exit(rc == CG_ERR_IO ? 0 : 1);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(file_equal("keep.safetensors", "keep-copy.safetensors"));
    CHECK(cg_checkpoint_save("no-such-dir/x.safetensors", b, ob, &nz, NULL) == CG_ERR_IO);
    CHECK_ERROR("no-such-dir/x.safetensors");

    /* Early stopping: the blobs are separable, so validation accuracy soon
     * stops improving; training stops and the weights are the best epoch's. */
    cg_model *e = make_model();
    cg_optimizer *oe = cg_sgd(0.05);
    cg_fit_options fo;
    cg_fit_options_init(&fo);
    fo.epochs = 60;
    fo.batch_size = 16;
    fo.patience = 3;
    cg_fit_result res;
    CHECK(cg_fit(e, oe, &tr, &va, &nz, &fo, &res) == CG_OK);
    CHECK(res.stopped_early && res.epochs < 60 && res.best_epoch == res.epochs - 3);
    double acc = -1;
    CHECK(cg_evaluate(e, &va, &nz, 0, NULL, &acc) == CG_OK);
    CHECK(acc == res.best_val_acc);
    /* The confusion counts come from the same pass as loss and accuracy. */
    long conf[16] = {0};
    double closs = -1, cacc = -1, eloss = -1;
    CHECK(cg_evaluate(e, &va, &nz, 0, &eloss, NULL) == CG_OK);
    CHECK(cg_evaluate_confusion(e, &va, &nz, 0, &closs, &cacc, conf) == CG_OK);
    long total = 0, diag = 0;
    for (int k = 0; k < 16; k++) total += conf[k];
    for (int k = 0; k < 4; k++) diag += conf[k * 4 + k];
    CHECK(total == va.n && cacc == acc && closs == eloss);
    CHECK((double)diag / va.n == cacc);
    CHECK(cg_evaluate_confusion(e, &va, &nz, 0, NULL, NULL, NULL) == CG_ERR_ARG);
    fo.patience = 2;
    CHECK(cg_fit(e, oe, &tr, NULL, &nz, &fo, NULL) == CG_ERR_ARG);
    CHECK_ERROR("validation set");

    cg_checkpoint_info_free(&got);
    cg_model_free(a);
    cg_model_free(b);
    cg_model_free(c);
    cg_model_free(w);
    cg_model_free(other);
    cg_model_free(fewer);
    cg_model_free(e);
    cg_optimizer_free(oa);
    cg_optimizer_free(ob);
    cg_optimizer_free(oc);
    cg_optimizer_free(oe);
    cg_normalizer_free(&nz);
    cg_normalizer_free(&nz2);
    cg_dataset_free(&all);
    cg_dataset_free(&tr);
    cg_dataset_free(&va);
    CHECK_DONE();
}
