/* lower_nn.c - conv2d, dense, matmul and the pools as plain scalar loop
 * nests in the interpreter's order (ir/interp_nn.c): float accumulation
 * over ky, kx, c with no contraction, so float results match bit for bit;
 * integer accumulation in wrapping i32, which equals the interpreter's
 * exact int64 sum whenever that fits int32 (and when it does not, the
 * interpreter refuses to run the graph at all).  LLVM's vectorizer does
 * the generic vector path at -O2/-O3; per-target kernels replace these
 * through CgTarget.lower_node.
 */
#include "codegen.h"
#include "kernel_int8.h" /* kern_has */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

typedef struct Geom {
    int64_t n, h, w, c;    /* input NHWC */
    int64_t o, kh, kw, cg; /* weights OHWI; cg = C / group */
    int64_t oh, ow;
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t group;
} Geom;

/* iy = oy*sh - pt + ky*dh, and whether 0 <= iy < h (one unsigned compare). */
static LLVMValueRef tap(Cg *cg, LLVMValueRef o, int64_t s, int64_t p, LLVMValueRef k, int64_t d, int64_t lim,
                        LLVMValueRef *in)
{
    LLVMValueRef i = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, s), ""), LLVMBuildMul(B, k, cg_idx(cg, d), ""), "");
    i = LLVMBuildSub(B, i, cg_idx(cg, p), "");
    *in = LLVMBuildICmp(B, LLVMIntULT, i, cg_idx(cg, lim), "");
    return i;
}

/* Offset of (b, y, x, c) in an NHWC tensor of H x W x C. */
static LLVMValueRef nhwc_index(Cg *cg, LLVMValueRef b, LLVMValueRef y, LLVMValueRef x, LLVMValueRef c, int64_t H,
                               int64_t W, int64_t C)
{
    LLVMValueRef i = LLVMBuildAdd(B, LLVMBuildMul(B, b, cg_idx(cg, H), ""), y, "");
    i = LLVMBuildAdd(B, LLVMBuildMul(B, i, cg_idx(cg, W), ""), x, "");
    return LLVMBuildAdd(B, LLVMBuildMul(B, i, cg_idx(cg, C), ""), c, "");
}

/* The walk over the kernel taps of output pixel (oy, ox), shared by the
 * convs and the pools: the ky and kx loops, each row and column skipped
 * when it falls in the padding.  After conv_taps_begin, t->ky, t->kx are
 * the tap and t->iy, t->ix its input pixel; code emitted before
 * conv_taps_end runs once per tap inside the image (X_INSIDE: the caller
 * knows every column is, and only the rows are checked).  K, ST, DL are the
 * kernel size, strides and dilations (y, x), P the leading pads (y, x),
 * H and W the input's height and width. */
typedef struct ConvTaps {
    CgLoop lky, lkx;
    CgIf sy, sx;
    bool x_inside;
    LLVMValueRef ky, kx, iy, ix;
} ConvTaps;

static void conv_taps_begin(Cg *cg, ConvTaps *t, LLVMValueRef oy, LLVMValueRef ox, const int64_t k[2],
                            const int64_t st[2], const int64_t dl[2], const int64_t p[2], int64_t H, int64_t W,
                            bool x_inside)
{
    LLVMValueRef iny, inx;
    t->x_inside = x_inside;
    t->ky = cg_for_begin(cg, &t->lky, k[0], "ky");
    t->iy = tap(cg, oy, st[0], p[0], t->ky, dl[0], H, &iny);
    cg_if_begin(cg, &t->sy, iny);
    t->kx = cg_for_begin(cg, &t->lkx, k[1], "kx");
    t->ix = tap(cg, ox, st[1], p[1], t->kx, dl[1], W, &inx);
    if (!x_inside)
        cg_if_begin(cg, &t->sx, inx);
}

static void conv_taps_end(Cg *cg, ConvTaps *t)
{
    if (!t->x_inside)
        cg_if_end(cg, &t->sx);
    cg_for_end(cg, &t->lkx);
    cg_if_end(cg, &t->sy);
    cg_for_end(cg, &t->lky);
}

/* A conv's taps (conv_taps_begin with the Geom's kernel, strides,
 * dilations and leading pads). */
static void geom_taps_begin(Cg *cg, ConvTaps *t, const Geom *gm, LLVMValueRef oy, LLVMValueRef ox, bool x_inside)
{
    const int64_t k[2] = {gm->kh, gm->kw}, st[2] = {gm->sh, gm->sw}, dl[2] = {gm->dh, gm->dw}, p[2] = {gm->pt, gm->pl};
    conv_taps_begin(cg, t, oy, ox, k, st, dl, p, gm->h, gm->w, x_inside);
}

/* A pooling window's walk: conv_taps_begin, returning the input offset of
 * the tap at (b, iy, ix, c). */
static LLVMValueRef pool_window_begin(Cg *cg, ConvTaps *w, const TensorType *xt, LLVMValueRef b, LLVMValueRef oy,
                                      LLVMValueRef ox, LLVMValueRef c, const int64_t *k, const int64_t *st,
                                      const int64_t *dl, const int64_t *pd)
{
    const int64_t p[2] = {pd[0], pd[1]};
    conv_taps_begin(cg, w, oy, ox, k, st, dl, p, xt->dims[1], xt->dims[2], false);
    return nhwc_index(cg, b, w->iy, w->ix, c, xt->dims[1], xt->dims[2], xt->dims[3]);
}

static LLVMValueRef ld(Cg *cg, LLVMValueRef p)
{
    return LLVMBuildLoad2(B, LLVMGetAllocatedType(p), p, "");
}

/* The float lane conv's register tile: F32_PX output pixels of a row
 * times F32_VECS vectors of L output channels, F32_PX * F32_VECS
 * accumulators (8: with the 4 weight vectors, the input splat and a
 * product, 15 of SSE2's or AVX2's 16 registers; 16 accumulators of one
 * pixel spilled), each weight vector loaded once for all the tile's
 * pixels.  L is the compile's float vector width (f32_lanes): 4 (SSE2,
 * NEON), 8 with AVX, 16 with AVX-512F; every lane holds one output
 * channel's sum in the same order whatever L is, so the results do not
 * depend on it.  Generic vectors, split or scalarised where the target
 * has none; without float vector registers one pixel per tile. */
enum { F32_VECS = 4, F32_PX = 2 };

/* The float lanes of the compile's widest vector registers (kern_has: -mcpu and -mattr). */
static int f32_lanes(Cg *cg)
{
    if (kern_has(cg, "avx512f"))
        return 16;
    if (kern_has(cg, "avx"))
        return 8;
    return 4;
}

/* LANES floats at BASE + AT, ALIGN-byte aligned. */
static LLVMValueRef f32_vload(Cg *cg, LLVMValueRef base, LLVMValueRef at, int lanes, unsigned align)
{
    LLVMValueRef l = LLVMBuildLoad2(B, LLVMVectorType(cg->t_f32, (unsigned)lanes), cg_elem_ptr(cg, DT_F32, base, at), "");
    LLVMSetAlignment(l, align);
    return l;
}

typedef struct LaneConv {
    const Geom *gm;
    LLVMValueRef x, wtab, y;
    unsigned walign;  /* of the weight vectors: 16 when O is a multiple of lanes */
    int lanes;        /* f32_lanes: the vectors' width */
} LaneConv;

/* Output channels [o0, o0 + nv * lanes) of the NPX pixels ox0, ox0 + 1,
 * ... of row (b, oy): each sum 0 + x * w + x * w + ... over the taps in
 * ky, kx, c order in a register lane, then stored to y.  X_INSIDE: every
 * kx tap of these pixels is inside the image (the caller's interior
 * range), so only the rows are checked; otherwise NPX is 1. */
static void lane_tile(Cg *cg, const LaneConv *lc, LLVMValueRef b, LLVMValueRef oy, LLVMValueRef ox0, int npx,
                      bool x_inside, LLVMValueRef o0, int nv)
{
    const Geom *gm = lc->gm;
    int L = lc->lanes;
    LLVMTypeRef vt = LLVMVectorType(cg->t_f32, (unsigned)L);
    LLVMValueRef acc[F32_PX * F32_VECS], xrow[F32_PX], wv[F32_VECS];
    for (int i = 0; i < npx * nv; i++) {
        acc[i] = cg_alloca(cg, vt, "accv");
        LLVMBuildStore(B, LLVMConstNull(vt), acc[i]);
    }
    ConvTaps tp;
    geom_taps_begin(cg, &tp, gm, oy, ox0, x_inside);
    for (int p = 0; p < npx; p++) {
        LLVMValueRef ix = LLVMBuildAdd(B, tp.ix, cg_idx(cg, p * gm->sw), "");
        xrow[p] = cg_elem_ptr(cg, DT_F32, lc->x, nhwc_index(cg, b, tp.iy, ix, cg_idx(cg, 0), gm->h, gm->w, gm->c));
    }
    LLVMValueRef k = LLVMBuildAdd(B, LLVMBuildMul(B, tp.ky, cg_idx(cg, gm->kw), ""), tp.kx, "");
    LLVMValueRef wk = cg_elem_ptr(cg, DT_F32, lc->wtab,
                                  LLVMBuildAdd(B, LLVMBuildMul(B, k, cg_idx(cg, gm->cg * gm->o), ""), o0, ""));
    CgLoop lc_;
    LLVMValueRef c = cg_for_begin(cg, &lc_, gm->cg, "c");
    LLVMValueRef wc = LLVMBuildMul(B, c, cg_idx(cg, gm->o), "");
    for (int v = 0; v < nv; v++)
        wv[v] = f32_vload(cg, wk, LLVMBuildAdd(B, wc, cg_idx(cg, v * L), ""), L, lc->walign);
    for (int p = 0; p < npx; p++) {
        LLVMValueRef xs = cg_splat(cg, cg_load_f32(cg, xrow[p], c), (unsigned)L);
        for (int v = 0; v < nv; v++) {
            LLVMValueRef a = acc[p * nv + v];
            LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, a), LLVMBuildFMul(B, xs, wv[v], ""), ""), a);
        }
    }
    cg_for_end(cg, &lc_);
    conv_taps_end(cg, &tp);
    for (int p = 0; p < npx; p++) {
        LLVMValueRef px = nhwc_index(cg, b, oy, LLVMBuildAdd(B, ox0, cg_idx(cg, p), ""), o0, gm->oh, gm->ow, gm->o);
        for (int v = 0; v < nv; v++) {
            LLVMValueRef st = LLVMBuildStore(B, ld(cg, acc[p * nv + v]),
                                             cg_elem_ptr(cg, DT_F32, lc->y,
                                                         LLVMBuildAdd(B, px, cg_idx(cg, v * L), "")));
            LLVMSetAlignment(st, 4);
        }
    }
}

/* Every channel group of the NPX pixels from ox0: the whole blocks of
 * F32_VECS vectors, then one block of the remaining whole vectors. */
static void lane_tiles(Cg *cg, const LaneConv *lc, LLVMValueRef b, LLVMValueRef oy, LLVMValueRef ox0, int npx,
                       bool x_inside)
{
    int64_t blk = (int64_t)lc->lanes * F32_VECS, O = lc->gm->o, nblk = O / blk;
    int nv = (int)(O % blk / lc->lanes);
    if (nblk > 0) {
        CgLoop lob;
        LLVMValueRef ob = cg_for_begin(cg, &lob, nblk, "ob");
        lane_tile(cg, lc, b, oy, ox0, npx, x_inside, LLVMBuildMul(B, ob, cg_idx(cg, blk), ""), F32_VECS);
        cg_for_end(cg, &lob);
    }
    if (nv > 0)
        lane_tile(cg, lc, b, oy, ox0, npx, x_inside, cg_idx(cg, nblk * blk), nv);
}

/* A float conv2d or dense with constant weights and group 1 or
 * depthwise (one input channel per output channel), vectorized across
 * output channels with every output's sum in the interpreter's order
 * (conv_float: acc = 0; acc += x * w over ky, kx, c, skipping the taps in
 * the padding; acc + bias; the clamp), from weights re-laid at compile
 * time as [KH][KW][Cg][O]:
 *   - group 1, the whole vectors of channels: lane_tile's register
 *     tiles, F32_PX pixels at a time over the row's interior (the pixels
 *     whose kx taps are all inside the image: no column checks), one at a
 *     time at its edges;
 *   - the remaining channels (all of them when depthwise) in the output
 *     row, which is the accumulator: it starts at 0, then each tap adds
 *       yrow[o] = yrow[o] + x[c] * wt[ky][kx][c][o]     (group 1)
 *       yrow[o] = yrow[o] + x[o] * wt[ky][kx][0][o]     (depthwise)
 *     (the loop over o has no reduction, so LLVM's vectorizer runs it in
 *     vector lanes without reassociating anything);
 *   - then yrow[o] + bias[o] and the clamp over the whole row.
 * Returns false (having emitted nothing) when the node is not such. */
static bool lower_conv_f32_lanes(Cg *cg, const Node *n, const Geom *gm)
{
    const Value *xv = n->operands[0], *wv = n->operands[1];
    const Value *bv = n->num_operands > 2 ? n->operands[2] : NULL;
    int64_t O = gm->o, Cgr = gm->cg, KK = gm->kh * gm->kw;
    bool depthwise = Cgr == 1 && gm->group == O && O == gm->c;
    if (xv->type.dtype != DT_F32 || wv->kind != VAL_CONST || !wv->data || (gm->group != 1 && !depthwise))
        return false;
    const float *w = wv->data;
    float *wt = xmalloc((size_t)(KK * Cgr * O + 1) * sizeof *wt);
    for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < KK; k++)
            for (int64_t c = 0; c < Cgr; c++)
                wt[(k * Cgr + c) * O + o] = w[(o * KK + k) * Cgr + c];
    int L = f32_lanes(cg);
    LaneConv lc = {.gm = gm, .x = cg_buf(cg, xv), .y = cg_buf(cg, n->result), .walign = O % L ? 4 : 16, .lanes = L};
    lc.wtab = cg_rodata(cg, wt, (size_t)(KK * Cgr * O) * sizeof *wt, 16, "wt");
    free(wt);
    LLVMValueRef x = lc.x, wtab = lc.wtab, y = lc.y;
    LLVMValueRef bias = bv ? cg_buf(cg, bv) : NULL;
    int64_t tail0 = depthwise ? 0 : O / L * L;
    /* The row's interior: lo <= ox < hi when 0 <= ox*sw - pl and
     * ox*sw - pl + (kw-1)*dw <= w-1. */
    int npx = cg->target->vector_bytes >= 16 ? F32_PX : 1;
    int64_t lo = gm->pl <= 0 ? 0 : (gm->pl + gm->sw - 1) / gm->sw, last = gm->w - 1 + gm->pl - (gm->kw - 1) * gm->dw;
    int64_t hi = last < 0 ? 0 : last / gm->sw + 1;
    lo = lo < gm->ow ? lo : gm->ow;
    hi = hi < lo ? lo : hi > gm->ow ? gm->ow : hi;
    int64_t ntiles = tail0 > 0 ? (hi - lo) / npx : 0, nedge = gm->ow - ntiles * npx;
    CgLoop lb, lyy, lxx, lo_;
    LLVMValueRef b = cg_for_begin(cg, &lb, gm->n, "b");
    LLVMValueRef oy = cg_for_begin(cg, &lyy, gm->oh, "oy");
    if (tail0 > 0) {
        if (ntiles > 0) {
            LLVMValueRef t = cg_for_begin(cg, &lxx, ntiles, "tile");
            lane_tiles(cg, &lc, b, oy, LLVMBuildAdd(B, LLVMBuildMul(B, t, cg_idx(cg, npx), ""), cg_idx(cg, lo), ""),
                       npx, true);
            cg_for_end(cg, &lxx);
        }
        LLVMValueRef e = cg_for_begin(cg, &lxx, nedge, "edge");
        LLVMValueRef right = LLVMBuildICmp(B, LLVMIntUGE, e, cg_idx(cg, lo), "");
        LLVMValueRef ox = LLVMBuildAdd(B, e, LLVMBuildSelect(B, right, cg_idx(cg, ntiles * npx), cg_idx(cg, 0), ""), "");
        lane_tiles(cg, &lc, b, oy, ox, 1, false);
        cg_for_end(cg, &lxx);
    }
    LLVMValueRef ox = cg_for_begin(cg, &lxx, gm->ow, "ox");
    LLVMValueRef yrow = cg_elem_ptr(cg, DT_F32, y, nhwc_index(cg, b, oy, ox, cg_idx(cg, 0), gm->oh, gm->ow, O));
    LLVMValueRef o;
    if (tail0 < O) {
        o = LLVMBuildAdd(B, cg_for_begin(cg, &lo_, O - tail0, "o"), cg_idx(cg, tail0), "");
        cg_store_f32(cg, yrow, o, cg_f32(cg, 0.0f));
        cg_for_end(cg, &lo_);
        ConvTaps tp;
        geom_taps_begin(cg, &tp, gm, oy, ox, false);
        LLVMValueRef xrow = cg_elem_ptr(cg, DT_F32, x, nhwc_index(cg, b, tp.iy, tp.ix, cg_idx(cg, 0), gm->h, gm->w, gm->c));
        LLVMValueRef k = LLVMBuildAdd(B, LLVMBuildMul(B, tp.ky, cg_idx(cg, gm->kw), ""), tp.kx, "");
        LLVMValueRef wk = cg_elem_ptr(cg, DT_F32, wtab, LLVMBuildMul(B, k, cg_idx(cg, Cgr * O), ""));
        if (depthwise) {
            o = cg_for_begin(cg, &lo_, O, "o");
            LLVMValueRef p = LLVMBuildFMul(B, cg_load_f32(cg, xrow, o), cg_load_f32(cg, wk, o), "");
            cg_store_f32(cg, yrow, o, LLVMBuildFAdd(B, cg_load_f32(cg, yrow, o), p, ""));
            cg_for_end(cg, &lo_);
        } else {
            CgLoop lc_;
            LLVMValueRef c = cg_for_begin(cg, &lc_, Cgr, "c");
            LLVMValueRef xc = cg_load_f32(cg, xrow, c);
            LLVMValueRef wc = cg_elem_ptr(cg, DT_F32, wk, LLVMBuildMul(B, c, cg_idx(cg, O), ""));
            o = LLVMBuildAdd(B, cg_for_begin(cg, &lo_, O - tail0, "o"), cg_idx(cg, tail0), "");
            LLVMValueRef p = LLVMBuildFMul(B, xc, cg_load_f32(cg, wc, o), "");
            cg_store_f32(cg, yrow, o, LLVMBuildFAdd(B, cg_load_f32(cg, yrow, o), p, ""));
            cg_for_end(cg, &lo_);
            cg_for_end(cg, &lc_);
        }
        conv_taps_end(cg, &tp);
    }
    float amin = node_float(n, ATTR_ACT_MIN, -INFINITY), amax = node_float(n, ATTR_ACT_MAX, INFINITY);
    o = cg_for_begin(cg, &lo_, O, "o");
    LLVMValueRef v = LLVMBuildFAdd(B, cg_load_f32(cg, yrow, o), bias ? cg_load_f32(cg, bias, o) : cg_f32(cg, 0.0f), "");
    v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, v, cg_f32(cg, amin), ""), cg_f32(cg, amin), v, "");
    v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, v, cg_f32(cg, amax), ""), cg_f32(cg, amax), v, "");
    cg_store_f32(cg, yrow, o, v);
    cg_for_end(cg, &lo_);
    cg_for_end(cg, &lxx);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    return true;
}

static bool lower_conv(Cg *cg, const Node *n, const Geom *gm)
{
    const Value *xv = n->operands[0], *wv = n->operands[1];
    const Value *bv = n->num_operands > 2 ? n->operands[2] : NULL;
    const TensorType *yt = &n->result->type;
    bool is_float = xv->type.dtype == DT_F32;
    if (is_float && lower_conv_f32_lanes(cg, n, gm))
        return true;
    int rounding = node_rounding(n);
    int64_t O = gm->o, Cgr = gm->cg, opg = gm->o / gm->group;
    OutStage *st = NULL;
    int32_t *zw = NULL;
    int64_t nzw = 1;
    int32_t zx = 0;
    if (!is_float) {
        const Quant *xq = xv->type.quant, *wq = wv->type.quant;
        if (!quant_is_per_tensor(xq))
            return cg_fail(cg, n, "per-axis quantization of the input is not supported");
        zx = qparam_chan(xq, 0).zp;
        nzw = wq && wq->count > 1 ? O : 1;
        zw = xcalloc((size_t)nzw, sizeof *zw);
        for (int64_t o = 0; o < nzw; o++)
            zw[o] = qparam_chan(wq, o).zp;
        if (yt->quant) {
            st = cg_product_stage(cg, n, yt, xq, wq, O, rounding);
            if (!st) {
                free(zw);
                return false;
            }
        }
    }
    LLVMValueRef x = cg_buf(cg, xv), w = cg_buf(cg, wv), y = cg_buf(cg, n->result);
    LLVMValueRef bias = bv ? cg_buf(cg, bv) : NULL;
    LLVMValueRef zwt = nzw > 1 ? cg_table_i32(cg, zw, nzw, "zw") : NULL;
    LLVMValueRef acc = cg_alloca(cg, is_float ? cg->t_f32 : cg->t_i32, "acc");
    CgLoop lb, lyy, lxx, lo, lc;
    LLVMValueRef b = cg_for_begin(cg, &lb, gm->n, "b");
    LLVMValueRef oy = cg_for_begin(cg, &lyy, gm->oh, "oy");
    LLVMValueRef ox = cg_for_begin(cg, &lxx, gm->ow, "ox");
    LLVMValueRef o = cg_for_begin(cg, &lo, O, "o");
    LLVMValueRef zwo = NULL;
    if (!is_float) {
        zwo = zwt ? cg_load_int(cg, DT_I32, zwt, o) : cg_i32(cg, zw[0]);
        LLVMBuildStore(B, bias ? cg_load_int(cg, bv->type.dtype, bias, o) : cg_i32(cg, 0), acc);
    } else {
        LLVMBuildStore(B, cg_f32(cg, 0.0f), acc);
    }
    LLVMValueRef g0 = LLVMBuildMul(B, LLVMBuildUDiv(B, o, cg_idx(cg, opg), ""), cg_idx(cg, Cgr), "");
    ConvTaps tp;
    geom_taps_begin(cg, &tp, gm, oy, ox, false);
    LLVMValueRef ky = tp.ky, kx = tp.kx, iy = tp.iy, ix = tp.ix;
    LLVMValueRef xrow = LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B,
                            LLVMBuildMul(B, b, cg_idx(cg, gm->h), ""), iy, ""), cg_idx(cg, gm->w), ""), ix, ""),
                            cg_idx(cg, gm->c), ""), g0, "");
    LLVMValueRef wrow = LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B,
                            LLVMBuildMul(B, o, cg_idx(cg, gm->kh), ""), ky, ""), cg_idx(cg, gm->kw), ""), kx, ""),
                            cg_idx(cg, Cgr), "");
    LLVMValueRef c = cg_for_begin(cg, &lc, Cgr, "c");
    LLVMValueRef xi = LLVMBuildAdd(B, xrow, c, ""), wi = LLVMBuildAdd(B, wrow, c, "");
    if (is_float) {
        LLVMValueRef p = LLVMBuildFMul(B, cg_load_f32(cg, x, xi), cg_load_f32(cg, w, wi), "");
        LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, acc), p, ""), acc);
    } else {
        LLVMValueRef xs = LLVMBuildSub(B, cg_load_int(cg, xv->type.dtype, x, xi), cg_i32(cg, zx), "");
        LLVMValueRef ws = LLVMBuildSub(B, cg_load_int(cg, wv->type.dtype, w, wi), zwo, "");
        LLVMBuildStore(B, LLVMBuildAdd(B, ld(cg, acc), LLVMBuildMul(B, xs, ws, ""), ""), acc);
    }
    cg_for_end(cg, &lc);
    conv_taps_end(cg, &tp);
    LLVMValueRef yi = LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B,
                          LLVMBuildMul(B, b, cg_idx(cg, gm->oh), ""), oy, ""), cg_idx(cg, gm->ow), ""), ox, ""),
                          cg_idx(cg, O), ""), o, "");
    if (is_float) {
        LLVMValueRef v = ld(cg, acc);
        v = LLVMBuildFAdd(B, v, bias ? cg_load_f32(cg, bias, o) : cg_f32(cg, 0.0f), "");
        float amin = node_float(n, ATTR_ACT_MIN, -INFINITY), amax = node_float(n, ATTR_ACT_MAX, INFINITY);
        v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, v, cg_f32(cg, amin), ""), cg_f32(cg, amin), v, "");
        v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, v, cg_f32(cg, amax), ""), cg_f32(cg, amax), v, "");
        cg_store_f32(cg, y, yi, v);
    } else {
        LLVMValueRef a = ld(cg, acc), v;
        if (st)
            v = cg_outstage(cg, a, st, cg_stage_count(st, O), o, rounding);
        else
            v = cg_clamp_i32(cg, a, cg_i32(cg, dtype_traits[yt->dtype].min), cg_i32(cg, dtype_traits[yt->dtype].max));
        cg_store_int(cg, yt->dtype, y, yi, v);
    }
    cg_for_end(cg, &lo);
    cg_for_end(cg, &lxx);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    free(st);
    free(zw);
    return true;
}

bool lower_conv2d(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *wt = &n->operands[1]->type, *yt = &n->result->type;
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t st[2], dl[2], pd[4];
    node_ints(n, ATTR_STRIDES, st, 2, one2);
    node_ints(n, ATTR_DILATIONS, dl, 2, one2);
    node_ints(n, ATTR_PADS, pd, 4, zero4);
    Geom gm = {
        .n = xt->dims[0], .h = xt->dims[1], .w = xt->dims[2], .c = xt->dims[3],
        .o = wt->dims[0], .kh = wt->dims[1], .kw = wt->dims[2], .cg = wt->dims[3],
        .oh = yt->dims[1], .ow = yt->dims[2],
        .sh = st[0], .sw = st[1], .dh = dl[0], .dw = dl[1], .pt = pd[0], .pl = pd[1],
        .group = node_int(n, ATTR_GROUP, 1),
    };
    return lower_conv(cg, n, &gm);
}

bool lower_dense(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *wt = &n->operands[1]->type;
    Geom gm = {
        .n = xt->dims[0], .h = 1, .w = 1, .c = xt->dims[1],
        .o = wt->dims[0], .kh = 1, .kw = 1, .cg = wt->dims[1],
        .oh = 1, .ow = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1,
    };
    return lower_conv(cg, n, &gm);
}

bool lower_matmul(Cg *cg, const Node *n)
{
    const Value *av = n->operands[0], *bv = n->operands[1];
    const TensorType *at = &av->type, *bt = &bv->type, *yt = &n->result->type;
    int64_t M = at->dims[at->rank - 2], K = at->dims[at->rank - 1], N = bt->dims[bt->rank - 1];
    /* Batch dims, numpy-broadcast: strides in units of whole matrices. */
    int br = yt->rank - 2;
    int64_t sa[QNN_MAX_RANK] = {0}, sb[QNN_MAX_RANK] = {0}, sy[QNN_MAX_RANK] = {0};
    int64_t s = 1;
    for (int d = at->rank - 3; d >= 0; d--) {
        int od = d + (br - (at->rank - 2));
        sa[od] = at->dims[d] == 1 ? 0 : s;
        s *= at->dims[d];
    }
    s = 1;
    for (int d = bt->rank - 3; d >= 0; d--) {
        int od = d + (br - (bt->rank - 2));
        sb[od] = bt->dims[d] == 1 ? 0 : s;
        s *= bt->dims[d];
    }
    s = 1;
    for (int d = br - 1; d >= 0; d--) {
        sy[d] = s;
        s *= yt->dims[d];
    }
    bool is_float = at->dtype == DT_F32;
    int rounding = node_rounding(n);
    OutStage *st = NULL;
    int32_t za = 0, *zb = NULL;
    int64_t nzb = 1;
    if (!is_float) {
        const Quant *aq = at->quant, *bq = bt->quant;
        za = qparam_chan(aq, 0).zp;
        nzb = bq && bq->count > 1 ? N : 1;
        zb = xcalloc((size_t)nzb, sizeof *zb);
        for (int64_t j = 0; j < nzb; j++)
            zb[j] = qparam_chan(bq, j).zp;
        if (yt->quant) {
            st = cg_product_stage(cg, n, yt, aq, bq, N, rounding);
            if (!st) {
                free(zb);
                return false;
            }
        }
    }
    LLVMValueRef a = cg_buf(cg, av), b = cg_buf(cg, bv), y = cg_buf(cg, n->result);
    LLVMValueRef zbt = nzb > 1 ? cg_table_i32(cg, zb, nzb, "zb") : NULL;
    LLVMValueRef acc = cg_alloca(cg, is_float ? cg->t_f32 : cg->t_i32, "acc");
    CgNest nest;
    cg_nest_begin(cg, &nest, br, yt->dims);
    LLVMValueRef abase = LLVMBuildMul(B, cg_nest_offset(cg, &nest, sa), cg_idx(cg, M * K), "");
    LLVMValueRef bbase = LLVMBuildMul(B, cg_nest_offset(cg, &nest, sb), cg_idx(cg, K * N), "");
    LLVMValueRef ybase = LLVMBuildMul(B, cg_nest_offset(cg, &nest, sy), cg_idx(cg, M * N), "");
    CgLoop li, lj, lk;
    LLVMValueRef i = cg_for_begin(cg, &li, M, "i");
    LLVMValueRef j = cg_for_begin(cg, &lj, N, "j");
    LLVMBuildStore(B, is_float ? cg_f32(cg, 0.0f) : cg_i32(cg, 0), acc);
    LLVMValueRef zbj = is_float ? NULL : zbt ? cg_load_int(cg, DT_I32, zbt, j) : cg_i32(cg, zb[0]);
    LLVMValueRef k = cg_for_begin(cg, &lk, K, "k");
    LLVMValueRef ai = LLVMBuildAdd(B, abase, LLVMBuildAdd(B, LLVMBuildMul(B, i, cg_idx(cg, K), ""), k, ""), "");
    LLVMValueRef bi = LLVMBuildAdd(B, bbase, LLVMBuildAdd(B, LLVMBuildMul(B, k, cg_idx(cg, N), ""), j, ""), "");
    if (is_float) {
        LLVMValueRef p = LLVMBuildFMul(B, cg_load_f32(cg, a, ai), cg_load_f32(cg, b, bi), "");
        LLVMBuildStore(B, LLVMBuildFAdd(B, ld(cg, acc), p, ""), acc);
    } else {
        LLVMValueRef xa = LLVMBuildSub(B, cg_load_int(cg, at->dtype, a, ai), cg_i32(cg, za), "");
        LLVMValueRef xb = LLVMBuildSub(B, cg_load_int(cg, bt->dtype, b, bi), zbj, "");
        LLVMBuildStore(B, LLVMBuildAdd(B, ld(cg, acc), LLVMBuildMul(B, xa, xb, ""), ""), acc);
    }
    cg_for_end(cg, &lk);
    LLVMValueRef yi = LLVMBuildAdd(B, ybase, LLVMBuildAdd(B, LLVMBuildMul(B, i, cg_idx(cg, N), ""), j, ""), "");
    if (is_float) {
        cg_store_f32(cg, y, yi, ld(cg, acc));
    } else {
        LLVMValueRef v;
        if (st)
            v = cg_outstage(cg, ld(cg, acc), st, cg_stage_count(st, N), j, rounding);
        else
            v = cg_clamp_i32(cg, ld(cg, acc), cg_i32(cg, dtype_traits[yt->dtype].min),
                             cg_i32(cg, dtype_traits[yt->dtype].max));
        cg_store_int(cg, yt->dtype, y, yi, v);
    }
    cg_for_end(cg, &lj);
    cg_for_end(cg, &li);
    cg_nest_end(cg, &nest);
    free(st);
    free(zb);
    return true;
}

/* ------------------------------------------------------------ pools
 * (the 8-bit max and TFLite average pools on vector targets are
 * codegen/kernel_pool.c's; these loops do the rest) */

bool lower_pool(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t k[2], st[2], dl[2], pd[4];
    if (n->op == OP_GLOBAL_AVG_POOL) {
        k[0] = xt->dims[1], k[1] = xt->dims[2];
        st[0] = st[1] = dl[0] = dl[1] = 1;
        pd[0] = pd[1] = pd[2] = pd[3] = 0;
    } else {
        node_ints(n, ATTR_KERNEL, k, 2, one2);
        node_ints(n, ATTR_STRIDES, st, 2, one2);
        node_ints(n, ATTR_DILATIONS, dl, 2, one2);
        node_ints(n, ATTR_PADS, pd, 4, zero4);
    }
    int64_t C = xt->dims[3];
    DType dt = xt->dtype;
    bool is_float = dt == DT_F32, is_max = n->op == OP_MAX_POOL;
    bool include_pad = n->op == OP_AVG_POOL && node_int(n, ATTR_COUNT_INCLUDE_PAD, 0) != 0;
    int64_t kk = k[0] * k[1];
    int rounding = node_rounding(n);
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    bool same_q = quant_equal(xt->quant, yt->quant) || (!xt->quant && !yt->quant);
    OutStage tfl = {0};
    double *m_count = NULL;
    if (!is_max && !is_float) {
        if (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant))
            return cg_fail(cg, n, "per-axis quantization is not supported by average pooling");
        if (rounding == ROUND_TFLITE && !same_q) {
            tfl.m = (double)xp.scale / (double)yp.scale;
            if (!fp_quantize_multiplier(tfl.m, &tfl.mult, &tfl.shift))
                return cg_fail(cg, n, "scale ratio %g is not a TFLite multiplier", tfl.m);
        }
        m_count = xcalloc((size_t)(kk + 1), sizeof *m_count);
        for (int64_t c = 1; c <= kk; c++)
            m_count[c] = (double)xp.scale / ((double)yp.scale * (double)c);
    }
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMTypeRef at = is_float ? cg->t_f32 : is_max ? cg->t_i32 : cg->t_i64;
    LLVMValueRef acc = cg_alloca(cg, at, "acc"), valid = cg_alloca(cg, cg->t_i64, "valid");
    CgLoop lb, lyy, lxx, lc;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef oy = cg_for_begin(cg, &lyy, yt->dims[1], "oy");
    LLVMValueRef ox = cg_for_begin(cg, &lxx, yt->dims[2], "ox");
    LLVMValueRef c = cg_for_begin(cg, &lc, C, "c");
    LLVMBuildStore(B, is_float ? cg_f32(cg, is_max ? -INFINITY : 0.0f)
                      : is_max ? cg_i32(cg, dtype_traits[dt].min) : cg_i64(cg, 0), acc);
    LLVMBuildStore(B, cg_i64(cg, 0), valid);
    ConvTaps w;
    LLVMValueRef xi = pool_window_begin(cg, &w, xt, b, oy, ox, c, k, st, dl, pd);
    LLVMValueRef a = ld(cg, acc);
    if (is_float) {
        LLVMValueRef v = cg_load_f32(cg, x, xi);
        a = is_max ? LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, v, a, ""), v, a, "") : LLVMBuildFAdd(B, a, v, "");
    } else {
        LLVMValueRef v = cg_load_int(cg, dt, x, xi);
        a = is_max ? cg_smax(cg, a, v) : LLVMBuildAdd(B, a, LLVMBuildSExt(B, v, cg->t_i64, ""), "");
    }
    LLVMBuildStore(B, a, acc);
    LLVMBuildStore(B, LLVMBuildAdd(B, ld(cg, valid), cg_i64(cg, 1), ""), valid);
    conv_taps_end(cg, &w);
    LLVMValueRef yi = nhwc_index(cg, b, oy, ox, c, yt->dims[1], yt->dims[2], C);
    a = ld(cg, acc);
    LLVMValueRef nv = ld(cg, valid);
    LLVMValueRef count = include_pad ? cg_i64(cg, kk) : nv;
    LLVMValueRef zero_count = LLVMBuildICmp(B, LLVMIntEQ, count, cg_i64(cg, 0), "");
    if (is_max) {
        if (is_float)
            cg_store_f32(cg, y, yi, a);
        else
            cg_store_int(cg, dt, y, yi, a);
    } else if (is_float) {
        LLVMValueRef q = LLVMBuildFDiv(B, a, LLVMBuildSIToFP(B, count, cg->t_f32, ""), "");
        cg_store_f32(cg, y, yi, LLVMBuildSelect(B, zero_count, cg_f32(cg, NAN), q, ""));
    } else {
        int64_t lo = dtype_traits[yt->dtype].min, hi = dtype_traits[yt->dtype].max;
        LLVMValueRef zp = cg_i32(cg, yp.zp), lo32 = cg_i32(cg, lo), hi32 = cg_i32(cg, hi), v;
        LLVMValueRef cnt1 = LLVMBuildSelect(B, zero_count, cg_i64(cg, 1), count, "");
        if (rounding == ROUND_TFLITE) {
            LLVMValueRef s = LLVMBuildAdd(B, a, LLVMBuildMul(B, LLVMBuildSub(B, count, nv, ""), cg_i64(cg, xp.zp), ""), "");
            LLVMValueRef half = LLVMBuildSDiv(B, cnt1, cg_i64(cg, 2), "");
            LLVMValueRef nonneg = LLVMBuildICmp(B, LLVMIntSGE, s, cg_i64(cg, 0), "");
            LLVMValueRef num = LLVMBuildSelect(B, nonneg, LLVMBuildAdd(B, s, half, ""), LLVMBuildSub(B, s, half, ""), "");
            LLVMValueRef avg = LLVMBuildSDiv(B, num, cnt1, "avg");
            if (same_q) {
                v = cg_add_zp_clamp(cg, avg, cg_i32(cg, 0), lo32, hi32);
            } else {
                LLVMValueRef d = LLVMBuildTrunc(B, LLVMBuildSub(B, avg, cg_i64(cg, xp.zp), ""), cg->t_i32, "");
                v = cg_add_zp_clamp(cg, LLVMBuildSExt(B, cg_mbqm(cg, d, tfl.mult, tfl.shift), cg->t_i64, ""), zp,
                                    lo32, hi32);
            }
        } else {
            LLVMValueRef s = LLVMBuildSub(B, a, LLVMBuildMul(B, nv, cg_i64(cg, xp.zp), ""), "");
            LLVMValueRef tab = cg_table_f64(cg, m_count, kk + 1, "mcount");
            LLVMValueRef ci = LLVMBuildTrunc(B, cnt1, cg->t_idx, "");
            LLVMValueRef m = LLVMBuildLoad2(B, cg->t_f64, LLVMBuildInBoundsGEP2(B, cg->t_f64, tab, &ci, 1, ""), "");
            v = cg_add_zp_clamp(cg, cg_rne_prod(cg, s, m), zp, lo32, hi32);
        }
        v = LLVMBuildSelect(B, zero_count, cg_clamp_i32(cg, zp, lo32, hi32), v, "");
        cg_store_int(cg, yt->dtype, y, yi, v);
    }
    cg_for_end(cg, &lc);
    cg_for_end(cg, &lxx);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    free(m_count);
    return true;
}
