/* quant.h - the quantization arithmetic every stage shares.
 *
 * The reference interpreter (ir/interp*.c), the passes that choose and fold
 * quantization parameters (passes/quantize.c, calibrate.c, ...) and the
 * code generator (codegen/) must compute these numbers identically, since
 * generated code is checked bit for bit against the interpreter.  So each
 * is defined once, here, and this is the one header outside ir/ that says
 * how a real value becomes a stored integer and back:
 *   - QParam, quantize_real: one channel's scale and zero point, and the
 *     rounding of a real value onto its grid (quant.c);
 *   - quant_choose_params, quant_weight_scale: how quantize picks them
 *     (quant.c);
 *   - OutStage: the accumulator-to-output stage of every requantizing op,
 *     multiplier and shift included, and TfliteAdd, TFLite's ADD rescaling
 *     (quant.c);
 *   - ActFn and the lookup tables of nonlinear ops, and resize's
 *     fixed-point taps: float functions whose results a quantized kernel
 *     must reproduce (defined with the interpreter's ops, interp_elem.c and
 *     interp_layout.c).
 * ir/interp.h stays private to the interpreter.  The rules are written
 * down in docs/ir-semantics.md.
 */
#ifndef QNNC_QUANT_H
#define QNNC_QUANT_H

#include "fixedpoint.h"
#include "ir.h"

/* ------------------------------------------------------------ parameters */

/* Quantization parameters of one channel.  An integer tensor without a
 * Quant record is read as scale 1, zero point 0, so "raw" integers and
 * quantized ones follow one set of formulas. */
typedef struct QParam {
    float scale;
    int32_t zp;
} QParam;

/* Channel C's parameters of a possibly per-axis Quant (NULL: 1, 0). */
QParam qparam_chan(const Quant *q, int64_t c);
/* True when Q is NULL or per-tensor. */
bool quant_is_per_tensor(const Quant *q);

/* The rounding attribute of N (default onnx). */
int node_rounding(const Node *n);

/* Quantizes a real value into (P, [lo, hi]): onnx rounding is
 * round-half-even of x/scale computed in float32 (ONNX QuantizeLinear),
 * tflite rounding is round-half-away of the same float32 quotient
 * (TFLite AffineQuantize).  NaN becomes the zero point; infinities
 * saturate. */
int64_t quantize_real(float x, QParam p, int rounding, int64_t lo, int64_t hi);

/* Quantized layer_norm's row (docs/ir-semantics.md, "layer_norm"): from
 * the exact sums S1 = Σ (x − zx) and S2 = Σ (x − zx)² of a row of LEN
 * elements, MEAN in x's integer steps and GAIN = sx / sqrtf(var + eps);
 * each element is then ((float)(x − zx) − mean) · gain · qscale + qbias,
 * rounded, with qscale = scale / sy and qbias = bias / sy in float32
 * (layer_norm_q_coef, once per node: the output scale divides the
 * coefficients, not every element).  layer_norm_q_fits says whether
 * LEN·S2 − S1² fits int64 for DT. */
typedef struct LayerNormRow {
    float mean, gain;
} LayerNormRow;
LayerNormRow layer_norm_q_row(int64_t s1, int64_t s2, int64_t len, float sx, float eps);
void layer_norm_q_coef(const float *scale, const float *bias, int64_t len, float sy, float *qscale, float *qbias);
bool layer_norm_q_fits(DType dt, int64_t len);

/* Quantization parameters of an activation whose real values lie in
 * [lo, hi] (widened to include 0), for activation dtype DT:
 *   i8, u8: asymmetric, TFLite ChooseQuantizationParams (zero point nudged
 *           to an integer so that real 0 is exact);
 *   i16:    symmetric, zero point 0, scale = max(|lo|, |hi|) / 32767
 *           (TFLite 16x8 quantization spec).
 * LO and HI must be finite. */
QParam quant_choose_params(double lo, double hi, DType dt);

/* Symmetric int8 weight scale for a channel whose largest magnitude is
 * AMAX: AMAX / 127, or 1 for an all-zero channel (any positive scale
 * represents it exactly). */
float quant_weight_scale(float amax);

/* ------------------------------------------------------------ output stage */

/* The per-output-channel stage that turns an int32 accumulator (real scale
 * acc_scale[c]) into a quantized output value:
 *   onnx:   clamp(round_half_even(acc * m) + zp, lo, hi)
 *   tflite: clamp(MultiplyByQuantizedMultiplier(acc, mult, shift) + zp, lo, hi)
 * where lo/hi is the output dtype range intersected with the quantized
 * fused activation range (act_min/act_max). */
typedef struct OutStage {
    double m;
    int32_t mult;
    int shift;
    int32_t zp;
    int64_t lo, hi;
} OutStage;

/* Builds CHANNELS stages for output type YT (quantized, per-tensor or
 * per-axis along its last axis); acc_scale[c] is the real scale of
 * accumulator channel c.  Returns NULL after reporting on failure. */
OutStage *outstage_build(const Node *n, const TensorType *yt, int64_t channels,
                         const double *acc_scale, int rounding);

static inline int64_t outstage_apply(const OutStage *s, int64_t acc, int rounding)
{
    int64_t v;
    if (rounding == ROUND_TFLITE)
        v = (int64_t)fp_mul_by_quantized_multiplier((int32_t)acc, s->mult, s->shift);
    else
        v = fp_round_product_half_even(acc, s->m, -(INT64_C(1) << 40), INT64_C(1) << 40);
    return fp_clamp_i64(v + s->zp, s->lo, s->hi);
}

/* TFLite's average output stage (reference AveragePool and Mean, when the
 * scales differ): the rounded average AVG of raw values of zero point XZP
 * rescaled by (MULT, SHIFT) to zero point YZP, before the clamp.  AVG - XZP
 * must fit in int32.  The interpreter's avg_pool, global_avg_pool and
 * reduce_mean use it, and codegen/kernel_pool.c's table of every average
 * byte. */
static inline int64_t quant_avg_requant(int64_t avg, int32_t xzp, int32_t mult, int shift, int32_t yzp)
{
    return (int64_t)fp_mul_by_quantized_multiplier((int32_t)(avg - xzp), mult, shift) + yzp;
}

/* Folded requantization (docs/ir-semantics.md, "Folded requantization"):
 * when N carries multiplier/shift/qmin/qmax, they replace what the scales
 * imply.  The verifier guarantees they agree, so this only shows on a
 * graph that was not verified; it makes the attributes the single source
 * generated code and the interpreter both read.  C selects the channel
 * (entry 0 when the attribute has one entry). */
void outstage_fold(const Node *n, OutStage *s, int64_t c, int rounding);
void folded_multiplier(const Node *n, int64_t c, int32_t *mult, int *shift);
void folded_clamp(const Node *n, int64_t *lo, int64_t *hi);

/* The quantized fused-activation range of output channel C of YT, already
 * intersected with the dtype range. */
void act_range_quantized(const Node *n, const TensorType *yt, int64_t c, int rounding,
                         int64_t *lo, int64_t *hi);

/* TFLite int8 ADD/SUB rescaling (kernels/add.cc Prepare): inputs go to a
 * common scale 2*max(sa,sb) with 20 bits of headroom. */
typedef struct TfliteAdd {
    int32_t ma, mb, mo;
    int sha, shb, sho;
} TfliteAdd;
enum { TFLITE_ADD_LEFT_SHIFT = 20 };
bool tflite_add_prepare(QParam a, QParam b, QParam y, TfliteAdd *t);

/* ------------------------------------------------------------ nonlinear ops */

/* The float32 function of a unary OPF_NONLINEAR elementwise op
 * (leaky_relu, sigmoid, tanh, hard_swish, exp, log, sqrt, reciprocal, erf,
 * gelu, abs, neg, elu): the one definition the interpreter and the quantize
 * pass's lookup tables share, so a LUT cannot drift from the oracle.  NaN
 * for any other op.  An ActFn is the op with its attributes read once
 * (interp_act_fn): alpha with its default, gelu's approximate. */
typedef struct ActFn {
    OpId op;
    float alpha;
    GeluApprox approximate;
} ActFn;
ActFn interp_act_fn(const Node *n);
float interp_act_f(const ActFn *f, float x);
float interp_act_alpha(const Node *n);
float interp_gelu_tanh(float x);

/* Fills TABLE (256 entries, indexed by x + 128) with what the quantized op
 * F computes for an i8 input with params IN and an i8 result with params
 * OUT: table[i] = quantize_out(f(dequantize_in(i - 128))), quantized as
 * the `quantize` op with rounding=onnx does. */
void quant_build_lut(const ActFn *f, QParam in, QParam out, int8_t table[256]);

/* ------------------------------------------------------------ resize */

/* One output coordinate of resize along H or W (docs/ir-semantics.md,
 * "resize"): the two input rows/columns it reads (equal for nearest), the
 * float32 weights of each and the Q10 integer weight of i1 (the integer
 * kernel gives i0 RESIZE_ONE - wq).  Computed once, at compile time in
 * generated code, by this one function. */
enum { RESIZE_FRAC_BITS = 10, RESIZE_ONE = 1 << RESIZE_FRAC_BITS };
typedef struct ResizeTap {
    int32_t i0, i1;
    float w0, w1;
    int32_t wq;
} ResizeTap;
/* Fills TAPS[0 .. out-1] for axis 1 (H) or 2 (W) of resize node N. */
void resize_taps(const Node *n, int axis, ResizeTap *taps);

/* ------------------------------------------------------------ elements */

/* Buffers are dense, row-major and little-endian; qnnc only targets
 * little-endian hosts, so native loads are the specified byte order. */
static inline int64_t ld_int(const void *p, DType dt, int64_t i)
{
    switch (dt) {
    case DT_I8: return ((const int8_t *)p)[i];
    case DT_U8: return ((const uint8_t *)p)[i];
    case DT_I16: return ((const int16_t *)p)[i];
    case DT_I32: return ((const int32_t *)p)[i];
    default: return 0;
    }
}

/* Stores V, which the caller has already saturated to DT's range. */
static inline void st_int(void *p, DType dt, int64_t i, int64_t v)
{
    switch (dt) {
    case DT_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case DT_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case DT_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case DT_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    default: break;
    }
}

#endif /* QNNC_QUANT_H */
