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
/* config_suggest: the "did you mean" of every qnnc tool. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- loading */

/* Defines the initializers of graph G as import-time constants: the
 * model's, or those of an If branch (BRANCH: errors name the If node). */
bool onnx_define_initializers(Imp *imp, const Onnx__GraphProto *g, bool branch)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *tp = g->initializer[i];
        if (!tp->name || !*tp->name) {
            if (branch)
                onnx_node_error(imp, "initializer %zu of a branch has no name", i);
            else
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
        onnx_set_const(t, c);
    }
    return true;
}

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
    /* Each op's 18 and 19 forms are handled or refused by its importer
     * (frontend/onnx_ops.def, docs/onnx.md "Opsets 18 and 19"). */
    if (imp->opset > 19) {
        onnx_error(imp, "opset %lld is not supported (qnnc imports opsets up to 19)", (long long)imp->opset);
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
    if (!onnx_define_initializers(imp, gp, false))
        return false;
    if (gp->n_sparse_initializer) {
        onnx_error(imp, "sparse initializers are not supported");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- graph inputs */

bool input_shape_parse(const char *v, InputShape *out, char *err, size_t len)
{
    *out = (InputShape){0};
    const char *colon = strrchr(v, ':');
    if (!colon) {
        snprintf(err, len, "'%s' is not NAME:D0,D1,... (such as x:1,3,224,224)", v);
        return false;
    }
    if (colon == v) {
        snprintf(err, len, "'%s' has no input name before the ':'", v);
        return false;
    }
    /* An empty list is the shape of a scalar input. */
    const char *p = colon + 1;
    int rank = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (rank == QNN_MAX_RANK) {
            snprintf(err, len, "'%s' has more than %d dimensions", v, QNN_MAX_RANK);
            return false;
        }
        char *end = (char *)p;
        errno = 0;
        long long d = n && p[0] >= '0' && p[0] <= '9' ? strtoll(p, &end, 10) : 0;
        if (n == 0) {
            snprintf(err, len, "dimension %d of '%s' is empty", rank, v);
            return false;
        }
        if (end != p + n || errno || d < 1 || d > INT32_MAX) {
            snprintf(err, len, "dimension %d of '%s' is '%.*s', not an integer from 1 to %d", rank, v, (int)n, p,
                     INT32_MAX);
            return false;
        }
        out->dims[rank++] = d;
        p += n;
        if (*p == ',' && !*++p) {
            snprintf(err, len, "'%s' ends in ','", v);
            return false;
        }
    }
    out->rank = rank;
    char *name = xmalloc((size_t)(colon - v) + 1);
    memcpy(name, v, (size_t)(colon - v));
    name[colon - v] = '\0';
    out->name = name;
    return true;
}

static const InputShape *given_shape(const Imp *imp, const char *name)
{
    for (int i = 0; i < imp->opts->num_shapes; i++)
        if (strcmp(imp->opts->shapes[i].name, name) == 0)
            return &imp->opts->shapes[i];
    return NULL;
}

/* An error about the given shape S (dimension DIM, or -1 for the whole
 * shape): at its place in the config file, or for --input-shape at the
 * model.  FMT's "%s" where the text says where the shape came from. */
static void shape_error(Imp *imp, const InputShape *s, int dim, const char *fmt, ...) QNN_PRINTF(4, 5);
static void shape_error(Imp *imp, const InputShape *s, int dim, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    imp->errors++;
    if (s->loc.file)
        diag_error(dim >= 0 && s->dim_loc[dim].file ? s->dim_loc[dim] : s->loc, "input_shapes: %s (in %s)", buf,
                   imp->path);
    else
        diag_error((SrcLoc){.file = imp->path}, "--input-shape: %s", buf);
}

/* NAME as a TOML key: bare when it can be, else quoted. */
static void print_toml_key(FILE *f, const char *name)
{
    bool bare = *name != '\0';
    for (const char *p = name; *p; p++)
        bare = bare && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        *p == '_' || *p == '-');
    if (bare) {
        fputs(name, f);
        return;
    }
    fputc('"', f);
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* "[model] input_shapes = { x = [1, 3, ?, ?] } or --input-shape=x:1,3,?,?":
 * the line that would fix the symbolic dimensions of input VI, with the
 * batch and the static dimensions (DIMS > 0) filled in.  Returns a malloc'd
 * string. */
static char *shape_hint(const Onnx__ValueInfoProto *vi, const int64_t *dims, int rank)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    for (int form = 0; form < 2; form++) {
        if (form == 0) {
            fputs("[model] input_shapes = { ", f);
            print_toml_key(f, vi->name);
            fputs(" = [", f);
        } else {
            fprintf(f, "] } or --input-shape=%s:", vi->name);
        }
        for (int i = 0; i < rank; i++) {
            fputs(i == 0 ? "" : form == 0 ? ", " : ",", f);
            if (dims[i] > 0)
                fprintf(f, "%lld", (long long)dims[i]);
            else
                fputc('?', f);
        }
    }
    fclose(f);
    return text;
}

/* The IR type of graph input VI.  A symbolic or unknown dimension takes
 * its value from the input's given shape, the batch included: a given shape
 * is the whole shape.  Without one, dimension 0 is the batch size, which is
 * what it is in every model we import, and any other is an error that says
 * how to give the shape. */
static bool input_type(Imp *imp, const Onnx__ValueInfoProto *vi, OTensor *t)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        onnx_error(imp, "graph input '%s' is not a tensor", vi->name);
        return false;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    t->type = tt->has_elem_type ? tt->elem_type : OT_UNDEFINED;
    /* An INT64 input (token ids: what torch.onnx.export writes for an
     * embedding lookup) is narrowed at the model boundary: the IR input is
     * i32, and the caller passes int32 values (the harness and qnnc-run
     * take an int64 .npy and refuse a value outside int32,
     * docs/ir-semantics.md, "gather"). */
    if (t->type == OT_INT64)
        t->type = OT_INT32;
    DType dt;
    if (!onnx_dtype(t->type, &dt)) {
        onnx_error(imp, "graph input '%s' has element type %s, which qnnc does not support "
                       "(supported: FLOAT, UINT8, INT8, INT16, INT32, INT64 narrowed to INT32)", vi->name,
                   onnx_type_name(t->type));
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
    const InputShape *given = given_shape(imp, vi->name);
    if (given && given->rank != t->rank) {
        shape_error(imp, given, -1, "graph input '%s' has %d dimension%s, not %d", vi->name, t->rank,
                    t->rank == 1 ? "" : "s", given->rank);
        return false;
    }
    int64_t batch = imp->opts->batch > 0 ? imp->opts->batch : 1;
    int first_unknown = -1;
    bool ok = true;
    for (int i = 0; i < t->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
        if (known && given && given->dims[i] != d->dim_value) {
            shape_error(imp, given, i, "dimension %d of graph input '%s' is %lld in the model, not %lld", i,
                        vi->name, (long long)d->dim_value, (long long)given->dims[i]);
            ok = false;
        } else if (known) {
            t->dims[i] = d->dim_value;
        } else if (given) {
            t->dims[i] = given->dims[i];
        } else if (i == 0) {
            t->dims[i] = batch;
        } else {
            t->dims[i] = 0;
            if (first_unknown < 0)
                first_unknown = i;
        }
    }
    if (!ok)
        return false;
    if (first_unknown >= 0) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[first_unknown];
        char *hint = shape_hint(vi, t->dims, t->rank);
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param && *d->dim_param)
            onnx_error(imp, "graph input '%s': dimension %d ('%s') is symbolic; give the input's shape: %s",
                      vi->name, first_unknown, d->dim_param, hint);
        else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value < 0)
            onnx_error(imp, "graph input '%s': dimension %d is %lld, which is no size; give the input's shape: %s",
                      vi->name, first_unknown, (long long)d->dim_value, hint);
        else
            onnx_error(imp, "graph input '%s': dimension %d is unknown; give the input's shape: %s", vi->name,
                      first_unknown, hint);
        free(hint);
        return false;
    }
    if (onnx_numel(t->dims, t->rank) < 0 || onnx_numel(t->dims, t->rank) > INT64_C(0x7fffffff)) {
        onnx_error(imp, "graph input '%s': element count overflows", vi->name);
        return false;
    }
    return true;
}

/* Every given shape must name a run-time graph input. */
static bool check_shape_names(Imp *imp)
{
    const Onnx__GraphProto *gp = imp->model->graph;
    const char **names = xcalloc(gp->n_input + 1, sizeof *names);
    int n = 0;
    for (size_t i = 0; i < gp->n_input; i++) {
        OTensor *t = onnx_find(imp, gp->input[i]->name);
        if (!t || !t->c)
            names[n++] = gp->input[i]->name;
    }
    bool ok = true;
    for (int k = 0; k < imp->opts->num_shapes; k++) {
        const InputShape *s = &imp->opts->shapes[k];
        OTensor *t = onnx_find(imp, s->name);
        bool input = false;
        for (int i = 0; i < n && !input; i++)
            input = strcmp(names[i], s->name) == 0;
        if (input)
            continue;
        ok = false;
        if (t && t->c) {
            shape_error(imp, s, -1, "'%s' is an initializer, a constant; only run-time graph inputs take a shape",
                        s->name);
            continue;
        }
        const char *sugg = config_suggest(s->name, names, n);
        if (sugg) {
            shape_error(imp, s, -1, "'%s' is not a graph input; did you mean '%s'?", s->name, sugg);
            continue;
        }
        char list[256] = "";
        size_t len = 0;
        for (int i = 0; i < n && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", i ? ", " : "", names[i]);
        shape_error(imp, s, -1, "'%s' is not a graph input (the inputs: %s)", s->name, n ? list : "none");
    }
    free(names);
    return ok;
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
    }
    if (!check_shape_names(imp))
        return false;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
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

/* Toposort state for the outer-scope values an If's branches read: each
 * is a dependency of the If node like an input. */
typedef struct TopoRefs {
    const char **keys;
    size_t cap, *prod, *pending, *ucount, *ustart, *users;
    size_t k;
    int pass;
} TopoRefs;

static void topo_ref(void *arg, const char *name)
{
    TopoRefs *r = arg;
    size_t h = (size_t)onnx_hash(name) & (r->cap - 1);
    while (r->keys[h] && strcmp(r->keys[h], name))
        h = (h + 1) & (r->cap - 1);
    if (!r->keys[h] || r->prod[h] == r->k)
        return; /* a graph input, initializer, or the subgraph's own value */
    if (r->pass == 0) {
        r->pending[r->k]++;
        r->ucount[r->prod[h]]++;
    } else {
        r->users[r->ustart[r->prod[h]] + --r->ucount[r->prod[h]]] = r->k;
    }
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
            TopoRefs refs = {keys, cap, prod, pending, ucount, ustart, users, k, pass};
            onnx_subgraph_refs(n, topo_ref, &refs);
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
