/* machine.c - LLVM targets, target machines, the pass pipeline and
 * emission to memory.
 *
 * Hygiene (docs/STYLE "LLVM C API hygiene"): targets are initialised once;
 * LLVMCreateTargetMachine is checked for NULL; the module gets its triple
 * and data layout before any pass runs; every LLVMErrorRef and message is
 * checked and disposed; the module is verified before optimisation and
 * again before emission.
 */
#include "codegen.h"
#include "cg_internal.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdlib.h>
#include <string.h>

static const CgTarget *const targets[] = {&cg_target_x86, &cg_target_aarch64, &cg_target_riscv, &cg_target_arm};

const CgTarget *cg_target_lookup(const char *triple)
{
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        if (!strcmp(targets[i]->triple, triple))
            return targets[i];
    return NULL;
}

static void init_targets(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
    LLVMInitializeRISCVTargetInfo();
    LLVMInitializeRISCVTarget();
    LLVMInitializeRISCVTargetMC();
    LLVMInitializeRISCVAsmPrinter();
    LLVMInitializeARMTargetInfo();
    LLVMInitializeARMTarget();
    LLVMInitializeARMTargetMC();
    LLVMInitializeARMAsmPrinter();
    LLVMInitializeARMAsmParser(); /* for arm/target.c's asm_prologue */
}

/* "+a,+b" joined with "+c" (either may be empty or NULL). */
static char *join_features(const char *a, const char *b)
{
    size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;
    char *s = xmalloc(na + nb + 2);
    s[0] = '\0';
    if (na)
        strcat(s, a);
    if (na && nb)
        strcat(s, ",");
    if (nb)
        strcat(s, b);
    return s;
}

LLVMTargetMachineRef cg_create_machine(const CgTarget *t, const CodegenOptions *o)
{
    init_targets();
    LLVMTargetRef target;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(t->llvm_triple, &target, &err)) {
        diag_error((SrcLoc){0}, "LLVM has no target for '%s': %s", t->llvm_triple, err ? err : "?");
        LLVMDisposeMessage(err);
        return NULL;
    }
    const char *cpu = o->cpu ? o->cpu : t->default_cpu;
    char *features = join_features(t->base_features, o->features);
    LLVMCodeGenOptLevel level = o->opt_level <= 0   ? LLVMCodeGenLevelNone
                                : o->opt_level == 1 ? LLVMCodeGenLevelLess
                                : o->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                    : LLVMCodeGenLevelAggressive;
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(target, t->llvm_triple, cpu, features, level, t->reloc, LLVMCodeModelDefault);
    free(features);
    if (!tm)
        diag_error((SrcLoc){0}, "cannot create an LLVM target machine for %s (cpu '%s')", t->triple, cpu);
    return tm;
}

/* LLVM accepts any -mcpu name (it warns on stderr and builds for a
 * generic CPU); the C API cannot ask whether a name is known, so the
 * driver passes names through and LLVM's own warning is what users see. */
bool cg_check_cpu(Cg *cg)
{
    (void)cg;
    return true;
}

static bool emit_to_memory(Cg *cg, LLVMCodeGenFileType kind, char **data, size_t *len)
{
    LLVMMemoryBufferRef mb = NULL;
    char *err = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(cg->tm, cg->mod, kind, &err, &mb)) {
        diag_error((SrcLoc){0}, "LLVM could not emit %s: %s", kind == LLVMObjectFile ? "the object" : "assembly",
                   err ? err : "?");
        LLVMDisposeMessage(err);
        return false;
    }
    *len = LLVMGetBufferSize(mb);
    *data = xmalloc(*len + 1);
    memcpy(*data, LLVMGetBufferStart(mb), *len);
    (*data)[*len] = '\0';
    LLVMDisposeMemoryBuffer(mb);
    return true;
}

bool cg_optimize_and_emit(Cg *cg, unsigned want, CodegenOutput *out)
{
    char *err = NULL;
    if (LLVMVerifyModule(cg->mod, LLVMReturnStatusAction, &err)) {
        qnn_die("codegen produced invalid LLVM IR: %s", err ? err : "?");
    }
    LLVMDisposeMessage(err);

    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%d>", cg->opts->opt_level);
    LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
#ifndef NDEBUG
    LLVMPassBuilderOptionsSetVerifyEach(pbo, 1);
#endif
    LLVMPassBuilderOptionsSetLoopVectorization(pbo, cg->opts->opt_level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(pbo, cg->opts->opt_level >= 2);
    LLVMPassBuilderOptionsSetLoopUnrolling(pbo, cg->opts->opt_level >= 2);
    LLVMErrorRef e = LLVMRunPasses(cg->mod, pipeline, cg->tm, pbo);
    LLVMDisposePassBuilderOptions(pbo);
    if (e) {
        char *msg = LLVMGetErrorMessage(e);
        diag_error((SrcLoc){0}, "LLVM pass pipeline failed: %s", msg);
        LLVMDisposeErrorMessage(msg);
        return false;
    }
    err = NULL;
    if (LLVMVerifyModule(cg->mod, LLVMReturnStatusAction, &err))
        qnn_die("LLVM IR invalid after optimisation: %s", err ? err : "?");
    LLVMDisposeMessage(err);

    if (want & CG_WANT_LLVM) {
        char *s = LLVMPrintModuleToString(cg->mod);
        out->ll_len = strlen(s);
        out->ll = xstrdup(s);
        LLVMDisposeMessage(s);
    }
    if ((want & CG_WANT_ASM) && !emit_to_memory(cg, LLVMAssemblyFile, &out->asm_text, &out->asm_len))
        return false;
    if ((want & CG_WANT_OBJ) && !emit_to_memory(cg, LLVMObjectFile, &out->obj, &out->obj_len))
        return false;
    return true;
}
