/* kernel_concat.c - an 8-bit concat whose operands need rescaling, as
 * vector table lookups (the target's KLut, as kernel_lut.c's table ops).
 *
 * Rescaling an operand to the result's scale and zero point maps each
 * input byte to one output byte, so it is a 256-entry table, computed
 * at compile time by the reference interpreter running a one-operand
 * concat of the same attributes on every byte (bit-exact with it by
 * construction, whatever the rounding).  An operand whose quantization
 * equals the result's is copied, one memcpy a row.
 *
 * A rescaled operand's bytes are contiguous in it; in the result each of
 * its CHUNK-byte rows lands every YROW bytes.  With LANES a multiple of
 * CHUNK, one vector covers LANES / CHUNK rows: a load, the lookup, then
 * one CHUNK-byte store a row (a U-Net channel concat of 8 + 8: 8 rows a
 * zmm); with CHUNK a multiple of LANES each row is whole vectors.  Rows
 * left over run byte by byte through the same table in read-only data.
 * Any other chunk: NULL (the generic loop).
 *
 * concat_rows_<K>: when every operand's rows are C bytes with C dividing
 * LANES (channel concats of equal parts), LANES / C rows of all operands
 * at a time are one vector each and one shuffle of them is the result's
 * rows: whole-vector stores instead of a C-byte store a row (interleave
 * below); the rows left over take the loops above.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

/* Operand K's table (entry v: the result for the byte v ^ 0x80 (i8) or
 * v (u8)), or NULL after an interpreter failure. */
static uint8_t *concat_table(const Node *n, int k)
{
    const TensorType *xt = &n->operands[k]->type, *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0);
    if (axis < 0)
        axis += yt->rank;
    Graph *tg = graph_new("table");
    TensorType ti = {.dtype = xt->dtype, .rank = yt->rank}, to = {.dtype = yt->dtype, .rank = yt->rank};
    for (int d = 0; d < yt->rank; d++)
        ti.dims[d] = to.dims[d] = d == (axis == 0 ? 1 : 0) ? 256 : 1;
    ti.quant = quant_new(&tg->arena, -1, 1, xt->quant->scale, xt->quant->zero_point);
    to.quant = quant_new(&tg->arena, -1, 1, yt->quant->scale, yt->quant->zero_point);
    Value *x = graph_add_input(tg, "x", ti);
    Node *tn = graph_add_node(tg, OP_CONCAT, &x, 1, n->result->name, to);
    tn->num_attrs = n->num_attrs;
    tn->attrs = n->attrs;
    tn->loc = n->loc;
    graph_add_output(tg, tn->result);
    uint8_t in[256], *out = xmalloc(256);
    for (int v = 0; v < 256; v++)
        in[v] = (uint8_t)(xt->dtype == DT_I8 ? v ^ 0x80 : v);
    const void *ins[1] = {in};
    void *outs[1] = {out};
    int rc = interp_run(tg, ins, outs);
    graph_free(tg);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

enum { CAT_MAX_IN = 4 };

/* Rows [0, returned) of a concat of N <= 4 operands whose rows are all C
 * bytes, C dividing L (U-Net's channel concats of 8 + 8 and 16 + 16):
 * P = L / C rows a step, each operand's P rows one vector (through its
 * table when rescaled), the N vectors one shuffle into y's P rows of N * C
 * bytes (vpermt2b pairs on AVX-512), one store; the per-operand loops
 * below then stored one C-byte row at a time.  0: not this form; -1: an
 * interpreter failure. */
static int64_t interleave(Cg *cg, const Node *n, const KLut *k, int64_t axis, int64_t inner, int64_t outer,
                          int64_t yrow)
{
    int N = n->num_operands;
    int64_t L = k->lanes, c = yrow / N;
    if (N < 2 || N > CAT_MAX_IN || L > 64 || c * N != yrow || c >= L || L % c != 0 || outer < L / c)
        return 0;
    for (int i = 0; i < N; i++)
        if (n->operands[i]->type.dims[axis] * inner != c)
            return 0;
    const TensorType *yt = &n->result->type;
    int64_t P = L / c;
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)L);
    CgLoop lg;
    LLVMValueRef g = cg_for_begin(cg, &lg, outer / P, "cg");
    LLVMValueRef v[CAT_MAX_IN];
    for (int i = 0; i < CAT_MAX_IN; i++)
        v[i] = LLVMGetUndef(vt);
    for (int i = 0; i < N; i++) {
        const TensorType *xt = &n->operands[i]->type;
        v[i] = kern_load_vec(cg, vt, cg_gep8(cg, cg_buf(cg, n->operands[i]), cg_mulk(cg, g, L)));
        if (quant_equal(xt->quant, yt->quant))
            continue;
        uint8_t *tab = concat_table(n, i);
        if (!tab) {
            cg_for_end(cg, &lg);
            return -1;
        }
        v[i] = k->lookup(cg, tab, xt->dtype == DT_I8 ? kern_flip(cg, v[i]) : v[i]);
        free(tab);
    }
    /* Operand i's byte p * C + j is lane i * L + p * C + j of v0 v1 v2 v3. */
    LLVMValueRef cat[2 * 64], m[CAT_MAX_IN * 64];
    for (int64_t l = 0; l < 2 * L; l++)
        cat[l] = cg_i32(cg, (int32_t)l);
    LLVMValueRef lo = LLVMBuildShuffleVector(B, v[0], v[1], LLVMConstVector(cat, (unsigned)(2 * L)), "");
    LLVMValueRef hi = N > 2 ? LLVMBuildShuffleVector(B, v[2], v[3], LLVMConstVector(cat, (unsigned)(2 * L)), "")
                            : LLVMGetUndef(LLVMTypeOf(lo));
    for (int64_t p = 0; p < P; p++)
        for (int i = 0; i < N; i++)
            for (int64_t j = 0; j < c; j++)
                m[(p * N + i) * c + j] = cg_i32(cg, (int32_t)(i * L + p * c + j));
    LLVMValueRef w = LLVMBuildShuffleVector(B, lo, hi, LLVMConstVector(m, (unsigned)(N * L)), "");
    LLVMSetAlignment(LLVMBuildStore(B, w, cg_gep8(cg, cg_buf(cg, n->result), cg_mulk(cg, g, N * L))), 1);
    cg_for_end(cg, &lg);
    return outer / P * P;
}

const char *kern_concat(Cg *cg, const Node *n, const KLut *k)
{
    const TensorType *yt = &n->result->type;
    int64_t axis = node_int(n, ATTR_AXIS, 0);
    if (axis < 0)
        axis += yt->rank;
    if (yt->rank < 2 || axis < 0 || axis >= yt->rank || (yt->dtype != DT_I8 && yt->dtype != DT_U8) || !yt->quant ||
        yt->quant->count != 1)
        return NULL;
    int64_t outer = 1, inner = 1, L = k->lanes;
    for (int d = 0; d < axis; d++)
        outer *= yt->dims[d];
    for (int d = (int)axis + 1; d < yt->rank; d++)
        inner *= yt->dims[d];
    /* Every operand per-tensor with a chunk the vectors fit; at least one
     * to rescale (else the generic memcpys are the whole story). */
    bool any = false;
    for (int i = 0; i < n->num_operands; i++) {
        const TensorType *xt = &n->operands[i]->type;
        int64_t chunk = xt->dims[axis] * inner;
        if (xt->dtype != yt->dtype || !xt->quant || xt->quant->count != 1)
            return NULL;
        if (quant_equal(xt->quant, yt->quant))
            continue;
        if (chunk < 1 || (chunk % L != 0 && L % chunk != 0))
            return NULL;
        any = true;
    }
    if (!any)
        return NULL;
    int64_t yrow = yt->dims[axis] * inner, col = 0;
    LLVMValueRef y = cg_buf(cg, n->result);
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)L);
    int64_t first = interleave(cg, n, k, axis, inner, outer, yrow);
    if (first < 0) {
        cg->failed = true;
        return NULL;
    }
    for (int i = 0; i < n->num_operands; i++) {
        const TensorType *xt = &n->operands[i]->type;
        int64_t chunk = xt->dims[axis] * inner;
        LLVMValueRef x = cg_buf(cg, n->operands[i]);
        CgLoop lo, lv, lr, lj;
        if (first >= outer) {
            col += chunk;
            continue;
        }
        if (quant_equal(xt->quant, yt->quant)) {
            LLVMValueRef o = LLVMBuildAdd(B, cg_for_begin(cg, &lo, outer - first, "o"), cg_idx(cg, first), "");
            LLVMBuildMemCpy(B, cg_gep8(cg, y, LLVMBuildAdd(B, cg_mulk(cg, o, yrow), cg_idx(cg, col), "")), 1,
                            cg_gep8(cg, x, cg_mulk(cg, o, chunk)), 1, cg_idx(cg, chunk));
            cg_for_end(cg, &lo);
            col += chunk;
            continue;
        }
        uint8_t *tab = concat_table(n, i);
        if (!tab) {
            cg->failed = true;
            return NULL;
        }
        /* The vector part: G rows a vector (chunk <= L), or NV vectors a
         * row (chunk >= L). */
        int64_t G = chunk <= L ? L / chunk : 1, NV = chunk <= L ? 1 : chunk / L, full = first + (outer - first) / G * G;
        if (full > first) {
            LLVMValueRef g = LLVMBuildAdd(B, cg_for_begin(cg, &lo, (full - first) / G, "cg"), cg_idx(cg, first / G), "");
            LLVMValueRef v = NV > 1 ? cg_for_begin(cg, &lv, NV, "cv") : cg_idx(cg, 0);
            LLVMValueRef xo = LLVMBuildAdd(B, cg_mulk(cg, g, G * chunk), cg_mulk(cg, v, L), "");
            LLVMValueRef b = kern_load_vec(cg, vt, cg_gep8(cg, x, xo));
            if (xt->dtype == DT_I8)
                b = kern_flip(cg, b);
            b = k->lookup(cg, tab, b);
            for (int64_t r = 0; r < G; r++) {
                LLVMValueRef yo = LLVMBuildAdd(B,
                                               cg_mulk(cg, LLVMBuildAdd(B, cg_mulk(cg, g, G), cg_idx(cg, r), ""), yrow),
                                               LLVMBuildAdd(B, cg_mulk(cg, v, L), cg_idx(cg, col), ""), "");
                LLVMValueRef part = b;
                if (G > 1) {
                    LLVMValueRef m[64];
                    for (int64_t l = 0; l < chunk; l++)
                        m[l] = cg_i32(cg, (int32_t)(r * chunk + l));
                    part = LLVMBuildShuffleVector(B, b, LLVMGetUndef(vt), LLVMConstVector(m, (unsigned)chunk), "");
                }
                LLVMSetAlignment(LLVMBuildStore(B, part, cg_gep8(cg, y, yo)), 1);
            }
            if (NV > 1)
                cg_for_end(cg, &lv);
            cg_for_end(cg, &lo);
        }
        if (full < outer) {
            LLVMValueRef rt = cg_rodata(cg, tab, 256, 16, "catlut");
            LLVMValueRef o = LLVMBuildAdd(B, cg_for_begin(cg, &lr, outer - full, "cr"), cg_idx(cg, full), "");
            LLVMValueRef j = cg_for_begin(cg, &lj, chunk, "cj");
            LLVMValueRef xo = LLVMBuildAdd(B, cg_mulk(cg, o, chunk), j, "");
            LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, x, xo), "");
            if (xt->dtype == DT_I8)
                b = LLVMBuildXor(B, b, LLVMConstInt(cg->t_i8, 0x80, 0), "");
            LLVMValueRef e = LLVMBuildLoad2(B, cg->t_i8, cg_gep8(cg, rt, LLVMBuildZExt(B, b, cg->t_idx, "")), "");
            LLVMValueRef yo = LLVMBuildAdd(B, cg_mulk(cg, o, yrow), LLVMBuildAdd(B, j, cg_idx(cg, col), ""), "");
            LLVMBuildStore(B, e, cg_gep8(cg, y, yo));
            cg_for_end(cg, &lj);
            cg_for_end(cg, &lr);
        }
        free(tab);
        col += chunk;
    }
    snprintf(cg->kernel, sizeof cg->kernel, "concat_%s%s", first > 0 ? "rows_" : "", k->name);
    return cg->kernel;
}
