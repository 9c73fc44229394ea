/* qnn_requantize.c - gemmlowp fixed-point arithmetic and the requantize
 * kernels built on it.  Freestanding: no libc.
 *
 * The rules are those of gemmlowp/fixedpoint/fixedpoint.h
 * (SaturatingRoundingDoublingHighMul, RoundingDivideByPOT) and TFLite's
 * MultiplyByQuantizedMultiplier (tensorflow/lite/kernels/internal/
 * common.h), restated in qnn_kernels.h.  The implementations below use
 * equivalent closed forms rather than the specification's nudge-and-
 * truncate steps; test/runtime/unit/test_requantize.c checks them against
 * a literal wide-integer rendering of the specification. */
#include "qnn_kernels.h"

/* Both closed forms below need '>>' on a negative int64 to be an
 * arithmetic (flooring) shift.  C11 leaves it implementation-defined;
 * GCC and Clang define it as sign-extending on every target, and this
 * catches a compiler that does not. */
_Static_assert((-INT64_C(5) >> 1) == -3, "signed >> must floor");

int32_t qnn_srdhm_s32(int32_t a, int32_t b)
{
    /* gemmlowp adds a nudge of 2^30 (or 1 - 2^30 for a negative product)
     * and divides by 2^31 truncating towards zero.  For either sign that
     * equals floor((a*b + 2^30) / 2^31): round to nearest, ties up.  Only
     * a == b == INT32_MIN reaches 2^31, which saturates. */
    int64_t r = ((int64_t)a * b + (INT64_C(1) << 30)) >> 31;
    return r > INT32_MAX ? INT32_MAX : (int32_t)r;
}

int32_t qnn_rdbpot_s32(int32_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    /* Round half away from zero: floor((|x| + 2^(e-1)) / 2^e) with the
     * sign put back.  64 bits so that -INT32_MIN is representable. */
    int64_t half = INT64_C(1) << (exponent - 1);
    int64_t v = x;
    return (int32_t)(v >= 0 ? (v + half) >> exponent : -((half - v) >> exponent));
}

int32_t qnn_mul_by_quantized_multiplier_s32(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    /* TFLite multiplies by (1 << left) in int32; shifting the unsigned
     * representation gives the same wrapped bits without signed overflow.
     * Converting back is modulo 2^32 on GCC and Clang. */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return qnn_rdbpot_s32(qnn_srdhm_s32(shifted, multiplier), right);
}

static int check_params(const void *in, const void *out, uint32_t n, const qnn_requant_params *p, int32_t lo,
                        int32_t hi)
{
    if (!p || (n && (!in || !out)))
        return QNN_ERR_NULL_ARGUMENT;
    if (p->shift < -31 || p->shift > 30 || p->multiplier < 0 || p->act_min > p->act_max || p->act_min < lo ||
        p->act_max > hi)
        return QNN_ERR_BAD_PARAMS;
    return QNN_OK;
}

int qnn_requantize_s32_to_s8(const int32_t *in, int8_t *out, uint32_t n, const qnn_requant_params *p)
{
    int st = check_params(in, out, n, p, INT8_MIN, INT8_MAX);
    if (st != QNN_OK)
        return st;
    /* Forward order keeps the in-place case (OUT aliasing IN) correct:
     * element i is read before any byte at or beyond out + i is written. */
    for (uint32_t i = 0; i < n; i++)
        out[i] = (int8_t)qnn_requantize_one_s32(in[i], p);
    return QNN_OK;
}

int qnn_requantize_s32_to_s16(const int32_t *in, int16_t *out, uint32_t n, const qnn_requant_params *p)
{
    int st = check_params(in, out, n, p, INT16_MIN, INT16_MAX);
    if (st != QNN_OK)
        return st;
    for (uint32_t i = 0; i < n; i++)
        out[i] = (int16_t)qnn_requantize_one_s32(in[i], p);
    return QNN_OK;
}
