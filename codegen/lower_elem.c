/* lower_elem.c - elementwise ops, activations, (de/re)quantize, softmax,
 * batchnorm and lut, following ir/interp_elem.c operation for operation.
 *
 * Unary ops on i8/u8 inputs become a 256-entry lookup table per channel,
 * computed at compile time BY THE INTERPRETER on every possible input
 * (TFLite does the same for its int8 activations): whatever the oracle
 * computes for x, the table holds, so these ops are bit-exact by
 * construction, folded parameters included.  Wider integer inputs and
 * float tensors get straight-line IR in the interpreter's order.
 */
#include "codegen.h"
#include "kernel_int8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

/* ------------------------------------------------------------ helpers */

/* Channel of flat element I of T for per-axis quantization (0 otherwise). */
static LLVMValueRef chan_of(Cg *cg, const TensorType *t, LLVMValueRef i, int64_t *nch)
{
    if (!t->quant || t->quant->count == 1 || t->quant->axis < 0) {
        *nch = 1;
        return cg_idx(cg, 0);
    }
    int64_t inner = 1;
    for (int d = t->quant->axis + 1; d < t->rank; d++)
        inner *= t->dims[d];
    *nch = t->quant->count;
    LLVMValueRef q = LLVMBuildUDiv(B, i, cg_idx(cg, inner), "");
    return LLVMBuildURem(B, q, cg_idx(cg, t->dims[t->quant->axis]), "chan");
}

/* A per-channel parameter: a constant when NCH == 1, else a table load. */
static LLVMValueRef param_f32(Cg *cg, const float *v, int64_t nch, LLVMValueRef c)
{
    if (nch == 1)
        return cg_f32(cg, v[0]);
    LLVMValueRef tab = cg_rodata(cg, v, (size_t)nch * 4, 4, "scale");
    return cg_load_f32(cg, tab, c);
}

static LLVMValueRef param_i32(Cg *cg, const int32_t *v, int64_t nch, LLVMValueRef c)
{
    if (nch == 1)
        return cg_i32(cg, v[0]);
    return cg_load_int(cg, DT_I32, cg_table_i32(cg, v, nch, "zp"), c);
}

static void quant_arrays(const TensorType *t, float **scale, int32_t **zp, int64_t *nch)
{
    static float one = 1.0f;
    static int32_t zero = 0;
    if (!t->quant) {
        *scale = &one;
        *zp = &zero;
        *nch = 1;
        return;
    }
    *scale = t->quant->scale;
    *zp = t->quant->zero_point;
    *nch = t->quant->count;
}

/* Dequantized float32 value of integer element V (i32) with scale S and
 * zero point Z: (float)(v - z) * s, the difference taken exactly. */
static LLVMValueRef dequant(Cg *cg, LLVMValueRef v, LLVMValueRef z, LLVMValueRef s)
{
    LLVMValueRef d = LLVMBuildSub(B, LLVMBuildSExt(B, v, cg->t_i64, ""), LLVMBuildSExt(B, z, cg->t_i64, ""), "");
    return LLVMBuildFMul(B, LLVMBuildSIToFP(B, d, cg->t_f32, ""), s, "");
}

static LLVMValueRef fclamp(Cg *cg, LLVMValueRef v, float lo, float hi)
{
    /* if (v < lo) v = lo; if (v > hi) v = hi;  (NaN passes through) */
    if (!(isinf(lo) && lo < 0))
        v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, v, cg_f32(cg, lo), ""), cg_f32(cg, lo), v, "");
    if (!(isinf(hi) && hi > 0))
        v = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, v, cg_f32(cg, hi), ""), cg_f32(cg, hi), v, "");
    return v;
}

/* A call of the float32 intrinsic NAME (llvm.sqrt.f32, llvm.fabs.f32):
 * IEEE-exact on every target, never a libm call. */
static LLVMValueRef intrinsic_f32(Cg *cg, const char *name, LLVMValueRef x)
{
    LLVMTypeRef ft = LLVMFunctionType(cg->t_f32, &cg->t_f32, 1, 0);
    LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
    if (!f)
        f = LLVMAddFunction(cg->mod, name, ft);
    return LLVMBuildCall2(B, ft, f, &x, 1, "");
}

/* A call of the two-argument float32 libm function NAME (powf). */
static LLVMValueRef call_f32_2(Cg *cg, const char *name, LLVMValueRef x, LLVMValueRef z)
{
    LLVMTypeRef args[2] = {cg->t_f32, cg->t_f32};
    LLVMTypeRef ft = LLVMFunctionType(cg->t_f32, args, 2, 0);
    LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
    if (!f) {
        f = LLVMAddFunction(cg->mod, name, ft);
        if (cg->target->float_callconv)
            LLVMSetFunctionCallConv(f, cg->target->float_callconv);
    }
    LLVMValueRef xs[2] = {x, z};
    LLVMValueRef call = LLVMBuildCall2(B, ft, f, xs, 2, "");
    if (cg->target->float_callconv)
        LLVMSetInstructionCallConv(call, cg->target->float_callconv);
    return call;
}

/* The float32 function of an OPF_NONLINEAR elementwise op, operation for
 * operation as interp_act_f computes it. */
static LLVMValueRef act_f(Cg *cg, const Node *n, LLVMValueRef x)
{
    LLVMValueRef zero = cg_f32(cg, 0.0f);
    switch (n->op) {
    case OP_LEAKY_RELU: {
        LLVMValueRef neg = LLVMBuildFCmp(B, LLVMRealOLT, x, zero, "");
        LLVMValueRef ax = LLVMBuildFMul(B, cg_f32(cg, interp_act_alpha(n)), x, "");
        return LLVMBuildSelect(B, neg, ax, x, "");
    }
    case OP_EXP:
        return cg_call_f32(cg, "expf", x);
    case OP_LOG:
        return cg_call_f32(cg, "logf", x);
    case OP_SQRT:
        return intrinsic_f32(cg, "llvm.sqrt.f32", x);
    case OP_RECIPROCAL:
        return LLVMBuildFDiv(B, cg_f32(cg, 1.0f), x, "");
    case OP_ERF:
        return cg_call_f32(cg, "erff", x);
    case OP_GELU: {
        if (node_int(n, ATTR_APPROXIMATE, GELU_NONE) == GELU_TANH) {
            /* interp_gelu_tanh: c = (x * x) * x; u = 0.7978846 * (x + 0.044715 * c). */
            LLVMValueRef c = LLVMBuildFMul(B, LLVMBuildFMul(B, x, x, ""), x, "");
            LLVMValueRef s = LLVMBuildFAdd(B, x, LLVMBuildFMul(B, cg_f32(cg, 0.044715f), c, ""), "");
            LLVMValueRef t = cg_call_f32(cg, "tanhf", LLVMBuildFMul(B, cg_f32(cg, 0.7978846f), s, ""));
            LLVMValueRef h = LLVMBuildFMul(B, cg_f32(cg, 0.5f), x, "");
            return LLVMBuildFMul(B, h, LLVMBuildFAdd(B, cg_f32(cg, 1.0f), t, ""), "");
        }
        LLVMValueRef e = cg_call_f32(cg, "erff", LLVMBuildFMul(B, x, cg_f32(cg, 0.70710677f), ""));
        LLVMValueRef h = LLVMBuildFMul(B, cg_f32(cg, 0.5f), x, "");
        return LLVMBuildFMul(B, h, LLVMBuildFAdd(B, cg_f32(cg, 1.0f), e, ""), "");
    }
    case OP_ABS:
        return intrinsic_f32(cg, "llvm.fabs.f32", x);
    case OP_NEG:
        return LLVMBuildFNeg(B, x, "");
    case OP_ELU: {
        LLVMValueRef neg = LLVMBuildFCmp(B, LLVMRealOLT, x, zero, "");
        LLVMValueRef em1 = LLVMBuildFSub(B, cg_call_f32(cg, "expf", x), cg_f32(cg, 1.0f), "");
        LLVMValueRef ax = LLVMBuildFMul(B, cg_f32(cg, interp_act_alpha(n)), em1, "");
        return LLVMBuildSelect(B, neg, ax, x, "");
    }
    case OP_SIGMOID: {
        LLVMValueRef e = cg_call_f32(cg, "expf", LLVMBuildFNeg(B, x, ""));
        return LLVMBuildFDiv(B, cg_f32(cg, 1.0f), LLVMBuildFAdd(B, cg_f32(cg, 1.0f), e, ""), "");
    }
    case OP_TANH:
        return cg_call_f32(cg, "tanhf", x);
    case OP_HARD_SWISH: {
        LLVMValueRef r = LLVMBuildFAdd(B, x, cg_f32(cg, 3.0f), "");
        LLVMValueRef lt = LLVMBuildFCmp(B, LLVMRealOLT, r, zero, "");
        LLVMValueRef gt = LLVMBuildFCmp(B, LLVMRealOGT, r, cg_f32(cg, 6.0f), "");
        r = LLVMBuildSelect(B, lt, zero, LLVMBuildSelect(B, gt, cg_f32(cg, 6.0f), r, ""), "");
        return LLVMBuildFDiv(B, LLVMBuildFMul(B, x, r, ""), cg_f32(cg, 6.0f), "");
    }
    case OP_RELU:
        return LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, zero, ""), zero, x, "");
    case OP_CLIP:
        return fclamp(cg, x, node_float(n, ATTR_MIN, -INFINITY), node_float(n, ATTR_MAX, INFINITY));
    default:
        qnn_unreachable();
    }
}

/* ------------------------------------------------------------ compile-time tables */

/* Runs N's op in the interpreter on every value of its i8/u8 input, per
 * channel, and returns the results as [nch][256] elements of the result
 * dtype (malloc'd), or NULL after reporting. */
static void *eval_table(Cg *cg, const Node *n, int64_t *nch_out)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    const Quant *xq = xt->quant, *yq = yt->quant;
    int axis = -1;
    int64_t C = 1;
    if (xq && xq->count > 1) {
        axis = xq->axis;
        C = xq->count;
    } else if (yq && yq->count > 1) {
        axis = yq->axis;
        C = yq->count;
    }
    (void)axis;
    Graph *tg = graph_new("table");
    TensorType ti = {.dtype = xt->dtype, .rank = 2, .dims = {256, C}};
    TensorType to = {.dtype = yt->dtype, .rank = 2, .dims = {256, C}};
    if (xq)
        ti.quant = quant_new(&tg->arena, xq->count > 1 ? 1 : -1, xq->count, xq->scale, xq->zero_point);
    if (yq)
        to.quant = quant_new(&tg->arena, yq->count > 1 ? 1 : -1, yq->count, yq->scale, yq->zero_point);
    Value *ops[2];
    ops[0] = graph_add_input(tg, "x", ti);
    int nops = 1;
    if (n->op == OP_LUT) {
        ops[1] = graph_add_const(tg, "table", n->operands[1]->type, n->operands[1]->data);
        nops = 2;
    }
    Node *tn = graph_add_node(tg, n->op, ops, nops, n->result->name, to);
    tn->num_attrs = n->num_attrs;
    tn->attrs = n->attrs;
    tn->loc = n->loc;
    graph_add_output(tg, tn->result);
    size_t ysz = (size_t)dtype_traits[yt->dtype].size;
    int8_t *in = xmalloc((size_t)(256 * C));
    char *out = xmalloc((size_t)(256 * C) * ysz);
    int lo = xt->dtype == DT_I8 ? -128 : 0;
    for (int v = 0; v < 256; v++)
        for (int64_t c = 0; c < C; c++)
            in[v * C + c] = (int8_t)(uint8_t)(v + lo);
    const void *ins[1] = {in};
    void *outs[1] = {out};
    int rc = interp_run(tg, ins, outs);
    graph_free(tg);
    free(in);
    if (rc != 0) {
        free(out);
        cg->failed = true;
        return NULL;
    }
    char *table = xmalloc((size_t)(256 * C) * ysz);
    for (int v = 0; v < 256; v++)
        for (int64_t c = 0; c < C; c++)
            memcpy(table + ((size_t)(c * 256 + v)) * ysz, out + ((size_t)(v * C + c)) * ysz, ysz);
    free(out);
    *nch_out = C;
    return table;
}

static bool lower_table(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t nch;
    void *table = eval_table(cg, n, &nch);
    if (!table)
        return false;
    size_t ysz = (size_t)dtype_traits[yt->dtype].size;
    LLVMValueRef tab = cg_rodata(cg, table, (size_t)(256 * nch) * ysz, 16, "lut");
    free(table);
    const TensorType *ct = xt->quant && xt->quant->count > 1 ? xt : yt;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, type_numel(xt), "i");
    int64_t k;
    LLVMValueRef c = chan_of(cg, ct, i, &k);
    LLVMValueRef v = cg_load_int(cg, xt->dtype, x, i);
    if (xt->dtype == DT_I8)
        v = LLVMBuildAdd(B, v, cg_i32(cg, 128), "");
    LLVMValueRef ti = LLVMBuildZExt(B, v, cg->t_idx, "");
    if (nch > 1)
        ti = LLVMBuildAdd(B, ti, LLVMBuildMul(B, c, cg_idx(cg, 256), ""), "");
    LLVMTypeRef et = cg_dtype_type(cg, yt->dtype);
    LLVMValueRef r = LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, tab, &ti, 1, ""), "");
    LLVMBuildStore(B, r, LLVMBuildInBoundsGEP2(B, et, y, &i, 1, ""));
    cg_for_end(cg, &l);
    return true;
}

/* The node's 256-byte table when lower_table would lower it with one
 * table for every channel from an 8-bit input to an 8-bit result:
 * entry v is the result for the input byte v ^ 0x80 (i8) or v (u8), so
 * the index is the byte with its top bit flipped (i8) or as is.  NULL
 * (nothing reported) for every other node. */
uint8_t *cg_byte_table(Cg *cg, const Node *n)
{
    if (n->num_operands < 1)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    bool table_op = n->op == OP_LUT ? n->num_operands == 2 && n->operands[1]->kind == VAL_CONST
                                    : (op_info[n->op].flags & OPF_ELEMENTWISE) && n->num_operands == 1 &&
                                          n->op != OP_QUANTIZE && n->op != OP_CAST && n->op != OP_NOT;
    bool bytes = (xt->dtype == DT_I8 || xt->dtype == DT_U8) && (yt->dtype == DT_I8 || yt->dtype == DT_U8);
    bool one = (!xt->quant || xt->quant->count == 1) && (!yt->quant || yt->quant->count == 1);
    if (!table_op || !bytes || !one)
        return NULL;
    int64_t nch;
    return eval_table(cg, n, &nch);
}

/* ------------------------------------------------------------ unary */

/* Lanes of the (de)quantize vector loop: 16 floats, one AVX-512 register,
 * two AVX2, four SSE2/NEON/MVE ones, LMUL 4 of RVV at VLEN 128. */
enum { QVEC_LANES = 16 };

/* Whether the target has float vectors worth a QVEC_LANES loop (else the
 * lanes would be scalarized: Cortex-M4, RISC-V without V). */
static bool has_float_vectors(Cg *cg)
{
    if (strncmp(cg->target->triple, "riscv", 5) == 0)
        return kern_has(cg, "v");
    if (strncmp(cg->target->triple, "thumb", 5) == 0)
        return kern_has(cg, "mve.fp");
    return cg->target->vector_bytes >= 16;
}

/* f32 -> 8-bit quantize and 8-bit -> f32 dequantize with one scale and
 * zero point: QVEC_LANES elements at a time, then the rest one by one
 * through the same IR on scalars (cg_quantize_f32_small: f32 and i32
 * arithmetic, bit-exact with quantize_real in both rounding modes; the
 * dequantize is the interpreter's (float)(v - zp) * scale, exact in i32).
 * False, emitting nothing, for per-axis parameters or wider integers. */
static bool lower_qdq_vec(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    bool q = n->op == OP_QUANTIZE;
    const TensorType *it = q ? yt : xt, *ft = q ? xt : yt;
    if (ft->dtype != DT_F32 || (it->dtype != DT_I8 && it->dtype != DT_U8) || !quant_is_per_tensor(it->quant))
        return false;
    QParam p = qparam_chan(it->quant, 0);
    int32_t lo = (int32_t)dtype_traits[it->dtype].min, hi = (int32_t)dtype_traits[it->dtype].max;
    if (p.zp < -65536 || p.zp > 65536)
        return false;
    int64_t cnt = type_numel(xt);
    int lanes = has_float_vectors(cg) ? QVEC_LANES : 1;
    int64_t nv = cnt / lanes;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMTypeRef vf = LLVMVectorType(cg->t_f32, QVEC_LANES), vb = LLVMVectorType(cg->t_i8, QVEC_LANES);
    LLVMTypeRef vi = LLVMVectorType(cg->t_i32, QVEC_LANES);
    for (int pass = 0; pass < 2; pass++) {
        int64_t trips = pass == 0 ? (lanes > 1 ? nv : 0) : (lanes > 1 ? cnt % lanes : cnt);
        if (trips == 0)
            continue;
        bool vec = pass == 0;
        CgLoop l;
        LLVMValueRef i = cg_for_begin(cg, &l, trips, vec ? "v" : "i");
        i = vec ? LLVMBuildMul(B, i, cg_idx(cg, QVEC_LANES), "") : LLVMBuildAdd(B, i, cg_idx(cg, cnt - trips), "");
        if (q) {
            LLVMValueRef v;
            if (vec) {
                v = LLVMBuildLoad2(B, vf, LLVMBuildInBoundsGEP2(B, cg->t_f32, x, &i, 1, ""), "");
                LLVMSetAlignment(v, 4);
            } else {
                v = cg_load_f32(cg, x, i);
            }
            LLVMValueRef r = cg_quantize_f32_small(cg, v, p.scale, p.zp, lo, hi, node_rounding(n));
            if (vec) {
                LLVMValueRef st = LLVMBuildStore(B, LLVMBuildTrunc(B, r, vb, ""),
                                                 LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &i, 1, ""));
                LLVMSetAlignment(st, 1);
            } else {
                cg_store_int(cg, yt->dtype, y, i, r);
            }
        } else if (vec) {
            LLVMValueRef v = LLVMBuildLoad2(B, vb, LLVMBuildInBoundsGEP2(B, cg->t_i8, x, &i, 1, ""), "");
            LLVMSetAlignment(v, 1);
            v = xt->dtype == DT_U8 ? LLVMBuildZExt(B, v, vi, "") : LLVMBuildSExt(B, v, vi, "");
            LLVMValueRef zs[QVEC_LANES], ss[QVEC_LANES];
            for (int k = 0; k < QVEC_LANES; k++) {
                zs[k] = cg_i32(cg, p.zp);
                ss[k] = cg_f32(cg, p.scale);
            }
            LLVMValueRef d = LLVMBuildSub(B, v, LLVMConstVector(zs, QVEC_LANES), "");
            LLVMValueRef f = LLVMBuildFMul(B, LLVMBuildSIToFP(B, d, vf, ""), LLVMConstVector(ss, QVEC_LANES), "");
            LLVMValueRef st = LLVMBuildStore(B, f, LLVMBuildInBoundsGEP2(B, cg->t_f32, y, &i, 1, ""));
            LLVMSetAlignment(st, 4);
        } else {
            LLVMValueRef v = cg_load_int(cg, xt->dtype, x, i);
            cg_store_f32(cg, y, i, dequant(cg, v, cg_i32(cg, p.zp), cg_f32(cg, p.scale)));
        }
        cg_for_end(cg, &l);
    }
    return true;
}

bool lower_unary(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    int64_t cnt = type_numel(xt);
    if ((n->op == OP_QUANTIZE || n->op == OP_DEQUANTIZE) && lower_qdq_vec(cg, n))
        return true;
    if ((xt->dtype == DT_I8 || xt->dtype == DT_U8) && n->op != OP_QUANTIZE)
        return lower_table(cg, n);
    if (n->op == OP_LUT) {
        /* A table that is not a constant: y[i] = table[x[i] + 128]. */
        return cg_fail(cg, n, "lut needs an i8 input");
    }
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, cnt, "i");
    if (xt->dtype == DT_F32 && yt->dtype == DT_F32) {
        cg_store_f32(cg, y, i, act_f(cg, n, cg_load_f32(cg, x, i)));
        cg_for_end(cg, &l);
        return true;
    }
    float *xs, *ys;
    int32_t *xz, *yz;
    int64_t xn, yn, k;
    quant_arrays(xt, &xs, &xz, &xn);
    quant_arrays(yt, &ys, &yz, &yn);
    LLVMValueRef cx = chan_of(cg, xt, i, &k), cy = chan_of(cg, yt, i, &k);
    switch (n->op) {
    case OP_QUANTIZE: {
        LLVMValueRef v = cg_load_f32(cg, x, i);
        LLVMValueRef q = cg_quantize_f32(cg, v, param_f32(cg, ys, yn, cy), param_i32(cg, yz, yn, cy),
                                         cg_i32(cg, dtype_traits[yt->dtype].min), cg_i32(cg, dtype_traits[yt->dtype].max),
                                         node_rounding(n));
        cg_store_int(cg, yt->dtype, y, i, q);
        break;
    }
    case OP_DEQUANTIZE: {
        LLVMValueRef v = cg_load_int(cg, xt->dtype, x, i);
        cg_store_f32(cg, y, i, dequant(cg, v, param_i32(cg, xz, xn, cx), param_f32(cg, xs, xn, cx)));
        break;
    }
    case OP_RELU:
    case OP_CLIP: {
        float mn = n->op == OP_RELU ? 0.0f : node_float(n, ATTR_MIN, -INFINITY);
        float mx = n->op == OP_RELU ? INFINITY : node_float(n, ATTR_MAX, INFINITY);
        int64_t dlo = dtype_traits[xt->dtype].min, dhi = dtype_traits[xt->dtype].max;
        int32_t *lo = xmalloc((size_t)xn * 2 * sizeof *lo), *hi = lo + xn;
        for (int64_t c = 0; c < xn; c++) {
            QParam p = qparam_chan(xt->quant, c);
            lo[c] = (int32_t)(isnan(mn) ? dlo : quantize_real(mn, p, ROUND_ONNX, dlo, dhi));
            hi[c] = (int32_t)(isnan(mx) ? dhi : quantize_real(mx, p, ROUND_ONNX, dlo, dhi));
        }
        LLVMValueRef v = cg_load_int(cg, xt->dtype, x, i);
        v = cg_clamp_i32(cg, v, param_i32(cg, lo, xn, cx), param_i32(cg, hi, xn, cx));
        free(lo);
        cg_store_int(cg, yt->dtype, y, i, v);
        break;
    }
    case OP_LEAKY_RELU: case OP_SIGMOID: case OP_TANH: case OP_HARD_SWISH:
    case OP_EXP: case OP_LOG: case OP_SQRT: case OP_RECIPROCAL: case OP_ERF: case OP_GELU:
    case OP_ABS: case OP_NEG: case OP_ELU: {
        LLVMValueRef v = cg_load_int(cg, xt->dtype, x, i);
        LLVMValueRef f = act_f(cg, n, dequant(cg, v, param_i32(cg, xz, xn, cx), param_f32(cg, xs, xn, cx)));
        LLVMValueRef q = cg_quantize_f32(cg, f, param_f32(cg, ys, yn, cy), param_i32(cg, yz, yn, cy),
                                         cg_i32(cg, dtype_traits[yt->dtype].min), cg_i32(cg, dtype_traits[yt->dtype].max),
                                         ROUND_ONNX);
        cg_store_int(cg, yt->dtype, y, i, q);
        break;
    }
    case OP_REQUANTIZE: {
        const Quant *xq = xt->quant, *yq = yt->quant;
        const TensorType *pt = !quant_is_per_tensor(xq) ? xt : yt;
        int64_t nch;
        LLVMValueRef c = chan_of(cg, pt, i, &nch);
        int rounding = node_rounding(n);
        OutStage *st = xcalloc((size_t)nch, sizeof *st);
        int32_t *zx = xcalloc((size_t)nch, sizeof *zx);
        for (int64_t ch = 0; ch < nch; ch++) {
            QParam xp = qparam_chan(xq, quant_is_per_tensor(xq) ? 0 : ch);
            QParam yp = qparam_chan(yq, quant_is_per_tensor(yq) ? 0 : ch);
            st[ch].m = (double)xp.scale / (double)yp.scale;
            st[ch].zp = yp.zp;
            st[ch].lo = dtype_traits[yt->dtype].min;
            st[ch].hi = dtype_traits[yt->dtype].max;
            zx[ch] = xp.zp;
            if (rounding == ROUND_TFLITE && !fp_quantize_multiplier(st[ch].m, &st[ch].mult, &st[ch].shift)) {
                double m = st[ch].m;
                free(st);
                free(zx);
                return cg_fail(cg, n, "scale ratio %g is not a TFLite multiplier", m);
            }
            outstage_fold(n, &st[ch], ch, rounding);
        }
        LLVMValueRef v = LLVMBuildSExt(B, cg_load_int(cg, xt->dtype, x, i), cg->t_i64, "");
        LLVMValueRef acc = LLVMBuildSub(B, v, LLVMBuildSExt(B, param_i32(cg, zx, nch, c), cg->t_i64, ""), "");
        cg_store_int(cg, yt->dtype, y, i, cg_outstage(cg, acc, st, nch, c, rounding));
        free(st);
        free(zx);
        break;
    }
    default:
        return cg_fail(cg, n, "no lowering for this dtype combination");
    }
    cg_for_end(cg, &l);
    return true;
}

/* ------------------------------------------------------------ binary */

typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MAX, BIN_MIN, BIN_PRELU,
    BIN_EQ, BIN_GT, BIN_GE, BIN_LT, BIN_LE,
} BinaryKind;

static BinaryKind binary_kind(OpId op)
{
    switch (op) {
    case OP_ADD: return BIN_ADD;
    case OP_SUB: return BIN_SUB;
    case OP_MUL: return BIN_MUL;
    case OP_DIV: return BIN_DIV;
    case OP_POW: return BIN_POW;
    case OP_MAX: return BIN_MAX;
    case OP_MIN: return BIN_MIN;
    case OP_PRELU: return BIN_PRELU;
    case OP_EQUAL: return BIN_EQ;
    case OP_GREATER: return BIN_GT;
    case OP_GREATER_EQUAL: return BIN_GE;
    case OP_LESS: return BIN_LT;
    default: return BIN_LE;
    }
}

static bool is_compare(BinaryKind k) { return k >= BIN_EQ; }

/* binary_f of interp_elem.c on float32 values X and Z (not comparisons). */
static LLVMValueRef binary_f(Cg *cg, BinaryKind kind, LLVMValueRef x, LLVMValueRef z)
{
    switch (kind) {
    case BIN_ADD: return LLVMBuildFAdd(B, x, z, "");
    case BIN_SUB: return LLVMBuildFSub(B, x, z, "");
    case BIN_MUL: return LLVMBuildFMul(B, x, z, "");
    case BIN_DIV: return LLVMBuildFDiv(B, x, z, "");
    case BIN_POW: return call_f32_2(cg, "powf", x, z);
    case BIN_MAX:
    case BIN_MIN: {
        /* isnan(x) ? x : isnan(z) ? z : x > z ? x : z  (< for min) */
        LLVMValueRef pick = LLVMBuildFCmp(B, kind == BIN_MAX ? LLVMRealOGT : LLVMRealOLT, x, z, "");
        LLVMValueRef r = LLVMBuildSelect(B, pick, x, z, "");
        r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNO, z, z, ""), z, r, "");
        return LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNO, x, x, ""), x, r, "");
    }
    case BIN_PRELU:
        return LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, cg_f32(cg, 0.0f), ""),
                               LLVMBuildFMul(B, z, x, ""), x, "");
    default: qnn_unreachable();
    }
}

/* The ordered comparison of a comparison kind (NaN compares false). */
static LLVMRealPredicate compare_pred(BinaryKind k)
{
    switch (k) {
    case BIN_EQ: return LLVMRealOEQ;
    case BIN_GT: return LLVMRealOGT;
    case BIN_GE: return LLVMRealOGE;
    case BIN_LT: return LLVMRealOLT;
    default: return LLVMRealOLE;
    }
}

void cg_bcast_strides(const TensorType *out, const TensorType *in, int64_t *stride)
{
    int r = out->rank;
    int64_t s = 1;
    for (int d = 0; d < r; d++)
        stride[d] = 0;
    for (int d = in->rank - 1; d >= 0; d--) {
        int od = d + (r - in->rank);
        stride[od] = in->dims[d] == 1 ? 0 : s;
        s *= in->dims[d];
    }
}

bool lower_binary(Cg *cg, const Node *n)
{
    /* 8-bit max/min: byte vectors through per-operand tables. */
    if (kern_minmax(cg, n, NULL))
        return true;
    BinaryKind kind = binary_kind(n->op);
    const TensorType *at = &n->operands[0]->type, *bt = &n->operands[1]->type, *yt = &n->result->type;
    LLVMValueRef a = cg_buf(cg, n->operands[0]), b = cg_buf(cg, n->operands[1]), y = cg_buf(cg, n->result);
    int64_t sa[QNN_MAX_RANK], sb[QNN_MAX_RANK], sy[QNN_MAX_RANK];
    cg_bcast_strides(yt, at, sa);
    cg_bcast_strides(yt, bt, sb);
    cg_strides(yt, sy);
    DType ad = at->dtype, bd = bt->dtype, yd = yt->dtype;

    /* Compile-time parameters first (they may fail). */
    int rounding = node_rounding(n);
    int64_t lo = 0, hi = 0;
    QParam ap = {1, 0}, bp = {1, 0}, yp = {1, 0};
    int32_t mult = 0;
    int shift = 0;
    TfliteAdd t = {0};
    bool is_float = ad == DT_F32;
    bool raw = !at->quant && !bt->quant && !yt->quant;
    /* max, min and prelu have no rounding mode: always real arithmetic. */
    bool real = rounding != ROUND_TFLITE || kind == BIN_MAX || kind == BIN_MIN || kind == BIN_PRELU;
    if (is_compare(kind)) {
        if (!is_float && (!quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant)))
            return cg_fail(cg, n, "per-axis quantization is not supported by comparisons");
        ap = qparam_chan(at->quant, 0);
        bp = qparam_chan(bt->quant, 0);
    } else if (!is_float && !raw) {
        if (!quant_is_per_tensor(at->quant) || !quant_is_per_tensor(bt->quant) || !quant_is_per_tensor(yt->quant))
            return cg_fail(cg, n, "per-axis quantization is not supported by add/sub/mul");
        ap = qparam_chan(at->quant, 0);
        bp = qparam_chan(bt->quant, 0);
        yp = qparam_chan(yt->quant, 0);
        act_range_quantized(n, yt, 0, rounding, &lo, &hi);
        folded_clamp(n, &lo, &hi);
        if (!real && kind == BIN_MUL) {
            double m = (double)ap.scale * (double)bp.scale / (double)yp.scale;
            if (!fp_quantize_multiplier(m, &mult, &shift))
                return cg_fail(cg, n, "multiplier %g is not a TFLite multiplier", m);
            folded_multiplier(n, 0, &mult, &shift);
        } else if (!real) {
            if (!tflite_add_prepare(ap, bp, yp, &t))
                return cg_fail(cg, n, "scales give multipliers TFLite cannot represent");
            folded_multiplier(n, 0, &t.ma, &t.sha);
            folded_multiplier(n, 1, &t.mb, &t.shb);
            folded_multiplier(n, 2, &t.mo, &t.sho);
        }
    }

    CgNest nest;
    cg_nest_begin(cg, &nest, yt->rank, yt->dims);
    LLVMValueRef ia = cg_nest_offset(cg, &nest, sa), ib = cg_nest_offset(cg, &nest, sb);
    LLVMValueRef iy = cg_nest_offset(cg, &nest, sy);
    if (is_compare(kind)) {
        /* Float32 compared as float32; integers by real value in double
         * (exact: an integer below 2^32 times a float). */
        LLVMValueRef x, z;
        if (is_float) {
            x = cg_load_f32(cg, a, ia);
            z = cg_load_f32(cg, b, ib);
        } else {
            x = cg_load_int(cg, ad, a, ia);
            z = cg_load_int(cg, bd, b, ib);
            x = LLVMBuildSub(B, LLVMBuildSExt(B, x, cg->t_i64, ""), cg_i64(cg, ap.zp), "");
            z = LLVMBuildSub(B, LLVMBuildSExt(B, z, cg->t_i64, ""), cg_i64(cg, bp.zp), "");
            x = LLVMBuildFMul(B, cg_f64(cg, (double)ap.scale), LLVMBuildSIToFP(B, x, cg->t_f64, ""), "");
            z = LLVMBuildFMul(B, cg_f64(cg, (double)bp.scale), LLVMBuildSIToFP(B, z, cg->t_f64, ""), "");
        }
        LLVMValueRef r = LLVMBuildZExt(B, LLVMBuildFCmp(B, compare_pred(kind), x, z, ""), cg->t_i32, "");
        cg_store_int(cg, DT_U8, y, iy, r);
    } else if (is_float) {
        LLVMValueRef x = cg_load_f32(cg, a, ia), z = cg_load_f32(cg, b, ib);
        LLVMValueRef r = binary_f(cg, kind, x, z);
        r = fclamp(cg, r, node_float(n, ATTR_ACT_MIN, -INFINITY), node_float(n, ATTR_ACT_MAX, INFINITY));
        cg_store_f32(cg, y, iy, r);
    } else {
        LLVMValueRef x = LLVMBuildSExt(B, cg_load_int(cg, ad, a, ia), cg->t_i64, "");
        LLVMValueRef z = LLVMBuildSExt(B, cg_load_int(cg, bd, b, ib), cg->t_i64, "");
        LLVMValueRef out;
        if (raw) {
            LLVMValueRef r;
            switch (kind) {
            case BIN_MUL: r = LLVMBuildMul(B, x, z, ""); break;
            case BIN_SUB: r = LLVMBuildSub(B, x, z, ""); break;
            case BIN_MAX: r = cg_smax(cg, x, z); break;
            case BIN_MIN: r = cg_smin(cg, x, z); break;
            case BIN_PRELU:
                r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, x, cg_i64(cg, 0), ""),
                                    LLVMBuildMul(B, z, x, ""), x, "");
                break;
            default: r = LLVMBuildAdd(B, x, z, ""); break;
            }
            r = cg_smin(cg, cg_smax(cg, r, cg_i64(cg, dtype_traits[yd].min)), cg_i64(cg, dtype_traits[yd].max));
            out = LLVMBuildTrunc(B, r, cg->t_i32, "");
        } else {
            LLVMValueRef xa = LLVMBuildSub(B, x, cg_i64(cg, ap.zp), "");
            LLVMValueRef xb = LLVMBuildSub(B, z, cg_i64(cg, bp.zp), "");
            LLVMValueRef r;
            if (real) {
                LLVMValueRef ra = LLVMBuildFMul(B, cg_f64(cg, (double)ap.scale), LLVMBuildSIToFP(B, xa, cg->t_f64, ""), "");
                LLVMValueRef rb = LLVMBuildFMul(B, cg_f64(cg, (double)bp.scale), LLVMBuildSIToFP(B, xb, cg->t_f64, ""), "");
                LLVMValueRef q;
                switch (kind) {
                case BIN_MUL: q = LLVMBuildFMul(B, ra, rb, ""); break;
                case BIN_SUB: q = LLVMBuildFSub(B, ra, rb, ""); break;
                case BIN_MAX: q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, ra, rb, ""), ra, rb, ""); break;
                case BIN_MIN: q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, ra, rb, ""), ra, rb, ""); break;
                case BIN_PRELU:
                    q = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, ra, cg_f64(cg, 0.0), ""),
                                        LLVMBuildFMul(B, rb, ra, ""), ra, "");
                    break;
                default: q = LLVMBuildFAdd(B, ra, rb, ""); break;
                }
                q = LLVMBuildFDiv(B, q, cg_f64(cg, (double)yp.scale), "");
                r = cg_round_f64(cg, q, ROUND_ONNX);
            } else if (kind == BIN_MUL) {
                LLVMValueRef p = LLVMBuildTrunc(B, LLVMBuildMul(B, xa, xb, ""), cg->t_i32, "");
                r = LLVMBuildSExt(B, cg_mbqm(cg, p, mult, shift), cg->t_i64, "");
            } else {
                LLVMValueRef sa32 = LLVMBuildShl(B, LLVMBuildTrunc(B, xa, cg->t_i32, ""), cg_i32(cg, TFLITE_ADD_LEFT_SHIFT), "");
                LLVMValueRef sb32 = LLVMBuildShl(B, LLVMBuildTrunc(B, xb, cg->t_i32, ""), cg_i32(cg, TFLITE_ADD_LEFT_SHIFT), "");
                LLVMValueRef ra = cg_mbqm(cg, sa32, t.ma, t.sha), rb = cg_mbqm(cg, sb32, t.mb, t.shb);
                LLVMValueRef sum = kind == BIN_SUB ? LLVMBuildSub(B, ra, rb, "") : LLVMBuildAdd(B, ra, rb, "");
                r = LLVMBuildSExt(B, cg_mbqm(cg, sum, t.mo, t.sho), cg->t_i64, "");
            }
            out = cg_add_zp_clamp(cg, r, cg_i32(cg, yp.zp), cg_i32(cg, lo), cg_i32(cg, hi));
        }
        cg_store_int(cg, yd, y, iy, out);
    }
    cg_nest_end(cg, &nest);
    return true;
}

/* ------------------------------------------------------------ where, not */

bool lower_where(Cg *cg, const Node *n)
{
    const TensorType *yt = &n->result->type;
    int64_t st[3][QNN_MAX_RANK], sy[QNN_MAX_RANK];
    LLVMValueRef buf[3];
    for (int k = 0; k < 3; k++) {
        cg_bcast_strides(yt, &n->operands[k]->type, st[k]);
        buf[k] = cg_buf(cg, n->operands[k]);
    }
    cg_strides(yt, sy);
    LLVMValueRef y = cg_buf(cg, n->result);
    LLVMTypeRef et = cg_dtype_type(cg, yt->dtype);
    CgNest nest;
    cg_nest_begin(cg, &nest, yt->rank, yt->dims);
    LLVMValueRef ic = cg_nest_offset(cg, &nest, st[0]), ia = cg_nest_offset(cg, &nest, st[1]);
    LLVMValueRef ib = cg_nest_offset(cg, &nest, st[2]), iy = cg_nest_offset(cg, &nest, sy);
    LLVMValueRef c = LLVMBuildICmp(B, LLVMIntNE, cg_load_int(cg, DT_U8, buf[0], ic), cg_i32(cg, 0), "");
    /* Both sides are in bounds; the selected element is copied as is. */
    LLVMValueRef va = LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, buf[1], &ia, 1, ""), "");
    LLVMValueRef vb = LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, buf[2], &ib, 1, ""), "");
    LLVMBuildStore(B, LLVMBuildSelect(B, c, va, vb, ""), LLVMBuildInBoundsGEP2(B, et, y, &iy, 1, ""));
    cg_nest_end(cg, &nest);
    return true;
}

bool lower_not(Cg *cg, const Node *n)
{
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, type_numel(&n->result->type), "i");
    LLVMValueRef z = LLVMBuildICmp(B, LLVMIntEQ, cg_load_int(cg, DT_U8, x, i), cg_i32(cg, 0), "");
    cg_store_int(cg, DT_U8, y, i, LLVMBuildZExt(B, z, cg->t_i32, ""));
    cg_for_end(cg, &l);
    return true;
}

/* ------------------------------------------------------------ softmax, batchnorm */

/* TFLite's int8 softmax (interp_elem.c softmax_tflite): the exponential
 * of every possible difference is a compile-time table from
 * fp_softmax_prepare; the reciprocal of the sum is fp_softmax_reciprocal
 * as IR, and each output fp_softmax_output. */
static bool lower_softmax_tflite(Cg *cg, const Node *n, int64_t outer, int64_t len, int64_t inner)
{
    const TensorType *xt = &n->operands[0]->type;
    FpSoftmax sm;
    if (!fp_softmax_prepare(qparam_chan(xt->quant, 0).scale, &sm))
        return cg_fail(cg, n, "input scale gives no TFLite softmax multiplier");
    LLVMValueRef tab = cg_table_i32(cg, sm.exp, 256, "softmax_exp");
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMValueRef mx = cg_alloca(cg, cg->t_i32, "max"), sum = cg_alloca(cg, cg->t_i32, "sum");
    CgLoop lo, lj, lk;
    LLVMValueRef o = cg_for_begin(cg, &lo, outer, "o");
    LLVMValueRef j = cg_for_begin(cg, &lj, inner, "j");
    LLVMValueRef base = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, len * inner), ""), j, "");
#define ELEM(k) LLVMBuildAdd(B, base, LLVMBuildMul(B, (k), cg_idx(cg, inner), ""), "")
#define EXP(k) cg_load_int(cg, DT_I32, tab, LLVMBuildZExt(B, LLVMBuildSub(B, m, cg_load_int(cg, DT_I8, x, ELEM(k)), ""), \
                                                       cg->t_idx, ""))
    LLVMBuildStore(B, cg_i32(cg, INT8_MIN), mx);
    LLVMValueRef k = cg_for_begin(cg, &lk, len, "k");
    LLVMBuildStore(B, cg_smax(cg, LLVMBuildLoad2(B, cg->t_i32, mx, ""), cg_load_int(cg, DT_I8, x, ELEM(k))), mx);
    cg_for_end(cg, &lk);
    LLVMValueRef m = LLVMBuildLoad2(B, cg->t_i32, mx, "");
    LLVMBuildStore(B, cg_i32(cg, 0), sum);
    k = cg_for_begin(cg, &lk, len, "k");
    LLVMBuildStore(B, LLVMBuildAdd(B, LLVMBuildLoad2(B, cg->t_i32, sum, ""), cg_rdbpot(cg, EXP(k), cg_i32(cg, 12)), ""),
                   sum);
    cg_for_end(cg, &lk);
    LLVMValueRef big, exc, recip = cg_softmax_recip(cg, LLVMBuildLoad2(B, cg->t_i32, sum, ""), &exc, &big);
    k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef v = cg_rdbpot(cg, cg_srdhm(cg, recip, EXP(k)), exc);
        v = LLVMBuildSelect(B, big, cg_i32(cg, 0), v, "");
        v = cg_clamp_i32(cg, LLVMBuildSub(B, v, cg_i32(cg, 128), ""), cg_i32(cg, -128), cg_i32(cg, 127));
        cg_store_int(cg, DT_I8, y, ELEM(k), v);
    }
    cg_for_end(cg, &lk);
#undef ELEM
#undef EXP
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lo);
    return true;
}

bool lower_softmax(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    int64_t outer = 1, inner = 1, len = xt->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= xt->dims[d];
    for (int d = (int)axis + 1; d < xt->rank; d++)
        inner *= xt->dims[d];
    bool q = xt->dtype != DT_F32;
    if (q && (!quant_is_per_tensor(xt->quant) || !quant_is_per_tensor(yt->quant)))
        return cg_fail(cg, n, "per-axis quantized softmax is not supported by the code generator");
    if (q && node_rounding(n) == ROUND_TFLITE)
        return lower_softmax_tflite(cg, n, outer, len, inner);
    QParam xp = qparam_chan(xt->quant, 0), yp = qparam_chan(yt->quant, 0);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMValueRef mx = cg_alloca(cg, cg->t_f32, "max"), sum = cg_alloca(cg, cg->t_f32, "sum");
    CgLoop lo, lj, lk;
    LLVMValueRef o = cg_for_begin(cg, &lo, outer, "o");
    LLVMValueRef j = cg_for_begin(cg, &lj, inner, "j");
    LLVMValueRef base = LLVMBuildAdd(B, LLVMBuildMul(B, o, cg_idx(cg, len * inner), ""), j, "");
#define ELEM(k) LLVMBuildAdd(B, base, LLVMBuildMul(B, (k), cg_idx(cg, inner), ""), "")
#define LOADX(idx) (q ? dequant(cg, cg_load_int(cg, xt->dtype, x, idx), cg_i32(cg, xp.zp), cg_f32(cg, xp.scale)) \
                      : cg_load_f32(cg, x, idx))
    LLVMBuildStore(B, cg_f32(cg, -INFINITY), mx);
    LLVMValueRef k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef v = LOADX(ELEM(k)), m = LLVMBuildLoad2(B, cg->t_f32, mx, "");
        LLVMBuildStore(B, LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, v, m, ""), v, m, ""), mx);
    }
    cg_for_end(cg, &lk);
    LLVMBuildStore(B, cg_f32(cg, 0.0f), sum);
    LLVMValueRef m = LLVMBuildLoad2(B, cg->t_f32, mx, "");
    k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef e = cg_call_f32(cg, "expf", LLVMBuildFSub(B, LOADX(ELEM(k)), m, ""));
        if (!q)
            cg_store_f32(cg, y, ELEM(k), e);
        LLVMBuildStore(B, LLVMBuildFAdd(B, LLVMBuildLoad2(B, cg->t_f32, sum, ""), e, ""), sum);
    }
    cg_for_end(cg, &lk);
    LLVMValueRef s = LLVMBuildLoad2(B, cg->t_f32, sum, "");
    k = cg_for_begin(cg, &lk, len, "k");
    {
        LLVMValueRef idx = ELEM(k);
        if (!q) {
            cg_store_f32(cg, y, idx, LLVMBuildFDiv(B, cg_load_f32(cg, y, idx), s, ""));
        } else {
            /* expf is deterministic, so recomputing e_k gives the value the
             * interpreter stored in its temporary. */
            LLVMValueRef e = cg_call_f32(cg, "expf", LLVMBuildFSub(B, LOADX(idx), m, ""));
            LLVMValueRef r = cg_quantize_f32(cg, LLVMBuildFDiv(B, e, s, ""), cg_f32(cg, yp.scale), cg_i32(cg, yp.zp),
                                             cg_i32(cg, dtype_traits[yt->dtype].min),
                                             cg_i32(cg, dtype_traits[yt->dtype].max), ROUND_ONNX);
            cg_store_int(cg, yt->dtype, y, idx, r);
        }
    }
    cg_for_end(cg, &lk);
#undef ELEM
#undef LOADX
    cg_for_end(cg, &lj);
    cg_for_end(cg, &lo);
    return true;
}

bool lower_batchnorm(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type;
    int64_t C = xt->dims[xt->rank - 1];
    float eps = node_float(n, ATTR_EPSILON, 1e-5f);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMTypeRef ft = LLVMFunctionType(cg->t_f32, &cg->t_f32, 1, 0);
    LLVMValueRef sqrtf_ = LLVMGetNamedFunction(cg->mod, "llvm.sqrt.f32");
    if (!sqrtf_)
        sqrtf_ = LLVMAddFunction(cg->mod, "llvm.sqrt.f32", ft);
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, type_numel(xt), "i");
    LLVMValueRef c = LLVMBuildURem(B, i, cg_idx(cg, C), "");
    LLVMValueRef p[5];
    for (int k = 1; k < 5; k++)
        p[k] = cg_load_f32(cg, cg_buf(cg, n->operands[k]), c);
    LLVMValueRef d = LLVMBuildFSub(B, cg_load_f32(cg, x, i), p[3], "");
    LLVMValueRef ve = LLVMBuildFAdd(B, p[4], cg_f32(cg, eps), "");
    LLVMValueRef sq = LLVMBuildCall2(B, ft, sqrtf_, &ve, 1, "");
    LLVMValueRef r = LLVMBuildFAdd(B, LLVMBuildFMul(B, LLVMBuildFDiv(B, d, sq, ""), p[1], ""), p[2], "");
    cg_store_f32(cg, y, i, r);
    cg_for_end(cg, &l);
    return true;
}

/* cast, following interp_cast: integers wrap (trunc), become floats by
 * sitofp (round to nearest even), floats become integers by fptosi.sat to
 * i32 (truncation, saturation, NaN -> 0), then clamped to a narrower
 * result's range.  (fptosi.sat straight to i8/i16 is the same function,
 * but vectorized for RVV it becomes narrowing conversions that QEMU 7's
 * riscv64 translator aborts on.) */
bool lower_cast(Cg *cg, const Node *n)
{
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    DType xd = xt->dtype, yd = yt->dtype;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, type_numel(yt), "i");
    if (xd == DT_F32 && yd == DT_F32) {
        cg_store_f32(cg, y, i, cg_load_f32(cg, x, i));
    } else if (xd == DT_F32) {
        LLVMTypeRef over[2] = {cg->t_i32, cg->t_f32};
        LLVMValueRef v = cg_load_f32(cg, x, i);
        const char *name = "llvm.fptosi.sat";
        unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
        LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, over, 2);
        LLVMValueRef r = LLVMBuildCall2(B, LLVMIntrinsicGetType(cg->ctx, id, over, 2), fn, &v, 1, "");
        if (yd != DT_I32)
            r = cg_clamp_i32(cg, r, cg_i32(cg, dtype_traits[yd].min), cg_i32(cg, dtype_traits[yd].max));
        cg_store_int(cg, yd, y, i, r);
    } else if (yd == DT_F32) {
        cg_store_f32(cg, y, i, LLVMBuildSIToFP(B, cg_load_int(cg, xd, x, i), cg->t_f32, ""));
    } else {
        cg_store_int(cg, yd, y, i, cg_load_int(cg, xd, x, i));
    }
    cg_for_end(cg, &l);
    return true;
}

/* lut(x, table): a constant table is an ordinary unary op (lower_unary
 * reads it at compile time); a computed one is looked up per element. */
bool lower_lut(Cg *cg, const Node *n)
{
    if (n->operands[1]->kind == VAL_CONST)
        return lower_unary(cg, n);
    const TensorType *yt = &n->result->type;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), t = cg_buf(cg, n->operands[1]), y = cg_buf(cg, n->result);
    LLVMTypeRef et = cg_dtype_type(cg, yt->dtype);
    CgLoop l;
    LLVMValueRef i = cg_for_begin(cg, &l, type_numel(yt), "i");
    LLVMValueRef v = LLVMBuildAdd(B, cg_load_int(cg, DT_I8, x, i), cg_i32(cg, 128), "");
    LLVMValueRef ti = LLVMBuildZExt(B, v, cg->t_idx, "");
    LLVMValueRef r = LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, t, &ti, 1, ""), "");
    LLVMBuildStore(B, r, LLVMBuildInBoundsGEP2(B, et, y, &i, 1, ""));
    cg_for_end(cg, &l);
    return true;
}
