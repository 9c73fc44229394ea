/* fold_transpose.c - drop a transpose that undoes the transpose before it.
 *
 * requires: nodes in topological order; a verified graph
 * guarantees: t2 = transpose(t1) {perm=q} with t1 = transpose(x) {perm=p}
 *   and q after p the identity (x[..] moves back where it was: p[q[i]] = i
 *   for every axis i) has its readers read x instead, when t2 is not a
 *   graph output and x's type (dtype, shape, quantization) equals t2's.
 *   Transposes only move elements, so the result is bit-identical in any
 *   dtype.  t1 and t2 are left to dce (t1 stays if something else reads
 *   it).  The ONNX importer's NCHW/NHWC bridges leave such pairs where a
 *   model transposes to NCHW itself right before a Conv: M-LSD tiny's
 *   input (1x320x320x4 there and back, about 120 us of copies).
 * invalidates: nothing (no node or value is added or removed)
 */
#include "passes.h"

#include <stdlib.h>

/* The perm of transpose N (rank R; absent: the axes reversed). */
static bool perm_of(const Node *n, int r, int64_t *p)
{
    int64_t rev[8];
    for (int i = 0; i < r; i++)
        rev[i] = r - 1 - i;
    return node_ints(n, ATTR_PERM, p, r, rev) == r;
}

static bool undoes(const Node *t2)
{
    const Value *t1 = t2->operands[0];
    if (t1->kind != VAL_NODE || t1->def->op != OP_TRANSPOSE)
        return false;
    const Value *x = t1->def->operands[0];
    int r = x->type.rank;
    if (r < 1 || r > 8 || !type_equal(&x->type, &t2->result->type))
        return false;
    int64_t p[8], q[8];
    if (!perm_of(t1->def, r, p) || !perm_of(t2, r, q))
        return false;
    for (int i = 0; i < r; i++)
        if (q[i] < 0 || q[i] >= r || p[q[i]] != i)
            return false;
    return true;
}

bool fold_transpose(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    Value **fwd = xcalloc((size_t)g->values.len + 1, sizeof *fwd);
    bool *out = xcalloc((size_t)g->values.len + 1, sizeof *out);
    for (int i = 0; i < g->outputs.len; i++)
        out[((Value *)g->outputs.data[i])->id] = true;
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        for (int j = 0; j < n->num_operands; j++)
            if (fwd[n->operands[j]->id])
                n->operands[j] = fwd[n->operands[j]->id];
        if (n->op == OP_TRANSPOSE && !out[n->result->id] && undoes(n))
            fwd[n->result->id] = n->operands[0]->def->operands[0];
    }
    free(fwd);
    free(out);
    return true;
}
