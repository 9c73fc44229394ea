/* kernel_requant.c - the requantizing output stage on a vector of
 * channels: the interpreter's outstage_apply (ir/interp.h) lane by lane,
 * through the same fixedpoint_ir.c functions the scalar cg_outstage uses
 * (they take vectors as well as scalars), so the two agree bit for bit.
 * Per-channel parameters are tables indexed by the first channel, one
 * vector load each.
 */
#include "kernel_int8.h"

#include <stdlib.h>
#include <string.h>

#define B (cg->b)

/* Which table: the stage's fields, and for the TFLite form the derived
 * left shift, right shift, rounding mask and the clamp bounds less the
 * zero point. */
enum { T_MULT, T_ZP, T_LO, T_HI, T_LEFT, T_RIGHT, T_MASK, T_LOZ, T_HIZ };

static int32_t field(const OutStage *s, int which)
{
    int32_t right = s->shift < 0 ? -s->shift : 0;
    switch (which) {
    case T_MULT: return s->mult;
    case T_ZP: return s->zp;
    case T_LO: return (int32_t)s->lo;
    case T_HI: return (int32_t)s->hi;
    case T_LEFT: return s->shift > 0 ? s->shift : 0;
    case T_RIGHT: return right;
    case T_MASK: return (int32_t)((UINT32_C(1) << right) - 1u);
    case T_LOZ: return (int32_t)s->lo - s->zp;
    default: return (int32_t)s->hi - s->zp;
    }
}

static LLVMValueRef table(Cg *cg, const OutStage *st, int64_t n, int which, const char *name)
{
    int32_t *t = xmalloc((size_t)n * sizeof *t);
    for (int64_t k = 0; k < n; k++)
        t[k] = field(&st[k], which);
    LLVMValueRef r = cg_table_i32(cg, t, n, name);
    free(t);
    return r;
}

/* Whether requant_sat computes the stages exactly: TFLite rounding, every
 * channel with a right shift of 1..23 (or none with one), one clamp range
 * within [-256, 255]. */
static bool sat_ok(const KRequant *rq)
{
    const OutStage *st = rq->st;
    if (rq->rounding != ROUND_TFLITE || st[0].lo < -256 || st[0].hi > 255)
        return false;
    for (int64_t k = 0; k < rq->nch; k++) {
        int right = st[k].shift < 0 ? -st[k].shift : 0;
        if (st[k].lo != st[0].lo || st[k].hi != st[0].hi || right > 23 || (right > 0) != rq->any_right ||
            st[k].zp < -256 || st[k].zp > 255)
            return false;
    }
    return true;
}

/* requant_sat's per-channel word I: the multiplier, the rounding term with
 * the zero point folded in (2^(right-1) + zp * 2^right; zp without a right
 * shift), the right shift. */
static int32_t sat_field(const OutStage *s, int i)
{
    int right = s->shift < 0 ? -s->shift : 0;
    if (i == 0)
        return s->mult;
    if (i == 2)
        return right;
    return right ? (int32_t)((INT64_C(1) << (right - 1)) + (int64_t)s->zp * (INT64_C(1) << right)) : s->zp;
}

void kern_requant_init(Cg *cg, KRequant *rq, const OutStage *st, int64_t nch, int rounding)
{
    *rq = (KRequant){.rounding = rounding, .nch = nch, .st = st};
    for (int64_t k = 0; k < nch; k++) {
        rq->any_left |= st[k].shift > 0;
        rq->any_right |= st[k].shift < 0;
        rq->any_min_mult |= st[k].mult == INT32_MIN;
    }
    rq->sat = kern_has(cg, "dsp") && sat_ok(rq);
    if (nch == 1)
        return;
    if (rq->sat) {
        int32_t *t = xmalloc((size_t)nch * 3 * sizeof *t);
        for (int64_t k = 0; k < nch; k++)
            for (int i = 0; i < 3; i++)
                t[k * 3 + i] = sat_field(&st[k], i);
        rq->sat_tab = cg_table_i32(cg, t, nch * 3, "rqsat");
        free(t);
    }
    if (rounding == ROUND_TFLITE) {
        rq->mult = table(cg, st, nch, T_MULT, "rqmult");
        if (rq->any_left)
            rq->left = table(cg, st, nch, T_LEFT, "rqleft");
        if (rq->any_right) {
            rq->shift = table(cg, st, nch, T_RIGHT, "rqright");
            rq->mask = table(cg, st, nch, T_MASK, "rqmask");
        }
        rq->zp = table(cg, st, nch, T_ZP, "rqzp");
        rq->lo = table(cg, st, nch, T_LOZ, "rqloz");
        rq->hi = table(cg, st, nch, T_HIZ, "rqhiz");
    } else {
        rq->zp = table(cg, st, nch, T_ZP, "rqzp");
        rq->lo = table(cg, st, nch, T_LO, "rqlo");
        rq->hi = table(cg, st, nch, T_HI, "rqhi");
        double *t = xmalloc((size_t)nch * sizeof *t);
        for (int64_t k = 0; k < nch; k++)
            t[k] = st[k].m;
        rq->m = cg_table_f64(cg, t, nch, "rqm");
        free(t);
    }
}

static LLVMValueRef load(Cg *cg, LLVMTypeRef et, int lanes, LLVMValueRef tab, LLVMValueRef c0)
{
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, et, tab, &c0, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(B, LLVMVectorType(et, (unsigned)lanes), p, "");
    LLVMSetAlignment(v, et == cg->t_f64 ? 8 : 4);
    return v;
}

/* The i32 field WHICH of channels C0 .. C0+LANES: a constant for one
 * stage, else a load from TAB. */
static LLVMValueRef param(Cg *cg, const KRequant *rq, int lanes, int which, LLVMValueRef tab, LLVMValueRef c0)
{
    return rq->nch == 1 ? cg_splat(cg, cg_i32(cg, field(&rq->st[0], which)), lanes)
                        : load(cg, cg->t_i32, lanes, tab, c0);
}

/* (x*m + 2^30) >> 31 per lane (TFLite's doubling high multiply, as
 * fixedpoint_ir.c's cg_srdhm computes it), in LANES i64 lanes. */
static LLVMValueRef srdhm_wide(Cg *cg, LLVMValueRef x, LLVMValueRef m, int lanes)
{
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)lanes), t64 = LLVMVectorType(cg->t_i64, (unsigned)lanes);
    LLVMValueRef ab = LLVMBuildNSWMul(B, LLVMBuildSExt(B, x, t64, ""), LLVMBuildSExt(B, m, t64, ""), "");
    LLVMValueRef q = LLVMBuildAShr(B, LLVMBuildNSWAdd(B, ab, cg_splat(cg, cg_i64(cg, INT64_C(1) << 30), lanes), ""),
                                   cg_splat(cg, cg_i64(cg, 31), lanes), "");
    return LLVMBuildTrunc(B, q, t32, "");
}

/* The same for an even lane count without widening the vector: the i32
 * lanes as LANES/2 i64 words, the even lanes' products from each word's
 * sign-extended low half, the odd lanes' from its high half (pmuldq on
 * x86), plus 2^30; bits 31..62 of each product land in the low half of
 * the even words (>> 31) and the high half of the odd ones (<< 1), and
 * one blend takes each (on AVX-512: 2 multiplies, no widening, no
 * narrowing; the depthwise kernel_bench shape gains 25%). */
static LLVMValueRef srdhm_pairs(Cg *cg, LLVMValueRef x, LLVMValueRef m, int lanes)
{
    int h = lanes / 2;
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)lanes), w64 = LLVMVectorType(cg->t_i64, (unsigned)h);
    LLVMValueRef xw = LLVMBuildBitCast(B, x, w64, ""), mw = LLVMBuildBitCast(B, m, w64, "");
    LLVMValueRef k32 = cg_splat(cg, cg_i64(cg, 32), h);
    LLVMValueRef xe = LLVMBuildAShr(B, LLVMBuildShl(B, xw, k32, ""), k32, "");
    LLVMValueRef me = LLVMBuildAShr(B, LLVMBuildShl(B, mw, k32, ""), k32, "");
    LLVMValueRef xo = LLVMBuildAShr(B, xw, k32, ""), mo = LLVMBuildAShr(B, mw, k32, "");
    LLVMValueRef nudge = cg_splat(cg, cg_i64(cg, INT64_C(1) << 30), h);
    LLVMValueRef pe = LLVMBuildAdd(B, LLVMBuildMul(B, xe, me, ""), nudge, "");
    LLVMValueRef po = LLVMBuildAdd(B, LLVMBuildMul(B, xo, mo, ""), nudge, "");
    LLVMValueRef ve = LLVMBuildBitCast(B, LLVMBuildLShr(B, pe, cg_splat(cg, cg_i64(cg, 31), h), ""), t32, "");
    LLVMValueRef vo = LLVMBuildBitCast(B, LLVMBuildShl(B, po, cg_splat(cg, cg_i64(cg, 1), h), ""), t32, "");
    LLVMValueRef sel[64];
    for (int i = 0; i < lanes; i++)
        sel[i] = cg_i32(cg, i % 2 ? lanes + i : i);
    return LLVMBuildShuffleVector(B, ve, vo, LLVMConstVector(sel, (unsigned)lanes), "");
}

/* TFLite's MultiplyByQuantizedMultiplier (fixedpoint_ir.c's cg_mbqm_dyn)
 * with what the compile-time stage tables rule out left out: the left
 * shift when no channel has one, the INT32_MIN x INT32_MIN saturation when
 * no multiplier is INT32_MIN, the rounding shift when no channel has one;
 * then the clamp in i32 as clamp(v, lo - zp, hi - zp) + zp, which equals
 * clamp(v + zp, lo, hi) for every v (the bounds are byte values). */
static LLVMValueRef requant_tflite(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0, int lanes, bool raw)
{
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)lanes);
    LLVMValueRef m = param(cg, rq, lanes, T_MULT, rq->mult, c0), x = acc;
    if (rq->any_left)
        x = LLVMBuildShl(B, x, param(cg, rq, lanes, T_LEFT, rq->left, c0), "");
    LLVMValueRef v = lanes % 2 ? srdhm_wide(cg, x, m, lanes) : srdhm_pairs(cg, x, m, lanes);
    if (rq->any_min_mult) {
        LLVMValueRef imin = cg_splat(cg, cg_i32(cg, INT32_MIN), lanes);
        LLVMValueRef both = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntEQ, x, imin, ""),
                                         LLVMBuildICmp(B, LLVMIntEQ, m, imin, ""), "");
        v = LLVMBuildSelect(B, both, cg_splat(cg, cg_i32(cg, INT32_MAX), lanes), v, "");
    }
    if (rq->any_right) {
        /* Rounding divide by 2^right, ties away from zero (cg_rdbpot). */
        LLVMValueRef e = param(cg, rq, lanes, T_RIGHT, rq->shift, c0);
        LLVMValueRef mask = param(cg, rq, lanes, T_MASK, rq->mask, c0);
        LLVMValueRef rem = LLVMBuildAnd(B, v, mask, "");
        LLVMValueRef neg = LLVMBuildLShr(B, v, cg_splat(cg, cg_i32(cg, 31), lanes), "");
        LLVMValueRef thr = LLVMBuildAdd(B, LLVMBuildLShr(B, mask, cg_splat(cg, cg_i32(cg, 1), lanes), ""), neg, "");
        LLVMValueRef up = LLVMBuildICmp(B, LLVMIntUGT, rem, thr, "");
        v = LLVMBuildAdd(B, LLVMBuildAShr(B, v, e, ""), LLVMBuildZExt(B, up, t32, ""), "");
    }
    if (raw)
        return v;
    LLVMValueRef lo = param(cg, rq, lanes, T_LOZ, rq->lo, c0), hi = param(cg, rq, lanes, T_HIZ, rq->hi, c0);
    v = cg_smin(cg, cg_smax(cg, v, lo), hi);
    return LLVMBuildAdd(B, v, param(cg, rq, lanes, T_ZP, rq->zp, c0), "");
}

/* RqbChan's field F: the digits, then kadd, kneg, thr, shift. */
static int32_t rqb_field(const RqbChan *c, int f)
{
    int32_t v[] = {c->kadd, c->kneg, c->thr, c->shift};
    return f < RQB_MAX_DIGITS ? c->digit[f] : v[f - RQB_MAX_DIGITS];
}
enum { F_KADD = RQB_MAX_DIGITS, F_KNEG, F_THR, F_SHIFT };

/* The float form's table F: s, bpos, bneg (float bits), then the
 * corrections' accumulators and deltas. */
static int32_t rqf_field(const RqfChan *c, int nfix, int f)
{
    float v[] = {c->s, c->bpos, c->bneg};
    int32_t bits;
    if (f < 3) {
        memcpy(&bits, &v[f], sizeof bits);
        return bits;
    }
    int j = f - 3 - nfix;
    if (j < 0)
        return c->fix_acc[f - 3];
    return j < RQF_MAX_FIX ? c->fix_d[j] : 0;
}

/* Whether every stage has stage 0's zero point and clamp. */
static bool same_zp_clamp(const KRequant *rq)
{
    for (int64_t k = 1; k < rq->nch; k++)
        if (rq->st[k].zp != rq->st[0].zp || rq->st[k].lo != rq->st[0].lo || rq->st[k].hi != rq->st[0].hi)
            return false;
    return true;
}

/* Proves the float form (with the zero point in the biases: ZPIN) for
 * every channel into CH, at most MAXFIX corrections a channel, or
 * REF[k].nfix where REF; false when a channel fails. */
static bool prove_all(const KRequant *rq, const int64_t *lo, const int64_t *hi, int64_t n, int round, bool zpin,
                      int maxfix, const RqfChan *ref, RqfChan *ch)
{
    int64_t ua = lo[0], ub = hi[0];
    for (int64_t c = 1; c < n; c++)
        ua = lo[c] < ua ? lo[c] : ua, ub = hi[c] > ub ? hi[c] : ub;
    for (int64_t k = 0; k < rq->nch; k++) {
        const OutStage *s = &rq->st[k];
        RqfStage q = {s->mult, s->shift, s->zp, (int32_t)s->lo, (int32_t)s->hi};
        int64_t a = n == rq->nch ? lo[k] : ua, b = n == rq->nch ? hi[k] : ub;
        if (s->lo < INT32_MIN || s->hi > INT32_MAX ||
            !rqf_prove(&q, a, b, round, zpin, ref ? ref[k].nfix : maxfix, &ch[k]))
            return false;
    }
    return true;
}

/* Proves requant_float.c's form for every channel (at most 1 correction a
 * channel where the 32-bit plan exists: each costs a compare and a masked
 * add, and 2 make the form about as long as the plan's; RQF_MAX_FIX where
 * only the 64-bit form would remain), rounding down on AVX-512 (the exact
 * floor: embedded rounding), and builds its tables.  Where every channel
 * shares one zero point and clamp, the form with the zero point in the
 * biases (RqfChan.zpin) where it holds without corrections, or with as
 * few as the plain form's in every channel: no zero point add, constant
 * clamp bounds, and the packs of kern_requant_narrow's kernels take its
 * values as they are (a zero point of -128 no longer costs their xor).
 * Tried first, so that the usual layer takes one proof a channel.  LO
 * and HI: each stage's accumulator range (N of them; not one a stage:
 * their union). */
static void float_plan(Cg *cg, KRequant *rq, const int64_t *lo, const int64_t *hi, int64_t n)
{
    int64_t nch = rq->nch;
    int limit = rq->bounded ? 1 : RQF_MAX_FIX, worst = 0;
    int round = kern_has(cg, "avx512f") ? RQF_FLOOR : RQF_RNE;
    bool same = same_zp_clamp(rq);
    RqfChan *ch = xmalloc((size_t)nch * sizeof *ch);
    if (!(same && prove_all(rq, lo, hi, n, round, true, 0, NULL, ch))) {
        if (!prove_all(rq, lo, hi, n, round, false, limit, NULL, ch)) {
            free(ch);
            return;
        }
        RqfChan *z = xmalloc((size_t)nch * sizeof *z);
        if (same && prove_all(rq, lo, hi, n, round, true, 0, ch, z))
            memcpy(ch, z, (size_t)nch * sizeof *ch);
        free(z);
    }
    for (int64_t k = 0; k < nch; k++)
        worst = ch[k].nfix > worst ? ch[k].nfix : worst;
    rq->flt = true;
    rq->nfix = worst;
    rq->rqf1 = ch[0];
    rq->one_bias = true;
    for (int64_t k = 0; k < nch; k++)
        rq->one_bias &= ch[k].bpos == ch[k].bneg;
    if (nch > 1) {
        int32_t *t = xmalloc((size_t)nch * sizeof *t);
        for (int f = 0; f < 3 + 2 * worst; f++) {
            if (f == 2 && rq->one_bias)
                continue;
            for (int64_t k = 0; k < nch; k++)
                t[k] = rqf_field(&ch[k], worst, f);
            rq->rqf_tab[f] = cg_table_i32(cg, t, nch, "rqf");
        }
        free(t);
    }
    free(ch);
}

void kern_requant_bound(Cg *cg, KRequant *rq, int64_t acc_max, const int64_t *chan_lo, const int64_t *chan_hi,
                        int64_t nrange)
{
    rq->acc_max = acc_max;
    /* x86 with pmulld (SSE4.1; avx2 and avx512f as the VNNI features imply
     * them); elsewhere, and on SSE2, the 64-bit products stay. */
    if (rq->rounding != ROUND_TFLITE || rq->sat ||
        !(kern_has(cg, "sse4.1") || kern_has(cg, "avx2") || kern_has(cg, "avx512f")))
        return;
    int64_t n = rq->nch;
    int32_t *mult = xmalloc((size_t)n * sizeof *mult);
    int *shift = xmalloc((size_t)n * sizeof *shift);
    for (int64_t k = 0; k < n; k++)
        mult[k] = rq->st[k].mult, shift[k] = rq->st[k].shift;
    rq->bounded = rqb_plan(acc_max, mult, shift, n, &rq->plan);
    if (rq->bounded && n > 1) {
        int32_t *t = xmalloc((size_t)n * sizeof *t);
        for (int f = 0; f < RQB_MAX_DIGITS + 4; f++) {
            if (f >= rq->plan.nd && f < RQB_MAX_DIGITS)
                continue;
            for (int64_t k = 0; k < n; k++) {
                RqbChan c = rqb_chan(&rq->plan, mult[k], shift[k]);
                t[k] = rqb_field(&c, f);
            }
            rq->rqb_tab[f] = cg_table_i32(cg, t, n, "rqb");
        }
        free(t);
    }
    free(mult);
    free(shift);
    /* The float form: vfmadd (FMA3, or AVX-512F) and vcvtps2dq, unless
     * the driver turned it off (-fno-float-output-stage: for A/B
     * measurements, docs/benchmarks.md).  Without per-channel ranges,
     * [-acc_max, acc_max]. */
    if ((kern_has(cg, "fma") || kern_has(cg, "avx512f")) && !cg->opts->no_fma && !cg->opts->no_float_stage) {
        int64_t mlo = -acc_max, mhi = acc_max;
        if (chan_lo && chan_hi)
            float_plan(cg, rq, chan_lo, chan_hi, nrange);
        else
            float_plan(cg, rq, &mlo, &mhi, 1);
    }
}

/* requant_tflite for |acc| <= acc_max in 32-bit lanes: requant_bound.c's
 * steps (and its proof), as rqb_eval does them; a digit that is 0 in
 * every channel is no multiply, one that is 1 is x itself. */
static LLVMValueRef requant_bounded(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0, int lanes, bool raw)
{
    const RqbPlan *pl = &rq->plan;
    bool one = rq->nch == 1;
    RqbChan c1 = rqb_chan(pl, rq->st[0].mult, rq->st[0].shift);
#define RQB(f) (one ? cg_splat(cg, cg_i32(cg, rqb_field(&c1, f)), lanes) : load(cg, cg->t_i32, lanes, rq->rqb_tab[f], c0))
    LLVMValueRef x = acc;
    if (rq->any_left)
        x = LLVMBuildShl(B, x, param(cg, rq, lanes, T_LEFT, rq->left, c0), "");
    LLVMValueRef t = NULL;
    for (int i = 0; i < pl->nd; i++) {
        bool all0 = true, all1 = true;
        for (int64_t k = 0; k < rq->nch; k++) {
            int32_t d = rqb_chan(pl, rq->st[k].mult, rq->st[k].shift).digit[i];
            all0 &= d == 0, all1 &= d == 1;
        }
        LLVMValueRef p = all0 ? NULL : all1 ? x : LLVMBuildMul(B, x, RQB(i), "");
        LLVMValueRef carry = t ? LLVMBuildAShr(B, t, cg_splat(cg, cg_i32(cg, pl->w), lanes), "") : NULL;
        t = !carry ? p : !p ? carry : LLVMBuildAdd(B, p, carry, "");
    }
    if (!t)
        t = cg_splat(cg, cg_i32(cg, 0), lanes);
    t = LLVMBuildAdd(B, t, RQB(F_KADD), "");
    if (rq->any_right) {
        LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, x, RQB(F_THR), "");
        t = LLVMBuildSub(B, t, LLVMBuildSelect(B, neg, RQB(F_KNEG), cg_splat(cg, cg_i32(cg, 0), lanes), ""), "");
    }
    LLVMValueRef v = LLVMBuildAShr(B, t, RQB(F_SHIFT), "");
#undef RQB
    if (raw)
        return v;
    LLVMValueRef lo = param(cg, rq, lanes, T_LOZ, rq->lo, c0), hi = param(cg, rq, lanes, T_HIZ, rq->hi, c0);
    v = cg_smin(cg, cg_smax(cg, v, lo), hi);
    return LLVMBuildAdd(B, v, param(cg, rq, lanes, T_ZP, rq->zp, c0), "");
}

/* The widest vcvtps2dq that divides LANES (4 at least). */
static int cvt_width(Cg *cg, int lanes)
{
    int w = kern_has(cg, "avx512f") ? 16 : kern_has(cg, "avx") || kern_has(cg, "avx2") || kern_has(cg, "fma") ? 8 : 4;
    while (w > 4 && lanes % w)
        w /= 2;
    return lanes % w ? 0 : w;
}

/* Y (<LANES x float>) rounded to i32 by vcvtps2dq (the MXCSR mode: to
 * nearest even), cvt_width lanes at a time. */
static LLVMValueRef cvt_ps2dq(Cg *cg, LLVMValueRef y, int lanes)
{
    int w = cvt_width(cg, lanes);
    LLVMTypeRef tw = LLVMVectorType(cg->t_i32, (unsigned)w);
    LLVMValueRef part[16], idx[64];
    for (int c = 0; c < lanes / w; c++) {
        LLVMValueRef x = y;
        if (w < lanes) {
            for (int i = 0; i < w; i++)
                idx[i] = cg_i32(cg, c * w + i);
            x = LLVMBuildShuffleVector(B, y, LLVMGetUndef(LLVMTypeOf(y)), LLVMConstVector(idx, (unsigned)w), "");
        }
        if (w == 16) {
            LLVMValueRef a[4] = {x, LLVMGetUndef(tw), LLVMConstInt(LLVMInt16TypeInContext(cg->ctx), 0xffff, 0),
                                 cg_i32(cg, 4)};
            part[c] = kern_intrinsic(cg, "llvm.x86.avx512.mask.cvtps2dq.512", NULL, 0, a, 4);
        } else {
            part[c] = kern_intrinsic(cg, w == 8 ? "llvm.x86.avx.cvt.ps2dq.256" : "llvm.x86.sse2.cvtps2dq", NULL, 0, &x, 1);
        }
    }
    return cg_concat(cg, part, lanes / w, w);
}

/* fma(A, S, B) rounded down and converted rounded down (vfmadd and
 * vcvtps2dq with {rd-sae}: 512-bit only), 16 lanes at a time; fewer
 * lanes widened to 16 (the upper lanes unused). */
static LLVMValueRef fma_floor(Cg *cg, LLVMValueRef a, LLVMValueRef s, LLVMValueRef b, int lanes)
{
    LLVMTypeRef i16 = LLVMVectorType(cg->t_i32, 16);
    LLVMValueRef part[4], idx[64], x[3] = {a, s, b};
    int n = lanes < 16 ? 1 : lanes / 16;
    for (int c = 0; c < n; c++) {
        LLVMValueRef y[4];
        for (int i = 0; i < 16; i++)
            idx[i] = c * 16 + i < lanes ? cg_i32(cg, c * 16 + i) : LLVMGetUndef(cg->t_i32);
        for (int k = 0; k < 3; k++)
            y[k] = lanes == 16 ? x[k] : LLVMBuildShuffleVector(B, x[k], LLVMGetUndef(LLVMTypeOf(x[k])), LLVMConstVector(idx, 16), "");
        y[3] = cg_i32(cg, 9); /* _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC */
        LLVMValueRef f = kern_intrinsic(cg, "llvm.x86.avx512.vfmadd.ps.512", NULL, 0, y, 4);
        LLVMValueRef cv[4] = {f, LLVMGetUndef(i16), LLVMConstInt(LLVMInt16TypeInContext(cg->ctx), 0xffff, 0), cg_i32(cg, 9)};
        part[c] = kern_intrinsic(cg, "llvm.x86.avx512.mask.cvtps2dq.512", NULL, 0, cv, 4);
    }
    if (lanes < 16) {
        for (int i = 0; i < lanes; i++)
            idx[i] = cg_i32(cg, i);
        return LLVMBuildShuffleVector(B, part[0], LLVMGetUndef(i16), LLVMConstVector(idx, (unsigned)lanes), "");
    }
    return cg_concat(cg, part, n, 16);
}

/* requant_float.c's form (and its proof) on the accumulator ranges:
 * vcvtdq2ps, the bias by the accumulator's sign (one for both where the
 * proof found one: KRequant.one_bias), vfmadd and vcvtps2dq
 * (RQF_RNE: rounding to nearest even, the default MXCSR mode, which
 * generated code never changes; RQF_FLOOR: both with {rd-sae}), the
 * clamp less the zero point and the zero point (or, RqfChan.zpin, the
 * zero point in the bias and the clamp), then each correction as a
 * compare and a masked add.  LANES a multiple of 4 (a power of two
 * times cvt_width; RQF_FLOOR: 4, 8, 16, 32 or 64).  RAW: the value
 * before the clamp and the zero point (with it: zpin), without
 * corrections (kern_requant_raw). */
static LLVMValueRef requant_float(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0, int lanes, bool raw)
{
    LLVMTypeRef tf = LLVMVectorType(cg->t_f32, (unsigned)lanes);
    bool one = rq->nch == 1;
#define RQF(f) (one ? cg_splat(cg, cg_i32(cg, rqf_field(&rq->rqf1, rq->nfix, f)), lanes) \
                    : load(cg, cg->t_i32, lanes, rq->rqf_tab[f], c0))
    LLVMValueRef af = LLVMBuildSIToFP(B, acc, tf, ""), b = RQF(1);
    if (!rq->one_bias) /* the bias by the accumulator's sign */
        b = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, acc, cg_splat(cg, cg_i32(cg, 0), lanes), ""), RQF(2), b,
                            "");
    b = LLVMBuildBitCast(B, b, tf, "");
    LLVMValueRef fa[3] = {af, LLVMBuildBitCast(B, RQF(0), tf, ""), b}, v;
    if (rq->rqf1.round == RQF_FLOOR)
        v = fma_floor(cg, fa[0], fa[1], fa[2], lanes);
    else
        v = cvt_ps2dq(cg, kern_intrinsic(cg, "llvm.fma", &tf, 1, fa, 3), lanes);
    if (raw) /* no corrections (kern_requant_raw) */
        return v;
    if (rq->rqf1.zpin) { /* the zero point in the bias: one clamp range (same_zp_clamp) */
        v = cg_smin(cg, cg_smax(cg, v, cg_splat(cg, cg_i32(cg, (int32_t)rq->st[0].lo), lanes)),
                    cg_splat(cg, cg_i32(cg, (int32_t)rq->st[0].hi), lanes));
    } else {
        LLVMValueRef lo = param(cg, rq, lanes, T_LOZ, rq->lo, c0), hi = param(cg, rq, lanes, T_HIZ, rq->hi, c0);
        v = cg_smin(cg, cg_smax(cg, v, lo), hi);
        v = LLVMBuildAdd(B, v, param(cg, rq, lanes, T_ZP, rq->zp, c0), "");
    }
    for (int j = 0; j < rq->nfix; j++) {
        LLVMValueRef hit = LLVMBuildICmp(B, LLVMIntEQ, acc, RQF(3 + j), "");
        v = LLVMBuildSelect(B, hit, LLVMBuildAdd(B, v, RQF(3 + rq->nfix + j), ""), v, "");
    }
#undef RQF
    return v;
}

/* Word I of channel C0's requant_sat parameters. */
static LLVMValueRef sat_param(Cg *cg, const KRequant *rq, int i, LLVMValueRef c0)
{
    if (rq->nch == 1)
        return cg_i32(cg, sat_field(&rq->st[0], i));
    LLVMValueRef k = LLVMBuildAdd(B, LLVMBuildMul(B, c0, cg_idx(cg, 3), ""), cg_idx(cg, i), "");
    LLVMValueRef v = LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, cg->t_i32, rq->sat_tab, &k, 1, ""), "");
    LLVMSetAlignment(v, 4);
    return v;
}

/* The TFLite stage on one channel (a <1 x i32>) in fewer instructions, for
 * a Cortex-M with the DSP extension, exactly (sat_ok's conditions):
 *   - the rounding divide by 2^s, ties away from zero, is
 *     (v - [v < 0] + 2^(s-1)) >> s: both add 1 to floor(v / 2^s) exactly
 *     when the remainder reaches 2^(s-1) + [v < 0]; v - [v < 0] is
 *     v + (v >> 31) (v >= INT32_MIN + 1 after the doubling high multiply);
 *   - the zero point joins the rounding term as zp * 2^s (one add);
 *   - that add saturates (qadd): when it would overflow, the true result
 *     and INT32_MAX >> s (or INT32_MIN >> s) both lie beyond the clamp
 *     range for s <= 23, so the clamp gives the same byte;
 *   - the clamp bounds are constants (one range for every channel): ssat
 *     for the full int8 range.
 * Without a right shift: clamp(qadd(v, zp)), the same argument. */
static LLVMValueRef requant_sat(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0)
{
    LLVMTypeRef t32 = cg->t_i32, t64 = cg->t_i64;
    LLVMValueRef x = LLVMBuildExtractElement(B, acc, cg_i32(cg, 0), "");
    if (rq->any_left) {
        LLVMValueRef l = rq->nch == 1 ? cg_i32(cg, field(&rq->st[0], T_LEFT))
                                      : LLVMBuildLoad2(B, t32, LLVMBuildInBoundsGEP2(B, t32, rq->left, &c0, 1, ""), "");
        x = LLVMBuildShl(B, x, l, "");
    }
    LLVMValueRef m = sat_param(cg, rq, 0, c0);
    int left = 0;
    for (int64_t k = 0; k < rq->nch; k++)
        left = rq->st[k].shift > left ? rq->st[k].shift : left;
    LLVMValueRef v;
    if (rq->acc_max > 0 && left < 30 && rq->acc_max < (INT64_C(1) << (30 - left))) {
        /* |x| < 2^30: (x*m + 2^30) >> 31 = (2x*m + 2^31) >> 32, smmulr */
        LLVMValueRef ab = LLVMBuildNSWMul(B, LLVMBuildSExt(B, LLVMBuildShl(B, x, cg_i32(cg, 1), ""), t64, ""),
                                          LLVMBuildSExt(B, m, t64, ""), "");
        LLVMValueRef q = LLVMBuildLShr(B, LLVMBuildAdd(B, ab, cg_i64(cg, INT64_C(1) << 31), ""), cg_i64(cg, 32), "");
        v = LLVMBuildTrunc(B, q, t32, "");
    } else {
        LLVMValueRef ab = LLVMBuildNSWMul(B, LLVMBuildSExt(B, x, t64, ""), LLVMBuildSExt(B, m, t64, ""), "");
        LLVMValueRef q = LLVMBuildAShr(B, LLVMBuildNSWAdd(B, ab, cg_i64(cg, INT64_C(1) << 30), ""), cg_i64(cg, 31), "");
        v = LLVMBuildTrunc(B, q, t32, "");
    }
    if (rq->any_min_mult && !(rq->acc_max > 0 && rq->acc_max < (INT64_C(1) << 30))) {
        LLVMValueRef imin = cg_i32(cg, INT32_MIN);
        LLVMValueRef both = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntEQ, x, imin, ""),
                                         LLVMBuildICmp(B, LLVMIntEQ, m, imin, ""), "");
        v = LLVMBuildSelect(B, both, cg_i32(cg, INT32_MAX), v, "");
    }
    if (rq->any_right)
        v = LLVMBuildAdd(B, v, LLVMBuildAShr(B, v, cg_i32(cg, 31), ""), "");
    LLVMValueRef a[2] = {v, sat_param(cg, rq, 1, c0)};
    v = kern_intrinsic(cg, "llvm.sadd.sat", &t32, 1, a, 2);
    if (rq->any_right)
        v = LLVMBuildAShr(B, v, sat_param(cg, rq, 2, c0), "");
    v = cg_smin(cg, cg_smax(cg, v, cg_i32(cg, (int32_t)rq->st[0].lo)), cg_i32(cg, (int32_t)rq->st[0].hi));
    return LLVMBuildInsertElement(B, LLVMGetUndef(LLVMTypeOf(acc)), v, cg_i32(cg, 0), "");
}

/* Whether requant_float takes LANES: a power of two times cvt_width. */
static bool float_ok(Cg *cg, const KRequant *rq, int lanes)
{
    int w = cvt_width(cg, lanes);
    return rq->flt && lanes <= 64 && w && (lanes / w & (lanes / w - 1)) == 0;
}

bool kern_requant_uniform(const KRequant *rq, int32_t *zp, int32_t *lo, int32_t *hi)
{
    if (rq->sat || rq->rounding != ROUND_TFLITE || (rq->flt && rq->nfix) || !same_zp_clamp(rq))
        return false;
    *zp = rq->st[0].zp, *lo = (int32_t)rq->st[0].lo, *hi = (int32_t)rq->st[0].hi;
    return true;
}

/* With the zero point in the float form's bias (RqfChan.zpin), the raw
 * values carry it (kern_requant_raw) and NW's is 0. */
bool kern_requant_narrow(const KRequant *rq, bool u8, KNarrow *nw)
{
    int32_t tlo = u8 ? 0 : -128, thi = u8 ? 255 : 127;
    if (!(kern_requant_uniform(rq, &nw->zp, &nw->lo, &nw->hi) && nw->lo >= tlo && nw->hi <= thi && nw->zp >= tlo &&
          nw->zp <= thi))
        return false;
    if (rq->flt && rq->rqf1.zpin)
        nw->zp = 0;
    return true;
}

/* The zero point is added here to the forms other than the float one
 * (lane counts float_ok refuses) where kern_requant_narrow said 0. */
LLVMValueRef kern_requant_raw(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0)
{
    int lanes = (int)LLVMGetVectorSize(LLVMTypeOf(acc));
    if (float_ok(cg, rq, lanes))
        return requant_float(cg, rq, acc, c0, lanes, true);
    LLVMValueRef v = rq->bounded ? requant_bounded(cg, rq, acc, c0, lanes, true)
                                 : requant_tflite(cg, rq, acc, c0, lanes, true);
    if (rq->flt && rq->rqf1.zpin)
        v = LLVMBuildAdd(B, v, cg_splat(cg, cg_i32(cg, rq->st[0].zp), lanes), "");
    return v;
}

LLVMValueRef kern_requant(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0)
{
    int lanes = (int)LLVMGetVectorSize(LLVMTypeOf(acc));
    if (rq->sat) { /* lane by lane: no vector unit (Cortex-M) */
        LLVMValueRef r = LLVMGetUndef(LLVMTypeOf(acc));
        for (int l = 0; l < lanes; l++) {
            LLVMValueRef a = LLVMBuildExtractElement(B, acc, cg_i32(cg, l), "");
            LLVMValueRef one = LLVMBuildInsertElement(B, LLVMGetUndef(LLVMVectorType(cg->t_i32, 1)), a, cg_i32(cg, 0), "");
            one = requant_sat(cg, rq, one, l ? LLVMBuildAdd(B, c0, cg_idx(cg, l), "") : c0);
            r = LLVMBuildInsertElement(B, r, LLVMBuildExtractElement(B, one, cg_i32(cg, 0), ""), cg_i32(cg, l), "");
        }
        return r;
    }
    if (float_ok(cg, rq, lanes))
        return requant_float(cg, rq, acc, c0, lanes, false);
    if (rq->bounded)
        return requant_bounded(cg, rq, acc, c0, lanes, false);
    if (rq->rounding == ROUND_TFLITE)
        return requant_tflite(cg, rq, acc, c0, lanes, false);
    const OutStage *s = rq->st;
    bool one = rq->nch == 1;
    LLVMValueRef zp = one ? cg_splat(cg, cg_i32(cg, s[0].zp), lanes) : load(cg, cg->t_i32, lanes, rq->zp, c0);
    LLVMValueRef lo = one ? cg_splat(cg, cg_i32(cg, s[0].lo), lanes) : load(cg, cg->t_i32, lanes, rq->lo, c0);
    LLVMValueRef hi = one ? cg_splat(cg, cg_i32(cg, s[0].hi), lanes) : load(cg, cg->t_i32, lanes, rq->hi, c0);
    LLVMValueRef m = one ? cg_splat(cg, cg_f64(cg, s[0].m), lanes) : load(cg, cg->t_f64, lanes, rq->m, c0);
    return cg_add_zp_clamp(cg, cg_rne_prod(cg, acc, m), zp, lo, hi);
}
