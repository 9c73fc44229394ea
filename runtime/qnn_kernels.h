/* qnn_kernels.h - reference scalar kernels that generated code may call
 * instead of inlining: ops too rare or too small to be worth an inlined
 * vector loop.  Part of libqnn_runtime.a; freestanding like qnn_runtime.h.
 *
 * Naming follows qnn_<op>_<variant>_<dtype>.  Kernels take a small
 * parameter struct, return a qnn_status and never allocate.  Every kernel
 * here is the bit-exact reference its vectorised relatives are tested
 * against (test/runtime/unit/).
 *
 * Fixed-point rules are gemmlowp's (gemmlowp/fixedpoint/fixedpoint.h) as
 * used by TFLite's int8 reference kernels (tensorflow/lite/kernels/
 * internal/common.h, MultiplyByQuantizedMultiplier); they are the same
 * rules as the interpreter's rounding=tflite (ir/fixedpoint.h, documented
 * in docs/ir-semantics.md), so a compiled model calling these matches the
 * oracle bit for bit. */
#ifndef QNN_KERNELS_H
#define QNN_KERNELS_H

#include "qnn_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of the
 * doubled 64-bit product, i.e. a*b / 2^31 rounded to nearest with ties
 * towards +infinity.  The one unrepresentable case, a == b == INT32_MIN
 * (exactly 2^31), saturates to INT32_MAX. */
int32_t qnn_srdhm_s32(int32_t a, int32_t b);

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
 * away from zero.  exponent must be in [0, 31]. */
int32_t qnn_rdbpot_s32(int32_t x, int exponent);

/* TFLite MultiplyByQuantizedMultiplier:
 *   rdbpot(srdhm(x * 2^max(shift, 0), multiplier), max(-shift, 0))
 * multiplier is a Q0.31 significand (in [2^30, 2^31), or 0), shift in
 * [-31, 30].  The left shift wraps modulo 2^32, as TFLite's int32 multiply
 * does on every target we support. */
int32_t qnn_mul_by_quantized_multiplier_s32(int32_t x, int32_t multiplier, int shift);

/* Requantization of int32 accumulators to an 8-bit activation:
 *   out = clamp(mul_by_quantized_multiplier(in, multiplier, shift)
 *               + zero_point, act_min, act_max)
 * act_min/act_max carry a fused ReLU/ReLU6 as well as the dtype's range. */
typedef struct qnn_requant_params {
    int32_t multiplier; /* Q0.31 significand, >= 0 */
    int32_t shift;      /* in [-31, 30]; positive shifts left */
    int32_t zero_point; /* of the output */
    int32_t act_min;    /* inclusive output clamp, within the output dtype */
    int32_t act_max;
} qnn_requant_params;

/* One value; no checks (callers validate P once per tensor). */
static inline int32_t qnn_requantize_one_s32(int32_t acc, const qnn_requant_params *p)
{
    /* Add the zero point in 64 bits: the scaled value may sit near
     * INT32_MAX, and a wrapped sum would clamp to the wrong end. */
    int64_t v = (int64_t)qnn_mul_by_quantized_multiplier_s32(acc, p->multiplier, p->shift) + p->zero_point;
    return (int32_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
}

/* Requantizes N int32 values IN into int8 OUT (which may alias IN's first
 * N bytes).  QNN_ERR_NULL_ARGUMENT for NULL pointers (when N > 0),
 * QNN_ERR_BAD_PARAMS for a shift outside [-31, 30], a negative
 * multiplier, or act_min > act_max or a clamp outside [-128, 127]. */
int qnn_requantize_s32_to_s8(const int32_t *in, int8_t *out, uint32_t n, const qnn_requant_params *p);

/* The same to int16 (clamp within [-32768, 32767]); OUT must not overlap
 * IN, since int16_t may not alias int32_t. */
int qnn_requantize_s32_to_s16(const int32_t *in, int16_t *out, uint32_t n, const qnn_requant_params *p);

#ifdef __cplusplus
}
#endif

#endif /* QNN_KERNELS_H */
