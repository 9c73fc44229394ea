/* test_text.c - unit tests of the textual IR (ir/parse.c, ir/print.c).
 *
 * Graphs built with the ir.h builders (every op, every dtype, every
 * attribute kind, per-axis quantization, random constant bytes with NaN
 * payloads) must survive print -> parse unchanged (graph_equal) and print
 * identically twice.  Hand-written text checks values and locations against
 * what the text says.  A mutation loop feeds truncated and corrupted text
 * to the parser, which must return a graph or NULL and never crash.
 */
#include "rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ir.h"

static int passed, failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            passed++;                                                            \
        } else {                                                                 \
            failed++;                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)


static float float_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* A float that exercises the printer: special values, NaN payloads,
 * subnormals, or random bits. */
static float nasty_float(void)
{
    static const uint32_t special[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fc00001,
        0xffc00000, 0x7f800001, 0xffffffff, 0x00000001, 0x807fffff, 0x7f7fffff,
        0x3f800000, 0x3dcccccd, 0x4b800001, 0x33d6bf95,
    };
    uint64_t r = rnd64();
    if (r % 3 == 0)
        return float_bits(special[(r >> 8) % (sizeof special / sizeof *special)]);
    return float_bits((uint32_t)(r >> 16));
}

/* Prints G into a malloc'd string. */
static char *print_to_string(const Graph *g, const PrintOptions *opts, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    bool ok = ir_print(f, g, opts);
    fclose(f);
    CHECK(ok);
    *len = n;
    return text;
}

/* The two round-trip properties: parse(print(g)) == g, and printing the
 * parsed graph gives the same text again. */
static void check_roundtrip(const Graph *g, const char *file, const PrintOptions *opts)
{
    size_t len, len2;
    char *text = print_to_string(g, opts, &len);
    Graph *back = ir_parse(file, text, len);
    CHECK(back != NULL);
    if (!back) {
        fprintf(stderr, "--- text that failed to parse:\n%s", text);
        free(text);
        return;
    }
    bool equal = graph_equal(g, back);
    CHECK(equal);
    char *text2 = print_to_string(back, NULL, &len2);
    if (!opts || !opts->sidecar_threshold) {
        bool same = len == len2 && memcmp(text, text2, len) == 0;
        CHECK(same);
        if (!same)
            fprintf(stderr, "--- first print:\n%s--- second print:\n%s", text, text2);
    }
    free(text2);
    graph_free(back);
    free(text);
}

static TensorType tt(DType dt, int rank, const int64_t *dims)
{
    TensorType t = {.dtype = dt, .rank = rank};
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}

/* A constant of type T filled with random bytes (NaN payloads included for
 * f32) or, for integer types, random in-range values. */
static Value *random_const(Graph *g, const char *name, TensorType t)
{
    int64_t n = type_nbytes(&t);
    unsigned char *data = malloc(n ? (size_t)n : 1);
    int size = dtype_traits[t.dtype].size;
    for (int64_t i = 0; i < n; i += size) {
        uint32_t bits = t.dtype == DT_F32 ? bits_of(nasty_float()) : (uint32_t)rnd64();
        for (int b = 0; b < size; b++)
            data[i + b] = (unsigned char)(bits >> (8 * b));
    }
    Value *v = graph_add_const(g, name, t, data);
    free(data);
    return v;
}

/* Sets every attribute OP allows, with values of the right kind. */
static void set_all_attrs(Graph *g, Node *n)
{
    for (int id = 0; id < ATTR_COUNT; id++) {
        if (!(op_info[n->op].attrs & (UINT64_C(1) << id)))
            continue;
        int64_t ints[5];
        float floats[5];
        int count = (int)(rnd64() % 5);
        for (int i = 0; i < 5; i++) {
            ints[i] = (int64_t)rnd64() >> (rnd64() % 64);
            floats[i] = nasty_float();
        }
        switch (attr_info[id].kind) {
        case AK_INT: node_set_int(g, n, id, ints[0]); break;
        case AK_FLOAT: node_set_float(g, n, id, floats[0]); break;
        case AK_INTS: node_set_ints(g, n, id, ints, count); break;
        case AK_FLOATS: node_set_floats(g, n, id, floats, count); break;
        case AK_ENUM: node_set_enum(g, n, id, (int64_t)(rnd64() % 2)); break;
        }
    }
}

/* One graph with a node of every op (operand counts at both ends of the
 * op's range), values of every dtype and rank 0..6, per-tensor and per-axis
 * quantization with nasty scales, and odd but legal names. */
static Graph *build_everything(void)
{
    Graph *g = graph_new("every.op-$1");
    static const int64_t d6[6] = {3, 2, 2, 3, 3, 2}, d0[1] = {0};
    Value *vals[64];
    int nv = 0;
    for (int dt = 0; dt < DT_COUNT; dt++) {
        for (int rank = 0; rank <= QNN_MAX_RANK; rank++) {
            char name[32];
            snprintf(name, sizeof name, "c%d.%d", dt, rank);
            TensorType t = tt((DType)dt, rank, d6);
            if (dtype_traits[dt].is_int && rank > 0 && rank % 2) {
                int axis = rank - 1;
                float scales[3];
                int32_t zps[3];
                for (int i = 0; i < t.dims[axis]; i++) {
                    scales[i] = nasty_float();
                    zps[i] = (int32_t)rnd64();
                }
                t.quant = quant_new(&g->arena, axis, (int)t.dims[axis], scales, zps);
            } else if (rank == 2) {
                float s = nasty_float();
                int32_t zp = (int32_t)rnd64();
                t.quant = quant_new(&g->arena, -1, 1, &s, &zp);
            }
            vals[nv++] = random_const(g, name, t);
        }
    }
    /* Zero-size tensors print as [] and per-axis quant over a 0 dimension
     * has no scales; the verifier rejects both, but the text must not. */
    vals[nv++] = random_const(g, "empty", tt(DT_I16, 1, d0));
    TensorType z = tt(DT_I8, 1, d0);
    z.quant = quant_new(&g->arena, 0, 0, NULL, NULL);
    vals[nv++] = graph_add_input(g, "0", z);
    vals[nv++] = graph_add_input(g, "in-put", tt(DT_F32, 4, d6));

    for (int op = 0; op < OP_COUNT; op++) {
        const OpInfo *info = &op_info[op];
        int counts[2] = {info->min_operands, info->max_operands < 0 ? 7 : info->max_operands};
        for (int k = 0; k < 2; k++) {
            Value *ops[8];
            for (int i = 0; i < counts[k]; i++)
                ops[i] = vals[rnd64() % (uint64_t)nv];
            char name[64];
            snprintf(name, sizeof name, "%s_%d", info->name, k);
            TensorType t = tt((DType)(rnd64() % DT_COUNT), (int)(rnd64() % 7), d6);
            Node *n = graph_add_node(g, (OpId)op, ops, counts[k], name, t);
            if (k == 1)
                set_all_attrs(g, n);
            if (nv < 64)
                vals[nv++] = n->result;
        }
    }
    graph_add_output(g, vals[nv - 1]);
    graph_add_output(g, vals[0]);
    graph_add_output(g, vals[nv - 1]);
    return g;
}

static void test_builders_roundtrip(void)
{
    for (int round = 0; round < 20; round++) {
        Graph *g = build_everything();
        check_roundtrip(g, "every.qir", NULL);
        graph_free(g);
    }
}

/* Every constant byte survives a trip through the sidecar file, which the
 * parser finds relative to the directory of the .qir file. */
static void test_sidecar(void)
{
    char dir[] = "/tmp/qnnc-test-text-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    char side[128], qir[128];
    snprintf(side, sizeof side, "%s/w.bin", dir);
    snprintf(qir, sizeof qir, "%s/m.qir", dir);

    Graph *g = graph_new("side");
    static const int64_t dims[2] = {7, 5};
    Value *a = random_const(g, "a", tt(DT_F32, 2, dims));
    random_const(g, "small", tt(DT_I8, 1, dims)); /* 7 bytes: stays inline */
    random_const(g, "b", tt(DT_I16, 2, dims));
    graph_add_output(g, a);

    PrintOptions opts = {.sidecar_threshold = 8, .sidecar_path = side};
    size_t len;
    char *text = print_to_string(g, &opts, &len);
    CHECK(strstr(text, "const %a : f32[7,5] = file(\"w.bin\", offset=0)\n") != NULL);
    CHECK(strstr(text, "const %small : i8[7] = [") != NULL);
    /* 140 bytes of %a, padded to 144 for 16-byte alignment. */
    CHECK(strstr(text, "const %b : i16[7,5] = file(\"w.bin\", offset=144)\n") != NULL);
    Graph *back = ir_parse(qir, text, len);
    CHECK(back && graph_equal(g, back));
    if (back) {
        const Value *bv = graph_find_value(back, "b");
        CHECK(bv->sidecar && strcmp(bv->sidecar, side) == 0);
    }
    graph_free(back);
    free(text);

    /* A sidecar that is too short is an error, not a read past its end. */
    diag_set_capture(true);
    const char *bad = "graph @g {\n  const %a : i8[300] = file(\"w.bin\", offset=0)\n  output %a\n}\n";
    CHECK(ir_parse(qir, bad, strlen(bad)) == NULL);
    int n;
    const Diagnostic *d = diag_captured(&n);
    CHECK(n == 1 && d[0].loc.line == 2 && d[0].loc.col == 29 &&
          strstr(d[0].message, "w.bin' is too short") != NULL);
    diag_clear_captured();
    diag_set_capture(false);

    /* ir_parse_file reads from disk and names the file in locations; a
     * missing file is reported, not a crash. */
    FILE *f = fopen(qir, "w");
    fputs("graph @f {\n  const %w : i8[2] = file(\"w.bin\", offset=16)\n  output %w\n}\n", f);
    fclose(f);
    Graph *fg = ir_parse_file(qir);
    CHECK(fg != NULL);
    if (fg) {
        const Value *w = graph_find_value(fg, "w");
        const unsigned char *a_bytes = a->data;
        CHECK(w && memcmp(w->data, a_bytes + 16, 2) == 0);
        CHECK(w && w->loc.line == 2 && w->loc.col == 9 && strcmp(w->loc.file, qir) == 0);
    }
    graph_free(fg);
    remove(qir);
    diag_set_capture(true);
    CHECK(ir_parse_file(qir) == NULL);
    d = diag_captured(&n);
    CHECK(n == 1 && strcmp(d[0].message, "cannot read file: No such file or directory") == 0 &&
          d[0].loc.file && strcmp(d[0].loc.file, qir) == 0);
    diag_clear_captured();
    diag_set_capture(false);

    graph_free(g);
    remove(side);
    rmdir(dir);
}

/* Values parsed from hand-written text, checked against what the text says
 * (not against what the printer produced). */
static void test_values(void)
{
    const char *text =
        "// header comment\n"
        "graph @v {\n"
        "  input %x : f32[] \n"
        "  const %f : f32[8] = [nan, -inf, inf, -0, 0x7FC00001, 1e-45, 0.1, -3.5e+2]\n"
        "  const %i : i32[2,1] q(axis=0, scales=[0.25, 3], zero_points=[-7, 2147483647]) = [-2147483648, 5]\n"
        "  %r = clip(%x) {max=6, min=-inf} : f32[]\n"
        "  %s = conv2d(%x, %f) {strides=[2, 1], rounding=tflite, group=3} : i8[1] q(2, -128)\n"
        "  output %r, %s\n"
        "}\n";
    Graph *g = ir_parse("values.qir", text, strlen(text));
    CHECK(g != NULL);
    if (!g)
        return;
    const Value *f = graph_find_value(g, "f");
    static const uint32_t want[8] = {0x7fc00000, 0xff800000, 0x7f800000, 0x80000000,
                                     0x7fc00001, 0x00000001, 0x3dcccccd, 0xc3af0000};
    CHECK(f && f->kind == VAL_CONST && f->data && memcmp(f->data, want, sizeof want) == 0);
    CHECK(f && f->loc.line == 4 && f->loc.col == 9);

    const Value *i = graph_find_value(g, "i");
    const unsigned char want_i[8] = {0, 0, 0, 0x80, 5, 0, 0, 0};
    CHECK(i && memcmp(i->data, want_i, 8) == 0);
    CHECK(i && i->type.quant && i->type.quant->axis == 0 && i->type.quant->count == 2 &&
          i->type.quant->scale[1] == 3.0f && i->type.quant->zero_point[0] == -7 &&
          i->type.quant->zero_point[1] == INT32_MAX);

    const Value *x = graph_find_value(g, "x");
    CHECK(x && x->kind == VAL_INPUT && x->type.rank == 0 && x->loc.line == 3 && x->loc.col == 9);
    CHECK(g->loc.line == 2 && g->loc.col == 1 && strcmp(g->name, "v") == 0);

    CHECK(g->nodes.len == 2);
    const Node *clip = g->nodes.data[0];
    CHECK(clip->op == OP_CLIP && clip->loc.line == 6 && clip->loc.col == 3);
    /* Attributes are stored in AttrId order whatever the text's order. */
    CHECK(clip->num_attrs == 2 && clip->attrs[0].id == ATTR_MIN && isinf(clip->attrs[0].u.f) &&
          clip->attrs[0].u.f < 0 && clip->attrs[1].u.f == 6.0f);
    const Node *conv = g->nodes.data[1];
    CHECK(node_int(conv, ATTR_GROUP, 0) == 3 && node_int(conv, ATTR_ROUNDING, 0) == ROUND_TFLITE);
    const Attr *st = node_attr(conv, ATTR_STRIDES);
    CHECK(st && st->count == 2 && st->u.ints[0] == 2 && st->u.ints[1] == 1);
    CHECK(conv->result->type.quant && conv->result->type.quant->zero_point[0] == -128);
    CHECK(g->outputs.len == 2);

    /* The canonical form of the same graph, written out by hand. */
    const char *canonical =
        "graph @v {\n"
        "  input %x : f32[]\n"
        "  const %f : f32[8] = [nan, -inf, inf, -0, 0x7FC00001, 1.40129846e-45, 0.100000001, -350]\n"
        "  const %i : i32[2,1] q(axis=0, scales=[0.25, 3], zero_points=[-7, 2147483647]) = [-2147483648, 5]\n"
        "  %r = clip(%x) {min=-inf, max=6} : f32[]\n"
        "  %s = conv2d(%x, %f) {strides=[2, 1], group=3, rounding=tflite} : i8[1] q(2, -128)\n"
        "  output %r, %s\n"
        "}\n";
    size_t len;
    char *printed = print_to_string(g, NULL, &len);
    CHECK(strcmp(printed, canonical) == 0);
    if (strcmp(printed, canonical) != 0)
        fprintf(stderr, "--- printed:\n%s--- expected:\n%s", printed, canonical);
    free(printed);
    graph_free(g);
}

/* Parse errors: the message and the place. */
static void check_error(const char *text, int line, int col, const char *message)
{
    diag_set_capture(true);
    Graph *g = ir_parse("err.qir", text, strlen(text));
    int n;
    const Diagnostic *d = diag_captured(&n);
    bool ok = !g && n >= 1 && d[0].kind == DIAG_ERROR && d[0].loc.line == line &&
              d[0].loc.col == col && strcmp(d[0].message, message) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  for %s  got %d diagnostics; first: %d:%d: %s\n", text, n,
                n ? d[0].loc.line : 0, n ? d[0].loc.col : 0, n ? d[0].message : "(none)");
    graph_free(g);
    diag_clear_captured();
    diag_set_capture(false);
}

static void test_errors(void)
{
    check_error("graph @g {\n  input %x : i8[2]\n  %y = conv3d(%x) : i8[2]\n  output %y\n}\n", 3, 8,
                "unknown op 'conv3d'");
    check_error("graph @g {\n  input %x : i8[2\n}", 3, 1, "expected ']' after the dimensions");
    check_error("graph @g { input %x : i8[2] %y = relu(%x, %x) : i8[2] output %y }", 1, 34,
                "op 'relu' expects 1 operand but got 2");
    check_error("graph @g { input %x : i8[2] output %x }\n}", 2, 1,
                "expected end of input after the graph");
    check_error("graph @g { const %c : i8[2] = [1, 128] output %c }", 1, 35,
                "value 128 is out of range for i8");
    check_error("graph @g { const %c : f32[2] = [1] output %c }", 1, 32,
                "constant 'c' has 1 elements but its type has 2");
    check_error("graph @g { input %x : i8[9223372036854775807,2] output %x }", 1, 23,
                "tensor size overflows int64");
    check_error("graph @g { input %x : i8[1,1,1,1,1,1,1] output %x }", 1, 38,
                "tensor rank exceeds the maximum of 6");
    check_error("graph @g { input %x : i8[3] q(axis=0, scales=[1, 2], zero_points=[0, 0]) output %x }",
                1, 46, "per-axis quantization has 2 scales but dimension 0 has size 3");
    check_error("graph @g { input %x : i8[2] input %x : i8[2] output %x }", 1, 35,
                "redefinition of value '%x'");
    check_error("graph @g { input %x : i8[2] }", 1, 29, "graph '@g' has no output statement");
    check_error("graph @g { input %x : i8[2] \x01 }", 1, 29, "unexpected character '\\x01'");
    check_error("graph @g { input %x : f32[2] output %x, %q }", 1, 41, "use of undefined value '%q'");
    check_error("", 1, 1, "expected 'graph'");
    check_error("graph @g { const %s : f32[2] = file(\"no\\x2Fsuch\\\\file\", offset=16) output %s }",
                1, 37, "cannot read sidecar file 'no/such\\file': No such file or directory");

    /* An embedded NUL is an error, not the end of the input. */
    static const char nul[] = "graph @g { input %x : i8[2] output %x }\0junk";
    diag_set_capture(true);
    CHECK(ir_parse("nul.qir", nul, sizeof nul - 1) == NULL);
    int n;
    const Diagnostic *d = diag_captured(&n);
    CHECK(n == 1 && d[0].loc.col == 40 && strcmp(d[0].message, "unexpected NUL byte") == 0);
    diag_clear_captured();
    diag_set_capture(false);
}

/* Truncation at every offset and random byte corruption: the parser must
 * return a graph or NULL, never crash or read out of bounds (run under
 * ASan to catch the latter). */
static void test_mutations(void)
{
    Graph *g = build_everything();
    size_t len;
    char *text = print_to_string(g, NULL, &len);
    graph_free(g);
    /* A short, hand-written text covers every syntax form cheaply; the big
     * generated one covers the rest. */
    const char *small =
        "graph @m {\n  input %x : i8[1,2] q(0.5, -1)\n"
        "  const %w : i8[2] q(axis=0, scales=[0.25, 1e-3], zero_points=[0, 1]) = [1, -2]\n"
        "  const %s : f32[2] = [-0, 0x7FC00001]\n"
        "  %y = conv2d(%x, %w) {strides=[1, 1], rounding=onnx} : i8[1,2] q(0.1, 5)\n"
        "  %z = leaky_relu(%s) {alpha=-1.5e-3} : f32[2]\n"
        "  output %y, %z\n}\n";
    size_t slen = strlen(small);

    diag_set_capture(true);
    int parsed = 0;
    for (size_t cut = 0; cut <= slen; cut++) {
        char *copy = malloc(cut + 1); /* exact size, so ASan sees overreads */
        memcpy(copy, small, cut);
        Graph *r = ir_parse("cut.qir", copy, cut);
        parsed += r != NULL;
        graph_free(r);
        free(copy);
        diag_clear_captured();
    }
    for (size_t cut = 0; cut <= len; cut += 1 + len / 300) {
        Graph *r = ir_parse("cut.qir", text, cut);
        graph_free(r);
        diag_clear_captured();
    }
    static const char junk[] = "\0\n\"\\%@[](){},:=-+.0123456789eExXqnaif/ \x80\xff";
    char *copy = malloc(slen);
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(copy, small, slen);
        int flips = 1 + (int)(rnd64() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rnd64() % slen;
            copy[at] = rnd64() % 2 ? junk[rnd64() % (sizeof junk - 1)] : (char)rnd64();
        }
        Graph *r = ir_parse("flip.qir", copy, slen);
        if (r) {
            /* Whatever parses must print and parse back to the same graph. */
            check_roundtrip(r, "flip.qir", NULL);
            graph_free(r);
        }
        diag_clear_captured();
    }
    free(copy);
    /* Fewer flips of the big text, which exercises every op and dtype. */
    copy = malloc(len);
    for (int iter = 0; iter < 300; iter++) {
        memcpy(copy, text, len);
        copy[rnd64() % len] = junk[rnd64() % (sizeof junk - 1)];
        Graph *r = ir_parse("flip.qir", copy, len);
        if (r)
            check_roundtrip(r, "flip.qir", NULL);
        graph_free(r);
        diag_clear_captured();
    }
    free(copy);
    diag_set_capture(false);
    /* Among the truncations only the whole text and the text without its
     * final newline are complete graphs. */
    CHECK(parsed == 2);
    free(text);
}

/* diag_capture_push/pop nest: the inner stretch's diagnostics and errors
 * are dropped, the outer capture's kept, each mode restored. */
static void test_capture_nesting(void)
{
    SrcLoc at = {0};
    diag_reset();
    diag_set_capture(true);
    diag_warning(at, "outer");
    DiagCapture inner = diag_capture_push();
    diag_error(at, "inner error");
    diag_warning(at, "inner warning");
    int n;
    const Diagnostic *d = diag_capture_since(&inner, &n);
    CHECK(n == 2 && strcmp(d[0].message, "inner error") == 0 && d[1].kind == DIAG_WARNING);
    CHECK(diag_error_count() == 1);
    DiagCapture innermost = diag_capture_push();
    diag_capture_pop(innermost);
    diag_capture_pop(inner);
    d = diag_captured(&n);
    CHECK(n == 1 && strcmp(d[0].message, "outer") == 0);
    CHECK(diag_error_count() == 0);
    diag_clear_captured();
    diag_set_capture(false);
    /* Outside any capture: nothing printed, and printing again after. */
    DiagCapture c = diag_capture_push();
    diag_error(at, "not printed");
    diag_capture_pop(c);
    CHECK(diag_error_count() == 0);
    d = diag_captured(&n);
    CHECK(n == 0);
}

int main(void)
{
    test_values();
    test_errors();
    test_builders_roundtrip();
    test_sidecar();
    test_mutations();
    test_capture_nesting();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
