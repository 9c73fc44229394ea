/* onnx_elementwise.c - elementwise ops: arithmetic and activations.
 *
 * Add, Sub, Mul, Div (numpy broadcasting), Relu, LeakyRelu, Sigmoid, Tanh,
 * HardSwish, Clip and HardSigmoid.  They work in whichever layout their
 * input has (onnx_any_val), remapping nothing: the op is the same in NCHW
 * and NHWC.  Numeric rules cite the ONNX operator specification
 * (https://onnx.ai/onnx/operators/) next to the code.
 */
#include "onnx_internal.h"

#include <string.h>

/* Add, Sub, Mul, Div with numpy broadcasting (ONNX "multidirectional
 * broadcasting"), float: the IR's add, sub, mul and div.  (Quantized
 * arithmetic comes from QDQ models; raw integer arithmetic is not
 * supported.) */
bool import_binary(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *y = onnx_in(imp, n, 1);
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, y) || !onnx_legacy_broadcast_ok(imp, n, x, y))
        return false;
    char op = n->op_type[0];
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, x, y, od, &r))
        return false;
    if (x->type != y->type) {
        onnx_node_error(imp, "operands have different element types %s and %s", onnx_type_name(x->type),
                   onnx_type_name(y->type));
        return false;
    }
    bool nhwc = r == 4 && (onnx_is_nhwc(x) || onnx_is_nhwc(y));
    Value *a = onnx_bcast_operand(imp, x, r, nhwc), *b = onnx_bcast_operand(imp, y, r, nhwc);
    if (!a || !b)
        return false;
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, r, od);
    if (!out)
        return false;
    TensorType t = onnx_tt(DT_F32, r, od, NULL);
    if (nhwc)
        for (int i = 0; i < 4; i++)
            t.dims[i] = od[onnx_perm_to_nhwc[i]];
    Value *ops[2] = {a, b};
    OpId id = op == 'A' ? OP_ADD : op == 'S' ? OP_SUB : op == 'M' ? OP_MUL : OP_DIV;
    return onnx_finish(imp, out, onnx_emit_r(imp, id, ops, 2, onnx_name(imp, out->name, NULL), t)->result, nhwc);
}

/* Relu, LeakyRelu, Sigmoid, Tanh, HardSwish: same shape, any layout. */
bool import_unary(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const char *op = n->op_type;
    if (!(strcmp(op, "Relu") ? onnx_need_float(imp, x) : onnx_need_float_or_q(imp, x)))
        return false;
    OpId id = !strcmp(op, "Relu") ? OP_RELU : !strcmp(op, "LeakyRelu") ? OP_LEAKY_RELU
            : !strcmp(op, "Sigmoid") ? OP_SIGMOID : !strcmp(op, "Tanh") ? OP_TANH : OP_HARD_SWISH;
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Node *nd = onnx_emit_r(imp, id, &v, 1, onnx_name(imp, out->name, NULL), v->type);
    if (id == OP_LEAKY_RELU)
        node_set_float(imp->g, nd, ATTR_ALPHA, onnx_attr_float(n, "alpha", 0.01f)); /* LeakyRelu: alpha 0.01 */
    if (!imp->fq)
        out->quant = x->quant;
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* A scalar bound of Clip-11+: an optional constant input. */
static bool clip_bound(Imp *imp, const Onnx__NodeProto *n, size_t i, bool *has, float *v)
{
    OTensor *t = onnx_in(imp, n, i);
    *has = false;
    if (!t)
        return true;
    if (!t->c || t->c->numel != 1) {
        onnx_node_error(imp, "the %s input '%s' must be a constant scalar", i == 1 ? "min" : "max", t->name);
        return false;
    }
    *has = true;
    *v = (float)ctensor_f(t->c, 0);
    return true;
}

/* Clip-6 has min/max attributes, Clip-11 optional inputs; absent bounds are
 * open (Clip-6's defaults are -/+FLT_MAX, which clamp no float). */
bool import_clip(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float_or_q(imp, x))
        return false;
    bool hmin, hmax;
    float lo = 0, hi = 0;
    if (imp->opset < 11) {
        hmin = onnx_attr(n, "min") != NULL, hmax = onnx_attr(n, "max") != NULL;
        lo = onnx_attr_float(n, "min", 0), hi = onnx_attr_float(n, "max", 0);
    } else if (!clip_bound(imp, n, 1, &hmin, &lo) || !clip_bound(imp, n, 2, &hmax, &hi)) {
        return false;
    }
    if (hmin && hmax && lo > hi) {
        onnx_node_error(imp, "min %g is greater than max %g", (double)lo, (double)hi);
        return false;
    }
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Node *nd = onnx_emit_r(imp, OP_CLIP, &v, 1, onnx_name(imp, out->name, NULL), v->type);
    if (hmin)
        node_set_float(imp->g, nd, ATTR_MIN, lo);
    if (hmax)
        node_set_float(imp->g, nd, ATTR_MAX, hi);
    if (!imp->fq)
        out->quant = x->quant;
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* HardSigmoid: y = max(0, min(1, alpha * x + beta)), alpha 0.2, beta 0.5. */
bool import_hard_sigmoid(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float(imp, x))
        return false;
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Value *ops[2] = {v, onnx_scalar_f32(imp, out->name, ".alpha", onnx_attr_float(n, "alpha", 0.2f))};
    Value *m = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, out->name, ".mul"), v->type)->result;
    ops[0] = m;
    ops[1] = onnx_scalar_f32(imp, out->name, ".beta", onnx_attr_float(n, "beta", 0.5f));
    Value *a = onnx_emit(imp, OP_ADD, ops, 2, onnx_name(imp, out->name, ".add"), v->type)->result;
    Node *c = onnx_emit(imp, OP_CLIP, &a, 1, onnx_name(imp, out->name, NULL), v->type);
    node_set_float(imp->g, c, ATTR_MIN, 0.0f);
    node_set_float(imp->g, c, ATTR_MAX, 1.0f);
    return onnx_finish(imp, out, c->result, nhwc);
}
