/* kernel_minmax.c - max and min of 8-bit operands as byte vectors.
 *
 * The interpreter's quantized max is y = sat(rne(max(ra, rb) / sy) + zy)
 * with ra, rb each operand's real value (docs/ir-semantics.md, "pow, max,
 * min, prelu").  Dividing by sy > 0, rounding, adding zy and saturating are
 * each monotone (non-decreasing), so the quantization q commutes with max
 * and min: q(max(ra, rb)) = max(q(ra), q(rb)) exactly (max returns one of
 * its operands, and a monotone q keeps their order).  So each operand goes
 * through a 256-entry table to the result's stored byte -- q of that
 * operand alone, the interpreter's own formula -- and the result is the
 * larger (smaller) byte in the result dtype's order: signed for i8,
 * unsigned for u8.  A table that maps every byte to itself (an operand
 * that shares the result's quantization) is skipped: a plain vector max.
 * Raw integers (no quantization anywhere) saturate to the result dtype the
 * same way.
 *
 * The loop runs over the innermost merged dim (cg_merge_dims) LANES bytes
 * at a time: an operand that moves along it is loaded as a vector and
 * looked up with the target's byte-shuffle step (KLut) or, without one,
 * lane by lane from the table in read-only data; a broadcast operand is
 * looked up once and splatted.  The rest of the run goes one byte at a
 * time through the same tables.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <string.h>

#define B (cg->b)

typedef struct MinMax {
    uint8_t tab[2][256]; /* by index: the operand byte ^ 0x80 (i8) or the byte (u8) */
    bool ident[2];       /* tab[i] gives every byte back unchanged */
    bool flip[2];        /* operand i is i8 */
    bool sign;           /* the result is i8 */
} MinMax;

static bool is_byte(DType d) { return d == DT_I8 || d == DT_U8; }

/* Fills M for an 8-bit max/min with per-tensor (or no) quantization; false
 * for any other node. */
static bool minmax_tables(const Node *n, MinMax *m)
{
    if ((n->op != OP_MAX && n->op != OP_MIN) || n->num_operands != 2)
        return false;
    const TensorType *yt = &n->result->type;
    bool raw = !yt->quant;
    if (!is_byte(yt->dtype) || !quant_is_per_tensor(yt->quant))
        return false;
    for (int i = 0; i < 2; i++) {
        const TensorType *t = &n->operands[i]->type;
        if (!is_byte(t->dtype) || !quant_is_per_tensor(t->quant) || !t->quant != raw)
            return false;
    }
    int64_t lo = dtype_traits[yt->dtype].min, hi = dtype_traits[yt->dtype].max;
    QParam yp = {1, 0};
    if (!raw) {
        yp = qparam_chan(yt->quant, 0);
        act_range_quantized(n, yt, 0, node_rounding(n), &lo, &hi);
        folded_clamp(n, &lo, &hi);
    }
    m->sign = yt->dtype == DT_I8;
    for (int i = 0; i < 2; i++) {
        const TensorType *t = &n->operands[i]->type;
        QParam p = raw ? (QParam){1, 0} : qparam_chan(t->quant, 0);
        m->flip[i] = t->dtype == DT_I8;
        m->ident[i] = true;
        for (int idx = 0; idx < 256; idx++) {
            int byte = m->flip[i] ? idx ^ 0x80 : idx;
            int64_t v = m->flip[i] ? (int8_t)byte : byte, y;
            if (raw) {
                y = v < lo ? lo : v > hi ? hi : v;
            } else {
                /* interp_elem.c binary(): ra = (double)sa * (double)(a - za);
                 * q = ra / (double)sy; sat(rne(q) + zy, lo, hi). */
                double r = (double)p.scale * (double)(v - p.zp);
                y = fp_saturate(fp_round_half_even(r / (double)yp.scale) + yp.zp, lo, hi);
            }
            m->tab[i][idx] = (uint8_t)y;
            m->ident[i] &= (uint8_t)y == (uint8_t)byte;
        }
    }
    return true;
}

/* TAB at the index of operand byte B (i8). */
static LLVMValueRef lookup_byte(Cg *cg, const MinMax *m, int i, LLVMValueRef b, LLVMValueRef rt)
{
    if (m->ident[i])
        return b;
    if (m->flip[i])
        b = LLVMBuildXor(B, b, LLVMConstInt(cg->t_i8, 0x80, 0), "");
    LLVMValueRef ti = LLVMBuildZExt(B, b, cg->t_idx, "");
    return LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, rt, &ti, 1, ""), "");
}

static LLVMValueRef pick(Cg *cg, const Node *n, const MinMax *m, LLVMValueRef a, LLVMValueRef b)
{
    LLVMIntPredicate p = n->op == OP_MAX ? (m->sign ? LLVMIntSGT : LLVMIntUGT) : (m->sign ? LLVMIntSLT : LLVMIntULT);
    return LLVMBuildSelect(B, LLVMBuildICmp(B, p, a, b, ""), a, b, "");
}

const char *kern_minmax(Cg *cg, const Node *n, const KLut *k)
{
    MinMax m;
    if (!minmax_tables(n, &m))
        return NULL;
    const TensorType *yt = &n->result->type;
    int64_t st[3][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[3][QNN_MAX_RANK];
    cg_bcast_strides(yt, &n->operands[0]->type, st[0]);
    cg_bcast_strides(yt, &n->operands[1]->type, st[1]);
    cg_strides(yt, st[2]);
    int r = cg_merge_dims(yt->rank, yt->dims, st, 3, md, ms);
    int64_t len = md[r - 1], lanes = k ? k->lanes : 64, nv = len / lanes;
    LLVMValueRef buf[2] = {cg_buf(cg, n->operands[0]), cg_buf(cg, n->operands[1])}, y = cg_buf(cg, n->result);
    LLVMValueRef rt[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++)
        if (!m.ident[i])
            rt[i] = cg_rodata(cg, m.tab[i], 256, 16, "minmax");
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)lanes);
    CgNest nest;
    cg_nest_begin(cg, &nest, r - 1, md);
    LLVMValueRef off[2] = {cg_nest_offset(cg, &nest, ms[0]), cg_nest_offset(cg, &nest, ms[1])};
    LLVMValueRef oy = cg_nest_offset(cg, &nest, ms[2]);
    /* A broadcast operand's byte, looked up once for the run. */
    LLVMValueRef bc[2] = {NULL, NULL}, bcv[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        if (ms[i][r - 1] != 0)
            continue;
        LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, buf[i], &off[i], 1, ""), "");
        bc[i] = lookup_byte(cg, &m, i, b, rt[i]);
        LLVMValueRef v = LLVMBuildInsertElement(B, LLVMGetUndef(vt), bc[i], cg_i32(cg, 0), "");
        bcv[i] = LLVMBuildShuffleVector(B, v, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, (unsigned)lanes)),
                                        "");
    }
    CgLoop lv, lt;
    LLVMValueRef j = LLVMBuildMul(B, cg_for_begin(cg, &lv, nv, "v"), cg_idx(cg, lanes), "");
    LLVMValueRef v[2];
    for (int i = 0; i < 2; i++) {
        if (bcv[i]) {
            v[i] = bcv[i];
            continue;
        }
        LLVMValueRef o = LLVMBuildAdd(B, off[i], j, "");
        v[i] = kern_load_vec(cg, vt, LLVMBuildInBoundsGEP2(B, cg->t_i8, buf[i], &o, 1, ""));
        if (m.ident[i])
            continue;
        LLVMValueRef idx = m.flip[i] ? kern_flip(cg, v[i]) : v[i];
        if (k) {
            v[i] = k->lookup(cg, m.tab[i], idx);
        } else {
            /* Lane by lane from the table in memory. */
            LLVMValueRef w = LLVMGetUndef(vt);
            for (int64_t l = 0; l < lanes; l++) {
                LLVMValueRef e = LLVMBuildExtractElement(B, idx, cg_i32(cg, l), "");
                LLVMValueRef ti = LLVMBuildZExt(B, e, cg->t_idx, "");
                e = LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, rt[i], &ti, 1, ""), "");
                w = LLVMBuildInsertElement(B, w, e, cg_i32(cg, l), "");
            }
            v[i] = w;
        }
    }
    LLVMValueRef o = LLVMBuildAdd(B, oy, j, "");
    LLVMValueRef s = LLVMBuildStore(B, pick(cg, n, &m, v[0], v[1]), LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &o, 1, ""));
    LLVMSetAlignment(s, 1);
    cg_for_end(cg, &lv);
    if (len % lanes) {
        j = LLVMBuildAdd(B, cg_for_begin(cg, &lt, len % lanes, "t"), cg_idx(cg, nv * lanes), "");
        for (int i = 0; i < 2; i++) {
            if (bc[i]) {
                v[i] = bc[i];
                continue;
            }
            LLVMValueRef oi = LLVMBuildAdd(B, off[i], j, "");
            LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, buf[i], &oi, 1, ""), "");
            v[i] = lookup_byte(cg, &m, i, b, rt[i]);
        }
        o = LLVMBuildAdd(B, oy, j, "");
        LLVMBuildStore(B, pick(cg, n, &m, v[0], v[1]), LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &o, 1, ""));
        cg_for_end(cg, &lt);
    }
    cg_nest_end(cg, &nest);
    if (!k)
        return "generic";
    snprintf(cg->kernel, sizeof cg->kernel, "minmax_%s", strncmp(k->name, "lut_", 4) ? k->name : k->name + 4);
    return cg->kernel;
}
