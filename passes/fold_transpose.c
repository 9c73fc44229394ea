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
 *   And a transpose or reshape n whose chain of transposes and reshapes
 *   back to a value x leaves x's elements in their order (the chain only
 *   relabels axes: ViT's NHWC patch conv -> NCHW -> [1,64,49] -> [1,49,64],
 *   a flatten after a transpose of unit axes) becomes reshape(x), when
 *   x's dtype and per-tensor quantization equal n's and n is not a graph
 *   output; the nodes it skipped
 *   are left to dce.  The order is checked by moving an index array of
 *   x's elements through the chain (at most CHAIN_MAX_ELEMS elements).
 *   And dense(reshape(transpose(x)) {[B,K]}, w) with the transpose keeping
 *   axis 0 and the reshape read by the dense alone reads reshape(x), its
 *   weight columns permuted at compile time (a new constant).
 * invalidates: nothing (no node is added or removed; a folded node changes
 *   its op or operands in place)
 */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

/* The perm of transpose N (rank R; absent: the axes reversed). */
static bool perm_of(const Node *n, int r, int64_t *p)
{
    int64_t rev[QNN_MAX_RANK] = {0};
    if (r < 1 || r > QNN_MAX_RANK)
        return false;
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

#define CHAIN_MAX 8
#define CHAIN_MAX_ELEMS (1 << 20)

/* IDX (N elements of shape T's) transposed by N's perm into TMP, then
 * copied back. */
static bool move_through(const Node *n, const TensorType *t, int32_t *idx, int32_t *tmp, int64_t N)
{
    int r = t->rank;
    int64_t p[QNN_MAX_RANK], in_stride[QNN_MAX_RANK], pos[QNN_MAX_RANK] = {0};
    if (r > QNN_MAX_RANK || !perm_of(n, r, p))
        return false;
    for (int i = r - 1, s = 1; i >= 0; s *= (int)t->dims[i], i--)
        in_stride[i] = s;
    /* Output element e: walk the output's index (dims[p[i]]) in order. */
    for (int64_t e = 0; e < N; e++) {
        int64_t src = 0;
        for (int i = 0; i < r; i++)
            src += pos[i] * in_stride[p[i]];
        tmp[e] = idx[src];
        for (int i = r - 1; i >= 0 && ++pos[i] == t->dims[p[i]]; i--)
            pos[i] = 0;
    }
    memcpy(idx, tmp, (size_t)N * sizeof *idx);
    return true;
}

/* The chain of transposes and reshapes from N back (CH[0] = N, CH[len-1]
 * reads the farthest value): the farthest value X whose elements come out
 * of N in their order, with N's dtype and per-tensor quantization, or
 * NULL. */
static Value *same_order_source(const Node *n)
{
    const Node *ch[CHAIN_MAX];
    int len = 0;
    for (const Node *c = n; len < CHAIN_MAX; c = c->operands[0]->def) {
        ch[len++] = c;
        const Value *v = c->operands[0];
        if (v->kind != VAL_NODE || (v->def->op != OP_TRANSPOSE && v->def->op != OP_RESHAPE))
            break;
    }
    const TensorType *y = &n->result->type;
    int64_t N = type_numel(y);
    if (N < 1 || N > CHAIN_MAX_ELEMS || (y->quant && y->quant->axis >= 0))
        return NULL;
    int32_t *idx = xmalloc((size_t)N * sizeof *idx), *tmp = xmalloc((size_t)N * sizeof *tmp);
    Value *found = NULL;
    /* The farthest source first: X = ch[k]'s operand, through ch[k] .. ch[0]. */
    for (int k = len - 1; k >= 0 && !found; k--) {
        Value *x = ch[k]->operands[0];
        if (x->type.dtype != y->dtype || !quant_equal(x->type.quant, y->quant))
            continue;
        for (int64_t e = 0; e < N; e++)
            idx[e] = (int32_t)e;
        bool ok = true;
        for (int j = k; j >= 0 && ok; j--)
            if (ch[j]->op == OP_TRANSPOSE)
                ok = move_through(ch[j], &ch[j]->operands[0]->type, idx, tmp, N);
        for (int64_t e = 0; e < N && ok; e++)
            ok = idx[e] == e;
        if (ok && (k > 0 || n->op == OP_TRANSPOSE))
            found = x;
    }
    free(idx);
    free(tmp);
    return found;
}

/* dense(r, w, ...) with r = reshape(t) {[B,K]} read by nothing else and
 * t = transpose(x) keeping axis 0 (B = x's first dim): r becomes
 * reshape(x) and w's columns are permuted to match (column k of w moves
 * to the column of x's element that t puts at k), so the transpose is not
 * run.  Fashion-MNIST's NHWC average pool, taken to NCHW for its flatten. */
static void fold_into_dense(Graph *g, Node *n, const int *readers, const bool *out)
{
    Value *r = n->operands[0], *w = n->operands[1];
    if (r->kind != VAL_NODE || r->def->op != OP_RESHAPE || readers[r->id] != 1 || out[r->id] ||
        w->kind != VAL_CONST || w->type.rank != 2 || (w->type.quant && w->type.quant->axis == 1))
        return;
    Value *t = r->def->operands[0];
    if (t->kind != VAL_NODE || t->def->op != OP_TRANSPOSE || r->type.rank != 2)
        return;
    const Node *tn = t->def;
    const Value *x = tn->operands[0];
    int64_t p[QNN_MAX_RANK], B = r->type.dims[0], K = r->type.dims[1], O = w->type.dims[0];
    int64_t N = type_numel(&x->type);
    if (x->type.rank < 2 || x->type.rank > QNN_MAX_RANK || !perm_of(tn, x->type.rank, p) || p[0] != 0 ||
        x->type.dims[0] != B || w->type.dims[1] != K || N < 1 || N > CHAIN_MAX_ELEMS)
        return;
    int32_t *idx = xmalloc((size_t)N * sizeof *idx), *tmp = xmalloc((size_t)N * sizeof *tmp);
    for (int64_t e = 0; e < N; e++)
        idx[e] = (int32_t)e;
    move_through(tn, &x->type, idx, tmp, N);
    size_t es = dtype_traits[w->type.dtype].size;
    const uint8_t *ow = w->data;
    uint8_t *nw = xmalloc((size_t)(O * K) * es);
    for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < K; k++)
            memcpy(nw + (size_t)(o * K + idx[k]) * es, ow + (size_t)(o * K + k) * es, es);
    n->operands[1] = graph_add_const(g, rewrite_unique_name(g, w->name, ".unperm"), w->type, nw);
    r->def->operands[0] = (Value *)x;
    free(nw);
    free(idx);
    free(tmp);
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
        if (n->op == OP_TRANSPOSE && !out[n->result->id] && undoes(n)) {
            fwd[n->result->id] = n->operands[0]->def->operands[0];
            continue;
        }
        Value *x = (n->op == OP_TRANSPOSE || n->op == OP_RESHAPE) && !out[n->result->id] ? same_order_source(n) : NULL;
        if (x) {
            n->op = OP_RESHAPE;
            n->operands[0] = x;
            n->num_attrs = 0;
        }
    }
    int *readers = xcalloc((size_t)g->values.len + 1, sizeof *readers);
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        for (int j = 0; j < n->num_operands; j++)
            readers[n->operands[j]->id]++;
    }
    int nodes = g->nodes.len; /* graph_add_const adds values, not nodes */
    for (int i = 0; i < nodes; i++) {
        Node *n = g->nodes.data[i];
        if (n->op == OP_DENSE)
            fold_into_dense(g, n, readers, out);
    }
    free(readers);
    free(fwd);
    free(out);
    return true;
}
