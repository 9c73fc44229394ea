/* jit.h - the graph at native speed inside the compiler.
 *
 * codegen's own lowering (the code NAME_run is made of) compiled in
 * process by LLVM's ORC LLJIT, for the host's architecture at its
 * baseline CPU with the features of a fixed ISA level (JitIsa: on x86-64
 * SSE2, AVX2 or AVX-512, the host's highest unless QNNC_JIT_ISA says
 * otherwise), never -mcpu=native and never FMA: codegen sets no fast-math
 * flags, jit_open refuses a module with any (or with llvm.fmuladd or
 * llvm.fma), and the float lane conv keeps one output channel per lane at
 * every width, so the tensors are the reference interpreter's bit for bit
 * at every level (libm calls are the process's own, the ones the
 * interpreter calls).  Every tensor has its own buffer (no reuse, no
 * in-place ops), so after one run every tensor of the sample can be read.
 * QNNC_JIT_ASM=FILE writes the assembly it runs.
 *
 * Samples run on up to N worker threads, each with its own buffers:
 * jit_run_split runs split observers on the workers and commits in sample
 * order; jit_run observes the samples in order, one at a time, on
 * whichever worker computed each, so neither result depends on the thread
 * count or the scheduling.
 * docs/passes.md, "calibrate".
 */
#ifndef QNNC_JIT_H
#define QNNC_JIT_H

#include "passes.h"

typedef struct Jit Jit;

/* The instruction set the JIT compiles for (x86-64; elsewhere always the
 * baseline): the x86-64 baseline (SSE2), AVX2, AVX-512 (F, CD, BW, DQ,
 * VL), never FMA.  JIT_ISA_DEFAULT: QNNC_JIT_ISA when set (baseline or
 * sse2, avx2, avx512, host), else the host's highest; a level above the
 * host's is capped at it.  The tensors are the same at every level. */
typedef enum { JIT_ISA_BASELINE, JIT_ISA_AVX2, JIT_ISA_AVX512, JIT_ISA_COUNT, JIT_ISA_DEFAULT = -1 } JitIsa;
extern const char *const jit_isa_names[JIT_ISA_COUNT];
JitIsa jit_host_isa(void);

/* Compiles G (verified).  THREADS 0: QNNC_JIT_THREADS when set (1..64),
 * else the online CPUs, at most 4.  NULL when the host has no qnnc target
 * (silently) or G cannot be lowered (after a warning saying why). */
Jit *jit_open(const Graph *g, int threads);
Jit *jit_open_isa(const Graph *g, int threads, JitIsa isa); /* jit_open at ISA */
JitIsa jit_isa(const Jit *j);
/* As Evaluator.run (passes.h). */
bool jit_run(Jit *j, int64_t n, SampleReader read, void *rctx, InterpObserver observe, void *octx);
/* As Evaluator.run_split (passes.h): the observers run on the workers,
 * worker t of T taking samples t, t + T, ..., commits in sample order. */
bool jit_run_split(Jit *j, int64_t n, SampleReader read, void *rctx, const SplitObserver *obs);
int jit_threads(const Jit *j);
void jit_set_threads(Jit *j, int threads); /* 1..64 */
void jit_close(Jit *j);

/* jit_open/jit_run/jit_close as passes see them (PassContext.eval). */
extern const Evaluator jit_evaluator;

#endif /* QNNC_JIT_H */
