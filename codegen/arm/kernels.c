/* arm/kernels.c - int8 conv/dense kernels for Cortex-M4/M7 (DSP extension).
 *
 * smlad multiplies the two signed 16-bit halves of two words pairwise and
 * adds both products to an accumulator.  Four activation bytes load as one
 * word; sxtb16 sign-extends bytes 0 and 2 into the halves, and sxtb16 with
 * ror #8 bytes 1 and 3 (CMSIS-NN's read_and_pad), so two smlads consume
 * four byte products.  The channel order within a word does not matter for
 * a sum.  Unaligned word loads are fine on Armv7-M.
 *
 * Depthwise convolution reduces over taps, not contiguous channels: its
 * weights are packed two taps to a word at compile time and the
 * activations two taps to a word at run time, one smlad per pair.  A conv
 * on at most 3 input channels (kern_conv_few) pairs its taps the same way,
 * one activation word feeding a smlad for each output channel.
 * A Cortex-M without the DSP extension (-mattr=-dsp) gets the generic
 * scalar loops.
 */
#include "kernel_int8.h"

static LLVMTypeRef word(Cg *cg, const KDot *d)
{
    (void)d;
    return cg->t_i32;
}

static LLVMValueRef sxtb16(Cg *cg, LLVMValueRef v)
{
    return kern_intrinsic(cg, "llvm.arm.sxtb16", NULL, 0, &v, 1);
}

static LLVMValueRef ror8(Cg *cg, LLVMValueRef v)
{
    LLVMValueRef args[3] = {v, v, cg_i32(cg, 8)};
    return kern_intrinsic(cg, "llvm.fshr", &cg->t_i32, 1, args, 3);
}

static LLVMValueRef smlad_dot(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    (void)d;
    LLVMValueRef xv = kern_load_vec(cg, cg->t_i32, x), wv = kern_load_vec(cg, cg->t_i32, w);
    if (flip)
        xv = kern_flip(cg, xv);
    LLVMValueRef a0[3] = {sxtb16(cg, xv), sxtb16(cg, wv), acc};
    LLVMValueRef s = kern_intrinsic(cg, "llvm.arm.smlad", NULL, 0, a0, 3);
    LLVMValueRef a1[3] = {sxtb16(cg, ror8(cg, xv)), sxtb16(cg, ror8(cg, wv)), s};
    return kern_intrinsic(cg, "llvm.arm.smlad", NULL, 0, a1, 3);
}

static LLVMValueRef smlad(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2)
{
    LLVMValueRef a[3] = {x2, w2, acc};
    return kern_intrinsic(cg, "llvm.arm.smlad", NULL, 0, a, 3);
}

static const KDot dot = {"smlad", 4, false, word, smlad_dot, NULL, NULL};

/* conv_gemm's step on one lane: X's 4 bytes widened as sxtb16 pairs, W's
 * two words widened at compile time (KGemm.wide), two smlads. */
static LLVMValueRef gemm_smlad(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    LLVMValueRef z = cg_i32(cg, 0), one = cg_i32(cg, 1);
    LLVMValueRef xs = LLVMBuildExtractElement(cg->b, x, z, "");
    LLVMValueRef a = LLVMBuildExtractElement(cg->b, acc, z, "");
    LLVMValueRef a0[3] = {sxtb16(cg, xs), LLVMBuildExtractElement(cg->b, w, z, ""), a};
    a = kern_intrinsic(cg, "llvm.arm.smlad", NULL, 0, a0, 3);
    LLVMValueRef a1[3] = {sxtb16(cg, ror8(cg, xs)), LLVMBuildExtractElement(cg->b, w, one, ""), a};
    a = kern_intrinsic(cg, "llvm.arm.smlad", NULL, 0, a1, 3);
    return LLVMBuildInsertElement(cg->b, acc, a, z, "");
}

static const KGemm gemm = {.name = "smlad", .lanes = 1, .mr = 1, .nv = 4, .mac4 = gemm_smlad, .wide = true, .rows = true};
static const KDw dw = {.name = "smlad (tap pairs)", .lanes = 1, .mac2 = smlad};
static const KDw dwr = {.name = "rows", .lanes = 4};

bool kern_conv_patch_dsp(Cg *cg, const Node *n); /* conv_dsp.c */

const char *arm_lower_node(Cg *cg, const Node *n)
{
    if ((n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL) || !kern_has(cg, "dsp"))
        return NULL;
    if (kern_conv_patch_dsp(cg, n))
        return "conv_patch_1x4_dsp";
    KSet s = {"dsp", &dot, kern_conv_min_c(&dot) - 1, &dw, &dw, &dwr, &gemm, NULL};
    return kern_select(cg, n, &s);
}
