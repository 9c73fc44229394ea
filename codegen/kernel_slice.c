/* kernel_slice.c - a slice that keeps a short run of every row (a channel
 * slice of an NHWC tensor, M-LSD's [..., 8:12] and [..., 7:8] of 16
 * channels), as constant byte shuffles of whole rows.
 *
 * The slice's dims merged (as lower_layout.c does) are then rows: row i of
 * y is R bytes, y's rows contiguous, and x's row i the S bytes from i * S
 * (S > R), the run starting OFF bytes into it.  G rows at a time, x's G * S
 * bytes are one load (G * S <= 256, whole rows of x only, so nothing past
 * x is read) and the G * R bytes of y one shuffle of it (vpermb /
 * vpermt2b, pshufb, tbl chains: LLVM splits the wide vector) and one
 * store, instead of G copies of R bytes (a byte gather for R = 1).  Rows
 * left over copy their run each.  It only moves bytes: bit-exact by
 * construction; glue.qir's slices hold it on every target.  Other slices
 * (steps, runs of 16 bytes or more, targets without 16-byte vectors,
 * views the memory plan made free) stay in lower_layout.c.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <string.h>

#define B (cg->b)

enum { SLICE_MAX_IN = 256, SLICE_MAX_OUT = 64, SLICE_MAX_RUN = 16 };

const char *kern_slice(Cg *cg, const Node *n)
{
    if (n->op != OP_SLICE || cg->target->vector_bytes < 16)
        return NULL;
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    int64_t e = dtype_traits[xt->dtype].size;
    int64_t st[2][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[2][QNN_MAX_RANK];
    int64_t base = cg_slice_strides(n, st);
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    if (x == y || cg_is_view(cg, n->result, n->operands[0], base * e))
        return NULL;
    int m = cg_merge_dims(yt->rank, yt->dims, st, 2, md, ms);
    if (m == 1 && ms[0][0] == 1) /* a run of one element (merging dropped the dim of 1) */
        md[1] = 1, ms[0][1] = ms[1][1] = 1, ms[0][0] = 1, m = 2;
    /* Rows: [rows][R] in y, x's rows S apart from its start, the run OFF in. */
    if (m != 2 || ms[0][1] != 1 || ms[1][1] != 1 || ms[0][0] != md[1] || ms[1][0] <= md[1])
        return NULL;
    int64_t rows = md[0], R = md[1] * e, S = ms[1][0] * e, off = base * e % S, first = base * e / S;
    if (R >= SLICE_MAX_RUN || S > SLICE_MAX_IN || off + R > S || (first + rows) * S > type_nbytes(xt))
        return NULL;
    int64_t G = SLICE_MAX_OUT / R;
    while (G * S > SLICE_MAX_IN)
        G--;
    if (G < 2 || rows < G)
        return NULL;
    unsigned nin = (unsigned)(G * S), nout = (unsigned)(G * R);
    LLVMTypeRef vin = LLVMVectorType(cg->t_i8, nin);
    LLVMValueRef mask[SLICE_MAX_OUT];
    for (int64_t g = 0; g < G; g++)
        for (int64_t j = 0; j < R; j++)
            mask[g * R + j] = cg_i32(cg, (int32_t)(g * S + off + j));
    CgLoop lg, lr;
    LLVMValueRef i = cg_mulk(cg, cg_for_begin(cg, &lg, rows / G, "sg"), G);
    LLVMValueRef v = kern_load_vec(cg, vin, cg_gep8(cg, x, cg_mulk(cg, LLVMBuildAdd(B, i, cg_idx(cg, first), ""), S)));
    v = LLVMBuildShuffleVector(B, v, LLVMGetUndef(vin), LLVMConstVector(mask, nout), "");
    LLVMSetAlignment(LLVMBuildStore(B, v, cg_gep8(cg, y, cg_mulk(cg, i, R))), 1);
    cg_for_end(cg, &lg);
    if (rows % G) {
        LLVMValueRef k = LLVMBuildAdd(B, cg_for_begin(cg, &lr, rows % G, "sr"), cg_idx(cg, rows / G * G), "");
        LLVMValueRef src = LLVMBuildAdd(B, cg_mulk(cg, LLVMBuildAdd(B, k, cg_idx(cg, first), ""), S), cg_idx(cg, off), "");
        LLVMBuildMemCpy(B, cg_gep8(cg, y, cg_mulk(cg, k, R)), 1, cg_gep8(cg, x, src), 1, cg_idx(cg, R));
        cg_for_end(cg, &lr);
    }
    snprintf(cg->kernel, sizeof cg->kernel, "slice_rows%u_%u", (unsigned)nin, (unsigned)nout);
    return cg->kernel;
}
