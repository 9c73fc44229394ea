/* arm/kernels_mve.c - int8 conv/dense/depthwise kernels for Cortex-M55
 * (Armv8.1-M with Helium, MVE: eight 128-bit Q registers).
 *
 * Conv, dense and matmul by a constant go first to conv_mve.c's
 * conv_patch (the whole patch reduced 2 pixels x 4 channels at a time,
 * a vector output stage), depthwise with multiplier 1 and C % 4 == 0 to
 * its dw_patch (4 pixels x 4 channels), TFLite adds to add_mve.c; what
 * they leave (stems, reductions under 16 bytes, im2col rows over 4 KiB,
 * nonzero weight zero points, other depthwise forms) comes here:
 *
 * Helium has no per-lane 4-byte dot product (no sdot); its int8 dot is
 * vmladav/vmlava: the 16 byte products of two Q registers summed across
 * the vector into one general-purpose register, accumulating
 * (CMSIS-NN's MVE matrix kernels are built on it).  So conv and dense use
 * kern_conv with a 16-byte step whose accumulator is a scalar i32: each
 * output channel of the tile keeps its own running sum in a core register
 * and the activation vector is loaded once for the tile's channels.
 * Eight channels left after the last 16 go through vldrb.s16 (bytes
 * sign-extended into i16 lanes) and vmlava.s16, the rest one by one.  Depthwise (and conv_few's stems) keep channels in i32 lanes:
 * plain IR that LLVM's MVE back end turns into widening loads and
 * vmla.i32.  A Cortex-M55 built with -mattr=-mve gets the DSP (smlad)
 * kernels of kernels.c. */
#include "kernel_int8.h"

#include <stdio.h>

const char *arm_lower_node(Cg *cg, const Node *n); /* kernels.c */
bool kern_conv_patch_mve(Cg *cg, const Node *n); /* conv_mve.c */
bool kern_add_mve(Cg *cg, const Node *n);        /* add_mve.c */
bool kern_dw_patch_mve(Cg *cg, const Node *n);   /* conv_mve.c */

static LLVMTypeRef scalar_acc(Cg *cg, const KDot *d)
{
    (void)d;
    return cg->t_i32;
}

/* ACC += sum of the 16 products X[i] * W[i] (signed bytes): vmlava.s8. */
static LLVMValueRef vmlava(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    (void)d;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 16);
    LLVMValueRef xv = kern_load_vec(cg, bt, x), wv = kern_load_vec(cg, bt, w);
    if (flip)
        xv = kern_flip(cg, xv);
    LLVMValueRef z = cg_i32(cg, 0);
    /* unsigned, subtract, exchange: all off. */
    LLVMValueRef args[6] = {z, z, z, acc, xv, wv};
    return kern_intrinsic(cg, "llvm.arm.mve.vmldava", &bt, 1, args, 6);
}

/* The tail's accumulator is a vector (kern_conv reduces it with
 * vector.reduce.add): one lane, the running sum vmlava.s16 adds to. */
static LLVMTypeRef one_lane(Cg *cg, const KDot *d)
{
    (void)d;
    return LLVMVectorType(cg->t_i32, 1);
}

/* ACC[0] += sum of 8 products X[i] * W[i]: 8 bytes each sign-extended to
 * i16 lanes (vldrb.s16) and vmlava.s16. */
static LLVMValueRef vmlava16(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    (void)d;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 8), ht = LLVMVectorType(LLVMInt16TypeInContext(cg->ctx), 8);
    LLVMValueRef xv = kern_load_vec(cg, bt, x), wv = kern_load_vec(cg, bt, w);
    if (flip)
        xv = kern_flip(cg, xv);
    xv = LLVMBuildSExt(cg->b, xv, ht, "");
    wv = LLVMBuildSExt(cg->b, wv, ht, "");
    LLVMValueRef z = cg_i32(cg, 0);
    LLVMValueRef a = LLVMBuildExtractElement(cg->b, acc, z, "");
    LLVMValueRef args[6] = {z, z, z, a, xv, wv};
    a = kern_intrinsic(cg, "llvm.arm.mve.vmldava", &ht, 1, args, 6);
    return LLVMBuildInsertElement(cg->b, acc, a, z, "");
}

static const KDot tail8 = {"vldrb.s16/vmlava.s16", 8, false, one_lane, vmlava16, NULL, NULL};
static const KDot dot = {"vmlava.s8", 16, false, scalar_acc, vmlava, &tail8, NULL};
static const KDw dw = {.name = "vmla.i32", .lanes = 4, .mac = kern_widen_mac};
static const KDw dwr = {.name = "rows", .lanes = 4};
static const KGemm mm = {.name = "vmla.i32", .lanes = 4, .mr = 2, .nv = 2, .mac4 = kern_gemm_mac4_s8};

const char *armv81m_lower_node(Cg *cg, const Node *n)
{
    if ((n->op == OP_ADD || n->op == OP_SUB) && kern_has(cg, "mve") && kern_add_mve(cg, n))
        return "add_mve";
    if ((n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL) || !kern_has(cg, "mve"))
        return arm_lower_node(cg, n);
    cg->kernel_tile[0] = 0;
    if (kern_conv_patch_mve(cg, n)) {
        snprintf(cg->kernel, sizeof cg->kernel, "conv_patch_%s_mve", cg->kernel_tile);
        return cg->kernel;
    }
    if (kern_dw_patch_mve(cg, n)) {
        snprintf(cg->kernel, sizeof cg->kernel, "dw_patch_%s_mve", cg->kernel_tile);
        return cg->kernel;
    }
    KSet s = {"mve", &dot, kern_conv_min_c(&dot) - 1, &dw, &dw, &dwr, NULL, &mm};
    return kern_select(cg, n, &s);
}
