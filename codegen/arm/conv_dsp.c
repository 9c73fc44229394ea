/* arm/conv_dsp.c - conv2d (group 1), dense and matmul by a constant on a
 * Cortex-M4/M7 (DSP extension) as a reduction over each output pixel's
 * whole patch, 1 pixel x 4 output channels a tile ("conv_patch_1x4_dsp").
 *
 * kern_conv_gemm's 1x4 tile (kernel_gemm.c) takes 21 instructions per 4
 * reduction bytes and 4 channels: 1 activation word, 8 weight words
 * loaded one by one (LLVM does not pair them into ldrd), 2 sxtb16, 8
 * smlad and the loop's subs/bne.  Here:
 *
 *   - weights widened to i16 pairs at compile time in sxtb16's order
 *     (bytes 0,2 and 1,3 of each 4), packed as [ceil(O/4)][KP/4][4][2]
 *     words (KP = K rounded up to 8; missing channels and bytes 0), and
 *     read in that order by `ldrd rA, rB, [rW], #8` (inline asm: one
 *     instruction for a channel's two words, the pointer advanced by the
 *     load itself; the table is constant, so the asm reads no memory
 *     LLVM could change);
 *   - the reduction unrolled by two steps (8 bytes), one activation
 *     ldrd: 31 instructions per 8 bytes and 4 channels instead of 42;
 *   - the patch: for a 1x1 conv, a dense layer or a matmul ("direct")
 *     the pixel's C contiguous input bytes (C % 4 == 0, so every word
 *     load is aligned as ldrd needs); otherwise (KH x KW, C % 4 == 0) the
 *     taps copied into a stack row of KP bytes (im2col, a padding tap
 *     copying a row of zero points), so a tap in the padding costs no
 *     branch in the reduction;
 *   - zero points as in kern_conv (kernel_int8.h): u8 activations ^0x80,
 *     zx' * sum of the channel's weights folded into its bias;
 *   - the output stage kern_requant's (requant_sat on Cortex-M), per
 *     channel, with the accumulator bound proved here.
 * Taken for the layers where it beats conv_gemm (arm_lower_node): every
 * direct one with K >= 32, and patches of small images.
 */
#include "kernel_int8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)
#define NR 4

typedef struct DspK {
    KFrame f;
    int64_t K, KP; /* patch bytes, rounded up to 8 */
    bool direct, flip;
    LLVMValueRef x, y, w, bias, zrow, row;
    KRequant rq;
} DspK;

/* NW (1 or 2) reduction steps of 4 bytes as one inline-asm block: the
 * activation words from *XP (ldrd when 8-byte aligned, else ldr; both
 * advance the pointer), ^0x80 per byte when flipping, each widened by
 * sxtb16 (bytes 0,2) and sxtb16 ror #8 (bytes 1,3), and per channel one
 * ldrd of its two weight words from *WP (advanced) and two smlad into
 * ACC[j].  LLVM's own code for the same IR spends ~10 more instructions
 * per 8 bytes on register copies (the four sums rotate through
 * registers) and index arithmetic, and pairs no weight loads into ldrd. */
static void step_asm(Cg *cg, const DspK *k, int nw, bool aligned, LLVMValueRef *xp, LLVMValueRef *wp, LLVMValueRef *acc)
{
    char text[1024];
    int len = 0;
    /* $0-$3 sums, $4 activation pointer, $5 weight pointer, $6 $7
     * activation words, $8 $9 their widened halves, $10 $11 weights. */
    if (nw == 2 && aligned)
        len += snprintf(text + len, sizeof text - (size_t)len, "ldrd $6, $7, [$4], #8\n");
    else
        for (int i = 0; i < nw; i++)
            len += snprintf(text + len, sizeof text - (size_t)len, "ldr $%d, [$4], #4\n", 6 + i);
    for (int i = 0; i < nw; i++) {
        if (k->flip)
            len += snprintf(text + len, sizeof text - (size_t)len, "eor $%d, $%d, #0x80808080\n", 6 + i, 6 + i);
        len += snprintf(text + len, sizeof text - (size_t)len, "sxtb16 $8, $%d\nsxtb16 $9, $%d, ror #8\n", 6 + i, 6 + i);
        for (int j = 0; j < NR; j++)
            len += snprintf(text + len, sizeof text - (size_t)len,
                            "ldrd $10, $11, [$5], #8\nsmlad $%d, $8, $10, $%d\nsmlad $%d, $9, $11, $%d\n", j, j, j, j);
    }
    static const char cons[] = "=r,=r,=r,=r,=r,=r,=&r,=&r,=&r,=&r,=&r,=&r,0,1,2,3,4,5,~{memory},~{cpsr}";
    LLVMTypeRef el[12], in[6];
    for (int i = 0; i < 12; i++)
        el[i] = i == 4 || i == 5 ? cg->t_ptr : cg->t_i32;
    memcpy(in, el, sizeof in);
    LLVMTypeRef rt = LLVMStructTypeInContext(cg->ctx, el, 12, 0);
    LLVMTypeRef ft = LLVMFunctionType(rt, in, 6, 0);
    /* Side effects: the activations may be an im2col row stored just
     * before, which LLVM must not move the block above. */
    LLVMValueRef asmv = LLVMGetInlineAsm(ft, text, (size_t)len, (char *)cons, sizeof cons - 1, 1, 0,
                                         LLVMInlineAsmDialectATT, 0);
    LLVMValueRef args[6] = {acc[0], acc[1], acc[2], acc[3], *xp, *wp};
    LLVMValueRef r = LLVMBuildCall2(B, ft, asmv, args, 6, "");
    for (int j = 0; j < NR; j++)
        acc[j] = LLVMBuildExtractValue(B, r, (unsigned)j, "");
    *xp = LLVMBuildExtractValue(B, r, 4, "");
    *wp = LLVMBuildExtractValue(B, r, 5, "");
}

/* Output pixel GP (an idx value, all images): its patch. */
static LLVMValueRef patch(Cg *cg, DspK *k, LLVMValueRef gp)
{
    const KFrame *f = &k->f;
    int64_t P = f->oh * f->ow;
    if (k->direct && f->sh == 1 && f->sw == 1 && f->oh == f->h && f->ow == f->w)
        return cg_gep8(cg, k->x, cg_mulk(cg, gp, f->c));
    LLVMValueRef p = LLVMBuildURem(B, gp, cg_idx(cg, P), ""), bi = LLVMBuildUDiv(B, gp, cg_idx(cg, P), "");
    LLVMValueRef oy = LLVMBuildUDiv(B, p, cg_idx(cg, f->ow), ""), ox = LLVMBuildURem(B, p, cg_idx(cg, f->ow), "");
    LLVMValueRef rowb = cg_add(cg, cg_mulk(cg, bi, f->h), cg_mulk(cg, oy, f->sh));
    if (k->direct)
        return cg_gep8(cg, k->x, cg_mulk(cg, cg_add(cg, cg_mulk(cg, rowb, f->w), cg_mulk(cg, ox, f->sw)), f->c));
    int64_t C = f->c, nw = C / 4;
    for (int64_t t = 0; t < f->kh * f->kw; t++) {
        LLVMValueRef src = kf_tap_src(cg, f, k->x, k->zrow, bi, oy, ox, cg_idx(cg, t / f->kw), cg_idx(cg, t % f->kw));
        LLVMValueRef dst = cg_gep8(cg, k->row, cg_idx(cg, t * C));
        CgLoop l;
        bool loop = nw > 8;
        LLVMValueRef i = loop ? cg_mulk(cg, cg_for_begin(cg, &l, nw, "cw"), 4) : NULL;
        for (int64_t u = 0; u < (loop ? 1 : nw); u++) {
            LLVMValueRef o = loop ? i : cg_idx(cg, u * 4);
            LLVMValueRef v = LLVMBuildLoad2(B, cg->t_i32, cg_gep8(cg, src, o), "");
            LLVMSetAlignment(v, 1);
            if (k->flip)
                v = LLVMBuildXor(B, v, cg_i32(cg, (int32_t)0x80808080u), "");
            LLVMSetAlignment(LLVMBuildStore(B, v, cg_gep8(cg, dst, o)), 4);
        }
        if (loop)
            cg_for_end(cg, &l);
    }
    return k->row;
}

/* The patch PX of output pixel GP against every channel group. */
static void pixel(Cg *cg, DspK *k, LLVMValueRef gp, LLVMValueRef px)
{
    const KFrame *f = &k->f;
    int64_t O = f->o, OG = (O + NR - 1) / NR, S2 = k->KP / 8;
    LLVMValueRef wpp = cg_alloca(cg, cg->t_ptr, "kdw"), accp[NR];
    for (int j = 0; j < NR; j++)
        accp[j] = cg_alloca(cg, cg->t_i32, "kdacc");
    LLVMBuildStore(B, k->w, wpp);
    bool flip = k->flip;
    k->flip = flip && k->direct; /* an im2col row is flipped already */
    CgLoop lg;
    LLVMValueRef g = cg_for_begin(cg, &lg, OG, "kog");
    LLVMValueRef o0 = cg_mulk(cg, g, NR);
    for (int j = 0; j < NR; j++) {
        LLVMValueRef o = cg_add(cg, o0, cg_idx(cg, j));
        LLVMBuildStore(B, LLVMBuildLoad2(B, cg->t_i32, LLVMBuildInBoundsGEP2(B, cg->t_i32, k->bias, &o, 1, ""), ""),
                       accp[j]);
    }
    /* The reduction's loop by hand: phis for the activation and weight
     * pointers and the 4 sums, the activation pointer its counter. */
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(B);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "kst");
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "kstx");
    LLVMValueRef acc0[NR], wp0 = LLVMBuildLoad2(B, cg->t_ptr, wpp, ""), xend = cg_gep8(cg, px, cg_idx(cg, S2 * 8));
    for (int j = 0; j < NR; j++)
        acc0[j] = LLVMBuildLoad2(B, cg->t_i32, accp[j], "");
    LLVMBuildBr(B, body);
    LLVMPositionBuilderAtEnd(B, body);
    LLVMValueRef xp = LLVMBuildPhi(B, cg->t_ptr, "kx"), wp = LLVMBuildPhi(B, cg->t_ptr, "kw"), acc[NR], aphi[NR];
    for (int j = 0; j < NR; j++)
        acc[j] = aphi[j] = LLVMBuildPhi(B, cg->t_i32, "ka");
    LLVMValueRef wph = wp;
    LLVMValueRef xn = xp;
    step_asm(cg, k, 2, !k->direct, &xn, &wp, acc);
    LLVMBasicBlockRef last = LLVMGetInsertBlock(B);
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, xn, xend, ""), exit, body);
    LLVMAddIncoming(xp, (LLVMValueRef[]){px, xn}, (LLVMBasicBlockRef[]){pre, last}, 2);
    LLVMAddIncoming(wph, (LLVMValueRef[]){wp0, wp}, (LLVMBasicBlockRef[]){pre, last}, 2);
    for (int j = 0; j < NR; j++)
        LLVMAddIncoming(aphi[j], (LLVMValueRef[]){acc0[j], acc[j]}, (LLVMBasicBlockRef[]){pre, last}, 2);
    LLVMPositionBuilderAtEnd(B, exit);
    for (int j = 0; j < NR; j++)
        LLVMBuildStore(B, acc[j], accp[j]);
    LLVMBuildStore(B, wp, wpp);
    if (k->KP / 4 % 2) { /* a direct patch's last 4 bytes */
        LLVMValueRef wp1 = LLVMBuildLoad2(B, cg->t_ptr, wpp, ""), xp1 = xend;
        for (int j = 0; j < NR; j++)
            acc[j] = LLVMBuildLoad2(B, cg->t_i32, accp[j], "");
        step_asm(cg, k, 1, false, &xp1, &wp1, acc);
        for (int j = 0; j < NR; j++)
            LLVMBuildStore(B, acc[j], accp[j]);
        LLVMBuildStore(B, wp1, wpp);
    }
    k->flip = flip;
    LLVMTypeRef v1 = LLVMVectorType(cg->t_i32, 1);
    LLVMValueRef ypix = cg_mulk(cg, gp, O);
    /* The last group's channels past O are computed and not stored. */
    for (int j = 0; j < NR; j++) {
        LLVMValueRef o = cg_add(cg, o0, cg_idx(cg, j));
        LLVMBasicBlockRef st = NULL, done = NULL;
        if (O % NR && j >= O % NR) {
            st = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "kdst");
            done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "kddone");
            LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntULT, o, cg_idx(cg, O), ""), st, done);
            LLVMPositionBuilderAtEnd(B, st);
        }
        LLVMValueRef a = LLVMBuildInsertElement(B, LLVMGetPoison(v1), LLVMBuildLoad2(B, cg->t_i32, accp[j], ""),
                                                cg_i32(cg, 0), "");
        LLVMValueRef v = LLVMBuildExtractElement(B, kern_requant(cg, &k->rq, a, o), cg_i32(cg, 0), "");
        LLVMBuildStore(B, LLVMBuildTrunc(B, v, cg->t_i8, ""), cg_gep8(cg, k->y, cg_add(cg, ypix, o)));
        if (st) {
            LLVMBuildBr(B, done);
            LLVMPositionBuilderAtEnd(B, done);
        }
    }
    cg_for_end(cg, &lg);
}

bool kern_conv_patch_dsp(Cg *cg, const Node *n)
{
    DspK k = {0};
    KFrame *f = &k.f;
    if (!kf_init(cg, n, f) || !kf_plain_i8(n, f))
        return false;
    if (!f->yt->quant || (f->yt->dtype != DT_I8 && f->yt->dtype != DT_U8))
        return false;
    int64_t T = f->kh * f->kw, O = f->o, C = f->c;
    k.K = T * C;
    k.direct = f->kh == 1 && f->kw == 1 && f->all_valid;
    k.KP = k.direct ? k.K : (k.K + 7) / 8 * 8;
    /* Where it beats conv_gemm (measured on mobilenetv3's, unet's and
     * Fashion-MNIST's layers): long direct reductions, and the 3x3s of
     * small images whose tiles mostly touch the border.  Word-aligned
     * patches: C % 4 == 0. */
    int64_t P = f->oh * f->ow;
    bool want = k.direct ? k.K >= 64 : (T > 1 && P <= 64 && k.K <= 2048);
    if (C % 4 || !want)
        return false;
    if (!kf_stage(cg, n, f))
        return true;
    bool x_u8 = f->xv->type.dtype == DT_U8;
    k.flip = x_u8;
    int64_t zxk = f->zx - (x_u8 ? 128 : 0);
    const int8_t *wd = f->wv->data;
    int64_t OG = (O + NR - 1) / NR, S4 = (k.KP + 3) / 4;
    size_t wbytes = (size_t)(OG * S4 * NR * 8);
    int16_t *pk = xcalloc(wbytes / 2, sizeof *pk);
    int32_t *bias = xcalloc((size_t)(OG * NR), sizeof *bias);
    int64_t acc_max = 0;
    for (int64_t o = 0; o < O; o++) {
        int64_t sum = 0, sa = 0;
        for (int64_t i = 0; i < k.K; i++) {
            int8_t w = n->op == OP_MATMUL ? wd[i * O + o] : wd[o * k.K + i];
            /* word (i % 4) % 2 holds bytes 0,2 or 1,3: half (i % 4) / 2 */
            int64_t at = (((o / NR) * S4 + i / 4) * NR + o % NR) * 4 + (i % 4 % 2) * 2 + (i % 4) / 2;
            pk[at] = w;
            sum += w;
            sa += w < 0 ? -w : w;
        }
        bias[o] = (int32_t)((uint32_t)kf_bias(f, o) - (uint32_t)(zxk * sum)); /* wraps like the adds */
        int64_t a = llabs((int64_t)bias[o]) + 128 * sa;
        acc_max = a > acc_max ? a : acc_max;
    }
    k.x = cg_buf(cg, f->xv);
    k.y = cg_buf(cg, n->result);
    k.w = cg_rodata(cg, pk, wbytes, 8, "kdsp");
    k.bias = cg_table_i32(cg, bias, OG * NR, "kdbias");
    free(pk);
    free(bias);
    int64_t nst = cg_stage_count(f->st, O);
    OutStage *st = f->st;
    if (nst > 1) { /* padded to whole groups (never stored) */
        st = xmalloc((size_t)(OG * NR) * sizeof *st);
        for (int64_t o = 0; o < OG * NR; o++)
            st[o] = f->st[o < O ? o : O - 1];
        nst = OG * NR;
    }
    kern_requant_init(cg, &k.rq, st, nst, f->rounding);
    kern_requant_bound(cg, &k.rq, acc_max, NULL, NULL, 0);
    if (!k.direct) {
        LLVMTypeRef bt = LLVMArrayType(cg->t_i8, (unsigned)k.KP);
        k.row = cg_alloca(cg, bt, "kdrow");
        LLVMSetAlignment(k.row, 8);
        /* The pad bytes (K .. KP) weigh 0 but must hold numbers. */
        LLVMBuildMemSet(B, k.row, LLVMConstInt(cg->t_i8, 0, false), cg_idx(cg, k.KP), 8);
        if (!f->all_valid) {
            uint8_t *z = xmalloc((size_t)C);
            memset(z, (uint8_t)f->zx, (size_t)C);
            k.zrow = cg_rodata(cg, z, (size_t)C, 4, "kdzero");
            free(z);
        }
    }
    CgLoop lp;
    LLVMValueRef gp = cg_for_begin(cg, &lp, f->n * P, "kpx");
    pixel(cg, &k, gp, patch(cg, &k, gp));
    cg_for_end(cg, &lp);
    if (st != f->st)
        free(st);
    free(f->st);
    return true;
}
