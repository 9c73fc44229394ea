/* equalize.c - cross-layer equalization (Nagel, van Baalen, Blankevoort
 * and Welling, "Data-Free Quantization Through Weight Equalization and
 * Bias Correction", ICCV 2019, section 4.1).
 *
 * requires: nodes in topological order; float graph, before calibrate
 *           (ReLU fused into its producer's clamp by fuse-activation)
 * guarantees: for every pair conv2d/dense A -> conv2d/dense B in which B
 *   reads A's result as its input and is its only reader, A's result is
 *   not a graph output and has no range yet, A's clamp is none or ReLU's
 *   (act_min 0, no act_max), and both have constant f32 weights (and bias):
 *   A's output channel c is divided by s_c and B's input channel c
 *   multiplied by s_c, with s_c = sqrt(r1_c / r2_c), r1_c = max |A's
 *   weights of output channel c| and r2_c = max |B's weights reading input
 *   channel c|, so that both become sqrt(r1_c r2_c).  Chains (A -> B -> C)
 *   are swept up to EQ_SWEEPS times, each pair in graph order, as the paper
 *   iterates.  B's output is unchanged in exact arithmetic: ReLU commutes
 *   with a positive scale (relu(x / s) = relu(x) / s), and zero padding
 *   stays zero.  New weights and biases are named W.eq and B.eq (W.bias.eq
 *   for a bias A did not have); constants
 *   nothing reads any more are removed.
 * invalidates: value and node ids (renumbered densely)
 *
 * Left alone: ReLU6 and other clamps (clip(x / s, 0, 6) is not
 * clip(x, 0, 6) / s unless the bound is scaled per channel, which a
 * per-tensor act_max cannot express; the paper replaces ReLU6 by ReLU,
 * which changes the float model), and activations that are not positively
 * homogeneous (hard_swish, sigmoid).  A depthwise B (group = channels)
 * has one weight filter per input channel, so r2_c is that filter's range;
 * a depthwise A has one filter per output channel, so depthwise-separable
 * pairs (depthwise -> 1x1, 1x1 -> depthwise) are both covered.
 *
 * Scales are computed in double and each new weight is rounded to float
 * once, so the float model changes by float rounding only (about 1e-7
 * relative; test/passes/equalize-numeric.test checks 1e-6 against the
 * interpreter).
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EQ_SWEEPS 4
/* Scales outside this band leave a channel's weights near the float
 * subnormals (or a dead channel's range at 0): such channels are left. */
#define EQ_MAX_SCALE 65536.0

/* A conv2d or dense as equalization sees it: weights with the output
 * channel first, OUT x PER floats, working copies until the end. */
typedef struct Layer {
    Node *n;
    float *w, *b;        /* NULL until first touched */
    int64_t out, per;
    int64_t in, group;   /* input channels, groups (1 for dense) */
    int64_t kernel;      /* KH * KW (1 for dense) */
    bool changed;        /* weights rescaled */
    bool bias_changed;   /* bias rescaled (as the first of a pair) */
} Layer;

static bool const_f32(const Value *v)
{
    return v->kind == VAL_CONST && v->type.dtype == DT_F32;
}

static bool eligible(const Node *n)
{
    if ((n->op != OP_CONV2D && n->op != OP_DENSE) || n->result->type.dtype != DT_F32 ||
        n->operands[0]->type.dtype != DT_F32 || !const_f32(n->operands[1]))
        return false;
    return n->num_operands < 3 || const_f32(n->operands[2]);
}

static void layer_init(Layer *l, Node *n)
{
    const TensorType *wt = &n->operands[1]->type;
    l->n = n;
    l->out = wt->dims[0];
    l->per = type_numel(wt) / l->out;
    if (n->op == OP_CONV2D) {
        l->group = node_int(n, ATTR_GROUP, 1);
        l->kernel = wt->dims[1] * wt->dims[2];
        l->in = wt->dims[3] * l->group;
    } else {
        l->group = 1;
        l->kernel = 1;
        l->in = wt->dims[1];
    }
}

static void layer_touch(Layer *l)
{
    if (l->w)
        return;
    size_t nw = (size_t)(l->out * l->per);
    l->w = xmalloc(nw * sizeof *l->w);
    memcpy(l->w, l->n->operands[1]->data, nw * sizeof *l->w);
    l->b = xcalloc((size_t)l->out, sizeof *l->b);
    if (l->n->num_operands > 2)
        memcpy(l->b, l->n->operands[2]->data, (size_t)l->out * sizeof *l->b);
}

/* Calls F on every weight index of L that reads input channel C.  OHWI
 * [O,KH,KW,C/group]: output channel o is in group o / (O / group) and reads
 * input channels group * (C / group) + j; dense [M,K] is the 1x1 case. */
#define FOR_INPUT_CHANNEL(l, c, idx, BODY)                                           \
    do {                                                                             \
        int64_t cg_ = (l)->in / (l)->group, og_ = (l)->out / (l)->group;             \
        int64_t g_ = (c) / cg_, j_ = (c) % cg_;                                      \
        for (int64_t o_ = g_ * og_; o_ < (g_ + 1) * og_; o_++)                       \
            for (int64_t k_ = 0; k_ < (l)->kernel; k_++) {                           \
                int64_t idx = o_ * (l)->per + k_ * cg_ + j_;                         \
                BODY;                                                                \
            }                                                                        \
    } while (0)

/* One equalization step on the pair A -> B; true if a scale moved. */
static bool equalize_pair(Layer *a, Layer *b)
{
    layer_touch(a);
    layer_touch(b);
    bool moved = false;
    for (int64_t c = 0; c < a->out; c++) {
        double r1 = 0, r2 = 0;
        for (int64_t i = 0; i < a->per; i++)
            r1 = fmax(r1, fabs(a->w[c * a->per + i]));
        FOR_INPUT_CHANNEL(b, c, i, r2 = fmax(r2, fabs(b->w[i])));
        if (!(r1 > 0) || !(r2 > 0) || !isfinite(r1) || !isfinite(r2))
            continue;
        double s = sqrt(r1 / r2);
        if (s > EQ_MAX_SCALE || s < 1 / EQ_MAX_SCALE || fabs(s - 1) < 1e-6)
            continue;
        for (int64_t i = 0; i < a->per; i++)
            a->w[c * a->per + i] = (float)(a->w[c * a->per + i] / s);
        a->b[c] = (float)(a->b[c] / s);
        FOR_INPUT_CHANNEL(b, c, i, b->w[i] = (float)(b->w[i] * s));
        moved = true;
    }
    a->changed |= moved;
    a->bias_changed |= moved;
    b->changed |= moved;
    return moved;
}

/* Whether A's result can be rescaled per channel on its way into B. */
static bool pairable(const Node *a, const Node *b)
{
    if (!b || !eligible(a) || !eligible(b) || b->operands[0] != a->result)
        return false;
    if (a->result->has_range)
        return false; /* calibrated for the unscaled channels */
    float lo = node_float(a, ATTR_ACT_MIN, -INFINITY), hi = node_float(a, ATTR_ACT_MAX, INFINITY);
    if (hi != INFINITY || (lo != -INFINITY && lo != 0))
        return false;
    /* Channel counts agree by the verifier's shape rules; check anyway. */
    const TensorType *wa = &a->operands[1]->type, *wb = &b->operands[1]->type;
    int64_t bin = b->op == OP_CONV2D ? wb->dims[3] * node_int(b, ATTR_GROUP, 1) : wb->dims[1];
    return wa->dims[0] == bin && a->result->type.dims[a->result->type.rank - 1] == bin;
}

static void install(Rewrite *rw, Layer *l)
{
    Graph *g = rw->g;
    Node *n = l->n;
    Value *w = n->operands[1], *b = n->num_operands > 2 ? n->operands[2] : NULL;
    TensorType bt = {.dtype = DT_F32, .rank = 1, .dims = {l->out}};
    Value *w2 = graph_add_const(g, rewrite_unique_name(g, w->name, ".eq"), w->type, l->w);
    Value *b2 = b;
    if (l->bias_changed)
        b2 = graph_add_const(g, b ? rewrite_unique_name(g, b->name, ".eq")
                                  : rewrite_unique_name(g, w->name, ".bias.eq"), bt, l->b);
    Value **ops = arena_alloc(&g->arena, 3 * sizeof *ops);
    ops[0] = n->operands[0];
    ops[1] = w2;
    ops[2] = b2;
    n->operands = ops;
    n->num_operands = b2 ? 3 : 2;
    rewrite_kill_if_unused(rw, w);
    if (b && b2 != b)
        rewrite_kill_if_unused(rw, b);
}

bool equalize(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    GraphUses u = graph_uses(g);
    int nn = g->nodes.len;
    Layer *layers = xcalloc((size_t)nn + 1, sizeof *layers);
    int *pair_a = xmalloc(((size_t)nn + 1) * sizeof *pair_a), *pair_b = xmalloc(((size_t)nn + 1) * sizeof *pair_b);
    int np = 0;
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.data[i];
        if (eligible(n))
            layer_init(&layers[i], n);
    }
    for (int i = 0; i < nn; i++) {
        Node *a = g->nodes.data[i];
        Node *b = sole_reader(&u, a->result);
        if (!pairable(a, b))
            continue;
        int j = 0;
        while (g->nodes.data[j] != b)
            j++;
        pair_a[np] = i;
        pair_b[np] = j;
        np++;
    }
    for (int sweep = 0; sweep < EQ_SWEEPS; sweep++) {
        bool moved = false;
        for (int p = 0; p < np; p++)
            moved |= equalize_pair(&layers[pair_a[p]], &layers[pair_b[p]]);
        if (!moved)
            break;
    }
    graph_uses_free(&u);

    Rewrite rw;
    rewrite_begin(&rw, g);
    for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
        Node *n = rw.old[rw.pos];
        rewrite_keep(&rw, n);
        if (layers[rw.pos].changed)
            install(&rw, &layers[rw.pos]);
    }
    rewrite_finish(&rw);
    for (int i = 0; i < nn; i++) {
        free(layers[i].w);
        free(layers[i].b);
    }
    free(layers);
    free(pair_a);
    free(pair_b);
    return true;
}
