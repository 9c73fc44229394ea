/* kernel_lut.c - an 8-bit table op (an activation such as hard-swish,
 * sigmoid or tanh, or an explicit lut) as a vector loop: LANES input
 * bytes at a time become table indices (the byte ^ 0x80 for i8, as is for
 * u8) that the target's lookup step (KLut) resolves in the 256-entry
 * table with byte shuffles held in registers, then the rest of the tensor
 * one byte at a time from the same table in read-only data.
 *
 * The table is lower_elem.c's compile-time one (cg_byte_table: the
 * interpreter run on every input byte), so the vector loop is bit-exact
 * with the interpreter by construction, as the scalar loop is; what the
 * lookup step must get right is only the byte shuffle.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>

#define B (cg->b)

/* TAB[OFF .. OFF + N) as a constant <N x i8>. */
LLVMValueRef kern_lut_slice(Cg *cg, const uint8_t *tab, int off, int n)
{
    LLVMValueRef e[64];
    for (int i = 0; i < n; i++)
        e[i] = LLVMConstInt(cg->t_i8, tab[off + i], 0);
    return LLVMConstVector(e, (unsigned)n);
}

const char *kern_lut(Cg *cg, const Node *n, const KLut *k)
{
    if (n->op == OP_CONCAT)
        return kern_concat(cg, n, k);
    uint8_t *tab = cg_byte_table(cg, n);
    if (!tab)
        return NULL;
    const TensorType *xt = &n->operands[0]->type;
    int64_t numel = type_numel(xt), nv = numel / k->lanes;
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)k->lanes);
    CgLoop lv, lt;
    LLVMValueRef off = LLVMBuildMul(B, cg_for_begin(cg, &lv, nv, "v"), cg_idx(cg, k->lanes), "");
    LLVMValueRef v = kern_load_vec(cg, vt, LLVMBuildInBoundsGEP2(B, cg->t_i8, x, &off, 1, ""));
    if (xt->dtype == DT_I8)
        v = kern_flip(cg, v);
    LLVMValueRef st = LLVMBuildStore(B, k->lookup(cg, tab, v), LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &off, 1, ""));
    LLVMSetAlignment(st, 1);
    cg_for_end(cg, &lv);
    if (numel % k->lanes) {
        LLVMValueRef rt = cg_rodata(cg, tab, 256, 16, "lut");
        LLVMValueRef i = LLVMBuildAdd(B, cg_for_begin(cg, &lt, numel % k->lanes, "t"), cg_idx(cg, nv * k->lanes), "");
        LLVMValueRef b = LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, x, &i, 1, ""), "");
        if (xt->dtype == DT_I8)
            b = LLVMBuildXor(B, b, LLVMConstInt(cg->t_i8, 0x80, 0), "");
        LLVMValueRef ti = LLVMBuildZExt(B, b, cg->t_idx, "");
        LLVMValueRef r = LLVMBuildLoad2(B, cg->t_i8, LLVMBuildInBoundsGEP2(B, cg->t_i8, rt, &ti, 1, ""), "");
        LLVMBuildStore(B, r, LLVMBuildInBoundsGEP2(B, cg->t_i8, y, &i, 1, ""));
        cg_for_end(cg, &lt);
    }
    free(tab);
    return k->name;
}
