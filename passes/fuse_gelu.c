/* fuse_gelu.c - recognise GELU written out in elementwise ops, the exact
 * (erf) form and the tanh approximation, and replace it by one gelu.
 *
 * requires: nodes in topological order; a float graph (before quantize)
 * guarantees: every chain of one of these forms, all f32, with no
 *   act_min/act_max clamp on its ops, becomes gelu(x) (the erf form) or
 *   gelu(x) {approximate=tanh} under the name of its last node (binary ops
 *   match in either operand order):
 *       erf form:   t = div(x, c)  with c == 1.41421354 (float32 sqrt(2)),
 *                    or mul(x, c)  with c == 0.707106769 (float32 1/sqrt(2))
 *                   e = erf(t)
 *       tanh form:  c = pow(x, 3), or mul(x, mul(x, x))
 *                   k = mul(c, 0.044715)
 *                   s = add(x, k)
 *                   t = mul(s, c)  with c == 0.797884583 (float32 sqrt(2/pi))
 *                   e = tanh(t)
 *       a = add(e, 1)
 *     then one of
 *       y = mul(mul(x, a), 0.5)     torch nn.GELU / F.gelu export (either approximate)
 *       y = mul(mul(x, 0.5), a)     x * 0.5 * (1 + erf(...)), as written in Python
 *       y = mul(x, mul(a, 0.5))     x * (0.5 * (1 + erf(...)))
 *   The constants are f32 of one element and exactly those values; no op
 *   may widen x's shape; every intermediate (t, e, a, the inner mul, and
 *   for tanh c, its square, k, s) must be read by the chain only -- not by
 *   another node, not an output -- or the chain is left unchanged.  ONNX's
 *   own Gelu (opset 20) is past the importer's opset cap, so this is how
 *   GELU reaches the IR op.
 * invalidates: value and node ids (renumbered densely)
 *
 * Numerics: gelu is 0.5 * x * (1 + erff(x * 0.70710677)) in that order,
 * the tanh form 0.5 * x * (1 + tanhf(0.7978846 * (x + 0.044715 * (x * x) *
 * x))) (docs/ir-semantics.md), so a chain that divides by sqrt(2), takes
 * powf(x, 3) or multiplies in another order agrees with it to float32
 * rounding, not bit for bit.
 */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

typedef struct GeluMatch {
    Chain ch; /* first: fuse_chains reads it */
    Value *x;
    GeluApprox approximate;
    /* Where the chain reads x: a fused chain earlier in the sweep may
     * replace x, and rewrite_replace_uses updates operands, not this struct. */
    Node *xn;
    int xi;
} GeluMatch;

static const float SQRT2_F = 1.41421356237309505f, SQRT1_2_F = 0.707106781186547524f;
static const float SQRT_2_PI_F = 0.797884560802865356f, KAPPA_F = 0.044715f;

static bool same_dims(const TensorType *a, const TensorType *b)
{
    return a->rank == b->rank && !memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank);
}

/* For binary N with an f32 one-element constant operand equal to WANT:
 * the other operand (NULL if N is not such a node). */
static Value *with_const(const Node *n, OpId op, float want, Value **c)
{
    if (!is_float_node(n, op))
        return NULL;
    for (int i = 0; i < 2; i++) {
        float v;
        if (const_scalar_f32(n->operands[i], &v) && v == want && n->operands[1 - i]->kind != VAL_CONST) {
            *c = n->operands[i];
            return n->operands[1 - i];
        }
    }
    return NULL;
}

/* For mul N: whether it multiplies P and Q (in either order). */
static bool mul_of(const Node *n, const Value *p, const Value *q)
{
    return is_float_node(n, OP_MUL) && ((n->operands[0] == p && n->operands[1] == q) ||
                                        (n->operands[0] == q && n->operands[1] == p));
}

static void add_node(GeluMatch *m, Node *n) { chain_add_node(&m->ch, n); }
static void add_const(GeluMatch *m, Value *c) { chain_add_const(&m->ch, c); }

/* V, when it is an intermediate of the chain: a node result of X's shape
 * read once (by the chain). */
static Node *inner(const GraphUses *u, const Value *v, const Value *x)
{
    if (v->kind != VAL_NODE || u->count[v->id] != 1 || !same_dims(&v->type, &x->type))
        return NULL;
    return v->def;
}

/* The erf form's argument t = x / sqrt(2) or x * (1/sqrt(2)): x, with the
 * scaling node added to M. */
static Value *erf_arg(const GraphUses *u, Value *t, GeluMatch *m)
{
    Value *cs = NULL;
    if (t->kind != VAL_NODE)
        return NULL;
    Node *scale = t->def;
    Value *x = with_const(scale, OP_DIV, SQRT2_F, &cs);
    if (x && scale->operands[0] != x) /* sqrt(2) / x is not x / sqrt(2) */
        x = NULL;
    if (!x)
        x = with_const(scale, OP_MUL, SQRT1_2_F, &cs);
    if (!x || x->type.dtype != DT_F32 || !inner(u, t, x))
        return NULL;
    m->xn = scale;
    m->xi = scale->operands[0] == x ? 0 : 1;
    add_node(m, scale);
    add_const(m, cs);
    return x;
}

/* Whether C = x^3: pow(x, 3), or x * (x * x) in either order with the
 * square read once; its nodes are added to M. */
static bool cube_of(const GraphUses *u, const Value *c, const Value *x, GeluMatch *m)
{
    Node *n = inner(u, c, x);
    float three;
    if (is_float_node(n, OP_POW) && n->operands[0] == x && const_scalar_f32(n->operands[1], &three) && three == 3.0f) {
        add_node(m, n);
        add_const(m, n->operands[1]);
        return true;
    }
    if (!is_float_node(n, OP_MUL))
        return false;
    for (int i = 0; i < 2; i++) {
        Node *sq;
        if (n->operands[i] == x && (sq = inner(u, n->operands[1 - i], x)) && mul_of(sq, x, x)) {
            add_node(m, n);
            add_node(m, sq);
            return true;
        }
    }
    return false;
}

/* The tanh form's argument t = sqrt(2/pi) * (x + 0.044715 * x^3), the
 * products and the sum in either operand order: x, with the nodes added
 * to M. */
static Value *tanh_arg(const GraphUses *u, Value *t, GeluMatch *m)
{
    Value *cb = NULL, *ck = NULL;
    if (t->kind != VAL_NODE || u->count[t->id] != 1)
        return NULL;
    Node *scale = t->def;
    Value *s = with_const(scale, OP_MUL, SQRT_2_PI_F, &cb);
    if (!s || s->kind != VAL_NODE || u->count[s->id] != 1 || !is_float_node(s->def, OP_ADD))
        return NULL;
    Node *sum = s->def;
    for (int i = 0; i < 2; i++) {
        Value *x = sum->operands[i], *k = sum->operands[1 - i];
        if (x->type.dtype != DT_F32 || x->kind == VAL_CONST || !same_dims(&t->type, &x->type) ||
            !same_dims(&s->type, &x->type))
            continue;
        Node *kn = inner(u, k, x);
        Value *c = kn ? with_const(kn, OP_MUL, KAPPA_F, &ck) : NULL;
        int mark = m->ch.num_nodes, cmark = m->ch.num_consts;
        add_node(m, scale);
        add_node(m, sum);
        add_node(m, kn);
        if (c && cube_of(u, c, x, m)) {
            m->xn = sum;
            m->xi = i;
            add_const(m, cb);
            add_const(m, ck);
            return x;
        }
        m->ch.num_nodes = mark;
        m->ch.num_consts = cmark;
    }
    return NULL;
}

/* HEAD is the erf or the tanh; the chain goes on with
 *     a = add(head, 1)
 * then one of
 *     y = mul(mul(x, a), 0.5)
 *     y = mul(mul(x, 0.5), a)
 *     y = mul(x, mul(a, 0.5)) */
static bool match(const GraphUses *u, Node *head, void *m)
{
    GeluMatch *out = m;
    Value *x;
    if (is_float_node(head, OP_ERF)) {
        x = erf_arg(u, head->operands[0], out);
    } else if (is_float_node(head, OP_TANH)) {
        out->approximate = GELU_TANH;
        x = tanh_arg(u, head->operands[0], out);
    } else {
        return false;
    }
    Value *c1 = NULL, *ch = NULL;
    if (!x || !same_dims(&head->result->type, &x->type))
        return false;
    add_node(out, head);
    Node *plus = sole_reader(u, head->result);
    Value *e = head->result;
    if (!plus || with_const(plus, OP_ADD, 1.0f, &c1) != e || !same_dims(&plus->result->type, &x->type))
        return false;
    Value *a = plus->result;
    Node *r1 = sole_reader(u, a);
    if (!r1 || !is_float_node(r1, OP_MUL) || !same_dims(&r1->result->type, &x->type))
        return false;
    add_node(out, plus);
    add_node(out, r1);
    add_const(out, c1);
    out->x = x;

    Node *last = NULL;
    Value *h;
    if (mul_of(r1, x, a)) {
        /* (x * a) * 0.5 */
        Node *r2 = sole_reader(u, r1->result);
        if (r2 && with_const(r2, OP_MUL, 0.5f, &ch) == r1->result)
            last = r2;
    } else if (with_const(r1, OP_MUL, 0.5f, &ch) == a) {
        /* x * (a * 0.5) */
        Node *r2 = sole_reader(u, r1->result);
        if (r2 && mul_of(r2, x, r1->result))
            last = r2;
    } else {
        /* (x * 0.5) * a: the other operand of r1 is x * 0.5, read only here. */
        h = r1->operands[0] == a ? r1->operands[1] : r1->operands[0];
        if (h->kind == VAL_NODE && u->count[h->id] == 1 && with_const(h->def, OP_MUL, 0.5f, &ch) == x &&
            same_dims(&h->type, &x->type)) {
            last = r1;
            add_node(out, h->def);
        }
    }
    if (!last || !same_dims(&last->result->type, &x->type))
        return false;
    if (last != r1)
        add_node(out, last);
    out->ch.last = last;
    add_const(out, ch);
    return true;
}

static Node *build(Graph *g, Node *last, void *m)
{
    const GeluMatch *mt = m;
    Value *y = last->result;
    Node *ge = graph_add_node(g, OP_GELU, &mt->xn->operands[mt->xi], 1, y->name, y->type);
    if (mt->approximate == GELU_TANH)
        node_set_enum(g, ge, ATTR_APPROXIMATE, GELU_TANH);
    return ge;
}

bool fuse_gelu(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    fuse_chains(g, &(ChainFusion){.match_size = sizeof(GeluMatch), .match = match, .build = build});
    return true;
}
