/* kernel_matmul.c - int8 matmul of two run-time operands ("matmul_gemm"):
 * attention's Q.K^T and P.V, where b is an activation and cannot be packed
 * at compile time as conv_gemm (kernel_gemm.c) packs its weights.
 *
 * Per batch matrix, b[K][N] is first packed on the stack into the dot
 * layout [NV][K4][L][4] (vector v of L columns, group of 4 rows, lane,
 * byte; rows past K and columns past N are 0), made signed (^0x80) when
 * it is u8, and its column sums come out of the same step (the KGemm's
 * mac4 with activations of 1).  Then MR rows of a x NV vectors of L
 * columns are a register tile over the reduction, the KGemm's mac4 on 4
 * bytes of a row (one i32 splat to every lane) and a packed word per lane,
 * exactly conv_gemm's inner step.
 *
 * The zero points are corrected at run time.  With a' and b' the bytes
 * as the instruction reads them (a' = a ^ 0x80 when the instruction wants
 * the other signedness: a' = a + da, da = +-128; b' = b - 128 for u8 b)
 * and za', zb' the zero points moved the same way,
 *
 *   sum_k (a - za)(b - zb) = sum_k a'b' - zb' * (RA + K*da) - za' * CB' + K*za'*zb'
 *
 * with RA the row sum of the raw a and CB' the column sum of b'.  The
 * terms of the column (K*za'*zb' - K*da*zb' - za'*CB') are a vector per
 * column computed while packing; -zb'*RA[m] is added per row when some zb'
 * is not 0.  Every sum is a wrapping i32 add: modular arithmetic gives the
 * interpreter's exact sum whenever that fits int32 (otherwise the
 * interpreter refuses the graph).  The accumulators go through the vector
 * requantization epilogue (kernel_requant.c), one L-byte store per row and
 * vector (the lanes of a partial last vector one by one).
 *
 * The packed b (at most MM_PACK_MAX bytes) and the column terms are
 * stack slots of the node's function, not scratch: the memory plan is
 * unchanged.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>

#define B (cg->b)
#define MR_MAX 16
#define NV_MAX 8
/* The largest packed b (bytes of stack) the kernel takes. */
#define MM_PACK_MAX (64 * 1024)

typedef struct MmK {
    const KGemm *d;
    int L;
    int64_t M, K, N, K4, NV, NP;
    DType adt;
    bool aflip, bflip;
    int32_t za, da;   /* za' and da (see above) */
    bool rows;        /* some zb' != 0: the row sums are needed */
    LLVMValueRef zb;  /* zb' per column, NP i32 (0 past N) */
    LLVMValueRef pack, cterm; /* stack: packed b, the column terms (NP i32) */
    LLVMValueRef a, b, y;     /* this batch's matrices */
    KRequant rq;
} MmK;

static LLVMValueRef gep32(Cg *cg, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(B, cg->t_i32, base, &i, 1, "");
}

static LLVMValueRef load_vec(Cg *cg, LLVMTypeRef t, LLVMValueRef p, unsigned align)
{
    LLVMValueRef v = LLVMBuildLoad2(B, t, p, "");
    LLVMSetAlignment(v, align);
    return v;
}

/* Row Q of the group: NL bytes of b's row K at column C0, flipped when b
 * is u8, zero in the lanes past NL. */
static LLVMValueRef pack_row(Cg *cg, MmK *k, LLVMValueRef kr, LLVMValueRef c0, int nl)
{
    LLVMTypeRef rt = LLVMVectorType(cg->t_i8, (unsigned)k->L);
    LLVMValueRef p = cg_gep8(cg, k->b, cg_add(cg, cg_mulk(cg, kr, k->N), c0));
    LLVMValueRef r;
    if (nl == k->L) {
        r = load_vec(cg, rt, p, 1);
        if (k->bflip)
            r = kern_flip(cg, r);
        return r;
    }
    r = LLVMConstNull(rt);
    for (int l = 0; l < nl; l++) {
        LLVMValueRef e = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, p, cg_idx(cg, l)), "");
        if (k->bflip)
            e = LLVMBuildXor(B, e, LLVMConstInt(cg->t_i8, 0x80, false), "");
        r = LLVMBuildInsertElement(B, r, e, cg_i32(cg, l), "");
    }
    return r;
}

/* Packs group G (an idx value; NROWS of its 4 rows real) of vector V (an
 * idx value; NL real lanes) and returns it as <L x i32>. */
static LLVMValueRef pack_group(Cg *cg, MmK *k, LLVMValueRef v, LLVMValueRef g, int nrows, int nl)
{
    int L = k->L;
    LLVMTypeRef rt = LLVMVectorType(cg->t_i8, (unsigned)L);
    LLVMValueRef c0 = cg_mulk(cg, v, L), r[4];
    for (int q = 0; q < 4; q++)
        r[q] = q < nrows ? pack_row(cg, k, cg_add(cg, cg_mulk(cg, g, 4), cg_idx(cg, q)), c0, nl) : LLVMConstNull(rt);
    /* Interleave: byte 4l+q of the group is row q's lane l. */
    LLVMValueRef m[256];
    for (int i = 0; i < 2 * L; i++)
        m[i] = cg_i32(cg, i);
    LLVMValueRef r01 = LLVMBuildShuffleVector(B, r[0], r[1], LLVMConstVector(m, (unsigned)(2 * L)), "");
    LLVMValueRef r23 = LLVMBuildShuffleVector(B, r[2], r[3], LLVMConstVector(m, (unsigned)(2 * L)), "");
    for (int l = 0; l < L; l++)
        for (int q = 0; q < 4; q++)
            m[4 * l + q] = cg_i32(cg, q * L + l);
    LLVMValueRef w = LLVMBuildShuffleVector(B, r01, r23, LLVMConstVector(m, (unsigned)(4 * L)), "");
    LLVMValueRef off = cg_mulk(cg, cg_add(cg, cg_mulk(cg, v, k->K4), g), 4 * L);
    LLVMSetAlignment(LLVMBuildStore(B, w, cg_gep8(cg, k->pack, off)), 4);
    return LLVMBuildBitCast(B, w, LLVMVectorType(cg->t_i32, (unsigned)L), "");
}

/* Packs every group of vector V (NL real lanes) and stores its column
 * terms. */
static void pack_vector(Cg *cg, MmK *k, LLVMValueRef v, int nl)
{
    int L = k->L;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)L);
    LLVMValueRef ones = cg_splat(cg, cg_i32(cg, 0x01010101), L);
    LLVMValueRef csp = cg_alloca(cg, vt, "mmcs");
    LLVMBuildStore(B, LLVMConstNull(vt), csp);
    int64_t nfull = k->K / 4;
    int krem = (int)(k->K % 4);
    if (nfull > 0) {
        CgLoop lg;
        LLVMValueRef g = cg_for_begin(cg, &lg, nfull, "pg");
        LLVMValueRef w = pack_group(cg, k, v, g, 4, nl);
        LLVMBuildStore(B, k->d->mac4(cg, LLVMBuildLoad2(B, vt, csp, ""), ones, w), csp);
        cg_for_end(cg, &lg);
    }
    if (krem) {
        LLVMValueRef w = pack_group(cg, k, v, cg_idx(cg, nfull), krem, nl);
        LLVMBuildStore(B, k->d->mac4(cg, LLVMBuildLoad2(B, vt, csp, ""), ones, w), csp);
    }
    /* K*za'*zb' - K*da*zb' - za'*CB', wrapping. */
    LLVMValueRef c0 = cg_mulk(cg, v, L);
    LLVMValueRef zb = load_vec(cg, vt, gep32(cg, k->zb, c0), 4);
    int32_t kz = (int32_t)(uint32_t)((uint64_t)k->K * (uint64_t)(int64_t)(k->za - k->da));
    LLVMValueRef t = LLVMBuildMul(B, zb, cg_splat(cg, cg_i32(cg, kz), L), "");
    t = LLVMBuildSub(B, t, LLVMBuildMul(B, LLVMBuildLoad2(B, vt, csp, ""), cg_splat(cg, cg_i32(cg, k->za), L), ""), "");
    LLVMSetAlignment(LLVMBuildStore(B, t, gep32(cg, k->cterm, c0)), 4);
}

/* 4 bytes of a row at P (the first N of them real, the others 0), as an
 * i32 splat to every lane, flipped when the step wants the other
 * signedness (the padding bytes meet zero weights). */
static LLVMValueRef x_splat(Cg *cg, MmK *k, LLVMValueRef p, int n)
{
    LLVMValueRef v;
    if (n == 4) {
        v = load_vec(cg, cg->t_i32, p, 1);
    } else {
        v = cg_i32(cg, 0);
        for (int q = 0; q < n; q++) {
            LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, p, cg_idx(cg, q)), "");
            b = LLVMBuildShl(B, LLVMBuildZExt(B, b, cg->t_i32, ""), cg_i32(cg, 8 * q), "");
            v = LLVMBuildOr(B, v, b, "");
        }
    }
    if (k->aflip)
        v = LLVMBuildXor(B, v, cg_i32(cg, (int32_t)0x80808080u), "");
    return cg_splat(cg, v, k->L);
}

/* One reduction step over group G (N real bytes) for the tile's rows
 * (AROW: their first bytes) and vectors V0 .. V0+NV. */
static void mm_step(Cg *cg, MmK *k, LLVMValueRef *arow, int mr, LLVMValueRef v0, int nv, LLVMValueRef g, int n,
                    LLVMValueRef *accp)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)k->L);
    LLVMValueRef wv[NV_MAX], acc[MR_MAX * NV_MAX];
    for (int a = 0; a < mr * nv; a++)
        acc[a] = LLVMBuildLoad2(B, vt, accp[a], "");
    for (int j = 0; j < nv; j++) {
        LLVMValueRef off = cg_mulk(cg, cg_add(cg, cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), k->K4), g), k->L);
        wv[j] = load_vec(cg, vt, gep32(cg, k->pack, off), 4);
    }
    LLVMValueRef xoff = cg_mulk(cg, g, 4);
    for (int m = 0; m < mr; m++) {
        LLVMValueRef xs = x_splat(cg, k, cg_gep8(cg, arow[m], xoff), n);
        for (int j = 0; j < nv; j++)
            acc[m * nv + j] = k->d->mac4(cg, acc[m * nv + j], xs, wv[j]);
    }
    for (int a = 0; a < mr * nv; a++)
        LLVMBuildStore(B, acc[a], accp[a]);
}

/* Rows M0 .. M0+MR (M0 an idx value; RS their row sums or NULL) times
 * vectors V0 .. V0+NV; LAST: the tile's last vector is the matrix's last. */
static void mm_tile(Cg *cg, MmK *k, LLVMValueRef m0, int mr, LLVMValueRef *rs, LLVMValueRef v0, int nv, bool last)
{
    int L = k->L;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)L), t8 = LLVMVectorType(cg->t_i8, (unsigned)L);
    LLVMValueRef accp[MR_MAX * NV_MAX], arow[MR_MAX];
    for (int j = 0; j < nv; j++) {
        LLVMValueRef c0 = cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), L);
        LLVMValueRef ct = load_vec(cg, vt, gep32(cg, k->cterm, c0), 4);
        LLVMValueRef zb = k->rows ? load_vec(cg, vt, gep32(cg, k->zb, c0), 4) : NULL;
        for (int m = 0; m < mr; m++) {
            LLVMValueRef init = ct;
            if (zb)
                init = LLVMBuildSub(B, init, LLVMBuildMul(B, zb, cg_splat(cg, rs[m], L), ""), "");
            accp[m * nv + j] = cg_alloca(cg, vt, "mmacc");
            LLVMBuildStore(B, init, accp[m * nv + j]);
        }
    }
    for (int m = 0; m < mr; m++)
        arow[m] = cg_gep8(cg, k->a, cg_mulk(cg, cg_add(cg, m0, cg_idx(cg, m)), k->K));
    int64_t nfull = k->K / 4;
    int krem = (int)(k->K % 4);
    if (nfull > 0) {
        CgLoop lg;
        LLVMValueRef g = nfull > 1 ? cg_for_begin(cg, &lg, nfull, "mg") : cg_idx(cg, 0);
        mm_step(cg, k, arow, mr, v0, nv, g, 4, accp);
        if (nfull > 1)
            cg_for_end(cg, &lg);
    }
    if (krem)
        mm_step(cg, k, arow, mr, v0, nv, cg_idx(cg, nfull), krem, accp);
    for (int m = 0; m < mr; m++) {
        LLVMValueRef yrow = cg_gep8(cg, k->y, cg_mulk(cg, cg_add(cg, m0, cg_idx(cg, m)), k->N));
        for (int j = 0; j < nv; j++) {
            LLVMValueRef c0 = cg_mulk(cg, cg_add(cg, v0, cg_idx(cg, j)), L);
            LLVMValueRef v = kern_requant(cg, &k->rq, LLVMBuildLoad2(B, vt, accp[m * nv + j], ""), c0);
            LLVMValueRef b = LLVMBuildTrunc(B, v, t8, "");
            LLVMValueRef yp = cg_gep8(cg, yrow, c0);
            int nl = last && j == nv - 1 && k->N % L ? (int)(k->N % L) : L;
            if (nl == L) {
                LLVMSetAlignment(LLVMBuildStore(B, b, yp), 1);
            } else {
                for (int l = 0; l < nl; l++)
                    LLVMBuildStore(B, LLVMBuildExtractElement(B, b, cg_i32(cg, l), ""), cg_gep8(cg, yp, cg_idx(cg, l)));
            }
        }
    }
}

/* MR rows from M0: their row sums, then every vector, NV at a time and
 * what is left. */
static void mm_rows(Cg *cg, MmK *k, LLVMValueRef m0, int mr)
{
    LLVMValueRef rs[MR_MAX];
    if (k->rows) {
        LLVMValueRef sp = cg_alloca(cg, cg->t_i32, "mmrs");
        for (int m = 0; m < mr; m++) {
            LLVMValueRef row = cg_gep8(cg, k->a, cg_mulk(cg, cg_add(cg, m0, cg_idx(cg, m)), k->K));
            LLVMBuildStore(B, cg_i32(cg, 0), sp);
            CgLoop lk;
            LLVMValueRef kk = cg_for_begin(cg, &lk, k->K, "rk");
            LLVMBuildStore(B, cg_add(cg, LLVMBuildLoad2(B, cg->t_i32, sp, ""), cg_load_int(cg, k->adt, row, kk)), sp);
            cg_for_end(cg, &lk);
            rs[m] = LLVMBuildLoad2(B, cg->t_i32, sp, "");
        }
    }
    int nv = k->d->nv > k->NV ? (int)k->NV : k->d->nv;
    bool partial = k->N % k->L != 0;
    int64_t nmain = (k->NV - partial) / nv, rem = k->NV - nmain * nv;
    if (nmain > 0) {
        CgLoop lv;
        LLVMValueRef v0 = nmain > 1 ? cg_mulk(cg, cg_for_begin(cg, &lv, nmain, "mv"), nv) : cg_idx(cg, 0);
        mm_tile(cg, k, m0, mr, rs, v0, nv, !partial && nmain == 1 && rem == 0);
        if (nmain > 1)
            cg_for_end(cg, &lv);
    }
    if (rem > 0)
        mm_tile(cg, k, m0, mr, rs, cg_idx(cg, nmain * nv), (int)rem, true);
}

bool kern_matmul_gemm(Cg *cg, const Node *n, const KGemm *d)
{
    if (n->op != OP_MATMUL || !d || d->lanes < 1 || d->mr < 1 || d->mr > MR_MAX || d->nv < 1 || d->nv > NV_MAX)
        return false;
    const Value *av = n->operands[0], *bv = n->operands[1];
    const TensorType *at = &av->type, *bt = &bv->type, *yt = &n->result->type;
    DType adt = at->dtype, bdt = bt->dtype;
    if ((adt != DT_I8 && adt != DT_U8) || (bdt != DT_I8 && bdt != DT_U8) || !yt->quant ||
        (yt->dtype != DT_I8 && yt->dtype != DT_U8) || at->rank < 2 || bt->rank < 2)
        return false;
    /* A constant b is kern_conv's (packed at compile time) or stays on
     * the generic loops (batched, zero-pointed, u8 constants). */
    if (bv->data)
        return false;
    int L = d->lanes;
    MmK k = {.d = d, .L = L, .adt = adt};
    k.M = at->dims[at->rank - 2], k.K = at->dims[at->rank - 1], k.N = bt->dims[bt->rank - 1];
    k.K4 = (k.K + 3) / 4, k.NV = (k.N + L - 1) / L, k.NP = k.NV * L;
    if (k.M < 1 || k.K < 1 || k.N < 1 || k.NP * k.K4 * 4 > MM_PACK_MAX)
        return false;
    const Quant *aq = at->quant, *bq = bt->quant;
    int64_t nzb = bq && bq->count > 1 ? k.N : 1;
    int rounding = node_rounding(n);
    OutStage *st = cg_product_stage(cg, n, yt, aq, bq, k.N, rounding);
    if (!st)
        return true; /* reported */
    /* a' and b' as the instruction reads them. */
    k.aflip = (adt == DT_U8) != d->x_unsigned;
    k.da = k.aflip ? (adt == DT_U8 ? -128 : 128) : 0;
    k.za = qparam_chan(aq, 0).zp + k.da;
    k.bflip = bdt == DT_U8;
    int32_t *zb = xcalloc((size_t)k.NP, sizeof *zb);
    for (int64_t j = 0; j < k.N; j++) {
        zb[j] = qparam_chan(bq, nzb > 1 ? j : 0).zp - (k.bflip ? 128 : 0);
        k.rows |= zb[j] != 0;
    }
    k.zb = cg_table_i32(cg, zb, k.NP, "mmzb");
    free(zb);
    /* Per-column stages padded to NP (the padding lanes are never stored). */
    int64_t nst = cg_stage_count(st, k.N);
    OutStage *stp = st;
    if (nst > 1) {
        stp = xmalloc((size_t)k.NP * sizeof *stp);
        for (int64_t j = 0; j < k.NP; j++)
            stp[j] = st[j < k.N ? j : k.N - 1];
        nst = k.NP;
    }
    kern_requant_init(cg, &k.rq, stp, nst, rounding);
    k.pack = cg_alloca(cg, LLVMArrayType2(cg->t_i8, (uint64_t)(k.NP * k.K4 * 4)), "mmpack");
    LLVMSetAlignment(k.pack, 64);
    k.cterm = cg_alloca(cg, LLVMArrayType2(cg->t_i32, (uint64_t)k.NP), "mmcterm");
    LLVMSetAlignment(k.cterm, 64);

    /* Batch dims, numpy-broadcast (lower_matmul's strides). */
    int br = yt->rank - 2;
    int64_t sa[QNN_MAX_RANK] = {0}, sb[QNN_MAX_RANK] = {0}, sy[QNN_MAX_RANK] = {0}, s = 1;
    for (int dd = at->rank - 3; dd >= 0; dd--) {
        sa[dd + (br - (at->rank - 2))] = at->dims[dd] == 1 ? 0 : s;
        s *= at->dims[dd];
    }
    s = 1;
    for (int dd = bt->rank - 3; dd >= 0; dd--) {
        sb[dd + (br - (bt->rank - 2))] = bt->dims[dd] == 1 ? 0 : s;
        s *= bt->dims[dd];
    }
    s = 1;
    for (int dd = br - 1; dd >= 0; dd--) {
        sy[dd] = s;
        s *= yt->dims[dd];
    }
    LLVMValueRef a = cg_buf(cg, av), b = cg_buf(cg, bv), y = cg_buf(cg, n->result);
    CgNest nest;
    cg_nest_begin(cg, &nest, br, yt->dims);
    k.a = cg_gep8(cg, a, cg_mulk(cg, cg_nest_offset(cg, &nest, sa), k.M * k.K));
    k.b = cg_gep8(cg, b, cg_mulk(cg, cg_nest_offset(cg, &nest, sb), k.K * k.N));
    k.y = cg_gep8(cg, y, cg_mulk(cg, cg_nest_offset(cg, &nest, sy), k.M * k.N));
    int64_t nvfull = k.N / L;
    if (nvfull > 0) {
        CgLoop lv;
        pack_vector(cg, &k, nvfull > 1 ? cg_for_begin(cg, &lv, nvfull, "pv") : cg_idx(cg, 0), L);
        if (nvfull > 1)
            cg_for_end(cg, &lv);
    }
    if (k.N % L)
        pack_vector(cg, &k, cg_idx(cg, nvfull), (int)(k.N % L));
    int mr = d->mr > k.M ? (int)k.M : d->mr;
    int64_t nt = k.M / mr, mrem = k.M % mr;
    if (nt > 0) {
        CgLoop lm;
        mm_rows(cg, &k, nt > 1 ? cg_mulk(cg, cg_for_begin(cg, &lm, nt, "mm"), mr) : cg_idx(cg, 0), mr);
        if (nt > 1)
            cg_for_end(cg, &lm);
    }
    if (mrem > 0)
        mm_rows(cg, &k, cg_idx(cg, nt * mr), (int)mrem);
    cg_nest_end(cg, &nest);
    if (stp != st)
        free(stp);
    free(st);
    snprintf(cg->kernel_tile, sizeof cg->kernel_tile, "%dx%dc4", mr, (int)(d->nv > k.NV ? k.NV : d->nv) * L);
    return true;
}
