/* fold_affine.c - fold a constant bias add and a constant scalar mul (or
 * div) that follow a dense or conv2d into its weights and bias.
 *
 * requires: nodes in topological order; a float graph (before quantize)
 * guarantees: with P a float dense or conv2d (any group) with constant f32
 *   weights (and bias, if any) and no act_min/act_max clamp:
 *   - y = add(x, c) or add(c, x), x = P's result or reshape(P's result)
 *     keeping the last axis, c an f32 constant of P's output channel count
 *     along the last axis and 1 along every other (so [C], [1,C], [1,1,C]:
 *     the bias an exported MatMul + Add or Linear adds), is gone: c joins
 *     P's bias (a new constant `B.fold`, or c itself when P had none and c
 *     is [C]);
 *   - y = mul(m, s), mul(s, m) or div(m, s) (a factor 1 / s), s an f32
 *     constant of one element (and not 0 for div), is gone when m is P's
 *     result (P's weights and bias are multiplied by s), or
 *     m = matmul(a, b) and a (else b) reaches such a P back through reshape
 *     and transpose only (P's weights and bias are multiplied by s: the
 *     attention's q @ k^T * d^-0.5 becomes (q * d^-0.5) @ k^T).
 *   In both, the add, mul or div must have no clamp, every value from P's
 *   result up to x or m must have that one reader (no other node, not an
 *   output), and x or m takes over y's name, range and readers; a range
 *   recorded on the values between P and the matmul is scaled with them.
 *   Constants only the rewritten nodes read are removed.
 * invalidates: value and node ids (renumbered densely)
 *
 * Why: an int8 add of a bias or mul by a scalar is a pass over the tensor
 * with its own rounding, where the dense/conv already adds an int32 bias
 * and requantizes with a multiplier that can absorb any positive or
 * negative factor.  Folded in float, quantize sees one op: one rounding
 * fewer, and the bias in int32 rather than int8.  The folded values are
 * computed in double and rounded to float once (b + c, w * s), so the
 * float graph's results differ from the unfolded graph's by float
 * rounding only, and not at all when c becomes the bias of a P that had
 * none (P adds its bias after the sum, as the add did) or s is a power of
 * two (attention's d^-0.5 for d = 16 or 64).
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>

/* P (a dense or conv2d) is float, unclamped, with constant f32 weights and
 * bias, so its weights can be rewritten. */
static bool foldable_producer(const Node *p)
{
    if (!p || (p->op != OP_DENSE && p->op != OP_CONV2D))
        return false;
    if (p->result->type.dtype != DT_F32 || node_has_clamp(p))
        return false;
    for (int i = 1; i < p->num_operands; i++)
        if (p->operands[i]->kind != VAL_CONST || p->operands[i]->type.dtype != DT_F32)
            return false;
    return true;
}

static int64_t last_dim(const Value *v) { return v->type.dims[v->type.rank - 1]; }

/* The index of the binary node N's constant operand, or -1 unless exactly
 * one of its two operands is a constant. */
static int const_operand(const Node *n)
{
    bool c0 = n->operands[0]->kind == VAL_CONST, c1 = n->operands[1]->kind == VAL_CONST;
    return c0 == c1 ? -1 : c0 ? 0 : 1;
}

/* C is [1, ..., 1, CH] with rank at most X's: added to X it is a bias along
 * the last axis and does not widen X. */
static bool is_channel_vector(const Value *c, const Value *x, int64_t ch)
{
    if (c->type.dtype != DT_F32 || c->type.rank < 1 || c->type.rank > x->type.rank)
        return false;
    for (int i = 0; i < c->type.rank - 1; i++)
        if (c->type.dims[i] != 1)
            return false;
    return last_dim(c) == ch;
}

/* y = add(x, c) with x = [reshape] P: c into P's bias. */
static bool fold_bias(Rewrite *rw, Node *add)
{
    int ci = const_operand(add);
    if (ci < 0 || !is_float_node(add, OP_ADD))
        return false;
    Value *c = add->operands[ci], *x = add->operands[1 - ci];
    if (x->kind != VAL_NODE || rewrite_count_uses(rw, x) != 0)
        return false;
    Value *r = x;
    if (r->def->op == OP_RESHAPE) {
        r = r->def->operands[0];
        if (r->kind != VAL_NODE || rewrite_count_uses(rw, r) != 1 || last_dim(r) != last_dim(x))
            return false;
    }
    Node *p = r->def;
    int64_t ch = last_dim(r);
    if (!foldable_producer(p) || !is_channel_vector(c, x, ch))
        return false;

    Graph *g = rw->g;
    Value *b = p->num_operands > 2 ? p->operands[2] : NULL;
    if (!b && c->type.rank == 1) {
        node_set_operand(g, p, 2, c);
    } else {
        float *nb = xmalloc((size_t)ch * sizeof *nb);
        const float *cv = c->data, *bv = b ? b->data : NULL;
        for (int64_t o = 0; o < ch; o++)
            nb[o] = (float)((bv ? (double)bv[o] : 0.0) + (double)cv[o]);
        TensorType bt = {.dtype = DT_F32, .rank = 1, .dims = {ch}};
        node_set_operand(g, p, 2, graph_add_const(g, rewrite_unique_name(g, (b ? b : c)->name, ".fold"), bt, nb));
        free(nb);
        if (b)
            rewrite_kill_if_unused(rw, b);
    }
    if (r != x) {
        r->has_range = add->result->has_range;
        r->range_lo = add->result->range_lo;
        r->range_hi = add->result->range_hi;
    }
    rewrite_take_over(rw, add->result, x);
    rewrite_kill_if_unused(rw, c);
    return true;
}

static void scale_range(Value *v, double s)
{
    if (!v->has_range)
        return;
    double lo = v->range_lo * s, hi = v->range_hi * s;
    v->range_lo = (float)(s < 0 ? hi : lo);
    v->range_hi = (float)(s < 0 ? lo : hi);
}

static Value *scaled_const(Rewrite *rw, Value *v, double s)
{
    int64_t n = type_numel(&v->type);
    float *d = xmalloc((size_t)n * sizeof *d);
    const float *o = v->data;
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)((double)o[i] * s);
    Value *nv = graph_add_const(rw->g, rewrite_unique_name(rw->g, v->name, ".scaled"), v->type, d);
    free(d);
    return nv;
}

static void scale_producer(Rewrite *rw, Node *p, double s)
{
    for (int i = 1; i < p->num_operands; i++) {
        Value *old = p->operands[i];
        p->operands[i] = scaled_const(rw, old, s);
        rewrite_kill_if_unused(rw, old);
    }
}

/* The dense/conv2d that V comes from through single-use reshapes and
 * transposes, or NULL.  Every value on the way is V's or a reshape's or
 * transpose's result with one reader. */
static Node *linear_source(const Rewrite *rw, Value *v)
{
    for (;;) {
        if (v->kind != VAL_NODE || rewrite_count_uses(rw, v) != 1)
            return NULL;
        Node *d = v->def;
        if (d->op != OP_RESHAPE && d->op != OP_TRANSPOSE)
            return foldable_producer(d) ? d : NULL;
        v = d->operands[0];
    }
}

/* y = mul(m, s) or div(m, s): s (1 / s) into the weights of m's
 * producer, or of a matmul operand's. */
static bool fold_scale(Rewrite *rw, Node *mul)
{
    int ci = const_operand(mul);
    float c;
    if (ci < 0 || !is_float_node(mul, mul->op) || !const_scalar_f32(mul->operands[ci], &c) || !isfinite(c))
        return false;
    /* div(s, m) is no scaling; div(m, 0) is no finite one. */
    if (mul->op == OP_DIV && (ci != 1 || c == 0))
        return false;
    double s = mul->op == OP_DIV ? 1.0 / (double)c : (double)c;
    Value *m = mul->operands[1 - ci];
    if (m->kind != VAL_NODE || rewrite_count_uses(rw, m) != 0)
        return false;
    /* The mul must not broadcast m to a larger shape. */
    if (m->type.rank != mul->result->type.rank)
        return false;
    Node *p = m->def;
    if (foldable_producer(p)) {
        scale_producer(rw, p, s);
    } else if (is_float_node(p, OP_MATMUL)) {
        Node *src = NULL;
        int side;
        for (side = 0; side < 2 && !src; side++)
            src = linear_source(rw, p->operands[side]);
        if (!src)
            return false;
        scale_producer(rw, src, s);
        for (Value *v = p->operands[side - 1]; v != src->result; v = v->def->operands[0])
            scale_range(v, s);
        scale_range(src->result, s);
    } else {
        return false;
    }
    rewrite_take_over(rw, mul->result, m);
    rewrite_kill_if_unused(rw, mul->operands[ci]);
    return true;
}

/* Whether N was folded away (and so is not to be kept). */
static bool fold_node(Rewrite *rw, Node *n)
{
    switch (n->op) {
    case OP_ADD: return fold_bias(rw, n);
    case OP_MUL:
    case OP_DIV: return fold_scale(rw, n);
    default: return false;
    }
}

bool fold_affine(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    Rewrite rw;
    rewrite_begin(&rw, g);
    for (rw.pos = 0; rw.pos < rw.nold; rw.pos++)
        if (!fold_node(&rw, rw.old[rw.pos]))
            rewrite_keep(&rw, rw.old[rw.pos]);
    rewrite_finish(&rw);
    return true;
}
