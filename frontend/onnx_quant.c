/* onnx_quant.c - pre-quantized ONNX models.
 *
 * ONNX keeps quantization parameters in separate tensors (scale, zero
 * point) passed to each op; the IR keeps them in the integer tensor's type.
 * quant_annotate() therefore runs before any IR value exists: it reads the
 * parameters of every QuantizeLinear, DequantizeLinear, QLinearConv,
 * QLinearMatMul, ConvInteger and MatMulInteger, and attaches them to the
 * graph inputs, initializers and constants those ops read, so the IR
 * values are created with the right quantized types.  Tensors produced by
 * a quantized op get the op's output parameters when it is converted.
 * Parameters must be constants: a compiler folds them into its kernels, so
 * a scale fed as a graph input is reported, not guessed.
 *
 * Arithmetic follows the ONNX operator spec:
 *   QuantizeLinear:   y = saturate(round_half_even(x / y_scale) + y_zero_point)
 *   DequantizeLinear: y = (x - x_zero_point) * x_scale
 *   QLinearConv/QLinearMatMul: the real-valued result requantized to
 *     (y_scale, y_zero_point), round half to even: the IR's rounding=onnx.
 *   ConvInteger/MatMulInteger: the exact int32 sum of (x - x_zp)(w - w_zp).
 * Per-axis parameters (a 1-D scale) apply along `axis` (Q/DQ, default 1),
 * along the output channels of QLinearConv's w, and along the columns of
 * QLinearMatMul's / MatMulInteger's b.
 */
#include "onnx_internal.h"

#include <stdlib.h>
#include <string.h>

/* Reads the (scale, zero point) pair at inputs SI/ZI of N (SI < 0: scale
 * 1, as ConvInteger/MatMulInteger have no scale).  AXIS is the quantized
 * axis if the parameters are 1-D with more than one entry.  *zt receives
 * the zero point's element type (UINT8 when absent, as the spec says). */
static bool read_qparams(Imp *imp, const Onnx__NodeProto *n, int si, int zi, int axis, int rank,
                         const Quant **out, int32_t *zt)
{
    OTensor *s = si >= 0 ? node_in(imp, n, (size_t)si) : NULL, *z = zi >= 0 ? node_in(imp, n, (size_t)zi) : NULL;
    if (si >= 0 && !s) {
        node_error(imp, "the scale input is missing");
        return false;
    }
    OTensor *ts[2] = {s, z};
    for (int i = 0; i < 2; i++) {
        OTensor *t = ts[i];
        if (t && !t->c) {
            bool is_input = false;
            for (size_t k = 0; k < imp->model->graph->n_input; k++)
                is_input |= !strcmp(imp->model->graph->input[k]->name, t->name);
            node_error(imp, "quantization parameter '%s' is %s; qnnc needs scales and zero points as constants "
                            "(initializers)", t->name, is_input ? "a graph input" : "computed at run time");
            return false;
        }
    }
    int64_t cnt = s ? s->c->numel : z ? z->c->numel : 1;
    if (cnt < 1 || (z && z->c->numel != cnt) || (s && s->rank > 1) || (z && z->rank > 1)) {
        node_error(imp, "scale and zero point must be scalars or 1-D tensors of equal length");
        return false;
    }
    *zt = z ? z->c->type : OT_UINT8;
    DType dt;
    if (!onnx_dtype(*zt, &dt) || !dtype_traits[dt].is_int) {
        node_error(imp, "zero point type %s is not supported", onnx_type_name(*zt));
        return false;
    }
    float *sc = xmalloc((size_t)cnt * sizeof *sc);
    int32_t *zp = xmalloc((size_t)cnt * sizeof *zp);
    for (int64_t i = 0; i < cnt; i++) {
        sc[i] = s ? (float)ct_f(s->c, i) : 1.0f;
        zp[i] = z ? (int32_t)ct_i(z->c, i) : 0;
    }
    int ax = -1;
    if (cnt > 1) {
        if (axis < 0 || axis >= rank) {
            node_error(imp, "per-axis quantization axis %d is out of range for rank %d", axis, rank);
            free(sc);
            free(zp);
            return false;
        }
        ax = axis;
    }
    *out = quant_new(&imp->arena, ax, (int)cnt, sc, zp);
    free(sc);
    free(zp);
    return true;
}

/* Attaches Q to tensor T (a graph input, initializer or constant) or checks
 * that a tensor already carrying parameters agrees. */
static bool annotate(Imp *imp, OTensor *t, const Quant *q)
{
    if (!t)
        return true;
    if (onnx_type_is_float(t->type)) {
        node_error(imp, "tensor '%s' is %s where an integer tensor is expected", t->name, onnx_type_name(t->type));
        return false;
    }
    if (t->quant && !quant_equal(t->quant, q)) {
        node_error(imp, "tensor '%s' is used with different quantization parameters by different nodes",
                   t->name);
        return false;
    }
    t->quant = q;
    return true;
}

static int norm_q_axis(Imp *imp, const Onnx__NodeProto *n, int rank)
{
    int64_t a = attr_int(n, "axis", 1);
    (void)imp;
    return (int)(a < 0 ? a + rank : a);
}

/* The quantized operands of each op, as (input, scale, zero point, axis).
 * With ATTACH, parameters are attached to operands that already exist
 * (graph inputs, initializers, constants); otherwise every operand must
 * already carry exactly these parameters (checked at conversion). */
static bool node_operands(Imp *imp, const Onnx__NodeProto *n, bool attach)
{
    const char *op = n->op_type;
    const Quant *q;
    int32_t zt;
    typedef struct { int in, s, z, axis_kind; } Spec;
    Spec spec[2];
    int cnt = 0;
    /* axis_kind: 0 per-tensor only, 1 the 'axis' attribute, 2 axis 0 (the
     * output channels of conv weights), 3 the last axis (matmul columns). */
    if (!strcmp(op, "DequantizeLinear"))
        spec[cnt++] = (Spec){0, 1, 2, 1};
    else if (!strcmp(op, "QLinearConv"))
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, 2};
    else if (!strcmp(op, "QLinearMatMul"))
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, 3};
    else if (!strcmp(op, "ConvInteger"))
        spec[cnt++] = (Spec){0, -1, 2, 0}, spec[cnt++] = (Spec){1, -1, 3, 2};
    else if (!strcmp(op, "MatMulInteger"))
        spec[cnt++] = (Spec){0, -1, 2, 0}, spec[cnt++] = (Spec){1, -1, 3, 3};
    for (int i = 0; i < cnt; i++) {
        OTensor *t = node_in(imp, n, (size_t)spec[i].in);
        if (!t) {
            if ((size_t)spec[i].in < n->n_input && n->input[spec[i].in] && *n->input[spec[i].in])
                continue; /* produced by a node not converted yet */
            node_error(imp, "input %d is missing", spec[i].in);
            return false;
        }
        int axis = spec[i].axis_kind == 1 ? norm_q_axis(imp, n, t->rank)
                 : spec[i].axis_kind == 2 ? 0 : spec[i].axis_kind == 3 ? t->rank - 1 : -1;
        if (!read_qparams(imp, n, spec[i].s, spec[i].z, axis, t->rank, &q, &zt))
            return false;
        if (q->count > 1 && spec[i].axis_kind == 0) {
            node_error(imp, "input '%s' must be quantized per-tensor", t->name);
            return false;
        }
        if (attach) {
            if (!t->v && !t->vt && !annotate(imp, t, q))
                return false;
        } else if (!t->quant || !quant_equal(t->quant, q)) {
            node_error(imp, "tensor '%s' is %s", t->name,
                       t->quant ? "used with different quantization parameters than its producer gave it; "
                                  "qnnc needs one set of parameters per tensor"
                                : "not quantized by its producer");
            return false;
        }
    }
    return true;
}

bool quant_annotate(Imp *imp)
{
    for (size_t k = 0; k < imp->norder; k++) {
        imp->node = imp->order[k];
        if (!node_operands(imp, imp->node, true))
            return false;
    }
    imp->node = NULL;
    return true;
}

int quant_try_fuse(Imp *imp, const Onnx__NodeProto *n, size_t index)
{
    (void)imp, (void)n, (void)index;
    return 0;
}

/* ---------------------------------------------------------------- converters */

static bool set_rounding(Imp *imp, Node *nd)
{
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return true;
}

bool cv_quantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = node_in(imp, n, 0);
    if (x->type != OT_FLOAT) {
        node_error(imp, "input '%s' must be FLOAT, got %s", x->name, onnx_type_name(x->type));
        return false;
    }
    const Quant *q;
    int32_t zt;
    if (!read_qparams(imp, n, 1, 2, norm_q_axis(imp, n, x->rank), x->rank, &q, &zt))
        return false;
    DType dt;
    onnx_dtype(zt, &dt);
    OTensor *out = node_out(imp, n, 0);
    if (!out)
        return false;
    out->type = zt;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    out->quant = q;
    bool nhwc = ot_is_nhwc(x) && q->axis < 0;
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = dt;
    t.quant = q;
    Node *nd = emit(imp, OP_QUANTIZE, &v, 1, ir_name(imp, out->name, NULL), t);
    set_rounding(imp, nd);
    ot_set(out, nd->result, nhwc);
    return true;
}

bool cv_dequantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = node_in(imp, n, 0);
    const Quant *q;
    int32_t zt;
    if (!read_qparams(imp, n, 1, 2, norm_q_axis(imp, n, x->rank), x->rank, &q, &zt))
        return false;
    if (zt != x->type && node_in(imp, n, 2)) {
        node_error(imp, "zero point type %s differs from the input's type %s", onnx_type_name(zt),
                   onnx_type_name(x->type));
        return false;
    }
    if (!node_operands(imp, n, false))
        return false;
    OTensor *out = node_out(imp, n, 0);
    if (!out)
        return false;
    out->type = OT_FLOAT;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    bool nhwc = ot_is_nhwc(x);
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = DT_F32;
    t.quant = NULL;
    ot_set(out, emit(imp, OP_DEQUANTIZE, &v, 1, ir_name(imp, out->name, NULL), t)->result, nhwc);
    return true;
}

/* Checks that operand T carries parameters (set by annotation or by its
 * producer). */
static bool has_quant(Imp *imp, const OTensor *t)
{
    return node_operands(imp, imp->node, false) && t->quant;
}

bool cv_qlinear_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = node_in(imp, n, 0), *w = node_in(imp, n, 3), *b = node_in(imp, n, 8);
    const Quant *yq;
    int32_t zt;
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w) || !read_qparams(imp, n, 6, 7, -1, 0, &yq, &zt))
        return false;
    if (b && b->type != OT_INT32) {
        node_error(imp, "bias must be INT32, got %s", onnx_type_name(b->type));
        return false;
    }
    return conv_common(imp, n, x, w, b, zt, yq, true);
}

bool cv_conv_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = node_in(imp, n, 0), *w = node_in(imp, n, 1);
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w))
        return false;
    return conv_common(imp, n, x, w, NULL, OT_INT32, NULL, false);
}

bool cv_qlinear_matmul(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = node_in(imp, n, 0), *b = node_in(imp, n, 3);
    const Quant *yq;
    int32_t zt;
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b) || !read_qparams(imp, n, 6, 7, -1, 0, &yq, &zt))
        return false;
    return matmul_quant(imp, n, a, b, zt, yq, true);
}

bool cv_matmul_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = node_in(imp, n, 0), *b = node_in(imp, n, 1);
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b))
        return false;
    return matmul_quant(imp, n, a, b, OT_INT32, NULL, false);
}
