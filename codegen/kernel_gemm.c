/* kernel_gemm.c - conv2d (group 1), dense and matmul by a constant as a
 * register-blocked GEMM with output channels in vector lanes ("conv_gemm").
 *
 * The tile (a KGemm, kernel_int8.h): MR output pixels x NV vectors of L
 * output channels (NR = NV*L), KR = 4 reduction bytes per step.  The MR*NV
 * accumulators <L x i32> stay in registers across the whole reduction
 * (every tap, every input channel).  One step loads the NV weight vectors
 * (each lane 4 bytes of its channel) once and, for each of the MR pixels,
 * 4 activation bytes as one i32 splat to every lane, then D->mac4 (vpdpbusd:
 * 4 products per lane) for each of the MR x NV accumulators: every loaded
 * vector is used MR or NV times.
 *
 *   - weights packed at compile time as [OV][T][C4][L][4]: vector v of
 *     output channels, tap t, group of 4 input channels, lane, byte (C4 =
 *     ceil(C/4); the missing bytes and the channels past O are 0);
 *   - padding through per-pixel pointers: a tap in the padding reads a row
 *     of zero points (kdwzero-like `kgzero`), no branch per tap;
 *   - the arithmetic of kern_conv (kernel_int8.h): activations made
 *     unsigned with ^0x80 when the instruction wants them so, zx' * sum of
 *     all weights folded into the bias, so a zero-point row adds exactly
 *     what the fold took away;
 *   - the vector requantizing epilogue (kernel_requant.c) on each
 *     accumulator, one L-byte store per pixel and vector (the lanes of the
 *     last vector past O stored one by one).
 *
 * Pixels and channel vectors that do not fill a whole tile run the same
 * skeleton with a smaller MR or NV (compile-time constants, every shape
 * is known), so there is no masking and no bounds check inside the tile.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)
#define MR_MAX 16
#define NV_MAX 8

typedef struct GemmK {
    KFrame f;
    const KGemm *d;
    int L;
    int64_t T, C4, OV;   /* taps, groups of 4 input channels, output vectors */
    bool flip;           /* activations ^0x80 before the instruction */
    bool rows;           /* gemm_rows for the tiles inside the image (KGemm.rows) */
    LLVMValueRef x, y, w, bias, zrow;
    KRequant rq;
} GemmK;

static LLVMValueRef idx(Cg *cg, int64_t v) { return cg_idx(cg, v); }
static LLVMValueRef add(Cg *cg, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(B, a, b, ""); }
static LLVMValueRef mulk(Cg *cg, LLVMValueRef a, int64_t k) { return LLVMBuildMul(B, a, idx(cg, k), ""); }

static LLVMValueRef gep8(Cg *cg, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(B, cg->t_i8, base, &i, 1, "");
}

/* 4 activation bytes at P (the first N of them real, N < 4: the others
 * 0), as an i32 splat to every lane, flipped when the step wants u8. */
static LLVMValueRef x_splat(Cg *cg, GemmK *k, LLVMValueRef p, int n)
{
    LLVMValueRef v;
    if (n == 4) {
        v = LLVMBuildLoad2(B, cg->t_i32, p, "");
        LLVMSetAlignment(v, 1);
    } else {
        v = cg_i32(cg, 0);
        for (int q = 0; q < n; q++) {
            LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, gep8(cg, p, idx(cg, q)), "");
            b = LLVMBuildShl(B, LLVMBuildZExt(B, b, cg->t_i32, ""), cg_i32(cg, 8 * q), "");
            v = LLVMBuildOr(B, v, b, "");
        }
    }
    if (k->flip)
        v = LLVMBuildXor(B, v, cg_i32(cg, (int32_t)0x80808080u), "");
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    LLVMValueRef ins = LLVMBuildInsertElement(B, LLVMGetUndef(vt), v, cg_i32(cg, 0), "");
    return LLVMBuildShuffleVector(B, ins, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, (unsigned)k->L)),
                                  "");
}

/* One reduction step at byte offset XOFF of every pixel pointer and
 * weight group G (an idx value) of tap T: N real activation bytes. */
static void gemm_step(Cg *cg, GemmK *k, LLVMValueRef *px, int mr, LLVMValueRef v0, int nv, LLVMValueRef t,
                      LLVMValueRef g, LLVMValueRef xoff, int n, LLVMValueRef *acc)
{
    LLVMValueRef wv[NV_MAX];
    for (int j = 0; j < nv; j++) {
        /* [OV][T][C4][L] i32 words, or wide: [OV/NV][T][C4][nv][L][2] */
        LLVMValueRef wi = add(cg, mulk(cg, add(cg, mulk(cg, add(cg, v0, idx(cg, j)), k->T), t), k->C4), g);
        int wl = k->d->wide ? 2 * k->L : k->L; /* words a group */
        if (k->d->wide) /* v0 starts a group of nv vectors */
            wi = add(cg, mulk(cg, v0, k->T * k->C4), add(cg, mulk(cg, add(cg, mulk(cg, t, k->C4), g), nv), idx(cg, j)));
        LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i32, k->w, (LLVMValueRef[]){mulk(cg, wi, wl)}, 1, "");
        wv[j] = LLVMBuildLoad2(B, LLVMVectorType(cg->t_i32, (unsigned)wl), p, "");
        LLVMSetAlignment(wv[j], 4);
    }
    for (int m = 0; m < mr; m++) {
        LLVMValueRef xs = x_splat(cg, k, gep8(cg, px[m], xoff), n);
        for (int j = 0; j < nv; j++)
            acc[m * nv + j] = k->d->mac4(cg, acc[m * nv + j], xs, wv[j]);
    }
}

/* The reduction of one tile tap by tap: each pixel's pointer for the tap
 * (the zero-point row in the padding), then the tap's input channels. */
static void gemm_taps(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef *oy, LLVMValueRef *ox, int mr, LLVMValueRef v0,
                      int nv, LLVMValueRef *accp)
{
    const KFrame *f = &k->f;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    CgLoop lt, lg;
    LLVMValueRef t = k->T > 1 ? cg_for_begin(cg, &lt, k->T, "gt") : idx(cg, 0);
    LLVMValueRef ky = LLVMBuildUDiv(B, t, idx(cg, f->kw), ""), kx = LLVMBuildURem(B, t, idx(cg, f->kw), "");
    LLVMValueRef px[MR_MAX];
    for (int m = 0; m < mr; m++) {
        LLVMValueRef iy = LLVMBuildSub(B, add(cg, mulk(cg, oy[m], f->sh), mulk(cg, ky, f->dh)), idx(cg, f->pt), "");
        LLVMValueRef ix = LLVMBuildSub(B, add(cg, mulk(cg, ox[m], f->sw), mulk(cg, kx, f->dw)), idx(cg, f->pl), "");
        LLVMValueRef off = mulk(cg, add(cg, mulk(cg, add(cg, mulk(cg, bi, f->h), iy), f->w), ix), f->c);
        if (f->all_valid) {
            px[m] = gep8(cg, k->x, off);
        } else {
            LLVMValueRef ok = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntULT, iy, idx(cg, f->h), ""),
                                           LLVMBuildICmp(B, LLVMIntULT, ix, idx(cg, f->w), ""), "");
            /* The offset is clamped so the GEP stays in bounds. */
            off = LLVMBuildSelect(B, ok, off, idx(cg, 0), "");
            px[m] = LLVMBuildSelect(B, ok, gep8(cg, k->x, off), k->zrow, "");
        }
    }
    LLVMValueRef acc[MR_MAX * NV_MAX];
    int64_t nfull = f->c / 4;
    int crem = (int)(f->c % 4);
    if (nfull > 0) {
        LLVMValueRef g = nfull > 1 ? cg_for_begin(cg, &lg, nfull, "gc") : idx(cg, 0);
        for (int a = 0; a < mr * nv; a++)
            acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
        gemm_step(cg, k, px, mr, v0, nv, t, g, mulk(cg, g, 4), 4, acc);
        for (int a = 0; a < mr * nv; a++)
            LLVMBuildStore(B, acc[a], accp[a]);
        if (nfull > 1)
            cg_for_end(cg, &lg);
    }
    if (crem) {
        for (int a = 0; a < mr * nv; a++)
            acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
        gemm_step(cg, k, px, mr, v0, nv, t, idx(cg, nfull), idx(cg, nfull * 4), crem, acc);
        for (int a = 0; a < mr * nv; a++)
            LLVMBuildStore(B, acc[a], accp[a]);
    }
    if (k->T > 1)
        cg_for_end(cg, &lt);
}

/* The reduction of one tile whose taps all fall inside the image (KRows):
 * a kernel row's KW taps are KW*C contiguous bytes of input and, with C a
 * multiple of 4, KW*C4 contiguous weight groups, so each row is one loop
 * with one pointer per pixel and no tap arithmetic. */
static void gemm_rows(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef *oy, LLVMValueRef *ox, int mr, LLVMValueRef v0,
                      int nv, LLVMValueRef *accp)
{
    const KFrame *f = &k->f;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    LLVMValueRef p0[MR_MAX], px[MR_MAX], acc[MR_MAX * NV_MAX];
    for (int m = 0; m < mr; m++) {
        LLVMValueRef iy = LLVMBuildSub(B, mulk(cg, oy[m], f->sh), idx(cg, f->pt), "");
        LLVMValueRef ix = LLVMBuildSub(B, mulk(cg, ox[m], f->sw), idx(cg, f->pl), "");
        p0[m] = mulk(cg, add(cg, mulk(cg, add(cg, mulk(cg, bi, f->h), iy), f->w), ix), f->c);
    }
    int64_t G = f->kw * k->C4;
    CgLoop ly, lg;
    LLVMValueRef ky = f->kh > 1 ? cg_for_begin(cg, &ly, f->kh, "gky") : idx(cg, 0);
    for (int m = 0; m < mr; m++)
        px[m] = gep8(cg, k->x, add(cg, p0[m], mulk(cg, ky, f->dh * f->w * f->c)));
    LLVMValueRef g = G > 1 ? cg_for_begin(cg, &lg, G, "gg") : idx(cg, 0);
    for (int a = 0; a < mr * nv; a++)
        acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
    gemm_step(cg, k, px, mr, v0, nv, mulk(cg, ky, f->kw), g, mulk(cg, g, 4), 4, acc);
    for (int a = 0; a < mr * nv; a++)
        LLVMBuildStore(B, acc[a], accp[a]);
    if (G > 1)
        cg_for_end(cg, &lg);
    if (f->kh > 1)
        cg_for_end(cg, &ly);
}

/* MR pixels from P0 (an idx value) of image BI, NV output vectors from
 * V0 (an idx value); LAST: the tile's last vector is the last of the
 * layer (its lanes past O are not stored). */
static void gemm_tile(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef p0, int mr, LLVMValueRef v0, int nv, bool last)
{
    const KFrame *f = &k->f;
    int L = k->L;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)L), t8 = LLVMVectorType(cg->t_i8, (unsigned)L);
    LLVMValueRef accp[MR_MAX * NV_MAX], oy[MR_MAX], ox[MR_MAX];
    for (int j = 0; j < nv; j++) {
        LLVMValueRef o = mulk(cg, add(cg, v0, idx(cg, j)), L);
        LLVMValueRef bv = LLVMBuildLoad2(B, vt, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->bias, &o, 1, ""), "");
        LLVMSetAlignment(bv, 4);
        for (int m = 0; m < mr; m++) {
            accp[m * nv + j] = cg_alloca(cg, vt, "gacc");
            LLVMBuildStore(B, bv, accp[m * nv + j]);
        }
    }
    for (int m = 0; m < mr; m++) {
        LLVMValueRef p = add(cg, p0, idx(cg, m));
        oy[m] = LLVMBuildUDiv(B, p, idx(cg, f->ow), "");
        ox[m] = LLVMBuildURem(B, p, idx(cg, f->ow), "");
    }
    if (!k->rows) {
        gemm_taps(cg, k, bi, oy, ox, mr, v0, nv, accp);
    } else if (f->all_valid) {
        gemm_rows(cg, k, bi, oy, ox, mr, v0, nv, accp);
    } else {
        /* Every tap of every pixel inside the image: the row form. */
        LLVMValueRef in = LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 1, 0);
        for (int m = 0; m < mr; m++) {
            LLVMValueRef iy = LLVMBuildSub(B, mulk(cg, oy[m], f->sh), idx(cg, f->pt), "");
            LLVMValueRef ix = LLVMBuildSub(B, mulk(cg, ox[m], f->sw), idx(cg, f->pl), "");
            in = LLVMBuildAnd(B, in, LLVMBuildICmp(B, LLVMIntULE, iy, idx(cg, f->h - 1 - (f->kh - 1) * f->dh), ""), "");
            in = LLVMBuildAnd(B, in, LLVMBuildICmp(B, LLVMIntULE, ix, idx(cg, f->w - f->kw), ""), "");
        }
        LLVMBasicBlockRef rows = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "grows");
        LLVMBasicBlockRef taps = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gtaps");
        LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gjoin");
        LLVMBuildCondBr(B, in, rows, taps);
        LLVMPositionBuilderAtEnd(B, rows);
        gemm_rows(cg, k, bi, oy, ox, mr, v0, nv, accp);
        LLVMBuildBr(B, join);
        LLVMPositionBuilderAtEnd(B, taps);
        gemm_taps(cg, k, bi, oy, ox, mr, v0, nv, accp);
        LLVMBuildBr(B, join);
        LLVMPositionBuilderAtEnd(B, join);
    }
    /* The epilogue: requantize, narrow, store. */
    int64_t P = f->oh * f->ow;
    for (int m = 0; m < mr; m++) {
        LLVMValueRef ypix = mulk(cg, add(cg, mulk(cg, bi, P), add(cg, p0, idx(cg, m))), f->o);
        for (int j = 0; j < nv; j++) {
            LLVMValueRef o = mulk(cg, add(cg, v0, idx(cg, j)), L);
            LLVMValueRef v = kern_requant(cg, &k->rq, LLVMBuildLoad2(B, vt, accp[m * nv + j], ""), o);
            LLVMValueRef b = LLVMBuildTrunc(B, v, t8, "");
            LLVMValueRef yp = gep8(cg, k->y, add(cg, ypix, o));
            int nl = last && j == nv - 1 && f->o % L ? (int)(f->o % L) : L;
            if (nl == L) {
                LLVMSetAlignment(LLVMBuildStore(B, b, yp), 1);
            } else {
                for (int l = 0; l < nl; l++)
                    LLVMBuildStore(B, LLVMBuildExtractElement(B, b, cg_i32(cg, l), ""), gep8(cg, yp, idx(cg, l)));
            }
        }
    }
}

/* Every output vector for MR pixels from P0: NV at a time, then what is
 * left (at most NV, the partial last vector among them). */
static void gemm_pixels(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef p0, int mr)
{
    int nv = k->d->nv;
    if (nv > k->OV)
        nv = (int)k->OV;
    bool partial = k->f.o % k->L != 0;
    int64_t nmain = (k->OV - partial) / nv, rem = k->OV - nmain * nv;
    CgLoop lv;
    if (nmain > 0) {
        LLVMValueRef v0 = nmain > 1 ? mulk(cg, cg_for_begin(cg, &lv, nmain, "gv"), nv) : idx(cg, 0);
        gemm_tile(cg, k, bi, p0, mr, v0, nv, !partial && nmain == 1 && rem == 0);
        if (nmain > 1)
            cg_for_end(cg, &lv);
    }
    if (rem > 0)
        gemm_tile(cg, k, bi, p0, mr, idx(cg, nmain * nv), (int)rem, true);
}

bool kern_conv_gemm(Cg *cg, const Node *n, const KGemm *d)
{
    GemmK k = {.d = d};
    KFrame *f = &k.f;
    if (!d || d->lanes < 1 || d->mr < 1 || d->mr > MR_MAX || d->nv < 1 || d->nv > NV_MAX || !kf_init(cg, n, f) ||
        f->wv->type.dtype != DT_I8)
        return false;
    if (n->op == OP_CONV2D && (node_int(n, ATTR_GROUP, 1) != 1 || f->wv->type.dims[3] != f->c))
        return false;
    /* Quantized i8/u8 results (the vector epilogue), at least one whole
     * vector of output channels, and 3 input channels or more (fewer
     * would waste most of each 4-byte step: kern_conv_few's case). */
    if (!f->yt->quant || (f->yt->dtype != DT_I8 && f->yt->dtype != DT_U8) || f->o < d->lanes || f->c < 3)
        return false;
    const Quant *wq = f->wv->type.quant;
    for (int i = 0; i < wq->count; i++)
        if (wq->zero_point[i] != 0)
            return false;
    if (!kf_stage(cg, n, f))
        return true; /* reported */
    int L = d->lanes;
    k.L = L;
    bool x_u8 = f->xv->type.dtype == DT_U8;
    k.flip = x_u8 != d->x_unsigned;
    int64_t zxk = f->zx + (k.flip ? (x_u8 ? -128 : 128) : 0);
    int64_t T = f->kh * f->kw, O = f->o, C = f->c, C4 = (C + 3) / 4, OV = (O + L - 1) / L, OP = OV * L;
    k.T = T, k.C4 = C4, k.OV = OV;
    k.rows = d->rows && C % 4 == 0 && f->dw == 1 && (f->kh - 1) * f->dh < f->h && f->kw <= f->w;
    const int8_t *wd = f->wv->data;
    /* w(o, t, c): OHWI, or matmul's b[K][N]. */
#define W(o, t, c) (n->op == OP_MATMUL ? wd[(c) * O + (o)] : wd[((o) * T + (t)) * C + (c)])
    size_t wbytes = (size_t)(OP * T * C4 * 4) * (d->wide ? 2 : 1);
    int8_t *wp = xcalloc(wbytes, 1);
    int64_t acc_max = 0; /* a bound on |acc| over every channel (the requant's smmulr) */
    int32_t *bias = xcalloc((size_t)OP, sizeof *bias);
    const int32_t *bd = f->bv ? f->bv->data : NULL;
    for (int64_t o = 0; o < O; o++) {
        int64_t v = o / L, l = o % L, s = 0, sa = 0;
        for (int64_t t = 0; t < T; t++)
            for (int64_t c = 0; c < C; c++) {
                int8_t w = W(o, t, c);
                int64_t at = (((v * T + t) * C4 + c / 4) * L + l) * 4;
                if (d->wide) { /* i16 (little-endian) at half c%4 = 0, 2, 1, 3 -> 0, 1, 2, 3 */
                    /* the group of nv vectors gemm_pixels gives one tile */
                    int64_t nvt = d->nv > OV ? OV : d->nv, part = O % L != 0;
                    int64_t nmain = (OV - part) / nvt, g0 = v / nvt < nmain ? v / nvt * nvt : nmain * nvt;
                    int64_t nvg = v / nvt < nmain ? nvt : OV - nmain * nvt;
                    at = (((g0 * T * C4) + (t * C4 + c / 4) * nvg + (v - g0)) * L + l) * 4;
                    int64_t h = at + (c % 2) * 2 + (c % 4) / 2;
                    wp[2 * h] = w;
                    wp[2 * h + 1] = (int8_t)(w < 0 ? -1 : 0);
                } else {
                    wp[at + c % 4] = w;
                }
                sa += w < 0 ? -w : w;
                s += w;
            }
        /* Every tap reads x' or the zero-point row: zx' * sum w comes off
         * the bias (wrapping like the generated adds). */
        bias[o] = (int32_t)((bd ? (uint32_t)bd[o] : 0u) - (uint32_t)(zxk * s));
        int64_t a = llabs((int64_t)bias[o]) + 255 * sa; /* every activation byte within [-255, 255] */
        acc_max = a > acc_max ? a : acc_max;
    }
#undef W
    uint8_t *zrow = xmalloc((size_t)(C4 * 4));
    memset(zrow, (uint8_t)f->zx, (size_t)(C4 * 4));
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.w = cg_rodata(cg, wp, wbytes, 64, "kgemm");
    k.bias = cg_table_i32(cg, bias, OP, "kgbias");
    k.zrow = f->all_valid ? NULL : cg_rodata(cg, zrow, (size_t)(C4 * 4), 16, "kgzero");
    free(wp);
    free(bias);
    free(zrow);
    /* Per-channel stages padded to OP (the padding lanes are never stored). */
    int64_t nst = kf_stage_count(f->st, O);
    OutStage *st = f->st;
    if (nst > 1) {
        st = xmalloc((size_t)OP * sizeof *st);
        for (int64_t o = 0; o < OP; o++)
            st[o] = f->st[o < O ? o : O - 1];
        nst = OP;
    }
    kern_requant_init(cg, &k.rq, st, nst, f->rounding);
    k.rq.acc_max = acc_max;

    int64_t P = f->oh * f->ow;
    int mr = d->mr > P ? (int)P : d->mr;
    int64_t nt = P / mr, prem = P % mr;
    CgLoop lb, lp;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    if (nt > 0) {
        LLVMValueRef p0 = mulk(cg, cg_for_begin(cg, &lp, nt, "gp"), mr);
        gemm_pixels(cg, &k, bi, p0, mr);
        cg_for_end(cg, &lp);
    }
    if (prem > 0)
        gemm_pixels(cg, &k, bi, idx(cg, nt * mr), (int)prem);
    cg_for_end(cg, &lb);
    if (st != f->st)
        free(st);
    free(f->st);
    snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%dx%dc4", mr, (int)(d->nv > OV ? OV : d->nv) * L);
    return true;
}

/* The reference mac4 in plain IR: each lane of ACC gains the four
 * products of X's and W's bytes (X u8 when X_UNSIGNED, else i8; W i8). */
static LLVMValueRef mac4_ref(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool x_unsigned)
{
    LLVMTypeRef at = LLVMTypeOf(acc);
    unsigned L = LLVMGetVectorSize(at);
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 4 * L), it = LLVMVectorType(cg->t_i32, 4 * L);
    LLVMValueRef xb = LLVMBuildBitCast(B, x, bt, ""), wb = LLVMBuildBitCast(B, w, bt, "");
    LLVMValueRef xe = x_unsigned ? LLVMBuildZExt(B, xb, it, "") : LLVMBuildSExt(B, xb, it, "");
    LLVMValueRef p = LLVMBuildMul(B, xe, LLVMBuildSExt(B, wb, it, ""), "");
    LLVMValueRef m[64];
    for (int q = 0; q < 4; q++) {
        for (unsigned l = 0; l < L; l++)
            m[l] = cg_i32(cg, 4 * l + (unsigned)q);
        acc = LLVMBuildAdd(B, acc, LLVMBuildShuffleVector(B, p, LLVMGetUndef(it), LLVMConstVector(m, L), ""), "");
    }
    return acc;
}

LLVMValueRef kern_gemm_mac4_u8(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    return mac4_ref(cg, acc, x, w, true);
}

LLVMValueRef kern_gemm_mac4_s8(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    return mac4_ref(cg, acc, x, w, false);
}
