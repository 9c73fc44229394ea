/* kernel_int8.c - the int8 conv/dense/depthwise loop skeletons shared by
 * the per-target kernels (codegen/<target>/kernels.c).  See
 * kernel_int8.h for the arithmetic; docs/codegen.md, "Kernels and tiling",
 * for the loop structure and how the `tile` attribute shapes it.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

/* ------------------------------------------------------------ helpers */

LLVMValueRef kern_intrinsic(Cg *cg, const char *name, LLVMTypeRef *over, size_t nover, LLVMValueRef *args,
                            unsigned nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    if (!id)
        qnn_die("LLVM has no intrinsic %s", name);
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, over, nover);
    LLVMTypeRef ft = LLVMIntrinsicGetType(cg->ctx, id, over, nover);
    return LLVMBuildCall2(B, ft, fn, args, nargs, "");
}

LLVMValueRef kern_load_vec(Cg *cg, LLVMTypeRef t, LLVMValueRef p)
{
    LLVMValueRef v = LLVMBuildLoad2(B, t, p, "");
    LLVMSetAlignment(v, 1);
    return v;
}

/* 0x80 in every byte of an integer of BITS bits. */
static unsigned long long high_bits(unsigned bits)
{
    return 0x8080808080808080ull >> (64 - bits);
}

LLVMValueRef kern_flip(Cg *cg, LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMValueRef m;
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind) {
        LLVMTypeRef et = LLVMGetElementType(t);
        unsigned nl = LLVMGetVectorSize(t);
        LLVMValueRef *e = xmalloc(nl * sizeof *e);
        for (unsigned i = 0; i < nl; i++)
            e[i] = LLVMConstInt(et, high_bits(LLVMGetIntTypeWidth(et)), false);
        m = LLVMConstVector(e, nl);
        free(e);
    } else {
        m = LLVMConstInt(t, high_bits(LLVMGetIntTypeWidth(t)), false);
    }
    return LLVMBuildXor(B, v, m, "");
}

/* V of type ET in LANES lanes; one lane: the scalar. */
static LLVMValueRef splat(Cg *cg, LLVMTypeRef et, int lanes, int64_t v)
{
    LLVMValueRef c = LLVMConstInt(et, (uint64_t)v, true);
    return lanes == 1 ? c : cg_splat(cg, c, (unsigned)lanes);
}

static LLVMTypeRef vec(LLVMTypeRef et, int lanes)
{
    return lanes == 1 ? et : LLVMVectorType(et, (unsigned)lanes);
}

LLVMTypeRef kern_widen_acc_type(Cg *cg, const KDot *d)
{
    return LLVMVectorType(cg->t_i32, (unsigned)d->step);
}

/* Both operands widened to i32 and multiplied: every product of two bytes
 * (signed or u8 x s8) is exact in i32, so this is the reference shape for
 * every target's instruction selection. */
LLVMValueRef kern_widen_dot(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, (unsigned)d->step), it = LLVMVectorType(cg->t_i32, (unsigned)d->step);
    LLVMValueRef xv = kern_load_vec(cg, bt, x), wv = kern_load_vec(cg, bt, w);
    if (flip)
        xv = kern_flip(cg, xv);
    LLVMValueRef xe = d->x_unsigned ? LLVMBuildZExt(B, xv, it, "") : LLVMBuildSExt(B, xv, it, "");
    return LLVMBuildAdd(B, acc, LLVMBuildMul(B, xe, LLVMBuildSExt(B, wv, it, ""), ""), "");
}

LLVMValueRef kern_widen_mac(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    LLVMTypeRef t = LLVMTypeOf(acc);
    return LLVMBuildAdd(B, acc, LLVMBuildMul(B, LLVMBuildSExt(B, x, t, ""), LLVMBuildSExt(B, w, t, ""), ""), "");
}

bool kern_has(Cg *cg, const char *feature)
{
    const char *cpu = cg->opts->cpu ? cg->opts->cpu : cg->target->default_cpu;
    return target_has_feature(cg->opts->triple, cpu, cg->opts->features, feature);
}

static LLVMValueRef ld(Cg *cg, LLVMValueRef p)
{
    return LLVMBuildLoad2(B, LLVMGetAllocatedType(p), p, "");
}

static LLVMValueRef gep(Cg *cg, LLVMTypeRef t, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(B, t, base, &i, 1, "");
}

/* iy = oy*s - p + k*d and whether 0 <= iy < lim (as lower_nn.c). */
static LLVMValueRef tap(Cg *cg, LLVMValueRef o, int64_t s, int64_t p, LLVMValueRef k, int64_t d, int64_t lim,
                        LLVMValueRef *in)
{
    LLVMValueRef i = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, o, s), cg_mulk(cg, k, d)), cg_idx(cg, p), "");
    *in = LLVMBuildICmp(B, LLVMIntULT, i, cg_idx(cg, lim), "");
    return i;
}

/* ------------------------------------------------------------ the common frame */

/* The taps of one output pixel's window, as loops: between taps_begin and
 * taps_end, KY, KX are the tap and IY, IX its input row and column; taps
 * in the padding are skipped (a branch each) unless every tap of the
 * layer is inside the input. */
typedef struct Taps {
    CgLoop ly, lx;
    CgIf sy, sx;
    LLVMValueRef ky, kx, iy, ix;
} Taps;

static void taps_begin(Cg *cg, const KFrame *f, Taps *t, LLVMValueRef oy, LLVMValueRef ox)
{
    LLVMValueRef in;
    t->ky = cg_for_begin(cg, &t->ly, f->kh, "ky");
    t->iy = tap(cg, oy, f->sh, f->pt, t->ky, f->dh, f->h, &in);
    if (!f->all_valid)
        cg_if_begin(cg, &t->sy, in);
    t->kx = cg_for_begin(cg, &t->lx, f->kw, "kx");
    t->ix = tap(cg, ox, f->sw, f->pl, t->kx, f->dw, f->w, &in);
    if (!f->all_valid)
        cg_if_begin(cg, &t->sx, in);
}

static void taps_end(Cg *cg, const KFrame *f, Taps *t)
{
    if (!f->all_valid)
        cg_if_end(cg, &t->sx);
    cg_for_end(cg, &t->lx);
    if (!f->all_valid)
        cg_if_end(cg, &t->sy);
    cg_for_end(cg, &t->ly);
}

/* The input pixel (an index over N*H*W) of tap T for image BI. */
static LLVMValueRef taps_pixel(Cg *cg, const KFrame *f, const Taps *t, LLVMValueRef bi)
{
    return cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), t->iy), f->w), t->ix);
}



/* The forms both skeletons take; fills F or returns false. */
bool kf_init(Cg *cg, const Node *n, KFrame *f)
{
    memset(f, 0, sizeof *f);
    f->xv = n->operands[0];
    f->wv = n->operands[1];
    f->bv = n->num_operands > 2 ? n->operands[2] : NULL;
    f->yt = &n->result->type;
    DType xd = f->xv->type.dtype, wd = f->wv->type.dtype;
    if ((xd != DT_I8 && xd != DT_U8) || (wd != DT_I8 && wd != DT_U8) || f->wv->kind != VAL_CONST)
        return false;
    if (!f->xv->type.quant || !quant_is_per_tensor(f->xv->type.quant) || !f->wv->type.quant)
        return false;
    if (f->bv && (f->bv->kind != VAL_CONST || f->bv->type.dtype != DT_I32))
        return false;
    if (!f->yt->quant && f->yt->dtype != DT_I32)
        return false;
    const TensorType *xt = &f->xv->type, *wt = &f->wv->type, *yt = f->yt;
    if (n->op == OP_DENSE) {
        /* x[N,K] is an N x 1 image of K channels, y[N,M] likewise. */
        *f = (KFrame){.n = 1, .h = xt->dims[0], .w = 1, .c = xt->dims[1], .o = wt->dims[0], .kh = 1, .kw = 1,
                     .oh = xt->dims[0], .ow = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                     .xv = f->xv, .wv = f->wv, .bv = f->bv, .yt = f->yt};
    } else if (n->op == OP_MATMUL) {
        /* a[..., M, K] times a constant b[K, N] (any leading dims of b
         * are 1, so every row of a meets the same b) is a dense layer of
         * prod(a's leading dims) rows; kern_conv transposes b. */
        for (int d = 0; d < wt->rank - 2; d++)
            if (wt->dims[d] != 1)
                return false;
        int64_t rows = 1;
        for (int d = 0; d < xt->rank - 1; d++)
            rows *= xt->dims[d];
        int64_t K = xt->dims[xt->rank - 1], N = wt->dims[wt->rank - 1];
        *f = (KFrame){.n = 1, .h = rows, .w = 1, .c = K, .o = N, .kh = 1, .kw = 1,
                     .oh = rows, .ow = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                     .xv = f->xv, .wv = f->wv, .bv = f->bv, .yt = f->yt};
    } else if (n->op == OP_CONV2D) {
        static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
        int64_t s[2], dl[2], pd[4];
        node_ints(n, ATTR_STRIDES, s, 2, one2);
        node_ints(n, ATTR_DILATIONS, dl, 2, one2);
        node_ints(n, ATTR_PADS, pd, 4, zero4);
        f->n = xt->dims[0], f->h = xt->dims[1], f->w = xt->dims[2], f->c = xt->dims[3];
        f->o = wt->dims[0], f->kh = wt->dims[1], f->kw = wt->dims[2];
        f->oh = yt->dims[1], f->ow = yt->dims[2];
        f->sh = s[0], f->sw = s[1], f->dh = dl[0], f->dw = dl[1], f->pt = pd[0], f->pl = pd[1];
    } else {
        return false;
    }
    f->all_valid = f->pt == 0 && f->pl == 0 && (f->oh - 1) * f->sh + (f->kh - 1) * f->dh < f->h &&
                   (f->ow - 1) * f->sw + (f->kw - 1) * f->dw < f->w;
    f->rounding = node_rounding(n);
    f->zx = qparam_chan(xt->quant, 0).zp;
    const Attr *ta = node_attr(n, ATTR_TILE);
    if (ta && ta->count == 3)
        memcpy(f->tile, ta->u.ints, sizeof f->tile);
    else
        tile_defaults(n, cg->opts->triple, cg->opts->cpu, cg->opts->features, f->tile);
    return true;
}

/* Weight I of output channel O (OHWI: I runs over kh*kw*c of one channel)
 * less its zero point, as i16: what the i16 kernels multiply. */
int16_t kf_weight(const KFrame *f, int64_t o, int64_t i)
{
    const TensorType *wt = &f->wv->type;
    const uint8_t *wd = f->wv->data;
    int64_t at = o * (wt->dims[1] * wt->dims[2] * wt->dims[3]) + i;
    int32_t w = wt->dtype == DT_U8 ? wd[at] : (int8_t)wd[at];
    return (int16_t)(w - qparam_chan(wt->quant, wt->quant->count > 1 ? o : 0).zp);
}

/* The bias of output channel O (0 without one). */
int32_t kf_bias(const KFrame *f, int64_t o)
{
    return f->bv ? ((const int32_t *)f->bv->data)[o] : 0;
}

/* The output stage parameters (as lower_nn.c builds them); false after an
 * error was reported. */
bool kf_stage(Cg *cg, const Node *n, KFrame *f)
{
    if (!f->yt->quant)
        return true;
    f->st = cg_product_stage(cg, n, f->yt, f->xv->type.quant, f->wv->type.quant, f->o, f->rounding);
    if (!f->st)
        return false;
    return true;
}

LLVMValueRef kf_tap_src(Cg *cg, const KFrame *f, LLVMValueRef x, LLVMValueRef zrow, LLVMValueRef bi, LLVMValueRef oy,
                        LLVMValueRef ox, LLVMValueRef ky, LLVMValueRef kx)
{
    LLVMValueRef iy = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, oy, f->sh), cg_mulk(cg, ky, f->dh)), cg_idx(cg, f->pt), "");
    LLVMValueRef ix = LLVMBuildSub(B, cg_add(cg, cg_mulk(cg, ox, f->sw), cg_mulk(cg, kx, f->dw)), cg_idx(cg, f->pl), "");
    LLVMValueRef off = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), f->c);
    if (f->all_valid)
        return cg_gep8(cg, x, off);
    LLVMValueRef ok = LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntULT, iy, cg_idx(cg, f->h), ""),
                                   LLVMBuildICmp(B, LLVMIntULT, ix, cg_idx(cg, f->w), ""), "");
    off = LLVMBuildSelect(B, ok, off, cg_idx(cg, 0), ""); /* the GEP stays in bounds */
    return LLVMBuildSelect(B, ok, cg_gep8(cg, x, off), zrow, "");
}

void kf_store(Cg *cg, const KFrame *f, LLVMValueRef y, LLVMValueRef a, LLVMValueRef o, LLVMValueRef yi)
{
    LLVMValueRef v;
    if (f->st)
        v = cg_outstage(cg, a, f->st, cg_stage_count(f->st, f->o), o, f->rounding);
    else
        v = cg_clamp_i32(cg, a, cg_i32(cg, dtype_traits[f->yt->dtype].min), cg_i32(cg, dtype_traits[f->yt->dtype].max));
    cg_store_int(cg, f->yt->dtype, y, yi, v);
}

/* Requantizes the NACC accumulators ACC (each <LANES x i32>, or an i32 when
 * LANES == 1), lane l of them for channel O0 + l*OSTEP, into the output
 * pixel whose channel 0 is Y[YPIX].  One output stage in a loop over the
 * lanes, so per-channel tables are emitted once per site.  GUARD: skip
 * lanes whose channel is f->o or more (padding channels). */
static void frame_store_lanes(Cg *cg, const KFrame *f, LLVMValueRef y, const LLVMValueRef *acc, int nacc, int lanes,
                              LLVMValueRef o0, int64_t ostep, LLVMValueRef ypix, bool guard)
{
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, (unsigned)(nacc * lanes));
    LLVMValueRef arr = cg_alloca(cg, at, "lanes");
    for (int a = 0; a < nacc; a++) {
        LLVMValueRef idx[2] = {cg_idx(cg, 0), cg_idx(cg, (int64_t)a * lanes)};
        LLVMSetAlignment(LLVMBuildStore(B, acc[a], LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, "")), 4);
    }
    CgLoop ll;
    CgIf in;
    LLVMValueRef l = cg_for_begin(cg, &ll, (int64_t)nacc * lanes, "l");
    LLVMValueRef o = cg_add(cg, o0, cg_mulk(cg, l, ostep));
    if (guard)
        cg_if_begin(cg, &in, LLVMBuildICmp(B, LLVMIntULT, o, cg_idx(cg, f->o), ""));
    LLVMValueRef idx[2] = {cg_idx(cg, 0), l};
    LLVMValueRef v = LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""), "");
    kf_store(cg, f, y, v, o, cg_add(cg, ypix, o));
    if (guard)
        cg_if_end(cg, &in);
    cg_for_end(cg, &ll);
}

/* ------------------------------------------------------------ conv2d (group 1) and dense */

typedef struct ConvK {
    KFrame f;
    const KDot *d;
    bool flip;             /* activations need ^0x80 to be what d wants */
    LLVMValueRef x, w, y;  /* buffers */
    LLVMValueRef bias;     /* i32[O]: bias - zx' * sum w when all taps are valid */
    LLVMValueRef corr;     /* i32[O*KH*KW]: zx' * sum_c w[o,t,c], or NULL */
    LLVMValueRef wmm;      /* weights prepacked for d->mmla (conv_pixel2), or NULL */
    LLVMTypeRef acc_t, acct_t; /* accumulators of d and d->tail */
    int64_t tk;            /* reduction bytes per inner iteration, a multiple of step */
} ConvK;

/* ACC[j] += dot over C channels from XROW and WROW[j], j < TN: a TK loop,
 * then single steps, then scalar channels. */
static void conv_taps(Cg *cg, ConvK *k, LLVMValueRef xrow, LLVMValueRef *wrow, int tn, LLVMValueRef *accv,
                      LLVMValueRef *acct, LLVMValueRef *accs)
{
    const KDot *d = k->d, *td = d->tail;
    int64_t C = k->f.c, step = d->step, tk = k->tk;
    int64_t nk = C / tk, c1 = nk * tk, ns = (C - c1) / step, c2 = c1 + ns * step;
    CgLoop l;
    if (nk > 0) {
        LLVMValueRef ck = cg_mulk(cg, cg_for_begin(cg, &l, nk, "ck"), tk);
        for (int64_t u = 0; u < tk; u += step) {
            LLVMValueRef c = cg_add(cg, ck, cg_idx(cg, u));
            LLVMValueRef xp = cg_gep8(cg, k->x, cg_add(cg, xrow, c));
            for (int j = 0; j < tn; j++) {
                LLVMValueRef wp = cg_gep8(cg, k->w, cg_add(cg, wrow[j], c));
                LLVMBuildStore(B, d->dot(cg, d, ld(cg, accv[j]), xp, wp, k->flip), accv[j]);
            }
        }
        cg_for_end(cg, &l);
    }
    if (ns > 0) {
        LLVMValueRef c = cg_add(cg, cg_mulk(cg, cg_for_begin(cg, &l, ns, "cs"), step), cg_idx(cg, c1));
        LLVMValueRef xp = cg_gep8(cg, k->x, cg_add(cg, xrow, c));
        for (int j = 0; j < tn; j++) {
            LLVMValueRef wp = cg_gep8(cg, k->w, cg_add(cg, wrow[j], c));
            LLVMBuildStore(B, d->dot(cg, d, ld(cg, accv[j]), xp, wp, k->flip), accv[j]);
        }
        cg_for_end(cg, &l);
    }
    /* The narrower instruction for what is left (a 64-byte step leaves up
     * to 63 channels). */
    int64_t nt = td ? (C - c2) / td->step : 0;
    if (nt > 0) {
        LLVMValueRef c = cg_add(cg, cg_mulk(cg, cg_for_begin(cg, &l, nt, "ct"), td->step), cg_idx(cg, c2));
        LLVMValueRef xp = cg_gep8(cg, k->x, cg_add(cg, xrow, c));
        for (int j = 0; j < tn; j++)
            LLVMBuildStore(B, td->dot(cg, td, ld(cg, acct[j]), xp, cg_gep8(cg, k->w, cg_add(cg, wrow[j], c)), k->flip),
                           acct[j]);
        cg_for_end(cg, &l);
        c2 += nt * td->step;
    }
    if (c2 < C) {
        LLVMValueRef c = cg_add(cg, cg_for_begin(cg, &l, C - c2, "cr"), cg_idx(cg, c2));
        LLVMValueRef xb = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, k->x, cg_add(cg, xrow, c)), "");
        if (k->flip)
            xb = kern_flip(cg, xb);
        LLVMValueRef xe = d->x_unsigned ? LLVMBuildZExt(B, xb, cg->t_i32, "") : LLVMBuildSExt(B, xb, cg->t_i32, "");
        for (int j = 0; j < tn; j++) {
            LLVMValueRef we = cg_load_int(cg, DT_I8, k->w, cg_add(cg, wrow[j], c));
            LLVMBuildStore(B, cg_add(cg, ld(cg, accs[j]), LLVMBuildMul(B, xe, we, "")), accs[j]);
        }
        cg_for_end(cg, &l);
    }
}

/* The outputs of pixel P (an idx value < OH*OW) of image BI, channels
 * O0 .. O0+TN. */
static void conv_pixel(Cg *cg, ConvK *k, LLVMValueRef bi, LLVMValueRef p, LLVMValueRef o0, int tn)
{
    const KFrame *f = &k->f;
    LLVMValueRef oy = LLVMBuildUDiv(B, p, cg_idx(cg, f->ow), ""), ox = LLVMBuildURem(B, p, cg_idx(cg, f->ow), "");
    LLVMValueRef accv[8], acct[8], accs[8], wo[8];
    for (int j = 0; j < tn; j++) {
        if (k->d->tail) {
            acct[j] = cg_alloca(cg, k->acct_t, "acct");
            LLVMBuildStore(B, LLVMConstNull(k->acct_t), acct[j]);
        }
        accv[j] = cg_alloca(cg, k->acc_t, "accv");
        accs[j] = cg_alloca(cg, cg->t_i32, "accs");
        LLVMBuildStore(B, LLVMConstNull(k->acc_t), accv[j]);
        LLVMBuildStore(B, cg_load_int(cg, DT_I32, k->bias, cg_add(cg, o0, cg_idx(cg, j))), accs[j]);
        wo[j] = cg_mulk(cg, cg_add(cg, o0, cg_idx(cg, j)), f->kh * f->kw);
    }
    Taps tp;
    taps_begin(cg, f, &tp, oy, ox);
    LLVMValueRef xrow = cg_mulk(cg, taps_pixel(cg, f, &tp, bi), f->c);
    LLVMValueRef t = cg_add(cg, cg_mulk(cg, tp.ky, f->kw), tp.kx), wrow[8];
    for (int j = 0; j < tn; j++)
        wrow[j] = cg_mulk(cg, cg_add(cg, wo[j], t), f->c);
    conv_taps(cg, k, xrow, wrow, tn, accv, acct, accs);
    if (k->corr)
        for (int j = 0; j < tn; j++)
            LLVMBuildStore(B,
                           LLVMBuildSub(B, ld(cg, accs[j]), cg_load_int(cg, DT_I32, k->corr, cg_add(cg, wo[j], t)), ""),
                           accs[j]);
    taps_end(cg, f, &tp);
    /* Reduce each accumulator, then one output stage in a loop over the
     * TN channels (so per-channel tables are emitted once per site). */
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, (unsigned)tn);
    LLVMValueRef arr = cg_alloca(cg, at, "accn");
    for (int j = 0; j < tn; j++) {
        LLVMValueRef v = ld(cg, accv[j]);
        if (LLVMGetTypeKind(k->acc_t) == LLVMVectorTypeKind)
            v = kern_intrinsic(cg, "llvm.vector.reduce.add", &k->acc_t, 1, &v, 1);
        if (k->d->tail) {
            LLVMValueRef vt = ld(cg, acct[j]);
            v = cg_add(cg, v, kern_intrinsic(cg, "llvm.vector.reduce.add", &k->acct_t, 1, &vt, 1));
        }
        LLVMValueRef idx[2] = {cg_idx(cg, 0), cg_idx(cg, j)};
        LLVMBuildStore(B, cg_add(cg, v, ld(cg, accs[j])), LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""));
    }
    CgLoop lj;
    LLVMValueRef j = cg_for_begin(cg, &lj, tn, "j");
    LLVMValueRef idx[2] = {cg_idx(cg, 0), j};
    LLVMValueRef a = LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""), "");
    LLVMValueRef o = cg_add(cg, o0, j);
    LLVMValueRef yi = cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), p), f->o), o);
    kf_store(cg, f, k->y, a, o, yi);
    cg_for_end(cg, &lj);
}

/* Two pixels P and P+1 of image BI, channels O0 .. O0+TN (TN even), with
 * the 2x2 matrix multiply-accumulate (smmla): 8 reduction bytes of both
 * pixels against 8 of two channels give four sums at once.  Only for
 * frames where every tap is valid (no padding reached), so both pixels
 * take the same taps; the weights are prepacked as
 * wmm[(o/2)][t][c/8] = {w[o][t][8 bytes], w[o+1][t][8 bytes]}. */
static void conv_pixel2(Cg *cg, ConvK *k, LLVMValueRef bi, LLVMValueRef p, LLVMValueRef o0, int tn)
{
    const KFrame *f = &k->f;
    const KDot *d = k->d;
    int64_t C = f->c, T = f->kh * f->kw, nc8 = C / 8, crem = C - nc8 * 8;
    LLVMTypeRef v4 = LLVMVectorType(cg->t_i32, 4), v8 = LLVMVectorType(cg->t_i8, 8), v16 = LLVMVectorType(cg->t_i8, 16);
    LLVMValueRef pp[2] = {p, cg_add(cg, p, cg_idx(cg, 1))}, oy[2], ox[2];
    for (int e = 0; e < 2; e++) {
        oy[e] = LLVMBuildUDiv(B, pp[e], cg_idx(cg, f->ow), "");
        ox[e] = LLVMBuildURem(B, pp[e], cg_idx(cg, f->ow), "");
    }
    LLVMValueRef accm[4], accs[2][8];
    for (int jp = 0; jp < tn / 2; jp++) {
        accm[jp] = cg_alloca(cg, v4, "accm");
        LLVMBuildStore(B, LLVMConstNull(v4), accm[jp]);
    }
    for (int e = 0; e < 2; e++)
        for (int j = 0; j < tn; j++) {
            accs[e][j] = cg_alloca(cg, cg->t_i32, "accs2");
            LLVMBuildStore(B, cg_load_int(cg, DT_I32, k->bias, cg_add(cg, o0, cg_idx(cg, j))), accs[e][j]);
        }
    LLVMValueRef cat[16];
    for (int i = 0; i < 16; i++)
        cat[i] = LLVMConstInt(cg->t_i32, (unsigned)i, false);
    LLVMValueRef catm = LLVMConstVector(cat, 16);
    CgLoop lky, lkx, lc;
    LLVMValueRef ky = cg_for_begin(cg, &lky, f->kh, "ky");
    LLVMValueRef kx = cg_for_begin(cg, &lkx, f->kw, "kx");
    LLVMValueRef t = cg_add(cg, cg_mulk(cg, ky, f->kw), kx), xrow[2];
    for (int e = 0; e < 2; e++) {
        LLVMValueRef in;
        LLVMValueRef iy = tap(cg, oy[e], f->sh, f->pt, ky, f->dh, f->h, &in);
        LLVMValueRef ix = tap(cg, ox[e], f->sw, f->pl, kx, f->dw, f->w, &in);
        xrow[e] = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), C);
    }
    if (nc8 > 0) {
        LLVMValueRef cb = cg_for_begin(cg, &lc, nc8, "c8"), c = cg_mulk(cg, cb, 8);
        LLVMValueRef xa = kern_load_vec(cg, v8, cg_gep8(cg, k->x, cg_add(cg, xrow[0], c)));
        LLVMValueRef xb = kern_load_vec(cg, v8, cg_gep8(cg, k->x, cg_add(cg, xrow[1], c)));
        LLVMValueRef a = LLVMBuildShuffleVector(B, xa, xb, catm, "");
        if (k->flip)
            a = kern_flip(cg, a);
        for (int jp = 0; jp < tn / 2; jp++) {
            LLVMValueRef op = cg_add(cg, LLVMBuildUDiv(B, o0, cg_idx(cg, 2), ""), cg_idx(cg, jp));
            LLVMValueRef wi = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, op, T), t), nc8), cb), 16);
            LLVMValueRef b = kern_load_vec(cg, v16, cg_gep8(cg, k->wmm, wi));
            LLVMBuildStore(B, d->mmla(cg, ld(cg, accm[jp]), a, b), accm[jp]);
        }
        cg_for_end(cg, &lc);
    }
    if (crem > 0) {
        LLVMValueRef c = cg_add(cg, cg_for_begin(cg, &lc, crem, "cr"), cg_idx(cg, nc8 * 8));
        for (int e = 0; e < 2; e++) {
            LLVMValueRef xb = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, k->x, cg_add(cg, xrow[e], c)), "");
            if (k->flip)
                xb = kern_flip(cg, xb);
            LLVMValueRef xe = d->x_unsigned ? LLVMBuildZExt(B, xb, cg->t_i32, "") : LLVMBuildSExt(B, xb, cg->t_i32, "");
            for (int j = 0; j < tn; j++) {
                LLVMValueRef wrow = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, o0, cg_idx(cg, j)), T), t), C);
                LLVMValueRef we = cg_load_int(cg, DT_I8, k->w, cg_add(cg, wrow, c));
                LLVMBuildStore(B, cg_add(cg, ld(cg, accs[e][j]), LLVMBuildMul(B, xe, we, "")), accs[e][j]);
            }
        }
        cg_for_end(cg, &lc);
    }
    cg_for_end(cg, &lkx);
    cg_for_end(cg, &lky);
    /* accm[jp] = {p0.o, p0.o+1, p1.o, p1.o+1} for o = o0 + 2jp. */
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, (unsigned)(2 * tn));
    LLVMValueRef arr = cg_alloca(cg, at, "accn2");
    for (int jp = 0; jp < tn / 2; jp++) {
        LLVMValueRef m = ld(cg, accm[jp]);
        for (int l = 0; l < 4; l++) {
            int e = l / 2, j = 2 * jp + l % 2;
            LLVMValueRef v = cg_add(cg, LLVMBuildExtractElement(B, m, cg_i32(cg, l), ""), ld(cg, accs[e][j]));
            LLVMValueRef idx[2] = {cg_idx(cg, 0), cg_idx(cg, e * tn + j)};
            LLVMBuildStore(B, v, LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""));
        }
    }
    CgLoop le, lj;
    LLVMValueRef e = cg_for_begin(cg, &le, 2, "e");
    LLVMValueRef j = cg_for_begin(cg, &lj, tn, "j");
    LLVMValueRef idx[2] = {cg_idx(cg, 0), cg_add(cg, cg_mulk(cg, e, tn), j)};
    LLVMValueRef a = LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""), "");
    LLVMValueRef o = cg_add(cg, o0, j);
    LLVMValueRef yi = cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), cg_add(cg, p, e)), f->o), o);
    kf_store(cg, f, k->y, a, o, yi);
    cg_for_end(cg, &lj);
    cg_for_end(cg, &le);
}

/* Pixels BLK*TM .. of image BI for channels O0 .. O0+TN; two at a time
 * when the target has a 2x2 matrix multiply (PAIRS). */
static void conv_block(Cg *cg, ConvK *k, LLVMValueRef bi, LLVMValueRef blk, LLVMValueRef o0, int tn, bool pairs)
{
    int64_t P = k->f.oh * k->f.ow, tm = k->f.tile[0];
    CgLoop lt;
    CgIf in;
    if (pairs && tm >= 2) {
        /* Pairs of pixels wholly inside the image, then what is left one
         * at a time. */
        LLVMValueRef p = cg_add(cg, cg_mulk(cg, blk, tm), cg_mulk(cg, cg_for_begin(cg, &lt, tm / 2, "t2"), 2));
        LLVMValueRef both = LLVMBuildICmp(B, LLVMIntULT, cg_add(cg, p, cg_idx(cg, 1)), cg_idx(cg, P), "");
        CgIf pi;
        cg_if_begin(cg, &pi, both);
        conv_pixel2(cg, k, bi, p, o0, tn);
        cg_if_end(cg, &pi);
        /* The image's last pixel when the pair would run past it. */
        LLVMValueRef one = LLVMBuildAnd(B, LLVMBuildNot(B, both, ""),
                                        LLVMBuildICmp(B, LLVMIntULT, p, cg_idx(cg, P), ""), "");
        cg_if_begin(cg, &in, one);
        conv_pixel(cg, k, bi, p, o0, tn);
        cg_if_end(cg, &in);
        cg_for_end(cg, &lt);
        if (tm % 2) {
            LLVMValueRef q = cg_add(cg, cg_mulk(cg, blk, tm), cg_idx(cg, tm - 1));
            cg_if_begin(cg, &in, LLVMBuildICmp(B, LLVMIntULT, q, cg_idx(cg, P), ""));
            conv_pixel(cg, k, bi, q, o0, tn);
            cg_if_end(cg, &in);
        }
        return;
    }
    LLVMValueRef p = cg_add(cg, cg_mulk(cg, blk, tm), cg_for_begin(cg, &lt, tm, "t"));
    if (P % tm)
        cg_if_begin(cg, &in, LLVMBuildICmp(B, LLVMIntULT, p, cg_idx(cg, P), ""));
    conv_pixel(cg, k, bi, p, o0, tn);
    if (P % tm)
        cg_if_end(cg, &in);
    cg_for_end(cg, &lt);
}

int64_t kern_conv_min_c(const KDot *d)
{
    return d->tail ? d->tail->step : d->step;
}

bool kf_plain_i8(const Node *n, const KFrame *f)
{
    if (f->wv->type.dtype != DT_I8)
        return false;
    if (n->op == OP_CONV2D && (node_int(n, ATTR_GROUP, 1) != 1 || f->wv->type.dims[3] != f->c))
        return false;
    const Quant *wq = f->wv->type.quant;
    for (int i = 0; i < wq->count; i++)
        if (wq->zero_point[i] != 0)
            return false;
    return true;
}

bool kern_conv(Cg *cg, const Node *n, const KDot *d)
{
    ConvK k = {.d = d};
    KFrame *f = &k.f;
    if (!kf_init(cg, n, f) || !kf_plain_i8(n, f))
        return false;
    if (f->c < kern_conv_min_c(d)) /* no dot step would run: kern_conv_few's case */
        return false;
    if (!kf_stage(cg, n, f))
        return true; /* reported */

    /* zx' (kernel_int8.h): the zero point of the activations as D reads them. */
    bool x_u8 = f->xv->type.dtype == DT_U8;
    k.flip = x_u8 != d->x_unsigned;
    int64_t zxk = f->zx + (k.flip ? (x_u8 ? -128 : 128) : 0);
    int64_t T = f->kh * f->kw, O = f->o, C = f->c;
    /* The weights as [O][T][C] bytes: the constant itself, or matmul's
     * b[K][N] transposed. */
    int8_t *wtr = NULL;
    const int8_t *wd = f->wv->data;
    if (n->op == OP_MATMUL) {
        wtr = xmalloc((size_t)(O * C));
        for (int64_t o = 0; o < O; o++)
            for (int64_t c = 0; c < C; c++)
                wtr[o * C + c] = wd[c * O + o];
        wd = wtr;
    }
    const int32_t *bd = f->bv ? f->bv->data : NULL;
    int32_t *bias = xmalloc((size_t)O * sizeof *bias), *corr = xmalloc((size_t)(O * T) * sizeof *corr);
    for (int64_t o = 0; o < O; o++) {
        uint32_t b = bd ? (uint32_t)bd[o] : 0;
        for (int64_t t = 0; t < T; t++) {
            int64_t s = 0;
            for (int64_t c = 0; c < C; c++)
                s += wd[(o * T + t) * C + c];
            corr[o * T + t] = (int32_t)(uint32_t)(zxk * s);
            if (f->all_valid)
                b -= (uint32_t)corr[o * T + t]; /* wraps like the generated adds */
        }
        bias[o] = (int32_t)b;
    }
    k.x = cg_buf(cg, f->xv);
    k.w = wtr ? cg_rodata(cg, wtr, (size_t)(O * C), 16, "kwt") : cg_buf(cg, f->wv);
    k.y = cg_buf(cg, n->result);
    k.bias = cg_table_i32(cg, bias, O, "kbias");
    k.corr = f->all_valid || zxk == 0 ? NULL : cg_table_i32(cg, corr, O * T, "kcorr");
    free(bias);
    free(corr);
    k.acc_t = d->acc_type(cg, d);
    if (d->tail)
        k.acct_t = d->tail->acc_type(cg, d->tail);

    /* The tile: m pixels per block, n channels per register block (at
     * most 8), k reduction bytes per inner iteration (a multiple of the
     * step). */
    int64_t P = f->oh * f->ow;
    f->tile[0] = f->tile[0] < 1 ? 1 : f->tile[0] > P ? P : f->tile[0];
    int tn = (int)(f->tile[1] < 1 ? 1 : f->tile[1] > 8 ? 8 : f->tile[1]);
    if (tn > O)
        tn = (int)O;
    /* The 2x2 path: every tap valid, channel pairs, a pixel pair, 8 bytes. */
    bool pairs = d->mmla && f->all_valid && tn >= 2 && f->tile[0] >= 2 && f->c >= 8;
    if (pairs) {
        tn &= ~1;
        int64_t nc8 = f->c / 8, nop = O / 2;
        int8_t *pk = xmalloc((size_t)(nop * T * nc8 * 16));
        for (int64_t op = 0; op < nop; op++)
            for (int64_t t = 0; t < T; t++)
                for (int64_t cb = 0; cb < nc8; cb++)
                    for (int r = 0; r < 2; r++)
                        memcpy(pk + (((op * T + t) * nc8 + cb) * 16 + r * 8),
                               wd + ((2 * op + r) * T + t) * f->c + cb * 8, 8);
        k.wmm = cg_rodata(cg, pk, (size_t)(nop * T * nc8 * 16), 16, "kwmm");
        free(pk);
    }
    k.tk = f->tile[2] / d->step * d->step;
    if (k.tk < d->step)
        k.tk = d->step;
    if (k.tk > 8 * d->step)
        k.tk = 8 * d->step;

    int64_t nblk = (P + f->tile[0] - 1) / f->tile[0], nob = O / tn, orem = O % tn;
    CgLoop lb, lblk, lo;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    LLVMValueRef blk = cg_for_begin(cg, &lblk, nblk, "blk");
    LLVMValueRef o0 = cg_mulk(cg, cg_for_begin(cg, &lo, nob, "ob"), tn);
    conv_block(cg, &k, bi, blk, o0, tn, pairs);
    cg_for_end(cg, &lo);
    if (orem) {
        o0 = cg_add(cg, cg_for_begin(cg, &lo, orem, "or"), cg_idx(cg, nob * tn));
        conv_block(cg, &k, bi, blk, o0, 1, false);
        cg_for_end(cg, &lo);
    }
    cg_for_end(cg, &lblk);
    cg_for_end(cg, &lb);
    free(wtr);
    free(f->st);
    return true;
}

/* ------------------------------------------------------------ conv2d with few input channels */

/* A conv2d whose input has fewer channels than one dot step (a 1- or
 * 3-channel first layer) has no reduction to vectorize over: it is
 * vectorized over output channels instead.  The reduction index
 * r = (ky*KW + kx)*C + c runs over R = KH*KW*C values, all unrolled; the
 * weights are repacked at compile time to [r][o] as i16 with their zero
 * point removed (any zw works), the output channels padded with zeros to
 * a whole number of vectors.  Each output pixel computes its R activation
 * values x - zx once (0 for a tap in the padding, which the interpreter
 * skips), broadcasts each to every lane and multiply-accumulates it with
 * the vector of that r's weights.  With D->mac2 the values are taken two
 * at a time: the weights are interleaved at compile time as
 * [r/2][o][r%2], the activation pair packed into one i32 word, which
 * splats to {x0, x1, x0, x1, ...} as i16 lanes, and one
 * pmaddwd/vpdpwssd/smlad adds both products to each channel.  Products of
 * two values in [-255, 255] and sums of two of them are exact in i32. */
typedef struct FewK {
    KFrame f;
    const KDw *d;
    int64_t R, OP;          /* reduction length; output channels padded to lanes */
    bool pairs;             /* through d->mac2 */
    LLVMValueRef x, y, wr, br;
    bool vstore;            /* the vector epilogue (i8/u8 result, vector lanes) */
    KRequant rq;            /* its stages, padded to OP */
    OutStage *stp;          /* the padded stages rq reads (owned) */
} FewK;

/* The vector epilogue of a conv_few block: ACC (<lanes x i32>) of output
 * channels O0 .. O0+LANES requantized (kernel_requant.c) and stored as
 * bytes at Y[YPIX + O0]; lanes past O (the padding channels of the last
 * vector) are masked off. */
static void few_store_vec(Cg *cg, FewK *k, LLVMValueRef acc, LLVMValueRef o0, LLVMValueRef ypix)
{
    int lanes = k->d->lanes;
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, (unsigned)lanes);
    LLVMValueRef b = LLVMBuildTrunc(B, kern_requant(cg, &k->rq, acc, o0), t8, "");
    LLVMValueRef p = cg_gep8(cg, k->y, cg_add(cg, ypix, o0));
    if (k->OP == k->f.o) {
        LLVMSetAlignment(LLVMBuildStore(B, b, p), 1);
        return;
    }
    LLVMValueRef e[64];
    for (int l = 0; l < lanes; l++)
        e[l] = cg_idx(cg, l);
    LLVMTypeRef it = LLVMTypeOf(e[0]), vt = LLVMVectorType(it, (unsigned)lanes);
    LLVMValueRef os = LLVMBuildInsertElement(B, LLVMGetUndef(vt), o0, cg_i32(cg, 0), "");
    os = LLVMBuildShuffleVector(B, os, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, (unsigned)lanes)), "");
    LLVMValueRef lim = LLVMBuildInsertElement(B, LLVMGetUndef(vt), cg_idx(cg, k->f.o), cg_i32(cg, 0), "");
    lim = LLVMBuildShuffleVector(B, lim, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, (unsigned)lanes)), "");
    LLVMValueRef mask = LLVMBuildICmp(B, LLVMIntULT, LLVMBuildAdd(B, os, LLVMConstVector(e, (unsigned)lanes), ""), lim, "");
    LLVMTypeRef ptr = LLVMTypeOf(p);
    LLVMTypeRef over[2] = {t8, ptr};
    LLVMValueRef args[4] = {b, p, cg_i32(cg, 1), mask};
    kern_intrinsic(cg, "llvm.masked.store", over, 2, args, 4);
}

enum { FEW_MAX_R = 256 };   /* a 7x7 RGB stem is 147; past this, unrolling is not worth the code */

/* NV vectors of output channels O0 .. O0 + NV*LANES for pixel YPIX (the
 * output index of its channel 0) from the activation values XS (R of them:
 * i16 splats for d->mac, i32 pair words or their splats for d->mac2). */
static void few_block(Cg *cg, FewK *k, LLVMValueRef *xs, LLVMValueRef o0, int nv, LLVMValueRef ypix)
{
    const KFrame *f = &k->f;
    int lanes = k->d->lanes;
    LLVMTypeRef t32 = vec(cg->t_i32, lanes);
    LLVMValueRef acc[8];
    for (int j = 0; j < nv; j++) {
        LLVMValueRef oj = cg_add(cg, o0, cg_idx(cg, (int64_t)j * lanes));
        acc[j] = LLVMBuildLoad2(B, t32, gep(cg, cg->t_i32, k->br, oj), "");
        LLVMSetAlignment(acc[j], 4);
    }
    int64_t steps = k->pairs ? (k->R + 1) / 2 : k->R;
    for (int64_t r = 0; r < steps; r++)
        for (int j = 0; j < nv; j++) {
            /* wr is [r][OP] i16, or [r/2][OP] pairs of i16 (an i32 each). */
            LLVMValueRef oj = cg_add(cg, cg_idx(cg, r * k->OP + (int64_t)j * lanes), o0);
            if (k->pairs) {
                LLVMTypeRef wt = lanes == 1 ? cg->t_i32 : vec(cg->t_i16, 2 * lanes);
                LLVMValueRef w2 = LLVMBuildLoad2(B, wt, gep(cg, cg->t_i32, k->wr, oj), "");
                LLVMSetAlignment(w2, lanes == 1 ? 4 : 2);
                acc[j] = k->d->mac2(cg, acc[j], xs[r], w2);
            } else {
                LLVMValueRef w = LLVMBuildLoad2(B, vec(cg->t_i16, lanes), gep(cg, cg->t_i16, k->wr, oj), "");
                LLVMSetAlignment(w, 2);
                acc[j] = k->d->mac(cg, acc[j], xs[r], w);
            }
        }
    if (k->vstore) {
        for (int j = 0; j < nv; j++)
            few_store_vec(cg, k, acc[j], cg_add(cg, o0, cg_idx(cg, (int64_t)j * lanes)), ypix);
        return;
    }
    frame_store_lanes(cg, f, k->y, acc, nv, lanes, o0, 1, ypix, k->OP != f->o);
}

/* Output pixel (OY, OX) of image BI: the activation values, then every
 * block of output channels. */
static void few_pixel(Cg *cg, FewK *k, LLVMValueRef bi, LLVMValueRef oy, LLVMValueRef ox)
{
    const KFrame *f = &k->f;
    int lanes = k->d->lanes;
    int64_t C = f->c, R = k->R;
    LLVMValueRef *xv = xmalloc((size_t)(R + 1) * sizeof *xv);
    LLVMValueRef zx = cg_i32(cg, f->zx);
    for (int64_t t = 0; t < f->kh * f->kw; t++) {
        LLVMValueRef iny, inx;
        LLVMValueRef iy = tap(cg, oy, f->sh, f->pt, cg_idx(cg, t / f->kw), f->dh, f->h, &iny);
        LLVMValueRef ix = tap(cg, ox, f->sw, f->pl, cg_idx(cg, t % f->kw), f->dw, f->w, &inx);
        LLVMValueRef valid = LLVMBuildAnd(B, iny, inx, "");
        LLVMValueRef xi = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), C);
        if (!f->all_valid) /* a tap in the padding reads channel 0 of image 0, then contributes 0 */
            xi = LLVMBuildSelect(B, valid, xi, cg_idx(cg, 0), "");
        for (int64_t c = 0; c < C; c++) {
            LLVMValueRef x = cg_load_int(cg, f->xv->type.dtype, k->x, cg_add(cg, xi, cg_idx(cg, c)));
            LLVMValueRef v = LLVMBuildSub(B, x, zx, "");
            xv[t * C + c] = f->all_valid ? v : LLVMBuildSelect(B, valid, v, cg_i32(cg, 0), "");
        }
    }
    xv[R] = cg_i32(cg, 0); /* the partner of an odd last value */
    /* What d's instruction takes, computed once for all channel blocks. */
    int64_t steps = k->pairs ? (R + 1) / 2 : R;
    LLVMValueRef *xs = xmalloc((size_t)steps * sizeof *xs);
    for (int64_t r = 0; r < steps; r++) {
        LLVMValueRef s;
        if (k->pairs)
            s = LLVMBuildOr(B, LLVMBuildAnd(B, xv[2 * r], cg_i32(cg, 0xffff), ""),
                            LLVMBuildShl(B, xv[2 * r + 1], cg_i32(cg, 16), ""), "");
        else
            s = LLVMBuildTrunc(B, xv[r], cg->t_i16, "");
        if (lanes > 1) {
            LLVMTypeRef vt = vec(LLVMTypeOf(s), lanes);
            s = LLVMBuildInsertElement(B, LLVMGetUndef(vt), s, cg_i32(cg, 0), "");
            s = LLVMBuildShuffleVector(B, s, LLVMGetUndef(vt), LLVMConstNull(vec(cg->t_i32, lanes)), "");
            if (k->pairs)
                s = LLVMBuildBitCast(B, s, vec(cg->t_i16, 2 * lanes), "");
        }
        xs[r] = s;
    }
    free(xv);
    /* Blocks of NB vectors, then the vectors left over: at most 4
     * accumulators and 32 i32 lanes, which stay in registers (4 xmm or ymm
     * on x86, 8 q registers on NEON, two LMUL-4 groups on RVV at VLEN 128,
     * 4 core registers on Cortex-M); 16 channels are one block on every
     * vector target. */
    LLVMValueRef ypix = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh), oy), f->ow), ox), f->o);
    int64_t nvec = k->OP / lanes;
    int nb = lanes >= 32 ? 1 : 32 / lanes > 4 ? 4 : 32 / lanes;
    if (nb > nvec)
        nb = (int)nvec;
    int64_t nblk = nvec / nb, vrem = nvec % nb;
    CgLoop lo;
    LLVMValueRef o0 = cg_mulk(cg, cg_for_begin(cg, &lo, nblk, "ob"), (int64_t)nb * lanes);
    few_block(cg, k, xs, o0, nb, ypix);
    cg_for_end(cg, &lo);
    if (vrem)
        few_block(cg, k, xs, cg_idx(cg, nblk * nb * lanes), (int)vrem, ypix);
    free(xs);
}

bool kern_conv_few(Cg *cg, const Node *n, int64_t max_c, const KDw *d)
{
    FewK k = {.d = d};
    KFrame *f = &k.f;
    if (!d || n->op != OP_CONV2D || !kf_init(cg, n, f))
        return false;
    if (node_int(n, ATTR_GROUP, 1) != 1 || f->wv->type.dims[3] != f->c || f->c > max_c)
        return false;
    k.R = f->kh * f->kw * f->c;
    k.pairs = d->mac2 != NULL;
    if (k.R > FEW_MAX_R || (!k.pairs && !d->mac) || d->lanes < 1 || d->lanes > 64)
        return false;
    if (!kf_stage(cg, n, f))
        return true; /* reported */
    int lanes = d->lanes;
    int64_t O = f->o, R = k.R, OP = (O + lanes - 1) / lanes * lanes, RP = k.pairs ? (R + 1) / 2 * 2 : R;
    k.OP = OP;
    int16_t *wr = xcalloc((size_t)(RP * OP), sizeof *wr);
    int32_t *br = xcalloc((size_t)OP, sizeof *br);
    for (int64_t o = 0; o < O; o++) {
        for (int64_t r = 0; r < R; r++) {
            /* OHWI weights are [o][r]; pairs interleave two r's per channel. */
            int64_t at = k.pairs ? ((r / 2) * OP + o) * 2 + r % 2 : r * OP + o;
            wr[at] = kf_weight(f, o, r);
        }
        br[o] = kf_bias(f, o);
    }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.wr = cg_rodata(cg, wr, (size_t)(RP * OP) * sizeof *wr, 16, "kfew");
    k.br = cg_table_i32(cg, br, OP, "kfewbias");
    free(wr);
    free(br);
    /* Vector lanes and an i8/u8 result: the vector epilogue, its
     * per-channel stages padded to OP (the padding lanes are not stored). */
    k.vstore = lanes > 1 && f->st && (f->yt->dtype == DT_I8 || f->yt->dtype == DT_U8);
    if (k.vstore) {
        int64_t nst = cg_stage_count(f->st, O);
        if (nst > 1) {
            k.stp = xmalloc((size_t)OP * sizeof *k.stp);
            for (int64_t o = 0; o < OP; o++)
                k.stp[o] = f->st[o < O ? o : O - 1];
            nst = OP;
        }
        kern_requant_init(cg, &k.rq, k.stp ? k.stp : f->st, nst, f->rounding);
    }
    CgLoop lb, ly, lx;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    LLVMValueRef oy = cg_for_begin(cg, &ly, f->oh, "oy");
    LLVMValueRef ox = cg_for_begin(cg, &lx, f->ow, "ox");
    few_pixel(cg, &k, bi, oy, ox);
    cg_for_end(cg, &lx);
    cg_for_end(cg, &ly);
    cg_for_end(cg, &lb);
    free(k.stp);
    free(f->st);
    return true;
}

/* ------------------------------------------------------------ depthwise */

/* Weights are repacked at compile time to wr[t][j][c] = w[c*M+j][t] - zw
 * as i16 (contiguous over channels, zero point removed) and the bias to
 * br[j][c]; a pixel's LANES channels then take one vector load per tap. */
typedef struct DwK {
    KFrame f;
    const KDw *d;
    int64_t m;                    /* channel multiplier: O = C * m */
    LLVMValueRef x, wr, br, y;
} DwK;

/* Channels C0 .. C0+LANES (multiplier index J) of pixel P of image BI. */
static void dw_lanes(Cg *cg, DwK *k, LLVMValueRef bi, LLVMValueRef p, LLVMValueRef j, LLVMValueRef c0, int lanes)
{
    const KFrame *f = &k->f;
    const KDw *d = k->d;
    int64_t C = f->c;
    LLVMTypeRef t8 = vec(cg->t_i8, lanes), t16 = vec(cg->t_i16, lanes), t32 = vec(cg->t_i32, lanes);
    LLVMValueRef oy = LLVMBuildUDiv(B, p, cg_idx(cg, f->ow), ""), ox = LLVMBuildURem(B, p, cg_idx(cg, f->ow), "");
    LLVMValueRef acc = cg_alloca(cg, t32, "dacc");
    LLVMValueRef jc = cg_add(cg, cg_mulk(cg, j, C), c0);
    LLVMValueRef bv = LLVMBuildLoad2(B, t32, gep(cg, cg->t_i32, k->br, jc), "");
    LLVMSetAlignment(bv, 4);
    LLVMBuildStore(B, bv, acc);
    LLVMValueRef zx = splat(cg, cg->t_i16, lanes, f->zx);
    Taps tp;
    taps_begin(cg, f, &tp, oy, ox);
    LLVMValueRef xi = cg_add(cg, cg_mulk(cg, taps_pixel(cg, f, &tp, bi), C), c0);
    LLVMValueRef xv = kern_load_vec(cg, t8, cg_gep8(cg, k->x, xi));
    xv = f->xv->type.dtype == DT_U8 ? LLVMBuildZExt(B, xv, t16, "") : LLVMBuildSExt(B, xv, t16, "");
    xv = LLVMBuildSub(B, xv, zx, "");
    LLVMValueRef t = cg_add(cg, cg_mulk(cg, tp.ky, f->kw), tp.kx);
    LLVMValueRef wi = cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, t, k->m), j), C), c0);
    LLVMValueRef wv = LLVMBuildLoad2(B, t16, gep(cg, cg->t_i16, k->wr, wi), "");
    LLVMSetAlignment(wv, 2);
    LLVMBuildStore(B, d->mac(cg, ld(cg, acc), xv, wv), acc);
    taps_end(cg, f, &tp);
    /* Channel (c0 + l)*m + j for lane l. */
    LLVMValueRef a = ld(cg, acc);
    frame_store_lanes(cg, f, k->y, &a, 1, lanes, cg_add(cg, cg_mulk(cg, c0, k->m), j), k->m,
                      cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), p), f->o), false);
}

bool kern_depthwise(Cg *cg, const Node *n, const KDw *d)
{
    DwK k = {.d = d};
    KFrame *f = &k.f;
    if (!d || d->lanes < 1 || n->op != OP_CONV2D || !kf_init(cg, n, f))
        return false;
    int64_t group = node_int(n, ATTR_GROUP, 1);
    /* Fewer channels than lanes: no vector step would run, and the
     * generic loops are as good. */
    if (group != f->c || f->wv->type.dims[3] != 1 || f->o % f->c != 0 || f->c < d->lanes)
        return false;
    if (!kf_stage(cg, n, f))
        return true;
    k.m = f->o / f->c;
    int64_t T = f->kh * f->kw, C = f->c, M = k.m, O = f->o;
    int16_t *wr = xmalloc((size_t)(T * O) * sizeof *wr);
    int32_t *br = xmalloc((size_t)O * sizeof *br);
    for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < M; j++) {
            int64_t o = c * M + j;
            for (int64_t t = 0; t < T; t++)
                wr[(t * M + j) * C + c] = kf_weight(f, o, t);
            br[j * C + c] = kf_bias(f, o);
        }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.wr = cg_rodata(cg, wr, (size_t)(T * O) * sizeof *wr, 16, "kdw");
    k.br = cg_table_i32(cg, br, O, "kdwbias");
    free(wr);
    free(br);
    int lanes = d->lanes;
    int64_t nv = C / lanes, crem = C % lanes, P = f->oh * f->ow;
    CgLoop lb, lp, lj, lc;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    LLVMValueRef p = cg_for_begin(cg, &lp, P, "p");
    LLVMValueRef j = cg_for_begin(cg, &lj, M, "j");
    if (nv > 0) {
        LLVMValueRef c0 = cg_mulk(cg, cg_for_begin(cg, &lc, nv, "cv"), lanes);
        dw_lanes(cg, &k, bi, p, j, c0, lanes);
        cg_for_end(cg, &lc);
    }
    if (crem > 0) {
        LLVMValueRef c0 = cg_add(cg, cg_for_begin(cg, &lc, crem, "cr"), cg_idx(cg, nv * lanes));
        dw_lanes(cg, &k, bi, p, j, c0, 1);
        cg_for_end(cg, &lc);
    }
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lp);
    cg_for_end(cg, &lb);
    free(f->st);
    return true;
}

/* ------------------------------------------------------------ depthwise by pairs of taps */

/* For instructions that sum two 16-bit products into each 32-bit lane
 * (smlad on one word, pmaddwd on vectors): each channel's taps are taken
 * two at a time.  The weight pairs are packed at compile time as
 * wp[pair][j][c] = {w[t0], w[t1]} (i16 halves, zero point removed, so an
 * i32 word on Cortex-M and interleaved i16 lanes on vectors), the
 * activation pairs at run time; a tap in the padding contributes 0.  The
 * taps are unrolled, so validity and addresses are invariant in the
 * channel loop. */
typedef struct DwP {
    KFrame f;
    const KDw *d;
    int64_t T, M, NP;
    LLVMValueRef x, y, wp, br;
    LLVMValueRef *base, *valid; /* per tap: activation offset of channel 0, inside the image */
} DwP;

/* The interleaving {a0, b0, a1, b1, ...} of two <L x i16> vectors. */
static LLVMValueRef interleave(Cg *cg, LLVMValueRef a, LLVMValueRef b, int lanes)
{
    LLVMValueRef m[128];
    for (int i = 0; i < lanes; i++) {
        m[2 * i] = LLVMConstInt(cg->t_i32, (unsigned)i, false);
        m[2 * i + 1] = LLVMConstInt(cg->t_i32, (unsigned)(lanes + i), false);
    }
    return LLVMBuildShuffleVector(B, a, b, LLVMConstVector(m, (unsigned)(2 * lanes)), "");
}

LLVMValueRef kern_pair_madd(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2)
{
    LLVMTypeRef at = LLVMTypeOf(acc);
    int lanes = (int)LLVMGetVectorSize(at);
    LLVMValueRef ev[64], od[64];
    for (int i = 0; i < lanes; i++) {
        ev[i] = LLVMConstInt(cg->t_i32, (unsigned)(2 * i), false);
        od[i] = LLVMConstInt(cg->t_i32, (unsigned)(2 * i + 1), false);
    }
    LLVMValueRef me = LLVMConstVector(ev, (unsigned)lanes), mo = LLVMConstVector(od, (unsigned)lanes);
    LLVMValueRef u = LLVMGetUndef(LLVMTypeOf(x2));
    LLVMValueRef xe = LLVMBuildSExt(B, LLVMBuildShuffleVector(B, x2, u, me, ""), at, "");
    LLVMValueRef xo = LLVMBuildSExt(B, LLVMBuildShuffleVector(B, x2, u, mo, ""), at, "");
    LLVMValueRef we = LLVMBuildSExt(B, LLVMBuildShuffleVector(B, w2, u, me, ""), at, "");
    LLVMValueRef wo = LLVMBuildSExt(B, LLVMBuildShuffleVector(B, w2, u, mo, ""), at, "");
    LLVMValueRef s = LLVMBuildAdd(B, LLVMBuildMul(B, xe, we, ""), LLVMBuildMul(B, xo, wo, ""), "");
    return LLVMBuildAdd(B, acc, s, "");
}

/* Channels C0 .. C0+LANES of multiplier index J: LANES > 1 vectors through
 * D->mac2, LANES == 1 one word (D->mac2 when the target packs words, e.g.
 * smlad; plain i32 arithmetic for a vector target's tail channels). */
static void dwp_lanes(Cg *cg, DwP *k, LLVMValueRef bi, LLVMValueRef p, LLVMValueRef j, LLVMValueRef c0, int lanes,
                      bool word_mac)
{
    const KFrame *f = &k->f;
    int64_t C = f->c;
    bool u8 = f->xv->type.dtype == DT_U8;
    LLVMValueRef jc = cg_add(cg, cg_mulk(cg, j, C), c0), acc;
    if (lanes > 1) {
        LLVMTypeRef t32 = vec(cg->t_i32, lanes);
        acc = LLVMBuildLoad2(B, t32, gep(cg, cg->t_i32, k->br, jc), "");
        LLVMSetAlignment(acc, 4);
    } else {
        acc = cg_load_int(cg, DT_I32, k->br, jc);
    }
    LLVMValueRef zx16 = splat(cg, cg->t_i16, lanes, f->zx), zx32 = cg_i32(cg, f->zx);
    for (int64_t q = 0; q < k->NP; q++) {
        LLVMValueRef h[2];
        for (int e = 0; e < 2; e++) {
            int64_t t = 2 * q + e;
            if (lanes > 1) {
                LLVMTypeRef t16 = vec(cg->t_i16, lanes);
                if (t >= k->T) {
                    h[e] = LLVMConstNull(t16);
                    continue;
                }
                LLVMValueRef v = kern_load_vec(cg, vec(cg->t_i8, lanes), cg_gep8(cg, k->x, cg_add(cg, k->base[t], c0)));
                v = u8 ? LLVMBuildZExt(B, v, t16, "") : LLVMBuildSExt(B, v, t16, "");
                h[e] = LLVMBuildSelect(B, k->valid[t], LLVMBuildSub(B, v, zx16, ""), LLVMConstNull(t16), "");
            } else {
                if (t >= k->T) {
                    h[e] = cg_i32(cg, 0);
                    continue;
                }
                LLVMValueRef v = cg_load_int(cg, f->xv->type.dtype, k->x, cg_add(cg, k->base[t], c0));
                h[e] = LLVMBuildSelect(B, k->valid[t], LLVMBuildSub(B, v, zx32, ""), cg_i32(cg, 0), "");
            }
        }
        /* wp is i16 pairs: element 2*((q*M + j)*C + c) + half. */
        LLVMValueRef wi = cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_idx(cg, q), k->M), j), C), c0);
        if (lanes > 1) {
            LLVMValueRef w2 = LLVMBuildLoad2(B, vec(cg->t_i16, 2 * lanes), gep(cg, cg->t_i32, k->wp, wi), "");
            LLVMSetAlignment(w2, 2);
            acc = k->d->mac2(cg, acc, interleave(cg, h[0], h[1], lanes), w2);
        } else if (word_mac) {
            LLVMValueRef x2 = LLVMBuildOr(B, LLVMBuildAnd(B, h[0], cg_i32(cg, 0xffff), ""),
                                          LLVMBuildShl(B, h[1], cg_i32(cg, 16), ""), "");
            acc = k->d->mac2(cg, acc, x2, cg_load_int(cg, DT_I32, k->wp, wi));
        } else {
            LLVMValueRef w0 = cg_load_int(cg, DT_I16, k->wp, cg_mulk(cg, wi, 2));
            LLVMValueRef w1 = cg_load_int(cg, DT_I16, k->wp, cg_add(cg, cg_mulk(cg, wi, 2), cg_idx(cg, 1)));
            acc = cg_add(cg, acc, cg_add(cg, LLVMBuildMul(B, h[0], w0, ""), LLVMBuildMul(B, h[1], w1, "")));
        }
    }
    LLVMValueRef y = k->y;
    if (lanes == 1) {
        LLVMValueRef o = cg_add(cg, cg_mulk(cg, c0, k->M), j);
        kf_store(cg, f, y, acc, o, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), p), f->o), o));
        return;
    }
    frame_store_lanes(cg, f, y, &acc, 1, lanes, cg_add(cg, cg_mulk(cg, c0, k->M), j), k->M,
                      cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->oh * f->ow), p), f->o), false);
}

bool kern_depthwise_pairs(Cg *cg, const Node *n, const KDw *d)
{
    DwP k = {.d = d};
    KFrame *f = &k.f;
    if (!d || !d->mac2 || n->op != OP_CONV2D || !kf_init(cg, n, f))
        return false;
    int64_t group = node_int(n, ATTR_GROUP, 1);
    k.T = f->wv->type.dims[1] * f->wv->type.dims[2];
    int lanes = d->lanes;
    if (group != f->c || f->wv->type.dims[3] != 1 || f->o % f->c != 0 || k.T < 2 || k.T > 64 || f->c < lanes ||
        lanes > 64)
        return false;
    if (!kf_stage(cg, n, f))
        return true;
    int64_t C = f->c, M = f->o / f->c, O = f->o, T = k.T, NP = (T + 1) / 2;
    k.M = M, k.NP = NP;
    int16_t *wp = xcalloc((size_t)(2 * NP * O), sizeof *wp);
    int32_t *br = xmalloc((size_t)O * sizeof *br);
    for (int64_t c = 0; c < C; c++)
        for (int64_t j = 0; j < M; j++) {
            int64_t o = c * M + j;
            for (int64_t t = 0; t < T; t++)
                wp[2 * (((t / 2) * M + j) * C + c) + t % 2] = kf_weight(f, o, t);
            br[j * C + c] = kf_bias(f, o);
        }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.wp = cg_rodata(cg, wp, (size_t)(2 * NP * O) * sizeof *wp, 16, "kdwp");
    k.br = cg_table_i32(cg, br, O, "kdwbias");
    free(wp);
    free(br);
    CgLoop lb, lp, lj, lc;
    LLVMValueRef bi = cg_for_begin(cg, &lb, f->n, "b");
    LLVMValueRef p = cg_for_begin(cg, &lp, f->oh * f->ow, "p");
    LLVMValueRef oy = LLVMBuildUDiv(B, p, cg_idx(cg, f->ow), ""), ox = LLVMBuildURem(B, p, cg_idx(cg, f->ow), "");
    k.base = xmalloc((size_t)T * sizeof *k.base);
    k.valid = xmalloc((size_t)T * sizeof *k.valid);
    for (int64_t t = 0; t < T; t++) {
        LLVMValueRef iny, inx;
        LLVMValueRef iy = tap(cg, oy, f->sh, f->pt, cg_idx(cg, t / f->kw), f->dh, f->h, &iny);
        LLVMValueRef ix = tap(cg, ox, f->sw, f->pl, cg_idx(cg, t % f->kw), f->dw, f->w, &inx);
        k.valid[t] = LLVMBuildAnd(B, iny, inx, "");
        LLVMValueRef xi = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, cg_mulk(cg, bi, f->h), iy), f->w), ix), C);
        k.base[t] = LLVMBuildSelect(B, k.valid[t], xi, cg_idx(cg, 0), "");
    }
    LLVMValueRef j = cg_for_begin(cg, &lj, M, "j");
    int64_t nv = C / lanes, crem = C % lanes;
    LLVMValueRef c0 = cg_mulk(cg, cg_for_begin(cg, &lc, nv, "cv"), lanes);
    dwp_lanes(cg, &k, bi, p, j, c0, lanes, lanes == 1);
    cg_for_end(cg, &lc);
    if (crem > 0) {
        c0 = cg_add(cg, cg_for_begin(cg, &lc, crem, "cr"), cg_idx(cg, nv * lanes));
        dwp_lanes(cg, &k, bi, p, j, c0, 1, false);
        cg_for_end(cg, &lc);
    }
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lp);
    cg_for_end(cg, &lb);
    free(k.base);
    free(k.valid);
    free(f->st);
    return true;
}

/* ------------------------------------------------------------ selection */

const char *kern_select(Cg *cg, const Node *n, const KSet *s)
{
    const char *skeleton = NULL;
    cg->kernel_tile[0] = 0;
    if (s->gemm && kern_conv_gemm(cg, n, s->gemm))
        skeleton = "conv_gemm";
    else if (s->dot && kern_conv(cg, n, s->dot))
        skeleton = "conv_dot";
    else if (s->mm && kern_matmul_gemm(cg, n, s->mm))
        skeleton = "matmul_gemm";
    else if (s->few && s->few_max_c > 0 && kern_conv_few(cg, n, s->few_max_c, s->few))
        skeleton = "conv_few";
    else if (s->dw_rows && kern_dw_rows(cg, n, s->dw_rows))
        skeleton = s->dw_rows->mac2 && !cg->kernel_tile[0] ? "dw_rowpairs" : "dw_rows"; /* with a tile: dw_rows' 4 taps a lane */
    else if (s->dw && s->dw->mac2 && kern_depthwise_pairs(cg, n, s->dw))
        skeleton = "dw_pairs";
    else if (s->dw && !s->dw->mac2 && kern_depthwise(cg, n, s->dw))
        skeleton = "dw";
    if (!skeleton)
        return NULL;
    if (cg->kernel_tile[0])
        snprintf(cg->kernel, sizeof cg->kernel, "%s_%s_%s", skeleton, cg->kernel_tile, s->isa);
    else
        snprintf(cg->kernel, sizeof cg->kernel, "%s_%s", skeleton, s->isa);
    return cg->kernel;
}
