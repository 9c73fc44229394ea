/* test_interp.c - the reference interpreter, op by op, on small graphs
 * built with the ir.h builders and checked against hand-computed values.
 *
 * Every expected number below is worked out by hand in the comment beside
 * it from the rules in docs/ir-semantics.md (ONNX / TFLite semantics), never
 * taken from an earlier interpreter run.  Each graph is also run through
 * the verifier, so the cases stay inside the IR contract.
 */
#include "ir.h"
#include "quant.h" /* ld_int */

#include "../../bench/cnn1m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int passed, failed;
static Graph *G;
static const char *case_name;
static int value_counter;

/* ------------------------------------------------------------ builders */

static void begin(const char *name)
{
    if (G)
        graph_free(G);
    G = graph_new(name);
    case_name = name;
}

static TensorType mk_type(DType dt, const Quant *q, const int64_t *dims, int rank)
{
    TensorType t = {.dtype = dt, .rank = rank, .quant = q};
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}
#define DIMS(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define TY(dt, q, ...) mk_type(dt, q, DIMS(__VA_ARGS__))

static const Quant *QT(float s, int32_t zp) { return quant_new(&G->arena, -1, 1, &s, &zp); }
static const Quant *QA(int axis, int n, const float *s, const int32_t *zp)
{
    return quant_new(&G->arena, axis, n, s, zp);
}

static const char *fresh(const char *prefix)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%d", prefix, value_counter++);
    return arena_strdup(&G->arena, buf);
}

static Value *C(TensorType t, const void *data) { return graph_add_const(G, fresh("c"), t, data); }
#define F32(...) (const float[]){__VA_ARGS__}
#define I8(...) (const int8_t[]){__VA_ARGS__}
#define U8(...) (const uint8_t[]){__VA_ARGS__}
#define I32(...) (const int32_t[]){__VA_ARGS__}

static Node *mk_node(OpId op, TensorType rt, Value *const *ops, int n)
{
    return graph_add_node(G, op, ops, n, fresh("v"), rt);
}
#define NODE(op, rt, ...)                                                                  \
    mk_node(op, rt, (Value *const[]){__VA_ARGS__},                                         \
            (int)(sizeof((Value *[]){__VA_ARGS__}) / sizeof(Value *)))

static void set_ints(Node *n, AttrId id, const int64_t *v, int count) { node_set_ints(G, n, id, v, count); }
#define INTS(n, id, ...) set_ints(n, id, DIMS(__VA_ARGS__))
static void tflite(Node *n) { node_set_enum(G, n, ATTR_ROUNDING, ROUND_TFLITE); }

/* ------------------------------------------------------------ running */

/* Runs G with V as its only output into a fresh buffer (NULL on failure). */
static void *run_for(Value *v, int line)
{
    G->outputs.len = 0;
    graph_add_output(G, v);
    if (!ir_verify(G)) {
        printf("FAIL %s (line %d): graph does not verify\n", case_name, line);
        failed++;
        return NULL;
    }
    void *out = calloc(1, (size_t)type_nbytes(&v->type) + 1);
    void *outs[1] = {out};
    if (interp_run(G, NULL, outs) != 0) {
        printf("FAIL %s (line %d): interp_run failed\n", case_name, line);
        failed++;
        free(out);
        return NULL;
    }
    return out;
}

static void expect_ints(int line, Value *v, const int64_t *want, int n)
{
    void *out = run_for(v, line);
    if (!out)
        return;
    if (type_numel(&v->type) != n) {
        printf("FAIL %s (line %d): %lld elements, expected %d\n", case_name, line,
               (long long)type_numel(&v->type), n);
        failed++;
        free(out);
        return;
    }
    for (int i = 0; i < n; i++) {
        int64_t got = ld_int(out, v->type.dtype, i);
        if (got != want[i]) {
            printf("FAIL %s (line %d): element %d is %lld, expected %lld\n", case_name, line, i,
                   (long long)got, (long long)want[i]);
            failed++;
        } else {
            passed++;
        }
    }
    free(out);
}

static void expect_floats(int line, Value *v, double tol, const double *want, int n)
{
    void *out = run_for(v, line);
    if (!out)
        return;
    if (type_numel(&v->type) != n || v->type.dtype != DT_F32) {
        printf("FAIL %s (line %d): wrong element count or dtype\n", case_name, line);
        failed++;
        free(out);
        return;
    }
    for (int i = 0; i < n; i++) {
        double got = ((const float *)out)[i];
        bool ok = isnan(want[i]) ? isnan(got) : fabs(got - want[i]) <= tol;
        if (!ok) {
            printf("FAIL %s (line %d): element %d is %.9g, expected %.9g\n", case_name, line, i,
                   got, want[i]);
            failed++;
        } else {
            passed++;
        }
    }
    free(out);
}

#define EXPECT_I(v, ...)                                                                   \
    expect_ints(__LINE__, v, (const int64_t[]){__VA_ARGS__},                               \
                (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define EXPECT_F(v, tol, ...)                                                              \
    expect_floats(__LINE__, v, tol, (const double[]){__VA_ARGS__},                         \
                  (int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)))

/* ------------------------------------------------------------ conv2d */

static void test_conv_float(void)
{
    begin("conv2d float");
    /* x = 1..9 in a 3x3 image, one channel. */
    Value *x = C(TY(DT_F32, NULL, 1, 3, 3, 1), F32(1, 2, 3, 4, 5, 6, 7, 8, 9));
    /* Diagonal 2x2 kernel + bias 0.5: y(i,j) = x(i,j) + x(i+1,j+1) + 0.5. */
    Value *w = C(TY(DT_F32, NULL, 1, 2, 2, 1), F32(1, 0, 0, 1));
    Value *b = C(TY(DT_F32, NULL, 1), F32(0.5f));
    Node *n = NODE(OP_CONV2D, TY(DT_F32, NULL, 1, 2, 2, 1), x, w, b);
    EXPECT_F(n->result, 0, 6.5, 8.5, 12.5, 14.5);

    /* All-ones 3x3, pads 1, stride 2: each output sums the in-image part of
     * its window: {1,2,4,5}=12, {2,3,5,6}=16, {4,5,7,8}=24, {5,6,8,9}=28. */
    Value *ones = C(TY(DT_F32, NULL, 1, 3, 3, 1), F32(1, 1, 1, 1, 1, 1, 1, 1, 1));
    n = NODE(OP_CONV2D, TY(DT_F32, NULL, 1, 2, 2, 1), x, ones);
    INTS(n, ATTR_PADS, 1, 1, 1, 1);
    INTS(n, ATTR_STRIDES, 2, 2);
    EXPECT_F(n->result, 0, 12, 16, 24, 28);

    /* Dilation 2 on a 4x4 image x(r,c) = 4r + c with a 2x2 ones kernel:
     * y(0,0) = x00+x02+x20+x22 = 0+2+8+10 = 20, then 24, 36, 40. */
    Value *x4 = C(TY(DT_F32, NULL, 1, 4, 4, 1),
                  F32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    Value *w4 = C(TY(DT_F32, NULL, 1, 2, 2, 1), F32(1, 1, 1, 1));
    n = NODE(OP_CONV2D, TY(DT_F32, NULL, 1, 2, 2, 1), x4, w4);
    INTS(n, ATTR_DILATIONS, 2, 2);
    EXPECT_F(n->result, 0, 20, 24, 36, 40);

    /* Fused activation on a float conv: clamp 6.5..14.5 to [7, 13]. */
    n = NODE(OP_CONV2D, TY(DT_F32, NULL, 1, 2, 2, 1), x, w, b);
    node_set_float(G, n, ATTR_ACT_MIN, 7.0f);
    node_set_float(G, n, ATTR_ACT_MAX, 13.0f);
    EXPECT_F(n->result, 0, 7, 8.5, 12.5, 13);
}

static void test_conv_quant(void)
{
    begin("conv2d grouped i32 accumulator");
    /* x = [2,3,4,5] with zx = 1 -> [1,2,3,4].  group 2, O = 2, Cg = 2.
     * w o0 = [1,1] (zw 0), o1 = [2,0] with zw 1 -> [1,-1].
     * acc0 = 1*1 + 2*1 + 10 = 13; acc1 = 3*1 + 4*(-1) - 20 = -21. */
    Value *x = C(TY(DT_I8, QT(0.5f, 1), 1, 1, 1, 4), I8(2, 3, 4, 5));
    Value *w = C(TY(DT_I8, QA(0, 2, F32(1, 1), I32(0, 1)), 2, 1, 1, 2), I8(1, 1, 2, 0));
    Value *b = C(TY(DT_I32, NULL, 2), I32(10, -20));
    Node *n = NODE(OP_CONV2D, TY(DT_I32, NULL, 1, 1, 1, 2), x, w, b);
    node_set_int(G, n, ATTR_GROUP, 2);
    EXPECT_I(n->result, 13, -21);

    begin("conv2d depthwise per-axis, ties in both modes");
    /* NHWC 2x2x2: channel 0 = 1,2,3,4, channel 1 = 5,6,7,8.
     * Depthwise 2x2 kernel of ones; weight scales 0.5 and 0.25.
     * acc0 = 10 -> 10*0.5 = 5; acc1 = 26 -> 26*0.25 = 6.5:
     * onnx rounds the tie to even (6), tflite: SRDHM(26, 2^30) = 13, then
     * RoundingDivideByPOT(13, 1) = 6.5 -> 7 (away from zero). */
    Value *xd = C(TY(DT_I8, QT(1, 0), 1, 2, 2, 2), I8(1, 5, 2, 6, 3, 7, 4, 8));
    Value *wd = C(TY(DT_I8, QA(0, 2, F32(0.5f, 0.25f), I32(0, 0)), 2, 2, 2, 1),
                  I8(1, 1, 1, 1, 1, 1, 1, 1));
    Node *on = NODE(OP_CONV2D, TY(DT_I8, QT(1, 0), 1, 1, 1, 2), xd, wd);
    node_set_int(G, on, ATTR_GROUP, 2);
    EXPECT_I(on->result, 5, 6);
    Node *tf = NODE(OP_CONV2D, TY(DT_I8, QT(1, 0), 1, 1, 1, 2), xd, wd);
    node_set_int(G, tf, ATTR_GROUP, 2);
    tflite(tf);
    EXPECT_I(tf->result, 5, 7);

    begin("conv2d quantized padding uses the zero point");
    /* x zp = 3, all elements 4 (real 1*(4-3) = 1).  3x3 ones kernel, pads
     * 1, 2x2 image: each window has 4 real pixels -> acc = 4; padding adds
     * (zx - zx) = 0.  Output scale 2, zp -1: 4*0.5 = 2 -> 2 - 1 = 1. */
    Value *xp = C(TY(DT_I8, QT(1, 3), 1, 2, 2, 1), I8(4, 4, 4, 4));
    Value *wp = C(TY(DT_I8, QT(1, 0), 1, 3, 3, 1), I8(1, 1, 1, 1, 1, 1, 1, 1, 1));
    n = NODE(OP_CONV2D, TY(DT_I8, QT(2, -1), 1, 2, 2, 1), xp, wp);
    INTS(n, ATTR_PADS, 1, 1, 1, 1);
    EXPECT_I(n->result, 1, 1, 1, 1);

    begin("conv2d u8 with strides and zero points");
    /* u8 x zp 128: x = 130,126,128,140 -> 2,-2,0,12 (2x2).  1x1 kernel
     * w = 3 (zw 1 -> 2), stride 2 keeps only pixel (0,0): acc = 4.
     * sy = 0.5, zy 128: 4*1*1/0.5 = 8 -> 136. */
    Value *xu = C(TY(DT_U8, QT(1, 128), 1, 2, 2, 1), U8(130, 126, 128, 140));
    Value *wu = C(TY(DT_U8, QT(1, 1), 1, 1, 1, 1), U8(3));
    n = NODE(OP_CONV2D, TY(DT_U8, QT(0.5f, 128), 1, 1, 1, 1), xu, wu);
    INTS(n, ATTR_STRIDES, 2, 2);
    EXPECT_I(n->result, 136);
}

/* ------------------------------------------------------------ dense, matmul */

static void test_dense(void)
{
    begin("dense float");
    /* y = x w^T + b: [1,2]·[1,1] = 3 + 1; [1,2]·[0.5,-1] = -1.5 - 1. */
    Value *x = C(TY(DT_F32, NULL, 1, 2), F32(1, 2));
    Value *w = C(TY(DT_F32, NULL, 2, 2), F32(1, 1, 0.5f, -1));
    Value *b = C(TY(DT_F32, NULL, 2), F32(1, -1));
    Node *n = NODE(OP_DENSE, TY(DT_F32, NULL, 1, 2), x, w, b);
    EXPECT_F(n->result, 0, 4, -2.5);

    begin("dense saturation and fused activation");
    /* acc = [200, -200, 100] for x = [100,100], w rows [1,1], [-1,-1], [0,1]. */
    Value *xq = C(TY(DT_I8, QT(1, 0), 1, 2), I8(100, 100));
    Value *wq = C(TY(DT_I8, QT(1, 0), 3, 2), I8(1, 1, -1, -1, 0, 1));
    /* sy 1, zy 10: 210 -> 127, -190 -> -128, 110. */
    n = NODE(OP_DENSE, TY(DT_I8, QT(1, 10), 1, 3), xq, wq);
    EXPECT_I(n->result, 127, -128, 110);
    /* sy 2: 100, -100, 50; act [-10, 101] quantizes to [-5, 50.5]:
     * onnx 50.5 -> 50 (even) -> [50, -5, 50]; tflite 50.5 -> 51 (away)
     * -> [51, -5, 50]. */
    n = NODE(OP_DENSE, TY(DT_I8, QT(2, 0), 1, 3), xq, wq);
    node_set_float(G, n, ATTR_ACT_MIN, -10.0f);
    node_set_float(G, n, ATTR_ACT_MAX, 101.0f);
    EXPECT_I(n->result, 50, -5, 50);
    Node *t = NODE(OP_DENSE, TY(DT_I8, QT(2, 0), 1, 3), xq, wq);
    node_set_float(G, t, ATTR_ACT_MIN, -10.0f);
    node_set_float(G, t, ATTR_ACT_MAX, 101.0f);
    tflite(t);
    EXPECT_I(t->result, 51, -5, 50);
    /* Bias in the accumulator: acc + [5, 6, 7] = [205, -194, 107]; sy 4:
     * 51.25 -> 51, -48.5 -> -48 (onnx even), 26.75 -> 27. */
    Value *bq = C(TY(DT_I32, NULL, 3), I32(5, 6, 7));
    n = NODE(OP_DENSE, TY(DT_I8, QT(4, 0), 1, 3), xq, wq, bq);
    EXPECT_I(n->result, 51, -48, 27);
    /* Same in tflite, multiplier 0.25 = (2^30, shift -1), which rounds
     * twice: 205 -> SRDHM = 102.5 -> 103 -> RDBPOT(103, 1) = 51.5 -> 52
     * (the double rounding TFLite's reference really does); -194 -> -97
     * exactly -> -48.5 -> -49 (away from zero); 107 -> 53.5 -> 54 -> 27. */
    t = NODE(OP_DENSE, TY(DT_I8, QT(4, 0), 1, 3), xq, wq, bq);
    tflite(t);
    EXPECT_I(t->result, 52, -49, 27);
}

static void test_matmul(void)
{
    begin("matmul float broadcast");
    /* a [2,1,2] = [[1,2]], [[3,4]]; b [2,3] = [[1,0,1],[0,1,1]] broadcast
     * over the batch: [1,2,3] and [3,4,7]. */
    Value *a = C(TY(DT_F32, NULL, 2, 1, 2), F32(1, 2, 3, 4));
    Value *b = C(TY(DT_F32, NULL, 2, 3), F32(1, 0, 1, 0, 1, 1));
    Node *n = NODE(OP_MATMUL, TY(DT_F32, NULL, 2, 1, 3), a, b);
    EXPECT_F(n->result, 0, 1, 2, 3, 3, 4, 7);

    begin("matmul quantized per-axis b");
    /* Same integers; b scales per column [1, 0.5, 0.5]:
     * batch 0: [1, 2*0.5 = 1, 3*0.5 = 1.5 -> 2 (even)],
     * batch 1: [3, 4*0.5 = 2, 7*0.5 = 3.5 -> 4 (even)]. */
    Value *aq = C(TY(DT_I8, QT(1, 0), 2, 1, 2), I8(1, 2, 3, 4));
    Value *bq = C(TY(DT_I8, QA(1, 3, F32(1, 0.5f, 0.5f), I32(0, 0, 0)), 2, 3), I8(1, 0, 1, 0, 1, 1));
    n = NODE(OP_MATMUL, TY(DT_I8, QT(1, 0), 2, 1, 3), aq, bq);
    EXPECT_I(n->result, 1, 1, 2, 3, 2, 4);
    /* tflite: 1.5 -> SRDHM(3, 2^30) = 2 (shift 0: no RDBPOT), 3.5 -> 4. */
    n = NODE(OP_MATMUL, TY(DT_I8, QT(1, 0), 2, 1, 3), aq, bq);
    tflite(n);
    EXPECT_I(n->result, 1, 1, 2, 3, 2, 4);
    /* i32 accumulator form with a zero point on a: za = 1 -> a-za =
     * [0,1],[2,3]; b raw per-axis zp 0: [0,1,1], [2,3,5]. */
    Value *az = C(TY(DT_I8, QT(1, 1), 2, 1, 2), I8(1, 2, 3, 4));
    n = NODE(OP_MATMUL, TY(DT_I32, NULL, 2, 1, 3), az, bq);
    EXPECT_I(n->result, 0, 1, 1, 2, 3, 5);
}

/* ------------------------------------------------------------ batchnorm */

static void test_batchnorm(void)
{
    begin("batchnorm");
    /* eps 1: (1-0)/sqrt(3+1)*2 + 0.5 = 1.5; (2-1)/sqrt(0+1)*1 - 1 = 0;
     * second row (3, 5): 3/2*2+0.5 = 3.5; 4/1*1-1 = 3. */
    Value *x = C(TY(DT_F32, NULL, 2, 2), F32(1, 2, 3, 5));
    Value *s = C(TY(DT_F32, NULL, 2), F32(2, 1));
    Value *b = C(TY(DT_F32, NULL, 2), F32(0.5f, -1));
    Value *m = C(TY(DT_F32, NULL, 2), F32(0, 1));
    Value *v = C(TY(DT_F32, NULL, 2), F32(3, 0));
    Node *n = NODE(OP_BATCHNORM, TY(DT_F32, NULL, 2, 2), x, s, b, m, v);
    node_set_float(G, n, ATTR_EPSILON, 1.0f);
    EXPECT_F(n->result, 0, 1.5, 0, 3.5, 3);
}

/* ------------------------------------------------------------ add, mul */

static void test_add_mul(void)
{
    begin("add/mul float broadcast");
    Value *a = C(TY(DT_F32, NULL, 2, 2), F32(1, 2, 3, 4));
    Value *b = C(TY(DT_F32, NULL, 2), F32(10, 20));
    EXPECT_F(NODE(OP_ADD, TY(DT_F32, NULL, 2, 2), a, b)->result, 0, 11, 22, 13, 24);
    EXPECT_F(NODE(OP_MUL, TY(DT_F32, NULL, 2, 2), a, b)->result, 0, 10, 40, 30, 80);
    /* Broadcast on both sides: [2,1] + [1,2] -> [2,2]. */
    Value *c = C(TY(DT_F32, NULL, 2, 1), F32(1, 2));
    Value *d = C(TY(DT_F32, NULL, 1, 2), F32(10, 20));
    EXPECT_F(NODE(OP_ADD, TY(DT_F32, NULL, 2, 2), c, d)->result, 0, 11, 21, 12, 22);

    begin("add quantized ties");
    /* a real = 0.5*[1, 3, -1, -3] = [0.5, 1.5, -0.5, -1.5], b = 0, sy 1.
     * onnx: half even -> [0, 2, 0, -2].
     * tflite ADD: twice_max = 1, input multiplier 0.5 = (2^30, 0), output
     * multiplier 2^-20 = (2^30, -19).  a=1: 2^20 -> 2^19 -> SRDHM 2^18 ->
     * RDBPOT(2^18, 19) = 0.5 -> 1; a=3: 1.5 -> 2; a=-1: -0.5 -> -1;
     * a=-3: -1.5 -> -2 (RoundingDivideByPOT rounds away from zero). */
    Value *qa = C(TY(DT_I8, QT(0.5f, 0), 4), I8(1, 3, -1, -3));
    Value *qb = C(TY(DT_I8, QT(0.5f, 0), 4), I8(0, 0, 0, 0));
    EXPECT_I(NODE(OP_ADD, TY(DT_I8, QT(1, 0), 4), qa, qb)->result, 0, 2, 0, -2);
    Node *n = NODE(OP_ADD, TY(DT_I8, QT(1, 0), 4), qa, qb);
    tflite(n);
    EXPECT_I(n->result, 1, 2, -1, -2);

    begin("add quantized zero points, saturation, activation");
    /* a q(1,5) [10] real 5, b q(1,-5) [0] real 5 -> 10 -> zy 3 -> 13. */
    Value *za = C(TY(DT_I8, QT(1, 5), 1), I8(10));
    Value *zb = C(TY(DT_I8, QT(1, -5), 1), I8(0));
    EXPECT_I(NODE(OP_ADD, TY(DT_I8, QT(1, 3), 1), za, zb)->result, 13);
    n = NODE(OP_ADD, TY(DT_I8, QT(1, 3), 1), za, zb);
    tflite(n);
    EXPECT_I(n->result, 13);
    /* 127 + [127, -128, -100] (b broadcast the other way) = 254 -> 127,
     * -1, 27; with act_max 20: 20, -1, 20. */
    Value *s1 = C(TY(DT_I8, QT(1, 0), 1), I8(127));
    Value *s3 = C(TY(DT_I8, QT(1, 0), 3), I8(127, -128, -100));
    EXPECT_I(NODE(OP_ADD, TY(DT_I8, QT(1, 0), 3), s1, s3)->result, 127, -1, 27);
    n = NODE(OP_ADD, TY(DT_I8, QT(1, 0), 3), s1, s3);
    node_set_float(G, n, ATTR_ACT_MAX, 20.0f);
    EXPECT_I(n->result, 20, -1, 20);
    /* -128 + -128 in tflite saturates at the low end. */
    Value *m1 = C(TY(DT_I8, QT(1, 0), 1), I8(-128));
    n = NODE(OP_ADD, TY(DT_I8, QT(1, 0), 1), m1, m1);
    tflite(n);
    EXPECT_I(n->result, -128);

    begin("add tflite precision");
    /* Scales 0.05, 0.13 -> 0.1: real (0.05*-109 + 0.13*100) / 0.1 =
     * 75.4999933 (float32 scales), just below the tie: 75 in both modes.
     * TFLite's 20 bits of headroom keep it there (with 10 bits the
     * fixed-point path would reach 76; cross-checked with an independent
     * Python model of the TFLite ADD kernel). */
    Value *ta = C(TY(DT_I8, QT(0.05f, 0), 2), I8(-109, -113));
    Value *tb = C(TY(DT_I8, QT(0.13f, 0), 2), I8(100, 95));
    /* Second element: (-5.65 + 12.35) / 0.1 = 67, far from a tie. */
    EXPECT_I(NODE(OP_ADD, TY(DT_I8, QT(0.1f, 0), 2), ta, tb)->result, 75, 67);
    n = NODE(OP_ADD, TY(DT_I8, QT(0.1f, 0), 2), ta, tb);
    tflite(n);
    EXPECT_I(n->result, 75, 67);

    begin("mul quantized ties");
    /* a real 0.5*[3, 5, -3] = [1.5, 2.5, -1.5], b = 1: onnx [2, 2, -2].
     * tflite MUL: multiplier 0.5 = (2^30, shift 0), so only SRDHM rounds,
     * ties towards +inf: 1.5 -> 2, 2.5 -> 3, -1.5 -> -1. */
    Value *ma = C(TY(DT_I8, QT(0.5f, 0), 3), I8(3, 5, -3));
    Value *mb = C(TY(DT_I8, QT(1, 0), 3), I8(1, 1, 1));
    EXPECT_I(NODE(OP_MUL, TY(DT_I8, QT(1, 0), 3), ma, mb)->result, 2, 2, -2);
    n = NODE(OP_MUL, TY(DT_I8, QT(1, 0), 3), ma, mb);
    tflite(n);
    EXPECT_I(n->result, 2, 3, -1);
    /* Zero points: a q(0.5, 2) [6] real 2, b q(0.25, -4) [12] real 4 -> 8,
     * sy 0.5, zy -10 -> 16 - 10 = 6.  Overflow: 100*100 -> 127. */
    Value *pa = C(TY(DT_I8, QT(0.5f, 2), 1), I8(6));
    Value *pb = C(TY(DT_I8, QT(0.25f, -4), 1), I8(12));
    EXPECT_I(NODE(OP_MUL, TY(DT_I8, QT(0.5f, -10), 1), pa, pb)->result, 6);
    n = NODE(OP_MUL, TY(DT_I8, QT(0.5f, -10), 1), pa, pb);
    tflite(n);
    EXPECT_I(n->result, 6);
    Value *big = C(TY(DT_I8, QT(1, 0), 1), I8(100));
    EXPECT_I(NODE(OP_MUL, TY(DT_I8, QT(1, 0), 1), big, big)->result, 127);
}

/* ------------------------------------------------------------ activations */

static void test_activations(void)
{
    begin("relu/clip");
    Value *f = C(TY(DT_F32, NULL, 3), F32(-1, 0, 2.5f));
    EXPECT_F(NODE(OP_RELU, TY(DT_F32, NULL, 3), f)->result, 0, 0, 0, 2.5);
    /* Quantized relu = max(x, zp): zp -3. */
    Value *q = C(TY(DT_I8, QT(0.5f, -3), 3), I8(-10, -3, 5));
    EXPECT_I(NODE(OP_RELU, TY(DT_I8, QT(0.5f, -3), 3), q)->result, -3, -3, 5);
    Value *cf = C(TY(DT_F32, NULL, 3), F32(-3, 0.5f, 7));
    Node *n = NODE(OP_CLIP, TY(DT_F32, NULL, 3), cf);
    node_set_float(G, n, ATTR_MIN, -1.0f);
    node_set_float(G, n, ATTR_MAX, 2.0f);
    EXPECT_F(n->result, 0, -1, 0.5, 2);
    /* Bounds -1.25/0.5 = -2.5 -> -2 and 0.75/0.5 = 1.5 -> 2 (half even). */
    Value *cq = C(TY(DT_I8, QT(0.5f, 0), 6), I8(-5, -2, 0, 1, 2, 5));
    n = NODE(OP_CLIP, TY(DT_I8, QT(0.5f, 0), 6), cq);
    node_set_float(G, n, ATTR_MIN, -1.25f);
    node_set_float(G, n, ATTR_MAX, 0.75f);
    EXPECT_I(n->result, -2, -2, 0, 1, 2, 2);
    /* Bound beyond the dtype saturates: max 1000 -> 127. */
    n = NODE(OP_CLIP, TY(DT_I8, QT(0.5f, 0), 6), cq);
    node_set_float(G, n, ATTR_MAX, 1000.0f);
    EXPECT_I(n->result, -5, -2, 0, 1, 2, 5);

    begin("leaky_relu");
    Value *lf = C(TY(DT_F32, NULL, 2), F32(-2, 3));
    n = NODE(OP_LEAKY_RELU, TY(DT_F32, NULL, 2), lf);
    node_set_float(G, n, ATTR_ALPHA, 0.5f);
    EXPECT_F(n->result, 0, -1, 3);
    /* Default alpha 0.01: -2 -> -0.02. */
    EXPECT_F(NODE(OP_LEAKY_RELU, TY(DT_F32, NULL, 2), lf)->result, 1e-7, -0.02, 3);
    /* x q(0.25) [-4, 4] = [-1, 1]; alpha 0.25 -> [-0.25, 1]; y q(0.5):
     * -0.5 -> 0 (tie to even), 2. */
    Value *lq = C(TY(DT_I8, QT(0.25f, 0), 2), I8(-4, 4));
    n = NODE(OP_LEAKY_RELU, TY(DT_I8, QT(0.5f, 0), 2), lq);
    node_set_float(G, n, ATTR_ALPHA, 0.25f);
    EXPECT_I(n->result, 0, 2);

    begin("sigmoid/tanh");
    /* sigmoid(0) = 0.5, sigmoid(2) = 0.880797078. */
    Value *sf = C(TY(DT_F32, NULL, 2), F32(0, 2));
    EXPECT_F(NODE(OP_SIGMOID, TY(DT_F32, NULL, 2), sf)->result, 1e-6, 0.5, 0.880797078);
    EXPECT_F(NODE(OP_TANH, TY(DT_F32, NULL, 2), sf)->result, 1e-6, 0, 0.964027580);
    /* Quantized sigmoid to q(1/256, -128): 0 -> 0.5*256 - 128 = 0;
     * 100 -> ~1 -> 256 - 128 = 128 -> 127; -100 -> ~0 -> -128. */
    Value *sq = C(TY(DT_I8, QT(1, 0), 3), I8(-100, 0, 100));
    EXPECT_I(NODE(OP_SIGMOID, TY(DT_I8, QT(1.0f / 256, -128), 3), sq)->result, -128, 0, 127);
    /* tanh to q(1/128, 0): -1 -> -128, 0 -> 0, 1 -> 128 -> 127. */
    EXPECT_I(NODE(OP_TANH, TY(DT_I8, QT(1.0f / 128, 0), 3), sq)->result, -128, 0, 127);

    begin("hard_swish");
    /* x * relu6(x+3) / 6: -4 -> 0; -1 -> -1*2/6; 0; 1 -> 4/6; 4 -> 4. */
    Value *hf = C(TY(DT_F32, NULL, 5), F32(-4, -1, 0, 1, 4));
    EXPECT_F(NODE(OP_HARD_SWISH, TY(DT_F32, NULL, 5), hf)->result, 1e-6,
             0, -1.0 / 3, 0, 2.0 / 3, 4);
    /* q(0.5) [6, -2] = [3, -1] -> [3, -1/3] -> q(0.25): 12, -1.33 -> -1. */
    Value *hq = C(TY(DT_I8, QT(0.5f, 0), 2), I8(6, -2));
    EXPECT_I(NODE(OP_HARD_SWISH, TY(DT_I8, QT(0.25f, 0), 2), hq)->result, 12, -1);

    begin("softmax");
    /* axis -1 on rows [1,1] and [0,0]: all 0.5.  axis 0 on columns [1,0]:
     * e/(e+1) = 0.731058579, 1/(e+1) = 0.268941421. */
    Value *x = C(TY(DT_F32, NULL, 2, 2), F32(1, 1, 0, 0));
    EXPECT_F(NODE(OP_SOFTMAX, TY(DT_F32, NULL, 2, 2), x)->result, 1e-6, 0.5, 0.5, 0.5, 0.5);
    n = NODE(OP_SOFTMAX, TY(DT_F32, NULL, 2, 2), x);
    node_set_int(G, n, ATTR_AXIS, 0);
    EXPECT_F(n->result, 1e-6, 0.731058579, 0.731058579, 0.268941421, 0.268941421);
    /* Large logits stay finite (max subtracted): [1000, 1000] -> 0.5. */
    Value *big = C(TY(DT_F32, NULL, 2), F32(1000, 1000));
    EXPECT_F(NODE(OP_SOFTMAX, TY(DT_F32, NULL, 2), big)->result, 1e-6, 0.5, 0.5);
    /* Quantized: [0, 0] -> 0.5 each -> q(1/256, -128) -> 0; and
     * [0, 100] -> ~[0, 1] -> [-128, 127 (128 saturated)]. */
    Value *q2 = C(TY(DT_I8, QT(1, 0), 2, 2), I8(0, 0, 0, 100));
    EXPECT_I(NODE(OP_SOFTMAX, TY(DT_I8, QT(1.0f / 256, -128), 2, 2), q2)->result, 0, 0, -128, 127);
}

/* ------------------------------------------------------------ pooling */

static void test_pools(void)
{
    begin("max_pool");
    /* x = -1..-9 (3x3), kernel 2x2, stride 1, pads top/left 1: padding is
     * ignored, so the corner window sees only -1:
     *   -1 max(-1,-2) max(-2,-3) / -1 -1 -2 / -4 -4 -5. */
    Value *xf = C(TY(DT_F32, NULL, 1, 3, 3, 1), F32(-1, -2, -3, -4, -5, -6, -7, -8, -9));
    Node *n = NODE(OP_MAX_POOL, TY(DT_F32, NULL, 1, 3, 3, 1), xf);
    INTS(n, ATTR_KERNEL, 2, 2);
    INTS(n, ATTR_PADS, 1, 1, 0, 0);
    EXPECT_F(n->result, 0, -1, -1, -2, -1, -1, -2, -4, -4, -5);
    Value *xq = C(TY(DT_I8, QT(0.5f, 3), 1, 3, 3, 1), I8(-1, -2, -3, -4, -5, -6, -7, -8, -9));
    n = NODE(OP_MAX_POOL, TY(DT_I8, QT(0.5f, 3), 1, 3, 3, 1), xq);
    INTS(n, ATTR_KERNEL, 2, 2);
    INTS(n, ATTR_PADS, 1, 1, 0, 0);
    EXPECT_I(n->result, -1, -1, -2, -1, -1, -2, -4, -4, -5);
    /* Dilation [1,2] on a row [5,1,4,2,3], kernel [1,2]: max(5,4),
     * max(1,2), max(4,3). */
    Value *row = C(TY(DT_I8, QT(1, 0), 1, 1, 5, 1), I8(5, 1, 4, 2, 3));
    n = NODE(OP_MAX_POOL, TY(DT_I8, QT(1, 0), 1, 1, 3, 1), row);
    INTS(n, ATTR_KERNEL, 1, 2);
    INTS(n, ATTR_DILATIONS, 1, 2);
    EXPECT_I(n->result, 5, 2, 4);

    begin("avg_pool count_include_pad");
    /* x = [1,2,3,4] (2x2), kernel 2x2, pads top/left 1 -> 2x2 output with
     * window sums 1, 3, 4, 10 over 1, 2, 2, 4 real elements.
     * count_include_pad 0: 1, 1.5, 2, 2.5;  1: /4 -> .25, .75, 1, 2.5. */
    Value *af = C(TY(DT_F32, NULL, 1, 2, 2, 1), F32(1, 2, 3, 4));
    n = NODE(OP_AVG_POOL, TY(DT_F32, NULL, 1, 2, 2, 1), af);
    INTS(n, ATTR_KERNEL, 2, 2);
    INTS(n, ATTR_PADS, 1, 1, 0, 0);
    EXPECT_F(n->result, 0, 1, 1.5, 2, 2.5);
    n = NODE(OP_AVG_POOL, TY(DT_F32, NULL, 1, 2, 2, 1), af);
    INTS(n, ATTR_KERNEL, 2, 2);
    INTS(n, ATTR_PADS, 1, 1, 0, 0);
    node_set_int(G, n, ATTR_COUNT_INCLUDE_PAD, 1);
    EXPECT_F(n->result, 0, 0.25, 0.75, 1, 2.5);

    begin("avg_pool quantized both modes");
    Value *aq = C(TY(DT_I8, QT(1, 0), 1, 2, 2, 1), I8(1, 2, 3, 4));
    struct {
        int cip, tfl;
        int64_t want[4];
    } cases[] = {
        {0, 0, {1, 2, 2, 2}},  /* 1, 1.5->2, 2, 2.5->2 (even) */
        {1, 0, {0, 1, 1, 2}},  /* .25->0, .75->1, 1, 2.5->2 */
        {0, 1, {1, 2, 2, 3}},  /* ties away: 1.5->2, 2.5->3 */
        {1, 1, {0, 1, 1, 3}},  /* (1+2)/4 -> 1, (10+2)/4 = 3 */
    };
    for (int k = 0; k < 4; k++) {
        n = NODE(OP_AVG_POOL, TY(DT_I8, QT(1, 0), 1, 2, 2, 1), aq);
        INTS(n, ATTR_KERNEL, 2, 2);
        INTS(n, ATTR_PADS, 1, 1, 0, 0);
        node_set_int(G, n, ATTR_COUNT_INCLUDE_PAD, cases[k].cip);
        if (cases[k].tfl)
            tflite(n);
        expect_ints(__LINE__, n->result, cases[k].want, 4);
    }
    /* Negative averages with a zero point: x q(1, 2) = [0,1,2,-3] (real
     * -2,-1,0,-5), 2x2 window, no pad: real mean -2 exactly -> 0.
     * With x = [0,1,2,0] real -2,-1,0,-2: mean -1.25 -> -1 -> zp 2 -> 1. */
    Value *nz = C(TY(DT_I8, QT(1, 2), 1, 2, 2, 1), I8(0, 1, 2, 0));
    n = NODE(OP_AVG_POOL, TY(DT_I8, QT(1, 2), 1, 1, 1, 1), nz);
    INTS(n, ATTR_KERNEL, 2, 2);
    EXPECT_I(n->result, 1);
    /* tflite on raw values: sum 3, (3 + 2) / 4 = 1 (1.25 rounds to 1). */
    n = NODE(OP_AVG_POOL, TY(DT_I8, QT(1, 2), 1, 1, 1, 1), nz);
    INTS(n, ATTR_KERNEL, 2, 2);
    tflite(n);
    EXPECT_I(n->result, 1);

    begin("global_avg_pool");
    /* Channels [1,2,3,4] and [-1,-1,-1,-2]: means 2.5 and -1.25. */
    Value *gf = C(TY(DT_F32, NULL, 1, 2, 2, 2), F32(1, -1, 2, -1, 3, -1, 4, -2));
    EXPECT_F(NODE(OP_GLOBAL_AVG_POOL, TY(DT_F32, NULL, 1, 1, 1, 2), gf)->result, 0, 2.5, -1.25);
    /* Requantizing: x q(1,0) [1,2,3,4] -> y q(2, 0).
     * onnx: 10 * 1 / (2 * 4) = 1.25 -> 1.
     * tflite: average 2.5 -> 3 (away), then 3 * 0.5 = 1.5 with multiplier
     * (2^30, 0): SRDHM(3, 2^30) = 2. */
    Value *gq = C(TY(DT_I8, QT(1, 0), 1, 2, 2, 1), I8(1, 2, 3, 4));
    EXPECT_I(NODE(OP_GLOBAL_AVG_POOL, TY(DT_I8, QT(2, 0), 1, 1, 1, 1), gq)->result, 1);
    n = NODE(OP_GLOBAL_AVG_POOL, TY(DT_I8, QT(2, 0), 1, 1, 1, 1), gq);
    tflite(n);
    EXPECT_I(n->result, 2);
}

/* ------------------------------------------------------------ layout */

static void test_layout(void)
{
    begin("concat");
    /* [2,1] ++ [2,2] along axis 1 -> rows [1,3,4], [2,5,6]. */
    Value *a = C(TY(DT_F32, NULL, 2, 1), F32(1, 2));
    Value *b = C(TY(DT_F32, NULL, 2, 2), F32(3, 4, 5, 6));
    Node *n = NODE(OP_CONCAT, TY(DT_F32, NULL, 2, 3), a, b);
    node_set_int(G, n, ATTR_AXIS, 1);
    EXPECT_F(n->result, 0, 1, 3, 4, 2, 5, 6);
    /* Negative axis: -1 is the same axis. */
    n = NODE(OP_CONCAT, TY(DT_F32, NULL, 2, 3), a, b);
    node_set_int(G, n, ATTR_AXIS, -1);
    EXPECT_F(n->result, 0, 1, 3, 4, 2, 5, 6);

    begin("concat with different scales");
    /* a q(1,0) [1,3] copies; b q(0.5, 3) [6, 8] is real 1.5, 2.5 ->
     * onnx 2, 2 (even); tflite (float scale 0.5, bias -1.5) 2, 3 (away). */
    Value *qa = C(TY(DT_I8, QT(1, 0), 2), I8(1, 3));
    Value *qb = C(TY(DT_I8, QT(0.5f, 3), 2), I8(6, 8));
    n = NODE(OP_CONCAT, TY(DT_I8, QT(1, 0), 4), qa, qb);
    node_set_int(G, n, ATTR_AXIS, 0);
    EXPECT_I(n->result, 1, 3, 2, 2);
    n = NODE(OP_CONCAT, TY(DT_I8, QT(1, 0), 4), qa, qb);
    node_set_int(G, n, ATTR_AXIS, 0);
    tflite(n);
    EXPECT_I(n->result, 1, 3, 2, 3);
    /* Saturation: q(4, 0) [100] is real 400 -> 127 in q(1, 0). */
    Value *qc = C(TY(DT_I8, QT(4, 0), 1), I8(100));
    n = NODE(OP_CONCAT, TY(DT_I8, QT(1, 0), 3), qa, qc);
    node_set_int(G, n, ATTR_AXIS, 0);
    EXPECT_I(n->result, 1, 3, 127);

    begin("reshape/transpose");
    Value *x = C(TY(DT_I8, NULL, 2, 3), I8(0, 1, 2, 3, 4, 5));
    EXPECT_I(NODE(OP_RESHAPE, TY(DT_I8, NULL, 3, 2), x)->result, 0, 1, 2, 3, 4, 5);
    n = NODE(OP_TRANSPOSE, TY(DT_I8, NULL, 3, 2), x);
    INTS(n, ATTR_PERM, 1, 0);
    EXPECT_I(n->result, 0, 3, 1, 4, 2, 5);
    /* Rank 3, perm [2,0,1]: y[k][i][0] = x[i][0][k]. */
    Value *x3 = C(TY(DT_F32, NULL, 2, 1, 3), F32(0, 1, 2, 3, 4, 5));
    n = NODE(OP_TRANSPOSE, TY(DT_F32, NULL, 3, 2, 1), x3);
    INTS(n, ATTR_PERM, 2, 0, 1);
    EXPECT_F(n->result, 0, 0, 3, 1, 4, 2, 5);

    begin("pad");
    /* [2,2] padded one row on top and one column on the right with 9. */
    Value *pf = C(TY(DT_F32, NULL, 2, 2), F32(1, 2, 3, 4));
    n = NODE(OP_PAD, TY(DT_F32, NULL, 3, 3), pf);
    INTS(n, ATTR_PADS, 1, 0, 0, 1);
    node_set_float(G, n, ATTR_VALUE, 9.0f);
    EXPECT_F(n->result, 0, 9, 9, 9, 1, 2, 9, 3, 4, 9);
    /* Quantized fill: 1.25 / 0.5 = 2.5 -> 2 (even) + zp 1 = 3; the
     * default value 0 fills with the zero point. */
    Value *pq = C(TY(DT_I8, QT(0.5f, 1), 2), I8(7, 8));
    n = NODE(OP_PAD, TY(DT_I8, QT(0.5f, 1), 4), pq);
    INTS(n, ATTR_PADS, 1, 1);
    node_set_float(G, n, ATTR_VALUE, 1.25f);
    EXPECT_I(n->result, 3, 7, 8, 3);
    n = NODE(OP_PAD, TY(DT_I8, QT(0.5f, 1), 3), pq);
    INTS(n, ATTR_PADS, 0, 1);
    EXPECT_I(n->result, 7, 8, 1);
}

/* ------------------------------------------------------------ (de/re)quantize, lut */

static void test_quantize(void)
{
    begin("quantize");
    Value *x = C(TY(DT_F32, NULL, 8), F32(0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 1000, -1000, NAN));
    /* onnx: half even; tflite: half away; both saturate; NaN -> zp. */
    EXPECT_I(NODE(OP_QUANTIZE, TY(DT_I8, QT(1, 0), 8), x)->result, 0, 2, 2, 0, -2, 127, -128, 0);
    Node *n = NODE(OP_QUANTIZE, TY(DT_I8, QT(1, 0), 8), x);
    tflite(n);
    EXPECT_I(n->result, 1, 2, 3, -1, -3, 127, -128, 0);
    /* u8 with zp 10: 0.5 -> 0 + 10, -1000 -> 0, NaN -> 10. */
    EXPECT_I(NODE(OP_QUANTIZE, TY(DT_U8, QT(1, 10), 8), x)->result, 10, 12, 12, 10, 8, 255, 0, 10);
    /* Per-axis along the last axis: scales [0.5, 0.25], zps [0, 10]:
     * 1 -> 2 and 1 -> 4 + 10 = 14. */
    Value *ones = C(TY(DT_F32, NULL, 2, 2), F32(1, 1, 1, 1));
    EXPECT_I(NODE(OP_QUANTIZE, TY(DT_I8, QA(1, 2, F32(0.5f, 0.25f), I32(0, 10)), 2, 2), ones)->result,
             2, 14, 2, 14);
    /* i32 target: 3.5 / 0.5 = 7. */
    Value *y = C(TY(DT_F32, NULL, 1), F32(3.5f));
    EXPECT_I(NODE(OP_QUANTIZE, TY(DT_I32, QT(0.5f, 0), 1), y)->result, 7);

    begin("dequantize");
    /* (3 - 1) * 0.5 = 1; (-128 - 1) * 0.5 = -64.5. */
    Value *q = C(TY(DT_I8, QT(0.5f, 1), 2), I8(3, -128));
    EXPECT_F(NODE(OP_DEQUANTIZE, TY(DT_F32, NULL, 2), q)->result, 0, 1, -64.5);
    /* Per-axis along axis 0: (3-0)*1 = 3, (3-1)*2 = 4. */
    Value *pa = C(TY(DT_I8, QA(0, 2, F32(1, 2), I32(0, 1)), 2, 1), I8(3, 3));
    EXPECT_F(NODE(OP_DEQUANTIZE, TY(DT_F32, NULL, 2, 1), pa)->result, 0, 3, 4);

    begin("requantize");
    /* q(1) -> q(2): 2.5, 3.5, -2.5, 63.5.  onnx: 2, 4, -2, 64.
     * tflite with (2^30, 0): SRDHM only, ties up: 3, 4, -2, 64. */
    Value *r = C(TY(DT_I8, QT(1, 0), 4), I8(5, 7, -5, 127));
    EXPECT_I(NODE(OP_REQUANTIZE, TY(DT_I8, QT(2, 0), 4), r)->result, 2, 4, -2, 64);
    n = NODE(OP_REQUANTIZE, TY(DT_I8, QT(2, 0), 4), r);
    tflite(n);
    EXPECT_I(n->result, 3, 4, -2, 64);
    /* q(1) -> q(4): -10/4 = -2.5: onnx -2; tflite: multiplier 0.25 =
     * (2^30, -1): SRDHM(-10, 2^30) = -5, RDBPOT(-5, 1) = -3 (away). */
    Value *r2 = C(TY(DT_I8, QT(1, 0), 1), I8(-10));
    EXPECT_I(NODE(OP_REQUANTIZE, TY(DT_I8, QT(4, 0), 1), r2)->result, -2);
    n = NODE(OP_REQUANTIZE, TY(DT_I8, QT(4, 0), 1), r2);
    tflite(n);
    EXPECT_I(n->result, -3);
    /* Per-axis input scales [1, 3] along the last axis -> q(2): 5, 15. */
    Value *pr = C(TY(DT_I8, QA(1, 2, F32(1, 3), I32(0, 0)), 1, 2), I8(10, 10));
    EXPECT_I(NODE(OP_REQUANTIZE, TY(DT_I8, QT(2, 0), 1, 2), pr)->result, 5, 15);
    /* Saturation and zero points, i8 -> i8: q(1, 10) [100] real 90 ->
     * q(0.5, 0) 180 -> 127; to i16 q(0.5, -7): 180 - 7 = 173. */
    Value *s = C(TY(DT_I8, QT(1, 10), 1), I8(100));
    EXPECT_I(NODE(OP_REQUANTIZE, TY(DT_I8, QT(0.5f, 0), 1), s)->result, 127);
    EXPECT_I(NODE(OP_REQUANTIZE, TY(DT_I16, QT(0.5f, -7), 1), s)->result, 173);

    begin("lut");
    /* table[i] = 127 - i (as i8): x -128 -> table[0] = 127, 0 -> table[128]
     * = -1, 127 -> table[255] = -128. */
    int8_t table[256];
    for (int i = 0; i < 256; i++)
        table[i] = (int8_t)(127 - i);
    Value *t = C(TY(DT_I8, NULL, 256), table);
    Value *lx = C(TY(DT_I8, QT(1, 0), 3), I8(-128, 0, 127));
    EXPECT_I(NODE(OP_LUT, TY(DT_I8, NULL, 3), lx, t)->result, 127, -1, -128);
}

/* ------------------------------------------------------------ graph-level */

static void test_graph(void)
{
    begin("graph inputs, reuse and lifetimes");
    /* y = relu(x); z = y + y; w = z * y with x = [-1, 2]:
     * y = [0, 2], z = [0, 4], w = [0, 8].  y is read by three nodes, so
     * it must stay alive until the last one. */
    Value *x = graph_add_input(G, "x", TY(DT_F32, NULL, 2));
    Node *y = NODE(OP_RELU, TY(DT_F32, NULL, 2), x);
    Node *z = NODE(OP_ADD, TY(DT_F32, NULL, 2), y->result, y->result);
    Node *dead = NODE(OP_RELU, TY(DT_F32, NULL, 2), z->result); /* unused */
    (void)dead;
    Node *w = NODE(OP_MUL, TY(DT_F32, NULL, 2), z->result, y->result);
    graph_add_output(G, w->result);
    graph_add_output(G, y->result);
    float xin[2] = {-1, 2}, wout[2] = {-7, -7}, yout[2] = {-7, -7};
    const void *ins[1] = {xin};
    void *outs[2] = {wout, yout};
    bool ok = ir_verify(G) && interp_run(G, ins, outs) == 0 && wout[0] == 0 && wout[1] == 8 &&
              yout[0] == 0 && yout[1] == 2;
    if (ok) {
        passed++;
    } else {
        printf("FAIL %s: got w = [%g, %g], y = [%g, %g]\n", case_name, wout[0], wout[1], yout[0], yout[1]);
        failed++;
    }

    begin("errors are reported, not crashed on");
    /* An unverified conv whose result shape is wrong. */
    Value *cx = C(TY(DT_F32, NULL, 1, 3, 3, 1), F32(1, 2, 3, 4, 5, 6, 7, 8, 9));
    Value *cw = C(TY(DT_F32, NULL, 1, 2, 2, 1), F32(1, 0, 0, 1));
    Node *bad = NODE(OP_CONV2D, TY(DT_F32, NULL, 1, 3, 3, 1), cx, cw);
    graph_add_output(G, bad->result);
    float out[9];
    void *bouts[1] = {out};
    diag_set_capture(true);
    diag_clear_captured();
    int rc = interp_run(G, NULL, bouts);
    int count = 0;
    diag_captured(&count);
    diag_clear_captured();
    diag_set_capture(false);
    if (rc == -1 && count >= 1) {
        passed++;
    } else {
        printf("FAIL %s: rc %d, %d diagnostics\n", case_name, rc, count);
        failed++;
    }
}

/* ------------------------------------------------------------ cnn1m */

/* An independent reference for the 1M-parameter CNN of bench/cnn1m.h:
 * plain loops over its chain of nodes (conv2d, global_avg_pool, reshape,
 * dense, all rounding=tflite), with TFLite's integer arithmetic written
 * here from its definitions (docs/ir-semantics.md: gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, TFLite's
 * QuantizeMultiplier), not from ir/fixedpoint.c: SRDHM as
 * floor((a*b + 2^30) / 2^31) with an arithmetic shift, RDBPOT on the
 * magnitude.  Only data, types and attributes are read from the graph. */

static int32_t ref_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    /* a*b / 2^31 to nearest, ties toward +inf; >> on a negative int64 is
     * an arithmetic (floor) shift with GCC and Clang. */
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

static int32_t ref_rdbpot(int32_t x, int e)
{
    /* x / 2^e to nearest, ties away from zero. */
    if (e == 0)
        return x;
    int64_t m = x < 0 ? -(int64_t)x : x;
    int64_t q = (m + ((int64_t)1 << (e - 1))) >> e;
    return (int32_t)(x < 0 ? -q : q);
}

static int64_t ref_requant(int64_t acc, double M)
{
    /* TFLite QuantizeMultiplier, then MultiplyByQuantizedMultiplier. */
    int e;
    double q = frexp(M, &e);
    int64_t mult = llround(q * 2147483648.0);
    if (mult == ((int64_t)1 << 31)) {
        mult /= 2;
        e++;
    }
    if (M == 0 || e < -31)
        return 0;
    int left = e > 0 ? e : 0, right = e > 0 ? 0 : -e;
    int32_t x = (int32_t)(uint32_t)((uint64_t)(uint32_t)(int32_t)acc << left);
    return ref_rdbpot(ref_srdhm(x, (int32_t)mult), right);
}

static int64_t ref_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The output stage's [lo, hi]: q(a) = sat(rna(a / sy) + zy), a / sy in
 * float32; infinite bounds give the int8 range. */
static void ref_bounds(const Node *n, float sy, int32_t zy, int64_t *lo, int64_t *hi)
{
    float mn = node_float(n, ATTR_ACT_MIN, -INFINITY), mx = node_float(n, ATTR_ACT_MAX, INFINITY);
    *lo = isinf(mn) ? -128 : ref_clamp((int64_t)roundf(mn / sy) + zy, -128, 127);
    *hi = isinf(mx) ? 127 : ref_clamp((int64_t)roundf(mx / sy) + zy, -128, 127);
}

/* Runs the reference over g's nodes on input X, comparing every node's
 * result with GOT[node index]; returns the number of differing values, or
 * -1 when it meets a node it does not model.  *LAST gets a copy of the
 * reference's final result. */
static int64_t cnn1m_reference(const Graph *g, const int8_t *x, void *const *got, int8_t **last)
{
    int64_t differ = 0;
    int8_t *cur = malloc((size_t)type_nbytes(&((Value *)g->inputs.data[0])->type));
    memcpy(cur, x, (size_t)type_nbytes(&((Value *)g->inputs.data[0])->type));
    for (int ni = 0; ni < g->nodes.len; ni++) {
        const Node *n = g->nodes.data[ni];
        const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
        float sx = xt->quant->scale[0], sy = yt->quant->scale[0];
        int32_t zx = xt->quant->zero_point[0], zy = yt->quant->zero_point[0];
        int64_t lo, hi;
        ref_bounds(n, sy, zy, &lo, &hi);
        int8_t *y = malloc((size_t)type_nbytes(yt));
        if (n->op == OP_CONV2D) {
            const Value *w = n->operands[1], *b = n->num_operands > 2 ? n->operands[2] : NULL;
            const int8_t *wd = w->data;
            const int32_t *bd = b ? b->data : NULL;
            int64_t H = xt->dims[1], W = xt->dims[2], Cin = xt->dims[3];
            int64_t OH = yt->dims[1], OW = yt->dims[2], O = yt->dims[3];
            int64_t K = w->type.dims[1], Cg = w->type.dims[3], og = O / (Cin / Cg);
            int64_t st[2], pd[4];
            node_ints(n, ATTR_STRIDES, st, 2, (const int64_t[]){1, 1});
            node_ints(n, ATTR_PADS, pd, 4, (const int64_t[]){0, 0, 0, 0});
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++)
                    for (int64_t o = 0; o < O; o++) {
                        int64_t acc = bd ? bd[o] : 0, c0 = (o / og) * Cg;
                        for (int64_t ky = 0; ky < K; ky++)
                            for (int64_t kx = 0; kx < K; kx++) {
                                int64_t iy = oy * st[0] - pd[0] + ky, ix = ox * st[1] - pd[1] + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                for (int64_t c = 0; c < Cg; c++)
                                    acc += (int64_t)(cur[(iy * W + ix) * Cin + c0 + c] - zx) *
                                           wd[((o * K + ky) * K + kx) * Cg + c];
                            }
                        double M = (double)sx * (double)w->type.quant->scale[o] / (double)sy;
                        y[(oy * OW + ox) * O + o] = (int8_t)ref_clamp(ref_requant(acc, M) + zy, lo, hi);
                    }
        } else if (n->op == OP_DENSE) {
            const Value *w = n->operands[1];
            const int8_t *wd = w->data;
            int64_t K = xt->dims[1], O = yt->dims[1];
            double M = (double)sx * (double)w->type.quant->scale[0] / (double)sy;
            for (int64_t o = 0; o < O; o++) {
                int64_t acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += (int64_t)(cur[k] - zx) * wd[o * K + k];
                y[o] = (int8_t)ref_clamp(ref_requant(acc, M) + zy, lo, hi);
            }
        } else if (n->op == OP_GLOBAL_AVG_POOL && sx == sy && zx == zy) {
            /* TFLite AveragePool with unchanged quantization: the raw sum
             * divided rounding half away from zero. */
            int64_t HW = xt->dims[1] * xt->dims[2], C = xt->dims[3];
            for (int64_t c = 0; c < C; c++) {
                int64_t t = 0;
                for (int64_t i = 0; i < HW; i++)
                    t += cur[i * C + c];
                int64_t avg = t >= 0 ? (t + HW / 2) / HW : -((-t + HW / 2) / HW);
                y[c] = (int8_t)ref_clamp(avg, -128, 127);
            }
        } else if (n->op == OP_RESHAPE) {
            memcpy(y, cur, (size_t)type_nbytes(yt));
        } else {
            free(y);
            free(cur);
            return -1;
        }
        for (int64_t i = 0; i < type_nbytes(yt); i++)
            differ += y[i] != ((const int8_t *)got[ni])[i];
        free(cur);
        cur = y;
    }
    *last = cur;
    return differ;
}

static void test_cnn1m(void)
{
    Cnn1m m = cnn1m_build();
    bool ok = ir_verify(m.g);
    int8_t *x = malloc((size_t)m.in_bytes);
    for (int64_t i = 0; i < m.in_bytes; i++)
        x[i] = (int8_t)cnn1m_rand(-128, 127);
    /* Every node's result is an output, so that the reference checks
     * each layer, not only the last (a small error early on can vanish
     * by the 100 final values). */
    int nn = m.g->nodes.len;
    m.g->outputs.len = 0;
    void **outs = calloc((size_t)nn, sizeof *outs);
    for (int i = 0; i < nn; i++) {
        Value *r = ((Node *)m.g->nodes.data[i])->result;
        graph_add_output(m.g, r);
        outs[i] = malloc((size_t)type_nbytes(&r->type));
    }
    const void *ins[1] = {x};
    clock_t t0 = clock();
    ok = ok && interp_run(m.g, ins, outs) == 0;
    double ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
    printf("cnn1m: %lld params, %.1f M MACs, %.1f ms\n", (long long)m.params,
           (double)m.macs / 1e6, ms);
    int8_t *ref = NULL;
    int64_t differ = ok ? cnn1m_reference(m.g, x, outs, &ref) : -1;
    int distinct = 0;
    bool seen[256] = {false};
    for (int i = 0; ref && i < 100; i++) {
        if (!seen[ref[i] + 128])
            distinct++;
        seen[ref[i] + 128] = true;
    }
    printf("cnn1m: %d layers, %lld values differ from the reference; %d distinct final values\n",
           nn, (long long)differ, distinct);
    /* Random weights could drive every output to one value, which would
     * make the comparison nearly vacuous: ask for a spread. */
    if (ok && differ == 0 && distinct >= 10) {
        passed++;
    } else {
        printf("FAIL cnn1m: %s\n", !ok ? "the 1M-parameter CNN did not run"
                                   : differ < 0 ? "the reference met a node it does not model"
                                   : differ ? "the interpreter differs from the reference"
                                            : "fewer than 10 distinct output values");
        failed++;
    }
    for (int i = 0; i < nn; i++)
        free(outs[i]);
    free(outs);
    free(ref);
    free(x);
    graph_free(m.g);
}

int main(void)
{
    test_conv_float();
    test_conv_quant();
    test_dense();
    test_matmul();
    test_batchnorm();
    test_add_mul();
    test_activations();
    test_pools();
    test_layout();
    test_quantize();
    test_graph();
    if (G)
        graph_free(G);
    test_cnn1m();
    printf("test_interp: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
