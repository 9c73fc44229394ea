/* kernel_resize.c - 8-bit bilinear resize in two passes, and nearest
 * resize that copies repeated rows whole.
 *
 * The taps of every output row and column come from the interpreter's
 * resize_taps at compile time (input rows/columns i0, i1 and the Q10
 * weight wq of i1), as in lower_layout.c's generic loops.
 *
 * resize_linear_sep<L>: when every weight is a multiple of 2^g with
 * F' = RESIZE_FRAC_BITS - g <= 3 (2x scales: half_pixel's 1/4, 3/4 are
 * Q10 256, 768; asymmetric's 1/2 is 512), the Q10 sum
 * v = sum x wx wy equals 2^2g v' with v' = sum x wx' wy' (w' = w >> g),
 * and (v + 2^(2F-1)) >> 2F equals (v' + 2^(2F'-1)) >> 2F' (lower_layout.c
 * has the argument).  v' = wx0' t[i0] + wx1' t[i1] with
 * t = wy0' x[row i0] + wy1' x[row i1] (the same integer sum regrouped;
 * |t| <= 255 * 2^F', |v'| <= 255 * 2^2F' <= 16320, every partial sum
 * smaller: exact in i16).  So per output row: the vertical pass blends the
 * two input rows into t, W*C i16 lanes as one flat run (32 a step, the
 * last step overlapping), then the horizontal pass blends t's two pixels
 * per output pixel, L channels a step (the largest power of two up to 32
 * that C holds, the last step overlapping).  That is half the multiplies
 * of blending the four taps per output pixel, and the vertical pass runs
 * on whole vectors whatever C is.  t lives on the stack (at most 64 KiB).
 *
 * resize_linear_sep<L>_2x: a 2x upscale along W with at least 8 channels
 * repeats its columns' taps with period 2 (period2), so away from the
 * edges the horizontal pass needs no tables: output pixels 2k and 2k + 1
 * blend pixels at fixed offsets from k with constant weights, both in one
 * iteration, and where their taps are three consecutive pixels and C <= 16
 * (half_pixel's 1/4, 3/4) as one vector of 2C lanes whose halves carry
 * the two weights.  The same sums as the per-pixel loop, lane by lane.
 *
 * On i16 lanes the vertical weights carry a further 2^s, s = 8 - 2F'
 * (free: they are splats or constants), so t' = 2^s t (|t'| <= 255 *
 * 2^(8-F') <= 32640) and the horizontal sum plus 128 is 2^8 ((v' +
 * 2^(2F'-1)) >> 2F') plus a remainder in [0, 256): the result is each
 * lane's high byte (u8: the sum, below 65536, read as unsigned; i8: in
 * [-32768, 32767]), one odd-byte shuffle of two vectors (vpermt2b with
 * VBMI, uzp2 on AArch64) in place of a shift and a truncation each.
 *
 * resize_linear_sep<L>_2x_2y: 2x along H as well (period2 on the rows),
 * at most 16 channels: the middle output rows 2k and 2k + 1 take one
 * vertical pass, loading rows k + s0 .. k + s1 + 1 (three for half_pixel,
 * two for asymmetric) once for both rows of t, then a horizontal pass
 * each.
 *
 * resize_linear_sep<L>..._bp: with the target's madd_bytes step (KWords;
 * x86: AVX2, AVX-512BW) and C a multiple of the vector width (M-LSD's 64
 * channels), the vertical pass of the rows taken one at a time is
 * madd_bytes (vpmaddubsw) on the two rows' interleaved bytes
 * (byte_pairs): the 2^s-scaled weights fit a byte, so two unpacks and two
 * multiply-adds per vector where there were four extensions, four
 * multiplies and two adds; t's lanes come out permuted within each
 * vector, and the horizontal pass's high-byte shuffle undoes it.
 *
 * resize_nearest_rows: an output row whose input row is the one before's
 * (a 2x upscale repeats every row) is a copy of the output row before it,
 * one memcpy; the others copy each output pixel's C elements from its
 * input pixel.
 *
 * resize_linear_sep<L>w: other weights (F' up to 10, as 28 -> 64's
 * multiples of 1/32) take the same two passes on i32 lanes: |v'| <= 255 *
 * 2^2F' < 2^28.
 *
 * resize_linear_shuf<M>wd: resize_linear_shuf<N> below with 4 to 7
 * fraction bits on targets with KWords' madd2, the vertical blend as
 * pmaddwd / vpdpwssd on i16 product pairs.
 *
 * resize_linear_shuf<N>f: float32 rows of at most 32 elements, as
 * resize_linear_shuf<N> below in float32 operations in the interpreter's
 * order.
 *
 * Other forms (16-bit elements, longer float rows, rows whose t would pass
 * 64 KiB) stay in the generic loops (lower_layout.c).  Writes never
 * read the result, so input and output may not share a buffer (resize
 * changes the size; the planner never aliases them).
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>

#define B (cg->b)

enum { SEP_VLANES = 32, SEP_MAX_T = 65536 };

/* V in L lanes of ET (i16 or i32). */
static LLVMValueRef kw(Cg *cg, LLVMTypeRef et, int v, unsigned lanes)
{
    return cg_splat(cg, LLVMConstInt(et, (unsigned long long)v, 0), lanes);
}

/* A row buffer on the stack (t, h), aligned to 64 bytes: the passes
 * load and store it in whole vectors, and at the stack's 16-byte
 * alignment most 64-byte ones would cross a cache line (M-LSD's 40x40x64
 * resize measured 1.6x faster aligned, docs/benchmarks.md, session 17). */
static LLVMValueRef row_alloca(Cg *cg, LLVMTypeRef t, const char *name)
{
    LLVMValueRef a = cg_alloca(cg, t, name);
    LLVMSetAlignment(a, 64);
    return a;
}

static LLVMValueRef tab_at(Cg *cg, LLVMValueRef tab, LLVMValueRef i)
{
    return LLVMBuildSExt(B, cg_load_int(cg, DT_I32, tab, i), cg->t_idx, "");
}

/* A weight table entry >> G as an ET splat of L lanes. */
static LLVMValueRef wsplat(Cg *cg, LLVMTypeRef et, LLVMValueRef tab, LLVMValueRef i, int g, unsigned lanes)
{
    LLVMValueRef w = LLVMBuildAShr(B, cg_load_int(cg, DT_I32, tab, i), cg_i32(cg, g), "");
    return cg_splat(cg, et == cg->t_i32 ? w : LLVMBuildTrunc(B, w, et, ""), lanes);
}

static LLVMValueRef ptr_at(Cg *cg, LLVMTypeRef et, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(B, et, base, &i, 1, "");
}

static LLVMValueRef vload(Cg *cg, LLVMTypeRef vt, LLVMValueRef p)
{
    LLVMValueRef v = LLVMBuildLoad2(B, vt, p, "");
    LLVMSetAlignment(v, 1);
    return v;
}

static void vstore(Cg *cg, LLVMValueRef v, LLVMValueRef p)
{
    LLVMSetAlignment(LLVMBuildStore(B, v, p), 1);
}

/* The horizontal pass's operands: t (i16, one blended row), the output and
 * its row's first element, C channels, L lanes a step, F' fraction bits,
 * the lanes' type ET (i16, or i32 for more than 3 fraction bits). */
typedef struct Hx {
    LLVMTypeRef et;
    LLVMValueRef t, y, yrow;
    int64_t C;
    unsigned L;
    int fp;
    bool hi; /* the result in the high byte of i16 lanes (blend_wide) */
    unsigned pv; /* t in byte_pairs's order in runs of PV elements, or 0 */
    int64_t ow; /* output pixels a row */
} Hx;

/* Where element I of a run of PV (byte_pairs) lies in t: the runs' lanes
 * low halves of each 128-bit lane first, then the high halves. */
static unsigned pair_slot(unsigned i, unsigned pv)
{
    unsigned r = i % pv, h = r % 16 >= 8;
    return i - r + h * pv / 2 + r / 16 * 8 + r % 8;
}

/* The high bytes of the i16 lanes of A and then E (E may be NULL), as
 * one byte vector, in element order (PV: pair_slot's runs, or 0): one
 * odd-byte shuffle of both (little-endian; vpermt2b with AVX-512 VBMI,
 * uzp2 on AArch64). */
static LLVMValueRef high_bytes(Cg *cg, LLVMValueRef a, LLVMValueRef e, unsigned pv)
{
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(a)), m = e ? 2 * n : n;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 2 * n);
    LLVMValueRef idx[128];
    for (unsigned i = 0; i < m; i++)
        idx[i] = cg_i32(cg, (int32_t)(2 * (pv ? pair_slot(i, pv) : i) + 1));
    return LLVMBuildShuffleVector(B, LLVMBuildBitCast(B, a, bt, ""), e ? LLVMBuildBitCast(B, e, bt, "") : LLVMGetUndef(bt),
                                  LLVMConstVector(idx, m), "");
}

/* w0' a + w1' e rounded and narrowed, on ET lanes, not yet narrowed: with
 * H->hi the operands carry a factor 2^(8 - 2F') (resize_sep scales the
 * vertical weights) and the sum + 128 has the result in its high byte
 * (below); else (v + 2^(2F'-1)) >> 2F'. */
static LLVMValueRef blend_wide(Cg *cg, const Hx *h, LLVMValueRef a, LLVMValueRef e, LLVMValueRef w0, LLVMValueRef w1)
{
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(a));
    LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, a, w0, ""), LLVMBuildMul(B, e, w1, ""), "");
    if (h->hi)
        return LLVMBuildAdd(B, v, kw(cg, h->et, 128, n), "");
    return LLVMBuildAShr(B, LLVMBuildAdd(B, v, kw(cg, h->et, 1 << (2 * h->fp - 1), n), ""), kw(cg, h->et, 2 * h->fp, n), "");
}

/* blend_wide's lanes A and then E (may be NULL) as bytes. */
static LLVMValueRef narrow(Cg *cg, const Hx *h, LLVMValueRef a, LLVMValueRef e)
{
    if (h->hi)
        return high_bytes(cg, a, e, h->pv);
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(a));
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, n);
    a = LLVMBuildTrunc(B, a, bt, "");
    if (!e)
        return a;
    LLVMValueRef part[2] = {a, LLVMBuildTrunc(B, e, bt, "")};
    return cg_concat(cg, part, 2, (int)n);
}

/* blend_wide as the byte vector. */
static LLVMValueRef blend(Cg *cg, const Hx *h, LLVMValueRef a, LLVMValueRef e, LLVMValueRef w0, LLVMValueRef w1)
{
    return narrow(cg, h, blend_wide(cg, h, a, e, w0, w1), NULL);
}

/* Output pixels [O0, O1) of the row, each from its taps' tables: L
 * channels a step, the last step overlapping. */
static void hpass_taps(Cg *cg, const Hx *h, LLVMValueRef tix, LLVMValueRef twx, int g, int64_t o0, int64_t o1)
{
    if (o1 <= o0)
        return;
    LLVMTypeRef h16 = LLVMVectorType(h->et, h->L);
    CgLoop lxx, lc;
    LLVMValueRef ox = LLVMBuildAdd(B, cg_for_begin(cg, &lxx, o1 - o0, "ox"), cg_idx(cg, o0), "");
    LLVMValueRef ox2 = cg_mulk(cg, ox, 2);
    LLVMValueRef c0 = tab_at(cg, tix, ox2), c1 = tab_at(cg, tix, LLVMBuildAdd(B, ox2, cg_idx(cg, 1), ""));
    LLVMValueRef wx1 = wsplat(cg, h->et, twx, ox, g, h->L), wx0 = LLVMBuildSub(B, kw(cg, h->et, 1 << h->fp, h->L), wx1, "");
    LLVMValueRef ypix = LLVMBuildAdd(B, h->yrow, cg_mulk(cg, ox, h->C), "");
    LLVMValueRef c = cg_mulk(cg, cg_for_begin(cg, &lc, (h->C + h->L - 1) / h->L, "cv"), h->L);
    c = cg_smin(cg, c, cg_idx(cg, h->C - h->L));
    LLVMValueRef a = vload(cg, h16, ptr_at(cg, h->et, h->t, LLVMBuildAdd(B, c0, c, "")));
    LLVMValueRef e = vload(cg, h16, ptr_at(cg, h->et, h->t, LLVMBuildAdd(B, c1, c, "")));
    vstore(cg, blend(cg, h, a, e, wx0, wx1), cg_gep8(cg, h->y, LLVMBuildAdd(B, ypix, c, "")));
    cg_for_end(cg, &lc);
    cg_for_end(cg, &lxx);
}

/* A 2x upscale's columns repeat with period 2: for k in [k0, k1), output
 * 2k blends input pixels k + s0 and k + s0 + 1 with weight we (Q10) on the
 * second, output 2k + 1 pixels k + s1 and k + s1 + 1 with wo (half_pixel:
 * s0 = -1, s1 = 0, weights 3/4 and 1/4; asymmetric: s0 = s1 = 0, 0 and
 * 1/2).  The run is the longest around the middle where the taps say so;
 * the edges keep the tables. */
typedef struct Period2 {
    int64_t k0, k1;
    int s0, s1;
    int32_t we, wo;
} Period2;

static bool period2(const ResizeTap *tx, int64_t W, int64_t OW, Period2 *p)
{
    if (OW != 2 * W || W < 4)
        return false;
    int64_t km = W / 2;
    p->s0 = (int)(tx[2 * km].i0 - km), p->s1 = (int)(tx[2 * km + 1].i0 - km);
    p->we = tx[2 * km].wq, p->wo = tx[2 * km + 1].wq;
#define P2_AT(k)                                                                                                       \
    (tx[2 * (k)].i0 == (k) + p->s0 && tx[2 * (k)].i1 == (k) + p->s0 + 1 && tx[2 * (k)].wq == p->we &&                   \
     tx[2 * (k) + 1].i0 == (k) + p->s1 && tx[2 * (k) + 1].i1 == (k) + p->s1 + 1 && tx[2 * (k) + 1].wq == p->wo)
    if (!P2_AT(km))
        return false;
    p->k0 = km, p->k1 = km + 1;
    while (p->k0 > 0 && P2_AT(p->k0 - 1))
        p->k0--;
    while (p->k1 < W && P2_AT(p->k1))
        p->k1++;
#undef P2_AT
    return p->k1 - p->k0 >= 2;
}

/* A constant <n x ET> whose first C lanes are A and the rest E. */
static LLVMValueRef halves(LLVMTypeRef et, int64_t C, unsigned n, int a, int e)
{
    LLVMValueRef v[64];
    for (unsigned i = 0; i < n; i++)
        v[i] = LLVMConstInt(et, (unsigned long long)(i < C ? a : e), 0);
    return LLVMConstVector(v, n);
}

/* Output pixels 2k and 2k + 1 for k in [k0, k1), the weights constants and
 * the tap offsets k-affine.  Where the pair's four taps are three
 * consecutive pixels (s1 = s0 + 1) and a pixel is at most 16 channels,
 * both outputs are one vector of 2C lanes: pixels (k+s0, k+s0+1) blended
 * with (k+s0+1, k+s0+2), the weights per half; else L channels a step of
 * each output, as hpass_taps. */
static void hpass_period2(Cg *cg, const Hx *h, const Period2 *p, int g)
{
    int one = 1 << h->fp, we = p->we >> g, wo = p->wo >> g;
    int64_t C = h->C;
    CgLoop lk, lc;
    if (p->s1 == p->s0 + 1 && (int64_t)h->L == C && C <= 16) {
        /* Two pairs a step (k and k + 1, the last step overlapping: k1 -
         * k0 >= 2), narrowed together. */
        LLVMValueRef k = cg_mulk(cg, cg_for_begin(cg, &lk, (p->k1 - p->k0 + 1) / 2, "k"), 2);
        k = cg_smin(cg, LLVMBuildAdd(B, k, cg_idx(cg, p->k0), ""), cg_idx(cg, p->k1 - 2));
        unsigned n = (unsigned)(2 * C);
        LLVMTypeRef v16 = LLVMVectorType(h->et, n);
        LLVMValueRef w0 = halves(h->et, C, n, one - we, one - wo), w1 = halves(h->et, C, n, we, wo), v[2];
        for (int i = 0; i < 2; i++) {
            LLVMValueRef pa = LLVMBuildAdd(B, cg_mulk(cg, k, C), cg_idx(cg, (p->s0 + i) * C), "");
            LLVMValueRef a = vload(cg, v16, ptr_at(cg, h->et, h->t, pa));
            LLVMValueRef e = vload(cg, v16, ptr_at(cg, h->et, h->t, LLVMBuildAdd(B, pa, cg_idx(cg, C), "")));
            v[i] = blend_wide(cg, h, a, e, w0, w1);
        }
        vstore(cg, narrow(cg, h, v[0], v[1]), cg_gep8(cg, h->y, LLVMBuildAdd(B, h->yrow, cg_mulk(cg, k, 2 * C), "")));
        cg_for_end(cg, &lk);
        return;
    }
    LLVMValueRef k = LLVMBuildAdd(B, cg_for_begin(cg, &lk, p->k1 - p->k0, "k"), cg_idx(cg, p->k0), "");
    LLVMValueRef y2k = LLVMBuildAdd(B, h->yrow, cg_mulk(cg, k, 2 * C), "");
    LLVMValueRef kc = cg_mulk(cg, k, C);
    LLVMTypeRef h16 = LLVMVectorType(h->et, h->L);
    LLVMValueRef c = cg_mulk(cg, cg_for_begin(cg, &lc, (C + h->L - 1) / h->L, "cv"), h->L);
    c = cg_smin(cg, c, cg_idx(cg, C - h->L));
    LLVMValueRef base = LLVMBuildAdd(B, kc, c, "");
    LLVMValueRef tap[4];
    for (int i = 0; i < 4; i++) {
        int64_t d = ((i < 2 ? p->s0 : p->s1) + (i & 1)) * C;
        tap[i] = vload(cg, h16, ptr_at(cg, h->et, h->t, LLVMBuildAdd(B, base, cg_idx(cg, d), "")));
    }
    LLVMValueRef ye = LLVMBuildAdd(B, y2k, c, "");
    vstore(cg, blend(cg, h, tap[0], tap[1], kw(cg, h->et, one - we, h->L), kw(cg, h->et, we, h->L)), cg_gep8(cg, h->y, ye));
    vstore(cg, blend(cg, h, tap[2], tap[3], kw(cg, h->et, one - wo, h->L), kw(cg, h->et, wo, h->L)),
           cg_gep8(cg, h->y, LLVMBuildAdd(B, ye, cg_idx(cg, C), "")));
    cg_for_end(cg, &lc);
    cg_for_end(cg, &lk);
}

/* resize_sep's vertical pass: the input rows at ROWS[0 .. nr-1] (element
 * offsets), each loaded once a step, and NT rows of t, T[o] = W[o][0]
 * x[ROWS[USE[o][0]]] + W[o][1] x[ROWS[USE[o][1]]], V lanes a step (the
 * last overlapping). */
typedef struct Vx {
    LLVMValueRef x;
    LLVMTypeRef et;
    int64_t wc;
    unsigned V;
    bool sx;
    bool pairs; /* byte_pairs: W[o][0] the weights' byte pairs */
    const KWords *words; /* the target's madd_bytes, with PAIRS */
} Vx;

/* T = w0 R0 + w1 R1 on V bytes as madd_bytes (pmaddubsw) on the rows' byte pairs,
 * W the pairs (w0, w1) as <V x i8>: the unsigned operand is W for i8
 * rows (weights up to 255) and the rows for u8 (weights up to 127); a
 * pair's sum is within i16 (at most 2^(8-F') 255 = 32640, resize_sep).
 * The in-lane unpacks leave t in pair_slot's order in runs of V: the
 * low halves of the 128-bit lanes, then the high halves (the horizontal
 * pass is lane by lane, and its high-byte shuffle puts the bytes back). */
static void byte_pairs(Cg *cg, const Vx *v, LLVMValueRef r0, LLVMValueRef r1, LLVMValueRef w, LLVMValueRef t)
{
    for (int hi = 0; hi < 2; hi++) {
        LLVMValueRef u = cg_unpack(cg, r0, r1, 16, hi);
        vstore(cg, v->words->madd_bytes(cg, v->sx ? w : u, v->sx ? u : w), ptr_at(cg, v->et, t, cg_idx(cg, hi * v->V / 2)));
    }
}

static void vpass(Cg *cg, const Vx *v, const LLVMValueRef *rows, int nr, const LLVMValueRef *t, int nt,
                  const int (*use)[2], LLVMValueRef (*w)[2])
{
    LLVMTypeRef v8 = LLVMVectorType(cg->t_i8, v->V), v16 = LLVMVectorType(v->et, v->V);
    CgLoop lj;
    LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (v->wc + v->V - 1) / v->V, "j"), v->V);
    j = cg_smin(cg, j, cg_idx(cg, v->wc - v->V));
    LLVMValueRef r[4];
    for (int i = 0; i < nr; i++) {
        r[i] = vload(cg, v8, cg_gep8(cg, v->x, LLVMBuildAdd(B, rows[i], j, "")));
        if (!v->pairs)
            r[i] = v->sx ? LLVMBuildSExt(B, r[i], v16, "") : LLVMBuildZExt(B, r[i], v16, "");
    }
    for (int o = 0; o < nt && v->pairs; o++)
        byte_pairs(cg, v, r[use[o][0]], r[use[o][1]], w[o][0], ptr_at(cg, v->et, t[o], j));
    for (int o = 0; o < nt && !v->pairs; o++)
        vstore(cg, LLVMBuildAdd(B, LLVMBuildMul(B, r[use[o][0]], w[o][0], ""), LLVMBuildMul(B, r[use[o][1]], w[o][1], ""), ""),
               ptr_at(cg, v->et, t[o], j));
    cg_for_end(cg, &lj);
}

/* resize_sep's horizontal pass of one output row (H->t, H->yrow set). */
static void hpass_row(Cg *cg, const Hx *h, LLVMValueRef tix, LLVMValueRef twx, int g, const Period2 *p2)
{
    if (p2) {
        hpass_taps(cg, h, tix, twx, g, 0, 2 * p2->k0);
        hpass_period2(cg, h, p2, g);
        hpass_taps(cg, h, tix, twx, g, 2 * p2->k1, h->ow);
    } else {
        hpass_taps(cg, h, tix, twx, g, 0, h->ow);
    }
}

static const char *resize_sep(Cg *cg, const KWords *words, const Node *n, const ResizeTap *ty, const ResizeTap *tx, int g)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    int fp = RESIZE_FRAC_BITS - g;
    bool sx = xt->dtype == DT_I8;
    int32_t *iy = xmalloc((size_t)(2 * OH) * sizeof *iy), *ix = xmalloc((size_t)(2 * OW) * sizeof *ix);
    int32_t *wy = xmalloc((size_t)OH * sizeof *wy), *wx = xmalloc((size_t)OW * sizeof *wx);
    for (int64_t o = 0; o < OH; o++)
        iy[2 * o] = (int32_t)(ty[o].i0 * W * C), iy[2 * o + 1] = (int32_t)(ty[o].i1 * W * C), wy[o] = ty[o].wq;
    for (int64_t o = 0; o < OW; o++)
        ix[2 * o] = (int32_t)(tx[o].i0 * C), ix[2 * o + 1] = (int32_t)(tx[o].i1 * C), wx[o] = tx[o].wq;
    LLVMValueRef tiy = cg_table_i32(cg, iy, 2 * OH, "resize.y"), tix = cg_table_i32(cg, ix, 2 * OW, "resize.x");
    LLVMValueRef twy = cg_table_i32(cg, wy, OH, "resize.wy"), twx = cg_table_i32(cg, wx, OW, "resize.wx");
    free(iy), free(ix), free(wy), free(wx);
    int64_t wc = W * C;
    unsigned V = SEP_VLANES;
    while (V > wc)
        V /= 2;
    LLVMTypeRef et = fp <= 3 ? cg->t_i16 : cg->t_i32;
    unsigned L = et == cg->t_i16 ? 64 : 32;
    while (L > C)
        L /= 2;
    /* i16 lanes: t carries 2^s more, s = 8 - 2F' (blend_wide); a weight
     * w = 2^g w' is 2^(g-s) (2^s w'), g - s = F' + 2 > 0. */
    int s = et == cg->t_i16 ? 8 - 2 * fp : 0, one = 1 << (fp + s);
    Period2 px, py;
    bool two = C >= 8 && period2(tx, W, OW, &px);
    /* 2x along H too: the middle rows in pairs 2k, 2k + 1 from the rows
     * k + s0 .. k + s1 + 1 (at most 3), each loaded once.  Only up to 16
     * channels: M-LSD's 64-channel resizes measured 15-30% slower so in
     * the model's profile (docs/benchmarks.md, session 15). */
    bool pairs = C <= 16 && period2(ty, H, OH, &py) && py.s1 - py.s0 <= 1 && py.s1 >= py.s0 && 2 * wc * (et == cg->t_i16 ? 2 : 4) <= SEP_MAX_T;
    /* Byte pairs (byte_pairs) for the rows one at a time where each
     * vector of the vertical pass is one run of channels (C a multiple of
     * its width), with the target's madd_bytes on 32 or 64 bytes (AVX2,
     * AVX-512BW; 16-byte vectors not measured). */
    unsigned wmax = words && words->madd_bytes ? words->width(cg) : 0;
    unsigned vb = wmax >= 64 && C % 64 == 0 ? 64 : wmax >= 32 && C % 32 == 0 ? 32 : 0;
    bool bp = vb && et == cg->t_i16 && !pairs && one <= (sx ? 255 : 127);
    if (bp)
        V = vb;
    LLVMValueRef t[2] = {row_alloca(cg, LLVMArrayType(et, (unsigned)wc), "resize.t"),
                         pairs ? row_alloca(cg, LLVMArrayType(et, (unsigned)wc), "resize.t2") : NULL};
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    Vx vx = {.x = x, .et = et, .wc = wc, .V = V, .sx = sx, .pairs = bp, .words = words};
    Hx h = {.et = et, .y = y, .C = C, .L = L, .fp = fp, .hi = et == cg->t_i16, .pv = bp ? V : 0, .ow = OW};
    static const int use1[1][2] = {{0, 1}};
    CgLoop lb, lyy, lk;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef base = cg_mulk(cg, b, H * wc);
    /* Rows [o0, o1) from the tables: t = wy0' x[r0 + j] + wy1' x[r1 + j]. */
    int64_t spans[2][2] = {{0, pairs ? 2 * py.k0 : OH}, {pairs ? 2 * py.k1 : OH, OH}};
    for (int sp = 0; sp < 2; sp++) {
        if (spans[sp][1] <= spans[sp][0])
            continue;
        LLVMValueRef oy = LLVMBuildAdd(B, cg_for_begin(cg, &lyy, spans[sp][1] - spans[sp][0], "oy"),
                                       cg_idx(cg, spans[sp][0]), "");
        LLVMValueRef oy2 = cg_mulk(cg, oy, 2);
        LLVMValueRef r[2] = {LLVMBuildAdd(B, base, tab_at(cg, tiy, oy2), ""),
                             LLVMBuildAdd(B, base, tab_at(cg, tiy, LLVMBuildAdd(B, oy2, cg_idx(cg, 1), "")), "")};
        LLVMValueRef w[1][2];
        if (bp) {
            LLVMValueRef w1 = LLVMBuildAShr(B, cg_load_int(cg, DT_I32, twy, oy), cg_i32(cg, g - s), "");
            w1 = LLVMBuildTrunc(B, w1, cg->t_i16, "");
            LLVMValueRef pr = LLVMBuildOr(B, LLVMBuildSub(B, LLVMConstInt(cg->t_i16, (unsigned)one, 0), w1, ""),
                                          LLVMBuildShl(B, w1, LLVMConstInt(cg->t_i16, 8, 0), ""), "");
            w[0][0] = LLVMBuildBitCast(B, cg_splat(cg, pr, V / 2), LLVMVectorType(cg->t_i8, V), "");
        } else {
            w[0][1] = wsplat(cg, et, twy, oy, g - s, V), w[0][0] = LLVMBuildSub(B, kw(cg, et, one, V), w[0][1], "");
        }
        vpass(cg, &vx, r, 2, t, 1, use1, w);
        h.t = t[0], h.yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), OW * C);
        hpass_row(cg, &h, tix, twx, g, two ? &px : NULL);
        cg_for_end(cg, &lyy);
    }
    if (pairs) {
        /* Rows 2k (rows k + s0, k + s0 + 1, weight we) and 2k + 1 (k + s1,
         * k + s1 + 1, wo), k in [k0, k1). */
        LLVMValueRef k = LLVMBuildAdd(B, cg_for_begin(cg, &lk, py.k1 - py.k0, "k"), cg_idx(cg, py.k0), "");
        int nr = py.s1 - py.s0 + 2;
        LLVMValueRef r[3];
        for (int i = 0; i < nr; i++)
            r[i] = LLVMBuildAdd(B, base, cg_mulk(cg, LLVMBuildAdd(B, k, cg_idx(cg, py.s0 + i), ""), wc), "");
        int d = py.s1 - py.s0, we = (py.we >> g) << s, wo = (py.wo >> g) << s;
        const int use2[2][2] = {{0, 1}, {d, d + 1}};
        LLVMValueRef w[2][2] = {{kw(cg, et, one - we, V), kw(cg, et, we, V)}, {kw(cg, et, one - wo, V), kw(cg, et, wo, V)}};
        vpass(cg, &vx, r, nr, t, 2, use2, w);
        for (int i = 0; i < 2; i++) {
            LLVMValueRef oy = LLVMBuildAdd(B, cg_mulk(cg, k, 2), cg_idx(cg, i), "");
            h.t = t[i], h.yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), OW * C);
            hpass_row(cg, &h, tix, twx, g, two ? &px : NULL);
        }
        cg_for_end(cg, &lk);
    }
    cg_for_end(cg, &lb);
    static char name[40];
    snprintf(name, sizeof name, "resize_linear_sep%u%s%s%s%s", L, fp > 3 ? "w" : "", two ? "_2x" : "", pairs ? "_2y" : "",
             bp ? "_bp" : "");
    return name;
}

/* resize_linear_shuf<N>: rows of at most 64 elements (W*C <= 64, few
 * channels: MobileNetV3's 28 -> 64 and U-Net's 32 -> 28 grey images),
 * where hpass_taps would be one pixel of C lanes a step.  Horizontal pass
 * first: each input row, one vector, gives both taps of N output elements
 * as two constant shuffles (pshufb / vpermb / tbl), blended with constant
 * per-lane weights into h[iy] = wx0' x[i0] + wx1' x[i1] (|h| <= 255 * 2^F':
 * i16 lanes up to F' = 7); then per output row the vertical pass blends
 * h[i0y] and h[i1y] N lanes a step, the last step overlapping.  The same
 * integer v' = sum x wx' wy' as the two passes above, regrouped. */
enum { SHUF_ROW = 64, SHUF_OUT = 1024 };

/* Output elements [J, J + N) of a row of C channels: the shuffle masks of
 * their two taps in the input row (M0, M1) and each one's taps (TP). */
static void shuf_masks(Cg *cg, const ResizeTap *tx, int64_t C, int64_t j, unsigned N, LLVMValueRef *m0,
                       LLVMValueRef *m1, const ResizeTap **tp)
{
    for (unsigned l = 0; l < N; l++) {
        const ResizeTap *t = tp[l] = &tx[(j + l) / C];
        int64_t c = (j + l) % C;
        m0[l] = cg_i32(cg, (int32_t)(t->i0 * C + c)), m1[l] = cg_i32(cg, (int32_t)(t->i1 * C + c));
    }
}

/* The shuf forms' row tables: each output row's two input rows as offsets
 * in h (UNIT elements a row) and its Q10 weight. */
static void shuf_row_tables(Cg *cg, const ResizeTap *ty, int64_t OH, int64_t unit, LLVMValueRef *tiy, LLVMValueRef *twy)
{
    int32_t *iy = xmalloc((size_t)(2 * OH) * sizeof *iy), *wy = xmalloc((size_t)OH * sizeof *wy);
    for (int64_t o = 0; o < OH; o++)
        iy[2 * o] = (int32_t)(ty[o].i0 * unit), iy[2 * o + 1] = (int32_t)(ty[o].i1 * unit), wy[o] = ty[o].wq;
    *tiy = cg_table_i32(cg, iy, 2 * OH, "resize.y"), *twy = cg_table_i32(cg, wy, OH, "resize.wy");
    free(iy), free(wy);
}

/* Input row I of image B (H rows of WC bytes), one vector. */
static LLVMValueRef shuf_row(Cg *cg, LLVMValueRef x, LLVMValueRef b, LLVMValueRef i, int64_t H, int64_t wc)
{
    return vload(cg, LLVMVectorType(cg->t_i8, (unsigned)wc),
                 cg_gep8(cg, x, LLVMBuildAdd(B, cg_mulk(cg, b, H * wc), cg_mulk(cg, i, wc), "")));
}

/* resize_linear_shuf<M>wd: the same with 4 to 7 fraction bits where the
 * target has KWords' madd2 (pmaddwd / vpdpwssd): the horizontal pass
 * keeps each output element's two products apart, hp = (wx0' x[i0],
 * wx1' x[i1]) as a pair of i16 (|wx' x| <= 255 * 2^7 < 2^15), and the
 * vertical sum wy0' (hp0 + hp1)[i0y] + wy1' (...)[i1y] is one madd2 per
 * i32 vector, its accumulator the rounding term.  The weights wy' carry
 * a further 2^(16 - 2F'), so the i32 sum (below 255 * 2^24 in
 * magnitude) has the rounded result (v' + 2^(2F'-1)) >> 2F' in its third
 * byte: one byte shuffle of the vectors where there were sign
 * extensions, two 32-bit multiplies, a shift and a truncation per
 * vector. */

/* The third byte of each i32 lane of ACC[0 .. K-1] (K = 1, 2 or 4), as
 * one byte vector in lane order. */
static LLVMValueRef third_bytes(Cg *cg, LLVMValueRef *acc, int k)
{
    unsigned q = LLVMGetVectorSize(LLVMTypeOf(acc[0]));
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 4 * q);
    LLVMValueRef idx[128], part[4];
    for (unsigned i = 0; i < 2 * q; i++)
        idx[i] = cg_i32(cg, (int32_t)(4 * i + 2));
    for (int i = 0; i < k; i += 2)
        part[i / 2] = LLVMBuildShuffleVector(B, LLVMBuildBitCast(B, acc[i], bt, ""),
                                             i + 1 < k ? LLVMBuildBitCast(B, acc[i + 1], bt, "") : LLVMGetUndef(bt),
                                             LLVMConstVector(idx, i + 1 < k ? 2 * q : q), "");
    return k > 2 ? cg_concat(cg, part, 2, (int)(2 * q)) : part[0];
}

/* Output elements [J, J + N) of input row ROW as h: wx0' x[i0] + wx1'
 * x[i1] on N lanes of HT, or with PAIRS (resize_linear_shuf<M>wd) the two
 * products apart, (wx0' x[i0], wx1' x[i1]) on 2N i16 lanes. */
static LLVMValueRef shuf_h(Cg *cg, LLVMValueRef row, const ResizeTap *tx, int64_t C, int64_t j, unsigned N, int g,
                           LLVMTypeRef ht, bool sx, bool pairs)
{
    int one = 1 << (RESIZE_FRAC_BITS - g);
    unsigned np = pairs ? 2 * N : N;
    LLVMTypeRef rowt = LLVMTypeOf(row), hv = LLVMVectorType(ht, np);
    LLVMValueRef mi[2][32], m[2][32], w[2][32], v[2];
    const ResizeTap *tp[32];
    shuf_masks(cg, tx, C, j, N, mi[0], mi[1], tp);
    for (unsigned l = 0; l < np; l++) {
        /* lane L's tap: K (0: i0, 1: i1) of element T */
        unsigned k = pairs ? l % 2 : 0, t = pairs ? l / 2 : l;
        int32_t w1 = tp[t]->wq >> g;
        m[0][l] = mi[k][t], m[1][l] = mi[1][t];
        w[0][l] = LLVMConstInt(ht, (unsigned long long)(k ? w1 : one - w1), 0);
        w[1][l] = LLVMConstInt(ht, (unsigned long long)w1, 0);
    }
    int ne = pairs ? 1 : 2;
    for (int e = 0; e < ne; e++)
        v[e] = LLVMBuildShuffleVector(B, row, LLVMGetUndef(rowt), LLVMConstVector(m[e], np), "");
    for (int e = 0; e < ne; e++)
        v[e] = sx ? LLVMBuildSExt(B, v[e], hv, "") : LLVMBuildZExt(B, v[e], hv, "");
    for (int e = ne - 1; e >= 0; e--)
        v[e] = LLVMBuildMul(B, v[e], LLVMConstVector(w[e], np), "");
    return pairs ? v[0] : LLVMBuildAdd(B, v[0], v[1], "");
}

static const char *resize_shuf(Cg *cg, const KWords *words, const Node *n, const ResizeTap *ty, const ResizeTap *tx,
                               int g)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    int64_t wc = W * C, owc = OW * C;
    int fp = RESIZE_FRAC_BITS - g, one = 1 << fp;
    bool sx = xt->dtype == DT_I8, pairs = words != NULL;
    LLVMTypeRef ht = fp <= 7 ? cg->t_i16 : cg->t_i32, vt = fp <= 3 ? cg->t_i16 : cg->t_i32;
    unsigned N = pairs ? 16 : 32;
    while (N > owc)
        N /= 2;
    int64_t hu = pairs ? 2 * owc : owc; /* h's elements a row */
    LLVMValueRef tiy, twy;
    shuf_row_tables(cg, ty, OH, hu, &tiy, &twy);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMValueRef hb = row_alloca(cg, LLVMArrayType(ht, (unsigned)(H * hu)), "resize.h");
    CgLoop lb, li, lo, lj;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    /* Horizontal: h[i] from input row i, N output elements a step. */
    LLVMValueRef i = cg_for_begin(cg, &li, H, "iy");
    LLVMValueRef row = shuf_row(cg, x, b, i, H, wc);
    for (int64_t j0 = 0; j0 < owc; j0 += N) {
        int64_t j = j0 + N > owc ? owc - N : j0;
        LLVMValueRef h = shuf_h(cg, row, tx, C, j, N, g, ht, sx, pairs);
        vstore(cg, h, ptr_at(cg, ht, hb, LLVMBuildAdd(B, cg_mulk(cg, i, hu), cg_idx(cg, pairs ? 2 * j : j), "")));
    }
    cg_for_end(cg, &li);
    LLVMValueRef oy = cg_for_begin(cg, &lo, OH, "oy"), oy2 = cg_mulk(cg, oy, 2);
    LLVMValueRef r0 = tab_at(cg, tiy, oy2), r1 = tab_at(cg, tiy, LLVMBuildAdd(B, oy2, cg_idx(cg, 1), ""));
    LLVMValueRef yrow;
    static char name[40];
    if (pairs) {
        /* Vertical: the third byte of 2^15 + madd2(hp[i0y], wy0' 2^sc,
         * hp[i1y], wy1' 2^sc), Q output elements a madd2 (V/4 i32
         * lanes), K of them a step, the last step overlapping. */
        unsigned q = words->width(cg) / 4, k = 4;
        while (k > 1 && k * q > owc)
            k /= 2;
        while (q > 4 && q > owc)
            q /= 2;
        unsigned m = k * q;
        LLVMValueRef w1 = LLVMBuildTrunc(B, LLVMBuildAShr(B, cg_load_int(cg, DT_I32, twy, oy), cg_i32(cg, g), ""), ht, "");
        LLVMValueRef w0 = LLVMBuildSub(B, LLVMConstInt(ht, (unsigned)one, 0), w1, "");
        LLVMValueRef sc = LLVMConstInt(ht, (unsigned)(16 - 2 * fp), 0);
        w0 = cg_splat(cg, LLVMBuildShl(B, w0, sc, ""), 2 * q), w1 = cg_splat(cg, LLVMBuildShl(B, w1, sc, ""), 2 * q);
        yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), owc);
        LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (owc + m - 1) / m, "j"), m);
        j = cg_smin(cg, j, cg_idx(cg, owc - m));
        LLVMTypeRef pv = LLVMVectorType(ht, 2 * q);
        LLVMValueRef acc[4], half = cg_splat(cg, cg_i32(cg, 1 << 15), q);
        for (unsigned c = 0; c < k; c++) {
            LLVMValueRef jc = cg_mulk(cg, LLVMBuildAdd(B, j, cg_idx(cg, c * q), ""), 2);
            LLVMValueRef a = vload(cg, pv, ptr_at(cg, ht, hb, LLVMBuildAdd(B, r0, jc, "")));
            LLVMValueRef e = vload(cg, pv, ptr_at(cg, ht, hb, LLVMBuildAdd(B, r1, jc, "")));
            acc[c] = words->madd2(cg, half, a, w0, e, w1);
        }
        vstore(cg, third_bytes(cg, acc, (int)k), cg_gep8(cg, y, LLVMBuildAdd(B, yrow, j, "")));
        snprintf(name, sizeof name, "resize_linear_shuf%uwd", m);
    } else {
        /* Vertical: y = (wy0' h[i0y] + wy1' h[i1y] + 2^(2F'-1)) >> 2F'. */
        LLVMValueRef wy1 = wsplat(cg, vt, twy, oy, g, N), wy0 = LLVMBuildSub(B, kw(cg, vt, one, N), wy1, "");
        yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), owc);
        LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (owc + N - 1) / N, "j"), N);
        j = cg_smin(cg, j, cg_idx(cg, owc - N));
        LLVMTypeRef hv = LLVMVectorType(ht, N), vv = LLVMVectorType(vt, N);
        LLVMValueRef a = vload(cg, hv, ptr_at(cg, ht, hb, LLVMBuildAdd(B, r0, j, "")));
        LLVMValueRef e = vload(cg, hv, ptr_at(cg, ht, hb, LLVMBuildAdd(B, r1, j, "")));
        if (vt != ht)
            a = LLVMBuildSExt(B, a, vv, ""), e = LLVMBuildSExt(B, e, vv, "");
        Hx hx = {.et = vt, .fp = fp};
        vstore(cg, blend(cg, &hx, a, e, wy0, wy1), cg_gep8(cg, y, LLVMBuildAdd(B, yrow, j, "")));
        snprintf(name, sizeof name, "resize_linear_shuf%u%s", N, fp > 3 ? "w" : "");
    }
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lo);
    cg_for_end(cg, &lb);
    return name;
}

/* resize_linear_shuf<N>f: the same horizontal-first form on float32 rows
 * of at most 32 elements (U-Net's 28 -> 32 grey image before its
 * quantize): h[iy] = x[i0] wx0 + x[i1] wx1, N output elements a step, then
 * per output row y = h[i0y] wy0 + h[i1y] wy1.  Float32 operations in the
 * interpreter's order (its top and bottom are h's rows; LLVM contracts
 * nothing without fast-math), so the same bits. */
enum { SHUF_F32_ROW = 32 };

static const char *resize_shuf_f32(Cg *cg, const Node *n, const ResizeTap *ty, const ResizeTap *tx)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    int64_t wc = W * C, owc = OW * C;
    LLVMTypeRef ft = cg->t_f32;
    unsigned N = 16;
    while (N > owc)
        N /= 2;
    int32_t *iy = xmalloc((size_t)(2 * OH) * sizeof *iy);
    float *wy = xmalloc((size_t)(2 * OH) * sizeof *wy);
    for (int64_t o = 0; o < OH; o++) {
        iy[2 * o] = (int32_t)(ty[o].i0 * owc), iy[2 * o + 1] = (int32_t)(ty[o].i1 * owc);
        wy[2 * o] = ty[o].w0, wy[2 * o + 1] = ty[o].w1;
    }
    LLVMValueRef tiy = cg_table_i32(cg, iy, 2 * OH, "resize.y");
    LLVMValueRef twy = cg_rodata(cg, wy, (size_t)(2 * OH) * sizeof *wy, 4, "resize.wy");
    free(iy), free(wy);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMValueRef hb = row_alloca(cg, LLVMArrayType(ft, (unsigned)(H * owc)), "resize.h");
    LLVMTypeRef rowt = LLVMVectorType(ft, (unsigned)wc), hv = LLVMVectorType(ft, N);
    CgLoop lb, li, lo, lj;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef i = cg_for_begin(cg, &li, H, "iy");
    LLVMValueRef row = vload(cg, rowt, ptr_at(cg, ft, x, LLVMBuildAdd(B, cg_mulk(cg, b, H * wc), cg_mulk(cg, i, wc), "")));
    for (int64_t j0 = 0; j0 < owc; j0 += N) {
        int64_t j = j0 + N > owc ? owc - N : j0;
        LLVMValueRef m0[16], m1[16], w0[16], w1[16];
        const ResizeTap *tp[16];
        shuf_masks(cg, tx, C, j, N, m0, m1, tp);
        for (unsigned l = 0; l < N; l++)
            w0[l] = LLVMConstReal(ft, tp[l]->w0), w1[l] = LLVMConstReal(ft, tp[l]->w1);
        LLVMValueRef a = LLVMBuildShuffleVector(B, row, LLVMGetUndef(rowt), LLVMConstVector(m0, N), "");
        LLVMValueRef e = LLVMBuildShuffleVector(B, row, LLVMGetUndef(rowt), LLVMConstVector(m1, N), "");
        LLVMValueRef h = LLVMBuildFAdd(B, LLVMBuildFMul(B, a, LLVMConstVector(w0, N), ""),
                                       LLVMBuildFMul(B, e, LLVMConstVector(w1, N), ""), "");
        vstore(cg, h, ptr_at(cg, ft, hb, LLVMBuildAdd(B, cg_mulk(cg, i, owc), cg_idx(cg, j), "")));
    }
    cg_for_end(cg, &li);
    LLVMValueRef oy = cg_for_begin(cg, &lo, OH, "oy"), oy2 = cg_mulk(cg, oy, 2), oy21 = LLVMBuildAdd(B, oy2, cg_idx(cg, 1), "");
    LLVMValueRef r0 = tab_at(cg, tiy, oy2), r1 = tab_at(cg, tiy, oy21);
    LLVMValueRef wy0 = cg_splat(cg, cg_load_f32(cg, twy, oy2), N), wy1 = cg_splat(cg, cg_load_f32(cg, twy, oy21), N);
    LLVMValueRef yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), owc);
    LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (owc + N - 1) / N, "j"), N);
    j = cg_smin(cg, j, cg_idx(cg, owc - N));
    LLVMValueRef a = vload(cg, hv, ptr_at(cg, ft, hb, LLVMBuildAdd(B, r0, j, "")));
    LLVMValueRef e = vload(cg, hv, ptr_at(cg, ft, hb, LLVMBuildAdd(B, r1, j, "")));
    vstore(cg, LLVMBuildFAdd(B, LLVMBuildFMul(B, a, wy0, ""), LLVMBuildFMul(B, e, wy1, ""), ""),
           ptr_at(cg, ft, y, LLVMBuildAdd(B, yrow, j, "")));
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lo);
    cg_for_end(cg, &lb);
    static char name[40];
    snprintf(name, sizeof name, "resize_linear_shuf%uf", N);
    return name;
}

static const char *resize_nearest(Cg *cg, const Node *n, const ResizeTap *ty, const ResizeTap *tx)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], OH = yt->dims[1], OW = yt->dims[2];
    int64_t pb = xt->dims[3] * dtype_traits[xt->dtype].size; /* bytes a pixel */
    int32_t *iy = xmalloc((size_t)OH * sizeof *iy), *ix = xmalloc((size_t)OW * sizeof *ix);
    for (int64_t o = 0; o < OH; o++) /* the row's input offset, or -1: the row before's again */
        iy[o] = o > 0 && ty[o].i0 == ty[o - 1].i0 ? -1 : (int32_t)(ty[o].i0 * W * pb);
    for (int64_t o = 0; o < OW; o++)
        ix[o] = (int32_t)(tx[o].i0 * pb);
    LLVMValueRef tiy = cg_table_i32(cg, iy, OH, "resize.y"), tix = cg_table_i32(cg, ix, OW, "resize.x");
    free(iy), free(ix);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    int64_t orow = OW * pb;
    CgLoop lb, lyy, lxx;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef oy = cg_for_begin(cg, &lyy, OH, "oy");
    LLVMValueRef yrow = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), orow);
    LLVMValueRef r = tab_at(cg, tiy, oy);
    LLVMBasicBlockRef dup = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "dup"),
                      row = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "row"),
                      next = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "next");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntSLT, r, cg_idx(cg, 0), ""), dup, row);
    LLVMPositionBuilderAtEnd(B, dup);
    LLVMBuildMemCpy(B, cg_gep8(cg, y, yrow), 1, cg_gep8(cg, y, LLVMBuildSub(B, yrow, cg_idx(cg, orow), "")), 1,
                    cg_idx(cg, orow));
    LLVMBuildBr(B, next);
    LLVMPositionBuilderAtEnd(B, row);
    LLVMValueRef src = LLVMBuildAdd(B, cg_mulk(cg, b, H * W * pb), r, "");
    LLVMValueRef ox = cg_for_begin(cg, &lxx, OW, "ox");
    LLVMBuildMemCpy(B, cg_gep8(cg, y, LLVMBuildAdd(B, yrow, cg_mulk(cg, ox, pb), "")), 1,
                    cg_gep8(cg, x, LLVMBuildAdd(B, src, tab_at(cg, tix, ox), "")), 1, cg_idx(cg, pb));
    cg_for_end(cg, &lxx);
    LLVMBuildBr(B, next);
    LLVMPositionBuilderAtEnd(B, next);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    return "resize_nearest_rows";
}

const char *kern_resize_words(Cg *cg, const Node *n, const KWords *words)
{
    if (n->op != OP_RESIZE || cg->target->vector_bytes < 16)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    DType dt = xt->dtype;
    if (H * W * C * dtype_traits[dt].size > INT32_MAX || cg_buf(cg, n->operands[0]) == cg_buf(cg, n->result))
        return NULL;
    bool linear = node_int(n, ATTR_INTERP, RESIZE_NEAREST) == RESIZE_LINEAR;
    bool f32 = linear && dt == DT_F32 && W * C <= SHUF_F32_ROW && OW * C >= 8 && OW * C <= SHUF_OUT &&
               H * OW * C * 4 <= SEP_MAX_T;
    if (linear && !f32 && (dtype_traits[dt].size != 1 || dt == DT_F32 || W * C < 16 || W * C * 2 > SEP_MAX_T))
        return NULL;
    ResizeTap *ty = xmalloc((size_t)OH * sizeof *ty), *tx = xmalloc((size_t)OW * sizeof *tx);
    resize_taps(n, 1, ty);
    resize_taps(n, 2, tx);
    const char *name = NULL;
    if (f32) {
        name = resize_shuf_f32(cg, n, ty, tx);
    } else if (linear) {
        /* The weights' common power of two, at most 9 (lower_layout.c). */
        int g = 9;
        for (int64_t o = 0; o < OH + OW; o++) {
            int32_t w = o < OH ? ty[o].wq : tx[o - OH].wq;
            while (g > 0 && w % (1 << g) != 0)
                g--;
        }
        int64_t hbytes = RESIZE_FRAC_BITS - g <= 7 ? 2 : 4;
        int fp = RESIZE_FRAC_BITS - g;
        bool wd = words && words->madd2 && fp >= 4 && fp <= 7;
        if (C < 8 && W * C <= SHUF_ROW && OW * C >= 8 && OW * C <= SHUF_OUT && H * OW * C * (wd ? 4 : hbytes) <= SEP_MAX_T)
            name = resize_shuf(cg, wd ? words : NULL, n, ty, tx, g);
        else if (RESIZE_FRAC_BITS - g <= 3 || W * C * 4 <= SEP_MAX_T)
            name = resize_sep(cg, words, n, ty, tx, g);
    } else {
        name = resize_nearest(cg, n, ty, tx);
    }
    free(ty), free(tx);
    return name;
}

const char *kern_resize(Cg *cg, const Node *n)
{
    return kern_resize_words(cg, n, NULL);
}
