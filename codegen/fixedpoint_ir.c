/* fixedpoint_ir.c - the integer rounding rules of ir/fixedpoint.c as LLVM
 * IR.  Each function mirrors its C twin step by step (gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, TFLite's
 * MultiplyByQuantizedMultiplier, ONNX's round half to even), so the
 * generated code and the interpreter agree bit for bit.
 *
 * No libm: floor/fma/roundeven would become library calls on baseline
 * x86-64 and on Cortex-M4 (no double FPU).  Instead rounding goes through
 * fptosi on values clamped well inside the i64 range, and the exact error
 * of a double product (the interpreter's fma(a, m, -p)) is computed with
 * Dekker's error-free product, which needs only multiplies and adds.  No
 * instruction carries fast-math flags, so LLVM may neither contract nor
 * reassociate any of it.
 */
#include "codegen.h"
#include "kernel_int8.h"

#include <stdlib.h>
#include <string.h>

#define B (cg->b)

/* Every function here takes scalars or vectors alike (the vector
 * requantization epilogue, codegen/kernel_requant.c): constants and
 * widened types take the shape of the operand LIKE. */
static LLVMTypeRef shape(LLVMValueRef like, LLVMTypeRef et)
{
    LLVMTypeRef t = LLVMTypeOf(like);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMVectorType(et, LLVMGetVectorSize(t)) : et;
}

static LLVMValueRef splat_like(Cg *cg, LLVMValueRef like, LLVMValueRef c)
{
    LLVMTypeRef t = LLVMTypeOf(like);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? cg_splat(cg, c, LLVMGetVectorSize(t)) : c;
}
#define I32(like, v) splat_like(cg, like, cg_i32(cg, v))
#define I64(like, v) splat_like(cg, like, cg_i64(cg, v))
#define F64(like, v) splat_like(cg, like, cg_f64(cg, v))
#define F32(like, v) splat_like(cg, like, cg_f32(cg, v))

/* SRDHM without its one saturating case, INT32_MIN * INT32_MIN.
 * gemmlowp nudges a non-negative product by 2^30 and a negative one by
 * 1 - 2^30, then divides by 2^31 truncating toward zero; for every
 * product that is floor((ab + 2^30) / 2^31), one add and one arithmetic
 * shift (write ab = -(q*2^31 + r), 0 <= r < 2^31: both give -q - [r > 2^30]),
 * which Arm selects as one smlal and AArch64 as smull, add, asr. */
static LLVMValueRef srdhm_nosat(Cg *cg, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef a64 = LLVMBuildSExt(B, a, shape(a, cg->t_i64), ""), b64 = LLVMBuildSExt(B, b, shape(a, cg->t_i64), "");
    LLVMValueRef ab = LLVMBuildNSWMul(B, a64, b64, "");
    LLVMValueRef q = LLVMBuildAShr(B, LLVMBuildNSWAdd(B, ab, I64(a, INT64_C(1) << 30), ""), I64(a, 31), "");
    return LLVMBuildTrunc(B, q, shape(a, cg->t_i32), "");
}

LLVMValueRef cg_srdhm(Cg *cg, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef r = srdhm_nosat(cg, a, b);
    /* INT32_MIN * INT32_MIN is the one product that does not fit. */
    LLVMValueRef amin = LLVMBuildICmp(B, LLVMIntEQ, a, I32(a, INT32_MIN), "");
    LLVMValueRef bmin = LLVMBuildICmp(B, LLVMIntEQ, b, I32(a, INT32_MIN), "");
    return LLVMBuildSelect(B, LLVMBuildAnd(B, amin, bmin, ""), I32(a, INT32_MAX), r, "srdhm");
}

LLVMValueRef cg_rdbpot(Cg *cg, LLVMValueRef x, LLVMValueRef e)
{
    /* floor(x / 2^e) (arithmetic shift) plus one when the remainder
     * exceeds half, "half" biased by one for negative x: ties go away from
     * zero. */
    LLVMValueRef mask = LLVMBuildSub(B, LLVMBuildShl(B, I32(x, 1), e, ""), I32(x, 1), "");
    LLVMValueRef rem = LLVMBuildAnd(B, x, mask, "");
    LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, x, I32(x, 0), "");
    LLVMValueRef thr = LLVMBuildAdd(B, LLVMBuildLShr(B, mask, I32(x, 1), ""),
                                    LLVMBuildZExt(B, neg, shape(x, cg->t_i32), ""), "");
    LLVMValueRef fl = LLVMBuildAShr(B, x, e, "");
    LLVMValueRef up = LLVMBuildICmp(B, LLVMIntUGT, rem, thr, "");
    return LLVMBuildAdd(B, fl, LLVMBuildZExt(B, up, shape(x, cg->t_i32), ""), "rdbpot");
}

LLVMValueRef cg_mbqm_dyn(Cg *cg, LLVMValueRef x, LLVMValueRef mult, LLVMValueRef shift)
{
    LLVMValueRef zero = I32(x, 0);
    LLVMValueRef left = cg_smax(cg, shift, zero);
    LLVMValueRef right = cg_smax(cg, LLVMBuildSub(B, zero, shift, ""), zero);
    /* x * 2^left wraps modulo 2^32, as TFLite's int32 multiply does. */
    LLVMValueRef shifted = LLVMBuildShl(B, x, left, "");
    /* MULT is TFLite QuantizeMultiplier's (the verifier holds folded
     * multipliers to it): 0 or in [2^30, 2^31), never INT32_MIN, so
     * SRDHM's saturating case cannot arise. */
    return cg_rdbpot(cg, srdhm_nosat(cg, shifted, mult), right);
}

LLVMValueRef cg_mbqm(Cg *cg, LLVMValueRef x, int32_t mult, int shift)
{
    return cg_mbqm_dyn(cg, x, cg_i32(cg, mult), cg_i32(cg, shift));
}

/* Clamps a double to +-2^41; NaN becomes 0. */
static LLVMValueRef clamp41(Cg *cg, LLVMValueRef x)
{
    LLVMValueRef lim = F64(x, 0x1p41), nlim = F64(x, -0x1p41);
    LLVMValueRef ord = LLVMBuildFCmp(B, LLVMRealORD, x, x, "");
    x = LLVMBuildSelect(B, ord, x, F64(x, 0.0), "");
    x = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, x, lim, ""), lim, x, "");
    return LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, nlim, ""), nlim, x, "");
}

/* trunc(X) for |X| <= 2^41 (clamp41's range) as an i64, and as a double in
 * *TF, with no float-to-integer conversion: X + 1.5*2^52 lands in
 * [2^52, 2^53), where a double's ulp is 1, so the sum holds round-to-
 * nearest-even(X) in its low mantissa bits (the IR's fadd rounds to
 * nearest even), and one step toward zero where that rounded away from it
 * gives the truncation.  Exact, and the same on every target; fptosi would
 * be too, but vectorized for RVV it becomes vfcvt.rtz.x.f.v, whose
 * translation QEMU 7.2's riscv64 aborts on (decode_save_opc) when it
 * starts a translation block, i.e. depending on code layout. */
static LLVMValueRef trunc_i64(Cg *cg, LLVMValueRef x, LLVMValueRef *tf)
{
    LLVMTypeRef ti = shape(x, cg->t_i64);
    LLVMValueRef magic = F64(x, 0x1.8p52);
    LLVMValueRef y = LLVMBuildFAdd(B, x, magic, "");
    LLVMValueRef r = LLVMBuildSub(B, LLVMBuildBitCast(B, y, ti, ""), LLVMBuildBitCast(B, magic, ti, ""), "");
    LLVMValueRef rf = LLVMBuildFSub(B, y, magic, ""); /* exact: rne(x) */
    LLVMValueRef pos = LLVMBuildFCmp(B, LLVMRealOGE, x, F64(x, 0.0), "");
    LLVMValueRef away = LLVMBuildSelect(B, pos, LLVMBuildFCmp(B, LLVMRealOGT, rf, x, ""),
                                        LLVMBuildFCmp(B, LLVMRealOLT, rf, x, ""), "");
    LLVMValueRef step = LLVMBuildSelect(B, away, LLVMBuildSelect(B, pos, I64(x, -1), I64(x, 1), ""), I64(x, 0), "");
    LLVMValueRef stepf = LLVMBuildSelect(B, away, LLVMBuildSelect(B, pos, F64(x, -1.0), F64(x, 1.0), ""),
                                         F64(x, 0.0), "");
    *tf = LLVMBuildFAdd(B, rf, stepf, "");
    return LLVMBuildAdd(B, r, step, "trunc");
}

LLVMValueRef cg_round_f64(Cg *cg, LLVMValueRef x, int rounding)
{
    x = clamp41(cg, x);
    LLVMValueRef tf;
    LLVMValueRef t = trunc_i64(cg, x, &tf);
    LLVMValueRef d = LLVMBuildFSub(B, x, tf, ""); /* exact */
    LLVMValueRef neg = LLVMBuildFCmp(B, LLVMRealOLT, x, cg_f64(cg, 0.0), "");
    LLVMValueRef ad = LLVMBuildSelect(B, neg, LLVMBuildFNeg(B, d, ""), d, "");
    LLVMValueRef step = LLVMBuildSelect(B, neg, cg_i64(cg, -1), cg_i64(cg, 1), "");
    LLVMValueRef up;
    if (rounding == ROUND_TFLITE) {
        up = LLVMBuildFCmp(B, LLVMRealOGE, ad, cg_f64(cg, 0.5), "");
    } else {
        LLVMValueRef odd = LLVMBuildTrunc(B, t, cg->t_i1, "");
        LLVMValueRef gt = LLVMBuildFCmp(B, LLVMRealOGT, ad, cg_f64(cg, 0.5), "");
        LLVMValueRef tie = LLVMBuildFCmp(B, LLVMRealOEQ, ad, cg_f64(cg, 0.5), "");
        up = LLVMBuildOr(B, gt, LLVMBuildAnd(B, tie, odd, ""), "");
    }
    return LLVMBuildAdd(B, t, LLVMBuildSelect(B, up, step, cg_i64(cg, 0), ""), "round");
}

/* Veltkamp split of X into a high half with 26 significant bits and an
 * exact low remainder. */
static void split(Cg *cg, LLVMValueRef x, LLVMValueRef *hi, LLVMValueRef *lo)
{
    LLVMValueRef c = LLVMBuildFMul(B, F64(x, 134217729.0), x, ""); /* 2^27 + 1 */
    *hi = LLVMBuildFSub(B, c, LLVMBuildFSub(B, c, x, ""), "");
    *lo = LLVMBuildFSub(B, x, *hi, "");
}

LLVMValueRef cg_rne_prod(Cg *cg, LLVMValueRef acc, LLVMValueRef m)
{
    LLVMValueRef a = LLVMBuildSIToFP(B, acc, shape(acc, cg->t_f64), ""); /* exact for |acc| <= 2^53 */
    LLVMValueRef p = clamp41(cg, LLVMBuildFMul(B, a, m, "p"));
    LLVMValueRef tf;
    LLVMValueRef t = trunc_i64(cg, p, &tf);
    LLVMValueRef below = LLVMBuildFCmp(B, LLVMRealOGT, tf, p, "");
    LLVMValueRef fi = LLVMBuildSub(B, t, LLVMBuildZExt(B, below, shape(acc, cg->t_i64), ""), "floor");
    LLVMValueRef h = LLVMBuildFAdd(B, LLVMBuildSIToFP(B, fi, shape(acc, cg->t_f64), ""), F64(acc, 0.5), "");
    LLVMValueRef gt = LLVMBuildFCmp(B, LLVMRealOGT, p, h, "");
    LLVMValueRef tie = LLVMBuildFCmp(B, LLVMRealOEQ, p, h, "");
    /* On a tie of p, the exact error e = a*m - p decides (the interpreter's
     * fma(a, m, -p)); Dekker: e = ((ah*mh - p) + ah*ml + al*mh) + al*ml. */
    LLVMValueRef ah, al, mh, ml;
    split(cg, a, &ah, &al);
    split(cg, m, &mh, &ml);
    LLVMValueRef e = LLVMBuildFSub(B, LLVMBuildFMul(B, ah, mh, ""), p, "");
    e = LLVMBuildFAdd(B, e, LLVMBuildFMul(B, ah, ml, ""), "");
    e = LLVMBuildFAdd(B, e, LLVMBuildFMul(B, al, mh, ""), "");
    e = LLVMBuildFAdd(B, e, LLVMBuildFMul(B, al, ml, ""), "err");
    LLVMValueRef epos = LLVMBuildFCmp(B, LLVMRealOGT, e, F64(acc, 0.0), "");
    LLVMValueRef ezero = LLVMBuildFCmp(B, LLVMRealOEQ, e, F64(acc, 0.0), "");
    LLVMValueRef odd = LLVMBuildTrunc(B, fi, shape(acc, cg->t_i1), "");
    LLVMValueRef tie_up = LLVMBuildOr(B, epos, LLVMBuildAnd(B, ezero, odd, ""), "");
    LLVMValueRef up = LLVMBuildOr(B, gt, LLVMBuildAnd(B, tie, tie_up, ""), "");
    return LLVMBuildAdd(B, fi, LLVMBuildZExt(B, up, shape(acc, cg->t_i64), ""), "rne");
}

LLVMValueRef cg_add_zp_clamp(Cg *cg, LLVMValueRef v, LLVMValueRef zp, LLVMValueRef lo, LLVMValueRef hi)
{
    LLVMValueRef s = LLVMBuildAdd(B, v, LLVMBuildSExt(B, zp, shape(v, cg->t_i64), ""), "");
    LLVMValueRef lo64 = LLVMBuildSExt(B, lo, shape(v, cg->t_i64), ""), hi64 = LLVMBuildSExt(B, hi, shape(v, cg->t_i64), "");
    s = cg_smin(cg, cg_smax(cg, s, lo64), hi64);
    return LLVMBuildTrunc(B, s, shape(v, cg->t_i32), "");
}

/* clamp(v + zp, lo, hi) for an i32 V, in i32: the same as
 * clamp(v, lo - zp, hi - zp) + zp, exactly (no sum can overflow), when
 * lo, hi and zp are within +-2^16 (the bounds of an 8- or 16-bit result),
 * so the additions never overflow.  Saves the i64 compares cg_add_zp_clamp
 * costs on 32-bit targets and the i64 lanes on vector ones. */
static LLVMValueRef add_zp_clamp_i32(Cg *cg, LLVMValueRef v, LLVMValueRef zp, LLVMValueRef lo, LLVMValueRef hi)
{
    LLVMValueRef l = LLVMBuildSub(B, lo, zp, ""), h = LLVMBuildSub(B, hi, zp, "");
    return LLVMBuildAdd(B, cg_smin(cg, cg_smax(cg, v, l), h), zp, "");
}

bool cg_stage_small(const OutStage *st, int64_t nch)
{
    for (int64_t k = 0; k < nch; k++)
        if (st[k].zp < -65536 || st[k].zp > 65536 || st[k].lo < -65536 || st[k].hi > 65536)
            return false;
    return true;
}

LLVMValueRef cg_requant_tail_i32(Cg *cg, LLVMValueRef v32, bool small, LLVMValueRef zp, LLVMValueRef lo,
                                 LLVMValueRef hi)
{
    if (small)
        return add_zp_clamp_i32(cg, v32, zp, lo, hi);
    return cg_add_zp_clamp(cg, LLVMBuildSExt(B, v32, shape(v32, cg->t_i64), ""), zp, lo, hi);
}

/* Whether V is a constant int within +-2^16. */
static bool small_const(LLVMValueRef v)
{
    if (!LLVMIsAConstantInt(v))
        return false;
    long long k = LLVMConstIntGetSExtValue(v);
    return k >= -65536 && k <= 65536;
}

/* cg_round_f64's rounding of a scalar f32 Q in f32 and i32, for a target
 * whose doubles are soft-float calls (Cortex-M4's FPU is single
 * precision): Q clamped to +-2^22 first (any result beyond is clamped
 * away by a small [lo, hi] anyway), so the truncation is an exact i32,
 * Q less it exact in f32, and the tie tests the same as in f64. */
static LLVMValueRef round_f32_small(Cg *cg, LLVMValueRef q, int rounding)
{
    LLVMValueRef big = LLVMConstReal(cg->t_f32, 4194304.0), nbig = LLVMConstReal(cg->t_f32, -4194304.0);
    q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, q, big, ""), big, q, "");
    q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, q, nbig, ""), nbig, q, "");
    LLVMValueRef t = LLVMBuildFPToSI(B, q, cg->t_i32, "");
    LLVMValueRef d = LLVMBuildFSub(B, q, LLVMBuildSIToFP(B, t, cg->t_f32, ""), ""); /* exact */
    LLVMValueRef neg = LLVMBuildFCmp(B, LLVMRealOLT, q, LLVMConstReal(cg->t_f32, 0.0), "");
    LLVMValueRef ad = LLVMBuildSelect(B, neg, LLVMBuildFNeg(B, d, ""), d, "");
    LLVMValueRef half = LLVMConstReal(cg->t_f32, 0.5), up;
    if (rounding == ROUND_TFLITE) {
        up = LLVMBuildFCmp(B, LLVMRealOGE, ad, half, "");
    } else {
        LLVMValueRef odd = LLVMBuildTrunc(B, t, cg->t_i1, "");
        up = LLVMBuildOr(B, LLVMBuildFCmp(B, LLVMRealOGT, ad, half, ""),
                         LLVMBuildAnd(B, LLVMBuildFCmp(B, LLVMRealOEQ, ad, half, ""), odd, ""), "");
    }
    LLVMValueRef step = LLVMBuildSelect(B, neg, cg_i32(cg, -1), cg_i32(cg, 1), "");
    return LLVMBuildAdd(B, t, LLVMBuildSelect(B, up, step, cg_i32(cg, 0), ""), "round");
}

LLVMValueRef cg_quantize_f32(Cg *cg, LLVMValueRef x, LLVMValueRef scale, LLVMValueRef zp,
                             LLVMValueRef lo, LLVMValueRef hi, int rounding)
{
    /* ONNX QuantizeLinear and TFLite AffineQuantize divide in float32. */
    LLVMValueRef q = LLVMBuildFDiv(B, x, scale, "");
    LLVMValueRef y;
    if (strncmp(cg->target->triple, "thumb", 5) == 0 && LLVMTypeOf(x) == cg->t_f32 && small_const(zp) &&
        small_const(lo) && small_const(hi))
        y = add_zp_clamp_i32(cg, round_f32_small(cg, q, rounding), zp, lo, hi);
    else
        y = cg_add_zp_clamp(cg, cg_round_f64(cg, LLVMBuildFPExt(B, q, cg->t_f64, ""), rounding), zp, lo, hi);
    LLVMValueRef isnan = LLVMBuildFCmp(B, LLVMRealUNO, x, x, "");
    return LLVMBuildSelect(B, isnan, cg_clamp_i32(cg, zp, lo, hi), y, "q");
}

OutStage *cg_product_stage(Cg *cg, const Node *n, const TensorType *yt, const Quant *xq, const Quant *wq, int64_t nch,
                           int rounding)
{
    double *acc_scale = xmalloc((size_t)(nch > 0 ? nch : 1) * sizeof *acc_scale);
    for (int64_t c = 0; c < nch; c++)
        acc_scale[c] = (double)qparam_chan(xq, 0).scale * (double)qparam_chan(wq, c).scale;
    OutStage *st = outstage_build(n, yt, nch, acc_scale, rounding);
    free(acc_scale);
    if (!st)
        cg->failed = true;
    return st;
}

int64_t cg_stage_count(const OutStage *st, int64_t n)
{
    for (int64_t i = 1; i < n; i++)
        if (memcmp(&st[i], &st[0], sizeof *st) != 0)
            return n;
    return 1;
}

/* Whether the target rounds a float to an integral float in one step
 * (x86-64 SSE4.1's roundps, AArch64's frinta/frintn), so that llvm.round
 * and llvm.roundeven are neither libm calls nor scalarized. */
static bool native_round(Cg *cg)
{
    if (strncmp(cg->target->triple, "aarch64", 7) == 0)
        return true;
    if (strncmp(cg->target->triple, "x86_64", 6) != 0)
        return false;
    static const char *const f[] = {"sse4.1", "sse4.2", "avx", "avx2", "avx512f"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (kern_has(cg, f[i]))
            return true;
    return false;
}

/* The x86-64 form of cg_quantize_f32_small.  x is first clamped to
 * [fl((FLO - 1)·s), fl((FHI + 1)·s)]: every x beyond gives LO or HI, and
 * so do those ends (their quotients lie beyond FLO - 1/2 and FHI + 1/2
 * by far more than the division's error), so the quotient stays well
 * inside the i32 range, is converted without a rounding instruction and
 * clamped in integer lanes (where a truncation to bytes makes the clamp
 * vpmovsdb's saturation).  A NaN x passes the clamp (ordered compares)
 * and its quotient is made 0 (its result is then zp, which is in [LO, HI];
 * AVX-512 zero-masks the division). */
typedef struct QuantX86 {
    float s, xlo, xhi;
    int32_t zp, lo, hi;
    int rounding;
} QuantX86;

static LLVMValueRef quantize_x86(Cg *cg, LLVMValueRef x, const QuantX86 *c)
{
    LLVMTypeRef t = LLVMTypeOf(x), ti = shape(x, cg->t_i32);
    /* Where zp <= LO (a zero point at the range's low end, as the zoo's
     * inputs), every x below 0 gives LO, and so does NaN (zp clamped):
     * the low clamp then also takes NaN to xlo (an ordered compare that
     * keeps x), and with q >= -1 - 2^-20 tflite's copysign is +(1/2 -
     * 2^-25): a q < 0 truncates to 0, LO once zp is added. */
    bool low = c->zp <= c->lo;
    LLVMValueRef xlo = F32(x, c->xlo), xc;
    if (low)
        xc = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, x, xlo, ""), x, xlo, "");
    else
        xc = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, xlo, ""), xlo, x, "");
    xc = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, xc, F32(x, c->xhi), ""), F32(x, c->xhi), xc, "");
    LLVMValueRef q = LLVMBuildFDiv(B, xc, F32(x, c->s), "");
    if (!low)
        q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNO, x, x, ""), F32(x, 0.0f), q, "");
    LLVMValueRef v;
    if (c->rounding == ROUND_TFLITE && low) {
        v = LLVMBuildFPToSI(B, LLVMBuildFAdd(B, q, F32(x, 0x1.fffffep-2f), ""), ti, "");
    } else if (c->rounding == ROUND_TFLITE) {
        /* Half away from zero: q + copysign(1/2 - 2^-25, q) truncated by
         * the conversion (llvm.round's own expansion: the sum reaches the
         * next integer exactly when |q|'s fraction is at least 1/2). */
        LLVMValueRef a[2] = {F32(x, 0x1.fffffep-2f), q};
        v = LLVMBuildFPToSI(B, LLVMBuildFAdd(B, q, kern_intrinsic(cg, "llvm.copysign", &t, 1, a, 2), ""), ti, "");
    } else {
        /* Half to even: cvtps2dq in the default rounding mode, which every
         * float operation here and in the interpreter assumes. */
        LLVMTypeRef ov[2] = {ti, t};
        v = kern_intrinsic(cg, "llvm.lrint", ov, 2, &q, 1);
    }
    v = LLVMBuildAdd(B, v, I32(x, c->zp), "");
    return cg_smin(cg, cg_smax(cg, v, I32(x, c->lo)), I32(x, c->hi));
}

LLVMValueRef cg_quantize_f32_small(Cg *cg, LLVMValueRef x, float scale, int32_t zp, int32_t lo, int32_t hi,
                                   int rounding)
{
    LLVMTypeRef ti = shape(x, cg->t_i32);
    int32_t nanv = zp < lo ? lo : zp > hi ? hi : zp;
    int64_t flo = (int64_t)lo - zp, fhi = (int64_t)hi - zp;
    if (strncmp(cg->target->triple, "x86_64", 6) == 0 && zp >= lo && zp <= hi && flo >= -(1 << 20) &&
        fhi <= (1 << 20)) {
        QuantX86 c = {scale, (float)((double)(flo - 1) * scale), (float)((double)(fhi + 1) * scale), zp, lo, hi,
                      rounding};
        return quantize_x86(cg, x, &c);
    }
    /* NaN tested on the bits (|x| above inf's): MVE has no unordered
     * compare, and its vcmp pair for fcmp uno misses NaN under QEMU. */
    LLVMValueRef mag = LLVMBuildAnd(B, LLVMBuildBitCast(B, x, ti, ""), I32(x, 0x7fffffff), "");
    LLVMValueRef nan = LLVMBuildICmp(B, LLVMIntSGT, mag, I32(x, 0x7f800000), "");
    if (native_round(cg) && flo >= -(1 << 24) && fhi <= (1 << 24)) {
        /* Rounding is monotone and keeps integers, so clamping the quotient
         * to the integers [lo - zp, hi - zp] first is clamping the result
         * after; then one rounding instruction (ties away from zero:
         * llvm.round, tflite; to even: llvm.roundeven, onnx) and an exact
         * conversion.  A NaN quotient passes the clamp (ordered compares)
         * and is replaced by nanv at the end. */
        LLVMValueRef q = LLVMBuildFDiv(B, x, F32(x, scale), "");
        q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, q, F32(x, (float)flo), ""), F32(x, (float)flo), q, "");
        q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, q, F32(x, (float)fhi), ""), F32(x, (float)fhi), q, "");
        const char *name = rounding == ROUND_TFLITE ? "llvm.round" : "llvm.roundeven";
        LLVMTypeRef qt = LLVMTypeOf(q);
        unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
        LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, &qt, 1);
        q = LLVMBuildCall2(B, LLVMIntrinsicGetType(cg->ctx, id, &qt, 1), fn, &q, 1, "");
        LLVMValueRef r = LLVMBuildAdd(B, LLVMBuildFPToSI(B, q, ti, ""), I32(x, zp), "");
        return LLVMBuildSelect(B, nan, I32(x, nanv), r, "q");
    }
    LLVMValueRef big = F32(x, 0x1p22f), nbig = F32(x, -0x1p22f), magic = F32(x, 0x1.8p23f);
    LLVMValueRef q = LLVMBuildFDiv(B, x, F32(x, scale), "");
    q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, q, big, ""), big, q, "");
    q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, q, nbig, ""), nbig, q, "");
    /* q + 1.5*2^23 lies in [2^23, 2^24], where a float's ulp is 1 (2 only
     * at 2^24 itself, reached exactly): the fadd rounds q to nearest even,
     * and the sum's bits less the magic's are that integer (at 2^24 too:
     * the exponent step carries into the difference). */
    LLVMValueRef y = LLVMBuildFAdd(B, q, magic, "");
    LLVMValueRef r = LLVMBuildSub(B, LLVMBuildBitCast(B, y, ti, ""), LLVMBuildBitCast(B, magic, ti, ""), "rne");
    if (rounding == ROUND_TFLITE) {
        /* Half away from zero: a tie that went toward zero goes one
         * further.  q - rne(q) is exact (Sterbenz, both in one binade). */
        LLVMValueRef d = LLVMBuildFSub(B, q, LLVMBuildFSub(B, y, magic, ""), "");
        LLVMValueRef zero = F32(x, 0.0f);
        LLVMValueRef up = LLVMBuildAnd(B, LLVMBuildFCmp(B, LLVMRealOEQ, d, F32(x, 0.5f), ""),
                                       LLVMBuildFCmp(B, LLVMRealOGT, q, zero, ""), "");
        LLVMValueRef dn = LLVMBuildAnd(B, LLVMBuildFCmp(B, LLVMRealOEQ, d, F32(x, -0.5f), ""),
                                       LLVMBuildFCmp(B, LLVMRealOLT, q, zero, ""), "");
        r = LLVMBuildSub(B, LLVMBuildAdd(B, r, LLVMBuildZExt(B, up, ti, ""), ""), LLVMBuildZExt(B, dn, ti, ""), "");
    }
    r = add_zp_clamp_i32(cg, r, I32(x, zp), I32(x, lo), I32(x, hi));
    return LLVMBuildSelect(B, nan, I32(x, nanv), r, "q");
}

LLVMValueRef cg_outstage(Cg *cg, LLVMValueRef acc, const OutStage *st, int64_t nch, LLVMValueRef c, int rounding)
{
    LLVMValueRef zp, lo, hi, v;
    if (nch == 1) {
        zp = cg_i32(cg, st[0].zp);
        lo = cg_i32(cg, st[0].lo);
        hi = cg_i32(cg, st[0].hi);
    } else {
        int32_t *t = xmalloc((size_t)nch * 3 * sizeof *t);
        for (int64_t k = 0; k < nch; k++) {
            t[k] = st[k].zp;
            t[nch + k] = (int32_t)st[k].lo;
            t[2 * nch + k] = (int32_t)st[k].hi;
        }
        LLVMValueRef tab = cg_table_i32(cg, t, nch * 3, "stage");
        free(t);
        zp = cg_load_int(cg, DT_I32, tab, c);
        lo = cg_load_int(cg, DT_I32, tab, LLVMBuildAdd(B, c, cg_idx(cg, nch), ""));
        hi = cg_load_int(cg, DT_I32, tab, LLVMBuildAdd(B, c, cg_idx(cg, 2 * nch), ""));
    }
    if (rounding == ROUND_TFLITE) {
        LLVMValueRef a32 = LLVMTypeOf(acc) == cg->t_i32 ? acc : LLVMBuildTrunc(B, acc, cg->t_i32, "");
        if (nch == 1) {
            v = cg_mbqm(cg, a32, st[0].mult, st[0].shift);
        } else {
            int32_t *t = xmalloc((size_t)nch * 2 * sizeof *t);
            for (int64_t k = 0; k < nch; k++) {
                t[k] = st[k].mult;
                t[nch + k] = st[k].shift;
            }
            LLVMValueRef tab = cg_table_i32(cg, t, nch * 2, "mult");
            free(t);
            LLVMValueRef m = cg_load_int(cg, DT_I32, tab, c);
            LLVMValueRef s = cg_load_int(cg, DT_I32, tab, LLVMBuildAdd(B, c, cg_idx(cg, nch), ""));
            v = cg_mbqm_dyn(cg, a32, m, s);
        }
        return cg_requant_tail_i32(cg, v, cg_stage_small(st, nch), zp, lo, hi);
    } else {
        LLVMValueRef m;
        if (nch == 1) {
            m = cg_f64(cg, st[0].m);
        } else {
            double *t = xmalloc((size_t)nch * sizeof *t);
            for (int64_t k = 0; k < nch; k++)
                t[k] = st[k].m;
            LLVMValueRef tab = cg_table_f64(cg, t, nch, "m");
            free(t);
            LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_f64, tab, &c, 1, "");
            m = LLVMBuildLoad2(B, cg->t_f64, p, "");
        }
        v = cg_rne_prod(cg, acc, m);
    }
    return cg_add_zp_clamp(cg, v, zp, lo, hi);
}

/* SaturatingRoundingMultiplyByPOT<E> for E > 0 (fixedpoint.c's sat_shl). */
static LLVMValueRef sat_shl(Cg *cg, LLVMValueRef x, int e)
{
    int32_t th = (int32_t)((INT64_C(1) << (31 - e)) - 1);
    LLVMValueRef r = LLVMBuildShl(B, x, cg_i32(cg, e), "");
    r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, x, cg_i32(cg, -th), ""), cg_i32(cg, INT32_MIN), r, "");
    return LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSGT, x, cg_i32(cg, th), ""), cg_i32(cg, INT32_MAX), r, "");
}

/* fp_softmax_reciprocal and fp_softmax_output's exponent on a row's sum
 * (i32 scalar, > 0): GetReciprocal(sum, 12) in gemmlowp's fixed point
 * (ctlz of a positive sum is at most 12), *EXC the output's rounding
 * exponent clamped to 31 and *BIG true when it exceeds 31 (every output
 * of the row is then 0 before the -128). */
LLVMValueRef cg_softmax_recip(Cg *cg, LLVMValueRef s, LLVMValueRef *exc, LLVMValueRef *big)
{
    LLVMTypeRef ct_args[2] = {cg->t_i32, LLVMInt1TypeInContext(cg->ctx)};
    LLVMTypeRef ct = LLVMFunctionType(cg->t_i32, ct_args, 2, 0);
    LLVMValueRef ctlz = LLVMGetNamedFunction(cg->mod, "llvm.ctlz.i32");
    if (!ctlz)
        ctlz = LLVMAddFunction(cg->mod, "llvm.ctlz.i32", ct);
    LLVMValueRef cargs[2] = {s, LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 0, 0)};
    LLVMValueRef hp1 = LLVMBuildCall2(B, ct, ctlz, cargs, 2, "");
    LLVMValueRef bits = LLVMBuildSub(B, cg_i32(cg, 12), hp1, "bits");
    LLVMValueRef a = LLVMBuildSub(B, LLVMBuildShl(B, s, hp1, ""), cg_i32(cg, INT32_MIN), "");
    LLVMValueRef hs = LLVMBuildAdd(B, LLVMBuildSExt(B, a, cg->t_i64, ""), cg_i64(cg, INT32_MAX), "");
    LLVMValueRef sg = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSGE, hs, cg_i64(cg, 0), ""), cg_i64(cg, 1),
                                      cg_i64(cg, -1), "");
    LLVMValueRef half = LLVMBuildTrunc(B, LLVMBuildSDiv(B, LLVMBuildAdd(B, hs, sg, ""), cg_i64(cg, 2), ""),
                                       cg->t_i32, "");
    LLVMValueRef r = LLVMBuildAdd(B, cg_i32(cg, 1515870810), cg_srdhm(cg, half, cg_i32(cg, -1010580540)), "");
    for (int i = 0; i < 3; i++) {
        LLVMValueRef om = LLVMBuildSub(B, cg_i32(cg, INT32_C(1) << 29), cg_srdhm(cg, half, r), "");
        r = LLVMBuildAdd(B, r, sat_shl(cg, cg_srdhm(cg, r, om), 2), "");
    }
    LLVMValueRef ex = LLVMBuildAdd(B, bits, cg_i32(cg, 23), "");
    *big = LLVMBuildICmp(B, LLVMIntSGT, ex, cg_i32(cg, 31), "");
    *exc = LLVMBuildSelect(B, *big, cg_i32(cg, 31), ex, "");
    return sat_shl(cg, r, 1);
}
