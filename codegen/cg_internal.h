/* cg_internal.h - what the codegen files share but the rest of qnnc and
 * the per-target kernels do not need. */
#ifndef QNNC_CG_INTERNAL_H
#define QNNC_CG_INTERNAL_H

#include "codegen.h"

/* machine.c */
LLVMTargetMachineRef cg_create_machine(const CgTarget *t, const CodegenOptions *o);
bool cg_check_names(const CgTarget *t, const CodegenOptions *o); /* -mcpu, -mattr; reports */
/* Verifies cg->mod and runs default<O opt_level> over it; false after a diag error. */
bool cg_optimize(Cg *cg);
bool cg_optimize_and_emit(Cg *cg, unsigned want, CodegenOutput *out);

#endif
