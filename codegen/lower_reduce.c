/* lower_reduce.c - reduce_mean/sum/max/min and layer_norm, following
 * ir/interp_reduce.c operation for operation: the same summation order,
 * the same float32 steps and the same integer requantization, so that the
 * generated code is bit-exact with the interpreter. */
#include "codegen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

static LLVMValueRef ld(Cg *cg, LLVMTypeRef t, LLVMValueRef p) { return LLVMBuildLoad2(B, t, p, ""); }

/* (float)(x - zx) * sx, the difference exact (interp's dequantization). */
static LLVMValueRef dequant(Cg *cg, LLVMValueRef v, int32_t zp, float scale)
{
    LLVMValueRef d = LLVMBuildSub(B, LLVMBuildSExt(B, v, cg->t_i64, ""), cg_i64(cg, zp), "");
    return LLVMBuildFMul(B, LLVMBuildSIToFP(B, d, cg->t_f32, ""), cg_f32(cg, scale), "");
}

static bool lower_reduce(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    DType dt = xt->dtype;
    bool is_float = dt == DT_F32, mean = n->op == OP_REDUCE_MEAN;
    bool is_max = n->op == OP_REDUCE_MAX, is_minmax = is_max || n->op == OP_REDUCE_MIN;
    bool red[QNN_MAX_RANK] = {false};
    const Attr *a = node_attr(n, ATTR_AXES);
    for (int i = 0; a && i < a->count; i++)
        red[a->u.ints[i]] = true;
    /* Kept dims drive the outer nest, reduced dims the inner one, each
     * with the input's strides; the output is the outer nest in order. */
    int64_t xs[QNN_MAX_RANK], kd[QNN_MAX_RANK], ks[QNN_MAX_RANK], rd[QNN_MAX_RANK], rs[QNN_MAX_RANK];
    int64_t os[QNN_MAX_RANK], count = 1;
    int nk = 0, nr = 0;
    cg_strides(xt, xs);
    for (int d = 0; d < xt->rank; d++) {
        if (red[d]) {
            rd[nr] = xt->dims[d], rs[nr++] = xs[d];
            count *= xt->dims[d];
        } else {
            kd[nk] = xt->dims[d], ks[nk++] = xs[d];
        }
    }
    for (int d = nk - 1, s = 1; d >= 0; s *= (int)kd[d], d--)
        os[d] = s;

    int rounding = node_rounding(n);
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    int64_t lo = is_float ? 0 : dtype_traits[dt].min, hi = is_float ? 0 : dtype_traits[dt].max;
    bool same_q = quant_equal(xt->quant, yt->quant);
    double m = (double)xp.scale / ((double)yp.scale * (mean ? (double)count : 1.0));
    int32_t mult = 0;
    int shift = 0;
    if (!is_float && !is_minmax) {
        if (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant))
            return cg_fail(cg, n, "per-axis quantization is not supported by reductions");
        if (rounding == ROUND_TFLITE && (!mean || !same_q)) {
            double tm = (double)xp.scale / (double)yp.scale;
            if (!fp_quantize_multiplier(tm, &mult, &shift))
                return cg_fail(cg, n, "scale ratio %g is not a TFLite multiplier", tm);
        }
        /* The interpreter refuses a tflite sum beyond int32 at run time;
         * generated code cannot, so such a reduction is refused here. */
        if (rounding == ROUND_TFLITE && !mean && (double)count * (double)(hi - lo) > (double)INT32_MAX)
            return cg_fail(cg, n, "a sum of %lld elements may exceed int32", (long long)count);
    }

    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMTypeRef at = is_float ? cg->t_f32 : is_minmax ? cg->t_i32 : cg->t_i64;
    LLVMValueRef acc = cg_alloca(cg, at, "acc");
    CgNest outer, inner;
    cg_nest_begin(cg, &outer, nk, kd);
    LLVMValueRef base = cg_nest_offset(cg, &outer, ks), oi = cg_nest_offset(cg, &outer, os);
    LLVMBuildStore(B, is_float ? cg_f32(cg, is_minmax ? (is_max ? -INFINITY : INFINITY) : 0.0f)
                      : is_minmax ? cg_i32(cg, is_max ? lo : hi) : cg_i64(cg, 0), acc);
    cg_nest_begin(cg, &inner, nr, rd);
    LLVMValueRef xi = LLVMBuildAdd(B, base, cg_nest_offset(cg, &inner, rs), "");
    LLVMValueRef cur = ld(cg, at, acc), v;
    if (is_float) {
        LLVMValueRef e = cg_load_f32(cg, x, xi);
        if (is_minmax) /* NaN never wins a comparison */
            v = LLVMBuildSelect(B, LLVMBuildFCmp(B, is_max ? LLVMRealOGT : LLVMRealOLT, e, cur, ""), e, cur, "");
        else
            v = LLVMBuildFAdd(B, cur, e, "");
    } else {
        LLVMValueRef e = cg_load_int(cg, dt, x, xi);
        v = is_minmax ? (is_max ? cg_smax(cg, cur, e) : cg_smin(cg, cur, e))
                      : LLVMBuildAdd(B, cur, LLVMBuildSExt(B, e, cg->t_i64, ""), "");
    }
    LLVMBuildStore(B, v, acc);
    cg_nest_end(cg, &inner);

    LLVMValueRef r = ld(cg, at, acc);
    if (is_float) {
        if (mean)
            r = LLVMBuildFDiv(B, r, cg_f32(cg, (float)count), "");
        cg_store_f32(cg, y, oi, r);
    } else if (is_minmax) {
        cg_store_int(cg, dt, y, oi, r);
    } else {
        LLVMValueRef zy = cg_i32(cg, yp.zp), qlo = cg_i32(cg, lo), qhi = cg_i32(cg, hi), out;
        LLVMValueRef s = LLVMBuildSub(B, r, cg_i64(cg, count * (int64_t)xp.zp), "");
        if (rounding != ROUND_TFLITE) {
            out = cg_add_zp_clamp(cg, cg_rne_prod(cg, s, cg_f64(cg, m)), zy, qlo, qhi);
        } else if (mean) {
            /* Round half away from zero: (T +- count/2) / count, truncating. */
            LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, r, cg_i64(cg, 0), "");
            LLVMValueRef t = LLVMBuildSelect(B, neg, LLVMBuildSub(B, r, cg_i64(cg, count / 2), ""),
                                             LLVMBuildAdd(B, r, cg_i64(cg, count / 2), ""), "");
            LLVMValueRef avg = LLVMBuildSDiv(B, t, cg_i64(cg, count), "");
            if (same_q) {
                out = cg_add_zp_clamp(cg, avg, cg_i32(cg, 0), qlo, qhi);
            } else {
                LLVMValueRef d = LLVMBuildTrunc(B, LLVMBuildSub(B, avg, cg_i64(cg, xp.zp), ""), cg->t_i32, "");
                out = cg_add_zp_clamp(cg, LLVMBuildSExt(B, cg_mbqm(cg, d, mult, shift), cg->t_i64, ""), zy, qlo, qhi);
            }
        } else {
            LLVMValueRef s32 = LLVMBuildTrunc(B, s, cg->t_i32, "");
            out = cg_add_zp_clamp(cg, LLVMBuildSExt(B, cg_mbqm(cg, s32, mult, shift), cg->t_i64, ""), zy, qlo, qhi);
        }
        cg_store_int(cg, dt, y, oi, out);
    }
    cg_nest_end(cg, &outer);
    return true;
}

/* layer_norm: three passes over each row (sum, squared deviations,
 * output), with interp_reduce.c's float32 steps.  The quantized form
 * dequantizes every element where it is read, which gives the values the
 * interpreter keeps in its temporary. */
static bool lower_layer_norm(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    int64_t len = 1;
    for (int d = (int)axis; d < xt->rank; d++)
        len *= xt->dims[d];
    int64_t rows = len ? type_numel(xt) / len : 0;
    bool q = xt->dtype != DT_F32;
    if (q && (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant)))
        return cg_fail(cg, n, "per-axis quantization is not supported by layer_norm");
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    float eps = node_float(n, ATTR_EPSILON, 1e-5f);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMValueRef sc = cg_buf(cg, n->operands[1]), bi = n->num_operands > 2 ? cg_buf(cg, n->operands[2]) : NULL;
    LLVMValueRef sum = cg_alloca(cg, cg->t_f32, "sum"), var = cg_alloca(cg, cg->t_f32, "var");
    LLVMTypeRef ft = LLVMFunctionType(cg->t_f32, &cg->t_f32, 1, 0);
    LLVMValueRef sqrtf_ = LLVMGetNamedFunction(cg->mod, "llvm.sqrt.f32");
    if (!sqrtf_)
        sqrtf_ = LLVMAddFunction(cg->mod, "llvm.sqrt.f32", ft);
    CgLoop lr, lk;
    LLVMValueRef r = cg_for_begin(cg, &lr, rows, "row");
    LLVMValueRef base = LLVMBuildMul(B, r, cg_idx(cg, len), "");
#define LOADX(k) (q ? dequant(cg, cg_load_int(cg, xt->dtype, x, LLVMBuildAdd(B, base, (k), "")), xp.zp, xp.scale) \
                    : cg_load_f32(cg, x, LLVMBuildAdd(B, base, (k), "")))
    LLVMBuildStore(B, cg_f32(cg, 0.0f), sum);
    LLVMValueRef k = cg_for_begin(cg, &lk, len, "k");
    LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, cg->t_f32, sum), LOADX(k), ""), sum);
    cg_for_end(cg, &lk);
    LLVMValueRef mean = LLVMBuildFDiv(B, ld(cg, cg->t_f32, sum), cg_f32(cg, (float)len), "mean");
    LLVMBuildStore(B, cg_f32(cg, 0.0f), var);
    k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef d = LLVMBuildFSub(B, LOADX(k), mean, "");
        LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, cg->t_f32, var), LLVMBuildFMul(B, d, d, ""), ""), var);
    }
    cg_for_end(cg, &lk);
    LLVMValueRef v = LLVMBuildFDiv(B, ld(cg, cg->t_f32, var), cg_f32(cg, (float)len), "");
    LLVMValueRef ve = LLVMBuildFAdd(B, v, cg_f32(cg, eps), "");
    LLVMValueRef inv = LLVMBuildFDiv(B, cg_f32(cg, 1.0f), LLVMBuildCall2(B, ft, sqrtf_, &ve, 1, ""), "inv");
    k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef o = LLVMBuildFMul(B, LLVMBuildFMul(B, LLVMBuildFSub(B, LOADX(k), mean, ""), inv, ""),
                                       cg_load_f32(cg, sc, k), "");
        if (bi)
            o = LLVMBuildFAdd(B, o, cg_load_f32(cg, bi, k), "");
        LLVMValueRef yi = LLVMBuildAdd(B, base, k, "");
        if (q)
            cg_store_int(cg, yt->dtype, y, yi,
                         cg_quantize_f32(cg, o, cg_f32(cg, yp.scale), cg_i32(cg, yp.zp),
                                         cg_i32(cg, dtype_traits[yt->dtype].min),
                                         cg_i32(cg, dtype_traits[yt->dtype].max), node_rounding(n)));
        else
            cg_store_f32(cg, y, yi, o);
    }
    cg_for_end(cg, &lk);
#undef LOADX
    cg_for_end(cg, &lr);
    return true;
}

bool cg_lower_reduce(Cg *cg, const Node *n)
{
    return n->op == OP_LAYER_NORM ? lower_layer_norm(cg, n) : lower_reduce(cg, n);
}
