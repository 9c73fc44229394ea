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
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdlib.h>
#include <string.h>

static const CgTarget *const targets[] = {&cg_target_x86, &cg_target_aarch64, &cg_target_riscv, &cg_target_arm,
                                         &cg_target_armv81m, &cg_target_riscv32};

const CgTarget *cg_target_lookup(const char *triple)
{
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        if (!strcmp(targets[i]->triple, triple))
            return targets[i];
    return NULL;
}

/* LLVM's fatal errors end the process; this makes that end a one-line
 * error and exit status 1 instead of an abort.  No output file is
 * half-written: outputs are built in memory and written after codegen. */
static void on_llvm_fatal(const char *reason)
{
    diag_error((SrcLoc){0}, "LLVM cannot compile for this target and options: %s", reason);
    exit(1);
}

static void init_targets(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    LLVMInstallFatalErrorHandler(on_llvm_fatal);
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

/* ---------------------------------------------------------------- names */

#include "llvm_names.h"

/* llvm_names.h's lists, in the order of targets[]. */
static const char *const *const cpu_names[] = {llvm_cpus_x86_64, llvm_cpus_aarch64, llvm_cpus_riscv64,
                                               llvm_cpus_thumbv7em, llvm_cpus_thumbv81m, llvm_cpus_riscv32};
static const char *const *const feature_names[] = {llvm_features_x86_64, llvm_features_aarch64,
                                                   llvm_features_riscv64, llvm_features_thumbv7em,
                                                   llvm_features_thumbv81m, llvm_features_riscv32};

const char *const *codegen_target_names(const char *triple, bool features)
{
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        if (!strcmp(targets[i]->triple, triple))
            return features ? feature_names[i] : cpu_names[i];
    return NULL;
}

/* Is the LEN bytes at NAME in the NULL-terminated LIST?  If not, reports
 * it as an unknown WHAT, with the closest name when one is close. */
static bool known_name(SrcLoc loc, const char *const *list, const char *name, size_t len, const char *what,
                       const char *flag, const char *triple)
{
    int n = 0;
    for (; list[n]; n++)
        if (strlen(list[n]) == len && !strncmp(list[n], name, len))
            return true;
    char *word = xmalloc(len + 1);
    memcpy(word, name, len);
    word[len] = '\0';
    const char *s = config_suggest(word, list, n);
    diag_error(loc, "unknown %s '%s' for %s%s%s%s (%s=help lists them)", what, word, triple,
               s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "", flag);
    free(word);
    return false;
}

/* LLVM accepts any -mcpu and -mattr name: it warns on stderr and builds
 * for a generic CPU, or stops the process with a fatal error (x86-64 code
 * for a CPU without 64-bit mode).  So names are checked here first. */
bool cg_check_names(const CgTarget *t, const CodegenOptions *o)
{
    const char *const *cpus = codegen_target_names(t->triple, false);
    const char *const *features = codegen_target_names(t->triple, true);
    if (o->cpu && !known_name(o->cpu_loc, cpus, o->cpu, strlen(o->cpu), "CPU", "-mcpu", t->triple))
        return false;
    for (const char *p = o->features; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 1 && (*p == '+' || *p == '-') &&
            !known_name(o->features_loc, features, p + 1, len - 1, "target feature", "-mattr", t->triple))
            return false;
        p += len + (p[len] == ',');
    }
    return true;
}

/* -mcpu=native: LLVM's name for the host CPU and its features, the ones
 * LLVM lists for TRIPLE only (LLVMGetHostCPUFeatures also names features
 * that -mattr=help does not list; cg_check_names would reject them). */
bool codegen_host_cpu(const char *triple, char **cpu, char **features)
{
    const char *const *known = codegen_target_names(triple, true);
    if (!known)
        return false;
    char *name = LLVMGetHostCPUName();
    char *all = LLVMGetHostCPUFeatures();
    *cpu = xstrdup(name);
    size_t cap = strlen(all) + 1, n = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (const char *p = all; *p;) {
        size_t len = strcspn(p, ",");
        bool ok = false;
        for (int i = 0; len > 1 && known[i] && !ok; i++)
            ok = strlen(known[i]) == len - 1 && !strncmp(known[i], p + 1, len - 1);
        if (ok) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, len);
            n += len;
            out[n] = '\0';
        }
        p += len + (p[len] == ',');
    }
    *features = out;
    LLVMDisposeMessage(name);
    LLVMDisposeMessage(all);
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

bool cg_optimize(Cg *cg)
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
    return true;
}

bool cg_optimize_and_emit(Cg *cg, unsigned want, CodegenOutput *out)
{
    if (!cg_optimize(cg))
        return false;
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
