/* kernel_softmax.c - TFLite's int8 softmax along a contiguous last axis,
 * LANES elements of a row at a time.
 *
 * The interpreter (interp_elem.c softmax_tflite, after TFLite's reference
 * int8 Softmax) does per row: the largest input m; the sum of
 * RDBPOT(exp[m - x], 12) over the row, exp being fp_softmax_prepare's
 * table of exp_on_negative_values for every difference 0..255; the
 * reciprocal of that sum (fp_softmax_reciprocal) and its exponent; then
 * each output fp_softmax_output(recip, bits, exp[m - x]).  This kernel
 * does the same steps in the same integer arithmetic, only LANES at a
 * time:
 *
 *   - the max as a byte-vector max, reduced once per row;
 *   - the sum from a second compile-time table, RDBPOT(exp[d], 12) for
 *     every d (the interpreter's addend, so the i32 lane sums equal its
 *     sum: integer addition is associative and the verifier bounds the
 *     sum below 2^31), looked up with a vector gather, reduced once;
 *   - the reciprocal as scalar IR once per row (cg_softmax_recip, shared
 *     with the generic loop);
 *   - the outputs as SRDHM(recip, exp[d]) on 64-bit lanes (both operands
 *     are non-negative and recip is below 2^31, so SRDHM's one saturating
 *     case, INT32_MIN * INT32_MIN, cannot arise), RDBPOT by the row's
 *     exponent, -128 and the clamp.
 *
 * A row whose length is not a multiple of LANES ends with one vector that
 * overlaps the one before it: for the max that changes nothing, for the
 * sum the lanes already counted are masked to 0, and its outputs (equal to
 * what the overlapped lanes already hold) are computed before the row's
 * first store and stored last, so an output that shares the input's
 * buffer is still read before it is written.  Rows shorter than LANES,
 * other axes and other roundings stay in the generic loops (lower_elem.c).
 * The IR is plain vectors (a gather where the target has one, else LLVM
 * scalarizes the lookups), so every target runs the same kernel.
 */
#include "kernel_int8.h"

#define B (cg->b)

enum { LANES = 16 };

static LLVMValueRef splat(Cg *cg, LLVMValueRef s, LLVMTypeRef vt)
{
    LLVMValueRef v = LLVMBuildInsertElement(B, LLVMGetUndef(vt), s, cg_i32(cg, 0), "");
    return LLVMBuildShuffleVector(B, v, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, LANES)), "");
}

static LLVMValueRef const_i32v(Cg *cg, int64_t v)
{
    LLVMValueRef e[LANES];
    for (int i = 0; i < LANES; i++)
        e[i] = cg_i32(cg, v);
    return LLVMConstVector(e, LANES);
}

/* The <LANES x i8> of row bytes at X + OFF. */
static LLVMValueRef load_row(Cg *cg, LLVMValueRef x, LLVMValueRef off)
{
    return kern_load_vec(cg, LLVMVectorType(cg->t_i8, LANES), LLVMBuildInBoundsGEP2(B, cg->t_i8, x, &off, 1, ""));
}

/* TAB[M - V] for the bytes V (<LANES x i8>) and the row max M (i32):
 * differences 0..255, so the index is always inside the table. */
static LLVMValueRef lookup(Cg *cg, LLVMValueRef tab, LLVMValueRef m, LLVMValueRef v)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, LANES);
    LLVMValueRef d = LLVMBuildSub(B, splat(cg, m, vt), LLVMBuildSExt(B, v, vt, ""), "d");
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i32, tab, &d, 1, "");
    LLVMValueRef mask[LANES];
    for (int i = 0; i < LANES; i++)
        mask[i] = LLVMConstInt(cg->t_i1, 1, 0);
    LLVMTypeRef over[2] = {vt, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, cg_i32(cg, 4), LLVMConstVector(mask, LANES), LLVMGetUndef(vt)};
    return kern_intrinsic(cg, "llvm.masked.gather", over, 2, args, 4);
}

/* fp_softmax_output on LANES table values E. */
static LLVMValueRef outputs(Cg *cg, LLVMValueRef recip, LLVMValueRef exc, LLVMValueRef big, LLVMValueRef e)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, LANES), wt = LLVMVectorType(cg->t_i64, LANES);
    LLVMValueRef r64 = splat(cg, LLVMBuildZExt(B, recip, cg->t_i64, ""), wt);
    LLVMValueRef p = LLVMBuildNUWMul(B, r64, LLVMBuildZExt(B, e, wt, ""), "");
    LLVMValueRef half[LANES];
    for (int i = 0; i < LANES; i++)
        half[i] = cg_i64(cg, INT64_C(1) << 30);
    LLVMValueRef s31[LANES];
    for (int i = 0; i < LANES; i++)
        s31[i] = cg_i64(cg, 31);
    p = LLVMBuildLShr(B, LLVMBuildNUWAdd(B, p, LLVMConstVector(half, LANES), ""), LLVMConstVector(s31, LANES), "");
    LLVMValueRef v = cg_rdbpot(cg, LLVMBuildTrunc(B, p, vt, ""), splat(cg, exc, vt));
    v = LLVMBuildSelect(B, big, LLVMConstNull(vt), v, "");
    v = cg_clamp_i32(cg, LLVMBuildSub(B, v, const_i32v(cg, 128), ""), const_i32v(cg, -128), const_i32v(cg, 127));
    return LLVMBuildTrunc(B, v, LLVMVectorType(cg->t_i8, LANES), "");
}

static void store_row(Cg *cg, LLVMValueRef y, LLVMValueRef off, LLVMValueRef v)
{
    LLVMValueRef st = LLVMBuildStore(B, v, LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &off, 1, ""));
    LLVMSetAlignment(st, 1);
}

typedef struct Sm {
    LLVMValueRef x, y, tab, tab12, fresh;
    int64_t len, nv, rem;
    LLVMValueRef m, sum, recip, exc, big; /* [RB] i32 arrays on the stack */
    LLVMValueRef ex; /* [rb * len] i32 on the stack: pass 1's exp[d], or NULL */
    int64_t rb;
} Sm;

/* Rows are done up to RB at a time in three passes (max and sum of each,
 * the reciprocal of each, the outputs of each), so that the rows' scalar
 * reciprocals, which wait on the row's sum, overlap across rows.  The
 * gathers bound the kernel (about 17 cycles for 16 lanes on Zen 5), so
 * pass 1 keeps each row's exp[d] in a stack buffer of at most EXBUF bytes
 * (as many rows as fit, at least one) for pass 3 to reuse; rows longer
 * than that gather twice. */
enum { RB = 8, EXBUF = 2048 };

static LLVMValueRef elt(Cg *cg, LLVMValueRef arr, LLVMValueRef i)
{
    LLVMValueRef idx[2] = {cg_idx(cg, 0), i};
    return LLVMBuildInBoundsGEP2(B, LLVMArrayType(cg->t_i32, RB), arr, idx, 2, "");
}

static LLVMValueRef ld32(Cg *cg, LLVMValueRef arr, LLVMValueRef i)
{
    return LLVMBuildLoad2(B, cg->t_i32, elt(cg, arr, i), "");
}

/* Pass 1's addend for the bytes V: RDBPOT(exp[m - v], 12), from the exp
 * gathered (and kept at EX[EROW + K]) when there is a buffer, else from
 * the table of addends. */
static LLVMValueRef sum_term(Cg *cg, const Sm *s, LLVMValueRef m, LLVMValueRef v, LLVMValueRef erow, LLVMValueRef k)
{
    if (!s->ex)
        return lookup(cg, s->tab12, m, v);
    LLVMValueRef e = lookup(cg, s->tab, m, v);
    LLVMValueRef off = LLVMBuildAdd(B, erow, k, "");
    LLVMValueRef st = LLVMBuildStore(B, e, LLVMBuildInBoundsGEP2(B, cg->t_i32, s->ex, &off, 1, ""));
    LLVMSetAlignment(st, 4);
    return cg_rdbpot(cg, e, const_i32v(cg, 12));
}

/* Pass 3's exp[m - x] for the LANES bytes at X + OFF: from the buffer, or
 * gathered again. */
static LLVMValueRef out_term(Cg *cg, const Sm *s, LLVMValueRef m, LLVMValueRef x, LLVMValueRef off, LLVMValueRef erow,
                             LLVMValueRef k)
{
    if (!s->ex)
        return lookup(cg, s->tab, m, load_row(cg, x, off));
    LLVMValueRef o = LLVMBuildAdd(B, erow, k, "");
    LLVMValueRef v = LLVMBuildLoad2(B, LLVMVectorType(cg->t_i32, LANES), LLVMBuildInBoundsGEP2(B, cg->t_i32, s->ex, &o, 1, ""), "");
    LLVMSetAlignment(v, 4);
    return v;
}

/* COUNT rows from row R0 (an index value). */
static void emit_rows(Cg *cg, const Sm *s, LLVMValueRef r0, int64_t count)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, LANES), vt = LLVMVectorType(cg->t_i32, LANES);
    int64_t len = s->len, nv = s->nv, rem = s->rem;
    LLVMValueRef x = s->x, y = s->y;
    CgLoop lr, lk;
    LLVMValueRef acc = cg_alloca(cg, bt, "mx"), sacc = cg_alloca(cg, vt, "sum");

    /* Pass 1: each row's max (byte vectors, one reduction) and sum of the
     * 12-bit exponentials. */
    LLVMValueRef i = cg_for_begin(cg, &lr, count, "r");
    LLVMValueRef row = LLVMBuildMul(B, LLVMBuildAdd(B, r0, i, ""), cg_idx(cg, len), "");
    LLVMValueRef tail = LLVMBuildAdd(B, row, cg_idx(cg, len - LANES), "");
    LLVMBuildStore(B, rem ? load_row(cg, x, tail) : load_row(cg, x, row), acc);
    LLVMValueRef k = LLVMBuildMul(B, cg_for_begin(cg, &lk, nv, "k"), cg_idx(cg, LANES), "");
    LLVMValueRef v = load_row(cg, x, LLVMBuildAdd(B, row, k, ""));
    LLVMBuildStore(B, cg_smax(cg, LLVMBuildLoad2(B, bt, acc, ""), v), acc);
    cg_for_end(cg, &lk);
    LLVMValueRef mv = LLVMBuildLoad2(B, bt, acc, "");
    LLVMValueRef m = LLVMBuildSExt(B, kern_intrinsic(cg, "llvm.vector.reduce.smax", &bt, 1, &mv, 1), cg->t_i32, "m");
    LLVMBuildStore(B, m, elt(cg, s->m, i));
    LLVMValueRef erow = s->ex ? LLVMBuildMul(B, i, cg_idx(cg, len), "") : NULL;
    LLVMValueRef e = NULL;
    if (rem) {
        e = sum_term(cg, s, m, load_row(cg, x, tail), erow, cg_idx(cg, len - LANES));
        e = LLVMBuildSelect(B, s->fresh, e, LLVMConstNull(vt), "");
    }
    LLVMBuildStore(B, rem ? e : LLVMConstNull(vt), sacc);
    k = LLVMBuildMul(B, cg_for_begin(cg, &lk, nv, "k"), cg_idx(cg, LANES), "");
    v = sum_term(cg, s, m, load_row(cg, x, LLVMBuildAdd(B, row, k, "")), erow, k);
    LLVMBuildStore(B, LLVMBuildAdd(B, LLVMBuildLoad2(B, vt, sacc, ""), v, ""), sacc);
    cg_for_end(cg, &lk);
    LLVMValueRef sv = LLVMBuildLoad2(B, vt, sacc, "");
    LLVMBuildStore(B, kern_intrinsic(cg, "llvm.vector.reduce.add", &vt, 1, &sv, 1), elt(cg, s->sum, i));
    cg_for_end(cg, &lr);

    /* Pass 2: the reciprocals (scalar, independent across rows). */
    i = cg_for_begin(cg, &lr, count, "r");
    LLVMValueRef big, exc, recip = cg_softmax_recip(cg, ld32(cg, s->sum, i), &exc, &big);
    LLVMBuildStore(B, recip, elt(cg, s->recip, i));
    LLVMBuildStore(B, exc, elt(cg, s->exc, i));
    LLVMBuildStore(B, LLVMBuildZExt(B, big, cg->t_i32, ""), elt(cg, s->big, i));
    cg_for_end(cg, &lr);

    /* Pass 3: the outputs; the overlapping last vector first (read before
     * any store of its row), stored after the others. */
    i = cg_for_begin(cg, &lr, count, "r");
    row = LLVMBuildMul(B, LLVMBuildAdd(B, r0, i, ""), cg_idx(cg, len), "");
    tail = LLVMBuildAdd(B, row, cg_idx(cg, len - LANES), "");
    m = ld32(cg, s->m, i);
    recip = ld32(cg, s->recip, i);
    exc = ld32(cg, s->exc, i);
    big = LLVMBuildICmp(B, LLVMIntNE, ld32(cg, s->big, i), cg_i32(cg, 0), "");
    erow = s->ex ? LLVMBuildMul(B, i, cg_idx(cg, len), "") : NULL;
    LLVMValueRef ty = rem ? outputs(cg, recip, exc, big, out_term(cg, s, m, x, tail, erow, cg_idx(cg, len - LANES))) : NULL;
    k = LLVMBuildMul(B, cg_for_begin(cg, &lk, nv, "k"), cg_idx(cg, LANES), "");
    LLVMValueRef off = LLVMBuildAdd(B, row, k, "");
    store_row(cg, y, off, outputs(cg, recip, exc, big, out_term(cg, s, m, x, off, erow, k)));
    cg_for_end(cg, &lk);
    if (rem)
        store_row(cg, y, tail, ty);
    cg_for_end(cg, &lr);
}

const char *kern_softmax(Cg *cg, const Node *n)
{
    if (n->op != OP_SOFTMAX || node_rounding(n) != ROUND_TFLITE)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    if (xt->dtype != DT_I8 || yt->dtype != DT_I8 || !quant_is_per_tensor(xt->quant) ||
        !quant_is_per_tensor(yt->quant) || axis != xt->rank - 1 || xt->dims[axis] < LANES)
        return NULL;
    FpSoftmax sm;
    if (!fp_softmax_prepare(qparam_chan(xt->quant, 0).scale, &sm))
        return NULL; /* the generic lowering reports it */
    int32_t e12[256];
    for (int d = 0; d < 256; d++)
        e12[d] = fp_rdbpot(sm.exp[d], 12);
    Sm s = {0};
    s.tab = cg_table_i32(cg, sm.exp, 256, "softmax_exp");
    s.tab12 = cg_table_i32(cg, e12, 256, "softmax_exp12");
    s.len = xt->dims[axis];
    s.nv = s.len / LANES;
    s.rem = s.len % LANES;
    s.x = cg_buf(cg, n->operands[0]);
    s.y = cg_buf(cg, n->result);
    /* The overlapping last vector's lanes not yet counted: lane >= LANES - rem. */
    LLVMValueRef fresh[LANES];
    for (int i = 0; i < LANES; i++)
        fresh[i] = LLVMConstInt(cg->t_i1, i >= LANES - s.rem, 0);
    s.fresh = LLVMConstVector(fresh, LANES);
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, RB);
    s.m = cg_alloca(cg, at, "m");
    s.sum = cg_alloca(cg, at, "s");
    s.recip = cg_alloca(cg, at, "recip");
    s.exc = cg_alloca(cg, at, "exc");
    s.big = cg_alloca(cg, at, "big");
    int64_t rows = type_numel(xt) / s.len;
    s.rb = EXBUF / (4 * s.len);
    s.rb = s.rb > RB ? RB : s.rb < 1 ? RB : s.rb;
    if ((int64_t)4 * s.len <= EXBUF)
        s.ex = cg_alloca(cg, LLVMArrayType(cg->t_i32, (unsigned)(s.rb * s.len)), "ex");
    if (rows / s.rb) {
        CgLoop lb;
        LLVMValueRef b = cg_for_begin(cg, &lb, rows / s.rb, "blk");
        emit_rows(cg, &s, LLVMBuildMul(B, b, cg_idx(cg, s.rb), ""), s.rb);
        cg_for_end(cg, &lb);
    }
    if (rows % s.rb)
        emit_rows(cg, &s, cg_idx(cg, rows / s.rb * s.rb), rows % s.rb);
    return "softmax_rows16";
}
