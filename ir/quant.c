/* quant.c - the quantization arithmetic the interpreter, the passes and
 * the code generator share (quant.h): a channel's parameters and the
 * rounding of real values onto its grid, how quantize chooses activation
 * and weight scales, the requantizing output stage with its folded
 * multipliers, TFLite's ADD rescaling, and lookup tables for nonlinear
 * ops.  docs/ir-semantics.md gives the rules; docs/passes.md ("quantize")
 * how the pass applies them.
 */
#include "quant.h"

#include "interp.h" /* interp_fail */
#include "requant.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

/* ------------------------------------------------------------ parameters */

QParam qparam_chan(const Quant *q, int64_t c)
{
    QParam p = {1.0f, 0};
    if (!q)
        return p;
    int64_t k = q->count == 1 ? 0 : c;
    p.scale = q->scale[k];
    p.zp = q->zero_point[k];
    return p;
}

bool quant_is_per_tensor(const Quant *q)
{
    return !q || q->count == 1;
}

int node_rounding(const Node *n)
{
    return (int)node_int(n, ATTR_ROUNDING, ROUND_ONNX);
}

LayerNormRow layer_norm_q_row(int64_t s1, int64_t s2, int64_t len, float sx, float eps)
{
    double l = (double)len;
    /* len·S2 − S1² = len² · the variance in steps², exact (layer_norm_q_fits);
     * the double quotient and product are rounded once to float. */
    double num = (double)(len * s2 - s1 * s1);
    float var = (float)((double)sx * (double)sx * num / (l * l));
    float root = sqrtf(var + eps);
    return (LayerNormRow){.mean = (float)((double)s1 / l), .gain = sx / root};
}

void layer_norm_q_coef(const float *scale, const float *bias, int64_t len, float sy, float *qscale, float *qbias)
{
    for (int64_t k = 0; k < len; k++) {
        qscale[k] = scale[k] / sy;
        if (bias)
            qbias[k] = bias[k] / sy;
    }
}

bool layer_norm_q_fits(DType dt, int64_t len)
{
    /* |x − zx| <= the dtype's span m, so len·S2 <= (len·m)²: len·m < 2^31. */
    int64_t m = dtype_traits[dt].max - dtype_traits[dt].min;
    return len > 0 && len <= (INT64_C(1) << 31) / m;
}

int64_t quantize_real(float x, QParam p, int rounding, int64_t lo, int64_t hi)
{
    if (isnan(x))
        return fp_clamp_i64(p.zp, lo, hi);
    /* ONNX QuantizeLinear and TFLite AffineQuantize both divide in float32
     * (x and y_scale are float tensors); only the rounding differs. */
    float q = x / p.scale;
    double r = rounding == ROUND_TFLITE ? fp_round_half_away(q) : fp_round_half_even(q);
    return fp_saturate(r + (double)p.zp, lo, hi);
}

QParam quant_choose_params(double lo, double hi, DType dt)
{
    /* The range must contain 0 so that real 0 (padding, relu's floor) is
     * exactly representable (TFLite int8 spec: "the zero point ... must be
     * such that real 0 is exactly representable"). */
    lo = fmin(lo, 0.0);
    hi = fmax(hi, 0.0);
    double qmin = (double)dtype_traits[dt].min, qmax = (double)dtype_traits[dt].max;
    if (dt == DT_I16) {
        /* TFLite 16x8: symmetric activations, zero point 0, scale from the
         * larger magnitude over 32767 (so -32768 is never produced by
         * in-range data). */
        double m = fmax(fabs(lo), fabs(hi));
        float s = (float)(m / 32767.0);
        return (QParam){m > 0 && s > 0 ? s : 1.0f, 0};
    }
    if (hi == lo)
        return (QParam){1.0f, (int32_t)fmax(qmin, fmin(qmax, 0.0))};
    float sf = (float)((hi - lo) / (qmax - qmin));
    if (!(sf >= FLT_MIN))
        sf = FLT_MIN; /* a range so narrow it underflows: any tiny scale will do */
    double scale = sf;
    /* TFLite ChooseQuantizationParams (tensorflow/lite/kernels/internal/
     * quantization_util.h): take the zero point from whichever end of the
     * range gives the smaller arithmetic error, then nudge it to an
     * integer inside [qmin, qmax] with TfLiteRound (half away from zero). */
    double zp_from_min = qmin - lo / scale, zp_from_max = qmax - hi / scale;
    double err_min = fabs(qmin) + fabs(lo / scale), err_max = fabs(qmax) + fabs(hi / scale);
    double zp = err_min < err_max ? zp_from_min : zp_from_max;
    int32_t nudged = zp < qmin ? (int32_t)qmin : zp > qmax ? (int32_t)qmax : (int32_t)round(zp);
    return (QParam){sf, nudged};
}

float quant_weight_scale(float amax)
{
    /* TFLite int8 spec, weights: symmetric, zero point 0, values in
     * [-127, 127] (-128 is left unused so that the range is symmetric). */
    float s = (float)((double)amax / 127.0);
    return amax > 0 && s >= FLT_MIN ? s : 1.0f;
}

/* ------------------------------------------------------------ output stage */

void act_range_quantized(const Node *n, const TensorType *yt, int64_t c, int rounding,
                         int64_t *lo, int64_t *hi)
{
    QParam p = qparam_chan(yt->quant, c);
    int64_t dlo = dt_min(yt->dtype), dhi = dt_max(yt->dtype);
    float amin = node_float(n, ATTR_ACT_MIN, -INFINITY);
    float amax = node_float(n, ATTR_ACT_MAX, INFINITY);
    /* The bounds are quantized like any real value in this rounding mode:
     * onnx rounds half to even, tflite half away from zero as TFLite's
     * CalculateActivationRangeQuantized does (zp + TfLiteRound(f/scale)). */
    *lo = isnan(amin) ? dlo : quantize_real(amin, p, rounding, dlo, dhi);
    *hi = isnan(amax) ? dhi : quantize_real(amax, p, rounding, dlo, dhi);
}

OutStage *outstage_build(const Node *n, const TensorType *yt, int64_t channels,
                         const double *acc_scale, int rounding)
{
    const Quant *q = yt->quant;
    if (q && q->count != 1 && (q->axis != yt->rank - 1 || q->count != channels)) {
        interp_fail(n, "per-axis output quantization must be along the last axis");
        return NULL;
    }
    OutStage *st = xcalloc((size_t)(channels > 0 ? channels : 1), sizeof *st);
    for (int64_t c = 0; c < channels; c++) {
        QParam p = qparam_chan(q, c);
        OutStage *s = &st[c];
        /* M = (double)sx * (double)sw[c] / (double)sy; the product of two
         * floats is exact in double, so M carries one rounding only. */
        s->m = acc_scale[c] / (double)p.scale;
        s->zp = p.zp;
        if (rounding == ROUND_TFLITE && !fp_quantize_multiplier(s->m, &s->mult, &s->shift)) {
            interp_fail(n, "requantization multiplier %g cannot be represented as "
                           "a TFLite fixed-point multiplier", s->m);
            free(st);
            return NULL;
        }
        act_range_quantized(n, yt, c, rounding, &s->lo, &s->hi);
        outstage_fold(n, s, c, rounding);
    }
    return st;
}

static bool folded_entry(const Node *n, int64_t c, int64_t *mult, int64_t *shift)
{
    const Attr *m = node_attr(n, ATTR_MULTIPLIER), *s = node_attr(n, ATTR_SHIFT);
    if (!m || !s || m->count < 1 || m->count != s->count)
        return false;
    int64_t k = m->count == 1 ? 0 : c;
    if (k >= m->count)
        return false;
    *mult = m->u.ints[k];
    *shift = s->u.ints[k];
    return true;
}

void folded_multiplier(const Node *n, int64_t c, int32_t *mult, int *shift)
{
    int64_t m, s;
    /* Out-of-range entries are left to the verifier to report; the
     * interpreter keeps its own values rather than wrap them. */
    if (folded_entry(n, c, &m, &s) && m >= 0 && m <= INT32_MAX && s >= -31 && s <= 30) {
        *mult = (int32_t)m;
        *shift = (int)s;
    }
}

void folded_clamp(const Node *n, int64_t *lo, int64_t *hi)
{
    const Attr *a;
    if ((a = node_attr(n, ATTR_QMIN)))
        *lo = a->u.i;
    if ((a = node_attr(n, ATTR_QMAX)))
        *hi = a->u.i;
}

void outstage_fold(const Node *n, OutStage *s, int64_t c, int rounding)
{
    int64_t m, sh;
    if (rounding == ROUND_TFLITE)
        folded_multiplier(n, c, &s->mult, &s->shift);
    else if (folded_entry(n, c, &m, &sh) && m >= 0 && sh > -1100 && sh < 1100)
        s->m = requant_onnx_real(m, sh);
    folded_clamp(n, &s->lo, &s->hi);
}

/* TFLite int8 ADD (reference_integer_ops::Add, kernels/add.cc Prepare):
 * both inputs are rescaled to a common scale 2*max(sa,sb) with 20 bits of
 * headroom, summed, and rescaled to the output. */
bool tflite_add_prepare(QParam a, QParam b, QParam y, TfliteAdd *t)
{
    double twice_max = 2.0 * ((double)a.scale > (double)b.scale ? (double)a.scale : (double)b.scale);
    double ra = (double)a.scale / twice_max, rb = (double)b.scale / twice_max;
    double ro = twice_max / ((double)(1 << TFLITE_ADD_LEFT_SHIFT) * (double)y.scale);
    return fp_quantize_multiplier(ra, &t->ma, &t->sha) &&
           fp_quantize_multiplier(rb, &t->mb, &t->shb) &&
           fp_quantize_multiplier(ro, &t->mo, &t->sho);
}

/* ------------------------------------------------------------ lookup tables */

void quant_build_lut(const ActFn *f, QParam in, QParam out, int8_t table[256])
{
    /* The quantized OPF_NONLINEAR ops are defined as dequantize (float32),
     * the float32 function, then quantize half to even
     * (docs/ir-semantics.md); evaluating that formula for each of the 256
     * inputs gives a table the `lut` op reproduces bit for bit. */
    for (int i = 0; i < 256; i++) {
        int32_t x = i - 128;
        float xf = (float)(x - in.zp) * in.scale;
        table[i] = (int8_t)quantize_real(interp_act_f(f, xf), out, ROUND_ONNX, -128, 127);
    }
}
