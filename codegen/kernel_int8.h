/* kernel_int8.h - the int8 loop skeletons the per-target kernels share.
 *
 * A target's kernels.c (codegen/<target>/kernels.c) describes its int8
 * dot product as a KDot (and its depthwise multiply-accumulate as a KDw)
 * and hands them to kern_conv / kern_conv_few / kern_depthwise, which
 * emit the loops:
 * tiling (the node's `tile` attribute, passes/tile.c), padding, zero
 * points and the requantizing output stage are the same everywhere and
 * live here.  Only the instruction that multiplies and accumulates the
 * bytes differs per target.
 *
 * The arithmetic (docs/codegen.md, "Kernels and tiling"):
 *
 *   acc[o] = bias[o] + sum over valid taps t, channels c of (x - zx) * w
 *          = bias[o] + sum_t ( dot_t(x', w) - zx' * sum_c w[o,t,c] )
 *
 * where x' is the activation as the instruction wants it (i8, or u8 for
 * vpdpbusd: x' = x ^ 0x80 changes x by +-128 and zx' = zx +- 128 undoes
 * it) and the second term is a compile-time table.  Everything is i32
 * with wrapping adds, so the result equals the interpreter's exact sum
 * whenever that fits int32 — which check-accumulators proves.
 */
#ifndef QNNC_KERNEL_INT8_H
#define QNNC_KERNEL_INT8_H

#include "codegen.h"
#include "requant_bound.h"
#include "requant_float.h"

typedef struct KDot KDot;

/* One step of an int8 dot product over STEP bytes of the reduction. */
struct KDot {
    const char *name;  /* the instruction, for comments and the docs */
    int step;          /* reduction bytes one call consumes */
    bool x_unsigned;   /* the instruction takes activations as u8 */
    LLVMTypeRef (*acc_type)(Cg *cg, const KDot *d);
    /* ACC += dot(X[0..step), W[0..step)); X, W are i8 pointers (any
     * alignment).  FLIP: xor every activation byte with 0x80 first. */
    LLVMValueRef (*dot)(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip);
    /* A narrower step (same x_unsigned, vector accumulator) for the
     * channels left after the last full STEP, or NULL. */
    const KDot *tail;
    /* ACC (<4 x i32>) += A (<16 x i8>: 8 bytes of two pixels) times B
     * (<16 x i8>: 8 bytes of two channels) transposed, as smmla; NULL if
     * the target has no 2x2 int8 matrix multiply. */
    LLVMValueRef (*mmla)(Cg *cg, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef b);
};

/* Depthwise: LANES channels at a time (vector of i32 accumulators).
 * kern_depthwise uses MAC; kern_depthwise_pairs uses MAC2, which sums
 * two 16-bit products into each 32-bit lane (smlad, pmaddwd); kern_dw_rows
 * uses MAC4 when set (else MAC2 when set, else plain IR).  Initialize
 * with designated initializers: unset steps are NULL. */
typedef struct KNarrow KNarrow; /* kern_requant_narrow's, below */

typedef struct KDw {
    const char *name;
    int lanes;
    /* ACC (<lanes x i32>, or i32 when lanes == 1) += X * W, with X and W
     * <lanes x i16> (or i16), each within [-255, 255]. */
    LLVMValueRef (*mac)(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w);
    /* ACC (<lanes x i32>, or i32) += X2.even * W2.even + X2.odd * W2.odd,
     * X2 and W2 <2*lanes x i16> (or, when lanes == 1, i32 words holding
     * two i16 halves). */
    LLVMValueRef (*mac2)(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2);
    /* ACC (<lanes x i32>) += in each i32 lane, the sum of the 4 products
     * of the u8 bytes of X4 and the i8 bytes of W4 (<lanes x i32> each:
     * vpdpbusd); kern_dw_rows's four-taps-a-lane step (dw_channels4), used
     * when the weights less their zero point are bytes (else MAC2's or
     * the plain-IR form).  NULL: none. */
    LLVMValueRef (*mac4)(Cg *cg, LLVMValueRef acc, LLVMValueRef x4, LLVMValueRef w4);
    /* <N*lanes x i8> (N = 2 or 4): the lanes of V[0], V[1], ... in order
     * (<lanes x i32> each) as bytes (u8 when U8, else i8): each
     * clamp(v + RAW->zp, RAW->lo, RAW->hi), those within the type's range;
     * RAW NULL: values already in the type's range (KGemm.pack's form).
     * With it, and a two-source byte shuffle as cheap as one instruction
     * (AVX-512 VBMI's vpermt2b), dw_wide does 2*lanes channels a step
     * (or lanes: a 16-channel layer or tail), and narrows two pixels'
     * vectors at once.  NULL: none. */
    LLVMValueRef (*narrow)(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw);
    /* NARROW of N = 4 vectors without putting the bytes in order: the
     * 128-bit lanes' packs only (vpackssdw V0, V1; vpackssdw V2, V3;
     * vpacksswb), so byte 16k + 4s + i is V[s]'s lane 4k + i.  With it
     * dw_unpk does 4*lanes channels a step (64 on zmm), its columns by
     * byte and word unpacks, whose order these packs undo.  NULL: none. */
    LLVMValueRef (*narrow_lanes)(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw);
} KDw;

/* The plain-IR steps: LLVM's instruction selection makes them smull/smlal
 * (AArch64), vwmacc (RISC-V V), pmaddwd (x86) or scalar code. */
LLVMTypeRef kern_widen_acc_type(Cg *cg, const KDot *d); /* <step x i32> */
LLVMValueRef kern_widen_dot(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip);
LLVMValueRef kern_widen_mac(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w);

/* Conv2d with group 1, dense and matmul by a constant (as a dense layer
 * of the transposed constant), int8 activations and weights with zero
 * weight zero points.  Returns false, having emitted nothing, for any other
 * form (the generic lowering then does it). */
bool kern_conv(Cg *cg, const Node *n, const KDot *d);
/* The fewest input channels kern_conv takes: one step of D (or of its
 * tail). */
int64_t kern_conv_min_c(const KDot *d);
/* Conv2d with group 1 and at most MAX_C input channels (a first layer on
 * 1 or 3 channels), vectorized over output channels through D->mac2 (two
 * taps a lane) or D->mac; any weight zero point. */
bool kern_conv_few(Cg *cg, const Node *n, int64_t max_c, const KDw *d);
/* Depthwise conv2d (group == C, any multiplier). */
bool kern_depthwise(Cg *cg, const Node *n, const KDw *d);

/* Depthwise conv2d two taps at a time through D->mac2. */
bool kern_depthwise_pairs(Cg *cg, const Node *n, const KDw *d);
/* The pmaddwd shape in plain IR (a mac2 for vector lanes). */
LLVMValueRef kern_pair_madd(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2);

/* ------------------------------------------------------------ for the skeletons
 * (kernel_int8.c, kernel_depthwise.c): the node's geometry and constants. */
typedef struct KFrame {
    /* Geometry: input NHWC, weights OHWI, output N,OH,OW,O. */
    int64_t n, h, w, c, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl;
    bool all_valid;  /* no tap of any output pixel falls in the padding */
    const Value *xv, *wv, *bv;
    const TensorType *yt;
    int rounding;
    OutStage *st;    /* NULL: raw i32 output, clamped to its dtype */
    int32_t zx;
    int64_t tile[3];
} KFrame;

/* The forms the skeletons take (int8 activations, constant weights, a
 * quantized or i32 output); fills F or returns false. */
bool kf_init(Cg *cg, const Node *n, KFrame *f);
/* Whether N (F from kf_init) has the dot kernels' form: int8 weights with
 * no zero point (a nonzero one would make sum_c x * zw a run-time term),
 * and as a conv2d one group reading every input channel. */
bool kf_plain_i8(const Node *n, const KFrame *f);
/* Weight I of output channel O (OHWI) less its zero point. */
int16_t kf_weight(const KFrame *f, int64_t o, int64_t i);
/* The bias of output channel O (0 without one). */
int32_t kf_bias(const KFrame *f, int64_t o);
/* Fills F->st (NULL for an i32 output); false after an error was reported. */
bool kf_stage(Cg *cg, const Node *n, KFrame *f);
/* Requantizes (or clamps) A for channel O and stores it at Y[YI]: the
 * scalar output stage of every kernel. */
void kf_store(Cg *cg, const KFrame *f, LLVMValueRef y, LLVMValueRef a, LLVMValueRef o, LLVMValueRef yi);
/* The input bytes of tap (KY, KX) of output pixel (BI, OY, OX) (idx
 * values; constants fold): a pointer into X at the tap's C channels, or
 * ZROW (a row of zero points) when the tap falls in the padding. */
LLVMValueRef kf_tap_src(Cg *cg, const KFrame *f, LLVMValueRef x, LLVMValueRef zrow, LLVMValueRef bi, LLVMValueRef oy,
                        LLVMValueRef ox, LLVMValueRef ky, LLVMValueRef kx);

/* The vector requantizing epilogue (kernel_requant.c): the interpreter's
 * output stage on LANES contiguous channels at once. */
typedef struct KRequant {
    int rounding;
    int64_t nch;              /* 1: one stage for every channel */
    const OutStage *st;
    /* Per-channel tables (nch > 1).  TFLite rounding: mult, left and
     * right (shift) shifts, mask = 2^right - 1, zp, lo and hi less zp;
     * otherwise m, zp, lo, hi. */
    LLVMValueRef mult, left, shift, mask, zp, lo, hi, m;
    bool any_left, any_right, any_min_mult; /* what the stages need */
    /* The scalar DSP form (Cortex-M, requant_sat): table of {mult, round
     * + zp << right, right} per channel, or NULL with one stage. */
    bool sat;
    LLVMValueRef sat_tab;
    /* A bound on |acc| the kernel proved at compile time (0: none); small
     * enough, requant_sat's doubling high multiply is one smmulr. */
    int64_t acc_max;
    /* The TFLite stage in 32-bit lanes for |acc| <= acc_max
     * (requant_bound.c), planned by kern_requant_bound: per-channel tables
     * (nch > 1) of RqbChan's fields (rqb_field's order). */
    bool bounded;
    RqbPlan plan;
    LLVMValueRef rqb_tab[RQB_MAX_DIGITS + 4];
    /* The float form of requant_float.c, proved on the accumulator
     * ranges by kern_requant_bound (x86 with FMA; rounding down on
     * AVX-512: rqf1.round): nfix corrections a channel;
     * per-channel tables (nch > 1) of s, bpos, bneg (float bits) and the
     * corrections' accumulators and deltas; ONE_BIAS: bpos == bneg in
     * every channel (no bneg table, no sign select). */
    bool flt, one_bias;
    int nfix;
    RqfChan rqf1; /* the one stage's (nch 1) */
    LLVMValueRef rqf_tab[3 + 2 * RQF_MAX_FIX];
} KRequant;
void kern_requant_init(Cg *cg, KRequant *rq, const OutStage *st, int64_t nch, int rounding);
/* Records that |acc| <= ACC_MAX (a bound the kernel proved from its
 * constant weights and bias) and, on x86 with SSE4.1 and TFLite
 * rounding, plans the 32-bit output stage of requant_bound.c when one
 * exists, and with FMA proves requant_float.c's form when it can, on
 * CHAN_LO[k] <= acc <= CHAN_HI[k] for the NRANGE channels k (NRANGE the
 * nch stages', or their union), or on [-ACC_MAX, ACC_MAX] when NULL. */
void kern_requant_bound(Cg *cg, KRequant *rq, int64_t acc_max, const int64_t *chan_lo, const int64_t *chan_hi,
                        int64_t nrange);
/* ACC (<lanes x i32>) of channels C0 .. C0+lanes requantized, <lanes x i32>. */
LLVMValueRef kern_requant(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0);
/* Whether kern_requant_raw applies: TFLite rounding, one zero point and
 * clamp range for every channel (returned), no float-form corrections. */
bool kern_requant_uniform(const KRequant *rq, int32_t *zp, int32_t *lo, int32_t *hi);
/* The end of an output stage every channel shares, for a kernel that
 * narrows several vectors at once: byte = clamp(v + zp, lo, hi). */
struct KNarrow {
    int32_t zp, lo, hi;
};
/* Whether the vectors of RQ may go through kern_requant_raw and a
 * narrowing to U8 or i8 bytes with the clamp and zero point NW (the
 * bounds and zero point within the result's byte range). */
bool kern_requant_narrow(const KRequant *rq, bool u8, KNarrow *nw);
/* kern_requant before its clamp and zero point: the output is
 * clamp(v + zp, lo, hi) (kern_requant_uniform's), for a kernel that
 * narrows and clamps its bytes several vectors at once (KDw.narrow). */
LLVMValueRef kern_requant_raw(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0);

/* Depthwise conv2d (kernel_depthwise.c): channels in vector lanes, a few
 * output pixels of a row at once sharing their input columns, padding
 * through pointers to a row of zero points; multiplier 1 only. */
bool kern_dw_rows(Cg *cg, const Node *n, const KDw *d);

/* conv_gemm's tile and step (kernel_gemm.c): MR output pixels x NV
 * vectors of LANES output channels in i32 lanes, 4 reduction bytes a step;
 * MAC4 is the only per-ISA part. */
typedef struct KGemm {
    const char *name;  /* the instruction, for comments and the docs */
    int lanes, mr, nv;
    bool x_unsigned;   /* MAC4 takes activations as u8 */
    /* ACC (<lanes x i32>) += in each lane the 4 products of the bytes of X
     * (<lanes x i32>: one pixel's 4 activation bytes, the same in every
     * lane) and W (<lanes x i32>: 4 weight bytes of the lane's channel). */
    LLVMValueRef (*mac4)(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w);
    /* Up to this many pixels (2 or 4) share a vector, each on a part of
     * its lanes, when the layer has at most half a vector of output
     * channels (tried before NARROW); 0 or 1: never. */
    int max_pv;
    /* Weights widened at compile time: each lane's 4 bytes b0..b3 as two
     * words of i16 halves, (b0, b2) and (b1, b3) (sxtb16's order), and W
     * a <2*lanes x i32> (lane l's words at 2l, 2l+1). */
    bool wide;
    /* Tiles whose taps all fall inside the image reduce over each kernel
     * row's KW*C contiguous bytes (C a multiple of 4) in one loop, or with a
     * dilation along W over each tap's C bytes: no per-tap checks. */
    bool rows;
    /* N (2 or 4) vectors of one pixel's consecutive output channels, each
     * <lanes x i32> within the result's 8-bit range (i8, or u8 when U8),
     * as one <N*lanes x i8> in channel order; with RAW, kern_requant_raw's
     * values, each byte clamp(v + RAW->zp, RAW->lo, RAW->hi); NULL: each
     * narrowed alone. */
    LLVMValueRef (*pack)(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw);
    /* A tile of one pixel (a dense layer on one row, a squeeze-excite 1x1
     * conv, a last pixel) splits each segment's reduction over sets of
     * accumulators, summed before the output stage, KS*NV of them in all
     * (a tile of fewer vectors has more sets; a layer of one pixel runs
     * 2*NV vectors a tile), so that as many chains of MAC4 are
     * independent; 0 or 1: one set. */
    int ks;
    /* A <lanes x i32> splat of 0x80808080 that the back end cannot see
     * through, made once at the function's entry, so that flipping a
     * broadcast activation word stays one vector xor with the load folded
     * in (x86: vpxord m32{1to16}) instead of a scalar load, xor and
     * broadcast from a general register; NULL: the scalar xor. */
    LLVMValueRef (*xmask)(Cg *cg, int lanes);
} KGemm;

/* Conv2d with group 1, dense and matmul by a constant with a quantized
 * i8/u8 result and zero weight zero points; at most half a vector of
 * output channels packs up to D->max_pv pixels a vector (fewer channels
 * than the lanes a pixel gets only on short reductions); 1 to 4 input channels
 * (3 where it packs no looser, 4 without a dilation along W) as a stem, each kernel row's kw*C bytes one reduction run; false, having
 * emitted nothing, otherwise.  Sets cg->kernel_tile ("6x64c4"). */
bool kern_conv_gemm(Cg *cg, const Node *n, const KGemm *d);
/* MAC4 in plain IR (the reference each ISA's step equals): u8 or i8
 * activations times i8 weights. */
LLVMValueRef kern_gemm_mac4_u8(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w);
LLVMValueRef kern_gemm_mac4_s8(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w);

/* Matmul of two run-time int8 operands (kernel_matmul.c: attention's
 * Q.K^T and P.V) with a quantized i8/u8 result: b packed on the stack per
 * batch matrix into D's layout, zero points corrected at run time, D's
 * MR x NV tile.  False, having emitted nothing, for other forms.  Sets
 * cg->kernel_tile. */
bool kern_matmul_gemm(Cg *cg, const Node *n, const KGemm *d);

/* A target's kernels for one compile, as its selection function
 * (<target>_lower_node) chose them from the CPU's features. */
typedef struct KSet {
    const char *isa;   /* the ISA part of the kernels' names: "avx2", "dotprod", ... */
    const KDot *dot;   /* kern_conv's dot product, or NULL */
    int64_t few_max_c; /* kern_conv_few up to this many input channels (0: not at all) */
    const KDw *few;    /* kern_conv_few's multiply-accumulate */
    /* Depthwise: kern_depthwise_pairs when DW->mac2 is set, else
     * kern_depthwise; NULL: none. */
    const KDw *dw;
    /* kern_dw_rows's lane count (its mac is unused: the products are
     * plain IR), its four-taps-a-lane step MAC4 if set and, if MAC2 is
     * set, its two-taps-a-lane step (named dw_rowpairs), tried before DW;
     * NULL: not at all. */
    const KDw *dw_rows;
    const KGemm *gemm; /* kern_conv_gemm's tile and step, tried first; NULL: not at all */
    const KGemm *mm;   /* kern_matmul_gemm's (matmuls the others leave); NULL: not at all */
} KSet;

/* Offers N to the skeletons in order (kern_conv, kern_conv_few, the
 * depthwise one) and returns the name of the one that emitted it,
 * "<skeleton>_<isa>" (conv_dot_avx2, conv_few_dsp, dw_pairs_avx512vnni,
 * ...), which ends the node function's symbol (NAME_run.K.<kernel>, so a
 * profile and the tests see which kernel ran); NULL, having emitted
 * nothing, when none takes N.  The one place kernels are named. */
const char *kern_select(Cg *cg, const Node *n, const KSet *s);

/* Helpers for kernels.c. */
LLVMValueRef kern_intrinsic(Cg *cg, const char *name, LLVMTypeRef *over, size_t nover, LLVMValueRef *args,
                            unsigned nargs);
LLVMValueRef kern_load_vec(Cg *cg, LLVMTypeRef t, LLVMValueRef p);
LLVMValueRef kern_flip(Cg *cg, LLVMValueRef v); /* v ^ 0x80 in every byte */
/* Whether FEATURE ("avx512vnni") is on for the compile: -mattr (last
 * mention wins), else the -mcpu's known features (passes/tile.c). */
bool kern_has(Cg *cg, const char *feature);

/* kernel_lut.c: an 8-bit -> 8-bit table op (cg_byte_table) as a vector
 * loop of LANES bytes.  LOOKUP returns, for a <LANES x i8> of table
 * indices 0..255, the table's bytes at them (TAB: the 256 entries, to
 * become constant vectors with kern_lut_slice).  kern_lut returns NAME, or
 * NULL (emitting nothing) when the node is not such a table op. */
typedef struct KLut {
    const char *name; /* the kernel's name in the node's symbol: lut_avx512vbmi */
    int lanes;
    LLVMValueRef (*lookup)(Cg *cg, const uint8_t *tab, LLVMValueRef idx);
} KLut;
const char *kern_lut(Cg *cg, const Node *n, const KLut *k);
/* kernel_concat.c: an 8-bit per-tensor concat with operands to rescale
 * through K's lookup (kern_lut hands it concat nodes); returns
 * "concat_<K's name>", or NULL, having emitted nothing. */
const char *kern_concat(Cg *cg, const Node *n, const KLut *k);
LLVMValueRef kern_lut_slice(Cg *cg, const uint8_t *tab, int off, int n);
/* kernel_minmax.c: max/min of 8-bit operands (quantized per tensor, or
 * raw) as byte vectors, each operand through its table to the result's
 * scale (K's lookup step; NULL: lane by lane from memory, 64 lanes).
 * Returns "minmax_<isa>" ("generic" when K is NULL), or NULL, emitting
 * nothing, for any other node. */
const char *kern_minmax(Cg *cg, const Node *n, const KLut *k);

/* Target-independent kernels in plain vector IR (LLVM legalizes them for
 * every target), tried after the target's own selection (lower.c).
 * Each returns its name, or NULL having emitted nothing.
 * kernel_softmax.c: TFLite's int8 softmax along a contiguous last axis of
 * at least 16 elements, 16 a vector ("softmax_rows16"). */
const char *kern_softmax(Cg *cg, const Node *n);
/* The same with the exponentials as byte planes through K's lookup,
 * K.lanes a chunk ("softmax_rows_<K's name>"). */
const char *kern_softmax_lut(Cg *cg, const Node *n, const KLut *k);
/* kernel_elem.c: TFLite int8 add/sub/mul of 8-bit operands, 16 a vector
 * ("elem_affine16", "elem_affine16_fix", "elem_add16", "elem_mul16",
 * "elem_mul_row16"), a mul by a repeated row in 16-bit lanes V bytes a
 * step ("elem_mul_rowhV").  kern_elem_lut: the same, the row tables of
 * the last filled by K's lookups (kern_elem: byte by byte), and other
 * muls in that form with their parameters looked up per element by K
 * ("elem_mul_lutV"). */
const char *kern_elem(Cg *cg, const Node *n);
const char *kern_elem_lut(Cg *cg, const Node *n, const KLut *k);
/* kernel_elem.c's steps on 16-bit words that a target has as single
 * instructions (x86/kernels.c: pmaddwd or vpdpwssd, the saturating
 * packs), for vectors of V bytes.  kern_elem_words: kern_elem_lut's
 * kernels with them, and the add as word pairs ("elem_affine_wdV") where
 * MADD2 is set; without them (W NULL, or a NULL step) the portable IR. */
typedef struct KWords {
    /* ACC (<V/4 x i32>) plus, in each lane, the products of its two
     * words of A0 and B0 and of its two words of A1 and B1 (<V/2 x i16>):
     * two pmaddwd (one where A0 is NULL). */
    LLVMValueRef (*madd2)(Cg *cg, LLVMValueRef acc, LLVMValueRef a0, LLVMValueRef b0, LLVMValueRef a1,
                          LLVMValueRef b1);
    /* D[0], D[1] (<V/4 x i32>) to V/2 words with signed saturation, each
     * 128-bit lane's from the same lane of D[0] then of D[1] (packssdw). */
    LLVMValueRef (*pack_dw)(Cg *cg, LLVMValueRef *d);
    /* H[0], H[1] (<V/2 x i16>) to V bytes the same way, with signed or (U)
     * unsigned saturation (packsswb, packuswb); NULL where the CPU has no
     * such instruction for V. */
    LLVMValueRef (*pack_wb)(Cg *cg, LLVMValueRef *h, bool u);
    /* Whether MADD_BW takes <LANES x i32> accumulators; then ACC plus, in
     * each lane, the products of its four unsigned bytes of U and signed
     * bytes of S (vpdpbusd).  NULL where the target has none. */
    bool (*has_madd_bw)(Cg *cg, unsigned lanes);
    LLVMValueRef (*madd_bw)(Cg *cg, LLVMValueRef acc, LLVMValueRef u, LLVMValueRef s);
    /* D[0], D[1] (<V/4 x i32>) to V/2 words, the high word of each lane,
     * in pack_dw's order (vpermt2w): D >> 16 without saturating or a
     * shift.  NULL, emitting nothing, where the target has no one
     * instruction for it. */
    LLVMValueRef (*hi_dw)(Cg *cg, LLVMValueRef *d);
    /* U (<V x i8>, unsigned) times S (<V x i8>, signed), each lane's two
     * products summed into <V/2 x i16> (signed saturation: callers keep
     * the sums within i16), pmaddubsw; NULL where the target has no such
     * step (the caller's portable form), and V at most WIDTH. */
    LLVMValueRef (*madd_bytes)(Cg *cg, LLVMValueRef u, LLVMValueRef s);
    /* The widest V in bytes that the steps above take on this CPU. */
    unsigned (*width)(Cg *cg);
} KWords;
const char *kern_elem_words(Cg *cg, const Node *n, const KLut *k, const KWords *w);
/* kernel_transpose.c: an 8-bit transpose that moves the innermost dim, as
 * 16x16 byte blocks ("transpose_16x16"); NULL for other nodes. */
const char *kern_transpose(Cg *cg, const Node *n);
/* The 8-bit max pool and TFLite average pools, border split from interior
 * (codegen/kernel_pool.c); NULL for other nodes. */
const char *kern_pool(Cg *cg, const Node *n);
/* The same for a TFLite average pool whose output is requantized: the
 * requantization of the average byte through K's lookup
 * ("pool_avg_c64_lut_avx512vbmi"); NULL for other nodes. */
const char *kern_pool_lut(Cg *cg, const Node *n, const KLut *k);
/* 8-bit bilinear resize in two passes and nearest resize by rows
 * (codegen/kernel_resize.c); NULL for other nodes and forms.
 * kern_resize_words: the same with the target's word steps (W may be
 * NULL: the portable forms). */
const char *kern_resize(Cg *cg, const Node *n);
const char *kern_resize_words(Cg *cg, const Node *n, const KWords *w);
/* A slice keeping a short run of every row, G rows a shuffle
 * (codegen/kernel_slice.c, "slice_rows<in>_<out>"); NULL otherwise. */
const char *kern_slice(Cg *cg, const Node *n);

#endif
