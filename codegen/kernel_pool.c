/* kernel_pool.c - the 8-bit max pool and the TFLite average pools (global
 * included) in vector lanes, with the window's border split from its
 * interior at compile time.
 *
 * The interpreter (interp_nn.c) walks, per output pixel and channel, the
 * window's taps inside the image: max of the bytes, or the sum, the count
 * of taps inside (or the whole window with count_include_pad) and TFLite's
 * rounded division, requantized when the scales differ.  Here, per output
 * row (b, oy):
 *
 *   - the window rows inside the image are checked once per row tap (a
 *     scalar compare on iy, the same for every pixel and lane of the row);
 *   - the output columns whose every window column is inside the image,
 *     [OX0, OX1) (known at compile time), take the taps unrolled and
 *     unchecked ("interior");
 *   - the few columns left and right of them check each column tap
 *     ("border"), as the generic loop does.
 *
 * Two interior forms:
 *
 *   - pool_{max,avg}_c<L>: L channels of one pixel in the lanes, the last
 *     step overlapping the one before when C is not a multiple of L; for
 *     any stride (2x2/2 pools, global averages);
 *   - pool_{max,avg}_rows<L>: x stride 1 and fewer than 16 channels (M-LSD's
 *     1-channel 3x3 max pool over 160x160): the interior of an output row
 *     is OX1 - OX0 pixels of C bytes, contiguous, and tap (ky, kx) reads
 *     the input row's bytes at the same offsets shifted by (kx*dx - pl)*C,
 *     so L bytes of the flattened row are L lanes whatever C is.
 *
 * Two max pools take their own loops first: pool_max_2x2s2 (2x2 / 2) and
 * pool_max_sep (x stride 1, dilation 1, short rows: separable, each input
 * row's horizontal max computed once).
 *
 * Max pools compare the bytes themselves (signed or unsigned); averages sum
 * in i16 lanes when the window's sum fits (the taps' largest magnitude
 * times their count below 2^15), else in i32, and the output stage is the
 * generic loop's per lane: the rounded division as a float32 division
 * truncated (exact for |numerator| < 2^24, which KK < 16384 guarantees:
 * the quotient is then never within float32's error of an integer it is
 * not equal to; Helium: an integer division, see below; a constant
 * power-of-two count: shifts, pow2_round_div), the requantization
 * through fixedpoint_ir.c.  Every overlapping step rewrites
 * bytes with their own values, so the result must not share the input's
 * buffer.  Targets without 16-byte vectors, float pools and ONNX-rounded
 * averages stay in the generic loops (lower_nn.c).
 */
#include "kernel_int8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define B (cg->b)

enum { POOL_LANES = 16, POOL_WIDE = 64, POOL_UNROLL = 16 };

typedef struct Pool {
    DType dt, ydt;
    int64_t nb, H, W, C, OH, OW, kk;
    int64_t k[2], st[2], dl[2], pd[2];
    bool is_max, include_pad, mve, same_q, narrow;
    OutStage tfl;
    const KLut *lut;  /* kern_pool_lut: the target's byte lookup, */
    uint8_t tab[256]; /* and the requantization of every average byte */
    QParam xp, yp;
    LLVMValueRef x, y;
} Pool;

/* The accumulator of L lanes: the bytes for a max, else i16 or i32. */
static LLVMTypeRef acc_type(Cg *cg, const Pool *p, unsigned L)
{
    return LLVMVectorType(p->is_max ? cg->t_i8 : p->narrow ? cg->t_i16 : cg->t_i32, L);
}

static LLVMValueRef acc_init(Cg *cg, const Pool *p, unsigned L)
{
    LLVMTypeRef at = acc_type(cg, p, L);
    int64_t v = p->is_max ? dtype_traits[p->dt].min : 0;
    return cg_splat(cg, LLVMConstInt(LLVMGetElementType(at), (unsigned long long)v, 1), L);
}

/* The L bytes at input offset OFF in the accumulator's lanes. */
static LLVMValueRef tap_val(Cg *cg, const Pool *p, unsigned L, LLVMValueRef off)
{
    LLVMValueRef v = kern_load_vec(cg, LLVMVectorType(cg->t_i8, L), cg_gep8(cg, p->x, off));
    if (p->is_max)
        return v;
    LLVMTypeRef at = acc_type(cg, p, L);
    return p->dt == DT_U8 ? LLVMBuildZExt(B, v, at, "") : LLVMBuildSExt(B, v, at, "");
}

/* A and V combined: their max, or their sum. */
static LLVMValueRef combine(Cg *cg, const Pool *p, LLVMValueRef a, LLVMValueRef v)
{
    if (!p->is_max)
        return LLVMBuildAdd(B, a, v, "");
    LLVMValueRef gt = LLVMBuildICmp(B, p->dt == DT_U8 ? LLVMIntUGT : LLVMIntSGT, v, a, "");
    return LLVMBuildSelect(B, gt, v, a, "");
}

/* ACC combined with the L bytes at input offset OFF. */
static LLVMValueRef acc_tap(Cg *cg, const Pool *p, unsigned L, LLVMValueRef acc, LLVMValueRef off)
{
    return combine(cg, p, acc, tap_val(cg, p, L, off));
}

/* TFLite's rounded division of the BITS-bit lanes S by a constant CNT
 * (half away from zero, then truncated) when CNT is a power of two 2^k,
 * else NULL: (s + CNT/2 − [s < 0]) >> k, arithmetic.  For s >= 0 that is
 * floor((s + CNT/2) / CNT); for s < 0, trunc((s − CNT/2) / CNT) =
 * ceil((s − CNT/2) / CNT) = floor((s + CNT/2 − 1) / CNT).  Four shifts
 * and adds where the select of ±CNT/2 and the division by a constant take
 * seven.  The caller's sums leave room for the CNT/2 (see store_out). */
static LLVMValueRef pow2_round_div(Cg *cg, LLVMValueRef s, int64_t cnt, unsigned bits)
{
    if (cnt < 2 || (cnt & (cnt - 1)) != 0)
        return NULL;
    int k = __builtin_ctzll((unsigned long long)cnt);
    LLVMTypeRef et = LLVMIntTypeInContext(cg->ctx, bits);
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(s));
#define vk(v) cg_splat(cg, LLVMConstInt(et, (unsigned long long)(v), 0), n)
    LLVMValueRef neg = LLVMBuildAShr(B, s, vk(bits - 1), ""); /* -1 or 0 */
    LLVMValueRef t = LLVMBuildAdd(B, LLVMBuildAdd(B, s, vk(cnt / 2), ""), neg, "");
    return LLVMBuildAShr(B, t, vk(k), "avg");
#undef vk
}

/* TFLite's rounded division of the lanes S (i16 or i32) by the constant
 * CNT, in their own width: pow2_round_div, else the select of ±CNT/2 and
 * a division by a constant (a multiply-high).  The caller's sums leave
 * room for the CNT/2. */
static LLVMValueRef round_div_const(Cg *cg, LLVMValueRef s, int64_t cnt)
{
    LLVMTypeRef wt = LLVMTypeOf(s), et = LLVMGetElementType(wt);
    unsigned L = LLVMGetVectorSize(wt);
    LLVMValueRef avg = pow2_round_div(cg, s, cnt, LLVMGetIntTypeWidth(et));
    if (avg)
        return avg;
#define vk(v) cg_splat(cg, LLVMConstInt(et, (unsigned long long)(v), 1), L)
    LLVMValueRef nonneg = LLVMBuildICmp(B, LLVMIntSGE, s, LLVMConstNull(wt), "");
    LLVMValueRef num = LLVMBuildSelect(B, nonneg, LLVMBuildAdd(B, s, vk(cnt / 2), ""),
                                       LLVMBuildSub(B, s, vk(cnt / 2), ""), "");
    return LLVMBuildSDiv(B, num, vk(cnt), "avg");
#undef vk
}

/* The L bytes V (<L x i8>) looked up in P's table with the target's
 * step of K lanes: widened to K lanes and back, or K lanes at a time. */
static LLVMValueRef lut_lanes(Cg *cg, const Pool *p, unsigned L, LLVMValueRef v)
{
    unsigned K = (unsigned)p->lut->lanes;
    LLVMValueRef m[POOL_WIDE];
    if (L == K)
        return p->lut->lookup(cg, p->tab, v);
    if (L < K) {
        for (unsigned i = 0; i < K; i++)
            m[i] = i < L ? cg_i32(cg, (int32_t)i) : LLVMGetUndef(cg->t_i32);
        LLVMValueRef w = LLVMBuildShuffleVector(B, v, LLVMGetUndef(LLVMTypeOf(v)), LLVMConstVector(m, K), "");
        w = p->lut->lookup(cg, p->tab, w);
        return LLVMBuildShuffleVector(B, w, LLVMGetUndef(LLVMTypeOf(w)), LLVMConstVector(m, L), "");
    }
    LLVMValueRef part[POOL_WIDE];
    unsigned np = L / K;
    for (unsigned c = 0; c < np; c++) {
        for (unsigned i = 0; i < K; i++)
            m[i] = cg_i32(cg, (int32_t)(c * K + i));
        part[c] = p->lut->lookup(cg, p->tab, LLVMBuildShuffleVector(B, v, LLVMGetUndef(LLVMTypeOf(v)),
                                                                      LLVMConstVector(m, K), ""));
    }
    return cg_concat(cg, part, (int)np, (int)K);
}

/* The output stage as a table (kern_pool_lut): a window's rounded average
 * lies in the input type's range, so the requantization that follows is
 * a function of one byte, P's table, looked up L lanes a step instead of
 * the 64-bit multiplies of cg_mbqm_dyn. */
static LLVMValueRef lut_out(Cg *cg, const Pool *p, unsigned L, LLVMValueRef a, int64_t cnt)
{
    LLVMValueRef v = LLVMBuildTrunc(B, round_div_const(cg, a, cnt), LLVMVectorType(cg->t_i8, L), "");
    return lut_lanes(cg, p, L, p->dt == DT_I8 ? kern_flip(cg, v) : v);
}

/* Stores L outputs at result offset YI from ACC, NV (i64) taps having been
 * inside the image. */
static void store_out(Cg *cg, const Pool *p, unsigned L, LLVMValueRef a, LLVMValueRef nv, LLVMValueRef yi)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, L), bt = LLVMVectorType(cg->t_i8, L);
    if (!p->is_max && p->lut && LLVMIsConstant(nv) && !p->include_pad) {
        a = lut_out(cg, p, L, a, LLVMConstIntGetSExtValue(nv));
    } else if (!p->is_max && p->same_q && LLVMGetElementType(LLVMTypeOf(a)) == cg->t_i16 && LLVMIsConstant(nv) &&
        !p->include_pad) {
        /* The interior of a narrow average of one quantization: all taps
         * inside, the count a constant; the sum plus half the count stays
         * below 2^15 (narrow: kk * 255 < 2^15 for u8, kk * 128 for i8),
         * so the rounded division and the clamp run on the i16 lanes. */
        int64_t lo = dtype_traits[p->ydt].min, hi = dtype_traits[p->ydt].max;
#define vi16(v) cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned long long)(v), 1), L)
        a = cg_smin(cg, cg_smax(cg, round_div_const(cg, a, p->kk), vi16(lo)), vi16(hi));
#undef vi16
        a = LLVMBuildTrunc(B, a, bt, "");
    } else if (!p->is_max) {
        int64_t lo = dtype_traits[p->ydt].min, hi = dtype_traits[p->ydt].max;
#define vi32(v) cg_splat(cg, cg_i32(cg, v), L)
        if (LLVMGetElementType(LLVMTypeOf(a)) != cg->t_i32)
            a = LLVMBuildSExt(B, a, vt, "");
        LLVMValueRef count = p->include_pad ? cg_i64(cg, p->kk) : nv;
        LLVMValueRef zero_count = LLVMBuildICmp(B, LLVMIntEQ, count, cg_i64(cg, 0), "");
        LLVMValueRef cnt1 = LLVMBuildSelect(B, zero_count, cg_i64(cg, 1), count, "");
        LLVMValueRef pad_zp = LLVMBuildMul(B, LLVMBuildSub(B, count, nv, ""), cg_i64(cg, p->xp.zp), "");
        LLVMValueRef s = LLVMBuildAdd(B, a, cg_splat(cg, LLVMBuildTrunc(B, pad_zp, cg->t_i32, ""), L), "");
        LLVMValueRef half = cg_splat(cg, LLVMBuildTrunc(B, LLVMBuildSDiv(B, cnt1, cg_i64(cg, 2), ""), cg->t_i32, ""), L);
        LLVMValueRef nonneg = LLVMBuildICmp(B, LLVMIntSGE, s, vi32(0), "");
        LLVMValueRef num = LLVMBuildSelect(B, nonneg, LLVMBuildAdd(B, s, half, ""), LLVMBuildSub(B, s, half, ""), "");
        LLVMValueRef avg = LLVMIsConstant(cnt1) ? pow2_round_div(cg, s, LLVMConstIntGetSExtValue(cnt1), 32) : NULL;
        if (!avg && (p->mve || LLVMIsConstant(cnt1))) {
            /* A count known at compile time (the interior's whole window):
             * the exact integer division by a constant, which LLVM turns
             * into a multiply-high and shifts. */
            /* Helium: the rounded division in integer lanes (a hardware
             * sdiv per lane; C's truncation is TFLite's).  LLVM 19's MVE
             * backend turns the float form's division by a constant power
             * of two (a window of 4 taps) into a fixed-point vcvt inside
             * the loop and emits it with a register for the fraction bits
             * (`vcvt.f32.s32 q3, q0, r12`): a 2x2 average pool came out all
             * zeros under QEMU (glue.qir's %pv). */
            avg = LLVMBuildSDiv(B, num, cg_splat(cg, LLVMBuildTrunc(B, cnt1, cg->t_i32, ""), L), "avg");
        } else if (!avg) {
            LLVMTypeRef ft = LLVMVectorType(cg->t_f32, L);
            LLVMValueRef q = LLVMBuildFDiv(B, LLVMBuildSIToFP(B, num, ft, ""),
                                           cg_splat(cg, LLVMBuildSIToFP(B, cnt1, cg->t_f32, ""), L), "");
            avg = LLVMBuildFPToSI(B, q, vt, "avg");
        }
        int32_t zp = p->same_q ? 0 : p->yp.zp;
        if (!p->same_q)
            avg = cg_mbqm_dyn(cg, LLVMBuildSub(B, avg, vi32(p->xp.zp), ""), vi32(p->tfl.mult), vi32(p->tfl.shift));
        a = LLVMBuildAdd(B, cg_smin(cg, cg_smax(cg, avg, vi32(lo - zp)), vi32(hi - zp)), vi32(zp), "");
        int64_t empty = p->yp.zp < lo ? lo : p->yp.zp > hi ? hi : p->yp.zp;
        a = LLVMBuildSelect(B, cg_splat(cg, zero_count, L), vi32(empty), a, "");
        a = LLVMBuildTrunc(B, a, bt, "");
#undef vi32
    }
    LLVMValueRef sv = LLVMBuildStore(B, a, cg_gep8(cg, p->y, yi));
    LLVMSetAlignment(sv, 1);
}

/* iy = oy*sy + ky*dy - pt for row tap KY (an idx value), and whether it is
 * inside the image (one unsigned compare). */
static LLVMValueRef row_tap(Cg *cg, const Pool *p, LLVMValueRef oy, LLVMValueRef ky, LLVMValueRef *in)
{
    LLVMValueRef iy = LLVMBuildAdd(B, cg_mulk(cg, oy, p->st[0]), cg_mulk(cg, ky, p->dl[0]), "");
    iy = LLVMBuildSub(B, iy, cg_idx(cg, p->pd[0]), "");
    *in = LLVMBuildICmp(B, LLVMIntULT, iy, cg_idx(cg, p->H), "");
    return iy;
}

/* The window of one output position: ACC over the taps from input offset
 * XI (the window's top-left tap's offset with iy = 0, as an idx value:
 * rows add iy * W * C, columns kx * dx * C).  CHECK_X: the columns are
 * checked against the image too, IX0 being the window's first column
 * (an idx value, possibly negative).  Returns the accumulator; *NV the
 * count of taps inside. */
static LLVMValueRef window(Cg *cg, const Pool *p, unsigned L, LLVMValueRef oy, LLVMValueRef xi, bool check_y,
                           bool check_x, LLVMValueRef ix0, LLVMValueRef *nv)
{
    LLVMValueRef acc = cg_alloca(cg, acc_type(cg, p, L), "pacc"), cnt = cg_alloca(cg, cg->t_i64, "pcnt");
    LLVMBuildStore(B, acc_init(cg, p, L), acc);
    LLVMBuildStore(B, cg_i64(cg, 0), cnt);
    CgLoop lky, lkx;
    CgIf sy, sx;
    /* A row inside the image in y with at most POOL_UNROLL row taps:
     * every tap unrolled, no compare at all. */
    bool unroll_y = !check_y && !check_x && p->k[0] <= POOL_UNROLL && p->k[1] <= POOL_UNROLL;
    if (unroll_y) {
        /* The taps combined as a balanced tree (sums and maxima are
         * associative): a chain of kk dependent steps would bound a global
         * pool's 64 taps by latency. */
        LLVMValueRef top = LLVMBuildSub(B, cg_mulk(cg, oy, p->st[0]), cg_idx(cg, p->pd[0]), "");
        LLVMValueRef r0 = LLVMBuildAdd(B, xi, cg_mulk(cg, top, p->W * p->C), "");
        LLVMValueRef v[POOL_UNROLL * POOL_UNROLL];
        int64_t nt = 0;
        for (int64_t ky = 0; ky < p->k[0]; ky++)
            for (int64_t kx = 0; kx < p->k[1]; kx++)
                v[nt++] = tap_val(cg, p, L, LLVMBuildAdd(B, r0, cg_idx(cg, (ky * p->dl[0] * p->W + kx * p->dl[1]) * p->C), ""));
        while (nt > 1) {
            int64_t h = nt / 2;
            for (int64_t i = 0; i < h; i++)
                v[i] = combine(cg, p, v[2 * i], v[2 * i + 1]);
            if (nt & 1)
                v[h] = v[nt - 1];
            nt = h + (nt & 1);
        }
        *nv = cg_i64(cg, p->kk);
        return v[0];
    }
    LLVMValueRef iny, ky = cg_for_begin(cg, &lky, p->k[0], "ky");
    LLVMValueRef iy = row_tap(cg, p, oy, ky, &iny);
    if (!check_y)
        iny = LLVMConstInt(cg->t_i1, 1, 0);
    cg_if_begin(cg, &sy, iny);
    LLVMValueRef row = LLVMBuildAdd(B, xi, cg_mulk(cg, iy, p->W * p->C), "");
    if (check_x) {
        LLVMValueRef kx = cg_for_begin(cg, &lkx, p->k[1], "kx");
        LLVMValueRef ix = LLVMBuildAdd(B, ix0, cg_mulk(cg, kx, p->dl[1]), "");
        cg_if_begin(cg, &sx, LLVMBuildICmp(B, LLVMIntULT, ix, cg_idx(cg, p->W), ""));
        LLVMValueRef off = LLVMBuildAdd(B, row, cg_mulk(cg, kx, p->dl[1] * p->C), "");
        LLVMBuildStore(B, acc_tap(cg, p, L, LLVMBuildLoad2(B, acc_type(cg, p, L), acc, ""), off), acc);
        LLVMBuildStore(B, LLVMBuildAdd(B, LLVMBuildLoad2(B, cg->t_i64, cnt, ""), cg_i64(cg, 1), ""), cnt);
        cg_if_end(cg, &sx);
        cg_for_end(cg, &lkx);
    } else {
        LLVMValueRef a = LLVMBuildLoad2(B, acc_type(cg, p, L), acc, "");
        if (p->k[1] <= POOL_UNROLL) {
            for (int64_t kx = 0; kx < p->k[1]; kx++)
                a = acc_tap(cg, p, L, a, LLVMBuildAdd(B, row, cg_idx(cg, kx * p->dl[1] * p->C), ""));
            LLVMBuildStore(B, a, acc);
        } else {
            LLVMValueRef kx = cg_for_begin(cg, &lkx, p->k[1], "kx");
            a = LLVMBuildLoad2(B, acc_type(cg, p, L), acc, "");
            LLVMBuildStore(B, acc_tap(cg, p, L, a, LLVMBuildAdd(B, row, cg_mulk(cg, kx, p->dl[1] * p->C), "")), acc);
            cg_for_end(cg, &lkx);
        }
        LLVMBuildStore(B, LLVMBuildAdd(B, LLVMBuildLoad2(B, cg->t_i64, cnt, ""), cg_i64(cg, p->k[1]), ""), cnt);
    }
    cg_if_end(cg, &sy);
    cg_for_end(cg, &lky);
    /* Unchecked, every tap is inside: the count is the window's. */
    *nv = check_y || check_x ? LLVMBuildLoad2(B, cg->t_i64, cnt, "") : cg_i64(cg, p->kk);
    return LLVMBuildLoad2(B, acc_type(cg, p, L), acc, "");
}

/* The lanes of a pixel's channel steps: the widest of 64, 32, 16 (16 when
 * the sum needs i32), or below 16 channels the largest power of two that
 * fits. */
static unsigned chan_lanes(const Pool *p)
{
    unsigned top = p->is_max || p->narrow ? POOL_WIDE : POOL_LANES;
    for (unsigned l = top; l > 1; l /= 2)
        if (p->C >= l)
            return l;
    return 1;
}

/* Output pixels [FROM, TO) of row (b, oy), L channels a step. */
static void pixels(Cg *cg, const Pool *p, LLVMValueRef b, LLVMValueRef oy, int64_t from, int64_t to, bool check_y,
                   bool check_x)
{
    if (to <= from)
        return;
    unsigned L = chan_lanes(p);
    CgLoop lx, lc;
    LLVMValueRef ox = LLVMBuildAdd(B, cg_for_begin(cg, &lx, to - from, "ox"), cg_idx(cg, from), "");
    LLVMValueRef c = cg_mulk(cg, cg_for_begin(cg, &lc, (p->C + L - 1) / L, "cv"), L);
    c = cg_smin(cg, c, cg_idx(cg, p->C - L));
    LLVMValueRef ix0 = LLVMBuildSub(B, cg_mulk(cg, ox, p->st[1]), cg_idx(cg, p->pd[1]), "");
    LLVMValueRef xi = LLVMBuildAdd(B, cg_mulk(cg, b, p->H * p->W * p->C), LLVMBuildAdd(B, cg_mulk(cg, ix0, p->C), c, ""), "");
    LLVMValueRef nv, a = window(cg, p, L, oy, xi, check_y, check_x, ix0, &nv);
    LLVMValueRef yi = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, p->OH), oy, ""), p->OW), ox, ""), p->C);
    store_out(cg, p, L, a, nv, LLVMBuildAdd(B, yi, c, ""));
    cg_for_end(cg, &lc);
    cg_for_end(cg, &lx);
}

/* The interior [OX0, OX1) of row (b, oy) as a flat run of (OX1 - OX0) * C
 * bytes, L a step (x stride 1). */
static void row_run(Cg *cg, const Pool *p, LLVMValueRef b, LLVMValueRef oy, int64_t ox0, int64_t ox1, unsigned L,
                    bool check_y)
{
    int64_t len = (ox1 - ox0) * p->C;
    CgLoop lj;
    LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (len + L - 1) / L, "j"), L);
    j = LLVMBuildAdd(B, cg_smin(cg, j, cg_idx(cg, len - L)), cg_idx(cg, ox0 * p->C), "");
    /* Input column of output column ox is ox - pl: the run's bytes shift by -pl * C. */
    LLVMValueRef xi = LLVMBuildAdd(B, cg_mulk(cg, b, p->H * p->W * p->C), LLVMBuildSub(B, j, cg_idx(cg, p->pd[1] * p->C), ""), "");
    LLVMValueRef nv, a = window(cg, p, L, oy, xi, check_y, false, NULL, &nv);
    LLVMValueRef yi = LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, p->OH), oy, ""), p->OW * p->C), j, "");
    store_out(cg, p, L, a, nv, yi);
    cg_for_end(cg, &lj);
}

/* pool_max_2x2s2: a 2x2 max pool of stride 2 without padding, OB output
 * bytes a step: the two input rows' 2 * OB bytes, their max, and the max
 * of its even and odd pixels (two constant shuffles), instead of C lanes
 * a pixel; the last step overlaps.  The shuffles move whole C-byte pixels
 * (vpermq / vpermt2b, unpck, uzp).
 *
 *   - a power-of-two C of at most 32 channels (U-Net's 8 and 16,
 *     Fashion-MNIST's 32): OB a power of two, the 2 * OB bytes one load;
 *   - any other C that is a multiple of 4, up to 64 (oww_embedding's 24):
 *     OB the most whole pixels in 64 bytes (48), the 2 * OB bytes two
 *     loads, V bytes at 0 (the power of two from OB: 64) and V2 at
 *     2 * OB - V2 (the power of two from 2 * OB - V: 32, at 64), both
 *     shuffles taking from the pair.  C a multiple of 4 keeps the
 *     shuffles' units dwords (pshufd on SSE2; 24: qwords, vpermt2q).
 *
 * Not on Helium (its byte shuffles became gathers elsewhere, see
 * kernel_elem.c). */
static const char *pool_max_s2(Cg *cg, const Pool *p)
{
    int64_t orow = p->OW * p->C, wc = p->W * p->C;
    bool pow2 = (p->C & (p->C - 1)) == 0;
    if (!p->is_max || p->k[0] != 2 || p->k[1] != 2 || p->st[0] != 2 || p->st[1] != 2 || p->dl[0] != 1 ||
        p->dl[1] != 1 || p->pd[0] != 0 || p->pd[1] != 0 || p->C > (pow2 ? 32 : POOL_WIDE) ||
        (!pow2 && p->C % 4 != 0) || p->mve || orow < 2 * p->C || 2 * p->OH > p->H || 2 * p->OW > p->W)
        return NULL;
    unsigned ob = POOL_WIDE, V, V2 = 1;
    if (pow2) {
        while (ob > orow)
            ob /= 2;
        V = 2 * ob;
    } else {
        ob = (unsigned)((orow < POOL_WIDE ? orow : POOL_WIDE) / p->C * p->C);
        for (V = 1; V < ob; V *= 2)
            ;
        while (V2 < 2 * ob - V)
            V2 *= 2;
    }
    /* Input byte t of the step: lane t of the first load, or of the
     * second (at 2 * OB - V2, widened to V lanes) in the pair's lanes V.. */
#define LANE(t) ((t) < V ? (t) : (t) + V + V2 - 2 * ob)
    LLVMTypeRef vi = LLVMVectorType(cg->t_i8, V);
    LLVMValueRef me[POOL_WIDE], mo[POOL_WIDE];
    for (unsigned l = 0; l < ob; l++) {
        unsigned q = l / (unsigned)p->C, c = l % (unsigned)p->C;
        me[l] = cg_i32(cg, (int32_t)LANE(2 * q * p->C + c)), mo[l] = cg_i32(cg, (int32_t)LANE((2 * q + 1) * p->C + c));
    }
#undef LANE
    CgLoop lb, ly, lj;
    LLVMValueRef b = cg_for_begin(cg, &lb, p->nb, "b"), oy = cg_for_begin(cg, &ly, p->OH, "oy");
    LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (orow + ob - 1) / ob, "j"), ob);
    j = cg_smin(cg, j, cg_idx(cg, orow - ob));
    LLVMValueRef xi = LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, p->H), cg_mulk(cg, oy, 2), ""), wc),
                                   cg_mulk(cg, j, 2), "");
    LLVMValueRef a = kern_load_vec(cg, vi, cg_gep8(cg, p->x, xi));
    LLVMValueRef e = kern_load_vec(cg, vi, cg_gep8(cg, p->x, LLVMBuildAdd(B, xi, cg_idx(cg, wc), "")));
    LLVMValueRef m = combine(cg, p, a, e), m2 = LLVMGetUndef(vi);
    if (!pow2) { /* the second load of each row */
        LLVMTypeRef v2 = LLVMVectorType(cg->t_i8, V2);
        LLVMValueRef x2 = LLVMBuildAdd(B, xi, cg_idx(cg, 2 * ob - V2), "");
        a = kern_load_vec(cg, v2, cg_gep8(cg, p->x, x2));
        e = kern_load_vec(cg, v2, cg_gep8(cg, p->x, LLVMBuildAdd(B, x2, cg_idx(cg, wc), "")));
        LLVMValueRef w[POOL_WIDE];
        for (unsigned l = 0; l < V; l++)
            w[l] = l < V2 ? cg_i32(cg, (int32_t)l) : LLVMGetUndef(cg->t_i32);
        m2 = LLVMBuildShuffleVector(B, combine(cg, p, a, e), LLVMGetUndef(v2), LLVMConstVector(w, V), "");
    }
    m = combine(cg, p, LLVMBuildShuffleVector(B, m, m2, LLVMConstVector(me, ob), ""),
                LLVMBuildShuffleVector(B, m, m2, LLVMConstVector(mo, ob), ""));
    LLVMValueRef yi = LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, p->OH), oy, ""), orow), j, "");
    LLVMSetAlignment(LLVMBuildStore(B, m, cg_gep8(cg, p->y, yi)), 1);
    cg_for_end(cg, &lj);
    cg_for_end(cg, &ly);
    cg_for_end(cg, &lb);
    return "pool_max_2x2s2";
}

/* pool_max_sep<L>: a max pool of x stride 1 and dilation 1 whose output
 * rows are at most SEP_ROW bytes (M-LSD's 3x3 / 1 with padding 1 on one
 * channel at 160x160), separable: the max over a window is the max over
 * its rows of each row's max over the columns.  Per input row the
 * horizontal max H(iy) is L output bytes a vector (the row's n vectors
 * held in registers), each column tap one unaligned load of the input
 * row at the tap's offset; per output row the max of its k rows' H.  With
 * y stride 1 the k - 1 newest H rows carry over to the next output row,
 * so every input row's horizontal max is computed once.
 *
 * Padding: with dilation 1 a window that overlaps the image holds the
 * image's edge row and column next to any tap outside it, so a tap's row
 * or column clamped into the image reads a value the window holds anyway
 * and the max is unchanged (the interpreter skips such taps).  Rows are
 * clamped at run time (two scalar compares per row); the edge vectors of
 * a row, whose column taps clamp, take their L lanes from one
 * load of the row by a constant shuffle.  Every output pixel's window
 * must overlap the image (checked at compile time). */
enum { SEP_ROW = 1024, SEP_REGS = 24 };

/* The input bytes of tap KX for the L output bytes at S: one load of the
 * row at offset OFF and, when the lanes are not its bytes in order (the
 * tap's column clamped at the row's edges), the shuffle MASK.  With x
 * stride 1 the clamped positions of L consecutive output bytes never
 * span more than L bytes. */
typedef struct SepTap {
    int64_t off;
    bool shuffled;
    int mask[POOL_WIDE];
} SepTap;

static bool sep_tap(const Pool *p, int64_t s, unsigned L, int64_t kx, SepTap *t)
{
    int64_t pos[POOL_WIDE] = {0}, lo = INT64_MAX, hi = -1, rin = p->W * p->C;
    t->shuffled = false;
    for (unsigned l = 0; l < L; l++) {
        int64_t q = s + l, ix = q / p->C - p->pd[1] + kx;
        ix = ix < 0 ? 0 : ix > p->W - 1 ? p->W - 1 : ix;
        pos[l] = ix * p->C + q % p->C;
        lo = pos[l] < lo ? pos[l] : lo, hi = pos[l] > hi ? pos[l] : hi;
        t->shuffled |= pos[l] != pos[0] + l;
    }
    t->off = !t->shuffled ? pos[0] : lo + L > rin ? rin - L : lo;
    for (unsigned l = 0; l < L; l++)
        t->mask[l] = (int)(pos[l] - t->off);
    return hi < t->off + L;
}

/* The row's output vector positions: L apart, the last R - L. */
static int64_t sep_at(int64_t j, int64_t n, int64_t R, unsigned L)
{
    return j == n - 1 ? R - L : j * (int64_t)L;
}

/* H(iy) for the input row at byte offset ROW: N vectors of L bytes. */
static void sep_hrow(Cg *cg, const Pool *p, LLVMValueRef row, unsigned L, int64_t n, LLVMValueRef *h)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, L);
    for (int64_t j = 0; j < n; j++) {
        int64_t s = sep_at(j, n, p->OW * p->C, L);
        LLVMValueRef acc = NULL;
        for (int64_t kx = 0; kx < p->k[1]; kx++) {
            SepTap t;
            sep_tap(p, s, L, kx, &t);
            LLVMValueRef a = kern_load_vec(cg, vt, cg_gep8(cg, p->x, LLVMBuildAdd(B, row, cg_idx(cg, t.off), "")));
            if (t.shuffled) {
                LLVMValueRef m[POOL_WIDE];
                for (unsigned l = 0; l < L; l++)
                    m[l] = cg_i32(cg, t.mask[l]);
                a = LLVMBuildShuffleVector(B, a, LLVMGetUndef(vt), LLVMConstVector(m, L), "");
            }
            acc = acc ? combine(cg, p, acc, a) : a;
        }
        h[j] = acc;
    }
}

static const char *pool_max_sep(Cg *cg, const Pool *p)
{
    int64_t rin = p->W * p->C, rout = p->OW * p->C;
    if (!p->is_max || p->st[1] != 1 || p->dl[0] != 1 || p->dl[1] != 1 || p->mve || rout > SEP_ROW || rout < 16 ||
        rin < 16 || p->k[1] > POOL_UNROLL || p->k[0] > POOL_UNROLL)
        return NULL;
    /* Every window overlaps the image: the first and last rows and columns. */
    if (p->pd[0] > p->k[0] - 1 || (p->OH - 1) * p->st[0] - p->pd[0] > p->H - 1 || p->pd[1] > p->k[1] - 1 ||
        p->OW - 1 - p->pd[1] > p->W - 1)
        return NULL;
    unsigned L = POOL_WIDE;
    while (L > rout || L > rin)
        L /= 2;
    int64_t n = (rout + L - 1) / L;
    for (int64_t j = 0; j < n; j++)
        for (int64_t kx = 0; kx < p->k[1]; kx++) {
            SepTap t;
            if (!sep_tap(p, sep_at(j, n, rout, L), L, kx, &t))
                return NULL; /* not expected (see sep_tap) */
        }
    bool roll = p->st[0] == 1 && p->k[0] * n <= SEP_REGS;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, L);
    LLVMValueRef carry[POOL_UNROLL][SEP_ROW / 16], h[SEP_ROW / 16], v[POOL_UNROLL][SEP_ROW / 16];
    if (roll)
        for (int64_t r = 0; r < p->k[0] - 1; r++)
            for (int64_t j = 0; j < n; j++)
                carry[r][j] = cg_alloca(cg, vt, "hrow");
    CgLoop lb, ly;
    LLVMValueRef b = cg_for_begin(cg, &lb, p->nb, "b");
    LLVMValueRef img = cg_mulk(cg, b, p->H * rin);
#define ROW_AT(iy) LLVMBuildAdd(B, img, cg_mulk(cg, cg_smax(cg, cg_smin(cg, iy, cg_idx(cg, p->H - 1)), cg_idx(cg, 0)), rin), "")
    if (roll)
        for (int64_t r = 0; r < p->k[0] - 1; r++) {
            sep_hrow(cg, p, ROW_AT(cg_idx(cg, r - p->pd[0])), L, n, h);
            for (int64_t j = 0; j < n; j++)
                LLVMBuildStore(B, h[j], carry[r][j]);
        }
    LLVMValueRef oy = cg_for_begin(cg, &ly, p->OH, "oy");
    LLVMValueRef top = LLVMBuildSub(B, cg_mulk(cg, oy, p->st[0]), cg_idx(cg, p->pd[0]), "");
    for (int64_t ky = roll ? p->k[0] - 1 : 0; ky < p->k[0]; ky++)
        sep_hrow(cg, p, ROW_AT(LLVMBuildAdd(B, top, cg_idx(cg, ky), "")), L, n, v[ky]);
#undef ROW_AT
    if (roll)
        for (int64_t r = 0; r < p->k[0] - 1; r++)
            for (int64_t j = 0; j < n; j++)
                v[r][j] = LLVMBuildLoad2(B, vt, carry[r][j], "");
    LLVMValueRef yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, p->OH), oy, ""), rout);
    for (int64_t j = 0; j < n; j++) {
        LLVMValueRef m = v[0][j];
        for (int64_t ky = 1; ky < p->k[0]; ky++)
            m = combine(cg, p, m, v[ky][j]);
        LLVMSetAlignment(LLVMBuildStore(B, m, cg_gep8(cg, p->y, LLVMBuildAdd(B, yrow, cg_idx(cg, sep_at(j, n, rout, L)), ""))), 1);
    }
    if (roll)
        for (int64_t r = 0; r < p->k[0] - 1; r++)
            for (int64_t j = 0; j < n; j++)
                LLVMBuildStore(B, v[r + 1][j], carry[r][j]);
    cg_for_end(cg, &ly);
    cg_for_end(cg, &lb);
    static char name[24];
    snprintf(name, sizeof name, "pool_max_sep%u", L);
    return name;
}

/* A reduce_mean over adjacent axes (TFLite-rounded, 8-bit: the
 * interpreter's arithmetic is global_avg_pool's) as a global average pool
 * of those axes as H (W = 1), the axes before them as the batch and those
 * after as the channels: ViT's mean over 49 tokens of 64. */
static bool mean_block(const Node *n, Pool *p)
{
    const TensorType *xt = &n->operands[0]->type;
    const Attr *a = node_attr(n, ATTR_AXES);
    bool red[QNN_MAX_RANK] = {false};
    int first = xt->rank, last = -1;
    for (int i = 0; a && i < a->count; i++)
        if (a->u.ints[i] >= 0 && a->u.ints[i] < xt->rank) {
            int d = (int)a->u.ints[i];
            red[d] = true;
            first = d < first ? d : first, last = d > last ? d : last;
        }
    if (last < 0)
        return false;
    p->nb = p->H = p->C = 1;
    for (int d = 0; d < xt->rank; d++) {
        if (d >= first && d <= last && !red[d])
            return false; /* not one block */
        int64_t *f = d < first ? &p->nb : d <= last ? &p->H : &p->C;
        *f *= xt->dims[d];
    }
    p->W = p->OH = p->OW = 1;
    return p->C >= 16; /* fewer channels: as many steps as the generic loop */
}

/* Emits N with LUT (kern_pool_lut: an average pool that requantizes,
 * else NULL) or without (kern_pool). */
static const char *pool_emit(Cg *cg, const Node *n, const KLut *lut)
{
    if (n->op != OP_MAX_POOL && n->op != OP_AVG_POOL && n->op != OP_GLOBAL_AVG_POOL && n->op != OP_REDUCE_MEAN)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    Pool p = {.dt = xt->dtype, .ydt = yt->dtype, .is_max = n->op == OP_MAX_POOL};
    if (n->op == OP_REDUCE_MEAN && !mean_block(n, &p))
        return NULL;
    if (dtype_traits[p.dt].size != 1 || dtype_traits[p.ydt].size != 1 || p.dt == DT_F32 ||
        cg->target->vector_bytes < 16)
        return NULL;
    if (!p.is_max && (node_rounding(n) != ROUND_TFLITE || !quant_is_per_tensor(xt->quant) ||
                      !quant_is_per_tensor(yt->quant)))
        return NULL; /* ONNX rounding: the generic loop; per-axis: it reports the error */
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t pads[4];
    if (n->op != OP_REDUCE_MEAN) {
        p.nb = xt->dims[0], p.H = xt->dims[1], p.W = xt->dims[2], p.C = xt->dims[3];
        p.OH = yt->dims[1], p.OW = yt->dims[2];
    }
    if (n->op == OP_GLOBAL_AVG_POOL || n->op == OP_REDUCE_MEAN) {
        p.k[0] = p.H, p.k[1] = p.W;
        p.st[0] = p.st[1] = p.dl[0] = p.dl[1] = 1;
        memcpy(pads, zero4, sizeof pads);
    } else {
        node_ints(n, ATTR_KERNEL, p.k, 2, one2);
        node_ints(n, ATTR_STRIDES, p.st, 2, one2);
        node_ints(n, ATTR_DILATIONS, p.dl, 2, one2);
        node_ints(n, ATTR_PADS, pads, 4, zero4);
    }
    p.pd[0] = pads[0], p.pd[1] = pads[1];
    p.kk = p.k[0] * p.k[1];
    p.include_pad = n->op == OP_AVG_POOL && node_int(n, ATTR_COUNT_INCLUDE_PAD, 0) != 0;
    p.xp = qparam_chan(xt->quant, 0), p.yp = qparam_chan(yt->quant, 0);
    p.same_q = quant_equal(xt->quant, yt->quant) || (!xt->quant && !yt->quant);
    p.mve = kern_has(cg, "mve");
    p.narrow = p.kk * (p.dt == DT_U8 ? 255 : 128) < 32768;
    p.x = cg_buf(cg, n->operands[0]), p.y = cg_buf(cg, n->result);
    if (p.x == p.y || p.kk >= 16384 || p.C < 1 || (lut && (p.is_max || p.same_q)))
        return NULL;
    if (!p.is_max && !p.same_q) {
        p.tfl.m = (double)p.xp.scale / (double)p.yp.scale;
        if (!fp_quantize_multiplier(p.tfl.m, &p.tfl.mult, &p.tfl.shift))
            return NULL; /* the generic lowering reports it */
    }
    if (lut) {
        /* Entry i: the average byte i ^ 0x80 (i8) or i (u8), requantized
         * as the interpreter does (avg_pool_run). */
        p.lut = lut;
        for (int i = 0; i < 256; i++) {
            int64_t v = quant_avg_requant(p.dt == DT_I8 ? i - 128 : i, p.xp.zp, p.tfl.mult, p.tfl.shift, p.yp.zp);
            p.tab[i] = (uint8_t)fp_clamp_i64(v, dtype_traits[p.ydt].min, dtype_traits[p.ydt].max);
        }
    }
    const char *s2 = pool_max_s2(cg, &p);
    if (!s2)
        s2 = pool_max_sep(cg, &p);
    if (s2)
        return s2;
    /* Interior columns: ox * sx - pl >= 0 and ox * sx - pl + (kw - 1) * dx <= W - 1. */
    int64_t ox0 = (p.pd[1] + p.st[1] - 1) / p.st[1], last = p.W - 1 + p.pd[1] - (p.k[1] - 1) * p.dl[1];
    int64_t ox1 = last < 0 ? 0 : last / p.st[1] + 1;
    ox0 = ox0 > p.OW ? p.OW : ox0;
    ox1 = ox1 > p.OW ? p.OW : ox1 < ox0 ? ox0 : ox1;
    /* The row form: x stride 1, few channels, a run of at least 16 bytes. */
    int64_t run = (ox1 - ox0) * p.C;
    unsigned rl = 0;
    if (p.st[1] == 1 && p.C < POOL_LANES)
        for (unsigned l = p.is_max || p.narrow ? POOL_WIDE : POOL_LANES; l >= POOL_LANES && !rl; l /= 2)
            if (run >= l)
                rl = l;
    /* Interior rows likewise: [OY0, OY1) check no row tap. */
    int64_t oy0 = (p.pd[0] + p.st[0] - 1) / p.st[0], lasty = p.H - 1 + p.pd[0] - (p.k[0] - 1) * p.dl[0];
    int64_t oy1 = lasty < 0 ? 0 : lasty / p.st[0] + 1;
    oy0 = oy0 > p.OH ? p.OH : oy0;
    oy1 = oy1 > p.OH ? p.OH : oy1 < oy0 ? oy0 : oy1;
    const int64_t ys[4] = {0, oy0, oy1, p.OH};
    CgLoop lb, ly;
    LLVMValueRef b = cg_for_begin(cg, &lb, p.nb, "b");
    for (int part = 0; part < 3; part++) {
        if (ys[part + 1] <= ys[part])
            continue;
        bool check_y = part != 1;
        LLVMValueRef oy = LLVMBuildAdd(B, cg_for_begin(cg, &ly, ys[part + 1] - ys[part], "oy"), cg_idx(cg, ys[part]), "");
        pixels(cg, &p, b, oy, 0, ox0, check_y, true);
        if (rl)
            row_run(cg, &p, b, oy, ox0, ox1, rl, check_y);
        else
            pixels(cg, &p, b, oy, ox0, ox1, check_y, false);
        pixels(cg, &p, b, oy, ox1, p.OW, check_y, true);
        cg_for_end(cg, &ly);
    }
    cg_for_end(cg, &lb);
    static const char *const names[2][2][7] = {
        {{"pool_avg_c1", "pool_avg_c2", "pool_avg_c4", "pool_avg_c8", "pool_avg_c16", "pool_avg_c32", "pool_avg_c64"},
         {"", "", "", "", "pool_avg_rows16", "pool_avg_rows32", "pool_avg_rows64"}},
        {{"pool_max_c1", "pool_max_c2", "pool_max_c4", "pool_max_c8", "pool_max_c16", "pool_max_c32", "pool_max_c64"},
         {"", "", "", "", "pool_max_rows16", "pool_max_rows32", "pool_max_rows64"}},
    };
    unsigned l = rl ? rl : chan_lanes(&p), lg = 0;
    while ((1u << lg) < l)
        lg++;
    const char *kind = names[p.is_max][rl != 0][lg];
    if (!lut && n->op != OP_REDUCE_MEAN)
        return kind;
    /* A reduce_mean says so in its symbol and profile line:
     * reduce_mean_c32_lut_avx512vbmi, not pool_avg_c32_lut_avx512vbmi. */
    bool mean = n->op == OP_REDUCE_MEAN;
    static char name[64];
    snprintf(name, sizeof name, "%s%s%s%s", mean ? "reduce_mean_" : "", mean ? kind + strlen("pool_avg_") : kind,
             lut ? "_" : "", lut ? lut->name : "");
    return name;
}

const char *kern_pool(Cg *cg, const Node *n)
{
    return pool_emit(cg, n, NULL);
}

const char *kern_pool_lut(Cg *cg, const Node *n, const KLut *k)
{
    return pool_emit(cg, n, k);
}
