/* onnx.c - onnx_import(): from an ONNX model to a verified qnnc graph.
 *
 * The steps, in order:
 *   1. load the protobuf, initializers and graph inputs (onnx_load.c);
 *   2. sort the nodes topologically, rejecting cycles and undefined names;
 *   3. check every node against the op table and report ALL unsupported
 *      nodes at once, so a user sees the whole list in one run
 *      (onnx_ops.def: op type, domain and opset range);
 *   4. evaluate Constant nodes, then record the quantization of every
 *      tensor a quantized op touches (onnx_quantized.c), so that IR values
 *      get their quantized types when they are created, and plan the QDQ
 *      fusions (onnx_qdq.c);
 *   5. convert node by node: a fused QDQ group as one op (onnx_qdq.c);
 *      else, when all its inputs are known at import time and its row has
 *      an evaluator, the node is evaluated (onnx_shape.c); else its
 *      importer makes IR nodes (onnx_conv.c, onnx_elementwise.c, ...);
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

/* ---------------------------------------------------------------- the op table */

/* Every op qnnc imports: onnx_ops.def, one row per op. */
static const OnnxOp op_table[] = {
#define ONNX_OP(op_type, domain, first, last, min_inputs, importer, evaluator, qdq) \
    {op_type, domain, first, last, min_inputs, importer, evaluator, qdq},
#include "onnx_ops.def"
#undef ONNX_OP
};

static const char *const domain_names[] = {[AI_ONNX] = "ai.onnx", [COM_MICROSOFT] = "com.microsoft"};

/* The domain of N, if qnnc knows it. */
static bool node_domain(const Onnx__NodeProto *n, OnnxDomain *d)
{
    if (!n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx")) {
        *d = AI_ONNX;
        return true;
    }
    if (!strcmp(n->domain, "com.microsoft")) {
        *d = COM_MICROSOFT;
        return true;
    }
    return false;
}

const OnnxOp *onnx_op_find(const Onnx__NodeProto *n)
{
    OnnxDomain d;
    if (!node_domain(n, &d))
        return NULL;
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++)
        if (op_table[i].domain == d && !strcmp(op_table[i].op_type, n->op_type))
            return &op_table[i];
    return NULL;
}

/* The model's opset of domain D (1 when it imports none). */
static int64_t domain_opset(const Imp *imp, OnnxDomain d)
{
    if (d == AI_ONNX)
        return imp->opset;
    for (size_t i = 0; i < imp->model->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = imp->model->opset_import[i];
        if (o->domain && !strcmp(o->domain, domain_names[d]))
            return o->has_version ? o->version : 1;
    }
    return 1;
}

void onnx_print_ops(FILE *f)
{
    for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++) {
        const OnnxOp *op = &op_table[i];
        fprintf(f, "%-20s %-14s %d-%d%s\n", op->op_type, domain_names[op->domain], op->first_opset,
                op->last_opset, op->eval ? "  folds" : "");
    }
}

/* The converters may assume their required inputs and first output exist. */
static bool check_arity(Imp *imp, const Onnx__NodeProto *n)
{
    const OnnxOp *e = onnx_op_find(n);
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
    {"noop_with_empty_axes", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
    {"stash_type", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
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

/* Checks N against the op table: supported, at an opset in its range,
 * with its required inputs and well-typed attributes. */
static bool check_node(Imp *imp, const Onnx__NodeProto *n)
{
    /* The loader checks the main graph's nodes; an If branch's come here. */
    if (!n->op_type || !*n->op_type) {
        onnx_error(imp, "node '%s' has no op_type", onnx_node_label(n));
        return false;
    }
    const OnnxOp *op = onnx_op_find(n);
    if (!op) {
        if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
            onnx_error(imp, "node '%s' (%s, domain %s): unsupported op", onnx_node_label(n), n->op_type, n->domain);
        else
            onnx_error(imp, "node '%s' (%s, opset %lld): unsupported op", onnx_node_label(n), n->op_type,
                       (long long)imp->opset);
        return false;
    }
    int64_t v = domain_opset(imp, op->domain);
    if (v < op->first_opset || v > op->last_opset) {
        onnx_error(imp, "node '%s' (%s, %s opset %lld): qnnc imports %s at opsets %d to %d", onnx_node_label(n),
                   n->op_type, domain_names[op->domain], (long long)v, n->op_type, op->first_opset, op->last_opset);
        return false;
    }
    return check_arity(imp, n) && check_attr_types(imp, n);
}

static bool check_supported(Imp *imp)
{
    bool ok = true;
    for (size_t k = 0; k < imp->norder; k++)
        ok &= check_node(imp, imp->order[k]);
    return ok;
}

/* Converts one node of an inlined subgraph (onnx_control.c): the checks
 * check_supported makes for the main graph, the quantization parameters
 * onnx_quant_annotate attaches, then folding or the importer.  No QDQ
 * fusion happens inside a subgraph: its DequantizeLinear, float op and
 * QuantizeLinear are converted one by one, which computes what the model
 * says. */
bool onnx_convert_node(Imp *imp, const Onnx__NodeProto *n)
{
    imp->node = n;
    if (!check_node(imp, n))
        return false;
    /* The main graph's inputs were checked by onnx_toposort; a branch's
     * are checked here, in its node order (ONNX requires it sorted). */
    for (size_t i = 0; i < n->n_input; i++) {
        if (n->input[i] && *n->input[i] && !onnx_find(imp, n->input[i])) {
            onnx_node_error(imp, "input '%s' is not defined by an earlier node of the branch or an enclosing graph",
                            n->input[i]);
            return false;
        }
    }
    if (!strcmp(n->op_type, "Constant"))
        return import_constant(imp, n);
    if (!onnx_quant_operands(imp, n, true))
        return false;
    int r = onnx_fold(imp, n);
    if (r != 0)
        return r > 0;
    return onnx_op_find(n)->import(imp, n) && !imp->errors;
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
            ty.quant = onnx_quant_permute(imp, ty.quant, onnx_perm_to_nhwc, 4);
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
    if (!onnx_quant_annotate(imp))
        return false;
    onnx_qdq_plan(imp);
    if (!create_inputs(imp))
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
        if (!onnx_op_find(n)->import(imp, n))
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
