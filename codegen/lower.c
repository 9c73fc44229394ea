/* lower.c - a verified graph to one LLVM module: NAME_run, NAME_info and
 * read-only constants; then optimisation and emission (machine.c).
 *
 *   int NAME_run(const void *const inputs[], void *const outputs[], void *scratch
 *                [, const void *weights]);
 *
 * checks its arguments (qnn_check_args' rules, inlined so that a model
 * needs nothing from the runtime library), then calls the nodes in graph
 * order, each lowered into an internal function of its own (see
 * build_node_fn).  Where each value lives:
 *   graph input   inputs[i] (read only)
 *   constant      a private constant global, or weights + offset
 *   graph output  outputs[j] for the first output slot naming it; other
 *                 slots (and outputs that are inputs or constants) are
 *                 memcpy'd at the end
 *   other result  scratch + plan.offset (aliases share their root's bytes)
 */
#include "codegen.h"
#include "cg_internal.h"
#include "kernel_int8.h"

#include <stdlib.h>
#include <string.h>

static void init_types(Cg *cg)
{
    LLVMContextRef c = cg->ctx;
    cg->t_void = LLVMVoidTypeInContext(c);
    cg->t_i1 = LLVMInt1TypeInContext(c);
    cg->t_i8 = LLVMInt8TypeInContext(c);
    cg->t_i16 = LLVMInt16TypeInContext(c);
    cg->t_i32 = LLVMInt32TypeInContext(c);
    cg->t_i64 = LLVMInt64TypeInContext(c);
    cg->t_f32 = LLVMFloatTypeInContext(c);
    cg->t_f64 = LLVMDoubleTypeInContext(c);
    cg->t_ptr = LLVMPointerTypeInContext(c, 0);
    cg->t_idx = LLVMIntPtrTypeInContext(c, cg->td);
}

/* ------------------------------------------------------------ the weights blob */

/* --weights=external: every table a node function reads lives in one
 * blob (codegen.h, CG_WEIGHTS_*), each byte-identical table once.  SLOT
 * is an open-addressing table of slice indices + 1 by content hash. */
typedef struct WSlice {
    size_t off, n;
    uint64_t hash;
} WSlice;

struct CgWeights {
    char *data;
    size_t len, cap;
    WSlice *slices;
    int nslices, cap_slices;
    int *slot;
    int nslot; /* a power of two, more than twice nslices */
};

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211u;
    return h;
}
#define FNV64_INIT 14695981039346656037u

static struct CgWeights *wblob_new(void)
{
    struct CgWeights *w = xcalloc(1, sizeof *w);
    w->cap = 4096;
    w->data = xcalloc(1, w->cap);
    w->len = CG_WEIGHTS_HEADER; /* filled by wblob_finish */
    w->nslot = 64;
    w->slot = xcalloc((size_t)w->nslot, sizeof *w->slot);
    return w;
}

static void wblob_free(struct CgWeights *w)
{
    if (!w)
        return;
    free(w->data);
    free(w->slices);
    free(w->slot);
    free(w);
}

/* The offset of N bytes of DATA in the blob, aligned to ALIGN: an
 * identical slice already there if its offset is aligned enough. */
static size_t wblob_add(struct CgWeights *w, const void *data, size_t n, unsigned align)
{
    if (align < 1 || align > CG_WEIGHTS_ALIGN || (align & (align - 1)))
        qnn_unreachable(); /* the kernels ask for 4 to 64 */
    uint64_t h = fnv64(FNV64_INIT, data, n);
    unsigned mask = (unsigned)w->nslot - 1, i = (unsigned)h & mask;
    for (; w->slot[i]; i = (i + 1) & mask) {
        const WSlice *s = &w->slices[w->slot[i] - 1];
        if (s->hash == h && s->n == n && s->off % align == 0 && !memcmp(w->data + s->off, data, n))
            return s->off;
    }
    size_t off = (w->len + align - 1) & ~(size_t)(align - 1);
    if (off + n > w->cap) {
        while (off + n > w->cap)
            w->cap *= 2;
        w->data = xrealloc(w->data, w->cap);
    }
    memset(w->data + w->len, 0, off - w->len);
    if (n)
        memcpy(w->data + off, data, n);
    w->len = off + n;
    if (w->nslices == w->cap_slices) {
        w->cap_slices = w->cap_slices ? 2 * w->cap_slices : 64;
        w->slices = xrealloc(w->slices, (size_t)w->cap_slices * sizeof *w->slices);
    }
    w->slices[w->nslices++] = (WSlice){off, n, h};
    w->slot[i] = w->nslices;
    if (2 * w->nslices >= w->nslot) { /* rehash */
        free(w->slot);
        w->nslot *= 2;
        w->slot = xcalloc((size_t)w->nslot, sizeof *w->slot);
        mask = (unsigned)w->nslot - 1;
        for (int k = 0; k < w->nslices; k++) {
            unsigned j = (unsigned)w->slices[k].hash & mask;
            while (w->slot[j])
                j = (j + 1) & mask;
            w->slot[j] = k + 1;
        }
    }
    return off;
}

/* Fills the header (codegen.h) now that the contents are known. */
static void wblob_finish(struct CgWeights *w, const CodegenOptions *o, uint32_t hdr[CG_WEIGHTS_HEADER / 4])
{
    uint64_t content = fnv64(FNV64_INIT, w->data + CG_WEIGHTS_HEADER, w->len - CG_WEIGHTS_HEADER);
    const char *parts[3] = {o->triple, o->cpu ? o->cpu : "", o->features ? o->features : ""};
    uint64_t target = FNV64_INIT;
    for (int i = 0; i < 3; i++)
        target = fnv64(target, parts[i], strlen(parts[i]) + 1);
    uint64_t size = w->len;
    memset(hdr, 0, CG_WEIGHTS_HEADER);
    hdr[0] = CG_WEIGHTS_MAGIC;
    hdr[1] = CG_WEIGHTS_VERSION;
    hdr[2] = (uint32_t)size, hdr[3] = (uint32_t)(size >> 32);
    hdr[4] = (uint32_t)content, hdr[5] = (uint32_t)(content >> 32);
    hdr[6] = (uint32_t)target, hdr[7] = (uint32_t)(target >> 32);
    for (int i = 0; i < CG_WEIGHTS_HEADER / 4; i++) /* little-endian, whatever the host */
        for (int k = 0; k < 4; k++)
            w->data[4 * i + k] = (char)(hdr[i] >> (8 * k));
}

/* weights + OFF in the current function: in a node's function, placed in
 * its entry block (so it dominates every use, whichever block asked). */
static LLVMValueRef weights_at(Cg *cg, size_t off, const char *name)
{
    LLVMBuilderRef b = cg->b;
    if (cg->in_node) {
        b = LLVMCreateBuilderInContext(cg->ctx);
        LLVMPositionBuilderAtEnd(b, cg->alloca_bb);
    }
    LLVMValueRef idx = cg_idx(cg, (int64_t)off);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(b, cg->t_i8, LLVMGetParam(cg->fn, 3), &idx, 1, name);
    if (b != cg->b)
        LLVMDisposeBuilder(b);
    return p;
}

LLVMValueRef cg_weights_slice(Cg *cg, const void *data, size_t n, unsigned align, const char *name)
{
    return weights_at(cg, wblob_add(cg->wblob, data, n, align), name);
}

/* Returns status from the function when COND holds. */
static void return_if(Cg *cg, LLVMValueRef cond, int status)
{
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "fail");
    LLVMBasicBlockRef cont = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "ok");
    LLVMBuildCondBr(cg->b, cond, fail, cont);
    LLVMPositionBuilderAtEnd(cg->b, fail);
    LLVMBuildRet(cg->b, cg_i32(cg, status));
    LLVMPositionBuilderAtEnd(cg->b, cont);
}

static LLVMValueRef is_null(Cg *cg, LLVMValueRef p)
{
    return LLVMBuildICmp(cg->b, LLVMIntEQ, p, LLVMConstNull(cg->t_ptr), "");
}

static LLVMValueRef load_ptr_at(Cg *cg, LLVMValueRef arr, int i)
{
    LLVMValueRef idx = cg_idx(cg, i);
    LLVMValueRef p = LLVMBuildInBoundsGEP2(cg->b, cg->t_ptr, arr, &idx, 1, "");
    return LLVMBuildLoad2(cg->b, cg->t_ptr, p, "");
}

/* ------------------------------------------------------------ value locations */

typedef enum { LOC_INPUT, LOC_OUTPUT, LOC_GLOBAL, LOC_WEIGHTS, LOC_SCRATCH } LocKind;

struct CgLoc {
    LocKind kind;
    bool placed;
    int64_t at;          /* input/output slot, or byte offset into weights/scratch */
    LLVMValueRef global; /* LOC_GLOBAL */
};

/* Decides where every value lives; constants embedded in the object
 * become private globals here. */
static void place_values(Cg *cg)
{
    const Graph *g = cg->g;
    const MemoryPlan *plan = cg->plan;
    CgLoc *loc = cg->loc = xcalloc((size_t)g->values.len + 1, sizeof *loc);
    for (int i = 0; i < g->inputs.len; i++)
        loc[((Value *)g->inputs.data[i])->id] = (CgLoc){LOC_INPUT, true, i, NULL};
    for (int i = 0; i < g->consts.len; i++) {
        Value *v = g->consts.data[i];
        char kind[32]; /* constI: the graph's constant I (codegen/flash.c) */
        snprintf(kind, sizeof kind, "const%d", i);
        if (cg->wblob) /* given an offset when a function uses it (bind_value) */
            loc[v->id] = (CgLoc){LOC_WEIGHTS, true, 0, NULL};
        else
            loc[v->id] = (CgLoc){LOC_GLOBAL, true, 0, cg_rodata(cg, v->data, (size_t)type_nbytes(&v->type), 16, kind)};
    }
    for (int i = 0; i < g->outputs.len; i++) {
        Value *v = g->outputs.data[i];
        if (v->kind == VAL_NODE && !loc[v->id].placed)
            loc[v->id] = (CgLoc){LOC_OUTPUT, true, i, NULL};
    }
    for (int k = 0; k < g->nodes.len; k++) {
        Value *v = ((Node *)g->nodes.data[k])->result;
        if (loc[v->id].placed)
            continue;
        int root = plan->root[v->id];
        if (root != v->id) {
            /* A concat's operands computed in place come before it. */
            if (!loc[root].placed)
                loc[root] = (CgLoc){LOC_SCRATCH, true, plan->offset[root] >= 0 ? plan->offset[root] : 0, NULL};
            loc[v->id] = loc[root];
            if (loc[root].kind == LOC_SCRATCH) /* a view may start inside its root */
                loc[v->id].at = plan->offset[v->id];
        } else
            loc[v->id] = (CgLoc){LOC_SCRATCH, true, plan->offset[v->id] >= 0 ? plan->offset[v->id] : 0, NULL};
    }
}

bool cg_is_view(const Cg *cg, const Value *part, const Value *whole, int64_t off)
{
    const CgLoc *a = &cg->loc[part->id], *b = &cg->loc[whole->id];
    return a->kind == LOC_SCRATCH && b->kind == LOC_SCRATCH && a->at == b->at + off;
}

/* Binds V's buffer in cg->fn, whose parameters are NAME_run's. */
static LLVMValueRef bind_value(Cg *cg, const Value *v)
{
    CgBuf *b = &cg->buf[v->id];
    if (b->valid)
        return b->ptr;
    const CgLoc *l = &cg->loc[v->id];
    LLVMValueRef off = cg_idx(cg, l->at);
    switch (l->kind) {
    case LOC_INPUT:   b->ptr = load_ptr_at(cg, LLVMGetParam(cg->fn, 0), (int)l->at); break;
    case LOC_OUTPUT:  b->ptr = load_ptr_at(cg, LLVMGetParam(cg->fn, 1), (int)l->at); break;
    case LOC_GLOBAL:  b->ptr = l->global; break;
    case LOC_SCRATCH: b->ptr = LLVMBuildInBoundsGEP2(cg->b, cg->t_i8, LLVMGetParam(cg->fn, 2), &off, 1, v->name); break;
    case LOC_WEIGHTS:
        /* In a node's function the offset is a placeholder until the
         * lowering is done: unbind_value gives the constant a slice of the
         * blob only if the code uses the raw bytes (a kernel with packed
         * tables does not). */
        b->ptr = cg->in_node ? LLVMBuildInBoundsGEP2(cg->b, cg->t_i8, LLVMGetParam(cg->fn, 3), &off, 1, v->name)
                             : weights_at(cg, wblob_add(cg->wblob, v->data, (size_t)type_nbytes(&v->type), 16),
                                          v->name);
        break;
    }
    b->valid = true;
    return b->ptr;
}

/* Ends V's binding in a node's function (see bind_value). */
static void unbind_value(Cg *cg, const Value *v)
{
    CgBuf *b = &cg->buf[v->id];
    if (b->valid && cg->loc[v->id].kind == LOC_WEIGHTS) {
        if (LLVMGetFirstUse(b->ptr)) {
            size_t off = wblob_add(cg->wblob, v->data, (size_t)type_nbytes(&v->type), 16);
            LLVMSetOperand(b->ptr, 1, cg_idx(cg, (int64_t)off));
        } else {
            LLVMInstructionEraseFromParent(b->ptr);
        }
    }
    b->valid = false;
}

static void add_fn_attr(Cg *cg, LLVMValueRef fn, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cg->ctx, kind, 0));
}

/* ------------------------------------------------------------ one function per node */

/* Each node is lowered into a function of its own, NAME_run.K.KERNEL
 * (internal, never inlined), taking NAME_run's parameters: K is the node's
 * index in the graph, KERNEL the lowering that emitted it (the target's
 * kernel as kern_select names it, e.g. conv_dot_avx2, or "generic" for
 * the generic loops).  Keeping the nodes apart keeps LLVM's optimisation
 * time linear in the number of nodes: with the whole model in one
 * function, its vectorizers and loop passes grew super-linearly (2,000
 * nodes: 10 s, 8,000: 243 s).  The symbols also let a profiler attribute
 * time to layers and kernels, and a test see that a kernel did not fall
 * back to the generic loops (test/codegen/kernel-names.test). */
/* The target-independent kernels (plain vector IR, kernel_int8.h), offered
 * each node the target's selection function left, in this order. */
static const char *(*const portable_kernels[])(Cg *cg, const Node *n) = {
    kern_softmax,
    kern_elem,
    kern_pool,
    kern_resize,
    kern_transpose,
    kern_slice,
};

const char *cg_lower_dispatch(Cg *cg, const Node *n)
{
    const char *kernel = cg->target->lower_node ? cg->target->lower_node(cg, n) : NULL;
    for (size_t i = 0; !kernel && i < sizeof portable_kernels / sizeof *portable_kernels; i++)
        kernel = portable_kernels[i](cg, n);
    if (!kernel && cg_lower_node(cg, n))
        kernel = "generic";
    return kernel;
}

static LLVMValueRef build_node_fn(Cg *cg, LLVMTypeRef fty, int k, const Node *n, char **kernel_out)
{
    char fname[160];
    snprintf(fname, sizeof fname, "%s_run.%d.", cg->opts->name, k);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, fname, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_fn_attr(cg, fn, "nounwind");
    add_fn_attr(cg, fn, "noinline");
    unsigned align_kind = LLVMGetEnumAttributeKindForName("align", 5);
    if (cg->plan->scratch_size > 0 && cg->plan->align > 1)
        LLVMAddAttributeAtIndex(fn, 3, LLVMCreateEnumAttribute(cg->ctx, align_kind, (uint64_t)cg->plan->align));
    if (cg->wblob) /* NAME_run checked it */
        LLVMAddAttributeAtIndex(fn, 4, LLVMCreateEnumAttribute(cg->ctx, align_kind, CG_WEIGHTS_ALIGN));

    cg->fn = fn;
    cg->node = k;
    cg->in_node = true;
    cg->alloca_bb = LLVMAppendBasicBlockInContext(cg->ctx, fn, "entry");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(cg->ctx, fn, "body");
    LLVMPositionBuilderAtEnd(cg->b, body);
    for (int i = 0; i < n->num_operands; i++)
        bind_value(cg, n->operands[i]);
    bind_value(cg, n->result);
    const char *kernel = cg->plan->rowbuf && k < cg->plan->num_nodes && cg->plan->rowbuf[k] >= 0
                             ? cg_lower_dw_in_place(cg, n, cg->plan->rowbuf[k])
                             : cg_lower_dispatch(cg, n);
    if (!kernel) {
        kernel = "generic";
        cg->failed = true;
    }
    size_t len = strlen(fname);
    snprintf(fname + len, sizeof fname - len, "%s", kernel);
    *kernel_out = xstrdup(kernel);
    LLVMSetValueName2(fn, fname, strlen(fname));
    /* Unbind what this function bound (not the whole table: that would
     * make the compile quadratic in the graph). */
    for (int i = 0; i < n->num_operands; i++)
        unbind_value(cg, n->operands[i]);
    unbind_value(cg, n->result);
    /* Its stack buffers: the array allocas of the entry block. */
    for (LLVMValueRef i = LLVMGetFirstInstruction(cg->alloca_bb); i; i = LLVMGetNextInstruction(i))
        if (LLVMGetInstructionOpcode(i) == LLVMAlloca &&
            LLVMGetTypeKind(LLVMGetAllocatedType(i)) == LLVMArrayTypeKind && cg->stack)
            cg->stack[k] += (int64_t)LLVMABISizeOfType(cg->td, LLVMGetAllocatedType(i));
    cg->in_node = false;
    LLVMBuildRetVoid(cg->b);
    LLVMPositionBuilderAtEnd(cg->b, cg->alloca_bb);
    LLVMBuildBr(cg->b, body);
    cg->node = -1;
    return fn;
}

/* ------------------------------------------------------------ NAME_run */

static void build_run(Cg *cg)
{
    const Graph *g = cg->g;
    const MemoryPlan *plan = cg->plan;
    char fname[128];
    snprintf(fname, sizeof fname, "%s_run", cg->opts->name);
    /* With external weights: the blob and how many bytes of it the caller
     * has (the node functions take the blob only). */
    int nparams = cg->opts->external_weights ? 5 : 3, node_nparams = nparams > 4 ? 4 : nparams;
    LLVMTypeRef params[5] = {cg->t_ptr, cg->t_ptr, cg->t_ptr, cg->t_ptr, cg->t_idx};
    LLVMTypeRef fty = LLVMFunctionType(cg->t_i32, params, (unsigned)nparams, 0);
    LLVMTypeRef node_fty = LLVMFunctionType(cg->t_void, params, (unsigned)node_nparams, 0);
    LLVMValueRef run = LLVMAddFunction(cg->mod, fname, fty);
    cg->fn = run;
    add_fn_attr(cg, run, "nounwind");
    LLVMValueRef args[5];
    static const char *const arg_names[5] = {"inputs", "outputs", "scratch", "weights", "weights_size"};
    for (int i = 0; i < nparams; i++) {
        args[i] = LLVMGetParam(run, (unsigned)i);
        LLVMSetValueName2(args[i], arg_names[i], strlen(arg_names[i]));
    }
    LLVMValueRef inputs = args[0], outputs = args[1], scratch = args[2];

    LLVMBasicBlockRef run_entry = LLVMAppendBasicBlockInContext(cg->ctx, run, "entry");
    LLVMPositionBuilderAtEnd(cg->b, run_entry);

    /* Argument checks: qnn_check_args's rules. */
    return_if(cg, LLVMBuildOr(cg->b, is_null(cg, inputs), is_null(cg, outputs), ""), -1);
    LLVMValueRef *out_ptr = xcalloc((size_t)g->outputs.len + 1, sizeof *out_ptr);
    for (int i = 0; i < g->inputs.len; i++)
        return_if(cg, is_null(cg, load_ptr_at(cg, inputs, i)), -1);
    for (int i = 0; i < g->outputs.len; i++) {
        out_ptr[i] = load_ptr_at(cg, outputs, i);
        return_if(cg, is_null(cg, out_ptr[i]), -1);
    }
    if (plan->scratch_size > 0) {
        return_if(cg, is_null(cg, scratch), -1);
        LLVMValueRef addr = LLVMBuildPtrToInt(cg->b, scratch, cg->t_idx, "");
        LLVMValueRef mis = LLVMBuildAnd(cg->b, addr, cg_idx(cg, plan->align - 1), "");
        return_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, mis, cg_idx(cg, 0), ""), -2);
    }
    /* The weights' checks come after the nodes are lowered (the header
     * depends on every table they put in the blob): a block of their own. */
    LLVMBasicBlockRef wcheck = NULL;
    if (cg->wblob) {
        wcheck = LLVMAppendBasicBlockInContext(cg->ctx, run, "weights");
        LLVMBasicBlockRef calls = LLVMAppendBasicBlockInContext(cg->ctx, run, "calls");
        LLVMBuildBr(cg->b, wcheck);
        LLVMPositionBuilderAtEnd(cg->b, calls);
    }

    /* The nodes, in order: a call each; with --profile, a call of the
     * caller's qnn_profile_mark(k) before node k and (k = the node count)
     * after the last. */
    cg->buf = xcalloc((size_t)g->values.len + 1, sizeof *cg->buf);
    cg->kernels = xcalloc((size_t)g->nodes.len + 1, sizeof *cg->kernels);
    free(cg->stack);
    cg->stack = xcalloc((size_t)g->nodes.len + 1, sizeof *cg->stack);
    LLVMTypeRef mark_fty = LLVMFunctionType(cg->t_void, &cg->t_i32, 1, 0);
    LLVMValueRef mark = NULL;
    if (cg->opts->profile) {
        mark = LLVMAddFunction(cg->mod, "qnn_profile_mark", mark_fty);
        add_fn_attr(cg, mark, "nounwind");
    }
    for (int k = 0; k < g->nodes.len && !cg->failed; k++) {
        LLVMBasicBlockRef at = LLVMGetInsertBlock(cg->b);
        LLVMValueRef fn = build_node_fn(cg, node_fty, k, g->nodes.data[k], &cg->kernels[k]);
        cg->fn = run;
        LLVMPositionBuilderAtEnd(cg->b, at);
        if (mark) {
            LLVMValueRef kv = cg_i32(cg, k);
            LLVMBuildCall2(cg->b, mark_fty, mark, &kv, 1, "");
        }
        LLVMBuildCall2(cg->b, node_fty, fn, args, (unsigned)node_nparams, "");
    }
    if (mark) {
        LLVMValueRef kv = cg_i32(cg, g->nodes.len);
        LLVMBuildCall2(cg->b, mark_fty, mark, &kv, 1, "");
    }

    /* Output slots not written in place (the node functions left nothing
     * bound). */
    for (int i = 0; i < g->outputs.len; i++) {
        Value *v = g->outputs.data[i];
        const CgLoc *l = &cg->loc[v->id];
        if (l->kind != LOC_OUTPUT || l->at != i)
            cg_memcpy(cg, out_ptr[i], bind_value(cg, v), type_nbytes(&v->type));
    }
    LLVMBuildRet(cg->b, cg_i32(cg, 0));
    free(out_ptr);

    if (wcheck) {
        /* NULL or fewer bytes than the blob has (truncated):
         * QNN_ERR_BAD_WEIGHTS; not CG_WEIGHTS_ALIGN-aligned:
         * QNN_ERR_MISALIGNED; then all CG_WEIGHTS_HEADER bytes must be the
         * header of this compile's blob. */
        LLVMBasicBlockRef calls = LLVMGetNextBasicBlock(wcheck);
        LLVMPositionBuilderAtEnd(cg->b, wcheck);
        LLVMValueRef weights = args[3];
        return_if(cg, is_null(cg, weights), -3);
        return_if(cg, LLVMBuildICmp(cg->b, LLVMIntULT, args[4], cg_idx(cg, (int64_t)cg->wblob->len), ""), -3);
        LLVMValueRef addr = LLVMBuildPtrToInt(cg->b, weights, cg->t_idx, "");
        LLVMValueRef mis = LLVMBuildAnd(cg->b, addr, cg_idx(cg, CG_WEIGHTS_ALIGN - 1), "");
        return_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, mis, cg_idx(cg, 0), ""), -2);
        uint32_t hdr[CG_WEIGHTS_HEADER / 4];
        wblob_finish(cg->wblob, cg->opts, hdr);
        LLVMValueRef diff = cg_i32(cg, 0);
        for (int k = 0; k < CG_WEIGHTS_HEADER / 4; k++) {
            LLVMValueRef idx = cg_idx(cg, k);
            LLVMValueRef p = LLVMBuildInBoundsGEP2(cg->b, cg->t_i32, weights, &idx, 1, "");
            LLVMValueRef w = LLVMBuildLoad2(cg->b, cg->t_i32, p, "");
            LLVMSetAlignment(w, 4);
            diff = LLVMBuildOr(cg->b, diff, LLVMBuildXor(cg->b, w, cg_i32(cg, (int32_t)hdr[k]), ""), "");
        }
        return_if(cg, LLVMBuildICmp(cg->b, LLVMIntNE, diff, cg_i32(cg, 0), ""), -3);
        LLVMBuildBr(cg->b, calls);
    }
}

/* ------------------------------------------------------------ NAME_info */

static int qnn_dtype_of(DType dt)
{
    switch (dt) {
    case DT_F32: return 0;
    case DT_I8: return 1;
    case DT_U8: return 2;
    case DT_I16: return 3;
    case DT_I32: return 4;
    default: qnn_unreachable();
    }
}

static LLVMValueRef cstring(Cg *cg, const char *s)
{
    return cg_rodata(cg, s, strlen(s) + 1, 1, "str");
}

static LLVMValueRef tensor_table(Cg *cg, LLVMTypeRef tinfo, const PtrVec *vals, const char *what)
{
    int n = vals->len;
    LLVMValueRef *elems = xcalloc((size_t)n + 1, sizeof *elems);
    for (int i = 0; i < n; i++) {
        const Value *v = vals->data[i];
        const TensorType *t = &v->type;
        LLVMValueRef dims[QNN_MAX_RANK];
        for (int d = 0; d < QNN_MAX_RANK; d++)
            dims[d] = cg_i32(cg, d < t->rank ? t->dims[d] : 0);
        bool per_tensor = t->quant && t->quant->count == 1;
        LLVMValueRef f[7] = {
            cstring(cg, v->name),
            cg_i32(cg, qnn_dtype_of(t->dtype)),
            cg_i32(cg, t->rank),
            LLVMConstArray2(cg->t_i32, dims, QNN_MAX_RANK),
            cg_i32(cg, type_nbytes(t)),
            cg_f32(cg, per_tensor ? t->quant->scale[0] : 0.0f),
            cg_i32(cg, per_tensor ? t->quant->zero_point[0] : 0),
        };
        elems[i] = LLVMConstNamedStruct(tinfo, f, 7);
    }
    LLVMValueRef arr = LLVMConstArray2(tinfo, elems, (uint64_t)n);
    char gname[96];
    snprintf(gname, sizeof gname, "%s.%s", cg->opts->name, what);
    LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(arr), gname);
    LLVMSetInitializer(gv, arr);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    free(elems);
    return gv;
}

static void build_info(Cg *cg)
{
    /* qnn_tensor_info and qnn_model_info of qnn_runtime.h; LLVM lays the
     * structs out by the target's data layout exactly as C does (enums are
     * 4 bytes by the header's sentinels). */
    LLVMTypeRef tinfo = LLVMStructCreateNamed(cg->ctx, "qnn_tensor_info");
    LLVMTypeRef tf[7] = {cg->t_ptr, cg->t_i32, cg->t_i32, LLVMArrayType2(cg->t_i32, QNN_MAX_RANK),
                         cg->t_i32, cg->t_f32, cg->t_i32};
    LLVMStructSetBody(tinfo, tf, 7, 0);
    LLVMTypeRef minfo = LLVMStructCreateNamed(cg->ctx, "qnn_model_info");
    LLVMTypeRef mf[8] = {cg->t_ptr, cg->t_i32, cg->t_i32, cg->t_ptr, cg->t_ptr, cg->t_i32, cg->t_i32, cg->t_ptr};
    LLVMStructSetBody(minfo, mf, 8, 0);
    const Graph *g = cg->g;
    LLVMValueRef f[8] = {
        cstring(cg, cg->opts->name),
        cg_i32(cg, g->inputs.len),
        cg_i32(cg, g->outputs.len),
        tensor_table(cg, tinfo, &g->inputs, "inputs"),
        tensor_table(cg, tinfo, &g->outputs, "outputs"),
        cg_i32(cg, cg->plan->scratch_size),
        cg_i32(cg, cg->plan->align),
        /* With external weights NAME_run takes two more arguments, so it is
         * not a qnn_run_fn: generic callers see no entry point. */
        cg->opts->external_weights ? LLVMConstNull(cg->t_ptr) : cg->fn,
    };
    char gname[96];
    snprintf(gname, sizeof gname, "%s_info", cg->opts->name);
    LLVMValueRef gv = LLVMAddGlobal(cg->mod, minfo, gname);
    LLVMSetInitializer(gv, LLVMConstNamedStruct(minfo, f, 8));
    LLVMSetGlobalConstant(gv, 1);
}

/* ------------------------------------------------------------ NAME_profile */

/* Multiply-accumulates of node N: conv2d out·KH·KW·C/group, dense and
 * matmul out·K; 0 for everything else (docs/codegen.md, "--profile"). */
static int64_t node_macs(const Node *n)
{
    int64_t out = type_numel(&n->result->type);
    const TensorType *a = &n->operands[0]->type, *w = n->num_operands > 1 ? &n->operands[1]->type : NULL;
    switch (n->op) {
    case OP_CONV2D: return out * w->dims[1] * w->dims[2] * w->dims[3];
    case OP_DENSE: return out * w->dims[1];
    case OP_MATMUL: return out * a->dims[a->rank - 1];
    default: return 0;
    }
}

/* --profile: the per-node table of qnn_runtime.h's qnn_profile_info,
 * whose index is qnn_profile_mark's argument. */
static void build_profile(Cg *cg)
{
    const Graph *g = cg->g;
    LLVMTypeRef pnode = LLVMStructCreateNamed(cg->ctx, "qnn_profile_node");
    LLVMTypeRef pf[4] = {cg->t_ptr, cg->t_ptr, cg->t_ptr, cg->t_i64};
    LLVMStructSetBody(pnode, pf, 4, 0);
    LLVMValueRef *elems = xcalloc((size_t)g->nodes.len + 1, sizeof *elems);
    for (int k = 0; k < g->nodes.len; k++) {
        const Node *n = g->nodes.data[k];
        LLVMValueRef f[4] = {cstring(cg, n->result->name), cstring(cg, op_info[n->op].name),
                             cstring(cg, cg->kernels[k]), cg_i64(cg, node_macs(n))};
        elems[k] = LLVMConstNamedStruct(pnode, f, 4);
    }
    LLVMValueRef arr = LLVMConstArray2(pnode, elems, (uint64_t)g->nodes.len);
    char gname[96];
    snprintf(gname, sizeof gname, "%s.profile_nodes", cg->opts->name);
    LLVMValueRef nodes = LLVMAddGlobal(cg->mod, LLVMTypeOf(arr), gname);
    LLVMSetInitializer(nodes, arr);
    LLVMSetGlobalConstant(nodes, 1);
    LLVMSetLinkage(nodes, LLVMPrivateLinkage);
    free(elems);
    LLVMTypeRef pinfo = LLVMStructCreateNamed(cg->ctx, "qnn_profile_info");
    LLVMTypeRef inf[2] = {cg->t_i32, cg->t_ptr};
    LLVMStructSetBody(pinfo, inf, 2, 0);
    LLVMValueRef f[2] = {cg_i32(cg, g->nodes.len), nodes};
    snprintf(gname, sizeof gname, "%s_profile", cg->opts->name);
    LLVMValueRef gv = LLVMAddGlobal(cg->mod, pinfo, gname);
    LLVMSetInitializer(gv, LLVMConstNamedStruct(pinfo, f, 2));
    LLVMSetGlobalConstant(gv, 1);
}

/* ------------------------------------------------------------ entry */

static bool is_fp_type(LLVMTypeRef t)
{
    LLVMTypeKind k = LLVMGetTypeKind(t);
    if (k == LLVMVectorTypeKind)
        k = LLVMGetTypeKind(LLVMGetElementType(t));
    return k == LLVMFloatTypeKind || k == LLVMDoubleTypeKind || k == LLVMHalfTypeKind;
}

/* True if MOD computes with floating point anywhere: a function (defined,
 * or declared like expf) that passes or returns a float, or an
 * instruction with a float result or operand (fptosi, fcmp, a float
 * store).  Then the float calling convention matters to whoever links the
 * object, if only for the compiler's own helper calls (__extendsfdf2). */
static bool has_float(LLVMModuleRef mod)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
        LLVMTypeRef ft = LLVMGlobalGetValueType(f);
        unsigned n = LLVMCountParamTypes(ft);
        LLVMTypeRef *ps = xcalloc((size_t)n + 1, sizeof *ps);
        LLVMGetParamTypes(ft, ps);
        bool fp = is_fp_type(LLVMGetReturnType(ft));
        for (unsigned i = 0; i < n && !fp; i++)
            fp = is_fp_type(ps[i]);
        free(ps);
        for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b && !fp; b = LLVMGetNextBasicBlock(b))
            for (LLVMValueRef in = LLVMGetFirstInstruction(b); in && !fp; in = LLVMGetNextInstruction(in)) {
                fp = is_fp_type(LLVMTypeOf(in));
                for (int k = 0, m = LLVMGetNumOperands(in); k < m && !fp; k++)
                    fp = is_fp_type(LLVMTypeOf(LLVMGetOperand(in, (unsigned)k)));
            }
        if (fp)
            return true;
    }
    return false;
}

/* Creates cg->mod in CTX for T with cg->tm's data layout, the builder
 * and the types. */
static void cg_begin(Cg *cg, const CgTarget *t, LLVMContextRef ctx)
{
    const CodegenOptions *o = cg->opts;
    cg->ctx = ctx;
    cg->mod = LLVMModuleCreateWithNameInContext(o->name, cg->ctx);
    LLVMSetSourceFileName(cg->mod, o->name, strlen(o->name));
    LLVMSetTarget(cg->mod, t->llvm_triple);
    cg->td = LLVMCreateTargetDataLayout(cg->tm);
    LLVMSetModuleDataLayout(cg->mod, cg->td);
    if (t->short_enums)
        LLVMAddModuleFlag(cg->mod, LLVMModuleFlagBehaviorError, "min_enum_size", 13,
                          LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(cg->ctx), 1, 0)));
    if (t->abi)
        LLVMAddModuleFlag(cg->mod, LLVMModuleFlagBehaviorError, "target-abi", 10,
                          LLVMMDStringInContext2(cg->ctx, t->abi, strlen(t->abi)));
    cg->b = LLVMCreateBuilderInContext(cg->ctx);
    cg->node = -1;
    init_types(cg);
}

/* Frees what lowering allocated (not the module, context or machine). */
static void cg_end(Cg *cg)
{
    free(cg->buf);
    free(cg->loc);
    for (int k = 0; cg->kernels && k < cg->g->nodes.len; k++)
        free(cg->kernels[k]);
    free(cg->kernels);
    free(cg->stack);
    free(cg->rodata);
    wblob_free(cg->wblob);
    LLVMDisposeBuilder(cg->b);
    LLVMDisposeTargetData(cg->td);
}

bool codegen_compile(const Graph *g, const CodegenOptions *o, unsigned want, CodegenOutput *out)
{
    memset(out, 0, sizeof *out);
    const CgTarget *t = cg_target_lookup(o->triple);
    if (!t) {
        diag_error((SrcLoc){0}, "unsupported target '%s'", o->triple);
        return false;
    }
    if (!cg_check_names(t, o))
        return false;
    Cg cgs = {.g = g, .opts = o, .target = t};
    Cg *cg = &cgs;
    cg->tm = cg_create_machine(t, o);
    if (!cg->tm)
        return false;
    bool ok = false;
    out->plan = plan_memory(g, 16);
    cg->plan = &out->plan;
    cg_begin(cg, t, LLVMContextCreate());

    if (o->external_weights)
        cg->wblob = wblob_new();
    place_values(cg);
    build_run(cg);
    if (!cg->failed && cg->wblob) {
        out->weights = cg->wblob->data;
        out->weights_len = cg->wblob->len;
        cg->wblob->data = NULL;
    }
    out->node_stack = cg->stack;
    cg->stack = NULL;
    if (!cg->failed) {
        build_info(cg);
        if (o->profile)
            build_profile(cg);
        const char *prologue = t->asm_prologue_no_float && !has_float(cg->mod)
                                   ? t->asm_prologue_no_float
                                   : t->asm_prologue;
        if (prologue)
            LLVMSetModuleInlineAsm2(cg->mod, prologue, strlen(prologue));
        ok = cg_optimize_and_emit(cg, want, out);
    }

    cg_end(cg);
    LLVMDisposeModule(cg->mod);
    LLVMContextDispose(cg->ctx);
    LLVMDisposeTargetMachine(cg->tm);
    if (!ok)
        codegen_output_free(out);
    return ok;
}

LLVMModuleRef codegen_module(const Graph *g, const CodegenOptions *o, const MemoryPlan *plan,
                             LLVMContextRef ctx, LLVMTargetMachineRef tm)
{
    const CgTarget *t = cg_target_lookup(o->triple);
    if (!t) {
        diag_error((SrcLoc){0}, "unsupported target '%s'", o->triple);
        return NULL;
    }
    Cg cgs = {.g = g, .opts = o, .target = t, .plan = plan, .tm = tm};
    Cg *cg = &cgs;
    cg_begin(cg, t, ctx);
    place_values(cg);
    build_run(cg);
    bool ok = !cg->failed && cg_optimize(cg);
    cg_end(cg);
    if (!ok) {
        LLVMDisposeModule(cg->mod);
        return NULL;
    }
    return cg->mod;
}

void codegen_output_free(CodegenOutput *out)
{
    free(out->obj);
    free(out->asm_text);
    free(out->ll);
    free(out->weights);
    free(out->node_stack);
    memory_plan_free(&out->plan);
    memset(out, 0, sizeof *out);
}

/* ------------------------------------------------------------ dispatch */

/* Every op's generic lowering, from lower_ops.def.  A row naming no op of
 * ir/ops.def, a repeated row (a repeated enumerator) and a missing row (the
 * count) are all compile errors. */
static bool (*const generic_lowering[OP_COUNT])(Cg *, const Node *) = {
#define LOWER(op, fn) [OP_##op] = fn,
#include "lower_ops.def"
#undef LOWER
};
enum {
#define LOWER(op, fn) LOWER_ROW_##op,
#include "lower_ops.def"
#undef LOWER
    LOWER_ROWS
};
_Static_assert((int)LOWER_ROWS == (int)OP_COUNT, "lower_ops.def needs one row for every op of ir/ops.def");

bool cg_lower_node(Cg *cg, const Node *n)
{
    return generic_lowering[n->op](cg, n);
}
