/* kernel_requant.c - the requantizing output stage on a vector of
 * channels: the interpreter's outstage_apply (ir/interp.h) lane by lane,
 * through the same fixedpoint_ir.c functions the scalar cg_outstage uses
 * (they take vectors as well as scalars), so the two agree bit for bit.
 * Per-channel parameters are tables indexed by the first channel, one
 * vector load each.
 */
#include "kernel_int8.h"

#include <stdlib.h>

#define B (cg->b)

static LLVMValueRef splat_i32(Cg *cg, int lanes, int64_t v)
{
    LLVMValueRef e[64];
    for (int i = 0; i < lanes; i++)
        e[i] = cg_i32(cg, v);
    return LLVMConstVector(e, (unsigned)lanes);
}

static LLVMValueRef splat_f64(Cg *cg, int lanes, double v)
{
    LLVMValueRef e[64];
    for (int i = 0; i < lanes; i++)
        e[i] = cg_f64(cg, v);
    return LLVMConstVector(e, (unsigned)lanes);
}

static LLVMValueRef table(Cg *cg, const OutStage *st, int64_t n, int which, const char *name)
{
    int32_t *t = xmalloc((size_t)n * sizeof *t);
    for (int64_t k = 0; k < n; k++)
        t[k] = which == 0 ? st[k].mult : which == 1 ? st[k].shift : which == 2 ? st[k].zp
             : which == 3 ? (int32_t)st[k].lo : (int32_t)st[k].hi;
    LLVMValueRef r = cg_table_i32(cg, t, n, name);
    free(t);
    return r;
}

void kern_requant_init(Cg *cg, KRequant *rq, const OutStage *st, int64_t nch, int rounding)
{
    *rq = (KRequant){.rounding = rounding, .nch = nch, .st = st};
    if (nch == 1)
        return;
    rq->zp = table(cg, st, nch, 2, "rqzp");
    rq->lo = table(cg, st, nch, 3, "rqlo");
    rq->hi = table(cg, st, nch, 4, "rqhi");
    if (rounding == ROUND_TFLITE) {
        rq->mult = table(cg, st, nch, 0, "rqmult");
        rq->shift = table(cg, st, nch, 1, "rqshift");
    } else {
        double *t = xmalloc((size_t)nch * sizeof *t);
        for (int64_t k = 0; k < nch; k++)
            t[k] = st[k].m;
        rq->m = cg_table_f64(cg, t, nch, "rqm");
        free(t);
    }
}

static LLVMValueRef load(Cg *cg, LLVMTypeRef et, int lanes, LLVMValueRef tab, LLVMValueRef c0)
{
    LLVMValueRef p = LLVMBuildInBoundsGEP2(B, et, tab, &c0, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(B, LLVMVectorType(et, (unsigned)lanes), p, "");
    LLVMSetAlignment(v, et == cg->t_f64 ? 8 : 4);
    return v;
}

LLVMValueRef kern_requant(Cg *cg, const KRequant *rq, LLVMValueRef acc, LLVMValueRef c0)
{
    int lanes = (int)LLVMGetVectorSize(LLVMTypeOf(acc));
    const OutStage *s = rq->st;
    bool one = rq->nch == 1;
    LLVMValueRef zp = one ? splat_i32(cg, lanes, s[0].zp) : load(cg, cg->t_i32, lanes, rq->zp, c0);
    LLVMValueRef lo = one ? splat_i32(cg, lanes, s[0].lo) : load(cg, cg->t_i32, lanes, rq->lo, c0);
    LLVMValueRef hi = one ? splat_i32(cg, lanes, s[0].hi) : load(cg, cg->t_i32, lanes, rq->hi, c0);
    LLVMValueRef v;
    if (rq->rounding == ROUND_TFLITE) {
        LLVMValueRef m = one ? splat_i32(cg, lanes, s[0].mult) : load(cg, cg->t_i32, lanes, rq->mult, c0);
        LLVMValueRef sh = one ? splat_i32(cg, lanes, s[0].shift) : load(cg, cg->t_i32, lanes, rq->shift, c0);
        return cg_requant_tail_i32(cg, cg_mbqm_dyn(cg, acc, m, sh), cg_stage_small(s, rq->nch), zp, lo, hi);
    } else {
        LLVMValueRef m = one ? splat_f64(cg, lanes, s[0].m) : load(cg, cg->t_f64, lanes, rq->m, c0);
        v = cg_rne_prod(cg, acc, m);
    }
    return cg_add_zp_clamp(cg, v, zp, lo, hi);
}
