/* fuse_requantize.c - fold every requantization into compile-time constants.
 *
 * requires:    a verified graph
 * guarantees:  every quantized conv2d, dense and matmul with a quantized
 *              result, every quantized add, sub and mul, and every
 *              requantize carries `qmin`/`qmax` (its output clamp in the
 *              quantized domain) and, where its rounding mode has one,
 *              `multiplier`/`shift`, equal to what its scales imply
 *              (ir/requant.h; docs/ir-semantics.md, "Folded
 *              requantization").  Code generation then runs only the
 *              equivalent of TFLite Micro's Eval, never its Prepare.
 * preserves:   every type and every value, bit for bit: the attributes
 *              are a cache the verifier checks against the types, and the
 *              interpreter computes the same integers with or without them.
 * invalidates: nothing.
 *
 * Not done: fusing a standalone requantize into its producer.  Composing
 * the producer's rounding with the requantize's rounding is one rounding
 * only when the producer's result is the exact int32 accumulator (the
 * ConvInteger form), and the IR cannot write that pattern: a raw i32
 * accumulator carries no scale, and requantize needs a quantized input.
 * Between two quantized tensors the two roundings differ from one (for
 * example 0.6 -> 1 -> 0 at scale 2, but 0.6 / 2 -> 0.3 -> 0 only by luck),
 * so fusing would change results; see docs/passes.md.
 */
#include "passes.h"
#include "requant.h"

#include <string.h>

/* True when N is one of the ops whose quantized form requantizes and it is
 * in that form (not float, not a raw i32 accumulator). */
static bool requantizes(const Node *n)
{
    const TensorType *y = &n->result->type;
    switch (n->op) {
    case OP_CONV2D:
    case OP_DENSE:
    case OP_MATMUL:
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_REQUANTIZE:
        return y->dtype != DT_F32 && y->quant != NULL;
    default:
        return false;
    }
}

bool fuse_requantize(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    bool ok = true;
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        if (!requantizes(n))
            continue;
        Requant r;
        char why[256];
        if (!requant_implied(n, &r, why, sizeof why)) {
            diag_error(n->loc, "node '%%%s' (%s): cannot fold its requantization: %s", n->result->name,
                       op_info[n->op].name, why);
            ok = false;
            continue;
        }
        if (r.count > 0) {
            node_set_ints(g, n, ATTR_MULTIPLIER, r.mult, r.count);
            node_set_ints(g, n, ATTR_SHIFT, r.shift, r.count);
        }
        node_set_int(g, n, ATTR_QMIN, r.qmin);
        node_set_int(g, n, ATTR_QMAX, r.qmax);
        requant_free(&r);
    }
    return ok;
}
