/* aarch64/kernels.c - int8 conv/dense/depthwise kernels for AArch64.
 *
 * With +dotprod, sdot: four signed byte products summed into each of four
 * i32 lanes per instruction.  Without it, the widened i32 multiply-add
 * that instruction selection turns into smull/smlal (saddw).  Depthwise
 * convolution has no four-long reduction inside a lane (its reduction
 * runs over taps, not contiguous channels), so it uses i16 smlal/smlal2
 * on 16 channels at a time, as XNNPACK and TFLite do; so does a conv on
 * fewer than 16 input channels (kern_conv_few), across 16 output channels
 * with the activation broadcast.
 *
 * With +i8mm (and +dotprod), smmla: a 2x2 block of two pixels by two
 * channels from 8 reduction bytes each, 32 MACs per instruction, on
 * layers where no tap reaches the padding (1x1 convs, dense, unpadded
 * convs) so both pixels of a pair take the same taps; everything else
 * (padded convs, odd pixels and channels) stays on sdot.
 */
#include "kernel_int8.h"

static LLVMTypeRef sdot_acc(Cg *cg, const KDot *d)
{
    (void)d;
    return LLVMVectorType(cg->t_i32, 4);
}

static LLVMValueRef sdot(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    (void)d;
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 16);
    LLVMValueRef xv = kern_load_vec(cg, bt, x), wv = kern_load_vec(cg, bt, w);
    if (flip)
        xv = kern_flip(cg, xv);
    LLVMTypeRef over[2] = {LLVMVectorType(cg->t_i32, 4), bt};
    LLVMValueRef args[3] = {acc, xv, wv};
    return kern_intrinsic(cg, "llvm.aarch64.neon.sdot", over, 2, args, 3);
}

static LLVMValueRef smmla(Cg *cg, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef over[2] = {LLVMVectorType(cg->t_i32, 4), LLVMVectorType(cg->t_i8, 16)};
    LLVMValueRef args[3] = {acc, a, b};
    return kern_intrinsic(cg, "llvm.aarch64.neon.smmla", over, 2, args, 3);
}

/* matmul_gemm's step (kernel_matmul.c): sdot is mac4 itself, each i32
 * lane gains the 4 products of its bytes; without dotprod the plain IR. */
static LLVMValueRef mm_sdot(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, 16);
    LLVMTypeRef over[2] = {LLVMVectorType(cg->t_i32, 4), bt};
    LLVMValueRef args[3] = {acc, LLVMBuildBitCast(cg->b, x, bt, ""), LLVMBuildBitCast(cg->b, w, bt, "")};
    return kern_intrinsic(cg, "llvm.aarch64.neon.sdot", over, 2, args, 3);
}

static const KGemm mm_dot = {.name = "sdot", .lanes = 4, .mr = 4, .nv = 4, .mac4 = mm_sdot};
/* conv_gemm (kernel_gemm.c) on sdot: 4 pixels x 4 vectors of 4 channels,
 * 16 of the 32 q registers accumulators; up to 2 pixels a vector where
 * the outputs are few, 2 sets of accumulators on one-pixel layers. */
static const KGemm gemm_dot = {.name = "sdot", .lanes = 4, .mr = 4, .nv = 4, .mac4 = mm_sdot, .max_pv = 2, .ks = 2};
static const KGemm mm_neon = {.name = "smull/saddw", .lanes = 4, .mr = 4, .nv = 4, .mac4 = kern_gemm_mac4_s8};

static const KDot dot = {"sdot", 16, false, sdot_acc, sdot, NULL, NULL};
static const KDot dot_mm = {"smmla + sdot", 16, false, sdot_acc, sdot, NULL, smmla};
static const KDot widen = {"smull/smlal", 16, false, kern_widen_acc_type, kern_widen_dot, NULL, NULL};
static const KDw dw = {.name = "smlal", .lanes = 16, .mac = kern_widen_mac};

/* A table op's lookup with NEON tbl/tbx on four q registers (64 table
 * bytes): tbl gives 0 and tbx leaves the lane alone for an index past 63,
 * so the quarters are looked up with the index minus 0, 64, 128 and 192
 * (mod 256) and each lane takes its byte from its own quarter. */
static LLVMValueRef lut_tbl(Cg *cg, const uint8_t *tab, LLVMValueRef idx)
{
    LLVMTypeRef vt = LLVMTypeOf(idx);
    LLVMValueRef r = NULL;
    for (int q = 0; q < 4; q++) {
        LLVMValueRef e[16];
        for (int i = 0; i < 16; i++)
            e[i] = LLVMConstInt(cg->t_i8, (unsigned long long)(64 * q), 0);
        LLVMValueRef iq = q ? LLVMBuildSub(cg->b, idx, LLVMConstVector(e, 16), "") : idx;
        LLVMValueRef args[6];
        int a = 0;
        if (q)
            args[a++] = r;
        for (int t = 0; t < 4; t++)
            args[a++] = kern_lut_slice(cg, tab, 64 * q + 16 * t, 16);
        args[a++] = iq;
        r = kern_intrinsic(cg, q ? "llvm.aarch64.neon.tbx4" : "llvm.aarch64.neon.tbl4", &vt, 1, args, (unsigned)a);
    }
    return r;
}

static const KLut lut_neon = {"lut_neon", 16, lut_tbl};

const char *aarch64_lower_node(Cg *cg, const Node *n)
{
    if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL) {
        const char *k = kern_minmax(cg, n, &lut_neon);
        k = k ? k : kern_pool_lut(cg, n, &lut_neon);
        k = k ? k : kern_elem_lut(cg, n, &lut_neon);
        return k ? k : kern_lut(cg, n, &lut_neon);
    }
    KSet s = kern_has(cg, "i8mm") && kern_has(cg, "dotprod") ? (KSet){"i8mm", &dot_mm, 0, &dw, &dw, NULL, NULL, NULL}
             : kern_has(cg, "dotprod")                      ? (KSet){"dotprod", &dot, 0, &dw, &dw, NULL, NULL, NULL}
                                                            : (KSet){"neon", &widen, 0, &dw, &dw, NULL, NULL, NULL};
    s.few_max_c = kern_conv_min_c(s.dot) - 1;
    s.dw_rows = &dw; /* kern_dw_rows on 16 channels (smull/smlal) */
    s.gemm = kern_has(cg, "dotprod") && !kern_has(cg, "i8mm") ? &gemm_dot : NULL;
    s.mm = kern_has(cg, "dotprod") ? &mm_dot : &mm_neon;
    return kern_select(cg, n, &s);
}
