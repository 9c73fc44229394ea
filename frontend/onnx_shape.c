/* onnx_shape.c - shape rules and import-time evaluation.
 *
 * Exporters (PyTorch, Paddle) compute the target of a Reshape with a small
 * subgraph: Shape -> Gather -> Unsqueeze -> Concat, with Cast, Slice,
 * ConstantOfShape and integer arithmetic mixed in.  Once the input shapes
 * are fixed all of it is known, so it is evaluated here, on CTensors, and
 * never reaches the IR.  The same folding applies to any node whose inputs
 * are all import-time tensors (a Transpose of an initializer, say), as long
 * as the op is one listed below.
 *
 * Integer arithmetic is int64 with overflow checks; Div truncates toward
 * zero (ONNX leaves integer Div rounding unspecified; onnxruntime
 * truncates).  Float arithmetic is done in float32 when the tensor is
 * FLOAT, as ONNX's reference does, so folding is bit-exact with run time.
 */
#include "onnx_internal.h"

#include <math.h>
#include <string.h>

void onnx_set_const(OTensor *out, CTensor *c)
{
    out->c = c;
    out->type = c->type;
    out->rank = c->rank;
    memcpy(out->dims, c->dims, sizeof out->dims);
}

/* ---------------------------------------------------------------- shape rules */

bool onnx_norm_axis(Imp *imp, int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank) {
        onnx_node_error(imp, "axis %lld is out of range for rank %d", (long long)axis, rank);
        return false;
    }
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

/* ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 is
 * inferred from the element count; at most one -1. */
bool onnx_shape_reshape(Imp *imp, const int64_t *in, int rin, const CTensor *shape, bool allowzero, int64_t *out,
                   int *rout)
{
    if (shape->rank != 1 || onnx_type_is_float(shape->type)) {
        onnx_node_error(imp, "the shape input must be a 1-D integer tensor");
        return false;
    }
    if (shape->numel > QNN_MAX_RANK) {
        onnx_node_error(imp, "target rank %lld exceeds the maximum of %d", (long long)shape->numel, QNN_MAX_RANK);
        return false;
    }
    int r = (int)shape->numel, infer = -1;
    int64_t total = onnx_numel(in, rin), known = 1;
    for (int i = 0; i < r; i++) {
        int64_t d = shape->i[i];
        if (d == 0 && !allowzero) {
            if (i >= rin) {
                onnx_node_error(imp, "shape entry %d is 0 but the input has only %d dimensions", i, rin);
                return false;
            }
            d = in[i];
        }
        if (d == -1) {
            if (infer >= 0) {
                onnx_node_error(imp, "the shape has more than one -1");
                return false;
            }
            infer = i;
            out[i] = 1;
            continue;
        }
        if (d < 0) {
            onnx_node_error(imp, "shape entry %d is %lld", i, (long long)d);
            return false;
        }
        out[i] = d;
        if (d && known > INT64_MAX / d) {
            onnx_node_error(imp, "the target shape's element count overflows");
            return false;
        }
        known *= d;
    }
    if (infer >= 0) {
        if (known == 0 || total % known) {
            onnx_node_error(imp, "cannot infer the -1 dimension: %lld elements do not divide by %lld",
                       (long long)total, (long long)known);
            return false;
        }
        out[infer] = total / known;
        known = total;
    }
    if (known != total) {
        onnx_node_error(imp, "cannot reshape %lld elements into %lld", (long long)total, (long long)known);
        return false;
    }
    *rout = r;
    return true;
}

bool onnx_shape_flatten(Imp *imp, const int64_t *in, int rin, int64_t axis, int64_t *out)
{
    if (axis < -rin || axis > rin) {
        onnx_node_error(imp, "axis %lld is out of range for rank %d", (long long)axis, rin);
        return false;
    }
    int a = (int)(axis < 0 ? axis + rin : axis);
    out[0] = onnx_numel(in, a);
    out[1] = onnx_numel(in + a, rin - a);
    return true;
}

bool onnx_axes(Imp *imp, const Onnx__NodeProto *n, int64_t *axes, int *naxes)
{
    *naxes = -1;
    if (imp->opset < 13) {
        int k = onnx_attr_ints(n, "axes", axes, QNN_MAX_RANK + 1);
        if (k > QNN_MAX_RANK) {
            onnx_node_error(imp, "too many axes");
            return false;
        }
        *naxes = k;
        return true;
    }
    OTensor *a = onnx_in(imp, n, 1);
    if (!a)
        return true;
    if (!a->c) {
        onnx_node_error(imp, "the axes input '%s' must be a constant (initializer); it is computed at run time",
                   a->name);
        return false;
    }
    if (a->c->numel > QNN_MAX_RANK || onnx_type_is_float(a->c->type)) {
        onnx_node_error(imp, "the axes input must hold at most %d integers", QNN_MAX_RANK);
        return false;
    }
    for (int64_t i = 0; i < a->c->numel; i++)
        axes[i] = a->c->i[i];
    *naxes = (int)a->c->numel;
    return true;
}

bool onnx_shape_squeeze(Imp *imp, const int64_t *in, int rin, const int64_t *axes, int naxes, int64_t *out,
                   int *rout)
{
    bool drop[QNN_MAX_RANK] = {false};
    if (naxes < 0) {
        for (int i = 0; i < rin; i++)
            drop[i] = in[i] == 1;
    } else {
        for (int i = 0; i < naxes; i++) {
            int a;
            if (!onnx_norm_axis(imp, axes[i], rin, &a))
                return false;
            if (in[a] != 1) {
                onnx_node_error(imp, "cannot squeeze axis %d of size %lld", a, (long long)in[a]);
                return false;
            }
            drop[a] = true;
        }
    }
    int r = 0;
    for (int i = 0; i < rin; i++)
        if (!drop[i])
            out[r++] = in[i];
    *rout = r;
    return true;
}

bool onnx_shape_unsqueeze(Imp *imp, const int64_t *in, int rin, const int64_t *axes, int naxes, int64_t *out,
                     int *rout)
{
    if (naxes < 0) {
        onnx_node_error(imp, "the axes are required");
        return false;
    }
    int r = rin + naxes;
    if (r > QNN_MAX_RANK) {
        onnx_node_error(imp, "the result rank %d exceeds the maximum of %d", r, QNN_MAX_RANK);
        return false;
    }
    bool ins[QNN_MAX_RANK] = {false};
    for (int i = 0; i < naxes; i++) {
        int a;
        if (!onnx_norm_axis(imp, axes[i], r, &a))
            return false;
        if (ins[a]) {
            onnx_node_error(imp, "axis %d is given twice", a);
            return false;
        }
        ins[a] = true;
    }
    for (int i = 0, j = 0; i < r; i++)
        out[i] = ins[i] ? 1 : in[j++];
    *rout = r;
    return true;
}

/* numpy broadcasting of A's and B's shapes (ONNX "multidirectional"). */
bool onnx_shape_broadcast(Imp *imp, const OTensor *a, const OTensor *b, int64_t *out, int *rout)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int64_t da = i < r - a->rank ? 1 : a->dims[i - (r - a->rank)];
        int64_t db = i < r - b->rank ? 1 : b->dims[i - (r - b->rank)];
        if (da != db && da != 1 && db != 1) {
            onnx_node_error(imp, "shapes of '%s' and '%s' do not broadcast", a->name, b->name);
            return false;
        }
        out[i] = da == 1 ? db : da;
    }
    *rout = r;
    return true;
}

/* Add, Sub, Mul and Div before opset 7 broadcast only with broadcast=1,
 * aligning B's dimensions with A's starting at `axis` (default: B's
 * trailing dimensions, which is numpy's rule).  Another axis is refused:
 * numpy broadcasting, which qnnc does, would align them differently. */
bool onnx_legacy_broadcast_ok(Imp *imp, const Onnx__NodeProto *n, const OTensor *a, const OTensor *b)
{
    if (imp->opset >= 7 || !onnx_attr_int(n, "broadcast", 0) || !onnx_attr(n, "axis"))
        return true;
    int64_t axis = onnx_attr_int(n, "axis", 0);
    if (axis < 0)
        axis += a->rank;
    if (axis == a->rank - b->rank)
        return true;
    onnx_node_error(imp, "broadcasting along axis %lld (opset %lld's broadcast=1) is not supported; only the "
                         "trailing axes", (long long)onnx_attr_int(n, "axis", 0), (long long)imp->opset);
    return false;
}

/* ---------------------------------------------------------------- folding */

/* A tensor computed at import time; NULL after an error when it would be
 * too big (a ConstantOfShape or a broadcast can ask for billions of
 * elements from a few bytes of model). */
static CTensor *new_like(Imp *imp, int32_t type, int rank, const int64_t *dims)
{
    int64_t n = onnx_numel(dims, rank);
    if (n < 0 || n > (INT64_C(1) << 31)) {
        onnx_node_error(imp, "element count overflows");
        return NULL;
    }
    if (!onnx_reserve(imp, n * (int64_t)sizeof(double)))
        return NULL;
    return ctensor_new(&imp->arena, type, rank, dims);
}

/* Element offsets into A for each element of the broadcast shape OUT. */
static int64_t bcast_index(const CTensor *a, const int64_t *odims, int orank, int64_t flat)
{
    int64_t off = 0, stride = 1;
    for (int d = orank - 1; d >= 0; d--) {
        int64_t idx = flat % odims[d];
        flat /= odims[d];
        int ad = d - (orank - a->rank);
        if (ad >= 0) {
            if (a->dims[ad] != 1)
                off += idx * stride;
            stride *= a->dims[ad];
        }
    }
    return off;
}

static bool fold_arith(Imp *imp, const Onnx__NodeProto *n, OTensor *x, OTensor *y)
{
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_legacy_broadcast_ok(imp, n, x, y) || !onnx_shape_broadcast(imp, x, y, od, &r))
        return false;
    if (x->c->type != y->c->type) {
        onnx_node_error(imp, "operands have different element types %s and %s", onnx_type_name(x->c->type),
                   onnx_type_name(y->c->type));
        return false;
    }
    char op = n->op_type[0]; /* A, S, M, D */
    CTensor *c = new_like(imp, x->c->type, r, od);
    if (!c)
        return false;
    for (int64_t k = 0; k < c->numel; k++) {
        int64_t ia = bcast_index(x->c, od, r, k), ib = bcast_index(y->c, od, r, k);
        if (c->f) {
            double a = x->c->f[ia], b = y->c->f[ib], v;
            if (c->type == OT_FLOAT) {
                float fa = (float)a, fb = (float)b;
                v = op == 'A' ? fa + fb : op == 'S' ? fa - fb : op == 'M' ? fa * fb : fa / fb;
            } else {
                v = op == 'A' ? a + b : op == 'S' ? a - b : op == 'M' ? a * b : a / b;
            }
            c->f[k] = v;
        } else {
            int64_t a = x->c->i[ia], b = y->c->i[ib], v;
            bool ovf = false;
            switch (op) {
            case 'A': ovf = __builtin_add_overflow(a, b, &v); break;
            case 'S': ovf = __builtin_sub_overflow(a, b, &v); break;
            case 'M': ovf = __builtin_mul_overflow(a, b, &v); break;
            default:
                if (b == 0 || (a == INT64_MIN && b == -1)) {
                    onnx_node_error(imp, "integer division by zero or overflow at import time");
                    return false;
                }
                v = a / b;
            }
            if (ovf) {
                onnx_node_error(imp, "integer overflow at import time");
                return false;
            }
            c->i[k] = v;
        }
    }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

/* A copy of C with new dims (same elements). */
static CTensor *reshaped(Imp *imp, const CTensor *c, int rank, const int64_t *dims)
{
    CTensor *r = arena_memdup(&imp->arena, c, sizeof *c);
    r->rank = rank;
    memset(r->dims, 0, sizeof r->dims);
    if (rank)
        memcpy(r->dims, dims, (size_t)rank * sizeof *dims);
    return r;
}

static void copy_elem(CTensor *dst, int64_t di, const CTensor *src, int64_t si)
{
    if (dst->f)
        dst->f[di] = ctensor_f(src, si);
    else
        dst->i[di] = ctensor_i(src, si);
}

static bool fold_concat(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x0 = onnx_in(imp, n, 0);
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x0->rank, &ax))
        return false;
    int64_t od[QNN_MAX_RANK];
    if (onnx_concat_dims(imp, n, x0, ax, od, true) < 0)
        return false;
    CTensor *c = new_like(imp, x0->c->type, x0->rank, od);
    if (!c)
        return false;
    int64_t outer = onnx_numel(od, ax), inner = onnx_numel(od + ax + 1, x0->rank - ax - 1);
    int64_t pos = 0;
    for (int64_t o = 0; o < outer; o++)
        for (size_t i = 0; i < n->n_input; i++) {
            OTensor *t = onnx_in(imp, n, i);
            int64_t chunk = t->dims[ax] * inner;
            for (int64_t e = 0; e < chunk; e++)
                copy_elem(c, pos++, t->c, o * chunk + e);
        }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

static bool fold_transpose(Imp *imp, const Onnx__NodeProto *n, OTensor *x)
{
    int64_t perm[QNN_MAX_RANK];
    int k = onnx_attr_ints(n, "perm", perm, QNN_MAX_RANK);
    if (k < 0) {
        k = x->rank;
        for (int i = 0; i < k; i++)
            perm[i] = k - 1 - i;
    }
    if (k != x->rank) {
        onnx_node_error(imp, "perm has %d entries but the input has rank %d", k, x->rank);
        return false;
    }
    int64_t od[QNN_MAX_RANK], istr[QNN_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--)
        istr[d] = s, s *= x->dims[d];
    for (int d = 0; d < k; d++)
        od[d] = x->dims[perm[d]];
    CTensor *c = new_like(imp, x->c->type, k, od);
    if (!c)
        return false;
    for (int64_t e = 0; e < c->numel; e++) {
        int64_t f = e, off = 0;
        for (int d = k - 1; d >= 0; d--) {
            off += (f % od[d]) * istr[perm[d]];
            f /= od[d];
        }
        copy_elem(c, e, x->c, off);
    }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

static bool check_perm(Imp *imp, const Onnx__NodeProto *n, int rank)
{
    int64_t perm[QNN_MAX_RANK + 1];
    int k = onnx_attr_ints(n, "perm", perm, QNN_MAX_RANK);
    if (k < 0)
        return true;
    bool seen[QNN_MAX_RANK] = {false};
    if (k != rank) {
        onnx_node_error(imp, "perm has %d entries but the input has rank %d", k, rank);
        return false;
    }
    for (int i = 0; i < k; i++) {
        if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]]) {
            onnx_node_error(imp, "perm is not a permutation of 0..%d", rank - 1);
            return false;
        }
        seen[perm[i]] = true;
    }
    return true;
}

/* ONNX Shape-15: start/end select a slice of the shape. */
bool import_shape(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t r = x->rank, start = onnx_attr_int(n, "start", 0), end = onnx_attr_int(n, "end", r);
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : start > r ? r : start;
    end = end < 0 ? 0 : end > r ? r : end;
    int64_t len = end > start ? end - start : 0;
    CTensor *c = new_like(imp, OT_INT64, 1, &len);
    if (!c)
        return false;
    for (int64_t i = 0; i < len; i++)
        c->i[i] = x->dims[start + i];
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

bool onnx_gather_params(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int *ax, int64_t **idx,
                        int64_t *od, int *r)
{
    OTensor *it = onnx_in(imp, n, 1);
    if (!it->c) {
        onnx_node_error(imp, "the indices '%s' must be known at import time (a constant or a shape computation)",
                        it->name);
        return false;
    }
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x->rank, ax))
        return false;
    if (onnx_type_is_float(it->c->type)) {
        onnx_node_error(imp, "indices must be integers");
        return false;
    }
    *r = x->rank - 1 + it->rank;
    if (*r > QNN_MAX_RANK) {
        onnx_node_error(imp, "result rank %d exceeds the maximum of %d", *r, QNN_MAX_RANK);
        return false;
    }
    int k = 0;
    for (int d = 0; d < *ax; d++)
        od[k++] = x->dims[d];
    for (int d = 0; d < it->rank; d++)
        od[k++] = it->dims[d];
    for (int d = *ax + 1; d < x->rank; d++)
        od[k++] = x->dims[d];
    int64_t dim = x->dims[*ax];
    *idx = arena_alloc(&imp->arena, (size_t)(it->c->numel ? it->c->numel : 1) * sizeof **idx);
    for (int64_t j = 0; j < it->c->numel; j++) {
        int64_t i = it->c->i[j];
        if (i < -dim || i >= dim) {
            onnx_node_error(imp, "index %lld is out of range for a dimension of size %lld", (long long)i,
                            (long long)dim);
            return false;
        }
        (*idx)[j] = i < 0 ? i + dim : i;
    }
    return true;
}

/* Gather of a tensor known at import time; a run-time one is
 * import_gather's (onnx_layout.c). */
int eval_gather(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[QNN_MAX_RANK], *idx;
    int ax, r;
    if (!onnx_gather_params(imp, n, x, &ax, &idx, od, &r))
        return -1;
    CTensor *c = new_like(imp, x->c->type, r, od);
    if (!c)
        return -1;
    int64_t cnt = onnx_in(imp, n, 1)->c->numel;
    int64_t outer = onnx_numel(x->dims, ax), inner = onnx_numel(x->dims + ax + 1, x->rank - ax - 1);
    int64_t dim = x->dims[ax], pos = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < cnt; j++)
            for (int64_t e = 0; e < inner; e++)
                copy_elem(c, pos++, x->c, (o * dim + idx[j]) * inner + e);
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, c);
    return 1;
}

/* An optional 1-D integer input of Slice; *k = -1 when absent. */
static bool slice_param(Imp *imp, const Onnx__NodeProto *n, size_t i, int64_t *v, int *k)
{
    OTensor *t = onnx_in(imp, n, i);
    *k = -1;
    if (!t)
        return true;
    if (!t->c || onnx_type_is_float(t->c->type) || t->c->numel > QNN_MAX_RANK) {
        onnx_node_error(imp, "input '%s' must be a small integer constant", t->name);
        return false;
    }
    for (int64_t j = 0; j < t->c->numel; j++)
        v[j] = t->c->i[j];
    *k = (int)t->c->numel;
    return true;
}

bool onnx_slice_bounds(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *b, int64_t *st,
                       int64_t *od)
{
    int64_t starts[QNN_MAX_RANK], ends[QNN_MAX_RANK], axes[QNN_MAX_RANK], steps[QNN_MAX_RANK];
    int ns, ne, na, nst;
    if (imp->opset < 10) {
        ns = onnx_attr_ints(n, "starts", starts, QNN_MAX_RANK);
        ne = onnx_attr_ints(n, "ends", ends, QNN_MAX_RANK);
        na = onnx_attr_ints(n, "axes", axes, QNN_MAX_RANK);
        nst = -1;
    } else if (!slice_param(imp, n, 1, starts, &ns) || !slice_param(imp, n, 2, ends, &ne) ||
               !slice_param(imp, n, 3, axes, &na) || !slice_param(imp, n, 4, steps, &nst)) {
        return false;
    }
    if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns) || ns > x->rank) {
        onnx_node_error(imp, "starts, ends, axes and steps must have equal lengths");
        return false;
    }
    for (int d = 0; d < x->rank; d++)
        b[d] = 0, st[d] = 1, od[d] = x->dims[d];
    bool seen[QNN_MAX_RANK] = {false};
    for (int i = 0; i < ns; i++) {
        int a;
        if (!onnx_norm_axis(imp, na >= 0 ? axes[i] : i, x->rank, &a))
            return false;
        /* ONNX Slice: "Behavior is undefined if an axis is repeated." */
        if (seen[a]) {
            onnx_node_error(imp, "axis %lld appears twice", (long long)axes[i]);
            return false;
        }
        seen[a] = true;
        int64_t dim = x->dims[a], s = nst >= 0 ? steps[i] : 1, lo = starts[i], hi = ends[i];
        if (s == 0) {
            onnx_node_error(imp, "slice step is 0");
            return false;
        }
        /* A step longer than the dim reads one element either way; bounding
         * it keeps the arithmetic below from overflowing. */
        if (s > dim + 1)
            s = dim + 1;
        if (s < -(dim + 1))
            s = -(dim + 1);
        /* ONNX Slice: negative indices count from the end, then clamp to
         * [0, dim] for positive steps and [-1, dim-1] for negative. */
        if (lo < 0)
            lo += dim;
        if (hi < 0)
            hi += dim;
        if (s > 0) {
            lo = lo < 0 ? 0 : lo > dim ? dim : lo;
            hi = hi < 0 ? 0 : hi > dim ? dim : hi;
            od[a] = hi > lo ? (hi - lo + s - 1) / s : 0;
        } else {
            lo = lo < 0 ? -1 : lo > dim - 1 ? dim - 1 : lo;
            hi = hi < -1 ? -1 : hi > dim - 1 ? dim - 1 : hi;
            od[a] = lo > hi ? (lo - hi + (-s) - 1) / (-s) : 0;
        }
        b[a] = lo;
        st[a] = od[a] > 1 ? s : 1;
    }
    return true;
}

bool onnx_expand_shape(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *od, int *r)
{
    OTensor *s = onnx_in(imp, n, 1);
    if (!s->c || onnx_type_is_float(s->c->type) || s->c->rank != 1) {
        onnx_node_error(imp, "the shape input '%s' must be a 1-D integer constant", s->name);
        return false;
    }
    if (s->c->numel > QNN_MAX_RANK) {
        onnx_node_error(imp, "the shape has %lld entries; at most %d are supported", (long long)s->c->numel,
                        QNN_MAX_RANK);
        return false;
    }
    for (int64_t d = 0; d < s->c->numel; d++)
        if (s->c->i[d] < 0) {
            onnx_node_error(imp, "shape[%lld] is %lld; it must not be negative", (long long)d,
                            (long long)s->c->i[d]);
            return false;
        }
    OTensor *sh = onnx_temp(imp, s->name, OT_INT64, (int)s->c->numel, s->c->i);
    return onnx_shape_broadcast(imp, x, sh, od, r);
}

bool onnx_tile_repeats(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int64_t *rep, int64_t *od)
{
    OTensor *rp = onnx_in(imp, n, 1);
    if (!rp->c || onnx_type_is_float(rp->c->type) || rp->c->rank != 1 || rp->c->numel != x->rank) {
        onnx_node_error(imp, "repeats must be a 1-D integer constant with one entry per input dim (%d)", x->rank);
        return false;
    }
    for (int d = 0; d < x->rank; d++) {
        rep[d] = rp->c->i[d];
        if (rep[d] < 1 || rep[d] > INT32_MAX) {
            onnx_node_error(imp, "repeats[%d] is %lld; it must be positive", d, (long long)rep[d]);
            return false;
        }
        od[d] = x->dims[d] * rep[d]; /* both < 2^31: no overflow; the result's size is checked after */
    }
    return true;
}

/* Expand and Tile of tensors known at import time (run-time ones are
 * import_expand's and import_tile's, onnx_layout.c): numpy broadcasting,
 * and output index i reading input index i mod x.dims per dim. */
int eval_expand(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (!onnx_expand_shape(imp, n, x, od, &r))
        return -1;
    CTensor *c = new_like(imp, x->c->type, r, od);
    if (!c)
        return -1;
    for (int64_t k = 0; k < c->numel; k++)
        copy_elem(c, k, x->c, bcast_index(x->c, od, r, k));
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, c);
    return 1;
}

int eval_tile(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[QNN_MAX_RANK], rep[QNN_MAX_RANK];
    if (!onnx_tile_repeats(imp, n, x, rep, od))
        return -1;
    CTensor *c = new_like(imp, x->c->type, x->rank, od);
    if (!c)
        return -1;
    for (int64_t k = 0; k < c->numel; k++) {
        int64_t f = k, off = 0, stride = 1;
        for (int d = x->rank - 1; d >= 0; d--) {
            off += (f % od[d]) % x->dims[d] * stride;
            f /= od[d];
            stride *= x->dims[d];
        }
        copy_elem(c, k, x->c, off);
    }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, c);
    return 1;
}

/* Split (ONNX Split-1..18): the sizes from the 'split' attribute (input 1
 * from opset 13, and optionally in Split-1), else from num_outputs (opset
 * 18: parts of ceil(size / num_outputs), the last one smaller), else equal
 * parts, which must divide the axis. */
bool onnx_split_sizes(Imp *imp, const Onnx__NodeProto *n, const OTensor *x, int *axp, int64_t *sizes)
{
    OTensor *s = onnx_in(imp, n, 1);
    int ax;
    if (!onnx_norm_axis(imp, onnx_attr_int(n, "axis", 0), x->rank, &ax))
        return false;
    size_t nout = n->n_output;
    int64_t ns = -1;
    if (imp->opset >= 13 && onnx_attr(n, "split")) {
        onnx_node_error(imp, "the split attribute is an input from opset 13 on");
        return false;
    }
    if (imp->opset < 13 && onnx_attr(n, "split")) {
        const Onnx__AttributeProto *a = onnx_attr(n, "split");
        ns = (int64_t)a->n_ints;
        for (size_t i = 0; i < a->n_ints && i < nout; i++)
            sizes[i] = a->ints[i];
    } else if (s && (imp->opset >= 13 || imp->opset == 1)) {
        if (!s->c || onnx_type_is_float(s->c->type)) {
            onnx_node_error(imp, "the split input must be an integer constant");
            return false;
        }
        ns = s->c->numel;
        for (int64_t i = 0; i < ns && i < (int64_t)nout; i++)
            sizes[i] = s->c->i[i];
    }
    int64_t dim = x->dims[ax];
    if (imp->opset >= 18 && onnx_attr(n, "num_outputs")) {
        int64_t k = onnx_attr_int(n, "num_outputs", 0);
        if (ns >= 0) {
            onnx_node_error(imp, "the split input and num_outputs are both given");
            return false;
        }
        if (k != (int64_t)nout) {
            onnx_node_error(imp, "num_outputs is %lld but the node has %zu outputs", (long long)k, nout);
            return false;
        }
        int64_t part = (dim + k - 1) / k;
        if (part * (k - 1) >= dim) {
            onnx_node_error(imp, "axis %d of size %lld does not split into %lld parts of %lld and a smaller last one",
                            ax, (long long)dim, (long long)k, (long long)part);
            return false;
        }
        for (int64_t i = 0; i < k; i++)
            sizes[i] = i < k - 1 ? part : dim - part * (k - 1);
        ns = k;
    }
    if (ns < 0) {
        if (dim % (int64_t)nout) {
            onnx_node_error(imp, "axis %d of size %lld does not split into %zu equal parts", ax, (long long)dim,
                            nout);
            return false;
        }
        for (size_t i = 0; i < nout; i++)
            sizes[i] = dim / (int64_t)nout;
    } else {
        if (ns != (int64_t)nout) {
            onnx_node_error(imp, "split has %lld entries but the node has %zu outputs", (long long)ns, nout);
            return false;
        }
        int64_t sum = 0;
        for (size_t i = 0; i < nout; i++) {
            if (sizes[i] < 0 || sizes[i] > dim - sum) {
                onnx_node_error(imp, "split sizes must be non-negative and add up to axis %d's size %lld", ax,
                                (long long)dim);
                return false;
            }
            sum += sizes[i];
        }
        if (sum != dim) {
            onnx_node_error(imp, "split sizes add up to %lld, not axis %d's size %lld", (long long)sum, ax,
                            (long long)dim);
            return false;
        }
    }
    *axp = ax;
    return true;
}

/* X's known elements from B with step ST, OD per dim. */
static CTensor *slice_c(Imp *imp, const OTensor *x, const int64_t *b, const int64_t *st, const int64_t *od)
{
    CTensor *c = new_like(imp, x->c->type, x->rank, od);
    if (!c)
        return NULL;
    int64_t istr[QNN_MAX_RANK], s = 1;
    for (int d = x->rank - 1; d >= 0; d--)
        istr[d] = s, s *= x->dims[d];
    for (int64_t e = 0; e < c->numel; e++) {
        int64_t f = e, off = 0;
        for (int d = x->rank - 1; d >= 0; d--) {
            off += (b[d] + (f % od[d]) * st[d]) * istr[d];
            f /= od[d];
        }
        copy_elem(c, e, x->c, off);
    }
    return c;
}

/* Slice of a tensor known at import time; a run-time one is import_slice's
 * (onnx_layout.c). */
int eval_slice(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t b[QNN_MAX_RANK], st[QNN_MAX_RANK], od[QNN_MAX_RANK];
    if (!onnx_slice_bounds(imp, n, x, b, st, od))
        return -1;
    CTensor *c = slice_c(imp, x, b, st, od);
    OTensor *out = c ? onnx_out(imp, n, 0) : NULL;
    if (!out)
        return -1;
    onnx_set_const(out, c);
    return 1;
}

/* Split of a known tensor (TensorFlow exporters split constant int64 pads
 * this way): each output a slice of it, as import_split's. */
int eval_split(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int ax;
    int64_t *sizes = arena_alloc(&imp->arena, (n->n_output ? n->n_output : 1) * sizeof *sizes);
    if (!onnx_split_sizes(imp, n, x, &ax, sizes))
        return -1;
    int64_t b[QNN_MAX_RANK] = {0}, st[QNN_MAX_RANK], od[QNN_MAX_RANK];
    for (int d = 0; d < x->rank; d++)
        st[d] = 1, od[d] = x->dims[d];
    for (size_t i = 0; i < n->n_output; i++) {
        od[ax] = sizes[i];
        if (n->output[i] && *n->output[i]) {
            CTensor *c = slice_c(imp, x, b, st, od);
            OTensor *out = c ? onnx_out(imp, n, i) : NULL;
            if (!out)
                return -1;
            onnx_set_const(out, c);
        }
        b[ax] += sizes[i];
    }
    return 1;
}

bool onnx_cast_target_ok(Imp *imp, int32_t to)
{
    switch (to) {
    case OT_FLOAT: case OT_DOUBLE: case OT_UINT8: case OT_INT8: case OT_UINT16: case OT_INT16:
    case OT_INT32: case OT_INT64: case OT_BOOL: case OT_UINT32: case OT_UINT64:
        return true;
    default:
        onnx_node_error(imp, "cast to %s is not supported", onnx_type_name(to));
        return false;
    }
}

/* Cast of a tensor known at import time; a run-time one is import_cast's
 * (onnx_elementwise.c). */
int eval_cast(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int32_t to = (int32_t)onnx_attr_int(n, "to", OT_UNDEFINED);
    if (!onnx_cast_target_ok(imp, to))
        return -1;
    CTensor *c = new_like(imp, to, x->rank, x->dims);
    if (!c)
        return -1;
    for (int64_t k = 0; k < c->numel; k++) {
        if (c->f) {
            double v = ctensor_f(x->c, k);
            c->f[k] = to == OT_FLOAT ? (double)(float)v : v;
        } else if (x->c->f) {
            double v = x->c->f[k];
            if (to == OT_BOOL) {
                c->i[k] = v != 0;
                continue;
            }
            if (!isfinite(v) || v >= 9.2e18 || v <= -9.2e18) {
                onnx_node_error(imp, "cannot cast %g to %s", v, onnx_type_name(to));
                return -1;
            }
            c->i[k] = (int64_t)v; /* truncation toward zero */
        } else {
            int64_t v = x->c->i[k];
            switch (to) {
            case OT_BOOL: v = v != 0; break;
            case OT_UINT8: v = (uint8_t)v; break;
            case OT_INT8: v = (int8_t)v; break;
            case OT_UINT16: v = (uint16_t)v; break;
            case OT_INT16: v = (int16_t)v; break;
            case OT_INT32: v = (int32_t)v; break;
            case OT_UINT32: v = (uint32_t)v; break;
            default: break;
            }
            c->i[k] = v;
        }
    }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, c);
    return 1;
}

bool import_constant_of_shape(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *s = onnx_in(imp, n, 0);
    if (!s->c || onnx_type_is_float(s->c->type) || s->rank != 1) {
        onnx_node_error(imp, "the shape input '%s' must be a 1-D integer tensor known at import time", s->name);
        return false;
    }
    if (s->c->numel > QNN_MAX_RANK) {
        onnx_node_error(imp, "rank %lld exceeds the maximum of %d", (long long)s->c->numel, QNN_MAX_RANK);
        return false;
    }
    int64_t dims[QNN_MAX_RANK];
    for (int64_t i = 0; i < s->c->numel; i++)
        dims[i] = s->c->i[i];
    int64_t cnt = onnx_numel(dims, (int)s->c->numel);
    if (cnt < 0 || cnt > (INT64_C(1) << 31)) {
        onnx_node_error(imp, "element count overflows");
        return false;
    }
    CTensor value = {.type = OT_FLOAT, .numel = 1, .f = (double[1]){0}};
    const Onnx__AttributeProto *a = onnx_attr(n, "value");
    if (a && a->t) {
        if (!ctensor_from_proto(&imp->arena, imp->path, imp->dir, a->t, &value)) {
            imp->errors++;
            return false;
        }
        if (value.numel != 1) {
            onnx_node_error(imp, "'value' must hold exactly one element");
            return false;
        }
    }
    CTensor *c = new_like(imp, value.type, (int)s->c->numel, dims);
    if (!c)
        return false;
    for (int64_t k = 0; k < c->numel; k++)
        copy_elem(c, k, &value, 0);
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

/* Constant-13: exactly one of value, value_float(s), value_int(s) (sparse
 * and string values are not supported). */
bool import_constant(Imp *imp, const Onnx__NodeProto *n)
{
    CTensor *c = NULL;
    const Onnx__AttributeProto *a;
    if ((a = onnx_attr(n, "value")) && a->t) {
        c = arena_alloc(&imp->arena, sizeof *c);
        if (!ctensor_from_proto(&imp->arena, imp->path, imp->dir, a->t, c)) {
            imp->errors++;
            return false;
        }
    } else if ((a = onnx_attr(n, "value_float")) && a->has_f) {
        c = new_like(imp, OT_FLOAT, 0, NULL);
        if (!c)
            return false;
        c->f[0] = a->f;
    } else if ((a = onnx_attr(n, "value_floats"))) {
        int64_t len = (int64_t)a->n_floats;
        c = new_like(imp, OT_FLOAT, 1, &len);
        if (!c)
            return false;
        for (int64_t i = 0; i < len; i++)
            c->f[i] = a->floats[i];
    } else if ((a = onnx_attr(n, "value_int")) && a->has_i) {
        c = new_like(imp, OT_INT64, 0, NULL);
        if (!c)
            return false;
        c->i[0] = a->i;
    } else if ((a = onnx_attr(n, "value_ints"))) {
        int64_t len = (int64_t)a->n_ints;
        c = new_like(imp, OT_INT64, 1, &len);
        if (!c)
            return false;
        for (int64_t i = 0; i < len; i++)
            c->i[i] = a->ints[i];
    } else {
        onnx_node_error(imp, "only the value, value_float(s) and value_int(s) forms of Constant are supported");
        return false;
    }
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return false;
    onnx_set_const(out, c);
    return true;
}

/* ---------------------------------------------------------------- dispatch */

static bool all_inputs_const(Imp *imp, const Onnx__NodeProto *n, size_t first)
{
    bool any = false;
    for (size_t i = first; i < n->n_input; i++) {
        OTensor *t = onnx_in(imp, n, i);
        if (!t)
            continue;
        if (!t->c)
            return false;
        any = true;
    }
    return any;
}

/* Reshape-like ops on an import-time tensor: the same elements with the
 * ONNX shape OD. */
static int eval_reshaped(Imp *imp, const Onnx__NodeProto *n, OTensor *x, int r, const int64_t *od)
{
    OTensor *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, reshaped(imp, x->c, r, od));
    return 1;
}

int eval_arith(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *y = onnx_in(imp, n, 1);
    return x && y && fold_arith(imp, n, x, y) ? 1 : -1;
}

int eval_concat(Imp *imp, const Onnx__NodeProto *n) { return fold_concat(imp, n) ? 1 : -1; }

int eval_transpose(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    return check_perm(imp, n, x->rank) && fold_transpose(imp, n, x) ? 1 : -1;
}

/* Identity, and Dropout without a mask output: the input itself. */
int eval_identity(Imp *imp, const Onnx__NodeProto *n)
{
    if (!strcmp(n->op_type, "Dropout") && n->n_output >= 2)
        return 0;
    OTensor *x = onnx_in(imp, n, 0), *out = onnx_out(imp, n, 0);
    if (!out)
        return -1;
    onnx_set_const(out, x->c);
    return 1;
}

int eval_reshape(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0), *s = onnx_in(imp, n, 1);
    int64_t od[QNN_MAX_RANK];
    int r;
    if (imp->opset < 5 || !s)
        return 0;
    if (!onnx_shape_reshape(imp, x->dims, x->rank, s->c, onnx_attr_int(n, "allowzero", 0) != 0, od, &r))
        return -1;
    return eval_reshaped(imp, n, x, r, od);
}

int eval_flatten(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t od[2];
    if (!onnx_shape_flatten(imp, x->dims, x->rank, onnx_attr_int(n, "axis", 1), od))
        return -1;
    return eval_reshaped(imp, n, x, 2, od);
}

/* Squeeze and Unsqueeze. */
int eval_squeeze(Imp *imp, const Onnx__NodeProto *n)
{
    OTensor *x = onnx_in(imp, n, 0);
    int64_t axes[QNN_MAX_RANK + 1], od[QNN_MAX_RANK];
    int na, r;
    if (!onnx_axes(imp, n, axes, &na))
        return -1;
    bool ok = n->op_type[0] == 'S' ? onnx_shape_squeeze(imp, x->dims, x->rank, axes, na, od, &r)
                                   : onnx_shape_unsqueeze(imp, x->dims, x->rank, axes, na, od, &r);
    return ok ? eval_reshaped(imp, n, x, r, od) : -1;
}

/* Shape, ConstantOfShape, Constant: their importers
 * work on import-time tensors themselves. */
int eval_by_import(Imp *imp, const Onnx__NodeProto *n) { return onnx_op_find(n)->import(imp, n) ? 1 : -1; }

int onnx_fold(Imp *imp, const Onnx__NodeProto *n)
{
    const OnnxOp *op = onnx_op_find(n);
    if (!op || !op->eval || !all_inputs_const(imp, n, 0))
        return 0;
    return op->eval(imp, n);
}
