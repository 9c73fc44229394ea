/* cnn1m.h - builds a ~1M-parameter int8 CNN (MobileNet-style) with random
 * weights, for the interpreter benchmark and the interpreter smoke test.
 *
 * Input i8[1,128,128,3]; a 3x3/2 stem, eight depthwise-separable blocks
 * (four of them strided), global average pooling and two dense layers.
 * Every conv has a fused ReLU (act_min = 0) and rounding=tflite, the form
 * a TFLite-converted model arrives in.  Header-only so that bench/ and
 * test/unit/ share it without a library.
 */
#ifndef QNNC_BENCH_CNN1M_H
#define QNNC_BENCH_CNN1M_H

#include "ir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Cnn1m {
    Graph *g;
    int64_t params;   /* weights + biases */
    int64_t macs;     /* multiply-accumulates of one inference */
    int64_t in_bytes; /* size of the one input */
} Cnn1m;

static uint64_t cnn1m_rng = 0x243F6A8885A308D3u;
static int cnn1m_rand(int lo, int hi)
{
    cnn1m_rng ^= cnn1m_rng << 13;
    cnn1m_rng ^= cnn1m_rng >> 7;
    cnn1m_rng ^= cnn1m_rng << 17;
    return lo + (int)(cnn1m_rng % (uint64_t)(hi - lo + 1));
}

static TensorType cnn1m_type(DType dt, const Quant *q, int rank, const int64_t *dims)
{
    TensorType t = {.dtype = dt, .rank = rank, .quant = q};
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}

/* Activations all use scale 0.05, zero point -128 (post-ReLU range). */
static const float cnn1m_act_scale = 0.05f;

/* Adds conv2d(x) with K x K kernel, stride S, GROUP, O outputs; returns
 * the result value and accumulates parameter and MAC counts. */
static Value *cnn1m_conv(Cnn1m *m, Value *x, int k, int s, int group, int64_t o, int idx)
{
    Graph *g = m->g;
    Arena *a = &g->arena;
    int64_t h = x->type.dims[1], w = x->type.dims[2], c = x->type.dims[3];
    int64_t cg = c / group;
    int64_t nw = o * k * k * cg;
    int8_t *wd = malloc((size_t)nw);
    for (int64_t i = 0; i < nw; i++)
        wd[i] = (int8_t)cnn1m_rand(-127, 127);
    int32_t *bd = malloc((size_t)o * sizeof *bd);
    for (int64_t i = 0; i < o; i++)
        bd[i] = cnn1m_rand(-2000, 2000);
    /* Per-channel weight scales, as TFLite's converter produces. */
    float *ws = malloc((size_t)o * sizeof *ws);
    int32_t *wz = calloc((size_t)o, sizeof *wz);
    for (int64_t i = 0; i < o; i++)
        ws[i] = 0.002f + 0.00001f * (float)cnn1m_rand(0, 100);
    char name[32];
    int64_t wdims[4] = {o, k, k, cg}, bdims[1] = {o};
    snprintf(name, sizeof name, "w%d", idx);
    Value *wv = graph_add_const(g, name, cnn1m_type(DT_I8, quant_new(a, 0, (int)o, ws, wz), 4, wdims), wd);
    snprintf(name, sizeof name, "b%d", idx);
    float *bs = malloc((size_t)o * sizeof *bs);
    for (int64_t i = 0; i < o; i++)
        bs[i] = cnn1m_act_scale * ws[i];
    Value *bv = graph_add_const(g, name, cnn1m_type(DT_I32, NULL, 1, bdims), bd);
    int pad = k / 2;
    int64_t oh = (h + 2 * pad - k) / s + 1, ow = (w + 2 * pad - k) / s + 1;
    int64_t ydims[4] = {1, oh, ow, o};
    float ys = cnn1m_act_scale;
    int32_t yz = -128;
    Value *ops[3] = {x, wv, bv};
    snprintf(name, sizeof name, "c%d", idx);
    Node *n = graph_add_node(g, OP_CONV2D, ops, 3, name, cnn1m_type(DT_I8, quant_new(a, -1, 1, &ys, &yz), 4, ydims));
    int64_t st[2] = {s, s}, pd[4] = {pad, pad, pad, pad};
    node_set_ints(g, n, ATTR_STRIDES, st, 2);
    node_set_ints(g, n, ATTR_PADS, pd, 4);
    if (group != 1)
        node_set_int(g, n, ATTR_GROUP, group);
    node_set_enum(g, n, ATTR_ROUNDING, ROUND_TFLITE);
    node_set_float(g, n, ATTR_ACT_MIN, 0.0f);
    m->params += nw + o;
    m->macs += oh * ow * o * k * k * cg;
    free(wd), free(bd), free(ws), free(wz), free(bs);
    return n->result;
}

static Value *cnn1m_dense(Cnn1m *m, Value *x, int64_t o, int idx)
{
    Graph *g = m->g;
    Arena *a = &g->arena;
    int64_t kdim = x->type.dims[1];
    int8_t *wd = malloc((size_t)(o * kdim));
    for (int64_t i = 0; i < o * kdim; i++)
        wd[i] = (int8_t)cnn1m_rand(-127, 127);
    float ws = 0.003f, ys = cnn1m_act_scale;
    int32_t zero = 0, yz = -128;
    int64_t wdims[2] = {o, kdim}, ydims[2] = {1, o};
    char name[32];
    snprintf(name, sizeof name, "fc%dw", idx);
    Value *wv = graph_add_const(g, name, cnn1m_type(DT_I8, quant_new(a, -1, 1, &ws, &zero), 2, wdims), wd);
    Value *ops[2] = {x, wv};
    snprintf(name, sizeof name, "fc%d", idx);
    Node *n = graph_add_node(g, OP_DENSE, ops, 2, name, cnn1m_type(DT_I8, quant_new(a, -1, 1, &ys, &yz), 2, ydims));
    node_set_enum(g, n, ATTR_ROUNDING, ROUND_TFLITE);
    m->params += o * kdim;
    m->macs += o * kdim;
    free(wd);
    return n->result;
}

static Cnn1m cnn1m_build(void)
{
    Cnn1m m = {.g = graph_new("cnn1m")};
    Graph *g = m.g;
    float xs = 1.0f / 128;
    int32_t xz = 0;
    int64_t xdims[4] = {1, 128, 128, 3};
    Value *x = graph_add_input(g, "x", cnn1m_type(DT_I8, quant_new(&g->arena, -1, 1, &xs, &xz), 4, xdims));
    m.in_bytes = 128 * 128 * 3;
    int idx = 0;
    Value *v = cnn1m_conv(&m, x, 3, 2, 1, 32, idx++);
    static const int64_t chans[8] = {64, 128, 128, 256, 256, 512, 512, 512};
    static const int strides[8] = {1, 2, 1, 2, 1, 2, 1, 1};
    for (int b = 0; b < 8; b++) {
        int64_t c = v->type.dims[3];
        v = cnn1m_conv(&m, v, 3, strides[b], (int)c, c, idx++);   /* depthwise */
        v = cnn1m_conv(&m, v, 1, 1, 1, chans[b], idx++);          /* pointwise */
    }
    float ys = cnn1m_act_scale;
    int32_t yz = -128;
    const Quant *aq = quant_new(&g->arena, -1, 1, &ys, &yz);
    int64_t pdims[4] = {1, 1, 1, 512}, fdims[2] = {1, 512};
    Value *ops[1] = {v};
    Node *p = graph_add_node(g, OP_GLOBAL_AVG_POOL, ops, 1, "gap", cnn1m_type(DT_I8, aq, 4, pdims));
    node_set_enum(g, p, ATTR_ROUNDING, ROUND_TFLITE);
    ops[0] = p->result;
    Node *r = graph_add_node(g, OP_RESHAPE, ops, 1, "flat", cnn1m_type(DT_I8, aq, 2, fdims));
    v = cnn1m_dense(&m, r->result, 256, 0);
    v = cnn1m_dense(&m, v, 100, 1);
    graph_add_output(g, v);
    return m;
}

#endif /* QNNC_BENCH_CNN1M_H */
