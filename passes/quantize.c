/* quantize.c - turn a calibrated float graph into a quantized one.
 *
 * requires: a float graph (f32 inputs, constants and node results) whose f32
 *           inputs and node results carry calibrated ranges (`range(lo, hi)`,
 *           written by calibrate) for schemes int8 and int16x8; none for
 *           hybrid and none
 * guarantees: a graph that passes ir_verify, computing the same function up
 *           to quantization error.  The interface stays float: every f32
 *           graph input is followed by a `quantize`, every graph output
 *           that would be quantized is preceded by a `dequantize` that keeps
 *           the output's name.  Quantized ops carry rounding=cfg rounding.
 *           Nodes that stay float keep their range annotations.
 * invalidates: value ids (renumbered), every Value and Node pointer into the
 *           graph (the graph is rebuilt)
 *
 * The rules, with the reasons for each choice, are in docs/passes.md
 * ("quantize").  In short, per node, in topological order:
 *   - conv2d, dense, matmul: int8 symmetric weights (per output channel by
 *     default), int32 bias at scale x.scale * w.scale, requantizing result;
 *   - add, sub, mul, max, min, prelu, avg_pool, global_avg_pool, concat:
 *     quantized operands, result with its own calibrated params (the op
 *     requantizes), except that a concat of operands quantized alike (the
 *     slices of one Gather) keeps their params;
 *   - relu, clip, max_pool, reshape, transpose, pad (OPF_SAME_QUANT): follow
 *     their input: quantized with the input's params if the input is
 *     quantized, float otherwise;
 *   - gather (an embedding lookup): a constant table is quantized over its
 *     own range to the activation dtype, the result keeps its params, the
 *     i32 indices are copied; a run-time table follows its producer;
 *   - sigmoid, tanh, hard_swish, leaky_relu and the other unary
 *     OPF_NONLINEAR functions (exp, log, sqrt, erf, gelu, ...): a `lut` with a compile-time
 *     i8[256] table when activations are i8 or u8 (u8 is requantized to i8
 *     and back exactly: same scale, zero point moved by 128), float for i16;
 *     a sigmoid or tanh result, wherever it is quantized, gets the fixed
 *     params of TFLite's spec, not its calibrated range (fixed_params);
 *   - softmax, batchnorm, div, pow and anything else (comparisons and
 *     where, whose u8 booleans are not quantized values, are copied with
 *     float operands): float, with dequantize /
 *     quantize inserted around it as the neighbours need.
 * Conversions are made lazily, when a consumer needs a value in a form its
 * producer did not give, and each is made once. */
#include "passes.h"
#include "quant.h"

#include "fixedpoint.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* How one node of the float graph is rebuilt. */
typedef enum {
    MODE_FLOAT, /* stays f32; operands are dequantized as needed */
    MODE_QUANT, /* quantized with activation dtype Ctx.dt[node] */
    MODE_LUT,   /* nonlinear op as an i8 lookup table */
    MODE_COPY,  /* not a float node: copied unchanged */
} Mode;

/* What is known about one value of the old graph, and its versions in the
 * new one. */
typedef struct VInfo {
    Value *f;            /* the f32 version */
    Value *q[DT_COUNT];  /* quantized (or, for MODE_COPY, unchanged) versions by dtype */
    Value *w;            /* as an int8 symmetric weight along axis W_AXIS, */
    int w_axis;
    const Value *w_bias; /* its scales raised for this bias at input scale W_SX */
    double w_sx;
    Value *w_dq;         /* hybrid: the dequantized weight */
    bool has_eff;        /* effective range, see compute_ranges */
    double lo, hi;
    int uses;
    bool is_output;
} VInfo;

/* A derived constant (a quantized or copied weight): after DCE, the first
 * surviving one takes the original name back if that name is free. */
typedef struct Rename {
    Value *v;
    const char *origin;
} Rename;

typedef struct Ctx {
    const Graph *g; /* the float graph, read only */
    Graph *ng;      /* the graph being built */
    const QnncConfig *cfg;
    VInfo *vi;      /* by old value id */
    Mode *mode;     /* by old node id */
    DType *dt;      /* by old node id, for MODE_QUANT */
    const QuantOverride **ov; /* by old node id, or NULL */
    QuantOverride *auto_ov;   /* by old node id: outlier_output's i16 choices */
    Rename *renames;
    int num_renames;
} Ctx;

/* ---------------------------------------------------------------- helpers */

static bool name_taken(const Ctx *c, const char *name)
{
    return graph_find_value(c->g, name) || graph_find_value(c->ng, name);
}

/* BASE + SUFFIX, or with ".1", ".2", ... appended until it names nothing in
 * either graph. */
static const char *fresh_name(Ctx *c, const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 24;
    char *buf = arena_alloc(&c->ng->arena, n);
    snprintf(buf, n, "%s%s", base, suffix);
    for (int k = 1; name_taken(c, buf); k++)
        snprintf(buf, n, "%s%s.%d", base, suffix, k);
    return buf;
}

static void copy_attrs(Graph *ng, Node *dst, const Node *src)
{
    for (int i = 0; i < src->num_attrs; i++) {
        const Attr *a = &src->attrs[i];
        switch (attr_info[a->id].kind) {
        case AK_INT: node_set_int(ng, dst, a->id, a->u.i); break;
        case AK_ENUM: node_set_enum(ng, dst, a->id, a->u.i); break;
        case AK_FLOAT: node_set_float(ng, dst, a->id, a->u.f); break;
        case AK_INTS: node_set_ints(ng, dst, a->id, a->u.ints, a->count); break;
        case AK_FLOATS: node_set_floats(ng, dst, a->id, a->u.floats, a->count); break;
        }
    }
}

static TensorType with_quant(Ctx *c, TensorType t, DType dt, QParam p)
{
    t.dtype = dt;
    t.quant = quant_new(&c->ng->arena, -1, 1, &p.scale, &p.zp);
    return t;
}

static QParam params_of(const Value *v)
{
    return (QParam){v->type.quant->scale[0], v->type.quant->zero_point[0]};
}

/* Adds N to the new graph unchanged but for its operands OPS: same op,
 * result name and type, attributes (the configured rounding is NOT imposed,
 * unlike add_node), locations and calibrated range. */
static Node *clone_node(Ctx *c, const Node *n, Value **ops)
{
    Node *nn = graph_add_node(c->ng, n->op, ops, n->num_operands, n->result->name, n->result->type);
    copy_attrs(c->ng, nn, n);
    nn->loc = n->loc;
    nn->result->loc = n->result->loc;
    nn->result->has_range = n->result->has_range;
    nn->result->range_lo = n->result->range_lo;
    nn->result->range_hi = n->result->range_hi;
    return nn;
}

/* Adds a node to the new graph at LOC.  SRC, if given, supplies the
 * attributes.  Every quantized op that has a rounding attribute gets the
 * configured one. */
static Value *add_node(Ctx *c, OpId op, Value **ops, int n, const char *name, TensorType t,
                       const Node *src, SrcLoc loc)
{
    Node *nn = graph_add_node(c->ng, op, ops, n, name, t);
    if (src)
        copy_attrs(c->ng, nn, src);
    if ((op_info[op].attrs & A(ROUNDING)) && dtype_traits[t.dtype].is_int) {
        /* TFLite's ADD/SUB arithmetic as the IR defines it (operands shifted
         * left by 20 bits in int32) is the int8 kernel's; int16 operands
         * would wrap, and TFLite's own 16x8 ADD uses another shift.  So
         * int16 add and sub requantize the onnx way, exactly. */
        bool wide = t.dtype == DT_I16 && (op == OP_ADD || op == OP_SUB);
        node_set_enum(c->ng, nn, ATTR_ROUNDING, wide ? ROUND_ONNX : c->cfg->quant.rounding);
    }
    nn->loc = loc;
    nn->result->loc = loc;
    return nn->result;
}

static Value *add_const(Ctx *c, const Value *origin, const char *suffix, TensorType t, const void *data)
{
    Value *v = graph_add_const(c->ng, fresh_name(c, origin->name, suffix), t, data);
    v->loc = origin->loc;
    c->renames = xrealloc(c->renames, (size_t)(c->num_renames + 1) * sizeof *c->renames);
    c->renames[c->num_renames++] = (Rename){v, origin->name};
    return v;
}

static void report_no_range(const Value *v)
{
    diag_error(v->loc,
               "quantize: %%%s has no calibrated range: run calibrate with a [calibration] "
               "dataset, or use scheme = \"hybrid\"",
               v->name);
}

/* The output params TFLite's quantization spec fixes for a sigmoid or tanh
 * result, whatever its calibrated range: the function's whole codomain on
 * the dtype's grid (sigmoid [0, 1), tanh [-1, 1)).  int8 LOGISTIC
 * 1/256 zp -128, TANH 1/128 zp 0 (u8: zero points 0 and 128, the same
 * reals); int16 both 1/32768 zp 0.  False for any other value. */
static bool fixed_params(const Value *v, DType dt, QParam *p)
{
    if (v->kind != VAL_NODE || (v->def->op != OP_SIGMOID && v->def->op != OP_TANH))
        return false;
    bool sig = v->def->op == OP_SIGMOID;
    switch (dt) {
    case DT_I8: *p = (QParam){sig ? 1.0f / 256 : 1.0f / 128, sig ? -128 : 0}; return true;
    case DT_U8: *p = (QParam){sig ? 1.0f / 256 : 1.0f / 128, sig ? 0 : 128}; return true;
    case DT_I16: *p = (QParam){1.0f / 32768, 0}; return true;
    default: return false;
    }
}

/* Params of old value V in dtype DT: fixed for a sigmoid or tanh result
 * (fixed_params), else from its effective range.  Reports an error and
 * returns false when it needs a range and has none. */
static bool params_for(Ctx *c, const Value *v, DType dt, QParam *p)
{
    const VInfo *i = &c->vi[v->id];
    if (fixed_params(v, dt, p))
        return true;
    if (!i->has_eff) {
        report_no_range(v);
        return false;
    }
    *p = quant_choose_params(i->lo, i->hi, dt);
    return true;
}

/* ---------------------------------------------------------------- the model's boundary */

/* The dtype graph input or output V has at the compiled model's boundary
 * ([model] io_dtype, io_dtypes). */
static DType io_dtype(const Ctx *c, const Value *v)
{
    return config_io_dtype(c->cfg, v->name);
}

/* The raw data the mapping ([model] input_scale, input_offset) is written
 * for: bytes, signed when input V is i8 at the boundary, else unsigned
 * (an 8-bit sensor, IDX pixels). */
static DType raw_dtype(const Ctx *c, const Value *v)
{
    return io_dtype(c, v) == DT_I8 ? DT_I8 : DT_U8;
}

/* The reals the mapping gives the raw values of input V: [lo, hi]. */
static void mapped_range(const Ctx *c, const Value *v, double *lo, double *hi)
{
    const DTypeTraits *r = &dtype_traits[raw_dtype(c, v)];
    double s = c->cfg->model.input_scale, o = c->cfg->model.input_offset;
    *lo = (double)r->min * s + o;
    *hi = (double)r->max * s + o;
}

/* The zero point the mapping implies for input V's raw bytes:
 * raw * s + o = s * (raw - zp) with zp = -o / s.  True when that is an
 * integer of the raw dtype's range (to 1e-3: the offset is written in
 * decimal), i.e. when the raw bytes are themselves the quantized values. */
static bool mapping_zero_point(const Ctx *c, const Value *v, double *zp_out)
{
    double zp = -c->cfg->model.input_offset / c->cfg->model.input_scale;
    const DTypeTraits *r = &dtype_traits[raw_dtype(c, v)];
    *zp_out = zp;
    return fabs(zp - nearbyint(zp)) <= 1e-3 && nearbyint(zp) >= (double)r->min &&
           nearbyint(zp) <= (double)r->max;
}

/* Params of f32 graph input V in dtype DT under the mapping: the raw bytes'
 * own (scale s, zero point -o/s; the other 8-bit dtype has the same reals
 * with the zero point moved by 128) when the mapping allows it, else the
 * mapped range's. */
static QParam mapping_params(const Ctx *c, const Value *v, DType dt)
{
    double zp;
    if ((dt == DT_I8 || dt == DT_U8) && mapping_zero_point(c, v, &zp)) {
        int32_t z = (int32_t)nearbyint(zp);
        DType raw = raw_dtype(c, v);
        if (raw != dt)
            z += raw == DT_U8 ? -128 : 128;
        return (QParam){(float)c->cfg->model.input_scale, z};
    }
    double lo, hi;
    mapped_range(c, v, &lo, &hi);
    return quant_choose_params(lo, hi, dt);
}

/* ---------------------------------------------------------------- versions of a value */

/* The quantized version of V the producer made, if any. */
static Value *home_quant(const Ctx *c, const Value *v)
{
    for (int d = 0; d < DT_COUNT; d++)
        if (c->vi[v->id].q[d] && c->vi[v->id].q[d]->type.quant)
            return c->vi[v->id].q[d];
    return NULL;
}

/* V as f32: the value itself, a copy of a constant, or a dequantize of its
 * quantized version.  A graph output's dequantize takes the output's name,
 * so the model's interface keeps its names. */
static Value *get_f(Ctx *c, const Value *v)
{
    VInfo *i = &c->vi[v->id];
    if (i->f)
        return i->f;
    if (v->kind == VAL_CONST) {
        i->f = add_const(c, v, ".f", v->type, v->data);
        return i->f;
    }
    Value *h = home_quant(c, v);
    if (!h)
        qnn_die("quantize: %%%s has no version to dequantize", v->name);
    TensorType t = v->type;
    const char *name = i->is_output && !graph_find_value(c->ng, v->name)
                           ? v->name
                           : fresh_name(c, v->name, ".dq");
    i->f = add_node(c, OP_DEQUANTIZE, &h, 1, name, t, NULL, v->loc);
    return i->f;
}

/* Quantizes the f32 constant V with activation params chosen from its data
 * (a constant operand of add, mul, concat, ...). */
static Value *quantize_const(Ctx *c, const Value *v, DType dt)
{
    int64_t n = type_numel(&v->type);
    const float *x = v->data;
    double lo = 0, hi = 0;
    for (int64_t k = 0; k < n; k++)
        if (isfinite(x[k])) {
            lo = fmin(lo, x[k]);
            hi = fmax(hi, x[k]);
        }
    QParam p = quant_choose_params(lo, hi, dt);
    int64_t size = dtype_traits[dt].size;
    unsigned char *data = xmalloc((size_t)(n * size));
    for (int64_t k = 0; k < n; k++) {
        int64_t q = quantize_real(x[k], p, ROUND_ONNX, dtype_traits[dt].min, dtype_traits[dt].max);
        if (dt == DT_I8)
            ((int8_t *)data)[k] = (int8_t)q;
        else if (dt == DT_U8)
            ((uint8_t *)data)[k] = (uint8_t)q;
        else
            ((int16_t *)data)[k] = (int16_t)q;
    }
    Value *r = add_const(c, v, ".q", with_quant(c, v->type, dt, p), data);
    free(data);
    return r;
}

/* V quantized as activation dtype DT: the producer's version, a requantize
 * of a version in another dtype, a quantize of the f32 version, or a
 * quantized copy of a constant.  NULL after an error. */
static Value *get_q(Ctx *c, const Value *v, DType dt)
{
    VInfo *i = &c->vi[v->id];
    if (i->q[dt])
        return i->q[dt];
    if (v->kind == VAL_CONST && v->type.dtype == DT_F32)
        return i->q[dt] = quantize_const(c, v, dt);
    Value *src = home_quant(c, v);
    QParam p;
    DType sdt = src ? src->type.dtype : DT_F32;
    if ((sdt == DT_U8 && dt == DT_I8) || (sdt == DT_I8 && dt == DT_U8)) {
        /* Between i8 and u8 the same scale with the zero point moved by 128
         * represents exactly the same reals: the requantize is exact (a
         * multiplier of exactly 1 in either rounding mode). */
        QParam s = params_of(src);
        p = (QParam){s.scale, s.zp + (dt == DT_I8 ? -128 : 128)};
    } else if (fixed_params(v, dt, &p)) {
        /* A sigmoid or tanh result: the spec's params in every dtype. */
    } else if (src && !c->vi[v->id].has_eff) {
        /* No calibrated range, but a quantized version: keep its real range. */
        QParam s = params_of(src);
        double lo = s.scale * ((double)dtype_traits[src->type.dtype].min - s.zp);
        double hi = s.scale * ((double)dtype_traits[src->type.dtype].max - s.zp);
        p = quant_choose_params(lo, hi, dt);
    } else if (!params_for(c, v, dt, &p)) {
        return NULL;
    }
    const char *suffix = dt == DT_I16 ? ".q16" : dt == DT_U8 ? ".qu8" : ".q";
    TensorType t = with_quant(c, v->type, dt, p);
    if (src)
        return i->q[dt] = add_node(c, OP_REQUANTIZE, &src, 1, fresh_name(c, v->name, suffix), t, NULL,
                                   v->loc);
    Value *f = get_f(c, v);
    return i->q[dt] = add_node(c, OP_QUANTIZE, &f, 1, fresh_name(c, v->name, suffix), t, NULL, v->loc);
}

/* Weight layout: the output channel is axis 0 for conv2d (OHWI) and dense
 * ([M,K]) and the last axis for matmul's b ([...,K,N]); -1 per tensor. */
static int weight_axis(const Ctx *c, const Node *n)
{
    if (!c->cfg->quant.per_channel)
        return -1;
    return n->op == OP_MATMUL ? n->operands[1]->type.rank - 1 : 0;
}

/* The constant f32 weight V as int8 symmetric, zero point 0, values in
 * [-127, 127], one scale per slice along AXIS (TFLite int8 spec,
 * "per-axis" weights).  With a constant bias B (per output channel) and
 * the input scale SX, a channel's scale is raised where needed so that
 * |B| stays within 2^30 accumulator units (scale SX x its scale), as
 * TFLite's quantizer raises weight scales for its biases: a channel of
 * near-zero weights with a bias (exporters leave such dead channels)
 * would otherwise need a bias far outside int32, and its weights now
 * round to 0 (an error of at most max|w| per weight).  A warning says
 * when a channel whose weights do not all round to 0 keeps fewer than 64
 * of its 127 steps. */
static Value *get_weight(Ctx *c, const Value *v, int axis, const Value *b, double sx)
{
    VInfo *i = &c->vi[v->id];
    if (i->w && i->w_axis == axis && i->w_bias == b && (!b || i->w_sx == sx))
        return i->w;
    const TensorType *t = &v->type;
    int64_t n = type_numel(t), dim = axis < 0 ? 1 : t->dims[axis], inner = 1;
    for (int d = axis + 1; axis >= 0 && d < t->rank; d++)
        inner *= t->dims[d];
    const float *x = v->data;
    float *amax = xcalloc((size_t)dim, sizeof *amax);
    for (int64_t k = 0; k < n; k++) {
        int64_t ch = axis < 0 ? 0 : (k / inner) % dim;
        if (isfinite(x[k]) && fabsf(x[k]) > amax[ch])
            amax[ch] = fabsf(x[k]);
    }
    float *scale = xmalloc((size_t)dim * sizeof *scale);
    int32_t *zp = xcalloc((size_t)dim, sizeof *zp);
    for (int64_t ch = 0; ch < dim; ch++)
        scale[ch] = quant_weight_scale(amax[ch]);
    if (b && b->kind == VAL_CONST && b->type.dtype == DT_F32 && sx > 0) {
        const float *bf = b->data;
        int64_t nb = type_numel(&b->type);
        for (int64_t k = 0; k < nb; k++) {
            int64_t ch = axis < 0 ? 0 : k;
            double need = fabs((double)bf[k]) / (sx * 1073741824.0);
            if (ch >= dim || !(need > (double)scale[ch] && need <= FLT_MAX))
                continue;
            scale[ch] = (float)need;
            float steps = amax[ch] / scale[ch];
            if (steps >= 0.5f && steps < 63.5f)
                diag_warning(b->loc,
                             "quantize: bias %%%s[%lld] = %g raises the scale of %%%s's channel %lld from %g "
                             "to %g (input scale %g): its weights keep %.0f of 127 steps",
                             b->name, (long long)k, (double)bf[k], v->name, (long long)ch,
                             (double)quant_weight_scale(amax[ch]), (double)scale[ch], sx,
                             (double)steps);
        }
    }
    int8_t *q = xmalloc((size_t)n);
    for (int64_t k = 0; k < n; k++) {
        int64_t ch = axis < 0 ? 0 : (k / inner) % dim;
        q[k] = (int8_t)quantize_real(x[k], (QParam){scale[ch], 0}, ROUND_ONNX, -127, 127);
    }
    TensorType wt = *t;
    wt.dtype = DT_I8;
    wt.quant = quant_new(&c->ng->arena, axis, (int)dim, scale, zp);
    Value *r = add_const(c, v, ".q", wt, q);
    free(amax);
    free(scale);
    free(zp);
    free(q);
    i->w = r;
    i->w_axis = axis;
    i->w_bias = b;
    i->w_sx = sx;
    return r;
}

/* The f32 constant bias B of a node with quantized input X and weight W as
 * int32 in accumulator units: scale = x.scale * w.scale[ch], zero point 0,
 * value round_half_even(b / scale) (TFLite int8 spec, "bias"; ONNX
 * QLinearConv).  Fails, at the bias, when a value does not fit int32. */
static Value *get_bias(Ctx *c, const Value *b, const Value *x, const Value *w)
{
    const Quant *wq = w->type.quant;
    int64_t n = type_numel(&b->type);
    double sx = x->type.quant->scale[0];
    float *scale = xmalloc((size_t)n * sizeof *scale);
    int32_t *zp = xcalloc((size_t)n, sizeof *zp);
    int32_t *q = xmalloc((size_t)n * sizeof *q);
    const float *bf = b->data;
    bool ok = true;
    for (int64_t k = 0; k < n; k++) {
        /* The product of two floats is exact in double: the interpreter
         * and the verifier use the same accumulator scale. */
        double s = sx * (double)wq->scale[wq->count == 1 ? 0 : k];
        scale[k] = (float)s;
        double v = fp_round_half_even((double)bf[k] / s);
        if (!(v >= INT32_MIN && v <= INT32_MAX)) {
            diag_error(b->loc,
                       "quantize: bias %%%s[%lld] = %g is %g in accumulator units (scale %g = "
                       "input scale %g x weight scale %g), which does not fit int32",
                       b->name, (long long)k, (double)bf[k], v, s, sx,
                       (double)wq->scale[wq->count == 1 ? 0 : k]);
            ok = false;
            break;
        }
        q[k] = (int32_t)v;
    }
    Value *r = NULL;
    if (ok) {
        TensorType t = b->type;
        t.dtype = DT_I32;
        t.quant = wq->count == 1 ? quant_new(&c->ng->arena, -1, 1, scale, zp)
                                 : quant_new(&c->ng->arena, 0, (int)n, scale, zp);
        r = add_const(c, b, ".q", t, q);
    }
    free(scale);
    free(zp);
    free(q);
    return r;
}

/* ---------------------------------------------------------------- planning */

static bool is_weighted(OpId op) { return op == OP_CONV2D || op == OP_DENSE || op == OP_MATMUL; }

static bool all_f32(const Node *n)
{
    if (n->result->type.dtype != DT_F32)
        return false;
    for (int k = 0; k < n->num_operands; k++)
        if (n->operands[k]->type.dtype != DT_F32)
            return false;
    return true;
}

/* The activation dtype a value is produced in (DT_F32 when float). */
static DType home_dtype(const Ctx *c, const Value *v)
{
    if (v->kind == VAL_INPUT) {
        /* Integer at the boundary, or quantized on entry by the mapping. */
        const Value *h = v->type.dtype == DT_F32 ? home_quant(c, v) : NULL;
        return h ? h->type.dtype : DT_F32;
    }
    if (v->kind != VAL_NODE)
        return DT_F32;
    const Node *p = v->def;
    switch (c->mode[p->id]) {
    case MODE_QUANT: return c->dt[p->id];
    case MODE_LUT: return DT_I8;
    default: return DT_F32;
    }
}

/* Effective ranges: a value's own calibrated range, or, for results of ops
 * that cannot widen their input (reshape, transpose, max_pool, resize, pad, relu,
 * clip, the average pools), the input's range, narrowed by relu and clip;
 * concat the union of its operands'. */
static void compute_ranges(Ctx *c)
{
    const Graph *g = c->g;
    for (int k = 0; k < g->values.len; k++) {
        const Value *v = g->values.data[k];
        VInfo *i = &c->vi[v->id];
        if (v->kind == VAL_INPUT && v->type.dtype == DT_F32 && c->cfg->model.input_mapping) {
            /* What every raw value maps to, not just what calibration saw. */
            i->has_eff = true;
            mapped_range(c, v, &i->lo, &i->hi);
        } else if (v->has_range) {
            i->has_eff = true;
            i->lo = v->range_lo;
            i->hi = v->range_hi;
        }
    }
    for (int k = 0; k < g->nodes.len; k++) {
        const Node *n = g->nodes.data[k];
        VInfo *r = &c->vi[n->result->id];
        if (r->has_eff && (node_attr(n, ATTR_ACT_MIN) || node_attr(n, ATTR_ACT_MAX))) {
            /* A fused activation clamp (fuse-activation) bounds the result
             * whatever calibration saw; 0 stays inside. */
            double amin = node_float(n, ATTR_ACT_MIN, -INFINITY);
            double amax = node_float(n, ATTR_ACT_MAX, INFINITY);
            r->lo = fmin(fmax(r->lo, amin), 0.0);
            r->hi = fmax(fmin(r->hi, amax), 0.0);
        }
        if (r->has_eff || n->num_operands < 1)
            continue;
        const VInfo *x = &c->vi[n->operands[0]->id];
        switch (n->op) {
        case OP_RELU: case OP_CLIP: case OP_MAX_POOL: case OP_RESIZE: case OP_RESHAPE: case OP_TRANSPOSE:
        case OP_PAD: case OP_SLICE: case OP_AVG_POOL: case OP_GLOBAL_AVG_POOL: case OP_REDUCE_MEAN: case OP_REDUCE_MAX:
        case OP_REDUCE_MIN:
            if (!x->has_eff)
                break;
            r->has_eff = true;
            r->lo = x->lo;
            r->hi = x->hi;
            if (n->op == OP_RELU || n->op == OP_CLIP) {
                double lo = n->op == OP_RELU ? 0.0 : node_float(n, ATTR_MIN, -INFINITY);
                double hi = n->op == OP_RELU ? INFINITY : node_float(n, ATTR_MAX, INFINITY);
                r->lo = fmin(fmax(r->lo, lo), hi);
                r->hi = fmax(fmin(r->hi, hi), lo);
            } else if (n->op == OP_PAD) {
                /* The padding value is part of the result. */
                r->lo = fmin(r->lo, node_float(n, ATTR_VALUE, 0.0f));
                r->hi = fmax(r->hi, node_float(n, ATTR_VALUE, 0.0f));
            }
            break;
        case OP_CONCAT:
            r->has_eff = true;
            r->lo = r->hi = 0;
            for (int j = 0; j < n->num_operands && r->has_eff; j++) {
                const VInfo *o = &c->vi[n->operands[j]->id];
                r->has_eff = o->has_eff;
                r->lo = fmin(r->lo, o->lo);
                r->hi = fmax(r->hi, o->hi);
            }
            break;
        default:
            break;
        }
    }
}

static bool pad_value_fits(const Node *n, QParam p, DType dt)
{
    float v = node_float(n, ATTR_VALUE, 0.0f);
    float q = v / p.scale;
    double r = fp_round_half_even(q) + p.zp;
    return r >= (double)dtype_traits[dt].min && r <= (double)dtype_traits[dt].max;
}

/* Picks each node's mode and dtype, in topological order (the
 * OPF_SAME_QUANT ops follow their input's). */
static void plan(Ctx *c, QuantScheme scheme)
{
    DType dflt = scheme == QSCHEME_INT16X8 ? DT_I16
                 : c->cfg->quant.activation_dtype == DT_U8 ? DT_U8 : DT_I8;
    for (int k = 0; k < c->g->nodes.len; k++) {
        const Node *n = c->g->nodes.data[k];
        const QuantOverride *ov = c->ov[n->id];
        Mode m = MODE_FLOAT;
        DType dt = ov && ov->dtype != DT_F32 ? ov->dtype : dflt;
        if (n->op == OP_GATHER && n->result->type.dtype == DT_F32 && !(ov && ov->dtype == DT_F32)) {
            /* An embedding lookup: a constant table is quantized to the
             * activation dtype over its own range (quantize_const); a
             * run-time table follows its producer like the layout ops.
             * The i32 indices are copied. */
            DType h = home_dtype(c, n->operands[0]);
            if (n->operands[0]->kind == VAL_CONST)
                m = MODE_QUANT;
            else if (h != DT_F32)
                m = MODE_QUANT, dt = h;
            else
                m = MODE_COPY;
        } else if (!all_f32(n)) {
            m = MODE_COPY;
        } else if (ov && ov->dtype == DT_F32) {
            m = MODE_FLOAT;
        } else if (is_weighted(n->op)) {
            const Value *w = n->operands[1];
            bool w_ok = w->kind == VAL_CONST || dt == DT_I8 || dt == DT_U8;
            bool b_ok = n->num_operands < 3 || n->operands[2]->kind == VAL_CONST;
            m = w_ok && b_ok ? MODE_QUANT : MODE_FLOAT;
        } else if (op_info[n->op].flags & OPF_SAME_QUANT) {
            DType h = home_dtype(c, n->operands[0]);
            if (ov)
                m = MODE_QUANT;
            else if (h != DT_F32) {
                m = MODE_QUANT;
                dt = h;
            }
        } else if (n->op == OP_SOFTMAX) {
            /* int8 softmax (TFLite's integer kernel under tflite rounding)
             * where its input is already int8, so attention stays in int8
             * from one matmul to the next; a float input stays float. */
            m = dt == DT_I8 && home_dtype(c, n->operands[0]) == DT_I8 ? MODE_QUANT : MODE_FLOAT;
        } else if (op_info[n->op].flags & OPF_NONLINEAR) {
            m = dt == DT_I8 || dt == DT_U8 ? MODE_LUT : MODE_FLOAT;
        } else if (n->op == OP_ADD || n->op == OP_SUB || n->op == OP_MUL || n->op == OP_AVG_POOL ||
                   n->op == OP_GLOBAL_AVG_POOL || n->op == OP_CONCAT || n->op == OP_REDUCE_MEAN ||
                   n->op == OP_REDUCE_SUM || n->op == OP_LAYER_NORM || n->op == OP_MAX ||
                   n->op == OP_MIN || n->op == OP_PRELU) {
            m = MODE_QUANT;
        }
        c->mode[n->id] = m;
        c->dt[n->id] = m == MODE_LUT ? DT_I8 : dt;
    }

    /* A relu or clip whose input is produced only for it by an op that
     * picks its own output params (conv2d, add, a quantize, a lut, ...)
     * lends that producer its narrower range: the producer's requantizing
     * output stage then does the clamping, and the relu keeps the params
     * (OPF_SAME_QUANT) as TFLite's fused activations do. */
    for (int k = c->g->nodes.len - 1; k >= 0; k--) {
        const Node *n = c->g->nodes.data[k];
        if ((n->op != OP_RELU && n->op != OP_CLIP) || c->mode[n->id] != MODE_QUANT)
            continue;
        const Value *x = n->operands[0];
        VInfo *xi = &c->vi[x->id], *ri = &c->vi[n->result->id];
        if (xi->uses != 1 || xi->is_output || !xi->has_eff || !ri->has_eff)
            continue;
        bool own = x->kind == VAL_INPUT ||
                   (x->kind == VAL_NODE && !(op_info[x->def->op].flags & OPF_SAME_QUANT) &&
                    (home_dtype(c, x) == DT_F32 || home_dtype(c, x) == c->dt[n->id]));
        if (!own)
            continue;
        xi->lo = fmax(xi->lo, ri->lo);
        xi->hi = fmin(xi->hi, ri->hi);
        if (xi->lo > 0)
            xi->lo = 0;
        if (xi->hi < 0)
            xi->hi = 0;
    }
}

/* ---------------------------------------------------------------- rebuilding nodes */

/* The name of a node's own result: its old name, except that a graph output
 * produced quantized leaves the name to the dequantize that feeds the
 * output. */
static const char *result_name(Ctx *c, const Value *v, bool quantized)
{
    return quantized && c->vi[v->id].is_output ? fresh_name(c, v->name, ".q") : v->name;
}

/* ---------------------------------------------------------------- integer boundaries */

/* Adds graph input V to the new graph.  At an integer io_dtype it is
 * quantized already: params from the raw-data mapping (which must make
 * the raw bytes the quantized values), else from a QuantizeLinear the
 * model applies to it (a pre-quantized model), else from its calibrated
 * range.  An f32 input with a mapping is quantized right away with the
 * mapping's params, so that the float and integer builds agree.  False
 * after an error. */
static bool add_input(Ctx *c, const Value *v)
{
    DType d = io_dtype(c, v);
    bool quantizing = c->cfg->quant.scheme == QSCHEME_INT8 || c->cfg->quant.scheme == QSCHEME_INT16X8;
    TensorType t = v->type;
    QParam p = {0, 0};
    if (v->type.dtype != DT_F32 || d == DT_F32) {
        /* the model's own type */
    } else if (c->cfg->model.input_mapping) {
        double zp;
        if (!mapping_zero_point(c, v, &zp)) {
            const DTypeTraits *r = &dtype_traits[d];
            double z = fmin(fmax(nearbyint(zp), (double)r->min), (double)r->max);
            diag_error(config_key_loc(c->cfg, c->cfg->model.input_offset != 0 ? "model.input_offset"
                                                                             : "model.input_scale"),
                       "graph input '%s' is %s at the boundary, so its raw values must be the quantized "
                       "ones: -input_offset / input_scale = %g must be an integer in [%lld, %lld] (an "
                       "offset of %.9g would make it %g)",
                       v->name, r->name, zp, (long long)r->min, (long long)r->max,
                       -z * c->cfg->model.input_scale, z);
            return false;
        }
        p = mapping_params(c, v, d);
    } else {
        bool found = false;
        for (int k = 0; k < c->g->nodes.len && !found; k++) {
            const Node *n = c->g->nodes.data[k];
            const TensorType *qt = &n->result->type;
            if (n->op == OP_QUANTIZE && n->operands[0] == v && qt->quant && qt->quant->count == 1 &&
                (qt->dtype == DT_I8 || qt->dtype == DT_U8)) {
                p = params_of(n->result);
                if (qt->dtype != d)
                    p.zp += d == DT_I8 ? -128 : 128;
                found = true;
            }
        }
        if (!found && !params_for(c, v, d, &p))
            return false;
    }
    if (v->type.dtype == DT_F32 && d != DT_F32)
        t = with_quant(c, v->type, d, p);
    Value *nv = graph_add_input(c->ng, v->name, t);
    nv->loc = v->loc;
    if (t.dtype == DT_F32) {
        nv->has_range = v->has_range;
        nv->range_lo = v->range_lo;
        nv->range_hi = v->range_hi;
    }
    if (v->type.dtype != DT_F32) {
        c->vi[v->id].q[v->type.dtype] = nv;
    } else if (t.dtype != DT_F32) {
        c->vi[v->id].q[t.dtype] = nv;
    } else {
        c->vi[v->id].f = nv;
        if (quantizing && c->cfg->model.input_mapping) {
            DType act = c->cfg->quant.scheme == QSCHEME_INT16X8 ? DT_I16 : c->cfg->quant.activation_dtype;
            c->vi[v->id].q[act] = add_node(c, OP_QUANTIZE, &nv, 1, fresh_name(c, v->name, ".q"),
                                           with_quant(c, v->type, act, mapping_params(c, v, act)), NULL,
                                           v->loc);
        }
    }
    return true;
}

/* The graph output V at integer io_dtype D: its quantized version in D
 * (the producer's result, or an exact i8/u8 move of it, or a quantize of a
 * float result with its calibrated params), named V.  NULL after an
 * error. */
static Value *integer_output(Ctx *c, const Value *v)
{
    DType d = io_dtype(c, v);
    const Value *src = v;
    /* A pre-quantized model's DequantizeLinear output: its operand. */
    if (v->kind == VAL_NODE && v->def->op == OP_DEQUANTIZE && c->mode[v->def->id] == MODE_COPY &&
        v->def->operands[0]->type.quant && v->def->operands[0]->type.quant->count == 1)
        src = v->def->operands[0];
    Value *nv;
    if (src->type.dtype != DT_F32 && src->type.dtype != d &&
        !(src->type.quant && (src->type.dtype == DT_I8 || src->type.dtype == DT_U8))) {
        diag_error(config_key_loc(c->cfg, "model.io_dtype"),
                   "graph output '%s' is %s in the model, which cannot be given as %s (io_dtype)", v->name,
                   dtype_traits[src->type.dtype].name, dtype_traits[d].name);
        return NULL;
    }
    if (src->type.dtype == d && c->vi[src->id].q[d])
        nv = c->vi[src->id].q[d];
    else if (src->kind == VAL_CONST && src->type.dtype == d)
        nv = c->vi[src->id].q[d] = add_const(c, src, ".c", src->type, src->data);
    else if (!(nv = get_q(c, src, d)))
        return NULL;
    if (strcmp(nv->name, v->name) != 0 && nv->kind == VAL_NODE) {
        Value *holder = graph_find_value(c->ng, v->name);
        if (holder)
            graph_rename_value(c->ng, holder,
                               fresh_name(c, v->name, holder->type.dtype == DT_F32 ? ".f" : ".q"));
        graph_rename_value(c->ng, nv, arena_strdup(&c->ng->arena, v->name));
    }
    return nv;
}

static bool build_float(Ctx *c, const Node *n)
{
    Value **ops = xcalloc((size_t)n->num_operands + 1, sizeof *ops);
    for (int k = 0; k < n->num_operands; k++)
        ops[k] = get_f(c, n->operands[k]);
    Node *nn = clone_node(c, n, ops);
    free(ops);
    c->vi[n->result->id].f = nn->result;
    return true;
}

static bool build_copy(Ctx *c, const Node *n)
{
    const Value *x = n->operands[0];
    if (n->op == OP_QUANTIZE && x->kind == VAL_INPUT && !c->vi[x->id].f && home_quant(c, x)) {
        /* A pre-quantized model's QuantizeLinear of an input that is
         * integer at the boundary: the input itself (add_input took its
         * params from here), or an exact i8/u8 move of it. */
        const TensorType *rt = &n->result->type;
        Value *src = home_quant(c, x);
        if (src->type.dtype == rt->dtype && quant_equal(src->type.quant, rt->quant)) {
            c->vi[n->result->id].q[rt->dtype] = src;
            return true;
        }
        c->vi[n->result->id].q[rt->dtype] =
            add_node(c, OP_REQUANTIZE, &src, 1, n->result->name, *rt, NULL, n->loc);
        return true;
    }
    Value **ops = xcalloc((size_t)n->num_operands + 1, sizeof *ops);
    for (int k = 0; k < n->num_operands; k++) {
        const Value *v = n->operands[k];
        VInfo *i = &c->vi[v->id];
        if (v->type.dtype == DT_F32)
            ops[k] = get_f(c, v);
        else if (!i->q[v->type.dtype]) {
            if (v->kind != VAL_CONST)
                qnn_die("quantize: %%%s has no copy", v->name);
            ops[k] = i->q[v->type.dtype] = add_const(c, v, ".c", v->type, v->data);
        } else {
            ops[k] = i->q[v->type.dtype];
        }
    }
    Node *nn = clone_node(c, n, ops);
    free(ops);
    if (n->result->type.dtype == DT_F32)
        c->vi[n->result->id].f = nn->result;
    else
        c->vi[n->result->id].q[n->result->type.dtype] = nn->result;
    return true;
}

static bool build_lut(Ctx *c, const Node *n)
{
    Value *x = get_q(c, n->operands[0], DT_I8);
    QParam out;
    if (!x || !params_for(c, n->result, DT_I8, &out))
        return false;
    int8_t table[256];
    ActFn fn = interp_act_fn(n);
    quant_build_lut(&fn, params_of(x), out, table);
    TensorType tt = {.dtype = DT_I8, .rank = 1, .dims = {256}};
    Value *tv = add_const(c, n->result, ".lut", tt, table);
    Value *ops[2] = {x, tv};
    c->vi[n->result->id].q[DT_I8] =
        add_node(c, OP_LUT, ops, 2, result_name(c, n->result, true),
                 with_quant(c, n->result->type, DT_I8, out), NULL, n->loc);
    return true;
}

/* The 8-bit version of V, when V is a graph input integer at the boundary
 * or its copy through layout ops (transpose, reshape, pad, ...), in
 * another 8-bit dtype than DT: a conv2d or dense reads any quantized
 * input, so it can take the sensor's bytes as they are rather than after
 * an i8/u8 move of every element. */
static Value *boundary_bytes(const Ctx *c, const Value *v, DType dt)
{
    Value *h = home_quant(c, v);
    if (!h || h->type.dtype == dt || (h->type.dtype != DT_I8 && h->type.dtype != DT_U8) ||
        (dt != DT_I8 && dt != DT_U8))
        return NULL;
    const Value *u = v;
    while (u->kind == VAL_NODE && (op_info[u->def->op].flags & OPF_SAME_QUANT))
        u = u->def->operands[0];
    return u->kind == VAL_INPUT && !c->vi[u->id].f ? h : NULL;
}

static bool build_quant_ops(Ctx *c, const Node *n, Value **ops)
{
    DType dt = c->dt[n->id];
    if (is_weighted(n->op)) {
        const Value *w = n->operands[1];
        if (n->op != OP_MATMUL && (ops[0] = boundary_bytes(c, n->operands[0], dt))) {
            /* the input's bytes as they are */
        } else if (!(ops[0] = get_q(c, n->operands[0], dt)))
            return false;
        if (w->kind == VAL_CONST)
            ops[1] = get_weight(c, w, weight_axis(c, n), n->num_operands == 3 ? n->operands[2] : NULL,
                                ops[0]->type.quant->scale[0]);
        else if (!(ops[1] = get_q(c, w, dt)))
            return false;
        if (n->num_operands == 3 && !(ops[2] = get_bias(c, n->operands[2], ops[0], ops[1])))
            return false;
    } else if (n->op == OP_GATHER) {
        /* The quantized table; the i32 indices as they are. */
        const Value *ix = n->operands[1];
        VInfo *ii = &c->vi[ix->id];
        if (!(ops[0] = get_q(c, n->operands[0], dt)))
            return false;
        if (!ii->q[DT_I32]) {
            if (ix->kind != VAL_CONST)
                qnn_die("quantize: %%%s has no copy", ix->name);
            ii->q[DT_I32] = add_const(c, ix, ".c", ix->type, ix->data);
        }
        ops[1] = ii->q[DT_I32];
    } else if (n->op == OP_LAYER_NORM) {
        /* Quantized x, float scale and bias (docs/ir-semantics.md). */
        if (!(ops[0] = get_q(c, n->operands[0], dt)))
            return false;
        for (int k = 1; k < n->num_operands; k++)
            ops[k] = get_f(c, n->operands[k]);
    } else {
        for (int k = 0; k < n->num_operands; k++)
            if (!(ops[k] = get_q(c, n->operands[k], dt)))
                return false;
    }
    bool alike = n->op == OP_CONCAT; /* operands quantized alike: a concat only moves data */
    for (int k = 1; alike && k < n->num_operands; k++)
        alike = quant_equal(ops[k]->type.quant, ops[0]->type.quant);
    TensorType t;
    if ((op_info[n->op].flags & OPF_SAME_QUANT) || alike) {
        /* The result keeps the input's params exactly (docs/ir-rules.md). */
        QParam p = params_of(ops[0]);
        if (n->op == OP_PAD && !pad_value_fits(n, p, dt))
            return build_float(c, n);
        t = with_quant(c, n->result->type, dt, p);
    } else {
        QParam p;
        const Value *r = n->result;
        if (n->op == OP_SOFTMAX) {
            /* [0, 1] at 1/256, zero point -128: the output TFLite's int8
             * softmax requires, and exact for onnx rounding too. */
            p.scale = 1.0f / 256;
            p.zp = -128;
        } else if (!c->vi[r->id].has_eff &&
                   (n->op == OP_AVG_POOL || n->op == OP_GLOBAL_AVG_POOL || n->op == OP_REDUCE_MEAN))
            p = params_of(ops[0]); /* an average stays inside its input's range */
        else if (!params_for(c, r, dt, &p))
            return false;
        t = with_quant(c, r->type, dt, p);
    }
    c->vi[n->result->id].q[dt] =
        add_node(c, n->op, ops, n->num_operands, result_name(c, n->result, true), t, n, n->loc);
    return true;
}

static bool build_quant(Ctx *c, const Node *n)
{
    Value **ops = xcalloc((size_t)n->num_operands + 1, sizeof *ops);
    bool ok = build_quant_ops(c, n, ops);
    free(ops);
    return ok;
}

/* ---------------------------------------------------------------- hybrid */

/* Hybrid: int8 weights, float activations.  A constant weight becomes an
 * int8 constant and a `dequantize` that feeds the float op, so the model
 * stores a quarter of the weight bytes and needs no calibration. */
static bool build_hybrid(Ctx *c, const Node *n)
{
    const QuantOverride *ov = c->ov[n->id];
    if (!all_f32(n))
        return build_copy(c, n);
    if (!is_weighted(n->op) || n->operands[1]->kind != VAL_CONST || (ov && ov->dtype == DT_F32))
        return build_float(c, n);
    const Value *w = n->operands[1];
    VInfo *wi = &c->vi[w->id];
    Value *ops[3];
    for (int k = 0; k < n->num_operands; k++)
        ops[k] = k == 1 ? NULL : get_f(c, n->operands[k]);
    int axis = weight_axis(c, n);
    if (!wi->w_dq || wi->w_axis != axis) {
        Value *q = get_weight(c, w, axis, NULL, 0);
        wi->w_dq = add_node(c, OP_DEQUANTIZE, &q, 1, fresh_name(c, w->name, ".dq"), w->type, NULL,
                            w->loc);
    }
    ops[1] = wi->w_dq;
    Node *nn = clone_node(c, n, ops);
    c->vi[n->result->id].f = nn->result;
    return true;
}

/* ------------------------------------------------ outlier-dominated outputs */

/* A conv or dense result is outlier-dominated when the median calibration
 * sample reaches less than this fraction of its calibrated range's span:
 * that sample then sees at most 255/16 ~ 16 of int8's steps (docs/passes.md,
 * "Outlier-dominated tensors"). */
#define OUTLIER_SPAN_FRACTION 16.0

/* Whether N, with no override, is a float conv2d or dense whose result
 * (not an integer graph output) int8 would put on too coarse a grid for
 * the typical calibration sample (calibrate's typical_peak) -- and whose
 * int16x8 form surely has room in its int32 accumulator: |x| <= 32768,
 * each channel's int8 weights summing to at most sum|w| / s + K/2 in
 * magnitude (s = max|w| / 127, the per-channel scale, the finest), and
 * its bias at scale s_x * s.  Such an output is quantized int16x8: its
 * 256-times finer grid resolves what the typical sample holds while the
 * rare samples that set the range keep it (a reader at int8 gets it
 * requantized, as with any i16 override). */
static bool outlier_output(const Ctx *c, const Node *n, double *steps)
{
    const Value *v = n->result;
    const QnncConfig *cfg = c->cfg;
    if (cfg->quant.scheme != QSCHEME_INT8 || cfg->quant.activation_dtype == DT_I16 || c->ov[n->id] ||
        (c->vi[v->id].is_output && io_dtype(c, v) != DT_F32) || !all_f32(n) ||
        (n->op != OP_CONV2D && n->op != OP_DENSE) || !v->has_range || !(v->typical_peak > 0))
        return false;
    double span = (double)v->range_hi - (double)v->range_lo;
    *steps = 255.0 * v->typical_peak / span;
    if (!(v->typical_peak * OUTLIER_SPAN_FRACTION < span))
        return false;
    const Value *x = n->operands[0], *w = n->operands[1], *b = n->num_operands > 2 ? n->operands[2] : NULL;
    if (w->kind != VAL_CONST || (b && b->kind != VAL_CONST) || !x->has_range || w->type.rank < 2)
        return false;
    double sx = fmax(fabs((double)x->range_lo), fabs((double)x->range_hi)) / 32767.0;
    int64_t oc = w->type.dims[0], k = type_numel(&w->type) / (oc ? oc : 1);
    const float *wd = w->data, *bd = b ? b->data : NULL;
    for (int64_t o = 0; o < oc; o++) {
        double sum = 0, mx = 0;
        for (int64_t i = 0; i < k; i++) {
            sum += fabs(wd[o * k + i]);
            mx = fmax(mx, fabs(wd[o * k + i]));
        }
        if (mx == 0)
            continue;
        double sw = mx / 127.0;
        double acc = 32768.0 * (sum / sw + 0.5 * (double)k);
        if (bd && sx > 0)
            acc += fabs(bd[o]) / (sx * sw) + 1;
        if (!(acc < 0.99 * 2147483648.0))
            return false;
    }
    return true;
}

/* Marks the outlier-dominated nodes int16x8, with a note each. */
static void choose_outlier_outputs(Ctx *c)
{
    for (int k = 0; k < c->g->nodes.len; k++) {
        const Node *n = c->g->nodes.data[k];
        const Value *v = n->result;
        double steps = 0;
        if (!outlier_output(c, n, &steps))
            continue;
        c->auto_ov[n->id] = (QuantOverride){(char *)v->name, DT_I16, v->loc};
        c->ov[n->id] = &c->auto_ov[n->id];
        diag_report(DIAG_NOTE, v->loc,
                    "quantize: '%s' is int16x8: its calibrated range [%g, %g] is set by few samples; "
                    "the median sample reaches only %g, %.1f of int8's 255 steps",
                    v->name, (double)v->range_lo, (double)v->range_hi, (double)v->typical_peak, steps);
    }
}

bool quantize_outlier_output(const Graph *g, const Node *n, const QnncConfig *cfg)
{
    Ctx c = {.g = g, .cfg = cfg};
    c.vi = xcalloc((size_t)g->values.len, sizeof *c.vi);
    c.ov = xcalloc((size_t)(g->nodes.len + 1), sizeof *c.ov);
    for (int k = 0; k < g->outputs.len; k++)
        c.vi[((Value *)g->outputs.data[k])->id].is_output = true;
    for (int k = 0; k < g->nodes.len; k++) {
        const Node *m = g->nodes.data[k];
        for (int j = 0; j < m->num_operands; j++)
            c.vi[m->operands[j]->id].uses++;
    }
    for (int k = 0; k < cfg->quant.num_overrides; k++)
        if (!strcmp(cfg->quant.overrides[k].node, n->result->name))
            c.ov[n->id] = &cfg->quant.overrides[k];
    double steps;
    bool r = outlier_output(&c, n, &steps);
    free(c.vi);
    free(c.ov);
    return r;
}

/* ---------------------------------------------------------------- the pass */

/* Matches each override with the node whose result it names; an override
 * naming no node is an error at the override. */
static bool resolve_overrides(Ctx *c)
{
    bool ok = true;
    const QnncConfig *cfg = c->cfg;
    for (int k = 0; k < cfg->quant.num_overrides; k++) {
        const QuantOverride *o = &cfg->quant.overrides[k];
        const Value *v = graph_find_value(c->g, o->node);
        if (!v || v->kind != VAL_NODE) {
            if (v)
                diag_error(o->loc, "quantize: the override names '%s', a graph %s, not a node", o->node,
                           v->kind == VAL_INPUT ? "input" : "constant");
            else
                diag_error(o->loc, "quantize: the override names node '%s', which is not in the model",
                           o->node);
            ok = false;
            continue;
        }
        c->ov[v->def->id] = o;
    }
    return ok;
}

/* Every [model] io_dtypes entry names a graph input or output; an
 * integer boundary needs a scheme that quantizes activations, and an input
 * the model already gives an integer type keeps it. */
static bool resolve_io_dtypes(Ctx *c)
{
    bool ok = true;
    const QnncConfig *cfg = c->cfg;
    bool quantizing = cfg->quant.scheme == QSCHEME_INT8 || cfg->quant.scheme == QSCHEME_INT16X8;
    for (int k = 0; k < cfg->model.num_io_dtypes; k++) {
        const IoDtype *e = &cfg->model.io_dtypes[k];
        bool found = false;
        for (int i = 0; i < c->g->inputs.len && !found; i++)
            found = !strcmp(((Value *)c->g->inputs.data[i])->name, e->name);
        for (int i = 0; i < c->g->outputs.len && !found; i++)
            found = !strcmp(((Value *)c->g->outputs.data[i])->name, e->name);
        if (!found) {
            diag_error(e->loc, "io_dtypes: '%s' is not a graph input or output of the model (names as "
                               "`qnnc --emit=qir` prints them, without '%%')", e->name);
            ok = false;
        } else if (e->dtype != DT_F32 && !quantizing) {
            diag_error(e->loc, "io_dtypes: '%s' cannot be %s: scheme \"%s\" keeps activations in float",
                       e->name, dtype_traits[e->dtype].name, config_scheme_names[cfg->quant.scheme]);
            ok = false;
        }
    }
    if (cfg->model.io_dtype != DT_F32 && !quantizing) {
        diag_error(config_key_loc(cfg, "model.io_dtype"),
                   "io_dtype \"%s\" needs a quantized model: scheme \"%s\" keeps activations in float",
                   dtype_traits[cfg->model.io_dtype].name, config_scheme_names[cfg->quant.scheme]);
        ok = false;
    }
    for (int i = 0; i < c->g->inputs.len && ok; i++) {
        const Value *v = c->g->inputs.data[i];
        DType d = io_dtype(c, v);
        if (v->type.dtype != DT_F32 && d != DT_F32 && d != v->type.dtype) {
            diag_error(config_key_loc(cfg, "model.io_dtype"),
                       "io_dtype: graph input '%s' is %s in the model, not %s", v->name,
                       dtype_traits[v->type.dtype].name, dtype_traits[d].name);
            ok = false;
        }
    }
    return ok;
}

bool quantize(Graph *g, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    QuantScheme scheme = cfg->quant.scheme;
    Ctx c = {.g = g, .cfg = cfg};
    c.vi = xcalloc((size_t)g->values.len, sizeof *c.vi);
    c.mode = xcalloc((size_t)(g->nodes.len + 1), sizeof *c.mode);
    c.dt = xcalloc((size_t)(g->nodes.len + 1), sizeof *c.dt);
    c.ov = xcalloc((size_t)(g->nodes.len + 1), sizeof *c.ov);
    c.auto_ov = xcalloc((size_t)(g->nodes.len + 1), sizeof *c.auto_ov);
    bool ok = resolve_overrides(&c);
    ok = resolve_io_dtypes(&c) && ok;
    if (!ok || scheme == QSCHEME_NONE)
        goto done;
    if (scheme == QSCHEME_HYBRID) {
        for (int k = 0; k < cfg->quant.num_overrides; k++)
            if (cfg->quant.overrides[k].dtype != DT_F32)
                diag_warning(cfg->quant.overrides[k].loc,
                             "quantize: scheme \"hybrid\" keeps activations in float; only "
                             "dtype = \"f32\" overrides have an effect");
    }

    for (int k = 0; k < g->nodes.len; k++) {
        const Node *n = g->nodes.data[k];
        for (int j = 0; j < n->num_operands; j++)
            c.vi[n->operands[j]->id].uses++;
    }
    for (int k = 0; k < g->outputs.len; k++)
        c.vi[((Value *)g->outputs.data[k])->id].is_output = true;

    c.ng = graph_new(g->name);
    c.ng->loc = g->loc;
    if (scheme != QSCHEME_HYBRID)
        compute_ranges(&c);
    for (int k = 0; k < g->inputs.len && ok; k++)
        ok = add_input(&c, g->inputs.data[k]);
    if (!ok) {
        graph_free(c.ng);
        goto done;
    }

    if (scheme != QSCHEME_HYBRID) {
        choose_outlier_outputs(&c);
        plan(&c, scheme);
    }
    for (int k = 0; k < g->nodes.len && ok; k++) {
        const Node *n = g->nodes.data[k];
        if (scheme == QSCHEME_HYBRID) {
            ok = build_hybrid(&c, n);
            continue;
        }
        switch (c.mode[n->id]) {
        case MODE_FLOAT: ok = build_float(&c, n); break;
        case MODE_QUANT: ok = build_quant(&c, n); break;
        case MODE_LUT: ok = build_lut(&c, n); break;
        case MODE_COPY: ok = build_copy(&c, n); break;
        }
    }
    /* An f32 output stays float (io_dtype "f32"): one produced quantized
     * is dequantized under its own name.  An integer one is the quantized
     * result itself. */
    for (int k = 0; k < g->outputs.len && ok; k++) {
        const Value *v = g->outputs.data[k];
        Value *nv;
        if (io_dtype(&c, v) != DT_F32)
            ok = (nv = integer_output(&c, v)) != NULL;
        else if (v->type.dtype == DT_F32)
            nv = get_f(&c, v);
        else if (!(nv = c.vi[v->id].q[v->type.dtype])) {
            if (v->kind != VAL_CONST) /* inputs and MODE_COPY results are registered */
                qnn_die("quantize: output %%%s was not rebuilt", v->name);
            nv = c.vi[v->id].q[v->type.dtype] = add_const(&c, v, ".c", v->type, v->data);
        }
        if (ok)
            graph_add_output(c.ng, nv);
    }
    if (!ok) {
        graph_free(c.ng);
        goto done;
    }

    dce(c.ng, ctx);
    /* Derived constants take their original name back when it is free
     * (a weight used only quantized is still called %w). */
    for (int k = 0; k < c.num_renames; k++) {
        Value *v = c.renames[k].v;
        bool live = false;
        for (int j = 0; j < c.ng->consts.len && !live; j++)
            live = c.ng->consts.data[j] == v;
        if (live && !graph_find_value(c.ng, c.renames[k].origin))
            graph_rename_value(c.ng, v, arena_strdup(&c.ng->arena, c.renames[k].origin));
    }

    /* Swap the rebuilt graph into G and free the old one. */
    Graph old = *g;
    *g = *c.ng;
    *c.ng = old;
    graph_free(c.ng);

done:
    free(c.vi);
    free(c.mode);
    free(c.dt);
    free(c.ov);
    free(c.auto_ov);
    free(c.renames);
    return ok;
}
