/* fold_pad.c - fold a quantized pad of zeros into the conv2d that reads it.
 *
 * requires: nodes in topological order; a verified graph
 * guarantees: a pad whose result only one conv2d reads, as its input
 *   (operand 0), and which is not a graph output, is bypassed: the conv
 *   reads the pad's input and its own pads grow by the pad's (top, left,
 *   bottom, right), so its output shape is unchanged.  Only when that is
 *   bit-identical to the unfolded graph:
 *   - a quantized per-tensor input (conv2d's activations are): the pad
 *     fills with sat(rne(value / s) + z) and conv2d's padding holds real
 *     0, i.e. z (docs/ir-semantics.md, "pad", "conv2d"), so `value` must
 *     be 0; float graphs are left alone (a skipped tap and a tap of +0
 *     times w are not the same float sum in every case);
 *   - rank 4 (NHWC), padding only along H and W, no negative (cropping)
 *     entry.
 *   The pad node is left without readers for dce.  TensorFlow exports
 *   stride-2 convs with SAME padding as an explicit Pad then a VALID conv
 *   (M-LSD's depthwise blocks: pads [0, 0, 1, 1]); folded, the kernels'
 *   border handling pads instead of a copy of the whole tensor.
 * invalidates: nothing (no node or value is added or removed)
 */
#include "passes.h"

#include <stdlib.h>

static bool foldable(const Node *p, int64_t *hw)
{
    const Value *x = p->operands[0];
    const Quant *q = x->type.quant;
    if (x->type.rank != 4 || !q || q->count != 1 || node_float(p, ATTR_VALUE, 0.0f) != 0.0f)
        return false;
    static const int64_t none[8] = {-1, -1, -1, -1, -1, -1, -1, -1}; /* absent: not folded */
    int64_t pd[8];
    if (node_ints(p, ATTR_PADS, pd, 8, none) != 8)
        return false;
    for (int i = 0; i < 8; i++)
        if (pd[i] < 0 || ((i % 4 == 0 || i % 4 == 3) && pd[i] != 0))
            return false;
    hw[0] = pd[1], hw[1] = pd[2], hw[2] = pd[5], hw[3] = pd[6]; /* top, left, bottom, right */
    return p->result->type.quant && p->result->type.quant->count == 1 &&
           p->result->type.quant->scale[0] == q->scale[0] && p->result->type.quant->zero_point[0] == q->zero_point[0] &&
           p->result->type.dtype == x->type.dtype;
}

bool fold_pad(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    int *uses = graph_use_counts(g);
    for (int i = 0; i < g->nodes.len; i++) {
        Node *c = g->nodes.data[i];
        if (c->op != OP_CONV2D)
            continue;
        Value *pv = c->operands[0];
        int64_t hw[4];
        if (pv->kind != VAL_NODE || pv->def->op != OP_PAD || uses[pv->id] != 1 || !foldable(pv->def, hw))
            continue;
        static const int64_t zero4[4] = {0, 0, 0, 0};
        int64_t cp[4];
        node_ints(c, ATTR_PADS, cp, 4, zero4);
        for (int k = 0; k < 4; k++)
            cp[k] += hw[k];
        node_set_ints(g, c, ATTR_PADS, cp, 4);
        c->operands[0] = pv->def->operands[0];
        uses[pv->id] = 0;
    }
    free(uses);
    return true;
}
