/* onnx_qdq.c - QDQ models: DequantizeLinear -> float op -> QuantizeLinear
 * imported as one quantized IR op.
 *
 * onnx_qdq_plan() runs after onnx_quant_annotate() and before any IR value
 * exists: it marks the groups to fuse (the op table's qdq column says which
 * ops fuse and which of their inputs carry data).  onnx_qdq_fuse() then
 * converts a group when the conversion loop reaches its op.
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Which inputs of F carry data when F is fused (the rest are constant
 * parameters: shapes, axes, pads, bounds): the op table's qdq column. */
static bool fusable_data(const Onnx__NodeProto *f, unsigned *data)
{
    const OnnxOp *op = onnx_op_find(f);
    *data = op ? op->qdq : 0;
    return *data != 0;
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

/* Marks NAME as used beyond the plan's sight, if the main graph uses it
 * at all (a value only a branch reads has no entry and no sole user). */
static void keep_used(void *arg, const char *name)
{
    SMap *m = arg;
    size_t h = (size_t)fnv(name) & (m->cap - 1);
    while (m->key[h] && strcmp(m->key[h], name))
        h = (h + 1) & (m->cap - 1);
    if (m->key[h])
        m->val[h] += 1 << 20;
}

void onnx_qdq_plan(Imp *imp)
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
    /* A value an If branch reads (onnx_control.c) is used where the plan
     * cannot see: never fused away either. */
    for (size_t k = 0; k < nn; k++)
        onnx_subgraph_refs(imp->order[k], keep_used, &uses);
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
        if (!onnx_quant_operands(imp, imp->order[dq[i]], false))
            return -1;
        in[i] = onnx_in(imp, imp->order[dq[i]], 0);
    }
    const Quant *yq;
    int32_t zt;
    imp->node = qn;
    if (!onnx_qparams(imp, qn, 1, 2, -1, 0, NULL, &yq, &zt))
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
                                 : onnx_op_find(n)->import(imp, n);
    imp->out_node = imp->fnode = NULL;
    imp->fsub = NULL;
    imp->fq = NULL;
    imp->has_act = false;
    return ok ? 1 : -1;
}
