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

/* ---------------------------------------------------------------- messages */

void onnx_error(Imp *imp, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    imp->errors++;
    diag_error((SrcLoc){.file = imp->path}, "%s", buf);
}

const char *onnx_node_label(const Onnx__NodeProto *n)
{
    if (n->name && *n->name)
        return n->name;
    if (n->n_output > 0 && n->output[0] && *n->output[0])
        return n->output[0];
    return "<unnamed>";
}

void onnx_node_error(Imp *imp, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = imp->node;
    if (n)
        onnx_error(imp, "node '%s' (%s): %s", onnx_node_label(n), n->op_type ? n->op_type : "?", buf);
    else
        onnx_error(imp, "%s", buf);
}

/* ---------------------------------------------------------------- name tables */

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

OTensor *onnx_find(Imp *imp, const char *name)
{
    if (!imp->tab_cap || !name)
        return NULL;
    size_t h = (size_t)hash_str(name) & (imp->tab_cap - 1);
    while (imp->tab[h]) {
        if (!strcmp(imp->tab[h]->name, name))
            return imp->tab[h];
        h = (h + 1) & (imp->tab_cap - 1);
    }
    return NULL;
}

static void tab_insert(OTensor **tab, size_t cap, OTensor *t)
{
    size_t h = (size_t)hash_str(t->name) & (cap - 1);
    while (tab[h])
        h = (h + 1) & (cap - 1);
    tab[h] = t;
}

OTensor *onnx_define(Imp *imp, const char *name)
{
    if (onnx_find(imp, name)) {
        onnx_error(imp, "tensor name '%s' is defined more than once", name);
        return NULL;
    }
    if (2 * (imp->tab_len + 1) > imp->tab_cap) {
        size_t cap = imp->tab_cap ? 2 * imp->tab_cap : 64;
        OTensor **tab = xcalloc(cap, sizeof *tab);
        for (size_t i = 0; i < imp->tab_cap; i++)
            if (imp->tab[i])
                tab_insert(tab, cap, imp->tab[i]);
        free(imp->tab);
        imp->tab = tab;
        imp->tab_cap = cap;
    }
    OTensor *t = arena_alloc(&imp->arena, sizeof *t);
    t->name = arena_strdup(&imp->arena, name);
    tab_insert(imp->tab, imp->tab_cap, t);
    imp->tab_len++;
    return t;
}

OTensor *onnx_in(Imp *imp, const Onnx__NodeProto *n, size_t i)
{
    if (i >= n->n_input || !n->input[i] || !*n->input[i])
        return NULL;
    /* In a fused QDQ group the op reads the quantized tensors behind its
     * DequantizeLinear inputs. */
    if (n == imp->fnode && imp->fsub && imp->fsub[i])
        return imp->fsub[i];
    return onnx_find(imp, n->input[i]);
}

OTensor *onnx_out(Imp *imp, const Onnx__NodeProto *n, size_t i)
{
    if (i >= n->n_output || !n->output[i] || !*n->output[i])
        return NULL;
    return onnx_define(imp, n->output[i]);
}

/* IR names: ONNX allows any string, the IR [A-Za-z0-9_.$-]. */
static bool name_taken(const Imp *imp, const char *s)
{
    if (!imp->names_cap)
        return false;
    size_t h = (size_t)hash_str(s) & (imp->names_cap - 1);
    while (imp->names[h]) {
        if (!strcmp(imp->names[h], s))
            return true;
        h = (h + 1) & (imp->names_cap - 1);
    }
    return false;
}

static void name_add(Imp *imp, const char *s)
{
    if (2 * (imp->names_len + 1) > imp->names_cap) {
        size_t cap = imp->names_cap ? 2 * imp->names_cap : 64;
        const char **t = xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < imp->names_cap; i++) {
            if (!imp->names[i])
                continue;
            size_t h = (size_t)hash_str(imp->names[i]) & (cap - 1);
            while (t[h])
                h = (h + 1) & (cap - 1);
            t[h] = imp->names[i];
        }
        free(imp->names);
        imp->names = t;
        imp->names_cap = cap;
    }
    size_t h = (size_t)hash_str(s) & (imp->names_cap - 1);
    while (imp->names[h])
        h = (h + 1) & (imp->names_cap - 1);
    imp->names[h] = s;
    imp->names_len++;
}

const char *onnx_name(Imp *imp, const char *base, const char *suffix)
{
    if (!base || !*base)
        base = "t";
    size_t bl = strlen(base), sl = suffix ? strlen(suffix) : 0;
    char *s = arena_alloc(&imp->arena, bl + sl + 24);
    for (size_t i = 0; i < bl; i++) {
        char c = base[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '$' || c == '-';
        s[i] = ok ? c : '_';
    }
    if (suffix)
        memcpy(s + bl, suffix, sl);
    s[bl + sl] = '\0';
    if (name_taken(imp, s)) {
        for (int k = 1;; k++) {
            snprintf(s + bl + sl, 24, ".%d", k);
            if (!name_taken(imp, s))
                break;
        }
    }
    name_add(imp, s);
    return s;
}

bool onnx_reserve(Imp *imp, int64_t bytes)
{
    int64_t limit = qnn_max_memory();
    if (bytes <= limit - imp->tensor_bytes) {
        imp->tensor_bytes += bytes;
        return true;
    }
    const char *what = "the model's tensors need more than the memory limit of %lld bytes "
                       "(%lld more on top of %lld; raise it with --max-memory or [limits] max_memory)";
    if (imp->node)
        onnx_node_error(imp, what, (long long)limit, (long long)bytes, (long long)imp->tensor_bytes);
    else
        onnx_error(imp, what, (long long)limit, (long long)bytes, (long long)imp->tensor_bytes);
    return false;
}

/* ---------------------------------------------------------------- attributes */

const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    return a && a->has_i ? a->i : dflt;
}

float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float dflt)
{
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    return a && a->has_f ? a->f : dflt;
}

int onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int max)
{
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    if (!a)
        return -1;
    int cnt = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
    for (int i = 0; i < cnt; i++)
        out[i] = a->ints[i];
    return a->n_ints > (size_t)max ? max + 1 : cnt;
}

const char *onnx_attr_str(Imp *imp, const Onnx__NodeProto *n, const char *name, const char *dflt)
{
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    if (!a || !a->has_s)
        return dflt;
    return arena_strndup(&imp->arena, (const char *)a->s.data, a->s.len);
}

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
            size_t h = (size_t)hash_str(o) & (cap - 1);
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
                size_t h = (size_t)hash_str(in) & (cap - 1);
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
