/* onnx_load.c - the ONNX model as protobuf: loading, names, initializers,
 * graph inputs and the topological order of the nodes.
 *
 * Contract: onnx_load() leaves imp->model parsed, imp->opset set, and every
 * initializer defined as an import-time OTensor; onnx_inputs() defines the
 * run-time graph inputs (an input that is also an initializer is a
 * constant, as the ONNX IR spec allows for overridable defaults, which a
 * compiler cannot override); onnx_toposort() orders the nodes (Kahn's
 * algorithm, iterative) and rejects undefined inputs, duplicate outputs and
 * cycles.  Each error is one line naming the model file.
 */
#include "onnx_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- loading */

/* protobuf-c unpacks nested messages recursively, and ONNX messages nest
 * without bound (an attribute holds a graph whose nodes hold attributes...):
 * 2 MB of such nesting overflows the stack.  This walks the wire format
 * iteratively with the schema, before unpacking, and returns the depth of
 * the deepest message, or MAX_NESTING + 1 as soon as it is exceeded.
 * Malformed bytes end the walk early: the unpacker reports them. */
#define MAX_NESTING 64

static uint64_t read_varint(const uint8_t **p, const uint8_t *end, bool *ok)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            break;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    *ok = false;
    return 0;
}

static int nesting_depth(const uint8_t *data, size_t len, const ProtobufCMessageDescriptor *desc)
{
    struct {
        const ProtobufCMessageDescriptor *desc;
        const uint8_t *end;
    } stack[MAX_NESTING + 1];
    int depth = 0, deepest = 0;
    const uint8_t *p = data;
    stack[0].desc = desc;
    stack[0].end = data + len;
    bool ok = true;
    while (ok) {
        while (depth > 0 && p >= stack[depth].end)
            depth--;
        if (p >= stack[depth].end)
            break;
        uint64_t tag = read_varint(&p, stack[depth].end, &ok);
        switch (tag & 7) {
        case 0: read_varint(&p, stack[depth].end, &ok); break;
        case 1: p += 8; break;
        case 5: p += 4; break;
        case 2: {
            uint64_t n = read_varint(&p, stack[depth].end, &ok);
            if (!ok || n > (uint64_t)(stack[depth].end - p))
                return deepest;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(stack[depth].desc, (unsigned)(tag >> 3))
                                       : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth == MAX_NESTING)
                    return MAX_NESTING + 1;
                depth++;
                stack[depth].desc = f->descriptor;
                stack[depth].end = p + n;
                if (depth > deepest)
                    deepest = depth;
            } else {
                p += n;
            }
            break;
        }
        default: return deepest; /* groups (3, 4) or garbage */
        }
        if (p > stack[depth].end)
            return deepest;
    }
    return deepest;
}

bool onnx_load(Imp *imp)
{
    SrcLoc loc = {.file = imp->path};
    size_t len;
    char *buf = read_file(imp->path, &len);
    if (!buf) {
        diag_error(loc, "cannot read file: %s", strerror(errno));
        imp->errors++;
        return false;
    }
    if (nesting_depth((const uint8_t *)buf, len, &onnx__model_proto__descriptor) > MAX_NESTING) {
        free(buf);
        onnx_error(imp, "not a valid ONNX model (messages nested more than %d deep)", MAX_NESTING);
        return false;
    }
    imp->model = onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!imp->model) {
        onnx_error(imp, "not a valid ONNX model (protobuf parse failed)");
        return false;
    }
    const Onnx__ModelProto *m = imp->model;
    if (!m->graph) {
        onnx_error(imp, "not a valid ONNX model (it has no graph)");
        return false;
    }
    imp->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
            imp->opset = o->has_version ? o->version : 1;
    }
    if (imp->opset < 0) {
        /* IR version 3+ requires opset_import; older models are opset 1. */
        imp->opset = 1;
    }
    if (imp->opset > 17) {
        onnx_error(imp, "opset %lld is not supported (qnnc imports opsets up to 17)", (long long)imp->opset);
        return false;
    }

    const Onnx__GraphProto *gp = m->graph;
    /* All the weights, as the import-time tensors that decode them (one
     * double or int64 per element), before any is allocated.  Absurd
     * shapes are left to ctensor_from_proto's messages. */
    int64_t weights = 0;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        int64_t n = tp->n_dims <= QNN_MAX_RANK ? onnx_numel(tp->dims, (int)tp->n_dims) : -1;
        if (n >= 0 && n <= (INT64_C(1) << 31))
            weights += n * (int64_t)sizeof(double);
    }
    if (!onnx_reserve(imp, weights))
        return false;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name) {
            onnx_error(imp, "initializer %zu has no name", i);
            return false;
        }
        CTensor *c = arena_alloc(&imp->arena, sizeof *c);
        if (!ctensor_from_proto(&imp->arena, imp->path, imp->dir, tp, c)) {
            imp->errors++;
            return false;
        }
        OTensor *t = onnx_define(imp, tp->name);
        if (!t)
            return false;
        t->c = c;
        t->type = c->type;
        t->rank = c->rank;
        memcpy(t->dims, c->dims, sizeof t->dims);
    }
    if (gp->n_sparse_initializer) {
        onnx_error(imp, "sparse initializers are not supported");
        return false;
    }
    return true;
}

/* The IR type of graph input VI; symbolic or unknown dimensions take the
 * batch size, which is what they are in every model we import. */
static bool input_type(Imp *imp, const Onnx__ValueInfoProto *vi, OTensor *t)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        onnx_error(imp, "graph input '%s' is not a tensor", vi->name);
        return false;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    t->type = tt->has_elem_type ? tt->elem_type : OT_UNDEFINED;
    DType dt;
    if (!onnx_dtype(t->type, &dt)) {
        onnx_error(imp, "graph input '%s' has element type %s, which qnnc does not support "
                       "(supported: FLOAT, UINT8, INT8, INT16, INT32)", vi->name, onnx_type_name(t->type));
        return false;
    }
    if (!tt->shape) {
        onnx_error(imp, "graph input '%s' has no shape; qnnc needs static shapes", vi->name);
        return false;
    }
    if (tt->shape->n_dim > QNN_MAX_RANK) {
        onnx_error(imp, "graph input '%s' has rank %zu, more than the maximum of %d", vi->name,
                  tt->shape->n_dim, QNN_MAX_RANK);
        return false;
    }
    t->rank = (int)tt->shape->n_dim;
    int64_t batch = imp->opts && imp->opts->batch > 0 ? imp->opts->batch : 1;
    for (int i = 0; i < t->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
        if (known) {
            t->dims[i] = d->dim_value;
        } else if (i == 0) {
            t->dims[i] = batch;
        } else {
            onnx_error(imp, "graph input '%s': dimension %d is symbolic or unknown; only the batch dimension "
                           "(0) may be", vi->name, i);
            return false;
        }
    }
    if (onnx_numel(t->dims, t->rank) < 0 || onnx_numel(t->dims, t->rank) > INT64_C(0x7fffffff)) {
        onnx_error(imp, "graph input '%s': element count overflows", vi->name);
        return false;
    }
    return true;
}

bool onnx_inputs(Imp *imp)
{
    const Onnx__GraphProto *gp = imp->model->graph;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !*vi->name) {
            onnx_error(imp, "graph input %zu has no name", i);
            return false;
        }
        OTensor *init = onnx_find(imp, vi->name);
        if (init && init->c)
            continue; /* an initializer: a constant */
        OTensor *t = onnx_define(imp, vi->name);
        if (!t || !input_type(imp, vi, t))
            return false;
    }
    /* The IR inputs are created after the quantization annotations are
     * known (onnx.c), since they carry them in their types. */
    return true;
}

bool onnx_toposort(Imp *imp)
{
    const Onnx__GraphProto *gp = imp->model->graph;
    size_t nn = gp->n_node;
    /* Producer index of every node output, through a side table keyed by
     * the OTensor table's hash of names: a small open-addressing map. */
    size_t cap = 64;
    while (cap < 4 * (nn + 1))
        cap *= 2;
    const char **keys = xcalloc(cap, sizeof *keys);
    size_t *prod = xcalloc(cap, sizeof *prod);
    size_t *pending = xcalloc(nn + 1, sizeof *pending);
    size_t *queue = xcalloc(nn + 1, sizeof *queue);
    /* users: CSR lists of consumer node indices per producer node. */
    size_t *ucount = xcalloc(nn + 1, sizeof *ucount);
    size_t *ustart = xcalloc(nn + 2, sizeof *ustart);
    size_t *users = NULL;
    bool ok = false;

    for (size_t k = 0; k < nn; k++) {
        const Onnx__NodeProto *n = gp->node[k];
        if (!n->op_type || !*n->op_type) {
            onnx_error(imp, "node %zu has no op_type", k);
            goto out;
        }
        for (size_t j = 0; j < n->n_output; j++) {
            const char *o = n->output[j];
            if (!o || !*o)
                continue;
            if (onnx_find(imp, o)) {
                onnx_error(imp, "node '%s' (%s): output '%s' has the same name as a graph input or initializer",
                          onnx_node_label(n), n->op_type, o);
                goto out;
            }
            size_t h = (size_t)onnx_hash(o) & (cap - 1);
            while (keys[h] && strcmp(keys[h], o))
                h = (h + 1) & (cap - 1);
            if (keys[h]) {
                onnx_error(imp, "node '%s' (%s): output '%s' is already produced by node '%s'", onnx_node_label(n),
                          n->op_type, o, onnx_node_label(gp->node[prod[h]]));
                goto out;
            }
            keys[h] = o;
            prod[h] = k;
        }
    }
    /* Count, per node, the inputs produced by other nodes; check that every
     * other input exists. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < nn; k++) {
            const Onnx__NodeProto *n = gp->node[k];
            for (size_t j = 0; j < n->n_input; j++) {
                const char *in = n->input[j];
                if (!in || !*in)
                    continue; /* an omitted optional input */
                size_t h = (size_t)onnx_hash(in) & (cap - 1);
                while (keys[h] && strcmp(keys[h], in))
                    h = (h + 1) & (cap - 1);
                if (!keys[h]) {
                    if (pass == 0 && !onnx_find(imp, in)) {
                        onnx_error(imp, "node '%s' (%s): input '%s' is not defined by any node, graph input or "
                                       "initializer (missing initializer?)", onnx_node_label(n), n->op_type, in);
                        goto out;
                    }
                    continue;
                }
                if (pass == 0) {
                    pending[k]++;
                    ucount[prod[h]]++;
                } else {
                    users[ustart[prod[h]] + --ucount[prod[h]]] = k;
                }
            }
        }
        if (pass == 0) {
            for (size_t k = 0; k < nn; k++)
                ustart[k + 1] = ustart[k] + ucount[k];
            users = xcalloc(ustart[nn] + 1, sizeof *users);
        }
    }
    /* Kahn's algorithm, keeping the original order among ready nodes as far
     * as a FIFO allows (ONNX graphs are normally sorted already). */
    size_t head = 0, tail = 0;
    for (size_t k = 0; k < nn; k++)
        if (!pending[k])
            queue[tail++] = k;
    imp->order = arena_alloc(&imp->arena, (nn + 1) * sizeof *imp->order);
    imp->norder = 0;
    while (head < tail) {
        size_t k = queue[head++];
        imp->order[imp->norder++] = gp->node[k];
        for (size_t u = ustart[k]; u < ustart[k + 1]; u++)
            if (--pending[users[u]] == 0)
                queue[tail++] = users[u];
    }
    if (imp->norder != nn) {
        for (size_t k = 0; k < nn; k++) {
            if (pending[k]) {
                onnx_error(imp, "the graph has a cycle through node '%s' (%s)", onnx_node_label(gp->node[k]),
                          gp->node[k]->op_type);
                break;
            }
        }
        goto out;
    }
    ok = true;
out:
    free(keys);
    free(prod);
    free(pending);
    free(queue);
    free(ucount);
    free(ustart);
    free(users);
    return ok;
}
