/* onnx_internal.h - private declarations of the ONNX importer.
 *
 * The importer is split by responsibility:
 *   onnx.c            onnx_import(): the steps in order, the op table
 *                     (built from onnx_ops.def), the unsupported-op and
 *                     opset reports, the conversion loop, graph outputs
 *   onnx_ops.def      every supported op, one row each: domain, opset
 *                     range, importer, import-time evaluator, QDQ fusion
 *   onnx_helpers.c    the helper library every importer uses (onnx_*)
 *   onnx_load.c       the protobuf model, initializers, external data, graph
 *                     inputs and the topological order
 *   tensorproto.c     TensorProto <-> import-time tensors (CTensor), and the
 *                     .pb tensor files qnnc-run reads and writes
 *   onnx_shape.c      shape rules, and import-time evaluation (constant
 *                     folding) of the small int64 "shape subgraphs"
 *                     exporters emit before Reshape
 * and the op importers, grouped by family:
 *   onnx_conv.c       Conv
 *   onnx_pool.c       MaxPool, AveragePool, GlobalAveragePool
 *   onnx_matmul.c     Gemm, MatMul
 *   onnx_elementwise.c  Add, Sub, Mul, Div, activations, Clip, Cast
 *                     (run-time)
 *   onnx_norm.c       BatchNormalization, Softmax
 *   onnx_layout.c     Concat, Split, Reshape, Flatten, Squeeze, Unsqueeze,
 *                     Transpose, Pad, Slice and Gather (run-time),
 *                     Expand, Tile, DepthToSpace, SpaceToDepth, Resize,
 *                     Upsample, Identity, Dropout
 *   onnx_quantized.c  QuantizeLinear, DequantizeLinear, QLinear*, *Integer,
 *                     and the quantization parameters of every tensor
 *   onnx_qdq.c        the QDQ fusion
 *   onnx_control.c    If: a branch chosen at import time, inlined
 * (Shape, ConstantOfShape and Constant, which only exist at import time,
 * and Slice, Split, Gather and Cast of known data are onnx_shape.c's.)  docs/onnx.md, "Adding an
 * op", says where a new op goes.
 *
 * Every ONNX tensor seen during import is an OTensor.  It is either known
 * at import time (a CTensor: initializers, Constant nodes and everything
 * folded from them) or a run-time IR value.  A run-time 4-D tensor may be
 * held in ONNX's own NCHW order (OTensor.v), in the IR's NHWC order
 * (OTensor.vt), or both; onnx_val() and onnx_val_nhwc() create the missing
 * form on demand with a transpose and remember it, so a tensor is
 * transposed at most once per direction.
 */
#ifndef QNNC_ONNX_INTERNAL_H
#define QNNC_ONNX_INTERNAL_H

#include "frontend.h"
#include "onnx/onnx.pb-c.h"

/* ONNX TensorProto.DataType values we name in code. */
enum {
    OT_UNDEFINED = 0, OT_FLOAT = 1, OT_UINT8 = 2, OT_INT8 = 3, OT_UINT16 = 4, OT_INT16 = 5,
    OT_INT32 = 6, OT_INT64 = 7, OT_STRING = 8, OT_BOOL = 9, OT_FLOAT16 = 10, OT_DOUBLE = 11,
    OT_UINT32 = 12, OT_UINT64 = 13, OT_BFLOAT16 = 16,
};

/* An import-time tensor.  Floating types keep their values as doubles (exact
 * for float and double); integer and bool types as int64. */
typedef struct CTensor {
    int32_t type; /* ONNX DataType */
    int rank;
    int64_t dims[QNN_MAX_RANK];
    int64_t numel;
    double *f;   /* floating types */
    int64_t *i;  /* integer and bool types */
} CTensor;

typedef struct OTensor {
    const char *name;   /* ONNX name */
    int32_t type;       /* ONNX DataType */
    int rank;
    int64_t dims[QNN_MAX_RANK]; /* the ONNX (logical) shape */
    CTensor *c;         /* known at import time */
    Value *v;           /* IR value in ONNX layout */
    Value *vt;          /* IR value in NHWC layout (rank 4 only) */
    const Quant *quant; /* quantization of an integer tensor (ONNX layout axis) */
} OTensor;

typedef struct Imp {
    const char *path;   /* the model file, for messages */
    const char *gpath;  /* the same, owned by the graph: the IR's SrcLocs */
    char *dir;          /* its directory, for external data */
    const ImportOptions *opts;
    Onnx__ModelProto *model;
    int64_t opset;      /* default-domain opset */
    Graph *g;
    Arena arena;        /* CTensor data and OTensors; freed after import */
    /* name -> OTensor, open addressing */
    OTensor **tab;
    size_t tab_cap, tab_len;
    /* IR names already used (open addressing over strings) */
    const char **names;
    size_t names_cap, names_len;
    int errors;
    const Onnx__NodeProto *node; /* the node being converted, for messages */
    bool *fused;        /* by node index: consumed by a QDQ fusion */
    /* QDQ fusion plan (onnx_qdq.c), by node index: the QuantizeLinear a
     * fused op ends in (or -1), the Relu/Clip fused between them (or -1),
     * and per input slot (fuse_in + fuse_in_start[k]) the
     * DequantizeLinear feeding it (or -1). */
    int *fuse_q, *fuse_act, *fuse_in_start, *fuse_in;
    /* While a fused group is converted: the final QuantizeLinear (whose
     * output gets defined), the fused op, its inputs' quantized sources,
     * the result's quantization and element type, and the activation
     * bounds of a fused Relu/Clip. */
    const Onnx__NodeProto *out_node, *fnode;
    OTensor **fsub;
    const Quant *fq;
    int32_t fq_type;
    bool has_act;
    float act_min, act_max;
    Onnx__NodeProto **order; /* nodes in topological order */
    size_t norder;
    int64_t tensor_bytes; /* reserved so far against qnn_max_memory() */
} Imp;

/* ---------------------------------------------------------------- messages */

void onnx_error(Imp *imp, const char *fmt, ...) QNN_PRINTF(2, 3);
/* Counts BYTES more of tensors against qnn_max_memory(), before they are
 * allocated; reports (at imp->node, if any) and returns false when that
 * would exceed the limit. */
bool onnx_reserve(Imp *imp, int64_t bytes);
/* "node 'NAME' (OpType): message" about imp->node. */
void onnx_node_error(Imp *imp, const char *fmt, ...) QNN_PRINTF(2, 3);
const char *onnx_node_label(const Onnx__NodeProto *n);

/* ---------------------------------------------------------------- tensors */

const char *onnx_type_name(int32_t t);
bool onnx_type_is_float(int32_t t);
/* The IR dtype of an ONNX element type; false if the IR has none. */
bool onnx_dtype(int32_t t, DType *out);

/* Decodes TensorProto TP (named WHAT in messages) into C.  External data
 * is read relative to DIR (NULL: not allowed).  Reports "PATH: ..." and
 * returns false on malformed data. */
bool ctensor_from_proto(Arena *a, const char *path, const char *dir, const Onnx__TensorProto *tp,
                        CTensor *c);
CTensor *ctensor_new(Arena *a, int32_t type, int rank, const int64_t *dims);
/* Element I as double / int64 whatever the storage. */
double ctensor_f(const CTensor *c, int64_t i);
int64_t ctensor_i(const CTensor *c, int64_t i);
/* Packs C as IR dtype DT (little-endian bytes, caller frees). */
void *ctensor_pack(const CTensor *c, DType dt);
int64_t onnx_numel(const int64_t *dims, int rank); /* -1 on overflow */

/* ---------------------------------------------------------------- import state */

OTensor *onnx_find(Imp *imp, const char *name);
/* Defines NAME; reports a duplicate definition and returns NULL. */
OTensor *onnx_define(Imp *imp, const char *name);
/* Defines G's initializers as constants (onnx_load.c); BRANCH: an If
 * branch's, whose errors name the If node. */
bool onnx_define_initializers(Imp *imp, const Onnx__GraphProto *g, bool branch);
/* Input I of the current node, or NULL when absent or the empty name. */
OTensor *onnx_in(Imp *imp, const Onnx__NodeProto *n, size_t i);
/* Defines output I of the current node (NULL if it is absent). */
OTensor *onnx_out(Imp *imp, const Onnx__NodeProto *n, size_t i);

/* A unique, IR-legal value name built from BASE and SUFFIX. */
const char *onnx_name(Imp *imp, const char *base, const char *suffix);

/* Attributes. */
const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name);
int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt);
float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float dflt);
/* Copies an INTS attribute into OUT (at most MAX); returns the count or -1
 * if absent. */
int onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int max);
/* The STRING attribute NAME, or DFLT. */
const char *onnx_attr_str(Imp *imp, const Onnx__NodeProto *n, const char *name, const char *dflt);

/* ---------------------------------------------------------------- IR building */

TensorType onnx_tt(DType dt, int rank, const int64_t *dims, const Quant *q);
/* The value of T in ONNX layout / NHWC layout (rank 4).  NULL after an
 * error (for instance an int64 tensor needed at run time). */
Value *onnx_val(Imp *imp, OTensor *t);
Value *onnx_val_nhwc(Imp *imp, OTensor *t);
/* The IR constant for import-time tensor T, permuted by PERM (output dim
 * i = input dim perm[i]) if PERM is non-NULL, named T's name + SUFFIX. */
Value *onnx_const_perm(Imp *imp, OTensor *t, const int64_t *perm, const char *suffix);
/* True when T is a run-time 4-D tensor held only in NHWC. */
bool onnx_is_nhwc(const OTensor *t);
/* Concat's result dims OD along AX from N's inputs (onnx_layout.c), which
 * must match X0's rank, element type and dims off AX; absent inputs are
 * skipped unless NEED_ALL.  The inputs counted, or -1 after an error. */
int64_t onnx_concat_dims(Imp *imp, const Onnx__NodeProto *n, const OTensor *x0, int ax, int64_t *od,
                         bool need_all);
Node *onnx_emit(Imp *imp, OpId op, Value *const *ops, int n, const char *name, TensorType t);
Value *onnx_emit_transpose(Imp *imp, Value *x, const int64_t *perm, const char *name);
Value *onnx_emit_reshape(Imp *imp, Value *x, int rank, const int64_t *dims, const char *name);
/* Sets OUT's run-time value: V in ONNX layout, or in NHWC if NHWC. */
void onnx_set(OTensor *out, Value *v, bool nhwc);
/* A constant IR value from float data. */
Value *onnx_const_f32(Imp *imp, const char *name, int rank, const int64_t *dims, const float *data);

/* NCHW <-> NHWC permutations. */
extern const int64_t onnx_perm_to_nhwc[4], onnx_perm_to_nchw[4];

/* ---------------------------------------------------------------- results (onnx_helpers.c) */

/* Defines output I of N with element type TYPE and the ONNX shape DIMS
 * (or, in a fused QDQ group, the final QuantizeLinear's output), refusing
 * empty and oversized tensors, which the IR cannot hold. */
OTensor *onnx_define_out(Imp *imp, const Onnx__NodeProto *n, size_t i, int32_t type, int rank,
                         const int64_t *dims);
/* Checks that T is FLOAT (or, in a fused QDQ group, per-tensor quantized);
 * _or_q also accepts any per-tensor quantized integer tensor, for the ops
 * that only move or drop values. */
bool onnx_need_float(Imp *imp, const OTensor *t);
bool onnx_need_float_or_q(Imp *imp, const OTensor *t);
/* A temporary OTensor (not in the name table). */
OTensor *onnx_temp(Imp *imp, const char *name, int32_t type, int rank, const int64_t *dims);
/* T viewed with new DIMS (same elements, ONNX order), as a temporary. */
OTensor *onnx_view(Imp *imp, OTensor *t, int rank, const int64_t *dims, const char *suffix);
/* [N,C,L] -> [N,C,1,L], so 1-D convolution and pooling run as 2-D; and
 * back: T4 is the NHWC result [N,1,L,C], OUT gets [N,C,L]. */
OTensor *onnx_lift3(Imp *imp, OTensor *t);
bool onnx_lower3(Imp *imp, OTensor *t4, OTensor *out);
/* The run-time value of T in whichever layout it already has; *NHWC tells
 * which.  For ops that do not care about layout. */
Value *onnx_any_val(Imp *imp, OTensor *t, bool *nhwc);
/* The value of T (rank <= R) as an operand of an R-D broadcasting op run
 * in NHWC (R == 4) or ONNX layout. */
Value *onnx_bcast_operand(Imp *imp, OTensor *t, int r, bool nhwc);
/* A scalar f32 constant named BASE + SUFFIX. */
Value *onnx_scalar_f32(Imp *imp, const char *base, const char *suffix, float v);
/* Emits the op producing an importer's result: in a fused QDQ group it is
 * quantized (the QuantizeLinear's parameters and rounding=onnx, or the
 * input's for OPF_SAME_QUANT ops, which onnx_fix_q then requantizes). */
Node *onnx_emit_r(Imp *imp, OpId op, Value *const *ops, int n, const char *name, TensorType t);
Value *onnx_fix_q(Imp *imp, Value *v);
/* Sets OUT's value to V (after onnx_fix_q) in NHWC if NHWC; false if
 * either is NULL. */
bool onnx_finish(Imp *imp, OTensor *out, Value *v, bool nhwc);
/* Makes OUT an alias of X (Identity, Dropout, zero Pad). */
void onnx_alias(OTensor *out, const OTensor *x);
/* A Relu/Clip fused into a quantized conv2d or dense: act_min/act_max. */
void onnx_set_act(Imp *imp, Node *nd);
/* Logical axis A of a 4-D tensor held in NHWC is physical axis onnx_nhwc_pos[A]. */
extern const int onnx_nhwc_pos[4];
/* The quantization of a value permuted by PERM: a per-axis record follows
 * its axis. */
const Quant *onnx_quant_permute(Imp *imp, const Quant *q, const int64_t *perm, int rank);
uint64_t onnx_hash(const char *s); /* FNV-1a, for the name tables */

/* Convolution and pooling windows over 1 or 2 spatial dims. */
typedef struct OnnxWindow {
    int64_t k[2], s[2], d[2], pads[4]; /* pads: top, left, bottom, right */
    int64_t out[2];
    int64_t extra[2]; /* ceil_mode padding added at the bottom/right */
} OnnxWindow;
/* Reads kernel/strides/dilations/pads/auto_pad of N over NSP spatial dims
 * of sizes IN and computes the output size. */
bool onnx_window(Imp *imp, const Onnx__NodeProto *n, int nsp, const int64_t *in, const int64_t *kernel,
                 bool ceil_mode, OnnxWindow *w);
/* Sets strides, pads and (if DIL) dilations, leaving out the defaults. */
void onnx_set_window_attrs(Imp *imp, Node *nd, const OnnxWindow *w, const int64_t *pads, bool dil);

/* ---------------------------------------------------------------- the op table (onnx.c, onnx_ops.def) */

/* Converts node N into IR nodes and defines its outputs; false after
 * reporting an error.  Its required inputs and output 0 exist. */
typedef bool ImportFn(Imp *imp, const Onnx__NodeProto *n);
/* Evaluates N at import time when all its inputs are known then: 1 done,
 * 0 not evaluable (the importer runs instead), -1 after an error. */
typedef int EvalFn(Imp *imp, const Onnx__NodeProto *n);

typedef enum { AI_ONNX, COM_MICROSOFT } OnnxDomain;

typedef struct OnnxOp {
    const char *op_type;
    OnnxDomain domain;
    int first_opset, last_opset;
    int min_inputs;
    ImportFn *import;
    EvalFn *eval;
    unsigned qdq;
} OnnxOp;

/* The row of N's op type and domain (NULL: unsupported), whatever the
 * model's opset. */
const OnnxOp *onnx_op_find(const Onnx__NodeProto *n);

/* Every importer named in onnx_ops.def. */
#define ONNX_OP(op_type, domain, first, last, min_inputs, importer, evaluator, qdq) ImportFn importer;
#include "onnx_ops.def"
#undef ONNX_OP

/* ---------------------------------------------------------------- onnx_shape.c */

/* Shape rules shared by evaluation and conversion.  Each reports through
 * onnx_node_error and returns false on a bad model. */
bool onnx_norm_axis(Imp *imp, int64_t axis, int rank, int *out);
bool onnx_shape_reshape(Imp *imp, const int64_t *in, int rin, const CTensor *shape, bool allowzero,
                        int64_t *out, int *rout);
bool onnx_shape_flatten(Imp *imp, const int64_t *in, int rin, int64_t axis, int64_t *out);
/* The axes of Squeeze/Unsqueeze: attribute before opset 13, input 1 from
 * 13 on.  *naxes = -1 when absent. */
bool onnx_axes(Imp *imp, const Onnx__NodeProto *n, int64_t *axes, int *naxes);
bool onnx_shape_squeeze(Imp *imp, const int64_t *in, int rin, const int64_t *axes, int naxes,
                        int64_t *out, int *rout);
bool onnx_shape_unsqueeze(Imp *imp, const int64_t *in, int rin, const int64_t *axes, int naxes,
                          int64_t *out, int *rout);
bool onnx_shape_broadcast(Imp *imp, const OTensor *a, const OTensor *b, int64_t *out, int *rout);
/* Refuses the broadcast=1/axis form of Add, Sub, Mul, Div (and Pow, Equal,
 * Greater, Less) before opset 7
 * when it differs from numpy broadcasting. */
bool onnx_legacy_broadcast_ok(Imp *imp, const Onnx__NodeProto *n, const OTensor *a, const OTensor *b);
/* Slice's bounds (attributes before opset 10, constant inputs from 10 on)
 * clamped as ONNX says: per dim of X the first index B, the step ST and the
 * result's size OD (0 for an empty slice). */
bool onnx_slice_bounds(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *b, int64_t *st,
                       int64_t *od);
/* Split's axis (*AX) and the sizes of its N->n_output parts (SIZES), from
 * the attribute or input 1, num_outputs (opset 18), or equal parts. */
bool onnx_split_sizes(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int *ax, int64_t *sizes);
/* Gather's parameters: the axis AX, the indices (which must be known at
 * import time) checked and made non-negative in *IDX (arena memory), the
 * result's rank R and ONNX shape OD. */
bool onnx_gather_params(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int *ax, int64_t **idx,
                        int64_t *od, int *r);
/* Expand's result shape OD, rank R (its constant shape input broadcast
 * with X); Tile's repeats REP (constant, positive, one per dim) and result
 * shape OD. */
bool onnx_expand_shape(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *od, int *r);
bool onnx_tile_repeats(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *rep, int64_t *od);
/* Cast's 'to': an element type qnnc converts to, at least at import time. */
bool onnx_cast_target_ok(Imp *imp, int32_t to);
/* Defines OUT as import-time tensor C. */
void onnx_set_const(OTensor *out, CTensor *c);

/* Import-time evaluation.  onnx_fold() runs N's evaluator (onnx_ops.def)
 * when all its inputs are known at import time: 1 if it folded, 0 if it
 * did not apply, -1 after an error. */
int onnx_fold(Imp *imp, const Onnx__NodeProto *n);
/* The evaluators of onnx_ops.def.  eval_by_import serves ops whose importer
 * itself works on import-time tensors (Shape, ConstantOfShape, Constant). */
EvalFn eval_arith, eval_concat, eval_flatten, eval_reshape, eval_transpose, eval_squeeze, eval_identity,
    eval_slice, eval_split, eval_gather, eval_cast, eval_expand, eval_tile, eval_by_import;

/* ---------------------------------------------------------------- family cores */

/* Conv / MatMul / Gemm for every element type, shared by the float,
 * QLinear*, *Integer and fused QDQ forms (onnx_conv.c, onnx_matmul.c):
 * OTYPE and OQ are the result's ONNX type and quantization; ROUNDING sets
 * rounding=onnx. */
bool onnx_conv_core(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *w, OTensor *b, int32_t otype,
                    const Quant *oq, bool rounding);
bool onnx_matmul_core(Imp *imp, const Onnx__NodeProto *n, OTensor *a, OTensor *b, int32_t otype,
                      const Quant *oq, bool rounding);
bool onnx_gemm_core(Imp *imp, const Onnx__NodeProto *n, OTensor *a, OTensor *b, OTensor *c, int32_t otype,
                    const Quant *oq);

/* ---------------------------------------------------------------- quantization (onnx_quantized.c, onnx_qdq.c) */

/* Records the quantization of every tensor a quantized op reads or writes,
 * before any IR value is created. */
bool onnx_quant_annotate(Imp *imp);
/* Reads the (scale, zero point) pair at inputs SI/ZI of N (SI < 0: scale
 * 1); AXIS is the quantized axis of per-axis parameters.  *ZT receives the
 * zero point's element type. */
bool onnx_qparams(Imp *imp, const Onnx__NodeProto *n, int si, int zi, int axis, int rank, const int64_t *dims,
                  const Quant **out, int32_t *zt);
/* Checks (or with ATTACH, attaches) the parameters of N's quantized
 * operands. */
bool onnx_quant_operands(Imp *imp, const Onnx__NodeProto *n, bool attach);
/* Marks the QDQ groups to fuse (after onnx_quant_annotate). */
void onnx_qdq_plan(Imp *imp);
/* Converts a fused QDQ group rooted at N, if N starts one: 1 done, 0 not a
 * group, -1 error. */
int onnx_qdq_fuse(Imp *imp, const Onnx__NodeProto *n, size_t index);

/* Converts node N of an inlined subgraph (If, onnx_control.c): checks it
 * against the op table, attaches its quantization parameters, folds or
 * imports it. */
bool onnx_convert_node(Imp *imp, const Onnx__NodeProto *n);
/* Calls FN(ARG, name) for every tensor name the subgraphs of N (its GRAPH
 * attributes, nested ones included) read, their own names included: the
 * outer-scope values an If's branches capture are among them. */
void onnx_subgraph_refs(const Onnx__NodeProto *n, void (*fn)(void *arg, const char *name), void *arg);

/* onnx_load.c */
bool onnx_load(Imp *imp);
bool onnx_inputs(Imp *imp);
bool onnx_toposort(Imp *imp);

#endif /* QNNC_ONNX_INTERNAL_H */
