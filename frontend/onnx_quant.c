/* onnx_quant.c - pre-quantized ONNX models.
 *
 * ONNX keeps quantization parameters in separate tensors (scale, zero
 * point) passed to each op; the IR keeps them in the integer tensor's type.
 * onnx_quant_annotate() therefore runs before any IR value exists: it reads the
 * parameters of every QuantizeLinear, DequantizeLinear, QLinearConv,
 * QLinearMatMul, ConvInteger and MatMulInteger, and attaches them to the
 * graph inputs, initializers and constants those ops read, so the IR
 * values are created with the right quantized types.  Tensors produced by
 * a quantized op get the op's output parameters when it is converted.
 * Parameters must be constants: a compiler folds them into its kernels, so
 * a scale fed as a graph input is reported, not guessed.
 *
 * Arithmetic follows the ONNX operator spec:
 *   QuantizeLinear:   y = saturate(round_half_even(x / y_scale) + y_zero_point)
 *   DequantizeLinear: y = (x - x_zero_point) * x_scale
 *   QLinearConv/QLinearMatMul: the real-valued result requantized to
 *     (y_scale, y_zero_point), round half to even: the IR's rounding=onnx.
 *   ConvInteger/MatMulInteger: the exact int32 sum of (x - x_zp)(w - w_zp).
 * Per-axis parameters (a 1-D scale) apply along `axis` (Q/DQ, default 1),
 * along the output channels of QLinearConv's w, and along the columns of
 * QLinearMatMul's / MatMulInteger's b.
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reads the (scale, zero point) pair at inputs SI/ZI of N (SI < 0: scale
 * 1, as ConvInteger/MatMulInteger have no scale).  AXIS is the quantized
 * axis if the parameters are 1-D with more than one entry.  *zt receives
 * the zero point's element type (UINT8 when absent, as the spec says). */
static bool read_qparams(Imp *imp, const Onnx__NodeProto *n, int si, int zi, int axis, int rank,
                         const int64_t *dims, const Quant **out, int32_t *zt)
{
    OTensor *s = si >= 0 ? onnx_in(imp, n, (size_t)si) : NULL, *z = zi >= 0 ? onnx_in(imp, n, (size_t)zi) : NULL;
    if (si >= 0 && !s) {
        onnx_node_error(imp, "the scale input is missing");
        return false;
    }
    OTensor *ts[2] = {s, z};
    for (int i = 0; i < 2; i++) {
        OTensor *t = ts[i];
        if (t && !t->c) {
            bool is_input = false;
            for (size_t k = 0; k < imp->model->graph->n_input; k++)
                is_input |= !strcmp(imp->model->graph->input[k]->name, t->name);
            onnx_node_error(imp, "quantization parameter '%s' is %s; qnnc needs scales and zero points as constants "
                            "(initializers)", t->name, is_input ? "a graph input" : "computed at run time");
            return false;
        }
    }
    int64_t cnt = s ? s->c->numel : z ? z->c->numel : 1;
    if (cnt < 1 || (z && z->c->numel != cnt) || (s && s->rank > 1) || (z && z->rank > 1)) {
        onnx_node_error(imp, "scale and zero point must be scalars or 1-D tensors of equal length");
        return false;
    }
    *zt = z ? z->c->type : OT_UINT8;
    DType dt;
    if (!onnx_dtype(*zt, &dt) || !dtype_traits[dt].is_int) {
        onnx_node_error(imp, "zero point type %s is not supported", onnx_type_name(*zt));
        return false;
    }
    float *sc = xmalloc((size_t)cnt * sizeof *sc);
    int32_t *zp = xmalloc((size_t)cnt * sizeof *zp);
    for (int64_t i = 0; i < cnt; i++) {
        sc[i] = s ? (float)ctensor_f(s->c, i) : 1.0f;
        zp[i] = z ? (int32_t)ctensor_i(z->c, i) : 0;
        if (!isfinite(sc[i]) || !(sc[i] > 0)) {
            onnx_node_error(imp, "scale %g (entry %lld) must be finite and positive", (double)sc[i], (long long)i);
            free(sc);
            free(zp);
            return false;
        }
    }
    int ax = -1;
    if (cnt > 1) {
        if (axis < 0 || axis >= rank || dims[axis] != cnt) {
            if (axis < 0 || axis >= rank)
                onnx_node_error(imp, "per-axis quantization axis %d is out of range for rank %d", axis, rank);
            else
                onnx_node_error(imp, "%lld per-axis scales for axis %d of size %lld", (long long)cnt, axis,
                           (long long)dims[axis]);
            free(sc);
            free(zp);
            return false;
        }
        ax = axis;
    }
    *out = quant_new(&imp->arena, ax, (int)cnt, sc, zp);
    free(sc);
    free(zp);
    return true;
}

/* Attaches Q to tensor T (a graph input, initializer or constant) or checks
 * that a tensor already carrying parameters agrees. */
static bool annotate(Imp *imp, OTensor *t, const Quant *q)
{
    if (!t)
        return true;
    if (onnx_type_is_float(t->type)) {
        onnx_node_error(imp, "tensor '%s' is %s where an integer tensor is expected", t->name, onnx_type_name(t->type));
        return false;
    }
    if (t->quant && !quant_equal(t->quant, q)) {
        onnx_node_error(imp, "tensor '%s' is used with different quantization parameters by different nodes",
                   t->name);
        return false;
    }
    t->quant = q;
    return true;
}

/* The 'axis' attribute of QuantizeLinear/DequantizeLinear (default 1),
 * normalized against RANK. */
static int norm_q_axis(const Onnx__NodeProto *n, int rank)
{
    int64_t a = onnx_attr_int(n, "axis", 1);
    return (int)(a < 0 ? a + rank : a);
}

/* The quantized operands of each op, as (input, scale, zero point, axis).
 * With ATTACH, parameters are attached to operands that already exist
 * (graph inputs, initializers, constants); otherwise every operand must
 * already carry exactly these parameters (checked at conversion). */
static bool node_operands(Imp *imp, const Onnx__NodeProto *n, bool attach)
{
    const char *op = n->op_type;
    const Quant *q;
    int32_t zt;
    typedef struct { int in, s, z, axis_kind; } Spec;
    Spec spec[2];
    int cnt = 0;
    /* axis_kind: 0 per-tensor only, 1 the 'axis' attribute, 2 axis 0 (the
     * output channels of conv weights), 3 the last axis (matmul columns). */
    if (!strcmp(op, "DequantizeLinear"))
        spec[cnt++] = (Spec){0, 1, 2, 1};
    else if (!strcmp(op, "QLinearConv"))
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, 2};
    else if (!strcmp(op, "QLinearMatMul"))
        spec[cnt++] = (Spec){0, 1, 2, 0}, spec[cnt++] = (Spec){3, 4, 5, 3};
    else if (!strcmp(op, "ConvInteger"))
        spec[cnt++] = (Spec){0, -1, 2, 0}, spec[cnt++] = (Spec){1, -1, 3, 2};
    else if (!strcmp(op, "MatMulInteger"))
        spec[cnt++] = (Spec){0, -1, 2, 0}, spec[cnt++] = (Spec){1, -1, 3, 3};
    for (int i = 0; i < cnt; i++) {
        OTensor *t = onnx_in(imp, n, (size_t)spec[i].in);
        if (!t) {
            if ((size_t)spec[i].in < n->n_input && n->input[spec[i].in] && *n->input[spec[i].in])
                continue; /* produced by a node not converted yet */
            onnx_node_error(imp, "input %d is missing", spec[i].in);
            return false;
        }
        int axis = spec[i].axis_kind == 1 ? norm_q_axis(n, t->rank)
                 : spec[i].axis_kind == 2 ? 0 : spec[i].axis_kind == 3 ? t->rank - 1 : -1;
        if (!read_qparams(imp, n, spec[i].s, spec[i].z, axis, t->rank, t->dims, &q, &zt))
            return false;
        if (q->count > 1 && spec[i].axis_kind == 0) {
            onnx_node_error(imp, "input '%s' must be quantized per-tensor", t->name);
            return false;
        }
        if (attach) {
            if (!t->v && !t->vt && !annotate(imp, t, q))
                return false;
        } else if (!t->quant || !quant_equal(t->quant, q)) {
            onnx_node_error(imp, "tensor '%s' is %s", t->name,
                       t->quant ? "used with different quantization parameters than its producer gave it; "
                                  "qnnc needs one set of parameters per tensor"
                                : "not quantized by its producer");
            return false;
        }
    }
    return true;
}

static void plan_fusion(Imp *imp);

/* Relu, Clip and MaxPool only move or drop values, so raw integers are
 * exactly a quantized tensor of scale 1 and zero point 0.  Runs after the
 * real annotations, which take precedence. */
static void annotate_raw(Imp *imp, const Onnx__NodeProto *n)
{
    const char *op = n->op_type;
    if (strcmp(op, "Relu") && strcmp(op, "Clip") && strcmp(op, "MaxPool"))
        return;
    OTensor *t = onnx_in(imp, n, 0);
    if (t && !t->quant && !t->v && !t->vt &&
        (t->type == OT_INT8 || t->type == OT_UINT8 || t->type == OT_INT16)) {
        float one = 1.0f;
        int32_t zero = 0;
        t->quant = quant_new(&imp->arena, -1, 1, &one, &zero);
    }
}

bool onnx_quant_annotate(Imp *imp)
{
    for (size_t k = 0; k < imp->norder; k++) {
        imp->node = imp->order[k];
        if (!node_operands(imp, imp->node, true))
            return false;
    }
    for (size_t k = 0; k < imp->norder; k++)
        annotate_raw(imp, imp->order[k]);
    imp->node = NULL;
    plan_fusion(imp);
    return true;
}

/* ---------------------------------------------------------------- QDQ fusion */

/* QDQ models (onnxruntime's quantization tool, TensorRT, PyTorch's FX
 * quantization) wrap each float op in DequantizeLinear on its inputs and
 * QuantizeLinear on its output.  A Conv, MatMul or Gemm whose inputs all come
 * from DequantizeLinear (the weights and bias of constants) and whose only
 * user is a QuantizeLinear is imported as one quantized conv2d / matmul /
 * dense with rounding=onnx, as QLinearConv / QLinearMatMul would be: the exact
 * int32 accumulation, then one round-half-even requantization.  The float
 * model rounds the accumulation in float32 first, so the two agree except
 * where that float rounding crosses a .5 boundary of the output scale. */

typedef struct SMap {
    const char **key;
    int *val;
    size_t cap;
} SMap;

static uint64_t fnv(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

static void smap_init(SMap *m, size_t n)
{
    m->cap = 16;
    while (m->cap < 2 * n + 16)
        m->cap *= 2;
    m->key = xcalloc(m->cap, sizeof *m->key);
    m->val = xcalloc(m->cap, sizeof *m->val);
}

static void smap_free(SMap *m)
{
    free(m->key);
    free(m->val);
}

/* The value slot of KEY, created (value DFLT) if absent. */
static int *smap_at(SMap *m, const char *key, int dflt)
{
    size_t h = (size_t)fnv(key) & (m->cap - 1);
    while (m->key[h] && strcmp(m->key[h], key))
        h = (h + 1) & (m->cap - 1);
    if (!m->key[h]) {
        m->key[h] = key;
        m->val[h] = dflt;
    }
    return &m->val[h];
}

static bool is_op(const Onnx__NodeProto *n, const char *op) { return !strcmp(n->op_type, op); }

static const char *input_name(const Onnx__NodeProto *n, size_t i)
{
    return i < n->n_input && n->input[i] && *n->input[i] ? n->input[i] : NULL;
}

/* The 'axis' of a per-axis DequantizeLinear (scale with > 1 entries) over
 * a tensor of rank RANK, or -1 for per-tensor. */
static int dq_axis(Imp *imp, const Onnx__NodeProto *dq, int rank)
{
    OTensor *s = onnx_in(imp, dq, 1);
    if (!s || !s->c || s->c->numel <= 1)
        return -1;
    int64_t a = onnx_attr_int(dq, "axis", 1);
    return (int)(a < 0 ? a + rank : a);
}

/* Ops fused when wrapped in DequantizeLinear/QuantizeLinear, and which of
 * their inputs carry data (the rest are constant parameters: shapes, axes,
 * pads, bounds).  Conv/Gemm/MatMul weights and biases must be constants. */
static const struct {
    const char *op;
    unsigned data; /* bit i: input i comes from a DequantizeLinear; ~0u: all */
} fusable[] = {
    {"Conv", 7}, {"Gemm", 7}, {"MatMul", 3}, {"Add", 3}, {"Sub", 3}, {"Mul", 3},
    {"Relu", 1}, {"Clip", 1}, {"LeakyRelu", 1}, {"Sigmoid", 1}, {"Tanh", 1}, {"HardSwish", 1},
    {"Softmax", 1}, {"MaxPool", 1}, {"AveragePool", 1}, {"GlobalAveragePool", 1}, {"Concat", ~0u},
    {"Reshape", 1}, {"Flatten", 1}, {"Transpose", 1}, {"Squeeze", 1}, {"Unsqueeze", 1}, {"Pad", 1},
};

static bool fusable_data(const Onnx__NodeProto *f, unsigned *data)
{
    for (size_t i = 0; i < sizeof fusable / sizeof *fusable; i++)
        if (is_op(f, fusable[i].op)) {
            *data = fusable[i].data;
            return true;
        }
    return false;
}

/* The sole user of node output NAME, if it has exactly one and is not a
 * graph output; -1 otherwise. */
static int sole_user(SMap *uses, SMap *user, const char *name)
{
    return *smap_at(uses, name, 0) == 1 ? *smap_at(user, name, -1) : -1;
}

/* True when Clip node A's bounds are known before conversion. */
static bool clip_bounds_static(Imp *imp, const Onnx__NodeProto *a)
{
    for (size_t i = 1; i < 3; i++) {
        const char *in = input_name(a, i);
        OTensor *t = in ? onnx_find(imp, in) : NULL;
        if (in && (!t || !t->c))
            return false;
    }
    return true;
}

/* The element type tensor NAME will have, if known before conversion: that
 * of a graph input, initializer or constant, or the zero point's of the
 * QuantizeLinear producing it; OT_UNDEFINED otherwise. */
static int32_t planned_type(Imp *imp, SMap *prod, const char *name)
{
    OTensor *t = onnx_find(imp, name);
    if (t)
        return t->type;
    int p = *smap_at(prod, name, -1);
    if (p < 0 || !is_op(imp->order[p], "QuantizeLinear"))
        return OT_UNDEFINED;
    const char *z = input_name(imp->order[p], 2);
    OTensor *zt = z ? onnx_find(imp, z) : NULL;
    return !z ? OT_UINT8 : zt ? zt->type : OT_UNDEFINED;
}

static void plan_fusion(Imp *imp)
{
    size_t nn = imp->norder, slots = 0;
    imp->fuse_q = arena_alloc(&imp->arena, (nn + 1) * sizeof *imp->fuse_q);
    imp->fuse_act = arena_alloc(&imp->arena, (nn + 1) * sizeof *imp->fuse_act);
    imp->fuse_in_start = arena_alloc(&imp->arena, (nn + 1) * sizeof *imp->fuse_in_start);
    for (size_t k = 0; k < nn; k++) {
        imp->fuse_q[k] = imp->fuse_act[k] = -1;
        imp->fuse_in_start[k] = (int)slots;
        slots += imp->order[k]->n_input;
    }
    imp->fuse_in = arena_alloc(&imp->arena, (slots + 1) * sizeof *imp->fuse_in);
    for (size_t i = 0; i < slots; i++)
        imp->fuse_in[i] = -1;
    SMap prod, uses, user;
    smap_init(&prod, 4 * nn);
    smap_init(&uses, 4 * nn);
    smap_init(&user, 4 * nn);
    for (size_t k = 0; k < nn; k++) {
        const Onnx__NodeProto *n = imp->order[k];
        for (size_t j = 0; j < n->n_output; j++)
            if (n->output[j] && *n->output[j])
                *smap_at(&prod, n->output[j], -1) = (int)k;
        for (size_t j = 0; j < n->n_input; j++)
            if (input_name(n, j)) {
                ++*smap_at(&uses, n->input[j], 0);
                *smap_at(&user, n->input[j], -1) = (int)k;
            }
    }
    const Onnx__GraphProto *gp = imp->model->graph;
    for (size_t i = 0; i < gp->n_output; i++)
        if (gp->output[i]->name)
            *smap_at(&uses, gp->output[i]->name, 0) += 1 << 20; /* never fused away */
    int *fused_uses = xcalloc(nn + 1, sizeof *fused_uses);

    for (size_t k = 0; k < nn; k++) {
        const Onnx__NodeProto *f = imp->order[k];
        unsigned data;
        if (!fusable_data(f, &data) || f->n_output < 1 || !f->output[0] || !*f->output[0])
            continue;
        bool conv = is_op(f, "Conv"), mm = is_op(f, "MatMul"), gemm = is_op(f, "Gemm");
        if (gemm && (onnx_attr_float(f, "alpha", 1.0f) != 1.0f || onnx_attr_float(f, "beta", 1.0f) != 1.0f ||
                     onnx_attr_int(f, "transA", 0) != 0))
            continue;
        if (f->n_output > 1 && f->output[1] && *f->output[1])
            continue; /* MaxPool's Indices, Dropout's mask */
        /* F -> Q, or Conv/Gemm -> Relu/Clip -> Q (the activation becomes the
         * fused op's act_min/act_max, exactly: quantization is monotone). */
        int act = -1, q = sole_user(&uses, &user, f->output[0]);
        if (q >= 0 && (conv || gemm) && (is_op(imp->order[q], "Relu") ||
                                          (is_op(imp->order[q], "Clip") && clip_bounds_static(imp, imp->order[q])))) {
            act = q;
            const Onnx__NodeProto *a = imp->order[act];
            q = a->n_output >= 1 && a->output[0] && *a->output[0] ? sole_user(&uses, &user, a->output[0]) : -1;
        }
        const char *qin = act >= 0 ? imp->order[act]->output[0] : f->output[0];
        if (q < 0 || !is_op(imp->order[q], "QuantizeLinear") || !input_name(imp->order[q], 0) ||
            strcmp(imp->order[q]->input[0], qin) != 0)
            continue;
        /* The result must be quantized per tensor, by known parameters. */
        OTensor *qs = input_name(imp->order[q], 1) ? onnx_find(imp, imp->order[q]->input[1]) : NULL;
        if (!qs || !qs->c || qs->c->numel != 1)
            continue;
        /* Except for the accumulating ops, the IR's quantized ops keep
         * their element type: every data input must have the result's. */
        int32_t qtype = planned_type(imp, &prod, imp->order[q]->output[0]);
        bool ok = input_name(f, 0) != NULL;
        if (conv || gemm || mm)
            ok = ok && input_name(f, 1) && (mm ? f->n_input == 2 : true);
        int *dq = imp->fuse_in + imp->fuse_in_start[k];
        for (size_t i = 0; ok && i < f->n_input; i++) {
            const char *in = input_name(f, i);
            if (!in || i >= 32 || !(data & (1u << i)))
                continue;
            int p = *smap_at(&prod, in, -1);
            if (p < 0 || !is_op(imp->order[p], "DequantizeLinear") || !input_name(imp->order[p], 0)) {
                ok = false;
                break;
            }
            dq[i] = p;
            OTensor *c = onnx_find(imp, imp->order[p]->input[0]);
            if ((conv || gemm || mm) && i > 0) {
                /* Weights and bias: constants, the weights quantized along
                 * the output channels (axis 0 of conv weights and of
                 * Gemm's B^T, the last axis of B). */
                if (!c || !c->c || (i == 2 && c->type != OT_INT32)) {
                    ok = false;
                    break;
                }
                int ax = dq_axis(imp, imp->order[p], c->rank);
                int want = conv || (gemm && onnx_attr_int(f, "transB", 0)) ? 0 : c->rank - 1;
                if (i == 1 && ax >= 0 && ax != want)
                    ok = false;
            } else if (dq_axis(imp, imp->order[p], c ? c->rank : 1) >= 0) {
                ok = false; /* activations must be quantized per tensor */
            } else if (!(conv || gemm || mm) &&
                       (qtype == OT_UNDEFINED || planned_type(imp, &prod, imp->order[p]->input[0]) != qtype)) {
                ok = false;
            }
        }
        if (!ok) {
            for (size_t i = 0; i < f->n_input; i++)
                dq[i] = -1;
            continue;
        }
        imp->fuse_q[k] = q;
        imp->fuse_act[k] = act;
        imp->fused[q] = true;
        if (act >= 0)
            imp->fused[act] = true;
        for (size_t i = 0; i < f->n_input; i++)
            if (dq[i] >= 0)
                fused_uses[dq[i]]++;
    }
    /* A DequantizeLinear all of whose users were fused disappears. */
    for (size_t k = 0; k < nn; k++) {
        const Onnx__NodeProto *d = imp->order[k];
        if (fused_uses[k] && d->n_output >= 1 && *smap_at(&uses, d->output[0], 0) == fused_uses[k])
            imp->fused[k] = true;
    }
    free(fused_uses);
    smap_free(&prod);
    smap_free(&uses);
    smap_free(&user);
}

/* The bounds of a fused Relu or Clip. */
static bool act_bounds(Imp *imp, const Onnx__NodeProto *a)
{
    imp->node = a;
    imp->act_min = -INFINITY;
    imp->act_max = INFINITY;
    if (is_op(a, "Relu")) {
        imp->act_min = 0.0f;
        return true;
    }
    if (imp->opset < 11) {
        imp->act_min = onnx_attr_float(a, "min", -INFINITY);
        imp->act_max = onnx_attr_float(a, "max", INFINITY);
        return true;
    }
    for (size_t i = 1; i < 3; i++) {
        OTensor *t = onnx_in(imp, a, i);
        if (!t)
            continue;
        if (!t->c || t->c->numel != 1) {
            onnx_node_error(imp, "the bounds of Clip must be constant scalars");
            return false;
        }
        *(i == 1 ? &imp->act_min : &imp->act_max) = (float)ctensor_f(t->c, 0);
    }
    return true;
}

/* The int32 bias of a fused conv/dense must be in the accumulator's scale,
 * input scale * weight scale (ONNX QLinearConv; TFLite's int8 spec).  QDQ
 * exporters compute it that way, up to float rounding; a bias with another
 * scale is re-expressed in that one (round half to even), as the float
 * model adds its dequantized value. */
static OTensor *bias_rescaled(Imp *imp, const OTensor *x, const OTensor *w, OTensor *b)
{
    const Quant *xq = x->quant, *wq = w->quant, *bq = b->quant;
    if (!xq || !wq || !bq || !b->c || b->rank != 1)
        return b;
    int64_t nc = b->dims[0];
    if ((wq->count != 1 && wq->count != nc) || (bq->count != 1 && bq->count != nc))
        return b;
    bool same = true;
    float *acc = arena_alloc(&imp->arena, (size_t)nc * sizeof *acc);
    int32_t *zeros = arena_alloc(&imp->arena, (size_t)nc * sizeof *zeros);
    for (int64_t o = 0; o < nc; o++) {
        double want = (double)xq->scale[0] * wq->scale[wq->count == 1 ? 0 : o];
        double have = bq->scale[bq->count == 1 ? 0 : o];
        acc[o] = (float)want;
        same &= fabs(have - want) <= 1e-6 * want && bq->zero_point[bq->count == 1 ? 0 : o] == 0;
    }
    if (same)
        return b;
    OTensor *r = arena_alloc(&imp->arena, sizeof *r);
    *r = *b;
    r->name = onnx_name(imp, b->name, ".rescaled");
    r->v = r->vt = NULL;
    r->c = ctensor_new(&imp->arena, OT_INT32, 1, b->dims);
    for (int64_t o = 0; o < nc; o++) {
        int64_t bi = bq->count == 1 ? 0 : o;
        double real = ((double)b->c->i[o] - bq->zero_point[bi]) * bq->scale[bi];
        double q = nearbyint(real / (double)acc[o]); /* half to even in the default rounding mode */
        if (!(q >= INT32_MIN && q <= INT32_MAX)) {
            onnx_node_error(imp, "bias '%s' does not fit int32 in the accumulator's scale", b->name);
            return NULL;
        }
        r->c->i[o] = (int64_t)q;
    }
    r->quant = quant_new(&imp->arena, nc > 1 ? 0 : -1, (int)nc, acc, zeros);
    if (nc == 1)
        r->quant = quant_new(&imp->arena, -1, 1, acc, zeros);
    return r;
}

int onnx_qdq_fuse(Imp *imp, const Onnx__NodeProto *n, size_t k)
{
    if (!imp->fuse_q || imp->fuse_q[k] < 0)
        return 0;
    const Onnx__NodeProto *qn = imp->order[imp->fuse_q[k]];
    OTensor **in = arena_alloc(&imp->arena, (n->n_input + 1) * sizeof *in);
    const int *dq = imp->fuse_in + imp->fuse_in_start[k];
    for (size_t i = 0; i < n->n_input; i++) {
        if (dq[i] < 0)
            continue;
        imp->node = imp->order[dq[i]];
        if (!node_operands(imp, imp->order[dq[i]], false))
            return -1;
        in[i] = onnx_in(imp, imp->order[dq[i]], 0);
    }
    const Quant *yq;
    int32_t zt;
    imp->node = qn;
    if (!read_qparams(imp, qn, 1, 2, -1, 0, NULL, &yq, &zt))
        return -1;
    if (yq->count != 1) {
        onnx_node_error(imp, "per-axis quantization of an activation is not supported");
        return -1;
    }
    if ((is_op(n, "Conv") || is_op(n, "Gemm")) && in[2] && !(in[2] = bias_rescaled(imp, in[0], in[1], in[2])))
        return -1;
    imp->has_act = imp->fuse_act[k] >= 0;
    if (imp->has_act && !act_bounds(imp, imp->order[imp->fuse_act[k]]))
        return -1;
    imp->node = n;
    imp->out_node = qn;
    imp->fnode = n;
    imp->fsub = in;
    imp->fq = yq;
    imp->fq_type = zt;
    bool ok = is_op(n, "Conv")   ? onnx_conv_core(imp, n, in[0], in[1], in[2], zt, yq, true)
            : is_op(n, "Gemm")   ? onnx_gemm_core(imp, n, in[0], in[1], in[2], zt, yq)
            : is_op(n, "MatMul") ? onnx_matmul_core(imp, n, in[0], in[1], zt, yq, true)
                                 : onnx_converter(n)(imp, n);
    imp->out_node = imp->fnode = NULL;
    imp->fsub = NULL;
    imp->fq = NULL;
    imp->has_act = false;
    return ok ? 1 : -1;
}

/* ---------------------------------------------------------------- converters */

static bool set_rounding(Imp *imp, Node *nd)
{
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return true;
}

bool import_quantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    if (x->type != OT_FLOAT) {
        onnx_node_error(imp, "input '%s' must be FLOAT, got %s", x->name, onnx_type_name(x->type));
        return false;
    }
    const Quant *q;
    int32_t zt;
    if (!read_qparams(imp, n, 1, 2, norm_q_axis(n, x->rank), x->rank, x->dims, &q, &zt))
        return false;
    DType dt;
    onnx_dtype(zt, &dt);
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    out->type = zt;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    out->quant = q;
    bool nhwc = onnx_is_nhwc(x) && q->axis < 0;
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = dt;
    t.quant = q;
    Node *nd = onnx_emit(imp, OP_QUANTIZE, &v, 1, onnx_name(imp, out->name, NULL), t);
    set_rounding(imp, nd);
    onnx_set(out, nd->result, nhwc);
    return true;
}

bool import_dequantize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const Quant *q;
    int32_t zt;
    if (!read_qparams(imp, n, 1, 2, norm_q_axis(n, x->rank), x->rank, x->dims, &q, &zt))
        return false;
    if (zt != x->type && onnx_in(imp, n, 2)) {
        onnx_node_error(imp, "zero point type %s differs from the input's type %s", onnx_type_name(zt),
                   onnx_type_name(x->type));
        return false;
    }
    if (!node_operands(imp, n, false))
        return false;
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    out->type = OT_FLOAT;
    out->rank = x->rank;
    memcpy(out->dims, x->dims, sizeof out->dims);
    bool nhwc = onnx_is_nhwc(x);
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    TensorType t = v->type;
    t.dtype = DT_F32;
    t.quant = NULL;
    onnx_set(out, onnx_emit(imp, OP_DEQUANTIZE, &v, 1, onnx_name(imp, out->name, NULL), t)->result, nhwc);
    return true;
}

/* Checks that operand T carries parameters (set by annotation or by its
 * producer). */
static bool has_quant(Imp *imp, const OTensor *t)
{
    return node_operands(imp, imp->node, false) && t->quant;
}

bool import_qlinear_conv(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *w = onnx_in(imp, n, 3), *b = onnx_in(imp, n, 8);
    const Quant *yq;
    int32_t zt;
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w) || !read_qparams(imp, n, 6, 7, -1, 0, NULL, &yq, &zt))
        return false;
    if (b && b->type != OT_INT32) {
        onnx_node_error(imp, "bias must be INT32, got %s", onnx_type_name(b->type));
        return false;
    }
    return onnx_conv_core(imp, n, x, w, b, zt, yq, true);
}

bool import_conv_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *w = onnx_in(imp, n, 1);
    if (!x || !w || !has_quant(imp, x) || !has_quant(imp, w))
        return false;
    return onnx_conv_core(imp, n, x, w, NULL, OT_INT32, NULL, false);
}

bool import_qlinear_matmul(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = onnx_in(imp, n, 0), *b = onnx_in(imp, n, 3);
    const Quant *yq;
    int32_t zt;
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b) || !read_qparams(imp, n, 6, 7, -1, 0, NULL, &yq, &zt))
        return false;
    return onnx_matmul_core(imp, n, a, b, zt, yq, true);
}

bool import_matmul_integer(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *a = onnx_in(imp, n, 0), *b = onnx_in(imp, n, 1);
    if (!a || !b || !has_quant(imp, a) || !has_quant(imp, b))
        return false;
    return onnx_matmul_core(imp, n, a, b, OT_INT32, NULL, false);
}
