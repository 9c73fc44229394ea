/* interp_elem.c - reference kernels for elementwise ops, activations,
 * (de/re)quantization, softmax, batchnorm and lut.
 *
 * Float ops compute in float32.  Quantized ops follow the rules of
 * docs/ir-semantics.md: add/mul either in double on dequantized values
 * (onnx; ONNX QLinearAdd/QLinearMul) or with TFLite's int8 ADD/MUL
 * reference arithmetic (tflite); the OPF_NONLINEAR activations dequantize,
 * apply the float32 function and requantize half-to-even, which is exactly
 * what a 256-entry LUT built by a later pass reproduces.
 */
#include "interp.h"

#include <stdlib.h>
#include <string.h>

static bool same_shape_numel(const TensorType *a, const TensorType *b)
{
    return type_numel(a) == type_numel(b);
}

/* ------------------------------------------------------------ add / sub / mul / div */

typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MAX, BIN_MIN, BIN_PRELU,
    BIN_EQ, BIN_GT, BIN_GE, BIN_LT, BIN_LE,
} BinaryKind;

static bool is_compare(BinaryKind k) { return k >= BIN_EQ; }

/* (int32)(v * 2^20) with TFLite's int32 wrap, made well-defined. */
static int32_t shl_wrap(int64_t v, int s)
{
    return (int32_t)((uint32_t)v << s);
}

/* max and min propagate NaN from either side (numpy.maximum, ONNX's
 * reference for Max/Min); otherwise the larger (smaller) value, the
 * second one on a tie, so max(-0, +0) is +0 and max(+0, -0) is -0. */
static float binary_f(BinaryKind k, float x, float z)
{
    switch (k) {
    case BIN_ADD: return x + z;
    case BIN_SUB: return x - z;
    case BIN_MUL: return x * z;
    case BIN_DIV: return x / z;
    case BIN_POW: return powf(x, z);
    case BIN_MAX: return isnan(x) ? x : isnan(z) ? z : x > z ? x : z;
    case BIN_MIN: return isnan(x) ? x : isnan(z) ? z : x < z ? x : z;
    case BIN_PRELU: return x < 0 ? z * x : x; /* ONNX PRelu: slope * x for x < 0 */
    default: break;
    }
    qnn_unreachable();
}

/* The same functions on exact reals (double), for the quantized forms;
 * comparisons give 0 or 1.  Operands are never NaN here. */
static double binary_d(BinaryKind k, double x, double z)
{
    switch (k) {
    case BIN_ADD: return x + z;
    case BIN_SUB: return x - z;
    case BIN_MUL: return x * z;
    case BIN_MAX: return x > z ? x : z;
    case BIN_MIN: return x < z ? x : z;
    case BIN_PRELU: return x < 0 ? z * x : x;
    case BIN_EQ: return x == z;
    case BIN_GT: return x > z;
    case BIN_GE: return x >= z;
    case BIN_LT: return x < z;
    case BIN_LE: return x <= z;
    default: break;
    }
    qnn_unreachable();
}

static bool compare_f(BinaryKind k, float x, float z)
{
    switch (k) {
    case BIN_EQ: return x == z;
    case BIN_GT: return x > z;
    case BIN_GE: return x >= z;
    case BIN_LT: return x < z;
    case BIN_LE: return x <= z;
    default: break;
    }
    qnn_unreachable();
}

static int binary(const Node *n, const void *const in[], void *out, BinaryKind kind)
{
    bool is_mul = kind == BIN_MUL;
    const TensorType *at = &n->operands[0]->type, *bt = &n->operands[1]->type;
    const TensorType *yt = &n->result->type;
    int64_t cnt = type_numel(yt);
    int64_t *ao = xmalloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *ao);
    int64_t *bo = xmalloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *bo);
    int rc = -1;
    if (!broadcast_offsets(yt, at, ao) || !broadcast_offsets(yt, bt, bo)) {
        interp_fail(n, "operand shapes do not broadcast to the result");
        goto out;
    }
    const void *a = in[0], *b = in[1];
    if (is_compare(kind)) {
        /* Result u8 0/1.  Float operands compare as float32 (NaN compares
         * false); integer ones by their real values (double, exact), which
         * for raw integers is the integer comparison. */
        if (yt->dtype != DT_U8 || yt->quant || (at->dtype == DT_F32) != (bt->dtype == DT_F32)) {
            interp_fail(n, "comparison of %s and %s must give an unquantized u8",
                        dtype_traits[at->dtype].name, dtype_traits[bt->dtype].name);
            goto out;
        }
        if (at->dtype == DT_F32) {
            for (int64_t i = 0; i < cnt; i++)
                st_int(out, DT_U8, i, compare_f(kind, ld_f32(a, ao[i]), ld_f32(b, bo[i])));
        } else {
            if (!quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant)) {
                interp_fail(n, "per-axis quantization is not supported by comparisons");
                goto out;
            }
            QParam ap = qparam_chan(at->quant, 0), bp = qparam_chan(bt->quant, 0);
            for (int64_t i = 0; i < cnt; i++) {
                double ra = (double)ap.scale * (double)(ld_int(a, at->dtype, ao[i]) - ap.zp);
                double rb = (double)bp.scale * (double)(ld_int(b, bt->dtype, bo[i]) - bp.zp);
                st_int(out, DT_U8, i, binary_d(kind, ra, rb) != 0);
            }
        }
        rc = 0;
        goto out;
    }
    if (at->dtype == DT_F32 || bt->dtype == DT_F32 || yt->dtype == DT_F32) {
        if (at->dtype != DT_F32 || bt->dtype != DT_F32 || yt->dtype != DT_F32) {
            interp_fail(n, "float and integer operands cannot be mixed");
            goto out;
        }
        float lo = node_float(n, ATTR_ACT_MIN, -INFINITY), hi = node_float(n, ATTR_ACT_MAX, INFINITY);
        for (int64_t i = 0; i < cnt; i++) {
            float x = ld_f32(a, ao[i]), z = ld_f32(b, bo[i]);
            st_f32(out, i, act_clamp_f(binary_f(kind, x, z), lo, hi));
        }
        rc = 0;
        goto out;
    }
    DType ad = at->dtype, bd = bt->dtype, yd = yt->dtype;
    if (!at->quant && !bt->quant && !yt->quant) {
        /* Plain integers: exact in int64 (an i32 product fits), then
         * saturated to the result type.  (div and pow are f32-only.) */
        for (int64_t i = 0; i < cnt; i++) {
            int64_t x = ld_int(a, ad, ao[i]), z = ld_int(b, bd, bo[i]);
            int64_t r;
            switch (kind) {
            case BIN_MUL: r = x * z; break;
            case BIN_SUB: r = x - z; break;
            case BIN_MAX: r = x > z ? x : z; break;
            case BIN_MIN: r = x < z ? x : z; break;
            case BIN_PRELU: r = x < 0 ? z * x : x; break;
            default: r = x + z; break;
            }
            st_int(out, yd, i, fp_clamp_i64(r, dt_min(yd), dt_max(yd)));
        }
        rc = 0;
        goto out;
    }
    if (!quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant) ||
        !quant_is_per_tensor(yt->quant)) {
        interp_fail(n, "per-axis quantization is not supported by add/sub/mul");
        goto out;
    }
    QParam ap = qparam_chan(at->quant, 0), bp = qparam_chan(bt->quant, 0);
    QParam yp = qparam_chan(yt->quant, 0);
    int rounding = node_rounding(n);
    int64_t lo, hi;
    act_range_quantized(n, yt, 0, rounding, &lo, &hi);
    folded_clamp(n, &lo, &hi);
    if (rounding != ROUND_TFLITE || kind == BIN_MAX || kind == BIN_MIN || kind == BIN_PRELU) {
        /* ONNX QLinearAdd / QLinearMul (and sub, max, min and prelu, which
         * have no rounding mode, by the same rule): dequantize, operate in
         * real arithmetic (double), quantize half to even. */
        for (int64_t i = 0; i < cnt; i++) {
            double ra = (double)ap.scale * (double)(ld_int(a, ad, ao[i]) - ap.zp);
            double rb = (double)bp.scale * (double)(ld_int(b, bd, bo[i]) - bp.zp);
            double q = binary_d(kind, ra, rb) / (double)yp.scale;
            st_int(out, yd, i, fp_saturate(fp_round_half_even(q) + yp.zp, lo, hi));
        }
        rc = 0;
        goto out;
    }
    if (is_mul) {
        /* TFLite int8 MUL: one multiplier sa*sb/sy applied to the product
         * of the zero-point-shifted inputs. */
        int32_t mult;
        int shift;
        double m = (double)ap.scale * (double)bp.scale / (double)yp.scale;
        if (!fp_quantize_multiplier(m, &mult, &shift)) {
            interp_fail(n, "multiplier %g is not a TFLite multiplier", m);
            goto out;
        }
        folded_multiplier(n, 0, &mult, &shift);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t p = (ld_int(a, ad, ao[i]) - ap.zp) * (ld_int(b, bd, bo[i]) - bp.zp);
            if (p < INT32_MIN || p > INT32_MAX) {
                interp_fail(n, "product overflows int32");
                goto out;
            }
            int64_t v = (int64_t)fp_mul_by_quantized_multiplier((int32_t)p, mult, shift) + yp.zp;
            st_int(out, yd, i, fp_clamp_i64(v, lo, hi));
        }
    } else {
        TfliteAdd t;
        if (!tflite_add_prepare(ap, bp, yp, &t)) {
            interp_fail(n, "scales give multipliers TFLite cannot represent");
            goto out;
        }
        folded_multiplier(n, 0, &t.ma, &t.sha);
        folded_multiplier(n, 1, &t.mb, &t.shb);
        folded_multiplier(n, 2, &t.mo, &t.sho);
        for (int64_t i = 0; i < cnt; i++) {
            int32_t xa = shl_wrap(ld_int(a, ad, ao[i]) - ap.zp, TFLITE_ADD_LEFT_SHIFT);
            int32_t xb = shl_wrap(ld_int(b, bd, bo[i]) - bp.zp, TFLITE_ADD_LEFT_SHIFT);
            /* TFLite SUB is ADD with the second rescaled input subtracted
             * (reference_integer_ops SubElementwise). */
            int64_t sa = fp_mul_by_quantized_multiplier(xa, t.ma, t.sha);
            int64_t sb = fp_mul_by_quantized_multiplier(xb, t.mb, t.shb);
            int64_t sum = kind == BIN_SUB ? sa - sb : sa + sb;
            if (sum < INT32_MIN || sum > INT32_MAX) {
                interp_fail(n, "rescaled sum overflows int32");
                goto out;
            }
            int64_t v = (int64_t)fp_mul_by_quantized_multiplier((int32_t)sum, t.mo, t.sho) + yp.zp;
            st_int(out, yd, i, fp_clamp_i64(v, lo, hi));
        }
    }
    rc = 0;
out:
    free(ao);
    free(bo);
    return rc;
}

int interp_add(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_ADD); }
int interp_sub(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_SUB); }
int interp_mul(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_MUL); }
int interp_div(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_DIV); }
int interp_pow(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_POW); }
int interp_max(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_MAX); }
int interp_min(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_MIN); }
int interp_prelu(const Node *n, const void *const in[], void *out) { return binary(n, in, out, BIN_PRELU); }

int interp_compare(const Node *n, const void *const in[], void *out)
{
    switch (n->op) {
    case OP_EQUAL: return binary(n, in, out, BIN_EQ);
    case OP_GREATER: return binary(n, in, out, BIN_GT);
    case OP_GREATER_EQUAL: return binary(n, in, out, BIN_GE);
    case OP_LESS: return binary(n, in, out, BIN_LT);
    case OP_LESS_EQUAL: return binary(n, in, out, BIN_LE);
    default: return interp_fail(n, "not a comparison");
    }
}

/* ------------------------------------------------------------ where, not */

/* where(cond, a, b): y = cond != 0 ? a : b, numpy broadcasting over all
 * three; a, b and y share one dtype and quantization, so the selected
 * element is copied byte for byte. */
int interp_where(const Node *n, const void *const in[], void *out)
{
    const TensorType *ct = &n->operands[0]->type, *yt = &n->result->type;
    int64_t cnt = type_numel(yt);
    size_t es = (size_t)dtype_traits[yt->dtype].size;
    int64_t *offs = xmalloc((size_t)(cnt > 0 ? cnt : 1) * 3 * sizeof *offs);
    int rc = -1;
    if (ct->dtype != DT_U8) {
        interp_fail(n, "condition must be u8");
        goto out;
    }
    for (int k = 0; k < 3; k++)
        if (!broadcast_offsets(yt, &n->operands[k]->type, offs + k * cnt)) {
            interp_fail(n, "operand shapes do not broadcast to the result");
            goto out;
        }
    for (int k = 1; k < 3; k++)
        if (n->operands[k]->type.dtype != yt->dtype) {
            interp_fail(n, "operands must have the result's dtype");
            goto out;
        }
    const uint8_t *cond = in[0];
    for (int64_t i = 0; i < cnt; i++) {
        const unsigned char *src = cond[offs[i]] ? in[1] : in[2];
        int64_t o = cond[offs[i]] ? offs[cnt + i] : offs[2 * cnt + i];
        memcpy((unsigned char *)out + (size_t)i * es, src + (size_t)o * es, es);
    }
    rc = 0;
out:
    free(offs);
    return rc;
}

int interp_not(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (xt->dtype != DT_U8 || yt->dtype != DT_U8 || !same_shape_numel(xt, yt))
        return interp_fail(n, "not maps u8 to u8 of the same shape");
    const uint8_t *x = in[0];
    uint8_t *y = out;
    int64_t cnt = type_numel(xt);
    for (int64_t i = 0; i < cnt; i++)
        y[i] = x[i] == 0;
    return 0;
}

/* ------------------------------------------------------------ relu / clip */

/* Shared body of relu and clip: y = min(max(x, lo), hi) with the bounds
 * quantized per channel (round half even of bound/scale + zp, saturated);
 * relu is clip(0, +inf), whose lower bound quantizes to the zero point. */
static int clamp_op(const Node *n, const void *const in[], void *out, float mn, float mx)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t cnt = type_numel(xt);
    if (!same_shape_numel(xt, yt) || xt->dtype != yt->dtype)
        return interp_fail(n, "result must have the input's dtype and size");
    if (xt->dtype == DT_F32) {
        for (int64_t i = 0; i < cnt; i++) {
            float v = ld_f32(in[0], i);
            /* Comparisons keep NaN as NaN. */
            if (v < mn)
                v = mn;
            if (v > mx)
                v = mx;
            st_f32(out, i, v);
        }
        return 0;
    }
    DType dt = xt->dtype;
    QIndex qi;
    qindex_init(&qi, xt);
    int64_t dlo = dt_min(dt), dhi = dt_max(dt);
    /* Quantize the bounds once per channel. */
    int64_t nch = quant_is_per_tensor(xt->quant) ? 1 : xt->quant->count;
    int64_t *lo = xmalloc((size_t)nch * 2 * sizeof *lo), *hi = lo + nch;
    for (int64_t c = 0; c < nch; c++) {
        QParam p = qparam_chan(xt->quant, c);
        lo[c] = isnan(mn) ? dlo : quantize_real(mn, p, ROUND_ONNX, dlo, dhi);
        hi[c] = isnan(mx) ? dhi : quantize_real(mx, p, ROUND_ONNX, dlo, dhi);
    }
    for (int64_t i = 0; i < cnt; i++) {
        int64_t c = nch == 1 ? 0 : (i / qi.inner) % qi.dim;
        st_int(out, dt, i, fp_clamp_i64(ld_int(in[0], dt, i), lo[c], hi[c]));
    }
    free(lo);
    return 0;
}

int interp_relu(const Node *n, const void *const in[], void *out)
{
    return clamp_op(n, in, out, 0.0f, INFINITY);
}

int interp_clip(const Node *n, const void *const in[], void *out)
{
    return clamp_op(n, in, out, node_float(n, ATTR_MIN, -INFINITY),
                    node_float(n, ATTR_MAX, INFINITY));
}

/* ------------------------------------------------------------ float activations */

float interp_act_alpha(const Node *n)
{
    /* ONNX Elu's alpha defaults to 1, LeakyRelu's to 0.01. */
    return node_float(n, ATTR_ALPHA, n->op == OP_ELU ? 1.0f : 0.01f);
}

ActFn interp_act_fn(const Node *n)
{
    return (ActFn){.op = n->op, .alpha = interp_act_alpha(n),
                   .approximate = (GeluApprox)node_int(n, ATTR_APPROXIMATE, GELU_NONE)};
}

/* gelu {approximate=tanh} (ONNX Gelu-20, approximate="tanh"):
 * 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), in float32 in
 * this order: c = (x * x) * x; u = 0.7978846 * (x + 0.044715 * c);
 * 0.5 * x * (1 + tanhf(u)) left to right.  0.7978846f is the float32
 * nearest sqrt(2/pi). */
float interp_gelu_tanh(float x)
{
    float c = x * x * x;
    float u = 0.7978846f * (x + 0.044715f * c);
    return 0.5f * x * (1.0f + tanhf(u));
}

float interp_act_f(const ActFn *f, float x)
{
    float alpha = f->alpha;
    switch (f->op) {
    case OP_LEAKY_RELU:
        return x < 0 ? alpha * x : x;  /* ONNX LeakyRelu */
    case OP_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case OP_TANH:
        return tanhf(x);
    case OP_HARD_SWISH: {
        /* x * relu6(x + 3) / 6, evaluated left to right in float32. */
        float r = x + 3.0f;
        r = r < 0.0f ? 0.0f : r > 6.0f ? 6.0f : r;
        return x * r / 6.0f;
    }
    case OP_EXP:
        return expf(x);
    case OP_LOG:
        return logf(x);
    case OP_SQRT:
        return sqrtf(x); /* IEEE correctly rounded on every target */
    case OP_RECIPROCAL:
        return 1.0f / x;
    case OP_ERF:
        return erff(x);
    case OP_GELU:
        if (f->approximate == GELU_TANH)
            return interp_gelu_tanh(x);
        /* ONNX Gelu (approximate="none"): 0.5 * x * (1 + erf(x / sqrt(2))),
         * left to right in float32, the division written as a product by
         * the float32 nearest 1/sqrt(2). */
        return 0.5f * x * (1.0f + erff(x * 0.70710677f));
    case OP_ABS:
        return fabsf(x);
    case OP_NEG:
        return -x;
    case OP_ELU:
        return x < 0 ? alpha * (expf(x) - 1.0f) : x; /* ONNX Elu */
    default:
        return NAN;
    }
}

int interp_unary_float(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t cnt = type_numel(xt);
    ActFn fn = interp_act_fn(n);
    if (!same_shape_numel(xt, yt) || (xt->dtype == DT_F32) != (yt->dtype == DT_F32))
        return interp_fail(n, "result must match the input's size and float-ness");
    if (xt->dtype == DT_F32) {
        for (int64_t i = 0; i < cnt; i++)
            st_f32(out, i, interp_act_f(&fn, ld_f32(in[0], i)));
        return 0;
    }
    /* Quantized: dequantize -> float32 op -> quantize half to even. */
    QIndex xi, yi;
    qindex_init(&xi, xt);
    qindex_init(&yi, yt);
    int64_t lo = dt_min(yt->dtype), hi = dt_max(yt->dtype);
    for (int64_t i = 0; i < cnt; i++) {
        QParam xp = qparam_at(&xi, i), yp = qparam_at(&yi, i);
        float x = (float)(ld_int(in[0], xt->dtype, i) - xp.zp) * xp.scale;
        st_int(out, yt->dtype, i, quantize_real(interp_act_f(&fn, x), yp, ROUND_ONNX, lo, hi));
    }
    return 0;
}

/* ------------------------------------------------------------ softmax */

static void softmax_f(const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            const float *xs = x + o * len * inner + j;
            float *ys = y + o * len * inner + j;
            /* Numerically stable: subtract the max, so every exp <= 1. */
            float mx = -INFINITY;
            for (int64_t k = 0; k < len; k++)
                if (xs[k * inner] > mx)
                    mx = xs[k * inner];
            float sum = 0.0f;
            for (int64_t k = 0; k < len; k++) {
                ys[k * inner] = expf(xs[k * inner] - mx);
                sum += ys[k * inner];
            }
            for (int64_t k = 0; k < len; k++)
                ys[k * inner] /= sum;
        }
}

/* TFLite's int8 reference softmax (reference_ops::Softmax, beta 1): the
 * row maximum, a Q12.19 sum of fixed-point exponentials of the differences,
 * its fixed-point reciprocal, and each output as exp * reciprocal shifted
 * to 8 bits, offset by -128.  The exponentials depend only on the
 * difference (0..255) and the input scale: fp_softmax_prepare tabulates
 * them, as TFLite Micro's Prepare and CMSIS-NN's caller would. */
static int softmax_tflite(const Node *n, const void *x, void *y, int64_t outer, int64_t len, int64_t inner)
{
    const TensorType *xt = &n->operands[0]->type;
    if (xt->dtype != DT_I8 || n->result->type.dtype != DT_I8 || !quant_is_per_tensor(xt->quant))
        return interp_fail(n, "rounding=tflite softmax needs per-tensor i8 input and output");
    FpSoftmax sm;
    if (!fp_softmax_prepare(qparam_chan(xt->quant, 0).scale, &sm))
        return interp_fail(n, "input scale gives no TFLite softmax multiplier");
    const int8_t *xs = x;
    int8_t *ys = y;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * len * inner + j;
            int32_t mx = INT8_MIN;
            for (int64_t k = 0; k < len; k++)
                mx = xs[base + k * inner] > mx ? xs[base + k * inner] : mx;
            int32_t sum = 0; /* at most 4095 * 2^19 (verifier): no overflow */
            for (int64_t k = 0; k < len; k++)
                sum += fp_rdbpot(sm.exp[mx - xs[base + k * inner]], 12);
            int bits;
            int32_t recip = fp_softmax_reciprocal(sum, &bits);
            for (int64_t k = 0; k < len; k++)
                ys[base + k * inner] = (int8_t)fp_softmax_output(recip, bits, sm.exp[mx - xs[base + k * inner]]);
        }
    return 0;
}

int interp_softmax(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    if (axis < 0 || axis >= xt->rank)
        return interp_fail(n, "softmax axis out of range");
    if (!same_shape_numel(xt, yt) || (xt->dtype == DT_F32) != (yt->dtype == DT_F32))
        return interp_fail(n, "result must match the input's size and float-ness");
    int64_t outer = 1, inner = 1, len = xt->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= xt->dims[d];
    for (int d = (int)axis + 1; d < xt->rank; d++)
        inner *= xt->dims[d];
    int64_t cnt = type_numel(xt);
    if (xt->dtype == DT_F32) {
        softmax_f(in[0], out, outer, len, inner);
        return 0;
    }
    if (node_rounding(n) == ROUND_TFLITE)
        return softmax_tflite(n, in[0], out, outer, len, inner);
    float *tmp = xmalloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *tmp);
    QIndex xi, yi;
    qindex_init(&xi, xt);
    qindex_init(&yi, yt);
    for (int64_t i = 0; i < cnt; i++) {
        QParam p = qparam_at(&xi, i);
        tmp[i] = (float)(ld_int(in[0], xt->dtype, i) - p.zp) * p.scale;
    }
    softmax_f(tmp, tmp, outer, len, inner);
    int64_t lo = dt_min(yt->dtype), hi = dt_max(yt->dtype);
    for (int64_t i = 0; i < cnt; i++)
        st_int(out, yt->dtype, i, quantize_real(tmp[i], qparam_at(&yi, i), ROUND_ONNX, lo, hi));
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------ (de/re)quantize */

int interp_quantize(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (xt->dtype != DT_F32 || !dtype_traits[yt->dtype].is_int || !same_shape_numel(xt, yt))
        return interp_fail(n, "quantize maps f32 to an integer type of the same shape");
    int rounding = node_rounding(n);
    QIndex yi;
    qindex_init(&yi, yt);
    int64_t cnt = type_numel(xt), lo = dt_min(yt->dtype), hi = dt_max(yt->dtype);
    for (int64_t i = 0; i < cnt; i++)
        st_int(out, yt->dtype, i, quantize_real(ld_f32(in[0], i), qparam_at(&yi, i), rounding, lo, hi));
    return 0;
}

int interp_dequantize(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (!dtype_traits[xt->dtype].is_int || yt->dtype != DT_F32 || !same_shape_numel(xt, yt))
        return interp_fail(n, "dequantize maps an integer type to f32 of the same shape");
    QIndex xi;
    qindex_init(&xi, xt);
    int64_t cnt = type_numel(xt);
    /* ONNX DequantizeLinear: (x - zp) * scale, the difference converted to
     * float32 (exact below 2^24) and multiplied in float32. */
    for (int64_t i = 0; i < cnt; i++) {
        QParam p = qparam_at(&xi, i);
        st_f32(out, i, (float)(ld_int(in[0], xt->dtype, i) - p.zp) * p.scale);
    }
    return 0;
}

/* ONNX Cast: integers wrap to the result's width (two's complement, as C
 * and NumPy convert); integers become the nearest float32; floats are
 * truncated toward zero and saturated to the result's range, NaN giving 0
 * (ONNX leaves out-of-range values undefined; this is LLVM's fptosi.sat). */
int interp_cast(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (!same_shape_numel(xt, yt) || xt->quant || yt->quant)
        return interp_fail(n, "cast maps an unquantized tensor to one of the same shape");
    int64_t cnt = type_numel(xt);
    DType xd = xt->dtype, yd = yt->dtype;
    for (int64_t i = 0; i < cnt; i++) {
        if (xd == DT_F32 && yd == DT_F32) {
            memcpy((float *)out + i, (const float *)in[0] + i, 4);
        } else if (xd == DT_F32) {
            double v = ld_f32(in[0], i);
            int64_t lo = dt_min(yd), hi = dt_max(yd);
            st_int(out, yd, i, v != v ? 0 : v <= (double)lo ? lo : v >= (double)hi ? hi : (int64_t)v);
        } else if (yd == DT_F32) {
            st_f32(out, i, (float)ld_int(in[0], xd, i));
        } else {
            int64_t v = ld_int(in[0], xd, i);
            switch (yd) { /* wrap modulo 2^bits */
            case DT_I8: v = (int8_t)(uint8_t)v; break;
            case DT_U8: v = (uint8_t)v; break;
            case DT_I16: v = (int16_t)(uint16_t)v; break;
            default: v = (int32_t)(uint32_t)v; break;
            }
            st_int(out, yd, i, v);
        }
    }
    return 0;
}

int interp_requantize(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (!dtype_traits[xt->dtype].is_int || !dtype_traits[yt->dtype].is_int ||
        !same_shape_numel(xt, yt))
        return interp_fail(n, "requantize maps an integer tensor to one of the same shape");
    const Quant *xq = xt->quant, *yq = yt->quant;
    /* The channel structure comes from whichever side is per-axis; if both
     * are, they must agree. */
    const TensorType *pt = !quant_is_per_tensor(xq) ? xt : yt;
    if (!quant_is_per_tensor(xq) && !quant_is_per_tensor(yq) &&
        (xq->axis != yq->axis || xq->count != yq->count))
        return interp_fail(n, "input and result are quantized along different axes");
    QIndex ci;
    qindex_init(&ci, pt);
    int64_t nch = quant_is_per_tensor(pt->quant) ? 1 : pt->quant->count;
    int rounding = node_rounding(n);
    int64_t lo = dt_min(yt->dtype), hi = dt_max(yt->dtype);
    OutStage *st = xcalloc((size_t)nch, sizeof *st);
    for (int64_t c = 0; c < nch; c++) {
        QParam xp = qparam_chan(xq, quant_is_per_tensor(xq) ? 0 : c);
        QParam yp = qparam_chan(yq, quant_is_per_tensor(yq) ? 0 : c);
        st[c].m = (double)xp.scale / (double)yp.scale;
        st[c].zp = yp.zp;
        st[c].lo = lo;
        st[c].hi = hi;
        if (rounding == ROUND_TFLITE && !fp_quantize_multiplier(st[c].m, &st[c].mult, &st[c].shift)) {
            double m = st[c].m;
            free(st);
            return interp_fail(n, "scale ratio %g is not a TFLite multiplier", m);
        }
        outstage_fold(n, &st[c], c, rounding);
    }
    int64_t cnt = type_numel(xt);
    for (int64_t i = 0; i < cnt; i++) {
        int64_t c = nch == 1 ? 0 : (i / ci.inner) % ci.dim;
        int32_t zx = qparam_chan(xq, quant_is_per_tensor(xq) ? 0 : c).zp;
        int64_t acc = ld_int(in[0], xt->dtype, i) - zx;
        if (acc < INT32_MIN || acc > INT32_MAX) {
            free(st);
            return interp_fail(n, "input minus zero point overflows int32");
        }
        st_int(out, yt->dtype, i, outstage_apply(&st[c], acc, rounding));
    }
    free(st);
    return 0;
}

/* ------------------------------------------------------------ lut, batchnorm */

int interp_lut(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *tt = &n->operands[1]->type;
    const TensorType *yt = &n->result->type;
    if (xt->dtype != DT_I8 || type_numel(tt) != 256 || yt->dtype != tt->dtype ||
        !same_shape_numel(xt, yt))
        return interp_fail(n, "lut needs an i8 input and a 256-entry table of the result type");
    size_t es = (size_t)dtype_traits[tt->dtype].size;
    const int8_t *x = in[0];
    const unsigned char *table = in[1];
    unsigned char *y = out;
    int64_t cnt = type_numel(xt);
    for (int64_t i = 0; i < cnt; i++)
        memcpy(y + (size_t)i * es, table + (size_t)(x[i] + 128) * es, es);
    return 0;
}

int interp_batchnorm(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type;
    if (xt->rank < 1 || xt->dtype != DT_F32 || n->result->type.dtype != DT_F32)
        return interp_fail(n, "batchnorm is defined on f32 only");
    int64_t C = xt->dims[xt->rank - 1];
    for (int k = 1; k < 5; k++) {
        const TensorType *pt = &n->operands[k]->type;
        if (pt->dtype != DT_F32 || type_numel(pt) != C)
            return interp_fail(n, "batchnorm parameters must be f32[%lld]", (long long)C);
    }
    float eps = node_float(n, ATTR_EPSILON, 1e-5f);
    const float *x = in[0], *scale = in[1], *bias = in[2], *mean = in[3], *var = in[4];
    float *y = out;
    int64_t cnt = type_numel(xt);
    /* ONNX BatchNormalization (inference): (x - mean) / sqrt(var + eps) *
     * scale + bias, in float32, in that order. */
    for (int64_t i = 0; i < cnt; i++) {
        int64_t c = C ? i % C : 0;
        y[i] = (x[i] - mean[c]) / sqrtf(var[c] + eps) * scale[c] + bias[c];
    }
    return 0;
}
