/* interp_nn.c - reference kernels for conv2d, dense, matmul and pooling.
 *
 * Layouts (docs/ir.md): activations NHWC, conv weights OHWI
 * [O, KH, KW, C/group], dense weights [M, K].  dense is run as a 1x1
 * convolution of [N,1,1,K] with [M,1,1,K] - the same bytes - so both share
 * one kernel.
 *
 * Quantized accumulation (ONNX QLinearConv / ConvInteger, TFLite CONV_2D):
 *   acc[o] = bias[o] + sum (x - zx) * (w - zw[o])
 * computed exactly (operands are pre-shifted into int32, products summed in
 * int32 when a bound proves it cannot overflow, in int64 otherwise) and
 * required to fit int32, then requantized by an OutStage (interp.c).
 * Float convolution accumulates in float32 in (kh, kw, c) order from 0 and
 * adds the bias last.
 */
#include "interp.h"

#include <stdlib.h>
#include <string.h>

/* A sliding window over an NHWC input: convolution (weights OHWI) and
 * pooling (o, cg and group unused). */
typedef struct WinGeom {
    int64_t n, h, w, c;    /* input NHWC */
    int64_t o, kh, kw, cg; /* weights OHWI; cg = C / group */
    int64_t oh, ow;        /* output spatial size */
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t group;
} WinGeom;

/* The output size of window G over its input with pads PD (top, left,
 * bottom, right): G's oh and ow. */
static void win_out_dims(WinGeom *g, const int64_t pd[4])
{
    int64_t eh = g->dh * (g->kh - 1) + 1, ew = g->dw * (g->kw - 1) + 1;
    int64_t ph = g->h + pd[0] + pd[2], pw = g->w + pd[1] + pd[3];
    g->oh = ph >= eh ? (ph - eh) / g->sh + 1 : 0;
    g->ow = pw >= ew ? (pw - ew) / g->sw + 1 : 0;
}

/* The taps of the window at output pixel (b, oy, ox) that fall inside the
 * input (padding taps skipped), in (ky, kx) order: TAP[i] = ky * kw + kx,
 * PIX[i] = (b * h + iy) * w + ix.  Returns how many; TAP and PIX hold
 * kh * kw entries. */
static int64_t win_taps(const WinGeom *g, int64_t b, int64_t oy, int64_t ox, int64_t *tap, int64_t *pix)
{
    int64_t nt = 0;
    for (int64_t ky = 0; ky < g->kh; ky++) {
        int64_t iy = oy * g->sh - g->pt + ky * g->dh;
        if (iy < 0 || iy >= g->h)
            continue;
        for (int64_t kx = 0; kx < g->kw; kx++) {
            int64_t ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->w)
                continue;
            tap[nt] = ky * g->kw + kx;
            pix[nt++] = (b * g->h + iy) * g->w + ix;
        }
    }
    return nt;
}

/* ------------------------------------------------------------ operand prep */

/* Copies integer tensor V (data P) minus its per-tensor zero point into a
 * new int32 array; fails if a shifted value does not fit int32 (only
 * possible for i32 tensors). */
static int32_t *shifted_i32(const Node *n, const Value *v, const void *p, int32_t zp,
                            int32_t *maxabs)
{
    int64_t cnt = type_numel(&v->type);
    int32_t *r = xmalloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *r);
    int64_t m = 0;
    for (int64_t i = 0; i < cnt; i++) {
        int64_t d = ld_int(p, v->type.dtype, i) - zp;
        if (d < INT32_MIN || d > INT32_MAX) {
            free(r);
            interp_fail(n, "operand '%%%s' minus its zero point overflows int32", v->name);
            return NULL;
        }
        r[i] = (int32_t)d;
        int64_t a = d < 0 ? -d : d;
        if (a > m)
            m = a;
    }
    *maxabs = (int32_t)(m > INT32_MAX ? INT32_MAX : m);
    return r;
}

/* Dot products: int32 accumulation when the caller proved it exact (it
 * vectorizes well), int64 otherwise. */
static inline int64_t dot_i32(const int32_t *a, const int32_t *b, int64_t len)
{
    int32_t s = 0;
    for (int64_t i = 0; i < len; i++)
        s += a[i] * b[i];
    return s;
}

/* The same sum over operands that fit int16 (|v| <= 32767): each product
 * and each pair of them fits int32, so it vectorizes as multiply-add
 * pairs (x86 pmaddwd) with the same exact result. */
static inline int64_t dot_i16(const int16_t *a, const int16_t *b, int64_t len)
{
    int32_t s = 0;
    for (int64_t i = 0; i < len; i++)
        s += (int32_t)a[i] * b[i];
    return s;
}

static inline int64_t dot_i64(const int32_t *a, const int32_t *b, int64_t len)
{
    int64_t s = 0;
    for (int64_t i = 0; i < len; i++)
        s += (int64_t)a[i] * b[i];
    return s;
}

/* Largest |sum of LEN products| bounded by maxabs values: exact int32
 * accumulation is safe when it stays within int32. */
static bool narrow_ok(int32_t xmax, int32_t wmax, int64_t len)
{
    long double bound = (long double)xmax * wmax * (long double)len;
    return bound <= (long double)INT32_MAX;
}

/* ------------------------------------------------------------ conv core */

static int conv_float(const Node *n, const WinGeom *gm, const float *x, const float *w,
                      const float *bias, float *y)
{
    int64_t O = gm->o, Cg = gm->cg, opg = gm->o / gm->group;
    int64_t KK = gm->kh * gm->kw;
    float amin = node_float(n, ATTR_ACT_MIN, -INFINITY);
    float amax = node_float(n, ATTR_ACT_MAX, INFINITY);
    /* Re-lay weights as [KH][KW][O][Cg] so each window tap reads one
     * contiguous block for all output channels. */
    float *wt = xmalloc((size_t)(KK * O * Cg) * sizeof *wt);
    for (int64_t o = 0; o < O; o++)
        for (int64_t k = 0; k < KK; k++)
            memcpy(wt + (k * O + o) * Cg, w + (o * KK + k) * Cg, (size_t)Cg * sizeof *wt);
    /* One group: also as [KH][KW][Cg][O], so the loop over the output
     * channels, the innermost, reads contiguous weights and vectorizes
     * (each acc[o] still adds its products in (kh, kw, c) order). */
    float *wc = NULL;
    if (gm->group == 1 && Cg > 1) {
        wc = xmalloc((size_t)(KK * O * Cg) * sizeof *wc);
        for (int64_t k = 0; k < KK; k++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t c = 0; c < Cg; c++)
                    wc[(k * Cg + c) * O + o] = w[(o * KK + k) * Cg + c];
    }
    float *acc = xmalloc((size_t)O * sizeof *acc);
    int64_t *tap = xmalloc((size_t)KK * sizeof *tap), *pix = xmalloc((size_t)KK * sizeof *pix);
    for (int64_t b = 0; b < gm->n; b++)
        for (int64_t oy = 0; oy < gm->oh; oy++)
            for (int64_t ox = 0; ox < gm->ow; ox++) {
                for (int64_t o = 0; o < O; o++)
                    acc[o] = 0.0f;
                int64_t nt = win_taps(gm, b, oy, ox, tap, pix);
                for (int64_t t = 0; t < nt; t++) {
                    const float *xr = x + pix[t] * gm->c;
                    const float *wr = wt + tap[t] * O * Cg;
                    if (wc) {
                        /* acc[o] += x[c] * w[o][c] for c in order:
                         * across o, the same sums in the same order. */
                        const float *wk = wc + tap[t] * Cg * O;
                        for (int64_t c = 0; c < Cg; c++) {
                            float xc = xr[c];
                            const float *wo = wk + c * O;
                            for (int64_t o = 0; o < O; o++)
                                acc[o] += xc * wo[o];
                        }
                    } else if (Cg == 1 && opg == 1) {
                        /* Depthwise: acc[o] += x[o] * w[o]. */
                        for (int64_t o = 0; o < O; o++)
                            acc[o] += xr[o] * wr[o];
                    } else {
                        for (int64_t o = 0; o < O; o++) {
                            const float *xg = xr + (o / opg) * Cg;
                            const float *wo = wr + o * Cg;
                            float a = acc[o];
                            for (int64_t c = 0; c < Cg; c++)
                                a += xg[c] * wo[c];
                            acc[o] = a;
                        }
                    }
                }
                float *yr = y + ((b * gm->oh + oy) * gm->ow + ox) * O;
                for (int64_t o = 0; o < O; o++)
                    yr[o] = act_clamp_f(acc[o] + (bias ? bias[o] : 0.0f), amin, amax);
            }
    free(acc);
    free(tap);
    free(pix);
    free(wc);
    free(wt);
    return 0;
}

static int conv_int(const Node *n, const WinGeom *gm, const Value *xv, const void *x,
                    const Value *wv, const void *w, const Value *bv, const void *bias, void *y)
{
    const TensorType *yt = &n->result->type;
    int64_t O = gm->o, Cg = gm->cg, opg = gm->o / gm->group;
    int64_t KK = gm->kh * gm->kw;
    int rounding = node_rounding(n);
    const Quant *xq = xv->type.quant, *wq = wv->type.quant;
    int rc = -1;

    if (!quant_is_per_tensor(xq))
        return interp_fail(n, "per-axis quantization of the input is not supported");
    if (wq && wq->count != 1 && (wq->axis != 0 || wq->count != O))
        return interp_fail(n, "per-axis weight quantization must be along axis 0");
    if (!dtype_traits[yt->dtype].is_int)
        return interp_fail(n, "integer inputs need an integer result");
    QParam xp = qparam_chan(xq, 0);

    int32_t xmax = 0, wmax = 0;
    int32_t *xs = shifted_i32(n, xv, x, xp.zp, &xmax);
    int32_t *wt = NULL, *wraw = NULL;
    int16_t *xs16 = NULL, *ws16 = NULL;
    int64_t *acc = NULL, *tap = NULL, *pix = NULL;
    double *acc_scale = NULL;
    OutStage *st = NULL;
    if (!xs)
        goto out;
    /* w - zw[o], re-laid as [KH][KW][O][Cg] (see conv_float). */
    wraw = shifted_i32(n, wv, w, 0, &wmax);
    if (!wraw)
        goto out;
    wt = xmalloc((size_t)(KK * O * Cg) * sizeof *wt);
    wmax = 0;
    for (int64_t o = 0; o < O; o++) {
        int32_t zw = qparam_chan(wq, o).zp;
        for (int64_t k = 0; k < KK; k++)
            for (int64_t c = 0; c < Cg; c++) {
                int64_t d = (int64_t)wraw[(o * KK + k) * Cg + c] - zw;
                if (d < INT32_MIN || d > INT32_MAX) {
                    interp_fail(n, "weights minus zero point overflow int32");
                    goto out;
                }
                wt[(k * O + o) * Cg + c] = (int32_t)d;
                int64_t a = d < 0 ? -d : d;
                if (a > wmax)
                    wmax = (int32_t)(a > INT32_MAX ? INT32_MAX : a);
            }
    }
    bool narrow = narrow_ok(xmax, wmax, Cg);
    /* Exact int32 sums of operands that fit int16 (int8 data minus its
     * zero point always does): int16 copies for dot_i16. */
    if (narrow && xmax <= INT16_MAX && wmax <= INT16_MAX && !(Cg == 1 && opg == 1)) {
        int64_t nx = type_numel(&xv->type), nw = KK * O * Cg;
        xs16 = xmalloc((size_t)(nx > 0 ? nx : 1) * sizeof *xs16);
        ws16 = xmalloc((size_t)(nw > 0 ? nw : 1) * sizeof *ws16);
        for (int64_t i = 0; i < nx; i++)
            xs16[i] = (int16_t)xs[i];
        for (int64_t i = 0; i < nw; i++)
            ws16[i] = (int16_t)wt[i];
    }

    acc_scale = xmalloc((size_t)O * sizeof *acc_scale);
    for (int64_t o = 0; o < O; o++)
        acc_scale[o] = (double)xp.scale * (double)qparam_chan(wq, o).scale;
    if (yt->quant) {
        st = outstage_build(n, yt, O, acc_scale, rounding);
        if (!st)
            goto out;
    }

    acc = xmalloc((size_t)O * sizeof *acc);
    tap = xmalloc((size_t)KK * sizeof *tap);
    pix = xmalloc((size_t)KK * sizeof *pix);
    for (int64_t b = 0; b < gm->n; b++)
        for (int64_t oy = 0; oy < gm->oh; oy++)
            for (int64_t ox = 0; ox < gm->ow; ox++) {
                for (int64_t o = 0; o < O; o++)
                    acc[o] = bias ? ld_int(bias, bv->type.dtype, o) : 0;
                /* Padding contributes (zx - zx) * w = 0: skipped. */
                int64_t nt = win_taps(gm, b, oy, ox, tap, pix);
                for (int64_t t = 0; t < nt; t++) {
                    const int32_t *xr = xs + pix[t] * gm->c;
                    const int32_t *wr = wt + tap[t] * O * Cg;
                    if (Cg == 1 && opg == 1) {
                        /* Depthwise: one product per channel. */
                        for (int64_t o = 0; o < O; o++)
                            acc[o] += (int64_t)xr[o] * wr[o];
                    } else if (xs16) {
                        const int16_t *xr16 = xs16 + (xr - xs), *wr16 = ws16 + (wr - wt);
                        for (int64_t o = 0; o < O; o++)
                            acc[o] += dot_i16(xr16 + (o / opg) * Cg, wr16 + o * Cg, Cg);
                    } else if (narrow) {
                        for (int64_t o = 0; o < O; o++)
                            acc[o] += dot_i32(xr + (o / opg) * Cg, wr + o * Cg, Cg);
                    } else {
                        for (int64_t o = 0; o < O; o++)
                            acc[o] += dot_i64(xr + (o / opg) * Cg, wr + o * Cg, Cg);
                    }
                }
                int64_t base = ((b * gm->oh + oy) * gm->ow + ox) * O;
                for (int64_t o = 0; o < O; o++) {
                    if (acc[o] < INT32_MIN || acc[o] > INT32_MAX) {
                        interp_fail(n, "int32 accumulator overflow (%lld)", (long long)acc[o]);
                        goto out;
                    }
                    int64_t v = st ? outstage_apply(&st[o], acc[o], rounding)
                                   : fp_clamp_i64(acc[o], dt_min(yt->dtype), dt_max(yt->dtype));
                    st_int(y, yt->dtype, base + o, v);
                }
            }
    rc = 0;
out:
    free(xs);
    free(xs16);
    free(ws16);
    free(wraw);
    free(wt);
    free(acc);
    free(tap);
    free(pix);
    free(acc_scale);
    free(st);
    return rc;
}

static int conv_dispatch(const Node *n, const WinGeom *gm, const void *const in[], void *out)
{
    const Value *xv = n->operands[0], *wv = n->operands[1];
    const Value *bv = n->num_operands > 2 ? n->operands[2] : NULL;
    const void *bias = bv ? in[2] : NULL;
    if (bv && (bv->type.rank != 1 || bv->type.dims[0] != gm->o))
        return interp_fail(n, "bias must have shape [%lld]", (long long)gm->o);
    if (xv->type.dtype == DT_F32) {
        if (wv->type.dtype != DT_F32 || (bv && bv->type.dtype != DT_F32) ||
            n->result->type.dtype != DT_F32)
            return interp_fail(n, "float input needs float weights, bias and result");
        return conv_float(n, gm, in[0], in[1], bias, out);
    }
    if (!dtype_traits[wv->type.dtype].is_int || (bv && !dtype_traits[bv->type.dtype].is_int))
        return interp_fail(n, "integer input needs integer weights and bias");
    return conv_int(n, gm, xv, in[0], wv, in[1], bv, bias, out);
}

int interp_conv2d(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *wt = &n->operands[1]->type;
    const TensorType *yt = &n->result->type;
    if (xt->rank != 4 || wt->rank != 4 || yt->rank != 4)
        return interp_fail(n, "conv2d needs rank-4 input, weights and result");
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t st[2], dl[2], pd[4];
    if (node_ints(n, ATTR_STRIDES, st, 2, one2) != 2 ||
        node_ints(n, ATTR_DILATIONS, dl, 2, one2) != 2 ||
        node_ints(n, ATTR_PADS, pd, 4, zero4) != 4)
        return interp_fail(n, "strides/dilations need 2 entries and pads 4");
    WinGeom gm = {
        .n = xt->dims[0], .h = xt->dims[1], .w = xt->dims[2], .c = xt->dims[3],
        .o = wt->dims[0], .kh = wt->dims[1], .kw = wt->dims[2], .cg = wt->dims[3],
        .sh = st[0], .sw = st[1], .dh = dl[0], .dw = dl[1], .pt = pd[0], .pl = pd[1],
        .group = node_int(n, ATTR_GROUP, 1),
    };
    if (gm.sh < 1 || gm.sw < 1 || gm.dh < 1 || gm.dw < 1 || gm.group < 1 ||
        pd[0] < 0 || pd[1] < 0 || pd[2] < 0 || pd[3] < 0)
        return interp_fail(n, "bad strides, dilations, pads or group");
    if (gm.c % gm.group != 0 || gm.o % gm.group != 0 || gm.cg != gm.c / gm.group)
        return interp_fail(n, "channels do not divide into %lld groups", (long long)gm.group);
    win_out_dims(&gm, pd);
    if (yt->dims[0] != gm.n || yt->dims[1] != gm.oh || yt->dims[2] != gm.ow || yt->dims[3] != gm.o)
        return interp_fail(n, "result shape does not match [%lld,%lld,%lld,%lld]",
                           (long long)gm.n, (long long)gm.oh, (long long)gm.ow, (long long)gm.o);
    return conv_dispatch(n, &gm, in, out);
}

int interp_dense(const Node *n, const void *const in[], void *out)
{
    const TensorType *xt = &n->operands[0]->type, *wt = &n->operands[1]->type;
    const TensorType *yt = &n->result->type;
    if (xt->rank != 2 || wt->rank != 2 || yt->rank != 2 || xt->dims[1] != wt->dims[1] ||
        yt->dims[0] != xt->dims[0] || yt->dims[1] != wt->dims[0])
        return interp_fail(n, "dense needs x[N,K], w[M,K] and result [N,M]");
    /* x[N,K] is x[N,1,1,K], w[M,K] is w[M,1,1,K], y[N,M] is y[N,1,1,M]. */
    WinGeom gm = {
        .n = xt->dims[0], .h = 1, .w = 1, .c = xt->dims[1],
        .o = wt->dims[0], .kh = 1, .kw = 1, .cg = wt->dims[1],
        .oh = 1, .ow = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1,
    };
    return conv_dispatch(n, &gm, in, out);
}

/* ------------------------------------------------------------ matmul */

int interp_matmul(const Node *n, const void *const in[], void *out)
{
    const Value *av = n->operands[0], *bv = n->operands[1];
    const TensorType *at = &av->type, *bt = &bv->type, *yt = &n->result->type;
    if (at->rank < 2 || bt->rank < 2 || yt->rank < 2)
        return interp_fail(n, "matmul needs operands of rank >= 2");
    int64_t M = at->dims[at->rank - 2], K = at->dims[at->rank - 1];
    int64_t N = bt->dims[bt->rank - 1];
    if (bt->dims[bt->rank - 2] != K || yt->dims[yt->rank - 2] != M || yt->dims[yt->rank - 1] != N)
        return interp_fail(n, "matmul shapes do not agree");
    /* Batch dims broadcast numpy-style: view each operand as a tensor of
     * [batch..., 1] "matrices" and reuse broadcast_offsets on them. */
    TensorType ybat = *yt, abat = *at, bbat = *bt;
    ybat.rank = yt->rank - 1;
    ybat.dims[ybat.rank - 1] = 1;
    abat.rank = at->rank - 1;
    abat.dims[abat.rank - 1] = 1;
    bbat.rank = bt->rank - 1;
    bbat.dims[bbat.rank - 1] = 1;
    int64_t nb = type_numel(&ybat);
    int64_t *aoff = xmalloc((size_t)(nb > 0 ? nb : 1) * sizeof *aoff);
    int64_t *boff = xmalloc((size_t)(nb > 0 ? nb : 1) * sizeof *boff);
    int rc = -1;
    int32_t *as = NULL, *bs = NULL, *btr = NULL;
    OutStage *st = NULL;
    double *acc_scale = NULL;
    if (!broadcast_offsets(&ybat, &abat, aoff) || !broadcast_offsets(&ybat, &bbat, boff)) {
        interp_fail(n, "matmul batch dimensions do not broadcast");
        goto out;
    }
    if (at->dtype == DT_F32) {
        if (bt->dtype != DT_F32 || yt->dtype != DT_F32) {
            interp_fail(n, "float matmul needs float operands and result");
            goto out;
        }
        const float *a = in[0], *b = in[1];
        float *y = out;
        for (int64_t t = 0; t < nb; t++) {
            const float *ab = a + aoff[t] * M * K, *bb = b + boff[t] * K * N;
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    float s = 0.0f;
                    for (int64_t k = 0; k < K; k++)
                        s += ab[i * K + k] * bb[k * N + j];
                    y[(t * M + i) * N + j] = s;
                }
        }
        rc = 0;
        goto out;
    }
    if (!dtype_traits[bt->dtype].is_int || !dtype_traits[yt->dtype].is_int) {
        interp_fail(n, "integer matmul needs integer operands and result");
        goto out;
    }
    const Quant *aq = at->quant, *bq = bt->quant;
    if (!quant_is_per_tensor(aq) ||
        (bq && bq->count != 1 && (bq->axis != bt->rank - 1 || bq->count != N))) {
        interp_fail(n, "matmul supports per-axis quantization only of b, along its last axis");
        goto out;
    }
    int rounding = node_rounding(n);
    int32_t amax, bmax;
    as = shifted_i32(n, av, in[0], qparam_chan(aq, 0).zp, &amax);
    bs = as ? shifted_i32(n, bv, in[1], 0, &bmax) : NULL;
    if (!bs)
        goto out;
    /* b - zb[j], transposed per batch to [N][K] for contiguous dots. */
    int64_t bcount = type_numel(bt) / (K * N > 0 ? K * N : 1);
    btr = xmalloc((size_t)(bcount * K * N > 0 ? bcount * K * N : 1) * sizeof *btr);
    bmax = 0;
    for (int64_t t = 0; t < bcount; t++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++) {
                int64_t d = (int64_t)bs[(t * K + k) * N + j] - qparam_chan(bq, j).zp;
                if (d < INT32_MIN || d > INT32_MAX) {
                    interp_fail(n, "b minus zero point overflows int32");
                    goto out;
                }
                btr[(t * N + j) * K + k] = (int32_t)d;
                int64_t m = d < 0 ? -d : d;
                if (m > bmax)
                    bmax = (int32_t)(m > INT32_MAX ? INT32_MAX : m);
            }
    acc_scale = xmalloc((size_t)(N > 0 ? N : 1) * sizeof *acc_scale);
    for (int64_t j = 0; j < N; j++)
        acc_scale[j] = (double)qparam_chan(aq, 0).scale * (double)qparam_chan(bq, j).scale;
    if (yt->quant && !(st = outstage_build(n, yt, N, acc_scale, rounding)))
        goto out;
    bool narrow = narrow_ok(amax, bmax, K);
    for (int64_t t = 0; t < nb; t++) {
        const int32_t *ab = as + aoff[t] * M * K, *bb = btr + boff[t] * N * K;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int64_t acc = narrow ? dot_i32(ab + i * K, bb + j * K, K)
                                     : dot_i64(ab + i * K, bb + j * K, K);
                if (acc < INT32_MIN || acc > INT32_MAX) {
                    interp_fail(n, "int32 accumulator overflow (%lld)", (long long)acc);
                    goto out;
                }
                int64_t v = st ? outstage_apply(&st[j], acc, rounding)
                               : fp_clamp_i64(acc, dt_min(yt->dtype), dt_max(yt->dtype));
                st_int(out, yt->dtype, (t * M + i) * N + j, v);
            }
    }
    rc = 0;
out:
    free(aoff);
    free(boff);
    free(as);
    free(bs);
    free(btr);
    free(st);
    free(acc_scale);
    return rc;
}

/* ------------------------------------------------------------ pooling */

static int pool_geom(const Node *n, WinGeom *pg, bool global)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (xt->rank != 4 || yt->rank != 4)
        return interp_fail(n, "pooling needs rank-4 NHWC input and result");
    static const int64_t one2[2] = {1, 1}, zero4[4] = {0, 0, 0, 0};
    int64_t k[2], st[2], dl[2], pd[4];
    *pg = (WinGeom){.n = xt->dims[0], .h = xt->dims[1], .w = xt->dims[2], .c = xt->dims[3]};
    if (global) {
        k[0] = pg->h, k[1] = pg->w;
        st[0] = st[1] = dl[0] = dl[1] = 1;
        pd[0] = pd[1] = pd[2] = pd[3] = 0;
    } else {
        if (!node_attr(n, ATTR_KERNEL) || node_ints(n, ATTR_KERNEL, k, 2, one2) != 2)
            return interp_fail(n, "pooling needs a 2-entry kernel attribute");
        if (node_ints(n, ATTR_STRIDES, st, 2, one2) != 2 ||
            node_ints(n, ATTR_DILATIONS, dl, 2, one2) != 2 ||
            node_ints(n, ATTR_PADS, pd, 4, zero4) != 4)
            return interp_fail(n, "strides/dilations need 2 entries and pads 4");
    }
    if (k[0] < 1 || k[1] < 1 || st[0] < 1 || st[1] < 1 || dl[0] < 1 || dl[1] < 1 ||
        pd[0] < 0 || pd[1] < 0 || pd[2] < 0 || pd[3] < 0)
        return interp_fail(n, "bad kernel, strides, dilations or pads");
    pg->kh = k[0], pg->kw = k[1], pg->sh = st[0], pg->sw = st[1];
    pg->dh = dl[0], pg->dw = dl[1], pg->pt = pd[0], pg->pl = pd[1];
    win_out_dims(pg, pd);
    if (yt->dims[0] != pg->n || yt->dims[1] != pg->oh || yt->dims[2] != pg->ow ||
        yt->dims[3] != pg->c)
        return interp_fail(n, "result shape does not match [%lld,%lld,%lld,%lld]",
                           (long long)pg->n, (long long)pg->oh, (long long)pg->ow,
                           (long long)pg->c);
    return 0;
}

int interp_max_pool(const Node *n, const void *const in[], void *out)
{
    WinGeom pg = {0};
    if (pool_geom(n, &pg, false))
        return -1;
    DType dt = n->operands[0]->type.dtype;
    if (n->result->type.dtype != dt)
        return interp_fail(n, "max_pool result must have the input dtype");
    const void *x = in[0];
    int64_t *tap = xmalloc((size_t)(pg.kh * pg.kw) * sizeof *tap);
    int64_t *pix = xmalloc((size_t)(pg.kh * pg.kw) * sizeof *pix);
    for (int64_t b = 0; b < pg.n; b++)
        for (int64_t oy = 0; oy < pg.oh; oy++)
            for (int64_t ox = 0; ox < pg.ow; ox++) {
                int64_t nt = win_taps(&pg, b, oy, ox, tap, pix);
                for (int64_t c = 0; c < pg.c; c++) {
                    /* Padding is ignored (ONNX MaxPool): only real elements
                     * compete; an all-padding window yields the lowest value
                     * of the type (-inf for f32). */
                    float fm = -INFINITY;
                    int64_t im = dt == DT_F32 ? 0 : dt_min(dt);
                    for (int64_t t = 0; t < nt; t++) {
                        int64_t i = pix[t] * pg.c + c;
                        if (dt == DT_F32) {
                            float v = ld_f32(x, i);
                            if (v > fm) /* NaN never compares greater */
                                fm = v;
                        } else {
                            int64_t v = ld_int(x, dt, i);
                            if (v > im)
                                im = v;
                        }
                    }
                    int64_t o = ((b * pg.oh + oy) * pg.ow + ox) * pg.c + c;
                    if (dt == DT_F32)
                        st_f32(out, o, fm);
                    else
                        st_int(out, dt, o, im);
                }
            }
    free(tap);
    free(pix);
    return 0;
}

/* avg_pool and global_avg_pool.  See docs/ir-semantics.md#avg_pool. */
static int avg_pool_run(const Node *n, const WinGeom *pg, bool include_pad,
                        const void *x, void *y)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    DType dt = xt->dtype;
    int64_t kk = pg->kh * pg->kw;
    int rounding = node_rounding(n);
    bool is_float = dt == DT_F32;
    if (is_float != (yt->dtype == DT_F32))
        return interp_fail(n, "average pooling cannot change between float and integer");
    if (!is_float && (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant)))
        return interp_fail(n, "per-axis quantization is not supported by average pooling");
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    int64_t lo = 0, hi = 0;
    bool same_q = quant_equal(xt->quant, yt->quant) || (!xt->quant && !yt->quant);
    OutStage tfl = {0};  /* tflite: average (in x's scale) -> y's scale */
    double *m_count = NULL; /* onnx: sx / (sy * count), one per count */
    if (!is_float) {
        lo = dt_min(yt->dtype), hi = dt_max(yt->dtype);
        if (rounding == ROUND_TFLITE && !same_q) {
            tfl.m = (double)xp.scale / (double)yp.scale;
            if (!fp_quantize_multiplier(tfl.m, &tfl.mult, &tfl.shift))
                return interp_fail(n, "scale ratio %g is not a TFLite multiplier", tfl.m);
        }
        m_count = xmalloc((size_t)(kk + 1) * sizeof *m_count);
        for (int64_t c = 1; c <= kk; c++)
            m_count[c] = (double)xp.scale / ((double)yp.scale * (double)c);
    }
    int64_t *tap = xmalloc((size_t)kk * sizeof *tap), *pix = xmalloc((size_t)kk * sizeof *pix);
    int rc = 0;
    for (int64_t b = 0; b < pg->n && !rc; b++)
        for (int64_t oy = 0; oy < pg->oh && !rc; oy++)
            for (int64_t ox = 0; ox < pg->ow && !rc; ox++) {
                int64_t valid = win_taps(pg, b, oy, ox, tap, pix);
                for (int64_t c = 0; c < pg->c; c++) {
                    float fs = 0.0f;
                    int64_t raw = 0;
                    for (int64_t t = 0; t < valid; t++) {
                        int64_t i = pix[t] * pg->c + c;
                        if (is_float)
                            fs += ld_f32(x, i);
                        else
                            raw += ld_int(x, dt, i);
                    }
                    int64_t o = ((b * pg->oh + oy) * pg->ow + ox) * pg->c + c;
                    /* ONNX AveragePool: count_include_pad counts the padded
                     * taps (which hold real 0) in the divisor. */
                    int64_t count = include_pad ? kk : valid;
                    if (is_float) {
                        st_f32(y, o, count ? fs / (float)count : NAN);
                        continue;
                    }
                    if (count == 0) {
                        st_int(y, yt->dtype, o, fp_clamp_i64(yp.zp, lo, hi));
                        continue;
                    }
                    int64_t v;
                    if (rounding == ROUND_TFLITE) {
                        /* TFLite reference AveragePool: the sum of raw
                         * values (a padded tap counted in the divisor holds
                         * the zero point), divided rounding half away from
                         * zero: (acc +- count/2) / count. */
                        int64_t s = raw + (count - valid) * xp.zp;
                        int64_t avg = s >= 0 ? (s + count / 2) / count : (s - count / 2) / count;
                        if (same_q) {
                            v = avg;
                        } else {
                            int64_t d = avg - xp.zp;
                            if (d < INT32_MIN || d > INT32_MAX) {
                                rc = interp_fail(n, "average out of int32 range");
                                break;
                            }
                            v = quant_avg_requant(avg, xp.zp, tfl.mult, tfl.shift, yp.zp);
                        }
                    } else {
                        /* Dequantize, average, requantize: round half even of
                         * sum(x - zx) * sx / (sy * count), exact tie test. */
                        int64_t s = raw - valid * (int64_t)xp.zp;
                        v = fp_round_product_half_even(s, m_count[count], -(INT64_C(1) << 40),
                                                       INT64_C(1) << 40) + yp.zp;
                    }
                    st_int(y, yt->dtype, o, fp_clamp_i64(v, lo, hi));
                }
            }
    free(tap);
    free(pix);
    free(m_count);
    return rc;
}

int interp_avg_pool(const Node *n, const void *const in[], void *out)
{
    WinGeom pg = {0};
    if (pool_geom(n, &pg, false))
        return -1;
    return avg_pool_run(n, &pg, node_int(n, ATTR_COUNT_INCLUDE_PAD, 0) != 0, in[0], out);
}

int interp_global_avg_pool(const Node *n, const void *const in[], void *out)
{
    WinGeom pg = {0};
    if (pool_geom(n, &pg, true))
        return -1;
    return avg_pool_run(n, &pg, false, in[0], out);
}
