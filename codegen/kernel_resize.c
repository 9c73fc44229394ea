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
 * resize_nearest_rows: an output row whose input row is the one before's
 * (a 2x upscale repeats every row) is a copy of the output row before it,
 * one memcpy; the others copy each output pixel's C elements from its
 * input pixel.
 *
 * Other forms (16-bit and float elements, weights that leave more than 3
 * fraction bits) stay in the generic loops (lower_layout.c).  Writes never
 * read the result, so input and output may not share a buffer (resize
 * changes the size; the planner never aliases them).
 */
#include "kernel_int8.h"

#include <stdlib.h>

#define B (cg->b)

enum { SEP_VLANES = 32, SEP_MAX_T = 65536 };

static LLVMValueRef splat16(Cg *cg, LLVMValueRef s, unsigned lanes)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i16, lanes);
    LLVMValueRef v = LLVMBuildInsertElement(B, LLVMGetUndef(vt), s, cg_i32(cg, 0), "");
    return LLVMBuildShuffleVector(B, v, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, lanes)), "");
}

static LLVMValueRef k16(Cg *cg, int v, unsigned lanes)
{
    return splat16(cg, LLVMConstInt(cg->t_i16, (unsigned long long)v, 0), lanes);
}

static LLVMValueRef tab_at(Cg *cg, LLVMValueRef tab, LLVMValueRef i)
{
    return LLVMBuildSExt(B, cg_load_int(cg, DT_I32, tab, i), cg->t_idx, "");
}

/* A weight table entry >> G as an i16 splat of L lanes. */
static LLVMValueRef wsplat(Cg *cg, LLVMValueRef tab, LLVMValueRef i, int g, unsigned lanes)
{
    LLVMValueRef w = LLVMBuildAShr(B, cg_load_int(cg, DT_I32, tab, i), cg_i32(cg, g), "");
    return splat16(cg, LLVMBuildTrunc(B, w, cg->t_i16, ""), lanes);
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

static const char *resize_sep(Cg *cg, const Node *n, const ResizeTap *ty, const ResizeTap *tx, int g)
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
    unsigned L = 32;
    while (L > C)
        L /= 2;
    LLVMTypeRef v8 = LLVMVectorType(cg->t_i8, V), v16 = LLVMVectorType(cg->t_i16, V);
    LLVMTypeRef h8 = LLVMVectorType(cg->t_i8, L), h16 = LLVMVectorType(cg->t_i16, L);
    LLVMValueRef t = cg_alloca(cg, LLVMArrayType(cg->t_i16, (unsigned)wc), "resize.t");
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    CgLoop lb, lyy, lj, lxx, lc;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef base = cg_mulk(cg, b, H * wc);
    LLVMValueRef oy = cg_for_begin(cg, &lyy, OH, "oy");
    LLVMValueRef oy2 = cg_mulk(cg, oy, 2);
    LLVMValueRef r0 = LLVMBuildAdd(B, base, tab_at(cg, tiy, oy2), "");
    LLVMValueRef r1 = LLVMBuildAdd(B, base, tab_at(cg, tiy, LLVMBuildAdd(B, oy2, cg_idx(cg, 1), "")), "");
    /* Vertical: t = wy0' x[r0 + j] + wy1' x[r1 + j]. */
    {
        LLVMValueRef wy1 = wsplat(cg, twy, oy, g, V), wy0 = LLVMBuildSub(B, k16(cg, 1 << fp, V), wy1, "");
        LLVMValueRef j = cg_mulk(cg, cg_for_begin(cg, &lj, (wc + V - 1) / V, "j"), V);
        j = cg_smin(cg, j, cg_idx(cg, wc - V));
        LLVMValueRef a = vload(cg, v8, cg_gep8(cg, x, LLVMBuildAdd(B, r0, j, "")));
        LLVMValueRef c = vload(cg, v8, cg_gep8(cg, x, LLVMBuildAdd(B, r1, j, "")));
        a = sx ? LLVMBuildSExt(B, a, v16, "") : LLVMBuildZExt(B, a, v16, "");
        c = sx ? LLVMBuildSExt(B, c, v16, "") : LLVMBuildZExt(B, c, v16, "");
        LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, a, wy0, ""), LLVMBuildMul(B, c, wy1, ""), "");
        vstore(cg, v, ptr_at(cg, cg->t_i16, t, j));
        cg_for_end(cg, &lj);
    }
    /* Horizontal: y = (wx0' t[c0] + wx1' t[c1] + 2^(2F'-1)) >> 2F'. */
    LLVMValueRef ox = cg_for_begin(cg, &lxx, OW, "ox");
    LLVMValueRef ox2 = cg_mulk(cg, ox, 2);
    LLVMValueRef c0 = tab_at(cg, tix, ox2), c1 = tab_at(cg, tix, LLVMBuildAdd(B, ox2, cg_idx(cg, 1), ""));
    LLVMValueRef wx1 = wsplat(cg, twx, ox, g, L), wx0 = LLVMBuildSub(B, k16(cg, 1 << fp, L), wx1, "");
    LLVMValueRef ypix = cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, b, OH), oy, ""), OW), ox, ""), C);
    LLVMValueRef c = cg_mulk(cg, cg_for_begin(cg, &lc, (C + L - 1) / L, "cv"), L);
    c = cg_smin(cg, c, cg_idx(cg, C - L));
    LLVMValueRef a = vload(cg, h16, ptr_at(cg, cg->t_i16, t, LLVMBuildAdd(B, c0, c, "")));
    LLVMValueRef e = vload(cg, h16, ptr_at(cg, cg->t_i16, t, LLVMBuildAdd(B, c1, c, "")));
    LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, a, wx0, ""), LLVMBuildMul(B, e, wx1, ""), "");
    v = LLVMBuildAShr(B, LLVMBuildAdd(B, v, k16(cg, 1 << (2 * fp - 1), L), ""), k16(cg, 2 * fp, L), "");
    vstore(cg, LLVMBuildTrunc(B, v, h8, ""), cg_gep8(cg, y, LLVMBuildAdd(B, ypix, c, "")));
    cg_for_end(cg, &lc);
    cg_for_end(cg, &lxx);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    static const char *const names[] = {"resize_linear_sep1", "resize_linear_sep2", "resize_linear_sep4",
                                        "resize_linear_sep8", "resize_linear_sep16", "resize_linear_sep32"};
    int lg = 0;
    while ((1u << lg) < L)
        lg++;
    return names[lg];
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

const char *kern_resize(Cg *cg, const Node *n)
{
    if (n->op != OP_RESIZE || cg->target->vector_bytes < 16)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    DType dt = xt->dtype;
    if (H * W * C * dtype_traits[dt].size > INT32_MAX || cg_buf(cg, n->operands[0]) == cg_buf(cg, n->result))
        return NULL;
    bool linear = node_int(n, ATTR_INTERP, RESIZE_NEAREST) == RESIZE_LINEAR;
    if (linear && (dtype_traits[dt].size != 1 || dt == DT_F32 || W * C < 16 || W * C * 2 > SEP_MAX_T))
        return NULL;
    ResizeTap *ty = xmalloc((size_t)OH * sizeof *ty), *tx = xmalloc((size_t)OW * sizeof *tx);
    resize_taps(n, 1, ty);
    resize_taps(n, 2, tx);
    const char *name = NULL;
    if (linear) {
        /* The weights' common power of two, at most 9 (lower_layout.c). */
        int g = 9;
        for (int64_t o = 0; o < OH + OW; o++) {
            int32_t w = o < OH ? ty[o].wq : tx[o - OH].wq;
            while (g > 0 && w % (1 << g) != 0)
                g--;
        }
        if (RESIZE_FRAC_BITS - g <= 3)
            name = resize_sep(cg, n, ty, tx, g);
    } else {
        name = resize_nearest(cg, n, ty, tx);
    }
    free(ty), free(tx);
    return name;
}
