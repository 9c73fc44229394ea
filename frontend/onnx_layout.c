/* onnx_layout.c - ops that move data: Concat, Flatten, Reshape, Squeeze,
 * Unsqueeze, Transpose, Pad, and the no-ops Identity and Dropout.
 *
 * Reshape-like ops depend on ONNX's element order, so they read their input
 * in ONNX layout (onnx_val); Concat, Transpose and Pad work in the layout
 * they are given, remapping axes.  When every input is known at import
 * time most of them are evaluated instead (onnx_shape.c).
 */
#include "onnx_internal.h"

#include <string.h>

bool import_concat(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x0 = onnx_in(imp, n, 0);
    if (!x0) {
        onnx_node_error(imp, "needs at least one input");
        return false;
    }
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x0->rank, &ax))
        return false;
    bool nhwc = false;
    int64_t od[QNN_MAX_RANK];
    memcpy(od, x0->dims, sizeof od);
    od[ax] = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        if (!t)
            continue;
        if (t->rank != x0->rank || t->type != x0->type) {
            onnx_node_error(imp, "inputs differ in rank or element type");
            return false;
        }
        for (int d = 0; d < t->rank; d++)
            if (d != ax && t->dims[d] != x0->dims[d]) {
                onnx_node_error(imp, "input shapes differ outside axis %d", ax);
                return false;
            }
        od[ax] += t->dims[ax];
        nhwc |= onnx_is_nhwc(t);
        cnt++;
    }
    Value **ops = arena_alloc(&imp->arena, cnt * sizeof *ops);
    const Quant *q = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        if (!t)
            continue;
        if (!(ops[k] = nhwc ? onnx_val_nhwc(imp, t) : onnx_val(imp, t)))
            return false;
        if (k && !imp->fq && !quant_equal(ops[k]->type.quant, q)) {
            onnx_node_error(imp, "inputs have different quantization parameters");
            return false;
        }
        q = ops[k++]->type.quant;
    }
    OTensor *out = onnx_define_out(imp, n, 0, x0->type, x0->rank, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x0->quant;
    TensorType t = ops[0]->type;
    t.dims[nhwc ? onnx_nhwc_pos[ax] : ax] = od[ax];
    Node *nd = onnx_emit_r(imp, OP_CONCAT, ops, (int)cnt, onnx_name(imp, out->name, NULL), t);
    node_set_int(imp->g, nd, ATTR_AXIS, nhwc ? onnx_nhwc_pos[ax] : ax);
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* Reshape-like ops keep ONNX's element order, so they read the tensor in
 * ONNX layout (an NHWC tensor is transposed back first). */
static bool reshape_to(Imp *imp, const Onnx__NodeProto *n, OTensor *x, int r, const int64_t *od)
{
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    return onnx_finish(imp, out, onnx_emit_reshape(imp, v, r, od, onnx_name(imp, out->name, NULL)), false);
}

bool import_flatten(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[2];
    return onnx_shape_flatten(imp, x->dims, x->rank, onnx_attr_int(n, "axis", 1), od) && reshape_to(imp, n, x, 2, od);
}

bool import_reshape(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *s = onnx_in(imp, n, 1);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (imp->opset < 5) {
        int64_t sh[QNN_MAX_RANK + 1];
        int k = onnx_attr_ints(n, "shape", sh, QNN_MAX_RANK + 1);
        if (k < 0 || k > QNN_MAX_RANK) {
            onnx_node_error(imp, "the 'shape' attribute is missing or too long");
            return false;
        }
        CTensor c = {.type = OT_INT64, .rank = 1, .dims = {k}, .numel = k, .i = sh};
        if (!onnx_shape_reshape(imp, x->dims, x->rank, &c, false, od, &r))
            return false;
    } else {
        if (!s || !s->c) {
            onnx_node_error(imp, "the target shape '%s' must be known at import time (a constant or a shape "
                            "computation on static shapes)", s ? s->name : "");
            return false;
        }
        if (!onnx_shape_reshape(imp, x->dims, x->rank, s->c, onnx_attr_int(n, "allowzero", 0) != 0, od, &r))
            return false;
    }
    return reshape_to(imp, n, x, r, od);
}

bool import_squeeze(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t axes[QNN_MAX_RANK + 1], od[QNN_MAX_RANK];
    int na, r;
    return onnx_axes(imp, n, axes, &na) && onnx_shape_squeeze(imp, x->dims, x->rank, axes, na, od, &r) &&
           reshape_to(imp, n, x, r, od);
}

bool import_unsqueeze(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t axes[QNN_MAX_RANK + 1], od[QNN_MAX_RANK];
    int na, r;
    return onnx_axes(imp, n, axes, &na) && onnx_shape_unsqueeze(imp, x->dims, x->rank, axes, na, od, &r) &&
           reshape_to(imp, n, x, r, od);
}

bool import_transpose(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t p[QNN_MAX_RANK + 1];
    int k = onnx_attr_ints(n, "perm", p, QNN_MAX_RANK + 1);
    if (k < 0) {
        k = x->rank;
        for (int i = 0; i < k; i++)
            p[i] = k - 1 - i; /* default: reverse the dimensions */
    }
    bool seen[QNN_MAX_RANK] = {false};
    if (k != x->rank) {
        onnx_node_error(imp, "perm has %d entries but the input has rank %d", k, x->rank);
        return false;
    }
    for (int i = 0; i < k; i++) {
        if (p[i] < 0 || p[i] >= k || seen[p[i]]) {
            onnx_node_error(imp, "perm is not a permutation");
            return false;
        }
        seen[p[i]] = true;
    }
    int64_t od[QNN_MAX_RANK] = {0};
    for (int i = 0; i < k; i++)
        od[i] = x->dims[p[i]];
    OTensor *out = onnx_define_out(imp, n, 0, x->type, k, od);
    if (!out)
        return false;
    bool nhwc = onnx_is_nhwc(x);
    int64_t q[QNN_MAX_RANK];
    bool ident = true;
    for (int i = 0; i < k; i++) {
        /* Logical dim j of an NHWC tensor is physical dim onnx_nhwc_pos[j]. */
        q[i] = nhwc ? onnx_nhwc_pos[p[i]] : p[i];
        ident &= q[i] == i;
    }
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    if (ident) {
        /* Typically Transpose(0,2,3,1) after a convolution: the NHWC value
         * already is the result. */
        out->v = onnx_fix_q(imp, v);
        return true;
    }
    return onnx_finish(imp, out, onnx_emit_transpose(imp, v, q, onnx_name(imp, out->name, NULL)), false);
}

/* Pad (constant mode): pads [x1_begin, x2_begin, ..., x1_end, x2_end] from
 * the attribute (opset < 11; 'paddings' in Pad-1) or input 1, the value
 * from the attribute or input 2. */
bool import_pad(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const char *mode = onnx_attr_str(imp, n, "mode", "constant");
    if (strcmp(mode, "constant") != 0) {
        onnx_node_error(imp, "pad mode '%s' is not supported (only 'constant')", mode);
        return false;
    }
    int64_t pads[2 * QNN_MAX_RANK + 1];
    int np;
    float value = 0.0f;
    if (imp->opset < 11) {
        np = onnx_attr_ints(n, "pads", pads, 2 * QNN_MAX_RANK + 1);
        if (np < 0)
            np = onnx_attr_ints(n, "paddings", pads, 2 * QNN_MAX_RANK + 1);
        value = onnx_attr_float(n, "value", 0.0f);
    } else {
        OTensor *p = onnx_in(imp, n, 1), *c = onnx_in(imp, n, 2);
        if (!p || !p->c || onnx_type_is_float(p->c->type) || p->c->numel > 2 * QNN_MAX_RANK) {
            onnx_node_error(imp, "the pads input must be an integer constant");
            return false;
        }
        np = (int)p->c->numel;
        for (int i = 0; i < np; i++)
            pads[i] = p->c->i[i];
        if (c) {
            if (!c->c || c->c->numel != 1) {
                onnx_node_error(imp, "the constant_value input must be a constant scalar");
                return false;
            }
            value = (float)ctensor_f(c->c, 0);
        }
    }
    if (np != 2 * x->rank) {
        onnx_node_error(imp, "pads has %d entries but must have 2 * rank = %d", np, 2 * x->rank);
        return false;
    }
    int64_t od[QNN_MAX_RANK] = {0};
    bool zero = true;
    for (int i = 0; i < x->rank; i++) {
        if (pads[i] < 0 || pads[i + x->rank] < 0) {
            onnx_node_error(imp, "negative pads (cropping) are not supported");
            return false;
        }
        if (pads[i] > INT32_MAX || pads[i + x->rank] > INT32_MAX) {
            onnx_node_error(imp, "pads are too large");
            return false;
        }
        od[i] = x->dims[i] + pads[i] + pads[i + x->rank];
        zero &= pads[i] == 0 && pads[i + x->rank] == 0;
    }
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, od);
    if (!out)
        return false;
    if (zero && !imp->fq) {
        onnx_alias(out, x);
        return true;
    }
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    if (!v)
        return false;
    int64_t pp[2 * QNN_MAX_RANK];
    TensorType t = v->type;
    for (int i = 0; i < x->rank; i++) {
        int j = nhwc ? (int)onnx_perm_to_nhwc[i] : i; /* physical i is logical j */
        pp[i] = pads[j];
        pp[i + x->rank] = pads[j + x->rank];
        t.dims[i] = od[j];
    }
    if (!imp->fq)
        out->quant = x->quant;
    Node *nd = onnx_emit(imp, OP_PAD, &v, 1, onnx_name(imp, out->name, NULL), t);
    node_set_ints(imp->g, nd, ATTR_PADS, pp, 2 * x->rank);
    if (value != 0.0f)
        node_set_float(imp->g, nd, ATTR_VALUE, value);
    return onnx_finish(imp, out, nd->result, nhwc);
}

bool import_identity(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_alias(out, x);
    return true;
}

/* Dropout at inference is the identity (ONNX Dropout: "if training_mode
 * is false ... the output Y is the input X").  The mask output and
 * training mode are not supported. */
bool import_dropout(Imp *imp, const Onnx__NodeProto *n)
{
    if (n->n_output > 1 && n->output[1] && *n->output[1]) {
        onnx_node_error(imp, "the mask output of Dropout is not supported");
        return false;
    }
    OTensor *tm = onnx_in(imp, n, 2);
    if (imp->opset < 7 && onnx_attr_int(n, "is_test", 0) == 0) {
        onnx_node_error(imp, "training mode (is_test=0, the default before opset 7) is not supported");
        return false;
    }
    if (tm && (!tm->c || ctensor_i(tm->c, 0) != 0)) {
        onnx_node_error(imp, "training mode is not supported");
        return false;
    }
    return import_identity(imp, n);
}
