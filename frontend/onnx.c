/* onnx.c - onnx_import(): from an ONNX model to a verified qnnc graph.
 *
 * The steps, in order:
 *   1. load the protobuf, initializers and graph inputs (onnx_load.c);
 *   2. sort the nodes topologically, rejecting cycles and undefined names;
 *   3. check every node against the op table and report ALL unsupported
 *      nodes at once, so a user sees the whole list in one run;
 *   4. evaluate Constant nodes, then record the quantization of every
 *      tensor a quantized op touches (onnx_quant.c), so that IR values get
 *      their quantized types when they are created;
 *   5. convert node by node: import-time tensors are folded (onnx_shape.c),
 *      the rest become IR nodes (onnx_ops.c, onnx_quant.c);
 *   6. emit the graph outputs in the boundary layout and run ir_verify.  A
 *      graph the verifier rejects is an importer bug, reported as such.
 *
 * Layout (docs/onnx.md): ONNX activations are NCHW, the IR's NHWC.  A 4-D
 * tensor lives in whichever layout its producer made; ops that need NHWC
 * (convolution, pooling, batchnorm) ask for onnx_val_nhwc(), ops that need
 * the element order of ONNX (reshape, flatten, matmul) for onnx_val(), and
 * layout-agnostic ones (elementwise, concat, softmax, pad, transpose) work
 * in the layout they are given, remapping axes.  Each conversion is made at
 * most once per tensor and direction.
 */
#include "onnx_internal.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

const int64_t onnx_perm_to_nhwc[4] = {0, 2, 3, 1};
const int64_t onnx_perm_to_nchw[4] = {0, 3, 1, 2};

/* ---------------------------------------------------------------- the op table */

typedef struct OpEntry {
    const char *name;
    int min_inputs; /* inputs 0 .. min_inputs-1 are required */
    ImportFn *fn;
} OpEntry;

/* Every op qnnc imports, with the function converting it.  Opset-specific
 * forms (attribute vs. input) are handled inside each function. */
static const OpEntry op_table[] = {
    {"Conv", 2, import_conv},
    {"BatchNormalization", 5, import_batchnorm},
    {"Gemm", 2, import_gemm},
    {"MatMul", 2, import_matmul},
    {"Add", 2, import_binary},
    {"Sub", 2, import_binary},
    {"Mul", 2, import_binary},
    {"Div", 2, import_binary},
    {"Relu", 1, import_unary},
    {"LeakyRelu", 1, import_unary},
    {"Sigmoid", 1, import_unary},
    {"Tanh", 1, import_unary},
    {"HardSwish", 1, import_unary},
    {"Clip", 1, import_clip},
    {"HardSigmoid", 1, import_hard_sigmoid},
    {"MaxPool", 1, import_pool},
    {"AveragePool", 1, import_pool},
    {"GlobalAveragePool", 1, import_global_avg_pool},
    {"Softmax", 1, import_softmax},
    {"Concat", 1, import_concat},
    {"Flatten", 1, import_flatten},
    {"Reshape", 1, import_reshape},
    {"Transpose", 1, import_transpose},
    {"Squeeze", 1, import_squeeze},
    {"Unsqueeze", 1, import_unsqueeze},
    {"Pad", 1, import_pad},
    {"Identity", 1, import_identity},
    {"Dropout", 1, import_dropout},
    {"Constant", 0, import_constant},
    {"Shape", 1, import_shape},
    {"Gather", 2, import_gather},
    {"Slice", 1, import_slice},
    {"Cast", 1, import_cast},
    {"ConstantOfShape", 1, import_constant_of_shape},
    {"QuantizeLinear", 2, import_quantize},
    {"DequantizeLinear", 2, import_dequantize},
    {"QLinearConv", 8, import_qlinear_conv},
    {"QLinearMatMul", 8, import_qlinear_matmul},
    {"ConvInteger", 2, import_conv_integer},
    {"MatMulInteger", 2, import_matmul_integer},
};

static const OpEntry *find_entry(const Onnx__NodeProto *n)
{
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++)
        if (!strcmp(op_table[i].name, n->op_type))
            return &op_table[i];
    return NULL;
}

ImportFn *onnx_converter(const Onnx__NodeProto *n) { return find_entry(n) ? find_entry(n)->fn : NULL; }

static ImportFn *find_op(const Onnx__NodeProto *n)
{
    const OpEntry *e = find_entry(n);
    return e ? e->fn : NULL;
}

/* The converters may assume their required inputs and first output exist. */
static bool check_arity(Imp *imp, const Onnx__NodeProto *n)
{
    const OpEntry *e = find_entry(n);
    for (int i = 0; i < e->min_inputs; i++) {
        if ((size_t)i >= n->n_input || !n->input[i] || !*n->input[i]) {
            onnx_error(imp, "node '%s' (%s): input %d is required but missing", onnx_node_label(n), n->op_type, i);
            return false;
        }
    }
    if (n->n_output < 1 || !n->output[0] || !*n->output[0]) {
        onnx_error(imp, "node '%s' (%s): it has no output", onnx_node_label(n), n->op_type);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- IR building */

TensorType onnx_tt(DType dt, int rank, const int64_t *dims, const Quant *q)
{
    TensorType t = {.dtype = dt, .rank = rank, .quant = q};
    if (rank)
        memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
    return t;
}

/* IR nodes and values point back at the model file, so that later stages
 * (verifier, interpreter, passes) name it in their messages. */
Node *onnx_emit(Imp *imp, OpId op, Value *const *ops, int n, const char *name, TensorType t)
{
    /* Over the memory limit, the error is counted and the import fails
     * after this node, before any pass allocates its result. */
    (void)onnx_reserve(imp, type_nbytes(&t));
    Node *nd = graph_add_node(imp->g, op, ops, n, name, t);
    nd->loc = nd->result->loc = (SrcLoc){.file = imp->gpath};
    return nd;
}

/* Quantization of a value permuted by PERM (output dim i = input dim
 * perm[i]): a per-axis record follows its axis. */
static const Quant *quant_permute(Imp *imp, const Quant *q, const int64_t *perm, int rank)
{
    if (!q || q->axis < 0)
        return q;
    for (int i = 0; i < rank; i++)
        if (perm[i] == q->axis)
            return quant_new(&imp->g->arena, i, q->count, q->scale, q->zero_point);
    return q;
}

Value *onnx_emit_transpose(Imp *imp, Value *x, const int64_t *perm, const char *name)
{
    TensorType t = x->type;
    for (int i = 0; i < t.rank; i++)
        t.dims[i] = x->type.dims[perm[i]];
    t.quant = quant_permute(imp, x->type.quant, perm, t.rank);
    Node *nd = onnx_emit(imp, OP_TRANSPOSE, &x, 1, name, t);
    node_set_ints(imp->g, nd, ATTR_PERM, perm, t.rank);
    return nd->result;
}

Value *onnx_emit_reshape(Imp *imp, Value *x, int rank, const int64_t *dims, const char *name)
{
    TensorType t = onnx_tt(x->type.dtype, rank, dims, x->type.quant);
    return onnx_emit(imp, OP_RESHAPE, &x, 1, name, t)->result;
}

Value *onnx_const_f32(Imp *imp, const char *name, int rank, const int64_t *dims, const float *data)
{
    Value *v = graph_add_const(imp->g, onnx_name(imp, name, NULL), onnx_tt(DT_F32, rank, dims, NULL), data);
    v->loc = (SrcLoc){.file = imp->gpath};
    return v;
}

void onnx_set(OTensor *out, Value *v, bool nhwc)
{
    if (nhwc)
        out->vt = v;
    else
        out->v = v;
}

bool onnx_is_nhwc(const OTensor *t) { return t->rank == 4 && t->vt && !t->v && !t->c; }

Value *onnx_const_perm(Imp *imp, OTensor *t, const int64_t *perm, const char *suffix)
{
    DType dt;
    if (!onnx_dtype(t->c->type, &dt)) {
        onnx_node_error(imp, "tensor '%s' has element type %s, which is only supported in computations qnnc "
                        "evaluates at import time", t->name, onnx_type_name(t->c->type));
        return NULL;
    }
    const CTensor *c = t->c;
    if (c->numel == 0) {
        onnx_node_error(imp, "tensor '%s' is empty; qnnc does not support empty tensors", t->name);
        return NULL;
    }
    void *data = ctensor_pack(c, dt);
    TensorType ty = onnx_tt(dt, c->rank, c->dims, dtype_traits[dt].is_int ? t->quant : NULL);
    if (perm) {
        /* Permute the bytes: out[i] = in[src(i)] by an odometer over the
         * output shape. */
        size_t es = (size_t)dtype_traits[dt].size;
        unsigned char *out = xmalloc((size_t)c->numel * es);
        int64_t istride[QNN_MAX_RANK], s = 1;
        for (int d = c->rank - 1; d >= 0; d--) {
            istride[d] = s;
            s *= c->dims[d];
        }
        int64_t odims[QNN_MAX_RANK], ostr[QNN_MAX_RANK], idx[QNN_MAX_RANK] = {0};
        for (int d = 0; d < c->rank; d++) {
            odims[d] = c->dims[perm[d]];
            ostr[d] = istride[perm[d]];
        }
        int64_t off = 0;
        for (int64_t i = 0; i < c->numel; i++) {
            memcpy(out + (size_t)i * es, (unsigned char *)data + (size_t)off * es, es);
            for (int d = c->rank - 1; d >= 0; d--) {
                idx[d]++;
                off += ostr[d];
                if (idx[d] < odims[d])
                    break;
                off -= ostr[d] * idx[d];
                idx[d] = 0;
            }
        }
        free(data);
        data = out;
        memcpy(ty.dims, odims, sizeof odims);
        ty.quant = quant_permute(imp, ty.quant, perm, ty.rank);
    }
    (void)onnx_reserve(imp, type_nbytes(&ty)); /* the error, if any, ends the import */
    Value *v = graph_add_const(imp->g, onnx_name(imp, t->name, suffix), ty, data);
    v->loc = (SrcLoc){.file = imp->gpath};
    free(data);
    return v;
}

Value *onnx_val(Imp *imp, OTensor *t)
{
    if (t->v)
        return t->v;
    if (t->c)
        return t->v = onnx_const_perm(imp, t, NULL, NULL);
    if (t->vt) {
        /* When only size-1 dimensions move (C == 1, or H == W == 1 after a
         * global pool) the element order is the same: a reshape will do. */
        const int64_t *d = t->vt->type.dims;
        if (d[3] == 1 || (d[1] == 1 && d[2] == 1))
            return t->v = onnx_emit_reshape(imp, t->vt, 4, t->dims, onnx_name(imp, t->name, ".nchw"));
        return t->v = onnx_emit_transpose(imp, t->vt, onnx_perm_to_nchw, onnx_name(imp, t->name, ".nchw"));
    }
    onnx_node_error(imp, "tensor '%s' has no value (importer bug)", t->name);
    return NULL;
}

Value *onnx_val_nhwc(Imp *imp, OTensor *t)
{
    if (t->rank != 4)
        qnn_die("onnx_val_nhwc on rank %d", t->rank);
    if (t->vt)
        return t->vt;
    if (t->c)
        return t->vt = onnx_const_perm(imp, t, onnx_perm_to_nhwc, ".nhwc");
    Value *v = onnx_val(imp, t);
    if (!v)
        return NULL;
    if (t->dims[1] == 1 || (t->dims[2] == 1 && t->dims[3] == 1)) {
        int64_t d[4] = {t->dims[0], t->dims[2], t->dims[3], t->dims[1]};
        return t->vt = onnx_emit_reshape(imp, v, 4, d, onnx_name(imp, t->name, ".nhwc"));
    }
    return t->vt = onnx_emit_transpose(imp, v, onnx_perm_to_nhwc, onnx_name(imp, t->name, ".nhwc"));
}

/* ---------------------------------------------------------------- import */

/* Checks every node against the op table; reports each unsupported one. */
/* The ONNX attributes the converters read, by name, with the one type
 * they have in every op qnnc imports (onnx/defs).  The converters read
 * them with onnx_attr_int and friends, which fall back to the default when the
 * field is absent: an `axis` written as a FLOAT would be silently ignored,
 * so a declared type other than this one is an error. */
static const struct {
    const char *name;
    Onnx__AttributeProto__AttributeType type;
} attr_types[] = {
    {"axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"group", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"transA", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"transB", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"ceil_mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"count_include_pad", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"allowzero", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"keepdims", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"training_mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"strides", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    {"dilations", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    {"pads", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    {"kernel_shape", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    {"perm", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    {"alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
    {"beta", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
    {"epsilon", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
    {"auto_pad", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING},
};

static const char *attr_type_name(int t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH",
                                        "FLOATS", "INTS", "STRINGS", "TENSORS", "GRAPHS",
                                        "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    return t >= 0 && t < (int)(sizeof names / sizeof *names) ? names[t] : "unknown";
}

static bool check_attr_types(Imp *imp, const Onnx__NodeProto *n)
{
    bool ok = true;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        if (!a->name || !a->has_type)
            continue;
        for (size_t k = 0; k < sizeof attr_types / sizeof *attr_types; k++) {
            if (strcmp(a->name, attr_types[k].name) == 0 && a->type != attr_types[k].type) {
                onnx_error(imp, "node '%s' (%s): attribute '%s' must be %s, not %s", onnx_node_label(n), n->op_type,
                          a->name, attr_type_name((int)attr_types[k].type), attr_type_name((int)a->type));
                ok = false;
            }
        }
    }
    return ok;
}

static bool check_supported(Imp *imp)
{
    bool ok = true;
    for (size_t k = 0; k < imp->norder; k++) {
        const Onnx__NodeProto *n = imp->order[k];
        if (!find_op(n)) {
            if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
                onnx_error(imp, "node '%s' (%s, domain %s): unsupported op", onnx_node_label(n), n->op_type,
                          n->domain);
            else
                onnx_error(imp, "node '%s' (%s, opset %lld): unsupported op", onnx_node_label(n), n->op_type,
                          (long long)imp->opset);
            ok = false;
        } else if (!check_arity(imp, n) || !check_attr_types(imp, n)) {
            ok = false;
        }
    }
    return ok;
}

/* Creates the IR graph inputs, in the model's order. */
static bool create_inputs(Imp *imp)
{
    const Onnx__GraphProto *gp = imp->model->graph;
    bool nhwc = imp->opts && imp->opts->layout == LAYOUT_NHWC;
    for (size_t i = 0; i < gp->n_input; i++) {
        OTensor *t = onnx_find(imp, gp->input[i]->name);
        if (!t || t->c)
            continue;
        DType dt;
        onnx_dtype(t->type, &dt);
        TensorType ty = onnx_tt(dt, t->rank, t->dims, dtype_traits[dt].is_int ? t->quant : NULL);
        if (!onnx_reserve(imp, type_nbytes(&ty)))
            return false;
        if (nhwc && t->rank == 4) {
            for (int d = 0; d < 4; d++)
                ty.dims[d] = t->dims[onnx_perm_to_nhwc[d]];
            ty.quant = quant_permute(imp, ty.quant, onnx_perm_to_nhwc, 4);
            t->vt = graph_add_input(imp->g, onnx_name(imp, t->name, NULL), ty);
            t->vt->loc = (SrcLoc){.file = imp->gpath};
        } else {
            t->v = graph_add_input(imp->g, onnx_name(imp, t->name, NULL), ty);
            t->v->loc = (SrcLoc){.file = imp->gpath};
        }
    }
    return true;
}

static bool create_outputs(Imp *imp)
{
    const Onnx__GraphProto *gp = imp->model->graph;
    bool nhwc = imp->opts && imp->opts->layout == LAYOUT_NHWC;
    imp->node = NULL;
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name;
        OTensor *t = name ? onnx_find(imp, name) : NULL;
        if (!t) {
            onnx_error(imp, "graph output '%s' is not produced by any node", name ? name : "");
            return false;
        }
        Value *v = nhwc && t->rank == 4 ? onnx_val_nhwc(imp, t) : onnx_val(imp, t);
        if (!v)
            return false;
        graph_add_output(imp->g, v);
    }
    if (gp->n_output == 0) {
        onnx_error(imp, "the graph has no outputs");
        return false;
    }
    return true;
}

static bool convert_nodes(Imp *imp)
{
    /* Constant nodes first: they have no inputs, and the quantization
     * annotations may need their values. */
    for (size_t k = 0; k < imp->norder; k++) {
        const Onnx__NodeProto *n = imp->order[k];
        if (strcmp(n->op_type, "Constant") != 0)
            continue;
        imp->node = n;
        if (!import_constant(imp, n))
            return false;
    }
    if (!onnx_quant_annotate(imp) || !create_inputs(imp))
        return false;
    for (size_t k = 0; k < imp->norder; k++) {
        const Onnx__NodeProto *n = imp->order[k];
        if (!strcmp(n->op_type, "Constant") || (imp->fused && imp->fused[k]))
            continue;
        imp->node = n;
        int r = onnx_qdq_fuse(imp, n, k);
        if (r < 0)
            return false;
        if (r > 0)
            continue;
        r = onnx_fold(imp, n);
        if (r < 0)
            return false;
        if (r > 0)
            continue;
        if (!find_op(n)(imp, n))
            return false;
        if (imp->errors)
            return false;
    }
    return true;
}

Graph *onnx_import(const char *path, const ImportOptions *opts)
{
    static const ImportOptions defaults = {0};
    Imp imp = {.path = path, .opts = opts ? opts : &defaults};
    int diags_before = diag_error_count();
    arena_init(&imp.arena);
    char *tmp = xstrdup(path);
    imp.dir = xstrdup(dirname(tmp));
    free(tmp);

    const char *gname = "main";
    bool ok = onnx_load(&imp);
    if (ok && imp.model->graph->name && *imp.model->graph->name)
        gname = imp.model->graph->name;
    if (ok) {
        /* The graph name must be an IR name too; it does not share the
         * value namespace, so it is sanitized without being reserved. */
        char *name = xstrdup(gname);
        for (char *p = name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  *p == '_' || *p == '.' || *p == '$' || *p == '-'))
                *p = '_';
        imp.g = graph_new(name);
        free(name);
        imp.gpath = arena_strdup(&imp.g->arena, path);
        imp.g->loc = (SrcLoc){.file = imp.gpath};
    }
    ok = ok && onnx_inputs(&imp) && onnx_toposort(&imp) && check_supported(&imp);
    if (ok) {
        imp.fused = arena_alloc(&imp.arena, (imp.norder + 1) * sizeof *imp.fused);
        ok = convert_nodes(&imp) && create_outputs(&imp);
    }
    if (ok && imp.errors == 0) {
        /* Every message the verifier prints is an importer bug. */
        int before = diag_error_count();
        if (!ir_verify(imp.g)) {
            diag_error((SrcLoc){.file = path}, "internal error: the imported graph failed verification "
                                               "(%d problem%s above); this is a bug in qnnc's ONNX importer",
                       diag_error_count() - before, diag_error_count() - before == 1 ? "" : "s");
            ok = false;
        }
    }
    if (imp.errors)
        ok = false;
    if (!ok && diag_error_count() == diags_before)
        diag_error((SrcLoc){.file = path}, "internal error: the import failed without a diagnostic%s%s%s; "
                   "this is a bug in qnnc's ONNX importer", imp.node ? " at node '" : "",
                   imp.node ? onnx_node_label(imp.node) : "", imp.node ? "'" : "");
    Graph *g = ok ? imp.g : NULL;
    if (!ok)
        graph_free(imp.g);
    if (imp.model)
        onnx__model_proto__free_unpacked(imp.model, NULL);
    free(imp.tab);
    free(imp.names);
    free(imp.dir);
    arena_free(&imp.arena);
    return g;
}
