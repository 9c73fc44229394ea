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
 * written down in docs/ir-semantics.md.  What the passes and the code
 * generator must compute the same way (quantization parameters, the output
 * stage, nonlinear functions, resize taps) is in the public quant.h.
 */
#ifndef QNNC_INTERP_H
#define QNNC_INTERP_H

#include "fixedpoint.h"
#include "ir.h"
#include "quant.h"

#include <math.h>

typedef int InterpFn(const Node *n, const void *const in[], void *out);

InterpFn interp_conv2d, interp_dense, interp_matmul, interp_max_pool,
    interp_avg_pool, interp_global_avg_pool;
InterpFn interp_add, interp_sub, interp_mul, interp_div, interp_pow, interp_max, interp_min,
    interp_prelu, interp_compare, interp_where, interp_not, interp_relu, interp_clip, interp_unary_float,
    interp_softmax, interp_quantize, interp_dequantize, interp_cast, interp_requantize,
    interp_lut, interp_batchnorm;
InterpFn interp_concat, interp_reshape, interp_transpose, interp_pad, interp_slice, interp_resize, interp_gather;

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

static inline float ld_f32(const void *p, int64_t i) { return ((const float *)p)[i]; }
static inline void st_f32(void *p, int64_t i, float v) { ((float *)p)[i] = v; }

/* ------------------------------------------------------------ quantization */

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

/* Saturation bounds of an integer dtype. */
static inline int64_t dt_min(DType dt) { return dtype_traits[dt].min; }
static inline int64_t dt_max(DType dt) { return dtype_traits[dt].max; }

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
