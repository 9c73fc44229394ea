/* requant.c - what a node's scales imply for its folded requantization.
 *
 * The arithmetic is the interpreter's (docs/ir-semantics.md, "The
 * requantizing output stage" and "add, sub, mul"); this file only writes
 * its constants down once per node:
 *   - rounding=tflite: TFLite QuantizeMultiplier (fp_quantize_multiplier)
 *     of the same double multipliers the interpreter builds;
 *   - rounding=onnx: the exact binary decomposition of the double
 *     multiplier, M = mult * 2^(shift - 53) with mult its 53-bit
 *     significand, so nothing is rounded by folding;
 *   - qmin/qmax: act_range_quantized, the output clamp in the quantized
 *     domain with the zero point included.
 */
#include "requant.h"

#include "interp.h"

#include <stdarg.h>
#include <stdlib.h>

static bool fail(char *err, size_t len, const char *fmt, ...) QNN_PRINTF(3, 4);
static bool fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return false;
}

double requant_onnx_real(int64_t mult, int64_t shift)
{
    return ldexp((double)mult, (int)(shift - REQUANT_ONNX_BITS));
}

/* Multiplier M as (mult, shift) in the node's rounding mode. */
static bool split(double m, int rounding, int64_t *mult, int64_t *shift, char *err, size_t len)
{
    if (rounding == ROUND_TFLITE) {
        int32_t q;
        int e;
        if (!fp_quantize_multiplier(m, &q, &e))
            return fail(err, len, "multiplier %g cannot be represented as a TFLite fixed-point multiplier", m);
        *mult = q;
        *shift = e;
        return true;
    }
    if (!(m > 0) || !isfinite(m))
        return fail(err, len, "multiplier %g is not a positive finite number", m);
    /* frexp is exact: m = q * 2^e, q in [0.5, 1) with at most 53
     * significant bits, so q * 2^53 is an integer in [2^52, 2^53). */
    int e;
    double q = frexp(m, &e);
    *mult = (int64_t)ldexp(q, REQUANT_ONNX_BITS);
    *shift = e;
    return true;
}

static void alloc(Requant *r, int count)
{
    r->count = count;
    r->mult = xcalloc((size_t)(count > 0 ? count : 1), sizeof *r->mult);
    r->shift = xcalloc((size_t)(count > 0 ? count : 1), sizeof *r->shift);
}

static bool quantized_act(const TensorType *t)
{
    return (t->dtype == DT_I8 || t->dtype == DT_U8 || t->dtype == DT_I16) && t->quant;
}

bool requant_implied(const Node *n, Requant *r, char *err, size_t len)
{
    *r = (Requant){0};
    const TensorType *yt = &n->result->type;
    int rounding = node_rounding(n);
    const char *op = op_info[n->op].name;
    switch (n->op) {
    case OP_CONV2D:
    case OP_DENSE:
    case OP_MATMUL: {
        const TensorType *xt = &n->operands[0]->type, *wt = &n->operands[1]->type;
        if (!quantized_act(yt) || !quant_is_per_tensor(yt->quant))
            return fail(err, len, "%s has no requantizing output stage (its result is %s)", op,
                        yt->dtype == DT_F32 ? "float" : "not a per-tensor quantized activation");
        if (!xt->quant || !quant_is_per_tensor(xt->quant) || !wt->quant)
            return fail(err, len, "%s operands are not quantized", op);
        const Quant *wq = wt->quant;
        alloc(r, wq->count);
        for (int c = 0; c < wq->count; c++) {
            /* The interpreter's M: (double)sx * (double)sw[c] / (double)sy. */
            double m = (double)xt->quant->scale[0] * (double)wq->scale[c] / (double)yt->quant->scale[0];
            if (!split(m, rounding, &r->mult[c], &r->shift[c], err, len)) {
                requant_free(r);
                return false;
            }
        }
        act_range_quantized(n, yt, 0, rounding, &r->qmin, &r->qmax);
        return true;
    }
    case OP_ADD:
    case OP_SUB:
    case OP_MUL: {
        const TensorType *at = &n->operands[0]->type, *bt = &n->operands[1]->type;
        if (!quantized_act(yt) || !at->quant || !bt->quant || !quant_is_per_tensor(yt->quant) ||
            !quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant))
            return fail(err, len, "%s is not a per-tensor quantized %s", op, op);
        QParam ap = qparam_chan(at->quant, 0), bp = qparam_chan(bt->quant, 0), yp = qparam_chan(yt->quant, 0);
        if (rounding == ROUND_TFLITE && n->op == OP_MUL) {
            alloc(r, 1);
            double m = (double)ap.scale * (double)bp.scale / (double)yp.scale;
            if (!split(m, rounding, &r->mult[0], &r->shift[0], err, len)) {
                requant_free(r);
                return false;
            }
        } else if (rounding == ROUND_TFLITE) {
            TfliteAdd t;
            if (!tflite_add_prepare(ap, bp, yp, &t))
                return fail(err, len, "%s scales give multipliers TFLite cannot represent", op);
            alloc(r, 3);
            r->mult[0] = t.ma, r->mult[1] = t.mb, r->mult[2] = t.mo;
            r->shift[0] = t.sha, r->shift[1] = t.shb, r->shift[2] = t.sho;
        }
        /* rounding=onnx: QLinearAdd/QLinearMul compute in double on
         * dequantized values; no single multiplier describes that, so
         * only the clamp is folded (count stays 0). */
        act_range_quantized(n, yt, 0, rounding, &r->qmin, &r->qmax);
        return true;
    }
    case OP_REQUANTIZE: {
        const TensorType *xt = &n->operands[0]->type;
        const Quant *xq = xt->quant, *yq = yt->quant;
        if (!xq || !yq)
            return fail(err, len, "requantize operands are not quantized");
        int nch = !quant_is_per_tensor(xq) ? xq->count : !quant_is_per_tensor(yq) ? yq->count : 1;
        alloc(r, nch);
        for (int c = 0; c < nch; c++) {
            QParam xp = qparam_chan(xq, quant_is_per_tensor(xq) ? 0 : c);
            QParam yp = qparam_chan(yq, quant_is_per_tensor(yq) ? 0 : c);
            double m = (double)xp.scale / (double)yp.scale;
            if (!split(m, rounding, &r->mult[c], &r->shift[c], err, len)) {
                requant_free(r);
                return false;
            }
        }
        /* requantize has no fused activation: the clamp is the dtype. */
        r->qmin = dtype_traits[yt->dtype].min;
        r->qmax = dtype_traits[yt->dtype].max;
        return true;
    }
    default:
        return fail(err, len, "%s does not requantize through a folded multiplier", op);
    }
}

void requant_free(Requant *r)
{
    free(r->mult);
    free(r->shift);
    r->mult = r->shift = NULL;
    r->count = 0;
}
