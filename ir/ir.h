/* ir.h - the qnnc intermediate representation.
 *
 * One shared header for the IR stage: types, the graph, attributes, the
 * textual form, the verifier, the reference interpreter and diagnostics.
 *
 * A Graph owns an Arena; every Value, Node, name, shape array and constant
 * payload hangs off it and is freed at once by graph_free().  A graph is in
 * SSA form: every Value is defined exactly once (a graph input, a constant,
 * or the result of one Node), and g->nodes is kept in topological order.
 */
#ifndef QNNC_IR_H
#define QNNC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- basics */

#define QNN_MAX_RANK 6

#if defined(__GNUC__)
#define QNN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define QNN_NORETURN __attribute__((noreturn))
#else
#define QNN_PRINTF(f, a)
#define QNN_NORETURN
#endif

/* Internal bugs, never user errors: print file:line and abort. */
QNN_NORETURN void qnn_die_at(const char *file, int line, const char *fmt, ...) QNN_PRINTF(3, 4);
#define qnn_die(...) qnn_die_at(__FILE__, __LINE__, __VA_ARGS__)
#define qnn_unreachable() qnn_die_at(__FILE__, __LINE__, "unreachable")

/* Allocation that cannot fail (dies on out-of-memory). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* The most memory the tensors of one model may need, in bytes: the sum of
 * type_nbytes over its inputs, constants and node results, which bounds
 * what the interpreter and the compiler allocate for them.  The parser and
 * the ONNX importer check it as they meet each tensor, before allocating
 * its data, so an absurd model is an error, not an out-of-memory death
 * (docs/robustness.md).  Set from --max-memory or [limits] max_memory. */
#define QNN_DEFAULT_MAX_MEMORY (INT64_C(4) << 30)
void qnn_set_max_memory(int64_t bytes);
int64_t qnn_max_memory(void);

/* Reads a whole file; returns NULL and sets errno on failure.  The buffer
 * is NUL-terminated; *len excludes the terminator.  Caller frees. */
char *read_file(const char *path, size_t *len);

/* Writes a file atomically: data goes to a temporary beside PATH, which is
 * renamed over PATH only when everything was written.  Returns false and
 * sets errno on failure, leaving no partial file behind. */
bool write_file_atomic(const char *path, const void *data, size_t len);

/* ---------------------------------------------------------------- arena */

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena {
    ArenaBlock *head;
} Arena;

void arena_init(Arena *a);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);          /* zeroed, 16-byte aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
void *arena_memdup(Arena *a, const void *p, size_t n);

/* A growable array of pointers that lives in an arena (old storage is
 * simply abandoned on growth; the arena frees it with the graph). */
typedef struct PtrVec {
    void **data;
    int len, cap;
} PtrVec;
void ptrvec_push(Arena *a, PtrVec *v, void *p);

/* ---------------------------------------------------------------- diagnostics */

/* A position in a source file (1-based line and column); file NULL means
 * "no location". */
typedef struct SrcLoc {
    const char *file;
    int line, col;
} SrcLoc;

/* Diagnostics go through one engine.  In the default mode an error is
 * printed to stderr as "file:line:col: error: message", followed by the
 * source line and a caret when the source text was registered with
 * diag_add_source().  In capture mode (qnnc-opt --verify-diagnostics) they
 * are recorded instead and compared with expected-error annotations. */
typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagKind;

typedef struct Diagnostic {
    DiagKind kind;
    SrcLoc loc;
    char *message;
} Diagnostic;

void diag_add_source(const char *file, const char *text, size_t len);
void diag_report(DiagKind kind, SrcLoc loc, const char *fmt, ...) QNN_PRINTF(3, 4);
#define diag_error(loc, ...) diag_report(DIAG_ERROR, (loc), __VA_ARGS__)
#define diag_warning(loc, ...) diag_report(DIAG_WARNING, (loc), __VA_ARGS__)
int diag_error_count(void);
void diag_reset(void);
/* Capture mode: diagnostics are stored, not printed. */
void diag_set_capture(bool on);
const Diagnostic *diag_captured(int *count);
void diag_clear_captured(void);
/* A stretch of work whose diagnostics its caller handles (a trial, a
 * second run whose notes would repeat the first's): diag_capture_push
 * captures from here on, inside any capture already on;
 * diag_capture_since lists what was reported since (valid until the pop);
 * diag_capture_pop drops it, forgets the errors among it and restores
 * the mode of before the push.  Pushes and pops nest. */
typedef struct DiagCapture {
    bool was_capturing;
    int first; /* diag_captured's count at the push */
} DiagCapture;
DiagCapture diag_capture_push(void);
const Diagnostic *diag_capture_since(const DiagCapture *c, int *count);
void diag_capture_pop(DiagCapture c);

/* ---------------------------------------------------------------- dtypes */

typedef enum {
#define DTYPE(id, name, size, isint, lo, hi) DT_##id,
#include "dtypes.def"
#undef DTYPE
    DT_COUNT
} DType;

typedef struct DTypeTraits {
    const char *name;
    int size;          /* bytes per element */
    bool is_int;
    int64_t min, max;  /* representable range of integer types */
} DTypeTraits;

extern const DTypeTraits dtype_traits[DT_COUNT];
/* Returns false if NAME is not a dtype. */
bool dtype_from_name(const char *name, size_t len, DType *out);

/* ---------------------------------------------------------------- types */

/* Quantization parameters: real = scale * (q - zero_point).
 * axis < 0 means per-tensor (count == 1); otherwise one scale and zero point
 * per slice along AXIS (count == dims[axis]). */
typedef struct Quant {
    int axis;
    int count;
    float *scale;
    int32_t *zero_point;
} Quant;

typedef struct TensorType {
    DType dtype;
    int rank;
    int64_t dims[QNN_MAX_RANK];
    const Quant *quant;  /* NULL: not quantized */
} TensorType;

int64_t type_numel(const TensorType *t);   /* -1 on overflow */
int64_t type_nbytes(const TensorType *t);  /* -1 on overflow */
/* Y = X transposed: X has RANK dims DIMS, elements of ES bytes; output dim
 * d is X's dim PERM[d] (a permutation, checked by the caller). */
void transpose_elems(const int64_t *dims, int rank, const int64_t *perm, size_t es, const void *x, void *y);
bool quant_equal(const Quant *a, const Quant *b);   /* NULL-safe, bitwise on scales */
bool type_equal(const TensorType *a, const TensorType *b);
bool shape_equal(const TensorType *a, const TensorType *b);
/* Makes a quantization record in arena A (copies the arrays). */
Quant *quant_new(Arena *a, int axis, int count, const float *scale, const int32_t *zp);
/* Writes "i8[1,2,3] q(...)" style text to F (the textual syntax). */
void type_print(FILE *f, const TensorType *t);

/* ---------------------------------------------------------------- ops and attributes */

enum {
    OPF_REQUANT = 1 << 0,     /* output may have its own scale; op requantizes */
    OPF_ACCUM = 1 << 1,       /* int8 inputs accumulate in int32 (conv, dense, matmul) */
    OPF_ELEMENTWISE = 1 << 2, /* output element i depends on input element i (after broadcast) */
    OPF_SAME_QUANT = 1 << 3,  /* quantized output must carry the input's quant params */
    OPF_NONLINEAR = 1 << 4,   /* quantized form is dequantize -> float op -> quantize (a LUT) */
    OPF_FLOAT_ONLY = 1 << 5,  /* only defined on f32 */
};

typedef enum {
#define ATTR(id, name, kind) ATTR_##id,
#include "attrs.def"
#undef ATTR
    ATTR_COUNT
} AttrId;

typedef enum { AK_INT, AK_FLOAT, AK_INTS, AK_FLOATS, AK_ENUM } AttrKind;

typedef struct AttrInfo {
    const char *name;
    AttrKind kind;
    const char *const *enum_names; /* AK_ENUM: NULL-terminated value names */
} AttrInfo;
extern const AttrInfo attr_info[ATTR_COUNT];
bool attr_from_name(const char *name, size_t len, AttrId *out);

#define A(x) (UINT64_C(1) << ATTR_##x)
typedef enum {
#define OP(id, name, mino, maxo, flags, attrs, check, interp) OP_##id,
#include "ops.def"
#undef OP
    OP_COUNT
} OpId;

typedef struct OpInfo {
    const char *name;
    int min_operands, max_operands; /* max -1: variadic */
    unsigned flags;
    uint64_t attrs; /* mask of allowed attributes, bit ATTR_x */
} OpInfo;
extern const OpInfo op_info[OP_COUNT];
bool op_from_name(const char *name, size_t len, OpId *out);

/* Values of the `rounding` enum attribute. */
typedef enum { ROUND_ONNX = 0, ROUND_TFLITE = 1 } RoundingMode;
/* Values of resize's `interp`, `coord` and `nearest` attributes (ONNX
 * Resize's mode, coordinate_transformation_mode and nearest_mode). */
typedef enum { RESIZE_NEAREST = 0, RESIZE_LINEAR = 1 } ResizeInterp;
typedef enum {
    COORD_HALF_PIXEL = 0, COORD_ASYMMETRIC = 1, COORD_PYTORCH_HALF_PIXEL = 2, COORD_ALIGN_CORNERS = 3,
    COORD_TF_HALF_PIXEL_FOR_NN = 4
} ResizeCoord;
/* Values of gelu's `approximate` (ONNX Gelu-20's attribute of that name). */
typedef enum { GELU_NONE = 0, GELU_TANH = 1 } GeluApprox;
typedef enum { NEAREST_ROUND_PREFER_FLOOR = 0, NEAREST_ROUND_PREFER_CEIL = 1, NEAREST_FLOOR = 2, NEAREST_CEIL = 3 } ResizeNearest;

typedef struct Attr {
    AttrId id;
    int count; /* list length for AK_INTS / AK_FLOATS */
    union {
        int64_t i;  /* AK_INT, AK_ENUM (index into enum_names) */
        float f;    /* AK_FLOAT */
        int64_t *ints;
        float *floats;
    } u;
} Attr;

/* ---------------------------------------------------------------- graph */

typedef enum { VAL_INPUT, VAL_CONST, VAL_NODE } ValueKind;

typedef struct Node Node;

typedef struct Value {
    int id;            /* index in g->values */
    ValueKind kind;
    const char *name;  /* without the leading '%' */
    TensorType type;
    Node *def;         /* VAL_NODE: the defining node */
    const void *data;  /* VAL_CONST: type_nbytes(&type) bytes, little-endian */
    const char *sidecar; /* VAL_CONST: sidecar file it was read from, or NULL */
    /* The real-value range [range_lo, range_hi] an f32 input or node result
     * takes on the calibration data: written by the calibrate pass (text:
     * `range(lo, hi)` after the type), read by quantize to pick scales. */
    bool has_range;
    float range_lo, range_hi;
    /* A node result's typical magnitude: the median over the calibration
     * samples of each sample's largest |value| (calibrate; 0 when unknown,
     * and not in the text form).  quantize reads it to find outputs whose
     * range a few samples set (docs/passes.md, "Outlier-dominated outputs"). */
    float typical_peak;
    SrcLoc loc;
    struct Value *name_next; /* the graph's name index: next value in this bucket */
} Value;

struct Node {
    int id;
    OpId op;
    int num_operands;
    Value **operands;
    Value *result;
    int num_attrs;
    Attr *attrs;       /* kept sorted by AttrId */
    SrcLoc loc;
};

typedef struct Graph {
    Arena arena;
    const char *name;
    PtrVec values;  /* Value*, every value by id */
    PtrVec inputs;  /* Value*, in signature order */
    PtrVec consts;  /* Value*, in declaration order */
    PtrVec nodes;   /* Node*, topological order */
    PtrVec outputs; /* Value*, in signature order */
    SrcLoc loc;
    /* graph_find_value's index: buckets of values chained through
     * name_next, each chain in id order (the first value of a name wins,
     * as a scan of `values` would find it).  Kept by the builders,
     * graph_rename_value and graph_set_values. */
    Value **name_index;
    int name_index_cap; /* a power of two, or 0 */
} Graph;

Graph *graph_new(const char *name);
void graph_free(Graph *g);
/* Builders.  Names must be unique in the graph (the caller checks, the
 * verifier re-checks).  Constant data is copied into the arena. */
Value *graph_add_input(Graph *g, const char *name, TensorType t);
Value *graph_add_const(Graph *g, const char *name, TensorType t, const void *data);
Node *graph_add_node(Graph *g, OpId op, Value *const *operands, int n,
                     const char *result_name, TensorType result_type);
void graph_add_output(Graph *g, Value *v);
/* The value named NAME (the lowest id if several hold it), or NULL:
 * constant time through the graph's name index. */
Value *graph_find_value(const Graph *g, const char *name);
/* Renames V; NAME must live as long as the graph (an arena string).
 * Value names change only through this, so that the index stays right. */
void graph_rename_value(Graph *g, Value *v, const char *name);
/* Replaces the value list (after a pass drops dead values): renumbers the
 * ids in list order and rebuilds the name index. */
void graph_set_values(Graph *g, PtrVec values);
/* How many times each value is read, by value id: by the nodes' operands
 * and by the graph's outputs.  values.len + 1 counts, zeroed beyond the
 * reads; the caller frees it. */
int *graph_use_counts(const Graph *g);
/* Structural equality: same name, signature, constants (bytes), nodes,
 * attributes and types, in the same order. */
bool graph_equal(const Graph *a, const Graph *b);

/* Attribute setters replace an existing attribute of the same id. */
/* Operand I of N becomes V; I one past the last appends (the operands
 * copied into G's arena, one longer). */
void node_set_operand(Graph *g, Node *n, int i, Value *v);
void node_set_int(Graph *g, Node *n, AttrId id, int64_t v);
void node_set_float(Graph *g, Node *n, AttrId id, float v);
void node_set_ints(Graph *g, Node *n, AttrId id, const int64_t *v, int count);
void node_set_floats(Graph *g, Node *n, AttrId id, const float *v, int count);
void node_set_enum(Graph *g, Node *n, AttrId id, int64_t v);
const Attr *node_attr(const Node *n, AttrId id);  /* NULL if absent */
bool attr_equal(const Attr *a, const Attr *b);    /* same id and value (floats bitwise) */
int64_t node_int(const Node *n, AttrId id, int64_t dflt);
float node_float(const Node *n, AttrId id, float dflt);
/* Copies up to MAX list entries into OUT; returns the count, or fills OUT
 * from DFLT (of length MAX) and returns MAX when the attribute is absent. */
int node_ints(const Node *n, AttrId id, int64_t *out, int max, const int64_t *dflt);

/* ---------------------------------------------------------------- text form */

/* Parses one graph from TEXT (FILE names it in diagnostics and anchors
 * sidecar paths).  On error, reports through diag and returns NULL. */
Graph *ir_parse(const char *file, const char *text, size_t len);
Graph *ir_parse_file(const char *path);

typedef struct PrintOptions {
    /* Constants larger than this many bytes are written to SIDECAR_PATH and
     * referenced from the text; 0 means always inline. */
    int64_t sidecar_threshold;
    const char *sidecar_path;
} PrintOptions;

/* Prints G in canonical form: print(parse(text)) is a fixed point. */
bool ir_print(FILE *out, const Graph *g, const PrintOptions *opts);

/* ---------------------------------------------------------------- verifier */

/* Checks every structural, shape, dtype and quantization rule (docs/ir-rules.md).
 * Reports each violation through diag at the offending node; returns true if
 * the graph is valid. */
bool ir_verify(const Graph *g);

/* ---------------------------------------------------------------- interpreter */

/* Executes G.  inputs[i] points at type_nbytes() bytes for g->inputs[i];
 * outputs[i] receives type_nbytes() bytes for g->outputs[i].  The graph must
 * have passed ir_verify().  Returns 0 on success; on failure reports through
 * diag and returns -1. */
int interp_run(const Graph *g, const void *const inputs[], void *const outputs[]);

/* Called by interp_run_observed for every graph input (in signature order,
 * before any node runs) and every node result, right after the node
 * computed it.  DATA holds type_nbytes(&v->type) bytes and is valid only
 * during the call.  The calibrate pass collects its statistics this way. */
typedef void (*InterpObserver)(void *ctx, const Value *v, const void *data);

/* interp_run, calling OBSERVE (when not NULL) with CTX as described above. */
int interp_run_observed(const Graph *g, const void *const inputs[], void *const outputs[],
                        InterpObserver observe, void *ctx);

/* interp_run with EDIT called on every node result (not the graph inputs)
 * right after the node computed it; EDIT may change the DATA any later
 * node reads: the bias-correct pass feeds a float layer its quantized
 * twin's input this way. */
typedef void (*InterpEditor)(void *ctx, const Value *v, void *data);
int interp_run_edited(const Graph *g, const void *const inputs[], void *const outputs[],
                      InterpEditor edit, void *ctx);

/* interp_run_observed, but a node whose result GIVEN[id] (by value id, an
 * array of g->values.len pointers) holds is not run: that tensor is its
 * result, as computed elsewhere by the caller (mixed-precision reuses a
 * previous trial's tensors of identical nodes), and a node only such
 * nodes read is not run either.  OBSERVE sees the nodes run and the given
 * ones, in node order. */
int interp_run_given(const Graph *g, const void *const inputs[], void *const outputs[], const void *const given[],
                     InterpObserver observe, void *ctx);

#endif /* QNNC_IR_H */
