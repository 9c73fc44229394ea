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

#include <stdio.h>
#include <stdlib.h>

#define B (cg->b)

enum { LANES = 16 };

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
    LLVMValueRef d = LLVMBuildSub(B, cg_splat(cg, m, LANES), LLVMBuildSExt(B, v, vt, ""), "d");
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i32, tab, &d, 1, "");
    LLVMValueRef mask[LANES];
    for (int i = 0; i < LANES; i++)
        mask[i] = LLVMConstInt(cg->t_i1, 1, 0);
    LLVMTypeRef over[2] = {vt, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, cg_i32(cg, 4), LLVMConstVector(mask, LANES), LLVMGetUndef(vt)};
    return kern_intrinsic(cg, "llvm.masked.gather", over, 2, args, 4);
}

/* A constant <N x T> of V. */
static LLVMValueRef const_vec(LLVMTypeRef t, unsigned n, unsigned long long v)
{
    LLVMValueRef e[64];
    for (unsigned i = 0; i < n; i++)
        e[i] = LLVMConstInt(t, v, 0);
    return LLVMConstVector(e, n);
}

/* fp_softmax_output on the table values E (<N x i32>, N even, each in
 * [0, 2^31)) of a row whose reciprocal is RECIP (i32 in [0, 2^31), 0 for a
 * row whose exponent is over 31) and exponent EXC (i32 in [0, 31]).  For a, b >= 0,
 * SRDHM(a, b) = floor((a b + 2^30) / 2^31) (the nudge's sign never
 * applies) and RDBPOT(q, e) = floor((q + 2^(e-1)) / 2^e) for q >= 0,
 * e >= 1 (gemmlowp's remainder > (2^e - 1) >> 1 is remainder >= 2^(e-1));
 * floor((floor(u / 2^31) + c) / 2^e) = floor((u + c 2^31) / 2^(31+e)), so
 *   v = (a b + 2^30 + [e > 0] 2^(30+e)) >> (31 + e)
 * on unsigned 64-bit lanes (a b + both constants < 2^62 + 2^61 + 2^30).  A
 * row over 31 has RECIP 0 and EXC 31: (2^30 + 2^61) >> 62 = 0, the
 * interpreter's v = 0.  Then v - 128 clamped to [-128, 127], v >= 0: the
 * byte of min(v, 255) with its top bit flipped. */
static LLVMValueRef outputs(Cg *cg, LLVMValueRef recip, LLVMValueRef exc, LLVMValueRef e)
{
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(e));
    LLVMTypeRef wt = LLVMVectorType(cg->t_i64, n / 2), vt = LLVMVectorType(cg->t_i32, n);
    LLVMValueRef x64 = LLVMBuildZExt(B, exc, cg->t_i64, "");
    LLVMValueRef kk = LLVMBuildShl(B, cg_i64(cg, 1), LLVMBuildAdd(B, x64, cg_i64(cg, 30), ""), "");
    kk = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, exc, cg_i32(cg, 0), ""), cg_i64(cg, 0), kk, "");
    kk = LLVMBuildAdd(B, kk, cg_i64(cg, INT64_C(1) << 30), "");
    LLVMValueRef sh = cg_splat(cg, LLVMBuildAdd(B, x64, cg_i64(cg, 31), ""), n / 2);
    LLVMValueRef r = cg_splat(cg, LLVMBuildZExt(B, recip, cg->t_i64, ""), n / 2);
    /* The N lanes as N/2 64-bit pairs: the even lanes' products from the
     * low halves, the odd lanes' from the high ones (a 32x32->64 multiply
     * each, vpmuludq), and each v (below 2^32) back in its own
     * 32-bit half, so the lanes never leave their order. */
    LLVMValueRef pair = LLVMBuildBitCast(B, e, wt, ""), half[2];
    half[0] = LLVMBuildAnd(B, pair, const_vec(cg->t_i64, n / 2, 0xffffffffu), "");
    half[1] = LLVMBuildLShr(B, pair, const_vec(cg->t_i64, n / 2, 32), "");
    for (int h = 0; h < 2; h++) {
        LLVMValueRef p = LLVMBuildNUWMul(B, r, half[h], "");
        half[h] = LLVMBuildLShr(B, LLVMBuildNUWAdd(B, p, cg_splat(cg, kk, n / 2), ""), sh, "");
    }
    LLVMValueRef p = LLVMBuildOr(B, half[0], LLVMBuildShl(B, half[1], const_vec(cg->t_i64, n / 2, 32), ""), "");
    LLVMValueRef mm[2] = {LLVMBuildBitCast(B, p, vt, ""), const_vec(cg->t_i32, n, 255)};
    p = kern_intrinsic(cg, "llvm.umin", &vt, 1, mm, 2);
    p = LLVMBuildTrunc(B, p, LLVMVectorType(cg->t_i8, n), "");
    return LLVMBuildXor(B, p, const_vec(cg->t_i8, n, 0x80), "");
}

static void store_row(Cg *cg, LLVMValueRef y, LLVMValueRef off, LLVMValueRef v)
{
    LLVMValueRef st = LLVMBuildStore(B, v, LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &off, 1, ""));
    LLVMSetAlignment(st, 1);
}

typedef struct Sm {
    LLVMValueRef x, y, tab, tab12, fresh;
    int64_t len, nv, rem;
    LLVMValueRef m, sum, recip, exc; /* [RB] i32 arrays on the stack (RBL: kern_softmax_lut's) */
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
/* The byte-plane kernel's rows a block: its reciprocals, vectorized by
 * LLVM across the block, are a long chain of 64-bit multiplies, and 32
 * rows a chain took a third off ViT's softmax (4x49x49) against 8. */
enum { RBL = 32 };

static LLVMValueRef elt(Cg *cg, LLVMValueRef arr, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(B, cg->t_i32, arr, &i, 1, "");
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

/* Pass 2 for row I: the reciprocal of its sum and the exponent, as
 * outputs() takes them (a row whose exponent is over 31: 0 and 31). */
static void recip_pass(Cg *cg, const Sm *s, LLVMValueRef i)
{
    LLVMValueRef big, exc, recip = cg_softmax_recip(cg, ld32(cg, s->sum, i), &exc, &big);
    LLVMBuildStore(B, LLVMBuildSelect(B, big, cg_i32(cg, 0), recip, ""), elt(cg, s->recip, i));
    LLVMBuildStore(B, exc, elt(cg, s->exc, i));
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
    recip_pass(cg, s, i);
    cg_for_end(cg, &lr);

    /* Pass 3: the outputs; the overlapping last vector first (read before
     * any store of its row), stored after the others. */
    i = cg_for_begin(cg, &lr, count, "r");
    row = LLVMBuildMul(B, LLVMBuildAdd(B, r0, i, ""), cg_idx(cg, len), "");
    tail = LLVMBuildAdd(B, row, cg_idx(cg, len - LANES), "");
    m = ld32(cg, s->m, i);
    LLVMValueRef recip = ld32(cg, s->recip, i);
    LLVMValueRef exc = ld32(cg, s->exc, i);
    erow = s->ex ? LLVMBuildMul(B, i, cg_idx(cg, len), "") : NULL;
    LLVMValueRef ty = rem ? outputs(cg, recip, exc, out_term(cg, s, m, x, tail, erow, cg_idx(cg, len - LANES))) : NULL;
    k = LLVMBuildMul(B, cg_for_begin(cg, &lk, nv, "k"), cg_idx(cg, LANES), "");
    LLVMValueRef off = LLVMBuildAdd(B, row, k, "");
    store_row(cg, y, off, outputs(cg, recip, exc, out_term(cg, s, m, x, off, erow, k)));
    cg_for_end(cg, &lk);
    if (rem)
        store_row(cg, y, tail, ty);
    cg_for_end(cg, &lr);
}

/* ------------------------------------------------------------ byte-plane lookups */

/* With a target's byte lookup (KLut: AVX-512 VBMI's two vpermi2b and a
 * select, 64 bytes a step), the 256-entry i32 tables become byte planes:
 * exp[d] is the bytes P0[d] | P1[d] << 8 | P2[d] << 16 | P3[d] << 24, each
 * plane a 256-byte table, so K.lanes exponentials are four lookups where
 * the gather took one load per lane.  The sum's addends (below 2^20) are
 * three planes, summed each as bytes (sum = S0 + S1 << 8 + S2 << 16, the
 * same integer as the interpreter's lane by lane).  A row goes K.lanes
 * bytes a chunk, the last one masked (masked loads and stores: nothing
 * read or written past the row), so no overlap and no stack buffer; pass
 * 3 looks the exponentials up again. */
typedef struct SmLut {
    const KLut *k;
    uint8_t exp[4][256], e12[3][256];
    LLVMValueRef x, y, m, sum, recip, exc;
    int64_t len;
} SmLut;

static LLVMValueRef lane_mask(Cg *cg, int lanes, int64_t n)
{
    LLVMValueRef e[64];
    for (int i = 0; i < lanes; i++)
        e[i] = LLVMConstInt(cg->t_i1, i < n, 0);
    return LLVMConstVector(e, (unsigned)lanes);
}

/* K.lanes bytes of the row at X + OFF; with MASK, only its lanes (the
 * others PASS). */
static LLVMValueRef load_chunk(Cg *cg, const SmLut *s, LLVMValueRef off, LLVMValueRef mask, int pass)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, (unsigned)s->k->lanes);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, cg->t_i8, s->x, &off, 1, "");
    if (!mask)
        return kern_load_vec(cg, bt, p);
    LLVMTypeRef over[2] = {bt, LLVMTypeOf(p)};
    LLVMValueRef args[4] = {p, cg_i32(cg, 1), mask, const_vec(cg->t_i8, (unsigned)s->k->lanes, (unsigned)pass & 0xff)};
    return kern_intrinsic(cg, "llvm.masked.load", over, 2, args, 4);
}

/* The table indices m - v of the bytes V (wrapping byte arithmetic:
 * 0 <= m - v <= 255). */
static LLVMValueRef diffs(Cg *cg, const SmLut *s, LLVMValueRef m, LLVMValueRef v)
{
    return LLVMBuildSub(B, cg_splat(cg, LLVMBuildTrunc(B, m, cg->t_i8, ""), (unsigned)s->k->lanes), v, "d");
}

/* Calls F(cg, s, row, off, mask) for each chunk of the row at ROW. */
typedef void ChunkFn(Cg *cg, const SmLut *s, LLVMValueRef i, LLVMValueRef off, LLVMValueRef mask, LLVMValueRef acc);

static void chunks(Cg *cg, const SmLut *s, LLVMValueRef i, LLVMValueRef row, ChunkFn *f, LLVMValueRef acc)
{
    int lanes = s->k->lanes;
    int64_t nfull = s->len / lanes, rem = s->len % lanes;
    if (nfull) {
        CgLoop lk;
        LLVMValueRef k = LLVMBuildMul(B, cg_for_begin(cg, &lk, nfull, "k"), cg_idx(cg, lanes), "");
        f(cg, s, i, LLVMBuildAdd(B, row, k, ""), NULL, acc);
        cg_for_end(cg, &lk);
    }
    if (rem)
        f(cg, s, i, LLVMBuildAdd(B, row, cg_idx(cg, nfull * lanes), ""), lane_mask(cg, lanes, rem), acc);
}

static void max_chunk(Cg *cg, const SmLut *s, LLVMValueRef i, LLVMValueRef off, LLVMValueRef mask, LLVMValueRef acc)
{
    (void)i;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, (unsigned)s->k->lanes);
    LLVMBuildStore(B, cg_smax(cg, LLVMBuildLoad2(B, bt, acc, ""), load_chunk(cg, s, off, mask, -128)), acc);
}

/* Adds the chunk's addends to ACC (an i32): each plane's bytes (masked
 * lanes 0) summed, shifted to its place. */
static void sum_chunk(Cg *cg, const SmLut *s, LLVMValueRef i, LLVMValueRef off, LLVMValueRef mask, LLVMValueRef acc)
{
    unsigned lanes = (unsigned)s->k->lanes;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, lanes), wt = LLVMVectorType(cg->t_i32, lanes);
    LLVMValueRef d = diffs(cg, s, ld32(cg, s->m, i), load_chunk(cg, s, off, mask, 0));
    LLVMValueRef t = LLVMBuildLoad2(B, cg->t_i32, acc, "");
    for (int p = 0; p < 3; p++) {
        LLVMValueRef b = s->k->lookup(cg, s->e12[p], d);
        if (mask)
            b = LLVMBuildSelect(B, mask, b, LLVMConstNull(bt), "");
        LLVMValueRef w = LLVMBuildZExt(B, b, wt, "");
        LLVMValueRef r = kern_intrinsic(cg, "llvm.vector.reduce.add", &wt, 1, &w, 1);
        t = LLVMBuildAdd(B, t, p ? LLVMBuildShl(B, r, cg_i32(cg, 8 * p), "") : r, "");
    }
    LLVMBuildStore(B, t, acc);
}

/* The <N x T2> whose element j is A[j] in its low half and B[j] in its
 * high half, A and B <N x T>, T2 twice T's width: the interleave of A and
 * B read as wider elements (little-endian data layouts, as every target's). */
static LLVMValueRef join_halves(Cg *cg, LLVMValueRef a, LLVMValueRef b, LLVMTypeRef t2)
{
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(a));
    LLVMValueRef idx[128];
    for (unsigned j = 0; j < n; j++) {
        idx[2 * j] = cg_i32(cg, (int32_t)j);
        idx[2 * j + 1] = cg_i32(cg, (int32_t)(n + j));
    }
    LLVMValueRef w = LLVMBuildShuffleVector(B, a, b, LLVMConstVector(idx, 2 * n), "");
    return LLVMBuildBitCast(B, w, LLVMVectorType(t2, n), "");
}

static void out_chunk(Cg *cg, const SmLut *s, LLVMValueRef i, LLVMValueRef off, LLVMValueRef mask, LLVMValueRef acc)
{
    (void)acc;
    LLVMValueRef d = diffs(cg, s, ld32(cg, s->m, i), load_chunk(cg, s, off, mask, 0)), pl[4];
    for (int p = 0; p < 4; p++)
        pl[p] = s->k->lookup(cg, s->exp[p], d);
    /* exp[d] = P0 | P1 << 8 | P2 << 16 | P3 << 24, as byte interleaves
     * (the planes' bytes in memory order), not four widenings and shifts. */
    LLVMValueRef e = join_halves(cg, join_halves(cg, pl[0], pl[1], cg->t_i16), join_halves(cg, pl[2], pl[3], cg->t_i16),
                                 cg->t_i32);
    LLVMValueRef v = outputs(cg, ld32(cg, s->recip, i), ld32(cg, s->exc, i), e);
    LLVMValueRef py = LLVMBuildInBoundsGEP2(B, cg->t_i8, s->y, &off, 1, "");
    if (!mask) {
        LLVMSetAlignment(LLVMBuildStore(B, v, py), 1);
        return;
    }
    LLVMTypeRef over[2] = {LLVMTypeOf(v), LLVMTypeOf(py)};
    LLVMValueRef args[4] = {v, py, cg_i32(cg, 1), mask};
    kern_intrinsic(cg, "llvm.masked.store", over, 2, args, 4);
}

/* COUNT rows from row R0, in emit_rows' three passes. */
static void emit_rows_lut(Cg *cg, const SmLut *s, LLVMValueRef r0, int64_t count)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, (unsigned)s->k->lanes);
    LLVMValueRef acc = cg_alloca(cg, bt, "mx"), sacc = cg_alloca(cg, cg->t_i32, "sum");
    CgLoop lr;
    LLVMValueRef i = cg_for_begin(cg, &lr, count, "r");
    LLVMValueRef row = LLVMBuildMul(B, LLVMBuildAdd(B, r0, i, ""), cg_idx(cg, s->len), "");
    LLVMBuildStore(B, const_vec(cg->t_i8, (unsigned)s->k->lanes, 0x80), acc);
    chunks(cg, s, i, row, max_chunk, acc);
    LLVMValueRef mv = LLVMBuildLoad2(B, bt, acc, "");
    LLVMBuildStore(B, LLVMBuildSExt(B, kern_intrinsic(cg, "llvm.vector.reduce.smax", &bt, 1, &mv, 1), cg->t_i32, ""),
                   elt(cg, s->m, i));
    LLVMBuildStore(B, cg_i32(cg, 0), sacc);
    chunks(cg, s, i, row, sum_chunk, sacc);
    LLVMBuildStore(B, LLVMBuildLoad2(B, cg->t_i32, sacc, ""), elt(cg, s->sum, i));
    cg_for_end(cg, &lr);

    i = cg_for_begin(cg, &lr, count, "r");
    recip_pass(cg, &(Sm){.sum = s->sum, .recip = s->recip, .exc = s->exc}, i);
    cg_for_end(cg, &lr);

    i = cg_for_begin(cg, &lr, count, "r");
    row = LLVMBuildMul(B, LLVMBuildAdd(B, r0, i, ""), cg_idx(cg, s->len), "");
    chunks(cg, s, i, row, out_chunk, NULL);
    cg_for_end(cg, &lr);
}

/* Whether N is a softmax kern_softmax takes; its exponentials in SM. */
static bool softmax_fits(const Node *n, FpSoftmax *sm)
{
    if (n->op != OP_SOFTMAX || node_rounding(n) != ROUND_TFLITE)
        return false;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, -1);
    if (axis < 0)
        axis += xt->rank;
    if (xt->dtype != DT_I8 || yt->dtype != DT_I8 || !quant_is_per_tensor(xt->quant) ||
        !quant_is_per_tensor(yt->quant) || axis != xt->rank - 1 || xt->dims[axis] < LANES)
        return false;
    return fp_softmax_prepare(qparam_chan(xt->quant, 0).scale, sm); /* else the generic lowering reports it */
}

const char *kern_softmax_lut(Cg *cg, const Node *n, const KLut *k)
{
    SmLut *s = calloc(1, sizeof *s);
    FpSoftmax sm;
    if (!s || !softmax_fits(n, &sm)) {
        free(s);
        return NULL;
    }
    s->k = k;
    for (int d = 0; d < 256; d++) {
        uint32_t e = (uint32_t)sm.exp[d], e12 = (uint32_t)fp_rdbpot(sm.exp[d], 12);
        for (int p = 0; p < 4; p++)
            s->exp[p][d] = (uint8_t)(e >> (8 * p));
        for (int p = 0; p < 3; p++)
            s->e12[p][d] = (uint8_t)(e12 >> (8 * p));
    }
    const TensorType *xt = &n->operands[0]->type;
    s->len = xt->dims[xt->rank - 1];
    s->x = cg_buf(cg, n->operands[0]);
    s->y = cg_buf(cg, n->result);
    LLVMTypeRef at = LLVMArrayType(cg->t_i32, RBL);
    s->m = cg_alloca(cg, at, "m");
    s->sum = cg_alloca(cg, at, "s");
    s->recip = cg_alloca(cg, at, "recip");
    s->exc = cg_alloca(cg, at, "exc");
    int64_t rows = type_numel(xt) / s->len;
    if (rows / RBL) {
        CgLoop lb;
        LLVMValueRef b = cg_for_begin(cg, &lb, rows / RBL, "blk");
        emit_rows_lut(cg, s, LLVMBuildMul(B, b, cg_idx(cg, RBL), ""), RBL);
        cg_for_end(cg, &lb);
    }
    if (rows % RBL)
        emit_rows_lut(cg, s, cg_idx(cg, rows / RBL * RBL), rows % RBL);
    free(s);
    static char name[64];
    snprintf(name, sizeof name, "softmax_rows_%s", k->name);
    return name;
}

const char *kern_softmax(Cg *cg, const Node *n)
{
    FpSoftmax sm;
    if (!softmax_fits(n, &sm))
        return NULL;
    const TensorType *xt = &n->operands[0]->type;
    int64_t axis = xt->rank - 1;
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
