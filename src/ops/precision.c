// SPDX-License-Identifier: MIT
/* precision.c: a graph's arithmetic precision. fp32 everywhere, or bf16
 * matrix products and convolutions (matmul.c and conv.c through
 * gemm_dnnl.c: bf16 inputs, fp32 accumulation and output) with everything
 * else, the variables and the optimizer's state included, in fp32. And
 * the rule for "auto". */
#include "node.h"
#include "ops.h"

#include <stdio.h>
#include <string.h>

extern const cg_op_def cg_op_matmul, cg_op_conv2d; /* matmul.c, conv.c */

static const char *const names[] = {"fp32", "bf16", "auto"};

const char *cg_precision_name(int precision)
{
    return precision >= 0 && precision <= CG_PRECISION_AUTO ? names[precision] : "?";
}

int cg_precision_from_name(const char *name)
{
    for (int i = 0; name && i <= CG_PRECISION_AUTO; i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

int cg_bf16_supported(char *why, size_t size) { return cg_bf16_check(why, size); }

int cg_graph_set_precision(cg_graph *g, int precision)
{
    if (!g) return cg_error(CG_ERR_ARG, "cg_graph_set_precision: NULL graph");
    if (precision != CG_PRECISION_FP32 && precision != CG_PRECISION_BF16)
        return cg_error(CG_ERR_ARG, "precision: %d is not CG_PRECISION_FP32 or CG_PRECISION_BF16",
                        precision);
    if (precision == g->precision) return CG_OK;
    if (precision == CG_PRECISION_BF16) {
        char why[200];
        if (!cg_bf16_check(why, sizeof why)) return cg_error(CG_ERR_ARG, "precision bf16: %s", why);
        if (!g->gemm_cache) {
            if (!(g->gemm_cache = cg_gemm_cache_new())) return cg_last_error_code();
            g->gemm_cache_free = cg_gemm_cache_free;
        }
    }
    g->precision = precision;
    g->planned = 0; /* the products' scratch changes */
    return CG_OK;
}

/* The oneDNN cache for g's products: in bf16, the one made with the
 * precision; in fp32, made here on first use where fp32 products go
 * through oneDNN (gemm.h). NULL: cg_gemm's backend (OpenBLAS or the
 * portable loops), as in a build without oneDNN; also if the cache cannot
 * be made, which is then not tried again for this graph. */
cg_gemm_cache *cg_graph_gemm_cache(cg_graph *g)
{
    if (g->gemm_cache || g->precision == CG_PRECISION_BF16 || g->gemm_cache_failed ||
        !cg_gemm_dnnl_fp32())
        return g->gemm_cache;
    if (!(g->gemm_cache = cg_gemm_cache_new())) {
        g->gemm_cache_failed = 1;
        cg_clear_error();
        return NULL;
    }
    g->gemm_cache_free = cg_gemm_cache_free;
    return g->gemm_cache;
}

int cg_graph_precision(const cg_graph *g) { return g ? g->precision : CG_PRECISION_FP32; }

long cg_graph_product_size(const cg_graph *g)
{
    long macs = 0;
    for (int i = 0; g && i < g->n_nodes; i++) {
        const cg_node *n = g->nodes[i], *b = n->in[1];
        if (n->op == &cg_op_matmul)
            macs += (long)b->shape[0] * b->shape[1]; /* K x N per row of the batch */
        else if (n->op == &cg_op_conv2d) /* K x C/G kh kw per output position */
            macs += (long)b->shape[0] * b->shape[1] * b->shape[2] * b->shape[3] * n->shape[2] *
                    n->shape[3];
    }
    return macs;
}

int cg_precision_auto(const cg_graph *g, char *why, size_t size)
{
    char no[200];
    const long macs = cg_graph_product_size(g);
    int p = CG_PRECISION_FP32;
    if (!cg_bf16_check(no, sizeof no))
        snprintf(why, size, "precision auto: fp32 (%s)", no);
    else if (macs < CG_BF16_AUTO_MIN)
        snprintf(why, size, "precision auto: fp32 (matrix products of %ld multiply-adds per "
                 "example, below the %ld where bf16 gains)", macs, (long)CG_BF16_AUTO_MIN);
    else {
        p = CG_PRECISION_BF16;
        snprintf(why, size, "precision auto: bf16 matrix products (AVX-512 BF16; %ld "
                 "multiply-adds per example, at least %ld)", macs, (long)CG_BF16_AUTO_MIN);
    }
    return p;
}
