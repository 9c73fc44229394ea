/* fuse_layernorm.c - recognise layer normalization written out in
 * elementwise ops and replace it by one layer_norm.
 *
 * requires: nodes in topological order; a float graph (before quantize)
 * guarantees: every chain of this form, all f32, with no act_min/act_max
 *   clamp on its ops, becomes layer_norm(x, scale, bias?) {axis=k,
 *   epsilon=eps} under the name of its last node:
 *       m = reduce_mean(x) {axes=[k..r-1], keepdims=1}
 *       d = sub(x, m)
 *       p = mul(d, d)                (or pow(d, c) with c == 2)
 *       v = reduce_mean(p) {axes=[k..r-1], keepdims=1}
 *       a = add(v, eps)              (either operand order; eps an f32 constant of one element)
 *       s = sqrt(a)
 *       n = div(d, s)                (or mul(d, r), either order, with
 *                                     r = reciprocal(s) or div(1, s) read
 *                                     only there: torch's x * rsqrt(...))
 *      [n = mul(n, gamma)]           (either order; gamma a constant)
 *      [n = add(n, beta)]            (either order; beta a constant)
 *   The reduced axes are the trailing axes k..r-1 of x as the IR holds it
 *   (the axes attribute is in the IR's layout, whatever ONNX axis it came
 *   from; docs/passes.md).  gamma and beta must vary only along those axes
 *   (their other broadcast dims are 1) and must not widen the result; they
 *   are copied into constants of shape x.dims[k:] when they are not
 *   already that shape.  Without a gamma the scale is a constant of ones.
 *   Every intermediate value (m, d, p, v, a, s, and n before the affine
 *   ops) must be read by the chain only -- not by another node, not an
 *   output -- or the chain is left unchanged.
 * invalidates: value and node ids (renumbered densely)
 *
 * Numerics: layer_norm multiplies by 1 / sqrtf(var + eps) where the chain
 * divides by sqrtf(var + eps) (docs/ir-semantics.md, "layer_norm"), so the
 * two agree to float32 rounding, not bit for bit (the reciprocal form is
 * the same product).
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct LnMatch {
    Chain ch; /* first: fuse_chains reads it; consts: eps, exponent, the 1 of div(1, s), gamma, beta */
    Value *x;
    int axis;
    float eps;
    Value *gamma, *beta; /* constants as found (any broadcastable shape), or NULL */
} LnMatch;

/* The first reduced axis when N is reduce_mean over the trailing axes of
 * its input with keepdims=1, else -1. */
static int trailing_axis(const Node *n)
{
    if (!is_float_node(n, OP_REDUCE_MEAN) || node_int(n, ATTR_KEEPDIMS, 1) == 0)
        return -1;
    const Attr *a = node_attr(n, ATTR_AXES);
    int rank = n->operands[0]->type.rank;
    if (!a || a->count < 1)
        return -1;
    /* Canonical axes are strictly increasing (the verifier's rule), so
     * ending at rank - 1 with count entries means k..rank-1. */
    int k = rank - a->count;
    for (int i = 0; i < a->count; i++)
        if (a->u.ints[i] != k + i)
            return -1;
    return k;
}

static bool same_dims(const TensorType *a, const TensorType *b)
{
    return a->rank == b->rank && !memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank);
}

/* Whether C (an f32 constant) broadcast against X varies only along the
 * normalized axes k.. : right-aligned, every dim before k is 1 and every
 * dim from k is 1 or X's. */
static bool affine_const(const Value *c, const TensorType *x, int k)
{
    if (c->kind != VAL_CONST || c->type.dtype != DT_F32 || c->type.rank > x->rank)
        return false;
    int off = x->rank - c->type.rank;
    for (int i = 0; i < c->type.rank; i++) {
        int64_t cd = c->type.dims[i], xd = x->dims[off + i];
        if (off + i < k ? cd != 1 : cd != 1 && cd != xd)
            return false;
    }
    return true;
}

/* The constant operand of binary N when its other operand is V. */
static Value *other_const(const Node *n, const Value *v)
{
    if (n->operands[0] == v && n->operands[1] != v)
        return n->operands[1];
    if (n->operands[1] == v && n->operands[0] != v)
        return n->operands[0];
    return NULL;
}

/* The normalizing node DIV: div(d, s), or mul(d, r) in either order with
 * r = reciprocal(s) or div(1, s) (torch's rsqrt) read only there.  Sets D
 * and S (s = sqrt(...) is checked by the caller), RECIP (or NULL) and ONE
 * (div's constant 1, or NULL). */
static bool normalizer(const GraphUses *u, Node *div, Value **d, Value **s, Node **recip, Value **one)
{
    *recip = NULL;
    *one = NULL;
    if (is_float_node(div, OP_DIV)) {
        *d = div->operands[0];
        *s = div->operands[1];
        return true;
    }
    if (!is_float_node(div, OP_MUL))
        return false;
    for (int i = 0; i < 2; i++) {
        Value *r = div->operands[1 - i];
        float c;
        if (r->kind != VAL_NODE || u->count[r->id] != 1 || div->operands[i]->kind != VAL_NODE ||
            !is_float_node(div->operands[i]->def, OP_SUB))
            continue;
        if (is_float_node(r->def, OP_RECIPROCAL)) {
            *s = r->def->operands[0];
        } else if (is_float_node(r->def, OP_DIV) && const_scalar_f32(r->def->operands[0], &c) && c == 1.0f) {
            *one = r->def->operands[0];
            *s = r->def->operands[1];
        } else {
            continue;
        }
        *d = div->operands[i];
        *recip = r->def;
        return same_dims(&r->type, &(*s)->type);
    }
    return false;
}

static bool match(const GraphUses *u, Node *div, LnMatch *out)
{
    Value *d, *s, *one;
    Node *recip;
    if (!normalizer(u, div, &d, &s, &recip, &one))
        return false;
    if (d->kind != VAL_NODE || s->kind != VAL_NODE)
        return false;
    Node *sub = d->def, *sq = s->def;
    if (!is_float_node(sub, OP_SUB) || !is_float_node(sq, OP_SQRT))
        return false;
    Value *x = sub->operands[0], *m = sub->operands[1];
    if (m->kind != VAL_NODE || m->def->operands[0] != x || x->type.dtype != DT_F32)
        return false;
    int k = trailing_axis(m->def);
    if (k < 0 || !same_dims(&d->type, &x->type) || !same_dims(&div->result->type, &x->type))
        return false;

    Value *a = sq->operands[0];
    if (a->kind != VAL_NODE || !is_float_node(a->def, OP_ADD))
        return false;
    Node *add = a->def;
    int vi = add->operands[0]->kind == VAL_NODE ? 0 : 1;
    Value *v = add->operands[vi];
    float eps;
    if (!const_scalar_f32(add->operands[1 - vi], &eps) || !isfinite(eps) || eps < 0 ||
        !same_dims(&a->type, &v->type) || v->kind != VAL_NODE || trailing_axis(v->def) != k)
        return false;
    Value *p = v->def->operands[0];
    if (p->kind != VAL_NODE)
        return false;
    Node *sqr = p->def;
    float two;
    bool square = (is_float_node(sqr, OP_MUL) && sqr->operands[0] == d && sqr->operands[1] == d) ||
                  (is_float_node(sqr, OP_POW) && sqr->operands[0] == d && const_scalar_f32(sqr->operands[1], &two) &&
                   two == 2.0f && same_dims(&p->type, &d->type));
    if (!square)
        return false;
    /* Only the chain reads the intermediates. */
    int d_reads = sqr->op == OP_MUL ? 3 : 2;
    if (u->count[m->id] != 1 || u->count[d->id] != d_reads || u->count[p->id] != 1 || u->count[v->id] != 1 ||
        u->count[a->id] != 1 || u->count[s->id] != 1)
        return false;

    *out = (LnMatch){.ch = {.last = div, .nodes = {m->def, sub, sqr, v->def, add, sq}, .num_nodes = 6,
                            .consts = {add->operands[1 - vi]}, .num_consts = 1},
                     .x = x, .axis = k, .eps = eps};
    Chain *ch = &out->ch;
    if (recip)
        chain_add_node(ch, recip);
    if (one)
        chain_add_const(ch, one);
    chain_add_node(ch, div);
    if (sqr->op == OP_POW)
        chain_add_const(ch, sqr->operands[1]);
    /* The affine tail: a constant mul, then a constant add, each the sole
     * reader of what comes before and not widening it. */
    Node *r = sole_reader(u, ch->last->result);
    Value *c;
    if (is_float_node(r, OP_MUL) && (c = other_const(r, ch->last->result)) && affine_const(c, &x->type, k) &&
        same_dims(&r->result->type, &x->type)) {
        out->gamma = c;
        chain_add_node(ch, ch->last = r);
        chain_add_const(ch, c);
        r = sole_reader(u, r->result);
    }
    if (is_float_node(r, OP_ADD) && (c = other_const(r, ch->last->result)) && affine_const(c, &x->type, k) &&
        same_dims(&r->result->type, &x->type)) {
        out->beta = c;
        chain_add_node(ch, ch->last = r);
        chain_add_const(ch, c);
    }
    return true;
}

/* C (or ones when C is NULL) as a constant of exactly x.dims[k:], reusing
 * C when it already has that shape. */
static Value *norm_param(Graph *g, Value *c, const TensorType *x, int k, const char *name, const char *suffix)
{
    TensorType t = {.dtype = DT_F32, .rank = x->rank - k};
    memcpy(t.dims, x->dims + k, sizeof(int64_t) * (size_t)t.rank);
    if (c && same_dims(&c->type, &t))
        return c;
    int64_t len = type_numel(&t);
    float *data = xmalloc((size_t)(len > 0 ? len : 1) * sizeof *data);
    const float *cd = c ? c->data : NULL;
    int off = c ? t.rank - c->type.rank : 0;
    for (int64_t i = 0; i < len; i++) {
        if (!c) {
            data[i] = 1.0f;
            continue;
        }
        /* Index of element i of x.dims[k:] in the broadcast constant. */
        int64_t rem = i, ci = 0, cstride = 1;
        for (int dd = t.rank - 1; dd >= 0; dd--) {
            int64_t idx = rem % t.dims[dd];
            rem /= t.dims[dd];
            if (dd >= off) {
                int64_t cdim = c->type.dims[dd - off];
                ci += (cdim == 1 ? 0 : idx) * cstride;
                cstride *= cdim;
            }
        }
        data[i] = cd[ci];
    }
    Value *v = graph_add_const(g, rewrite_unique_name(g, name, suffix), t, data);
    free(data);
    return v;
}

static bool match_ln(const GraphUses *u, Node *n, void *m)
{
    return (n->op == OP_DIV || n->op == OP_MUL) && match(u, n, m);
}

static Node *build(Graph *g, Node *last, void *m)
{
    LnMatch *mt = m;
    Value *y = last->result;
    /* x as the sub reads it now: a chain fused earlier in the sweep may
     * have replaced it (rewrite_replace_uses updates operands). */
    mt->x = mt->ch.nodes[1]->operands[0];
    Value *ops[3] = {mt->x, norm_param(g, mt->gamma, &mt->x->type, mt->axis, y->name, ".ln.scale"),
                     mt->beta ? norm_param(g, mt->beta, &mt->x->type, mt->axis, y->name, ".ln.bias") : NULL};
    Node *ln = graph_add_node(g, OP_LAYER_NORM, ops, mt->beta ? 3 : 2, y->name, y->type);
    node_set_int(g, ln, ATTR_AXIS, mt->axis);
    node_set_float(g, ln, ATTR_EPSILON, mt->eps);
    return ln;
}

bool fuse_layernorm(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    fuse_chains(g, &(ChainFusion){.match_size = sizeof(LnMatch), .match = match_ln, .build = build});
    return true;
}
