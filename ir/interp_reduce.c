/* interp_reduce.c - reference kernels for the reductions (reduce_mean,
 * reduce_sum, reduce_max, reduce_min) and layer_norm.
 *
 * Float reductions accumulate in float32 in row-major order of the reduced
 * elements.  Quantized max/min compare stored integers (the quantization
 * is unchanged); quantized sum and mean requantize an exact integer sum
 * the way global_avg_pool does (docs/ir-semantics.md, "reduce_*").
 * layer_norm is a float32 function; its quantized form takes the row
 * statistics from exact integer sums and scales the result to output
 * steps through scale / sy and bias / sy (docs/ir-semantics.md,
 * "layer_norm").
 */
#include "interp.h"

#include <stdlib.h>
#include <string.h>

void reduce_offsets(const Node *n, int64_t **out_off, int64_t **red_off, int64_t *count)
{
    const TensorType *xt = &n->operands[0]->type;
    bool red[QNN_MAX_RANK] = {false};
    const Attr *a = node_attr(n, ATTR_AXES);
    for (int i = 0; a && i < a->count; i++)
        if (a->u.ints[i] >= 0 && a->u.ints[i] < xt->rank)
            red[a->u.ints[i]] = true;
    int64_t stride[QNN_MAX_RANK], s = 1;
    for (int d = xt->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= xt->dims[d];
    }
    /* Two odometers: one over the kept dims, one over the reduced dims. */
    for (int pass = 0; pass < 2; pass++) {
        bool want = pass == 1;
        int64_t total = 1;
        for (int d = 0; d < xt->rank; d++)
            if (red[d] == want)
                total *= xt->dims[d];
        int64_t *offs = xmalloc((size_t)(total > 0 ? total : 1) * sizeof *offs);
        int64_t idx[QNN_MAX_RANK] = {0}, off = 0;
        for (int64_t i = 0; i < total; i++) {
            offs[i] = off;
            for (int d = xt->rank - 1; d >= 0; d--) {
                if (red[d] != want)
                    continue;
                off += stride[d];
                if (++idx[d] < xt->dims[d])
                    break;
                off -= stride[d] * idx[d];
                idx[d] = 0;
            }
        }
        if (want) {
            *red_off = offs;
            *count = total;
        } else {
            *out_off = offs;
        }
    }
}

int interp_reduce(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    DType dt = xt->dtype;
    bool is_float = dt == DT_F32;
    if (is_float != (yt->dtype == DT_F32) || (!is_float && xt->dtype != yt->dtype))
        return interp_fail(n, "a reduction keeps the input's element type");
    if (!is_float && (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant)))
        return interp_fail(n, "per-axis quantization is not supported by reductions");
    int64_t *oo, *ro, count, ny = type_numel(yt);
    reduce_offsets(n, &oo, &ro, &count);
    int rounding = node_rounding(n);
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    int64_t lo = is_float ? 0 : dt_min(dt), hi = is_float ? 0 : dt_max(dt);
    bool same_q = quant_equal(xt->quant, yt->quant);
    bool mean = n->op == OP_REDUCE_MEAN;
    /* Requantization of the sum (onnx: the real factor; tflite: its
     * fixed-point split) -- unused by max/min, whose params are the input's. */
    double m = (double)xp.scale / ((double)yp.scale * (mean ? (double)count : 1.0));
    int32_t mult = 0;
    int shift = 0;
    int rc = 0;
    if (!is_float && rounding == ROUND_TFLITE && (n->op == OP_REDUCE_SUM || (mean && !same_q))) {
        double tm = (double)xp.scale / (double)yp.scale;
        if (!fp_quantize_multiplier(tm, &mult, &shift)) {
            rc = interp_fail(n, "scale ratio %g is not a TFLite multiplier", tm);
            goto done;
        }
    }
    for (int64_t o = 0; o < ny; o++) {
        const int64_t base = oo[o];
        if (is_float) {
            const float *x = in[0];
            float v;
            if (n->op == OP_REDUCE_MAX || n->op == OP_REDUCE_MIN) {
                /* NaN never wins a comparison (as in max_pool). */
                bool is_max = n->op == OP_REDUCE_MAX;
                v = is_max ? -INFINITY : INFINITY;
                for (int64_t r = 0; r < count; r++) {
                    float e = x[base + ro[r]];
                    if (is_max ? e > v : e < v)
                        v = e;
                }
            } else {
                v = 0.0f;
                for (int64_t r = 0; r < count; r++)
                    v += x[base + ro[r]];
                if (mean)
                    v /= (float)count;
            }
            st_f32(out, o, v);
            continue;
        }
        int64_t v;
        if (n->op == OP_REDUCE_MAX || n->op == OP_REDUCE_MIN) {
            bool is_max = n->op == OP_REDUCE_MAX;
            v = is_max ? lo : hi;
            for (int64_t r = 0; r < count; r++) {
                int64_t e = ld_int(in[0], dt, base + ro[r]);
                if (is_max ? e > v : e < v)
                    v = e;
            }
            st_int(out, dt, o, v);
            continue;
        }
        int64_t raw = 0;
        for (int64_t r = 0; r < count; r++)
            raw += ld_int(in[0], dt, base + ro[r]);
        int64_t s = raw - count * (int64_t)xp.zp; /* sum of (x - zx), exact */
        if (rounding != ROUND_TFLITE) {
            v = fp_round_product_half_even(s, m, -(INT64_C(1) << 40), INT64_C(1) << 40) + yp.zp;
        } else if (mean) {
            /* TFLite reference AveragePool's arithmetic, as global_avg_pool:
             * the raw sum divided rounding half away from zero, then
             * rescaled unless the quantization is unchanged. */
            int64_t avg = raw >= 0 ? (raw + count / 2) / count : (raw - count / 2) / count;
            v = same_q ? avg : quant_avg_requant(avg, xp.zp, mult, shift, yp.zp);
        } else {
            if (s < INT32_MIN || s > INT32_MAX) {
                rc = interp_fail(n, "sum out of int32 range");
                goto done;
            }
            v = fp_mul_by_quantized_multiplier((int32_t)s, mult, shift) + (int64_t)yp.zp;
        }
        st_int(out, dt, o, fp_clamp_i64(v, lo, hi));
    }
done:
    free(oo);
    free(ro);
    return rc;
}

/* The output step of both forms (lower_reduce.c's ln_affine): the centred
 * value D times the row's factor F (1 / sqrtf(var + eps) in float, the
 * gain when quantized) times scale[K], plus bias[K] if any (quantized:
 * both already divided by the output scale). */
static float ln_affine(float d, float f, const float *scale, const float *bias, int64_t k)
{
    float v = d * f * scale[k];
    return bias ? v + bias[k] : v;
}

/* ONNX LayerNormalization (opset 17) in float32: per row of LEN elements,
 * mean = sum / len, d = x - mean, var = sum(d * d) / len,
 * inv = 1 / sqrtf(var + eps), y = d * inv * scale + bias, sums in order. */
static void layer_norm_f(const float *x, float *y, int64_t rows, int64_t len, const float *scale,
                         const float *bias, float eps)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * len;
        float *yr = y + r * len;
        float sum = 0.0f;
        for (int64_t k = 0; k < len; k++)
            sum += xr[k];
        float mean = sum / (float)len, var = 0.0f;
        for (int64_t k = 0; k < len; k++) {
            float d = xr[k] - mean;
            var += d * d;
        }
        var /= (float)len;
        float inv = 1.0f / sqrtf(var + eps);
        for (int64_t k = 0; k < len; k++)
            yr[k] = ln_affine(xr[k] - mean, inv, scale, bias, k);
    }
}

int interp_layer_norm(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    if (axis < 0 || axis >= xt->rank || (xt->dtype == DT_F32) != (yt->dtype == DT_F32))
        return interp_fail(n, "layer_norm: bad axis or element types");
    int64_t len = 1, cnt = type_numel(xt);
    for (int d = (int)axis; d < xt->rank; d++)
        len *= xt->dims[d];
    int64_t rows = len ? cnt / len : 0;
    const float *bias = n->num_operands > 2 ? in[2] : NULL;
    float eps = node_float(n, ATTR_EPSILON, 1e-5f);
    if (xt->dtype == DT_F32) {
        layer_norm_f(in[0], out, rows, len, in[1], bias, eps);
        return 0;
    }
    if (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant))
        return interp_fail(n, "per-axis quantization is not supported by layer_norm");
    if (!layer_norm_q_fits(xt->dtype, len))
        return interp_fail(n, "layer_norm: rows of %lld elements are too long for exact integer sums", (long long)len);
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    /* scale and bias in output steps (layer_norm_q_coef), so that the
     * element's quantization is a rounding, not a divide. */
    float *scale = xmalloc((size_t)len * 2 * sizeof *scale), *qbias = bias ? scale + len : NULL;
    layer_norm_q_coef(in[1], bias, len, yp.scale, scale, qbias);
    QParam unit = {1.0f, yp.zp};
    int rounding = node_rounding(n);
    for (int64_t r = 0; r < rows; r++) {
        int64_t s1 = 0, s2 = 0;
        for (int64_t k = 0; k < len; k++) {
            int64_t v = ld_int(in[0], xt->dtype, r * len + k) - xp.zp;
            s1 += v, s2 += v * v;
        }
        LayerNormRow st = layer_norm_q_row(s1, s2, len, xp.scale, eps);
        for (int64_t k = 0; k < len; k++) {
            float t = ln_affine((float)(ld_int(in[0], xt->dtype, r * len + k) - xp.zp) - st.mean, st.gain, scale, qbias, k);
            st_int(out, yt->dtype, r * len + k, quantize_real(t, unit, rounding, dt_min(yt->dtype), dt_max(yt->dtype)));
        }
    }
    free(scale);
    return 0;
}
