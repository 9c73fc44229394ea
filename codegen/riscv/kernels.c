/* riscv/kernels.c - int8 conv/dense/depthwise kernels for RISC-V with the
 * V extension.
 *
 * RVV has no int8 dot product; the widening multiply-accumulate does the
 * work: bytes are sign-extended to e16 (vsext.vf2) and vwmacc.vv
 * accumulates e16 x e16 products into e32 lanes.  Fixed-length vectors of
 * 16 lanes (LMUL 4 for the accumulator at VLEN 128, which +v guarantees as
 * Zvl128b); longer VLENs run the same code.  Without +v the generic
 * scalar lowering is as good as anything we could emit.
 */
#include "kernel_int8.h"

static const KDot widen = {"vwmacc.vv", 16, false, kern_widen_acc_type, kern_widen_dot, NULL, NULL};
static const KDw dw = {"vwmacc.vv", 16, kern_widen_mac, NULL};

bool riscv_lower_node(Cg *cg, const Node *n)
{
    if ((n->op != OP_CONV2D && n->op != OP_DENSE) || !kern_has(cg, "v"))
        return false;
    return kern_conv(cg, n, &widen) || kern_depthwise(cg, n, &dw);
}
