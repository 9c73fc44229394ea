/* onnx_control.c - control flow: If.
 *
 * ONNX If (https://onnx.ai/onnx/operators/onnx__If.html) runs then_branch
 * when its boolean scalar `cond` is true, else_branch otherwise; a branch
 * is a graph with no inputs whose nodes may read any value of the
 * enclosing scopes by name, and whose outputs become the If's outputs, in
 * order.  A condition known at import time (an initializer, a Constant, or
 * folded from them) selects the branch, which is inlined: its initializers
 * become import-time constants, its nodes are converted in order as if
 * they were the main graph's (outer-scope names resolve through the one
 * name table, since ONNX forbids a subgraph to shadow an outer name), and
 * the If's outputs alias the branch's.  A condition computed at run time
 * runs both branches, inlined the same way one after the other, and each
 * output becomes where(cond, then, else): every op qnnc imports is free of
 * side effects, so computing the branch not taken changes nothing but
 * time.  The branches' outputs must then agree in shape, element type and
 * quantization, and the branches must define different names; otherwise
 * the If is refused with an error naming it.
 */
#include "onnx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The GRAPH attribute NAME of N, or NULL. */
static const Onnx__GraphProto *graph_attr(const Onnx__NodeProto *n, const char *name)
{
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    return a && a->g ? a->g : NULL;
}

/* Appends the GRAPH and GRAPHS attributes of M to the work list. */
static void push_graphs(const Onnx__NodeProto *m, const Onnx__GraphProto ***work, size_t *len, size_t *cap)
{
    for (size_t i = 0; i < m->n_attribute; i++) {
        const Onnx__AttributeProto *a = m->attribute[i];
        for (size_t k = 0; k <= a->n_graphs; k++) {
            const Onnx__GraphProto *g = k == 0 ? a->g : a->graphs[k - 1];
            if (!g)
                continue;
            if (*len == *cap)
                *work = xrealloc(*work, (*cap *= 2) * sizeof **work);
            (*work)[(*len)++] = g;
        }
    }
}

void onnx_subgraph_refs(const Onnx__NodeProto *n, void (*fn)(void *arg, const char *name), void *arg)
{
    /* A work list of graphs, not recursion: nesting is bounded only by the
     * loader's protobuf depth check. */
    size_t cap = 8, len = 0;
    const Onnx__GraphProto **work = xmalloc(cap * sizeof *work);
    push_graphs(n, &work, &len, &cap);
    for (size_t next = 0; next < len; next++) {
        const Onnx__GraphProto *g = work[next];
        for (size_t k = 0; k < g->n_node; k++) {
            const Onnx__NodeProto *m = g->node[k];
            for (size_t j = 0; j < m->n_input; j++)
                if (m->input[j] && *m->input[j])
                    fn(arg, m->input[j]);
            push_graphs(m, &work, &len, &cap);
        }
        for (size_t k = 0; k < g->n_output; k++)
            if (g->output[k]->name && *g->output[k]->name)
                fn(arg, g->output[k]->name);
    }
    free(work);
}

/* Inlines branch G (named WHICH) of If node N: its initializers, then its
 * nodes in order; OUTS receives the tensors its outputs name. */
static bool inline_branch(Imp *imp, const Onnx__NodeProto *n, const Onnx__GraphProto *g, const char *which,
                          OTensor **outs)
{
    if (g->n_input) {
        onnx_node_error(imp, "%s has inputs; an If branch takes none", which);
        return false;
    }
    if (g->n_output != n->n_output) {
        onnx_node_error(imp, "%s has %zu outputs but the node has %zu", which, g->n_output, n->n_output);
        return false;
    }
    if (!onnx_define_initializers(imp, g, true))
        return false;
    for (size_t k = 0; k < g->n_node; k++)
        if (!onnx_convert_node(imp, g->node[k]))
            return false;
    imp->node = n;
    for (size_t i = 0; i < n->n_output; i++) {
        const char *name = g->output[i]->name;
        if (!(outs[i] = name ? onnx_find(imp, name) : NULL)) {
            onnx_node_error(imp, "%s output '%s' is not produced by the branch or an enclosing graph", which,
                            name ? name : "");
            return false;
        }
    }
    return true;
}

/* "FLOAT[1,4]" (with " quantized" when T has quantization parameters). */
static const char *type_text(const OTensor *t, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "%s[", onnx_type_name(t->type));
    for (int d = 0; d < t->rank && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    if (len < size)
        snprintf(buf + len, size - len, "]%s", t->quant ? " quantized" : "");
    return buf;
}

bool import_if(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *cond = onnx_in(imp, n, 0);
    const Onnx__GraphProto *then_g = graph_attr(n, "then_branch"), *else_g = graph_attr(n, "else_branch");
    if (!then_g || !else_g) {
        onnx_node_error(imp, "then_branch and else_branch must both be graphs");
        return false;
    }
    OTensor **t_out = arena_alloc(&imp->arena, (n->n_output + 1) * sizeof *t_out);
    OTensor **e_out = arena_alloc(&imp->arena, (n->n_output + 1) * sizeof *e_out);
    if (cond->c) {
        if (cond->c->numel != 1) {
            onnx_node_error(imp, "the condition '%s' must hold exactly one element, not %lld", cond->name,
                            (long long)cond->c->numel);
            return false;
        }
        bool take = onnx_type_is_float(cond->c->type) ? ctensor_f(cond->c, 0) != 0 : ctensor_i(cond->c, 0) != 0;
        if (!inline_branch(imp, n, take ? then_g : else_g, take ? "then_branch" : "else_branch", t_out))
            return false;
        for (size_t i = 0; i < n->n_output; i++) {
            OTensor *out = onnx_out(imp, n, i);
            if (out)
                onnx_alias(out, t_out[i]);
        }
        return true;
    }
    /* A run-time condition: both branches are computed (every op qnnc
     * imports is free of side effects, so running the branch not taken
     * changes nothing but time) and each output selects between them
     * elementwise, which needs the outputs to agree in shape and type.  Two
     * branches defining the same name are reported by onnx_define.  ONNX
     * gives the condition as a one-element BOOL tensor: here the IR's u8
     * boolean, viewed as a scalar when its rank exceeds an output's, so
     * that where's broadcasting keeps each output's shape. */
    if (cond->type != OT_BOOL || onnx_numel(cond->dims, cond->rank) != 1) {
        int64_t k = onnx_numel(cond->dims, cond->rank);
        onnx_node_error(imp, "the condition '%s' (%s, %lld element%s) must be a BOOL tensor of one element",
                        cond->name, onnx_type_name(cond->type), (long long)k, k == 1 ? "" : "s");
        return false;
    }
    if (!inline_branch(imp, n, then_g, "then_branch", t_out))
        return false;
    for (size_t k = 0; k < else_g->n_node; k++) {
        const Onnx__NodeProto *m = else_g->node[k];
        for (size_t j = 0; j < m->n_output; j++) {
            if (m->output[j] && *m->output[j] && onnx_find(imp, m->output[j])) {
                onnx_node_error(imp, "both branches define '%s'; both run with a run-time condition, so their names "
                                "must differ", m->output[j]);
                return false;
            }
        }
    }
    if (!inline_branch(imp, n, else_g, "else_branch", e_out))
        return false;
    for (size_t i = 0; i < n->n_output; i++) {
        const OTensor *a = t_out[i], *b = e_out[i];
        bool same = a->type == b->type && a->rank == b->rank &&
                    !memcmp(a->dims, b->dims, (size_t)a->rank * sizeof *a->dims) &&
                    (a->quant == b->quant || (a->quant && b->quant && quant_equal(a->quant, b->quant)));
        if (!same) {
            char sa[160], sb[160];
            onnx_node_error(imp, "output %zu: the branches give '%s' %s and '%s' %s; a run-time condition needs one "
                            "shape and type", i, a->name, type_text(a, sa, sizeof sa), b->name,
                            type_text(b, sb, sizeof sb));
            return false;
        }
    }
    Value *k = onnx_val(imp, cond), *k0 = NULL;
    if (!k)
        return false;
    for (size_t i = 0; i < n->n_output; i++) {
        OTensor *a = t_out[i], *b = e_out[i], *out;
        if (!n->output[i] || !*n->output[i])
            continue; /* an output nobody reads */
        if (a == b) {
            /* Both branches give the same value: nothing to select. */
            if (!(out = onnx_out(imp, n, i)))
                return false;
            onnx_alias(out, a);
            continue;
        }
        DType dt;
        if (!onnx_dtype(a->type, &dt)) {
            onnx_node_error(imp, "output %zu: '%s' has element type %s; a run-time condition selects FLOAT, "
                            "BOOL, UINT8, INT8, INT16 and INT32 outputs", i, a->name, onnx_type_name(a->type));
            return false;
        }
        Value *kk = k;
        if (cond->rank > a->rank) {
            if (!k0)
                k0 = onnx_emit_reshape(imp, k, 0, NULL, onnx_name(imp, cond->name, ".scalar"));
            kk = k0;
        }
        /* A 4-D output already held in NHWC by either branch is selected in
         * NHWC, sparing a transpose. */
        bool nhwc = a->rank == 4 && (onnx_is_nhwc(a) || onnx_is_nhwc(b));
        Value *ops[3] = {kk, onnx_bcast_operand(imp, a, a->rank, nhwc), onnx_bcast_operand(imp, b, b->rank, nhwc)};
        if (!ops[1] || !ops[2] || !(out = onnx_define_out(imp, n, i, a->type, a->rank, a->dims)))
            return false;
        out->quant = a->quant;
        TensorType tt = ops[1]->type;
        Node *nd = onnx_emit(imp, OP_WHERE, ops, 3, onnx_name(imp, out->name, NULL), tt);
        onnx_set(out, nd->result, nhwc);
    }
    return true;
}
