/* onnx_pool.c - pooling: MaxPool, AveragePool, GlobalAveragePool.
 *
 * 1-D pools run as 2-D ones with a height-1 window (onnx_lift3); the
 * window arithmetic (kernel, strides, dilations, pads, auto_pad,
 * ceil_mode) is onnx_window's, shared with Conv.
 */
#include "onnx_internal.h"

/* MaxPool and AveragePool over 1 or 2 spatial dims. */
bool import_pool(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    bool is_max = n->op_type[0] == 'M';
    if (!(is_max ? onnx_need_float_or_q(imp, x) : onnx_need_float(imp, x)))
        return false;
    if (is_max && n->n_output > 1 && n->output[1] && *n->output[1]) {
        onnx_node_error(imp, "the Indices output of MaxPool is not supported");
        return false;
    }
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D pooling is supported (input has rank %d)", x->rank);
        return false;
    }
    int nsp = x->rank - 2;
    int64_t kernel[2];
    if (onnx_attr_ints(n, "kernel_shape", kernel, 2) != nsp) {
        onnx_node_error(imp, "kernel_shape must have %d entr%s", nsp, nsp == 1 ? "y" : "ies");
        return false;
    }
    OnnxWindow w;
    bool ceil_mode = onnx_attr_int(n, "ceil_mode", 0) != 0;
    if (!onnx_window(imp, n, nsp, x->dims + 2, kernel, ceil_mode, &w))
        return false;
    if (!is_max && onnx_attr(n, "dilations")) {
        int64_t d[2] = {1, 1};
        onnx_attr_ints(n, "dilations", d, 2);
        if (d[0] != 1 || (nsp == 2 && d[1] != 1)) {
            onnx_node_error(imp, "AveragePool dilations are not supported");
            return false;
        }
    }
    OTensor *x4 = nsp == 1 ? onnx_lift3(imp, x) : x;
    Value *v = x4 ? onnx_val_nhwc(imp, x4) : NULL;
    if (!v)
        return false;
    int64_t od[4] = {x->dims[0], x->dims[1], w.out[0], w.out[1]};
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    OTensor *o4 = nsp == 1 ? onnx_temp(imp, out->name, out->type, 4, od) : out;
    int64_t phys[4] = {od[0], od[2], od[3], od[1]};
    int64_t pads[4] = {w.pads[0], w.pads[1], w.pads[2] + w.extra[0], w.pads[3] + w.extra[1]};
    for (int i = 0; i < 4; i++) {
        /* A window entirely in the padding has no value (max of nothing,
         * average of nothing); the IR forbids such pads. */
        int64_t eff = w.d[i % 2] * (w.k[i % 2] - 1) + 1;
        if (pads[i] >= eff) {
            onnx_node_error(imp, "padding %lld is not smaller than the kernel extent %lld", (long long)pads[i],
                       (long long)eff);
            return false;
        }
    }
    bool include_pad = !is_max && onnx_attr_int(n, "count_include_pad", 0) != 0;
    if (include_pad && (w.extra[0] || w.extra[1])) {
        /* ONNX AveragePool with ceil_mode: the padding ceil_mode adds is
         * never counted, the explicit padding is (count_include_pad=1).
         * The IR counts all padding or none, so the explicit padding becomes
         * a real pad of zeros and only the ceil_mode part stays implicit. */
        int64_t pp[8] = {0, w.pads[0], w.pads[1], 0, 0, w.pads[2], w.pads[3], 0};
        TensorType pt = v->type;
        pt.dims[1] += w.pads[0] + w.pads[2];
        pt.dims[2] += w.pads[1] + w.pads[3];
        Node *pn = onnx_emit(imp, OP_PAD, &v, 1, onnx_name(imp, out->name, ".pad"), pt);
        node_set_ints(imp->g, pn, ATTR_PADS, pp, 8);
        v = pn->result;
        pads[0] = pads[1] = 0;
        pads[2] = w.extra[0];
        pads[3] = w.extra[1];
        include_pad = false;
    }
    Node *nd = onnx_emit_r(imp, is_max ? OP_MAX_POOL : OP_AVG_POOL, &v, 1,
                    onnx_name(imp, out->name, nsp == 1 ? ".nhwc" : NULL),
                    onnx_tt(v->type.dtype, 4, phys, v->type.quant));
    node_set_ints(imp->g, nd, ATTR_KERNEL, w.k, 2);
    onnx_set_window_attrs(imp, nd, &w, pads, is_max);
    if (include_pad)
        node_set_int(imp->g, nd, ATTR_COUNT_INCLUDE_PAD, 1);
    o4->vt = onnx_fix_q(imp, nd->result);
    return nsp == 1 ? onnx_lower3(imp, o4, out) : true;
}

bool import_global_avg_pool(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float(imp, x))
        return false;
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D pooling is supported (input has rank %d)", x->rank);
        return false;
    }
    OTensor *x4 = x->rank == 3 ? onnx_lift3(imp, x) : x;
    Value *v = x4 ? onnx_val_nhwc(imp, x4) : NULL;
    if (!v)
        return false;
    int64_t od[4] = {x->dims[0], x->dims[1], 1, 1};
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, od);
    if (!out)
        return false;
    OTensor *o4 = x->rank == 3 ? onnx_temp(imp, out->name, OT_FLOAT, 4, od) : out;
    int64_t phys[4] = {od[0], 1, 1, od[1]};
    o4->vt = onnx_emit_r(imp, OP_GLOBAL_AVG_POOL, &v, 1, onnx_name(imp, out->name, x->rank == 3 ? ".nhwc" : NULL),
                    onnx_tt(DT_F32, 4, phys, NULL))->result;
    return x->rank == 3 ? onnx_lower3(imp, o4, out) : true;
}
