/* SPDX-License-Identifier: MIT */
/* space.c: search-space specs ("lr=loguniform:1e-4:1"), their validation
 * against what `cgrad train` accepts, and values as strings. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "internal.h"
#include "tune/tune.h"

/* What each name may take: `integer` names refuse continuous
 * distributions, `text` names take only choices; numbers must lie in
 * [min, max] (open where `open_*`). */
typedef struct name_rule {
    const char *name;
    int integer, text, open_min, open_max;
    double min, max;
} name_rule;

static const name_rule rules[] = {
    {"lr", 0, 0, 1, 0, 0, 1e6},
    {"momentum", 0, 0, 1, 1, 0, 1},
    {"beta1", 0, 0, 1, 1, 0, 1},
    {"beta2", 0, 0, 1, 1, 0, 1},
    {"eps", 0, 0, 1, 0, 0, 1},
    {"dropout", 0, 0, 0, 0, 0, 0.99},
    {"weight_decay", 0, 0, 0, 0, 0, 1},
    {"batch", 1, 0, 0, 0, 1, 1 << 24},
    {"units", 1, 0, 0, 0, 1, 1000000},
    {"layers", 1, 0, 0, 0, 0, 64},
    {"epochs", 1, 0, 0, 0, 1, 1000000},
    {"bn", 1, 0, 0, 0, 0, 1},
    {"optimizer", 0, 1, 0, 0, 0, 0},
    {"activation", 0, 1, 0, 0, 0, 0},
    {"lr_decay", 0, 1, 0, 0, 0, 0},
    {"hidden", 0, 1, 0, 0, 0, 0},
    {"arch", 0, 1, 0, 0, 0, 0},
};

const char *cg_tune_param_names(void)
{
    return "lr optimizer momentum beta1 beta2 eps batch units layers hidden arch bn dropout "
           "lr_decay weight_decay epochs activation";
}

static const name_rule *find_rule(const char *name)
{
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strcmp(rules[i].name, name) == 0) return &rules[i];
    return NULL;
}

int cg_tune_space_find(const cg_tune_space *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->p[i].name, name) == 0) return i;
    return -1;
}

int cg_tune_param_is_log(const cg_tune_param *p)
{
    return p->dist == CG_TUNE_LOGUNIFORM || p->dist == CG_TUNE_ONE_MINUS_LOG ||
           p->dist == CG_TUNE_INTLOG;
}

int cg_tune_param_is_numeric(const cg_tune_param *p) { return p->dist != CG_TUNE_CHOICE; }

static const struct {
    const char *name;
    cg_tune_dist dist;
} dists[] = {{"uniform", CG_TUNE_UNIFORM},     {"loguniform", CG_TUNE_LOGUNIFORM},
             {"one_minus_log", CG_TUNE_ONE_MINUS_LOG}, {"int", CG_TUNE_INT},
             {"intlog", CG_TUNE_INTLOG},       {"choice", CG_TUNE_CHOICE}};

static const char *dist_name(cg_tune_dist d)
{
    for (size_t i = 0; i < sizeof dists / sizeof *dists; i++)
        if (dists[i].dist == d) return dists[i].name;
    return "?";
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int in_rule(const name_rule *r, double v)
{
    if (r->open_min ? !(v > r->min) : !(v >= r->min)) return 0;
    if (r->open_max ? !(v < r->max) : !(v <= r->max)) return 0;
    return !r->integer || v == floor(v);
}

static int rule_error(const char *spec, const name_rule *r, const char *what, double v)
{
    return cg_error(CG_ERR_ARG, "--param '%s': %s %g is outside %s%g, %g%s%s", spec, what, v,
                    r->open_min ? "(" : "[", r->min, r->max, r->open_max ? ")" : "]",
                    r->integer ? " or not an integer" : "");
}

/* Split a choice list on '|' if it has one (so that "256,256|512" lists
 * hidden layouts), else on ','. */
static int parse_choices(const char *spec, const char *list, cg_tune_param *p)
{
    char sep = strchr(list, '|') ? '|' : ',';
    p->n_choices = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 && !e && sep == '|' && p->n_choices > 0)
            return CG_OK; /* "256,256|": a single choice holding commas */
        if (len == 0)
            return cg_error(CG_ERR_ARG, "--param '%s': empty choice", spec);
        if (len >= CG_TUNE_CHOICE_LEN)
            return cg_error(CG_ERR_ARG, "--param '%s': a choice is longer than %d characters",
                            spec, CG_TUNE_CHOICE_LEN - 1);
        if (p->n_choices == CG_TUNE_MAX_CHOICES)
            return cg_error(CG_ERR_ARG, "--param '%s': more than %d choices", spec,
                            CG_TUNE_MAX_CHOICES);
        memcpy(p->choices[p->n_choices], s, len);
        p->choices[p->n_choices][len] = 0;
        p->active[p->n_choices++] = 1;
        if (!e) return CG_OK;
        s = e + 1;
    }
}

/* Choices of a numeric name must be numbers in its range, so that a typo
 * fails before any trial runs rather than as failed trials. */
static int check_choices(const char *spec, const name_rule *r, const cg_tune_param *p)
{
    for (int i = 0; i < p->n_choices; i++) {
        const char *c = p->choices[i];
        if (r->text) {
            if (strcmp(r->name, "optimizer") == 0) {
                cg_optimizer *o = cg_optimizer_from_name(c, 0.1);
                if (!o)
                    return cg_error(CG_ERR_ARG, "--param '%s': unknown optimizer '%s'", spec, c);
                cg_optimizer_free(o);
            } else if (strcmp(r->name, "activation") == 0) {
                if (strcmp(c, "relu") && strcmp(c, "tanh") && strcmp(c, "sigmoid"))
                    return cg_error(CG_ERR_ARG,
                                    "--param '%s': activation '%s' is not relu, tanh or sigmoid",
                                    spec, c);
            } else if (strcmp(r->name, "lr_decay") == 0) {
                int kind;
                double params[CG_LR_MAX_PARAMS];
                if (cg_lr_schedule_parse(c, &kind, params))
                    return cg_error(CG_ERR_ARG, "--param '%s': %s", spec, cg_last_error());
            } else if (strcmp(r->name, "arch") == 0) {
                cg_layer_config layers[CG_MAX_LAYERS];
                int n;
                if (cg_arch_parse(c, layers, CG_MAX_LAYERS, &n))
                    return cg_error(CG_ERR_ARG, "--param '%s': %s", spec, cg_last_error());
            } else if (strcmp(r->name, "hidden") == 0 && strcmp(c, "none") != 0) {
                for (const char *q = c; *q; q++)
                    if (!((*q >= '0' && *q <= '9') || *q == ','))
                        return cg_error(CG_ERR_ARG,
                                        "--param '%s': hidden '%s' is not a list of widths "
                                        "like 256,256 (or none)", spec, c);
            }
            continue;
        }
        double v;
        if (parse_number(c, &v))
            return cg_error(CG_ERR_ARG, "--param '%s': choice '%s' is not a number", spec, c);
        if (!in_rule(r, v)) return rule_error(spec, r, "choice", v);
    }
    return CG_OK;
}

static int parse_param(const char *spec, cg_tune_param *p)
{
    memset(p, 0, sizeof *p);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec)
        return cg_error(CG_ERR_ARG, "--param '%s': expected NAME=DIST:ARGS, e.g. "
                                    "lr=loguniform:1e-4:1", spec);
    size_t nlen = (size_t)(eq - spec);
    if (nlen >= CG_TUNE_NAME_LEN) nlen = CG_TUNE_NAME_LEN - 1;
    memcpy(p->name, spec, nlen);
    p->name[nlen] = 0;
    const name_rule *r = find_rule(p->name);
    if (!r)
        return cg_error(CG_ERR_ARG, "--param '%s': unknown parameter '%s' (known: %s)", spec,
                        p->name, cg_tune_param_names());
    const char *d = eq + 1, *colon = strchr(d, ':');
    size_t dlen = colon ? (size_t)(colon - d) : strlen(d);
    int found = 0;
    for (size_t i = 0; i < sizeof dists / sizeof *dists; i++)
        if (strlen(dists[i].name) == dlen && strncmp(dists[i].name, d, dlen) == 0) {
            p->dist = dists[i].dist;
            found = 1;
        }
    if (!found)
        return cg_error(CG_ERR_ARG, "--param '%s': unknown distribution '%.*s' (uniform, "
                                    "loguniform, one_minus_log, int, intlog, choice)",
                        spec, (int)dlen, d);
    if (!colon) return cg_error(CG_ERR_ARG, "--param '%s': %s needs arguments", spec,
                                dist_name(p->dist));
    if (p->dist == CG_TUNE_CHOICE) {
        int rc = parse_choices(spec, colon + 1, p);
        return rc ? rc : check_choices(spec, r, p);
    }
    if (r->text)
        return cg_error(CG_ERR_ARG, "--param '%s': %s takes only choice:...", spec, p->name);
    if (r->integer && p->dist != CG_TUNE_INT && p->dist != CG_TUNE_INTLOG)
        return cg_error(CG_ERR_ARG, "--param '%s': %s is an integer: use int, intlog or choice",
                        spec, p->name);
    if (!r->integer && (p->dist == CG_TUNE_INT || p->dist == CG_TUNE_INTLOG))
        return cg_error(CG_ERR_ARG, "--param '%s': %s is not an integer: use uniform, "
                                    "loguniform, one_minus_log or choice", spec, p->name);
    char a[64], b[64];
    const char *second = strchr(colon + 1, ':');
    size_t alen = second ? (size_t)(second - colon - 1) : 0;
    if (!second || alen >= sizeof a || strlen(second + 1) >= sizeof b ||
        strchr(second + 1, ':'))
        return cg_error(CG_ERR_ARG, "--param '%s': expected %s:LO:HI", spec, dist_name(p->dist));
    memcpy(a, colon + 1, alen);
    a[alen] = 0;
    strcpy(b, second + 1);
    if (parse_number(a, &p->lo) || parse_number(b, &p->hi))
        return cg_error(CG_ERR_ARG, "--param '%s': bounds '%s' and '%s' must be numbers", spec, a,
                        b);
    if (!(p->lo < p->hi))
        return cg_error(CG_ERR_ARG, "--param '%s': the low bound %g must be below the high "
                                    "bound %g", spec, p->lo, p->hi);
    if (cg_tune_param_is_log(p) && !(p->lo > 0))
        return cg_error(CG_ERR_ARG, "--param '%s': %s needs positive bounds (log of %g)", spec,
                        dist_name(p->dist), p->lo);
    if (p->dist == CG_TUNE_ONE_MINUS_LOG) {
        if (!(p->hi < 1))
            return cg_error(CG_ERR_ARG, "--param '%s': one_minus_log bounds 1 - beta; they "
                                        "must lie in (0, 1), so beta does", spec);
        if (!in_rule(r, 1 - p->lo)) return rule_error(spec, r, "1 - low bound", 1 - p->lo);
        if (!in_rule(r, 1 - p->hi)) return rule_error(spec, r, "1 - high bound", 1 - p->hi);
        return CG_OK;
    }
    if (!in_rule(r, p->lo)) return rule_error(spec, r, "low bound", p->lo);
    if (!in_rule(r, p->hi)) return rule_error(spec, r, "high bound", p->hi);
    return CG_OK;
}

int cg_tune_space_add(cg_tune_space *s, const char *spec)
{
    if (!s || !spec) return cg_error(CG_ERR_ARG, "cg_tune_space_add: NULL argument");
    cg_tune_param p;
    int rc = parse_param(spec, &p);
    if (rc) return rc;
    int i = cg_tune_space_find(s, p.name);
    if (i < 0) {
        if (s->n == CG_TUNE_MAX_PARAMS)
            return cg_error(CG_ERR_ARG, "--param '%s': more than %d parameters", spec,
                            CG_TUNE_MAX_PARAMS);
        i = s->n++;
    }
    /* An architecture holds its own widths, batch norm and dropout. */
    static const char *const arch_conflicts[] = {"hidden", "units", "layers", "bn", "dropout"};
    int has_arch = strcmp(p.name, "arch") == 0 || cg_tune_space_find(s, "arch") >= 0;
    for (size_t k = 0; has_arch && k < sizeof arch_conflicts / sizeof *arch_conflicts; k++)
        if (strcmp(p.name, arch_conflicts[k]) == 0 || cg_tune_space_find(s, arch_conflicts[k]) >= 0)
            return cg_error(CG_ERR_ARG, "--param '%s': arch and %s cannot both be searched (put "
                            "widths, bn and dropoutP layers in the architectures)", spec,
                            arch_conflicts[k]);
    s->p[i] = p;
    return CG_OK;
}

/* One JSON member as a "name=..." spec. */
static int json_member(cg_tune_space *s, const cJSON *m)
{
    char spec[4096];
    int n;
    const cJSON *list = m;
    if (cJSON_IsObject(m)) list = cJSON_GetObjectItemCaseSensitive(m, "choice");
    if (cJSON_IsString(m)) {
        n = snprintf(spec, sizeof spec, "%s=%s", m->string, m->valuestring);
    } else if (cJSON_IsArray(list)) {
        /* '|' separates, so that a choice may hold commas ("256,256"). */
        n = snprintf(spec, sizeof spec, "%s=choice:", m->string);
        const cJSON *c;
        int first = 1;
        cJSON_ArrayForEach(c, list) {
            char item[128];
            if (cJSON_IsString(c)) snprintf(item, sizeof item, "%s", c->valuestring);
            else if (cJSON_IsNumber(c)) snprintf(item, sizeof item, "%.17g", c->valuedouble);
            else if (cJSON_IsBool(c)) snprintf(item, sizeof item, "%d", cJSON_IsTrue(c));
            else return cg_error(CG_ERR_FORMAT, "space: '%s': choices must be strings or "
                                                "numbers", m->string);
            if (n >= 0 && (size_t)n < sizeof spec)
                n += snprintf(spec + n, sizeof spec - (size_t)n, "%s%s", first ? "" : "|", item);
            first = 0;
        }
        /* A one-element list has no '|'; make sure commas inside stay whole. */
        if (first == 0 && !strchr(strchr(spec, ':'), '|') && n >= 0 && (size_t)n + 1 < sizeof spec) {
            spec[n++] = '|';
            spec[n] = 0;
        }
    } else {
        return cg_error(CG_ERR_FORMAT, "space: '%s' must be a spec string (\"loguniform:1e-4:1\"),"
                                       " a list of choices or {\"choice\": [...]}", m->string);
    }
    if (n < 0 || (size_t)n >= sizeof spec)
        return cg_error(CG_ERR_FORMAT, "space: '%s' is too long", m->string);
    return cg_tune_space_add(s, spec);
}

int cg_tune_space_add_json(cg_tune_space *s, const char *json)
{
    if (!s || !json) return cg_error(CG_ERR_ARG, "cg_tune_space_add_json: NULL argument");
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cg_error(CG_ERR_FORMAT, "space: not a JSON object of NAME: SPEC members");
    }
    int rc = CG_OK;
    const cJSON *m;
    cJSON_ArrayForEach(m, root) {
        rc = json_member(s, m);
        if (rc) break;
    }
    cJSON_Delete(root);
    return rc;
}

void cg_tune_format_value(const cg_tune_param *p, double v, char *buf, int size)
{
    if (size <= 0) return;
    if (p->dist == CG_TUNE_CHOICE) {
        int i = (int)v;
        snprintf(buf, (size_t)size, "%s", i >= 0 && i < p->n_choices ? p->choices[i] : "?");
    } else if (p->dist == CG_TUNE_INT || p->dist == CG_TUNE_INTLOG) {
        snprintf(buf, (size_t)size, "%.0f", v);
    } else {
        snprintf(buf, (size_t)size, "%.10g", v);
    }
}

int cg_tune_parse_value(const cg_tune_param *p, const char *str, double *out)
{
    if (p->dist == CG_TUNE_CHOICE) {
        for (int i = 0; i < p->n_choices; i++)
            if (strcmp(p->choices[i], str) == 0) {
                *out = i;
                return CG_OK;
            }
        return cg_error(CG_ERR_ARG, "%s: '%s' is not one of its choices", p->name, str);
    }
    if (parse_number(str, out)) return cg_error(CG_ERR_ARG, "%s: '%s' is not a number", p->name, str);
    return CG_OK;
}

void cg_tune_describe(const cg_tune_param *p, char *buf, int size)
{
    if (size <= 0) return;
    size_t n = (size_t)size;
    if (p->dist != CG_TUNE_CHOICE) {
        snprintf(buf, n, "%s:%.4g:%.4g", dist_name(p->dist), p->lo, p->hi);
        return;
    }
    size_t used = (size_t)snprintf(buf, n, "choice:");
    int first = 1;
    for (int i = 0; i < p->n_choices && used < n; i++)
        if (p->active[i]) {
            used += (size_t)snprintf(buf + used, n - used, "%s%s", first ? "" : "|", p->choices[i]);
            first = 0;
        }
}
