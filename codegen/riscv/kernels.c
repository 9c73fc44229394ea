/* riscv/kernels.c - int8 conv/dense/depthwise kernels for RISC-V: with the
 * V extension, and scalar ones for RV32.
 *
 * RVV has no int8 dot product; the widening multiply-accumulate does the
 * work: bytes are sign-extended to e16 (vsext.vf2) and vwmacc.vv
 * accumulates e16 x e16 products into e32 lanes.  Fixed-length vectors of
 * 16 lanes (LMUL 4 for the accumulator at VLEN 128, which +v guarantees as
 * Zvl128b); longer VLENs run the same code.  A conv on fewer than 16
 * input channels (kern_conv_few) runs across 16 output channels, the
 * activation broadcast as vwmacc.vx's scalar operand.
 *
 * Without +v kern_conv_few, four output channels at a time in scalar
 * registers: the generic loops recompute every tap's address and padding
 * test for each output channel; it does so once per pixel.  On rv64gc the
 * other forms take the generic scalar lowering.  On RV32 (riscv32-none-elf,
 * the microcontroller target, where instruction counts are measured)
 * convs on 4 or more input channels, dense layers and matmuls by a
 * constant take conv_gemm in plain IR (gemm_scalar below), stems
 * kern_conv_few.
 *
 * kern_dw_rows is not selected here: its RVV code made qemu-riscv64 (the
 * bit-exact tests' runner) abort in its translator (decode_save_opc), so
 * it is unverified on this target; depthwise stays on kern_depthwise.
 */
#include "kernel_int8.h"

static const KDot widen = {"vwmacc.vv", 16, false, kern_widen_acc_type, kern_widen_dot, NULL, NULL};
static const KDw dw = {.name = "vwmacc.vv", .lanes = 16, .mac = kern_widen_mac};
/* matmul_gemm (kernel_matmul.c): the plain-IR step on 4 i32 lanes. */
static const KGemm mm_rvv = {.name = "vsext/vmul/vadd", .lanes = 4, .mr = 4, .nv = 4, .mac4 = kern_gemm_mac4_s8};
/* Without V, kern_conv_few's output channels four at a time: LLVM splits
 * the <4 x i32> accumulator into four scalar registers. */
static const KDw few_scalar = {.name = "mul/add, 4 channels", .lanes = 4, .mac = kern_widen_mac};
/* RV32 without V: conv_gemm's 4-byte step on <4 x i32> lanes in plain IR
 * (kern_gemm_mac4_s8), which LLVM splits into scalar registers: per step
 * 16 weight bytes loaded with lb, one activation word per pixel split
 * with shifts, 32 mul and 32 add for 2 pixels x 4 channels.  Measured on
 * Fashion-MNIST's convs (docs/benchmarks.md): 0.23-0.26 MACs an
 * instruction against the generic loops' 0.10-0.19; 4 pixels a tile
 * counts the same (more spills), 1 pixel 5% more.  Depthwise stays
 * generic: kern_depthwise on 4 scalar lanes took 16% more. */
static const KGemm gemm_scalar = {.name = "lb/mul/add", .lanes = 4, .mr = 2, .nv = 1, .mac4 = kern_gemm_mac4_s8, .rows = true};

const char *riscv_lower_node(Cg *cg, const Node *n)
{
    if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL)
        return NULL;
    int64_t few = kern_conv_min_c(&widen) - 1;
    KSet s = kern_has(cg, "v") ? (KSet){"rvv", &widen, few, &dw, &dw, NULL, NULL, NULL} : (KSet){"scalar", NULL, few, &few_scalar, NULL, NULL, NULL, NULL};
    if (kern_has(cg, "v"))
        s.mm = &mm_rvv;
    else if (cg->target == &cg_target_riscv32) {
        /* Stems (1 to 3 input channels) stay on conv_few: fewer
         * instructions than conv_gemm's stem form here (Fashion-MNIST's
         * stem: 0.17 against 0.12 MACs an instruction). */
        if (!(n->op == OP_CONV2D && n->operands[1]->type.dims[3] <= 3))
            s.gemm = &gemm_scalar;
    }
    return kern_select(cg, n, &s);
}
