/* jit.c - the graph compiled in process by ORC LLJIT (see jit.h).
 *
 *   open   a memory plan with a buffer of its own for every node result;
 *          codegen_module lowers the graph with it for the host's
 *          architecture at its baseline CPU plus the ISA level's features
 *          and optimises it (-O2, what qnnc compiles with by default);
 *          fused_op refuses it if anything may fuse or reassociate; LLJIT
 *          compiles it with a target machine for the same CPU, resolving
 *          memcpy, expf and the other libc/libm calls from the qnnc
 *          process itself.
 *   run_split  T workers, each with its own slot (inputs, outputs,
 *          scratch) and observer state, worker t taking samples t, t + T,
 *          ...; commits in sample order.  With T = 1 there are no threads.
 *   run    run_split whose commit is the observer over the sample's
 *          tensors, still in the worker's slot.
 */
#include "jit.h"

#include "cg_internal.h"

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { JIT_ALIGN = 64, JIT_MAX_THREADS = 64, JIT_DEFAULT_MAX_THREADS = 4 };

typedef int RunFn(const void *const inputs[], void *const outputs[], void *scratch);

struct Jit {
    const Graph *g;
    LLVMOrcLLJITRef lljit;
    RunFn *fn;
    MemoryPlan plan;
    int *out_slot;  /* by value id: the first output slot naming it, or -1 */
    int threads;
    JitIsa isa;
};

const char *const jit_isa_names[JIT_ISA_COUNT] = {"baseline", "avx2", "avx512"};

/* Each level's -mattr over the x86-64 baseline CPU.  Fixed lists, not the
 * host's own features, so a level compiles the same code on every host
 * that has it.  No "+fma": nothing may fuse a multiply and an add (the
 * interpreter rounds both); AVX-512F implies FMA in LLVM, so that level
 * relies on what jit_open checks instead (no fast-math flags, no
 * fmuladd/fma calls, and the default FP-op fusion, which fuses nothing
 * else). */
static const char *const x86_isa_features[JIT_ISA_COUNT] = {
    NULL,
    "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+avx,+avx2",
    "+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+avx,+avx2,+avx512f,+avx512cd,+avx512bw,+avx512dq,+avx512vl",
};

JitIsa jit_host_isa(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return JIT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return JIT_ISA_AVX2;
#endif
    return JIT_ISA_BASELINE;
}

/* QNNC_JIT_ISA (baseline, sse2, avx2, avx512, host), capped at the host's. */
static JitIsa default_isa(void)
{
    JitIsa host = jit_host_isa();
    const char *e = getenv("QNNC_JIT_ISA");
    if (!e || !*e || !strcmp(e, "host"))
        return host;
    JitIsa want = JIT_ISA_COUNT;
    if (!strcmp(e, "sse2"))
        want = JIT_ISA_BASELINE;
    for (int i = 0; i < JIT_ISA_COUNT; i++)
        if (!strcmp(e, jit_isa_names[i]))
            want = (JitIsa)i;
    if (want == JIT_ISA_COUNT) {
        diag_warning((SrcLoc){0}, "QNNC_JIT_ISA='%s' is not baseline, sse2, avx2, avx512 or host; ignored", e);
        return host;
    }
    if (want > host) {
        diag_warning((SrcLoc){0}, "QNNC_JIT_ISA=%s: this CPU has only %s; using %s", e, jit_isa_names[host],
                     jit_isa_names[host]);
        return host;
    }
    return want;
}

/* The triple (config_triples) of the architecture qnnc runs on, or NULL. */
static const char *host_triple(void)
{
#if defined(__x86_64__)
    return "x86_64-linux-gnu";
#elif defined(__aarch64__)
    return "aarch64-linux-gnu";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64-linux-gnu";
#else
    return NULL;
#endif
}

static int default_threads(void)
{
    const char *e = getenv("QNNC_JIT_THREADS");
    if (e && *e) {
        char *end;
        long t = strtol(e, &end, 10);
        if (*end == '\0' && t >= 1 && t <= JIT_MAX_THREADS)
            return (int)t;
        diag_warning((SrcLoc){0}, "QNNC_JIT_THREADS='%s' is not a number from 1 to %d; ignored", e,
                     JIT_MAX_THREADS);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > JIT_DEFAULT_MAX_THREADS ? JIT_DEFAULT_MAX_THREADS : (int)n;
}

/* Every node result that is not a graph output gets bytes of its own
 * (plan_memory would share them between values that are not live at the
 * same time, and run elementwise ops in place). */
static MemoryPlan plan_all(const Graph *g, const int *out_slot)
{
    int nv = g->values.len;
    MemoryPlan p = {.num_values = nv, .align = JIT_ALIGN};
    p.offset = xmalloc(((size_t)nv + 1) * sizeof *p.offset);
    p.root = xmalloc(((size_t)nv + 1) * sizeof *p.root);
    for (int i = 0; i < nv; i++) {
        p.offset[i] = -1;
        p.root[i] = i;
    }
    int64_t pos = 0;
    for (int k = 0; k < g->nodes.len; k++) {
        const Value *v = ((const Node *)g->nodes.data[k])->result;
        if (out_slot[v->id] >= 0)
            continue;
        p.offset[v->id] = pos;
        pos += (type_nbytes(&v->type) + JIT_ALIGN - 1) / JIT_ALIGN * JIT_ALIGN;
    }
    p.scratch_size = p.lower_bound = pos;
    return p;
}

static bool llvm_ok(LLVMErrorRef e, const char *what)
{
    if (!e)
        return true;
    char *msg = LLVMGetErrorMessage(e);
    diag_warning((SrcLoc){0}, "JIT: %s failed: %s; using the reference interpreter", what, msg);
    LLVMDisposeErrorMessage(msg);
    return false;
}

/* The module, or NULL after a warning: codegen's own errors (an op form
 * it cannot lower) are caught and repeated as the warning, since the
 * caller still has the interpreter. */
static LLVMModuleRef build_module(Jit *j, const CodegenOptions *o, LLVMContextRef ctx, LLVMTargetMachineRef tm)
{
    DiagCapture cap = diag_capture_push();
    LLVMModuleRef mod = codegen_module(j->g, o, &j->plan, ctx, tm);
    int n = 0;
    const Diagnostic *d = diag_capture_since(&cap, &n);
    char *first = n > 0 ? xstrdup(d[0].message) : NULL;
    diag_capture_pop(cap);
    if (!mod)
        diag_warning((SrcLoc){0}, "JIT: cannot compile graph @%s (%s); using the reference interpreter",
                     j->g->name, first ? first : "?");
    free(first);
    return mod;
}

/* Whether any instruction of MOD may round differently from the
 * interpreter's one IEEE operation at a time: fast-math flags (contract,
 * reassoc, afn, ...) or a fused multiply-add (llvm.fmuladd, llvm.fma).
 * codegen sets neither; with the target machine's default FP-op fusion
 * ("standard": only fmuladd is fused), the backend then forms no FMA
 * either, whatever the ISA. */
static const char *fused_op(LLVMModuleRef mod)
{
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
                if (LLVMCanValueUseFastMathFlags(i) && LLVMGetFastMathFlags(i) != LLVMFastMathNone)
                    return "an instruction with fast-math flags";
                if (LLVMGetInstructionOpcode(i) != LLVMCall)
                    continue;
                LLVMValueRef callee = LLVMGetCalledValue(i);
                size_t len = 0;
                const char *name = callee ? LLVMGetValueName2(callee, &len) : "";
                if (!strncmp(name, "llvm.fmuladd", 12) || !strncmp(name, "llvm.fma.", 9))
                    return name;
            }
    return NULL;
}

/* QNNC_JIT_ASM=FILE: the assembly the JIT runs (a developer's aid, and
 * how tests look for fused multiply-adds). */
static void dump_asm(LLVMModuleRef mod, LLVMTargetMachineRef tm)
{
    const char *path = getenv("QNNC_JIT_ASM");
    if (!path || !*path)
        return;
    LLVMModuleRef clone = LLVMCloneModule(mod);
    char *err = NULL;
    if (LLVMTargetMachineEmitToFile(tm, clone, path, LLVMAssemblyFile, &err)) {
        diag_warning((SrcLoc){0}, "QNNC_JIT_ASM: cannot write %s: %s", path, err ? err : "?");
        LLVMDisposeMessage(err);
    }
    LLVMDisposeModule(clone);
}

Jit *jit_open(const Graph *g, int threads) { return jit_open_isa(g, threads, JIT_ISA_DEFAULT); }

Jit *jit_open_isa(const Graph *g, int threads, JitIsa isa)
{
    const char *triple = host_triple();
    if (!triple)
        return NULL;
    Jit *j = xcalloc(1, sizeof *j);
    j->g = g;
    j->threads = threads > 0 ? threads : default_threads();
    j->isa = isa == JIT_ISA_DEFAULT ? default_isa() : isa > jit_host_isa() ? jit_host_isa() : isa;
    j->out_slot = xmalloc(((size_t)g->values.len + 1) * sizeof *j->out_slot);
    for (int i = 0; i < g->values.len; i++)
        j->out_slot[i] = -1;
    for (int i = g->outputs.len - 1; i >= 0; i--)
        j->out_slot[((const Value *)g->outputs.data[i])->id] = i;
    j->plan = plan_all(g, j->out_slot);

    /* The baseline CPU (cpu NULL: the target's default), the ISA level's
     * features, and -O2. */
    CodegenOptions o = {.name = "qnnc_jit", .triple = triple, .opt_level = 2, .no_fma = true, .no_float_stage = true};
#if defined(__x86_64__)
    o.features = x86_isa_features[j->isa];
#else
    j->isa = JIT_ISA_BASELINE;
#endif
    const CgTarget *t = cg_target_lookup(triple);
    LLVMTargetMachineRef tm_ir = t ? cg_create_machine(t, &o) : NULL;
    LLVMTargetMachineRef tm_jit = t ? cg_create_machine(t, &o) : NULL;
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef mod = tm_ir && tm_jit ? build_module(j, &o, LLVMOrcThreadSafeContextGetContext(tsc), tm_ir) : NULL;
    const char *fused = mod ? fused_op(mod) : NULL;
    if (fused) {
        diag_warning((SrcLoc){0}, "JIT: graph @%s compiled to %s, which may round differently from the "
                     "interpreter; using the reference interpreter", g->name, fused);
        LLVMDisposeModule(mod);
        mod = NULL;
    }
    if (mod)
        dump_asm(mod, tm_ir);
    if (tm_ir)
        LLVMDisposeTargetMachine(tm_ir);
    if (!mod) {
        if (tm_jit)
            LLVMDisposeTargetMachine(tm_jit);
        LLVMOrcDisposeThreadSafeContext(tsc);
        jit_close(j);
        return NULL;
    }

    LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
    /* Takes tm_jit; then b is taken by LLVMOrcCreateLLJIT. */
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm_jit));
    bool ok = llvm_ok(LLVMOrcCreateLLJIT(&j->lljit, b), "creating the LLJIT");
    if (ok) {
        LLVMOrcDefinitionGeneratorRef gen = NULL;
        ok = llvm_ok(LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
                         &gen, LLVMOrcLLJITGetGlobalPrefix(j->lljit), NULL, NULL),
                     "resolving symbols from the process");
        if (ok)
            LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(j->lljit), gen);
    }
    if (ok) {
        LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
        mod = NULL;
        LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->lljit, LLVMOrcLLJITGetMainJITDylib(j->lljit), tsm);
        if (e)
            LLVMOrcDisposeThreadSafeModule(tsm);
        ok = llvm_ok(e, "adding the module");
    }
    if (mod)
        LLVMDisposeModule(mod);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMOrcExecutorAddress addr = 0;
    if (ok)
        ok = llvm_ok(LLVMOrcLLJITLookup(j->lljit, &addr, "qnnc_jit_run"), "compiling the module");
    if (!ok || !addr) {
        jit_close(j);
        return NULL;
    }
    j->fn = (RunFn *)(uintptr_t)addr;
    return j;
}

int jit_threads(const Jit *j) { return j->threads; }
JitIsa jit_isa(const Jit *j) { return j->isa; }
void jit_set_threads(Jit *j, int threads) { j->threads = threads < 1 ? 1 : threads > JIT_MAX_THREADS ? JIT_MAX_THREADS : threads; }

void jit_close(Jit *j)
{
    if (!j)
        return;
    if (j->lljit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->lljit);
        if (e)
            LLVMConsumeError(e);
    }
    memory_plan_free(&j->plan);
    free(j->out_slot);
    free(j);
}

/* ------------------------------------------------------------ running */

/* One worker's buffers: the graph inputs, outputs and scratch of one
 * sample at a time. */
typedef struct Slot {
    void **inputs;
    void **outputs;
    void *scratch;
} Slot;

static void slot_init(Slot *s, const Jit *j)
{
    const Graph *g = j->g;
    s->inputs = xcalloc((size_t)g->inputs.len + 1, sizeof *s->inputs);
    for (int i = 0; i < g->inputs.len; i++)
        s->inputs[i] = xmalloc((size_t)type_nbytes(&((const Value *)g->inputs.data[i])->type) + 1);
    s->outputs = xcalloc((size_t)g->outputs.len + 1, sizeof *s->outputs);
    for (int i = 0; i < g->outputs.len; i++)
        s->outputs[i] = xmalloc((size_t)type_nbytes(&((const Value *)g->outputs.data[i])->type) + 1);
    size_t bytes = (size_t)(j->plan.scratch_size + JIT_ALIGN);
    s->scratch = aligned_alloc(JIT_ALIGN, bytes / JIT_ALIGN * JIT_ALIGN);
    if (!s->scratch)
        qnn_die("out of memory (%zu bytes of JIT scratch)", bytes);
}

static void slot_free(Slot *s, const Graph *g)
{
    for (int i = 0; s->inputs && i < g->inputs.len; i++)
        free(s->inputs[i]);
    free(s->inputs);
    for (int i = 0; s->outputs && i < g->outputs.len; i++)
        free(s->outputs[i]);
    free(s->outputs);
    free(s->scratch);
}

static bool compute(const Jit *j, Slot *s)
{
    int rc = j->fn((const void *const *)s->inputs, s->outputs, s->scratch);
    if (rc != 0)
        diag_error((SrcLoc){0}, "JIT: the compiled graph @%s returned %d", j->g->name, rc);
    return rc == 0;
}

/* What OBSERVE sees: interp_run_observed's calls, from the slot's buffers. */
static void observe_slot(const Jit *j, const Slot *s, InterpObserver observe, void *octx)
{
    const Graph *g = j->g;
    for (int i = 0; i < g->inputs.len; i++)
        observe(octx, g->inputs.data[i], s->inputs[i]);
    for (int k = 0; k < g->nodes.len; k++) {
        const Value *v = ((const Node *)g->nodes.data[k])->result;
        int o = j->out_slot[v->id];
        observe(octx, v, o >= 0 ? s->outputs[o] : (const char *)s->scratch + j->plan.offset[v->id]);
    }
}

/* Both jit_run and jit_run_split: worker t of T takes samples t, t + T,
 * t + 2T, ... (a fixed share, so every worker observes some whatever the
 * scheduling, and the merges are always exercised), reads each (under the
 * lock), computes it, observes it into its own state when the observer is
 * split, then waits until every earlier sample is committed and commits
 * its own.  jit_run's commit is its observer over the sample's tensors,
 * still in the worker's slot: the observer sees samples in order, one at
 * a time, while the other workers compute. */
typedef struct Run {
    Jit *j;
    int64_t n;
    SampleReader read;
    void *rctx;
    const SplitObserver *obs; /* jit_run_split's, else NULL */
    InterpObserver observe;   /* jit_run's */
    void *octx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int threads;
    int64_t committed; /* samples 0 .. committed-1 are committed */
    bool stop;         /* a read or a run failed */
} Run;

typedef struct Worker {
    Run *r;
    int t;
    void *ws; /* the split observer's state */
    Slot slot;
    pthread_t th;
} Worker;

static void *worker_main(void *arg)
{
    Worker *w = arg;
    Run *r = w->r;
    for (int64_t i = w->t; i < r->n; i += r->threads) {
        pthread_mutex_lock(&r->mu);
        bool ok = !r->stop && r->read(r->rctx, i, w->slot.inputs);
        pthread_mutex_unlock(&r->mu);
        ok = ok && compute(r->j, &w->slot);
        if (ok && r->obs)
            observe_slot(r->j, &w->slot, r->obs->observe, w->ws);
        pthread_mutex_lock(&r->mu);
        while (ok && !r->stop && r->committed != i)
            pthread_cond_wait(&r->cv, &r->mu);
        ok = ok && !r->stop;
        pthread_mutex_unlock(&r->mu);
        /* Outside the lock, so the others go on reading: no other worker
         * commits before `committed` moves on. */
        if (ok && r->obs)
            r->obs->commit(r->obs->ctx, w->ws, i);
        else if (ok)
            observe_slot(r->j, &w->slot, r->observe, r->octx);
        pthread_mutex_lock(&r->mu);
        if (ok)
            r->committed++;
        else
            r->stop = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (!ok)
            break;
    }
    return NULL;
}

/* Runs R's samples on min(N, j->threads) workers (none started for one). */
static bool run_workers(Run *r)
{
    Jit *j = r->j;
    if (r->n <= 0)
        return true;
    int threads = r->n < j->threads ? (int)r->n : j->threads;
    r->threads = threads;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    Worker *w = xcalloc((size_t)threads, sizeof *w);
    for (int t = 0; t < threads; t++) {
        w[t].r = r;
        w[t].t = t;
        w[t].ws = r->obs ? r->obs->fork(r->obs->ctx, t) : NULL;
        slot_init(&w[t].slot, j);
    }
    if (threads == 1) {
        worker_main(&w[0]);
    } else {
        int started = 0;
        for (; started < threads; started++)
            if (pthread_create(&w[started].th, NULL, worker_main, &w[started]) != 0)
                break;
        if (started < threads) {
            diag_error((SrcLoc){0}, "JIT: cannot start %d threads (set QNNC_JIT_THREADS=1)", threads);
            pthread_mutex_lock(&r->mu);
            r->stop = true;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
        for (int t = 0; t < started; t++)
            pthread_join(w[t].th, NULL);
    }
    bool ok = !r->stop && r->committed == r->n;
    for (int t = 0; t < threads; t++) {
        if (r->obs)
            r->obs->join(r->obs->ctx, w[t].ws);
        slot_free(&w[t].slot, j->g);
    }
    free(w);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return ok;
}

bool jit_run(Jit *j, int64_t n, SampleReader read, void *rctx, InterpObserver observe, void *octx)
{
    Run r = {.j = j, .n = n, .read = read, .rctx = rctx, .observe = observe, .octx = octx};
    return run_workers(&r);
}

bool jit_run_split(Jit *j, int64_t n, SampleReader read, void *rctx, const SplitObserver *obs)
{
    Run r = {.j = j, .n = n, .read = read, .rctx = rctx, .obs = obs};
    return run_workers(&r);
}

/* ------------------------------------------------------------ as an Evaluator */

static void *ev_open(const Graph *g) { return jit_open(g, 0); }
static bool ev_run(void *h, int64_t n, SampleReader read, void *rctx, InterpObserver observe, void *octx)
{
    return jit_run(h, n, read, rctx, observe, octx);
}
static void ev_close(void *h) { jit_close(h); }
static bool ev_run_split(void *h, int64_t n, SampleReader read, void *rctx, const SplitObserver *obs)
{
    return jit_run_split(h, n, read, rctx, obs);
}

const Evaluator jit_evaluator = {ev_open, ev_run, ev_close, ev_run_split};
