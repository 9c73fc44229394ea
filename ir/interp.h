/* interp.h - private declarations of the reference interpreter.
 *
 * interp.c owns buffers and dispatch; each op family lives in its own file:
 *   interp_nn.c      conv2d, dense, matmul, max/avg/global-avg pooling
 *   interp_elem.c    elementwise arithmetic, activations, (de/re)quantize,
 *                    softmax, batchnorm, lut
 *   interp_layout.c  concat, reshape, transpose, pad, resize
 *   interp_reduce.c  reduce_mean/sum/max/min, layer_norm
 * Every op function takes the node, its operand buffers (in operand order)
 * and a result buffer of type_nbytes(&n->result->type) bytes, and returns 0
 * or, after reporting through diag, -1.  The exact arithmetic of every op is
 * written down in docs/ir-semantics.md.
 */
#ifndef QNNC_INTERP_H
#define QNNC_INTERP_H

#include "fixedpoint.h"
#include "ir.h"

#include <math.h>

typedef int InterpFn(const Node *n, const void *const in[], void *out);

InterpFn interp_conv2d, interp_dense, interp_matmul, interp_max_pool,
    interp_avg_pool, interp_global_avg_pool;
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

InterpFn interp_add, interp_sub, interp_mul, interp_div, interp_pow, interp_max, interp_min,
    interp_prelu, interp_compare, interp_where, interp_not, interp_relu, interp_clip, interp_unary_float,
    interp_softmax, interp_quantize, interp_dequantize, interp_cast, interp_requantize,
    interp_lut, interp_batchnorm;
InterpFn interp_concat, interp_reshape, interp_transpose, interp_pad, interp_slice, interp_resize, interp_gather;

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
InterpFn interp_reduce, interp_layer_norm;

/* The element offsets of a reduction (reduce_*, from the `axes`
 * attribute): out_off[o] is the input offset of the first element reduced
 * into output element o (row-major over the kept dims), red_off[r] the
 * offset of reduced element r from it (row-major over the reduced dims).
 * *count is the number of reduced elements.  Caller frees both arrays. */
void reduce_offsets(const Node *n, int64_t **out_off, int64_t **red_off, int64_t *count);

/* Reports "node '%name' (op): MESSAGE" at the node and returns -1. */
int interp_fail(const Node *n, const char *fmt, ...) QNN_PRINTF(2, 3);

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

static inline float ld_f32(const void *p, int64_t i) { return ((const float *)p)[i]; }
static inline void st_f32(void *p, int64_t i, float v) { ((float *)p)[i] = v; }

/* ------------------------------------------------------------ quantization */

/* Quantization parameters of one channel.  An integer tensor without a
 * Quant record is read as scale 1, zero point 0, so "raw" integers and
 * quantized ones follow one set of formulas. */
typedef struct QParam {
    float scale;
    int32_t zp;
} QParam;

/* Locates the channel of a flat element index for a per-axis Quant:
 * channel = (i / inner) % dim, where inner is the product of the dims after
 * the quantized axis. */
typedef struct QIndex {
    const Quant *q;
    int64_t inner, dim;
} QIndex;

void qindex_init(QIndex *qi, const TensorType *t);
static inline QParam qparam_at(const QIndex *qi, int64_t i)
{
    QParam p = {1.0f, 0};
    if (!qi->q)
        return p;
    int64_t c = qi->q->count == 1 ? 0 : (i / qi->inner) % qi->dim;
    p.scale = qi->q->scale[c];
    p.zp = qi->q->zero_point[c];
    return p;
}
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

/* Saturation bounds of an integer dtype. */
static inline int64_t dt_min(DType dt) { return dtype_traits[dt].min; }
static inline int64_t dt_max(DType dt) { return dtype_traits[dt].max; }

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

/* Folded requantization (docs/ir-semantics.md, "Folded requantization"):
 * when N carries multiplier/shift/qmin/qmax, they replace what the scales
 * imply.  The verifier guarantees they agree, so this only shows on a
 * graph that was not verified; it makes the attributes the single source
 * generated code and the interpreter both read.  C selects the channel
 * (entry 0 when the attribute has one entry). */
void outstage_fold(const Node *n, OutStage *s, int64_t c, int rounding);
void folded_multiplier(const Node *n, int64_t c, int32_t *mult, int *shift);
void folded_clamp(const Node *n, int64_t *lo, int64_t *hi);

/* TFLite int8 ADD/SUB rescaling (kernels/add.cc Prepare): inputs go to a
 * common scale 2*max(sa,sb) with 20 bits of headroom. */
typedef struct TfliteAdd {
    int32_t ma, mb, mo;
    int sha, shb, sho;
} TfliteAdd;
enum { TFLITE_ADD_LEFT_SHIFT = 20 };
bool tflite_add_prepare(QParam a, QParam b, QParam y, TfliteAdd *t);

/* The quantized fused-activation range of output channel C of YT, already
 * intersected with the dtype range. */
void act_range_quantized(const Node *n, const TensorType *yt, int64_t c, int rounding,
                         int64_t *lo, int64_t *hi);

/* Fused float activation clamp (act_min/act_max, default +-inf). */
static inline float act_clamp_f(float v, float lo, float hi)
{
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return v;
}

/* For a numpy-broadcast operand IN of output OUT, fills offs[i] with the
 * element offset in IN that output element i reads.  Returns false if the
 * shapes do not broadcast. */
bool broadcast_offsets(const TensorType *out, const TensorType *in, int64_t *offs);

#endif /* QNNC_INTERP_H */
