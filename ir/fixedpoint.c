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

/* ------------------------------------------------------------ TFLite int8 softmax
 *
 * gemmlowp's fixed-point exp and reciprocal (fixedpoint.h:
 * exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1) as TFLite's
 * reference_ops::Softmax uses them, on raw int32 values.  Fixed-point adds
 * are int32 adds (gemmlowp does not saturate them for int32); they are
 * computed through uint32 so that they are defined, and on the ranges below
 * they never wrap anyway. */

static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* SaturatingRoundingMultiplyByPOT<e> for e > 0: x * 2^e, saturated. */
static int32_t sat_shl(int32_t x, int e)
{
    int32_t threshold = (int32_t)((INT64_C(1) << (31 - e)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a Q0.31 a in [-1/4, 0): a Taylor expansion around -1/8. */
static int32_t exp_quarter(int32_t a)
{
    const int32_t exp_m1_8 = 1895147668, one_third = 715827883;
    int32_t x = wrap_add(a, INT32_C(1) << 28);
    int32_t x2 = fp_srdhm(x, x), x3 = fp_srdhm(x2, x), x4 = fp_srdhm(x2, x2);
    int32_t x4_4 = fp_rdbpot(x4, 2);
    int32_t poly = fp_rdbpot(wrap_add(fp_srdhm(wrap_add(x4_4, x3), one_third), x2), 1);
    return wrap_add(exp_m1_8, fp_srdhm(exp_m1_8, wrap_add(x, poly)));
}

/* exp(a) for a Q5.26 a <= 0, as a Q0.31 value: the fractional quarter by
 * exp_quarter, then one multiplier per set bit of the remainder, exp(-2^k)
 * for k = -2..4. */
static int32_t exp_on_negative(int32_t a)
{
    static const int32_t mult[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t quarter = INT32_C(1) << 24;
    int32_t mod = (int32_t)((uint32_t)a & (uint32_t)(quarter - 1)) - quarter;
    int32_t r = exp_quarter(sat_shl(mod, 5));
    int32_t rem = (int32_t)((uint32_t)mod - (uint32_t)a);
    for (int k = 0; k < 7; k++)
        if ((uint32_t)rem & (UINT32_C(1) << (24 + k)))
            r = fp_srdhm(r, mult[k]);
    return a == 0 ? INT32_MAX : r;
}

bool fp_softmax_prepare(float input_scale, FpSoftmax *s)
{
    /* PreprocessSoftmaxScaling(beta = 1, scale, 5 integer bits): the
     * multiplier taking an input difference to Q5.26, capped at 2^31 - 1. */
    double real = fmin(1.0 * (double)input_scale * (double)(1 << 26), 2147483647.0);
    if (!fp_quantize_multiplier(real, &s->mult, &s->shift) || s->shift < 0)
        return false;
    /* CalculateInputRadius(5, shift): floor(31 * 2^26 / 2^shift). */
    s->diff_min = -(int32_t)floor(31.0 * (double)(INT64_C(1) << 26) / (double)(INT64_C(1) << s->shift));
    for (int d = 0; d < 256; d++) {
        int32_t diff = -d;
        s->exp[d] = diff >= s->diff_min
                        ? exp_on_negative(fp_mul_by_quantized_multiplier(diff, s->mult, s->shift))
                        : 0;
    }
    return true;
}

int32_t fp_softmax_reciprocal(int32_t sum, int *bits_over_unit)
{
    int hp1 = 0;
    while (hp1 < 32 && !((uint32_t)sum & (UINT32_C(0x80000000) >> hp1)))
        hp1++;
    *bits_over_unit = 12 - hp1;
    int32_t a = (int32_t)(((uint32_t)sum << (hp1 & 31)) - UINT32_C(0x80000000));
    /* one_over_one_plus_x_for_x_in_0_1(a): Newton-Raphson on the half
     * denominator (a + 1) / 2 in Q2.29, from 48/17 - 32/17 * d. */
    int64_t hs = (int64_t)a + INT32_MAX;
    int32_t half = (int32_t)((hs + (hs >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
    int32_t x = wrap_add(1515870810, fp_srdhm(half, -1010580540));
    for (int i = 0; i < 3; i++) {
        int32_t hx = fp_srdhm(half, x);
        int32_t one_minus = (int32_t)((uint32_t)(INT32_C(1) << 29) - (uint32_t)hx);
        x = wrap_add(x, sat_shl(fp_srdhm(x, one_minus), 2));
    }
    return sat_shl(x, 1);
}

int32_t fp_softmax_output(int32_t recip, int bits_over_unit, int32_t e)
{
    int exponent = bits_over_unit + 31 - 8;
    int32_t p = fp_srdhm(recip, e);
    int32_t v = exponent > 31 ? 0 : fp_rdbpot(p, exponent);
    return (int32_t)fp_clamp_i64((int64_t)v - 128, -128, 127);
}
