/* onnx_quantized.c - pre-quantized ONNX ops and their parameters.
 *
 * ONNX keeps quantization parameters in separate tensors (scale, zero
 * point) passed to each op; the IR keeps them in the integer tensor's type.
 * onnx_quant_annotate() therefore runs before any IR value exists: it reads
 * the parameters of every QuantizeLinear, DequantizeLinear, QLinearConv,
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
 *
 * The QDQ fusion (DequantizeLinear -> float op -> QuantizeLinear as one
 * quantized op) is in onnx_qdq.c.
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* Reads the (scale, zero point) pair at inputs SI/ZI of N (SI < 0: scale
 * 1, as ConvInteger/MatMulInteger have no scale).  AXIS is the quantized
 * axis if the parameters are 1-D with more than one entry.  *zt receives
 * the zero point's element type (UINT8 when absent, as the spec says). */
bool onnx_qparams(Imp *imp, const Onnx__NodeProto *n, int si, int zi, int axis, int rank,
                         const int64_t *dims, const Quant **out, int32_t *zt)
{
    OTensor *s = si >= 0 ? onnx_in(imp, n, (size_t)si) : NULL, *z = zi >= 0 ? onnx_in(imp, n, (size_t)zi) : NULL;
    if (si >= 0 && !s) {
        onnx_node_error(imp, "the scale input is missing");
        return false;
    }
    OTensor *ts[2] = {s, z};
    for (int i = 0; i < 2; i++) {
        OTensor *t = ts[i];
        if (t && !t->c) {
            bool is_input = false;
            for (size_t k = 0; k < imp->model->graph->n_input; k++)
                is_input |= !strcmp(imp->model->graph->input[k]->name, t->name);
            onnx_node_error(imp, "quantization parameter '%s' is %s; qnnc needs scales and zero points as constants "
                            "(initializers)", t->name, is_input ? "a graph input" : "computed at run time");
            return false;
        }
    }
    int64_t cnt = s ? s->c->numel : z ? z->c->numel : 1;
    if (cnt < 1 || (z && z->c->numel != cnt) || (s && s->rank > 1) || (z && z->rank > 1)) {
        onnx_node_error(imp, "scale and zero point must be scalars or 1-D tensors of equal length");
        return false;
    }
    *zt = z ? z->c->type : OT_UINT8;
    DType dt;
    if (!onnx_dtype(*zt, &dt) || !dtype_traits[dt].is_int) {
        onnx_node_error(imp, "zero point type %s is not supported", onnx_type_name(*zt));
        return false;
    }
    float *sc = xmalloc((size_t)cnt * sizeof *sc);
    int32_t *zp = xmalloc((size_t)cnt * sizeof *zp);
    for (int64_t i = 0; i < cnt; i++) {
        sc[i] = s ? (float)ctensor_f(s->c, i) : 1.0f;
        zp[i] = z ? (int32_t)ctensor_i(z->c, i) : 0;
        if (!isfinite(sc[i]) || !(sc[i] > 0)) {
            onnx_node_error(imp, "scale %g (entry %lld) must be finite and positive", (double)sc[i], (long long)i);
            free(sc);
            free(zp);
            return false;
        }
    }
    int ax = -1;
    if (cnt > 1) {
        if (axis < 0 || axis >= rank || dims[axis] != cnt) {
            if (axis < 0 || axis >= rank)
                onnx_node_error(imp, "per-axis quantization axis %d is out of range for rank %d", axis, rank);
            else
                onnx_node_error(imp, "%lld per-axis scales for axis %d of size %lld", (long long)cnt, axis,
                           (long long)dims[axis]);
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
        onnx_node_error(imp, "tensor '%s' is %s where an integer tensor is expected", t->name, onnx_type_name(t->type));
        return false;
    }
    if (t->quant && !quant_equal(t->quant, q)) {
        onnx_node_error(imp, "tensor '%s' is used with different quantization parameters by different nodes",
                   t->name);
        return false;
    }
    t->quant = q;
    return true;
}

/* The 'axis' attribute of QuantizeLinear/DequantizeLinear (default 1),
 * normalized against RANK. */
static int norm_q_axis(const Onnx__NodeProto *n, int rank)
{
    int64_t a = onnx_attr_int(n, "axis", 1);
    return (int)(a < 0 ? a + rank : a);
}

/* The quantized operands of each op, as (input, scale, zero point, axis).
 * With ATTACH, parameters are attached to operands that already exist
 * (graph inputs, initializers, constants); otherwise every operand must
 * already carry exactly these parameters (checked at conversion). */
bool onnx_quant_operands(Imp *imp, const Onnx__NodeProto *n, bool attach)
{
    const char *op = n->op_type;
    const Quant *q;
    int32_t zt;
    typedef struct { int in, s, z, axis_kind; } Spec;
    Spec fixed[2], *spec = fixed;
    int cnt = 0;
    /* axis_kind: 0 per-tensor only, 1 the 'axis' attribute, 2 axis 0 (the
     * output channels of conv weights), 3 the last axis (matmul columns).
     * The com.microsoft ops (onnxruntime's contrib op schemas) list their
     * operands as (tensor, scale, zero point) triples too. */
    bool ms = n->domain && !strcmp(n->domain, "com.microsoft");
    if (ms && (!strcmp(op, "QLinearAdd") || !strcmp(op, "QLinearMul")))
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, 0};
    else if (ms && (!strcmp(op, "QLinearSigmoid") || !strcmp(op, "QLinearLeakyRelu") ||
                    !strcmp(op, "QLinearAveragePool") || !strcmp(op, "QLinearGlobalAveragePool")))
        spec[cnt++] = (Spec){0, 1, 2, 0};
    else if (ms && !strcmp(op, "QGemm")) /* B per column: axis 0 of B^T, the last of B */
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, onnx_attr_int(n, "transB", 0) ? 2 : 3};
    else if (ms && !strcmp(op, "QLinearConcat")) {
        /* Y_scale, Y_zero_point, then (X, scale, zero point) per input. */
        spec = arena_alloc(&imp->arena, (n->n_input / 3 + 1) * sizeof *spec);
        for (size_t i = 2; i + 2 < n->n_input; i += 3)
            spec[cnt++] = (Spec){(int)i, (int)i + 1, (int)i + 2, 0};
    } else if (!strcmp(op, "DequantizeLinear"))
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
        OTensor *t = onnx_in(imp, n, (size_t)spec[i].in);
        if (!t) {
            if ((size_t)spec[i].in < n->n_input && n->input[spec[i].in] && *n->input[spec[i].in])
                continue; /* produced by a node not converted yet */
            onnx_node_error(imp, "input %d is missing", spec[i].in);
            return false;
        }
        int axis = spec[i].axis_kind == 1 ? norm_q_axis(n, t->rank)
                 : spec[i].axis_kind == 2 ? 0 : spec[i].axis_kind == 3 ? t->rank - 1 : -1;
        if (!onnx_qparams(imp, n, spec[i].s, spec[i].z, axis, t->rank, t->dims, &q, &zt))
            return false;
        /* The schemas give a tensor and its zero point one type T: a UINT8
         * zero point of an INT8 tensor would otherwise be read as INT8. */
        if (!onnx_type_is_float(t->type) && onnx_in(imp, n, (size_t)spec[i].z) && zt != t->type) {
            onnx_node_error(imp, "zero point type %s differs from the type %s of input '%s'", onnx_type_name(zt),
                            onnx_type_name(t->type), t->name);
            return false;
        }
        if (q->count > 1 && spec[i].axis_kind == 0) {
            onnx_node_error(imp, "input '%s' must be quantized per-tensor", t->name);
            return false;
        }
        if (attach) {
            if (!t->v && !t->vt && !annotate(imp, t, q))
                return false;
        } else if (!t->quant || !quant_equal(t->quant, q)) {
            onnx_node_error(imp, "tensor '%s' is %s", t->name,
                       t->quant ? "used with different quantization parameters than its producer gave it; "
                                  "qnnc needs one set of parameters per tensor"
                                : "not quantized by its producer");
            return false;
        }
    }
    return true;
}

/* Relu, Clip and MaxPool only move or drop values, so raw integers are
 * exactly a quantized tensor of scale 1 and zero point 0.  Runs after the
 * real annotations, which take precedence. */
static void annotate_raw(Imp *imp, const Onnx__NodeProto *n)
{
    const char *op = n->op_type;
    if (strcmp(op, "Relu") && strcmp(op, "Clip") && strcmp(op, "MaxPool"))
        return;
    OTensor *t = onnx_in(imp, n, 0);
    if (t && !t->quant && !t->v && !t->vt &&
        (t->type == OT_INT8 || t->type == OT_UINT8 || t->type == OT_INT16)) {
        float one = 1.0f;
        int32_t zero = 0;
        t->quant = quant_new(&imp->arena, -1, 1, &one, &zero);
    }
}

bool onnx_quant_annotate(Imp *imp)
{
    for (size_t k = 0; k < imp->norder; k++) {
        imp->node = imp->order[k];
        if (!onnx_quant_operands(imp, imp->node, true))
            return false;
    }
    for (size_t k = 0; k < imp->norder; k++)
        annotate_raw(imp, imp->order[k]);
    imp->node = NULL;
    return true;
}


/* ---------------------------------------------------------------- converters */

static bool set_rounding(Imp *imp, Node *nd)
{
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return true;
}

bool import_quantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (x->type != OT_FLOAT) {
        onnx_node_error(imp, "input '%s' must be FLOAT, got %s", x->name, onnx_type_name(x->type));
        return false;
    }
    const Quant *q;
    int32_t zt;
    if (!onnx_qparams(imp, n, 1, 2, norm_q_axis(n, x->rank), x->rank, x->dims, &q, &zt))
        return false;
    DType dt;
    onnx_dtype(zt, &dt);
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    out->type = zt;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    out->quant = q;
    bool nhwc = onnx_is_nhwc(x) && q->axis < 0;
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = dt;
    t.quant = q;
    Node *nd = onnx_emit(imp, OP_QUANTIZE, &v, 1, onnx_name(imp, out->name, NULL), t);
    set_rounding(imp, nd);
    onnx_set(out, nd->result, nhwc);
    return true;
}

bool import_dequantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const Quant *q;
    int32_t zt;
    if (!onnx_qparams(imp, n, 1, 2, norm_q_axis(n, x->rank), x->rank, x->dims, &q, &zt))
        return false;
    if (zt != x->type && onnx_in(imp, n, 2)) {
        onnx_node_error(imp, "zero point type %s differs from the input's type %s", onnx_type_name(zt),
                   onnx_type_name(x->type));
        return false;
    }
    if (!onnx_quant_operands(imp, n, false))
        return false;
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    out->type = OT_FLOAT;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    bool nhwc = onnx_is_nhwc(x);
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = DT_F32;
    t.quant = NULL;
    onnx_set(out, onnx_emit(imp, OP_DEQUANTIZE, &v, 1, onnx_name(imp, out->name, NULL), t)->result, nhwc);
    return true;
}

/* Checks that operand T carries parameters (set by annotation or by its
 * producer). */
static bool has_quant(Imp *imp, const OTensor *t)
{
    return onnx_quant_operands(imp, imp->node, false) && t->quant;
}

bool import_qlinear_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *w = onnx_in(imp, n, 3), *b = onnx_in(imp, n, 8);
    const Quant *yq;
    int32_t zt;
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w) || !onnx_qparams(imp, n, 6, 7, -1, 0, NULL, &yq, &zt))
        return false;
    if (b && b->type != OT_INT32) {
        onnx_node_error(imp, "bias must be INT32, got %s", onnx_type_name(b->type));
        return false;
    }
    return onnx_conv_core(imp, n, x, w, b, zt, yq, true);
}

bool import_conv_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *w = onnx_in(imp, n, 1);
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w))
        return false;
    return onnx_conv_core(imp, n, x, w, NULL, OT_INT32, NULL, false);
}

bool import_qlinear_matmul(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = onnx_in(imp, n, 0), *b = onnx_in(imp, n, 3);
    const Quant *yq;
    int32_t zt;
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b) || !onnx_qparams(imp, n, 6, 7, -1, 0, NULL, &yq, &zt))
        return false;
    return onnx_matmul_core(imp, n, a, b, zt, yq, true);
}

bool import_matmul_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = onnx_in(imp, n, 0), *b = onnx_in(imp, n, 1);
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b))
        return false;
    return onnx_matmul_core(imp, n, a, b, OT_INT32, NULL, false);
}

/* ---------------------------------------------------------------- com.microsoft QLinear* ops */

/* onnxruntime's QOperator format (its contrib op schemas, domain
 * com.microsoft, version 1) gives each quantized op its operands as
 * (tensor, scale, zero point) triples and its result's (scale, zero point)
 * as two more inputs.  Their reference kernels dequantize, run the float op
 * and requantize with round half to even and saturation: exactly the IR's
 * quantized forms with rounding=onnx, which the QDQ fusion (onnx_qdq.c)
 * already emits for DequantizeLinear -> float op -> QuantizeLinear.  So each
 * op is converted by the float op's importer, run as a fused group: a
 * stand-in node holding only the data inputs and N's attributes, with the
 * result quantized by (YS, YZ) and defined as N's output. */
static bool qlinear_as_float(Imp *imp, const Onnx__NodeProto *n, const char *float_op, ImportFn *import,
                             const int *data, int ndata, int ys, int yz)
{
    char **names = arena_alloc(&imp->arena, (size_t)ndata * sizeof *names);
    int32_t type = OT_UNDEFINED;
    for (int i = 0; i < ndata; i++) {
        OTensor *t = onnx_in(imp, n, (size_t)data[i]);
        if (!t) {
            onnx_node_error(imp, "input %d is missing", data[i]);
            return false;
        }
        if (!has_quant(imp, t))
            return false;
        if (i && t->type != type) {
            onnx_node_error(imp, "inputs have different element types %s and %s", onnx_type_name(type),
                            onnx_type_name(t->type));
            return false;
        }
        type = t->type;
        names[i] = n->input[data[i]];
    }
    const Quant *yq;
    int32_t zt;
    if (!onnx_qparams(imp, n, ys, yz, -1, 0, NULL, &yq, &zt))
        return false;
    if (!onnx_in(imp, n, (size_t)yz))
        zt = type; /* an absent zero point is 0 of the input's type (the schemas' T) */
    if (zt != type) {
        onnx_node_error(imp, "the result's zero point is %s but the inputs are %s", onnx_type_name(zt),
                        onnx_type_name(type));
        return false;
    }
    if (yq->count != 1) {
        onnx_node_error(imp, "the result must be quantized per tensor");
        return false;
    }
    Onnx__NodeProto f = *n;
    f.op_type = (char *)float_op;
    f.domain = (char *)"";
    f.input = names;
    f.n_input = (size_t)ndata;
    imp->out_node = n;
    imp->fnode = &f;
    imp->fsub = NULL;
    imp->fq = yq;
    imp->fq_type = zt;
    imp->has_act = false;
    bool ok = import(imp, &f);
    imp->out_node = imp->fnode = NULL;
    imp->fq = NULL;
    return ok;
}

/* QLinearAdd, QLinearMul: A, A_scale, A_zero_point, B, B_scale,
 * B_zero_point, C_scale, C_zero_point; numpy broadcasting.  C =
 * quantize(dequantize(A) op dequantize(B)). */
bool import_qlinear_binary(Imp *imp, const Onnx__NodeProto *n)
{
    static const int data[2] = {0, 3};
    return qlinear_as_float(imp, n, !strcmp(n->op_type, "QLinearAdd") ? "Add" : "Mul", import_binary, data, 2, 6, 7);
}

/* QLinearSigmoid, QLinearLeakyRelu (attribute alpha, default 0.01): X,
 * X_scale, X_zero_point, Y_scale, Y_zero_point. */
bool import_qlinear_unary(Imp *imp, const Onnx__NodeProto *n)
{
    static const int data[1] = {0};
    return qlinear_as_float(imp, n, !strcmp(n->op_type, "QLinearSigmoid") ? "Sigmoid" : "LeakyRelu", import_unary,
                            data, 1, 3, 4);
}

/* QLinearAveragePool (AveragePool's attributes) and
 * QLinearGlobalAveragePool: X, x_scale, x_zero_point, y_scale,
 * y_zero_point.  channels_last=1 (NHWC tensors at the ONNX level) is not
 * read. */
bool import_qlinear_pool(Imp *imp, const Onnx__NodeProto *n)
{
    static const int data[1] = {0};
    if (onnx_attr_int(n, "channels_last", 0) != 0) {
        onnx_node_error(imp, "channels_last=1 is not supported");
        return false;
    }
    bool global = !strcmp(n->op_type, "QLinearGlobalAveragePool");
    return qlinear_as_float(imp, n, global ? "GlobalAveragePool" : "AveragePool",
                            global ? import_global_avg_pool : import_pool, data, 1, 3, 4);
}

/* QLinearConcat (attribute axis): Y_scale, Y_zero_point, then X_i,
 * X_i_scale, X_i_zero_point for each input. */
bool import_qlinear_concat(Imp *imp, const Onnx__NodeProto *n)
{
    if ((n->n_input - 2) % 3 != 0) {
        onnx_node_error(imp, "inputs after Y_scale and Y_zero_point must be (tensor, scale, zero point) triples");
        return false;
    }
    int nd = (int)(n->n_input - 2) / 3;
    int *data = arena_alloc(&imp->arena, (size_t)nd * sizeof *data);
    for (int i = 0; i < nd; i++)
        data[i] = 2 + 3 * i;
    return qlinear_as_float(imp, n, "Concat", import_concat, data, nd, 0, 1);
}

/* QGemm: A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale,
 * y_zero_point; attributes transA, transB, alpha.  Y = alpha A' B' + C with
 * the int32 C in the scale a_scale * b_scale (zero point 0), requantized
 * to (y_scale, y_zero_point): a quantized dense with rounding=onnx, as
 * QLinearMatMul.  B may be quantized per column. */
bool import_qgemm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = onnx_in(imp, n, 0), *b = onnx_in(imp, n, 3), *c = onnx_in(imp, n, 6);
    if (!onnx_in(imp, n, 7)) {
        onnx_node_error(imp, "a float result (no y_scale) is not supported");
        return false;
    }
    if (onnx_attr_int(n, "transA", 0) != 0 || onnx_attr_float(n, "alpha", 1.0f) != 1.0f) {
        onnx_node_error(imp, "transA=1 and alpha other than 1 are not supported");
        return false;
    }
    const Quant *yq;
    int32_t zt;
    if (!has_quant(imp, a) || !has_quant(imp, b) || !onnx_qparams(imp, n, 7, 8, -1, 0, NULL, &yq, &zt))
        return false;
    if (!onnx_in(imp, n, 8))
        zt = a->type;
    if (c && (c->type != OT_INT32 || !c->c)) {
        onnx_node_error(imp, "C must be a constant INT32 tensor");
        return false;
    }
    return onnx_gemm_core(imp, n, a, b, c, zt, yq);
}
