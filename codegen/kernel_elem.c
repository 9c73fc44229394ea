/* kernel_elem.c - TFLite int8 add, sub and mul of 8-bit operands as a
 * 16-lane vector loop over the innermost merged dim (portable vector IR,
 * legalized by LLVM for every target), bit-exact with the interpreter
 * (ir/interp_elem.c, binary).  Named by the arithmetic it chose:
 *   elem_affine16 - add/sub as one exact affine form (add_fit);
 *   elem_affine16_fix - the same form exact but for a few operand pairs,
 *                   whose results the loop sets by comparison;
 *   elem_affine_wdV (_fix) - x86-64: the same form as pmaddwd/vpdpwssd on
 *                   word pairs, V bytes a step (lower_affine_wd);
 *   elem_add16    - add/sub in the interpreter's steps, the input
 *                   rescales in 32 bits (add_rescale), the output's
 *                   doubling high multiply on i64 lanes;
 *   elem_mul16    - mul with its rescale in 32 bits (mul_rescale);
 *   elem_mul_row16 - mul by an operand that repeats one row, as an
 *                   exact affine form in the other per value of it
 *                   (mul_row_fit), but for a few x per value;
 *   elem_mul_rowhV - the same in 16-bit lanes, V bytes a step
 *                   (mul_rowh_fit);
 *   elem_mul_lutV - any other mul of two runs (or of a run by a value
 *                   broadcast along it) in that 16-bit form, the
 *                   parameters looked up per element by the target's
 *                   byte lookup (KLut), V its lanes.
 * Anything else (other ops, wider or float operands, onnx rounding,
 * per-axis quantization, an operand striding the innermost dim by more
 * than 1, runs shorter than a vector, parameters TFLite cannot represent)
 * is left to the generic loops in lower_elem.c, which report the errors.
 *
 * Why add_rescale and mul_rescale are not requant_bound.c's planned
 * output stage (rqb_plan), though all three compute the same MBQM in
 * 32-bit lanes: rqb bounds x = acc << l and splits the multiplier into
 * digits with |x| * digit < 2^31.  ADD's input is x = d * 2^20 with
 * |d| <= 255, so |x| < 2^28 would need 3-bit digits and rqb_plan (at
 * most RQB_MAX_DIGITS = 4 digits) refuses it, where add_rescale
 * multiplies d itself by the multiplier's 11-bit and 20-bit halves and
 * folds the 2^20 into the shift.  MUL's |p| <= 65025 gives rqb 15-bit
 * digits, three multiplies plus its sign threshold, where
 * mul_rescale's unsigned low half needs two and folds the RDBPOT in
 * (mul_fuses).  Sharing rqb would make the elementwise loops slower and
 * change their code on every target, so each keeps the form its bound
 * allows (checked against the interpreter by glue.qir on every target).
 */
#include "codegen.h"
#include "kernel_int8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

typedef enum { BIN_ADD, BIN_SUB, BIN_MUL } BinaryKind;

/* ------------------------------------------------------------ binary, vectorized */

/* Lanes of the vector loop of the int8 binary ops: 16 bytes of each
 * operand, 16 i32 lanes of arithmetic (the srdhm's products on i64);
 * LLVM splits them into the target's registers (4 xmm on SSE2, one zmm on
 * AVX-512, 4 q registers on NEON, LMUL groups on RVV). */
enum { BIN_LANES = 16 };

/* The integer constant V shaped like LIKE (i32 lanes, or bytes): a
 * cg_splat of it for a vector, else the scalar (the tail loops run the
 * same steps one element at a time). */
static LLVMValueRef int_like(Cg *cg, LLVMValueRef like, int64_t v)
{
    LLVMTypeRef t = LLVMTypeOf(like);
    bool vec = LLVMGetTypeKind(t) == LLVMVectorTypeKind;
    LLVMValueRef c = LLVMConstInt(vec ? LLVMGetElementType(t) : t, (unsigned long long)v, 1);
    return vec ? cg_splat(cg, c, LLVMGetVectorSize(t)) : c;
}

/* TFLite's int8 add/sub/mul of two i32 values or vectors X and Z (the
 * stored integers), the interpreter's steps: zero points off, the
 * rescaling of each side (add, sub) or of the product (mul), the output
 * zero point and the clamp.  The clamp comes before the zero point
 * (clamp(r, lo - zp, hi - zp) + zp == clamp(r + zp, lo, hi) for the i32
 * r here) so nothing needs 64 bits. */
/* Most pairs the affine form of an add/sub may get wrong (add_fit). */
enum { FIT_FIXES = 4 };

typedef struct BinQ {
    BinaryKind kind;
    QParam ap, bp, yp;
    int32_t mult;
    int shift;
    TfliteAdd t;
    int64_t lo, hi;
    /* add/sub as one affine form, see add_fit: y = clamp((x*fa + z*fb + fc) >> fr, lo, hi)
     * on the stored integers x, z. */
    bool fit;
    int32_t fa, fb, fc;
    int fr;
    /* ... but for the pairs (fix_x, fix_z), whose result is fix_y. */
    int nfix;
    int32_t fix_x[FIT_FIXES], fix_z[FIT_FIXES], fix_y[FIT_FIXES];
    /* mul: mul_rescale's right shift folded into its 32-bit quotient. */
    bool mul_fused;
} BinQ;

/* The interpreter's tflite add/sub/mul (ir/interp_elem.c, binary) of the
 * stored integers X and Z: false where it would fail (a sum or product
 * past int32). */
static bool binq_ref(const BinQ *q, int64_t x, int64_t z, int64_t *y)
{
    int64_t v;
    if (q->kind == BIN_MUL) {
        int64_t p = (x - q->ap.zp) * (z - q->bp.zp);
        if (p < INT32_MIN || p > INT32_MAX)
            return false;
        v = fp_mul_by_quantized_multiplier((int32_t)p, q->mult, q->shift);
    } else {
        int32_t xa = (int32_t)((uint32_t)(x - q->ap.zp) << TFLITE_ADD_LEFT_SHIFT);
        int32_t xb = (int32_t)((uint32_t)(z - q->bp.zp) << TFLITE_ADD_LEFT_SHIFT);
        int64_t sa = fp_mul_by_quantized_multiplier(xa, q->t.ma, q->t.sha);
        int64_t sb = fp_mul_by_quantized_multiplier(xb, q->t.mb, q->t.shb);
        int64_t sum = q->kind == BIN_SUB ? sa - sb : sa + sb;
        if (sum < INT32_MIN || sum > INT32_MAX)
            return false;
        v = fp_mul_by_quantized_multiplier((int32_t)sum, q->t.mo, q->t.sho);
    }
    *y = fp_clamp_i64(v + q->yp.zp, q->lo, q->hi);
    return true;
}

/* TFLite ADD/SUB of two 8-bit operands is a function of 65,536 pairs
 * that is, up to three roundings 2^-19 of an output step apart, the floor
 * of an affine form a*x + b*z + c of the stored integers.  add_fit looks
 * for 32-bit integers with
 *   clamp((x*fa + z*fb + fc) >> fr, lo, hi) == the interpreter's result
 * for every pair of the operands' dtypes but at most FIT_FIXES of them,
 * whose results the loop then sets by comparing x and z with them
 * (checked exhaustively here, at compile time, against binq_ref, the
 * interpreter's own arithmetic), with x*fa + z*fb + fc inside int32 at
 * the four corners of the domain (the form is affine, so everywhere).
 * fr is as large as int32 allows (about 22 for unit slopes); fa and fb
 * are tried within a few units of the real slopes times 2^fr, and for
 * each the pairs bound fc from both sides (from below where the result
 * is above lo, from above where it is under hi): any fc in between is
 * exact.  Where the roundings or the slopes' precision leave no such fc
 * (a rounding tie, a pair within 2^-19 of a step), the pairs whose
 * bounds cut the interval are the exceptions: fc is taken among the
 * FIT_FIXES + 1 highest lower bounds and lowest upper bounds, the one
 * that leaves the fewest pairs wrong.  More than FIT_FIXES wrong pairs
 * (a tie on every other input) and the node keeps the stepwise 32/64-bit
 * path. */
enum { FIT_WINDOW = 3 };

/* Inserts V (pair K) into the N-long list TOP kept in descending order of
 * SIGN * value (the highest lower bounds: SIGN 1; the lowest upper: -1). */
static void fit_keep(int64_t (*top)[2], int n, int *len, int64_t v, int64_t k, int sign)
{
    if (*len == n && sign * v <= sign * top[n - 1][0])
        return;
    int i = *len < n ? (*len)++ : n - 1;
    for (; i > 0 && sign * top[i - 1][0] < sign * v; i--)
        top[i][0] = top[i - 1][0], top[i][1] = top[i - 1][1];
    top[i][0] = v, top[i][1] = k;
}

/* The values of fc to try given the highest lower bounds LOS and lowest
 * upper bounds HIS (NLO, NHI of them, the tightest first): the middle of
 * the interval where it is not empty, else every bound (each leaves only
 * the pairs that set the bounds beyond it wrong).  Returns how many. */
static int fc_candidates(const int64_t (*los)[2], int nlo, const int64_t (*his)[2], int nhi, int64_t *cand)
{
    int64_t clo = nlo ? los[0][0] : INT64_MIN / 4, chi = nhi ? his[0][0] : INT64_MAX / 4;
    int nc = 0;
    if (clo <= chi) {
        cand[nc++] = clo == INT64_MIN / 4 ? chi : chi == INT64_MAX / 4 ? clo : clo + (chi - clo) / 2;
    } else {
        for (int j = 0; j < nlo; j++)
            cand[nc++] = los[j][0];
        for (int j = 0; j < nhi; j++)
            cand[nc++] = his[j][0];
    }
    return nc;
}

/* The pairs (as i * nz + k) the form (fa, fb, fc, r) gets wrong against
 * the table T, into FIX (at most FIT_FIXES), or -1 for more or when the
 * form leaves int32 at a corner. */
static int fit_misses(const BinQ *q, const int16_t *t, int64_t xlo, int64_t xhi, int64_t zlo, int64_t zhi, int64_t fa,
                      int64_t fb, int64_t fc, int r, int64_t *fix)
{
    for (int c = 0; c < 4; c++) {
        int64_t v = (c & 1 ? xhi : xlo) * fa + (c & 2 ? zhi : zlo) * fb + fc;
        if (v <= INT32_MIN || v >= INT32_MAX)
            return -1;
    }
    int64_t nx = xhi - xlo + 1, nz = zhi - zlo + 1;
    int miss = 0;
    for (int64_t i = 0; i < nx; i++)
        for (int64_t k = 0; k < nz; k++) {
            /* Belt and braces: the form as the generated code computes it. */
            int32_t v = (int32_t)((xlo + i) * fa + (zlo + k) * fb + fc);
            if (fp_clamp_i64(v >> r, q->lo, q->hi) == t[i * nz + k])
                continue;
            if (miss == FIT_FIXES)
                return -1;
            fix[miss++] = i * nz + k;
        }
    return miss;
}

static bool add_fit(BinQ *q, DType ad, DType bd, int rmax)
{
    int64_t xlo = dtype_traits[ad].min, xhi = dtype_traits[ad].max;
    int64_t zlo = dtype_traits[bd].min, zhi = dtype_traits[bd].max;
    int64_t nx = xhi - xlo + 1, nz = zhi - zlo + 1;
    if (q->kind == BIN_MUL || nx > 256 || nz > 256 || q->lo > q->hi)
        return false;
    int16_t *t = malloc((size_t)(nx * nz) * sizeof *t);
    bool ok = t != NULL;
    for (int64_t i = 0; ok && i < nx; i++)
        for (int64_t k = 0; ok && k < nz; k++) {
            int64_t y = 0;
            ok = binq_ref(q, xlo + i, zlo + k, &y);
            t[i * nz + k] = (int16_t)y;
        }
    /* The real slopes of the integer pipeline, output steps per input step. */
    double so = ldexp((double)q->t.mo, q->t.sho - 31);
    double al = ldexp((double)q->t.ma, q->t.sha - 31 + TFLITE_ADD_LEFT_SHIFT) * so;
    double be = ldexp((double)q->t.mb, q->t.shb - 31 + TFLITE_ADD_LEFT_SHIFT) * so;
    if (q->kind == BIN_SUB)
        be = -be;
    /* The form's largest magnitude, at a corner, in output steps (and one
     * more for fc's choice). */
    double c0 = (double)q->yp.zp - al * (double)q->ap.zp - be * (double)q->bp.zp, bound = 0;
    for (int c = 0; c < 4; c++) {
        double v = fabs(al * (double)(c & 1 ? xhi : xlo) + be * (double)(c & 2 ? zhi : zlo) + c0) + 2;
        bound = v > bound ? v : bound;
    }
    int r = 0;
    while (r < rmax && ldexp(bound, r + 1) < 0x1p31)
        r++;
    int64_t a0 = llround(ldexp(al, r)), b0 = llround(ldexp(be, r)), one = INT64_C(1) << r;
    int best = FIT_FIXES + 1;
    int64_t bfa = 0, bfb = 0, bfc = 0, bfix[FIT_FIXES], fix[FIT_FIXES];
    for (int w = 0; ok && best > 0 && w <= 2 * FIT_WINDOW; w++)
        for (int da = -FIT_WINDOW; best > 0 && da <= FIT_WINDOW; da++)
            for (int db = -FIT_WINDOW; best > 0 && db <= FIT_WINDOW; db++) {
                if (abs(da) + abs(db) != w)
                    continue; /* nearest to the real slopes first */
                int64_t fa = a0 + da, fb = b0 + db;
                /* The FIT_FIXES + 1 highest lower and lowest upper bounds. */
                int64_t los[FIT_FIXES + 1][2], his[FIT_FIXES + 1][2];
                int nlo = 0, nhi = 0;
                for (int64_t i = 0; i < nx; i++)
                    for (int64_t k = 0; k < nz; k++) {
                        int64_t y = t[i * nz + k], v = (xlo + i) * fa + (zlo + k) * fb;
                        if (y > q->lo)
                            fit_keep(los, FIT_FIXES + 1, &nlo, y * one - v, i * nz + k, 1);
                        if (y < q->hi)
                            fit_keep(his, FIT_FIXES + 1, &nhi, (y + 1) * one - 1 - v, i * nz + k, -1);
                    }
                int64_t cand[2 * FIT_FIXES + 3];
                int nc = fc_candidates((const int64_t (*)[2])los, nlo, (const int64_t (*)[2])his, nhi, cand);
                for (int j = 0; j < nc; j++) {
                    int m = fit_misses(q, t, xlo, xhi, zlo, zhi, fa, fb, cand[j], r, fix);
                    if (m < 0 || m >= best)
                        continue;
                    best = m, bfa = fa, bfb = fb, bfc = cand[j];
                    memcpy(bfix, fix, (size_t)m * sizeof *fix);
                }
            }
    if (ok && best <= FIT_FIXES) {
        q->fit = true;
        q->fa = (int32_t)bfa, q->fb = (int32_t)bfb, q->fc = (int32_t)bfc, q->fr = r;
        q->nfix = best;
        for (int j = 0; j < best; j++) {
            q->fix_x[j] = (int32_t)(xlo + bfix[j] / nz);
            q->fix_z[j] = (int32_t)(zlo + bfix[j] % nz);
            q->fix_y[j] = t[bfix[j]];
        }
    }
    free(t);
    return q->fit;
}

/* TFLite ADD's input rescale MBQM(d * 2^20, mult, shift) of an 8-bit
 * operand less its zero point (|d| <= 255) in 32-bit steps, for
 * 0 <= mult < 2^31 and shift <= 0 (no left shift).  SRDHM(d * 2^20, mult)
 * is (d * mult * 2^20 + nudge) / 2^31 truncated, which for Q = |d| * mult
 * is floor((Q + 1024) / 2^11) when d >= 0 and -floor((Q + 1023) / 2^11)
 * when d < 0 (the nudge's 1 - 2^30 for a negative product); with
 * mult = mh * 2^11 + ml that is |d| * mh + ((|d| * ml + 1024 - [d < 0]) >> 11),
 * both products below 2^28.  Then RDBPOT by -shift as before.  Checked
 * against fp_srdhm for every d and thousands of multipliers when it was
 * written; glue.qir's tflite adds hold it bit-exact on every target. */
static LLVMValueRef add_rescale(Cg *cg, LLVMValueRef d, int32_t mult, int shift)
{
#define K(v) int_like(cg, d, (v))
    LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, d, K(0), "");
    LLVMValueRef ad = LLVMBuildSelect(B, neg, LLVMBuildNeg(B, d, ""), d, "");
    LLVMValueRef lo = LLVMBuildMul(B, ad, K(mult & 0x7ff), "");
    lo = LLVMBuildSub(B, LLVMBuildAdd(B, lo, K(1024), ""), LLVMBuildZExt(B, neg, LLVMTypeOf(d), ""), "");
    LLVMValueRef r = LLVMBuildAdd(B, LLVMBuildMul(B, ad, K(mult >> 11), ""), LLVMBuildAShr(B, lo, K(11), ""), "");
    r = LLVMBuildSelect(B, neg, LLVMBuildNeg(B, r, ""), r, "");
    return -shift ? cg_rdbpot(cg, r, K(-shift)) : r;
#undef K
}

/* TFLite MUL's MBQM(p, mult, shift) of the product p of two 8-bit
 * operands less their zero points (|p| <= 255 * 255 = 65025), for
 * 0 <= mult < 2^31 and shift <= 0, in 32-bit steps.  SRDHM(p, mult) is
 * sign(p) * floor((|p| * mult + 2^30 - [p < 0]) / 2^31) (gemmlowp's nudge,
 * as in add_rescale).  With mult = mh * 2^16 + ml (mh < 2^15, ml < 2^16)
 * and the nudge written (2^14 - [p<0]) * 2^16 + [p<0] * (2^16 - 1):
 *   lo = |p| * ml + [p<0] * (2^16 - 1) <= 65026 * 65535 < 2^32 (unsigned),
 *   hi = |p| * mh + 2^14 - [p<0] + (lo >> 16) < 65025 * 32767 + 2^17 < 2^31,
 * and |p| * mult + nudge = hi * 2^16 + (lo mod 2^16), so the quotient by
 * 2^31 is hi >> 15.  Then RDBPOT by -shift as before.  glue.qir's %me
 * reaches |p| = 65025 with a multiplier near 2^31. */
/* FUSED (mul_fuses): the RDBPOT by e = -shift folded into the quotient.
 * RDBPOT rounds ties away from zero, so it commutes with the sign and,
 * on the magnitude mag = floor(hi / 2^15), is
 * floor((mag + 2^(e-1)) / 2^e) = floor((hi + 2^(14+e)) / 2^(15+e)): one
 * constant more in hi and one shift, where hi + 2^(14+e) stays below 2^32
 * (unsigned) for the node's largest |p|. */
static LLVMValueRef mul_rescale(Cg *cg, LLVMValueRef p, int32_t mult, int shift, bool fused)
{
#define K(v) int_like(cg, p, (v))
    int e = fused ? -shift : 0;
    LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, p, K(0), "");
    LLVMValueRef n1 = LLVMBuildZExt(B, neg, LLVMTypeOf(p), "");
    LLVMValueRef ap = LLVMBuildSelect(B, neg, LLVMBuildNeg(B, p, ""), p, "");
    LLVMValueRef lo = LLVMBuildAdd(B, LLVMBuildMul(B, ap, K(mult & 0xffff), ""), LLVMBuildMul(B, n1, K(0xffff), ""), "");
    int64_t nudge = (INT64_C(1) << 14) + (e ? INT64_C(1) << (14 + e) : 0);
    LLVMValueRef hi = LLVMBuildAdd(B, LLVMBuildMul(B, ap, K(mult >> 16), ""), LLVMBuildSub(B, K((int32_t)(uint32_t)nudge), n1, ""), "");
    hi = LLVMBuildAdd(B, hi, LLVMBuildLShr(B, lo, K(16), ""), "");
    LLVMValueRef mag = LLVMBuildLShr(B, hi, K(15 + e), "");
    LLVMValueRef r = LLVMBuildSelect(B, neg, LLVMBuildNeg(B, mag, ""), mag, "");
    return -shift && !fused ? cg_rdbpot(cg, r, K(-shift)) : r;
#undef K
}

/* Whether mul_rescale can fold the node's right shift: 15 + e <= 31 and
 * |p| * mh + 2^14 + 2^16 + 2^(14+e) < 2^32 for the largest |p| of its
 * operands' dtypes and zero points. */
static bool mul_fuses(const BinQ *q, DType ad, DType bd)
{
    int e = -q->shift;
    if (q->kind != BIN_MUL || q->mult < 0 || e < 1 || e > 16)
        return false;
    int64_t za = q->ap.zp, zb = q->bp.zp;
    int64_t da = llabs(dtype_traits[ad].min - za) > llabs(dtype_traits[ad].max - za) ? llabs(dtype_traits[ad].min - za)
                                                                                    : llabs(dtype_traits[ad].max - za);
    int64_t db = llabs(dtype_traits[bd].min - zb) > llabs(dtype_traits[bd].max - zb) ? llabs(dtype_traits[bd].min - zb)
                                                                                    : llabs(dtype_traits[bd].max - zb);
    if (da * db > 65025)
        return false; /* mul_rescale's own bound */
    return da * db * (q->mult >> 16) + (1 << 14) + (1 << 16) + (INT64_C(1) << (14 + e)) < (INT64_C(1) << 32);
}

/* V with the result of each of add_fit's fixed pairs where X and Z are
 * that pair (X, Z and V of one type: i32 lanes, or the stored bytes). */
static LLVMValueRef fix_pairs(Cg *cg, const BinQ *q, LLVMValueRef x, LLVMValueRef z, LLVMValueRef v)
{
    for (int j = 0; j < q->nfix; j++) {
        LLVMValueRef ex = LLVMBuildICmp(B, LLVMIntEQ, x, int_like(cg, x, q->fix_x[j]), "");
        LLVMValueRef ez = LLVMBuildICmp(B, LLVMIntEQ, z, int_like(cg, z, q->fix_z[j]), "");
        v = LLVMBuildSelect(B, LLVMBuildAnd(B, ex, ez, ""), int_like(cg, v, q->fix_y[j]), v, "");
    }
    return v;
}

static LLVMValueRef binq_apply(Cg *cg, const BinQ *q, LLVMValueRef x, LLVMValueRef z)
{
#define K(v) int_like(cg, x, (v))
    if (q->fit) {
        LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, x, K(q->fa), ""), LLVMBuildMul(B, z, K(q->fb), ""), "");
        v = LLVMBuildAShr(B, LLVMBuildAdd(B, v, K(q->fc), ""), K(q->fr), "");
        return fix_pairs(cg, q, x, z, cg_smin(cg, cg_smax(cg, v, K(q->lo)), K(q->hi)));
    }
    LLVMValueRef xa = LLVMBuildSub(B, x, K(q->ap.zp), ""), xb = LLVMBuildSub(B, z, K(q->bp.zp), ""), r;
    if (q->kind == BIN_MUL) {
        if (q->mult >= 0 && q->shift <= 0)
            r = mul_rescale(cg, LLVMBuildMul(B, xa, xb, ""), q->mult, q->shift, q->mul_fused);
        else
            r = cg_mbqm_dyn(cg, LLVMBuildMul(B, xa, xb, ""), K(q->mult), K(q->shift));
    } else {
        LLVMValueRef ra, rb;
        if (q->t.ma >= 0 && q->t.sha <= 0 && TFLITE_ADD_LEFT_SHIFT == 20)
            ra = add_rescale(cg, xa, q->t.ma, q->t.sha);
        else
            ra = cg_mbqm_dyn(cg, LLVMBuildShl(B, xa, K(TFLITE_ADD_LEFT_SHIFT), ""), K(q->t.ma), K(q->t.sha));
        if (q->t.mb >= 0 && q->t.shb <= 0 && TFLITE_ADD_LEFT_SHIFT == 20)
            rb = add_rescale(cg, xb, q->t.mb, q->t.shb);
        else
            rb = cg_mbqm_dyn(cg, LLVMBuildShl(B, xb, K(TFLITE_ADD_LEFT_SHIFT), ""), K(q->t.mb), K(q->t.shb));
        LLVMValueRef sum = q->kind == BIN_SUB ? LLVMBuildSub(B, ra, rb, "") : LLVMBuildAdd(B, ra, rb, "");
        r = cg_mbqm_dyn(cg, sum, K(q->t.mo), K(q->t.sho));
    }
    r = cg_smin(cg, cg_smax(cg, r, K(q->lo - q->yp.zp)), K(q->hi - q->yp.zp));
    return LLVMBuildAdd(B, r, K(q->yp.zp), "");
#undef K
}

/* BIN_LANES consecutive bytes of an 8-bit operand at BUF + OFF widened to
 * i32 lanes, or element OFF broadcast when the operand does not move
 * along the innermost dim (STRIDE 0). */
static LLVMValueRef load_lanes(Cg *cg, DType dt, LLVMValueRef buf, LLVMValueRef off, int64_t stride)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, BIN_LANES);
    if (stride == 0) {
        LLVMValueRef s = cg_load_int(cg, dt, buf, off);
        LLVMValueRef v = LLVMBuildInsertElement(B, LLVMGetUndef(vt), s, cg_i32(cg, 0), "");
        return LLVMBuildShuffleVector(B, v, LLVMGetUndef(vt), LLVMConstNull(vt), "");
    }
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, BIN_LANES);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i8, buf, &off, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(B, bt, p, "");
    LLVMSetAlignment(v, 1);
    return dt == DT_U8 ? LLVMBuildZExt(B, v, vt, "") : LLVMBuildSExt(B, v, vt, "");
}

/* The int8 add/sub/mul as a vector loop over the innermost merged dim
 * (BIN_LANES at a time, then the rest one by one through the same
 * binq_apply).  False, emitting nothing, when the shapes do not suit it:
 * an operand that strides the innermost dim by other than 0 or 1, or an
 * innermost run shorter than a vector. */
static bool lower_binary_vec(Cg *cg, const Node *n, const BinQ *q, int64_t (*st)[QNN_MAX_RANK])
{
    const TensorType *yt = &n->result->type;
    DType ad = n->operands[0]->type.dtype, bd = n->operands[1]->type.dtype, yd = yt->dtype;
    int64_t md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    int m = cg_merge_dims(yt->rank, yt->dims, st, 3, md, ms);
    int64_t len = md[m - 1], sa = ms[0][m - 1], sb = ms[1][m - 1];
    if (len < BIN_LANES || sa > 1 || sb > 1 || ms[2][m - 1] != 1)
        return false;
    LLVMValueRef a = cg_buf(cg, n->operands[0]), b = cg_buf(cg, n->operands[1]), y = cg_buf(cg, n->result);
    CgNest nest;
    cg_nest_begin(cg, &nest, m - 1, md);
    LLVMValueRef oa = cg_nest_offset(cg, &nest, ms[0]), ob = cg_nest_offset(cg, &nest, ms[1]);
    LLVMValueRef oy = cg_nest_offset(cg, &nest, ms[2]);
    int64_t nv = len / BIN_LANES;
    CgLoop lv, lr;
    LLVMValueRef j = LLVMBuildMul(B, cg_for_begin(cg, &lv, nv, "v"), cg_idx(cg, BIN_LANES), "");
    LLVMValueRef ia = sa ? LLVMBuildAdd(B, oa, j, "") : oa, ib = sb ? LLVMBuildAdd(B, ob, j, "") : ob;
    LLVMValueRef r = binq_apply(cg, q, load_lanes(cg, ad, a, ia, sa), load_lanes(cg, bd, b, ib, sb));
    LLVMValueRef py = LLVMBuildInBoundsGEP2(B, cg->t_i8, y, (LLVMValueRef[]){LLVMBuildAdd(B, oy, j, "")}, 1, "");
    LLVMValueRef sv = LLVMBuildStore(B, LLVMBuildTrunc(B, r, LLVMVectorType(cg->t_i8, BIN_LANES), ""), py);
    LLVMSetAlignment(sv, 1);
    cg_for_end(cg, &lv);
    if (len % BIN_LANES) {
        j = LLVMBuildAdd(B, cg_for_begin(cg, &lr, len % BIN_LANES, "t"), cg_idx(cg, nv * BIN_LANES), "");
        ia = sa ? LLVMBuildAdd(B, oa, j, "") : oa, ib = sb ? LLVMBuildAdd(B, ob, j, "") : ob;
        r = binq_apply(cg, q, cg_load_int(cg, ad, a, ia), cg_load_int(cg, bd, b, ib));
        cg_store_int(cg, yd, y, LLVMBuildAdd(B, oy, j, ""), r);
        cg_for_end(cg, &lr);
    }
    cg_nest_end(cg, &nest);
    return true;
}

/* ------------------------------------------------------------ mul by a row-constant operand */

/* A mul whose operand Z repeats one row along the innermost merged dim
 * (MobileNetV3's squeeze-excite scale [1,1,1,C] against [1,H,W,C]) is, for
 * each value of z, a function of the other operand x alone.  mul_row_fit
 * finds for every z of Z's dtype an exact affine form in x,
 *   y = clamp((x * fa[z] + fc[z]) >> fr, lo, hi) == the interpreter's result
 * for all 256 x but at most ROW_FIXES of them, whose results the loop sets
 * by comparison (checked exhaustively against binq_ref; the slopes tried
 * within FIT_WINDOW units of the real slope times 2^fr, fc in the interval
 * the 256 results leave or, where the double rounding (SRDHM, then
 * RDBPOT's ties away from zero) empties it, among its ROW_FIXES + 1
 * tightest bounds, as add_fit does in two dimensions), with x * fa + fc
 * inside int32 at both ends.  The loop looks fa, fc and the fixed pairs up
 * once per row element (stack rows of i32) and does per element a
 * multiply, an add, a shift, the clamp and a compare per fix slot the
 * node needs, where elem_mul16 takes three multiplies and the rounding
 * steps.  A z with more misses keeps the node on elem_mul16.  Each fix
 * slot costs two row loads, a compare and a select per vector; with the
 * loads shared by ROW_BLOCK rows of x (lower_mul_rows) two slots pay
 * (MobileNetV3's 8x8x384 SE mul whose z = 46 needs two: 6,400 ticks on
 * elem_mul16, 4,050 here), where without the blocks they had not (0.85x). */
enum { MUL_ROW_MAX = 1024, ROW_FIXES = 2, ROW_BLOCK = 4, ROW_STACK = 16384 }; /* stack rows: at most ROW_STACK bytes */

typedef struct MulRow {
    int zop;          /* the row-constant operand, 0 or 1 */
    int fr, nfix;     /* nfix: the most fixed x of any z */
    int32_t fa[256], fc[256];
    int32_t fx[ROW_FIXES][256], fy[ROW_FIXES][256]; /* INT32_MIN: no fix */
} MulRow;

/* The x (of Y[0 ..], from XLO) the form gets wrong, into FIX (at most
 * ROW_FIXES), or -1 for more or when the form leaves int32 at an end. */
static int row_misses(const BinQ *q, const int64_t *y, int64_t xlo, int64_t xhi, int64_t fa, int64_t fc, int fr,
                      int64_t *fix)
{
    int64_t e0 = xlo * fa + fc, e1 = xhi * fa + fc;
    if (e0 <= INT32_MIN || e0 >= INT32_MAX || e1 <= INT32_MIN || e1 >= INT32_MAX || fa != (int32_t)fa)
        return -1;
    int miss = 0;
    for (int64_t x = xlo; x <= xhi; x++) {
        /* Belt and braces: the form as the generated code computes it. */
        if (fp_clamp_i64((int32_t)(x * fa + fc) >> fr, q->lo, q->hi) == y[x - xlo])
            continue;
        if (miss == ROW_FIXES)
            return -1;
        fix[miss++] = x;
    }
    return miss;
}

/* What the row fits (mul_row_fit, mul_rowh_fit) start from: the stored
 * ranges of x and of the row operand z (operand ZOP), their zero points,
 * and the product's real scale M (output steps per unit of
 * (x - xp.zp) * (z - zp.zp)). */
typedef struct RowDom {
    int zop;
    int64_t xlo, xhi, zlo, zhi;
    QParam xp, zp;
    double m;
} RowDom;

static RowDom row_dom(const BinQ *q, DType xd, DType zd, int zop)
{
    return (RowDom){.zop = zop,
                    .xlo = dtype_traits[xd].min,
                    .xhi = dtype_traits[xd].max,
                    .zlo = dtype_traits[zd].min,
                    .zhi = dtype_traits[zd].max,
                    .xp = zop ? q->ap : q->bp,
                    .zp = zop ? q->bp : q->ap,
                    .m = ldexp((double)q->mult, q->shift - 31)};
}

/* The interpreter's result for every x at row value Z, into Y[x - xlo];
 * false where it would fail. */
static bool row_results(const BinQ *q, const RowDom *d, int64_t z, int64_t *y)
{
    for (int64_t x = d->xlo; x <= d->xhi; x++)
        if (!(d->zop ? binq_ref(q, x, z, &y[x - d->xlo]) : binq_ref(q, z, x, &y[x - d->xlo])))
            return false;
    return true;
}

static bool mul_row_fit(const BinQ *q, DType xd, DType zd, int zop, MulRow *r)
{
    RowDom d = row_dom(q, xd, zd, zop);
    int64_t xlo = d.xlo, xhi = d.xhi, zlo = d.zlo, zhi = d.zhi;
    if (q->kind != BIN_MUL || xhi - xlo > 255 || zhi - zlo > 255 || q->lo > q->hi)
        return false;
    QParam xp = d.xp, zp = d.zp;
    double m = d.m, bound = 0;
    for (int64_t z = zlo; z <= zhi; z++) {
        double s = m * (double)(z - zp.zp), c = (double)q->yp.zp - s * (double)xp.zp;
        double v = fmax(fabs(s * (double)xlo + c), fabs(s * (double)xhi + c)) + 2;
        bound = v > bound ? v : bound;
    }
    int fr = 0;
    while (fr < 30 && ldexp(bound, fr + 1) < 0x1p31)
        fr++;
    r->zop = zop, r->fr = fr, r->nfix = 0;
    int64_t one = INT64_C(1) << fr, y[256], fix[ROW_FIXES], bfix[ROW_FIXES];
    for (int64_t z = zlo; z <= zhi; z++) {
        if (!row_results(q, &d, z, y))
            return false;
        int64_t a0 = llround(ldexp(m * (double)(z - zp.zp), fr));
        int best = ROW_FIXES + 1;
        for (int w = 0; best > 0 && w <= 2 * FIT_WINDOW; w++) {
            int64_t fa = a0 + (w & 1 ? (w + 1) / 2 : -(w / 2));
            /* The ROW_FIXES + 1 highest lower and lowest upper bounds of fc. */
            int64_t los[ROW_FIXES + 1][2], his[ROW_FIXES + 1][2];
            int nlo = 0, nhi = 0;
            for (int64_t x = xlo; x <= xhi; x++) {
                int64_t t = y[x - xlo];
                if (t > q->lo)
                    fit_keep(los, ROW_FIXES + 1, &nlo, t * one - x * fa, x, 1);
                if (t < q->hi)
                    fit_keep(his, ROW_FIXES + 1, &nhi, (t + 1) * one - 1 - x * fa, x, -1);
            }
            int64_t cand[2 * ROW_FIXES + 3];
            int nc = fc_candidates((const int64_t (*)[2])los, nlo, (const int64_t (*)[2])his, nhi, cand);
            for (int j = 0; j < nc; j++) {
                int mm = row_misses(q, y, xlo, xhi, fa, cand[j], fr, fix);
                if (mm < 0 || mm >= best)
                    continue;
                best = mm;
                r->fa[z - zlo] = (int32_t)fa, r->fc[z - zlo] = (int32_t)cand[j];
                memcpy(bfix, fix, (size_t)mm * sizeof *fix);
            }
        }
        if (best > ROW_FIXES)
            return false;
        for (int k = 0; k < ROW_FIXES; k++) {
            r->fx[k][z - zlo] = k < best ? (int32_t)bfix[k] : INT32_MIN;
            r->fy[k][z - zlo] = k < best ? (int32_t)y[bfix[k] - xlo] : 0;
        }
        r->nfix = best > r->nfix ? best : r->nfix;
    }
    return true;
}

/* The mul as a vector loop over the innermost merged dim, fa and fc of
 * each row element first looked up into the stack.  False, emitting
 * nothing, unless Z strides only the innermost dim (by 1), x and y run
 * along it, a row is a vector to MUL_ROW_MAX long and its tables fit
 * ROW_STACK. */
/* The operand (0 or 1) of N that repeats one row along the innermost
 * merged dim while the other and the result run along it by 1, or -1;
 * the merged dims into MD, MS (their count into *M). */
static int row_operand(const Node *n, int64_t (*st)[QNN_MAX_RANK], int64_t *md, int64_t (*ms)[QNN_MAX_RANK], int *m)
{
    const TensorType *yt = &n->result->type;
    *m = cg_merge_dims(yt->rank, yt->dims, st, 3, md, ms);
    int zop = -1, e = *m - 1;
    for (int k = 0; k < 2 && zop < 0; k++) {
        bool rowc = ms[k][e] == 1 && ms[1 - k][e] == 1;
        for (int d = 0; rowc && d < e; d++)
            rowc = ms[k][d] == 0;
        zop = rowc && *m > 1 ? k : -1;
    }
    return ms[2][e] == 1 && md[e] <= MUL_ROW_MAX ? zop : -1;
}

/* Begins the nest over the M - 1 merged dims above the innermost, RB
 * rows of operand XOP a step (RB divides the last of them), and gives x's
 * and the result's offsets at each. */
static void row_nest_begin(Cg *cg, CgNest *nest, int m, const int64_t *md, int64_t (*ms)[QNN_MAX_RANK], int xop, int rb,
                           LLVMValueRef *ox, LLVMValueRef *oy)
{
    int64_t bdim[QNN_MAX_RANK], bsx[QNN_MAX_RANK], bsy[QNN_MAX_RANK];
    for (int d = 0; d < m - 1; d++)
        bdim[d] = md[d], bsx[d] = ms[xop][d], bsy[d] = ms[2][d];
    bdim[m - 2] /= rb, bsx[m - 2] *= rb, bsy[m - 2] *= rb;
    cg_nest_begin(cg, nest, m - 1, bdim);
    *ox = cg_nest_offset(cg, nest, bsx), *oy = cg_nest_offset(cg, nest, bsy);
}

/* The start of pass PASS over a row of LEN: its STEP-wide vectors (0),
 * then the elements left (1); the element index, or NULL (no loop begun)
 * where the pass has nothing to do. */
static LLVMValueRef row_pass_begin(Cg *cg, CgLoop *l, int pass, int64_t len, int step)
{
    int64_t nv = len / step, trips = pass ? len % step : nv;
    if (!trips)
        return NULL;
    LLVMValueRef i = cg_for_begin(cg, l, trips, pass ? "t" : "v");
    return pass ? LLVMBuildAdd(B, i, cg_idx(cg, nv * step), "") : LLVMBuildMul(B, i, cg_idx(cg, step), "");
}

static bool lower_mul_rows(Cg *cg, const Node *n, const BinQ *q, int64_t (*st)[QNN_MAX_RANK], DType ad, DType bd)
{
    const TensorType *yt = &n->result->type;
    int64_t md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    int m, zop = row_operand(n, st, md, ms, &m);
    int64_t len = md[m - 1];
    if (zop < 0 || len < BIN_LANES)
        return false;
    DType xd = zop ? ad : bd, zd = zop ? bd : ad;
    MulRow *r = malloc(sizeof *r);
    if (!r || !mul_row_fit(q, xd, zd, zop, r) || len * (2 + 2 * r->nfix) * 4 > ROW_STACK) {
        free(r);
        return false;
    }
    int xop = 1 - zop, nrows = 2 + 2 * r->nfix;
    int64_t nz = dtype_traits[zd].max - dtype_traits[zd].min + 1;
    LLVMValueRef xb = cg_buf(cg, n->operands[xop]), zb = cg_buf(cg, n->operands[zop]), y = cg_buf(cg, n->result);
    /* Per row element: fa, fc, then each fix slot's x and result, each
     * table indexed by z's stored byte read as unsigned (entry b holds
     * z = b for u8, z = (int8_t)b for i8), so that the lookup's index is
     * the zero-extended byte with no constant added.  With z - zmin as
     * the index, LLVM 19 folded the i8 bias (128 entries, 512 bytes) into
     * the immediate of Helium's vector-base gather (vldrw.u32 Qd, [Qm,
     * #imm]), whose range ends at 508, and encoded it as 0: the lookups
     * read 128 entries low (wrong rows, and a bus fault below the first
     * table under QEMU's mps3-an547). */
    LLVMValueRef tab[2 + 2 * ROW_FIXES], row[2 + 2 * ROW_FIXES];
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, (unsigned)len);
    for (int k = 0; k < nrows; k++) {
        const int32_t *v = k == 0 ? r->fa : k == 1 ? r->fc : k % 2 == 0 ? r->fx[(k - 2) / 2] : r->fy[(k - 2) / 2];
        int32_t byb[256];
        for (int64_t b = 0; b < nz; b++)
            byb[b] = v[(zd == DT_I8 ? (int8_t)b : b) - dtype_traits[zd].min];
        tab[k] = cg_table_i32(cg, byb, nz, "mul.row");
        row[k] = cg_alloca(cg, at, "mul.row");
    }
    CgLoop lj, lv, lr;
    LLVMValueRef j = cg_for_begin(cg, &lj, len, "j");
    LLVMValueRef zi = LLVMBuildZExt(B, cg_load_int(cg, DT_U8, zb, j), cg->t_idx, "");
    for (int k = 0; k < nrows; k++)
        LLVMBuildStore(B, cg_load_int(cg, DT_I32, tab[k], zi), LLVMBuildInBoundsGEP2(B, cg->t_i32, row[k], &j, 1, ""));
    cg_for_end(cg, &lj);
    /* ROW_BLOCK rows of x a pass over the row tables where the rows
     * above the innermost divide by it: each table vector loaded once
     * serves them all (the loop had been bound by those loads). */
    int rb = md[m - 2] % ROW_BLOCK == 0 ? ROW_BLOCK : 1;
    CgNest nest;
    LLVMValueRef ox, oy;
    row_nest_begin(cg, &nest, m, md, ms, xop, rb, &ox, &oy);
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, BIN_LANES);
    for (int pass = 0; pass < 2; pass++) {
        LLVMValueRef i = row_pass_begin(cg, pass ? &lr : &lv, pass, len, BIN_LANES);
        if (!i)
            continue;
        LLVMValueRef rv[2 + 2 * ROW_FIXES];
        for (int k = 0; k < nrows; k++) {
            rv[k] = LLVMBuildLoad2(B, pass ? cg->t_i32 : vt, LLVMBuildInBoundsGEP2(B, cg->t_i32, row[k], &i, 1, ""), "");
            LLVMSetAlignment(rv[k], 4);
        }
        for (int b = 0; b < rb; b++) {
            LLVMValueRef xo = LLVMBuildAdd(B, LLVMBuildAdd(B, ox, cg_idx(cg, b * ms[xop][m - 2]), ""), i, "");
            LLVMValueRef xv = pass ? cg_load_int(cg, xd, xb, xo) : load_lanes(cg, xd, xb, xo, 1);
            LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, xv, rv[0], ""), rv[1], "");
            v = LLVMBuildAShr(B, v, int_like(cg, v, r->fr), "");
            v = cg_smin(cg, cg_smax(cg, v, int_like(cg, v, q->lo)), int_like(cg, v, q->hi));
            for (int k = 2; k < nrows; k += 2)
                v = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, xv, rv[k], ""), rv[k + 1], v, "");
            LLVMValueRef yo = LLVMBuildAdd(B, LLVMBuildAdd(B, oy, cg_idx(cg, b * ms[2][m - 2]), ""), i, "");
            if (pass) {
                cg_store_int(cg, yt->dtype, y, yo, v);
            } else {
                LLVMValueRef py = LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &yo, 1, "");
                LLVMSetAlignment(LLVMBuildStore(B, LLVMBuildTrunc(B, v, LLVMVectorType(cg->t_i8, BIN_LANES), ""), py), 1);
            }
        }
        cg_for_end(cg, pass ? &lr : &lv);
    }
    cg_nest_end(cg, &nest);
    free(r);
    return true;
}

/* ------------------------------------------------------------ the same mul in 16-bit lanes */

/* elem_mul_rowhV: the row-constant mul (above) in 16-bit lanes, V bytes a
 * step (64 with AVX-512BW, 32 with AVX2, else 16: twice or four times the
 * elements of an instruction of elem_mul_row16's i32 lanes).  Per value z
 * of the row operand, mul_rowh_fit finds b (a byte), fa, fc (16-bit) and
 * one shift s for the node with
 *   w = x * 256 + b        (x's byte over b's: one byte interleave; a u8 x
 *                           less 128, its top bit flipped)
 *   h = (w * fa) >> 16     (the signed high half: pmulhw, smull + shrn, vmulh)
 *   v = sat16(h + fc) >> s (a saturating add, an arithmetic shift)
 *   y = clamp(v, lo, hi)   (the saturating narrowing, packsswb / packuswb)
 * equal to the interpreter's result for all 256 x but at most ROW_FIXES,
 * whose results the loop sets by comparing x's bytes (checked
 * exhaustively against binq_ref, the form evaluated as the code computes
 * it, rowh_eval).  In real terms h + fc is x * fa / 2^(8+s) plus an
 * offset: fa carries the slope to 15 bits, and b's product b * fa / 2^16
 * gives the offset a fraction finer than fc's unit (the floor's rounding
 * too is a function of x, so each b is a different form: the fit tries
 * them all for the fa within FIT_WINDOW of the real slope).  s is the
 * largest that keeps fa and [lo, hi] * 2^s in 16 bits.  Where a z has no
 * such form the node keeps elem_mul_row16. */
typedef struct MulRowH {
    int s, nfix;
    uint8_t b[256];
    int16_t fa[256], fc[256];
    /* Stored bytes of each fix slot's x and result, by z; a slot that z
     * does not need repeats an x the form gets right, with its result. */
    uint8_t fx[ROW_FIXES][256], fy[ROW_FIXES][256];
} MulRowH;

/* floor(V / 2^S): the arithmetic shift the code's pmulhw and psraw make. */
static int64_t floor_shr(int64_t v, int s)
{
    return v >= 0 ? v >> s : -((-v + (INT64_C(1) << s) - 1) >> s);
}

/* h of MulRowH's form: floor(w * fa / 2^16), w = (x - XOFF) * 256 + b. */
static int64_t rowh_high(int64_t x, int64_t xoff, int64_t b, int64_t fa)
{
    return floor_shr(((x - xoff) * 256 + b) * fa, 16);
}

/* The form of MulRowH for the stored x (XOFF: 128 for u8, else 0). */
static int64_t rowh_eval(int64_t x, int64_t xoff, int64_t b, int64_t fa, int64_t fc, int s, int64_t lo, int64_t hi)
{
    int64_t v = fp_clamp_i64(rowh_high(x, xoff, b, fa) + fc, INT16_MIN, INT16_MAX);
    return fp_clamp_i64(floor_shr(v, s), lo, hi);
}

/* The x (of Y[0 ..], from XLO) the form (b, fa, fc) gets wrong, into FIX
 * (at most ROW_FIXES), or -1 for more. */
static int rowh_misses(const BinQ *q, const int64_t *y, int64_t xlo, int64_t xhi, int64_t xoff, int64_t b, int64_t fa,
                       int64_t fc, int s, int64_t *fix)
{
    int miss = 0;
    for (int64_t x = xlo; x <= xhi; x++) {
        if (rowh_eval(x, xoff, b, fa, fc, s, q->lo, q->hi) == y[x - xlo])
            continue;
        if (miss == ROW_FIXES)
            return -1;
        fix[miss++] = x;
    }
    return miss;
}

static bool mul_rowh_fit_s(const BinQ *q, const RowDom *d, int64_t xoff, int s, MulRowH *r);

static bool mul_rowh_fit(const BinQ *q, DType xd, DType zd, int zop, MulRowH *r)
{
    RowDom d = row_dom(q, xd, zd, zop);
    if (q->kind != BIN_MUL || d.xhi - d.xlo != 255 || d.zhi - d.zlo != 255 || q->lo > q->hi)
        return false;
    double top = 0;
    for (int64_t z = d.zlo; z <= d.zhi; z++)
        top = fmax(top, fabs(d.m * (double)(z - d.zp.zp)));
    int s = 8;
    while (s >= 0 && (q->hi > (1 << (15 - s)) - 1 || q->lo < -(1 << (15 - s)) ||
                      ldexp(top, 8 + s) + FIT_WINDOW + 1 > INT16_MAX))
        s--;
    /* A smaller s where fc leaves 16 bits (an intercept beyond 128 steps
     * at s = 8). */
    for (int s0 = s; s >= 0 && s > s0 - 3; s--)
        if (mul_rowh_fit_s(q, &d, xd == DT_U8 ? 128 : 0, s, r))
            return true;
    return false;
}

/* mul_rowh_fit for the shift S (XOFF: 128 for a u8 x, else 0). */
static bool mul_rowh_fit_s(const BinQ *q, const RowDom *d, int64_t xoff, int s, MulRowH *r)
{
    int64_t xlo = d->xlo, xhi = d->xhi, zlo = d->zlo, zhi = d->zhi;
    r->s = s, r->nfix = 0;
    int64_t one = INT64_C(1) << s, y[256], h[256], fix[ROW_FIXES], bfix[ROW_FIXES];
    for (int64_t z = zlo; z <= zhi; z++) {
        if (!row_results(q, d, z, y))
            return false;
        int64_t a0 = llround(ldexp(d->m * (double)(z - d->zp.zp), 8 + s)), zi = z - zlo;
        int best = ROW_FIXES + 1;
        for (int w = 0; best > 0 && w <= 2 * FIT_WINDOW; w++) {
            int64_t fa = a0 + (w & 1 ? (w + 1) / 2 : -(w / 2));
            for (int64_t b = 0; best > 0 && b < 256; b++) {
                /* fc's bounds from each x whose result is not at a clamp. */
                int64_t los[ROW_FIXES + 1][2], his[ROW_FIXES + 1][2];
                int nlo = 0, nhi = 0;
                for (int64_t x = xlo; x <= xhi; x++) {
                    int64_t t = y[x - xlo];
                    h[x - xlo] = rowh_high(x, xoff, b, fa);
                    if (t > q->lo)
                        fit_keep(los, ROW_FIXES + 1, &nlo, t * one - h[x - xlo], x, 1);
                    if (t < q->hi)
                        fit_keep(his, ROW_FIXES + 1, &nhi, (t + 1) * one - 1 - h[x - xlo], x, -1);
                }
                int64_t cand[2 * ROW_FIXES + 3];
                int nc = fc_candidates((const int64_t (*)[2])los, nlo, (const int64_t (*)[2])his, nhi, cand);
                for (int j = 0; j < nc; j++) {
                    int64_t fc = fp_clamp_i64(cand[j], INT16_MIN, INT16_MAX);
                    int mm = rowh_misses(q, y, xlo, xhi, xoff, b, fa, fc, s, fix);
                    if (mm < 0 || mm >= best)
                        continue;
                    best = mm;
                    r->b[zi] = (uint8_t)b, r->fa[zi] = (int16_t)fa, r->fc[zi] = (int16_t)fc;
                    memcpy(bfix, fix, (size_t)mm * sizeof *fix);
                }
            }
        }
        if (best > ROW_FIXES)
            return false;
        /* An x the form gets right, for the slots this z leaves empty. */
        int64_t ok = xlo;
        for (int k = 0; k < best; k++)
            if (bfix[k] == ok)
                ok++, k = -1;
        for (int k = 0; k < ROW_FIXES; k++) {
            int64_t x = k < best ? bfix[k] : ok;
            r->fx[k][zi] = (uint8_t)x, r->fy[k][zi] = (uint8_t)y[x - xlo];
        }
        r->nfix = best > r->nfix ? best : r->nfix;
    }
    return true;
}

/* A <N x i8> shuffle mask: element k from index IDX(k). */
static LLVMValueRef shuf_mask(Cg *cg, int n, int (*idx)(int k, int v), int v)
{
    LLVMValueRef e[128];
    for (int k = 0; k < n; k++)
        e[k] = cg_i32(cg, idx(k, v));
    return LLVMConstVector(e, (unsigned)n);
}

/* Byte interleaves within 128-bit lanes (punpcklbw/punpckhbw, zip1/zip2):
 * word k of the low (high) half of V bytes takes bytes L*16 + i (+ 8) of
 * the first operand (low byte) and the second (high byte), L = k / 8,
 * i = k % 8; and the inverse of the pair, which the saturating packs
 * (packsswb of the two halves) make: byte e from half (e % 16) / 8 at
 * word (e / 16) * 8 + e % 8. */
static int mask_out(int e, int v) { return (e % 16 >= 8 ? v / 2 : 0) + (e / 16) * 8 + e % 8; }

/* The low (K 0) or high (K 1) half of the bytes LO, HI interleaved, as
 * V / 2 words (LO the low bytes). */
static LLVMValueRef interleave_words(Cg *cg, LLVMValueRef lo, LLVMValueRef hi, int k, int v)
{
    return LLVMBuildBitCast(B, cg_unpack(cg, lo, hi, 16, k), LLVMVectorType(cg->t_i16, (unsigned)v / 2), "");
}

/* The words HALF[0], HALF[1] (interleave_words' halves) clamped to
 * [LO, HI] and narrowed into V bytes in x's order.  Where the target has
 * the saturating pack (KW's pack_wb: the two halves' words lane by lane,
 * which is that order), one, and a byte clamp where [LO, HI] is narrower
 * than its range; LLVM 19 makes the portable form (word clamps,
 * truncations and the shuffle) vpmovswb twice, two inserts and a permute
 * on AVX-512. */
static LLVMValueRef pack_words(Cg *cg, const KWords *kw, LLVMValueRef *half, int64_t lo, int64_t hi, int v)
{
    bool u = lo >= 0 && hi > 127;
    LLVMValueRef out = kw && kw->pack_wb ? kw->pack_wb(cg, half, u) : NULL;
    if (out) {
        LLVMValueRef l = cg_splat(cg, LLVMConstInt(cg->t_i8, (unsigned long long)lo, 1), v);
        LLVMValueRef h = cg_splat(cg, LLVMConstInt(cg->t_i8, (unsigned long long)hi, 1), v);
        if (lo > (u ? 0 : -128))
            out = LLVMBuildSelect(B, LLVMBuildICmp(B, u ? LLVMIntULT : LLVMIntSLT, out, l, ""), l, out, "");
        if (hi < (u ? 255 : 127))
            out = LLVMBuildSelect(B, LLVMBuildICmp(B, u ? LLVMIntUGT : LLVMIntSGT, out, h, ""), h, out, "");
        return out;
    }
    LLVMValueRef b[2];
    for (int k = 0; k < 2; k++) {
        LLVMValueRef h = cg_smax(cg, half[k], cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned long long)lo, 1), v / 2));
        h = cg_smin(cg, h, cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned long long)hi, 1), v / 2));
        b[k] = LLVMBuildTrunc(B, h, LLVMVectorType(cg->t_i8, (unsigned)v / 2), "");
    }
    return LLVMBuildShuffleVector(B, b[0], b[1], shuf_mask(cg, v, mask_out, v), "");
}

/* The stack rows of elem_mul_rowh, one byte per row element each: b, the
 * low and high bytes of fa and of fc, then each fix slot's x and result. */
enum { RH_B, RH_FA, RH_FC = RH_FA + 2, RH_FIX = RH_FC + 2, RH_ROWS = RH_FIX + 2 * ROW_FIXES };

/* One step of V bytes (or one element, V 1) of the form: X the stored
 * bytes (<V x i8>, or x as i32) and R the rows' bytes there (V > 1), or
 * i32 scalars (V 1: R[RH_FA] and R[RH_FC] the whole words). */
static LLVMValueRef rowh_step(Cg *cg, const KWords *kw, const BinQ *q, const MulRowH *mr, DType xd, int v,
                              LLVMValueRef x, const LLVMValueRef *r)
{
    LLVMValueRef out;
    if (v == 1) {
        LLVMValueRef w = LLVMBuildAdd(B, LLVMBuildShl(B, LLVMBuildSub(B, x, cg_i32(cg, xd == DT_U8 ? 128 : 0), ""),
                                                      cg_i32(cg, 8), ""), r[RH_B], "");
        LLVMValueRef h = LLVMBuildAShr(B, LLVMBuildMul(B, w, r[RH_FA], ""), cg_i32(cg, 16), "");
        h = cg_smin(cg, cg_smax(cg, LLVMBuildAdd(B, h, r[RH_FC], ""), cg_i32(cg, INT16_MIN)), cg_i32(cg, INT16_MAX));
        h = LLVMBuildAShr(B, h, cg_i32(cg, mr->s), "");
        out = cg_smin(cg, cg_smax(cg, h, cg_i32(cg, q->lo)), cg_i32(cg, q->hi));
    } else {
        LLVMTypeRef vh = LLVMVectorType(cg->t_i16, (unsigned)v / 2), vw = LLVMVectorType(cg->t_i32, (unsigned)v / 2);
        LLVMValueRef xs = xd == DT_U8 ? LLVMBuildXor(B, x, cg_splat(cg, LLVMConstInt(cg->t_i8, 0x80, 0), v), "") : x;
        LLVMValueRef half[2];
        for (int k = 0; k < 2; k++) {
            LLVMValueRef w = interleave_words(cg, r[RH_B], xs, k, v);
            LLVMValueRef fa = interleave_words(cg, r[RH_FA], r[RH_FA + 1], k, v);
            LLVMValueRef fc = interleave_words(cg, r[RH_FC], r[RH_FC + 1], k, v);
            /* The signed high half: LLVM's mulhs pattern (pmulhw). */
            LLVMValueRef p = LLVMBuildMul(B, LLVMBuildSExt(B, w, vw, ""), LLVMBuildSExt(B, fa, vw, ""), "");
            LLVMValueRef h = LLVMBuildTrunc(B, LLVMBuildAShr(B, p, cg_splat(cg, cg_i32(cg, 16), v / 2), ""), vh, "");
            LLVMValueRef args[2] = {h, fc};
            h = kern_intrinsic(cg, "llvm.sadd.sat", &vh, 1, args, 2);
            half[k] = LLVMBuildAShr(B, h, cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned)mr->s, 0), v / 2), "");
        }
        out = pack_words(cg, kw, half, q->lo, q->hi, v);
    }
    for (int k = 0; k < mr->nfix; k++)
        out = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, x, r[RH_FIX + 2 * k], ""), r[RH_FIX + 2 * k + 1], out, "");
    return out;
}

/* The byte tables of MR's form by z's stored byte read as unsigned
 * (lower_mul_rows says why), in RH_ order; returns how many the node
 * needs. */
static int rowh_tables(const MulRowH *mr, DType zd, uint8_t (*tab)[256])
{
    for (int u = 0; u < 256; u++) {
        int zi = (zd == DT_I8 ? (int8_t)u : u) - (int)dtype_traits[zd].min;
        uint16_t fa = (uint16_t)mr->fa[zi], fc = (uint16_t)mr->fc[zi];
        tab[RH_B][u] = mr->b[zi];
        tab[RH_FA][u] = (uint8_t)fa, tab[RH_FA + 1][u] = (uint8_t)(fa >> 8);
        tab[RH_FC][u] = (uint8_t)fc, tab[RH_FC + 1][u] = (uint8_t)(fc >> 8);
        for (int k = 0; k < mr->nfix; k++)
            tab[RH_FIX + 2 * k][u] = mr->fx[k][zi], tab[RH_FIX + 2 * k + 1][u] = mr->fy[k][zi];
    }
    return RH_FIX + 2 * mr->nfix;
}

/* rowh_step's one-element R: the NT tables' (or rows') bytes ROWS[t] at I,
 * as i32 of their dtypes, fa and fc the whole words (the high byte
 * signed); XD, YD the dtypes of x and the result (the fix slots'). */
static void rowh_load1(Cg *cg, int nt, DType xd, DType yd, const LLVMValueRef *rows, LLVMValueRef i, LLVMValueRef *r)
{
    for (int t = 0; t < nt; t++)
        r[t] = cg_load_int(cg, t == RH_FA + 1 || t == RH_FC + 1 ? DT_I8 : t >= RH_FIX ? ((t - RH_FIX) % 2 ? yd : xd) : DT_U8,
                           rows[t], i);
    for (int t = RH_FA; t <= RH_FC; t += 2)
        r[t] = LLVMBuildOr(B, r[t], LLVMBuildShl(B, r[t + 1], cg_i32(cg, 8), ""), "");
}

/* Fills the NT stack rows ROW[t] (LEN bytes) from the 256-byte tables TAB[t]
 * by the row operand's stored bytes ZB (a row of ZLEN, LEN a multiple of
 * it): K's lookups, K->lanes bytes at a time, where K is given (the row
 * repeated in a vector where ZLEN divides K->lanes), then one byte at a
 * time. */
static void rowh_fill(Cg *cg, const KLut *k, uint8_t (*tab)[256], LLVMValueRef *row, int nt, LLVMValueRef zb,
                      int64_t zlen, int64_t len)
{
    bool rep = k && zlen < len && k->lanes % zlen == 0;
    int64_t nl = k && (zlen == len || rep) ? len / k->lanes : 0;
    CgLoop lv, lj;
    if (nl) {
        LLVMValueRef off = LLVMBuildMul(B, cg_for_begin(cg, &lv, nl, "z"), cg_idx(cg, k->lanes), "");
        LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)k->lanes);
        LLVMValueRef zv;
        if (rep) {
            LLVMValueRef e[64];
            for (int i = 0; i < k->lanes; i++)
                e[i] = cg_i32(cg, (int)(i % zlen));
            zv = kern_load_vec(cg, LLVMVectorType(cg->t_i8, (unsigned)zlen), zb);
            zv = LLVMBuildShuffleVector(B, zv, LLVMGetUndef(LLVMTypeOf(zv)), LLVMConstVector(e, (unsigned)k->lanes), "");
        } else {
            zv = kern_load_vec(cg, vt, LLVMBuildInBoundsGEP2(B, cg->t_i8, zb, &off, 1, ""));
        }
        for (int t = 0; t < nt; t++)
            LLVMSetAlignment(LLVMBuildStore(B, k->lookup(cg, tab[t], zv), LLVMBuildInBoundsGEP2(B, cg->t_i8, row[t], &off, 1, "")), 1);
        cg_for_end(cg, &lv);
    }
    if (len == nl * (k ? k->lanes : 0))
        return;
    LLVMValueRef g[RH_ROWS];
    for (int t = 0; t < nt; t++)
        g[t] = cg_rodata(cg, tab[t], 256, 16, "mul.rowh");
    int64_t j0 = nl * (k ? k->lanes : 0);
    LLVMValueRef j = LLVMBuildAdd(B, cg_for_begin(cg, &lj, len - j0, "j"), cg_idx(cg, j0), "");
    LLVMValueRef zj = zlen == len ? j : LLVMBuildURem(B, j, cg_idx(cg, zlen), "");
    LLVMValueRef zi = LLVMBuildZExt(B, cg_load_int(cg, DT_U8, zb, zj), cg->t_idx, "");
    for (int t = 0; t < nt; t++)
        cg_store_int(cg, DT_U8, row[t], j, cg_load_int(cg, DT_U8, g[t], zi));
    cg_for_end(cg, &lj);
}

/* The mul as elem_mul_rowhV; NULL, emitting nothing, where the shapes or
 * the fit do not suit it (lower_mul_rows's conditions, a target without
 * 16-byte vectors).  Rows shorter than V that divide it are taken V / len
 * at a time (x and the result contiguous across them), the row tables
 * repeated. */
static const char *lower_mul_rowh(Cg *cg, const Node *n, const BinQ *q, int64_t (*st)[QNN_MAX_RANK], DType ad,
                                  DType bd, const KLut *klut, const KWords *kw)
{
    const TensorType *yt = &n->result->type;
    int64_t md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    int m, zop = row_operand(n, st, md, ms, &m);
    if (zop < 0 || cg->target->vector_bytes < 16)
        return NULL;
    int xop = 1 - zop;
    int64_t zlen = md[m - 1], rep = 1;
    int v = kern_has(cg, "avx512bw") ? 64 : kern_has(cg, "avx2") ? 32 : 16;
    while (v > 16 && v > zlen && !(v % zlen == 0 && md[m - 2] % (v / zlen) == 0 && ms[xop][m - 2] == zlen &&
                                   ms[2][m - 2] == zlen))
        v /= 2;
    if (zlen < v) {
        rep = v / zlen;
        if (v % zlen || md[m - 2] % rep || ms[xop][m - 2] != zlen || ms[2][m - 2] != zlen)
            return NULL;
        md[m - 2] /= rep, ms[xop][m - 2] *= rep, ms[2][m - 2] *= rep;
    }
    int64_t len = zlen * rep;
    DType xd = zop ? ad : bd, zd = zop ? bd : ad;
    MulRowH *mr = malloc(sizeof *mr);
    if (!mr || !mul_rowh_fit(q, xd, zd, zop, mr)) {
        free(mr);
        return NULL;
    }
    LLVMValueRef xb = cg_buf(cg, n->operands[xop]), zb = cg_buf(cg, n->operands[zop]), y = cg_buf(cg, n->result);
    uint8_t tab[RH_ROWS][256];
    int nt = rowh_tables(mr, zd, tab);
    LLVMValueRef row[RH_ROWS];
    for (int t = 0; t < nt; t++)
        row[t] = cg_alloca(cg, LLVMArrayType(cg->t_i8, (unsigned)len), "mul.rowh");
    rowh_fill(cg, klut, tab, row, nt, zb, zlen, len);
    /* RB rows of x a pass over the row tables (as lower_mul_rows). */
    int rb = md[m - 2] % (2 * ROW_BLOCK) == 0 ? 2 * ROW_BLOCK : md[m - 2] % ROW_BLOCK == 0 ? ROW_BLOCK : 1;
    CgNest nest;
    LLVMValueRef ox, oy;
    row_nest_begin(cg, &nest, m, md, ms, xop, rb, &ox, &oy);
    LLVMTypeRef vb = LLVMVectorType(cg->t_i8, (unsigned)v);
    CgLoop lv, lr;
    for (int pass = 0; pass < 2; pass++) {
        LLVMValueRef i = row_pass_begin(cg, pass ? &lr : &lv, pass, len, v);
        if (!i)
            continue;
        LLVMValueRef r[RH_ROWS];
        if (pass)
            rowh_load1(cg, nt, xd, yt->dtype, row, i, r);
        for (int t = 0; t < nt && !pass; t++)
            r[t] = kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, row[t], &i, 1, ""));
        for (int b = 0; b < rb; b++) {
            LLVMValueRef xo = LLVMBuildAdd(B, LLVMBuildAdd(B, ox, cg_idx(cg, b * ms[xop][m - 2]), ""), i, "");
            LLVMValueRef yo = LLVMBuildAdd(B, LLVMBuildAdd(B, oy, cg_idx(cg, b * ms[2][m - 2]), ""), i, "");
            if (pass) {
                cg_store_int(cg, yt->dtype, y, yo, rowh_step(cg, kw, q, mr, xd, 1, cg_load_int(cg, xd, xb, xo), r));
            } else {
                LLVMValueRef xv = kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, xb, &xo, 1, ""));
                LLVMValueRef sv = LLVMBuildStore(B, rowh_step(cg, kw, q, mr, xd, v, xv, r),
                                                 LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &yo, 1, ""));
                LLVMSetAlignment(sv, 1);
            }
        }
        cg_for_end(cg, pass ? &lr : &lv);
    }
    cg_nest_end(cg, &nest);
    free(mr);
    return v == 64 ? "elem_mul_rowh64" : v == 32 ? "elem_mul_rowh32" : "elem_mul_rowh16";
}

/* ------------------------------------------------------------ a mul of two full operands by lookups */

/* elem_mul_lutV: a mul whose operands both run along the innermost merged
 * dim (M-LSD's scores.q) in elem_mul_rowhV's 16-bit form, whose per-z
 * parameters (mul_rowh_fit: every x checked for every z against the
 * interpreter) each element looks up by its z byte with the target's
 * byte lookup (KLut: vpermi2b pairs with AVX-512 VBMI, tbl on NEON), V =
 * its lanes a step: 5 + 2 * nfix lookups and rowh_step per V outputs,
 * where elem_mul16 widens every byte to an i32 lane and takes three
 * 32-bit multiplies per 16.  Either operand may be z (operand 1 tried
 * first), or z may stay along the run (stride 0: a scalar, or one value
 * a row; the same lookups of one byte, hoisted out of the loop for a
 * scalar); the rest of a run one element at a time from the tables in
 * read-only data.  NULL, emitting nothing, without a lookup, where no
 * form fits or the shapes do not suit it. */
static const char *lower_mul_lut(Cg *cg, const Node *n, const BinQ *q, int64_t (*st)[QNN_MAX_RANK], DType ad,
                                 DType bd, const KLut *klut, const KWords *kw)
{
    if (!klut || q->kind != BIN_MUL)
        return NULL;
    const TensorType *yt = &n->result->type;
    int64_t md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    int m = cg_merge_dims(yt->rank, yt->dims, st, 3, md, ms), v = klut->lanes, e = m - 1;
    int64_t len = md[e];
    /* z broadcast along the run (stride 0): the lookups of one byte */
    int zb0 = ms[0][e] == 0 ? 0 : ms[1][e] == 0 ? 1 : -1;
    if (len < v || ms[2][e] != 1 || (ms[0][e] != 1 && zb0 != 0) || (ms[1][e] != 1 && zb0 != 1))
        return NULL;
    MulRowH *mr = malloc(sizeof *mr);
    int zop = zb0 < 0 ? 1 : zb0;
    if (mr && !mul_rowh_fit(q, zop ? ad : bd, zop ? bd : ad, zop, mr))
        zop = zb0 < 0 && mul_rowh_fit(q, bd, ad, 0, mr) ? 0 : -1;
    if (!mr || zop < 0) {
        free(mr);
        return NULL;
    }
    DType xd = zop ? ad : bd, zd = zop ? bd : ad;
    uint8_t tab[RH_ROWS][256];
    int nt = rowh_tables(mr, zd, tab);
    LLVMValueRef xb = cg_buf(cg, n->operands[1 - zop]), zb = cg_buf(cg, n->operands[zop]), y = cg_buf(cg, n->result);
    CgNest nest;
    cg_nest_begin(cg, &nest, m - 1, md);
    LLVMValueRef ox = cg_nest_offset(cg, &nest, ms[1 - zop]), oz = cg_nest_offset(cg, &nest, ms[zop]);
    LLVMValueRef oy = cg_nest_offset(cg, &nest, ms[2]);
    LLVMTypeRef vb = LLVMVectorType(cg->t_i8, (unsigned)v);
    CgLoop lv, lr;
    LLVMValueRef i = row_pass_begin(cg, &lv, 0, len, v), r[RH_ROWS];
    LLVMValueRef xo = LLVMBuildAdd(B, ox, i, ""), zo = LLVMBuildAdd(B, oz, i, ""), yo = LLVMBuildAdd(B, oy, i, "");
    LLVMValueRef xv = kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, xb, &xo, 1, ""));
    LLVMValueRef zv = zb0 >= 0 ? cg_splat(cg, LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, zb, &oz, 1, ""), ""), v)
                               : kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, zb, &zo, 1, ""));
    for (int t = 0; t < nt; t++)
        r[t] = klut->lookup(cg, tab[t], zv);
    LLVMValueRef sv = LLVMBuildStore(B, rowh_step(cg, kw, q, mr, xd, v, xv, r), LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &yo, 1, ""));
    LLVMSetAlignment(sv, 1);
    cg_for_end(cg, &lv);
    if ((i = row_pass_begin(cg, &lr, 1, len, v))) {
        LLVMValueRef g[RH_ROWS];
        for (int t = 0; t < nt; t++)
            g[t] = cg_rodata(cg, tab[t], 256, 16, "mul.lut");
        LLVMValueRef zi = LLVMBuildZExt(B, cg_load_int(cg, DT_U8, zb, zb0 >= 0 ? oz : LLVMBuildAdd(B, oz, i, "")), cg->t_idx, "");
        rowh_load1(cg, nt, xd, yt->dtype, g, zi, r);
        LLVMValueRef x1 = cg_load_int(cg, xd, xb, LLVMBuildAdd(B, ox, i, ""));
        cg_store_int(cg, yt->dtype, y, LLVMBuildAdd(B, oy, i, ""), rowh_step(cg, kw, q, mr, xd, 1, x1, r));
        cg_for_end(cg, &lr);
    }
    cg_nest_end(cg, &nest);
    free(mr);
    return v == 64 ? "elem_mul_lut64" : v == 32 ? "elem_mul_lut32" : "elem_mul_lut16";
}

/* ------------------------------------------------------------ the affine add in word pairs */

/* elem_affine_wdV (targets with KWords' madd2 and packs: x86-64): add_fit's
 * form x*fa + z*fb + fc, V bytes a step (64 with AVX-512BW, 32 with AVX2,
 * else 16), with its two 32-bit multiplies as pmaddwd on word pairs.  Each
 * i32 lane holds the pair (x, z) of one element, sign-extended (byte
 * interleaves and an arithmetic shift, wd_step), and with
 * fa = 256 * fah + fal (fal in [-128, 128)), the same for fb,
 *   v = pmaddwd((x, z), (fal, fbl)) + pmaddwd((256x, 256z), (fah, fbh)) + fc
 * is the form exactly (256x: the pair shifted left by 8 bits, in a word
 * for an i8 x; a u8 operand is taken less 128, its top bit flipped, and
 * fc carries 128 * fa).  Then the shift, two saturating packs (packssdw,
 * packsswb/packuswb, pack_words' clamp), which undo the interleaves'
 * in-lane order, and the fixed pairs as byte compares.  Where
 * elem_affine16 widens every byte to an i32 lane (vpmovsxbd, 16 a
 * shuffle) and narrows with vpmovsdb, this takes 32 bytes a widening
 * and 64 a narrowing.  wd_split checks the whole form as the code
 * computes it (16-bit products, wrapping i32 sums) against the
 * interpreter's arithmetic (binq_ref) for every pair; other targets, and
 * nodes where fah or fbh leave 16 bits, keep elem_affine16.
 * With KW's madd_bw (vpdpbusd) the split is fal in [0, 256) and the low
 * products come from the bytes (0, x, 0, z) of the high pair as they
 * are, unsigned (0, fal, 0, fbl) times signed: no arithmetic shift; and
 * with its hi_dw (fr >= 16) one vpermt2w takes the high words of two
 * i32 vectors, then a word shift by fr - 16, where there were two i32
 * shifts and packssdw: 19 vector instructions per 64 outputs instead of
 * 25 (docs/benchmarks.md, session 17). */
typedef struct AffineWd {
    int16_t lo[2], hi[2]; /* (fal, fbl), (fah, fbh) */
    int32_t c;            /* fc with the u8 operands' 128 * slope */
    bool bw;              /* fal, fbl in [0, 256): the low products by madd_bw */
} AffineWd;

static bool wd_split(const BinQ *q, DType ad, DType bd, AffineWd *w)
{
    int64_t f[2] = {q->fa, q->fb}, c = q->fc;
    DType d[2] = {ad, bd};
    for (int k = 0; k < 2; k++) {
        int64_t l = w->bw ? f[k] & 255 : ((f[k] + 128) & 255) - 128, h = (f[k] - l) / 256;
        if (h < -32767 || h > 32767 || (d[k] != DT_I8 && d[k] != DT_U8))
            return false;
        w->lo[k] = (int16_t)l, w->hi[k] = (int16_t)h;
        c += d[k] == DT_U8 ? 128 * f[k] : 0;
    }
    w->c = (int32_t)(uint32_t)(uint64_t)c;
    /* Belt and braces: every pair, as the loop computes it. */
    for (int64_t x = dtype_traits[ad].min; x <= dtype_traits[ad].max; x++)
        for (int64_t z = dtype_traits[bd].min; z <= dtype_traits[bd].max; z++) {
            int64_t xs = ad == DT_U8 ? x - 128 : x, zs = bd == DT_U8 ? z - 128 : z, ref, y;
            uint32_t v = (uint32_t)(xs * w->lo[0] + zs * w->lo[1]) + (uint32_t)(xs * 256 * w->hi[0] + zs * 256 * w->hi[1]) +
                         (uint32_t)w->c;
            y = fp_clamp_i64((int32_t)v >> q->fr, q->lo, q->hi);
            for (int j = 0; j < q->nfix; j++)
                if (x == q->fix_x[j] && z == q->fix_z[j])
                    y = q->fix_y[j];
            if (!binq_ref(q, x, z, &ref) || ref != y)
                return false;
        }
    return true;
}

/* One step: V bytes X, Z of the operands to V bytes of the result. */
static LLVMValueRef wd_step(Cg *cg, const KWords *kw, const BinQ *q, const AffineWd *w, DType ad, DType bd, int v,
                            LLVMValueRef x, LLVMValueRef z)
{
    LLVMValueRef fl[64], fh[64];
    for (int k = 0; k < v / 2; k++) {
        /* with bw as the bytes (0, fal, 0, fbl) */
        fl[k] = LLVMConstInt(cg->t_i16, (unsigned long long)(w->bw ? w->lo[k & 1] << 8 : w->lo[k & 1]), 1);
        fh[k] = LLVMConstInt(cg->t_i16, (unsigned long long)w->hi[k & 1], 1);
    }
    LLVMValueRef cl = LLVMConstVector(fl, (unsigned)v / 2), ch = LLVMConstVector(fh, (unsigned)v / 2);
    LLVMTypeRef vb = LLVMVectorType(cg->t_i8, (unsigned)v);
    LLVMValueRef xs = ad == DT_U8 ? kern_flip(cg, x) : x, zs = bd == DT_U8 ? kern_flip(cg, z) : z, half[2];
    for (int k = 0; k < 2; k++) {
        /* Bytes (x, z) of each element (punpck[lh]bw), then bytes (0, x, 0, z):
         * the words (256x, 256z) of each element's i32 lane, in-lane order
         * that the packs undo. */
        LLVMValueRef t = LLVMBuildBitCast(B, interleave_words(cg, xs, zs, k, v), vb, ""), d[2];
        for (int j = 0; j < 2; j++) {
            LLVMValueRef hi = interleave_words(cg, LLVMConstNull(vb), t, j, v);
            /* fc the accumulator */
            LLVMValueRef acc = cg_splat(cg, cg_i32(cg, w->c), v / 4);
            if (w->bw) {
                /* The low products from hi's bytes (0, x, 0, z) as they
                 * are: unsigned (0, fal, 0, fbl) times signed, no shift. */
                d[j] = kw->madd2(cg, kw->madd_bw(cg, acc, cl, hi), NULL, NULL, hi, ch);
            } else {
                LLVMValueRef lo = LLVMBuildAShr(B, hi, cg_splat(cg, LLVMConstInt(cg->t_i16, 8, 0), v / 2), "");
                d[j] = kw->madd2(cg, acc, lo, cl, hi, ch);
            }
        }
        /* The shift by fr: where fr >= 16, on the high words (one shuffle
         * for the two, a word shift), else on the i32 lanes before
         * packssdw.  Equal: |d| < 2^31, so d >> 16 fits a word. */
        LLVMValueRef hw = q->fr >= 16 && kw->hi_dw ? kw->hi_dw(cg, d) : NULL;
        if (hw) {
            LLVMValueRef sh = cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned long long)(q->fr - 16), 0), v / 2);
            half[k] = q->fr > 16 ? LLVMBuildAShr(B, hw, sh, "") : hw;
            continue;
        }
        for (int j = 0; j < 2; j++)
            d[j] = LLVMBuildAShr(B, d[j], cg_splat(cg, cg_i32(cg, q->fr), v / 4), "");
        half[k] = kw->pack_dw(cg, d);
    }
    return fix_pairs(cg, q, x, z, pack_words(cg, kw, half, q->lo, q->hi, v));
}

/* The add as elem_affine_wdV; NULL, emitting nothing, without KW's madd2
 * and packs (KWords), where the form does not split (wd_split) or the shapes do not suit it: both
 * operands and the result running along the innermost merged dim by 1,
 * at least V long (the rest of a run one element at a time through
 * binq_apply, as elem_affine16's). */
static const char *lower_affine_wd(Cg *cg, const KWords *kw, const Node *n, const BinQ *q, int64_t (*st)[QNN_MAX_RANK],
                                   DType ad, DType bd)
{
    if (!q->fit || !kw || !kw->madd2 || !kw->pack_dw)
        return NULL;
    int v = kern_has(cg, "avx512bw") ? 64 : kern_has(cg, "avx2") ? 32 : 16;
    const TensorType *yt = &n->result->type;
    int64_t md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    int m = cg_merge_dims(yt->rank, yt->dims, st, 3, md, ms);
    int64_t len = md[m - 1];
    while (v > 16 && len < v)
        v /= 2;
    if (len < v || ms[0][m - 1] != 1 || ms[1][m - 1] != 1 || ms[2][m - 1] != 1)
        return NULL;
    /* A form whose slopes leave 16-bit fah, fbh (an input slope near the
     * output's, |fa| near 2^31 / 128): the fit again one or two bits
     * coarser. */
    BinQ qw = *q;
    AffineWd w = {.bw = kw->has_madd_bw && kw->madd_bw && kw->has_madd_bw(cg, (unsigned)v / 4)};
    bool split = wd_split(&qw, ad, bd, &w);
    for (int r = q->fr - 1; !split && r >= q->fr - 2; r--) {
        qw = *q;
        qw.fit = false;
        split = add_fit(&qw, ad, bd, r) && wd_split(&qw, ad, bd, &w);
    }
    if (!split)
        return NULL;
    q = &qw;
    LLVMValueRef a = cg_buf(cg, n->operands[0]), b = cg_buf(cg, n->operands[1]), y = cg_buf(cg, n->result);
    CgNest nest;
    cg_nest_begin(cg, &nest, m - 1, md);
    LLVMValueRef oa = cg_nest_offset(cg, &nest, ms[0]), ob = cg_nest_offset(cg, &nest, ms[1]);
    LLVMValueRef oy = cg_nest_offset(cg, &nest, ms[2]);
    LLVMTypeRef vb = LLVMVectorType(cg->t_i8, (unsigned)v);
    CgLoop lv, lr;
    LLVMValueRef j = row_pass_begin(cg, &lv, 0, len, v);
    LLVMValueRef ia = LLVMBuildAdd(B, oa, j, ""), ib = LLVMBuildAdd(B, ob, j, ""), iy = LLVMBuildAdd(B, oy, j, "");
    LLVMValueRef xa = kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, a, &ia, 1, ""));
    LLVMValueRef xb = kern_load_vec(cg, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, b, &ib, 1, ""));
    LLVMValueRef sv = LLVMBuildStore(B, wd_step(cg, kw, q, &w, ad, bd, v, xa, xb), LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &iy, 1, ""));
    LLVMSetAlignment(sv, 1);
    cg_for_end(cg, &lv);
    if ((j = row_pass_begin(cg, &lr, 1, len, v))) {
        LLVMValueRef r = binq_apply(cg, q, cg_load_int(cg, ad, a, LLVMBuildAdd(B, oa, j, "")),
                                    cg_load_int(cg, bd, b, LLVMBuildAdd(B, ob, j, "")));
        cg_store_int(cg, yt->dtype, y, LLVMBuildAdd(B, oy, j, ""), r);
        cg_for_end(cg, &lr);
    }
    cg_nest_end(cg, &nest);
    return q->nfix ? (v == 64 ? "elem_affine_wd64_fix" : v == 32 ? "elem_affine_wd32_fix" : "elem_affine_wd16_fix")
                   : (v == 64 ? "elem_affine_wd64" : v == 32 ? "elem_affine_wd32" : "elem_affine_wd16");
}

const char *kern_elem_words(Cg *cg, const Node *n, const KLut *klut, const KWords *kw)
{
    if ((n->op != OP_ADD && n->op != OP_SUB && n->op != OP_MUL) || n->num_operands != 2)
        return NULL;
    BinaryKind kind = n->op == OP_ADD ? BIN_ADD : n->op == OP_SUB ? BIN_SUB : BIN_MUL;
    const TensorType *at = &n->operands[0]->type, *bt = &n->operands[1]->type, *yt = &n->result->type;
    DType ad = at->dtype, bd = bt->dtype, yd = yt->dtype;
    if (!dtype_traits[ad].is_int || !dtype_traits[bd].is_int || !dtype_traits[yd].is_int ||
        dtype_traits[ad].size != 1 || dtype_traits[bd].size != 1 || dtype_traits[yd].size != 1)
        return NULL;
    if (node_rounding(n) != ROUND_TFLITE || !at->quant || !bt->quant || !yt->quant ||
        !quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant) || !quant_is_per_tensor(yt->quant))
        return NULL;
    BinQ q = {.kind = kind};
    q.ap = qparam_chan(at->quant, 0);
    q.bp = qparam_chan(bt->quant, 0);
    q.yp = qparam_chan(yt->quant, 0);
    act_range_quantized(n, yt, 0, ROUND_TFLITE, &q.lo, &q.hi);
    folded_clamp(n, &q.lo, &q.hi);
    if (kind == BIN_MUL) {
        double m = (double)q.ap.scale * (double)q.bp.scale / (double)q.yp.scale;
        if (!fp_quantize_multiplier(m, &q.mult, &q.shift))
            return NULL;
        folded_multiplier(n, 0, &q.mult, &q.shift);
    } else {
        if (!tflite_add_prepare(q.ap, q.bp, q.yp, &q.t))
            return NULL;
        folded_multiplier(n, 0, &q.t.ma, &q.t.sha);
        folded_multiplier(n, 1, &q.t.mb, &q.t.shb);
        folded_multiplier(n, 2, &q.t.mo, &q.t.sho);
    }
    int64_t st[3][QNN_MAX_RANK];
    cg_bcast_strides(yt, at, st[0]);
    cg_bcast_strides(yt, bt, st[1]);
    cg_strides(yt, st[2]);
    add_fit(&q, ad, bd, 30);
    q.mul_fused = mul_fuses(&q, ad, bd);
    const char *rowh = kind == BIN_MUL ? lower_mul_rowh(cg, n, &q, st, ad, bd, klut, kw) : NULL;
    if (rowh)
        return rowh;
    if (kind == BIN_MUL && lower_mul_rows(cg, n, &q, st, ad, bd))
        return "elem_mul_row16";
    const char *mlut = lower_mul_lut(cg, n, &q, st, ad, bd, klut, kw);
    if (mlut)
        return mlut;
    const char *wd = lower_affine_wd(cg, kw, n, &q, st, ad, bd);
    if (wd)
        return wd;
    if (!lower_binary_vec(cg, n, &q, st))
        return NULL;
    return q.fit ? (q.nfix ? "elem_affine16_fix" : "elem_affine16") : kind == BIN_MUL ? "elem_mul16" : "elem_add16";
}

const char *kern_elem_lut(Cg *cg, const Node *n, const KLut *klut)
{
    return kern_elem_words(cg, n, klut, NULL);
}

const char *kern_elem(Cg *cg, const Node *n)
{
    return kern_elem_words(cg, n, NULL, NULL);
}
