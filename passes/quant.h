/* quant.h - numeric helpers of the quantize pass (passes/quant_params.c).
 *
 * Private to passes/quantize.c; kept apart so that the arithmetic that
 * picks scales, quantizes weights and builds lookup tables can be read
 * (and tested) without the graph rewriting around it. */
#ifndef QNNC_PASSES_QUANT_H
#define QNNC_PASSES_QUANT_H

#include "interp.h" /* ActFn */
#include "ir.h"

typedef struct QParams {
    float scale;
    int32_t zp;
} QParams;

/* Quantization parameters of an activation whose real values lie in
 * [lo, hi] (widened to include 0), for activation dtype DT:
 *   i8, u8: asymmetric, TFLite ChooseQuantizationParams (zero point nudged
 *           to an integer so that real 0 is exact);
 *   i16:    symmetric, zero point 0, scale = max(|lo|, |hi|) / 32767
 *           (TFLite 16x8 quantization spec).
 * LO and HI must be finite. */
QParams quant_choose_params(double lo, double hi, DType dt);

/* Symmetric int8 weight scale for a channel whose largest magnitude is
 * AMAX: AMAX / 127, or 1 for an all-zero channel (any positive scale
 * represents it exactly). */
float quant_weight_scale(float amax);

/* real -> stored integer as the IR's `quantize` op does with
 * rounding=onnx: x / scale in float32, rounded half to even, plus the zero
 * point, saturated to [lo, hi]; NaN becomes the zero point. */
int64_t quant_real(float x, QParams p, int64_t lo, int64_t hi);


/* Fills TABLE (256 entries, indexed by x + 128) with what the quantized op
 * OP computes for an i8 input with params IN and an i8 result with params
 * OUT: table[i] = quantize_out(f(dequantize_in(i - 128))). */
void quant_build_lut(const ActFn *f, QParams in, QParams out, int8_t table[256]);

#endif
