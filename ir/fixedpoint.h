/* fixedpoint.h - integer rounding and fixed-point multiply helpers.
 *
 * These are the exact integer rules the interpreter (the oracle) uses for
 * requantization, and the rules generated code must reproduce bit for bit.
 * Two families:
 *
 *   - "onnx": real multipliers held in double, results rounded half to even
 *     (ONNX QuantizeLinear / QLinearConv: "rounding to nearest ties to even").
 *   - "tflite": gemmlowp fixed point as used by the TFLite int8 reference
 *     kernels (gemmlowp/fixedpoint/fixedpoint.h; TFLite
 *     kernels/internal/common.h and quantization_util.cc).
 *
 * All functions are UBSan-clean for every argument value documented below.
 */
#ifndef QNNC_FIXEDPOINT_H
#define QNNC_FIXEDPOINT_H

#include <stdbool.h>
#include <stdint.h>

/* gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b,
 * i.e. (a*b) / 2^31, rounded to nearest with ties towards +infinity (the
 * nudge is 2^30 for a non-negative product and 1-2^30 for a negative one,
 * followed by division truncating towards zero).  The single overflowing
 * case a == b == INT32_MIN saturates to INT32_MAX. */
int32_t fp_srdhm(int32_t a, int32_t b);

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
 * away from zero.  exponent must be in [0, 31]. */
int32_t fp_rdbpot(int32_t x, int exponent);

/* TFLite QuantizeMultiplier: splits M >= 0 into a Q0.31 significand
 * MULT in [2^30, 2^31) and an exponent SHIFT with M ~= MULT * 2^(SHIFT-31).
 * M == 0 (or M < 2^-32, which TFLite flushes to zero) gives (0, 0).
 * Returns false when M is negative, not finite, or so large that SHIFT
 * would exceed 30 (MultiplyByQuantizedMultiplier cannot apply it). */
bool fp_quantize_multiplier(double m, int32_t *mult, int *shift);

/* TFLite MultiplyByQuantizedMultiplier (the double-rounding reference form):
 *   RDBPOT(SRDHM(x * 2^max(shift,0), mult), max(-shift,0)).
 * The left shift wraps modulo 2^32 exactly as the two's-complement int32
 * multiply in TFLite does on every target.  shift must be in [-31, 30]. */
int32_t fp_mul_by_quantized_multiplier(int32_t x, int32_t mult, int shift);

/* Round half to even of a float / double, returned as a double holding an
 * integer (callers saturate before converting to an integer type). */
double fp_round_half_even(double x);
/* Round half away from zero (C round(), TFLite's TfLiteRound). */
double fp_round_half_away(double x);

/* Rounds the EXACT product acc * m (m a double, acc any int64 with
 * |acc| <= 2^53) to the nearest integer, ties to even, and saturates the
 * result to [lo, hi].  The product is computed as p + e with p = acc*m and
 * e = fma(acc, m, -p) the exact rounding error, so a tie is a tie of the
 * true product, never an artefact of double rounding. */
int64_t fp_round_product_half_even(int64_t acc, double m, int64_t lo, int64_t hi);

/* Saturates a double holding an integral (or infinite) value to [lo, hi];
 * NaN maps to 0 before saturation. */
int64_t fp_saturate(double v, int64_t lo, int64_t hi);

/* TFLite's int8 reference softmax (reference_ops::Softmax with the
 * SoftmaxPrepare of kernels/activations.cc, beta 1; docs/ir-semantics.md):
 * everything that depends on the input scale only.  exp[d] is, for the
 * row difference x - max = -d (d in 0..255), the Q0.31 result of gemmlowp's
 * exp_on_negative_values on the Q5.26 rescaled difference, or 0 when the
 * difference is below diff_min (TFLite skips those terms and outputs the
 * minimum).  Returns false when the input scale gives a multiplier TFLite
 * cannot represent. */
typedef struct FpSoftmax {
    int32_t mult;
    int shift; /* left shift of MultiplyByQuantizedMultiplierGreaterThanOne */
    int32_t diff_min;
    int32_t exp[256];
} FpSoftmax;
bool fp_softmax_prepare(float input_scale, FpSoftmax *s);
/* GetReciprocal(sum, 12, &bits) of TFLite's softmax: the Q0.31 value of
 * 1 / (sum / 2^19 / 2^bits) for a Q12.19 SUM > 0. */
int32_t fp_softmax_reciprocal(int32_t sum, int *bits_over_unit);
/* One output of the int8 softmax: clamp(RDBPOT(SRDHM(recip, e), bits + 23)
 * - 128, -128, 127), with shifts past 31 giving 0 before the offset. */
int32_t fp_softmax_output(int32_t recip, int bits_over_unit, int32_t e);

static inline int64_t fp_clamp_i64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#endif /* QNNC_FIXEDPOINT_H */
