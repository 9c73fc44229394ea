/* fixedpoint.c - integer rounding and fixed-point multiply helpers.
 *
 * The "tflite" family follows gemmlowp's fixedpoint.h and TFLite's
 * quantization_util.cc / common.h as their documented behaviour, rewritten
 * here in C with every intermediate kept in a type wide enough that no
 * signed overflow or out-of-range shift can happen.  The "onnx" family
 * rounds half to even, the rule of ONNX QuantizeLinear ("rounding to nearest
 * ties to even").
 */
#include "fixedpoint.h"

#include <math.h>

int32_t fp_srdhm(int32_t a, int32_t b)
{
    /* gemmlowp: the only product whose doubled high half does not fit is
     * INT32_MIN * INT32_MIN (2 * 2^62 / 2^32 = 2^31); it saturates. */
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;  /* |ab| <= 2^62: no overflow */
    /* Nudge then divide truncating towards zero: ties go up for positive
     * products and towards zero for negative ones. */
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t fp_rdbpot(int32_t x, int exponent)
{
    /* gemmlowp RoundingDivideByPOT: floor(x / 2^e), plus one when the
     * remainder exceeds half, where "half" is biased by one for negative x
     * so that ties round away from zero.  The floor is computed as an exact
     * division of x - remainder (a multiple of 2^e), which avoids relying on
     * the implementation-defined right shift of a negative number. */
    uint32_t mask = (uint32_t)((UINT64_C(1) << exponent) - 1);
    int64_t remainder = (int64_t)((uint32_t)x & mask);
    int64_t threshold = (int64_t)(mask >> 1) + (x < 0 ? 1 : 0);
    int64_t floor_q = ((int64_t)x - remainder) / (INT64_C(1) << exponent);
    return (int32_t)(floor_q + (remainder > threshold ? 1 : 0));
}

bool fp_quantize_multiplier(double m, int32_t *mult, int *shift)
{
    *mult = 0;
    *shift = 0;
    if (!(m >= 0) || !isfinite(m))
        return false;
    if (m == 0)
        return true;
    /* TFLite QuantizeMultiplier: m = q * 2^e with q in [0.5, 1); the
     * significand becomes round(q * 2^31) (TfLiteRound: half away from
     * zero).  Rounding can reach 2^31 exactly, which does not fit in int32,
     * so halve it and bump the exponent. */
    int e;
    double q = frexp(m, &e);
    int64_t q_fixed = (int64_t)round(q * 2147483648.0);
    if (q_fixed == (INT64_C(1) << 31)) {
        q_fixed /= 2;
        e++;
    }
    /* A right shift of more than 31 would shift every bit out; TFLite
     * flushes such tiny multipliers to zero instead. */
    if (e < -31) {
        e = 0;
        q_fixed = 0;
    }
    if (e > 30)
        return false;
    *mult = (int32_t)q_fixed;
    *shift = e;
    return true;
}

int32_t fp_mul_by_quantized_multiplier(int32_t x, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    /* TFLite computes x * (1 << left) in int32; it wraps on every target
     * TFLite runs on.  Do the same, but through unsigned arithmetic so the
     * wrap is defined behaviour here (the conversion back is the usual
     * modulo-2^32 one of GCC and Clang). */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return fp_rdbpot(fp_srdhm(shifted, mult), right);
}

double fp_round_half_even(double x)
{
    if (!isfinite(x))
        return x;
    if (fabs(x) >= 0x1p52)
        return x;  /* already an integer */
    /* Compare with the half-way point f + 0.5 (exact below 2^52) rather
     * than computing x - f: for x in (-1, 0) that difference is not
     * representable and can round onto 0.5. */
    double f = floor(x);
    double h = f + 0.5;
    if (x < h)
        return f;
    if (x > h)
        return f + 1;
    return fmod(f, 2.0) == 0 ? f : f + 1;
}

double fp_round_half_away(double x)
{
    return round(x);
}

int64_t fp_saturate(double v, int64_t lo, int64_t hi)
{
    if (isnan(v))
        v = 0;
    if (v <= (double)lo)
        return lo;
    if (v >= (double)hi)
        return hi;
    return (int64_t)v;
}

int64_t fp_round_product_half_even(int64_t acc, double m, int64_t lo, int64_t hi)
{
    double a = (double)acc;  /* exact for |acc| <= 2^53 */
    double p = a * m;
    if (isnan(p))
        return fp_clamp_i64(0, lo, hi);
    if (fabs(p) >= 0x1p60)
        return p > 0 ? hi : lo;
    /* From 2^52 up every double is an integer, and p, the double nearest
     * the true product (ties to even), is also its half-even rounding. */
    if (fabs(p) >= 0x1p52)
        return fp_clamp_i64((int64_t)p, lo, hi);
    double f = floor(p);
    double h = f + 0.5;  /* exact below 2^52 */
    double r;
    if (p < h) {
        r = f;
    } else if (p > h) {
        r = f + 1;
    } else {
        /* p sits on a tie.  The true product is p + e exactly (fma computes
         * a*m - p without intermediate rounding), so the tie is real only
         * when e == 0; otherwise e says which way the true value lies.  A
         * non-tie p can never hide a true value on the other side of the
         * half-way point: that point is itself a double nearer to it. */
        double e = fma(a, m, -p);
        if (e > 0)
            r = f + 1;
        else if (e < 0)
            r = f;
        else
            r = fmod(f, 2.0) == 0 ? f : f + 1;
    }
    return fp_clamp_i64((int64_t)r, lo, hi);
}
