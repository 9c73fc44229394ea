/* kernel_depthwise.c - depthwise conv2d with channels in vector lanes.
 *
 * NHWC keeps a pixel's channels contiguous, so LANES channels are one
 * vector load for every tap.  The loops, per image and output row:
 *
 *   - each of the KH input rows the taps read is valid or not, once;
 *   - PX output pixels of the row at a time (4, or 8 on AVX-512 zmm):
 *     the input columns their taps read (PX*SW + (KW-1)*DW at most, so
 *     adjacent pixels share them at stride 1, and at stride 2 for a 3x3)
 *     get one pointer each, pointing to a row of zero points instead when
 *     the tap falls in the padding, so no tap has a branch; the row passes
 *     and blocks whose taps all lie in the image (all but a few at the
 *     edges, split off at compile time) take one pointer and constant
 *     offsets instead (the loads' displacements: at 32 channels a block,
 *     the checked pointers had cost as much as the channel loop);
 *   - the channel loop, LANES at a time, then once more at C - LANES for
 *     a remainder (it rewrites a few channels with the same values); each
 *     column is loaded and widened once and multiplied by the KW taps that
 *     read it (unrolled: KH*KW is small), then the vector requantizing
 *     epilogue (kernel_requant.c) stores the PX pixels' channels.
 *
 * Arithmetic: acc = bias - zx * sum_t w[t] + sum_t x[t] * w[t], with w
 * the weights less their zero point (i16, packed tap-major at compile
 * time) and x the raw activation, so a padded tap, reading zx, adds
 * exactly zx * w[t] back: the interpreter's sum, in wrapping i32, which
 * check-accumulators bounds.  The products are i8 (or u8) times i16
 * widened to i32 (smlal/mla on AArch64), or, when the KDw has a mac2
 * (x86: pmaddwd, vpdpwssd), two taps per i32 lane (dw_channels2): the
 * weights packed as interleaved i16 pairs, the activations of the two
 * taps interleaved once per column; with VNNI (the KDw's mac4: vpdpbusd) four
 * kernel rows per i32 lane (dw_channels4) when the weights are bytes, and
 * with a byte permute and narrow as well (AVX-512 VBMI) 2*LANES channels
 * a step (dw_channels4w), or 4*LANES by byte unpacks (dw_unpk: 3x3,
 * stride 1, whole steps of 64 channels and a tail of 16 by dw_wide).
 * The output stage gets the bound |acc| <= |bias| + max|x - zx| * sum|w|
 * (kern_requant_bound: 32-bit lanes on x86).
 *
 * Multiplier 1 only (each output channel reads its own input channel);
 * other multipliers and channel counts below 4 stay on kern_depthwise /
 * kern_depthwise_pairs.
 */
#include "kernel_int8.h"

#include <stdlib.h>
#include <string.h>

#define B (cg->b)
#define PX_MAX 8
#define NCOL_MAX 64 /* input columns one block of pixels reads */
#define DW_NR_MAX 2 /* output rows a pass (dw_channels4) */

typedef struct DwR {
    KFrame f;
    int lanes;
    LLVMValueRef x, y, w, bias, zrow;
    KRequant rq;
    const KDw *d; /* pairs of taps through d->mac2 when set */
    bool quads;   /* four kernel rows a lane through d->mac4 (dw_channels4) */
    bool wide;    /* and 2 * lanes channels a step (dw_channels4w) */
    bool unpk;    /* or 4 * lanes channels a step by unpacks (dw_unpk) */
} DwR;


/* Starts PX pixels' accumulators at the bias of channels C0.. (one vector
 * of lanes) and returns how many input columns those pixels read. */
static int64_t dw_acc_init(Cg *cg, const DwR *k, LLVMValueRef c0, int px, LLVMValueRef *acc)
{
    const KFrame *f = &k->f;
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)k->lanes);
    LLVMValueRef bv = LLVMBuildLoad2(B, t32, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->bias, &c0, 1, ""), "");
    LLVMSetAlignment(bv, 4);
    for (int p = 0; p < px; p++)
        acc[p] = bv;
    return (px - 1) * f->sw + (f->kw - 1) * f->dw + 1;
}

/* The LANES bytes at channel C0 of column pointer COLP. */
static LLVMValueRef xload(Cg *cg, LLVMTypeRef t8, LLVMValueRef colp, LLVMValueRef c0)
{
    LLVMValueRef v = LLVMBuildLoad2(B, t8, cg_gep8(cg, colp, c0), "");
    LLVMSetAlignment(v, 1);
    return v;
}

/* The kernel column that output pixel P of a block reads from the block's
 * input column U (U = P*SW + KX*DW), or -1 when it reads none there. */
static int64_t dw_tap(const KFrame *f, int64_t u, int p)
{
    int64_t r = u - p * f->sw;
    return r < 0 || r % f->dw != 0 || r / f->dw >= f->kw ? -1 : r / f->dw;
}

/* Whether any of PX pixels of a block reads the block's input column U. */
static bool col_used(const KFrame *f, int64_t u, int px)
{
    for (int p = 0; p < px; p++)
        if (dw_tap(f, u, p) >= 0)
            return true;
    return false;
}

/* Requantizes the accumulators ACC of PX pixels, channels C0 .. C0+LANES,
 * into the output (pixel p's channel 0 is Y[YPIX + p*O]). */
static void dw_store(Cg *cg, DwR *k, const LLVMValueRef *acc, int px, LLVMValueRef c0, LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)k->lanes);
    for (int p = 0; p < px; p++) {
        LLVMValueRef v = kern_requant(cg, &k->rq, acc[p], c0);
        LLVMValueRef yi = cg_add(cg, cg_add(cg, ypix, cg_idx(cg, p * f->o)), c0);
        LLVMValueRef st = LLVMBuildStore(B, LLVMBuildTrunc(B, v, t8, ""), cg_gep8(cg, k->y, yi));
        LLVMSetAlignment(st, 1);
    }
}

/* The channels C0 .. C0+LANES of PX output pixels whose taps read column
 * pointers COL[ky][u] (u = p*SW + kx*DW); output pixel p's channel 0 is
 * Y[YPIX + p*O]. */
static void dw_channels(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0,
                        LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    int L = k->lanes;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)L), t16 = LLVMVectorType(cg->t_i16, (unsigned)L);
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)L);
    bool u8 = f->xv->type.dtype == DT_U8;
    LLVMValueRef acc[PX_MAX];
    (void)nr; /* 1 */
    int64_t ncol = dw_acc_init(cg, k, c0, px, acc);
    for (int64_t ky = 0; ky < f->kh; ky++) {
        LLVMValueRef wv[64];
        for (int64_t kx = 0; kx < f->kw; kx++) {
            LLVMValueRef wi = cg_add(cg, cg_idx(cg, (ky * f->kw + kx) * f->c), c0);
            LLVMValueRef w = LLVMBuildLoad2(B, t16, LLVMBuildInBoundsGEP2(B, cg->t_i16, k->w, &wi, 1, ""), "");
            LLVMSetAlignment(w, 2);
            wv[kx] = LLVMBuildSExt(B, w, t32, "");
        }
        for (int64_t u = 0; u < ncol; u++) {
            LLVMValueRef xv = NULL;
            for (int p = 0; p < px; p++) {
                int64_t r = dw_tap(f, u, p);
                if (r < 0)
                    continue;
                if (!xv) {
                    LLVMValueRef v = xload(cg, t8, col[ky * f->dh * NCOL_MAX + u], c0);
                    xv = u8 ? LLVMBuildZExt(B, v, t32, "") : LLVMBuildSExt(B, v, t32, "");
                }
                acc[p] = cg_add(cg, acc[p], LLVMBuildMul(B, xv, wv[r], ""));
            }
        }
    }
    dw_store(cg, k, acc, px, c0, ypix);
}

/* The pair index of tap (KY, KX) of a KH x KW kernel and which half of
 * the pair it is: rows 2g and 2g+1 pair vertically (same kx: pair
 * g*KW + kx), an odd last row horizontally (kx and kx+1: pair
 * (KH/2)*KW + kx/2; its odd last tap with a zero weight). */
static int64_t pair_of(int64_t kh, int64_t kw, int64_t ky, int64_t kx, int *half)
{
    if (ky < kh / 2 * 2) {
        *half = (int)(ky % 2);
        return ky / 2 * kw + kx;
    }
    *half = (int)(kx % 2);
    return kh / 2 * kw + kx / 2;
}

static int64_t pair_count(int64_t kh, int64_t kw) { return kh / 2 * kw + kh % 2 * ((kw + 1) / 2); }

/* <2L x i16>: A and B (<L x i8>) interleaved, then widened. */
static LLVMValueRef zip16(Cg *cg, LLVMValueRef a, LLVMValueRef b, int L, bool u8)
{
    LLVMValueRef m[128];
    for (int i = 0; i < L; i++) {
        m[2 * i] = LLVMConstInt(cg->t_i32, (unsigned)i, false);
        m[2 * i + 1] = LLVMConstInt(cg->t_i32, (unsigned)(L + i), false);
    }
    LLVMValueRef mask = LLVMConstVector(m, (unsigned)(2 * L));
    LLVMValueRef z = LLVMBuildShuffleVector(B, a, b, mask, "");
    LLVMTypeRef t = LLVMVectorType(cg->t_i16, (unsigned)(2 * L));
    return u8 ? LLVMBuildZExt(B, z, t, "") : LLVMBuildSExt(B, z, t, "");
}

/* dw_channels by pairs of taps: each i32 lane adds two i16 products
 * (pmaddwd, vpdpwssd) of two columns' activations zipped together, the
 * rows 2g, 2g+1 of one column (shared by every pixel that reads it) or,
 * in an odd last row, columns u and u + DW of the row. */
static void dw_channels2(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0, LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    int L = k->lanes;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)L), t16 = LLVMVectorType(cg->t_i16, (unsigned)(2 * L));
    bool u8 = f->xv->type.dtype == DT_U8;
    LLVMValueRef acc[PX_MAX];
    (void)nr; /* 1 */
    int64_t ncol = dw_acc_init(cg, k, c0, px, acc);
    int64_t np = pair_count(f->kh, f->kw);
    LLVMValueRef *wv = xcalloc((size_t)np, sizeof *wv);
    LLVMValueRef *xs = xcalloc((size_t)(f->kh * NCOL_MAX), sizeof *xs);
    LLVMValueRef c2 = cg_mulk(cg, c0, 2);
    for (int64_t i = 0; i < np; i++) {
        LLVMValueRef wi = cg_add(cg, cg_idx(cg, i * f->c * 2), c2);
        wv[i] = LLVMBuildLoad2(B, t16, LLVMBuildInBoundsGEP2(B, cg->t_i16, k->w, &wi, 1, ""), "");
        LLVMSetAlignment(wv[i], 2);
    }
#define XS(ky, u) (xs[(ky) * NCOL_MAX + (u)] ? xs[(ky) * NCOL_MAX + (u)] : (xs[(ky) * NCOL_MAX + (u)] = xload(cg, t8, col[(ky) * f->dh * NCOL_MAX + (u)], c0)))
    for (int64_t ky = 0; ky < f->kh; ky++) {
        bool vert = ky < f->kh / 2 * 2;
        if (vert && ky % 2)
            continue; /* done with row ky - 1 */
        for (int64_t u = 0; u < ncol; u++) {
            LLVMValueRef z = NULL;
            for (int p = 0; p < px; p++) {
                int64_t kx = dw_tap(f, u, p);
                if (kx < 0)
                    continue;
                if (!vert && kx % 2)
                    continue; /* the second half of the pair at u - DW */
                if (!z) {
                    LLVMValueRef a = XS(ky, u), b;
                    if (vert)
                        b = XS(ky + 1, u);
                    else if (u + f->dw < ncol && col[ky * f->dh * NCOL_MAX + u + f->dw])
                        b = XS(ky, u + f->dw);
                    else
                        b = LLVMConstNull(t8); /* only ever times a zero weight */
                    z = zip16(cg, a, b, L, u8);
                }
                int half = 0;
                int64_t pi = pair_of(f->kh, f->kw, ky, kx, &half);
                acc[p] = k->d->mac2(cg, acc[p], z, wv[pi]);
            }
        }
    }
#undef XS
    dw_store(cg, k, acc, px, c0, ypix);
    free(wv);
    free(xs);
}

/* dw_channels by four kernel rows a lane (vpdpbusd): rows 4g .. 4g+3 of
 * one input column as the 4 bytes of each channel's i32 lane (zero bytes
 * past the last row, whose weights are 0), built once per column and
 * shared by every pixel and kernel column that reads it; i8 activations
 * made unsigned by x ^ 0x80 = x + 128 (the bias holds -(zx + 128) * sum w
 * then). Weights packed as [group][kx][channel][4] i8.  NR output rows
 * (1, or 2 when dw_slide: a 3-row kernel whose next output row starts
 * one kernel row lower, SH == DH), each with the same column pointers:
 * row 1's column is row 0's shifted down a byte with the new input row
 * xored into byte 2 (for i8 the 0x80 of row 0's zero top byte lands in
 * byte 2 and makes it x ^ 0x80; the new top byte is 0, times a zero
 * weight; so only one slide: NR <= 2).  The second row costs one load
 * and three instructions a column instead of seven, and shares the
 * weight loads.  (At SH == 2 DH the slide, two new rows, measured slower
 * than one row a pass: docs/benchmarks.md.) */
static bool dw_slide(const KFrame *f) { return f->kh == 3 && f->sh == f->dh; }

static void dw_channels4(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0, LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    int L = k->lanes;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)L), t32 = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef acc[DW_NR_MAX][PX_MAX];
    int64_t ncol = dw_acc_init(cg, k, c0, px, acc[0]);
    for (int r = 1; r < nr; r++)
        memcpy(acc[r], acc[0], sizeof acc[0]);
    int64_t ng = (f->kh + 3) / 4;
    for (int64_t g = 0; g < ng; g++) {
        LLVMValueRef wv[64];
        for (int64_t kx = 0; kx < f->kw; kx++) {
            LLVMValueRef wi = cg_add(cg, cg_idx(cg, (g * f->kw + kx) * f->c), c0);
            wv[kx] = LLVMBuildLoad2(B, t32, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->w, &wi, 1, ""), "");
            LLVMSetAlignment(wv[kx], 4);
        }
        for (int64_t u = 0; u < ncol; u++) {
            if (!col_used(f, u, px))
                continue;
            LLVMValueRef z = NULL;
            for (int r = 0; r < nr; r++) {
                if (r > 0) { /* dw_slide: the next output row's column */
                    LLVMValueRef b = xload(cg, t8, col[(r * f->sh + 2 * f->dh) * NCOL_MAX + u], c0);
                    LLVMValueRef s8 = cg_splat(cg, cg_i32(cg, 8), (unsigned)L), s16 = cg_splat(cg, cg_i32(cg, 16), (unsigned)L);
                    z = LLVMBuildXor(B, LLVMBuildLShr(B, z, s8, ""), LLVMBuildShl(B, LLVMBuildZExt(B, b, t32, ""), s16, ""), "");
                } else {
                    for (int64_t j = 0; j < 4 && 4 * g + j < f->kh; j++) {
                        LLVMValueRef b = LLVMBuildZExt(B, xload(cg, t8, col[(4 * g + j) * f->dh * NCOL_MAX + u], c0), t32, "");
                        if (j)
                            b = LLVMBuildShl(B, b, cg_splat(cg, cg_i32(cg, (int32_t)(8 * j)), (unsigned)L), "");
                        z = z ? LLVMBuildOr(B, z, b, "") : b;
                    }
                    if (f->xv->type.dtype != DT_U8)
                        z = LLVMBuildXor(B, z, cg_splat(cg, cg_i32(cg, (int32_t)0x80808080u), (unsigned)L), "");
                }
                for (int p = 0; p < px; p++) {
                    int64_t kx = dw_tap(f, u, p);
                    if (kx >= 0)
                        acc[r][p] = k->d->mac4(cg, acc[r][p], z, wv[kx]);
                }
            }
        }
    }
    for (int r = 0; r < nr; r++)
        dw_store(cg, k, acc[r], px, c0, cg_add(cg, ypix, cg_idx(cg, r * f->ow * f->o)));
}

/* The vpdpbusd of block column U's lanes Z (kernel rows of group G)
 * into ACC[r][p], channels C.., of each output row and pixel reading it;
 * the group's weights, and for the second output row of two a pass
 * (NR = 2: one group) the same weights shifted up a byte in each lane,
 * [w0, w1, w2, 0] -> [0, w0, w1, w2] (vpslld, CSE'd per kx).  A second
 * weight set packed at compile time was 12 more zmm loads in each
 * iteration of dw_unpk's loop, which measured 1.10-1.15x slower
 * (M-LSD tiny's 3x3 stride-1 layers: docs/benchmarks.md, issue 13
 * session 16): more loads slow these loops where vector instructions
 * on the pipes the dot products leave free do not. */
static void dw_col_mac4(Cg *cg, DwR *k, LLVMValueRef acc[DW_NR_MAX][PX_MAX], LLVMValueRef z, int64_t u, int g, int nr,
                        int px, LLVMValueRef c)
{
    const KFrame *f = &k->f;
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)k->lanes);
    for (int r = 0; r < nr; r++)
        for (int p = 0; p < px; p++) {
            int64_t kx = dw_tap(f, u, p);
            if (kx < 0)
                continue;
            LLVMValueRef wi = cg_add(cg, cg_idx(cg, (g * f->kw + kx) * f->c), c);
            LLVMValueRef w = LLVMBuildLoad2(B, t32, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->w, &wi, 1, ""), "");
            LLVMSetAlignment(w, 4);
            if (r == 1)
                w = LLVMBuildShl(B, w, cg_splat(cg, cg_i32(cg, 8), (unsigned)k->lanes), "");
            acc[r][p] = k->d->mac4(cg, acc[r][p], z, w);
        }
}

/* dw_channels4 on 2*LANES channels a step (32 on zmm), for a kernel of at
 * most 8 rows when the KDw has narrow (AVX-512 VBMI): per input column
 * and group of 4 kernel rows (MobileNetV3's 5x5: two, the second of one
 * row), the 2*LANES bytes of each of the 4 input rows t = (4g + j)*DH
 * (j = 0..3; rows past the kernel's reuse the last one's bytes: their
 * weights are 0) are
 * two 64-byte vectors [row 0 | row 1], [row 2 | row 3], and one
 * two-source byte shuffle (vpermt2b) per LANES channels makes each
 * channel's i32 lane of the 4 rows' bytes, in channel order.  Two output
 * rows (dw_slide) read the same column: row 0 through weights
 * [w0, w1, w2, 0], row 1 through [0, w0, w1, w2] (the same weights
 * shifted up a byte: dw_col_mac4).  About 8 instructions a column for 2 x 2*LANES channels, against
 * about 22 in dw_channels4; the outputs' bytes by narrow, two pixels at
 * once (three packs and a vpermd for 2 x 2*LANES channels, then two
 * stores).  NV = 1: the same on LANES channels (a 16-channel layer, or
 * the last 16 channels after 32-channel steps): LANES-byte rows, one
 * vpermb (the two rows' halves in one register) a column where
 * dw_channels4 took about 11 instructions for LANES channels. */
static void dw_wide(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0, LLVMValueRef ypix, int nv)
{
    const KFrame *f = &k->f;
    int L = k->lanes, nrow = (int)f->kh + nr - 1;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)(nv * L)), t32 = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef c1 = cg_add(cg, c0, cg_idx(cg, L)), cv[2] = {c0, c1};
    LLVMValueRef acc[2][DW_NR_MAX][PX_MAX];
    for (int v = 0; v < nv; v++) {
        LLVMValueRef a[PX_MAX];
        dw_acc_init(cg, k, cv[v], px, a);
        for (int r = 0; r < nr; r++)
            for (int p = 0; p < px; p++)
                acc[v][r][p] = a[p];
    }
    /* Groups of 4 kernel rows (two output rows a pass: one group of the
     * 4 input rows); group g's rows 4g .. 4g+gr-1.  Lane i of vector v,
     * byte j: the group's row min(j, gr - 1) (weights 0 past the kernel),
     * channel v*L + i. */
    int ng = nr == 2 ? 1 : ((int)f->kh + 3) / 4;
    LLVMValueRef mask[2][2];
    for (int g = 0; g < ng; g++) {
        int gr = nrow - 4 * g < 4 ? nrow - 4 * g : 4;
        for (int v = 0; v < nv; v++) {
            LLVMValueRef m[256];
            for (int i = 0; i < L; i++)
                for (int j = 0; j < 4; j++)
                    m[4 * i + j] = cg_i32(cg, (j < gr ? j : gr - 1) * nv * L + v * L + i);
            mask[g > 0][v] = LLVMConstVector(m, (unsigned)(4 * L));
        }
    }
    LLVMValueRef cat[128];
    for (int i = 0; i < 2 * nv * L; i++)
        cat[i] = cg_i32(cg, i);
    LLVMValueRef catm = LLVMConstVector(cat, (unsigned)(2 * nv * L));
    int64_t ncol = (px - 1) * f->sw + (f->kw - 1) * f->dw + 1;
    for (int64_t u = 0; u < ncol; u++) {
        if (!col_used(f, u, px))
            continue;
        for (int g = 0; g < ng; g++) {
            int gr = nrow - 4 * g < 4 ? nrow - 4 * g : 4;
            LLVMValueRef x[4];
            for (int j = 0; j < 4; j++)
                x[j] = j < gr ? xload(cg, t8, col[(4 * g + j) * f->dh * NCOL_MAX + u], c0) : LLVMGetUndef(t8);
            LLVMValueRef lo = LLVMBuildShuffleVector(B, x[0], x[1], catm, "");
            LLVMValueRef hi = gr > 2 ? LLVMBuildShuffleVector(B, x[2], x[3], catm, "") : LLVMGetUndef(LLVMTypeOf(lo));
            for (int v = 0; v < nv; v++) {
                LLVMValueRef z = LLVMBuildBitCast(B, LLVMBuildShuffleVector(B, lo, hi, mask[g > 0][v], ""), t32, "");
                if (f->xv->type.dtype != DT_U8)
                    z = LLVMBuildXor(B, z, cg_splat(cg, cg_i32(cg, (int32_t)0x80808080u), (unsigned)L), "");
                dw_col_mac4(cg, k, acc[v], z, u, g, nr, px, cv[v]);
            }
        }
    }
    /* The clamp and zero point in narrow (on 2*LANES bytes at once)
     * where every channel has the same, else in kern_requant; two pixels'
     * four vectors a narrow (one cross-lane permute, not two), stored as
     * two runs of 2*LANES bytes. */
    bool u8 = f->yt->dtype == DT_U8;
    KNarrow nw;
    bool raw = kern_requant_narrow(&k->rq, u8, &nw);
    LLVMValueRef (*stage)(Cg *, const KRequant *, LLVMValueRef, LLVMValueRef) = raw ? kern_requant_raw : kern_requant;
    LLVMValueRef half[2][64];
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < nv * L; i++)
            half[h][i] = cg_i32(cg, h * nv * L + i);
    for (int r = 0; r < nr; r++)
        for (int p = 0; p < px; p += 2) {
            int np = px - p < 2 ? 1 : 2, n = 0;
            LLVMValueRef q[4];
            for (int j = 0; j < np; j++)
                for (int v = 0; v < nv; v++)
                    q[n++] = stage(cg, &k->rq, acc[v][r][p + j], cv[v]);
            if (n == 1) /* one vector: narrowed beside itself */
                q[n++] = q[0];
            LLVMValueRef bytes = k->d->narrow(cg, q, n, u8, raw ? &nw : NULL);
            for (int j = 0; j < np; j++) {
                LLVMValueRef v = LLVMBuildShuffleVector(B, bytes, LLVMGetUndef(LLVMTypeOf(bytes)),
                                                        LLVMConstVector(half[j], (unsigned)(nv * L)), "");
                LLVMValueRef yi = cg_add(cg, cg_add(cg, ypix, cg_idx(cg, r * f->ow * f->o + (p + j) * f->o)), c0);
                LLVMValueRef st = LLVMBuildStore(B, v, cg_gep8(cg, k->y, yi));
                LLVMSetAlignment(st, 1);
            }
        }
}

static void dw_channels4w(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0, LLVMValueRef ypix)
{
    dw_wide(cg, k, col, px, nr, c0, ypix, 2);
}

/* Channel C's position in the weight, bias and output-stage tables of a
 * dw_unpk layer, and the channel at position C (the map is its own
 * inverse): in each step of 64 channels (4 zmm vectors) the unpacks
 * leave vector q's i32 lane 4l + i holding channel 16l + 4q + i (l the
 * 128-bit lane): positions swap the digits l and q.  Channels from
 * C_STEPS on (a tail of 16 that dw_wide computes) keep their own
 * positions. */
static int64_t unpk_pos(int64_t c, int64_t c_steps)
{
    int64_t o = c % 64;
    if (c >= c_steps)
        return c; /* a tail past the whole steps: dw_wide's, in channel order */
    return c - o + (o % 16 / 4) * 16 + o / 16 * 4 + o % 4;
}

/* dw_wide on 4*LANES channels a step (64 on zmm) when the KDw has
 * narrow_lanes: the column's 4 kernel rows (rows past the kernel's the
 * last one's bytes again, times 0) are 4 plain 64-byte loads, and byte
 * unpacks (row 0 with 1, 2 with 3, low and high halves) then word
 * unpacks make each channel's i32 lane of the 4 rows' bytes: 8
 * vpunpck{l,h}{bw,wd}, none on vpdpbusd's ports (docs/benchmarks.md),
 * where dw_wide's vinserti64x4 and vpermt2b are partly.  Vector q's lane
 * 4l + i then holds channel 16l + 4q + i (unpk_pos): the weights, bias
 * and output-stage tables are permuted so at compile time, and the
 * output's packs (narrow_lanes: two vpackssdw, one vpacksswb, no
 * permute) put the bytes back in channel order within each 128-bit
 * lane.  4 vectors a pixel: 2 pixels x 2 rows (dw_slide; an odd last
 * output row alone). */
static void dw_unpk(Cg *cg, DwR *k, LLVMValueRef *col, int px, int nr, LLVMValueRef c0, LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    int L = k->lanes, nrow = (int)f->kh + nr - 1, ng = nr == 2 ? 1 : ((int)f->kh + 3) / 4;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)(4 * L)), t16 = LLVMVectorType(cg->t_i16, (unsigned)(2 * L));
    LLVMTypeRef t32 = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef cv[4], acc[4][DW_NR_MAX][PX_MAX];
    int64_t ncol = 0; /* the input columns the block reads */
    for (int q = 0; q < 4; q++) {
        LLVMValueRef a[PX_MAX];
        cv[q] = cg_add(cg, c0, cg_idx(cg, q * L));
        ncol = dw_acc_init(cg, k, cv[q], px, a);
        for (int r = 0; r < nr; r++)
            for (int p = 0; p < px; p++)
                acc[q][r][p] = a[p];
    }
    for (int64_t u = 0; u < ncol; u++) {
        if (!col_used(f, u, px))
            continue;
        for (int g = 0; g < ng; g++) {
            int gr = nrow - 4 * g < 4 ? nrow - 4 * g : 4;
            LLVMValueRef x[4], z[4];
            for (int j = 0; j < 4; j++) {
                if (j >= gr) {
                    x[j] = x[gr - 1];
                    continue;
                }
                x[j] = xload(cg, t8, col[(4 * g + j) * f->dh * NCOL_MAX + u], c0);
                if (f->xv->type.dtype != DT_U8)
                    x[j] = LLVMBuildXor(B, x[j], cg_splat(cg, LLVMConstInt(cg->t_i8, 0x80, false), (unsigned)(4 * L)), "");
            }
            for (int h = 0; h < 2; h++) {
                LLVMValueRef a01 = LLVMBuildBitCast(B, cg_unpack(cg, x[0], x[1], 16, h), t16, "");
                LLVMValueRef a23 = LLVMBuildBitCast(B, cg_unpack(cg, x[2], x[3], 16, h), t16, "");
                for (int h2 = 0; h2 < 2; h2++)
                    z[2 * h + h2] = LLVMBuildBitCast(B, cg_unpack(cg, a01, a23, 8, h2), t32, "");
            }
            for (int q = 0; q < 4; q++)
                dw_col_mac4(cg, k, acc[q], z[q], u, g, nr, px, cv[q]);
        }
    }
    bool u8 = f->yt->dtype == DT_U8;
    KNarrow nw;
    bool raw = kern_requant_narrow(&k->rq, u8, &nw);
    LLVMValueRef (*stage)(Cg *, const KRequant *, LLVMValueRef, LLVMValueRef) = raw ? kern_requant_raw : kern_requant;
    for (int r = 0; r < nr; r++)
        for (int p = 0; p < px; p++) {
            LLVMValueRef v[4];
            for (int q = 0; q < 4; q++)
                v[q] = stage(cg, &k->rq, acc[q][r][p], cv[q]);
            LLVMValueRef bytes = k->d->narrow_lanes(cg, v, 4, u8, raw ? &nw : NULL);
            LLVMValueRef yi = cg_add(cg, cg_add(cg, ypix, cg_idx(cg, r * f->ow * f->o + p * f->o)), c0);
            LLVMValueRef st = LLVMBuildStore(B, bytes, cg_gep8(cg, k->y, yi));
            LLVMSetAlignment(st, 1);
        }
}

/* PX output pixels from column OX0 of NR output rows from OY (image BI).
 * INSIDE: every input row and column the block reads is in the image, so
 * each column pointer is one pointer plus a constant (the loads' own
 * displacement: no pointer registers, no selects); else each column is
 * checked and points to the zero row in the padding. */
static void dw_block(Cg *cg, DwR *k, LLVMValueRef bi, LLVMValueRef oy, LLVMValueRef ox0, int px, int nr, bool inside)
{
    const KFrame *f = &k->f;
    int64_t C = f->c;
    /* Input rows relative to row OY*SH - PT: t = ky*DH + r*SH. */
    int64_t nt = (f->kh - 1) * f->dh + (nr - 1) * f->sh + 1;
    LLVMValueRef *col = xcalloc((size_t)(nt * NCOL_MAX), sizeof *col);
    int64_t ncol = (px - 1) * f->sw + (f->kw - 1) * f->dw + 1;
    LLVMValueRef ix0 = LLVMBuildSub(B, cg_mulk(cg, ox0, f->sw), cg_idx(cg, f->pl), "");
    LLVMValueRef base = NULL;
    if (inside) {
        LLVMValueRef iy0 = LLVMBuildSub(B, cg_mulk(cg, oy, f->sh), cg_idx(cg, f->pt), "");
        base = cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy0), f->w), ix0), C));
    }
    for (int64_t t = 0; t < nt; t++) {
        bool trow = false;
        for (int64_t ky = 0; ky < f->kh; ky++)
            for (int r = 0; r < nr; r++)
                trow |= ky * f->dh + r * f->sh == t;
        if (!trow)
            continue;
        if (inside) {
            for (int64_t u = 0; u < ncol; u++)
                if (col_used(f, u, px))
                    col[t * NCOL_MAX + u] = cg_gep8(cg, base, cg_idx(cg, (t * f->w + u) * C));
            continue;
        }
        LLVMValueRef iy = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, oy, f->sh), cg_idx(cg, t)),
                                       cg_idx(cg, f->pt), "");
        LLVMValueRef rowok = LLVMBuildICmp(B, LLVMIntULT, iy, cg_idx(cg, f->h), "");
        LLVMValueRef row = cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w);
        for (int64_t u = 0; u < ncol; u++) {
            if (!col_used(f, u, px))
                continue;
            LLVMValueRef ix = cg_add(cg, ix0, cg_idx(cg, u));
            LLVMValueRef ok = LLVMBuildAnd(B, rowok, LLVMBuildICmp(B, LLVMIntULT, ix, cg_idx(cg, f->w), ""), "");
            /* The offset is computed from the clamped index so the GEP stays in bounds. */
            LLVMValueRef off = LLVMBuildSelect(B, ok, cg_mulk(cg, cg_add(cg, row, ix), C), cg_idx(cg, 0), "");
            col[t * NCOL_MAX + u] = LLVMBuildSelect(B, ok, cg_gep8(cg, k->x, off), k->zrow, "");
        }
    }
    LLVMValueRef ypix = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh), oy), f->ow), ox0), f->o);
    CgLoop lc;
    if (k->unpk) { /* 4*LANES channels a step, then a tail of LANES by dw_wide */
        LLVMValueRef c0 = cg_mulk(cg, cg_for_begin(cg, &lc, C / (4 * k->lanes), "du"), 4 * k->lanes);
        dw_unpk(cg, k, col, px, nr, c0, ypix);
        cg_for_end(cg, &lc);
        if (C % (4 * k->lanes))
            dw_wide(cg, k, col, px, nr, cg_idx(cg, C - k->lanes), ypix, 1);
        free(col);
        return;
    }
    int L = k->wide ? 2 * k->lanes : k->lanes;
    int64_t nv = C / L;
    LLVMValueRef c0 = cg_mulk(cg, cg_for_begin(cg, &lc, nv, "dc"), L);
    void (*chan)(Cg *, DwR *, LLVMValueRef *, int, int, LLVMValueRef, LLVMValueRef) =
        k->wide ? dw_channels4w : k->quads ? dw_channels4 : k->d->mac2 ? dw_channels2 : dw_channels;
    chan(cg, k, col, px, nr, c0, ypix);
    cg_for_end(cg, &lc);
    /* The tail: the last L channels again (a few rewritten with the same
     * values), or with 32 a step and at most 16 left, the last 16 by
     * dw_wide on one vector. */
    if (k->wide && C % L && C % L <= k->lanes)
        dw_wide(cg, k, col, px, nr, cg_idx(cg, C - k->lanes), ypix, 1);
    else if (C % L)
        chan(cg, k, col, px, nr, cg_idx(cg, C - L), ypix);
    free(col);
}

/* The blocks B in [B0, B1) of PX pixels of NR output rows from OY. */
static void dw_blocks(Cg *cg, DwR *k, LLVMValueRef bi, LLVMValueRef oy, int64_t b0, int64_t b1, int px, int nr,
                      bool inside)
{
    if (b1 <= b0)
        return;
    CgLoop lx;
    LLVMValueRef b = cg_add(cg, cg_for_begin(cg, &lx, b1 - b0, inside ? "oxi" : "oxb"), cg_idx(cg, b0));
    dw_block(cg, k, bi, oy, cg_mulk(cg, b, px), px, nr, inside);
    cg_for_end(cg, &lx);
}

/* NR output rows from OY (image BI): blocks of PX pixels, then one block
 * of the OW mod PX left (M-LSD tiny's 20-pixel stride-2 rows: 8 + 8 + 4;
 * one pixel at a time, each built all KW of its columns).  ROWS_IN: the
 * rows' taps are all inside the image, so the blocks whose columns are
 * too (all but a few at the edges) take dw_block's inside form. */
static void dw_rowpass(Cg *cg, DwR *k, LLVMValueRef bi, LLVMValueRef oy, int px, int nr, bool rows_in)
{
    const KFrame *f = &k->f;
    int64_t nb = f->ow / px, rem = f->ow % px, ncol = (px - 1) * f->sw + (f->kw - 1) * f->dw + 1;
    /* Block b reads input columns b*PX*SW - PL .. + NCOL - 1. */
    int64_t b0 = 0, b1 = 0;
    if (rows_in) {
        b0 = (f->pl + px * f->sw - 1) / (px * f->sw);
        b1 = f->w - ncol + f->pl < 0 ? 0 : (f->w - ncol + f->pl) / (px * f->sw) + 1;
        b1 = b1 > nb ? nb : b1;
        if (b1 <= b0)
            b0 = b1 = 0;
    }
    dw_blocks(cg, k, bi, oy, 0, b1 > b0 ? b0 : nb, px, nr, false);
    dw_blocks(cg, k, bi, oy, b0, b1, px, nr, true);
    if (b1 > b0)
        dw_blocks(cg, k, bi, oy, b1, nb, px, nr, false);
    if (rem > 0) /* the last REM pixels: one block (their shared columns built once) */
        dw_block(cg, k, bi, oy, cg_idx(cg, nb * px), (int)rem, nr, false);
}

bool kern_dw_rows(Cg *cg, const Node *n, const KDw *d)
{
    DwR k = {0};
    KFrame *f = &k.f;
    if (!d || d->lanes < 4 || n->op != OP_CONV2D || !kf_init(cg, n, f))
        return false;
    int64_t group = node_int(n, ATTR_GROUP, 1);
    if (group != f->c || f->wv->type.dims[3] != 1 || f->o != f->c || !f->yt->quant ||
        (f->yt->dtype != DT_I8 && f->yt->dtype != DT_U8))
        return false;
    if (f->kw > 64 || (PX_MAX - 1) * f->sw + (f->kw - 1) * f->dw + 1 > NCOL_MAX)
        return false;
    int L = d->lanes > 64 ? 64 : d->lanes;
    while (L > f->c && L > 4)
        L /= 2;
    if (L > f->c)
        return false;
    k.lanes = L;
    k.d = d;
    if (!kf_stage(cg, n, f))
        return true; /* reported */
    int64_t C = f->c, T = f->kh * f->kw;
    /* Four rows a lane when the weights less their zero point are bytes. */
    k.quads = d->mac4 && L == d->lanes;
    for (int64_t c = 0; c < C && k.quads; c++)
        for (int64_t t = 0; t < T && k.quads; t++)
            k.quads = kf_weight(f, c, t) >= -128 && kf_weight(f, c, t) <= 127;
    /* 8 pixels when 16 i32 lanes are one register (zmm: 32 of them), else 4
     * (AVX2's 16 ymm, NEON's <16 x i32> in 4 q registers). */
    int px = L == 16 && kern_has(cg, "avx512f") ? PX_MAX : 4;
    /* 32 channels a step (dw_wide) for kernels of up to 8 rows: then
     * 2 x 4 pixels x 2 vectors, or 8 x 2, of zmm accumulators. */
    k.wide = k.quads && px == PX_MAX && d->narrow && f->kh <= 8 && (C >= 2 * L || C == L) &&
             !cg->opts->no_dw_wide; /* -fno-wide-depthwise: A/B runs, docs/benchmarks.md */
    /* Two output rows a pass where their columns slide (dw_channels4) and
     * 2 x 8 zmm accumulators fit the 32 registers. */
    int nr = k.quads && px == PX_MAX && dw_slide(f) && f->oh >= 2 ? 2 : 1;
    if (k.wide && nr == 2)
        px = 4;
    /* 64 channels a step by unpacks (dw_unpk) where two rows a pass slide
     * (3x3, stride 1) and the channels are whole steps, or whole steps
     * and 16 (the last 16 by dw_wide in the same block: 0.93-0.94x of
     * dw_wide's time on M-LSD tiny's 144 channels in L2, 0.94-1.08x at
     * its 80x80; a tail of 32, on MobileNetV3's 96, no faster:
     * docs/benchmarks.md, issue 13 session 17): 2 pixels x 2 rows x 4
     * vectors of accumulators.  Elsewhere it
     * measured slower than dw_wide (5x5, 3 or 4 pixels; 32 channels as
     * two pixels a vector). */
    k.unpk = k.wide && nr == 2 && d->narrow_lanes && C >= 4 * L && (C % (4 * L) == 0 || C % (4 * L) == L);
    if (k.unpk)
        px = 2;
    /* The weights' sets: KH/4 rounded up groups of 4 rows (dw_wide's
     * second output row shifts the first's: dw_col_mac4). */
    int64_t cs = C / (4 * L) * 4 * L; /* dw_unpk's channels (the rest: a tail of 16) */
    int64_t NG = (f->kh + 3) / 4, zx4 = f->xv->type.dtype == DT_U8 ? f->zx : f->zx + 128;
    int64_t NW = k.quads ? NG * f->kw * C * 4 : d->mac2 ? pair_count(f->kh, f->kw) * 2 * C : T * C;
    int16_t *w = xcalloc((size_t)NW, sizeof *w);
    int8_t *w4 = k.quads ? xcalloc((size_t)NW, 1) : NULL;
    int32_t *bias = xmalloc((size_t)C * sizeof *bias);
    uint8_t *zrow = xmalloc((size_t)C);
    /* |x - zx| at most, for the output stage's bound on |acc| */
    int64_t lo = f->xv->type.dtype == DT_U8 ? 0 : -128, dev = llabs(lo - f->zx);
    dev = llabs(lo + 255 - f->zx) > dev ? llabs(lo + 255 - f->zx) : dev;
    int64_t acc_max = 0, *chan_lo = xmalloc((size_t)C * sizeof *chan_lo), *chan_hi = xmalloc((size_t)C * sizeof *chan_hi);
    for (int64_t c = 0; c < C; c++) {
        int64_t sum = 0, sa = 0, pc = k.unpk ? unpk_pos(c, cs) : c; /* the tables' position of channel c */
        for (int64_t t = 0; t < T; t++) {
            int16_t wt = kf_weight(f, c, t);
            int half = 0;
            int64_t pi = d->mac2 ? pair_of(f->kh, f->kw, t / f->kw, t % f->kw, &half) : 0;
            int64_t ky = t / f->kw, kx = t % f->kw;
            if (k.quads)
                w4[((ky / 4 * f->kw + kx) * C + pc) * 4 + ky % 4] = (int8_t)wt; /* rows past KH stay 0 */
            if (d->mac2)
                w[(pi * C + c) * 2 + half] = wt; /* the other half stays 0 for an odd last tap */
            else
                w[t * C + c] = wt;
            sum += wt;
            sa += wt < 0 ? -wt : wt;
        }
        int64_t a = llabs((int64_t)kf_bias(f, c)) + dev * sa;
        acc_max = a > acc_max ? a : acc_max;
        /* and its range: x - zx within [lo - zx, lo + 255 - zx] */
        int64_t sp = (sum + sa) / 2, sn = (sum - sa) / 2;
        chan_lo[pc] = (int64_t)kf_bias(f, c) + sp * (lo - f->zx) + sn * (lo + 255 - f->zx);
        chan_hi[pc] = (int64_t)kf_bias(f, c) + sp * (lo + 255 - f->zx) + sn * (lo - f->zx);
        bias[pc] = (int32_t)(uint32_t)((uint32_t)kf_bias(f, c) - (uint32_t)((k.quads ? zx4 : f->zx) * sum));
        zrow[c] = (uint8_t)f->zx;
    }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.w = k.quads ? cg_rodata(cg, w4, (size_t)NW, 16, "kdww") : cg_rodata(cg, w, (size_t)NW * sizeof *w, 16, "kdww");
    free(w4);
    if (k.quads) { /* the skeleton's name: dw_rows_<px>x<lanes>c4[_unpk]_<isa> */
        char tile[64];
        snprintf(tile, sizeof tile, "%dx%dc4%s", px, k.unpk ? 4 * L : k.wide && C >= 2 * L ? 2 * L : L,
                 k.unpk ? "_unpk" : "");
        snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%.15s", tile);
    }
    k.bias = cg_table_i32(cg, bias, C, "kdwbias");
    k.zrow = cg_rodata(cg, zrow, (size_t)C, 16, "kdwzero");
    free(w);
    free(bias);
    free(zrow);
    if (k.unpk && f->st && cg_stage_count(f->st, f->o) > 1) { /* the output stage's channels as the tables' */
        OutStage *st = xmalloc((size_t)C * sizeof *st);
        for (int64_t c = 0; c < C; c++)
            st[unpk_pos(c, cs)] = f->st[c];
        free(f->st);
        f->st = st;
    }
    kern_requant_init(cg, &k.rq, f->st, cg_stage_count(f->st, f->o), f->rounding);
    kern_requant_bound(cg, &k.rq, acc_max, chan_lo, chan_hi, C);
    free(chan_lo);
    free(chan_hi);
    /* The passes i (rows nr*i ..) whose rows all lie inside the image,
     * [p0, p1), take dw_rowpass's inside blocks; the others (the edges)
     * one loop of checked blocks. */
    int64_t np = f->oh / nr, span = (f->kh - 1) * f->dh + (nr - 1) * f->sh + 1;
    int64_t p0 = (f->pt + nr * f->sh - 1) / (nr * f->sh);
    int64_t p1 = f->h - span + f->pt < 0 ? 0 : (f->h - span + f->pt) / (nr * f->sh) + 1;
    p1 = p1 > np ? np : p1;
    if (p1 <= p0)
        p0 = p1 = 0;
    CgLoop lb, ly;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    if (np - (p1 - p0) > 0) { /* the edge passes: i < p0, then i >= p1 */
        LLVMValueRef i = cg_for_begin(cg, &ly, np - (p1 - p0), "oye");
        i = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntULT, i, cg_idx(cg, p0), ""), i,
                            cg_add(cg, i, cg_idx(cg, p1 - p0)), "");
        dw_rowpass(cg, &k, bi, cg_mulk(cg, i, nr), px, nr, false);
        cg_for_end(cg, &ly);
    }
    if (p1 > p0) {
        LLVMValueRef i = cg_add(cg, cg_for_begin(cg, &ly, p1 - p0, "oy"), cg_idx(cg, p0));
        dw_rowpass(cg, &k, bi, cg_mulk(cg, i, nr), px, nr, true);
        cg_for_end(cg, &ly);
    }
    if (f->oh % nr)
        dw_rowpass(cg, &k, bi, cg_idx(cg, f->oh - 1), px, 1, false);
    cg_for_end(cg, &lb);
    free(f->st);
    return true;
}
