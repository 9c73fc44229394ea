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
    bool seen[QNN_MAX_RANK] = {false};
    for (int d = 0; d < r; d++) {
        if (perm[d] < 0 || perm[d] >= r || seen[perm[d]] || yt->dims[d] != xt->dims[perm[d]])
            return interp_fail(n, "perm is not a permutation matching the result shape");
        seen[perm[d]] = true;
    }
    transpose_elems(xt->dims, r, perm, esize(xt->dtype), in[0], out);
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

/* ------------------------------------------------------------ gather */

/* ONNX Gather with run-time i32 indices: negative ones count from the
 * end; one outside [-s, s) reads a slice of zeros (the zero point when
 * quantized), where ONNX Runtime stops with an error. */
int interp_gather(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *it = &n->operands[1]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0);
    if (axis < 0 || axis >= xt->rank || it->dtype != DT_I32 || xt->dtype != yt->dtype)
        return interp_fail(n, "gather needs an axis of the input and i32 indices");
    int64_t outer = 1, inner = 1, s = xt->dims[axis], cnt = type_numel(it);
    for (int d = 0; d < axis; d++)
        outer *= xt->dims[d];
    for (int d = (int)axis + 1; d < xt->rank; d++)
        inner *= xt->dims[d];
    size_t es = esize(xt->dtype);
    unsigned char zero[8] = {0};
    if (yt->quant)
        st_int(zero, yt->dtype, 0, yt->quant->zero_point[0]);
    const unsigned char *x = in[0];
    unsigned char *y = out;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < cnt; j++) {
            int64_t i = ((const int32_t *)in[1])[j];
            if (i < 0)
                i += s;
            unsigned char *dst = y + (size_t)((o * cnt + j) * inner) * es;
            for (int64_t e = 0; e < inner; e++)
                memcpy(dst + (size_t)e * es, i >= 0 && i < s ? x + (size_t)((o * s + i) * inner + e) * es : zero, es);
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

/* ------------------------------------------------------------ resize */

/* The input coordinate of output coordinate O (ONNX Resize,
 * coordinate_transformation_mode), in double as ONNX's reference
 * implementation computes it.  S is the scale: the `scales` attribute or
 * out / in; LR the "length_resized": in * scale with `scales` (not
 * rounded down: ONNX's reference and test data), else the output size. */
static double resize_coord(int mode, int64_t o, int64_t in, double lr, double s)
{
    switch (mode) {
    case COORD_ASYMMETRIC: return (double)o / s;
    case COORD_PYTORCH_HALF_PIXEL: return lr > 1 ? ((double)o + 0.5) / s - 0.5 : 0.0;
    case COORD_ALIGN_CORNERS: return lr > 1 ? (double)o * (double)(in - 1) / (lr - 1) : 0.0;
    case COORD_TF_HALF_PIXEL_FOR_NN: return ((double)o + 0.5) / s;
    default: return ((double)o + 0.5) / s - 0.5; /* half_pixel */
    }
}

static int64_t clamp_index(double v, int64_t len)
{
    return v < 0 ? 0 : v > (double)(len - 1) ? len - 1 : (int64_t)v;
}

void resize_taps(const Node *n, int axis, ResizeTap *taps)
{
    int64_t in = n->operands[0]->type.dims[axis], out = n->result->type.dims[axis];
    const Attr *sc = node_attr(n, ATTR_SCALES);
    double s = sc ? (double)sc->u.floats[axis - 1] : (double)out / (double)in;
    double lr = sc ? (double)in * s : (double)out;
    int interp = (int)node_int(n, ATTR_INTERP, RESIZE_NEAREST);
    int coord = (int)node_int(n, ATTR_COORD, COORD_HALF_PIXEL);
    int nearest = (int)node_int(n, ATTR_NEAREST, NEAREST_ROUND_PREFER_FLOOR);
    for (int64_t o = 0; o < out; o++) {
        double x = resize_coord(coord, o, in, lr, s), f = floor(x);
        ResizeTap *t = &taps[o];
        if (interp == RESIZE_NEAREST) {
            /* ONNX nearest_mode; a half-way x rounds down (prefer_floor)
             * or up (prefer_ceil), anything else to the nearest. */
            double r;
            switch (nearest) {
            case NEAREST_FLOOR: r = f; break;
            case NEAREST_CEIL: r = ceil(x); break;
            case NEAREST_ROUND_PREFER_CEIL: r = x - f == 0.5 ? f + 1 : round(x); break;
            default: r = x - f == 0.5 ? f : round(x); break;
            }
            t->i0 = t->i1 = (int32_t)clamp_index(r, in);
            t->w0 = 1.0f, t->w1 = 0.0f, t->wq = 0;
        } else {
            /* Linear: the two neighbours floor(x) and floor(x) + 1 with
             * the edge repeated outside the input (ONNX's reference pads
             * with edge values), weighted by the fraction of x. */
            double frac = x - f;
            t->i0 = (int32_t)clamp_index(f, in);
            t->i1 = (int32_t)clamp_index(f + 1, in);
            t->w1 = (float)frac;
            t->w0 = 1.0f - t->w1;
            t->wq = (int32_t)floor(frac * RESIZE_ONE + 0.5);
        }
    }
}

/* docs/ir-semantics.md, "resize". */
int interp_resize(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    DType dt = xt->dtype;
    if (yt->dtype != dt || xt->rank != 4 || yt->rank != 4)
        return interp_fail(n, "resize needs rank-4 operands of one dtype");
    int64_t N = xt->dims[0], H = xt->dims[1], W = xt->dims[2], C = xt->dims[3];
    int64_t OH = yt->dims[1], OW = yt->dims[2];
    ResizeTap *ty = xmalloc((size_t)OH * sizeof *ty), *tx = xmalloc((size_t)OW * sizeof *tx);
    resize_taps(n, 1, ty);
    resize_taps(n, 2, tx);
    const void *x = in[0];
    bool linear = node_int(n, ATTR_INTERP, RESIZE_NEAREST) == RESIZE_LINEAR;
    for (int64_t b = 0; b < N; b++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t c = 0; c < C; c++) {
                    const ResizeTap *a = &ty[oy], *e = &tx[ox];
                    int64_t r0 = (b * H + a->i0) * W, r1 = (b * H + a->i1) * W;
                    int64_t i00 = (r0 + e->i0) * C + c, i01 = (r0 + e->i1) * C + c;
                    int64_t i10 = (r1 + e->i0) * C + c, i11 = (r1 + e->i1) * C + c;
                    int64_t o = ((b * OH + oy) * OW + ox) * C + c;
                    if (!linear && dt != DT_F32) {
                        st_int(out, dt, o, ld_int(x, dt, i00));
                    } else if (dt == DT_F32) {
                        float top = ld_f32(x, i00) * e->w0 + ld_f32(x, i01) * e->w1;
                        float bot = ld_f32(x, i10) * e->w0 + ld_f32(x, i11) * e->w1;
                        float v = top * a->w0 + bot * a->w1;
                        /* Nearest copies (weights would turn inf into NaN). */
                        st_f32(out, o, linear ? v : ld_f32(x, i00));
                    } else {
                        int64_t top = ld_int(x, dt, i00) * (RESIZE_ONE - e->wq) + ld_int(x, dt, i01) * e->wq;
                        int64_t bot = ld_int(x, dt, i10) * (RESIZE_ONE - e->wq) + ld_int(x, dt, i11) * e->wq;
                        int64_t v = top * (RESIZE_ONE - a->wq) + bot * a->wq;
                        /* Round half up: floor((v + 2^19) / 2^20).  v is a
                         * weighted mean of in-range values, so no clamp. */
                        st_int(out, dt, o, (v + (INT64_C(1) << (2 * RESIZE_FRAC_BITS - 1))) >>
                                               (2 * RESIZE_FRAC_BITS));
                    }
                }
    free(ty);
    free(tx);
    return 0;
}
