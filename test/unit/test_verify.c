/* test_verify.c - unit tests for ir_verify() on graphs built with the ir.h
 * builders.
 *
 * These cover what the textual tests in test/verify/ cannot express: types
 * the parser would refuse (element counts that overflow, per-axis records
 * with the wrong count, rank 7), graphs out of topological order, values
 * from another graph, unknown op ids and malformed attribute lists.  Each
 * case states the exact number of errors it expects, so a cascade of
 * follow-on messages fails the test as surely as a missing one.
 */
#include "ir.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static int passed, failed;

static TensorType ty(DType dt, const Quant *q, const int64_t *dims, int rank)
{
    TensorType t = {.dtype = dt, .rank = rank, .quant = q};
    for (int i = 0; i < rank && i < QNN_MAX_RANK; i++)
        t.dims[i] = dims[i];
    return t;
}

#define DIMS(...) (int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define T(dt, q, ...) ty(dt, q, DIMS(__VA_ARGS__))

/* Per-tensor quantization records; they are copied into the graph. */
static Quant *qt(float scale, int32_t zp)
{
    static float s[64];
    static int32_t z[64];
    static Quant q[64];
    static int next;
    int i = next++ % 64;
    s[i] = scale;
    z[i] = zp;
    q[i] = (Quant){.axis = -1, .count = 1, .scale = &s[i], .zero_point = &z[i]};
    return &q[i];
}

/* Runs the verifier on G and checks that it reports exactly NERR errors
 * and, if WANT is not NULL, that one of them contains WANT.  Frees G. */
static void expect(const char *name, Graph *g, int nerr, const char *want)
{
    diag_clear_captured();
    bool valid = ir_verify(g);
    int count;
    const Diagnostic *d = diag_captured(&count);
    bool found = want == NULL;
    for (int i = 0; i < count; i++)
        if (want && strstr(d[i].message, want))
            found = true;
    bool ok = valid == (nerr == 0) && count == nerr && found;
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: verify returned %s with %d error(s), expected %d%s%s%s\n", name,
               valid ? "true" : "false", count, nerr, want ? " including \"" : "", want ? want : "",
               want ? "\"" : "");
        for (int i = 0; i < count; i++)
            printf("  got: %s\n", d[i].message);
    }
    graph_free(g);
}

/* ---------------------------------------------------------------- fixtures */

/* A valid float conv2d: x[1,4,4,2] * w[3,1,1,2] + b[3] -> y[1,4,4,3]. */
static Graph *float_conv(Node **out)
{
    Graph *g = graph_new("g");
    static const float w[6], b[3];
    Value *ops[3];
    ops[0] = graph_add_input(g, "x", T(DT_F32, NULL, 1, 4, 4, 2));
    ops[1] = graph_add_const(g, "w", T(DT_F32, NULL, 3, 1, 1, 2), w);
    ops[2] = graph_add_const(g, "b", T(DT_F32, NULL, 3), b);
    Node *n = graph_add_node(g, OP_CONV2D, ops, 3, "y", T(DT_F32, NULL, 1, 4, 4, 3));
    graph_add_output(g, n->result);
    if (out)
        *out = n;
    return g;
}

/* A valid quantized conv2d with per-channel weights and a quantized bias
 * whose scales are input scale * weight scale, times BIAS_FACTOR. */
static Graph *quant_conv(double bias_factor)
{
    Graph *g = graph_new("g");
    static const int8_t w[6];
    static const int32_t b[3];
    float ws[3] = {0.25f, 0.5f, 0.125f}, bs[3];
    int32_t wz[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        bs[i] = (float)(0.5 * ws[i] * bias_factor);
    Quant wq = {.axis = 0, .count = 3, .scale = ws, .zero_point = wz};
    Quant bq = {.axis = 0, .count = 3, .scale = bs, .zero_point = wz};
    Value *ops[3];
    ops[0] = graph_add_input(g, "x", T(DT_I8, qt(0.5f, -1), 1, 4, 4, 2));
    ops[1] = graph_add_const(g, "w", T(DT_I8, &wq, 3, 1, 1, 2), w);
    ops[2] = graph_add_const(g, "b", T(DT_I32, &bq, 3), b);
    Node *n = graph_add_node(g, OP_CONV2D, ops, 3, "y", T(DT_I8, qt(0.1f, 5), 1, 4, 4, 3));
    node_set_enum(g, n, ATTR_ROUNDING, ROUND_TFLITE);
    graph_add_output(g, n->result);
    return g;
}

/* x -> relu -> output, with the given input and result types. */
static Graph *relu_graph(TensorType in, TensorType out)
{
    Graph *g = graph_new("g");
    Value *x = graph_add_input(g, "x", in);
    Node *n = graph_add_node(g, OP_RELU, &x, 1, "y", out);
    graph_add_output(g, n->result);
    return g;
}

/* ---------------------------------------------------------------- tests */

static void test_valid(void)
{
    expect("float conv2d", float_conv(NULL), 0, NULL);
    expect("quantized conv2d, per-axis weights, exact bias scale", quant_conv(1.0), 0, NULL);
    expect("bias scale within tolerance", quant_conv(1.0 + 1e-7), 0, NULL);

    /* An output that is a graph input directly, listed twice. */
    Graph *g = graph_new("g");
    Value *x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    graph_add_output(g, x);
    graph_add_output(g, x);
    expect("input as output", g, 0, NULL);

    /* Rank-0 values are fine where the op allows any rank. */
    g = relu_graph(ty(DT_F32, NULL, NULL, 0), ty(DT_F32, NULL, NULL, 0));
    expect("rank-0 relu", g, 0, NULL);

    /* matmul broadcasting: [2,1,3,4] x [5,4,6] -> [2,5,3,6]. */
    g = graph_new("g");
    Value *ab[2] = {graph_add_input(g, "a", T(DT_F32, NULL, 2, 1, 3, 4)),
                    graph_add_input(g, "b", T(DT_F32, NULL, 5, 4, 6))};
    graph_add_output(g, graph_add_node(g, OP_MATMUL, ab, 2, "y", T(DT_F32, NULL, 2, 5, 3, 6))->result);
    expect("matmul batch broadcast", g, 0, NULL);
}

static void test_value_types(void)
{
    /* 2^40 * 2^40 overflows int64; the verifier must notice, not wrap. */
    int64_t big = INT64_C(1) << 40;
    Graph *g = relu_graph(T(DT_F32, NULL, big, big), T(DT_F32, NULL, big, big));
    expect("numel overflow", g, 2, "has more than 2147483647 elements");

    g = relu_graph(T(DT_F32, NULL, INT64_C(1) << 31), T(DT_F32, NULL, INT64_C(1) << 31));
    expect("numel above the cap", g, 2, "has more than");

    g = relu_graph(T(DT_F32, NULL, 2, 0), T(DT_F32, NULL, 2, 0));
    expect("zero dimension", g, 2, "dimension 1 is 0; every dimension must be at least 1");

    g = relu_graph(T(DT_F32, NULL, -3), T(DT_F32, NULL, 3));
    expect("negative dimension, only the input", g, 1, "dimension 0 is -3");

    /* A name the text form cannot spell would print as IR that does not
     * parse back; builders (importers, passes) must not make one. */
    g = graph_new("names");
    Value *sp = graph_add_input(g, "has space", T(DT_F32, NULL, 2));
    graph_add_output(g, sp);
    expect("unprintable name", g, 1, "value name 'has space' has characters outside");

    TensorType r7 = T(DT_F32, NULL, 1);
    r7.rank = 7;
    g = relu_graph(r7, T(DT_F32, NULL, 1));
    expect("rank 7", g, 1, "rank 7 is outside [0, 6]");

    TensorType bad_dt = T(DT_F32, NULL, 1);
    bad_dt.dtype = (DType)DT_COUNT;
    g = relu_graph(bad_dt, T(DT_F32, NULL, 1));
    expect("unknown dtype", g, 1, "unknown element type");

    float s2[2] = {1, 1};
    int32_t z2[2] = {0, 0};
    Quant q2 = {.axis = 0, .count = 2, .scale = s2, .zero_point = z2};
    g = relu_graph(T(DT_I8, &q2, 3), T(DT_I8, qt(1, 0), 3));
    expect("per-axis count mismatch", g, 1, "per-axis quantization has 2 scales but dimension 0 has size 3");

    Quant qax = {.axis = 1, .count = 2, .scale = s2, .zero_point = z2};
    g = relu_graph(T(DT_I8, &qax, 2), T(DT_I8, qt(1, 0), 2));
    expect("quant axis out of range", g, 1, "quantization axis 1 is out of range for rank 1");

    Quant qpt = {.axis = -1, .count = 2, .scale = s2, .zero_point = z2};
    g = relu_graph(T(DT_I8, &qpt, 2), T(DT_I8, qt(1, 0), 2));
    expect("per-tensor with 2 scales", g, 1, "per-tensor quantization must have exactly 1 scale, got 2");

    g = relu_graph(T(DT_I8, qt(0, 0), 2), T(DT_I8, qt(1, 0), 2));
    expect("zero scale", g, 1, "scale 0 (entry 0) must be finite and positive");
    g = relu_graph(T(DT_I8, qt(-0.5f, 0), 2), T(DT_I8, qt(1, 0), 2));
    expect("negative scale", g, 1, "must be finite and positive");
    g = relu_graph(T(DT_I8, qt(NAN, 0), 2), T(DT_I8, qt(1, 0), 2));
    expect("NaN scale", g, 1, "must be finite and positive");
    g = relu_graph(T(DT_I8, qt(INFINITY, 0), 2), T(DT_I8, qt(1, 0), 2));
    expect("infinite scale", g, 1, "must be finite and positive");

    g = relu_graph(T(DT_I8, qt(1, -129), 2), T(DT_I8, qt(1, 0), 2));
    expect("i8 zero point below range", g, 1, "zero point -129 (entry 0) is outside the i8 range [-128, 127]");
    g = relu_graph(T(DT_U8, qt(1, 256), 2), T(DT_U8, qt(1, 0), 2));
    expect("u8 zero point above range", g, 1, "zero point 256 (entry 0) is outside the u8 range [0, 255]");

    g = relu_graph(T(DT_F32, qt(1, 0), 2), T(DT_F32, NULL, 2));
    expect("quantized f32", g, 1, "f32 values cannot be quantized");

    /* The builders copy quantization arrays, so a record without them is
     * planted after the fact. */
    Quant qnull = {.axis = -1, .count = 1};
    g = graph_new("g");
    Value *x = graph_add_input(g, "x", T(DT_I8, qt(1, 0), 2));
    x->type.quant = &qnull;
    graph_add_output(g, x);
    expect("quant without arrays", g, 1, "no scale or zero point array");
}

static void test_structure(void)
{
    Graph *g = graph_new("g");
    graph_add_input(g, "x", T(DT_F32, NULL, 2));
    expect("no outputs", g, 1, "graph @g has no outputs");

    g = graph_new("g");
    Value *x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    graph_add_input(g, "x", T(DT_F32, NULL, 2));
    graph_add_output(g, x);
    expect("duplicate names", g, 1, "%x is defined more than once");

    /* With locations, the message points back at the first definition. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    x->loc = (SrcLoc){"f.qir", 3, 9};
    graph_add_input(g, "x", T(DT_F32, NULL, 2))->loc = (SrcLoc){"f.qir", 4, 9};
    graph_add_output(g, x);
    expect("duplicate names with lines", g, 1, "%x is defined more than once (first at line 3)");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    g->nodes.data[0] = NULL;
    graph_add_output(g, x);
    expect("missing node", g, 1, "graph has a missing node");

    /* Out of topological order: the first relu uses the second's result. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    Node *a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    Node *b = graph_add_node(g, OP_RELU, &a->result, 1, "b", T(DT_F32, NULL, 2));
    a->operands[0] = b->result;
    graph_add_output(g, b->result);
    expect("use before definition", g, 1, "relu: operand %b is used before it is defined");

    /* A node that uses its own result. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->operands[0] = a->result;
    graph_add_output(g, a->result);
    expect("self use", g, 1, "operand %a is used before it is defined");

    /* A value of another graph as operand and as output. */
    Graph *other = graph_new("other");
    Value *stray = graph_add_input(other, "s", T(DT_F32, NULL, 2));
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->operands[0] = stray;
    graph_add_output(g, a->result);
    graph_add_output(g, stray);
    expect("values of another graph", g, 2, "operand 0 is missing or not a value of this graph");
    graph_free(other);

    /* Two nodes claiming the same result. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    b = graph_add_node(g, OP_RELU, &x, 1, "b", T(DT_F32, NULL, 2));
    b->result = a->result;
    graph_add_output(g, a->result);
    expect("result defined twice", g, 1, "relu: result %a is already defined");

    /* An output whose defining node is not in the graph's node list. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    graph_add_output(g, a->result);
    g->nodes.len = 0;
    expect("output never defined", g, 1, "output %a is not defined");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->op = OP_COUNT;
    graph_add_output(g, a->result);
    expect("unknown op", g, 1, "unknown op");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 1, 4, 4, 2));
    a = graph_add_node(g, OP_CONV2D, &x, 1, "y", T(DT_F32, NULL, 1, 4, 4, 3));
    graph_add_output(g, a->result);
    expect("too few operands", g, 1, "conv2d: expected 2 to 3 operands, got 1");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    Value *xx[2] = {x, x};
    a = graph_add_node(g, OP_RELU, xx, 2, "a", T(DT_F32, NULL, 2));
    graph_add_output(g, a->result);
    expect("too many operands", g, 1, "relu: expected 1 operand, got 2");

    /* Bookkeeping the builders keep right and a careless pass might not. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    x->kind = VAL_CONST;
    x->data = &x->type;
    graph_add_output(g, x);
    expect("input of the wrong kind", g, 1, "%x is listed as a graph input but is not one");

    g = graph_new("g");
    Value *c = graph_add_const(g, "c", T(DT_F32, NULL, 2), (float[]){1, 2});
    c->data = NULL;
    graph_add_output(g, c);
    expect("constant without data", g, 1, "%c: constant has no data");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->result->def = NULL;
    graph_add_output(g, a->result);
    expect("result without its def", g, 1, "relu: result %a does not record this node as its definition");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    x->id = 5;
    graph_add_output(g, x);
    expect("wrong value id", g, 1, "value #0 is missing or has a wrong id");

    g = graph_new("g");
    x = graph_add_input(g, "", T(DT_F32, NULL, 2));
    graph_add_output(g, x);
    expect("empty name", g, 1, "value #0 has no name");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->result = NULL;
    graph_add_output(g, x);
    expect("node without result", g, 1, "relu: result is missing or not a value of this graph");

    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2));
    a = graph_add_node(g, OP_RELU, &x, 1, "a", T(DT_F32, NULL, 2));
    a->operands = NULL;
    graph_add_output(g, a->result);
    expect("operand list missing", g, 1, "relu: operand list is missing");

    g = graph_new("g");
    a = graph_add_node(g, OP_CONCAT, NULL, 0, "a", T(DT_F32, NULL, 2));
    graph_add_output(g, a->result);
    expect("variadic with none", g, 1, "concat: expected at least 1 operand, got 0");
}

static void test_attrs(void)
{
    Node *n;
    Graph *g = float_conv(&n);
    node_set_float(g, n, ATTR_ALPHA, 0.1f);
    expect("attribute not allowed", g, 1, "conv2d: attribute 'alpha' is not allowed on this op");

    g = float_conv(&n);
    node_set_enum(g, n, ATTR_ROUNDING, 7);
    expect("enum out of range", g, 1, "rounding mode 7 is out of range");

    g = float_conv(&n);
    node_set_ints(g, n, ATTR_STRIDES, (int64_t[]){1, 1, 1}, 3);
    expect("strides length", g, 1, "conv2d: 'strides' must have 2 entries, got 3");

    g = float_conv(&n);
    node_set_ints(g, n, ATTR_DILATIONS, (int64_t[]){1, 0}, 2);
    expect("zero dilation", g, 1, "dilations[1] is 0; dilations must be positive");

    g = float_conv(&n);
    node_set_ints(g, n, ATTR_PADS, (int64_t[]){0, -1, 0, 0}, 4);
    expect("negative pad", g, 1, "pads[1] is -1; pads must be non-negative");

    g = float_conv(&n);
    node_set_int(g, n, ATTR_GROUP, 0);
    expect("group 0", g, 1, "group is 0; it must be at least 1");

    /* Pads that overflow int64 when added to the input size. */
    g = float_conv(&n);
    node_set_ints(g, n, ATTR_PADS, (int64_t[]){INT64_MAX, 0, INT64_MAX, 0}, 4);
    expect("overflowing pads", g, 1, "conv2d: height window or padding is too large");

    /* A dilated kernel extent that overflows int64. */
    g = graph_new("g");
    Value *x = graph_add_input(g, "x", T(DT_F32, NULL, 1, 4, 4, 2));
    n = graph_add_node(g, OP_MAX_POOL, &x, 1, "y", T(DT_F32, NULL, 1, 4, 4, 2));
    node_set_ints(g, n, ATTR_KERNEL, (int64_t[]){INT64_MAX, 1}, 2);
    node_set_ints(g, n, ATTR_DILATIONS, (int64_t[]){2, 1}, 2);
    graph_add_output(g, n->result);
    expect("overflowing dilated kernel", g, 1, "max_pool: height window or padding is too large");

    g = float_conv(&n);
    node_set_float(g, n, ATTR_ACT_MIN, 6);
    node_set_float(g, n, ATTR_ACT_MAX, 0);
    expect("act_min > act_max", g, 1, "conv2d: act_min 6 is greater than act_max 0");

    g = float_conv(&n);
    node_set_float(g, n, ATTR_ACT_MIN, NAN);
    expect("NaN act_min", g, 1, "act_min must not be NaN");

    /* Attribute records the setters would never produce. */
    g = float_conv(&n);
    node_set_ints(g, n, ATTR_STRIDES, (int64_t[]){1, 1}, 2);
    node_set_ints(g, n, ATTR_DILATIONS, (int64_t[]){1, 1}, 2);
    n->attrs[1].id = ATTR_STRIDES;
    expect("duplicate attribute", g, 1, "conv2d: attribute 'strides' appears more than once");

    g = float_conv(&n);
    node_set_ints(g, n, ATTR_STRIDES, (int64_t[]){1, 1}, 2);
    n->attrs[0].u.ints = NULL;
    expect("list attribute without data", g, 1, "conv2d: attribute 'strides' is malformed");

    g = float_conv(&n);
    n->num_attrs = 1;
    expect("attribute list without data", g, 1, "conv2d: attribute list is malformed");

    /* A raw attribute id beyond the table. */
    g = float_conv(&n);
    node_set_int(g, n, ATTR_GROUP, 1);
    n->attrs[0].id = (AttrId)ATTR_COUNT;
    expect("unknown attribute id", g, 1, "unknown attribute id");
}

static void test_ops(void)
{
    /* conv2d on a rank-0 input must be reported, not crash. */
    Graph *g = graph_new("g");
    static const float w[6];
    Value *ops[2];
    ops[0] = graph_add_input(g, "x", ty(DT_F32, NULL, NULL, 0));
    ops[1] = graph_add_const(g, "w", T(DT_F32, NULL, 3, 1, 1, 2), w);
    graph_add_output(g, graph_add_node(g, OP_CONV2D, ops, 2, "y", T(DT_F32, NULL, 1, 4, 4, 3))->result);
    expect("rank-0 conv2d input", g, 1, "conv2d: input must have rank 4 [N,H,W,C], got rank 0");

    /* A malformed operand type is reported once, at the value; the conv2d
     * skips its own rules instead of cascading. */
    g = graph_new("g");
    ops[0] = graph_add_input(g, "x", T(DT_F32, NULL, 1, 0, 4, 2));
    ops[1] = graph_add_const(g, "w", T(DT_F32, NULL, 3, 1, 1, 2), w);
    graph_add_output(g, graph_add_node(g, OP_CONV2D, ops, 2, "y", T(DT_F32, NULL, 9))->result);
    expect("no cascade from a bad operand", g, 1, "%x: dimension 1 is 0");

    expect("bias scale mismatch", quant_conv(1.0 + 1e-5), 1,
           "conv2d: bias scale 0.125001 (channel 0) must equal input scale * weight scale = 0.125");

    /* Quantization on one side only. */
    g = relu_graph(T(DT_I8, qt(0.5f, 0), 4), T(DT_I8, NULL, 4));
    expect("relu loses quant", g, 1, "relu: result of a quantized relu must be quantized");
    g = relu_graph(T(DT_I8, NULL, 4), T(DT_I8, qt(0.5f, 0), 4));
    expect("relu of raw ints", g, 1, "relu: input must be f32 or quantized i8/u8/i16, got i8 without quantization");
    g = relu_graph(T(DT_I8, qt(0.5f, 0), 4), T(DT_I8, qt(0.25f, 0), 4));
    expect("relu changes quant", g, 1, "relu: quantized output must keep the input's quantization parameters");

    g = graph_new("g");
    Value *ab[2] = {graph_add_input(g, "a", T(DT_I8, qt(0.5f, 0), 4)), graph_add_input(g, "b", T(DT_F32, NULL, 4))};
    graph_add_output(g, graph_add_node(g, OP_ADD, ab, 2, "y", T(DT_I8, qt(0.5f, 0), 4))->result);
    expect("add of quantized and float", g, 1, "add: operands must be both f32 or both quantized");

    /* lut needs a constant table; a graph input is not one. */
    g = graph_new("g");
    Value *xt[2] = {graph_add_input(g, "x", T(DT_I8, qt(0.5f, 0), 4)), graph_add_input(g, "t", T(DT_I8, NULL, 256))};
    graph_add_output(g, graph_add_node(g, OP_LUT, xt, 2, "y", T(DT_I8, qt(0.5f, 0), 4))->result);
    expect("lut table not constant", g, 1, "lut: table %t must be a constant");

    /* softmax with an axis far outside the rank. */
    g = graph_new("g");
    Value *x = graph_add_input(g, "x", T(DT_F32, NULL, 2, 3));
    Node *n = graph_add_node(g, OP_SOFTMAX, &x, 1, "y", T(DT_F32, NULL, 2, 3));
    node_set_int(g, n, ATTR_AXIS, INT64_MIN);
    graph_add_output(g, n->result);
    expect("softmax axis INT64_MIN", g, 1, "softmax: axis -9223372036854775808 is out of range for rank 2");

    /* transpose with a perm entry far outside the rank. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2, 3));
    n = graph_add_node(g, OP_TRANSPOSE, &x, 1, "y", T(DT_F32, NULL, 3, 2));
    node_set_ints(g, n, ATTR_PERM, (int64_t[]){1, INT64_MAX}, 2);
    graph_add_output(g, n->result);
    expect("transpose perm INT64_MAX", g, 1, "is not a permutation of 0..1");

    /* pad amounts that overflow int64 when added to the dimension. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, 2, 3));
    n = graph_add_node(g, OP_PAD, &x, 1, "y", T(DT_F32, NULL, 2, 3));
    node_set_ints(g, n, ATTR_PADS, (int64_t[]){0, INT64_MAX, 0, 1}, 4);
    graph_add_output(g, n->result);
    expect("pad overflow", g, 1, "pad: padded dimension 1 overflows");

    /* concat of many operands whose sizes add up past the element cap. */
    g = graph_new("g");
    x = graph_add_input(g, "x", T(DT_F32, NULL, INT64_C(1) << 30));
    Value *xs[4] = {x, x, x, x};
    n = graph_add_node(g, OP_CONCAT, xs, 4, "y", T(DT_F32, NULL, INT64_C(1) << 32));
    node_set_int(g, n, ATTR_AXIS, 0);
    graph_add_output(g, n->result);
    expect("concat result too large", g, 1, "%y: shape [4294967296] has more than");
}

int main(void)
{
    diag_set_capture(true);
    test_valid();
    test_value_types();
    test_structure();
    test_attrs();
    test_ops();
    printf("test_verify: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
