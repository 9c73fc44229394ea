/* onnx_conv.c - convolutions.
 *
 * Conv (1-D and 2-D, groups, dilations, auto_pad), imported as the IR's
 * NHWC conv2d with weights re-laid OIHW -> OHWI at import.  onnx_conv_core
 * is shared with QLinearConv and ConvInteger (onnx_quantized.c) and with
 * fused QDQ convolutions (onnx_qdq.c), which only differ in the result's
 * element type and quantization.
 */
#include "onnx_internal.h"

#include <stdlib.h>
#include <string.h>

/* Conv: x[N,C,H,W] (or [N,C,L]), W[O,C/group,KH,KW], B[O]?.  Shared by
 * QLinearConv and ConvInteger: OTYPE/OQ give the result's element type and
 * quantization, ROUNDING whether the op requantizes (rounding=onnx). */
bool onnx_conv_core(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *wt, OTensor *b, int32_t otype,
                 const Quant *oq, bool rounding)
{
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D convolutions are supported (input has rank %d)", x->rank);
        return false;
    }
    if (wt->rank != x->rank) {
        onnx_node_error(imp, "weights have rank %d but the input has rank %d", wt->rank, x->rank);
        return false;
    }
    int nsp = x->rank - 2;
    int64_t group = onnx_attr_int(n, "group", 1);
    if (group < 1 || x->dims[1] % group || wt->dims[0] % group || wt->dims[1] * group != x->dims[1]) {
        onnx_node_error(imp, "weights [%lld,%lld,...] do not fit %lld input channels in %lld groups",
                   (long long)wt->dims[0], (long long)wt->dims[1], (long long)x->dims[1], (long long)group);
        return false;
    }
    if (b && (b->rank != 1 || b->dims[0] != wt->dims[0])) {
        onnx_node_error(imp, "bias must have shape [%lld]", (long long)wt->dims[0]);
        return false;
    }
    OnnxWindow w;
    if (!onnx_window(imp, n, nsp, x->dims + 2, wt->dims + 2, false, &w))
        return false;
    OTensor *x4 = nsp == 1 ? onnx_lift3(imp, x) : x, *w4 = nsp == 1 ? onnx_lift3(imp, wt) : wt;
    if (!x4 || !w4)
        return false;
    Value *ops[3] = {onnx_val_nhwc(imp, x4), onnx_val_nhwc(imp, w4), b ? onnx_val(imp, b) : NULL};
    if (!ops[0] || !ops[1] || (b && !ops[2]))
        return false;
    int64_t od[4] = {x->dims[0], wt->dims[0], w.out[0], w.out[1]};
    OTensor *out = onnx_define_out(imp, n, 0, otype, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!out)
        return false;
    out->quant = oq;
    DType dt;
    onnx_dtype(otype, &dt);
    int64_t phys[4] = {od[0], od[2], od[3], od[1]};
    OTensor *o4 = nsp == 1 ? onnx_temp(imp, out->name, otype, 4, od) : out;
    Node *nd = onnx_emit(imp, OP_CONV2D, ops, b ? 3 : 2, onnx_name(imp, out->name, nsp == 1 ? ".nhwc" : NULL),
                    onnx_tt(dt, 4, phys, oq));
    onnx_set_window_attrs(imp, nd, &w, w.pads, true);
    if (group != 1)
        node_set_int(imp->g, nd, ATTR_GROUP, group);
    if (rounding)
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    onnx_set_act(imp, nd);
    o4->vt = nd->result;
    return nsp == 1 ? onnx_lower3(imp, o4, out) : true;
}

bool import_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *wt = onnx_in(imp, n, 1), *b = onnx_in(imp, n, 2);
    if (!x || !wt) {
        onnx_node_error(imp, "needs an input and weights");
        return false;
    }
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, wt) || (b && !onnx_need_float(imp, b)))
        return false;
    return onnx_conv_core(imp, n, x, wt, b, OT_FLOAT, NULL, false);
}

/* ConvTranspose (1-D and 2-D; groups, strides, dilations, pads,
 * output_padding, output_shape, auto_pad), x[N,C,H,W], W[C,O/group,KH,KW]
 * constant, B[O]?.  Lowered at import to what the IR already has: the
 * input with stride-1 zeros inserted between its elements (reshape to
 * [N,H,1,W,1,C], pad the 1s to the strides, reshape back), padded by
 * d·(k−1) − pad on each side (negative: cropped), then a stride-1 conv2d
 * with the kernel flipped and its in/out channels swapped.  That is the
 * definition of a transposed convolution, so float results agree with
 * ONNX's up to summation order, and an int8 ConvTranspose is an int8 conv2d
 * (the quantize pass, the int8 kernels and their bit-exactness on every
 * target) with no new op.  The price is strides² more multiply-adds on
 * inserted zeros; a dedicated op would avoid it (docs/onnx.md). */
bool import_conv_transpose(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *wt = onnx_in(imp, n, 1), *b = onnx_in(imp, n, 2);
    if (!onnx_need_float(imp, x) || !onnx_need_float(imp, wt) || (b && !onnx_need_float(imp, b)))
        return false;
    if (x->rank != 3 && x->rank != 4) {
        onnx_node_error(imp, "only 1-D and 2-D transposed convolutions are supported (input has rank %d)", x->rank);
        return false;
    }
    if (wt->rank != x->rank || !wt->c) {
        onnx_node_error(imp, "weights must be a constant of the input's rank %d", x->rank);
        return false;
    }
    int nsp = x->rank - 2;
    int64_t group = onnx_attr_int(n, "group", 1), cin = x->dims[1];
    if (group < 1 || cin % group || wt->dims[0] != cin) {
        onnx_node_error(imp, "weights [%lld,%lld,...] do not fit %lld input channels in %lld groups",
                        (long long)wt->dims[0], (long long)wt->dims[1], (long long)cin, (long long)group);
        return false;
    }
    int64_t cog = wt->dims[1], cig = cin / group, cout = cog * group;
    if (b && (b->rank != 1 || b->dims[0] != cout)) {
        onnx_node_error(imp, "bias must have shape [%lld]", (long long)cout);
        return false;
    }
    /* Spatial parameters, as 2-D: a 1-D op has H = 1 and a 1-tap kernel. */
    int64_t in[2] = {1, 1}, k[2] = {1, 1}, s[2] = {1, 1}, d[2] = {1, 1}, op[2] = {0, 0}, pb[2] = {0, 0},
            pe[2] = {0, 0}, os[2] = {0, 0}, tmp[4];
    int off = 2 - nsp;
    for (int i = 0; i < nsp; i++)
        in[off + i] = x->dims[2 + i], k[off + i] = wt->dims[2 + i];
    int cnt;
    const struct { const char *name; int64_t *dst; int64_t min; } lists[] = {
        {"strides", s, 1}, {"dilations", d, 1}, {"output_padding", op, 0}, {"kernel_shape", NULL, 1},
        {"output_shape", os, 1}};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if ((cnt = onnx_attr_ints(n, lists[l].name, tmp, 4)) < 0)
            continue;
        if (cnt != nsp) {
            onnx_node_error(imp, "%s has %d entries but the op has %d spatial dims", lists[l].name, cnt, nsp);
            return false;
        }
        for (int i = 0; i < nsp; i++) {
            if (tmp[i] < lists[l].min || tmp[i] > INT32_MAX) {
                onnx_node_error(imp, "%s[%d] is %lld", lists[l].name, i, (long long)tmp[i]);
                return false;
            }
            if (!lists[l].dst && tmp[i] != k[off + i]) {
                onnx_node_error(imp, "kernel_shape does not match the weights");
                return false;
            }
            if (lists[l].dst)
                lists[l].dst[off + i] = tmp[i];
        }
    }
    for (int i = 0; i < 2; i++) {
        /* ONNX: output_padding must be smaller than the stride or the dilation. */
        if (op[i] >= s[i] && op[i] >= d[i]) {
            onnx_node_error(imp, "output_padding %lld must be smaller than the stride or the dilation",
                            (long long)op[i]);
            return false;
        }
    }
    const char *ap = onnx_attr_str(imp, n, "auto_pad", "NOTSET");
    bool same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"), upper = !strcmp(ap, "SAME_UPPER");
    if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) {
        onnx_node_error(imp, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
        return false;
    }
    bool has_os = onnx_attr(n, "output_shape") != NULL;
    if ((cnt = onnx_attr_ints(n, "pads", tmp, 4)) >= 0 && !has_os && !same) {
        if (cnt != 2 * nsp) {
            onnx_node_error(imp, "pads has %d entries but must have %d", cnt, 2 * nsp);
            return false;
        }
        for (int i = 0; i < nsp; i++) {
            pb[off + i] = tmp[i], pe[off + i] = tmp[nsp + i];
            if (pb[off + i] < 0 || pe[off + i] < 0 || pb[off + i] > INT32_MAX || pe[off + i] > INT32_MAX) {
                onnx_node_error(imp, "pads must be non-negative");
                return false;
            }
        }
    }
    int64_t out[2];
    for (int i = 0; i < 2; i++) {
        int64_t full = s[i] * (in[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1;
        if (has_os || same) {
            /* ONNX ConvTranspose: total_padding = full - output_shape, split
             * with the odd one at the start for SAME_UPPER, at the end
             * otherwise; auto_pad SAME makes output_shape = input * stride. */
            int64_t want = i < off ? 1 : has_os ? os[i] : in[i] * s[i];
            int64_t total = full - want;
            if (total < 0)
                pb[i] = 0, pe[i] = total; /* a larger output grows at the end, as output_padding does */
            else if (upper)
                pb[i] = total / 2, pe[i] = total - total / 2;
            else
                pb[i] = total - total / 2, pe[i] = total / 2;
        }
        out[i] = full - pb[i] - pe[i];
        if (out[i] < 1) {
            onnx_node_error(imp, "the output would have %s size %lld", i ? "width" : "height", (long long)out[i]);
            return false;
        }
    }
    /* The flipped kernel, OHWI [O, KH, KW, C/group]. */
    const CTensor *wc = wt->c;
    int64_t wd[4] = {cout, k[0], k[1], cig};
    if (!onnx_reserve(imp, cout * k[0] * k[1] * cig * 4))
        return false;
    float *wf = xmalloc((size_t)(cout * k[0] * k[1] * cig) * sizeof *wf);
    for (int64_t o = 0; o < cout; o++)
        for (int64_t ky = 0; ky < k[0]; ky++)
            for (int64_t kx = 0; kx < k[1]; kx++)
                for (int64_t ci = 0; ci < cig; ci++) {
                    int64_t g = o / cog, j = o % cog, c = g * cig + ci;
                    int64_t src = ((c * cog + j) * k[0] + (k[0] - 1 - ky)) * k[1] + (k[1] - 1 - kx);
                    wf[((o * k[0] + ky) * k[1] + kx) * cig + ci] = (float)ctensor_f(wc, src);
                }
    Value *wv = onnx_const_f32(imp, onnx_name(imp, wt->name, ".flip"), 4, wd, wf);
    free(wf);
    OTensor *x4 = nsp == 1 ? onnx_lift3(imp, x) : x;
    Value *v = x4 ? onnx_val_nhwc(imp, x4) : NULL;
    Value *bv = b ? onnx_val(imp, b) : NULL;
    if (!v || (b && !bv))
        return false;
    int64_t od[4] = {x->dims[0], cout, out[0], out[1]};
    OTensor *res = onnx_define_out(imp, n, 0, OT_FLOAT, x->rank, nsp == 1 ? (int64_t[]){od[0], od[1], od[3]} : od);
    if (!res)
        return false;
    /* Zero insertion puts a zeros before each element and s-1-a after
     * it; a is chosen so that the padding that follows crops as little as
     * possible (a negative pad crops). */
    int64_t N = x->dims[0], H = in[0], W = in[1], a[2], pp[8] = {0};
    for (int i = 0; i < 2; i++) {
        int64_t eff = d[i] * (k[i] - 1), room_b = eff - pb[i], room_e = eff - pe[i] + op[i];
        a[i] = s[i] - 1 - room_e > 0 ? s[i] - 1 - room_e : 0;
        if (a[i] > room_b)
            a[i] = room_b > 0 ? room_b : 0;
        pp[1 + i] = room_b - a[i];
        pp[5 + i] = room_e - (s[i] - 1 - a[i]);
    }
    if (s[0] > 1 || s[1] > 1) {
        int64_t d6[6] = {N, H, 1, W, 1, cin}, p6[12] = {0}, z6[6] = {N, H, s[0], W, s[1], cin};
        int64_t d4[4] = {N, H * s[0], W * s[1], cin};
        p6[2] = a[0], p6[4] = a[1], p6[6 + 2] = s[0] - 1 - a[0], p6[6 + 4] = s[1] - 1 - a[1];
        v = onnx_emit_reshape(imp, v, 6, d6, onnx_name(imp, res->name, ".r6"));
        Node *pn = onnx_emit(imp, OP_PAD, &v, 1, onnx_name(imp, res->name, ".zeros"),
                             onnx_tt(DT_F32, 6, z6, NULL));
        node_set_ints(imp->g, pn, ATTR_PADS, p6, 12);
        v = onnx_emit_reshape(imp, pn->result, 4, d4, onnx_name(imp, res->name, ".dilated"));
    }
    int64_t ph = v->type.dims[1], pw = v->type.dims[2];
    bool pad = pp[1] || pp[2] || pp[5] || pp[6];
    ph += pp[1] + pp[5], pw += pp[2] + pp[6];
    if (pad) {
        int64_t pd[4] = {N, ph, pw, cin};
        Node *pn = onnx_emit(imp, OP_PAD, &v, 1, onnx_name(imp, res->name, ".pad"), onnx_tt(DT_F32, 4, pd, NULL));
        node_set_ints(imp->g, pn, ATTR_PADS, pp, 8);
        v = pn->result;
    }
    Value *ops[3] = {v, wv, bv};
    int64_t phys[4] = {N, out[0], out[1], cout};
    OTensor *o4 = nsp == 1 ? onnx_temp(imp, res->name, OT_FLOAT, 4, od) : res;
    Node *nd = onnx_emit(imp, OP_CONV2D, ops, b ? 3 : 2, onnx_name(imp, res->name, nsp == 1 ? ".nhwc" : NULL),
                         onnx_tt(DT_F32, 4, phys, NULL));
    if (d[0] != 1 || d[1] != 1)
        node_set_ints(imp->g, nd, ATTR_DILATIONS, d, 2);
    if (group != 1)
        node_set_int(imp->g, nd, ATTR_GROUP, group);
    o4->vt = nd->result;
    return nsp == 1 ? onnx_lower3(imp, o4, res) : true;
}
