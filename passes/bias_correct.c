/* bias_correct.c - empirical bias correction (Nagel, van Baalen,
 * Blankevoort and Welling, "Data-Free Quantization Through Weight
 * Equalization and Bias Correction", ICCV 2019, section 4.2, in its
 * empirical form: the error's mean measured on data, not predicted from
 * batch-norm statistics).
 *
 * requires: a calibrated float graph (calibrate ran: every f32 tensor has
 *           its range), one input, [calibration] dataset in the config
 * guarantees: every conv2d/dense with an f32 result and constant f32
 *   weights (and bias) that quantize turns into an integer conv2d/dense
 *   with an int32 bias gets a new bias B.bc (W.bias.bc if it had none):
 *   b_c - e_c, where e_c is the mean over the calibration samples of
 *   (int8 result - float result) of output channel c, taken where neither
 *   result is clamped (a ReLU'd element at 0 says nothing about the error
 *   before the clamp).  The quantized graph is quantize's (and
 *   fuse-requantize's) output on a copy of this graph: the error measured
 *   is exactly the integer arithmetic's, and the new float bias rounds to
 *   the int32 bias the measurement used.  Nothing else changes.
 * invalidates: value and node ids (renumbered densely)
 *
 * The error measured is each layer's own: for every sample the quantized
 * copy runs first, and each float layer is then fed its quantized twin's
 * input, dequantized (interp_run_edited), so that (int8 result - float
 * result) is what this layer's rounding adds to the input it actually
 * gets, not the error of the layers before it passed on.  Corrected with
 * the error at the layer's output instead (the same measure on the two
 * models run side by side), layers over-correct what the layers before
 * them also correct: measured on the embedding model, the output SQNR fell
 * from 22.5 to 11 dB; correcting in rounds (Jacobi) made it worse.  With a
 * layer's own error every layer is corrected independently, which is what
 * correcting them one after the other from the input side achieves, in
 * one sweep instead of one per layer.  A layer whose input is the graph
 * input (or a float value) gets the float input; its own error then
 * includes the input's rounding, whose mean is near 0.
 *
 * The float model changes (that is the point): the report compares the
 * int8 graph with the graph before this pass (tools/qnnc.c).
 */
#include "fixedpoint.h"
#include "passes.h"
#include "quant.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Measure-and-correct rounds: a second one gained 0.2 dB on the embedding
 * model (25.7 -> 25.9) for twice the time. */
#define BC_ROUNDS 1

typedef struct Layer {
    Node *fn;        /* the float node in G */
    Node *qn;        /* its integer twin in the quantized copy */
    int64_t ch;      /* output channels (last dimension) */
    float *qbuf;     /* the dequantized int8 result of the current sample */
    double *sum;     /* by channel: sum of (dequantized - float) this round */
    int64_t *count;  /* by channel: elements counted this round */
    double *corr;    /* by channel: the correction so far (float units) */
    float lo, hi;    /* the float node's clamp */
    int64_t qlo, qhi; /* the integer node's clamp */
} Layer;

/* A float layer input replaced by its quantized twin, dequantized. */
typedef struct Input {
    const Value *f, *q;
    float *buf;
} Input;

typedef struct BC {
    Layer *layers;
    int num;
    int *of_f, *of_q; /* by value id in G / in the copy: layer index or -1 */
    Input *inputs;
    int num_inputs;
    int *in_f, *in_q; /* by value id in G / in the copy: input index or -1 */
} BC;

static bool const_f32(const Value *v)
{
    return v->kind == VAL_CONST && v->type.dtype == DT_F32;
}

static bool eligible(const Node *n)
{
    if ((n->op != OP_CONV2D && n->op != OP_DENSE) || n->result->type.dtype != DT_F32 ||
        !const_f32(n->operands[1]))
        return false;
    return n->num_operands < 3 || const_f32(n->operands[2]);
}

/* The integer conv2d/dense quantize made of float node N, or NULL. */
static Node *twin(const Graph *qg, const Node *n)
{
    size_t len = strlen(n->result->name);
    char *name = xmalloc(len + 3);
    memcpy(name, n->result->name, len);
    memcpy(name + len, ".q", 3);
    const Value *v = graph_find_value(qg, name);
    free(name);
    if (!v)
        v = graph_find_value(qg, n->result->name);
    if (!v || v->kind != VAL_NODE || v->def->op != n->op || v->type.dtype == DT_F32 || !v->type.quant)
        return NULL;
    Node *q = v->def;
    if (q->num_operands < 3 || q->operands[2]->kind != VAL_CONST || q->operands[2]->type.dtype != DT_I32 ||
        !q->operands[2]->type.quant)
        return NULL;
    return q;
}

static int64_t raw_at(const Value *v, const void *data, int64_t i)
{
    switch (v->type.dtype) {
    case DT_I8: return ((const int8_t *)data)[i];
    case DT_U8: return ((const uint8_t *)data)[i];
    case DT_I16: return ((const int16_t *)data)[i];
    default: return ((const int32_t *)data)[i];
    }
}

static void dequantize_into(float *out, const Value *v, const void *data)
{
    const Quant *q = v->type.quant;
    for (int64_t i = 0, n = type_numel(&v->type); i < n; i++)
        out[i] = (float)((double)q->scale[0] * (double)(raw_at(v, data, i) - q->zero_point[0]));
}

/* The quantized copy's run: keeps the layers' inputs and results. */
static void observe_q(void *ctx, const Value *v, const void *data)
{
    BC *bc = ctx;
    int k = bc->of_q[v->id];
    if (k >= 0)
        dequantize_into(bc->layers[k].qbuf, v, data);
    int j = bc->in_q[v->id];
    if (j >= 0)
        dequantize_into(bc->inputs[j].buf, v, data);
}

/* The float run: each layer's error, then its input replaced. */
static void edit_f(void *ctx, const Value *v, void *data)
{
    BC *bc = ctx;
    int k = bc->of_f[v->id];
    if (k >= 0) {
        Layer *l = &bc->layers[k];
        const Quant *q = l->qn->result->type.quant;
        double step = q->scale[0];
        const float *f = data;
        for (int64_t i = 0, n = type_numel(&v->type); i < n; i++) {
            double deq = l->qbuf[i];
            /* Clamped on either side: no error to learn from. */
            double raw = deq / step + q->zero_point[0];
            if (raw <= (double)l->qlo + 0.5 || raw >= (double)l->qhi - 0.5 || !(f[i] > l->lo && f[i] < l->hi))
                continue;
            int64_t c = i % l->ch;
            l->sum[c] += deq - (double)f[i];
            l->count[c]++;
        }
    }
    int j = bc->in_f[v->id];
    if (j >= 0)
        memcpy(data, bc->inputs[j].buf, (size_t)type_numel(&v->type) * sizeof(float));
}

/* Sets the copy's int32 bias of L from the float bias minus the
 * correction, as quantize rounds it (passes/quantize.c get_bias). */
static void set_int_bias(Layer *l)
{
    Value *b = l->qn->operands[2];
    const float *bf = l->fn->operands[2]->data;
    int32_t *q = (int32_t *)b->data;
    const Quant *bq = b->type.quant;
    for (int64_t c = 0; c < l->ch; c++) {
        double s = bq->scale[bq->count == 1 ? 0 : c];
        double v = fp_round_half_even(((double)bf[c] - l->corr[c]) / s);
        if (v >= INT32_MIN && v <= INT32_MAX)
            q[c] = (int32_t)v;
        else
            l->corr[c] = 0; /* keep the channel as quantize had it */
    }
}

/* Gives every eligible node without a bias an all-zero one, so that its
 * quantized copy has an int32 bias to correct. */
static void add_zero_biases(Graph *g)
{
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        if (!eligible(n) || n->num_operands > 2)
            continue;
        int64_t ch = n->operands[1]->type.dims[0];
        TensorType bt = {.dtype = DT_F32, .rank = 1, .dims = {ch}};
        float *zero = xcalloc((size_t)ch, sizeof *zero);
        Value *b = graph_add_const(g, rewrite_unique_name(g, n->operands[1]->name, ".bias"), bt, zero);
        free(zero);
        node_set_operand(g, n, 2, b);
    }
}

/* One round: both graphs over the samples; false if none could run. */
static bool run_round(BC *bc, const Graph *g, const Graph *qg, const Samples *ds)
{
    const Value *in = g->inputs.data[0];
    const TensorType *qt = &((const Value *)qg->inputs.data[0])->type;
    bool quantize_in = !type_equal(&in->type, qt);
    void *x = xmalloc((size_t)type_nbytes(&in->type));
    void *qx = quantize_in ? xmalloc((size_t)type_nbytes(qt)) : x;
    void **fout = xcalloc((size_t)g->outputs.len + 1, sizeof *fout);
    void **qout = xcalloc((size_t)qg->outputs.len + 1, sizeof *qout);
    for (int i = 0; i < g->outputs.len; i++)
        fout[i] = xmalloc((size_t)type_nbytes(&((Value *)g->outputs.data[i])->type));
    for (int i = 0; i < qg->outputs.len; i++)
        qout[i] = xmalloc((size_t)type_nbytes(&((Value *)qg->outputs.data[i])->type));
    int64_t done = 0;
    for (int64_t s = 0, n = ds->count; s < n; s++) {
        const void *ins[1] = {x}, *qins[1] = {qx};
        if (!samples_read(ds, s, x))
            break;
        if (quantize_in) {
            /* An integer input ([model] io_dtype): as the header's helper. */
            QParam p = {qt->quant->scale[0], qt->quant->zero_point[0]};
            const DTypeTraits *d = &dtype_traits[qt->dtype];
            for (int64_t i = 0, m = type_numel(qt); i < m; i++) {
                int64_t q = quantize_real(((const float *)x)[i], p, ROUND_ONNX, d->min, d->max);
                if (qt->dtype == DT_I8)
                    ((int8_t *)qx)[i] = (int8_t)q;
                else
                    ((uint8_t *)qx)[i] = (uint8_t)q;
            }
        }
        if (interp_run_observed(qg, qins, qout, observe_q, bc) != 0)
            break;
        if (interp_run_edited(g, ins, fout, edit_f, bc) != 0)
            break;
        done++;
    }
    for (int i = 0; i < g->outputs.len; i++)
        free(fout[i]);
    for (int i = 0; i < qg->outputs.len; i++)
        free(qout[i]);
    free(fout);
    free(qout);
    if (qx != x)
        free(qx);
    free(x);
    return done > 0;
}

/* Replaces each corrected layer's float bias by B.bc. */
static void install(Graph *g, BC *bc)
{
    Rewrite rw;
    rewrite_begin(&rw, g);
    int *layer_of_node = xmalloc(((size_t)rw.nold + 1) * sizeof *layer_of_node);
    for (int i = 0; i < rw.nold; i++)
        layer_of_node[i] = -1;
    for (int k = 0; k < bc->num; k++)
        for (int i = 0; i < rw.nold; i++)
            if (rw.old[i] == bc->layers[k].fn)
                layer_of_node[i] = k;
    for (rw.pos = 0; rw.pos < rw.nold; rw.pos++) {
        Node *n = rw.old[rw.pos];
        rewrite_keep(&rw, n);
        int k = layer_of_node[rw.pos];
        if (k < 0)
            continue;
        Layer *l = &bc->layers[k];
        Value *b = n->operands[2];
        float *nb = xmalloc((size_t)l->ch * sizeof *nb);
        for (int64_t c = 0; c < l->ch; c++)
            nb[c] = (float)((double)((const float *)b->data)[c] - l->corr[c]);
        n->operands[2] = graph_add_const(g, rewrite_unique_name(g, b->name, ".bc"), b->type, nb);
        free(nb);
        rewrite_kill_if_unused(&rw, b);
    }
    rewrite_finish(&rw);
    free(layer_of_node);
}

bool bias_correct(Graph *g, const PassContext *ctx)
{
    const QnncConfig *cfg = ctx->cfg;
    int ne = 0;
    for (int i = 0; i < g->nodes.len; i++)
        ne += eligible(g->nodes.data[i]);
    if (ne == 0)
        return true;
    if (cfg->calib.num_dataset == 0) {
        diag_error(g->loc, "bias-correct needs calibration data: set [calibration] dataset in the configuration");
        return false;
    }
    if (g->inputs.len != 1) {
        diag_error(g->loc, "bias-correct needs a graph with exactly one input (this one has %d)", g->inputs.len);
        return false;
    }
    add_zero_biases(g);

    /* The quantized copy: quantize and fuse-requantize, as the pipeline. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    ir_print(mem, g, NULL);
    fclose(mem);
    Graph *qg = ir_parse("<graph before bias-correct>", text, len);
    free(text);
    if (!qg || !quantize(qg, ctx) || !fuse_requantize(qg, ctx)) {
        graph_free(qg);
        return false;
    }

    BC bc = {0};
    bc.layers = xcalloc((size_t)ne + 1, sizeof *bc.layers);
    bc.inputs = xcalloc((size_t)ne + 1, sizeof *bc.inputs);
    bc.of_f = xmalloc(((size_t)g->values.len + 1) * sizeof *bc.of_f);
    bc.of_q = xmalloc(((size_t)qg->values.len + 1) * sizeof *bc.of_q);
    bc.in_f = xmalloc(((size_t)g->values.len + 1) * sizeof *bc.in_f);
    bc.in_q = xmalloc(((size_t)qg->values.len + 1) * sizeof *bc.in_q);
    for (int i = 0; i < g->values.len; i++)
        bc.of_f[i] = bc.in_f[i] = -1;
    for (int i = 0; i < qg->values.len; i++)
        bc.of_q[i] = bc.in_q[i] = -1;
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.data[i];
        Node *q = eligible(n) ? twin(qg, n) : NULL;
        if (!q || q->result->type.quant->count != 1)
            continue;
        Layer *l = &bc.layers[bc.num];
        const TensorType *t = &n->result->type;
        const DTypeTraits *d = &dtype_traits[q->result->type.dtype];
        l->fn = n;
        l->qn = q;
        l->ch = t->dims[t->rank - 1];
        l->qbuf = xmalloc((size_t)type_numel(t) * sizeof *l->qbuf);
        l->sum = xcalloc((size_t)l->ch, sizeof *l->sum);
        l->count = xcalloc((size_t)l->ch, sizeof *l->count);
        l->corr = xcalloc((size_t)l->ch, sizeof *l->corr);
        l->lo = node_float(n, ATTR_ACT_MIN, -INFINITY);
        l->hi = node_float(n, ATTR_ACT_MAX, INFINITY);
        l->qlo = node_int(q, ATTR_QMIN, d->min);
        l->qhi = node_int(q, ATTR_QMAX, d->max);
        bc.of_f[n->result->id] = bc.num;
        bc.of_q[q->result->id] = bc.num;
        bc.num++;
        /* The float input to replace: a node result whose twin is a
         * per-tensor integer tensor of the same size. */
        const Value *fi = n->operands[0], *qi = q->operands[0];
        if (fi->kind == VAL_NODE && bc.in_f[fi->id] < 0 && bc.in_q[qi->id] < 0 && qi->type.dtype != DT_F32 &&
            qi->type.quant && qi->type.quant->count == 1 && type_numel(&qi->type) == type_numel(&fi->type)) {
            Input *in = &bc.inputs[bc.num_inputs];
            in->f = fi;
            in->q = qi;
            in->buf = xmalloc((size_t)type_numel(&fi->type) * sizeof *in->buf);
            bc.in_f[fi->id] = bc.in_q[qi->id] = bc.num_inputs++;
        }
    }

    const Value *in = g->inputs.data[0];
    Samples ds = {0};
    bool ok = !bc.num || samples_open(ctx, SAMPLES_CALIBRATION, in, &ds);
    for (int round = 0; ok && bc.num && round < BC_ROUNDS; round++) {
        if (!run_round(&bc, g, qg, &ds)) {
            diag_error(g->loc, "bias-correct: the graphs could not be run on the calibration data");
            ok = false;
            break;
        }
        for (int k = 0; k < bc.num; k++) {
            Layer *l = &bc.layers[k];
            for (int64_t c = 0; c < l->ch; c++) {
                if (l->count[c])
                    l->corr[c] += l->sum[c] / (double)l->count[c];
                l->sum[c] = 0;
                l->count[c] = 0;
            }
            set_int_bias(l);
        }
    }
    samples_close(&ds);
    if (ok)
        install(g, &bc);
    for (int k = 0; k < bc.num; k++) {
        free(bc.layers[k].qbuf);
        free(bc.layers[k].sum);
        free(bc.layers[k].count);
        free(bc.layers[k].corr);
    }
    for (int j = 0; j < bc.num_inputs; j++)
        free(bc.inputs[j].buf);
    free(bc.layers);
    free(bc.inputs);
    free(bc.of_f);
    free(bc.of_q);
    free(bc.in_f);
    free(bc.in_q);
    graph_free(qg);
    return ok;
}
