/* onnx_norm.c - normalizations: BatchNormalization, Softmax and
 * LayerNormalization.
 */
#include "onnx_internal.h"

#include <math.h>

/* BatchNormalization (inference): y = scale * (x - mean) / sqrt(var + eps)
 * + B over channel axis 1, which is the IR batchnorm's last axis once the
 * input is NHWC. */
bool import_batchnorm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float(imp, x))
        return false;
    if (imp->opset < 7 && onnx_attr_int(n, "is_test", 0) == 0) {
        onnx_node_error(imp, "training mode (is_test=0, the default before opset 7) is not supported");
        return false;
    }
    if (onnx_attr_int(n, "training_mode", 0) != 0 || (n->n_output > 1 && n->output[1] && *n->output[1])) {
        onnx_node_error(imp, "training mode (running mean/variance outputs) is not supported");
        return false;
    }
    if (x->rank < 2 || x->rank > 4) {
        onnx_node_error(imp, "input rank %d is not supported (2, 3 or 4)", x->rank);
        return false;
    }
    Value *ops[5];
    for (int i = 1; i < 5; i++) {
        OTensor *p = onnx_in(imp, n, (size_t)i);
        if (!p || p->rank != 1 || p->dims[0] != x->dims[1] || !onnx_need_float(imp, p)) {
            onnx_node_error(imp, "scale, B, mean and var must be float tensors of shape [%lld]", (long long)x->dims[1]);
            return false;
        }
        if (!(ops[i] = onnx_val(imp, p)))
            return false;
    }
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
    if (!out)
        return false;
    OTensor *x4 = x->rank == 3 ? onnx_lift3(imp, x) : x;
    if (!x4)
        return false;
    bool four = x4->rank == 4;
    ops[0] = four ? onnx_val_nhwc(imp, x4) : onnx_val(imp, x4);
    if (!ops[0])
        return false;
    Node *nd = onnx_emit(imp, OP_BATCHNORM, ops, 5, onnx_name(imp, out->name, x->rank == 3 ? ".nhwc" : NULL),
                    ops[0]->type);
    node_set_float(imp->g, nd, ATTR_EPSILON, onnx_attr_float(n, "epsilon", 1e-5f));
    if (x->rank == 3) {
        OTensor *o4 = onnx_temp(imp, out->name, OT_FLOAT, 4, x4->dims);
        o4->vt = nd->result;
        return onnx_lower3(imp, o4, out);
    }
    onnx_set(out, nd->result, four);
    return true;
}

/* Softmax-13 normalizes along one axis; Softmax-1/11 flattens to 2-D at
 * axis (default 1) and normalizes each row. */
bool import_softmax(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float(imp, x))
        return false;
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", imp->opset < 13 ? 1 : -1), x->rank, &ax))
        return false;
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
    if (!out)
        return false;
    if (imp->opset >= 13 || ax == x->rank - 1) {
        bool nhwc;
        Value *v = onnx_any_val(imp, x, &nhwc);
        if (!v)
            return false;
        Node *nd = onnx_emit_r(imp, OP_SOFTMAX, &v, 1, onnx_name(imp, out->name, NULL), v->type);
        node_set_int(imp->g, nd, ATTR_AXIS, nhwc ? onnx_nhwc_pos[ax] : ax);
        return onnx_finish(imp, out, nd->result, nhwc);
    }
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    int64_t d2[2];
    onnx_shape_flatten(imp, x->dims, x->rank, ax, d2);
    v = onnx_emit_reshape(imp, v, 2, d2, onnx_name(imp, out->name, ".2d"));
    Node *nd = onnx_emit_r(imp, OP_SOFTMAX, &v, 1, onnx_name(imp, out->name, ".sm"), v->type);
    node_set_int(imp->g, nd, ATTR_AXIS, 1);
    Value *y = onnx_emit_reshape(imp, nd->result, x->rank, x->dims, onnx_name(imp, out->name, NULL));
    return onnx_finish(imp, out, y, false);
}

/* LayerNormalization (opset 17): Y only (the Mean and InvStdDev outputs
 * are training outputs), float computation (stash_type 1); Scale and B
 * broadcast to X.shape[axis:] -- reshaped to it when they hold as many
 * elements. */
bool import_layer_norm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *s = onnx_in(imp, n, 1), *b = onnx_in(imp, n, 2);
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, s) || (b && !onnx_need_float(imp, b)))
        return false;
    if (n->n_output > 1 && (n->output[1][0] || (n->n_output > 2 && n->output[2][0]))) {
        onnx_node_error(imp, "the Mean and InvStdDev outputs are not supported");
        return false;
    }
    if (onnx_attr_int(n, "stash_type", 1) != 1) {
        onnx_node_error(imp, "stash_type %lld is not supported (only 1: float)", (long long)onnx_attr_int(n, "stash_type", 1));
        return false;
    }
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", -1), x->rank, &ax))
        return false;
    /* The IR's layer_norm requires what the ONNX spec implies: a variance
     * plus epsilon that is never negative (docs/ir-semantics.md). */
    float eps = onnx_attr_float(n, "epsilon", 1e-5f);
    if (!isfinite(eps) || eps < 0) {
        onnx_node_error(imp, "epsilon must be finite and non-negative, got %g", (double)eps);
        return false;
    }
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
    if (!out)
        return false;
    int64_t len = 1;
    for (int d = ax; d < x->rank; d++)
        len *= x->dims[d];
    Value *ops[3] = {onnx_val(imp, x), NULL, NULL};
    OTensor *p[2] = {s, b};
    for (int i = 0; i < 2 && p[i]; i++) {
        int64_t cnt = 1;
        for (int d = 0; d < p[i]->rank; d++)
            cnt *= p[i]->dims[d];
        if (cnt != len) {
            onnx_node_error(imp, "%s '%s' must hold the %lld elements of the normalized dims", i ? "B" : "Scale",
                       p[i]->name, (long long)len);
            return false;
        }
        if (!(ops[1 + i] = onnx_val(imp, p[i])))
            return false;
        if (p[i]->rank != x->rank - ax)
            ops[1 + i] = onnx_emit_reshape(imp, ops[1 + i], x->rank - ax, x->dims + ax, onnx_name(imp, p[i]->name, ".ln"));
    }
    if (!ops[0])
        return false;
    Node *nd = onnx_emit_r(imp, OP_LAYER_NORM, ops, b ? 3 : 2, onnx_name(imp, out->name, NULL), ops[0]->type);
    node_set_int(imp->g, nd, ATTR_AXIS, ax);
    node_set_float(imp->g, nd, ATTR_EPSILON, eps);
    return onnx_finish(imp, out, nd->result, false);
}
