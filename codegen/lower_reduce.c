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

bool lower_reduce(Cg *cg, const Node *n)
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

/* layer_norm in float32: three passes over each row (sum, squared
 * deviations, output), with interp_reduce.c's float32 steps.  The two sums are sequential float32
 * additions (their order is the interpreter's), so a row's pass is one
 * chain of dependent adds; LN_ROWS rows run side by side, each with its own
 * chain in its own order, which keeps the adder busy without changing any
 * sum.  Their means and reciprocals wait in stack slots for the output
 * pass, row by row. */
enum { LN_ROWS = 8 };

typedef struct LnCtx {
    const Node *n;
    const TensorType *xt, *yt;
    bool q;
    bool qdiv; /* quantized, SC and BI not constants: divided by sy at each load */
    QParam xp, yp;
    float eps;
    int64_t len;
    LLVMValueRef x, y, sc, bi, sqrtf_, mean, inv;
    LLVMTypeRef ft;
} LnCtx;

static LLVMValueRef ln_load(Cg *cg, const LnCtx *c, LLVMValueRef i)
{
    return cg_load_f32(cg, c->x, i);
}

/* Coefficient K of SC or BI: quantized, in output steps (qscale[k] =
 * scale[k] / sy, layer_norm_q_coef), from the table lower_layer_norm
 * made at compile time, or divided here when the operand is no constant. */
static LLVMValueRef ln_coef(Cg *cg, const LnCtx *c, LLVMValueRef buf, LLVMValueRef k)
{
    LLVMValueRef v = cg_load_f32(cg, buf, k);
    return c->qdiv ? LLVMBuildFDiv(B, v, cg_f32(cg, c->yp.scale), "") : v;
}

/* The output step both forms share (interp_reduce.c's ln_affine): the
 * centred value D times the row's factor F (1 / sqrtf(var + eps) in
 * float, the gain when quantized) times S = scale[K], plus bias[K] if
 * any (quantized: both in output steps).  The caller loads S, the float
 * rows before they load x (the order their loads have always had in the
 * loop body). */
static LLVMValueRef ln_affine(Cg *cg, const LnCtx *c, LLVMValueRef d, LLVMValueRef f, LLVMValueRef s, LLVMValueRef k)
{
    LLVMValueRef o = LLVMBuildFMul(B, LLVMBuildFMul(B, d, f, ""), s, "");
    if (c->bi)
        o = LLVMBuildFAdd(B, o, ln_coef(cg, c, c->bi, k), "");
    return o;
}

/* Rows R0 .. R0+NR (R0 an idx value). */
static void ln_rows(Cg *cg, const LnCtx *c, LLVMValueRef r0, int nr)
{
    LLVMValueRef sum[LN_ROWS], var[LN_ROWS], base[LN_ROWS], mean[LN_ROWS];
    for (int i = 0; i < nr; i++) {
        base[i] = LLVMBuildMul(B, LLVMBuildAdd(B, r0, cg_idx(cg, i), ""), cg_idx(cg, c->len), "");
        sum[i] = cg_alloca(cg, cg->t_f32, "sum");
        var[i] = cg_alloca(cg, cg->t_f32, "var");
        LLVMBuildStore(B, cg_f32(cg, 0.0f), sum[i]);
        LLVMBuildStore(B, cg_f32(cg, 0.0f), var[i]);
    }
    CgLoop lk;
    LLVMValueRef k = cg_for_begin(cg, &lk, c->len, "k");
    for (int i = 0; i < nr; i++)
        LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, cg->t_f32, sum[i]), ln_load(cg, c, LLVMBuildAdd(B, base[i], k, "")), ""),
                       sum[i]);
    cg_for_end(cg, &lk);
    for (int i = 0; i < nr; i++)
        mean[i] = LLVMBuildFDiv(B, ld(cg, cg->t_f32, sum[i]), cg_f32(cg, (float)c->len), "mean");
    k = cg_for_begin(cg, &lk, c->len, "k");
    for (int i = 0; i < nr; i++) {
        LLVMValueRef d = LLVMBuildFSub(B, ln_load(cg, c, LLVMBuildAdd(B, base[i], k, "")), mean[i], "");
        LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, cg->t_f32, var[i]), LLVMBuildFMul(B, d, d, ""), ""), var[i]);
    }
    cg_for_end(cg, &lk);
    for (int i = 0; i < nr; i++) {
        LLVMValueRef v = LLVMBuildFDiv(B, ld(cg, cg->t_f32, var[i]), cg_f32(cg, (float)c->len), "");
        LLVMValueRef ve = LLVMBuildFAdd(B, v, cg_f32(cg, c->eps), "");
        LLVMValueRef inv = LLVMBuildFDiv(B, cg_f32(cg, 1.0f), LLVMBuildCall2(B, c->ft, c->sqrtf_, &ve, 1, ""), "inv");
        cg_store_f32(cg, c->mean, cg_idx(cg, i), mean[i]);
        cg_store_f32(cg, c->inv, cg_idx(cg, i), inv);
    }
    CgLoop lr;
    LLVMValueRef ri = nr > 1 ? cg_for_begin(cg, &lr, nr, "lr") : cg_idx(cg, 0);
    LLVMValueRef rb = LLVMBuildMul(B, LLVMBuildAdd(B, r0, ri, ""), cg_idx(cg, c->len), "");
    LLVMValueRef mn = cg_load_f32(cg, c->mean, ri), inv = cg_load_f32(cg, c->inv, ri);
    k = cg_for_begin(cg, &lk, c->len, "k");
    {
        LLVMValueRef yi = LLVMBuildAdd(B, rb, k, "");
        LLVMValueRef s = cg_load_f32(cg, c->sc, k);
        cg_store_f32(cg, c->y, yi, ln_affine(cg, c, LLVMBuildFSub(B, ln_load(cg, c, yi), mn, ""), inv, s, k));
    }
    cg_for_end(cg, &lk);
    if (nr > 1)
        cg_for_end(cg, &lr);
}

/* Quantized rows: the sums are exact integers (docs/ir-semantics.md,
 * "layer_norm"), so their order is free and LLVM vectorizes them; the row
 * statistics are layer_norm_q_row's steps (ir/quant.c), the per-element
 * float steps the interpreter's, one element at a time (no reduction, so
 * vector lanes change nothing).  LNQ_ROWS rows go together: their sums
 * wait in stack slots, then the statistics of all of them are computed
 * side by side in vector lanes (the same IEEE steps in every lane: one
 * chain of int64 product, double divide, float sqrt and divide per
 * LNQ_ROWS rows instead of one per row, whose latency used to dominate a
 * row of ViT's 64 elements), then each row's output pass reads its mean
 * and gain back. */
enum { LNQ_ROWS = 16 };

/* A call of the intrinsic NAME overloaded on T with the argument X. */
static LLVMValueRef call_intrinsic(Cg *cg, const char *name, LLVMTypeRef t, LLVMValueRef x)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, &t, 1);
    return LLVMBuildCall2(B, LLVMIntrinsicGetType(cg->ctx, id, &t, 1), fn, &x, 1, "");
}

/* Rows R0 .. R0+NR (R0 an idx value, NR <= LNQ_ROWS). */
static void ln_rows_q(Cg *cg, const LnCtx *c, LLVMValueRef r0, int nr)
{
    DType dt = c->xt->dtype;
    int64_t span = dtype_traits[dt].max - dtype_traits[dt].min;
    /* S1 fits i32 (layer_norm_q_fits: len·span < 2^31); S2 when len·span² does. */
    LLVMTypeRef t2 = c->len * span <= INT32_MAX / span ? cg->t_i32 : cg->t_i64;
    LLVMValueRef s1a = cg_alloca(cg, LLVMArrayType2(cg->t_i32, LNQ_ROWS), "lns1");
    LLVMValueRef s2a = cg_alloca(cg, LLVMArrayType2(cg->t_i64, LNQ_ROWS), "lns2");
    LLVMValueRef s1p = cg_alloca(cg, cg->t_i32, "s1"), s2p = cg_alloca(cg, t2, "s2");
    CgLoop lr, lk;
    LLVMValueRef ri = cg_for_begin(cg, &lr, nr, "lr");
    LLVMValueRef base = LLVMBuildMul(B, LLVMBuildAdd(B, r0, ri, ""), cg_idx(cg, c->len), "");
    LLVMBuildStore(B, cg_i32(cg, 0), s1p);
    LLVMBuildStore(B, LLVMConstInt(t2, 0, 0), s2p);
    LLVMValueRef k = cg_for_begin(cg, &lk, c->len, "k");
    {
        LLVMValueRef v = LLVMBuildSub(B, LLVMBuildSExt(B, cg_load_int(cg, dt, c->x, LLVMBuildAdd(B, base, k, "")),
                                                       cg->t_i32, ""),
                                      cg_i32(cg, c->xp.zp), "");
        LLVMBuildStore(B, LLVMBuildAdd(B, ld(cg, cg->t_i32, s1p), v, ""), s1p);
        LLVMValueRef w = t2 == cg->t_i32 ? v : LLVMBuildSExt(B, v, t2, "");
        LLVMBuildStore(B, LLVMBuildAdd(B, ld(cg, t2, s2p), LLVMBuildMul(B, w, w, ""), ""), s2p);
    }
    cg_for_end(cg, &lk);
    LLVMValueRef s2 = ld(cg, t2, s2p);
    cg_store_int(cg, DT_I32, s1a, ri, ld(cg, cg->t_i32, s1p));
    LLVMBuildStore(B, t2 == cg->t_i64 ? s2 : LLVMBuildSExt(B, s2, cg->t_i64, ""),
                   LLVMBuildInBoundsGEP2(B, cg->t_i64, s2a, &ri, 1, ""));
    cg_for_end(cg, &lr);
    /* The statistics of the NR rows, lane by lane as layer_norm_q_row. */
    LLVMTypeRef v64 = LLVMVectorType(cg->t_i64, (unsigned)nr), vd = LLVMVectorType(cg->t_f64, (unsigned)nr);
    LLVMTypeRef vf = LLVMVectorType(cg->t_f32, (unsigned)nr);
    LLVMValueRef s1 = LLVMBuildLoad2(B, LLVMVectorType(cg->t_i32, (unsigned)nr), s1a, "");
    LLVMValueRef s2v = LLVMBuildLoad2(B, v64, s2a, "");
    LLVMSetAlignment(s1, 4);
    LLVMSetAlignment(s2v, 8);
    s1 = LLVMBuildSExt(B, s1, v64, "");
    double l = (double)c->len;
    LLVMValueRef num = LLVMBuildSIToFP(
        B, LLVMBuildSub(B, LLVMBuildMul(B, cg_splat(cg, cg_i64(cg, c->len), nr), s2v, ""), LLVMBuildMul(B, s1, s1, ""), ""), vd,
        "");
    LLVMValueRef var = LLVMBuildFDiv(
        B, LLVMBuildFMul(B, cg_splat(cg, LLVMConstReal(cg->t_f64, (double)c->xp.scale * (double)c->xp.scale), nr), num, ""),
        cg_splat(cg, LLVMConstReal(cg->t_f64, l * l), nr), "");
    LLVMValueRef ve = LLVMBuildFAdd(B, LLVMBuildFPTrunc(B, var, vf, ""), cg_splat(cg, cg_f32(cg, c->eps), nr), "");
    LLVMValueRef gain = LLVMBuildFDiv(B, cg_splat(cg, cg_f32(cg, c->xp.scale), nr), call_intrinsic(cg, "llvm.sqrt", vf, ve),
                                      "gain");
    LLVMValueRef mean = LLVMBuildFPTrunc(
        B, LLVMBuildFDiv(B, LLVMBuildSIToFP(B, s1, vd, ""), cg_splat(cg, LLVMConstReal(cg->t_f64, l), nr), ""), vf, "mean");
    LLVMSetAlignment(LLVMBuildStore(B, mean, c->mean), 4);
    LLVMSetAlignment(LLVMBuildStore(B, gain, c->inv), 4);
    ri = cg_for_begin(cg, &lr, nr, "lr");
    base = LLVMBuildMul(B, LLVMBuildAdd(B, r0, ri, ""), cg_idx(cg, c->len), "");
    LLVMValueRef mn = cg_load_f32(cg, c->mean, ri), gn = cg_load_f32(cg, c->inv, ri);
    k = cg_for_begin(cg, &lk, c->len, "k");
    {
        LLVMValueRef yi = LLVMBuildAdd(B, base, k, "");
        LLVMValueRef v = LLVMBuildSub(B, LLVMBuildSExt(B, cg_load_int(cg, dt, c->x, yi), cg->t_i32, ""),
                                      cg_i32(cg, c->xp.zp), "");
        LLVMValueRef d = LLVMBuildFSub(B, LLVMBuildSIToFP(B, v, cg->t_f32, ""), mn, "");
        LLVMValueRef o = ln_affine(cg, c, d, gn, ln_coef(cg, c, c->sc, k), k);
        /* o is in output steps already: the quantize's divide by 1 folds. */
        cg_store_int(cg, c->yt->dtype, c->y, yi,
                     cg_quantize_f32_small(cg, o, 1.0f, c->yp.zp, (int32_t)dtype_traits[c->yt->dtype].min,
                                           (int32_t)dtype_traits[c->yt->dtype].max, node_rounding(c->n)));
    }
    cg_for_end(cg, &lk);
    cg_for_end(cg, &lr);
}

bool lower_layer_norm(Cg *cg, const Node *n)
{
    LnCtx c = {.n = n, .xt = &n->operands[0]->type, .yt = &n->result->type};
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += c.xt->rank;
    c.len = 1;
    for (int d = (int)axis; d < c.xt->rank; d++)
        c.len *= c.xt->dims[d];
    int64_t rows = c.len ? type_numel(c.xt) / c.len : 0;
    c.q = c.xt->dtype != DT_F32;
    if (c.q && (!quant_is_per_tensor(c.xt->quant) || !quant_is_per_tensor(c.yt->quant)))
        return cg_fail(cg, n, "per-axis quantization is not supported by layer_norm");
    c.xp = qparam_chan(c.xt->quant, 0), c.yp = qparam_chan(c.yt->quant, 0);
    c.eps = node_float(n, ATTR_EPSILON, 1e-5f);
    c.x = cg_buf(cg, n->operands[0]), c.y = cg_buf(cg, n->result);
    c.sc = cg_buf(cg, n->operands[1]), c.bi = n->num_operands > 2 ? cg_buf(cg, n->operands[2]) : NULL;
    c.ft = LLVMFunctionType(cg->t_f32, &cg->t_f32, 1, 0);
    c.sqrtf_ = LLVMGetNamedFunction(cg->mod, "llvm.sqrt.f32");
    if (!c.sqrtf_)
        c.sqrtf_ = LLVMAddFunction(cg->mod, "llvm.sqrt.f32", c.ft);
    if (c.q) {
        if (!layer_norm_q_fits(c.xt->dtype, c.len))
            return cg_fail(cg, n, "layer_norm: rows of %lld elements are too long for exact integer sums",
                           (long long)c.len);
        /* scale and bias in output steps, as the interpreter's
         * layer_norm_q_coef computes them, when they are constants. */
        const Value *sv = n->operands[1], *bv = n->num_operands > 2 ? n->operands[2] : NULL;
        if (sv->kind == VAL_CONST && sv->data && (!bv || (bv->kind == VAL_CONST && bv->data))) {
            float *t = xmalloc((size_t)c.len * 2 * sizeof *t);
            layer_norm_q_coef(sv->data, bv ? bv->data : NULL, c.len, c.yp.scale, t, t + c.len);
            c.sc = cg_rodata(cg, t, (size_t)c.len * 4, 4, "ln_qscale");
            if (bv)
                c.bi = cg_rodata(cg, t + c.len, (size_t)c.len * 4, 4, "ln_qbias");
            free(t);
        } else {
            c.qdiv = true;
        }
    }
    int blk = c.q ? LNQ_ROWS : LN_ROWS;
    c.mean = cg_alloca(cg, LLVMArrayType2(cg->t_f32, (uint64_t)blk), "lnmean");
    c.inv = cg_alloca(cg, LLVMArrayType2(cg->t_f32, (uint64_t)blk), "lninv");
    void (*block)(Cg *, const LnCtx *, LLVMValueRef, int) = c.q ? ln_rows_q : ln_rows;
    int64_t nb = rows / blk, rem = rows % blk;
    if (nb > 0) {
        CgLoop lb;
        LLVMValueRef b = cg_for_begin(cg, &lb, nb, "rowblk");
        block(cg, &c, LLVMBuildMul(B, b, cg_idx(cg, blk), ""), blk);
        cg_for_end(cg, &lb);
    }
    if (rem > 0)
        block(cg, &c, cg_idx(cg, nb * blk), (int)rem);
    return true;
}
