/* onnx_layout.c - ops that move data: Concat, Split, Flatten, Reshape,
 * Squeeze, Unsqueeze, Transpose, Pad, Slice and Gather (of run-time data),
 * Expand, Tile, DepthToSpace, SpaceToDepth, Resize/Upsample, and the
 * no-ops Identity and Dropout.
 *
 * Reshape-like ops depend on ONNX's element order, so they read their input
 * in ONNX layout (onnx_val); Concat, Split, Transpose, Pad, Slice, Expand
 * (same rank), Tile (of size-1 dims) and Gather (1-D indices) work in the
 * layout they are given, remapping axes.  When every input is known at import
 * time most of them are evaluated instead (onnx_shape.c).
 */
#include "onnx_internal.h"

#include <math.h>
#include <string.h>

int64_t onnx_concat_dims(Imp *imp, const Onnx__NodeProto *n, const OTensor *x0, int ax, int64_t *od,
                         bool need_all)
{
    memcpy(od, x0->dims, sizeof(int64_t) * QNN_MAX_RANK);
    od[ax] = 0;
    int64_t cnt = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        if (!t && !need_all)
            continue;
        if (!t || t->rank != x0->rank || t->type != x0->type) {
            onnx_node_error(imp, "inputs differ in rank or element type");
            return -1;
        }
        for (int d = 0; d < t->rank; d++)
            if (d != ax && t->dims[d] != x0->dims[d]) {
                onnx_node_error(imp, "input shapes differ outside axis %d", ax);
                return -1;
            }
        od[ax] += t->dims[ax];
        cnt++;
    }
    return cnt;
}

bool import_concat(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x0 = onnx_in(imp, n, 0);
    if (!x0) {
        onnx_node_error(imp, "needs at least one input");
        return false;
    }
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x0->rank, &ax))
        return false;
    int64_t od[QNN_MAX_RANK];
    int64_t cnt = onnx_concat_dims(imp, n, x0, ax, od, false);
    if (cnt < 0)
        return false;
    bool nhwc = false;
    for (size_t i = 0; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        nhwc |= t && onnx_is_nhwc(t);
    }
    Value **ops = arena_alloc(&imp->arena, cnt * sizeof *ops);
    const Quant *q = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        if (!t)
            continue;
        if (!(ops[k] = nhwc ? onnx_val_nhwc(imp, t) : onnx_val(imp, t)))
            return false;
        if (k && !imp->fq && !quant_equal(ops[k]->type.quant, q)) {
            onnx_node_error(imp, "inputs have different quantization parameters");
            return false;
        }
        q = ops[k++]->type.quant;
    }
    OTensor *out = onnx_define_out(imp, n, 0, x0->type, x0->rank, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x0->quant;
    TensorType t = ops[0]->type;
    t.dims[nhwc ? onnx_nhwc_pos[ax] : ax] = od[ax];
    Node *nd = onnx_emit_r(imp, OP_CONCAT, ops, (int)cnt, onnx_name(imp, out->name, NULL), t);
    node_set_int(imp->g, nd, ATTR_AXIS, nhwc ? onnx_nhwc_pos[ax] : ax);
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* ---------------------------------------------------------------- slices */

/* Split, Slice, Gather, Expand and Tile are IR slices: per dim a start and
 * a step, a step of 0 repeating one element (a broadcast). */

/* The slice of V (held in NHWC if NHWC) from B with steps ST to the ONNX
 * shape OD, all per logical dim; V itself when that is all of V. */
static Value *emit_slice(Imp *imp, Value *v, bool nhwc, const int64_t *b, const int64_t *st, const int64_t *od,
                         const char *name)
{
    int r = v->type.rank;
    int64_t pb[QNN_MAX_RANK], pst[QNN_MAX_RANK];
    bool steps = false, whole = true;
    TensorType t = v->type;
    for (int d = 0; d < r; d++) {
        int j = nhwc ? (int)onnx_perm_to_nhwc[d] : d; /* physical d is logical j */
        pb[d] = b[j];
        pst[d] = st[j];
        t.dims[d] = od[j];
        steps |= st[j] != 1;
        whole &= b[j] == 0 && (st[j] == 1 || od[j] == 1) && od[j] == v->type.dims[d];
    }
    if (whole)
        return v;
    Node *nd = onnx_emit(imp, OP_SLICE, &v, 1, name, t);
    node_set_ints(imp->g, nd, ATTR_STARTS, pb, r);
    if (steps)
        node_set_ints(imp->g, nd, ATTR_STEPS, pst, r);
    return nd->result;
}

/* Data movement keeps a per-tensor quantization; the IR's layout ops do not
 * carry a per-axis one. */
static bool per_tensor(Imp *imp, const OTensor *x)
{
    if (x->quant && x->quant->axis >= 0) {
        onnx_node_error(imp, "input '%s' is quantized per axis, which this op does not support", x->name);
        return false;
    }
    return true;
}

/* Output I of N is X sliced from B with step ST to the ONNX shape OD (per
 * logical dim), in X's layout: one IR slice, or X itself when nothing is
 * cut. */
static bool slice_to(Imp *imp, const Onnx__NodeProto *n, size_t i, OTensor *x, const int64_t *b, const int64_t *st,
                     const int64_t *od)
{
    OTensor *out = onnx_define_out(imp, n, i, x->type, x->rank, od);
    if (!out)
        return false;
    bool whole = true;
    for (int d = 0; d < x->rank; d++)
        whole &= b[d] == 0 && st[d] == 1 && od[d] == x->dims[d];
    if (whole) {
        onnx_alias(out, x);
        return true;
    }
    if (!per_tensor(imp, x))
        return false;
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    if (!v)
        return false;
    out->quant = x->quant;
    return onnx_finish(imp, out, emit_slice(imp, v, nhwc, b, st, od, onnx_name(imp, out->name, NULL)), nhwc);
}

/* Split (ONNX Split-1..18): one slice per output, sizes from
 * onnx_split_sizes; a known input is split by eval_split (onnx_shape.c). */
bool import_split(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int ax;
    int64_t *sizes = arena_alloc(&imp->arena, (n->n_output ? n->n_output : 1) * sizeof *sizes);
    if (!onnx_split_sizes(imp, n, x, &ax, sizes))
        return false;
    int64_t b[QNN_MAX_RANK] = {0}, st[QNN_MAX_RANK], od[QNN_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        st[d] = 1, od[d] = x->dims[d];
    for (size_t i = 0; i < n->n_output; i++) {
        od[ax] = sizes[i];
        if (n->output[i] && *n->output[i] && !slice_to(imp, n, i, x, b, st, od))
            return false;
        b[ax] += sizes[i];
    }
    return true;
}

/* Gather of run-time data with indices known at import time (known data
 * is eval_gather's): the indices are cut into runs of equal stride, each
 * one slice along the axis (a stride of 0 repeats an index), concatenated
 * when there are several.  The result's shape is x[:axis] + indices.shape
 * + x[axis+1:] (ONNX Gather): with 1-D indices that is x's rank and
 * element order, so the gather stays in x's layout; otherwise a reshape
 * follows. */
/* Gather with indices known only at run time (an embedding lookup: a
 * constant table, token ids as a graph input): one IR gather, in ONNX
 * layout.  The indices must be int32: the IR has no int64 tensors; an
 * int64 graph input (what torch exports) was narrowed to int32 when the
 * inputs were read (onnx_load.c), and other int64 indices are only taken
 * when known at import time.  Out-of-range indices read zeros
 * (docs/ir-semantics.md). */
static bool import_gather_runtime(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *it)
{
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x->rank, &ax) || !per_tensor(imp, x))
        return false;
    DType idt;
    if (!onnx_dtype(it->type, &idt) || idt != DT_I32) {
        onnx_node_error(imp, "run-time indices '%s' must be int32 (int64 indices only when known at import time)",
                        it->name);
        return false;
    }
    int r = x->rank - 1 + it->rank;
    if (r > QNN_MAX_RANK) {
        onnx_node_error(imp, "result rank %d exceeds the maximum of %d", r, QNN_MAX_RANK);
        return false;
    }
    if (x->dims[ax] < 1) {
        onnx_node_error(imp, "gathers from an empty dimension %d", ax);
        return false;
    }
    int64_t od[QNN_MAX_RANK];
    int k = 0;
    for (int d = 0; d < ax; d++)
        od[k++] = x->dims[d];
    for (int d = 0; d < it->rank; d++)
        od[k++] = it->dims[d];
    for (int d = ax + 1; d < x->rank; d++)
        od[k++] = x->dims[d];
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    out->quant = x->quant;
    Value *ops[2] = {onnx_val(imp, x), onnx_val(imp, it)};
    if (!ops[0] || !ops[1])
        return false;
    TensorType t = ops[0]->type;
    t.rank = r;
    memcpy(t.dims, od, sizeof od);
    Node *nd = onnx_emit(imp, OP_GATHER, ops, 2, onnx_name(imp, out->name, NULL), t);
    node_set_int(imp->g, nd, ATTR_AXIS, ax);
    return onnx_finish(imp, out, nd->result, false);
}

bool import_gather(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[QNN_MAX_RANK], *idx;
    int ax, r;
    OTensor *it = onnx_in(imp, n, 1);
    if (it && !it->c)
        return import_gather_runtime(imp, n, x, it);
    if (!onnx_gather_params(imp, n, x, &ax, &idx, od, &r) || !per_tensor(imp, x))
        return false;
    int64_t cnt = onnx_in(imp, n, 1)->c->numel;
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    out->quant = x->quant;
    bool same_rank = r == x->rank, nhwc = false;
    Value *v = same_rank ? onnx_any_val(imp, x, &nhwc) : onnx_val(imp, x);
    if (!v)
        return false;
    /* Run k covers indices [run[k], run[k+1]). */
    int64_t *run = arena_alloc(&imp->arena, (size_t)(cnt + 1) * sizeof *run), nruns = 0;
    for (int64_t j = 0; j < cnt;) {
        int64_t e = j + 1;
        while (e < cnt && (e == j + 1 || idx[e] - idx[e - 1] == idx[j + 1] - idx[j]))
            e++;
        run[nruns++] = j;
        j = e;
    }
    run[nruns] = cnt;
    Value **parts = arena_alloc(&imp->arena, (size_t)nruns * sizeof *parts);
    int64_t b[QNN_MAX_RANK] = {0}, st[QNN_MAX_RANK], pd[QNN_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        st[d] = 1, pd[d] = x->dims[d];
    for (int64_t k = 0; k < nruns; k++) {
        int64_t j = run[k], len = run[k + 1] - j;
        b[ax] = idx[j];
        st[ax] = len > 1 ? idx[j + 1] - idx[j] : 1;
        pd[ax] = len;
        parts[k] = emit_slice(imp, v, nhwc, b, st, pd,
                              onnx_name(imp, out->name, nruns > 1 ? ".run" : same_rank ? NULL : ".g"));
    }
    Value *g = parts[0];
    int pax = nhwc ? onnx_nhwc_pos[ax] : ax;
    if (nruns > 1) {
        TensorType t = v->type;
        t.dims[pax] = cnt;
        Node *nd = onnx_emit(imp, OP_CONCAT, parts, (int)nruns, onnx_name(imp, out->name, same_rank ? NULL : ".g"),
                             t);
        node_set_int(imp->g, nd, ATTR_AXIS, pax);
        g = nd->result;
    }
    if (!same_rank)
        g = onnx_emit_reshape(imp, g, r, od, onnx_name(imp, out->name, NULL));
    return onnx_finish(imp, out, g, nhwc);
}

/* Output 0 of N is X broadcast to the ONNX shape OD of rank R >= X's rank
 * (numpy rules, leading 1s added): each dim of size 1 that grows is one
 * step of 0.  In X's layout when the rank stays. */
static bool broadcast_to(Imp *imp, const Onnx__NodeProto *n, OTensor *x, int r, const int64_t *od)
{
    if (!per_tensor(imp, x))
        return false;
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    out->quant = x->quant;
    int64_t xd[QNN_MAX_RANK], b[QNN_MAX_RANK] = {0}, st[QNN_MAX_RANK];
    for (int d = 0; d < r; d++) {
        xd[d] = d < r - x->rank ? 1 : x->dims[d - (r - x->rank)];
        st[d] = xd[d] == od[d] ? 1 : 0;
    }
    bool nhwc = false;
    Value *v;
    if (r == x->rank) {
        v = onnx_any_val(imp, x, &nhwc);
    } else {
        OTensor *xv = onnx_view(imp, x, r, xd, ".r");
        v = xv ? onnx_val(imp, xv) : NULL;
    }
    if (!v)
        return false;
    return onnx_finish(imp, out, emit_slice(imp, v, nhwc, b, st, od, onnx_name(imp, out->name, NULL)), nhwc);
}

/* Expand (opset 8): X broadcast with the constant 'shape' input, numpy's
 * rules in both directions (a 1 in 'shape' keeps X's dim). */
bool import_expand(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[QNN_MAX_RANK];
    int r;
    return onnx_expand_shape(imp, n, x, od, &r) && broadcast_to(imp, n, x, r, od);
}

/* Tile (opset 6 on: repeats as input 1): output dim d is x.dims[d] *
 * repeats[d], X repeated whole.  A dim of size 1 is a step of 0.  A dim of
 * size > 1 gets a new dim of size 1 in front of it, broadcast to the
 * repeat count (a step of 0) and merged back by a reshape; when those new
 * dims would pass the IR's maximum rank, the dims are tiled in several
 * passes. */
bool import_tile(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int rank = x->rank;
    int64_t od[QNN_MAX_RANK], rep[QNN_MAX_RANK];
    if (!onnx_tile_repeats(imp, n, x, rep, od))
        return false;
    bool insert = false;
    for (int d = 0; d < rank; d++)
        insert |= rep[d] > 1 && x->dims[d] > 1;
    if (!insert)
        return broadcast_to(imp, n, x, rank, od);
    if (rank == QNN_MAX_RANK) {
        onnx_node_error(imp, "tiling a dim of size > 1 of a rank-%d tensor is not supported", rank);
        return false;
    }
    if (!per_tensor(imp, x))
        return false;
    OTensor *out = onnx_define_out(imp, n, 0, x->type, rank, od);
    if (!out)
        return false;
    out->quant = x->quant;
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    int64_t cd[QNN_MAX_RANK]; /* the dims tiled so far */
    memcpy(cd, x->dims, sizeof cd);
    for (bool more = true; more;) {
        /* One pass: every pending dim that fits in the free ranks. */
        int64_t xd[QNN_MAX_RANK], bd[QNN_MAX_RANK], b[QNN_MAX_RANK] = {0}, st[QNN_MAX_RANK];
        int r = 0, free_ranks = QNN_MAX_RANK - rank;
        for (int d = 0; d < rank; d++) {
            int64_t k = rep[d];
            if (k > 1 && cd[d] > 1) {
                if (free_ranks == 0) {
                    xd[r] = cd[d], st[r] = 1, bd[r++] = cd[d]; /* the next pass */
                    continue;
                }
                free_ranks--;
                xd[r] = 1, st[r] = 0, bd[r++] = k;
                xd[r] = cd[d], st[r] = 1, bd[r++] = cd[d];
            } else {
                xd[r] = cd[d], st[r] = k > 1 ? 0 : 1, bd[r++] = k > 1 ? k : cd[d];
            }
            cd[d] *= k;
            rep[d] = 1;
        }
        more = false;
        for (int d = 0; d < rank; d++)
            more |= rep[d] > 1;
        v = onnx_emit_reshape(imp, v, r, xd, onnx_name(imp, out->name, ".r"));
        v = emit_slice(imp, v, false, b, st, bd, onnx_name(imp, out->name, ".b"));
        v = onnx_emit_reshape(imp, v, rank, cd, onnx_name(imp, out->name, more ? ".t" : NULL));
    }
    return onnx_finish(imp, out, v, false);
}

/* Reshape-like ops keep ONNX's element order, so they read the tensor in
 * ONNX layout (an NHWC tensor is transposed back first). */
static bool reshape_to(Imp *imp, const Onnx__NodeProto *n, OTensor *x, int r, const int64_t *od)
{
    OTensor *out = onnx_define_out(imp, n, 0, x->type, r, od);
    if (!out)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    Value *v = onnx_val(imp, x);
    if (!v)
        return false;
    return onnx_finish(imp, out, onnx_emit_reshape(imp, v, r, od, onnx_name(imp, out->name, NULL)), false);
}

bool import_flatten(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[2];
    return onnx_shape_flatten(imp, x->dims, x->rank, onnx_attr_int(n, "axis", 1), od) && reshape_to(imp, n, x, 2, od);
}

bool import_reshape(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *s = onnx_in(imp, n, 1);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (imp->opset < 5) {
        int64_t sh[QNN_MAX_RANK + 1];
        int k = onnx_attr_ints(n, "shape", sh, QNN_MAX_RANK + 1);
        if (k < 0 || k > QNN_MAX_RANK) {
            onnx_node_error(imp, "the 'shape' attribute is missing or too long");
            return false;
        }
        CTensor c = {.type = OT_INT64, .rank = 1, .dims = {k}, .numel = k, .i = sh};
        if (!onnx_shape_reshape(imp, x->dims, x->rank, &c, false, od, &r))
            return false;
    } else {
        if (!s || !s->c) {
            onnx_node_error(imp, "the target shape '%s' must be known at import time (a constant or a shape "
                            "computation on static shapes)", s ? s->name : "");
            return false;
        }
        if (!onnx_shape_reshape(imp, x->dims, x->rank, s->c, onnx_attr_int(n, "allowzero", 0) != 0, od, &r))
            return false;
    }
    return reshape_to(imp, n, x, r, od);
}

bool import_squeeze(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t axes[QNN_MAX_RANK + 1], od[QNN_MAX_RANK];
    int na, r;
    return onnx_axes(imp, n, axes, &na) && onnx_shape_squeeze(imp, x->dims, x->rank, axes, na, od, &r) &&
           reshape_to(imp, n, x, r, od);
}

bool import_unsqueeze(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t axes[QNN_MAX_RANK + 1], od[QNN_MAX_RANK];
    int na, r;
    return onnx_axes(imp, n, axes, &na) && onnx_shape_unsqueeze(imp, x->dims, x->rank, axes, na, od, &r) &&
           reshape_to(imp, n, x, r, od);
}

bool import_transpose(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t p[QNN_MAX_RANK + 1];
    int k = onnx_attr_ints(n, "perm", p, QNN_MAX_RANK + 1);
    if (k < 0) {
        k = x->rank;
        for (int i = 0; i < k; i++)
            p[i] = k - 1 - i; /* default: reverse the dimensions */
    }
    bool seen[QNN_MAX_RANK] = {false};
    if (k != x->rank) {
        onnx_node_error(imp, "perm has %d entries but the input has rank %d", k, x->rank);
        return false;
    }
    for (int i = 0; i < k; i++) {
        if (p[i] < 0 || p[i] >= k || seen[p[i]]) {
            onnx_node_error(imp, "perm is not a permutation");
            return false;
        }
        seen[p[i]] = true;
    }
    int64_t od[QNN_MAX_RANK] = {0};
    for (int i = 0; i < k; i++)
        od[i] = x->dims[p[i]];
    OTensor *out = onnx_define_out(imp, n, 0, x->type, k, od);
    if (!out)
        return false;
    bool nhwc = onnx_is_nhwc(x);
    int64_t q[QNN_MAX_RANK];
    bool ident = true;
    for (int i = 0; i < k; i++) {
        /* Logical dim j of an NHWC tensor is physical dim onnx_nhwc_pos[j]. */
        q[i] = nhwc ? onnx_nhwc_pos[p[i]] : p[i];
        ident &= q[i] == i;
    }
    Value *v = nhwc ? x->vt : onnx_val(imp, x);
    if (!v)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    if (ident) {
        /* Typically Transpose(0,2,3,1) after a convolution: the NHWC value
         * already is the result. */
        out->v = onnx_fix_q(imp, v);
        return true;
    }
    return onnx_finish(imp, out, onnx_emit_transpose(imp, v, q, onnx_name(imp, out->name, NULL)), false);
}

/* Pad-18's axes input: PADS (NP entries, begins then ends) covers only the
 * listed axes; spread it to every axis of RANK, the others unpadded. */
static bool pad_axes(Imp *imp, const OTensor *a, int rank, int64_t *pads, int *np)
{
    if (!a->c || onnx_type_is_float(a->c->type) || a->c->numel > rank) {
        onnx_node_error(imp, "the axes input must be an integer constant of at most %d entries", rank);
        return false;
    }
    int na = (int)a->c->numel;
    if (*np != 2 * na) {
        onnx_node_error(imp, "pads has %d entries but must have 2 * %d for the %d axes", *np, na, na);
        return false;
    }
    int64_t full[2 * QNN_MAX_RANK] = {0};
    bool seen[QNN_MAX_RANK] = {false};
    for (int i = 0; i < na; i++) {
        int ax;
        if (!onnx_norm_axis(imp, a->c->i[i], rank, &ax))
            return false;
        if (seen[ax]) {
            onnx_node_error(imp, "axis %lld appears twice", (long long)a->c->i[i]);
            return false;
        }
        seen[ax] = true;
        full[ax] = pads[i];
        full[ax + rank] = pads[i + na];
    }
    memcpy(pads, full, 2 * (size_t)rank * sizeof *pads);
    *np = 2 * rank;
    return true;
}

/* Pad (constant mode): pads [x1_begin, x2_begin, ..., x1_end, x2_end] from
 * the attribute (opset < 11; 'paddings' in Pad-1) or input 1, the value
 * from the attribute or input 2, the axes they cover from input 3 (opset
 * 18; every axis without it).  Pad-19's 'wrap' mode is refused like 'edge'
 * and 'reflect'. */
bool import_pad(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    const char *mode = onnx_attr_str(imp, n, "mode", "constant");
    if (strcmp(mode, "constant") != 0) {
        onnx_node_error(imp, "pad mode '%s' is not supported (only 'constant')", mode);
        return false;
    }
    int64_t pads[2 * QNN_MAX_RANK + 1];
    int np;
    float value = 0.0f;
    if (imp->opset < 11) {
        np = onnx_attr_ints(n, "pads", pads, 2 * QNN_MAX_RANK + 1);
        if (np < 0)
            np = onnx_attr_ints(n, "paddings", pads, 2 * QNN_MAX_RANK + 1);
        value = onnx_attr_float(n, "value", 0.0f);
    } else {
        OTensor *p = onnx_in(imp, n, 1), *c = onnx_in(imp, n, 2);
        if (!p || !p->c || onnx_type_is_float(p->c->type) || p->c->numel > 2 * QNN_MAX_RANK) {
            onnx_node_error(imp, "the pads input must be an integer constant");
            return false;
        }
        np = (int)p->c->numel;
        for (int i = 0; i < np; i++)
            pads[i] = p->c->i[i];
        OTensor *a = imp->opset >= 18 ? onnx_in(imp, n, 3) : NULL;
        if (a && !pad_axes(imp, a, x->rank, pads, &np))
            return false;
        if (c) {
            if (!c->c || c->c->numel != 1) {
                onnx_node_error(imp, "the constant_value input must be a constant scalar");
                return false;
            }
            value = (float)ctensor_f(c->c, 0);
        }
    }
    if (np != 2 * x->rank) {
        onnx_node_error(imp, "pads has %d entries but must have 2 * rank = %d", np, 2 * x->rank);
        return false;
    }
    int64_t od[QNN_MAX_RANK] = {0};
    bool zero = true;
    for (int i = 0; i < x->rank; i++) {
        if (pads[i] < 0 || pads[i + x->rank] < 0) {
            onnx_node_error(imp, "negative pads (cropping) are not supported");
            return false;
        }
        if (pads[i] > INT32_MAX || pads[i + x->rank] > INT32_MAX) {
            onnx_node_error(imp, "pads are too large");
            return false;
        }
        od[i] = x->dims[i] + pads[i] + pads[i + x->rank];
        zero &= pads[i] == 0 && pads[i + x->rank] == 0;
    }
    OTensor *out = onnx_define_out(imp, n, 0, x->type, x->rank, od);
    if (!out)
        return false;
    if (zero && !imp->fq) {
        onnx_alias(out, x);
        return true;
    }
    bool nhwc;
    Value *v = onnx_any_val(imp, x, &nhwc);
    if (!v)
        return false;
    int64_t pp[2 * QNN_MAX_RANK];
    TensorType t = v->type;
    for (int i = 0; i < x->rank; i++) {
        int j = nhwc ? (int)onnx_perm_to_nhwc[i] : i; /* physical i is logical j */
        pp[i] = pads[j];
        pp[i + x->rank] = pads[j + x->rank];
        t.dims[i] = od[j];
    }
    if (!imp->fq)
        out->quant = x->quant;
    Node *nd = onnx_emit(imp, OP_PAD, &v, 1, onnx_name(imp, out->name, NULL), t);
    node_set_ints(imp->g, nd, ATTR_PADS, pp, 2 * x->rank);
    if (value != 0.0f)
        node_set_float(imp->g, nd, ATTR_VALUE, value);
    return onnx_finish(imp, out, nd->result, nhwc);
}

/* DepthToSpace and SpaceToDepth move blocks of B x B pixels to channels
 * and back.  In NHWC each is a reshape to rank 6, a transpose and a
 * reshape, with the channel order of the ONNX spec's NCHW formulation:
 *   DepthToSpace DCR (the default; the only mode before opset 11): input
 *     channel (b1*B + b2)*C' + c goes to pixel (h*B + b1, w*B + b2),
 *     channel c;
 *   DepthToSpace CRD: input channel c*B*B + b1*B + b2 goes there;
 *   SpaceToDepth: pixel (h*B + b1, w*B + b2), channel c goes to output
 *     channel (b1*B + b2)*C + c (DCR's inverse). */
static bool block_move(Imp *imp, const Onnx__NodeProto *n, bool to_space)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t bs = onnx_attr_int(n, "blocksize", 0);
    if (x->rank != 4) {
        onnx_node_error(imp, "the input must be 4-D, got rank %d", x->rank);
        return false;
    }
    if (bs < 1 || bs > INT32_MAX) {
        onnx_node_error(imp, "blocksize must be positive");
        return false;
    }
    bool crd = false;
    if (to_space && imp->opset >= 11) {
        const char *mode = onnx_attr_str(imp, n, "mode", "DCR");
        crd = strcmp(mode, "CRD") == 0;
        if (!crd && strcmp(mode, "DCR") != 0) {
            onnx_node_error(imp, "mode '%s' is neither DCR nor CRD", mode);
            return false;
        }
    }
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], od[4];
    if (to_space ? C % (bs * bs) != 0 : H % bs != 0 || W % bs != 0) {
        onnx_node_error(imp, to_space ? "channels (%lld) are not a multiple of blocksize^2 (%lld)"
                                      : "height and width (%lld) are not multiples of blocksize (%lld)",
                        (long long)(to_space ? C : H % bs ? H : W), (long long)(to_space ? bs * bs : bs));
        return false;
    }
    if (to_space) {
        od[0] = N, od[1] = C / (bs * bs), od[2] = H * bs, od[3] = W * bs;
    } else {
        od[0] = N, od[1] = C * bs * bs, od[2] = H / bs, od[3] = W / bs;
    }
    OTensor *out = onnx_define_out(imp, n, 0, x->type, 4, od);
    if (!out)
        return false;
    Value *v = onnx_val_nhwc(imp, x);
    if (!v)
        return false;
    int64_t d6[6], perm[6], d4[4] = {N, od[2], od[3], od[1]};
    if (to_space) {
        int64_t c1 = od[1];
        int64_t dcr[6] = {N, H, W, bs, bs, c1}, crd6[6] = {N, H, W, c1, bs, bs};
        int64_t pdcr[6] = {0, 1, 3, 2, 4, 5}, pcrd[6] = {0, 1, 4, 2, 5, 3};
        memcpy(d6, crd ? crd6 : dcr, sizeof d6);
        memcpy(perm, crd ? pcrd : pdcr, sizeof perm);
    } else {
        int64_t s6[6] = {N, H / bs, bs, W / bs, bs, C}, p[6] = {0, 1, 3, 2, 4, 5};
        memcpy(d6, s6, sizeof d6);
        memcpy(perm, p, sizeof perm);
    }
    out->quant = x->quant;
    v = onnx_emit_reshape(imp, v, 6, d6, onnx_name(imp, out->name, ".blocks"));
    v = onnx_emit_transpose(imp, v, perm, onnx_name(imp, out->name, ".moved"));
    return onnx_finish(imp, out, onnx_emit_reshape(imp, v, 4, d4, onnx_name(imp, out->name, NULL)), true);
}

bool import_depth_to_space(Imp *imp, const Onnx__NodeProto *n) { return block_move(imp, n, true); }
bool import_space_to_depth(Imp *imp, const Onnx__NodeProto *n) { return block_move(imp, n, false); }

/* Slice of a run-time tensor (one known at import time is eval_slice's):
 * the bounds must be constants. */
bool import_slice(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t b[QNN_MAX_RANK], st[QNN_MAX_RANK], od[QNN_MAX_RANK];
    return onnx_slice_bounds(imp, n, x, b, st, od) && slice_to(imp, n, 0, x, b, st, od);
}

/* ------------------------------------------------------------ Resize, Upsample */

/* The index of NAME in NAMES (NULL-terminated), or -1. */
static int name_index(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* A float list input (Resize's scales, Upsample-9's scales): COUNT values
 * into OUT.  *COUNT = 0 when absent or empty. */
static bool resize_floats(Imp *imp, OTensor *t, const char *what, double *out, int *count)
{
    *count = 0;
    if (!t)
        return true;
    if (!t->c || t->c->rank != 1) {
        onnx_node_error(imp, "the %s input must be a 1-D constant", what);
        return false;
    }
    if (t->c->numel > QNN_MAX_RANK) {
        onnx_node_error(imp, "the %s input has %lld entries", what, (long long)t->c->numel);
        return false;
    }
    for (int64_t i = 0; i < t->c->numel; i++)
        out[i] = onnx_type_is_float(t->c->type) ? ctensor_f(t->c, i) : (double)ctensor_i(t->c, i);
    *count = (int)t->c->numel;
    return true;
}

/* The shared part of Resize and Upsample: X (rank 4, NCHW) scaled by
 * SCALES[4] (float32 values, NULL when the size comes from SIZES[4]) to
 * one IR resize in NHWC.  docs/ir-semantics.md, "resize". */
static bool emit_resize(Imp *imp, const Onnx__NodeProto *n, OTensor *x, const double *scales, const int64_t *sizes,
                        int interp, int coord, int nearest)
{
    int64_t od[4];
    float sc[2] = {1, 1};
    for (int i = 0; i < 4; i++) {
        if (scales) {
            /* ONNX Resize: output_dimension = floor(input_dimension * scale). */
            float s = (float)scales[i];
            if (!(s > 0) || !isfinite(s)) {
                onnx_node_error(imp, "scales[%d] is %g; scales must be positive and finite", i, scales[i]);
                return false;
            }
            double d = floor((double)x->dims[i] * (double)s);
            if (d < 1 || d > (double)INT32_MAX) {
                onnx_node_error(imp, "scales[%d] = %g gives an output dimension of %.0f", i, (double)s, d);
                return false;
            }
            od[i] = (int64_t)d;
            if (i >= 2)
                sc[i - 2] = s;
            else if (s != 1.0f) {
                onnx_node_error(imp, "only the spatial dims can be resized, but scales[%d] is %g", i, (double)s);
                return false;
            }
        } else {
            od[i] = sizes[i];
            if (od[i] < 1 || od[i] > INT32_MAX) {
                onnx_node_error(imp, "sizes[%d] is %lld", i, (long long)od[i]);
                return false;
            }
            if (i < 2 && od[i] != x->dims[i]) {
                onnx_node_error(imp, "only the spatial dims can be resized, but sizes[%d] is %lld, not %lld", i,
                                (long long)od[i], (long long)x->dims[i]);
                return false;
            }
        }
    }
    OTensor *out = onnx_define_out(imp, n, 0, x->type, 4, od);
    Value *v = out ? onnx_val_nhwc(imp, x) : NULL;
    if (!v)
        return false;
    if (!imp->fq)
        out->quant = x->quant;
    int64_t phys[4] = {od[0], od[2], od[3], od[1]};
    Node *nd = onnx_emit_r(imp, OP_RESIZE, &v, 1, onnx_name(imp, out->name, NULL),
                           onnx_tt(v->type.dtype, 4, phys, v->type.quant));
    if (interp != RESIZE_NEAREST)
        node_set_enum(imp->g, nd, ATTR_INTERP, interp);
    if (coord != COORD_HALF_PIXEL)
        node_set_enum(imp->g, nd, ATTR_COORD, coord);
    if (nearest != NEAREST_ROUND_PREFER_FLOOR && interp == RESIZE_NEAREST)
        node_set_enum(imp->g, nd, ATTR_NEAREST, nearest);
    if (scales)
        node_set_floats(imp->g, nd, ATTR_SCALES, sc, 2);
    return onnx_finish(imp, out, nd->result, true);
}

/* Before opset 11 (Resize-10, Upsample) the transform is asymmetric and
 * nearest rounds as onnxruntime does there: down (truncation) when
 * upsampling, up when downsampling.  One IR node has one rounding, so an
 * axis that shrinks and another that grows are refused. */
static bool legacy_nearest(Imp *imp, const double *scales, int *nearest)
{
    bool down = false, up = false;
    for (int i = 2; i < 4; i++)
        down |= (float)scales[i] < 1.0f, up |= (float)scales[i] > 1.0f;
    if (down && up) {
        onnx_node_error(imp, "nearest resizing that shrinks one axis and grows the other is not supported "
                             "before opset 11");
        return false;
    }
    *nearest = down ? NEAREST_CEIL : NEAREST_FLOOR;
    return true;
}

/* Resize before opset 11 and Upsample: four scales, asymmetric
 * coordinates, and the old nearest rounding. */
static bool emit_legacy_resize(Imp *imp, const Onnx__NodeProto *n, OTensor *x, const double *scales, int ns,
                               int interp)
{
    if (ns != 4) {
        onnx_node_error(imp, "scales has %d entries but the input has rank 4", ns);
        return false;
    }
    int nearest = NEAREST_FLOOR;
    if (interp == RESIZE_NEAREST && !legacy_nearest(imp, scales, &nearest))
        return false;
    return emit_resize(imp, n, x, scales, NULL, interp, COORD_ASYMMETRIC, nearest);
}

static bool resize_mode(Imp *imp, const Onnx__NodeProto *n, int *interp)
{
    static const char *const modes[] = {"nearest", "linear", NULL};
    const char *mode = onnx_attr_str(imp, n, "mode", "nearest");
    if ((*interp = name_index(modes, mode)) < 0) {
        onnx_node_error(imp, "mode '%s' is not supported (only 'nearest' and 'linear')", mode);
        return false;
    }
    return true;
}

static bool resize_input_ok(Imp *imp, const OTensor *x)
{
    if (!onnx_need_float_or_q(imp, x))
        return false;
    if (x->rank != 4) {
        onnx_node_error(imp, "only 4-D (NCHW) inputs are supported, got rank %d", x->rank);
        return false;
    }
    return true;
}

/* ONNX Resize, opsets 10 to 19: inputs X, roi, scales, sizes from opset
 * 11 (X, scales at 10). */
bool import_resize(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int interp;
    if (!resize_input_ok(imp, x) || !resize_mode(imp, n, &interp))
        return false;
    double scales[QNN_MAX_RANK];
    int ns;
    if (imp->opset < 11) {
        if (!resize_floats(imp, onnx_in(imp, n, 1), "scales", scales, &ns))
            return false;
        return emit_legacy_resize(imp, n, x, scales, ns, interp);
    }
    /* Opset 18 and 19 additions: no antialiasing; axes (the axes scales
     * and sizes list, the others unchanged); keep_aspect_ratio_policy (one
     * scale for sizes' axes); half_pixel_symmetric where it is half_pixel. */
    if (onnx_attr_int(n, "antialias", 0) != 0) {
        onnx_node_error(imp, "antialias=1 is not supported");
        return false;
    }
    int64_t axes[4] = {0, 1, 2, 3};
    int na = 4;
    if (onnx_attr(n, "axes")) {
        int64_t a[QNN_MAX_RANK + 1];
        na = onnx_attr_ints(n, "axes", a, QNN_MAX_RANK + 1);
        if (na < 1 || na > 4) {
            onnx_node_error(imp, "axes has %d entries but the input has rank 4", na);
            return false;
        }
        bool seen[4] = {false};
        for (int i = 0; i < na; i++) {
            int ax;
            if (!onnx_norm_axis(imp, a[i], 4, &ax))
                return false;
            if (seen[ax]) {
                onnx_node_error(imp, "axis %lld appears twice", (long long)a[i]);
                return false;
            }
            seen[ax] = true;
            axes[i] = ax;
        }
    }
    static const char *const policies[] = {"stretch", "not_larger", "not_smaller", NULL};
    const char *pname = onnx_attr_str(imp, n, "keep_aspect_ratio_policy", "stretch");
    int policy = name_index(policies, pname);
    if (policy < 0) {
        onnx_node_error(imp, "keep_aspect_ratio_policy '%s' is not one of stretch, not_larger, not_smaller", pname);
        return false;
    }
    static const char *const coords[] = {"half_pixel", "asymmetric", "pytorch_half_pixel", "align_corners",
                                         "tf_half_pixel_for_nn", "half_pixel_symmetric", NULL};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil", NULL};
    const char *cm = onnx_attr_str(imp, n, "coordinate_transformation_mode", "half_pixel");
    const char *nm = onnx_attr_str(imp, n, "nearest_mode", "round_prefer_floor");
    int coord = name_index(coords, cm), nearest = name_index(nearests, nm);
    bool symmetric = coord == 5;
    if (coord < 0 || (symmetric && imp->opset < 19)) {
        onnx_node_error(imp, "coordinate_transformation_mode '%s' is not supported", cm);
        return false;
    }
    if (nearest < 0) {
        onnx_node_error(imp, "nearest_mode '%s' is not supported", nm);
        return false;
    }
    if (symmetric)
        coord = COORD_HALF_PIXEL;
    OTensor *st = onnx_in(imp, n, 2), *zt = onnx_in(imp, n, 3);
    if (!resize_floats(imp, st, "scales", scales, &ns))
        return false;
    if (ns > 0 && zt) {
        onnx_node_error(imp, "only one of scales and sizes may be given");
        return false;
    }
    double full[4] = {1, 1, 1, 1};
    if (ns > 0) {
        if (ns != na) {
            onnx_node_error(imp, "scales has %d entries but the input has rank 4%s", ns,
                            na != 4 ? " and axes lists fewer" : "");
            return false;
        }
        for (int i = 0; i < na; i++)
            full[axes[i]] = scales[i];
        /* half_pixel_symmetric (Resize-19) shifts the source coordinates by
         * (in/2)(1 - out/(in*scale)): nothing when in*scale is whole. */
        for (int d = 2; symmetric && d < 4; d++) {
            double lr = (double)x->dims[d] * (double)(float)full[d];
            if (lr != floor(lr)) {
                onnx_node_error(imp, "half_pixel_symmetric is supported only when input size * scale is a whole "
                                "number, but axis %d gives %g", d, lr);
                return false;
            }
        }
        return emit_resize(imp, n, x, full, NULL, interp, coord, nearest);
    }
    if (!zt) {
        onnx_node_error(imp, "one of scales and sizes must be given");
        return false;
    }
    if (!zt->c || zt->c->rank != 1 || onnx_type_is_float(zt->c->type) || zt->c->numel != na) {
        onnx_node_error(imp, "the sizes input must be a constant list of %d integers", na);
        return false;
    }
    int64_t sizes[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3]};
    for (int i = 0; i < na; i++)
        sizes[axes[i]] = ctensor_i(zt->c, i);
    if (policy == 0)
        return emit_resize(imp, n, x, NULL, sizes, interp, coord, nearest);
    /* ONNX Resize-18: scale = min (not_larger) or max (not_smaller) of
     * sizes[i] / input[i] over the axes; out = round(scale * input), the
     * coordinates transformed with that scale.  The IR's resize takes its
     * size from a scale by floor, so a rounding up is refused. */
    float sc = policy == 1 ? INFINITY : 0;
    for (int i = 0; i < na; i++) {
        int64_t d = axes[i];
        if (sizes[d] < 1 || sizes[d] > INT32_MAX) {
            onnx_node_error(imp, "sizes[%d] is %lld", i, (long long)sizes[d]);
            return false;
        }
        float r = (float)sizes[d] / (float)x->dims[d];
        sc = policy == 1 ? fminf(sc, r) : fmaxf(sc, r);
    }
    for (int i = 0; i < na; i++) {
        int64_t d = axes[i];
        full[d] = sc;
        double want = roundf(sc * (float)x->dims[d]), got = floor((double)x->dims[d] * (double)sc);
        if (want != got) {
            onnx_node_error(imp, "keep_aspect_ratio_policy '%s' rounds axis %lld up to %.0f, which qnnc's resize "
                            "(floor(input * scale)) cannot express", pname, (long long)d, want);
            return false;
        }
    }
    return emit_resize(imp, n, x, full, NULL, interp, coord, nearest);
}

/* ONNX Upsample, opsets 7 (scales attribute) to 9 (scales input):
 * Resize-10's arithmetic. */
bool import_upsample(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int interp;
    if (!resize_input_ok(imp, x) || !resize_mode(imp, n, &interp))
        return false;
    double scales[QNN_MAX_RANK];
    int ns = 0;
    if (imp->opset < 9) {
        const Onnx__AttributeProto *a = onnx_attr(n, "scales");
        if (!a || a->n_floats > QNN_MAX_RANK) {
            onnx_node_error(imp, "the scales attribute is required, one per input dim");
            return false;
        }
        for (size_t i = 0; i < a->n_floats; i++)
            scales[i] = a->floats[i];
        ns = (int)a->n_floats;
    } else if (!resize_floats(imp, onnx_in(imp, n, 1), "scales", scales, &ns)) {
        return false;
    }
    return emit_legacy_resize(imp, n, x, scales, ns, interp);
}

bool import_identity(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_alias(out, x);
    return true;
}

/* Dropout at inference is the identity (ONNX Dropout: "if training_mode
 * is false ... the output Y is the input X").  The mask output and
 * training mode are not supported. */
bool import_dropout(Imp *imp, const Onnx__NodeProto *n)
{
    if (n->n_output > 1 && n->output[1] && *n->output[1]) {
        onnx_node_error(imp, "the mask output of Dropout is not supported");
        return false;
    }
    OTensor *tm = onnx_in(imp, n, 2);
    if (imp->opset < 7 && onnx_attr_int(n, "is_test", 0) == 0) {
        onnx_node_error(imp, "training mode (is_test=0, the default before opset 7) is not supported");
        return false;
    }
    if (tm && (!tm->c || ctensor_i(tm->c, 0) != 0)) {
        onnx_node_error(imp, "training mode is not supported");
        return false;
    }
    return import_identity(imp, n);
}
