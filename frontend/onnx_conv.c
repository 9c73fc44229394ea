/* onnx_conv.c - convolutions.
 *
 * Conv (1-D and 2-D, groups, dilations, auto_pad), imported as the IR's
 * NHWC conv2d with weights re-laid OIHW -> OHWI at import.  onnx_conv_core
 * is shared with QLinearConv and ConvInteger (onnx_quantized.c) and with
 * fused QDQ convolutions (onnx_qdq.c), which only differ in the result's
 * element type and quantization.
 */
#include "onnx_internal.h"

/* Conv: x[N,C,H,W] (or [N,C,L]), W[O,C/group,KH,KW], B[O]?.  Shared by
 * QLinearConv and ConvInteger: OTYPE/OQ give the result's element type and
 * quantization, ROUNDING whether the op requantizes (rounding=onnx). */
bool onnx_conv_core(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *wt, OTensor *b, int32_t otype,
                 const Quant *oq, bool rounding)
{
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D convolutions are supported (input has rank %d)", x->rank);
        return false;
    }
    if (wt->rank != x->rank) {
        onnx_node_error(imp, "weights have rank %d but the input has rank %d", wt->rank, x->rank);
        return false;
    }
    int nsp = x->rank - 2;
    int64_t group = onnx_attr_int(n, "group", 1);
    if (group < 1 || x->dims[1] % group || wt->dims[0] % group || wt->dims[1] * group != x->dims[1]) {
        onnx_node_error(imp, "weights [%lld,%lld,...] do not fit %lld input channels in %lld groups",
                   (long long)wt->dims[0], (long long)wt->dims[1], (long long)x->dims[1], (long long)group);
        return false;
    }
    if (b && (b->rank != 1 || b->dims[0] != wt->dims[0])) {
        onnx_node_error(imp, "bias must have shape [%lld]", (long long)wt->dims[0]);
        return false;
    }
    OnnxWindow w;
    if (!onnx_window(imp, n, nsp, x->dims + 2, wt->dims + 2, false, &w))
        return false;
    OTensor *x4 = nsp == 1 ? onnx_lift3(imp, x) : x, *w4 = nsp == 1 ? onnx_lift3(imp, wt) : wt;
    if (!x4 || !w4)
        return false;
    Value *ops[3] = {onnx_val_nhwc(imp, x4), onnx_val_nhwc(imp, w4), b ? onnx_val(imp, b) : NULL};
    if (!ops[0] || !ops[1] || (b && !ops[2]))
        return false;
    int64_t od[4] = {x->dims[0], wt->dims[0], w.out[0], w.out[1]};
    OTensor *out = onnx_define_out(imp, n, 0, otype, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!out)
        return false;
    out->quant = oq;
    DType dt;
    onnx_dtype(otype, &dt);
    int64_t phys[4] = {od[0], od[2], od[3], od[1]};
    OTensor *o4 = nsp == 1 ? onnx_temp(imp, out->name, otype, 4, od) : out;
    Node *nd = onnx_emit(imp, OP_CONV2D, ops, b ? 3 : 2, onnx_name(imp, out->name, nsp == 1 ? ".nhwc" : NULL),
                    onnx_tt(dt, 4, phys, oq));
    onnx_set_window_attrs(imp, nd, &w, w.pads, true);
    if (group != 1)
        node_set_int(imp->g, nd, ATTR_GROUP, group);
    if (rounding)
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    onnx_set_act(imp, nd);
    o4->vt = nd->result;
    return nsp == 1 ? onnx_lower3(imp, o4, out) : true;
}

bool import_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *wt = onnx_in(imp, n, 1), *b = onnx_in(imp, n, 2);
    if (!x || !wt) {
        onnx_node_error(imp, "needs an input and weights");
        return false;
    }
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, wt) || (b && !onnx_need_float(imp, b)))
        return false;
    return onnx_conv_core(imp, n, x, wt, b, OT_FLOAT, NULL, false);
}
