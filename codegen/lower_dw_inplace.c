/* lower_dw_inplace.c - a depthwise conv2d computed over its own input
 * (plan_memory.c, "in-place depthwise": the proof, and the ring's size).
 *
 * The node's output rows are computed one at a time into a ring of SLOTS
 * rows in scratch (the plan's row buffer), each by the target's own
 * lowering of the node (cg_lower_dispatch) on a one-row view: a node like
 * N whose input is the input rows that output row reads (a pointer into
 * X, pads only where the window leaves the image) and whose result is the
 * ring slot.  After row c, the rows dw_in_place_written says are safe are
 * copied from the ring to their place over X, in order.  The rows whose
 * window reaches into the top or bottom padding are emitted one by one
 * (at most a few: plan_memory's MAX_EDGE_ROWS); the others, which differ
 * only in where their view starts, are one loop around one copy of the
 * kernel.  Every row is computed by the same arithmetic from the same
 * input bytes as in the whole-tensor plan, so the result is bit-exact
 * with it.
 */
#include "codegen.h"
#include "rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B (cg->b)

typedef struct Ctx {
    const Node *n;
    DwInPlace d;
    LLVMValueRef base, ring, written; /* X's (and Y's) bytes; the ring; rows copied so far */
    Value xs, ys;                      /* the one-row view's operand and result */
    Graph *scratch;                    /* holds the view node's memory */
    Node *sub;
    int64_t pads[4];
    const char *kernel;
} Ctx;

/* Output row C (constant, or the loop's LLVM value CV when C < 0 and the
 * row is inside the image): the view, the kernel, the copies. */
static bool one_row(Cg *cg, Ctx *t, int64_t c, LLVMValueRef cv)
{
    const DwInPlace *d = &t->d;
    int64_t top = c * d->sh - d->pt, bot = top + (d->kh - 1) * d->dh;
    int64_t lo = top < 0 ? 0 : top, hi = bot + 1 > d->h ? d->h : bot + 1;
    LLVMValueRef lo_v = cg_idx(cg, lo);
    if (!cv) {
        cv = cg_idx(cg, c);
    } else { /* inside: the window's rows, no padding */
        lo_v = LLVMBuildNSWSub(B, LLVMBuildNSWMul(B, cv, cg_idx(cg, d->sh), ""), cg_idx(cg, d->pt), "");
        lo = 0, hi = (d->kh - 1) * d->dh + 1, top = 0, bot = hi - 1;
    }
    t->xs.type.dims[1] = hi - lo;
    t->pads[0] = lo - top;
    t->pads[2] = bot + 1 - hi;
    node_set_ints(t->scratch, t->sub, ATTR_PADS, t->pads, 4);
    LLVMValueRef slot = d->slots > 1 ? LLVMBuildURem(B, cv, cg_idx(cg, d->slots), "") : cg_idx(cg, 0);
    cg->buf[t->n->operands[0]->id].ptr = cg_gep8(cg, t->base, LLVMBuildNSWMul(B, lo_v, cg_idx(cg, d->in_row), ""));
    cg->buf[t->n->result->id].ptr = cg_gep8(cg, t->ring, LLVMBuildNSWMul(B, slot, cg_idx(cg, d->row_bytes), ""));
    const char *k = cg_lower_dispatch(cg, t->sub);
    if (!k)
        return false;
    if (!t->kernel)
        t->kernel = k;

    /* written(c) = min(c+1, max(0, (c+1)*SH - PT) * IR / OR); all OH after the last row. */
    LLVMValueRef c1 = LLVMBuildNSWAdd(B, cv, cg_idx(cg, 1), "");
    LLVMValueRef need = LLVMBuildNSWSub(B, LLVMBuildNSWMul(B, c1, cg_idx(cg, d->sh), ""), cg_idx(cg, d->pt), "");
    need = cg_smax(cg, need, cg_idx(cg, 0));
    LLVMValueRef w = LLVMBuildUDiv(B, LLVMBuildNSWMul(B, need, cg_idx(cg, d->in_row), ""), cg_idx(cg, d->row_bytes), "");
    w = cg_smin(cg, w, c1);
    LLVMValueRef last = LLVMBuildICmp(B, LLVMIntEQ, c1, cg_idx(cg, d->oh), "");
    w = LLVMBuildSelect(B, last, cg_idx(cg, d->oh), w, "");
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "wb");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "wb.row");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "wb.done");
    LLVMBuildBr(B, head);
    LLVMPositionBuilderAtEnd(B, head);
    LLVMValueRef y = LLVMBuildLoad2(B, cg->t_idx, t->written, "");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntSLT, y, w, ""), body, done);
    LLVMPositionBuilderAtEnd(B, body);
    LLVMValueRef ys = d->slots > 1 ? LLVMBuildURem(B, y, cg_idx(cg, d->slots), "") : cg_idx(cg, 0);
    LLVMValueRef rb = cg_idx(cg, d->row_bytes);
    cg_memcpy(cg, cg_gep8(cg, t->base, LLVMBuildNSWMul(B, y, rb, "")),
              cg_gep8(cg, t->ring, LLVMBuildNSWMul(B, ys, rb, "")), d->row_bytes);
    LLVMBuildStore(B, LLVMBuildNSWAdd(B, y, cg_idx(cg, 1), ""), t->written);
    LLVMBuildBr(B, head);
    LLVMPositionBuilderAtEnd(B, done);
    return true;
}

const char *cg_lower_dw_in_place(Cg *cg, const Node *n, int64_t rowbuf)
{
    Ctx t = {.n = n};
    if (!dw_in_place_geometry(n, &t.d)) {
        cg_fail(cg, n, "internal: not a depthwise conv the plan can run in place");
        return NULL;
    }
    const DwInPlace *d = &t.d;
    Value *xv = n->operands[0], *yv = n->result;
    LLVMValueRef x0 = cg->buf[xv->id].ptr, y0 = cg->buf[yv->id].ptr;
    t.base = x0;
    t.ring = cg_gep8(cg, LLVMGetParam(cg->fn, 2), cg_idx(cg, rowbuf));
    t.written = cg_alloca(cg, cg->t_idx, "written");
    LLVMBuildStore(B, cg_idx(cg, 0), t.written);

    /* The view node: N with a one-row result, its operand the rows read,
     * the pads those rows need (one_row sets them). */
    t.xs = *xv;
    t.ys = *yv;
    t.ys.type.dims[1] = 1;
    static const int64_t zero4[4] = {0, 0, 0, 0};
    node_ints(n, ATTR_PADS, t.pads, 4, zero4);
    t.scratch = graph_new(n->result->name);
    t.sub = node_clone(t.scratch, n);
    t.sub->operands[0] = &t.xs;
    t.sub->result = &t.ys;

    bool ok = true;
    for (int64_t c = 0; c < d->oh && ok;) {
        int64_t top = c * d->sh - d->pt, bot = top + (d->kh - 1) * d->dh;
        if (top < 0 || bot >= d->h) {
            ok = one_row(cg, &t, c, NULL);
            c++;
            continue;
        }
        int64_t e = c; /* the run of rows inside the image */
        while (e < d->oh && e * d->sh - d->pt + (d->kh - 1) * d->dh < d->h)
            e++;
        CgLoop l;
        LLVMValueRef iv = cg_for_begin(cg, &l, e - c, "row");
        ok = one_row(cg, &t, -1, LLVMBuildNSWAdd(B, iv, cg_idx(cg, c), ""));
        cg_for_end(cg, &l);
        c = e;
    }
    cg->buf[xv->id].ptr = x0;
    cg->buf[yv->id].ptr = y0;
    graph_free(t.scratch);
    if (!ok)
        return NULL;
    snprintf(cg->kernel_in_place, sizeof cg->kernel_in_place, "%s_inplace", t.kernel);
    return cg->kernel_in_place;
}
