/* onnx_helpers.c - the importer's helper library, every name onnx_*.
 *
 * Everything an op importer (onnx_conv.c, onnx_elementwise.c, ...) needs
 * besides its own op: messages about the current node, the ONNX tensor
 * table (onnx_in, onnx_out), IR names, attributes, emitting IR nodes and
 * constants, the NCHW/NHWC layout conversions (onnx_val, onnx_val_nhwc),
 * the result of an op (onnx_define_out, onnx_finish) and the helpers for
 * quantized results inside a fused QDQ group (onnx_emit_r, onnx_fix_q).
 * Layout rules are in onnx.c's header comment.
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const int64_t onnx_perm_to_nhwc[4] = {0, 2, 3, 1};
const int64_t onnx_perm_to_nchw[4] = {0, 3, 1, 2};

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

uint64_t onnx_hash(const char *s)
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
    size_t h = (size_t)onnx_hash(name) & (imp->tab_cap - 1);
    while (imp->tab[h]) {
        if (!strcmp(imp->tab[h]->name, name))
            return imp->tab[h];
        h = (h + 1) & (imp->tab_cap - 1);
    }
    return NULL;
}

static void tab_insert(OTensor **tab, size_t cap, OTensor *t)
{
    size_t h = (size_t)onnx_hash(t->name) & (cap - 1);
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
    size_t h = (size_t)onnx_hash(s) & (imp->names_cap - 1);
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
            size_t h = (size_t)onnx_hash(imp->names[i]) & (cap - 1);
            while (t[h])
                h = (h + 1) & (cap - 1);
            t[h] = imp->names[i];
        }
        free(imp->names);
        imp->names = t;
        imp->names_cap = cap;
    }
    size_t h = (size_t)onnx_hash(s) & (imp->names_cap - 1);
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
const Quant *onnx_quant_permute(Imp *imp, const Quant *q, const int64_t *perm, int rank)
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
    t.quant = onnx_quant_permute(imp, x->type.quant, perm, t.rank);
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
        ty.quant = onnx_quant_permute(imp, ty.quant, perm, ty.rank);
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

/* ---------------------------------------------------------------- helpers */

/* Defines output I of N with the ONNX shape DIMS (or, in a fused QDQ group,
 * the final QuantizeLinear's output), refusing empty and oversized
 * tensors, which the IR cannot hold. */
OTensor *onnx_define_out(Imp *imp, const Onnx__NodeProto *n, size_t i, int32_t type, int rank,
                           const int64_t *dims)
{
    int64_t cnt = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 1 || dims[d] > INT32_MAX || (cnt *= dims[d]) > INT32_MAX) {
            onnx_node_error(imp, dims[d] < 1 ? "the result would be an empty tensor, which qnnc does not support"
                                        : "the result would have more than 2^31 elements");
            return NULL;
        }
    }
    OTensor *o = onnx_out(imp, imp->out_node ? imp->out_node : n, i);
    if (!o)
        return NULL;
    if (imp->fq) {
        /* A fused QDQ group: the result is the QuantizeLinear's. */
        type = imp->fq_type;
        o->quant = imp->fq;
    }
    o->type = type;
    o->rank = rank;
    for (int d = 0; d < rank && d < QNN_MAX_RANK; d++)
        o->dims[d] = dims[d];
    return o;
}

bool onnx_need_float(Imp *imp, const OTensor *t)
{
    /* In a fused QDQ group the inputs are the quantized tensors. */
    if (imp->fq && t->type != OT_FLOAT && t->quant && t->quant->axis < 0)
        return true;
    if (t->type != OT_FLOAT) {
        onnx_node_error(imp, "input '%s' has element type %s; this op is supported on FLOAT tensors only "
                        "(quantized models use QuantizeLinear/DequantizeLinear or QLinear* ops)",
                   t->name, onnx_type_name(t->type));
        return false;
    }
    return true;
}

/* Ops that only move or drop values (relu, clip, max_pool) work on
 * quantized integers too, keeping the quantization. */
bool onnx_need_float_or_q(Imp *imp, const OTensor *t)
{
    if (t->type != OT_FLOAT && t->quant && t->quant->axis < 0)
        return true;
    return onnx_need_float(imp, t);
}

OTensor *onnx_temp(Imp *imp, const char *name, int32_t type, int rank, const int64_t *dims)
{
    OTensor *t = arena_alloc(&imp->arena, sizeof *t);
    t->name = name;
    t->type = type;
    t->rank = rank;
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    return t;
}

/* T viewed with new DIMS (same elements, ONNX order), as a temporary. */
OTensor *onnx_view(Imp *imp, OTensor *t, int rank, const int64_t *dims, const char *suffix)
{
    OTensor *r = onnx_temp(imp, onnx_name(imp, t->name, suffix), t->type, rank, dims);
    r->quant = t->quant;
    if (t->c) {
        r->c = arena_memdup(&imp->arena, t->c, sizeof *t->c);
        r->c->rank = rank;
        memset(r->c->dims, 0, sizeof r->c->dims);
        memcpy(r->c->dims, dims, (size_t)rank * sizeof *dims);
        return r;
    }
    Value *v = onnx_val(imp, t);
    if (!v)
        return NULL;
    r->v = onnx_emit_reshape(imp, v, rank, dims, r->name);
    return r;
}

/* [N,C,L] -> [N,C,1,L]: 1-D convolution and pooling run as 2-D. */
OTensor *onnx_lift3(Imp *imp, OTensor *t)
{
    int64_t d[4] = {t->dims[0], t->dims[1], 1, t->dims[2]};
    return onnx_view(imp, t, 4, d, ".4d");
}

/* Finishes a lifted op: T4 is the NHWC result [N,1,L,C]; OUT gets [N,C,L]. */
bool onnx_lower3(Imp *imp, OTensor *t4, OTensor *out)
{
    Value *v = onnx_val(imp, t4);
    if (!v)
        return false;
    int64_t d[3] = {t4->dims[0], t4->dims[1], t4->dims[3]};
    out->v = onnx_emit_reshape(imp, v, 3, d, onnx_name(imp, out->name, NULL));
    return true;
}

/* The run-time value of T in whichever layout it already has: for ops that
 * do not care about layout.  *nhwc tells which. */
Value *onnx_any_val(Imp *imp, OTensor *t, bool *nhwc)
{
    *nhwc = onnx_is_nhwc(t);
    return *nhwc ? t->vt : onnx_val(imp, t);
}

/* The value of T (rank <= R) as an operand of an R-D broadcasting op run
 * in NHWC (R == 4) or ONNX layout. */
Value *onnx_bcast_operand(Imp *imp, OTensor *t, int r, bool nhwc)
{
    if (!nhwc)
        return onnx_val(imp, t);
    if (t->rank == 4)
        return onnx_val_nhwc(imp, t);
    if (onnx_numel(t->dims, t->rank) == 1)
        return onnx_val(imp, t); /* a scalar broadcasts in any layout */
    int64_t d[4] = {1, 1, 1, 1};
    for (int i = 0; i < t->rank; i++)
        d[r - t->rank + i] = t->dims[i];
    OTensor *v4 = onnx_view(imp, t, 4, d, ".b4");
    return v4 ? onnx_val_nhwc(imp, v4) : NULL;
}

/* A scalar f32 constant named BASE + SUFFIX. */
Value *onnx_scalar_f32(Imp *imp, const char *base, const char *suffix, float v)
{
    Value *c = graph_add_const(imp->g, onnx_name(imp, base, suffix), onnx_tt(DT_F32, 0, NULL, NULL), &v);
    c->loc = (SrcLoc){.file = imp->gpath};
    return c;
}

/* In a fused QDQ group, makes V carry the group's output quantization:
 * ops that keep their input's quantization (relu, max_pool, reshape...)
 * are followed by a requantize when the QuantizeLinear's differs. */
Value *onnx_fix_q(Imp *imp, Value *v)
{
    if (!imp->fq || !v || quant_equal(v->type.quant, imp->fq))
        return v;
    TensorType t = v->type;
    onnx_dtype(imp->fq_type, &t.dtype);
    t.quant = imp->fq;
    Node *nd = onnx_emit(imp, OP_REQUANTIZE, &v, 1, onnx_name(imp, v->name, ".rq"), t);
    node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return nd->result;
}

/* Emits the op that produces a converter's result.  In a fused QDQ group
 * the result is quantized: with the QuantizeLinear's parameters and
 * rounding=onnx for requantizing ops, with the input's for ops that must
 * keep it (fix_q then requantizes). */
Node *onnx_emit_r(Imp *imp, OpId op, Value *const *ops, int n, const char *name, TensorType t)
{
    if (imp->fq) {
        if (op_info[op].flags & OPF_SAME_QUANT) {
            t.dtype = ops[0]->type.dtype;
            t.quant = ops[0]->type.quant;
        } else {
            onnx_dtype(imp->fq_type, &t.dtype);
            t.quant = imp->fq;
        }
    }
    Node *nd = onnx_emit(imp, op, ops, n, name, t);
    if (imp->fq && (op_info[op].attrs & A(ROUNDING)))
        node_set_enum(imp->g, nd, ATTR_ROUNDING, ROUND_ONNX);
    return nd;
}

bool onnx_finish(Imp *imp, OTensor *out, Value *v, bool nhwc)
{
    if (!out || !v)
        return false;
    onnx_set(out, onnx_fix_q(imp, v), nhwc);
    return true;
}

/* Logical axis A of a 4-D tensor held in NHWC is physical axis phys[A]. */
const int onnx_nhwc_pos[4] = {0, 3, 1, 2};

/* Makes OUT an alias of X (Identity, Dropout in inference, no-op ops). */
void onnx_alias(OTensor *out, const OTensor *x)
{
    const char *name = out->name;
    *out = *x;
    out->name = name;
}

/* ---------------------------------------------------------------- windows */

/* Reads kernel/strides/dilations/pads/auto_pad of a conv or pool over NSP
 * (1 or 2) spatial dims and computes the output size (ONNX Conv, MaxPool,
 * AveragePool: "auto_pad", "ceil_mode").  A 1-D op is a 2-D op with a
 * height-1 window. */
bool onnx_window(Imp *imp, const Onnx__NodeProto *n, int nsp, const int64_t *in, const int64_t *kernel,
                   bool ceil_mode, OnnxWindow *w)
{
    int64_t s[2] = {1, 1}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    int ks = onnx_attr_ints(n, "strides", s, 2), kd = onnx_attr_ints(n, "dilations", d, 2);
    int kp = onnx_attr_ints(n, "pads", p, 4);
    if ((ks >= 0 && ks != nsp) || (kd >= 0 && kd != nsp) || (kp >= 0 && kp != 2 * nsp)) {
        onnx_node_error(imp, "strides, dilations and pads must match the %d spatial dimension%s", nsp,
                   nsp == 1 ? "" : "s");
        return false;
    }
    if (ks < 0)
        s[0] = s[1] = 1;
    if (kd < 0)
        d[0] = d[1] = 1;
    *w = (OnnxWindow){{1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, {0, 0}};
    int64_t in2[2] = {1, 1};
    for (int i = 0; i < nsp; i++) {
        int j = i + 2 - nsp; /* 1-D ops use the width slot */
        w->k[j] = kernel[i];
        w->s[j] = s[i];
        w->d[j] = d[i];
        w->pads[j] = kp >= 0 ? p[i] : 0;
        w->pads[j + 2] = kp >= 0 ? p[i + nsp] : 0;
        in2[j] = in[i];
    }
    const char *ap = onnx_attr_str(imp, n, "auto_pad", "NOTSET");
    for (int j = 0; j < 2; j++) {
        /* Bounding every number by 2^24 keeps the arithmetic below far
         * from overflow; no real model comes near it. */
        const int64_t lim = INT64_C(1) << 24;
        if (w->k[j] < 1 || w->s[j] < 1 || w->d[j] < 1 || w->pads[j] < 0 || w->pads[j + 2] < 0 ||
            w->k[j] > lim || w->s[j] > lim || w->d[j] > lim || w->pads[j] > lim || w->pads[j + 2] > lim) {
            onnx_node_error(imp, "kernel, strides and dilations must be positive and pads non-negative (and all "
                            "below 2^24)");
            return false;
        }
        int64_t eff = w->d[j] * (w->k[j] - 1) + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            /* out = ceil(in / stride); the total padding is split evenly,
             * the odd one at the end (UPPER) or the beginning (LOWER). */
            w->out[j] = (in2[j] + w->s[j] - 1) / w->s[j];
            int64_t total = (w->out[j] - 1) * w->s[j] + eff - in2[j];
            if (total < 0)
                total = 0;
            int64_t half = total / 2;
            w->pads[j] = ap[5] == 'U' ? half : total - half;
            w->pads[j + 2] = total - w->pads[j];
            continue;
        }
        if (!strcmp(ap, "VALID")) {
            w->pads[j] = w->pads[j + 2] = 0;
        } else if (strcmp(ap, "NOTSET") != 0) {
            onnx_node_error(imp, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
            return false;
        }
        int64_t span = in2[j] + w->pads[j] + w->pads[j + 2] - eff;
        if (span < 0) {
            onnx_node_error(imp, "the kernel (extent %lld) is larger than the padded input (%lld)", (long long)eff,
                       (long long)(span + eff));
            return false;
        }
        w->out[j] = (ceil_mode ? (span + w->s[j] - 1) / w->s[j] : span / w->s[j]) + 1;
        /* ceil_mode: the last window must start inside the input or its
         * leading padding (as PyTorch and ONNX's reference implement it). */
        if (ceil_mode && (w->out[j] - 1) * w->s[j] >= in2[j] + w->pads[j])
            w->out[j]--;
        int64_t need = (w->out[j] - 1) * w->s[j] + eff - (in2[j] + w->pads[j] + w->pads[j + 2]);
        if (need > 0)
            w->extra[j] = need;
    }
    return true;
}

/* A Relu/Clip fused into a quantized conv2d or dense: act_min/act_max. */
void onnx_set_act(Imp *imp, Node *nd)
{
    if (!imp->has_act)
        return;
    if (imp->act_min > -INFINITY)
        node_set_float(imp->g, nd, ATTR_ACT_MIN, imp->act_min);
    if (imp->act_max < INFINITY)
        node_set_float(imp->g, nd, ATTR_ACT_MAX, imp->act_max);
}

/* Sets strides, pads and (if DIL) dilations, leaving out the defaults so the
 * printed IR shows only what matters. */
void onnx_set_window_attrs(Imp *imp, Node *nd, const OnnxWindow *w, const int64_t *pads, bool dil)
{
    if (w->s[0] != 1 || w->s[1] != 1)
        node_set_ints(imp->g, nd, ATTR_STRIDES, w->s, 2);
    if (pads[0] || pads[1] || pads[2] || pads[3])
        node_set_ints(imp->g, nd, ATTR_PADS, pads, 4);
    if (dil && (w->d[0] != 1 || w->d[1] != 1))
        node_set_ints(imp->g, nd, ATTR_DILATIONS, w->d, 2);
}
