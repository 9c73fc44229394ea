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

/* ---------------------------------------------------------------- messages */

void imp_error(Imp *imp, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    imp->errors++;
    diag_error((SrcLoc){.file = imp->path}, "%s", buf);
}

const char *node_label(const Onnx__NodeProto *n)
{
    if (n->name && *n->name)
        return n->name;
    if (n->n_output > 0 && n->output[0] && *n->output[0])
        return n->output[0];
    return "<unnamed>";
}

void node_error(Imp *imp, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = imp->node;
    if (n)
        imp_error(imp, "node '%s' (%s): %s", node_label(n), n->op_type ? n->op_type : "?", buf);
    else
        imp_error(imp, "%s", buf);
}

/* ---------------------------------------------------------------- name tables */

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

OTensor *ot_find(Imp *imp, const char *name)
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

OTensor *ot_define(Imp *imp, const char *name)
{
    if (ot_find(imp, name)) {
        imp_error(imp, "tensor name '%s' is defined more than once", name);
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

OTensor *node_in(Imp *imp, const Onnx__NodeProto *n, size_t i)
{
    if (i >= n->n_input || !n->input[i] || !*n->input[i])
        return NULL;
    /* In a fused QDQ group the op reads the quantized tensors behind its
     * DequantizeLinear inputs. */
    if (n == imp->fnode && imp->fsub && imp->fsub[i])
        return imp->fsub[i];
    return ot_find(imp, n->input[i]);
}

OTensor *node_out(Imp *imp, const Onnx__NodeProto *n, size_t i)
{
    if (i >= n->n_output || !n->output[i] || !*n->output[i])
        return NULL;
    return ot_define(imp, n->output[i]);
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

const char *ir_name(Imp *imp, const char *base, const char *suffix)
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

bool imp_reserve(Imp *imp, int64_t bytes)
{
    int64_t limit = qnn_max_memory();
    if (bytes <= limit - imp->tensor_bytes) {
        imp->tensor_bytes += bytes;
        return true;
    }
    const char *what = "the model's tensors need more than the memory limit of %lld bytes "
                       "(%lld more on top of %lld; raise it with --max-memory or [limits] max_memory)";
    if (imp->node)
        node_error(imp, what, (long long)limit, (long long)bytes, (long long)imp->tensor_bytes);
    else
        imp_error(imp, what, (long long)limit, (long long)bytes, (long long)imp->tensor_bytes);
    return false;
}

/* ---------------------------------------------------------------- attributes */

const Onnx__AttributeProto *attr_get(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = attr_get(n, name);
    return a && a->has_i ? a->i : dflt;
}

float attr_float(const Onnx__NodeProto *n, const char *name, float dflt)
{
    const Onnx__AttributeProto *a = attr_get(n, name);
    return a && a->has_f ? a->f : dflt;
}

int attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int max)
{
    const Onnx__AttributeProto *a = attr_get(n, name);
    if (!a)
        return -1;
    int cnt = (int)(a->n_ints < (size_t)max ? a->n_ints : (size_t)max);
    for (int i = 0; i < cnt; i++)
        out[i] = a->ints[i];
    return a->n_ints > (size_t)max ? max + 1 : cnt;
}

const char *attr_str(Imp *imp, const Onnx__NodeProto *n, const char *name, const char *dflt)
{
    const Onnx__AttributeProto *a = attr_get(n, name);
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
        imp_error(imp, "not a valid ONNX model (messages nested more than %d deep)", MAX_NESTING);
        return false;
    }
    imp->model = onnx__model_proto__unpack(NULL, len, (const uint8_t *)buf);
    free(buf);
    if (!imp->model) {
        imp_error(imp, "not a valid ONNX model (protobuf parse failed)");
        return false;
    }
    const Onnx__ModelProto *m = imp->model;
    if (!m->graph) {
        imp_error(imp, "not a valid ONNX model (it has no graph)");
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
        imp_error(imp, "opset %lld is not supported (qnnc imports opsets up to 17)", (long long)imp->opset);
        return false;
    }

    const Onnx__GraphProto *gp = m->graph;
    /* All the weights, as the import-time tensors that decode them (one
     * double or int64 per element), before any is allocated.  Absurd
     * shapes are left to ctensor_from_proto's messages. */
    int64_t weights = 0;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        int64_t n = tp->n_dims <= QNN_MAX_RANK ? dims_numel(tp->dims, (int)tp->n_dims) : -1;
        if (n >= 0 && n <= (INT64_C(1) << 31))
            weights += n * (int64_t)sizeof(double);
    }
    if (!imp_reserve(imp, weights))
        return false;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name) {
            imp_error(imp, "initializer %zu has no name", i);
            return false;
        }
        CTensor *c = arena_alloc(&imp->arena, sizeof *c);
        if (!ctensor_from_proto(&imp->arena, imp->path, imp->dir, tp, c)) {
            imp->errors++;
            return false;
        }
        OTensor *t = ot_define(imp, tp->name);
        if (!t)
            return false;
        t->c = c;
        t->type = c->type;
        t->rank = c->rank;
        memcpy(t->dims, c->dims, sizeof t->dims);
    }
    if (gp->n_sparse_initializer) {
        imp_error(imp, "sparse initializers are not supported");
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
        imp_error(imp, "graph input '%s' is not a tensor", vi->name);
        return false;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    t->type = tt->has_elem_type ? tt->elem_type : OT_UNDEFINED;
    DType dt;
    if (!onnx_dtype(t->type, &dt)) {
        imp_error(imp, "graph input '%s' has element type %s, which qnnc does not support "
                       "(supported: FLOAT, UINT8, INT8, INT16, INT32)", vi->name, onnx_type_name(t->type));
        return false;
    }
    if (!tt->shape) {
        imp_error(imp, "graph input '%s' has no shape; qnnc needs static shapes", vi->name);
        return false;
    }
    if (tt->shape->n_dim > QNN_MAX_RANK) {
        imp_error(imp, "graph input '%s' has rank %zu, more than the maximum of %d", vi->name,
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
            imp_error(imp, "graph input '%s': dimension %d ('%s') is symbolic; give the input's shape: %s",
                      vi->name, first_unknown, d->dim_param, hint);
        else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value < 0)
            imp_error(imp, "graph input '%s': dimension %d is %lld, which is no size; give the input's shape: %s",
                      vi->name, first_unknown, (long long)d->dim_value, hint);
        else
            imp_error(imp, "graph input '%s': dimension %d is unknown; give the input's shape: %s", vi->name,
                      first_unknown, hint);
        free(hint);
        return false;
    }
    if (dims_numel(t->dims, t->rank) < 0 || dims_numel(t->dims, t->rank) > INT64_C(0x7fffffff)) {
        imp_error(imp, "graph input '%s': element count overflows", vi->name);
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
        OTensor *t = ot_find(imp, gp->input[i]->name);
        if (!t || !t->c)
            names[n++] = gp->input[i]->name;
    }
    bool ok = true;
    for (int k = 0; k < imp->opts->num_shapes; k++) {
        const InputShape *s = &imp->opts->shapes[k];
        OTensor *t = ot_find(imp, s->name);
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
            imp_error(imp, "graph input %zu has no name", i);
            return false;
        }
    }
    if (!check_shape_names(imp))
        return false;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        OTensor *init = ot_find(imp, vi->name);
        if (init && init->c)
            continue; /* an initializer: a constant */
        OTensor *t = ot_define(imp, vi->name);
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
            imp_error(imp, "node %zu has no op_type", k);
            goto out;
        }
        for (size_t j = 0; j < n->n_output; j++) {
            const char *o = n->output[j];
            if (!o || !*o)
                continue;
            if (ot_find(imp, o)) {
                imp_error(imp, "node '%s' (%s): output '%s' has the same name as a graph input or initializer",
                          node_label(n), n->op_type, o);
                goto out;
            }
            size_t h = (size_t)hash_str(o) & (cap - 1);
            while (keys[h] && strcmp(keys[h], o))
                h = (h + 1) & (cap - 1);
            if (keys[h]) {
                imp_error(imp, "node '%s' (%s): output '%s' is already produced by node '%s'", node_label(n),
                          n->op_type, o, node_label(gp->node[prod[h]]));
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
                    if (pass == 0 && !ot_find(imp, in)) {
                        imp_error(imp, "node '%s' (%s): input '%s' is not defined by any node, graph input or "
                                       "initializer (missing initializer?)", node_label(n), n->op_type, in);
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
                imp_error(imp, "the graph has a cycle through node '%s' (%s)", node_label(gp->node[k]),
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
