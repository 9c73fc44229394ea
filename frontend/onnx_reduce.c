/* onnx_reduce.c - reductions: ReduceMean, ReduceSum, ReduceMax, ReduceMin.
 */
#include "onnx_internal.h"

#include <string.h>

/* ReduceMean/Sum/Max/Min: axes as an attribute (ReduceSum before opset 13,
 * the others before 18) or a constant input; keepdims (default 1); no
 * axes reduces everything unless noop_with_empty_axes=1.  Emitted in ONNX
 * layout with canonical (sorted, non-negative) axes. */
bool import_reduce(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float_or_q(imp, x))
        return false;
    const char *op = n->op_type;
    int64_t axes[QNN_MAX_RANK + 1];
    int na = -1;
    int moved = strcmp(op, "ReduceSum") ? 18 : 13; /* the opset where axes became an input */
    if (imp->opset < moved) {
        na = onnx_attr_ints(n, "axes", axes, QNN_MAX_RANK + 1);
    } else if (onnx_attr(n, "axes")) {
        /* Not in the schema any more: reading it as absent would reduce
         * every axis. */
        onnx_node_error(imp, "the axes attribute is an input from opset %d on", moved);
        return false;
    } else {
        OTensor *a = onnx_in(imp, n, 1);
        if (a && !a->c) {
            onnx_node_error(imp, "the axes input '%s' must be a constant (initializer)", a->name);
            return false;
        }
        if (a) {
            if (a->c->numel > QNN_MAX_RANK || onnx_type_is_float(a->c->type)) {
                onnx_node_error(imp, "the axes input must hold at most %d integers", QNN_MAX_RANK);
                return false;
            }
            for (int64_t i = 0; i < a->c->numel; i++)
                axes[i] = a->c->i[i];
            na = (int)a->c->numel;
        }
    }
    if (na > QNN_MAX_RANK) {
        onnx_node_error(imp, "too many axes");
        return false;
    }
    bool red[QNN_MAX_RANK] = {false}, keep = onnx_attr_int(n, "keepdims", 1) != 0;
    if (na <= 0 && !onnx_attr_int(n, "noop_with_empty_axes", 0)) {
        for (int d = 0; d < x->rank; d++)
            red[d] = true;
    }
    for (int i = 0; i < na; i++) {
        int ax;
        if (!onnx_norm_axis(imp, axes[i], x->rank, &ax))
            return false;
        if (red[ax]) {
            onnx_node_error(imp, "axis %lld appears twice", (long long)axes[i]);
            return false;
        }
        red[ax] = true;
    }
    int64_t od[QNN_MAX_RANK], canon[QNN_MAX_RANK];
    int r = 0, nc = 0;
    for (int d = 0; d < x->rank; d++) {
        if (red[d])
            canon[nc++] = d;
        if (!red[d] || keep)
            od[r++] = red[d] ? 1 : x->dims[d];
    }
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    OpId id = !strcmp(op, "ReduceMean") ? OP_REDUCE_MEAN : !strcmp(op, "ReduceSum") ? OP_REDUCE_SUM
              : !strcmp(op, "ReduceMax") ? OP_REDUCE_MAX : OP_REDUCE_MIN;
    Node *nd = onnx_emit_r(imp, id, &v, 1, onnx_name(imp, out->name, NULL), onnx_tt(v->type.dtype, r, od, v->type.quant));
    node_set_ints(imp->g, nd, ATTR_AXES, canon, nc);
    if (!keep)
        node_set_int(imp->g, nd, ATTR_KEEPDIMS, 0);
    return onnx_finish(imp, out, nd->result, false);
}
