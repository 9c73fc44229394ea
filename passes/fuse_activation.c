/* fuse_activation.c - fold relu and clip into the op that produces their input.
 *
 * requires: nodes in topological order; a verified graph; not yet
 *           fuse-requantize (its qmin/qmax cache the clamp this pass changes)
 * guarantees: a relu or clip whose input is the result of an op that takes
 *   act_min/act_max (ir/ops.def: conv2d, dense, add, sub, mul, div), read by
 *   nothing else and not a graph output, is removed; the producer's clamp
 *   becomes the intersection of its own and the activation's range (relu is
 *   [0, +inf), clip [min, max]) and its result takes over the activation's
 *   name, range annotation and readers.  The result is bit-identical to the
 *   unfused graph; a case where it would not be is skipped:
 *   - disjoint ranges (clamping twice gives a constant, one clamp cannot);
 *   - result types that differ (a quantized relu/clip keeps its input's
 *     quantization, OPF_SAME_QUANT, so in a valid graph they never do);
 *   - a raw int32 result (the accumulator form takes no clamp);
 *   - a quantized producer with rounding=tflite whose new bound / scale is
 *     exactly halfway between integers: clip quantizes its bounds rounding
 *     half to even, the producer's output stage half away from zero
 *     (docs/ir-semantics.md, "The requantizing output stage" and "relu,
 *     clip"), so the two would pick different integer bounds.
 *   leaky_relu and the other nonlinear activations are not clamps and are
 *   never fused.
 * invalidates: value and node ids (renumbered densely)
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>

static bool takes_clamp(OpId op)
{
    uint64_t need = (UINT64_C(1) << ATTR_ACT_MIN) | (UINT64_C(1) << ATTR_ACT_MAX);
    return (op_info[op].attrs & need) == need;
}

/* Whether bound A quantizes to the same integer in both rounding modes
 * for per-tensor scale S: the output stage divides in float32 as clip does
 * (docs/ir-semantics.md), so only an exact .5 quotient can differ. */
static bool same_in_both_roundings(float a, float s)
{
    if (isinf(a))
        return true;
    float v = a / s;
    return fabsf(v - truncf(v)) != 0.5f;
}

/* The sweep keeps its own use counts and forwards replaced values lazily
 * (each node's operands when it is visited, the outputs at the end), where
 * rewrite_count_uses and rewrite_replace_uses would scan the rest of the
 * graph for every activation: quadratic on a long chain. */
typedef struct Fuse {
    Rewrite rw;
    int *uses;   /* by value id: reads by nodes not dropped, and by outputs */
    Value **fwd; /* by value id: the value that took over its readers */
} Fuse;

static bool try_fuse(Fuse *f, Node *act)
{
    Value *x = act->operands[0], *y = act->result;
    if (x->kind != VAL_NODE || !takes_clamp(x->def->op))
        return false;
    Node *p = x->def;
    /* X must have no reader but ACT (which reads it once: relu and clip
     * have one operand). */
    if (f->uses[x->id] != 1 || !type_equal(&x->type, &y->type))
        return false;
    if (x->type.dtype != DT_F32 && !x->type.quant)
        return false;

    float amin = act->op == OP_RELU ? 0.0f : node_float(act, ATTR_MIN, -INFINITY);
    float amax = act->op == OP_RELU ? INFINITY : node_float(act, ATTR_MAX, INFINITY);
    float pmin = node_float(p, ATTR_ACT_MIN, -INFINITY), pmax = node_float(p, ATTR_ACT_MAX, INFINITY);
    /* Clamping to the producer's range and then to the activation's equals
     * one clamp to their intersection.  On a tie (0 and -0) the producer's
     * bound wins, as it does when the two clamps run in sequence. */
    float lo = amin > pmin ? amin : pmin, hi = amax < pmax ? amax : pmax;
    if (lo > hi)
        return false;
    if (x->type.quant && x->type.quant->count != 1)
        return false;
    /* The activation's bounds were quantized half to even; checking them
     * both, whichever wins the intersection, keeps the argument simple. */
    if (x->type.quant && node_int(p, ATTR_ROUNDING, ROUND_ONNX) == ROUND_TFLITE) {
        float s = x->type.quant->scale[0];
        if (!same_in_both_roundings(amin, s) || !same_in_both_roundings(amax, s))
            return false;
    }

    Graph *g = f->rw.g;
    if (lo != -INFINITY)
        node_set_float(g, p, ATTR_ACT_MIN, lo);
    if (hi != INFINITY)
        node_set_float(g, p, ATTR_ACT_MAX, hi);
    graph_rename_value(g, x, y->name);
    x->has_range = y->has_range;
    x->range_lo = y->range_lo;
    x->range_hi = y->range_hi;
    f->uses[x->id] = f->uses[y->id];
    f->fwd[y->id] = x;
    rewrite_kill(&f->rw, y);
    return true;
}

bool fuse_activation(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    Fuse f;
    f.uses = graph_use_counts(g);
    f.fwd = xcalloc((size_t)g->values.len + 1, sizeof *f.fwd);

    rewrite_begin(&f.rw, g);
    for (f.rw.pos = 0; f.rw.pos < f.rw.nold; f.rw.pos++) {
        Node *n = f.rw.old[f.rw.pos];
        /* A fused activation's readers come later in topological order. */
        for (int j = 0; j < n->num_operands; j++)
            while (f.fwd[n->operands[j]->id])
                n->operands[j] = f.fwd[n->operands[j]->id];
        if ((n->op != OP_RELU && n->op != OP_CLIP) || !try_fuse(&f, n))
            rewrite_keep(&f.rw, n);
    }
    for (int i = 0; i < g->outputs.len; i++)
        while (f.fwd[((Value *)g->outputs.data[i])->id])
            g->outputs.data[i] = f.fwd[((Value *)g->outputs.data[i])->id];
    free(f.uses);
    free(f.fwd);
    rewrite_finish(&f.rw);
    return true;
}
