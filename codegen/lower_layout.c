/* lower_layout.c - concat, reshape, transpose, pad, slice, gather and resize, following
 * ir/interp_layout.c.  Elements are moved as integers of their size, so
 * float bit patterns (NaN payloads included) survive unchanged. */
#include "codegen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

static LLVMTypeRef bits_type(Cg *cg, DType dt)
{
    return LLVMIntTypeInContext(cg->ctx, (unsigned)dtype_traits[dt].size * 8);
}

static void copy_elem(Cg *cg, DType dt, LLVMValueRef dst, LLVMValueRef di, LLVMValueRef src, LLVMValueRef si)
{
    LLVMTypeRef t = bits_type(cg, dt);
    LLVMValueRef v = LLVMBuildLoad2(B, t, LLVMBuildInBoundsGEP2(B, t, src, &si, 1, ""), "");
    LLVMBuildStore(B, v, LLVMBuildInBoundsGEP2(B, t, dst, &di, 1, ""));
}

/* Copies LEN elements of DT from SRC + SI to DST + DI (element offsets):
 * one llvm.memcpy of a constant size, which LLVM expands into the
 * target's vector moves (or a memcpy call when long). */
static void copy_run(Cg *cg, DType dt, LLVMValueRef dst, LLVMValueRef di, LLVMValueRef src, LLVMValueRef si,
                     int64_t len)
{
    LLVMTypeRef t = bits_type(cg, dt);
    LLVMBuildMemCpy(B, LLVMBuildInBoundsGEP2(B, t, dst, &di, 1, ""), 1, LLVMBuildInBoundsGEP2(B, t, src, &si, 1, ""),
                    1, cg_idx(cg, len * dtype_traits[dt].size));
}

bool lower_reshape(Cg *cg, const Node *n)
{
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    if (x != y)
        cg_memcpy(cg, y, x, type_nbytes(&n->result->type));
    return true;
}

bool lower_transpose(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t perm[QNN_MAX_RANK], xs[QNN_MAX_RANK], step[QNN_MAX_RANK], ys[QNN_MAX_RANK];
    node_ints(n, ATTR_PERM, perm, QNN_MAX_RANK, NULL);
    cg_strides(xt, xs);
    cg_strides(yt, ys);
    for (int d = 0; d < r; d++)
        step[d] = xs[perm[d]];
    /* Dims the permutation keeps together merge; when the last one stays
     * last (an NHWC-preserving transpose such as attention's heads), each
     * innermost run is one contiguous copy. */
    int64_t st[2][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[2][QNN_MAX_RANK];
    memcpy(st[0], ys, sizeof ys);
    memcpy(st[1], step, sizeof step);
    int m = cg_merge_dims(r, yt->dims, st, 2, md, ms);
    bool runs = ms[1][m - 1] == 1;
    CgNest nest;
    cg_nest_begin(cg, &nest, runs ? m - 1 : m, md);
    LLVMValueRef yi = cg_nest_offset(cg, &nest, ms[0]), xi = cg_nest_offset(cg, &nest, ms[1]);
    if (runs)
        copy_run(cg, yt->dtype, cg_buf(cg, n->result), yi, cg_buf(cg, n->operands[0]), xi, md[m - 1]);
    else
        copy_elem(cg, yt->dtype, cg_buf(cg, n->result), yi, cg_buf(cg, n->operands[0]), xi);
    cg_nest_end(cg, &nest);
    return true;
}

bool lower_pad(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t pads[2 * QNN_MAX_RANK], xs[QNN_MAX_RANK], ys[QNN_MAX_RANK];
    node_ints(n, ATTR_PADS, pads, 2 * QNN_MAX_RANK, NULL);
    cg_strides(xt, xs);
    cg_strides(yt, ys);
    float value = node_float(n, ATTR_VALUE, 0.0f);
    DType dt = yt->dtype;
    /* The fill value's bits per channel of the result. */
    const Quant *q = yt->quant;
    int64_t nch = q && q->count > 1 ? q->count : 1;
    int axis = nch > 1 ? q->axis : -1;
    int32_t *fill = xcalloc((size_t)nch, sizeof *fill);
    for (int64_t c = 0; c < nch; c++) {
        if (dt == DT_F32)
            memcpy(&fill[c], &value, 4);
        else
            fill[c] = (int32_t)quantize_real(value, qparam_chan(q, c), ROUND_ONNX, dtype_traits[dt].min,
                                             dtype_traits[dt].max);
    }
    LLVMTypeRef t = bits_type(cg, dt);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    bool grow = true;
    for (int d = 0; d < 2 * r; d++)
        grow = grow && pads[d] >= 0;
    if (grow && nch == 1 && dtype_traits[dt].size == 1) {
        /* Bytes, no crop: the input's contiguous runs copied into their
         * place in order, each preceded by the fill of the gap since the
         * last one's end (kept in END), and the rest filled after: every
         * result byte written once (M-LSD's pads of one row and column
         * on 2.5 MB: a fill of the whole result first wrote it twice). */
        LLVMValueRef fb = LLVMConstInt(cg->t_i8, (unsigned long long)(fill[0] & 0xff), 0);
        LLVMValueRef end = cg_alloca(cg, cg->t_idx, "padend");
        LLVMBuildStore(B, cg_idx(cg, 0), end);
        int64_t base = 0, st[2][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[2][QNN_MAX_RANK];
        for (int d = 0; d < r; d++)
            base += pads[d] * ys[d];
        memcpy(st[0], xs, sizeof xs);
        memcpy(st[1], ys, sizeof ys);
        int m = cg_merge_dims(r, xt->dims, st, 2, md, ms);
        if (ms[0][m - 1] == 1 && ms[1][m - 1] == 1) {
            CgNest nest;
            cg_nest_begin(cg, &nest, m - 1, md);
            LLVMValueRef yi = LLVMBuildAdd(B, cg_nest_offset(cg, &nest, ms[1]), cg_idx(cg, base), "");
            LLVMValueRef e = LLVMBuildLoad2(B, cg->t_idx, end, "");
            LLVMBuildMemSet(B, LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &e, 1, ""), fb, LLVMBuildSub(B, yi, e, ""), 1);
            copy_run(cg, dt, y, yi, x, cg_nest_offset(cg, &nest, ms[0]), md[m - 1]);
            LLVMBuildStore(B, LLVMBuildAdd(B, yi, cg_idx(cg, md[m - 1]), ""), end);
            cg_nest_end(cg, &nest);
            LLVMValueRef e2 = LLVMBuildLoad2(B, cg->t_idx, end, "");
            LLVMBuildMemSet(B, LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &e2, 1, ""), fb,
                            LLVMBuildSub(B, cg_idx(cg, type_numel(yt)), e2, ""), 1);
            free(fill);
            return true;
        }
        /* A last dim that is not contiguous in both (never for row-major
         * tensors: md[m - 1] is the input's innermost run) falls through. */
    }
    CgNest nest;
    cg_nest_begin(cg, &nest, r, yt->dims);
    LLVMValueRef fv;
    if (nch == 1) {
        fv = LLVMConstInt(t, (unsigned long long)(int64_t)fill[0], 1);
    } else {
        LLVMValueRef tab = cg_table_i32(cg, fill, nch, "fill");
        fv = LLVMBuildTrunc(B, cg_load_int(cg, DT_I32, tab, nest.idx[axis]), t, "");
    }
    LLVMValueRef yi = cg_nest_offset(cg, &nest, ys);
    LLVMBuildStore(B, fv, LLVMBuildInBoundsGEP2(B, t, y, &yi, 1, ""));
    LLVMValueRef inside = LLVMConstInt(cg->t_i1, 1, 0), off = cg_idx(cg, 0);
    for (int d = 0; d < r; d++) {
        LLVMValueRef xi = LLVMBuildSub(B, nest.idx[d], cg_idx(cg, pads[d]), "");
        /* 0 <= xi < dim as one unsigned compare (negative pads crop). */
        inside = LLVMBuildAnd(B, inside, LLVMBuildICmp(B, LLVMIntULT, xi, cg_idx(cg, xt->dims[d]), ""), "");
        off = LLVMBuildAdd(B, off, LLVMBuildMul(B, xi, cg_idx(cg, xs[d]), ""), "");
    }
    CgIf s;
    cg_if_begin(cg, &s, inside);
    copy_elem(cg, dt, y, yi, x, off);
    cg_if_end(cg, &s);
    cg_nest_end(cg, &nest);
    free(fill);
    return true;
}

/* A strided copy: the input offset is affine in the result's indices, as
 * in transpose, plus the constant offset of starts. */
int64_t cg_slice_strides(const Node *n, int64_t (*st)[QNN_MAX_RANK])
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int r = xt->rank;
    int64_t starts[QNN_MAX_RANK], steps[QNN_MAX_RANK], ones[QNN_MAX_RANK], xs[QNN_MAX_RANK], base = 0;
    for (int d = 0; d < QNN_MAX_RANK; d++)
        ones[d] = 1;
    node_ints(n, ATTR_STARTS, starts, QNN_MAX_RANK, NULL);
    node_ints(n, ATTR_STEPS, steps, r, ones);
    cg_strides(xt, xs);
    cg_strides(yt, st[0]);
    for (int d = 0; d < r; d++) {
        st[1][d] = steps[d] * xs[d];
        base += starts[d] * xs[d];
    }
    return base;
}

bool lower_slice(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t st[2][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[2][QNN_MAX_RANK];
    int64_t base = cg_slice_strides(n, st);
    if (cg_is_view(cg, n->result, n->operands[0], base * dtype_traits[xt->dtype].size))
        return true; /* plan_memory made it a view: a contiguous run of x */
    /* Dims the slice keeps together merge (as in transpose); when the
     * innermost one has step 1 (a channel slice of an NHWC tensor, M-LSD's
     * [..., 8:12]), each innermost run is one contiguous copy. */
    int m = cg_merge_dims(yt->rank, yt->dims, st, 2, md, ms);
    bool runs = ms[1][m - 1] == 1 && ms[0][m - 1] == 1 && md[m - 1] > 1;
    CgNest nest;
    cg_nest_begin(cg, &nest, runs ? m - 1 : m, md);
    LLVMValueRef xi = LLVMBuildAdd(B, cg_nest_offset(cg, &nest, ms[1]), cg_idx(cg, base), "");
    LLVMValueRef yi = cg_nest_offset(cg, &nest, ms[0]);
    if (runs)
        copy_run(cg, yt->dtype, cg_buf(cg, n->result), yi, cg_buf(cg, n->operands[0]), xi, md[m - 1]);
    else
        copy_elem(cg, yt->dtype, cg_buf(cg, n->result), yi, cg_buf(cg, n->operands[0]), xi);
    cg_nest_end(cg, &nest);
    return true;
}

/* interp_gather: over (outer, index j, inner), index i = indices[j], + s
 * when negative; inside [0, s) copies x[o][i][e], otherwise stores zero
 * (the zero point when quantized).  The load address is only formed for an
 * index inside. */
bool lower_gather(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *it = &n->operands[1]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0), s = xt->dims[axis], cnt = type_numel(it);
    int64_t dims[3] = {1, cnt, 1};
    for (int d = 0; d < axis; d++)
        dims[0] *= xt->dims[d];
    for (int d = (int)axis + 1; d < xt->rank; d++)
        dims[2] *= xt->dims[d];
    DType dt = yt->dtype;
    LLVMTypeRef t = bits_type(cg, dt);
    int64_t zero = yt->quant ? yt->quant->zero_point[0] : 0; /* f32 0.0 is all zero bits */
    LLVMValueRef x = cg_buf(cg, n->operands[0]), ix = cg_buf(cg, n->operands[1]), y = cg_buf(cg, n->result);
    CgNest nest;
    cg_nest_begin(cg, &nest, 3, dims);
    int64_t ys[3] = {cnt * dims[2], dims[2], 1};
    LLVMValueRef yi = cg_nest_offset(cg, &nest, ys);
    LLVMBuildStore(B, LLVMConstInt(t, (unsigned long long)zero, 1), LLVMBuildInBoundsGEP2(B, t, y, &yi, 1, ""));
    LLVMValueRef i = LLVMBuildSExt(B, cg_load_int(cg, DT_I32, ix, nest.idx[1]), cg->t_idx, "");
    LLVMValueRef neg = LLVMBuildICmp(B, LLVMIntSLT, i, cg_idx(cg, 0), "");
    i = LLVMBuildSelect(B, neg, LLVMBuildAdd(B, i, cg_idx(cg, s), ""), i, "");
    /* 0 <= i < s as one unsigned compare. */
    CgIf in;
    cg_if_begin(cg, &in, LLVMBuildICmp(B, LLVMIntULT, i, cg_idx(cg, s), ""));
    LLVMValueRef xi = LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, nest.idx[0], cg_idx(cg, s), ""), i, ""),
                                                   cg_idx(cg, dims[2]), ""),
                                   nest.idx[2], "");
    copy_elem(cg, dt, y, yi, x, xi);
    cg_if_end(cg, &in);
    cg_nest_end(cg, &nest);
    return true;
}

bool lower_concat(Cg *cg, const Node *n)
{
    const TensorType *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0);
    if (axis < 0)
        axis += yt->rank;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= yt->dims[d];
    for (int d = (int)axis + 1; d < yt->rank; d++)
        inner *= yt->dims[d];
    int rounding = node_rounding(n);
    int64_t yrow = yt->dims[axis] * inner, col = 0;
    QParam yp = qparam_chan(yt->quant, 0);
    LLVMValueRef y = cg_buf(cg, n->result);
    for (int k = 0; k < n->num_operands; k++) {
        const TensorType *xt = &n->operands[k]->type;
        int64_t chunk = xt->dims[axis] * inner;
        LLVMValueRef x = cg_buf(cg, n->operands[k]);
        if (outer == 1 && (!xt->quant || quant_equal(xt->quant, yt->quant)) &&
            cg_is_view(cg, n->operands[k], n->result, col * dtype_traits[yt->dtype].size)) {
            col += chunk; /* computed in place (plan_memory) */
            continue;
        }
        CgLoop lo, lj;
        LLVMValueRef o = cg_for_begin(cg, &lo, outer, "o");
        if (!xt->quant || quant_equal(xt->quant, yt->quant)) {
            /* Each operand's rows are contiguous in it and in the result. */
            LLVMValueRef xi = LLVMBuildMul(B, o, cg_idx(cg, chunk), "");
            LLVMValueRef yi = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, yrow), ""), cg_idx(cg, col), "");
            copy_run(cg, yt->dtype, y, yi, x, xi, chunk);
            cg_for_end(cg, &lo);
            col += chunk;
            continue;
        }
        LLVMValueRef j = cg_for_begin(cg, &lj, chunk, "j");
        LLVMValueRef xi = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, chunk), ""), j, "");
        LLVMValueRef yi = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, yrow), ""),
                                       LLVMBuildAdd(B, j, cg_idx(cg, col), ""), "");
        if (!xt->quant || quant_equal(xt->quant, yt->quant)) {
            copy_elem(cg, yt->dtype, y, yi, x, xi);
        } else {
            QParam xp = qparam_chan(xt->quant, 0);
            LLVMValueRef v = cg_load_int(cg, xt->dtype, x, xi), q;
            LLVMValueRef zp = cg_i32(cg, yp.zp), lo32 = cg_i32(cg, dtype_traits[yt->dtype].min),
                         hi32 = cg_i32(cg, dtype_traits[yt->dtype].max);
            if (rounding == ROUND_TFLITE) {
                /* TFLite ConcatenationWithScaling, in float32. */
                float inv = 1.0f / yp.scale;
                float fscale = xp.scale * inv;
                float fbias = -(float)xp.zp * fscale;
                LLVMValueRef t = LLVMBuildFMul(B, LLVMBuildSIToFP(B, v, cg->t_f32, ""), cg_f32(cg, fscale), "");
                t = LLVMBuildFAdd(B, t, cg_f32(cg, fbias), "");
                LLVMValueRef r = cg_round_f64(cg, LLVMBuildFPExt(B, t, cg->t_f64, ""), ROUND_TFLITE);
                q = cg_add_zp_clamp(cg, r, zp, lo32, hi32);
            } else {
                double m = (double)xp.scale / (double)yp.scale;
                LLVMValueRef acc = LLVMBuildSub(B, v, cg_i32(cg, xp.zp), "");
                q = cg_add_zp_clamp(cg, cg_rne_prod(cg, acc, cg_f64(cg, m)), zp, lo32, hi32);
            }
            cg_store_int(cg, yt->dtype, y, yi, q);
        }
        cg_for_end(cg, &lj);
        cg_for_end(cg, &lo);
        col += chunk;
    }
    return true;
}

/* resize: the taps of every output row and column come from the
 * interpreter's resize_taps at compile time, as tables of input offsets
 * and weights; the loop only gathers and blends.  Plain loops: performance
 * is for later. */
static LLVMValueRef tab_idx(Cg *cg, LLVMValueRef tab, LLVMValueRef i)
{
    return LLVMBuildSExt(B, cg_load_int(cg, DT_I32, tab, i), cg->t_idx, "");
}

/* A <n x i8> at byte I of P, any alignment. */
static LLVMValueRef load_u(Cg *cg, LLVMTypeRef t, LLVMValueRef p, LLVMValueRef i)
{
    LLVMValueRef v = LLVMBuildLoad2(B, t, LLVMBuildInBoundsGEP2(B, cg->t_i8, p, &i, 1, ""), "");
    LLVMSetAlignment(v, 1);
    return v;
}

bool lower_resize(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t H = xt->dims[1], W = xt->dims[2], C = xt->dims[3], OH = yt->dims[1], OW = yt->dims[2];
    DType dt = xt->dtype;
    if (H * W * C > INT32_MAX)
        return cg_fail(cg, n, "resize input is too large");
    bool linear = node_int(n, ATTR_INTERP, RESIZE_NEAREST) == RESIZE_LINEAR;
    ResizeTap *ty = xmalloc((size_t)OH * sizeof *ty), *tx = xmalloc((size_t)OW * sizeof *tx);
    resize_taps(n, 1, ty);
    resize_taps(n, 2, tx);
    int32_t *iy = xmalloc((size_t)(2 * OH) * sizeof *iy), *ix = xmalloc((size_t)(2 * OW) * sizeof *ix);
    int32_t *wqy = xmalloc((size_t)OH * sizeof *wqy), *wqx = xmalloc((size_t)OW * sizeof *wqx);
    float *wfy = xmalloc((size_t)(2 * OH) * sizeof *wfy), *wfx = xmalloc((size_t)(2 * OW) * sizeof *wfx);
    for (int64_t o = 0; o < OH; o++) {
        iy[2 * o] = (int32_t)(ty[o].i0 * W * C), iy[2 * o + 1] = (int32_t)(ty[o].i1 * W * C);
        wfy[2 * o] = ty[o].w0, wfy[2 * o + 1] = ty[o].w1, wqy[o] = ty[o].wq;
    }
    for (int64_t o = 0; o < OW; o++) {
        ix[2 * o] = (int32_t)(tx[o].i0 * C), ix[2 * o + 1] = (int32_t)(tx[o].i1 * C);
        wfx[2 * o] = tx[o].w0, wfx[2 * o + 1] = tx[o].w1, wqx[o] = tx[o].wq;
    }
    LLVMValueRef tiy = cg_table_i32(cg, iy, 2 * OH, "resize.y"), tix = cg_table_i32(cg, ix, 2 * OW, "resize.x");
    LLVMValueRef twy = NULL, twx = NULL;
    if (linear && dt == DT_F32) {
        twy = cg_rodata(cg, wfy, (size_t)(2 * OH) * 4, 4, "resize.wy");
        twx = cg_rodata(cg, wfx, (size_t)(2 * OW) * 4, 4, "resize.wx");
    } else if (linear) {
        twy = cg_table_i32(cg, wqy, OH, "resize.wy");
        twx = cg_table_i32(cg, wqx, OW, "resize.wx");
    }
    /* The i16 form's g (below): the weights' common power of two, at
     * most 9, or -1 when it leaves more than 3 fraction bits. */
    int narrow_g = -1;
    if (linear && dtype_traits[dt].size == 1 && dt != DT_F32) {
        int g = 9;
        for (int64_t o = 0; o < OH + OW; o++) {
            int32_t w = o < OH ? wqy[o] : wqx[o - OH];
            while (g > 0 && w % (1 << g) != 0)
                g--;
        }
        narrow_g = RESIZE_FRAC_BITS - g <= 3 ? g : -1;
    }
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    CgLoop lb, lyy, lxx, lc;
    LLVMValueRef b = cg_for_begin(cg, &lb, xt->dims[0], "b");
    LLVMValueRef base = LLVMBuildMul(B, b, cg_idx(cg, H * W * C), "");
    LLVMValueRef oy = cg_for_begin(cg, &lyy, OH, "oy");
    LLVMValueRef oy2 = LLVMBuildMul(B, oy, cg_idx(cg, 2), "");
    LLVMValueRef oy21 = LLVMBuildAdd(B, oy2, cg_idx(cg, 1), "");
    LLVMValueRef r0 = LLVMBuildAdd(B, base, tab_idx(cg, tiy, oy2), "");
    LLVMValueRef r1 = LLVMBuildAdd(B, base, tab_idx(cg, tiy, oy21), "");
    LLVMValueRef ox = cg_for_begin(cg, &lxx, OW, "ox");
    LLVMValueRef ox2 = LLVMBuildMul(B, ox, cg_idx(cg, 2), "");
    LLVMValueRef ox21 = LLVMBuildAdd(B, ox2, cg_idx(cg, 1), "");
    LLVMValueRef c0 = tab_idx(cg, tix, ox2), c1 = tab_idx(cg, tix, ox21);
    LLVMValueRef ypix = LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, LLVMBuildAdd(B, LLVMBuildMul(B, b, cg_idx(cg, OH), ""),
                                                                                    oy, ""), cg_idx(cg, OW), ""), ox, ""),
                                     cg_idx(cg, C), "");
    /* Nearest: each output pixel's C elements are one input pixel's. */
    if (!linear) {
        copy_run(cg, dt, y, ypix, x, LLVMBuildAdd(B, r0, c0, ""), C);
        goto next_pixel;
    }
    /* 8-bit bilinear on i16 lanes when every weight is a multiple of
     * 2^g with F' = RESIZE_FRAC_BITS - g <= 3 (2x scales: half_pixel's
     * 1/4, 3/4 are Q10 256, 768; asymmetric's 1/2 is 512).  Write each
     * weight w = 2^g w' (w' <= 2^F'): the Q10 sum v = sum x wx wy is
     * 2^2g v' with v' = sum x wx' wy', and (v + 2^(2F-1)) >> 2F equals
     * (v' + 2^(2F'-1)) >> 2F' (g <= 9, so 2F - 1 >= 2g: the rounding term
     * is 2^2g times an integer).  |v'| <= 255 * 2^2F' <= 16320 and every
     * partial sum is smaller, so all of it is exact in i16: 32 (or 16)
     * channels a step, the last step overlapping the one before when C is
     * not a multiple (it rewrites the same bytes; input and output are
     * different buffers, of different sizes). */
    if (narrow_g >= 0 && C >= 16) {
        unsigned L = C >= 32 ? 32 : 16;
        int fp = RESIZE_FRAC_BITS - narrow_g;
        CgLoop lv;
        LLVMValueRef c = LLVMBuildMul(B, cg_for_begin(cg, &lv, (C + L - 1) / L, "cv"), cg_idx(cg, L), "");
        c = cg_smin(cg, c, cg_idx(cg, C - L));
        LLVMTypeRef v8 = LLVMVectorType(cg->t_i8, L), v16 = LLVMVectorType(cg->t_i16, L);
        bool sx = dt == DT_I8;
#define K16(v) cg_splat(cg, LLVMConstInt(cg->t_i16, (unsigned long long)(v), 0), (unsigned)L)
#define W16(t, i) cg_splat(cg, LLVMBuildTrunc(B, LLVMBuildAShr(B, cg_load_int(cg, DT_I32, t, i), cg_i32(cg, narrow_g), ""), \
                                     cg->t_i16, ""), (unsigned)L)
#define LDV(r, cc) (sx ? LLVMBuildSExt : LLVMBuildZExt)(B, load_u(cg, v8, x, LLVMBuildAdd(B, LLVMBuildAdd(B, r, cc, ""), c, "")), \
                                                     v16, "")
        LLVMValueRef wx1 = W16(twx, ox), wy1 = W16(twy, oy), one = K16(1 << fp);
        LLVMValueRef wx0 = LLVMBuildSub(B, one, wx1, ""), wy0 = LLVMBuildSub(B, one, wy1, "");
        LLVMValueRef top = LLVMBuildAdd(B, LLVMBuildMul(B, LDV(r0, c0), wx0, ""), LLVMBuildMul(B, LDV(r0, c1), wx1, ""), "");
        LLVMValueRef bot = LLVMBuildAdd(B, LLVMBuildMul(B, LDV(r1, c0), wx0, ""), LLVMBuildMul(B, LDV(r1, c1), wx1, ""), "");
        LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, top, wy0, ""), LLVMBuildMul(B, bot, wy1, ""), "");
        v = LLVMBuildAShr(B, LLVMBuildAdd(B, v, K16(1 << (2 * fp - 1)), ""), K16(2 * fp), "");
#undef LDV
#undef W16
#undef K16
        LLVMValueRef st = LLVMBuildStore(B, LLVMBuildTrunc(B, v, v8, ""),
                                         LLVMBuildInBoundsGEP2(B, cg->t_i8, y, (LLVMValueRef[]){LLVMBuildAdd(B, ypix, c, "")}, 1, ""));
        LLVMSetAlignment(st, 1);
        cg_for_end(cg, &lv);
        goto next_pixel;
    }
    /* 8-bit bilinear: 16 channels a step on i32 lanes (exact, as below),
     * then the rest one by one. */
    int64_t cv = dtype_traits[dt].size == 1 && dt != DT_F32 && RESIZE_FRAC_BITS <= 10 ? C / 16 : 0;
    if (cv > 0) {
        CgLoop lv;
        LLVMValueRef c = LLVMBuildMul(B, cg_for_begin(cg, &lv, cv, "cv"), cg_idx(cg, 16), "");
        LLVMTypeRef v8 = LLVMVectorType(cg->t_i8, 16), v32 = LLVMVectorType(cg->t_i32, 16);
        bool sx = dt == DT_I8;
#define LDV(r, cc) (sx ? LLVMBuildSExt : LLVMBuildZExt)(B, load_u(cg, v8, x, LLVMBuildAdd(B, LLVMBuildAdd(B, r, cc, ""), c, "")), \
                                                     v32, "")
        LLVMValueRef wx1 = cg_splat(cg, cg_load_int(cg, DT_I32, twx, ox), 16);
        LLVMValueRef wy1 = cg_splat(cg, cg_load_int(cg, DT_I32, twy, oy), 16);
        LLVMValueRef one = cg_splat(cg, cg_i32(cg, RESIZE_ONE), 16);
        LLVMValueRef wx0 = LLVMBuildSub(B, one, wx1, ""), wy0 = LLVMBuildSub(B, one, wy1, "");
        LLVMValueRef top = LLVMBuildAdd(B, LLVMBuildMul(B, LDV(r0, c0), wx0, ""), LLVMBuildMul(B, LDV(r0, c1), wx1, ""), "");
        LLVMValueRef bot = LLVMBuildAdd(B, LLVMBuildMul(B, LDV(r1, c0), wx0, ""), LLVMBuildMul(B, LDV(r1, c1), wx1, ""), "");
        LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, top, wy0, ""), LLVMBuildMul(B, bot, wy1, ""), "");
        v = LLVMBuildAdd(B, v, cg_splat(cg, cg_i32(cg, 1 << (2 * RESIZE_FRAC_BITS - 1)), 16), "");
        v = LLVMBuildAShr(B, v, cg_splat(cg, cg_i32(cg, 2 * RESIZE_FRAC_BITS), 16), "");
#undef LDV
        LLVMValueRef st = LLVMBuildStore(B, LLVMBuildTrunc(B, v, v8, ""),
                                         LLVMBuildInBoundsGEP2(B, cg->t_i8, y, (LLVMValueRef[]){LLVMBuildAdd(B, ypix, c, "")}, 1, ""));
        LLVMSetAlignment(st, 1);
        cg_for_end(cg, &lv);
    }
    if (cv * 16 == C)
        goto next_pixel;
    LLVMValueRef c = LLVMBuildAdd(B, cg_for_begin(cg, &lc, C - cv * 16, "c"), cg_idx(cg, cv * 16), "");
    LLVMValueRef yi = LLVMBuildAdd(B, ypix, c, "");
    LLVMValueRef i00 = LLVMBuildAdd(B, LLVMBuildAdd(B, r0, c0, ""), c, "");
    {
        LLVMValueRef i01 = LLVMBuildAdd(B, LLVMBuildAdd(B, r0, c1, ""), c, "");
        LLVMValueRef i10 = LLVMBuildAdd(B, LLVMBuildAdd(B, r1, c0, ""), c, "");
        LLVMValueRef i11 = LLVMBuildAdd(B, LLVMBuildAdd(B, r1, c1, ""), c, "");
        if (dt == DT_F32) {
            /* top = x00*wx0 + x01*wx1, bot likewise, y = top*wy0 + bot*wy1,
             * in float32 and in that order (no contraction: no fast-math). */
            LLVMValueRef wx0 = cg_load_f32(cg, twx, ox2), wx1 = cg_load_f32(cg, twx, ox21);
            LLVMValueRef wy0 = cg_load_f32(cg, twy, oy2), wy1 = cg_load_f32(cg, twy, oy21);
            LLVMValueRef top = LLVMBuildFAdd(B, LLVMBuildFMul(B, cg_load_f32(cg, x, i00), wx0, ""),
                                             LLVMBuildFMul(B, cg_load_f32(cg, x, i01), wx1, ""), "");
            LLVMValueRef bot = LLVMBuildFAdd(B, LLVMBuildFMul(B, cg_load_f32(cg, x, i10), wx0, ""),
                                             LLVMBuildFMul(B, cg_load_f32(cg, x, i11), wx1, ""), "");
            cg_store_f32(cg, y, yi, LLVMBuildFAdd(B, LLVMBuildFMul(B, top, wy0, ""),
                                                  LLVMBuildFMul(B, bot, wy1, ""), ""));
        } else {
            /* Q10 weights; the sum is exact in int64 and rounded half up.
             * For 8-bit elements it is exact in int32 as well (|x| < 2^8,
             * weights <= 2^10: |sum| < 2^28 plus the 2^19 rounding), so
             * the channel loop runs on i32 lanes, which LLVM vectorizes. */
            bool narrow = dtype_traits[dt].size == 1 && RESIZE_FRAC_BITS <= 10;
            LLVMTypeRef at = narrow ? cg->t_i32 : cg->t_i64;
            LLVMValueRef one = LLVMConstInt(at, RESIZE_ONE, 0);
            LLVMValueRef wx1 = LLVMBuildSExt(B, cg_load_int(cg, DT_I32, twx, ox), at, "");
            LLVMValueRef wy1 = LLVMBuildSExt(B, cg_load_int(cg, DT_I32, twy, oy), at, "");
            LLVMValueRef wx0 = LLVMBuildSub(B, one, wx1, ""), wy0 = LLVMBuildSub(B, one, wy1, "");
#define LDW(i) LLVMBuildSExt(B, cg_load_int(cg, dt, x, i), at, "")
            LLVMValueRef top = LLVMBuildAdd(B, LLVMBuildMul(B, LDW(i00), wx0, ""), LLVMBuildMul(B, LDW(i01), wx1, ""), "");
            LLVMValueRef bot = LLVMBuildAdd(B, LLVMBuildMul(B, LDW(i10), wx0, ""), LLVMBuildMul(B, LDW(i11), wx1, ""), "");
#undef LDW
            LLVMValueRef v = LLVMBuildAdd(B, LLVMBuildMul(B, top, wy0, ""), LLVMBuildMul(B, bot, wy1, ""), "");
            v = LLVMBuildAdd(B, v, LLVMConstInt(at, UINT64_C(1) << (2 * RESIZE_FRAC_BITS - 1), 0), "");
            v = LLVMBuildAShr(B, v, LLVMConstInt(at, 2 * RESIZE_FRAC_BITS, 0), "");
            cg_store_int(cg, dt, y, yi, narrow ? v : LLVMBuildTrunc(B, v, cg->t_i32, ""));
        }
    }
    cg_for_end(cg, &lc);
next_pixel:
    cg_for_end(cg, &lxx);
    cg_for_end(cg, &lyy);
    cg_for_end(cg, &lb);
    free(ty), free(tx), free(iy), free(ix), free(wqy), free(wqx), free(wfy), free(wfx);
    return true;
}
