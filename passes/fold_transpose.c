/* fold_transpose.c - drop transposes and reshapes that only relabel axes.
 *
 * requires: nodes in topological order; a verified graph
 * guarantees: a transpose or reshape n, not a graph output, whose chain of
 *   transposes and reshapes back to a value x leaves x's elements in their
 *   order (the chain only relabels axes) is dropped: its readers read x
 *   when x's type (dtype, shape, quantization) equals n's; otherwise, when
 *   x's dtype and per-tensor quantization equal n's, n becomes reshape(x).
 *   Transposes and reshapes only move elements, so the result is
 *   bit-identical in any dtype.  The farthest such x is taken; the nodes
 *   skipped are left to dce.  A chain of transposes alone is checked on
 *   its perms (t2 = transpose(t1) {perm=q}, t1 = transpose(x) {perm=p}
 *   with p[q[i]] = i: the importer's NCHW/NHWC bridges where a model
 *   transposes to NCHW itself right before a Conv, M-LSD tiny's input,
 *   about 120 us of copies); a chain with a reshape (ViT's NHWC patch conv
 *   -> NCHW -> [1,64,49] -> [1,49,64], a flatten after a transpose of unit
 *   axes) by moving an index array of x's elements through it (at most
 *   CHAIN_MAX_ELEMS elements).
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

#define CHAIN_MAX 8
#define CHAIN_MAX_ELEMS (1 << 20)

/* IDX (the N elements of shape T) transposed by N's perm, through TMP. */
static bool move_through(const Node *n, const TensorType *t, int32_t *idx, int32_t *tmp, int64_t N)
{
    int64_t p[QNN_MAX_RANK];
    if (!perm_of(n, t->rank, p))
        return false;
    transpose_elems(t->dims, t->rank, p, sizeof *idx, idx, tmp);
    memcpy(idx, tmp, (size_t)N * sizeof *idx);
    return true;
}

/* Whether the transposes CH[K] .. CH[0] (no reshape among them) compose to
 * the identity: output axis d of the chain is axis NET[d] of its source. */
static bool perms_cancel(const Node *const *ch, int k)
{
    int r = ch[k]->operands[0]->type.rank;
    int64_t net[QNN_MAX_RANK], p[QNN_MAX_RANK], t[QNN_MAX_RANK];
    if (r < 1 || r > QNN_MAX_RANK)
        return false;
    for (int i = 0; i < r; i++)
        net[i] = i;
    for (int j = k; j >= 0; j--) {
        if (ch[j]->op != OP_TRANSPOSE || !perm_of(ch[j], r, p))
            return false;
        for (int i = 0; i < r; i++) {
            if (p[i] < 0 || p[i] >= r)
                return false;
            t[i] = net[p[i]];
        }
        memcpy(net, t, sizeof net);
    }
    for (int i = 0; i < r; i++)
        if (net[i] != i)
            return false;
    return true;
}

/* The chain of transposes and reshapes from N back (CH[0] = N, CH[len-1]
 * reads the farthest value): the farthest value X whose elements come out
 * of N in their order, with N's dtype and quantization (per-axis: X's whole
 * type is N's), or NULL.  Transposes alone are checked on their perms (any
 * size); a chain with a reshape by moving an index array of the elements
 * through it (at most CHAIN_MAX_ELEMS). */
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
    bool per_axis = y->quant && y->quant->axis >= 0;
    if (N < 1)
        return NULL;
    int32_t *idx = NULL, *tmp = NULL;
    Value *found = NULL;
    /* The farthest source first: X = ch[k]'s operand, through ch[k] .. ch[0]. */
    for (int k = len - 1; k >= 0 && !found; k--) {
        Value *x = ch[k]->operands[0];
        if (x->type.dtype != y->dtype || !quant_equal(x->type.quant, y->quant) ||
            (per_axis && !type_equal(&x->type, y)) || (k == 0 && n->op != OP_TRANSPOSE))
            continue;
        bool ok = perms_cancel((const Node *const *)ch, k);
        if (!ok && N <= CHAIN_MAX_ELEMS) {
            if (!idx) {
                idx = xmalloc((size_t)N * sizeof *idx);
                tmp = xmalloc((size_t)N * sizeof *tmp);
            }
            for (int64_t e = 0; e < N; e++)
                idx[e] = (int32_t)e;
            ok = true;
            for (int j = k; j >= 0 && ok; j--)
                if (ch[j]->op == OP_TRANSPOSE)
                    ok = move_through(ch[j], &ch[j]->operands[0]->type, idx, tmp, N);
            for (int64_t e = 0; e < N && ok; e++)
                ok = idx[e] == e;
        }
        if (ok)
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
        Value *x = (n->op == OP_TRANSPOSE || n->op == OP_RESHAPE) && !out[n->result->id] ? same_order_source(n) : NULL;
        if (x && type_equal(&x->type, &n->result->type)) {
            fwd[n->result->id] = x;
        } else if (x) {
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
