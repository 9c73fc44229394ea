/* check_accum.c - prove that no int32 accumulator can overflow.
 *
 * requires:    a verified graph
 * guarantees:  for every integer conv2d, dense and matmul, every output
 *              channel's accumulator bias + sum (x - zx) * (w - zw) stays
 *              inside int32 for EVERY input the input's type (or the
 *              clamp of the node producing it) admits; otherwise reports
 *              an error naming the node, the channel and the bound, and
 *              returns false.  The graph is never changed.
 * invalidates: nothing.
 *
 * The bound is exact for constant weights (the usual case): with the
 * shifted input confined to [xlo, xhi] (the dtype range minus the zero
 * point, narrowed by a producer's folded qmin/qmax, widened to contain 0
 * because padded taps read real 0) each tap k of channel o contributes at
 * most max(d_k*xlo, d_k*xhi) and at least min(d_k*xlo, d_k*xhi), where
 * d_k = w_k - zw[o] is the actual weight.  Summing over the whole
 * reduction window (all KH*KW*C/group taps, or K) and adding the constant
 * bias gives the largest and smallest accumulator any input can produce;
 * both are reached by an input with each tap at the right extreme, so the
 * test rejects nothing that could not really overflow in a window with no
 * padding.  Without constant weights (matmul of two activations) each tap
 * is bounded by the extreme products of the two ranges.
 *
 * Why no splitting: TFLite and ONNX both define the accumulator as one
 * int32 sum.  Cutting the reduction into input-channel groups gives
 * partial sums that fit, but adding them back needs an accumulator at
 * least as wide as the whole sum -- the overflow reappears -- unless each
 * part is requantized on its own, which rounds differently from the model
 * it claims to implement.  So the pass reports instead: for i8 activations
 * the bound needs over 66,000 taps at full weight to fail; for the 16x8
 * scheme (i16 activations) a 3x3x64 window of large weights already can,
 * and the fix is smaller weights, fewer channels per group, or int8.
 */
#include "passes.h"

#include <stdlib.h>

typedef struct Range {
    int64_t lo, hi;
} Range;

/* The shifted input range [dtype min - zp, dtype max - zp], narrowed by
 * the producer's folded clamp, widened to contain 0. */
static Range input_range(const Value *x)
{
    const TensorType *t = &x->type;
    int64_t zp = t->quant ? t->quant->zero_point[0] : 0;
    int64_t qmin = dtype_traits[t->dtype].min, qmax = dtype_traits[t->dtype].max;
    if (x->kind == VAL_NODE) {
        const Attr *a;
        if ((a = node_attr(x->def, ATTR_QMIN)) && a->u.i > qmin)
            qmin = a->u.i;
        if ((a = node_attr(x->def, ATTR_QMAX)) && a->u.i < qmax)
            qmax = a->u.i;
    }
    Range r = {qmin - zp, qmax - zp};
    if (r.lo > 0)
        r.lo = 0;
    if (r.hi < 0)
        r.hi = 0;
    return r;
}

static int64_t ld(const Value *v, int64_t i)
{
    const void *p = v->data;
    switch (v->type.dtype) {
    case DT_I8: return ((const int8_t *)p)[i];
    case DT_U8: return ((const uint8_t *)p)[i];
    case DT_I16: return ((const int16_t *)p)[i];
    case DT_I32: return ((const int32_t *)p)[i];
    default: return 0;
    }
}

static int32_t zp_at(const Quant *q, int64_t c)
{
    return q ? q->zero_point[q->count == 1 ? 0 : c] : 0;
}

/* Adds one tap d * [x.lo, x.hi] to ACC. */
static void add_tap(Range *acc, int64_t d, Range x)
{
    int64_t a = d * x.lo, b = d * x.hi;
    acc->lo += a < b ? a : b;
    acc->hi += a < b ? b : a;
}

/* The range of a product of a value in A and a value in B. */
static Range mul_range(Range a, Range b)
{
    int64_t p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
    Range r = {p[0], p[0]};
    for (int i = 1; i < 4; i++) {
        r.lo = p[i] < r.lo ? p[i] : r.lo;
        r.hi = p[i] > r.hi ? p[i] : r.hi;
    }
    return r;
}

/* Reports channel C of N whose accumulator range R leaves int32. */
static bool report(const Node *n, int64_t c, Range r, Range x)
{
    const TensorType *xt = &n->operands[0]->type;
    int64_t worst = r.hi > INT32_MAX ? r.hi : r.lo;
    diag_error(n->loc,
               "node '%%%s' (%s): cannot prove the int32 accumulator fits: output channel %lld reaches %lld "
               "(accumulator range [%lld, %lld], int32 is [%d, %d]) for inputs %s minus zero point in [%lld, %lld]; "
               "splitting the reduction cannot make an int32 sum fit (docs/passes.md, check-accumulators)",
               n->result->name, op_info[n->op].name, (long long)c, (long long)worst, (long long)r.lo,
               (long long)r.hi, INT32_MIN, INT32_MAX, dtype_traits[xt->dtype].name, (long long)x.lo,
               (long long)x.hi);
    return false;
}

static bool fits(Range r)
{
    return r.lo >= INT32_MIN && r.hi <= INT32_MAX;
}

/* conv2d and dense: weights [O, ...taps] with the reduction contiguous per
 * output channel; bias [O]. */
static bool check_conv_like(const Node *n)
{
    const Value *x = n->operands[0], *w = n->operands[1];
    const Value *b = n->num_operands > 2 ? n->operands[2] : NULL;
    Range xr = input_range(x);
    int64_t O = w->type.dims[0], taps = type_numel(&w->type) / O;
    Range wr = {dtype_traits[w->type.dtype].min, dtype_traits[w->type.dtype].max};
    for (int64_t o = 0; o < O; o++) {
        Range acc = {0, 0};
        int32_t zw = zp_at(w->type.quant, o);
        if (w->kind == VAL_CONST) {
            for (int64_t k = 0; k < taps; k++)
                add_tap(&acc, ld(w, o * taps + k) - zw, xr);
        } else {
            Range t = mul_range((Range){wr.lo - zw, wr.hi - zw}, xr);
            acc.lo = t.lo * taps;  /* |t| < 2^25, taps < 2^31: no overflow */
            acc.hi = t.hi * taps;
        }
        if (b && b->kind == VAL_CONST) {
            acc.lo += ld(b, o);
            acc.hi += ld(b, o);
        } else if (b) {
            acc.lo += INT32_MIN;
            acc.hi += INT32_MAX;
        }
        if (!fits(acc))
            return report(n, o, acc, xr);
    }
    return true;
}

/* matmul a[..., M, K] x b[..., K, N]: column j of each batch slice of b
 * reduces over K. */
static bool check_matmul(const Node *n)
{
    const Value *a = n->operands[0], *b = n->operands[1];
    const TensorType *bt = &b->type;
    int64_t K = bt->dims[bt->rank - 2], N = bt->dims[bt->rank - 1];
    int64_t slices = type_numel(bt) / (K * N);
    Range xr = input_range(a);
    Range br = input_range(b);
    for (int64_t t = 0; t < slices; t++)
        for (int64_t j = 0; j < N; j++) {
            Range acc = {0, 0};
            int32_t zb = zp_at(bt->quant, j);
            if (b->kind == VAL_CONST) {
                for (int64_t k = 0; k < K; k++)
                    add_tap(&acc, ld(b, (t * K + k) * N + j) - zb, xr);
            } else {
                Range p = mul_range(br, xr);
                acc.lo = p.lo * K;
                acc.hi = p.hi * K;
            }
            if (!fits(acc))
                return report(n, j, acc, xr);
        }
    return true;
}

bool check_accumulators(Graph *g, const PassContext *ctx)
{
    (void)ctx;
    bool ok = true;
    for (int i = 0; i < g->nodes.len; i++) {
        const Node *n = g->nodes.data[i];
        if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL)
            continue;
        if (n->operands[0]->type.dtype == DT_F32)
            continue;
        ok &= n->op == OP_MATMUL ? check_matmul(n) : check_conv_like(n);
    }
    return ok;
}
