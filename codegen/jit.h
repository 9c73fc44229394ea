/* jit.h - the graph at native speed inside the compiler.
 *
 * codegen's own lowering (the code NAME_run is made of) compiled in
 * process by LLVM's ORC LLJIT, for the host's architecture at its
 * baseline CPU (x86-64, generic AArch64), never -mcpu=native: the float
 * code is the same instruction selection on every host of an
 * architecture, with no FMA contraction and no reassociation (codegen
 * never sets fast-math flags), so its tensors are the reference
 * interpreter's bit for bit (libm calls are the process's own, the ones
 * the interpreter calls).  Every tensor has its own buffer (no reuse, no
 * in-place ops), so after one run every tensor of the sample can be read.
 *
 * Samples run on up to N worker threads, each with its own buffers; the
 * observer sees them in sample order on the calling thread, so what it
 * accumulates does not depend on the thread count or the scheduling.
 * docs/passes.md, "calibrate".
 */
#ifndef QNNC_JIT_H
#define QNNC_JIT_H

#include "passes.h"

typedef struct Jit Jit;

/* Compiles G (verified).  THREADS 0: QNNC_JIT_THREADS when set (1..64),
 * else the online CPUs, at most 4.  NULL when the host has no qnnc target
 * (silently) or G cannot be lowered (after a warning saying why). */
Jit *jit_open(const Graph *g, int threads);
/* As Evaluator.run (passes.h). */
bool jit_run(Jit *j, int64_t n, SampleReader read, void *rctx, InterpObserver observe, void *octx);
int jit_threads(const Jit *j);
void jit_set_threads(Jit *j, int threads); /* 1..64 */
void jit_close(Jit *j);

/* jit_open/jit_run/jit_close as passes see them (PassContext.eval). */
extern const Evaluator jit_evaluator;

#endif /* QNNC_JIT_H */
