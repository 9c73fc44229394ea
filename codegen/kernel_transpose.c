/* kernel_transpose.c - an 8-bit transpose that moves the innermost dim
 * (ViT's attention keys, [1,49,4,16] -> [1,4,16,49]), as 16x16 byte
 * blocks: 16 rows of x loaded as <16 x i8>, four rounds of byte
 * interleaves of rows k and k + 8 (a perfect shuffle; four of them
 * transpose a 16x16 matrix), 16 rows of y stored.  Dims that are not
 * multiples of 16 take a last block overlapping the one before (it
 * writes some bytes twice, the same values; x and y never share a
 * buffer).  With AVX2 or AVX-512BW a block is 2 or 4 of them side by
 * side along x's innermost dim (ViT's keys: 64 x 49 once the heads
 * merge), 32 or 64 bytes a row, the interleaves being within 128-bit
 * lanes.  It only moves bytes, so it is bit-exact by construction;
 * layout.qir's transposes hold it on every target.  Transposes that keep
 * the innermost dim are runs of copies (lower_layout.c) and are left
 * there, as are wider dtypes and targets without 16-byte vectors. */
#include "codegen.h"
#include "kernel_int8.h"

#include <string.h>

#define B (cg->b)

enum { TB = 16 };

static LLVMValueRef at(Cg *cg, LLVMValueRef buf, LLVMValueRef off)
{
    return LLVMBuildInBoundsGEP2(B, cg->t_i8, buf, &off, 1, "");
}

static LLVMValueRef add(Cg *cg, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(B, a, b, ""); }

static LLVMValueRef mul(Cg *cg, LLVMValueRef a, int64_t k) { return LLVMBuildMul(B, a, cg_idx(cg, k), ""); }

const char *kern_transpose(Cg *cg, const Node *n)
{
    if (n->op != OP_TRANSPOSE || cg->target->vector_bytes < TB)
        return NULL; /* the shuffles would be scalarized (Cortex-M4, RISC-V) */
    const TensorType *xt = &n->operands[0]->type, *yt = &n->result->type;
    if (dtype_traits[yt->dtype].size != 1)
        return NULL;
    int r = xt->rank;
    int64_t perm[QNN_MAX_RANK], xs[QNN_MAX_RANK], st[2][QNN_MAX_RANK], md[QNN_MAX_RANK], ms[2][QNN_MAX_RANK];
    node_ints(n, ATTR_PERM, perm, QNN_MAX_RANK, NULL);
    cg_strides(xt, xs);
    cg_strides(yt, st[0]);
    for (int d = 0; d < r; d++)
        st[1][d] = xs[perm[d]];
    int m = cg_merge_dims(r, yt->dims, st, 2, md, ms);
    /* y's innermost dim (stride 1 in y) must move in x, and some other
     * dim P be x's innermost (stride 1 in x): a 2D transpose of P and it
     * within each index of the rest. */
    int p = -1;
    for (int d = 0; d < m - 1; d++)
        if (ms[1][d] == 1)
            p = d;
    if (ms[0][m - 1] != 1 || ms[1][m - 1] == 1 || p < 0 || md[p] < TB || md[m - 1] < TB)
        return NULL;
    int64_t na = md[p], nb = md[m - 1], ysa = ms[0][p], xsb = ms[1][m - 1];
    int64_t od[QNN_MAX_RANK], os[2][QNN_MAX_RANK];
    int no = 0;
    for (int d = 0; d < m - 1; d++)
        if (d != p)
            od[no] = md[d], os[0][no] = ms[0][d], os[1][no++] = ms[1][d];
    LLVMValueRef x = cg_buf(cg, n->operands[0]), y = cg_buf(cg, n->result);
    if (x == y)
        return NULL; /* the overlapping last blocks read what they wrote */
    /* G blocks a vector along a (2 with AVX2, 4 with AVX-512BW, where na
     * has 16 G): each row of x gives G blocks' rows in one load of 16 G
     * bytes, the interleaves stay within 128-bit lanes, so each lane is
     * its own block's transpose, stored a lane at a time. */
    int G = kern_has(cg, "avx512bw") ? 4 : kern_has(cg, "avx2") ? 2 : 1;
    while (G > 1 && na < TB * G)
        G /= 2;
    CgNest nest;
    cg_nest_begin(cg, &nest, no, od);
    LLVMValueRef yo = cg_nest_offset(cg, &nest, os[0]), xo = cg_nest_offset(cg, &nest, os[1]);
    LLVMTypeRef vt = LLVMVectorType(cg->t_i8, (unsigned)(TB * G));
    /* ceil(na / (TB G)) x ceil(nb / TB) blocks, the last of each dim
     * overlapping the one before (both dims are at least that). */
    CgLoop la, lb;
    LLVMValueRef a0 = cg_smin(cg, mul(cg, cg_for_begin(cg, &la, (na + TB * G - 1) / (TB * G), "ta"), TB * G),
                              cg_idx(cg, na - TB * G));
    LLVMValueRef b0 = cg_smin(cg, mul(cg, cg_for_begin(cg, &lb, (nb + TB - 1) / TB, "tb"), TB), cg_idx(cg, nb - TB));
    LLVMValueRef row[TB], nxt[TB];
    for (int k = 0; k < TB; k++) {
        LLVMValueRef off = add(cg, add(cg, xo, a0), mul(cg, add(cg, b0, cg_idx(cg, k)), xsb));
        row[k] = LLVMBuildLoad2(B, vt, at(cg, x, off), "");
        LLVMSetAlignment(row[k], 1);
    }
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < TB / 2; k++) {
            nxt[2 * k] = cg_unpack(cg, row[k], row[k + TB / 2], TB, false);
            nxt[2 * k + 1] = cg_unpack(cg, row[k], row[k + TB / 2], TB, true);
        }
        memcpy(row, nxt, sizeof row);
    }
    LLVMValueRef lane[TB];
    for (int g = 0; g < G; g++) {
        for (int i = 0; i < TB; i++)
            lane[i] = cg_i32(cg, g * TB + i);
        for (int k = 0; k < TB; k++) {
            LLVMValueRef v = G == 1 ? row[k] : LLVMBuildShuffleVector(B, row[k], LLVMGetUndef(vt), LLVMConstVector(lane, TB), "");
            LLVMValueRef off = add(cg, add(cg, add(cg, yo, cg_idx(cg, g * TB * ysa)), mul(cg, add(cg, a0, cg_idx(cg, k)), ysa)), b0);
            LLVMSetAlignment(LLVMBuildStore(B, v, at(cg, y, off)), 1);
        }
    }
    cg_for_end(cg, &lb);
    cg_for_end(cg, &la);
    cg_nest_end(cg, &nest);
    return G == 4 ? "transpose_16x16x4" : G == 2 ? "transpose_16x16x2" : "transpose_16x16";
}
