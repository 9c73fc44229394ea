/* verify.c - the IR verifier.
 *
 * Contract: ir_verify(g) checks every structural, type, attribute, shape,
 * dtype and quantization rule listed in docs/ir-rules.md and reports each
 * violation through diag_error() -- at value->loc for a value's own type,
 * at node->loc for an op rule, at g->loc for graph-level rules.  It returns
 * true iff it reported nothing.  It never modifies the graph and never
 * crashes on a malformed one: every rule that indexes into something first
 * checks that the thing exists.
 *
 * To report all problems without cascading nonsense, the checks run in
 * layers.  A value whose own type is malformed (bad rank, overflowing
 * element count, bad quantization) is reported once; nodes that use it skip
 * their op-specific checks.  Likewise a node with the wrong number of
 * operands or a malformed structural attribute (strides of length 3, say)
 * gets that one error, not a string of shape mismatches derived from it.
 *
 * The quantized-op rules follow the ONNX operator spec (QLinearConv,
 * ConvInteger, QLinearMatMul, MatMulInteger, QuantizeLinear,
 * DequantizeLinear) and the TFLite int8 quantization spec
 * (https://www.tensorflow.org/lite/performance/quantization_spec).
 */
#include "ir.h"
#include "requant.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The largest element count a tensor may have.  Generated kernels index
 * tensors with 32-bit integers on the microcontroller targets, so anything
 * bigger is certainly a corrupt model, not a real one. */
#define MAX_NUMEL INT64_C(0x7fffffff)

/* Relative tolerance when comparing a bias scale with input scale times
 * weight scale (docs/ir-rules.md, "conv2d, dense, matmul dtypes").  Scales are float32, whose
 * rounding error is ~6e-8 relative, so 1e-6 accepts any honest product and
 * rejects any real mismatch. */
#define BIAS_SCALE_RTOL 1e-6

typedef struct Verifier {
    const Graph *g;
    int errors;
    bool *checked; /* by value id: its own type has been checked */
    bool *type_ok; /* by value id: its own type is well formed */
    bool *defined; /* by value id: defined at the current point of the walk */
} Verifier;

/* ---------------------------------------------------------------- reporting */

static void verr(Verifier *v, SrcLoc loc, const char *fmt, ...) QNN_PRINTF(3, 4);

static void verr(Verifier *v, SrcLoc loc, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    v->errors++;
    diag_error(loc, "%s", buf);
}

static const char *vname(const Value *val)
{
    return val->name && val->name[0] ? val->name : "<unnamed>";
}

/* Text buffers for message fragments, returned by value so that several can
 * appear in one verr() call. */
typedef struct Text {
    char s[160];
} Text;

static Text dims_text(const int64_t *dims, int rank)
{
    Text t;
    size_t n = 0;
    t.s[n++] = '[';
    for (int i = 0; i < rank && n < sizeof t.s - 24; i++)
        n += (size_t)snprintf(t.s + n, sizeof t.s - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    snprintf(t.s + n, sizeof t.s - n, "]");
    return t;
}

static Text shape_text(const TensorType *t) { return dims_text(t->dims, t->rank); }

/* "f32", "quantized i8", "per-axis quantized i8", "i32 without quantization". */
static Text type_desc(const TensorType *t)
{
    Text d;
    const char *name = dtype_traits[t->dtype].name;
    if (t->dtype == DT_F32)
        snprintf(d.s, sizeof d.s, "%s", name);
    else if (!t->quant)
        snprintf(d.s, sizeof d.s, "%s without quantization", name);
    else if (t->quant->axis >= 0)
        snprintf(d.s, sizeof d.s, "per-axis quantized %s", name);
    else
        snprintf(d.s, sizeof d.s, "quantized %s", name);
    return d;
}

/* ---------------------------------------------------------------- arithmetic */

/* Checked arithmetic on non-negative int64 quantities (dims and window
 * sizes), so that a hostile attribute cannot make the verifier overflow. */
static bool add_ok(int64_t a, int64_t b, int64_t *r)
{
    if (a > INT64_MAX - b)
        return false;
    *r = a + b;
    return true;
}

static bool mul_ok(int64_t a, int64_t b, int64_t *r)
{
    if (b != 0 && a > INT64_MAX / b)
        return false;
    *r = a * b;
    return true;
}

static int64_t numel(const TensorType *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i]; /* only called on checked types: cannot overflow */
    return n;
}

/* ---------------------------------------------------------------- dtype classes */

static bool is_float(const TensorType *t) { return t->dtype == DT_F32; }

/* Element types a quantized activation may have (TFLite int8 and 16x8,
 * ONNX QLinear* uint8/int8). */
static bool is_act_dtype(DType d) { return d == DT_I8 || d == DT_U8 || d == DT_I16; }

static bool is_quant_act(const TensorType *t) { return is_act_dtype(t->dtype) && t->quant; }
static bool is_per_tensor(const TensorType *t) { return t->quant && t->quant->axis < 0; }
static bool is_per_axis(const TensorType *t) { return t->quant && t->quant->axis >= 0; }

/* ---------------------------------------------------------------- values */

static bool check_quant(Verifier *v, const Value *val)
{
    const TensorType *t = &val->type;
    const Quant *q = t->quant;
    const DTypeTraits *dt = &dtype_traits[t->dtype];
    if (!dt->is_int) {
        verr(v, val->loc, "%%%s: %s values cannot be quantized; only integer types carry quantization parameters",
             vname(val), dt->name);
        return false;
    }
    if (q->axis >= 0) {
        if (q->axis >= t->rank) {
            verr(v, val->loc, "%%%s: quantization axis %d is out of range for rank %d", vname(val), q->axis,
                 t->rank);
            return false;
        }
        if (q->count != t->dims[q->axis]) {
            verr(v, val->loc, "%%%s: per-axis quantization has %d scales but dimension %d has size %lld",
                 vname(val), q->count, q->axis, (long long)t->dims[q->axis]);
            return false;
        }
    } else if (q->count != 1) {
        verr(v, val->loc, "%%%s: per-tensor quantization must have exactly 1 scale, got %d", vname(val),
             q->count);
        return false;
    }
    if (!q->scale || !q->zero_point) {
        verr(v, val->loc, "%%%s: quantization parameters have no scale or zero point array", vname(val));
        return false;
    }
    bool ok = true;
    /* One message per kind of problem: a per-axis record can have thousands
     * of entries, and the first offender identifies the problem. */
    for (int i = 0; i < q->count; i++) {
        float s = q->scale[i];
        if (!isfinite(s) || !(s > 0)) {
            verr(v, val->loc, "%%%s: scale %g (entry %d) must be finite and positive", vname(val), (double)s, i);
            ok = false;
            break;
        }
    }
    for (int i = 0; i < q->count; i++) {
        int32_t zp = q->zero_point[i];
        if (zp < dt->min || zp > dt->max) {
            verr(v, val->loc, "%%%s: zero point %d (entry %d) is outside the %s range [%lld, %lld]", vname(val),
                 (int)zp, i, dt->name, (long long)dt->min, (long long)dt->max);
            ok = false;
            break;
        }
    }
    return ok;
}

/* Checks VAL's own type once, at its definition; returns whether it is well
 * formed.  Nodes consult the memo instead of re-reporting. */
static bool value_ok(Verifier *v, const Value *val)
{
    if (v->checked[val->id])
        return v->type_ok[val->id];
    v->checked[val->id] = true;

    const TensorType *t = &val->type;
    bool ok = true;
    /* Passes and importers make names too; one the text form cannot spell
     * would print as IR that does not parse back. */
    bool name_ok = true; /* empty and missing names are reported elsewhere */
    for (const char *c = val->name; name_ok && c && *c; c++)
        name_ok = text_is_name_char((unsigned char)*c);
    if (!name_ok) {
        verr(v, val->loc, "value name '%s' has characters outside [A-Za-z0-9_.$-]", val->name);
        ok = false;
    }
    if ((unsigned)t->dtype >= DT_COUNT) {
        verr(v, val->loc, "%%%s: unknown element type %d", vname(val), (int)t->dtype);
        return false;
    }
    if (t->rank < 0 || t->rank > QNN_MAX_RANK) {
        verr(v, val->loc, "%%%s: rank %d is outside [0, %d]", vname(val), t->rank, QNN_MAX_RANK);
        return false;
    }
    int64_t n = 1;
    bool too_big = false;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i];
        if (d < 1) {
            /* Empty tensors have no use in an inference graph and would make
             * every window and reduction rule a special case. */
            verr(v, val->loc, "%%%s: dimension %d is %lld; every dimension must be at least 1", vname(val), i,
                 (long long)d);
            ok = false;
        } else if (!too_big && (!mul_ok(n, d, &n) || n > MAX_NUMEL)) {
            too_big = true;
        }
    }
    if (ok && too_big) {
        verr(v, val->loc, "%%%s: shape %s has more than %lld elements", vname(val), shape_text(t).s,
             (long long)MAX_NUMEL);
        ok = false;
    }
    if (t->quant && !check_quant(v, val))
        ok = false;
    if (val->has_range) {
        if (t->dtype != DT_F32 || val->kind == VAL_CONST) {
            verr(v, val->loc, "%%%s: only f32 inputs and node results carry a calibrated range", vname(val));
            ok = false;
        } else if (!isfinite(val->range_lo) || !isfinite(val->range_hi) || val->range_lo > val->range_hi) {
            verr(v, val->loc, "%%%s: range(%g, %g) must be finite with low <= high", vname(val),
                 (double)val->range_lo, (double)val->range_hi);
            ok = false;
        }
    }
    if (val->kind == VAL_CONST && !val->data) {
        verr(v, val->loc, "%%%s: constant has no data", vname(val));
        ok = false;
    }
    v->type_ok[val->id] = ok;
    return ok;
}

/* True if VAL is one of the graph's values (not a stray pointer from
 * another graph). */
static bool is_member(const Verifier *v, const Value *val)
{
    return val && val->id >= 0 && val->id < v->g->values.len && v->g->values.data[val->id] == val;
}

/* ---------------------------------------------------------------- attributes */

/* Checks that list attribute ID of N, if present, has COUNT entries (COUNT
 * < 0: any length) each at least MIN. */
static bool check_int_list(Verifier *v, const Node *n, const Attr *a, int count, int64_t min)
{
    const char *op = op_info[n->op].name, *name = attr_info[a->id].name;
    if (a->count < 0 || (a->count > 0 && !a->u.ints)) {
        verr(v, n->loc, "%s: attribute '%s' is malformed", op, name);
        return false;
    }
    if (count >= 0 && a->count != count) {
        verr(v, n->loc, "%s: '%s' must have %d entries, got %d", op, name, count, a->count);
        return false;
    }
    for (int i = 0; i < a->count; i++) {
        if (a->u.ints[i] < min) {
            verr(v, n->loc, "%s: %s[%d] is %lld; %s must be %s", op, name, i, (long long)a->u.ints[i], name,
                 min > 0 ? "positive" : "non-negative");
            return false;
        }
    }
    return true;
}

/* The generic attribute rules: known, allowed on the op, well-formed lists,
 * values in range.  Returns false if an attribute the shape rules depend on
 * is malformed, so that they are skipped. */
static bool check_attrs(Verifier *v, const Node *n)
{
    const OpInfo *oi = &op_info[n->op];
    bool ok = true;
    if (n->num_attrs < 0 || (n->num_attrs > 0 && !n->attrs)) {
        verr(v, n->loc, "%s: attribute list is malformed", oi->name);
        return false;
    }
    for (int i = 0; i < n->num_attrs; i++) {
        const Attr *a = &n->attrs[i];
        if ((unsigned)a->id >= ATTR_COUNT) {
            verr(v, n->loc, "%s: unknown attribute id %d", oi->name, (int)a->id);
            ok = false;
            continue;
        }
        const char *name = attr_info[a->id].name;
        if (i > 0 && n->attrs[i - 1].id == a->id) {
            verr(v, n->loc, "%s: attribute '%s' appears more than once", oi->name, name);
            ok = false;
            continue;
        }
        if (!(oi->attrs & (UINT64_C(1) << a->id))) {
            verr(v, n->loc, "%s: attribute '%s' is not allowed on this op", oi->name, name);
            ok = false;
            continue;
        }
        switch (a->id) {
        case ATTR_STRIDES:
        case ATTR_DILATIONS:
        case ATTR_KERNEL: ok &= check_int_list(v, n, a, 2, 1); break;
        case ATTR_TILE: ok &= check_int_list(v, n, a, 3, 1); break; /* [m, n, k], passes/tile.c */
        case ATTR_PADS:
            /* conv/pool pads are [top, left, bottom, right]; the pad op's
             * length depends on the rank and is checked with the shapes,
             * and its entries may be negative (they crop). */
            ok &= check_int_list(v, n, a, n->op == OP_PAD ? -1 : 4, n->op == OP_PAD ? INT64_MIN : 0);
            break;
        case ATTR_PERM: ok &= check_int_list(v, n, a, -1, INT64_MIN); break;
        case ATTR_STARTS: ok &= check_int_list(v, n, a, -1, 0); break;      /* rank-dependent rules: check_slice */
        case ATTR_STEPS: ok &= check_int_list(v, n, a, -1, INT64_MIN); break;
        case ATTR_AXES: ok &= check_int_list(v, n, a, -1, 0); break; /* rank-dependent rules: check_reduce */
        case ATTR_KEEPDIMS:
            if (a->u.i != 0 && a->u.i != 1) {
                verr(v, n->loc, "%s: keepdims is %lld; it must be 0 or 1", oi->name, (long long)a->u.i);
                ok = false;
            }
            break;
        case ATTR_GROUP:
            if (a->u.i < 1) {
                verr(v, n->loc, "%s: group is %lld; it must be at least 1", oi->name, (long long)a->u.i);
                ok = false;
            }
            break;
        case ATTR_COUNT_INCLUDE_PAD:
            if (a->u.i != 0 && a->u.i != 1) {
                verr(v, n->loc, "%s: count_include_pad is %lld; it must be 0 or 1", oi->name, (long long)a->u.i);
                ok = false;
            }
            break;
        case ATTR_ROUNDING:
        case ATTR_INTERP:
        case ATTR_COORD:
        case ATTR_NEAREST:
        case ATTR_APPROXIMATE: {
            int64_t nvals = 0;
            while (attr_info[a->id].enum_names && attr_info[a->id].enum_names[nvals])
                nvals++;
            if (a->u.i < 0 || a->u.i >= nvals) {
                verr(v, n->loc, "%s: %s %lld is out of range", oi->name, a->id == ATTR_ROUNDING ? "rounding mode" : name,
                     (long long)a->u.i);
                ok = false;
            }
            break;
        }
        case ATTR_SCALES:
            if (a->count != 2 || !a->u.floats) {
                verr(v, n->loc, "%s: 'scales' must have 2 entries, got %d", oi->name, a->count);
                ok = false;
                break;
            }
            for (int k = 0; k < 2; k++) {
                if (!isfinite(a->u.floats[k]) || a->u.floats[k] <= 0) {
                    verr(v, n->loc, "%s: scales[%d] is %g; scales must be positive and finite", oi->name, k,
                         (double)a->u.floats[k]);
                    ok = false;
                    break;
                }
            }
            break;
        case ATTR_ALPHA:
        case ATTR_VALUE:
            if (!isfinite(a->u.f)) {
                verr(v, n->loc, "%s: %s must be finite, got %g", oi->name, name, (double)a->u.f);
                ok = false;
            }
            break;
        case ATTR_EPSILON:
            if (!isfinite(a->u.f) || a->u.f < 0) {
                verr(v, n->loc, "%s: epsilon must be finite and non-negative, got %g", oi->name, (double)a->u.f);
                ok = false;
            }
            break;
        case ATTR_MIN:
        case ATTR_MAX:
        case ATTR_ACT_MIN:
        case ATTR_ACT_MAX:
            /* Infinities are meaningful here (an open bound); NaN is not. */
            if (isnan(a->u.f)) {
                verr(v, n->loc, "%s: %s must not be NaN", oi->name, name);
                ok = false;
            }
            break;
        case ATTR_AXIS: break; /* range depends on the operand's rank */
        case ATTR_MULTIPLIER:
        case ATTR_SHIFT:
        case ATTR_QMIN:
        case ATTR_QMAX: break; /* compared with what the types imply: check_folded */
        case ATTR_COUNT: qnn_unreachable();
        }
    }
    return ok;
}

/* Bounds that are independent of the shapes: reported, but they do not stop
 * the shape rules. */
static void check_bounds(Verifier *v, const Node *n)
{
    const char *op = op_info[n->op].name;
    const Attr *lo = node_attr(n, ATTR_ACT_MIN), *hi = node_attr(n, ATTR_ACT_MAX);
    if (lo && hi && lo->u.f > hi->u.f)
        verr(v, n->loc, "%s: act_min %g is greater than act_max %g", op, (double)lo->u.f, (double)hi->u.f);
    lo = node_attr(n, ATTR_MIN);
    hi = node_attr(n, ATTR_MAX);
    if (lo && hi && lo->u.f > hi->u.f)
        verr(v, n->loc, "%s: min %g is greater than max %g", op, (double)lo->u.f, (double)hi->u.f);
}

/* Normalises a possibly negative AXIS against RANK (ONNX convention:
 * -1 is the last axis); returns false if it is outside [-rank, rank). */
static bool norm_axis(int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank)
        return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

/* ---------------------------------------------------------------- common op rules */

typedef struct OpCtx {
    Verifier *v;
    const Node *n;
    const char *op;
    const TensorType *y; /* the result type */
} OpCtx;

#define OPERR(c, ...) verr((c)->v, (c)->n->loc, __VA_ARGS__)

static const TensorType *operand(const OpCtx *c, int i) { return &c->n->operands[i]->type; }

static bool expect_shape(const OpCtx *c, const int64_t *dims, int rank)
{
    bool same = c->y->rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = c->y->dims[i] == dims[i];
    if (!same)
        OPERR(c, "%s: result shape %s does not match the expected %s", c->op, shape_text(c->y).s,
              dims_text(dims, rank).s);
    return same;
}

static void expect_same_shape(const OpCtx *c, const TensorType *x) { expect_shape(c, x->dims, x->rank); }

/* The result of an op on quantized activations: X's element type (WHAT
 * names X in the message), quantized per-tensor.  False after the error. */
static bool check_quant_result(const OpCtx *c, const TensorType *x, const char *what)
{
    const TensorType *y = c->y;
    if (y->dtype != x->dtype)
        OPERR(c, "%s: result element type %s differs from %s element type %s", c->op, dtype_traits[y->dtype].name,
              what, dtype_traits[x->dtype].name);
    else if (!y->quant)
        OPERR(c, "%s: result of a quantized %s must be quantized", c->op, c->op);
    else if (!is_per_tensor(y))
        OPERR(c, "%s: result must be quantized per-tensor, not per-axis", c->op);
    else
        return true;
    return false;
}

/* The activation rule shared by unary ops, pools and softmax: f32 -> f32,
 * or quantized per-tensor i8/u8/i16 -> the same dtype quantized per-tensor.
 * SAME_QUANT ops (relu, clip, max_pool) only move or drop values, so their
 * output must keep the input's scale and zero point. */
static void check_act_types(const OpCtx *c, const TensorType *x)
{
    const TensorType *y = c->y;
    bool same_quant = op_info[c->n->op].flags & OPF_SAME_QUANT;
    if (is_float(x)) {
        if (!is_float(y))
            OPERR(c, "%s: result must be f32 like the input, got %s", c->op, type_desc(y).s);
        return;
    }
    if (!is_quant_act(x)) {
        OPERR(c, "%s: input must be f32 or quantized i8/u8/i16, got %s", c->op, type_desc(x).s);
        return;
    }
    if (!is_per_tensor(x)) {
        OPERR(c, "%s: input must be quantized per-tensor, not per-axis", c->op);
        return;
    }
    if (check_quant_result(c, x, "input") && same_quant && !quant_equal(x->quant, y->quant))
        OPERR(c, "%s: quantized output must keep the input's quantization parameters", c->op);
}

/* The rule for pure data-movement ops (reshape, transpose, pad): same
 * element type, and the exact same quantization (or none) on both sides.
 * Per-axis quantization is refused because these ops move axes around. */
static void check_layout_types(const OpCtx *c, const TensorType *x)
{
    const TensorType *y = c->y;
    if (y->dtype != x->dtype)
        OPERR(c, "%s: result element type %s differs from input element type %s", c->op,
              dtype_traits[y->dtype].name, dtype_traits[x->dtype].name);
    else if (is_per_axis(x) || is_per_axis(y))
        OPERR(c, "%s: per-axis quantized operands are not supported; use per-tensor quantization", c->op);
    else if (x->quant && !y->quant)
        OPERR(c, "%s: result must keep the input's quantization parameters, but it is not quantized", c->op);
    else if (!x->quant && y->quant)
        OPERR(c, "%s: result must not be quantized when the input is not", c->op);
    else if (!quant_equal(x->quant, y->quant))
        OPERR(c, "%s: quantized output must keep the input's quantization parameters", c->op);
}

/* Output size of one sliding-window dimension (ONNX Conv/MaxPool,
 * floor mode): out = (in + pad_begin + pad_end - (d*(k-1)+1)) / s + 1.
 * AXIS names the dimension in messages. */
static bool window_out(const OpCtx *c, const char *axis, int64_t in, int64_t pb, int64_t pe, int64_t k, int64_t d,
                       int64_t s, int64_t *out)
{
    int64_t padded, eff;
    if (!add_ok(in, pb, &padded) || !add_ok(padded, pe, &padded) || !mul_ok(d, k - 1, &eff) ||
        !add_ok(eff, 1, &eff)) {
        OPERR(c, "%s: %s window or padding is too large", c->op, axis);
        return false;
    }
    if (eff > padded) {
        OPERR(c, "%s: effective kernel %s %lld is larger than the padded input %s %lld", c->op, axis,
              (long long)eff, axis, (long long)padded);
        return false;
    }
    *out = (padded - eff) / s + 1;
    return true;
}

/* Spatial output dims of an NHWC window op from its kernel size (kh, kw)
 * and its strides/pads/dilations attributes. */
static bool window_dims(const OpCtx *c, const TensorType *x, int64_t kh, int64_t kw, int64_t *oh, int64_t *ow)
{
    static const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
    int64_t s[2], d[2], p[4];
    node_ints(c->n, ATTR_STRIDES, s, 2, ones);
    node_ints(c->n, ATTR_DILATIONS, d, 2, ones);
    node_ints(c->n, ATTR_PADS, p, 4, zeros);
    bool ok = window_out(c, "height", x->dims[1], p[0], p[2], kh, d[0], s[0], oh);
    ok &= window_out(c, "width", x->dims[2], p[1], p[3], kw, d[1], s[1], ow);
    return ok;
}

/* numpy / ONNX multidirectional broadcasting: shapes align at the right,
 * each pair of dims must be equal or one of them 1. */
static bool broadcast(const int64_t *a, int ra, const int64_t *b, int rb, int64_t *out, int *rout)
{
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int64_t da = i < r - ra ? 1 : a[i - (r - ra)];
        int64_t db = i < r - rb ? 1 : b[i - (r - rb)];
        if (da != db && da != 1 && db != 1)
            return false;
        out[i] = da == 1 ? db : da;
    }
    *rout = r;
    return true;
}

/* True if conv2d/dense/matmul operands X and W are validly quantized, so
 * that their scales can be used (W per-tensor or per axis W_AXIS). */
static bool accum_scales_known(const TensorType *x, const TensorType *w, int w_axis)
{
    return is_quant_act(x) && is_per_tensor(x) && (w->dtype == DT_I8 || w->dtype == DT_U8) && w->quant &&
           (w->quant->axis < 0 || w->quant->axis == w_axis);
}

/* The dtype rules shared by conv2d, dense and matmul (OPF_ACCUM), except
 * for the bias (check_bias).
 *   float:     everything f32.
 *   quantized: x quantized per-tensor i8/u8/i16; w quantized i8/u8, per
 *              tensor or per axis W_AXIS (the output channel); the result
 *              is either quantized per-tensor i8/u8/i16 (ONNX QLinearConv /
 *              QLinearMatMul) or i32 without quantization, the raw
 *              accumulator (ONNX ConvInteger / MatMulInteger), which takes
 *              no requantization attributes. */
static void check_accum_types(const OpCtx *c, const char *xname, const char *wname, int w_axis)
{
    const TensorType *x = operand(c, 0), *w = operand(c, 1), *y = c->y;
    const char *op = c->op;
    if (is_float(x)) {
        if (!is_float(w))
            OPERR(c, "%s: %s is f32 but %s is %s; operands must be all f32 or all quantized", op, xname, wname,
                  type_desc(w).s);
        if (!is_float(y))
            OPERR(c, "%s: result of a float %s must be f32, got %s", op, op, type_desc(y).s);
        return;
    }
    if (!is_quant_act(x))
        OPERR(c, "%s: %s must be f32 or quantized i8/u8/i16, got %s", op, xname, type_desc(x).s);
    else if (!is_per_tensor(x))
        OPERR(c, "%s: %s must be quantized per-tensor, not per-axis", op, xname);
    if ((w->dtype != DT_I8 && w->dtype != DT_U8) || !w->quant)
        OPERR(c, "%s: %s of a quantized %s must be quantized i8 or u8, got %s", op, wname, op, type_desc(w).s);
    else if (is_per_axis(w) && w->quant->axis != w_axis)
        OPERR(c, "%s: per-axis quantization of %s must be along axis %d, got axis %d", op, wname, w_axis,
              w->quant->axis);
    if (y->dtype == DT_I32 && !y->quant) {
        static const AttrId requant_attrs[] = {ATTR_ACT_MIN, ATTR_ACT_MAX, ATTR_ROUNDING};
        for (size_t i = 0; i < sizeof requant_attrs / sizeof *requant_attrs; i++)
            if (node_attr(c->n, requant_attrs[i]))
                OPERR(c, "%s: attribute '%s' is meaningless on a raw i32 accumulator result (nothing is requantized)",
                      op, attr_info[requant_attrs[i]].name);
    } else if (!is_quant_act(y)) {
        OPERR(c, "%s: result of a quantized %s must be quantized i8/u8/i16 or i32 without quantization, got %s", op,
              op, type_desc(y).s);
    } else if (!is_per_tensor(y)) {
        OPERR(c, "%s: result must be quantized per-tensor, not per-axis", op);
    }
}

/* Bias of conv2d/dense if it has one, its shape [O] and the rest of the
 * op's operands already checked.  f32 in a float
 * op; in a quantized op i32, and if it carries quantization, zero point 0
 * and scale = input scale * weight scale per output channel, which is what
 * the int32 accumulator's scale is (TFLite int8 spec: int32 bias with
 * zero point 0 and scale input_scale * weight_scale; ONNX QLinearConv: the
 * bias "must be quantized using scale = x_scale * w_scale and
 * zero_point = 0").  A bias without quantization parameters is taken to be
 * in those units already. */
static void check_bias(const OpCtx *c)
{
    if (c->n->num_operands < 3)
        return;
    const TensorType *x = operand(c, 0), *w = operand(c, 1), *b = operand(c, 2);
    const char *op = c->op;
    if (is_float(x)) {
        if (!is_float(b))
            OPERR(c, "%s: bias of a float %s must be f32, got %s", op, op, type_desc(b).s);
        return;
    }
    if (b->dtype != DT_I32) {
        OPERR(c, "%s: bias of a quantized %s must be i32, got %s", op, op, type_desc(b).s);
        return;
    }
    const Quant *bq = b->quant;
    if (!bq)
        return;
    for (int i = 0; i < bq->count; i++) {
        if (bq->zero_point[i] != 0) {
            OPERR(c, "%s: bias zero point must be 0, got %d", op, (int)bq->zero_point[i]);
            break;
        }
    }
    if (!accum_scales_known(x, w, 0))
        return;
    /* Compare per output channel; either side may be per-tensor.  The
     * counts agree: both are 1 or O (bias shape [O], weight axis 0). */
    int channels = bq->count > w->quant->count ? bq->count : w->quant->count;
    for (int i = 0; i < channels; i++) {
        double ws = w->quant->scale[w->quant->count == 1 ? 0 : i];
        double bs = bq->scale[bq->count == 1 ? 0 : i];
        double want = (double)x->quant->scale[0] * ws;
        if (fabs(bs - want) > BIAS_SCALE_RTOL * want) {
            OPERR(c, "%s: bias scale %g (channel %d) must equal input scale * weight scale = %g", op, bs, i, want);
            break;
        }
    }
}

/* ---------------------------------------------------------------- per-op rules */

/* conv2d's and dense's input and weight ranks (LAYOUT: the dims named in
 * the message). */
static bool check_accum_ranks(const OpCtx *c, int rank, const char *xlayout, const char *wlayout)
{
    const TensorType *x = operand(c, 0), *w = operand(c, 1);
    check_accum_types(c, "input", "weight", 0);
    if (x->rank != rank)
        OPERR(c, "%s: input must have rank %d %s, got rank %d", c->op, rank, xlayout, x->rank);
    else if (w->rank != rank)
        OPERR(c, "%s: weight must have rank %d %s, got rank %d", c->op, rank, wlayout, w->rank);
    return x->rank == rank && w->rank == rank;
}

/* The bias of conv2d or dense, when there is one, must have one element
 * per output channel (OC of them; WHAT names them).  False after the
 * error when it has not. */
static bool bias_shape_ok(const OpCtx *c, int64_t oc, const char *what)
{
    const TensorType *b = c->n->num_operands > 2 ? operand(c, 2) : NULL;
    if (!b || (b->rank == 1 && b->dims[0] == oc))
        return true;
    OPERR(c, "%s: bias must have shape [%lld] (one per %s), got %s", c->op, (long long)oc, what, shape_text(b).s);
    return false;
}

static void check_conv2d(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *w = operand(c, 1);
    if (!check_accum_ranks(c, 4, "[N,H,W,C]", "[O,KH,KW,C/group]"))
        return;
    int64_t group = node_int(c->n, ATTR_GROUP, 1), ch = x->dims[3], oc = w->dims[0];
    bool ok = true;
    if (ch % group != 0) {
        OPERR(c, "conv2d: input channels %lld are not divisible by group %lld", (long long)ch, (long long)group);
        ok = false;
    }
    if (oc % group != 0) {
        OPERR(c, "conv2d: output channels %lld are not divisible by group %lld", (long long)oc, (long long)group);
        ok = false;
    }
    if (ok && w->dims[3] != ch / group) {
        OPERR(c, "conv2d: weight has %lld input channels but input has %lld channels per group (group=%lld)",
              (long long)w->dims[3], (long long)(ch / group), (long long)group);
        ok = false;
    }
    ok = bias_shape_ok(c, oc, "output channel") && ok;
    if (ok)
        check_bias(c);
    int64_t oh, ow;
    if (!window_dims(c, x, w->dims[1], w->dims[2], &oh, &ow) || !ok)
        return;
    int64_t want[4] = {x->dims[0], oh, ow, oc};
    expect_shape(c, want, 4);
}

static void check_dense(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *w = operand(c, 1);
    if (!check_accum_ranks(c, 2, "[N,K]", "[M,K]"))
        return;
    bool ok = true;
    if (w->dims[1] != x->dims[1]) {
        OPERR(c, "dense: weight has %lld input features but input has %lld", (long long)w->dims[1],
              (long long)x->dims[1]);
        ok = false;
    }
    if (!bias_shape_ok(c, w->dims[0], "output feature") || !ok)
        return;
    check_bias(c);
    int64_t want[2] = {x->dims[0], w->dims[0]};
    expect_shape(c, want, 2);
}

static void check_matmul(const OpCtx *c)
{
    const TensorType *a = operand(c, 0), *b = operand(c, 1);
    if (a->rank < 2 || b->rank < 2) {
        OPERR(c, "matmul: operands must have rank at least 2, got ranks %d and %d", a->rank, b->rank);
        return;
    }
    /* QLinearMatMul allows per-column scales for b: its last axis is N. */
    check_accum_types(c, "a", "b", b->rank - 1);
    int64_t k_a = a->dims[a->rank - 1], k_b = b->dims[b->rank - 2];
    if (k_a != k_b) {
        OPERR(c, "matmul: a has %lld columns but b has %lld rows", (long long)k_a, (long long)k_b);
        return;
    }
    int64_t want[QNN_MAX_RANK];
    int r;
    if (!broadcast(a->dims, a->rank - 2, b->dims, b->rank - 2, want, &r)) {
        OPERR(c, "matmul: batch dimensions %s and %s are not broadcastable", dims_text(a->dims, a->rank - 2).s,
              dims_text(b->dims, b->rank - 2).s);
        return;
    }
    want[r] = a->dims[a->rank - 2];
    want[r + 1] = b->dims[b->rank - 1];
    expect_shape(c, want, r + 2);
}

static void check_batchnorm(const OpCtx *c)
{
    static const char *const names[] = {"input", "scale", "bias", "mean", "var"};
    bool ok = true;
    for (int i = 0; i < 5; i++) {
        if (!is_float(operand(c, i))) {
            OPERR(c, "batchnorm: %s must be f32, got %s (batchnorm is float-only; fold it first)", names[i],
                  type_desc(operand(c, i)).s);
            ok = false;
        }
    }
    if (!is_float(c->y)) {
        OPERR(c, "batchnorm: result must be f32, got %s", type_desc(c->y).s);
        ok = false;
    }
    const TensorType *x = operand(c, 0);
    if (x->rank < 1) {
        OPERR(c, "batchnorm: input must have rank at least 1 (channels last)");
        return;
    }
    int64_t ch = x->dims[x->rank - 1];
    for (int i = 1; i < 5; i++) {
        const TensorType *p = operand(c, i);
        if (p->rank != 1 || p->dims[0] != ch) {
            OPERR(c, "batchnorm: %s must have shape [%lld] (the channel count), got %s", names[i], (long long)ch,
                  shape_text(p).s);
            ok = false;
        }
    }
    (void)ok;
    expect_same_shape(c, x);
}

/* The result of a broadcasting op on A and B has their broadcast shape. */
static void expect_broadcast_shape(const OpCtx *c, const TensorType *a, const TensorType *b)
{
    int64_t want[QNN_MAX_RANK];
    int r;
    if (!broadcast(a->dims, a->rank, b->dims, b->rank, want, &r))
        OPERR(c, "%s: operand shapes %s and %s are not broadcastable", c->op, shape_text(a).s, shape_text(b).s);
    else
        expect_shape(c, want, r);
}

/* add, sub, mul, div, pow, max, min, prelu: broadcasting binary ops (div and
 * pow only on f32).  Quantized operands may have different
 * scales (TFLite ADD/MUL rescale each input), but not different dtypes. */
static void check_binary(const OpCtx *c)
{
    const TensorType *a = operand(c, 0), *b = operand(c, 1), *y = c->y;
    expect_broadcast_shape(c, a, b);

    if (is_float(a) && is_float(b)) {
        if (!is_float(y))
            OPERR(c, "%s: result of a float %s must be f32, got %s", c->op, c->op, type_desc(y).s);
        return;
    }
    if (op_info[c->n->op].flags & OPF_FLOAT_ONLY) {
        OPERR(c, "%s: operands must be f32 (there is no quantized %s), got %s and %s", c->op, c->op,
              type_desc(a).s, type_desc(b).s);
        return;
    }
    if (is_float(a) || is_float(b)) {
        OPERR(c, "%s: operands must be both f32 or both quantized, got %s and %s", c->op, type_desc(a).s,
              type_desc(b).s);
        return;
    }
    if ((c->n->op == OP_MAX || c->n->op == OP_MIN) && dtype_traits[a->dtype].is_int && !a->quant &&
        !b->quant && !y->quant) {
        /* Raw integers compare exactly: any one integer dtype. */
        if (a->dtype != b->dtype || y->dtype != a->dtype)
            OPERR(c, "%s: raw integer operands and result must have one dtype, got %s, %s and %s", c->op,
                  dtype_traits[a->dtype].name, dtype_traits[b->dtype].name, dtype_traits[y->dtype].name);
        return;
    }
    for (int i = 0; i < 2; i++) {
        const TensorType *t = operand(c, i);
        if (!is_quant_act(t)) {
            OPERR(c, "%s: operand %d must be f32 or quantized i8/u8/i16, got %s", c->op, i, type_desc(t).s);
            return;
        }
        if (!is_per_tensor(t)) {
            OPERR(c, "%s: operand %d must be quantized per-tensor, not per-axis", c->op, i);
            return;
        }
    }
    if (a->dtype != b->dtype) {
        OPERR(c, "%s: operands have different element types %s and %s", c->op, dtype_traits[a->dtype].name,
              dtype_traits[b->dtype].name);
        return;
    }
    check_quant_result(c, a, "operand");
}

/* equal, greater, greater_equal, less, less_equal: broadcasting, the
 * result a boolean (u8 0/1, unquantized); operands both f32 or integers of
 * one dtype, each unquantized or quantized per tensor (they compare by
 * real value). */
static void check_compare(const OpCtx *c)
{
    const TensorType *a = operand(c, 0), *b = operand(c, 1), *y = c->y;
    expect_broadcast_shape(c, a, b);
    if (y->dtype != DT_U8 || y->quant)
        OPERR(c, "%s: result must be an unquantized u8 boolean, got %s", c->op, type_desc(y).s);
    if (a->dtype != b->dtype)
        OPERR(c, "%s: operands have different element types %s and %s", c->op, dtype_traits[a->dtype].name,
              dtype_traits[b->dtype].name);
    else if (is_per_axis(a) || is_per_axis(b))
        OPERR(c, "%s: operands must not be quantized per axis", c->op);
}

/* where(cond, a, b): cond an unquantized u8 boolean; a, b and the result
 * one dtype and one quantization (or none), all three broadcasting. */
static void check_where(const OpCtx *c)
{
    const TensorType *k = operand(c, 0), *a = operand(c, 1), *b = operand(c, 2), *y = c->y;
    int64_t ab[QNN_MAX_RANK], want[QNN_MAX_RANK];
    int r1, r;
    if (!broadcast(a->dims, a->rank, b->dims, b->rank, ab, &r1) ||
        !broadcast(k->dims, k->rank, ab, r1, want, &r))
        OPERR(c, "where: operand shapes %s, %s and %s are not broadcastable", shape_text(k).s, shape_text(a).s,
              shape_text(b).s);
    else
        expect_shape(c, want, r);
    if (k->dtype != DT_U8 || k->quant)
        OPERR(c, "where: condition must be an unquantized u8 boolean, got %s", type_desc(k).s);
    for (int i = 1; i < 3; i++) {
        const TensorType *t = operand(c, i);
        if (t->dtype != y->dtype)
            OPERR(c, "where: operand %d element type %s differs from the result's %s", i,
                  dtype_traits[t->dtype].name, dtype_traits[y->dtype].name);
        else if (!quant_equal(t->quant, y->quant))
            OPERR(c, "where: operand %d must have the result's quantization parameters", i);
    }
}

static void check_not(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    expect_same_shape(c, x);
    if (x->dtype != DT_U8 || x->quant)
        OPERR(c, "not: input must be an unquantized u8 boolean, got %s", type_desc(x).s);
    if (y->dtype != DT_U8 || y->quant)
        OPERR(c, "not: result must be an unquantized u8 boolean, got %s", type_desc(y).s);
}

/* relu, clip, leaky_relu, sigmoid, tanh, hard_swish and the unary float
 * functions (exp, log, sqrt, reciprocal, erf, gelu, abs, neg, elu). */
static void check_unary(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    expect_same_shape(c, x);
    check_act_types(c, x);
}

static void check_pool(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    check_act_types(c, x);
    if (x->rank != 4) {
        OPERR(c, "%s: input must have rank 4 [N,H,W,C], got rank %d", c->op, x->rank);
        return;
    }
    if (c->n->op == OP_GLOBAL_AVG_POOL) {
        int64_t want[4] = {x->dims[0], 1, 1, x->dims[3]};
        expect_shape(c, want, 4);
        return;
    }
    const Attr *k = node_attr(c->n, ATTR_KERNEL);
    if (!k) {
        OPERR(c, "%s: attribute 'kernel' is required", c->op);
        return;
    }
    /* A window lying entirely in the padding would take the max of nothing
     * (or divide by a count of 0 with count_include_pad=0), so each pad must
     * be smaller than the effective kernel (as in ONNX MaxPool/AveragePool
     * reference implementations and TFLite, which only pads SAME). */
    static const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
    int64_t d[2], p[4];
    node_ints(c->n, ATTR_DILATIONS, d, 2, ones);
    node_ints(c->n, ATTR_PADS, p, 4, zeros);
    for (int i = 0; i < 4; i++) {
        int64_t kk = k->u.ints[i % 2], dd = d[i % 2], eff;
        if (mul_ok(dd, kk - 1, &eff) && eff < p[i]) { /* extent eff+1 <= pad */
            OPERR(c, "%s: pads[%d] is %lld but must be smaller than the %skernel extent %lld", c->op, i,
                  (long long)p[i], dd > 1 ? "dilated " : "", (long long)(eff + 1));
            return;
        }
    }
    int64_t oh, ow;
    if (!window_dims(c, x, k->u.ints[0], k->u.ints[1], &oh, &ow))
        return;
    int64_t want[4] = {x->dims[0], oh, ow, x->dims[3]};
    expect_shape(c, want, 4);
}

/* resize: NHWC, only H and W change.  With `scales`, each output size is
 * floor(input size * scale) (ONNX Resize, computed in double). */
static void check_resize(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    check_act_types(c, x);
    if (x->rank != 4 || y->rank != 4) {
        OPERR(c, "resize: input and result must have rank 4 [N,H,W,C], got ranks %d and %d", x->rank, y->rank);
        return;
    }
    if (y->dims[0] != x->dims[0] || y->dims[3] != x->dims[3]) {
        OPERR(c, "resize: only H and W may change, but the result shape is %s for an input %s", shape_text(y).s,
              shape_text(x).s);
        return;
    }
    const Attr *sc = node_attr(c->n, ATTR_SCALES);
    for (int k = 0; sc && k < 2; k++) {
        double want = floor((double)x->dims[1 + k] * (double)sc->u.floats[k]);
        if (want != (double)y->dims[1 + k]) {
            OPERR(c, "resize: result %s %lld is not floor(%lld * %g) = %.0f", k ? "width" : "height",
                  (long long)y->dims[1 + k], (long long)x->dims[1 + k], (double)sc->u.floats[k], want);
            return;
        }
    }
}

static void check_softmax(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    int64_t axis = node_int(c->n, ATTR_AXIS, -1);
    int ax;
    if (!norm_axis(axis, x->rank, &ax)) {
        OPERR(c, "softmax: axis %lld is out of range for rank %d", (long long)axis, x->rank);
        return;
    }
    expect_same_shape(c, x);
    check_act_types(c, x);
    if (node_int(c->n, ATTR_ROUNDING, ROUND_ONNX) != ROUND_TFLITE || is_float(x))
        return;
    /* TFLite's integer softmax (docs/ir-semantics.md) is defined for int8
     * in and int8 out at scale 1/256, zero point -128; its Q12.19 sum of
     * exponentials holds at most 4095 terms of exp(0) without overflow. */
    if (x->dtype != DT_I8 || y->dtype != DT_I8 || !y->quant || !is_per_tensor(y))
        OPERR(c, "softmax: rounding=tflite needs i8 input and i8 result, got %s and %s", type_desc(x).s,
              type_desc(y).s);
    else if (y->quant->scale[0] != 1.0f / 256 || y->quant->zero_point[0] != -128)
        OPERR(c, "softmax: rounding=tflite needs the result quantized q(0.00390625, -128), got q(%g, %d)",
              (double)y->quant->scale[0], y->quant->zero_point[0]);
    else if (x->dims[ax] > 4095)
        OPERR(c, "softmax: rounding=tflite supports at most 4095 elements along the axis, got %lld",
              (long long)x->dims[ax]);
}

/* reduce_mean, reduce_sum, reduce_max, reduce_min: `axes` is required,
 * canonical (every entry in [0, rank), strictly increasing), and the
 * result is the input with those dims dropped (keepdims=0) or set to 1. */
static void check_reduce(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    const Attr *a = node_attr(c->n, ATTR_AXES);
    if (!a) {
        OPERR(c, "%s: attribute 'axes' is required", c->op);
        return;
    }
    bool keep = node_int(c->n, ATTR_KEEPDIMS, 1) != 0, red[QNN_MAX_RANK] = {false};
    for (int i = 0; i < a->count; i++) {
        if (a->u.ints[i] >= x->rank) {
            OPERR(c, "%s: axes[%d] is %lld, out of range for rank %d", c->op, i, (long long)a->u.ints[i], x->rank);
            return;
        }
        if (i > 0 && a->u.ints[i] <= a->u.ints[i - 1]) {
            OPERR(c, "%s: axes must be strictly increasing, got %lld after %lld", c->op, (long long)a->u.ints[i],
                  (long long)a->u.ints[i - 1]);
            return;
        }
        red[a->u.ints[i]] = true;
    }
    int64_t want[QNN_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (red[d] && x->dims[d] == 0) {
            OPERR(c, "%s: reduced axis %d is empty", c->op, d);
            return;
        }
        if (!red[d] || keep)
            want[r++] = red[d] ? 1 : x->dims[d];
    }
    expect_shape(c, want, r);
    check_act_types(c, x);
}

/* layer_norm(x, scale, bias?): normalises over the dims from `axis` on;
 * scale and bias are f32 of exactly those dims (the quantized form
 * dequantizes x, computes in float and quantizes the result). */
static void check_layer_norm(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    int64_t axis = node_int(c->n, ATTR_AXIS, -1);
    int ax;
    if (!norm_axis(axis, x->rank, &ax)) {
        OPERR(c, "layer_norm: axis %lld is out of range for rank %d", (long long)axis, x->rank);
        return;
    }
    for (int i = 1; i < c->n->num_operands; i++) {
        const TensorType *p = operand(c, i);
        if (!is_float(p))
            OPERR(c, "layer_norm: %s must be f32, got %s", i == 1 ? "scale" : "bias", type_desc(p).s);
        else if (p->rank != x->rank - ax || memcmp(p->dims, x->dims + ax, sizeof(int64_t) * (size_t)p->rank))
            OPERR(c, "layer_norm: %s must have shape %s (the normalized dims), got %s", i == 1 ? "scale" : "bias",
                  dims_text(x->dims + ax, x->rank - ax).s, shape_text(p).s);
    }
    expect_same_shape(c, x);
    check_act_types(c, x);
}

static void check_concat(const OpCtx *c)
{
    const TensorType *x0 = operand(c, 0), *y = c->y;
    const Attr *a = node_attr(c->n, ATTR_AXIS);
    if (!a) {
        OPERR(c, "concat: attribute 'axis' is required");
        return;
    }
    int ax;
    if (!norm_axis(a->u.i, x0->rank, &ax)) {
        OPERR(c, "concat: axis %lld is out of range for rank %d", (long long)a->u.i, x0->rank);
        return;
    }
    int64_t sum = 0;
    bool ok = true;
    for (int i = 0; i < c->n->num_operands; i++) {
        const TensorType *t = operand(c, i);
        if (t->rank != x0->rank) {
            OPERR(c, "concat: operand %d has rank %d but operand 0 has rank %d", i, t->rank, x0->rank);
            return;
        }
        for (int j = 0; j < t->rank; j++) {
            if (j != ax && t->dims[j] != x0->dims[j]) {
                OPERR(c, "concat: operand %d has shape %s, which differs from operand 0's %s outside axis %d", i,
                      shape_text(t).s, shape_text(x0).s, ax);
                ok = false;
                break;
            }
        }
        /* Cannot overflow: each dim is below 2^31 (the element cap) and
         * there are fewer than 2^31 operands. */
        sum += t->dims[ax];
        if (t->dtype != x0->dtype) {
            OPERR(c, "concat: operand %d has element type %s but operand 0 has %s", i, dtype_traits[t->dtype].name,
                  dtype_traits[x0->dtype].name);
            ok = false;
        } else if ((t->quant != NULL) != (x0->quant != NULL)) {
            OPERR(c, "concat: operands must be all quantized or all unquantized");
            ok = false;
        } else if (is_per_axis(t)) {
            OPERR(c, "concat: operand %d must be quantized per-tensor, not per-axis", i);
            ok = false;
        }
    }
    if (ok) {
        int64_t want[QNN_MAX_RANK];
        memcpy(want, x0->dims, sizeof want);
        want[ax] = sum;
        expect_shape(c, want, x0->rank);
    }
    if (!ok)
        return;
    /* Each operand is requantized to the result's scale, so only the dtype
     * and the presence of quantization must agree. */
    if (y->dtype != x0->dtype)
        OPERR(c, "concat: result element type %s differs from operand element type %s", dtype_traits[y->dtype].name,
              dtype_traits[x0->dtype].name);
    else if ((y->quant != NULL) != (x0->quant != NULL))
        OPERR(c, "concat: result must be quantized exactly when the operands are");
    else if (is_per_axis(y))
        OPERR(c, "concat: result must be quantized per-tensor, not per-axis");
}

static void check_reshape(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    if (numel(x) != numel(c->y))
        OPERR(c, "reshape: result has %lld elements but input has %lld", (long long)numel(c->y), (long long)numel(x));
    check_layout_types(c, x);
}

static void check_transpose(const OpCtx *c)
{
    const TensorType *x = operand(c, 0);
    check_layout_types(c, x);
    const Attr *p = node_attr(c->n, ATTR_PERM);
    if (!p) {
        OPERR(c, "transpose: attribute 'perm' is required");
        return;
    }
    if (p->count != x->rank) {
        OPERR(c, "transpose: perm has %d entries but the input has rank %d", p->count, x->rank);
        return;
    }
    bool seen[QNN_MAX_RANK] = {false};
    int64_t want[QNN_MAX_RANK];
    for (int i = 0; i < p->count; i++) {
        int64_t e = p->u.ints[i];
        if (e < 0 || e >= x->rank || seen[e]) {
            OPERR(c, "transpose: perm %s is not a permutation of 0..%d", dims_text(p->u.ints, p->count).s,
                  x->rank - 1);
            return;
        }
        seen[e] = true;
        want[i] = x->dims[e];
    }
    expect_shape(c, want, x->rank);
}

static void check_pad(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    check_layout_types(c, x);
    const Attr *p = node_attr(c->n, ATTR_PADS);
    if (!p) {
        OPERR(c, "pad: attribute 'pads' is required");
        return;
    }
    if (p->count != 2 * x->rank) {
        OPERR(c, "pad: pads has %d entries but must have 2*rank = %d", p->count, 2 * x->rank);
        return;
    }
    int64_t want[QNN_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        if (__builtin_add_overflow(x->dims[i], p->u.ints[i], &want[i]) ||
            __builtin_add_overflow(want[i], p->u.ints[x->rank + i], &want[i])) {
            OPERR(c, "pad: padded dimension %d overflows", i);
            return;
        }
        if (want[i] < 1) {
            OPERR(c, "pad: dimension %d of size %lld cropped to %lld", i, (long long)x->dims[i], (long long)want[i]);
            return;
        }
    }
    expect_shape(c, want, x->rank);
    /* The pad value is real-valued; in a quantized pad it must land inside
     * the element type once quantized, or the padding would saturate. */
    if (is_per_tensor(y) && y->dtype == x->dtype) {
        double value = node_float(c->n, ATTR_VALUE, 0.0f);
        double q = nearbyint(value / y->quant->scale[0]) + y->quant->zero_point[0];
        const DTypeTraits *dt = &dtype_traits[y->dtype];
        if (q < (double)dt->min || q > (double)dt->max)
            OPERR(c, "pad: value %g is not representable in the result's quantized %s (it quantizes to %.0f)", value,
                  dt->name, q);
    }
}

/* slice: y[i...] = x[starts[d] + i_d*steps[d] ...].  Every index the
 * result reads, the first and the last along each dim, lies inside x, so
 * the result's extent is bounded by the input's (a negative step walks
 * backwards from starts[d]) except along a dim of step 0, which repeats
 * x's element starts[d] (a broadcast: Expand, Tile). */
static void check_slice(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    check_layout_types(c, x);
    const Attr *s = node_attr(c->n, ATTR_STARTS), *st = node_attr(c->n, ATTR_STEPS);
    if (!s) {
        OPERR(c, "slice: attribute 'starts' is required");
        return;
    }
    if (s->count != x->rank || (st && st->count != x->rank)) {
        OPERR(c, "slice: starts and steps must have one entry per input dim (%d)", x->rank);
        return;
    }
    if (y->rank != x->rank) {
        OPERR(c, "slice: result rank %d differs from input rank %d", y->rank, x->rank);
        return;
    }
    for (int d = 0; d < x->rank; d++) {
        int64_t b = s->u.ints[d], k = st ? st->u.ints[d] : 1;
        if (b >= x->dims[d]) {
            OPERR(c, "slice: starts[%d] is %lld, outside dim %d of size %lld", d, (long long)b, d,
                  (long long)x->dims[d]);
            return;
        }
        if (k == 0)
            continue; /* every index read is b */
        /* The last index read, b + (y.dims[d] - 1) * k, in [0, x.dims[d]). */
        int64_t room = k > 0 ? (x->dims[d] - 1 - b) / k : k == INT64_MIN ? 0 : b / -k;
        if (y->dims[d] - 1 > room) {
            OPERR(c, "slice: result dim %d of size %lld reads past the input (at most %lld from starts %lld with "
                     "step %lld)", d, (long long)y->dims[d], (long long)room + 1, (long long)b, (long long)k);
            return;
        }
    }
}

/* gather(x, indices): x any layout-op element type, indices unquantized
 * i32 (any values: out-of-range ones read zeros), result dims
 * x[:axis] + indices.dims + x[axis+1:] within QNN_MAX_RANK. */
static void check_gather(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *ix = operand(c, 1);
    check_layout_types(c, x);
    if (ix->dtype != DT_I32 || ix->quant) {
        OPERR(c, "gather: indices must be unquantized i32, got %s", type_desc(ix).s);
        return;
    }
    int64_t axis = node_int(c->n, ATTR_AXIS, 0);
    if (axis < 0 || axis >= x->rank) {
        OPERR(c, "gather: axis %lld is outside the input's rank %d", (long long)axis, x->rank);
        return;
    }
    if (x->dims[axis] < 1) {
        OPERR(c, "gather: the gathered dim %lld is empty", (long long)axis);
        return;
    }
    int r = x->rank - 1 + ix->rank;
    if (r > QNN_MAX_RANK) {
        OPERR(c, "gather: result rank %d exceeds %d", r, QNN_MAX_RANK);
        return;
    }
    int64_t dims[QNN_MAX_RANK];
    int k = 0;
    for (int d = 0; d < axis; d++)
        dims[k++] = x->dims[d];
    for (int d = 0; d < ix->rank; d++)
        dims[k++] = ix->dims[d];
    for (int d = (int)axis + 1; d < x->rank; d++)
        dims[k++] = x->dims[d];
    expect_shape(c, dims, r);
}

/* ONNX QuantizeLinear: f32 in, integer out with per-tensor or per-axis
 * scale and zero point. */
static void check_quantize(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    expect_same_shape(c, x);
    if (!is_float(x))
        OPERR(c, "quantize: input must be f32, got %s", type_desc(x).s);
    if (is_float(y) || !y->quant)
        OPERR(c, "quantize: result must be a quantized integer type, got %s", type_desc(y).s);
}

/* ONNX DequantizeLinear. */
static void check_dequantize(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    expect_same_shape(c, x);
    if (is_float(x) || !x->quant)
        OPERR(c, "dequantize: input must be a quantized integer type, got %s", type_desc(x).s);
    if (!is_float(y))
        OPERR(c, "dequantize: result must be f32, got %s", type_desc(y).s);
}

/* ONNX Cast between the IR's dtypes, on plain (unquantized) tensors: the
 * quantization ops convert quantized ones. */
static void check_cast(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    expect_same_shape(c, x);
    if (x->quant || y->quant)
        OPERR(c, "cast: operand and result must not be quantized (use quantize, dequantize or requantize)");
}

static void check_requantize(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *y = c->y;
    expect_same_shape(c, x);
    if (is_float(x) || !x->quant)
        OPERR(c, "requantize: input must be a quantized integer type, got %s", type_desc(x).s);
    if (is_float(y) || !y->quant)
        OPERR(c, "requantize: result must be a quantized integer type, got %s", type_desc(y).s);
}

/* lut(x, table): y[i] = table[x[i] + 128], the form every quantized
 * nonlinear op lowers to; the table is computed at compile time, so it must
 * be a constant. */
static void check_lut(const OpCtx *c)
{
    const TensorType *x = operand(c, 0), *tab = operand(c, 1), *y = c->y;
    const Value *tv = c->n->operands[1];
    expect_same_shape(c, x);
    if (x->dtype != DT_I8 || !is_per_tensor(x))
        OPERR(c, "lut: input must be quantized i8, got %s", type_desc(x).s);
    if (tv->kind != VAL_CONST)
        OPERR(c, "lut: table %%%s must be a constant", vname(tv));
    if (tab->dtype != DT_I8 || tab->rank != 1 || tab->dims[0] != 256)
        OPERR(c, "lut: table must be i8[256], got %s%s", dtype_traits[tab->dtype].name, shape_text(tab).s);
    if (y->dtype != DT_I8)
        OPERR(c, "lut: result must be i8, got %s", type_desc(y).s);
    else if (is_per_axis(y))
        OPERR(c, "lut: result must be quantized per-tensor, not per-axis");
}

static void check_op(const OpCtx *c)
{
    static void (*const rule[OP_COUNT])(const OpCtx *) = {
#define OP(id, nm, mino, maxo, fl, at, check, interp) [OP_##id] = check,
#include "ops.def"
#undef OP
    };
    rule[c->n->op](c);
}

/* The folded requantization attributes (multiplier, shift, qmin, qmax;
 * docs/ir-semantics.md, "Folded requantization") are a compile-time cache:
 * when present they must equal what the op's scales, rounding and
 * act_min/act_max imply (requant_implied), entry for entry, so that the
 * cache can never contradict the types.  Runs only on a node whose op
 * rules passed, since the implied values read its types. */
static bool node_rounding_is_tflite(const Node *n)
{
    return node_int(n, ATTR_ROUNDING, ROUND_ONNX) == ROUND_TFLITE;
}

static void check_folded(const OpCtx *c)
{
    const Node *n = c->n;
    const Attr *ma = node_attr(n, ATTR_MULTIPLIER), *sa = node_attr(n, ATTR_SHIFT);
    const Attr *lo = node_attr(n, ATTR_QMIN), *hi = node_attr(n, ATTR_QMAX);
    if (!ma && !sa && !lo && !hi)
        return;
    Requant r;
    char why[256];
    if (!requant_implied(n, &r, why, sizeof why)) {
        OPERR(c, "%s: folded requantization attributes are not allowed here: %s", c->op, why);
        return;
    }
    if (!ma != !sa) {
        OPERR(c, "%s: 'multiplier' and 'shift' must be given together", c->op);
    } else if (ma && r.count == 0) {
        OPERR(c, "%s: no multiplier is folded for rounding=onnx %s (it computes in real arithmetic); "
                 "only qmin/qmax may be given", c->op, c->op);
    } else if (ma) {
        const Attr *lists[2] = {ma, sa};
        const int64_t *want[2] = {r.mult, r.shift};
        for (int k = 0; k < 2; k++) {
            const char *name = attr_info[lists[k]->id].name;
            if (lists[k]->count != r.count) {
                OPERR(c, "%s: '%s' has %d entr%s but the scales imply %d", c->op, name, lists[k]->count,
                      lists[k]->count == 1 ? "y" : "ies", r.count);
                continue;
            }
            for (int i = 0; i < r.count; i++)
                if (lists[k]->u.ints[i] != want[k][i])
                    OPERR(c, "%s: %s[%d] is %lld but the scales imply %lld (%s)", c->op, name, i,
                          (long long)lists[k]->u.ints[i], (long long)want[k][i],
                          node_rounding_is_tflite(n) ? "TFLite QuantizeMultiplier" : "the exact double significand");
        }
    }
    if (lo && lo->u.i != r.qmin)
        OPERR(c, "%s: qmin is %lld but act_min and the output quantization imply %lld", c->op, (long long)lo->u.i,
              (long long)r.qmin);
    if (hi && hi->u.i != r.qmax)
        OPERR(c, "%s: qmax is %lld but act_max and the output quantization imply %lld", c->op, (long long)hi->u.i,
              (long long)r.qmax);
    requant_free(&r);
}

/* ---------------------------------------------------------------- nodes */

static void check_node(Verifier *v, const Node *n)
{
    if (!n) {
        verr(v, v->g->loc, "graph has a missing node");
        return;
    }
    if ((unsigned)n->op >= OP_COUNT) {
        verr(v, n->loc, "node has unknown op %d", (int)n->op);
        /* Its result still counts as defined: its users are not at fault. */
        if (is_member(v, n->result))
            v->defined[n->result->id] = true;
        return;
    }
    const OpInfo *oi = &op_info[n->op];
    const char *op = oi->name;
    bool ok = true;

    /* The result: a member of the graph, defined by this node only. */
    const Value *res = n->result;
    if (!is_member(v, res)) {
        verr(v, n->loc, "%s: result is missing or not a value of this graph", op);
        res = NULL;
        ok = false;
    } else {
        if (!value_ok(v, res))
            ok = false;
        if (v->defined[res->id])
            verr(v, n->loc, "%s: result %%%s is already defined", op, vname(res));
        else if (res->kind != VAL_NODE || res->def != n)
            verr(v, n->loc, "%s: result %%%s does not record this node as its definition", op, vname(res));
    }

    if (n->num_operands > 0 && !n->operands) {
        verr(v, n->loc, "%s: operand list is missing", op);
        ok = false;
    } else if (n->num_operands < oi->min_operands ||
               (oi->max_operands >= 0 && n->num_operands > oi->max_operands)) {
        if (oi->max_operands < 0)
            verr(v, n->loc, "%s: expected at least %d operand%s, got %d", op, oi->min_operands,
                 oi->min_operands == 1 ? "" : "s", n->num_operands);
        else if (oi->min_operands == oi->max_operands)
            verr(v, n->loc, "%s: expected %d operand%s, got %d", op, oi->min_operands,
                 oi->min_operands == 1 ? "" : "s", n->num_operands);
        else
            verr(v, n->loc, "%s: expected %d to %d operands, got %d", op, oi->min_operands, oi->max_operands,
                 n->num_operands);
        ok = false;
    } else {
        for (int i = 0; i < n->num_operands; i++) {
            const Value *x = n->operands[i];
            if (!is_member(v, x)) {
                verr(v, n->loc, "%s: operand %d is missing or not a value of this graph", op, i);
                ok = false;
                continue;
            }
            if (!v->defined[x->id])
                verr(v, n->loc, "%s: operand %%%s is used before it is defined", op, vname(x));
            if (!value_ok(v, x))
                ok = false;
        }
    }

    if (!check_attrs(v, n))
        ok = false;
    else
        check_bounds(v, n);
    if (ok) {
        OpCtx c = {v, n, op, &res->type};
        int before = v->errors;
        check_op(&c);
        if (v->errors == before)
            check_folded(&c);
    }
    if (res)
        v->defined[res->id] = true;
}

/* ---------------------------------------------------------------- graph */

static uint64_t hash_name(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

/* Value names must be unique.  An open-addressing set keeps this linear;
 * graphs of real models have tens of thousands of values. */
static void check_names(Verifier *v)
{
    const PtrVec *vals = &v->g->values;
    size_t cap = 16;
    while (cap < (size_t)vals->len * 2)
        cap *= 2;
    const Value **set = xcalloc(cap, sizeof *set);
    for (int i = 0; i < vals->len; i++) {
        const Value *val = vals->data[i];
        if (!val)
            continue;
        if (!val->name || !val->name[0]) {
            verr(v, val->loc, "value #%d has no name", i);
            continue;
        }
        size_t h = (size_t)hash_name(val->name) & (cap - 1);
        while (set[h] && strcmp(set[h]->name, val->name) != 0)
            h = (h + 1) & (cap - 1);
        if (set[h]) {
            if (set[h]->loc.file && set[h]->loc.line > 0)
                verr(v, val->loc, "%%%s is defined more than once (first at line %d)", val->name, set[h]->loc.line);
            else
                verr(v, val->loc, "%%%s is defined more than once", val->name);
        } else {
            set[h] = val;
        }
    }
    free(set);
}

/* Graph inputs and constants are defined on entry, in any order. */
static void define_leaves(Verifier *v, const PtrVec *list, ValueKind kind, const char *what)
{
    for (int i = 0; i < list->len; i++) {
        const Value *val = list->data[i];
        if (!is_member(v, val)) {
            verr(v, v->g->loc, "%s %d is missing or not a value of this graph", what, i);
            continue;
        }
        if (val->kind != kind)
            verr(v, val->loc, "%%%s is listed as a graph %s but is not one", vname(val), what);
        value_ok(v, val);
        v->defined[val->id] = true;
    }
}

bool ir_verify(const Graph *g)
{
    if (!g)
        return false;
    Verifier v = {.g = g};
    int nv = g->values.len;
    v.checked = xcalloc((size_t)nv + 1, sizeof *v.checked);
    v.type_ok = xcalloc((size_t)nv + 1, sizeof *v.type_ok);
    v.defined = xcalloc((size_t)nv + 1, sizeof *v.defined);

    for (int i = 0; i < nv; i++) {
        const Value *val = g->values.data[i];
        if (!val || val->id != i) {
            verr(&v, g->loc, "value #%d is missing or has a wrong id", i);
            goto out;  /* ids index every table below: nothing else is safe */
        }
    }
    check_names(&v);
    define_leaves(&v, &g->inputs, VAL_INPUT, "input");
    define_leaves(&v, &g->consts, VAL_CONST, "constant");
    for (int i = 0; i < g->nodes.len; i++)
        check_node(&v, g->nodes.data[i]);

    if (g->outputs.len == 0)
        verr(&v, g->loc, "graph @%s has no outputs", g->name ? g->name : "");
    for (int i = 0; i < g->outputs.len; i++) {
        const Value *val = g->outputs.data[i];
        if (!is_member(&v, val))
            verr(&v, g->loc, "output %d is missing or not a value of this graph", i);
        else if (!v.defined[val->id])
            verr(&v, g->loc, "output %%%s is not defined by an input, constant or node", vname(val));
    }
    /* Values nothing refers to still get their types checked. */
    for (int i = 0; i < nv; i++)
        value_ok(&v, g->values.data[i]);

out:
    free(v.checked);
    free(v.type_ok);
    free(v.defined);
    return v.errors == 0;
}
