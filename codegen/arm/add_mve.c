/* arm/add_mve.c - TFLite's int8/u8 add and sub for Cortex-M55 with
 * Helium ("add_mve"): the interpreter's steps (ir/interp_elem.c) on 4
 * i32 lanes, as CMSIS-NN's arm_elementwise_add_s8 does them:
 *
 *   a' = MBQM((a - za) * 2^20, ma, sha), b' likewise,
 *   y  = clamp(MBQM(a' +- b', mo, sho) + zy, lo, hi)
 *
 * with MultiplyByQuantizedMultiplier as in conv_mve.c's output stage (the
 * proof is there): vshl for a left shift, vqrdmulh.s32 (SRDHM), and for
 * a right shift vqadd of the sign then vrshl.s32 (RDBPOT); the zero point
 * joins by vqadd before vmax/vmin.  (a - za) * 2^20 needs no wrap: |a -
 * za| <= 255.  The sum wraps where the interpreter would report an int32
 * overflow, which 2^20-scaled bytes halved by the rescale never reach.
 * Same-shape operands only (no broadcast), per-tensor quantization,
 * TFLite rounding; 4 elements a step (vldrb.s32/u32 widening loads, one
 * narrowing vstrb.32), the last N % 4 under a predicate.
 */
#include "kernel_int8.h"


#define B (cg->b)

static LLVMTypeRef v4(Cg *cg)
{
    return LLVMVectorType(cg->t_i32, 4);
}

/* MultiplyByQuantizedMultiplier(V, MULT, SHIFT) on 4 lanes. */
static LLVMValueRef mbqm4(Cg *cg, LLVMValueRef v, int32_t mult, int shift)
{
    LLVMTypeRef t = v4(cg);
    if (shift > 0)
        v = LLVMBuildShl(B, v, cg_splat(cg, cg_i32(cg, shift), 4), "");
    LLVMValueRef a[2] = {v, cg_splat(cg, cg_i32(cg, mult), 4)};
    v = kern_intrinsic(cg, "llvm.arm.mve.vqrdmulh", &t, 1, a, 2);
    if (shift < 0) {
        LLVMValueRef q[2] = {v, LLVMBuildAShr(B, v, cg_splat(cg, cg_i32(cg, 31), 4), "")};
        v = kern_intrinsic(cg, "llvm.sadd.sat", &t, 1, q, 2);
        LLVMValueRef r[5] = {v, cg_i32(cg, shift), cg_i32(cg, 0), cg_i32(cg, 1), cg_i32(cg, 0)};
        v = kern_intrinsic(cg, "llvm.arm.mve.vshl.scalar", &t, 1, r, 5); /* vrshl.s32 */
    }
    return v;
}

static LLVMValueRef mask4(Cg *cg, int n)
{
    LLVMValueRef m[4];
    for (int i = 0; i < 4; i++)
        m[i] = LLVMConstInt(cg->t_i1, i < n, false);
    return LLVMConstVector(m, 4);
}

/* N (1..4) bytes of dtype DT at P widened to i32 lanes. */
static LLVMValueRef load4(Cg *cg, DType dt, LLVMValueRef p, int n)
{
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, 4);
    LLVMValueRef v;
    if (n == 4) {
        v = LLVMBuildLoad2(B, t8, p, "");
        LLVMSetAlignment(v, 1);
    } else {
        LLVMTypeRef over[2] = {t8, cg->t_ptr};
        LLVMValueRef a[4] = {p, cg_i32(cg, 1), mask4(cg, n), LLVMConstNull(t8)};
        v = kern_intrinsic(cg, "llvm.masked.load", over, 2, a, 4);
    }
    return dt == DT_U8 ? LLVMBuildZExt(B, v, v4(cg), "") : LLVMBuildSExt(B, v, v4(cg), "");
}

typedef struct AddK {
    bool sub;
    DType ad, bd, yd;
    QParam ap, bp, yp;
    TfliteAdd t;
    int32_t lo, hi;
    LLVMValueRef a, b, y;
} AddK;

/* Elements I .. I+N. */
static void add_step(Cg *cg, const AddK *k, LLVMValueRef i, int n)
{
    int sh = TFLITE_ADD_LEFT_SHIFT;
    LLVMValueRef xa = load4(cg, k->ad, cg_gep8(cg, k->a, i), n), xb = load4(cg, k->bd, cg_gep8(cg, k->b, i), n);
    LLVMValueRef vsh = cg_splat(cg, cg_i32(cg, sh), 4);
    xa = LLVMBuildShl(B, LLVMBuildSub(B, xa, cg_splat(cg, cg_i32(cg, k->ap.zp), 4), ""), vsh, "");
    xb = LLVMBuildShl(B, LLVMBuildSub(B, xb, cg_splat(cg, cg_i32(cg, k->bp.zp), 4), ""), vsh, "");
    xa = mbqm4(cg, xa, k->t.ma, k->t.sha);
    xb = mbqm4(cg, xb, k->t.mb, k->t.shb);
    LLVMValueRef s = k->sub ? LLVMBuildSub(B, xa, xb, "") : LLVMBuildAdd(B, xa, xb, "");
    LLVMTypeRef t = v4(cg);
    LLVMValueRef z[2] = {mbqm4(cg, s, k->t.mo, k->t.sho), cg_splat(cg, cg_i32(cg, k->yp.zp), 4)};
    s = kern_intrinsic(cg, "llvm.sadd.sat", &t, 1, z, 2);
    s = cg_smin(cg, cg_smax(cg, s, cg_splat(cg, cg_i32(cg, k->lo), 4)), cg_splat(cg, cg_i32(cg, k->hi), 4));
    LLVMTypeRef t8 = LLVMVectorType(cg->t_i8, 4);
    LLVMValueRef v8 = LLVMBuildTrunc(B, s, t8, ""), p = cg_gep8(cg, k->y, i);
    if (n == 4) {
        LLVMSetAlignment(LLVMBuildStore(B, v8, p), 1);
    } else {
        LLVMTypeRef over[2] = {t8, cg->t_ptr};
        LLVMValueRef a[4] = {v8, p, cg_i32(cg, 1), mask4(cg, n)};
        kern_intrinsic(cg, "llvm.masked.store", over, 2, a, 4);
    }
}

static bool byte_q(const TensorType *t)
{
    return (t->dtype == DT_I8 || t->dtype == DT_U8) && t->quant && quant_is_per_tensor(t->quant);
}

bool kern_add_mve(Cg *cg, const Node *n)
{
    if ((n->op != OP_ADD && n->op != OP_SUB) || n->num_operands != 2 || node_rounding(n) != ROUND_TFLITE)
        return false;
    const TensorType *at = &n->operands[0]->type, *bt = &n->operands[1]->type, *yt = &n->result->type;
    if (!byte_q(at) || !byte_q(bt) || !byte_q(yt) || at->rank != yt->rank || bt->rank != yt->rank)
        return false;
    for (int d = 0; d < yt->rank; d++)
        if (at->dims[d] != yt->dims[d] || bt->dims[d] != yt->dims[d])
            return false;
    AddK k = {.sub = n->op == OP_SUB, .ad = at->dtype, .bd = bt->dtype, .yd = yt->dtype};
    k.ap = qparam_chan(at->quant, 0);
    k.bp = qparam_chan(bt->quant, 0);
    k.yp = qparam_chan(yt->quant, 0);
    if (!tflite_add_prepare(k.ap, k.bp, k.yp, &k.t))
        return false; /* the generic lowering reports it */
    folded_multiplier(n, 0, &k.t.ma, &k.t.sha);
    folded_multiplier(n, 1, &k.t.mb, &k.t.shb);
    folded_multiplier(n, 2, &k.t.mo, &k.t.sho);
    int64_t lo, hi;
    act_range_quantized(n, yt, 0, ROUND_TFLITE, &lo, &hi);
    folded_clamp(n, &lo, &hi);
    k.lo = (int32_t)lo;
    k.hi = (int32_t)hi;
    k.a = cg_buf(cg, n->operands[0]);
    k.b = cg_buf(cg, n->operands[1]);
    k.y = cg_buf(cg, n->result);
    int64_t N = 1;
    for (int d = 0; d < yt->rank; d++)
        N *= yt->dims[d];
    CgLoop l;
    if (N / 4 > 0) {
        LLVMValueRef i = cg_mulk(cg, cg_for_begin(cg, &l, N / 4, "e4"), 4);
        add_step(cg, &k, i, 4);
        cg_for_end(cg, &l);
    }
    if (N % 4)
        add_step(cg, &k, cg_idx(cg, N / 4 * 4), (int)(N % 4));
    return true;
}
