/* quant_params.c - the arithmetic of the quantize pass: activation scales
 * and zero points, weight scales, and lookup tables for nonlinear ops.
 * See quant.h for the contracts; docs/passes.md ("quantize") for the rules. */
#include "quant.h"

#include "fixedpoint.h"
#include "interp.h"

#include <float.h>
#include <math.h>

QParams quant_choose_params(double lo, double hi, DType dt)
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
        return (QParams){m > 0 && s > 0 ? s : 1.0f, 0};
    }
    if (hi == lo)
        return (QParams){1.0f, (int32_t)fmax(qmin, fmin(qmax, 0.0))};
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
    return (QParams){sf, nudged};
}

float quant_weight_scale(float amax)
{
    /* TFLite int8 spec, weights: symmetric, zero point 0, values in
     * [-127, 127] (-128 is left unused so that the range is symmetric). */
    float s = (float)((double)amax / 127.0);
    return amax > 0 && s >= FLT_MIN ? s : 1.0f;
}

int64_t quant_real(float x, QParams p, int64_t lo, int64_t hi)
{
    if (isnan(x))
        return fp_clamp_i64(p.zp, lo, hi);
    /* ONNX QuantizeLinear: divide in float32, round half to even, add the
     * zero point, saturate (docs/ir-semantics.md, "quantize"). */
    float v = x / p.scale;
    return fp_saturate(fp_round_half_even(v) + (double)p.zp, lo, hi);
}

void quant_build_lut(const ActFn *f, QParams in, QParams out, int8_t table[256])
{
    /* The quantized OPF_NONLINEAR ops are defined as dequantize (float32),
     * the float32 function, then quantize half to even
     * (docs/ir-semantics.md); evaluating that formula for each of the 256
     * inputs gives a table the `lut` op reproduces bit for bit. */
    for (int i = 0; i < 256; i++) {
        int32_t x = i - 128;
        float xf = (float)(x - in.zp) * in.scale;
        table[i] = (int8_t)quant_real(interp_act_f(f, xf), out, -128, 127);
    }
}
