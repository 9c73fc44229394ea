/* onnx_elementwise.c - elementwise ops: arithmetic, activations,
 * comparisons and selection.
 *
 * Add, Sub, Mul, Div (numpy broadcasting), Relu, LeakyRelu, Sigmoid, Tanh,
 * HardSwish, Exp, Log, Sqrt, Reciprocal, Erf, Abs, Neg, Elu, Clip,
 * HardSigmoid, Max, Min, Sum, Mean, PRelu, Pow, Equal, Greater,
 * GreaterOrEqual, Less, LessOrEqual, Not, Where (BOOL tensors are the
 * IR's u8 booleans) and Cast of run-time tensors.  They work in whichever layout their
 * input has (onnx_any_val), remapping nothing: the op is the same in NCHW
 * and NHWC.  Numeric rules cite the ONNX operator specification
 * (https://onnx.ai/onnx/operators/) next to the code.
 */
#include "onnx_internal.h"

#include <math.h>
#include <string.h>

/* The front of every broadcasting binary op: the broadcast shape OD of rank
 * *R, and X and Y broadcast to it (OPS), in NHWC (*NHWC) when a rank-4
 * operand already is.  The operands must have one element type. */
static bool bcast_operands(Imp *imp, OTensor *x, OTensor *y, int64_t *od, int *r, bool *nhwc, Value *ops[2])
{
    if (!onnx_shape_broadcast(imp, x, y, od, r))
        return false;
    if (x->type != y->type) {
        onnx_node_error(imp, "operands have different element types %s and %s", onnx_type_name(x->type),
                        onnx_type_name(y->type));
        return false;
    }
    *nhwc = *r == 4 && (onnx_is_nhwc(x) || onnx_is_nhwc(y));
    ops[0] = onnx_bcast_operand(imp, x, *r, *nhwc);
    ops[1] = onnx_bcast_operand(imp, y, *r, *nhwc);
    return ops[0] && ops[1];
}

/* The IR type of a broadcast result of logical shape OD: dtype DT, its
 * dims in NHWC order when NHWC. */
static TensorType bcast_type(DType dt, int r, const int64_t *od, bool nhwc)
{
    TensorType t = onnx_tt(dt, r, od, NULL);
    if (nhwc)
        for (int i = 0; i < 4; i++)
            t.dims[i] = od[onnx_perm_to_nhwc[i]];
    return t;
}

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
    bool nhwc;
    Value *ops[2];
    if (!bcast_operands(imp, x, y, od, &r, &nhwc, ops))
        return false;
    OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, r, od);
    if (!out)
        return false;
    TensorType t = bcast_type(DT_F32, r, od, nhwc);
    OpId id = op == 'A' ? OP_ADD : op == 'S' ? OP_SUB : op == 'M' ? OP_MUL : OP_DIV;
    return onnx_finish(imp, out, onnx_emit_r(imp, id, ops, 2, onnx_name(imp, out->name, NULL), t)->result, nhwc);
}

static OTensor *bcast2(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *y, OpId id, int32_t otype,
                       OTensor *out);

/* The unary ONNX ops and their IR ops. */
static const struct {
    const char *onnx;
    OpId op;
} unary_ops[] = {
    {"Relu", OP_RELU},     {"LeakyRelu", OP_LEAKY_RELU}, {"Sigmoid", OP_SIGMOID}, {"Tanh", OP_TANH},
    {"HardSwish", OP_HARD_SWISH}, {"Exp", OP_EXP}, {"Log", OP_LOG}, {"Sqrt", OP_SQRT},
    {"Reciprocal", OP_RECIPROCAL}, {"Erf", OP_ERF}, {"Abs", OP_ABS}, {"Neg", OP_NEG}, {"Elu", OP_ELU},
};

/* Relu, LeakyRelu, Sigmoid, Tanh, HardSwish, Exp, Log, Sqrt, Reciprocal,
 * Erf, Abs, Neg, Elu: same shape, any layout. */
bool import_unary(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const char *op = n->op_type;
    if (!(strcmp(op, "Relu") ? onnx_need_float(imp, x) : onnx_need_float_or_q(imp, x)))
        return false;
    OpId id = OP_RELU;
    for (size_t k = 0; k < sizeof unary_ops / sizeof *unary_ops; k++)
        if (!strcmp(op, unary_ops[k].onnx))
            id = unary_ops[k].op;
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, x->dims);
    if (!v || !out)
        return false;
    Node *nd = onnx_emit_r(imp, id, &v, 1, onnx_name(imp, out->name, NULL), v->type);
    if (id == OP_LEAKY_RELU)
        node_set_float(imp->g, nd, ATTR_ALPHA, onnx_attr_float(n, "alpha", 0.01f)); /* LeakyRelu: alpha 0.01 */
    if (id == OP_ELU)
        node_set_float(imp->g, nd, ATTR_ALPHA, onnx_attr_float(n, "alpha", 1.0f)); /* Elu: alpha 1 */
    if (!imp->fq)
        out->quant = x->quant;
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* A scalar bound of Clip-11+: an optional input, known at import time
 * (*HAS, *V) or computed at run time (*RT): one element no wider in rank
 * than X, so that broadcasting it keeps X's shape. */
static bool clip_bound(Imp *imp, const Onnx__NodeProto *n, size_t i, const OTensor *x, bool *has, float *v,
                       OTensor **rt)
{
    OTensor *t = onnx_in(imp, n, i);
    *has = false;
    *rt = NULL;
    if (!t)
        return true;
    const char *which = i == 1 ? "min" : "max";
    if (t->c) {
        if (t->c->numel != 1) {
            onnx_node_error(imp, "the %s input '%s' must be a scalar, not %lld elements", which, t->name,
                            (long long)t->c->numel);
            return false;
        }
        *has = true;
        *v = (float)ctensor_f(t->c, 0);
        return true;
    }
    if (onnx_numel(t->dims, t->rank) != 1 || t->rank > x->rank) {
        onnx_node_error(imp, "the %s input '%s' must be a scalar (one element, rank at most %d), not %lld "
                        "elements of rank %d", which, t->name, x->rank, (long long)onnx_numel(t->dims, t->rank),
                        t->rank);
        return false;
    }
    if (imp->fq) {
        onnx_node_error(imp, "the %s input '%s' is computed at run time; a Clip between DequantizeLinear and "
                        "QuantizeLinear needs constant bounds", which, t->name);
        return false;
    }
    if (!onnx_need_float(imp, t))
        return false;
    *rt = t;
    return true;
}

/* Clip-6 has min/max attributes, Clip-11 optional inputs; absent bounds are
 * open (Clip-6's defaults are -/+FLT_MAX, which clamp no float).  ONNX
 * defines Clip as min(max(x, min), max); a bound computed at run time (as
 * openWakeWord's log-mel floor, ReduceMax(x) - 80 dB) is a broadcasting
 * max or min with it, in that order, and a constant one a clip. */
bool import_clip(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!onnx_need_float_or_q(imp, x))
        return false;
    bool hmin, hmax;
    float lo = 0, hi = 0;
    OTensor *rmin = NULL, *rmax = NULL;
    if (imp->opset < 11) {
        hmin = onnx_attr(n, "min") != NULL, hmax = onnx_attr(n, "max") != NULL;
        lo = onnx_attr_float(n, "min", 0), hi = onnx_attr_float(n, "max", 0);
    } else if (!clip_bound(imp, n, 1, x, &hmin, &lo, &rmin) || !clip_bound(imp, n, 2, x, &hmax, &hi, &rmax)) {
        return false;
    }
    if (hmin && hmax && lo > hi) {
        onnx_node_error(imp, "min %g is greater than max %g", (double)lo, (double)hi);
        return false;
    }
    if (rmin || rmax) {
        /* An open constant bound (an infinity) clamps nothing: no clip. */
        hmin = hmin && lo != -INFINITY;
        hmax = hmax && hi != INFINITY;
        OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, x->dims);
        if (!out)
            return false;
        /* The steps in ONNX's order: the lower bound, then the upper one;
         * the last step writes OUT. */
        struct { bool on; OTensor *rt; float c; OpId op; AttrId attr; } step[2] = {
            {hmin || rmin, rmin, lo, OP_MAX, ATTR_MIN},
            {hmax || rmax, rmax, hi, OP_MIN, ATTR_MAX},
        };
        OTensor *acc = x;
        for (int k = 0; k < 2; k++) {
            if (!step[k].on)
                continue;
            bool last = k == 1 || !step[1].on;
            if (step[k].rt) {
                if (!(acc = bcast2(imp, n, acc, step[k].rt, step[k].op, OT_FLOAT, last ? out : NULL)))
                    return false;
                continue;
            }
            bool nhwc;
            Value *v = onnx_any_val(imp, acc, &nhwc);
            if (!v)
                return false;
            const char *name = last ? onnx_name(imp, out->name, NULL) : onnx_name(imp, n->output[0], ".part");
            Node *nd = onnx_emit(imp, OP_CLIP, &v, 1, name, v->type);
            node_set_float(imp->g, nd, step[k].attr, step[k].c);
            OTensor *r = last ? out : onnx_temp(imp, name, OT_FLOAT, x->rank, x->dims);
            onnx_set(r, nd->result, nhwc);
            acc = r;
        }
        return true;
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

/* ---------------------------------------------------------------- broadcasting ops of issue 12 */

/* Emits ID(X, Y) with numpy broadcasting and result dtype DT (u8 for
 * comparisons), in NHWC when a rank-4 operand already is; returns the
 * result as a temporary OTensor of ONNX type OTYPE named NAME (the final
 * output's OTensor when OUT is given). */
static OTensor *bcast2(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *y, OpId id, int32_t otype,
                       OTensor *out)
{
    int64_t od[QNN_MAX_RANK];
    int r;
    bool nhwc;
    Value *ops[2];
    if (!bcast_operands(imp, x, y, od, &r, &nhwc, ops))
        return NULL;
    const char *name;
    if (out) {
        name = onnx_name(imp, out->name, NULL);
    } else {
        name = onnx_name(imp, n->output[0], ".part");
        out = onnx_temp(imp, name, otype, r, od);
    }
    DType dt;
    onnx_dtype(otype, &dt);
    TensorType t = bcast_type(dt, r, od, nhwc);
    if (dt != DT_U8 && dtype_traits[dt].is_int)
        t.quant = ops[0]->type.quant;
    Node *nd = onnx_emit(imp, id, ops, 2, name, t);
    onnx_set(out, nd->result, nhwc);
    return out;
}

/* The output OTensor of a broadcast of X and Y (shape only). */
static OTensor *bcast_out(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *y, int32_t otype)
{
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_shape_broadcast(imp, x, y, od, &r))
        return NULL;
    return onnx_define_out(imp, n, 0, otype, r, od);
}

/* An operand of a comparison or Where: FLOAT or an integer type the IR
 * has. */
static bool need_ir_type(Imp *imp, const OTensor *t)
{
    DType dt;
    if (t->type == OT_BOOL || !onnx_dtype(t->type, &dt)) {
        onnx_node_error(imp, "input '%s' has element type %s; this op is supported on FLOAT, UINT8, INT8, "
                        "INT16 and INT32 tensors", t->name, onnx_type_name(t->type));
        return false;
    }
    return true;
}

/* Max, Min, Sum, Mean: variadic with numpy broadcasting, float; a chain of
 * the IR's binary max, min or add, left to right as ONNX's reference
 * evaluates them.  Mean is the sum times the float32 1/n (within an ulp of
 * the reference's division, and quantizable, unlike div). */
bool import_variadic(Imp *imp, const Onnx__NodeProto *n)
{
    const char *op = n->op_type;
    OpId id = !strcmp(op, "Max") ? OP_MAX : !strcmp(op, "Min") ? OP_MIN : OP_ADD;
    bool mean = !strcmp(op, "Mean");
    size_t k = n->n_input;
    OTensor *acc = onnx_in(imp, n, 0);
    /* Max and Min also compare raw integers (exact); Sum and Mean, like
     * Add, are float only. */
    bool any = id != OP_ADD;
    if (!(any ? need_ir_type(imp, acc) : onnx_need_float(imp, acc)))
        return false;
    if (k == 1 && !mean) {
        OTensor *out = onnx_out(imp, n, 0);
        if (!out)
            return false;
        onnx_alias(out, acc);
        return true;
    }
    for (size_t i = 1; i < k; i++) {
        OTensor *y = onnx_in(imp, n, i);
        if (!y || !(any ? need_ir_type(imp, y) : onnx_need_float(imp, y)))
            return false;
        bool last = i + 1 == k && !mean;
        OTensor *out = last ? bcast_out(imp, n, acc, y, acc->type) : NULL;
        if ((last && !out) || !(acc = bcast2(imp, n, acc, y, id, acc->type, out)))
            return false;
    }
    if (mean) {
        OTensor *c = onnx_temp(imp, "", OT_FLOAT, 0, NULL);
        c->v = onnx_scalar_f32(imp, n->output[0], ".inv_n", 1.0f / (float)k);
        OTensor *out = bcast_out(imp, n, acc, c, OT_FLOAT);
        if (!out || !bcast2(imp, n, acc, c, OP_MUL, OT_FLOAT, out))
            return false;
    }
    return true;
}

/* PRelu (slope broadcasting to X, "unidirectional"), float. */
bool import_prelu(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *s = onnx_in(imp, n, 1);
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, s))
        return false;
    if (s->rank == 1 && x->rank >= 3 && s->dims[0] == x->dims[1] && s->dims[0] != x->dims[x->rank - 1]) {
        /* A per-channel slope [C] of an NC... input, as PyTorch exports it
         * (PRelu before opset 7 broadcast it along axis 1): [C,1,...,1]. */
        int64_t d[QNN_MAX_RANK];
        d[0] = s->dims[0];
        for (int i = 1; i < x->rank - 1; i++)
            d[i] = 1;
        if (!(s = onnx_view(imp, s, x->rank - 1, d, ".c")))
            return false;
    }
    OTensor *out = bcast_out(imp, n, x, s, OT_FLOAT);
    if (!out)
        return false;
    if (out->rank != x->rank || onnx_numel(out->dims, out->rank) != onnx_numel(x->dims, x->rank)) {
        onnx_node_error(imp, "slope must broadcast to the shape of X");
        return false;
    }
    return bcast2(imp, n, x, s, OP_PRELU, OT_FLOAT, out) != NULL;
}

/* Pow, float.  A constant scalar exponent 2 is x*x and 0.5 is sqrt(x):
 * the correctly rounded square and square root (numpy.power, ONNX's
 * reference, special-cases both the same way), int8-quantizable (mul, a
 * lut) where pow is float only.  Any other exponent stays a pow. */
bool import_pow(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *y = onnx_in(imp, n, 1);
    if (!onnx_need_float(imp, x))
        return false;
    if (y->c && y->c->numel == 1) {
        double e = ctensor_f(y->c, 0);
        if (e == 2.0 || e == 0.5) {
            bool nhwc;
            Value *v = onnx_any_val(imp, x, &nhwc);
            OTensor *out = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, x->dims);
            if (!v || !out)
                return false;
            Value *ops[2] = {v, v};
            Node *nd = e == 2.0 ? onnx_emit(imp, OP_MUL, ops, 2, onnx_name(imp, out->name, NULL), v->type)
                                : onnx_emit(imp, OP_SQRT, ops, 1, onnx_name(imp, out->name, NULL), v->type);
            onnx_set(out, nd->result, nhwc);
            return true;
        }
    }
    if (!onnx_need_float(imp, y) || !onnx_legacy_broadcast_ok(imp, n, x, y))
        return false;
    OTensor *out = bcast_out(imp, n, x, y, OT_FLOAT);
    return out && bcast2(imp, n, x, y, OP_POW, OT_FLOAT, out);
}

static bool need_bool(Imp *imp, const OTensor *t)
{
    if (t->type != OT_BOOL) {
        onnx_node_error(imp, "input '%s' has element type %s, but BOOL is required", t->name,
                   onnx_type_name(t->type));
        return false;
    }
    return true;
}

/* Equal, Greater, GreaterOrEqual, Less, LessOrEqual: broadcasting; the
 * BOOL result is the IR's u8 boolean. */
bool import_compare(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *y = onnx_in(imp, n, 1);
    if (!need_ir_type(imp, x) || !need_ir_type(imp, y) || !onnx_legacy_broadcast_ok(imp, n, x, y))
        return false;
    const char *op = n->op_type;
    OpId id = !strcmp(op, "Equal") ? OP_EQUAL : !strcmp(op, "Greater") ? OP_GREATER
            : !strcmp(op, "GreaterOrEqual") ? OP_GREATER_EQUAL : !strcmp(op, "Less") ? OP_LESS : OP_LESS_EQUAL;
    OTensor *out = bcast_out(imp, n, x, y, OT_BOOL);
    return out && bcast2(imp, n, x, y, id, OT_BOOL, out);
}

/* Not: BOOL, any layout. */
bool import_not(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (!need_bool(imp, x))
        return false;
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, OT_BOOL, x->rank, x->dims);
    if (!v || !out)
        return false;
    onnx_set(out, onnx_emit(imp, OP_NOT, &v, 1, onnx_name(imp, out->name, NULL), v->type)->result, nhwc);
    return true;
}

/* Where(cond, X, Y): the three broadcast together (ONNX layout). */
bool import_where(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *c = onnx_in(imp, n, 0), *x = onnx_in(imp, n, 1), *y = onnx_in(imp, n, 2);
    if (!need_bool(imp, c) || !need_ir_type(imp, x) || !need_ir_type(imp, y))
        return false;
    if (x->type != y->type) {
        onnx_node_error(imp, "operands have different element types %s and %s", onnx_type_name(x->type),
                   onnx_type_name(y->type));
        return false;
    }
    int64_t xy[QNN_MAX_RANK];
    int rxy;
    if (!onnx_shape_broadcast(imp, x, y, xy, &rxy))
        return false;
    OTensor *t = onnx_temp(imp, "", x->type, rxy, xy);
    OTensor *out = bcast_out(imp, n, c, t, x->type);
    if (!out)
        return false;
    Value *ops[3] = {onnx_val(imp, c), onnx_val(imp, x), onnx_val(imp, y)};
    if (!ops[0] || !ops[1] || !ops[2])
        return false;
    if (!quant_equal(ops[1]->type.quant, ops[2]->type.quant)) {
        onnx_node_error(imp, "X and Y must have the same quantization");
        return false;
    }
    DType dt;
    onnx_dtype(x->type, &dt);
    TensorType tt = onnx_tt(dt, out->rank, out->dims, ops[1]->type.quant);
    onnx_set(out, onnx_emit(imp, OP_WHERE, ops, 3, onnx_name(imp, out->name, NULL), tt)->result, false);
    return true;
}

/* Cast of a run-time tensor (one known at import time is eval_cast's): the
 * IR's cast between its dtypes, on plain (unquantized) tensors, in any
 * layout.  To BOOL is x != 0 (NaN is true), not(equal(x, 0)); from BOOL
 * reads the u8 0 or 1.  A cast to the tensor's own type is the tensor. */
bool import_cast(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int32_t to = (int32_t)onnx_attr_int(n, "to", OT_UNDEFINED);
    if (!onnx_cast_target_ok(imp, to))
        return false;
    if (to == x->type) {
        OTensor *out = onnx_out(imp, n, 0);
        if (!out)
            return false;
        onnx_alias(out, x);
        return true;
    }
    DType xd, yd;
    if (!onnx_dtype(x->type, &xd) || !onnx_dtype(to, &yd)) {
        onnx_node_error(imp, "Cast from %s to %s of a run-time tensor is not supported (the IR has FLOAT, UINT8, "
                        "INT8, INT16, INT32 and BOOL)", onnx_type_name(x->type), onnx_type_name(to));
        return false;
    }
    if (x->quant) {
        onnx_node_error(imp, "Cast of the quantized tensor '%s' is not supported (DequantizeLinear gives its "
                        "real values)", x->name);
        return false;
    }
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    OTensor *out = onnx_define_out(imp, n, 0, to, x->rank, x->dims);
    if (!v || !out)
        return false;
    TensorType t = v->type;
    t.dtype = yd;
    const char *name = onnx_name(imp, out->name, NULL);
    if (to == OT_BOOL && x->type != OT_BOOL) {
        OTensor *z = onnx_temp(imp, out->name, x->type, 0, NULL);
        z->c = ctensor_new(&imp->arena, x->type, 0, NULL);
        if (z->c->f)
            z->c->f[0] = 0;
        else
            z->c->i[0] = 0;
        Value *ops[2] = {v, onnx_const_perm(imp, z, NULL, ".zero")};
        if (!ops[1])
            return false;
        Value *eq = onnx_emit(imp, OP_EQUAL, ops, 2, onnx_name(imp, out->name, ".is0"), t)->result;
        onnx_set(out, onnx_emit(imp, OP_NOT, &eq, 1, name, t)->result, nhwc);
        return true;
    }
    onnx_set(out, onnx_emit(imp, OP_CAST, &v, 1, name, t)->result, nhwc);
    return true;
}
