/* interp_layout.c - reference kernels for concat, reshape, transpose, pad,
 * slice.
 *
 * These move elements without arithmetic, except where quantization forces
 * it: concat requantizes inputs whose quantization differs from the
 * result's, and pad quantizes its real fill value.
 */
#include "interp.h"

#include <stdlib.h>
#include <string.h>

static size_t esize(DType dt) { return (size_t)dtype_traits[dt].size; }

/* ------------------------------------------------------------ concat */

int interp_concat(const Node *n, const void *const in[], void *out)
{
    const TensorType *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0);
    if (axis < 0)
        axis += yt->rank;
    if (axis < 0 || axis >= yt->rank)
        return interp_fail(n, "concat axis out of range");
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= yt->dims[d];
    for (int d = (int)axis + 1; d < yt->rank; d++)
        inner *= yt->dims[d];
    size_t es = esize(yt->dtype);
    int rounding = node_rounding(n);
    int64_t total = 0;
    for (int k = 0; k < n->num_operands; k++) {
        const TensorType *xt = &n->operands[k]->type;
        if (xt->dtype != yt->dtype || xt->rank != yt->rank)
            return interp_fail(n, "operand %d must have the result's dtype and rank", k);
        total += xt->dims[axis];
        if (xt->quant && yt->quant && !quant_equal(xt->quant, yt->quant) &&
            (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant)))
            return interp_fail(n, "per-axis quantized operands must match the result's quantization");
        if ((xt->quant != NULL) != (yt->quant != NULL))
            return interp_fail(n, "operand %d and the result disagree on being quantized", k);
    }
    if (total != yt->dims[axis])
        return interp_fail(n, "operand sizes along axis do not add up to the result");

    unsigned char *y = out;
    int64_t yrow = yt->dims[axis] * inner;  /* elements per outer index in y */
    int64_t col = 0;
    QParam yp = qparam_chan(yt->quant, 0);
    int64_t lo = yt->dtype == DT_F32 ? 0 : dt_min(yt->dtype);
    int64_t hi = yt->dtype == DT_F32 ? 0 : dt_max(yt->dtype);
    for (int k = 0; k < n->num_operands; k++) {
        const TensorType *xt = &n->operands[k]->type;
        int64_t chunk = xt->dims[axis] * inner;
        const unsigned char *x = in[k];
        if (!xt->quant || quant_equal(xt->quant, yt->quant)) {
            /* Identical quantization: a byte copy. */
            for (int64_t o = 0; o < outer; o++)
                memcpy(y + (size_t)(o * yrow + col) * es, x + (size_t)(o * chunk) * es,
                       (size_t)chunk * es);
        } else {
            QParam xp = qparam_chan(xt->quant, 0);
            double m = (double)xp.scale / (double)yp.scale;
            /* TFLite ConcatenationWithScaling: float scale = si * (1/so),
             * bias = -zi * scale, q = round(x*scale + bias) + zo, all in
             * float32 with TfLiteRound (half away from zero). */
            float inv = 1.0f / yp.scale;
            float fscale = xp.scale * inv;
            float fbias = -(float)xp.zp * fscale;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < chunk; j++) {
                    int64_t v = ld_int(x, xt->dtype, o * chunk + j), q;
                    if (rounding == ROUND_TFLITE) {
                        float t = (float)v * fscale;
                        t = t + fbias;
                        q = fp_saturate(fp_round_half_away(t) + yp.zp, lo, hi);
                    } else {
                        /* onnx: round half even of (x - zi) * si / so + zo,
                         * the ratio held in double, ties decided exactly. */
                        q = fp_clamp_i64(fp_round_product_half_even(v - xp.zp, m, -(INT64_C(1) << 40),
                                                                    INT64_C(1) << 40) + yp.zp,
                                         lo, hi);
                    }
                    st_int(y, yt->dtype, o * yrow + col + j, q);
                }
        }
        col += chunk;
    }
    return 0;
}

/* ------------------------------------------------------------ reshape */

int interp_reshape(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t nb = type_nbytes(yt);
    if (type_numel(xt) != type_numel(yt) || xt->dtype != yt->dtype || nb < 0)
        return interp_fail(n, "reshape must keep the element count and dtype");
    if (nb > 0)
        memcpy(out, in[0], (size_t)nb);
    return 0;
}

/* ------------------------------------------------------------ transpose */

int interp_transpose(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t perm[QNN_MAX_RANK];
    if (!node_attr(n, ATTR_PERM) || node_ints(n, ATTR_PERM, perm, QNN_MAX_RANK, NULL) != r ||
        yt->rank != r || xt->dtype != yt->dtype)
        return interp_fail(n, "transpose needs a perm of the input's rank");
    int64_t xstride[QNN_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= xt->dims[d];
    }
    bool seen[QNN_MAX_RANK] = {false};
    int64_t step[QNN_MAX_RANK];  /* input stride of output dim d */
    for (int d = 0; d < r; d++) {
        if (perm[d] < 0 || perm[d] >= r || seen[perm[d]] || yt->dims[d] != xt->dims[perm[d]])
            return interp_fail(n, "perm is not a permutation matching the result shape");
        seen[perm[d]] = true;
        step[d] = xstride[perm[d]];
    }
    size_t es = esize(xt->dtype);
    const unsigned char *x = in[0];
    unsigned char *y = out;
    int64_t cnt = type_numel(yt), idx[QNN_MAX_RANK] = {0}, off = 0;
    for (int64_t i = 0; i < cnt; i++) {
        memcpy(y + (size_t)i * es, x + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            idx[d]++;
            off += step[d];
            if (idx[d] < yt->dims[d])
                break;
            off -= step[d] * idx[d];
            idx[d] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ pad */

int interp_pad(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t pads[2 * QNN_MAX_RANK];
    if (!node_attr(n, ATTR_PADS) || node_ints(n, ATTR_PADS, pads, 2 * QNN_MAX_RANK, NULL) != 2 * r ||
        yt->rank != r || xt->dtype != yt->dtype)
        return interp_fail(n, "pad needs pads [begins..., ends...] of twice the input rank");
    for (int d = 0; d < r; d++)
        if (yt->dims[d] != xt->dims[d] + pads[d] + pads[r + d])
            return interp_fail(n, "result shape does not match the pads");
    float value = node_float(n, ATTR_VALUE, 0.0f);
    DType dt = yt->dtype;
    size_t es = esize(dt);
    QIndex yi;
    qindex_init(&yi, yt);
    int64_t xstride[QNN_MAX_RANK], s = 1;
    for (int d = r - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= xt->dims[d];
    }
    const unsigned char *x = in[0];
    unsigned char *y = out;
    int64_t cnt = type_numel(yt), idx[QNN_MAX_RANK] = {0};
    for (int64_t i = 0; i < cnt; i++) {
        int64_t off = 0;
        bool inside = true;
        for (int d = 0; d < r; d++) {
            int64_t xi = idx[d] - pads[d];  /* negative pads crop */
            if (xi < 0 || xi >= xt->dims[d]) {
                inside = false;
                break;
            }
            off += xi * xstride[d];
        }
        if (inside)
            memcpy(y + (size_t)i * es, x + (size_t)off * es, es);
        else if (dt == DT_F32)
            st_f32(y, i, value);
        else
            /* The real fill value in the result's quantization (round half
             * even, saturated); a plain integer tensor reads scale 1, zp 0. */
            st_int(y, dt, i, quantize_real(value, qparam_at(&yi, i), ROUND_ONNX, dt_min(dt), dt_max(dt)));
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < yt->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ slice */

int interp_slice(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t starts[QNN_MAX_RANK], steps[QNN_MAX_RANK], ones[QNN_MAX_RANK];
    for (int d = 0; d < QNN_MAX_RANK; d++)
        ones[d] = 1;
    if (!node_attr(n, ATTR_STARTS) || node_ints(n, ATTR_STARTS, starts, QNN_MAX_RANK, NULL) != r ||
        node_ints(n, ATTR_STEPS, steps, r, ones) != r || yt->rank != r || xt->dtype != yt->dtype)
        return interp_fail(n, "slice needs starts and steps of the input's rank");
    int64_t xstride[QNN_MAX_RANK], s = 1, off = 0;
    for (int d = r - 1; d >= 0; d--) {
        xstride[d] = s;
        s *= xt->dims[d];
    }
    int64_t step[QNN_MAX_RANK]; /* input offset per result index along d */
    for (int d = 0; d < r; d++) {
        int64_t last = starts[d] + (yt->dims[d] - 1) * steps[d];
        if (starts[d] < 0 || starts[d] >= xt->dims[d] || last < 0 || last >= xt->dims[d])
            return interp_fail(n, "slice reads outside the input along dim %d", d);
        step[d] = steps[d] * xstride[d];
        off += starts[d] * xstride[d];
    }
    size_t es = esize(xt->dtype);
    const unsigned char *x = in[0];
    unsigned char *y = out;
    int64_t cnt = type_numel(yt), idx[QNN_MAX_RANK] = {0};
    for (int64_t i = 0; i < cnt; i++) {
        memcpy(y + (size_t)i * es, x + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            idx[d]++;
            off += step[d];
            if (idx[d] < yt->dims[d])
                break;
            off -= step[d] * idx[d];
            idx[d] = 0;
        }
    }
    return 0;
}
