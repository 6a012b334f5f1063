/* SPDX-License-Identifier: MIT */
/* profile.c: per-node timing of forward and backward (cg_graph_profile),
 * the C user's torch.profiler: where a step goes, op by op, and, by
 * difference with the step's time, what the framework itself costs. */
#include "node.h"

#include <stdio.h>

void cg_profile_forward(cg_node *n)
{
    double t0 = cg_seconds();
    n->op->forward(n);
    n->prof_fwd += cg_seconds() - t0;
    n->prof_nfwd++;
}

void cg_profile_backward(cg_node *n)
{
    double t0 = cg_seconds();
    n->op->backward(n);
    n->prof_bwd += cg_seconds() - t0;
    n->prof_nbwd++;
}

void cg_graph_profile(cg_graph *g, int on)
{
    if (!g) return;
    if (on)
        for (int i = 0; i < g->n_nodes; i++) {
            cg_node *n = g->nodes[i];
            n->prof_fwd = n->prof_bwd = 0;
            n->prof_nfwd = n->prof_nbwd = 0;
        }
    g->profile = on != 0;
}

double cg_graph_profile_seconds(const cg_graph *g)
{
    double t = 0;
    for (int i = 0; g && i < g->n_nodes; i++) t += g->nodes[i]->prof_fwd + g->nodes[i]->prof_bwd;
    return t;
}

static double per_call_us(double seconds, long calls)
{
    return calls ? 1e6 * seconds / (double)calls : 0;
}

int cg_graph_profile_report(const cg_graph *g, void *file)
{
    if (!g) return cg_error(CG_ERR_ARG, "cg_graph_profile_report: graph is NULL");
    FILE *f = file ? (FILE *)file : stdout;
    const double total = cg_graph_profile_seconds(g);
    fprintf(f, "%-16s %-22s %-14s %8s %12s %8s %12s %6s\n", "node", "op", "shape", "fwd n",
            "fwd us/call", "bwd n", "bwd us/call", "share");
    for (int i = 0; i < g->n_nodes; i++) {
        const cg_node *n = g->nodes[i];
        if (n->kind != CG_KIND_OP || (!n->prof_nfwd && !n->prof_nbwd && !n->fused_in)) continue;
        char lbl[96], shp[96], op[64];
        cg_node_label(n, lbl, sizeof lbl);
        cg_shape_str(n, shp, sizeof shp);
        snprintf(op, sizeof op, "%s%s", n->op->name, n->fused_in ? " (fused)" : "");
        double t = n->prof_fwd + n->prof_bwd;
        fprintf(f, "%-16s %-22s %-14s %8ld %12.2f %8ld %12.2f %5.1f%%\n", lbl, op, shp,
                n->prof_nfwd, per_call_us(n->prof_fwd, n->prof_nfwd), n->prof_nbwd,
                per_call_us(n->prof_bwd, n->prof_nbwd), total > 0 ? 100 * t / total : 0.0);
    }
    fprintf(f, "total in ops: %.6f s\n", total);
    return ferror(f) ? cg_error(CG_ERR_IO, "cg_graph_profile_report: write failed") : CG_OK;
}
