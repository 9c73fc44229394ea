/* arm/conv_mve.c - conv2d (group 1), dense and matmul by a constant for
 * Cortex-M55 with Helium as a reduction over each output pixel's whole
 * patch ("conv_patch": docs/codegen.md, "Kernels and tiling"); depthwise
 * ("dw_patch") at the end of the file shares its output stage.
 *
 * Helium's int8 dot product is vmladava.s8: the 16 byte products of two
 * Q registers summed into one core register.  kern_conv spends one per
 * tap and 16 channels, with a scalar output stage per output; here:
 *
 *   - the reduction runs over a pixel's whole patch, K = KH*KW*C bytes
 *     in the weights' OHWI order, 16 bytes a step: for a 1x1 conv, a
 *     dense layer or a matmul ("direct") the patch is C contiguous bytes
 *     of the input itself; otherwise the block's patches are copied
 *     (im2col) into a stack buffer of MR rows of KP = K rounded up to 16
 *     bytes, taps in the padding reading a row of zero points;
 *   - a tile is MR = 2 output pixels x NR = 4 (or 3) output channels, 8
 *     (6) core register accumulators: each step loads the NR weight
 *     vectors once for the 2 pixels and each pixel's activation vector
 *     once for the NR channels (6 loads and 8 vmladava.s8; 5 and 6);
 *   - weights packed at compile time as [ceil(O/NR)][KP/16][NR][16]
 *     (bytes past K and channels past O are 0), so the last step of a
 *     patch needs no mask on the weights; a direct patch's last K % 16
 *     activation bytes load under a vctp.8 predicate (the bytes past the
 *     tensor are never read), an im2col row's pad bytes are zero;
 *   - zero points as in kern_conv (kernel_int8.h): activations ^0x80 for
 *     u8 (vmladava.s8 is signed), zx' * sum of the channel's weights
 *     folded into its bias, and a padding tap reads zx, whose products
 *     are exactly what the fold took away;
 *   - the output stage of a pixel's NR channels as one vector (TFLite
 *     rounding, 8-bit output, per-channel tables padded for 4-lane
 *     loads), CMSIS-NN's arm_requantize_mve shape: vshl (left shift),
 *     vqrdmulh.s32 by the channels' multipliers, the rounding right
 *     shift as vqadd of the sign then vrshl.s32, vqadd of the zero
 *     point, vmax/vmin, and one vstrb.32 (predicated for fewer than 4
 *     channels).  Other stages (ONNX rounding, an i32 result) run the
 *     scalar cg_outstage per lane.
 *
 * Why the vector stage is exactly TFLite's MultiplyByQuantizedMultiplier
 * (fp_mul_by_quantized_multiplier, ir/fixedpoint.h):
 *   - the left shift is a plain vshl (wraps, like TFLite's x * 2^left);
 *   - SRDHM(a, b) is (a*b + n) / 2^31 truncated toward zero, n = 2^30 for
 *     a*b >= 0 and 1 - 2^30 otherwise, INT32_MAX for a = b = INT32_MIN.
 *     vqrdmulh.s32 is sat((2*a*b + 2^31) >> 32) = floor((a*b + 2^30) /
 *     2^31), saturating only for a = b = INT32_MIN (to INT32_MAX).  For
 *     a*b >= 0 both are floor((a*b + 2^30) / 2^31).  For a*b = -m < 0:
 *     SRDHM = -floor((m - 1 + 2^30) / 2^31), and floor((2^30 - m) / 2^31)
 *     = -ceil((m - 2^30) / 2^31) = -floor((m - 2^30 + 2^31 - 1) / 2^31),
 *     the same number;
 *   - RDBPOT(x, e), e >= 1 (ties away from zero) is q + [r > 2^(e-1) - 1
 *     + [x < 0]] with x = q*2^e + r, 0 <= r < 2^e.  vrshl.s32 by -e is
 *     floor((x' + 2^(e-1)) / 2^e) in exact arithmetic.  With x' = x for
 *     x >= 0 that is q + [r >= 2^(e-1)]; with x' = x - 1 for x < 0 it is
 *     q + [r - 1 + 2^(e-1) >= 2^e] = q + [r > 2^(e-1)]: both match.
 *     x - [x < 0] is vqadd(x, x >> 31); it saturates only at x =
 *     INT32_MIN (which vqrdmulh never returns: |a*b| < 2^62 + 2^30 for a
 *     negative product), and even there vrshl gives q = -2^(31-e) = RDBPOT.
 *     A channel with e = 0 must not take the -1: with such channels among
 *     others the sign is masked per channel (CMSIS-NN's vand with -e);
 *   - clamp(v + zp, lo, hi) with v + zp as vqadd: where the exact sum
 *     leaves int32 the saturated one lies beyond the same bound.
 * CMSIS-NN's MVE kernels use this sequence and are bit-exact with TFLite;
 * cmsis-nn-thumbv8.1m.test and the bit-exact tests check it here.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)
#define MR 2
#define NR_MAX 4

typedef struct PatchK {
    KFrame f;
    int64_t K, KP, S, NP; /* patch bytes, padded to 16, steps, output pixels (all images) */
    bool direct, flip;
    int nr;               /* output channels a tile (3 or 4) */
    LLVMValueRef x, y, w, bias, zrow, buf;
    /* The vector output stage: per-channel tables (NULL: the constant of
     * one stage), what the stages need. */
    bool vstage;
    int64_t nst;
    bool any_left, any_right, all_right;
    LLVMValueRef tmult, tleft, tnright, tmask, tzp;
    int32_t lo, hi;
} PatchK;

static LLVMTypeRef v16i8(Cg *cg)
{
    return LLVMVectorType(cg->t_i8, 16);
}

static LLVMTypeRef v4i32(Cg *cg)
{
    return LLVMVectorType(cg->t_i32, 4);
}

/* The first N of 16 lanes on: a constant vctp.8 predicate. */
static LLVMValueRef first_lanes(Cg *cg, int n, int lanes)
{
    LLVMValueRef m[16];
    for (int i = 0; i < lanes; i++)
        m[i] = LLVMConstInt(cg->t_i1, i < n, false);
    return LLVMConstVector(m, (unsigned)lanes);
}

static LLVMValueRef load16(Cg *cg, LLVMValueRef p, int n)
{
    if (n >= 16)
        return kern_load_vec(cg, v16i8(cg), p);
    LLVMTypeRef over[2] = {v16i8(cg), cg->t_ptr};
    LLVMValueRef a[4] = {p, cg_i32(cg, 1), first_lanes(cg, n, 16), LLVMConstNull(v16i8(cg))};
    return kern_intrinsic(cg, "llvm.masked.load", over, 2, a, 4);
}

static void store16(Cg *cg, LLVMValueRef v, LLVMValueRef p, int n)
{
    if (n >= 16) {
        LLVMSetAlignment(LLVMBuildStore(B, v, p), 1);
        return;
    }
    LLVMTypeRef over[2] = {v16i8(cg), cg->t_ptr};
    LLVMValueRef a[4] = {v, p, cg_i32(cg, 1), first_lanes(cg, n, 16)};
    kern_intrinsic(cg, "llvm.masked.store", over, 2, a, 4);
}

/* N bytes from SRC to DST, 16 a vector, ^0x80 when flipping. */
static void copy_run(Cg *cg, PatchK *k, LLVMValueRef dst, LLVMValueRef src, int64_t n)
{
    int64_t nv = n / 16, rem = n % 16;
    CgLoop l;
    if (nv > 0) {
        bool loop = nv > 4;
        LLVMValueRef i = loop ? cg_mulk(cg, cg_for_begin(cg, &l, nv, "cp"), 16) : NULL;
        for (int64_t u = 0; u < (loop ? 1 : nv); u++) {
            LLVMValueRef off = loop ? i : cg_idx(cg, u * 16);
            LLVMValueRef v = load16(cg, cg_gep8(cg, src, off), 16);
            if (k->flip)
                v = kern_flip(cg, v);
            store16(cg, v, cg_gep8(cg, dst, off), 16);
        }
        if (loop)
            cg_for_end(cg, &l);
    }
    if (rem) {
        LLVMValueRef off = cg_idx(cg, nv * 16);
        LLVMValueRef v = load16(cg, cg_gep8(cg, src, off), (int)rem);
        if (k->flip)
            v = kern_flip(cg, v);
        store16(cg, v, cg_gep8(cg, dst, off), (int)rem);
    }
}

/* Image, row and column of output pixel GP (an idx value, all images). */
static void pixel_pos(Cg *cg, const KFrame *f, LLVMValueRef gp, LLVMValueRef *bi, LLVMValueRef *oy, LLVMValueRef *ox)
{
    int64_t P = f->oh * f->ow;
    LLVMValueRef p = LLVMBuildURem(B, gp, cg_idx(cg, P), "");
    *bi = LLVMBuildUDiv(B, gp, cg_idx(cg, P), "");
    *oy = LLVMBuildUDiv(B, p, cg_idx(cg, f->ow), "");
    *ox = LLVMBuildURem(B, p, cg_idx(cg, f->ow), "");
}

/* The patch of output pixel GP: a pointer into the input (direct), or
 * row M of the im2col buffer filled here. */
static LLVMValueRef patch(Cg *cg, PatchK *k, LLVMValueRef gp, int m)
{
    const KFrame *f = &k->f;
    if (k->direct && f->sh == 1 && f->sw == 1 && f->oh == f->h && f->ow == f->w)
        return cg_gep8(cg, k->x, cg_mulk(cg, gp, f->c));
    LLVMValueRef bi, oy, ox;
    pixel_pos(cg, f, gp, &bi, &oy, &ox);
    if (k->direct) /* kh == 1, every tap inside the image */
        return cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), cg_mulk(cg, oy, f->sh)),
                                                                 f->w),
                                                       cg_mulk(cg, ox, f->sw)),
                                          f->c));
    LLVMValueRef row = cg_gep8(cg, k->buf, cg_idx(cg, m * k->KP));
    CgLoop lt;
    int64_t T = f->kh * f->kw;
    LLVMValueRef t = cg_for_begin(cg, &lt, T, "tap");
    LLVMValueRef ky = LLVMBuildUDiv(B, t, cg_idx(cg, f->kw), ""), kx = LLVMBuildURem(B, t, cg_idx(cg, f->kw), "");
    LLVMValueRef src = kf_tap_src(cg, f, k->x, k->zrow, bi, oy, ox, ky, kx);
    copy_run(cg, k, cg_gep8(cg, row, cg_mulk(cg, t, f->c)), src, f->c);
    cg_for_end(cg, &lt);
    return row;
}

/* The NR per-channel words of channels O0 .. O0+NR from TAB (padded to
 * whole groups), or ONE in every lane when TAB is NULL (one stage). */
static LLVMValueRef chan_vec(Cg *cg, LLVMValueRef tab, int32_t one, LLVMValueRef o0)
{
    if (!tab)
        return cg_splat(cg, cg_i32(cg, one), 4);
    LLVMValueRef v = LLVMBuildLoad2(B, v4i32(cg), LLVMBuildInBoundsGEP2(B, cg->t_i32, tab, &o0, 1, ""), "");
    LLVMSetAlignment(v, 4);
    return v;
}

/* The vector output stage (see the top of the file) of V, channels
 * O0 .. O0+4 in its lanes. */
static LLVMValueRef vstage(Cg *cg, const PatchK *k, LLVMValueRef v, LLVMValueRef o0)
{
    const OutStage *s0 = &k->f.st[0];
    LLVMTypeRef t4 = v4i32(cg);
    if (k->any_left)
        v = LLVMBuildShl(B, v, chan_vec(cg, k->tleft, s0->shift > 0 ? s0->shift : 0, o0), "");
    LLVMValueRef a[2] = {v, chan_vec(cg, k->tmult, s0->mult, o0)};
    v = kern_intrinsic(cg, "llvm.arm.mve.vqrdmulh", &t4, 1, a, 2);
    if (k->any_right) {
        LLVMValueRef sign = LLVMBuildAShr(B, v, cg_splat(cg, cg_i32(cg, 31), 4), "");
        if (!k->all_right)
            sign = LLVMBuildAnd(B, sign, chan_vec(cg, k->tmask, 0, o0), "");
        LLVMValueRef q[2] = {v, sign};
        v = kern_intrinsic(cg, "llvm.sadd.sat", &t4, 1, q, 2);
        /* vrshl.s32 by the (negative) right shifts */
        LLVMValueRef r[5] = {v, chan_vec(cg, k->tnright, s0->shift < 0 ? s0->shift : 0, o0), cg_i32(cg, 0),
                             cg_i32(cg, 1), cg_i32(cg, 0)};
        v = kern_intrinsic(cg, "llvm.arm.mve.vshl.vector", (LLVMTypeRef[]){t4, t4}, 2, r, 5);
    }
    LLVMValueRef z[2] = {v, chan_vec(cg, k->tzp, s0->zp, o0)};
    v = kern_intrinsic(cg, "llvm.sadd.sat", &t4, 1, z, 2);
    return cg_smin(cg, cg_smax(cg, v, cg_splat(cg, cg_i32(cg, k->lo), 4)), cg_splat(cg, cg_i32(cg, k->hi), 4));
}

/* The full steps of a whole tile (MR = 2 pixels x NR = 3 or 4 channels)
 * as one inline-asm loop, each sum in its own even core register as
 * vmladava.s8 wants it: LLVM's allocation of the same IR put a sum in an
 * odd register or kept the pointers in even ones and copied 4 registers
 * a step (16 instructions a step for NR = 3 instead of 12, 23 instead of
 * 16 for NR = 4).  NR = 3: sums r0-r10, activation pointers r1 r3, the
 * weights r5, lr counting (dls/le: 12 a step); NR = 4: sums r0-r12 and
 * lr, the count in r9 (subs/bne: 16 a step).  The weights of the tile's
 * channel group are read in their packed order, 16 bytes a vldrb. */
static void tile_asm(Cg *cg, const PatchK *k, LLVMValueRef *px, LLVMValueRef wg, int64_t steps, LLVMValueRef *accp)
{
    int nr = k->nr, na = MR * nr;
    char text[1024];
    int len = 0;
    /* Operands: $0..$na-1 the sums (m * nr + j), then x0, x1, w, count
     * (tied outputs), then NR + 1 Q temporaries (weights, activations). */
    int ox = na, ow = na + 2, oc = na + 3, oq = na + 4;
    if (nr == 3)
        len += snprintf(text + len, sizeof text - (size_t)len, "dls lr, $%d\n", oc);
    len += snprintf(text + len, sizeof text - (size_t)len, "1:\n");
    for (int j = 0; j < nr; j++)
        len += snprintf(text + len, sizeof text - (size_t)len, "vldrb.u8 $%d, [$%d], #16\n", oq + j, ow);
    for (int m = 0; m < MR; m++) {
        int qx = oq + nr;
        len += snprintf(text + len, sizeof text - (size_t)len, "vldrb.u8 $%d, [$%d], #16\n", qx, ox + m);
        for (int j = 0; j < nr; j++)
            len += snprintf(text + len, sizeof text - (size_t)len, "vmlava.s8 $%d, $%d, $%d\n", m * nr + j, qx, oq + j);
    }
    if (nr == 3)
        len += snprintf(text + len, sizeof text - (size_t)len, "le lr, 1b\n");
    else
        len += snprintf(text + len, sizeof text - (size_t)len, "subs $%d, $%d, #1\nbne 1b\n", oc, oc);
    static const char *acc3[6] = {"{r0}", "{r2}", "{r4}", "{r6}", "{r8}", "{r10}"};
    static const char *acc4[8] = {"{r0}", "{r2}", "{r4}", "{r6}", "{r8}", "{r10}", "{r12}", "{lr}"};
    char cons[512];
    int cl = 0;
    for (int a = 0; a < na; a++)
        cl += snprintf(cons + cl, sizeof cons - (size_t)cl, "=%s,", nr == 3 ? acc3[a] : acc4[a]);
    cl += snprintf(cons + cl, sizeof cons - (size_t)cl, "={r1},={r3},={r5},=%s", nr == 3 ? "r" : "{r9}");
    for (int q = 0; q <= nr; q++)
        cl += snprintf(cons + cl, sizeof cons - (size_t)cl, ",=&w");
    for (int a = 0; a < na + 4; a++)
        cl += snprintf(cons + cl, sizeof cons - (size_t)cl, ",%d", a);
    if (nr == 3)
        cl += snprintf(cons + cl, sizeof cons - (size_t)cl, ",~{lr}");
    /* subs sets the flags LLVM may hold a compare in across the block. */
    cl += snprintf(cons + cl, sizeof cons - (size_t)cl, ",~{memory},~{cpsr}");
    LLVMTypeRef el[17], in[12], qt = v16i8(cg);
    int nout = na + 4 + nr + 1;
    for (int a = 0; a < nout; a++)
        el[a] = a < na ? cg->t_i32 : a < na + 3 ? cg->t_ptr : a == na + 3 ? cg->t_i32 : qt;
    memcpy(in, el, (size_t)(na + 4) * sizeof *in);
    LLVMTypeRef rt = LLVMStructTypeInContext(cg->ctx, el, (unsigned)nout, 0);
    LLVMTypeRef ft = LLVMFunctionType(rt, in, (unsigned)(na + 4), 0);
    LLVMValueRef asmv = LLVMGetInlineAsm(ft, text, (size_t)len, cons, (size_t)cl, 1, 0, LLVMInlineAsmDialectATT, 0);
    LLVMValueRef args[12];
    for (int a = 0; a < na; a++)
        args[a] = LLVMBuildLoad2(B, cg->t_i32, accp[a], "");
    args[na] = px[0];
    args[na + 1] = px[1];
    args[na + 2] = wg;
    args[na + 3] = cg_i32(cg, (int32_t)steps);
    LLVMValueRef r = LLVMBuildCall2(B, ft, asmv, args, (unsigned)(na + 4), "");
    for (int a = 0; a < na; a++)
        LLVMBuildStore(B, LLVMBuildExtractValue(B, r, (unsigned)a, ""), accp[a]);
}

/* One tile: pixels GP0 .. GP0+MRN (patches PX) x channels O0 .. O0+NRN of
 * channel group OG. */
static void patch_tile(Cg *cg, PatchK *k, LLVMValueRef gp0, LLVMValueRef *px, int mrn, LLVMValueRef og, int nrn)
{
    const KFrame *f = &k->f;
    LLVMValueRef accp[MR * NR_MAX];
    for (int a = 0; a < mrn * nrn; a++) {
        accp[a] = cg_alloca(cg, cg->t_i32, "pacc");
        LLVMBuildStore(B, cg_i32(cg, 0), accp[a]);
    }
    /* Full steps, then (direct) the masked last one. */
    int64_t full = k->direct ? k->K / 16 : k->S, rem = k->direct ? k->K % 16 : 0;
    LLVMValueRef wg = cg_gep8(cg, k->w, cg_mulk(cg, og, k->S * k->nr * 16));
    LLVMTypeRef bt = v16i8(cg);
    /* A whole tile's full steps: the asm loop, for long reductions (the
     * registers it pins cost LLVM spills and reloads around it, a loss
     * under 8 steps: Fashion-MNIST's 1x1 on 32 channels took 64,281
     * instructions with it, 51,641 without), and where LLVM's loop is
     * worse: 2 x 4 tiles, and direct 2 x 3 ones (an im2col 2 x 3 it
     * allocates well: Fashion-MNIST's 28x28x16 3x3, 171,078 without,
     * 191,453 with); not for a direct patch to flip (its step would need
     * a veor). */
    bool by_asm = mrn == MR && nrn == k->nr && full >= 8 && (k->nr == 4 || k->direct) && !(k->flip && k->direct);
    if (by_asm)
        tile_asm(cg, k, px, wg, full, accp);
    for (int part = by_asm; part < 2; part++) {
        int64_t ns = part == 0 ? full : rem ? 1 : 0;
        if (ns == 0)
            continue;
        CgLoop ls;
        LLVMValueRef s = part == 0 ? (ns > 1 ? cg_for_begin(cg, &ls, ns, "step") : cg_idx(cg, 0)) : cg_idx(cg, full);
        LLVMValueRef wv[NR_MAX], xv[MR];
        for (int j = 0; j < nrn; j++)
            wv[j] = load16(cg, cg_gep8(cg, wg, cg_add(cg, cg_mulk(cg, s, k->nr * 16), cg_idx(cg, j * 16))), 16);
        for (int m = 0; m < mrn; m++) {
            xv[m] = load16(cg, cg_gep8(cg, px[m], cg_mulk(cg, s, 16)), part == 0 ? 16 : (int)rem);
            if (k->flip && k->direct)
                xv[m] = kern_flip(cg, xv[m]);
        }
        for (int m = 0; m < mrn; m++)
            for (int j = 0; j < nrn; j++) {
                LLVMValueRef z = cg_i32(cg, 0);
                LLVMValueRef a[6] = {z, z, z, LLVMBuildLoad2(B, cg->t_i32, accp[m * nrn + j], ""), xv[m], wv[j]};
                LLVMBuildStore(B, kern_intrinsic(cg, "llvm.arm.mve.vmldava", &bt, 1, a, 6), accp[m * nrn + j]);
            }
        if (part == 0 && ns > 1)
            cg_for_end(cg, &ls);
    }
    LLVMValueRef o0 = cg_mulk(cg, og, k->nr);
    for (int m = 0; m < mrn; m++) {
        LLVMValueRef ypix = cg_mulk(cg, cg_add(cg, gp0, cg_idx(cg, m)), f->o);
        if (!k->vstage) {
            for (int j = 0; j < nrn; j++) {
                LLVMValueRef o = cg_add(cg, o0, cg_idx(cg, j));
                LLVMValueRef bias = LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->bias, &o, 1, ""), "");
                LLVMValueRef a = cg_add(cg, LLVMBuildLoad2(B, cg->t_i32, accp[m * nrn + j], ""), bias);
                kf_store(cg, f, k->y, a, o, cg_add(cg, ypix, o));
            }
            continue;
        }
        LLVMValueRef v = LLVMConstNull(v4i32(cg));
        for (int j = 0; j < nrn; j++)
            v = LLVMBuildInsertElement(B, v, LLVMBuildLoad2(B, cg->t_i32, accp[m * nrn + j], ""), cg_i32(cg, j), "");
        v = LLVMBuildAdd(B, v, chan_vec(cg, k->bias, 0, o0), "");
        v = vstage(cg, k, v, o0);
        LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, 4);
        LLVMValueRef v8 = LLVMBuildTrunc(B, v, t8, "");
        LLVMValueRef p = cg_gep8(cg, k->y, cg_add(cg, ypix, o0));
        if (nrn == 4) {
            LLVMSetAlignment(LLVMBuildStore(B, v8, p), 1); /* vstrb.32 */
        } else {
            LLVMTypeRef over[2] = {t8, cg->t_ptr};
            LLVMValueRef a[4] = {v8, p, cg_i32(cg, 1), first_lanes(cg, nrn, 4)};
            kern_intrinsic(cg, "llvm.masked.store", over, 2, a, 4);
        }
    }
}

/* Pixels GP0 .. GP0+MRN: their patches, then every channel group. */
static void block(Cg *cg, PatchK *k, LLVMValueRef gp0, int mrn)
{
    LLVMValueRef px[MR];
    for (int m = 0; m < mrn; m++)
        px[m] = patch(cg, k, cg_add(cg, gp0, cg_idx(cg, m)), m);
    int NR = k->nr;
    int64_t O = k->f.o, nog = O / NR;
    CgLoop lo;
    if (nog > 0) {
        LLVMValueRef og = cg_for_begin(cg, &lo, nog, "og");
        patch_tile(cg, k, gp0, px, mrn, og, NR);
        cg_for_end(cg, &lo);
    }
    if (O % NR)
        patch_tile(cg, k, gp0, px, mrn, cg_idx(cg, nog), (int)(O % NR));
}

/* Field WHICH of the O stages (multiplier, left shift, negated right
 * shift, sign mask, zero point), padded to N entries with the last. */
static int32_t *stage_table(const OutStage *st, int64_t O, int64_t n, int which)
{
    int32_t *t = xmalloc((size_t)n * sizeof *t);
    for (int64_t i = 0; i < n; i++) {
        const OutStage *s = &st[i < O ? i : O - 1];
        int sh = s->shift;
        t[i] = which == 0 ? s->mult : which == 1 ? (sh > 0 ? sh : 0) : which == 2 ? (sh < 0 ? sh : 0)
             : which == 3 ? (sh < 0 ? -1 : 0) : s->zp;
    }
    return t;
}

/* The vector stage (TFLite rounding, an 8-bit result, one clamp range
 * for every channel): what the stages need and their per-channel tables,
 * padded to N entries; K->vstage false when it does not apply. */
static void stage_setup(Cg *cg, PatchK *kp, int64_t N)
{
    PatchK k = *kp;
    KFrame *f = &k.f;
    int64_t O = f->o;
    /* The vector stage: TFLite rounding, an 8-bit result, one clamp range. */
    DType yd = f->yt->dtype;
    k.vstage = f->st && f->rounding == ROUND_TFLITE && (yd == DT_I8 || yd == DT_U8);
    if (k.vstage) {
        k.nst = cg_stage_count(f->st, O);
        k.all_right = true;
        for (int64_t o = 0; o < k.nst; o++) {
            const OutStage *s = &f->st[o];
            k.any_left |= s->shift > 0;
            k.any_right |= s->shift < 0;
            k.all_right &= s->shift < 0;
            if (s->lo != f->st[0].lo || s->hi != f->st[0].hi)
                k.vstage = false;
        }
        k.lo = (int32_t)f->st[0].lo;
        k.hi = (int32_t)f->st[0].hi;
    }
    if (k.vstage && k.nst > 1) {
        static const char *names[5] = {"kpmult", "kpleft", "kpnright", "kpmask", "kpzp"};
        LLVMValueRef *tabs[5] = {&k.tmult, &k.tleft, &k.tnright, &k.tmask, &k.tzp};
        for (int i = 0; i < 5; i++) {
            if ((i == 1 && !k.any_left) || (i == 2 && !k.any_right) || (i == 3 && (!k.any_right || k.all_right)))
                continue;
            int32_t *t = stage_table(f->st, O, N, i);
            *tabs[i] = cg_table_i32(cg, t, N, names[i]);
            free(t);
        }
    }

    *kp = k;
}

bool kern_conv_patch_mve(Cg *cg, const Node *n)
{
    PatchK k = {0};
    KFrame *f = &k.f;
    if (!kf_init(cg, n, f) || !kf_plain_i8(n, f))
        return false;
    int64_t T = f->kh * f->kw, O = f->o, C = f->c;
    k.K = T * C;
    k.KP = (k.K + 15) / 16 * 16;
    k.S = k.KP / 16;
    k.NP = f->n * f->oh * f->ow;
    /* A stack row per pixel of a block (4 KiB in all at most), and enough work
     * per pixel for the steps to pay. */
    k.direct = f->kh == 1 && (f->kw == 1 || f->dw == 1) && f->all_valid;
    if ((!k.direct && (MR * k.KP > 4096 || C < 8)) || k.K < 8)
        return false; /* C < 8: kern_conv_few's stems */
    if (!kf_stage(cg, n, f))
        return true;
    bool x_u8 = f->xv->type.dtype == DT_U8;
    k.flip = x_u8;
    int64_t zxk = f->zx - (x_u8 ? 128 : 0);

    /* The weights as [O][K] (OHWI, or matmul's b[K][N] transposed), packed. */
    const int8_t *wd = f->wv->data;
    /* 4 output channels a tile (8 accumulators: vmlava's even core
     * registers less lr run out, 4 moves a step) or 3 (6, no moves, but
     * a third more tiles and epilogues): the estimate of instructions per
     * 2 pixels, 19 or 12 a step and 40 an epilogue (measured).  One
     * pixel in all (a dense row) has 4 accumulators: 4. */
    int64_t c4 = (O + 3) / 4 * (19 * k.S + 40), c3 = (O + 2) / 3 * (12 * k.S + 40);
    k.nr = c3 < c4 && k.NP > 1 ? 3 : 4;
    int NR = k.nr;
    int64_t OG = (O + NR - 1) / NR;
    int8_t *pk = xcalloc((size_t)(OG * k.S * NR * 16), 1);
    int32_t *bias = xcalloc((size_t)(OG * NR + 1), sizeof *bias); /* whole 4-lane loads */
    for (int64_t o = 0; o < O; o++) {
        int64_t sum = 0;
        for (int64_t i = 0; i < k.K; i++) {
            int8_t w = n->op == OP_MATMUL ? wd[i * O + o] : wd[o * k.K + i];
            pk[(((o / NR) * k.S + i / 16) * NR + o % NR) * 16 + i % 16] = w;
            sum += w;
        }
        bias[o] = (int32_t)((uint32_t)kf_bias(f, o) - (uint32_t)(zxk * sum)); /* wraps like the adds */
    }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.w = cg_rodata(cg, pk, (size_t)(OG * k.S * NR * 16), 16, "kpatch");
    k.bias = cg_table_i32(cg, bias, OG * NR + 1, "kpbias");
    free(pk);
    free(bias);

    stage_setup(cg, &k, OG * NR + 1);

    if (!k.direct) {
        LLVMTypeRef bt = LLVMArrayType(cg->t_i8, (unsigned)(MR * k.KP));
        k.buf = cg_alloca(cg, bt, "im2col");
        LLVMSetAlignment(k.buf, 16);
        /* The rows' pad bytes (K .. KP) weigh 0 but must hold numbers. */
        LLVMBuildMemSet(B, k.buf, LLVMConstInt(cg->t_i8, 0, false), cg_idx(cg, MR * k.KP), 16);
        if (!f->all_valid) {
            uint8_t *z = xmalloc((size_t)C);
            memset(z, (uint8_t)f->zx, (size_t)C);
            k.zrow = cg_rodata(cg, z, (size_t)C, 16, "kpzero");
            free(z);
        }
    }
    int64_t nb = k.NP / MR, mrem = k.NP % MR;
    CgLoop lb;
    if (nb > 0) {
        LLVMValueRef gp0 = cg_mulk(cg, cg_for_begin(cg, &lb, nb, "pb"), MR);
        block(cg, &k, gp0, MR);
        cg_for_end(cg, &lb);
    }
    if (mrem)
        block(cg, &k, cg_idx(cg, nb * MR), (int)mrem);
    snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%dx%d", MR, NR);
    free(f->st);
    return true;
}

/* ------------------------------------------------------------ depthwise ("dw_patch")
 *
 * Depthwise conv2d with multiplier 1 and C a multiple of 4: 4 channels in
 * i32 lanes, 4 output pixels of a row at once, each tap's weight vector
 * (widened to i32, zero point removed, at compile time: [T][C]) loaded
 * once for the 4 pixels, vldrb.s32/u32 of each pixel's 4 activation
 * bytes and vmla.i32.  The activations' zero point is folded into the
 * bias (bias - zx * sum of the channel's weights) and a tap in the
 * padding reads a row of zero points, so every tap is the same code.  The
 * output stage is conv_patch's vector one (4 channels a vector) or, for
 * other stages, cg_outstage per lane.  Two forms: the window form
 * (dw_win_block: the block's input window copied per chunk of channel
 * groups so one pointer reaches every tap) and, for dilated columns, a
 * window out of the immediate offsets' reach and 3x3 at stride 2 (where
 * the window's copy cost more than it saved: 16x16x16 -> 8x8x16,
 * 56,422 instructions with LLVM schedule, 57,391 with the asm, against
 * 55,047), the pointer form (dw_block: one
 * pointer per pixel and tap, chosen once per block). */
#define DM 4

/* The output stage of the MRN pixels' accumulators ACC (channels C0 ..
 * C0+4) of block (BI, OY, OX0). */
static void dw_out(Cg *cg, const PatchK *k, LLVMValueRef *acc, LLVMValueRef bi, LLVMValueRef oy, LLVMValueRef ox0,
                   int mrn, LLVMValueRef c0)
{
    const KFrame *f = &k->f;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, 4);
    for (int m = 0; m < mrn; m++) {
        LLVMValueRef pix = cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh), oy), f->ow), cg_add(cg, ox0, cg_idx(cg, m)));
        LLVMValueRef ypix = cg_mulk(cg, pix, f->c);
        if (k->vstage) {
            LLVMValueRef v8 = LLVMBuildTrunc(B, vstage(cg, k, acc[m], c0), t8, "");
            LLVMSetAlignment(LLVMBuildStore(B, v8, cg_gep8(cg, k->y, cg_add(cg, ypix, c0))), 1);
            continue;
        }
        for (int l = 0; l < 4; l++) {
            LLVMValueRef o = cg_add(cg, c0, cg_idx(cg, l));
            kf_store(cg, f, k->y, LLVMBuildExtractElement(B, acc[m], cg_i32(cg, l), ""), o, cg_add(cg, ypix, o));
        }
    }
}

/* 4 activation bytes at P, widened to i32 lanes. */
static LLVMValueRef dw_load4(Cg *cg, const PatchK *k, LLVMValueRef p)
{
    LLVMTypeRef t4 = v4i32(cg), t8 = LLVMVectorType(cg->t_i8, 4);
    LLVMValueRef xv = LLVMBuildLoad2(B, t8, p, "");
    LLVMSetAlignment(xv, 1);
    return k->f.xv->type.dtype == DT_U8 ? LLVMBuildZExt(B, xv, t4, "") : LLVMBuildSExt(B, xv, t4, "");
}

/* The per-tap pointers form (dilated columns, or a window too wide for
 * dw_win_block): every channel group reads its 4 pixels x T taps through
 * MRN * T pointers, weights [T][C]. */
static void dw_block(Cg *cg, PatchK *k, LLVMValueRef wide, LLVMValueRef bi, LLVMValueRef oy, LLVMValueRef ox0, int mrn)
{
    const KFrame *f = &k->f;
    int64_t T = f->kh * f->kw, C = f->c;
    LLVMValueRef *ptr = xmalloc((size_t)(DM * T) * sizeof *ptr);
    for (int m = 0; m < mrn; m++)
        for (int64_t t = 0; t < T; t++)
            ptr[m * T + t] = kf_tap_src(cg, f, k->x, k->zrow, bi, oy, cg_add(cg, ox0, cg_idx(cg, m)),
                                        cg_idx(cg, t / f->kw), cg_idx(cg, t % f->kw));
    LLVMTypeRef t4 = v4i32(cg);
    CgLoop lc;
    LLVMValueRef c0 = cg_mulk(cg, cg_for_begin(cg, &lc, C / 4, "c4"), 4);
    LLVMValueRef acc[DM];
    for (int m = 0; m < mrn; m++)
        acc[m] = chan_vec(cg, k->bias, 0, c0);
    for (int64_t t = 0; t < T; t++) {
        LLVMValueRef wi = cg_add(cg, cg_idx(cg, t * C), c0);
        LLVMValueRef wv = LLVMBuildLoad2(B, t4, LLVMBuildInBoundsGEP2(B, cg->t_i32, wide, &wi, 1, ""), "");
        LLVMSetAlignment(wv, 4);
        for (int m = 0; m < mrn; m++) {
            LLVMValueRef xv = dw_load4(cg, k, cg_gep8(cg, ptr[m * T + t], c0));
            acc[m] = LLVMBuildAdd(B, acc[m], LLVMBuildMul(B, xv, wv, ""), ""); /* vmla.i32 */
        }
    }
    dw_out(cg, k, acc, bi, oy, ox0, mrn, c0);
    cg_for_end(cg, &lc);
    free(ptr);
}

/* The window form.  The block's input window, KH rows x QW = (MRN-1)*SW
 * + KW columns ("positions", NPOS in all), is copied per chunk of NG
 * channel groups into BUF as [group][position][4 bytes] (a 16-byte load
 * of a position, one vstrw.32 scatter to 4 groups), so that one pointer
 * per group, BUF + g * NPOS * 4 + MID, reaches every tap of every pixel
 * with an immediate offset (vldrb.s32's is 7 bits: NPOS <= 63), and
 * weights [C/4][T][4] one pointer per group (vldrw's, T <= 31).  PTAB
 * holds the positions' source pointers (or the zero row), computed once
 * per block. */
/* The MRN accumulators of one channel group of the window form, as one
 * inline-asm block: per tap a vldrw of the weights, per pixel a
 * vldrb.s32 (u32 for u8) at its immediate offset from XB, vmul.i32 and
 * vadd.i32 (Helium has no vector-by-vector vmla), two activation
 * registers alternating.  LLVM's schedule of the same IR shared loads
 * between pixels and spilled accumulators around them: 443 instructions
 * a group of the 5x5 stride-2 window against 325 + the output stage. */
static void dw_group_asm(Cg *cg, const PatchK *k, LLVMValueRef xb, LLVMValueRef wb, LLVMValueRef bias, int mrn,
                         int64_t QW, int64_t mid, LLVMValueRef *acc)
{
    const KFrame *f = &k->f;
    int64_t T = f->kh * f->kw;
    bool u8 = f->xv->type.dtype == DT_U8;
    size_t cap = (size_t)(T * (1 + 3 * mrn)) * 40 + 64, len = 0;
    char *text = xmalloc(cap);
    int ow = mrn, ox = mrn + 1, ixb = mrn + 3, iwb = mrn + 4, ibias = mrn + 5;
    for (int64_t t = 0; t < T; t++) {
        len += (size_t)snprintf(text + len, cap - len, "vldrw.u32 $%d, [$%d, #%d]\n", ow, iwb, (int)(t * 16));
        int64_t ky = t / f->kw, kx = t % f->kw;
        for (int m = 0; m < mrn; m++) {
            int qx = ox + (m & 1);
            int off = (int)((ky * QW + m * f->sw + kx) * 4 - mid);
            len += (size_t)snprintf(text + len, cap - len, "vldrb.%s32 $%d, [$%d, #%d]\nvmul.i32 $%d, $%d, $%d\n",
                                    u8 ? "u" : "s", qx, ixb, off, qx, qx, ow);
            len += (size_t)snprintf(text + len, cap - len, "vadd.i32 $%d, $%d, $%d\n", m, t == 0 ? ibias : m, qx);
        }
    }
    char cons[128];
    int cl = 0;
    for (int a = 0; a < mrn + 3; a++)
        cl += snprintf(cons + cl, sizeof cons - (size_t)cl, "%s=&w", a ? "," : "");
    cl += snprintf(cons + cl, sizeof cons - (size_t)cl, ",l,r,w"); /* the widening vldrb takes r0-r7 */
    LLVMTypeRef t4 = v4i32(cg), el[DM + 3], in[3] = {cg->t_ptr, cg->t_ptr, t4};
    for (int a = 0; a < mrn + 3; a++)
        el[a] = t4;
    LLVMTypeRef rt = LLVMStructTypeInContext(cg->ctx, el, (unsigned)(mrn + 3), 0);
    LLVMTypeRef ft = LLVMFunctionType(rt, in, 3, 0);
    LLVMValueRef asmv = LLVMGetInlineAsm(ft, text, len, cons, (size_t)cl, 0, 0, LLVMInlineAsmDialectATT, 0);
    LLVMValueRef args[3] = {xb, wb, bias};
    LLVMValueRef r = LLVMBuildCall2(B, ft, asmv, args, 3, "");
    for (int m = 0; m < mrn; m++)
        acc[m] = LLVMBuildExtractValue(B, r, (unsigned)m, "");
    free(text);
}

static void dw_win_chunk(Cg *cg, PatchK *k, LLVMValueRef wide, LLVMValueRef ptab, LLVMValueRef bi, LLVMValueRef oy,
                         LLVMValueRef ox0, int mrn, LLVMValueRef gc, int64_t ng)
{
    const KFrame *f = &k->f;
    int64_t T = f->kh * f->kw, QW = (mrn - 1) * f->sw + f->kw, NPOS = f->kh * QW, GS = NPOS * 4;
    int64_t mid = ((GS - 4) / 2) & ~(int64_t)3;
    LLVMTypeRef t4 = v4i32(cg), tp = cg->t_ptr, tb = LLVMVectorType(cg->t_i1, 4);
    /* The copy: position P's bytes of groups GC .. GC+NG to BUF + P*4 +
     * g*GS, 4 groups a vstrw.32 scatter (offsets constant per vector). */
    LLVMValueRef offv[16];
    for (int64_t v = 0; v * 4 < ng; v++) {
        LLVMValueRef offs[4];
        for (int l = 0; l < 4; l++)
            offs[l] = cg_i32(cg, (int32_t)((v * 4 + l) * GS));
        offv[v] = LLVMConstVector(offs, 4);
    }
    CgLoop lp;
    LLVMValueRef p = cg_for_begin(cg, &lp, NPOS, "pos");
    LLVMValueRef src = LLVMBuildLoad2(B, tp, LLVMBuildInBoundsGEP2(B, tp, ptab, &p, 1, ""), "");
    src = cg_gep8(cg, src, cg_mulk(cg, gc, 4));
    LLVMValueRef dst = cg_gep8(cg, k->buf, cg_mulk(cg, p, 4));
    for (int64_t v = 0; v * 4 < ng; v++) {
        int nl = (int)(ng - v * 4 < 4 ? ng - v * 4 : 4);
        LLVMValueRef d = LLVMBuildBitCast(B, load16(cg, cg_gep8(cg, src, cg_idx(cg, v * 16)), nl * 4), t4, "");
        if (nl == 4) {
            LLVMTypeRef over[3] = {tp, t4, t4};
            LLVMValueRef a[5] = {dst, offv[v], d, cg_i32(cg, 32), cg_i32(cg, 0)};
            kern_intrinsic(cg, "llvm.arm.mve.vstr.scatter.offset", over, 3, a, 5);
        } else {
            LLVMTypeRef over[4] = {tp, t4, t4, tb};
            LLVMValueRef a[6] = {dst, offv[v], d, cg_i32(cg, 32), cg_i32(cg, 0), first_lanes(cg, nl, 4)};
            kern_intrinsic(cg, "llvm.arm.mve.vstr.scatter.offset.predicated", over, 4, a, 6);
        }
    }
    cg_for_end(cg, &lp);
    /* Every group of the chunk: MRN pixels x T taps. */
    CgLoop lg;
    LLVMValueRef g = ng > 1 ? cg_for_begin(cg, &lg, ng, "g") : cg_idx(cg, 0);
    LLVMValueRef gg = cg_add(cg, gc, g), c0 = cg_mulk(cg, gg, 4);
    LLVMValueRef xb = cg_gep8(cg, k->buf, cg_add(cg, cg_mulk(cg, g, GS), cg_idx(cg, mid)));
    LLVMValueRef wb = cg_gep8(cg, wide, cg_mulk(cg, gg, T * 16));
    LLVMValueRef acc[DM];
    if (f->sw > 1) {
        dw_group_asm(cg, k, xb, wb, chan_vec(cg, k->bias, 0, c0), mrn, QW, mid, acc);
    } else {
        /* Stride 1: LLVM's schedule, which shares each activation load
         * among the pixels that read it (5x5 16x16x128: 782,672
         * instructions, 858,125 with the asm block). */
        for (int m = 0; m < mrn; m++)
            acc[m] = chan_vec(cg, k->bias, 0, c0);
        for (int64_t t = 0; t < T; t++) {
            LLVMValueRef wv = LLVMBuildLoad2(B, t4, cg_gep8(cg, wb, cg_idx(cg, t * 16)), "");
            LLVMSetAlignment(wv, 4);
            int64_t ky = t / f->kw, kx = t % f->kw;
            for (int m = 0; m < mrn; m++) {
                int64_t pos = ky * QW + m * f->sw + kx;
                LLVMValueRef xv = dw_load4(cg, k, cg_gep8(cg, xb, cg_idx(cg, pos * 4 - mid)));
                acc[m] = LLVMBuildAdd(B, acc[m], LLVMBuildMul(B, xv, wv, ""), ""); /* vmul.i32, vadd.i32 */
            }
        }
    }
    dw_out(cg, k, acc, bi, oy, ox0, mrn, c0);
    if (ng > 1)
        cg_for_end(cg, &lg);
}

static void dw_win_block(Cg *cg, PatchK *k, LLVMValueRef wide, LLVMValueRef ptab, LLVMValueRef bi, LLVMValueRef oy,
                         LLVMValueRef ox0, int mrn, int64_t G)
{
    const KFrame *f = &k->f;
    int64_t QW = (mrn - 1) * f->sw + f->kw, NG = f->c / 4;
    LLVMTypeRef tp = cg->t_ptr;
    for (int64_t r = 0; r < f->kh; r++) {
        CgLoop lq;
        LLVMValueRef q = cg_for_begin(cg, &lq, QW, "q");
        LLVMValueRef src = kf_tap_src(cg, f, k->x, k->zrow, bi, oy, ox0, cg_idx(cg, r), q);
        LLVMValueRef i = cg_add(cg, q, cg_idx(cg, r * QW));
        LLVMBuildStore(B, src, LLVMBuildInBoundsGEP2(B, tp, ptab, &i, 1, ""));
        cg_for_end(cg, &lq);
    }
    CgLoop lc;
    if (NG / G > 1) {
        LLVMValueRef gc = cg_mulk(cg, cg_for_begin(cg, &lc, NG / G, "chunk"), G);
        dw_win_chunk(cg, k, wide, ptab, bi, oy, ox0, mrn, gc, G);
        cg_for_end(cg, &lc);
    } else if (NG / G == 1) {
        dw_win_chunk(cg, k, wide, ptab, bi, oy, ox0, mrn, cg_idx(cg, 0), G);
    }
    if (NG % G)
        dw_win_chunk(cg, k, wide, ptab, bi, oy, ox0, mrn, cg_idx(cg, NG / G * G), NG % G);
}

bool kern_dw_patch_mve(Cg *cg, const Node *n)
{
    PatchK k = {0};
    KFrame *f = &k.f;
    if (n->op != OP_CONV2D || !kf_init(cg, n, f))
        return false;
    int64_t C = f->c, T = f->kh * f->kw;
    if (node_int(n, ATTR_GROUP, 1) != C || f->o != C || f->wv->type.dims[3] != 1 || C % 4 || T > 64)
        return false;
    if (!kf_stage(cg, n, f))
        return true;
    /* The window form (dw_win_block) unless its columns are dilated or
     * its window or weights leave the immediate offsets' reach. */
    int64_t npos = f->kh * ((DM - 1) * f->sw + f->kw);
    bool win = f->dw == 1 && npos <= 63 && T <= 31 && (f->sw == 1 || T > 9);
    int32_t *wide = xmalloc((size_t)(T * C) * sizeof *wide), *bias = xmalloc((size_t)C * sizeof *bias);
    for (int64_t c = 0; c < C; c++) {
        int64_t sum = 0;
        for (int64_t t = 0; t < T; t++) {
            /* [T][C], or [C/4][T][4] for the window form */
            wide[win ? (c / 4 * T + t) * 4 + c % 4 : t * C + c] = kf_weight(f, c, t);
            sum += kf_weight(f, c, t);
        }
        bias[c] = (int32_t)((uint32_t)kf_bias(f, c) - (uint32_t)((int64_t)f->zx * sum));
    }
    LLVMValueRef wv = cg_table_i32(cg, wide, T * C, "kdwwide");
    k.bias = cg_table_i32(cg, bias, C, "kdwbias");
    free(wide);
    free(bias);
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    if (!f->all_valid) {
        uint8_t *z = xmalloc((size_t)C);
        memset(z, (uint8_t)f->zx, (size_t)C);
        k.zrow = cg_rodata(cg, z, (size_t)C, 16, "kdwzero");
        free(z);
    }
    stage_setup(cg, &k, C);
    /* The window's chunk: NG groups, 4 KiB of stack at most. */
    int64_t G = C / 4, ptab_n = npos;
    LLVMValueRef ptab = NULL;
    if (win) {
        /* Even chunks, whole vectors of 4 groups where they fit. */
        int64_t gmax = 4096 / (npos * 4) < 64 ? 4096 / (npos * 4) : 64, nch = (G + gmax - 1) / gmax;
        G = (G + nch - 1) / nch;
        if ((G + 3) / 4 * 4 <= gmax)
            G = (G + 3) / 4 * 4;
        LLVMTypeRef bt = LLVMArrayType(cg->t_i8, (unsigned)(G * npos * 4));
        k.buf = cg_alloca(cg, bt, "dwwin");
        LLVMSetAlignment(k.buf, 16);
        ptab = cg_alloca(cg, LLVMArrayType(cg->t_ptr, (unsigned)ptab_n), "dwsrc");
    }
    CgLoop lb, ly, lx;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    LLVMValueRef oy = cg_for_begin(cg, &ly, f->oh, "oy");
    for (int part = 0; part < 2; part++) {
        int64_t nblk = part == 0 ? f->ow / DM : f->ow % DM > 0;
        int mrn = part == 0 ? DM : (int)(f->ow % DM);
        if (nblk == 0)
            continue;
        LLVMValueRef ox0 = part == 0 ? cg_mulk(cg, cg_for_begin(cg, &lx, nblk, "ox4"), DM) : cg_idx(cg, f->ow / DM * DM);
        if (win)
            dw_win_block(cg, &k, wv, ptab, bi, oy, ox0, mrn, G);
        else
            dw_block(cg, &k, wv, bi, oy, ox0, mrn);
        if (part == 0)
            cg_for_end(cg, &lx);
    }
    cg_for_end(cg, &ly);
    cg_for_end(cg, &lb);
    snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%dx4", DM);
    free(f->st);
    return true;
}
