/* x86/kernels.c - int8 conv/dense/depthwise kernels for x86-64.
 *
 * vpdpbusd (AVX-512 VNNI, or AVX-VNNI's VEX form) multiplies UNSIGNED
 * activation bytes by SIGNED weight bytes and adds each group of four
 * products to an i32 lane.  Signed activations are made unsigned with
 * x' = x ^ 0x80 = x + 128; the zero point becomes zx' = zx + 128 and the
 * term zx' * sum(w) is folded into the bias at compile time
 * (kernel_int8.h).  Without VNNI the same u8 x s8 formulation runs as
 * widened i32 multiplies (pmaddwd/pmulld after instruction selection), so
 * the VNNI arithmetic is exercised bit for bit on any x86-64 host even
 * where the instruction itself cannot run.
 *
 * A conv on fewer input channels than one step (kern_conv_few) runs
 * across output channels with the depthwise kernels' pairwise multiply:
 * two taps' activations broadcast to every i32 lane, one pmaddwd
 * (vpdpwssd with VNNI) per pair of taps and 4, 8 or 16 channels.
 */
#include "kernel_int8.h"

static LLVMTypeRef vnni_acc(Cg *cg, const KDot *d)
{
    return LLVMVectorType(cg->t_i32, (unsigned)d->step / 4);
}

static LLVMValueRef vnni_dot(Cg *cg, const KDot *d, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w, bool flip)
{
    LLVMTypeRef bt = LLVMVectorType(cg->t_i8, (unsigned)d->step), it = vnni_acc(cg, d);
    LLVMValueRef xv = kern_load_vec(cg, bt, x), wv = kern_load_vec(cg, bt, w);
    if (flip)
        xv = kern_flip(cg, xv);
    LLVMValueRef args[3] = {acc, LLVMBuildBitCast(cg->b, xv, it, ""), LLVMBuildBitCast(cg->b, wv, it, "")};
    return kern_intrinsic(cg, d->step == 64 ? "llvm.x86.avx512.vpdpbusd.512" : "llvm.x86.avx512.vpdpbusd.256", NULL,
                          0, args, 3);
}

/* Each wide step hands what is left to a narrower one: 64 -> 32 bytes
 * (vpdpbusd ymm needs AVX-VNNI or AVX512VL) -> 16 (widening). */
static const KDot widen = {"u8 x s8 widening", 16, true, kern_widen_acc_type, kern_widen_dot, NULL, NULL};
static const KDot vnni256 = {"vpdpbusd ymm", 32, true, vnni_acc, vnni_dot, &widen, NULL};
static const KDot vnni512 = {"vpdpbusd zmm", 64, true, vnni_acc, vnni_dot, &vnni256, NULL};
static const KDot vnni512_16 = {"vpdpbusd zmm", 64, true, vnni_acc, vnni_dot, &widen, NULL};
/* Depthwise by pairs of taps: each i32 lane gets two i16 products.
 * vpdpwssd (VNNI) multiplies and accumulates in one instruction; without
 * VNNI, pmaddwd then an add. */
static LLVMValueRef as_i32(Cg *cg, LLVMValueRef v, LLVMTypeRef t)
{
    return LLVMBuildBitCast(cg->b, v, t, "");
}

/* vpmaddwd (ymm) or pmaddwd (xmm) of X2 and W2 into LANES i32 lanes. */
static LLVMValueRef pmaddwd_op(Cg *cg, unsigned lanes, LLVMValueRef x2, LLVMValueRef w2)
{
    LLVMValueRef args[2] = {x2, w2};
    return kern_intrinsic(cg, lanes == 8 ? "llvm.x86.avx2.pmadd.wd" : "llvm.x86.sse2.pmadd.wd", NULL, 0, args, 2);
}

static LLVMValueRef pmaddwd(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2)
{
    return LLVMBuildAdd(cg->b, acc, pmaddwd_op(cg, LLVMGetVectorSize(LLVMTypeOf(acc)), x2, w2), "");
}

static LLVMValueRef vpdpwssd(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2)
{
    LLVMTypeRef t = LLVMTypeOf(acc);
    LLVMValueRef args[3] = {acc, as_i32(cg, x2, t), as_i32(cg, w2, t)};
    const char *name = LLVMGetVectorSize(t) == 16 ? "llvm.x86.avx512.vpdpwssd.512" : "llvm.x86.avx512.vpdpwssd.256";
    return kern_intrinsic(cg, name, NULL, 0, args, 3);
}

static const KDw dw_vnni512 = {.name = "vpdpwssd zmm (tap pairs)", .lanes = 16, .mac2 = vpdpwssd};
static const KDw dw_vnni256 = {.name = "vpdpwssd ymm (tap pairs)", .lanes = 8, .mac2 = vpdpwssd};
static const KDw dw_avx2 = {.name = "vpmaddwd (tap pairs)", .lanes = 8, .mac2 = pmaddwd};
static const KDw dw_sse2 = {.name = "pmaddwd (tap pairs)", .lanes = 4, .mac2 = pmaddwd};
/* kern_dw_rows's pairs of taps on 16, 8 or 4 i32 lanes (it narrows the
 * lanes for few channels): vpdpwssd where the CPU has that width (zmm
 * with AVX-512 VNNI, ymm/xmm with AVX512VL or AVX-VNNI), else pmaddwd
 * (zmm needs AVX512BW, which AVX-512 VNNI targets have) and an add. */
static LLVMValueRef dwr_mac2(Cg *cg, LLVMValueRef acc, LLVMValueRef x2, LLVMValueRef w2)
{
    LLVMTypeRef t = LLVMTypeOf(acc);
    unsigned lanes = LLVMGetVectorSize(t);
    bool vnni = kern_has(cg, "avx512vnni"), vl = kern_has(cg, "avxvnni") || (vnni && kern_has(cg, "avx512vl"));
    if ((lanes == 16 && vnni) || (lanes < 16 && vl)) {
        LLVMValueRef args[3] = {acc, as_i32(cg, x2, t), as_i32(cg, w2, t)};
        const char *name = lanes == 16 ? "llvm.x86.avx512.vpdpwssd.512"
                         : lanes == 8  ? "llvm.x86.avx512.vpdpwssd.256"
                                       : "llvm.x86.avx512.vpdpwssd.128";
        return kern_intrinsic(cg, name, NULL, 0, args, 3);
    }
    LLVMValueRef args[2] = {x2, w2};
    const char *name = lanes == 16 ? "llvm.x86.avx512.pmaddw.d.512"
                     : lanes == 8  ? "llvm.x86.avx2.pmadd.wd"
                                   : "llvm.x86.sse2.pmadd.wd";
    return LLVMBuildAdd(cg->b, acc, kern_intrinsic(cg, name, NULL, 0, args, 2), "");
}

/* vpdpbusd zmm (AVX-512 VNNI) or ymm (AVX-VNNI, AVX512VL): ACC plus, in
 * each i32 lane, the products of X's four unsigned and W's four signed
 * bytes.  kern_dw_rows's mac4 (four kernel rows of one column a lane),
 * conv_gemm's dot step and kernel_elem.c's madd_bw. */
static LLVMValueRef vpdpbusd(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    LLVMValueRef args[3] = {acc, x, w};
    return kern_intrinsic(cg,
                          LLVMGetVectorSize(LLVMTypeOf(acc)) == 16 ? "llvm.x86.avx512.vpdpbusd.512"
                                                                   : "llvm.x86.avx512.vpdpbusd.256",
                          NULL, 0, args, 3);
}

/* kern_dw_rows's narrow on zmm: gemm_pack (the clamp and zero point on
 * 16-bit and byte lanes); narrow_lanes (dw_unpk): the same packs without
 * gemm_pack's vpermd. */
static LLVMValueRef gemm_pack(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw);
static LLVMValueRef dw_pack_lanes(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw);

static const KDw dw_rows_zmm = {.name = "vpdpbusd zmm (4 kernel rows)", .lanes = 16, .mac4 = vpdpbusd, .mac2 = dwr_mac2};
static const KDw dw_rows_zmm_vbmi = {.name = "vpdpbusd zmm (4 kernel rows, 32 channels a step)",
                                     .lanes = 16,
                                     .mac4 = vpdpbusd,
                                     .mac2 = dwr_mac2,
                                     .narrow = gemm_pack,
                                     .narrow_lanes = dw_pack_lanes};
static const KDw dw_rows_ymm4 = {.name = "vpdpbusd ymm (4 kernel rows)", .lanes = 8, .mac4 = vpdpbusd, .mac2 = dwr_mac2};
static const KDw dw_rows_ymm = {.name = "vpdpwssd/vpmaddwd ymm (tap pairs)", .lanes = 8, .mac2 = dwr_mac2};
static const KDw dw_rows_xmm = {.name = "pmaddwd (tap pairs)", .lanes = 4, .mac2 = dwr_mac2};

/* N (2 or 4) vectors of one pixel's channels as one run of bytes:
 * packssdw (i32 -> i16 pairs) then packsswb/packuswb (-> 8 bits) leave
 * 128-bit lane k holding dwords v0[4k..4k+3], v1[4k..], ...; one vpermd
 * puts them in channel order.  3 or 4 shuffles and one store for 4
 * vectors, where vpmovdb would take 4 narrowing stores (M-LSD tiny's 1x1
 * expand convs: the output stage outweighs their 4-8 dot steps).
 *
 * Values in the result's range (RAW NULL) pack exactly.  With RAW the
 * stage ends here, on 32 or 64 lanes an instruction instead of 16 i32
 * lanes a vector: the zero point by vpaddsw on the 16-bit words, the
 * clamp by vpmaxsb/vpminsb (vpmaxub/vpminub for u8) on the bytes, and
 * neither where the saturating packs do it: the full 8-bit range needs
 * no clamp, and a zero point of -128 for i8 (128 for u8) is the other
 * signedness's pack and an xor of 0x80 (clamp(v - 128, -128, 127) =
 * clamp(v, 0, 255) - 128).  Exact for every i32: packssdw's saturation
 * changes only values beyond 32767 in magnitude, whose sum with a zero
 * point of at most 255 stays beyond the byte range, where the byte pack
 * saturates to the bound the clamp gives (and the clamps commute with
 * the dword permute).  Without AVX512BW on zmm: the clamp in i32 and
 * plain truncation.  ORDER false: the bytes as the packs leave them
 * (KDw.narrow_lanes; AVX512BW only). */
static LLVMValueRef pack_bytes(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw, bool order)
{
    LLVMTypeRef vt = LLVMTypeOf(v[0]);
    unsigned L = LLVMGetVectorSize(vt), kl = L / 4; /* 128-bit lanes */
    int32_t tlo = u8 ? 0 : -128, thi = u8 ? 255 : 127;
    if (L == 16 && !kern_has(cg, "avx512bw")) { /* no 512-bit packs: plain truncation */
        LLVMValueRef m[64], c, w[4];
        for (int i = 0; i < n; i++) {
            w[i] = v[i];
            if (raw) {
                w[i] = cg_smin(cg, cg_smax(cg, w[i], cg_splat(cg, cg_i32(cg, raw->lo - raw->zp), L)),
                               cg_splat(cg, cg_i32(cg, raw->hi - raw->zp), L));
                w[i] = LLVMBuildAdd(cg->b, w[i], cg_splat(cg, cg_i32(cg, raw->zp), L), "");
            }
        }
        for (unsigned i = 0; i < 2 * L; i++)
            m[i] = cg_i32(cg, (int32_t)i);
        LLVMValueRef lo = LLVMBuildShuffleVector(cg->b, w[0], w[1], LLVMConstVector(m, 2 * L), "");
        if (n == 4) {
            LLVMValueRef hi = LLVMBuildShuffleVector(cg->b, w[2], w[3], LLVMConstVector(m, 2 * L), "");
            for (unsigned i = 0; i < 4 * L; i++)
                m[i] = cg_i32(cg, (int32_t)i);
            c = LLVMBuildShuffleVector(cg->b, lo, hi, LLVMConstVector(m, 4 * L), "");
        } else {
            c = lo;
        }
        return LLVMBuildTrunc(cg->b, c, LLVMVectorType(cg->t_i8, (unsigned)n * L), "");
    }
    /* flip: the zero point is the other signedness's pack and an xor */
    bool flip = raw && raw->zp == (u8 ? 128 : -128), us = u8 != flip;
    const char *dw = L == 16 ? "llvm.x86.avx512.packssdw.512" : "llvm.x86.avx2.packssdw";
    const char *wb = L == 16 ? (us ? "llvm.x86.avx512.packuswb.512" : "llvm.x86.avx512.packsswb.512")
                             : (us ? "llvm.x86.avx2.packuswb" : "llvm.x86.avx2.packsswb");
    LLVMValueRef a01[2] = {v[0], v[1]}, a23[2] = {n == 4 ? v[2] : v[0], n == 4 ? v[3] : v[1]};
    LLVMValueRef b[2] = {kern_intrinsic(cg, dw, NULL, 0, a01, 2), kern_intrinsic(cg, dw, NULL, 0, a23, 2)};
    LLVMTypeRef t16 = LLVMVectorType(cg->t_i16, 2 * L);
    for (int i = 0; i < 2 && raw && raw->zp && !flip; i++) {
        LLVMValueRef wz[2] = {b[i], cg_splat(cg, LLVMConstInt(cg->t_i16, (uint64_t)(int64_t)raw->zp, true), 2 * L)};
        b[i] = kern_intrinsic(cg, "llvm.sadd.sat", &t16, 1, wz, 2);
    }
    LLVMValueRef p = kern_intrinsic(cg, wb, NULL, 0, b, 2);
    if (flip)
        p = LLVMBuildXor(cg->b, p, cg_splat(cg, LLVMConstInt(cg->t_i8, 0x80, false), 4 * L), "");
    for (int side = 0; side < 2 && raw; side++) { /* the clamp: byte max, byte min */
        int32_t bound = side ? raw->hi : raw->lo;
        if (bound == (side ? thi : tlo))
            continue;
        LLVMValueRef bv = cg_splat(cg, LLVMConstInt(cg->t_i8, (uint64_t)(int64_t)bound, true), 4 * L);
        LLVMIntPredicate pr = side ? (u8 ? LLVMIntUGT : LLVMIntSGT) : (u8 ? LLVMIntULT : LLVMIntSLT);
        p = LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, pr, p, bv, ""), bv, p, "");
    }
    if (!order)
        return p;
    p = LLVMBuildBitCast(cg->b, p, vt, "");
    /* dword 4k + s is vector s's 4 channels 4k..4k+3; channel order: s*kl + k */
    LLVMValueRef m[16];
    for (unsigned s = 0; s < 4; s++)
        for (unsigned k = 0; k < kl; k++)
            m[s * kl + k] = cg_i32(cg, (int32_t)(4 * k + s));
    p = LLVMBuildShuffleVector(cg->b, p, LLVMGetUndef(vt), LLVMConstVector(m, L), "");
    if (n == 2) {
        LLVMValueRef h[8];
        for (unsigned i = 0; i < L / 2; i++)
            h[i] = cg_i32(cg, (int32_t)i);
        p = LLVMBuildShuffleVector(cg->b, p, LLVMGetUndef(vt), LLVMConstVector(h, L / 2), "");
    }
    return LLVMBuildBitCast(cg->b, p, LLVMVectorType(cg->t_i8, (unsigned)(n * (int)L)), "");
}

static LLVMValueRef gemm_pack(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw)
{
    return pack_bytes(cg, v, n, u8, raw, true);
}

static LLVMValueRef dw_pack_lanes(Cg *cg, const LLVMValueRef *v, int n, bool u8, const KNarrow *raw)
{
    return pack_bytes(cg, v, n, u8, raw, false);
}

/* conv_gemm without VNNI: vpdpbusd's four u8 x s8 products a lane as two
 * vpmaddwd (pmaddwd on SSE2) on 16-bit halves.  Each lane's 4 activation
 * bytes x0..x3 split into the words (x0, x2) (the bytes masked) and
 * (x1, x3) (shifted down 8), zero-extended; its 4 weight bytes into (w0, w2)
 * and (w1, w3), sign-extended (shifted up 8 then arithmetically down 8, and
 * down 8).  vpmaddwd sums each pair of word products into the i32 lane:
 * x0*w0 + x2*w2 and x1*w1 + x3*w3, each product within 255 * 128, so
 * exact (vpmaddubsw's i16 saturation would not be).  The activation's
 * splits are per pixel and shared by every vector of the tile; the
 * weight's per vector and shared by every pixel. */
static LLVMValueRef gemm_pmaddwd(Cg *cg, LLVMValueRef acc, LLVMValueRef x, LLVMValueRef w)
{
    LLVMTypeRef t = LLVMTypeOf(acc);
    unsigned L = LLVMGetVectorSize(t);
    LLVMTypeRef t16 = LLVMVectorType(cg->t_i16, 2 * L);
    LLVMValueRef eight = cg_splat(cg, LLVMConstInt(cg->t_i16, 8, false), 2 * L);
    LLVMValueRef xw = LLVMBuildBitCast(cg->b, x, t16, ""), ww = LLVMBuildBitCast(cg->b, w, t16, "");
    LLVMValueRef xe = LLVMBuildAnd(cg->b, xw, cg_splat(cg, LLVMConstInt(cg->t_i16, 0xff, false), 2 * L), "");
    LLVMValueRef xo = LLVMBuildLShr(cg->b, xw, eight, "");
    LLVMValueRef we = LLVMBuildAShr(cg->b, LLVMBuildShl(cg->b, ww, eight, ""), eight, "");
    LLVMValueRef wo = LLVMBuildAShr(cg->b, ww, eight, "");
    LLVMValueRef s = LLVMBuildAdd(cg->b, pmaddwd_op(cg, L, xe, we), pmaddwd_op(cg, L, xo, wo), "");
    return LLVMBuildAdd(cg->b, acc, s, "");
}

/* KGemm.xmask: the splat through an empty inline asm (a register in, the
 * same register out) at the entry block.  With the constant itself LLVM
 * moves the xor before the broadcast (a scalar xor, or vpxor xmm and
 * vpbroadcastd zmm, xmm; session 13 measured no gain). */
static LLVMValueRef gemm_xmask(Cg *cg, int lanes)
{
    LLVMTypeRef vt = LLVMVectorType(cg->t_i32, (unsigned)lanes);
    LLVMBuilderRef b = cg_entry_builder(cg);
    static const char cons[] = "=v,0";
    LLVMTypeRef ft = LLVMFunctionType(vt, &vt, 1, 0);
    LLVMValueRef asmv = LLVMGetInlineAsm(ft, "", 0, (char *)cons, sizeof cons - 1, 0, 0, LLVMInlineAsmDialectATT, 0);
    LLVMValueRef m = cg_splat(cg, cg_i32(cg, (int32_t)0x80808080u), lanes);
    LLVMValueRef r = LLVMBuildCall2(b, ft, asmv, &m, 1, "kgmask");
    LLVMDisposeBuilder(b);
    return r;
}

/* conv_gemm (kernel_gemm.c): vpdpbusd on zmm (16 channels a vector, 6
 * pixels x 4 vectors = 24 of the 32 registers hold accumulators) or ymm
 * (AVX-VNNI's VEX form, or AVX512VL: 16 registers, 4 x 2).  Layers with
 * at most half a vector of output channels pack 2 or 4 pixels a vector
 * (zmm: 8 channels x 2 pixels or 4 x 4; ymm: 4 x 2).  On zmm, tiles
 * inside the image run the row form (KGemm.rows): M-LSD tiny's 3x3
 * stride-2 stem on 4 channels went from 594 to 262 us (per-tap pointers
 * and selects had dominated its 9 one-step taps; it is a stem now), its
 * 3x3 64- and 128-channel convs 5-10% faster. */
static const KGemm gemm_zmm = {.name = "vpdpbusd zmm", .lanes = 16, .mr = 6, .nv = 4, .x_unsigned = true, .mac4 = vpdpbusd, .max_pv = 4,
                               .rows = true, .pack = gemm_pack, .ks = 4, .xmask = gemm_xmask};
static const KGemm gemm_ymm = {.name = "vpdpbusd ymm", .lanes = 8, .mr = 4, .nv = 2, .x_unsigned = true, .mac4 = vpdpbusd, .max_pv = 2, .pack = gemm_pack, .ks = 4};
static const KGemm gemm_avx2 = {.name = "vpmaddwd ymm", .lanes = 8, .mr = 4, .nv = 2, .x_unsigned = true, .mac4 = gemm_pmaddwd, .max_pv = 2, .pack = gemm_pack, .ks = 4};
static const KGemm gemm_sse2 = {.name = "pmaddwd xmm", .lanes = 4, .mr = 4, .nv = 2, .x_unsigned = true, .mac4 = gemm_pmaddwd, .max_pv = 2, .ks = 4};
/* matmul_gemm (kernel_matmul.c) without VNNI: the plain-IR u8 x s8 step
 * on ymm (4 rows x 2 vectors of 8 of the 16 registers) or xmm. */
static const KGemm mm_avx2 = {.name = "u8 x s8 widening ymm", .lanes = 8, .mr = 4, .nv = 2, .x_unsigned = true, .mac4 = kern_gemm_mac4_u8};
static const KGemm mm_sse2 = {.name = "u8 x s8 widening xmm", .lanes = 4, .mr = 4, .nv = 2, .x_unsigned = true, .mac4 = kern_gemm_mac4_u8};

/* A table op's lookup with AVX-512 VBMI: vpermi2b picks each of 64 bytes
 * from 128 table bytes by the index's low 7 bits; two of them cover the
 * table's halves and the index's top bit chooses between them. */
static LLVMValueRef lut_vbmi(Cg *cg, const uint8_t *tab, LLVMValueRef idx)
{
    LLVMValueRef lo_args[3] = {kern_lut_slice(cg, tab, 0, 64), idx, kern_lut_slice(cg, tab, 64, 64)};
    LLVMValueRef hi_args[3] = {kern_lut_slice(cg, tab, 128, 64), idx, kern_lut_slice(cg, tab, 192, 64)};
    LLVMValueRef lo = kern_intrinsic(cg, "llvm.x86.avx512.vpermi2var.qi.512", NULL, 0, lo_args, 3);
    LLVMValueRef hi = kern_intrinsic(cg, "llvm.x86.avx512.vpermi2var.qi.512", NULL, 0, hi_args, 3);
    LLVMValueRef top = LLVMBuildICmp(cg->b, LLVMIntSLT, idx, LLVMConstNull(LLVMTypeOf(idx)), "");
    return LLVMBuildSelect(cg->b, top, hi, lo, "");
}

static const KLut lut_avx512vbmi = {"lut_avx512vbmi", 64, lut_vbmi};

/* Whether vpdpbusd and vpdpwssd take LANES i32 lanes: zmm with AVX-512
 * VNNI, ymm with AVX-VNNI or AVX512VL. */
static bool words_has_madd_bw(Cg *cg, unsigned lanes)
{
    bool vnni = kern_has(cg, "avx512vnni"), vl = kern_has(cg, "avxvnni") || (vnni && kern_has(cg, "avx512vl"));
    return (lanes == 16 && vnni) || (lanes == 8 && vl);
}

/* kernel_elem.c's word steps (KWords).  MADD2: vpdpwssd on zmm with
 * AVX-512 VNNI and on ymm with AVX-VNNI or AVX512VL, the accumulator
 * taken in (pmaddwd, vpdpwssd then an add measured 1.2x slower on
 * znver5), else pmaddwd (vpmaddwd) and adds, xmm always. */
static LLVMValueRef words_madd2(Cg *cg, LLVMValueRef acc, LLVMValueRef a0, LLVMValueRef b0, LLVMValueRef a1,
                                LLVMValueRef b1)
{
    unsigned lanes = LLVMGetVectorSize(LLVMTypeOf(acc));
    if (words_has_madd_bw(cg, lanes)) /* the same VNNI widths */
        return vpdpwssd(cg, a0 ? vpdpwssd(cg, acc, a0, b0) : acc, a1, b1);
    LLVMValueRef x0[2] = {a0, b0}, x1[2] = {a1, b1};
    const char *name = lanes == 16 ? "llvm.x86.avx512.pmaddw.d.512"
                     : lanes == 8  ? "llvm.x86.avx2.pmadd.wd"
                                   : "llvm.x86.sse2.pmadd.wd";
    LLVMValueRef s = LLVMBuildAdd(cg->b, kern_intrinsic(cg, name, NULL, 0, x1, 2), acc, "");
    return a0 ? LLVMBuildAdd(cg->b, s, kern_intrinsic(cg, name, NULL, 0, x0, 2), "") : s;
}

static LLVMValueRef words_pack_dw(Cg *cg, LLVMValueRef *d)
{
    unsigned lanes = LLVMGetVectorSize(LLVMTypeOf(d[0]));
    const char *name = lanes == 16 ? "llvm.x86.avx512.packssdw.512"
                     : lanes == 8  ? "llvm.x86.avx2.packssdw"
                                   : "llvm.x86.sse2.packssdw.128";
    return kern_intrinsic(cg, name, NULL, 0, d, 2);
}

static LLVMValueRef words_pack_wb(Cg *cg, LLVMValueRef *h, bool u)
{
    unsigned v = 2 * LLVMGetVectorSize(LLVMTypeOf(h[0]));
    if (v != 16 && !(v == 32 && kern_has(cg, "avx2")) && !(v == 64 && kern_has(cg, "avx512bw")))
        return NULL;
    const char *name = v == 64   ? (u ? "llvm.x86.avx512.packuswb.512" : "llvm.x86.avx512.packsswb.512")
                       : v == 32 ? (u ? "llvm.x86.avx2.packuswb" : "llvm.x86.avx2.packsswb")
                                 : (u ? "llvm.x86.sse2.packuswb.128" : "llvm.x86.sse2.packsswb.128");
    return kern_intrinsic(cg, name, NULL, 0, h, 2);
}

static LLVMValueRef words_madd_bw(Cg *cg, LLVMValueRef acc, LLVMValueRef u, LLVMValueRef s)
{
    LLVMTypeRef t = LLVMTypeOf(acc);
    return vpdpbusd(cg, acc, as_i32(cg, u, t), as_i32(cg, s, t));
}

/* The high words by one vpermt2w (AVX-512BW, zmm only): word k % 8 of
 * 128-bit lane k / 8 is the high word of dword k % 4 of that lane of
 * D[k % 8 / 4]. */
static LLVMValueRef words_hi_dw(Cg *cg, LLVMValueRef *d)
{
    if (LLVMGetVectorSize(LLVMTypeOf(d[0])) != 16 || !kern_has(cg, "avx512bw"))
        return NULL;
    LLVMTypeRef tw = LLVMVectorType(cg->t_i16, 32);
    LLVMValueRef idx[32];
    for (int k = 0; k < 32; k++)
        idx[k] = cg_i32(cg, (k % 8 / 4) * 32 + 2 * (4 * (k / 8) + k % 4) + 1);
    return LLVMBuildShuffleVector(cg->b, LLVMBuildBitCast(cg->b, d[0], tw, ""), LLVMBuildBitCast(cg->b, d[1], tw, ""),
                                  LLVMConstVector(idx, 32), "");
}

/* vpmaddubsw on zmm (AVX-512BW), ymm (AVX2) or xmm (SSSE3). */
static LLVMValueRef words_madd_bytes(Cg *cg, LLVMValueRef u, LLVMValueRef s)
{
    unsigned v = LLVMGetVectorSize(LLVMTypeOf(u));
    if (!(v == 16 && kern_has(cg, "ssse3")) && !(v == 32 && kern_has(cg, "avx2")) && !(v == 64 && kern_has(cg, "avx512bw")))
        return NULL;
    const char *name = v == 64 ? "llvm.x86.avx512.pmaddubs.w.512" : v == 32 ? "llvm.x86.avx2.pmadd.ub.sw" : "llvm.x86.ssse3.pmadd.ub.sw.128";
    LLVMValueRef arg[2] = {u, s};
    return kern_intrinsic(cg, name, NULL, 0, arg, 2);
}

static unsigned words_width(Cg *cg)
{
    return kern_has(cg, "avx512bw") ? 64 : kern_has(cg, "avx2") ? 32 : 16;
}

static const KWords words_x86 = {
    .madd2 = words_madd2,
    .pack_dw = words_pack_dw,
    .pack_wb = words_pack_wb,
    .has_madd_bw = words_has_madd_bw,
    .madd_bw = words_madd_bw,
    .hi_dw = words_hi_dw,
    .madd_bytes = words_madd_bytes,
    .width = words_width,
};

/* ISA names: avx512vnni (zmm, and ymm through AVX-VNNI or AVX512VL),
 * avx512vnni_zmm (no ymm form: a 16-byte tail widens), avxvnni, avx2, sse2. */
const char *x86_lower_node(Cg *cg, const Node *n)
{
    if (n->op != OP_CONV2D && n->op != OP_DENSE && n->op != OP_MATMUL) {
        if (n->op == OP_RESIZE)
            return kern_resize_words(cg, n, &words_x86);
        if (!kern_has(cg, "avx512vbmi"))
            return kern_elem_words(cg, n, NULL, &words_x86);
        const char *k = kern_minmax(cg, n, &lut_avx512vbmi);
        k = k ? k : kern_pool_lut(cg, n, &lut_avx512vbmi);
        k = k ? k : kern_softmax_lut(cg, n, &lut_avx512vbmi);
        k = k ? k : kern_elem_words(cg, n, &lut_avx512vbmi, &words_x86);
        return k ? k : kern_lut(cg, n, &lut_avx512vbmi);
    }
    bool vnni = kern_has(cg, "avx512vnni"), avxvnni = kern_has(cg, "avxvnni");
    bool ymm_vnni = avxvnni || (vnni && kern_has(cg, "avx512vl"));
    KSet s = vnni && ymm_vnni ? (KSet){"avx512vnni", &vnni512, 0, &dw_vnni256, &dw_vnni256, NULL, NULL, NULL}
             : vnni           ? (KSet){"avx512vnni_zmm", &vnni512_16, 0, &dw_vnni512, &dw_vnni512, NULL, NULL, NULL}
             : avxvnni        ? (KSet){"avxvnni", &vnni256, 0, &dw_vnni256, &dw_vnni256, NULL, NULL, NULL}
             : kern_has(cg, "avx2") ? (KSet){"avx2", &widen, 0, &dw_avx2, &dw_avx2, NULL, NULL, NULL}
                                    : (KSet){"sse2", &widen, 0, &dw_sse2, &dw_sse2, NULL, NULL, NULL};
    s.few_max_c = kern_conv_min_c(s.dot) - 1;
    s.gemm = vnni ? &gemm_zmm : avxvnni ? &gemm_ymm : kern_has(cg, "avx2") ? &gemm_avx2 : &gemm_sse2;
    s.mm = vnni || avxvnni ? s.gemm : kern_has(cg, "avx2") ? &mm_avx2 : &mm_sse2;
    s.dw_rows = vnni ? (kern_has(cg, "avx512vbmi") ? &dw_rows_zmm_vbmi : &dw_rows_zmm) : avxvnni ? &dw_rows_ymm4 : s.dw->lanes == 8 ? &dw_rows_ymm : &dw_rows_xmm; /* 16, 8 or 4 i32 lanes */
    return kern_select(cg, n, &s);
}
