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
 *     ceil(C/4); the missing bytes and the channels past O are 0), a
 *     layer of one pixel's in tile order, [OV/NV][T][C4][NV][L][4] (each
 *     weight read once a call, mostly from L2: one stream, not NV);
 *   - padding through per-pixel pointers: a tap in the padding reads a row
 *     of zero points (kdwzero-like `kgzero`), no branch per tap;
 *   - the arithmetic of kern_conv (kernel_int8.h): activations made
 *     unsigned with ^0x80 when the instruction wants them so, zx' * sum of
 *     all weights folded into the bias, so a zero-point row adds exactly
 *     what the fold took away;
 *   - the vector requantizing epilogue (kernel_requant.c) on each
 *     accumulator, one L-byte store per pixel and vector, or with
 *     KGemm.pack one store for 2 or 4 whole vectors of a pixel (the last
 *     vector's lanes below O stored as pieces of 2^i bytes), the packs
 *     doing the clamp and zero point where every channel shares them
 *     (kern_requant_narrow); where a row's vectors hold all its pixels'
 *     channels (16 outputs, or 8 or 24 with 2 pixels a vector), 4 or 2
 *     rows of one vector or a row of 3 as one pack and store;
 *   - a 1x1 conv at stride 1 without padding (and dense): output pixel p
 *     reads input pixel p, so its address is p*C, no row and column;
 *     with one output vector a tile and activations to flip, the tile's
 *     MR*C bytes are copied flipped to the stack once (GemmK.xf); wider
 *     gemm_shape tiles on zmm flip each broadcast word by a vector xor
 *     (GemmK.vxor, KGemm.xmask);
 *   - a layer whose D->nv vectors a tile leave a narrower last tile takes
 *     the tile shape with the fewest tiles (gemm_shape: 16 outputs on zmm
 *     16x16, 24 and 32 12x32, 72 4x80, 96 4x96; with a pointer per pixel
 *     at most 8 pixels: 24 and 32 8x32); where a tile holds all of a
 *     pixel's channels, the packed stores group vectors across pixels;
 *   - a tile of one pixel (a dense layer on one row, a squeeze-excite 1x1
 *     conv, the last pixel of a layer) has only NV chains of mac4, too few
 *     to cover the instruction's latency: KS sets of NV accumulators
 *     (KS*NV = KGemm.ks * KGemm.nv) take every KS-th group of a segment
 *     and are summed before the epilogue; a layer of one pixel runs 2*NV
 *     vectors a tile (tile "1x128c4k2" on zmm).
 *
 * Pixels and channel vectors that do not fill a whole tile run the same
 * skeleton with a smaller MR or NV (compile-time constants, every shape
 * is known), so there is no masking and no bounds check inside the tile.
 *
 * Narrow layers (at most half a vector of output channels): PV pixels
 * share each vector (KGemm.max_pv, at most 4), each on LC lanes (the
 * fewest of 4, 8, ... that hold O): 8 output channels on zmm are 2 pixels
 * x 8 lanes, so every vpdpbusd is a whole zmm's.  The step's activation
 * vector holds pixel q's 4 bytes in lanes q*LC .. q*LC+LC-1 (inserts
 * and one lane permute), the weights and bias repeat for every pixel's
 * lanes, the epilogue requantizes the vector once and stores each
 * pixel's LC bytes; a tile is MR*NV rows (as many accumulators as the
 * block) of PV pixels.  Fewer channels than LC still run here (lanes past
 * O computed and never stored) when the reduction is short (C < 64:
 * conv_dot's dot along C would not fill one step either).
 *
 * Stems (1 to 4 input channels, 3 where the rows pack no looser than
 * the taps, 4 without a horizontal dilation; conv2d only): one 4-byte
 * step over C < 4 channels would be partly zero and load byte by byte,
 * so the reduction runs along each kernel row instead (with 4 the steps
 * are as many, but read the band: no per-tap pointers, no flip).  Per output row, the kh
 * input rows the taps read are copied (xor 0x80 when flipping) into a
 * stack band framed by zero points (the frame is written once), so every
 * pixel's kernel row is kw*C contiguous bytes ("segment"), the
 * weights packed as [OV][kh][ceil(kw*C/4)][L][4] (kx*C + c a byte; with
 * a horizontal dilation each tap is its own segment of C bytes).  A step
 * may read up to 3 bytes past a segment; their weights are 0 and the band
 * has the room.  A 3x3 one-channel stem thus takes 3 steps a pixel, not 9.
 * A small image (band up to STEM_WHOLE_MAX bytes: every zoo stem but
 * M-LSD's) is copied whole into the band once, each row once, and the
 * output rows read it in place; rows are copied in vectors.  With 2 or 4
 * pixels a vector, a row's pixels' words come from one 16-byte load and a
 * byte shuffle.  A stem on an odd number of half vectors of outputs (24
 * on zmm) packs 2 pixels a vector as the narrow layers do, several
 * vectors wide (no vector half empty).
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)
#define MR_MAX 16
#define STEM_WHOLE_MAX 16384 /* bytes of a stem's whole-image band */
#define NV_MAX 8
#define GEMM_PTR_MAX 8 /* pixels a gemm_shape tile with a pointer each (not CONTIG) */

typedef struct GemmK {
    KFrame f;
    const KGemm *d;
    int L;
    /* Segments (taps, or kernel rows for a stem), groups of 4 bytes in
     * one, output vectors. */
    int64_t T, C4, OV;
    bool flip;           /* activations ^0x80 before the instruction */
    bool rows;           /* gemm_rows for the tiles inside the image (KGemm.rows) */
    LLVMValueRef x, y, w, bias, zrow;
    KRequant rq;
    /* Stem: the band (rows of RS bytes, already flipped: the kh rows of
     * the output row, or with WHOLE the whole image framed by its
     * padding), the output row (an idx value), the output row's first
     * band row (a pointer) and the bytes from one kernel row's band row
     * to the next, segments per kernel row (1, or kw when each tap is
     * one), and with WHOLE the input rows it holds (from row 0). */
    bool stem, whole;
    LLVMValueRef band, oy, brow;
    int64_t RS, rstep, segw, nrow;
    /* The tile's pointer slots' distances in the band from slot 0 (bytes),
     * and whether a row of PV pixels gathers from one 16-byte load. */
    int64_t pofs[MR_MAX * 4];
    bool gather;
    /* Pixels a vector (PV), each on LC lanes of output channels (PV = 1,
     * LC = L: one pixel a vector). */
    int pv, lc;
    /* The tile: MR rows of accumulators x NV vectors (D's, NV at most OV;
     * a layer of one pixel 2*D->nv); a one-pixel tile's accumulators in
     * all (CHAINS = D->ks * D->nv; 0: one set). */
    int mr, nv, chains;
    /* A 1x1 conv at stride 1 without padding (or a dense layer): output
     * pixel p reads input pixel p, so a pixel's bytes are at (bi*P + p)*C
     * and no row/column is derived. */
    bool contig;
    /* Weights in the order the tiles read them, [OV/NV][T][C4][NV][L]
     * words (NV the tile's vectors, fewer in the last tile): widened ones,
     * and a layer of one pixel, whose weights are each read once a call
     * and mostly come from L2, as one stream instead of NV. */
    bool tiled;
    /* With CONTIG, a flip and one output vector a tile: a stack copy of
     * the tile's pixels' bytes, flipped once per tile (stem_flip_row), or
     * NULL.  x86 then broadcasts each step's word straight from memory;
     * a scalar xor first made it a vpbroadcastd from a general register,
     * one per vpdpbusd at 16 outputs (M-LSD tiny's 32 -> 16 at 160x160:
     * 41% -> 55% of the peak).  Wider tiles lost: the step's loads then
     * come too soon after the copy's stores. */
    LLVMValueRef xf;
    /* With CONTIG, a flip and a tile from gemm_shape (not D's): each
     * step's word broadcast and flipped by one vector xor with D->xmask's
     * splat (made at the first use): M-LSD tiny's 4x96, 4x80 and 12x32
     * 1x1 convs 0.95-1.00x the ticks of the scalar xor, load and
     * broadcast from a general register (session 15, near this machine's
     * noise); D's 6x64 tiles measured 1.04x and the 3x3 convs no
     * difference, so they keep those. */
    bool vxor;
    LLVMValueRef xmask;
} GemmK;

static void stem_flip_row(Cg *cg, GemmK *k, LLVMValueRef dst, LLVMValueRef src, int64_t wc);


/* 4 activation bytes at P (the first N of them real, N < 4: the others
 * 0) as an i32, flipped when the step wants u8 (unless K->xf: the tile's
 * copy is flipped already). */
static LLVMValueRef x_word(Cg *cg, GemmK *k, LLVMValueRef p, int n)
{
    LLVMValueRef v;
    if (n == 4) {
        v = LLVMBuildLoad2(B, cg->t_i32, p, "");
        LLVMSetAlignment(v, 1);
    } else {
        v = cg_i32(cg, 0);
        for (int q = 0; q < n; q++) {
            LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, p, cg_idx(cg, q)), "");
            b = LLVMBuildShl(B, LLVMBuildZExt(B, b, cg->t_i32, ""), cg_i32(cg, 8 * q), "");
            v = LLVMBuildOr(B, v, b, "");
        }
    }
    if (k->flip && !k->stem && !k->xf)
        v = LLVMBuildXor(B, v, cg_i32(cg, (int32_t)0x80808080u), "");
    return v;
}

/* The step's activation vector: pixel q's word (of PP[q]) in lanes
 * q*lc .. q*lc+lc-1 (one pixel: a splat to every lane). */
static LLVMValueRef x_splat(Cg *cg, GemmK *k, LLVMValueRef *pp, LLVMValueRef xoff, int n)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    if (k->vxor && n == 4) {
        if (!k->xmask)
            k->xmask = k->d->xmask(cg, k->L);
        LLVMValueRef v = LLVMBuildLoad2(B, cg->t_i32, cg_gep8(cg, pp[0], xoff), "");
        LLVMSetAlignment(v, 1);
        return LLVMBuildXor(B, cg_splat(cg, v, k->L), k->xmask, "");
    }
    LLVMValueRef ins = LLVMGetUndef(vt), m[64];
    for (int q = 0; q < k->pv; q++)
        ins = LLVMBuildInsertElement(B, ins, x_word(cg, k, cg_gep8(cg, pp[q], xoff), n), cg_i32(cg, q), "");
    for (int l = 0; l < k->L; l++)
        m[l] = cg_i32(cg, l / k->lc);
    return LLVMBuildShuffleVector(B, ins, LLVMGetUndef(vt), LLVMConstVector(m, (unsigned)k->L), "");
}

/* A stem's step vectors for MR rows of PV pixels (PV > 1, K->gather):
 * a tile's pixels lie at fixed distances in the band, so one 16-byte load
 * serves every row whose pixels' words fall within it, and each row takes
 * its lanes from it with one byte shuffle (x86: a 128-bit broadcast and
 * vpshufb) in place of PV word loads, their inserts and a lane permute
 * (the U-Net's 8-channel stem, 2 pixels a zmm). */
static void stem_gather(Cg *cg, GemmK *k, LLVMValueRef *px, int mr, LLVMValueRef xoff, LLVMValueRef *xs)
{
    int pv = k->pv, L = k->L;
    LLVMTypeRef t16 = LLVMVectorType(cg->t_i8, 16), vt = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef v = NULL, sm[256];
    int64_t base = 0;
    for (int m = 0; m < mr; m++) {
        const int64_t *o = k->pofs + m * pv;
        if (!v || o[pv - 1] + 4 - base > 16) {
            base = o[0];
            v = kern_load_vec(cg, t16, cg_gep8(cg, px[m * pv], xoff));
        }
        for (int l = 0; l < 4 * L; l++)
            sm[l] = cg_i32(cg, (int32_t)(o[l / 4 / k->lc] - base + l % 4));
        LLVMValueRef b = LLVMBuildShuffleVector(B, v, LLVMGetUndef(t16), LLVMConstVector(sm, (unsigned)(4 * L)), "");
        xs[m] = LLVMBuildBitCast(B, b, vt, "");
    }
}

/* One reduction step at byte offset XOFF of every pixel pointer and
 * weight group G (an idx value) of tap T: N real activation bytes. */
static void gemm_step(Cg *cg, GemmK *k, LLVMValueRef *px, int mr, LLVMValueRef v0, int nv, LLVMValueRef t,
                      LLVMValueRef g, LLVMValueRef xoff, int n, LLVMValueRef *acc)
{
    LLVMValueRef wv[NV_MAX];
    for (int j = 0; j < nv; j++) {
        /* [OV][T][C4][L] i32 words, or tiled (one pixel a vector, no
         * stem): [OV/NV][T][C4][nv][L] (wide: [L][2]) */
        LLVMValueRef wt = cg_add(cg, cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), k->T), t);
        LLVMValueRef wi = cg_add(cg, cg_mulk(cg, wt, k->C4), g);
        int wl = k->d->wide ? 2 * k->L : k->L; /* words a group */
        if (k->tiled) /* v0 starts a group of nv vectors */
            wi = cg_add(cg, cg_mulk(cg, v0, k->T * k->C4),
                        cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, t, k->C4), g), nv), cg_idx(cg, j)));
        LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i32, k->w, (LLVMValueRef[]){cg_mulk(cg, wi, wl)}, 1, "");
        wv[j] = LLVMBuildLoad2(B, LLVMVectorType(cg->t_i32, (unsigned)wl), p, "");
        LLVMSetAlignment(wv[j], 4);
    }
    LLVMValueRef xg[MR_MAX];
    if (k->gather && n == 4)
        stem_gather(cg, k, px, mr, xoff, xg);
    for (int m = 0; m < mr; m++) {
        LLVMValueRef xs = k->gather && n == 4 ? xg[m] : x_splat(cg, k, px + m * k->pv, xoff, n);
        for (int j = 0; j < nv; j++)
            acc[m * nv + j] = k->d->mac4(cg, acc[m * nv + j], xs, wv[j]);
    }
}

/* The sets of accumulators of a tile of MR rows and NV vectors: one, or
 * for one pixel CHAINS / NV (at least 1, at most C4). */
static int tile_ks(const GemmK *k, int mr, int nv)
{
    int ks = mr == 1 ? k->chains / nv : 1;
    return ks < 1 ? 1 : ks > k->C4 ? (int)k->C4 : ks;
}

/* Groups 0 .. NG-1 of tap T (with the pointers PX) into the accumulators
 * at ACCP: one loop of steps.  With KS > 1 (one pixel) a step takes KS
 * groups, group g into set g % KS (ACCP + s*MR*NV), the NG % KS left
 * after the loop one each: KS*NV independent chains, where one pixel's
 * NV alone would wait on the instruction's latency. */
static void gemm_groups(Cg *cg, GemmK *k, LLVMValueRef *px, int mr, LLVMValueRef v0, int nv, LLVMValueRef t,
                        int64_t ng, int ks, LLVMValueRef *accp)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    LLVMValueRef acc[MR_MAX * NV_MAX];
    int na = mr * nv;
    /* NG / KS steps of KS groups in a loop, then one step of the NG % KS
     * groups left. */
    for (int part = 0; part < 2; part++) {
        int64_t n = part ? ng % ks > 0 : ng / ks, w = part ? ng % ks : ks, base = part ? ng / ks * ks : 0;
        if (n == 0)
            continue;
        CgLoop lg;
        LLVMValueRef i = n > 1 ? cg_for_begin(cg, &lg, n, "gc") : cg_idx(cg, 0);
        for (int a = 0; a < w * na; a++)
            acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
        for (int q = 0; q < w; q++) {
            LLVMValueRef g = cg_add(cg, cg_mulk(cg, i, ks), cg_idx(cg, base + q));
            gemm_step(cg, k, px, mr, v0, nv, t, g, cg_mulk(cg, g, 4), 4, acc + q * na);
        }
        for (int a = 0; a < w * na; a++)
            LLVMBuildStore(B, acc[a], accp[a]);
        if (n > 1)
            cg_for_end(cg, &lg);
    }
}

/* The reduction of one tile segment by segment (taps, or a stem's kernel
 * rows): each pointer slot's pixel PIX[s] (an idx value; a stem's column
 * in its output row), its pointer for the segment (the zero-point row in
 * the padding), then the segment's groups.  MR rows of PV pixels. */
static void gemm_taps(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef *pix, LLVMValueRef *oy, LLVMValueRef *ox, int mr,
                      LLVMValueRef v0, int nv, LLVMValueRef *accp)
{
    const KFrame *f = &k->f;
    int pv = k->pv;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    CgLoop lt;
    LLVMValueRef t = k->T > 1 ? cg_for_begin(cg, &lt, k->T, "gt") : cg_idx(cg, 0);
    LLVMValueRef px[MR_MAX * 4];
    if (k->stem) {
        /* PIX is the pixel's column; segment T at kernel row T / segw,
         * tap (T % segw) * dw of it. */
        LLVMValueRef ry = LLVMBuildUDiv(B, t, cg_idx(cg, k->segw), "");
        LLVMValueRef rx = LLVMBuildURem(B, t, cg_idx(cg, k->segw), "");
        LLVMValueRef so = cg_add(cg, cg_mulk(cg, ry, k->rstep), cg_mulk(cg, rx, f->dw * f->c));
        for (int m = 0; m < mr * pv; m++)
            px[m] = cg_gep8(cg, k->brow, cg_add(cg, so, cg_mulk(cg, pix[m], f->sw * f->c)));
    }
    LLVMValueRef ky = LLVMBuildUDiv(B, t, cg_idx(cg, f->kw), ""), kx = LLVMBuildURem(B, t, cg_idx(cg, f->kw), "");
    for (int m = 0; m < mr * pv && k->contig; m++)
        px[m] = k->xf ? cg_gep8(cg, k->xf, cg_idx(cg, k->pofs[m]))
                      : cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), pix[m]), f->c));
    for (int m = 0; m < mr * pv && !k->stem && !k->contig; m++) {
        LLVMValueRef iy = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, oy[m], f->sh), cg_mulk(cg, ky, f->dh)),
                                       cg_idx(cg, f->pt), "");
        LLVMValueRef ix = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, ox[m], f->sw), cg_mulk(cg, kx, f->dw)),
                                       cg_idx(cg, f->pl), "");
        LLVMValueRef off = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), f->c);
        if (f->all_valid) {
            px[m] = cg_gep8(cg, k->x, off);
        } else {
            LLVMValueRef ok = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntULT, iy, cg_idx(cg, f->h), ""),
                                           LLVMBuildICmp(B, LLVMIntULT, ix, cg_idx(cg, f->w), ""), "");
            /* The offset is clamped so the GEP stays in bounds. */
            off = LLVMBuildSelect(B, ok, off, cg_idx(cg, 0), "");
            px[m] = LLVMBuildSelect(B, ok, cg_gep8(cg, k->x, off), k->zrow, "");
        }
    }
    LLVMValueRef acc[MR_MAX * NV_MAX];
    /* A stem's segment reads whole groups (the bytes past it weigh 0). */
    int64_t seg = k->stem ? k->C4 * 4 : f->c, nfull = seg / 4;
    int crem = (int)(seg % 4);
    if (nfull > 0)
        gemm_groups(cg, k, px, mr, v0, nv, t, nfull, tile_ks(k, mr, nv), accp);
    if (crem) {
        for (int a = 0; a < mr * nv; a++)
            acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
        gemm_step(cg, k, px, mr, v0, nv, t, cg_idx(cg, nfull), cg_idx(cg, nfull * 4), crem, acc);
        for (int a = 0; a < mr * nv; a++)
            LLVMBuildStore(B, acc[a], accp[a]);
    }
    if (k->T > 1)
        cg_for_end(cg, &lt);
}

/* The reduction of one tile whose taps all fall inside the image (KRows;
 * one pixel a vector, not a stem): a kernel row's KW taps are KW*C
 * contiguous bytes of input and, with C a multiple of 4, KW*C4 contiguous
 * weight groups, so each row is one loop with one pointer per pixel and
 * no tap arithmetic.  With a horizontal dilation the row's taps are apart,
 * so each is its own loop of C4 groups, its pointers still unchecked. */
static void gemm_rows(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef *pix, LLVMValueRef *oy, LLVMValueRef *ox, int mr,
                      LLVMValueRef v0, int nv, LLVMValueRef *accp)
{
    const KFrame *f = &k->f;
    LLVMValueRef p0[MR_MAX], px[MR_MAX];
    for (int m = 0; m < mr; m++) {
        if (k->contig) {
            p0[m] = k->xf ? cg_idx(cg, k->pofs[m]) : cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), pix[m]), f->c);
            continue;
        }
        LLVMValueRef iy = LLVMBuildSub(B, cg_mulk(cg, oy[m], f->sh), cg_idx(cg, f->pt), "");
        LLVMValueRef ix = LLVMBuildSub(B, cg_mulk(cg, ox[m], f->sw), cg_idx(cg, f->pl), "");
        p0[m] = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), f->c);
    }
    int64_t nx = f->dw == 1 ? 1 : f->kw, G = f->kw / nx * k->C4; /* segments a row, groups a segment */
    CgLoop ly, lx;
    LLVMValueRef ky = f->kh > 1 ? cg_for_begin(cg, &ly, f->kh, "gky") : cg_idx(cg, 0);
    LLVMValueRef kx = nx > 1 ? cg_for_begin(cg, &lx, nx, "gkx") : cg_idx(cg, 0);
    LLVMValueRef d = cg_add(cg, cg_mulk(cg, ky, f->dh * f->w * f->c), cg_mulk(cg, kx, f->dw * f->c));
    for (int m = 0; m < mr; m++)
        px[m] = cg_gep8(cg, k->xf ? k->xf : k->x, cg_add(cg, p0[m], d));
    gemm_groups(cg, k, px, mr, v0, nv, cg_add(cg, cg_mulk(cg, ky, f->kw), kx), G, tile_ks(k, mr, nv), accp);
    if (nx > 1)
        cg_for_end(cg, &lx);
    if (f->kh > 1)
        cg_for_end(cg, &ly);
}

/* Whole rows: when a tile row's NV vectors hold every output channel of
 * its PV pixels (NV = OV, no lanes past O), the row is PV*O consecutive
 * output bytes, and the rows follow one another.  G rows from M (4 or 2
 * of one vector: a 16-channel stem on zmm, an 8-channel one 2 pixels a
 * vector; else one row of 2 to 4 vectors, PV > 1: a 24-channel stem 2
 * pixels a vector), every pixel of them in the tile's NP, then go out as
 * one pack and one store; 0: not so (one pixel's vectors pack on their
 * own). */
static int gemm_row_group(const GemmK *k, int mr, int m, int np, int nv)
{
    if (!k->d->pack || nv != k->OV || k->f.o != k->OV * k->lc || nv > 4 || (nv > 1 && k->pv == 1))
        return 0;
    int g = nv == 1 ? 4 : nv == 2 ? 2 : 1;
    while (g > 0 && (m + g > mr || (m + g) * k->pv > np))
        g /= 2;
    return g * nv >= 2 ? g : 0;
}

/* Rows M .. M+G-1's accumulators (NV vectors each) requantized (to
 * KNarrow's raw values when NW), packed (a third vector's pack repeats
 * it) and, with more than one vector a row, their 4-byte groups put in
 * output order (pixel, channel) by the pack's own dword permute; one
 * store of G*PV*O bytes at output pixel PQ (an idx value). */
static void gemm_store_rows(Cg *cg, GemmK *k, LLVMValueRef *accp, int m, int g, int nv, LLVMValueRef pq, bool u8,
                            const KNarrow *nw)
{
    int L = k->L, n = g * nv, pv = k->pv, lc = k->lc;
    int64_t O = k->f.o, nb = g * pv * O;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef rv[4];
    for (int i = 0; i < n; i++) { /* vector i: row m + i / nv, channels from (i % nv) * lc */
        LLVMValueRef a = LLVMBuildLoad2(B, vt, accp[m * nv + i], ""), c0 = cg_idx(cg, i % nv * L);
        rv[i] = nw ? kern_requant_raw(cg, &k->rq, a, c0) : kern_requant(cg, &k->rq, a, c0);
    }
    if (n == 3)
        rv[3] = rv[2];
    LLVMValueRef p = k->d->pack(cg, rv, n == 3 ? 4 : n, u8, nw);
    if (nv > 1) { /* byte b: row r, pixel q, channel c, from vector r*nv + c / lc, lane q*lc + c % lc */
        LLVMValueRef sm[256];
        for (int64_t b = 0; b < nb; b++) {
            int64_t r = b / (pv * O), q = b % (pv * O) / O, c = b % O;
            sm[b] = cg_i32(cg, (int32_t)((r * nv + c / lc) * L + q * lc + c % lc));
        }
        p = LLVMBuildShuffleVector(B, p, LLVMGetUndef(LLVMTypeOf(p)), LLVMConstVector(sm, (unsigned)nb), "");
    }
    LLVMValueRef yp = cg_gep8(cg, k->y, cg_mulk(cg, pq, O));
    LLVMSetAlignment(LLVMBuildStore(B, p, yp), 1);
}

/* NP pixels from P0 (an idx value) of image BI, PV a vector (MR rows of
 * accumulators; a last row short of pixels repeats its last one and
 * stores only its own), NV output vectors from V0 (an idx value); LAST:
 * the tile's last vector is the last of the layer (its lanes past O are
 * not stored). */
static void gemm_tile(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef p0, int np, LLVMValueRef v0, int nv, bool last)
{
    const KFrame *f = &k->f;
    int L = k->L, pv = k->pv, lc = k->lc, mr = (np + pv - 1) / pv;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)L), t8 = LLVMVectorType(cg->t_i8, (unsigned)L);
    LLVMValueRef accp[MR_MAX * NV_MAX], pix[MR_MAX * 4], oy[MR_MAX * 4], ox[MR_MAX * 4];
    /* Pointer slot S's pixel (past NP: the last one again). */
#define SLOT(s) ((s) < np ? (s) : np - 1)
    /* Set 0 starts at the bias, the others (one pixel's, KS) at 0. */
    int ks = tile_ks(k, mr, nv);
    for (int j = 0; j < nv; j++) {
        LLVMValueRef o = cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), L);
        LLVMValueRef bv = LLVMBuildLoad2(B, vt, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->bias, &o, 1, ""), "");
        LLVMSetAlignment(bv, 4);
        for (int a = j; a < ks * mr * nv; a += nv) {
            accp[a] = cg_alloca(cg, vt, "gacc");
            LLVMBuildStore(B, a < mr * nv ? bv : LLVMConstNull(vt), accp[a]);
        }
    }
    for (int m = 0; m < mr * pv; m++) {
        k->pofs[m] = SLOT(m) * f->sw * f->c;
        pix[m] = cg_add(cg, p0, cg_idx(cg, SLOT(m)));
        if (!k->stem && !k->contig) {
            oy[m] = LLVMBuildUDiv(B, pix[m], cg_idx(cg, f->ow), "");
            ox[m] = LLVMBuildURem(B, pix[m], cg_idx(cg, f->ow), "");
        }
    }
    if (k->xf) /* the tile's NP pixels, contiguous */
        stem_flip_row(cg, k, k->xf, cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), p0), f->c)),
                      np * f->c);
    if (!k->rows) {
        gemm_taps(cg, k, bi, pix, oy, ox, mr, v0, nv, accp);
    } else if (f->all_valid) {
        gemm_rows(cg, k, bi, pix, oy, ox, mr, v0, nv, accp);
    } else {
        /* Every tap of every pixel inside the image: the row form. */
        LLVMValueRef in = LLVMConstInt(LLVMInt1TypeInContext(cg->ctx), 1, 0);
        for (int m = 0; m < mr; m++) {
            LLVMValueRef iy = LLVMBuildSub(B, cg_mulk(cg, oy[m], f->sh), cg_idx(cg, f->pt), "");
            LLVMValueRef ix = LLVMBuildSub(B, cg_mulk(cg, ox[m], f->sw), cg_idx(cg, f->pl), "");
            in = LLVMBuildAnd(B, in, LLVMBuildICmp(B, LLVMIntULE, iy, cg_idx(cg, f->h - 1 - (f->kh - 1) * f->dh), ""),
                              "");
            in = LLVMBuildAnd(B, in, LLVMBuildICmp(B, LLVMIntULE, ix, cg_idx(cg, f->w - 1 - (f->kw - 1) * f->dw), ""),
                              "");
        }
        LLVMBasicBlockRef rows = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "grows");
        LLVMBasicBlockRef taps = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gtaps");
        LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "gjoin");
        LLVMBuildCondBr(B, in, rows, taps);
        LLVMPositionBuilderAtEnd(B, rows);
        gemm_rows(cg, k, bi, pix, oy, ox, mr, v0, nv, accp);
        LLVMBuildBr(B, join);
        LLVMPositionBuilderAtEnd(B, taps);
        gemm_taps(cg, k, bi, pix, oy, ox, mr, v0, nv, accp);
        LLVMBuildBr(B, join);
        LLVMPositionBuilderAtEnd(B, join);
    }
    for (int a = mr * nv; a < ks * mr * nv; a++) {
        LLVMValueRef s = LLVMBuildLoad2(B, vt, accp[a % (mr * nv)], "");
        LLVMBuildStore(B, LLVMBuildAdd(B, s, LLVMBuildLoad2(B, vt, accp[a], ""), ""), accp[a % (mr * nv)]);
    }
    /* The epilogue: requantize, narrow, store. */
    int64_t P = f->oh * f->ow;
    LLVMValueRef prow = k->stem ? cg_add(cg, cg_mulk(cg, k->oy, f->ow), p0) : p0;
    bool u8 = f->yt->dtype == DT_U8;
    /* Packed vectors end their stage in the packs (KNarrow: the clamp and
     * zero point on 16-bit and byte lanes) where every channel shares it. */
    KNarrow nw;
    bool narrow = k->d->pack && kern_requant_narrow(&k->rq, u8, &nw);
    if (k->d->pack && pv == 1 && !k->stem && nv * L == f->o) {
        /* The tile holds all of each pixel's channels, and pixel m+1's
         * bytes follow pixel m's: the packs take the MR*NV vectors in
         * order, across pixels, 4 at a time (16 outputs: 4 pixels a
         * store, where each pixel's vector went alone through the whole
         * i32 stage and a vpmovdb; 96: 6 stores of 4 for 4 pixels, not 4
         * of 4 and 4 of 2). */
        LLVMValueRef y0 = cg_gep8(cg, k->y, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, P), prow), f->o));
        for (int i = 0, g; i < mr * nv; i += g) {
            for (g = 4; g > 1 && i + g > mr * nv; g /= 2)
                ;
            LLVMValueRef rv[4], o, a, out;
            for (int q = 0; q < g; q++) {
                o = cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, (i + q) % nv)), L); /* lanes */
                a = LLVMBuildLoad2(B, vt, accp[i + q], "");
                rv[q] = g > 1 && narrow ? kern_requant_raw(cg, &k->rq, a, o) : kern_requant(cg, &k->rq, a, o);
            }
            out = g > 1 ? k->d->pack(cg, rv, g, u8, narrow ? &nw : NULL) : LLVMBuildTrunc(B, rv[0], t8, "");
            LLVMSetAlignment(LLVMBuildStore(B, out, cg_gep8(cg, y0, cg_idx(cg, (int64_t)i * L))), 1);
        }
        return;
    }
    for (int m = 0; m < mr; m++) {
        int gr = gemm_row_group(k, mr, m, np, nv);
        if (gr > 0) {
            gemm_store_rows(cg, k, accp, m, gr, nv, cg_add(cg, cg_mulk(cg, bi, P), cg_add(cg, prow, cg_idx(cg, m * pv))), u8,
                            narrow ? &nw : NULL);
            m += gr - 1;
            continue;
        }
        for (int j = 0; j < nv;) {
            int nl = last && j == nv - 1 && f->o % lc ? (int)(f->o % lc) : lc;
            /* One pixel's 4 or 2 whole vectors (PV 1): one store. */
            int g = 1;
            if (k->d->pack && pv == 1)
                for (g = 4; g > 1 && (j + g > nv || (last && f->o % lc && j + g == nv)); g /= 2)
                    ;
            LLVMValueRef rv[4];
            for (int i = 0; i < g; i++) {
                LLVMValueRef o = cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j + i)), L); /* lanes */
                LLVMValueRef a = LLVMBuildLoad2(B, vt, accp[m * nv + j + i], "");
                rv[i] = g > 1 && narrow ? kern_requant_raw(cg, &k->rq, a, o) : kern_requant(cg, &k->rq, a, o);
            }
            LLVMValueRef pq = cg_add(cg, cg_mulk(cg, bi, P), cg_add(cg, prow, cg_idx(cg, m * pv)));
            if (g > 1) {
                LLVMValueRef yp = cg_gep8(cg, k->y, cg_add(cg, cg_mulk(cg, pq, f->o), cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), L)));
                LLVMSetAlignment(LLVMBuildStore(B, k->d->pack(cg, rv, g, u8, narrow ? &nw : NULL), yp), 1);
                j += g;
                continue;
            }
            LLVMValueRef b = LLVMBuildTrunc(B, rv[0], t8, "");
            for (int q = 0; q < pv && m * pv + q < np; q++) {
                LLVMValueRef ypix = cg_mulk(cg, cg_add(cg, pq, cg_idx(cg, q)), f->o);
                LLVMValueRef yp = cg_gep8(cg, k->y, cg_add(cg, ypix, cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), lc)));
                if (nl == L) {
                    LLVMSetAlignment(LLVMBuildStore(B, b, yp), 1);
                    continue;
                }
                /* Pixel q's first NL lanes: as pieces of 2^i bytes. */
                for (int at = 0, sz = 64; at < nl; sz /= 2) {
                    if (at + sz > nl)
                        continue;
                    LLVMValueRef sm[64], part;
                    for (int l = 0; l < sz; l++)
                        sm[l] = cg_i32(cg, q * lc + at + l);
                    part = sz == 1 ? LLVMBuildExtractElement(B, b, sm[0], "")
                                   : LLVMBuildShuffleVector(B, b, LLVMGetUndef(t8), LLVMConstVector(sm, (unsigned)sz), "");
                    LLVMSetAlignment(LLVMBuildStore(B, part, cg_gep8(cg, yp, cg_idx(cg, at))), 1);
                    at += sz;
                }
            }
            j++;
        }
    }
#undef SLOT
}

/* Every output vector for NP pixels from P0: NV at a time, then what is
 * left (at most NV, the partial last vector among them). */
static void gemm_pixels(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef p0, int np)
{
    int nv = k->nv;
    bool partial = k->f.o % k->lc != 0;
    int64_t nmain = (k->OV - partial) / nv, rem = k->OV - nmain * nv;
    CgLoop lv;
    if (nmain > 0) {
        LLVMValueRef v0 = nmain > 1 ? cg_mulk(cg, cg_for_begin(cg, &lv, nmain, "gv"), nv) : cg_idx(cg, 0);
        gemm_tile(cg, k, bi, p0, np, v0, nv, !partial && nmain == 1 && rem == 0);
        if (nmain > 1)
            cg_for_end(cg, &lv);
    }
    if (rem > 0)
        gemm_tile(cg, k, bi, p0, np, cg_idx(cg, nmain * nv), (int)rem, true);
}

/* The tile of a layer of OV output vectors (PARTIAL: the last one not
 * whole) whose D->nv vectors a tile would leave a narrower one (fewer
 * accumulators, each activation word broadcast once more), for D's block
 * of D->mr * D->nv accumulators: the fewest tiles across the vectors
 * (gemm_pixels: NV at a time, the rest in one more), then the most
 * accumulators in the smallest tile, then D's own shape.  NV up to 1.5
 * D->nv (zmm: 6; the 24 accumulators, 6 weight vectors and the broadcast
 * fill the 32 registers), MR = block / NV (at most MR_MAX, at least 4).
 * On zmm, M-LSD tiny's 96 outputs run as one 4x96 tile (was 6x64 and
 * 6x32), 144 as 4x80 and 4x64 (was 6x64, 6x64, 6x16), 16 on 16 pixels,
 * 24 and 32 on 12.  A layer of whole tiles (64, 128, 192 outputs: the
 * decoder's convs near the peak) keeps D's 6x64: 4x96 measured slower
 * there.  At most MAX_MR pixels: a layer that is not contiguous (1x1 at
 * stride 1 without padding, dense) keeps a pointer per pixel in a general
 * register across each tap's groups, and 12 or 16 of them spilled
 * (Fashion-MNIST's 3x3 16 -> 32 on 12x32: 1.7x the ticks of 6x32); 8
 * fit (GEMM_PTR_MAX: U-Net's 3x3 32 -> 32 on 8x8 pixels 8x32, 0.70x the
 * ticks of 6x32; the embedding model's 72 outputs 4x80, 0.81-0.85x of
 * 6x64 and 6x16). */
static void gemm_shape(const KGemm *d, int64_t OV, bool partial, int max_mr, int *mr, int *nv)
{
    int block = d->mr * d->nv, best_tiles = 0, best_acc = 0;
    for (int v = 1; v <= d->nv + d->nv / 2 && v <= OV && v <= NV_MAX && block / v >= 4; v++) {
        int m = block / v > max_mr ? max_mr : block / v;
        int64_t nmain = (OV - partial) / v, rem = OV - nmain * v;
        int tiles = (int)(nmain + (rem > 0)), acc = m * (int)(rem > 0 ? rem : v);
        if (!best_tiles || tiles < best_tiles || (tiles == best_tiles && acc > best_acc) ||
            (tiles == best_tiles && acc == best_acc && v == d->nv))
            best_tiles = tiles, best_acc = acc, *mr = m, *nv = v;
    }
}

/* Stem packing: whether the kernel rows as segments take no more steps
 * than the taps (which would load C < 4 bytes byte by byte). */
static bool stem_wanted(const KFrame *f)
{
    if (f->kh * f->kw == 1 || f->c > 4)
        return false;
    /* 4 channels: a kernel row is kw whole groups, as tight as the taps;
     * the band spares the per-tap pointers and the flip of every step
     * (M-LSD tiny's 3x3 stride-2 stem: 34% -> 55-69% of the peak). */
    if (f->c == 4)
        return f->dw == 1;
    int64_t seg = f->dw == 1 ? f->kw * f->c : f->c, nseg = f->dw == 1 ? f->kh : f->kh * f->kw;
    return f->c < 3 || nseg * ((seg + 3) / 4) <= f->kh * f->kw;
}

/* One vector of N bytes at SRC + AT flipped into DST + AT. */
static void stem_flip_piece(Cg *cg, LLVMValueRef dst, LLVMValueRef src, LLVMValueRef at, int n)
{
    LLVMValueRef v = kern_load_vec(cg, LLVMVectorType(cg->t_i8, (unsigned)n), cg_gep8(cg, src, at));
    LLVMSetAlignment(LLVMBuildStore(B, kern_flip(cg, v), cg_gep8(cg, dst, at)), 1);
}

/* WC bytes of an input row flipped into the band in vectors of the
 * step's width (4L bytes): whole vectors, then one more ending at the
 * row's end (overlapping the last, which it rewrites alike), or for a
 * row shorter than one vector pieces of 2^i bytes.  A byte at a time
 * (LLVM unrolls such a loop rather than vectorizing it) the copy had
 * taken a third of the instructions of a 1-channel stem. */
static void stem_flip_row(Cg *cg, GemmK *k, LLVMValueRef dst, LLVMValueRef src, int64_t wc)
{
    int vb = 4 * k->L;
    int64_t nv = wc / vb;
    if (nv > 0) {
        CgLoop lv;
        LLVMValueRef i = nv > 1 ? cg_for_begin(cg, &lv, nv, "sb") : cg_idx(cg, 0);
        stem_flip_piece(cg, dst, src, cg_mulk(cg, i, vb), vb);
        if (nv > 1)
            cg_for_end(cg, &lv);
        if (wc % vb)
            stem_flip_piece(cg, dst, src, cg_idx(cg, wc - vb), vb);
        return;
    }
    for (int64_t at = 0, sz = vb / 2; at < wc; sz /= 2)
        if (at + sz <= wc) {
            stem_flip_piece(cg, dst, src, cg_idx(cg, at), (int)sz);
            at += sz;
        }
}

/* One input row (w*C bytes at SRC) into the band at DST, flipped when
 * K->flip. */
static void stem_row(Cg *cg, GemmK *k, LLVMValueRef dst, LLVMValueRef src)
{
    int64_t wc = k->f.w * k->f.c;
    if (k->flip)
        stem_flip_row(cg, k, dst, src, wc);
    else
        LLVMBuildMemCpy(B, dst, 1, src, 1, cg_idx(cg, wc));
}

/* Fills the band's kh rows for output row OY of image BI: each input
 * row the taps read (flipped when K->flip), or zero points outside the
 * image; the frame of zero points around them was written once. */
static void stem_band(Cg *cg, GemmK *k, LLVMValueRef bi, LLVMValueRef oy)
{
    const KFrame *f = &k->f;
    int64_t wc = f->w * f->c;
    for (int64_t ky = 0; ky < f->kh; ky++) {
        LLVMValueRef iy = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, oy, f->sh), cg_idx(cg, ky * f->dh)),
                                       cg_idx(cg, f->pt), "");
        LLVMValueRef ok = LLVMBuildICmp(B, LLVMIntULT, iy, cg_idx(cg, f->h), "");
        LLVMValueRef row = cg_add(cg, cg_mulk(cg, bi, f->h), LLVMBuildSelect(B, ok, iy, cg_idx(cg, 0), ""));
        LLVMValueRef off = cg_mulk(cg, row, wc);
        LLVMValueRef src = LLVMBuildSelect(B, ok, cg_gep8(cg, k->x, off), k->zrow, "");
        stem_row(cg, k, cg_gep8(cg, k->band, cg_idx(cg, ky * k->RS + f->pl * f->c)), src);
    }
}

/* Fills the whole-image band (K->whole) with image BI's rows, each once,
 * at its padded row (the rows no tap reads are left out); the frame of
 * zero points was written once. */
static void stem_image(Cg *cg, GemmK *k, LLVMValueRef bi)
{
    const KFrame *f = &k->f;
    int64_t wc = f->w * f->c;
    if (k->nrow < 1)
        return;
    CgLoop lr;
    LLVMValueRef iy = cg_for_begin(cg, &lr, k->nrow, "sr");
    LLVMValueRef src = cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), wc));
    LLVMValueRef dst = cg_gep8(cg, k->band, cg_add(cg, cg_mulk(cg, cg_add(cg, iy, cg_idx(cg, f->pt)), k->RS),
                                                cg_idx(cg, f->pl * f->c)));
    stem_row(cg, k, dst, src);
    cg_for_end(cg, &lr);
}

bool kern_conv_gemm(Cg *cg, const Node *n, const KGemm *d)
{
    GemmK k = {0};
    KFrame *f = &k.f;
    if (!d || d->lanes < 1 || d->mr < 1 || d->mr > MR_MAX || d->nv < 1 || d->nv > NV_MAX || !kf_init(cg, n, f) ||
        f->wv->type.dtype != DT_I8)
        return false;
    if (n->op == OP_CONV2D && (node_int(n, ATTR_GROUP, 1) != 1 || f->wv->type.dims[3] != f->c))
        return false;
    /* At most half a vector of output channels: PV pixels a vector on LC
     * lanes each (4, 8, ...; PV at most D->max_pv). */
    int pv = 1, lc = d->lanes;
    if (d->max_pv > 1 && d->max_pv <= 4 && !d->wide && f->o <= d->lanes / 2) {
        for (lc = 4; lc < f->o; lc *= 2)
            ;
        pv = d->lanes / lc;
        if (pv > d->max_pv)
            pv = d->max_pv, lc = d->lanes / pv;
    } else if (d->max_pv > 1 && !d->wide && n->op == OP_CONV2D && stem_wanted(f) && f->o % (d->lanes / 2) == 0 &&
               f->o % d->lanes != 0) {
        /* A stem on an odd number of half vectors of outputs (24 on zmm:
         * the embedding model's): 2 pixels a vector on half the lanes
         * each, so no vector is half empty. */
        pv = 2, lc = d->lanes / 2;
    }
    k.d = d;
    k.pv = pv, k.lc = lc;
    /* Not with widened weights (Cortex-M: their layout is per tap, and the
     * band would take the stack). */
    k.stem = n->op == OP_CONV2D && !d->wide && stem_wanted(f);
    int64_t segw = f->dw == 1 ? 1 : f->kw, segb = f->dw == 1 ? f->kw * f->c : f->c;
    /* The band: kh rows wide enough for every tap, 16 bytes of slack (a
     * gather's load). */
    int64_t bandw = f->pl + f->w, reach = (f->ow - 1) * f->sw + (f->kw - 1) * f->dw + 1;
    if (reach > bandw)
        bandw = reach;
    int64_t RS = bandw * f->c, bandn = f->kh * RS + 16;
    /* The whole image when it is small (its rows copied once, not kh
     * times, and read long after they were stored: a band rewritten for
     * each output row is read back before its stores retire, and loads
     * straddling two of them wait). */
    int64_t bandh = (f->oh - 1) * f->sh + (f->kh - 1) * f->dh + 1, wholen = bandh * RS + 16;
    k.whole = k.stem && wholen <= STEM_WHOLE_MAX;
    if (k.whole) {
        bandn = wholen;
        k.nrow = bandh - f->pt < f->h ? bandh - f->pt : f->h;
    }
    if (k.stem && bandn > 65536)
        k.stem = false;
    k.gather = k.stem && pv > 1 && (pv - 1) * f->sw * f->c + 4 <= 16;
    /* Quantized i8/u8 results (the vector epilogue); fewer output channels
     * than a vector only on a short reduction; 3 input channels or more
     * unless a stem (fewer would waste most of each 4-byte step:
     * kern_conv_few's case). */
    if (!f->yt->quant || (f->yt->dtype != DT_I8 && f->yt->dtype != DT_U8) || (f->o < lc && f->c >= 64) ||
        (f->c < 3 && !k.stem))
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
    /* OV vectors of LC output channels (PV copies of them in L lanes). */
    int64_t T = f->kh * f->kw, O = f->o, C = f->c, OV = (O + lc - 1) / lc, OP = OV * L;
    /* Segments and their bytes: taps of C, or a stem's kernel rows. */
    int64_t NS = k.stem ? f->kh * segw : T, SB = k.stem ? segb : C, C4 = (SB + 3) / 4;
    k.T = NS, k.C4 = C4, k.OV = OV, k.RS = RS, k.segw = segw;
    k.rstep = k.whole ? f->dh * RS : RS;
    k.contig = !k.stem && f->kh == 1 && f->kw == 1 && f->sh == 1 && f->sw == 1 && f->pt == 0 && f->pl == 0 &&
               f->oh == f->h && f->ow == f->w;
    k.mr = d->mr, k.nv = d->nv > OV ? (int)OV : d->nv;
    /* A last tile narrower than D's (fewer accumulators, each activation
     * word broadcast once more; the partial vector alone among them: the
     * embedding model's 72 outputs ran 6x64 and 6x16) takes gemm_shape's
     * tiles; with a pointer per pixel (not CONTIG) at most GEMM_PTR_MAX
     * pixels, and a one-vector layer keeps D's (8x16 ran 3-10% slower
     * than 6x16 on U-Net's 3x3 8 -> 16 and 16 -> 16). */
    bool pa = O % lc != 0, narrower = (OV - pa) % d->nv != 0 || (pa && OV > d->nv);
    bool shaped = !k.stem && pv == 1 && !d->wide && f->oh * f->ow > 1 && narrower && (k.contig || OV > 1);
    if (shaped)
        gemm_shape(d, OV, pa, k.contig ? MR_MAX : GEMM_PTR_MAX, &k.mr, &k.nv);
    if (k.contig && k.flip && pv == 1 && k.nv == 1 && d->lanes >= 8 && f->oh * f->ow > 1 && k.mr * C <= 16384) {
        k.xf = cg_alloca(cg, LLVMArrayType(cg->t_i8, (unsigned)(k.mr * C)), "kgflip");
        LLVMSetAlignment(k.xf, 64);
    }
    k.vxor = d->xmask && shaped && (k.mr != d->mr || k.nv != d->nv) && k.contig && k.flip && !k.xf;
    /* One pixel: KGemm.ks sets of D->nv vectors' accumulators in all; a
     * layer of one pixel takes twice the vectors a tile (half the sets:
     * fewer broadcasts and sums a weight). */
    k.chains = k.stem || pv > 1 || d->ks < 2 ? 0 : d->ks * d->nv;
    if (k.chains && f->oh * f->ow == 1 && 2 * d->nv <= NV_MAX)
        k.nv = 2 * d->nv > OV ? (int)OV : 2 * d->nv;
    k.tiled = d->wide || (k.chains && f->oh * f->ow == 1);
    /* Kernel rows of contiguous groups, or taps one by one with a horizontal
     * dilation (one pixel a vector, not a stem). */
    k.rows = d->rows && !k.stem && pv == 1 && C % 4 == 0 && (f->kh - 1) * f->dh < f->h &&
             (f->kw - 1) * f->dw < f->w;
    const int8_t *wd = f->wv->data;
    /* w(o, t, c): OHWI, or matmul's b[K][N]. */
#define W(o, t, c) (n->op == OP_MATMUL ? wd[(c) * O + (o)] : wd[((o) * T + (t)) * C + (c)])
    size_t wbytes = (size_t)(OP * NS * C4 * 4) * (d->wide ? 2 : 1);
    int8_t *wp = xcalloc(wbytes, 1);
    int64_t acc_max = 0; /* a bound on |acc| over every channel (the requant's smmulr) */
    /* each lane's range (padding: [0, 0]) */
    int64_t *chan_lo = xcalloc((size_t)OP, sizeof *chan_lo), *chan_hi = xcalloc((size_t)OP, sizeof *chan_hi);
    int32_t *bias = xcalloc((size_t)OP, sizeof *bias);
    const int32_t *bd = f->bv ? f->bv->data : NULL;
    for (int64_t o = 0; o < O; o++) {
        int64_t v = o / lc, s = 0, sa = 0;
        for (int q = 0; q < pv; q++) {
            int64_t l = q * lc + o % lc;
            s = 0, sa = 0;
            for (int64_t t = 0; t < T; t++)
                for (int64_t c = 0; c < C; c++) {
                    int8_t w = W(o, t, c);
                    /* Segment and byte: tap t, channel c; a stem's kernel
                     * row t / kw at byte (t % kw) * C + c (or its tap t). */
                    int64_t sg = t, b = c;
                    if (k.stem && segw == 1)
                        sg = t / f->kw, b = (t % f->kw) * C + c;
                    int64_t at = (((v * NS + sg) * C4 + b / 4) * L + l) * 4;
                    if (k.tiled) {
                        /* (PV 1, taps as segments) the group of nv vectors
                         * gemm_pixels gives one tile */
                        int64_t nvt = k.nv, part = O % L != 0;
                        int64_t nmain = (OV - part) / nvt, g0 = v / nvt < nmain ? v / nvt * nvt : nmain * nvt;
                        int64_t nvg = v / nvt < nmain ? nvt : OV - nmain * nvt;
                        at = (((g0 * T * C4) + (t * C4 + c / 4) * nvg + (v - g0)) * L + l) * 4;
                    }
                    if (d->wide) { /* i16 (little-endian) at half c%4 = 0, 2, 1, 3 -> 0, 1, 2, 3 */
                        int64_t h = at + (c % 2) * 2 + (c % 4) / 2;
                        wp[2 * h] = w;
                        wp[2 * h + 1] = (int8_t)(w < 0 ? -1 : 0);
                    } else {
                        wp[at + b % 4] = w;
                    }
                    sa += w < 0 ? -w : w;
                    s += w;
                }
            /* Every tap reads x' or the zero-point row: zx' * sum w comes
             * off the bias (wrapping like the generated adds). */
            bias[v * L + l] = (int32_t)((bd ? (uint32_t)bd[o] : 0u) - (uint32_t)(zxk * s));
            /* every activation byte within [-255, 255] */
            int64_t a = llabs((int64_t)bias[v * L + l]) + 255 * sa;
            acc_max = a > acc_max ? a : acc_max;
            /* the bytes the kernel sees within [xb, xb + 255] */
            int64_t xb = d->x_unsigned ? 0 : -128, sp = (s + sa) / 2, sn = (s - sa) / 2;
            chan_lo[v * L + l] = (int64_t)bias[v * L + l] + sp * xb + sn * (xb + 255);
            chan_hi[v * L + l] = (int64_t)bias[v * L + l] + sp * (xb + 255) + sn * xb;
        }
    }
#undef W
    /* The zero-point row: one tap's groups, or a stem's input row. */
    int64_t zn = k.stem ? f->w * C : C4 * 4;
    uint8_t *zrow = xmalloc((size_t)zn);
    memset(zrow, (uint8_t)f->zx, (size_t)zn);
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.w = cg_rodata(cg, wp, wbytes, 64, "kgemm");
    k.bias = cg_table_i32(cg, bias, OP, "kgbias");
    k.zrow = f->all_valid && !k.stem ? NULL : cg_rodata(cg, zrow, (size_t)zn, 16, "kgzero");
    free(wp);
    free(bias);
    free(zrow);
    /* Per-channel stages padded to OP (the padding lanes are never stored). */
    int64_t nst = cg_stage_count(f->st, O);
    OutStage *st = f->st;
    if (nst > 1) {
        st = xmalloc((size_t)OP * sizeof *st);
        for (int64_t a = 0; a < OP; a++) { /* lane a: channel (a / L) * lc + a % lc */
            int64_t o = a / L * lc + a % L % lc;
            st[a] = f->st[o < O ? o : O - 1];
        }
        nst = OP;
    }
    kern_requant_init(cg, &k.rq, st, nst, f->rounding);
    kern_requant_bound(cg, &k.rq, acc_max, chan_lo, chan_hi, OP);
    free(chan_lo);
    free(chan_hi);

    int64_t P = k.stem ? f->ow : f->oh * f->ow; /* a stem tiles each output row */
    /* Pixels a tile: MR rows of PV (packed, one vector wide: as many rows
     * as the block has accumulators). */
    int rows = pv > 1 ? (d->mr * d->nv / k.nv > MR_MAX ? MR_MAX : d->mr * d->nv / k.nv) : k.mr;
    /* A stem whose rows pack 4 a store (one vector of outputs): whole packs
     * a tile (16 outputs on zmm: 8 pixels, not 6; 1.05x). */
    if (k.stem && pv == 1 && d->pack && f->o == L)
        rows = (rows + 3) / 4 * 4;
    int mr = rows * pv > P ? (int)P : rows * pv;
    int64_t nt = P / mr, prem = P % mr;
    CgLoop lb, lp, ly;
    if (k.stem) {
        /* The frame of zero points (flipped like the rows). */
        k.band = cg_alloca(cg, LLVMArrayType(cg->t_i8, (unsigned)bandn), "kgband");
        LLVMSetAlignment(k.band, 64);
        LLVMBuildMemSet(B, k.band, LLVMConstInt(cg->t_i8, (uint8_t)(f->zx ^ (k.flip ? 0x80 : 0)), 0),
                        cg_idx(cg, bandn), 64);
    }
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    if (k.stem && k.whole)
        stem_image(cg, &k, bi);
    if (k.stem) {
        k.oy = cg_for_begin(cg, &ly, f->oh, "gy");
        if (k.whole) {
            k.brow = cg_gep8(cg, k.band, cg_mulk(cg, k.oy, f->sh * RS));
        } else {
            k.brow = k.band;
            stem_band(cg, &k, bi, k.oy);
        }
    }
    if (nt > 0) {
        LLVMValueRef p0 = cg_mulk(cg, cg_for_begin(cg, &lp, nt, "gp"), mr);
        gemm_pixels(cg, &k, bi, p0, mr);
        cg_for_end(cg, &lp);
    }
    if (prem > 0)
        gemm_pixels(cg, &k, bi, cg_idx(cg, nt * mr), (int)prem);
    if (k.stem)
        cg_for_end(cg, &ly);
    cg_for_end(cg, &lb);
    if (st != f->st)
        free(st);
    free(f->st);
    /* Pixels x output channels a tile, "p2" when 2 pixels share a vector,
     * "k2" when one pixel's reduction runs on 2 sets of accumulators, "s"
     * for a stem. */
    char pk[16] = "";
    if (pv > 1)
        snprintf(pk, sizeof pk, "p%d", pv);
    if (mr == 1 && tile_ks(&k, 1, k.nv) > 1)
        snprintf(pk, sizeof pk, "k%d", tile_ks(&k, 1, k.nv) % 100);
    snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%dx%dc4%s%s", mr, k.nv * lc, pk,
             k.stem ? "s" : "");
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
