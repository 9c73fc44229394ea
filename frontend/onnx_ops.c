/* onnx_ops.c - conversion of ONNX ops into IR nodes.
 *
 * Each import_* function converts one node: it checks the node's attributes and
 * inputs, computes the output's ONNX shape (the importer's shape
 * inference), emits IR nodes and defines the output OTensor.  Layout rules
 * are in onnx.c's header comment; the numeric rules cite the ONNX operator
 * specification (https://onnx.ai/onnx/operators/) next to the code.
 *
 * The ops are float ops, with two exceptions: ops that only move or drop
 * values (relu, clip, max_pool, the layout ops) also run on quantized
 * integers, and inside a fused QDQ group (onnx_quant.c: imp->fq is set)
 * every converter reads the quantized tensors behind the
 * DequantizeLinear inputs and emits the quantized form of its op
 * (onnx_emit_r, fix_q).  onnx_conv_core, onnx_matmul_core and onnx_gemm_core serve the
 * QLinear*, *Integer and fused forms directly.
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* Defines output I of N with the ONNX shape DIMS (or, in a fused QDQ group,
 * the final QuantizeLinear's output), refusing empty and oversized
 * tensors, which the IR cannot hold. */
static OTensor *define_out(Imp *imp, const Onnx__NodeProto *n, size_t i, int32_t type, int rank,
                           const int64_t *dims)
{
    int64_t cnt = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 1 || dims[d] > INT32_MAX || (cnt *= dims[d]) > INT32_MAX) {
            onnx_node_error(imp, dims[d] < 1 ? "the result would be an empty tensor, which qnnc does not support"
                                        : "the result would have more than 2^31 elements");
            return NULL;
        }
    }
    OTensor *o = onnx_out(imp, imp->out_node ? imp->out_node : n, i);
    if (!o)
        return NULL;
    if (imp->fq) {
        /* A fused QDQ group: the result is the QuantizeLinear's. */
        type = imp->fq_type;
        o->quant = imp->fq;
    }
    o->type = type;
    o->rank = rank;
    for (int d = 0; d < rank && d < QNN_MAX_RANK; d++)
        o->dims[d] = dims[d];
    return o;
}

static bool need_float(Imp *imp, const OTensor *t)
{
    /* In a fused QDQ group the inputs are the quantized tensors. */
    if (imp->fq && t->type != OT_FLOAT && t->quant && t->quant->axis < 0)
        return true;
    if (t->type != OT_FLOAT) {
        onnx_node_error(imp, "input '%s' has element type %s; this op is supported on FLOAT tensors only "
                        "(quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)",
                   t->name, onnx_type_name(t->type));
        return false;
    }
    return true;
}

/* Ops that only move or drop values (relu, clip, max_pool) work on
 * quantized integers too, keeping the quantization. */
static bool need_float_or_q(Imp *imp, const OTensor *t)
{
    if (t->type != OT_FLOAT && t->quant && t->quant->axis < 0)
        return true;
    return need_float(imp, t);
}

static OTensor *temp_tensor(Imp *imp, const char *name, int32_t type, int rank, const int64_t *dims)
{
    OTensor *t = arena_alloc(&imp->arena, sizeof *t);
    t->name = name;
    t->type = type;
    t->rank = rank;
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    return t;
}

/* T viewed with new DIMS (same elements, ONNX order), as a temporary. */
static OTensor *view(Imp *imp, OTensor *t, int rank, const int64_t *dims, const char *suffix)
{
    OTensor *r = temp_tensor(imp, onnx_name(imp, t->name, suffix), t->type, rank, dims);
    r->quant = t->quant;
    if (t->c) {
        r->c = arena_memdup(&imp->arena, t->c, sizeof *t->c);
        r->c->rank = rank;
        memset(r->c->dims, 0, sizeof r->c->dims);
        memcpy(r->c->dims, dims, (size_t)rank * sizeof *dims);
        return r;
    }
    Value *v = onnx_val(imp, t);
    if (!v)
        return NULL;
    r->v = onnx_emit_reshape(imp, v, rank, dims, r->name);
    return r;
}

/* [N,C,L] -> [N,C,1,L]: 1-D convolution and pooling run as 2-D. */
static OTensor *lift3(Imp *imp, OTensor *t)
{
    int64_t d[4] = {t->dims[0], t->dims[1], 1, t->dims[2]};
    return view(imp, t, 4, d, ".4d");
}

/* Finishes a lifted op: T4 is the NHWC result [N,1,L,C]; OUT gets [N,C,L]. */
static bool lower3(Imp *imp, OTensor *t4, OTensor *out)
{
    Value *v = onnx_val(imp, t4);
    if (!v)
        return false;
    int64_t d[3] = {t4->dims[0], t4->dims[1], t4->dims[3]};
    out->v = onnx_emit_reshape(imp, v, 3, d, onnx_name(imp, out->name, NULL));
    return true;
}

/* The run-time value of T in whichever layout it already has: for ops that
 * do not care about layout.  *nhwc tells which. */
static Value *any_val(Imp *imp, OTensor *t, bool *nhwc)
{
    *nhwc = onnx_is_nhwc(t);
    return *nhwc ? t->vt : onnx_val(imp, t);
}

/* The value of T (rank <= R) as an operand of an R-D broadcasting op run
 * in NHWC (R == 4) or ONNX layout. */
static Value *bcast_operand(Imp *imp, OTensor *t, int r, bool nhwc)
{
    if (!nhwc)
        return onnx_val(imp, t);
    if (t->rank == 4)
        return onnx_val_nhwc(imp, t);
    if (onnx_numel(t->dims, t->rank) == 1)
        return onnx_val(imp, t); /* a scalar broadcasts in any layout */
    int64_t d[4] = {1, 1, 1, 1};
    for (int i = 0; i < t->rank; i++)
        d[r - t->rank + i] = t->dims[i];
    OTensor *v4 = view(imp, t, 4, d, ".b4");
    return v4 ? onnx_val_nhwc(imp, v4) : NULL;
}

/* A scalar f32 constant named BASE + SUFFIX. */
static Value *scalar_f32(Imp *imp, const char *base, const char *suffix, float v)
{
    Value *c = graph_add_const(imp->g, onnx_name(imp, base, suffix), onnx_tt(DT_F32, 0, NULL, NULL), &v);
    c->loc = (SrcLoc){.file = imp->gpath};
    return c;
}

/* In a fused QDQ group, makes V carry the group's output quantization:
 * ops that keep their input's quantization (relu, max_pool, reshape...)
 * are followed by a requantize when the QuantizeLinear's differs. */
static Value *fix_q(Imp *imp, Value *v)
{
    if (!imp->fq || !v || quant_equal(v->type.quant, imp->fq))
        return v;
    TensorType t = v->type;
    onnx_dtype(imp->fq_type, &t.dtype);
    t.quant = imp->fq;
    Node *nd = onnx_emit(imp, OP_REQUANTIZE, &v, 1, onnx_name(imp, v->name, ".rq"), t);
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return nd->result;
}

/* Emits the op that produces a converter's result.  In a fused QDQ group
 * the result is quantized: with the QuantizeLinear's parameters and
 * rounding=onnx for requantizing ops, with the input's for ops that must
 * keep it (fix_q then requantizes). */
static Node *onnx_emit_r(Imp *imp, OpId op, Value *const *ops, int n, const char *name, TensorType t)
{
    if (imp->fq) {
        if (op_info[op].flags & OPF_SAME_QUANT) {
            t.dtype = ops[0]->type.dtype;
            t.quant = ops[0]->type.quant;
        } else {
            onnx_dtype(imp->fq_type, &t.dtype);
            t.quant = imp->fq;
        }
    }
    Node *nd = onnx_emit(imp, op, ops, n, name, t);
    if (imp->fq && (op_info[op].attrs & A(ROUNDING)))
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return nd;
}

static bool finish_q(Imp *imp, OTensor *out, Value *v, bool nhwc)
{
    if (!out || !v)
        return false;
    onnx_set(out, fix_q(imp, v), nhwc);
    return true;
}

/* ---------------------------------------------------------------- elementwise */

/* Add, Sub, Mul, Div with numpy broadcasting (ONNX "multidirectional
 * broadcasting"), float: the IR's add, sub, mul and div.  (Quantized
 * arithmetic comes from QDQ models; raw integer arithmetic is not
 * supported.) */
bool import_binary(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *y = onnx_in(imp, n, 1);
    if (!need_float(imp, x) || !need_float(imp, y))
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
    Value *a = bcast_operand(imp, x, r, nhwc), *b = bcast_operand(imp, y, r, nhwc);
    if (!a || !b)
        return false;
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, r, od);
    if (!out)
        return false;
    TensorType t = onnx_tt(DT_F32, r, od, NULL);
    if (nhwc)
        for (int i = 0; i < 4; i++)
            t.dims[i] = od[onnx_perm_to_nhwc[i]];
    Value *ops[2] = {a, b};
    OpId id = op == 'A' ? OP_ADD : op == 'S' ? OP_SUB : op == 'M' ? OP_MUL : OP_DIV;
    return finish_q(imp, out, onnx_emit_r(imp, id, ops, 2, onnx_name(imp, out->name, NULL), t)->result, nhwc);
}

/* Relu, LeakyRelu, Sigmoid, Tanh, HardSwish: same shape, any layout. */
bool import_unary(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const char *op = n->op_type;
    if (!(strcmp(op, "Relu") ? need_float(imp, x) : need_float_or_q(imp, x)))
        return false;
    OpId id = !strcmp(op, "Relu") ? OP_RELU : !strcmp(op, "LeakyRelu") ? OP_LEAKY_RELU
            : !strcmp(op, "Sigmoid") ? OP_SIGMOID : !strcmp(op, "Tanh") ? OP_TANH : OP_HARD_SWISH;
    bool nhwc;
    Value *v = any_val(imp, x, &nhwc);
    OTensor *out = define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Node *nd = onnx_emit_r(imp, id, &v, 1, onnx_name(imp, out->name, NULL), v->type);
    if (id == OP_LEAKY_RELU)
        node_set_float(imp->g, nd, ATTR_ALPHA, onnx_attr_float(n, "alpha", 0.01f)); /* LeakyRelu: alpha 0.01 */
    if (!imp->fq)
        out->quant = x->quant;
    return finish_q(imp, out, nd->result, nhwc);
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
    if (!need_float_or_q(imp, x))
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
    Value *v = any_val(imp, x, &nhwc);
    OTensor *out = define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Node *nd = onnx_emit_r(imp, OP_CLIP, &v, 1, onnx_name(imp, out->name, NULL), v->type);
    if (hmin)
        node_set_float(imp->g, nd, ATTR_MIN, lo);
    if (hmax)
        node_set_float(imp->g, nd, ATTR_MAX, hi);
    if (!imp->fq)
        out->quant = x->quant;
    return finish_q(imp, out, nd->result, nhwc);
}

/* HardSigmoid: y = max(0, min(1, alpha * x + beta)), alpha 0.2, beta 0.5. */
bool import_hard_sigmoid(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!need_float(imp, x))
        return false;
    bool nhwc;
    Value *v = any_val(imp, x, &nhwc);
    OTensor *out = define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Value *ops[2] = {v, scalar_f32(imp, out->name, ".alpha", onnx_attr_float(n, "alpha", 0.2f))};
    Value *m = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, out->name, ".mul"), v->type)->result;
    ops[0] = m;
    ops[1] = scalar_f32(imp, out->name, ".beta", onnx_attr_float(n, "beta", 0.5f));
    Value *a = onnx_emit(imp, OP_ADD, ops, 2, onnx_name(imp, out->name, ".add"), v->type)->result;
    Node *c = onnx_emit(imp, OP_CLIP, &a, 1, onnx_name(imp, out->name, NULL), v->type);
    node_set_float(imp->g, c, ATTR_MIN, 0.0f);
    node_set_float(imp->g, c, ATTR_MAX, 1.0f);
    return finish_q(imp, out, c->result, nhwc);
}

/* ---------------------------------------------------------------- windows */

typedef struct Window {
    int64_t k[2], s[2], d[2], pads[4]; /* pads: top, left, bottom, right */
    int64_t out[2];
    int64_t extra[2]; /* ceil_mode padding added at the bottom/right */
} Window;

/* Reads kernel/strides/dilations/pads/auto_pad of a conv or pool over NSP
 * (1 or 2) spatial dims and computes the output size (ONNX Conv, MaxPool,
 * AveragePool: "auto_pad", "ceil_mode").  A 1-D op is a 2-D op with a
 * height-1 window. */
static bool window(Imp *imp, const Onnx__NodeProto *n, int nsp, const int64_t *in, const int64_t *kernel,
                   bool ceil_mode, Window *w)
{
    int64_t s[2] = {1, 1}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    int ks = onnx_attr_ints(n, "strides", s, 2), kd = onnx_attr_ints(n, "dilations", d, 2);
    int kp = onnx_attr_ints(n, "pads", p, 4);
    if ((ks >= 0 && ks != nsp) || (kd >= 0 && kd != nsp) || (kp >= 0 && kp != 2 * nsp)) {
        onnx_node_error(imp, "strides, dilations and pads must match the %d spatial dimension%s", nsp,
                   nsp == 1 ? "" : "s");
        return false;
    }
    if (ks < 0)
        s[0] = s[1] = 1;
    if (kd < 0)
        d[0] = d[1] = 1;
    *w = (Window){{1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, {0, 0}};
    int64_t in2[2] = {1, 1};
    for (int i = 0; i < nsp; i++) {
        int j = i + 2 - nsp; /* 1-D ops use the width slot */
        w->k[j] = kernel[i];
        w->s[j] = s[i];
        w->d[j] = d[i];
        w->pads[j] = kp >= 0 ? p[i] : 0;
        w->pads[j + 2] = kp >= 0 ? p[i + nsp] : 0;
        in2[j] = in[i];
    }
    const char *ap = onnx_attr_str(imp, n, "auto_pad", "NOTSET");
    for (int j = 0; j < 2; j++) {
        /* Bounding every number by 2^24 keeps the arithmetic below far
         * from overflow; no real model comes near it. */
        const int64_t lim = INT64_C(1) << 24;
        if (w->k[j] < 1 || w->s[j] < 1 || w->d[j] < 1 || w->pads[j] < 0 || w->pads[j + 2] < 0 ||
            w->k[j] > lim || w->s[j] > lim || w->d[j] > lim || w->pads[j] > lim || w->pads[j + 2] > lim) {
            onnx_node_error(imp, "kernel, strides and dilations must be positive and pads non-negative (and all "
                            "below 2^24)");
            return false;
        }
        int64_t eff = w->d[j] * (w->k[j] - 1) + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            /* out = ceil(in / stride); the total padding is split evenly,
             * the odd one at the end (UPPER) or the beginning (LOWER). */
            w->out[j] = (in2[j] + w->s[j] - 1) / w->s[j];
            int64_t total = (w->out[j] - 1) * w->s[j] + eff - in2[j];
            if (total < 0)
                total = 0;
            int64_t half = total / 2;
            w->pads[j] = ap[5] == 'U' ? half : total - half;
            w->pads[j + 2] = total - w->pads[j];
            continue;
        }
        if (!strcmp(ap, "VALID")) {
            w->pads[j] = w->pads[j + 2] = 0;
        } else if (strcmp(ap, "NOTSET") != 0) {
            onnx_node_error(imp, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
            return false;
        }
        int64_t span = in2[j] + w->pads[j] + w->pads[j + 2] - eff;
        if (span < 0) {
            onnx_node_error(imp, "the kernel (extent %lld) is larger than the padded input (%lld)", (long long)eff,
                       (long long)(span + eff));
            return false;
        }
        w->out[j] = (ceil_mode ? (span + w->s[j] - 1) / w->s[j] : span / w->s[j]) + 1;
        /* ceil_mode: the last window must start inside the input or its
         * leading padding (as PyTorch and ONNX's reference implement it). */
        if (ceil_mode && (w->out[j] - 1) * w->s[j] >= in2[j] + w->pads[j])
            w->out[j]--;
        int64_t need = (w->out[j] - 1) * w->s[j] + eff - (in2[j] + w->pads[j] + w->pads[j + 2]);
        if (need > 0)
            w->extra[j] = need;
    }
    return true;
}

/* A Relu/Clip fused into a quantized conv2d or dense: act_min/act_max. */
static void set_act(Imp *imp, Node *nd)
{
    if (!imp->has_act)
        return;
    if (imp->act_min > -INFINITY)
        node_set_float(imp->g, nd, ATTR_ACT_MIN, imp->act_min);
    if (imp->act_max < INFINITY)
        node_set_float(imp->g, nd, ATTR_ACT_MAX, imp->act_max);
}

/* Sets strides, pads and (if DIL) dilations, leaving out the defaults so the
 * printed IR shows only what matters. */
static void set_window_attrs(Imp *imp, Node *nd, const Window *w, const int64_t *pads, bool dil)
{
    if (w->s[0] != 1 || w->s[1] != 1)
        node_set_ints(imp->g, nd, ATTR_STRIDES, w->s, 2);
    if (pads[0] || pads[1] || pads[2] || pads[3])
        node_set_ints(imp->g, nd, ATTR_PADS, pads, 4);
    if (dil && (w->d[0] != 1 || w->d[1] != 1))
        node_set_ints(imp->g, nd, ATTR_DILATIONS, w->d, 2);
}

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
    Window w;
    if (!window(imp, n, nsp, x->dims + 2, wt->dims + 2, false, &w))
        return false;
    OTensor *x4 = nsp == 1 ? lift3(imp, x) : x, *w4 = nsp == 1 ? lift3(imp, wt) : wt;
    if (!x4 || !w4)
        return false;
    Value *ops[3] = {onnx_val_nhwc(imp, x4), onnx_val_nhwc(imp, w4), b ? onnx_val(imp, b) : NULL};
    if (!ops[0] || !ops[1] || (b && !ops[2]))
        return false;
    int64_t od[4] = {x->dims[0], wt->dims[0], w.out[0], w.out[1]};
    OTensor *out = define_out(imp, n, 0, otype, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!out)
        return false;
    out->quant = oq;
    DType dt;
    onnx_dtype(otype, &dt);
    int64_t phys[4] = {od[0], od[2], od[3], od[1]};
    OTensor *o4 = nsp == 1 ? temp_tensor(imp, out->name, otype, 4, od) : out;
    Node *nd = onnx_emit(imp, OP_CONV2D, ops, b ? 3 : 2, onnx_name(imp, out->name, nsp == 1 ? ".nhwc" : NULL),
                    onnx_tt(dt, 4, phys, oq));
    set_window_attrs(imp, nd, &w, w.pads, true);
    if (group != 1)
        node_set_int(imp->g, nd, ATTR_GROUP, group);
    if (rounding)
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    set_act(imp, nd);
    o4->vt = nd->result;
    return nsp == 1 ? lower3(imp, o4, out) : true;
}

bool import_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *wt = onnx_in(imp, n, 1), *b = onnx_in(imp, n, 2);
    if (!x || !wt) {
        onnx_node_error(imp, "needs an input and weights");
        return false;
    }
    if (!need_float(imp, x) || !need_float(imp, wt) || (b && !need_float(imp, b)))
        return false;
    return onnx_conv_core(imp, n, x, wt, b, OT_FLOAT, NULL, false);
}

/* MaxPool and AveragePool over 1 or 2 spatial dims. */
bool import_pool(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    bool is_max = n->op_type[0] == 'M';
    if (!(is_max ? need_float_or_q(imp, x) : need_float(imp, x)))
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
    Window w;
    bool ceil_mode = onnx_attr_int(n, "ceil_mode", 0) != 0;
    if (!window(imp, n, nsp, x->dims + 2, kernel, ceil_mode, &w))
        return false;
    if (!is_max && onnx_attr(n, "dilations")) {
        int64_t d[2] = {1, 1};
        onnx_attr_ints(n, "dilations", d, 2);
        if (d[0] != 1 || (nsp == 2 && d[1] != 1)) {
            onnx_node_error(imp, "AveragePool dilations are not supported");
            return false;
        }
    }
    OTensor *x4 = nsp == 1 ? lift3(imp, x) : x;
    Value *v = x4 ? onnx_val_nhwc(imp, x4) : NULL;
    if (!v)
        return false;
    int64_t od[4] = {x->dims[0], x->dims[1], w.out[0], w.out[1]};
    OTensor *out = define_out(imp, n, 0, x->type, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    OTensor *o4 = nsp == 1 ? temp_tensor(imp, out->name, out->type, 4, od) : out;
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
    set_window_attrs(imp, nd, &w, pads, is_max);
    if (include_pad)
        node_set_int(imp->g, nd, ATTR_COUNT_INCLUDE_PAD, 1);
    o4->vt = fix_q(imp, nd->result);
    return nsp == 1 ? lower3(imp, o4, out) : true;
}

bool import_global_avg_pool(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!need_float(imp, x))
        return false;
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D pooling is supported (input has rank %d)", x->rank);
        return false;
    }
    OTensor *x4 = x->rank == 3 ? lift3(imp, x) : x;
    Value *v = x4 ? onnx_val_nhwc(imp, x4) : NULL;
    if (!v)
        return false;
    int64_t od[4] = {x->dims[0], x->dims[1], 1, 1};
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, x->rank, od);
    if (!out)
        return false;
    OTensor *o4 = x->rank == 3 ? temp_tensor(imp, out->name, OT_FLOAT, 4, od) : out;
    int64_t phys[4] = {od[0], 1, 1, od[1]};
    o4->vt = onnx_emit_r(imp, OP_GLOBAL_AVG_POOL, &v, 1, onnx_name(imp, out->name, x->rank == 3 ? ".nhwc" : NULL),
                    onnx_tt(DT_F32, 4, phys, NULL))->result;
    return x->rank == 3 ? lower3(imp, o4, out) : true;
}

/* BatchNormalization (inference): y = scale * (x - mean) / sqrt(var + eps)
 * + B over channel axis 1, which is the IR batchnorm's last axis once the
 * input is NHWC. */
bool import_batchnorm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!need_float(imp, x))
        return false;
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
        if (!p || p->rank != 1 || p->dims[0] != x->dims[1] || !need_float(imp, p)) {
            onnx_node_error(imp, "scale, B, mean and var must be float tensors of shape [%lld]", (long long)x->dims[1]);
            return false;
        }
        if (!(ops[i] = onnx_val(imp, p)))
            return false;
    }
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
    if (!out)
        return false;
    OTensor *x4 = x->rank == 3 ? lift3(imp, x) : x;
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
        OTensor *o4 = temp_tensor(imp, out->name, OT_FLOAT, 4, x4->dims);
        o4->vt = nd->result;
        return lower3(imp, o4, out);
    }
    onnx_set(out, nd->result, four);
    return true;
}

/* ---------------------------------------------------------------- matrices */

static Value *transpose2(Imp *imp, Value *v, const char *name)
{
    static const int64_t p[2] = {1, 0};
    return onnx_emit_transpose(imp, v, p, name);
}

/* Gemm: Y = alpha * A' B' + beta * C, A' = transA ? A^T : A (likewise B);
 * C broadcasts unidirectionally to [M, N]. */
bool import_gemm(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *A = onnx_in(imp, n, 0), *B = onnx_in(imp, n, 1), *C = onnx_in(imp, n, 2);
    if (!A || !B || !need_float(imp, A) || !need_float(imp, B) || (C && !need_float(imp, C)))
        return false;
    if (A->rank != 2 || B->rank != 2) {
        onnx_node_error(imp, "A and B must be matrices");
        return false;
    }
    bool ta = onnx_attr_int(n, "transA", 0) != 0, tb = onnx_attr_int(n, "transB", 0) != 0;
    float alpha = onnx_attr_float(n, "alpha", 1.0f), beta = onnx_attr_float(n, "beta", 1.0f);
    int64_t M = ta ? A->dims[1] : A->dims[0], K = ta ? A->dims[0] : A->dims[1];
    int64_t KB = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (K != KB) {
        onnx_node_error(imp, "A' has %lld columns but B' has %lld rows", (long long)K, (long long)KB);
        return false;
    }
    int64_t od[2] = {M, N};
    if (C) {
        int64_t cd[2];
        int cr;
        OTensor tmp = {.name = "Y", .rank = 2, .dims = {M, N}};
        if (!onnx_shape_broadcast(imp, &tmp, C, cd, &cr) || cd[0] != M || cd[1] != N) {
            onnx_node_error(imp, "C does not broadcast to [%lld, %lld]", (long long)M, (long long)N);
            return false;
        }
    }
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, 2, od);
    if (!out)
        return false;
    Value *a = onnx_val(imp, A);
    if (!a)
        return false;
    if (ta)
        a = transpose2(imp, a, onnx_name(imp, A->name, ".t"));
    TensorType yt = onnx_tt(DT_F32, 2, od, NULL);
    bool last_is_y = alpha == 1.0f && (!C || beta == 0.0f);
    Value *y;
    bool bias_done = false;
    if (B->c) {
        /* dense wants w[N, K]: B' transposed, done at import. */
        static const int64_t p[2] = {1, 0};
        Value *w = tb ? onnx_val(imp, B) : onnx_const_perm(imp, B, p, ".t");
        Value *ops[3] = {a, w, NULL};
        int nops = 2;
        /* A constant C of shape [N] or [1, N] with alpha 1 is dense's bias. */
        if (C && C->c && alpha == 1.0f && beta != 0.0f && onnx_numel(C->dims, C->rank) == N &&
            (C->rank == 1 || (C->rank == 2 && C->dims[0] == 1))) {
            float *bias = xmalloc((size_t)N * sizeof *bias);
            for (int64_t j = 0; j < N; j++)
                bias[j] = beta == 1.0f ? (float)C->c->f[j] : beta * (float)C->c->f[j];
            ops[2] = onnx_const_f32(imp, C->name, 1, &N, bias);
            free(bias);
            nops = 3;
            bias_done = true;
            last_is_y = true;
        }
        if (!w)
            return false;
        y = onnx_emit(imp, OP_DENSE, ops, nops, onnx_name(imp, out->name, last_is_y ? NULL : ".mm"), yt)->result;
    } else {
        Value *b = onnx_val(imp, B);
        if (!b)
            return false;
        if (tb)
            b = transpose2(imp, b, onnx_name(imp, B->name, ".t"));
        Value *ops[2] = {a, b};
        y = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, last_is_y ? NULL : ".mm"), yt)->result;
    }
    bool add_c = C && beta != 0.0f && !bias_done;
    if (alpha != 1.0f) {
        Value *ops[2] = {y, scalar_f32(imp, out->name, ".alpha", alpha)};
        y = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, out->name, add_c ? ".scaled" : NULL), yt)->result;
    }
    if (add_c) {
        Value *c = onnx_val(imp, C);
        if (!c)
            return false;
        if (beta != 1.0f) {
            Value *ops[2] = {c, scalar_f32(imp, out->name, ".beta", beta)};
            c = onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, C->name, ".beta"), c->type)->result;
        }
        Value *ops[2] = {y, c};
        y = onnx_emit(imp, OP_ADD, ops, 2, onnx_name(imp, out->name, NULL), yt)->result;
    }
    return finish_q(imp, out, y, false);
}

/* MatMul with numpy semantics (1-D operands get a 1 prepended/appended and
 * removed again).  A 2-D constant B makes a dense layer. */
bool import_matmul(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *A = onnx_in(imp, n, 0), *B = onnx_in(imp, n, 1);
    if (!A || !B || !need_float(imp, A) || !need_float(imp, B))
        return false;
    if (A->rank < 1 || B->rank < 1) {
        onnx_node_error(imp, "operands must have rank at least 1");
        return false;
    }
    int64_t ad[QNN_MAX_RANK], bd[QNN_MAX_RANK];
    int ar = A->rank, br = B->rank;
    memcpy(ad, A->dims, sizeof ad);
    memcpy(bd, B->dims, sizeof bd);
    if (ar == 1)
        ad[1] = ad[0], ad[0] = 1, ar = 2;
    if (br == 1)
        bd[1] = 1, br = 2;
    int64_t K = ad[ar - 1], M = ad[ar - 2], N = bd[br - 1];
    if (bd[br - 2] != K) {
        onnx_node_error(imp, "A has %lld columns but B has %lld rows", (long long)K, (long long)bd[br - 2]);
        return false;
    }
    /* The result: broadcast batch dims, then [M, N], minus the 1-D dims. */
    OTensor ba = {.name = A->name, .rank = ar - 2}, bb = {.name = B->name, .rank = br - 2};
    memcpy(ba.dims, ad, sizeof ad);
    memcpy(bb.dims, bd, sizeof bd);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, &ba, &bb, od, &r))
        return false;
    if (r + 2 > QNN_MAX_RANK) {
        onnx_node_error(imp, "result rank exceeds %d", QNN_MAX_RANK);
        return false;
    }
    od[r] = M, od[r + 1] = N;
    int full = r + 2;
    int64_t fd[QNN_MAX_RANK];
    int fr = 0;
    for (int i = 0; i < full; i++)
        if (!((i == full - 2 && A->rank == 1) || (i == full - 1 && B->rank == 1)))
            fd[fr++] = od[i];
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, fr, fd);
    if (!out)
        return false;
    OTensor *A2 = A->rank == 1 ? view(imp, A, 2, ad, ".2d") : A;
    OTensor *B2 = B->rank == 1 ? view(imp, B, 2, bd, ".2d") : B;
    if (!A2 || !B2)
        return false;
    Value *a = onnx_val(imp, A2), *y;
    if (!a)
        return false;
    bool reshape_out = fr != full;
    if (B2->c && br == 2) {
        /* dense over the flattened rows of A. */
        static const int64_t p[2] = {1, 0};
        Value *w = onnx_const_perm(imp, B2, p, ".t");
        int64_t rows = onnx_numel(ad, ar - 1), xd[2] = {rows, K}, yd[2] = {rows, N};
        if (!w)
            return false;
        if (ar != 2)
            a = onnx_emit_reshape(imp, a, 2, xd, onnx_name(imp, A->name, ".rows"));
        Value *ops[2] = {a, w};
        bool last = ar == 2 && !reshape_out;
        y = onnx_emit(imp, OP_DENSE, ops, 2, onnx_name(imp, out->name, last ? NULL : ".dense"),
                 onnx_tt(DT_F32, 2, yd, NULL))->result;
        reshape_out = !last;
    } else {
        Value *b = onnx_val(imp, B2);
        if (!b)
            return false;
        Value *ops[2] = {a, b};
        y = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, reshape_out ? ".mm" : NULL),
                 onnx_tt(DT_F32, full, od, NULL))->result;
    }
    if (reshape_out)
        y = onnx_emit_reshape(imp, y, fr, fd, onnx_name(imp, out->name, NULL));
    return finish_q(imp, out, y, false);
}

/* ---------------------------------------------------------------- layout ops */

/* Logical axis A of a 4-D tensor held in NHWC is physical axis phys[A]. */
static const int nhwc_pos[4] = {0, 3, 1, 2};

/* Softmax-13 normalizes along one axis; Softmax-1/11 flattens to 2-D at
 * axis (default 1) and normalizes each row. */
bool import_softmax(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!need_float(imp, x))
        return false;
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", imp->opset < 13 ? 1 : -1), x->rank, &ax))
        return false;
    OTensor *out = define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
    if (!out)
        return false;
    if (imp->opset >= 13 || ax == x->rank - 1) {
        bool nhwc;
        Value *v = any_val(imp, x, &nhwc);
        if (!v)
            return false;
        Node *nd = onnx_emit_r(imp, OP_SOFTMAX, &v, 1, onnx_name(imp, out->name, NULL), v->type);
        node_set_int(imp->g, nd, ATTR_AXIS, nhwc ? nhwc_pos[ax] : ax);
        return finish_q(imp, out, nd->result, nhwc);
    }
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    int64_t d2[2];
    onnx_shape_flatten(imp, x->dims, x->rank, ax, d2);
    v = onnx_emit_reshape(imp, v, 2, d2, onnx_name(imp, out->name, ".2d"));
    Node *nd = onnx_emit_r(imp, OP_SOFTMAX, &v, 1, onnx_name(imp, out->name, ".sm"), v->type);
    node_set_int(imp->g, nd, ATTR_AXIS, 1);
    return finish_q(imp, out, onnx_emit_reshape(imp, nd->result, x->rank, x->dims, onnx_name(imp, out->name, NULL)), false);
}

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
    OTensor *out = define_out(imp, n, 0, x0->type, x0->rank, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x0->quant;
    TensorType t = ops[0]->type;
    t.dims[nhwc ? nhwc_pos[ax] : ax] = od[ax];
    Node *nd = onnx_emit_r(imp, OP_CONCAT, ops, (int)cnt, onnx_name(imp, out->name, NULL), t);
    node_set_int(imp->g, nd, ATTR_AXIS, nhwc ? nhwc_pos[ax] : ax);
    return finish_q(imp, out, nd->result, nhwc);
}

/* Reshape-like ops keep ONNX's element order, so they read the tensor in
 * ONNX layout (an NHWC tensor is transposed back first). */
static bool reshape_to(Imp *imp, const Onnx__NodeProto *n, OTensor *x, int r, const int64_t *od)
{
    OTensor *out = define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    return finish_q(imp, out, onnx_emit_reshape(imp, v, r, od, onnx_name(imp, out->name, NULL)), false);
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

/* Makes OUT an alias of X (Identity, Dropout in inference, no-op ops). */
static void alias(OTensor *out, const OTensor *x)
{
    const char *name = out->name;
    *out = *x;
    out->name = name;
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
    OTensor *out = define_out(imp, n, 0, x->type, k, od);
    if (!out)
        return false;
    bool nhwc = onnx_is_nhwc(x);
    int64_t q[QNN_MAX_RANK];
    bool ident = true;
    for (int i = 0; i < k; i++) {
        /* Logical dim j of an NHWC tensor is physical dim nhwc_pos[j]. */
        q[i] = nhwc ? nhwc_pos[p[i]] : p[i];
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
        out->v = fix_q(imp, v);
        return true;
    }
    return finish_q(imp, out, onnx_emit_transpose(imp, v, q, onnx_name(imp, out->name, NULL)), false);
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
    OTensor *out = define_out(imp, n, 0, x->type, x->rank, od);
    if (!out)
        return false;
    if (zero && !imp->fq) {
        alias(out, x);
        return true;
    }
    bool nhwc;
    Value *v = any_val(imp, x, &nhwc);
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
    return finish_q(imp, out, nd->result, nhwc);
}

bool import_identity(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    alias(out, x);
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
    if (tm && (!tm->c || ctensor_i(tm->c, 0) != 0)) {
        onnx_node_error(imp, "training mode is not supported");
        return false;
    }
    return import_identity(imp, n);
}

/* QLinearMatMul / MatMulInteger: integer matmul of a[..., M, K] and
 * b[..., K, N] (both rank >= 2), b's per-column quantization on its last
 * axis as the IR matmul wants it. */
bool onnx_matmul_core(Imp *imp, const Onnx__NodeProto *n, OTensor *A, OTensor *B, int32_t otype, const Quant *oq,
                  bool rounding)
{
    if (A->rank < 2 || B->rank < 2) {
        onnx_node_error(imp, "1-D operands are not supported by quantized matmul");
        return false;
    }
    int64_t K = A->dims[A->rank - 1];
    if (B->dims[B->rank - 2] != K) {
        onnx_node_error(imp, "A has %lld columns but B has %lld rows", (long long)K, (long long)B->dims[B->rank - 2]);
        return false;
    }
    OTensor ba = {.name = A->name, .rank = A->rank - 2}, bb = {.name = B->name, .rank = B->rank - 2};
    memcpy(ba.dims, A->dims, sizeof ba.dims);
    memcpy(bb.dims, B->dims, sizeof bb.dims);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, &ba, &bb, od, &r) || r + 2 > QNN_MAX_RANK)
        return false;
    od[r] = A->dims[A->rank - 2];
    od[r + 1] = B->dims[B->rank - 1];
    OTensor *out = define_out(imp, n, 0, otype, r + 2, od);
    if (!out)
        return false;
    out->quant = oq;
    Value *ops[2] = {onnx_val(imp, A), onnx_val(imp, B)};
    if (!ops[0] || !ops[1])
        return false;
    DType dt;
    onnx_dtype(otype, &dt);
    Node *nd = onnx_emit(imp, OP_MATMUL, ops, 2, onnx_name(imp, out->name, NULL), onnx_tt(dt, r + 2, od, oq));
    if (rounding)
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return finish_q(imp, out, nd->result, false);
}

/* A fused QDQ Gemm (alpha = beta = 1, A not transposed): dense with the
 * constant B re-laid to [N, K] and an int32 bias C of shape [N]. */
bool onnx_gemm_core(Imp *imp, const Onnx__NodeProto *n, OTensor *A, OTensor *B, OTensor *C, int32_t otype,
                const Quant *oq)
{
    bool tb = onnx_attr_int(n, "transB", 0) != 0;
    if (A->rank != 2 || B->rank != 2 || !B->c) {
        onnx_node_error(imp, "A and B must be matrices, B a constant");
        return false;
    }
    int64_t K = tb ? B->dims[1] : B->dims[0], N = tb ? B->dims[0] : B->dims[1];
    if (A->dims[1] != K) {
        onnx_node_error(imp, "A has %lld columns but B' has %lld rows", (long long)A->dims[1], (long long)K);
        return false;
    }
    if (C && (C->rank != 1 || C->dims[0] != N)) {
        onnx_node_error(imp, "the quantized bias must have shape [%lld]", (long long)N);
        return false;
    }
    int64_t od[2] = {A->dims[0], N};
    OTensor *out = define_out(imp, n, 0, otype, 2, od);
    if (!out)
        return false;
    out->quant = oq;
    static const int64_t p[2] = {1, 0};
    Value *ops[3] = {onnx_val(imp, A), tb ? onnx_val(imp, B) : onnx_const_perm(imp, B, p, ".t"),
                     C ? onnx_val(imp, C) : NULL};
    if (!ops[0] || !ops[1] || (C && !ops[2]))
        return false;
    DType dt;
    onnx_dtype(otype, &dt);
    Node *nd = onnx_emit(imp, OP_DENSE, ops, C ? 3 : 2, onnx_name(imp, out->name, NULL), onnx_tt(dt, 2, od, oq));
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    set_act(imp, nd);
    return finish_q(imp, out, nd->result, false);
}
