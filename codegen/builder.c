/* builder.c - small IR-building helpers so that per-op lowering reads like
 * the loops it emits: constants, loads and stores by dtype, loops, ifs,
 * read-only tables. */
#include "codegen.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool cg_fail(Cg *cg, const Node *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(n->loc, "node '%%%s' (%s): %s", n->result->name, op_info[n->op].name, msg);
    cg->failed = true;
    return false;
}

LLVMValueRef cg_idx(Cg *cg, int64_t v) { return LLVMConstInt(cg->t_idx, (unsigned long long)v, 1); }
LLVMValueRef cg_i32(Cg *cg, int64_t v) { return LLVMConstInt(cg->t_i32, (unsigned long long)v, 1); }
LLVMValueRef cg_i64(Cg *cg, int64_t v) { return LLVMConstInt(cg->t_i64, (unsigned long long)v, 1); }
LLVMValueRef cg_f32(Cg *cg, float v) { return LLVMConstReal(cg->t_f32, v); }
LLVMValueRef cg_f64(Cg *cg, double v) { return LLVMConstReal(cg->t_f64, v); }
LLVMValueRef cg_add(Cg *cg, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(cg->b, a, b, ""); }
LLVMValueRef cg_mulk(Cg *cg, LLVMValueRef a, int64_t k) { return LLVMBuildMul(cg->b, a, cg_idx(cg, k), ""); }
LLVMValueRef cg_gep8(Cg *cg, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(cg->b, cg->t_i8, base, &i, 1, "");
}

LLVMTypeRef cg_dtype_type(Cg *cg, DType dt)
{
    switch (dt) {
    case DT_F32: return cg->t_f32;
    case DT_I8: case DT_U8: return cg->t_i8;
    case DT_I16: return cg->t_i16;
    case DT_I32: return cg->t_i32;
    default: qnn_unreachable();
    }
}

LLVMValueRef cg_for_begin(Cg *cg, CgLoop *l, int64_t n, const char *name)
{
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
    l->header = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, name);
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "body");
    l->exit = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "exit");
    LLVMBuildBr(cg->b, l->header);
    LLVMPositionBuilderAtEnd(cg->b, l->header);
    l->iv_phi = LLVMBuildPhi(cg->b, cg->t_idx, name);
    LLVMValueRef zero = cg_idx(cg, 0);
    LLVMAddIncoming(l->iv_phi, &zero, &pre, 1);
    LLVMValueRef cond = LLVMBuildICmp(cg->b, LLVMIntSLT, l->iv_phi, cg_idx(cg, n), "");
    LLVMBuildCondBr(cg->b, cond, body, l->exit);
    LLVMPositionBuilderAtEnd(cg->b, body);
    l->iv = l->iv_phi;
    return l->iv;
}

void cg_for_end(Cg *cg, CgLoop *l)
{
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
    LLVMValueRef next = LLVMBuildNSWAdd(cg->b, l->iv_phi, cg_idx(cg, 1), "");
    LLVMBuildBr(cg->b, l->header);
    LLVMAddIncoming(l->iv_phi, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(cg->b, l->exit);
}

void cg_if_begin(Cg *cg, CgIf *s, LLVMValueRef cond)
{
    LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "then");
    s->end = LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "endif");
    LLVMBuildCondBr(cg->b, cond, then, s->end);
    LLVMPositionBuilderAtEnd(cg->b, then);
}

void cg_if_end(Cg *cg, CgIf *s)
{
    LLVMBuildBr(cg->b, s->end);
    LLVMPositionBuilderAtEnd(cg->b, s->end);
}

LLVMBuilderRef cg_entry_builder(Cg *cg)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(cg->ctx);
    LLVMValueRef first = LLVMGetFirstInstruction(cg->alloca_bb);
    if (first)
        LLVMPositionBuilderBefore(b, first);
    else
        LLVMPositionBuilderAtEnd(b, cg->alloca_bb);
    return b;
}

LLVMValueRef cg_alloca(Cg *cg, LLVMTypeRef t, const char *name)
{
    LLVMBuilderRef b = cg_entry_builder(cg);
    LLVMValueRef a = LLVMBuildAlloca(b, t, name);
    LLVMDisposeBuilder(b);
    return a;
}

LLVMValueRef cg_elem_ptr(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(cg->b, cg_dtype_type(cg, dt), base, &i, 1, "");
}

LLVMValueRef cg_load_int(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i)
{
    LLVMValueRef v = LLVMBuildLoad2(cg->b, cg_dtype_type(cg, dt), cg_elem_ptr(cg, dt, base, i), "");
    if (dt == DT_I32)
        return v;
    return dt == DT_U8 ? LLVMBuildZExt(cg->b, v, cg->t_i32, "") : LLVMBuildSExt(cg->b, v, cg->t_i32, "");
}

LLVMValueRef cg_load_f32(Cg *cg, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildLoad2(cg->b, cg->t_f32, cg_elem_ptr(cg, DT_F32, base, i), "");
}

void cg_store_int(Cg *cg, DType dt, LLVMValueRef base, LLVMValueRef i, LLVMValueRef v)
{
    if (dt != DT_I32)
        v = LLVMBuildTrunc(cg->b, v, cg_dtype_type(cg, dt), "");
    LLVMBuildStore(cg->b, v, cg_elem_ptr(cg, dt, base, i));
}

void cg_store_f32(Cg *cg, LLVMValueRef base, LLVMValueRef i, LLVMValueRef v)
{
    LLVMBuildStore(cg->b, v, cg_elem_ptr(cg, DT_F32, base, i));
}

/* Named NAME.K.KIND.N inside node K's function, NAME.KIND.N outside, with
 * internal linkage (not private, whose .L names most targets drop): the
 * object's symbol table then says whose bytes these are and what kind
 * (codegen/flash.c; the names of KIND it knows are listed there). */
static bool all_zero(const void *data, size_t n)
{
    const unsigned char *c = data;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

/* One of cg_rodata's globals in node rodata_node's function, with what
 * finds it again: its kind, alignment, size and a hash of its bytes (the
 * bytes themselves are the global's initializer). */
enum { KIND_MAX = 32 }; /* a longer kind is never looked for again */
struct CgRodata {
    LLVMValueRef g;
    uint64_t hash; /* FNV-1a of the bytes */
    size_t n;
    unsigned align;
    char kind[KIND_MAX];
};

static uint64_t fnv1a(const void *data, size_t n)
{
    const unsigned char *c = data;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The global of the node function being built (cg->node) with KIND,
 * alignment ALIGN and bytes DATA (HASH: theirs), or NULL.  Equal hashes
 * are confirmed byte by byte: two tables must never share by accident. */
static LLVMValueRef rodata_again(Cg *cg, const void *data, size_t n, unsigned align, const char *kind, uint64_t hash)
{
    if (cg->rodata_node != cg->node) {
        cg->rodata_node = cg->node;
        cg->nrodata = 0;
    }
    for (int i = 0; i < cg->nrodata; i++) {
        const struct CgRodata *r = &cg->rodata[i];
        if (r->hash != hash || r->n != n || r->align != align || strcmp(r->kind, kind))
            continue;
        LLVMValueRef init = LLVMGetInitializer(r->g);
        size_t bl;
        if (LLVMIsAConstantDataSequential(init) ? !memcmp(LLVMGetAsString(init, &bl), data, n) : all_zero(data, n))
            return r->g; /* LLVM keeps all-zero bytes as zeroinitializer */
    }
    return NULL;
}

LLVMValueRef cg_rodata(Cg *cg, const void *data, size_t n, unsigned align, const char *name)
{
    if (cg->wblob && cg->in_node)
        return cg_weights_slice(cg, data, n, align, name);
    bool again = cg->node >= 0 && strlen(name) < KIND_MAX;
    uint64_t hash = again ? fnv1a(data, n) : 0;
    LLVMValueRef old = again ? rodata_again(cg, data, n, align, name, hash) : NULL;
    if (old)
        return old;
    char gname[128];
    if (cg->node >= 0)
        snprintf(gname, sizeof gname, "%s.%d.%s.%d", cg->opts->name, cg->node, name, cg->counter++);
    else
        snprintf(gname, sizeof gname, "%s.%s.%d", cg->opts->name, name, cg->counter++);
    LLVMValueRef init = LLVMConstStringInContext(cg->ctx, (const char *)data, (unsigned)n, 1);
    LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), gname);
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMInternalLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(g, align);
    if (again) {
        if (cg->nrodata == cg->cap_rodata) {
            cg->cap_rodata = cg->cap_rodata ? 2 * cg->cap_rodata : 32;
            cg->rodata = xrealloc(cg->rodata, (size_t)cg->cap_rodata * sizeof *cg->rodata);
        }
        struct CgRodata *r = &cg->rodata[cg->nrodata++];
        *r = (struct CgRodata){g, hash, n, align, {0}};
        memcpy(r->kind, name, strlen(name) + 1);
    }
    return g;
}

LLVMValueRef cg_table_i32(Cg *cg, const int32_t *v, int64_t n, const char *name)
{
    return cg_rodata(cg, v, (size_t)n * 4, 4, name);
}

LLVMValueRef cg_table_f64(Cg *cg, const double *v, int64_t n, const char *name)
{
    return cg_rodata(cg, v, (size_t)n * 8, 8, name);
}

LLVMValueRef cg_splat(Cg *cg, LLVMValueRef s, unsigned lanes)
{
    if (LLVMIsConstant(s)) {
        LLVMValueRef *e = xmalloc((size_t)lanes * sizeof *e);
        for (unsigned i = 0; i < lanes; i++)
            e[i] = s;
        LLVMValueRef r = LLVMConstVector(e, lanes);
        free(e);
        return r;
    }
    LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(s), lanes);
    LLVMValueRef v = LLVMBuildInsertElement(cg->b, LLVMGetUndef(vt), s, cg_i32(cg, 0), "");
    return LLVMBuildShuffleVector(cg->b, v, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(cg->t_i32, lanes)), "");
}

/* codegen.h: the unpack within 128-bit lanes of PER elements. */
LLVMValueRef cg_unpack(Cg *cg, LLVMValueRef a, LLVMValueRef b, int per, bool hi)
{
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(a));
    LLVMValueRef m[64];
    for (unsigned e = 0; e < n; e++) {
        unsigned lane = e / (unsigned)per, o = e % (unsigned)per;
        m[e] = cg_i32(cg, (int32_t)(lane * (unsigned)per + (hi ? (unsigned)per / 2 : 0) + o / 2 + (o % 2 ? n : 0)));
    }
    return LLVMBuildShuffleVector(cg->b, a, b, LLVMConstVector(m, n), "");
}

/* codegen.h: PART[0 .. N-1] as one vector, concatenated pairwise. */
LLVMValueRef cg_concat(Cg *cg, LLVMValueRef *part, int n, int width)
{
    LLVMValueRef idx[128];
    for (; n > 1; n /= 2, width *= 2) {
        for (int i = 0; i < 2 * width; i++)
            idx[i] = cg_i32(cg, i);
        for (int c = 0; c < n / 2; c++)
            part[c] = LLVMBuildShuffleVector(cg->b, part[2 * c], part[2 * c + 1], LLVMConstVector(idx, (unsigned)(2 * width)), "");
    }
    return part[0];
}

LLVMValueRef cg_smin(Cg *cg, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, a, b, ""), a, b, "");
}

LLVMValueRef cg_smax(Cg *cg, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(cg->b, LLVMBuildICmp(cg->b, LLVMIntSGT, a, b, ""), a, b, "");
}

LLVMValueRef cg_clamp_i32(Cg *cg, LLVMValueRef v, LLVMValueRef lo, LLVMValueRef hi)
{
    return cg_smin(cg, cg_smax(cg, v, lo), hi);
}

void cg_memcpy(Cg *cg, LLVMValueRef dst, LLVMValueRef src, int64_t n)
{
    if (n > 0)
        LLVMBuildMemCpy(cg->b, dst, 1, src, 1, cg_idx(cg, n));
}

LLVMValueRef cg_call_f32(Cg *cg, const char *name, LLVMValueRef x)
{
    LLVMTypeRef ft = LLVMFunctionType(cg->t_f32, &cg->t_f32, 1, 0);
    LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
    if (!f) {
        f = LLVMAddFunction(cg->mod, name, ft);
        if (cg->target->float_callconv)
            LLVMSetFunctionCallConv(f, cg->target->float_callconv);
    }
    LLVMValueRef call = LLVMBuildCall2(cg->b, ft, f, &x, 1, "");
    if (cg->target->float_callconv)
        LLVMSetInstructionCallConv(call, cg->target->float_callconv);
    return call;
}

void cg_nest_begin(Cg *cg, CgNest *nest, int rank, const int64_t *dims)
{
    nest->rank = rank;
    for (int d = 0; d < rank; d++)
        nest->idx[d] = cg_for_begin(cg, &nest->loop[d], dims[d], "i");
}

void cg_nest_end(Cg *cg, CgNest *nest)
{
    for (int d = nest->rank - 1; d >= 0; d--)
        cg_for_end(cg, &nest->loop[d]);
}

LLVMValueRef cg_nest_offset(Cg *cg, const CgNest *nest, const int64_t *stride)
{
    LLVMValueRef off = cg_idx(cg, 0);
    for (int d = 0; d < nest->rank; d++)
        if (stride[d])
            off = LLVMBuildNSWAdd(cg->b, off, LLVMBuildNSWMul(cg->b, nest->idx[d], cg_idx(cg, stride[d]), ""), "");
    return off;
}

void cg_strides(const TensorType *t, int64_t *stride)
{
    int64_t s = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= t->dims[d];
    }
}

int cg_merge_dims(int r, const int64_t *dims, int64_t (*st)[QNN_MAX_RANK], int nst, int64_t *md,
                  int64_t (*ms)[QNN_MAX_RANK])
{
    int m = 0;
    for (int d = 0; d < r; d++) {
        if (dims[d] == 1)
            continue;
        bool join = m > 0;
        for (int k = 0; join && k < nst; k++)
            join = ms[k][m - 1] == st[k][d] * dims[d];
        if (join) {
            md[m - 1] *= dims[d];
            for (int k = 0; k < nst; k++)
                ms[k][m - 1] = st[k][d];
            continue;
        }
        md[m] = dims[d];
        for (int k = 0; k < nst; k++)
            ms[k][m] = st[k][d];
        m++;
    }
    if (m == 0) {
        md[0] = 1;
        for (int k = 0; k < nst; k++)
            ms[k][0] = 0;
        m = 1;
    }
    return m;
}
