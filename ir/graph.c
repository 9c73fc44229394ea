/* graph.c - tensor types, quantization records, graph construction,
 * attributes and structural equality. */
#include "ir.h"
#include "text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- types */

int64_t type_numel(const TensorType *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dims[i];
        if (d < 0)
            return -1;
        if (d != 0 && n > INT64_MAX / d)
            return -1;
        n *= d;
    }
    return n;
}

int64_t type_nbytes(const TensorType *t)
{
    int64_t n = type_numel(t);
    int64_t size = dtype_traits[t->dtype].size;
    if (n < 0 || n > INT64_MAX / size)
        return -1;
    return n * size;
}

void transpose_elems(const int64_t *dims, int rank, const int64_t *perm, size_t es, const void *x, void *y)
{
    int64_t xstride[QNN_MAX_RANK], step[QNN_MAX_RANK], idx[QNN_MAX_RANK] = {0}, ydims[QNN_MAX_RANK], cnt = 1;
    for (int d = rank - 1; d >= 0; d--) {
        xstride[d] = cnt;
        cnt *= dims[d];
    }
    for (int d = 0; d < rank; d++) {
        ydims[d] = dims[perm[d]];
        step[d] = xstride[perm[d]];  /* input stride of output dim d */
    }
    const unsigned char *src = x;
    unsigned char *dst = y;
    int64_t off = 0;
    for (int64_t i = 0; i < cnt; i++) {
        memcpy(dst + (size_t)i * es, src + (size_t)off * es, es);
        for (int d = rank - 1; d >= 0; d--) {
            idx[d]++;
            off += step[d];
            if (idx[d] < ydims[d])
                break;
            off -= step[d] * idx[d];
            idx[d] = 0;
        }
    }
}

bool quant_equal(const Quant *a, const Quant *b)
{
    if (!a || !b)
        return a == b;
    if (a->axis != b->axis || a->count != b->count)
        return false;
    /* Bitwise, so that parse(print(g)) == g is a real losslessness check. */
    return memcmp(a->scale, b->scale, (size_t)a->count * sizeof *a->scale) == 0 &&
           memcmp(a->zero_point, b->zero_point, (size_t)a->count * sizeof *a->zero_point) == 0;
}

bool shape_equal(const TensorType *a, const TensorType *b)
{
    if (a->rank != b->rank)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

bool type_equal(const TensorType *a, const TensorType *b)
{
    return a->dtype == b->dtype && shape_equal(a, b) && quant_equal(a->quant, b->quant);
}

Quant *quant_new(Arena *a, int axis, int count, const float *scale, const int32_t *zp)
{
    Quant *q = arena_alloc(a, sizeof *q);
    q->axis = axis;
    q->count = count;
    q->scale = arena_memdup(a, scale, (size_t)count * sizeof *scale);
    q->zero_point = arena_memdup(a, zp, (size_t)count * sizeof *zp);
    return q;
}

/* Scales use the text form's float spelling, which keeps every bit (NaN
 * payloads included), so the printed type parses back to the same type. */
static void print_float(FILE *f, float v)
{
    char buf[TEXT_FLOAT_BUF];
    fputs(text_format_float(buf, v), f);
}

void type_print(FILE *f, const TensorType *t)
{
    fprintf(f, "%s[", dtype_traits[t->dtype].name);
    for (int i = 0; i < t->rank; i++)
        fprintf(f, "%s%lld", i ? "," : "", (long long)t->dims[i]);
    fputc(']', f);
    const Quant *q = t->quant;
    if (!q)
        return;
    if (q->axis < 0) {
        fputs(" q(", f);
        print_float(f, q->scale[0]);
        fprintf(f, ", %d)", (int)q->zero_point[0]);
        return;
    }
    fprintf(f, " q(axis=%d, scales=[", q->axis);
    for (int i = 0; i < q->count; i++) {
        if (i)
            fputs(", ", f);
        print_float(f, q->scale[i]);
    }
    fputs("], zero_points=[", f);
    for (int i = 0; i < q->count; i++)
        fprintf(f, "%s%d", i ? ", " : "", (int)q->zero_point[i]);
    fputs("])", f);
}

/* ---------------------------------------------------------------- graph */

Graph *graph_new(const char *name)
{
    Graph *g = xcalloc(1, sizeof *g);
    arena_init(&g->arena);
    g->name = arena_strdup(&g->arena, name ? name : "main");
    return g;
}

void graph_free(Graph *g)
{
    if (!g)
        return;
    arena_free(&g->arena);
    free(g->name_index);
    free(g);
}

/* Types are copied with their quantization record so that the graph owns
 * everything it points at. */
static TensorType own_type(Graph *g, TensorType t)
{
    if (t.quant)
        t.quant = quant_new(&g->arena, t.quant->axis, t.quant->count, t.quant->scale,
                            t.quant->zero_point);
    return t;
}

/* ---------------------------------------------------------------- name index */

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static Value **name_bucket(const Graph *g, const char *name)
{
    return &g->name_index[name_hash(name) & (unsigned)(g->name_index_cap - 1)];
}

/* Links V into its bucket in id order. */
static void index_insert(Graph *g, Value *v)
{
    Value **p = name_bucket(g, v->name);
    while (*p && (*p)->id < v->id)
        p = &(*p)->name_next;
    v->name_next = *p;
    *p = v;
}

static void index_remove(Graph *g, Value *v)
{
    Value **p = name_bucket(g, v->name);
    while (*p && *p != v)
        p = &(*p)->name_next;
    if (*p)
        *p = v->name_next;
}

/* Sizes the index for the value list (at most half full) and refills it. */
static void index_rebuild(Graph *g)
{
    int cap = 64;
    while (cap < 2 * g->values.len)
        cap *= 2;
    free(g->name_index);
    g->name_index = xcalloc((size_t)cap, sizeof *g->name_index);
    g->name_index_cap = cap;
    for (int i = 0; i < g->values.len; i++)
        index_insert(g, g->values.data[i]);
}

Value *graph_find_value(const Graph *g, const char *name)
{
    if (!g->name_index_cap)
        return NULL;
    for (Value *v = *name_bucket(g, name); v; v = v->name_next)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

void graph_rename_value(Graph *g, Value *v, const char *name)
{
    index_remove(g, v);
    v->name = name;
    index_insert(g, v);
}

void graph_set_values(Graph *g, PtrVec values)
{
    g->values = values;
    for (int i = 0; i < values.len; i++)
        ((Value *)values.data[i])->id = i;
    index_rebuild(g);
}

int *graph_use_counts(const Graph *g)
{
    int *uses = xcalloc((size_t)g->values.len + 1, sizeof *uses);
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        for (int j = 0; j < n->num_operands; j++)
            uses[n->operands[j]->id]++;
    }
    for (int i = 0; i < g->outputs.len; i++)
        uses[((Value *)g->outputs.data[i])->id]++;
    return uses;
}

static Value *new_value(Graph *g, ValueKind kind, const char *name, TensorType t)
{
    Value *v = arena_alloc(&g->arena, sizeof *v);
    v->id = g->values.len;
    v->kind = kind;
    v->name = arena_strdup(&g->arena, name);
    v->type = own_type(g, t);
    ptrvec_push(&g->arena, &g->values, v);
    if (2 * g->values.len > g->name_index_cap)
        index_rebuild(g);
    else
        index_insert(g, v);
    return v;
}

Value *graph_add_input(Graph *g, const char *name, TensorType t)
{
    Value *v = new_value(g, VAL_INPUT, name, t);
    ptrvec_push(&g->arena, &g->inputs, v);
    return v;
}

Value *graph_add_const(Graph *g, const char *name, TensorType t, const void *data)
{
    Value *v = new_value(g, VAL_CONST, name, t);
    int64_t n = type_nbytes(&t);
    if (n < 0)
        qnn_die("constant '%s' is too large", name);
    v->data = arena_memdup(&g->arena, data, (size_t)n);
    ptrvec_push(&g->arena, &g->consts, v);
    return v;
}

Node *graph_add_node(Graph *g, OpId op, Value *const *operands, int n, const char *result_name,
                     TensorType result_type)
{
    Node *node = arena_alloc(&g->arena, sizeof *node);
    node->id = g->nodes.len;
    node->op = op;
    node->num_operands = n;
    node->operands = arena_memdup(&g->arena, operands, (size_t)n * sizeof *operands);
    node->result = new_value(g, VAL_NODE, result_name, result_type);
    node->result->def = node;
    ptrvec_push(&g->arena, &g->nodes, node);
    return node;
}

void graph_add_output(Graph *g, Value *v) { ptrvec_push(&g->arena, &g->outputs, v); }

/* ---------------------------------------------------------------- attributes */

/* Returns the slot for ID, inserting it in AttrId order if absent. */
static Attr *attr_slot(Graph *g, Node *n, AttrId id)
{
    int i = 0;
    while (i < n->num_attrs && n->attrs[i].id < id)
        i++;
    if (i < n->num_attrs && n->attrs[i].id == id)
        return &n->attrs[i];
    Attr *attrs = arena_alloc(&g->arena, (size_t)(n->num_attrs + 1) * sizeof *attrs);
    if (n->num_attrs) { /* memcpy from a NULL list is undefined even for 0 bytes */
        memcpy(attrs, n->attrs, (size_t)i * sizeof *attrs);
        memcpy(attrs + i + 1, n->attrs + i, (size_t)(n->num_attrs - i) * sizeof *attrs);
    }
    n->attrs = attrs;
    n->num_attrs++;
    attrs[i] = (Attr){.id = id};
    return &attrs[i];
}

static void check_kind(AttrId id, AttrKind kind)
{
    if (attr_info[id].kind != kind)
        qnn_die("attribute '%s' set with the wrong kind", attr_info[id].name);
}

void node_set_operand(Graph *g, Node *n, int i, Value *v)
{
    if (i == n->num_operands) {
        Value **ops = arena_alloc(&g->arena, (size_t)(i + 1) * sizeof *ops);
        for (int k = 0; k < i; k++)
            ops[k] = n->operands[k];
        n->operands = ops;
        n->num_operands = i + 1;
    }
    n->operands[i] = v;
}

void node_set_int(Graph *g, Node *n, AttrId id, int64_t v)
{
    check_kind(id, AK_INT);
    attr_slot(g, n, id)->u.i = v;
}

void node_set_enum(Graph *g, Node *n, AttrId id, int64_t v)
{
    check_kind(id, AK_ENUM);
    attr_slot(g, n, id)->u.i = v;
}

void node_set_float(Graph *g, Node *n, AttrId id, float v)
{
    check_kind(id, AK_FLOAT);
    attr_slot(g, n, id)->u.f = v;
}

void node_set_ints(Graph *g, Node *n, AttrId id, const int64_t *v, int count)
{
    check_kind(id, AK_INTS);
    Attr *a = attr_slot(g, n, id);
    a->count = count;
    a->u.ints = arena_memdup(&g->arena, v, (size_t)count * sizeof *v);
}

void node_set_floats(Graph *g, Node *n, AttrId id, const float *v, int count)
{
    check_kind(id, AK_FLOATS);
    Attr *a = attr_slot(g, n, id);
    a->count = count;
    a->u.floats = arena_memdup(&g->arena, v, (size_t)count * sizeof *v);
}

const Attr *node_attr(const Node *n, AttrId id)
{
    for (int i = 0; i < n->num_attrs; i++)
        if (n->attrs[i].id == id)
            return &n->attrs[i];
    return NULL;
}

int64_t node_int(const Node *n, AttrId id, int64_t dflt)
{
    const Attr *a = node_attr(n, id);
    return a ? a->u.i : dflt;
}

float node_float(const Node *n, AttrId id, float dflt)
{
    const Attr *a = node_attr(n, id);
    return a ? a->u.f : dflt;
}

int node_ints(const Node *n, AttrId id, int64_t *out, int max, const int64_t *dflt)
{
    const Attr *a = node_attr(n, id);
    if (!a) {
        memcpy(out, dflt, (size_t)max * sizeof *out);
        return max;
    }
    int count = a->count < max ? a->count : max;
    memcpy(out, a->u.ints, (size_t)count * sizeof *out);
    return a->count;
}

/* ---------------------------------------------------------------- equality */

bool attr_equal(const Attr *a, const Attr *b)
{
    if (a->id != b->id || a->count != b->count)
        return false;
    switch (attr_info[a->id].kind) {
    case AK_INT:
    case AK_ENUM: return a->u.i == b->u.i;
    case AK_FLOAT: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case AK_INTS: return memcmp(a->u.ints, b->u.ints, (size_t)a->count * sizeof *a->u.ints) == 0;
    case AK_FLOATS:
        return memcmp(a->u.floats, b->u.floats, (size_t)a->count * sizeof *a->u.floats) == 0;
    }
    qnn_unreachable();
}

static bool value_equal(const Value *a, const Value *b)
{
    if (a->kind != b->kind || strcmp(a->name, b->name) != 0 || !type_equal(&a->type, &b->type) ||
        a->has_range != b->has_range)
        return false;
    if (a->has_range && (memcmp(&a->range_lo, &b->range_lo, sizeof a->range_lo) != 0 ||
                         memcmp(&a->range_hi, &b->range_hi, sizeof a->range_hi) != 0))
        return false;
    if (a->kind == VAL_CONST) {
        int64_t n = type_nbytes(&a->type);
        return memcmp(a->data, b->data, (size_t)n) == 0;
    }
    return true;
}

static bool value_lists_equal(const PtrVec *a, const PtrVec *b)
{
    if (a->len != b->len)
        return false;
    for (int i = 0; i < a->len; i++)
        if (!value_equal(a->data[i], b->data[i]))
            return false;
    return true;
}

bool graph_equal(const Graph *a, const Graph *b)
{
    if (strcmp(a->name, b->name) != 0 || !value_lists_equal(&a->inputs, &b->inputs) ||
        !value_lists_equal(&a->consts, &b->consts) || !value_lists_equal(&a->outputs, &b->outputs) ||
        a->nodes.len != b->nodes.len)
        return false;
    for (int i = 0; i < a->nodes.len; i++) {
        const Node *x = a->nodes.data[i], *y = b->nodes.data[i];
        if (x->op != y->op || x->num_operands != y->num_operands || x->num_attrs != y->num_attrs ||
            !value_equal(x->result, y->result))
            return false;
        /* Operands are compared by name: names are unique within a graph. */
        for (int j = 0; j < x->num_operands; j++)
            if (strcmp(x->operands[j]->name, y->operands[j]->name) != 0)
                return false;
        for (int j = 0; j < x->num_attrs; j++)
            if (!attr_equal(&x->attrs[j], &y->attrs[j]))
                return false;
    }
    return true;
}
