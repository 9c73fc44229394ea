/* riscv/kernels.c - int8 conv/dense/depthwise kernels for RISC-V with the
 * V extension.
 *
 * RVV has no int8 dot product; the widening multiply-accumulate does the
 * work: bytes are sign-extended to e16 (vsext.vf2) and vwmacc.vv
 * accumulates e16 x e16 products into e32 lanes.  Fixed-length vectors of
 * 16 lanes (LMUL 4 for the accumulator at VLEN 128, which +v guarantees as
 * Zvl128b); longer VLENs run the same code.  A conv on fewer than 16
 * input channels (kern_conv_few) runs across 16 output channels, the
 * activation broadcast as vwmacc.vx's scalar operand.
 *
 * Without +v only kern_conv_few, four output channels at a time in scalar
 * registers: the generic loops recompute every tap's address and padding
 * test for each output channel; it does so once per pixel.  For the other
 * forms the generic scalar lowering is as good as anything we could emit.
 *
 * kern_dw_rows is not selected here: its RVV code made qemu-riscv64 (the
 * bit-exact tests' runner) abort in its translator (decode_save_opc), so
 * it is unverified on this target; depthwise stays on kern_depthwise.
 */
#include "kernel_int8.h"

static const KDot widen = {"vwmacc.vv", 16, false, kern_widen_acc_type, kern_widen_dot, NULL, NULL};
static const KDw dw = {"vwmacc.vv", 16, kern_widen_mac, NULL};
/* matmul_gemm (kernel_matmul.c): the plain-IR step on 4 i32 lanes. */
static const KGemm mm_rvv = {"vsext/vmul/vadd", 4, 4, 4, false, kern_gemm_mac4_s8, 0, false, false};
/* Without V, kern_conv_few's output channels four at a time: LLVM splits
 * the <4 x i32> accumulator into four scalar registers. */
static const KDw few_scalar = {"mul/add, 4 channels", 4, kern_widen_mac, NULL};

const char *riscv_lower_node(Cg *cg, const Node *n)
{
    if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL)
        return NULL;
    int64_t few = kern_conv_min_c(&widen) - 1;
    KSet s = kern_has(cg, "v") ? (KSet){"rvv", &widen, few, &dw, &dw, NULL, NULL, NULL} : (KSet){"scalar", NULL, few, &few_scalar, NULL, NULL, NULL, NULL};
    if (kern_has(cg, "v"))
        s.mm = &mm_rvv;
    return kern_select(cg, n, &s);
}
