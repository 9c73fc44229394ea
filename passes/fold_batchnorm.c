/* fold_batchnorm.c - fold inference-mode batch normalization away.
 *
 * requires: nodes in topological order
 * guarantees: every batchnorm whose four parameters are constants is gone:
 *   - after a float conv2d (any group, so depthwise too) or dense with
 *     constant weights (and constant bias, if any), no fused clamp, and no
 *     other reader of its result, it is folded into new weights `W.bn` and
 *     bias `B.bn` (`W.bias.bn` when the op had none); the conv/dense result
 *     takes over the batchnorm's name, type range and uses;
 *   - otherwise it becomes mul(x, `Y.bn.scale`) -> add(., `Y.bn.shift`), the
 *     add taking over the batchnorm's name.
 *   A batchnorm with a non-constant parameter, or with var + eps <= 0 in a
 *   channel (an infinite or NaN factor), is left as it is.  Constants
 *   that only the rewritten nodes read are removed.
 * invalidates: value and node ids (renumbered densely)
 *
 * ONNX BatchNormalization (inference):
 *   y = (x - mean) / sqrt(var + eps) * gamma + beta
 * so with k = gamma / sqrt(var + eps) per channel, y = x * k + (beta - mean * k),
 * and for x = conv(w) + b:  w' = w * k,  b' = (b - mean) * k + beta.
 * k and the folded values are computed in double and rounded to float once.
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>

/* The folded channel factor k[c] and shift beta[c] - mean[c] * k[c]. */
typedef struct BnParams {
    int64_t channels;
    double *k;
    const float *mean, *beta;
} BnParams;

static bool all_const(const Node *bn)
{
    for (int i = 1; i < 5; i++)
        if (bn->operands[i]->kind != VAL_CONST || bn->operands[i]->type.dtype != DT_F32)
            return false;
    return true;
}

static BnParams bn_params(const Node *bn)
{
    const TensorType *xt = &bn->operands[0]->type;
    BnParams p = {.channels = xt->dims[xt->rank - 1]};
    const float *gamma = bn->operands[1]->data, *var = bn->operands[4]->data;
    p.beta = bn->operands[2]->data;
    p.mean = bn->operands[3]->data;
    double eps = node_float(bn, ATTR_EPSILON, 1e-5f);
    p.k = xcalloc((size_t)p.channels, sizeof *p.k);
    for (int64_t c = 0; c < p.channels; c++)
        p.k[c] = (double)gamma[c] / sqrt((double)var[c] + eps);
    return p;
}

/* var + eps <= 0 gives an infinite or NaN factor; folding it would turn
 * the batchnorm's inf/NaN outputs into different ones (0 * inf weights are
 * NaN), so such a batchnorm is left for the interpreter to evaluate as
 * written. */
static bool finite_factors(const BnParams *p)
{
    for (int64_t c = 0; c < p->channels; c++)
        if (!isfinite(p->k[c]))
            return false;
    return true;
}

static bool has_clamp(const Node *n)
{
    return node_float(n, ATTR_ACT_MIN, -INFINITY) != -INFINITY ||
           node_float(n, ATTR_ACT_MAX, INFINITY) != INFINITY;
}

/* Whether BN can be folded into the op that produces its input. */
static bool foldable(const Rewrite *rw, const Node *bn)
{
    const Value *x = bn->operands[0];
    if (x->kind != VAL_NODE)
        return false;
    const Node *p = x->def;
    if (p->op != OP_CONV2D && p->op != OP_DENSE)
        return false;
    /* A clamp sits between the op and the batchnorm, so it cannot move
     * past the scaling. */
    if (has_clamp(p) || x->type.dtype != DT_F32)
        return false;
    const Value *w = p->operands[1];
    if (w->kind != VAL_CONST || w->type.dtype != DT_F32)
        return false;
    if (p->num_operands > 2 && (p->operands[2]->kind != VAL_CONST || p->operands[2]->type.dtype != DT_F32))
        return false;
    /* Another reader (or a graph output) still needs the unnormalized value. */
    return rewrite_count_uses(rw, x) == 0;
}

static void fold_into_producer(Rewrite *rw, Node *bn, const BnParams *bp)
{
    Graph *g = rw->g;
    Node *p = bn->operands[0]->def;
    Value *w = p->operands[1], *b = p->num_operands > 2 ? p->operands[2] : NULL;
    int64_t O = bp->channels, per = type_numel(&w->type) / O;

    /* OHWI and [M,K] both put the output channel first. */
    float *nw = xmalloc((size_t)(O * per) * sizeof *nw), *nb = xmalloc((size_t)O * sizeof *nb);
    const float *ow = w->data, *ob = b ? b->data : NULL;
    for (int64_t o = 0; o < O; o++) {
        for (int64_t i = 0; i < per; i++)
            nw[o * per + i] = (float)((double)ow[o * per + i] * bp->k[o]);
        double bo = ob ? (double)ob[o] : 0.0;
        nb[o] = (float)((bo - (double)bp->mean[o]) * bp->k[o] + (double)bp->beta[o]);
    }
    TensorType bt = {.dtype = DT_F32, .rank = 1, .dims = {O}};
    Value *w2 = graph_add_const(g, rewrite_unique_name(g, w->name, ".bn"), w->type, nw);
    Value *b2 = graph_add_const(g, b ? rewrite_unique_name(g, b->name, ".bn") : rewrite_unique_name(g, w->name, ".bias.bn"), bt, nb);
    free(nw);
    free(nb);

    node_set_operand(g, p, 1, w2);
    node_set_operand(g, p, 2, b2);

    /* The producer's result now holds the normalized value: give it the
     * batchnorm's name, range and readers, so later IR reads as before. */
    rewrite_take_over(rw, bn->result, p->result);
    rewrite_kill_if_unused(rw, w);
    if (b)
        rewrite_kill_if_unused(rw, b);
}

/* y = x * k + (beta - mean * k), broadcast over the last axis. */
static void split_into_mul_add(Rewrite *rw, Node *bn, const BnParams *bp)
{
    Graph *g = rw->g;
    Value *x = bn->operands[0], *y = bn->result;
    int64_t C = bp->channels;
    float *scale = xmalloc((size_t)C * sizeof *scale), *shift = xmalloc((size_t)C * sizeof *shift);
    for (int64_t c = 0; c < C; c++) {
        scale[c] = (float)bp->k[c];
        shift[c] = (float)((double)bp->beta[c] - (double)bp->mean[c] * bp->k[c]);
    }
    TensorType ct = {.dtype = DT_F32, .rank = 1, .dims = {C}};
    Value *sv = graph_add_const(g, rewrite_unique_name(g, y->name, ".bn.scale"), ct, scale);
    Value *tv = graph_add_const(g, rewrite_unique_name(g, y->name, ".bn.shift"), ct, shift);
    free(scale);
    free(shift);

    Value *mul_ops[2] = {x, sv};
    Node *mul = graph_add_node(g, OP_MUL, mul_ops, 2, rewrite_unique_name(g, y->name, ".bn.scaled"), y->type);
    mul->loc = bn->loc;
    mul->result->loc = y->loc;
    Value *add_ops[2] = {mul->result, tv};
    /* The add is created under the batchnorm's name while the batchnorm's
     * result still exists; that value is killed just below. */
    Node *add = graph_add_node(g, OP_ADD, add_ops, 2, y->name, y->type);
    rewrite_keep(rw, mul);
    rewrite_substitute(rw, bn, add);
}

bool fold_batchnorm(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    Rewrite rw;
    rewrite_begin(&rw, g);
    for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
        Node *n = rw.old[rw.pos];
        if (n->op != OP_BATCHNORM || n->operands[0]->type.rank < 1 || !all_const(n)) {
            rewrite_keep(&rw, n);
            continue;
        }
        BnParams bp = bn_params(n);
        if (!finite_factors(&bp)) {
            free(bp.k);
            rewrite_keep(&rw, n);
            continue;
        }
        if (foldable(&rw, n))
            fold_into_producer(&rw, n, &bp);
        else
            split_into_mul_add(&rw, n, &bp);
        free(bp.k);
        for (int i = 1; i < 5; i++)
            rewrite_kill_if_unused(&rw, n->operands[i]);
    }
    rewrite_finish(&rw);
    return true;
}
